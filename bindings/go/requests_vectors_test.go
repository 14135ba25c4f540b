package oidc

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The shared request vectors (tests/vectors/requests.json), in the format every language's
// runner reads. Null members of a client mean "do not set".
type requestVectors struct {
	Description string                         `json:"description"`
	Now         int64                          `json:"now"`
	JWKS        json.RawMessage                `json:"jwks"`
	Clients     map[string]requestVectorClient `json:"clients"`
	Cases       []requestVectorCase            `json:"cases"`
}

type requestVectorClient struct {
	Issuer                string              `json:"issuer"`
	Audiences             []string            `json:"audiences"`
	ExpectedTyp           *string             `json:"expected_typ"`
	Algorithms            *string             `json:"algorithms"`
	LeewaySecs            *int                `json:"leeway_secs"`
	MaxTokenBytes         *int                `json:"max_token_bytes"`
	Realm                 *string             `json:"realm"`
	RequiredScopes        []string            `json:"required_scopes"`
	ClaimValues           map[string][]string `json:"claim_values"`
	DPoPMode              *string             `json:"dpop_mode"`
	DPoPAlgorithms        *string             `json:"dpop_algorithms"`
	DPoPProofWindowSecs   *int                `json:"dpop_proof_window_secs"`
	DPoPNonceSecretHex    *string             `json:"dpop_nonce_secret_hex"`
	DPoPNonceLifetimeSecs *int                `json:"dpop_nonce_lifetime_secs"`
	RequireMTLS           *bool               `json:"require_mtls"`
	TokenCacheSize        *int                `json:"token_cache_size"`
}

type requestVectorCase struct {
	Name    string `json:"name"`
	Client  string `json:"client"`
	Request struct {
		Authorization []string `json:"authorization"`
		DPoP          []string `json:"dpop"`
		Method        string   `json:"method"`
		URL           string   `json:"url"`
		ClientCertB64 *string  `json:"client_cert_b64"`
	} `json:"request"`
	Expect struct {
		Allowed    bool     `json:"allowed"`
		Code       int      `json:"code"`
		CodeName   string   `json:"code_name"`
		Status     int      `json:"status"`
		Error      *string  `json:"error"`
		Challenges []string `json:"challenges"`
		DPoPNonce  *string  `json:"dpop_nonce"`
		TokenType  *string  `json:"token_type"`
		Sub        *string  `json:"sub"`
	} `json:"expect"`
}

// config is the vector client in Go terms (through Config only, as an application would).
func (vc *requestVectorClient) config(jwks []byte) (Config, error) {
	cfg := Config{Issuer: vc.Issuer, Audiences: vc.Audiences, JWKSJSON: jwks, RequiredScopes: vc.RequiredScopes,
		AllowedClaimValues: vc.ClaimValues}
	if vc.ExpectedTyp != nil {
		cfg.ExpectedTyp = *vc.ExpectedTyp
	}
	if vc.Algorithms != nil {
		cfg.Algorithms = strings.Split(*vc.Algorithms, ",")
	}
	if vc.LeewaySecs != nil {
		cfg.Leeway = time.Duration(*vc.LeewaySecs) * time.Second
		if *vc.LeewaySecs == 0 {
			cfg.Leeway = -1 // Config's "no leeway" (0 means the default)
		}
	}
	if vc.MaxTokenBytes != nil {
		cfg.MaxTokenBytes = *vc.MaxTokenBytes
	}
	if vc.Realm != nil {
		cfg.Realm = *vc.Realm
	}
	if vc.DPoPMode != nil {
		switch *vc.DPoPMode {
		case "allowed":
			cfg.DPoP = DPoPAllowed
		case "required":
			cfg.DPoP = DPoPRequired
		case "disabled":
			cfg.DPoP = DPoPDisabled
		default:
			return cfg, fmt.Errorf("dpop_mode %q", *vc.DPoPMode)
		}
	}
	if vc.DPoPAlgorithms != nil {
		cfg.DPoPAlgorithms = strings.Split(*vc.DPoPAlgorithms, ",")
	}
	if vc.DPoPProofWindowSecs != nil {
		cfg.DPoPProofWindow = time.Duration(*vc.DPoPProofWindowSecs) * time.Second
	}
	if vc.DPoPNonceSecretHex != nil {
		s, err := hex.DecodeString(*vc.DPoPNonceSecretHex)
		if err != nil {
			return cfg, err
		}
		cfg.DPoPNonceSecret = s
	}
	if vc.DPoPNonceLifetimeSecs != nil {
		cfg.DPoPNonceLifetime = time.Duration(*vc.DPoPNonceLifetimeSecs) * time.Second
	}
	if vc.RequireMTLS != nil {
		cfg.RequireMTLS = *vc.RequireMTLS
	}
	if vc.TokenCacheSize != nil {
		cfg.TokenCacheSize = *vc.TokenCacheSize
		if *vc.TokenCacheSize == 0 {
			cfg.TokenCacheSize = TokenCacheOff
		}
	}
	return cfg, nil
}

func loadRequestVectors(t *testing.T) *requestVectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "tests/vectors/requests.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v requestVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 || len(v.Clients) == 0 {
		t.Fatalf("requests.json: %d clients, %d cases", len(v.Clients), len(v.Cases))
	}
	return &v
}

// requestVectorsRan: the file runs at most once per process (the DPoP replay cache is
// process-wide, and a case replaying an earlier case's proof expects DPOP_REPLAY).
var requestVectorsRan atomic.Bool

// TestRequestVectors decides every shared request vector through AuthenticateRequest, in file
// order, and compares every member of "expect": decision, code, status, error, the exact
// challenges in order, nonce, token type and sub. Each case whose second run cannot differ (no
// proof is consumed: denials and Bearer requests) also goes through Middleware, built from an
// http.Request as a server sees it, which must answer with the same status and header lines.
func TestRequestVectors(t *testing.T) {
	if !requestVectorsRan.CompareAndSwap(false, true) {
		t.Skip("the request vectors run once per process (go test -count=1): the DPoP replay cache is process-wide")
	}
	v := loadRequestVectors(t)
	clients := map[string]*Client{}
	for name, vc := range v.Clients {
		cfg, err := vc.config(v.JWKS)
		if err != nil {
			t.Fatalf("client %s: %v", name, err)
		}
		c, err := NewClient(cfg)
		if err != nil {
			t.Fatalf("client %s: %v", name, err)
		}
		t.Cleanup(func() { c.Close() })
		clients[name] = c
	}
	now := time.Unix(v.Now, 0)
	names := map[string]bool{}
	viaMiddleware := 0
	for _, tc := range v.Cases {
		if names[tc.Name] {
			t.Fatalf("duplicate case name %q", tc.Name)
		}
		names[tc.Name] = true
		c := clients[tc.Client]
		if c == nil {
			t.Fatalf("%s: unknown client %q", tc.Name, tc.Client)
		}
		req := &Request{Authorization: tc.Request.Authorization, DPoP: tc.Request.DPoP, Method: tc.Request.Method,
			URL: tc.Request.URL, Now: now}
		if tc.Request.ClientCertB64 != nil {
			der, err := base64.StdEncoding.DecodeString(*tc.Request.ClientCertB64)
			if err != nil {
				t.Fatalf("%s: client_cert_b64: %v", tc.Name, err)
			}
			req.ClientCert = der
		}
		// Subtests run in order, one after the other (no t.Parallel): file order is kept.
		t.Run(tc.Name, func(t *testing.T) {
			d, err := c.AuthenticateRequest(t.Context(), req)
			if err != nil {
				t.Fatalf("no decision: %v", err)
			}
			checkVectorDecision(t, &tc, d)
			if tc.Expect.Allowed && len(tc.Request.DPoP) > 0 {
				return // its proof is consumed now: a second run would be a replay
			}
			if checkVectorMiddleware(t, c, &tc, req, now) {
				viaMiddleware++
			}
		})
	}
	// Most cases consume no proof; the Middleware pass must not silently shrink to nothing.
	if viaMiddleware < len(v.Cases)/2 {
		t.Errorf("only %d of %d cases went through Middleware", viaMiddleware, len(v.Cases))
	}
	t.Logf("%d cases through AuthenticateRequest, %d of them also through Middleware", len(v.Cases), viaMiddleware)
}

// middlewareAt is Middleware deciding as of now (the vectors' clock) instead of the real clock.
func middlewareAt(c *Client, now time.Time, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	return Middleware(c, append(opts, middlewareFunc(func(m *middleware) { m.now = now }))...)
}

func optString(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func checkVectorDecision(t *testing.T, tc *requestVectorCase, d *Decision) {
	t.Helper()
	e := &tc.Expect
	var fails []string
	check := func(what string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			fails = append(fails, fmt.Sprintf("%s: got %v, want %v", what, got, want))
		}
	}
	check("allowed", d.Allowed, e.Allowed)
	check("code", int(d.Code), e.Code)
	check("code_name", d.Code.String(), e.CodeName)
	check("status", d.Status, e.Status)
	check("error", nullable(d.Error), optString(e.Error))
	check("dpop_nonce", nullable(d.DPoPNonce), optString(e.DPoPNonce))
	check("token_type", nullable(d.TokenType), optString(e.TokenType))
	sub := "<null>"
	if d.Claims != nil {
		sub = d.Claims.Subject()
	}
	check("sub", sub, optString(e.Sub))
	if !slices.Equal(d.Challenges, e.Challenges) && !(len(d.Challenges) == 0 && len(e.Challenges) == 0) {
		fails = append(fails, fmt.Sprintf("challenges:\n   got  %q\n   want %q", d.Challenges, e.Challenges))
	}
	if d.Allowed != (d.Claims != nil) || d.Allowed != (d.Err() == nil) {
		fails = append(fails, fmt.Sprintf("claims/Err inconsistent with allowed: %+v", d))
	}
	if len(fails) > 0 {
		t.Errorf("%s (%s):\n  %s", tc.Name, d.Message, strings.Join(fails, "\n  "))
	}
}

func nullable(s string) string {
	if s == "" {
		return "<null>"
	}
	return s
}

// checkVectorMiddleware sends the case's request through Middleware as net/http delivers it:
// the URL split into r.Host, r.URL and r.TLS, the headers as lines of r.Header.
func checkVectorMiddleware(t *testing.T, c *Client, tc *requestVectorCase, req *Request, now time.Time) bool {
	t.Helper()
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false // a URL no net/http server hands over
	}
	r := httptest.NewRequest(req.Method, req.URL, nil)
	if req.ClientCert != nil {
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Raw: req.ClientCert}}}
	}
	if req.Authorization != nil {
		r.Header["Authorization"] = req.Authorization
	}
	if req.DPoP != nil {
		r.Header["Dpop"] = req.DPoP
	}
	if got := RequestFromHTTP(r).URL; !strings.EqualFold(got, req.URL) {
		t.Logf("middleware URL %q for vector URL %q", got, req.URL)
	}
	var seen *Decision
	h := middlewareAt(c, now)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = DecisionFromContext(r.Context())
		fmt.Fprint(w, "ok")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	e := &tc.Expect
	if rec.Code != e.Status {
		t.Errorf("middleware status %d, want %d", rec.Code, e.Status)
	}
	if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, e.Challenges) && !(len(got) == 0 && len(e.Challenges) == 0) {
		t.Errorf("middleware WWW-Authenticate lines\n   got  %q\n   want %q", got, e.Challenges)
	}
	if got := rec.Header().Get("DPoP-Nonce"); nullable(got) != optString(e.DPoPNonce) {
		t.Errorf("middleware DPoP-Nonce %q, want %s", got, optString(e.DPoPNonce))
	}
	if e.Allowed && (seen == nil || seen.Claims.Subject() != optString(e.Sub) || seen.TokenType != optString(e.TokenType)) {
		t.Errorf("middleware: handler saw %+v", seen)
	}
	return true
}
