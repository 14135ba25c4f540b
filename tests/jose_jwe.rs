//! The shared JWE vectors (tests/vectors/jose_jwe.json), decided through the core API: the RFC
//! 7520 §5 compact examples decrypt to the RFC's plaintext, and every altered or refused case
//! fails with its code (crypto failures with the one fixed message).

use oidc::core::jose::jwe::{
    ContentEnc, DECRYPTION_FAILED, DecryptionKey, DecryptionKeys, JweAlgs, KeyAlg, decrypt, encrypt, looks_like_jwe,
};
use oidc::core::json::b64url_encode;
use oidc::ffi::codes::code_for;
use serde_json::{Map, Value};

fn vectors() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/jose_jwe.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn setup(case: &Value) -> (DecryptionKeys, JweAlgs, usize) {
    let mut keys = DecryptionKeys::new();
    keys.push(DecryptionKey::from_text(&case["key"].to_string(), None).unwrap()).unwrap();
    let algs = match case["algorithms"].as_str() {
        Some(a) => JweAlgs::parse(a).unwrap(),
        None => JweAlgs::default(),
    };
    let max = case["max_plaintext"].as_u64().map_or(65536, |m| m as usize);
    (keys, algs, max)
}

#[test]
fn core_decides_every_jwe_vector() {
    let v = vectors();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    let mut decrypted = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let jwe = case["jwe"].as_str().unwrap();
        let (keys, algs, max) = setup(case);
        let got = decrypt(jwe, &keys, &algs, max);
        let expect = &case["expect"];
        if let Some(pt) = expect["plaintext_b64url"].as_str() {
            let d = got.unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(b64url_encode(&d.plaintext), pt, "{name}");
            let h: Value = serde_json::from_str(&d.header_json).unwrap();
            assert_eq!(h["alg"].as_str(), Some(d.alg.name()), "{name}");
            assert_eq!(h["enc"].as_str(), Some(d.enc.name()), "{name}");
            assert_eq!(d.kid.as_deref(), h["kid"].as_str(), "{name}");
            decrypted += 1;
        } else {
            let e = match got {
                Ok(_) => panic!("{name}: decrypted, expected {expect}"),
                Err(e) => e,
            };
            let code = code_for(e.kind()).name().to_str().unwrap();
            assert_eq!(code, expect["code"].as_str().unwrap(), "{name}: {e:?}");
            if let Some(m) = expect["message"].as_str() {
                assert_eq!(e.message(), m, "{name}");
            }
            // Every refusal names no key material or plaintext.
            assert!(!e.message().contains("Frodo"), "{name}");
        }
    }
    assert_eq!(decrypted, 6, "the six RFC 7520 compact examples");
}

/// The fixed message of the vector file is the core's.
#[test]
fn vector_message_is_the_core_message() {
    let v = vectors();
    let n = v["cases"].as_array().unwrap().iter().filter(|c| c["expect"]["message"].as_str() == Some(DECRYPTION_FAILED)).count();
    assert!(n >= 20, "{n}");
}

/// Re-encrypt the RFC plaintext to every RFC key with every alg and enc the key fits, and
/// decrypt it again (the RFC keys through the public API: JWK in, encryption key out).
#[test]
fn rfc_keys_round_trip() {
    let v = vectors();
    let all = JweAlgs::parse(&KeyAlg::ALL.map(KeyAlg::name).join(" ")).unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut n = 0;
    for case in v["cases"].as_array().unwrap() {
        let Some(pt) = case["expect"]["plaintext_b64url"].as_str() else { continue };
        if !seen.insert(case["key"].to_string()) {
            continue;
        }
        let (keys, _, _) = setup(case);
        let ek = keys.keys()[0].encryption_key().unwrap();
        let plaintext = oidc::core::json::b64url_decode(pt.as_bytes()).unwrap();
        for alg in KeyAlg::ALL {
            for enc in ContentEnc::ALL {
                let Ok(t) = encrypt(&plaintext, &ek, alg, enc, &Map::new()) else { continue };
                assert!(looks_like_jwe(&t));
                let d = decrypt(&t, &keys, &all, 65536).unwrap_or_else(|e| panic!("{} {} {}: {e:?}", case["name"], alg.name(), enc.name()));
                assert_eq!(d.plaintext, plaintext);
                n += 1;
            }
        }
    }
    // 5.1 RSA: 3 algs x 6 encs; 5.2 RSA with "alg": "RSA-OAEP": 6; EC (5.4, 5.5): 4 x 6 each;
    // 5.6 "alg": "A128GCM" (dir with A128GCM only): 1; 5.8 "alg": "A128KW": 6.
    assert_eq!(n, 18 + 6 + 48 + 1 + 6);
}
