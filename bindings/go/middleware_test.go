package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These tests check the plumbing (what reaches liboidc, what is written back), not the
// decisions, which the shared request vectors pin (requests_vectors_test.go). The expected
// challenge strings below are the core's, written out where a test needs a literal.

const apiURL = "https://api.go.test/items?x=1"

// serve sends one request through h: headers as separate lines, https when the URL is.
func serve(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

var echoSubject = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	claims, ok := ClaimsFromContext(r.Context())
	d, ok2 := DecisionFromContext(r.Context())
	if !ok || !ok2 || !d.Allowed {
		http.Error(w, "no claims", 500)
		return
	}
	fmt.Fprintf(w, "hello %s %s %s", claims.Subject(), d.TokenType, claims.String("scope"))
})

// newClient builds a Client on the test issuer with the given keys and extra configuration.
func newClient(t *testing.T, mod func(*Config), keys ...*testKey) *Client {
	t.Helper()
	cfg := Config{Issuer: testIssuer, Audiences: []string{"api://go"}, ExpectedTyp: "at+jwt", JWKSJSON: jwksOf(keys...), Realm: "api"}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const dpopChallenge = `DPoP realm="api", algs="ES256 ES384 ES512 EdDSA RS256 PS256"`

func TestMiddleware(t *testing.T) {
	key := newTestKey(t, "RS256")
	c := newClient(t, nil, key)
	good := key.sign(t, standardClaims("alice", "read write"))
	h := Middleware(c)(echoSubject)

	rec := serve(t, h, "GET", apiURL, bearer(good))
	if rec.Code != 200 || rec.Body.String() != "hello alice Bearer read write" {
		t.Fatalf("valid token: %d %q", rec.Code, rec.Body)
	}
	if rec := serve(t, h, "GET", apiURL, http.Header{"Authorization": {"bearer " + good}}); rec.Code != 200 {
		t.Fatalf("the scheme is case-insensitive: %d", rec.Code)
	}

	// No usable credentials: 401 with bare challenges, one header line per offered scheme.
	for _, auth := range []string{"", "Basic dXNlcjpwdw=="} {
		hd := http.Header{}
		if auth != "" {
			hd.Set("Authorization", auth)
		}
		rec := serve(t, h, "GET", apiURL, hd)
		want := []string{`Bearer realm="api"`, dpopChallenge}
		if rec.Code != 401 || !slices.Equal(rec.Header().Values("WWW-Authenticate"), want) {
			t.Fatalf("auth %q: %d %q", auth, rec.Code, rec.Header().Values("WWW-Authenticate"))
		}
		if rec.Header().Get("Cache-Control") != "no-store" || strings.TrimSpace(rec.Body.String()) != "Unauthorized" {
			t.Fatalf("auth %q: %q %q", auth, rec.Header(), rec.Body)
		}
	}

	// Two Authorization lines reach liboidc as two lines: 400 invalid_request.
	rec = serve(t, h, "GET", apiURL, http.Header{"Authorization": {"Bearer " + good, "Bearer " + good}})
	if rec.Code != 400 || !strings.Contains(rec.Header().Values("WWW-Authenticate")[0], `error="invalid_request"`) {
		t.Fatalf("two Authorization lines: %d %q", rec.Code, rec.Header().Values("WWW-Authenticate"))
	}

	// An expired token: the error goes on the Bearer challenge, the DPoP one stays bare.
	expired := standardClaims("alice", "read")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	expired["iat"] = time.Now().Add(-2 * time.Hour).Unix()
	expired["nbf"] = expired["iat"]
	rec = serve(t, h, "GET", apiURL, bearer(key.sign(t, expired)))
	www := rec.Header().Values("WWW-Authenticate")
	if rec.Code != 401 || len(www) != 2 || www[0] != `Bearer realm="api", error="invalid_token", error_description="The access token expired"` ||
		www[1] != dpopChallenge {
		t.Fatalf("expired: %d %q", rec.Code, www)
	}

	// The middleware writes exactly what AuthenticateRequest decides.
	other := newTestKey(t, "RS256")
	foreign := bearer(other.sign(t, standardClaims("mallory", "read")))
	rec = serve(t, h, "GET", apiURL, foreign)
	r := httptest.NewRequest("GET", apiURL, nil)
	r.Header = foreign
	d, err := c.Authenticate(r)
	if err != nil || d.Allowed || d.Code != CodeSignatureInvalid && d.Code != CodeUnknownKey {
		t.Fatalf("foreign key: %+v %v", d, err)
	}
	if rec.Code != d.Status || !slices.Equal(rec.Header().Values("WWW-Authenticate"), d.Challenges) {
		t.Fatalf("middleware %d %q vs decision %d %q", rec.Code, rec.Header().Values("WWW-Authenticate"), d.Status, d.Challenges)
	}
	if !errors.Is(d.Err(), sentinels[d.Code]) || d.Err().(*Error).BearerError != "invalid_token" || d.Err().(*Error).HTTPStatus != 401 {
		t.Fatalf("Err(): %#v", d.Err())
	}
}

// Scopes and claim values are the Client's configuration, decided by liboidc.
func TestMiddlewareScopesAndClaims(t *testing.T) {
	key := newTestKey(t, "ES256")
	readOnly := key.sign(t, standardClaims("bob", "read"))

	c := newClient(t, func(c *Config) { c.RequiredScopes = []string{"read"} }, key)
	if rec := serve(t, Middleware(c)(echoSubject), "GET", apiURL, bearer(readOnly)); rec.Code != 200 {
		t.Fatalf("has scope: %d %s", rec.Code, rec.Body)
	}
	c = newClient(t, func(c *Config) { c.RequiredScopes = []string{"read", "admin"}; c.DPoP = DPoPDisabled }, key)
	rec := serve(t, Middleware(c)(echoSubject), "GET", apiURL, bearer(readOnly))
	want := `Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="admin"`
	if www := rec.Header().Values("WWW-Authenticate"); rec.Code != 403 || len(www) != 1 || !strings.HasPrefix(www[0], `Bearer realm="api", error="insufficient_scope"`) ||
		!strings.HasSuffix(www[0], `scope="admin"`) {
		t.Fatalf("missing scope: %d %q (like %q)", rec.Code, www, want)
	}
	// A scope array is the core's to read (one of the shapes the bindings used to disagree on).
	arr := standardClaims("bob", "")
	arr["scope"] = []string{"read", "admin"}
	if rec := serve(t, Middleware(c)(echoSubject), "GET", apiURL, bearer(key.sign(t, arr))); rec.Code != 200 {
		t.Fatalf("scope array: %d %q", rec.Code, rec.Header().Values("WWW-Authenticate"))
	}

	c = newClient(t, func(c *Config) { c.AllowedClaimValues = map[string][]string{"client_id": {"web", "mobile"}} }, key)
	r := httptest.NewRequest("GET", apiURL, nil)
	r.Header = bearer(readOnly) // client_id "svc"
	d, err := c.Authenticate(r)
	if err != nil || d.Allowed || d.Code != CodeClaimNotAllowed || d.Status != 403 || d.Error != "insufficient_scope" ||
		!errors.Is(d.Err(), ErrClaimNotAllowed) {
		t.Fatalf("claim value: %+v %v", d, err)
	}
	c = newClient(t, func(c *Config) { c.AllowedClaimValues = map[string][]string{"client_id": {"web", "svc"}} }, key)
	if d, err := c.Authenticate(r); err != nil || !d.Allowed || d.TokenType != "Bearer" || d.Claims.Subject() != "bob" {
		t.Fatalf("allowed claim value: %+v %v", d, err)
	}
}

// ---- DPoP from the Go side: a proof made with Go's crypto ------------------------------------

type dpopKey struct {
	priv *ecdsa.PrivateKey
	jwk  map[string]any
	jkt  string
}

func newDPoPKey(t *testing.T) *dpopKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x, y := b64(priv.X.FillBytes(make([]byte, 32))), b64(priv.Y.FillBytes(make([]byte, 32)))
	// RFC 7638: the required members in lexicographic order, no whitespace.
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return &dpopKey{priv: priv, jwk: map[string]any{"kty": "EC", "crv": "P-256", "x": x, "y": y}, jkt: b64(sum[:])}
}

var proofSeq atomic.Int64

// proof makes a DPoP proof for method and url bound to token (ath), with nonce when not "".
func (k *dpopKey) proof(t *testing.T, method, url, token, nonce string, iat time.Time) string {
	t.Helper()
	h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk})
	ath := sha256.Sum256([]byte(token))
	claims := map[string]any{"jti": fmt.Sprintf("go-proof-%d-%d", time.Now().UnixNano(), proofSeq.Add(1)),
		"htm": method, "htu": url, "iat": iat.Unix(), "ath": b64(ath[:])}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	c, _ := json.Marshal(claims)
	input := b64(h) + "." + b64(c)
	d := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...))
}

func dpopHeader(tok, proof string) http.Header {
	return http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {proof}}
}

func TestMiddlewareDPoP(t *testing.T) {
	key := newTestKey(t, "RS256")
	c := newClient(t, nil, key)
	h := Middleware(c)(echoSubject)
	pk := newDPoPKey(t)
	bound := standardClaims("carol", "read")
	bound["cnf"] = map[string]any{"jkt": pk.jkt}
	tok := key.sign(t, bound)

	p := pk.proof(t, "POST", "https://api.go.test/items", tok, "", time.Now())
	rec := serve(t, h, "POST", apiURL, dpopHeader(tok, p)) // htu is compared without the query
	if rec.Code != 200 || rec.Body.String() != "hello carol DPoP read" {
		t.Fatalf("DPoP: %d %q %q", rec.Code, rec.Body, rec.Header().Values("WWW-Authenticate"))
	}
	deny := func(name string, hd http.Header, method, target string, code Code) {
		t.Helper()
		rec := serve(t, h, method, target, hd)
		r := httptest.NewRequest(method, target, nil)
		r.Header = hd
		d, err := c.Authenticate(r)
		if err != nil || d.Code != code || rec.Code != d.Status || rec.Code != 401 ||
			!slices.Equal(rec.Header().Values("WWW-Authenticate"), d.Challenges) {
			t.Fatalf("%s: %d %q; decision %+v %v; want %s", name, rec.Code, rec.Header().Values("WWW-Authenticate"), d, err, code)
		}
	}
	deny("replayed proof", dpopHeader(tok, p), "POST", apiURL, CodeDPoPReplay)
	deny("other method", dpopHeader(tok, pk.proof(t, "GET", "https://api.go.test/items", tok, "", time.Now())), "POST", apiURL, CodeDPoPProofMismatch)
	deny("other URL", dpopHeader(tok, pk.proof(t, "POST", "https://elsewhere.go.test/items", tok, "", time.Now())), "POST", apiURL, CodeDPoPProofMismatch)
	deny("stale proof", dpopHeader(tok, pk.proof(t, "POST", "https://api.go.test/items", tok, "", time.Now().Add(-time.Hour))), "POST", apiURL, CodeDPoPProofStale)
	deny("bound token as Bearer", bearer(tok), "POST", apiURL, CodeTokenBindingMismatch)
	other := newDPoPKey(t)
	deny("proof from another key", dpopHeader(tok, other.proof(t, "POST", "https://api.go.test/items", tok, "", time.Now())), "POST", apiURL, CodeTokenBindingMismatch)
	deny("no proof", http.Header{"Authorization": {"DPoP " + tok}}, "POST", apiURL, CodeDPoPProofInvalid)
	p2 := pk.proof(t, "POST", "https://api.go.test/items", tok, "", time.Now())
	deny("two DPoP lines", http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {p2, p2}}, "POST", apiURL, CodeDPoPProofInvalid)

	// Behind a TLS-terminating proxy the request arrives over http: the proof names https.
	plain := "http://10.0.0.7:8080/items"
	p3 := pk.proof(t, "GET", "https://api.go.test/items", tok, "", time.Now())
	if rec := serve(t, h, "GET", plain, dpopHeader(tok, p3)); rec.Code != 401 {
		t.Fatalf("proxy without WithOrigin: %d", rec.Code)
	}
	if rec := serve(t, Middleware(c, WithOrigin("https://api.go.test"))(echoSubject), "GET", plain, dpopHeader(tok, p3)); rec.Code != 200 {
		t.Fatalf("WithOrigin: %d %q", rec.Code, rec.Header().Values("WWW-Authenticate"))
	}
}

// Server nonces: the first proof is denied use_dpop_nonce with a DPoP-Nonce header; the retry
// carrying it is allowed.
func TestMiddlewareDPoPNonce(t *testing.T) {
	key := newTestKey(t, "ES256")
	c := newClient(t, func(c *Config) {
		c.DPoP = DPoPRequired
		c.DPoPNonceSecret = []byte("a nonce secret of 32 bytes......")
		c.DPoPAlgorithms = []string{"ES256"}
	}, key)
	h := Middleware(c)(echoSubject)
	pk := newDPoPKey(t)
	bound := standardClaims("dave", "")
	bound["cnf"] = map[string]any{"jkt": pk.jkt}
	tok := key.sign(t, bound)

	rec := serve(t, h, "GET", apiURL, dpopHeader(tok, pk.proof(t, "GET", apiURL, tok, "", time.Now())))
	nonce := rec.Header().Get("DPoP-Nonce")
	www := rec.Header().Values("WWW-Authenticate")
	if rec.Code != 401 || nonce == "" || len(www) != 1 || !strings.HasPrefix(www[0], `DPoP realm="api", error="use_dpop_nonce"`) ||
		!strings.HasSuffix(www[0], `algs="ES256"`) {
		t.Fatalf("no nonce: %d %q %q", rec.Code, nonce, www)
	}
	rec = serve(t, h, "GET", apiURL, dpopHeader(tok, pk.proof(t, "GET", apiURL, tok, nonce, time.Now())))
	if rec.Code != 200 || rec.Body.String() != "hello dave DPoP " {
		t.Fatalf("with nonce: %d %q %q", rec.Code, rec.Body, rec.Header().Values("WWW-Authenticate"))
	}
	// A nonce of the previous period is still accepted, and the allowed answer carries a fresh
	// DPoP-Nonce for the next request (the clock moved by one nonce lifetime: 5 minutes).
	later := time.Now().Add(5 * time.Minute)
	rec = serve(t, middlewareAt(c, later)(echoSubject), "GET", apiURL, dpopHeader(tok, pk.proof(t, "GET", apiURL, tok, nonce, later)))
	if fresh := rec.Header().Get("DPoP-Nonce"); rec.Code != 200 || fresh == "" || fresh == nonce {
		t.Fatalf("previous nonce: %d, DPoP-Nonce %q (was %q)", rec.Code, fresh, nonce)
	}
	// Bearer is not offered: no token at all gets only the DPoP challenge.
	rec = serve(t, h, "GET", apiURL, nil)
	if rec.Code != 401 || !slices.Equal(rec.Header().Values("WWW-Authenticate"), []string{`DPoP realm="api", algs="ES256"`}) {
		t.Fatalf("no token: %d %q", rec.Code, rec.Header().Values("WWW-Authenticate"))
	}
}

func selfSignedCert(t *testing.T, cn string) []byte {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// RFC 8705: the middleware passes r.TLS.PeerCertificates[0].Raw.
func TestMiddlewareMTLS(t *testing.T) {
	key := newTestKey(t, "EdDSA")
	c := newClient(t, func(c *Config) { c.RequireMTLS = true }, key)
	h := Middleware(c)(echoSubject)
	cert := selfSignedCert(t, "client")
	sum := sha256.Sum256(cert)
	bound := standardClaims("erin", "")
	bound["cnf"] = map[string]any{"x5t#S256": b64(sum[:])}
	tok := key.sign(t, bound)

	send := func(der []byte, tok string) int {
		r := httptest.NewRequest("GET", apiURL, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if der != nil {
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Raw: der}}}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	if code := send(cert, tok); code != 200 {
		t.Fatalf("bound token with its certificate: %d", code)
	}
	if code := send(selfSignedCert(t, "other"), tok); code != 401 {
		t.Fatalf("another certificate: %d", code)
	}
	if code := send(nil, tok); code != 401 {
		t.Fatalf("no certificate: %d", code)
	}
	if code := send(cert, key.sign(t, standardClaims("erin", ""))); code != 401 {
		t.Fatalf("unbound token with RequireMTLS: %d", code)
	}
}

// A shared replay store (Config.DPoPReplayStore) through a cgo.Handle.
type mapStore struct {
	mu   sync.Mutex
	seen map[string]time.Duration
	mode string // "", "replay", "down", "panic"
}

func (s *mapStore) CheckAndRecord(key string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.mode {
	case "down":
		return false, errors.New("redis: connection refused")
	case "panic":
		panic("store bug")
	case "replay":
		return false, nil
	}
	if _, ok := s.seen[key]; ok {
		return false, nil
	}
	s.seen[key] = ttl
	return true, nil
}

func TestReplayStore(t *testing.T) {
	key := newTestKey(t, "RS256")
	store := &mapStore{seen: map[string]time.Duration{}}
	c := newClient(t, func(c *Config) { c.DPoPReplayStore = store; c.DPoPProofWindow = 30 * time.Second }, key)
	pk := newDPoPKey(t)
	bound := standardClaims("frank", "")
	bound["cnf"] = map[string]any{"jkt": pk.jkt}
	tok := key.sign(t, bound)
	decide := func() *Decision {
		t.Helper()
		req := &Request{Authorization: []string{"DPoP " + tok}, DPoP: []string{pk.proof(t, "GET", apiURL, tok, "", time.Now())},
			Method: "GET", URL: apiURL}
		d, err := c.AuthenticateRequest(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := decide(); !d.Allowed || len(store.seen) != 1 {
		t.Fatalf("first use: %+v, store %v", d, store.seen)
	}
	for _, ttl := range store.seen {
		if ttl < time.Second || ttl > 5*time.Minute {
			t.Fatalf("ttl %v", ttl)
		}
	}
	for mode, want := range map[string]Code{"replay": CodeDPoPReplay, "down": CodeReplayStoreUnavailable, "panic": CodeReplayStoreUnavailable} {
		store.mu.Lock()
		store.mode = mode
		store.mu.Unlock()
		d := decide()
		if d.Allowed || d.Code != want || (want == CodeReplayStoreUnavailable) != (d.Status == 503 && len(d.Challenges) == 0) {
			t.Fatalf("store %s: %+v", mode, d)
		}
	}
	if c.store == 0 {
		t.Fatal("no handle kept")
	}
	c.Close()
	if c.store != 0 {
		t.Fatal("the handle outlives Close")
	}
}

func TestRequestFromHTTP(t *testing.T) {
	r := httptest.NewRequest("PATCH", "http://10.0.0.7:8080/v1/items/7?q=a%20b", nil)
	r.Header["Authorization"] = []string{"DPoP a", "Bearer b"}
	r.Header.Set("DPoP", "proof")
	r.Header.Set("X-Forwarded-Proto", "https, http")
	r.Header.Set("X-Forwarded-Host", "api.go.test")
	got := RequestFromHTTP(r)
	if got.Method != "PATCH" || got.URL != "http://10.0.0.7:8080/v1/items/7?q=a%20b" || !slices.Equal(got.Authorization, []string{"DPoP a", "Bearer b"}) ||
		!slices.Equal(got.DPoP, []string{"proof"}) || got.ClientCert != nil || !got.Now.IsZero() {
		t.Fatalf("%+v", got)
	}
	if u := RequestFromHTTP(r, TrustForwardedHeaders()).URL; u != "https://api.go.test/v1/items/7?q=a%20b" {
		t.Fatal(u)
	}
	if u := RequestFromHTTP(r, WithOrigin("https://public.go.test/"), TrustForwardedHeaders()).URL; u != "https://public.go.test/v1/items/7?q=a%20b" {
		t.Fatal(u)
	}
	r = httptest.NewRequest("GET", "https://api.go.test/x", nil) // r.TLS set
	r.TLS.PeerCertificates = []*x509.Certificate{{Raw: []byte{1, 2, 3}}}
	if got := RequestFromHTTP(r); got.URL != "https://api.go.test/x" || !slices.Equal(got.ClientCert, []byte{1, 2, 3}) {
		t.Fatalf("%+v", got)
	}
}

// No decision: a misdescribed request is an *Error; a closed client ErrClosed, answered 500.
func TestMiddlewareNoDecision(t *testing.T) {
	key := newTestKey(t, "EdDSA")
	c := newClient(t, nil, key)
	for _, req := range []*Request{{URL: apiURL}, {Method: "GET", URL: "/items"}, {Method: "GET", URL: "ftp://x/y"}} {
		d, err := c.AuthenticateRequest(t.Context(), req)
		if d != nil || !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%+v: %+v %v", req, d, err)
		}
	}
	var seenD *Decision
	var seenErr error
	h := Middleware(c, WithErrorHandler(func(w http.ResponseWriter, r *http.Request, d *Decision, err error) {
		seenD, seenErr = d, err
		w.WriteHeader(599)
		io.WriteString(w, "custom")
	}))(echoSubject)
	rec := serve(t, h, "GET", apiURL, nil)
	if rec.Code != 599 || seenD == nil || seenD.Code != CodeTokenMissing || seenErr != nil {
		t.Fatalf("custom handler, no token: %d %+v %v", rec.Code, seenD, seenErr)
	}
	c.Close()
	rec = serve(t, h, "GET", apiURL, bearer(key.sign(t, standardClaims("alice", ""))))
	if rec.Code != 599 || rec.Body.String() != "custom" || seenD != nil || seenErr != ErrClosed {
		t.Fatalf("closed: %d %q %v", rec.Code, rec.Body, seenErr)
	}
	if rec := serve(t, Middleware(c)(echoSubject), "GET", apiURL, nil); rec.Code != 500 || len(rec.Header().Values("WWW-Authenticate")) != 0 {
		t.Fatalf("closed, default handler: %d %q", rec.Code, rec.Header())
	}
}

// Keys that cannot be fetched are the server's problem: 503 without a challenge.
func TestMiddleware503(t *testing.T) {
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer jwks.Close()
	c, err := NewClient(Config{Issuer: testIssuer, Audiences: []string{"api://go"}, JWKSURI: jwks.URL + "/jwks",
		AllowHTTPLoopback: true, Timeout: 2 * time.Second, Realm: "api"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := newTestKey(t, "RS256")
	rec := serve(t, Middleware(c)(echoSubject), "GET", apiURL, bearer(key.sign(t, standardClaims("alice", ""))))
	if rec.Code != 503 || len(rec.Header().Values("WWW-Authenticate")) != 0 {
		t.Fatalf("JWKS down: %d %q", rec.Code, rec.Header())
	}
}

func TestResourceConfigErrors(t *testing.T) {
	key := newTestKey(t, "RS256")
	for name, mod := range map[string]func(*Config){
		"empty claim list":          func(c *Config) { c.AllowedClaimValues = map[string][]string{"acr": {}} },
		"lifetime without a secret": func(c *Config) { c.DPoPNonceLifetime = time.Minute },
		"short secret":              func(c *Config) { c.DPoPNonceSecret = []byte("short") },
		"window too long":           func(c *Config) { c.DPoPProofWindow = 2 * time.Hour },
		"DPoP mode":                 func(c *Config) { c.DPoP = 7 },
		"DPoP HMAC":                 func(c *Config) { c.DPoPAlgorithms = []string{"HS256"} },
		"token cache too large":     func(c *Config) { c.TokenCacheSize = 1<<20 + 1 },
		"empty scope":               func(c *Config) { c.RequiredScopes = []string{""} },
	} {
		cfg := Config{Issuer: testIssuer, Audiences: []string{"api://go"}, JWKSJSON: jwksOf(key)}
		mod(&cfg)
		c, err := NewClient(cfg)
		var oe *Error
		if err == nil || !errors.As(err, &oe) || oe.Message == "" {
			c.Close()
			t.Errorf("%s: %v", name, err)
		}
	}
	// TokenCacheOff and the largest cache are accepted.
	for _, n := range []int{TokenCacheOff, 1 << 20} {
		c, err := NewClient(Config{Issuer: testIssuer, Audiences: []string{"api://go"}, JWKSJSON: jwksOf(key), TokenCacheSize: n})
		if err != nil {
			t.Fatalf("TokenCacheSize %d: %v", n, err)
		}
		c.Close()
	}
}

// Many goroutines through one middleware and one client (run with -race).
func TestMiddlewareConcurrent(t *testing.T) {
	key := newTestKey(t, "ES256")
	c := newClient(t, nil, key)
	h := Middleware(c)(echoSubject)
	toks := []string{key.sign(t, standardClaims("a", "")), key.sign(t, standardClaims("b", "")), "garbage"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				tok := toks[(g+i)%len(toks)]
				rec := serve(t, h, "GET", apiURL, bearer(tok))
				if (tok == "garbage") != (rec.Code == 401) {
					t.Errorf("%s: %d", tok, rec.Code)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// ES256 and EdDSA tokens signed by Go's crypto validate too.
func TestGoSignedAlgorithms(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		key := newTestKey(t, alg)
		c := staticClient(t, "", key)
		claims, err := c.Validate(t.Context(), key.sign(t, standardClaims("alg-"+alg, "")))
		if err != nil || claims.Subject() != "alg-"+alg {
			t.Fatalf("%s: %v", alg, err)
		}
	}
}
