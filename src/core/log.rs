//! The process-wide log sink. Messages are written by liboidc (URLs redacted, never a token, a
//! secret or a key); the host installs a sink and a maximum level. May be called from any thread.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use arc_swap::ArcSwapOption;

/// Severity; smaller is more severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl Level {
    pub fn from_u32(v: u32) -> Option<Level> {
        Some(match v {
            1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            4 => Level::Debug,
            5 => Level::Trace,
            _ => return None,
        })
    }
}

/// A log sink: `(level, target, message)`.
pub type Sink = dyn Fn(Level, &str, &str) + Send + Sync;

static SINK: ArcSwapOption<Box<Sink>> = ArcSwapOption::const_empty();
static MAX: AtomicU8 = AtomicU8::new(0);

/// Install (or with `None` remove) the sink; messages above `max` are not even formatted.
pub fn set_sink(sink: Option<Box<Sink>>, max: Level) {
    match sink {
        Some(s) => {
            SINK.store(Some(Arc::new(s)));
            MAX.store(max as u8, Ordering::Release);
        }
        None => {
            MAX.store(0, Ordering::Release);
            SINK.store(None);
        }
    }
}

/// Whether a message at `level` would be delivered.
pub fn enabled(level: Level) -> bool {
    (level as u8) <= MAX.load(Ordering::Acquire)
}

/// Most messages held back on one thread while it holds liboidc locks.
const MAX_HELD: usize = 64;

thread_local! {
    static HOLDS: Cell<u32> = const { Cell::new(0) };
    static HELD: RefCell<Vec<(Level, String, String)>> = const { RefCell::new(Vec::new()) };
}

/// While the returned guard lives, this thread's messages are held back, and delivered when the
/// last guard drops. Take it BEFORE a lock that a liboidc call could need, so that the guard
/// outlives the lock guard (locals drop in reverse order): the host's log callback then never
/// runs while liboidc holds that lock, and may call liboidc itself (even the same client).
#[must_use = "messages are held only while the guard lives"]
pub fn hold() -> Hold {
    HOLDS.with(|h| h.set(h.get() + 1));
    Hold(())
}

/// See [`hold`].
pub struct Hold(());

impl Drop for Hold {
    fn drop(&mut self) {
        let left = HOLDS.with(|h| {
            let n = h.get().saturating_sub(1);
            h.set(n);
            n
        });
        if left == 0 {
            let held = HELD.with(|m| std::mem::take(&mut *m.borrow_mut()));
            if let Some(s) = SINK.load_full() {
                for (level, target, msg) in held {
                    if enabled(level) {
                        s(level, &target, &msg);
                    }
                }
            }
        }
    }
}

/// Deliver a message built by `msg` when `level` is enabled. `target` names the component
/// (`oidc::cache`, `oidc::discovery`, `oidc::pool`, `oidc::fork`). Under a [`hold`] the message
/// waits until the hold ends.
pub fn emit(level: Level, target: &str, msg: impl FnOnce() -> String) {
    if !enabled(level) {
        return;
    }
    if HOLDS.with(Cell::get) > 0 {
        HELD.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() < MAX_HELD {
                m.push((level, target.to_string(), msg()));
            }
        });
        return;
    }
    if let Some(s) = SINK.load_full() {
        let m = msg();
        s(level, target, &m);
    }
}
