package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/liboidc/liboidc/bindings/go"
)

// benchCache measures a repeated RS256 token (the common case: a client reuses its access token
// for minutes) through liboidc's verified-token cache, from C and from Go, against full
// validations with the cache off: Validate, and the request call (AuthenticateRequest and the
// net/http Middleware) with a Bearer token.
func benchCache() error {
	key, err := newKey("RS256")
	if err != nil {
		return err
	}
	jwks := key.jwks()
	tok := key.sign(claims())
	auth := "Bearer " + tok
	const url = "https://api.bench.test/v1/items?x=1"
	cfg := func(cache int) oidc.Config {
		return oidc.Config{Issuer: issuer, Audiences: []string{audience}, ExpectedTyp: "at+jwt", Algorithms: []string{"RS256"},
			JWKSJSON: jwks, TokenCacheSize: cache}
	}
	cached, err := oidc.NewClient(cfg(0)) // the default cache
	if err != nil {
		return err
	}
	defer cached.Close()
	full, err := oidc.NewClient(cfg(oidc.TokenCacheOff))
	if err != nil {
		return err
	}
	defer full.Close()
	rawCached, err := newRawClient(issuer, audience, jwks, -1)
	if err != nil {
		return err
	}
	defer rawCached.close()
	rawFull, err := newRawClient(issuer, audience, jwks, 0)
	if err != nil {
		return err
	}
	defer rawFull.close()

	bg := context.Background()
	req := &oidc.Request{Authorization: []string{auth}, Method: "GET", URL: url}
	hreq := httptest.NewRequest("GET", url, nil)
	hreq.Header.Set("Authorization", auth)
	var served int
	handler := oidc.Middleware(cached)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++ }))
	w := &nopWriter{h: http.Header{}}

	// Correctness first: every path allows the token; a tampered one is refused by the cached
	// client too (the cache is keyed by the exact token bytes).
	for _, c := range []*oidc.Client{cached, full} {
		d, err := c.AuthenticateRequest(bg, req)
		if err != nil || !d.Allowed || d.TokenType != "Bearer" || d.Claims.Subject() != "user-1234567890" {
			return fmt.Errorf("AuthenticateRequest: %+v %v", d, err)
		}
		if _, err := c.Validate(bg, tok); err != nil {
			return err
		}
	}
	tampered := tok[:len(tok)-4] + flip(tok[len(tok)-4:])
	if _, err := cached.Validate(bg, tampered); !errors.Is(err, oidc.ErrSignatureInvalid) {
		return fmt.Errorf("the cached client accepted a tampered token: %v", err)
	}
	handler.ServeHTTP(w, hreq)
	if served != 1 || w.status != 0 {
		return fmt.Errorf("middleware: served %d, status %d", served, w.status)
	}
	if err := rawCached.authOnce(auth, url); err != nil {
		return err
	}

	loop := func(f func() error) func(int) error {
		return func(n int) error {
			for i := 0; i < n; i++ {
				if err := f(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	validate := func(c *oidc.Client) func() error {
		return func() error { _, err := c.Validate(bg, tok); return err }
	}
	authenticate := func(c *oidc.Client) func() error {
		return func() error {
			d, err := c.AuthenticateRequest(bg, req)
			if err == nil && !d.Allowed {
				err = d.Err()
			}
			return err
		}
	}
	ms := []*measurement{
		{name: "C loop: oidc_validate, cache off", run: func(n int) error { return rawFull.loop(tok, n) }},
		{name: "C loop: oidc_validate, cache on", run: func(n int) error { return rawCached.loop(tok, n) }},
		{name: "C loop: oidc_authenticate, cache off", run: func(n int) error { return rawFull.authLoop(auth, url, n) }},
		{name: "C loop: oidc_authenticate, cache on", run: func(n int) error { return rawCached.authLoop(auth, url, n) }},
		{name: "cgo: one oidc_validate per call, cache on", run: loop(func() error { return rawCached.once(tok) })},
		{name: "cgo: one oidc_authenticate per call, cache on", run: loop(func() error { return rawCached.authOnce(auth, url) })},
		{name: "binding: Validate, cache off", run: loop(validate(full))},
		{name: "binding: Validate, cache on", run: loop(validate(cached))},
		{name: "binding: AuthenticateRequest, cache off", run: loop(authenticate(full))},
		{name: "binding: AuthenticateRequest, cache on", run: loop(authenticate(cached))},
		{name: "binding: Middleware.ServeHTTP, cache on", run: loop(func() error {
			handler.ServeHTTP(w, hreq)
			if w.status != 0 {
				return fmt.Errorf("middleware answered %d", w.status)
			}
			return nil
		})},
	}
	_, paired, err := measure(fmt.Sprintf("RS256 through the verified-token cache (token %d bytes; Bearer request)", len(tok)), ms)
	if err != nil {
		return err
	}
	fmt.Printf("  paired (cpu, ns): binding Validate over one raw cgo oidc_validate (cache on) %+.0f; "+
		"binding AuthenticateRequest over one raw cgo oidc_authenticate (cache on) %+.0f; "+
		"raw cgo oidc_authenticate over its C loop (cache on) %+.0f; Middleware over AuthenticateRequest %+.0f\n\n",
		paired("binding: Validate, cache on", "cgo: one oidc_validate per call, cache on"),
		paired("binding: AuthenticateRequest, cache on", "cgo: one oidc_authenticate per call, cache on"),
		paired("cgo: one oidc_authenticate per call, cache on", "C loop: oidc_authenticate, cache on"),
		paired("binding: Middleware.ServeHTTP, cache on", "binding: AuthenticateRequest, cache on"))
	return nil
}

// nopWriter is an http.ResponseWriter that keeps only the status (0: the handler was called and
// wrote nothing).
type nopWriter struct {
	h      http.Header
	status int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(s int)           { w.status = s }
