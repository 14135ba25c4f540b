//! Issue 10 items 1-6: the key cache under IdP outages and misbehaviour. An empty or unusable
//! key set is a failed fetch; one fetch for a cold unknown kid; a failed refresh for an unknown
//! kid is an outage (KEYS_UNAVAILABLE, 503), not a forgery (UNKNOWN_KEY, 401); a second rotation
//! inside the cooldown is followed while random kids stay bounded; Retry-After is honoured
//! (bounded); the refresh-ahead point is jittered per process.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::*;
use oidc::core::{Clock, ErrorKind, metrics};
use serde_json::{Value, json};

fn jwks_route(keys: &[&TestKey]) -> Route {
    Route::json(&oidc_testkit::jwks_value(keys))
}

const COOLDOWN: Duration = Duration::from_secs(31);

/// Item 1: `{"keys":[]}`, a set whose every key is published for something else, and a set whose
/// every key is rejected are failed fetches: the last good keys keep serving, the failure is
/// counted. A set of other usable keys still replaces.
#[test]
fn an_empty_or_unusable_key_set_is_a_failed_fetch() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("max-age=60"));
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    client.validate(&k.sign(&idp.claims())).unwrap();
    let entry = client.cache_entry().unwrap();
    let mut enc = k.public_jwk();
    enc["use"] = json!("enc");
    let weak = TestKey::weak_rsa1024();
    let bodies: Vec<(&str, Value)> = vec![
        ("empty", json!({"keys": []})),
        ("only an encryption key", json!({"keys": [enc]})),
        ("only a rejected key", json!({"keys": [weak.public_jwk()]})),
    ];
    for (i, (name, body)) in bodies.into_iter().enumerate() {
        idp.srv.set_route("/jwks", Route::json(&body).with_cache_control("max-age=60"));
        let failures = entry.stats.failures.load(Relaxed);
        let global = metrics::JWKS_FETCH_FAILURES.get();
        // Past the TTL (and the previous failure's back-off): a refetch is due.
        clock.advance(Duration::from_secs(70));
        client.validate(&k.sign(&idp.claims())).unwrap_or_else(|e| panic!("{name}: last good keys serve: {e:?}"));
        assert_eq!(idp.srv.hits("/jwks"), 2 + i, "{name}: fetched");
        assert_eq!(entry.stats.failures.load(Relaxed), failures + 1, "{name}: counted as a failure");
        assert!(metrics::JWKS_FETCH_FAILURES.get() > global, "{name}: in the metrics");
    }
    // An unknown kid against such a set: an outage (the refresh failed), not a forgery.
    clock.advance(COOLDOWN);
    idp.srv.set_route("/jwks", Route::json(&json!({"keys": []})));
    let stranger = TestKey::generate(Alg::ES256);
    assert_eq!(kind_of(client.validate(&stranger.sign(&idp.claims()))), ErrorKind::KeysUnavailable);
    // A real rotation to other usable keys replaces the set: the old key is gone.
    let other = TestKey::generate(Alg::ES256);
    idp.set_keys(&[&other]);
    clock.advance(COOLDOWN);
    client.validate(&other.sign(&idp.claims())).expect("rotation to other keys is followed");
    assert_eq!(kind_of(client.validate(&k.sign(&idp.claims()))), ErrorKind::UnknownKey);
}

/// Item 2: a cold cache plus an unknown kid costs one JWKS request.
#[test]
fn a_cold_unknown_kid_costs_one_fetch() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = idp.client();
    let stranger = k.with_kid("not-published");
    assert_eq!(kind_of(client.validate(&stranger.sign(&idp.claims()))), ErrorKind::UnknownKey);
    assert_eq!(idp.srv.hits("/jwks"), 1, "the cold fetch counts as the refresh");
    client.validate(&k.sign(&idp.claims())).unwrap();
    assert_eq!(idp.srv.hits("/jwks"), 1);
}

/// Item 3: when the refresh an unknown kid triggered fails (5xx, reset, timeout, bad body), the
/// answer is KEYS_UNAVAILABLE (503, no invalid_token), not UNKNOWN_KEY; while the IdP is
/// healthy a forged kid is UNKNOWN_KEY (401).
#[test]
fn a_failed_refresh_for_an_unknown_kid_is_an_outage_not_a_forgery() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let clock = Clock::manual();
    let client = idp.client_with(|c| {
        c.clock = clock.clone();
        c.total_timeout = Duration::from_secs(2);
    });
    client.validate(&k.sign(&idp.claims())).unwrap();
    let new = TestKey::generate(Alg::ES256);
    let faults = [
        ("500", Route::status(500)),
        ("503", Route::status(503)),
        ("reset", Route::reset()),
        ("timeout", Route::hang()),
        ("bad body", Route::json_str("{\"keys\": [ garbage")),
        ("wrong content type", Route::text(200, "<html>")),
    ];
    for (name, route) in faults {
        clock.advance(COOLDOWN);
        idp.srv.set_route("/jwks", route);
        let hits = idp.srv.hits("/jwks");
        for _ in 0..3 {
            let e = client.validate(&new.sign(&idp.claims())).expect_err(name);
            assert_eq!(e.kind(), ErrorKind::KeysUnavailable, "{name}: {e:?}");
            assert_eq!(e.kind().http_status(), 503, "{name}");
            assert_eq!(e.oauth_error(), None, "{name}: no invalid_token");
            assert_eq!(e.kind().resource_error(), None, "{name}");
            assert_eq!(e.www_authenticate(None), "Bearer", "{name}: no error in the challenge");
        }
        assert_eq!(idp.srv.hits("/jwks"), hits + 1, "{name}: one refresh, then the back-off");
        client.validate(&k.sign(&idp.claims())).expect("cached keys keep serving");
    }
    // The IdP is healthy again: the kid is simply not published, a forgery.
    idp.set_keys(&[&k]);
    clock.advance(COOLDOWN);
    let e = client.validate(&new.sign(&idp.claims())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownKey);
    assert_eq!((e.kind().http_status(), e.oauth_error()), (401, Some("invalid_token")));
    // And when it publishes the key, it validates.
    idp.set_keys(&[&k, &new]);
    clock.advance(COOLDOWN);
    client.validate(&new.sign(&idp.claims())).expect("published key validates");
}

/// Item 3 through the C ABI: OIDC_RESULT_KEYS_UNAVAILABLE (207), named, described.
#[test]
fn keys_unavailable_through_the_c_abi() {
    use oidc::ffi::error::oidc_result;
    let code = oidc::ffi::error::code_for(ErrorKind::KeysUnavailable);
    assert_eq!(code as u32, 207);
    assert!(matches!(code, oidc_result::KeysUnavailable));
    assert_eq!(code.name().to_str().unwrap(), "KEYS_UNAVAILABLE");
}

/// Item 4: a refresh that found a new kid allows one early follow-up inside the cooldown, so a
/// second rotation right after the first is followed; random kids still cost at most one fetch
/// per cooldown.
#[test]
fn a_second_rotation_inside_the_cooldown_is_followed() {
    let k1 = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k1]);
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    client.validate(&k1.sign(&idp.claims())).unwrap();
    clock.advance(COOLDOWN);
    let k2 = TestKey::generate(Alg::ES256);
    idp.set_keys(&[&k2, &k1]);
    client.validate(&k2.sign(&idp.claims())).expect("first rotation");
    assert_eq!(idp.srv.hits("/jwks"), 2);
    clock.advance(Duration::from_secs(10));
    let k3 = TestKey::generate(Alg::ES256);
    idp.set_keys(&[&k3, &k2]);
    client.validate(&k3.sign(&idp.claims())).expect("second rotation 10 s later is followed");
    assert_eq!(idp.srv.hits("/jwks"), 3);
    // That follow-up found a new kid too, so one more early refresh is allowed; it finds nothing
    // new, and from then on random kids are held by the cooldown.
    for i in 0..20 {
        assert_eq!(kind_of(client.validate(&k1.with_kid(&format!("r{i}")).sign(&idp.claims()))), ErrorKind::UnknownKey);
    }
    assert_eq!(idp.srv.hits("/jwks"), 4);
    clock.advance(Duration::from_secs(20));
    for i in 0..20 {
        assert_eq!(kind_of(client.validate(&k1.with_kid(&format!("s{i}")).sign(&idp.claims()))), ErrorKind::UnknownKey);
    }
    assert_eq!(idp.srv.hits("/jwks"), 4, "cooldown holds");
}

#[test]
fn a_flood_of_random_kids_costs_at_most_one_fetch_per_cooldown() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    client.validate(&k.sign(&idp.claims())).unwrap();
    for round in 0..4 {
        for i in 0..50 {
            let t = k.with_kid(&format!("random-{round}-{i}")).sign(&idp.claims());
            assert_eq!(kind_of(client.validate(&t)), ErrorKind::UnknownKey);
            if i % 10 == 9 {
                clock.advance(Duration::from_secs(2));
            }
        }
        assert_eq!(idp.srv.hits("/jwks"), 2 + round, "round {round}: one refresh per cooldown");
        clock.advance(COOLDOWN);
    }
}

/// Item 5: Retry-After on 429/503 from the JWKS endpoint (seconds; HTTP-date is unit-tested in
/// core::http) holds the next attempt back, bounded by 300 s; garbage is ignored.
#[test]
fn retry_after_from_the_jwks_endpoint_is_honoured_and_bounded() {
    let k = TestKey::generate(Alg::ES256);
    for (status, value, wait) in [(503, "60", 60), (429, "120", 120), (503, "86400", 300), (429, "soon", 5)] {
        let idp = idp(&[&k]);
        idp.srv.set_route("/jwks", Route::status(status).with_header("Retry-After", value));
        let clock = Clock::manual();
        let client = idp.client_with(|c| c.clock = clock.clone());
        assert_eq!(kind_of(client.validate(&k.sign(&idp.claims()))), ErrorKind::HttpStatus);
        idp.set_keys(&[&k]);
        clock.advance(Duration::from_secs(wait - 1));
        assert_eq!(kind_of(client.validate(&k.sign(&idp.claims()))), ErrorKind::HttpStatus, "{value}: held back");
        assert_eq!(idp.srv.hits("/jwks"), 1, "{value}");
        clock.advance(Duration::from_secs(2));
        client.validate(&k.sign(&idp.claims())).unwrap_or_else(|e| panic!("{value}: retried after {wait} s: {e:?}"));
        assert_eq!(idp.srv.hits("/jwks"), 2, "{value}");
    }
}

#[test]
fn retry_after_from_the_discovery_endpoint_is_honoured() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let doc = oidc_testkit::oidc_discovery(&idp.issuer, &idp.srv.url("/jwks"));
    idp.srv.set_route(DISCOVERY, Route::status(429).with_header("Retry-After", "45"));
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    assert_eq!(kind_of(client.validate(&k.sign(&idp.claims()))), ErrorKind::HttpStatus);
    idp.srv.set_route(DISCOVERY, Route::json(&doc));
    clock.advance(Duration::from_secs(40));
    assert_eq!(kind_of(client.validate(&k.sign(&idp.claims()))), ErrorKind::HttpStatus);
    assert_eq!(idp.srv.hits(DISCOVERY), 1, "held back by Retry-After");
    clock.advance(Duration::from_secs(6));
    client.validate(&k.sign(&idp.claims())).expect("rediscovered after Retry-After");
    assert_eq!(idp.srv.hits(DISCOVERY), 2);
}

/// Item 6: the background refresh starts at this process's jittered fraction of the TTL
/// (70-90 %), not before, and by then.
#[test]
fn refresh_ahead_runs_at_the_jittered_point() {
    let f = oidc::core::cache::refresh_ahead_fraction();
    assert!((0.7..=0.9).contains(&f), "{f}");
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("max-age=1000"));
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    client.validate(&k.sign(&idp.claims())).unwrap();
    let point = (1000.0 * f) as u64;
    clock.advance(Duration::from_secs(point - 1));
    client.validate(&k.sign(&idp.claims())).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(idp.srv.hits("/jwks"), 1, "no refresh before {point} s");
    clock.advance(Duration::from_secs(2));
    client.validate(&k.sign(&idp.claims())).unwrap();
    assert!(idp.srv.wait_for_hits("/jwks", 2, Duration::from_secs(5)), "refreshed at {point} s");
}

/// Item 2, continued: the cold fetch does not start the unknown-kid cooldown, so a rotation
/// seconds after a cold start is followed at once.
#[test]
fn a_rotation_right_after_a_cold_start_is_followed() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = idp.client();
    client.validate(&k.sign(&idp.claims())).unwrap();
    let new = TestKey::generate(Alg::ES256);
    idp.set_keys(&[&new, &k]);
    client.validate(&new.sign(&idp.claims())).expect("rotation followed");
    assert_eq!(idp.srv.hits("/jwks"), 2);
}
