package oidc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bothSends runs a protocol test twice: with a ctx that cannot end (Send takes liboidc's
// blocking oidc_oauth_send) and with one that can (oidc_oauth_send_async with an oidc_cancel),
// and checks that each run took its path.
func bothSends(t *testing.T, f func(t *testing.T, ctx context.Context)) {
	t.Run("blocking", func(t *testing.T) {
		before := blockingSent.Load()
		f(t, context.Background())
		if !t.Failed() && blockingSent.Load() == before {
			t.Fatal("no request went through oidc_oauth_send")
		}
	})
	t.Run("async", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		blocking, async := blockingSent.Load(), asyncStarted.Load()
		f(t, ctx)
		if !t.Failed() && (asyncStarted.Load() == async || blockingSent.Load() != blocking) {
			t.Fatalf("with a cancellable ctx: %d blocking, %d non-blocking sends", blockingSent.Load()-blocking, asyncStarted.Load()-async)
		}
	})
}

// Every OIDC_OP_*, OIDC_PARAM_* and OIDC_FIELD_* of oidc.h has its Go constant (same name,
// same value) and back.
func TestRequestEnumsMatchHeader(t *testing.T) {
	hdr, err := os.ReadFile(filepath.Join(repoRoot, "include/oidc.h"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(prefix string, goNames map[string]uint32) {
		t.Helper()
		re := regexp.MustCompile(`\b` + prefix + `([A-Z0-9_]+)\s*=\s*(\d+)`)
		seen := map[string]bool{}
		for _, m := range re.FindAllStringSubmatch(string(hdr), -1) {
			v, _ := strconv.Atoi(m[2])
			seen[m[1]] = true
			if got, ok := goNames[m[1]]; !ok {
				t.Errorf("%s%s (%d) has no Go constant", prefix, m[1], v)
			} else if got != uint32(v) {
				t.Errorf("%s%s: header %d, Go %d", prefix, m[1], v, got)
			}
		}
		if len(seen) < 20 {
			t.Errorf("parsed only %d %s* values from oidc.h", len(seen), prefix)
		}
		for n := range goNames {
			if !seen[n] {
				t.Errorf("Go has %s%s, oidc.h does not", prefix, n)
			}
		}
	}
	invert := func(n int, name func(i int) (string, uint32)) map[string]uint32 {
		m := map[string]uint32{}
		for i := 0; i < n; i++ {
			k, v := name(i)
			m[k] = v
		}
		return m
	}
	ops, params, fields := []Operation{}, []Param{}, []Field{}
	for o := range operationNames {
		ops = append(ops, o)
	}
	for p := range paramNames {
		params = append(params, p)
	}
	for f := range fieldNames {
		fields = append(fields, f)
	}
	check("OIDC_OP_", invert(len(ops), func(i int) (string, uint32) { return ops[i].String(), uint32(ops[i]) }))
	check("OIDC_PARAM_", invert(len(params), func(i int) (string, uint32) { return params[i].String(), uint32(params[i]) }))
	check("OIDC_FIELD_", invert(len(fields), func(i int) (string, uint32) { return fields[i].String(), uint32(fields[i]) }))
	if OpRefresh.String() != "REFRESH" || Operation(999).String() != "999" || ParamDeadlineMS.String() != "DEADLINE_MS" {
		t.Fatal(OpRefresh, Operation(999), ParamDeadlineMS)
	}
}

func offlineOAuthClient(t *testing.T, cfg OAuthConfig) *OAuthClient {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = "https://idp.example.com"
	}
	c, err := NewOAuthClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// isInvalidArgument checks err is liboidc's INVALID_ARGUMENT with a message naming each of words.
func isInvalidArgument(t *testing.T, what string, err error, words ...string) {
	t.Helper()
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != CodeInvalidArgument {
		t.Fatalf("%s: want INVALID_ARGUMENT, got %v", what, err)
	}
	for _, w := range words {
		if !strings.Contains(strings.ToLower(oe.Message), strings.ToLower(w)) {
			t.Errorf("%s: the message %q does not name %q", what, oe.Message, w)
		}
	}
}

// Parameters liboidc refuses: the core's INVALID_ARGUMENT and message, at the setter (and then
// from every send) or at send, on both paths; no network is involved.
func TestRequestParameterErrors(t *testing.T) {
	c := offlineOAuthClient(t, OAuthConfig{ClientID: "x", ClientSecret: "s",
		Endpoints: map[string]string{"token_endpoint": "https://idp.example.com/oauth/token"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	local, err := c.NewRequest(OpEndpoint, With(ParamEndpointName, "token_endpoint")).Send(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()

	// A parameter that does not apply to the operation.
	r := c.NewRequest(OpRefresh).Set(ParamCode, "abc")
	isInvalidArgument(t, "CODE on REFRESH", r.Err(), "code", "refresh")
	first := r.Err()
	r.Set(ParamRefreshToken, "rt").SetInt(ParamDeadlineMS, 1000) // no effect after a failure
	if r.Err() != first {
		t.Fatalf("the first error was not kept: %v", r.Err())
	}
	for name, send := range map[string]func() error{
		"Send(Background)": func() error { _, err := r.Send(context.Background()); return err },
		"Send(ctx)":        func() error { _, err := r.Send(ctx); return err },
		"SendAsync":        func() error { return (<-r.SendAsync(ctx)).Err },
	} {
		if err := send(); err != first {
			t.Fatalf("%s: %v", name, err)
		}
	}
	r.Close()

	cases := []struct {
		name  string
		req   *OAuthRequest
		words []string
	}{
		{"a list parameter through Set", c.NewRequest(OpClientCredentials).Set(ParamScope, "read"), []string{"scope"}},
		{"a string parameter through Add", c.NewRequest(OpRefresh).Add(ParamRefreshToken, "rt"), []string{"refresh_token"}},
		{"a string parameter through SetInt", c.NewRequest(OpRefresh).SetInt(ParamRefreshToken, 1), []string{"refresh_token"}},
		{"an int parameter through Set", c.NewRequest(OpAuthorizationURL).Set(ParamMaxAge, "60"), []string{"max_age"}},
		{"a scope item with a space", c.NewRequest(OpClientCredentials).Add(ParamScope, "read write"), []string{"scope"}},
		{"an empty refresh token", c.NewRequest(OpRefresh).Set(ParamRefreshToken, ""), []string{"refresh_token"}},
		{"a custom grant_type", c.NewRequest(OpCustomGrant).AddParam("grant_type", "x"), []string{"grant_type"}},
		{"a custom client_id", c.NewRequest(OpClientCredentials).AddParam("client_id", "x"), []string{"client_id"}},
		{"a custom name with a typed parameter", c.NewRequest(OpRefresh).AddParam("refresh_token", "x"), []string{"REFRESH_TOKEN"}},
		{"SetPending on a non-poll", c.NewRequest(OpRefresh).SetPending(local), nil},
		{"SetPending with a response that started nothing", c.NewRequest(OpDevicePoll).SetPending(local), nil},
	}
	for _, tc := range cases {
		isInvalidArgument(t, tc.name, tc.req.Err(), tc.words...)
		tc.req.Close()
	}
	if err := c.NewRequest(OpClientCredentials).AddParam("x-custom", "1").Add(ParamScope, "a", "b").Err(); err != nil {
		t.Fatalf("a custom parameter: %v", err)
	}

	// A missing required parameter fails at send, on every path, before any network.
	missing := c.NewRequest(OpRefresh)
	defer missing.Close()
	if missing.Err() != nil {
		t.Fatal(missing.Err())
	}
	async := asyncStarted.Load()
	_, err = missing.Send(context.Background())
	isInvalidArgument(t, "missing refresh token (blocking)", err, "refresh_token")
	_, err = missing.Send(ctx)
	isInvalidArgument(t, "missing refresh token (ctx)", err, "refresh_token")
	isInvalidArgument(t, "missing refresh token (SendAsync)", (<-missing.SendAsync(ctx)).Err, "refresh_token")
	if asyncStarted.Load() != async {
		t.Fatal("a send refused by oidc_oauth_send_async was counted as started")
	}
	if _, err := c.Refresh(ctx, ""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Refresh with an empty token: %v", err)
	}

	// A client without a client id can only register.
	bare := offlineOAuthClient(t, OAuthConfig{})
	if err := bare.NewRequest(OpClientCredentials).Err(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("client credentials without client id: %v", err)
	}
	if err := bare.NewRequest(OpRegister).Err(); err != nil {
		t.Fatalf("register without client id: %v", err)
	}

	// Ended contexts, closed requests and clients.
	dead, stop := context.WithCancel(ctx)
	stop()
	ok := c.NewRequest(OpEndpoint, With(ParamEndpointName, "token_endpoint"))
	if _, err := ok.Send(dead); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended ctx: %v", err)
	}
	if err := (<-ok.SendAsync(dead)).Err; !errors.Is(err, context.Canceled) {
		t.Fatalf("ended ctx (SendAsync): %v", err)
	}
	ok.Close()
	ok.Close()
	if _, err := ok.Send(ctx); !errors.Is(err, ErrRequestClosed) {
		t.Fatalf("closed request: %v", err)
	}
	if err := ok.Set(ParamEndpointName, "x").Err(); !errors.Is(err, ErrRequestClosed) {
		t.Fatalf("setter on a closed request: %v", err)
	}
	c2 := offlineOAuthClient(t, OAuthConfig{ClientID: "x"})
	pending := c2.NewRequest(OpEndpoint, With(ParamEndpointName, "token_endpoint"))
	defer pending.Close()
	c2.Close()
	if _, err := pending.Send(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("request of a closed client: %v", err)
	}
	if _, err := pending.Send(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("request of a closed client (ctx): %v", err)
	}
	if err := c2.NewRequest(OpEndpoint).Err(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewRequest on a closed client: %v", err)
	}
}

// Local operations (an overridden endpoint needs no discovery): the generic request, the
// response getters, and responses of the non-blocking path freed whether closed or dropped.
func TestRequestResponsesFreed(t *testing.T) {
	const tokenURL = "https://idp.example.com/oauth/token"
	c := offlineOAuthClient(t, OAuthConfig{ClientID: "x", Endpoints: map[string]string{"token_endpoint": tokenURL}})
	req := c.NewRequest(OpEndpoint, With(ParamEndpointName, "token_endpoint"))
	defer req.Close()

	resp, err := req.Send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Operation() != OpEndpoint || resp.String(FieldURL) != tokenURL || !strings.Contains(string(resp.JSON()), tokenURL) {
		t.Fatalf("%v %q %s", resp.Operation(), resp.String(FieldURL), resp.JSON())
	}
	if _, ok := resp.Lookup(FieldAccessToken); ok {
		t.Fatal("an absent field is present")
	}
	if v, ok := resp.Int(FieldExpiresIn); ok || v != -1 {
		t.Fatalf("an absent int: %d %v", v, ok)
	}
	freed := responsesFreed.Load()
	resp.Close()
	resp.Close()
	if responsesFreed.Load() != freed+1 || resp.String(FieldURL) != "" || resp.JSON() != nil {
		t.Fatal("Close did not free the response exactly once")
	}

	// Many non-blocking sends of the same request at once; half the responses closed, half
	// dropped: all are freed.
	const n = 40
	freed = responsesFreed.Load()
	chans := make([]<-chan Result, n)
	for i := range chans {
		chans[i] = req.SendAsync(context.Background())
	}
	for i, ch := range chans {
		res := <-ch
		if res.Err != nil || res.Response.String(FieldURL) != tokenURL {
			t.Fatalf("send %d: %v", i, res)
		}
		if i%2 == 0 {
			res.Response.Close()
		}
	}
	chans = nil
	deadline := time.Now().Add(10 * time.Second)
	for responsesFreed.Load()-freed < n && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := responsesFreed.Load() - freed; got != n {
		t.Fatalf("%d of %d responses of the non-blocking path were freed", got, n)
	}
}

// The fault fixture behind the token endpoint: liboidc's error codes on both paths, and ctx
// deadlines and cancellation while the endpoint hangs.
func TestTestkitProtocolFaults(t *testing.T) {
	s := startTestkit(t)
	client := func(timeout time.Duration) *OAuthClient {
		c, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, CAFile: s.CAFile, ClientID: "svc", ClientSecret: "secret",
			Timeout: timeout, ConnectTimeout: time.Second, Endpoints: map[string]string{"token_endpoint": s.Issuer + "/token"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := client(2 * time.Second)
	for _, f := range []struct {
		mode string
		want error
	}{{"502", ErrOAuthError}, {"garbage", ErrResponseInvalid}, {"truncate", ErrResponseInvalid}, {"hang", ErrTimeout}} {
		t.Run(f.mode, func(t *testing.T) {
			bothSends(t, func(t *testing.T, ctx context.Context) {
				s.admin(t, "POST", "/fault?path=/token&mode="+f.mode)
				_, err := c.ClientCredentials(ctx, WithScope("read"))
				if !errors.Is(err, f.want) {
					t.Fatalf("%s: %v, want %v", f.mode, err, f.want)
				}
				// The fixture's 502 carries a JSON error body: liboidc reports it as the OAuth error
				// it is, with the server's code and status.
				var oe *Error
				if f.mode == "502" && (!errors.As(err, &oe) || oe.OAuth == nil || oe.OAuth.Error != "injected_fault" || oe.OAuth.HTTPStatus != 502) {
					t.Fatalf("502: %#v", err)
				}
			})
		})
	}

	s.admin(t, "POST", "/fault?path=/token&mode=hang")
	c = client(3 * time.Second)
	within := func(what string, start time.Time, max time.Duration) {
		t.Helper()
		if d := time.Since(start); d > max {
			t.Errorf("%s took %v (more than %v)", what, d, max)
		}
	}
	// Send returns at ctx's deadline; the exchange in flight ends by liboidc's cancel deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	start := time.Now()
	if _, err := c.ClientCredentials(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	cancel()
	within("Send with a 300 ms deadline", start, time.Second)

	// SendAsync: the result is liboidc's DEADLINE_EXCEEDED, before the 3 s HTTP timeout.
	req := c.NewRequest(OpClientCredentials)
	defer req.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	start = time.Now()
	if res := <-req.SendAsync(ctx); !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("SendAsync deadline: %v", res)
	}
	cancel()
	within("SendAsync with a 300 ms deadline", start, 2*time.Second)

	// The request's own deadline bounds the exchange in flight on both sends (the client's
	// timeout is 3 s).
	dl := c.NewRequest(OpClientCredentials, WithInt(ParamDeadlineMS, 300))
	defer dl.Close()
	start = time.Now()
	if res := <-dl.SendAsync(context.Background()); !errors.Is(res.Err, ErrDeadlineExceeded) {
		t.Fatalf("DEADLINE_MS (SendAsync): %v", res)
	}
	within("SendAsync with DEADLINE_MS 300", start, 2*time.Second)
	start = time.Now()
	if _, err := dl.Send(context.Background()); !errors.Is(err, ErrDeadlineExceeded) {
		t.Fatalf("DEADLINE_MS (blocking): %v", err)
	}
	within("the blocking send with DEADLINE_MS 300", start, 2*time.Second)

	// Cancellation: Send returns at once; the non-blocking send's result is CANCELLED (the
	// exchange in flight is bounded by the HTTP timeout, its result dropped).
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	if _, err := c.ClientCredentials(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	within("Send cancelled after 200 ms", start, time.Second)
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	if res := <-req.SendAsync(ctx); !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("SendAsync cancel: %v", res)
	}
	within("SendAsync cancelled after 200 ms", start, 4*time.Second)

	// Close waits for sends still in flight (here one whose ctx already ended).
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := c.ClientCredentials(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	start = time.Now()
	c.Close()
	within("Close", start, 5*time.Second)
	if _, err := req.Send(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
