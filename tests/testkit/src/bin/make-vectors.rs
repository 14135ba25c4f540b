//! Writes tests/vectors/validation.json: tokens, keys, the client configuration, a fixed "now",
//! and the expected decision (result code name and number) for each case. Every language's
//! tests run the same file through a static-JWKS client and `validate_at`.
//!
//! Usage: cargo run -p oidc-testkit --bin make-vectors -- OUT.json
//! Keys are random, so the output is generated once and committed.

use oidc_testkit::keys::{b64, b64_json};
use oidc_testkit::{Alg, TestKey, default_header};
use serde_json::{Value, json};

const ISS: &str = "https://issuer.vectors.test";
const AUD: &str = "api://vectors";
const NOW: i64 = 1_800_000_000;

fn claims() -> Value {
    json!({"iss": ISS, "aud": AUD, "sub": "alice", "scope": "read write", "iat": NOW - 10, "nbf": NOW - 10,
           "exp": NOW + 300, "jti": "vector-jti", "client_id": "svc"})
}

fn with(f: impl FnOnce(&mut Value)) -> Value {
    let mut c = claims();
    f(&mut c);
    c
}

fn main() {
    let out = std::env::args().nth(1).expect("usage: make-vectors OUT.json");
    let rs = TestKey::generate_with_kid(Alg::RS256, "rs256-key");
    let ps = TestKey::generate_with_kid(Alg::PS256, "ps256-key");
    let es = TestKey::generate_with_kid(Alg::ES256, "es256-key");
    let ed = TestKey::generate_with_kid(Alg::EdDSA, "eddsa-key");
    let weak = TestKey::weak_rsa1024();
    let stranger = TestKey::generate_with_kid(Alg::ES256, "not-published");
    let jwks = json!({"keys": [rs.public_jwk(), ps.public_jwk(), es.public_jwk(), ed.public_jwk(), weak.public_jwk()]});

    let mut cases: Vec<(String, String, &str, u32)> = Vec::new();
    let mut add = |name: &str, token: String, expect: &'static str, code: u32| cases.push((name.into(), token, expect, code));

    for k in [&rs, &ps, &es, &ed] {
        add(&format!("valid {}", k.alg().name()), k.sign(&claims()), "OK", 0);
    }
    add("audience in an array", es.sign(&with(|c| c["aud"] = json!(["other", AUD]))), "OK", 0);
    add("expired inside leeway", es.sign(&with(|c| c["exp"] = json!(NOW - 30))), "OK", 0);
    add(
        "typ with media-type prefix",
        es.sign_token(&json!({"alg":"ES256","kid":"es256-key","typ":"application/at+jwt"}), &claims()),
        "OK",
        0,
    );
    add("expired", es.sign(&with(|c| c["exp"] = json!(NOW - 61))), "TOKEN_EXPIRED", 305);
    add("not yet valid", es.sign(&with(|c| c["nbf"] = json!(NOW + 120))), "TOKEN_NOT_YET_VALID", 306);
    add("issued in the future", es.sign(&with(|c| c["iat"] = json!(NOW + 120))), "TOKEN_ISSUED_IN_FUTURE", 307);
    add("wrong issuer", es.sign(&with(|c| c["iss"] = json!("https://evil.test"))), "ISSUER_MISMATCH", 308);
    add("wrong audience", rs.sign(&with(|c| c["aud"] = json!("api://other"))), "AUDIENCE_MISMATCH", 309);
    add(
        "missing exp",
        es.sign(&with(|c| {
            c.as_object_mut().unwrap().remove("exp");
        })),
        "MISSING_CLAIM",
        310,
    );
    add(
        "missing required sub",
        es.sign(&with(|c| {
            c.as_object_mut().unwrap().remove("sub");
        })),
        "MISSING_CLAIM",
        310,
    );
    add("exp is a string", es.sign(&with(|c| c["exp"] = json!("1800000300"))), "INVALID_CLAIM", 311);
    add("typ JWT instead of at+jwt", es.sign_token(&json!({"alg":"ES256","kid":"es256-key","typ":"JWT"}), &claims()), "TYPE_MISMATCH", 312);
    add(
        "crit header",
        es.sign_token(&json!({"alg":"ES256","kid":"es256-key","typ":"at+jwt","crit":["x"],"x":1}), &claims()),
        "CRIT_UNSUPPORTED",
        313,
    );
    add("RSA key of 1024 bits", weak.sign(&claims()), "KEY_REJECTED", 314);
    add("unknown kid", stranger.sign(&claims()), "UNKNOWN_KEY", 303);
    let t = es.sign(&claims());
    let p: Vec<&str> = t.split('.').collect();
    add("tampered payload", format!("{}.{}.{}", p[0], b64_json(&with(|c| c["sub"] = json!("mallory"))), p[2]), "SIGNATURE_INVALID", 304);
    add("ES256 signature of wrong length", format!("{}.{}.{}", p[0], p[1], b64([7u8; 63])), "SIGNATURE_INVALID", 304);
    let hp = format!("{}.{}", b64_json(&json!({"alg":"none","typ":"at+jwt"})), b64_json(&claims()));
    add("alg none", format!("{hp}."), "ALGORITHM_NOT_ALLOWED", 302);
    let hs = format!("{}.{}", b64_json(&json!({"alg":"HS256","kid":"rs256-key","typ":"at+jwt"})), b64_json(&claims()));
    add("HS256 with the RSA key", format!("{hs}.{}", b64([1u8; 32])), "ALGORITHM_NOT_ALLOWED", 302);
    add(
        "RS256 header on the EC key",
        es.sign_token(&json!({"alg":"RS256","kid":"es256-key","typ":"at+jwt"}), &claims()),
        "ALGORITHM_NOT_ALLOWED",
        302,
    );
    add("two segments", format!("{}.{}", p[0], p[1]), "TOKEN_MALFORMED", 300);
    add("four segments", format!("{t}.{}", p[2]), "TOKEN_MALFORMED", 300);
    add("padded base64", format!("{}=.{}.{}", p[0], p[1], p[2]), "TOKEN_MALFORMED", 300);
    add("header not JSON", format!("{}.{}.{}", b64("hello"), p[1], p[2]), "TOKEN_MALFORMED", 300);
    let dup = format!(
        "{}.{}",
        b64_json(&default_header(&es)),
        b64(r#"{"iss":"https://issuer.vectors.test","aud":"api://vectors","sub":"a","exp":1800000300,"exp":1900000000}"#)
    );
    add("duplicate exp claim", format!("{dup}.{}", b64(es.sign_raw(&dup))), "TOKEN_MALFORMED", 300);
    add("empty token", String::new(), "TOKEN_MALFORMED", 300);
    add("oversized token", es.sign(&with(|c| c["pad"] = json!("x".repeat(9000)))), "TOKEN_TOO_LARGE", 301);

    let doc = json!({
        "description": "Shared validation vectors: build a client with a static JWKS and this config, validate each token at `now`, expect the result code. Generated by tests/testkit/src/bin/make-vectors.rs.",
        "config": {"issuer": ISS, "audiences": [AUD], "expected_typ": "at+jwt", "required_claims": ["sub"],
                   "leeway_secs": 60, "max_token_bytes": 8192, "algorithms": "RS256,PS256,ES256,EdDSA"},
        "now": NOW,
        "jwks": jwks,
        "cases": cases.iter().map(|(n, t, e, c)| json!({"name": n, "token": t, "expect": e, "code": c})).collect::<Vec<_>>(),
    });
    std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    eprintln!("wrote {} cases to {out}", cases.len());
}
