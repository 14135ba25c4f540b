//! The endpoint half of the protocol client over the C ABI: ID-token validation, introspection,
//! revocation, UserInfo, PAR, dynamic registration, the authorization and end-session URLs,
//! authorization-response parsing and PKCE. Translation only: every decision is in
//! `core::oauth`. Results are owned JSON strings (free with `oidc_string_free`).

use std::ffi::c_char;

use super::boundary::{check_out, ffi_boundary, try_ref, try_utf8, write_owned_string};
use super::error::{FfiError, oidc_error, oidc_result};
use super::oauth::{Prepared, oidc_oauth_builder, oidc_oauth_client, opt_utf8, string_call};
use crate::core::oauth::{AuthorizationRequest, EndSessionRequest, IdTokenChecks, OAuthClient, pkce, register_client, validate_id_token};

/// Flags of `oidc_oauth_introspect` (bits of a `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oidc_introspect_flag {
    /// A plain JSON response (RFC 7662).
    None = 0,
    /// Ask for an RFC 9701 signed response (`Accept: application/token-introspection+jwt`) and
    /// accept nothing else; the JWT is validated with the issuer's keys (`typ`, `iss`, `aud` =
    /// client id).
    Signed = 1,
}

const SIGNED: u32 = oidc_introspect_flag::Signed as u32;

/// Required string argument: empty is INVALID_ARGUMENT (`boundary::try_required_utf8`, the core's rule).
pub(crate) fn required<'a>(p: *const c_char, len: usize, name: &str) -> Result<&'a str, FfiError> {
    // SAFETY: p points to len readable bytes (API contract).
    unsafe { super::boundary::try_required_utf8(p, len, name) }
}

/// Validate an ID token (OpenID Connect Core §3.1.3.7) with the same policy code as access
/// tokens (signature with the issuer's keys, `iss`, `aud` = client id, `exp`, `nbf`, `iat`, no
/// `typ` rule), then `sub`, `iat`, `azp` (required with several audiences), `nonce` (when given:
/// must be equal), `at_hash` / `c_hash` (when the token has them and `access_token` / `code` is
/// given) and `auth_time` (required and recent enough when `max_age` >= 0; pass -1 when no
/// `max_age` was requested). Empty strings (`len` 0) mean "not given".
/// # Ownership: `client` and the strings borrowed; on OK `*claims_out` is the claims JSON object,
///   caller-owned, free with `oidc_string_free`; `claims_len_out` may be NULL.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: may fetch discovery and keys (first use, unknown kid), bounded by the timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_validate_id_token(
    client: *const oidc_oauth_client,
    id_token: *const c_char,
    id_token_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    access_token: *const c_char,
    access_token_len: usize,
    code: *const c_char,
    code_len: usize,
    max_age: i64,
    claims_out: *mut *mut c_char,
    claims_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    string_call(client, claims_out, claims_len_out, err_out, |c| {
        prepare_validate_id_token(id_token, id_token_len, nonce, nonce_len, access_token, access_token_len, code, code_len, max_age)?(c)
    })
}

/// The arguments of `oidc_oauth_validate_id_token` and its `_async` twin.
// The C signature's arguments, forwarded as is.
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare_validate_id_token(
    id_token: *const c_char,
    id_token_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    access_token: *const c_char,
    access_token_len: usize,
    code: *const c_char,
    code_len: usize,
    max_age: i64,
) -> Result<impl Prepared<String>, FfiError> {
    // SAFETY: id_token points to id_token_len readable bytes (API contract).
    let t = unsafe { try_utf8(id_token, id_token_len, "id_token") }?.to_owned();
    let nonce = opt_utf8(nonce, nonce_len, "nonce")?.map(str::to_owned);
    let access_token = opt_utf8(access_token, access_token_len, "access_token")?.map(str::to_owned);
    let code = opt_utf8(code, code_len, "code")?.map(str::to_owned);
    let max_age = u64::try_from(max_age).ok();
    Ok(move |c: &OAuthClient| {
        let checks =
            IdTokenChecks { nonce: nonce.as_deref(), access_token: access_token.as_deref(), code: code.as_deref(), max_age, now: None };
        Ok(validate_id_token(c, &t, &checks)?.json)
    })
}

/// Introspect a token (RFC 7662) at the issuer's `introspection_endpoint`, with this client's
/// authentication. `token_type_hint` is optional (`len` 0). `flags`: 0 or
/// `OIDC_INTROSPECT_FLAG_SIGNED` (RFC 9701). An inactive token is a success with `"active":false`.
/// # Ownership: `client` and the strings borrowed; on OK `*out` is the introspection response
///   object as JSON (for a signed response: its `token_introspection` member), caller-owned,
///   free with `oidc_string_free`; `out_len` may be NULL.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one request (plus discovery/keys on first use), bounded by the timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_introspect(
    client: *const oidc_oauth_client,
    token: *const c_char,
    token_len: usize,
    token_type_hint: *const c_char,
    token_type_hint_len: usize,
    flags: u32,
    out: *mut *mut c_char,
    out_len: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    string_call(client, out, out_len, err_out, |c| prepare_introspect(token, token_len, token_type_hint, token_type_hint_len, flags)?(c))
}

/// The arguments of `oidc_oauth_introspect` and its `_async` twin.
pub(crate) fn prepare_introspect(
    token: *const c_char,
    token_len: usize,
    token_type_hint: *const c_char,
    token_type_hint_len: usize,
    flags: u32,
) -> Result<impl Prepared<String>, FfiError> {
    if flags & !SIGNED != 0 {
        return Err(FfiError::new(oidc_result::InvalidArgument, "unknown introspection flags"));
    }
    let token = required(token, token_len, "token")?.to_owned();
    let hint = opt_utf8(token_type_hint, token_type_hint_len, "token_type_hint")?.map(str::to_owned);
    Ok(move |c: &OAuthClient| Ok(c.introspect(&token, hint.as_deref(), flags & SIGNED != 0)?.json))
}

/// Revoke a token (RFC 7009) at the issuer's `revocation_endpoint`, with this client's
/// authentication. `token_type_hint` ("access_token", "refresh_token") is optional.
/// # Ownership: everything borrowed.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one request (plus discovery on first use), bounded by the timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_revoke(
    client: *const oidc_oauth_client,
    token: *const c_char,
    token_len: usize,
    token_type_hint: *const c_char,
    token_type_hint_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        prepare_revoke(token, token_len, token_type_hint, token_type_hint_len)?(&c.client)
    })
}

/// The arguments of `oidc_oauth_revoke` and its `_async` twin.
pub(crate) fn prepare_revoke(
    token: *const c_char,
    token_len: usize,
    token_type_hint: *const c_char,
    token_type_hint_len: usize,
) -> Result<impl Prepared<()>, FfiError> {
    let token = required(token, token_len, "token")?.to_owned();
    let hint = opt_utf8(token_type_hint, token_type_hint_len, "token_type_hint")?.map(str::to_owned);
    Ok(move |c: &OAuthClient| c.revoke(&token, hint.as_deref()).map_err(Into::into))
}

/// Call the UserInfo endpoint with `access_token` (Bearer). A signed (`application/jwt`)
/// response is validated with the issuer's keys (`iss`, `aud` = client id, `exp` if present).
/// With `expected_sub` (the ID token's `sub`; optional) a different subject fails with
/// `OIDC_RESULT_SUBJECT_MISMATCH`. RFC 6750 errors give `OIDC_RESULT_INVALID_TOKEN` /
/// `OIDC_RESULT_INSUFFICIENT_SCOPE`.
/// # Ownership: `client` and the strings borrowed; on OK `*out` is the claims JSON object,
///   caller-owned, free with `oidc_string_free`; `out_len` may be NULL.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one request (plus discovery/keys on first use), bounded by the timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_userinfo(
    client: *const oidc_oauth_client,
    access_token: *const c_char,
    access_token_len: usize,
    expected_sub: *const c_char,
    expected_sub_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    string_call(client, out, out_len, err_out, |c| prepare_userinfo(access_token, access_token_len, expected_sub, expected_sub_len)?(c))
}

/// The arguments of `oidc_oauth_userinfo` and its `_async` twin.
pub(crate) fn prepare_userinfo(
    access_token: *const c_char,
    access_token_len: usize,
    expected_sub: *const c_char,
    expected_sub_len: usize,
) -> Result<impl Prepared<String>, FfiError> {
    let at = required(access_token, access_token_len, "access_token")?.to_owned();
    let sub = opt_utf8(expected_sub, expected_sub_len, "expected_sub")?.map(str::to_owned);
    Ok(move |c: &OAuthClient| Ok(c.userinfo(&at, sub.as_deref())?.json))
}

/// Build the authorization URL. `request_json` is a JSON object with optional members
/// `redirect_uri`, `scope`, `state`, `nonce` (both generated when absent: 32 random bytes),
/// `code_challenge` (PKCE S256, see `oidc_pkce_generate`), `response_type` (default "code"),
/// `response_mode` (e.g. "jwt" for JARM), `max_age` (integer), `params` (object of strings or
/// arrays of strings: `prompt`, `resource`, ...), `request` (an already signed request object,
/// RFC 9101) or `request_uri` (from `oidc_oauth_push_authorization_request`; the URL then has
/// only `client_id` and `request_uri`). Unknown members are refused.
/// # Ownership: `client` and the string borrowed; on OK `*out` is
///   `{"url":"…","state":"…","nonce":"…"}` (state/nonce null when unknown), caller-owned, free
///   with `oidc_string_free`; `out_len` may be NULL.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: only discovery on first use (for `authorization_endpoint`).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_authorization_url(
    client: *const oidc_oauth_client,
    request_json: *const c_char,
    request_json_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    string_call(client, out, out_len, err_out, |c| prepare_authorization_url(request_json, request_json_len, false)?(c))
}

/// The arguments of `oidc_oauth_authorization_url` (`pushed` = false) and
/// `oidc_oauth_push_authorization_request` (true) and of their `_async` twins.
pub(crate) fn prepare_authorization_url(
    request_json: *const c_char,
    request_json_len: usize,
    pushed: bool,
) -> Result<impl Prepared<String>, FfiError> {
    // SAFETY: request_json points to request_json_len readable bytes (API contract).
    let j = unsafe { try_utf8(request_json, request_json_len, "request_json") }?;
    let req = AuthorizationRequest::from_json(if j.is_empty() { "{}" } else { j })?;
    Ok(move |c: &OAuthClient| Ok(if pushed { c.push_authorization_request(&req)?.to_json() } else { c.authorization_url(&req)?.to_json() }))
}

/// Push an authorization request (RFC 9126) with this client's authentication. Same
/// `request_json` as `oidc_oauth_authorization_url` (without `request_uri`).
/// # Ownership: `client` and the string borrowed; on OK `*out` is
///   `{"request_uri":"…","expires_in":N,"state":"…","nonce":"…"}`, caller-owned, free with
///   `oidc_string_free`; `out_len` may be NULL.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one request (plus discovery on first use), bounded by the timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_push_authorization_request(
    client: *const oidc_oauth_client,
    request_json: *const c_char,
    request_json_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    string_call(client, out, out_len, err_out, |c| prepare_authorization_url(request_json, request_json_len, true)?(c))
}

/// Parse and check the authorization response that reached the redirect URI: a full URL (its
/// fragment when non-empty, else its query) or a bare query / fragment string. Checks the
/// state against `expected_state` (`OIDC_RESULT_STATE_MISMATCH`; required: pass what the URL
/// builder returned; an empty one is `OIDC_RESULT_INVALID_ARGUMENT`, never "skip the check"), the RFC 9207 `iss` (`OIDC_RESULT_RESPONSE_ISSUER_MISMATCH`; required when the
/// issuer advertises it, unless a front-channel `id_token` is present: its signature, `iss` and
/// audience are then checked here; validate its `nonce`/`c_hash` with
/// `oidc_oauth_validate_id_token`), a JARM `response` JWT (validated with the issuer's keys, audience =
/// client id) and turns an error response into its code (`OIDC_RESULT_ACCESS_DENIED`, ...; the
/// `error`, `error_description` are in `oidc_error_details_json`).
/// # Ownership: `client` and the strings borrowed; on OK `*out` is
///   `{"code":"…","state":…,"iss":…,"jarm":bool,"params":{…}}` (the code is a secret),
///   caller-owned, free with `oidc_string_free`; `out_len` may be NULL.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: only discovery/keys on first use.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_parse_authorization_response(
    client: *const oidc_oauth_client,
    response: *const c_char,
    response_len: usize,
    expected_state: *const c_char,
    expected_state_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    string_call(client, out, out_len, err_out, |c| {
        prepare_parse_authorization_response(response, response_len, expected_state, expected_state_len)?(c)
    })
}

/// The arguments of `oidc_oauth_parse_authorization_response` and its `_async` twin.
pub(crate) fn prepare_parse_authorization_response(
    response: *const c_char,
    response_len: usize,
    expected_state: *const c_char,
    expected_state_len: usize,
) -> Result<impl Prepared<String>, FfiError> {
    let r = required(response, response_len, "response")?.to_owned();
    let state = required(expected_state, expected_state_len, "expected_state")?.to_owned();
    Ok(move |c: &OAuthClient| Ok(c.parse_authorization_response(&r, crate::core::oauth::ExpectedState::Sent(&state), None)?.to_json()))
}

/// Build the RP-initiated logout URL at the issuer's `end_session_endpoint` with the optional
/// `id_token_hint`, `post_logout_redirect_uri` and `state`; `client_id` is always included.
/// # Ownership: `client` and the strings borrowed; on OK `*out` is the URL, caller-owned, free
///   with `oidc_string_free`; `out_len` may be NULL.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: only discovery on first use.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_end_session_url(
    client: *const oidc_oauth_client,
    id_token_hint: *const c_char,
    id_token_hint_len: usize,
    post_logout_redirect_uri: *const c_char,
    post_logout_redirect_uri_len: usize,
    state: *const c_char,
    state_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    string_call(client, out, out_len, err_out, |c| {
        prepare_end_session_url(id_token_hint, id_token_hint_len, post_logout_redirect_uri, post_logout_redirect_uri_len, state, state_len)?(
            c,
        )
    })
}

/// The arguments of `oidc_oauth_end_session_url` and its `_async` twin.
pub(crate) fn prepare_end_session_url(
    id_token_hint: *const c_char,
    id_token_hint_len: usize,
    post_logout_redirect_uri: *const c_char,
    post_logout_redirect_uri_len: usize,
    state: *const c_char,
    state_len: usize,
) -> Result<impl Prepared<String>, FfiError> {
    let req = EndSessionRequest {
        id_token_hint: opt_utf8(id_token_hint, id_token_hint_len, "id_token_hint")?.map(str::to_string),
        post_logout_redirect_uri: opt_utf8(post_logout_redirect_uri, post_logout_redirect_uri_len, "post_logout_redirect_uri")?
            .map(str::to_string),
        state: opt_utf8(state, state_len, "state")?.map(str::to_string),
        include_client_id: true,
        ..Default::default()
    };
    Ok(move |c: &OAuthClient| c.end_session_url(&req).map_err(Into::into))
}

/// Register a client (RFC 7591) at the issuer configured in `builder` (its CA file, timeouts
/// and endpoint overrides are used; its client id and secret are not needed). `metadata_json`
/// is the client metadata object; `initial_access_token` is optional. Errors keep the
/// server's code (`OIDC_RESULT_INVALID_CLIENT_METADATA`, `OIDC_RESULT_INVALID_REDIRECT_URI`).
/// Typical use: register, then set the returned `client_id` / `client_secret` on the same
/// builder and build the client.
/// # Ownership: `builder` and the strings borrowed (the builder is not consumed); on OK `*out`
///   is the registration response JSON (contains `client_secret` and
///   `registration_access_token`: secrets), caller-owned, free with `oidc_string_free`.
/// # Thread safety: not concurrently with other calls on the same builder.
/// # Blocking: yes: discovery and one request, bounded by the builder's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_register(
    builder: *const oidc_oauth_builder,
    metadata_json: *const c_char,
    metadata_json_len: usize,
    initial_access_token: *const c_char,
    initial_access_token_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: builder is NULL or live (API contract).
        let b = unsafe { try_ref(builder, "builder") }?;
        check_out(out, "out")?;
        let call = prepare_register(b, metadata_json, metadata_json_len, initial_access_token, initial_access_token_len)?;
        write_owned_string(out, out_len, call()?)
    })
}

/// The arguments of `oidc_oauth_register` and its `_async` twin: a copy of the builder's
/// issuer settings and the strings. No client: registration precedes it.
pub(crate) fn prepare_register(
    builder: &oidc_oauth_builder,
    metadata_json: *const c_char,
    metadata_json_len: usize,
    initial_access_token: *const c_char,
    initial_access_token_len: usize,
) -> Result<impl FnOnce() -> Result<String, FfiError> + Send + 'static, FfiError> {
    let md = required(metadata_json, metadata_json_len, "metadata_json")?.to_owned();
    let iat = opt_utf8(initial_access_token, initial_access_token_len, "initial_access_token")?.map(str::to_owned);
    let cfg = builder.cfg.clone();
    Ok(move || Ok(register_client(&cfg, &md, iat.as_deref())?.json.expose().to_string()))
}

/// Generate a PKCE pair (RFC 7636, S256): a 43-character verifier from 32 random bytes and its
/// challenge. Send the challenge in the authorization request (`code_challenge`); keep the
/// verifier for the code exchange.
/// # Ownership: on OK `*verifier_out` and `*challenge_out` are caller-owned NUL-terminated
///   strings, free each with `oidc_string_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_pkce_generate(
    verifier_out: *mut *mut c_char,
    challenge_out: *mut *mut c_char,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        check_out(verifier_out, "verifier_out")?;
        check_out(challenge_out, "challenge_out")?;
        let p = pkce::generate()?;
        write_owned_string(challenge_out, std::ptr::null_mut(), p.challenge)?;
        write_owned_string(verifier_out, std::ptr::null_mut(), p.verifier.expose().to_string())
    })
}

/// The S256 challenge of a verifier (43-128 characters of `A-Z a-z 0-9 - . _ ~`).
/// # Ownership: `verifier` borrowed; on OK `*challenge_out` is caller-owned, free with
///   `oidc_string_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_pkce_challenge(
    verifier: *const c_char,
    verifier_len: usize,
    challenge_out: *mut *mut c_char,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        check_out(challenge_out, "challenge_out")?;
        // SAFETY: verifier points to verifier_len readable bytes (API contract).
        let v = unsafe { try_utf8(verifier, verifier_len, "verifier") }?;
        pkce::check_verifier(v)?;
        write_owned_string(challenge_out, std::ptr::null_mut(), pkce::challenge_s256(v))
    })
}
