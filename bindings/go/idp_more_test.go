package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

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
func TestIdPPrivateKeyJWT(t *testing.T) { bothSends(t, testIdPPrivateKeyJWT) }

func testIdPPrivateKeyJWT(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	keyPEM, k := ecPEM(t)
	pub := (&testKey{alg: "ES256", kid: "go-pkjwt", priv: k}).jwk()
	reg, err := registrar(t, s).Register(ctx, map[string]any{
		"grant_types": []string{"client_credentials"}, "response_types": []string{}, "redirect_uris": []string{},
		"token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_signing_alg": "ES256",
		"jwks": map[string]any{"keys": []any{pub}}})
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
	tok, err := oc.ClientCredentials(ctx, WithScope("read"), WithResource("urn:liboidc:rs256"))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("private_key_jwt: %v", err)
	}
	if _, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, ClientID: "x", PrivateKeyPEM: []byte("not a key")}); err == nil {
		t.Fatal("a bad private key was accepted")
	}
}

// The remaining protocol calls: plumbing checks against the IdP and a loopback resource.
func TestIdPOtherGrantsAndHelpers(t *testing.T) { bothSends(t, testIdPOtherGrantsAndHelpers) }

func testIdPOtherGrantsAndHelpers(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	oc := idpClient(t, s, "svc-basic", "svc-basic-secret", "")
	if u, err := oc.Endpoint(ctx, "token_endpoint"); err != nil || u != s.Issuer+"/token" {
		t.Fatalf("endpoint: %q %v", u, err)
	}
	tok, err := oc.CustomGrant(ctx, "client_credentials", WithResource("urn:liboidc:rs256"), WithScope("read"))
	if err != nil || strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("custom grant: %v", err)
	}
	// Grants this client is not registered for still come back as coded errors.
	var oe *Error
	if _, err := oc.TokenExchange(ctx, tok.AccessToken, WithAudience("x")); !errors.As(err, &oe) {
		t.Fatalf("token exchange: %v", err)
	}
	if _, err := oc.JWTBearer(ctx, With(ParamAssertion, "a.b.c")); !errors.As(err, &oe) {
		t.Fatalf("jwt bearer: %v", err)
	}
	if _, err := oc.CIBARequest(ctx, WithScope("openid"), With(ParamLoginHint, "user-1")); !errors.As(err, &oe) {
		t.Fatalf("CIBA: %v", err)
	}

	// ResourceRequest: Bearer to a loopback resource; any status is a response.
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "%s %s %s %s", r.Method, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b)
	}))
	defer rs.Close()
	lo, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile, ClientID: "svc-basic",
		ClientSecret: "svc-basic-secret", AllowHTTPLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	resp, err := lo.ResourceRequest(ctx, rs.URL+"/api", "tok-123", With(ParamMethod, "POST"), With(ParamTokenType, "Bearer"),
		With(ParamBody, `{"a":1}`))
	if err != nil || resp.Status != http.StatusTeapot || string(resp.Body) != `POST Bearer tok-123 application/json {"a":1}` ||
		resp.ContentType != "text/plain" {
		t.Fatalf("resource request: %+v %q %v", resp, resp.Body, err)
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

// svc-pkjwt (private_key_jwt with a committed test key): token exchange, JWT bearer with an
// assertion liboidc signs, a custom grant with custom parameters, and CIBA (approved and denied
// through the IdP's admin endpoint).
func TestIdPPrivateKeyJWTGrants(t *testing.T) { bothSends(t, testIdPPrivateKeyJWTGrants) }

func testIdPPrivateKeyJWTGrants(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	key, err := os.ReadFile(filepath.Join(repoRoot, "tests/idp/client-keys/ec.pem"))
	if err != nil {
		t.Fatal(err)
	}
	oc, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile, ClientID: "svc-pkjwt", AuthMethod: "private_key_jwt",
		PrivateKeyPEM: key, PrivateKeyID: "client-ec", PrivateKeyAlg: "ES256", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	at, err := oc.ClientCredentials(ctx, WithScope("read"), WithResource("urn:liboidc:opaque"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := oc.TokenExchange(ctx, at.AccessToken, With(ParamSubjectTokenType, "urn:ietf:params:oauth:token-type:access_token"))
	if err != nil || x.AccessToken == "" || x.IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" {
		t.Fatalf("token exchange: %v %v", x, err)
	}
	if _, err := oc.TokenExchange(ctx, "not-issued-here"); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("token exchange of an unknown token: %v", err)
	}
	jb, err := oc.JWTBearer(ctx, With(ParamSubject, "user-1"))
	if err != nil || jb.AccessToken == "" {
		t.Fatalf("jwt bearer: %v %v", jb, err)
	}
	echo, err := oc.CustomGrant(ctx, "urn:liboidc:grant-type:echo", WithParam("color", "blue"), WithParam("size", "L"))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Echo struct{ Color, Size string } `json:"echo"`
	}
	if json.Unmarshal(echo.Raw, &body) != nil || body.Echo.Color != "blue" || body.Echo.Size != "L" {
		t.Fatalf("echo grant: %s", echo.Raw)
	}

	cr, err := oc.CIBARequest(ctx, WithScope("openid"), With(ParamLoginHint, "user-1"), With(ParamBindingMessage, "W4SCT"))
	if err != nil || cr.AuthReqID == "" || cr.ExpiresIn <= 0 {
		t.Fatalf("CIBA request: %v %v", cr, err)
	}
	defer cr.Close()
	s.admin(t, "POST", "/ciba/approve?auth_req_id="+url.QueryEscape(cr.AuthReqID))
	tok, err := oc.PollCIBA(ctx, cr)
	if err != nil || tok.AccessToken == "" || tok.IDToken == "" {
		t.Fatalf("CIBA poll: %v %v", tok, err)
	}
	denied, err := oc.CIBARequest(ctx, WithScope("openid"), With(ParamLoginHint, "user-2"))
	if err != nil {
		t.Fatal(err)
	}
	defer denied.Close()
	s.admin(t, "POST", "/ciba/approve?deny=1&auth_req_id="+url.QueryEscape(denied.AuthReqID))
	if _, err := oc.PollCIBA(ctx, denied); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("denied CIBA: %v", err)
	}
}
