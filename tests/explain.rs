//! Explain mode (issue 12): every check with its outcome, no secret in the output; pinned per
//! rule family (issuer choice, header, key/signature, each claim rule, required claims).

mod common;

use common::*;
use oidc::core::{Client, Config, IssuerConfig, KeySource};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;

fn claims(iss: &str) -> Value {
    json!({"iss": iss, "aud": "api", "sub": "secret-subject", "exp": NOW + 300, "iat": NOW - 10, "nbf": NOW - 10, "email": "a@b.example"})
}

fn outcome(doc: &Value, check: &str) -> String {
    doc["checks"].as_array().unwrap().iter().find(|c| c["check"] == check).unwrap_or_else(|| panic!("no {check} in {doc}"))["outcome"]
        .as_str()
        .unwrap()
        .to_string()
}

fn explain(c: &Client, token: &str) -> Value {
    let s = c.explain_at(token, NOW as f64);
    // Never the token text, its signature or a claim value outside the allowed set.
    let sig = token.rsplit('.').next().unwrap();
    assert!(sig.is_empty() || !s.contains(sig), "signature leaked: {s}");
    assert!(!s.contains("secret-subject") && !s.contains("a@b.example"), "claim value leaked: {s}");
    serde_json::from_str(&s).unwrap()
}

fn client(keys: &[&TestKey]) -> Client {
    let mut cfg = Config::new("https://a.example");
    cfg.key_source = KeySource::Static(jwks(keys));
    cfg.audiences = vec!["api".into()];
    cfg.required_claims = vec!["sub".into(), "tenant".into()];
    cfg.token_cache_size = 0;
    Client::new(cfg).unwrap()
}

#[test]
fn a_valid_token_passes_every_check_but_the_missing_required_claim() {
    let k = TestKey::generate(Alg::ES256);
    let c = client(&[&k]);
    let d = explain(&c, &k.sign(&claims("https://a.example")));
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["code"], "MissingClaim");
    assert_eq!(d["authenticated"], true);
    assert_eq!(d["header"]["alg"], "ES256");
    assert_eq!(d["header"]["kid"], k.kid());
    assert_eq!(d["issuer"]["chosen"], "single");
    for check in
        ["structure_and_header", "key_and_signature", "claim iss", "claim exp", "claim nbf", "claim iat", "claim aud", "required claim sub"]
    {
        assert_eq!(outcome(&d, check), "pass", "{check}: {d}");
    }
    assert_eq!(outcome(&d, "required claim tenant"), "fail");
}

#[test]
fn every_failing_claim_is_listed_not_only_the_first() {
    let k = TestKey::generate(Alg::ES256);
    let c = client(&[&k]);
    let mut cl = claims("https://a.example");
    cl["exp"] = json!(NOW - 3600);
    cl["nbf"] = json!(NOW + 3600);
    cl["aud"] = json!("other");
    cl["tenant"] = json!("t");
    let d = explain(&c, &k.sign(&cl));
    assert_eq!(d["code"], "TokenExpired");
    assert_eq!(outcome(&d, "claim exp"), "fail");
    assert_eq!(outcome(&d, "claim nbf"), "fail");
    assert_eq!(outcome(&d, "claim aud"), "fail");
    assert_eq!(outcome(&d, "claim iat"), "pass");
    assert_eq!(d["issuer"]["times"]["exp"], json!((NOW - 3600) as f64));
}

#[test]
fn a_forged_signature_is_reported_and_the_claims_marked_unauthenticated() {
    let (k, other) = (TestKey::generate(Alg::ES256), TestKey::generate(Alg::ES256));
    let c = client(&[&k]);
    let mut cl = claims("https://a.example");
    cl["tenant"] = json!("t");
    let d = explain(&c, &other.with_kid(k.kid()).sign(&cl));
    assert_eq!(outcome(&d, "key_and_signature"), "fail");
    assert_eq!(d["code"], "SignatureInvalid");
    assert_eq!(d["authenticated"], false);
    assert_eq!(d["decision"], "deny");
    assert_eq!(outcome(&d, "claim aud"), "pass", "claims are still listed");
    // A header the policy refuses: structure fails, the key is not tried.
    let d = explain(&c, "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2EuZXhhbXBsZSJ9.");
    assert_eq!(outcome(&d, "structure_and_header"), "fail");
    assert_eq!(outcome(&d, "key_and_signature"), "skipped");
}

#[test]
fn the_issuer_choice_is_explained() {
    let (ka, kb) = (TestKey::generate(Alg::ES256), TestKey::generate(Alg::RS256));
    let mut cfg = Config::new("https://a.example");
    cfg.key_source = KeySource::Static(jwks(&[&ka]));
    cfg.audiences = vec!["api".into()];
    let mut ib = IssuerConfig::new("https://b.example");
    ib.key_source = KeySource::Static(jwks(&[&kb]));
    cfg.issuers.push(ib);
    let c = Client::new(cfg).unwrap();
    let d = explain(&c, &kb.sign(&claims("https://b.example")));
    assert_eq!(d["decision"], "allow", "{d}");
    assert_eq!(d["issuer"]["chosen"], "exact");
    assert_eq!(d["issuer"]["index"], 1);
    assert_eq!(d["issuer"]["iss"], "https://b.example");
    // iss names A, signed with B's key: A's keys only.
    let d = explain(&c, &kb.sign(&claims("https://a.example")));
    assert_eq!(d["issuer"]["index"], 0);
    assert_eq!(outcome(&d, "key_and_signature"), "fail");
    let d = explain(&c, &ka.sign(&claims("https://evil.example")));
    assert_eq!(d["issuer"]["chosen"], "none");
    assert_eq!(d["code"], "IssuerMismatch");
    assert_eq!(outcome(&d, "key_and_signature"), "skipped");
}

#[test]
fn the_c_abi_returns_the_explanation() {
    use oidc::ffi::issuer::oidc_validate_explain;
    use oidc::ffi::misc::oidc_string_free;
    use oidc::ffi::validator::*;
    let k = TestKey::generate(Alg::ES256);
    let null = std::ptr::null_mut();
    let mut b: *mut oidc_validator_builder = null as _;
    assert_eq!(oidc_validator_builder_new(&mut b, null as _), oidc::ffi::oidc_result::Ok);
    let (iss, j) = ("https://a.example", jwks(&[&k]));
    let _ = oidc_validator_builder_set_issuer(b, iss.as_ptr().cast(), iss.len(), null as _);
    let _ = oidc_validator_builder_set_jwks_json(b, j.as_ptr().cast(), j.len(), null as _);
    let _ = oidc_validator_builder_add_audience(b, "api".as_ptr().cast(), 3, null as _);
    let mut v: *mut oidc_validator = null as _;
    assert_eq!(oidc_validator_builder_build(b, &mut v, null as _), oidc::ffi::oidc_result::Ok);
    let t = k.sign(&claims(iss));
    let mut out: *mut std::ffi::c_char = null as _;
    let mut len = 0usize;
    assert_eq!(oidc_validate_explain(v, t.as_ptr().cast(), t.len(), NOW, &mut out, &mut len, null as _), oidc::ffi::oidc_result::Ok);
    let s = unsafe { std::ffi::CStr::from_ptr(out) }.to_str().unwrap().to_string();
    assert_eq!(s.len(), len);
    let d: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(d["decision"], "allow");
    oidc_string_free(out);
    oidc_validator_free(v);
}

fn request(auth: &str, dpop: Option<&str>) -> oidc::core::authn::RequestInput {
    oidc::core::authn::RequestInput {
        authorization: vec![auth.as_bytes().to_vec()],
        dpop: dpop.map(|d| vec![d.as_bytes().to_vec()]).unwrap_or_default(),
        method: "GET".into(),
        url: "https://api.example/x".into(),
        client_cert_der: None,
        now: Some(NOW as f64),
    }
}

fn resource_client(k: &TestKey) -> Client {
    let mut cfg = Config::new("https://a.example");
    cfg.key_source = KeySource::Static(jwks(&[k]));
    cfg.audiences = vec!["api".into()];
    cfg.add_required_scope("read").unwrap();
    cfg.add_required_scope("write").unwrap();
    cfg.add_claim_value("tenant", "t1").unwrap();
    Client::new(cfg).unwrap()
}

#[test]
fn a_request_explanation_lists_each_scope_and_claim_rule() {
    let k = TestKey::generate(Alg::ES256);
    let c = resource_client(&k);
    let mut cl = claims("https://a.example");
    cl["scope"] = json!("read");
    cl["tenant"] = json!("t2");
    let t = k.sign(&cl);
    let d: Value = serde_json::from_str(&c.explain_request(&request(&format!("Bearer {t}"), None)).unwrap()).unwrap();
    assert!(!d.to_string().contains(&t), "no token text");
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["scheme"], "Bearer");
    assert_eq!(outcome(&d, "credentials"), "pass");
    assert_eq!(outcome(&d, "token"), "pass");
    assert_eq!(outcome(&d, "binding"), "pass");
    assert_eq!(outcome(&d, "required scope read"), "pass");
    assert_eq!(outcome(&d, "required scope write"), "fail");
    assert_eq!(outcome(&d, "claim value tenant"), "fail", "both failures listed");
    assert_eq!(d["code"], "InsufficientScope");
    assert_eq!(d["token"]["decision"], "allow", "the nested token explanation");
    // The same request is explained again identically (no side effect).
    let again: Value = serde_json::from_str(&c.explain_request(&request(&format!("Bearer {t}"), None)).unwrap()).unwrap();
    assert_eq!(again, d);
}

#[test]
fn a_request_explanation_lists_the_dpop_rules() {
    let k = TestKey::generate(Alg::ES256);
    let c = resource_client(&k);
    let pk = oidc_testkit::dpop::ProofKey::new(Alg::ES256);
    let mut cl = claims("https://a.example");
    cl["scope"] = json!("read write");
    cl["tenant"] = json!("t1");
    cl["cnf"] = json!({"jkt": pk.jkt});
    let t = k.sign(&cl);
    let proof = pk.proof(&t, "GET", "https://api.example/x", NOW);
    let d: Value = serde_json::from_str(&c.explain_request(&request(&format!("DPoP {t}"), Some(&proof))).unwrap()).unwrap();
    assert_eq!(d["decision"], "allow", "{d}");
    assert_eq!(outcome(&d, "dpop proof"), "pass");
    assert_eq!(outcome(&d, "binding"), "pass");
    assert_eq!(outcome(&d, "dpop replay"), "skipped");
    assert!(!d.to_string().contains(&proof), "no proof text");
    // The same token with the Bearer scheme: the binding fails; a proof for another URL fails.
    let d: Value = serde_json::from_str(&c.explain_request(&request(&format!("Bearer {t}"), None)).unwrap()).unwrap();
    assert_eq!(outcome(&d, "binding"), "fail");
    let bad = pk.proof(&t, "POST", "https://api.example/x", NOW);
    let d: Value = serde_json::from_str(&c.explain_request(&request(&format!("DPoP {t}"), Some(&bad))).unwrap()).unwrap();
    assert_eq!(outcome(&d, "dpop proof"), "fail");
    assert_eq!(outcome(&d, "binding"), "skipped");
    assert_eq!(outcome(&d, "token"), "pass", "the token is still explained");
}

#[test]
fn the_c_abi_explains_a_request() {
    use oidc::ffi::authn::*;
    use oidc::ffi::misc::oidc_string_free;
    use oidc::ffi::oidc_result::Ok as OK;
    use oidc::ffi::validator::*;
    let k = TestKey::generate(Alg::ES256);
    let null = std::ptr::null_mut();
    let mut b: *mut oidc_validator_builder = null as _;
    assert_eq!(oidc_validator_builder_new(&mut b, null as _), OK);
    let (iss, j) = ("https://a.example", jwks(&[&k]));
    assert_eq!(oidc_validator_builder_set_issuer(b, iss.as_ptr().cast(), iss.len(), null as _), OK);
    assert_eq!(oidc_validator_builder_set_jwks_json(b, j.as_ptr().cast(), j.len(), null as _), OK);
    assert_eq!(oidc_validator_builder_add_audience(b, "api".as_ptr().cast(), 3, null as _), OK);
    assert_eq!(oidc_validator_builder_add_required_scope(b, "read".as_ptr().cast(), 4, null as _), OK);
    let mut v: *mut oidc_validator = null as _;
    assert_eq!(oidc_validator_builder_build(b, &mut v, null as _), OK);
    let mut r: *mut oidc_http_request = null as _;
    assert_eq!(oidc_http_request_new(&mut r, null as _), OK);
    let auth = format!("Bearer {}", k.sign(&claims(iss)));
    assert_eq!(oidc_http_request_add_header(r, "Authorization".as_ptr().cast(), 13, auth.as_ptr(), auth.len(), null as _), OK);
    assert_eq!(oidc_http_request_set_method(r, "GET".as_ptr().cast(), 3, null as _), OK);
    let url = "https://api.example/x";
    assert_eq!(oidc_http_request_set_url(r, url.as_ptr().cast(), url.len(), null as _), OK);
    assert_eq!(oidc_http_request_set_now(r, NOW, null as _), OK);
    let mut out: *mut std::ffi::c_char = null as _;
    assert_eq!(oidc_authenticate_explain(v, r, &mut out, null as _, null as _), OK);
    let d: Value = serde_json::from_str(unsafe { std::ffi::CStr::from_ptr(out) }.to_str().unwrap()).unwrap();
    assert_eq!(d["decision"], "deny");
    assert_eq!(outcome(&d, "required scope read"), "fail");
    oidc_string_free(out);
    oidc_http_request_free(r);
    oidc_validator_free(v);
}
