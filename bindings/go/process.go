package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"math"
	"runtime"
	"time"
	"unsafe"
)

// Process-wide calls: key-cache snapshots (warm start), counters, liboidc's worker pool.

// ExportCache returns a JSON snapshot of the whole process's key cache: the fresh key sets (each
// with its absolute expiry time) and the issuer metadata discovered so far. Give it to
// ImportCache in a fresh process (a pre-fork worker, a serverless cold start) to validate with
// zero fetches. It holds public keys and metadata only, no secrets. Client.ExportCache exports
// one client's entries.
func ExportCache() ([]byte, error) {
	if err := checkLoaded(); err != nil {
		return nil, err
	}
	return exportCache(nil)
}

// ExportCache is the package-level ExportCache limited to this client's key set and issuer
// metadata.
func (c *Client) ExportCache() ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return nil, ErrClosed
	}
	return exportCache(c.ptr)
}

func exportCache(client *C.oidc_validator) ([]byte, error) {
	var out *C.char
	var n C.size_t
	var e *C.oidc_error
	if rc := C.oidc_cache_export_json(client, &out, &n, &e); rc != 0 {
		return nil, errorFrom(rc, e)
	}
	return takeBytes(out, n), nil
}

// ImportCache imports a snapshot made by ExportCache into the process-wide key cache and returns
// the number of entries taken. liboidc treats imported keys as fetched ones: every key set goes
// through the same parser, metadata through the same discovery checks when used; an expired
// entry is skipped (fetched again as on a cold start) and one older than what is cached does not
// replace it. Each entry expires at its absolute time, clamped to the TTL maximum of client
// (Config.Cache), or to liboidc's default when client is nil. A malformed snapshot or an invalid
// key set fails the whole import (ErrInvalidArgument, ErrJWKSInvalid, ...) and changes nothing.
func ImportCache(snapshot []byte, client *Client) (int, error) {
	if err := checkLoaded(); err != nil {
		return 0, err
	}
	var p *C.oidc_validator
	if client != nil {
		client.mu.RLock()
		defer client.mu.RUnlock()
		if p = client.ptr; p == nil {
			return 0, ErrClosed
		}
	}
	var n C.size_t
	var e *C.oidc_error
	sp, sn := cstr(bytesView(snapshot)) // read during the call only
	rc := C.oidc_cache_import_json(p, sp, sn, &n, &e)
	runtime.KeepAlive(snapshot)
	if rc != 0 {
		return 0, errorFrom(rc, e)
	}
	return int(n), nil
}

// SetSnapshotKey sets (or, with an empty key, clears) the process-wide key that authenticates
// cache snapshots (HMAC-SHA256, 16 to 1024 bytes): ExportCache then adds a MAC and ImportCache
// refuses a snapshot without a valid one. Without a key, treat a snapshot as configuration.
func SetSnapshotKey(key []byte) error {
	if err := checkLoaded(); err != nil {
		return err
	}
	var e *C.oidc_error
	var p *C.uint8_t
	if len(key) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&key[0]))
	}
	rc := C.oidc_snapshot_set_key(p, C.size_t(len(key)), &e)
	runtime.KeepAlive(key)
	if rc != 0 {
		return errorFrom(rc, e)
	}
	return nil
}

// MetricsSnapshot is liboidc's process-wide counters at one moment (oidc_metrics_json). Counters
// only grow; Async.InFlight and Async.QueueDepth are gauges.
type MetricsSnapshot struct {
	Validations struct {
		OK     uint64 `json:"ok"`
		Failed uint64 `json:"failed"`
		// FailedByReason counts failures by result name (Code.String(): "TOKEN_EXPIRED", ...).
		FailedByReason map[string]uint64 `json:"failed_by_reason"`
	} `json:"validations"`
	Cache struct {
		Hits                uint64 `json:"hits"`
		Misses              uint64 `json:"misses"`
		Entries             uint64 `json:"entries"`
		JWKSFetches         uint64 `json:"jwks_fetches"`
		JWKSNotModified     uint64 `json:"jwks_not_modified"`
		JWKSFetchFailures   uint64 `json:"jwks_fetch_failures"`
		BackgroundRefreshes uint64 `json:"background_refreshes"`
		RefreshFailures     uint64 `json:"refresh_failures"`
		CooldownSuppressed  uint64 `json:"cooldown_suppressed"`
		StaleServed         uint64 `json:"stale_served"`
	} `json:"cache"`
	// TokenCache counts the verified-token caches of all clients (a hit skipped the signature check).
	TokenCache struct {
		Hits   uint64 `json:"hits"`
		Misses uint64 `json:"misses"`
	} `json:"token_cache"`
	Discovery struct {
		Fetches  uint64 `json:"fetches"`
		Failures uint64 `json:"failures"`
	} `json:"discovery"`
	Snapshot struct {
		Imported uint64 `json:"imported"`
		Skipped  uint64 `json:"skipped"`
	} `json:"snapshot"`
	Async struct {
		InFlight          uint64 `json:"in_flight"`
		QueueDepth        uint64 `json:"queue_depth"`
		Threads           uint64 `json:"threads"`
		Submitted         uint64 `json:"submitted"`
		Completed         uint64 `json:"completed"`
		Cancelled         uint64 `json:"cancelled"`
		DeadlineExceeded  uint64 `json:"deadline_exceeded"`
		RejectedQueueFull uint64 `json:"rejected_queue_full"`
	} `json:"async"`
	ForkGeneration uint64 `json:"fork_generation"`
	// Raw is the JSON object as liboidc wrote it (for an exporter, or counters added later).
	Raw json.RawMessage `json:"-"`
}

// Metrics returns liboidc's process-wide counters: validations (by failure reason), the key
// cache, discovery, snapshots and the worker pool.
func Metrics() (*MetricsSnapshot, error) {
	if err := checkLoaded(); err != nil {
		return nil, err
	}
	var out *C.char
	var n C.size_t
	var e *C.oidc_error
	if rc := C.oidc_metrics_json(&out, &n, &e); rc != 0 {
		return nil, errorFrom(rc, e)
	}
	m := &MetricsSnapshot{Raw: takeBytes(out, n)}
	if err := json.Unmarshal(m.Raw, m); err != nil {
		return nil, err
	}
	return m, nil
}

// ShutdownWorkers stops liboidc's worker pool and joins its threads, for a graceful shutdown.
// The pool serves Config.Prefetch = PrefetchBackground and the refresh of key sets ahead of
// their expiry; nothing is lost by calling this early: the next use starts a new pool.
//
// Queued work is dropped without starting; running work finishes, bounded by the clients'
// timeouts. ctx's deadline bounds the wait: when threads are still busy then, the result is an
// *Error with CodeTimeout (errors.Is(err, ErrTimeout)) and they end by themselves after their
// current fetch. A ctx that can be cancelled but has no deadline is watched from a helper
// goroutine (ctx.Err() is returned at once; the join goes on).
func ShutdownWorkers(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkLoaded(); err != nil {
		return err
	}
	timeout := uint32(math.MaxUint32)
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		timeout = max(msec(time.Until(deadline)), 1)
	}
	f := func() (struct{}, error) {
		var e *C.oidc_error
		if rc := C.oidc_async_shutdown(C.uint32_t(timeout), &e); rc != 0 {
			return struct{}{}, errorFrom(rc, e)
		}
		return struct{}{}, nil
	}
	var err error
	if hasDeadline || ctx.Done() == nil {
		_, err = f()
	} else {
		_, err = await(ctx, f)
	}
	return err
}

// ConfigureWorkers bounds liboidc's worker pool: threads workers (0 = liboidc's default: the
// number of CPUs, 2 to 8) and at most queueCapacity waiting jobs (liboidc's default is 4096;
// 1 to 1048576). The queue bound applies at once, the thread count when the pool (re)starts:
// call it before building clients. Out-of-range values are liboidc's to reject
// (ErrInvalidArgument).
func ConfigureWorkers(threads, queueCapacity int) error {
	if err := checkLoaded(); err != nil {
		return err
	}
	var e *C.oidc_error
	if rc := C.oidc_async_configure(u32Arg(threads), u32Arg(queueCapacity), &e); rc != 0 {
		return errorFrom(rc, e)
	}
	return nil
}

// u32Arg passes a count to the C ABI; a negative or too large value becomes MaxUint32, which
// liboidc rejects as out of range.
func u32Arg(n int) C.uint32_t {
	if n < 0 || uint64(n) > math.MaxUint32 {
		return C.uint32_t(math.MaxUint32)
	}
	return C.uint32_t(n)
}
