package oidc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ---- the shared multi-issuer and policy vectors (issue 12) ----------------------------------

type vectorCase struct {
	Name   string `json:"name"`
	Token  string `json:"token"`
	Code   int    `json:"code"`
	Expect string `json:"expect"`
}

// multiVectorFile is tests/vectors/multi_issuer.json, read strictly: a member this test does not
// know (a new per-issuer setting, say) fails it instead of being ignored.
type multiVectorFile struct {
	Description string `json:"description"`
	Config      struct {
		Audiences      []string `json:"audiences"`
		LeewaySecs     int      `json:"leeway_secs"`
		MaxTokenBytes  int      `json:"max_token_bytes"`
		RequiredClaims []string `json:"required_claims"`
	} `json:"config"`
	Issuers []struct {
		Issuer     string          `json:"issuer"`
		Algorithms string          `json:"algorithms"`
		Audiences  []string        `json:"audiences"`
		JWKS       json.RawMessage `json:"jwks"`
		Tenants    []string        `json:"tenants"`
	} `json:"issuers"`
	Now   int64        `json:"now"`
	Cases []vectorCase `json:"cases"`
}

func readStrict(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "tests/vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func loadMultiVectors(t testing.TB) *multiVectorFile {
	t.Helper()
	var v multiVectorFile
	readStrict(t, "multi_issuer.json", &v)
	if len(v.Issuers) < 2 || len(v.Cases) < 10 {
		t.Fatalf("only %d issuers, %d cases", len(v.Issuers), len(v.Cases))
	}
	return &v
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// config is the file's description in Go terms: the validator-level config and one
// IssuerConfig per entry of issuers.
func (v *multiVectorFile) config() Config {
	cfg := Config{
		Audiences:      v.Config.Audiences,
		Leeway:         time.Duration(v.Config.LeewaySecs) * time.Second,
		MaxTokenBytes:  v.Config.MaxTokenBytes,
		RequiredClaims: v.Config.RequiredClaims,
	}
	for _, i := range v.Issuers {
		cfg.Issuers = append(cfg.Issuers, IssuerConfig{
			Issuer:     i.Issuer,
			Algorithms: splitList(i.Algorithms),
			Audiences:  i.Audiences,
			JWKSJSON:   i.JWKS,
			Tenants:    i.Tenants,
		})
	}
	return cfg
}

func newTestClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// codeOf is the result code of a Validate: 0 for success, the *Error's code otherwise.
func codeOf(t testing.TB, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var oe *Error
	if !errors.As(err, &oe) {
		t.Fatalf("not an *Error: %v", err)
	}
	return int(oe.Code)
}

// checkCases validates every case at now and compares the code with the expected one.
func checkCases(t *testing.T, c *Client, now int64, cases []vectorCase) {
	t.Helper()
	ok, bad := 0, 0
	for _, tc := range cases {
		claims, err := c.ValidateAt(context.Background(), tc.Token, time.Unix(now, 0))
		got := codeOf(t, err)
		if got != tc.Code || Code(got).String() != tc.Expect {
			t.Errorf("%s: want %s (%d), got %v", tc.Name, tc.Expect, tc.Code, err)
			continue
		}
		if got == 0 {
			ok++
			if claims.Issuer() != tokenIss(t, tc.Token) || claims.Subject() == "" {
				t.Errorf("%s: claims %s", tc.Name, claims.Raw())
			}
		} else {
			bad++
		}
	}
	if ok == 0 || bad == 0 {
		t.Errorf("the vectors hold %d accepted and %d refused tokens: want both", ok, bad)
	}
}

// tokenIss is the unverified iss of a compact JWS ("" when it has none).
func tokenIss(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var p struct {
		Iss string `json:"iss"`
	}
	_ = json.Unmarshal(b, &p)
	return p.Iss
}

// TestMultiIssuerVectors: tests/vectors/multi_issuer.json through Config.Issuers (the issuer
// builder calls), every case with the expected code.
func TestMultiIssuerVectors(t *testing.T) {
	v := loadMultiVectors(t)
	checkCases(t, newTestClient(t, v.config()), v.Now, v.Cases)
}

// The issuers really are separate: without issuer B, every token of B is an unknown issuer.
func TestMultiIssuerOnlyConfiguredIssuers(t *testing.T) {
	v := loadMultiVectors(t)
	cfg := v.config()
	b := cfg.Issuers[1].Issuer
	cfg.Issuers = cfg.Issuers[:1]
	c := newTestClient(t, cfg)
	n := 0
	for _, tc := range v.Cases {
		if tokenIss(t, tc.Token) != b {
			continue
		}
		n++
		if _, err := c.ValidateAt(context.Background(), tc.Token, time.Unix(v.Now, 0)); !errors.Is(err, ErrIssuerMismatch) {
			t.Errorf("%s without issuer B: %v", tc.Name, err)
		}
	}
	if n == 0 {
		t.Fatal("no token of issuer B")
	}
}

type policyVectors struct {
	Description string `json:"description"`
	Equivalents []struct {
		Vectors string          `json:"vectors"`
		Policy  json.RawMessage `json:"policy"`
	} `json:"equivalents"`
	Malformed []struct {
		Name     string `json:"name"`
		Document string `json:"document"`
		Path     string `json:"path"`
	} `json:"malformed"`
}

// casesOf reads the cases and `now` of a vector file named by policy.json.
func casesOf(t *testing.T, name string) (int64, []vectorCase) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "tests/vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Now   int64        `json:"now"`
		Cases []vectorCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 || v.Now == 0 {
		t.Fatalf("%s: no cases", name)
	}
	return v.Now, v.Cases
}

// TestPolicyVectors: each policy document of tests/vectors/policy.json (as text, and from a
// file) decides every case of its vector file; its export, reloaded, decides the same and
// exports the same text.
func TestPolicyVectors(t *testing.T) {
	var pv policyVectors
	readStrict(t, "policy.json", &pv)
	if len(pv.Equivalents) < 2 {
		t.Fatalf("only %d equivalents", len(pv.Equivalents))
	}
	for _, eq := range pv.Equivalents {
		t.Run(eq.Vectors, func(t *testing.T) {
			now, cases := casesOf(t, eq.Vectors)
			text := newTestClient(t, Config{Policy: eq.Policy})
			checkCases(t, text, now, cases)

			path := filepath.Join(t.TempDir(), "policy.json")
			if err := os.WriteFile(path, eq.Policy, 0o600); err != nil {
				t.Fatal(err)
			}
			file := newTestClient(t, Config{PolicyFile: path})
			checkCases(t, file, now, cases)

			exported, err := text.Policy()
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(exported) {
				t.Fatalf("export is not JSON: %s", exported)
			}
			if fromFile, err := file.Policy(); err != nil || !bytes.Equal(fromFile, exported) {
				t.Fatalf("the file's client exports another document (%v):\n%s\n%s", err, fromFile, exported)
			}
			again := newTestClient(t, Config{Policy: exported})
			checkCases(t, again, now, cases)
			reexported, err := again.Policy()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(reexported, exported) {
				t.Fatalf("the reloaded export differs:\n%s\n%s", reexported, exported)
			}
		})
	}
}

// TestPolicyVectorsMatchBuilderCalls: multi_issuer.json's policy document and the Go
// configuration its description gives (Config.Issuers) are one configuration: same export.
func TestPolicyVectorsMatchBuilderCalls(t *testing.T) {
	var pv policyVectors
	readStrict(t, "policy.json", &pv)
	v := loadMultiVectors(t)
	for _, eq := range pv.Equivalents {
		if eq.Vectors != "multi_issuer.json" {
			continue
		}
		fromDoc, err := newTestClient(t, Config{Policy: eq.Policy}).Policy()
		if err != nil {
			t.Fatal(err)
		}
		fromCalls, err := newTestClient(t, v.config()).Policy()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fromDoc, fromCalls) {
			t.Fatalf("the document and Config.Issuers export differently:\n%s\n%s", fromDoc, fromCalls)
		}
		return
	}
	t.Fatal("policy.json has no equivalent of multi_issuer.json")
}

// TestPolicyMalformed: every malformed document of policy.json fails NewClient (at its load,
// as text and from a file) with CodeInvalidConfig and a message naming its JSON path. (NewClient
// stops at the failed load, so there is no separate build to fail in Go.)
func TestPolicyMalformed(t *testing.T) {
	var pv policyVectors
	readStrict(t, "policy.json", &pv)
	if len(pv.Malformed) < 5 {
		t.Fatalf("only %d malformed documents", len(pv.Malformed))
	}
	dir := t.TempDir()
	for i, m := range pv.Malformed {
		t.Run(m.Name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("m%d.json", i))
			if err := os.WriteFile(path, []byte(m.Document), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, cfg := range []Config{{Policy: []byte(m.Document)}, {PolicyFile: path}} {
				c, err := NewClient(cfg)
				var oe *Error
				if c != nil || !errors.As(err, &oe) {
					t.Fatalf("want an *Error, got %v, %v", c, err)
				}
				if oe.Code != CodeInvalidConfig || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(oe.Message, m.Path+":") {
					t.Fatalf("want INVALID_CONFIG naming %q, got %s: %s", m.Path+":", oe.Name, oe.Message)
				}
			}
		})
	}
}

// A policy document and the other Config fields: the document is loaded first, a set field
// replaces its value, lists add to it.
func TestPolicyWithConfigFields(t *testing.T) {
	v := loadMultiVectors(t)
	doc := mustPolicy(t, v.config())
	var okA, bAud vectorCase
	for _, tc := range v.Cases {
		switch tc.Name {
		case "issuer A, A's key":
			okA = tc
		case "issuer A with B's audience":
			bAud = tc
		}
	}
	if okA.Token == "" || bAud.Token == "" {
		t.Fatal("vector names changed")
	}
	now := time.Unix(v.Now, 0)
	ctx := context.Background()
	// Leeway -1 (none) and MaxTokenBytes override the document; an added audience adds to it.
	var b IssuerConfig
	b.Issuer = "https://c.issuers.vectors.test"
	b.JWKSJSON = v.Issuers[0].JWKS
	c := newTestClient(t, Config{Policy: doc, MaxTokenBytes: 64, Audiences: []string{"api://b"}, Realm: "multi",
		Issuers: []IssuerConfig{b}})
	if _, err := c.ValidateAt(ctx, okA.Token, now); !errors.Is(err, ErrTokenTooLarge) {
		t.Fatalf("MaxTokenBytes over the document: %v", err)
	}
	exp := decodePolicy(t, c)
	if exp["max_token_bytes"] != float64(64) || exp["realm"] != "multi" || c.Realm() != "multi" {
		t.Fatalf("export: %v, realm %q", exp, c.Realm())
	}
	if aud := fmt.Sprint(exp["audiences"]); aud != "[api://vectors api://b]" {
		t.Fatalf("audiences %s", aud)
	}
	if n := len(exp["issuers"].([]any)); n != len(v.Issuers)+1 {
		t.Fatalf("%d issuers exported", n)
	}
	c = newTestClient(t, Config{Policy: doc, Audiences: []string{"api://b"}})
	if _, err := c.ValidateAt(ctx, bAud.Token, now); err != nil {
		t.Fatalf("an added validator audience: %v", err)
	}
	// The realm comes from the document when Config.Realm is not set.
	c = newTestClient(t, Config{Policy: []byte(`{"version":1,"realm":"from-doc","audiences":["api"]}`), Issuers: mustIssuers(v)})
	if c.Realm() != "from-doc" {
		t.Fatalf("realm %q", c.Realm())
	}
}

func mustIssuers(v *multiVectorFile) []IssuerConfig { return v.config().Issuers }

func mustPolicy(t *testing.T, cfg Config) []byte {
	t.Helper()
	doc, err := newTestClient(t, cfg).Policy()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func decodePolicy(t *testing.T, c *Client) map[string]any {
	t.Helper()
	doc, err := c.Policy()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every IssuerConfig field reaches liboidc: the built validator's export holds each value.
func TestIssuerConfigFields(t *testing.T) {
	v := loadMultiVectors(t)
	c := newTestClient(t, Config{Audiences: []string{"api"}, Issuers: []IssuerConfig{
		{Issuer: "https://a.example", JWKSURI: "https://a.example/jwks", Audiences: []string{"api-a", "api-a2"},
			Algorithms: []string{"ES256", "PS256"}, ExpectedTyp: "at+jwt", RequiredClaims: []string{"sub", "scp"}},
		{Issuer: "https://login.example/{tenant}/v2.0", Tenants: []string{"t1", "t-2"}, TenantClaim: "tenant",
			TenantBounds: &TenantBounds{MaxTenants: 7, NewPerWindow: 3, Window: 2 * time.Minute, MaxInFlight: 2}},
		{Issuer: "https://any.example/{tenant}", AnyTenant: true, AnyAudience: true, TenantBounds: &TenantBounds{MaxTenants: 9}},
		{Issuer: "https://static.example", JWKSJSON: v.Issuers[0].JWKS},
	}})
	exp := decodePolicy(t, c)
	is := exp["issuers"].([]any)
	if len(is) != 4 {
		t.Fatalf("issuers: %v", is)
	}
	// (liboidc writes an algorithm list in its own order: PS256 before ES256.)
	get := func(i int, k string) string { return fmt.Sprint(is[i].(map[string]any)[k]) }
	for _, w := range []struct {
		i       int
		k, want string
	}{
		{0, "issuer", "https://a.example"}, {0, "jwks_uri", "https://a.example/jwks"},
		{0, "audiences", "[api-a api-a2]"}, {0, "algorithms", "[PS256 ES256]"}, {0, "typ", "at+jwt"},
		{0, "required_claims", "[sub scp]"}, {0, "any_audience", "false"},
		{1, "tenants", "[t1 t-2]"}, {1, "tenant_claim", "tenant"},
		{1, "tenant_bounds", "map[max_in_flight:2 max_tenants:7 new_per_window:3 window_secs:120]"},
		{2, "tenants", "any"}, {2, "any_audience", "true"},
		{2, "tenant_bounds", "map[max_in_flight:4 max_tenants:9 new_per_window:10 window_secs:60]"},
	} {
		if got := get(w.i, w.k); got != w.want {
			t.Errorf("issuers[%d].%s = %s, want %s", w.i, w.k, got, w.want)
		}
	}
	if !strings.Contains(get(3, "jwks"), "a-rs256") {
		t.Errorf("issuers[3].jwks = %s", get(3, "jwks"))
	}
}

// ---- explain ---------------------------------------------------------------------------------

type explanationDoc struct {
	Decision string `json:"decision"`
	Code     string `json:"code"`
	Issuer   struct {
		Iss    string `json:"iss"`
		Chosen string `json:"chosen"`
		Index  *int   `json:"index"`
	} `json:"issuer"`
	Checks []struct {
		Check   string `json:"check"`
		Outcome string `json:"outcome"`
	} `json:"checks"`
	Token *explanationDoc `json:"token"`
}

func decodeExplanation(t *testing.T, x *Explanation, token string) explanationDoc {
	t.Helper()
	var d explanationDoc
	if err := x.Decode(&d); err != nil {
		t.Fatalf("%v: %s", err, x)
	}
	if !json.Valid(x.Raw()) || x.String() != string(x.Raw()) {
		t.Fatal("Raw / String")
	}
	if m, err := json.Marshal(map[string]any{"x": x}); err != nil || !bytes.Contains(m, x.Raw()) {
		t.Fatalf("MarshalJSON: %v", err)
	}
	if x.Allowed() != (d.Decision == "allow") || (d.Decision != "allow" && d.Decision != "deny") {
		t.Fatalf("decision %q, Allowed %v", d.Decision, x.Allowed())
	}
	if len(d.Checks) == 0 {
		t.Fatalf("no checks: %s", x)
	}
	// No token text: neither the token nor any of its segments.
	for _, s := range append([]string{token}, strings.Split(token, ".")...) {
		if len(s) > 8 && strings.Contains(x.String(), s) {
			t.Fatalf("the explanation holds token text %q: %s", s, x)
		}
	}
	return d
}

// kindOf is a result code's name as the explanation's "code" spells it (TOKEN_EXPIRED ->
// tokenexpired, TokenExpired -> tokenexpired).
func kindOf(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// TestExplainMultiIssuer: an accepted and a refused token of multi_issuer.json are explained as
// JSON with decision allow / deny, the chosen issuer named, and no token text; every case's
// explanation agrees with Validate.
func TestExplainMultiIssuer(t *testing.T) {
	v := loadMultiVectors(t)
	c := newTestClient(t, v.config())
	now := time.Unix(v.Now, 0)
	ctx := context.Background()
	index := map[string]int{}
	for i, is := range v.Issuers {
		index[is.Issuer] = i
	}
	var allowB, denyA bool
	for _, tc := range v.Cases {
		x, err := c.ExplainAt(ctx, tc.Token, now)
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		d := decodeExplanation(t, x, tc.Token)
		if x.Allowed() != (tc.Code == 0) {
			t.Errorf("%s: explanation %s, Validate %s", tc.Name, d.Decision, tc.Expect)
			continue
		}
		if tc.Code != 0 && kindOf(d.Code) != kindOf(tc.Expect) {
			t.Errorf("%s: explanation code %s, Validate %s", tc.Name, d.Code, tc.Expect)
		}
		iss := tokenIss(t, tc.Token)
		i, configured := index[iss]
		if !configured {
			if d.Issuer.Chosen != "none" {
				t.Errorf("%s: an unknown issuer chosen: %s", tc.Name, x)
			}
			continue
		}
		if d.Issuer.Chosen != "exact" || d.Issuer.Iss != iss || d.Issuer.Index == nil || *d.Issuer.Index != i {
			t.Errorf("%s: issuer %+v, want %s (index %d): %s", tc.Name, d.Issuer, iss, i, x)
		}
		allowB = allowB || (tc.Code == 0 && i == 1)
		denyA = denyA || (tc.Code != 0 && i == 0)
	}
	if !allowB || !denyA {
		t.Fatalf("want an accepted token of issuer B and a refused one of issuer A among the cases (%v %v)", allowB, denyA)
	}
	// Explain (now) of the same token: the vectors' tokens are not valid today.
	x, err := c.Explain(ctx, v.Cases[0].Token)
	if err != nil || x.Allowed() {
		t.Fatalf("Explain now: %v %v", x, err)
	}
}

// TestExplainRequest: a request with an accepted and one with a refused token of
// multi_issuer.json; the token's own explanation is nested; no token text.
func TestExplainRequest(t *testing.T) {
	v := loadMultiVectors(t)
	c := newTestClient(t, v.config())
	ctx := context.Background()
	n := 0
	for _, tc := range v.Cases {
		if tc.Name != "issuer B, B's key" && tc.Name != "iss B signed with A's key" {
			continue
		}
		n++
		req := &Request{Authorization: []string{"Bearer " + tc.Token}, Method: "GET", URL: "https://api.example/x",
			Now: time.Unix(v.Now, 0)}
		x, err := c.ExplainRequest(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		d := decodeExplanation(t, x, tc.Token)
		if x.Allowed() != (tc.Code == 0) || d.Token == nil || (d.Token.Decision == "allow") != (tc.Code == 0) {
			t.Fatalf("%s: %s", tc.Name, x)
		}
		if d.Token.Issuer.Iss != tokenIss(t, tc.Token) || d.Token.Issuer.Chosen != "exact" {
			t.Fatalf("%s: nested issuer %+v", tc.Name, d.Token.Issuer)
		}
		dec, err := c.AuthenticateRequest(ctx, req)
		if err != nil || dec.Allowed != x.Allowed() {
			t.Fatalf("%s: AuthenticateRequest %+v %v", tc.Name, dec, err)
		}
	}
	if n != 2 {
		t.Fatalf("vector names changed (%d found)", n)
	}
	// From an *http.Request (real time: the vectors' tokens are not valid today, so deny).
	r := httptest.NewRequest("GET", "https://api.example/x", nil)
	r.Header.Set("Authorization", "Bearer "+v.Cases[0].Token)
	x, err := c.ExplainHTTPRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if d := decodeExplanation(t, x, v.Cases[0].Token); x.Allowed() || d.Token == nil {
		t.Fatalf("ExplainHTTPRequest: %s", x)
	}
	// No credentials at all: a denial, explained.
	x, err = c.ExplainRequest(ctx, &Request{Method: "GET", URL: "https://api.example/x"})
	if err != nil || x.Allowed() {
		t.Fatalf("no credentials: %v %v", x, err)
	}
}

// ---- misuse ------------------------------------------------------------------------------

func wantError(t *testing.T, what string, err error, codes ...Code) *Error {
	t.Helper()
	var oe *Error
	if !errors.As(err, &oe) {
		t.Fatalf("%s: want an *Error, got %v", what, err)
	}
	if oe.Message == "" || oe.Code == CodeOK {
		t.Fatalf("%s: %+v", what, oe)
	}
	t.Logf("%s: %s: %s", what, oe.Name, oe.Message)
	for _, c := range codes {
		if oe.Code == c {
			return oe
		}
	}
	if len(codes) > 0 {
		t.Fatalf("%s: want one of %v, got %s: %s", what, codes, oe.Name, oe.Message)
	}
	return oe
}

// Bad issuer settings, bad policy input and misuse of a client: an *Error (liboidc's code and
// message), ErrClosed or ctx.Err(), never a crash.
func TestMultiIssuerMisuse(t *testing.T) {
	v := loadMultiVectors(t)
	base := v.config()
	build := func(extra ...IssuerConfig) error {
		cfg := base
		cfg.Issuers = append(append([]IssuerConfig(nil), base.Issuers...), extra...)
		c, err := NewClient(cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	tmpl := "https://login.example/{tenant}/v2.0"
	for name, tc := range map[string]struct {
		ic    IssuerConfig
		codes []Code
	}{
		"empty issuer":                 {IssuerConfig{}, []Code{CodeInvalidConfig}},
		"invalid UTF-8 issuer":         {IssuerConfig{Issuer: "https://a.example/\xff"}, []Code{CodeInvalidUTF8}},
		"invalid UTF-8 audience":       {IssuerConfig{Issuer: "https://d.example", Audiences: []string{"\xfe"}}, []Code{CodeInvalidUTF8}},
		"invalid UTF-8 tenant":         {IssuerConfig{Issuer: tmpl, Tenants: []string{"t\xff"}}, []Code{CodeInvalidUTF8}},
		"http issuer":                  {IssuerConfig{Issuer: "http://d.example"}, []Code{CodeInsecureURL}},
		"HMAC algorithm":               {IssuerConfig{Issuer: "https://d.example", Algorithms: []string{"HS256"}}, []Code{CodeUnsupportedAlgorithm}},
		"bad static JWKS":              {IssuerConfig{Issuer: "https://d.example", JWKSJSON: []byte(`{"keys":"no"}`)}, []Code{CodeJWKSInvalid}},
		"a configured issuer again":    {IssuerConfig{Issuer: base.Issuers[0].Issuer, JWKSJSON: base.Issuers[0].JWKSJSON}, []Code{CodeInvalidConfig}},
		"template without tenants":     {IssuerConfig{Issuer: tmpl}, []Code{CodeInvalidConfig}},
		"tenants and any tenant":       {IssuerConfig{Issuer: tmpl, Tenants: []string{"t1"}, AnyTenant: true}, []Code{CodeInvalidConfig}},
		"malformed tenant":             {IssuerConfig{Issuer: tmpl, Tenants: []string{"no/slash"}}, []Code{CodeInvalidConfig}},
		"empty tenant":                 {IssuerConfig{Issuer: tmpl, Tenants: []string{""}}, []Code{CodeInvalidConfig}},
		"static JWKS for a template":   {IssuerConfig{Issuer: tmpl, AnyTenant: true, JWKSJSON: base.Issuers[0].JWKSJSON}, []Code{CodeInvalidConfig}},
		"tenants for an exact issuer":  {IssuerConfig{Issuer: "https://d.example", Tenants: []string{"t1"}}, []Code{CodeInvalidConfig}},
		"negative tenant bound":        {IssuerConfig{Issuer: tmpl, AnyTenant: true, TenantBounds: &TenantBounds{MaxTenants: -1}}, []Code{CodeInvalidConfig}},
		"negative tenant window":       {IssuerConfig{Issuer: tmpl, AnyTenant: true, TenantBounds: &TenantBounds{Window: -time.Second}}, []Code{CodeInvalidConfig}},
		"negative new tenants":         {IssuerConfig{Issuer: tmpl, AnyTenant: true, TenantBounds: &TenantBounds{NewPerWindow: -1}}, []Code{CodeInvalidConfig}},
		"negative tenants in flight":   {IssuerConfig{Issuer: tmpl, AnyTenant: true, TenantBounds: &TenantBounds{MaxInFlight: -5}}, []Code{CodeInvalidConfig}},
		"too many tenants kept":        {IssuerConfig{Issuer: tmpl, AnyTenant: true, TenantBounds: &TenantBounds{MaxTenants: 1 << 40}}, []Code{CodeInvalidConfig}},
		"empty tenant claim (default)": {IssuerConfig{Issuer: tmpl, AnyTenant: true, TenantClaim: ""}, nil},
	} {
		err := build(tc.ic)
		if tc.codes == nil {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		t.Run(name, func(t *testing.T) { wantError(t, name, err, tc.codes...) })
	}
	// At most 64 issuers.
	many := make([]IssuerConfig, 64)
	for i := range many {
		many[i] = IssuerConfig{Issuer: fmt.Sprintf("https://i%d.example", i)}
	}
	wantError(t, "65 or more issuers", build(many...), CodeInvalidConfig)
	if err := build(many[:64-len(base.Issuers)]...); err != nil {
		t.Fatalf("64 issuers: %v", err)
	}
	// No issuer at all.
	_, err := NewClient(Config{Audiences: []string{"api"}})
	wantError(t, "no issuer", err, CodeInvalidConfig)

	// Policy input.
	_, err = NewClient(Config{Policy: []byte("{\"version\":1,\"issuer\":\"https://a.example/\xff\"}")})
	wantError(t, "invalid UTF-8 document", err, CodeInvalidUTF8)
	_, err = NewClient(Config{Policy: []byte{}})
	wantError(t, "empty document", err, CodeInvalidConfig)
	_, err = NewClient(Config{PolicyFile: filepath.Join(t.TempDir(), "missing.json")})
	wantError(t, "missing policy file", err, CodeInvalidConfig)
	_, err = NewClient(Config{PolicyFile: "/tmp/\xff.json"})
	wantError(t, "invalid UTF-8 path", err, CodeInvalidUTF8)
	_, err = NewClient(Config{PolicyFile: t.TempDir()})
	wantError(t, "a directory as policy file", err, CodeInvalidConfig)

	// One IssuerConfig value builds any number of clients (NewClient consumes only its own C
	// issuer builders), and changing it later does not change a built client.
	issuers := v.config().Issuers
	c1 := newTestClient(t, Config{Audiences: base.Audiences, Issuers: issuers})
	c2 := newTestClient(t, Config{Audiences: base.Audiences, Issuers: issuers})
	p1, _ := c1.Policy()
	issuers[0].Issuer = "https://changed.example"
	issuers[0].Audiences = append(issuers[0].Audiences, "changed")
	p2, _ := c2.Policy()
	if p1 == nil || !bytes.Equal(p1, p2) || bytes.Contains(p2, []byte("changed")) {
		t.Fatalf("exports differ:\n%s\n%s", p1, p2)
	}

	// Explain input: invalid UTF-8 and empty tokens are explained as denials (liboidc's
	// decision), a request without method or with a relative URL is a misuse, a nil request too.
	c := newTestClient(t, v.config())
	ctx := context.Background()
	for _, tok := range []string{"\xff\xfe.\x00.", "", strings.Repeat("a", 20000)} {
		x, err := c.Explain(ctx, tok)
		if err != nil || x.Allowed() {
			t.Fatalf("explain %q: %v %v", tok[:min(len(tok), 8)], x, err)
		}
		var d explanationDoc
		if x.Decode(&d) != nil || d.Code == "" {
			t.Fatalf("explain %q: %s", tok[:min(len(tok), 8)], x)
		}
	}
	_, err = c.ExplainRequest(ctx, &Request{URL: "https://api.example/x"})
	wantError(t, "no method", err, CodeInvalidArgument)
	_, err = c.ExplainRequest(ctx, &Request{Method: "GET", URL: "/x"})
	wantError(t, "relative URL", err, CodeInvalidArgument)
	_, err = c.ExplainRequest(ctx, &Request{Method: "GET\xff", URL: "https://api.example/x"})
	wantError(t, "invalid UTF-8 method", err, CodeInvalidUTF8)
	_, err = c.ExplainRequest(ctx, nil)
	wantError(t, "nil request", err, CodeNullParameter)

	// An ended context, a closed client, a nil client.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Explain(done, v.Cases[0].Token); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended ctx: %v", err)
	}
	if _, err := c.ExplainRequest(done, &Request{Method: "GET", URL: "https://api.example/x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended ctx: %v", err)
	}
	closed, err := NewClient(v.config())
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := closed.Explain(ctx, v.Cases[0].Token); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed Explain: %v", err)
	}
	if _, err := closed.ExplainRequest(ctx, &Request{Method: "GET", URL: "https://api.example/x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed ExplainRequest: %v", err)
	}
	if _, err := closed.Policy(); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed Policy: %v", err)
	}
	var nilClient *Client
	_, err = nilClient.Policy()
	wantError(t, "nil client Policy", err, CodeNullParameter)
	_, err = nilClient.Explain(ctx, "x")
	wantError(t, "nil client Explain", err, CodeNullParameter)
	_, err = nilClient.ExplainRequest(ctx, &Request{Method: "GET", URL: "https://api.example/x"})
	wantError(t, "nil client ExplainRequest", err, CodeNullParameter)
}
