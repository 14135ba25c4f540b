//! SigningKey: the committed openssl test keys (tests/idp/client-keys) in every PEM flavour and as
//! JWKs give the same public key; signatures verify; bad keys and algorithms are refused with
//! messages that show no key material.

mod common;

use common::real_idp::client_key;
use oidc::core::ErrorKind;
use oidc::core::oauth::SigningKey;
use serde_json::{Map, Value, json};

fn jwk(name: &str) -> Value {
    serde_json::from_str(&client_key(name)).unwrap()
}

#[test]
fn pem_and_jwk_agree_and_signatures_verify() {
    for (pems, jwk_file, alg, members) in [
        (&["rsa.pem", "rsa-pkcs1.pem"][..], "rsa.jwk.json", "RS256", &["n", "e"][..]),
        (&["ec.pem", "ec-sec1.pem"][..], "ec.jwk.json", "ES256", &["x", "y"][..]),
        (&["ed25519.pem"][..], "ed25519.jwk.json", "EdDSA", &["x"][..]),
    ] {
        let from_jwk = SigningKey::from_jwk(&client_key(jwk_file), None, None).unwrap();
        let node = jwk(jwk_file);
        assert_eq!(from_jwk.kid(), node["kid"].as_str(), "kid defaults to the JWK's");
        for pem in pems {
            let k = SigningKey::from_pem(&client_key(pem), None, Some("kid-1")).unwrap();
            assert_eq!(k.alg().name(), alg, "{pem}");
            assert_eq!(k.thumbprint(), from_jwk.thumbprint(), "{pem}");
            let pubj = k.public_jwk();
            for m in members {
                assert_eq!(pubj[m], node[m], "{pem}: {m}");
            }
            assert!(pubj.get("d").is_none());
            assert_eq!(pubj["kid"], "kid-1");
            let t = k.sign(&Map::new(), &json!({"sub": "x"})).unwrap();
            assert!(oidc_testkit::keys::verify_jws(&pubj, &t), "{pem}");
            let dbg = format!("{k:?}");
            assert!(!dbg.contains(node["d"].as_str().unwrap()) && dbg.contains(alg), "{dbg}");
        }
        let t = from_jwk.sign(&Map::new(), &json!({})).unwrap();
        assert!(oidc_testkit::keys::verify_jws(&from_jwk.public_jwk(), &t));
    }
    // RSA-PSS and other hashes with the RSA key.
    for alg in ["PS256", "PS384", "PS512", "RS384", "RS512"] {
        let k = SigningKey::from_pem(&client_key("rsa.pem"), Some(alg), None).unwrap();
        let t = k.sign(&Map::new(), &json!({})).unwrap();
        assert!(oidc_testkit::keys::verify_jws(&k.public_jwk(), &t), "{alg}");
    }
}

#[test]
fn bad_keys_and_algorithms() {
    let k = |r: Result<SigningKey, oidc::core::Error>| r.unwrap_err();
    assert_eq!(k(SigningKey::from_pem(&client_key("ec.pem"), Some("RS256"), None)).kind(), ErrorKind::UnsupportedAlgorithm);
    assert_eq!(k(SigningKey::from_pem(&client_key("rsa.pem"), Some("HS256"), None)).kind(), ErrorKind::UnsupportedAlgorithm);
    assert_eq!(k(SigningKey::from_pem(&client_key("rsa.pem"), Some("none"), None)).kind(), ErrorKind::UnsupportedAlgorithm);
    assert_eq!(
        k(SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", None, None)).kind(),
        ErrorKind::InvalidConfig
    );
    assert_eq!(k(SigningKey::from_pem("", None, None)).kind(), ErrorKind::InvalidConfig);
    // A public key or certificate is not a private key.
    assert_eq!(k(SigningKey::from_pem(common::TestCa::new().ca_pem(), None, None)).kind(), ErrorKind::InvalidConfig);
    // JWKs: missing private part, inconsistent members, unsupported types.
    let mut pub_only = jwk("ec.jwk.json");
    pub_only.as_object_mut().unwrap().remove("d");
    let e = k(SigningKey::from_jwk(&pub_only.to_string(), None, None));
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.message().contains("'d'"), "{}", e.message());
    let mut mixed = jwk("ec.jwk.json");
    mixed["d"] = jwk("ec.jwk.json")["x"].clone();
    let e = k(SigningKey::from_jwk(&mixed.to_string(), None, None));
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    let mut rsa = jwk("rsa.jwk.json");
    let d = rsa["d"].as_str().unwrap().to_string();
    rsa["qi"] = rsa["dp"].clone();
    let e = k(SigningKey::from_jwk(&rsa.to_string(), None, None));
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(!e.message().contains(&d[..16]));
    for bad in [r#"{"kty":"oct","k":"c2VjcmV0"}"#, r#"{"kty":"EC","crv":"P-521"}"#, r#"{"kty":"OKP","crv":"X25519"}"#, "[]", "{"] {
        assert_eq!(k(SigningKey::from_jwk(bad, None, None)).kind(), ErrorKind::InvalidConfig, "{bad}");
    }
    // from_pem_or_jwk dispatches on the text.
    assert_eq!(SigningKey::from_pem_or_jwk(&client_key("ed25519.jwk.json"), None, None).unwrap().alg().name(), "EdDSA");
    assert_eq!(SigningKey::from_pem_or_jwk(&client_key("ed25519.pem"), None, None).unwrap().alg().name(), "EdDSA");
}
