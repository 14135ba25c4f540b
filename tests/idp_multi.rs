//! Two real identity providers (oidc-provider, tests/idp/server.mjs, each with its own CA and
//! keys) validated by one validator (issue 12).

mod common;

use common::real_idp::RealIdp;
use oidc::core::{Client, Config, ErrorKind, IssuerConfig};
use serde_json::Value;

#[test]
fn two_real_issuers_validated_by_one_validator() {
    let (a, b) = (RealIdp::start(), RealIdp::start());
    assert_ne!(a.issuer, b.issuer);
    let bundle = a.dir.join("two-cas.pem");
    let pem = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    std::fs::write(&bundle, pem(&a.ca_file) + &pem(&b.ca_file)).unwrap();
    let mut cfg = Config::new(&a.issuer);
    cfg.audiences = vec!["urn:liboidc:rs256".into()];
    cfg.expected_typ = Some("at+jwt".into());
    cfg.ca_file = Some(bundle);
    let mut ib = IssuerConfig::new(&b.issuer);
    ib.audiences = vec!["urn:liboidc:es256".into()];
    cfg.issuers.push(ib);
    let client = Client::new(cfg).unwrap();

    for _ in 0..3 {
        let ta = a.token("urn:liboidc:rs256", "read");
        let v = client.validate(&ta).unwrap_or_else(|e| panic!("issuer A: {e:?}"));
        let claims: Value = serde_json::from_str(&v.claims).unwrap();
        assert_eq!(claims["iss"], a.issuer.as_str());
        let tb = b.token("urn:liboidc:es256", "read");
        let v = client.validate(&tb).unwrap_or_else(|e| panic!("issuer B: {e:?}"));
        let claims: Value = serde_json::from_str(&v.claims).unwrap();
        assert_eq!(claims["iss"], b.issuer.as_str());
    }
    // Each issuer's own audiences: B's token for A's resource is refused.
    let tb = b.token("urn:liboidc:rs256", "read");
    assert_eq!(client.validate(&tb).unwrap_err().kind(), ErrorKind::AudienceMismatch);
    // One key-set fetch per issuer, from its own server.
    assert_eq!(a.jwks_fetches(), 1);
    assert_eq!(b.jwks_fetches(), 1);
}
