//! The single error taxonomy of liboidc.
//!
//! Every failure anywhere in the core is an [`Error`] with an [`ErrorKind`]. The C ABI maps each
//! kind to a stable numeric code in exactly one exhaustive `match` (`code_for` in
//! `src/ffi/codes.rs`, generated from `codes.in` by `scripts/gen-codes.py`), so a new kind without
//! a row in `codes.in` does not compile.
//!
//! Messages are written by us, never copied from a token or a secret: they may name configured
//! values (the expected issuer, a URL) and numbers (times, sizes), never secrets. The few token
//! values a message names so that the reader can fix the mismatch (`iss`, `aud`) are quoted,
//! escaped and bounded (`json::quoted`); never a signature or a whole token.

use std::fmt;

/// What went wrong, precisely enough for a host to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    // --- API misuse (caller errors) ---
    /// An argument is out of range or otherwise unusable.
    InvalidArgument,

    // --- call control (the same C range as API misuse: 7-9) ---
    /// The worker queue of the non-blocking API is full; retry later or raise its bound.
    QueueFull,
    /// The call's deadline passed (a polling deadline or a cancel handle's timeout).
    DeadlineExceeded,
    /// The call was cancelled.
    Cancelled,

    // --- configuration and discovery ---
    /// The client configuration is invalid (empty issuer, bad bound, ...).
    InvalidConfig,
    /// A URL is not https (and not an opted-in loopback http URL), or not a URL at all.
    InsecureUrl,
    /// The CA file could not be read or holds no usable certificate.
    CaFile,
    /// An algorithm name is unknown or forbidden (`none`, HMAC).
    UnsupportedAlgorithm,
    /// The mTLS client certificate or key is unusable (not PEM, missing, or a key/cert mismatch).
    ClientCert,
    /// The discovery document is invalid (missing `jwks_uri`, not an object, ...).
    DiscoveryInvalid,
    /// The discovery document names a different issuer than the configured one.
    DiscoveryIssuerMismatch,
    /// The JWKS document is invalid (not JSON, no `keys` array, too many keys, ...).
    JwksInvalid,

    // --- network / HTTP ---
    /// Connection refused, DNS failure, connection reset, or a transport error.
    Network,
    /// A connect or total timeout elapsed.
    Timeout,
    /// The TLS handshake failed (unknown CA, bad certificate, ...).
    Tls,
    /// The server answered with an unexpected HTTP status.
    HttpStatus,
    /// The response body exceeded the configured bound.
    ResponseTooLarge,
    /// The response was not what was asked for (content type, malformed JSON, truncated body).
    ResponseInvalid,
    /// A redirect was refused (to http, too many, or without a Location).
    RedirectRejected,
    /// An unknown `kid` could not be checked: the key refresh it triggered failed (timeout, 5xx,
    /// reset, bad body, empty key set). An identity-provider outage, not a forged token: 503,
    /// retry later, no `invalid_token`.
    KeysUnavailable,
    /// The HTTP proxy refused the tunnel (407, 403, ...) or could not be reached.
    Proxy,
    /// The issuer's signed revocation list could not be fetched or verified and its grace
    /// period is over, under the fail-closed policy: 503, retry later.
    RevocationUnavailable,

    // --- token validation ---
    /// The token is not a well-formed compact JWS with JSON header and claims.
    TokenMalformed,
    /// The token is larger than the configured maximum.
    TokenTooLarge,
    /// The token's `alg` is not in the allow-list, is `none`, or does not fit the key.
    AlgorithmNotAllowed,
    /// No key in the issuer's key set matches the token's `kid`/`alg`.
    UnknownKey,
    /// The signature does not verify.
    SignatureInvalid,
    /// `exp` is in the past (beyond leeway).
    TokenExpired,
    /// `nbf` is in the future (beyond leeway).
    TokenNotYetValid,
    /// `iat` is in the future (beyond leeway).
    TokenIssuedInFuture,
    /// `iss` does not equal the configured issuer.
    IssuerMismatch,
    /// No `aud` value matches a configured audience.
    AudienceMismatch,
    /// A required claim is absent or null.
    MissingClaim,
    /// A registered claim has the wrong type (e.g. `exp` not a number).
    InvalidClaim,
    /// The `typ` header differs from the expected one.
    TypeMismatch,
    /// The `crit` header names an extension we do not understand.
    CritUnsupported,
    /// A key in the key set is unusable (weak RSA, bad curve point, ...).
    KeyRejected,
    /// An encrypted token or response (JWE) could not be decrypted. One kind and one message
    /// for every key-unwrap, decryption and tag failure (no oracle).
    DecryptionFailed,
    /// The token's `jti` or its signing key's `kid` is on the issuer's revocation list.
    Revoked,
    /// A one-time token (back-channel logout token) was presented before.
    TokenReplayed,

    // --- request authentication (resource server) ---
    /// The request's credentials are malformed: several `Authorization` headers or credentials,
    /// a token that is not a `b64token`, ... (RFC 6750 `invalid_request`, 400).
    RequestMalformed,
    /// The request carries no access token in a scheme this resource accepts (401 with a bare
    /// challenge, RFC 6750 §3.1).
    TokenMissing,
    /// The DPoP proof is absent, malformed, badly signed, or fails a header/claim rule (typ,
    /// alg, jwk, missing claims).
    DpopProofInvalid,
    /// The DPoP proof is for another request: `htm`, `htu` or `ath` does not match.
    DpopProofMismatch,
    /// The DPoP proof's `iat` is outside the accepted window.
    DpopProofStale,
    /// The DPoP proof's `jti` was used before.
    DpopReplay,
    /// The resource requires a (fresh) server nonce in the DPoP proof (`use_dpop_nonce`).
    DpopNonceRequired,
    /// The token's binding (`cnf.jkt`, `cnf.x5t#S256`) does not match the proof key or client
    /// certificate, or a bound token came with the wrong scheme or without its certificate.
    TokenBindingMismatch,
    /// A claim-value rule of the resource is not met (403).
    ClaimNotAllowed,
    /// The shared replay store could not answer (503: retry later).
    ReplayStoreUnavailable,

    // --- OAuth error responses (RFC 6749 §5.2 and extensions); details in `Error::oauth()` ---
    /// An OAuth error code liboidc has no specific kind for.
    OAuthOther,
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 8628 / CIBA: keep polling.
    AuthorizationPending,
    /// RFC 8628 / CIBA: poll more slowly (+5 s).
    SlowDown,
    AccessDenied,
    ExpiredToken,
    /// RFC 8707.
    InvalidTarget,
    /// RFC 9449: the server wants a DPoP nonce.
    UseDpopNonce,
    InvalidDpopProof,
    /// RFC 7009.
    UnsupportedTokenType,
    /// RFC 7591.
    InvalidClientMetadata,
    InvalidRedirectUri,
    /// RFC 6750 at a protected resource (userinfo).
    InvalidToken,
    InsufficientScope,

    // --- protocol checks on responses ---
    /// A response lacks a required member or has one of the wrong type.
    ResponseMissingField,
    /// The authorization response's `state` differs from the one sent.
    StateMismatch,
    /// The ID token's `nonce` differs from the one sent.
    NonceMismatch,
    /// `at_hash` / `c_hash` does not match the access token / code.
    HashMismatch,
    /// `azp` is missing or not our client id where required.
    AzpMismatch,
    /// `auth_time` is missing or too old for `max_age`.
    AuthTimeInvalid,
    /// userinfo `sub` differs from the ID token's.
    SubjectMismatch,
    /// RFC 9207: the authorization response's `iss` is missing or wrong.
    ResponseIssuerMismatch,
}

impl ErrorKind {
    /// Whether this kind means "the presented token is not acceptable" (RFC 6750 `invalid_token`),
    /// as opposed to a configuration or infrastructure failure on our side.
    pub fn is_token_error(self) -> bool {
        use ErrorKind::*;
        matches!(
            self,
            TokenMalformed
                | TokenTooLarge
                | AlgorithmNotAllowed
                | UnknownKey
                | SignatureInvalid
                | TokenExpired
                | TokenNotYetValid
                | TokenIssuedInFuture
                | IssuerMismatch
                | AudienceMismatch
                | MissingClaim
                | InvalidClaim
                | TypeMismatch
                | CritUnsupported
                | TokenBindingMismatch
                | DecryptionFailed
                | Revoked
                | TokenReplayed
        )
    }

    /// Whether this kind is a failed DPoP proof check (RFC 9449 `invalid_dpop_proof`).
    pub fn is_dpop_proof_error(self) -> bool {
        use ErrorKind::*;
        matches!(self, DpopProofInvalid | DpopProofMismatch | DpopProofStale | DpopReplay)
    }

    /// The RFC 6750 / RFC 9449 error code a resource server sends for this failure, if any.
    pub fn resource_error(self) -> Option<&'static str> {
        use ErrorKind::*;
        if self.is_token_error() {
            return Some("invalid_token");
        }
        if self.is_dpop_proof_error() {
            return Some("invalid_dpop_proof");
        }
        match self {
            RequestMalformed => Some("invalid_request"),
            DpopNonceRequired => Some("use_dpop_nonce"),
            InsufficientScope | ClaimNotAllowed => Some("insufficient_scope"),
            _ => None,
        }
    }

    /// The HTTP status a resource server should answer with for this failure:
    /// 401 for a bad token, 503 when keys could not be obtained, 500 otherwise.
    pub fn http_status(self) -> u16 {
        use ErrorKind::*;
        if self.is_token_error() || self.is_dpop_proof_error() {
            return 401;
        }
        match self {
            RequestMalformed => 400,
            TokenMissing | DpopNonceRequired => 401,
            ClaimNotAllowed => 403,
            ReplayStoreUnavailable => 503,
            Network
            | Timeout
            | Tls
            | HttpStatus
            | ResponseTooLarge
            | ResponseInvalid
            | RedirectRejected
            | DiscoveryInvalid
            | DiscoveryIssuerMismatch
            | JwksInvalid
            | KeyRejected
            | KeysUnavailable
            | Proxy
            | RevocationUnavailable => 503,
            InsufficientScope => 403,
            _ => 500,
        }
    }

    /// A fixed, secret-free description used in `WWW-Authenticate` `error_description`.
    pub fn public_description(self) -> &'static str {
        use ErrorKind::*;
        match self {
            TokenMalformed => "The access token is malformed",
            TokenTooLarge => "The access token is too large",
            AlgorithmNotAllowed => "The access token algorithm is not allowed",
            UnknownKey => "The access token signing key is unknown",
            SignatureInvalid => "The access token signature is invalid",
            TokenExpired => "The access token expired",
            TokenNotYetValid => "The access token is not yet valid",
            TokenIssuedInFuture => "The access token was issued in the future",
            IssuerMismatch => "The access token issuer is not accepted",
            AudienceMismatch => "The access token audience is not accepted",
            MissingClaim => "The access token lacks a required claim",
            InvalidClaim => "The access token has an invalid claim",
            TypeMismatch => "The access token type is not accepted",
            CritUnsupported => "The access token uses an unsupported critical extension",
            TokenBindingMismatch => "The access token is not bound to this sender",
            DecryptionFailed => "The access token could not be decrypted",
            Revoked => "The access token was revoked",
            TokenReplayed => "The token was already used",
            RequestMalformed => "The request credentials are malformed",
            DpopProofInvalid => "The DPoP proof is invalid",
            DpopProofMismatch => "The DPoP proof does not match the request",
            DpopProofStale => "The DPoP proof is outside the accepted time window",
            DpopReplay => "The DPoP proof was already used",
            DpopNonceRequired => "A fresh DPoP nonce is required",
            InsufficientScope => "The access token lacks a required scope",
            ClaimNotAllowed => "The access token is not authorized for this resource",
            _ => "The access token could not be validated",
        }
    }
}

/// The body of an OAuth error response (RFC 6749 §5.2), as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The `error` code as sent by the server (ASCII; printable characters only).
    pub error: String,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
    /// HTTP status of the response (0 for errors in an authorization response).
    pub status: u16,
}

impl OAuthError {
    /// The kind for an `error` code.
    pub fn kind_for(code: &str) -> ErrorKind {
        use ErrorKind::*;
        match code {
            "invalid_request" => InvalidRequest,
            "invalid_client" => InvalidClient,
            "invalid_grant" => InvalidGrant,
            "unauthorized_client" => UnauthorizedClient,
            "unsupported_grant_type" => UnsupportedGrantType,
            "invalid_scope" => InvalidScope,
            "authorization_pending" => AuthorizationPending,
            "slow_down" => SlowDown,
            "access_denied" => AccessDenied,
            "expired_token" => ExpiredToken,
            "invalid_target" => InvalidTarget,
            "use_dpop_nonce" => UseDpopNonce,
            "invalid_dpop_proof" => InvalidDpopProof,
            "unsupported_token_type" => UnsupportedTokenType,
            "invalid_client_metadata" => InvalidClientMetadata,
            "invalid_redirect_uri" => InvalidRedirectUri,
            "invalid_token" => InvalidToken,
            "insufficient_scope" => InsufficientScope,
            _ => OAuthOther,
        }
    }
}

/// A liboidc error: a kind plus a human-readable, secret-free message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    oauth: Option<Box<OAuthError>>,
    /// The HTTP status a remote server answered with, when the failure is its answer.
    server_status: Option<u16>,
    /// The server's `Retry-After` (429/503), parsed.
    retry_after: Option<std::time::Duration>,
}

impl Error {
    /// Build an error. `message` must never contain secrets or token contents.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), oauth: None, server_status: None, retry_after: None }
    }

    /// An error from an OAuth error response; the kind follows its `error` code.
    pub fn from_oauth(o: OAuthError, context: &str) -> Self {
        let kind = OAuthError::kind_for(&o.error);
        let mut message = format!("{context}: {}", o.error);
        if let Some(d) = &o.error_description {
            message.push_str(": ");
            message.push_str(d);
        }
        let server_status = (o.status != 0).then_some(o.status);
        Error { kind, message, oauth: Some(Box::new(o)), server_status, retry_after: None }
    }

    /// Record the HTTP status the remote server answered with.
    pub fn with_server_status(mut self, status: u16) -> Self {
        self.server_status = Some(status);
        self
    }

    /// Record the server's `Retry-After` (a 429 or 503 answer).
    pub fn with_retry_after(mut self, d: std::time::Duration) -> Self {
        self.retry_after = Some(d);
        self
    }

    /// The wait the server asked for with `Retry-After` (429/503), if any (unbounded: the key
    /// cache and discovery bound it, see `cache::backoff`).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    /// The HTTP status the remote server answered with (an OAuth error response, an unexpected
    /// status), if the failure is its answer. Distinct from [`ErrorKind::http_status`], the
    /// status this library suggests the host answer its own caller with.
    pub fn server_status(&self) -> Option<u16> {
        self.server_status
    }

    /// The OAuth error response behind this error, if any.
    pub fn oauth(&self) -> Option<&OAuthError> {
        self.oauth.as_deref()
    }

    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message (no secrets, no token contents).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// RFC 6750 error code for a resource server's response, if the failure is the token's.
    pub fn oauth_error(&self) -> Option<&'static str> {
        self.kind.is_token_error().then_some("invalid_token")
    }

    /// A ready `WWW-Authenticate` header value (RFC 6750 §3). `realm` is optional.
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        let mut parts = Vec::with_capacity(3);
        if let Some(r) = realm {
            parts.push(format!("realm=\"{}\"", quote_safe(r)));
        }
        if let Some(code) = self.oauth_error() {
            parts.push(format!("error=\"{code}\""));
            parts.push(format!("error_description=\"{}\"", self.kind.public_description()));
        }
        if parts.is_empty() { "Bearer".to_string() } else { format!("Bearer {}", parts.join(", ")) }
    }
}

/// Keep only characters allowed inside an RFC 7230 quoted-string without escapes.
pub(crate) fn quote_safe(s: &str) -> String {
    s.chars().filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\').take(200).collect()
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}: {})", self.kind, self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand used throughout the core.
pub type Result<T> = std::result::Result<T, Error>;

/// `err(Kind, "msg")` as an `Err`.
pub(crate) fn err<T>(kind: ErrorKind, msg: impl Into<String>) -> Result<T> {
    Err(Error::new(kind, msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn www_authenticate_shapes() {
        let e = Error::new(ErrorKind::TokenExpired, "x");
        assert_eq!(
            e.www_authenticate(Some("api")),
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"The access token expired\""
        );
        let e = Error::new(ErrorKind::Timeout, "x");
        assert_eq!(e.www_authenticate(None), "Bearer");
        assert_eq!(e.kind().http_status(), 503);
        assert_eq!(Error::new(ErrorKind::TokenMalformed, "").kind().http_status(), 401);
        assert_eq!(quote_safe("a\"b\\c\nd"), "abcd");
    }
}
