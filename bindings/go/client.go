package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"math"
	"runtime"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a validating Client. Issuer (or at least one of Issuers) and one of
// Audiences / AnyAudience are required; zero values mean liboidc's defaults.
//
// A policy document (PolicyFile, Policy) is loaded first; the other fields then apply on top of
// it as liboidc's builder calls do: a field that is set replaces the document's value, and the
// lists (Audiences, RequiredClaims, Issuers, RequiredScopes, AllowedClaimValues) add to the
// document's. A zero field leaves the document's value alone.
type Config struct {
	// PolicyFile names a policy document (JSON, "version": 1, at most 1 MiB; see the README's
	// "Several issuers, policy documents, explain mode") that NewClient reads and loads.
	PolicyFile string
	// Policy is a policy document's text, loaded after PolicyFile. liboidc checks it strictly:
	// an unknown member, a wrong type or a bad value fails NewClient with CodeInvalidConfig, the
	// message naming its JSON path ("$.issuers[1].audiences[0]: ..."). Client.Policy exports one.
	Policy []byte

	// Issuer is the exact "iss" of accepted tokens. Unless JWKSURI or JWKSJSON is set,
	// {Issuer}/.well-known/openid-configuration is fetched on first use (or by Prefetch).
	// Optional when Issuers (or the policy document) names issuers; it is then the first entry.
	Issuer string
	// Issuers are more issuers, each with its own keys and token rules (IssuerConfig), in order
	// after Issuer; at most 64 in all. A token's unverified "iss" only picks the issuer; a token
	// naming none of them is refused (ErrIssuerMismatch) without a network request.
	Issuers []IssuerConfig
	// Audiences: a token is accepted when any of its "aud" values is one of these.
	Audiences []string
	// AnyAudience accepts tokens for any audience (off by default; explicit on purpose).
	AnyAudience bool
	// Algorithms is the allow-list, e.g. {"RS256", "ES256"}. Default: RS256/384/512,
	// PS256/384/512, ES256/384/512, EdDSA. "none" and HMAC are always refused.
	Algorithms []string
	// Leeway is the clock skew allowed for exp/nbf/iat, in whole seconds (rounded up); at most
	// one hour. 0 means the default (60 s); a negative value means no leeway at all.
	Leeway time.Duration
	// RequiredClaims must be present and not null.
	RequiredClaims []string
	// ExpectedTyp is the required JOSE "typ" header, e.g. "at+jwt" (RFC 9068).
	ExpectedTyp string
	// MaxTokenBytes bounds the token size (default 16 KiB; 16 bytes to 1 MiB).
	MaxTokenBytes int
	// MaxResponseBytes bounds discovery and JWKS bodies (default 512 KiB).
	MaxResponseBytes int
	// CAFile names a PEM file of extra trusted CAs (besides the system store and SSL_CERT_FILE /
	// CURL_CA_BUNDLE / REQUESTS_CA_BUNDLE). Read by NewClient.
	CAFile string
	// JWKSURI skips discovery and fetches keys from this URL.
	JWKSURI string
	// JWKSJSON is a static key set: no network at all (offline use, tests).
	JWKSJSON []byte
	// AllowHTTPLoopback allows plain http to 127.0.0.0/8, ::1 and localhost (development only).
	AllowHTTPLoopback bool
	// Proxy sends every request (discovery, JWKS) through an HTTP CONNECT proxy,
	// "http://[user:password@]host:port"; the credentials never appear in errors or logs.
	Proxy string
	// ProxyFromEnv opts in to https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY (off by default).
	ProxyFromEnv bool
	// ConnectTimeout bounds TCP connect plus TLS handshake (default 5 s) and Timeout one whole
	// HTTP exchange (default 10 s); both are rounded up to milliseconds. A cold Validate does at
	// most two exchanges (discovery, JWKS), so it blocks at most 2 × Timeout.
	ConnectTimeout time.Duration
	Timeout        time.Duration
	// Cache, when set, bounds the process-wide key cache for this client's JWKS URL.
	Cache *CachePolicy
	// Realm is named in the WWW-Authenticate values of this client's errors.
	Realm string
	// Prefetch warms the key cache when the client is built (default PrefetchNone: keys are
	// fetched on first use, or by Client.Prefetch).
	Prefetch PrefetchMode

	// What Authenticate / AuthenticateRequest / Middleware demand of a request beyond a valid
	// token (Validate does not apply these). liboidc decides; nothing here is checked in Go.

	// RequiredScopes must all be granted by the token ("scope" string or array, or "scp"), else
	// the request is denied 403 insufficient_scope naming the missing ones. A route with other
	// scopes needs a Client of its own (they share the process-wide key cache).
	RequiredScopes []string
	// AllowedClaimValues: for each claim, the token must hold one of the values (a string
	// claim, or an array containing one), else 403 (CodeClaimNotAllowed). E.g.
	// {"client_id": {"svc", "web"}}. An empty list is a configuration error.
	AllowedClaimValues map[string][]string
	// DPoP is how the DPoP scheme (RFC 9449) is treated (default DPoPAllowed).
	DPoP DPoPMode
	// DPoPAlgorithms are the proof algorithms accepted (default ES256, ES384, ES512, EdDSA, RS256,
	// PS256); listed in the DPoP challenge's algs.
	DPoPAlgorithms []string
	// DPoPProofWindow is how old a proof may be (whole seconds, 1 s to 1 h; default 60 s).
	DPoPProofWindow time.Duration
	// DPoPNonceSecret turns on stateless server nonces (RFC 9449 §8): 16 to 1024 bytes shared by
	// every process of a fleet. Each nonce is good for DPoPNonceLifetime (default 5 min; whole
	// seconds, at most 24 h) and the one after it.
	DPoPNonceSecret   []byte
	DPoPNonceLifetime time.Duration
	// DPoPReplayStore, when set, is a replay store shared by a fleet of processes (Redis
	// SET NX EX, say), consulted after the process-wide replay cache.
	DPoPReplayStore ReplayStore
	// RequireMTLS accepts only certificate-bound tokens (RFC 8705 cnf.x5t#S256 matching the
	// request's client certificate). Certificate-bound tokens are always checked.
	RequireMTLS bool
	// TokenCacheSize is the verified-token cache's size in entries (a repeated token skips the
	// signature check; its times and key are still checked): 0 keeps the default (4096),
	// TokenCacheOff (any negative value) turns it off; at most 1048576.
	TokenCacheSize int

	// Encrypted tokens (JWE) and the signed revocation list (see jose.go).

	// DecryptionKeys are private keys for encrypted access tokens (at most 32; a JWE naming a kid
	// is decrypted with that key only). Secrets: never formatted. With keys, encrypted access
	// tokens are accepted only with AcceptEncrypted.
	DecryptionKeys []DecryptionKey
	// DecryptionAlgorithms are the JWE key-management and content-encryption names accepted,
	// e.g. {"RSA-OAEP-256", "ECDH-ES+A128KW", "A256GCM"}. Default: every supported one but
	// RSA1_5 (padding oracle) and dir; RSA1_5 only when named.
	DecryptionAlgorithms []string
	// AcceptEncrypted accepts encrypted access tokens (a nested JWT: signed, then encrypted, cty
	// JWT), decrypted with DecryptionKeys (required then) and validated with the full policy.
	AcceptEncrypted bool
	// Revocation, when set, checks every token against the issuer's signed revocation list:
	// a revoked kid or jti is ErrRevoked.
	Revocation *RevocationConfig
}

// DPoPMode is how a Client treats the DPoP scheme (Config.DPoP): oidc_dpop_mode.
type DPoPMode uint32

const (
	// DPoPAllowed offers both schemes: Bearer for unbound tokens, DPoP for DPoP-bound ones (the
	// default).
	DPoPAllowed DPoPMode = C.OIDC_DPOP_MODE_ALLOWED
	// DPoPRequired accepts only DPoP-bound tokens with proofs.
	DPoPRequired DPoPMode = C.OIDC_DPOP_MODE_REQUIRED
	// DPoPDisabled accepts Bearer only; the DPoP scheme is not offered.
	DPoPDisabled DPoPMode = C.OIDC_DPOP_MODE_DISABLED
)

func (m DPoPMode) String() string {
	switch m {
	case DPoPAllowed:
		return "allowed"
	case DPoPRequired:
		return "required"
	case DPoPDisabled:
		return "disabled"
	}
	return "DPoPMode(" + strconv.FormatUint(uint64(m), 10) + ")"
}

// TokenCacheOff as Config.TokenCacheSize turns the verified-token cache off.
const TokenCacheOff = -1

// PrefetchMode is what NewClient does to warm the key cache (Config.Prefetch); liboidc's
// oidc_validator_builder_set_prefetch modes (the header's oidc_prefetch constants).
type PrefetchMode uint32

const (
	// PrefetchNone fetches nothing at NewClient: keys come on first use (the default).
	PrefetchNone PrefetchMode = C.OIDC_PREFETCH_NONE
	// PrefetchFailFast makes NewClient fetch discovery and the key set and fail with the fetch's
	// error (ErrNetwork, ErrTLS, ErrHTTPStatus, ErrDiscoveryInvalid, ...) instead of returning a
	// client that cannot validate. NewClient then blocks, bounded by ConnectTimeout and Timeout.
	PrefetchFailFast PrefetchMode = C.OIDC_PREFETCH_FAIL_FAST
	// PrefetchBackground starts the fetch on liboidc's worker pool and returns at once; a failure
	// is logged (SetLogger) and counted (Metrics), and the first Validate fetches again.
	PrefetchBackground PrefetchMode = C.OIDC_PREFETCH_BACKGROUND
)

func (m PrefetchMode) String() string {
	switch m {
	case PrefetchNone:
		return "none"
	case PrefetchFailFast:
		return "fail-fast"
	case PrefetchBackground:
		return "background"
	}
	return "PrefetchMode(" + strconv.FormatUint(uint64(m), 10) + ")"
}

// CachePolicy bounds the key cache (zero fields keep liboidc's defaults).
type CachePolicy struct {
	TTLMin          time.Duration // Cache-Control max-age is clamped to [TTLMin, TTLMax] (60 s)
	TTLMax          time.Duration // (24 h)
	RefreshCooldown time.Duration // between refreshes for unknown kids (30 s)
	StaleIfError    time.Duration // expired keys keep serving while refreshes fail (6 h)
}

// Client validates bearer tokens for one issuer. It is safe for concurrent use by any number of
// goroutines. Close it when done; a Client that becomes unreachable without Close is freed by
// the garbage collector (a backstop, not a plan).
type Client struct {
	mu      sync.RWMutex
	ptr     *C.oidc_validator
	store   cgo.Handle // the DPoPReplayStore handed to liboidc, or 0
	cleanup runtime.Cleanup
	realm   string
	bound   time.Duration // the longest a call may block (worstCase)
}

// cleanups counts clients and protocol clients freed by the garbage collector (for tests).
var cleanups atomic.Int64

// clientResources is what a Client's cleanup frees.
type clientResources struct {
	p     *C.oidc_validator
	store cgo.Handle
}

func freeClient(r clientResources) {
	C.oidc_validator_free(r.p)
	if r.store != 0 {
		r.store.Delete()
	}
	cleanups.Add(1)
}

// NewClient checks cfg and builds a Client. Every configuration problem is reported here
// (as an *Error: CodeInvalidConfig, CodeInsecureURL, CodeCAFile, CodeUnsupportedAlgorithm,
// CodeJWKSInvalid, ...). Nothing is fetched yet (see Prefetch), unless Config.Prefetch is
// PrefetchFailFast: then a failed fetch is reported here too.
func NewClient(cfg Config) (*Client, error) {
	if err := checkLoaded(); err != nil {
		return nil, err
	}
	var b *C.oidc_validator_builder
	var e *C.oidc_error
	if rc := C.oidc_validator_builder_new(&b, &e); rc != 0 {
		return nil, errorFrom(rc, e)
	}
	store, err := configure(b, &cfg)
	if err != nil {
		C.oidc_validator_builder_free(b)
		deleteHandle(store)
		return nil, err
	}
	var p *C.oidc_validator
	if rc := C.oidc_validator_builder_build(b, &p, &e); rc != 0 { // consumes b
		deleteHandle(store)
		return nil, errorFrom(rc, e)
	}
	c := &Client{ptr: p, store: store, realm: cfg.Realm, bound: worstCase(cfg.Timeout)}
	c.cleanup = runtime.AddCleanup(c, freeClient, clientResources{p, store})
	if cfg.Policy != nil || cfg.PolicyFile != "" {
		if err := c.fromPolicy(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func deleteHandle(h cgo.Handle) {
	if h != 0 {
		h.Delete()
	}
}

// configure applies cfg to b. It returns the cgo.Handle of cfg.DPoPReplayStore (0 without one),
// which the client must keep until it is freed, even when it also returns an error.
func configure(b *C.oidc_validator_builder, cfg *Config) (cgo.Handle, error) {
	if err := configureValidation(b, cfg); err != nil {
		return 0, err
	}
	if err := configureJOSE(b, cfg); err != nil {
		return 0, err
	}
	return configureResource(b, cfg)
}

func configureValidation(b *C.oidc_validator_builder, cfg *Config) error {
	var e *C.oidc_error
	str := func(set func(p *C.char, n C.size_t) C.oidc_result, s string) error {
		p, n := cstr(s)
		if rc := set(p, n); rc != 0 {
			return errorFrom(rc, e)
		}
		return nil
	}
	ok := func(rc C.oidc_result) error {
		if rc != 0 {
			return errorFrom(rc, e)
		}
		return nil
	}
	if err := loadPolicy(b, cfg); err != nil {
		return err
	}
	// Without an Issuer the document's, if any (liboidc then needs Issuers).
	if cfg.Issuer != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_set_issuer(b, p, n, &e)
		}, cfg.Issuer); err != nil {
			return err
		}
	}
	for _, a := range cfg.Audiences {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_add_audience(b, p, n, &e)
		}, a); err != nil {
			return err
		}
	}
	if cfg.AnyAudience {
		if err := ok(C.oidc_validator_builder_set_any_audience(b, 1, &e)); err != nil {
			return err
		}
	}
	if len(cfg.Algorithms) > 0 {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_set_algorithms(b, p, n, &e)
		}, strings.Join(cfg.Algorithms, ",")); err != nil {
			return err
		}
	}
	if cfg.Leeway != 0 {
		if err := ok(C.oidc_validator_builder_set_leeway_secs(b, C.uint32_t(secs(cfg.Leeway)), &e)); err != nil {
			return err
		}
	}
	for _, claim := range cfg.RequiredClaims {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_add_required_claim(b, p, n, &e)
		}, claim); err != nil {
			return err
		}
	}
	if cfg.ExpectedTyp != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_set_expected_typ(b, p, n, &e)
		}, cfg.ExpectedTyp); err != nil {
			return err
		}
	}
	if cfg.MaxTokenBytes != 0 {
		if err := ok(C.oidc_validator_builder_set_max_token_bytes(b, sizeArg(cfg.MaxTokenBytes), &e)); err != nil {
			return err
		}
	}
	if cfg.MaxResponseBytes != 0 {
		if err := ok(C.oidc_validator_builder_set_max_response_bytes(b, sizeArg(cfg.MaxResponseBytes), &e)); err != nil {
			return err
		}
	}
	if cfg.CAFile != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_set_ca_file(b, p, n, &e)
		}, cfg.CAFile); err != nil {
			return err
		}
	}
	if cfg.JWKSURI != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_set_jwks_uri(b, p, n, &e)
		}, cfg.JWKSURI); err != nil {
			return err
		}
	}
	if cfg.JWKSJSON != nil {
		// The bytes are copied by liboidc; an unsafe string view avoids a Go copy.
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_set_jwks_json(b, p, n, &e)
		}, bytesView(cfg.JWKSJSON)); err != nil {
			return err
		}
	}
	if cfg.AllowHTTPLoopback {
		if err := ok(C.oidc_validator_builder_set_allow_http_loopback(b, 1, &e)); err != nil {
			return err
		}
	}
	if cfg.Proxy != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_set_proxy(b, p, n, &e)
		}, cfg.Proxy); err != nil {
			return err
		}
	}
	if cfg.ProxyFromEnv {
		if err := ok(C.oidc_validator_builder_set_proxy_from_env(b, 1, &e)); err != nil {
			return err
		}
	}
	if cfg.ConnectTimeout != 0 || cfg.Timeout != 0 {
		connect, total := timeoutArgs(cfg.ConnectTimeout, cfg.Timeout)
		if err := ok(C.oidc_validator_builder_set_timeouts_ms(b, connect, total, &e)); err != nil {
			return err
		}
	}
	if p := cfg.Cache; p != nil {
		or := func(d, def time.Duration) C.uint32_t {
			if d == 0 {
				d = def
			}
			return C.uint32_t(secs(d))
		}
		if err := ok(C.oidc_validator_builder_set_cache_policy_secs(b,
			or(p.TTLMin, defaultTTLMin), or(p.TTLMax, defaultTTLMax),
			or(p.RefreshCooldown, defaultRefreshCooldown), or(p.StaleIfError, defaultStaleIfError), &e)); err != nil {
			return err
		}
	}
	if cfg.Realm != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_validator_builder_set_realm(b, p, n, &e)
		}, cfg.Realm); err != nil {
			return err
		}
	}
	if cfg.Prefetch != PrefetchNone {
		// Any other value is liboidc's to reject (INVALID_ARGUMENT).
		if err := ok(C.oidc_validator_builder_set_prefetch(b, C.uint32_t(cfg.Prefetch), &e)); err != nil {
			return err
		}
	}
	return addIssuers(b, cfg.Issuers)
}

// timeoutArgs passes the two timeouts: 0 keeps liboidc's current setting (its default or the
// policy document's); a negative one becomes MaxUint32, which liboidc rejects (over 600 s).
func timeoutArgs(connect, total time.Duration) (C.uint32_t, C.uint32_t) {
	arg := func(d time.Duration) C.uint32_t {
		if d < 0 {
			return C.uint32_t(math.MaxUint32)
		}
		return C.uint32_t(msec(d))
	}
	return arg(connect), arg(total)
}

func sizeArg(n int) C.size_t {
	if n < 0 {
		return 0 // rejected by liboidc as out of range
	}
	return C.size_t(n)
}

// Validate validates a bearer token (the compact JWS, without "Bearer ") against the client's
// policy and the issuer's keys, as of now.
//
// On failure the error is an *Error (errors.Is(err, ErrTokenExpired), ...; HTTPStatus and
// WWWAuthenticate say what a resource server should answer), ErrClosed, or ctx.Err().
//
// Blocking and ctx: with cached keys Validate never touches the network and returns in
// microseconds. Otherwise (cold start, key expiry, an unknown kid) liboidc fetches discovery
// and the JWKS, bounded by the client's timeouts (at most about 3 × Timeout). A started call
// cannot be interrupted, so:
//   - an already ended ctx returns ctx.Err() without calling liboidc;
//   - a ctx deadline sooner than 3 × Timeout moves the call to a helper goroutine, and Validate
//     returns ctx.Err() when the deadline passes first; the fetch then completes in the
//     background (warming the cache for the next call);
//   - otherwise the call runs on the calling goroutine (no extra cost). Cancellation of a ctx
//     without a deadline (an http.Request's context) is then not observed during the call,
//     which the client's timeouts bound.
//
// To keep validations under a request deadline on the fast path, set Config.Timeout below a
// third of that deadline.
func (c *Client) Validate(ctx context.Context, token string) (*Claims, error) {
	return c.validate(ctx, token, 0, false)
}

// ValidateAt is Validate with exp/nbf/iat checked as of t (tests, replaying recorded traffic).
// Key-cache timing is unaffected.
func (c *Client) ValidateAt(ctx context.Context, token string, t time.Time) (*Claims, error) {
	return c.validate(ctx, token, t.Unix(), true)
}

func (c *Client) validate(ctx context.Context, token string, now int64, at bool) (*Claims, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if deadlineAfter(ctx, c.bound) {
		return c.validateSync(token, now, at)
	}
	return await(ctx, func() (*Claims, error) { return c.validateSync(token, now, at) })
}

func (c *Client) validateSync(token string, now int64, at bool) (*Claims, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p := c.ptr
	if p == nil {
		return nil, ErrClosed
	}
	maybeGC()
	var out *C.char
	var n C.size_t
	var e *C.oidc_error
	tp, tn := cstr(token)
	var rc C.oidc_result
	if at {
		rc = C.oidc_validate_at(p, tp, tn, C.int64_t(now), &out, &n, &e)
	} else {
		rc = C.oidc_validate(p, tp, tn, &out, &n, &e)
	}
	runtime.KeepAlive(token)
	if rc != 0 {
		return nil, errorFrom(rc, e)
	}
	return newClaims(takeBytes(out, n)), nil
}

// Prefetch fetches discovery and the key set now (warm start), so that the first request does
// not wait. A static-key client returns nil at once. ctx bounds the wait as for Validate.
func (c *Client) Prefetch(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f := func() (struct{}, error) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		if c.ptr == nil {
			return struct{}{}, ErrClosed
		}
		maybeGC()
		var e *C.oidc_error
		if rc := C.oidc_validator_prefetch(c.ptr, &e); rc != 0 {
			return struct{}{}, errorFrom(rc, e)
		}
		return struct{}{}, nil
	}
	var err error
	if endsBefore(ctx, c.bound) {
		_, err = f()
	} else {
		_, err = await(ctx, f)
	}
	return err
}

// Realm returns Config.Realm.
func (c *Client) Realm() string { return c.realm }

// Close frees the client. It waits for calls running on other goroutines (including calls
// whose ctx already ended) and makes later calls fail with ErrClosed. Closing twice is harmless.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		c.cleanup.Stop()
		C.oidc_validator_free(c.ptr)
		c.ptr = nil
		deleteHandle(c.store)
		c.store = 0
	}
	return nil
}

// SetCacheMaxEntries bounds the process-wide key cache to n JWKS URLs (default 64, at least 1);
// the least recently used entry is evicted when a new URL needs room.
func SetCacheMaxEntries(n int) {
	if n < 1 {
		n = 1
	}
	C.oidc_cache_set_max_entries(C.size_t(n))
}
