//! The protocol client's non-blocking twins: `oidc_oauth_<name>_async` for every protocol call
//! that may touch the network, the device flow and CIBA included. Their starts hand the pending
//! handle over to the callback (owned: the one exception to borrowed callback arguments); their
//! polls are multi-step calls that wait between polls on the worker pool's timer, not on a
//! worker (`core::pool::spawn_steps`), with the rules of the blocking polls (`poll_step`).
//!
//! One core, two transports: each twin reads its arguments with the very `prepare_*` function
//! its blocking sibling uses (same checks, same codes; a failure there is returned at once and
//! the callback never runs), copies them (they are borrowed only for the initiating call), and
//! submits the same core call to the worker pool; the outcome reaches the callback with the same
//! codes and error objects as the blocking call's return.

use std::ffi::{CString, c_char, c_void};

use super::r#async::{
    Deliver, Handover, oidc_cancel, oidc_done_cb, oidc_resource_cb, oidc_string_cb, oidc_token_cb, on_done, on_handover, on_resource,
    on_string, on_token, string_out, submit, submit_steps,
};
use super::boundary::{ffi_boundary, try_ref};
use super::error::{FfiError, oidc_error, oidc_result};
use super::grants::{
    oidc_ciba_request, oidc_device_authorization, prepare_ciba_poll, prepare_ciba_request, prepare_client_endpoint, prepare_custom_grant,
    prepare_device_authorization, prepare_device_poll, prepare_exchange_code, prepare_jwt_bearer, prepare_refresh,
    prepare_resource_request, prepare_token_exchange,
};
use super::oauth::{Prepared, oidc_oauth_builder, oidc_oauth_client, oidc_token_response, prepare_client_credentials};
use super::oauth_endpoints::{
    prepare_authorization_url, prepare_end_session_url, prepare_introspect, prepare_parse_authorization_response, prepare_register,
    prepare_revoke, prepare_userinfo, prepare_validate_id_token,
};
use crate::core::oauth::{OAuthClient, PollState, PollStep, TokenResponse};
use crate::core::pool::Step;

/// The frame of every twin on a protocol client: check `client`, then the callback (`deliver`),
/// then read the arguments (`read`, the blocking call's reader); then run the prepared core call
/// on the pool and convert its output (`finish`) for the callback.
fn run_async<T: 'static, U, P, D>(
    client: *const oidc_oauth_client,
    deliver: impl FnOnce() -> Result<D, FfiError>,
    read: impl FnOnce() -> Result<P, FfiError>,
    finish: fn(T) -> Result<U, FfiError>,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result
where
    P: Prepared<T>,
    U: Send + 'static,
    D: Deliver<U>,
{
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live for the duration of this call (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        let deliver = deliver()?;
        let call = read()?;
        let core = c.client.clone();
        submit(cancel, None, move || finish(call(&core)?), deliver)
    })
}

fn token_out(t: TokenResponse) -> Result<oidc_token_response, FfiError> {
    Ok(oidc_token_response::from_core(&t))
}

fn done_out(_: ()) -> Result<(), FfiError> {
    Ok(())
}

fn resource_out((status, body): (u32, String)) -> Result<(u32, CString, usize), FfiError> {
    let (s, n) = string_out(body)?;
    Ok((status, s, n))
}

/// The authorization code grant without blocking: the arguments, checks (the ID token in the
/// response is validated), codes and error objects of `oidc_oauth_exchange_code`.
/// The strings are copied: they need not outlive this call. `cancel` (may be NULL) attaches the
/// call to a cancel handle: cancelling completes it with `OIDC_RESULT_CANCELLED`, an expired
/// deadline with `OIDC_RESULT_DEADLINE_EXCEEDED`, at once (a request under way still finishes;
/// its result is dropped). Returns OK when the call was accepted: then `cb` runs exactly once, on
/// a liboidc worker thread, never inside this function, possibly after
/// `oidc_oauth_client_free(client)` returned. On any other return `cb` never runs
/// (`OIDC_RESULT_NULL_PARAMETER` for a NULL client or callback, the blocking call's argument
/// errors, `OIDC_RESULT_QUEUE_FULL` when the bounded queue is full).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the response passed to `cb` is
///   borrowed for its duration (read it with the `oidc_token_response_*` getters; never free it); on
///   failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_exchange_code_async(
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
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_token(cb, user_data),
        || {
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
            )
        },
        token_out,
        cancel,
        err_out,
    )
}

/// The refresh token grant without blocking: the arguments, checks, codes and error objects of
/// `oidc_oauth_refresh` (a bad refresh token completes with `OIDC_RESULT_INVALID_GRANT`).
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the response passed to `cb` is
///   borrowed for its duration (read it with the `oidc_token_response_*` getters; never free it); on
///   failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_refresh_async(
    client: *const oidc_oauth_client,
    refresh_token: *const c_char,
    refresh_token_len: usize,
    scope: *const c_char,
    scope_len: usize,
    resource: *const c_char,
    resource_len: usize,
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_token(cb, user_data),
        || prepare_refresh(refresh_token, refresh_token_len, scope, scope_len, resource, resource_len),
        token_out,
        cancel,
        err_out,
    )
}

/// The client credentials grant without blocking: the arguments, checks, codes and error objects
/// of `oidc_oauth_client_credentials`.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the response passed to `cb` is
///   borrowed for its duration (read it with the `oidc_token_response_*` getters; never free it); on
///   failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_client_credentials_async(
    client: *const oidc_oauth_client,
    scope: *const c_char,
    scope_len: usize,
    resource: *const c_char,
    resource_len: usize,
    audience: *const c_char,
    audience_len: usize,
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_token(cb, user_data),
        || prepare_client_credentials(scope, scope_len, resource, resource_len, audience, audience_len, false),
        token_out,
        cancel,
        err_out,
    )
}

/// Client credentials through the client's token cache without blocking (as
/// `oidc_oauth_client_credentials_cached`: a cached token completes at once, on a worker;
/// concurrent misses share one request, a worker waiting for it meanwhile).
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the response passed to `cb` is
///   borrowed for its duration (read it with the `oidc_token_response_*` getters; never free it); on
///   failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_client_credentials_cached_async(
    client: *const oidc_oauth_client,
    scope: *const c_char,
    scope_len: usize,
    resource: *const c_char,
    resource_len: usize,
    audience: *const c_char,
    audience_len: usize,
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_token(cb, user_data),
        || prepare_client_credentials(scope, scope_len, resource, resource_len, audience, audience_len, true),
        token_out,
        cancel,
        err_out,
    )
}

/// Token exchange (RFC 8693) without blocking: the arguments, checks, codes and error objects of
/// `oidc_oauth_token_exchange` (a `params_json` that is not a JSON object of the allowed shapes
/// is returned at once as `OIDC_RESULT_INVALID_ARGUMENT`).
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the response passed to `cb` is
///   borrowed for its duration (read it with the `oidc_token_response_*` getters; never free it); on
///   failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_token_exchange_async(
    client: *const oidc_oauth_client,
    subject_token: *const c_char,
    subject_token_len: usize,
    subject_token_type: *const c_char,
    subject_token_type_len: usize,
    params_json: *const c_char,
    params_json_len: usize,
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_token(cb, user_data),
        || {
            prepare_token_exchange(
                subject_token,
                subject_token_len,
                subject_token_type,
                subject_token_type_len,
                params_json,
                params_json_len,
            )
        },
        token_out,
        cancel,
        err_out,
    )
}

/// The JWT bearer grant (RFC 7523) without blocking: the arguments, checks, codes and error
/// objects of `oidc_oauth_jwt_bearer` (neither an assertion nor a subject is returned at once as
/// `OIDC_RESULT_INVALID_ARGUMENT`; an assertion for `subject` is signed on the worker).
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the response passed to `cb` is
///   borrowed for its duration (read it with the `oidc_token_response_*` getters; never free it); on
///   failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_jwt_bearer_async(
    client: *const oidc_oauth_client,
    assertion: *const c_char,
    assertion_len: usize,
    subject: *const c_char,
    subject_len: usize,
    scope: *const c_char,
    scope_len: usize,
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_token(cb, user_data),
        || prepare_jwt_bearer(assertion, assertion_len, subject, subject_len, scope, scope_len),
        token_out,
        cancel,
        err_out,
    )
}

/// Any grant at the token endpoint without blocking: the arguments, checks, codes and error
/// objects of `oidc_oauth_custom_grant`.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the response passed to `cb` is
///   borrowed for its duration (read it with the `oidc_token_response_*` getters; never free it); on
///   failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_custom_grant_async(
    client: *const oidc_oauth_client,
    grant_type: *const c_char,
    grant_type_len: usize,
    params_json: *const c_char,
    params_json_len: usize,
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_token(cb, user_data),
        || prepare_custom_grant(grant_type, grant_type_len, params_json, params_json_len),
        token_out,
        cancel,
        err_out,
    )
}

/// Validate an ID token without blocking (keys may have to be fetched): the arguments, checks,
/// codes and error objects of `oidc_oauth_validate_id_token`; on OK `cb` gets the same claims
/// JSON object.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the string passed to `cb` is
///   borrowed for its duration (copy it; never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_validate_id_token_async(
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
    cb: oidc_string_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_string(cb, user_data),
        || prepare_validate_id_token(id_token, id_token_len, nonce, nonce_len, access_token, access_token_len, code, code_len, max_age),
        string_out,
        cancel,
        err_out,
    )
}

/// Introspect a token (RFC 7662 / RFC 9701) without blocking: the arguments, checks, codes and
/// error objects of `oidc_oauth_introspect` (an empty token or unknown flags are returned at
/// once as `OIDC_RESULT_INVALID_ARGUMENT`); on OK `cb` gets the same JSON object.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the string passed to `cb` is
///   borrowed for its duration (copy it; never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_introspect_async(
    client: *const oidc_oauth_client,
    token: *const c_char,
    token_len: usize,
    token_type_hint: *const c_char,
    token_type_hint_len: usize,
    flags: u32,
    cb: oidc_string_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_string(cb, user_data),
        || prepare_introspect(token, token_len, token_type_hint, token_type_hint_len, flags),
        string_out,
        cancel,
        err_out,
    )
}

/// Revoke a token (RFC 7009) without blocking: the arguments, checks, codes and error objects of
/// `oidc_oauth_revoke`.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; `err` passed to `cb` is
///   borrowed for its duration; on failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_revoke_async(
    client: *const oidc_oauth_client,
    token: *const c_char,
    token_len: usize,
    token_type_hint: *const c_char,
    token_type_hint_len: usize,
    cb: oidc_done_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_done(cb, user_data),
        || prepare_revoke(token, token_len, token_type_hint, token_type_hint_len),
        done_out,
        cancel,
        err_out,
    )
}

/// Call the UserInfo endpoint without blocking: the arguments, checks, codes and error objects of
/// `oidc_oauth_userinfo` (a rejected access token completes with `OIDC_RESULT_INVALID_TOKEN`);
/// on OK `cb` gets the same claims JSON object.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the string passed to `cb` is
///   borrowed for its duration (copy it; never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_userinfo_async(
    client: *const oidc_oauth_client,
    access_token: *const c_char,
    access_token_len: usize,
    expected_sub: *const c_char,
    expected_sub_len: usize,
    cb: oidc_string_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_string(cb, user_data),
        || prepare_userinfo(access_token, access_token_len, expected_sub, expected_sub_len),
        string_out,
        cancel,
        err_out,
    )
}

/// Build the authorization URL without blocking on the discovery it may need first: the
/// arguments, checks, codes and error objects of `oidc_oauth_authorization_url` (a bad
/// `request_json` is returned at once); on OK `cb` gets the same `{"url","state","nonce"}` JSON.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the string passed to `cb` is
///   borrowed for its duration (copy it; never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_authorization_url_async(
    client: *const oidc_oauth_client,
    request_json: *const c_char,
    request_json_len: usize,
    cb: oidc_string_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_string(cb, user_data),
        || prepare_authorization_url(request_json, request_json_len, false),
        string_out,
        cancel,
        err_out,
    )
}

/// Push an authorization request (RFC 9126) without blocking: the arguments, checks, codes and
/// error objects of `oidc_oauth_push_authorization_request`; on OK `cb` gets the same
/// `{"request_uri","expires_in","state","nonce"}` JSON.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the string passed to `cb` is
///   borrowed for its duration (copy it; never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_push_authorization_request_async(
    client: *const oidc_oauth_client,
    request_json: *const c_char,
    request_json_len: usize,
    cb: oidc_string_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_string(cb, user_data),
        || prepare_authorization_url(request_json, request_json_len, true),
        string_out,
        cancel,
        err_out,
    )
}

/// Check the authorization response without blocking on the keys a JARM response or a
/// front-channel ID token may need: the arguments, checks, codes and error objects of
/// `oidc_oauth_parse_authorization_response`; on OK `cb` gets the same JSON (the code is a secret).
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the string passed to `cb` is
///   borrowed for its duration (copy it; never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_parse_authorization_response_async(
    client: *const oidc_oauth_client,
    response: *const c_char,
    response_len: usize,
    expected_state: *const c_char,
    expected_state_len: usize,
    cb: oidc_string_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_string(cb, user_data),
        || prepare_parse_authorization_response(response, response_len, expected_state, expected_state_len),
        string_out,
        cancel,
        err_out,
    )
}

/// Build the RP-initiated logout URL without blocking on the discovery it may need first: the
/// arguments, checks, codes and error objects of `oidc_oauth_end_session_url`; on OK `cb` gets
/// the same URL.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the string passed to `cb` is
///   borrowed for its duration (copy it; never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_end_session_url_async(
    client: *const oidc_oauth_client,
    id_token_hint: *const c_char,
    id_token_hint_len: usize,
    post_logout_redirect_uri: *const c_char,
    post_logout_redirect_uri_len: usize,
    state: *const c_char,
    state_len: usize,
    cb: oidc_string_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_string(cb, user_data),
        || {
            prepare_end_session_url(
                id_token_hint,
                id_token_hint_len,
                post_logout_redirect_uri,
                post_logout_redirect_uri_len,
                state,
                state_len,
            )
        },
        string_out,
        cancel,
        err_out,
    )
}

/// Call a protected resource without blocking: the arguments, checks, codes and error objects of
/// `oidc_oauth_resource_request` (DPoP-bound or Bearer); on OK `cb` gets the HTTP status and
/// the same body.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the body passed to `cb` is
///   borrowed for its duration (copy it; never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_resource_request_async(
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
    cb: oidc_resource_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(
        client,
        || on_resource(cb, user_data),
        || {
            prepare_resource_request(
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
            )
        },
        resource_out,
        cancel,
        err_out,
    )
}

/// Look up an endpoint without blocking on the discovery it may need (the way to warm a
/// protocol client from an event loop): the arguments, checks, codes and error objects of
/// `oidc_oauth_client_endpoint`; on OK `cb` gets the same URL.
/// Strings copied, `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`).
/// # Ownership: `client`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the string passed to `cb` is
///   borrowed for its duration (copy it; never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_client_endpoint_async(
    client: *const oidc_oauth_client,
    name: *const c_char,
    name_len: usize,
    cb: oidc_string_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(client, || on_string(cb, user_data), || prepare_client_endpoint(name, name_len), string_out, cancel, err_out)
}

/// Register a client (RFC 7591) without blocking: the arguments, checks, codes and error objects
/// of `oidc_oauth_register` (the builder's issuer settings are copied now; the builder stays
/// usable and is not consumed); on OK `cb` gets the same registration response JSON (it
/// contains `client_secret` and `registration_access_token`: secrets).
/// The strings are copied: they need not outlive this call. `cancel` (may be NULL) attaches the
/// call to a cancel handle: cancelling completes it with `OIDC_RESULT_CANCELLED`, an expired
/// deadline with `OIDC_RESULT_DEADLINE_EXCEEDED`, at once. Returns OK when the call was
/// accepted: then `cb` runs exactly once, on a liboidc worker thread, never inside this function,
/// possibly after `builder` was built or freed. On any other return `cb` never runs.
/// # Ownership: `builder`, the strings and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the string passed to `cb`
///   is borrowed for its duration (copy it; never free it); on failure `*err_out` is
///   caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently with other calls on the same builder (this call only reads
///   it, before returning). `cb` may run on any liboidc worker thread; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_register_async(
    builder: *const oidc_oauth_builder,
    metadata_json: *const c_char,
    metadata_json_len: usize,
    initial_access_token: *const c_char,
    initial_access_token_len: usize,
    cb: oidc_string_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: builder is NULL or live for the duration of this call (API contract).
        let b = unsafe { try_ref(builder, "builder") }?;
        let deliver = on_string(cb, user_data)?;
        let call = prepare_register(b, metadata_json, metadata_json_len, initial_access_token, initial_access_token_len)?;
        submit(cancel, None, move || string_out(call()?), deliver)
    })
}

// ---------------------------------------------------------------------------------------------
// Device authorization and CIBA
// ---------------------------------------------------------------------------------------------

/// Completion of `oidc_oauth_device_authorization_async`. On `OIDC_RESULT_OK`, `authorization`
/// is the pending device authorization and `err` NULL; otherwise `authorization` is NULL and
/// `err` borrowed for the duration of the callback.
/// # Ownership: THE EXCEPTION to borrowed callback arguments: on OK `authorization` is OWNED by
///   the host from the moment the callback runs (it is what `oidc_oauth_device_poll_async`
///   needs, and it must outlive the callback). Free it with `oidc_device_authorization_free`
///   when done, also when the callback does not keep it: liboidc never frees a handle it handed
///   over, so ignoring it leaks it.
pub type oidc_device_authorization_cb = Option<
    extern "C" fn(user_data: *mut c_void, result: oidc_result, authorization: *mut oidc_device_authorization, err: *const oidc_error),
>;

/// Completion of `oidc_oauth_ciba_request_async`. On `OIDC_RESULT_OK`, `request` is the pending
/// CIBA request and `err` NULL; otherwise `request` is NULL and `err` borrowed for the duration
/// of the callback.
/// # Ownership: THE EXCEPTION to borrowed callback arguments (as `oidc_device_authorization_cb`):
///   on OK `request` is OWNED by the host; free it with `oidc_ciba_request_free`, also when the
///   callback does not keep it (liboidc never frees a handle it handed over).
pub type oidc_ciba_request_cb =
    Option<extern "C" fn(user_data: *mut c_void, result: oidc_result, request: *mut oidc_ciba_request, err: *const oidc_error)>;

fn handover<X>(x: X) -> Result<Handover<X>, FfiError> {
    Ok(Handover::new(x))
}

/// The frame of the poll twins: check `client`, then the callback, then read the arguments with
/// the blocking poll's reader (a copy of the handle's code; the deadline `timeout_ms` from now);
/// then step the poll on the pool: each step is one poll on a worker; between polls the call
/// waits on the completer's timer, holding no worker.
fn poll_async(
    client: *const oidc_oauth_client,
    read: impl FnOnce(&OAuthClient) -> Result<PollState, FfiError>,
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live for the duration of this call (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        let deliver = on_token(cb, user_data)?;
        let mut st = read(&c.client)?;
        let core = c.client.clone();
        let step = move || match core.poll_step(&mut st) {
            PollStep::Done(r) => Step::Done(r.map_err(FfiError::from).and_then(token_out)),
            PollStep::Wait(d) => Step::Again(d),
        };
        submit_steps(cancel, None, step, deliver)
    })
}

/// Start a device authorization (RFC 8628) without blocking: the arguments, request, codes and
/// error objects of `oidc_oauth_device_authorization`; on OK the callback receives the pending
/// authorization as an OWNED handle (see `oidc_device_authorization_cb`): show the user its
/// verification URI and user code, then poll it with `oidc_oauth_device_poll_async` (or the
/// blocking `oidc_oauth_device_poll`), and free it with `oidc_device_authorization_free`.
/// `scope` is copied. `cancel`, exactly-once `cb` on a worker thread, refusals: the contract of
/// every `oidc_oauth_*_async` call (see `oidc_oauth_exchange_code_async`); a call cancelled or
/// past its deadline gets no handle (liboidc frees a late one itself).
/// # Ownership: `client`, `scope` and `cancel` borrowed for this call only; `user_data` is handed
///   back to `cb` untouched and must stay valid until `cb` ran; on OK the handle passed to `cb`
///   is caller-owned (free with `oidc_device_authorization_free`: the one exception to borrowed
///   callback arguments); `err` is borrowed; on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_device_authorization_async(
    client: *const oidc_oauth_client,
    scope: *const c_char,
    scope_len: usize,
    cb: oidc_device_authorization_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(client, || on_handover(cb, user_data), || prepare_device_authorization(scope, scope_len), handover, cancel, err_out)
}

/// Poll for a device authorization's tokens without blocking: the rules, codes and error objects
/// of `oidc_oauth_device_poll` (first poll at once, then one per interval, `slow_down` adds 5 s;
/// `OIDC_RESULT_DEADLINE_EXCEEDED` rather than wait past `timeout_ms` from now,
/// `OIDC_RESULT_EXPIRED_TOKEN`, `OIDC_RESULT_ACCESS_DENIED`; an ID token in the response is
/// validated), delivered to `cb` like the other token twins. Each poll runs on a worker; between
/// polls the call waits on the pool's timer and holds no worker, so any number of pending polls
/// never delays other calls. `da` is read during this call only (its device code is copied): it
/// may be freed as soon as this returns. `cancel` (may be NULL) completes the call at once with
/// `OIDC_RESULT_CANCELLED` (also while it waits between polls; no further poll is sent), a
/// cancel handle's deadline with `OIDC_RESULT_DEADLINE_EXCEEDED`. Exactly-once `cb` on a worker
/// thread, refusals: the contract of every `oidc_oauth_*_async` call (see
/// `oidc_oauth_exchange_code_async`; `OIDC_RESULT_NULL_PARAMETER` for a NULL `da`).
/// # Ownership: `client`, `da` and `cancel` borrowed for this call only; `user_data` is handed
///   back to `cb` untouched and must stay valid until `cb` ran; the response passed to `cb` is
///   borrowed for its duration (read it with the `oidc_token_response_*` getters; never free it);
///   on failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client; `da` may be shared read-only. `cb`
///   may run on any liboidc worker thread, concurrently with other callbacks; it must not block
///   for long.
/// # Blocking: no (a bounded queue push; the waits between polls are timers).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_device_poll_async(
    client: *const oidc_oauth_client,
    da: *const oidc_device_authorization,
    timeout_ms: u32,
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    poll_async(client, |c| prepare_device_poll(c, da, timeout_ms, cancel), cb, user_data, cancel, err_out)
}

/// Start a CIBA backchannel authentication (poll mode) without blocking: the arguments
/// (`params_json` as `oidc_oauth_ciba_request`; a bad one is returned at once as
/// `OIDC_RESULT_INVALID_ARGUMENT`), request, codes and error objects of `oidc_oauth_ciba_request`;
/// on OK the callback receives the pending request as an OWNED handle (see
/// `oidc_ciba_request_cb`): poll it with `oidc_oauth_ciba_poll_async`, free it with
/// `oidc_ciba_request_free`. Strings copied, `cancel`, exactly-once `cb` on a worker thread,
/// refusals: as `oidc_oauth_device_authorization_async`.
/// # Ownership: `client`, `params_json` and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; on OK the handle passed to
///   `cb` is caller-owned (free with `oidc_ciba_request_free`: the one exception to borrowed
///   callback arguments); `err` is borrowed; on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_ciba_request_async(
    client: *const oidc_oauth_client,
    params_json: *const c_char,
    params_json_len: usize,
    cb: oidc_ciba_request_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    run_async(client, || on_handover(cb, user_data), || prepare_ciba_request(params_json, params_json_len), handover, cancel, err_out)
}

/// Poll for a CIBA request's tokens without blocking: the rules, codes and error objects of
/// `oidc_oauth_ciba_poll` (`OIDC_RESULT_ACCESS_DENIED` when the user declines, ...), waiting
/// between polls on the pool's timer, never on a worker; `req` is read during this call only.
/// Everything else as `oidc_oauth_device_poll_async`.
/// # Ownership: `client`, `req` and `cancel` borrowed for this call only; `user_data` is handed
///   back to `cb` untouched and must stay valid until `cb` ran; the response passed to `cb` is
///   borrowed for its duration (never free it); on failure `*err_out` is caller-owned
///   (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push; the waits between polls are timers).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_ciba_poll_async(
    client: *const oidc_oauth_client,
    req: *const oidc_ciba_request,
    timeout_ms: u32,
    cb: oidc_token_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    poll_async(client, |c| prepare_ciba_poll(c, req, timeout_ms, cancel), cb, user_data, cancel, err_out)
}
