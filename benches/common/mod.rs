//! Timing helpers shared by the benches that measure thread CPU time per call.

/// This thread's CPU time, in nanoseconds (preemption by other processes does not count).
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Thread CPU nanoseconds per call of `f`, over `n` calls.
pub fn per_call(n: u64, f: &mut dyn FnMut()) -> f64 {
    let t = thread_cpu_ns();
    for _ in 0..n {
        f();
    }
    (thread_cpu_ns() - t) as f64 / n as f64
}

/// The median (sorts `v`).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
