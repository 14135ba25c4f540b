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
    for name in ["rs256", "ps256-any", "rs512-any", "es256", "es384-nokid"] {
        let t = String::from_utf8(seed("validate_token", name)).unwrap();
        c.validate_at(&t, NOW).unwrap_or_else(|e| panic!("seed {name}: {e:?}"));
    }
    for name in ["expired", "wrong-iss", "enc-key", "eddsa-any-aud"] {
        let t = String::from_utf8(seed("validate_token", name)).unwrap();
        assert!(c.validate_at(&t, NOW).is_err(), "seed {name} should be refused by client A");
    }
}

#[test]
fn seed_requests_reach_acceptance() {
    let c = client_a();
    for name in ["bearer", "dpop-es256", "dpop-eddsa", "mtls"] {
        let s = seed("authenticate", name);
        let mut lines = s.split(|&b| b == b'\n');
        assert_eq!(lines.next(), Some(&b"0"[..]));
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
        let d = c.authenticate(&req).unwrap();
        assert!(d.allowed(), "seed {name}: {:?}", d.outcome.err());
    }
}
