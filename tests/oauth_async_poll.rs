//! The device flow and CIBA without blocking (`oidc_oauth_device_authorization_async`,
//! `oidc_oauth_device_poll_async`, `oidc_oauth_ciba_request_async`, `oidc_oauth_ciba_poll_async`)
//! through the extern "C" functions, against the real IdP (oidc-provider; device approval scripted
//! through its pages, CIBA through its admin `/ciba/approve`): the start twins hand an owned handle
//! to the callback, the poll twins give what the blocking polls give (token shape, codes, error
//! objects), a waiting poll is answered at once by a cancel or a cancel handle's deadline, and
//! pending polls hold no worker while they wait between polls. `oidc_async_shutdown` is not
//! called here (tests/async_shutdown.rs owns it).

mod common;

use std::ffi::{CStr, c_void};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::cabi::*;
use common::real_idp::{RealIdp, client_key};
use oidc::ffi::cancel::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::grants::*;
use oidc::ffi::misc::oidc_error_free;
use oidc::ffi::oauth::*;
use oidc::ffi::oauth_async::*;
use oidc::ffi::oidc_result as R;
use oidc::ffi::pool::*;
use oidc_testkit::util::url_encode;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn idp() -> &'static RealIdp {
    static IDP: OnceLock<RealIdp> = OnceLock::new();
    IDP.get_or_init(RealIdp::start)
}

fn builder(id: &str) -> *mut oidc_oauth_builder {
    oauth_builder(idp(), id)
}

fn build(b: *mut oidc_oauth_builder) -> *mut oidc_oauth_client {
    oauth_build(b)
}

/// The public device client (token endpoint auth `none`).
fn device_app() -> *mut oidc_oauth_client {
    build(builder("device-app"))
}

/// svc-pkjwt (private_key_jwt with the committed EC key): registered for CIBA.
fn pkjwt() -> *mut oidc_oauth_client {
    let b = builder("svc-pkjwt");
    let pem = client_key("ec.pem");
    let ((p, n), (k, kn)) = (s(&pem), s("client-ec"));
    assert_eq!(oidc_oauth_builder_set_private_key_pem(b, p, n, k, kn, null(), 0, null_mut()), R::Ok);
    build(b)
}

fn code_of(v: u32) -> R {
    *R::ALL.iter().find(|c| **c as u32 == v).unwrap()
}

/// A running `_async` call: its batch slot, accepted by the initiating call.
struct Pending {
    b: std::sync::Arc<Batch>,
    started: Instant,
}

impl Pending {
    /// Start a call (`f` gets the user_data and `err_out`); it must be accepted.
    fn start(f: impl FnOnce(*mut c_void, *mut *mut oidc_error) -> R) -> Pending {
        let b = Batch::new(1);
        let mut e: *mut oidc_error = null_mut();
        let rc = start(&b, 0, |ud| f(ud, &mut e));
        assert_eq!(rc, R::Ok, "accepted");
        assert!(e.is_null());
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
        self.b.errors.lock().unwrap()[0].clone()
    }
    fn token(&self) -> Value {
        serde_json::from_str(self.b.claims.lock().unwrap()[0].as_deref().expect("a token response")).unwrap()
    }
    fn handle<X>(&self) -> *mut X {
        self.b.handles.lock().unwrap()[0] as *mut X
    }
}

fn device_authorization_async(c: *const oidc_oauth_client, cancel: *const oidc_cancel) -> Pending {
    let (sc, scn) = s("openid");
    Pending::start(|ud, e| oidc_oauth_device_authorization_async(c, sc, scn, Some(on_handle), ud, cancel, e))
}

fn device_poll_async(
    c: *const oidc_oauth_client,
    da: *const oidc_device_authorization,
    timeout_ms: u32,
    cancel: *const oidc_cancel,
) -> Pending {
    Pending::start(|ud, e| oidc_oauth_device_poll_async(c, da, timeout_ms, Some(on_token), ud, cancel, e))
}

fn ciba_poll_async(c: *const oidc_oauth_client, r: *const oidc_ciba_request, timeout_ms: u32, cancel: *const oidc_cancel) -> Pending {
    Pending::start(|ud, e| oidc_oauth_ciba_poll_async(c, r, timeout_ms, Some(on_token), ud, cancel, e))
}

/// A device authorization through the blocking call.
fn device_authorization(c: *const oidc_oauth_client) -> *mut oidc_device_authorization {
    let (sc, scn) = s("openid");
    let mut da = null_mut();
    assert_eq!(oidc_oauth_device_authorization(c, sc, scn, &mut da, null_mut()), R::Ok);
    da
}

fn user_code(da: *const oidc_device_authorization) -> String {
    unsafe { CStr::from_ptr(oidc_device_authorization_user_code(da)) }.to_str().unwrap().to_string()
}

/// A blocking poll: the code, the token fields (on OK) and the error summary.
fn blocking_poll(f: impl FnOnce(*mut *mut oidc_token_response, *mut *mut oidc_error) -> R) -> (R, Option<Value>, Option<String>) {
    let (mut t, mut e) = (null_mut(), null_mut());
    let rc = f(&mut t, &mut e);
    if rc == R::Ok {
        let v = token_fields(t);
        oidc_token_response_free(t);
        return (rc, Some(v), None);
    }
    let err = error_summary(e);
    oidc_error_free(e);
    (rc, None, Some(err))
}

/// The token fields that do not change from one issuance to the next.
fn token_shape(v: &Value) -> Value {
    let present = |k: &str| !v[k].is_null();
    let mut keys: Vec<&String> = v["json"].as_object().unwrap().keys().collect();
    keys.sort();
    json!({
        "token_type": v["token_type"], "scope": v["scope"],
        "access": present("access_token"), "refresh": present("refresh_token"), "id": present("id_token"),
        "expires": v["expires_in"].as_i64().unwrap() > 0, "keys": keys,
    })
}

#[test]
fn device_flow_async_start_poll_approve_gives_the_blocking_result() {
    let c = device_app();
    // The start twin hands over an owned handle.
    let p = device_authorization_async(c, null());
    let (rc, _) = p.wait(WAIT);
    assert_eq!(rc, R::Ok, "{:?}", p.error());
    let da: *mut oidc_device_authorization = p.handle();
    assert_eq!(oidc_device_authorization_interval(da), 5);
    assert!(!user_code(da).is_empty());

    // Poll while pending; the handle may go as soon as the poll call returned (it is copied).
    let poll = device_poll_async(c, da, 60_000, null());
    let code = user_code(da);
    oidc_device_authorization_free(da);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!poll.done(), "still pending before approval");
    idp().browser().approve_device(&code);
    let (rc, took) = poll.wait(WAIT);
    assert_eq!(rc, R::Ok, "{:?}", poll.error());
    assert!(took >= Duration::from_secs(4), "the second poll waited one interval: {took:?}");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(poll.calls(), 1, "exactly once");
    let got = poll.token();
    assert!(got["id_token"].is_string(), "validated ID token: {got}");

    // The blocking flow gives a token of the same shape.
    let da2 = device_authorization(c);
    idp().browser().approve_device(&user_code(da2));
    let (rc, want, err) = blocking_poll(|o, e| oidc_oauth_device_poll(c, da2, 30_000, null(), o, e));
    assert_eq!(rc, R::Ok, "{err:?}");
    assert_eq!(token_shape(&got), token_shape(&want.unwrap()));

    // The device code is consumed: both transports fail alike (INVALID_GRANT, same error object).
    let (brc, _, berr) = blocking_poll(|o, e| oidc_oauth_device_poll(c, da2, 1_000, null(), o, e));
    let p = device_poll_async(c, da2, 1_000, null());
    let (arc, _) = p.wait(WAIT);
    assert_eq!(brc, R::InvalidGrant);
    assert_eq!((arc, p.error()), (brc, berr));
    oidc_device_authorization_free(da2);
    oidc_oauth_client_free(c);
}

#[test]
fn argument_errors_are_returned_and_a_cancelled_start_hands_over_nothing() {
    let c = device_app();
    // NULL handle / callback / client: returned at once, no callback.
    let b = Batch::new(1);
    let mut e = null_mut();
    assert_eq!(start(&b, 0, |ud| oidc_oauth_device_poll_async(c, null(), 1_000, Some(on_token), ud, null(), &mut e)), R::NullParameter);
    oidc_error_free(e);
    let da = device_authorization(c);
    assert_eq!(oidc_oauth_device_poll_async(c, da, 1_000, None, null_mut(), null(), null_mut()), R::NullParameter);
    assert_eq!(oidc_oauth_device_poll_async(null(), da, 1_000, Some(on_token), null_mut(), null(), null_mut()), R::NullParameter);
    assert_eq!(oidc_oauth_ciba_poll_async(c, null(), 1_000, Some(on_token), null_mut(), null(), null_mut()), R::NullParameter);
    let (bad, badn) = s("[1]");
    assert_eq!(oidc_oauth_ciba_request_async(c, bad, badn, Some(on_handle), null_mut(), null(), null_mut()), R::InvalidArgument);
    assert_eq!(oidc_oauth_device_authorization_async(c, null(), 0, None, null_mut(), null(), null_mut()), R::NullParameter);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(b.done.load(Ordering::Acquire), 0);
    // A start cancelled before it ran: CANCELLED, no handle.
    let cancel = new_cancel(0);
    oidc_cancel_trigger(cancel);
    let p = device_authorization_async(c, cancel);
    assert_eq!(p.wait(WAIT).0, R::Cancelled);
    assert!(p.handle::<oidc_device_authorization>().is_null());
    oidc_cancel_free(cancel);
    oidc_device_authorization_free(da);
    oidc_oauth_client_free(c);
}

#[test]
fn a_waiting_poll_is_cancelled_at_once_and_answered_once() {
    let c = device_app();
    let da = device_authorization(c);
    let cancel = new_cancel(0);
    let p = device_poll_async(c, da, 60_000, cancel);
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
    oidc_device_authorization_free(da);
    oidc_oauth_client_free(c);
}

#[test]
fn poll_deadlines_timeout_ms_and_the_cancel_handles() {
    let c = device_app();
    let da = device_authorization(c);
    // timeout_ms shorter than the interval: one poll, DEADLINE_EXCEEDED at once, as blocking.
    let (brc, _, berr) = blocking_poll(|o, e| oidc_oauth_device_poll(c, da, 200, null(), o, e));
    assert_eq!(brc, R::DeadlineExceeded);
    let p = device_poll_async(c, da, 200, null());
    let (rc, took) = p.wait(WAIT);
    assert_eq!((rc, p.error()), (brc, berr));
    assert!(took < Duration::from_secs(2), "{took:?}");
    // A cancel handle's deadline answers a poll waiting on the timer.
    let cancel = new_cancel(800);
    let p = device_poll_async(c, da, 60_000, cancel);
    let (rc, took) = p.wait(WAIT);
    assert_eq!(rc, R::DeadlineExceeded);
    assert!(took >= Duration::from_millis(700) && took < Duration::from_secs(3), "{took:?}");
    oidc_cancel_free(cancel);
    oidc_device_authorization_free(da);
    oidc_oauth_client_free(c);
}

#[test]
fn pending_polls_hold_no_worker() {
    // More pending polls than the pool can have workers (at most 8 by default; this binary does
    // not configure it): if a waiting poll held a worker, every worker would sleep 5 s and the
    // token request below would wait for one.
    let c = device_app();
    let da = device_authorization(c);
    let cancel = new_cancel(0);
    let polls: Vec<Pending> = (0..24).map(|_| device_poll_async(c, da, 60_000, cancel)).collect();
    std::thread::sleep(Duration::from_millis(1_000)); // every first poll answered pending
    assert!(polls.iter().all(|p| !p.done()));
    let svc = {
        let b = builder("svc-basic");
        let (p, n) = s("svc-basic-secret");
        assert_eq!(oidc_oauth_builder_set_client_secret(b, p, n, null_mut()), R::Ok);
        build(b)
    };
    for _ in 0..3 {
        let p = Pending::start(|ud, e| {
            oidc_oauth_client_credentials_async(svc, null(), 0, null(), 0, null(), 0, Some(on_token), ud, null(), e)
        });
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
    oidc_device_authorization_free(da);
    oidc_oauth_client_free(svc);
    oidc_oauth_client_free(c);
}

fn ciba_request_async(c: *const oidc_oauth_client, hint: &str) -> *mut oidc_ciba_request {
    let params = json!({"scope": "openid email", "login_hint": hint}).to_string();
    let (p, n) = s(&params);
    let pending = Pending::start(|ud, e| oidc_oauth_ciba_request_async(c, p, n, Some(on_handle), ud, null(), e));
    let (rc, _) = pending.wait(WAIT);
    assert_eq!(rc, R::Ok, "{:?}", pending.error());
    let r: *mut oidc_ciba_request = pending.handle();
    assert!(oidc_ciba_request_expires_in(r) > 0);
    r
}

fn ciba_approve(r: *const oidc_ciba_request, deny: bool) {
    let id = unsafe { CStr::from_ptr(oidc_ciba_request_auth_req_id(r)) }.to_str().unwrap();
    let v = idp().admin_post(&format!("/ciba/approve?{}auth_req_id={}", if deny { "deny=1&" } else { "" }, url_encode(id)));
    assert_eq!(v["ok"], true, "{v}");
}

#[test]
fn ciba_async_approved_and_denied() {
    let c = pkjwt();
    // Approved while the poll waits.
    let r = ciba_request_async(c, "user-1");
    let p = ciba_poll_async(c, r, 60_000, null());
    std::thread::sleep(Duration::from_millis(500));
    assert!(!p.done(), "pending before approval");
    ciba_approve(r, false);
    let (rc, _) = p.wait(WAIT);
    assert_eq!(rc, R::Ok, "{:?}", p.error());
    let t = p.token();
    assert!(t["id_token"].is_string(), "CIBA returns an ID token (validated): {t}");
    oidc_ciba_request_free(r);

    // Denied: ACCESS_DENIED with the blocking poll's error object.
    let r = ciba_request_async(c, "user-2");
    ciba_approve(r, true);
    let p = ciba_poll_async(c, r, 30_000, null());
    let (rc, _) = p.wait(WAIT);
    assert_eq!(rc, R::AccessDenied);
    let r2 = ciba_request_async(c, "user-2");
    ciba_approve(r2, true);
    let (brc, _, berr) = blocking_poll(|o, e| oidc_oauth_ciba_poll(c, r2, 30_000, null(), o, e));
    assert_eq!((rc, p.error()), (brc, berr));
    oidc_ciba_request_free(r);
    oidc_ciba_request_free(r2);
    oidc_oauth_client_free(c);
}
