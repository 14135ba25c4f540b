//! The device flow and CIBA without blocking (OIDC_OP_DEVICE_AUTHORIZATION, OIDC_OP_DEVICE_POLL,
//! OIDC_OP_CIBA_REQUEST, OIDC_OP_CIBA_POLL through `oidc_oauth_send_async`) against the real IdP
//! (oidc-provider; device approval scripted through its pages, CIBA through its admin
//! `/ciba/approve`): the start's callback hands over a response the host owns, a poll continues
//! it (`oidc_oauth_request_set_pending`, copied: the response may go at once), the polls give
//! what the blocking polls give (token shape, codes, error objects), a waiting poll is answered
//! at once by a cancel or a cancel handle's deadline, and pending polls hold no worker while
//! they wait between polls. `oidc_async_shutdown` is not called here (tests/async_shutdown.rs
//! owns it).

mod common;

use std::ptr::{null, null_mut};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common::cabi::*;
use common::real_idp::{RealIdp, client_key};
use oidc::ffi::cancel::*;
use oidc::ffi::oauth_client::*;
use oidc::ffi::oidc_result as R;
use oidc_testkit::util::url_encode;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn idp() -> &'static RealIdp {
    static IDP: OnceLock<RealIdp> = OnceLock::new();
    IDP.get_or_init(RealIdp::start)
}

/// The public device client (token endpoint auth `none`).
fn device_app() -> Client {
    oauth_build(oauth_builder(idp(), "device-app"))
}

/// svc-pkjwt (private_key_jwt with the committed EC key): registered for CIBA.
fn pkjwt() -> Client {
    let b = oauth_builder(idp(), "svc-pkjwt");
    let pem = client_key("ec.pem");
    let ((p, n), (k, kn)) = (s(&pem), s("client-ec"));
    assert_eq!(oidc_oauth_builder_set_private_key_pem(b, p, n, k, kn, null(), 0, null_mut()), R::Ok);
    oauth_build(b)
}

fn code_of(v: u32) -> R {
    *R::ALL.iter().find(|c| **c as u32 == v).unwrap()
}

/// A running non-blocking send, accepted.
struct Pending {
    b: Arc<Batch>,
    started: Instant,
}

impl Pending {
    fn start(r: &Req, cancel: *const oidc_cancel) -> Pending {
        let b = Batch::new(1);
        assert_eq!(r.submit(&b, 0, cancel), R::Ok, "accepted");
        Pending { b, started: Instant::now() }
    }
    fn done(&self) -> bool {
        self.b.done.load(Ordering::Acquire) == 1
    }
    /// Wait for the single callback: its code, and when it came (since the start).
    fn wait(&self, within: Duration) -> (R, Duration) {
        assert!(self.b.wait(1, within), "callback within {within:?}");
        let took = self.started.elapsed();
        assert!(!self.b.threads.lock().unwrap().contains(&std::thread::current().id()), "never on the calling thread");
        (code_of(self.b.code(0)), took)
    }
    fn calls(&self) -> u32 {
        self.b.calls[0].load(Ordering::Acquire)
    }
    fn error(&self) -> Option<String> {
        self.b.error(0)
    }
    /// The response the callback handed over (the test owns it now).
    fn response(&self) -> Option<Resp> {
        self.b.take(0)
    }
}

fn device_start(c: &Client) -> Req {
    Req::new(c, Op::OIDC_OP_DEVICE_AUTHORIZATION).add(P::OIDC_PARAM_SCOPE, "openid")
}

/// A device poll continuing `da`, with the call's own deadline.
fn device_poll(c: &Client, da: &Resp, deadline_ms: i64) -> Req {
    poll_req(c, da).int(P::OIDC_PARAM_DEADLINE_MS, deadline_ms)
}

/// The token fields that do not change from one issuance to the next.
fn token_shape(r: &Resp) -> Value {
    let v = r.fields();
    let present = |k: &str| !v[k].is_null();
    let mut keys: Vec<&String> = v["json"].as_object().unwrap().keys().collect();
    keys.sort();
    json!({
        "token_type": v["token_type"], "scope": v["scope"], "operation": v["operation"],
        "access": present("access_token"), "refresh": present("refresh_token"), "id": present("id_token"),
        "expires": v["expires_in"].as_i64().unwrap() > 0, "keys": keys,
    })
}

#[test]
fn device_flow_async_start_poll_approve_gives_the_blocking_result() {
    let c = device_app();
    // The start's callback hands over a response the host owns.
    let p = Pending::start(&device_start(&c), null());
    let (rc, _) = p.wait(WAIT);
    assert_eq!(rc, R::Ok, "{:?}", p.error());
    let da = p.response().expect("the start's response");
    assert_eq!(da.int(F::OIDC_FIELD_INTERVAL), 5);
    assert_eq!(da.op(), Op::OIDC_OP_DEVICE_AUTHORIZATION as u32);
    let code = da.str(F::OIDC_FIELD_USER_CODE).unwrap();

    // Poll while pending; the start's response and the poll request may go as soon as the
    // send returned (both are copied).
    let req = device_poll(&c, &da, 60_000);
    let poll = Pending::start(&req, null());
    drop(req);
    drop(da);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!poll.done(), "still pending before approval");
    idp().browser().approve_device(&code);
    let (rc, took) = poll.wait(WAIT);
    assert_eq!(rc, R::Ok, "{:?}", poll.error());
    assert!(took >= Duration::from_secs(4), "the second poll waited one interval: {took:?}");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(poll.calls(), 1, "exactly once");
    let got = poll.response().unwrap();
    assert!(got.str(F::OIDC_FIELD_ID_TOKEN).is_some(), "validated ID token: {}", got.fields());
    assert_eq!(got.op(), Op::OIDC_OP_DEVICE_POLL as u32);

    // The blocking flow gives a token of the same shape.
    let da2 = device_start(&c).send().unwrap();
    idp().browser().approve_device(&da2.str(F::OIDC_FIELD_USER_CODE).unwrap());
    let poll2 = device_poll(&c, &da2, 30_000);
    let want = poll2.send().unwrap();
    assert_eq!(token_shape(&got), token_shape(&want));

    // The device code is consumed: both transports fail alike (INVALID_GRANT, same error object).
    let (a, b) = poll2.send_both();
    assert_eq!(same_failure(a, b, false).code, R::InvalidGrant);
}

#[test]
fn argument_errors_are_returned_and_a_cancelled_start_hands_over_nothing() {
    let c = device_app();
    // A poll that continues nothing, or two things: refused by both sends, no callback.
    let (a, b) = Req::new(&c, Op::OIDC_OP_DEVICE_POLL).send_both();
    assert!(same_failure(a, b, true).msg.contains("oidc_oauth_request_set_pending"));
    let (a, b) = Req::new(&c, Op::OIDC_OP_CIBA_POLL).send_both();
    assert_eq!(same_failure(a, b, true).code, R::InvalidArgument);
    let da = device_start(&c).send().unwrap();
    let (a, b) = poll_req(&c, &da).set(P::OIDC_PARAM_DEVICE_CODE, "dc").send_both();
    assert!(same_failure(a, b, true).msg.contains("not both"));
    // set_pending: NULL, a start of the other flow, an operation that is no poll.
    assert_eq!(failure(Req::new(&c, Op::OIDC_OP_DEVICE_POLL).try_pending(null())).code, R::NullParameter);
    let f = failure(Req::new(&c, Op::OIDC_OP_CIBA_POLL).try_pending(da.0));
    assert!(f.code == R::InvalidArgument && f.msg.contains("OIDC_OP_CIBA_REQUEST"), "{f:?}");
    assert_eq!(failure(Req::new(&c, Op::OIDC_OP_REFRESH).try_pending(da.0)).code, R::InvalidArgument);
    // A start cancelled before it ran: CANCELLED, no response handed over.
    let cancel = new_cancel(0);
    oidc_cancel_trigger(cancel);
    let p = Pending::start(&device_start(&c), cancel);
    assert_eq!(p.wait(WAIT).0, R::Cancelled);
    assert!(p.response().is_none());
    oidc_cancel_free(cancel);
}

#[test]
fn a_waiting_poll_is_cancelled_at_once_and_answered_once() {
    let c = device_app();
    let da = device_start(&c).send().unwrap();
    let cancel = new_cancel(0);
    let p = Pending::start(&device_poll(&c, &da, 60_000), cancel);
    std::thread::sleep(Duration::from_millis(700)); // the first poll answered pending; now waiting
    assert!(!p.done());
    let t0 = Instant::now();
    oidc_cancel_trigger(cancel);
    assert!(p.b.wait(1, Duration::from_secs(2)), "cancelled within 2 s, not at the next poll");
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    assert_eq!(p.wait(WAIT).0, R::Cancelled);
    // The timer comes due after the interval: no second callback then.
    std::thread::sleep(Duration::from_millis(5_500));
    assert_eq!(p.calls(), 1, "exactly once");
    oidc_cancel_free(cancel);
}

#[test]
fn poll_deadlines_the_requests_own_and_the_cancel_handles() {
    let c = device_app();
    let da = device_start(&c).send().unwrap();
    // DEADLINE_MS shorter than the interval: one poll, DEADLINE_EXCEEDED at once, as blocking.
    let short = device_poll(&c, &da, 200);
    let blocking = failure(short.send());
    assert_eq!(blocking.code, R::DeadlineExceeded);
    let p = Pending::start(&short, null());
    let (rc, took) = p.wait(WAIT);
    assert_eq!((rc, p.error()), (blocking.code, Some(blocking.summary)));
    assert!(took < Duration::from_secs(2), "{took:?}");
    // A cancel handle's deadline answers a poll waiting on the timer.
    let cancel = new_cancel(800);
    let p = Pending::start(&device_poll(&c, &da, 60_000), cancel);
    let (rc, took) = p.wait(WAIT);
    assert_eq!(rc, R::DeadlineExceeded);
    assert!(took >= Duration::from_millis(700) && took < Duration::from_secs(3), "{took:?}");
    oidc_cancel_free(cancel);
}

#[test]
fn pending_polls_hold_no_worker() {
    // More pending polls than the pool can have workers (at most 8 by default; this binary does
    // not configure it): if a waiting poll held a worker, every worker would sleep 5 s and the
    // token request below would wait for one.
    let c = device_app();
    let da = device_start(&c).send().unwrap();
    let cancel = new_cancel(0);
    let poll = device_poll(&c, &da, 60_000);
    let polls: Vec<Pending> = (0..24).map(|_| Pending::start(&poll, cancel)).collect();
    std::thread::sleep(Duration::from_millis(1_000)); // every first poll answered pending
    assert!(polls.iter().all(|p| !p.done()));
    let svc = with_secret(idp(), "svc-basic", "svc-basic-secret");
    let cc = Req::new(&svc, Op::OIDC_OP_CLIENT_CREDENTIALS);
    for _ in 0..3 {
        let p = Pending::start(&cc, null());
        let (rc, took) = p.wait(WAIT);
        assert_eq!(rc, R::Ok, "{:?}", p.error());
        assert!(took < Duration::from_millis(2_500), "a call waited for a worker: {took:?}");
    }
    assert!(polls.iter().all(|p| !p.done()), "the polls still wait");
    oidc_cancel_trigger(cancel);
    for p in &polls {
        assert_eq!(p.wait(Duration::from_secs(2)).0, R::Cancelled);
        assert_eq!(p.calls(), 1);
    }
    oidc_cancel_free(cancel);
}

/// A CIBA request through the non-blocking send: the response the callback handed over.
fn ciba_request_async(c: &Client, hint: &str) -> Resp {
    let r = Req::new(c, Op::OIDC_OP_CIBA_REQUEST)
        .add(P::OIDC_PARAM_SCOPE, "openid")
        .add(P::OIDC_PARAM_SCOPE, "email")
        .set(P::OIDC_PARAM_LOGIN_HINT, hint);
    let r = r.send_async(null()).unwrap_or_else(|f| panic!("{f:?}"));
    assert!(r.int(F::OIDC_FIELD_EXPIRES_IN) > 0);
    assert_eq!(r.op(), Op::OIDC_OP_CIBA_REQUEST as u32);
    r
}

fn ciba_approve(r: &Resp, deny: bool) {
    let id = r.str(F::OIDC_FIELD_AUTH_REQ_ID).unwrap();
    let v = idp().admin_post(&format!("/ciba/approve?{}auth_req_id={}", if deny { "deny=1&" } else { "" }, url_encode(&id)));
    assert_eq!(v["ok"], true, "{v}");
}

#[test]
fn ciba_async_approved_and_denied() {
    let c = pkjwt();
    // Approved while the poll waits.
    let r = ciba_request_async(&c, "user-1");
    let p = Pending::start(&poll_req(&c, &r).int(P::OIDC_PARAM_DEADLINE_MS, 60_000), null());
    std::thread::sleep(Duration::from_millis(500));
    assert!(!p.done(), "pending before approval");
    ciba_approve(&r, false);
    let (rc, _) = p.wait(WAIT);
    assert_eq!(rc, R::Ok, "{:?}", p.error());
    let t = p.response().unwrap();
    assert!(t.str(F::OIDC_FIELD_ID_TOKEN).is_some(), "CIBA returns an ID token (validated): {}", t.fields());
    assert_eq!(t.op(), Op::OIDC_OP_CIBA_POLL as u32);

    // Denied: ACCESS_DENIED with the blocking poll's error object.
    let r = ciba_request_async(&c, "user-2");
    ciba_approve(&r, true);
    let p = Pending::start(&poll_req(&c, &r).int(P::OIDC_PARAM_DEADLINE_MS, 30_000), null());
    let (rc, _) = p.wait(WAIT);
    assert_eq!(rc, R::AccessDenied);
    let r2 = ciba_request_async(&c, "user-2");
    ciba_approve(&r2, true);
    let blocking = failure(poll_req(&c, &r2).int(P::OIDC_PARAM_DEADLINE_MS, 30_000).send());
    assert_eq!((rc, p.error()), (blocking.code, Some(blocking.summary)));
}
