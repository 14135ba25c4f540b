//! Result codes and the per-call error object.

use std::ffi::{CStr, CString, c_char};

use crate::core::{Error, ErrorKind};

/// Result of every fallible liboidc call. Values are stable: never reordered or reused.
///
/// Ranges: 0 success; 1-99 API misuse; 100-199 configuration and discovery; 200-299 network and
/// HTTP; 300-319 token validation; 320-339 request authentication (resource server); 400-499
/// OAuth error responses; 500-599 protocol checks on responses.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum oidc_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// An argument was out of range or unusable.
    InvalidArgument = 3,
    // 4: reserved.
    /// A panic was caught inside liboidc (a bug); free the client it happened on.
    Panic = 5,
    /// An output could not be produced (e.g. a NUL byte inside a string).
    Internal = 6,
    /// The worker queue of the non-blocking API is full (nothing was started; retry later).
    QueueFull = 7,

    /// The client configuration is invalid.
    InvalidConfig = 100,
    /// A URL is not https (or loopback http without the opt-in).
    InsecureUrl = 101,
    /// The CA file (per-client or from SSL_CERT_FILE / CURL_CA_BUNDLE / REQUESTS_CA_BUNDLE) is unusable.
    CaFile = 102,
    /// An algorithm name is unknown or forbidden (none, HMAC).
    UnsupportedAlgorithm = 103,
    /// The discovery document is invalid.
    DiscoveryInvalid = 110,
    /// The discovery document names another issuer.
    DiscoveryIssuerMismatch = 111,
    /// The JWKS document is invalid.
    JwksInvalid = 112,

    /// Connection failed, DNS failure, reset or another transport error.
    Network = 200,
    /// A connect or total timeout elapsed.
    Timeout = 201,
    /// The TLS handshake failed.
    Tls = 202,
    /// Unexpected HTTP status.
    HttpStatus = 203,
    /// The response body exceeded its bound.
    ResponseTooLarge = 204,
    /// The response was malformed, truncated or of the wrong content type.
    ResponseInvalid = 205,
    /// A redirect was refused.
    RedirectRejected = 206,
    /// An unknown kid could not be checked because the key refresh it triggered failed (an IdP
    /// outage, not a forged token): HTTP 503, retry later, no invalid_token.
    KeysUnavailable = 207,

    /// The token is not a well-formed compact JWS.
    TokenMalformed = 300,
    /// The token exceeds the maximum size.
    TokenTooLarge = 301,
    /// The token's algorithm is not allowed (or none/HMAC, or does not fit the key).
    AlgorithmNotAllowed = 302,
    /// No key matches the token's kid/alg, even after a refresh.
    UnknownKey = 303,
    /// The signature does not verify.
    SignatureInvalid = 304,
    /// The token expired.
    TokenExpired = 305,
    /// The token is not yet valid (nbf).
    TokenNotYetValid = 306,
    /// The token was issued in the future (iat).
    TokenIssuedInFuture = 307,
    /// The token's issuer is not the configured one.
    IssuerMismatch = 308,
    /// No token audience matches.
    AudienceMismatch = 309,
    /// A required claim is missing or null.
    MissingClaim = 310,
    /// A registered claim has the wrong type.
    InvalidClaim = 311,
    /// The token's typ header is not the expected one.
    TypeMismatch = 312,
    /// The token's crit header names an unsupported extension.
    CritUnsupported = 313,
    /// The key named by the token is published but unusable (weak RSA, bad point, ...).
    KeyRejected = 314,
    /// The request's credentials are malformed (RFC 6750 invalid_request, HTTP 400).
    RequestMalformed = 320,
    /// The request carries no access token in an accepted scheme (401, bare challenge).
    TokenMissing = 321,
    /// The DPoP proof is absent, malformed, badly signed or breaks a header/claim rule.
    DpopProofInvalid = 322,
    /// The DPoP proof's htm, htu or ath does not match the request.
    DpopProofMismatch = 323,
    /// The DPoP proof's iat is outside the accepted window.
    DpopProofStale = 324,
    /// The DPoP proof's jti was used before.
    DpopReplay = 325,
    /// A fresh server nonce is required in the DPoP proof (use_dpop_nonce; send the decision's DPoP-Nonce).
    DpopNonceRequired = 326,
    /// The token's cnf binding does not match the proof key or certificate, or a bound token used the wrong scheme.
    TokenBindingMismatch = 327,
    /// A claim-value rule of the resource is not met (403).
    ClaimNotAllowed = 328,
    /// The shared DPoP replay store could not answer (503).
    ReplayStoreUnavailable = 329,

    /// An OAuth error response with a code liboidc has no specific result for (see details).
    OauthError = 400,
    /// OAuth `invalid_request`.
    InvalidRequest = 401,
    /// OAuth `invalid_client`.
    InvalidClient = 402,
    /// OAuth `invalid_grant`.
    InvalidGrant = 403,
    /// OAuth `unauthorized_client`.
    UnauthorizedClient = 404,
    /// OAuth `unsupported_grant_type`.
    UnsupportedGrantType = 405,
    /// OAuth `invalid_scope`.
    InvalidScope = 406,
    /// OAuth `authorization_pending` (device flow, CIBA).
    AuthorizationPending = 407,
    /// OAuth `slow_down` (device flow, CIBA).
    SlowDown = 408,
    /// OAuth `access_denied`.
    AccessDenied = 409,
    /// OAuth `expired_token`.
    ExpiredToken = 410,
    /// OAuth `invalid_target` (RFC 8707).
    InvalidTarget = 411,
    /// OAuth `use_dpop_nonce` (RFC 9449).
    UseDpopNonce = 412,
    /// OAuth `invalid_dpop_proof` (RFC 9449).
    InvalidDpopProof = 413,
    /// OAuth `unsupported_token_type` (RFC 7009).
    UnsupportedTokenType = 414,
    /// OAuth `invalid_client_metadata` (RFC 7591).
    InvalidClientMetadata = 415,
    /// OAuth `invalid_redirect_uri` (RFC 7591).
    InvalidRedirectUri = 416,
    /// RFC 6750 `invalid_token` from a protected resource.
    InvalidToken = 417,
    /// RFC 6750 `insufficient_scope`.
    InsufficientScope = 418,

    /// A response lacks a required member or has one of the wrong type.
    ResponseMissingField = 500,
    /// Authorization response `state` mismatch.
    StateMismatch = 501,
    /// ID token `nonce` mismatch.
    NonceMismatch = 502,
    /// `at_hash` or `c_hash` mismatch.
    HashMismatch = 503,
    /// `azp` missing or wrong.
    AzpMismatch = 504,
    /// `auth_time` missing or older than `max_age`.
    AuthTimeInvalid = 505,
    /// userinfo `sub` differs from the ID token's.
    SubjectMismatch = 506,
    /// Authorization response `iss` missing or wrong (RFC 9207).
    ResponseIssuerMismatch = 507,
    /// A polling deadline passed.
    DeadlineExceeded = 508,
    /// The call was cancelled.
    Cancelled = 509,
}

impl oidc_result {
    /// Every code, for the name and description tables.
    pub const ALL: [oidc_result; 76] = {
        use oidc_result::*;
        [
            Ok,
            NullParameter,
            InvalidUtf8,
            InvalidArgument,
            Panic,
            Internal,
            QueueFull,
            InvalidConfig,
            InsecureUrl,
            CaFile,
            UnsupportedAlgorithm,
            DiscoveryInvalid,
            DiscoveryIssuerMismatch,
            JwksInvalid,
            Network,
            Timeout,
            Tls,
            HttpStatus,
            ResponseTooLarge,
            ResponseInvalid,
            RedirectRejected,
            KeysUnavailable,
            TokenMalformed,
            TokenTooLarge,
            AlgorithmNotAllowed,
            UnknownKey,
            SignatureInvalid,
            TokenExpired,
            TokenNotYetValid,
            TokenIssuedInFuture,
            IssuerMismatch,
            AudienceMismatch,
            MissingClaim,
            InvalidClaim,
            TypeMismatch,
            CritUnsupported,
            KeyRejected,
            RequestMalformed,
            TokenMissing,
            DpopProofInvalid,
            DpopProofMismatch,
            DpopProofStale,
            DpopReplay,
            DpopNonceRequired,
            TokenBindingMismatch,
            ClaimNotAllowed,
            ReplayStoreUnavailable,
            OauthError,
            InvalidRequest,
            InvalidClient,
            InvalidGrant,
            UnauthorizedClient,
            UnsupportedGrantType,
            InvalidScope,
            AuthorizationPending,
            SlowDown,
            AccessDenied,
            ExpiredToken,
            InvalidTarget,
            UseDpopNonce,
            InvalidDpopProof,
            UnsupportedTokenType,
            InvalidClientMetadata,
            InvalidRedirectUri,
            InvalidToken,
            InsufficientScope,
            ResponseMissingField,
            StateMismatch,
            NonceMismatch,
            HashMismatch,
            AzpMismatch,
            AuthTimeInvalid,
            SubjectMismatch,
            ResponseIssuerMismatch,
            DeadlineExceeded,
            Cancelled,
        ]
    };

    /// The stable name (the header constant without `OIDC_RESULT_`), NUL-terminated.
    pub fn name(self) -> &'static CStr {
        use oidc_result::*;
        match self {
            Ok => c"OK",
            NullParameter => c"NULL_PARAMETER",
            InvalidUtf8 => c"INVALID_UTF8",
            InvalidArgument => c"INVALID_ARGUMENT",
            Panic => c"PANIC",
            Internal => c"INTERNAL",
            QueueFull => c"QUEUE_FULL",
            InvalidConfig => c"INVALID_CONFIG",
            InsecureUrl => c"INSECURE_URL",
            CaFile => c"CA_FILE",
            UnsupportedAlgorithm => c"UNSUPPORTED_ALGORITHM",
            DiscoveryInvalid => c"DISCOVERY_INVALID",
            DiscoveryIssuerMismatch => c"DISCOVERY_ISSUER_MISMATCH",
            JwksInvalid => c"JWKS_INVALID",
            Network => c"NETWORK",
            Timeout => c"TIMEOUT",
            Tls => c"TLS",
            HttpStatus => c"HTTP_STATUS",
            ResponseTooLarge => c"RESPONSE_TOO_LARGE",
            ResponseInvalid => c"RESPONSE_INVALID",
            RedirectRejected => c"REDIRECT_REJECTED",
            KeysUnavailable => c"KEYS_UNAVAILABLE",
            TokenMalformed => c"TOKEN_MALFORMED",
            TokenTooLarge => c"TOKEN_TOO_LARGE",
            AlgorithmNotAllowed => c"ALGORITHM_NOT_ALLOWED",
            UnknownKey => c"UNKNOWN_KEY",
            SignatureInvalid => c"SIGNATURE_INVALID",
            TokenExpired => c"TOKEN_EXPIRED",
            TokenNotYetValid => c"TOKEN_NOT_YET_VALID",
            TokenIssuedInFuture => c"TOKEN_ISSUED_IN_FUTURE",
            IssuerMismatch => c"ISSUER_MISMATCH",
            AudienceMismatch => c"AUDIENCE_MISMATCH",
            MissingClaim => c"MISSING_CLAIM",
            InvalidClaim => c"INVALID_CLAIM",
            TypeMismatch => c"TYPE_MISMATCH",
            CritUnsupported => c"CRIT_UNSUPPORTED",
            KeyRejected => c"KEY_REJECTED",
            RequestMalformed => c"REQUEST_MALFORMED",
            TokenMissing => c"TOKEN_MISSING",
            DpopProofInvalid => c"DPOP_PROOF_INVALID",
            DpopProofMismatch => c"DPOP_PROOF_MISMATCH",
            DpopProofStale => c"DPOP_PROOF_STALE",
            DpopReplay => c"DPOP_REPLAY",
            DpopNonceRequired => c"DPOP_NONCE_REQUIRED",
            TokenBindingMismatch => c"TOKEN_BINDING_MISMATCH",
            ClaimNotAllowed => c"CLAIM_NOT_ALLOWED",
            ReplayStoreUnavailable => c"REPLAY_STORE_UNAVAILABLE",
            OauthError => c"OAUTH_ERROR",
            InvalidRequest => c"INVALID_REQUEST",
            InvalidClient => c"INVALID_CLIENT",
            InvalidGrant => c"INVALID_GRANT",
            UnauthorizedClient => c"UNAUTHORIZED_CLIENT",
            UnsupportedGrantType => c"UNSUPPORTED_GRANT_TYPE",
            InvalidScope => c"INVALID_SCOPE",
            AuthorizationPending => c"AUTHORIZATION_PENDING",
            SlowDown => c"SLOW_DOWN",
            AccessDenied => c"ACCESS_DENIED",
            ExpiredToken => c"EXPIRED_TOKEN",
            InvalidTarget => c"INVALID_TARGET",
            UseDpopNonce => c"USE_DPOP_NONCE",
            InvalidDpopProof => c"INVALID_DPOP_PROOF",
            UnsupportedTokenType => c"UNSUPPORTED_TOKEN_TYPE",
            InvalidClientMetadata => c"INVALID_CLIENT_METADATA",
            InvalidRedirectUri => c"INVALID_REDIRECT_URI",
            InvalidToken => c"INVALID_TOKEN",
            InsufficientScope => c"INSUFFICIENT_SCOPE",
            ResponseMissingField => c"RESPONSE_MISSING_FIELD",
            StateMismatch => c"STATE_MISMATCH",
            NonceMismatch => c"NONCE_MISMATCH",
            HashMismatch => c"HASH_MISMATCH",
            AzpMismatch => c"AZP_MISMATCH",
            AuthTimeInvalid => c"AUTH_TIME_INVALID",
            SubjectMismatch => c"SUBJECT_MISMATCH",
            ResponseIssuerMismatch => c"RESPONSE_ISSUER_MISMATCH",
            DeadlineExceeded => c"DEADLINE_EXCEEDED",
            Cancelled => c"CANCELLED",
        }
    }

    /// Look a raw value up (codes arrive from C as `u32`; never transmute).
    pub fn from_u32(v: u32) -> Option<oidc_result> {
        oidc_result::ALL.into_iter().find(|c| *c as u32 == v)
    }
}

/// The one exhaustive mapping from core error kinds to C codes.
pub fn code_for(kind: ErrorKind) -> oidc_result {
    use ErrorKind as K;
    use oidc_result as R;
    match kind {
        K::InvalidArgument => R::InvalidArgument,
        K::InvalidConfig => R::InvalidConfig,
        K::InsecureUrl => R::InsecureUrl,
        K::CaFile => R::CaFile,
        K::UnsupportedAlgorithm => R::UnsupportedAlgorithm,
        K::DiscoveryInvalid => R::DiscoveryInvalid,
        K::DiscoveryIssuerMismatch => R::DiscoveryIssuerMismatch,
        K::JwksInvalid => R::JwksInvalid,
        K::Network => R::Network,
        K::Timeout => R::Timeout,
        K::Tls => R::Tls,
        K::HttpStatus => R::HttpStatus,
        K::ResponseTooLarge => R::ResponseTooLarge,
        K::ResponseInvalid => R::ResponseInvalid,
        K::RedirectRejected => R::RedirectRejected,
        K::KeysUnavailable => R::KeysUnavailable,
        K::TokenMalformed => R::TokenMalformed,
        K::TokenTooLarge => R::TokenTooLarge,
        K::AlgorithmNotAllowed => R::AlgorithmNotAllowed,
        K::UnknownKey => R::UnknownKey,
        K::SignatureInvalid => R::SignatureInvalid,
        K::TokenExpired => R::TokenExpired,
        K::TokenNotYetValid => R::TokenNotYetValid,
        K::TokenIssuedInFuture => R::TokenIssuedInFuture,
        K::IssuerMismatch => R::IssuerMismatch,
        K::AudienceMismatch => R::AudienceMismatch,
        K::MissingClaim => R::MissingClaim,
        K::InvalidClaim => R::InvalidClaim,
        K::TypeMismatch => R::TypeMismatch,
        K::CritUnsupported => R::CritUnsupported,
        K::KeyRejected => R::KeyRejected,
        K::RequestMalformed => R::RequestMalformed,
        K::TokenMissing => R::TokenMissing,
        K::DpopProofInvalid => R::DpopProofInvalid,
        K::DpopProofMismatch => R::DpopProofMismatch,
        K::DpopProofStale => R::DpopProofStale,
        K::DpopReplay => R::DpopReplay,
        K::DpopNonceRequired => R::DpopNonceRequired,
        K::TokenBindingMismatch => R::TokenBindingMismatch,
        K::ClaimNotAllowed => R::ClaimNotAllowed,
        K::ReplayStoreUnavailable => R::ReplayStoreUnavailable,
        K::OAuthOther => R::OauthError,
        K::InvalidRequest => R::InvalidRequest,
        K::InvalidClient => R::InvalidClient,
        K::InvalidGrant => R::InvalidGrant,
        K::UnauthorizedClient => R::UnauthorizedClient,
        K::UnsupportedGrantType => R::UnsupportedGrantType,
        K::InvalidScope => R::InvalidScope,
        K::AuthorizationPending => R::AuthorizationPending,
        K::SlowDown => R::SlowDown,
        K::AccessDenied => R::AccessDenied,
        K::ExpiredToken => R::ExpiredToken,
        K::InvalidTarget => R::InvalidTarget,
        K::UseDpopNonce => R::UseDpopNonce,
        K::InvalidDpopProof => R::InvalidDpopProof,
        K::UnsupportedTokenType => R::UnsupportedTokenType,
        K::InvalidClientMetadata => R::InvalidClientMetadata,
        K::InvalidRedirectUri => R::InvalidRedirectUri,
        K::InvalidToken => R::InvalidToken,
        K::InsufficientScope => R::InsufficientScope,
        K::ResponseMissingField => R::ResponseMissingField,
        K::StateMismatch => R::StateMismatch,
        K::NonceMismatch => R::NonceMismatch,
        K::HashMismatch => R::HashMismatch,
        K::AzpMismatch => R::AzpMismatch,
        K::AuthTimeInvalid => R::AuthTimeInvalid,
        K::SubjectMismatch => R::SubjectMismatch,
        K::ResponseIssuerMismatch => R::ResponseIssuerMismatch,
        K::DeadlineExceeded => R::DeadlineExceeded,
        K::Cancelled => R::Cancelled,
        K::QueueFull => R::QueueFull,
    }
}

/// A failure on its way out through the ABI.
pub struct FfiError {
    pub code: oidc_result,
    pub message: String,
    pub core: Option<Error>,
}

impl FfiError {
    pub fn new(code: oidc_result, message: impl Into<String>) -> FfiError {
        FfiError { code, message: message.into(), core: None }
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> FfiError {
        FfiError { code: code_for(e.kind()), message: e.message().to_string(), core: Some(e) }
    }
}

/// Details of one failed call. Owned by the caller; free with `oidc_error_free`.
pub struct oidc_error {
    code: oidc_result,
    message: CString,
    www_authenticate: CString,
    details: CString,
    oauth_error: Option<&'static CStr>,
    http_status: u32,
}

fn c_string(s: String) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

impl oidc_error {
    pub fn from_ffi(e: FfiError, realm: Option<&str>) -> oidc_error {
        let (www, oauth, status) = match &e.core {
            Some(c) => (c.www_authenticate(realm), c.oauth_error().map(|_| c"invalid_token"), c.kind().http_status() as u32),
            None => ("Bearer".to_string(), None, 500),
        };
        let mut details = serde_json::json!({
            "code": e.code as u32,
            "name": e.code.name().to_str().unwrap_or(""),
            "message": e.message,
            "http_status": status,
            "oauth_error": oauth.map(|s| s.to_str().unwrap_or("")),
            "server_status": e.core.as_ref().and_then(|c| c.server_status()),
        });
        if let Some(o) = e.core.as_ref().and_then(|c| c.oauth()) {
            details["error"] = o.error.clone().into();
            details["error_description"] = o.error_description.clone().into();
            details["error_uri"] = o.error_uri.clone().into();
            details["status"] = o.status.into();
        }
        let details = details.to_string();
        oidc_error {
            code: e.code,
            message: c_string(e.message),
            www_authenticate: c_string(www),
            details: c_string(details),
            oauth_error: oauth,
            http_status: status,
        }
    }
    pub fn code(&self) -> oidc_result {
        self.code
    }
    pub fn message_ptr(&self) -> *const c_char {
        self.message.as_ptr()
    }
    pub fn www_authenticate_ptr(&self) -> *const c_char {
        self.www_authenticate.as_ptr()
    }
    pub fn details_ptr(&self) -> *const c_char {
        self.details.as_ptr()
    }
    pub fn oauth_error_ptr(&self) -> *const c_char {
        self.oauth_error.map(|s| s.as_ptr()).unwrap_or(std::ptr::null())
    }
    pub fn http_status(&self) -> u32 {
        self.http_status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_named() {
        let mut seen = std::collections::HashSet::new();
        for c in &oidc_result::ALL {
            assert!(seen.insert(*c as u32), "duplicate {c:?}");
            assert_eq!(oidc_result::from_u32(*c as u32), Some(*c));
            assert!(!c.name().to_bytes().is_empty());
        }
        assert_eq!(oidc_result::from_u32(4), None);
        assert_eq!(oidc_result::from_u32(999), None);
    }
}
