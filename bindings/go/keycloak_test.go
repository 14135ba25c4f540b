package oidc

// Interop with a real Keycloak through the Go binding. Runs only when KEYCLOAK_ISSUER is set:
// tests/keycloak/go-test.sh starts (or waits for) Keycloak, makes the realm with
// tests/keycloak/kc.py setup and exports its variables (KEYCLOAK_ISSUER, KEYCLOAK_CA_FILE,
// KEYCLOAK_SECRET_<CLIENT>, KEYCLOAK_API_AUDIENCE, KEYCLOAK_REDIRECT_URI,
// KEYCLOAK_POST_LOGOUT_URI, KEYCLOAK_TOOL for the scripted browser and key rotation).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type keycloakEnv struct {
	issuer, ca, tool, audience, redirect, postLogout, jarDir string
}

func keycloak(t *testing.T) keycloakEnv {
	t.Helper()
	k := keycloakEnv{issuer: os.Getenv("KEYCLOAK_ISSUER"), ca: os.Getenv("KEYCLOAK_CA_FILE"), tool: os.Getenv("KEYCLOAK_TOOL"),
		audience: os.Getenv("KEYCLOAK_API_AUDIENCE"), redirect: os.Getenv("KEYCLOAK_REDIRECT_URI"),
		postLogout: os.Getenv("KEYCLOAK_POST_LOGOUT_URI")}
	if k.issuer == "" {
		t.Skip("KEYCLOAK_ISSUER is not set (tests/keycloak/go-test.sh runs these tests against a real Keycloak)")
	}
	if k.ca == "" || k.tool == "" || k.audience == "" || k.redirect == "" || k.postLogout == "" {
		t.Fatal("KEYCLOAK_CA_FILE, KEYCLOAK_TOOL, KEYCLOAK_API_AUDIENCE, KEYCLOAK_REDIRECT_URI, KEYCLOAK_POST_LOGOUT_URI must be set")
	}
	k.jarDir = t.TempDir()
	return k
}

// kc runs tests/keycloak/kc.py with a browser session (cookie jar) of its own; its output.
func (k keycloakEnv) kc(t *testing.T, jar string, args ...string) string {
	t.Helper()
	cmd := exec.Command("python3", append([]string{k.tool}, args...)...)
	cmd.Env = os.Environ()
	if jar != "" {
		cmd.Env = append(cmd.Env, "KEYCLOAK_JAR="+filepath.Join(k.jarDir, jar+".jar"))
	}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kc.py %s: %v: %s", args[0], err, ee.Stderr)
		}
		t.Fatalf("kc.py %s: %v", args[0], err)
	}
	return strings.TrimSpace(string(out))
}

func (k keycloakEnv) client(t *testing.T, id string, dpop bool) *OAuthClient {
	t.Helper()
	secret := os.Getenv("KEYCLOAK_SECRET_" + strings.ToUpper(strings.ReplaceAll(id, "-", "_")))
	if secret == "" {
		t.Fatalf("no secret for %s", id)
	}
	cfg := OAuthConfig{Issuer: k.issuer, ClientID: id, ClientSecret: secret, CAFile: k.ca, Timeout: 30 * time.Second}
	if dpop {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		cfg.DPoPKey = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	c, err := NewOAuthClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (k keycloakEnv) validator(t *testing.T, algs []string, typ string) *Client {
	t.Helper()
	v, err := NewClient(Config{Issuer: k.issuer, Audiences: []string{k.audience}, CAFile: k.ca, Algorithms: algs, ExpectedTyp: typ})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// joseHeader decodes a compact JWS's header.
func joseHeader(t *testing.T, jws string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.SplitN(jws, ".", 2)[0])
	var h map[string]any
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	if err != nil {
		t.Fatalf("JOSE header: %v", err)
	}
	return h
}

// login runs the code flow (optionally through PAR) with the scripted login; the tokens and the
// ID token's subject.
func (k keycloakEnv) login(t *testing.T, ctx context.Context, c *OAuthClient, jar string, par bool) (*Token, string) {
	t.Helper()
	var authURL, state, nonce, verifier string
	if par {
		p, err := c.PushAuthorizationRequest(ctx, With(ParamRedirectURI, k.redirect), WithScope("openid", "email"))
		if err != nil {
			t.Fatal(err)
		}
		u, err := c.AuthorizationURL(ctx, With(ParamRequestURI, p.RequestURI))
		if err != nil {
			t.Fatal(err)
		}
		authURL, state, nonce, verifier = u.URL, p.State, p.Nonce, p.CodeVerifier
	} else {
		u, err := c.AuthorizationURL(ctx, With(ParamRedirectURI, k.redirect), WithScope("openid", "email"))
		if err != nil {
			t.Fatal(err)
		}
		authURL, state, nonce, verifier = u.URL, u.State, u.Nonce, u.CodeVerifier
	}
	cb := k.kc(t, jar, "login", authURL)
	resp, err := c.ParseAuthorizationResponse(ctx, cb, state)
	if err != nil {
		t.Fatalf("%s: %v", cb, err)
	}
	if resp.Issuer != k.issuer {
		t.Fatalf("iss %q", resp.Issuer)
	}
	tok, err := c.ExchangeCode(ctx, resp.Code, With(ParamRedirectURI, k.redirect), With(ParamCodeVerifier, verifier), With(ParamNonce, nonce))
	if err != nil {
		t.Fatal(err)
	}
	claims, err := c.ValidateIDToken(ctx, tok.IDToken, With(ParamNonce, nonce), With(ParamAccessToken, tok.AccessToken))
	if err != nil || claims.Subject() == "" {
		t.Fatalf("ID token: %v", err)
	}
	return tok, claims.Subject()
}

// Every signing algorithm of the realm: access and ID tokens validated; Keycloak's typ JWT.
func TestKeycloakAlgorithms(t *testing.T) {
	k := keycloak(t)
	ctx := context.Background()
	for alg, id := range map[string]string{"RS256": "svc-rs256", "PS256": "svc-ps256", "ES256": "svc-es256", "ES512": "svc-es512", "EdDSA": "svc-eddsa"} {
		t.Run(alg, func(t *testing.T) {
			c := k.client(t, id, false)
			tok, err := c.ClientCredentials(ctx, WithScope("openid"))
			if err != nil {
				t.Fatal(err)
			}
			if h := joseHeader(t, tok.AccessToken); h["alg"] != alg || h["typ"] != "JWT" {
				t.Fatalf("header %v", h)
			}
			claims, err := k.validator(t, []string{alg}, "").Validate(ctx, tok.AccessToken)
			if err != nil || claims.String("azp") != id {
				t.Fatalf("validate: %v", err)
			}
			if _, err := k.validator(t, []string{alg}, "at+jwt").Validate(ctx, tok.AccessToken); !errors.Is(err, ErrTypeMismatch) {
				t.Fatalf("expected typ at+jwt: %v", err)
			}
			other := "RS256"
			if alg == "RS256" {
				other = "ES256"
			}
			if _, err := k.validator(t, []string{other}, "").Validate(ctx, tok.AccessToken); !errors.Is(err, ErrAlgorithmNotAllowed) {
				t.Fatalf("allow-list without %s: %v", alg, err)
			}
			if h := joseHeader(t, tok.IDToken); h["alg"] != alg {
				t.Fatalf("ID token header %v", h)
			}
			if idc, err := c.ValidateIDToken(ctx, tok.IDToken, With(ParamAccessToken, tok.AccessToken)); err != nil || idc.Audience()[0] != id {
				t.Fatalf("ID token: %v", err)
			}
		})
	}
}

// Key rotation: the new key is followed, the passive one still accepted, the removed one refused.
func TestKeycloakKeyRotation(t *testing.T) {
	k := keycloak(t)
	ctx := context.Background()
	c := k.client(t, "svc-rs256", false)
	v := k.validator(t, []string{"RS256"}, "")
	get := func() string {
		tok, err := c.ClientCredentials(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	t1 := get()
	if _, err := v.Validate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	k2 := k.kc(t, "", "rotate", "RS256")
	t2 := get()
	if joseHeader(t, t2)["kid"] != k2 {
		t.Fatalf("not signed with the new key %s", k2)
	}
	for _, tok := range []string{t2, t1} {
		if _, err := v.Validate(ctx, tok); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}
	k.kc(t, "", "drop-passive", "RS256")
	k3 := k.kc(t, "", "rotate", "RS256")
	t3 := get()
	if joseHeader(t, t3)["kid"] != k3 {
		t.Fatalf("not signed with %s", k3)
	}
	if _, err := v.Validate(ctx, t3); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	if _, err := v.Validate(ctx, t1); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("removed key: %v", err)
	}
}

// Client credentials; a wrong secret is Keycloak's 401 unauthorized_client.
func TestKeycloakClientCredentials(t *testing.T) { bothSends(t, testKeycloakClientCredentials) }

func testKeycloakClientCredentials(t *testing.T, ctx context.Context) {
	k := keycloak(t)
	c := k.client(t, "svc", false)
	a, err := c.ClientCredentialsCached(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.ClientCredentialsCached(ctx)
	if err != nil || a.AccessToken != b.AccessToken {
		t.Fatalf("cached: %v", err)
	}
	if h := joseHeader(t, a.AccessToken); h["typ"] != "at+jwt" { // access.token.header.type.rfc9068
		t.Fatalf("header %v", h)
	}
	if _, err := k.validator(t, nil, "at+jwt").Validate(ctx, a.AccessToken); err != nil {
		t.Fatal(err)
	}
	bad, err := NewOAuthClient(OAuthConfig{Issuer: k.issuer, ClientID: "svc", ClientSecret: "wrong-secret-4711", CAFile: k.ca})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.ClientCredentials(ctx); !errors.Is(err, ErrUnauthorizedClient) || strings.Contains(err.Error(), "wrong-secret-4711") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// Code + PKCE, refresh, userinfo, introspection, token exchange, revocation.
func TestKeycloakCodeFlow(t *testing.T) { bothSends(t, testKeycloakCodeFlow) }

func testKeycloakCodeFlow(t *testing.T, ctx context.Context) {
	k := keycloak(t)
	web, svc := k.client(t, "web", false), k.client(t, "svc", false)
	tok, sub := k.login(t, ctx, web, "code", false)
	v := k.validator(t, nil, "")
	if _, err := v.Validate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	r, err := web.Refresh(ctx, tok.RefreshToken)
	if err != nil || r.AccessToken == tok.AccessToken || r.IDToken == "" {
		t.Fatalf("refresh: %v", err)
	}
	ui, err := web.UserInfo(ctx, r.AccessToken, With(ParamExpectedSub, sub))
	if err != nil || ui.String("email") != "alice@example.test" {
		t.Fatalf("userinfo: %v", err)
	}
	in, err := svc.Introspect(ctx, r.AccessToken, With(ParamTokenTypeHint, "access_token"))
	if err != nil || !in.Active || in.ClientID != "web" {
		t.Fatalf("introspection: %v %v", in, err)
	}
	x, err := svc.TokenExchange(ctx, r.AccessToken, With(ParamSubjectTokenType, "urn:ietf:params:oauth:token-type:access_token"))
	if err != nil || x.IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" {
		t.Fatalf("token exchange: %v", err)
	}
	if xc, err := v.Validate(ctx, x.AccessToken); err != nil || xc.String("azp") != "svc" || xc.Subject() != sub {
		t.Fatalf("exchanged token: %v", err)
	}
	if err := web.Revoke(ctx, r.RefreshToken, With(ParamTokenTypeHint, "refresh_token")); err != nil {
		t.Fatal(err)
	}
	if _, err := web.Refresh(ctx, r.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("revoked refresh token: %v", err)
	}
}

// A login with ES512-signed (P-521) access and ID tokens: the client web-es512 (issue 14).
func TestKeycloakES512Login(t *testing.T) { bothSends(t, testKeycloakES512Login) }

func testKeycloakES512Login(t *testing.T, ctx context.Context) {
	k := keycloak(t)
	c := k.client(t, "web-es512", false)
	tok, sub := k.login(t, ctx, c, "es512", false) // the ID token validated (code exchange, ValidateIDToken)
	if h := joseHeader(t, tok.IDToken); h["alg"] != "ES512" {
		t.Fatalf("ID token header %v", h)
	}
	if h := joseHeader(t, tok.AccessToken); h["alg"] != "ES512" {
		t.Fatalf("access token header %v", h)
	}
	claims, err := k.validator(t, []string{"ES256", "ES384", "ES512"}, "").Validate(ctx, tok.AccessToken)
	if err != nil || claims.Subject() != sub || claims.String("azp") != "web-es512" {
		t.Fatalf("access token: %v", err)
	}
	if _, err := k.validator(t, []string{"ES256", "ES384"}, "").Validate(ctx, tok.AccessToken); !errors.Is(err, ErrAlgorithmNotAllowed) {
		t.Fatalf("allow-list without ES512: %v", err)
	}
	r, err := c.Refresh(ctx, tok.RefreshToken)
	if err != nil || r.IDToken == "" || joseHeader(t, r.IDToken)["alg"] != "ES512" {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := c.ValidateIDToken(ctx, r.IDToken, With(ParamAccessToken, r.AccessToken)); err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
}

func TestKeycloakPAR(t *testing.T) {
	k := keycloak(t)
	k.login(t, context.Background(), k.client(t, "web", false), "par", true)
}

// DPoP-bound tokens: cnf.jkt, userinfo with the DPoP scheme.
func TestKeycloakDPoP(t *testing.T) {
	k := keycloak(t)
	ctx := context.Background()
	c := k.client(t, "dpop-app", true)
	tok, sub := k.login(t, ctx, c, "dpop", false)
	if tok.TokenType != "DPoP" {
		t.Fatalf("token type %q", tok.TokenType)
	}
	claims, err := k.validator(t, nil, "").Validate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if cnf, _ := claims.Get("cnf"); cnf == nil {
		t.Fatalf("no cnf: %s", claims.Raw())
	}
	if ui, err := c.UserInfo(ctx, tok.AccessToken, With(ParamExpectedSub, sub)); err != nil || ui.Subject() != sub {
		t.Fatalf("userinfo (DPoP): %v", err)
	}
	if _, err := c.UserInfo(ctx, tok.AccessToken, With(ParamTokenType, "Bearer")); err == nil {
		t.Fatal("a DPoP-bound token sent as Bearer was accepted")
	}
}

// The device flow on a PKCE-enforcing client: Keycloak wants PKCE on the device request.
func TestKeycloakDeviceFlow(t *testing.T) {
	k := keycloak(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := k.client(t, "web", false)
	if _, err := c.DeviceAuthorization(ctx, WithScope("openid")); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("without PKCE: %v", err)
	}
	pk, err := c.AuthorizationURL(ctx, With(ParamRedirectURI, k.redirect)) // a PKCE pair made by liboidc
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DeviceAuthorization(ctx, WithScope("openid"), WithParam("code_challenge", pk.CodeChallenge),
		WithParam("code_challenge_method", "S256"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	done := make(chan string, 1)
	go func() {
		time.Sleep(2 * time.Second)
		cmd := exec.Command("python3", k.tool, "device", d.UserCode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			done <- err.Error() + ": " + string(out)
			return
		}
		done <- strings.TrimSpace(string(out))
	}()
	tok, err := c.PollDevice(ctx, d, WithParam("code_verifier", pk.CodeVerifier))
	if approval := <-done; approval != "approved" {
		t.Fatalf("approval: %s", approval)
	}
	if err != nil || tok.IDToken == "" {
		t.Fatalf("device poll: %v", err)
	}
}

// RP-initiated logout: the end_session URL followed; the session's tokens are dead afterwards.
func TestKeycloakLogout(t *testing.T) {
	k := keycloak(t)
	ctx := context.Background()
	web, svc := k.client(t, "web", false), k.client(t, "svc", false)
	tok, _ := k.login(t, ctx, web, "logout", false)
	u, err := web.EndSessionURL(ctx, With(ParamIDTokenHint, tok.IDToken), With(ParamPostLogoutRedirectURI, k.postLogout), With(ParamState, "bye"))
	if err != nil {
		t.Fatal(err)
	}
	if end := k.kc(t, "logout", "logout", u); !strings.HasPrefix(end, k.postLogout) || !strings.Contains(end, "state=bye") {
		t.Fatalf("logout ended at %s", end)
	}
	if _, err := web.Refresh(ctx, tok.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("refresh after logout: %v", err)
	}
	if in, err := svc.Introspect(ctx, tok.AccessToken); err != nil || in.Active {
		t.Fatalf("introspection after logout: %v %v", in, err)
	}
}
