//! Request authentication (`Client::authenticate`): `Authorization` and `DPoP` header bytes,
//! method, URL and client certificate, against three resource configurations. Input, lines
//! split at '\n': the client ('0' DPoP allowed, '1' DPoP required with server nonces, a
//! required scope, a claim-value rule and a realm, '2' DPoP disabled and no token cache), the
//! method, the URL, then any number of `A:<Authorization value>`, `D:<DPoP value>` and
//! `C:<client certificate bytes>` lines.
//!
//! Oracle for every ALLOWED request: exactly one Authorization header, whose token passes the
//! forgery oracle of `validate_token`; a Bearer token is not DPoP-bound; a DPoP request has
//! exactly one proof that verifies under its own `jwk` (aws-lc-rs, here), whose thumbprint is
//! the token's `cnf.jkt`, whose `htm` is the method, whose `htu` names the request's URL, whose
//! `ath` is the token's hash and whose `iat` is recent; a certificate-bound token came with that
//! certificate; client '1' gets a current nonce, its scope and its claim value.
#![no_main]

use std::sync::LazyLock;

use aws_lc_rs::digest::{SHA256, digest};
use libfuzzer_sys::fuzz_target;
use oidc::core::authn::RequestInput;
use oidc::core::authn::dpop::normalize_htu;
use oidc::core::authn::nonce;
use oidc::core::config::NonceSecret;
use oidc::core::{Client, Config, DpopMode, KeySource};
use oidc_fuzz::{
    AUDIENCE, AUDIENCE_2, ISSUER, JWKS, NONCE_LIFETIME, NONCE_SECRET, NOW, Obj, OraclePolicy, POLICY_A, assert_rightly_accepted, b64d,
    b64e, verify_with_jwk,
};
use serde_json::Value;

fn client(n: u8) -> Client {
    let mut c = Config::new(ISSUER);
    c.key_source = KeySource::Static(JWKS.to_string());
    c.audiences = vec![AUDIENCE.into(), AUDIENCE_2.into()];
    c.set_dpop_algorithms(["ES256", "EdDSA"]).unwrap();
    match n {
        0 => {}
        1 => {
            c.resource.dpop.mode = DpopMode::Required;
            c.resource.dpop.nonce_secret = Some(NonceSecret(NONCE_SECRET.to_vec()));
            c.resource.dpop.nonce_lifetime = std::time::Duration::from_secs(NONCE_LIFETIME);
            c.add_required_scope("read").unwrap();
            c.add_claim_value("client_id", "svc").unwrap();
            c.add_claim_value("client_id", "web").unwrap();
            c.realm = Some("api".into());
        }
        _ => {
            c.resource.dpop.mode = DpopMode::Disabled;
            c.token_cache_size = 0;
        }
    }
    Client::new(c).expect("fixture client")
}

static CLIENTS: LazyLock<[Client; 3]> = LazyLock::new(|| [client(0), client(1), client(2)]);

fn sha256_b64(b: &[u8]) -> String {
    b64e(digest(&SHA256, b).as_ref())
}

/// The scheme and token of the one Authorization value, as RFC 6750 / RFC 9449 define it.
fn credentials(v: &[u8]) -> (String, String) {
    let s = std::str::from_utf8(v).expect("an accepted Authorization value is UTF-8");
    let (scheme, token) = s.trim_matches([' ', '\t']).split_once(' ').expect("an accepted Authorization value has a scheme and a token");
    (scheme.to_ascii_lowercase(), token.trim_start_matches(' ').to_string())
}

fn check_proof(proof: &[u8], req: &RequestInput, token: &str, jkt: &str, client: usize) {
    let proof = std::str::from_utf8(proof).expect("an accepted proof is UTF-8").trim_matches([' ', '\t']);
    let parts: Vec<&str> = proof.split('.').collect();
    let [h, p, s] = parts[..] else { panic!("FORGERY: accepted DPoP proof has {} segments", parts.len()) };
    let header = Obj::parse(&b64d(h).expect("proof header b64")).expect("proof header JSON");
    let claims = Obj::parse(&b64d(p).expect("proof payload b64")).expect("proof payload JSON");
    let sig = b64d(s).expect("proof signature b64");
    assert_eq!(header.str("typ").as_deref(), Some("dpop+jwt"), "accepted proof typ");
    let alg = header.str("alg").expect("proof alg");
    assert!(alg == "ES256" || alg == "EdDSA", "accepted proof alg {alg} is not configured");
    let Some(Value::Object(jwk)) = header.get("jwk") else { panic!("accepted proof has no jwk object") };
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        assert!(!jwk.contains_key(private), "accepted proof jwk carries private member {private}");
    }
    let crv_ok = match alg.as_str() {
        "ES256" => jwk.get("kty").and_then(Value::as_str) == Some("EC") && jwk.get("crv").and_then(Value::as_str) == Some("P-256"),
        _ => jwk.get("kty").and_then(Value::as_str) == Some("OKP") && jwk.get("crv").and_then(Value::as_str) == Some("Ed25519"),
    };
    assert!(crv_ok, "accepted proof key type does not fit {alg}");
    assert!(
        verify_with_jwk(&jwk, &alg, &proof.as_bytes()[..h.len() + 1 + p.len()], &sig),
        "FORGERY: accepted DPoP proof does not verify under its jwk"
    );
    assert_eq!(oidc_fuzz::thumbprint(&jwk).as_deref(), Some(jkt), "accepted proof key is not the token's cnf.jkt");
    assert_eq!(claims.str("htm").as_deref(), Some(req.method.as_str()), "accepted proof htm");
    let htu = claims.str("htu").expect("accepted proof htu");
    let (want, got) = (normalize_htu(&req.url).expect("request URL"), normalize_htu(&htu).expect("accepted htu normalizes"));
    assert_eq!(got, want, "accepted proof htu names another URL");
    let host = |u: &str| u.split_once("://").map(|(_, r)| r.split(['/', '?', '#']).next().unwrap_or("").to_ascii_lowercase());
    assert_eq!(
        host(&htu).map(|h| h.trim_end_matches(":443").to_string()),
        host(&req.url).map(|h| h.trim_end_matches(":443").to_string()),
        "accepted proof htu names another host"
    );
    assert_eq!(claims.str("ath").as_deref(), Some(sha256_b64(token.as_bytes()).as_str()), "accepted proof ath");
    assert!(claims.str("jti").is_some_and(|j| !j.is_empty()), "accepted proof jti");
    let iat = claims.get("iat").and_then(|v| v.as_f64()).expect("accepted proof iat");
    let now = NOW as f64;
    assert!(iat <= now + 60.0 && iat >= now - 120.0, "accepted proof iat {iat} is outside the window");
    if client == 1 {
        let n = claims.str("nonce").expect("client 1 accepted a proof without a nonce");
        assert_ne!(nonce::check(NONCE_SECRET, NONCE_LIFETIME, &n, now), nonce::NonceState::Invalid, "client 1 accepted a bad nonce");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let which = match lines.next() {
        Some(b"1") => 1,
        Some(b"2") => 2,
        _ => 0,
    };
    let (Some(Ok(method)), Some(Ok(url))) = (lines.next().map(std::str::from_utf8), lines.next().map(std::str::from_utf8)) else { return };
    let mut req = RequestInput { method: method.to_string(), url: url.to_string(), now: Some(NOW as f64), ..Default::default() };
    for l in lines {
        match l {
            [b'A', b':', v @ ..] => req.authorization.push(v.to_vec()),
            [b'D', b':', v @ ..] => req.dpop.push(v.to_vec()),
            [b'C', b':', v @ ..] => req.client_cert_der = Some(v.to_vec()),
            _ => {}
        }
    }
    let Ok(decision) = CLIENTS[which].authenticate(&req) else { return };
    let Ok(principal) = &decision.outcome else {
        assert!(decision.status >= 400, "a denial with status {}", decision.status);
        return;
    };
    assert_eq!(decision.status, 200);
    assert_eq!(req.authorization.len(), 1, "allowed with {} Authorization headers", req.authorization.len());
    let (scheme, token) = credentials(&req.authorization[0]);
    let policy = OraclePolicy { ..POLICY_A };
    let claims = assert_rightly_accepted(&token, &policy, NOW as f64, Some(principal.claims.as_bytes()));
    let cnf = claims.get("cnf");
    let jkt = cnf.as_ref().and_then(|c| c.get("jkt")).and_then(Value::as_str).map(str::to_string);
    match scheme.as_str() {
        "bearer" => {
            assert!(which != 1, "the DPoP-only client allowed a Bearer request");
            assert!(jkt.is_none(), "a DPoP-bound token was allowed with the Bearer scheme");
        }
        "dpop" => {
            assert!(which != 2, "the Bearer-only client allowed a DPoP request");
            let jkt = jkt.expect("the DPoP scheme was allowed with a token that is not DPoP-bound");
            assert_eq!(req.dpop.len(), 1, "allowed with {} DPoP headers", req.dpop.len());
            check_proof(&req.dpop[0], &req, &token, &jkt, which);
        }
        other => panic!("allowed with the scheme {other:?}"),
    }
    if let Some(x5t) = cnf.as_ref().and_then(|c| c.get("x5t#S256")) {
        let cert = req.client_cert_der.as_deref().expect("a certificate-bound token was allowed without a certificate");
        assert_eq!(x5t.as_str(), Some(sha256_b64(cert).as_str()), "a certificate-bound token was allowed with another certificate");
    }
    if which == 1 {
        let scopes = claims.str("scope").unwrap_or_default();
        assert!(scopes.split(' ').any(|s| s == "read"), "client 1 allowed a token without the scope read");
        let cid = claims.str("client_id");
        assert!(matches!(cid.as_deref(), Some("svc" | "web")), "client 1 allowed client_id {cid:?}");
    }
});
