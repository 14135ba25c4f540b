//! The process-wide key cache: single-flight, cooldown, max-age, ETag, stale-if-error,
//! refresh-ahead, bounds, and faults a real IdP will not produce (from our loopback server).
//! Cache timing uses a manual clock, so no test sleeps to let a TTL pass.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use oidc::core::{Client, Clock, ErrorKind};
use serde_json::json;

fn jwks_route(keys: &[&TestKey]) -> Route {
    Route::json(&oidc_testkit::jwks_value(keys))
}

#[test]
fn thirty_two_concurrent_cold_validations_cause_one_fetch() {
    let k = TestKey::generate(Alg::RS256);
    let idp = idp(&[&k]);
    // Slow responses widen the window in which all 32 callers miss together.
    idp.srv.set_route("/jwks", jwks_route(&[&k]).with_delay(Duration::from_millis(300)));
    idp.srv.set_route(
        DISCOVERY,
        Route::json(&oidc_testkit::oidc_discovery(&idp.issuer, &idp.srv.url("/jwks"))).with_delay(Duration::from_millis(200)),
    );
    let client = idp.client();
    validate_concurrently(&client, &k.sign(&idp.claims()), 32, "every cold validation succeeds");
    assert_eq!(idp.srv.hits(DISCOVERY), 1, "exactly one discovery request");
    assert_eq!(idp.srv.hits("/jwks"), 1, "exactly one JWKS request");
}

#[test]
fn unknown_kid_refreshes_at_most_once_per_cooldown() {
    let old = TestKey::generate(Alg::ES256);
    let idp = idp(&[&old]);
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    client.validate(&old.sign(&idp.claims())).unwrap();
    assert_eq!(idp.srv.hits("/jwks"), 1);
    // Rotation: the IdP publishes a new key and signs with it.
    let new = TestKey::generate(Alg::ES256);
    idp.set_keys(&[&new, &old]);
    client.validate(&new.sign(&idp.claims())).expect("follows the rotation");
    assert_eq!(idp.srv.hits("/jwks"), 2, "one refresh for the unknown kid");
    // Garbage kids inside the cooldown cause no fetch, except the one early follow-up that a
    // refresh which found a new kid allows (issue 10 item 4).
    let stranger = TestKey::generate(Alg::ES256);
    for _ in 0..20 {
        assert_eq!(kind_of(client.validate(&stranger.sign(&idp.claims()))), ErrorKind::UnknownKey);
    }
    assert_eq!(idp.srv.hits("/jwks"), 3, "cooldown suppresses refreshes after the follow-up");
    let stats = &client.cache_entry().unwrap().stats;
    assert!(stats.cooldown_suppressed.load(std::sync::atomic::Ordering::Relaxed) >= 19);
    // After the cooldown, one more refresh; then quiet again.
    clock.advance(Duration::from_secs(31));
    for _ in 0..5 {
        assert_eq!(kind_of(client.validate(&stranger.sign(&idp.claims()))), ErrorKind::UnknownKey);
    }
    assert_eq!(idp.srv.hits("/jwks"), 4);
    // Tokens of cached keys never cause a fetch.
    for _ in 0..50 {
        client.validate(&old.sign(&idp.claims())).unwrap();
    }
    assert_eq!(idp.srv.hits("/jwks"), 4);
}

#[test]
fn concurrent_unknown_kid_after_rotation_is_single_flight() {
    let old = TestKey::generate(Alg::RS256);
    let idp = idp(&[&old]);
    let client = idp.client();
    client.validate(&old.sign(&idp.claims())).unwrap();
    let new = TestKey::generate(Alg::RS256);
    idp.srv.set_route("/jwks", jwks_route(&[&new, &old]).with_delay(Duration::from_millis(300)));
    validate_concurrently(&client, &new.sign(&idp.claims()), 16, "rotated key validates");
    assert_eq!(idp.srv.hits("/jwks"), 2, "one refresh for sixteen waiting threads");
}

#[test]
fn max_age_is_honoured_and_clamped() {
    let k = TestKey::generate(Alg::ES256);
    let short = idp(&[&k]);
    short.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("public, max-age=100"));
    let long = idp(&[&k]);
    long.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("max-age=1000"));
    let tiny = idp(&[&k]);
    tiny.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("max-age=5"));
    let clock = Clock::manual();
    let cs: Vec<(Client, &Idp)> = [&short, &long, &tiny].into_iter().map(|i| (i.client_with(|c| c.clock = clock.clone()), i)).collect();
    for (c, i) in &cs {
        c.validate(&k.sign(&i.claims())).unwrap();
    }
    // 30 s: nobody refetches (tiny's 5 s is clamped up to the 60 s minimum).
    clock.advance(Duration::from_secs(30));
    for (c, i) in &cs {
        c.validate(&k.sign(&i.claims())).unwrap();
        assert_eq!(i.srv.hits("/jwks"), 1);
    }
    // 150 s: the 100 s and the clamped 60 s key sets expired and were fetched again; 1000 s not.
    clock.advance(Duration::from_secs(120));
    for (c, i) in &cs {
        c.validate(&k.sign(&i.claims())).unwrap();
    }
    assert!(short.srv.wait_for_hits("/jwks", 2, Duration::from_secs(5)));
    assert!(tiny.srv.wait_for_hits("/jwks", 2, Duration::from_secs(5)));
    assert_eq!(long.srv.hits("/jwks"), 1);
    // A very long max-age is clamped to the 24 h maximum.
    let huge = idp(&[&k]);
    huge.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("max-age=99999999"));
    let c = huge.client_with(|c| c.clock = clock.clone());
    c.validate(&k.sign(&huge.claims())).unwrap();
    clock.advance(Duration::from_secs(24 * 3600 + 1));
    c.validate(&k.sign(&huge.claims())).unwrap();
    assert_eq!(huge.srv.hits("/jwks"), 2);
}

#[test]
fn etag_revalidation_keeps_keys_on_304() {
    let k = TestKey::generate(Alg::EdDSA);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("max-age=60").with_etag("\"v1\""));
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    client.validate(&k.sign(&idp.claims())).unwrap();
    clock.advance(Duration::from_secs(61));
    client.validate(&k.sign(&idp.claims())).unwrap();
    assert_eq!(idp.srv.hits("/jwks"), 2);
    assert_eq!(idp.srv.not_modified_hits("/jwks"), 1, "revalidated with If-None-Match");
    let req = idp.srv.last_request("/jwks").unwrap();
    assert_eq!(req.header("if-none-match"), Some("\"v1\""));
    // Still fresh for another TTL after the 304.
    clock.advance(Duration::from_secs(30));
    client.validate(&k.sign(&idp.claims())).unwrap();
    assert_eq!(idp.srv.hits("/jwks"), 2);
}

#[test]
fn stale_if_error_serves_last_good_keys_for_a_bounded_time() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("max-age=60"));
    let clock = Clock::manual();
    let client = idp.client_with(|c| {
        c.clock = clock.clone();
        c.stale_if_error = Duration::from_secs(600);
    });
    client.validate(&k.sign(&idp.claims())).unwrap();
    idp.srv.set_route("/jwks", Route::status(500));
    clock.advance(Duration::from_secs(120));
    client.validate(&k.sign(&idp.claims())).expect("stale keys keep serving while the IdP fails");
    assert_eq!(idp.srv.hits("/jwks"), 2);
    // Within retry-after-failure: no new attempt.
    client.validate(&k.sign(&idp.claims())).unwrap();
    assert_eq!(idp.srv.hits("/jwks"), 2);
    clock.advance(Duration::from_secs(10));
    client.validate(&k.sign(&idp.claims())).unwrap();
    assert_eq!(idp.srv.hits("/jwks"), 3, "retried after the failure backoff");
    // Past expiry + stale window: the failure surfaces, precisely.
    clock.advance(Duration::from_secs(600));
    assert_eq!(kind_of(client.validate(&k.sign(&idp.claims()))), ErrorKind::HttpStatus);
    // The IdP recovers: keys come back.
    idp.srv.set_route("/jwks", jwks_route(&[&k]));
    clock.advance(Duration::from_secs(10));
    client.validate(&k.sign(&idp.claims())).expect("recovered");
}

#[test]
fn refresh_ahead_never_makes_the_request_wait() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("max-age=100"));
    let clock = Clock::manual();
    let client = idp.client_with(|c| {
        c.clock = clock.clone();
        c.total_timeout = Duration::from_secs(3);
    });
    client.validate(&k.sign(&idp.claims())).unwrap();
    // Past the refresh-ahead point (70-90 % of the TTL, per process) the refresh runs in the
    // background; the IdP now hangs, so a request that waited on it would fail with a timeout
    // instead of succeeding.
    idp.srv.set_route("/jwks", Route::hang());
    clock.advance(Duration::from_secs(91));
    let started = Instant::now();
    client.validate(&k.sign(&idp.claims())).expect("served from cache while refreshing");
    assert!(started.elapsed() < Duration::from_secs(3), "request path did not wait for the refresh");
    assert!(idp.srv.wait_for_hits("/jwks", 2, Duration::from_secs(5)), "background refresh happened");
    // Only one background refresh at a time.
    for _ in 0..20 {
        client.validate(&k.sign(&idp.claims())).unwrap();
    }
    assert_eq!(idp.srv.hits("/jwks"), 2);
    // The hung refresh times out (3 s) and is recorded as a failure; keys still serve.
    let entry = client.cache_entry().unwrap();
    let failures = || entry.stats.failures.load(std::sync::atomic::Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(10);
    while failures() < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(failures(), 1);
    // The IdP recovers; after the failure backoff the next request starts another background
    // refresh (t = 97 s), which succeeds and restarts the TTL from there.
    idp.srv.set_route("/jwks", jwks_route(&[&k]).with_cache_control("max-age=100"));
    clock.advance(Duration::from_secs(6));
    client.validate(&k.sign(&idp.claims())).unwrap();
    assert!(idp.srv.wait_for_responses("/jwks", 2, Duration::from_secs(5)));
    let deadline = Instant::now() + Duration::from_secs(5);
    while entry.stats.fetches.load(std::sync::atomic::Ordering::Relaxed) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(idp.srv.hits("/jwks"), 3);
    // t = 117 s: past the first TTL (100 s), inside the new one (97 + 100): no fetch at all.
    clock.advance(Duration::from_secs(20));
    client.validate(&k.sign(&idp.claims())).unwrap();
    assert_eq!(idp.srv.hits("/jwks"), 3, "TTL restarted from the background refresh");
}

#[test]
fn the_cache_is_bounded() {
    let k = TestKey::generate(Alg::ES256);
    let idps: Vec<Idp> = (0..6).map(|_| idp(&[&k])).collect();
    oidc::core::cache::GLOBAL.set_max_entries(3);
    for i in &idps {
        i.client().validate(&k.sign(&i.claims())).unwrap();
        assert!(oidc::core::cache::GLOBAL.len() <= 3);
    }
    oidc::core::cache::GLOBAL.set_max_entries(64);
}

/// Each fault a real IdP will not produce gives a bounded, clear error on a cold client.
#[test]
fn faults_give_bounded_clear_errors() {
    let k = TestKey::generate(Alg::ES256);
    let big = json!({"keys": [], "pad": "x".repeat(600 * 1024)});
    let cases: Vec<(&str, Route, ErrorKind)> = vec![
        ("500", Route::status(500), ErrorKind::HttpStatus),
        ("404", Route::status(404), ErrorKind::HttpStatus),
        ("slow", jwks_route(&[&k]).with_delay(Duration::from_secs(5)), ErrorKind::Timeout),
        ("hang", Route::hang(), ErrorKind::Timeout),
        ("reset", Route::reset(), ErrorKind::Network),
        ("truncated", jwks_route(&[&k]).truncated(20), ErrorKind::ResponseInvalid),
        ("garbage", Route::json_str("{\"keys\": [ garbage"), ErrorKind::JwksInvalid),
        ("not an object", Route::json_str("[]"), ErrorKind::JwksInvalid),
        ("wrong content type", Route::text(200, "<html>hi</html>"), ErrorKind::ResponseInvalid),
        ("oversized", Route::json(&big), ErrorKind::ResponseTooLarge),
        ("redirect to http", Route::redirect("http://127.0.0.1:1/jwks"), ErrorKind::RedirectRejected),
    ];
    let timeout = Duration::from_secs(2);
    for (name, route, want) in cases {
        let idp = idp(&[&k]);
        idp.srv.set_route("/jwks", route);
        let client = idp.client_with(|c| c.total_timeout = timeout);
        let started = Instant::now();
        let e = client.validate(&k.sign(&idp.claims())).expect_err(name);
        assert_eq!(e.kind(), want, "{name}: {e:?}");
        assert!(!e.message().is_empty());
        assert!(started.elapsed() < timeout + Duration::from_secs(3), "{name} took {:?}", started.elapsed());
        assert_eq!(e.kind().http_status(), 503, "{name}");
    }
    // A redirect to https on the same server is followed.
    let idp2 = idp(&[&k]);
    idp2.srv.set_route("/jwks", Route::redirect(idp2.srv.url("/keys2")));
    idp2.srv.set_route("/keys2", jwks_route(&[&k]));
    idp2.client().validate(&k.sign(&idp2.claims())).expect("https redirect followed");
    // TLS: a server whose certificate the client does not trust.
    let idp3 = idp(&[&k]);
    let c = idp3.client_with(|c| c.ca_file = Some(idp3.ca.wrong_ca_pem_path()));
    assert_eq!(kind_of(c.validate(&k.sign(&idp3.claims()))), ErrorKind::Tls);
    // Unreachable endpoint.
    let mut cfg = oidc::core::Config::new("https://127.0.0.1:1");
    cfg.audiences = vec!["api".into()];
    let c = Client::new(cfg).unwrap();
    assert_eq!(c.prefetch().unwrap_err().kind(), ErrorKind::Network);
}

/// With keys cached, no fault of the IdP makes a validation fail.
#[test]
fn cached_keys_survive_every_fault() {
    let k = TestKey::generate(Alg::RS256);
    let idp = idp(&[&k]);
    let client = idp.client_with(|c| c.total_timeout = Duration::from_secs(2));
    client.validate(&k.sign(&idp.claims())).unwrap();
    for route in [Route::status(500), Route::hang(), Route::reset(), Route::json_str("garbage"), Route::text(200, "x")] {
        idp.srv.set_route("/jwks", route.clone());
        idp.srv.set_route(DISCOVERY, route);
        for _ in 0..10 {
            client.validate(&k.sign(&idp.claims())).expect("cached key validates during the fault");
        }
    }
    assert_eq!(idp.srv.hits("/jwks"), 1);
}

#[test]
fn a_failed_cold_fetch_is_not_retried_immediately() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", Route::status(503));
    let clock = Clock::manual();
    let client = idp.client_with(|c| c.clock = clock.clone());
    for _ in 0..10 {
        assert_eq!(kind_of(client.validate(&k.sign(&idp.claims()))), ErrorKind::HttpStatus);
    }
    assert_eq!(idp.srv.hits("/jwks"), 1, "failures are remembered for the retry interval");
    idp.srv.set_route("/jwks", jwks_route(&[&k]));
    clock.advance(Duration::from_secs(6));
    client.validate(&k.sign(&idp.claims())).expect("retried after the interval");
    assert_eq!(idp.srv.hits("/jwks"), 2);
}

#[test]
fn clients_of_one_jwks_url_share_one_cache_entry() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let a = idp.client();
    let b = idp.client_with(|c| c.audiences = vec!["api".into(), "other".into()]);
    a.validate(&k.sign(&idp.claims())).unwrap();
    b.validate(&k.sign(&idp.claims())).unwrap();
    assert_eq!(idp.srv.hits("/jwks"), 1, "the second client used the shared keys");
    assert_eq!(idp.srv.hits(DISCOVERY), 2, "discovery is per client");
    assert!(Arc::ptr_eq(&a.cache_entry().unwrap(), &b.cache_entry().unwrap()));
}

/// Keys fetched under one client's trust (its roots) are never served to a client that trusts
/// something else: a client whose CA does not vouch for the JWKS server must fail with TLS even
/// after another client cached that URL's keys.
#[test]
fn cached_keys_are_scoped_to_the_fetching_clients_trust() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let jwks = idp.srv.url("/jwks");
    let trusting = idp.client_with(|c| c.key_source = oidc::core::KeySource::JwksUri(jwks.clone()));
    trusting.validate(&k.sign(&idp.claims())).expect("trusted fetch");
    let other = idp.client_with(|c| {
        c.key_source = oidc::core::KeySource::JwksUri(jwks.clone());
        c.ca_file = Some(idp.ca.wrong_ca_pem_path());
    });
    assert_eq!(kind_of(other.validate(&k.sign(&idp.claims()))), ErrorKind::Tls);
    assert!(!Arc::ptr_eq(&trusting.cache_entry().unwrap(), &other.cache_entry().unwrap()));
    assert_eq!(idp.srv.hits("/jwks"), 1, "the untrusting client never got a response");
}
