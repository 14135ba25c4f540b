//! Writes `fixtures/jwks.json` (fresh keys) and the seed corpora under `seeds/` (tokens, proofs
//! and documents signed with those keys, valid at `oidc_fuzz::NOW`), so every target starts
//! from inputs liboidc accepts. Run from `fuzz/` with a plain build:
//! `cargo run --release --bin make-seeds` (the private keys are not kept).

use std::fs;
use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use oidc_fuzz::{AUDIENCE, AUDIENCE_2, CLIENT_ID, ISSUER, NONCE_LIFETIME, NONCE_SECRET, NOW, RESOURCE_URL, b64e, thumbprint};
use serde_json::{Value, json};

enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, &'static str, usize),
    Ed(Ed25519KeyPair),
}

impl Key {
    fn public(&self) -> Value {
        match self {
            Key::Rsa(k) => {
                let p = k.public_key();
                json!({"kty": "RSA", "n": b64e(p.modulus().big_endian_without_leading_zero()), "e": b64e(p.exponent().big_endian_without_leading_zero())})
            }
            Key::Ec(k, crv, n) => {
                let pt = k.public_key().as_ref();
                json!({"kty": "EC", "crv": crv, "x": b64e(&pt[1..1 + n]), "y": b64e(&pt[1 + n..])})
            }
            Key::Ed(k) => json!({"kty": "OKP", "crv": "Ed25519", "x": b64e(k.public_key().as_ref())}),
        }
    }

    fn sign(&self, alg: &str, msg: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Key::Rsa(k) => {
                let enc: &'static dyn signature::RsaEncoding = match alg {
                    "RS256" => &signature::RSA_PKCS1_SHA256,
                    "RS384" => &signature::RSA_PKCS1_SHA384,
                    "RS512" => &signature::RSA_PKCS1_SHA512,
                    "PS256" => &signature::RSA_PSS_SHA256,
                    "PS384" => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(enc, &rng, msg, &mut sig).expect("RSA sign");
                sig
            }
            Key::Ec(k, ..) => k.sign(&rng, msg).expect("ECDSA sign").as_ref().to_vec(),
            Key::Ed(k) => k.sign(msg).as_ref().to_vec(),
        }
    }

    fn jws(&self, header: &Value, claims: &Value) -> String {
        let alg = header["alg"].as_str().expect("alg");
        let input = format!("{}.{}", b64e(header.to_string().as_bytes()), b64e(claims.to_string().as_bytes()));
        let sig = self.sign(alg, input.as_bytes());
        format!("{input}.{}", b64e(&sig))
    }
}

fn with(mut v: Value, extra: Value) -> Value {
    for (k, x) in extra.as_object().expect("object") {
        v[k] = x.clone();
    }
    v
}

fn claims(extra: Value) -> Value {
    with(
        json!({"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "exp": NOW + 3600, "iat": NOW - 60, "nbf": NOW - 60,
               "jti": "j-1", "client_id": "svc", "scope": "read write"}),
        extra,
    )
}

fn write(target: &str, name: &str, data: impl AsRef<[u8]>) {
    let dir = Path::new("seeds").join(target);
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join(name), data).expect("write seed");
}

fn sha256_b64(b: &[u8]) -> String {
    b64e(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b).as_ref())
}

fn main() {
    let rs = Key::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa"));
    let rsa_any = Key::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa"));
    let es256 = Key::Ec(EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("p256"), "P-256", 32);
    let es384 = Key::Ec(EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING).expect("p384"), "P-384", 48);
    let ed = Key::Ed(Ed25519KeyPair::generate().expect("ed25519"));
    // The clients' DPoP keys (not in the issuer's set).
    let dpop_ec = Key::Ec(EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("p256"), "P-256", 32);
    let dpop_ed = Key::Ed(Ed25519KeyPair::generate().expect("ed25519"));

    let weak_n = {
        let mut n = vec![0xc3u8; 128];
        n[127] = 0x01;
        n
    };
    let jwks = json!({"keys": [
        with(rs.public(), json!({"kid": "rs256-fuzz", "alg": "RS256", "use": "sig"})),
        with(rsa_any.public(), json!({"kid": "rsa-any"})),
        with(es256.public(), json!({"kid": "es256-fuzz", "alg": "ES256", "use": "sig", "key_ops": ["verify"]})),
        with(es384.public(), json!({"alg": "ES384"})),
        with(ed.public(), json!({"kid": "eddsa-fuzz", "alg": "EdDSA"})),
        with(rs.public(), json!({"kid": "enc-key", "use": "enc", "alg": "RSA-OAEP"})),
        {"kty": "oct", "kid": "hmac", "k": b64e(b"not a verification key")},
        {"kty": "RSA", "kid": "weak", "alg": "RS256", "n": b64e(&weak_n), "e": "AQAB"},
    ]});
    fs::create_dir_all("fixtures").expect("mkdir");
    fs::write("fixtures/jwks.json", serde_json::to_string_pretty(&jwks).expect("json") + "\n").expect("write jwks");

    // validate_token
    let at = |alg: &str, kid: Option<&str>| {
        let mut h = json!({"alg": alg, "typ": "at+jwt"});
        if let Some(k) = kid {
            h["kid"] = json!(k);
        }
        h
    };
    let t_rs = rs.jws(&at("RS256", Some("rs256-fuzz")), &claims(json!({})));
    let t_es = es256.jws(&at("ES256", Some("es256-fuzz")), &claims(json!({"jti": "j-es"})));
    write("validate_token", "rs256", &t_rs);
    write("validate_token", "ps256-any", rsa_any.jws(&at("PS256", Some("rsa-any")), &claims(json!({"aud": ["x", AUDIENCE_2]}))));
    write(
        "validate_token",
        "rs512-any",
        rsa_any.jws(&json!({"alg": "RS512", "kid": "rsa-any"}), &claims(json!({"exp": (NOW + 10) as f64 + 0.5}))),
    );
    write("validate_token", "es256", &t_es);
    write("validate_token", "es384-nokid", es384.jws(&json!({"alg": "ES384"}), &claims(json!({}))));
    let mut no_aud = claims(json!({}));
    no_aud.as_object_mut().unwrap().remove("aud");
    write("validate_token", "eddsa-any-aud", ed.jws(&json!({"alg": "EdDSA", "kid": "eddsa-fuzz", "typ": "application/AT+JWT"}), &no_aud));
    write("validate_token", "expired", es256.jws(&at("ES256", Some("es256-fuzz")), &claims(json!({"exp": NOW - 61}))));
    write("validate_token", "wrong-iss", rs.jws(&at("RS256", Some("rs256-fuzz")), &claims(json!({"iss": "https://evil.fuzz.test"}))));
    write("validate_token", "enc-key", rs.jws(&at("RS256", Some("enc-key")), &claims(json!({}))));
    // Near misses: authentic, each breaking one rule, so a check that is skipped shows at once.
    write("validate_token", "wrong-aud", es256.jws(&at("ES256", Some("es256-fuzz")), &claims(json!({"aud": ["api://nope"]}))));
    write("validate_token", "future-nbf", ed.jws(&at("EdDSA", Some("eddsa-fuzz")), &claims(json!({"nbf": NOW + 61}))));
    write("validate_token", "future-iat", rs.jws(&at("RS256", Some("rs256-fuzz")), &claims(json!({"iat": NOW + 61}))));
    let mut no_exp = claims(json!({}));
    no_exp.as_object_mut().unwrap().remove("exp");
    write("validate_token", "no-exp", es256.jws(&at("ES256", Some("es256-fuzz")), &no_exp));
    write(
        "validate_token",
        "crit",
        es256.jws(&json!({"alg": "ES256", "kid": "es256-fuzz", "crit": ["exp"], "exp": 1}), &claims(json!({}))),
    );
    write("validate_token", "rs384-on-rs256-key", rs.jws(&at("RS384", Some("rs256-fuzz")), &claims(json!({}))));
    write("validate_token", "typ-jwt", ed.jws(&json!({"alg": "EdDSA", "kid": "eddsa-fuzz", "typ": "JWT"}), &claims(json!({}))));

    // authenticate
    let jkt_ec = thumbprint(dpop_ec.public().as_object().unwrap()).unwrap();
    let jkt_ed = thumbprint(dpop_ed.public().as_object().unwrap()).unwrap();
    let bound_ec = es256.jws(&at("ES256", Some("es256-fuzz")), &claims(json!({"jti": "j-dpop", "cnf": {"jkt": jkt_ec}})));
    let bound_ed =
        ed.jws(&at("EdDSA", Some("eddsa-fuzz")), &claims(json!({"jti": "j-dpop-ed", "client_id": "web", "cnf": {"jkt": jkt_ed}})));
    let proof = |key: &Key, alg: &str, method: &str, token: &str, jti: &str, nonce: Option<&str>| {
        let mut c =
            json!({"htm": method, "htu": "https://api.fuzz.test/items", "iat": NOW - 5, "jti": jti, "ath": sha256_b64(token.as_bytes())});
        if let Some(n) = nonce {
            c["nonce"] = json!(n);
        }
        key.jws(&json!({"typ": "dpop+jwt", "alg": alg, "jwk": key.public()}), &c)
    };
    let req = |client: &str, method: &str, lines: &[String]| format!("{client}\n{method}\n{RESOURCE_URL}\n{}", lines.join("\n"));
    write("authenticate", "bearer", req("0", "GET", &[format!("A:Bearer {t_rs}")]));
    write("authenticate", "bearer-disabled", req("2", "GET", &[format!("A:Bearer {t_es}")]));
    write(
        "authenticate",
        "dpop-es256",
        req("0", "GET", &[format!("A:DPoP {bound_ec}"), format!("D:{}", proof(&dpop_ec, "ES256", "GET", &bound_ec, "p-1", None))]),
    );
    write(
        "authenticate",
        "dpop-eddsa",
        req("0", "DELETE", &[format!("A:DPoP {bound_ed}"), format!("D:{}", proof(&dpop_ed, "EdDSA", "DELETE", &bound_ed, "p-2", None))]),
    );
    let n = oidc::core::authn::nonce::issue(NONCE_SECRET, NONCE_LIFETIME, NOW as f64);
    write(
        "authenticate",
        "dpop-nonce",
        req("1", "POST", &[format!("A:DPoP {bound_ec}"), format!("D:{}", proof(&dpop_ec, "ES256", "POST", &bound_ec, "p-3", Some(&n)))]),
    );
    write(
        "authenticate",
        "dpop-no-nonce",
        req("1", "POST", &[format!("A:DPoP {bound_ec}"), format!("D:{}", proof(&dpop_ec, "ES256", "POST", &bound_ec, "p-4", None))]),
    );
    let cert = b"fuzz client certificate (any DER bytes)";
    let mtls = rs.jws(&at("RS256", Some("rs256-fuzz")), &claims(json!({"jti": "j-mtls", "cnf": {"x5t#S256": sha256_b64(cert)}})));
    write("authenticate", "mtls", req("0", "GET", &[format!("A:Bearer {mtls}"), format!("C:{}", String::from_utf8_lossy(cert))]));
    write("authenticate", "none", req("0", "GET", &[]));
    // Near misses: every signature valid, one binding or rule broken each.
    let p_ec = |method: &str, token: &str, jti: &str| proof(&dpop_ec, "ES256", method, token, jti, None);
    write(
        "authenticate",
        "dpop-wrong-method",
        req("0", "GET", &[format!("A:DPoP {bound_ec}"), format!("D:{}", p_ec("POST", &bound_ec, "m-1"))]),
    );
    write(
        "authenticate",
        "dpop-wrong-key",
        req("0", "GET", &[format!("A:DPoP {bound_ed}"), format!("D:{}", p_ec("GET", &bound_ed, "m-2"))]),
    );
    write(
        "authenticate",
        "dpop-wrong-ath",
        req("0", "GET", &[format!("A:DPoP {bound_ec}"), format!("D:{}", p_ec("GET", &bound_ed, "m-3"))]),
    );
    let htu = dpop_ec.jws(
        &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop_ec.public()}),
        &json!({"htm": "GET", "htu": "https://other.fuzz.test/items", "iat": NOW, "jti": "m-4", "ath": sha256_b64(bound_ec.as_bytes())}),
    );
    write("authenticate", "dpop-wrong-htu", req("0", "GET", &[format!("A:DPoP {bound_ec}"), format!("D:{htu}")]));
    let stale = dpop_ec.jws(&json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop_ec.public()}),
        &json!({"htm": "GET", "htu": "https://api.fuzz.test/items", "iat": NOW - 600, "jti": "m-5", "ath": sha256_b64(bound_ec.as_bytes())}));
    write("authenticate", "dpop-stale", req("0", "GET", &[format!("A:DPoP {bound_ec}"), format!("D:{stale}")]));
    write("authenticate", "dpop-unbound-token", req("0", "GET", &[format!("A:DPoP {t_es}"), format!("D:{}", p_ec("GET", &t_es, "m-6"))]));
    write("authenticate", "bearer-bound-token", req("0", "GET", &[format!("A:Bearer {bound_ec}")]));
    write("authenticate", "mtls-wrong-cert", req("0", "GET", &[format!("A:Bearer {mtls}"), "C:another certificate".to_string()]));
    let no_read =
        es256.jws(&at("ES256", Some("es256-fuzz")), &claims(json!({"jti": "j-noread", "scope": "write", "cnf": {"jkt": jkt_ec}})));
    write(
        "authenticate",
        "dpop-no-scope",
        req("1", "GET", &[format!("A:DPoP {no_read}"), format!("D:{}", proof(&dpop_ec, "ES256", "GET", &no_read, "m-7", Some(&n)))]),
    );
    let other_client =
        es256.jws(&at("ES256", Some("es256-fuzz")), &claims(json!({"jti": "j-cid", "client_id": "evil", "cnf": {"jkt": jkt_ec}})));
    write(
        "authenticate",
        "dpop-claim-value",
        req(
            "1",
            "GET",
            &[format!("A:DPoP {other_client}"), format!("D:{}", proof(&dpop_ec, "ES256", "GET", &other_client, "m-8", Some(&n)))],
        ),
    );

    // jwks_parse
    write("jwks_parse", "fixture", serde_json::to_string(&jwks).unwrap());
    for (i, k) in jwks["keys"].as_array().unwrap().iter().enumerate() {
        write("jwks_parse", &format!("key-{i}"), json!({"keys": [k]}).to_string());
    }

    // discovery_parse
    let doc = json!({"issuer": ISSUER, "jwks_uri": format!("{ISSUER}/jwks"), "authorization_endpoint": format!("{ISSUER}/authorize"),
        "token_endpoint": format!("{ISSUER}/token"), "userinfo_endpoint": format!("{ISSUER}/userinfo"), "op_tos_uri": "http://x/tos",
        "response_types_supported": ["code"], "authorization_response_iss_parameter_supported": true});
    write("discovery_parse", "oidc", format!("\x00{ISSUER}\n{doc}"));
    let lo = "http://127.0.0.1:8080";
    write(
        "discovery_parse",
        "loopback",
        format!("\x01{lo}\n{}", json!({"issuer": lo, "jwks_uri": format!("{lo}/jwks"), "token_endpoint": "http://[::1]:9/t"})),
    );
    write(
        "discovery_parse",
        "tenant",
        format!("\x00{ISSUER}/tenant/\n{}", json!({"issuer": format!("{ISSUER}/tenant/"), "jwks_uri": "https://keys.fuzz.test/j"})),
    );

    // snapshot_import
    let snap = json!({"version": 1, "exported_at": NOW as f64,
        "key_sets": [{"jwks_uri": format!("{ISSUER}/jwks"), "trust": "12345", "expires_at": 4.0e9, "etag": "\"e1\"", "jwks": jwks}],
        "metadata": [{"issuer": ISSUER, "fetched_at": 4.0e9, "trust": "12345", "document": doc}]});
    write("snapshot_import", "full", snap.to_string());
    let mut with_mac = snap.clone();
    with_mac["mac"] = json!(b64e(&[7u8; 32]));
    write("snapshot_import", "with-mac", with_mac.to_string());
    write("snapshot_import", "keys-only", json!({"version": 1, "key_sets": [{"jwks_uri": "https://a.fuzz.test/k", "trust": "0", "expires_at": 4.0e9, "etag": null, "jwks": {"keys": [jwks["keys"][2]]}}]}).to_string());
    write("snapshot_import", "empty", json!({"version": 1, "key_sets": [], "metadata": []}).to_string());

    // oauth_responses
    write(
        "oauth_responses",
        "token",
        format!(
            "\x00{}",
            json!({"access_token": "AT", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "RT", "scope": "a b", "id_token": t_rs})
        ),
    );
    write("oauth_responses", "token-str-exp", format!("\x00{}", json!({"access_token": "AT", "token_type": "DPoP", "expires_in": "60"})));
    let error = |status: u16, rest: String| [&[1u8][..], &status.to_be_bytes(), rest.as_bytes()].concat();
    write(
        "oauth_responses",
        "error-json",
        error(400, format!("\n{}", json!({"error": "invalid_grant", "error_description": "bad code", "error_uri": "https://e"}))),
    );
    write(
        "oauth_responses",
        "error-www",
        error(401, "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"expired\"\n<html>".into()),
    );
    let iss = "https%3A%2F%2Fissuer.fuzz.test";
    write("oauth_responses", "authz-query", format!("\x02st-1\nhttps://app.fuzz.test/cb?code=c%2B1&state=st-1&iss={iss}"));
    write("oauth_responses", "authz-fragment", format!("\x02-\n#code=c2&iss={iss}&session_state=x"));
    write("oauth_responses", "authz-error", format!("\x02st\n?error=access_denied&error_description=no+way&state=st&iss={iss}"));
    let jarm = rs.jws(
        &json!({"alg": "RS256", "kid": "rs256-fuzz"}),
        &json!({"iss": ISSUER, "aud": CLIENT_ID, "exp": NOW + 600, "code": "jc", "state": "js"}),
    );
    write("oauth_responses", "authz-jarm", format!("\x02js\nhttps://app.fuzz.test/cb?response={jarm}"));
    let jarm_aud = rs.jws(
        &json!({"alg": "RS256", "kid": "rs256-fuzz"}),
        &json!({"iss": ISSUER, "aud": "another-client", "exp": NOW + 600, "code": "jc", "state": "js"}),
    );
    write("oauth_responses", "authz-jarm-wrong-aud", format!("\x02js\nhttps://app.fuzz.test/cb?response={jarm_aud}"));
    let jarm_exp =
        es256.jws(&json!({"alg": "ES256", "kid": "es256-fuzz"}), &json!({"iss": ISSUER, "aud": CLIENT_ID, "exp": NOW - 600, "code": "jc"}));
    write("oauth_responses", "authz-jarm-expired", format!("\x02-\n#response={jarm_exp}"));
    println!("wrote fixtures/jwks.json and seeds/");
}
