package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"strings"
)

// ClientCredentials runs the client credentials grant (RFC 6749 §4.4).
//
// scopes (sent space-separated), resources (RFC 8707 resource indicators, absolute URIs) and
// audience are optional. OAuth error responses come back as *Error with OAuth set, e.g.
// errors.Is(err, ErrInvalidClient) or errors.Is(err, ErrInvalidTarget).
func (c *OAuthClient) ClientCredentials(ctx context.Context, scopes []string, resources []string, audience string) (*Token, error) {
	scope := strings.Join(scopes, " ")
	resource, err := joinResources(resources)
	if err != nil {
		return nil, err
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Token, error) {
		return tokenCall(func(out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
			sp, sn := cstr(scope)
			rp, rn := cstr(resource)
			ap, an := cstr(audience)
			return C.oidc_oauth_client_credentials(p, sp, sn, rp, rn, ap, an, out, e)
		})
	})
}

// ClientCredentialsCached is ClientCredentials through the client's token cache: the same
// scopes, resources and audience reuse one token until 30 s before it expires, and concurrent
// callers share a single request. Call it per outgoing request instead of keeping tokens.
func (c *OAuthClient) ClientCredentialsCached(ctx context.Context, scopes []string, resources []string, audience string) (*Token, error) {
	scope := strings.Join(scopes, " ")
	resource, err := joinResources(resources)
	if err != nil {
		return nil, err
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Token, error) {
		return tokenCall(func(out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
			sp, sn := cstr(scope)
			rp, rn := cstr(resource)
			ap, an := cstr(audience)
			return C.oidc_oauth_client_credentials_cached(p, sp, sn, rp, rn, ap, an, out, e)
		})
	})
}
