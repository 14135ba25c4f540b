package oidc

import (
	"context"
	"errors"
	"testing"
	"time"
)

func vectorToken(t *testing.T, v *vectorFile, name string) string {
	t.Helper()
	for _, c := range v.Cases {
		if c.Name == name {
			return c.Token
		}
	}
	t.Fatalf("no vector %q", name)
	return ""
}

// Each Config field reaches liboidc: its effect on a vector, or its rejection when out of range.
func TestConfigOptions(t *testing.T) {
	v := loadVectors(t)
	now := time.Unix(v.Now, 0)
	ctx := context.Background()
	build := func(mod func(*Config)) (*Client, error) {
		cfg := v.config()
		mod(&cfg)
		c, err := NewClient(cfg)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return c, err
	}

	// Leeway: negative = none, so the "expired inside leeway" vector fails.
	c, err := build(func(c *Config) { c.Leeway = -1 })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ValidateAt(ctx, vectorToken(t, v, "expired inside leeway"), now); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("no leeway: %v", err)
	}
	// AnyAudience accepts the wrong-audience vector.
	c, err = build(func(c *Config) { c.Audiences = nil; c.AnyAudience = true })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ValidateAt(ctx, vectorToken(t, v, "wrong audience"), now); err != nil {
		t.Fatalf("any audience: %v", err)
	}
	// Algorithms: ES256 only refuses the RS256 vector.
	c, err = build(func(c *Config) { c.Algorithms = []string{"ES256"} })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ValidateAt(ctx, vectorToken(t, v, "valid RS256"), now); !errors.Is(err, ErrAlgorithmNotAllowed) {
		t.Fatalf("ES256 only: %v", err)
	}
	// RequiredClaims / ExpectedTyp / MaxTokenBytes unset: the corresponding vectors pass.
	c, err = build(func(c *Config) { c.RequiredClaims = nil; c.ExpectedTyp = ""; c.MaxTokenBytes = 0 })
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"missing required sub", "typ JWT instead of at+jwt"} {
		if _, err := c.ValidateAt(ctx, vectorToken(t, v, name), now); err != nil {
			t.Fatalf("%s without the rule: %v", name, err)
		}
	}
	// Every other option with valid values builds.
	if _, err := build(func(c *Config) {
		c.MaxResponseBytes = 64 << 10
		c.ConnectTimeout = 1500 * time.Millisecond
		c.Timeout = 3 * time.Second
		c.Cache = &CachePolicy{TTLMin: time.Minute, RefreshCooldown: 10 * time.Second}
		c.Realm = "api"
		c.Leeway = 30 * time.Second
	}); err != nil {
		t.Fatal(err)
	}
	// Out of range values fail at NewClient with a code.
	for name, mod := range map[string]func(*Config){
		"leeway over an hour":   func(c *Config) { c.Leeway = 2 * time.Hour },
		"tiny max token":        func(c *Config) { c.MaxTokenBytes = 8 },
		"huge timeout":          func(c *Config) { c.Timeout = time.Hour },
		"no issuer":             func(c *Config) { c.Issuer = "" },
		"no audience":           func(c *Config) { c.Audiences = nil },
		"bad static JWKS":       func(c *Config) { c.JWKSJSON = []byte(`{"keys":"no"}`) },
		"unknown algorithm":     func(c *Config) { c.Algorithms = []string{"XS999"} },
		"http JWKS URI":         func(c *Config) { c.JWKSJSON = nil; c.JWKSURI = "http://example.com/jwks" },
		"negative max token":    func(c *Config) { c.MaxTokenBytes = -1 },
		"tiny response bound":   func(c *Config) { c.MaxResponseBytes = 10 },
		"unknown prefetch mode": func(c *Config) { c.Prefetch = 3 },
		"missing CA file":       func(c *Config) { c.JWKSJSON = nil; c.CAFile = "/nonexistent.pem" }, // (a static-JWKS client never reads it)
	} {
		_, err := build(mod)
		var oe *Error
		if !errors.As(err, &oe) || oe.Code == CodeOK {
			t.Errorf("%s: want an *Error, got %v", name, err)
		}
	}
}

func TestDurationConversions(t *testing.T) {
	if msec(0) != 0 || msec(time.Microsecond) != 1 || msec(1500*time.Microsecond) != 2 || msec(time.Second) != 1000 {
		t.Fatal("msec")
	}
	if secs(-time.Second) != 0 || secs(1500*time.Millisecond) != 2 || secs(time.Minute) != 60 {
		t.Fatal("secs")
	}
	if worstCase(0) != 30*time.Second+100*time.Millisecond || worstCase(time.Second) != 3100*time.Millisecond {
		t.Fatal("worstCase")
	}
	bg := context.Background()
	short, cancel := context.WithTimeout(bg, time.Second)
	defer cancel()
	cancelOnly, cancel2 := context.WithCancel(bg)
	defer cancel2()
	if !endsBefore(bg, time.Hour) || endsBefore(short, 2*time.Second) || !endsBefore(short, time.Millisecond) || endsBefore(cancelOnly, 0) {
		t.Fatal("endsBefore")
	}
	if !deadlineAfter(bg, time.Hour) || !deadlineAfter(cancelOnly, time.Hour) || deadlineAfter(short, 2*time.Second) {
		t.Fatal("deadlineAfter")
	}
}
