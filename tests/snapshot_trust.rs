//! Issue 10 item 14 (part): snapshots are trust anchors. An import never replaces keys fetched
//! live, and imported metadata whose jwks_uri is not on the issuer's origin is ignored (the
//! issuer is rediscovered live).

mod common;

use std::time::Instant;

use common::*;
use oidc::core::cache::CachePolicy;
use oidc::core::{Config, ErrorKind, snapshot};
use serde_json::{Value, json};

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

#[test]
fn an_import_never_replaces_keys_fetched_live() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = idp.client();
    client.validate(&k.sign(&idp.claims())).unwrap();
    // An edited snapshot: the same JWKS URL and trust, a forged key, a later expiry.
    let mut snap: Value = serde_json::from_str(&snapshot::export(Some(&client)).unwrap()).unwrap();
    let forged = TestKey::generate(Alg::ES256);
    snap["key_sets"][0]["jwks"] = oidc_testkit::jwks_value(&[&forged]);
    snap["key_sets"][0]["expires_at"] = json!(now() + 80_000.0);
    snap["metadata"] = json!([]);
    let policy = CachePolicy::from_config(&Config::new(""));
    let r = snapshot::import(&snap.to_string(), &policy, Instant::now()).unwrap();
    assert_eq!((r.imported, r.skipped), (0, 1), "{r:?}");
    client.validate(&k.sign(&idp.claims())).expect("live keys still serve");
    assert_eq!(kind_of(client.validate(&forged.sign(&idp.claims()))), ErrorKind::UnknownKey, "forged key not injected");
}

#[test]
fn imported_metadata_pointing_off_the_issuers_origin_is_ignored() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = idp.client();
    let trust = client.http().unwrap().trust_id().to_string();
    let mut doc = oidc_testkit::oidc_discovery(&idp.issuer, &idp.srv.url("/jwks"));
    doc["jwks_uri"] = json!("https://attacker.example/jwks");
    let snap = json!({"version": 1, "exported_at": now(), "key_sets": [],
        "metadata": [{"issuer": idp.issuer, "fetched_at": now(), "trust": trust, "document": doc}]});
    let policy = CachePolicy::from_config(&Config::new(""));
    assert_eq!(snapshot::import(&snap.to_string(), &policy, Instant::now()).unwrap().imported, 1);
    client.validate(&k.sign(&idp.claims())).expect("rediscovered live");
    assert_eq!(idp.srv.hits(DISCOVERY), 1, "the imported document was not used");
    assert_eq!(client.metadata().unwrap().jwks_uri, idp.srv.url("/jwks"));
}

/// Imported metadata is bound to the trust it was fetched under, as imported key sets are: a
/// client trusting something else rediscovers live; the same trust uses it (no discovery).
#[test]
fn imported_metadata_serves_only_the_same_trust() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = idp.client();
    let trust = client.http().unwrap().trust_id();
    let doc = oidc_testkit::oidc_discovery(&idp.issuer, &idp.srv.url("/jwks"));
    let policy = CachePolicy::from_config(&Config::new(""));
    for (t, used) in [(trust.wrapping_add(1), false), (trust, true)] {
        let snap = json!({"version": 1, "exported_at": now(), "key_sets": [],
            "metadata": [{"issuer": idp.issuer, "fetched_at": now(), "trust": t.to_string(), "document": doc}]});
        snapshot::import(&snap.to_string(), &policy, Instant::now()).unwrap();
        let c = idp.client();
        let before = idp.srv.hits(DISCOVERY);
        c.discover().unwrap();
        assert_eq!(idp.srv.hits(DISCOVERY) == before, used, "trust {t} (client's {trust})");
    }
    // A document without its trust is skipped at import.
    let snap = json!({"version": 1, "exported_at": now(), "key_sets": [],
        "metadata": [{"issuer": idp.issuer, "fetched_at": now(), "document": doc}]});
    assert_eq!(snapshot::import(&snap.to_string(), &policy, Instant::now()).unwrap().skipped, 1);
}
