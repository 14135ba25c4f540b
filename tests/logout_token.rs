//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4-2.6): the core
//! (`validate_logout_token` on a static-JWKS protocol client), the exclusion between the logout,
//! access-token and ID-token paths, the jti replay cache (bound, threads, the host's shared
//! store), the shared vectors (tests/vectors/logout.json), and the C ABI operation
//! (OIDC_OP_VALIDATE_LOGOUT_TOKEN) through the blocking and the non-blocking send against the
//! loopback issuer.

mod common;

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};

use common::cabi::*;
use oidc::core::authn::RequestInput;
use oidc::core::config::ReplayStore;
use oidc::core::oauth::{ClientAuth, IdTokenChecks, LogoutToken, OAuthClient, OAuthConfig, validate_id_token, validate_logout_token};
use oidc::core::{Client, Config, ErrorKind, KeySource};
use oidc::ffi::oauth_client::*;
use oidc::ffi::oidc_result as R;
use oidc_testkit::dpop::random_jti as random_id;
use oidc_testkit::{Alg, TestKey};
use serde_json::{Map, Value, json};

const ISS: &str = "https://op.logout.test";
const CLIENT: &str = "rp-1";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn key() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| TestKey::generate_with_kid(Alg::ES256, "lt-es256"))
}

fn jwks() -> String {
    oidc_testkit::jwks(&[key()])
}

fn now() -> f64 {
    oidc_testkit::keys::now() as f64
}

fn cfg() -> OAuthConfig {
    let mut c = OAuthConfig::new(ISS, CLIENT, ClientAuth::None);
    c.base.key_source = KeySource::Static(jwks());
    c
}

fn rp() -> OAuthClient {
    OAuthClient::new(cfg()).unwrap()
}

fn rp_with(f: impl FnOnce(&mut OAuthConfig)) -> OAuthClient {
    let mut c = cfg();
    f(&mut c);
    OAuthClient::new(c).unwrap()
}

/// The access-token validator of the same issuer and keys (audience = the client id).
fn resource_server() -> Client {
    let mut c = Config::new(ISS);
    c.key_source = KeySource::Static(jwks());
    c.audiences = vec![CLIENT.into()];
    Client::new(c).unwrap()
}

/// Valid logout-token claims (fresh jti, both sub and sid), edited by `f`.
fn claims_with(f: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let t = now() as i64;
    let mut c = json!({"iss": ISS, "aud": CLIENT, "iat": t, "exp": t + 120, "jti": random_id(), "sub": "alice",
                       "sid": "sid-1", "events": {EVENT: {}}});
    f(c.as_object_mut().unwrap());
    c
}

fn claims() -> Value {
    claims_with(|_| {})
}

fn sign_typed(typ: Option<&str>, c: &Value) -> String {
    let mut h = json!({"alg": "ES256", "kid": key().kid()});
    if let Some(t) = typ {
        h["typ"] = json!(t);
    }
    key().sign_token(&h, c)
}

fn sign(c: &Value) -> String {
    sign_typed(Some("logout+jwt"), c)
}

fn kind(c: &OAuthClient, token: &str) -> ErrorKind {
    match validate_logout_token(c, token, None) {
        Ok(t) => panic!("expected a refusal, got {t:?}"),
        Err(e) => e.kind(),
    }
}

fn accept(c: &OAuthClient, token: &str) -> LogoutToken {
    validate_logout_token(c, token, None).unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn valid_tokens_sub_sid_or_both() {
    let c = rp();
    let t = accept(&c, &sign(&claims()));
    assert_eq!((t.iss.as_str(), t.sub.as_deref(), t.sid.as_deref()), (ISS, Some("alice"), Some("sid-1")));
    assert!(t.exp > t.iat && t.iat > 0.0);
    assert_eq!(serde_json::from_str::<Value>(&t.json).unwrap()["events"][EVENT], json!({}));
    let t = accept(
        &c,
        &sign(&claims_with(|m| {
            m.remove("sid");
        })),
    );
    assert_eq!((t.sub.as_deref(), t.sid), (Some("alice"), None));
    let t = accept(
        &c,
        &sign(&claims_with(|m| {
            m.remove("sub");
        })),
    );
    assert_eq!((t.sub, t.sid.as_deref()), (None, Some("sid-1")));
    // The typ is a media type: case-insensitive, application/ may prefix it.
    accept(&c, &sign_typed(Some("application/Logout+JWT"), &claims()));
    // Any object as the event's value; other events beside it; aud in an array.
    accept(
        &c,
        &sign(&claims_with(|m| {
            m.insert("events".into(), json!({EVENT: {"reason": "x"}, "urn:other": 1}));
            m.insert("aud".into(), json!(["other", CLIENT]));
        })),
    );
}

type Edit = dyn Fn(&mut Map<String, Value>);

#[test]
fn claim_rules() {
    let c = rp();
    let t0 = now() as i64;
    let cases: Vec<(&str, Box<Edit>, ErrorKind)> = vec![
        (
            "missing events",
            Box::new(|m| {
                m.remove("events");
            }),
            ErrorKind::MissingClaim,
        ),
        (
            "events without the member",
            Box::new(|m| {
                m.insert("events".into(), json!({"urn:x": {}}));
            }),
            ErrorKind::InvalidClaim,
        ),
        (
            "member not an object",
            Box::new(|m| {
                m.insert("events".into(), json!({EVENT: true}));
            }),
            ErrorKind::InvalidClaim,
        ),
        (
            "events not an object",
            Box::new(|m| {
                m.insert("events".into(), json!(EVENT));
            }),
            ErrorKind::InvalidClaim,
        ),
        (
            "nonce present",
            Box::new(|m| {
                m.insert("nonce".into(), json!("n"));
            }),
            ErrorKind::InvalidClaim,
        ),
        (
            "no sub, no sid",
            Box::new(|m| {
                m.remove("sub");
                m.remove("sid");
            }),
            ErrorKind::MissingClaim,
        ),
        (
            "sid not a string",
            Box::new(|m| {
                m.insert("sid".into(), json!(["s"]));
            }),
            ErrorKind::InvalidClaim,
        ),
        (
            "sub not a string",
            Box::new(|m| {
                m.insert("sub".into(), json!(7));
            }),
            ErrorKind::InvalidClaim,
        ),
        (
            "missing jti",
            Box::new(|m| {
                m.remove("jti");
            }),
            ErrorKind::MissingClaim,
        ),
        (
            "missing iat",
            Box::new(|m| {
                m.remove("iat");
            }),
            ErrorKind::MissingClaim,
        ),
        (
            "missing exp",
            Box::new(|m| {
                m.remove("exp");
            }),
            ErrorKind::MissingClaim,
        ),
        (
            "wrong aud",
            Box::new(|m| {
                m.insert("aud".into(), json!("rp-2"));
            }),
            ErrorKind::AudienceMismatch,
        ),
        (
            "wrong iss",
            Box::new(|m| {
                m.insert("iss".into(), json!("https://evil.test"));
            }),
            ErrorKind::IssuerMismatch,
        ),
        (
            "expired",
            Box::new(move |m| {
                m.insert("exp".into(), json!(t0 - 61));
            }),
            ErrorKind::TokenExpired,
        ),
        (
            "issued in the future",
            Box::new(move |m| {
                m.insert("iat".into(), json!(t0 + 600));
            }),
            ErrorKind::TokenIssuedInFuture,
        ),
        (
            "exp years ahead",
            Box::new(move |m| {
                m.insert("exp".into(), json!(t0 + 3 * 366 * 86400));
            }),
            ErrorKind::InvalidClaim,
        ),
    ];
    for (what, edit, want) in cases {
        let token = sign(&claims_with(|m| edit(m)));
        let e = validate_logout_token(&c, &token, None).unwrap_err();
        assert_eq!(e.kind(), want, "{what}: {}", e.message());
        common::assert_no_echo(&token, &e);
    }
    // A forged signature: no claim-based answer.
    let mut forged = sign(&claims());
    forged.replace_range(forged.len() - 8.., "AAAAAAAA");
    assert!(matches!(kind(&c, &forged), ErrorKind::SignatureInvalid | ErrorKind::TokenMalformed));
}

#[test]
fn typ_fails_closed_unless_untyped_is_accepted() {
    let strict = rp();
    let lax = rp_with(|c| c.logout.accept_untyped = true);
    for (typ, strict_kind, lax_ok) in [
        (None, Some(ErrorKind::TypeMismatch), true),
        (Some("JWT"), Some(ErrorKind::TypeMismatch), true),
        (Some("at+jwt"), Some(ErrorKind::TypeMismatch), false),
        (Some("logout+jwt"), None, true),
    ] {
        let token = sign_typed(typ, &claims());
        match strict_kind {
            Some(k) => {
                let e = validate_logout_token(&strict, &token, None).unwrap_err();
                assert_eq!(e.kind(), k, "{typ:?}");
                assert!(e.message().contains("logout+jwt"), "{}", e.message());
            }
            None => drop(accept(&strict, &token)),
        }
        let r = validate_logout_token(&lax, &sign_typed(typ, &claims()), None);
        assert_eq!(r.is_ok(), lax_ok, "{typ:?}: {r:?}");
        if !lax_ok {
            assert_eq!(r.unwrap_err().kind(), ErrorKind::TypeMismatch);
        }
    }
    assert_eq!(OAuthClient::new(OAuthConfig { logout: Default::default(), ..cfg() }).unwrap().config().logout.replay_capacity, 100_000);
    let mut zero = cfg();
    zero.logout.replay_capacity = 0;
    assert_eq!(OAuthClient::new(zero).unwrap_err().kind(), oidc::core::ErrorKind::InvalidConfig);
}

#[test]
fn replay_is_refused_and_a_refused_token_keeps_its_jti() {
    let c = rp();
    let token = sign(&claims());
    accept(&c, &token);
    let e = validate_logout_token(&c, &token, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TokenReplayed);
    assert!(e.message().contains("jti"), "{}", e.message());
    // Another token with the same jti (another sid) is a replay too.
    let jti = random_id();
    accept(&c, &sign(&claims_with(|m| m["jti"] = json!(jti))));
    let other = claims_with(|m| {
        m["jti"] = json!(jti);
        m["sid"] = json!("sid-2");
    });
    assert_eq!(kind(&c, &sign(&other)), ErrorKind::TokenReplayed);
    // A token refused for another reason does not record its jti.
    let jti = random_id();
    let bad = claims_with(|m| {
        m["jti"] = json!(jti);
        m.insert("nonce".into(), json!("n"));
    });
    assert_eq!(kind(&c, &sign(&bad)), ErrorKind::InvalidClaim);
    accept(&c, &sign(&claims_with(|m| m["jti"] = json!(jti))));
    // The cache belongs to the client: another client (another process, say) needs the shared
    // store to see the replay.
    accept(&rp(), &token);
}

#[test]
fn replay_across_threads_exactly_one_wins() {
    let c = rp();
    for round in 0..5 {
        let token = sign(&claims());
        let n = 8;
        let barrier = Arc::new(Barrier::new(n));
        let threads: Vec<_> = (0..n)
            .map(|_| {
                let (c, t, b) = (c.clone(), token.clone(), barrier.clone());
                std::thread::spawn(move || {
                    b.wait();
                    validate_logout_token(&c, &t, None).map(|_| ()).map_err(|e| e.kind())
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "round {round}: {results:?}");
        assert!(results.iter().filter(|r| r.is_err()).all(|r| *r == Err(ErrorKind::TokenReplayed)), "{results:?}");
    }
}

#[test]
fn replay_cache_is_bounded() {
    let c = rp_with(|c| c.logout.replay_capacity = 2);
    let t0 = now();
    let leeway = c.validator().config().leeway.as_secs_f64();
    let short = |i: i64| {
        sign(&claims_with(|m| {
            m["iat"] = json!(t0 as i64);
            m["exp"] = json!(t0 as i64 + 10 + i);
        }))
    };
    let long = sign(&claims_with(|m| m["exp"] = json!(t0 as i64 + 1000)));
    validate_logout_token(&c, &short(0), Some(t0)).unwrap();
    validate_logout_token(&c, &short(1), Some(t0)).unwrap();
    let e = validate_logout_token(&c, &long, Some(t0 + 1.0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable, "full: refused, nothing forgotten");
    assert!(e.message().contains("logout-token replay cache is full (2 live entries)"), "{}", e.message());
    // Entries leave once their token could no longer be accepted (exp + leeway).
    let later = t0 + 11.0 + leeway + 1.0;
    validate_logout_token(&c, &long, Some(later)).unwrap();
    assert_eq!(validate_logout_token(&c, &long, Some(later)).unwrap_err().kind(), ErrorKind::TokenReplayed);
}

/// A shared store in memory (what Redis `SET NX EX` does), with a switch to stop answering.
#[derive(Default)]
struct MemStore {
    seen: Mutex<HashMap<String, u64>>,
    calls: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

impl ReplayStore for MemStore {
    fn check_and_record(&self, key: &str, ttl: u64) -> Result<bool, ()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(());
        }
        let mut s = self.seen.lock().unwrap();
        Ok(s.insert(key.to_string(), ttl).is_none())
    }
}

#[test]
fn shared_store_is_used_and_namespaced() {
    let store = Arc::new(MemStore::default());
    let fleet = |s: &Arc<MemStore>| rp_with(|c| c.logout.replay_store = Some(s.clone() as Arc<dyn ReplayStore>));
    let (a, b) = (fleet(&store), fleet(&store));
    let c = claims();
    let token = sign(&c);
    accept(&a, &token);
    {
        let seen = store.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (k, ttl) = seen.iter().next().unwrap();
        assert!(k.starts_with("liboidc:logout:") && k.len() == "liboidc:logout:".len() + 43, "{k}");
        let jti = c["jti"].as_str().unwrap();
        assert_ne!(*k, oidc::core::authn::replay::store_key(ISS, jti), "never a DPoP key");
        assert!(!k.contains(jti), "the jti is hashed");
        assert!((120..=120 + 60 + 2).contains(ttl), "ttl = exp - now + leeway: {ttl}");
    }
    // Another process of the fleet sees the replay through the store.
    assert_eq!(kind(&b, &token), ErrorKind::TokenReplayed);
    // A local hit does not ask the store.
    let calls = store.calls.load(Ordering::SeqCst);
    assert_eq!(kind(&a, &token), ErrorKind::TokenReplayed);
    assert_eq!(store.calls.load(Ordering::SeqCst), calls);
    // A store that does not answer refuses the token (503) and does not burn its jti.
    let t2 = sign(&claims());
    store.down.store(true, Ordering::SeqCst);
    let e = validate_logout_token(&a, &t2, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable);
    assert_eq!(e.kind().http_status(), 503);
    store.down.store(false, Ordering::SeqCst);
    accept(&a, &t2);
    assert_eq!(kind(&a, &t2), ErrorKind::TokenReplayed);
    assert!(format!("{:?}", a.config()).contains("<host store>"));
}

#[test]
fn a_logout_token_is_refused_by_the_access_and_id_token_paths() {
    let rs = resource_server();
    let c = rp();
    let id_path = |t: &str| validate_id_token(&c, t, &IdTokenChecks::default()).unwrap_err();
    let typed = sign(&claims());
    let untyped = sign_typed(None, &claims());
    let typed_no_events = sign(&claims_with(|m| {
        m.remove("events");
    }));
    for (what, t) in [("typed", &typed), ("untyped, events", &untyped), ("typed, no events", &typed_no_events)] {
        let e = rs.validate(t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{what}: {}", e.message());
        assert!(e.message().contains("logout token"), "{}", e.message());
        let e = id_path(t);
        assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{what}: {}", e.message());
        // The request path too (Bearer).
        let req = RequestInput {
            authorization: vec![format!("Bearer {t}").into_bytes()],
            method: "GET".into(),
            url: "https://api.logout.test/x".into(),
            ..Default::default()
        };
        let d = rs.authenticate(&req).unwrap();
        assert_eq!(d.outcome.unwrap_err().kind(), ErrorKind::TypeMismatch, "{what}");
        assert_eq!(d.status, 401);
    }
    // The same token is still a good logout token (refusals elsewhere recorded nothing).
    accept(&c, &typed);
    // Controls: the paths accept their own tokens, including another event in `events`.
    let t = now() as i64;
    let at = json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "iat": t, "exp": t + 300, "events": {"urn:other": {}}});
    rs.validate(&key().sign_token(&json!({"alg":"ES256","kid":key().kid(),"typ":"at+jwt"}), &at)).unwrap();
    let id = json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "iat": t, "exp": t + 300, "nonce": "n1", "sid": "sid-1"});
    let id_token = sign_typed(Some("JWT"), &id);
    validate_id_token(&c, &id_token, &IdTokenChecks { nonce: Some("n1"), ..Default::default() }).unwrap();
    // A cached access-token validation does not let a logout token through either.
    let cached = {
        let mut cf = Config::new(ISS);
        cf.key_source = KeySource::Static(jwks());
        cf.audiences = vec![CLIENT.into()];
        cf.token_cache_size = 64;
        Client::new(cf).unwrap()
    };
    assert_eq!(cached.validate(&untyped).unwrap_err().kind(), ErrorKind::TypeMismatch);
    assert_eq!(cached.validate(&untyped).unwrap_err().kind(), ErrorKind::TypeMismatch);
}

#[test]
fn id_and_access_tokens_are_refused_as_logout_tokens() {
    let t = now() as i64;
    let id = json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "iat": t, "exp": t + 300, "nonce": "n1", "sid": "sid-1", "jti": "j"});
    let strict = rp();
    let lax = rp_with(|c| c.logout.accept_untyped = true);
    for typ in [None, Some("JWT")] {
        let id_token = sign_typed(typ, &id);
        assert_eq!(kind(&strict, &id_token), ErrorKind::TypeMismatch, "{typ:?}");
        assert_eq!(kind(&lax, &id_token), ErrorKind::MissingClaim, "{typ:?}: no events");
    }
    // Even an ID token that carries the event is refused for its nonce.
    let mut with_event = id.clone();
    with_event["events"] = json!({EVENT: {}});
    assert_eq!(kind(&lax, &sign_typed(None, &with_event)), ErrorKind::InvalidClaim);
    let at = json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "iat": t, "exp": t + 300, "jti": "a", "events": {EVENT: {}}});
    assert_eq!(kind(&strict, &sign_typed(Some("at+jwt"), &at)), ErrorKind::TypeMismatch);
    assert_eq!(kind(&lax, &sign_typed(Some("at+jwt"), &at)), ErrorKind::TypeMismatch);
}

// ---------------------------------------------------------------------------------------------
// Shared vectors
// ---------------------------------------------------------------------------------------------

fn code_name(code: u32) -> String {
    let p = oidc::ffi::misc::oidc_result_name(code);
    unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

#[test]
fn core_decides_every_logout_vector() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/logout.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    let c = &v["client"];
    let (iss, id) = (c["issuer"].as_str().unwrap(), c["client_id"].as_str().unwrap());
    let leeway = std::time::Duration::from_secs(c["leeway_secs"].as_u64().unwrap());
    let now = v["now"].as_f64().unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    let mut steps = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut oc = OAuthConfig::new(iss, id, ClientAuth::None);
        oc.base.key_source = KeySource::Static(c["jwks"].to_string());
        oc.base.leeway = leeway;
        oc.logout.accept_untyped = case["client"]["accept_untyped"].as_bool().unwrap_or(false);
        let rp = OAuthClient::new(oc).unwrap();
        let mut rc = Config::new(iss);
        rc.key_source = KeySource::Static(c["jwks"].to_string());
        rc.audiences = vec![id.into()];
        rc.leeway = leeway;
        let rs = Client::new(rc).unwrap();
        for (i, s) in case["steps"].as_array().unwrap().iter().enumerate() {
            steps += 1;
            let token = s["token"].as_str().unwrap();
            let got = match s["path"].as_str().unwrap() {
                "logout_token" => validate_logout_token(&rp, token, Some(now)).map(Some),
                "access_token" => rs.validate_at(token, now).map(|_| None),
                "id_token" => validate_id_token(&rp, token, &IdTokenChecks { now: Some(now), ..Default::default() }).map(|_| None),
                other => panic!("{name}: unknown path {other}"),
            };
            let code = match &got {
                Ok(_) => 0,
                Err(e) => oidc::ffi::error::code_for(e.kind()) as u32,
            };
            assert_eq!(code, s["code"].as_u64().unwrap() as u32, "{name} step {i}: {got:?}");
            assert_eq!(code_name(code), s["expect"].as_str().unwrap(), "{name} step {i}");
            if let Ok(Some(t)) = got {
                assert_eq!(t.sub.map(Value::from).unwrap_or(Value::Null), s["sub"], "{name}");
                assert_eq!(t.sid.map(Value::from).unwrap_or(Value::Null), s["sid"], "{name}");
                assert_eq!(t.jti, s["jti"].as_str().unwrap(), "{name}");
            }
        }
    }
    assert!(steps >= 45);
}

// ---------------------------------------------------------------------------------------------
// C ABI: OIDC_OP_VALIDATE_LOGOUT_TOKEN, blocking and non-blocking, on the loopback issuer
// ---------------------------------------------------------------------------------------------

fn loopback() -> &'static common::Idp {
    static IDP: OnceLock<common::Idp> = OnceLock::new();
    IDP.get_or_init(|| common::idp(&[key()]))
}

/// Logout-token claims for the loopback issuer.
fn loopback_claims(f: impl FnOnce(&mut Map<String, Value>)) -> Value {
    claims_with(|m| {
        m["iss"] = json!(loopback().issuer);
        f(m)
    })
}

fn c_client(store: Option<*mut c_void>) -> common::cabi::Client {
    let idp = loopback();
    let b = oauth_builder_for(&idp.issuer, idp.ca.ca_pem_path().to_str().unwrap(), CLIENT);
    if let Some(ud) = store {
        let mut e = std::ptr::null_mut();
        assert_eq!(oidc_oauth_builder_set_replay_store(b, Some(c_store), ud, &mut e), R::Ok);
    }
    oauth_build(b)
}

/// The host's store over the C ABI: the keys it was asked about.
extern "C" fn c_store(ud: *mut c_void, key: *const c_char, len: usize, ttl: u64) -> i32 {
    let seen = unsafe { &*(ud as *const Mutex<HashMap<String, u64>>) };
    let k = String::from_utf8(unsafe { std::slice::from_raw_parts(key.cast::<u8>(), len) }.to_vec()).unwrap();
    i32::from(seen.lock().unwrap().insert(k, ttl).is_none())
}

#[test]
fn c_abi_validate_logout_token_blocking_and_async() {
    let store: &'static Mutex<HashMap<String, u64>> = Box::leak(Box::default());
    let c = c_client(Some(store as *const _ as *mut c_void));
    let claims = loopback_claims(|_| {});
    let token = sign(&claims);
    let r = Req::new(&c, Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN).set(P::OIDC_PARAM_LOGOUT_TOKEN, &token);
    let resp = r.send().unwrap();
    assert_eq!(resp.op(), Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN as u32);
    assert_eq!(resp.json(), claims, "the JSON is the claims");
    assert_eq!(resp.str(F::OIDC_FIELD_SUB).as_deref(), Some("alice"));
    assert_eq!(resp.str(F::OIDC_FIELD_SID).as_deref(), Some("sid-1"));
    assert_eq!(resp.str(F::OIDC_FIELD_JTI).as_deref(), claims["jti"].as_str());
    assert_eq!(resp.str(F::OIDC_FIELD_ISS).as_deref(), Some(loopback().issuer.as_str()));
    {
        let seen = store.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert!(seen.keys().all(|k| k.starts_with("liboidc:logout:")));
    }
    // The same request again, non-blocking: a replay, the same code.
    let f = failure(r.send_async(std::ptr::null()));
    assert_eq!((f.code, f.returned), (R::TokenReplayed, false));
    let f = failure(r.send());
    assert_eq!(f.code, R::TokenReplayed);
    assert!(f.msg.contains("replayed logout token"), "{}", f.msg);

    // A fresh token through the non-blocking send; sid absent.
    let claims = loopback_claims(|m| {
        m.remove("sid");
    });
    let r2 = Req::new(&c, Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN).set(P::OIDC_PARAM_LOGOUT_TOKEN, &sign(&claims));
    let resp = r2.send_async(std::ptr::null()).unwrap();
    assert_eq!(resp.json(), claims);
    assert_eq!(resp.str(F::OIDC_FIELD_SID), None);
    assert_eq!(resp.str(F::OIDC_FIELD_JTI).as_deref(), claims["jti"].as_str());
    assert_eq!(failure(r2.send()).code, R::TokenReplayed);

    // Both transports give the same refusals.
    for (token, code) in [
        (sign_typed(None, &loopback_claims(|_| {})), R::TypeMismatch),
        (
            sign(&loopback_claims(|m| {
                m.insert("nonce".into(), json!("n"));
            })),
            R::InvalidClaim,
        ),
        (
            sign(&loopback_claims(|m| {
                m.remove("events");
            })),
            R::MissingClaim,
        ),
        (
            sign(&loopback_claims(|m| {
                m["aud"] = json!("rp-2");
            })),
            R::AudienceMismatch,
        ),
    ] {
        let r = Req::new(&c, Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN).set(P::OIDC_PARAM_LOGOUT_TOKEN, &token);
        let (a, b) = r.send_both();
        let (a, b) = (failure(a), failure(b));
        assert_eq!((a.code, b.code), (code, code));
        assert_eq!(a.summary, b.summary);
    }
    // The logout token through the ID-token operation: refused.
    let lt = sign(&loopback_claims(|_| {}));
    let r = Req::new(&c, Op::OIDC_OP_VALIDATE_ID_TOKEN).set(P::OIDC_PARAM_ID_TOKEN, &lt);
    let (a, b) = r.send_both();
    assert_eq!((failure(a).code, failure(b).code), (R::TypeMismatch, R::TypeMismatch));
    // ... and still a good logout token afterwards.
    Req::new(&c, Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN).set(P::OIDC_PARAM_LOGOUT_TOKEN, &lt).send().unwrap();
}

#[test]
fn c_abi_parameter_rules_and_the_untyped_opt_in() {
    let c = c_client(None);
    let r = Req::new(&c, Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN);
    let f = failure(r.send());
    assert!(f.code == R::InvalidArgument && f.msg.contains("requires OIDC_PARAM_LOGOUT_TOKEN"), "{}", f.msg);
    assert_eq!(failure(r.send_async(std::ptr::null())).code, R::InvalidArgument);
    assert!(failure(r.try_param("x", "y")).msg.contains("sends nothing"));
    assert!(failure(r.try_set(P::OIDC_PARAM_ID_TOKEN, "x")).msg.contains("does not apply to OIDC_OP_VALIDATE_LOGOUT_TOKEN"));
    assert!(failure(Req::new(&c, Op::OIDC_OP_VALIDATE_ID_TOKEN).try_set(P::OIDC_PARAM_LOGOUT_TOKEN, "x")).msg.contains("does not apply"));

    // The opt-in for untyped logout tokens, and its argument check.
    let idp = loopback();
    let b = oauth_builder_for(&idp.issuer, idp.ca.ca_pem_path().to_str().unwrap(), CLIENT);
    let mut e = std::ptr::null_mut();
    assert_eq!(oidc_oauth_builder_set_logout_accept_untyped(b, 2, &mut e), R::InvalidArgument);
    assert!(Fail::take(e, true).msg.contains("0 or 1"));
    let (mut out, mut e) = (std::ptr::null_mut(), std::ptr::null_mut());
    assert_eq!(oidc_oauth_builder_build(b, &mut out, &mut e), R::InvalidArgument, "the failed setter fails the build");
    assert!(out.is_null() && Fail::take(e, false).msg.contains("0 or 1"));
    let b = oauth_builder_for(&idp.issuer, idp.ca.ca_pem_path().to_str().unwrap(), CLIENT);
    assert_eq!(oidc_oauth_builder_set_logout_accept_untyped(b, 1, std::ptr::null_mut()), R::Ok);
    // A NULL callback clears the store (accepted).
    assert_eq!(oidc_oauth_builder_set_replay_store(b, None, std::ptr::null_mut(), std::ptr::null_mut()), R::Ok);
    let lax = oauth_build(b);
    let untyped = sign_typed(None, &loopback_claims(|_| {}));
    assert_eq!(
        failure(Req::new(&c, Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN).set(P::OIDC_PARAM_LOGOUT_TOKEN, &untyped).send()).code,
        R::TypeMismatch
    );
    let (a, b) = Req::new(&lax, Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN).set(P::OIDC_PARAM_LOGOUT_TOKEN, &untyped).send_both();
    assert!(a.is_ok());
    assert_eq!(failure(b).code, R::TokenReplayed);
    assert_eq!(
        oidc_oauth_builder_set_replay_store(std::ptr::null_mut(), None, std::ptr::null_mut(), std::ptr::null_mut()),
        R::NullParameter
    );
}

#[test]
fn c_abi_store_that_does_not_answer_refuses_503() {
    extern "C" fn down(_: *mut c_void, _: *const c_char, _: usize, _: u64) -> i32 {
        -1
    }
    let idp = loopback();
    let b = oauth_builder_for(&idp.issuer, idp.ca.ca_pem_path().to_str().unwrap(), CLIENT);
    assert_eq!(oidc_oauth_builder_set_replay_store(b, Some(down), std::ptr::null_mut(), std::ptr::null_mut()), R::Ok);
    let c = oauth_build(b);
    let r = Req::new(&c, Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN).set(P::OIDC_PARAM_LOGOUT_TOKEN, &sign(&loopback_claims(|_| {})));
    let (a, b) = r.send_both();
    let (a, b) = (failure(a), failure(b));
    assert_eq!(
        (a.code, b.code),
        (R::ReplayStoreUnavailable, R::ReplayStoreUnavailable),
        "a failed store does not burn the jti: same answer twice"
    );
}
