//! Detached, unencoded (RFC 7797) and non-JWT JWS documents: the shared vectors
//! (tests/vectors/jose_jws.json: RFC 7520 §4, RFC 7797 §4 and liboidc's own cases) decided
//! through a client with each case's static key set, the key resolution of a remote key set
//! (refresh on an unknown kid), and a multi-issuer validator's refusal.
//!
//! The file's liboidc cases are regenerated with fresh testkit keys (the RFC cases are kept) by
//! `cargo test --test jose_jws -- --ignored write_vectors`.

mod common;

use std::ffi::CStr;

use common::*;
use oidc::core::jose::jws::verify_jws;
use oidc::core::{Client, Config, ErrorKind, IssuerConfig, KeySource};
use serde_json::{Value, json};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/jose_jws.json");
const NOW: f64 = 1_800_000_000.0;

fn code_name(kind: ErrorKind) -> String {
    let p = oidc::ffi::misc::oidc_result_name(oidc::ffi::error::code_for(kind) as u32);
    // SAFETY: oidc_result_name returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

fn client_for(jwks: &Value, algorithms: &str) -> Client {
    let mut cfg = Config::new("https://jose.vectors.test");
    cfg.audiences = vec!["api".into()];
    cfg.key_source = KeySource::Static(jwks.to_string());
    cfg.set_algorithms(algorithms.split_whitespace()).unwrap();
    Client::new(cfg).unwrap()
}

fn decode(s: &str) -> Vec<u8> {
    keys::b64_decode(s).unwrap_or_else(|| panic!("not base64url: {s}"))
}

#[test]
fn every_vector_is_decided() {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let (mut accepted, mut refused) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let client = client_for(&case["jwks"], case["algorithms"].as_str().unwrap());
        let detached = case["detached_payload_b64url"].as_str().map(decode);
        let got = verify_jws(&client, case["jws"].as_str().unwrap(), detached.as_deref(), NOW);
        let expect = &case["expect"];
        match (got, expect["code"].as_str()) {
            (Ok(j), None) => {
                assert_eq!(b64(&j.payload), expect["payload_b64url"].as_str().unwrap(), "{name}");
                let header: Value = serde_json::from_str(&j.header_json).unwrap();
                assert_eq!(header, expect["header"], "{name}");
                assert_eq!(j.alg.name(), header["alg"].as_str().unwrap(), "{name}");
                accepted += 1;
            }
            (Err(e), Some(code)) => {
                assert_eq!(code_name(e.kind()), code, "{name}: {}", e.message());
                refused += 1;
            }
            (Ok(_), Some(code)) => panic!("{name}: accepted, expected {code}"),
            (Err(e), None) => panic!("{name}: refused ({:?}: {}), expected acceptance", e.kind(), e.message()),
        }
    }
    assert!(accepted >= 20 && refused >= 20, "{accepted} accepted, {refused} refused");
    assert!(cases.iter().any(|c| c["source"].as_str().unwrap().starts_with("RFC 7520 §4.3")), "the RFC ES512 example");
}

/// A remote key set: a JWS naming a kid the client has not seen yet refreshes the keys once
/// (the token path's rule), and an unknown kid after that refresh is UNKNOWN_KEY.
#[test]
fn remote_keys_refresh_on_an_unknown_kid() {
    let old = TestKey::generate(Alg::ES512);
    let new = TestKey::generate(Alg::RS256);
    let idp = idp(&[&old]);
    let client = idp.client();
    let doc = br#"{"v":"1.0","items":[1,2]}"#;
    let jws = |k: &TestKey| detached_unencoded(k, doc, json!({}));
    let j = verify_jws(&client, &jws(&old), Some(doc), NOW).expect("ES512 detached");
    assert_eq!(j.payload, doc);
    assert_eq!(j.kid.as_deref(), Some(old.kid()));
    assert_eq!(idp.srv.hits("/jwks"), 1);
    idp.set_keys(&[&old, &new]);
    verify_jws(&client, &jws(&new), Some(doc), NOW).expect("new kid after one refresh");
    assert_eq!(idp.srv.hits("/jwks"), 2);
    let stranger = TestKey::generate(Alg::ES256);
    let e = verify_jws(&client, &jws(&stranger), Some(doc), NOW).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownKey, "{}", e.message());
    // The token path's cooldown: the refresh that found a new key grants one early follow-up
    // (taken by the stranger above); a second stranger causes no fetch.
    assert_eq!(idp.srv.hits("/jwks"), 3);
    let e = verify_jws(&client, &jws(&TestKey::generate(Alg::ES256)), Some(doc), NOW).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownKey, "{}", e.message());
    assert_eq!(idp.srv.hits("/jwks"), 3, "suppressed by the cooldown");
    // Tokens and documents share the key set: a token by the new key needs no fetch.
    client.validate(&new.sign(&idp.claims())).expect("token");
    assert_eq!(idp.srv.hits("/jwks"), 3);
}

/// A multi-issuer validator owns no keys and cannot route a bare JWS: refused, not verified with
/// some issuer's keys.
#[test]
fn a_multi_issuer_validator_refuses() {
    let k = TestKey::generate(Alg::ES256);
    let mut cfg = Config::new("https://a.example");
    cfg.audiences = vec!["api".into()];
    cfg.key_source = KeySource::Static(jwks(&[&k]));
    let mut b = IssuerConfig::new("https://b.example");
    b.key_source = KeySource::Static(jwks(&[&k]));
    cfg.issuers.push(b);
    let multi = Client::new(cfg).unwrap();
    let doc = b"payload";
    let e = verify_jws(&multi, &detached_unencoded(&k, doc, json!({})), Some(doc), NOW).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("issuer's own validator"), "{}", e.message());
    // The same JWS verifies with the issuer's own validator.
    let single = client_for(&serde_json::from_str(&jwks(&[&k])).unwrap(), "ES256");
    verify_jws(&single, &detached_unencoded(&k, doc, json!({})), Some(doc), NOW).unwrap();
}

/// The client's allow-list and key checks apply, and a JWS is never a token (nor a token a JWS
/// that skips the claim checks for the caller's benefit: the payload is returned as is).
#[test]
fn policy_applies() {
    let es = TestKey::generate(Alg::ES512);
    let jwks_v: Value = serde_json::from_str(&jwks(&[&es])).unwrap();
    let doc = b"not json at all \x00\xff";
    let jws = detached_unencoded(&es, doc, json!({}));
    let only_rs = client_for(&jwks_v, "RS256");
    assert_eq!(verify_jws(&only_rs, &jws, Some(doc), NOW).unwrap_err().kind(), ErrorKind::AlgorithmNotAllowed);
    let ok = client_for(&jwks_v, "ES512");
    assert_eq!(verify_jws(&ok, &jws, Some(doc), NOW).unwrap().payload, doc);
    // A token (compact JWT) is a JWS too: its claims come back unchecked, as bytes.
    let claims = json!({"iss": "https://jose.vectors.test", "aud": "api", "sub": "u", "exp": 1});
    let token = es.sign(&claims);
    let j = verify_jws(&ok, &token, None, NOW).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&j.payload).unwrap(), claims);
    // ...while the token path refuses the expired token.
    assert_eq!(kind_of(ok.validate(&token)), ErrorKind::TokenExpired);
    // And an unencoded JWS is never a token.
    assert_eq!(kind_of(ok.validate(&detached_unencoded_attached(&es, b"{}"))), ErrorKind::TokenMalformed);
}

// ---- JWS construction (the testkit keys sign; liboidc only verifies) ----

fn protected(k: &TestKey, extra: Value) -> String {
    let mut h = json!({"alg": k.alg().name(), "kid": k.kid()});
    for (n, v) in extra.as_object().unwrap() {
        if v.is_null() {
            h.as_object_mut().unwrap().remove(n);
        } else {
            h[n] = v.clone();
        }
    }
    b64(h.to_string())
}

/// Compact, b64 false, detached.
fn detached_unencoded(k: &TestKey, payload: &[u8], extra: Value) -> String {
    let mut e = json!({"b64": false, "crit": ["b64"]});
    for (n, v) in extra.as_object().unwrap() {
        e[n] = v.clone();
    }
    let p = protected(k, e);
    let mut input = format!("{p}.").into_bytes();
    input.extend_from_slice(payload);
    format!("{p}..{}", b64(k.sign_bytes(&input)))
}

/// Compact, b64 false, attached (`payload` must not contain '.').
fn detached_unencoded_attached(k: &TestKey, payload: &[u8]) -> String {
    let p = protected(k, json!({"b64": false, "crit": ["b64"]}));
    let text = std::str::from_utf8(payload).unwrap();
    let sig = k.sign_bytes(format!("{p}.{text}").as_bytes());
    format!("{p}.{text}.{}", b64(sig))
}

// ---- the vector file ----

fn case(name: &str, jws: String, detached: Option<&[u8]>, keys: &[&TestKey], algs: &str, expect: Value) -> Value {
    json!({
        "name": name,
        "source": "liboidc",
        "jws": jws,
        "detached_payload_b64url": detached.map(b64),
        "jwks": oidc_testkit::jwks_value(keys),
        "algorithms": algs,
        "expect": expect,
    })
}

fn accept(payload: &[u8], protected_b64: &str) -> Value {
    json!({"payload_b64url": b64(payload), "header": serde_json::from_slice::<Value>(&decode(protected_b64)).unwrap()})
}

fn own_cases() -> Vec<Value> {
    const ALL: &str = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA";
    let refuse = |code: &str| json!({"code": code});
    let mut out = Vec::new();
    let doc = br#"{"version":"1.0","sellers":[{"id":"a.b"}]}"#;
    let plain = br#"{"no_dot":true}"#;
    for alg in [Alg::RS256, Alg::ES256, Alg::ES512] {
        let k = TestKey::generate_with_kid(alg, &format!("{}-vector", alg.name().to_ascii_lowercase()));
        let a = alg.name();
        // b64 false, detached (the payload contains '.').
        let jws = detached_unencoded(&k, doc, json!({}));
        let p = jws.split('.').next().unwrap().to_string();
        out.push(case(&format!("{a} b64 false, detached compact"), jws.clone(), Some(doc), &[&k], ALL, accept(doc, &p)));
        out.push(case(
            &format!("{a} b64 false, detached compact, other payload"),
            jws.clone(),
            Some(b"{}"),
            &[&k],
            ALL,
            refuse("SIGNATURE_INVALID"),
        ));
        out.push(case(
            &format!("{a} b64 false, detached, flattened JSON"),
            json!({"protected": p, "signature": jws.rsplit('.').next().unwrap()}).to_string(),
            Some(doc),
            &[&k],
            ALL,
            accept(doc, &p),
        ));
        // b64 false, attached: compact (no '.') and flattened JSON (with '.').
        let jws = detached_unencoded_attached(&k, plain);
        let p2 = jws.split('.').next().unwrap().to_string();
        out.push(case(&format!("{a} b64 false, attached compact"), jws, None, &[&k], ALL, accept(plain, &p2)));
        let sig = detached_unencoded(&k, doc, json!({}));
        out.push(case(
            &format!("{a} b64 false, attached flattened JSON"),
            json!({"protected": p, "payload": std::str::from_utf8(doc).unwrap(), "signature": sig.rsplit('.').next().unwrap()}).to_string(),
            None,
            &[&k],
            ALL,
            accept(doc, &p),
        ));
        // b64 true, detached; kid in the unprotected header.
        let p3 = protected(&k, json!({"kid": null, "cty": "application/json"}));
        let sig = b64(k.sign_bytes(format!("{p3}.{}", b64(doc)).as_bytes()));
        out.push(case(
            &format!("{a} detached content (b64 true), compact, one key"),
            format!("{p3}..{sig}"),
            Some(doc),
            &[&k],
            ALL,
            accept(doc, &p3),
        ));
        out.push(case(
            &format!("{a} detached content, flattened JSON, kid unprotected"),
            json!({"protected": p3, "header": {"kid": k.kid()}, "signature": sig}).to_string(),
            Some(doc),
            &[&k],
            ALL,
            accept(doc, &p3),
        ));
        // Signed over the unencoded payload, but the header does not say b64 false: the
        // signature is over another input.
        let p4 = protected(&k, json!({}));
        let sig = b64(k.sign_bytes(format!("{p4}.{}", std::str::from_utf8(doc).unwrap()).as_bytes()));
        out.push(case(
            &format!("{a} unencoded signing input under a b64 true header"),
            format!("{p4}..{sig}"),
            Some(doc),
            &[&k],
            ALL,
            refuse("SIGNATURE_INVALID"),
        ));
        // b64 false without crit.
        let p5 = protected(&k, json!({"b64": false}));
        let sig = b64(k.sign_bytes(format!("{p5}.{}", std::str::from_utf8(doc).unwrap()).as_bytes()));
        out.push(case(&format!("{a} b64 false without crit"), format!("{p5}..{sig}"), Some(doc), &[&k], ALL, refuse("TOKEN_MALFORMED")));
        // A binary, non-JSON payload (b64 true, attached).
        let bin = [0u8, 1, 2, 0xfe, 0xff, b'.', b'\n'];
        let p6 = protected(&k, json!({"typ": "example+octets"}));
        let sig = b64(k.sign_bytes(format!("{p6}.{}", b64(bin)).as_bytes()));
        out.push(case(&format!("{a} binary payload, compact"), format!("{p6}.{}.{sig}", b64(bin)), None, &[&k], ALL, accept(&bin, &p6)));
    }
    let k = TestKey::generate_with_kid(Alg::ES256, "es256-rules");
    let p521 = TestKey::generate_with_kid(Alg::ES512, "es512-rules");
    let doc: &[u8] = b"document";
    out.push(case(
        "crit names an extension liboidc does not understand",
        detached_unencoded(&k, doc, json!({"crit": ["b64", "urn:example:ext"], "urn:example:ext": 1})),
        Some(doc),
        &[&k],
        ALL,
        refuse("CRIT_UNSUPPORTED"),
    ));
    out.push(case(
        "b64 is a string",
        detached_unencoded(&k, doc, json!({"b64": "false"})),
        Some(doc),
        &[&k],
        ALL,
        refuse("TOKEN_MALFORMED"),
    ));
    let p = protected(&k, json!({}));
    out.push(case(
        "b64 in the unprotected header",
        json!({"protected": p, "header": {"b64": false}, "signature": "AAAA"}).to_string(),
        Some(doc),
        &[&k],
        ALL,
        refuse("TOKEN_MALFORMED"),
    ));
    out.push(case(
        "unknown kid (static key set)",
        detached_unencoded(&k.with_kid("nobody"), doc, json!({})),
        Some(doc),
        &[&k],
        ALL,
        refuse("UNKNOWN_KEY"),
    ));
    let none = b64(json!({"alg": "none", "b64": false, "crit": ["b64"]}).to_string());
    out.push(case("alg none", format!("{none}.."), Some(doc), &[&k], ALL, refuse("ALGORITHM_NOT_ALLOWED")));
    let mut unsigned = detached_unencoded(&k, doc, json!({}));
    unsigned.truncate(unsigned.rfind('.').unwrap() + 1);
    out.push(case("empty signature", unsigned, Some(doc), &[&k], ALL, refuse("ALGORITHM_NOT_ALLOWED")));
    out.push(case(
        "ES512 header naming a P-256 key",
        detached_unencoded(&p521.with_kid("es256-rules"), doc, json!({})),
        Some(doc),
        &[&k],
        ALL,
        refuse("ALGORITHM_NOT_ALLOWED"),
    ));
    out.push(case(
        "ES256 signature under an ES512 header (signature length)",
        {
            let p = protected(&p521, json!({"b64": false, "crit": ["b64"]}));
            format!("{p}..{}", b64(k.sign_bytes(format!("{p}.document").as_bytes())))
        },
        Some(doc),
        &[&p521],
        ALL,
        refuse("SIGNATURE_INVALID"),
    ));
    out.push(case(
        "a payload and a detached payload at once",
        detached_unencoded_attached(&k, b"attached"),
        Some(doc),
        &[&k],
        ALL,
        refuse("TOKEN_MALFORMED"),
    ));
    out.push(case(
        "ES512 not in the allow-list",
        detached_unencoded(&p521, doc, json!({})),
        Some(doc),
        &[&p521],
        "ES256 ES384",
        refuse("ALGORITHM_NOT_ALLOWED"),
    ));
    out.push(case(
        "JWE (five segments)",
        format!("{}.a.b.c.d", b64(json!({"alg": "RSA-OAEP", "enc": "A256GCM"}).to_string())),
        None,
        &[&k],
        ALL,
        refuse("TOKEN_MALFORMED"),
    ));
    out
}

#[test]
#[ignore = "writes tests/vectors/jose_jws.json"]
fn write_vectors() {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let mut cases: Vec<Value> =
        v["cases"].as_array().unwrap().iter().filter(|c| c["source"].as_str().unwrap().starts_with("RFC")).cloned().collect();
    cases.extend(own_cases());
    v["cases"] = Value::Array(cases);
    let mut text = serde_json::to_string_pretty(&v).unwrap();
    text.push('\n');
    std::fs::write(VECTORS, text).unwrap();
}
