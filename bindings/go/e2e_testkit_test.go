package oidc

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func tkToken(t *testing.T, s *server, alg, sub string) string {
	return s.token(t, url.Values{"alg": {alg}, "aud": {"api://e2e"}, "sub": {sub}, "scope": {"read write"}, "exp_in": {"300"}})
}

func tkClient(t *testing.T, s *server, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{Issuer: s.Issuer, Audiences: []string{"api://e2e"}, ExpectedTyp: "at+jwt", CAFile: s.CAFile,
		Timeout: 3 * time.Second, ConnectTimeout: time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Discovery and JWKS over TLS, trusting the testkit CA through CAFile; every algorithm; the
// keys are fetched once and then served from the cache.
func TestTestkitDiscoveryAndJWKS(t *testing.T) {
	s := startTestkit(t)
	c := tkClient(t, s, nil)
	ctx := context.Background()
	if err := c.Prefetch(ctx); err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		for i := 0; i < 20; i++ {
			claims, err := c.Validate(ctx, tkToken(t, s, alg, "user-"+alg))
			if err != nil {
				t.Fatalf("%s: %v", alg, err)
			}
			if claims.Subject() != "user-"+alg || claims.Issuer() != s.Issuer || !slices.Contains(strings.Fields(claims.String("scope")), "write") {
				t.Fatalf("%s: %s", alg, claims.Raw())
			}
		}
	}
	if d, j := s.hits(t, "/.well-known/openid-configuration"), s.hits(t, "/jwks"); d != 1 || j != 1 {
		t.Fatalf("discovery fetched %d times, JWKS %d times; want 1 and 1", d, j)
	}
	// Wrong audience and expired tokens from the live issuer.
	_, err := c.Validate(ctx, s.token(t, url.Values{"aud": {"someone-else"}}))
	if !errors.Is(err, ErrAudienceMismatch) {
		t.Fatalf("aud: %v", err)
	}
	_, err = c.Validate(ctx, s.token(t, url.Values{"aud": {"api://e2e"}, "exp_in": {"-600"}, "iat_in": {"-900"}, "nbf_in": {"-900"}}))
	if !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
}

// Rotation: a token with a new kid makes the core refresh the JWKS once.
func TestTestkitRotation(t *testing.T) {
	s := startTestkit(t)
	c := tkClient(t, s, nil)
	ctx := context.Background()
	if _, err := c.Validate(ctx, tkToken(t, s, "ES256", "before")); err != nil {
		t.Fatal(err)
	}
	s.admin(t, "POST", "/rotate")
	claims, err := c.Validate(ctx, tkToken(t, s, "ES256", "after"))
	if err != nil || claims.Subject() != "after" {
		t.Fatalf("after rotation: %v", err)
	}
	if j := s.hits(t, "/jwks"); j != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", j)
	}
}

func TestTestkitTLSTrust(t *testing.T) {
	s := startTestkit(t)
	ctx := context.Background()
	wrong := tkClient(t, s, func(c *Config) { c.CAFile = s.WrongCAFile })
	_, err := wrong.Validate(ctx, tkToken(t, s, "RS256", "x"))
	var oe *Error
	if !errors.Is(err, ErrTLS) || !errors.As(err, &oe) || oe.HTTPStatus != 503 {
		t.Fatalf("wrong CA: %v", err)
	}
	if _, err := NewClient(Config{Issuer: s.Issuer, Audiences: []string{"a"}, CAFile: "/nonexistent/ca.pem"}); !errors.Is(err, ErrCAFile) {
		t.Fatalf("missing CA file: %v", err)
	}
	if _, err := NewClient(Config{Issuer: "http://idp.example.com", Audiences: []string{"a"}}); !errors.Is(err, ErrInsecureURL) {
		t.Fatalf("http issuer: %v", err)
	}
	if _, err := NewClient(Config{Issuer: s.Issuer, Audiences: []string{"a"}, Algorithms: []string{"HS256"}}); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Fatalf("HS256: %v", err)
	}
	if _, err := NewClient(Config{Issuer: s.Issuer}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("no audience: %v", err)
	}
}

// A ctx deadline bounds Validate even while the JWKS fetch hangs; the call goes on in the
// background until the client's own timeout, and Close waits for it.
func TestTestkitContextDeadline(t *testing.T) {
	s := startTestkit(t)
	s.admin(t, "POST", "/fault?path=/jwks&mode=hang")
	c := tkClient(t, s, func(c *Config) { c.Timeout = 2 * time.Second })
	tok := tkToken(t, s, "RS256", "x")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Validate(ctx, tok)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || took > time.Second {
		t.Fatalf("deadline: %v after %v", err, took)
	}
	start = time.Now()
	c.Close() // waits for the background call, which its 2 s timeout ends
	if took := time.Since(start); took > 6*time.Second {
		t.Fatalf("Close waited %v", took)
	}

	// Without a deadline, the client's timeout ends the call: ErrTimeout, 503.
	// (another JWKS URL: the first one's fetch may still be in flight in the process-wide cache)
	c3 := tkClient(t, s, func(c *Config) { c.Timeout = time.Second; c.JWKSURI = s.JWKSURI + "?second" })
	start = time.Now()
	_, err = c3.Validate(context.Background(), tok)
	var oe *Error
	if !errors.Is(err, ErrTimeout) || !errors.As(err, &oe) || oe.HTTPStatus != 503 || time.Since(start) > 5*time.Second {
		t.Fatalf("client timeout: %v after %v", err, time.Since(start))
	}
}

func TestTestkitPrefetchFailure(t *testing.T) {
	s := startTestkit(t)
	s.admin(t, "POST", "/fault?path=/jwks&mode=503")
	c := tkClient(t, s, nil)
	if err := c.Prefetch(context.Background()); !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("prefetch with JWKS 503: %v", err)
	}
	s.admin(t, "POST", "/fault?path=/.well-known/openid-configuration&mode=garbage")
	err := tkClient(t, s, nil).Prefetch(context.Background())
	if !errors.Is(err, ErrResponseInvalid) && !errors.Is(err, ErrDiscoveryInvalid) {
		t.Fatalf("prefetch with a garbage discovery document: %v", err)
	}
}

// Many goroutines on a cold client: the process-wide cache fetches once (single flight).
func TestTestkitColdStartManyGoroutines(t *testing.T) {
	s := startTestkit(t)
	c := tkClient(t, s, nil)
	tok := tkToken(t, s, "EdDSA", "cold")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := c.Validate(ctx, tok); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if j := s.hits(t, "/jwks"); j != 1 {
		t.Fatalf("JWKS fetched %d times by 32 cold goroutines", j)
	}
}
