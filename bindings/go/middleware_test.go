package oidc

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func serve(t *testing.T, h http.Handler, auth string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "/api", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var echoSubject = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	claims, ok := ClaimsFromContext(r.Context())
	if !ok {
		http.Error(w, "no claims", 500)
		return
	}
	fmt.Fprintf(w, "hello %s %v", claims.Subject(), claims.Scopes())
})

func TestMiddleware(t *testing.T) {
	key := newTestKey(t, "RS256")
	c := staticClient(t, "api", key)
	good := key.sign(t, standardClaims("alice", "read write"))
	h := Middleware(c)(echoSubject)

	rec := serve(t, h, "Bearer "+good)
	if rec.Code != 200 || rec.Body.String() != "hello alice [read write]" {
		t.Fatalf("valid token: %d %q", rec.Code, rec.Body)
	}
	if rec := serve(t, h, "bearer  "+good); rec.Code != 200 {
		t.Fatalf("scheme is case-insensitive: %d", rec.Code)
	}

	for _, auth := range []string{"", "Basic dXNlcjpwdw==", "Bearer"} {
		rec := serve(t, h, auth)
		if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="api"` {
			t.Fatalf("auth %q: %d %q", auth, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
	}

	expiredClaims := standardClaims("alice", "read")
	expiredClaims["exp"] = time.Now().Add(-time.Hour).Unix()
	expiredClaims["iat"] = time.Now().Add(-2 * time.Hour).Unix()
	expiredClaims["nbf"] = expiredClaims["iat"]
	rec = serve(t, h, "Bearer "+key.sign(t, expiredClaims))
	www := rec.Header().Get("WWW-Authenticate")
	if rec.Code != 401 || !strings.HasPrefix(www, `Bearer realm="api"`) || !strings.Contains(www, `error="invalid_token"`) ||
		!strings.Contains(www, "expired") {
		t.Fatalf("expired: %d %q", rec.Code, www)
	}
	// The header is the core's, verbatim.
	_, err := c.Validate(t.Context(), key.sign(t, expiredClaims))
	if oe := err.(*Error); oe.WWWAuthenticate != www {
		t.Fatalf("middleware %q vs core %q", www, oe.WWWAuthenticate)
	}

	other := newTestKey(t, "RS256")
	rec = serve(t, h, "Bearer "+other.sign(t, standardClaims("mallory", "read")))
	if rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("foreign key: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

func TestMiddlewareScopes(t *testing.T) {
	key := newTestKey(t, "ES256")
	c := staticClient(t, "api", key)
	readOnly := key.sign(t, standardClaims("bob", "read"))

	if rec := serve(t, Middleware(c, RequireScopes("read"))(echoSubject), "Bearer "+readOnly); rec.Code != 200 {
		t.Fatalf("has scope: %d %s", rec.Code, rec.Body)
	}
	rec := serve(t, Middleware(c, RequireScopes("read", "admin"))(echoSubject), "Bearer "+readOnly)
	www := rec.Header().Get("WWW-Authenticate")
	want := `Bearer realm="api", error="insufficient_scope", error_description="the access token lacks a required scope", scope="read admin"`
	if rec.Code != 403 || www != want {
		t.Fatalf("missing scope: %d %q", rec.Code, www)
	}
	// Without a realm.
	c2 := staticClient(t, "", key)
	rec = serve(t, Middleware(c2, RequireScopes("admin"))(echoSubject), "Bearer "+readOnly)
	if rec.Code != 403 || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), `Bearer error="insufficient_scope"`) {
		t.Fatalf("no realm: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// Keys that cannot be fetched are the server's problem: 503, as the core's HTTPStatus says.
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
	rec := serve(t, Middleware(c)(echoSubject), "Bearer "+key.sign(t, standardClaims("alice", "")))
	if rec.Code != 503 {
		t.Fatalf("JWKS down: %d %q", rec.Code, rec.Body)
	}
	_, err = c.Validate(t.Context(), key.sign(t, standardClaims("alice", "")))
	if oe, ok := err.(*Error); !ok || oe.HTTPStatus != 503 || !(oe.Code >= 200 && oe.Code < 300) {
		t.Fatalf("%#v", err)
	}
}

func TestMiddlewareClosedClientAndCustomHandler(t *testing.T) {
	key := newTestKey(t, "EdDSA")
	c := staticClient(t, "api", key)
	var seen error
	h := Middleware(c, WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error, status int, www string) {
		seen = err
		w.WriteHeader(status)
		io.WriteString(w, "custom")
	}))(echoSubject)
	c.Close()
	rec := serve(t, h, "Bearer "+key.sign(t, standardClaims("alice", "")))
	if rec.Code != 500 || rec.Body.String() != "custom" || seen != ErrClosed {
		t.Fatalf("closed: %d %q %v", rec.Code, rec.Body, seen)
	}
	rec = serve(t, h, "")
	if rec.Code != 401 || seen != ErrNoToken {
		t.Fatalf("no token: %d %v", rec.Code, seen)
	}
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
