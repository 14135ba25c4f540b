//! Per-process machinery that must not survive a `fork()`: the fork generation and slots whose
//! contents (worker pools, HTTP agents, single-flight locks) are re-created lazily in a child.
//!
//! After `fork()` only the forking thread exists in the child. A lock another parent thread held
//! at that moment stays locked forever, a pool's worker threads are gone, and a pooled HTTP agent
//! holds keep-alive TLS connections whose state the parent keeps using. So nothing of that kind is
//! reached through a plain field: it lives in a [`PerFork`] slot tagged with the generation that
//! created it. The `pthread_atfork` child handler (in `crate::sys`) only bumps [`FORK_GENERATION`];
//! the first use in the child sees the tag differ and swaps in a fresh value, lock-free
//! (`arc-swap`). The parent's value is leaked on purpose in the child: dropping it could take a
//! lock held by a thread that no longer exists, or shut down TLS sessions the parent still uses.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwapOption;
use parking_lot::{Mutex, RawMutex, lock_api::ArcMutexGuard};

static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

/// How many `fork()`s separate this process from the one that loaded liboidc.
pub fn fork_generation() -> u64 {
    FORK_GENERATION.load(Ordering::Acquire)
}

/// Called by the `pthread_atfork` child handler (and by tests): start a new generation.
pub fn note_fork() {
    FORK_GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// Make sure the fork handler is installed (idempotent, cheap).
pub fn ensure_fork_handler() {
    crate::sys::install_fork_handler();
}

/// A value of one fork generation.
pub struct Gen<T> {
    pub generation: u64,
    pub value: T,
}

impl<T> std::ops::Deref for Gen<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// A lazily built, per-fork-generation value (see the module docs).
pub struct PerFork<T> {
    cell: ArcSwapOption<Gen<T>>,
    /// `generation + 1` of the build in progress (0: none). Only one thread builds.
    building: AtomicU64,
}

impl<T> Default for PerFork<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PerFork<T> {
    pub const fn new() -> Self {
        PerFork { cell: ArcSwapOption::const_empty(), building: AtomicU64::new(0) }
    }

    /// The value of the current generation, if built.
    pub fn current(&self) -> Option<Arc<Gen<T>>> {
        let g = fork_generation();
        self.cell.load_full().filter(|v| v.generation == g)
    }

    /// The value of the current generation, built with `make` if there is none yet (one builder;
    /// others wait for it). A value of an older generation is leaked, never dropped.
    pub fn get_or_try_init<E>(&self, make: impl FnOnce() -> Result<T, E>) -> Result<Arc<Gen<T>>, E> {
        let mut make = Some(make);
        loop {
            let g = fork_generation();
            if let Some(v) = self.cell.load_full() {
                if v.generation == g {
                    return Ok(v);
                }
            }
            let seen = self.building.load(Ordering::Acquire);
            if seen != g + 1 && self.building.compare_exchange(seen, g + 1, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                let built = match (make.take().expect("one build per call"))() {
                    Ok(v) => v,
                    Err(e) => {
                        self.building.store(0, Ordering::Release);
                        return Err(e);
                    }
                };
                let new = Arc::new(Gen { generation: g, value: built });
                if let Some(old) = self.cell.swap(Some(new.clone())) {
                    if old.generation != g {
                        std::mem::forget(old);
                    }
                }
                self.building.store(0, Ordering::Release);
                return Ok(new);
            }
            std::thread::yield_now();
        }
    }

    /// Like [`get_or_try_init`](Self::get_or_try_init) with an infallible builder.
    pub fn get_or_init(&self, make: impl FnOnce() -> T) -> Arc<Gen<T>> {
        match self.get_or_try_init(|| Ok::<T, std::convert::Infallible>(make())) {
            Ok(v) => v,
            Err(e) => match e {},
        }
    }
}

/// A mutex that a child process never inherits locked: each fork generation gets its own.
/// Used for the single-flight locks held across network fetches.
#[derive(Default)]
pub struct ForkMutex {
    slot: PerFork<Arc<Mutex<()>>>,
}

/// A held [`ForkMutex`].
pub type ForkGuard = ArcMutexGuard<RawMutex, ()>;

impl ForkMutex {
    pub const fn new() -> Self {
        ForkMutex { slot: PerFork::new() }
    }

    pub fn lock(&self) -> ForkGuard {
        let m = self.slot.get_or_init(|| Arc::new(Mutex::new(())));
        m.value.lock_arc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_generation_gets_a_fresh_lock_and_value() {
        let m = ForkMutex::new();
        let held = m.lock();
        let slot: PerFork<u32> = PerFork::new();
        let mut builds = 0;
        assert_eq!(**slot.get_or_init(|| { builds += 1; 7 }), 7);
        assert_eq!(**slot.get_or_init(|| { builds += 1; 8 }), 7);
        assert_eq!(builds, 1);
        // As in a forked child: the lock held "by a parent thread" does not block us.
        note_fork();
        let _again = m.lock();
        assert_eq!(**slot.get_or_init(|| 9), 9);
        drop(held);
    }
}
