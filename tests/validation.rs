//! The validation policy, end to end over a loopback HTTPS issuer (real TLS, real HTTP).

mod common;

use common::*;
use oidc::core::{Client, Config, ErrorKind, KeySource};
use serde_json::{Value, json};

fn sign_with(key: &TestKey, header: Value, claims: &Value) -> String {
    key.sign_token(&header, claims)
}

#[test]
fn every_algorithm_validates_and_returns_the_signed_claims() {
    let algs = [Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA];
    let keys: Vec<TestKey> = algs.iter().map(|a| TestKey::generate(*a)).collect();
    let refs: Vec<&TestKey> = keys.iter().collect();
    let idp = idp(&refs);
    let client = idp.client_with(|c| c.expected_typ = Some("at+jwt".into()));
    for k in &keys {
        let claims = idp.claims();
        let token = k.sign(&claims);
        let v = client.validate(&token).unwrap_or_else(|e| panic!("{:?}: {e:?}", k.alg()));
        let back: Value = serde_json::from_str(&v.claims).unwrap();
        assert_eq!(back, claims, "{:?}", k.alg());
        assert_eq!(v.alg.name(), k.alg().name());
    }
    assert_eq!(idp.srv.hits("/jwks"), 1, "one JWKS fetch serves every key");
    assert_eq!(idp.srv.hits(DISCOVERY), 1);
}

#[test]
fn es512_p521() {
    let es512 = TestKey::generate(Alg::ES512);
    let p256 = TestKey::generate(Alg::ES256);
    let p384 = TestKey::generate(Alg::ES384);
    let idp = idp(&[&es512, &p256, &p384]);
    let client = idp.client();
    let claims = idp.claims();
    // Accepted by default, the claims as signed, the 132-byte R || S.
    let token = es512.sign(&claims);
    let v = client.validate(&token).expect("ES512");
    assert_eq!(v.alg.name(), "ES512");
    assert_eq!(serde_json::from_str::<Value>(&v.claims).unwrap(), claims);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(keys::b64_decode(parts[2]).unwrap().len(), 132);
    // An ES512 header naming a P-256 or P-384 key: the key does not accept ES512.
    for other in [&p256, &p384] {
        let t = sign_with(&es512, json!({"alg": "ES512", "kid": other.kid()}), &claims);
        assert_eq!(kind_of(client.validate(&t)), ErrorKind::AlgorithmNotAllowed, "{:?}", other.alg());
    }
    // A P-256 signature under an ES512 header, named to the P-521 key: wrong length.
    let t = sign_with(&p256, json!({"alg": "ES512", "kid": es512.kid()}), &claims);
    let e = client.validate(&t).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SignatureInvalid);
    assert!(e.message().contains("132"), "{}", e.message());
    // An ES256 header naming the P-521 key.
    let t = sign_with(&es512, json!({"alg": "ES256", "kid": es512.kid()}), &claims);
    assert_eq!(kind_of(client.validate(&t)), ErrorKind::AlgorithmNotAllowed);
    // Signature lengths: one byte short, one byte long, DER-encoded, a flipped bit.
    let sig = keys::b64_decode(parts[2]).unwrap();
    let with_sig = |s: &[u8]| format!("{}.{}.{}", parts[0], parts[1], b64(s));
    for bad in [&sig[..131], &[sig.as_slice(), &[0]].concat()[..], &sig[..128]] {
        assert_eq!(kind_of(client.validate(&with_sig(bad))), ErrorKind::SignatureInvalid, "{} bytes", bad.len());
    }
    let mut flipped = sig.clone();
    flipped[70] ^= 1;
    assert_eq!(kind_of(client.validate(&with_sig(&flipped))), ErrorKind::SignatureInvalid);
    // Tampered payload.
    let mut c2 = claims.clone();
    c2["sub"] = json!("mallory");
    assert_eq!(kind_of(client.validate(&format!("{}.{}.{}", parts[0], b64_json(&c2), parts[2]))), ErrorKind::SignatureInvalid);
    // Not in an allow-list that names only ES256/ES384.
    let narrow = idp.client_with(|c| c.set_algorithms(["ES256", "ES384"]).unwrap());
    assert_eq!(kind_of(narrow.validate(&token)), ErrorKind::AlgorithmNotAllowed);
    let only = idp.client_with(|c| c.set_algorithms(["ES512"]).unwrap());
    only.validate(&token).expect("ES512 alone");
    assert_eq!(kind_of(only.validate(&p256.sign(&claims))), ErrorKind::AlgorithmNotAllowed);
}

#[test]
fn es512_keys_of_the_wrong_curve_or_length_are_unusable() {
    let es512 = TestKey::generate(Alg::ES512);
    let p384 = TestKey::generate(Alg::ES384);
    let claims = json!({"iss": "https://static.example", "aud": "api", "sub": "u", "exp": keys::now() + 300});
    // A P-384 key published as P-521 (48-byte coordinates) and a P-521 key with unpadded coordinates.
    let mut wrong_curve = p384.public_jwk();
    wrong_curve["crv"] = json!("P-521");
    wrong_curve["alg"] = json!("ES512");
    wrong_curve["kid"] = json!("wrong-curve");
    let mut unpadded = es512.public_jwk();
    let x = keys::b64_decode(unpadded["x"].as_str().unwrap()).unwrap();
    unpadded["x"] = json!(b64(&x[1..]));
    unpadded["kid"] = json!("unpadded");
    // A P-521 key published as P-384.
    let mut as_p384 = es512.public_jwk();
    as_p384["crv"] = json!("P-384");
    as_p384["alg"] = json!("ES384");
    as_p384["kid"] = json!("as-p384");
    let jwks = json!({"keys": [wrong_curve, unpadded, as_p384]}).to_string();
    let mut cfg = Config::new("https://static.example");
    cfg.audiences = vec!["api".into()];
    cfg.key_source = KeySource::Static(jwks);
    let client = Client::new(cfg).unwrap();
    for kid in ["wrong-curve", "unpadded"] {
        let t = sign_with(&es512, json!({"alg": "ES512", "kid": kid}), &claims);
        let e = client.validate(&t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KeyRejected, "{kid}");
        assert!(e.message().contains("66 bytes"), "{kid}: {}", e.message());
    }
    let t = sign_with(&es512, json!({"alg": "ES384", "kid": "as-p384"}), &claims);
    assert_eq!(kind_of(client.validate(&t)), ErrorKind::KeyRejected);
}

#[test]
fn ed25519_is_accepted_as_a_name_for_eddsa() {
    let k = TestKey::generate(Alg::EdDSA);
    let idp = idp(&[&k]);
    let mut cfg = idp.config();
    cfg.set_algorithms(["Ed25519"]).unwrap();
    let client = Client::new(cfg).unwrap();
    let token = sign_with(&k, json!({"alg": "Ed25519", "kid": k.kid()}), &idp.claims());
    client.validate(&token).expect("Ed25519 header alg");
    let token = k.sign(&idp.claims());
    client.validate(&token).expect("EdDSA header alg");
}

#[test]
fn algorithm_rules() {
    let rsa = TestKey::generate(Alg::RS256);
    let ec = TestKey::generate(Alg::ES256);
    let idp = idp(&[&rsa, &ec]);
    let only_rs = idp.client_with(|c| c.set_algorithms(["RS256"]).unwrap());
    let claims = idp.claims();
    // Not in the allow-list.
    assert_eq!(kind_of(only_rs.validate(&ec.sign(&claims))), ErrorKind::AlgorithmNotAllowed);
    let client = idp.client();
    // alg "none", with and without a signature.
    let h = b64_json(&json!({"alg": "none", "kid": rsa.kid()}));
    let p = b64_json(&claims);
    assert_eq!(kind_of(client.validate(&format!("{h}.{p}."))), ErrorKind::AlgorithmNotAllowed);
    assert_eq!(kind_of(client.validate(&format!("{h}.{p}.AAAA"))), ErrorKind::AlgorithmNotAllowed);
    let h = b64_json(&json!({"alg": "NONE"}));
    assert_eq!(kind_of(client.validate(&format!("{h}.{p}.AAAA"))), ErrorKind::AlgorithmNotAllowed);
    // HS256 "signed" with the RSA public key's bytes (the classic key-confusion attack).
    let h = b64_json(&json!({"alg": "HS256", "kid": rsa.kid()}));
    let input = format!("{h}.{p}");
    let n = keys::b64_decode(rsa.public_jwk()["n"].as_str().unwrap()).unwrap();
    let mac = aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &n), input.as_bytes());
    let forged = format!("{input}.{}", b64(mac.as_ref()));
    assert_eq!(kind_of(client.validate(&forged)), ErrorKind::AlgorithmNotAllowed);
    // Header alg that does not fit the key named by kid: RS256 header on the EC key.
    let t = sign_with(&ec, json!({"alg": "RS256", "kid": ec.kid()}), &claims);
    assert_eq!(kind_of(client.validate(&t)), ErrorKind::AlgorithmNotAllowed);
    // A key that declares alg RS256 is not used for PS256 (same RSA material).
    let ps = rsa.with_alg(Alg::PS256);
    let t = ps.sign_token(&json!({"alg": "PS256", "kid": rsa.kid()}), &claims);
    assert_eq!(kind_of(client.validate(&t)), ErrorKind::AlgorithmNotAllowed);
    // Unknown algorithm names.
    let h = b64_json(&json!({"alg": "RS1024", "kid": rsa.kid()}));
    assert_eq!(kind_of(client.validate(&format!("{h}.{p}.AAAA"))), ErrorKind::AlgorithmNotAllowed);
}

#[test]
fn keys_embedded_in_headers_are_never_used() {
    let trusted = TestKey::generate(Alg::RS256);
    let attacker = TestKey::generate(Alg::RS256);
    let idp = idp(&[&trusted]);
    let client = idp.client();
    let claims = idp.claims();
    for extra in [
        json!({"jwk": attacker.public_jwk()}),
        json!({"jku": format!("{}/jwks", idp.issuer)}),
        json!({"x5u": "https://attacker.example/cert.pem"}),
        json!({"x5c": ["MIIB"]}),
    ] {
        let mut h = json!({"alg": "RS256", "kid": attacker.kid(), "typ": "at+jwt"});
        h.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        assert_eq!(kind_of(client.validate(&attacker.sign_token(&h, &claims))), ErrorKind::UnknownKey);
        // Even claiming the trusted kid, the attacker's signature does not verify.
        h["kid"] = json!(trusted.kid());
        assert_eq!(kind_of(client.validate(&attacker.sign_token(&h, &claims))), ErrorKind::SignatureInvalid);
    }
}

#[test]
fn header_rules_crit_typ_and_shape() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = idp.client_with(|c| c.expected_typ = Some("at+jwt".into()));
    let claims = idp.claims();
    let hdr = |extra: Value| {
        let mut h = json!({"alg": "ES256", "kid": k.kid()});
        h.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        h
    };
    let case = |extra: Value| kind_of(client.validate(&sign_with(&k, hdr(extra), &claims)));
    assert_eq!(case(json!({"typ": "at+jwt", "crit": ["exp"], "exp": 1})), ErrorKind::CritUnsupported);
    assert_eq!(case(json!({"typ": "at+jwt", "crit": []})), ErrorKind::TokenMalformed);
    assert_eq!(case(json!({"typ": "at+jwt", "crit": "b64"})), ErrorKind::TokenMalformed);
    assert_eq!(case(json!({"typ": "at+jwt", "b64": false})), ErrorKind::CritUnsupported);
    assert_eq!(case(json!({"typ": "JWT"})), ErrorKind::TypeMismatch);
    assert_eq!(case(json!({})), ErrorKind::TypeMismatch);
    assert_eq!(case(json!({"typ": 5})), ErrorKind::TokenMalformed);
    assert_eq!(case(json!({"typ": "at+jwt", "kid": 7})), ErrorKind::TokenMalformed);
    assert_eq!(case(json!({"typ": "at+jwt", "enc": "A128GCM"})), ErrorKind::TokenMalformed);
    client.validate(&sign_with(&k, hdr(json!({"typ": "application/AT+JWT"})), &claims)).expect("media type form");
    // No alg at all / alg not a string.
    let t = sign_with(&k, json!({"kid": k.kid(), "typ": "at+jwt"}), &claims);
    assert_eq!(kind_of(client.validate(&t)), ErrorKind::TokenMalformed);
    let t = sign_with(&k, json!({"alg": 1, "kid": k.kid(), "typ": "at+jwt"}), &claims);
    assert_eq!(kind_of(client.validate(&t)), ErrorKind::TokenMalformed);
}

#[test]
fn compact_structure_is_strict() {
    let k = TestKey::generate(Alg::EdDSA);
    let idp = idp(&[&k]);
    let client = idp.client();
    let good = k.sign(&idp.claims());
    client.validate(&good).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let malformed = [
        String::new(),
        "abc".into(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}=.{s}"),
        format!("{h}.{p}.{s}="),
        format!("{h}.{p}.{}", s.replace(|c: char| c.is_ascii_alphanumeric(), "+")),
        format!("{} .{p}.{s}", h),
        format!("{}.{p}.{s}", b64("not json")),
        format!("{}.{p}.{s}", b64("[1,2]")),
        format!("{}.{p}.{s}", b64(r#"{"alg":"EdDSA","alg":"EdDSA"}"#)),
        format!("{}.{p}.{s}", b64([0xff, 0xfe, 0x7b])),
    ];
    for t in &malformed {
        let e = client.validate(t).expect_err(t);
        assert_eq!(e.kind(), ErrorKind::TokenMalformed, "{t:?}: {e:?}");
        assert!(!e.message().is_empty());
    }
    // Signed payloads that are not claim objects.
    for payload in ["not json", "[1]", r#"{"exp":1,"exp":2}"#, "{\"iss\":\"x\"} trailing"] {
        let h = b64_json(&default_header(&k));
        let input = format!("{h}.{}", b64(payload));
        let t = format!("{input}.{}", b64(k.sign_raw(&input)));
        assert_eq!(kind_of(client.validate(&t)), ErrorKind::TokenMalformed, "{payload}");
    }
    // Size bound.
    let small = idp.client_with(|c| c.max_token_bytes = 64);
    assert_eq!(kind_of(small.validate(&good)), ErrorKind::TokenTooLarge);
    let huge = "a".repeat(2 * 1024 * 1024);
    assert_eq!(kind_of(client.validate(&huge)), ErrorKind::TokenTooLarge);
}

#[test]
fn signatures_and_degenerate_signatures() {
    let rsa = TestKey::generate(Alg::RS256);
    let ec = TestKey::generate(Alg::ES256);
    let ed = TestKey::generate(Alg::EdDSA);
    let idp = idp(&[&rsa, &ec, &ed]);
    let client = idp.client();
    let claims = idp.claims();
    for k in [&rsa, &ec, &ed] {
        let t = k.sign(&claims);
        let parts: Vec<&str> = t.split('.').collect();
        // Tampered payload.
        let mut c2 = claims.clone();
        c2["sub"] = json!("mallory");
        let t2 = format!("{}.{}.{}", parts[0], b64_json(&c2), parts[2]);
        let e = client.validate(&t2).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::SignatureInvalid, "{:?}", k.alg());
        assert_no_echo(&t2, &e);
        // Wrong-length and empty-ish signatures never reach the crypto layer.
        let sig = keys::b64_decode(parts[2]).unwrap();
        for bad in [&sig[..sig.len() - 1], &[0u8; 1][..], &[sig.clone(), vec![0]].concat()[..]] {
            let t3 = format!("{}.{}.{}", parts[0], parts[1], b64(bad));
            assert_eq!(kind_of(client.validate(&t3)), ErrorKind::SignatureInvalid, "{:?}", k.alg());
        }
        // All-zero signature of the right length.
        let t4 = format!("{}.{}.{}", parts[0], parts[1], b64(vec![0u8; sig.len()]));
        assert_eq!(kind_of(client.validate(&t4)), ErrorKind::SignatureInvalid);
    }
    // A signature made by another key of the same kind under the trusted kid.
    let other = TestKey::generate(Alg::ES256).with_kid(ec.kid());
    assert_eq!(kind_of(client.validate(&other.sign(&claims))), ErrorKind::SignatureInvalid);
}

#[test]
fn claim_rules() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = idp.client_with(|c| {
        c.audiences = vec!["api".into(), "https://rs.example".into()];
        c.required_claims = vec!["sub".into(), "scope".into()];
    });
    let now = 1_800_000_000i64;
    let base = json!({"iss": idp.issuer, "aud": "api", "sub": "alice", "scope": "read", "exp": now + 300, "iat": now, "nbf": now});
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = base.clone();
        f(&mut c);
        k.sign(&c)
    };
    let at = |t: &str, when: i64| client.validate_at(t, when as f64);
    at(&with(&|_| {}), now).expect("valid");
    // exp with the 60 s leeway: valid until exp + 60.
    at(&with(&|_| {}), now + 359).expect("inside leeway");
    assert_eq!(kind_of(at(&with(&|_| {}), now + 360)), ErrorKind::TokenExpired);
    assert_eq!(kind_of(at(&with(&|_| {}), now + 100_000)), ErrorKind::TokenExpired);
    // nbf and iat in the future.
    assert_eq!(kind_of(at(&with(&|c| c["nbf"] = json!(now + 61)), now)), ErrorKind::TokenNotYetValid);
    at(&with(&|c| c["nbf"] = json!(now + 60)), now).expect("nbf inside leeway");
    assert_eq!(kind_of(at(&with(&|c| c["iat"] = json!(now + 61)), now)), ErrorKind::TokenIssuedInFuture);
    // NumericDate must be a number.
    for name in ["exp", "nbf", "iat"] {
        assert_eq!(kind_of(at(&with(&|c| c[name] = json!("1800000000")), now)), ErrorKind::InvalidClaim, "{name}");
        assert_eq!(kind_of(at(&with(&|c| c[name] = json!(true)), now)), ErrorKind::InvalidClaim, "{name}");
    }
    at(&with(&|c| c["exp"] = json!(now as f64 + 300.5)), now).expect("fractional NumericDate");
    assert_eq!(
        kind_of(at(
            &with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            now
        )),
        ErrorKind::MissingClaim
    );
    // iss exact.
    assert_eq!(kind_of(at(&with(&|c| c["iss"] = json!(format!("{}/", idp.issuer))), now)), ErrorKind::IssuerMismatch);
    assert_eq!(kind_of(at(&with(&|c| c["iss"] = json!(idp.issuer.to_uppercase())), now)), ErrorKind::IssuerMismatch);
    assert_eq!(
        kind_of(at(
            &with(&|c| {
                c.as_object_mut().unwrap().remove("iss");
            }),
            now
        )),
        ErrorKind::MissingClaim
    );
    // aud: string or array, any match.
    at(&with(&|c| c["aud"] = json!("https://rs.example")), now).expect("second audience");
    at(&with(&|c| c["aud"] = json!(["x", "api"])), now).expect("array aud");
    assert_eq!(kind_of(at(&with(&|c| c["aud"] = json!("other")), now)), ErrorKind::AudienceMismatch);
    assert_eq!(kind_of(at(&with(&|c| c["aud"] = json!(["x", "y"])), now)), ErrorKind::AudienceMismatch);
    assert_eq!(kind_of(at(&with(&|c| c["aud"] = json!(["api", 3])), now)), ErrorKind::InvalidClaim);
    assert_eq!(
        kind_of(at(
            &with(&|c| {
                c.as_object_mut().unwrap().remove("aud");
            }),
            now
        )),
        ErrorKind::MissingClaim
    );
    // Required claims present and not null.
    assert_eq!(
        kind_of(at(
            &with(&|c| {
                c.as_object_mut().unwrap().remove("scope");
            }),
            now
        )),
        ErrorKind::MissingClaim
    );
    assert_eq!(kind_of(at(&with(&|c| c["sub"] = Value::Null), now)), ErrorKind::MissingClaim);
    // A forged token never gets a claim-based answer: the signature is checked first.
    let expired = with(&|c| c["exp"] = json!(now - 1000));
    let parts: Vec<&str> = expired.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], parts[1], b64(vec![1u8; 64]));
    assert_eq!(kind_of(at(&forged, now)), ErrorKind::SignatureInvalid);
}

#[test]
fn audience_is_required_unless_explicitly_any() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let mut cfg = idp.config();
    cfg.audiences.clear();
    assert_eq!(Client::new(cfg.clone()).unwrap_err().kind(), ErrorKind::InvalidConfig);
    cfg.allow_any_audience = true;
    let any = Client::new(cfg).unwrap();
    let mut c = idp.claims();
    c["aud"] = json!("whatever");
    any.validate(&k.sign(&c)).expect("any audience");
}

#[test]
fn degenerate_and_unusable_keys_are_rejected() {
    let weak = TestKey::weak_rsa1024();
    let good = TestKey::generate(Alg::RS256);
    let mut e1 = good.public_jwk();
    e1["kid"] = json!("exp-one");
    e1["e"] = json!("AQ");
    let ec = TestKey::generate(Alg::ES256);
    let mut off_curve = ec.public_jwk();
    off_curve["kid"] = json!("off-curve");
    off_curve["y"] = json!(b64([7u8; 32]));
    let mut enc = TestKey::generate(Alg::ES256).public_jwk();
    enc["kid"] = json!("enc-key");
    enc["use"] = json!("enc");
    let mut ops = TestKey::generate(Alg::ES256).public_jwk();
    ops["kid"] = json!("wrap-only");
    ops["key_ops"] = json!(["wrapKey"]);
    let idp = idp(&[&good]);
    let doc = json!({"keys": [weak.public_jwk(), e1, off_curve, enc, ops, good.public_jwk()]});
    idp.srv.set_route("/jwks", Route::json(&doc));
    let client = idp.client();
    let claims = idp.claims();
    assert_eq!(kind_of(client.validate(&weak.sign(&claims))), ErrorKind::KeyRejected);
    let t = good.sign_token(&json!({"alg": "RS256", "kid": "exp-one"}), &claims);
    assert_eq!(kind_of(client.validate(&t)), ErrorKind::KeyRejected);
    let t = ec.sign_token(&json!({"alg": "ES256", "kid": "off-curve"}), &claims);
    assert_eq!(kind_of(client.validate(&t)), ErrorKind::KeyRejected);
    for kid in ["enc-key", "wrap-only"] {
        let t = ec.sign_token(&json!({"alg": "ES256", "kid": kid}), &claims);
        assert_eq!(kind_of(client.validate(&t)), ErrorKind::UnknownKey, "{kid}");
    }
    client.validate(&good.sign(&claims)).expect("the good key still works");
}

#[test]
fn kid_less_tokens_need_an_unambiguous_key() {
    let a = TestKey::generate(Alg::ES256);
    let b = TestKey::generate(Alg::ES256);
    let r = TestKey::generate(Alg::RS256);
    let one = idp(&[&a, &r]);
    let claims = one.claims();
    one.client().validate(&a.sign_token(&json!({"alg": "ES256"}), &claims)).expect("single ES256 key");
    let two = idp(&[&a, &b]);
    let t = a.sign_token(&json!({"alg": "ES256"}), &two.claims());
    assert_eq!(kind_of(two.client().validate(&t)), ErrorKind::UnknownKey);
}

#[test]
fn errors_carry_rfc6750_answers_and_never_echo_the_token() {
    let k = TestKey::generate(Alg::RS256);
    let idp = idp(&[&k]);
    let client = idp.client_with(|c| c.realm = Some("api".into()));
    let mut c = idp.claims();
    c["exp"] = json!(keys::now() - 3600);
    let t = k.sign(&c);
    let e = client.validate(&t).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TokenExpired);
    assert_eq!(e.oauth_error(), Some("invalid_token"));
    assert_eq!(e.kind().http_status(), 401);
    assert_eq!(
        e.www_authenticate(client.config().realm.as_deref()),
        r#"Bearer realm="api", error="invalid_token", error_description="The access token expired""#
    );
    assert_no_echo(&t, &e);
    // Issue 15 item 7: the host's message names the token's issuer so that the mismatch can be
    // fixed, quoted, escaped and bounded; the answer to the client (WWW-Authenticate) never does.
    let mut c = idp.claims();
    c["iss"] = json!(format!("https://evil.example/\"\n{}", "x".repeat(5000)));
    let t = k.sign(&c);
    let e = client.validate(&t).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::IssuerMismatch);
    assert!(e.message().starts_with("token issuer 'https://evil.example/\\\"\\nxxx"), "{}", e.message());
    assert!(e.message().contains("… is not the configured issuer '"), "{}", e.message());
    assert!(e.message().len() < 700, "bounded: {} bytes", e.message().len());
    assert!(!e.message().contains('\n'), "escaped");
    let challenge = e.www_authenticate(client.config().realm.as_deref());
    assert!(!challenge.contains("evil.example"), "{challenge}");
    assert_no_echo(&t, &e);
}

#[test]
fn static_key_set_and_fixed_time_need_no_network() {
    let k = TestKey::generate(Alg::PS256);
    let mut cfg = Config::new("https://issuer.offline");
    cfg.key_source = KeySource::Static(jwks(&[&k]));
    cfg.audiences = vec!["api".into()];
    let client = Client::new(cfg).unwrap();
    let claims = json!({"iss": "https://issuer.offline", "aud": "api", "exp": 1_000_000_100, "iat": 1_000_000_000});
    let t = k.sign(&claims);
    client.validate_at(&t, 1_000_000_050.0).expect("valid at that time");
    assert_eq!(kind_of(client.validate_at(&t, 1_000_000_200.0)), ErrorKind::TokenExpired);
    assert_eq!(kind_of(client.validate(&t)), ErrorKind::TokenExpired, "expired now");
    let other = TestKey::generate(Alg::PS256);
    assert_eq!(kind_of(client.validate_at(&other.sign(&claims), 1_000_000_050.0)), ErrorKind::UnknownKey);
    let mut bad = Config::new("https://issuer.offline");
    bad.key_source = KeySource::Static("{\"keys\": 5}".into());
    bad.audiences = vec!["api".into()];
    assert_eq!(Client::new(bad).unwrap_err().kind(), ErrorKind::JwksInvalid);
}

#[test]
fn configuration_errors_surface_at_creation() {
    let check = |f: &dyn Fn(&mut Config), want: ErrorKind| {
        let mut c = Config::new("https://idp.example");
        c.audiences = vec!["api".into()];
        f(&mut c);
        assert_eq!(Client::new(c).unwrap_err().kind(), want);
    };
    check(&|c| c.issuer = String::new(), ErrorKind::InvalidConfig);
    check(&|c| c.issuer = "http://idp.example".into(), ErrorKind::InsecureUrl);
    check(&|c| c.issuer = "http://127.0.0.1:9".into(), ErrorKind::InsecureUrl);
    check(&|c| c.ca_file = Some("/nonexistent/ca.pem".into()), ErrorKind::CaFile);
    check(&|c| c.ca_file = Some("/etc/hostname".into()), ErrorKind::CaFile);
    check(&|c| c.key_source = KeySource::JwksUri("http://idp.example/jwks".into()), ErrorKind::InsecureUrl);
    check(&|c| c.max_token_bytes = 0, ErrorKind::InvalidConfig);
    check(&|c| c.total_timeout = std::time::Duration::ZERO, ErrorKind::InvalidConfig);
    // Static keys never connect, but a CA file that cannot be used is still a configuration error.
    let k = TestKey::generate(Alg::ES256);
    let static_keys = |c: &mut Config| c.key_source = KeySource::Static(oidc_testkit::jwks_value(&[&k]).to_string());
    check(
        &|c| {
            static_keys(c);
            c.ca_file = Some("/nonexistent/ca.pem".into())
        },
        ErrorKind::CaFile,
    );
    check(
        &|c| {
            static_keys(c);
            c.ca_file = Some("/etc/hostname".into())
        },
        ErrorKind::CaFile,
    );
    let ca = TestCa::new();
    let mut ok = Config::new("https://idp.example");
    ok.audiences = vec!["api".into()];
    static_keys(&mut ok);
    ok.ca_file = Some(ca.ca_pem_path());
    Client::new(ok).expect("a usable CA file with static keys");
    let mut c = Config::new("https://idp.example");
    assert_eq!(c.set_algorithms(["none"]).unwrap_err().kind(), ErrorKind::UnsupportedAlgorithm);
    assert_eq!(c.set_algorithms(["HS256"]).unwrap_err().kind(), ErrorKind::UnsupportedAlgorithm);
    assert_eq!(c.set_algorithms(["RS256", "XX1"]).unwrap_err().kind(), ErrorKind::UnsupportedAlgorithm);
}

#[test]
fn plain_http_loopback_only_with_the_opt_in() {
    let k = TestKey::generate(Alg::ES256);
    let srv = FixtureServer::start_http();
    let issuer = srv.install_oidc(&[&k]);
    let mut cfg = Config::new(&issuer);
    cfg.audiences = vec!["api".into()];
    assert_eq!(Client::new(cfg.clone()).unwrap_err().kind(), ErrorKind::InsecureUrl);
    cfg.allow_http_loopback = true;
    let client = Client::new(cfg).unwrap();
    client.validate(&k.sign(&keys::claims(&issuer, "api", "a", 60))).expect("loopback http with opt-in");
}

#[test]
fn discovery_rules() {
    let k = TestKey::generate(Alg::ES256);
    // Issuer in the document must equal the configured one exactly.
    let idp1 = idp(&[&k]);
    idp1.srv.set_route(DISCOVERY, Route::json(&oidc_testkit::oidc_discovery(&format!("{}/", idp1.issuer), &idp1.srv.url("/jwks"))));
    assert_eq!(idp1.client().prefetch().unwrap_err().kind(), ErrorKind::DiscoveryIssuerMismatch);
    // Every endpoint must be https.
    let idp2 = idp(&[&k]);
    let mut d = oidc_testkit::oidc_discovery(&idp2.issuer, &idp2.srv.url("/jwks"));
    d["token_endpoint"] = json!("http://idp.example/token");
    idp2.srv.set_route(DISCOVERY, Route::json(&d));
    assert_eq!(idp2.client().prefetch().unwrap_err().kind(), ErrorKind::DiscoveryInvalid);
    let mut d = oidc_testkit::oidc_discovery(&idp2.issuer, "http://127.0.0.1:1/jwks");
    d.as_object_mut().unwrap().remove("token_endpoint");
    idp2.srv.set_route(DISCOVERY, Route::json(&d));
    assert_eq!(idp2.client().prefetch().unwrap_err().kind(), ErrorKind::DiscoveryInvalid);
    // jwks_uri is required.
    let mut d = oidc_testkit::oidc_discovery(&idp2.issuer, "https://x/jwks");
    d.as_object_mut().unwrap().remove("jwks_uri");
    idp2.srv.set_route(DISCOVERY, Route::json(&d));
    assert_eq!(idp2.client().prefetch().unwrap_err().kind(), ErrorKind::DiscoveryInvalid);
    // RFC 8414 fallback when the OIDC document does not exist.
    let idp3 = idp(&[&k]);
    idp3.srv.remove_route(DISCOVERY);
    idp3.srv.set_route(
        "/.well-known/oauth-authorization-server",
        Route::json(&oidc_testkit::oidc_discovery(&idp3.issuer, &idp3.srv.url("/jwks"))),
    );
    idp3.client().validate(&k.sign(&idp3.claims())).expect("RFC 8414 metadata");
    // A configured jwks_uri skips discovery entirely.
    let idp4 = idp(&[&k]);
    let c = idp4.client_with(|c| c.key_source = KeySource::JwksUri(idp4.srv.url("/jwks")));
    c.validate(&k.sign(&idp4.claims())).unwrap();
    assert_eq!(idp4.srv.hits(DISCOVERY), 0);
}
