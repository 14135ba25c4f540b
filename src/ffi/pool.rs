//! The worker pool of the non-blocking API: its bounds (`oidc_async_configure`, `oidc_async_shutdown`)
//! and the one path every `*_async` call takes. Each reads and checks its arguments on the
//! calling thread exactly as its blocking sibling does, then [`submit`]s (or [`submit_steps`], for
//! the polls) the same core call with a `deliver` (the `on_*` helpers here) that calls the C
//! callback; [`completion`] turns the pool's outcome (done, cancelled, deadline, panic) into the
//! same codes and error objects as the blocking calls return.
//!
//! Shutdown semantics: a call holds its own clone of the client (an `Arc` of the core client), so
//! freeing a handle never waits and is safe with calls in flight; their callbacks still run,
//! exactly once each, possibly after the free returned. `oidc_async_shutdown` stops the worker
//! pool itself and joins its threads (for hosts that cannot exit while a foreign thread that ran
//! their code lives on, such as Mono); the next call starts a new pool.

use std::ffi::{CString, c_void};
use std::time::Duration;

use super::boundary::{c_value, ffi_boundary};
use super::error::{FfiError, oidc_error, oidc_result};
use crate::core::pool::{self, Cancel, Outcome, Step};

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

/// The `deliver` of calls completing through an `oidc_validate_cb`. Fails with
/// `NULL_PARAMETER` when `cb` is NULL.
pub(crate) fn on_string(
    cb: super::validator::oidc_validate_cb,
    user_data: *mut c_void,
) -> Result<impl Deliver<(CString, usize)>, FfiError> {
    let cb = callback(cb)?;
    let ud = UserData(user_data);
    Ok(move |rc, out: Option<&(CString, usize)>, err: Option<&oidc_error>| {
        let ud = ud;
        let (p, n) = out.map(|(s, n)| (s.as_ptr(), *n)).unwrap_or((std::ptr::null(), 0));
        cb(ud.0, rc, p, n, err_ptr(err));
    })
}

/// The `deliver` of calls completing through an `oidc_done_cb`.
pub(crate) fn on_done(cb: super::validator::oidc_done_cb, user_data: *mut c_void) -> Result<impl Deliver<()>, FfiError> {
    let cb = callback(cb)?;
    let ud = UserData(user_data);
    Ok(move |rc, _: Option<&()>, err: Option<&oidc_error>| {
        let ud = ud;
        cb(ud.0, rc, err_ptr(err));
    })
}

/// An owned output handed over to a callback (the protocol responses): the callback receives
/// the pointer and owns it from then on; a call that ends otherwise (cancelled, deadline) drops
/// it here.
pub(crate) struct Handover<X>(std::cell::Cell<Option<Box<X>>>);

impl<X> Handover<X> {
    pub(crate) fn new(x: X) -> Handover<X> {
        Handover(std::cell::Cell::new(Some(Box::new(x))))
    }
}

/// The `deliver` of calls whose callback takes ownership of its output (`oidc_oauth_response_cb`):
/// on OK the output is released to the callback (never freed here).
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
pub(crate) fn submit<T, W, D>(cancel: Option<&Cancel>, realm: Option<String>, work: W, deliver: D) -> Result<(), FfiError>
where
    T: Send + 'static,
    W: FnOnce() -> Result<T, FfiError> + Send + 'static,
    D: Deliver<T>,
{
    pool::spawn(work, completion(realm, deliver), cancel).map_err(Into::into)
}

/// Like [`submit`], for a call made of steps (the polls): `step` runs on a worker each time;
/// `Step::Again(d)` frees the worker and the pool's timer runs the next step after `d`.
pub(crate) fn submit_steps<T, S, D>(cancel: Option<&Cancel>, realm: Option<String>, step: S, deliver: D) -> Result<(), FfiError>
where
    T: Send + 'static,
    S: FnMut() -> Step<Result<T, FfiError>> + Send + 'static,
    D: Deliver<T>,
{
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
