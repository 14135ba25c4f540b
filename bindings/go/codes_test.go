package oidc

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// headerCodes parses every OIDC_RESULT_NAME = value from ../../include/oidc.h.
func headerCodes(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "include/oidc.h"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, g := range regexp.MustCompile(`(?m)^\s*OIDC_RESULT_([A-Z0-9_]+)\s*=\s*(\d+)\s*,?`).FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.Atoi(g[2])
		m[g[1]] = v
	}
	if len(m) < 60 {
		t.Fatalf("parsed only %d OIDC_RESULT_* values from oidc.h", len(m))
	}
	return m
}

// goIdents parses codes.go for `Code<X> Code = <n>` constants and `Err<X> = sentinel(...)`
// variables, so the check is on the Go identifiers, not just on a table.
func goIdents(t *testing.T) (consts map[string]int, errs map[string]string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts, errs = map[string]int{}, map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range g.Specs {
			vs, ok := s.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for i, n := range vs.Names {
				switch g.Tok {
				case token.CONST:
					lit := vs.Values[i].(*ast.BasicLit)
					v, _ := strconv.Atoi(lit.Value)
					consts[n.Name] = v
				case token.VAR:
					if call, ok := vs.Values[i].(*ast.CallExpr); ok {
						errs[n.Name] = call.Args[0].(*ast.Ident).Name
					}
				}
			}
		}
	}
	return consts, errs
}

// squash makes TOKEN_EXPIRED and TokenExpired comparable ("tokenexpired").
func squash(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// TestCodesMatchHeader: every OIDC_RESULT_* in oidc.h has a Go constant Code<Name> with the same
// value, a codeNames entry, a sentinel Err<Name> (all but OK) that errors.Is matches, and the
// same name in the loaded library; and the Go side has nothing the header lacks.
func TestCodesMatchHeader(t *testing.T) {
	hdr := headerCodes(t)
	consts, errs := goIdents(t)
	constBySquash := map[string]string{}
	for name := range consts {
		constBySquash[squash(strings.TrimPrefix(name, "Code"))] = name
	}
	for name, v := range hdr {
		goName, ok := constBySquash[squash(name)]
		if !ok {
			t.Errorf("OIDC_RESULT_%s = %d has no Go constant Code%s in codes.go", name, v, name)
			continue
		}
		if consts[goName] != v {
			t.Errorf("%s = %d, but OIDC_RESULT_%s = %d", goName, consts[goName], name, v)
		}
		if codeNames[Code(v)] != name {
			t.Errorf("codeNames[%d] = %q, want %q", v, codeNames[Code(v)], name)
		}
		if lib := resultName(uint32(v)); lib != name {
			t.Errorf("the loaded liboidc names %d %q, the header %q", v, lib, name)
		}
		if v == 0 {
			continue
		}
		errName := "Err" + strings.TrimPrefix(goName, "Code")
		if errs[errName] != goName {
			t.Errorf("no sentinel %s = sentinel(%s)", errName, goName)
		}
		s := sentinels[Code(v)]
		if s == nil || s.Code != Code(v) || s.Name != name {
			t.Errorf("sentinels[%d] = %+v", v, s)
			continue
		}
		if !errors.Is(&Error{Code: Code(v)}, s) {
			t.Errorf("errors.Is does not match %s", errName)
		}
	}
	for goName, v := range consts {
		if hv, ok := hdr[codeNames[Code(v)]]; !ok || hv != v {
			t.Errorf("%s = %d is not in oidc.h", goName, v)
		}
	}
	if len(consts) != len(hdr) || len(codeNames) != len(hdr) || len(sentinels) != len(hdr)-1 || len(errs) != len(hdr)-1 {
		t.Errorf("counts: header %d, consts %d, names %d, sentinels %d, sentinel vars %d",
			len(hdr), len(consts), len(codeNames), len(sentinels), len(errs))
	}
	// A value the library never returns has no name.
	if resultName(4) != "" || Code(4).String() != "CODE_4" {
		t.Errorf("code 4: %q %q", resultName(4), Code(4).String())
	}
	if CodeTokenExpired.Description() == "" || CodeTokenExpired.String() != "TOKEN_EXPIRED" {
		t.Error("Description/String")
	}
}

func TestErrorsIs(t *testing.T) {
	err := error(&Error{Code: CodeTokenExpired, Name: "TOKEN_EXPIRED", Message: "token expired"})
	wrapped := errors.Join(errors.New("context"), err)
	if !errors.Is(wrapped, ErrTokenExpired) || errors.Is(wrapped, ErrExpiredToken) || errors.Is(wrapped, ErrClosed) {
		t.Fatal("errors.Is")
	}
	var oe *Error
	if !errors.As(wrapped, &oe) || oe.Code != 305 {
		t.Fatal("errors.As")
	}
	if !errors.Is(&Error{Code: CodeDeadlineExceeded}, context.DeadlineExceeded) || !errors.Is(&Error{Code: CodeCancelled}, context.Canceled) ||
		errors.Is(&Error{Code: CodeTimeout}, context.DeadlineExceeded) {
		t.Fatal("context errors")
	}
}

func TestVersion(t *testing.T) {
	if VersionNumber() != HeaderVersion {
		t.Logf("library %s, header %s", versionString(VersionNumber()), versionString(HeaderVersion))
	}
	if err := checkLoaded(); err != nil {
		t.Fatal(err)
	}
	if Version() != versionString(VersionNumber()) {
		t.Fatalf("Version %q vs number %#x", Version(), VersionNumber())
	}
	for _, tc := range []struct {
		lib, hdr uint32
		ok       bool
	}{
		{0x000100, 0x000100, true},
		{0x000101, 0x000100, true},  // newer patch
		{0x000100, 0x000101, false}, // older than the header
		{0x000200, 0x000100, false}, // 0.x minor = ABI break
		{0x010000, 0x000100, false},
		{0x010200, 0x010100, true}, // 1.x: newer minor is fine
		{0x020000, 0x010000, false},
	} {
		err := checkVersion(tc.lib, tc.hdr)
		if (err == nil) != tc.ok {
			t.Errorf("checkVersion(%#x, %#x) = %v", tc.lib, tc.hdr, err)
		}
		if err != nil && !strings.Contains(err.Error(), "cargo cinstall") {
			t.Errorf("no install hint: %v", err)
		}
	}
}
