package oidc

// Code is a liboidc result code (oidc_result in oidc.h). Values are stable across versions and
// identical in every binding: 1-99 API misuse, 100s configuration and discovery, 200s network and
// HTTP, 300s token validation (320-329: request authentication), 400s OAuth error responses, 500s protocol checks on responses.
//
// TestCodesMatchHeader parses ../../include/oidc.h and fails when a code is added, renamed or
// renumbered there without the matching constant, name and sentinel here (and vice versa).
type Code int

// Result codes, one per OIDC_RESULT_* value in oidc.h.
const (
	CodeOK                      Code = 0   // Success.
	CodeNullParameter           Code = 1   // A required pointer argument was NULL.
	CodeInvalidUTF8             Code = 2   // A string argument was not valid UTF-8.
	CodeInvalidArgument         Code = 3   // An argument was out of range or unusable.
	CodePanic                   Code = 5   // A panic was caught inside liboidc (a bug); free the client it happened on.
	CodeInternal                Code = 6   // An output could not be produced (e.g. a NUL byte inside a string).
	CodeQueueFull               Code = 7   // The non-blocking API's queue is full (not used by this binding's blocking calls).
	CodeInvalidConfig           Code = 100 // The client configuration is invalid.
	CodeInsecureURL             Code = 101 // A URL is not https (or loopback http without the opt-in).
	CodeCAFile                  Code = 102 // The CA file (per-client or from SSL_CERT_FILE / CURL_CA_BUNDLE / REQUESTS_CA_BUNDLE) is unusable.
	CodeUnsupportedAlgorithm    Code = 103 // An algorithm name is unknown or forbidden (none, HMAC).
	CodeDiscoveryInvalid        Code = 110 // The discovery document is invalid.
	CodeDiscoveryIssuerMismatch Code = 111 // The discovery document names another issuer.
	CodeJWKSInvalid             Code = 112 // The JWKS document is invalid.
	CodeNetwork                 Code = 200 // Connection failed, DNS failure, reset or another transport error.
	CodeTimeout                 Code = 201 // A connect or total timeout elapsed.
	CodeTLS                     Code = 202 // The TLS handshake failed.
	CodeHTTPStatus              Code = 203 // Unexpected HTTP status.
	CodeResponseTooLarge        Code = 204 // The response body exceeded its bound.
	CodeResponseInvalid         Code = 205 // The response was malformed, truncated or of the wrong content type.
	CodeRedirectRejected        Code = 206 // A redirect was refused.
	CodeKeysUnavailable         Code = 207 // An unknown kid could not be checked: the key refresh failed (IdP outage, 503).
	CodeTokenMalformed          Code = 300 // The token is not a well-formed compact JWS.
	CodeTokenTooLarge           Code = 301 // The token exceeds the maximum size.
	CodeAlgorithmNotAllowed     Code = 302 // The token's algorithm is not allowed (or none/HMAC, or does not fit the key).
	CodeUnknownKey              Code = 303 // No key matches the token's kid/alg, even after a refresh.
	CodeSignatureInvalid        Code = 304 // The signature does not verify.
	CodeTokenExpired            Code = 305 // The token expired.
	CodeTokenNotYetValid        Code = 306 // The token is not yet valid (nbf).
	CodeTokenIssuedInFuture     Code = 307 // The token was issued in the future (iat).
	CodeIssuerMismatch          Code = 308 // The token's issuer is not the configured one.
	CodeAudienceMismatch        Code = 309 // No token audience matches.
	CodeMissingClaim            Code = 310 // A required claim is missing or null.
	CodeInvalidClaim            Code = 311 // A registered claim has the wrong type.
	CodeTypeMismatch            Code = 312 // The token's typ header is not the expected one.
	CodeCritUnsupported         Code = 313 // The token's crit header names an unsupported extension.
	CodeKeyRejected             Code = 314 // The key named by the token is published but unusable (weak RSA, bad point, ...).
	CodeRequestMalformed        Code = 320 // The request's credentials are malformed (RFC 6750 invalid_request, HTTP 400).
	CodeTokenMissing            Code = 321 // The request carries no access token in an accepted scheme (401, bare challenge).
	CodeDPoPProofInvalid        Code = 322 // The DPoP proof is absent, malformed, badly signed or breaks a header/claim rule.
	CodeDPoPProofMismatch       Code = 323 // The DPoP proof's htm, htu or ath does not match the request.
	CodeDPoPProofStale          Code = 324 // The DPoP proof's iat is outside the accepted window.
	CodeDPoPReplay              Code = 325 // The DPoP proof's jti was used before.
	CodeDPoPNonceRequired       Code = 326 // A fresh server nonce is required in the DPoP proof (use_dpop_nonce; send the decision's DPoP-Nonce).
	CodeTokenBindingMismatch    Code = 327 // The token's cnf binding does not match the proof key or certificate, or a bound token used the wrong scheme.
	CodeClaimNotAllowed         Code = 328 // A claim-value rule of the resource is not met (403).
	CodeReplayStoreUnavailable  Code = 329 // The shared DPoP replay store could not answer (503).
	CodeOAuthError              Code = 400 // An OAuth error response with a code liboidc has no specific result for (see details).
	CodeInvalidRequest          Code = 401 // OAuth `invalid_request`.
	CodeInvalidClient           Code = 402 // OAuth `invalid_client`.
	CodeInvalidGrant            Code = 403 // OAuth `invalid_grant`.
	CodeUnauthorizedClient      Code = 404 // OAuth `unauthorized_client`.
	CodeUnsupportedGrantType    Code = 405 // OAuth `unsupported_grant_type`.
	CodeInvalidScope            Code = 406 // OAuth `invalid_scope`.
	CodeAuthorizationPending    Code = 407 // OAuth `authorization_pending` (device flow, CIBA).
	CodeSlowDown                Code = 408 // OAuth `slow_down` (device flow, CIBA).
	CodeAccessDenied            Code = 409 // OAuth `access_denied`.
	CodeExpiredToken            Code = 410 // OAuth `expired_token`.
	CodeInvalidTarget           Code = 411 // OAuth `invalid_target` (RFC 8707).
	CodeUseDPoPNonce            Code = 412 // OAuth `use_dpop_nonce` (RFC 9449).
	CodeInvalidDPoPProof        Code = 413 // OAuth `invalid_dpop_proof` (RFC 9449).
	CodeUnsupportedTokenType    Code = 414 // OAuth `unsupported_token_type` (RFC 7009).
	CodeInvalidClientMetadata   Code = 415 // OAuth `invalid_client_metadata` (RFC 7591).
	CodeInvalidRedirectURI      Code = 416 // OAuth `invalid_redirect_uri` (RFC 7591).
	CodeInvalidToken            Code = 417 // RFC 6750 `invalid_token` from a protected resource.
	CodeInsufficientScope       Code = 418 // RFC 6750 `insufficient_scope`.
	CodeResponseMissingField    Code = 500 // A response lacks a required member or has one of the wrong type.
	CodeStateMismatch           Code = 501 // Authorization response `state` mismatch.
	CodeNonceMismatch           Code = 502 // ID token `nonce` mismatch.
	CodeHashMismatch            Code = 503 // `at_hash` or `c_hash` mismatch.
	CodeAZPMismatch             Code = 504 // `azp` missing or wrong.
	CodeAuthTimeInvalid         Code = 505 // `auth_time` missing or older than `max_age`.
	CodeSubjectMismatch         Code = 506 // userinfo `sub` differs from the ID token's.
	CodeResponseIssuerMismatch  Code = 507 // Authorization response `iss` missing or wrong (RFC 9207).
	CodeDeadlineExceeded        Code = 508 // A polling deadline passed.
	CodeCancelled               Code = 509 // The call was cancelled.
)

// codeNames maps each code to its oidc.h name without the OIDC_RESULT_ prefix.
var codeNames = map[Code]string{
	CodeOK:                      "OK",
	CodeNullParameter:           "NULL_PARAMETER",
	CodeInvalidUTF8:             "INVALID_UTF8",
	CodeInvalidArgument:         "INVALID_ARGUMENT",
	CodePanic:                   "PANIC",
	CodeInternal:                "INTERNAL",
	CodeQueueFull:               "QUEUE_FULL",
	CodeInvalidConfig:           "INVALID_CONFIG",
	CodeInsecureURL:             "INSECURE_URL",
	CodeCAFile:                  "CA_FILE",
	CodeUnsupportedAlgorithm:    "UNSUPPORTED_ALGORITHM",
	CodeDiscoveryInvalid:        "DISCOVERY_INVALID",
	CodeDiscoveryIssuerMismatch: "DISCOVERY_ISSUER_MISMATCH",
	CodeJWKSInvalid:             "JWKS_INVALID",
	CodeNetwork:                 "NETWORK",
	CodeTimeout:                 "TIMEOUT",
	CodeTLS:                     "TLS",
	CodeHTTPStatus:              "HTTP_STATUS",
	CodeResponseTooLarge:        "RESPONSE_TOO_LARGE",
	CodeResponseInvalid:         "RESPONSE_INVALID",
	CodeRedirectRejected:        "REDIRECT_REJECTED",
	CodeKeysUnavailable:         "KEYS_UNAVAILABLE",
	CodeTokenMalformed:          "TOKEN_MALFORMED",
	CodeTokenTooLarge:           "TOKEN_TOO_LARGE",
	CodeAlgorithmNotAllowed:     "ALGORITHM_NOT_ALLOWED",
	CodeUnknownKey:              "UNKNOWN_KEY",
	CodeSignatureInvalid:        "SIGNATURE_INVALID",
	CodeTokenExpired:            "TOKEN_EXPIRED",
	CodeTokenNotYetValid:        "TOKEN_NOT_YET_VALID",
	CodeTokenIssuedInFuture:     "TOKEN_ISSUED_IN_FUTURE",
	CodeIssuerMismatch:          "ISSUER_MISMATCH",
	CodeAudienceMismatch:        "AUDIENCE_MISMATCH",
	CodeMissingClaim:            "MISSING_CLAIM",
	CodeInvalidClaim:            "INVALID_CLAIM",
	CodeTypeMismatch:            "TYPE_MISMATCH",
	CodeCritUnsupported:         "CRIT_UNSUPPORTED",
	CodeKeyRejected:             "KEY_REJECTED",
	CodeRequestMalformed:        "REQUEST_MALFORMED",
	CodeTokenMissing:            "TOKEN_MISSING",
	CodeDPoPProofInvalid:        "DPOP_PROOF_INVALID",
	CodeDPoPProofMismatch:       "DPOP_PROOF_MISMATCH",
	CodeDPoPProofStale:          "DPOP_PROOF_STALE",
	CodeDPoPReplay:              "DPOP_REPLAY",
	CodeDPoPNonceRequired:       "DPOP_NONCE_REQUIRED",
	CodeTokenBindingMismatch:    "TOKEN_BINDING_MISMATCH",
	CodeClaimNotAllowed:         "CLAIM_NOT_ALLOWED",
	CodeReplayStoreUnavailable:  "REPLAY_STORE_UNAVAILABLE",
	CodeOAuthError:              "OAUTH_ERROR",
	CodeInvalidRequest:          "INVALID_REQUEST",
	CodeInvalidClient:           "INVALID_CLIENT",
	CodeInvalidGrant:            "INVALID_GRANT",
	CodeUnauthorizedClient:      "UNAUTHORIZED_CLIENT",
	CodeUnsupportedGrantType:    "UNSUPPORTED_GRANT_TYPE",
	CodeInvalidScope:            "INVALID_SCOPE",
	CodeAuthorizationPending:    "AUTHORIZATION_PENDING",
	CodeSlowDown:                "SLOW_DOWN",
	CodeAccessDenied:            "ACCESS_DENIED",
	CodeExpiredToken:            "EXPIRED_TOKEN",
	CodeInvalidTarget:           "INVALID_TARGET",
	CodeUseDPoPNonce:            "USE_DPOP_NONCE",
	CodeInvalidDPoPProof:        "INVALID_DPOP_PROOF",
	CodeUnsupportedTokenType:    "UNSUPPORTED_TOKEN_TYPE",
	CodeInvalidClientMetadata:   "INVALID_CLIENT_METADATA",
	CodeInvalidRedirectURI:      "INVALID_REDIRECT_URI",
	CodeInvalidToken:            "INVALID_TOKEN",
	CodeInsufficientScope:       "INSUFFICIENT_SCOPE",
	CodeResponseMissingField:    "RESPONSE_MISSING_FIELD",
	CodeStateMismatch:           "STATE_MISMATCH",
	CodeNonceMismatch:           "NONCE_MISMATCH",
	CodeHashMismatch:            "HASH_MISMATCH",
	CodeAZPMismatch:             "AZP_MISMATCH",
	CodeAuthTimeInvalid:         "AUTH_TIME_INVALID",
	CodeSubjectMismatch:         "SUBJECT_MISMATCH",
	CodeResponseIssuerMismatch:  "RESPONSE_ISSUER_MISMATCH",
	CodeDeadlineExceeded:        "DEADLINE_EXCEEDED",
	CodeCancelled:               "CANCELLED",
}

// Sentinel errors, one per failure code. Match them with errors.Is: an *Error returned by any
// call matches the sentinel with the same Code, e.g. errors.Is(err, oidc.ErrTokenExpired).
// (ErrTokenExpired, 305, is an expired bearer token; ErrExpiredToken, 410, is the OAuth
// "expired_token" error of the device flow.)
var (
	ErrNullParameter           = sentinel(CodeNullParameter)
	ErrInvalidUTF8             = sentinel(CodeInvalidUTF8)
	ErrInvalidArgument         = sentinel(CodeInvalidArgument)
	ErrPanic                   = sentinel(CodePanic)
	ErrInternal                = sentinel(CodeInternal)
	ErrQueueFull               = sentinel(CodeQueueFull)
	ErrInvalidConfig           = sentinel(CodeInvalidConfig)
	ErrInsecureURL             = sentinel(CodeInsecureURL)
	ErrCAFile                  = sentinel(CodeCAFile)
	ErrUnsupportedAlgorithm    = sentinel(CodeUnsupportedAlgorithm)
	ErrDiscoveryInvalid        = sentinel(CodeDiscoveryInvalid)
	ErrDiscoveryIssuerMismatch = sentinel(CodeDiscoveryIssuerMismatch)
	ErrJWKSInvalid             = sentinel(CodeJWKSInvalid)
	ErrNetwork                 = sentinel(CodeNetwork)
	ErrTimeout                 = sentinel(CodeTimeout)
	ErrTLS                     = sentinel(CodeTLS)
	ErrHTTPStatus              = sentinel(CodeHTTPStatus)
	ErrResponseTooLarge        = sentinel(CodeResponseTooLarge)
	ErrResponseInvalid         = sentinel(CodeResponseInvalid)
	ErrRedirectRejected        = sentinel(CodeRedirectRejected)
	ErrKeysUnavailable         = sentinel(CodeKeysUnavailable)
	ErrTokenMalformed          = sentinel(CodeTokenMalformed)
	ErrTokenTooLarge           = sentinel(CodeTokenTooLarge)
	ErrAlgorithmNotAllowed     = sentinel(CodeAlgorithmNotAllowed)
	ErrUnknownKey              = sentinel(CodeUnknownKey)
	ErrSignatureInvalid        = sentinel(CodeSignatureInvalid)
	ErrTokenExpired            = sentinel(CodeTokenExpired)
	ErrTokenNotYetValid        = sentinel(CodeTokenNotYetValid)
	ErrTokenIssuedInFuture     = sentinel(CodeTokenIssuedInFuture)
	ErrIssuerMismatch          = sentinel(CodeIssuerMismatch)
	ErrAudienceMismatch        = sentinel(CodeAudienceMismatch)
	ErrMissingClaim            = sentinel(CodeMissingClaim)
	ErrInvalidClaim            = sentinel(CodeInvalidClaim)
	ErrTypeMismatch            = sentinel(CodeTypeMismatch)
	ErrCritUnsupported         = sentinel(CodeCritUnsupported)
	ErrKeyRejected             = sentinel(CodeKeyRejected)
	ErrRequestMalformed        = sentinel(CodeRequestMalformed)
	ErrTokenMissing            = sentinel(CodeTokenMissing)
	ErrDPoPProofInvalid        = sentinel(CodeDPoPProofInvalid)
	ErrDPoPProofMismatch       = sentinel(CodeDPoPProofMismatch)
	ErrDPoPProofStale          = sentinel(CodeDPoPProofStale)
	ErrDPoPReplay              = sentinel(CodeDPoPReplay)
	ErrDPoPNonceRequired       = sentinel(CodeDPoPNonceRequired)
	ErrTokenBindingMismatch    = sentinel(CodeTokenBindingMismatch)
	ErrClaimNotAllowed         = sentinel(CodeClaimNotAllowed)
	ErrReplayStoreUnavailable  = sentinel(CodeReplayStoreUnavailable)
	ErrOAuthError              = sentinel(CodeOAuthError)
	ErrInvalidRequest          = sentinel(CodeInvalidRequest)
	ErrInvalidClient           = sentinel(CodeInvalidClient)
	ErrInvalidGrant            = sentinel(CodeInvalidGrant)
	ErrUnauthorizedClient      = sentinel(CodeUnauthorizedClient)
	ErrUnsupportedGrantType    = sentinel(CodeUnsupportedGrantType)
	ErrInvalidScope            = sentinel(CodeInvalidScope)
	ErrAuthorizationPending    = sentinel(CodeAuthorizationPending)
	ErrSlowDown                = sentinel(CodeSlowDown)
	ErrAccessDenied            = sentinel(CodeAccessDenied)
	ErrExpiredToken            = sentinel(CodeExpiredToken)
	ErrInvalidTarget           = sentinel(CodeInvalidTarget)
	ErrUseDPoPNonce            = sentinel(CodeUseDPoPNonce)
	ErrInvalidDPoPProof        = sentinel(CodeInvalidDPoPProof)
	ErrUnsupportedTokenType    = sentinel(CodeUnsupportedTokenType)
	ErrInvalidClientMetadata   = sentinel(CodeInvalidClientMetadata)
	ErrInvalidRedirectURI      = sentinel(CodeInvalidRedirectURI)
	ErrInvalidToken            = sentinel(CodeInvalidToken)
	ErrInsufficientScope       = sentinel(CodeInsufficientScope)
	ErrResponseMissingField    = sentinel(CodeResponseMissingField)
	ErrStateMismatch           = sentinel(CodeStateMismatch)
	ErrNonceMismatch           = sentinel(CodeNonceMismatch)
	ErrHashMismatch            = sentinel(CodeHashMismatch)
	ErrAZPMismatch             = sentinel(CodeAZPMismatch)
	ErrAuthTimeInvalid         = sentinel(CodeAuthTimeInvalid)
	ErrSubjectMismatch         = sentinel(CodeSubjectMismatch)
	ErrResponseIssuerMismatch  = sentinel(CodeResponseIssuerMismatch)
	ErrDeadlineExceeded        = sentinel(CodeDeadlineExceeded)
	ErrCancelled               = sentinel(CodeCancelled)
)

// sentinels maps each failure code to its sentinel.
var sentinels = map[Code]*Error{
	CodeNullParameter:           ErrNullParameter,
	CodeInvalidUTF8:             ErrInvalidUTF8,
	CodeInvalidArgument:         ErrInvalidArgument,
	CodePanic:                   ErrPanic,
	CodeInternal:                ErrInternal,
	CodeQueueFull:               ErrQueueFull,
	CodeInvalidConfig:           ErrInvalidConfig,
	CodeInsecureURL:             ErrInsecureURL,
	CodeCAFile:                  ErrCAFile,
	CodeUnsupportedAlgorithm:    ErrUnsupportedAlgorithm,
	CodeDiscoveryInvalid:        ErrDiscoveryInvalid,
	CodeDiscoveryIssuerMismatch: ErrDiscoveryIssuerMismatch,
	CodeJWKSInvalid:             ErrJWKSInvalid,
	CodeNetwork:                 ErrNetwork,
	CodeTimeout:                 ErrTimeout,
	CodeTLS:                     ErrTLS,
	CodeHTTPStatus:              ErrHTTPStatus,
	CodeResponseTooLarge:        ErrResponseTooLarge,
	CodeResponseInvalid:         ErrResponseInvalid,
	CodeRedirectRejected:        ErrRedirectRejected,
	CodeKeysUnavailable:         ErrKeysUnavailable,
	CodeTokenMalformed:          ErrTokenMalformed,
	CodeTokenTooLarge:           ErrTokenTooLarge,
	CodeAlgorithmNotAllowed:     ErrAlgorithmNotAllowed,
	CodeUnknownKey:              ErrUnknownKey,
	CodeSignatureInvalid:        ErrSignatureInvalid,
	CodeTokenExpired:            ErrTokenExpired,
	CodeTokenNotYetValid:        ErrTokenNotYetValid,
	CodeTokenIssuedInFuture:     ErrTokenIssuedInFuture,
	CodeIssuerMismatch:          ErrIssuerMismatch,
	CodeAudienceMismatch:        ErrAudienceMismatch,
	CodeMissingClaim:            ErrMissingClaim,
	CodeInvalidClaim:            ErrInvalidClaim,
	CodeTypeMismatch:            ErrTypeMismatch,
	CodeCritUnsupported:         ErrCritUnsupported,
	CodeKeyRejected:             ErrKeyRejected,
	CodeRequestMalformed:        ErrRequestMalformed,
	CodeTokenMissing:            ErrTokenMissing,
	CodeDPoPProofInvalid:        ErrDPoPProofInvalid,
	CodeDPoPProofMismatch:       ErrDPoPProofMismatch,
	CodeDPoPProofStale:          ErrDPoPProofStale,
	CodeDPoPReplay:              ErrDPoPReplay,
	CodeDPoPNonceRequired:       ErrDPoPNonceRequired,
	CodeTokenBindingMismatch:    ErrTokenBindingMismatch,
	CodeClaimNotAllowed:         ErrClaimNotAllowed,
	CodeReplayStoreUnavailable:  ErrReplayStoreUnavailable,
	CodeOAuthError:              ErrOAuthError,
	CodeInvalidRequest:          ErrInvalidRequest,
	CodeInvalidClient:           ErrInvalidClient,
	CodeInvalidGrant:            ErrInvalidGrant,
	CodeUnauthorizedClient:      ErrUnauthorizedClient,
	CodeUnsupportedGrantType:    ErrUnsupportedGrantType,
	CodeInvalidScope:            ErrInvalidScope,
	CodeAuthorizationPending:    ErrAuthorizationPending,
	CodeSlowDown:                ErrSlowDown,
	CodeAccessDenied:            ErrAccessDenied,
	CodeExpiredToken:            ErrExpiredToken,
	CodeInvalidTarget:           ErrInvalidTarget,
	CodeUseDPoPNonce:            ErrUseDPoPNonce,
	CodeInvalidDPoPProof:        ErrInvalidDPoPProof,
	CodeUnsupportedTokenType:    ErrUnsupportedTokenType,
	CodeInvalidClientMetadata:   ErrInvalidClientMetadata,
	CodeInvalidRedirectURI:      ErrInvalidRedirectURI,
	CodeInvalidToken:            ErrInvalidToken,
	CodeInsufficientScope:       ErrInsufficientScope,
	CodeResponseMissingField:    ErrResponseMissingField,
	CodeStateMismatch:           ErrStateMismatch,
	CodeNonceMismatch:           ErrNonceMismatch,
	CodeHashMismatch:            ErrHashMismatch,
	CodeAZPMismatch:             ErrAZPMismatch,
	CodeAuthTimeInvalid:         ErrAuthTimeInvalid,
	CodeSubjectMismatch:         ErrSubjectMismatch,
	CodeResponseIssuerMismatch:  ErrResponseIssuerMismatch,
	CodeDeadlineExceeded:        ErrDeadlineExceeded,
	CodeCancelled:               ErrCancelled,
}
