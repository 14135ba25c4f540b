package oidc

import (
	"context"
	"math"
	"time"
)

// How a context bounds a blocking liboidc call.
//
// A liboidc call cannot be interrupted once it has started: it ends by itself, within the
// timeouts the client was built with (Timeout per HTTP exchange, at most three exchanges for a
// cold start: discovery, its RFC 8414 fallback, the JWKS). So:
//
//   - ctx is checked first: an already cancelled or expired ctx returns ctx.Err() at once.
//   - If ctx cannot end before the call's worst case does (no Done channel, or a deadline
//     further away than that), the call runs on the calling goroutine: it cannot outlive ctx,
//     and this costs nothing extra.
//   - Otherwise the call runs on a helper goroutine and the caller returns ctx.Err() as soon as
//     ctx ends. The call itself goes on in the background until its own timeouts end it; its
//     result is then dropped. Meanwhile it holds the client's read lock, so a Close waits for it.
//
// Validate makes one exception, for speed: a ctx that can be cancelled but has no deadline (an
// http.Request's context) also runs the call on the calling goroutine, because a helper
// goroutine costs several microseconds of CPU per call (scheduler hand-off), more than the
// rest of the binding. Such a call is bounded by the client's timeouts; a deadline always
// bounds it. Prefetch, which always uses the network, follows the rule above without
// exception. OAuthClient's protocol requests do not use this: they hand ctx to liboidc as an
// oidc_cancel handle (OAuthRequest.Send, request.go).
//
// await implements the last case.
func await[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-ch: // finished at the same moment: keep the result
			return r.v, r.err
		default:
			var zero T
			return zero, ctx.Err()
		}
	}
}

// endsBefore reports whether a call that blocks at most bound finishes before ctx can end:
// ctx has no Done channel, or its deadline is further away than bound.
func endsBefore(ctx context.Context, bound time.Duration) bool {
	if ctx.Done() == nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && time.Until(d) > bound
}

// deadlineAfter reports whether ctx has no deadline or one further away than bound (Validate's
// rule: cancellation without a deadline does not move a call to a helper goroutine).
func deadlineAfter(ctx context.Context, bound time.Duration) bool {
	d, ok := ctx.Deadline()
	return !ok || time.Until(d) > bound
}

// worstCase is the longest a call with per-exchange timeout total can block: three exchanges
// (discovery, the RFC 8414 fallback, the JWKS or the token endpoint) plus slack.
func worstCase(total time.Duration) time.Duration {
	if total <= 0 {
		total = defaultTotalTimeout
	}
	return 3*total + 100*time.Millisecond
}

// msec converts a duration to whole milliseconds for the C ABI, rounding up and clamping to
// [1, MaxUint32]; 0 stays 0 ("not set").
func msec(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(ms)
}

// secs converts a duration to whole seconds for the C ABI, rounding up and clamping to
// [0, MaxUint32].
func secs(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	s := (d + time.Second - 1) / time.Second
	if s > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(s)
}

// Defaults of liboidc (oidc.h, oidc_validator_builder_new) that the binding needs to know because
// the C ABI sets some values only in pairs or fours.
const (
	defaultConnectTimeout  = 5 * time.Second
	defaultTotalTimeout    = 10 * time.Second
	defaultTTLMin          = 60 * time.Second
	defaultTTLMax          = 24 * time.Hour
	defaultRefreshCooldown = 30 * time.Second
	defaultStaleIfError    = 6 * time.Hour
)
