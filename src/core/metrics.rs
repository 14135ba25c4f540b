//! Process-wide counters: what an operator needs to see a key-rotation outage as it happens
//! (validations failing with UNKNOWN_KEY, refresh failures, cooldown suppressions, stale keys
//! served). Relaxed atomics: cheap on the hot path, read as a consistent-enough snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

use super::error::ErrorKind;

/// Slots for failures by kind, indexed by the kind's discriminant.
const KIND_SLOTS: usize = 96;

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);

/// A named process-wide counter.
pub struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

pub static VALIDATIONS_OK: Counter = Counter::new();
pub static VALIDATIONS_FAILED: Counter = Counter::new();
static FAILED_BY_KIND: [AtomicU64; KIND_SLOTS] = [ZERO; KIND_SLOTS];
/// Validations answered from cached keys / that had to wait for (or start) a fetch.
pub static CACHE_HITS: Counter = Counter::new();
pub static CACHE_MISSES: Counter = Counter::new();
/// Validations answered by a client's verified-token cache / that validated in full with it on.
pub static TOKEN_CACHE_HITS: Counter = Counter::new();
pub static TOKEN_CACHE_MISSES: Counter = Counter::new();
/// JWKS fetches attempted, answered 304, failed.
pub static JWKS_FETCHES: Counter = Counter::new();
pub static JWKS_NOT_MODIFIED: Counter = Counter::new();
pub static JWKS_FETCH_FAILURES: Counter = Counter::new();
/// Background (refresh-ahead) refreshes run, and those that failed.
pub static BACKGROUND_REFRESHES: Counter = Counter::new();
pub static REFRESH_FAILURES: Counter = Counter::new();
/// Unknown-`kid` refreshes suppressed by the cooldown.
pub static COOLDOWN_SUPPRESSED: Counter = Counter::new();
/// Validations answered with expired keys (stale-if-error) while refreshes fail.
pub static STALE_SERVED: Counter = Counter::new();
pub static DISCOVERY_FETCHES: Counter = Counter::new();
pub static DISCOVERY_FAILURES: Counter = Counter::new();
/// Key sets / metadata documents taken from an imported snapshot, and snapshot entries skipped.
pub static SNAPSHOT_IMPORTED: Counter = Counter::new();
pub static SNAPSHOT_SKIPPED: Counter = Counter::new();
/// Non-blocking calls accepted, completed (callback run), cancelled, past their deadline, and
/// refused because the queue was full.
pub static ASYNC_SUBMITTED: Counter = Counter::new();
/// Revocation-list fetches sent, failed (network, status, invalid, unverifiable or rolled-back
/// lists), and validations accepted by the fail-open policy without a usable list.
pub static REVOCATION_FETCHES: Counter = Counter::new();
pub static REVOCATION_FAILURES: Counter = Counter::new();
pub static REVOCATION_FAIL_OPEN: Counter = Counter::new();
pub static ASYNC_COMPLETED: Counter = Counter::new();
pub static ASYNC_CANCELLED: Counter = Counter::new();
pub static ASYNC_DEADLINE_EXCEEDED: Counter = Counter::new();
pub static ASYNC_REJECTED: Counter = Counter::new();

/// Record the outcome of one validation.
pub fn validation(outcome: Result<(), ErrorKind>) {
    match outcome {
        Ok(()) => VALIDATIONS_OK.inc(),
        Err(k) => {
            VALIDATIONS_FAILED.inc();
            let i = (k as usize).min(KIND_SLOTS - 1);
            FAILED_BY_KIND[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Failed validations per kind (only kinds that occurred).
pub fn failures_by_kind() -> Vec<(ErrorKind, u64)> {
    KINDS
        .iter()
        .filter_map(|k| {
            let n = FAILED_BY_KIND[*k as usize].load(Ordering::Relaxed);
            (n > 0).then_some((*k, n))
        })
        .collect()
}

/// Every error kind, in declaration order (`KINDS[i] as usize == i`, checked by a test); generated
/// from codes.in into `error_kinds.rs`.
pub const KINDS: &[ErrorKind] = &ErrorKind::ALL;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_table_is_in_discriminant_order() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?}");
        }
    }
}
