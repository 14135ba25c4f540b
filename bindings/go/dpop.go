package oidc

/*
#include <oidc.h>
*/
import "C"

import "context"

// DPoPProof makes a DPoP proof JWT (RFC 9449) for a request with the client's DPoP key
// (OAuthConfig.DPoPKey): method and url of the request, and the access token it carries (its
// hash goes into "ath"; "" for none). The server's last DPoP nonce for that origin is included.
func (c *OAuthClient) DPoPProof(ctx context.Context, method, url, accessToken string) (string, error) {
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (string, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			mp, mn := cstr(method)
			up, un := cstr(url)
			ap, an := cstr(accessToken)
			return C.oidc_oauth_dpop_proof(p, mp, mn, up, un, ap, an, out, n, e)
		})
		return string(b), err
	})
}

// SetDPoPNonce records a DPoP-Nonce a server sent for url's origin, for the next proofs.
func (c *OAuthClient) SetDPoPNonce(url, nonce string) error {
	_, err := oauthCall(context.Background(), c, func(p *C.oidc_oauth_client) (struct{}, error) {
		up, un := cstr(url)
		np, nn := cstr(nonce)
		var e *C.oidc_error
		if rc := C.oidc_oauth_dpop_set_nonce(p, up, un, np, nn, &e); rc != 0 {
			return struct{}{}, errorFrom(rc, e)
		}
		return struct{}{}, nil
	})
	return err
}

// DPoPThumbprint returns the RFC 7638 thumbprint of the client's DPoP key ("dpop_jkt").
func (c *OAuthClient) DPoPThumbprint() (string, error) {
	return oauthCall(context.Background(), c, func(p *C.oidc_oauth_client) (string, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			return C.oidc_oauth_dpop_jkt(p, out, n, e)
		})
		return string(b), err
	})
}
