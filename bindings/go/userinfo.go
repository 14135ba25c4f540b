package oidc

/*
#include <oidc.h>
*/
import "C"

import "context"

// UserInfo calls the UserInfo endpoint with accessToken and returns its claims. A signed
// response is validated with the issuer's keys. With expectedSubject (the ID token's sub) a
// different subject fails with ErrSubjectMismatch. A protected-resource error comes back as
// ErrInvalidToken or ErrInsufficientScope.
func (c *OAuthClient) UserInfo(ctx context.Context, accessToken, expectedSubject string) (*Claims, error) {
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Claims, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			ap, an := cstr(accessToken)
			sp, sn := cstr(expectedSubject)
			return C.oidc_oauth_userinfo(p, ap, an, sp, sn, out, n, e)
		})
		if err != nil {
			return nil, err
		}
		return newClaims(b), nil
	})
}
