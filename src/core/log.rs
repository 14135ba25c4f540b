//! The process-wide log sink. Messages are written by liboidc (URLs redacted, never a token, a
//! secret or a key); the host installs a sink and a maximum level. May be called from any thread.

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

/// Deliver a message built by `msg` when `level` is enabled. `target` names the component
/// (`oidc::cache`, `oidc::discovery`, `oidc::pool`, `oidc::fork`).
pub fn emit(level: Level, target: &str, msg: impl FnOnce() -> String) {
    if !enabled(level) {
        return;
    }
    if let Some(s) = SINK.load_full() {
        let m = msg();
        s(level, target, &m);
    }
}
