//! The cancel handle: one type for both transports (`core::pool::Cancel`). Non-blocking calls
//! attached to it complete at once with `OIDC_RESULT_CANCELLED` / `OIDC_RESULT_DEADLINE_EXCEEDED`;
//! blocking sends check it before each network step and wake from a poll's wait at once.

use std::time::Duration;

use super::boundary::{ffi_boundary, ffi_guard, free_box, write_box};
use super::error::{oidc_error, oidc_result};
use crate::core::pool::Cancel;

/// A cancellation handle, optionally with a deadline, that any number of calls may share
/// (blocking `oidc_oauth_send` and non-blocking `*_async` alike). Thread safe:
/// `oidc_cancel_trigger` may be called from any thread, concurrently. Once triggered it stays so.
pub struct oidc_cancel {
    pub(crate) inner: Cancel,
}

/// Create a cancel handle; `timeout_ms` > 0 gives it a deadline that many milliseconds from now
/// (0 = none): calls under it that have not completed by then end with
/// `OIDC_RESULT_DEADLINE_EXCEEDED`, on the blocking and the non-blocking path alike.
/// # Ownership: on OK `*out` is caller-owned, free with `oidc_cancel_free` (any time: calls
///   attached to it keep what they need; freeing does not cancel them).
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_cancel_new(timeout_ms: u32, out: *mut *mut oidc_cancel, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || {
        let timeout = (timeout_ms > 0).then(|| Duration::from_millis(u64::from(timeout_ms)));
        write_box(out, oidc_cancel { inner: Cancel::new(timeout) })
    })
}

/// Cancel every call under `cancel`, now and later: a non-blocking call completes once with
/// `OIDC_RESULT_CANCELLED` unless it completed already; a blocking send returns
/// `OIDC_RESULT_CANCELLED` at its next step (a poll's wait ends at once; a request in flight
/// finishes first, bounded by the client's timeouts, and its result is dropped). Idempotent.
/// NULL is ignored.
/// # Ownership: `cancel` borrowed.
/// # Thread safety: any thread, concurrently.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_cancel_trigger(cancel: *const oidc_cancel) {
    ffi_guard((), || {
        // SAFETY: cancel is NULL or live (API contract).
        if let Some(c) = unsafe { cancel.as_ref() } {
            c.inner.cancel();
        }
    })
}

/// 1 if `oidc_cancel_trigger` was called on `cancel`, else 0 (also for NULL).
/// # Ownership: `cancel` borrowed.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_cancel_is_cancelled(cancel: *const oidc_cancel) -> u32 {
    // SAFETY: cancel is NULL or live (API contract).
    ffi_guard(0, || unsafe { cancel.as_ref() }.map(|c| u32::from(c.inner.is_cancelled())).unwrap_or(0))
}

/// Free a cancel handle. NULL is accepted. Calls attached to it are not cancelled.
/// # Ownership: consumes `cancel`.
/// # Thread safety: not concurrently with other calls taking this handle.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_cancel_free(cancel: *mut oidc_cancel) {
    // SAFETY: cancel came from oidc_cancel_new (API contract).
    unsafe { free_box(cancel) }
}

/// The core handle behind `cancel` (NULL: none), as the call's own reference: taken at once, so
/// that a completion callback that frees the handle (allowed at any time) while the initiating
/// call is still returning leaves nothing of ours pointing at it.
pub(crate) fn cancel_owned(cancel: *const oidc_cancel) -> Option<Cancel> {
    // SAFETY: cancel is NULL or a live handle at the start of the initiating call (API contract).
    unsafe { cancel.as_ref() }.map(|c| c.inner.clone())
}
