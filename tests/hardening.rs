//! Issue 10 (hardening): messages that name what to fix (item 15) and registered claim types
//! (item 9), on a static key set.

use oidc::core::{Client, Config, ErrorKind, KeySource};
use oidc_testkit::keys::{b64, b64_json};
use oidc_testkit::{Alg, TestKey};
use serde_json::{Value, json};

const ISS: &str = "https://issuer.hardening.test";
const NOW: f64 = 1_800_000_000.0;

fn claims() -> Value {
    json!({"iss": ISS, "aud": "api", "sub": "alice", "exp": NOW + 300.0, "iat": NOW - 10.0})
}

fn client(jwks: Value) -> Client {
    let mut cfg = Config::new(ISS);
    cfg.max_token_bytes = 64 * 1024;
    cfg.key_source = KeySource::Static(jwks.to_string());
    cfg.audiences = vec!["api".into()];
    Client::new(cfg).unwrap()
}

#[test]
fn an_unknown_algorithm_is_named() {
    let k = TestKey::generate_with_kid(Alg::ES256, "k1");
    let c = client(json!({"keys": [k.public_jwk()]}));
    let hp = format!("{}.{}", b64_json(&json!({"alg": "ES257", "kid": "k1"})), b64_json(&claims()));
    let e = c.validate_at(&format!("{hp}.{}", b64([1u8; 64])), NOW).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlgorithmNotAllowed);
    assert!(e.message().contains("'ES257'"), "{}", e.message());
}

#[test]
fn a_key_published_for_something_else_says_so() {
    let k = TestKey::generate_with_kid(Alg::ES256, "k1");
    for (member, value, says) in [("use", json!("enc"), "\"use\""), ("key_ops", json!(["encrypt"]), "key_ops")] {
        let mut jwk = k.public_jwk();
        jwk[member] = value;
        let c = client(json!({"keys": [jwk]}));
        let e = c.validate_at(&k.sign(&claims()), NOW).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownKey, "{member}");
        assert!(e.message().contains("not for verifying signatures") && e.message().contains(says), "{}", e.message());
    }
}

#[test]
fn the_member_cap_is_named() {
    let k = TestKey::generate_with_kid(Alg::ES256, "k1");
    let c = client(json!({"keys": [k.public_jwk()]}));
    let mut big = claims();
    for i in 0..1100 {
        big[format!("c{i}")] = json!(i);
    }
    let e = c.validate_at(&k.sign(&big), NOW).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TokenMalformed);
    assert!(e.message().contains("more than 1024 members"), "{}", e.message());
}

mod common;

/// Issue 10 item 7: a server that closes the connection without a reply is a network error
/// (the header says so), not RESPONSE_INVALID; a reply cut short after its headers stays
/// RESPONSE_INVALID.
#[test]
fn a_connection_closed_without_a_reply_is_a_network_error() {
    use common::*;
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", oidc_testkit::Route::raw(Vec::new()));
    let c = idp.client_with(|_| {});
    let e = c.validate(&k.sign(&idp.claims())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e:?}");
    assert!(e.message().contains("closed the connection without a reply"), "{}", e.message());
}

/// Issue 10 item 7: the server's own status stays readable beside the suggested one.
#[test]
fn the_servers_status_is_kept_beside_the_suggested_one() {
    use common::*;
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", oidc_testkit::Route::status(502));
    let c = idp.client_with(|_| {});
    let e = c.validate(&k.sign(&idp.claims())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HttpStatus);
    assert_eq!(e.server_status(), Some(502), "the identity provider's answer");
    assert_eq!(e.kind().http_status(), 503, "what the host answers its caller: retry later");
}
