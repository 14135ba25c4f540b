package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func idpClient(t *testing.T, s *server, id, secret, method string) *OAuthClient {
	t.Helper()
	c, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, ClientID: id, ClientSecret: secret, AuthMethod: method,
		CAFile: s.CAFile, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Client credentials against the real oidc-provider, then the token validated by a Client:
// basic and post authentication, every JWT algorithm the IdP issues.
func TestIdPClientCredentials(t *testing.T) { bothSends(t, testIdPClientCredentials) }

func testIdPClientCredentials(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	for _, tc := range []struct{ id, secret, method, resource, alg string }{
		{"svc-basic", "svc-basic-secret", "", "urn:liboidc:rs256", "RS256"},
		{"svc-basic", "svc-basic-secret", "client_secret_basic", "urn:liboidc:ps256", "PS256"},
		{"svc-post", "svc-post-secret", "client_secret_post", "urn:liboidc:es256", "ES256"},
		{"svc-post", "svc-post-secret", "client_secret_post", "urn:liboidc:eddsa", "EdDSA"},
	} {
		t.Run(tc.id+"/"+tc.alg, func(t *testing.T) {
			oc := idpClient(t, s, tc.id, tc.secret, tc.method)
			tok, err := oc.ClientCredentials(ctx, WithScope("read", "write"), WithResource(tc.resource))
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.ExpiresIn != 600*time.Second || tok.Scope != "read write" ||
				strings.Count(tok.AccessToken, ".") != 2 || !tok.Valid() || !strings.Contains(string(tok.Raw), tok.AccessToken) {
				t.Fatalf("token: %v", tok)
			}
			vc, err := NewClient(Config{Issuer: s.Issuer, Audiences: []string{tc.resource}, ExpectedTyp: "at+jwt",
				Algorithms: []string{tc.alg}, CAFile: s.CAFile})
			if err != nil {
				t.Fatal(err)
			}
			defer vc.Close()
			claims, err := vc.Validate(ctx, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if claims.Subject() != tc.id || claims.ClientID() != tc.id || !slices.Contains(strings.Fields(claims.String("scope")), "write") ||
				claims.Audience()[0] != tc.resource {
				t.Fatalf("claims: %s", claims.Raw())
			}
		})
	}
}

func TestIdPErrors(t *testing.T) { bothSends(t, testIdPErrors) }

func testIdPErrors(t *testing.T, ctx context.Context) {
	s := sharedIdP(t)
	bad := idpClient(t, s, "svc-basic", "wrong-secret", "")
	_, err := bad.ClientCredentials(ctx, WithScope("read"), WithResource("urn:liboidc:rs256"))
	var oe *Error
	if !errors.Is(err, ErrInvalidClient) || !errors.As(err, &oe) || oe.OAuth == nil || oe.OAuth.Error != "invalid_client" ||
		oe.OAuth.HTTPStatus != 401 {
		t.Fatalf("wrong secret: %#v (%v)", err, err)
	}
	if strings.Contains(fmt.Sprint(err), "wrong-secret") {
		t.Fatal("the error shows the secret")
	}
	good := idpClient(t, s, "svc-basic", "svc-basic-secret", "")
	_, err = good.ClientCredentials(ctx, WithResource("urn:liboidc:nope"))
	if !errors.Is(err, ErrInvalidTarget) || !errors.As(err, &oe) || oe.OAuth.Error != "invalid_target" {
		t.Fatalf("unknown resource: %v", err)
	}
	if _, err := good.ClientCredentials(ctx, WithScope("read write")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("scope item with a space: %v", err)
	}
	// No resource: an opaque token.
	tok, err := good.ClientCredentials(ctx, WithScope("read"))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("opaque: %v", err)
	}
	// An already expired ctx.
	dead, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := good.ClientCredentials(dead); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// Secrets never show in formatted configs and tokens.
func TestNoSecretsInFormatting(t *testing.T) {
	cfg := OAuthConfig{Issuer: "https://idp", ClientID: "id", ClientSecret: "s3cr3t-value"}
	tok := Token{AccessToken: "at-s3cr3t", RefreshToken: "rt-s3cr3t", IDToken: "id-s3cr3t", TokenType: "Bearer",
		Raw: []byte(`{"access_token":"at-s3cr3t"}`)}
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%v %+v %#v", &cfg, &cfg, &cfg),
		fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), fmt.Sprintf("%v %+v %#v", &tok, &tok, &tok),
		fmt.Sprint(cfg.LogValue(), tok.LogValue()),
	} {
		if strings.Contains(s, "s3cr3t") {
			t.Fatalf("secret in %q", s)
		}
	}
	if !strings.Contains(fmt.Sprint(cfg), "[REDACTED]") || !strings.Contains(fmt.Sprint(tok), "Bearer") {
		t.Fatal(fmt.Sprint(cfg), fmt.Sprint(tok))
	}
}
