package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// CIBARequest is a pending Client-Initiated Backchannel Authentication request (poll mode).
// Close frees it (a dropped one is freed by the garbage collector). Safe for concurrent use.
type CIBARequest struct {
	AuthReqID string
	ExpiresIn time.Duration
	Interval  time.Duration

	mu      sync.RWMutex
	ptr     *C.oidc_ciba_request
	cleanup runtime.Cleanup
}

func freeCIBARequest(p *C.oidc_ciba_request) { C.oidc_ciba_request_free(p) }

// String formats the request.
func (r *CIBARequest) String() string {
	return fmt.Sprintf("oidc.CIBARequest{AuthReqID: %q, ExpiresIn: %v}", r.AuthReqID, r.ExpiresIn)
}

// Close frees the request. Closing twice is harmless.
func (r *CIBARequest) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ptr != nil {
		r.cleanup.Stop()
		C.oidc_ciba_request_free(r.ptr)
		r.ptr = nil
	}
	return nil
}

// CIBARequest starts a backchannel authentication (poll mode) with the request's parameters,
// e.g. {"scope": "openid", "login_hint": "alice", "binding_message": "W4SCT"}.
func (c *OAuthClient) CIBARequest(ctx context.Context, params map[string]any) (*CIBARequest, error) {
	body, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*CIBARequest, error) {
		var out *C.oidc_ciba_request
		var e *C.oidc_error
		bp, bn := cstr(bytesView(body))
		if rc := C.oidc_oauth_ciba_request(p, bp, bn, &out, &e); rc != 0 {
			return nil, errorFrom(rc, e)
		}
		r := &CIBARequest{
			AuthReqID: goStringOpt(C.oidc_ciba_request_auth_req_id(out)),
			ExpiresIn: time.Duration(int64(C.oidc_ciba_request_expires_in(out))) * time.Second,
			Interval:  time.Duration(uint32(C.oidc_ciba_request_interval(out))) * time.Second,
			ptr:       out,
		}
		r.cleanup = runtime.AddCleanup(r, freeCIBARequest, out)
		return r, nil
	})
}

// PollCIBA polls for the request's tokens, with PollDevice's rules and ctx handling.
func (c *OAuthClient) PollCIBA(ctx context.Context, r *CIBARequest) (*Token, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ptr == nil {
		return nil, errors.New("oidc: use of closed CIBARequest")
	}
	return c.poll(ctx, func(p *C.oidc_oauth_client, timeoutMS C.uint32_t, cancel *C.oidc_cancel, out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
		return C.oidc_oauth_ciba_poll(p, r.ptr, timeoutMS, cancel, out, e)
	})
}
