//go:build debug

package oidc

import "runtime"

// maybeGC runs a full collection before every C call in builds with the debug tag
// (`go test -tags debug`), as wasmtime-go does: a Go object that is released too early (a
// missing KeepAlive, a cleanup that runs while a call is still using the handle) then fails
// deterministically instead of once in a blue moon.
func maybeGC() { runtime.GC() }
