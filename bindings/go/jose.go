package oidc

/*
#include <stdint.h>
#include <oidc.h>

// goOidcReplayStore (replay.go) as _cgo_export.h declares it.
extern int32_t goOidcReplayStore(void *user_data, char *key, size_t key_len, uint64_t ttl_secs);

// The logout-token replay store of a protocol client, with a cgo.Handle as its user_data (as
// go_oidc_set_replay_store in authn.go does for the DPoP store of a validator).
static oidc_result go_oidc_set_logout_replay_store(oidc_oauth_builder *b, uintptr_t handle, oidc_error **err) {
	return oidc_oauth_builder_set_replay_store(b, (oidc_replay_store_cb)goOidcReplayStore, (void *)handle, err);
}
*/
import "C"

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"runtime/cgo"
	"strconv"
	"strings"
	"time"
)

// JOSE breadth (liboidc issue 14): encrypted tokens (JWE), signed revocation lists, detached and
// unencoded JWS, back-channel logout tokens and signed request objects. The Go side only hands
// the settings to liboidc's builders and the operations to its request object; every check,
// algorithm choice and result code is liboidc's.

// DecryptionKey is a private key for encrypted tokens and responses (JWE): a private JWK (RSA,
// EC P-256/P-384/P-521, oct) or a PEM private key (PKCS#8, PKCS#1, SEC1). Keys never come from a
// token: liboidc decrypts only with the keys configured here (at most 32), and a JWE naming a
// kid only with that key.
//
// Key is a secret: formatting a DecryptionKey (%v, %+v, %#v, slog) never shows it.
type DecryptionKey struct {
	// Key is the private JWK (JSON text) or PEM.
	Key []byte
	// KeyID names the key ("": a JWK's own kid, or none).
	KeyID string
}

// String shows the key id only.
func (k DecryptionKey) String() string {
	return fmt.Sprintf("oidc.DecryptionKey{Key: %s, KeyID: %q}", redacted(string(k.Key)), k.KeyID)
}

// GoString is String (for %#v).
func (k DecryptionKey) GoString() string { return k.String() }

// LogValue keeps the key out of log/slog output.
func (k DecryptionKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", redacted(string(k.Key))), slog.String("kid", k.KeyID))
}

// RevocationPolicy is what validation does when the issuer's revocation list is unavailable past
// its grace period (oidc_revocation_policy). The zero value is not a policy: liboidc rejects it.
type RevocationPolicy uint32

const (
	// RevocationFailClosed refuses every validation with ErrRevocationUnavailable (HTTP 503).
	RevocationFailClosed RevocationPolicy = C.OIDC_REVOCATION_FAIL_CLOSED
	// RevocationFailOpen accepts (still checking the last list held, if any); counted and logged.
	RevocationFailOpen RevocationPolicy = C.OIDC_REVOCATION_FAIL_OPEN
)

func (p RevocationPolicy) String() string {
	switch p {
	case RevocationFailClosed:
		return "fail-closed"
	case RevocationFailOpen:
		return "fail-open"
	}
	return "RevocationPolicy(" + strconv.FormatUint(uint64(p), 10) + ")"
}

// RevocationConfig turns on the issuer's signed revocation list (Config.Revocation): a token
// whose kid or jti is listed fails with ErrRevoked. The list is a JWS of typ
// revocation-list+jwt signed by a key of the issuer's key set (see the top-level README, "Signed
// revocation lists"). Client.Prefetch and PrefetchFailFast fetch it too and fail when that fails.
// Zero durations keep liboidc's defaults; liboidc checks every value (NewClient reports it).
type RevocationConfig struct {
	// URL of the list; "": the default, {Issuer}/.well-known/revocation-list (with several
	// issuers every issuer polls its own default URL; an explicit URL is the base issuer's).
	// https, or http on loopback with AllowHTTPLoopback.
	URL string
	// Policy when the list is unavailable past Grace: RevocationFailClosed or
	// RevocationFailOpen (required).
	Policy RevocationPolicy
	// Grace is how long a stale list keeps serving while fetches fail (whole seconds, rounded
	// up; 0: the default, 1 h; at most 7 days).
	Grace time.Duration
	// MinInterval and MaxInterval bound the poll interval derived from the list's next_update
	// (whole seconds, rounded up; 0 keeps that bound's default, 30 s and 24 h; 1 s to 7 days).
	MinInterval time.Duration
	MaxInterval time.Duration
}

// RequestObjectConfig makes an OAuthClient send every authorization request (AuthorizationURL,
// PushAuthorizationRequest) as a signed request object (RFC 9101, JAR), signed with the
// client's private key (OAuthConfig.PrivateKeyPEM / PrivateKeyJWK). EncryptionAlg and
// EncryptionEnc (both set, or both "") also encrypt it to the issuer: "RSA-OAEP",
// "RSA-OAEP-256" or "ECDH-ES*" to the issuer's published use=enc key, "A128KW" / "A192KW" /
// "A256KW" to the key derived from the client secret; EncryptionEnc one of A128GCM, A192GCM,
// A256GCM, A128CBC-HS256, A192CBC-HS384, A256CBC-HS512.
type RequestObjectConfig struct {
	EncryptionAlg string
	EncryptionEnc string
}

// durationSecsArg passes a duration in whole seconds: 0 keeps liboidc's default; a negative one
// becomes MaxUint32, which liboidc rejects as out of range.
func durationSecsArg(d time.Duration) C.uint32_t {
	if d < 0 {
		return C.uint32_t(math.MaxUint32)
	}
	return C.uint32_t(secs(d))
}

// applyDecryption passes the decryption keys and the algorithm list to a builder's two setters
// (validator or protocol client).
func applyDecryption(keys []DecryptionKey, algs []string,
	add func(kp *C.char, kn C.size_t, ip *C.char, in C.size_t) error, set func(p *C.char, n C.size_t) error) error {
	for _, k := range keys {
		kp, kn := cstr(bytesView(k.Key))
		ip, in := cstr(k.KeyID)
		err := add(kp, kn, ip, in)
		runtime.KeepAlive(k.Key)
		runtime.KeepAlive(k.KeyID)
		if err != nil {
			return err
		}
	}
	if len(algs) > 0 {
		names := strings.Join(algs, " ")
		p, n := cstr(names)
		err := set(p, n)
		runtime.KeepAlive(names)
		if err != nil {
			return err
		}
	}
	return nil
}

// configureJOSE applies the validator's decryption keys and algorithms, the encrypted-token
// opt-in and the revocation list.
func configureJOSE(b *C.oidc_validator_builder, cfg *Config) error {
	var e *C.oidc_error
	ok := func(rc C.oidc_result) error {
		if rc != 0 {
			return errorFrom(rc, e)
		}
		return nil
	}
	err := applyDecryption(cfg.DecryptionKeys, cfg.DecryptionAlgorithms,
		func(kp *C.char, kn C.size_t, ip *C.char, in C.size_t) error {
			return ok(C.oidc_validator_builder_add_decryption_key(b, kp, kn, ip, in, &e))
		},
		func(p *C.char, n C.size_t) error {
			return ok(C.oidc_validator_builder_set_decryption_algorithms(b, p, n, &e))
		})
	if err != nil {
		return err
	}
	if cfg.AcceptEncrypted {
		if err := ok(C.oidc_validator_builder_set_accept_encrypted(b, 1, &e)); err != nil {
			return err
		}
	}
	if r := cfg.Revocation; r != nil {
		p, n := cstr(r.URL)
		err := ok(C.oidc_validator_builder_set_revocation(b, p, n, C.uint32_t(r.Policy), durationSecsArg(r.Grace), &e))
		runtime.KeepAlive(r.URL)
		if err != nil {
			return err
		}
		if r.MinInterval != 0 || r.MaxInterval != 0 {
			if err := ok(C.oidc_validator_builder_set_revocation_bounds(b,
				durationSecsArg(r.MinInterval), durationSecsArg(r.MaxInterval), &e)); err != nil {
				return err
			}
		}
	}
	return nil
}

// configureOAuthJOSE applies an OAuthConfig's decryption keys and algorithms, static key set,
// request objects and logout-token settings. It returns the cgo.Handle of cfg.ReplayStore (0
// without one), which the client must keep until it is freed, even when it also returns an error.
func configureOAuthJOSE(b *C.oidc_oauth_builder, cfg *OAuthConfig) (cgo.Handle, error) {
	var e *C.oidc_error
	ok := func(rc C.oidc_result) error {
		if rc != 0 {
			return errorFrom(rc, e)
		}
		return nil
	}
	err := applyDecryption(cfg.DecryptionKeys, cfg.DecryptionAlgorithms,
		func(kp *C.char, kn C.size_t, ip *C.char, in C.size_t) error {
			return ok(C.oidc_oauth_builder_add_decryption_key(b, kp, kn, ip, in, &e))
		},
		func(p *C.char, n C.size_t) error {
			return ok(C.oidc_oauth_builder_set_decryption_algorithms(b, p, n, &e))
		})
	if err != nil {
		return 0, err
	}
	if cfg.JWKSJSON != nil {
		p, n := cstr(bytesView(cfg.JWKSJSON))
		err := ok(C.oidc_oauth_builder_set_jwks_json(b, p, n, &e))
		runtime.KeepAlive(cfg.JWKSJSON)
		if err != nil {
			return 0, err
		}
	}
	if r := cfg.RequestObject; r != nil {
		ap, an := cstr(r.EncryptionAlg)
		ep, en := cstr(r.EncryptionEnc)
		err := ok(C.oidc_oauth_builder_set_request_object(b, ap, an, ep, en, &e))
		runtime.KeepAlive(r)
		if err != nil {
			return 0, err
		}
	}
	if cfg.LogoutAcceptUntyped {
		if err := ok(C.oidc_oauth_builder_set_logout_accept_untyped(b, 1, &e)); err != nil {
			return 0, err
		}
	}
	if cfg.ReplayStore == nil {
		return 0, nil
	}
	h := cgo.NewHandle(cfg.ReplayStore)
	return h, ok(C.go_oidc_set_logout_replay_store(b, C.uintptr_t(h), &e))
}

// DropKeys drops the cached keys of issuer at once ("" = every issuer of the client): the next
// validation fetches them again (operators, after a key compromise). The verified-token cache of
// those issuers is emptied too (oidc_validator_drop_keys). An issuer the client does not serve
// is ErrInvalidArgument; a static-key client drops nothing and returns nil.
//
// It has no network of its own but waits for a key fetch in flight (bounded by the client's
// timeouts); ctx bounds that wait as for Prefetch.
func (c *Client) DropKeys(ctx context.Context, issuer string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f := func() (struct{}, error) {
		return withValidator(c, func(p *C.oidc_validator) (struct{}, error) {
			var e *C.oidc_error
			ip, in := cstr(issuer)
			rc := C.oidc_validator_drop_keys(p, ip, in, &e)
			runtime.KeepAlive(issuer)
			if rc != 0 {
				return struct{}{}, errorFrom(rc, e)
			}
			return struct{}{}, nil
		})
	}
	var err error
	if c == nil || endsBefore(ctx, c.bound) {
		_, err = f()
	} else {
		_, err = await(ctx, f)
	}
	return err
}

// ---- operations -----------------------------------------------------------------------------

// WithNow sets the validation time (ParamNowSecs, Unix seconds) of ValidateLogoutToken,
// VerifyJWS, ValidateIDToken and ParseAuthorizationResponse: reproducible tests, replays of
// recorded traffic. Default: now.
func WithNow(t time.Time) OAuthOption { return WithInt(ParamNowSecs, t.Unix()) }

// WithDetachedPayload gives VerifyJWS the payload of a JWS that does not carry it (RFC 7515
// Appendix F; RFC 7797 unencoded payloads): ParamPayload. liboidc takes it as UTF-8 text.
func WithDetachedPayload(payload []byte) OAuthOption { return With(ParamPayload, string(payload)) }

// LogoutToken is a validated back-channel logout token (OpenID Connect Back-Channel Logout 1.0
// §2.6): end the sessions it names (SessionID, or every session of Subject at Issuer).
type LogoutToken struct {
	Issuer    string
	Subject   string // "" when the token names only a session
	SessionID string // sid; "" when the token names only a subject
	JTI       string
	// Claims holds every claim of the token.
	Claims *Claims
}

// String formats the token's identifying claims.
func (t LogoutToken) String() string {
	return fmt.Sprintf("oidc.LogoutToken{Issuer: %q, Subject: %q, SessionID: %q, JTI: %q}", t.Issuer, t.Subject, t.SessionID, t.JTI)
}

// LogoutToken reads the response of OpValidateLogoutToken (for example a SendAsync result).
func (r *OAuthResponse) LogoutToken() (*LogoutToken, error) {
	if r.Operation() != OpValidateLogoutToken {
		return nil, wrongOperation(r, OpValidateLogoutToken)
	}
	return &LogoutToken{Issuer: r.String(FieldIss), Subject: r.String(FieldSub), SessionID: r.String(FieldSID),
		JTI: r.String(FieldJTI), Claims: newClaims(r.JSON())}, nil
}

// ValidateLogoutToken validates a back-channel logout token (the logout_token form parameter
// the OP posted) with the issuer's keys: the ID-token rules (iss, aud = the client id, iat,
// exp), typ logout+jwt (OAuthConfig.LogoutAcceptUntyped relaxes it), the back-channel-logout
// event, sub and/or sid, no nonce, and a jti seen once (ErrTokenReplayed; the client's bounded
// cache, then OAuthConfig.ReplayStore). WithNow sets the validation time.
func (c *OAuthClient) ValidateLogoutToken(ctx context.Context, token string, opts ...OAuthOption) (*LogoutToken, error) {
	return convert((*OAuthResponse).LogoutToken)(c.send(ctx, OpValidateLogoutToken, opts, With(ParamLogoutToken, token)))
}

// JOSEPayload is the payload and protected header of a verified JWS (VerifyJWS) or of a
// decrypted JWE (Decrypt). The payload of a JWE may be secret: formatting a JOSEPayload shows
// only its length and the header.
type JOSEPayload struct {
	// Payload is the payload's bytes.
	Payload []byte
	// Text is the payload when it is UTF-8 text (IsText), else "".
	Text   string
	IsText bool
	// Header is the protected header (a JSON object).
	Header json.RawMessage
}

// String shows the header and the payload's length, not the payload.
func (p JOSEPayload) String() string {
	return fmt.Sprintf("oidc.JOSEPayload{Payload: [%d bytes], IsText: %v, Header: %s}", len(p.Payload), p.IsText, p.Header)
}

// GoString is String (for %#v).
func (p JOSEPayload) GoString() string { return p.String() }

// LogValue keeps the payload out of log/slog output.
func (p JOSEPayload) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("payload_bytes", len(p.Payload)), slog.String("header", string(p.Header)))
}

// JOSEPayload reads the response of OpVerifyJWS or OpDecrypt (for example a SendAsync result).
func (r *OAuthResponse) JOSEPayload() (*JOSEPayload, error) {
	if op := r.Operation(); op != OpVerifyJWS && op != OpDecrypt {
		return nil, wrongOperation(r, OpVerifyJWS)
	}
	var doc struct {
		Header        json.RawMessage `json:"header"`
		PayloadB64URL string          `json:"payload_b64url"`
	}
	if err := decodeResult(r.JSON(), &doc); err != nil {
		return nil, err
	}
	payload, err := base64.RawURLEncoding.DecodeString(doc.PayloadB64URL)
	if err != nil {
		return nil, &Error{Code: CodeInternal, Name: CodeInternal.String(), HTTPStatus: 500,
			Message: "unexpected payload_b64url from liboidc: " + err.Error()}
	}
	text, isText := r.Lookup(FieldPayload)
	header := json.RawMessage(r.String(FieldProtectedHeader))
	if len(header) == 0 {
		header = doc.Header
	}
	return &JOSEPayload{Payload: payload, Text: text, IsText: isText, Header: header}, nil
}

func wrongOperation(r *OAuthResponse, want Operation) error {
	return &Error{Code: CodeInvalidArgument, Name: CodeInvalidArgument.String(), HTTPStatus: 500,
		Message: "the response is of OIDC_OP_" + r.Operation().String() + ", not OIDC_OP_" + want.String()}
}

// VerifyJWS verifies a JWS that is not a token (compact or flattened JSON serialization;
// detached content, RFC 7515 Appendix F; unencoded payload, RFC 7797) with the issuer's keys and
// the client's algorithm policy, as for tokens, and returns its payload and protected header.
// WithDetachedPayload gives a detached payload; WithNow the validation time.
func (c *OAuthClient) VerifyJWS(ctx context.Context, jws string, opts ...OAuthOption) (*JOSEPayload, error) {
	return convert((*OAuthResponse).JOSEPayload)(c.send(ctx, OpVerifyJWS, opts, With(ParamJWS, jws)))
}

// Decrypt decrypts a compact JWE with the client's decryption keys (OAuthConfig.DecryptionKeys,
// DecryptionAlgorithms) and returns the plaintext and the JWE protected header. It only
// decrypts: a nested JWT inside is not validated (validate it with the operation it is for).
// Every key-unwrap, decryption and tag failure is ErrDecryptionFailed with one fixed message.
func (c *OAuthClient) Decrypt(ctx context.Context, jwe string, opts ...OAuthOption) (*JOSEPayload, error) {
	return convert((*OAuthResponse).JOSEPayload)(c.send(ctx, OpDecrypt, opts, With(ParamJWE, jwe)))
}
