package oidc

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ---- E: the signed revocation list on the loopback fixture ---------------------------------

// testkitHasRevocation says whether this oidc-testkit serves the revocation list (its admin
// GET /revocation); a binary older than liboidc issue 14 does not.
func testkitHasRevocation(s *server) bool {
	resp, err := http.Get(s.Admin + "/revocation")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// eventually retries f (a validation) until it returns an error matching want or 10 s pass.
func eventually(t *testing.T, want error, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); errors.Is(err, want) {
			return
		}
		time.Sleep(150 * time.Millisecond)
	}
	t.Fatalf("want %v within 10 s, last: %v", want, err)
}

// A validator with the revocation list on: a valid token accepted; its jti revoked -> REVOKED
// (other tokens still accepted); its signing key's kid revoked -> REVOKED; the list unavailable
// past the grace period under fail-closed -> REVOCATION_UNAVAILABLE; DropKeys refetches the JWKS.
func TestRevocationTestkit(t *testing.T) {
	s := startTestkit(t)
	if !testkitHasRevocation(s) {
		t.Skip("this oidc-testkit (" + testkitBinary() + ") serves no revocation list (GET /revocation is not found): " +
			"it predates liboidc issue 14; rebuild it (`cargo build --release -p oidc-testkit --bin oidc-testkit`)")
	}
	ctx := context.Background()
	c := tkClient(t, s, func(cfg *Config) {
		cfg.Revocation = &RevocationConfig{Policy: RevocationFailClosed, Grace: time.Second,
			MinInterval: time.Second, MaxInterval: time.Second}
	})
	if err := c.Prefetch(ctx); err != nil { // primes the list too
		t.Fatal(err)
	}
	if n := s.hits(t, "/.well-known/revocation-list"); n != 1 {
		t.Fatalf("Prefetch fetched the list %d times", n)
	}
	tok := func(alg, jti string) string {
		return s.token(t, url.Values{"alg": {alg}, "aud": {"api://e2e"}, "sub": {"u-" + jti}, "jti": {jti}, "exp_in": {"300"}})
	}
	good, bad := tok("ES256", "jti-good"), tok("ES256", "jti-bad")
	for _, token := range []string{good, bad, good} {
		if _, err := c.Validate(ctx, token); err != nil {
			t.Fatalf("before any revocation: %v", err)
		}
	}
	s.admin(t, "POST", "/revocation/set?jti=jti-bad")
	eventually(t, ErrRevoked, func() error { _, err := c.Validate(ctx, bad); return err })
	_, err := c.Validate(ctx, bad)
	oe := expectCode(t, err, "REVOKED")
	if oe.HTTPStatus != 401 || !strings.Contains(oe.WWWAuthenticate, "invalid_token") {
		t.Fatalf("revoked token: %+v", oe)
	}
	if _, err := c.Validate(ctx, good); err != nil {
		t.Fatalf("another jti: %v", err)
	}
	// The key: every token it signed is refused; other keys' tokens are not.
	esKid := s.Kids["ES256"]
	s.admin(t, "POST", "/revocation/set?kid="+url.QueryEscape(esKid))
	eventually(t, ErrRevoked, func() error { _, err := c.Validate(ctx, good); return err })
	if _, err := c.Validate(ctx, tok("ES256", "jti-new")); !errors.Is(err, ErrRevoked) {
		t.Fatalf("a new token of the revoked key %s: %v", esKid, err)
	}
	if _, err := c.Validate(ctx, tok("EdDSA", "jti-eddsa")); err != nil {
		t.Fatalf("a token of another key: %v", err)
	}

	// DropKeys: no error, and the next validation fetches the key set again.
	s.admin(t, "POST", "/revocation/set") // an empty list again
	eventually(t, nil, func() error { _, err := c.Validate(ctx, good); return err })
	before := s.hits(t, "/jwks")
	if err := c.DropKeys(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Validate(ctx, good); err != nil {
		t.Fatal(err)
	}
	if after := s.hits(t, "/jwks"); after != before+1 {
		t.Fatalf("JWKS fetched %d times after DropKeys, want 1", after-before)
	}
	if err := c.DropKeys(ctx, s.Issuer); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Validate(ctx, good); err != nil || s.hits(t, "/jwks") != before+2 {
		t.Fatalf("after DropKeys(issuer): %v, %d fetches", err, s.hits(t, "/jwks")-before)
	}
	expectCode(t, c.DropKeys(ctx, "https://nope.example"), "INVALID_ARGUMENT")
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.DropKeys(done, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended ctx: %v", err)
	}

	// The list unavailable: 1 s of grace, then fail-closed (503, retry later).
	s.admin(t, "POST", "/fault?path=/.well-known/revocation-list&mode=500")
	eventually(t, ErrRevocationUnavailable, func() error { _, err := c.Validate(ctx, good); return err })
	_, err = c.Validate(ctx, good)
	if oe := expectCode(t, err, "REVOCATION_UNAVAILABLE"); oe.HTTPStatus != 503 {
		t.Fatalf("fail-closed: %+v", oe)
	}
	c.Close()
	if err := c.DropKeys(ctx, ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

// Fail-open: past the grace period, tokens are accepted.
func TestRevocationFailOpenTestkit(t *testing.T) {
	s := startTestkit(t)
	if !testkitHasRevocation(s) {
		t.Skip("this oidc-testkit serves no revocation list (it predates liboidc issue 14)")
	}
	ctx := context.Background()
	s.admin(t, "POST", "/fault?path=/.well-known/revocation-list&mode=503")
	closed := tkClient(t, s, func(cfg *Config) {
		cfg.Revocation = &RevocationConfig{Policy: RevocationFailClosed}
	})
	open := tkClient(t, s, func(cfg *Config) {
		cfg.Revocation = &RevocationConfig{Policy: RevocationFailOpen}
	})
	// Prefetch fails when the list does, whatever the policy.
	for _, c := range []*Client{closed, open} {
		if err := c.Prefetch(ctx); err == nil {
			t.Fatal("Prefetch succeeded without a revocation list")
		}
	}
	token := tkToken(t, s, "ES256", "fail-open")
	if _, err := open.Validate(ctx, token); err != nil {
		t.Fatalf("fail-open without a list: %v", err)
	}
	if _, err := closed.Validate(ctx, token); !errors.Is(err, ErrRevocationUnavailable) {
		t.Fatalf("fail-closed without a list: %v", err)
	}
}

// ---- A: validator options --------------------------------------------------------------------

// rsaEncKey is an RSA key pair for JWE tests, as PKCS#8 PEM and as a private JWK.
type rsaEncKey struct {
	priv *rsa.PrivateKey
	pem  []byte
	jwk  []byte
}

func newRSAEncKey(t *testing.T, kid string) *rsaEncKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	priv.Precompute()
	n := func(i *big.Int) string { return b64(i.Bytes()) }
	jwk, _ := json.Marshal(map[string]string{"kty": "RSA", "kid": kid, "use": "enc",
		"n": n(priv.N), "e": n(big.NewInt(int64(priv.E))), "d": n(priv.D), "p": n(priv.Primes[0]), "q": n(priv.Primes[1]),
		"dp": n(priv.Precomputed.Dp), "dq": n(priv.Precomputed.Dq), "qi": n(priv.Precomputed.Qinv)})
	return &rsaEncKey{priv: priv, pem: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), jwk: jwk}
}

// encrypt makes a compact JWE (RSA-OAEP-256, A256GCM) of plaintext to k, with Go's crypto.
func (k *rsaEncKey) encrypt(t *testing.T, plaintext []byte, kid, cty string) string {
	t.Helper()
	h := map[string]string{"alg": "RSA-OAEP-256", "enc": "A256GCM"}
	if kid != "" {
		h["kid"] = kid
	}
	if cty != "" {
		h["cty"] = cty
	}
	hj, _ := json.Marshal(h)
	cek, iv := make([]byte, 32), make([]byte, 12)
	rand.Read(cek)
	rand.Read(iv)
	ek, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &k.priv.PublicKey, cek, nil)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	protected := b64(hj)
	sealed := gcm.Seal(nil, iv, plaintext, []byte(protected))
	ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	return strings.Join([]string{protected, b64(ek), b64(iv), b64(ct), b64(tag)}, ".")
}

// Encrypted access tokens: refused by default, accepted with AcceptEncrypted and a decryption
// key (PEM or JWK), then validated with the full policy; a key that does not fit is
// DECRYPTION_FAILED. Keys never appear in formatted configs or errors.
func TestEncryptedAccessTokens(t *testing.T) {
	sig := newTestKey(t, "ES256")
	enc := newRSAEncKey(t, "enc-1")
	other := newRSAEncKey(t, "enc-2")
	inner := sig.sign(t, standardClaims("alice", "read"))
	jwe := enc.encrypt(t, []byte(inner), "", "JWT")
	ctx := context.Background()
	build := func(mod func(*Config)) (*Client, error) {
		cfg := Config{Issuer: testIssuer, Audiences: []string{"api://go"}, ExpectedTyp: "at+jwt", JWKSJSON: jwksOf(sig)}
		mod(&cfg)
		c, err := NewClient(cfg)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return c, err
	}
	plain, err := build(func(*Config) {})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Validate(ctx, jwe); err == nil {
		t.Fatal("an encrypted token accepted without keys")
	}
	for name, key := range map[string]DecryptionKey{"PEM": {Key: enc.pem, KeyID: "enc-1"}, "JWK": {Key: enc.jwk}} {
		c, err := build(func(cfg *Config) {
			cfg.DecryptionKeys = []DecryptionKey{{Key: other.pem, KeyID: "enc-2"}, key}
			cfg.DecryptionAlgorithms = []string{"RSA-OAEP-256", "A256GCM"}
			cfg.AcceptEncrypted = true
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		claims, err := c.Validate(ctx, jwe)
		if err != nil || claims.Subject() != "alice" {
			t.Fatalf("%s: %v", name, err)
		}
		// The inner token is still checked: an expired one is TOKEN_EXPIRED after decryption.
		exp := standardClaims("bob", "")
		exp["exp"], exp["iat"], exp["nbf"] = time.Now().Unix()-3600, time.Now().Unix()-7200, time.Now().Unix()-7200
		if _, err := c.Validate(ctx, enc.encrypt(t, []byte(sig.sign(t, exp)), "", "JWT")); !errors.Is(err, ErrTokenExpired) {
			t.Fatalf("%s: expired inner token: %v", name, err)
		}
	}
	// Keys without the opt-in: refused; the opt-in with only another key: DECRYPTION_FAILED.
	noOptIn, err := build(func(cfg *Config) { cfg.DecryptionKeys = []DecryptionKey{{Key: enc.pem}} })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noOptIn.Validate(ctx, jwe); err == nil {
		t.Fatal("accepted without AcceptEncrypted")
	}
	wrong, err := build(func(cfg *Config) {
		cfg.DecryptionKeys = []DecryptionKey{{Key: other.pem}}
		cfg.AcceptEncrypted = true
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Validate(ctx, jwe)
	oe := expectCode(t, err, "DECRYPTION_FAILED")
	// RSA-OAEP-256 not in the allow-list: ALGORITHM_NOT_ALLOWED.
	narrow, err := build(func(cfg *Config) {
		cfg.DecryptionKeys = []DecryptionKey{{Key: enc.pem}}
		cfg.DecryptionAlgorithms = []string{"ECDH-ES", "A256GCM"}
		cfg.AcceptEncrypted = true
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := narrow.Validate(ctx, jwe); !errors.Is(err, ErrAlgorithmNotAllowed) {
		t.Fatalf("alg not allowed: %v", err)
	}

	// Secrets: not in errors, formatted configs or slog output.
	cfg := Config{DecryptionKeys: []DecryptionKey{{Key: enc.pem, KeyID: "enc-1"}, {Key: enc.jwk}}}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "key", cfg.DecryptionKeys[0], "keys", cfg.DecryptionKeys)
	oc := OAuthConfig{Issuer: "https://op.example", DecryptionKeys: cfg.DecryptionKeys}
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), fmt.Sprint(oc), fmt.Sprintf("%#v", oc),
		logged.String(), oe.Error(), oe.WWWAuthenticate} {
		if strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, b64(enc.priv.D.Bytes())[:20]) || strings.Contains(s, string(enc.pem[40:80])) {
			t.Fatalf("a key is shown: %s", s)
		}
	}
	if !strings.Contains(fmt.Sprint(cfg.DecryptionKeys[0]), `"enc-1"`) {
		t.Fatalf("the kid is shown: %v", cfg.DecryptionKeys[0])
	}

	// OAuthClient.Decrypt of the same JWE: the inner JWS, unvalidated, and the JWE header.
	rp, err := NewOAuthClient(OAuthConfig{Issuer: testIssuer, ClientID: "rp", JWKSJSON: jwksOf(sig),
		DecryptionKeys: []DecryptionKey{{Key: enc.jwk}}})
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	bothSends(t, func(t *testing.T, ctx context.Context) {
		got, err := rp.Decrypt(ctx, jwe)
		if err != nil || got.Text != inner || string(got.Payload) != inner || !sameJSON(t, got.Header, []byte(`{"alg":"RSA-OAEP-256","enc":"A256GCM","cty":"JWT"}`)) {
			t.Fatalf("Decrypt: %v %v", got, err)
		}
		if strings.Contains(fmt.Sprintf("%v %+v %#v", got, *got, got), inner[:30]) {
			t.Fatal("a formatted JOSEPayload shows the plaintext")
		}
		// The non-blocking form: OAuthRequest.SendAsync and OAuthResponse.JOSEPayload.
		r := rp.NewRequest(OpDecrypt, With(ParamJWE, jwe))
		defer r.Close()
		res := <-r.SendAsync(ctx)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		defer res.Response.Close()
		p, err := res.Response.JOSEPayload()
		if err != nil || p.Text != inner {
			t.Fatalf("async: %v %v", p, err)
		}
		if _, err := res.Response.LogoutToken(); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("LogoutToken of a DECRYPT response: %v", err)
		}
		expectCode(t, func() error { _, err := rp.Decrypt(ctx, other.encrypt(t, []byte("x"), "", "")); return err }(), "DECRYPTION_FAILED")
		expectCode(t, func() error { _, err := rp.Decrypt(ctx, "a.b.c"); return err }(), "TOKEN_MALFORMED")
	})
}

// Each validator option reaches liboidc: its rejection by liboidc when out of range.
func TestJOSEConfigErrors(t *testing.T) {
	enc := newRSAEncKey(t, "k")
	base := func() Config {
		// A remote key set (nothing is fetched by NewClient): a revocation list needs one.
		return Config{Issuer: "https://issuer.go.test", Audiences: []string{"api://go"}, JWKSURI: "https://issuer.go.test/jwks"}
	}
	for name, tc := range map[string]struct {
		mod  func(*Config)
		code string
	}{
		"a key that is not a key":       {func(c *Config) { c.DecryptionKeys = []DecryptionKey{{Key: []byte("not a key")}} }, ""},
		"a public JWK":                  {func(c *Config) { c.DecryptionKeys = []DecryptionKey{{Key: jwksOf(newTestKey(t, "RS256"))[9:]}} }, ""},
		"an unknown JWE algorithm":      {func(c *Config) { c.DecryptionAlgorithms = []string{"RSA-OAEP", "XYZ"} }, ""},
		"AcceptEncrypted without a key": {func(c *Config) { c.AcceptEncrypted = true }, ""},
		"33 keys":                       {func(c *Config) { c.DecryptionKeys = make([]DecryptionKey, 33); fill(c.DecryptionKeys, enc.pem) }, ""},
		"revocation without a policy":   {func(c *Config) { c.Revocation = &RevocationConfig{} }, "INVALID_ARGUMENT"},
		"revocation policy 3":           {func(c *Config) { c.Revocation = &RevocationConfig{Policy: 3} }, "INVALID_ARGUMENT"},
		"revocation list over http": {func(c *Config) {
			c.Revocation = &RevocationConfig{Policy: RevocationFailOpen, URL: "http://example.com/rl"}
		}, "INSECURE_URL"},
		"revocation bounds min over max": {func(c *Config) {
			c.Revocation = &RevocationConfig{Policy: RevocationFailClosed, MinInterval: time.Hour, MaxInterval: time.Minute}
		}, "INVALID_CONFIG"},
		"revocation grace over 7 days": {func(c *Config) {
			c.Revocation = &RevocationConfig{Policy: RevocationFailClosed, Grace: 8 * 24 * time.Hour}
		}, ""},
		"revocation negative grace":        {func(c *Config) { c.Revocation = &RevocationConfig{Policy: RevocationFailClosed, Grace: -time.Second} }, ""},
		"revocation negative max interval": {func(c *Config) { c.Revocation = &RevocationConfig{Policy: RevocationFailClosed, MaxInterval: -1} }, ""},
	} {
		cfg := base()
		tc.mod(&cfg)
		c, err := NewClient(cfg)
		if err == nil {
			c.Close()
			t.Errorf("%s: built", name)
			continue
		}
		var oe *Error
		if !errors.As(err, &oe) || (tc.code != "" && oe.Name != tc.code) {
			t.Errorf("%s: want %q, got %v", name, tc.code, err)
		}
		if strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: the key is in the message: %v", name, err)
		}
	}
	// Valid settings build (the list is fetched on first use, not by NewClient).
	cfg := base()
	cfg.DecryptionKeys = []DecryptionKey{{Key: enc.pem, KeyID: "a"}, {Key: enc.jwk, KeyID: "b"}}
	cfg.DecryptionAlgorithms = []string{"RSA-OAEP-256", "RSA1_5", "A128CBC-HS256"}
	cfg.AcceptEncrypted = true
	cfg.Revocation = &RevocationConfig{Policy: RevocationFailOpen, URL: "https://issuer.go.test/rl", Grace: time.Minute,
		MinInterval: 5 * time.Second, MaxInterval: time.Hour}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if RevocationFailClosed.String() != "fail-closed" || RevocationFailOpen.String() != "fail-open" || RevocationPolicy(9).String() != "RevocationPolicy(9)" {
		t.Fatal("RevocationPolicy.String")
	}
}

func fill(keys []DecryptionKey, pem []byte) {
	for i := range keys {
		keys[i] = DecryptionKey{Key: pem, KeyID: fmt.Sprint("k", i)}
	}
}

// ---- B and C: protocol-client options and logout tokens --------------------------------------

// memStore is a ReplayStore in memory; down makes it fail.
type memStore struct {
	mu   sync.Mutex
	seen map[string]time.Duration
	down bool
}

func (m *memStore) CheckAndRecord(key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return false, errors.New("store down")
	}
	if _, ok := m.seen[key]; ok {
		return false, nil
	}
	m.seen[key] = ttl
	return true, nil
}

// signLogout signs a logout token with k (header typ, "" = none) for testIssuer and client "rp".
func signLogout(t *testing.T, k *testKey, typ string, mod func(map[string]any)) string {
	t.Helper()
	now := time.Now().Unix()
	claims := map[string]any{"iss": testIssuer, "aud": "rp", "iat": now, "exp": now + 120, "sub": "alice", "sid": "s-1",
		"jti":    fmt.Sprintf("lt-%d-%d", now, logoutSeq.Add(1)),
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
	if mod != nil {
		mod(claims)
	}
	h := map[string]any{"alg": k.alg, "kid": k.kid}
	if typ != "" {
		h["typ"] = typ
	}
	return k.signHeader(t, h, claims)
}

// Logout tokens through the binding's operation and both sends: the claims and fields, a replay
// refused by the client's cache and by the shared store (keys liboidc:logout:*), a store that is
// down refusing 503 without using up the jti, the untyped opt-in, WithNow.
func TestValidateLogoutToken(t *testing.T) {
	k := newTestKey(t, "ES256")
	store := &memStore{seen: map[string]time.Duration{}}
	newRP := func(mod func(*OAuthConfig)) *OAuthClient {
		cfg := OAuthConfig{Issuer: testIssuer, ClientID: "rp", JWKSJSON: jwksOf(k), ReplayStore: store}
		if mod != nil {
			mod(&cfg)
		}
		c, err := NewOAuthClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	bothSends(t, func(t *testing.T, ctx context.Context) {
		rp, other := newRP(nil), newRP(nil) // two processes of a fleet sharing the store
		token := signLogout(t, k, "logout+jwt", nil)
		lt, err := rp.ValidateLogoutToken(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if lt.Issuer != testIssuer || lt.Subject != "alice" || lt.SessionID != "s-1" || !strings.HasPrefix(lt.JTI, "lt-") ||
			lt.Claims.String("sid") != "s-1" || !strings.Contains(lt.String(), `SessionID: "s-1"`) {
			t.Fatalf("%v %s", lt, lt.Claims.Raw())
		}
		store.mu.Lock()
		for key := range store.seen {
			if !strings.HasPrefix(key, "liboidc:logout:") {
				t.Errorf("store key %q", key)
			}
		}
		store.mu.Unlock()
		expectCode(t, func() error { _, err := rp.ValidateLogoutToken(ctx, token); return err }(), "TOKEN_REPLAYED")
		expectCode(t, func() error { _, err := other.ValidateLogoutToken(ctx, token); return err }(), "TOKEN_REPLAYED")
		// sid absent.
		lt, err = rp.ValidateLogoutToken(ctx, signLogout(t, k, "logout+jwt", func(m map[string]any) { delete(m, "sid") }))
		if err != nil || lt.SessionID != "" || lt.Subject != "alice" {
			t.Fatalf("no sid: %v %v", lt, err)
		}
		// The store down: 503, and the jti is not used up.
		store.mu.Lock()
		store.down = true
		store.mu.Unlock()
		fresh := signLogout(t, k, "logout+jwt", nil)
		_, err = rp.ValidateLogoutToken(ctx, fresh)
		if oe := expectCode(t, err, "REPLAY_STORE_UNAVAILABLE"); oe.HTTPStatus != 503 {
			t.Fatalf("%+v", oe)
		}
		store.mu.Lock()
		store.down = false
		store.mu.Unlock()
		if _, err := other.ValidateLogoutToken(ctx, fresh); err != nil {
			t.Fatalf("after the store is back: %v", err)
		}
		// Untyped: refused unless LogoutAcceptUntyped.
		untyped := signLogout(t, k, "", nil)
		expectCode(t, func() error { _, err := rp.ValidateLogoutToken(ctx, untyped); return err }(), "TYPE_MISMATCH")
		lax := newRP(func(c *OAuthConfig) { c.LogoutAcceptUntyped = true; c.ReplayStore = nil })
		if _, err := lax.ValidateLogoutToken(ctx, untyped); err != nil {
			t.Fatalf("untyped with the opt-in: %v", err)
		}
		// WithNow: an hour later the token has expired.
		expectCode(t, func() error {
			_, err := rp.ValidateLogoutToken(ctx, signLogout(t, k, "logout+jwt", nil), WithNow(time.Now().Add(time.Hour)))
			return err
		}(), "TOKEN_EXPIRED")
		// A logout token is not an ID token.
		expectCode(t, func() error { _, err := rp.ValidateIDToken(ctx, signLogout(t, k, "logout+jwt", nil)); return err }(), "TYPE_MISMATCH")
		// The non-blocking form with OAuthResponse.LogoutToken.
		r := rp.NewRequest(OpValidateLogoutToken, With(ParamLogoutToken, signLogout(t, k, "logout+jwt", nil)))
		defer r.Close()
		res := <-r.SendAsync(ctx)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		defer res.Response.Close()
		if lt, err := res.Response.LogoutToken(); err != nil || lt.SessionID != "s-1" {
			t.Fatalf("async: %v %v", lt, err)
		}
		if _, err := res.Response.JOSEPayload(); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("JOSEPayload of a logout response: %v", err)
		}
	})
	// The store's handle is released with the client (Close, and the garbage collector).
	c := newRP(nil)
	c.Close()
	if c.store != 0 {
		t.Fatal("Close kept the store handle")
	}
}

// VerifyJWS on a document signed in Go: attached, detached (WithDetachedPayload), a tampered
// detached payload, the non-blocking form.
func TestVerifyJWS(t *testing.T) {
	k := newTestKey(t, "ES256")
	rp, err := NewOAuthClient(OAuthConfig{Issuer: testIssuer, ClientID: "rp", JWKSJSON: jwksOf(k)})
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	doc := `{"v":"1.0","items":[1,2]}`
	attached := k.signHeader(t, map[string]any{"alg": "ES256", "kid": k.kid}, json.RawMessage(doc))
	parts := strings.Split(attached, ".")
	detached := parts[0] + ".." + parts[2]
	bothSends(t, func(t *testing.T, ctx context.Context) {
		for name, run := range map[string]func() (*JOSEPayload, error){
			"attached": func() (*JOSEPayload, error) { return rp.VerifyJWS(ctx, attached) },
			"detached": func() (*JOSEPayload, error) { return rp.VerifyJWS(ctx, detached, WithDetachedPayload([]byte(doc))) },
		} {
			p, err := run()
			if err != nil || p.Text != doc || string(p.Payload) != doc || !p.IsText ||
				!sameJSON(t, p.Header, []byte(`{"alg":"ES256","kid":"`+k.kid+`"}`)) {
				t.Fatalf("%s: %v %v", name, p, err)
			}
		}
		_, err := rp.VerifyJWS(ctx, detached, WithDetachedPayload([]byte(doc+" ")))
		expectCode(t, err, "SIGNATURE_INVALID")
		_, err = rp.VerifyJWS(ctx, detached, WithDetachedPayload([]byte(doc)), WithNow(time.Unix(jwsVectorNow, 0)))
		if err != nil {
			t.Fatalf("WithNow: %v", err)
		}
	})
}

// Protocol-client options reach liboidc: request objects (signed, and encrypted with a key
// derived from the client secret) in the authorization URL, and their rejection when wrong.
func TestOAuthJOSEOptions(t *testing.T) {
	k := newTestKey(t, "ES256")
	signer := newTestKey(t, "RS256")
	der, _ := x509.MarshalPKCS8PrivateKey(signer.priv)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	// The issuer's key set: a signing key and a use=enc key (request objects are encrypted to it).
	enc := newRSAEncKey(t, "op-enc")
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	json.Unmarshal(jwksOf(k), &jwks)
	jwks.Keys = append(jwks.Keys, map[string]any{"kty": "RSA", "kid": "op-enc", "use": "enc", "alg": "RSA-OAEP-256",
		"n": b64(enc.priv.N.Bytes()), "e": b64(big.NewInt(int64(enc.priv.E)).Bytes())})
	issuerJWKS, _ := json.Marshal(jwks)
	base := func() OAuthConfig {
		return OAuthConfig{Issuer: testIssuer, ClientID: "rp", AuthMethod: "private_key_jwt",
			JWKSJSON: issuerJWKS, PrivateKeyPEM: keyPEM, PrivateKeyID: "rp-key",
			Endpoints: map[string]string{"authorization_endpoint": testIssuer + "/authorize"}}
	}
	ctx := context.Background()
	for name, tc := range map[string]struct {
		ro       *RequestObjectConfig
		segments int
	}{
		"signed":             {&RequestObjectConfig{}, 3},
		"signed + encrypted": {&RequestObjectConfig{EncryptionAlg: "RSA-OAEP-256", EncryptionEnc: "A256GCM"}, 5},
	} {
		cfg := base()
		cfg.RequestObject = tc.ro
		c, err := NewOAuthClient(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		au, err := c.AuthorizationURL(ctx, With(ParamRedirectURI, "https://rp.example/cb"), WithScope("openid"))
		c.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		u, err := url.Parse(au.URL)
		if err != nil {
			t.Fatal(err)
		}
		ro := u.Query().Get("request")
		if strings.Count(ro, ".") != tc.segments-1 {
			t.Fatalf("%s: request object %q in %s", name, ro, au.URL)
		}
		if tc.segments == 5 { // the issuer's side: decrypt with its key, a signed request object inside
			op, err := NewOAuthClient(OAuthConfig{Issuer: testIssuer, ClientID: "op", JWKSJSON: issuerJWKS,
				DecryptionKeys: []DecryptionKey{{Key: enc.jwk}}})
			if err != nil {
				t.Fatal(err)
			}
			inner, err := op.Decrypt(ctx, ro)
			op.Close()
			if err != nil || strings.Count(inner.Text, ".") != 2 {
				t.Fatalf("%s: decrypted %v, %v", name, inner, err)
			}
		}
	}
	for name, mod := range map[string]func(*OAuthConfig){
		"enc alg without enc": func(c *OAuthConfig) { c.RequestObject = &RequestObjectConfig{EncryptionAlg: "RSA-OAEP"} },
		"unknown enc": func(c *OAuthConfig) {
			c.RequestObject = &RequestObjectConfig{EncryptionAlg: "A256KW", EncryptionEnc: "X"}
		},
		"request object without key": func(c *OAuthConfig) { c.PrivateKeyPEM = nil; c.RequestObject = &RequestObjectConfig{} },
		"bad static JWKS":            func(c *OAuthConfig) { c.JWKSJSON = []byte(`{"keys":1}`) },
		"bad decryption key": func(c *OAuthConfig) {
			c.DecryptionKeys = []DecryptionKey{{Key: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}}
		},
		"unknown JWE algorithm": func(c *OAuthConfig) { c.DecryptionAlgorithms = []string{"A1KW"} },
	} {
		cfg := base()
		mod(&cfg)
		c, err := NewOAuthClient(cfg)
		if err == nil {
			c.Close()
			t.Errorf("%s: built", name)
			continue
		}
		var oe *Error
		if !errors.As(err, &oe) || strings.Contains(err.Error(), "BEGIN PRIVATE KEY") {
			t.Errorf("%s: %v", name, err)
		}
	}
	s := fmt.Sprintf("%v", OAuthConfig{RequestObject: &RequestObjectConfig{EncryptionAlg: "A256KW", EncryptionEnc: "A256GCM"},
		ReplayStore: &memStore{}, LogoutAcceptUntyped: true, JWKSJSON: []byte(`{}`)})
	if !strings.Contains(s, "A256KW") || !strings.Contains(s, "ReplayStore: true") || !strings.Contains(s, "JWKSJSON: 2 bytes") {
		t.Fatalf("OAuthConfig.String: %s", s)
	}
}

var logoutSeq atomic.Int64

// signHeader signs payload (marshalled to JSON) with k under the given header.
func (k *testKey) signHeader(t testing.TB, header map[string]any, payload any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(payload)
	input := b64(h) + "." + b64(c)
	var sig []byte
	var err error
	switch p := k.priv.(type) {
	case *rsa.PrivateKey:
		d := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPKCS1v15(rand.Reader, p, crypto.SHA256, d[:])
	case *ecdsa.PrivateKey:
		d := sha256.Sum256([]byte(input))
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, p, d[:])
		if err == nil {
			sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(p, []byte(input))
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// TestOAuthAlgorithmsConfig: OAuthConfig.Algorithms is checked by liboidc when the client is
// built: "none", an HMAC name or an unknown name is ErrUnsupportedAlgorithm from NewOAuthClient
// (the allow-list itself is exercised by TestJWSVectors). String lists it.
func TestOAuthAlgorithmsConfig(t *testing.T) {
	for _, algs := range [][]string{{"none"}, {"RS256", "HS256"}, {"RS257"}} {
		c, err := NewOAuthClient(OAuthConfig{Issuer: testIssuer, ClientID: "rp", Algorithms: algs})
		if err == nil {
			c.Close()
			t.Fatalf("%q: built", algs)
		}
		expectCode(t, err, "UNSUPPORTED_ALGORITHM")
	}
	c, err := NewOAuthClient(OAuthConfig{Issuer: testIssuer, ClientID: "rp", Algorithms: []string{"ES256", "EdDSA"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if s := fmt.Sprint(OAuthConfig{Algorithms: []string{"ES256", "EdDSA"}}); !strings.Contains(s, `Algorithms: ["ES256" "EdDSA"]`) {
		t.Fatalf("OAuthConfig.String: %s", s)
	}
}
