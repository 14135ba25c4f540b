package oidc

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Token is a token-endpoint response (RFC 6749 §5.1).
//
// AccessToken, RefreshToken, IDToken and Raw are secrets: formatting a Token (%v, %+v, %#v,
// slog) shows only whether they are present.
type Token struct {
	AccessToken  string
	TokenType    string        // "Bearer", "DPoP", "N_A"
	ExpiresIn    time.Duration // 0 when the server did not say
	Expiry       time.Time     // receipt time + ExpiresIn; zero when ExpiresIn is unknown
	RefreshToken string        // "" when none was issued
	IDToken      string        // "" when none was issued
	Scope        string        // the granted scope, "" when the server did not send it
	// IssuedTokenType is RFC 8693's issued_token_type, if present.
	IssuedTokenType string
	// Raw is the whole response as JSON (extra members included).
	Raw json.RawMessage
}

// Valid reports whether the token has an access token that has not expired (with no margin).
func (t *Token) Valid() bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || time.Now().Before(t.Expiry))
}

// String formats the token with its secrets redacted.
func (t Token) String() string {
	return fmt.Sprintf("oidc.Token{AccessToken: %s, TokenType: %q, ExpiresIn: %v, Expiry: %v, RefreshToken: %s, IDToken: %s, Scope: %q, IssuedTokenType: %q, Raw: %s}",
		redacted(t.AccessToken), t.TokenType, t.ExpiresIn, t.Expiry.Format(time.RFC3339), redacted(t.RefreshToken),
		redacted(t.IDToken), t.Scope, t.IssuedTokenType, redacted(string(t.Raw)))
}

// GoString is String (for %#v).
func (t Token) GoString() string { return t.String() }

// LogValue keeps the secrets out of log/slog output.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token_type", t.TokenType), slog.Duration("expires_in", t.ExpiresIn),
		slog.String("scope", t.Scope), slog.Bool("refresh_token", t.RefreshToken != ""), slog.Bool("id_token", t.IDToken != ""))
}

// tokenFrom copies a token response into Go.
func tokenFrom(r *OAuthResponse) *Token {
	t := &Token{
		AccessToken:     r.String(FieldAccessToken),
		TokenType:       r.String(FieldTokenType),
		RefreshToken:    r.String(FieldRefreshToken),
		IDToken:         r.String(FieldIDToken),
		Scope:           r.String(FieldScope),
		IssuedTokenType: r.String(FieldIssuedTokenType),
		Raw:             json.RawMessage(r.JSON()),
	}
	if s, ok := r.Int(FieldExpiresIn); ok && s >= 0 {
		t.ExpiresIn = seconds(s) // (0 is a token that expires at once: Expiry is set)
		t.Expiry = time.Now().Add(t.ExpiresIn)
	}
	return t
}

// seconds converts a count of seconds from liboidc to a Duration, saturating.
func seconds(s int64) time.Duration {
	if s > int64(1<<63-1)/int64(time.Second) {
		s = int64(1<<63-1) / int64(time.Second)
	}
	return time.Duration(s) * time.Second
}
