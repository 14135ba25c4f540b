package oidc

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeMatchesExamples: each README block marked `<!-- example: Name -->` is exactly the
// body of func Name in example_test.go (which go test runs, checking its // Output:), so the
// README's code runs as written.
func TestReadmeMatchesExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		body := string(src[fset.Position(fn.Body.Lbrace).Offset+1 : fset.Position(fn.Body.Rbrace).Offset])
		var lines []string
		for _, l := range strings.Split(strings.Trim(body, "\n"), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "// Output:") {
				break
			}
			lines = append(lines, strings.TrimPrefix(l, "\t"))
		}
		bodies[fn.Name.Name] = strings.TrimRight(strings.Join(lines, "\n"), "\n")
	}
	blocks := regexp.MustCompile("(?s)<!-- example: (\\w+) -->\n```go\n(.*?)\n```").FindAllStringSubmatch(string(readme), -1)
	seen := map[string]bool{}
	for _, b := range blocks {
		name, code := b[1], b[2]
		seen[name] = true
		want, ok := bodies[name]
		if !ok {
			t.Errorf("README names %s, which example_test.go lacks", name)
			continue
		}
		if code != want {
			t.Errorf("README block %s differs from the example:\n--- README\n%s\n--- example_test.go\n%s", name, code, want)
		}
	}
	for _, name := range append(append([]string{}, readmeExamples...), testkitExamples...) {
		if !seen[name] {
			t.Errorf("README has no block for %s", name)
		}
	}
}
