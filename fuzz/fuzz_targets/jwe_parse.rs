//! Compact JWE decryption (`jose::jwe::decrypt`) with a fixed key set: the RFC 7520 §5 keys of
//! tests/vectors/jose_jwe.json (RSA, EC P-256 and P-384, two symmetric keys) and every `alg` and
//! `enc` allowed. Input: the token (UTF-8). Besides "no panic": a decrypted token's plaintext
//! is within the bound and its header names the `alg`/`enc`/`kid` reported; every
//! cryptographic failure carries the one fixed message; the answer is the same on a second call.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oidc::core::ErrorKind;
use oidc::core::jose::jwe::{DECRYPTION_FAILED, DecryptionKey, DecryptionKeys, JweAlgs, KeyAlg, decrypt};

const VECTORS: &str = include_str!("../../tests/vectors/jose_jwe.json");
const MAX_PLAINTEXT: usize = 4096;

fn setup() -> &'static (DecryptionKeys, JweAlgs) {
    static S: OnceLock<(DecryptionKeys, JweAlgs)> = OnceLock::new();
    S.get_or_init(|| {
        let v: serde_json::Value = serde_json::from_str(VECTORS).expect("jose_jwe.json");
        let mut keys = DecryptionKeys::new();
        let mut seen = Vec::new();
        for case in v["cases"].as_array().expect("cases") {
            let k = case["key"].to_string();
            if case["expect"]["plaintext_b64url"].is_string() && !seen.contains(&k) {
                keys.push(DecryptionKey::from_text(&k, None).expect("vector key")).expect("bounded");
                seen.push(k);
            }
        }
        let algs = JweAlgs::parse(&KeyAlg::ALL.map(KeyAlg::name).join(" ")).expect("every alg");
        (keys, algs)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let (keys, algs) = setup();
    let first = decrypt(token, keys, algs, MAX_PLAINTEXT);
    match &first {
        Ok(d) => {
            assert!(d.plaintext.len() <= MAX_PLAINTEXT);
            let h: serde_json::Value = serde_json::from_str(&d.header_json).expect("a decrypted token's header is JSON");
            assert_eq!(h["alg"].as_str(), Some(d.alg.name()));
            assert_eq!(h["enc"].as_str(), Some(d.enc.name()));
            assert_eq!(h["kid"].as_str(), d.kid.as_deref());
            assert!(h.get("zip").is_none() && h.get("crit").is_none() && h.get("jwk").is_none());
        }
        Err(e) => {
            if e.kind() == ErrorKind::DecryptionFailed && !e.message().starts_with("no configured decryption key") {
                assert_eq!(e.message(), DECRYPTION_FAILED);
            }
        }
    }
    let second = decrypt(token, keys, algs, MAX_PLAINTEXT);
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(a.plaintext, b.plaintext),
        (Err(a), Err(b)) => assert_eq!((a.kind(), a.message()), (b.kind(), b.message())),
        _ => panic!("two answers for one token"),
    }
});
