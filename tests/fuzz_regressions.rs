//! Inputs the fuzz targets (fuzz/) found, as normal tests, and a check that the checked-in seed
//! corpora still reach the accepting paths (seeds signed by fuzz/fixtures/jwks.json, valid at
//! the fuzz targets' fixed time).

use oidc::core::authn::RequestInput;
use oidc::core::{Client, Config, KeySource};

/// The fuzz targets' fixed "now" (`oidc_fuzz::NOW`).
const NOW: f64 = 1_800_000_000.0;
const ISSUER: &str = "https://issuer.fuzz.test";
const JWKS: &str = include_str!("../fuzz/fixtures/jwks.json");

fn seed(target: &str, name: &str) -> Vec<u8> {
    let p = format!("{}/fuzz/seeds/{target}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Client A of the `validate_token` target (and client 0 of `authenticate`).
fn client_a() -> Client {
    let mut c = Config::new(ISSUER);
    c.key_source = KeySource::Static(JWKS.to_string());
    c.audiences = vec!["api://fuzz".into(), "api://other".into()];
    c.set_dpop_algorithms(["ES256", "EdDSA"]).unwrap();
    Client::new(c).unwrap()
}

#[test]
fn seed_tokens_reach_acceptance() {
    let c = client_a();
    for name in ["rs256", "ps256-any", "rs512-any", "es256", "es384-nokid", "typ-jwt"] {
        let t = String::from_utf8(seed("validate_token", name)).unwrap();
        c.validate_at(&t, NOW).unwrap_or_else(|e| panic!("seed {name}: {e:?}"));
    }
    // Near misses: authentic tokens that break one rule each.
    for name in [
        "expired",
        "wrong-iss",
        "enc-key",
        "eddsa-any-aud",
        "wrong-aud",
        "future-nbf",
        "future-iat",
        "no-exp",
        "crit",
        "rs384-on-rs256-key",
    ] {
        let t = String::from_utf8(seed("validate_token", name)).unwrap();
        assert!(c.validate_at(&t, NOW).is_err(), "seed {name} should be refused by client A");
    }
}

/// Client 1 of the `authenticate` target: DPoP required, server nonces, scope `read`,
/// `client_id` in {svc, web}, realm.
fn client_1() -> Client {
    let mut c = Config::new(ISSUER);
    c.key_source = KeySource::Static(JWKS.to_string());
    c.audiences = vec!["api://fuzz".into(), "api://other".into()];
    c.set_dpop_algorithms(["ES256", "EdDSA"]).unwrap();
    c.resource.dpop.mode = oidc::core::DpopMode::Required;
    c.resource.dpop.nonce_secret = Some(oidc::core::config::NonceSecret(b"fuzz-nonce-secret-0123456789abcdef".to_vec()));
    c.resource.dpop.nonce_lifetime = std::time::Duration::from_secs(300);
    c.add_required_scope("read").unwrap();
    c.add_claim_value("client_id", "svc").unwrap();
    c.add_claim_value("client_id", "web").unwrap();
    c.realm = Some("api".into());
    Client::new(c).unwrap()
}

/// The request of an `authenticate` seed, and the client it names.
fn request(name: &str) -> (u8, RequestInput) {
    let s = seed("authenticate", name);
    let mut lines = s.split(|&b| b == b'\n');
    let which = lines.next().unwrap()[0] - b'0';
    let method = String::from_utf8(lines.next().unwrap().to_vec()).unwrap();
    let url = String::from_utf8(lines.next().unwrap().to_vec()).unwrap();
    let mut req = RequestInput { method, url, now: Some(NOW), ..Default::default() };
    for l in lines {
        match l {
            [b'A', b':', v @ ..] => req.authorization.push(v.to_vec()),
            [b'D', b':', v @ ..] => req.dpop.push(v.to_vec()),
            [b'C', b':', v @ ..] => req.client_cert_der = Some(v.to_vec()),
            _ => {}
        }
    }
    (which, req)
}

#[test]
fn seed_requests_reach_acceptance() {
    let clients = [client_a(), client_1()];
    let decide = |name: &str| {
        let (which, req) = request(name);
        clients[which as usize].authenticate(&req).unwrap()
    };
    for name in ["bearer", "dpop-es256", "dpop-eddsa", "mtls", "dpop-nonce"] {
        let d = decide(name);
        assert!(d.allowed(), "seed {name}: {:?}", d.outcome.err());
    }
    // Near misses: valid signatures, one binding or rule broken each.
    for name in [
        "none",
        "dpop-no-nonce",
        "dpop-wrong-method",
        "dpop-wrong-key",
        "dpop-wrong-ath",
        "dpop-wrong-htu",
        "dpop-stale",
        "dpop-unbound-token",
        "bearer-bound-token",
        "mtls-wrong-cert",
        "dpop-no-scope",
        "dpop-claim-value",
    ] {
        assert!(!decide(name).allowed(), "seed {name} should be denied");
    }
}

/// `revocation_list_parse` (CI fuzz stage, issue 14): an unknown member holding a byte that is not
/// UTF-8 was skipped unchecked by the typed reading, so a list serde_json itself refuses was
/// accepted. A list must be strict JSON as a whole; so must one with a lone surrogate escape.
#[test]
fn revocation_list_must_be_strict_json() {
    use oidc::core::ErrorKind;
    use oidc::core::revocation::RevocationList;
    let found = include_bytes!("vectors/fuzz-revocation-invalid-utf8.json");
    let surrogate = br#"{"iss":"https://issuer.example","iat":1,"next_update":2,"version":1,"note":"\ud800"}"#;
    for doc in [&found[..], &surrogate[..]] {
        let e = RevocationList::parse_claims(doc, Some("https://issuer.example"), 1_700_000_000).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ResponseInvalid);
    }
    let fine = br#"{"iss":"https://issuer.example","iat":1,"next_update":2,"version":1,"note":"\ud83d\ude00"}"#;
    assert!(RevocationList::parse_claims(fine, Some("https://issuer.example"), 1_700_000_000).is_ok());
}
