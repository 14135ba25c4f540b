//! Issue 14 item 2: signed revocation lists on the loopback fixture. Rollback refused, 304
//! slide, polling bounds, single flight, cancellation and failures do not burn the schedule,
//! grace then fail-closed / fail-open, revoked kid and jti, foreign-key and other-issuer lists
//! refused, drop_keys.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::*;
use oidc::core::{Client, Clock, ErrorKind, RevocationConfig, RevocationPolicy};
use serde_json::{Value, json};

const RL: &str = "/.well-known/revocation-list";

fn now() -> i64 {
    oidc_testkit::keys::now()
}

/// A signed list for `iss`.
fn list(key: &TestKey, iss: &str, version: u64, next_in: i64, kids: &[&str], jtis: &[&str]) -> String {
    let claims = json!({
        "iss": iss,
        "iat": now(),
        "next_update": now() + next_in,
        "version": version,
        "revoked_kids": kids,
        "revoked_jtis": jtis.iter().map(|j| json!({"jti": j, "exp": now() + 3600})).collect::<Vec<Value>>(),
    });
    let mut h = default_header(key);
    h["typ"] = json!("revocation-list+jwt");
    key.sign_token(&h, &claims)
}

fn route(jws: &str) -> Route {
    Route::bytes(200, "application/jwt", jws.as_bytes().to_vec())
}

struct Fx {
    idp: Idp,
    key: TestKey,
    clock: Clock,
}

fn fixture() -> Fx {
    let key = TestKey::generate(Alg::ES256);
    let idp = idp(&[&key]);
    Fx { idp, key, clock: Clock::manual() }
}

impl Fx {
    fn serve(&self, version: u64, next_in: i64, kids: &[&str], jtis: &[&str]) {
        self.idp.srv.set_route(RL, route(&list(&self.key, &self.idp.issuer, version, next_in, kids, jtis)));
    }
    fn client(&self, policy: RevocationPolicy, f: impl FnOnce(&mut RevocationConfig)) -> Client {
        let mut r = RevocationConfig::new(policy);
        f(&mut r);
        self.idp.client_with(|c| {
            c.clock = self.clock.clone();
            c.revocation = Some(r);
        })
    }
    fn token(&self, jti: &str) -> String {
        let mut c = self.idp.claims();
        c["jti"] = json!(jti);
        self.key.sign(&c)
    }
    fn fetches(&self) -> usize {
        self.idp.srv.hits(RL)
    }
}

#[test]
fn a_revoked_kid_and_a_revoked_jti_are_rejected() {
    let fx = fixture();
    fx.serve(1, 600, &[], &["bad-jti"]);
    let c = fx.client(RevocationPolicy::FailClosed, |_| {});
    c.validate(&fx.token("good")).expect("not revoked");
    let e = c.validate(&fx.token("bad-jti")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Revoked, "{e:?}");
    // An escaped jti decodes to the same value.
    let escaped = {
        let payload = format!(r#"{{"iss":"{}","aud":"api","exp":{},"jti":"bad\u002djti"}}"#, fx.idp.issuer, now() + 300);
        let input = format!("{}.{}", oidc_testkit::b64_json(&default_header(&fx.key)), oidc_testkit::b64(payload.as_bytes()));
        format!("{input}.{}", oidc_testkit::b64(fx.key.sign_raw(&input)))
    };
    assert_eq!(kind_of(c.validate(&escaped)), ErrorKind::Revoked);
    // The key: every token it signed is refused once the list names it (new list version).
    fx.clock.advance(Duration::from_secs(601));
    let k2 = TestKey::generate(Alg::ES256);
    fx.idp.set_keys(&[&fx.key, &k2]);
    fx.idp.srv.set_route(RL, route(&list(&k2, &fx.idp.issuer, 2, 600, &[fx.key.kid()], &[])));
    let e = c.validate(&fx.token("good")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Revoked, "{e:?}");
    assert_eq!(e.kind().http_status(), 401);
    // A forged token (bad signature) never learns about the list.
    let mut claims = fx.idp.claims();
    claims["jti"] = json!("bad-jti");
    let forged = TestKey::generate(Alg::ES256).with_kid(k2.kid()).sign(&claims);
    assert_eq!(kind_of(c.validate(&forged)), ErrorKind::SignatureInvalid);
}

#[test]
fn the_token_cache_does_not_let_a_revoked_token_through() {
    let fx = fixture();
    fx.serve(1, 60, &[], &[]);
    let c = fx.client(RevocationPolicy::FailClosed, |_| {});
    let t = fx.token("j1");
    c.validate(&t).unwrap();
    c.validate(&t).unwrap();
    assert!(!c.token_cache().unwrap().is_empty());
    fx.serve(2, 60, &[], &["j1"]);
    fx.clock.advance(Duration::from_secs(61));
    assert_eq!(kind_of(c.validate(&t)), ErrorKind::Revoked, "a cached token is checked against the new list");
}

#[test]
fn rollback_is_refused() {
    let fx = fixture();
    fx.serve(5, 60, &[], &["x"]);
    let c = fx.client(RevocationPolicy::FailClosed, |r| r.grace = Duration::from_secs(600));
    c.prefetch().unwrap();
    let r = c.revocation().unwrap();
    assert_eq!(r.current().unwrap().version, 5);
    // An older version, then the same version with other content: both refused, list kept.
    for (v, jtis) in [(4, vec![]), (5, vec!["y"])] {
        fx.serve(v, 60, &[], &jtis);
        fx.clock.advance(Duration::from_secs(61));
        assert_eq!(kind_of(c.validate(&fx.token("x"))), ErrorKind::Revoked, "the held list keeps serving");
        assert_eq!(r.current().unwrap().version, 5);
        c.validate(&fx.token("y")).expect("the refused list's entries are not applied");
    }
    assert_eq!(r.stats.rollbacks_refused.load(Relaxed), 2);
    // The same list again is fine; a newer one replaces.
    fx.serve(6, 60, &[], &[]);
    fx.clock.advance(Duration::from_secs(6));
    c.validate(&fx.token("x")).unwrap();
    assert_eq!(r.current().unwrap().version, 6);
}

#[test]
fn a_304_slides_the_next_update_and_polling_is_clamped() {
    let fx = fixture();
    // next_update in 10 s: clamped up to the 30 s minimum.
    let jws = list(&fx.key, &fx.idp.issuer, 1, 10, &[], &[]);
    fx.idp.srv.set_route(RL, route(&jws).with_etag("\"v1\""));
    let c = fx.client(RevocationPolicy::FailClosed, |_| {});
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 1);
    fx.clock.advance(Duration::from_secs(29));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 1, "fresh for the clamped minimum");
    fx.clock.advance(Duration::from_secs(2));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 2, "polled after 30 s");
    assert_eq!(fx.idp.srv.not_modified_hits(RL), 1, "revalidated with If-None-Match: 304");
    assert_eq!(fx.idp.srv.last_request(RL).unwrap().header("if-none-match"), Some("\"v1\""));
    // The 304 slid freshness by the last interval (30 s).
    fx.clock.advance(Duration::from_secs(29));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 2);
    fx.clock.advance(Duration::from_secs(2));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 3);

    // next_update a year away: clamped down to the configured maximum (2 h).
    let fx = fixture();
    fx.serve(1, 365 * 86400, &[], &[]);
    let c = fx.client(RevocationPolicy::FailClosed, |r| {
        r.min_interval = Duration::from_secs(60);
        r.max_interval = Duration::from_secs(7200);
    });
    c.validate(&fx.token("a")).unwrap();
    fx.clock.advance(Duration::from_secs(7199));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 1);
    fx.clock.advance(Duration::from_secs(2));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 2, "polled at the clamped maximum");
    // A list whose next_update lies in between is polled at next_update.
    fx.serve(2, 600, &[], &[]);
    fx.clock.advance(Duration::from_secs(7201));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 3);
    fx.clock.advance(Duration::from_secs(590));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 3);
    fx.clock.advance(Duration::from_secs(15));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 4);
}

#[test]
fn twenty_concurrent_first_checks_make_one_fetch() {
    let fx = fixture();
    let jws = list(&fx.key, &fx.idp.issuer, 1, 600, &[], &[]);
    fx.idp.srv.set_route(RL, route(&jws).with_delay(Duration::from_millis(200)));
    let c = fx.client(RevocationPolicy::FailClosed, |_| {});
    validate_concurrently(&c, &fx.token("b"), 20, "first checks");
    assert_eq!(fx.fetches(), 1, "one fetch for 20 concurrent first checks");
}

#[test]
fn a_failed_fetch_does_not_burn_the_schedule_and_grace_then_fail_closed() {
    let fx = fixture();
    fx.serve(1, 60, &[], &[]);
    let c = fx.client(RevocationPolicy::FailClosed, |r| r.grace = Duration::from_secs(300));
    c.prefetch().unwrap();
    fx.idp.srv.set_route(RL, Route::status(500));
    fx.clock.advance(Duration::from_secs(61));
    // Stale: one refresh, it fails; the stale list serves (grace).
    c.validate(&fx.token("a")).expect("grace");
    assert_eq!(fx.fetches(), 2);
    c.validate(&fx.token("a")).expect("grace");
    assert_eq!(fx.fetches(), 2, "the failure back-off (5 s), not a poll interval");
    // The IdP is back: the next caller after the short back-off fetches (the failure did not
    // move the schedule by a poll interval).
    fx.serve(2, 60, &[], &[]);
    fx.clock.advance(Duration::from_secs(6));
    c.validate(&fx.token("a")).unwrap();
    assert_eq!(fx.fetches(), 3);
    assert_eq!(c.revocation().unwrap().current().unwrap().version, 2);
    // Down again, past the grace period: fail closed, 503.
    fx.idp.srv.set_route(RL, Route::status(503));
    fx.clock.advance(Duration::from_secs(61 + 300));
    let e = c.validate(&fx.token("a")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RevocationUnavailable, "{e:?}");
    assert_eq!(e.kind().http_status(), 503);
    // Priming fails fast.
    let fresh = fx.client(RevocationPolicy::FailOpen, |_| {});
    assert!(fresh.prefetch().is_err(), "priming fails when the list cannot be fetched");
}

#[test]
fn fail_open_accepts_past_grace_and_counts() {
    let fx = fixture();
    fx.idp.srv.set_route(RL, Route::hang());
    let c = fx.idp.client_with(|cfg| {
        cfg.clock = fx.clock.clone();
        cfg.total_timeout = Duration::from_millis(300);
        cfg.revocation = Some(RevocationConfig::new(RevocationPolicy::FailOpen));
    });
    let before = oidc::core::metrics::REVOCATION_FAIL_OPEN.get();
    c.validate(&fx.token("a")).expect("fail open: accepted");
    assert_eq!(c.revocation().unwrap().stats.fail_open_accepted.load(Relaxed), 1);
    assert!(oidc::core::metrics::REVOCATION_FAIL_OPEN.get() > before);
}

#[test]
fn lists_signed_by_a_foreign_key_or_for_another_issuer_are_refused() {
    let fx = fixture();
    let stranger = TestKey::generate(Alg::ES256);
    let cases: Vec<(&str, String)> = vec![
        ("foreign key", list(&stranger, &fx.idp.issuer, 1, 60, &[], &[])),
        ("another issuer", list(&fx.key, "https://other.example", 1, 60, &[], &[])),
        ("not a list (access token)", fx.token("a")),
    ];
    for (name, jws) in cases {
        fx.idp.srv.set_route(RL, route(&jws));
        let c = fx.client(RevocationPolicy::FailClosed, |_| {});
        let e = c.prefetch().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ResponseInvalid, "{name}: {e:?}");
        assert_eq!(kind_of(c.validate(&fx.token("a"))), ErrorKind::RevocationUnavailable, "{name}");
    }
}

#[test]
fn drop_keys_forces_a_jwks_refetch() {
    let fx = fixture();
    let c = fx.idp.client();
    c.validate(&fx.token("a")).unwrap();
    c.validate(&fx.token("b")).unwrap();
    assert_eq!(fx.idp.srv.hits("/jwks"), 1);
    assert_eq!(c.drop_keys(None).unwrap(), 1);
    c.validate(&fx.token("c")).unwrap();
    assert_eq!(fx.idp.srv.hits("/jwks"), 2);
    assert_eq!(c.drop_keys(Some(&fx.idp.issuer)).unwrap(), 1);
    assert_eq!(c.drop_keys(Some("https://nope.example")).unwrap_err().kind(), ErrorKind::InvalidArgument);
    c.validate(&fx.token("d")).unwrap();
    assert_eq!(fx.idp.srv.hits("/jwks"), 3);
}

#[test]
fn bad_configuration_is_refused_at_build() {
    let fx = fixture();
    let build = |f: &dyn Fn(&mut RevocationConfig)| {
        let mut r = RevocationConfig::new(RevocationPolicy::FailClosed);
        f(&mut r);
        let mut cfg = fx.idp.config();
        cfg.revocation = Some(r);
        Client::new(cfg).map(|_| ()).unwrap_err().kind()
    };
    assert!(matches!(build(&|r| r.url = Some("::bad".into())), ErrorKind::InsecureUrl | ErrorKind::InvalidConfig));
    assert_eq!(build(&|r| r.url = Some("http://127.0.0.1:9/rl".into())), ErrorKind::InsecureUrl);
    assert_eq!(
        build(&|r| {
            r.min_interval = Duration::from_secs(600);
            r.max_interval = Duration::from_secs(60);
        }),
        ErrorKind::InvalidConfig
    );
}

/// A cancelled call (cancel handle, then a deadline) never burns the schedule: the next
/// validation gets a list at once (from the cancelled call's fetch, or its own), never
/// REVOCATION_UNAVAILABLE, and the list is fetched at most once per attempt.
#[test]
fn a_cancelled_prefetch_does_not_burn_the_schedule() {
    use common::cabi::*;
    use oidc::ffi::cancel::{oidc_cancel_free, oidc_cancel_trigger};
    use oidc::ffi::error::oidc_result;
    use oidc::ffi::validator::*;
    let fx = fixture();
    let jws = list(&fx.key, &fx.idp.issuer, 1, 600, &[], &["bad"]);
    fx.idp.srv.set_sequence(RL, vec![route(&jws).with_delay(Duration::from_millis(400)), route(&jws)]);
    let build = || {
        let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
        ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()));
        put(oidc_validator_builder_set_issuer, b, &fx.idp.issuer);
        put(oidc_validator_builder_add_audience, b, "api");
        put(oidc_validator_builder_set_ca_file, b, fx.idp.ca.ca_pem_path().to_str().unwrap());
        ok(oidc_validator_builder_set_revocation(b, std::ptr::null(), 0, 1, 0, std::ptr::null_mut()));
        let mut c: *mut oidc_validator = std::ptr::null_mut();
        ok(oidc_validator_builder_build(b, &mut c, std::ptr::null_mut()));
        c
    };
    let validate = |c: *const oidc_validator, t: &str| {
        let (mut out, mut n) = (std::ptr::null_mut(), 0usize);
        let rc = oidc_validate(c, t.as_ptr().cast(), t.len(), &mut out, &mut n, std::ptr::null_mut());
        if !out.is_null() {
            oidc::ffi::misc::oidc_string_free(out);
        }
        rc
    };
    // 1. Cancelled at once.
    let client = build();
    let batch = Batch::new(2);
    let cancel = new_cancel(0);
    ok(oidc_validator_prefetch_async(client, Some(on_done), slot(&batch, 0), cancel, std::ptr::null_mut()));
    oidc_cancel_trigger(cancel);
    assert!(batch.wait(1, Duration::from_secs(10)));
    assert_eq!(batch.code(0), oidc_result::Cancelled as u32);
    assert_eq!(validate(client, &fx.token("a")), oidc_result::Ok);
    assert_eq!(validate(client, &fx.token("bad")), oidc_result::Revoked);
    assert_eq!(fx.fetches(), 1, "one fetch: the cancelled call's, or the validation's own");
    oidc_cancel_free(cancel);
    oidc_validator_free(client);
    // 2. A deadline that passes while the list fetch hangs.
    fx.idp.srv.set_sequence(RL, vec![route(&jws).with_delay(Duration::from_millis(600)), route(&jws)]);
    let client = build();
    let cancel = new_cancel(100);
    ok(oidc_validator_prefetch_async(client, Some(on_done), slot(&batch, 1), cancel, std::ptr::null_mut()));
    assert!(batch.wait(2, Duration::from_secs(10)));
    assert_eq!(batch.code(1), oidc_result::DeadlineExceeded as u32);
    let t0 = std::time::Instant::now();
    assert_eq!(validate(client, &fx.token("a")), oidc_result::Ok, "the next caller is not held back");
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(fx.fetches() <= 3);
    oidc_cancel_free(cancel);
    oidc_validator_free(client);
}
