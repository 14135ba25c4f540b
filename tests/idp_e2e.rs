//! End to end against a real IdP: oidc-provider (npm, pinned by tests/idp/package-lock.json),
//! started here on 127.0.0.1 over HTTPS with a generated CA. Access tokens are RFC 9068
//! `at+jwt`s from client credentials with a resource indicator, in RS256, PS256, ES256 and
//! EdDSA. Trust comes through the CA environment variable path. Keys are rotated mid-test.
//! One test function: it sets process-wide environment variables.

mod common;

use common::real_idp::RealIdp;
use oidc::core::{Client, Config, ErrorKind};
use serde_json::Value;

const RESOURCES: [(&str, &str); 4] =
    [("RS256", "urn:liboidc:rs256"), ("PS256", "urn:liboidc:ps256"), ("ES256", "urn:liboidc:es256"), ("EdDSA", "urn:liboidc:eddsa")];

fn header(token: &str) -> Value {
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&oidc_testkit::keys::b64_decode(h).unwrap()).unwrap()
}

#[test]
fn real_idp_tokens_validate_through_discovery_and_follow_rotation() {
    let idp = RealIdp::start();
    // Trust via the environment, as operators behind a corporate CA do.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &idp.ca_file);
        std::env::remove_var("CURL_CA_BUNDLE");
        std::env::remove_var("REQUESTS_CA_BUNDLE");
    }
    let mut cfg = Config::new(&idp.issuer);
    cfg.audiences = RESOURCES.iter().map(|(_, r)| r.to_string()).collect();
    cfg.expected_typ = Some("at+jwt".into());
    cfg.required_claims = vec!["sub".into(), "client_id".into()];
    let client = Client::new(cfg).unwrap();

    for (alg, resource) in RESOURCES {
        let token = idp.token(resource, "read write");
        assert_eq!(header(&token)["alg"], alg);
        assert_eq!(header(&token)["typ"], "at+jwt");
        let v = client.validate(&token).unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        let claims: Value = serde_json::from_str(&v.claims).unwrap();
        assert_eq!(claims["iss"], idp.issuer.as_str());
        assert_eq!(claims["aud"], resource);
        assert_eq!(claims["client_id"], "svc-basic");
        assert_eq!(claims["scope"], "read write");
        assert_eq!(v.alg.name(), alg);
    }
    assert_eq!(idp.jwks_fetches(), 1, "one JWKS fetch for all four algorithms");

    // A client that only trusts the system store cannot talk to this IdP.
    unsafe { std::env::remove_var("SSL_CERT_FILE") };
    let mut cfg = Config::new(&idp.issuer);
    cfg.audiences = vec!["urn:liboidc:rs256".into()];
    let untrusting = Client::new(cfg).unwrap();
    assert_eq!(untrusting.validate(&idp.token("urn:liboidc:rs256", "read")).unwrap_err().kind(), ErrorKind::Tls);

    // A client whose audience is another resource rejects the token.
    let mut cfg = Config::new(&idp.issuer);
    cfg.audiences = vec!["urn:liboidc:es256".into()];
    cfg.ca_file = Some(idp.ca_file.clone());
    let other = Client::new(cfg).unwrap();
    assert_eq!(other.validate(&idp.token("urn:liboidc:rs256", "read")).unwrap_err().kind(), ErrorKind::AudienceMismatch);

    // Rotation: new keys sign at once; the client follows with exactly one refresh, from
    // sixteen threads at once.
    let old_tokens: Vec<String> = RESOURCES.iter().map(|(_, r)| idp.token(r, "read")).collect();
    let before = idp.jwks_fetches();
    let rotated = idp.admin_post("/rotate");
    assert!(rotated["generation"].as_u64().unwrap() >= 2, "{rotated}");
    common::validate_concurrently(&client, &idp.token("urn:liboidc:es256", "read"), 16, "rotated token validates");
    assert_eq!(idp.jwks_fetches(), before + 1, "one refresh for the new kid");
    for (alg, resource) in RESOURCES {
        client.validate(&idp.token(resource, "read")).unwrap_or_else(|e| panic!("after rotation {alg}: {e:?}"));
    }
    // Old keys are still published (overlap), so tokens issued before rotation stay valid.
    for t in &old_tokens {
        client.validate(t).expect("pre-rotation token during overlap");
    }
    assert_eq!(idp.jwks_fetches(), before + 1);

    // Another rotation inside the cooldown: the refresh above found a new kid, which allows one
    // early follow-up refresh (issue 10 item 4), so the newest key's tokens validate at once.
    idp.admin_post("/rotate?drop_old=1");
    let fresh = idp.token("urn:liboidc:rs256", "read");
    client.validate(&fresh).expect("second rotation inside the cooldown is followed");
    assert_eq!(idp.jwks_fetches(), before + 2, "one follow-up refresh");
    // A client sharing the key-set entry (a manual clock stands in for 31 s of waiting) sees
    // the refreshed keys without a fetch.
    let clock = oidc::core::Clock::manual();
    let mut cfg = Config::new(&idp.issuer);
    cfg.audiences = vec!["urn:liboidc:rs256".into()];
    cfg.ca_file = Some(idp.ca_file.clone());
    cfg.clock = clock.clone();
    let later = Client::new(cfg).unwrap();
    clock.advance(std::time::Duration::from_secs(31));
    later.validate(&fresh).expect("shared refreshed keys");
    assert_eq!(idp.jwks_fetches(), before + 2);
    // Tokens signed with the dropped keys are now rejected.
    later.validate(&old_tokens[0]).expect_err("dropped key");
}
