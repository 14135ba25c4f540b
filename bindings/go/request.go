package oidc

/*
#include <stdint.h>
#include <oidc.h>

// goOidcOAuthResponse (request_cb.go) as _cgo_export.h declares it.
extern void goOidcOAuthResponse(void *user_data, oidc_result result, oidc_oauth_response *response, oidc_error *err);

// oidc_oauth_send_async with goOidcOAuthResponse as the callback and a cgo.Handle (an integer,
// not a Go pointer: liboidc keeps it until the callback) as its user_data.
static oidc_result go_oidc_send_async(const oidc_oauth_request *r, const oidc_cancel *cancel, uintptr_t handle,
	oidc_error **err) {
	return oidc_oauth_send_async(r, cancel, (oidc_oauth_response_cb)goOidcOAuthResponse, (void *)handle, err);
}
*/
import "C"

import (
	"context"
	"errors"
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// The protocol half of the binding is one request type over liboidc's request object
// (oidc_oauth_request): a request for an Operation, parameters set by Param, one Send. The
// per-operation methods of OAuthClient (operations.go) are written over it. Which parameters an
// operation takes, which are required and what their values may be is liboidc's rule: a
// parameter that does not apply fails with ErrInvalidArgument and liboidc's message.

// ErrRequestClosed is returned by a request or response used after its Close.
var ErrRequestClosed = errors.New("oidc: use of closed request or response")

// OAuthRequest is one protocol request (oidc_oauth_request): made by OAuthClient.NewRequest for
// an Operation, given parameters by its setters, then sent, as often as wanted, by Send or
// SendAsync (liboidc copies the request at each send).
//
// The setters return the request, for chaining. The first failed setter's error is kept: later
// setters do nothing and Err, Send and SendAsync return it.
//
// A request is safe for concurrent use; sends run concurrently, a setter waits for sends that
// are being started. Close frees it (a dropped one is freed by the garbage collector).
type OAuthRequest struct {
	client  *OAuthClient
	op      Operation
	mu      sync.RWMutex // setters and Close: write; sends: read
	ptr     *C.oidc_oauth_request
	err     error
	cleanup runtime.Cleanup
}

func freeRequest(p *C.oidc_oauth_request) { C.oidc_oauth_request_free(p) }

// OAuthOption sets parameters of a request: the optional arguments of NewRequest and of the
// per-operation methods.
type OAuthOption func(*OAuthRequest)

// With sets a string parameter (oidc_oauth_request_set_string).
func With(p Param, value string) OAuthOption { return func(r *OAuthRequest) { r.Set(p, value) } }

// WithInt sets an integer parameter (oidc_oauth_request_set_int).
func WithInt(p Param, value int64) OAuthOption {
	return func(r *OAuthRequest) { r.SetInt(p, value) }
}

// WithList adds items to a list parameter, in order (oidc_oauth_request_add_string).
func WithList(p Param, items ...string) OAuthOption {
	return func(r *OAuthRequest) { r.Add(p, items...) }
}

// WithScope adds scopes (ParamScope), one item each.
func WithScope(scopes ...string) OAuthOption { return WithList(ParamScope, scopes...) }

// WithResource adds RFC 8707 resource indicators (ParamResource).
func WithResource(resources ...string) OAuthOption { return WithList(ParamResource, resources...) }

// WithAudience adds audiences (ParamAudience).
func WithAudience(audiences ...string) OAuthOption { return WithList(ParamAudience, audiences...) }

// WithParam adds a custom parameter by its wire name (oidc_oauth_request_add_param; may repeat).
func WithParam(name, value string) OAuthOption {
	return func(r *OAuthRequest) { r.AddParam(name, value) }
}

// NewRequest makes a request for op on this client (oidc_oauth_request_new) and applies opts.
// A failure (ErrClosed, or liboidc's error, e.g. ErrInvalidConfig for a client without a client
// id) is the request's Err.
func (c *OAuthClient) NewRequest(op Operation, opts ...OAuthOption) *OAuthRequest {
	r := &OAuthRequest{client: c, op: op}
	if err := r.init(); err != nil {
		r.err = err
		return r
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func (r *OAuthRequest) init() error {
	c := r.client
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return ErrClosed
	}
	var e *C.oidc_error
	if rc := C.oidc_oauth_request_new(c.ptr, C.oidc_operation(r.op), &r.ptr, &e); rc != 0 {
		return errorFrom(rc, e)
	}
	r.cleanup = runtime.AddCleanup(r, freeRequest, r.ptr)
	return nil
}

// Operation returns the request's operation.
func (r *OAuthRequest) Operation() Operation { return r.op }

// Err returns the first error of the request's construction or setters, or nil.
func (r *OAuthRequest) Err() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.err
}

// set runs one setter under the request's write lock unless an earlier one failed.
func (r *OAuthRequest) set(f func(e **C.oidc_error) C.oidc_result) *OAuthRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r
	}
	if r.ptr == nil {
		r.err = ErrRequestClosed
		return r
	}
	maybeGC()
	var e *C.oidc_error
	if rc := f(&e); rc != 0 {
		r.err = errorFrom(rc, e)
	}
	return r
}

// emptyString is a non-NULL pointer for "": a value set to the empty string is passed to
// liboidc as such (cstr would pass NULL), and liboidc decides whether it is allowed.
var emptyString = []byte{0}

func cvalue(s string) (*C.char, C.size_t) {
	if s == "" {
		return (*C.char)(unsafe.Pointer(&emptyString[0])), 0
	}
	return cstr(s)
}

// Set sets a string parameter (oidc_oauth_request_set_string); setting it again replaces it.
func (r *OAuthRequest) Set(p Param, value string) *OAuthRequest {
	return r.set(func(e **C.oidc_error) C.oidc_result {
		vp, vn := cvalue(value)
		return C.oidc_oauth_request_set_string(r.ptr, C.oidc_param(p), vp, vn, e)
	})
}

// Add adds items to a list parameter (ParamScope, ParamResource, ParamAudience), one
// oidc_oauth_request_add_string each, in order.
func (r *OAuthRequest) Add(p Param, items ...string) *OAuthRequest {
	for _, item := range items {
		r.set(func(e **C.oidc_error) C.oidc_result {
			vp, vn := cvalue(item)
			return C.oidc_oauth_request_add_string(r.ptr, C.oidc_param(p), vp, vn, e)
		})
	}
	return r
}

// SetInt sets an integer parameter (oidc_oauth_request_set_int).
func (r *OAuthRequest) SetInt(p Param, value int64) *OAuthRequest {
	return r.set(func(e **C.oidc_error) C.oidc_result {
		return C.oidc_oauth_request_set_int(r.ptr, C.oidc_param(p), C.int64_t(value), e)
	})
}

// AddParam adds a custom parameter by wire name (oidc_oauth_request_add_param); it may repeat.
// Names liboidc sets itself or has a Param for are refused.
func (r *OAuthRequest) AddParam(name, value string) *OAuthRequest {
	return r.set(func(e **C.oidc_error) C.oidc_result {
		np, nn := cvalue(name)
		vp, vn := cvalue(value)
		return C.oidc_oauth_request_add_param(r.ptr, np, nn, vp, vn, e)
	})
}

// SetPending makes a poll request (OpDevicePoll, OpCIBAPoll) continue the flow that started
// (the response of OpDeviceAuthorization or OpCIBARequest): liboidc copies its code, interval
// and expiry (oidc_oauth_request_set_pending).
func (r *OAuthRequest) SetPending(started *OAuthResponse) *OAuthRequest {
	if started == nil {
		return r.set(func(e **C.oidc_error) C.oidc_result {
			return C.oidc_oauth_request_set_pending(r.ptr, nil, e)
		})
	}
	started.mu.RLock()
	defer started.mu.RUnlock()
	if started.ptr == nil {
		r.mu.Lock()
		if r.err == nil {
			r.err = ErrRequestClosed
		}
		r.mu.Unlock()
		return r
	}
	return r.set(func(e **C.oidc_error) C.oidc_result {
		return C.oidc_oauth_request_set_pending(r.ptr, started.ptr, e)
	})
}

// Close frees the request; sends already started are not affected. Closing twice is harmless.
func (r *OAuthRequest) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ptr != nil {
		r.cleanup.Stop()
		C.oidc_oauth_request_free(r.ptr)
		r.ptr = nil
	}
	return nil
}

// Result is the outcome of a send: a response or an error.
type Result struct {
	Response *OAuthResponse
	Err      error
}

// Send sends the request and waits for its response.
//
// ctx bounds it: an ended ctx returns ctx.Err() without sending. When ctx can end (it has a
// Done channel), the request goes through liboidc's non-blocking send with an oidc_cancel
// handle: ctx's deadline is the handle's deadline and ctx's cancellation triggers it, so a
// poll's wait or the next network step stops at once, and Send returns ctx.Err() as soon as ctx
// ends (after a cancellation, an HTTP exchange in flight finishes in the background, bounded by
// the client's timeouts, and its result is dropped; a deadline bounds the exchange too). A ctx
// that cannot end (context.Background()) uses liboidc's blocking send on the calling goroutine.
//
// Errors are *Error values (or ErrClosed, ErrRequestClosed, ctx.Err()); liboidc's CANCELLED and
// DEADLINE_EXCEEDED also match context.Canceled and context.DeadlineExceeded.
func (r *OAuthRequest) Send(ctx context.Context) (*OAuthResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ctx.Done() == nil {
		return r.sendBlocking()
	}
	ch, err := r.start(ctx)
	if err != nil {
		return nil, err
	}
	select {
	case res := <-ch:
		return res.Response, res.Err
	case <-ctx.Done():
		select {
		case res := <-ch: // finished at the same moment: keep the result
			return res.Response, res.Err
		default:
		}
		go func() { // the late result: free its response now rather than at the next GC
			if res := <-ch; res.Response != nil {
				res.Response.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// SendAsync sends the request through liboidc's non-blocking send (oidc_oauth_send_async) and
// returns at once. The channel receives exactly one Result: the response (the receiver owns it:
// Close it, or leave it to the garbage collector), or the error. ctx maps to an oidc_cancel
// handle as for Send; its end makes the result liboidc's CANCELLED or DEADLINE_EXCEEDED error
// (reported as ctx.Err()), promptly when the request is waiting.
func (r *OAuthRequest) SendAsync(ctx context.Context) <-chan Result {
	fail := func(err error) <-chan Result {
		ch := make(chan Result, 1)
		ch <- Result{Err: err}
		return ch
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	ch, err := r.start(ctx)
	if err != nil {
		return fail(err)
	}
	return ch
}

// sendBlocking is oidc_oauth_send on the calling goroutine, without a cancel handle.
func (r *OAuthRequest) sendBlocking() (*OAuthResponse, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.err != nil {
		return nil, r.err
	}
	if r.ptr == nil {
		return nil, ErrRequestClosed
	}
	c := r.client
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return nil, ErrClosed
	}
	maybeGC()
	blockingSent.Add(1)
	var out *C.oidc_oauth_response
	var e *C.oidc_error
	if rc := C.oidc_oauth_send(r.ptr, nil, &out, &e); rc != 0 {
		return nil, errorFrom(rc, e)
	}
	return newResponse(out), nil
}

// asyncSend is one oidc_oauth_send_async in flight: its result channel, its cancel handle and
// the client read lock it holds (so that OAuthClient.Close waits for it, as for a blocking call).
type asyncSend struct {
	ch     chan Result
	ctx    context.Context
	client *OAuthClient
	stop   func() bool // stops the AfterFunc that triggers cancel

	mu     sync.Mutex // cancel vs. its trigger
	cancel *C.oidc_cancel
}

func (a *asyncSend) trigger() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancel != nil {
		C.oidc_cancel_trigger(a.cancel)
	}
}

// release frees the cancel handle and releases the client; once per send.
func (a *asyncSend) release() {
	if a.stop != nil {
		a.stop()
	}
	a.mu.Lock()
	if a.cancel != nil {
		C.oidc_cancel_free(a.cancel)
		a.cancel = nil
	}
	a.mu.Unlock()
	a.client.mu.RUnlock()
}

// start sends r with oidc_oauth_send_async; the callback (goOidcOAuthResponse) delivers to the
// returned channel.
func (r *OAuthRequest) start(ctx context.Context) (<-chan Result, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.err != nil {
		return nil, r.err
	}
	if r.ptr == nil {
		return nil, ErrRequestClosed
	}
	c := r.client
	c.mu.RLock() // released by a.release
	if c.ptr == nil {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	a := &asyncSend{ch: make(chan Result, 1), ctx: ctx, client: c}
	var e *C.oidc_error
	if ctx.Done() != nil {
		var timeoutMS uint32
		if dl, ok := ctx.Deadline(); ok {
			if timeoutMS = msec(time.Until(dl)); timeoutMS == 0 {
				c.mu.RUnlock()
				return nil, context.DeadlineExceeded
			}
		}
		if rc := C.oidc_cancel_new(C.uint32_t(timeoutMS), &a.cancel, &e); rc != 0 {
			c.mu.RUnlock()
			return nil, errorFrom(rc, e)
		}
		a.stop = context.AfterFunc(ctx, a.trigger)
	}
	h := cgo.NewHandle(a)
	maybeGC()
	if rc := C.go_oidc_send_async(r.ptr, a.cancel, C.uintptr_t(h), &e); rc != 0 {
		h.Delete() // the callback never runs
		a.release()
		return nil, errorFrom(rc, e)
	}
	asyncStarted.Add(1)
	return a.ch, nil
}

// complete is the callback's work (request_cb.go): on a liboidc worker thread, exactly once.
func (a *asyncSend) complete(rc C.oidc_result, resp *C.oidc_oauth_response, e *C.oidc_error) {
	var res Result
	if rc == 0 {
		res.Response = newResponse(resp)
	} else {
		if resp != nil { // not expected: liboidc passes NULL on failure
			C.oidc_oauth_response_free(resp)
		}
		err := errorCopy(rc, e) // e is borrowed for the callback
		res.Err = err
		if (err.Code == CodeCancelled || err.Code == CodeDeadlineExceeded) && a.ctx.Err() != nil {
			res.Err = a.ctx.Err()
		}
	}
	a.release()
	a.ch <- res
}

var (
	// blockingSent and asyncStarted count sends through oidc_oauth_send and
	// oidc_oauth_send_async (for tests).
	blockingSent atomic.Int64
	asyncStarted atomic.Int64
	// responsesFreed counts responses freed, by Close or by the garbage collector (for tests).
	responsesFreed atomic.Int64
)

// OAuthResponse is the response of a send (oidc_oauth_response): typed fields, the raw JSON.
// It may hold secrets (tokens, codes). Safe for concurrent use; Close frees it (a dropped one is
// freed by the garbage collector). After Close the getters return zero values.
type OAuthResponse struct {
	mu      sync.RWMutex
	ptr     *C.oidc_oauth_response
	op      Operation
	cleanup runtime.Cleanup
}

func freeResponse(p *C.oidc_oauth_response) {
	C.oidc_oauth_response_free(p)
	responsesFreed.Add(1)
}

func newResponse(p *C.oidc_oauth_response) *OAuthResponse {
	r := &OAuthResponse{ptr: p, op: Operation(C.oidc_oauth_response_operation(p))}
	r.cleanup = runtime.AddCleanup(r, freeResponse, p)
	return r
}

// Operation returns the operation the response answers.
func (r *OAuthResponse) Operation() Operation { return r.op }

// Lookup returns a string field (oidc_oauth_response_string) and whether it is present.
func (r *OAuthResponse) Lookup(f Field) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ptr == nil {
		return "", false
	}
	p := C.oidc_oauth_response_string(r.ptr, C.oidc_field(f))
	if p == nil {
		return "", false
	}
	return C.GoString(p), true
}

// String returns a string field, "" when absent.
func (r *OAuthResponse) String(f Field) string {
	s, _ := r.Lookup(f)
	return s
}

// Int returns an integer field (oidc_oauth_response_int) and whether it is present.
func (r *OAuthResponse) Int(f Field) (int64, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ptr == nil {
		return 0, false
	}
	v := int64(C.oidc_oauth_response_int(r.ptr, C.oidc_field(f)))
	return v, v != -1
}

// JSON returns a copy of the response's JSON (oidc_oauth_response_json): the server's body, the
// resource's body as received, an ID token's claims, or the object liboidc made for a local
// operation.
func (r *OAuthResponse) JSON() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ptr == nil {
		return nil
	}
	var n C.size_t
	p := C.oidc_oauth_response_json(r.ptr, &n)
	if p == nil {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

// Close frees the response. Closing twice is harmless.
func (r *OAuthResponse) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ptr != nil {
		r.cleanup.Stop()
		freeResponse(r.ptr)
		r.ptr = nil
	}
	return nil
}

// String hides the response's content (it may hold tokens).
func (r Result) String() string {
	if r.Err != nil {
		return "oidc.Result{Err: " + r.Err.Error() + "}"
	}
	if r.Response == nil {
		return "oidc.Result{}"
	}
	return "oidc.Result{Response: " + r.Response.op.String() + "}"
}
