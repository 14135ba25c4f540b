package oidc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestVectors decides every shared vector (tests/vectors/validation.json) exactly as the core
// and the C ABI do: same code, and the error fields a resource server needs.
func TestVectors(t *testing.T) {
	c, v := vectorClient(t)
	if len(v.Cases) < 30 {
		t.Fatalf("only %d vectors", len(v.Cases))
	}
	now := time.Unix(v.Now, 0)
	for _, tc := range v.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			claims, err := c.ValidateAt(context.Background(), tc.Token, now)
			if tc.Code == 0 {
				if err != nil {
					t.Fatalf("want OK, got %v", err)
				}
				if claims.Subject() != "alice" || claims.Issuer() != v.Config.Issuer {
					t.Fatalf("claims %s", claims.Raw())
				}
				return
			}
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("want %s (%d), got %v (claims %v)", tc.Expect, tc.Code, err, claims)
			}
			if int(oe.Code) != tc.Code || oe.Name != tc.Expect {
				t.Fatalf("want %s (%d), got %s (%d): %s", tc.Expect, tc.Code, oe.Name, oe.Code, oe.Message)
			}
			if !errors.Is(err, sentinels[Code(tc.Code)]) {
				t.Fatalf("errors.Is(err, Err%s) is false", tc.Expect)
			}
			// A vector failure is the token's fault (401 invalid_token), except a published but
			// unusable key, which is the issuer's (503, no error code in the challenge).
			wantStatus := 401
			if oe.Code == CodeKeyRejected {
				wantStatus = 503
			}
			if oe.HTTPStatus != wantStatus || !strings.HasPrefix(oe.WWWAuthenticate, "Bearer") {
				t.Fatalf("resource-server fields: %+v", oe)
			}
			if bearer := strings.Contains(oe.WWWAuthenticate, `error="invalid_token"`); bearer != (wantStatus == 401) ||
				(oe.BearerError == "invalid_token") != bearer {
				t.Fatalf("resource-server fields: %+v", oe)
			}
			if oe.Message == "" || !strings.Contains(oe.Error(), tc.Expect) {
				t.Fatalf("message %q / Error() %q", oe.Message, oe.Error())
			}
			if strings.Contains(oe.Message, tc.Token) && tc.Token != "" {
				t.Fatal("message contains the token")
			}
		})
	}
}

// The vectors' tokens are valid only around `now`; Validate (real time) must see that.
func TestVectorsRealTime(t *testing.T) {
	c, v := vectorClient(t)
	_, err := c.ValidateAt(context.Background(), v.Cases[0].Token, time.Unix(v.Now, 0).Add(time.Hour))
	if !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("an hour later: %v", err)
	}
	_, err = c.ValidateAt(context.Background(), v.Cases[0].Token, time.Unix(v.Now, 0).Add(-time.Hour))
	if !errors.Is(err, ErrTokenIssuedInFuture) && !errors.Is(err, ErrTokenNotYetValid) {
		t.Fatalf("an hour earlier: %v", err)
	}
}
