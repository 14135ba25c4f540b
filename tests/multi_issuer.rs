//! Several issuers in one validator, issuer templates and their bounds (issue 12), over
//! loopback HTTPS issuers served by the fixture (real TLS, real HTTP).

mod common;

use common::*;
use oidc::core::{Client, Config, ErrorKind, IssuerConfig, KeySource, TenantBounds, Tenants};
use serde_json::json;

fn kind(r: Result<oidc::core::Validated, oidc::core::Error>) -> Option<ErrorKind> {
    r.err().map(|e| e.kind())
}

/// Two issuers (A the validator's own, B added) on two fixture servers.
fn two() -> (TestKey, Idp, TestKey, Idp, Client) {
    let (ka, kb) = (TestKey::generate(Alg::RS256), TestKey::generate(Alg::ES256));
    let (a, b) = (idp(&[&ka]), idp(&[&kb]));
    let mut cfg = a.config();
    let mut ib = IssuerConfig::new(&b.issuer);
    ib.audiences = vec!["api-b".into()];
    cfg.issuers.push(ib);
    // One CA per fixture: trust both through a bundle.
    let bundle = std::env::temp_dir().join(format!("multi-ca-{}-{}.pem", std::process::id(), a.srv.port()));
    std::fs::write(&bundle, format!("{}{}", a.ca.ca_pem(), b.ca.ca_pem())).unwrap();
    cfg.ca_file = Some(bundle);
    let c = Client::new(cfg).expect("multi-issuer client");
    (ka, a, kb, b, c)
}

#[test]
fn each_issuer_is_checked_against_its_own_rules_and_keys() {
    let (ka, a, kb, b, c) = two();
    let ta = ka.sign(&a.claims());
    c.validate(&ta).expect("issuer A");
    let tb = kb.sign(&keys::claims(&b.issuer, "api-b", "bob", 300));
    c.validate(&tb).expect("issuer B");
    // B's audience is B's own: "api" (A's) is refused for a B token, and vice versa.
    assert_eq!(kind(c.validate(&kb.sign(&keys::claims(&b.issuer, "api", "bob", 300)))), Some(ErrorKind::AudienceMismatch));
    assert_eq!(kind(c.validate(&ka.sign(&keys::claims(&a.issuer, "api-b", "bob", 300)))), Some(ErrorKind::AudienceMismatch));
    // Cross-issuer key confusion: iss names A, signed with B's key (same kid as B publishes).
    let forged = kb.sign(&a.claims());
    assert_eq!(kind(c.validate(&forged)), Some(ErrorKind::UnknownKey));
    let forged = ka.sign(&keys::claims(&b.issuer, "api-b", "bob", 300));
    assert_eq!(kind(c.validate(&forged)), Some(ErrorKind::UnknownKey));
    // B's key under A's kid: A's key is found and the signature does not verify.
    let kb_as_a = kb.with_kid(ka.kid());
    let forged = kb_as_a.sign(&a.claims());
    assert!(matches!(kind(c.validate(&forged)), Some(ErrorKind::AlgorithmNotAllowed | ErrorKind::SignatureInvalid)));
    // Each issuer's keys were fetched from its own server only.
    assert_eq!(a.srv.hits(DISCOVERY), 1);
    assert_eq!(b.srv.hits(DISCOVERY), 1);
}

#[test]
fn an_unknown_issuer_costs_no_request() {
    let (ka, a, _kb, b, c) = two();
    let before = (a.srv.all_hits(), b.srv.all_hits());
    let t = ka.sign(&keys::claims("https://evil.example", "api", "x", 300));
    assert_eq!(kind(c.validate(&t)), Some(ErrorKind::IssuerMismatch));
    let t = ka.sign(&keys::claims(&format!("{}/", a.issuer), "api", "x", 300));
    assert_eq!(kind(c.validate(&t)), Some(ErrorKind::IssuerMismatch), "exact match only");
    let t = ka.sign(&json!({"aud": "api", "exp": 4_000_000_000u64, "sub": "x"}));
    assert_eq!(kind(c.validate(&t)), Some(ErrorKind::MissingClaim));
    let t = ka.sign(&json!({"iss": 5, "aud": "api", "exp": 4_000_000_000u64}));
    assert_eq!(kind(c.validate(&t)), Some(ErrorKind::InvalidClaim));
    assert_eq!(kind(c.validate("garbage")), Some(ErrorKind::TokenMalformed));
    assert_eq!((a.srv.all_hits(), b.srv.all_hits()), before, "no network for an unknown issuer");
}

#[test]
fn one_issuer_decides_as_before() {
    let k = TestKey::generate(Alg::RS256);
    let i = idp(&[&k]);
    let single = i.client();
    // The same issuer as the only entry of an issuer table.
    let mut cfg = i.config();
    let issuer = std::mem::take(&mut cfg.issuer);
    let mut ic = IssuerConfig::new(issuer);
    ic.audiences = vec!["api".into()];
    cfg.issuers.push(ic);
    let table = Client::new(cfg).unwrap();
    let cases = [
        k.sign(&i.claims()),
        k.sign(&keys::claims(&i.issuer, "other", "a", 300)),
        k.sign(&keys::claims(&i.issuer, "api", "a", -300)),
        k.sign(&keys::claims("https://x.example", "api", "a", 300)),
        "a.b.c".to_string(),
        String::new(),
    ];
    for t in &cases {
        assert_eq!(kind(single.validate(t)), kind(table.validate(t)), "{t}");
    }
}

#[test]
fn configuration_errors_surface_at_build() {
    let mut c = Config::new("https://a.example");
    c.audiences = vec!["api".into()];
    c.issuers.push(IssuerConfig::new("https://a.example"));
    assert_eq!(Client::new(c.clone()).unwrap_err().kind(), ErrorKind::InvalidConfig, "duplicate");
    c.issuers = vec![IssuerConfig::new("http://b.example")];
    assert_eq!(Client::new(c.clone()).unwrap_err().kind(), ErrorKind::InsecureUrl);
    c.issuers = vec![IssuerConfig::new("https://login.example/{tenant}/v2.0")];
    let e = Client::new(c.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.message().contains("any tenant"), "{}", e.message());
    let mut s = IssuerConfig::new("https://login.example/{tenant}/v2.0");
    s.tenants = Some(Tenants::Any);
    s.key_source = KeySource::Static(jwks(&[]));
    c.issuers = vec![s];
    assert_eq!(Client::new(c).unwrap_err().kind(), ErrorKind::InvalidConfig, "a template discovers keys per tenant");
    // No issuer at all, and an added issuer without audiences when the validator has none.
    let mut c = Config::new("");
    c.issuers.push(IssuerConfig::new("https://b.example"));
    assert_eq!(Client::new(c).unwrap_err().kind(), ErrorKind::InvalidConfig);
}

/// A template issuer `{base}/{tenant}` whose tenants are served by one fixture.
fn tenant_idp(tenants: &[(&str, &TestKey)]) -> (TestCa, FixtureServer) {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    for (t, k) in tenants {
        let iss = srv.url(&format!("/{t}"));
        srv.set_route(
            &format!("/{t}{DISCOVERY}"),
            Route::json(&oidc_testkit::server::oidc_discovery(&iss, &srv.url(&format!("/{t}/jwks")))),
        );
        srv.set_route(&format!("/{t}/jwks"), Route::json(&oidc_testkit::jwks_value(&[k])));
    }
    (ca, srv)
}

fn template_client(ca: &TestCa, srv: &FixtureServer, tenants: Tenants, bounds: TenantBounds) -> Client {
    let mut cfg = Config::new("");
    cfg.audiences = vec!["api".into()];
    cfg.ca_file = Some(ca.ca_pem_path());
    let mut ic = IssuerConfig::new(format!("{}/{{tenant}}", srv.base_url()));
    ic.tenants = Some(tenants);
    ic.tenant_bounds = bounds;
    cfg.issuers.push(ic);
    Client::new(cfg).expect("template client")
}

fn tenant_claims(srv: &FixtureServer, iss_tenant: &str, tid: &str) -> serde_json::Value {
    let mut c = keys::claims(&srv.url(&format!("/{iss_tenant}")), "api", "u", 300);
    c["tid"] = json!(tid);
    c
}

#[test]
fn a_template_serves_several_tenants_with_their_own_keys() {
    let (k1, k2) = (TestKey::generate(Alg::RS256), TestKey::generate(Alg::RS256));
    let (ca, srv) = tenant_idp(&[("t1", &k1), ("t2", &k2)]);
    let c = template_client(&ca, &srv, Tenants::AllowList(vec!["t1".into(), "t2".into()]), TenantBounds::default());
    c.validate(&k1.sign(&tenant_claims(&srv, "t1", "t1"))).expect("tenant t1");
    c.validate(&k2.sign(&tenant_claims(&srv, "t2", "t2"))).expect("tenant t2");
    // t1's iss with t2's key: t1's keys do not hold it.
    assert_eq!(kind(c.validate(&k2.sign(&tenant_claims(&srv, "t1", "t1")))), Some(ErrorKind::UnknownKey));
    // The tenant claim must equal the tenant in iss.
    assert_eq!(kind(c.validate(&k1.sign(&tenant_claims(&srv, "t1", "t2")))), Some(ErrorKind::IssuerMismatch));
    let mut no_tid = tenant_claims(&srv, "t1", "t1");
    no_tid.as_object_mut().unwrap().remove("tid");
    assert_eq!(kind(c.validate(&k1.sign(&no_tid))), Some(ErrorKind::MissingClaim));
    // A tenant outside the allow-list, or malformed, costs no request.
    let before = srv.all_hits();
    assert_eq!(kind(c.validate(&k1.sign(&tenant_claims(&srv, "t3", "t3")))), Some(ErrorKind::IssuerMismatch));
    assert_eq!(kind(c.validate(&k1.sign(&tenant_claims(&srv, "a/../t1", "t1")))), Some(ErrorKind::IssuerMismatch));
    assert_eq!(kind(c.validate(&k1.sign(&tenant_claims(&srv, "", "")))), Some(ErrorKind::IssuerMismatch));
    assert_eq!(srv.all_hits(), before);
    assert_eq!(srv.hits(&format!("/t1{DISCOVERY}")), 1);
    assert_eq!(srv.hits(&format!("/t2{DISCOVERY}")), 1);
}

#[test]
fn a_flood_of_made_up_tenants_costs_a_bounded_number_of_discovery_requests() {
    let k = TestKey::generate(Alg::RS256);
    let (ca, srv) = tenant_idp(&[("real", &k)]);
    let bounds = TenantBounds { max_tenants: 8, new_per_window: 5, window: std::time::Duration::from_secs(3600), max_in_flight: 2 };
    let c = template_client(&ca, &srv, Tenants::Any, bounds);
    c.validate(&k.sign(&tenant_claims(&srv, "real", "real"))).expect("a real tenant");
    let mut refused = 0;
    for i in 0..200 {
        let t = format!("fake{i}");
        match kind(c.validate(&k.sign(&tenant_claims(&srv, &t, &t)))) {
            Some(ErrorKind::KeysUnavailable) => refused += 1,
            Some(_) => {}
            None => panic!("a made-up tenant validated"),
        }
    }
    // One window admits 5 new tenants (the real one and 4 made up); the rest are refused.
    let fake_discoveries: usize = (0..200).map(|i| srv.hits(&format!("/fake{i}{DISCOVERY}"))).sum();
    assert_eq!(fake_discoveries, 4, "{:?}", srv.all_hits());
    assert_eq!(refused, 196);
    let r = c.router().unwrap();
    assert_eq!(r.tenants_refused(0), 196);
    assert!(r.tenants_held(0) <= 8);
    // A made-up tenant seen again is answered from its negative entry, without a request.
    let again = srv.all_hits();
    assert!(kind(c.validate(&k.sign(&tenant_claims(&srv, "fake0", "fake0")))).is_some());
    assert_eq!(srv.all_hits(), again);
    // The real tenant still validates from its cache.
    c.validate(&k.sign(&tenant_claims(&srv, "real", "real"))).expect("the real tenant still works");
}

#[test]
fn a_repeated_token_routed_by_the_hint_decides_as_by_iss() {
    let (ka, a, kb, b, c) = two();
    let ta = ka.sign(&a.claims());
    let tb = kb.sign(&keys::claims(&b.issuer, "api-b", "bob", 300));
    for _ in 0..3 {
        c.validate(&ta).expect("A, hinted after the first");
        c.validate(&tb).expect("B, hinted after the first");
    }
    // The hint for A's token does not survive a token with the same tail naming B (the tail is
    // the signature: a forged token reusing A's signature under B's iss).
    let (h, _p, s) = {
        let mut it = ta.split('.');
        (it.next().unwrap().to_string(), it.next().unwrap().to_string(), it.next().unwrap().to_string())
    };
    let forged = format!("{h}.{}.{s}", b64_json(&keys::claims(&b.issuer, "api-b", "bob", 300)));
    assert!(c.validate(&forged).is_err());
    // A token that expired after it was hinted gets A's own answer.
    let short = ka.sign(&keys::claims(&a.issuer, "api", "x", 1));
    c.validate(&short).expect("fresh");
    let later = oidc::core::client::unix_now() + 120.0;
    assert_eq!(kind(c.validate_at(&short, later)), Some(ErrorKind::TokenExpired));
}

/// A signed token whose payload is not one JSON object (a duplicate member) is TOKEN_MALFORMED
/// under several issuers too, as a single issuer answers (not "no iss claim").
#[test]
fn a_payload_with_a_duplicate_member_is_malformed_as_for_one_issuer() {
    let (ka, a, _kb, _b, c) = two();
    let header = oidc_testkit::b64_json(&keys::default_header(&ka));
    let exp = 4_000_000_000u64;
    let payload = oidc_testkit::b64(format!(r#"{{"iss":"{}","iss":"{}","aud":"api","sub":"x","exp":{exp}}}"#, a.issuer, a.issuer));
    let input = format!("{header}.{payload}");
    let t = format!("{input}.{}", oidc_testkit::b64(ka.sign_raw(&input)));
    assert_eq!(kind(c.validate(&t)), Some(ErrorKind::TokenMalformed));
    let doc: serde_json::Value = serde_json::from_str(&c.explain_at(&t, 1_800_000_000.0)).unwrap();
    assert_eq!(doc["decision"], "deny");
    assert_eq!(doc["code"], "TokenMalformed", "{doc}");
}

/// The router reads `iss` from a decoded prefix of the payload when it can: tokens whose `iss`
/// stands before, across and after the prefix's end route the same (every one is accepted).
#[test]
fn iss_before_across_and_after_the_routing_prefix() {
    let (ka, a, _kb, _b, c) = two();
    for pad in (120..330).step_by(3) {
        let mut claims = a.claims();
        // "aaa" sorts before "iss" (serde_json objects are ordered by name here).
        claims["aaa"] = json!("p".repeat(pad));
        let t = ka.sign(&claims);
        c.validate(&t).unwrap_or_else(|e| panic!("pad {pad}: {e:?}"));
        // And a forged issuer in the same place is still refused.
        claims["iss"] = json!("https://evil.example");
        assert_eq!(kind(c.validate(&ka.sign(&claims))), Some(ErrorKind::IssuerMismatch), "pad {pad}");
    }
}
