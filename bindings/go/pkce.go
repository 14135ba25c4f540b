package oidc

/*
#include <oidc.h>
*/
import "C"

// NewPKCE generates a PKCE pair (RFC 7636, S256): a 43-character verifier from 32 random bytes
// and its challenge. Send the challenge in the authorization request; keep the verifier (a
// secret) for the code exchange.
func NewPKCE() (verifier, challenge string, err error) {
	if err := checkLoaded(); err != nil {
		return "", "", err
	}
	var v, c *C.char
	var e *C.oidc_error
	if rc := C.oidc_pkce_generate(&v, &c, &e); rc != 0 {
		return "", "", errorFrom(rc, e)
	}
	verifier, challenge = C.GoString(v), C.GoString(c)
	C.oidc_string_free(v)
	C.oidc_string_free(c)
	return verifier, challenge, nil
}

// PKCEChallenge returns the S256 challenge of a verifier (43-128 characters of
// A-Z a-z 0-9 - . _ ~).
func PKCEChallenge(verifier string) (string, error) {
	if err := checkLoaded(); err != nil {
		return "", err
	}
	var c *C.char
	var e *C.oidc_error
	vp, vn := cstr(verifier)
	if rc := C.oidc_pkce_challenge(vp, vn, &c, &e); rc != 0 {
		return "", errorFrom(rc, e)
	}
	s := C.GoString(c)
	C.oidc_string_free(c)
	return s, nil
}

// PKCE is a fresh authorization request's secrets: a PKCE pair plus a random state and nonce
// (22 characters each).
type PKCE struct {
	Verifier        string // keep for the code exchange (a secret)
	Challenge       string // send as code_challenge
	ChallengeMethod string // "S256"
	State           string
	Nonce           string
}

// NewPKCEState generates a PKCE pair, a state and a nonce in one call.
func NewPKCEState() (*PKCE, error) {
	if err := checkLoaded(); err != nil {
		return nil, err
	}
	var p *C.oidc_pkce
	var e *C.oidc_error
	if rc := C.oidc_pkce_new(&p, &e); rc != 0 {
		return nil, errorFrom(rc, e)
	}
	defer C.oidc_pkce_free(p)
	return &PKCE{
		Verifier:        goStringOpt(C.oidc_pkce_code_verifier(p)),
		Challenge:       goStringOpt(C.oidc_pkce_code_challenge(p)),
		ChallengeMethod: goStringOpt(C.oidc_pkce_code_challenge_method()),
		State:           goStringOpt(C.oidc_pkce_state(p)),
		Nonce:           goStringOpt(C.oidc_pkce_nonce(p)),
	}, nil
}

// String hides the verifier.
func (p PKCE) String() string {
	return "oidc.PKCE{Verifier: " + redacted(p.Verifier) + ", Challenge: " + p.Challenge + ", State: " + p.State + "}"
}

// GoString is String.
func (p PKCE) GoString() string { return p.String() }
