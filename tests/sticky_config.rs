//! Configuration errors are sticky (issue 10, item 8): a setter that fails makes `_build` fail
//! with the setter's code, even if the caller ignored the setter's result or set a good value
//! afterwards; the builder never builds with a default in place of what was asked. Every setter
//! of both builders is walked with a value it must refuse, either at once or at `_build`.

use std::ffi::c_char;

use oidc::ffi::authn::*;
use oidc::ffi::error::oidc_error;

use oidc::ffi::misc::{oidc_error_free, oidc_error_message};
use oidc::ffi::oauth_client::*;
use oidc::ffi::oidc_result;
use oidc::ffi::validator::*;

const BAD_UTF8: &[u8] = b"\xff\xfe";
type E = *mut *mut oidc_error;
const NO_ERR: E = std::ptr::null_mut();

fn s(x: &str) -> (*const c_char, usize) {
    (x.as_ptr().cast(), x.len())
}

fn bad() -> (*const c_char, usize) {
    (BAD_UTF8.as_ptr().cast(), BAD_UTF8.len())
}

fn good_client_builder() -> *mut oidc_validator_builder {
    let mut b = std::ptr::null_mut();
    assert_eq!(oidc_validator_builder_new(&mut b, NO_ERR), oidc_result::Ok);
    let (i, il) = s("https://idp.example");
    assert_eq!(oidc_validator_builder_set_issuer(b, i, il, NO_ERR), oidc_result::Ok);
    let (a, al) = s("api");
    assert_eq!(oidc_validator_builder_add_audience(b, a, al, NO_ERR), oidc_result::Ok);
    b
}

/// Build and return the code and message.
fn build(b: *mut oidc_validator_builder) -> (oidc_result, String) {
    let mut c = std::ptr::null_mut();
    let mut e: *mut oidc_error = std::ptr::null_mut();
    let rc = oidc_validator_builder_build(b, &mut c, &mut e);
    finish(rc, e, || oidc_validator_free(c))
}

fn finish(rc: oidc_result, e: *mut oidc_error, free_ok: impl FnOnce()) -> (oidc_result, String) {
    if rc == oidc_result::Ok {
        free_ok();
        return (rc, String::new());
    }
    let m = unsafe { std::ffi::CStr::from_ptr(oidc_error_message(e)) }.to_string_lossy().into_owned();
    oidc_error_free(e);
    (rc, m)
}

#[test]
fn a_good_configuration_builds() {
    assert_eq!(build(good_client_builder()).0, oidc_result::Ok);
    // A nonce lifetime of 0 asks for liboidc's default (bindings need not restate it).
    let b = good_client_builder();
    let secret = [7u8; 32];
    assert_eq!(oidc_validator_builder_set_dpop_nonce_secret(b, secret.as_ptr(), 32, 0, NO_ERR), oidc_result::Ok);
    assert_eq!(build(b).0, oidc_result::Ok);
}

#[test]
fn every_validating_builder_setter_is_sticky() {
    type Setter = (&'static str, Box<dyn Fn(*mut oidc_validator_builder) -> oidc_result>);
    let setters: Vec<Setter> = vec![
        (
            "set_issuer",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_validator_builder_set_issuer(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_jwks_uri",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_validator_builder_set_jwks_uri(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_jwks_json",
            Box::new(|b| {
                let (p, n) = s("{\"keys\": 5}");
                oidc_validator_builder_set_jwks_json(b, p, n, NO_ERR)
            }),
        ),
        (
            "add_audience",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_validator_builder_add_audience(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_algorithms none",
            Box::new(|b| {
                let (p, n) = s("RS256,none");
                oidc_validator_builder_set_algorithms(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_algorithms HS256",
            Box::new(|b| {
                let (p, n) = s("HS256");
                oidc_validator_builder_set_algorithms(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_algorithms unknown",
            Box::new(|b| {
                let (p, n) = s("RS256,XY999");
                oidc_validator_builder_set_algorithms(b, p, n, NO_ERR)
            }),
        ),
        ("set_leeway_secs", Box::new(|b| oidc_validator_builder_set_leeway_secs(b, 1_000_000, NO_ERR))),
        (
            "add_required_claim",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_validator_builder_add_required_claim(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_expected_typ",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_validator_builder_set_expected_typ(b, p, n, NO_ERR)
            }),
        ),
        ("set_max_token_bytes", Box::new(|b| oidc_validator_builder_set_max_token_bytes(b, 1, NO_ERR))),
        ("set_timeouts_ms", Box::new(|b| oidc_validator_builder_set_timeouts_ms(b, 700_000, 700_000, NO_ERR))),
        ("set_max_response_bytes", Box::new(|b| oidc_validator_builder_set_max_response_bytes(b, 1, NO_ERR))),
        (
            "set_ca_file",
            Box::new(|b| {
                let (p, n) = s("/nonexistent/ca.pem");
                oidc_validator_builder_set_ca_file(b, p, n, NO_ERR)
            }),
        ),
        ("set_cache_policy_secs", Box::new(|b| oidc_validator_builder_set_cache_policy_secs(b, 100, 10, 30, 60, NO_ERR))),
        ("set_prefetch", Box::new(|b| oidc_validator_builder_set_prefetch(b, 99, NO_ERR))),
        ("set_revocation policy 0", Box::new(|b| oidc_validator_builder_set_revocation(b, std::ptr::null(), 0, 0, 0, NO_ERR))),
        (
            "set_revocation bad UTF-8",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_validator_builder_set_revocation(b, p, n, 1, 0, NO_ERR)
            }),
        ),
        ("set_revocation_bounds first", Box::new(|b| oidc_validator_builder_set_revocation_bounds(b, 30, 60, NO_ERR))),
        (
            "set_revocation http",
            Box::new(|b| {
                let (p, n) = s("http://idp.example/rl");
                oidc_validator_builder_set_revocation(b, p, n, 1, 0, NO_ERR)
            }),
        ),
        (
            "set_revocation_bounds min > max",
            Box::new(|b| {
                assert_eq!(oidc_validator_builder_set_revocation(b, std::ptr::null(), 0, 2, 60, NO_ERR), oidc_result::Ok);
                oidc_validator_builder_set_revocation_bounds(b, 600, 60, NO_ERR)
            }),
        ),
        (
            "set_realm",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_validator_builder_set_realm(b, p, n, NO_ERR)
            }),
        ),
        (
            "add_required_scope",
            Box::new(|b| {
                let (p, n) = s("two words");
                oidc_validator_builder_add_required_scope(b, p, n, NO_ERR)
            }),
        ),
        (
            "add_allowed_claim_value",
            Box::new(|b| {
                let (p, n) = s("");
                let (v, vn) = s("x");
                oidc_validator_builder_add_allowed_claim_value(b, p, n, v, vn, NO_ERR)
            }),
        ),
        ("set_dpop_mode", Box::new(|b| oidc_validator_builder_set_dpop_mode(b, 9, NO_ERR))),
        (
            "set_dpop_algorithms",
            Box::new(|b| {
                let (p, n) = s("ES256,HS256");
                oidc_validator_builder_set_dpop_algorithms(b, p, n, NO_ERR)
            }),
        ),
        ("set_dpop_proof_window_secs", Box::new(|b| oidc_validator_builder_set_dpop_proof_window_secs(b, 0, NO_ERR))),
        ("set_dpop_nonce_secret", Box::new(|b| oidc_validator_builder_set_dpop_nonce_secret(b, b"short".as_ptr(), 5, 300, NO_ERR))),
        ("set_dpop_nonce_secret NULL", Box::new(|b| oidc_validator_builder_set_dpop_nonce_secret(b, std::ptr::null(), 16, 300, NO_ERR))),
        ("set_require_mtls", Box::new(|b| oidc_validator_builder_set_require_mtls(b, 7, NO_ERR))),
        ("set_token_cache_size", Box::new(|b| oidc_validator_builder_set_token_cache_size(b, usize::MAX, NO_ERR))),
    ];
    for (name, set) in &setters {
        let b = good_client_builder();
        let rc = set(b);
        let (built, msg) = build(b);
        assert_ne!(built, oidc_result::Ok, "{name}: a refused value must never build");
        if rc != oidc_result::Ok {
            assert_eq!(built, rc, "{name}: _build reports the setter's own code ({msg})");
            assert!(msg.contains("an earlier setter failed"), "{name}: {msg}");
        }
    }
}

#[test]
fn a_good_value_after_a_failed_setter_does_not_clear_the_failure() {
    let b = good_client_builder();
    let (p, n) = s("RS256,none");
    assert_eq!(oidc_validator_builder_set_algorithms(b, p, n, NO_ERR), oidc_result::UnsupportedAlgorithm);
    let (p, n) = s("RS256");
    assert_eq!(oidc_validator_builder_set_algorithms(b, p, n, NO_ERR), oidc_result::Ok);
    let (rc, msg) = build(b);
    assert_eq!(rc, oidc_result::UnsupportedAlgorithm, "{msg}");
    assert!(msg.contains("'none'"), "the first failure is named: {msg}");
}

fn good_oauth_builder() -> *mut oidc_oauth_builder {
    let mut b = std::ptr::null_mut();
    assert_eq!(oidc_oauth_builder_new(&mut b, NO_ERR), oidc_result::Ok);
    let (i, il) = s("https://idp.example");
    assert_eq!(oidc_oauth_builder_set_issuer(b, i, il, NO_ERR), oidc_result::Ok);
    let (c, cl) = s("client");
    assert_eq!(oidc_oauth_builder_set_client_id(b, c, cl, NO_ERR), oidc_result::Ok);
    b
}

fn build_oauth(b: *mut oidc_oauth_builder) -> (oidc_result, String) {
    let mut c = std::ptr::null_mut();
    let mut e: *mut oidc_error = std::ptr::null_mut();
    let rc = oidc_oauth_builder_build(b, &mut c, &mut e);
    finish(rc, e, || oidc_oauth_client_free(c))
}

#[test]
fn every_protocol_builder_setter_is_sticky() {
    assert_eq!(build_oauth(good_oauth_builder()).0, oidc_result::Ok);
    type Setter = (&'static str, Box<dyn Fn(*mut oidc_oauth_builder) -> oidc_result>);
    let setters: Vec<Setter> = vec![
        (
            "set_issuer",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_oauth_builder_set_issuer(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_client_id",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_oauth_builder_set_client_id(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_client_secret",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_oauth_builder_set_client_secret(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_auth_method",
            Box::new(|b| {
                let (p, n) = s("magic_auth");
                oidc_oauth_builder_set_auth_method(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_ca_file",
            Box::new(|b| {
                let (p, n) = s("/nonexistent/ca.pem");
                oidc_oauth_builder_set_ca_file(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_endpoint name",
            Box::new(|b| {
                let (p, n) = s("no_such_endpoint");
                let (u, un) = s("https://idp.example/x");
                oidc_oauth_builder_set_endpoint(b, p, n, u, un, NO_ERR)
            }),
        ),
        (
            "set_endpoint url",
            Box::new(|b| {
                let (p, n) = s("token");
                let (u, un) = s("http://idp.example/x");
                oidc_oauth_builder_set_endpoint(b, p, n, u, un, NO_ERR)
            }),
        ),
        ("set_timeouts_ms", Box::new(|b| oidc_oauth_builder_set_timeouts_ms(b, 700_000, 700_000, NO_ERR))),
        (
            "set_private_key_pem",
            Box::new(|b| {
                let (p, n) = s("not a pem");
                oidc_oauth_builder_set_private_key_pem(b, p, n, std::ptr::null(), 0, std::ptr::null(), 0, NO_ERR)
            }),
        ),
        (
            "set_private_key_jwk",
            Box::new(|b| {
                let (p, n) = s("{}");
                oidc_oauth_builder_set_private_key_jwk(b, p, n, std::ptr::null(), 0, std::ptr::null(), 0, NO_ERR)
            }),
        ),
        (
            "set_dpop_key",
            Box::new(|b| {
                let (p, n) = s("not a key");
                oidc_oauth_builder_set_dpop_key(b, p, n, NO_ERR)
            }),
        ),
        (
            "set_assertion_audience",
            Box::new(|b| {
                let (p, n) = bad();
                oidc_oauth_builder_set_assertion_audience(b, p, n, NO_ERR)
            }),
        ),
    ];
    for (name, set) in &setters {
        let b = good_oauth_builder();
        let rc = set(b);
        let (built, msg) = build_oauth(b);
        assert_ne!(built, oidc_result::Ok, "{name}: a refused value must never build");
        if rc != oidc_result::Ok {
            assert_eq!(built, rc, "{name}: _build reports the setter's own code ({msg})");
        }
    }
}
