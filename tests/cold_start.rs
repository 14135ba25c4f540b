//! The cold start's largest cost was the crypto library collecting CPU jitter entropy before its
//! first random bytes (45-120 ms of CPU at the first TLS handshake of every process).
//! `.cargo/config.toml` builds aws-lc to seed from the operating system instead
//! (`AWS_LC_SYS_NO_JITTER_ENTROPY`); this pins it. One test in a binary of its own, so that
//! nothing in the process drew random bytes before. CPU time of the thread, not wall time:
//! other load on the machine does not count.

fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid timespec to write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

#[test]
fn first_random_bytes_are_cheap() {
    let before = thread_cpu_ms();
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b).expect("random bytes");
    let first = thread_cpu_ms() - before;
    assert_ne!(b, [0u8; 32]);
    // The OS-seeded generator takes well under a millisecond; jitter collection takes 45 ms or
    // more of CPU.
    assert!(first < 15.0, "the first random bytes took {first:.1} ms of CPU: is aws-lc collecting jitter entropy again?");
}
