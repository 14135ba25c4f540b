package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Registration is a dynamic client registration response (RFC 7591). ClientSecret and
// RegistrationAccessToken are secrets: formatting a Registration hides them.
type Registration struct {
	ClientID                string          `json:"client_id"`
	ClientSecret            string          `json:"client_secret"`
	RegistrationAccessToken string          `json:"registration_access_token"`
	RegistrationClientURI   string          `json:"registration_client_uri"`
	ClientSecretExpiresAt   time.Time       `json:"-"` // zero: never
	Raw                     json.RawMessage `json:"-"` // every member
}

// String formats the registration without its secrets.
func (r Registration) String() string {
	return fmt.Sprintf("oidc.Registration{ClientID: %q, ClientSecret: %s, RegistrationAccessToken: %s, RegistrationClientURI: %q}",
		r.ClientID, redacted(r.ClientSecret), redacted(r.RegistrationAccessToken), r.RegistrationClientURI)
}

// GoString is String.
func (r Registration) GoString() string { return r.String() }

// LogValue keeps the secrets out of log/slog output.
func (r Registration) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", r.ClientID), slog.String("registration_client_uri", r.RegistrationClientURI))
}

// RegisterClient registers a client (RFC 7591) at cfg.Issuer (cfg's CAFile, timeouts and
// endpoint overrides are used; ClientID and ClientSecret are not needed). metadata is the client
// metadata: a json.RawMessage / []byte of a JSON object, or any value encoding/json marshals to
// one. initialAccessToken is optional. Use the returned ClientID and ClientSecret in an
// OAuthConfig for NewOAuthClient.
func RegisterClient(ctx context.Context, cfg OAuthConfig, metadata any, initialAccessToken string) (*Registration, error) {
	if err := checkLoaded(); err != nil {
		return nil, err
	}
	var body []byte
	switch m := metadata.(type) {
	case json.RawMessage:
		body = m
	case []byte:
		body = m
	default:
		var err error
		if body, err = json.Marshal(metadata); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	run := func() (*Registration, error) {
		var b *C.oidc_oauth_builder
		var e *C.oidc_error
		if rc := C.oidc_oauth_builder_new(&b, &e); rc != 0 {
			return nil, errorFrom(rc, e)
		}
		defer C.oidc_oauth_builder_free(b)
		if err := configureOAuth(b, &cfg); err != nil {
			return nil, err
		}
		maybeGC()
		out, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			mp, mn := cstr(bytesView(body))
			tp, tn := cstr(initialAccessToken)
			return C.oidc_oauth_register(b, mp, mn, tp, tn, out, n, e)
		})
		if err != nil {
			return nil, err
		}
		var r struct {
			Registration
			ExpiresAt int64 `json:"client_secret_expires_at"`
		}
		if err := decodeResult(out, &r); err != nil {
			return nil, err
		}
		reg := r.Registration
		if r.ExpiresAt > 0 {
			reg.ClientSecretExpiresAt = time.Unix(r.ExpiresAt, 0)
		}
		reg.Raw = out
		return &reg, nil
	}
	if endsBefore(ctx, worstCase(cfg.Timeout)) {
		return run()
	}
	return await(ctx, run)
}
