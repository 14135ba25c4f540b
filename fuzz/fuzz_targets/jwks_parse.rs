//! JWKS parsing (`KeySet::parse`, the parser of fetched, static and imported key sets), then
//! the key lookup and a signature check with every parsed key, so key material that parses
//! but breaks the verifier is found too. Keys that parse must be of the key type and size the
//! parser promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc::core::Algorithm;
use oidc::core::jwks::{KeyFamily, KeySet, Lookup, MAX_RSA_BITS, MIN_RSA_BITS};

fuzz_target!(|data: &[u8]| {
    let Ok(set) = KeySet::parse(data) else { return };
    assert!(set.keys.len() + set.rejected.len() <= oidc::core::config::MAX_KEYS_PER_SET);
    for k in &set.keys {
        match k.family {
            KeyFamily::Rsa => assert!((MIN_RSA_BITS / 8..=MAX_RSA_BITS / 8).contains(&k.sig_len), "RSA size {}", k.sig_len),
            KeyFamily::P256 | KeyFamily::Ed25519 => assert_eq!(k.sig_len, 64),
            KeyFamily::P384 => assert_eq!(k.sig_len, 96),
            KeyFamily::P521 => assert_eq!(k.sig_len, 132),
        }
        for alg in Algorithm::ALL {
            if k.accepts(alg) {
                // A garbage signature of the right length must fail, never panic.
                let sig = vec![0x5a; k.sig_len];
                assert!(k.verify(alg, b"header.payload", &sig).is_err(), "a garbage signature verified");
            }
            let _ = set.find(k.kid.as_deref(), alg);
        }
    }
    for r in &set.rejected {
        if let Some(kid) = &r.kid {
            let _ = set.find(Some(kid), Algorithm::RS256);
        }
    }
    if let Lookup::Found(k) = set.find(None, Algorithm::ES256) {
        assert!(k.accepts(Algorithm::ES256));
    }
});
