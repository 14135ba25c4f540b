package oidc

/*
#include <oidc.h>
*/
import "C"

import "context"

// Revoke revokes token at the issuer's revocation endpoint (RFC 7009), with this client's
// authentication. tokenTypeHint ("access_token", "refresh_token") is optional.
func (c *OAuthClient) Revoke(ctx context.Context, token, tokenTypeHint string) error {
	_, err := oauthCall(ctx, c, func(p *C.oidc_oauth_client) (struct{}, error) {
		tp, tn := cstr(token)
		hp, hn := cstr(tokenTypeHint)
		var e *C.oidc_error
		if rc := C.oidc_oauth_revoke(p, tp, tn, hp, hn, &e); rc != 0 {
			return struct{}{}, errorFrom(rc, e)
		}
		return struct{}{}, nil
	})
	return err
}
