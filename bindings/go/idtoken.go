package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"runtime"
	"time"
)

// IDTokenChecks are the request-specific checks of ValidateIDToken. Empty fields are not
// checked.
type IDTokenChecks struct {
	Nonce       string // must equal the token's nonce (the one sent in the authorization request)
	AccessToken string // checked against at_hash when the token has one
	Code        string // checked against c_hash when the token has one
	// MaxAge, when set, requires auth_time no older than it (the max_age sent in the request).
	MaxAge *time.Duration
}

// ValidateIDToken validates an ID token (OpenID Connect Core §3.1.3.7) with the issuer's keys:
// iss, aud = the client id, exp/nbf/iat, sub, azp (required with several audiences), and the
// checks. It returns the token's claims.
func (c *OAuthClient) ValidateIDToken(ctx context.Context, idToken string, checks IDTokenChecks) (*Claims, error) {
	maxAge := int64(-1)
	if checks.MaxAge != nil {
		maxAge = int64(secs(*checks.MaxAge))
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Claims, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			tp, tn := cstr(idToken)
			np, nn := cstr(checks.Nonce)
			ap, an := cstr(checks.AccessToken)
			cp, cn := cstr(checks.Code)
			return C.oidc_oauth_validate_id_token(p, tp, tn, np, nn, ap, an, cp, cn, C.int64_t(maxAge), out, n, e)
		})
		runtime.KeepAlive(checks)
		if err != nil {
			return nil, err
		}
		return newClaims(b), nil
	})
}
