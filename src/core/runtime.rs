//! Per-process machinery that must not survive a `fork()`: the fork generation and slots whose
//! contents (worker pools, HTTP agents, single-flight locks) are re-created lazily in a child.
//!
//! After `fork()` only the forking thread exists in the child. A lock another parent thread held
//! at that moment stays locked forever, a pool's worker threads are gone, and a pooled HTTP agent
//! holds keep-alive TLS connections whose state the parent keeps using. So nothing of that kind is
//! reached through a plain field: it lives in a [`PerFork`] slot tagged with the generation that
//! created it. The `pthread_atfork` child handler (in `crate::sys`) only bumps [`FORK_GENERATION`];
//! the first use in the child sees the tag differ and swaps in a fresh value, lock-free
//! (`arc-swap`). The parent's value is kept, never dropped, in the child: dropping it could take a
//! lock held by a thread that no longer exists, or shut down TLS sessions the parent still uses.
//!
//! Everything a child may reach uses `std::sync` primitives (a futex on the lock's own word), not
//! `parking_lot`: parking_lot parks threads in one process-global hash table whose bucket locks
//! a parent thread may hold at `fork()` time, and a child thread that parks (or merely starts and
//! grows the table) would then wait forever.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::{ArcSwap, ArcSwapOption};
use once_cell::sync::Lazy;
use std::sync::{Condvar, Mutex, MutexGuard};

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

type Relic = Arc<dyn std::any::Any + Send + Sync>;

/// Values of older generations, kept (never dropped) so they stay reachable: dropping one could
/// take a lock a vanished parent thread held, or close TLS sessions the parent still uses; keeping
/// them reachable also keeps leak checkers (valgrind follows fork) quiet. A lock-free list.
static RELICS: Lazy<ArcSwap<Vec<Relic>>> = Lazy::new(|| ArcSwap::from_pointee(Vec::new()));

fn keep_forever(r: Relic) {
    RELICS.rcu(|v| {
        let mut v = Vec::clone(v);
        v.push(r.clone());
        v
    });
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

impl<T: Send + Sync + 'static> Default for PerFork<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + Sync + 'static> PerFork<T> {
    pub const fn new() -> Self {
        PerFork { cell: ArcSwapOption::const_empty(), building: AtomicU64::new(0) }
    }

    /// The value of the current generation, if built.
    pub fn current(&self) -> Option<Arc<Gen<T>>> {
        let g = fork_generation();
        self.cell.load_full().filter(|v| v.generation == g)
    }

    /// Remove and return the value of the current generation (the next use builds a new one).
    pub fn take_current(&self) -> Option<Arc<Gen<T>>> {
        let g = fork_generation();
        let cur = self.cell.load_full().filter(|v| v.generation == g)?;
        let prev = self.cell.compare_and_swap(&Some(cur.clone()), None);
        let won = prev.as_ref().is_some_and(|p| Arc::ptr_eq(p, &cur));
        drop(prev);
        won.then_some(cur)
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
                // Reset the claim however the build ends (error or panic), or waiters would spin.
                struct Release<'a>(&'a AtomicU64);
                impl Drop for Release<'_> {
                    fn drop(&mut self) {
                        self.0.store(0, Ordering::Release);
                    }
                }
                let _release = Release(&self.building);
                let built = (make.take().expect("one build per call"))()?;
                let new = Arc::new(Gen { generation: g, value: built });
                if let Some(old) = self.cell.swap(Some(new.clone())) {
                    if old.generation != g {
                        keep_forever(old);
                    }
                }
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

/// Lock a std mutex, ignoring poisoning (the data it guards stays consistent: writers publish
/// whole values).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A lock held across network fetches (the single-flight locks). A child process never inherits
/// it locked: each fork generation gets its own.
#[derive(Default)]
pub struct ForkMutex {
    slot: PerFork<Arc<GenLock>>,
}

#[derive(Default)]
pub struct GenLock {
    held: Mutex<bool>,
    cv: Condvar,
}

/// A held [`ForkMutex`]; released on drop.
pub struct ForkGuard {
    lock: Arc<GenLock>,
}

impl Drop for ForkGuard {
    fn drop(&mut self) {
        *lock(&self.lock.held) = false;
        self.lock.cv.notify_one();
    }
}

impl ForkMutex {
    pub const fn new() -> Self {
        ForkMutex { slot: PerFork::new() }
    }

    pub fn lock(&self) -> ForkGuard {
        let l = self.slot.get_or_init(|| Arc::new(GenLock::default())).value.clone();
        let mut held = lock(&l.held);
        while *held {
            held = l.cv.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        *held = true;
        drop(held);
        ForkGuard { lock: l }
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
        assert_eq!(
            **slot.get_or_init(|| {
                builds += 1;
                7
            }),
            7
        );
        assert_eq!(
            **slot.get_or_init(|| {
                builds += 1;
                8
            }),
            7
        );
        assert_eq!(builds, 1);
        // As in a forked child: the lock held "by a parent thread" does not block us.
        note_fork();
        let _again = m.lock();
        assert_eq!(**slot.get_or_init(|| 9), 9);
        drop(held);
    }
}
