package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestIdPDPoP: a DPoP-bound access token from the real IdP (oidc-provider binds tokens
// requested with a DPoP proof), with proofs made by the binding's own OAuthClient, through
// Middleware on a Client that found the IdP by discovery: a fresh proof is allowed as DPoP; the
// same proof replayed, a proof for another method or URL, the token sent as Bearer, and a proof
// from another key are each denied with their code, and the answer carries the core's
// challenges as separate header lines.
func TestIdPDPoP(t *testing.T) {
	s := sharedIdP(t)
	ctx := context.Background()
	const resource, api = "urn:liboidc:es256", "https://api.go-idp.test/v1/items?page=2"
	newDPoPClient := func() *OAuthClient {
		keyPEM, _ := ecPEM(t)
		oc, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile, ClientID: "svc-basic",
			ClientSecret: "svc-basic-secret", DPoPKey: keyPEM})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { oc.Close() })
		return oc
	}
	oc := newDPoPClient()
	// The IdP demands nonces for token requests: the client retries with the one it got.
	tok, err := oc.ClientCredentials(ctx, WithScope("read"), WithResource(resource))
	if err != nil || tok.TokenType != "DPoP" {
		t.Fatalf("DPoP token: %+v %v", tok, err)
	}
	at := tok.AccessToken

	rs, err := NewClient(Config{Issuer: s.Issuer, Audiences: []string{resource}, ExpectedTyp: "at+jwt", CAFile: s.CAFile,
		RequiredScopes: []string{"read"}, Realm: "api", Prefetch: PrefetchFailFast})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	h := Middleware(rs)(echoSubject)
	send := func(method, auth, proof string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, api, nil)
		r.Header.Set("Authorization", auth)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	proof := func(c *OAuthClient, method, url string) string {
		p, err := c.DPoPProof(ctx, method, url, at)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	decide := func(method, auth, p string) *Decision {
		r := httptest.NewRequest(method, api, nil)
		r.Header.Set("Authorization", auth)
		if p != "" {
			r.Header.Set("DPoP", p)
		}
		d, err := rs.Authenticate(r)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	fresh := proof(oc, "GET", api)
	rec := send("GET", "DPoP "+at, fresh)
	if rec.Code != 200 || rec.Body.String() != "hello svc-basic DPoP read" {
		t.Fatalf("fresh proof: %d %q %q", rec.Code, rec.Body, rec.Header().Values("WWW-Authenticate"))
	}
	rec = send("GET", "DPoP "+at, fresh)
	www := rec.Header().Values("WWW-Authenticate")
	if rec.Code != 401 || len(www) != 2 || www[0] != `Bearer realm="api"` ||
		!strings.HasPrefix(www[1], `DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof was already used"`) {
		t.Fatalf("replayed proof: %d %q", rec.Code, www)
	}
	for _, tc := range []struct {
		name          string
		method, auth  string
		proof         string
		code          Code
		errorOnScheme string
	}{
		{"another method", "POST", "DPoP " + at, proof(oc, "GET", api), CodeDPoPProofMismatch, "DPoP"},
		{"another URL", "GET", "DPoP " + at, proof(oc, "GET", "https://other.go-idp.test/v1/items"), CodeDPoPProofMismatch, "DPoP"},
		{"token as Bearer", "GET", "Bearer " + at, "", CodeTokenBindingMismatch, "Bearer"},
		{"proof from another key", "GET", "DPoP " + at, proof(newDPoPClient(), "GET", api), CodeTokenBindingMismatch, "DPoP"},
	} {
		d := decide(tc.method, tc.auth, tc.proof)
		if d.Allowed || d.Code != tc.code || d.Status != 401 || len(d.Challenges) != 2 {
			t.Fatalf("%s: %+v", tc.name, d)
		}
		withError := slices.IndexFunc(d.Challenges, func(c string) bool { return strings.Contains(c, "error=") })
		if withError < 0 || !strings.HasPrefix(d.Challenges[withError], tc.errorOnScheme+" ") {
			t.Fatalf("%s: the error is not on the %s challenge: %q", tc.name, tc.errorOnScheme, d.Challenges)
		}
	}
	// A plain bearer token of the same IdP is still fine as Bearer.
	bearer, err := fetchToken(s, "svc-basic", "svc-basic-secret", resource, "read")
	if err != nil {
		t.Fatal(err)
	}
	if rec := send("GET", "Bearer "+bearer, ""); rec.Code != http.StatusOK || rec.Body.String() != "hello svc-basic Bearer read" {
		t.Fatalf("bearer: %d %q", rec.Code, rec.Body)
	}
}
