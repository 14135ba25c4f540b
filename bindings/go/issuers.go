package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"math"
	"runtime"
	"strings"
	"time"
)

// IssuerConfig is one more issuer of a Client (Config.Issuers): tokens whose "iss" names it are
// checked against its settings and keys only, never another issuer's. Unset token rules
// (Audiences, Algorithms, ExpectedTyp) are the Client's; RequiredClaims add to the Client's.
//
// An Issuer containing "{tenant}" is a template ("https://login.example.com/{tenant}/v2.0"):
// it needs Tenants or AnyTenant, and each tenant gets its own discovery and keys.
//
// An IssuerConfig is a plain value: NewClient reads it and keeps nothing of it, so one value may
// be used for any number of clients. liboidc checks every setting (an empty Issuer, a template
// without tenants, Tenants and AnyTenant together, a JWKS for a template, ...) and NewClient
// reports its *Error.
type IssuerConfig struct {
	// Issuer is the exact "iss" of this issuer's tokens, or a template with one "{tenant}".
	Issuer string
	// JWKSURI skips discovery and fetches this issuer's keys from this URL (not for templates).
	JWKSURI string
	// JWKSJSON is a static key set for this issuer: no network (not for templates).
	JWKSJSON []byte
	// Audiences of this issuer's tokens; none (and AnyAudience false): the Client's Audiences.
	Audiences []string
	// AnyAudience accepts this issuer's tokens for any audience (explicit on purpose).
	AnyAudience bool
	// Algorithms is this issuer's allow-list; empty: the Client's.
	Algorithms []string
	// ExpectedTyp is the JOSE "typ" this issuer's tokens must have; "": the Client's.
	ExpectedTyp string
	// RequiredClaims must be present in this issuer's tokens, besides the Client's.
	RequiredClaims []string

	// Templates only.

	// Tenants is the allow-list of tenants (1 to 64 of A-Z a-z 0-9 - _).
	Tenants []string
	// AnyTenant accepts any well-formed tenant, within TenantBounds (never the default).
	AnyTenant bool
	// TenantClaim is the claim that must equal the tenant in "iss" ("": liboidc's default, tid).
	TenantClaim string
	// TenantBounds bounds the per-tenant state; nil keeps liboidc's defaults.
	TenantBounds *TenantBounds
}

// TenantBounds bounds what a template issuer keeps and fetches per tenant. A new tenant beyond
// them is refused with ErrKeysUnavailable without a request. Zero fields keep liboidc's defaults;
// negative values are rejected by liboidc (CodeInvalidConfig at NewClient).
type TenantBounds struct {
	MaxTenants   int           // tenants kept, least recently used evicted (0: liboidc's default)
	NewPerWindow int           // new tenants admitted per Window (0: liboidc's default)
	Window       time.Duration // whole seconds (0: liboidc's default)
	MaxInFlight  int           // first fetches of new tenants at once (0: liboidc's default)
}

// addIssuers adds each of issuers to b (oidc_issuer_builder_*, oidc_validator_builder_add_issuer).
func addIssuers(b *C.oidc_validator_builder, issuers []IssuerConfig) error {
	for i := range issuers {
		if err := addIssuer(b, &issuers[i]); err != nil {
			return err
		}
	}
	return nil
}

func addIssuer(b *C.oidc_validator_builder, ic *IssuerConfig) error {
	var ib *C.oidc_issuer_builder
	var e *C.oidc_error
	ip, in := cstr(ic.Issuer)
	rc := C.oidc_issuer_builder_new(ip, in, &ib, &e)
	runtime.KeepAlive(ic.Issuer)
	if rc != 0 {
		return errorFrom(rc, e)
	}
	if err := configureIssuer(ib, ic); err != nil {
		C.oidc_issuer_builder_free(ib)
		return err
	}
	if rc := C.oidc_validator_builder_add_issuer(b, ib, &e); rc != 0 { // consumes ib in every case
		return errorFrom(rc, e)
	}
	return nil
}

func configureIssuer(ib *C.oidc_issuer_builder, ic *IssuerConfig) error {
	var e *C.oidc_error
	str := func(set func(p *C.char, n C.size_t) C.oidc_result, s string) error {
		p, n := cstr(s)
		rc := set(p, n)
		runtime.KeepAlive(s)
		if rc != 0 {
			return errorFrom(rc, e)
		}
		return nil
	}
	ok := func(rc C.oidc_result) error {
		if rc != 0 {
			return errorFrom(rc, e)
		}
		return nil
	}
	if ic.JWKSURI != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_issuer_builder_set_jwks_uri(ib, p, n, &e)
		}, ic.JWKSURI); err != nil {
			return err
		}
	}
	if ic.JWKSJSON != nil {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_issuer_builder_set_jwks_json(ib, p, n, &e)
		}, bytesView(ic.JWKSJSON)); err != nil {
			return err
		}
	}
	for _, a := range ic.Audiences {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_issuer_builder_add_audience(ib, p, n, &e)
		}, a); err != nil {
			return err
		}
	}
	if ic.AnyAudience {
		if err := ok(C.oidc_issuer_builder_set_any_audience(ib, 1, &e)); err != nil {
			return err
		}
	}
	if len(ic.Algorithms) > 0 {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_issuer_builder_set_algorithms(ib, p, n, &e)
		}, strings.Join(ic.Algorithms, ",")); err != nil {
			return err
		}
	}
	if ic.ExpectedTyp != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_issuer_builder_set_expected_typ(ib, p, n, &e)
		}, ic.ExpectedTyp); err != nil {
			return err
		}
	}
	for _, claim := range ic.RequiredClaims {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_issuer_builder_add_required_claim(ib, p, n, &e)
		}, claim); err != nil {
			return err
		}
	}
	for _, t := range ic.Tenants {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_issuer_builder_add_tenant(ib, p, n, &e)
		}, t); err != nil {
			return err
		}
	}
	if ic.AnyTenant {
		if err := ok(C.oidc_issuer_builder_set_any_tenant(ib, 1, &e)); err != nil {
			return err
		}
	}
	if ic.TenantClaim != "" {
		if err := str(func(p *C.char, n C.size_t) C.oidc_result {
			return C.oidc_issuer_builder_set_tenant_claim(ib, p, n, &e)
		}, ic.TenantClaim); err != nil {
			return err
		}
	}
	if tb := ic.TenantBounds; tb != nil {
		// A zero bound is passed as 0: liboidc keeps its own default for it.
		window := C.uint32_t(secs(tb.Window))
		if tb.Window < 0 {
			window = C.uint32_t(math.MaxUint32) // refused by liboidc (over 24 h), never the default
		}
		if err := ok(C.oidc_issuer_builder_set_tenant_bounds(ib, boundArg(tb.MaxTenants),
			boundArg(tb.NewPerWindow), window, boundArg(tb.MaxInFlight), &e)); err != nil {
			return err
		}
	}
	return nil
}

// boundArg passes a tenant bound: 0 keeps liboidc's default; a negative or too large value
// becomes MaxUint32, which liboidc rejects as out of range (never 0, which would mean default).
func boundArg(n int) C.uint32_t { return u32Arg(n) }
