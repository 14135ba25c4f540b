package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The shared JOSE vectors of issue 14, every case decided through the binding (OAuthClient
// operations over liboidc's request object), on both sends: tests/vectors/jose_jwe.json
// (Decrypt), jose_jws.json (VerifyJWS) and logout.json (ValidateLogoutToken, Client.ValidateAt,
// ValidateIDToken). A case the C ABI cannot express is skipped by name, with the reason.

func readVectorFile(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "tests/vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("not base64url: %q", s)
	}
	return b
}

// expectCode checks that err is liboidc's code named want (and errors.Is its sentinel).
func expectCode(t *testing.T, err error, want string) *Error {
	t.Helper()
	var oe *Error
	if !errors.As(err, &oe) {
		t.Fatalf("want %s, got %v", want, err)
	}
	if oe.Name != want {
		t.Fatalf("want %s, got %s (%d): %s", want, oe.Name, oe.Code, oe.Message)
	}
	if s, ok := sentinels[oe.Code]; !ok || !errors.Is(err, s) {
		t.Fatalf("errors.Is(err, Err%s) is false", want)
	}
	return oe
}

func sameJSON(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %s", got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("not JSON: %s", want)
	}
	return reflect.DeepEqual(g, w)
}

// anyJWKS is a valid static key set for the clients that only decrypt (never used to verify).
const anyJWKS = `{"keys":[{"kty":"EC","crv":"P-256","kid":"unused","x":"0aUpqxzMNMr67wkrAvSnzvcb7rVph3ypyrmecbKzdu0","y":"mWStjieFYeCAL-RUaekdX2NxD1aMTXNC69Z-OtLxWYM"}]}`

type jweCase struct {
	Name         string          `json:"name"`
	JWE          string          `json:"jwe"`
	Key          json.RawMessage `json:"key"`
	Algorithms   *string         `json:"algorithms"`
	MaxPlaintext *int            `json:"max_plaintext"`
	Expect       struct {
		Plaintext *string `json:"plaintext_b64url"`
		Code      string  `json:"code"`
		Message   string  `json:"message"`
	} `json:"expect"`
}

// TestJWEVectors: per case a protocol client with the case's key as its only decryption key
// and the case's algorithms (liboidc's default when null), then Decrypt.
func TestJWEVectors(t *testing.T) {
	var v struct {
		Cases []jweCase `json:"cases"`
	}
	readVectorFile(t, "jose_jwe.json", &v)
	if len(v.Cases) < 40 {
		t.Fatalf("only %d JWE vectors", len(v.Cases))
	}
	bothSends(t, func(t *testing.T, ctx context.Context) {
		decrypted, refused := 0, 0
		for _, tc := range v.Cases {
			t.Run(tc.Name, func(t *testing.T) {
				if tc.MaxPlaintext != nil {
					t.Skipf("max_plaintext %d: the C ABI has no plaintext bound for protocol clients (liboidc's default 65536 applies)", *tc.MaxPlaintext)
				}
				cfg := OAuthConfig{Issuer: "https://jose.vectors.test", ClientID: "rp", JWKSJSON: []byte(anyJWKS),
					DecryptionKeys: []DecryptionKey{{Key: tc.Key}}}
				if tc.Algorithms != nil {
					cfg.DecryptionAlgorithms = strings.Fields(*tc.Algorithms)
				}
				c, err := NewOAuthClient(cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				got, err := c.Decrypt(ctx, tc.JWE)
				if tc.Expect.Plaintext != nil {
					if err != nil {
						t.Fatalf("want the plaintext, got %v", err)
					}
					if b64(got.Payload) != *tc.Expect.Plaintext || !got.IsText || got.Text != string(got.Payload) {
						t.Fatalf("plaintext %q (text %v)", got.Payload, got.IsText)
					}
					var h struct{ Alg, Enc string }
					if json.Unmarshal(got.Header, &h) != nil || h.Alg == "" || h.Enc == "" {
						t.Fatalf("header %s", got.Header)
					}
					if s := got.String(); strings.Contains(s, "Frodo") || strings.Contains(s, got.Text) {
						t.Fatalf("String shows the plaintext: %s", s)
					}
					decrypted++
					return
				}
				oe := expectCode(t, err, tc.Expect.Code)
				if tc.Expect.Message != "" && oe.Message != tc.Expect.Message {
					t.Fatalf("message %q, want %q", oe.Message, tc.Expect.Message)
				}
				if strings.Contains(oe.Message, "Frodo") || strings.Contains(oe.Error(), string(tc.Key)) {
					t.Fatalf("the message shows key material or plaintext: %s", oe.Message)
				}
				refused++
			})
		}
		if decrypted != 6 || refused < 30 {
			t.Fatalf("%d decrypted (want the 6 RFC 7520 examples), %d refused", decrypted, refused)
		}
	})
}

// jwsVectorNow is the validation time of jose_jws.json (its Rust runner, tests/jose_jws.rs).
const jwsVectorNow = 1_800_000_000

// TestJWSVectors: per case a protocol client with the case's key set as its static JWKS and
// the case's algorithms as its allow-list (OAuthConfig.Algorithms), then VerifyJWS (with the
// detached payload when there is one) at the runner's time. Every case runs (none is skipped).
func TestJWSVectors(t *testing.T) {
	var v struct {
		Cases []struct {
			Name       string          `json:"name"`
			JWS        string          `json:"jws"`
			JWKS       json.RawMessage `json:"jwks"`
			Algorithms string          `json:"algorithms"`
			Detached   *string         `json:"detached_payload_b64url"`
			Expect     struct {
				Header  json.RawMessage `json:"header"`
				Payload *string         `json:"payload_b64url"`
				Code    string          `json:"code"`
			} `json:"expect"`
		} `json:"cases"`
	}
	readVectorFile(t, "jose_jws.json", &v)
	if len(v.Cases) < 50 {
		t.Fatalf("only %d JWS vectors", len(v.Cases))
	}
	bothSends(t, func(t *testing.T, ctx context.Context) {
		accepted, refused := 0, 0
		for _, tc := range v.Cases {
			t.Run(tc.Name, func(t *testing.T) {
				c, err := NewOAuthClient(OAuthConfig{Issuer: "https://jose.vectors.test", ClientID: "rp", JWKSJSON: tc.JWKS,
					Algorithms: strings.Fields(tc.Algorithms)})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				opts := []OAuthOption{WithNow(time.Unix(jwsVectorNow, 0))}
				if tc.Detached != nil {
					opts = append(opts, WithDetachedPayload(unb64(t, *tc.Detached)))
				}
				got, err := c.VerifyJWS(ctx, tc.JWS, opts...)
				if tc.Expect.Payload != nil {
					if err != nil {
						t.Fatalf("want the payload, got %v", err)
					}
					if b64(got.Payload) != *tc.Expect.Payload {
						t.Fatalf("payload %q, want %s", got.Payload, *tc.Expect.Payload)
					}
					if !sameJSON(t, got.Header, tc.Expect.Header) {
						t.Fatalf("header %s, want %s", got.Header, tc.Expect.Header)
					}
					if isUTF8 := strings.ToValidUTF8(string(got.Payload), "\uFFFD") == string(got.Payload); got.IsText != isUTF8 ||
						(got.IsText && got.Text != string(got.Payload)) {
						t.Fatalf("text %v %q for payload %q", got.IsText, got.Text, got.Payload)
					}
					accepted++
					return
				}
				expectCode(t, err, tc.Expect.Code)
				refused++
			})
		}
		if accepted < 20 || refused < 20 || accepted+refused != len(v.Cases) {
			t.Fatalf("%d accepted, %d refused, of %d cases", accepted, refused, len(v.Cases))
		}
	})
}

// TestLogoutVectors: per case a fresh protocol client (issuer, client id, static JWKS, the
// case's accept_untyped) and a validator of the same issuer and keys (audience = client id),
// then the case's steps in order at the file's now.
func TestLogoutVectors(t *testing.T) {
	var v struct {
		Client struct {
			ClientID   string          `json:"client_id"`
			Issuer     string          `json:"issuer"`
			JWKS       json.RawMessage `json:"jwks"`
			LeewaySecs int             `json:"leeway_secs"`
		} `json:"client"`
		Now   int64 `json:"now"`
		Cases []struct {
			Name   string `json:"name"`
			Client struct {
				AcceptUntyped bool `json:"accept_untyped"`
			} `json:"client"`
			Steps []struct {
				Path   string  `json:"path"`
				Token  string  `json:"token"`
				Code   int     `json:"code"`
				Expect string  `json:"expect"`
				Sub    *string `json:"sub"`
				SID    *string `json:"sid"`
				JTI    string  `json:"jti"`
			} `json:"steps"`
		} `json:"cases"`
	}
	readVectorFile(t, "logout.json", &v)
	if len(v.Cases) < 40 {
		t.Fatalf("only %d logout vectors", len(v.Cases))
	}
	// A protocol client's leeway is liboidc's default (the C ABI has no OAuth leeway setter);
	// the file's must be that default for the cases to mean the same.
	if v.Client.LeewaySecs != 60 {
		t.Fatalf("leeway_secs %d: a protocol client has liboidc's default 60 s (no C ABI setter)", v.Client.LeewaySecs)
	}
	now := time.Unix(v.Now, 0)
	bothSends(t, func(t *testing.T, ctx context.Context) {
		steps := 0
		for _, tc := range v.Cases {
			t.Run(tc.Name, func(t *testing.T) {
				rp, err := NewOAuthClient(OAuthConfig{Issuer: v.Client.Issuer, ClientID: v.Client.ClientID,
					JWKSJSON: v.Client.JWKS, LogoutAcceptUntyped: tc.Client.AcceptUntyped})
				if err != nil {
					t.Fatal(err)
				}
				defer rp.Close()
				rs, err := NewClient(Config{Issuer: v.Client.Issuer, Audiences: []string{v.Client.ClientID},
					JWKSJSON: v.Client.JWKS, Leeway: time.Duration(v.Client.LeewaySecs) * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				defer rs.Close()
				for i, s := range tc.Steps {
					steps++
					var lt *LogoutToken
					var err error
					switch s.Path {
					case "logout_token":
						lt, err = rp.ValidateLogoutToken(ctx, s.Token, WithNow(now))
					case "access_token":
						_, err = rs.ValidateAt(ctx, s.Token, now)
					case "id_token":
						_, err = rp.ValidateIDToken(ctx, s.Token, WithNow(now))
					default:
						t.Fatalf("step %d: unknown path %q", i, s.Path)
					}
					if s.Code != 0 {
						oe := expectCode(t, err, s.Expect)
						if int(oe.Code) != s.Code {
							t.Fatalf("step %d: code %d, want %d", i, oe.Code, s.Code)
						}
						continue
					}
					if err != nil {
						t.Fatalf("step %d (%s): want OK, got %v", i, s.Path, err)
					}
					if lt == nil {
						continue
					}
					str := func(p *string) string {
						if p == nil {
							return ""
						}
						return *p
					}
					if lt.Subject != str(s.Sub) || lt.SessionID != str(s.SID) || lt.JTI != s.JTI || lt.Issuer != v.Client.Issuer {
						t.Fatalf("step %d: %v, want sub %v sid %v jti %s", i, lt, s.Sub, s.SID, s.JTI)
					}
					if lt.Claims.String("jti") != s.JTI || !hasClaim(lt.Claims, "events") {
						t.Fatalf("step %d: claims %s", i, lt.Claims.Raw())
					}
				}
			})
		}
		if steps < 45 {
			t.Fatalf("%d steps", steps)
		}
	})
}

func hasClaim(c *Claims, name string) bool {
	_, ok := c.Get(name)
	return ok
}
