//! Platform glue that needs `unsafe`, kept out of the core behind safe functions.

use std::sync::Once;

static INSTALL: Once = Once::new();

extern "C" fn child_after_fork() {
    // Runs in the child right after fork(), while it has a single thread. Only an atomic
    // increment happens here: no allocation, no lock.
    crate::core::runtime::note_fork();
}

/// Register the `pthread_atfork` child handler that moves the fork generation on, once per
/// process. Safe to call from any thread, any number of times.
pub fn install_fork_handler() {
    INSTALL.call_once(|| {
        #[cfg(unix)]
        // SAFETY: pthread_atfork only records the function pointers; `child_after_fork` is an
        // `extern "C"` fn that never unwinds (an atomic add) and is async-signal-safe.
        unsafe {
            libc::pthread_atfork(None, None, Some(child_after_fork));
        }
    });
}
