// The protocol request object (ABI 0.2): one request type for every protocol operation, typed
// setters, one blocking and one non-blocking send, one response type. Translation only: which
// parameter applies to which operation, what is required, the defaults, are the core's; a
// refused parameter is liboidc's INVALID_ARGUMENT (InvalidArgumentException) with its message.
//
// The enums mirror oidc_operation / oidc_param / oidc_field of include/oidc.h (values fixed by
// the header; AbiTests checks every name and value).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// oidc_operation: what an <see cref="OAuthRequest"/> does.
    public enum OAuthOperation : uint
    {
        /// Authorization code grant (RFC 6749 §4.1.3, PKCE): CODE (required), REDIRECT_URI, CODE_VERIFIER,
        /// NONCE (checked in the ID token), RESOURCE. The ID token is validated.
        /// (<c>OIDC_OP_AUTHORIZATION_CODE</c>)
        AuthorizationCode = 1,
        /// Refresh token grant: REFRESH_TOKEN (required), SCOPE, RESOURCE. (<c>OIDC_OP_REFRESH</c>)
        Refresh = 2,
        /// Client credentials grant: SCOPE, RESOURCE, AUDIENCE (one), USE_CACHE (the client's token cache:
        /// one token per scope/resource/audience until 30 s before it expires).
        /// (<c>OIDC_OP_CLIENT_CREDENTIALS</c>)
        ClientCredentials = 3,
        /// Token exchange (RFC 8693): SUBJECT_TOKEN (required), SUBJECT_TOKEN_TYPE (default access token),
        /// ACTOR_TOKEN, ACTOR_TOKEN_TYPE, REQUESTED_TOKEN_TYPE, AUDIENCE, RESOURCE, SCOPE.
        /// (<c>OIDC_OP_TOKEN_EXCHANGE</c>)
        TokenExchange = 4,
        /// JWT bearer grant (RFC 7523): ASSERTION, or SUBJECT (liboidc signs an assertion with the client's
        /// private key: iss = client id, aud = issuer, 60 s); SCOPE. (<c>OIDC_OP_JWT_BEARER</c>)
        JwtBearer = 5,
        /// Any grant: GRANT_TYPE (required), SCOPE, RESOURCE, AUDIENCE, custom parameters.
        /// (<c>OIDC_OP_CUSTOM_GRANT</c>)
        CustomGrant = 6,
        /// Device authorization (RFC 8628 §3.1): SCOPE. Poll with OIDC_OP_DEVICE_POLL.
        /// (<c>OIDC_OP_DEVICE_AUTHORIZATION</c>)
        DeviceAuthorization = 7,
        /// Device token poll (RFC 8628 §3.4): the start's response (`oidc_oauth_request_set_pending`) or
        /// DEVICE_CODE (+ INTERVAL_SECS, EXPIRES_IN_SECS). (<c>OIDC_OP_DEVICE_POLL</c>)
        DevicePoll = 8,
        /// CIBA backchannel authentication, poll mode: SCOPE, LOGIN_HINT, BINDING_MESSAGE, custom.
        /// (<c>OIDC_OP_CIBA_REQUEST</c>)
        CibaRequest = 9,
        /// CIBA token poll: the start's response or AUTH_REQ_ID (+ INTERVAL_SECS, EXPIRES_IN_SECS).
        /// (<c>OIDC_OP_CIBA_POLL</c>)
        CibaPoll = 10,
        /// Token introspection (RFC 7662): TOKEN (required), TOKEN_TYPE_HINT, SIGNED_RESPONSE (RFC 9701 JWT
        /// answer, validated with the issuer's keys). (<c>OIDC_OP_INTROSPECT</c>)
        Introspect = 11,
        /// Token revocation (RFC 7009): TOKEN (required), TOKEN_TYPE_HINT. (<c>OIDC_OP_REVOKE</c>)
        Revoke = 12,
        /// UserInfo: ACCESS_TOKEN (required), TOKEN_TYPE, EXPECTED_SUB (the ID token's `sub`).
        /// (<c>OIDC_OP_USERINFO</c>)
        Userinfo = 13,
        /// Pushed authorization request (RFC 9126): the parameters of OIDC_OP_AUTHORIZATION_URL; the
        /// response has REQUEST_URI (then build the URL with OIDC_OP_AUTHORIZATION_URL and REQUEST_URI),
        /// STATE, NONCE, CODE_VERIFIER. (<c>OIDC_OP_PUSHED_AUTHORIZATION</c>)
        PushedAuthorization = 14,
        /// The authorization URL (no network once discovery is cached): REDIRECT_URI, SCOPE, STATE and
        /// NONCE (generated when absent), RESPONSE_TYPE (default code), RESPONSE_MODE, CODE_CHALLENGE (a
        /// PKCE pair is generated when absent: the response has CODE_VERIFIER), REQUEST_OBJECT (JAR),
        /// REQUEST_URI (PAR), LOGIN_HINT, RESOURCE, MAX_AGE, custom. The JSON is
        /// `{"url","state","nonce"[,"code_verifier","code_challenge","code_challenge_method"]}`.
        /// (<c>OIDC_OP_AUTHORIZATION_URL</c>)
        AuthorizationUrl = 15,
        /// The RP-initiated logout URL: ID_TOKEN_HINT, POST_LOGOUT_REDIRECT_URI, STATE, custom.
        /// (<c>OIDC_OP_END_SESSION_URL</c>)
        EndSessionUrl = 16,
        /// Check an authorization response (redirect URL, query or form body): RESPONSE (required),
        /// EXPECTED_STATE or NO_STATE_SENT = 1; RFC 9207 `iss` and JARM are checked. The JSON is
        /// `{"code":…,"state":…,"iss":…,"jarm":bool,"params":{every parameter received}}`.
        /// (<c>OIDC_OP_AUTHORIZATION_RESPONSE</c>)
        AuthorizationResponse = 17,
        /// Validate an ID token (OpenID Connect Core §3.1.3.7): ID_TOKEN (required), NONCE, ACCESS_TOKEN
        /// (at_hash), CODE (c_hash), MAX_AGE (auth_time). The response JSON is the claims.
        /// (<c>OIDC_OP_VALIDATE_ID_TOKEN</c>)
        ValidateIdToken = 18,
        /// Dynamic client registration (RFC 7591): METADATA (required, a JSON object; custom parameters
        /// become members), INITIAL_ACCESS_TOKEN. The only operation a client without a client id can send.
        /// (<c>OIDC_OP_REGISTER</c>)
        Register = 19,
        /// Read a registration (RFC 7592): REGISTRATION_CLIENT_URI, REGISTRATION_ACCESS_TOKEN.
        /// (<c>OIDC_OP_REGISTRATION_READ</c>)
        RegistrationRead = 20,
        /// Replace a registration's metadata (RFC 7592): METADATA plus the two of READ.
        /// (<c>OIDC_OP_REGISTRATION_UPDATE</c>)
        RegistrationUpdate = 21,
        /// Delete a registration (RFC 7592): the two parameters of READ.
        /// (<c>OIDC_OP_REGISTRATION_DELETE</c>)
        RegistrationDelete = 22,
        /// Call a protected resource: URL and ACCESS_TOKEN (required), METHOD (default GET), TOKEN_TYPE,
        /// BODY, CONTENT_TYPE, custom (query parameters). Any HTTP status is a success of the call: read
        /// OIDC_FIELD_HTTP_STATUS. (<c>OIDC_OP_RESOURCE</c>)
        Resource = 23,
        /// An endpoint's URL by its metadata name (ENDPOINT_NAME): the builder's override, else discovery.
        /// (<c>OIDC_OP_ENDPOINT</c>)
        Endpoint = 24,
        /// Validate a back-channel logout token: LOGOUT_TOKEN (required). The JSON is the claims;
        /// fields ISS, SUB, SID, JTI; a replayed jti is TOKEN_REPLAYED. (<c>OIDC_OP_VALIDATE_LOGOUT_TOKEN</c>)
        ValidateLogoutToken = 25,
        /// Verify a JWS that is not a token (RFC 7515; detached content, Appendix F; unencoded
        /// payload, RFC 7797): JWS (required; compact or flattened JSON), PAYLOAD (the detached
        /// payload), NOW_SECS. The issuer's keys and the client's algorithm policy. The response:
        /// PAYLOAD (when UTF-8), PROTECTED_HEADER; the JSON is
        /// <c>{"header":{..},"payload_b64url":"..","payload":".."}</c>. (<c>OIDC_OP_VERIFY_JWS</c>)
        VerifyJws = 26,
        /// Decrypt a compact JWE with the client's decryption keys: JWE (required). Decrypts only
        /// (a nested JWT is not validated). The response as for VERIFY_JWS. (<c>OIDC_OP_DECRYPT</c>)
        Decrypt = 27,
    }

    /// oidc_param: a request parameter. Strings (1-99) go through
    /// <see cref="OAuthRequest.Set(OAuthParam, string)"/>, lists (100-199) through
    /// <see cref="OAuthRequest.Add(OAuthParam, string)"/> (one item per call), integers (200-)
    /// through <see cref="OAuthRequest.Set(OAuthParam, long)"/>. Which apply to which operation:
    /// include/oidc.h.
    public enum OAuthParam : uint
    {
        /// The <c>code</c> parameter (<c>OIDC_PARAM_CODE</c>).
        Code = 1,
        /// The <c>redirect_uri</c> parameter (<c>OIDC_PARAM_REDIRECT_URI</c>).
        RedirectUri = 2,
        /// The <c>code_verifier</c> parameter (<c>OIDC_PARAM_CODE_VERIFIER</c>).
        CodeVerifier = 3,
        /// The <c>nonce</c> parameter (<c>OIDC_PARAM_NONCE</c>).
        Nonce = 4,
        /// The <c>refresh_token</c> parameter (<c>OIDC_PARAM_REFRESH_TOKEN</c>).
        RefreshToken = 5,
        /// The <c>subject_token</c> parameter (<c>OIDC_PARAM_SUBJECT_TOKEN</c>).
        SubjectToken = 6,
        /// The <c>subject_token_type</c> parameter (<c>OIDC_PARAM_SUBJECT_TOKEN_TYPE</c>).
        SubjectTokenType = 7,
        /// The <c>actor_token</c> parameter (<c>OIDC_PARAM_ACTOR_TOKEN</c>).
        ActorToken = 8,
        /// The <c>actor_token_type</c> parameter (<c>OIDC_PARAM_ACTOR_TOKEN_TYPE</c>).
        ActorTokenType = 9,
        /// The <c>requested_token_type</c> parameter (<c>OIDC_PARAM_REQUESTED_TOKEN_TYPE</c>).
        RequestedTokenType = 10,
        /// The <c>assertion</c> parameter (<c>OIDC_PARAM_ASSERTION</c>).
        Assertion = 11,
        /// The <c>subject</c> parameter (<c>OIDC_PARAM_SUBJECT</c>).
        Subject = 12,
        /// The <c>grant_type</c> parameter (<c>OIDC_PARAM_GRANT_TYPE</c>).
        GrantType = 13,
        /// The <c>token</c> parameter (<c>OIDC_PARAM_TOKEN</c>).
        Token = 14,
        /// The <c>token_type_hint</c> parameter (<c>OIDC_PARAM_TOKEN_TYPE_HINT</c>).
        TokenTypeHint = 15,
        /// The <c>access_token</c> parameter (<c>OIDC_PARAM_ACCESS_TOKEN</c>).
        AccessToken = 16,
        /// "DPoP" or "Bearer"; default DPoP when the client has a DPoP key (RFC 9449 §7.1).
        /// (<c>OIDC_PARAM_TOKEN_TYPE</c>)
        TokenType = 17,
        /// The <c>expected_sub</c> parameter (<c>OIDC_PARAM_EXPECTED_SUB</c>).
        ExpectedSub = 18,
        /// The <c>device_code</c> parameter (<c>OIDC_PARAM_DEVICE_CODE</c>).
        DeviceCode = 19,
        /// The <c>auth_req_id</c> parameter (<c>OIDC_PARAM_AUTH_REQ_ID</c>).
        AuthReqId = 20,
        /// A JSON object. (<c>OIDC_PARAM_METADATA</c>)
        Metadata = 21,
        /// The <c>initial_access_token</c> parameter (<c>OIDC_PARAM_INITIAL_ACCESS_TOKEN</c>).
        InitialAccessToken = 22,
        /// The <c>registration_access_token</c> parameter (<c>OIDC_PARAM_REGISTRATION_ACCESS_TOKEN</c>).
        RegistrationAccessToken = 23,
        /// Must be on the issuer's origin. (<c>OIDC_PARAM_REGISTRATION_CLIENT_URI</c>)
        RegistrationClientUri = 24,
        /// GET, POST, PUT, PATCH, DELETE or HEAD. (<c>OIDC_PARAM_METHOD</c>)
        Method = 25,
        /// The <c>url</c> parameter (<c>OIDC_PARAM_URL</c>).
        Url = 26,
        /// The <c>body</c> parameter (<c>OIDC_PARAM_BODY</c>).
        Body = 27,
        /// application/json (default), application/x-www-form-urlencoded, text/plain or
        /// application/octet-stream. (<c>OIDC_PARAM_CONTENT_TYPE</c>)
        ContentType = 28,
        /// The <c>response</c> parameter (<c>OIDC_PARAM_RESPONSE</c>).
        Response = 29,
        /// The <c>expected_state</c> parameter (<c>OIDC_PARAM_EXPECTED_STATE</c>).
        ExpectedState = 30,
        /// The <c>id_token</c> parameter (<c>OIDC_PARAM_ID_TOKEN</c>).
        IdToken = 31,
        /// The <c>id_token_hint</c> parameter (<c>OIDC_PARAM_ID_TOKEN_HINT</c>).
        IdTokenHint = 32,
        /// The <c>post_logout_redirect_uri</c> parameter (<c>OIDC_PARAM_POST_LOGOUT_REDIRECT_URI</c>).
        PostLogoutRedirectUri = 33,
        /// The <c>state</c> parameter (<c>OIDC_PARAM_STATE</c>).
        State = 34,
        /// The <c>response_type</c> parameter (<c>OIDC_PARAM_RESPONSE_TYPE</c>).
        ResponseType = 35,
        /// The <c>response_mode</c> parameter (<c>OIDC_PARAM_RESPONSE_MODE</c>).
        ResponseMode = 36,
        /// The <c>code_challenge</c> parameter (<c>OIDC_PARAM_CODE_CHALLENGE</c>).
        CodeChallenge = 37,
        /// The <c>request_object</c> parameter (<c>OIDC_PARAM_REQUEST_OBJECT</c>).
        RequestObject = 38,
        /// The <c>request_uri</c> parameter (<c>OIDC_PARAM_REQUEST_URI</c>).
        RequestUri = 39,
        /// The <c>login_hint</c> parameter (<c>OIDC_PARAM_LOGIN_HINT</c>).
        LoginHint = 40,
        /// The <c>binding_message</c> parameter (<c>OIDC_PARAM_BINDING_MESSAGE</c>).
        BindingMessage = 41,
        /// The <c>endpoint_name</c> parameter (<c>OIDC_PARAM_ENDPOINT_NAME</c>).
        EndpointName = 42,
        /// The logout token (<c>OIDC_PARAM_LOGOUT_TOKEN</c>).
        LogoutToken = 43,
        /// The JWS to verify (<c>OIDC_PARAM_JWS</c>).
        Jws = 44,
        /// The detached payload of a JWS (UTF-8 text) (<c>OIDC_PARAM_PAYLOAD</c>).
        Payload = 45,
        /// The compact JWE to decrypt (<c>OIDC_PARAM_JWE</c>).
        Jwe = 46,
        /// One scope token per call; sent joined by spaces. (<c>OIDC_PARAM_SCOPE</c>)
        Scope = 100,
        /// The <c>resource</c> parameter (<c>OIDC_PARAM_RESOURCE</c>).
        Resource = 101,
        /// The <c>audience</c> parameter (<c>OIDC_PARAM_AUDIENCE</c>).
        Audience = 102,
        /// The <c>max_age</c> parameter (<c>OIDC_PARAM_MAX_AGE</c>).
        MaxAge = 200,
        /// The call's own deadline in milliseconds from the send (every operation; 1 to 86400000).
        /// (<c>OIDC_PARAM_DEADLINE_MS</c>)
        DeadlineMs = 201,
        /// The <c>interval_secs</c> parameter (<c>OIDC_PARAM_INTERVAL_SECS</c>).
        IntervalSecs = 202,
        /// The <c>expires_in_secs</c> parameter (<c>OIDC_PARAM_EXPIRES_IN_SECS</c>).
        ExpiresInSecs = 203,
        /// 0 or 1. (<c>OIDC_PARAM_SIGNED_RESPONSE</c>)
        SignedResponse = 204,
        /// 0 or 1. (<c>OIDC_PARAM_USE_CACHE</c>)
        UseCache = 205,
        /// 0 or 1. (<c>OIDC_PARAM_NO_STATE_SENT</c>)
        NoStateSent = 206,
        /// The validation time in Unix seconds for VALIDATE_ID_TOKEN, VALIDATE_LOGOUT_TOKEN,
        /// VERIFY_JWS and AUTHORIZATION_RESPONSE (default: now). (<c>OIDC_PARAM_NOW_SECS</c>)
        NowSecs = 207,
    }

    /// oidc_field: a response field. Strings (1-99) through <see cref="OAuthResponse.GetString"/>,
    /// integers (100-) through <see cref="OAuthResponse.GetInt"/>.
    public enum OAuthField : uint
    {
        /// The response's <c>access_token</c>. (<c>OIDC_FIELD_ACCESS_TOKEN</c>)
        AccessToken = 1,
        /// The response's <c>token_type</c>. (<c>OIDC_FIELD_TOKEN_TYPE</c>)
        TokenType = 2,
        /// The response's <c>refresh_token</c>. (<c>OIDC_FIELD_REFRESH_TOKEN</c>)
        RefreshToken = 3,
        /// The response's <c>id_token</c>. (<c>OIDC_FIELD_ID_TOKEN</c>)
        IdToken = 4,
        /// The response's <c>scope</c>. (<c>OIDC_FIELD_SCOPE</c>)
        Scope = 5,
        /// The response's <c>issued_token_type</c>. (<c>OIDC_FIELD_ISSUED_TOKEN_TYPE</c>)
        IssuedTokenType = 6,
        /// The response's <c>device_code</c>. (<c>OIDC_FIELD_DEVICE_CODE</c>)
        DeviceCode = 7,
        /// The response's <c>user_code</c>. (<c>OIDC_FIELD_USER_CODE</c>)
        UserCode = 8,
        /// The response's <c>verification_uri</c>. (<c>OIDC_FIELD_VERIFICATION_URI</c>)
        VerificationUri = 9,
        /// The response's <c>verification_uri_complete</c>. (<c>OIDC_FIELD_VERIFICATION_URI_COMPLETE</c>)
        VerificationUriComplete = 10,
        /// The response's <c>auth_req_id</c>. (<c>OIDC_FIELD_AUTH_REQ_ID</c>)
        AuthReqId = 11,
        /// The response's <c>request_uri</c>. (<c>OIDC_FIELD_REQUEST_URI</c>)
        RequestUri = 12,
        /// The response's <c>url</c>. (<c>OIDC_FIELD_URL</c>)
        Url = 13,
        /// The response's <c>code</c>. (<c>OIDC_FIELD_CODE</c>)
        Code = 14,
        /// The response's <c>state</c>. (<c>OIDC_FIELD_STATE</c>)
        State = 15,
        /// The response's <c>nonce</c>. (<c>OIDC_FIELD_NONCE</c>)
        Nonce = 16,
        /// The response's <c>code_verifier</c>. (<c>OIDC_FIELD_CODE_VERIFIER</c>)
        CodeVerifier = 17,
        /// The response's <c>code_challenge</c>. (<c>OIDC_FIELD_CODE_CHALLENGE</c>)
        CodeChallenge = 18,
        /// The response's <c>iss</c>. (<c>OIDC_FIELD_ISS</c>)
        Iss = 19,
        /// The response's <c>sub</c>. (<c>OIDC_FIELD_SUB</c>)
        Sub = 20,
        /// The response's <c>client_id</c>. (<c>OIDC_FIELD_CLIENT_ID</c>)
        ClientId = 21,
        /// The response's <c>client_secret</c>. (<c>OIDC_FIELD_CLIENT_SECRET</c>)
        ClientSecret = 22,
        /// The response's <c>registration_access_token</c>. (<c>OIDC_FIELD_REGISTRATION_ACCESS_TOKEN</c>)
        RegistrationAccessToken = 23,
        /// The response's <c>registration_client_uri</c>. (<c>OIDC_FIELD_REGISTRATION_CLIENT_URI</c>)
        RegistrationClientUri = 24,
        /// OIDC_OP_RESOURCE: the OAuth error of the WWW-Authenticate challenge or of a JSON error body.
        /// (<c>OIDC_FIELD_ERROR</c>)
        Error = 25,
        /// The response's <c>error_description</c>. (<c>OIDC_FIELD_ERROR_DESCRIPTION</c>)
        ErrorDescription = 26,
        /// The response's <c>error_uri</c>. (<c>OIDC_FIELD_ERROR_URI</c>)
        ErrorUri = 27,
        /// The response's <c>content_type</c>. (<c>OIDC_FIELD_CONTENT_TYPE</c>)
        ContentType = 28,
        /// The response's <c>www_authenticate</c>. (<c>OIDC_FIELD_WWW_AUTHENTICATE</c>)
        WwwAuthenticate = 29,
        /// The logout token's session id. (<c>OIDC_FIELD_SID</c>)
        Sid = 30,
        /// The logout token's <c>jti</c>. (<c>OIDC_FIELD_JTI</c>)
        Jti = 31,
        /// VERIFY_JWS, DECRYPT: the payload, when it is UTF-8 text. (<c>OIDC_FIELD_PAYLOAD</c>)
        Payload = 32,
        /// VERIFY_JWS, DECRYPT: the protected header (JSON). (<c>OIDC_FIELD_PROTECTED_HEADER</c>)
        ProtectedHeader = 33,
        /// Seconds (token, device, CIBA, PAR responses). (<c>OIDC_FIELD_EXPIRES_IN</c>)
        ExpiresIn = 100,
        /// Seconds between polls (device, CIBA). (<c>OIDC_FIELD_INTERVAL</c>)
        Interval = 101,
        /// OIDC_OP_RESOURCE. (<c>OIDC_FIELD_HTTP_STATUS</c>)
        HttpStatus = 102,
        /// OIDC_OP_INTROSPECT: 1 or 0. (<c>OIDC_FIELD_ACTIVE</c>)
        Active = 103,
    }

    /// One protocol request (oidc_oauth_request), made by <see cref="OAuthClient.NewRequest"/>.
    /// Set its parameters, then <see cref="Send"/> or <see cref="SendAsync"/>: the request is
    /// copied at send, so it may be sent again, from several threads at once, or disposed as soon
    /// as SendAsync returned. Setters return the request (chainable) and throw liboidc's
    /// InvalidArgumentException for a parameter the operation does not take. Holds native memory:
    /// dispose it (the finaliser frees it otherwise).
    public sealed class OAuthRequest : IDisposable
    {
        private readonly OAuthRequestHandle handle;
        private int disposed;

        internal OAuthRequest(OAuthClientHandle client, OAuthOperation op)
        {
            OAuthRequestHandle h;
            IntPtr err;
            uint rc = Native.oidc_oauth_request_new(client, op, out h, out err);
            if (rc != 0)
            {
                if (h != null) h.SetHandleAsInvalid();
                throw OidcException.FromNative(rc, err);
            }
            handle = h;
            Operation = op;
        }

        /// What this request does.
        public OAuthOperation Operation { get; private set; }

        private OAuthRequestHandle Handle
        {
            get
            {
                if (Volatile.Read(ref disposed) != 0) throw new ObjectDisposedException("OAuthRequest");
                return handle;
            }
        }

        /// A string parameter (setting it again replaces it).
        public OAuthRequest Set(OAuthParam param, string value)
        {
            byte[] v = Value(value, param);
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_set_string(Handle, param, v, (UIntPtr)v.Length, out err), err);
            return this;
        }

        /// A string parameter given as its UTF-8 bytes (e.g. <see cref="OAuthParam.Payload"/>, a
        /// detached JWS payload read from the wire): liboidc checks the encoding
        /// (InvalidUtf8Exception for bytes that are not UTF-8).
        public OAuthRequest Set(OAuthParam param, byte[] utf8)
        {
            if (utf8 == null) throw new ArgumentNullException("utf8", "no value for " + param);
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_set_string(Handle, param, utf8, (UIntPtr)utf8.Length, out err), err);
            return this;
        }

        /// <see cref="Set(OAuthParam, string)"/> when <paramref name="value"/> is not null (the
        /// typed methods of OAuthClient: null means "not given").
        internal OAuthRequest SetOptional(OAuthParam param, string value)
        {
            return value == null ? this : Set(param, value);
        }

        /// <see cref="OAuthParam.NowSecs"/> when <paramref name="now"/> is given (typed methods).
        internal OAuthRequest SetNow(DateTimeOffset? now)
        {
            return now.HasValue ? Set(OAuthParam.NowSecs, now.Value.ToUnixTimeSeconds()) : this;
        }

        /// One item of a list parameter (<see cref="OAuthParam.Scope"/>, Resource, Audience).
        public OAuthRequest Add(OAuthParam param, string item)
        {
            byte[] v = Value(item, param);
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_add_string(Handle, param, v, (UIntPtr)v.Length, out err), err);
            return this;
        }

        /// Every item of <paramref name="items"/>, in order (null: none).
        public OAuthRequest Add(OAuthParam param, IEnumerable<string> items)
        {
            if (items != null) foreach (var item in items) Add(param, item);
            return this;
        }

        /// An integer parameter (<see cref="OAuthParam.DeadlineMs"/>, MaxAge, UseCache = 1, ...).
        public OAuthRequest Set(OAuthParam param, long value)
        {
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_set_int(Handle, param, value, out err), err);
            return this;
        }

        /// A custom parameter by name (may repeat); liboidc refuses the names it sets itself or
        /// that have a typed <see cref="OAuthParam"/> (the message names which).
        public OAuthRequest AddParameter(string name, string value)
        {
            if (name == null) throw new ArgumentNullException("name");
            byte[] n = Utf8.StrictBytes(name), v = Value(value, name);
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_add_param(Handle, n, (UIntPtr)n.Length, v, (UIntPtr)v.Length, out err), err);
            return this;
        }

        /// Every pair of <paramref name="parameters"/> (null: none).
        public OAuthRequest AddParameters(IEnumerable<KeyValuePair<string, string>> parameters)
        {
            if (parameters != null) foreach (var kv in parameters) AddParameter(kv.Key, kv.Value);
            return this;
        }

        /// A DEVICE_POLL / CIBA_POLL request continues <paramref name="started"/> (the response of
        /// DEVICE_AUTHORIZATION / CIBA_REQUEST: its code, interval and expiry are copied).
        public OAuthRequest SetPending(OAuthResponse started)
        {
            if (started == null) throw new ArgumentNullException("started");
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_set_pending(Handle, started.Handle, out err), err);
            return this;
        }

        private static byte[] Value(string value, object what)
        {
            if (value == null) throw new ArgumentNullException("value", "no value for " + what);
            return Utf8.StrictBytes(value);
        }

        /// Send and wait (oidc_oauth_send). <paramref name="cancellationToken"/> becomes an
        /// oidc_cancel: cancelling it ends a poll's wait at once; a request in flight finishes
        /// first (bounded by the client's timeouts) and its result is dropped
        /// (OperationCanceledException, its InnerException liboidc's OidcCancelledException). A
        /// deadline: <see cref="OAuthParam.DeadlineMs"/> (DeadlineExceededException). Failures
        /// throw the exception of their liboidc code. Dispose the response.
        public OAuthResponse Send(CancellationToken cancellationToken = default(CancellationToken))
        {
            return new OAuthResponse(SendNative(cancellationToken));
        }

        /// Send without blocking (oidc_oauth_send_async): the task completes from liboidc's
        /// callback with the response (dispose it; the finaliser frees one you forget), faults with
        /// the exception <see cref="Send"/> would throw, or is Canceled when
        /// <paramref name="cancellationToken"/> cancels it (through an oidc_cancel).
        public Task<OAuthResponse> SendAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncBridge.Send(Handle, r => r, cancellationToken);
        }

        /// Send, then read the response with <paramref name="read"/> and free it (typed methods
        /// of OAuthClient). The request is disposed.
        internal T SendOnce<T>(Func<OAuthResponse, T> read, CancellationToken ct)
        {
            using (this)
            using (var r = Send(ct))
                return read(r);
        }

        /// <see cref="SendOnce{T}"/> without blocking: the response is read and freed on the
        /// callback's thread; the request is disposed once the call is queued (it was copied).
        internal Task<T> SendOnceAsync<T>(Func<OAuthResponse, T> read, CancellationToken ct)
        {
            using (this)
                return AsyncBridge.Send(Handle, r => { using (r) return read(r); }, ct);
        }

        /// Like <see cref="SendOnce{T}"/>, but <paramref name="keep"/> takes ownership of the
        /// response (a started device or CIBA flow keeps it for its polls).
        internal T SendKeep<T>(Func<OAuthResponse, T> keep, CancellationToken ct)
        {
            using (this)
                return keep(Send(ct));
        }

        internal Task<T> SendKeepAsync<T>(Func<OAuthResponse, T> keep, CancellationToken ct)
        {
            using (this)
                return AsyncBridge.Send(Handle, keep, ct);
        }

        private OAuthResponseHandle SendNative(CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            OAuthRequestHandle h = Handle;
            CancelHandle cancel = null;
            IntPtr err;
            uint rc;
            if (ct.CanBeCanceled)
            {
                rc = Native.oidc_cancel_new(0, out cancel, out err);
                if (rc != 0)
                {
                    if (cancel != null) cancel.SetHandleAsInvalid();
                    throw OidcException.FromNative(rc, err);
                }
            }
            try
            {
                OAuthResponseHandle resp;
                // Disposing the registration waits for a trigger already running, so the token's
                // callback never touches a freed handle.
                using (cancel == null ? default(CancellationTokenRegistration) : ct.Register(TriggerCancel, cancel))
                {
                    bool held = false;
                    try
                    {
                        if (cancel != null) cancel.DangerousAddRef(ref held);
                        rc = Native.oidc_oauth_send(h, cancel == null ? IntPtr.Zero : cancel.DangerousGetHandle(), out resp, out err);
                    }
                    finally
                    {
                        if (held) cancel.DangerousRelease();
                    }
                }
                if (rc != 0)
                {
                    if (resp != null) resp.SetHandleAsInvalid();
                    var e = OidcException.FromNative(rc, err);
                    if (rc == (uint)OidcResult.Cancelled && ct.IsCancellationRequested)
                        throw new OperationCanceledException("the request was cancelled", e, ct);
                    throw e;
                }
                resp.Taken();
                return resp;
            }
            finally
            {
                if (cancel != null) cancel.Dispose();
            }
        }

        private static readonly Action<object> TriggerCancel = s => Native.oidc_cancel_trigger((CancelHandle)s);

        /// Free the native request (after sends running on other threads return). Idempotent.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) handle.Dispose();
        }

        /// The operation (never the parameters, which may hold secrets).
        public override string ToString() { return "OAuthRequest(" + Operation + ")"; }
    }

    /// A protocol response (oidc_oauth_response): typed fields, and the JSON liboidc received or
    /// made (<see cref="Json"/>). Many responses hold secrets (tokens, codes, client secrets):
    /// <see cref="ToString"/> prints none. Dispose it (the finaliser frees it otherwise).
    public sealed class OAuthResponse : IDisposable
    {
        private readonly OAuthResponseHandle handle;
        private int disposed;

        internal OAuthResponse(OAuthResponseHandle h)
        {
            handle = h;
            Operation = Native.oidc_oauth_response_operation(h);
        }

        /// The operation this answers.
        public OAuthOperation Operation { get; private set; }

        internal OAuthResponseHandle Handle
        {
            get
            {
                if (Volatile.Read(ref disposed) != 0) throw new ObjectDisposedException("OAuthResponse");
                return handle;
            }
        }

        /// A string field, or null when absent. Fields not computed by liboidc are the top-level
        /// string member of that name in <see cref="Json"/>.
        public string GetString(OAuthField field)
        {
            OAuthResponseHandle h = Handle;
            bool held = false;
            try
            {
                h.DangerousAddRef(ref held); // the string is borrowed until the response is freed
                return Utf8.ReadNulTerminated(Native.oidc_oauth_response_string(h, field));
            }
            finally
            {
                if (held) h.DangerousRelease();
            }
        }

        /// An integer field, or null when absent.
        public long? GetInt(OAuthField field)
        {
            long v = Native.oidc_oauth_response_int(Handle, field);
            return v == -1 ? (long?)null : v;
        }

        /// The server's JSON body (token, device, CIBA, introspection, userinfo, registration,
        /// PAR), a resource's body as received, an ID token's claims, or the object liboidc made
        /// for a local operation (authorization URL, logout URL, authorization response, endpoint).
        public string Json
        {
            get
            {
                OAuthResponseHandle h = Handle;
                bool held = false;
                try
                {
                    h.DangerousAddRef(ref held);
                    UIntPtr len;
                    IntPtr p = Native.oidc_oauth_response_json(h, out len);
                    return p == IntPtr.Zero ? null : Utf8.Read(p, checked((int)len.ToUInt64()));
                }
                finally
                {
                    if (held) h.DangerousRelease();
                }
            }
        }

        /// <see cref="Json"/> as <see cref="Claims"/> (a JSON object; a resource body need not be one).
        public Claims Members { get { return new Claims(Json); } }

        /// Free the native response (after reads running on other threads return). Idempotent.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) handle.Dispose();
        }

        /// The operation (never the contents, which hold secrets).
        public override string ToString() { return "OAuthResponse(" + Operation + ")"; }
    }
}
