package main

/*
#cgo pkg-config: oidc
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <oidc.h>

static oidc_client *raw_client(const char *iss, size_t iss_len, const char *aud, size_t aud_len,
                               const char *jwks, size_t jwks_len) {
	oidc_client_builder *b = NULL;
	oidc_client *c = NULL;
	if (oidc_client_builder_new(&b, NULL) != OIDC_RESULT_OK) return NULL;
	if (oidc_client_builder_set_issuer(b, iss, iss_len, NULL) != OIDC_RESULT_OK ||
	    oidc_client_builder_add_audience(b, aud, aud_len, NULL) != OIDC_RESULT_OK ||
	    oidc_client_builder_set_expected_typ(b, "at+jwt", 6, NULL) != OIDC_RESULT_OK ||
	    oidc_client_builder_set_jwks_json(b, jwks, jwks_len, NULL) != OIDC_RESULT_OK) {
		oidc_client_builder_free(b);
		return NULL;
	}
	if (oidc_client_builder_build(b, &c, NULL) != OIDC_RESULT_OK) return NULL;
	return c;
}

// One validation as a C caller does it: validate, then free the claims.
static uint32_t raw_validate_once(const oidc_client *c, const char *tok, size_t len) {
	char *claims = NULL;
	size_t n = 0;
	oidc_error *err = NULL;
	oidc_result rc = oidc_validate(c, tok, len, &claims, &n, &err);
	if (rc != OIDC_RESULT_OK) { oidc_error_free(err); return rc; }
	oidc_string_free(claims);
	return 0;
}

// n validations in a C loop: the library's own cost, no Go at all.
static uint32_t raw_validate_loop(const oidc_client *c, const char *tok, size_t len, long n) {
	for (long i = 0; i < n; i++) {
		uint32_t rc = raw_validate_once(c, tok, len);
		if (rc != 0) return rc;
	}
	return 0;
}

static int64_t process_cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// rawClient is an oidc_client built directly through the C ABI (no binding code involved).
type rawClient struct{ p *C.oidc_client }

func newRawClient(iss, aud string, jwks []byte) (*rawClient, error) {
	ci, ca, cj := C.CString(iss), C.CString(aud), C.CBytes(jwks)
	defer C.free(unsafe.Pointer(ci))
	defer C.free(unsafe.Pointer(ca))
	defer C.free(cj)
	p := C.raw_client(ci, C.size_t(len(iss)), ca, C.size_t(len(aud)), (*C.char)(cj), C.size_t(len(jwks)))
	if p == nil {
		return nil, errors.New("raw client build failed")
	}
	return &rawClient{p: p}, nil
}

// once is one cgo call (validate + free inside C), the token passed zero-copy.
func (r *rawClient) once(tok string) error {
	rc := C.raw_validate_once(r.p, (*C.char)(unsafe.Pointer(unsafe.StringData(tok))), C.size_t(len(tok)))
	runtime.KeepAlive(tok)
	if rc != 0 {
		return fmt.Errorf("raw validate: %d", rc)
	}
	return nil
}

// loop runs n validations inside one C call.
func (r *rawClient) loop(tok string, n int) error {
	rc := C.raw_validate_loop(r.p, (*C.char)(unsafe.Pointer(unsafe.StringData(tok))), C.size_t(len(tok)), C.long(n))
	runtime.KeepAlive(tok)
	if rc != 0 {
		return fmt.Errorf("raw validate loop: %d", rc)
	}
	return nil
}

func (r *rawClient) close() { C.oidc_client_free(r.p) }

func processCPU() int64 { return int64(C.process_cpu_ns()) }
