package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// One method per protocol operation, each written once over OAuthRequest: the required
// arguments become parameters, opts add the optional ones (With, WithInt, WithScope,
// WithResource, WithAudience, WithParam, WithPending), and the request goes out with Send(ctx),
// so ctx's deadline and cancellation apply as described there. What an operation accepts is
// liboidc's rule: a parameter that does not apply fails with ErrInvalidArgument.

// send makes a request for op with the required parameters, then opts, and sends it.
func (c *OAuthClient) send(ctx context.Context, op Operation, opts []OAuthOption, required ...OAuthOption) (*OAuthResponse, error) {
	r := c.NewRequest(op, required...)
	defer r.Close()
	for _, o := range opts {
		o(r)
	}
	return r.Send(ctx)
}

// convert turns a send's response into T with f and frees the response.
func convert[T any](f func(*OAuthResponse) (T, error)) func(*OAuthResponse, error) (T, error) {
	return func(resp *OAuthResponse, err error) (T, error) {
		if err != nil {
			var zero T
			return zero, err
		}
		defer resp.Close()
		return f(resp)
	}
}

var (
	asToken  = convert(func(r *OAuthResponse) (*Token, error) { return tokenFrom(r), nil })
	asClaims = convert(func(r *OAuthResponse) (*Claims, error) { return newClaims(r.JSON()), nil })
	asURL    = convert(func(r *OAuthResponse) (string, error) { return r.String(FieldURL), nil })
	asNone   = convert(func(*OAuthResponse) (struct{}, error) { return struct{}{}, nil })
)

// WithPending makes a poll continue the flow started by a device authorization or CIBA request
// response (OAuthRequest.SetPending).
func WithPending(started *OAuthResponse) OAuthOption {
	return func(r *OAuthRequest) { r.SetPending(started) }
}

// ---- token grants ---------------------------------------------------------------------------

// ExchangeCode runs the authorization code grant (RFC 6749 §4.1.3) for code, e.g. with
// With(ParamRedirectURI, ...), With(ParamCodeVerifier, au.CodeVerifier) and
// With(ParamNonce, au.Nonce). An ID token in the response is validated (signature, issuer,
// audience, times, nonce) before it returns.
func (c *OAuthClient) ExchangeCode(ctx context.Context, code string, opts ...OAuthOption) (*Token, error) {
	return asToken(c.send(ctx, OpAuthorizationCode, opts, With(ParamCode, code)))
}

// Refresh runs the refresh token grant (RFC 6749 §6). Keep the returned Token's RefreshToken:
// servers that rotate refresh tokens invalidate the old one. An ID token is validated.
func (c *OAuthClient) Refresh(ctx context.Context, refreshToken string, opts ...OAuthOption) (*Token, error) {
	return asToken(c.send(ctx, OpRefresh, opts, With(ParamRefreshToken, refreshToken)))
}

// ClientCredentials runs the client credentials grant (RFC 6749 §4.4), e.g. with
// WithScope("read"), WithResource("https://api.example.com"). OAuth error responses come back
// as *Error with OAuth set: errors.Is(err, ErrInvalidClient), ErrInvalidTarget, ...
func (c *OAuthClient) ClientCredentials(ctx context.Context, opts ...OAuthOption) (*Token, error) {
	return asToken(c.send(ctx, OpClientCredentials, opts))
}

// ClientCredentialsCached is ClientCredentials through the client's token cache
// (ParamUseCache): the same parameters reuse one token until shortly before it expires, and
// concurrent callers share one request. Call it per outgoing request instead of keeping tokens.
func (c *OAuthClient) ClientCredentialsCached(ctx context.Context, opts ...OAuthOption) (*Token, error) {
	return asToken(c.send(ctx, OpClientCredentials, opts, WithInt(ParamUseCache, 1)))
}

// TokenExchange runs the token exchange grant (RFC 8693) for subjectToken; ParamSubjectTokenType,
// ParamActorToken, ParamRequestedTokenType, WithAudience, WithResource, WithScope, ... in opts.
func (c *OAuthClient) TokenExchange(ctx context.Context, subjectToken string, opts ...OAuthOption) (*Token, error) {
	return asToken(c.send(ctx, OpTokenExchange, opts, With(ParamSubjectToken, subjectToken)))
}

// JWTBearer runs the JWT bearer grant (RFC 7523 §2.1) with With(ParamAssertion, jwt), or with
// With(ParamSubject, sub) to have liboidc sign the assertion with the client's private key.
func (c *OAuthClient) JWTBearer(ctx context.Context, opts ...OAuthOption) (*Token, error) {
	return asToken(c.send(ctx, OpJWTBearer, opts))
}

// CustomGrant sends grantType to the token endpoint, authenticated like every token request;
// further parameters by WithParam (and WithScope).
func (c *OAuthClient) CustomGrant(ctx context.Context, grantType string, opts ...OAuthOption) (*Token, error) {
	return asToken(c.send(ctx, OpCustomGrant, opts, With(ParamGrantType, grantType)))
}

// ---- device authorization and CIBA ----------------------------------------------------------

// DeviceAuthorization is a pending device authorization (RFC 8628): show the user
// VerificationURI and UserCode (or VerificationURIComplete), then PollDevice. Response holds
// the device code (a secret); Close frees it (a dropped one is freed by the garbage collector).
type DeviceAuthorization struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string        // "" when the server sent none
	ExpiresIn               time.Duration // how long the codes are valid
	Interval                time.Duration // the polling interval
	Response                *OAuthResponse
}

// String shows what the user needs (the device code stays hidden).
func (d *DeviceAuthorization) String() string {
	return fmt.Sprintf("oidc.DeviceAuthorization{UserCode: %q, VerificationURI: %q, ExpiresIn: %v}",
		d.UserCode, d.VerificationURI, d.ExpiresIn)
}

// Close frees the response. Closing twice is harmless.
func (d *DeviceAuthorization) Close() error { return d.Response.Close() }

// DeviceAuthorization starts the device authorization grant (RFC 8628 §3.1), e.g. with
// WithScope("openid").
func (c *OAuthClient) DeviceAuthorization(ctx context.Context, opts ...OAuthOption) (*DeviceAuthorization, error) {
	resp, err := c.send(ctx, OpDeviceAuthorization, opts)
	if err != nil {
		return nil, err
	}
	d := &DeviceAuthorization{
		UserCode:                resp.String(FieldUserCode),
		VerificationURI:         resp.String(FieldVerificationURI),
		VerificationURIComplete: resp.String(FieldVerificationURIComplete),
		Response:                resp,
	}
	d.ExpiresIn, d.Interval = durationField(resp, FieldExpiresIn), durationField(resp, FieldInterval)
	return d, nil
}

// durationField is an integer field in seconds as a Duration (0 when absent).
func durationField(resp *OAuthResponse, f Field) time.Duration {
	if s, ok := resp.Int(f); ok && s > 0 {
		return seconds(s)
	}
	return 0
}

// PollDevice polls the token endpoint until the user approves (RFC 8628 §3.4): at once, then
// once per interval; slow_down adds 5 s. It returns the tokens, ErrAccessDenied (declined),
// ErrExpiredToken (the codes expired), or ctx.Err(): ctx's deadline and cancellation end the
// wait at once.
func (c *OAuthClient) PollDevice(ctx context.Context, d *DeviceAuthorization, opts ...OAuthOption) (*Token, error) {
	return asToken(c.send(ctx, OpDevicePoll, opts, WithPending(d.Response)))
}

// CIBARequest is a pending Client-Initiated Backchannel Authentication request (poll mode).
// Close frees its response (a dropped one is freed by the garbage collector).
type CIBARequest struct {
	AuthReqID string
	ExpiresIn time.Duration
	Interval  time.Duration
	Response  *OAuthResponse
}

// String formats the request.
func (r *CIBARequest) String() string {
	return fmt.Sprintf("oidc.CIBARequest{AuthReqID: %q, ExpiresIn: %v}", r.AuthReqID, r.ExpiresIn)
}

// Close frees the response. Closing twice is harmless.
func (r *CIBARequest) Close() error { return r.Response.Close() }

// CIBARequest starts a backchannel authentication (poll mode), e.g. with WithScope("openid"),
// With(ParamLoginHint, "alice"), With(ParamBindingMessage, "W4SCT").
func (c *OAuthClient) CIBARequest(ctx context.Context, opts ...OAuthOption) (*CIBARequest, error) {
	resp, err := c.send(ctx, OpCIBARequest, opts)
	if err != nil {
		return nil, err
	}
	return &CIBARequest{AuthReqID: resp.String(FieldAuthReqID), ExpiresIn: durationField(resp, FieldExpiresIn),
		Interval: durationField(resp, FieldInterval), Response: resp}, nil
}

// PollCIBA polls for the request's tokens, as PollDevice.
func (c *OAuthClient) PollCIBA(ctx context.Context, r *CIBARequest, opts ...OAuthOption) (*Token, error) {
	return asToken(c.send(ctx, OpCIBAPoll, opts, WithPending(r.Response)))
}

// ---- introspection, revocation, userinfo ----------------------------------------------------

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

// String formats the response without its extension members.
func (r Introspection) String() string {
	return fmt.Sprintf("oidc.Introspection{Active: %v, Subject: %q, ClientID: %q, Scope: %q, ExpiresAt: %v}",
		r.Active, r.Subject, r.ClientID, r.Scope, r.ExpiresAt)
}

// Introspect asks the introspection endpoint about token (RFC 7662), with this client's
// authentication; With(ParamTokenTypeHint, ...), WithInt(ParamSignedResponse, 1) (RFC 9701).
func (c *OAuthClient) Introspect(ctx context.Context, tok string, opts ...OAuthOption) (*Introspection, error) {
	return convert(func(resp *OAuthResponse) (*Introspection, error) {
		b := resp.JSON()
		cl := newClaims(b)
		active, _ := resp.Int(FieldActive)
		return &Introspection{Active: active == 1, Claims: cl, Raw: b, Scope: resp.String(FieldScope),
			ClientID: resp.String(FieldClientID), Username: cl.String("username"), TokenType: resp.String(FieldTokenType),
			Subject: resp.String(FieldSub), Issuer: resp.String(FieldIss), Audience: cl.Audience(),
			ExpiresAt: cl.ExpiresAt(), IssuedAt: cl.IssuedAt()}, nil
	})(c.send(ctx, OpIntrospect, opts, With(ParamToken, tok)))
}

// Revoke revokes token at the revocation endpoint (RFC 7009), with this client's
// authentication; With(ParamTokenTypeHint, "refresh_token") is optional.
func (c *OAuthClient) Revoke(ctx context.Context, tok string, opts ...OAuthOption) error {
	_, err := asNone(c.send(ctx, OpRevoke, opts, With(ParamToken, tok)))
	return err
}

// UserInfo calls the UserInfo endpoint with accessToken and returns its claims. A signed
// response is validated. With(ParamExpectedSub, idTokenSub) makes another subject fail with
// ErrSubjectMismatch. A DPoP-bound token is sent with the DPoP scheme.
func (c *OAuthClient) UserInfo(ctx context.Context, accessToken string, opts ...OAuthOption) (*Claims, error) {
	return asClaims(c.send(ctx, OpUserInfo, opts, With(ParamAccessToken, accessToken)))
}

// ---- authorization requests and responses ---------------------------------------------------

// AuthorizationURL is where to send the user agent, with what to keep for the response and the
// code exchange: State, Nonce, and the PKCE CodeVerifier (a secret).
type AuthorizationURL struct {
	URL                 string `json:"url"`
	State               string `json:"state"`
	Nonce               string `json:"nonce"`
	CodeVerifier        string `json:"code_verifier"`
	CodeChallenge       string `json:"code_challenge"`
	CodeChallengeMethod string `json:"code_challenge_method"`
}

// String hides the verifier.
func (u AuthorizationURL) String() string {
	return fmt.Sprintf("oidc.AuthorizationURL{URL: %q, State: %q, CodeVerifier: %s}", u.URL, u.State, redacted(u.CodeVerifier))
}

// GoString is String.
func (u AuthorizationURL) GoString() string { return u.String() }

// AuthorizationURL builds the authorization URL (RFC 6749 §4.1, OpenID Connect Core §3.1.2.1),
// e.g. with With(ParamRedirectURI, ...), WithScope("openid", "email"); liboidc generates the
// state, nonce and PKCE pair it needs when they are not given. With(ParamRequestURI, par.RequestURI)
// builds the URL of a pushed request.
func (c *OAuthClient) AuthorizationURL(ctx context.Context, opts ...OAuthOption) (*AuthorizationURL, error) {
	return convert(func(resp *OAuthResponse) (*AuthorizationURL, error) {
		var u AuthorizationURL
		if err := decodeResult(resp.JSON(), &u); err != nil {
			return nil, err
		}
		return &u, nil
	})(c.send(ctx, OpAuthorizationURL, opts))
}

// PushedAuthorizationRequest is a pushed request (RFC 9126): pass RequestURI with
// With(ParamRequestURI, ...) to AuthorizationURL; keep State, Nonce and CodeVerifier.
type PushedAuthorizationRequest struct {
	RequestURI   string
	ExpiresIn    time.Duration
	State        string
	Nonce        string
	CodeVerifier string
	Raw          json.RawMessage // the server's response
}

// String hides the verifier.
func (p PushedAuthorizationRequest) String() string {
	return fmt.Sprintf("oidc.PushedAuthorizationRequest{RequestURI: %q, ExpiresIn: %v, State: %q, CodeVerifier: %s}",
		p.RequestURI, p.ExpiresIn, p.State, redacted(p.CodeVerifier))
}

// GoString is String.
func (p PushedAuthorizationRequest) GoString() string { return p.String() }

// PushAuthorizationRequest pushes an authorization request (RFC 9126) with this client's
// authentication; the parameters are AuthorizationURL's.
func (c *OAuthClient) PushAuthorizationRequest(ctx context.Context, opts ...OAuthOption) (*PushedAuthorizationRequest, error) {
	return convert(func(resp *OAuthResponse) (*PushedAuthorizationRequest, error) {
		return &PushedAuthorizationRequest{RequestURI: resp.String(FieldRequestURI), ExpiresIn: durationField(resp, FieldExpiresIn),
			State: resp.String(FieldState), Nonce: resp.String(FieldNonce), CodeVerifier: resp.String(FieldCodeVerifier),
			Raw: resp.JSON()}, nil
	})(c.send(ctx, OpPushedAuthorization, opts))
}

// AuthorizationResponse is a checked authorization response (liboidc's JSON for
// OpAuthorizationResponse). Code is a secret.
type AuthorizationResponse struct {
	Code   string            `json:"code"`
	State  string            `json:"state"`
	Issuer string            `json:"iss"`
	JARM   bool              `json:"jarm"`
	Params map[string]string `json:"params"` // every parameter received
}

// String hides the code.
func (r AuthorizationResponse) String() string {
	return fmt.Sprintf("oidc.AuthorizationResponse{Code: %s, State: %q, Issuer: %q, JARM: %v}", redacted(r.Code), r.State, r.Issuer, r.JARM)
}

// GoString is String.
func (r AuthorizationResponse) GoString() string { return r.String() }

// ParseAuthorizationResponse parses the response that reached the redirect URI (the full URL,
// its query, or a form body) and checks its state against expectedState (ErrStateMismatch),
// the RFC 9207 iss (ErrResponseIssuerMismatch) and a JARM response JWT. An error response
// becomes its code (ErrAccessDenied, ...) with the details in Error.OAuth. When no state was
// sent, pass "" and WithInt(ParamNoStateSent, 1).
func (c *OAuthClient) ParseAuthorizationResponse(ctx context.Context, response, expectedState string, opts ...OAuthOption) (*AuthorizationResponse, error) {
	required := []OAuthOption{With(ParamResponse, response)}
	if expectedState != "" {
		required = append(required, With(ParamExpectedState, expectedState))
	}
	return convert(func(resp *OAuthResponse) (*AuthorizationResponse, error) {
		var r AuthorizationResponse
		if err := decodeResult(resp.JSON(), &r); err != nil {
			return nil, err
		}
		return &r, nil
	})(c.send(ctx, OpAuthorizationResponse, opts, required...))
}

// EndSessionURL builds the RP-initiated logout URL: With(ParamIDTokenHint, ...),
// With(ParamPostLogoutRedirectURI, ...), With(ParamState, ...), all optional.
func (c *OAuthClient) EndSessionURL(ctx context.Context, opts ...OAuthOption) (string, error) {
	return asURL(c.send(ctx, OpEndSessionURL, opts))
}

// ValidateIDToken validates an ID token (OpenID Connect Core §3.1.3.7) with the issuer's keys
// (iss, aud = the client id, times, sub, azp) and the checks given: With(ParamNonce, ...),
// With(ParamAccessToken, ...) (at_hash), With(ParamCode, ...) (c_hash), WithInt(ParamMaxAge,
// seconds) (auth_time). It returns the token's claims.
func (c *OAuthClient) ValidateIDToken(ctx context.Context, idToken string, opts ...OAuthOption) (*Claims, error) {
	return asClaims(c.send(ctx, OpValidateIDToken, opts, With(ParamIDToken, idToken)))
}

// ---- dynamic client registration ------------------------------------------------------------

// Registration is a dynamic client registration response (RFC 7591, RFC 7592).
// ClientSecret and RegistrationAccessToken are secrets: formatting a Registration hides them.
type Registration struct {
	ClientID                string
	ClientSecret            string
	RegistrationAccessToken string
	RegistrationClientURI   string
	ClientSecretExpiresAt   time.Time       // zero: never
	Raw                     json.RawMessage // every member
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

var asRegistration = convert(func(resp *OAuthResponse) (*Registration, error) {
	b := resp.JSON()
	var m struct {
		ExpiresAt int64 `json:"client_secret_expires_at"`
	}
	if err := decodeResult(b, &m); err != nil {
		return nil, err
	}
	r := &Registration{ClientID: resp.String(FieldClientID), ClientSecret: resp.String(FieldClientSecret),
		RegistrationAccessToken: resp.String(FieldRegistrationAccessToken),
		RegistrationClientURI:   resp.String(FieldRegistrationClientURI), Raw: b}
	if m.ExpiresAt > 0 {
		r.ClientSecretExpiresAt = time.Unix(m.ExpiresAt, 0)
	}
	return r, nil
})

// metadataJSON is client metadata as JSON: a json.RawMessage or []byte as is, anything else
// through encoding/json.
func metadataJSON(metadata any) (string, error) {
	switch m := metadata.(type) {
	case json.RawMessage:
		return string(m), nil
	case []byte:
		return string(m), nil
	case string:
		return m, nil
	}
	b, err := json.Marshal(metadata)
	return string(b), err
}

// Register registers a client (RFC 7591) with metadata (a JSON object: json.RawMessage, []byte,
// string, or any value encoding/json marshals to one). The client may have no client id (build
// it with the issuer only); With(ParamInitialAccessToken, ...) when the server wants one. Use the
// returned ClientID and ClientSecret in an OAuthConfig.
func (c *OAuthClient) Register(ctx context.Context, metadata any, opts ...OAuthOption) (*Registration, error) {
	md, err := metadataJSON(metadata)
	if err != nil {
		return nil, err
	}
	return asRegistration(c.send(ctx, OpRegister, opts, With(ParamMetadata, md)))
}

// ReadRegistration reads a registered client's configuration (RFC 7592 §2.1).
func (c *OAuthClient) ReadRegistration(ctx context.Context, clientURI, registrationAccessToken string, opts ...OAuthOption) (*Registration, error) {
	return asRegistration(c.send(ctx, OpRegistrationRead, opts, With(ParamRegistrationClientURI, clientURI),
		With(ParamRegistrationAccessToken, registrationAccessToken)))
}

// UpdateRegistration replaces a registered client's metadata (RFC 7592 §2.2).
func (c *OAuthClient) UpdateRegistration(ctx context.Context, clientURI, registrationAccessToken string, metadata any, opts ...OAuthOption) (*Registration, error) {
	md, err := metadataJSON(metadata)
	if err != nil {
		return nil, err
	}
	return asRegistration(c.send(ctx, OpRegistrationUpdate, opts, With(ParamRegistrationClientURI, clientURI),
		With(ParamRegistrationAccessToken, registrationAccessToken), With(ParamMetadata, md)))
}

// DeleteRegistration deletes a registered client (RFC 7592 §2.3).
func (c *OAuthClient) DeleteRegistration(ctx context.Context, clientURI, registrationAccessToken string, opts ...OAuthOption) error {
	_, err := asNone(c.send(ctx, OpRegistrationDelete, opts, With(ParamRegistrationClientURI, clientURI),
		With(ParamRegistrationAccessToken, registrationAccessToken)))
	return err
}

// ---- resources and endpoints ----------------------------------------------------------------

// ResourceResponse is a protected resource's answer: any HTTP status is a response.
type ResourceResponse struct {
	Status          int
	Body            []byte // as received (a non-UTF-8 body is replaced lossily by liboidc)
	ContentType     string
	WWWAuthenticate string
	// Error and ErrorDescription come from the WWW-Authenticate challenge or a JSON error body.
	Error            string
	ErrorDescription string
}

// ResourceRequest calls a protected resource at url with accessToken through the client's
// pooled connections: With(ParamMethod, "POST"), With(ParamBody, ...), With(ParamContentType,
// ...), With(ParamTokenType, "Bearer"|"DPoP") (default DPoP when the client has a DPoP key:
// a proof with "ath", one retry on a use_dpop_nonce challenge).
func (c *OAuthClient) ResourceRequest(ctx context.Context, url, accessToken string, opts ...OAuthOption) (*ResourceResponse, error) {
	return convert(func(resp *OAuthResponse) (*ResourceResponse, error) {
		status, _ := resp.Int(FieldHTTPStatus)
		return &ResourceResponse{Status: int(status), Body: resp.JSON(), ContentType: resp.String(FieldContentType),
			WWWAuthenticate: resp.String(FieldWWWAuthenticate), Error: resp.String(FieldError),
			ErrorDescription: resp.String(FieldErrorDescription)}, nil
	})(c.send(ctx, OpResource, opts, With(ParamURL, url), With(ParamAccessToken, accessToken)))
}

// Endpoint returns an endpoint's URL by its metadata name ("token_endpoint", "jwks_uri", ...),
// overridden or discovered (discovery on first use).
func (c *OAuthClient) Endpoint(ctx context.Context, name string, opts ...OAuthOption) (string, error) {
	return asURL(c.send(ctx, OpEndpoint, opts, With(ParamEndpointName, name)))
}

// decodeResult decodes a JSON result of liboidc; a failure would be a bug on one side.
func decodeResult(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return &Error{Code: CodeInternal, Name: CodeInternal.String(), HTTPStatus: 500,
			Message: "unexpected result JSON from liboidc: " + err.Error()}
	}
	return nil
}
