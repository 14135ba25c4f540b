package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/cgo"
	"sort"
	"strings"
	"sync"
	"time"
)

// OAuthConfig configures an OAuthClient: one registered client at one issuer.
//
// Formatting an OAuthConfig (%v, %+v, %#v, slog) never shows ClientSecret.
type OAuthConfig struct {
	// Issuer (required); its metadata is discovered on first use.
	Issuer string
	// ClientID (required for every operation but OpRegister) and ClientSecret (for
	// confidential clients).
	ClientID     string
	ClientSecret string
	// AuthMethod is the RFC 7591 name of the client authentication method: "none",
	// "client_secret_basic", "client_secret_post", ... Default: client_secret_basic when a
	// secret is set, none otherwise.
	AuthMethod string
	// CAFile names a PEM file of extra trusted CAs. Read by NewOAuthClient.
	CAFile string
	// Endpoints overrides discovered endpoints by metadata name ("token_endpoint",
	// "introspection_endpoint", ..., "jwks_uri"); the URLs pass the https policy.
	Endpoints map[string]string
	// ConnectTimeout (default 5 s) and Timeout (per request, default 10 s).
	ConnectTimeout time.Duration
	Timeout        time.Duration
	// AllowHTTPLoopback allows plain http to loopback hosts (development only).
	AllowHTTPLoopback bool
	// Proxy sends every request through an HTTP CONNECT proxy,
	// "http://[user:password@]host:port"; the credentials never appear in errors or logs.
	Proxy string
	// ProxyFromEnv opts in to https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY (off by default).
	ProxyFromEnv bool
	// ClientCertPEM and ClientKeyPEM are the mTLS client certificate (chain, leaf first) and
	// its unencrypted private key (RFC 8705); with AuthMethod "tls_client_auth" or
	// "self_signed_tls_client_auth" they authenticate the client.
	ClientCertPEM []byte
	ClientKeyPEM  []byte
	// PrivateKeyPEM or PrivateKeyJWK is the client's signing key for private_key_jwt
	// authentication (RFC 7523), with PrivateKeyID (kid) and PrivateKeyAlg ("RS256", "ES256",
	// ...; optional when the key implies it). Secrets: never formatted.
	PrivateKeyPEM []byte
	PrivateKeyJWK []byte
	PrivateKeyID  string
	PrivateKeyAlg string
	// AssertionAudience overrides the audience of private_key_jwt assertions.
	AssertionAudience string
	// DPoPKey (a PEM or JWK private key) makes the client send DPoP proofs (RFC 9449).
	DPoPKey []byte

	// Algorithms is the signature allow-list of the client's ID tokens, logout tokens, signed
	// responses (JARM, UserInfo, introspection) and VerifyJWS, e.g. {"RS256", "ES256"}. Default:
	// RS256/384/512, PS256/384/512, ES256/384/512, EdDSA. "none", HMAC and unknown names fail
	// NewOAuthClient with ErrUnsupportedAlgorithm.
	Algorithms []string

	// Encrypted responses, documents, request objects and logout tokens (see jose.go).

	// DecryptionKeys decrypt the client's encrypted ID tokens, UserInfo, introspection and JARM
	// responses, and Decrypt's JWEs (at most 32). Secrets: never formatted.
	DecryptionKeys []DecryptionKey
	// DecryptionAlgorithms are the JWE names accepted (default: every supported one but RSA1_5
	// and dir; RSA1_5 only when named).
	DecryptionAlgorithms []string
	// JWKSJSON is a static key set for the issuer's keys (offline use, tests): no discovery for
	// keys.
	JWKSJSON []byte
	// RequestObject, when set, sends authorization requests as signed (and optionally
	// encrypted) request objects (RFC 9101).
	RequestObject *RequestObjectConfig
	// LogoutAcceptUntyped accepts back-channel logout tokens without a typ header (or with the
	// generic JWT). Off by default: a logout token must be typed logout+jwt, else
	// ErrTypeMismatch. Only for an OP that does not type its logout tokens.
	LogoutAcceptUntyped bool
	// ReplayStore, when set, is a logout-token replay store shared by a fleet of relying-party
	// processes (keys start with "liboidc:logout:"), consulted after the client's own bounded
	// cache. A store that cannot answer refuses the token (ErrReplayStoreUnavailable).
	ReplayStore ReplayStore
}

// String formats the config with the secret redacted.
func (c OAuthConfig) String() string {
	return fmt.Sprintf("oidc.OAuthConfig{Issuer: %q, ClientID: %q, ClientSecret: %s, AuthMethod: %q, CAFile: %q, Endpoints: %v, ConnectTimeout: %v, Timeout: %v, AllowHTTPLoopback: %v, PrivateKeyPEM: %s, PrivateKeyJWK: %s, PrivateKeyID: %q, PrivateKeyAlg: %q, AssertionAudience: %q, DPoPKey: %s, Algorithms: %q, DecryptionKeys: %v, DecryptionAlgorithms: %q, JWKSJSON: %d bytes, RequestObject: %v, LogoutAcceptUntyped: %v, ReplayStore: %v}",
		c.Issuer, c.ClientID, redacted(c.ClientSecret), c.AuthMethod, c.CAFile, c.Endpoints, c.ConnectTimeout, c.Timeout, c.AllowHTTPLoopback,
		redacted(string(c.PrivateKeyPEM)), redacted(string(c.PrivateKeyJWK)), c.PrivateKeyID, c.PrivateKeyAlg, c.AssertionAudience, redacted(string(c.DPoPKey)),
		c.Algorithms, c.DecryptionKeys, c.DecryptionAlgorithms, len(c.JWKSJSON), c.RequestObject, c.LogoutAcceptUntyped, c.ReplayStore != nil)
}

// GoString is String (for %#v).
func (c OAuthConfig) GoString() string { return c.String() }

// LogValue keeps the secret out of log/slog output.
func (c OAuthConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("issuer", c.Issuer), slog.String("client_id", c.ClientID),
		slog.String("client_secret", redacted(c.ClientSecret)), slog.String("auth_method", c.AuthMethod))
}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
}

// OAuthClient is an OAuth 2.0 / OpenID Connect protocol client. It is safe for concurrent use;
// all its requests share one pooled set of HTTP connections. Close it when done.
//
// Protocol requests are OAuthRequest values (NewRequest) or the per-operation methods written
// over them (operations.go). Each blocks until its response, bounded by the configured timeouts
// and by ctx: if ctx ends first, it returns ctx.Err() at once (see OAuthRequest.Send).
type OAuthClient struct {
	mu      sync.RWMutex
	ptr     *C.oidc_oauth_client
	store   cgo.Handle // the ReplayStore handed to liboidc, or 0
	cleanup runtime.Cleanup
	bound   time.Duration
}

// oauthResources is what an OAuthClient's cleanup frees.
type oauthResources struct {
	p     *C.oidc_oauth_client
	store cgo.Handle
}

func freeOAuthClient(r oauthResources) {
	C.oidc_oauth_client_free(r.p)
	deleteHandle(r.store)
	cleanups.Add(1)
}

// NewOAuthClient checks cfg and builds the client (no network yet).
func NewOAuthClient(cfg OAuthConfig) (*OAuthClient, error) {
	if err := checkLoaded(); err != nil {
		return nil, err
	}
	var b *C.oidc_oauth_builder
	var e *C.oidc_error
	if rc := C.oidc_oauth_builder_new(&b, &e); rc != 0 {
		return nil, errorFrom(rc, e)
	}
	if err := configureOAuth(b, &cfg); err != nil {
		C.oidc_oauth_builder_free(b)
		return nil, err
	}
	store, err := configureOAuthJOSE(b, &cfg)
	if err != nil {
		C.oidc_oauth_builder_free(b)
		deleteHandle(store)
		return nil, err
	}
	var p *C.oidc_oauth_client
	if rc := C.oidc_oauth_builder_build(b, &p, &e); rc != 0 { // consumes b
		deleteHandle(store)
		return nil, errorFrom(rc, e)
	}
	c := &OAuthClient{ptr: p, store: store, bound: worstCase(cfg.Timeout)}
	c.cleanup = runtime.AddCleanup(c, freeOAuthClient, oauthResources{p, store})
	return c, nil
}

func configureOAuth(b *C.oidc_oauth_builder, cfg *OAuthConfig) error {
	var e *C.oidc_error
	str := func(set func(p *C.char, n C.size_t) C.oidc_result, s string) error {
		p, n := cstr(s)
		if rc := set(p, n); rc != 0 {
			return errorFrom(rc, e)
		}
		return nil
	}
	if err := str(func(p *C.char, n C.size_t) C.oidc_result {
		return C.oidc_oauth_builder_set_issuer(b, p, n, &e)
	}, cfg.Issuer); err != nil {
		return err
	}
	if cfg.ClientID != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_oauth_builder_set_client_id(b, p, n, &e)
		}, cfg.ClientID); err != nil {
			return err
		}
	}
	if cfg.ClientSecret != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_oauth_builder_set_client_secret(b, p, n, &e)
		}, cfg.ClientSecret); err != nil {
			return err
		}
	}
	if cfg.AuthMethod != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_oauth_builder_set_auth_method(b, p, n, &e)
		}, cfg.AuthMethod); err != nil {
			return err
		}
	}
	if cfg.CAFile != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_oauth_builder_set_ca_file(b, p, n, &e)
		}, cfg.CAFile); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(cfg.Endpoints))
	for name := range cfg.Endpoints {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		url := cfg.Endpoints[name]
		np, nn := cstr(name)
		up, un := cstr(url)
		if rc := C.oidc_oauth_builder_set_endpoint(b, np, nn, up, un, &e); rc != 0 {
			return errorFrom(rc, e)
		}
		runtime.KeepAlive(name)
		runtime.KeepAlive(url)
	}
	if cfg.ConnectTimeout != 0 || cfg.Timeout != 0 {
		connect, total := timeoutArgs(cfg.ConnectTimeout, cfg.Timeout)
		if rc := C.oidc_oauth_builder_set_timeouts_ms(b, connect, total, &e); rc != 0 {
			return errorFrom(rc, e)
		}
	}
	if cfg.AllowHTTPLoopback {
		if rc := C.oidc_oauth_builder_set_allow_http_loopback(b, 1, &e); rc != 0 {
			return errorFrom(rc, e)
		}
	}
	if cfg.Proxy != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_oauth_builder_set_proxy(b, p, n, &e)
		}, cfg.Proxy); err != nil {
			return err
		}
	}
	if cfg.ProxyFromEnv {
		if rc := C.oidc_oauth_builder_set_proxy_from_env(b, 1, &e); rc != 0 {
			return errorFrom(rc, e)
		}
	}
	if len(cfg.ClientCertPEM) > 0 || len(cfg.ClientKeyPEM) > 0 {
		cp, cn := cstr(bytesView(cfg.ClientCertPEM))
		kp, kn := cstr(bytesView(cfg.ClientKeyPEM))
		rc := C.oidc_oauth_builder_set_client_cert(b, cp, cn, kp, kn, &e)
		runtime.KeepAlive(cfg.ClientCertPEM)
		runtime.KeepAlive(cfg.ClientKeyPEM)
		if rc != 0 {
			return errorFrom(rc, e)
		}
	}
	kp, kn := cstr(cfg.PrivateKeyID)
	ap, an := cstr(cfg.PrivateKeyAlg)
	if len(cfg.PrivateKeyPEM) > 0 {
		pp, pn := cstr(bytesView(cfg.PrivateKeyPEM))
		if rc := C.oidc_oauth_builder_set_private_key_pem(b, pp, pn, kp, kn, ap, an, &e); rc != 0 {
			return errorFrom(rc, e)
		}
	}
	if len(cfg.PrivateKeyJWK) > 0 {
		jp, jn := cstr(bytesView(cfg.PrivateKeyJWK))
		if rc := C.oidc_oauth_builder_set_private_key_jwk(b, jp, jn, kp, kn, ap, an, &e); rc != 0 {
			return errorFrom(rc, e)
		}
	}
	runtime.KeepAlive(cfg)
	if cfg.AssertionAudience != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_oauth_builder_set_assertion_audience(b, p, n, &e)
		}, cfg.AssertionAudience); err != nil {
			return err
		}
	}
	if len(cfg.DPoPKey) > 0 {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_oauth_builder_set_dpop_key(b, p, n, &e)
		}, bytesView(cfg.DPoPKey)); err != nil {
			return err
		}
	}
	if len(cfg.Algorithms) > 0 {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_oauth_builder_set_algorithms(b, p, n, &e)
		}, strings.Join(cfg.Algorithms, ",")); err != nil {
			return err
		}
	}
	return nil
}

// Close frees the client, waiting for requests still running (also those whose ctx ended).
// Closing twice is harmless; later calls fail with ErrClosed.
func (c *OAuthClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		c.cleanup.Stop()
		C.oidc_oauth_client_free(c.ptr)
		c.ptr = nil
		deleteHandle(c.store)
		c.store = 0
	}
	return nil
}

// oauthCall runs one blocking local call (the DPoP helpers, dpop.go) with the client's read
// lock held, bounded by ctx as described in blocking.go. Protocol requests go through
// OAuthRequest (request.go).
func oauthCall[T any](ctx context.Context, c *OAuthClient, f func(p *C.oidc_oauth_client) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	run := func() (T, error) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		if c.ptr == nil {
			return zero, ErrClosed
		}
		maybeGC()
		return f(c.ptr)
	}
	if endsBefore(ctx, c.bound) {
		return run()
	}
	return await(ctx, run)
}
