//! `oidc_async_shutdown`: the worker pool stops and its threads are joined, queued calls complete
//! with CANCELLED, running ones finish, polls waiting on the timer for their next step complete
//! CANCELLED (no further request), every callback runs exactly once, and the next call starts a
//! new pool. One test function on purpose: shutting the process-wide pool down would disturb
//! tests running beside it, so this binary holds nothing else.

mod common;

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::cabi::*;
use common::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{oidc_error_code, oidc_error_free};
use oidc::ffi::oidc_result;
use oidc::ffi::pool::*;
use oidc::ffi::validator::*;

/// liboidc's pool threads alive in this process, by their names.
fn pool_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|n| n.starts_with("oidc-worker") || n.starts_with("oidc-completer"))
        .count()
}

/// After a successful shutdown: no pool thread left. A joined thread's /proc entry may outlive
/// `pthread_join` by a moment (the kernel wakes the joiner when the thread clears its tid, just
/// before it is reaped), so allow it that moment, no more.
fn assert_joined() {
    wait_for("the joined pool threads to leave /proc", Duration::from_millis(500), || pool_threads() == 0);
}

fn wait_for(what: &str, within: Duration, f: impl Fn() -> bool) {
    let end = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn shutdown(ms: u32) -> oidc_result {
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let rc = oidc_async_shutdown(ms, &mut err);
    if rc != oidc_result::Ok {
        assert_eq!(oidc_error_code(err), rc);
    }
    oidc_error_free(err);
    rc
}

fn submit_all(client: *const oidc_validator, token: &str, b: &std::sync::Arc<Batch>, range: std::ops::Range<usize>) {
    for i in range {
        ok(validate_async(client, token, b, i, std::ptr::null()));
    }
}

static FROM_CALLBACK: AtomicU32 = AtomicU32::new(u32::MAX);
static CALLBACK_RAN: AtomicUsize = AtomicUsize::new(0);

extern "C" fn shutdown_from_callback(_: *mut c_void, _: oidc_result, _: *const std::ffi::c_char, _: usize, _: *const oidc_error) {
    FROM_CALLBACK.store(oidc_async_shutdown(1000, std::ptr::null_mut()) as u32, Ordering::Release);
    CALLBACK_RAN.fetch_add(1, Ordering::AcqRel);
}

/// A device poll continuing `da` (its own deadline 600 s), started with slot `i` of `b`.
fn poll_async(c: &Client, da: &Resp, b: &std::sync::Arc<Batch>, i: usize) {
    ok(poll_req(c, da).int(P::OIDC_PARAM_DEADLINE_MS, 600_000).submit(b, i, std::ptr::null()));
}

#[test]
fn shutdown_joins_the_pool_answers_every_call_once_and_a_new_pool_starts_on_demand() {
    // 1. No pool yet: nothing to do.
    assert_eq!(pool_threads(), 0);
    assert_eq!(shutdown(1000), oidc_result::Ok);
    ok(oidc_async_configure(2, 4096, std::ptr::null_mut()));

    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let token = k.sign(&idp.claims());

    // 2. Warm calls, then shutdown: all threads gone, joined.
    let client = c_client(&idp, 10_000);
    let b = Batch::new(100);
    submit_all(client, &token, &b, 0..100);
    assert!(b.wait(100, Duration::from_secs(20)));
    wait_for("2 workers + the completer", Duration::from_secs(5), || pool_threads() == 3);
    assert_eq!(shutdown(10_000), oidc_result::Ok);
    assert_joined();
    assert!((0..100).all(|i| b.calls[i].load(Ordering::Acquire) == 1 && b.code(i) == 0));

    // 3. The next call starts a new pool, lazily.
    let b = Batch::new(1);
    submit_all(client, &token, &b, 0..1);
    assert!(b.wait(1, Duration::from_secs(20)));
    assert_eq!(b.code(0), 0);
    wait_for("a new pool", Duration::from_secs(5), || pool_threads() == 3);

    // 4. Calls in flight: 2 workers block on a slow key fetch (cold client), 48 wait in the queue.
    //    The queued ones complete CANCELLED without starting, the running ones finish; each once.
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&k])).with_delay(Duration::from_millis(400)));
    let k2 = TestKey::generate(Alg::ES256);
    let idp2 = common::idp(&[&k2]);
    idp2.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&k2])).with_delay(Duration::from_millis(400)));
    let cold = c_client(&idp2, 10_000);
    let token2 = k2.sign(&idp2.claims());
    let n = 50;
    let b = Batch::new(n);
    submit_all(cold, &token2, &b, 0..n);
    let t0 = Instant::now();
    assert_eq!(shutdown(10_000), oidc_result::Ok);
    assert!(t0.elapsed() < Duration::from_secs(9));
    assert_joined();
    assert_eq!(b.done.load(Ordering::Acquire), n, "every callback ran before shutdown returned");
    let cancelled = (0..n).filter(|&i| b.code(i) == oidc_result::Cancelled as u32).count();
    for i in 0..n {
        assert_eq!(b.calls[i].load(Ordering::Acquire), 1, "call {i}: exactly once");
        assert!(b.code(i) == 0 || b.code(i) == oidc_result::Cancelled as u32, "call {i}: {}", b.code(i));
    }
    assert!(cancelled >= n - 2, "only the 2 running calls may finish; {cancelled} of {n} cancelled");

    // 5. A running call longer than the wait: TIMEOUT, and it still completes once, later, and
    //    the threads end by themselves after it.
    let k3 = TestKey::generate(Alg::ES256);
    let idp3 = common::idp(&[&k3]);
    idp3.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&k3])).with_delay(Duration::from_millis(1500)));
    let slow = c_client(&idp3, 10_000);
    let b = Batch::new(1);
    submit_all(slow, &k3.sign(&idp3.claims()), &b, 0..1);
    wait_for("the call to start", Duration::from_secs(5), || idp3.srv.hits("/jwks") == 1);
    assert_eq!(shutdown(100), oidc_result::Timeout);
    assert!(b.wait(1, Duration::from_secs(20)));
    assert_eq!(b.code(0), 0, "a running call finishes its work");
    wait_for("the pool threads to end", Duration::from_secs(10), || pool_threads() == 0);
    assert_eq!(shutdown(1000), oidc_result::Ok, "the stopped pool is no longer current");

    // 6. From a callback: refused (a pool thread cannot join itself); the pool goes on.
    let rc = oidc_validate_async(
        client,
        token.as_ptr().cast(),
        token.len(),
        Some(shutdown_from_callback),
        NULL,
        std::ptr::null(),
        std::ptr::null_mut(),
    );
    ok(rc);
    wait_for("the callback", Duration::from_secs(10), || CALLBACK_RAN.load(Ordering::Acquire) == 1);
    assert_eq!(FROM_CALLBACK.load(Ordering::Acquire), oidc_result::InvalidArgument as u32);

    // 7. Shutdowns racing with submitters on 4 threads: every accepted call completes exactly
    //    once, OK or CANCELLED; none is lost in a pool that stopped under it.
    let n = 2000;
    let b = Batch::new(n);
    let cp = client as usize;
    let submitters: Vec<_> = (0..4)
        .map(|t| {
            let (b, tok) = (b.clone(), token.clone());
            std::thread::spawn(move || submit_all(cp as *const oidc_validator, &tok, &b, (t * n / 4)..((t + 1) * n / 4)))
        })
        .collect();
    for _ in 0..20 {
        assert_eq!(shutdown(10_000), oidc_result::Ok);
        std::thread::sleep(Duration::from_millis(1));
    }
    for h in submitters {
        h.join().unwrap();
    }
    assert!(b.wait(n, Duration::from_secs(30)), "{} of {n} callbacks", b.done.load(Ordering::Acquire));
    for i in 0..n {
        assert_eq!(b.calls[i].load(Ordering::Acquire), 1, "call {i}: exactly once");
        assert!(b.code(i) == 0 || b.code(i) == oidc_result::Cancelled as u32, "call {i}: {}", b.code(i));
    }
    assert_eq!(shutdown(10_000), oidc_result::Ok);
    assert_joined();

    // 8. Polls waiting on the completer's timer (pending, next poll in 60 s; more of them than
    //    workers, and none holds one): shutdown answers each CANCELLED once, at once, sends no
    //    further poll, and still joins every thread.
    let k4 = TestKey::generate(Alg::ES256);
    let idp4 = common::idp(&[&k4]);
    let (oc, da) = pending_device_flow(&idp4, 60);
    let n = 6;
    let b = Batch::new(n);
    for i in 0..n {
        poll_async(&oc, &da, &b, i);
    }
    wait_for("the first polls", Duration::from_secs(10), || idp4.srv.hits("/token") == n);
    std::thread::sleep(Duration::from_millis(200)); // their steps returned: all on the timer
    assert_eq!(b.done.load(Ordering::Acquire), 0, "pending");
    let t0 = Instant::now();
    assert_eq!(shutdown(10_000), oidc_result::Ok);
    assert!(t0.elapsed() < Duration::from_secs(3), "not held up by the 60 s timers: {:?}", t0.elapsed());
    assert_joined();
    assert_eq!(b.done.load(Ordering::Acquire), n, "every callback ran before shutdown returned");
    for i in 0..n {
        assert_eq!(b.calls[i].load(Ordering::Acquire), 1, "poll {i}: exactly once");
        assert_eq!(b.code(i), oidc_result::Cancelled as u32, "poll {i}");
    }
    assert_eq!(idp4.srv.hits("/token"), n, "no poll after shutdown");

    // 9. A poll that steps again right away (interval 1 s) racing with shutdown: answered once
    //    (CANCELLED, the pool stopped before its next step), and the next call starts a new pool
    //    whose polls work (after the 1 s interval: a step rescheduled by the new completer).
    let (oc1, da1) = pending_device_flow(&idp4, 1);
    let b = Batch::new(2);
    poll_async(&oc1, &da1, &b, 0);
    wait_for("the first poll", Duration::from_secs(10), || idp4.srv.hits("/token") == n + 1);
    assert_eq!(shutdown(10_000), oidc_result::Ok);
    assert_joined();
    assert!(b.wait(1, Duration::from_secs(5)));
    assert_eq!(b.code(0), oidc_result::Cancelled as u32);
    idp4.srv.set_sequence(
        "/token",
        vec![
            Route::json_str(r#"{"error":"authorization_pending"}"#).with_status(400),
            Route::json_str(r#"{"access_token":"AT","token_type":"Bearer","expires_in":60}"#),
        ],
    );
    let t0 = Instant::now();
    poll_async(&oc1, &da1, &b, 1);
    assert!(b.wait(2, Duration::from_secs(10)));
    assert_eq!(b.code(1), 0, "{:?}", b.errors.lock().unwrap()[1]);
    assert!(t0.elapsed() >= Duration::from_millis(900), "waited one interval: {:?}", t0.elapsed());
    std::thread::sleep(Duration::from_millis(50));
    assert!((0..2).all(|i| b.calls[i].load(Ordering::Acquire) == 1));
    assert_eq!(shutdown(10_000), oidc_result::Ok);
    assert_joined();
    drop((da, da1, oc, oc1));

    oidc_validator_free(client);
    oidc_validator_free(cold);
    oidc_validator_free(slow);
}
