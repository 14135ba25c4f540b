package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"
)

// DeviceAuthorization is a pending device authorization (RFC 8628): show the user
// VerificationURI and UserCode (or VerificationURIComplete), then PollDevice. It holds the
// device code (a secret) in liboidc; Close frees it (a dropped one is freed by the garbage
// collector). Safe for concurrent use.
type DeviceAuthorization struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string        // "" when the server sent none
	ExpiresIn               time.Duration // how long the codes are valid
	Interval                time.Duration // the polling interval

	mu      sync.RWMutex
	ptr     *C.oidc_device_authorization
	cleanup runtime.Cleanup
}

func freeDeviceAuthorization(p *C.oidc_device_authorization) { C.oidc_device_authorization_free(p) }

// String shows what the user needs (the device code stays hidden).
func (d *DeviceAuthorization) String() string {
	return fmt.Sprintf("oidc.DeviceAuthorization{UserCode: %q, VerificationURI: %q, ExpiresIn: %v}",
		d.UserCode, d.VerificationURI, d.ExpiresIn)
}

// Close frees the authorization. Closing twice is harmless.
func (d *DeviceAuthorization) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ptr != nil {
		d.cleanup.Stop()
		C.oidc_device_authorization_free(d.ptr)
		d.ptr = nil
	}
	return nil
}

// DeviceAuthorization starts the device authorization grant (RFC 8628 §3.1) for scopes.
func (c *OAuthClient) DeviceAuthorization(ctx context.Context, scopes []string) (*DeviceAuthorization, error) {
	scope := strings.Join(scopes, " ")
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*DeviceAuthorization, error) {
		var out *C.oidc_device_authorization
		var e *C.oidc_error
		sp, sn := cstr(scope)
		if rc := C.oidc_oauth_device_authorization(p, sp, sn, &out, &e); rc != 0 {
			return nil, errorFrom(rc, e)
		}
		d := &DeviceAuthorization{
			UserCode:                goStringOpt(C.oidc_device_authorization_user_code(out)),
			VerificationURI:         goStringOpt(C.oidc_device_authorization_verification_uri(out)),
			VerificationURIComplete: goStringOpt(C.oidc_device_authorization_verification_uri_complete(out)),
			ExpiresIn:               time.Duration(int64(C.oidc_device_authorization_expires_in(out))) * time.Second,
			Interval:                time.Duration(uint32(C.oidc_device_authorization_interval(out))) * time.Second,
			ptr:                     out,
		}
		d.cleanup = runtime.AddCleanup(d, freeDeviceAuthorization, out)
		return d, nil
	})
}

// PollDevice polls the token endpoint until the user approves (RFC 8628 §3.4): at once, then
// once per interval; slow_down adds 5 s. It returns the tokens, ErrAccessDenied (the user
// declined), ErrExpiredToken (the codes expired), or ctx.Err(): ctx's deadline becomes
// liboidc's polling deadline and cancelling ctx cancels the wait between polls at once (a poll
// request in flight finishes first, bounded by the client's timeouts). No helper goroutine is
// involved.
func (c *OAuthClient) PollDevice(ctx context.Context, d *DeviceAuthorization) (*Token, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.ptr == nil {
		return nil, errors.New("oidc: use of closed DeviceAuthorization")
	}
	return c.poll(ctx, func(p *C.oidc_oauth_client, timeoutMS C.uint32_t, cancel *C.oidc_cancel, out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
		return C.oidc_oauth_device_poll(p, d.ptr, timeoutMS, cancel, out, e)
	})
}

// poll runs a liboidc polling call with ctx's deadline as its timeout and ctx's cancellation
// wired to an oidc_cancel handle, on the calling goroutine.
func (c *OAuthClient) poll(ctx context.Context, call func(p *C.oidc_oauth_client, timeoutMS C.uint32_t, cancel *C.oidc_cancel, out **C.oidc_token_response, e **C.oidc_error) C.oidc_result) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeoutMS := uint32(math.MaxUint32)
	if dl, ok := ctx.Deadline(); ok {
		timeoutMS = msec(time.Until(dl))
		if timeoutMS == 0 {
			return nil, context.DeadlineExceeded
		}
	}
	var cancel *C.oidc_cancel
	var e *C.oidc_error
	if rc := C.oidc_cancel_new(&cancel, &e); rc != 0 {
		return nil, errorFrom(rc, e)
	}
	var mu sync.Mutex
	freed := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !freed {
			C.oidc_cancel_cancel(cancel)
		}
	})
	defer func() {
		stop()
		mu.Lock()
		freed = true
		C.oidc_cancel_free(cancel)
		mu.Unlock()
	}()
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return nil, ErrClosed
	}
	maybeGC()
	tok, err := tokenCall(func(out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
		return call(c.ptr, C.uint32_t(timeoutMS), cancel, out, e)
	})
	if err != nil && ctx.Err() != nil && (errors.Is(err, ErrCancelled) || errors.Is(err, ErrDeadlineExceeded)) {
		return nil, ctx.Err()
	}
	return tok, err
}
