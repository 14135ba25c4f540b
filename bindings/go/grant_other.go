package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"strings"
)

// paramsJSON encodes optional grant parameters (nil or empty: none).
func paramsJSON(params map[string]any) ([]byte, error) {
	if len(params) == 0 {
		return nil, nil
	}
	return json.Marshal(params)
}

// TokenExchange runs the token exchange grant (RFC 8693). subjectTokenType defaults to
// "urn:ietf:params:oauth:token-type:access_token"; params may add audience, resource (string or
// list), scope, requested_token_type, actor_token, actor_token_type, ...
func (c *OAuthClient) TokenExchange(ctx context.Context, subjectToken, subjectTokenType string, params map[string]any) (*Token, error) {
	body, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Token, error) {
		return tokenCall(func(out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
			sp, sn := cstr(subjectToken)
			tp, tn := cstr(subjectTokenType)
			bp, bn := cstr(bytesView(body))
			return C.oidc_oauth_token_exchange(p, sp, sn, tp, tn, bp, bn, out, e)
		})
	})
}

// JWTBearer runs the JWT bearer grant (RFC 7523 §2.1) with an assertion, or with subject to
// have liboidc sign one with the client's private key.
func (c *OAuthClient) JWTBearer(ctx context.Context, assertion, subject string, scopes []string) (*Token, error) {
	scope := strings.Join(scopes, " ")
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Token, error) {
		return tokenCall(func(out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
			ap, an := cstr(assertion)
			sp, sn := cstr(subject)
			cp, cn := cstr(scope)
			return C.oidc_oauth_jwt_bearer(p, ap, an, sp, sn, cp, cn, out, e)
		})
	})
}

// CustomGrant sends any grant to the token endpoint: grantType plus params (strings, numbers,
// booleans or lists of strings), authenticated like every token request.
func (c *OAuthClient) CustomGrant(ctx context.Context, grantType string, params map[string]any) (*Token, error) {
	body, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Token, error) {
		return tokenCall(func(out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
			gp, gn := cstr(grantType)
			bp, bn := cstr(bytesView(body))
			return C.oidc_oauth_custom_grant(p, gp, gn, bp, bn, out, e)
		})
	})
}

// Endpoint returns an endpoint's URL by its metadata name ("token_endpoint", "jwks_uri", ...),
// overridden or discovered (discovery on first use).
func (c *OAuthClient) Endpoint(ctx context.Context, name string) (string, error) {
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (string, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			np, nn := cstr(name)
			return C.oidc_oauth_client_endpoint(p, np, nn, out, n, e)
		})
		return string(b), err
	})
}
