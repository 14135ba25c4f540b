package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuthorizationRequest describes an authorization request (RFC 6749 §4.1, OpenID Connect
// Core §3.1.2.1). Empty fields are left out; State and Nonce are generated (32 random bytes)
// when empty.
type AuthorizationRequest struct {
	RedirectURI   string
	Scopes        []string // sent space-separated ("openid email")
	State         string
	Nonce         string
	CodeChallenge string // PKCE S256 challenge (NewPKCE)
	ResponseType  string // default "code"
	ResponseMode  string // e.g. "jwt" for JARM
	// MaxAge, when set, is sent as max_age (whole seconds, rounded up).
	MaxAge *time.Duration
	// Params are further parameters: prompt, login_hint, resource (several values allowed), ...
	Params map[string][]string
	// Request is an already signed request object (RFC 9101); RequestURI one from
	// PushAuthorizationRequest (the URL then carries only client_id and request_uri).
	Request    string
	RequestURI string
}

func (r *AuthorizationRequest) json() ([]byte, error) {
	m := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("redirect_uri", r.RedirectURI)
	if len(r.Scopes) > 0 {
		s := r.Scopes[0]
		for _, x := range r.Scopes[1:] {
			s += " " + x
		}
		m["scope"] = s
	}
	set("state", r.State)
	set("nonce", r.Nonce)
	set("code_challenge", r.CodeChallenge)
	set("response_type", r.ResponseType)
	set("response_mode", r.ResponseMode)
	set("request", r.Request)
	set("request_uri", r.RequestURI)
	if r.MaxAge != nil {
		m["max_age"] = secs(*r.MaxAge)
	}
	if len(r.Params) > 0 {
		m["params"] = r.Params
	}
	return json.Marshal(m)
}

// AuthorizationURL is where to send the user agent, with the state and nonce to keep for the
// response.
type AuthorizationURL struct {
	URL   string `json:"url"`
	State string `json:"state"`
	Nonce string `json:"nonce"`
}

// AuthorizationURL builds the authorization URL (discovery on first use).
func (c *OAuthClient) AuthorizationURL(ctx context.Context, req AuthorizationRequest) (*AuthorizationURL, error) {
	body, err := req.json()
	if err != nil {
		return nil, err
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*AuthorizationURL, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			bp, bn := cstr(bytesView(body))
			return C.oidc_oauth_authorization_url(p, bp, bn, out, n, e)
		})
		if err != nil {
			return nil, err
		}
		var u AuthorizationURL
		return &u, decodeResult(b, &u)
	})
}

// PushedAuthorizationRequest is a pushed request's handle (RFC 9126): put RequestURI into
// AuthorizationRequest.RequestURI to build the URL.
type PushedAuthorizationRequest struct {
	RequestURI string        `json:"request_uri"`
	ExpiresIn  time.Duration `json:"-"`
	State      string        `json:"state"`
	Nonce      string        `json:"nonce"`
}

// PushAuthorizationRequest pushes req (RFC 9126) with this client's authentication.
func (c *OAuthClient) PushAuthorizationRequest(ctx context.Context, req AuthorizationRequest) (*PushedAuthorizationRequest, error) {
	body, err := req.json()
	if err != nil {
		return nil, err
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*PushedAuthorizationRequest, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			bp, bn := cstr(bytesView(body))
			return C.oidc_oauth_push_authorization_request(p, bp, bn, out, n, e)
		})
		if err != nil {
			return nil, err
		}
		var r struct {
			PushedAuthorizationRequest
			ExpiresIn int64 `json:"expires_in"`
		}
		if err := decodeResult(b, &r); err != nil {
			return nil, err
		}
		out := r.PushedAuthorizationRequest
		out.ExpiresIn = time.Duration(r.ExpiresIn) * time.Second
		return &out, nil
	})
}

// AuthorizationResponse is a checked authorization response. Code is a secret.
type AuthorizationResponse struct {
	Code   string            `json:"code"`
	State  string            `json:"state"`
	Issuer string            `json:"iss"`
	JARM   bool              `json:"jarm"`
	Params map[string]string `json:"params"` // every response parameter
}

// String hides the code.
func (r AuthorizationResponse) String() string {
	return fmt.Sprintf("oidc.AuthorizationResponse{Code: %s, State: %q, Issuer: %q, JARM: %v}",
		redacted(r.Code), r.State, r.Issuer, r.JARM)
}

// GoString is String.
func (r AuthorizationResponse) GoString() string { return r.String() }

// ParseAuthorizationResponse parses the response that reached the redirect URI (the full URL,
// or its query or fragment) and checks state against expectedState (ErrStateMismatch), the
// RFC 9207 iss (ErrResponseIssuerMismatch) and a JARM response JWT. An error response becomes
// its code (ErrAccessDenied, ...) with the details in Error.OAuth.
func (c *OAuthClient) ParseAuthorizationResponse(ctx context.Context, response, expectedState string) (*AuthorizationResponse, error) {
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*AuthorizationResponse, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			rp, rn := cstr(response)
			sp, sn := cstr(expectedState)
			return C.oidc_oauth_parse_authorization_response(p, rp, rn, sp, sn, out, n, e)
		})
		if err != nil {
			return nil, err
		}
		var r AuthorizationResponse
		return &r, decodeResult(b, &r)
	})
}

// EndSessionURL builds the RP-initiated logout URL; every argument is optional.
func (c *OAuthClient) EndSessionURL(ctx context.Context, idTokenHint, postLogoutRedirectURI, state string) (string, error) {
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (string, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			ip, in := cstr(idTokenHint)
			rp, rn := cstr(postLogoutRedirectURI)
			sp, sn := cstr(state)
			return C.oidc_oauth_end_session_url(p, ip, in, rp, rn, sp, sn, out, n, e)
		})
		return string(b), err
	})
}

// decodeResult decodes a JSON result of liboidc; a failure would be a bug on one side.
func decodeResult(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return &Error{Code: CodeInternal, Name: CodeInternal.String(), HTTPStatus: 500,
			Message: "unexpected result JSON from liboidc: " + err.Error()}
	}
	return nil
}
