package oidc

/*
#include <stdint.h>
#include <string.h>
#include <oidc.h>

// goOidcReplayStore (replay.go) as _cgo_export.h declares it.
extern int32_t goOidcReplayStore(void *user_data, char *key, size_t key_len, uint64_t ttl_secs);

// The replay-store callback with a cgo.Handle as its user_data (a handle is an integer, not a
// Go pointer: liboidc may keep it).
static oidc_result go_oidc_set_replay_store(oidc_validator_builder *b, uintptr_t handle, oidc_error **err) {
	return oidc_validator_builder_set_dpop_replay_store(b, (oidc_replay_store_cb)goOidcReplayStore,
		(void *)handle, err);
}

// What go_oidc_authenticate hands back: the error of a misuse, or the decision's fields read in
// the same cgo call instead of one call per getter. An allowed decision whose claims fit the
// caller's buffer is copied and freed here (decision NULL, claims_copied 1): one cgo call in all.
// Otherwise decision is owned by the caller (Go copies the borrowed fields, then frees it).
typedef struct {
	oidc_decision *decision;
	oidc_error *err;
	uint32_t allowed, code, status;
	size_t challenge_count;
	size_t claims_copied;
	const char *error; size_t error_len;
	const char *message; size_t message_len;
	const char *claims; size_t claims_len;
	const char *token_type;
	const char *nonce; size_t nonce_len;
	const char *challenge[2]; size_t challenge_len[2];
} go_oidc_authn;

// One request through oidc_authenticate in one cgo call. With req == NULL the request object
// is made here with at most one Authorization and one DPoP line (has_* say whether they are
// present; an empty value is still a header line); otherwise req carries every header line
// already and is only completed here (the caller frees it).
static oidc_result go_oidc_authenticate(const oidc_validator *c, oidc_http_request *req,
		const char *auth, size_t auth_len, uint32_t has_auth,
		const char *dpop, size_t dpop_len, uint32_t has_dpop,
		const char *method, size_t method_len, const char *url, size_t url_len,
		const char *cert, size_t cert_len, int64_t now, uint32_t has_now,
		char *claims_buf, size_t claims_cap, go_oidc_authn *out) {
	oidc_http_request *r = req;
	oidc_result rc;
	if (r == NULL) {
		if ((rc = oidc_http_request_new(&r, &out->err)) != OIDC_RESULT_OK) return rc;
		if (has_auth && (rc = oidc_http_request_add_header(r, "Authorization", 13,
				(const uint8_t *)auth, auth_len, &out->err)) != OIDC_RESULT_OK) goto done;
		if (has_dpop && (rc = oidc_http_request_add_header(r, "DPoP", 4,
				(const uint8_t *)dpop, dpop_len, &out->err)) != OIDC_RESULT_OK) goto done;
	}
	if ((rc = oidc_http_request_set_method(r, method, method_len, &out->err)) != OIDC_RESULT_OK) goto done;
	if ((rc = oidc_http_request_set_url(r, url, url_len, &out->err)) != OIDC_RESULT_OK) goto done;
	if (cert_len > 0 && (rc = oidc_http_request_set_client_cert(r, (const uint8_t *)cert, cert_len,
			&out->err)) != OIDC_RESULT_OK) goto done;
	if (has_now && (rc = oidc_http_request_set_now(r, now, &out->err)) != OIDC_RESULT_OK) goto done;
	if ((rc = oidc_authenticate(c, r, &out->decision, &out->err)) != OIDC_RESULT_OK) goto done;
	{
		const oidc_decision *d = out->decision;
		out->allowed = oidc_decision_allowed(d);
		out->code = oidc_decision_code(d);
		out->status = oidc_decision_http_status(d);
		out->error = oidc_decision_error(d, &out->error_len);
		out->message = oidc_decision_message(d, &out->message_len);
		out->claims = oidc_decision_claims(d, &out->claims_len);
		out->token_type = oidc_decision_token_type(d);
		out->nonce = oidc_decision_dpop_nonce(d, &out->nonce_len);
		out->challenge_count = oidc_decision_challenge_count(d);
		for (size_t i = 0; i < 2 && i < out->challenge_count; i++)
			out->challenge[i] = oidc_decision_challenge(d, i, &out->challenge_len[i]);
		if (out->allowed && out->claims != NULL && out->claims_len <= claims_cap && out->nonce == NULL) {
			// The common case: static strings and the claims, which fit the caller's buffer.
			memcpy(claims_buf, out->claims, out->claims_len);
			out->claims_copied = 1;
			out->claims = NULL;
			out->message = NULL;
			out->error = NULL;
			oidc_decision_free(out->decision);
			out->decision = NULL;
		}
	}
done:
	if (req == NULL) oidc_http_request_free(r);
	return rc;
}
*/
import "C"

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"runtime/cgo"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// configureResource applies the request-authentication part of cfg (RequiredScopes, ...,
// TokenCacheSize) to b. It returns the handle of cfg.DPoPReplayStore (0 without one), which
// lives as long as the client; the caller deletes it on failure.
func configureResource(b *C.oidc_validator_builder, cfg *Config) (cgo.Handle, error) {
	var e *C.oidc_error
	ok := func(rc C.oidc_result) error {
		if rc != 0 {
			return errorFrom(rc, e)
		}
		return nil
	}
	for _, s := range cfg.RequiredScopes {
		sp, sn := cstr(s)
		if err := ok(C.oidc_validator_builder_add_required_scope(b, sp, sn, &e)); err != nil {
			return 0, err
		}
		runtime.KeepAlive(s)
	}
	claims := make([]string, 0, len(cfg.AllowedClaimValues))
	for name := range cfg.AllowedClaimValues {
		claims = append(claims, name)
	}
	slices.Sort(claims) // a deterministic order of rules
	for _, name := range claims {
		values := cfg.AllowedClaimValues[name]
		if len(values) == 0 {
			// The C ABI builds an allow-list from its values: an empty list would be no rule.
			return 0, &Error{Code: CodeInvalidConfig, Name: CodeInvalidConfig.String(), HTTPStatus: 500,
				Message: fmt.Sprintf("AllowedClaimValues[%q] lists no value", name)}
		}
		np, nn := cstr(name)
		for _, v := range values {
			vp, vn := cstr(v)
			if err := ok(C.oidc_validator_builder_add_allowed_claim_value(b, np, nn, vp, vn, &e)); err != nil {
				return 0, err
			}
			runtime.KeepAlive(v)
		}
		runtime.KeepAlive(name)
	}
	if cfg.DPoP != DPoPAllowed {
		// Any other value is liboidc's to reject (INVALID_ARGUMENT).
		if err := ok(C.oidc_validator_builder_set_dpop_mode(b, C.uint32_t(cfg.DPoP), &e)); err != nil {
			return 0, err
		}
	}
	if len(cfg.DPoPAlgorithms) > 0 {
		algs := strings.Join(cfg.DPoPAlgorithms, ",")
		ap, an := cstr(algs)
		if err := ok(C.oidc_validator_builder_set_dpop_algorithms(b, ap, an, &e)); err != nil {
			return 0, err
		}
		runtime.KeepAlive(algs)
	}
	if cfg.DPoPProofWindow != 0 {
		if err := ok(C.oidc_validator_builder_set_dpop_proof_window_secs(b, C.uint32_t(secs(cfg.DPoPProofWindow)), &e)); err != nil {
			return 0, err
		}
	}
	if cfg.DPoPNonceSecret != nil || cfg.DPoPNonceLifetime != 0 {
		// A lifetime without a secret reaches liboidc as an empty secret, which it rejects; a
		// zero lifetime is liboidc's default.
		sp, sn := cstr(bytesView(cfg.DPoPNonceSecret))
		if err := ok(C.oidc_validator_builder_set_dpop_nonce_secret(b, (*C.uint8_t)(unsafe.Pointer(sp)), sn,
			C.uint32_t(secs(cfg.DPoPNonceLifetime)), &e)); err != nil {
			return 0, err
		}
		runtime.KeepAlive(cfg.DPoPNonceSecret)
	}
	if cfg.RequireMTLS {
		if err := ok(C.oidc_validator_builder_set_require_mtls(b, 1, &e)); err != nil {
			return 0, err
		}
	}
	if cfg.TokenCacheSize != 0 {
		n := C.size_t(0)
		if cfg.TokenCacheSize > 0 {
			n = C.size_t(cfg.TokenCacheSize)
		}
		if err := ok(C.oidc_validator_builder_set_token_cache_size(b, n, &e)); err != nil {
			return 0, err
		}
	}
	if cfg.DPoPReplayStore == nil {
		return 0, nil
	}
	h := cgo.NewHandle(cfg.DPoPReplayStore)
	return h, ok(C.go_oidc_set_replay_store(b, C.uintptr_t(h), &e))
}

// Request is what AuthenticateRequest reads of one HTTP request. RequestFromHTTP makes one from
// an *http.Request; other servers (fasthttp, a gRPC gateway, a recorded request) fill it in
// themselves.
type Request struct {
	// Authorization holds every Authorization header line, as received (several lines are a
	// malformed request: liboidc answers 400).
	Authorization []string
	// DPoP holds every DPoP header line (RFC 9449 proofs).
	DPoP []string
	// Method is the request method, as received ("GET", "POST", ...). Required.
	Method string
	// URL is the absolute URL the client addressed, scheme and host included
	// ("https://api.example.com/v1/items?x=1"): behind a proxy the public one. DPoP proofs are
	// checked against it (htu). Required.
	URL string
	// ClientCert is the DER client certificate of an mTLS connection, for certificate-bound
	// tokens (RFC 8705), or nil.
	ClientCert []byte
	// Now, when not zero, replaces the clock for this decision (token and proof times, nonces):
	// tests and replays of recorded traffic. Whole seconds.
	Now time.Time
}

// Decision is liboidc's decision about one request: allowed, with the token's claims and type,
// or denied, with everything the response needs. Every field is the core's; the binding only
// copies them.
type Decision struct {
	// Allowed is true when the request may proceed.
	Allowed bool
	// Code is CodeOK when allowed, else the precise reason (CodeTokenMissing,
	// CodeRequestMalformed, CodeTokenExpired, CodeDPoPReplay, CodeInsufficientScope, ...).
	Code Code
	// Status is the HTTP status to answer: 200 when allowed; 400, 401, 403, 503 or 500.
	Status int
	// Error is the RFC 6750 / RFC 9449 error code of a denial ("invalid_request",
	// "invalid_token", "insufficient_scope", "invalid_dpop_proof", "use_dpop_nonce"), or "" (no
	// token, a server-side failure, allowed).
	Error string
	// Message says what failed, for logs (never a token's contents or a secret); "allowed" when
	// allowed.
	Message string
	// Challenges are the WWW-Authenticate values of a denial, one header line each, in order
	// (`Bearer realm="api", error="invalid_token", ...`, `DPoP algs="ES256 ..."`); none for 5xx.
	Challenges []string
	// DPoPNonce, when not "", is a DPoP-Nonce header value to send with the response (server
	// nonces are on and the proof lacked a current one). It can come with an allowed decision too.
	DPoPNonce string
	// TokenType is the allowed token's scheme, "Bearer" or "DPoP" (DPoP-bound); "" when denied.
	TokenType string
	// Claims are the allowed token's claims (decoded lazily); nil when denied.
	Claims *Claims
}

// Err returns nil for an allowed decision, else the denial as an *Error, so that
// errors.Is(d.Err(), ErrTokenExpired) and friends work. Its WWWAuthenticate is empty: a
// denial can carry several challenges, which are in d.Challenges.
func (d *Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &Error{Code: d.Code, Name: d.Code.String(), Message: d.Message, HTTPStatus: d.Status, BearerError: d.Error}
}

// SetHeaders adds the decision's response headers to h: a DPoP-Nonce when there is one, and
// for a denial each WWW-Authenticate value as its own header line.
func (d *Decision) SetHeaders(h http.Header) {
	if d.DPoPNonce != "" {
		h.Set("DPoP-Nonce", d.DPoPNonce)
	}
	if !d.Allowed {
		for _, c := range d.Challenges {
			h.Add("WWW-Authenticate", c)
		}
	}
}

// WriteError answers a denied request: SetHeaders, Cache-Control: no-store, the decision's
// status and its status text as a plain-text body. It writes nothing for an allowed decision.
func (d *Decision) WriteError(w http.ResponseWriter) {
	if d.Allowed {
		return
	}
	h := w.Header()
	d.SetHeaders(h)
	h.Set("Cache-Control", "no-store")
	status := d.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError // unreachable: the core denies with 4xx/5xx
	}
	http.Error(w, http.StatusText(status), status)
}

// RequestOption says how RequestFromHTTP, Client.Authenticate and Middleware derive the
// request's absolute URL. It is also a MiddlewareOption.
type RequestOption func(*requestOptions)

type requestOptions struct {
	origin         string // "https://api.example.com", or ""
	trustForwarded bool
}

func (o RequestOption) applyMiddleware(m *middleware) { o(&m.req) }

// WithOrigin fixes the scheme and host of every request's URL ("https://api.example.com", no
// path; a port if clients use one): the origin clients address, when the server sits behind a
// proxy or load balancer that terminates TLS. The path and query still come from the request.
func WithOrigin(origin string) RequestOption {
	return func(o *requestOptions) { o.origin = strings.TrimRight(origin, "/") }
}

// TrustForwardedHeaders takes the scheme from X-Forwarded-Proto and the host from
// X-Forwarded-Host (their first values) when present. Use it only behind a proxy that sets both
// and drops them from client requests: otherwise a client chooses the URL its DPoP proof is
// checked against. WithOrigin is the safer choice when the public origin is known.
func TrustForwardedHeaders() RequestOption {
	return func(o *requestOptions) { o.trustForwarded = true }
}

// RequestFromHTTP describes r for AuthenticateRequest: every Authorization and DPoP header line,
// the method, the absolute URL and the mTLS client certificate (r.TLS.PeerCertificates[0]).
//
// The URL is scheme://host + r.URL.RequestURI(): the scheme is "https" when r arrived over TLS
// (r.TLS), else "http"; the host is r.Host. WithOrigin and TrustForwardedHeaders change this
// for servers behind a proxy.
func RequestFromHTTP(r *http.Request, opts ...RequestOption) *Request {
	var o requestOptions
	for _, f := range opts {
		f(&o)
	}
	req := new(Request)
	o.fill(req, r)
	return req
}

func (o *requestOptions) fill(req *Request, r *http.Request) {
	req.Authorization = r.Header["Authorization"]
	req.DPoP = r.Header["Dpop"]
	req.Method = r.Method
	req.URL = o.url(r)
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		req.ClientCert = r.TLS.PeerCertificates[0].Raw
	}
}

func (o *requestOptions) url(r *http.Request) string {
	uri := r.URL.RequestURI()
	if o.origin != "" {
		return o.origin + uri
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if host == "" {
		host = r.URL.Host
	}
	if o.trustForwarded {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p != "" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	return scheme + "://" + host + uri
}

// firstValue is the first element of a comma-separated header value, trimmed.
func firstValue(v string) string {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// Authenticate decides about r with AuthenticateRequest(r.Context(), RequestFromHTTP(r, opts...)).
func (c *Client) Authenticate(r *http.Request, opts ...RequestOption) (*Decision, error) {
	var o requestOptions
	for _, f := range opts {
		f(&o)
	}
	var req Request
	o.fill(&req, r)
	return c.AuthenticateRequest(r.Context(), &req)
}

// AuthenticateRequest makes liboidc's whole resource-server decision about one request
// (oidc_authenticate): the Authorization header (RFC 6750), for the DPoP scheme the proof and
// server nonce (RFC 9449), the token (the client's validation policy, through its
// verified-token cache), the token's binding (cnf.jkt, cnf.x5t#S256), and the resource's rules
// from Config (RequiredScopes, AllowedClaimValues, DPoP, RequireMTLS).
//
// A request that is not allowed is not an error: the Decision says so (Allowed false) and
// carries the status, challenges and nonce to answer with. The error is non-nil only when no
// decision was made: ErrClosed, ctx.Err() (ctx bounds the call as for Validate), or an *Error
// for a request the host described wrongly (no method, a URL that is not absolute http(s):
// CodeInvalidArgument).
func (c *Client) AuthenticateRequest(ctx context.Context, req *Request) (*Decision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if deadlineAfter(ctx, c.bound) {
		return c.authenticateSync(req)
	}
	return await(ctx, func() (*Decision, error) { return c.authenticateSync(req) })
}

func (c *Client) authenticateSync(req *Request) (*Decision, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p := c.ptr
	if p == nil {
		return nil, ErrClosed
	}
	maybeGC()
	call := new(authnCall)
	out := &call.out
	var r *C.oidc_http_request
	var auth, dpop string
	hasAuth, hasDPoP := len(req.Authorization) > 0, len(req.DPoP) > 0
	if len(req.Authorization) > 1 || len(req.DPoP) > 1 {
		// Several lines of one header (a malformed request, or an odd one): every line through
		// its own oidc_http_request_add_header call.
		var err error
		if r, err = newRequestObject(req); err != nil {
			return nil, err
		}
		defer C.oidc_http_request_free(r)
		hasAuth, hasDPoP = false, false
	} else {
		if hasAuth {
			auth = req.Authorization[0]
		}
		if hasDPoP {
			dpop = req.DPoP[0]
		}
	}
	ap, an := cstr(auth)
	dp, dn := cstr(dpop)
	mp, mn := cstr(req.Method)
	up, un := cstr(req.URL)
	cp, cn := cstr(bytesView(req.ClientCert))
	var now C.int64_t
	hasNow := !req.Now.IsZero()
	if hasNow {
		now = C.int64_t(req.Now.Unix())
	}
	// The claims of an allowed token are its payload as signed, so they fit in the decoded
	// length of the token's second segment: C copies them here and frees the decision in the
	// same call (a bigger decision takes the two-call path).
	var buf []byte
	var bp *C.char
	if n := payloadBound(auth); n > 0 {
		buf = make([]byte, n)
		bp = (*C.char)(unsafe.Pointer(&buf[0]))
	}
	rc := C.go_oidc_authenticate(p, r, ap, an, cflag(hasAuth), dp, dn, cflag(hasDPoP), mp, mn, up, un, cp, cn,
		now, cflag(hasNow), bp, C.size_t(len(buf)), out)
	runtime.KeepAlive(req)
	runtime.KeepAlive(auth)
	runtime.KeepAlive(dpop)
	runtime.KeepAlive(buf)
	if rc != 0 {
		return nil, errorFrom(rc, out.err)
	}
	d := call.decision(buf)
	if out.decision != nil {
		C.oidc_decision_free(out.decision)
	}
	// The Decision keeps call reachable: leave no pointer to freed C memory in it.
	*out = C.go_oidc_authn{}
	return d, nil
}

// payloadBound is the most bytes the second dot-separated segment of s decodes to (base64url),
// 0 when s has no two dots.
func payloadBound(s string) int {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return 0
	}
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return 0
	}
	return (j*3)/4 + 3
}

// authnCall is the memory of one AuthenticateRequest in one allocation: what the C shim fills
// in, and the Decision and Claims handed back.
type authnCall struct {
	out    C.go_oidc_authn
	d      Decision
	claims Claims
}

func cflag(b bool) C.uint32_t {
	if b {
		return 1
	}
	return 0
}

// newRequestObject makes an oidc_http_request holding every header line of req.
func newRequestObject(req *Request) (*C.oidc_http_request, error) {
	var r *C.oidc_http_request
	var e *C.oidc_error
	if rc := C.oidc_http_request_new(&r, &e); rc != 0 {
		return nil, errorFrom(rc, e)
	}
	add := func(name string, values []string) error {
		np, nn := cstr(name)
		for _, v := range values {
			vp, vn := cstr(v)
			if rc := C.oidc_http_request_add_header(r, np, nn, (*C.uint8_t)(unsafe.Pointer(vp)), vn, &e); rc != 0 {
				return errorFrom(rc, e)
			}
			runtime.KeepAlive(v)
		}
		return nil
	}
	if err := add("Authorization", req.Authorization); err != nil {
		C.oidc_http_request_free(r)
		return nil, err
	}
	if err := add("DPoP", req.DPoP); err != nil {
		C.oidc_http_request_free(r)
		return nil, err
	}
	return r, nil
}

// borrowed views n bytes at p as a string without copying; only for comparisons before the
// decision is freed.
func borrowed(p *C.char, n C.size_t) string {
	if p == nil || n == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Pointer(p)), int(n))
}

// cstrlen is strlen for a short static string, without a cgo call.
func cstrlen(p *C.char) C.size_t {
	var n uintptr
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return C.size_t(n)
}

// Static strings of the decision, so that the common values cost no allocation.
var knownDecisionStrings = []string{"allowed", "Bearer", "DPoP", "invalid_request", "invalid_token",
	"insufficient_scope", "invalid_dpop_proof", "use_dpop_nonce"}

// intern copies the borrowed string, reusing a static Go string for the known values.
func intern(p *C.char, n C.size_t) string {
	s := borrowed(p, n)
	for _, k := range knownDecisionStrings {
		if s == k {
			return k
		}
	}
	return strings.Clone(s)
}

// decision copies the decision's fields into Go: from buf (the claims the shim copied) or
// borrowed from out.decision.
func (call *authnCall) decision(buf []byte) *Decision {
	out, d := &call.out, &call.d
	d.Allowed = out.allowed == 1
	d.Code = Code(out.code)
	d.Status = int(out.status)
	d.Error = intern(out.error, out.error_len)
	d.Message = intern(out.message, out.message_len)
	if out.token_type != nil {
		d.TokenType = intern(out.token_type, cstrlen(out.token_type))
	}
	switch {
	case out.claims_copied == 1:
		n := int(out.claims_len)
		call.claims.raw = buf[:n:n]
		d.Claims = &call.claims
		d.Message = "allowed"
	case out.claims != nil:
		call.claims.raw = C.GoBytes(unsafe.Pointer(out.claims), C.int(out.claims_len))
		d.Claims = &call.claims
	}
	if out.nonce != nil {
		d.DPoPNonce = C.GoStringN(out.nonce, C.int(out.nonce_len))
	}
	if n := int(out.challenge_count); n > 0 {
		d.Challenges = make([]string, n)
		for i := range n {
			if i < 2 {
				d.Challenges[i] = C.GoStringN(out.challenge[i], C.int(out.challenge_len[i]))
				continue
			}
			var l C.size_t
			s := C.oidc_decision_challenge(out.decision, C.size_t(i), &l)
			d.Challenges[i] = C.GoStringN(s, C.int(l))
		}
	}
	return d
}
