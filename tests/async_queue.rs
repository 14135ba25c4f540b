//! The bounded queue: a full queue refuses a call at once with OIDC_RESULT_QUEUE_FULL (and never
//! calls its callback); accepted calls all complete; the next step of an accepted poll is queued
//! even past the bound (only new calls are refused). Its own test binary: it sets the process-wide
//! pool bounds.

mod common;

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::cabi::{Batch, P, pending_device_flow, poll_req};
use common::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{oidc_error_code, oidc_error_free};
use oidc::ffi::observe::metrics_json;
use oidc::ffi::oidc_result;
use oidc::ffi::pool::oidc_async_configure;
use oidc::ffi::validator::*;

static DONE: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_validate(_ud: *mut c_void, _rc: oidc_result, _c: *const c_char, _l: usize, _e: *const oidc_error) {
    DONE.fetch_add(1, Ordering::AcqRel);
}

#[test]
fn a_full_queue_refuses_at_once_and_accepted_calls_complete() {
    assert_eq!(oidc_async_configure(1, 4, std::ptr::null_mut()), oidc_result::Ok);
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&k])).with_delay(Duration::from_millis(500)));
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    assert_eq!(oidc_validator_builder_new(&mut b, std::ptr::null_mut()), oidc_result::Ok);
    let put = |f: extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result, v: &str| {
        assert_eq!(f(b, v.as_ptr().cast(), v.len(), std::ptr::null_mut()), oidc_result::Ok);
    };
    put(oidc_validator_builder_set_issuer, &idp.issuer);
    put(oidc_validator_builder_add_audience, "api");
    put(oidc_validator_builder_set_ca_file, idp.ca.ca_pem_path().to_str().unwrap());
    let mut c: *mut oidc_validator = std::ptr::null_mut();
    assert_eq!(oidc_validator_builder_build(b, &mut c, std::ptr::null_mut()), oidc_result::Ok);
    let t = k.sign(&idp.claims());
    // One worker blocks on the slow cold fetch; four calls fill the queue; the next is refused.
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..10 {
        let mut err: *mut oidc_error = std::ptr::null_mut();
        let rc = oidc_validate_async(c, t.as_ptr().cast(), t.len(), Some(on_validate), std::ptr::null_mut(), std::ptr::null(), &mut err);
        match rc {
            oidc_result::Ok => accepted += 1,
            oidc_result::QueueFull => {
                assert_eq!(oidc_error_code(err), oidc_result::QueueFull);
                refused += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
        oidc_error_free(err);
    }
    assert!((4..=5).contains(&accepted), "four queued, plus one if the worker took one already: {accepted}");
    assert_eq!(accepted + refused, 10);
    let end = Instant::now() + Duration::from_secs(20);
    while DONE.load(Ordering::Acquire) < accepted && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(DONE.load(Ordering::Acquire), accepted, "every accepted call completed, no refused one did");
    assert!(metrics_json()["async"]["rejected_queue_full"].as_u64().unwrap() >= refused as u64);
    oidc_validator_free(c);

    // Polls rescheduled while the queue is full: 4 polls (interval 1 s) answered pending once
    // wait on the timer; meanwhile the one worker blocks on a slow fetch and 4 new calls fill the
    // queue. When the timers fire, the polls' next steps are queued past the bound (new calls are
    // still refused) and every poll completes OK, exactly once.
    let idp2 = common::idp(&[&k]);
    let (oc, da) = pending_device_flow(&idp2, 1);
    let mut seq = vec![Route::json_str(r#"{"error":"authorization_pending"}"#).with_status(400); 4];
    seq.push(Route::json_str(r#"{"access_token":"AT","token_type":"Bearer","expires_in":60}"#));
    idp2.srv.set_sequence("/token", seq);
    let polls = Batch::new(4);
    let poll = poll_req(&oc, &da).int(P::OIDC_PARAM_DEADLINE_MS, 60_000);
    for i in 0..4 {
        assert_eq!(poll.submit(&polls, i, std::ptr::null()), oidc_result::Ok);
    }
    let end = Instant::now() + Duration::from_secs(10);
    while idp2.srv.hits("/token") < 4 {
        assert!(Instant::now() < end, "the first polls");
        std::thread::sleep(Duration::from_millis(2));
    }
    let idp3 = common::idp(&[&k]);
    idp3.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&k])).with_delay(Duration::from_millis(2500)));
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    assert_eq!(oidc_validator_builder_new(&mut b, std::ptr::null_mut()), oidc_result::Ok);
    for (f, v) in [
        (
            oidc_validator_builder_set_issuer
                as extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result,
            idp3.issuer.as_str(),
        ),
        (oidc_validator_builder_add_audience, "api"),
        (oidc_validator_builder_set_ca_file, idp3.ca.ca_pem_path().to_str().unwrap()),
    ] {
        assert_eq!(f(b, v.as_ptr().cast(), v.len(), std::ptr::null_mut()), oidc_result::Ok);
    }
    let mut slow: *mut oidc_validator = std::ptr::null_mut();
    assert_eq!(oidc_validator_builder_build(b, &mut slow, std::ptr::null_mut()), oidc_result::Ok);
    let t3 = k.sign(&idp3.claims());
    let submit = || {
        oidc_validate_async(
            slow,
            t3.as_ptr().cast(),
            t3.len(),
            Some(on_validate),
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null_mut(),
        )
    };
    let before = DONE.load(Ordering::Acquire);
    let mut accepted = 0;
    while accepted < 5 {
        // The first one occupies the worker (slow fetch), the next four fill the queue.
        match submit() {
            oidc_result::Ok => accepted += 1,
            oidc_result::QueueFull => std::thread::sleep(Duration::from_millis(1)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(submit(), oidc_result::QueueFull, "the queue is full");
    std::thread::sleep(Duration::from_millis(1200)); // the polls' timers fire now
    assert_eq!(submit(), oidc_result::QueueFull, "still full for new calls");
    assert!(polls.wait(4, Duration::from_secs(20)), "{} of 4 polls", polls.done.load(Ordering::Acquire));
    for i in 0..4 {
        assert_eq!(polls.code(i), 0, "poll {i}: {:?}", polls.errors.lock().unwrap()[i]);
        assert_eq!(polls.calls[i].load(Ordering::Acquire), 1);
    }
    let end = Instant::now() + Duration::from_secs(20);
    while DONE.load(Ordering::Acquire) < before + accepted && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(DONE.load(Ordering::Acquire), before + accepted);
    oidc_validator_free(slow);
}
