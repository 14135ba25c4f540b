//! The non-blocking API: completion callbacks, cancel handles, pool bounds.
//!
//! One core, two transports: every `*_async` function reads and copies its arguments with the
//! same reader as its blocking twin (the protocol calls' `prepare_*` functions, see
//! `oauth::Prepared`; the twins are in `oauth_async`), runs the very same core call on the worker
//! pool (`core::pool`), and turns the outcome into a callback with the same codes and error
//! objects. Adding a call is a few lines: read the inputs, then [`submit`] the core closure with
//! a `deliver` (the `on_*` helpers here) that calls the C callback with borrowed outputs.
//!
//! Shutdown semantics: a call holds its own clone of the client (an `Arc` of the core client), so
//! `oidc_validator_free` never waits and is safe with calls in flight; their callbacks still run,
//! exactly once each, possibly after `oidc_validator_free` returned. `oidc_async_shutdown` stops
//! the worker pool itself and joins its threads (for hosts that cannot exit while a foreign
//! thread that ran their code lives on, such as Mono); the next call starts a new pool.

use std::ffi::{CString, c_char, c_void};
use std::time::Duration;

use super::boundary::{c_value, ffi_boundary, try_ref};
use super::client::{oidc_validator, token_bytes};
use super::error::{FfiError, oidc_error, oidc_result};
use super::oauth::oidc_token_response;
use crate::core::pool::{self, Outcome, Step};

pub use super::cancel::oidc_cancel;

/// Completion of `oidc_validate_async`: `result` is `OIDC_RESULT_OK` with the claims as JSON
/// (`claims_json`, `claims_json_len` bytes, NUL-terminated) and `err` NULL, or a failure code
/// with `claims_json` NULL and `err` describing it (`OIDC_RESULT_CANCELLED`,
/// `OIDC_RESULT_DEADLINE_EXCEEDED`, `OIDC_RESULT_TOKEN_EXPIRED`, ...). Every pointer argument is
/// borrowed for the duration of the callback only: copy what you keep; never free them.
pub type oidc_validate_cb = Option<
    extern "C" fn(user_data: *mut c_void, result: oidc_result, claims_json: *const c_char, claims_json_len: usize, err: *const oidc_error),
>;

/// Completion of a call without output (`oidc_validator_prefetch_async`, `oidc_oauth_revoke_async`):
/// `err` is NULL on OK, otherwise borrowed for the duration of the callback.
pub type oidc_done_cb = Option<extern "C" fn(user_data: *mut c_void, result: oidc_result, err: *const oidc_error)>;

/// Completion of a token request (`oidc_oauth_client_credentials_async`, `oidc_oauth_refresh_async`,
/// ...): on OK `response` is borrowed for the duration of the callback (read it with the
/// `oidc_token_response_*` getters; never free it) and `err` is NULL; otherwise `response` is
/// NULL and `err` borrowed.
pub type oidc_token_cb =
    Option<extern "C" fn(user_data: *mut c_void, result: oidc_result, response: *const oidc_token_response, err: *const oidc_error)>;

/// Completion of a call whose blocking twin returns an owned string (`oidc_oauth_introspect_async`,
/// `oidc_oauth_userinfo_async`, ...; the same shape as `oidc_validate_cb`, so one host function
/// may serve both): `result` is `OIDC_RESULT_OK` with the string (`value`, `value_len` bytes,
/// NUL-terminated; JSON or a URL, exactly what the blocking call returns) and `err` NULL, or a
/// failure code with `value` NULL, `value_len` 0 and `err` describing it. Every pointer argument
/// is borrowed for the duration of the callback only: copy what you keep; never free them.
pub type oidc_string_cb =
    Option<extern "C" fn(user_data: *mut c_void, result: oidc_result, value: *const c_char, value_len: usize, err: *const oidc_error)>;

/// Completion of `oidc_oauth_resource_request_async`: on OK the HTTP `status` (any status is a
/// success of the call) and the body (`body`, `body_len` bytes, NUL-terminated, borrowed for the
/// duration of the callback), `err` NULL; otherwise `status` 0, `body` NULL and `err` borrowed.
pub type oidc_resource_cb = Option<
    extern "C" fn(user_data: *mut c_void, result: oidc_result, status: u32, body: *const c_char, body_len: usize, err: *const oidc_error),
>;

/// The host's `user_data`, carried to the callback's thread. The host promised (by calling an
/// `_async` function) that it may be used from any thread until the callback ran.
pub(crate) struct UserData(pub(crate) *mut c_void);
// SAFETY: liboidc never dereferences it; it is only handed back to the host's callback, and the
// API contract makes the host responsible for using it from any thread.
unsafe impl Send for UserData {}

/// How a call completes: the code, the output (on OK) and the error object (on failure), each
/// borrowed for the duration of the C callback it calls.
pub(crate) trait Deliver<T>: FnOnce(oidc_result, Option<&T>, Option<&oidc_error>) + Send + 'static {}
impl<T, F: FnOnce(oidc_result, Option<&T>, Option<&oidc_error>) + Send + 'static> Deliver<T> for F {}

fn err_ptr(err: Option<&oidc_error>) -> *const oidc_error {
    err.map(|e| e as *const oidc_error).unwrap_or(std::ptr::null())
}

fn callback<F>(cb: Option<F>) -> Result<F, FfiError> {
    cb.ok_or_else(|| FfiError::new(oidc_result::NullParameter, "callback is NULL"))
}

/// A string output as a callback borrows it: the C string and its length without the NUL.
pub(crate) fn string_out(s: String) -> Result<(CString, usize), FfiError> {
    let n = s.len();
    Ok((c_value(s)?, n))
}

/// The `deliver` of calls completing through an `oidc_string_cb` (or `oidc_validate_cb`, the
/// same type). Fails with `NULL_PARAMETER` when `cb` is NULL.
pub(crate) fn on_string(cb: oidc_string_cb, user_data: *mut c_void) -> Result<impl Deliver<(CString, usize)>, FfiError> {
    let cb = callback(cb)?;
    let ud = UserData(user_data);
    Ok(move |rc, out: Option<&(CString, usize)>, err: Option<&oidc_error>| {
        let ud = ud;
        let (p, n) = out.map(|(s, n)| (s.as_ptr(), *n)).unwrap_or((std::ptr::null(), 0));
        cb(ud.0, rc, p, n, err_ptr(err));
    })
}

/// The `deliver` of calls completing through an `oidc_done_cb`.
pub(crate) fn on_done(cb: oidc_done_cb, user_data: *mut c_void) -> Result<impl Deliver<()>, FfiError> {
    let cb = callback(cb)?;
    let ud = UserData(user_data);
    Ok(move |rc, _: Option<&()>, err: Option<&oidc_error>| {
        let ud = ud;
        cb(ud.0, rc, err_ptr(err));
    })
}

/// The `deliver` of token requests (`oidc_token_cb`).
pub(crate) fn on_token(cb: oidc_token_cb, user_data: *mut c_void) -> Result<impl Deliver<oidc_token_response>, FfiError> {
    let cb = callback(cb)?;
    let ud = UserData(user_data);
    Ok(move |rc, resp: Option<&oidc_token_response>, err: Option<&oidc_error>| {
        let ud = ud;
        cb(ud.0, rc, resp.map(|r| r as *const oidc_token_response).unwrap_or(std::ptr::null()), err_ptr(err));
    })
}

/// The `deliver` of `oidc_oauth_resource_request_async` (`oidc_resource_cb`).
pub(crate) fn on_resource(cb: oidc_resource_cb, user_data: *mut c_void) -> Result<impl Deliver<(u32, CString, usize)>, FfiError> {
    let cb = callback(cb)?;
    let ud = UserData(user_data);
    Ok(move |rc, out: Option<&(u32, CString, usize)>, err: Option<&oidc_error>| {
        let ud = ud;
        let (status, p, n) = out.map(|(st, s, n)| (*st, s.as_ptr(), *n)).unwrap_or((0, std::ptr::null(), 0));
        cb(ud.0, rc, status, p, n, err_ptr(err));
    })
}

/// An owned output handed over to a callback (the device authorization and CIBA handles): the
/// callback receives the pointer and owns it from then on; a call that ends otherwise
/// (cancelled, deadline) drops it here.
pub(crate) struct Handover<X>(std::cell::Cell<Option<Box<X>>>);

impl<X> Handover<X> {
    pub(crate) fn new(x: X) -> Handover<X> {
        Handover(std::cell::Cell::new(Some(Box::new(x))))
    }
}

/// The `deliver` of calls whose callback takes ownership of a handle (`oidc_device_authorization_cb`,
/// `oidc_ciba_request_cb`): on OK the handle is released to the callback (never freed here).
pub(crate) fn on_handover<X: Send + 'static>(
    cb: Option<extern "C" fn(*mut c_void, oidc_result, *mut X, *const oidc_error)>,
    user_data: *mut c_void,
) -> Result<impl Deliver<Handover<X>>, FfiError> {
    let cb = callback(cb)?;
    let ud = UserData(user_data);
    Ok(move |rc, out: Option<&Handover<X>>, err: Option<&oidc_error>| {
        let ud = ud;
        let p = out.and_then(|h| h.0.take()).map(Box::into_raw).unwrap_or(std::ptr::null_mut());
        cb(ud.0, rc, p, err_ptr(err));
    })
}

/// Run `work` (the core call, on a pool thread) and hand its outcome to `deliver` as a code,
/// the output (on OK) and an error object (on failure), exactly once, on a pool thread.
pub(crate) fn submit<T, W, D>(cancel: *const oidc_cancel, realm: Option<String>, work: W, deliver: D) -> Result<(), FfiError>
where
    T: Send + 'static,
    W: FnOnce() -> Result<T, FfiError> + Send + 'static,
    D: Deliver<T>,
{
    // SAFETY: cancel is NULL or a live handle for the duration of this call (API contract).
    let cancel = unsafe { cancel.as_ref() }.map(|c| &c.inner);
    pool::spawn(work, completion(realm, deliver), cancel).map_err(Into::into)
}

/// Like [`submit`], for a call made of steps (the polls): `step` runs on a worker each time;
/// `Step::Again(d)` frees the worker and the pool's timer runs the next step after `d`.
pub(crate) fn submit_steps<T, S, D>(cancel: *const oidc_cancel, realm: Option<String>, step: S, deliver: D) -> Result<(), FfiError>
where
    T: Send + 'static,
    S: FnMut() -> Step<Result<T, FfiError>> + Send + 'static,
    D: Deliver<T>,
{
    // SAFETY: cancel is NULL or a live handle for the duration of this call (API contract).
    let cancel = unsafe { cancel.as_ref() }.map(|c| &c.inner);
    pool::spawn_steps(step, completion(realm, deliver), cancel).map_err(Into::into)
}

/// The pool's outcome of a call as the C callback sees it: a code, the output (on OK) and an
/// error object (on failure).
fn completion<T, D>(realm: Option<String>, deliver: D) -> impl FnOnce(Outcome<Result<T, FfiError>>) + Send + 'static
where
    T: Send + 'static,
    D: Deliver<T>,
{
    move |o: Outcome<Result<T, FfiError>>| {
        let failure = |e: FfiError| {
            let obj = oidc_error::from_ffi(e, realm.as_deref());
            (obj.code(), obj)
        };
        let (ok, err) = match o {
            Outcome::Done(Ok(v)) => (Some(v), None),
            Outcome::Done(Err(e)) => (None, Some(failure(e))),
            Outcome::Cancelled => (None, Some(failure(FfiError::new(oidc_result::Cancelled, "the call was cancelled")))),
            Outcome::DeadlineExceeded => {
                (None, Some(failure(FfiError::new(oidc_result::DeadlineExceeded, "the call's deadline passed before it completed"))))
            }
            Outcome::Panicked(m) => (None, Some(failure(FfiError::new(oidc_result::Panic, format!("internal panic in a worker: {m}"))))),
        };
        match (&ok, &err) {
            (Some(v), _) => deliver(oidc_result::Ok, Some(v), None),
            (None, Some((code, obj))) => deliver(*code, None, Some(obj)),
            (None, None) => unreachable!("an outcome is a value or an error"),
        }
    }
}

fn client_ref<'a>(client: *const oidc_validator) -> Result<&'a oidc_validator, FfiError> {
    // SAFETY: client is NULL or live for the duration of the initiating call (API contract).
    unsafe { try_ref(client, "client") }
}

// The C signature's parameters, plus `now`.
#[allow(clippy::too_many_arguments)]
fn validate_async_impl(
    client: *const oidc_validator,
    token: *const c_char,
    token_len: usize,
    now: Option<i64>,
    cb: oidc_validate_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    // SAFETY: client is NULL or live (API contract).
    let realm = unsafe { client.as_ref() }.and_then(|c| c.client.config().realm.clone());
    ffi_boundary(err_out, realm.as_deref(), || {
        let c = client_ref(client)?;
        let deliver = on_string(cb, user_data)?;
        // Same door as `oidc_validate`: a token too large or not UTF-8 is the token's fault and
        // arrives through the callback like any other rejection (only misuse is answered here).
        let token = c.client.token_from_bytes(token_bytes(token, token_len)?).map(str::to_owned);
        let core = c.client.clone();
        submit(
            cancel,
            realm.clone(),
            move || {
                let token = token?;
                let v = match now {
                    Some(n) => core.validate_at(&token, n as f64)?,
                    None => core.validate(&token)?,
                };
                string_out(v.claims)
            },
            deliver,
        )
    })
}

/// Validate a token without blocking: the same checks, codes and error objects as
/// `oidc_validate`, delivered to `cb`. The token is copied; it need not outlive this call.
/// Token bytes that are too many or not UTF-8 are the token's fault here too: the call is
/// accepted and `cb` gets `OIDC_RESULT_TOKEN_TOO_LARGE` / `OIDC_RESULT_TOKEN_MALFORMED`.
/// With cached keys the work needs no network; it still runs on the worker pool.
/// `cancel` (may be NULL) attaches the call to a cancel handle / deadline: cancelling completes
/// it with `OIDC_RESULT_CANCELLED`, an expired deadline with `OIDC_RESULT_DEADLINE_EXCEEDED`,
/// at once, even if a key fetch it waits on goes on (that fetch still fills the cache).
/// Returns OK when the call was accepted: then `cb` runs exactly once, on a liboidc worker
/// thread, never inside this function, possibly after `oidc_validator_free(client)` returned.
/// On any other return `cb` is never called (`OIDC_RESULT_QUEUE_FULL` when the bounded queue is
/// full, `OIDC_RESULT_NULL_PARAMETER` for a NULL client or callback, ...).
/// # Ownership: `client`, `token` and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the callback's arguments
///   are borrowed for its duration; on failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validate_async(
    client: *const oidc_validator,
    token: *const c_char,
    token_len: usize,
    cb: oidc_validate_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    validate_async_impl(client, token, token_len, None, cb, user_data, cancel, err_out)
}

/// Like `oidc_validate_async`, checking exp/nbf/iat as of `now_unix` (as `oidc_validate_at`).
/// # Ownership: as `oidc_validate_async`.
/// # Thread safety: as `oidc_validate_async`.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validate_at_async(
    client: *const oidc_validator,
    token: *const c_char,
    token_len: usize,
    now_unix: i64,
    cb: oidc_validate_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    validate_async_impl(client, token, token_len, Some(now_unix), cb, user_data, cancel, err_out)
}

/// Warm the client without blocking: discovery and the key set are fetched on the worker pool
/// (as `oidc_validator_prefetch`), and `cb` reports the outcome. A static-key client completes OK.
/// # Ownership: `client` and `cancel` borrowed for this call only; `user_data` as
///   `oidc_validate_async`.
/// # Thread safety: any thread. `cb` runs exactly once on a liboidc worker thread if OK was
///   returned, never inside this call.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_prefetch_async(
    client: *const oidc_validator,
    cb: oidc_done_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        let c = client_ref(client)?;
        let deliver = on_done(cb, user_data)?;
        let core = c.client.clone();
        submit(cancel, None, move || core.prefetch().map_err(FfiError::from), deliver)
    })
}

/// Bound the worker pool of the non-blocking API: `threads` workers (0 = default: the number
/// of CPUs, 2 to 8) and at most `queue_capacity` calls waiting (default 4096; 1 to 1048576).
/// The queue bound applies at once; the thread count applies when the pool starts (the first
/// non-blocking call of the process, or of a forked child), so call this first.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_async_configure(threads: u32, queue_capacity: u32, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || pool::configure(threads as usize, queue_capacity as usize).map_err(Into::into))
}

/// Stop the worker pool of the non-blocking API and join its threads, waiting at most
/// `timeout_ms` milliseconds. For hosts that must not exit with liboidc threads alive (Mono
/// hangs at exit once such a thread has run a managed callback): call it at process exit.
/// Calls still queued complete with `OIDC_RESULT_CANCELLED` without starting; calls already
/// running finish (bounded by the client's timeouts; cancel their handles to answer them at
/// once). Every accepted call still gets its callback exactly once. Non-blocking calls made
/// during or after this start a new pool lazily, so nothing is lost by calling it too early.
/// Returns OK when every pool thread ended and was joined (also when no pool was running, or
/// another thread is shutting it down); `OIDC_RESULT_TIMEOUT` when some were still busy at the
/// deadline (they end by themselves after their current call); `OIDC_RESULT_INVALID_ARGUMENT`
/// when called from a completion callback (a pool thread cannot join itself). In a forked child
/// only the child's own pool is concerned.
/// # Ownership: on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread except liboidc's own (callbacks).
/// # Blocking: yes, up to `timeout_ms` while running calls finish.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_async_shutdown(timeout_ms: u32, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || pool::shutdown(Duration::from_millis(u64::from(timeout_ms))).map_err(Into::into))
}
