//! The grants over the C ABI: signing keys and DPoP on the builder, PKCE/state/nonce, code,
//! refresh, device, CIBA, token exchange, JWT bearer, custom grants, the client-credentials
//! cache, DPoP proofs and DPoP-bound resource requests. Translation only.

use std::ffi::{CString, c_char};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::r#async::oidc_cancel;
use super::boundary::{check_out, ffi_boundary, free_box, try_ref, try_utf8, write_box, write_owned_string};
use super::error::{FfiError, oidc_error, oidc_result};
use super::oauth::{
    Prepared, oidc_oauth_builder, oidc_oauth_client, oidc_token_response, opt_utf8, prepare_client_credentials, string_call, token_call,
    with_oauth_builder, words,
};
use crate::core::oauth::{
    AssertionAudience, AuthorizationSecrets, BackchannelAuthentication, DeviceAuthorization, OAuthClient, PollOptions, PollState, Secret,
    SigningKey, TokenExchangeRequest, TokenResponse,
};

fn cstr(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

fn invalid(msg: &str) -> FfiError {
    FfiError::new(oidc_result::InvalidArgument, msg)
}

/// Space-separated list (`len` 0 = empty).
/// A JSON object of extra parameters: string values become one parameter, arrays of strings
/// repeat it, numbers and booleans are sent as their JSON text. Absent (`None`) = none.
fn json_params(s: Option<&str>) -> Result<Vec<(String, String)>, FfiError> {
    let Some(s) = s else { return Ok(Vec::new()) };
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(s) else {
        return Err(invalid("params_json must be a JSON object"));
    };
    let mut out = Vec::new();
    for (k, v) in m {
        match v {
            Value::String(s) => out.push((k, s)),
            Value::Number(_) | Value::Bool(_) => out.push((k, v.to_string())),
            Value::Array(a) => {
                for x in a {
                    match x {
                        Value::String(s) => out.push((k.clone(), s)),
                        _ => return Err(invalid("params_json arrays may hold strings only")),
                    }
                }
            }
            Value::Null => {}
            Value::Object(_) => return Err(invalid("params_json values must be strings, numbers, booleans or arrays of strings")),
        }
    }
    Ok(out)
}

// The C setters' argument list, forwarded as is.
#[allow(clippy::too_many_arguments)]
fn set_key(
    builder: *mut oidc_oauth_builder,
    key: *const c_char,
    key_len: usize,
    kid: *const c_char,
    kid_len: usize,
    alg: *const c_char,
    alg_len: usize,
    err_out: *mut *mut oidc_error,
    jwk: bool,
) -> oidc_result {
    with_oauth_builder(builder, key, key_len, err_out, |b, text| {
        let kid = opt_utf8(kid, kid_len, "kid")?;
        let alg = opt_utf8(alg, alg_len, "alg")?;
        let k = if jwk { SigningKey::from_jwk(text, alg, kid)? } else { SigningKey::from_pem(text, alg, kid)? };
        b.key = Some(Arc::new(k));
        Ok(())
    })
}

/// Set the client's private key for `private_key_jwt` (and JWT-bearer assertions) from PEM
/// (PKCS#8, PKCS#1 RSA or SEC1 EC; RSA >= 2048 bits, EC P-256/P-384, Ed25519). `kid` (optional,
/// `len` 0 = none) is put in assertion headers; `alg` (optional) defaults by key type (RS256,
/// ES256/ES384, EdDSA) and may be PS256 etc. for RSA. Parsed now: a bad key fails here. The
/// key never appears in messages or logs.
/// # Ownership: `builder` borrowed; the values copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_private_key_pem(
    builder: *mut oidc_oauth_builder,
    pem: *const c_char,
    pem_len: usize,
    kid: *const c_char,
    kid_len: usize,
    alg: *const c_char,
    alg_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    set_key(builder, pem, pem_len, kid, kid_len, alg, alg_len, err_out, false)
}

/// Like `oidc_oauth_builder_set_private_key_pem`, from a private JWK (RSA with CRT members, EC,
/// OKP Ed25519). `kid` and `alg` default to the JWK's own members.
/// # Ownership: `builder` borrowed; the values copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_private_key_jwk(
    builder: *mut oidc_oauth_builder,
    jwk: *const c_char,
    jwk_len: usize,
    kid: *const c_char,
    kid_len: usize,
    alg: *const c_char,
    alg_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    set_key(builder, jwk, jwk_len, kid, kid_len, alg, alg_len, err_out, true)
}

/// Enable DPoP (RFC 9449) with this key (PEM or a private JWK: ES256, EdDSA, ...), or with a
/// freshly generated ES256 key when `key_len` is 0. Token requests then carry DPoP proofs (one
/// automatic retry on `use_dpop_nonce`; nonces are remembered per server) and the tokens are
/// DPoP-bound.
/// # Ownership: `builder` borrowed; the key copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_dpop_key(
    builder: *mut oidc_oauth_builder,
    key: *const c_char,
    key_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, key, key_len, err_out, |b, text| {
        let k = if text.is_empty() { SigningKey::generate_es256()? } else { SigningKey::from_pem_or_jwk(text, None, None)? };
        let k = Arc::new(k);
        // Refuse a key whose algorithm cannot sign DPoP proofs now, not at the first request.
        crate::core::oauth::dpop::Dpop::new(k.clone())?;
        b.cfg.dpop_key = Some(k);
        Ok(())
    })
}

/// The `aud` of client assertions: "token_endpoint" (default), "issuer" or "endpoint" (the URL
/// being called).
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_assertion_audience(
    builder: *mut oidc_oauth_builder,
    audience: *const c_char,
    audience_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, audience, audience_len, err_out, |b, s| {
        b.cfg.assertion_audience = AssertionAudience::from_name(s)?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// PKCE, state, nonce
// ---------------------------------------------------------------------------------------------

/// A fresh PKCE S256 verifier/challenge pair plus `state` and `nonce` for one authorization
/// request. Immutable; getters return borrowed strings valid until `oidc_pkce_free`.
pub struct oidc_pkce {
    verifier: CString,
    challenge: CString,
    state: CString,
    nonce: CString,
}

/// Generate a PKCE pair (43-character verifier from 32 random bytes, S256 challenge), a
/// `state` and a `nonce` (random, 22 characters each).
/// # Ownership: on OK `*out` is caller-owned, free with `oidc_pkce_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_pkce_new(out: *mut *mut oidc_pkce, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || {
        check_out(out, "out")?;
        let s = AuthorizationSecrets::generate()?;
        write_box(
            out,
            oidc_pkce {
                verifier: cstr(s.code_verifier.expose()),
                challenge: cstr(&s.code_challenge),
                state: cstr(&s.state),
                nonce: cstr(&s.nonce),
            },
        )
    })
}

// Written out (not generated by a macro) so that cbindgen puts them in the header.

/// The code verifier (a secret: send it only to the token endpoint, never log it).
/// # Ownership: borrowed from `pkce`, valid until `oidc_pkce_free`; NULL when `pkce` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_pkce_code_verifier(pkce: *const oidc_pkce) -> *const c_char {
    // SAFETY: pkce is NULL or live (API contract).
    unsafe { pkce.as_ref() }.map(|p| p.verifier.as_ptr()).unwrap_or(std::ptr::null())
}

/// The S256 code challenge for the authorization request.
/// # Ownership: borrowed from `pkce`, valid until `oidc_pkce_free`; NULL when `pkce` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_pkce_code_challenge(pkce: *const oidc_pkce) -> *const c_char {
    // SAFETY: pkce is NULL or live (API contract).
    unsafe { pkce.as_ref() }.map(|p| p.challenge.as_ptr()).unwrap_or(std::ptr::null())
}

/// The `state` value for the authorization request.
/// # Ownership: borrowed from `pkce`, valid until `oidc_pkce_free`; NULL when `pkce` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_pkce_state(pkce: *const oidc_pkce) -> *const c_char {
    // SAFETY: pkce is NULL or live (API contract).
    unsafe { pkce.as_ref() }.map(|p| p.state.as_ptr()).unwrap_or(std::ptr::null())
}

/// The `nonce` value for the authorization request.
/// # Ownership: borrowed from `pkce`, valid until `oidc_pkce_free`; NULL when `pkce` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_pkce_nonce(pkce: *const oidc_pkce) -> *const c_char {
    // SAFETY: pkce is NULL or live (API contract).
    unsafe { pkce.as_ref() }.map(|p| p.nonce.as_ptr()).unwrap_or(std::ptr::null())
}

/// The challenge method: always "S256".
/// # Ownership: static; never free.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_pkce_code_challenge_method() -> *const c_char {
    c"S256".as_ptr()
}

/// Free a PKCE handle. NULL is accepted.
/// # Ownership: consumes `pkce`.
/// # Thread safety: any thread, once.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_pkce_free(pkce: *mut oidc_pkce) {
    // SAFETY: pkce came from oidc_pkce_new (API contract).
    unsafe { free_box(pkce) }
}

// ---------------------------------------------------------------------------------------------
// Code, refresh, cached client credentials
// ---------------------------------------------------------------------------------------------

/// Authorization code grant with PKCE: exchange `code` (from the redirect) for tokens.
/// `redirect_uri` as in the authorization request; `code_verifier` from `oidc_pkce_code_verifier`
/// (optional, `len` 0 = none); `nonce` the one sent (optional); `resource` optional RFC 8707
/// URIs separated by spaces. An ID token in the response is validated (signature, issuer,
/// audience = client id, times) before this returns OK.
/// # Ownership: `client` and the strings borrowed; on OK `*out` is caller-owned, free with
///   `oidc_token_response_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one token request (plus discovery and JWKS on first use), bounded by the
///   client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_exchange_code(
    client: *const oidc_oauth_client,
    code: *const c_char,
    code_len: usize,
    redirect_uri: *const c_char,
    redirect_uri_len: usize,
    code_verifier: *const c_char,
    code_verifier_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    resource: *const c_char,
    resource_len: usize,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    token_call(client, out, err_out, |c| {
        prepare_exchange_code(
            code,
            code_len,
            redirect_uri,
            redirect_uri_len,
            code_verifier,
            code_verifier_len,
            nonce,
            nonce_len,
            resource,
            resource_len,
        )?(c)
    })
}

/// The arguments of `oidc_oauth_exchange_code` and its `_async` twin.
// The C signature's string arguments, forwarded as is.
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare_exchange_code(
    code: *const c_char,
    code_len: usize,
    redirect_uri: *const c_char,
    redirect_uri_len: usize,
    code_verifier: *const c_char,
    code_verifier_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    resource: *const c_char,
    resource_len: usize,
) -> Result<impl Prepared<TokenResponse>, FfiError> {
    // SAFETY: pointer/length pairs per the API contract.
    let code = unsafe { try_utf8(code, code_len, "code") }?.to_owned();
    let redirect = unsafe { try_utf8(redirect_uri, redirect_uri_len, "redirect_uri") }?.to_owned();
    let verifier = opt_utf8(code_verifier, code_verifier_len, "code_verifier")?.map(str::to_owned);
    let nonce = opt_utf8(nonce, nonce_len, "nonce")?.map(str::to_owned);
    let resource = opt_utf8(resource, resource_len, "resource")?.map(str::to_owned);
    Ok(move |c: &OAuthClient| {
        let resources = words(resource.as_deref());
        c.exchange_code(&code, &redirect, verifier.as_deref(), nonce.as_deref(), &resources).map_err(Into::into)
    })
}

/// Refresh token grant. `scope` and `resource` (space-separated URIs) optional. The response's
/// (rotated) refresh token replaces the old one. An ID token in the response is validated.
/// # Ownership: `client` and the strings borrowed; on OK `*out` is caller-owned, free with
///   `oidc_token_response_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one token request, bounded by the client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_refresh(
    client: *const oidc_oauth_client,
    refresh_token: *const c_char,
    refresh_token_len: usize,
    scope: *const c_char,
    scope_len: usize,
    resource: *const c_char,
    resource_len: usize,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    token_call(client, out, err_out, |c| prepare_refresh(refresh_token, refresh_token_len, scope, scope_len, resource, resource_len)?(c))
}

/// The arguments of `oidc_oauth_refresh` and its `_async` twin.
pub(crate) fn prepare_refresh(
    refresh_token: *const c_char,
    refresh_token_len: usize,
    scope: *const c_char,
    scope_len: usize,
    resource: *const c_char,
    resource_len: usize,
) -> Result<impl Prepared<TokenResponse>, FfiError> {
    // SAFETY: pointer/length pair per the API contract.
    let rt = unsafe { try_utf8(refresh_token, refresh_token_len, "refresh_token") }?.to_owned();
    let scope = opt_utf8(scope, scope_len, "scope")?.map(str::to_owned);
    let resource = opt_utf8(resource, resource_len, "resource")?.map(str::to_owned);
    Ok(move |c: &OAuthClient| c.refresh(&rt, scope.as_deref(), &words(resource.as_deref())).map_err(Into::into))
}

/// Client credentials through the client's token cache: the same scope set, resources and
/// audience reuse one token until `expires_in` minus 30 s; concurrent callers share a single
/// request. Arguments as `oidc_oauth_client_credentials`.
/// # Ownership: `client` and the strings borrowed; on OK `*out` is caller-owned (a copy of the
///   cached token), free with `oidc_token_response_free`.
/// # Thread safety: may be called concurrently on one client (that is the point).
/// # Blocking: only on a cache miss (one token request, bounded by the client's timeouts), or
///   while another thread's request for the same key is in flight.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_client_credentials_cached(
    client: *const oidc_oauth_client,
    scope: *const c_char,
    scope_len: usize,
    resource: *const c_char,
    resource_len: usize,
    audience: *const c_char,
    audience_len: usize,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    token_call(client, out, err_out, |c| {
        prepare_client_credentials(scope, scope_len, resource, resource_len, audience, audience_len, true)?(c)
    })
}

// ---------------------------------------------------------------------------------------------
// Cancellation of polls
// ---------------------------------------------------------------------------------------------

fn poll_options(c: &crate::core::oauth::OAuthClient, timeout_ms: u32, cancel: *const oidc_cancel) -> PollOptions {
    let mut opts = PollOptions::timeout(c, Duration::from_millis(timeout_ms as u64));
    // SAFETY: cancel is NULL or live (API contract).
    opts.cancel = unsafe { cancel.as_ref() }.map(|c| c.inner.clone());
    opts
}

/// The arguments of `oidc_oauth_device_poll` and its `_async` twin: a poll of a copy of `da`'s
/// device code, its deadline `timeout_ms` from now on `c`'s clock.
pub(crate) fn prepare_device_poll(
    c: &OAuthClient,
    da: *const oidc_device_authorization,
    timeout_ms: u32,
    cancel: *const oidc_cancel,
) -> Result<PollState, FfiError> {
    // SAFETY: da is NULL or live for the duration of the initiating call (API contract).
    let d = unsafe { try_ref(da, "device_authorization") }?;
    Ok(PollState::device(&d.inner, &poll_options(c, timeout_ms, cancel)))
}

/// The arguments of `oidc_oauth_ciba_poll` and its `_async` twin (as `prepare_device_poll`).
pub(crate) fn prepare_ciba_poll(
    c: &OAuthClient,
    req: *const oidc_ciba_request,
    timeout_ms: u32,
    cancel: *const oidc_cancel,
) -> Result<PollState, FfiError> {
    // SAFETY: req is NULL or live for the duration of the initiating call (API contract).
    let r = unsafe { try_ref(req, "ciba_request") }?;
    Ok(PollState::ciba(&r.inner, &poll_options(c, timeout_ms, cancel)))
}

// ---------------------------------------------------------------------------------------------
// Device authorization and CIBA
// ---------------------------------------------------------------------------------------------

/// A pending device authorization (RFC 8628). Immutable; getters return borrowed strings valid
/// until `oidc_device_authorization_free`. Holds the device code (a secret) for polling.
pub struct oidc_device_authorization {
    inner: DeviceAuthorization,
    user_code: CString,
    verification_uri: CString,
    verification_uri_complete: Option<CString>,
}

/// Start a device authorization at the issuer's `device_authorization_endpoint`. Show the user
/// `oidc_device_authorization_verification_uri` and `_user_code`, then call
/// `oidc_oauth_device_poll`.
/// # Ownership: `client` and `scope` borrowed; on OK `*out` is caller-owned, free with
///   `oidc_device_authorization_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one request, bounded by the client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_device_authorization(
    client: *const oidc_oauth_client,
    scope: *const c_char,
    scope_len: usize,
    out: *mut *mut oidc_device_authorization,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        check_out(out, "out")?;
        let d = prepare_device_authorization(scope, scope_len)?(&c.client)?;
        write_box(out, d)
    })
}

/// The arguments of `oidc_oauth_device_authorization` and its `_async` twin.
pub(crate) fn prepare_device_authorization(
    scope: *const c_char,
    scope_len: usize,
) -> Result<impl Prepared<oidc_device_authorization>, FfiError> {
    let scope = opt_utf8(scope, scope_len, "scope")?.map(str::to_owned);
    Ok(move |c: &OAuthClient| {
        let d = c.device_authorization(scope.as_deref(), &[])?;
        Ok(oidc_device_authorization {
            user_code: cstr(&d.user_code),
            verification_uri: cstr(&d.verification_uri),
            verification_uri_complete: d.verification_uri_complete.as_deref().map(cstr),
            inner: d,
        })
    })
}

/// The code the user enters.
/// # Ownership: borrowed from `da`; NULL when `da` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_device_authorization_user_code(da: *const oidc_device_authorization) -> *const c_char {
    // SAFETY: da is NULL or live (API contract).
    unsafe { da.as_ref() }.map(|d| d.user_code.as_ptr()).unwrap_or(std::ptr::null())
}

/// Where the user goes to enter the code.
/// # Ownership: borrowed from `da`; NULL when `da` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_device_authorization_verification_uri(da: *const oidc_device_authorization) -> *const c_char {
    // SAFETY: da is NULL or live (API contract).
    unsafe { da.as_ref() }.map(|d| d.verification_uri.as_ptr()).unwrap_or(std::ptr::null())
}

/// The verification URI with the code included, if the server sent one.
/// # Ownership: borrowed from `da`; NULL when absent or when `da` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_device_authorization_verification_uri_complete(da: *const oidc_device_authorization) -> *const c_char {
    // SAFETY: da is NULL or live (API contract).
    unsafe { da.as_ref() }.and_then(|d| d.verification_uri_complete.as_ref()).map(|s| s.as_ptr()).unwrap_or(std::ptr::null())
}

/// Seconds the codes live (-1 when `da` is NULL).
/// # Ownership: `da` borrowed.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_device_authorization_expires_in(da: *const oidc_device_authorization) -> i64 {
    // SAFETY: da is NULL or live (API contract).
    unsafe { da.as_ref() }.map(|d| d.inner.expires_in.min(i64::MAX as u64) as i64).unwrap_or(-1)
}

/// The polling interval in seconds (5 when the server sent none; 0 when `da` is NULL).
/// # Ownership: `da` borrowed.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_device_authorization_interval(da: *const oidc_device_authorization) -> u32 {
    // SAFETY: da is NULL or live (API contract).
    unsafe { da.as_ref() }.map(|d| d.inner.interval.as_secs() as u32).unwrap_or(0)
}

/// Free a device authorization. NULL is accepted.
/// # Ownership: consumes `da`.
/// # Thread safety: any thread, once, when no poll on it is running.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_device_authorization_free(da: *mut oidc_device_authorization) {
    // SAFETY: da came from oidc_oauth_device_authorization (API contract).
    unsafe { free_box(da) }
}

/// Poll the token endpoint until the user approves the device authorization: the first poll at
/// once, then one per interval (5 s default; `slow_down` adds 5 s), `authorization_pending`
/// keeps polling. Returns `OIDC_RESULT_DEADLINE_EXCEEDED` rather than wait past `timeout_ms`
/// from now, `OIDC_RESULT_EXPIRED_TOKEN` when the codes expire, `OIDC_RESULT_ACCESS_DENIED`
/// when the user declines, `OIDC_RESULT_CANCELLED` when `cancel` (optional, may be NULL) is
/// cancelled. An ID token in the response is validated.
/// # Ownership: `client`, `da` and `cancel` borrowed; on OK `*out` is caller-owned, free with
///   `oidc_token_response_free`.
/// # Thread safety: may be called concurrently on one client; `da` may be shared read-only.
/// # Blocking: yes: sleeps between polls, at most until `timeout_ms` has passed or `cancel` is
///   cancelled (a poll request in flight is bounded by the client's HTTP timeouts).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_device_poll(
    client: *const oidc_oauth_client,
    da: *const oidc_device_authorization,
    timeout_ms: u32,
    cancel: *const oidc_cancel,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    token_call(client, out, err_out, |c| c.poll_to_end(prepare_device_poll(c, da, timeout_ms, cancel)?).map_err(Into::into))
}

/// A pending CIBA request (poll mode). Getters borrow from it until `oidc_ciba_request_free`.
pub struct oidc_ciba_request {
    inner: BackchannelAuthentication,
    auth_req_id: CString,
}

/// Start a CIBA backchannel authentication (poll mode) at the issuer's
/// `backchannel_authentication_endpoint`. `params_json` is a JSON object of the request's
/// parameters, e.g. `{"scope":"openid","login_hint":"alice","binding_message":"W4SCT"}`
/// (strings, numbers, booleans, or arrays of strings for repeated parameters).
/// # Ownership: `client` and `params_json` borrowed; on OK `*out` is caller-owned, free with
///   `oidc_ciba_request_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one request, bounded by the client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_ciba_request(
    client: *const oidc_oauth_client,
    params_json: *const c_char,
    params_json_len: usize,
    out: *mut *mut oidc_ciba_request,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        check_out(out, "out")?;
        let r = prepare_ciba_request(params_json, params_json_len)?(&c.client)?;
        write_box(out, r)
    })
}

/// The arguments of `oidc_oauth_ciba_request` and its `_async` twin.
pub(crate) fn prepare_ciba_request(
    params_json: *const c_char,
    params_json_len: usize,
) -> Result<impl Prepared<oidc_ciba_request>, FfiError> {
    let params = json_params(opt_utf8(params_json, params_json_len, "params_json")?)?;
    Ok(move |c: &OAuthClient| {
        let r = c.ciba_request(&params)?;
        Ok(oidc_ciba_request { auth_req_id: cstr(r.auth_req_id.expose()), inner: r })
    })
}

/// The request's `auth_req_id` (a secret handle: never log it).
/// # Ownership: borrowed from `req`; NULL when `req` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_ciba_request_auth_req_id(req: *const oidc_ciba_request) -> *const c_char {
    // SAFETY: req is NULL or live (API contract).
    unsafe { req.as_ref() }.map(|r| r.auth_req_id.as_ptr()).unwrap_or(std::ptr::null())
}

/// Seconds the request lives (-1 when `req` is NULL).
/// # Ownership: `req` borrowed.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_ciba_request_expires_in(req: *const oidc_ciba_request) -> i64 {
    // SAFETY: req is NULL or live (API contract).
    unsafe { req.as_ref() }.map(|r| r.inner.expires_in.min(i64::MAX as u64) as i64).unwrap_or(-1)
}

/// The polling interval in seconds (5 when the server sent none; 0 when `req` is NULL).
/// # Ownership: `req` borrowed.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_ciba_request_interval(req: *const oidc_ciba_request) -> u32 {
    // SAFETY: req is NULL or live (API contract).
    unsafe { req.as_ref() }.map(|r| r.inner.interval.as_secs() as u32).unwrap_or(0)
}

/// Free a CIBA request. NULL is accepted.
/// # Ownership: consumes `req`.
/// # Thread safety: any thread, once, when no poll on it is running.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_ciba_request_free(req: *mut oidc_ciba_request) {
    // SAFETY: req came from oidc_oauth_ciba_request (API contract).
    unsafe { free_box(req) }
}

/// Poll for a CIBA request's tokens; same rules and results as `oidc_oauth_device_poll`
/// (`cancel` optional, may be NULL).
/// # Ownership: `client`, `req` and `cancel` borrowed; on OK `*out` is caller-owned, free with
///   `oidc_token_response_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: sleeps between polls, at most until `timeout_ms` has passed or `cancel` is
///   cancelled.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_ciba_poll(
    client: *const oidc_oauth_client,
    req: *const oidc_ciba_request,
    timeout_ms: u32,
    cancel: *const oidc_cancel,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    token_call(client, out, err_out, |c| c.poll_to_end(prepare_ciba_poll(c, req, timeout_ms, cancel)?).map_err(Into::into))
}

// ---------------------------------------------------------------------------------------------
// Token exchange, JWT bearer, custom grants
// ---------------------------------------------------------------------------------------------

/// Token exchange (RFC 8693). `subject_token_type` defaults (`len` 0) to
/// "urn:ietf:params:oauth:token-type:access_token". `params_json` (optional) adds parameters:
/// `audience`, `resource` (string or array), `scope`, `requested_token_type`, `actor_token`,
/// `actor_token_type`, ... The response must carry `issued_token_type`.
/// # Ownership: `client` and the strings borrowed; on OK `*out` is caller-owned, free with
///   `oidc_token_response_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one token request, bounded by the client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_token_exchange(
    client: *const oidc_oauth_client,
    subject_token: *const c_char,
    subject_token_len: usize,
    subject_token_type: *const c_char,
    subject_token_type_len: usize,
    params_json: *const c_char,
    params_json_len: usize,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    token_call(client, out, err_out, |c| {
        prepare_token_exchange(subject_token, subject_token_len, subject_token_type, subject_token_type_len, params_json, params_json_len)?(
            c,
        )
    })
}

/// The arguments of `oidc_oauth_token_exchange` and its `_async` twin.
pub(crate) fn prepare_token_exchange(
    subject_token: *const c_char,
    subject_token_len: usize,
    subject_token_type: *const c_char,
    subject_token_type_len: usize,
    params_json: *const c_char,
    params_json_len: usize,
) -> Result<impl Prepared<TokenResponse>, FfiError> {
    // SAFETY: pointer/length pair per the API contract.
    let subject = unsafe { try_utf8(subject_token, subject_token_len, "subject_token") }?;
    let ty = opt_utf8(subject_token_type, subject_token_type_len, "subject_token_type")?;
    let extra = json_params(opt_utf8(params_json, params_json_len, "params_json")?)?;
    let r = TokenExchangeRequest {
        subject_token: Secret::new(subject),
        subject_token_type: ty.map(str::to_string),
        extra,
        ..Default::default()
    };
    Ok(move |c: &OAuthClient| c.token_exchange(&r).map_err(Into::into))
}

/// JWT bearer grant (RFC 7523 §2.1). Pass a ready `assertion`, or none (`len` 0) and a
/// `subject`: liboidc then signs an assertion with the client's private key (iss = client id,
/// sub = `subject`, aud = issuer, 60 s). `scope` optional.
/// # Ownership: `client` and the strings borrowed; on OK `*out` is caller-owned, free with
///   `oidc_token_response_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one token request, bounded by the client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_jwt_bearer(
    client: *const oidc_oauth_client,
    assertion: *const c_char,
    assertion_len: usize,
    subject: *const c_char,
    subject_len: usize,
    scope: *const c_char,
    scope_len: usize,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    token_call(client, out, err_out, |c| prepare_jwt_bearer(assertion, assertion_len, subject, subject_len, scope, scope_len)?(c))
}

/// The arguments of `oidc_oauth_jwt_bearer` and its `_async` twin. Signing an assertion for
/// `subject` needs the client's key: that is part of the call, not of reading the arguments.
pub(crate) fn prepare_jwt_bearer(
    assertion: *const c_char,
    assertion_len: usize,
    subject: *const c_char,
    subject_len: usize,
    scope: *const c_char,
    scope_len: usize,
) -> Result<impl Prepared<TokenResponse>, FfiError> {
    let assertion = opt_utf8(assertion, assertion_len, "assertion")?.map(str::to_owned);
    let subject = opt_utf8(subject, subject_len, "subject")?.map(str::to_owned);
    let scope = opt_utf8(scope, scope_len, "scope")?.map(str::to_owned);
    if assertion.is_none() && subject.is_none() {
        return Err(invalid("give an assertion or a subject"));
    }
    Ok(move |c: &OAuthClient| {
        let a = match (assertion, subject) {
            (Some(a), _) => a,
            (None, Some(sub)) => {
                let key = c.private_key().ok_or_else(|| {
                    FfiError::new(oidc_result::InvalidConfig, "no assertion given and the client has no private key to sign one")
                })?;
                c.jwt_bearer_assertion(&key, &sub, None)?
            }
            (None, None) => return Err(invalid("give an assertion or a subject")),
        };
        c.jwt_bearer(&a, scope.as_deref(), &[]).map_err(Into::into)
    })
}

/// Any grant at the token endpoint: `grant_type` plus the parameters of `params_json` (optional
/// JSON object; strings, numbers, booleans or arrays of strings), authenticated like every
/// token request (and DPoP-bound when the client has a DPoP key).
/// # Ownership: `client` and the strings borrowed; on OK `*out` is caller-owned, free with
///   `oidc_token_response_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one token request, bounded by the client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_custom_grant(
    client: *const oidc_oauth_client,
    grant_type: *const c_char,
    grant_type_len: usize,
    params_json: *const c_char,
    params_json_len: usize,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    token_call(client, out, err_out, |c| prepare_custom_grant(grant_type, grant_type_len, params_json, params_json_len)?(c))
}

/// The arguments of `oidc_oauth_custom_grant` and its `_async` twin.
pub(crate) fn prepare_custom_grant(
    grant_type: *const c_char,
    grant_type_len: usize,
    params_json: *const c_char,
    params_json_len: usize,
) -> Result<impl Prepared<TokenResponse>, FfiError> {
    // SAFETY: pointer/length pair per the API contract.
    let gt = unsafe { try_utf8(grant_type, grant_type_len, "grant_type") }?.to_owned();
    let params = json_params(opt_utf8(params_json, params_json_len, "params_json")?)?;
    Ok(move |c: &OAuthClient| c.custom_grant(&gt, &params).map_err(Into::into))
}

// ---------------------------------------------------------------------------------------------
// DPoP
// ---------------------------------------------------------------------------------------------

/// A DPoP proof for a request the caller sends itself: `method` and `url` of that request;
/// `access_token` (optional) for resource requests (adds `ath`). The nonce last received from
/// the URL's server is included. Put it in a `DPoP` header, with `Authorization: DPoP <token>`.
/// # Ownership: `client` and the strings borrowed; on OK `*proof_out` is caller-owned, free with
///   `oidc_string_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_dpop_proof(
    client: *const oidc_oauth_client,
    method: *const c_char,
    method_len: usize,
    url: *const c_char,
    url_len: usize,
    access_token: *const c_char,
    access_token_len: usize,
    proof_out: *mut *mut c_char,
    proof_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live; pointer/length pairs per the API contract.
        let c = unsafe { try_ref(client, "client") }?;
        check_out(proof_out, "proof_out")?;
        let method = unsafe { try_utf8(method, method_len, "method") }?;
        let url = unsafe { try_utf8(url, url_len, "url") }?;
        if method.is_empty() || url.is_empty() {
            return Err(invalid("method and url are required"));
        }
        let at = opt_utf8(access_token, access_token_len, "access_token")?;
        let p = c.client.dpop_proof(method, url, at)?;
        write_owned_string(proof_out, proof_len_out, p)
    })
}

/// Remember a `DPoP-Nonce` the caller received from `url`'s server (for proofs made with
/// `oidc_oauth_dpop_proof`). Requests liboidc sends itself handle nonces on their own.
/// # Ownership: everything borrowed.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_dpop_set_nonce(
    client: *const oidc_oauth_client,
    url: *const c_char,
    url_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live; pointer/length pairs per the API contract.
        let c = unsafe { try_ref(client, "client") }?;
        let url = unsafe { try_utf8(url, url_len, "url") }?;
        let nonce = unsafe { try_utf8(nonce, nonce_len, "nonce") }?;
        let d = c.client.dpop().ok_or_else(|| FfiError::new(oidc_result::InvalidConfig, "this client has no DPoP key"))?;
        d.remember(url, nonce);
        Ok(())
    })
}

/// The DPoP key's RFC 7638 thumbprint (`jkt`; bound tokens carry it as `cnf.jkt`).
/// # Ownership: `client` borrowed; on OK `*out` is caller-owned, free with `oidc_string_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_dpop_jkt(
    client: *const oidc_oauth_client,
    out: *mut *mut c_char,
    len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        let d = c.client.dpop().ok_or_else(|| FfiError::new(oidc_result::InvalidConfig, "this client has no DPoP key"))?;
        write_owned_string(out, len_out, d.thumbprint())
    })
}

fn static_method(m: &str) -> Result<&'static str, FfiError> {
    Ok(match m {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        _ => return Err(invalid("method must be GET, POST, PUT, PATCH, DELETE or HEAD")),
    })
}

fn static_content_type(ct: Option<&str>) -> Result<&'static str, FfiError> {
    Ok(match ct {
        None | Some("application/json") => "application/json",
        Some("application/x-www-form-urlencoded") => "application/x-www-form-urlencoded",
        Some("text/plain") => "text/plain",
        Some("application/octet-stream") => "application/octet-stream",
        Some(_) => {
            return Err(invalid(
                "content_type must be application/json, application/x-www-form-urlencoded, text/plain or application/octet-stream",
            ));
        }
    })
}

/// Call a protected resource with an access token through the client's pooled connections:
/// DPoP-bound (`Authorization: DPoP` + a proof with `ath`, one retry on a `use_dpop_nonce`
/// challenge) when the client has a DPoP key and `token_type` is "DPoP", else Bearer. `body`
/// optional with `content_type` (default application/json). Any HTTP status is a success of
/// this call: read `*status_out`. The body is capped like every response.
/// # Ownership: everything borrowed; on OK `*body_out` is caller-owned, free with
///   `oidc_string_free` (a non-UTF-8 body is replaced lossily).
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one or two requests, bounded by the client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_resource_request(
    client: *const oidc_oauth_client,
    method: *const c_char,
    method_len: usize,
    url: *const c_char,
    url_len: usize,
    access_token: *const c_char,
    access_token_len: usize,
    token_type: *const c_char,
    token_type_len: usize,
    body: *const c_char,
    body_len: usize,
    content_type: *const c_char,
    content_type_len: usize,
    status_out: *mut u32,
    body_out: *mut *mut c_char,
    body_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        check_out(status_out, "status_out")?;
        check_out(body_out, "body_out")?;
        let (status, text) = prepare_resource_request(
            method,
            method_len,
            url,
            url_len,
            access_token,
            access_token_len,
            token_type,
            token_type_len,
            body,
            body_len,
            content_type,
            content_type_len,
        )?(&c.client)?;
        write_owned_string(body_out, body_len_out, text)?;
        // SAFETY: status_out checked non-NULL above.
        unsafe { *status_out = status };
        Ok(())
    })
}

/// The arguments of `oidc_oauth_resource_request` and its `_async` twin; the call yields the
/// HTTP status and the body (lossy UTF-8, NUL bytes removed).
// The C signature's string arguments, forwarded as is.
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare_resource_request(
    method: *const c_char,
    method_len: usize,
    url: *const c_char,
    url_len: usize,
    access_token: *const c_char,
    access_token_len: usize,
    token_type: *const c_char,
    token_type_len: usize,
    body: *const c_char,
    body_len: usize,
    content_type: *const c_char,
    content_type_len: usize,
) -> Result<impl Prepared<(u32, String)>, FfiError> {
    // SAFETY: pointer/length pairs per the API contract.
    let method = static_method(unsafe { try_utf8(method, method_len, "method") }?)?;
    let url = unsafe { try_utf8(url, url_len, "url") }?.to_owned();
    let at = unsafe { try_utf8(access_token, access_token_len, "access_token") }?.to_owned();
    if at.is_empty() {
        return Err(invalid("access_token is required"));
    }
    let tt = opt_utf8(token_type, token_type_len, "token_type")?.unwrap_or("Bearer").to_owned();
    let b = opt_utf8(body, body_len, "body")?.map(|b| b.as_bytes().to_vec());
    let ct = static_content_type(opt_utf8(content_type, content_type_len, "content_type")?)?;
    Ok(move |c: &OAuthClient| {
        let resp = c.resource_request(method, &url, &at, &tt, b.map(|b| (ct, b)))?;
        Ok((resp.status as u32, String::from_utf8_lossy(&resp.body).replace('\0', "")))
    })
}

/// The URL of an endpoint by its metadata name ("authorization_endpoint", "token_endpoint",
/// "device_authorization_endpoint", ...): the builder's override, else discovery.
/// # Ownership: `client` and `name` borrowed; on OK `*out` is caller-owned, free with
///   `oidc_string_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: fetches discovery on first use (bounded by the client's timeouts).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_client_endpoint(
    client: *const oidc_oauth_client,
    name: *const c_char,
    name_len: usize,
    out: *mut *mut c_char,
    len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    string_call(client, out, len_out, err_out, |c| prepare_client_endpoint(name, name_len)?(c))
}

/// The arguments of `oidc_oauth_client_endpoint` and its `_async` twin.
pub(crate) fn prepare_client_endpoint(name: *const c_char, name_len: usize) -> Result<impl Prepared<String>, FfiError> {
    // SAFETY: pointer/length pair per the API contract.
    let name = unsafe { try_utf8(name, name_len, "name") }?.to_owned();
    if name.is_empty() {
        return Err(invalid("name is required"));
    }
    Ok(move |c: &OAuthClient| c.endpoint(&name).map_err(Into::into))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_json_shapes() {
        let Ok(p) = json_params(Some(r#"{"a":"x","b":["1","2"],"c":3,"d":true,"e":null}"#)) else { panic!("params") };
        assert_eq!(p.len(), 5, "b repeats, e (null) is skipped");
        assert!(p.contains(&("b".into(), "2".into())) && p.contains(&("c".into(), "3".into())));
        assert!(json_params(Some("[1]")).is_err());
        assert!(json_params(Some(r#"{"a":{"b":1}}"#)).is_err());
        assert!(json_params(Some(r#"{"a":[1]}"#)).is_err());
        assert!(json_params(None).is_ok_and(|v| v.is_empty()));
    }
}
