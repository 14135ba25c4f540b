package oidc

/*
#include <oidc.h>
*/
import "C"

import "context"

// CodeExchange is the authorization code grant's input (RFC 6749 §4.1.3, RFC 7636).
type CodeExchange struct {
	Code         string   // from ParseAuthorizationResponse (required)
	RedirectURI  string   // as in the authorization request (required)
	CodeVerifier string   // the PKCE verifier (NewPKCE)
	Nonce        string   // the nonce sent, checked against the ID token
	Resources    []string // RFC 8707 resource indicators
}

// ExchangeCode runs the authorization code grant. An ID token in the response is validated
// (signature, issuer, audience = client id, times, nonce) before ExchangeCode returns.
func (c *OAuthClient) ExchangeCode(ctx context.Context, x CodeExchange) (*Token, error) {
	resource, err := joinResources(x.Resources)
	if err != nil {
		return nil, err
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Token, error) {
		return tokenCall(func(out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
			cp, cn := cstr(x.Code)
			rp, rn := cstr(x.RedirectURI)
			vp, vn := cstr(x.CodeVerifier)
			np, nn := cstr(x.Nonce)
			sp, sn := cstr(resource)
			return C.oidc_oauth_exchange_code(p, cp, cn, rp, rn, vp, vn, np, nn, sp, sn, out, e)
		})
	})
}
