package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Process-wide calls: Metrics, ExportCache / ImportCache, Config.Prefetch, SetLogger,
// ShutdownWorkers / ConfigureWorkers.

func mustMetrics(t testing.TB) *MetricsSnapshot {
	t.Helper()
	m, err := Metrics()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitUntil polls cond every few milliseconds for at most d.
func waitUntil(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---- Metrics ---------------------------------------------------------------------------------

func TestMetricsCountValidations(t *testing.T) {
	c, v := vectorClient(t)
	before := mustMetrics(t)
	ctx := context.Background()
	if _, err := c.ValidateAt(ctx, vectorToken(t, v, "valid ES256"), time.Unix(v.Now, 0)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.Validate(ctx, "not-a-jws"); !errors.Is(err, ErrTokenMalformed) {
			t.Fatalf("malformed: %v", err)
		}
	}
	after := mustMetrics(t)
	if after.Validations.OK < before.Validations.OK+1 || after.Validations.Failed < before.Validations.Failed+3 {
		t.Fatalf("validations before %+v, after %+v", before.Validations, after.Validations)
	}
	name := CodeTokenMalformed.String()
	if got := after.Validations.FailedByReason[name] - before.Validations.FailedByReason[name]; got < 3 {
		t.Fatalf("failed_by_reason[%s] grew by %d, want >= 3: %s", name, got, after.Raw)
	}
}

// The typed snapshot names every counter liboidc reports and nothing else: a counter added to
// (or renamed in) oidc_metrics_json fails this until MetricsSnapshot follows.
func TestMetricsSchemaMatchesLiboidc(t *testing.T) {
	m := mustMetrics(t)
	dec := json.NewDecoder(strings.NewReader(string(m.Raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(new(MetricsSnapshot)); err != nil {
		t.Fatalf("liboidc reports a counter MetricsSnapshot lacks: %v\n%s", err, m.Raw)
	}
	typed, _ := json.Marshal(m)
	var want, got map[string]any
	if err := json.Unmarshal(m.Raw, &want); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(typed, &got)
	if w, g := keyPaths(want, ""), keyPaths(got, ""); strings.Join(w, " ") != strings.Join(g, " ") {
		t.Fatalf("counters: liboidc %v, MetricsSnapshot %v", w, g)
	}
}

// keyPaths lists the object members of v recursively ("cache.hits", ...), not the contents of
// failed_by_reason (keyed by result names).
func keyPaths(v map[string]any, prefix string) []string {
	var out []string
	for k, x := range v {
		out = append(out, prefix+k)
		if sub, ok := x.(map[string]any); ok && k != "failed_by_reason" {
			out = append(out, keyPaths(sub, prefix+k+".")...)
		}
	}
	sort.Strings(out)
	return out
}

// ---- warm start: ExportCache / ImportCache ---------------------------------------------------

// A snapshot exported after a validation carries the JWKS URL and the metadata; a fresh process
// (this test binary, re-run as TestWarmStartChild) imports it, with and without a client, and
// validates with zero fetches, by the testkit's count and by liboidc's own counters.
func TestCacheSnapshotWarmStart(t *testing.T) {
	s := startTestkit(t)
	before := mustMetrics(t)
	c := tkClient(t, s, nil)
	if _, err := c.Validate(context.Background(), tkToken(t, s, "ES256", "cold")); err != nil {
		t.Fatal(err)
	}
	after := mustMetrics(t)
	if after.Cache.JWKSFetches < before.Cache.JWKSFetches+1 || after.Discovery.Fetches < before.Discovery.Fetches+1 {
		t.Fatalf("a cold validation did not count its fetches: cache %+v, discovery %+v", after.Cache, after.Discovery)
	}
	snap, err := c.ExportCache()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int `json:"version"`
		KeySets []struct {
			JWKSURI string `json:"jwks_uri"`
		} `json:"key_sets"`
		Metadata []struct {
			Issuer string `json:"issuer"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(snap, &doc); err != nil {
		t.Fatalf("%v: %s", err, snap)
	}
	if doc.Version != 1 || len(doc.KeySets) != 1 || doc.KeySets[0].JWKSURI != s.JWKSURI ||
		len(doc.Metadata) != 1 || doc.Metadata[0].Issuer != s.Issuer {
		t.Fatalf("the client's snapshot: %s", snap)
	}
	all, err := ExportCache()
	if err != nil || !strings.Contains(string(all), `"jwks_uri":"`+s.JWKSURI+`"`) {
		t.Fatalf("the process snapshot lacks %s (%v)", s.JWKSURI, err)
	}

	path := filepath.Join(t.TempDir(), "snapshot.json")
	if err := os.WriteFile(path, snap, 0o600); err != nil {
		t.Fatal(err)
	}
	token := tkToken(t, s, "ES256", "warm")
	d0, j0 := s.hits(t, "/.well-known/openid-configuration"), s.hits(t, "/jwks")
	for _, withClient := range []string{"", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWarmStartChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "OIDC_GO_WARM_SNAPSHOT="+path, "OIDC_GO_WARM_ISSUER="+s.Issuer,
			"OIDC_GO_WARM_CA="+s.CAFile, "OIDC_GO_WARM_TOKEN="+token, "OIDC_GO_WARM_WITH_CLIENT="+withClient)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "WARM-CHILD-OK") {
			t.Fatalf("child (with client %q): %v\n%s", withClient, err, out)
		}
	}
	if d, j := s.hits(t, "/.well-known/openid-configuration"), s.hits(t, "/jwks"); d != d0 || j != j0 {
		t.Fatalf("the warm children fetched: discovery %d -> %d, JWKS %d -> %d", d0, d, j0, j)
	}
}

// TestWarmStartChild is the fresh process of TestCacheSnapshotWarmStart (skipped otherwise).
func TestWarmStartChild(t *testing.T) {
	path := os.Getenv("OIDC_GO_WARM_SNAPSHOT")
	if path == "" {
		t.Skip("the child half of TestCacheSnapshotWarmStart")
	}
	snap, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Issuer: os.Getenv("OIDC_GO_WARM_ISSUER"), Audiences: []string{"api://e2e"}, ExpectedTyp: "at+jwt",
		CAFile: os.Getenv("OIDC_GO_WARM_CA")}
	var c *Client
	var n int
	if os.Getenv("OIDC_GO_WARM_WITH_CLIENT") != "" {
		if c, err = NewClient(cfg); err != nil {
			t.Fatal(err)
		}
		n, err = ImportCache(snap, c) // expiry clamped to this client's TTL maximum
	} else {
		n, err = ImportCache(snap, nil)
		if err == nil {
			c, err = NewClient(cfg)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n != 2 {
		t.Fatalf("imported %d entries, want 2 (the key set and the metadata)", n)
	}
	claims, err := c.Validate(context.Background(), os.Getenv("OIDC_GO_WARM_TOKEN"))
	if err != nil || claims.Subject() != "warm" {
		t.Fatalf("warm validation: %v", err)
	}
	m := mustMetrics(t)
	if m.Cache.JWKSFetches != 0 || m.Discovery.Fetches != 0 || m.Snapshot.Imported != 2 || m.Validations.OK != 1 {
		t.Fatalf("liboidc counted fetches in the warm process: %s", m.Raw)
	}
	fmt.Println("WARM-CHILD-OK")
}

func TestImportCacheRejectsBadSnapshots(t *testing.T) {
	if n, err := ImportCache([]byte(`{"version":1}`), nil); n != 0 || err != nil {
		t.Fatalf("empty snapshot: %d, %v", n, err)
	}
	for name, snap := range map[string]string{
		"not JSON":      "{not json",
		"empty":         "",
		"wrong version": `{"version":2}`,
		"no jwks_uri":   `{"version":1,"key_sets":[{"expires_at":1e12,"trust":"0","jwks":{"keys":[]}}]}`,
	} {
		if _, err := ImportCache([]byte(snap), nil); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Keys go through the JWKS parser; a bad key set fails the whole import.
	exp := float64(time.Now().Add(time.Hour).Unix())
	bad := fmt.Sprintf(`{"version":1,"key_sets":[{"jwks_uri":"https://bad.go.test/jwks","trust":"0","expires_at":%v,"jwks":{"keys":"nope"}}]}`, exp)
	if _, err := ImportCache([]byte(bad), nil); !errors.Is(err, ErrJWKSInvalid) {
		t.Fatalf("invalid key set: %v", err)
	}
	all, err := ExportCache()
	if err != nil || strings.Contains(string(all), "bad.go.test") {
		t.Fatalf("a failed import changed the cache (%v): %s", err, all)
	}
	c, _ := vectorClient(t)
	c.Close()
	if _, err := c.ExportCache(); !errors.Is(err, ErrClosed) {
		t.Fatalf("ExportCache after Close: %v", err)
	}
	if _, err := ImportCache([]byte(`{"version":1}`), c); !errors.Is(err, ErrClosed) {
		t.Fatalf("ImportCache with a closed client: %v", err)
	}
}

// ---- Config.Prefetch ---------------------------------------------------------------------

func TestPrefetchModes(t *testing.T) {
	// Fail fast: NewClient returns the fetch's error for an unreachable issuer...
	_, err := NewClient(Config{Issuer: "https://127.0.0.1:9", Audiences: []string{"x"}, Prefetch: PrefetchFailFast,
		ConnectTimeout: 500 * time.Millisecond, Timeout: time.Second})
	if !errors.Is(err, ErrNetwork) {
		t.Fatalf("fail fast, unreachable issuer: %v", err)
	}
	// ... and for a failing JWKS endpoint; without prefetch the same client builds.
	s := startTestkit(t)
	s.admin(t, "POST", "/fault?path=/jwks&mode=503&count=1")
	if _, err := NewClient(Config{Issuer: s.Issuer, Audiences: []string{"api://e2e"}, CAFile: s.CAFile,
		Prefetch: PrefetchFailFast}); !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("fail fast, JWKS 503: %v", err)
	}
	// Fail fast on a healthy issuer: the keys are there when NewClient returns.
	s = startTestkit(t)
	c := tkClient(t, s, func(c *Config) { c.Prefetch = PrefetchFailFast })
	if d, j := s.hits(t, "/.well-known/openid-configuration"), s.hits(t, "/jwks"); d != 1 || j != 1 {
		t.Fatalf("after a fail-fast NewClient: discovery %d, JWKS %d fetches; want 1 and 1", d, j)
	}
	if _, err := c.Validate(context.Background(), tkToken(t, s, "RS256", "ff")); err != nil || s.hits(t, "/jwks") != 1 {
		t.Fatalf("validation after fail-fast prefetch: %v, %d JWKS fetches", err, s.hits(t, "/jwks"))
	}
	// Background: NewClient returns at once and the keys arrive without a validation asking.
	s = startTestkit(t)
	c = tkClient(t, s, func(c *Config) { c.Prefetch = PrefetchBackground })
	waitUntil(t, "the background prefetch", 10*time.Second, func() bool { return s.hits(t, "/jwks") == 1 })
	waitUntil(t, "the key set in the cache", 10*time.Second, func() bool {
		snap, err := c.ExportCache()
		return err == nil && strings.Contains(string(snap), s.JWKSURI)
	})
	if _, err := c.Validate(context.Background(), tkToken(t, s, "EdDSA", "bg")); err != nil || s.hits(t, "/jwks") != 1 {
		t.Fatalf("validation after background prefetch: %v, %d JWKS fetches", err, s.hits(t, "/jwks"))
	}
	// Other values are liboidc's to reject.
	if _, err := NewClient(Config{Issuer: s.Issuer, Audiences: []string{"x"}, Prefetch: 9}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("prefetch mode 9: %v", err)
	}
	if PrefetchBackground.String() != "background" || PrefetchMode(9).String() != "PrefetchMode(9)" {
		t.Fatal("PrefetchMode.String")
	}
}

// ---- SetLogger ---------------------------------------------------------------------------

type logRecord struct {
	level   slog.Level
	target  string
	message string
}

// captureHandler is a slog.Handler keeping what it is given, safe for concurrent use.
type captureHandler struct {
	level slog.Level
	mu    sync.Mutex
	recs  []logRecord
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *captureHandler) WithGroup(string) slog.Handler                { return h }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, message: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "target" {
			rec.target = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, rec)
	h.mu.Unlock()
	return nil
}

func (h *captureHandler) records() []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]logRecord(nil), h.recs...)
}

func (h *captureHandler) has(level slog.Level, target, substr string) bool {
	for _, r := range h.records() {
		if r.level == level && r.target == target && strings.Contains(r.message, substr) {
			return true
		}
	}
	return false
}

func setLogger(t *testing.T, l *slog.Logger) {
	t.Helper()
	if err := SetLogger(l); err != nil {
		t.Fatal(err)
	}
}

func delivered(levels ...int) int64 {
	var n int64
	for _, l := range levels {
		n += logDelivered[l].Load()
	}
	return n
}

// emptySnapshot imports nothing, but liboidc logs the import (info, "oidc::snapshot") on the
// calling thread: a deterministic message.
var emptySnapshot = []byte(`{"version":1}`)

func TestSetLogger(t *testing.T) {
	t.Cleanup(func() { SetLogger(nil) })
	a := &captureHandler{level: LevelTrace}
	setLogger(t, slog.New(a))
	if _, err := ImportCache(emptySnapshot, nil); err != nil {
		t.Fatal(err)
	}
	if !a.has(slog.LevelInfo, "oidc::snapshot", "snapshot imported: 0 entries") {
		t.Fatalf("no snapshot message: %+v", a.records())
	}

	// Fetches (info) and a failed fetch (error), the URL shown without its query; no token.
	s := startTestkit(t)
	s.admin(t, "POST", "/fault?path=/jwks&mode=503")
	c := tkClient(t, s, func(c *Config) { c.JWKSURI = s.JWKSURI + "?key=s3cr3t-query" })
	token := tkToken(t, s, "ES256", "logged")
	if _, err := c.Validate(context.Background(), token); !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("JWKS 503: %v", err)
	}
	if !a.has(slog.LevelInfo, "oidc::cache", "fetching keys from "+s.JWKSURI) ||
		!a.has(slog.LevelError, "oidc::cache", "key fetch failed") {
		t.Fatalf("no fetch messages: %+v", a.records())
	}
	for _, r := range a.records() {
		if strings.Contains(r.message, "s3cr3t") {
			t.Fatalf("a log message shows the URL's query: %q", r.message)
		}
		for _, seg := range strings.Split(token, ".") {
			if strings.Contains(r.message, seg) {
				t.Fatalf("a log message shows the token: %q", r.message)
			}
		}
	}

	// From liboidc's own threads: a background prefetch logs on the worker pool.
	s2 := startTestkit(t)
	tkClient(t, s2, func(c *Config) { c.Prefetch = PrefetchBackground })
	waitUntil(t, "the pool's fetch message", 10*time.Second, func() bool {
		return a.has(slog.LevelInfo, "oidc::cache", "rejected) from "+s2.JWKSURI) // "loaded N keys (0 rejected) from …"
	})

	// Replaced by a logger enabled from warn on: liboidc no longer even delivers info messages.
	b := &captureHandler{level: slog.LevelWarn}
	setLogger(t, slog.New(b))
	nA, verbose := len(a.records()), delivered(3, 4, 5)
	if _, err := ImportCache(emptySnapshot, nil); err != nil {
		t.Fatal(err)
	}
	if len(a.records()) != nA || len(b.records()) != 0 || delivered(3, 4, 5) != verbose {
		t.Fatalf("after replacing with a warn logger: old got %d more, new got %d, %d info+ messages delivered",
			len(a.records())-nA, len(b.records()), delivered(3, 4, 5)-verbose)
	}
	// Removed: nothing is delivered at all.
	setLogger(t, nil)
	total := delivered(1, 2, 3, 4, 5)
	if _, err := ImportCache(emptySnapshot, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Validate(context.Background(), token); err == nil {
		t.Fatal("JWKS still 503: want an error")
	}
	if delivered(1, 2, 3, 4, 5) != total || len(b.records()) != 0 {
		t.Fatalf("messages delivered after SetLogger(nil): %d", delivered(1, 2, 3, 4, 5)-total)
	}
}

// SetLogger racing with itself and with logging calls: no race, no lost final state.
func TestSetLoggerConcurrently(t *testing.T) {
	t.Cleanup(func() { SetLogger(nil) })
	loggers := []*slog.Logger{slog.New(&captureHandler{level: slog.LevelInfo}), slog.New(&captureHandler{level: slog.LevelError}), nil}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				var err error
				if g%2 == 0 {
					err = SetLogger(loggers[(g+i)%len(loggers)])
				} else {
					_, err = ImportCache(emptySnapshot, nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	last := &captureHandler{level: slog.LevelInfo}
	setLogger(t, slog.New(last))
	if _, err := ImportCache(emptySnapshot, nil); err != nil {
		t.Fatal(err)
	}
	if !last.has(slog.LevelInfo, "oidc::snapshot", "snapshot imported") {
		t.Fatalf("the last logger set got nothing: %+v", last.records())
	}
}

// ---- ShutdownWorkers / ConfigureWorkers --------------------------------------------------

// poolThreads counts liboidc's worker pool threads in this process by name (-1 without /proc).
func poolThreads() int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	n := 0
	for _, task := range tasks {
		b, _ := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "comm"))
		if strings.HasPrefix(string(b), "oidc-worker") || strings.HasPrefix(string(b), "oidc-completer") {
			n++
		}
	}
	return n
}

func TestShutdownWorkers(t *testing.T) {
	if err := ConfigureWorkers(0, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("queue capacity 0: %v", err)
	}
	if err := ConfigureWorkers(-1, 4096); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("threads -1: %v", err)
	}
	if err := ConfigureWorkers(2, 4096); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ConfigureWorkers(0, 4096) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Whatever earlier tests started: a call they left running (a helper goroutine of an ended
	// context, a queued background prefetch) may start a new pool after a shutdown, so this
	// precondition shuts down again until no pool thread is left (the strict check is below,
	// on this test's own pool).
	waitUntil(t, "no pool thread in /proc (after ShutdownWorkers of earlier tests' pools)", 10*time.Second, func() bool {
		if err := ShutdownWorkers(ctx); err != nil {
			t.Fatal(err)
		}
		return poolThreads() <= 0
	})

	// A background prefetch starts the pool (2 workers + the completer)...
	s := startTestkit(t)
	c := tkClient(t, s, func(c *Config) { c.Prefetch = PrefetchBackground })
	waitUntil(t, "the background prefetch", 10*time.Second, func() bool { return s.hits(t, "/jwks") == 1 })
	if m := mustMetrics(t); m.Async.Threads != 2 {
		t.Fatalf("pool threads by liboidc's count: %d, want 2", m.Async.Threads)
	}
	waitUntil(t, "3 pool threads in /proc", 5*time.Second, func() bool { n := poolThreads(); return n == 3 || n == -1 })
	// ... which ShutdownWorkers stops and joins.
	if err := ShutdownWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	// A joined thread can linger in /proc for a moment after pthread_join returns.
	waitUntil(t, "no pool thread in /proc (after ShutdownWorkers)", 2*time.Second, func() bool { return poolThreads() <= 0 })
	if m := mustMetrics(t); m.Async.Threads != 0 {
		t.Fatalf("liboidc still counts %d pool threads", m.Async.Threads)
	}
	if err := ShutdownWorkers(context.Background()); err != nil { // no pool: nothing to do
		t.Fatal(err)
	}
	if _, err := c.Validate(ctx, tkToken(t, s, "ES256", "after-shutdown")); err != nil {
		t.Fatal("the cache outlives the pool:", err)
	}

	// The next use starts a new pool; a cancellable ctx without a deadline works too.
	tkClient(t, s, func(c *Config) { c.Prefetch = PrefetchBackground; c.JWKSURI = s.JWKSURI + "?again" })
	waitUntil(t, "a new pool's prefetch", 10*time.Second, func() bool { return s.hits(t, "/jwks") == 2 })
	cctx, ccancel := context.WithCancel(context.Background())
	defer ccancel()
	if err := ShutdownWorkers(cctx); err != nil {
		t.Fatal(err)
	}
	// A joined thread can linger in /proc for a moment after pthread_join returns.
	waitUntil(t, "no pool thread in /proc (after the second ShutdownWorkers)", 2*time.Second, func() bool { return poolThreads() <= 0 })
	ccancel()
	if err := ShutdownWorkers(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended ctx: %v", err)
	}
}
