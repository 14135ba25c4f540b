package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// A browser stand-in for the IdP's login and consent pages (tests/idp/README.md).
type browser struct {
	t  *testing.T
	hc *http.Client
}

func newBrowser(t *testing.T, caFile string) *browser {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// step sends one request and returns the redirect target.
func (b *browser) step(method, u string, form url.Values) string {
	b.t.Helper()
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = b.hc.PostForm(u, form)
	} else {
		resp, err = b.hc.Get(u)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	if loc == "" {
		b.t.Fatalf("%s %s: %d without redirect: %s", method, u, resp.StatusCode, body)
	}
	if l, err := resp.Request.URL.Parse(loc); err == nil {
		loc = l.String()
	}
	return loc
}

// login drives the IdP from the authorization URL to the redirect back to the client.
func (b *browser) login(authURL string) string {
	l := b.step("GET", authURL, nil)
	l = b.step("POST", l, url.Values{"prompt": {"login"}, "login": {"user-1"}, "password": {"any"}})
	l = b.step("GET", l, nil)
	l = b.step("POST", l, url.Values{"prompt": {"consent"}})
	return b.step("GET", l, nil)
}

// s256 is the RFC 7636 S256 challenge of a verifier, by Go's crypto (to check liboidc's pair).
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// Authorization code + PKCE through the binding end to end: URL (state, nonce and PKCE pair from
// liboidc), response parsing, code exchange, refresh, ID token checks, UserInfo and the logout
// URL; blocking and non-blocking.
func TestIdPAuthorizationCodeFlow(t *testing.T) { bothSends(t, testIdPAuthorizationCodeFlow) }

func testIdPAuthorizationCodeFlow(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	oc := idpClient(t, s, "web-app", "web-app-secret", "")
	const cb = "http://127.0.0.1/cb"
	authURL := func() *AuthorizationURL {
		t.Helper()
		au, err := oc.AuthorizationURL(ctx, With(ParamRedirectURI, cb), WithScope("openid", "email", "profile"))
		if err != nil {
			t.Fatal(err)
		}
		return au
	}
	au := authURL()
	if au.State == "" || au.Nonce == "" || !strings.HasPrefix(au.URL, s.Issuer+"/auth?") ||
		!strings.Contains(au.URL, "code_challenge_method=S256") || au.CodeChallengeMethod != "S256" ||
		len(au.CodeVerifier) < 43 || au.CodeChallenge != s256(au.CodeVerifier) ||
		!strings.Contains(au.URL, "code_challenge="+au.CodeChallenge) || strings.Contains(fmt.Sprintf("%v %+v %#v", au, au, au), au.CodeVerifier) {
		t.Fatalf("%v", au)
	}
	callback := newBrowser(t, s.CAFile).login(au.URL)
	if !strings.HasPrefix(callback, cb+"?") {
		t.Fatalf("callback %q", callback)
	}
	if _, err := oc.ParseAuthorizationResponse(ctx, callback, "another-state"); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("wrong state: %v", err)
	}
	resp, err := oc.ParseAuthorizationResponse(ctx, callback, au.State)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code == "" || resp.State != au.State || resp.Issuer != s.Issuer || resp.Params["code"] != resp.Code || resp.JARM ||
		strings.Contains(fmt.Sprint(resp), resp.Code) {
		t.Fatalf("%v", resp)
	}

	if _, err := oc.ExchangeCode(ctx, resp.Code, With(ParamRedirectURI, cb), With(ParamCodeVerifier, "wrong-"+au.CodeVerifier)); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("wrong verifier: %v", err)
	}
	// (a failed exchange burns the code at oidc-provider: log in again for a fresh one)
	au = authURL()
	resp, err = oc.ParseAuthorizationResponse(ctx, newBrowser(t, s.CAFile).login(au.URL), au.State)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oc.ExchangeCode(ctx, resp.Code, With(ParamRedirectURI, cb), With(ParamCodeVerifier, au.CodeVerifier), With(ParamNonce, au.Nonce))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" || strings.Contains(fmt.Sprint(tok), tok.RefreshToken) {
		t.Fatalf("code exchange: %v", tok)
	}
	tr := struct{ AccessToken, IDToken string }{tok.AccessToken, tok.IDToken}

	claims, err := oc.ValidateIDToken(ctx, tr.IDToken, With(ParamNonce, au.Nonce), With(ParamAccessToken, tr.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject() != "user-1" || claims.Audience()[0] != "web-app" {
		t.Fatalf("%s", claims.Raw())
	}
	if _, err := oc.ValidateIDToken(ctx, tr.IDToken, With(ParamNonce, "other")); !errors.Is(err, ErrNonceMismatch) {
		t.Fatalf("nonce: %v", err)
	}
	// max_age was not sent, so the token has no auth_time: a max_age check must fail.
	if _, err := oc.ValidateIDToken(ctx, tr.IDToken, With(ParamNonce, au.Nonce), WithInt(ParamMaxAge, 86400)); !errors.Is(err, ErrAuthTimeInvalid) {
		t.Fatalf("max_age without auth_time: %v", err)
	}

	ui, err := oc.UserInfo(ctx, tr.AccessToken, With(ParamExpectedSub, "user-1"))
	if err != nil || ui.String("email") != "user-1@liboidc.test" {
		t.Fatalf("userinfo: %v", err)
	}
	if _, err := oc.UserInfo(ctx, tr.AccessToken, With(ParamExpectedSub, "user-2")); !errors.Is(err, ErrSubjectMismatch) {
		t.Fatalf("userinfo sub: %v", err)
	}
	if _, err := oc.UserInfo(ctx, "not-a-token"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("userinfo bad token: %v", err)
	}

	// Refresh (rotating refresh tokens): the new one works, the old one no longer does.
	refreshed, err := oc.Refresh(ctx, tok.RefreshToken)
	if err != nil || refreshed.AccessToken == "" || refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v %v", refreshed, err)
	}
	if ui, err := oc.UserInfo(ctx, refreshed.AccessToken, With(ParamExpectedSub, "user-1")); err != nil || ui.Subject() != "user-1" {
		t.Fatalf("userinfo with the refreshed token: %v", err)
	}
	// Reusing the rotated refresh token fails (and makes oidc-provider revoke the grant).
	if _, err := oc.Refresh(ctx, tok.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("reused refresh token: %v", err)
	}

	logout, err := oc.EndSessionURL(ctx, With(ParamIDTokenHint, tr.IDToken), With(ParamPostLogoutRedirectURI, "http://127.0.0.1/logout-cb"), With(ParamState, "bye"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(logout)
	if q := u.Query(); q.Get("id_token_hint") != tr.IDToken || q.Get("client_id") != "web-app" || q.Get("state") != "bye" {
		t.Fatalf("logout URL %s", logout)
	}
}

func TestIdPPushedAuthorizationRequest(t *testing.T) { bothSends(t, testIdPPushedAuthorizationRequest) }

func testIdPPushedAuthorizationRequest(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	oc := idpClient(t, s, "web-app", "web-app-secret", "")
	par, err := oc.PushAuthorizationRequest(ctx, With(ParamRedirectURI, "http://127.0.0.1/cb"), WithScope("openid"),
		WithParam("prompt", "login"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(par.RequestURI, "urn:ietf:params:oauth:request_uri:") || par.ExpiresIn <= 0 || par.State == "" ||
		par.CodeVerifier == "" || strings.Contains(fmt.Sprint(par), par.CodeVerifier) {
		t.Fatalf("%v", par)
	}
	au, err := oc.AuthorizationURL(ctx, With(ParamRequestURI, par.RequestURI))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(au.URL)
	if q := u.Query(); q.Get("request_uri") != par.RequestURI || q.Get("client_id") != "web-app" || len(q) != 2 {
		t.Fatalf("%s", au.URL)
	}
	cb := newBrowser(t, s.CAFile).login(au.URL)
	resp, err := oc.ParseAuthorizationResponse(ctx, cb, par.State)
	if err != nil || resp.Code == "" {
		t.Fatalf("%v %v", resp, err)
	}
	// The pushed request's PKCE verifier redeems the code.
	tok, err := oc.ExchangeCode(ctx, resp.Code, With(ParamRedirectURI, "http://127.0.0.1/cb"), With(ParamCodeVerifier, par.CodeVerifier),
		With(ParamNonce, par.Nonce))
	if err != nil || tok.IDToken == "" {
		t.Fatalf("exchange after PAR: %v %v", tok, err)
	}
}

func TestIdPIntrospectionAndRevocation(t *testing.T) { bothSends(t, testIdPIntrospectionAndRevocation) }

func testIdPIntrospectionAndRevocation(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	issuer := idpClient(t, s, "svc-basic", "svc-basic-secret", "")
	tok, err := issuer.ClientCredentials(ctx, WithScope("read"), WithResource("urn:liboidc:opaque"))
	if err != nil {
		t.Fatal(err)
	}
	rs := idpClient(t, s, "svc-post", "svc-post-secret", "client_secret_post")
	in, err := rs.Introspect(ctx, tok.AccessToken, With(ParamTokenTypeHint, "access_token"))
	if err != nil {
		t.Fatal(err)
	}
	if !in.Active || in.ClientID != "svc-basic" || in.Scope != "read" || in.ExpiresAt.Before(time.Now()) ||
		len(in.Audience) != 1 || in.Audience[0] != "urn:liboidc:opaque" {
		t.Fatalf("%v %s", in, in.Raw)
	}
	if err := issuer.Revoke(ctx, tok.AccessToken, With(ParamTokenTypeHint, "access_token")); err != nil {
		t.Fatal(err)
	}
	in, err = rs.Introspect(ctx, tok.AccessToken)
	if err != nil || in.Active {
		t.Fatalf("after revocation: %v %v", in, err)
	}
	if in, err := rs.Introspect(ctx, "garbage"); err != nil || in.Active {
		t.Fatalf("garbage: %v %v", in, err)
	}
}

// registrar is a client without a client id: it can only register (RFC 7591).
func registrar(t *testing.T, s *server) *OAuthClient {
	t.Helper()
	c, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestIdPDynamicRegistration(t *testing.T) { bothSends(t, testIdPDynamicRegistration) }

func testIdPDynamicRegistration(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	rc := registrar(t, s)
	if _, err := rc.ClientCredentials(ctx); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("a grant from a client without client id: %v", err)
	}
	reg, err := rc.Register(ctx, map[string]any{
		"grant_types": []string{"client_credentials"}, "response_types": []string{}, "redirect_uris": []string{},
		"token_endpoint_auth_method": "client_secret_basic"})
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientID == "" || reg.ClientSecret == "" || reg.RegistrationAccessToken == "" || reg.RegistrationClientURI == "" ||
		strings.Contains(fmt.Sprint(reg), reg.ClientSecret) || strings.Contains(fmt.Sprintf("%#v", reg), reg.ClientSecret) {
		t.Fatalf("%v", reg)
	}
	oc := idpClient(t, s, reg.ClientID, reg.ClientSecret, "")
	tok, err := oc.ClientCredentials(ctx, WithScope("read"), WithResource("urn:liboidc:es256"))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("the registered client: %v", err)
	}
	_, err = rc.Register(ctx, json.RawMessage(`{"redirect_uris":["not a uri"]}`))
	if !errors.Is(err, ErrInvalidRedirectURI) && !errors.Is(err, ErrInvalidClientMetadata) {
		t.Fatalf("bad metadata: %v", err)
	}

	// RFC 7592: read, update (a custom member through the metadata), delete.
	read, err := oc.ReadRegistration(ctx, reg.RegistrationClientURI, reg.RegistrationAccessToken)
	if err != nil || read.ClientID != reg.ClientID {
		t.Fatalf("read: %v %v", read, err)
	}
	var md map[string]any
	if err := json.Unmarshal(read.Raw, &md); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"} {
		delete(md, k)
	}
	md["client_name"] = "updated by Go"
	upd, err := oc.UpdateRegistration(ctx, reg.RegistrationClientURI, reg.RegistrationAccessToken, md)
	if err != nil || !strings.Contains(string(upd.Raw), "updated by Go") {
		t.Fatalf("update: %v %v", upd, err)
	}
	if err := oc.DeleteRegistration(ctx, reg.RegistrationClientURI, reg.RegistrationAccessToken); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := oc.ClientCredentials(ctx, WithScope("read")); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("deleted client: %v", err)
	}
}

// approveDevice plays the user of the device flow (tests/idp/README.md).
func (b *browser) approveDevice(issuer, userCode string) {
	b.t.Helper()
	xsrf := func(page string) string {
		i := strings.Index(page, `name="xsrf" value="`)
		if i < 0 {
			b.t.Fatalf("no xsrf in %q", page)
		}
		rest := page[i+len(`name="xsrf" value="`):]
		return rest[:strings.IndexByte(rest, '"')]
	}
	get := func(u string, form url.Values) string {
		var resp *http.Response
		var err error
		if form == nil {
			resp, err = b.hc.Get(u)
		} else {
			resp, err = b.hc.PostForm(u, form)
		}
		if err != nil {
			b.t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	x := xsrf(get(issuer+"/device", nil))
	x = xsrf(get(issuer+"/device", url.Values{"xsrf": {x}, "user_code": {userCode}}))
	l := b.step("POST", issuer+"/device", url.Values{"xsrf": {x}, "user_code": {userCode}, "confirm": {"yes"}})
	l = b.step("POST", l, url.Values{"prompt": {"login"}, "login": {"user-1"}, "password": {"any"}})
	l = b.step("GET", l, nil)
	l = b.step("POST", l, url.Values{"prompt": {"consent"}})
	get(l, nil)
}

func TestIdPDeviceFlow(t *testing.T) { bothSends(t, testIdPDeviceFlow) }

func testIdPDeviceFlow(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	oc := idpClient(t, s, "device-app", "", "")
	da, err := oc.DeviceAuthorization(ctx, WithScope("openid"))
	if err != nil {
		t.Fatal(err)
	}
	defer da.Close()
	if da.UserCode == "" || !strings.HasPrefix(da.VerificationURI, s.Issuer) || da.ExpiresIn <= 0 {
		t.Fatalf("%v", da)
	}
	// Not approved yet: a short deadline ends the poll with ctx's error, quickly.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	start := time.Now()
	_, err = oc.PollDevice(short, da)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("deadline: %v after %v", err, time.Since(start))
	}
	// Cancelling ctx ends the wait between polls at once.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	if _, err = oc.PollDevice(cctx, da); !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
		t.Fatalf("cancel: %v after %v", err, time.Since(start))
	}
	// The request's own deadline (ParamDeadlineMS), on the blocking send too: liboidc's error.
	start = time.Now()
	_, err = oc.PollDevice(ctx, da, WithInt(ParamDeadlineMS, 300))
	if !errors.Is(err, ErrDeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("DEADLINE_MS: %v after %v", err, time.Since(start))
	}

	newBrowser(t, s.CAFile).approveDevice(s.Issuer, da.UserCode)
	tok, err := oc.PollDevice(ctx, da)
	if err != nil || tok.AccessToken == "" || tok.IDToken == "" {
		t.Fatalf("after approval: %v %v", tok, err)
	}
	da.Close()
	da.Close()
	if _, err := oc.PollDevice(ctx, da); !errors.Is(err, ErrRequestClosed) {
		t.Fatalf("poll on a closed DeviceAuthorization: %v", err)
	}
}

func TestIdPClientCredentialsCached(t *testing.T) { bothSends(t, testIdPClientCredentialsCached) }

func testIdPClientCredentialsCached(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	oc := idpClient(t, s, "svc-basic", "svc-basic-secret", "")
	a, err := oc.ClientCredentialsCached(ctx, WithScope("read"), WithResource("urn:liboidc:rs256"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := oc.ClientCredentialsCached(ctx, WithScope("read"), WithResource("urn:liboidc:rs256"))
	if err != nil || b.AccessToken != a.AccessToken {
		t.Fatalf("second call did not reuse the cached token: %v", err)
	}
	if d, err := oc.ClientCredentials(ctx, WithScope("read"), WithResource("urn:liboidc:rs256")); err != nil || d.AccessToken == a.AccessToken {
		t.Fatalf("the uncached grant returned the cached token: %v", err)
	}
	c, err := oc.ClientCredentialsCached(ctx, WithScope("write"), WithResource("urn:liboidc:rs256"))
	if err != nil || c.AccessToken == a.AccessToken {
		t.Fatalf("another scope shared the token: %v", err)
	}
}
