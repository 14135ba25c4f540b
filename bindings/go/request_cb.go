package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// goOidcOAuthResponse is the oidc_oauth_response_cb of every non-blocking send (request.go):
// user_data is the cgo.Handle of its asyncSend. It runs exactly once, on a liboidc worker
// thread, never inside oidc_oauth_send_async. response is owned by the host on OK (an
// OAuthResponse takes it); err is borrowed for the call.
//
//export goOidcOAuthResponse
func goOidcOAuthResponse(userData unsafe.Pointer, result C.oidc_result, response *C.oidc_oauth_response, err *C.oidc_error) {
	h := cgo.Handle(uintptr(userData))
	a := h.Value().(*asyncSend)
	h.Delete()
	a.complete(result, response, err)
}
