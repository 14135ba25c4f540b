//! The shared request vectors (tests/vectors/requests.json) decided through the C ABI
//! (`oidc_validator_builder_*`, `oidc_http_request_*`, `oidc_authenticate`, `oidc_decision_*`),
//! exactly as a binding drives it. One test: the file runs once per process (the DPoP replay
//! cache is process-wide and later cases replay earlier cases' proofs).

#[path = "support/request_vectors.rs"]
mod rv;

use std::collections::HashMap;
use std::ffi::{CStr, c_char};

use oidc::ffi::authn::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{oidc_error_free, oidc_error_message, oidc_result_name};
use oidc::ffi::oidc_result;
use oidc::ffi::validator::*;
use serde_json::Value;

fn ok(rc: oidc_result, err: *mut oidc_error, what: &str) {
    if rc != oidc_result::Ok {
        let msg = unsafe { CStr::from_ptr(oidc_error_message(err)) }.to_string_lossy().into_owned();
        oidc_error_free(err);
        panic!("{what}: {rc:?}: {msg}");
    }
    assert!(err.is_null(), "{what}: no error object on OK");
}

type StrSetter = extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result;

fn put(b: *mut oidc_validator_builder, f: StrSetter, s: &str, what: &str) {
    let mut err = std::ptr::null_mut();
    ok(f(b, s.as_ptr().cast(), s.len(), &mut err), err, what);
}

fn build(jwks: &Value, c: &Value) -> *mut oidc_validator {
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    ok(oidc_validator_builder_new(&mut b, &mut err), err, "builder");
    put(b, oidc_validator_builder_set_issuer, c["issuer"].as_str().unwrap(), "issuer");
    put(b, oidc_validator_builder_set_jwks_json, &jwks.to_string(), "jwks");
    for a in rv::strings(&c["audiences"]) {
        put(b, oidc_validator_builder_add_audience, &a, "audience");
    }
    if let Some(t) = c["expected_typ"].as_str() {
        put(b, oidc_validator_builder_set_expected_typ, t, "typ");
    }
    put(b, oidc_validator_builder_set_algorithms, c["algorithms"].as_str().unwrap(), "algorithms");
    ok(oidc_validator_builder_set_leeway_secs(b, c["leeway_secs"].as_u64().unwrap() as _, &mut err), err, "leeway");
    ok(oidc_validator_builder_set_max_token_bytes(b, c["max_token_bytes"].as_u64().unwrap() as usize, &mut err), err, "max token");
    if let Some(r) = c["realm"].as_str() {
        put(b, oidc_validator_builder_set_realm, r, "realm");
    }
    for s in rv::strings(&c["required_scopes"]) {
        put(b, oidc_validator_builder_add_required_scope, &s, "scope");
    }
    for (claim, values) in c["claim_values"].as_object().unwrap() {
        for v in rv::strings(values) {
            let rc =
                oidc_validator_builder_add_allowed_claim_value(b, claim.as_ptr().cast(), claim.len(), v.as_ptr().cast(), v.len(), &mut err);
            ok(rc, err, "claim value");
        }
    }
    let mode = match c["dpop_mode"].as_str().unwrap() {
        "allowed" => oidc_dpop_mode::Allowed as u32,
        "required" => oidc_dpop_mode::Required as u32,
        "disabled" => oidc_dpop_mode::Disabled as u32,
        m => panic!("dpop_mode {m}"),
    };
    ok(oidc_validator_builder_set_dpop_mode(b, mode, &mut err), err, "dpop mode");
    if let Some(a) = c["dpop_algorithms"].as_str() {
        put(b, oidc_validator_builder_set_dpop_algorithms, a, "dpop algs");
    }
    if let Some(w) = c["dpop_proof_window_secs"].as_u64() {
        ok(oidc_validator_builder_set_dpop_proof_window_secs(b, w as u32, &mut err), err, "window");
    }
    if let Some(s) = c["dpop_nonce_secret_hex"].as_str() {
        let secret = rv::hex(s);
        let life = c["dpop_nonce_lifetime_secs"].as_u64().unwrap() as u32;
        ok(oidc_validator_builder_set_dpop_nonce_secret(b, secret.as_ptr(), secret.len(), life, &mut err), err, "nonce secret");
    }
    ok(oidc_validator_builder_set_require_mtls(b, c["require_mtls"].as_bool().unwrap() as u32, &mut err), err, "mtls");
    if let Some(n) = c["token_cache_size"].as_u64() {
        ok(oidc_validator_builder_set_token_cache_size(b, n as usize, &mut err), err, "token cache");
    }
    let mut client: *mut oidc_validator = std::ptr::null_mut();
    ok(oidc_validator_builder_build(b, &mut client, &mut err), err, "build");
    assert!(!client.is_null());
    client
}

/// A borrowed (ptr, len) string from a getter, copied exactly `len` bytes as bindings do; also
/// checks that the string is NUL-terminated at `len`.
fn got(p: *const c_char, len: usize) -> Option<String> {
    if p.is_null() {
        assert_eq!(len, 0, "NULL comes with length 0");
        return None;
    }
    let c = unsafe { CStr::from_ptr(p) };
    assert_eq!(c.to_bytes().len(), len, "len_out is the string's length");
    Some(c.to_str().expect("UTF-8").to_string())
}

fn add_header(req: *mut oidc_http_request, name: &str, value: &[u8]) {
    let mut err = std::ptr::null_mut();
    ok(oidc_http_request_add_header(req, name.as_ptr().cast(), name.len(), value.as_ptr(), value.len(), &mut err), err, name);
}

#[test]
fn c_abi_decides_every_request_vector() {
    let v = rv::vectors();
    let now = v["now"].as_i64().unwrap();
    let clients: HashMap<String, usize> =
        v["clients"].as_object().unwrap().iter().map(|(name, c)| (name.clone(), build(&v["jwks"], c) as usize)).collect();
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let mut req: *mut oidc_http_request = std::ptr::null_mut();
    ok(oidc_http_request_new(&mut req, &mut err), err, "request");
    rv::run_all(&v, |case| {
        // One request object reused for every case, as a server would: reset between requests.
        oidc_http_request_reset(req);
        let r = &case["request"];
        for a in rv::strings(&r["authorization"]) {
            // Header names in any case.
            add_header(req, "authorization", a.as_bytes());
        }
        for p in rv::strings(&r["dpop"]) {
            add_header(req, "DPoP", p.as_bytes());
        }
        let (m, u) = (r["method"].as_str().unwrap(), r["url"].as_str().unwrap());
        ok(oidc_http_request_set_method(req, m.as_ptr().cast(), m.len(), &mut err), err, "method");
        ok(oidc_http_request_set_url(req, u.as_ptr().cast(), u.len(), &mut err), err, "url");
        if let Some(der) = rv::cert(r) {
            ok(oidc_http_request_set_client_cert(req, der.as_ptr(), der.len(), &mut err), err, "cert");
        }
        ok(oidc_http_request_set_now(req, now, &mut err), err, "now");
        let client = clients[case["client"].as_str().unwrap()] as *const oidc_validator;
        let mut d: *mut oidc_decision = std::ptr::null_mut();
        ok(oidc_authenticate(client, req, &mut d, &mut err), err, case["name"].as_str().unwrap());
        assert!(!d.is_null());
        let code = oidc_decision_code(d) as u32;
        let mut n = 0usize;
        let challenges = (0..oidc_decision_challenge_count(d))
            .map(|i| got(oidc_decision_challenge(d, i, &mut n), n).expect("challenge in range"))
            .collect();
        assert!(oidc_decision_challenge(d, oidc_decision_challenge_count(d), &mut n).is_null(), "NULL past the end");
        let tt = oidc_decision_token_type(d);
        let seen = rv::Seen {
            allowed: match oidc_decision_allowed(d) {
                0 => false,
                1 => true,
                x => panic!("allowed is {x}"),
            },
            code,
            code_name: unsafe { CStr::from_ptr(oidc_result_name(code)) }.to_str().unwrap().into(),
            status: oidc_decision_http_status(d),
            error: got(oidc_decision_error(d, &mut n), n),
            challenges,
            dpop_nonce: got(oidc_decision_dpop_nonce(d, &mut n), n),
            token_type: (!tt.is_null()).then(|| unsafe { CStr::from_ptr(tt) }.to_str().unwrap().to_string()),
            claims: got(oidc_decision_claims(d, &mut n), n),
        };
        let msg = got(oidc_decision_message(d, &mut n), n).expect("a message always");
        assert!(!msg.is_empty());
        oidc_decision_free(d);
        seen
    });
    oidc_http_request_free(req);
    for c in clients.values() {
        oidc_validator_free(*c as *mut oidc_validator);
    }
}
