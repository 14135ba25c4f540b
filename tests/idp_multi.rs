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

// ---------------------------------------------------------------------------------------------
// An issuer template over the tenants of one real IdP (`--tenants`: one oidc-provider per
// tenant at ISSUER/tenants/<tenant>, each with its own keys; access tokens carry `tid`).
// ---------------------------------------------------------------------------------------------

use oidc::core::{TenantBounds, Tenants};
use oidc_testkit::{Alg, TestKey, keys};
use std::time::Duration;

const AUD: &str = "urn:liboidc:rs256";

fn discovery_path(tenant: &str) -> String {
    format!("/tenants/{tenant}/.well-known/openid-configuration")
}

/// One validator whose only issuer is the template `ISSUER/tenants/{tenant}`.
fn template_validator(idp: &RealIdp, tenants: Tenants, bounds: TenantBounds, tenant_claim: Option<&str>) -> Client {
    let mut cfg = Config::new("");
    cfg.audiences = vec![AUD.into()];
    cfg.expected_typ = Some("at+jwt".into());
    cfg.ca_file = Some(idp.ca_file.clone());
    let mut ic = IssuerConfig::new(format!("{}/tenants/{{tenant}}", idp.issuer));
    ic.tenants = Some(tenants);
    ic.tenant_bounds = bounds;
    if let Some(c) = tenant_claim {
        ic.tenant_claim = c.into();
    }
    cfg.issuers.push(ic);
    Client::new(cfg).expect("template validator")
}

fn claims_of(v: &oidc::core::Validated) -> Value {
    serde_json::from_str(&v.claims).unwrap()
}

/// Requests the IdP saw under /tenants/<prefix>… (any path), from its admin /stats.
fn hits_under(idp: &RealIdp, prefix: &str) -> u64 {
    let stats = idp.admin_get("/stats");
    let p = format!("/tenants/{prefix}");
    stats["paths"].as_object().unwrap().iter().filter(|(k, _)| k.starts_with(&p)).map(|(_, v)| v.as_u64().unwrap()).sum()
}

#[test]
fn a_template_issuer_over_real_tenants_with_an_allow_list() {
    let idp = RealIdp::start_with_tenants(&["t1", "t2", "t3"]);
    let allow = Tenants::AllowList(vec!["t1".into(), "t2".into()]);
    let c = template_validator(&idp, allow.clone(), TenantBounds::default(), None);
    for _ in 0..3 {
        for t in ["t1", "t2"] {
            let tok = idp.tenant_token(t, "svc-basic", "svc-basic-secret", AUD, "read");
            let v = c.validate(&tok).unwrap_or_else(|e| panic!("tenant {t}: {e:?}"));
            let claims = claims_of(&v);
            assert_eq!(claims["iss"], idp.tenant_issuer(t));
            assert_eq!(claims["tid"], t);
        }
    }
    // Each allowed tenant's discovery and keys: fetched once, from its own issuer path.
    for t in ["t1", "t2"] {
        assert_eq!(idp.path_hits(&discovery_path(t)), 1, "{t} discovery");
        assert_eq!(idp.path_hits(&format!("/tenants/{t}/jwks")), 1, "{t} jwks");
    }
    // t3 is a real tenant of the IdP, with a genuine token, but not on the allow-list: refused
    // by the issuer check, before any request for it.
    let t3 = idp.tenant_token("t3", "svc-basic", "svc-basic-secret", AUD, "read");
    let e = c.validate(&t3).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::IssuerMismatch, "{e:?}");
    assert!(e.message().contains("not an allowed tenant"), "{}", e.message());
    assert_eq!(idp.path_hits(&discovery_path("t3")), 0);
    assert_eq!(idp.path_hits("/tenants/t3/jwks"), 0);
    // The IdP's own (non-tenant) issuer is not the template's: refused, no request.
    let root = idp.token(AUD, "read");
    assert_eq!(c.validate(&root).unwrap_err().kind(), ErrorKind::IssuerMismatch);
    assert_eq!(idp.path_hits("/.well-known/openid-configuration"), 0);

    // (c) A genuine, correctly signed token of t1 whose tenant claim names t2 (the IdP's client
    // svc-foreign gets `tid` of the next tenant): the tid disagrees with the tenant in iss.
    let foreign = idp.tenant_token("t1", "svc-foreign", "svc-foreign-secret", AUD, "read");
    let fc: Value = {
        use base64::Engine;
        let p = foreign.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
    };
    assert_eq!((fc["iss"].as_str().unwrap(), fc["tid"].as_str().unwrap()), (idp.tenant_issuer("t1"), "t2"));
    let e = c.validate(&foreign).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::IssuerMismatch, "{e:?}");
    assert!(e.message().contains("tenant claim 'tid' does not match"), "{}", e.message());
    // The same with the tenant claim configured to one the IdP sets to something else
    // (`client_id` = svc-basic): an ordinary t1 token is refused; a missing claim is MissingClaim.
    let by_client_id = template_validator(&idp, allow.clone(), TenantBounds::default(), Some("client_id"));
    let t1 = idp.tenant_token("t1", "svc-basic", "svc-basic-secret", AUD, "read");
    assert_eq!(by_client_id.validate(&t1).unwrap_err().kind(), ErrorKind::IssuerMismatch);
    let by_absent = template_validator(&idp, allow, TenantBounds::default(), Some("tenant_id"));
    assert_eq!(by_absent.validate(&t1).unwrap_err().kind(), ErrorKind::MissingClaim);
    // Still one discovery per tenant per validator (three validators fetched t1: 3).
    assert_eq!(idp.path_hits(&discovery_path("t1")), 3);
    assert_eq!(idp.path_hits(&discovery_path("t2")), 1);
    assert_eq!(idp.admin_get("/stats")["unknown_tenants"], 0);
}

#[test]
fn a_flood_of_made_up_tenants_costs_a_bounded_number_of_discovery_requests_at_the_real_idp() {
    let idp = RealIdp::start_with_tenants(&["t1", "t2", "t3"]);
    let bounds = TenantBounds { max_tenants: 8, new_per_window: 5, window: Duration::from_secs(3600), max_in_flight: 2 };
    let c = template_validator(&idp, Tenants::Any, bounds, None);
    for t in ["t1", "t2"] {
        let tok = idp.tenant_token(t, "svc-basic", "svc-basic-secret", AUD, "read");
        c.validate(&tok).unwrap_or_else(|e| panic!("tenant {t}: {e:?}"));
    }
    // 200 distinct made-up tenants of the template, in tokens the test signs itself (the IdP
    // knows none of them: their discovery answers 404), validated from 4 threads at once.
    let key = TestKey::generate(Alg::RS256);
    let fakes: Vec<String> = (0..200)
        .map(|i| {
            let t = format!("fake-{i}");
            let mut cl = keys::claims(&format!("{}/tenants/{t}", idp.issuer), AUD, "attacker", 300);
            cl["tid"] = t.clone().into();
            key.sign(&cl)
        })
        .collect();
    let kinds: Vec<ErrorKind> = std::thread::scope(|s| {
        let hs: Vec<_> = fakes
            .chunks(50)
            .map(|chunk| {
                let c = &c;
                s.spawn(move || chunk.iter().map(|tok| c.validate(tok).expect_err("a made-up tenant validated").kind()).collect::<Vec<_>>())
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    // One window admits 5 new tenants: t1, t2 and at most 3 made up, each one discovery
    // request (a 404, answered from the negative entry afterwards); the rest are refused
    // without a request.
    let fake_requests = hits_under(&idp, "fake-");
    let fake_discoveries: u64 = (0..200).map(|i| idp.path_hits(&discovery_path(&format!("fake-{i}")))).sum();
    eprintln!("made-up tenants: {fake_discoveries} discovery requests, {fake_requests} requests in all at the IdP");
    assert!(fake_discoveries <= 3, "{fake_discoveries}");
    assert_eq!(fake_requests, fake_discoveries, "only discovery was requested for made-up tenants");
    assert_eq!(idp.admin_get("/stats")["unknown_tenants"].as_u64(), Some(fake_requests));
    let r = c.router().unwrap();
    assert_eq!(r.tenants_refused(0), 200 - fake_discoveries);
    // The admitted ones get the failed discovery's answer (HTTP 404); the refused ones the bound's.
    let count = |k: ErrorKind| kinds.iter().filter(|x| **x == k).count() as u64;
    assert_eq!(count(ErrorKind::HttpStatus), fake_discoveries, "{kinds:?}");
    assert_eq!(count(ErrorKind::KeysUnavailable), 200 - fake_discoveries, "{kinds:?}");
    assert!(r.tenants_held(0) <= 8);
    // The valid tenants still validate, from their cached keys (no new requests).
    let before = (idp.path_hits(&discovery_path("t1")), idp.path_hits(&discovery_path("t2")));
    for t in ["t1", "t2"] {
        let tok = idp.tenant_token(t, "svc-basic", "svc-basic-secret", AUD, "read");
        let v = c.validate(&tok).unwrap_or_else(|e| panic!("tenant {t} after the flood: {e:?}"));
        assert_eq!(claims_of(&v)["tid"], t);
    }
    assert_eq!((idp.path_hits(&discovery_path("t1")), idp.path_hits(&discovery_path("t2"))), before);
    assert_eq!(before, (1, 1));
    // The cost of the bound: a real tenant first seen in the same window is refused too (it
    // would be admitted in the next window), again without a request.
    let t3 = idp.tenant_token("t3", "svc-basic", "svc-basic-secret", AUD, "read");
    assert_eq!(c.validate(&t3).unwrap_err().kind(), ErrorKind::KeysUnavailable);
    assert_eq!(idp.path_hits(&discovery_path("t3")), 0);
}
