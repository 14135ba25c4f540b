use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use oidc_testkit::keys::{self, b64_decode, claims, verify_jws};
use oidc_testkit::{Alg, TestKey, b64, default_header, jwks};
use serde_json::{Value, json};

fn field(jwk: &Value, name: &str) -> Vec<u8> {
    b64_decode(jwk[name].as_str().unwrap_or_else(|| panic!("{name} in {jwk}"))).unwrap()
}

/// Independent of `keys::verify_jws`: picks the aws-lc-rs algorithm per alg
/// explicitly (modern RSA bounds).
fn verify_explicit(jwk: &Value, alg: Alg, msg: &[u8], sig: &[u8]) -> bool {
    match alg {
        Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
            let params = match alg {
                Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                Alg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                Alg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                _ => &signature::RSA_PSS_2048_8192_SHA512,
            };
            let (n, e) = (field(jwk, "n"), field(jwk, "e"));
            RsaPublicKeyComponents { n: &n, e: &e }.verify(params, msg, sig).is_ok()
        }
        Alg::ES256 | Alg::ES384 | Alg::ES512 => {
            let mut pt = vec![4u8];
            pt.extend(field(jwk, "x"));
            pt.extend(field(jwk, "y"));
            let a = match alg {
                Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                Alg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                _ => &signature::ECDSA_P521_SHA512_FIXED,
            };
            UnparsedPublicKey::new(a, &pt).verify(msg, sig).is_ok()
        }
        Alg::EdDSA => UnparsedPublicKey::new(&signature::ED25519, &field(jwk, "x")).verify(msg, sig).is_ok(),
    }
}

#[test]
fn every_alg_signs_verifiable_tokens() {
    for alg in Alg::ALL {
        let key = TestKey::generate(alg);
        assert_eq!(key.alg(), alg);
        assert!(key.kid().starts_with(&alg.name().to_ascii_lowercase()));
        let jwk = key.public_jwk();
        assert_eq!(jwk["kid"], json!(key.kid()));
        assert_eq!(jwk["alg"], json!(alg.name()));
        assert_eq!(jwk["use"], json!("sig"));
        assert_eq!(jwk["kty"], json!(alg.kty()));
        match alg.kty() {
            "RSA" => {
                assert_eq!(field(&jwk, "n").len(), 256);
                assert_eq!(field(&jwk, "e"), vec![1, 0, 1]);
                assert_eq!(key.rsa_bits(), Some(2048));
            }
            "EC" => {
                let (crv, len) = match alg {
                    Alg::ES256 => ("P-256", 32),
                    Alg::ES384 => ("P-384", 48),
                    _ => ("P-521", 66),
                };
                assert_eq!(jwk["crv"], json!(crv));
                assert_eq!(field(&jwk, "x").len(), len);
                assert_eq!(field(&jwk, "y").len(), len);
            }
            _ => {
                assert_eq!(jwk["crv"], json!("Ed25519"));
                assert_eq!(field(&jwk, "x").len(), 32);
            }
        }

        let header = default_header(&key);
        assert_eq!(header, json!({"alg": alg.name(), "kid": key.kid(), "typ": "at+jwt"}));
        let c = claims("https://issuer.example", "api", "alice", 300);
        let token = key.sign_token(&header, &c);
        assert!(!token.contains('='), "no padding");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let sig = b64_decode(parts[2]).unwrap();
        let expected_len = match alg {
            Alg::ES256 => 64,
            Alg::ES384 => 96,
            Alg::ES512 => 132,
            Alg::EdDSA => 64,
            _ => 256,
        };
        assert_eq!(sig.len(), expected_len, "{alg}");
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(verify_explicit(&jwk, alg, input.as_bytes(), &sig), "{alg} verifies");
        assert!(verify_jws(&jwk, &token), "{alg} verify_jws");
        let payload: Value = serde_json::from_slice(&b64_decode(parts[1]).unwrap()).unwrap();
        assert_eq!(payload, c);

        // Tampered payload fails.
        let mut c2 = c.clone();
        c2["sub"] = json!("mallory");
        let tampered = format!("{}.{}.{}", parts[0], keys::b64_json(&c2), parts[2]);
        assert!(!verify_jws(&jwk, &tampered), "{alg} tampered");
        // Another key of the same alg does not verify it.
        let other = TestKey::generate(alg);
        assert!(!verify_explicit(&other.public_jwk(), alg, input.as_bytes(), &sig));

        // sign_raw agrees with sign_token's signing input.
        let raw = key.sign_raw(&input);
        assert!(verify_explicit(&jwk, alg, input.as_bytes(), &raw));
        // And `sign` = sign_token(default_header).
        assert!(verify_jws(&jwk, &key.sign(&c)));
    }
}

#[test]
fn weak_rsa_1024_key_signs_valid_signatures() {
    let key = TestKey::weak_rsa1024();
    assert_eq!(key.alg(), Alg::RS256);
    assert_eq!(key.rsa_bits(), Some(1024));
    let jwk = key.public_jwk();
    let n = field(&jwk, "n");
    assert_eq!(n.len(), 128);
    let token = key.sign(&json!({"sub": "x"}));
    let parts: Vec<&str> = token.split('.').collect();
    let sig = b64_decode(parts[2]).unwrap();
    assert_eq!(sig.len(), 128);
    let input = format!("{}.{}", parts[0], parts[1]);
    let e = field(&jwk, "e");
    let comps = RsaPublicKeyComponents { n: &n, e: &e };
    assert!(comps.verify(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, input.as_bytes(), &sig).is_ok());
    // Modern bounds reject it (what liboidc should do too).
    assert!(comps.verify(&signature::RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &sig).is_err());
    assert!(!verify_jws(&jwk, &format!("{input}x.{}", parts[2])));
}

#[test]
fn kid_alg_overrides_and_jwks() {
    let rsa = TestKey::generate_with_kid(Alg::RS256, "k1");
    assert_eq!(rsa.kid(), "k1");
    let ps = rsa.with_alg(Alg::PS512).with_kid("k2");
    assert_eq!((ps.alg(), ps.kid()), (Alg::PS512, "k2"));
    // Same key material.
    assert_eq!(rsa.public_jwk()["n"], ps.public_jwk()["n"]);
    assert!(verify_jws(&ps.public_jwk(), &ps.sign(&json!({}))));

    let ed = TestKey::generate(Alg::EdDSA);
    let set: Value = serde_json::from_str(&jwks(&[&rsa, &ed])).unwrap();
    let ks = set["keys"].as_array().unwrap();
    assert_eq!(ks.len(), 2);
    assert_eq!(ks[0]["kid"], json!("k1"));
    assert_eq!(ks[1]["kty"], json!("OKP"));

    assert_eq!(b64([0xfbu8, 0xff]), "-_8");
    assert_eq!(Alg::parse("EdDSA"), Some(Alg::EdDSA));
    assert_eq!("PS384".parse::<Alg>().unwrap(), Alg::PS384);
    assert!(Alg::parse("none").is_none());
}

#[test]
#[should_panic(expected = "cannot use")]
fn with_alg_across_families_panics() {
    let _ = TestKey::generate(Alg::ES256).with_alg(Alg::RS256);
}
