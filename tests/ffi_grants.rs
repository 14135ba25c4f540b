//! The grants' C entry points called from Rust (no network): NULL and UTF-8 handling, out-params
//! written only on success, error objects, getters on NULL, `_free(NULL)`, and a full
//! device-flow + cancel round trip against the loopback fixture server.

mod common;

use std::ffi::{CStr, c_char};
use std::ptr::{null, null_mut};

use common::{FixtureServer, Route, TestCa};
use oidc::ffi::cancel::{oidc_cancel_free, oidc_cancel_new, oidc_cancel_trigger};
use oidc::ffi::error::oidc_error;
use oidc::ffi::grants::*;
use oidc::ffi::misc::{oidc_error_free, oidc_error_message, oidc_string_free};
use oidc::ffi::oauth::*;
use oidc::ffi::oidc_result as R;

fn s(x: &str) -> (*const c_char, usize) {
    (x.as_ptr().cast(), x.len())
}

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
fn builder_keys_and_pkce() {
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

    let mut pk: *mut oidc_pkce = null_mut();
    assert_eq!(oidc_pkce_new(null_mut(), null_mut()), R::NullParameter);
    assert_eq!(oidc_pkce_new(&mut pk, null_mut()), R::Ok);
    let v = cs(oidc_pkce_code_verifier(pk));
    assert_eq!(cs(oidc_pkce_code_challenge(pk)), oidc::core::oauth::pkce::challenge_s256(v));
    assert_eq!(cs(oidc_pkce_code_challenge_method()), "S256");
    assert_ne!(cs(oidc_pkce_state(pk)), cs(oidc_pkce_nonce(pk)));
    assert!(oidc_pkce_nonce(null()).is_null() && oidc_pkce_code_verifier(null()).is_null());
    oidc_pkce_free(pk);
    oidc_pkce_free(null_mut());
    oidc_device_authorization_free(null_mut());
    oidc_ciba_request_free(null_mut());
    oidc_cancel_free(null_mut());
    oidc_cancel_trigger(null());
    assert_eq!(oidc_device_authorization_interval(null()), 0);
    assert_eq!(oidc_ciba_request_expires_in(null()), -1);
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
    let b = builder();
    let ca_path = ca.ca_pem_path().to_str().unwrap().to_string();
    for (f, v) in [
        (oidc_oauth_builder_set_issuer as extern "C" fn(_, _, _, _) -> R, issuer.as_str()),
        (oidc_oauth_builder_set_client_id, "public-app"),
        (oidc_oauth_builder_set_ca_file, ca_path.as_str()),
    ] {
        let (p, n) = s(v);
        assert_eq!(f(b, p, n, null_mut()), R::Ok);
    }
    let c = build(b).unwrap();
    let mut da = null_mut();
    let (sc, scn) = s("openid");
    assert_eq!(oidc_oauth_device_authorization(c, sc, scn, null_mut(), null_mut()), R::NullParameter);
    assert_eq!(oidc_oauth_device_authorization(c, sc, scn, &mut da, null_mut()), R::Ok);
    assert_eq!(cs(oidc_device_authorization_user_code(da)), "U-1");
    assert_eq!(oidc_device_authorization_interval(da), 1);
    let mut t = null_mut();
    // pending, then (after the 1 s interval) the token
    assert_eq!(oidc_oauth_device_poll(c, da, 10_000, null(), &mut t, null_mut()), R::Ok);
    assert_eq!(cs(oidc_token_response_access_token(t)), "AT");
    oidc_token_response_free(t);
    // Cancelled before it starts: CANCELLED at once, no request.
    srv.reset_counters();
    let mut cancel = null_mut();
    assert_eq!(oidc_cancel_new(0, &mut cancel, null_mut()), R::Ok);
    oidc_cancel_trigger(cancel);
    let mut t = null_mut();
    let mut e: *mut oidc_error = null_mut();
    assert_eq!(oidc_oauth_device_poll(c, da, 10_000, cancel, &mut t, &mut e), R::Cancelled);
    assert!(t.is_null() && !e.is_null());
    oidc_error_free(e);
    assert_eq!(srv.hits("/token"), 0);
    oidc_cancel_free(cancel);
    // Endpoint lookup and DPoP without a key.
    let mut out: *mut c_char = null_mut();
    let mut len = 0usize;
    let (n, nn) = s("device_authorization_endpoint");
    assert_eq!(oidc_oauth_client_endpoint(c, n, nn, &mut out, &mut len, null_mut()), R::Ok);
    assert_eq!(cs(out), srv.url("/device"));
    assert_eq!(len, srv.url("/device").len());
    oidc_string_free(out);
    let (n, nn) = s("registration_endpoint");
    let mut out: *mut c_char = null_mut();
    assert_eq!(oidc_oauth_client_endpoint(c, n, nn, &mut out, null_mut(), null_mut()), R::InvalidConfig);
    assert!(out.is_null());
    assert_eq!(oidc_oauth_dpop_jkt(c, &mut out, null_mut(), null_mut()), R::InvalidConfig);
    oidc_device_authorization_free(da);
    oidc_oauth_client_free(c);
}
