//! The protocol client's C entry points called from Rust: the builder's key setters (NULL and
//! UTF-8 handling, out-params written only on success, error objects, sticky errors), getters
//! on NULL, `_free(NULL)`, and a device flow + cancel + local operations (PKCE from the
//! authorization URL, endpoint lookup) through the request object against the loopback
//! fixture server.

mod common;

use std::ffi::{CStr, c_char};
use std::ptr::{null, null_mut};

use common::cabi::{F, Op, P, Req, failure, new_cancel, oauth_build, oauth_builder_for, s};
use common::{FixtureServer, Route, TestCa};
use oidc::ffi::cancel::{oidc_cancel_free, oidc_cancel_trigger};
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{oidc_error_free, oidc_error_message};
use oidc::ffi::oauth_client::*;
use oidc::ffi::oauth_request::*;
use oidc::ffi::oidc_result as R;

fn cs<'a>(p: *const c_char) -> &'a str {
    assert!(!p.is_null());
    unsafe { CStr::from_ptr(p) }.to_str().unwrap()
}

fn builder() -> *mut oidc_oauth_builder {
    let mut b = null_mut();
    assert_eq!(oidc_oauth_builder_new(&mut b, null_mut()), R::Ok);
    b
}

fn build(b: *mut oidc_oauth_builder) -> Result<*mut oidc_oauth_client, (R, String)> {
    let mut c = null_mut();
    let mut e: *mut oidc_error = null_mut();
    let rc = oidc_oauth_builder_build(b, &mut c, &mut e);
    if rc == R::Ok {
        assert!(e.is_null());
        Ok(c)
    } else {
        assert!(c.is_null(), "out untouched on failure");
        let m = cs(oidc_error_message(e)).to_string();
        oidc_error_free(e);
        Err((rc, m))
    }
}

#[test]
fn builder_keys_and_frees_of_null() {
    let pem = common::real_idp::client_key("ec.pem");
    let jwk = common::real_idp::client_key("ed25519.jwk.json");
    let b = builder();
    let (p, n) = s(&pem);
    assert_eq!(oidc_oauth_builder_set_private_key_pem(null_mut(), p, n, null(), 0, null(), 0, null_mut()), R::NullParameter);
    assert_eq!(oidc_oauth_builder_set_private_key_pem(b, null(), 5, null(), 0, null(), 0, null_mut()), R::NullParameter);
    assert_eq!(oidc_oauth_builder_set_private_key_pem(b, b"\xff".as_ptr().cast(), 1, null(), 0, null(), 0, null_mut()), R::InvalidUtf8);
    let (a, an) = s("PS256");
    let mut e: *mut oidc_error = null_mut();
    assert_eq!(oidc_oauth_builder_set_private_key_pem(b, p, n, null(), 0, a, an, &mut e), R::UnsupportedAlgorithm);
    assert!(!cs(oidc_error_message(e)).contains("BEGIN"));
    oidc_error_free(e);
    let (j, jn) = s(&jwk);
    assert_eq!(oidc_oauth_builder_set_private_key_jwk(b, j, jn, null(), 0, null(), 0, null_mut()), R::Ok);
    let (d, dn) = s("garbage");
    assert_eq!(oidc_oauth_builder_set_dpop_key(b, d, dn, null_mut()), R::InvalidConfig);
    assert_eq!(oidc_oauth_builder_set_dpop_key(b, null(), 0, null_mut()), R::Ok, "len 0 generates a key");
    let (x, xn) = s("issuer");
    assert_eq!(oidc_oauth_builder_set_assertion_audience(b, x, xn, null_mut()), R::Ok);
    let (i, inn) = s("https://idp.example");
    let (c, cn) = s("cid");
    assert_eq!(oidc_oauth_builder_set_issuer(b, i, inn, null_mut()), R::Ok);
    assert_eq!(oidc_oauth_builder_set_client_id(b, c, cn, null_mut()), R::Ok);
    let (m, mn) = s("client_secret_post");
    assert_eq!(oidc_oauth_builder_set_auth_method(b, m, mn, null_mut()), R::Ok);
    // Configuration errors are sticky: the first failed setter above (a NULL key) fails the build.
    assert_eq!(build(b).unwrap_err().0, R::NullParameter);
    // A private key with client_secret_post: refused at build (the builder is consumed).
    let b = builder();
    assert_eq!(oidc_oauth_builder_set_private_key_pem(b, p, n, null(), 0, null(), 0, null_mut()), R::Ok);
    assert_eq!(oidc_oauth_builder_set_issuer(b, i, inn, null_mut()), R::Ok);
    assert_eq!(oidc_oauth_builder_set_client_id(b, c, cn, null_mut()), R::Ok);
    assert_eq!(oidc_oauth_builder_set_auth_method(b, m, mn, null_mut()), R::Ok);
    assert_eq!(build(b).unwrap_err().0, R::InvalidConfig);

    // Getters on NULL, frees of NULL.
    assert!(oidc_oauth_response_string(null(), F::OIDC_FIELD_ACCESS_TOKEN as u32).is_null());
    assert_eq!(oidc_oauth_response_int(null(), F::OIDC_FIELD_EXPIRES_IN as u32), -1);
    let mut n = 7usize;
    assert!(oidc_oauth_response_json(null(), &mut n).is_null());
    assert_eq!(n, 7, "len_out untouched for NULL");
    assert_eq!(oidc_oauth_response_operation(null()), 0);
    oidc_oauth_response_free(null_mut());
    oidc_oauth_request_free(null_mut());
    oidc_oauth_client_free(null_mut());
    oidc_oauth_builder_free(null_mut());
    oidc_cancel_free(null_mut());
    oidc_cancel_trigger(null());
}

#[test]
fn device_flow_and_cancel_through_the_abi() {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    let issuer = srv.install_oidc(&[]);
    let mut d = oidc_testkit::oidc_discovery(&issuer, &srv.url("/jwks"));
    d["device_authorization_endpoint"] = serde_json::json!(srv.url("/device"));
    srv.set_route("/.well-known/openid-configuration", Route::json(&d));
    srv.set_route(
        "/device",
        Route::json_str(r#"{"device_code":"dc","user_code":"U-1","verification_uri":"https://x/d","expires_in":60,"interval":1}"#),
    );
    srv.set_sequence(
        "/token",
        vec![
            Route::json_str(r#"{"error":"authorization_pending"}"#).with_status(400),
            Route::json_str(r#"{"access_token":"AT","token_type":"Bearer","expires_in":60}"#),
        ],
    );
    let c = oauth_build(oauth_builder_for(&issuer, ca.ca_pem_path().to_str().unwrap(), "public-app"));
    // A NULL out or request: refused, nothing sent.
    let start = Req::new(&c, Op::OIDC_OP_DEVICE_AUTHORIZATION).add(P::OIDC_PARAM_SCOPE, "openid");
    assert_eq!(oidc_oauth_send(start.0, null(), null_mut(), null_mut()), R::NullParameter);
    assert_eq!(oidc_oauth_send(null(), null(), &mut null_mut(), null_mut()), R::NullParameter);
    assert_eq!(srv.hits("/device"), 0);
    let da = start.send().unwrap();
    assert_eq!(da.str(F::OIDC_FIELD_USER_CODE).as_deref(), Some("U-1"));
    assert_eq!(da.str(F::OIDC_FIELD_DEVICE_CODE).as_deref(), Some("dc"));
    assert_eq!(da.int(F::OIDC_FIELD_INTERVAL), 1);
    assert_eq!(da.int(F::OIDC_FIELD_EXPIRES_IN), 60);
    assert_eq!(da.op(), Op::OIDC_OP_DEVICE_AUTHORIZATION as u32);
    // pending, then (after the 1 s interval) the token
    let poll = Req::new(&c, Op::OIDC_OP_DEVICE_POLL).pending(&da).int(P::OIDC_PARAM_DEADLINE_MS, 10_000);
    let t = poll.send().unwrap();
    assert_eq!(t.str(F::OIDC_FIELD_ACCESS_TOKEN).as_deref(), Some("AT"));
    assert_eq!(t.op(), Op::OIDC_OP_DEVICE_POLL as u32);
    // Cancelled before it starts: CANCELLED at once, no request, on both paths.
    srv.reset_counters();
    let cancel = new_cancel(0);
    oidc_cancel_trigger(cancel);
    let mut t = null_mut();
    let mut e: *mut oidc_error = null_mut();
    assert_eq!(oidc_oauth_send(poll.0, cancel, &mut t, &mut e), R::Cancelled);
    assert!(t.is_null() && !e.is_null());
    oidc_error_free(e);
    assert_eq!(failure(poll.send_async(cancel)).code, R::Cancelled);
    assert_eq!(srv.hits("/token"), 0);
    oidc_cancel_free(cancel);
    // A poll by hand (DEVICE_CODE instead of the start's response) is the same poll.
    srv.set_route("/token", Route::json_str(r#"{"access_token":"AT2","token_type":"Bearer","expires_in":60}"#));
    let by_hand = Req::new(&c, Op::OIDC_OP_DEVICE_POLL).set(P::OIDC_PARAM_DEVICE_CODE, "dc").int(P::OIDC_PARAM_INTERVAL_SECS, 1);
    assert_eq!(by_hand.send().unwrap().str(F::OIDC_FIELD_ACCESS_TOKEN).as_deref(), Some("AT2"));
    let f = srv.last_request("/token").unwrap();
    assert!(String::from_utf8_lossy(&f.body).contains("device_code=dc"));
    // PKCE, state and nonce come from the authorization URL (local once discovery is cached).
    let url = Req::new(&c, Op::OIDC_OP_AUTHORIZATION_URL).set(P::OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb").send().unwrap();
    let v = url.str(F::OIDC_FIELD_CODE_VERIFIER).unwrap();
    assert_eq!(url.str(F::OIDC_FIELD_CODE_CHALLENGE).unwrap(), oidc::core::oauth::pkce::challenge_s256(&v));
    assert_eq!(url.json()["code_challenge_method"], "S256");
    assert_ne!(url.str(F::OIDC_FIELD_STATE), url.str(F::OIDC_FIELD_NONCE));
    assert!(url.str(F::OIDC_FIELD_URL).unwrap().starts_with(&srv.url("/authorize")));
    // Endpoint lookup and DPoP without a key.
    let ep = Req::new(&c, Op::OIDC_OP_ENDPOINT).set(P::OIDC_PARAM_ENDPOINT_NAME, "device_authorization_endpoint").send().unwrap();
    assert_eq!(ep.str(F::OIDC_FIELD_URL), Some(srv.url("/device")));
    assert_eq!(ep.json(), serde_json::json!({"url": srv.url("/device")}));
    let none = Req::new(&c, Op::OIDC_OP_ENDPOINT).set(P::OIDC_PARAM_ENDPOINT_NAME, "registration_endpoint");
    assert_eq!(failure(none.send()).code, R::InvalidConfig);
    let mut out: *mut c_char = null_mut();
    assert_eq!(oidc_oauth_dpop_jkt(c.0, &mut out, null_mut(), null_mut()), R::InvalidConfig);
    assert!(out.is_null());
}
