//! Observability: the process-wide log callback and the counters as JSON.

use std::ffi::{c_char, c_void};

use serde_json::{Map, Value, json};

use super::boundary::{ffi_boundary, write_owned_string};
use super::error::{FfiError, code_for, oidc_error, oidc_result};
use crate::core::log::{self, Level};
use crate::core::{cache, metrics, pool, runtime};

/// A log message: `level` 1 error, 2 warn, 3 info, 4 debug, 5 trace; `target` names the
/// component ("oidc::cache", "oidc::discovery", "oidc::pool", "oidc::fork", "oidc::snapshot");
/// `message` is English text without secrets, tokens or keys (URLs are shown without query or
/// credentials). Both strings are borrowed for the duration of the call and not NUL-terminated.
pub type oidc_log_cb = Option<
    extern "C" fn(user_data: *mut c_void, level: u32, target: *const c_char, target_len: usize, message: *const c_char, message_len: usize),
>;

struct LogTarget {
    cb: extern "C" fn(*mut c_void, u32, *const c_char, usize, *const c_char, usize),
    user_data: *mut c_void,
}
// SAFETY: the host promised (oidc_set_log_callback) that cb and user_data may be used from any
// thread, concurrently, until the callback is replaced.
unsafe impl Send for LogTarget {}
// SAFETY: as above.
unsafe impl Sync for LogTarget {}

/// Install the process-wide log callback, or remove it with `cb` NULL. Messages up to
/// `max_level` (1 error ... 5 trace) are delivered: fetches, refresh failures, cooldown
/// suppressions, stale keys served, pool overload, fork re-initialisation.
/// # Ownership: `user_data` is handed back to `cb` untouched; it must stay valid until the
///   callback is replaced or removed, and a little longer: a message being delivered on another
///   thread at that moment may still reach the old callback.
/// # Thread safety: any thread. `cb` may be called on any thread, concurrently, including
///   threads of the host that are inside a liboidc call; it must not call back into liboidc's
///   logging setup and must not block for long.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_set_log_callback(
    cb: oidc_log_cb,
    user_data: *mut c_void,
    max_level: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        let Some(cb) = cb else {
            log::set_sink(None, Level::Error);
            return Ok(());
        };
        let max = Level::from_u32(max_level)
            .ok_or_else(|| FfiError::new(oidc_result::InvalidArgument, "max_level must be 1 (error) to 5 (trace)"))?;
        let t = LogTarget { cb, user_data };
        log::set_sink(
            Some(Box::new(move |level: Level, target: &str, msg: &str| {
                let t = &t;
                (t.cb)(t.user_data, level as u32, target.as_ptr().cast(), target.len(), msg.as_ptr().cast(), msg.len());
            })),
            max,
        );
        Ok(())
    })
}

/// The process-wide counters as a JSON object:
/// `{"validations":{"ok","failed","failed_by_reason":{"UNKNOWN_KEY":n,...}},
///   "cache":{"hits","misses","entries","jwks_fetches","jwks_not_modified","jwks_fetch_failures",
///            "background_refreshes","refresh_failures","cooldown_suppressed","stale_served"},
///   "token_cache":{"hits","misses"} (the verified-token caches of all clients),
///   "discovery":{"fetches","failures"}, "snapshot":{"imported","skipped"},
///   "async":{"in_flight","queue_depth","threads","submitted","completed","cancelled",
///            "deadline_exceeded","rejected_queue_full"}, "fork_generation":n}`.
/// Reasons are result names (`oidc_result_name`). Counters only grow (`in_flight` and
/// `queue_depth` are gauges); in a forked child they continue from the parent's values.
/// # Ownership: on OK `*json_out` is caller-owned, free with `oidc_string_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_metrics_json(json_out: *mut *mut c_char, json_len_out: *mut usize, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || write_owned_string(json_out, json_len_out, metrics_json().to_string()))
}

/// The counters as JSON (also used by tests and the benchmark).
pub fn metrics_json() -> Value {
    use metrics::*;
    let mut by_reason = Map::new();
    for (k, n) in failures_by_kind() {
        by_reason.insert(code_for(k).name().to_str().unwrap_or("?").to_string(), n.into());
    }
    let (in_flight, depth, threads) = match pool::current() {
        Some(p) => (p.in_flight(), p.queue_depth(), p.threads()),
        None => (0, 0, 0),
    };
    json!({
        "validations": {"ok": VALIDATIONS_OK.get(), "failed": VALIDATIONS_FAILED.get(), "failed_by_reason": by_reason},
        "cache": {
            "hits": CACHE_HITS.get(), "misses": CACHE_MISSES.get(), "entries": cache::GLOBAL.len(),
            "jwks_fetches": JWKS_FETCHES.get(), "jwks_not_modified": JWKS_NOT_MODIFIED.get(),
            "jwks_fetch_failures": JWKS_FETCH_FAILURES.get(), "background_refreshes": BACKGROUND_REFRESHES.get(),
            "refresh_failures": REFRESH_FAILURES.get(), "cooldown_suppressed": COOLDOWN_SUPPRESSED.get(),
            "stale_served": STALE_SERVED.get(),
        },
        "token_cache": {"hits": TOKEN_CACHE_HITS.get(), "misses": TOKEN_CACHE_MISSES.get()},
        "discovery": {"fetches": DISCOVERY_FETCHES.get(), "failures": DISCOVERY_FAILURES.get()},
        "snapshot": {"imported": SNAPSHOT_IMPORTED.get(), "skipped": SNAPSHOT_SKIPPED.get()},
        "async": {
            "in_flight": in_flight, "queue_depth": depth, "threads": threads,
            "submitted": ASYNC_SUBMITTED.get(), "completed": ASYNC_COMPLETED.get(),
            "cancelled": ASYNC_CANCELLED.get(), "deadline_exceeded": ASYNC_DEADLINE_EXCEEDED.get(),
            "rejected_queue_full": ASYNC_REJECTED.get(),
        },
        "fork_generation": runtime::fork_generation(),
    })
}
