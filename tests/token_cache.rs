//! The verified-token cache of a validating client: a repeated token (the exact bytes) skips
//! parsing and the signature check, but every hit still checks the time claims at the given
//! "now" (same codes and messages as a full validation) and that the verifying key is still in
//! the issuer's key set; bounded; off with size 0; safe from many threads; never skips a DPoP
//! proof check.
//!
//! Hits and misses are read from the process-wide counters, so every test here holds `SERIAL`.

mod common;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::*;
use oidc::core::authn::RequestInput;
use oidc::core::metrics::{TOKEN_CACHE_HITS, TOKEN_CACHE_MISSES};
use oidc::core::oauth::SigningKey;
use oidc::core::oauth::dpop::Dpop;
use oidc::core::{Client, Clock, Config, ErrorKind, KeySource, Validated};
use serde_json::{Value, json};

const ISS: &str = "https://issuer.token-cache.test";
/// A fixed "now" for the time-claim tests (2027-01-15).
const T: i64 = 1_800_000_000;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hits and misses counted since `start`.
struct Counts(u64, u64);

impl Counts {
    fn start() -> Counts {
        Counts(TOKEN_CACHE_HITS.get(), TOKEN_CACHE_MISSES.get())
    }
    fn hits(&self) -> u64 {
        TOKEN_CACHE_HITS.get() - self.0
    }
    fn misses(&self) -> u64 {
        TOKEN_CACHE_MISSES.get() - self.1
    }
}

fn static_config(keys: &[&TestKey]) -> Config {
    let mut c = Config::new(ISS);
    c.audiences = vec!["api".into()];
    c.key_source = KeySource::Static(jwks(keys));
    c
}

fn static_client(keys: &[&TestKey], size: usize) -> Client {
    let mut c = static_config(keys);
    c.token_cache_size = size;
    Client::new(c).unwrap()
}

fn claims_at(sub: &str, iat: Option<i64>, nbf: Option<i64>, exp: i64) -> Value {
    let mut c = json!({"iss": ISS, "aud": "api", "sub": sub, "exp": exp});
    if let Some(i) = iat {
        c["iat"] = i.into();
    }
    if let Some(n) = nbf {
        c["nbf"] = n.into();
    }
    c
}

fn outcome(r: &Result<Validated, oidc::core::Error>) -> Result<String, (ErrorKind, String)> {
    match r {
        Ok(v) => Ok(v.claims.clone()),
        Err(e) => Err((e.kind(), e.message().to_string())),
    }
}

#[test]
fn a_repeated_token_is_answered_from_the_cache_with_the_same_result() {
    let _s = serial();
    let k = TestKey::generate(Alg::ES256);
    let client = static_client(&[&k], 16);
    let mut claims = keys::claims(ISS, "api", "alice", 300);
    claims["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"});
    let token = k.sign(&claims);
    let c = Counts::start();
    let first = client.validate(&token).unwrap();
    assert_eq!((c.hits(), c.misses()), (0, 1));
    for _ in 0..3 {
        let v = client.validate(&token).unwrap();
        assert_eq!(v.claims, first.claims);
        assert_eq!((v.alg, v.exp, &v.cnf), (first.alg, first.exp, &first.cnf));
    }
    assert_eq!((c.hits(), c.misses()), (3, 1));
    assert_eq!(first.cnf.jkt.as_deref(), Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"));
    assert_eq!(serde_json::from_str::<Value>(&first.claims).unwrap(), claims);
    assert_eq!(client.token_cache().unwrap().len(), 1);
    assert_eq!(client.token_cache().unwrap().capacity(), 16);
}

#[test]
fn only_the_exact_bytes_hit_and_a_forged_signature_never_does() {
    let _s = serial();
    let k = TestKey::generate(Alg::RS256);
    let client = static_client(&[&k], 16);
    let token = k.sign(&keys::claims(ISS, "api", "alice", 300));
    client.validate(&token).unwrap();

    // Same header and payload, another signature: not the cached bytes, so checked in full.
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut sig = b64_decode(sig);
    sig[10] ^= 1;
    let forged = format!("{input}.{}", b64(&sig));
    // Same signature over a payload that differs in one claim.
    let (h, rest) = token.split_once('.').unwrap();
    let (_, s) = rest.split_once('.').unwrap();
    let swapped = format!("{h}.{}.{s}", b64_json(&keys::claims(ISS, "api", "mallory", 300)));
    let c = Counts::start();
    for _ in 0..2 {
        assert_eq!(kind_of(client.validate(&forged)), ErrorKind::SignatureInvalid);
        assert_eq!(kind_of(client.validate(&swapped)), ErrorKind::SignatureInvalid);
        assert_eq!(kind_of(client.validate(&format!("{token} "))), ErrorKind::TokenMalformed);
    }
    assert_eq!((c.hits(), c.misses()), (0, 6), "no failed validation is ever served from the cache");
    assert_eq!(client.token_cache().unwrap().len(), 1, "failures are not cached");
    client.validate(&token).unwrap();
    assert_eq!(c.hits(), 1, "the genuine token is still cached");
}

fn b64_decode(s: &str) -> Vec<u8> {
    oidc_testkit::keys::b64_decode(s).unwrap()
}

/// Each (token, now) through a cache-on client, in order, gives exactly what a cache-off client
/// gives (same claims, or the same code and message).
fn same_as_full_validation(k: &TestKey, steps: &[(&str, i64)], tokens: &[(&str, Value)]) -> Counts {
    let cached = static_client(&[k], 16);
    let full = static_client(&[k], 0);
    let signed: Vec<(&str, String)> = tokens.iter().map(|(n, c)| (*n, k.sign(c))).collect();
    let c = Counts::start();
    for (name, now) in steps {
        let token = &signed.iter().find(|(n, _)| n == name).unwrap().1;
        let want = outcome(&full.validate_at(token, *now as f64));
        let got = outcome(&cached.validate_at(token, *now as f64));
        assert_eq!(got, want, "token {name} at now {now}");
    }
    c
}

#[test]
fn a_token_that_expired_between_two_calls_is_rejected_as_expired() {
    let _s = serial();
    let k = TestKey::generate(Alg::ES256);
    let tokens = [("t", claims_at("alice", Some(T - 10), Some(T - 10), T + 100))];
    // Leeway 60 s: valid up to T+159 inclusive.
    let c = same_as_full_validation(&k, &[("t", T), ("t", T + 159), ("t", T + 160), ("t", T + 161), ("t", T)], &tokens);
    assert_eq!((c.hits(), c.misses()), (2, 3), "hits at T+159 and T+160 (expired: the entry is dropped); T+161 and T miss");

    let client = static_client(&[&k], 16);
    let token = k.sign(&tokens[0].1);
    client.validate_at(&token, T as f64).unwrap();
    let e = client.validate_at(&token, (T + 160) as f64).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TokenExpired);
    assert_eq!(e.message(), format!("token expired at {} (now {}, leeway 60s)", T + 100, T + 160));
    assert!(client.token_cache().unwrap().is_empty(), "an expired entry is dropped");
}

#[test]
fn not_yet_valid_and_issued_in_the_future_are_checked_on_every_hit() {
    let _s = serial();
    let k = TestKey::generate(Alg::EdDSA);
    let tokens = [("nbf", claims_at("alice", None, Some(T + 200), T + 3600)), ("iat", claims_at("bob", Some(T + 300), None, T + 3600))];
    let steps = [
        ("nbf", T + 200), // miss, cached
        ("nbf", T + 100), // hit: TOKEN_NOT_YET_VALID
        ("nbf", T + 139), // hit: still not yet valid (200 > 139 + 60)
        ("nbf", T + 140), // hit: valid
        ("iat", T + 300), // miss, cached
        ("iat", T + 200), // hit: TOKEN_ISSUED_IN_FUTURE
        ("iat", T + 240), // hit: valid
        ("nbf", T + 100), // hit: the not-yet-valid answer did not drop the entry
    ];
    let c = same_as_full_validation(&k, &steps, &tokens);
    assert_eq!((c.hits(), c.misses()), (6, 2));
    let client = static_client(&[&k], 16);
    let token = k.sign(&tokens[0].1);
    client.validate_at(&token, (T + 200) as f64).unwrap();
    assert_eq!(kind_of(client.validate_at(&token, (T + 100) as f64)), ErrorKind::TokenNotYetValid);
    let token = k.sign(&tokens[1].1);
    client.validate_at(&token, (T + 300) as f64).unwrap();
    assert_eq!(kind_of(client.validate_at(&token, (T + 200) as f64)), ErrorKind::TokenIssuedInFuture);
}

#[test]
fn a_rotation_that_removes_the_key_invalidates_its_entries() {
    let _s = serial();
    let old = TestKey::generate(Alg::ES256);
    let new = TestKey::generate(Alg::ES256);
    let idp = idp(&[&old]);
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&old])).with_cache_control("max-age=60"));
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    let a = old.sign(&idp.claims());
    let c = Counts::start();
    client.validate(&a).unwrap();
    client.validate(&a).unwrap();
    assert_eq!((c.hits(), c.misses()), (1, 1));

    // The IdP adds a key; the refetched set still holds the old key with the same material.
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&new, &old])).with_cache_control("max-age=60"));
    clock.advance(Duration::from_secs(61));
    client.validate(&a).unwrap();
    assert_eq!(idp.srv.hits("/jwks"), 2, "the expired key set was fetched again");
    assert_eq!((c.hits(), c.misses()), (2, 1), "same key in a new key set: still a hit");
    client.validate(&a).unwrap();
    assert_eq!((c.hits(), c.misses()), (3, 1));

    // The IdP drops the old key: its cached tokens are refused at once.
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&new])).with_cache_control("max-age=60"));
    clock.advance(Duration::from_secs(61));
    assert_eq!(kind_of(client.validate(&a)), ErrorKind::UnknownKey);
    assert!(idp.srv.hits("/jwks") >= 3);
    assert_eq!((c.hits(), c.misses()), (3, 2), "the removed key's entry was not served");
    assert!(client.token_cache().unwrap().is_empty(), "and was dropped");
    assert_eq!(kind_of(client.validate(&a)), ErrorKind::UnknownKey);
    client.validate(&new.sign(&idp.claims())).expect("tokens of the new key validate");
}

#[test]
fn a_kid_reused_for_other_key_material_invalidates_its_entries() {
    let _s = serial();
    let old = TestKey::generate_with_kid(Alg::ES256, "k1");
    let impostor = TestKey::generate_with_kid(Alg::ES256, "k1");
    let idp = idp(&[&old]);
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&old])).with_cache_control("max-age=60"));
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    let a = old.sign(&idp.claims());
    client.validate(&a).unwrap();
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&impostor])).with_cache_control("max-age=60"));
    clock.advance(Duration::from_secs(61));
    let c = Counts::start();
    assert_eq!(kind_of(client.validate(&a)), ErrorKind::SignatureInvalid, "checked in full against the new material");
    assert_eq!((c.hits(), c.misses()), (0, 1));
}

#[test]
fn size_zero_turns_the_cache_off() {
    let _s = serial();
    let k = TestKey::generate(Alg::ES256);
    let client = static_client(&[&k], 0);
    assert!(client.token_cache().is_none());
    let token = k.sign(&keys::claims(ISS, "api", "alice", 300));
    let c = Counts::start();
    for _ in 0..5 {
        client.validate(&token).unwrap();
    }
    assert_eq!((c.hits(), c.misses()), (0, 0));
    let default = Client::new(static_config(&[&k])).unwrap();
    assert_eq!(default.token_cache().unwrap().capacity(), oidc::core::config::DEFAULT_TOKEN_CACHE_SIZE);
}

#[test]
fn validate_adjusted_never_uses_the_cache() {
    let _s = serial();
    let k = TestKey::generate(Alg::ES256);
    let client = static_client(&[&k], 16);
    let token = k.sign(&keys::claims(ISS, "api", "alice", 300));
    client.validate(&token).unwrap();
    let c = Counts::start();
    let now = oidc_testkit::keys::now() as f64;
    for _ in 0..3 {
        client.validate_adjusted(&token, now, |p| p.expected_typ = None).unwrap();
    }
    // A policy that rejects what the cached entry passed: the adjusted policy decides.
    let e = client.validate_adjusted(&token, now, |p| p.audiences = vec!["other".into()]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AudienceMismatch);
    assert_eq!((c.hits(), c.misses()), (0, 0));
}

#[test]
fn the_bound_holds_and_a_hot_token_stays_among_many_one_off_tokens() {
    let _s = serial();
    let k = TestKey::generate(Alg::EdDSA);
    let client = static_client(&[&k], 64);
    let cache = client.token_cache().unwrap();
    let hot = k.sign(&keys::claims(ISS, "api", "hot", 300));
    let c = Counts::start();
    for i in 0..1000 {
        client.validate(&k.sign(&keys::claims(ISS, "api", &format!("u{i}"), 300))).unwrap();
        client.validate(&hot).unwrap();
        assert!(cache.len() <= 64, "{} entries after {i} tokens", cache.len());
    }
    assert_eq!(cache.len(), 64);
    assert_eq!(c.misses(), 1001, "every one-off token and the hot token's first use");
    assert_eq!(c.hits(), 999, "the hot token is never evicted");
}

#[test]
fn many_threads_hit_one_client() {
    let _s = serial();
    let k = TestKey::generate(Alg::ES256);
    let client = static_client(&[&k], 1024);
    let shared = Arc::new(k.sign(&keys::claims(ISS, "api", "shared", 300)));
    let c = Counts::start();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (client, shared) = (client.clone(), shared.clone());
            let own = k.sign(&keys::claims(ISS, "api", &format!("t{t}"), 300));
            std::thread::spawn(move || {
                for _ in 0..500 {
                    let v = client.validate(&shared).unwrap();
                    assert!(v.claims.contains(r#""sub":"shared""#));
                    let v = client.validate(&own).unwrap();
                    assert!(v.claims.contains(&format!(r#""sub":"t{t}""#)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (hits, misses) = (c.hits(), c.misses());
    assert_eq!(hits + misses, 8000);
    assert!((9..=16).contains(&misses), "one miss per token, at most one per thread for the shared one: {misses}");
    assert_eq!(client.token_cache().unwrap().len(), 9);
}

fn request(scheme: &str, token: &str, proof: Option<&str>, url: &str) -> RequestInput {
    RequestInput {
        authorization: vec![format!("{scheme} {token}").into_bytes()],
        dpop: proof.map(|p| vec![p.as_bytes().to_vec()]).unwrap_or_default(),
        method: "GET".into(),
        url: url.into(),
        ..Default::default()
    }
}

#[test]
fn a_cached_dpop_bound_token_still_needs_a_valid_fresh_proof_every_time() {
    let _s = serial();
    let k = TestKey::generate(Alg::RS256);
    let client = static_client(&[&k], 16);
    let holder = Dpop::new(Arc::new(SigningKey::generate_es256().unwrap())).unwrap();
    let mut claims = keys::claims(ISS, "api", "alice", 300);
    claims["cnf"] = json!({"jkt": holder.thumbprint()});
    let token = k.sign(&claims);
    let url = "https://api.token-cache.test/items";
    let proof = holder.proof("GET", url, Some(&token)).unwrap();
    let c = Counts::start();
    let d = client.authenticate(&request("DPoP", &token, Some(&proof), url)).unwrap();
    assert!(d.allowed(), "{:?}", d.outcome);
    let deny = |d: oidc::core::authn::Decision| d.outcome.unwrap_err().kind();
    // The token is now cached; each of these fails on the proof or the binding.
    assert_eq!(deny(client.authenticate(&request("DPoP", &token, Some(&proof), url)).unwrap()), ErrorKind::DpopReplay);
    let other_url = holder.proof("GET", "https://api.token-cache.test/other", Some(&token)).unwrap();
    assert_eq!(deny(client.authenticate(&request("DPoP", &token, Some(&other_url), url)).unwrap()), ErrorKind::DpopProofMismatch);
    let stranger = Dpop::new(Arc::new(SigningKey::generate_es256().unwrap())).unwrap();
    let foreign = stranger.proof("GET", url, Some(&token)).unwrap();
    assert_eq!(deny(client.authenticate(&request("DPoP", &token, Some(&foreign), url)).unwrap()), ErrorKind::TokenBindingMismatch);
    assert_eq!(deny(client.authenticate(&request("DPoP", &token, None, url)).unwrap()), ErrorKind::DpopProofInvalid);
    assert_eq!(deny(client.authenticate(&request("Bearer", &token, None, url)).unwrap()), ErrorKind::TokenBindingMismatch);
    let fresh = holder.proof("GET", url, Some(&token)).unwrap();
    assert!(client.authenticate(&request("DPoP", &token, Some(&fresh), url)).unwrap().allowed());
    assert_eq!(c.misses(), 1, "the token itself was validated in full once");
    assert_eq!(c.hits(), 4, "and answered from the cache for every request whose proof passed (replay, foreign key, Bearer, fresh)");
}
