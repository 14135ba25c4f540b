package oidc_test

// These examples are the README's code (TestReadmeMatchesExamples checks that each README block
// is the body of the function named above it). They run against the test IdP (tests/idp) that
// TestMain starts, with OIDC_ISSUER, OIDC_CA_FILE, OIDC_CLIENT_SECRET and OIDC_TOKEN set to
// its values.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/liboidc/liboidc/bindings/go"
)

func ExampleClient_Validate() {
	client, err := oidc.NewClient(oidc.Config{
		Issuer:      os.Getenv("OIDC_ISSUER"),      // keys via {Issuer}/.well-known/openid-configuration
		Audiences:   []string{"urn:liboidc:rs256"}, // this API's identifier
		ExpectedTyp: "at+jwt",                      // RFC 9068 access tokens
		CAFile:      os.Getenv("OIDC_CA_FILE"),     // "" = the system trust store only
	})
	if err != nil {
		log.Fatal(err) // every configuration problem is reported here
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	claims, err := client.Validate(ctx, os.Getenv("OIDC_TOKEN"))
	var oidcErr *oidc.Error
	switch {
	case errors.Is(err, oidc.ErrTokenExpired):
		fmt.Println("expired")
	case errors.As(err, &oidcErr):
		fmt.Println(oidcErr.Code, oidcErr.HTTPStatus, oidcErr.WWWAuthenticate)
	case err != nil:
		fmt.Println(err) // ctx ended first, or the client was closed
	default:
		fmt.Println(claims.Subject(), claims.String("scope"), claims.ExpiresAt().After(time.Now()))
	}
	// Output: svc-basic read write true
}

func ExampleMiddleware() {
	cfg := oidc.Config{
		Issuer:      os.Getenv("OIDC_ISSUER"),
		Audiences:   []string{"urn:liboidc:rs256"},
		ExpectedTyp: "at+jwt",
		CAFile:      os.Getenv("OIDC_CA_FILE"),
		Realm:       "api",
	}
	client, err := oidc.NewClient(cfg) // any valid token, Bearer or DPoP-bound
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	cfg.RequiredScopes = []string{"admin"} // what /admin/ demands is its client's configuration
	admin, err := oidc.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer admin.Close()

	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := oidc.DecisionFromContext(r.Context())
		fmt.Fprintf(w, "hello %s (%s)\n", d.Claims.Subject(), d.TokenType)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", oidc.Middleware(client)(hello))
	mux.Handle("/admin/", oidc.Middleware(admin)(hello))
	// Behind a proxy that terminates TLS, name the public origin (DPoP proofs are checked
	// against it): oidc.Middleware(client, oidc.WithOrigin("https://api.example.com"))
	// http.ListenAndServe(":8080", mux)

	for _, auth := range []string{"", "Bearer " + os.Getenv("OIDC_TOKEN")} {
		for _, path := range []string{"/api/", "/admin/"} {
			req := httptest.NewRequest("GET", "https://api.example.com"+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			fmt.Println(path, rec.Code, strings.TrimSpace(rec.Body.String()))
			for _, c := range rec.Header().Values("WWW-Authenticate") {
				fmt.Println("  WWW-Authenticate:", c)
			}
		}
	}
	// Output:
	// /api/ 401 Unauthorized
	//   WWW-Authenticate: Bearer realm="api"
	//   WWW-Authenticate: DPoP realm="api", algs="ES256 ES384 ES512 EdDSA RS256 PS256"
	// /admin/ 401 Unauthorized
	//   WWW-Authenticate: Bearer realm="api"
	//   WWW-Authenticate: DPoP realm="api", algs="ES256 ES384 ES512 EdDSA RS256 PS256"
	// /api/ 200 hello svc-basic (Bearer)
	// /admin/ 403 Forbidden
	//   WWW-Authenticate: Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="admin"
	//   WWW-Authenticate: DPoP realm="api", algs="ES256 ES384 ES512 EdDSA RS256 PS256"
}

func ExampleOAuthClient_ClientCredentials() {
	client, err := oidc.NewOAuthClient(oidc.OAuthConfig{
		Issuer:       os.Getenv("OIDC_ISSUER"),
		ClientID:     "svc-basic",
		ClientSecret: os.Getenv("OIDC_CLIENT_SECRET"), // client_secret_basic by default
		CAFile:       os.Getenv("OIDC_CA_FILE"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token, err := client.ClientCredentials(ctx, oidc.WithScope("read"), oidc.WithResource("urn:liboidc:es256"))
	if errors.Is(err, oidc.ErrInvalidClient) {
		log.Fatal("wrong client id or secret")
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(token.TokenType, token.ExpiresIn, token.Scope)
	fmt.Println(strings.Contains(fmt.Sprint(token), token.AccessToken)) // formatting hides secrets
	// Output:
	// Bearer 10m0s read
	// false
}

func ExampleClient_ExportCache() {
	// liboidc's log messages (fetches, refresh failures, stale keys served, ...) through log/slog.
	if err := oidc.SetLogger(slog.Default()); err != nil {
		log.Fatal(err)
	}
	defer oidc.SetLogger(nil)

	client, err := oidc.NewClient(oidc.Config{
		Issuer:    os.Getenv("OIDC_ISSUER"),
		Audiences: []string{"urn:liboidc:rs256"},
		CAFile:    os.Getenv("OIDC_CA_FILE"),
		Prefetch:  oidc.PrefetchFailFast, // fetch the keys now: an unreachable issuer fails here
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// Warm start: hand the keys (public data only) to pre-forked workers or bake them into a
	// serverless image; the fresh process imports them and validates with zero fetches.
	snapshot, err := client.ExportCache()
	if err != nil {
		log.Fatal(err)
	}
	n, err := oidc.ImportCache(snapshot, nil) // (in the fresh process)
	if err != nil {
		log.Fatal(err)
	}

	m, err := oidc.Metrics()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n > 0, m.Cache.Entries > 0, m.Cache.JWKSFetches > 0)

	// At graceful shutdown: stop liboidc's worker pool (background prefetch, refresh ahead).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := oidc.ShutdownWorkers(ctx); err != nil {
		log.Print(err)
	}
	// Output: true true true
}

func ExampleOAuthClient_NewRequest() {
	client, err := oidc.NewOAuthClient(oidc.OAuthConfig{
		Issuer:       os.Getenv("OIDC_ISSUER"),
		ClientID:     "svc-basic",
		ClientSecret: os.Getenv("OIDC_CLIENT_SECRET"),
		CAFile:       os.Getenv("OIDC_CA_FILE"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// One request type for every operation; liboidc checks each parameter against the operation.
	req := client.NewRequest(oidc.OpClientCredentials, oidc.WithScope("read"), oidc.WithResource("urn:liboidc:rs256"))
	defer req.Close()
	if err := req.Err(); err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.Send(ctx) // ctx's deadline and cancellation reach liboidc (oidc_cancel)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Close()
	expiresIn, _ := resp.Int(oidc.FieldExpiresIn)
	fmt.Println(resp.Operation(), resp.String(oidc.FieldTokenType), expiresIn)

	// Non-blocking: each result arrives on its channel; a request may be sent again, concurrently.
	first, second := req.SendAsync(ctx), req.SendAsync(ctx)
	for _, ch := range []<-chan oidc.Result{first, second} {
		res := <-ch
		if res.Err != nil {
			log.Fatal(res.Err)
		}
		fmt.Println(res.Response.String(oidc.FieldScope))
		res.Response.Close()
	}

	// A parameter the operation does not take: liboidc's INVALID_ARGUMENT and its message.
	bad := client.NewRequest(oidc.OpClientCredentials, oidc.With(oidc.ParamRefreshToken, "x"))
	defer bad.Close()
	fmt.Println(errors.Is(bad.Err(), oidc.ErrInvalidArgument))
	// Output:
	// CLIENT_CREDENTIALS Bearer 600
	// read
	// read
	// true
}

func ExampleClient_Explain() {
	// The rules all issuers share, from a policy document (in production a file:
	// Config.PolicyFile); the issuers from Go. Config fields apply on top of the document.
	policy := []byte(`{"version": 1, "audiences": ["urn:liboidc:rs256"], "typ": "at+jwt", "leeway_secs": 30}`)
	client, err := oidc.NewClient(oidc.Config{
		Policy: policy,
		CAFile: os.Getenv("OIDC_CA_FILE"),
		Issuers: []oidc.IssuerConfig{
			{Issuer: os.Getenv("OIDC_ISSUER")}, // keys via discovery
			{ // a multi-tenant identity provider: each allowed tenant has its own keys
				Issuer:    "https://login.example.com/{tenant}/v2.0",
				Tenants:   []string{"contoso", "fabrikam"},
				Audiences: []string{"api://orders"},
			},
		},
	})
	if err != nil {
		log.Fatal(err) // a bad document names its JSON path: "$.issuers[0].audiences[0]: ..."
	}
	defer client.Close()

	ctx := context.Background()
	claims, err := client.Validate(ctx, os.Getenv("OIDC_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	// Why a token is accepted or refused: every check as JSON (never the token itself).
	why, err := client.Explain(ctx, os.Getenv("OIDC_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	var doc struct {
		Decision string `json:"decision"`
		Issuer   struct {
			Chosen string `json:"chosen"`
			Index  int    `json:"index"`
		} `json:"issuer"`
	}
	if err := why.Decode(&doc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject(), why.Allowed(), doc.Decision, doc.Issuer.Chosen, doc.Issuer.Index)

	// The whole configuration as one policy document: store it, diff it, load it elsewhere.
	exported, err := client.Policy()
	if err != nil {
		log.Fatal(err)
	}
	same, err := oidc.NewClient(oidc.Config{Policy: exported})
	if err != nil {
		log.Fatal(err)
	}
	defer same.Close()
	_, err = same.Validate(ctx, os.Getenv("OIDC_TOKEN"))
	fmt.Println(err)
	// Output:
	// svc-basic true allow exact 0
	// <nil>
}

func ExampleOAuthClient_ValidateLogoutToken() {
	client, err := oidc.NewOAuthClient(oidc.OAuthConfig{
		Issuer:   os.Getenv("OIDC_TESTKIT_ISSUER"),
		ClientID: "rp", // the audience of the OP's logout tokens
		CAFile:   os.Getenv("OIDC_TESTKIT_CA_FILE"),
		// ReplayStore: a store shared by every process of the fleet (Redis SET NX EX, ...)
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// The back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0 §2.5): the OP
	// posts logout_token; liboidc checks it (keys, typ logout+jwt, events, sub/sid, no nonce,
	// jti seen once) and the handler ends the sessions it names.
	backchannel := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		lt, err := client.ValidateLogoutToken(r.Context(), r.PostFormValue("logout_token"))
		var oidcErr *oidc.Error
		switch {
		case errors.Is(err, oidc.ErrReplayStoreUnavailable):
			http.Error(w, "try again", http.StatusServiceUnavailable)
		case errors.As(err, &oidcErr):
			http.Error(w, oidcErr.Name, http.StatusBadRequest) // e.g. TOKEN_REPLAYED
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			fmt.Println("end session", lt.SessionID, "of", lt.Subject) // or every session of lt.Subject
			fmt.Fprintln(w, "ok")
		}
	})
	form := url.Values{"logout_token": {os.Getenv("OIDC_LOGOUT_TOKEN")}}.Encode()
	for range 2 { // the same token twice: the second is a replay
		req := httptest.NewRequest("POST", "https://rp.example/backchannel-logout", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		backchannel.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}

	// A resource server never takes a logout token for an access token (and the ID-token path
	// never takes one for an ID token). DropKeys makes the next validation fetch the keys again.
	api, err := oidc.NewClient(oidc.Config{
		Issuer:    os.Getenv("OIDC_TESTKIT_ISSUER"),
		Audiences: []string{"rp"},
		CAFile:    os.Getenv("OIDC_TESTKIT_CA_FILE"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()
	ctx := context.Background()
	_, err = api.Validate(ctx, os.Getenv("OIDC_LOGOUT_TOKEN"))
	fmt.Println(errors.Is(err, oidc.ErrTypeMismatch), api.DropKeys(ctx, ""))
	// Output:
	// end session s-1 of alice
	// 200 ok
	// 400 TOKEN_REPLAYED
	// true <nil>
}

func ExampleCode() {
	fmt.Println(oidc.CodeTokenExpired, int(oidc.CodeTokenExpired), oidc.CodeTokenExpired.Description())
	// Output: TOKEN_EXPIRED 305 token expired
}
