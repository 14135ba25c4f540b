//! Protocol requests over the C ABI: `oidc_oauth_request` (an operation and its parameters),
//! one blocking send (`oidc_oauth_send`), one non-blocking send (`oidc_oauth_send_async`), and
//! `oidc_oauth_response`. Translation only: every parameter rule is in
//! `core::oauth::request`; both sends run the same core steps (`OAuthClient::start` / `step`).

use std::ffi::{CString, c_char, c_void};

use super::boundary::{c_value, check_out, ffi_boundary, ffi_guard, free_box, try_mut, try_ref, try_utf8, write_box};
use super::cancel::oidc_cancel;
use super::error::{FfiError, oidc_error, oidc_result};
use super::oauth_client::oidc_oauth_client;
use super::pool::{Handover, on_handover, submit_steps};
use crate::core::oauth::{Field, OAuthClient, OAuthRequest, OAuthResponse, Operation, Param, RunStep};
use crate::core::pool::Step;

/// A protocol operation (`oidc_oauth_request_new`).
///
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oidc_operation {
    /// Authorization code grant (RFC 6749 §4.1.3, PKCE): CODE (required), REDIRECT_URI,
    /// CODE_VERIFIER, NONCE (checked in the ID token), RESOURCE. The ID token is validated.
    OIDC_OP_AUTHORIZATION_CODE = 1,
    /// Refresh token grant: REFRESH_TOKEN (required), SCOPE, RESOURCE.
    OIDC_OP_REFRESH = 2,
    /// Client credentials grant: SCOPE, RESOURCE, AUDIENCE (one), USE_CACHE (the client's
    /// token cache: one token per scope/resource/audience until 30 s before it expires).
    OIDC_OP_CLIENT_CREDENTIALS = 3,
    /// Token exchange (RFC 8693): SUBJECT_TOKEN (required), SUBJECT_TOKEN_TYPE (default access
    /// token), ACTOR_TOKEN, ACTOR_TOKEN_TYPE, REQUESTED_TOKEN_TYPE, AUDIENCE, RESOURCE, SCOPE.
    OIDC_OP_TOKEN_EXCHANGE = 4,
    /// JWT bearer grant (RFC 7523): ASSERTION, or SUBJECT (liboidc signs an assertion with the
    /// client's private key: iss = client id, aud = issuer, 60 s); SCOPE.
    OIDC_OP_JWT_BEARER = 5,
    /// Any grant: GRANT_TYPE (required), SCOPE, RESOURCE, AUDIENCE, custom parameters.
    OIDC_OP_CUSTOM_GRANT = 6,
    /// Device authorization (RFC 8628 §3.1): SCOPE. Poll with OIDC_OP_DEVICE_POLL.
    OIDC_OP_DEVICE_AUTHORIZATION = 7,
    /// Device token poll (RFC 8628 §3.4): the start's response (`oidc_oauth_request_set_pending`)
    /// or DEVICE_CODE (+ INTERVAL_SECS, EXPIRES_IN_SECS).
    OIDC_OP_DEVICE_POLL = 8,
    /// CIBA backchannel authentication, poll mode: SCOPE, LOGIN_HINT, BINDING_MESSAGE, custom.
    OIDC_OP_CIBA_REQUEST = 9,
    /// CIBA token poll: the start's response or AUTH_REQ_ID (+ INTERVAL_SECS, EXPIRES_IN_SECS).
    OIDC_OP_CIBA_POLL = 10,
    /// Token introspection (RFC 7662): TOKEN (required), TOKEN_TYPE_HINT, SIGNED_RESPONSE
    /// (RFC 9701 JWT answer, validated with the issuer's keys).
    OIDC_OP_INTROSPECT = 11,
    /// Token revocation (RFC 7009): TOKEN (required), TOKEN_TYPE_HINT.
    OIDC_OP_REVOKE = 12,
    /// UserInfo: ACCESS_TOKEN (required), TOKEN_TYPE, EXPECTED_SUB (the ID token's `sub`).
    OIDC_OP_USERINFO = 13,
    /// Pushed authorization request (RFC 9126): the parameters of OIDC_OP_AUTHORIZATION_URL;
    /// the response has REQUEST_URI (then build the URL with OIDC_OP_AUTHORIZATION_URL and
    /// REQUEST_URI), STATE, NONCE, CODE_VERIFIER.
    OIDC_OP_PUSHED_AUTHORIZATION = 14,
    /// The authorization URL (no network once discovery is cached): REDIRECT_URI, SCOPE, STATE
    /// and NONCE (generated when absent), RESPONSE_TYPE (default code), RESPONSE_MODE,
    /// CODE_CHALLENGE (a PKCE pair is generated when absent: the response has CODE_VERIFIER),
    /// REQUEST_OBJECT (JAR), REQUEST_URI (PAR), LOGIN_HINT, RESOURCE, MAX_AGE, custom. The JSON is
    /// `{"url","state","nonce"[,"code_verifier","code_challenge","code_challenge_method"]}`.
    OIDC_OP_AUTHORIZATION_URL = 15,
    /// The RP-initiated logout URL: ID_TOKEN_HINT, POST_LOGOUT_REDIRECT_URI, STATE, custom.
    OIDC_OP_END_SESSION_URL = 16,
    /// Check an authorization response (redirect URL, query or form body): RESPONSE (required),
    /// EXPECTED_STATE or NO_STATE_SENT = 1; RFC 9207 `iss` and JARM are checked. The JSON is
    /// `{"code":…,"state":…,"iss":…,"jarm":bool,"params":{every parameter received}}`.
    OIDC_OP_AUTHORIZATION_RESPONSE = 17,
    /// Validate an ID token (OpenID Connect Core §3.1.3.7): ID_TOKEN (required), NONCE,
    /// ACCESS_TOKEN (at_hash), CODE (c_hash), MAX_AGE (auth_time). The response JSON is the claims.
    OIDC_OP_VALIDATE_ID_TOKEN = 18,
    /// Dynamic client registration (RFC 7591): METADATA (required, a JSON object; custom
    /// parameters become members), INITIAL_ACCESS_TOKEN. The only operation a client without a
    /// client id can send.
    OIDC_OP_REGISTER = 19,
    /// Read a registration (RFC 7592): REGISTRATION_CLIENT_URI, REGISTRATION_ACCESS_TOKEN.
    OIDC_OP_REGISTRATION_READ = 20,
    /// Replace a registration's metadata (RFC 7592): METADATA plus the two of READ.
    OIDC_OP_REGISTRATION_UPDATE = 21,
    /// Delete a registration (RFC 7592): the two parameters of READ.
    OIDC_OP_REGISTRATION_DELETE = 22,
    /// Call a protected resource: URL and ACCESS_TOKEN (required), METHOD (default GET),
    /// TOKEN_TYPE, BODY, CONTENT_TYPE, custom (query parameters). Any HTTP status is a success of
    /// the call: read OIDC_FIELD_HTTP_STATUS.
    OIDC_OP_RESOURCE = 23,
    /// An endpoint's URL by its metadata name (ENDPOINT_NAME): the builder's override, else
    /// discovery.
    OIDC_OP_ENDPOINT = 24,
    /// Validate a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6):
    /// LOGOUT_TOKEN (required, the `logout_token` form parameter the OP posted). The ID-token
    /// key, algorithm and `iss`/`aud`/`iat`/`exp` rules, then header `typ` `logout+jwt`, the
    /// back-channel-logout event, `sub` and/or `sid`, no `nonce`, a `jti` seen once
    /// (`OIDC_RESULT_TOKEN_REPLAYED`; the client's bounded cache, then the shared store of
    /// `oidc_oauth_builder_set_replay_store`). The response JSON is the claims; fields ISS, SUB,
    /// SID, JTI. No network once the issuer's keys are cached.
    OIDC_OP_VALIDATE_LOGOUT_TOKEN = 25,
    /// Verify a JWS that is not a token (RFC 7515; detached content, Appendix F; unencoded
    /// payload, RFC 7797 `b64: false` with `crit`): JWS (required; compact or flattened JSON
    /// serialization), PAYLOAD (the detached payload, when the JWS does not carry it). The issuer's
    /// keys and the client's algorithm policy, as for tokens. The response: PAYLOAD (the payload
    /// text when it is UTF-8), PROTECTED_HEADER; the JSON is `{"header":{..},"payload_b64url":"..",
    /// "payload":".."}`.
    OIDC_OP_VERIFY_JWS = 26,
    /// Decrypt a compact JWE with the client's decryption keys (RFC 7516/7518): JWE (required).
    /// Decrypts only: a nested JWT inside is NOT validated (validate it with the operation it is
    /// for). The response as for OIDC_OP_VERIFY_JWS (the JWE protected header).
    OIDC_OP_DECRYPT = 27,
}

/// A typed request parameter. 1-99 are strings (`oidc_oauth_request_set_string`), 100-199
/// lists (`oidc_oauth_request_add_string`, one item per call), 200-299 integers
/// (`oidc_oauth_request_set_int`). Which operation takes which: see `oidc_operation`.
///
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oidc_param {
    OIDC_PARAM_CODE = 1,
    OIDC_PARAM_REDIRECT_URI = 2,
    OIDC_PARAM_CODE_VERIFIER = 3,
    OIDC_PARAM_NONCE = 4,
    OIDC_PARAM_REFRESH_TOKEN = 5,
    OIDC_PARAM_SUBJECT_TOKEN = 6,
    OIDC_PARAM_SUBJECT_TOKEN_TYPE = 7,
    OIDC_PARAM_ACTOR_TOKEN = 8,
    OIDC_PARAM_ACTOR_TOKEN_TYPE = 9,
    OIDC_PARAM_REQUESTED_TOKEN_TYPE = 10,
    OIDC_PARAM_ASSERTION = 11,
    OIDC_PARAM_SUBJECT = 12,
    OIDC_PARAM_GRANT_TYPE = 13,
    OIDC_PARAM_TOKEN = 14,
    OIDC_PARAM_TOKEN_TYPE_HINT = 15,
    OIDC_PARAM_ACCESS_TOKEN = 16,
    /// "DPoP" or "Bearer"; default DPoP when the client has a DPoP key (RFC 9449 §7.1).
    OIDC_PARAM_TOKEN_TYPE = 17,
    OIDC_PARAM_EXPECTED_SUB = 18,
    OIDC_PARAM_DEVICE_CODE = 19,
    OIDC_PARAM_AUTH_REQ_ID = 20,
    /// A JSON object.
    OIDC_PARAM_METADATA = 21,
    OIDC_PARAM_INITIAL_ACCESS_TOKEN = 22,
    OIDC_PARAM_REGISTRATION_ACCESS_TOKEN = 23,
    /// Must be on the issuer's origin.
    OIDC_PARAM_REGISTRATION_CLIENT_URI = 24,
    /// GET, POST, PUT, PATCH, DELETE or HEAD.
    OIDC_PARAM_METHOD = 25,
    OIDC_PARAM_URL = 26,
    OIDC_PARAM_BODY = 27,
    /// application/json (default), application/x-www-form-urlencoded, text/plain or
    /// application/octet-stream.
    OIDC_PARAM_CONTENT_TYPE = 28,
    OIDC_PARAM_RESPONSE = 29,
    OIDC_PARAM_EXPECTED_STATE = 30,
    OIDC_PARAM_ID_TOKEN = 31,
    OIDC_PARAM_ID_TOKEN_HINT = 32,
    OIDC_PARAM_POST_LOGOUT_REDIRECT_URI = 33,
    OIDC_PARAM_STATE = 34,
    OIDC_PARAM_RESPONSE_TYPE = 35,
    OIDC_PARAM_RESPONSE_MODE = 36,
    OIDC_PARAM_CODE_CHALLENGE = 37,
    OIDC_PARAM_REQUEST_OBJECT = 38,
    OIDC_PARAM_REQUEST_URI = 39,
    OIDC_PARAM_LOGIN_HINT = 40,
    OIDC_PARAM_BINDING_MESSAGE = 41,
    OIDC_PARAM_ENDPOINT_NAME = 42,
    /// OIDC_OP_VALIDATE_LOGOUT_TOKEN: the logout token (compact JWS).
    OIDC_PARAM_LOGOUT_TOKEN = 43,
    /// OIDC_OP_VERIFY_JWS: the JWS.
    OIDC_PARAM_JWS = 44,
    /// OIDC_OP_VERIFY_JWS: the detached payload (text).
    OIDC_PARAM_PAYLOAD = 45,
    /// OIDC_OP_DECRYPT: the compact JWE.
    OIDC_PARAM_JWE = 46,
    /// One scope token per call; sent joined by spaces.
    OIDC_PARAM_SCOPE = 100,
    OIDC_PARAM_RESOURCE = 101,
    OIDC_PARAM_AUDIENCE = 102,
    OIDC_PARAM_MAX_AGE = 200,
    /// The call's own deadline in milliseconds from the send (every operation; 1 to 86400000).
    OIDC_PARAM_DEADLINE_MS = 201,
    OIDC_PARAM_INTERVAL_SECS = 202,
    OIDC_PARAM_EXPIRES_IN_SECS = 203,
    /// 0 or 1.
    OIDC_PARAM_SIGNED_RESPONSE = 204,
    /// 0 or 1.
    OIDC_PARAM_USE_CACHE = 205,
    /// 0 or 1.
    OIDC_PARAM_NO_STATE_SENT = 206,
    /// The validation time, Unix seconds (reproducible tests, replays of recorded traffic):
    /// OIDC_OP_VALIDATE_ID_TOKEN, OIDC_OP_VALIDATE_LOGOUT_TOKEN, OIDC_OP_VERIFY_JWS,
    /// OIDC_OP_AUTHORIZATION_RESPONSE. Default: now.
    OIDC_PARAM_NOW_SECS = 207,
}

/// A response field. 1-99 are strings (`oidc_oauth_response_string`), 100-199 integers
/// (`oidc_oauth_response_int`). A string field an operation does not compute is the top-level
/// string member of that name in the response JSON (introspection's `sub`, `client_id`, ...).
///
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oidc_field {
    OIDC_FIELD_ACCESS_TOKEN = 1,
    OIDC_FIELD_TOKEN_TYPE = 2,
    OIDC_FIELD_REFRESH_TOKEN = 3,
    OIDC_FIELD_ID_TOKEN = 4,
    OIDC_FIELD_SCOPE = 5,
    OIDC_FIELD_ISSUED_TOKEN_TYPE = 6,
    OIDC_FIELD_DEVICE_CODE = 7,
    OIDC_FIELD_USER_CODE = 8,
    OIDC_FIELD_VERIFICATION_URI = 9,
    OIDC_FIELD_VERIFICATION_URI_COMPLETE = 10,
    OIDC_FIELD_AUTH_REQ_ID = 11,
    OIDC_FIELD_REQUEST_URI = 12,
    OIDC_FIELD_URL = 13,
    OIDC_FIELD_CODE = 14,
    OIDC_FIELD_STATE = 15,
    OIDC_FIELD_NONCE = 16,
    OIDC_FIELD_CODE_VERIFIER = 17,
    OIDC_FIELD_CODE_CHALLENGE = 18,
    OIDC_FIELD_ISS = 19,
    OIDC_FIELD_SUB = 20,
    OIDC_FIELD_CLIENT_ID = 21,
    OIDC_FIELD_CLIENT_SECRET = 22,
    OIDC_FIELD_REGISTRATION_ACCESS_TOKEN = 23,
    OIDC_FIELD_REGISTRATION_CLIENT_URI = 24,
    /// OIDC_OP_RESOURCE: the OAuth error of the WWW-Authenticate challenge or of a JSON error body.
    OIDC_FIELD_ERROR = 25,
    OIDC_FIELD_ERROR_DESCRIPTION = 26,
    OIDC_FIELD_ERROR_URI = 27,
    OIDC_FIELD_CONTENT_TYPE = 28,
    OIDC_FIELD_WWW_AUTHENTICATE = 29,
    /// OIDC_OP_VALIDATE_LOGOUT_TOKEN: the session id (absent when the token names only `sub`).
    OIDC_FIELD_SID = 30,
    /// OIDC_OP_VALIDATE_LOGOUT_TOKEN: the token's `jti`.
    OIDC_FIELD_JTI = 31,
    /// OIDC_OP_VERIFY_JWS, OIDC_OP_DECRYPT: the payload, when it is UTF-8 text.
    OIDC_FIELD_PAYLOAD = 32,
    /// OIDC_OP_VERIFY_JWS, OIDC_OP_DECRYPT: the protected header (JSON).
    OIDC_FIELD_PROTECTED_HEADER = 33,
    /// Seconds (token, device, CIBA, PAR responses).
    OIDC_FIELD_EXPIRES_IN = 100,
    /// Seconds between polls (device, CIBA).
    OIDC_FIELD_INTERVAL = 101,
    /// OIDC_OP_RESOURCE.
    OIDC_FIELD_HTTP_STATUS = 102,
    /// OIDC_OP_INTROSPECT: 1 or 0.
    OIDC_FIELD_ACTIVE = 103,
}

/// A protocol request: an operation on a client and its parameters. Built by one thread (the
/// setters take `oidc_oauth_request *`); once built it is read-only for the sends, which copy
/// it: send it any number of times, from several threads at once, and free it whenever no send
/// is running on another thread (a non-blocking send does not need it after it returned).
pub struct oidc_oauth_request {
    client: OAuthClient,
    req: OAuthRequest,
}

/// The answer to a request. Immutable; getters return borrowed pointers valid until
/// `oidc_oauth_response_free`. Holds secrets (tokens, codes): never log its JSON.
pub struct oidc_oauth_response {
    /// The operation (an `oidc_operation` value).
    op: u32,
    /// The JSON (or body) with a NUL appended (the body may hold NUL bytes: the length tells).
    json: Vec<u8>,
    /// The string fields, made once (borrowed pointers must stay valid).
    strings: Vec<(u32, CString)>,
    core: OAuthResponse,
}

impl oidc_oauth_response {
    /// The C view of a core response. Fields are values (`boundary::c_value`): one with a NUL
    /// byte fails the call rather than hand out an altered value. The JSON keeps its bytes (a
    /// resource body may hold NUL bytes: its length is given).
    fn from_core(r: OAuthResponse) -> Result<oidc_oauth_response, FfiError> {
        let mut json = Vec::with_capacity(r.json().len() + 1);
        json.extend_from_slice(r.json().as_bytes());
        json.push(0);
        let mut strings = Vec::new();
        for f in Field::ALL.iter().filter(|f| (**f as u32) < 100) {
            if let Some(v) = r.string(*f) {
                let c = c_value(v).map_err(|e| FfiError::new(e.code, format!("the response's {} contains a NUL byte", f.c_name())))?;
                strings.push((*f as u32, c));
            }
        }
        Ok(oidc_oauth_response { op: r.operation() as u32, json, strings, core: r })
    }
}

fn invalid(msg: String) -> FfiError {
    FfiError::new(oidc_result::InvalidArgument, msg)
}

fn param_in(p: u32) -> Result<Param, FfiError> {
    Param::from_u32(p).ok_or_else(|| invalid(format!("unknown oidc_param {p}")))
}

/// Create a request for operation `op` on `client`. Set its parameters, then send it with
/// `oidc_oauth_send` or `oidc_oauth_send_async`. `OIDC_RESULT_INVALID_ARGUMENT` for an unknown
/// operation, `OIDC_RESULT_INVALID_CONFIG` for an operation the client cannot send (a client
/// without a client id can only register).
/// # Ownership: `client` borrowed (the request keeps its own reference: the client may be freed
///   first); on OK `*out` is caller-owned, free with `oidc_oauth_request_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_request_new(
    client: *const oidc_oauth_client,
    op: u32,
    out: *mut *mut oidc_oauth_request,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        check_out(out, "out")?;
        let op = Operation::from_u32(op).ok_or_else(|| invalid(format!("unknown oidc_operation {op}")))?;
        let req = OAuthRequest::new(&c.client, op)?;
        write_box(out, oidc_oauth_request { client: c.client.clone(), req })
    })
}

/// The frame of the setters: a live request, then the core setter.
fn set(
    req: *mut oidc_oauth_request,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&mut OAuthRequest) -> Result<(), FfiError>,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: req is NULL or live and not used concurrently (API contract).
        let r = unsafe { try_mut(req, "request") }?;
        f(&mut r.req)
    })
}

/// Set string parameter `param` (1-99) to `value` (`value_len` bytes of UTF-8, not
/// NUL-terminated; an earlier value is replaced). `OIDC_RESULT_INVALID_ARGUMENT` when the
/// parameter does not apply to the request's operation, is not a string parameter, or `value`
/// is empty or not acceptable for it (the message says which and why).
/// # Ownership: `value` borrowed (copied).
/// # Thread safety: one thread at a time per request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_request_set_string(
    req: *mut oidc_oauth_request,
    param: u32,
    value: *const c_char,
    value_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    set(req, err_out, |r| {
        let p = param_in(param)?;
        // SAFETY: value points to value_len readable bytes (API contract).
        let v = unsafe { try_utf8(value, value_len, p.c_name()) }?;
        r.set_string(p, v).map_err(Into::into)
    })
}

/// Add one item to list parameter `param` (100-199: SCOPE, one scope token per call; RESOURCE;
/// AUDIENCE). Errors as `oidc_oauth_request_set_string`.
/// # Ownership: `value` borrowed (copied).
/// # Thread safety: one thread at a time per request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_request_add_string(
    req: *mut oidc_oauth_request,
    param: u32,
    value: *const c_char,
    value_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    set(req, err_out, |r| {
        let p = param_in(param)?;
        // SAFETY: value points to value_len readable bytes (API contract).
        let v = unsafe { try_utf8(value, value_len, p.c_name()) }?;
        r.add_string(p, v).map_err(Into::into)
    })
}

/// Set integer parameter `param` (200-299). Errors as `oidc_oauth_request_set_string` (and for
/// a value out of the parameter's range).
/// # Ownership: `req` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: one thread at a time per request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_request_set_int(
    req: *mut oidc_oauth_request,
    param: u32,
    value: i64,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    set(req, err_out, |r| r.set_int(param_in(param)?, value).map_err(Into::into))
}

/// Add a custom parameter `name` = `value` (a name may repeat). Refused: names liboidc sets
/// itself (`grant_type`, `client_id`, `client_secret`, `client_assertion`,
/// `client_assertion_type`, `code_challenge_method`), names with a typed parameter for this
/// operation (the message names the `OIDC_PARAM_*` to use), and operations that send nothing
/// (AUTHORIZATION_RESPONSE, VALIDATE_ID_TOKEN, ENDPOINT, VALIDATE_LOGOUT_TOKEN). Sent as form parameters, as query
/// parameters for URLs, UserInfo and resources, as JSON members for registration.
/// # Ownership: `name` and `value` borrowed (copied).
/// # Thread safety: one thread at a time per request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_request_add_param(
    req: *mut oidc_oauth_request,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    set(req, err_out, |r| {
        // SAFETY: pointer/length pairs per the API contract.
        let n = unsafe { try_utf8(name, name_len, "name") }?;
        let v = unsafe { try_utf8(value, value_len, "value") }?;
        r.add_param(n, v).map_err(Into::into)
    })
}

/// Make a poll (OIDC_OP_DEVICE_POLL, OIDC_OP_CIBA_POLL) continue the flow `started` began (the
/// response of OIDC_OP_DEVICE_AUTHORIZATION / OIDC_OP_CIBA_REQUEST): its code, interval and
/// expiry are copied, so `started` may be freed afterwards.
/// # Ownership: `started` borrowed.
/// # Thread safety: one thread at a time per request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_request_set_pending(
    req: *mut oidc_oauth_request,
    started: *const oidc_oauth_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    set(req, err_out, |r| {
        // SAFETY: started is NULL or live (API contract).
        let s = unsafe { try_ref(started, "started") }?;
        r.set_pending(&s.core).map_err(Into::into)
    })
}

/// Free a request. NULL is accepted.
/// # Ownership: consumes `req`.
/// # Thread safety: not while a send on it runs on another thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_request_free(req: *mut oidc_oauth_request) {
    // SAFETY: req came from oidc_oauth_request_new (API contract).
    unsafe { free_box(req) }
}

/// Send `req` and wait for the answer. Missing or conflicting parameters are
/// `OIDC_RESULT_INVALID_ARGUMENT` before anything is sent. `cancel` (may be NULL): the call
/// ends with `OIDC_RESULT_DEADLINE_EXCEEDED` once its deadline (or the request's
/// OIDC_PARAM_DEADLINE_MS) passed: every request it sends is bounded by the time left as well as
/// by the client's timeouts. It ends with `OIDC_RESULT_CANCELLED` once triggered: seen before
/// each network step and after it (a request in flight finishes first, bounded as above, and its
/// result is dropped); a poll's wait between polls ends at once. The same rules and codes as
/// `oidc_oauth_send_async`.
/// # Ownership: `req` and `cancel` borrowed; on OK `*out` is caller-owned, free with
///   `oidc_oauth_response_free`; on failure `*err_out` (if non-NULL) is caller-owned.
/// # Thread safety: any thread; one request may be sent from several threads at once.
/// # Blocking: yes: the operation's requests (plus discovery and keys on first use), each
///   bounded by the client's timeouts; a poll until tokens, an end, the deadline or cancel.
///   Local operations (AUTHORIZATION_URL, END_SESSION_URL, AUTHORIZATION_RESPONSE, ENDPOINT,
///   VALIDATE_ID_TOKEN, VALIDATE_LOGOUT_TOKEN: these two for the keys too)
///   touch the network only for discovery on first use.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_send(
    req: *const oidc_oauth_request,
    cancel: *const oidc_cancel,
    out: *mut *mut oidc_oauth_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: req and cancel are NULL or live (API contract).
        let r = unsafe { try_ref(req, "request") }?;
        check_out(out, "out")?;
        let cancel = unsafe { cancel.as_ref() }.map(|c| &c.inner);
        let resp = r.client.send(&r.req, cancel)?;
        write_box(out, oidc_oauth_response::from_core(resp)?)
    })
}

/// Completion of `oidc_oauth_send_async`. On `OIDC_RESULT_OK`, `response` is the answer, OWNED
/// by the host (free it with `oidc_oauth_response_free`, also when unused), and `err` is NULL;
/// otherwise `response` is NULL and `err` describes the failure, borrowed for the duration of
/// the callback.
pub type oidc_oauth_response_cb =
    Option<extern "C" fn(user_data: *mut c_void, result: oidc_result, response: *mut oidc_oauth_response, err: *const oidc_error)>;

/// Send `req` without blocking: the same checks, steps, codes and error objects as
/// `oidc_oauth_send`, run on liboidc's worker pool; a poll waits between polls on the pool's
/// timer, holding no worker. The request is copied: free or change it as soon as this returns.
/// Argument errors (missing parameters, NULL callback) are returned at once and `cb` never runs;
/// so does `OIDC_RESULT_QUEUE_FULL`. On OK, `cb` runs exactly once, on a liboidc worker thread,
/// never inside this function, possibly after `oidc_oauth_client_free` returned. `cancel`
/// (may be NULL) completes the call at once with `OIDC_RESULT_CANCELLED` when triggered,
/// `OIDC_RESULT_DEADLINE_EXCEEDED` at its deadline or the request's OIDC_PARAM_DEADLINE_MS
/// (a request under way still finishes; its result is dropped).
/// # Ownership: `req` and `cancel` borrowed for this call only; `user_data` is handed back to
///   `cb` untouched and must stay valid until `cb` ran; the response given to `cb` is the host's
///   (free it); `err` is borrowed; on failure `*err_out` (if non-NULL) is caller-owned.
/// # Thread safety: any thread. `cb` may run on any liboidc worker thread, concurrently with
///   other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_send_async(
    req: *const oidc_oauth_request,
    cancel: *const oidc_cancel,
    cb: oidc_oauth_response_cb,
    user_data: *mut c_void,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: req and cancel are NULL or live for the duration of this call (API contract).
        let r = unsafe { try_ref(req, "request") }?;
        let deliver = on_handover(cb, user_data)?;
        let cancel = unsafe { cancel.as_ref() }.map(|c| &c.inner);
        let client = r.client.clone();
        let mut run = client.start(&r.req, cancel)?;
        let call_cancel = run.cancel().cloned();
        let step = move || match client.step(&mut run) {
            RunStep::Done(res) => Step::Done(res.map_err(FfiError::from).and_then(oidc_oauth_response::from_core).map(Handover::new)),
            RunStep::Wait(d) => Step::Again(d),
        };
        submit_steps(call_cancel.as_ref(), None, step, deliver)
    })
}

/// The operation a response answers.
/// # Ownership: `resp` borrowed. 0 for NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_response_operation(resp: *const oidc_oauth_response) -> u32 {
    // SAFETY: resp is NULL or live (API contract).
    ffi_guard(0, || unsafe { resp.as_ref() }.map(|r| r.op).unwrap_or(0))
}

/// String field `field` (1-99) of a response, NUL-terminated; NULL when the response has none
/// (or for NULL, or an integer/unknown field).
/// # Ownership: borrowed from `resp`, valid until `oidc_oauth_response_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_response_string(resp: *const oidc_oauth_response, field: u32) -> *const c_char {
    ffi_guard(std::ptr::null(), || {
        // SAFETY: resp is NULL or live (API contract).
        let Some(r) = (unsafe { resp.as_ref() }) else { return std::ptr::null() };
        r.strings.iter().find(|(f, _)| *f == field).map_or(std::ptr::null(), |(_, s)| s.as_ptr())
    })
}

/// Integer field `field` (100-199) of a response; -1 when absent (or for NULL, or a string /
/// unknown field).
/// # Ownership: `resp` borrowed.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_response_int(resp: *const oidc_oauth_response, field: u32) -> i64 {
    ffi_guard(-1, || {
        // SAFETY: resp is NULL or live (API contract).
        let Some(r) = (unsafe { resp.as_ref() }) else { return -1 };
        Field::from_u32(field).and_then(|f| r.core.int(f)).unwrap_or(-1)
    })
}

/// The response's JSON (the server's body; for OIDC_OP_RESOURCE the body as received, lossy
/// UTF-8; for local operations the object liboidc made), NUL-terminated; `*len_out` (may be
/// NULL) gets its length in bytes. NULL only for a NULL `resp`.
/// # Ownership: borrowed from `resp`, valid until `oidc_oauth_response_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_response_json(resp: *const oidc_oauth_response, len_out: *mut usize) -> *const c_char {
    ffi_guard(std::ptr::null(), || {
        // SAFETY: resp is NULL or live; len_out is NULL or writable (API contract).
        let Some(r) = (unsafe { resp.as_ref() }) else { return std::ptr::null() };
        if let Some(l) = unsafe { len_out.as_mut() } {
            *l = r.json.len() - 1;
        }
        r.json.as_ptr().cast()
    })
}

/// Free a response. NULL is accepted.
/// # Ownership: consumes `resp`.
/// # Thread safety: any thread, once.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_response_free(resp: *mut oidc_oauth_response) {
    // SAFETY: resp came from oidc_oauth_send or a response callback (API contract).
    unsafe { free_box(resp) }
}
