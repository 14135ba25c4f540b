//! The shared request vectors (tests/vectors/requests.json) decided by the Rust core,
//! `Client::authenticate`. One test: the file runs once per process (the DPoP replay cache is
//! process-wide and later cases replay earlier cases' proofs). The C ABI runs them in
//! tests/request_vectors_abi.rs; Go, C#, Ruby and C run the same file.

#[path = "support/request_vectors.rs"]
mod rv;

use std::collections::HashMap;
use std::ffi::CStr;
use std::time::Duration;

use oidc::core::authn::RequestInput;
use oidc::core::config::NonceSecret;
use oidc::core::{Client, Config, DpopMode, KeySource};
use serde_json::Value;

fn build(jwks: &Value, c: &Value) -> Client {
    let mut cfg = Config::new(c["issuer"].as_str().unwrap());
    cfg.key_source = KeySource::Static(jwks.to_string());
    cfg.audiences = rv::strings(&c["audiences"]);
    cfg.expected_typ = c["expected_typ"].as_str().map(Into::into);
    cfg.set_algorithms(c["algorithms"].as_str().unwrap().split(',')).unwrap();
    cfg.leeway = Duration::from_secs(c["leeway_secs"].as_u64().unwrap());
    cfg.max_token_bytes = c["max_token_bytes"].as_u64().unwrap() as usize;
    cfg.realm = c["realm"].as_str().map(Into::into);
    for s in rv::strings(&c["required_scopes"]) {
        cfg.add_required_scope(&s).unwrap();
    }
    for (claim, values) in c["claim_values"].as_object().unwrap() {
        for v in rv::strings(values) {
            cfg.add_claim_value(claim, &v).unwrap();
        }
    }
    cfg.resource.dpop.mode = match c["dpop_mode"].as_str().unwrap() {
        "allowed" => DpopMode::Allowed,
        "required" => DpopMode::Required,
        "disabled" => DpopMode::Disabled,
        m => panic!("dpop_mode {m}"),
    };
    if let Some(a) = c["dpop_algorithms"].as_str() {
        cfg.set_dpop_algorithms(a.split(',')).unwrap();
    }
    if let Some(w) = c["dpop_proof_window_secs"].as_u64() {
        cfg.resource.dpop.proof_window = Duration::from_secs(w);
    }
    if let Some(s) = c["dpop_nonce_secret_hex"].as_str() {
        cfg.resource.dpop.nonce_secret = Some(NonceSecret(rv::hex(s)));
        cfg.resource.dpop.nonce_lifetime = Duration::from_secs(c["dpop_nonce_lifetime_secs"].as_u64().unwrap());
    }
    cfg.resource.require_mtls = c["require_mtls"].as_bool().unwrap();
    if let Some(n) = c["token_cache_size"].as_u64() {
        cfg.token_cache_size = n as usize;
    }
    Client::new(cfg).expect("client")
}

fn code_name(code: u32) -> String {
    let p = oidc::ffi::misc::oidc_result_name(code);
    assert!(!p.is_null(), "code {code} has a name");
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

#[test]
fn core_decides_every_request_vector() {
    let v = rv::vectors();
    let now = v["now"].as_f64().unwrap();
    let clients: HashMap<String, Client> =
        v["clients"].as_object().unwrap().iter().map(|(name, c)| (name.clone(), build(&v["jwks"], c))).collect();
    rv::run_all(&v, |case| {
        let r = &case["request"];
        let bytes = |k: &str| -> Vec<Vec<u8>> { rv::strings(&r[k]).into_iter().map(String::into_bytes).collect() };
        let input = RequestInput {
            authorization: bytes("authorization"),
            dpop: bytes("dpop"),
            method: r["method"].as_str().unwrap().into(),
            url: r["url"].as_str().unwrap().into(),
            client_cert_der: rv::cert(r),
            now: Some(now),
        };
        let client = &clients[case["client"].as_str().unwrap()];
        let d = client.authenticate(&input).unwrap_or_else(|e| panic!("{}: no decision: {e:?}", case["name"]));
        let code = match &d.outcome {
            Ok(_) => 0,
            Err(e) => oidc::ffi::error::code_for(e.kind()) as u32,
        };
        rv::Seen {
            allowed: d.allowed(),
            code,
            code_name: code_name(code),
            status: d.status as u32,
            error: d.error_code().map(Into::into),
            challenges: d.challenges.clone(),
            dpop_nonce: d.dpop_nonce.clone(),
            token_type: d.outcome.as_ref().ok().map(|p| p.token_type.name().to_string()),
            claims: d.outcome.as_ref().ok().map(|p| p.claims.clone()),
        }
    });
}

/// The file covers every rule: each decision code, each client, both token types, nonces
/// offered on allowed and denied requests, 400/401/403/503.
#[test]
fn the_file_covers_every_rule() {
    let v = rv::vectors();
    let cases = v["cases"].as_array().unwrap();
    let codes: std::collections::BTreeSet<u64> = cases.iter().map(|c| c["expect"]["code"].as_u64().unwrap()).collect();
    for want in [0, 300, 301, 303, 304, 305, 308, 309, 311, 314, 320, 321, 322, 323, 324, 325, 326, 327, 328, 418] {
        assert!(codes.contains(&want), "no case with code {want}");
    }
    let statuses: std::collections::BTreeSet<u64> = cases.iter().map(|c| c["expect"]["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses.into_iter().collect::<Vec<_>>(), vec![200, 400, 401, 403, 503]);
    for client in v["clients"].as_object().unwrap().keys() {
        assert!(cases.iter().any(|c| c["client"] == client.as_str()), "client {client} unused");
    }
    for tt in ["Bearer", "DPoP"] {
        assert!(cases.iter().any(|c| c["expect"]["token_type"] == tt), "no allowed {tt} case");
    }
    let nonce_on = |allowed: bool| cases.iter().any(|c| c["expect"]["allowed"] == allowed && c["expect"]["dpop_nonce"].is_string());
    assert!(nonce_on(true) && nonce_on(false), "nonces offered on allowed and denied requests");
    assert!(cases.iter().any(|c| c["request"]["client_cert_b64"].is_string()));
    assert!(cases.iter().any(|c| c["request"]["authorization"].as_array().unwrap().len() > 1));
    assert!(cases.iter().any(|c| c["request"]["dpop"].as_array().unwrap().len() > 1));
    // Every allowed DPoP proof is used once, except by the cases that expect DPOP_REPLAY.
    let mut seen = std::collections::HashMap::new();
    for c in cases {
        for p in c["request"]["dpop"].as_array().unwrap() {
            if c["expect"]["allowed"] == true {
                assert!(seen.insert(p.as_str().unwrap().to_string(), c["name"].clone()).is_none(), "{}", c["name"]);
            } else if c["expect"]["code"] == 325 {
                assert!(seen.contains_key(p.as_str().unwrap()), "{}: replays an earlier allowed case", c["name"]);
            }
        }
    }
}
