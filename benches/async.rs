//! Warm-cache throughput of the non-blocking path (`oidc_validate_async`, completion callbacks
//! on the worker pool) against the blocking path (`oidc_validate` on the caller's threads), both
//! through the C ABI, on the same client and token, in one run.
//!
//!     CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench async
//!
//! Blocking: 2 host threads call `oidc_validate` in a loop. Non-blocking: one host thread (an
//! event loop) keeps up to `WINDOW` calls in flight; the pool has 2 workers; the callback counts
//! and wakes the host when half the window drained. Keys come from a loopback HTTPS issuer and
//! are cached before measuring (no network while measuring). Rounds of the two modes alternate;
//! the median round of each is reported, and the ratio async / blocking.
//!
//! Knobs: `OIDC_BENCH_ROUNDS` (default 7), `OIDC_BENCH_ROUND_MS` (default 1000),
//! `OIDC_BENCH_ALGS` (default "ES256,RS256,EdDSA").

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::oidc_string_free;
use oidc::ffi::oidc_result;
use oidc::ffi::pool::oidc_async_configure;
use oidc::ffi::validator::*;
use oidc_testkit::{Alg, FixtureServer, TestCa, TestKey, keys};

const WINDOW: u64 = 256;
const THREADS: usize = 2;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ok(rc: oidc_result) {
    assert_eq!(rc, oidc_result::Ok);
}

fn put(
    f: extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result,
    b: *mut oidc_validator_builder,
    v: &str,
) {
    ok(f(b, v.as_ptr().cast(), v.len(), std::ptr::null_mut()));
}

struct Flow {
    outstanding: AtomicU64,
    completed: AtomicU64,
    failed: AtomicBool,
    lock: Mutex<()>,
    cv: Condvar,
}

extern "C" fn on_done(ud: *mut c_void, rc: oidc_result, _c: *const c_char, _l: usize, _e: *const oidc_error) {
    let f = unsafe { &*(ud as *const Flow) };
    if rc != oidc_result::Ok {
        f.failed.store(true, Ordering::Relaxed);
    }
    f.completed.fetch_add(1, Ordering::Relaxed);
    if f.outstanding.fetch_sub(1, Ordering::AcqRel) == WINDOW / 2 {
        let _g = f.lock.lock().unwrap();
        f.cv.notify_one();
    }
}

#[derive(Clone, Copy)]
struct Client(*mut oidc_validator);
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

fn blocking_round(c: Client, token: &str, d: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let hs: Vec<_> = (0..THREADS)
        .map(|_| {
            let (stop, tok) = (stop.clone(), token.to_string());
            std::thread::spawn(move || {
                let c = c;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let mut out: *mut c_char = std::ptr::null_mut();
                    ok(oidc_validate(c.0, tok.as_ptr().cast(), tok.len(), &mut out, std::ptr::null_mut(), std::ptr::null_mut()));
                    oidc_string_free(out);
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(d);
    stop.store(true, Ordering::Relaxed);
    let n: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    n as f64 / t0.elapsed().as_secs_f64()
}

fn async_round(c: Client, token: &str, d: Duration, flow: &Arc<Flow>) -> f64 {
    let start = flow.completed.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let end = t0 + d;
    let ud = Arc::as_ptr(flow) as *mut c_void;
    while Instant::now() < end {
        while flow.outstanding.load(Ordering::Acquire) < WINDOW {
            flow.outstanding.fetch_add(1, Ordering::AcqRel);
            ok(oidc_validate_async(c.0, token.as_ptr().cast(), token.len(), Some(on_done), ud, std::ptr::null(), std::ptr::null_mut()));
        }
        let g = flow.lock.lock().unwrap();
        if flow.outstanding.load(Ordering::Acquire) >= WINDOW / 2 {
            let _ = flow.cv.wait_timeout(g, Duration::from_millis(5)).unwrap();
        }
    }
    let n = flow.completed.load(Ordering::Relaxed) - start;
    let rate = n as f64 / t0.elapsed().as_secs_f64();
    // Drain before the next round.
    while flow.outstanding.load(Ordering::Acquire) > 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!flow.failed.load(Ordering::Relaxed), "a non-blocking validation failed");
    rate
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` probes
    }
    let rounds = env("OIDC_BENCH_ROUNDS", 7) as usize;
    let round = Duration::from_millis(env("OIDC_BENCH_ROUND_MS", 1000));
    let algs = std::env::var("OIDC_BENCH_ALGS").unwrap_or_else(|_| "ES256,RS256,EdDSA".into());
    ok(oidc_async_configure(THREADS as u32, 4096, std::ptr::null_mut()));
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    println!(
        "liboidc warm-cache validation: blocking ({THREADS} host threads) vs non-blocking (1 host thread, {THREADS} pool workers, window {WINDOW}); {cpus} CPUs, {rounds} rounds of {} ms, median",
        round.as_millis()
    );
    println!("{:<6} {:>14} {:>14} {:>7}", "alg", "blocking/s", "async/s", "ratio");
    let ca = TestCa::new();
    let flow = Arc::new(Flow {
        outstanding: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        failed: AtomicBool::new(false),
        lock: Mutex::new(()),
        cv: Condvar::new(),
    });
    for name in algs.split(',') {
        let alg = Alg::parse(name.trim()).expect("known alg");
        let key = TestKey::generate(alg);
        let srv = FixtureServer::start_https(&ca); // one issuer (and key-cache entry) per algorithm
        let issuer = srv.install_oidc(&[&key]);
        let token = key.sign(&keys::claims(&issuer, "api", "alice", 3600));
        let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
        ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()));
        put(oidc_validator_builder_set_issuer, b, &issuer);
        put(oidc_validator_builder_add_audience, b, "api");
        put(oidc_validator_builder_set_ca_file, b, ca.ca_pem_path().to_str().unwrap());
        let mut c: *mut oidc_validator = std::ptr::null_mut();
        ok(oidc_validator_builder_build(b, &mut c, std::ptr::null_mut()));
        ok(oidc_validator_prefetch(c, std::ptr::null_mut()));
        let c = Client(c);
        blocking_round(c, &token, Duration::from_millis(300));
        async_round(c, &token, Duration::from_millis(300), &flow);
        let (mut bl, mut asy) = (Vec::new(), Vec::new());
        for r in 0..rounds {
            if r % 2 == 0 {
                bl.push(blocking_round(c, &token, round));
                asy.push(async_round(c, &token, round, &flow));
            } else {
                asy.push(async_round(c, &token, round, &flow));
                bl.push(blocking_round(c, &token, round));
            }
        }
        let (mb, ma) = (median(bl), median(asy));
        println!("{:<6} {:>14.0} {:>14.0} {:>7.2}", name.trim(), mb, ma, ma / mb);
        oidc_validator_free(c.0);
    }
}
