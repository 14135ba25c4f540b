package oidc

/*
#cgo pkg-config: oidc
#include <stdlib.h>
#include <oidc.h>
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// HeaderVersion is OIDC_VERSION_NUMBER of the oidc.h this package was compiled against:
// (major << 16) | (minor << 8) | patch.
const HeaderVersion = uint32(C.OIDC_VERSION_NUMBER)

// Version returns the loaded liboidc's version string, e.g. "0.2.0".
func Version() string { return C.GoString(C.oidc_version()) }

// VersionNumber returns the loaded liboidc's (major << 16) | (minor << 8) | patch.
func VersionNumber() uint32 { return uint32(C.oidc_version_number()) }

var (
	loadOnce sync.Once
	loadErr  error
)

// checkLoaded verifies once that the liboidc the process loaded fits the header this package was
// compiled against. Every constructor calls it, so a mismatch fails the first NewClient /
// NewOAuthClient with an install hint instead of misbehaving later.
func checkLoaded() error {
	loadOnce.Do(func() { loadErr = checkVersion(VersionNumber(), HeaderVersion) })
	return loadErr
}

// checkVersion accepts a library whose major version equals the header's (for 0.x the minor
// too: the SONAME changes on every 0.x minor) and that is at least as new as the header.
func checkVersion(lib, hdr uint32) error {
	lmaj, lmin := lib>>16, (lib>>8)&0xff
	hmaj, hmin := hdr>>16, (hdr>>8)&0xff
	if lmaj == hmaj && (hmaj != 0 || lmin == hmin) && lib >= hdr {
		return nil
	}
	return fmt.Errorf("oidc: the loaded liboidc is %s but this Go package was compiled against oidc.h %s; "+
		"install a matching liboidc (cd liboidc && cargo cinstall --release --prefix /usr/local --libdir lib) and make sure "+
		"PKG_CONFIG_PATH (build) and LD_LIBRARY_PATH or the ld.so cache (run time) point at the same installation",
		versionString(lib), versionString(hdr))
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>16, (v>>8)&0xff, v&0xff)
}

// cstr passes a Go string to C without copying: liboidc takes (ptr, len) and never keeps the
// pointer past the call. The empty string (which may have no data pointer) becomes NULL, 0.
func cstr(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// takeString copies an owned liboidc string (n bytes) into Go and frees it.
func takeBytes(p *C.char, n C.size_t) []byte {
	if p == nil {
		return nil
	}
	b := C.GoBytes(unsafe.Pointer(p), C.int(n))
	C.oidc_string_free(p)
	return b
}

// goStringOpt copies a borrowed NUL-terminated string; NULL gives "".
func goStringOpt(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// resultName is oidc_result_name(code) ("" for an unknown code).
func resultName(code uint32) string { return goStringOpt(C.oidc_result_name(C.uint32_t(code))) }

// resultStr is oidc_result_str(code).
func resultStr(code uint32) string { return goStringOpt(C.oidc_result_str(C.uint32_t(code))) }

// errorFrom turns a failed call's result code and error object into an *Error and frees the
// object. e may be NULL (then only the code is known).
func errorFrom(rc C.oidc_result, e *C.oidc_error) *Error {
	err := errorCopy(rc, e)
	if e != nil {
		C.oidc_error_free(e)
	}
	return err
}

// errorCopy is errorFrom for a borrowed error object (a callback's): it copies, never frees.
func errorCopy(rc C.oidc_result, e *C.oidc_error) *Error {
	code := Code(rc)
	err := &Error{Code: code, Name: code.String()}
	if e == nil {
		err.Message = resultStr(uint32(rc))
		err.HTTPStatus = 500
		return err
	}
	err.Message = goStringOpt(C.oidc_error_message(e))
	err.HTTPStatus = int(C.oidc_error_http_status(e))
	err.WWWAuthenticate = goStringOpt(C.oidc_error_www_authenticate(e))
	err.BearerError = goStringOpt(C.oidc_error_oauth_error(e))
	// The identity provider's OAuth error, when the failure is its answer (any code: an
	// authorization error response is access_denied, a UserInfo challenge invalid_token, ...).
	if p := C.oidc_error_server_error(e, C.uint32_t(FieldError)); p != nil {
		err.OAuth = &OAuthError{
			Error:       C.GoString(p),
			Description: goStringOpt(C.oidc_error_server_error(e, C.uint32_t(FieldErrorDescription))),
			URI:         goStringOpt(C.oidc_error_server_error(e, C.uint32_t(FieldErrorURI))),
			HTTPStatus:  serverStatus(goStringOpt(C.oidc_error_details_json(e))),
		}
	}
	return err
}

// bytesView is a string sharing b's memory, for passing bytes to C without a copy. b must not be
// modified while the view is in use.
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
