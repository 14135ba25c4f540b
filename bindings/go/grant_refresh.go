package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"strings"
)

// Refresh runs the refresh token grant (RFC 6749 §6). scopes and resources are optional. Keep
// the returned Token's RefreshToken: servers that rotate refresh tokens invalidate the old one.
// An ID token in the response is validated.
func (c *OAuthClient) Refresh(ctx context.Context, refreshToken string, scopes, resources []string) (*Token, error) {
	scope := strings.Join(scopes, " ")
	resource, err := joinResources(resources)
	if err != nil {
		return nil, err
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Token, error) {
		return tokenCall(func(out **C.oidc_token_response, e **C.oidc_error) C.oidc_result {
			tp, tn := cstr(refreshToken)
			sp, sn := cstr(scope)
			rp, rn := cstr(resource)
			return C.oidc_oauth_refresh(p, tp, tn, sp, sn, rp, rn, out, e)
		})
	})
}
