package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNewPKCEState(t *testing.T) {
	p, err := NewPKCEState()
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := PKCEChallenge(p.Verifier); c != p.Challenge || p.ChallengeMethod != "S256" || len(p.State) < 16 || len(p.Nonce) < 16 {
		t.Fatalf("%#v", p)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", p, p, p), p.Verifier) {
		t.Fatal("verifier formatted")
	}
}

func ecPEM(t *testing.T) ([]byte, *ecdsa.PrivateKey) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), k
}

// private_key_jwt against the IdP: register a client with a public key, then authenticate
// with the private one.
func TestIdPPrivateKeyJWT(t *testing.T) {
	s := sharedIdP(t)
	ctx := context.Background()
	keyPEM, k := ecPEM(t)
	pub := (&testKey{alg: "ES256", kid: "go-pkjwt", priv: k}).jwk()
	reg, err := RegisterClient(ctx, OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile}, map[string]any{
		"grant_types": []string{"client_credentials"}, "response_types": []string{}, "redirect_uris": []string{},
		"token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_signing_alg": "ES256",
		"jwks": map[string]any{"keys": []any{pub}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile, ClientID: reg.ClientID, AuthMethod: "private_key_jwt",
		PrivateKeyPEM: keyPEM, PrivateKeyID: "go-pkjwt", PrivateKeyAlg: "ES256"}
	if strings.Contains(fmt.Sprintf("%v %#v", cfg, cfg), "PRIVATE KEY") {
		t.Fatal("private key formatted")
	}
	oc, err := NewOAuthClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	tok, err := oc.ClientCredentials(ctx, []string{"read"}, []string{"urn:liboidc:rs256"}, "")
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("private_key_jwt: %v", err)
	}
	if _, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, ClientID: "x", PrivateKeyPEM: []byte("not a key")}); err == nil {
		t.Fatal("a bad private key was accepted")
	}
}

// The remaining protocol calls: plumbing checks against the IdP and a loopback resource.
func TestIdPOtherGrantsAndHelpers(t *testing.T) {
	s := sharedIdP(t)
	ctx := context.Background()
	oc := idpClient(t, s, "svc-basic", "svc-basic-secret", "")
	if u, err := oc.Endpoint(ctx, "token_endpoint"); err != nil || u != s.Issuer+"/token" {
		t.Fatalf("endpoint: %q %v", u, err)
	}
	tok, err := oc.CustomGrant(ctx, "client_credentials", map[string]any{"resource": "urn:liboidc:rs256", "scope": "read"})
	if err != nil || strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("custom grant: %v", err)
	}
	// Grants this IdP does not offer still come back as coded errors.
	var oe *Error
	if _, err := oc.TokenExchange(ctx, tok.AccessToken, "", map[string]any{"audience": "x"}); !errors.As(err, &oe) {
		t.Fatalf("token exchange: %v", err)
	}
	if _, err := oc.JWTBearer(ctx, "a.b.c", "", nil); !errors.As(err, &oe) {
		t.Fatalf("jwt bearer: %v", err)
	}
	if _, err := oc.CIBARequest(ctx, map[string]any{"scope": "openid", "login_hint": "user-1"}); !errors.As(err, &oe) {
		t.Fatalf("CIBA: %v", err)
	}

	// ResourceRequest: Bearer to a loopback resource.
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.Header.Get("Authorization"), b)
	}))
	defer rs.Close()
	lo, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile, ClientID: "svc-basic",
		ClientSecret: "svc-basic-secret", AllowHTTPLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	resp, err := lo.ResourceRequest(ctx, "POST", rs.URL+"/api", "tok-123", "Bearer", []byte(`{"a":1}`), "")
	if err != nil || resp.Status != http.StatusTeapot || string(resp.Body) != `POST Bearer tok-123 {"a":1}` {
		t.Fatalf("resource request: %+v %v", resp, err)
	}

	// DPoP: a client with a DPoP key makes proofs and knows its thumbprint.
	keyPEM, _ := ecPEM(t)
	dc, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile, ClientID: "svc-basic",
		ClientSecret: "svc-basic-secret", DPoPKey: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	jkt, err := dc.DPoPThumbprint()
	if err != nil || len(jkt) != 43 {
		t.Fatalf("jkt %q %v", jkt, err)
	}
	if err := dc.SetDPoPNonce("https://api.example.com/x", "n-1"); err != nil {
		t.Fatal(err)
	}
	proof, err := dc.DPoPProof(ctx, "GET", "https://api.example.com/x", "at-1")
	if err != nil || strings.Count(proof, ".") != 2 {
		t.Fatalf("proof %q %v", proof, err)
	}
	if _, err := oc.DPoPThumbprint(); !errors.As(err, &oe) {
		t.Fatalf("thumbprint without a DPoP key: %v", err)
	}
}
