package oidc

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// notWrapped lists oidc.h functions the binding deliberately does not call, with the reason.
var notWrapped = map[string]string{
	"oidc_test_panic": "test hook, only in builds with the test-hooks feature",
	"oidc_error_code": "the code is the failed call's return value; errorFrom uses that",
	// The validator's completion-callback API is for event-loop hosts; Go calls the blocking API
	// on its own goroutines (STYLE.md) and bounds it with context.Context. The protocol side
	// uses both sends (request.go).
	"oidc_validate_async":           "Go uses the blocking call on a goroutine",
	"oidc_validate_at_async":        "Go uses the blocking call on a goroutine",
	"oidc_validator_prefetch_async": "Go uses the blocking call on a goroutine",
	"oidc_authenticate_async":       "Go uses the blocking call on a goroutine",
	"oidc_cancel_is_cancelled":      "cancellation state lives in context.Context",
	"oidc_http_request_reset":       "a request object lives for one call (go_oidc_authenticate in authn.go)",
}

// TestEveryHeaderFunctionIsWrapped fails when oidc.h declares a function no Go file calls (a new
// C ABI function the binding has not caught up with) unless notWrapped names it. A call from a C
// shim in a cgo preamble (authn.go's go_oidc_authenticate) counts.
func TestEveryHeaderFunctionIsWrapped(t *testing.T) {
	hdr, err := os.ReadFile(filepath.Join(repoRoot, "include/oidc.h"))
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^[a-z][a-z0-9_ ]*[ *](oidc_[a-z0-9_]+)\(`)
	var goSrc, preambles strings.Builder
	preamble := regexp.MustCompile(`(?s)/\*(.*?)\*/\s*import "C"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		goSrc.Write(b)
		if m := preamble.FindSubmatch(b); m != nil {
			preambles.Write(m[1])
		}
	}
	calledInC := func(name string) bool {
		return regexp.MustCompile(`[^a-z0-9_]` + name + `\(`).MatchString(preambles.String())
	}
	var missing []string
	n := 0
	for _, m := range decl.FindAllStringSubmatch(string(hdr), -1) {
		n++
		name := m[1]
		if _, ok := notWrapped[name]; ok {
			continue
		}
		if !strings.Contains(goSrc.String(), "C."+name+"(") && !calledInC(name) {
			missing = append(missing, name)
		}
	}
	if n < 50 {
		t.Fatalf("parsed only %d function declarations from oidc.h", n)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("oidc.h functions the Go binding does not wrap (wrap them, or list them in notWrapped with a reason):\n  %s",
			strings.Join(missing, "\n  "))
	}
}
