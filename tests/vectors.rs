//! The shared vectors (tests/vectors/validation.json), decided by the Rust core and by the C ABI
//! alike. The Go, C#, Ruby and C tests run the same file.

use std::ffi::{CStr, c_char};

use oidc::core::{Client, Config, KeySource};
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{oidc_error_code, oidc_error_free, oidc_string_free};
use oidc::ffi::oidc_result;
use oidc::ffi::validator::*;
use serde_json::Value;

fn vectors() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/validation.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn code_name(code: u32) -> String {
    let p = oidc::ffi::misc::oidc_result_name(code);
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

#[test]
fn core_decides_every_vector() {
    let v = vectors();
    let c = &v["config"];
    let mut cfg = Config::new(c["issuer"].as_str().unwrap());
    cfg.key_source = KeySource::Static(v["jwks"].to_string());
    cfg.audiences = c["audiences"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    cfg.expected_typ = Some(c["expected_typ"].as_str().unwrap().into());
    cfg.required_claims = vec!["sub".into()];
    cfg.max_token_bytes = c["max_token_bytes"].as_u64().unwrap() as usize;
    cfg.set_algorithms(c["algorithms"].as_str().unwrap().split(',')).unwrap();
    let client = Client::new(cfg).unwrap();
    let now = v["now"].as_f64().unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    for case in cases {
        let got = match client.validate_at(case["token"].as_str().unwrap(), now) {
            Ok(_) => 0,
            Err(e) => oidc::ffi::error::code_for(e.kind()) as u32,
        };
        assert_eq!(got, case["code"].as_u64().unwrap() as u32, "{}", case["name"]);
        assert_eq!(code_name(got), case["expect"].as_str().unwrap(), "{}", case["name"]);
    }
}

fn set(rc: oidc_result) {
    assert_eq!(rc, oidc_result::Ok);
}

#[test]
fn c_abi_decides_every_vector() {
    let v = vectors();
    let c = &v["config"];
    let s = |x: &Value| x.as_str().unwrap().to_string();
    let null = std::ptr::null_mut();
    let mut b: *mut oidc_validator_builder = null as _;
    set(oidc_validator_builder_new(&mut b, null as _));
    let put = |f: extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result, b, val: String| {
        set(f(b, val.as_ptr().cast(), val.len(), std::ptr::null_mut()));
    };
    put(oidc_validator_builder_set_issuer, b, s(&c["issuer"]));
    put(oidc_validator_builder_set_jwks_json, b, v["jwks"].to_string());
    put(oidc_validator_builder_add_audience, b, s(&c["audiences"][0]));
    put(oidc_validator_builder_set_expected_typ, b, s(&c["expected_typ"]));
    put(oidc_validator_builder_add_required_claim, b, "sub".into());
    put(oidc_validator_builder_set_algorithms, b, s(&c["algorithms"]));
    set(oidc_validator_builder_set_max_token_bytes(b, c["max_token_bytes"].as_u64().unwrap() as usize, null as _));
    let mut client: *mut oidc_validator = null as _;
    set(oidc_validator_builder_build(b, &mut client, null as _));
    for case in v["cases"].as_array().unwrap() {
        let t = case["token"].as_str().unwrap();
        let mut out: *mut c_char = null as _;
        let mut len = 0usize;
        let mut err: *mut oidc_error = null as _;
        let rc = oidc_validate_at(client, t.as_ptr().cast(), t.len(), v["now"].as_i64().unwrap(), &mut out, &mut len, &mut err);
        assert_eq!(rc as u32, case["code"].as_u64().unwrap() as u32, "{}", case["name"]);
        if rc == oidc_result::Ok {
            assert!(err.is_null());
            let claims: Value = serde_json::from_str(unsafe { CStr::from_ptr(out) }.to_str().unwrap()).unwrap();
            assert_eq!(claims["sub"], "alice");
            assert_eq!(len, unsafe { CStr::from_ptr(out) }.to_bytes().len());
            oidc_string_free(out);
        } else {
            assert!(out.is_null(), "no output on failure");
            assert_eq!(oidc_error_code(err), rc);
            oidc_error_free(err);
        }
    }
    oidc_validator_free(client);
}

fn multi_vectors() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/multi_issuer.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect()
}

#[test]
fn core_decides_every_multi_issuer_vector() {
    let v = multi_vectors();
    let c = &v["config"];
    let mut cfg = Config::new("");
    cfg.audiences = strs(&c["audiences"]);
    cfg.required_claims = strs(&c["required_claims"]);
    cfg.max_token_bytes = c["max_token_bytes"].as_u64().unwrap() as usize;
    for i in v["issuers"].as_array().unwrap() {
        let mut ic = oidc::core::IssuerConfig::new(i["issuer"].as_str().unwrap());
        if !i["jwks"].is_null() {
            ic.key_source = KeySource::Static(i["jwks"].to_string());
        }
        if !i["tenants"].is_null() {
            ic.tenants = Some(oidc::core::Tenants::AllowList(strs(&i["tenants"])));
        }
        ic.audiences = strs(&i["audiences"]);
        ic.algorithms = Some(oidc::core::config::AlgSet::from_names(i["algorithms"].as_str().unwrap().split(','), "empty").unwrap());
        cfg.issuers.push(ic);
    }
    let client = Client::new(cfg).unwrap();
    let now = v["now"].as_f64().unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let got = match client.validate_at(case["token"].as_str().unwrap(), now) {
            Ok(_) => 0,
            Err(e) => oidc::ffi::error::code_for(e.kind()) as u32,
        };
        assert_eq!(got, case["code"].as_u64().unwrap() as u32, "{}", case["name"]);
        assert_eq!(code_name(got), case["expect"].as_str().unwrap(), "{}", case["name"]);
    }
}

#[test]
fn c_abi_decides_every_multi_issuer_vector() {
    use oidc::ffi::issuer::*;
    let v = multi_vectors();
    let c = &v["config"];
    let null = std::ptr::null_mut();
    let mut b: *mut oidc_validator_builder = null as _;
    set(oidc_validator_builder_new(&mut b, null as _));
    for a in strs(&c["audiences"]) {
        set(oidc_validator_builder_add_audience(b, a.as_ptr().cast(), a.len(), null as _));
    }
    for r in strs(&c["required_claims"]) {
        set(oidc_validator_builder_add_required_claim(b, r.as_ptr().cast(), r.len(), null as _));
    }
    set(oidc_validator_builder_set_max_token_bytes(b, c["max_token_bytes"].as_u64().unwrap() as usize, null as _));
    for i in v["issuers"].as_array().unwrap() {
        let iss = i["issuer"].as_str().unwrap();
        let mut ib: *mut oidc_issuer_builder = null as _;
        set(oidc_issuer_builder_new(iss.as_ptr().cast(), iss.len(), &mut ib, null as _));
        if !i["jwks"].is_null() {
            let jwks = i["jwks"].to_string();
            set(oidc_issuer_builder_set_jwks_json(ib, jwks.as_ptr().cast(), jwks.len(), null as _));
        }
        if !i["tenants"].is_null() {
            for t in strs(&i["tenants"]) {
                set(oidc_issuer_builder_add_tenant(ib, t.as_ptr().cast(), t.len(), null as _));
            }
        }
        for a in strs(&i["audiences"]) {
            set(oidc_issuer_builder_add_audience(ib, a.as_ptr().cast(), a.len(), null as _));
        }
        let algs = i["algorithms"].as_str().unwrap();
        set(oidc_issuer_builder_set_algorithms(ib, algs.as_ptr().cast(), algs.len(), null as _));
        set(oidc_validator_builder_add_issuer(b, ib, null as _));
    }
    let mut client: *mut oidc_validator = null as _;
    set(oidc_validator_builder_build(b, &mut client, null as _));
    for case in v["cases"].as_array().unwrap() {
        let t = case["token"].as_str().unwrap();
        let mut out: *mut c_char = null as _;
        let mut err: *mut oidc_error = null as _;
        let rc = oidc_validate_at(client, t.as_ptr().cast(), t.len(), v["now"].as_i64().unwrap(), &mut out, null as _, &mut err);
        assert_eq!(rc as u32, case["code"].as_u64().unwrap() as u32, "{}", case["name"]);
        if rc == oidc_result::Ok {
            oidc_string_free(out);
        } else {
            assert_eq!(oidc_error_code(err), rc);
            oidc_error_free(err);
        }
    }
    oidc_validator_free(client);
}

#[test]
fn c_abi_issuer_builder_failures_reach_build() {
    use oidc::ffi::issuer::*;
    let null = std::ptr::null_mut();
    let mut b: *mut oidc_validator_builder = null as _;
    set(oidc_validator_builder_new(&mut b, null as _));
    let tpl = "https://login.example/{tenant}/v2.0";
    let mut ib: *mut oidc_issuer_builder = null as _;
    set(oidc_issuer_builder_new(tpl.as_ptr().cast(), tpl.len(), &mut ib, null as _));
    let bad = "HS256";
    assert_eq!(oidc_issuer_builder_set_algorithms(ib, bad.as_ptr().cast(), bad.len(), null as _), oidc_result::UnsupportedAlgorithm);
    set(oidc_validator_builder_add_audience(b, "api".as_ptr().cast(), 3, null as _));
    assert_eq!(oidc_validator_builder_add_issuer(b, ib, null as _), oidc_result::UnsupportedAlgorithm);
    let mut client: *mut oidc_validator = null as _;
    assert_eq!(oidc_validator_builder_build(b, &mut client, null as _), oidc_result::UnsupportedAlgorithm);
    assert!(client.is_null());
    // A template without a tenant choice fails at build; any-tenant after an allow-list at once.
    let mut b: *mut oidc_validator_builder = null as _;
    set(oidc_validator_builder_new(&mut b, null as _));
    set(oidc_validator_builder_add_audience(b, "api".as_ptr().cast(), 3, null as _));
    let mut ib: *mut oidc_issuer_builder = null as _;
    set(oidc_issuer_builder_new(tpl.as_ptr().cast(), tpl.len(), &mut ib, null as _));
    set(oidc_validator_builder_add_issuer(b, ib, null as _));
    assert_eq!(oidc_validator_builder_build(b, &mut client, null as _), oidc_result::InvalidConfig);
    let mut ib: *mut oidc_issuer_builder = null as _;
    set(oidc_issuer_builder_new(tpl.as_ptr().cast(), tpl.len(), &mut ib, null as _));
    set(oidc_issuer_builder_add_tenant(ib, "t1".as_ptr().cast(), 2, null as _));
    assert_eq!(oidc_issuer_builder_set_any_tenant(ib, 1, null as _), oidc_result::InvalidConfig);
    oidc_issuer_builder_free(ib);
    assert_eq!(oidc_validator_builder_add_issuer(null as _, null as _, null as _), oidc_result::NullParameter);
}

/// Build a validator from a policy document through the C ABI.
fn from_policy(doc: &str) -> *mut oidc_validator {
    use oidc::ffi::issuer::*;
    let null = std::ptr::null_mut();
    let mut b: *mut oidc_validator_builder = null as _;
    set(oidc_validator_builder_new(&mut b, null as _));
    set(oidc_validator_builder_load_policy(b, doc.as_ptr().cast(), doc.len(), null as _));
    let mut client: *mut oidc_validator = null as _;
    set(oidc_validator_builder_build(b, &mut client, null as _));
    client
}

fn decide_all(client: *mut oidc_validator, v: &Value) {
    for case in v["cases"].as_array().unwrap() {
        let t = case["token"].as_str().unwrap();
        let mut out: *mut c_char = std::ptr::null_mut();
        let rc = oidc_validate_at(
            client,
            t.as_ptr().cast(),
            t.len(),
            v["now"].as_i64().unwrap(),
            &mut out,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        assert_eq!(rc as u32, case["code"].as_u64().unwrap() as u32, "{}", case["name"]);
        oidc_string_free(out);
    }
}

fn policy_vectors() -> Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/policy.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The vector file a policy.json `equivalents` entry names.
fn equivalent_vectors(e: &Value) -> Value {
    match e["vectors"].as_str().unwrap() {
        "validation.json" => vectors(),
        "multi_issuer.json" => multi_vectors(),
        other => panic!("unknown vector file {other}"),
    }
}

/// The documents of tests/vectors/policy.json, derived again from the vector files' configs: the
/// shared file (which every binding runs) stays one spelling of the builder calls.
#[test]
fn the_shared_policy_documents_match_the_vector_configs() {
    let v = vectors();
    let c = &v["config"];
    let single = serde_json::json!({"version": 1, "issuer": c["issuer"], "jwks": v["jwks"], "audiences": c["audiences"],
        "typ": c["expected_typ"], "required_claims": ["sub"], "max_token_bytes": c["max_token_bytes"],
        "leeway_secs": c["leeway_secs"],
        "algorithms": c["algorithms"].as_str().unwrap().split(',').collect::<Vec<_>>()});
    let m = multi_vectors();
    let c = &m["config"];
    let issuers: Vec<Value> = m["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let mut d = serde_json::json!({"issuer": i["issuer"], "audiences": i["audiences"],
                "algorithms": i["algorithms"].as_str().unwrap().split(',').collect::<Vec<_>>()});
            for k in ["jwks", "tenants"] {
                if !i[k].is_null() {
                    d[k] = i[k].clone();
                }
            }
            d
        })
        .collect();
    let multi = serde_json::json!({"version": 1, "audiences": c["audiences"], "required_claims": c["required_claims"],
        "max_token_bytes": c["max_token_bytes"], "leeway_secs": c["leeway_secs"], "issuers": issuers});
    let p = policy_vectors();
    let eq = p["equivalents"].as_array().unwrap();
    assert_eq!(eq.len(), 2);
    assert_eq!(eq[0]["vectors"], "validation.json");
    assert_eq!(eq[0]["policy"], single);
    assert_eq!(eq[1]["vectors"], "multi_issuer.json");
    assert_eq!(eq[1]["policy"], multi);
}

#[test]
fn a_policy_document_decides_every_vector_like_the_builder_calls() {
    use oidc::ffi::issuer::*;
    let p = policy_vectors();
    for e in p["equivalents"].as_array().unwrap() {
        let v = equivalent_vectors(e);
        let doc = e["policy"].to_string();
        let client = from_policy(&doc);
        decide_all(client, &v);
        // The exported document builds a validator with the same decisions, and exports the same.
        let mut out: *mut c_char = std::ptr::null_mut();
        let mut len = 0usize;
        set(oidc_validator_policy_json(client, &mut out, &mut len, std::ptr::null_mut()));
        let exported = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
        assert_eq!(exported.len(), len);
        oidc_string_free(out);
        oidc_validator_free(client);
        let again = from_policy(&exported);
        decide_all(again, &v);
        let mut out2: *mut c_char = std::ptr::null_mut();
        set(oidc_validator_policy_json(again, &mut out2, std::ptr::null_mut(), std::ptr::null_mut()));
        assert_eq!(unsafe { CStr::from_ptr(out2) }.to_str().unwrap(), exported);
        oidc_string_free(out2);
        oidc_validator_free(again);
    }
}

#[test]
fn every_shared_malformed_policy_names_its_path() {
    use oidc::ffi::issuer::*;
    use oidc::ffi::misc::oidc_error_message;
    let null = std::ptr::null_mut();
    for m in policy_vectors()["malformed"].as_array().unwrap() {
        let (name, doc, path) = (m["name"].as_str().unwrap(), m["document"].as_str().unwrap(), m["path"].as_str().unwrap());
        let mut b: *mut oidc_validator_builder = null as _;
        set(oidc_validator_builder_new(&mut b, null as _));
        let mut err: *mut oidc_error = null as _;
        assert_eq!(oidc_validator_builder_load_policy(b, doc.as_ptr().cast(), doc.len(), &mut err), oidc_result::InvalidConfig, "{name}");
        let msg = unsafe { CStr::from_ptr(oidc_error_message(err)) }.to_str().unwrap().to_string();
        assert!(msg.contains(&format!("{path}:")), "{name}: {msg}");
        oidc_error_free(err);
        let mut client: *mut oidc_validator = null as _;
        assert_eq!(oidc_validator_builder_build(b, &mut client, null as _), oidc_result::InvalidConfig, "{name}");
    }
}

#[test]
fn a_malformed_policy_names_the_path_and_fails_the_build() {
    use oidc::ffi::issuer::*;
    use oidc::ffi::misc::oidc_error_message;
    let null = std::ptr::null_mut();
    let mut b: *mut oidc_validator_builder = null as _;
    set(oidc_validator_builder_new(&mut b, null as _));
    let doc = r#"{"version":1,"issuers":[{"issuer":"https://a.example"},{"issuer":"https://b.example","audiences":[7]}]}"#;
    let mut err: *mut oidc_error = null as _;
    assert_eq!(oidc_validator_builder_load_policy(b, doc.as_ptr().cast(), doc.len(), &mut err), oidc_result::InvalidConfig);
    let msg = unsafe { CStr::from_ptr(oidc_error_message(err)) }.to_str().unwrap().to_string();
    assert!(msg.contains("$.issuers[1].audiences[0]"), "{msg}");
    oidc_error_free(err);
    let mut client: *mut oidc_validator = null as _;
    assert_eq!(oidc_validator_builder_build(b, &mut client, null as _), oidc_result::InvalidConfig);
    let mut b: *mut oidc_validator_builder = null as _;
    set(oidc_validator_builder_new(&mut b, null as _));
    let p = "/nonexistent/policy.json";
    assert_eq!(oidc_validator_builder_load_policy_file(b, p.as_ptr().cast(), p.len(), null as _), oidc_result::InvalidConfig);
    oidc_validator_builder_free(b);
}

fn upper_snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, ch) in camel.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}

/// Explain mode agrees with validation on every shared vector (single and multi-issuer): the
/// same decision, and the first failure it lists is the code validation returns.
#[test]
fn explain_agrees_with_validation_on_every_vector() {
    use oidc::ffi::issuer::*;
    for e in policy_vectors()["equivalents"].as_array().unwrap() {
        let v = equivalent_vectors(e);
        let client = from_policy(&e["policy"].to_string());
        for case in v["cases"].as_array().unwrap() {
            let t = case["token"].as_str().unwrap();
            let mut out: *mut c_char = std::ptr::null_mut();
            set(oidc_validate_explain(
                client,
                t.as_ptr().cast(),
                t.len(),
                v["now"].as_i64().unwrap(),
                &mut out,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            ));
            let doc: Value = serde_json::from_str(unsafe { CStr::from_ptr(out) }.to_str().unwrap()).unwrap();
            oidc_string_free(out);
            let (name, expect) = (case["name"].as_str().unwrap(), case["expect"].as_str().unwrap());
            if expect == "OK" {
                assert_eq!(doc["decision"], "allow", "{name}: {doc}");
                assert!(doc["code"].is_null(), "{name}: {doc}");
            } else {
                assert_eq!(doc["decision"], "deny", "{name}: {doc}");
                assert_eq!(upper_snake(doc["code"].as_str().unwrap_or("")), expect, "{name}: {doc}");
            }
        }
        oidc_validator_free(client);
    }
}

/// oidc_issuer_builder_set_tenant_bounds: 0 keeps a bound's default (bindings pass 0 for what
/// their caller left unset, never a copy of the value); out-of-range values fail the build.
#[test]
fn c_abi_tenant_bounds_zero_keeps_the_default_and_out_of_range_fails() {
    use oidc::ffi::issuer::*;
    let null = std::ptr::null_mut();
    let tpl = "https://login.example/{tenant}/v2.0";
    let build = |bounds: [u32; 4]| {
        let mut b: *mut oidc_validator_builder = null as _;
        set(oidc_validator_builder_new(&mut b, null as _));
        set(oidc_validator_builder_add_audience(b, "api".as_ptr().cast(), 3, null as _));
        let mut ib: *mut oidc_issuer_builder = null as _;
        set(oidc_issuer_builder_new(tpl.as_ptr().cast(), tpl.len(), &mut ib, null as _));
        set(oidc_issuer_builder_set_any_tenant(ib, 1, null as _));
        set(oidc_issuer_builder_set_tenant_bounds(ib, bounds[0], bounds[1], bounds[2], bounds[3], null as _));
        set(oidc_validator_builder_add_issuer(b, ib, null as _));
        let mut client: *mut oidc_validator = null as _;
        let rc = oidc_validator_builder_build(b, &mut client, null as _);
        (rc, client)
    };
    let (rc, client) = build([0, 5, 0, 0]);
    assert_eq!(rc, oidc_result::Ok);
    let mut out: *mut c_char = null as _;
    set(oidc_validator_policy_json(client, &mut out, null as _, null as _));
    let doc: Value = serde_json::from_str(unsafe { CStr::from_ptr(out) }.to_str().unwrap()).unwrap();
    oidc_string_free(out);
    oidc_validator_free(client);
    let d = oidc::core::TenantBounds::default();
    let tb = &doc["issuers"][0]["tenant_bounds"];
    assert_eq!(tb["max_tenants"], d.max_tenants as u64, "{doc}");
    assert_eq!(tb["new_per_window"], 5, "{doc}");
    assert_eq!(tb["window_secs"], d.window.as_secs(), "{doc}");
    assert_eq!(tb["max_in_flight"], d.max_in_flight, "{doc}");
    for bad in [[u32::MAX, 0, 0, 0], [0, u32::MAX, 0, 0], [0, 0, u32::MAX, 0], [0, 0, 0, u32::MAX]] {
        let (rc, client) = build(bad);
        assert_eq!(rc, oidc_result::InvalidConfig, "{bad:?}");
        assert!(client.is_null());
    }
}

/// set_timeouts_ms: 0 keeps that timeout's current setting, so setting one after a policy
/// document does not reset the other to its default.
#[test]
fn c_abi_timeouts_zero_keeps_the_policy_documents_value() {
    let null = std::ptr::null_mut();
    let doc =
        r#"{"version":1,"issuer":"https://a.example","audiences":["api"],"http":{"connect_timeout_ms":1234,"total_timeout_ms":4321}}"#;
    let mut b: *mut oidc_validator_builder = null as _;
    set(oidc_validator_builder_new(&mut b, null as _));
    set(oidc::ffi::issuer::oidc_validator_builder_load_policy(b, doc.as_ptr().cast(), doc.len(), null as _));
    set(oidc_validator_builder_set_timeouts_ms(b, 0, 2000, null as _));
    let mut client: *mut oidc_validator = null as _;
    set(oidc_validator_builder_build(b, &mut client, null as _));
    let mut out: *mut c_char = null as _;
    set(oidc::ffi::issuer::oidc_validator_policy_json(client, &mut out, null as _, null as _));
    let exported: Value = serde_json::from_str(unsafe { CStr::from_ptr(out) }.to_str().unwrap()).unwrap();
    oidc_string_free(out);
    oidc_validator_free(client);
    assert_eq!(exported["http"]["connect_timeout_ms"], 1234, "{exported}");
    assert_eq!(exported["http"]["total_timeout_ms"], 2000, "{exported}");
}
