package oidc

/*
#include <oidc.h>
*/
import "C"

import "context"

// ResourceResponse is a protected resource's answer.
type ResourceResponse struct {
	Status int
	Body   []byte
}

// ResourceRequest calls a protected resource with an access token through the client's pooled
// connections: DPoP-bound (a proof with "ath", one retry on a use_dpop_nonce challenge) when
// the client has a DPoP key and tokenType is "DPoP", else Bearer. body is optional, with
// contentType (default application/json). Any HTTP status is a success: read Status. The body
// is capped like every response (a non-UTF-8 body is replaced lossily by liboidc).
func (c *OAuthClient) ResourceRequest(ctx context.Context, method, url, accessToken, tokenType string, body []byte, contentType string) (*ResourceResponse, error) {
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*ResourceResponse, error) {
		var status C.uint32_t
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			mp, mn := cstr(method)
			up, un := cstr(url)
			ap, an := cstr(accessToken)
			tp, tn := cstr(tokenType)
			bp, bn := cstr(bytesView(body))
			cp, cn := cstr(contentType)
			return C.oidc_oauth_resource_request(p, mp, mn, up, un, ap, an, tp, tn, bp, bn, cp, cn, &status, out, n, e)
		})
		if err != nil {
			return nil, err
		}
		return &ResourceResponse{Status: int(status), Body: b}, nil
	})
}
