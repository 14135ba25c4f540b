package oidc

/*
#include <oidc.h>
*/
import "C"

// ownedJSON runs a C call that returns an owned string (ptr, len) and copies it into Go.
func ownedJSON(call func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result) ([]byte, error) {
	var out *C.char
	var n C.size_t
	var e *C.oidc_error
	if rc := call(&out, &n, &e); rc != 0 {
		return nil, errorFrom(rc, e)
	}
	return takeBytes(out, n), nil
}
