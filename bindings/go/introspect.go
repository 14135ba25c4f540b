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

// IntrospectOptions are the optional parts of an introspection request.
type IntrospectOptions struct {
	TokenTypeHint string // "access_token", "refresh_token"
	// Signed asks for an RFC 9701 signed response and accepts nothing else; the JWT is
	// validated with the issuer's keys.
	Signed bool
}

// Introspection is an RFC 7662 introspection response. An inactive token is a successful
// introspection with Active false.
type Introspection struct {
	Active    bool
	Scope     string
	ClientID  string
	Username  string
	TokenType string
	Subject   string
	Issuer    string
	Audience  []string
	ExpiresAt time.Time // zero when absent
	IssuedAt  time.Time
	Claims    *Claims         // every member, including extensions
	Raw       json.RawMessage // the response object
}

// Introspect asks the issuer's introspection endpoint about token (RFC 7662), with this
// client's authentication.
func (c *OAuthClient) Introspect(ctx context.Context, token string, opts IntrospectOptions) (*Introspection, error) {
	flags := C.uint32_t(C.OIDC_INTROSPECT_FLAG_NONE)
	if opts.Signed {
		flags = C.OIDC_INTROSPECT_FLAG_SIGNED
	}
	return oauthCall(ctx, c, func(p *C.oidc_oauth_client) (*Introspection, error) {
		b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			tp, tn := cstr(token)
			hp, hn := cstr(opts.TokenTypeHint)
			return C.oidc_oauth_introspect(p, tp, tn, hp, hn, flags, out, n, e)
		})
		if err != nil {
			return nil, err
		}
		cl := newClaims(b)
		r := &Introspection{Claims: cl, Raw: b, Scope: cl.String("scope"), ClientID: cl.String("client_id"),
			Username: cl.String("username"), TokenType: cl.String("token_type"), Subject: cl.Subject(),
			Issuer: cl.Issuer(), Audience: cl.Audience(), ExpiresAt: cl.ExpiresAt(), IssuedAt: cl.IssuedAt()}
		r.Active, _ = cl.Map()["active"].(bool)
		return r, nil
	})
}

// String formats the response without its extension members.
func (r Introspection) String() string {
	return fmt.Sprintf("oidc.Introspection{Active: %v, Subject: %q, ClientID: %q, Scope: %q, ExpiresAt: %v}",
		r.Active, r.Subject, r.ClientID, r.Scope, r.ExpiresAt)
}
