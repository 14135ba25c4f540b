package main

/*
#cgo pkg-config: oidc
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <oidc.h>

// cache < 0 keeps liboidc's default verified-token cache; otherwise its size (0 = off).
static oidc_validator *raw_client(const char *iss, size_t iss_len, const char *aud, size_t aud_len,
                               const char *jwks, size_t jwks_len, long cache) {
	oidc_validator_builder *b = NULL;
	oidc_validator *c = NULL;
	if (oidc_validator_builder_new(&b, NULL) != OIDC_RESULT_OK) return NULL;
	if (oidc_validator_builder_set_issuer(b, iss, iss_len, NULL) != OIDC_RESULT_OK ||
	    oidc_validator_builder_add_audience(b, aud, aud_len, NULL) != OIDC_RESULT_OK ||
	    oidc_validator_builder_set_expected_typ(b, "at+jwt", 6, NULL) != OIDC_RESULT_OK ||
	    oidc_validator_builder_set_jwks_json(b, jwks, jwks_len, NULL) != OIDC_RESULT_OK ||
	    (cache >= 0 && oidc_validator_builder_set_token_cache_size(b, (size_t)cache, NULL) != OIDC_RESULT_OK)) {
		oidc_validator_builder_free(b);
		return NULL;
	}
	if (oidc_validator_builder_build(b, &c, NULL) != OIDC_RESULT_OK) return NULL;
	return c;
}

// One validation as a C caller does it: validate, then free the claims.
static uint32_t raw_validate_once(const oidc_validator *c, const char *tok, size_t len) {
	char *claims = NULL;
	size_t n = 0;
	oidc_error *err = NULL;
	oidc_result rc = oidc_validate(c, tok, len, &claims, &n, &err);
	if (rc != OIDC_RESULT_OK) { oidc_error_free(err); return rc; }
	oidc_string_free(claims);
	return 0;
}

// n validations in a C loop: the library's own cost, no Go at all.
static uint32_t raw_validate_loop(const oidc_validator *c, const char *tok, size_t len, long n) {
	for (long i = 0; i < n; i++) {
		uint32_t rc = raw_validate_once(c, tok, len);
		if (rc != 0) return rc;
	}
	return 0;
}

// One request as a C server does it: a request object, the Authorization line, method, URL,
// oidc_authenticate, the decision's status, then free both.
static uint32_t raw_authenticate_once(const oidc_validator *c, const char *auth, size_t auth_len,
                                      const char *url, size_t url_len) {
	oidc_http_request *r = NULL;
	oidc_decision *d = NULL;
	uint32_t status = 0;
	if (oidc_http_request_new(&r, NULL) != OIDC_RESULT_OK) return 1;
	if (oidc_http_request_add_header(r, "Authorization", 13, (const uint8_t *)auth, auth_len, NULL) == OIDC_RESULT_OK &&
	    oidc_http_request_set_method(r, "GET", 3, NULL) == OIDC_RESULT_OK &&
	    oidc_http_request_set_url(r, url, url_len, NULL) == OIDC_RESULT_OK &&
	    oidc_authenticate(c, r, &d, NULL) == OIDC_RESULT_OK) {
		status = oidc_decision_http_status(d);
		oidc_decision_free(d);
	}
	oidc_http_request_free(r);
	return status == 200 ? 0 : (status ? status : 2);
}

static uint32_t raw_authenticate_loop(const oidc_validator *c, const char *auth, size_t auth_len,
                                      const char *url, size_t url_len, long n) {
	for (long i = 0; i < n; i++) {
		uint32_t rc = raw_authenticate_once(c, auth, auth_len, url, url_len);
		if (rc != 0) return rc;
	}
	return 0;
}

// Pure C work of a fixed length for the cgo study: dependent integer steps, no memory traffic,
// no system call.
static volatile uint64_t spin_sink;
static void spin(uint64_t iters) {
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (uint64_t i = 0; i < iters; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
	spin_sink = x;
}
static void spin_loop(uint64_t iters, long n) { for (long i = 0; i < n; i++) spin(iters); }

static int64_t thread_cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int current_tid(void) { return (int)syscall(SYS_gettid); }

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

// rawClient is an oidc_validator built directly through the C ABI (no binding code involved).
type rawClient struct{ p *C.oidc_validator }

// newRawClient builds the client; cache < 0 keeps the default verified-token cache, else sets
// its size (0 = off).
func newRawClient(iss, aud string, jwks []byte, cache int) (*rawClient, error) {
	ci, ca, cj := C.CString(iss), C.CString(aud), C.CBytes(jwks)
	defer C.free(unsafe.Pointer(ci))
	defer C.free(unsafe.Pointer(ca))
	defer C.free(cj)
	p := C.raw_client(ci, C.size_t(len(iss)), ca, C.size_t(len(aud)), (*C.char)(cj), C.size_t(len(jwks)), C.long(cache))
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

// authOnce is one cgo call doing one oidc_authenticate as a C server would (raw_authenticate_once).
func (r *rawClient) authOnce(auth, url string) error {
	rc := C.raw_authenticate_once(r.p, (*C.char)(unsafe.Pointer(unsafe.StringData(auth))), C.size_t(len(auth)),
		(*C.char)(unsafe.Pointer(unsafe.StringData(url))), C.size_t(len(url)))
	runtime.KeepAlive(auth)
	runtime.KeepAlive(url)
	if rc != 0 {
		return fmt.Errorf("raw authenticate: %d", rc)
	}
	return nil
}

// authLoop runs n of them inside one C call.
func (r *rawClient) authLoop(auth, url string, n int) error {
	rc := C.raw_authenticate_loop(r.p, (*C.char)(unsafe.Pointer(unsafe.StringData(auth))), C.size_t(len(auth)),
		(*C.char)(unsafe.Pointer(unsafe.StringData(url))), C.size_t(len(url)), C.long(n))
	runtime.KeepAlive(auth)
	runtime.KeepAlive(url)
	if rc != 0 {
		return fmt.Errorf("raw authenticate loop: %d", rc)
	}
	return nil
}

func (r *rawClient) close() { C.oidc_validator_free(r.p) }

// spinOnce is one cgo call of iters steps of pure C work; spinLoop n of them in one call.
func spinOnce(iters uint64)        { C.spin(C.uint64_t(iters)) }
func spinLoop(iters uint64, n int) { C.spin_loop(C.uint64_t(iters), C.long(n)) }

func gettid() int { return int(C.current_tid()) }

func threadCPU() int64 { return int64(C.thread_cpu_ns()) }

func processCPU() int64 { return int64(C.process_cpu_ns()) }
