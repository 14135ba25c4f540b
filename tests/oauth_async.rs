//! The protocol client's non-blocking twins (`oidc_oauth_*_async`) through the extern "C"
//! functions, against the real IdP (oidc-provider): each twin gives what its blocking sibling
//! gives (the same token fields / the same JSON, the same codes and error objects), argument
//! errors are returned with no callback, every accepted call's callback runs exactly once and
//! never on the calling thread, pre-cancelled calls complete CANCELLED, and freeing the client
//! (or the builder) with calls in flight is safe. `oidc_async_shutdown` is not called here (it is
//! process-wide; tests/async_shutdown.rs owns it).

mod common;

use std::ffi::{CStr, c_char, c_void};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::cabi::*;
use common::real_idp::{RealIdp, client_key};
use oidc::core::oauth::{AuthorizationRequest, ClientAuth, OAuthClient, OAuthConfig, pkce};
use oidc::ffi::cancel::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::grants::*;
use oidc::ffi::misc::{oidc_error_free, oidc_string_free};
use oidc::ffi::oauth::*;
use oidc::ffi::oauth_async::*;
use oidc::ffi::oauth_endpoints::*;
use oidc::ffi::oidc_result as R;
use oidc::ffi::pool::*;
use serde_json::{Value, json};

const CB: &str = "http://127.0.0.1/cb";
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

/// A C-ABI protocol client with a client secret.
fn with_secret(id: &str, secret: &str) -> *mut oidc_oauth_client {
    let b = builder(id);
    let (p, n) = s(secret);
    assert_eq!(oidc_oauth_builder_set_client_secret(b, p, n, null_mut()), R::Ok);
    build(b)
}

/// svc-pkjwt: private_key_jwt with the committed EC key (token exchange, JWT bearer, echo grant).
fn pkjwt() -> *mut oidc_oauth_client {
    let b = builder("svc-pkjwt");
    let pem = client_key("ec.pem");
    let ((p, n), (k, kn)) = (s(&pem), s("client-ec"));
    assert_eq!(oidc_oauth_builder_set_private_key_pem(b, p, n, k, kn, null(), 0, null_mut()), R::Ok);
    build(b)
}

fn web() -> *mut oidc_oauth_client {
    with_secret("web-app", "web-app-secret")
}

/// What a call gave, whichever transport: the code, the output (string, or token fields /
/// resource response as JSON) and the error summary; `returned` = the `_async` call refused
/// it itself (no callback).
#[derive(Debug, PartialEq)]
struct Got {
    code: R,
    out: Option<String>,
    err: Option<String>,
    returned: bool,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(self.out.as_deref().unwrap_or_else(|| panic!("no output: {self:?}"))).unwrap()
    }
    fn ok(self) -> Got {
        assert_eq!(self.code, R::Ok, "{self:?}");
        self
    }
}

fn code_of(v: u32) -> R {
    *R::ALL.iter().find(|c| **c as u32 == v).unwrap()
}

/// Run one `_async` call (`f` gets the user_data) and wait for its single callback. Checks the
/// promises: a refused call's callback never runs and the error comes through `err_out`; an
/// accepted one's runs exactly once, on another thread.
fn run_async(f: impl FnOnce(*mut c_void, *mut *mut oidc_error) -> R) -> Got {
    let b = Batch::new(1);
    let mut e: *mut oidc_error = null_mut();
    let rc = start(&b, 0, |ud| f(ud, &mut e));
    if rc != R::Ok {
        assert!(!e.is_null(), "err_out written on refusal");
        let err = error_summary(e);
        oidc_error_free(e);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(b.calls[0].load(Ordering::Acquire), 0, "a refused call's callback never runs");
        return Got { code: rc, out: None, err: Some(err), returned: true };
    }
    assert!(e.is_null(), "err_out untouched when accepted");
    assert!(b.wait(1, WAIT), "callback within {WAIT:?}");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(b.calls[0].load(Ordering::Acquire), 1, "exactly once");
    assert!(!b.threads.lock().unwrap().contains(&std::thread::current().id()), "never on the calling thread");
    let out = b.claims.lock().unwrap()[0].take();
    let err = b.errors.lock().unwrap()[0].take();
    Got { code: code_of(b.code(0)), out, err, returned: false }
}

fn blocking_err(rc: R, e: *mut oidc_error) -> Got {
    assert!(!e.is_null());
    let err = error_summary(e);
    oidc_error_free(e);
    Got { code: rc, out: None, err: Some(err), returned: false }
}

/// A blocking call yielding a token response, as a `Got`.
fn blocking_token(f: impl FnOnce(*mut *mut oidc_token_response, *mut *mut oidc_error) -> R) -> Got {
    let (mut t, mut e) = (null_mut(), null_mut());
    let rc = f(&mut t, &mut e);
    if rc != R::Ok {
        assert!(t.is_null());
        return blocking_err(rc, e);
    }
    let out = token_fields(t).to_string();
    oidc_token_response_free(t);
    Got { code: rc, out: Some(out), err: None, returned: false }
}

/// A blocking call yielding an owned string, as a `Got`.
fn blocking_string(f: impl FnOnce(*mut *mut c_char, *mut usize, *mut *mut oidc_error) -> R) -> Got {
    let (mut o, mut n, mut e) = (null_mut(), 0usize, null_mut());
    let rc = f(&mut o, &mut n, &mut e);
    if rc != R::Ok {
        assert!(o.is_null());
        return blocking_err(rc, e);
    }
    let out = unsafe { CStr::from_ptr(o) }.to_str().unwrap().to_string();
    assert_eq!(out.len(), n);
    oidc_string_free(o);
    Got { code: rc, out: Some(out), err: None, returned: false }
}

fn blocking_done(f: impl FnOnce(*mut *mut oidc_error) -> R) -> Got {
    let mut e = null_mut();
    let rc = f(&mut e);
    if rc != R::Ok {
        return blocking_err(rc, e);
    }
    Got { code: rc, out: None, err: None, returned: false }
}

/// Same failure on both paths: code and error object (OAuth error, HTTP status); an argument
/// error is refused by the `_async` call itself.
fn same_failure(blocking: &Got, non_blocking: &Got, returned: bool) {
    assert_ne!(blocking.code, R::Ok, "{blocking:?}");
    assert_eq!((blocking.code, &blocking.err), (non_blocking.code, &non_blocking.err), "blocking vs async");
    assert_eq!(non_blocking.returned, returned, "{non_blocking:?}");
}

/// The token fields that do not change from one issuance to the next.
fn token_shape(g: &Got) -> Value {
    let v = g.json();
    let present = |k: &str| !v[k].is_null();
    let mut keys: Vec<&String> = v["json"].as_object().unwrap().keys().collect();
    keys.sort();
    json!({
        "token_type": v["token_type"], "scope": v["scope"], "issued_token_type": v["issued_token_type"],
        "access": present("access_token"), "refresh": present("refresh_token"), "id": present("id_token"),
        "expires": v["expires_in"].as_i64().unwrap() > 0, "keys": keys,
    })
}

fn json_keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// A code from a scripted login for web-app (PKCE), with its verifier and nonce.
fn login() -> (String, String, String) {
    let c = OAuthClient::new({
        let mut cfg = OAuthConfig::new(&idp().issuer, "web-app", ClientAuth::SecretBasic("web-app-secret".into()));
        cfg.base.ca_file = Some(idp().ca_file.clone());
        cfg
    })
    .unwrap();
    let p = pkce::generate().unwrap();
    let req = AuthorizationRequest {
        redirect_uri: Some(CB.into()),
        scope: Some("openid email profile".into()),
        code_challenge: Some(p.challenge.clone()),
        ..Default::default()
    };
    let prepared = c.authorization_url(&req).unwrap();
    let back = idp().browser().authorize(&prepared.url, "user-1");
    let resp =
        c.parse_authorization_response(&back, oidc::core::oauth::ExpectedState::Sent(prepared.state.as_deref().unwrap()), None).unwrap();
    (resp.code.expose().to_string(), p.verifier.expose().to_string(), prepared.nonce.unwrap())
}

#[test]
fn token_request_twins_match_the_blocking_calls() {
    let web = web();
    // Authorization code: one login for each path; the same shape of response (validated ID
    // token, refresh token, scope).
    let (code, verifier, nonce) = login();
    let ((cp, cn), (rp, rn), (vp, vn), (np, nn)) = (s(&code), s(CB), s(&verifier), s(&nonce));
    let sync = blocking_token(|o, e| oidc_oauth_exchange_code(web, cp, cn, rp, rn, vp, vn, np, nn, null(), 0, o, e)).ok();
    let (code2, verifier2, nonce2) = login();
    let ((c2p, c2n), (v2p, v2n), (n2p, n2n)) = (s(&code2), s(&verifier2), s(&nonce2));
    let a = run_async(|ud, e| {
        oidc_oauth_exchange_code_async(web, c2p, c2n, rp, rn, v2p, v2n, n2p, n2n, null(), 0, Some(on_token), ud, null(), e)
    })
    .ok();
    assert_eq!(token_shape(&a), token_shape(&sync));
    assert_eq!(token_shape(&a)["id"], true);
    assert_eq!(token_shape(&a)["refresh"], true);

    // Refresh: each path with its own refresh token; a bad one is INVALID_GRANT on both.
    let rt_sync = sync.json()["refresh_token"].as_str().unwrap().to_string();
    let rt_async = a.json()["refresh_token"].as_str().unwrap().to_string();
    let (p, n) = s(&rt_sync);
    let r_sync = blocking_token(|o, e| oidc_oauth_refresh(web, p, n, null(), 0, null(), 0, o, e)).ok();
    let (p, n) = s(&rt_async);
    let r_async = run_async(|ud, e| oidc_oauth_refresh_async(web, p, n, null(), 0, null(), 0, Some(on_token), ud, null(), e)).ok();
    assert_eq!(token_shape(&r_async), token_shape(&r_sync));
    assert_ne!(r_async.json()["refresh_token"], json!(rt_async), "rotated");
    let (p, n) = s("not-a-refresh-token");
    let bad = blocking_token(|o, e| oidc_oauth_refresh(web, p, n, null(), 0, null(), 0, o, e));
    assert_eq!(bad.code, R::InvalidGrant);
    let bad_async = run_async(|ud, e| oidc_oauth_refresh_async(web, p, n, null(), 0, null(), 0, Some(on_token), ud, null(), e));
    same_failure(&bad, &bad_async, false);
    // Not UTF-8: refused by the call itself, as the blocking call refuses it.
    let (p, n) = (b"\xff".as_ptr().cast::<c_char>(), 1);
    let bad = blocking_token(|o, e| oidc_oauth_refresh(web, p, n, null(), 0, null(), 0, o, e));
    assert_eq!(bad.code, R::InvalidUtf8);
    let bad_async = run_async(|ud, e| oidc_oauth_refresh_async(web, p, n, null(), 0, null(), 0, Some(on_token), ud, null(), e));
    same_failure(&bad, &bad_async, true);

    // Client credentials, plain and through the cache (the cache hands both paths one token).
    let svc = with_secret("svc-basic", "svc-basic-secret");
    let ((sp, sn), (rp, rn)) = (s("read"), s("urn:liboidc:es256"));
    let cc = blocking_token(|o, e| oidc_oauth_client_credentials(svc, sp, sn, rp, rn, null(), 0, o, e)).ok();
    let cc_async =
        run_async(|ud, e| oidc_oauth_client_credentials_async(svc, sp, sn, rp, rn, null(), 0, Some(on_token), ud, null(), e)).ok();
    assert_eq!(token_shape(&cc_async), token_shape(&cc));
    assert_eq!(cc_async.json()["scope"], "read");
    let cached = blocking_token(|o, e| oidc_oauth_client_credentials_cached(svc, sp, sn, rp, rn, null(), 0, o, e)).ok();
    let cached_async =
        run_async(|ud, e| oidc_oauth_client_credentials_cached_async(svc, sp, sn, rp, rn, null(), 0, Some(on_token), ud, null(), e)).ok();
    assert_eq!(cached_async.json(), cached.json(), "the same cached token, field for field");
    let (bp, bn) = s("urn:liboidc:nope");
    let bad = blocking_token(|o, e| oidc_oauth_client_credentials_cached(svc, null(), 0, bp, bn, null(), 0, o, e));
    assert_eq!(bad.code, R::InvalidTarget);
    let bad_async =
        run_async(|ud, e| oidc_oauth_client_credentials_cached_async(svc, null(), 0, bp, bn, null(), 0, Some(on_token), ud, null(), e));
    same_failure(&bad, &bad_async, false);

    // Token exchange (RFC 8693) with an svc-basic token as the subject.
    let pk = pkjwt();
    let opaque = blocking_token(|o, e| oidc_oauth_client_credentials(svc, null(), 0, null(), 0, null(), 0, o, e)).ok();
    let subject = opaque.json()["access_token"].as_str().unwrap().to_string();
    let ((tp, tn), (jp, jn)) = (s(&subject), s(r#"{"audience":"urn:x:downstream"}"#));
    let tx = blocking_token(|o, e| oidc_oauth_token_exchange(pk, tp, tn, null(), 0, jp, jn, o, e)).ok();
    let tx_async = run_async(|ud, e| oidc_oauth_token_exchange_async(pk, tp, tn, null(), 0, jp, jn, Some(on_token), ud, null(), e)).ok();
    assert_eq!(token_shape(&tx_async), token_shape(&tx));
    assert_eq!(tx_async.json()["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token");
    let (bp, bn) = s("not-a-token");
    let bad = blocking_token(|o, e| oidc_oauth_token_exchange(pk, bp, bn, null(), 0, null(), 0, o, e));
    assert_eq!(bad.code, R::InvalidGrant);
    let bad_async = run_async(|ud, e| oidc_oauth_token_exchange_async(pk, bp, bn, null(), 0, null(), 0, Some(on_token), ud, null(), e));
    same_failure(&bad, &bad_async, false);
    let (xp, xn) = s("[1]");
    let bad = blocking_token(|o, e| oidc_oauth_token_exchange(pk, tp, tn, null(), 0, xp, xn, o, e));
    assert_eq!(bad.code, R::InvalidArgument);
    let bad_async = run_async(|ud, e| oidc_oauth_token_exchange_async(pk, tp, tn, null(), 0, xp, xn, Some(on_token), ud, null(), e));
    same_failure(&bad, &bad_async, true);

    // JWT bearer: an assertion signed for "user-1" with the client's key (on the worker).
    let ((up, un), (sp, sn)) = (s("user-1"), s("read"));
    let jb = blocking_token(|o, e| oidc_oauth_jwt_bearer(pk, null(), 0, up, un, sp, sn, o, e)).ok();
    let jb_async = run_async(|ud, e| oidc_oauth_jwt_bearer_async(pk, null(), 0, up, un, sp, sn, Some(on_token), ud, null(), e)).ok();
    assert_eq!(token_shape(&jb_async), token_shape(&jb));
    let bad = blocking_token(|o, e| oidc_oauth_jwt_bearer(pk, null(), 0, null(), 0, sp, sn, o, e));
    assert_eq!(bad.code, R::InvalidArgument, "neither an assertion nor a subject");
    let bad_async = run_async(|ud, e| oidc_oauth_jwt_bearer_async(pk, null(), 0, null(), 0, sp, sn, Some(on_token), ud, null(), e));
    same_failure(&bad, &bad_async, true);
    // A subject but no key to sign with: the core's answer, through the callback.
    let bad = blocking_token(|o, e| oidc_oauth_jwt_bearer(svc, null(), 0, up, un, null(), 0, o, e));
    assert_eq!(bad.code, R::InvalidConfig);
    let bad_async = run_async(|ud, e| oidc_oauth_jwt_bearer_async(svc, null(), 0, up, un, null(), 0, Some(on_token), ud, null(), e));
    same_failure(&bad, &bad_async, false);

    // A custom grant, echoed back by the IdP; without its parameter INVALID_REQUEST on both.
    let ((gp, gn), (jp, jn)) = (s("urn:liboidc:grant-type:echo"), s(r#"{"color":"blue","size":"XL"}"#));
    let cg = blocking_token(|o, e| oidc_oauth_custom_grant(pk, gp, gn, jp, jn, o, e)).ok();
    let cg_async = run_async(|ud, e| oidc_oauth_custom_grant_async(pk, gp, gn, jp, jn, Some(on_token), ud, null(), e)).ok();
    assert_eq!(token_shape(&cg_async), token_shape(&cg));
    assert_eq!(cg_async.json()["json"]["echo"], json!({"color": "blue", "size": "XL"}));
    let bad = blocking_token(|o, e| oidc_oauth_custom_grant(pk, gp, gn, null(), 0, o, e));
    assert_eq!(bad.code, R::InvalidRequest);
    let bad_async = run_async(|ud, e| oidc_oauth_custom_grant_async(pk, gp, gn, null(), 0, Some(on_token), ud, null(), e));
    same_failure(&bad, &bad_async, false);

    // A used code fails alike (last: reusing a code revokes what it granted).
    let reused = blocking_token(|o, e| oidc_oauth_exchange_code(web, c2p, c2n, rp, rn, v2p, v2n, n2p, n2n, null(), 0, o, e));
    assert_eq!(reused.code, R::InvalidGrant);
    let reused_async =
        run_async(|ud, e| oidc_oauth_exchange_code_async(web, cp, cn, rp, rn, vp, vn, np, nn, null(), 0, Some(on_token), ud, null(), e));
    same_failure(&reused, &reused_async, false);

    for c in [web, svc, pk] {
        oidc_oauth_client_free(c);
    }
}

#[test]
fn endpoint_twins_match_the_blocking_calls() {
    let web = web();
    let (code, verifier, nonce) = login();
    let tokens = blocking_token(|o, e| {
        let ((cp, cn), (rp, rn), (vp, vn), (np, nn)) = (s(&code), s(CB), s(&verifier), s(&nonce));
        oidc_oauth_exchange_code(web, cp, cn, rp, rn, vp, vn, np, nn, null(), 0, o, e)
    })
    .ok()
    .json();
    let id_token = tokens["id_token"].as_str().unwrap();
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();

    // ID token: the same claims; a wrong nonce fails alike.
    let ((ip, inn), (np, nn), (ap, an)) = (s(id_token), s(&nonce), s(at));
    let v = blocking_string(|o, l, e| oidc_oauth_validate_id_token(web, ip, inn, np, nn, ap, an, null(), 0, -1, o, l, e)).ok();
    let v_async =
        run_async(|ud, e| oidc_oauth_validate_id_token_async(web, ip, inn, np, nn, ap, an, null(), 0, -1, Some(on_string), ud, null(), e))
            .ok();
    assert_eq!(v_async.out, v.out);
    assert_eq!(v_async.json()["sub"], "user-1");
    let (op, on) = s("another-nonce");
    let bad = blocking_string(|o, l, e| oidc_oauth_validate_id_token(web, ip, inn, op, on, null(), 0, null(), 0, -1, o, l, e));
    assert_eq!(bad.code, R::NonceMismatch);
    let bad_async = run_async(|ud, e| {
        oidc_oauth_validate_id_token_async(web, ip, inn, op, on, null(), 0, null(), 0, -1, Some(on_string), ud, null(), e)
    });
    same_failure(&bad, &bad_async, false);

    // UserInfo: the same claims; a bad token INVALID_TOKEN (401) on both; an empty one refused.
    let (sp, sn) = s("user-1");
    let u = blocking_string(|o, l, e| oidc_oauth_userinfo(web, ap, an, sp, sn, o, l, e)).ok();
    let u_async = run_async(|ud, e| oidc_oauth_userinfo_async(web, ap, an, sp, sn, Some(on_string), ud, null(), e)).ok();
    assert_eq!(u_async.out, u.out);
    assert_eq!(u_async.json()["email"], "user-1@liboidc.test");
    let (bp, bn) = s("not-a-valid-access-token");
    let bad = blocking_string(|o, l, e| oidc_oauth_userinfo(web, bp, bn, null(), 0, o, l, e));
    assert_eq!(bad.code, R::InvalidToken);
    assert!(bad.err.as_deref().unwrap().contains(r#""status":401"#), "the server's status in the details: {bad:?}");
    let bad_async = run_async(|ud, e| oidc_oauth_userinfo_async(web, bp, bn, null(), 0, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, false);
    let bad = blocking_string(|o, l, e| oidc_oauth_userinfo(web, null(), 0, null(), 0, o, l, e));
    assert_eq!(bad.code, R::InvalidArgument);
    let bad_async = run_async(|ud, e| oidc_oauth_userinfo_async(web, null(), 0, null(), 0, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, true);

    // Introspection, plain and RFC 9701: the same JSON; unknown flags refused.
    let (hp, hn) = s("access_token");
    for flags in [0, oidc_introspect_flag::Signed as u32] {
        let i = blocking_string(|o, l, e| oidc_oauth_introspect(web, ap, an, hp, hn, flags, o, l, e)).ok();
        let i_async = run_async(|ud, e| oidc_oauth_introspect_async(web, ap, an, hp, hn, flags, Some(on_string), ud, null(), e)).ok();
        assert_eq!(i_async.json(), i.json(), "flags {flags}");
        assert_eq!(i_async.json()["active"], true);
    }
    let bad = blocking_string(|o, l, e| oidc_oauth_introspect(web, ap, an, null(), 0, 4, o, l, e));
    assert_eq!(bad.code, R::InvalidArgument);
    let bad_async = run_async(|ud, e| oidc_oauth_introspect_async(web, ap, an, null(), 0, 4, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, true);

    // A resource request (the IdP's /me) with the access token: same status and body.
    let me = format!("{}/me", idp().issuer);
    let ((gp, gn), (mp, mn)) = (s("GET"), s(&me));
    let mut status = 0u32;
    let r = blocking_string(|o, l, e| {
        oidc_oauth_resource_request(web, gp, gn, mp, mn, ap, an, null(), 0, null(), 0, null(), 0, &mut status, o, l, e)
    })
    .ok();
    let r_async = run_async(|ud, e| {
        oidc_oauth_resource_request_async(web, gp, gn, mp, mn, ap, an, null(), 0, null(), 0, null(), 0, Some(on_resource), ud, null(), e)
    })
    .ok();
    assert_eq!(r_async.json(), json!({"status": status, "body": r.out.unwrap()}));
    assert_eq!(status, 200);
    let (xp, xn) = s("TRACE");
    let mut st = 0u32;
    let bad = blocking_string(|o, l, e| {
        oidc_oauth_resource_request(web, xp, xn, mp, mn, ap, an, null(), 0, null(), 0, null(), 0, &mut st, o, l, e)
    });
    assert_eq!(bad.code, R::InvalidArgument);
    let bad_async = run_async(|ud, e| {
        oidc_oauth_resource_request_async(web, xp, xn, mp, mn, ap, an, null(), 0, null(), 0, null(), 0, Some(on_resource), ud, null(), e)
    });
    same_failure(&bad, &bad_async, true);

    // Authorization URL (state and nonce given: deterministic), PAR, response parsing, logout
    // URL and endpoint lookup: the same strings.
    let challenge = pkce::generate().unwrap().challenge;
    let req = json!({"redirect_uri": CB, "scope": "openid", "state": "st-1", "nonce": "n-1", "code_challenge": challenge}).to_string();
    let (qp, qn) = s(&req);
    let u = blocking_string(|o, l, e| oidc_oauth_authorization_url(web, qp, qn, o, l, e)).ok();
    let u_async = run_async(|ud, e| oidc_oauth_authorization_url_async(web, qp, qn, Some(on_string), ud, null(), e)).ok();
    assert_eq!(u_async.out, u.out);
    let (jp, jn) = s("{not json");
    let bad = blocking_string(|o, l, e| oidc_oauth_authorization_url(web, jp, jn, o, l, e));
    let bad_async = run_async(|ud, e| oidc_oauth_authorization_url_async(web, jp, jn, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, true);

    let par = blocking_string(|o, l, e| oidc_oauth_push_authorization_request(web, qp, qn, o, l, e)).ok();
    let par_async = run_async(|ud, e| oidc_oauth_push_authorization_request_async(web, qp, qn, Some(on_string), ud, null(), e)).ok();
    assert_eq!(json_keys(&par_async.json()), json_keys(&par.json()));
    assert!(par_async.json()["request_uri"].as_str().unwrap().starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!((&par_async.json()["state"], &par_async.json()["nonce"]), (&json!("st-1"), &json!("n-1")));
    let bad_client = with_secret("web-app", "wrong-secret");
    let bad = blocking_string(|o, l, e| oidc_oauth_push_authorization_request(bad_client, qp, qn, o, l, e));
    assert_eq!(bad.code, R::InvalidClient);
    let bad_async = run_async(|ud, e| oidc_oauth_push_authorization_request_async(bad_client, qp, qn, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, false);

    let back = format!("{CB}?code=abc&state=st-1&iss={}", oidc_testkit::util::url_encode(&idp().issuer));
    let ((bp, bn), (stp, stn), (wp, wn)) = (s(&back), s("st-1"), s("st-2"));
    let p = blocking_string(|o, l, e| oidc_oauth_parse_authorization_response(web, bp, bn, stp, stn, o, l, e)).ok();
    let p_async =
        run_async(|ud, e| oidc_oauth_parse_authorization_response_async(web, bp, bn, stp, stn, Some(on_string), ud, null(), e)).ok();
    assert_eq!(p_async.out, p.out);
    assert_eq!(p_async.json()["code"], "abc");
    let bad = blocking_string(|o, l, e| oidc_oauth_parse_authorization_response(web, bp, bn, wp, wn, o, l, e));
    assert_eq!(bad.code, R::StateMismatch);
    let bad_async = run_async(|ud, e| oidc_oauth_parse_authorization_response_async(web, bp, bn, wp, wn, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, false);

    let ((lp, ln), (sp, sn)) = (s("http://127.0.0.1/logout-cb"), s("bye"));
    let l = blocking_string(|o, l, e| oidc_oauth_end_session_url(web, ip, inn, lp, ln, sp, sn, o, l, e)).ok();
    let l_async = run_async(|ud, e| oidc_oauth_end_session_url_async(web, ip, inn, lp, ln, sp, sn, Some(on_string), ud, null(), e)).ok();
    assert_eq!(l_async.out, l.out);

    let (ep, en) = s("token_endpoint");
    let t = blocking_string(|o, l, e| oidc_oauth_client_endpoint(web, ep, en, o, l, e)).ok();
    let t_async = run_async(|ud, e| oidc_oauth_client_endpoint_async(web, ep, en, Some(on_string), ud, null(), e)).ok();
    assert_eq!(t_async.out, t.out);
    assert_eq!(t_async.out.as_deref(), Some(idp().token_endpoint.as_str()));
    let (ep, en) = s("registration_endpoint_nope");
    let bad = blocking_string(|o, l, e| oidc_oauth_client_endpoint(web, ep, en, o, l, e));
    let bad_async = run_async(|ud, e| oidc_oauth_client_endpoint_async(web, ep, en, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, false);

    // Revocation: the access token through the twin, the refresh token blocking; both are
    // then inactive. A wrong client secret fails alike; an empty token is refused.
    let g = run_async(|ud, e| oidc_oauth_revoke_async(web, ap, an, hp, hn, Some(on_done), ud, null(), e)).ok();
    assert_eq!((g.out, g.err), (None, None));
    let (rp, rn) = s(rt);
    blocking_done(|e| oidc_oauth_revoke(web, rp, rn, null(), 0, e)).ok();
    for (p, n) in [(ap, an), (rp, rn)] {
        let i = blocking_string(|o, l, e| oidc_oauth_introspect(web, p, n, null(), 0, 0, o, l, e)).ok();
        assert_eq!(i.json()["active"], false);
    }
    let bad = blocking_done(|e| oidc_oauth_revoke(bad_client, ap, an, null(), 0, e));
    assert_eq!(bad.code, R::InvalidClient);
    let bad_async = run_async(|ud, e| oidc_oauth_revoke_async(bad_client, ap, an, null(), 0, Some(on_done), ud, null(), e));
    same_failure(&bad, &bad_async, false);
    let bad = blocking_done(|e| oidc_oauth_revoke(web, null(), 0, null(), 0, e));
    let bad_async = run_async(|ud, e| oidc_oauth_revoke_async(web, null(), 0, null(), 0, Some(on_done), ud, null(), e));
    same_failure(&bad, &bad_async, true);

    oidc_oauth_client_free(bad_client);
    oidc_oauth_client_free(web);
}

#[test]
fn register_twin_matches_the_blocking_call() {
    let b = builder("");
    let md = json!({"redirect_uris": ["https://127.0.0.1/cb"], "client_name": "liboidc async"}).to_string();
    let (mp, mn) = s(&md);
    let r = blocking_string(|o, l, e| oidc_oauth_register(b, mp, mn, null(), 0, o, l, e)).ok();
    let r_async = run_async(|ud, e| oidc_oauth_register_async(b, mp, mn, null(), 0, Some(on_string), ud, null(), e)).ok();
    assert_eq!(json_keys(&r_async.json()), json_keys(&r.json()));
    assert_eq!(r_async.json()["client_name"], "liboidc async");
    assert_ne!(r_async.json()["client_id"], r.json()["client_id"]);
    // The server's RFC 7591 error, on both paths.
    let md = json!({"redirect_uris": ["https://127.0.0.1/cb"], "token_endpoint_auth_method": "bogus"}).to_string();
    let (mp, mn) = s(&md);
    let bad = blocking_string(|o, l, e| oidc_oauth_register(b, mp, mn, null(), 0, o, l, e));
    assert_eq!(bad.code, R::InvalidClientMetadata);
    let bad_async = run_async(|ud, e| oidc_oauth_register_async(b, mp, mn, null(), 0, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, false);
    // Empty metadata is refused by the call; metadata that is not an object is the core's
    // answer (INVALID_ARGUMENT too), through the callback.
    let bad = blocking_string(|o, l, e| oidc_oauth_register(b, null(), 0, null(), 0, o, l, e));
    let bad_async = run_async(|ud, e| oidc_oauth_register_async(b, null(), 0, null(), 0, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, true);
    let (mp, mn) = s("[1]");
    let bad = blocking_string(|o, l, e| oidc_oauth_register(b, mp, mn, null(), 0, o, l, e));
    assert_eq!(bad.code, R::InvalidArgument);
    let bad_async = run_async(|ud, e| oidc_oauth_register_async(b, mp, mn, null(), 0, Some(on_string), ud, null(), e));
    same_failure(&bad, &bad_async, false);
    // The builder may be freed at once: the call copied what it needs.
    let md = json!({"redirect_uris": ["https://127.0.0.1/cb"]}).to_string();
    let (mp, mn) = s(&md);
    let batch = Batch::new(1);
    assert_eq!(start(&batch, 0, |ud| oidc_oauth_register_async(b, mp, mn, null(), 0, Some(on_string), ud, null(), null_mut())), R::Ok);
    oidc_oauth_builder_free(b);
    assert!(batch.wait(1, WAIT));
    assert_eq!(batch.code(0), R::Ok as u32);
}

/// One `_async` call, given its user_data and err_out.
type Call = dyn Fn(*mut c_void, *mut *mut oidc_error) -> R;

#[test]
fn null_client_or_callback_is_refused_and_no_callback_runs() {
    let web = web();
    let b = builder("");
    let (p, n) = s("x");
    let checks: Vec<(&str, Box<Call>)> = vec![
        (
            "exchange_code client",
            Box::new(move |ud, e| {
                oidc_oauth_exchange_code_async(null(), p, n, p, n, null(), 0, null(), 0, null(), 0, Some(on_token), ud, null(), e)
            }),
        ),
        (
            "exchange_code cb",
            Box::new(move |ud, e| oidc_oauth_exchange_code_async(web, p, n, p, n, null(), 0, null(), 0, null(), 0, None, ud, null(), e)),
        ),
        ("refresh", Box::new(move |ud, e| oidc_oauth_refresh_async(web, p, n, null(), 0, null(), 0, None, ud, null(), e))),
        (
            "cc",
            Box::new(move |ud, e| {
                oidc_oauth_client_credentials_async(null(), null(), 0, null(), 0, null(), 0, Some(on_token), ud, null(), e)
            }),
        ),
        (
            "cc cached",
            Box::new(move |ud, e| oidc_oauth_client_credentials_cached_async(web, null(), 0, null(), 0, null(), 0, None, ud, null(), e)),
        ),
        (
            "token_exchange",
            Box::new(move |ud, e| oidc_oauth_token_exchange_async(null(), p, n, null(), 0, null(), 0, Some(on_token), ud, null(), e)),
        ),
        ("jwt_bearer", Box::new(move |ud, e| oidc_oauth_jwt_bearer_async(web, p, n, null(), 0, null(), 0, None, ud, null(), e))),
        ("custom_grant", Box::new(move |ud, e| oidc_oauth_custom_grant_async(null(), p, n, null(), 0, Some(on_token), ud, null(), e))),
        (
            "validate_id_token",
            Box::new(move |ud, e| oidc_oauth_validate_id_token_async(web, p, n, null(), 0, null(), 0, null(), 0, -1, None, ud, null(), e)),
        ),
        ("introspect", Box::new(move |ud, e| oidc_oauth_introspect_async(null(), p, n, null(), 0, 0, Some(on_string), ud, null(), e))),
        ("revoke", Box::new(move |ud, e| oidc_oauth_revoke_async(web, p, n, null(), 0, None, ud, null(), e))),
        ("userinfo", Box::new(move |ud, e| oidc_oauth_userinfo_async(null(), p, n, null(), 0, Some(on_string), ud, null(), e))),
        ("authorization_url", Box::new(move |ud, e| oidc_oauth_authorization_url_async(web, null(), 0, None, ud, null(), e))),
        ("par", Box::new(move |ud, e| oidc_oauth_push_authorization_request_async(null(), null(), 0, Some(on_string), ud, null(), e))),
        ("parse", Box::new(move |ud, e| oidc_oauth_parse_authorization_response_async(web, p, n, null(), 0, None, ud, null(), e))),
        (
            "end_session",
            Box::new(move |ud, e| {
                oidc_oauth_end_session_url_async(null(), null(), 0, null(), 0, null(), 0, Some(on_string), ud, null(), e)
            }),
        ),
        (
            "resource",
            Box::new(move |ud, e| {
                oidc_oauth_resource_request_async(web, p, n, p, n, p, n, null(), 0, null(), 0, null(), 0, None, ud, null(), e)
            }),
        ),
        ("endpoint", Box::new(move |ud, e| oidc_oauth_client_endpoint_async(null(), p, n, Some(on_string), ud, null(), e))),
        ("register builder", Box::new(move |ud, e| oidc_oauth_register_async(null(), p, n, null(), 0, Some(on_string), ud, null(), e))),
        ("register cb", Box::new(move |ud, e| oidc_oauth_register_async(b, p, n, null(), 0, None, ud, null(), e))),
    ];
    for (what, f) in checks {
        let g = run_async(f);
        assert_eq!((g.code, g.returned), (R::NullParameter, true), "{what}");
    }
    oidc_oauth_builder_free(b);
    oidc_oauth_client_free(web);
}

#[test]
fn pre_cancelled_calls_complete_cancelled_and_a_cancel_after_start_is_answered_once() {
    let web = web();
    let svc = with_secret("svc-basic", "svc-basic-secret");
    let cancel = new_cancel(0);
    oidc_cancel_trigger(cancel);
    let b = builder("");
    let ((p, n), (gp, gn), (mp, mn)) = (s("tok"), s("GET"), s("https://127.0.0.1/"));
    let md = json!({"redirect_uris": ["https://127.0.0.1/cb"]}).to_string();
    let (dp, dn) = s(&md);
    let k = cancel as *const oidc_cancel;
    let calls: Vec<Box<Call>> = vec![
        Box::new(move |ud, e| oidc_oauth_client_credentials_async(svc, null(), 0, null(), 0, null(), 0, Some(on_token), ud, k, e)),
        Box::new(move |ud, e| oidc_oauth_client_credentials_cached_async(svc, null(), 0, null(), 0, null(), 0, Some(on_token), ud, k, e)),
        Box::new(move |ud, e| oidc_oauth_refresh_async(web, p, n, null(), 0, null(), 0, Some(on_token), ud, k, e)),
        Box::new(move |ud, e| oidc_oauth_exchange_code_async(web, p, n, p, n, null(), 0, null(), 0, null(), 0, Some(on_token), ud, k, e)),
        Box::new(move |ud, e| oidc_oauth_introspect_async(web, p, n, null(), 0, 0, Some(on_string), ud, k, e)),
        Box::new(move |ud, e| oidc_oauth_userinfo_async(web, p, n, null(), 0, Some(on_string), ud, k, e)),
        Box::new(move |ud, e| oidc_oauth_revoke_async(web, p, n, null(), 0, Some(on_done), ud, k, e)),
        Box::new(move |ud, e| oidc_oauth_push_authorization_request_async(web, null(), 0, Some(on_string), ud, k, e)),
        Box::new(move |ud, e| {
            oidc_oauth_resource_request_async(web, gp, gn, mp, mn, p, n, null(), 0, null(), 0, null(), 0, Some(on_resource), ud, k, e)
        }),
        Box::new(move |ud, e| oidc_oauth_register_async(b, dp, dn, null(), 0, Some(on_string), ud, k, e)),
    ];
    for (i, f) in calls.iter().enumerate() {
        let g = run_async(f);
        assert_eq!((g.code, g.returned, g.out), (R::Cancelled, false, None), "call {i}");
        assert!(g.err.unwrap().starts_with(&format!("{}|", R::Cancelled as u32)));
    }
    oidc_cancel_free(cancel);

    // Cancelled right after they were accepted: each completes exactly once, OK or CANCELLED.
    let cancel = new_cancel(0);
    let k = cancel as *const oidc_cancel;
    let batch = Batch::new(16);
    for i in 0..16 {
        let rc = start(&batch, i, |ud| {
            if i % 2 == 0 {
                oidc_oauth_client_credentials_async(svc, null(), 0, null(), 0, null(), 0, Some(on_token), ud, k, null_mut())
            } else {
                oidc_oauth_introspect_async(web, p, n, null(), 0, 0, Some(on_string), ud, k, null_mut())
            }
        });
        assert_eq!(rc, R::Ok);
    }
    oidc_cancel_trigger(cancel);
    oidc_cancel_free(cancel);
    assert!(batch.wait(16, WAIT));
    std::thread::sleep(Duration::from_millis(50));
    for i in 0..16 {
        assert_eq!(batch.calls[i].load(Ordering::Acquire), 1, "call {i} exactly once");
        assert!([R::Ok as u32, R::Cancelled as u32].contains(&batch.code(i)), "call {i}: {}", batch.code(i));
    }
    assert!(!batch.threads.lock().unwrap().contains(&std::thread::current().id()));
    oidc_oauth_builder_free(b);
    oidc_oauth_client_free(svc);
    oidc_oauth_client_free(web);
}

#[test]
fn freeing_the_client_with_calls_in_flight_is_safe_and_every_callback_runs() {
    let svc = with_secret("svc-post", "svc-post-secret");
    let opaque = idp().token("urn:liboidc:opaque", "read");
    let ((op, on), (bp, bn), (ep, en)) = (s(&opaque), s("not-a-valid-access-token"), s("introspection_endpoint"));
    let batch = Batch::new(24);
    for i in 0..24 {
        let rc = start(&batch, i, |ud| match i % 4 {
            0 => oidc_oauth_client_credentials_async(svc, null(), 0, null(), 0, null(), 0, Some(on_token), ud, null(), null_mut()),
            1 => oidc_oauth_introspect_async(svc, op, on, null(), 0, 0, Some(on_string), ud, null(), null_mut()),
            2 => oidc_oauth_userinfo_async(svc, bp, bn, null(), 0, Some(on_string), ud, null(), null_mut()),
            _ => oidc_oauth_client_endpoint_async(svc, ep, en, Some(on_string), ud, null(), null_mut()),
        });
        assert_eq!(rc, R::Ok);
    }
    oidc_oauth_client_free(svc); // returns at once; the calls hold their own reference
    assert!(batch.wait(24, WAIT), "every callback ran");
    std::thread::sleep(Duration::from_millis(50));
    for i in 0..24 {
        assert_eq!(batch.calls[i].load(Ordering::Acquire), 1, "call {i} exactly once");
        let want = if i % 4 == 2 { R::InvalidToken } else { R::Ok };
        assert_eq!(batch.code(i), want as u32, "call {i}: {:?}", batch.errors.lock().unwrap()[i]);
    }
    let claims = batch.claims.lock().unwrap();
    let introspected: Value = serde_json::from_str(claims[1].as_deref().unwrap()).unwrap();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["aud"], "urn:liboidc:opaque");
}
