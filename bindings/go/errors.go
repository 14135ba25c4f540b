package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
)

// ErrClosed is returned by every call on a Client or OAuthClient after Close.
var ErrClosed = errors.New("oidc: use of closed client")

// Error is a failed liboidc call: the stable result code and what the core says about it.
// Compare with errors.Is against the sentinels (ErrTokenExpired, ErrSignatureInvalid, ...): an
// Error matches the sentinel of its Code.
type Error struct {
	Code Code   // stable result code, e.g. CodeTokenExpired (305)
	Name string // its oidc.h name without prefix, e.g. "TOKEN_EXPIRED"
	// Message is English, never contains secrets, token claims or signatures (it may name the
	// token's key id and algorithm and configured values such as the issuer).
	Message string
	// HTTPStatus is what a resource server should answer: 401 (the token is at fault), 503 (keys
	// could not be obtained), 500 (anything else).
	HTTPStatus int
	// WWWAuthenticate is a ready RFC 6750 header value for that answer, e.g.
	// `Bearer realm="api", error="invalid_token", error_description="The access token expired"`.
	WWWAuthenticate string
	// BearerError is the RFC 6750 error code ("invalid_token") when the token was at fault.
	BearerError string
	// OAuth holds the identity provider's error response when the failure is its answer (token,
	// device, CIBA, introspection, revocation, registration, PAR, UserInfo and authorization errors).
	OAuth *OAuthError
}

// OAuthError is an OAuth 2.0 error response (RFC 6749 §5.2) as the server sent it.
type OAuthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
	HTTPStatus  int    `json:"status,omitempty"` // the HTTP status of the error response
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "oidc: " + e.Name
	}
	return "oidc: " + e.Message + " (" + e.Name + ")"
}

// Is reports whether target is an *Error with the same Code (the sentinels are such errors).
// CodeDeadlineExceeded also matches context.DeadlineExceeded, and CodeCancelled
// context.Canceled: a poll that liboidc ends early because its next attempt would miss the
// deadline reads like the context's own error.
func (e *Error) Is(target error) bool {
	switch target {
	case context.DeadlineExceeded:
		return e.Code == CodeDeadlineExceeded
	case context.Canceled:
		return e.Code == CodeCancelled
	}
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// String returns the code's oidc.h name ("TOKEN_EXPIRED"), or "CODE_<n>" for an unknown value.
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return "CODE_" + strconv.Itoa(int(c))
}

// Description returns liboidc's static English description of the code ("token expired").
func (c Code) Description() string {
	if c < 0 {
		return resultStr(^uint32(0))
	}
	return resultStr(uint32(c))
}

func sentinel(c Code) *Error {
	return &Error{Code: c, Name: codeNames[c], Message: sentinelMessage}
}

// The sentinels' message: they stand for a code, not for one failure.
const sentinelMessage = ""

// serverStatus is the identity provider's HTTP status of an OAuth error response ("status" in
// the error's details JSON), 0 when absent.
func serverStatus(details string) int {
	var d struct {
		Status int `json:"status"`
	}
	if details == "" || json.Unmarshal([]byte(details), &d) != nil {
		return 0
	}
	return d.Status
}
