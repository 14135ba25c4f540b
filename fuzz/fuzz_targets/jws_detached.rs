//! JWS documents (`oidc::core::jose::jws::verify_jws`): compact and JSON serializations,
//! detached content, RFC 7797 unencoded payloads. Input: the JWS bytes, then optionally a NUL
//! byte and the detached payload. The key set holds the RFC 7520 example keys (RSA, P-521) and
//! a P-256 key of the shared vectors, so the seeds (tests/vectors/jose_jws.json cases) verify.
//!
//! Oracle: an accepted JWS used an allowed asymmetric algorithm; its returned header is the
//! protected header as sent; the returned payload is the detached payload when one was given;
//! and the signature verifies (aws-lc-rs, called here) over the signing input rebuilt here
//! from the protected header, the `b64` rule and the payload, under a key of the set.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use oidc::core::jose::jws::verify_jws;
use oidc::core::{Client, Config, KeySource};
use oidc_fuzz::{b64d, b64e, verify_with_jwk};
use serde_json::{Value, json};

const NOW: f64 = 1_800_000_000.0;
const ALGS: [&str; 4] = ["RS256", "PS384", "ES256", "ES512"];

static KEYS: LazyLock<Value> = LazyLock::new(|| {
    json!({"keys": [
        {"kty": "RSA", "kid": "bilbo.baggins@hobbiton.example", "use": "sig", "e": "AQAB",
         "n": "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw"},
        {"kty": "EC", "crv": "P-521", "kid": "bilbo.baggins@hobbiton.example", "use": "sig",
         "x": "AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",
         "y": "AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"},
        {"kty": "EC", "crv": "P-256", "kid": "es256-vector", "alg": "ES256", "use": "sig",
         "x": "-goFuU_fH-K0abpIKgfVJ6E56N_qpNG3NcH5FYy5b3Q", "y": "oDdtg_cDEIho9GlZ9LUWUDp7C5dgRMyYCsSq4HSxW9g"}
    ]})
});

static CLIENT: LazyLock<Client> = LazyLock::new(|| {
    let mut cfg = Config::new("https://issuer.fuzz.test");
    cfg.audiences = vec!["api://fuzz".into()];
    cfg.key_source = KeySource::Static(KEYS.to_string());
    cfg.set_algorithms(ALGS).expect("algorithms");
    Client::new(cfg).expect("client")
});

/// The protected header and signature segments, read independently of liboidc's parser.
fn segments(jws: &str) -> (String, String) {
    if jws.trim_start().starts_with('{') {
        let v: Value = serde_json::from_str(jws).expect("an accepted JSON JWS is JSON");
        let one = v.get("signatures").and_then(|s| s.get(0)).unwrap_or(&v);
        let s = |n: &str| one[n].as_str().expect("accepted JWS member").to_string();
        (s("protected"), s("signature"))
    } else {
        let (p, _) = jws.split_once('.').expect("compact");
        let (_, s) = jws.rsplit_once('.').expect("compact");
        (p.to_string(), s.to_string())
    }
}

fuzz_target!(|data: &[u8]| {
    let (jws, detached) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(jws) = std::str::from_utf8(jws) else { return };
    let Ok(v) = verify_jws(&CLIENT, jws, detached, NOW) else { return };
    assert!(ALGS.contains(&v.alg.name()), "accepted alg {} is not allowed", v.alg.name());
    if let Some(d) = detached {
        assert_eq!(v.payload, d, "the payload is not the detached payload given");
    }
    let (protected, signature) = segments(jws);
    let header_bytes = b64d(&protected).expect("accepted protected header is base64url");
    assert_eq!(header_bytes, v.header_json.as_bytes(), "returned header is not the protected header");
    let header: Value = serde_json::from_slice(&header_bytes).expect("header JSON");
    assert_eq!(header["alg"].as_str(), Some(v.alg.name()), "alg not from the protected header");
    let b64 = header.get("b64") != Some(&Value::Bool(false));
    if !b64 {
        let crit = header["crit"].as_array().expect("b64 false without crit accepted");
        assert!(crit.iter().any(|c| c == "b64"), "b64 false without crit b64 accepted");
    }
    let mut input = format!("{protected}.").into_bytes();
    if b64 {
        input.extend_from_slice(b64e(&v.payload).as_bytes());
    } else {
        input.extend_from_slice(&v.payload);
    }
    let sig = b64d(&signature).expect("signature base64url");
    let ok = KEYS["keys"].as_array().unwrap().iter().any(|k| {
        let k = k.as_object().unwrap();
        let kid_fits = v.kid.as_deref().is_none_or(|kid| k.get("kid").and_then(Value::as_str) == Some(kid));
        kid_fits && verify_with_jwk(k, v.alg.name(), &input, &sig)
    });
    assert!(ok, "FORGERY: accepted JWS does not verify over the rebuilt signing input");
});
