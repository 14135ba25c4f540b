package oidc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

func TestPKCE(t *testing.T) {
	v, c, err := NewPKCE()
	if err != nil || len(v) != 43 {
		t.Fatal(v, err)
	}
	if c2, err := PKCEChallenge(v); err != nil || c2 != c {
		t.Fatal(c, c2, err)
	}
	// RFC 7636 appendix B.
	if c, err := PKCEChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); err != nil || c != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatal(c, err)
	}
	if _, err := PKCEChallenge("too-short"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
}

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

// Authorization code + PKCE through the binding end to end: URL, response parsing, code
// exchange, refresh, ID token checks, UserInfo and the logout URL.
func TestIdPAuthorizationCodeFlow(t *testing.T) {
	s := sharedIdP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	oc := idpClient(t, s, "web-app", "web-app-secret", "")
	verifier, challenge, err := NewPKCE()
	if err != nil {
		t.Fatal(err)
	}
	au, err := oc.AuthorizationURL(ctx, AuthorizationRequest{RedirectURI: "http://127.0.0.1/cb",
		Scopes: []string{"openid", "email", "profile"}, CodeChallenge: challenge})
	if err != nil {
		t.Fatal(err)
	}
	if au.State == "" || au.Nonce == "" || !strings.HasPrefix(au.URL, s.Issuer+"/auth?") ||
		!strings.Contains(au.URL, "code_challenge_method=S256") {
		t.Fatalf("%+v", au)
	}
	cb := newBrowser(t, s.CAFile).login(au.URL)
	if !strings.HasPrefix(cb, "http://127.0.0.1/cb?") {
		t.Fatalf("callback %q", cb)
	}
	if _, err := oc.ParseAuthorizationResponse(ctx, cb, "another-state"); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("wrong state: %v", err)
	}
	resp, err := oc.ParseAuthorizationResponse(ctx, cb, au.State)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code == "" || resp.State != au.State || resp.Issuer != s.Issuer || strings.Contains(fmt.Sprint(resp), resp.Code) {
		t.Fatalf("%v", resp)
	}

	if _, err := oc.ExchangeCode(ctx, CodeExchange{Code: resp.Code, RedirectURI: "http://127.0.0.1/cb", CodeVerifier: "wrong-" + verifier}); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("wrong verifier: %v", err)
	}
	// (a failed exchange burns the code at oidc-provider: log in again for a fresh one)
	au, err = oc.AuthorizationURL(ctx, AuthorizationRequest{RedirectURI: "http://127.0.0.1/cb",
		Scopes: []string{"openid", "email", "profile"}, CodeChallenge: challenge})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = oc.ParseAuthorizationResponse(ctx, newBrowser(t, s.CAFile).login(au.URL), au.State)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oc.ExchangeCode(ctx, CodeExchange{Code: resp.Code, RedirectURI: "http://127.0.0.1/cb", CodeVerifier: verifier, Nonce: au.Nonce})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" || strings.Contains(fmt.Sprint(tok), tok.RefreshToken) {
		t.Fatalf("code exchange: %v", tok)
	}
	tr := struct{ AccessToken, IDToken string }{tok.AccessToken, tok.IDToken}

	claims, err := oc.ValidateIDToken(ctx, tr.IDToken, IDTokenChecks{Nonce: au.Nonce, AccessToken: tr.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject() != "user-1" || claims.Audience()[0] != "web-app" {
		t.Fatalf("%s", claims.Raw())
	}
	if _, err := oc.ValidateIDToken(ctx, tr.IDToken, IDTokenChecks{Nonce: "other"}); !errors.Is(err, ErrNonceMismatch) {
		t.Fatalf("nonce: %v", err)
	}
	day := 24 * time.Hour
	// max_age was not sent, so the token has no auth_time: a max_age check must fail.
	if _, err := oc.ValidateIDToken(ctx, tr.IDToken, IDTokenChecks{Nonce: au.Nonce, MaxAge: &day}); !errors.Is(err, ErrAuthTimeInvalid) {
		t.Fatalf("max_age without auth_time: %v", err)
	}

	ui, err := oc.UserInfo(ctx, tr.AccessToken, "user-1")
	if err != nil || ui.String("email") != "user-1@liboidc.test" {
		t.Fatalf("userinfo: %v", err)
	}
	if _, err := oc.UserInfo(ctx, tr.AccessToken, "user-2"); !errors.Is(err, ErrSubjectMismatch) {
		t.Fatalf("userinfo sub: %v", err)
	}
	if _, err := oc.UserInfo(ctx, "not-a-token", ""); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("userinfo bad token: %v", err)
	}

	// Refresh (rotating refresh tokens): the new one works, the old one no longer does.
	refreshed, err := oc.Refresh(ctx, tok.RefreshToken, nil, nil)
	if err != nil || refreshed.AccessToken == "" || refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v %v", refreshed, err)
	}
	if ui, err := oc.UserInfo(ctx, refreshed.AccessToken, "user-1"); err != nil || ui.Subject() != "user-1" {
		t.Fatalf("userinfo with the refreshed token: %v", err)
	}
	// Reusing the rotated refresh token fails (and makes oidc-provider revoke the grant).
	if _, err := oc.Refresh(ctx, tok.RefreshToken, nil, nil); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("reused refresh token: %v", err)
	}

	logout, err := oc.EndSessionURL(ctx, tr.IDToken, "http://127.0.0.1/logout-cb", "bye")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(logout)
	if q := u.Query(); q.Get("id_token_hint") != tr.IDToken || q.Get("client_id") != "web-app" || q.Get("state") != "bye" {
		t.Fatalf("logout URL %s", logout)
	}
}

func TestIdPPushedAuthorizationRequest(t *testing.T) {
	s := sharedIdP(t)
	ctx := context.Background()
	oc := idpClient(t, s, "web-app", "web-app-secret", "")
	_, challenge, _ := NewPKCE()
	par, err := oc.PushAuthorizationRequest(ctx, AuthorizationRequest{RedirectURI: "http://127.0.0.1/cb",
		Scopes: []string{"openid"}, CodeChallenge: challenge, Params: map[string][]string{"prompt": {"login"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(par.RequestURI, "urn:ietf:params:oauth:request_uri:") || par.ExpiresIn <= 0 || par.State == "" {
		t.Fatalf("%+v", par)
	}
	au, err := oc.AuthorizationURL(ctx, AuthorizationRequest{RequestURI: par.RequestURI})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(au.URL)
	if q := u.Query(); q.Get("request_uri") != par.RequestURI || q.Get("client_id") != "web-app" || len(q) != 2 {
		t.Fatalf("%s", au.URL)
	}
	cb := newBrowser(t, s.CAFile).login(au.URL)
	if resp, err := oc.ParseAuthorizationResponse(ctx, cb, par.State); err != nil || resp.Code == "" {
		t.Fatalf("%v %v", resp, err)
	}
}

func TestIdPIntrospectionAndRevocation(t *testing.T) {
	s := sharedIdP(t)
	ctx := context.Background()
	issuer := idpClient(t, s, "svc-basic", "svc-basic-secret", "")
	tok, err := issuer.ClientCredentials(ctx, []string{"read"}, []string{"urn:liboidc:opaque"}, "")
	if err != nil {
		t.Fatal(err)
	}
	rs := idpClient(t, s, "svc-post", "svc-post-secret", "client_secret_post")
	in, err := rs.Introspect(ctx, tok.AccessToken, IntrospectOptions{TokenTypeHint: "access_token"})
	if err != nil {
		t.Fatal(err)
	}
	if !in.Active || in.ClientID != "svc-basic" || in.Scope != "read" || in.ExpiresAt.Before(time.Now()) ||
		len(in.Audience) != 1 || in.Audience[0] != "urn:liboidc:opaque" {
		t.Fatalf("%v %s", in, in.Raw)
	}
	if err := issuer.Revoke(ctx, tok.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	in, err = rs.Introspect(ctx, tok.AccessToken, IntrospectOptions{})
	if err != nil || in.Active {
		t.Fatalf("after revocation: %v %v", in, err)
	}
	if in, err := rs.Introspect(ctx, "garbage", IntrospectOptions{}); err != nil || in.Active {
		t.Fatalf("garbage: %v %v", in, err)
	}
}

func TestIdPDynamicRegistration(t *testing.T) {
	s := sharedIdP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg, err := RegisterClient(ctx, OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile}, map[string]any{
		"grant_types": []string{"client_credentials"}, "response_types": []string{}, "redirect_uris": []string{},
		"token_endpoint_auth_method": "client_secret_basic"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientID == "" || reg.ClientSecret == "" || strings.Contains(fmt.Sprint(reg), reg.ClientSecret) ||
		strings.Contains(fmt.Sprintf("%#v", reg), reg.ClientSecret) {
		t.Fatalf("%v", reg)
	}
	oc := idpClient(t, s, reg.ClientID, reg.ClientSecret, "")
	tok, err := oc.ClientCredentials(ctx, []string{"read"}, []string{"urn:liboidc:es256"}, "")
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("the registered client: %v", err)
	}
	_, err = RegisterClient(ctx, OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile},
		json.RawMessage(`{"redirect_uris":["not a uri"]}`), "")
	if !errors.Is(err, ErrInvalidRedirectURI) && !errors.Is(err, ErrInvalidClientMetadata) {
		t.Fatalf("bad metadata: %v", err)
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

func TestIdPDeviceFlow(t *testing.T) {
	s := sharedIdP(t)
	oc := idpClient(t, s, "device-app", "", "")
	ctx := context.Background()
	da, err := oc.DeviceAuthorization(ctx, []string{"openid"})
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

	newBrowser(t, s.CAFile).approveDevice(s.Issuer, da.UserCode)
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tok, err := oc.PollDevice(pctx, da)
	if err != nil || tok.AccessToken == "" || tok.IDToken == "" {
		t.Fatalf("after approval: %v %v", tok, err)
	}
	da.Close()
	da.Close()
	if _, err := oc.PollDevice(ctx, da); err == nil {
		t.Fatal("poll on a closed DeviceAuthorization")
	}
}

func TestIdPClientCredentialsCached(t *testing.T) {
	s := sharedIdP(t)
	oc := idpClient(t, s, "svc-basic", "svc-basic-secret", "")
	ctx := context.Background()
	a, err := oc.ClientCredentialsCached(ctx, []string{"read"}, []string{"urn:liboidc:rs256"}, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := oc.ClientCredentialsCached(ctx, []string{"read"}, []string{"urn:liboidc:rs256"}, "")
	if err != nil || b.AccessToken != a.AccessToken {
		t.Fatalf("second call did not reuse the cached token: %v", err)
	}
	c, err := oc.ClientCredentialsCached(ctx, []string{"write"}, []string{"urn:liboidc:rs256"}, "")
	if err != nil || c.AccessToken == a.AccessToken {
		t.Fatalf("another scope shared the token: %v", err)
	}
}
