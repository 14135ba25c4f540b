package oidc

import (
	"encoding/json"
	"math"
	"sync"
	"time"
)

// Claims are the claims of a validated token.
//
// liboidc hands them over as the JSON object the token carried. They are decoded into a
// map[string]any (encoding/json rules: numbers are float64) on the first call of any accessor,
// once, so a caller that only needs a yes/no answer does not pay for decoding. A Claims value is
// safe for concurrent use.
type Claims struct {
	raw  []byte
	once sync.Once
	m    map[string]any
}

func newClaims(raw []byte) *Claims { return &Claims{raw: raw} }

// Raw returns the claims as the JSON object liboidc returned. Do not modify it.
func (c *Claims) Raw() json.RawMessage { return c.raw }

// MarshalJSON returns Raw.
func (c *Claims) MarshalJSON() ([]byte, error) { return c.raw, nil }

// Map returns all claims. The map is shared by every caller: treat it as read-only.
func (c *Claims) Map() map[string]any {
	c.once.Do(func() {
		var m map[string]any
		if err := json.Unmarshal(c.raw, &m); err != nil || m == nil {
			m = map[string]any{} // unreachable: liboidc only returns JSON objects
		}
		c.m = m
	})
	return c.m
}

// Get returns one claim and whether it is present.
func (c *Claims) Get(name string) (any, bool) {
	v, ok := c.Map()[name]
	return v, ok
}

// String returns a claim that is a JSON string, or "".
func (c *Claims) String(name string) string {
	s, _ := c.Map()[name].(string)
	return s
}

// Decode unmarshals the claims into v (a pointer to a struct with json tags, say).
func (c *Claims) Decode(v any) error { return json.Unmarshal(c.raw, v) }

// Subject returns "sub".
func (c *Claims) Subject() string { return c.String("sub") }

// Issuer returns "iss".
func (c *Claims) Issuer() string { return c.String("iss") }

// ClientID returns "client_id" (RFC 9068), or "".
func (c *Claims) ClientID() string { return c.String("client_id") }

// ID returns "jti", or "".
func (c *Claims) ID() string { return c.String("jti") }

// Audience returns "aud" as a list (a single string becomes a list of one).
func (c *Claims) Audience() []string { return stringList(c.Map()["aud"]) }

// There is deliberately no scope accessor: which scopes a token grants (a "scope" string or
// array, "scp") is liboidc's rule, applied by Config.RequiredScopes. Get("scope") reads the
// claim as sent.

// ExpiresAt returns "exp" (always present in a validated token).
func (c *Claims) ExpiresAt() time.Time { return c.Time("exp") }

// IssuedAt returns "iat", or the zero Time.
func (c *Claims) IssuedAt() time.Time { return c.Time("iat") }

// NotBefore returns "nbf", or the zero Time.
func (c *Claims) NotBefore() time.Time { return c.Time("nbf") }

// Time returns a NumericDate claim (seconds since the epoch) as a time.Time, or the zero Time
// when it is absent or not a number.
func (c *Claims) Time(name string) time.Time {
	f, ok := c.Map()[name].(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
