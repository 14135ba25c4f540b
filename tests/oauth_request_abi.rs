//! The ABI 0.2 protocol request object, from Rust through the C ABI: the parameter rules (no
//! network), then the flows against the real IdP (oidc-provider), each through the blocking
//! send and the non-blocking one, with the same outcomes.

mod common;

use std::ffi::{CStr, c_void};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common::cabi::*;
use common::real_idp::{RealIdp, client_key};
use oidc::ffi::cancel::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::oidc_error_free;
use oidc::ffi::oauth_client::*;
use oidc::ffi::oauth_request::*;
use oidc::ffi::oidc_result as R;

fn idp() -> &'static RealIdp {
    static IDP: OnceLock<RealIdp> = OnceLock::new();
    IDP.get_or_init(RealIdp::start)
}

fn client(id: Option<&str>, secret: Option<&str>, dpop_pem: Option<&str>) -> Client {
    let b = oauth_builder(idp(), id.unwrap_or(""));
    if let Some(sec) = secret {
        set_str(b, oidc_oauth_builder_set_client_secret, sec);
    }
    if let Some(pem) = dpop_pem {
        set_str(b, oidc_oauth_builder_set_dpop_key, pem);
    }
    oauth_build(b)
}

#[test]
fn parameter_rules_are_the_cores_and_need_no_network() {
    // The issuer is never contacted: every refusal happens at the setter or at send.
    let mut b = std::ptr::null_mut();
    assert_eq!(oidc_oauth_builder_new(&mut b, std::ptr::null_mut()), R::Ok);
    let (ip, il) = s("https://127.0.0.1:1");
    assert_eq!(oidc_oauth_builder_set_issuer(b, ip, il, std::ptr::null_mut()), R::Ok);
    let (cp, cl) = s("svc");
    assert_eq!(oidc_oauth_builder_set_client_id(b, cp, cl, std::ptr::null_mut()), R::Ok);
    let mut c = std::ptr::null_mut();
    assert_eq!(oidc_oauth_builder_build(b, &mut c, std::ptr::null_mut()), R::Ok);
    let c = Client(c);

    let r = Req::new(&c, Op::OIDC_OP_REFRESH);
    let Fail { code: rc, msg: m, .. } = failure(r.try_set(P::OIDC_PARAM_CODE, "x"));
    assert_eq!(rc, R::InvalidArgument);
    assert!(m.contains("OIDC_PARAM_CODE does not apply to OIDC_OP_REFRESH"), "{m}");
    let Fail { code: rc, msg: m, .. } = failure(r.try_set(P::OIDC_PARAM_SCOPE, "a"));
    assert_eq!(rc, R::InvalidArgument);
    assert!(m.contains("list"), "{m}");
    let Fail { code: rc, msg: m, .. } = failure(r.try_add(P::OIDC_PARAM_SCOPE, "a b"));
    assert!(rc == R::InvalidArgument && m.contains("one scope per call"), "{m}");
    assert_eq!(failure(r.try_set(P::OIDC_PARAM_REFRESH_TOKEN, "")).code, R::InvalidArgument);
    let Fail { code: rc, msg: m, .. } = failure(r.try_param("grant_type", "x"));
    assert!(rc == R::InvalidArgument && m.contains("set by liboidc"), "{m}");
    let Fail { code: rc, msg: m, .. } = failure(r.try_param("refresh_token", "x"));
    assert!(rc == R::InvalidArgument && m.contains("OIDC_PARAM_REFRESH_TOKEN"), "{m}");
    assert!(r.try_param("acr_values", "urn:x").is_ok(), "any other name is a custom parameter");
    // code_challenge_method is liboidc's where it sends its code challenge (always S256), and a
    // custom parameter elsewhere: Keycloak wants PKCE on the device authorization request of a
    // client that enforces PKCE (tests/c/test_keycloak.c sends it).
    for op in [Op::OIDC_OP_AUTHORIZATION_URL, Op::OIDC_OP_PUSHED_AUTHORIZATION] {
        let Fail { code: rc, msg: m, .. } = failure(Req::new(&c, op).try_param("code_challenge_method", "plain"));
        assert!(rc == R::InvalidArgument && m.contains("set by liboidc"), "{m}");
    }
    let da = Req::new(&c, Op::OIDC_OP_DEVICE_AUTHORIZATION);
    assert!(da.try_param("code_challenge", "x").is_ok() && da.try_param("code_challenge_method", "S256").is_ok());
    let dp = Req::new(&c, Op::OIDC_OP_DEVICE_POLL);
    assert!(dp.try_param("code_verifier", "v").is_ok());
    // A missing required parameter: at send, on both paths (the callback never runs).
    let Fail { code: rc, msg: m, .. } = failure(r.send());
    assert!(rc == R::InvalidArgument && m.contains("requires OIDC_PARAM_REFRESH_TOKEN"), "{m}");
    assert_eq!(failure(r.send_async(std::ptr::null())).code, R::InvalidArgument);
    // Unknown values, wrong setters, bad ranges.
    let mut e = std::ptr::null_mut();
    assert_eq!(oidc_oauth_request_set_int(r.0, 9999, 1, &mut e), R::InvalidArgument);
    oidc_error_free(e);
    let mut out = std::ptr::null_mut();
    assert_eq!(oidc_oauth_request_new(c.0, 0, &mut out, std::ptr::null_mut()), R::InvalidArgument);
    let cc = Req::new(&c, Op::OIDC_OP_CLIENT_CREDENTIALS);
    assert_eq!(oidc_oauth_request_set_int(cc.0, P::OIDC_PARAM_USE_CACHE as u32, 2, std::ptr::null_mut()), R::InvalidArgument);
    assert_eq!(oidc_oauth_request_set_int(cc.0, P::OIDC_PARAM_DEADLINE_MS as u32, 0, std::ptr::null_mut()), R::InvalidArgument);
    let cc = cc.add(P::OIDC_PARAM_AUDIENCE, "a");
    assert_eq!(failure(cc.try_add(P::OIDC_PARAM_AUDIENCE, "b")).code, R::InvalidArgument);
    let jb = Req::new(&c, Op::OIDC_OP_JWT_BEARER);
    assert!(failure(jb.send()).msg.contains("exactly one"));
    let ar = Req::new(&c, Op::OIDC_OP_AUTHORIZATION_RESPONSE).set(P::OIDC_PARAM_RESPONSE, "code=x");
    assert!(failure(ar.send()).msg.contains("OIDC_PARAM_NO_STATE_SENT"));
    assert!(failure(ar.try_param("x", "y")).msg.contains("sends nothing"));
    let poll = Req::new(&c, Op::OIDC_OP_DEVICE_POLL);
    assert!(failure(poll.send()).msg.contains("oidc_oauth_request_set_pending"));
    let md = Req::new(&c, Op::OIDC_OP_REGISTER);
    assert!(failure(md.try_set(P::OIDC_PARAM_METADATA, "[1]")).msg.contains("JSON object"));
    let rs = Req::new(&c, Op::OIDC_OP_RESOURCE);
    assert_eq!(failure(rs.try_set(P::OIDC_PARAM_METHOD, "TRACE")).code, R::InvalidArgument);
    // Invalid UTF-8 and NULL.
    let bad = [0xffu8, 0xfe];
    let mut e = std::ptr::null_mut();
    assert_eq!(oidc_oauth_request_set_string(rs.0, P::OIDC_PARAM_URL as u32, bad.as_ptr().cast(), 2, &mut e), R::InvalidUtf8);
    oidc_error_free(e);
    assert_eq!(oidc_oauth_request_set_string(std::ptr::null_mut(), 1, bad.as_ptr().cast(), 2, std::ptr::null_mut()), R::NullParameter);
    assert_eq!(oidc_oauth_send(rs.0, std::ptr::null(), std::ptr::null_mut(), std::ptr::null_mut()), R::NullParameter);
    assert_eq!(oidc_oauth_send_async(rs.0, std::ptr::null(), None, std::ptr::null_mut(), std::ptr::null_mut()), R::NullParameter);
    assert!(oidc_oauth_response_string(std::ptr::null(), 1).is_null());
    assert_eq!(oidc_oauth_response_int(std::ptr::null(), 100), -1);
    // A client without a client id only registers.
    let mut b = std::ptr::null_mut();
    assert_eq!(oidc_oauth_builder_new(&mut b, std::ptr::null_mut()), R::Ok);
    assert_eq!(oidc_oauth_builder_set_issuer(b, ip, il, std::ptr::null_mut()), R::Ok);
    let mut c2 = std::ptr::null_mut();
    assert_eq!(oidc_oauth_builder_build(b, &mut c2, std::ptr::null_mut()), R::Ok);
    let c2 = Client(c2);
    let mut out = std::ptr::null_mut();
    let mut e = std::ptr::null_mut();
    assert_eq!(oidc_oauth_request_new(c2.0, Op::OIDC_OP_REFRESH as u32, &mut out, &mut e), R::InvalidConfig);
    assert!(Fail::take(e, false).msg.contains("only send OIDC_OP_REGISTER"));
    drop(Req::new(&c2, Op::OIDC_OP_REGISTER));
}

#[test]
fn client_credentials_blocking_async_and_cached() {
    let c = client(Some("svc-basic"), Some("svc-basic-secret"), None);
    let r = Req::new(&c, Op::OIDC_OP_CLIENT_CREDENTIALS).add(P::OIDC_PARAM_SCOPE, "read").add(P::OIDC_PARAM_RESOURCE, "urn:liboidc:es256");
    let (a, b) = r.send_both();
    for t in [a.unwrap(), b.unwrap()] {
        assert_eq!(t.str(F::OIDC_FIELD_TOKEN_TYPE).as_deref(), Some("Bearer"));
        assert_eq!(t.str(F::OIDC_FIELD_SCOPE).as_deref(), Some("read"));
        assert!(t.int(F::OIDC_FIELD_EXPIRES_IN) > 0);
        assert_eq!(t.json()["access_token"].as_str(), t.str(F::OIDC_FIELD_ACCESS_TOKEN).as_deref());
        assert_eq!(oidc_oauth_response_operation(t.0), Op::OIDC_OP_CLIENT_CREDENTIALS as u32);
    }
    // The same request sent again through the cache: one token.
    let r = r.int(P::OIDC_PARAM_USE_CACHE, 1);
    let (a, b) = r.send_both();
    assert_eq!(a.unwrap().str(F::OIDC_FIELD_ACCESS_TOKEN), b.unwrap().str(F::OIDC_FIELD_ACCESS_TOKEN));
    assert!(failure(r.try_param("x", "y").and_then(|_| r.send().map(drop))).msg.contains("cache"));
    // An OAuth error: the same code on both paths.
    let bad = client(Some("svc-basic"), Some("wrong"), None);
    let r = Req::new(&bad, Op::OIDC_OP_CLIENT_CREDENTIALS);
    let (a, b) = r.send_both();
    assert_eq!(failure(a).code, R::InvalidClient);
    assert_eq!(failure(b).code, R::InvalidClient);
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    oidc_testkit::util::parse_query(q).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[test]
fn authorization_code_flow_userinfo_with_dpop_introspection_and_revocation() {
    let idp = idp();
    let web = client(Some("web-app"), Some("web-app-secret"), Some(&client_key("dpop-ec.pem")));
    // The URL: state, nonce and a PKCE pair are generated and come back in the response.
    let url = Req::new(&web, Op::OIDC_OP_AUTHORIZATION_URL)
        .set(P::OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb")
        .add(P::OIDC_PARAM_SCOPE, "openid")
        .add(P::OIDC_PARAM_SCOPE, "email")
        .send()
        .unwrap();
    let (u, state, nonce, verifier) = (
        url.str(F::OIDC_FIELD_URL).unwrap(),
        url.str(F::OIDC_FIELD_STATE).unwrap(),
        url.str(F::OIDC_FIELD_NONCE).unwrap(),
        url.str(F::OIDC_FIELD_CODE_VERIFIER).unwrap(),
    );
    assert_eq!(query_param(&u, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(query_param(&u, "scope").as_deref(), Some("openid email"));
    let cb = idp.browser().login_and_consent(&u, "user-1");
    // The callback checked (state, RFC 9207 iss), on both paths.
    let parse =
        Req::new(&web, Op::OIDC_OP_AUTHORIZATION_RESPONSE).set(P::OIDC_PARAM_RESPONSE, &cb).set(P::OIDC_PARAM_EXPECTED_STATE, &state);
    let (a, b) = parse.send_both();
    let code = a.unwrap().str(F::OIDC_FIELD_CODE).unwrap();
    assert_eq!(b.unwrap().str(F::OIDC_FIELD_CODE).as_deref(), Some(code.as_str()));
    let wrong =
        Req::new(&web, Op::OIDC_OP_AUTHORIZATION_RESPONSE).set(P::OIDC_PARAM_RESPONSE, &cb).set(P::OIDC_PARAM_EXPECTED_STATE, "other");
    assert_eq!(failure(wrong.send()).code, R::StateMismatch);
    // The code exchange (DPoP-bound: the client has a DPoP key; the IdP demands nonces).
    let t = Req::new(&web, Op::OIDC_OP_AUTHORIZATION_CODE)
        .set(P::OIDC_PARAM_CODE, &code)
        .set(P::OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb")
        .set(P::OIDC_PARAM_CODE_VERIFIER, &verifier)
        .set(P::OIDC_PARAM_NONCE, &nonce)
        .send_async(std::ptr::null())
        .unwrap();
    assert_eq!(t.str(F::OIDC_FIELD_TOKEN_TYPE).as_deref(), Some("DPoP"));
    let at = t.str(F::OIDC_FIELD_ACCESS_TOKEN).unwrap();
    let id_token = t.str(F::OIDC_FIELD_ID_TOKEN).unwrap();
    // UserInfo with the bound token: the DPoP scheme by default (RFC 9449 §7.1), both paths.
    let ui = Req::new(&web, Op::OIDC_OP_USERINFO).set(P::OIDC_PARAM_ACCESS_TOKEN, &at).set(P::OIDC_PARAM_EXPECTED_SUB, "user-1");
    let (a, b) = ui.send_both();
    assert_eq!(a.unwrap().str(F::OIDC_FIELD_SUB).as_deref(), Some("user-1"));
    assert_eq!(b.unwrap().json()["sub"], "user-1");
    // Sent as Bearer, the IdP refuses the bound token.
    let ui_bearer = Req::new(&web, Op::OIDC_OP_USERINFO).set(P::OIDC_PARAM_ACCESS_TOKEN, &at).set(P::OIDC_PARAM_TOKEN_TYPE, "Bearer");
    assert_eq!(failure(ui_bearer.send()).code, R::InvalidToken);
    // The ID token through VALIDATE_ID_TOKEN (nonce and at_hash).
    let v = Req::new(&web, Op::OIDC_OP_VALIDATE_ID_TOKEN)
        .set(P::OIDC_PARAM_ID_TOKEN, &id_token)
        .set(P::OIDC_PARAM_NONCE, &nonce)
        .set(P::OIDC_PARAM_ACCESS_TOKEN, &at);
    let (a, b) = v.send_both();
    assert_eq!(a.unwrap().json()["sub"], "user-1");
    assert_eq!(b.unwrap().str(F::OIDC_FIELD_SUB).as_deref(), Some("user-1"));
    let v = Req::new(&web, Op::OIDC_OP_VALIDATE_ID_TOKEN).set(P::OIDC_PARAM_ID_TOKEN, &id_token).set(P::OIDC_PARAM_NONCE, "other");
    assert_eq!(failure(v.send()).code, R::NonceMismatch);
    // The refresh token keeps the binding (before revocation: the IdP revokes the whole grant).
    let rt = t.str(F::OIDC_FIELD_REFRESH_TOKEN).unwrap();
    let t2 = Req::new(&web, Op::OIDC_OP_REFRESH).set(P::OIDC_PARAM_REFRESH_TOKEN, &rt).send().unwrap();
    assert_eq!(t2.str(F::OIDC_FIELD_TOKEN_TYPE).as_deref(), Some("DPoP"));
    let at = t2.str(F::OIDC_FIELD_ACCESS_TOKEN).unwrap();
    // Introspection, revocation, introspection again.
    let intro = Req::new(&web, Op::OIDC_OP_INTROSPECT).set(P::OIDC_PARAM_TOKEN, &at);
    let (a, b) = intro.send_both();
    assert_eq!(a.unwrap().int(F::OIDC_FIELD_ACTIVE), 1);
    assert_eq!(b.unwrap().str(F::OIDC_FIELD_CLIENT_ID).as_deref(), Some("web-app"));
    let rv = Req::new(&web, Op::OIDC_OP_REVOKE).set(P::OIDC_PARAM_TOKEN, &at).set(P::OIDC_PARAM_TOKEN_TYPE_HINT, "access_token");
    let (a, b) = rv.send_both();
    assert_eq!(a.unwrap().json(), serde_json::json!({}));
    drop(b.unwrap());
    assert_eq!(intro.send().unwrap().int(F::OIDC_FIELD_ACTIVE), 0);
    // The end-session URL and an endpoint lookup (local once discovery is cached).
    let es = Req::new(&web, Op::OIDC_OP_END_SESSION_URL)
        .set(P::OIDC_PARAM_ID_TOKEN_HINT, &id_token)
        .set(P::OIDC_PARAM_POST_LOGOUT_REDIRECT_URI, "http://127.0.0.1/logout-cb");
    let (a, b) = es.send_both();
    assert!(a.unwrap().str(F::OIDC_FIELD_URL).unwrap().contains("post_logout_redirect_uri="));
    drop(b.unwrap());
    let ep = Req::new(&web, Op::OIDC_OP_ENDPOINT).set(P::OIDC_PARAM_ENDPOINT_NAME, "token_endpoint").send().unwrap();
    assert_eq!(ep.str(F::OIDC_FIELD_URL).as_deref(), Some(idp.token_endpoint.as_str()));
}

#[test]
fn device_flow_cancel_and_deadline_alike_on_both_paths() {
    let idp = idp();
    let c = client(Some("device-app"), None, None);
    let start = Req::new(&c, Op::OIDC_OP_DEVICE_AUTHORIZATION).add(P::OIDC_PARAM_SCOPE, "openid").send_async(std::ptr::null()).unwrap();
    assert_eq!(start.int(F::OIDC_FIELD_INTERVAL), 5);
    let user_code = start.str(F::OIDC_FIELD_USER_CODE).unwrap();
    let poll = Req::new(&c, Op::OIDC_OP_DEVICE_POLL);
    assert_eq!(oidc_oauth_request_set_pending(poll.0, start.0, std::ptr::null_mut()), R::Ok);
    drop(start); // the poll copied what it needs
    // Pending, DEADLINE_MS shorter than the interval: DEADLINE_EXCEEDED on both paths.
    let short = Req::new(&c, Op::OIDC_OP_DEVICE_POLL);
    let mut e = std::ptr::null_mut();
    let again = Req::new(&c, Op::OIDC_OP_DEVICE_AUTHORIZATION).send().unwrap();
    assert_eq!(oidc_oauth_request_set_pending(short.0, again.0, &mut e), R::Ok);
    let short = short.int(P::OIDC_PARAM_DEADLINE_MS, 300);
    let t0 = Instant::now();
    let (a, b) = short.send_both();
    assert_eq!(failure(a).code, R::DeadlineExceeded);
    assert_eq!(failure(b).code, R::DeadlineExceeded);
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    // Cancelled from another thread while waiting between polls: at once, on both paths.
    let pending = Req::new(&c, Op::OIDC_OP_DEVICE_POLL);
    assert_eq!(oidc_oauth_request_set_pending(pending.0, again.0, &mut e), R::Ok);
    for blocking in [true, false] {
        let mut cancel = std::ptr::null_mut();
        assert_eq!(oidc_cancel_new(0, &mut cancel, std::ptr::null_mut()), R::Ok);
        let cp = cancel as usize;
        let trigger = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            oidc_cancel_trigger(cp as *const oidc_cancel);
        });
        let t0 = Instant::now();
        let r = if blocking { pending.send_with(cancel) } else { pending.send_async(cancel) };
        assert_eq!(failure(r).code, R::Cancelled, "blocking={blocking}");
        assert!(t0.elapsed() < Duration::from_secs(3), "blocking={blocking}: {:?}", t0.elapsed());
        trigger.join().unwrap();
        assert_eq!(oidc_cancel_is_cancelled(cancel), 1);
        oidc_cancel_free(cancel);
    }
    // A cancel handle's deadline: the same.
    let mut cancel = std::ptr::null_mut();
    assert_eq!(oidc_cancel_new(200, &mut cancel, std::ptr::null_mut()), R::Ok);
    assert_eq!(failure(pending.send_with(cancel)).code, R::DeadlineExceeded);
    assert_eq!(failure(pending.send_async(cancel)).code, R::DeadlineExceeded);
    oidc_cancel_free(cancel);
    // Approved: the poll ends with tokens (async, the wait on the pool's timer).
    idp.browser().approve_device(&user_code);
    let t = poll.send_async(std::ptr::null()).unwrap();
    assert!(t.str(F::OIDC_FIELD_ID_TOKEN).is_some());
    // The device code is consumed.
    assert_eq!(failure(poll.send()).code, R::InvalidGrant);
}

#[test]
fn registration_and_rfc7592_management() {
    let anon = client(None, None, None);
    let metadata = r#"{"redirect_uris":["https://127.0.0.1/cb"],"grant_types":["authorization_code"],"response_types":["code"]}"#;
    let reg = Req::new(&anon, Op::OIDC_OP_REGISTER).set(P::OIDC_PARAM_METADATA, metadata);
    assert!(reg.try_param("client_name", "liboidc test").is_ok());
    let (a, b) = reg.send_both();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.str(F::OIDC_FIELD_CLIENT_ID), b.str(F::OIDC_FIELD_CLIENT_ID), "two registrations");
    assert_eq!(a.json()["client_name"], "liboidc test", "custom parameters become metadata members");
    let id = a.str(F::OIDC_FIELD_CLIENT_ID).unwrap();
    let uri = a.str(F::OIDC_FIELD_REGISTRATION_CLIENT_URI).unwrap();
    let rat = a.str(F::OIDC_FIELD_REGISTRATION_ACCESS_TOKEN).unwrap();
    assert!(a.str(F::OIDC_FIELD_CLIENT_SECRET).is_some());
    let me = client(Some(&id), a.str(F::OIDC_FIELD_CLIENT_SECRET).as_deref(), None);
    let read = Req::new(&me, Op::OIDC_OP_REGISTRATION_READ)
        .set(P::OIDC_PARAM_REGISTRATION_CLIENT_URI, &uri)
        .set(P::OIDC_PARAM_REGISTRATION_ACCESS_TOKEN, &rat);
    let (x, y) = read.send_both();
    assert_eq!(x.unwrap().str(F::OIDC_FIELD_CLIENT_ID).as_deref(), Some(id.as_str()));
    drop(y.unwrap());
    let upd = Req::new(&me, Op::OIDC_OP_REGISTRATION_UPDATE)
        .set(P::OIDC_PARAM_REGISTRATION_CLIENT_URI, &uri)
        .set(P::OIDC_PARAM_REGISTRATION_ACCESS_TOKEN, &rat)
        .set(
            P::OIDC_PARAM_METADATA,
            &a.json()["client_name"]
                .as_str()
                .map(|_| {
                    let mut m = a.json();
                    m["client_name"] = "renamed".into();
                    for k in ["registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"] {
                        m.as_object_mut().unwrap().remove(k);
                    }
                    m.to_string()
                })
                .unwrap(),
        );
    assert_eq!(upd.send().unwrap().json()["client_name"], "renamed");
    // A registration URI on another origin never gets the token.
    let foreign = Req::new(&me, Op::OIDC_OP_REGISTRATION_READ)
        .set(P::OIDC_PARAM_REGISTRATION_CLIENT_URI, "https://elsewhere.example/reg/x")
        .set(P::OIDC_PARAM_REGISTRATION_ACCESS_TOKEN, &rat);
    assert_eq!(failure(foreign.send()).code, R::InvalidArgument);
    let del = Req::new(&me, Op::OIDC_OP_REGISTRATION_DELETE)
        .set(P::OIDC_PARAM_REGISTRATION_CLIENT_URI, &uri)
        .set(P::OIDC_PARAM_REGISTRATION_ACCESS_TOKEN, &rat);
    assert_eq!(del.send_async(std::ptr::null()).unwrap().json(), serde_json::json!({}));
    assert!(read.send().is_err(), "deleted");
}

#[test]
fn requests_are_copied_at_send_and_shared_across_threads() {
    let c = Arc::new(client(Some("svc-basic"), Some("svc-basic-secret"), None));
    let r = Req::new(&c, Op::OIDC_OP_CLIENT_CREDENTIALS).add(P::OIDC_PARAM_SCOPE, "read");
    let rp = r.0 as usize;
    let ts: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut out = std::ptr::null_mut();
                assert_eq!(oidc_oauth_send(rp as *const oidc_oauth_request, std::ptr::null(), &mut out, std::ptr::null_mut()), R::Ok);
                oidc_oauth_response_free(out);
            })
        })
        .collect();
    for t in ts {
        t.join().unwrap();
    }
    // Freed right after the non-blocking send returned: the call runs on its copy.
    let (tx, rx) = mpsc::channel::<R>();
    let tx = Box::into_raw(Box::new(tx));
    extern "C" fn cb(ud: *mut c_void, rc: R, resp: *mut oidc_oauth_response, _e: *const oidc_error) {
        oidc_oauth_response_free(resp);
        unsafe { Box::from_raw(ud.cast::<mpsc::Sender<R>>()) }.send(rc).unwrap();
    }
    assert_eq!(oidc_oauth_send_async(r.0, std::ptr::null(), Some(cb), tx.cast(), std::ptr::null_mut()), R::Ok);
    drop(r);
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), R::Ok);
}

#[test]
fn a_deadline_bounds_a_request_in_flight_on_both_paths() {
    // A token endpoint that never answers: the request's deadline ends the call, not the
    // client's 20 s HTTP timeout, on the blocking path as on the non-blocking one.
    let ca = oidc_testkit::TestCa::new();
    let server = oidc_testkit::FixtureServer::start_https(&ca);
    server.set_route("/token", oidc_testkit::Route::hang());
    let b = oauth_builder_for(&server.base_url(), ca.ca_pem_path().to_str().unwrap(), "svc");
    set_str(b, oidc_oauth_builder_set_client_secret, "svc-secret");
    set_str(b, oidc_oauth_builder_set_auth_method, "client_secret_basic");
    let ((np, nl), url) = (s("token_endpoint"), server.url("/token"));
    let (up, ul) = s(&url);
    assert_eq!(oidc_oauth_builder_set_endpoint(b, np, nl, up, ul, std::ptr::null_mut()), R::Ok);
    assert_eq!(oidc_oauth_builder_set_timeouts_ms(b, 5_000, 20_000, std::ptr::null_mut()), R::Ok);
    let c = oauth_build(b);
    let r = Req::new(&c, Op::OIDC_OP_CLIENT_CREDENTIALS).int(P::OIDC_PARAM_DEADLINE_MS, 400);
    for blocking in [true, false] {
        let t0 = Instant::now();
        let e = if blocking { r.send() } else { r.send_async(std::ptr::null()) };
        assert_eq!(failure(e).code, R::DeadlineExceeded, "blocking={blocking}");
        assert!(t0.elapsed() < Duration::from_secs(5), "blocking={blocking}: {:?}", t0.elapsed());
    }
}

#[test]
fn the_servers_oauth_error_is_an_accessor_of_the_error_object() {
    use oidc::ffi::misc::{oidc_error_details_json, oidc_error_server_error};
    let c = client(Some("svc-basic"), Some("wrong-secret"), None);
    let r = Req::new(&c, Op::OIDC_OP_CLIENT_CREDENTIALS);
    let mut out = std::ptr::null_mut();
    let mut e = std::ptr::null_mut();
    assert_eq!(oidc_oauth_send(r.0, std::ptr::null(), &mut out, &mut e), R::InvalidClient);
    let field = |f: F| {
        let p = oidc_error_server_error(e, f as u32);
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    assert_eq!(field(F::OIDC_FIELD_ERROR).as_deref(), Some("invalid_client"));
    assert!(field(F::OIDC_FIELD_ERROR_DESCRIPTION).is_some());
    assert_eq!(field(F::OIDC_FIELD_ACCESS_TOKEN), None, "only the three error fields");
    let details: serde_json::Value =
        serde_json::from_str(&unsafe { CStr::from_ptr(oidc_error_details_json(e)) }.to_string_lossy()).unwrap();
    assert_eq!(details["error"], "invalid_client");
    assert_eq!(details["status"], 401);
    oidc_error_free(e);
    // Not the server's answer: none.
    let bad = Req::new(&c, Op::OIDC_OP_REFRESH);
    let mut e = std::ptr::null_mut();
    assert_eq!(oidc_oauth_send(bad.0, std::ptr::null(), &mut out, &mut e), R::InvalidArgument);
    assert!(oidc_error_server_error(e, F::OIDC_FIELD_ERROR as u32).is_null());
    oidc_error_free(e);
    assert!(oidc_error_server_error(std::ptr::null(), F::OIDC_FIELD_ERROR as u32).is_null());
}
