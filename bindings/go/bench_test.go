package oidc

import (
	"context"
	"testing"
	"time"
)

// go test -run '^$' -bench . -benchtime 2s
// The side-by-side comparison with golang-jwt and the raw C call is bench/ (BENCHMARKS.md).

func benchValidate(b *testing.B, ctx context.Context, decode bool) {
	c, v := vectorClient(b)
	tok, now := v.Cases[0].Token, time.Unix(v.Now, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		claims, err := c.ValidateAt(ctx, tok, now)
		if err != nil {
			b.Fatal(err)
		}
		if decode {
			_ = claims.Subject()
		}
	}
}

func BenchmarkValidateRS256(b *testing.B) { benchValidate(b, context.Background(), false) }

func BenchmarkValidateRS256Decode(b *testing.B) { benchValidate(b, context.Background(), true) }

// A cancellable ctx without a deadline (an http.Request's context).
func BenchmarkValidateRS256CancelCtx(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchValidate(b, ctx, false)
}

// A deadline beyond the client's worst case (3 × Timeout): the calling goroutine.
func BenchmarkValidateRS256Deadline(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	benchValidate(b, ctx, false)
}

// A deadline within the client's worst case: the helper-goroutine path.
func BenchmarkValidateRS256HelperGoroutine(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	benchValidate(b, ctx, false)
}

func BenchmarkValidateRS256Parallel(b *testing.B) {
	c, v := vectorClient(b)
	tok, now := v.Cases[0].Token, time.Unix(v.Now, 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.ValidateAt(context.Background(), tok, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkValidateExpiredError(b *testing.B) {
	c, v := vectorClient(b)
	var tok string
	for _, tc := range v.Cases {
		if tc.Expect == "TOKEN_EXPIRED" {
			tok = tc.Token
		}
	}
	now := time.Unix(v.Now, 0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.ValidateAt(context.Background(), tok, now); err == nil {
			b.Fatal("valid?")
		}
	}
}

// The binding's own per-call work, measured without the validation itself (which is too noisy
// to subtract on a shared machine): one extra cgo transition (oidc_string_free), the lock, the
// claims copy and the Claims allocation.
func BenchmarkOverheadCgoTransition(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = VersionNumber()
	}
}

func BenchmarkOverheadBookkeeping(b *testing.B) {
	c, _ := vectorClient(b)
	claims := make([]byte, 290)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		func() {
			c.mu.RLock()
			defer c.mu.RUnlock()
			if c.ptr == nil {
				b.Fatal("closed")
			}
			_ = newClaims(append([]byte(nil), claims...))
		}()
	}
}

// Request authentication of a Bearer request (through the verified-token cache by default).
func benchAuthenticate(b *testing.B, cache int) {
	key := newTestKey(b, "RS256")
	c, err := NewClient(Config{Issuer: testIssuer, Audiences: []string{"api://go"}, ExpectedTyp: "at+jwt",
		JWKSJSON: jwksOf(key), TokenCacheSize: cache})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := &Request{Authorization: []string{"Bearer " + key.sign(b, standardClaims("alice", "read"))}, Method: "GET",
		URL: "https://api.go.test/items"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := c.AuthenticateRequest(context.Background(), req)
		if err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}

func BenchmarkAuthenticateRequest(b *testing.B) { benchAuthenticate(b, 0) }

func BenchmarkAuthenticateRequestNoCache(b *testing.B) { benchAuthenticate(b, TokenCacheOff) }

// A denial (no token): no token work at all, so this is mostly the binding and the C ABI.
func BenchmarkAuthenticateNoToken(b *testing.B) {
	key := newTestKey(b, "RS256")
	c := staticClient(b, "api", key)
	req := &Request{Method: "GET", URL: "https://api.go.test/items"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := c.AuthenticateRequest(context.Background(), req)
		if err != nil || d.Allowed || len(d.Challenges) != 2 {
			b.Fatal(d, err)
		}
	}
}
