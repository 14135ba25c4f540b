package oidc

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestDoubleCloseAndUseAfterClose(t *testing.T) {
	c, v := vectorClient(t)
	ctx := context.Background()
	if _, err := c.ValidateAt(ctx, v.Cases[0].Token, time.Unix(v.Now, 0)); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := c.Validate(ctx, v.Cases[0].Token); !errors.Is(err, ErrClosed) {
		t.Fatalf("Validate after Close: %v", err)
	}
	if _, err := c.ValidateAt(ctx, v.Cases[0].Token, time.Unix(v.Now, 0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("ValidateAt after Close: %v", err)
	}
	if err := c.Prefetch(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Prefetch after Close: %v", err)
	}
	// With a ctx that forces the helper-goroutine path too.
	dctx, cancel := context.WithTimeout(ctx, time.Millisecond*500)
	defer cancel()
	if _, err := c.Validate(dctx, v.Cases[0].Token); !errors.Is(err, ErrClosed) {
		t.Fatalf("Validate(deadline) after Close: %v", err)
	}

	o, err := NewOAuthClient(OAuthConfig{Issuer: "https://idp.example.com", ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	o.Close()
	if _, err := o.ClientCredentials(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("ClientCredentials after Close: %v", err)
	}
}

// Clients dropped without Close are freed by their cleanup once unreachable.
func TestFinalizerFreesClients(t *testing.T) {
	v := loadVectors(t)
	before := cleanups.Load()
	const n = 20
	func() {
		for i := 0; i < n; i++ {
			c, err := NewClient(v.config())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ValidateAt(context.Background(), v.Cases[0].Token, time.Unix(v.Now, 0)); err != nil {
				t.Fatal(err)
			}
			o, err := NewOAuthClient(OAuthConfig{Issuer: "https://idp.example.com", ClientID: "x"})
			if err != nil {
				t.Fatal(err)
			}
			_ = o
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for cleanups.Load()-before < 2*n && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := cleanups.Load() - before; got < 2*n {
		t.Fatalf("%d of %d dropped clients were freed", got, 2*n)
	}
	// A closed client's cleanup is cancelled: it is not freed twice.
	c, err := NewClient(v.config())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c = nil
	mark := cleanups.Load()
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if cleanups.Load() != mark {
		t.Fatal("a closed client was freed again by its cleanup")
	}
}

// Close racing with many validating goroutines: every call either succeeds or sees ErrClosed,
// and the race detector sees nothing.
func TestCloseRacesCalls(t *testing.T) {
	for round := 0; round < 5; round++ {
		c, v := vectorClient(t)
		now := time.Unix(v.Now, 0)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 64)
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				<-start
				for i := 0; i < 200; i++ {
					var err error
					if i%2 == 0 {
						_, err = c.ValidateAt(context.Background(), v.Cases[0].Token, now)
					} else {
						ctx, cancel := context.WithTimeout(context.Background(), time.Second)
						_, err = c.ValidateAt(ctx, v.Cases[g%4].Token, now)
						cancel()
					}
					if err != nil && !errors.Is(err, ErrClosed) {
						errs <- err
						return
					}
				}
			}(g)
		}
		close(start)
		time.Sleep(time.Duration(round) * time.Millisecond)
		c.Close()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

func TestConcurrentValidation(t *testing.T) {
	c, v := vectorClient(t)
	now := time.Unix(v.Now, 0)
	var wg sync.WaitGroup
	failures := make(chan string, 100)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				tc := v.Cases[(g*7+i)%len(v.Cases)]
				claims, err := c.ValidateAt(context.Background(), tc.Token, now)
				got := 0
				var oe *Error
				if errors.As(err, &oe) {
					got = int(oe.Code)
				} else if err != nil {
					got = -1
				}
				if got != tc.Code || (err == nil && claims.Subject() != "alice") {
					failures <- tc.Name
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Errorf("concurrent validation of %q differed", f)
	}
}

// Claims are safe to read from many goroutines (lazy decoding).
func TestClaimsConcurrentAccess(t *testing.T) {
	c, v := vectorClient(t)
	claims, err := c.ValidateAt(context.Background(), v.Cases[0].Token, time.Unix(v.Now, 0))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if claims.Subject() != "alice" || claims.String("scope") != "read write" {
				t.Error("claims")
			}
		}()
	}
	wg.Wait()
}

func TestContextAlreadyDone(t *testing.T) {
	c, v := vectorClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Validate(ctx, v.Cases[0].Token); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	if err := c.Prefetch(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}
