//! Request authentication beyond the shared vectors: every DPoP check failing alone with real
//! proof keys of each family, replay through a host replay store, the non-blocking call, bad
//! input through the C ABI, hostile proof keys, and secrets kept out of Debug output, messages
//! and logs. The vectors themselves run in tests/request_vectors_{core,abi}.rs.
//!
//! Each test uses its own issuer, and every proof has a fresh `jti`: the replay cache is
//! process-wide (keyed per issuer), and the tests of this file run in parallel.

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use oidc::core::authn::{Decision, RequestInput};
use oidc::core::config::NonceSecret;
use oidc::core::{Client, Config, ErrorKind, KeySource, ReplayStore};
use oidc::ffi::authn::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{oidc_error_code, oidc_error_free, oidc_error_message};
use oidc::ffi::oidc_result;
use oidc::ffi::validator::*;
use oidc_testkit::dpop::{ProofKey, ath, random_jti, sha256_b64};
use oidc_testkit::{Alg, TestKey, b64, b64_json};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;
const AUD: &str = "api://authn-tests";
const URL: &str = "https://api.authn.test/items?x=1";
const HTU: &str = "https://api.authn.test/items";

/// The token signing key (ES256), shared by every test.
fn token_key() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| TestKey::generate_with_kid(Alg::ES256, "authn-token-key"))
}

/// Proof keys, generated once per family (RSA generation is slow in debug builds).
fn proof_key(alg: Alg) -> &'static ProofKey {
    static KEYS: OnceLock<Mutex<HashMap<Alg, &'static ProofKey>>> = OnceLock::new();
    let mut m = KEYS.get_or_init(Default::default).lock().unwrap();
    m.entry(alg).or_insert_with(|| Box::leak(Box::new(ProofKey::new(alg))))
}

/// A second key of the same family (for "another key" checks).
fn other_key(alg: Alg) -> &'static ProofKey {
    static KEYS: OnceLock<Mutex<HashMap<Alg, &'static ProofKey>>> = OnceLock::new();
    let mut m = KEYS.get_or_init(Default::default).lock().unwrap();
    m.entry(alg).or_insert_with(|| Box::leak(Box::new(ProofKey::new(alg))))
}

fn issuer(test: &str) -> String {
    format!("https://{test}.{}.authn.test", &random_jti()[4..12])
}

fn config(iss: &str) -> Config {
    let mut cfg = Config::new(iss);
    cfg.key_source = KeySource::Static(oidc_testkit::jwks(&[token_key()]));
    cfg.audiences = vec![AUD.into()];
    cfg.expected_typ = Some("at+jwt".into());
    cfg.realm = Some("api".into());
    cfg
}

fn client(iss: &str) -> Client {
    Client::new(config(iss)).expect("client")
}

fn client_with(iss: &str, f: impl FnOnce(&mut Config)) -> Client {
    let mut cfg = config(iss);
    f(&mut cfg);
    Client::new(cfg).expect("client")
}

fn claims(iss: &str) -> Value {
    json!({"iss": iss, "aud": AUD, "sub": "alice", "scope": "read write", "iat": NOW - 10, "exp": NOW + 300, "client_id": "svc"})
}

fn token(iss: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut c = claims(iss);
    edit(&mut c);
    token_key().sign(&c)
}

fn bound_token(iss: &str, jkt: &str) -> String {
    token(iss, |c| c["cnf"] = json!({"jkt": jkt}))
}

fn bearer(token: &str) -> RequestInput {
    RequestInput {
        authorization: vec![format!("Bearer {token}").into_bytes()],
        method: "GET".into(),
        url: URL.into(),
        now: Some(NOW as f64),
        ..Default::default()
    }
}

fn dpop(token: &str, proof: &str) -> RequestInput {
    RequestInput { authorization: vec![format!("DPoP {token}").into_bytes()], dpop: vec![proof.as_bytes().to_vec()], ..bearer("x") }
}

fn proof(pk: &ProofKey, token: &str) -> String {
    pk.proof(token, "GET", HTU, NOW - 5)
}

fn proof_with(pk: &ProofKey, token: &str, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
    pk.proof_with(token, "GET", HTU, NOW - 5, edit)
}

fn decide(c: &Client, r: &RequestInput) -> Decision {
    c.authenticate(r).expect("a decision")
}

/// The denial's kind and message, or None when allowed.
fn denial(d: &Decision) -> Option<(ErrorKind, String)> {
    d.outcome.as_ref().err().map(|e| (e.kind(), e.message().to_string()))
}

fn assert_allowed(d: &Decision, what: &str) {
    assert!(d.allowed(), "{what}: denied: {:?}", d.outcome.as_ref().err());
    assert_eq!(d.status, 200, "{what}");
    assert!(d.challenges.is_empty(), "{what}");
}

fn remove(v: &mut Value, k: &str) {
    v.as_object_mut().unwrap().remove(k);
}

/// A proof key whose JWK is of another family than `alg` (for "jwk does not fit alg").
fn foreign_jwk(alg: Alg) -> Value {
    match alg.kty() {
        "EC" => proof_key(Alg::EdDSA).jwk.clone(),
        _ => proof_key(Alg::ES256).jwk.clone(),
    }
}

const DEFAULT_DPOP_ALGS: [&str; 6] = ["ES256", "ES384", "ES512", "EdDSA", "RS256", "PS256"];

/// Every check of RFC 9449 §4.3 (and the binding rules of §7) failing alone, for proofs made
/// with real ES256, EdDSA, RS256 and PS256 keys: each case differs from an allowed request in
/// one thing, and is denied with the code, status, error and challenge of that one thing.
#[test]
fn every_dpop_check_fails_alone_for_each_proof_algorithm() {
    for alg in [Alg::ES256, Alg::EdDSA, Alg::RS256, Alg::PS256] {
        let iss = issuer(&format!("alone-{}", alg.name().to_lowercase()));
        let c = client(&iss);
        let pk = proof_key(alg);
        let tok = bound_token(&iss, &pk.jkt);
        let unbound = token(&iss, |_| {});
        let name = alg.name();

        // The baseline is allowed, as are the URL forms that must compare equal.
        assert_allowed(&decide(&c, &dpop(&tok, &proof(pk, &tok))), name);
        let d = decide(&c, &dpop(&tok, &proof(pk, &tok)));
        assert_eq!(d.outcome.as_ref().unwrap().token_type.name(), "DPoP");
        let htu_qf = proof_with(pk, &tok, |_, c| c["htu"] = json!("https://api.authn.test/items?other=1#frag"));
        assert_allowed(&decide(&c, &dpop(&tok, &htu_qf)), "htu query and fragment ignored");
        let upper = RequestInput { url: "HTTPS://API.Authn.Test:443/items?x=1".into(), ..dpop(&tok, &proof(pk, &tok)) };
        assert_allowed(&decide(&c, &upper), "host case and default port");
        let dots = proof_with(pk, &tok, |_, c| c["htu"] = json!("https://api.authn.test/a/../items"));
        assert_allowed(&decide(&c, &dpop(&tok, &dots)), "dot segments");

        let sig_by_other = proof_with(other_key(alg), &tok, |h, _| h["jwk"] = pk.jwk.clone());
        let unsigned = |a: &str| {
            let mut h = pk.header();
            h["alg"] = json!(a);
            format!("{}.{}.{}", b64_json(&h), b64_json(&ProofKey::claims(&tok, "GET", HTU, NOW - 5)), b64([3u8; 32]))
        };
        let good = proof(pk, &tok);
        let parts: Vec<&str> = good.split('.').collect();
        use ErrorKind::*;
        let cases: Vec<(&str, RequestInput, ErrorKind, &str)> = vec![
            ("no DPoP header", RequestInput { dpop: vec![], ..dpop(&tok, "") }, DpopProofInvalid, "needs a DPoP proof"),
            (
                "two DPoP headers",
                RequestInput { dpop: vec![proof(pk, &tok).into_bytes(), proof(pk, &tok).into_bytes()], ..dpop(&tok, "") },
                DpopProofInvalid,
                "more than one DPoP header",
            ),
            ("not a JWS", dpop(&tok, "not-a-jws"), DpopProofInvalid, "compact JWS"),
            ("four segments", dpop(&tok, &format!("{good}.{}", parts[2])), DpopProofInvalid, "compact JWS"),
            ("padded base64", dpop(&tok, &format!("{}=.{}.{}", parts[0], parts[1], parts[2])), DpopProofInvalid, "base64url"),
            ("typ jwt", dpop(&tok, &proof_with(pk, &tok, |h, _| h["typ"] = json!("jwt"))), DpopProofInvalid, "typ"),
            ("typ missing", dpop(&tok, &proof_with(pk, &tok, |h, _| remove(h, "typ"))), DpopProofInvalid, "typ"),
            ("typ at+jwt", dpop(&tok, &proof_with(pk, &tok, |h, _| h["typ"] = json!("at+jwt"))), DpopProofInvalid, "typ"),
            ("alg none", dpop(&tok, &unsigned("none")), DpopProofInvalid, "alg none"),
            ("alg HS256", dpop(&tok, &unsigned("HS256")), DpopProofInvalid, "symmetric"),
            ("alg unknown", dpop(&tok, &unsigned("XY999")), DpopProofInvalid, "unknown"),
            ("no jwk", dpop(&tok, &proof_with(pk, &tok, |h, _| remove(h, "jwk"))), DpopProofInvalid, "no jwk"),
            ("jwk with d", dpop(&tok, &proof_with(pk, &tok, |h, _| h["jwk"]["d"] = json!(b64([1u8; 32])))), DpopProofInvalid, "private"),
            ("jwk with p", dpop(&tok, &proof_with(pk, &tok, |h, _| h["jwk"]["p"] = json!(b64([1u8; 32])))), DpopProofInvalid, "private"),
            ("jwk of another family", dpop(&tok, &proof_with(pk, &tok, |h, _| h["jwk"] = foreign_jwk(alg))), DpopProofInvalid, "unusable"),
            ("jwk not an object", dpop(&tok, &proof_with(pk, &tok, |h, _| h["jwk"] = json!("key"))), DpopProofInvalid, "not an object"),
            ("signature by another key", dpop(&tok, &sig_by_other), DpopProofInvalid, "signature"),
            ("signature garbage", dpop(&tok, &format!("{}.{}.{}", parts[0], parts[1], b64([7u8; 64]))), DpopProofInvalid, "signature"),
            ("crit header", dpop(&tok, &proof_with(pk, &tok, |h, _| h["crit"] = json!(["x"]))), DpopProofInvalid, "crit"),
            ("no jti", dpop(&tok, &proof_with(pk, &tok, |_, c| remove(c, "jti"))), DpopProofInvalid, "jti"),
            ("jti not a string", dpop(&tok, &proof_with(pk, &tok, |_, c| c["jti"] = json!(5))), DpopProofInvalid, "jti"),
            ("jti too long", dpop(&tok, &proof_with(pk, &tok, |_, c| c["jti"] = json!("j".repeat(300)))), DpopProofInvalid, "jti"),
            ("no htm", dpop(&tok, &proof_with(pk, &tok, |_, c| remove(c, "htm"))), DpopProofInvalid, "htm"),
            ("no htu", dpop(&tok, &proof_with(pk, &tok, |_, c| remove(c, "htu"))), DpopProofInvalid, "htu"),
            ("no iat", dpop(&tok, &proof_with(pk, &tok, |_, c| remove(c, "iat"))), DpopProofInvalid, "iat"),
            ("iat a string", dpop(&tok, &proof_with(pk, &tok, |_, c| c["iat"] = json!("1800000000"))), DpopProofInvalid, "iat"),
            ("no ath", dpop(&tok, &proof_with(pk, &tok, |_, c| remove(c, "ath"))), DpopProofInvalid, "ath"),
            ("nonce not a string", dpop(&tok, &proof_with(pk, &tok, |_, c| c["nonce"] = json!(1))), DpopProofInvalid, "nonce"),
            ("htm POST", dpop(&tok, &proof_with(pk, &tok, |_, c| c["htm"] = json!("POST"))), DpopProofMismatch, "htm"),
            ("htm get", dpop(&tok, &proof_with(pk, &tok, |_, c| c["htm"] = json!("get"))), DpopProofMismatch, "htm"),
            (
                "htu other path",
                dpop(&tok, &proof_with(pk, &tok, |_, c| c["htu"] = json!("https://api.authn.test/items/1"))),
                DpopProofMismatch,
                "htu",
            ),
            (
                "htu other port",
                dpop(&tok, &proof_with(pk, &tok, |_, c| c["htu"] = json!("https://api.authn.test:444/items"))),
                DpopProofMismatch,
                "htu",
            ),
            ("htu relative", dpop(&tok, &proof_with(pk, &tok, |_, c| c["htu"] = json!("/items"))), DpopProofMismatch, "htu"),
            ("iat too old", dpop(&tok, &proof_with(pk, &tok, |_, c| c["iat"] = json!(NOW - 61))), DpopProofStale, "issued at"),
            ("iat in the future", dpop(&tok, &proof_with(pk, &tok, |_, c| c["iat"] = json!(NOW + 61))), DpopProofStale, "issued at"),
            ("ath of another token", dpop(&tok, &proof_with(pk, &tok, |_, c| c["ath"] = json!(ath(&unbound)))), DpopProofMismatch, "ath"),
            ("proof by a key other than cnf.jkt", dpop(&tok, &proof(other_key(alg), &tok)), TokenBindingMismatch, "cnf.jkt"),
            ("bound token sent as Bearer", bearer(&tok), TokenBindingMismatch, "Bearer scheme"),
            ("DPoP scheme with an unbound token", dpop(&unbound, &proof(pk, &unbound)), TokenBindingMismatch, "not DPoP-bound"),
        ];
        for (what, req, kind, needle) in cases {
            let d = decide(&c, &req);
            let Some((k, msg)) = denial(&d) else { panic!("{name} {what}: allowed") };
            assert_eq!(k, kind, "{name} {what}: {msg}");
            assert!(msg.contains(needle), "{name} {what}: message {msg:?} does not name {needle:?}");
            assert_eq!(d.status, 401, "{name} {what}");
            assert!(d.dpop_nonce.is_none());
            // The error goes on the scheme the request used.
            let used = if what == "bound token sent as Bearer" { 0 } else { 1 };
            let want_err = if kind == TokenBindingMismatch { "invalid_token" } else { "invalid_dpop_proof" };
            assert_eq!(d.error_code(), Some(want_err), "{name} {what}");
            assert!(d.challenges[used].contains(&format!("error=\"{want_err}\"")), "{name} {what}: {:?}", d.challenges);
            assert!(!d.challenges[1 - used].contains("error="), "{name} {what}: {:?}", d.challenges);
        }

        // The algorithm allow-list: the same proof is refused when its alg is not listed.
        let others: Vec<&str> = DEFAULT_DPOP_ALGS.iter().copied().filter(|a| *a != name).collect();
        let strict = client_with(&iss, |cfg| cfg.set_dpop_algorithms(others.iter().copied()).unwrap());
        let d = decide(&strict, &dpop(&tok, &proof(pk, &tok)));
        let (k, msg) = denial(&d).expect("denied");
        assert_eq!(k, DpopProofInvalid, "{name} not in the allow-list");
        assert!(msg.contains("not allowed"), "{msg}");
        assert!(!d.challenges[1].contains(name), "the refused alg is not offered: {:?}", d.challenges);
    }
}

/// A host replay store in memory, as a Redis `SET key 1 NX EX ttl` would behave, that can be
/// taken down or made to panic.
#[derive(Default)]
struct MemStore {
    seen: Mutex<HashMap<String, u64>>,
    calls: AtomicUsize,
    down: AtomicBool,
    panics: AtomicBool,
}

impl ReplayStore for MemStore {
    fn check_and_record(&self, key: &str, ttl_secs: u64) -> Result<bool, ()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.panics.load(Ordering::SeqCst) {
            panic!("the store's client library panicked");
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(());
        }
        let mut m = self.seen.lock().unwrap();
        if m.contains_key(key) {
            return Ok(false);
        }
        m.insert(key.to_string(), ttl_secs);
        Ok(true)
    }
}

#[test]
fn replay_through_a_host_store() {
    let iss = issuer("replay-store");
    let store = Arc::new(MemStore::default());
    let c = client_with(&iss, |cfg| cfg.resource.dpop.replay_store = Some(store.clone()));
    let pk = proof_key(Alg::ES256);
    let tok = bound_token(&iss, &pk.jkt);
    let calls = || store.calls.load(Ordering::SeqCst);

    // First use: allowed, recorded in the store with a bounded TTL.
    let p1 = proof(pk, &tok);
    assert_allowed(&decide(&c, &dpop(&tok, &p1)), "first use");
    assert_eq!(calls(), 1);
    {
        let m = store.seen.lock().unwrap();
        let (key, ttl) = m.iter().next().unwrap();
        assert!(key.starts_with("liboidc:dpop:") && key.is_ascii(), "{key}");
        assert!(!key.contains("jti-"), "the store key does not carry the jti itself: {key}");
        // iat = now - 5, window 60, leeway 60: the proof can be accepted for at most 115 s more.
        assert!((55..=125).contains(ttl), "ttl {ttl}");
    }

    // Replay in this process: the local cache answers, the store is not asked.
    let d = decide(&c, &dpop(&tok, &p1));
    assert_eq!(denial(&d).unwrap().0, ErrorKind::DpopReplay);
    assert_eq!((d.status, d.error_code()), (401, Some("invalid_dpop_proof")));
    assert_eq!(calls(), 1);

    // Replay that another process of the fleet saw first: the store answers "seen".
    let p2 = proof(pk, &tok);
    let jti2 = serde_json::from_slice::<Value>(&oidc_testkit::keys::b64_decode(p2.split('.').nth(1).unwrap()).unwrap()).unwrap()["jti"]
        .as_str()
        .unwrap()
        .to_string();
    store.seen.lock().unwrap().insert(oidc::core::authn::replay::store_key(&iss, &jti2), 60);
    let d = decide(&c, &dpop(&tok, &p2));
    assert_eq!(denial(&d).unwrap().0, ErrorKind::DpopReplay, "seen by another process");
    assert_eq!(calls(), 2);

    // Store down: 503, no challenge, never allowed; the jti is not burned.
    store.down.store(true, Ordering::SeqCst);
    let p3 = proof(pk, &tok);
    let d = decide(&c, &dpop(&tok, &p3));
    assert_eq!(denial(&d).unwrap().0, ErrorKind::ReplayStoreUnavailable);
    assert_eq!(d.status, 503);
    assert!(d.challenges.is_empty() && d.error_code().is_none());
    let d = decide(&c, &dpop(&tok, &p3));
    assert_eq!(denial(&d).unwrap().0, ErrorKind::ReplayStoreUnavailable, "still down: asked again, not a local replay");
    store.down.store(false, Ordering::SeqCst);
    assert_allowed(&decide(&c, &dpop(&tok, &p3)), "the store is back: the proof was not burned");
    let d = decide(&c, &dpop(&tok, &p3));
    assert_eq!(denial(&d).unwrap().0, ErrorKind::DpopReplay, "and now it is used");

    // A panicking store is a store that did not answer.
    store.panics.store(true, Ordering::SeqCst);
    let p4 = proof(pk, &tok);
    let d = decide(&c, &dpop(&tok, &p4));
    assert_eq!((denial(&d).unwrap().0, d.status), (ErrorKind::ReplayStoreUnavailable, 503));
    store.panics.store(false, Ordering::SeqCst);
    assert_allowed(&decide(&c, &dpop(&tok, &p4)), "after the panic");

    // A request denied for another reason never reaches the store, and does not use its jti.
    let before = calls();
    let p5 = proof(pk, &tok);
    let d = decide(&c, &RequestInput { method: "POST".into(), ..dpop(&tok, &p5) });
    assert_eq!(denial(&d).unwrap().0, ErrorKind::DpopProofMismatch);
    assert_eq!(calls(), before);
    assert_allowed(&decide(&c, &dpop(&tok, &p5)), "the proof is still fresh");

    // Bearer requests never touch the store.
    let before = calls();
    assert_allowed(&decide(&c, &bearer(&token(&iss, |_| {}))), "bearer");
    assert_eq!(calls(), before);
}

// ---- the C ABI ----

fn ok(rc: oidc_result, err: *mut oidc_error, what: &str) {
    if rc != oidc_result::Ok {
        let msg = unsafe { CStr::from_ptr(oidc_error_message(err)) }.to_string_lossy().into_owned();
        oidc_error_free(err);
        panic!("{what}: {rc:?}: {msg}");
    }
}

/// Expect `rc` with an error object of that code; returns its message.
fn fails(rc: oidc_result, err: *mut oidc_error, want: oidc_result, what: &str) -> String {
    assert_eq!(rc, want, "{what}");
    assert!(!err.is_null(), "{what}: an error object");
    assert_eq!(oidc_error_code(err), want, "{what}");
    let msg = unsafe { CStr::from_ptr(oidc_error_message(err)) }.to_string_lossy().into_owned();
    oidc_error_free(err);
    msg
}

fn put(
    b: *mut oidc_validator_builder,
    f: extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result,
    s: &str,
) {
    let mut err = std::ptr::null_mut();
    ok(f(b, s.as_ptr().cast(), s.len(), &mut err), err, "builder setter");
}

/// A C client for `iss` (static JWKS, audience, realm "api"); `more` adds builder calls.
fn c_client(iss: &str, more: impl FnOnce(*mut oidc_validator_builder)) -> *mut oidc_validator {
    let mut err = std::ptr::null_mut();
    let mut b = std::ptr::null_mut();
    ok(oidc_validator_builder_new(&mut b, &mut err), err, "builder");
    put(b, oidc_validator_builder_set_issuer, iss);
    put(b, oidc_validator_builder_set_jwks_json, &oidc_testkit::jwks(&[token_key()]));
    put(b, oidc_validator_builder_add_audience, AUD);
    put(b, oidc_validator_builder_set_realm, "api");
    more(b);
    let mut c = std::ptr::null_mut();
    ok(oidc_validator_builder_build(b, &mut c, &mut err), err, "build");
    c
}

struct CReq(*mut oidc_http_request);

impl CReq {
    fn new() -> CReq {
        let mut err = std::ptr::null_mut();
        let mut r = std::ptr::null_mut();
        ok(oidc_http_request_new(&mut r, &mut err), err, "request");
        CReq(r)
    }
    fn header(&self, name: &str, value: &[u8]) -> oidc_result {
        oidc_http_request_add_header(self.0, name.as_ptr().cast(), name.len(), value.as_ptr(), value.len(), std::ptr::null_mut())
    }
    fn basic(&self, method: &str, url: &str) {
        let mut err = std::ptr::null_mut();
        ok(oidc_http_request_set_method(self.0, method.as_ptr().cast(), method.len(), &mut err), err, "method");
        ok(oidc_http_request_set_url(self.0, url.as_ptr().cast(), url.len(), &mut err), err, "url");
        ok(oidc_http_request_set_now(self.0, NOW, &mut err), err, "now");
    }
    fn bearer(token: &str) -> CReq {
        let r = CReq::new();
        assert_eq!(r.header("Authorization", format!("Bearer {token}").as_bytes()), oidc_result::Ok);
        r.basic("GET", URL);
        r
    }
    fn dpop(token: &str, proof: &str) -> CReq {
        let r = CReq::new();
        assert_eq!(r.header("Authorization", format!("DPoP {token}").as_bytes()), oidc_result::Ok);
        assert_eq!(r.header("DPoP", proof.as_bytes()), oidc_result::Ok);
        r.basic("GET", URL);
        r
    }
}

impl Drop for CReq {
    fn drop(&mut self) {
        oidc_http_request_free(self.0);
    }
}

fn null<T>() -> *mut T {
    std::ptr::null_mut()
}

fn cstr(p: *const c_char, len: usize) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let s = unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string();
    assert_eq!(s.len(), len);
    Some(s)
}

/// Everything a decision says, read through the getters.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    allowed: u32,
    code: u32,
    status: u32,
    error: Option<String>,
    message: Option<String>,
    claims: Option<String>,
    token_type: Option<String>,
    challenges: Vec<String>,
    nonce: Option<String>,
}

fn read_decision(d: *const oidc_decision) -> Seen {
    let mut n = 0usize;
    let tt = oidc_decision_token_type(d);
    Seen {
        allowed: oidc_decision_allowed(d),
        code: oidc_decision_code(d) as u32,
        status: oidc_decision_http_status(d),
        error: cstr(oidc_decision_error(d, &mut n), n),
        message: cstr(oidc_decision_message(d, &mut n), n),
        claims: cstr(oidc_decision_claims(d, &mut n), n),
        token_type: (!tt.is_null()).then(|| unsafe { CStr::from_ptr(tt) }.to_str().unwrap().to_string()),
        challenges: (0..oidc_decision_challenge_count(d)).map(|i| cstr(oidc_decision_challenge(d, i, &mut n), n).unwrap()).collect(),
        nonce: cstr(oidc_decision_dpop_nonce(d, &mut n), n),
    }
}

fn c_decide(c: *const oidc_validator, r: &CReq) -> Seen {
    let mut err = std::ptr::null_mut();
    let mut d = std::ptr::null_mut();
    ok(oidc_authenticate(c, r.0, &mut d, &mut err), err, "authenticate");
    let s = read_decision(d);
    oidc_decision_free(d);
    s
}

/// A replay store over the C ABI: the callback answers what `answer` holds.
struct CStore {
    answer: std::sync::atomic::AtomicI32,
    keys: Mutex<Vec<(String, u64)>>,
}

extern "C" fn c_store_cb(ud: *mut c_void, key: *const c_char, key_len: usize, ttl: u64) -> i32 {
    let s = unsafe { &*(ud as *const CStore) };
    let key = std::str::from_utf8(unsafe { std::slice::from_raw_parts(key.cast::<u8>(), key_len) }).unwrap().to_string();
    s.keys.lock().unwrap().push((key, ttl));
    s.answer.load(Ordering::SeqCst)
}

#[test]
fn c_abi_replay_store_callback() {
    let iss = issuer("c-store");
    let store: &'static CStore = Box::leak(Box::new(CStore { answer: 1.into(), keys: Mutex::new(vec![]) }));
    let c = c_client(&iss, |b| {
        let mut err = std::ptr::null_mut();
        ok(
            oidc_validator_builder_set_dpop_replay_store(b, Some(c_store_cb), store as *const CStore as *mut c_void, &mut err),
            err,
            "store",
        );
    });
    let pk = proof_key(Alg::EdDSA);
    let tok = bound_token(&iss, &pk.jkt);
    let p1 = proof(pk, &tok);
    let s = c_decide(c, &CReq::dpop(&tok, &p1));
    assert_eq!((s.allowed, s.code, s.status), (1, 0, 200), "{s:?}");
    assert_eq!(s.token_type.as_deref(), Some("DPoP"));
    assert_eq!(store.keys.lock().unwrap().len(), 1);
    assert!(store.keys.lock().unwrap()[0].0.starts_with("liboidc:dpop:"));

    store.answer.store(0, Ordering::SeqCst);
    let s = c_decide(c, &CReq::dpop(&tok, &proof(pk, &tok)));
    assert_eq!((s.allowed, s.code, s.status), (0, oidc_result::DpopReplay as u32, 401), "store says seen");
    assert_eq!(s.error.as_deref(), Some("invalid_dpop_proof"));

    for down in [-1, -100, 2, 7] {
        store.answer.store(down, Ordering::SeqCst);
        let p = proof(pk, &tok);
        let s = c_decide(c, &CReq::dpop(&tok, &p));
        assert_eq!((s.allowed, s.code, s.status), (0, oidc_result::ReplayStoreUnavailable as u32, 503), "answer {down}");
        assert!(s.challenges.is_empty() && s.error.is_none());
        store.answer.store(1, Ordering::SeqCst);
        let s = c_decide(c, &CReq::dpop(&tok, &p));
        assert_eq!(s.allowed, 1, "answer {down}: the jti was not burned");
    }
    // Clearing the store (NULL callback) is allowed.
    let c2 = c_client(&iss, |b| {
        let mut err = std::ptr::null_mut();
        ok(
            oidc_validator_builder_set_dpop_replay_store(b, Some(c_store_cb), store as *const CStore as *mut c_void, &mut err),
            err,
            "store",
        );
        ok(oidc_validator_builder_set_dpop_replay_store(b, None, std::ptr::null_mut(), &mut err), err, "clear");
    });
    let before = store.keys.lock().unwrap().len();
    assert_eq!(c_decide(c2, &CReq::dpop(&tok, &proof(pk, &tok))).allowed, 1);
    assert_eq!(store.keys.lock().unwrap().len(), before, "no store after clearing");
    oidc_validator_free(c);
    oidc_validator_free(c2);
}

/// One callback: the code, the decision, the error message, the thread it ran on.
type Delivery = (u32, Option<Seen>, Option<String>, std::thread::ThreadId);

/// What the async callback saw.
struct AsyncBox {
    calls: AtomicUsize,
    got: Mutex<Vec<Delivery>>,
}

extern "C" fn on_decision(ud: *mut c_void, rc: oidc_result, d: *const oidc_decision, err: *const oidc_error) {
    let b = unsafe { &*(ud as *const AsyncBox) };
    b.calls.fetch_add(1, Ordering::SeqCst);
    let seen = (!d.is_null()).then(|| read_decision(d));
    let msg = (!err.is_null()).then(|| unsafe { CStr::from_ptr(oidc_error_message(err)) }.to_string_lossy().into_owned());
    b.got.lock().unwrap().push((rc as u32, seen, msg, std::thread::current().id()));
}

fn wait_calls(b: &AsyncBox, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while b.calls.load(Ordering::SeqCst) < n {
        assert!(Instant::now() < deadline, "callback not delivered");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn async_delivers_the_same_decision_once_off_the_caller_thread() {
    let iss = issuer("async");
    let c = c_client(&iss, |_| {});
    let pk = proof_key(Alg::ES256);
    let tok = bound_token(&iss, &pk.jkt);
    let unbound = token(&iss, |_| {});
    let expired = token(&iss, |c| c["exp"] = json!(NOW - 100));
    let no_header = || {
        let r = CReq::new();
        r.basic("GET", URL);
        r
    };
    // Pairs of requests that must get the same decision (two fresh proofs where a proof would
    // be used up by the first call).
    type MakeReq<'a> = Box<dyn Fn() -> CReq + 'a>;
    let pairs: Vec<(&str, MakeReq)> = vec![
        ("bearer allowed", Box::new(|| CReq::bearer(&unbound))),
        ("expired", Box::new(|| CReq::bearer(&expired))),
        ("no header", Box::new(no_header)),
        ("dpop allowed", Box::new(|| CReq::dpop(&tok, &proof(pk, &tok)))),
        ("bad proof", Box::new(|| CReq::dpop(&tok, "a.b.c"))),
        ("bound token as bearer", Box::new(|| CReq::bearer(&tok))),
    ];
    let me = std::thread::current().id();
    for (what, make) in &pairs {
        let b: &'static AsyncBox = Box::leak(Box::new(AsyncBox { calls: 0.into(), got: Mutex::new(vec![]) }));
        let r = make();
        let mut err = std::ptr::null_mut();
        let rc = oidc_authenticate_async(c, r.0, Some(on_decision), b as *const AsyncBox as *mut c_void, std::ptr::null(), &mut err);
        ok(rc, err, what);
        drop(r); // the request was copied: free it at once
        wait_calls(b, 1);
        let sync = c_decide(c, &make());
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(b.calls.load(Ordering::SeqCst), 1, "{what}: exactly once");
        let got = b.got.lock().unwrap();
        let (rc, seen, msg, thread) = &got[0];
        assert_eq!(*rc, 0, "{what}: {msg:?}");
        assert!(msg.is_none());
        assert_ne!(*thread, me, "{what}: off the caller thread");
        assert_eq!(seen.as_ref().unwrap(), &sync, "{what}: the same decision as oidc_authenticate");
    }

    // A proof used by an async call is used: the blocking call sees the replay.
    let p = proof(pk, &tok);
    let b: &'static AsyncBox = Box::leak(Box::new(AsyncBox { calls: 0.into(), got: Mutex::new(vec![]) }));
    let mut err = std::ptr::null_mut();
    ok(
        oidc_authenticate_async(
            c,
            CReq::dpop(&tok, &p).0,
            Some(on_decision),
            b as *const AsyncBox as *mut c_void,
            std::ptr::null(),
            &mut err,
        ),
        err,
        "async",
    );
    wait_calls(b, 1);
    assert_eq!(b.got.lock().unwrap()[0].1.as_ref().unwrap().allowed, 1);
    assert_eq!(c_decide(c, &CReq::dpop(&tok, &p)).code, oidc_result::DpopReplay as u32);

    // Misuse is answered by the call itself, and then the callback never runs.
    let b: &'static AsyncBox = Box::leak(Box::new(AsyncBox { calls: 0.into(), got: Mutex::new(vec![]) }));
    let ud = b as *const AsyncBox as *mut c_void;
    let r = CReq::new(); // no method, no URL
    let mut err = std::ptr::null_mut();
    let rc = oidc_authenticate_async(c, r.0, Some(on_decision), ud, std::ptr::null(), &mut err);
    fails(rc, err, oidc_result::InvalidArgument, "async without method");
    let mut err = std::ptr::null_mut();
    let rc = oidc_authenticate_async(c, r.0, None, ud, std::ptr::null(), &mut err);
    fails(rc, err, oidc_result::NullParameter, "async without callback");
    let mut err = std::ptr::null_mut();
    let rc = oidc_authenticate_async(std::ptr::null(), r.0, Some(on_decision), ud, std::ptr::null(), &mut err);
    fails(rc, err, oidc_result::NullParameter, "async without client");
    let mut err = std::ptr::null_mut();
    let rc = oidc_authenticate_async(c, std::ptr::null(), Some(on_decision), ud, std::ptr::null(), &mut err);
    fails(rc, err, oidc_result::NullParameter, "async without request");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(b.calls.load(Ordering::SeqCst), 0, "no callback after a refused call");

    // A cancelled call completes once with CANCELLED and no decision.
    let mut cancel = std::ptr::null_mut();
    let mut err = std::ptr::null_mut();
    ok(oidc::ffi::cancel::oidc_cancel_new(0, &mut cancel, &mut err), err, "cancel");
    oidc::ffi::cancel::oidc_cancel_trigger(cancel);
    let b: &'static AsyncBox = Box::leak(Box::new(AsyncBox { calls: 0.into(), got: Mutex::new(vec![]) }));
    let r = CReq::bearer(&unbound);
    ok(oidc_authenticate_async(c, r.0, Some(on_decision), b as *const AsyncBox as *mut c_void, cancel, &mut err), err, "async");
    wait_calls(b, 1);
    let got = b.got.lock().unwrap();
    assert_eq!(got[0].0, oidc_result::Cancelled as u32);
    assert!(got[0].1.is_none() && got[0].2.is_some());
    oidc::ffi::cancel::oidc_cancel_free(cancel);
    oidc_validator_free(c);
}

#[test]
fn c_abi_bad_input() {
    let iss = issuer("bad-input");
    let c = c_client(&iss, |_| {});
    let tok = token(&iss, |_| {});

    // NULL pointers.
    let mut err = null();
    fails(oidc_http_request_new(null(), &mut err), err, oidc_result::NullParameter, "new(NULL)");
    let r = CReq::bearer(&tok);
    let sentinel = std::ptr::dangling_mut::<oidc_decision>();
    let mut d = sentinel; // must stay untouched on failure
    let mut err = null();
    fails(oidc_authenticate(std::ptr::null(), r.0, &mut d, &mut err), err, oidc_result::NullParameter, "NULL client");
    let mut err = null();
    fails(oidc_authenticate(c, std::ptr::null(), &mut d, &mut err), err, oidc_result::NullParameter, "NULL request");
    let mut err = null();
    fails(oidc_authenticate(c, r.0, null(), &mut err), err, oidc_result::NullParameter, "NULL decision_out");
    assert_eq!(d, sentinel, "no decision written on failure");
    assert_eq!(oidc_authenticate(c, std::ptr::null(), &mut d, null()), oidc_result::NullParameter, "NULL err_out is fine");
    let mut err = null();
    fails(oidc_http_request_set_method(null(), "GET".as_ptr().cast(), 3, &mut err), err, oidc_result::NullParameter, "set_method(NULL)");
    let mut err = null();
    fails(oidc_http_request_set_url(null(), URL.as_ptr().cast(), URL.len(), &mut err), err, oidc_result::NullParameter, "set_url(NULL)");
    let mut err = null();
    fails(oidc_http_request_set_now(null(), NOW, &mut err), err, oidc_result::NullParameter, "set_now(NULL)");
    let mut err = null();
    fails(oidc_http_request_set_client_cert(null(), [1u8].as_ptr(), 1, &mut err), err, oidc_result::NullParameter, "set_cert(NULL)");
    let mut err = null();
    fails(oidc_http_request_set_client_cert(r.0, std::ptr::null(), 5, &mut err), err, oidc_result::NullParameter, "cert NULL with length");
    let mut err = null();
    let rc = oidc_http_request_add_header(null(), "DPoP".as_ptr().cast(), 4, b"x".as_ptr(), 1, &mut err);
    fails(rc, err, oidc_result::NullParameter, "add_header(NULL request)");
    let mut err = null();
    let rc = oidc_http_request_add_header(r.0, std::ptr::null(), 4, b"x".as_ptr(), 1, &mut err);
    fails(rc, err, oidc_result::NullParameter, "NULL name");
    let mut err = null();
    let rc = oidc_http_request_add_header(r.0, "DPoP".as_ptr().cast(), 4, std::ptr::null(), 9, &mut err);
    fails(rc, err, oidc_result::NullParameter, "NULL value with a length");
    oidc_http_request_free(std::ptr::null_mut());
    oidc_http_request_reset(std::ptr::null_mut());
    oidc_decision_free(std::ptr::null_mut());

    // Invalid UTF-8 where text is required; unknown header names.
    let bad = b"G\xffT";
    let mut err = null();
    fails(oidc_http_request_set_method(r.0, bad.as_ptr().cast(), 3, &mut err), err, oidc_result::InvalidUtf8, "method");
    let bad_url = b"https://api.authn.test/\xc3\x28";
    let mut err = null();
    fails(oidc_http_request_set_url(r.0, bad_url.as_ptr().cast(), bad_url.len(), &mut err), err, oidc_result::InvalidUtf8, "url");
    let mut err = null();
    let rc = oidc_http_request_add_header(r.0, b"DPo\xff".as_ptr().cast(), 4, b"x".as_ptr(), 1, &mut err);
    fails(rc, err, oidc_result::InvalidUtf8, "header name");
    for name in ["Cookie", "Authorization ", "DPoP-Nonce", "", "X-Forwarded-Host"] {
        let secret_value = b"Bearer s3cr3t-h34d3r-v4lu3";
        let mut err = null();
        let rc = oidc_http_request_add_header(r.0, name.as_ptr().cast(), name.len(), secret_value.as_ptr(), secret_value.len(), &mut err);
        let msg = fails(rc, err, oidc_result::InvalidArgument, name);
        assert!(!msg.contains("s3cr3t"), "the value is not echoed: {msg}");
    }
    // The request is unchanged by the refused calls: still the one Bearer token, allowed.
    assert_eq!(c_decide(c, &r).allowed, 1);

    // Header values that are not UTF-8 are the request's fault: a 400 decision.
    for v in [&b"Bearer \xff\xfe"[..], b"Bearer abc\x00def", b"Bearer \xc3\xa9t\xc3\xa9", b"\xffBearer abc"] {
        let r = CReq::new();
        assert_eq!(r.header("AUTHORIZATION", v), oidc_result::Ok);
        r.basic("GET", URL);
        let s = c_decide(c, &r);
        assert_eq!(s.allowed, 0, "{v:?}");
        if v[0] == 0xff {
            assert_eq!((s.code, s.status), (oidc_result::TokenMissing as u32, 401), "an unknown scheme: {v:?}");
        } else {
            assert_eq!((s.code, s.status), (oidc_result::RequestMalformed as u32, 400), "{v:?}");
            assert_eq!(s.error.as_deref(), Some("invalid_request"));
        }
    }
    let r = CReq::dpop(&tok, "");
    assert_eq!(r.header("dpop", b"\xff\xfe.\x00.x"), oidc_result::Ok);
    let s = c_decide(c, &r);
    assert_eq!(s.code, oidc_result::DpopProofInvalid as u32, "two DPoP values, one not UTF-8");
    let r = CReq::new();
    assert_eq!(r.header("Authorization", format!("DPoP {tok}").as_bytes()), oidc_result::Ok);
    assert_eq!(r.header("DPoP", b"\xff\xfe.\xfd.x"), oidc_result::Ok);
    r.basic("GET", URL);
    assert_eq!(c_decide(c, &r).code, oidc_result::DpopProofInvalid as u32, "a proof that is not UTF-8");
    // An empty value (NULL, 0) is accepted and judged.
    let r = CReq::new();
    assert_eq!(oidc_http_request_add_header(r.0, "Authorization".as_ptr().cast(), 13, std::ptr::null(), 0, null()), oidc_result::Ok);
    r.basic("GET", URL);
    assert_eq!(c_decide(c, &r).code, oidc_result::RequestMalformed as u32);

    // Missing method, or a URL that is not absolute http(s): misuse by the host, no decision.
    for (m, u) in [("", URL), ("GET", ""), ("GET", "/items"), ("GET", "ftp://api.authn.test/")] {
        let r = CReq::bearer(&tok);
        let mut err = null();
        if !m.is_empty() || u.is_empty() {
            ok(oidc_http_request_set_method(r.0, m.as_ptr().cast(), m.len(), &mut err), err, "method");
        }
        if m.is_empty() {
            oidc_http_request_reset(r.0);
            assert_eq!(r.header("Authorization", format!("Bearer {tok}").as_bytes()), oidc_result::Ok);
            ok(oidc_http_request_set_url(r.0, u.as_ptr().cast(), u.len(), &mut err), err, "url");
        } else {
            ok(oidc_http_request_set_url(r.0, u.as_ptr().cast(), u.len(), &mut err), err, "url");
        }
        let mut d = std::ptr::null_mut();
        let mut err = null();
        let rc = oidc_authenticate(c, r.0, &mut d, &mut err);
        fails(rc, err, oidc_result::InvalidArgument, &format!("method {m:?} url {u:?}"));
        assert!(d.is_null());
    }
    // What the client controls inside them (a method that is not a token, a Host that makes the
    // URL unparseable): the request's fault, a 400 decision.
    for (m, u) in [("G T", URL), ("GET", "https://u@api.authn.test/"), ("GET", "https://api.authn.test:99999/"), ("GET", "https://[::1/")] {
        let r = CReq::bearer(&tok);
        let mut err = null();
        ok(oidc_http_request_set_method(r.0, m.as_ptr().cast(), m.len(), &mut err), err, "method");
        ok(oidc_http_request_set_url(r.0, u.as_ptr().cast(), u.len(), &mut err), err, "url");
        let mut d = std::ptr::null_mut();
        let mut err = null();
        let rc = oidc_authenticate(c, r.0, &mut d, &mut err);
        ok(rc, err, "a decision");
        assert_eq!(oidc_decision_allowed(d), 0, "method {m:?} url {u:?}");
        assert_eq!(oidc_decision_code(d), oidc_result::RequestMalformed, "method {m:?} url {u:?}");
        assert_eq!(oidc_decision_http_status(d), 400);
        oidc_decision_free(d);
    }

    // Oversized headers and proofs: judged quickly, bounded, never a crash.
    let t0 = Instant::now();
    let huge = format!("Bearer {}", "a".repeat(1 << 20));
    let r = CReq::new();
    assert_eq!(r.header("Authorization", huge.as_bytes()), oidc_result::Ok);
    r.basic("GET", URL);
    let s = c_decide(c, &r);
    assert_eq!((s.code, s.status), (oidc_result::TokenTooLarge as u32, 401));
    let too_big = vec![b'a'; 17 << 20];
    let mut err = null();
    let rc = oidc_http_request_add_header(r.0, "Authorization".as_ptr().cast(), 13, too_big.as_ptr(), too_big.len(), &mut err);
    fails(rc, err, oidc_result::InvalidArgument, "17 MiB header value");
    let r = CReq::new();
    for _ in 0..1000 {
        assert_eq!(r.header("Authorization", format!("Bearer {tok}").as_bytes()), oidc_result::Ok);
    }
    r.basic("GET", URL);
    assert_eq!(c_decide(c, &r).code, oidc_result::RequestMalformed as u32, "1000 Authorization lines");
    let pk = proof_key(Alg::ES256);
    let btok = bound_token(&iss, &pk.jkt);
    let r = CReq::dpop(&btok, &proof(pk, &btok));
    for _ in 0..1000 {
        assert_eq!(r.header("DPoP", proof(pk, &btok).as_bytes()), oidc_result::Ok);
    }
    assert_eq!(c_decide(c, &r).code, oidc_result::DpopProofInvalid as u32, "1001 DPoP lines");
    let big_proof = proof_with(pk, &btok, |_, c| c["pad"] = json!("p".repeat(1 << 20)));
    let s = c_decide(c, &CReq::dpop(&btok, &big_proof));
    assert_eq!(s.code, oidc_result::DpopProofInvalid as u32, "1 MiB proof");
    assert!(s.message.unwrap().contains("limit"));
    let edge = proof_with(pk, &btok, |_, c| c["pad"] = json!("p".repeat(5600)));
    assert!(edge.len() <= 8192, "{}", edge.len());
    assert_eq!(c_decide(c, &CReq::dpop(&btok, &edge)).allowed, 1, "a proof under 8 KiB is fine");
    assert!(t0.elapsed() < Duration::from_secs(20), "bounded work: {:?}", t0.elapsed());

    // Decision getters on NULL.
    let nd: *const oidc_decision = std::ptr::null();
    let mut n = 99usize;
    assert_eq!(oidc_decision_allowed(nd), 0);
    assert_eq!(oidc_decision_code(nd), oidc_result::NullParameter);
    assert_eq!(oidc_decision_http_status(nd), 0);
    assert!(oidc_decision_error(nd, &mut n).is_null());
    assert_eq!(n, 0, "len_out is 0 for a NULL decision");
    n = 99;
    assert!(oidc_decision_message(nd, &mut n).is_null());
    assert_eq!(n, 0);
    n = 99;
    assert!(oidc_decision_claims(nd, &mut n).is_null());
    assert_eq!(n, 0);
    n = 99;
    assert!(oidc_decision_challenge(nd, 0, &mut n).is_null());
    assert_eq!(n, 0);
    n = 99;
    assert!(oidc_decision_dpop_nonce(nd, &mut n).is_null());
    assert_eq!(n, 0);
    assert!(oidc_decision_token_type(nd).is_null());
    assert_eq!(oidc_decision_challenge_count(nd), 0);
    // ... and with NULL len_out on a real decision; an index past the end.
    let mut d = std::ptr::null_mut();
    ok(oidc_authenticate(c, CReq::bearer("expired.or.not").0, &mut d, null()), null(), "decide");
    assert!(!oidc_decision_error(d, std::ptr::null_mut()).is_null());
    assert!(!oidc_decision_message(d, std::ptr::null_mut()).is_null());
    assert!(oidc_decision_claims(d, std::ptr::null_mut()).is_null());
    assert!(!oidc_decision_challenge(d, 0, std::ptr::null_mut()).is_null());
    n = 99;
    assert!(oidc_decision_challenge(d, usize::MAX, &mut n).is_null());
    assert_eq!(n, 0);
    oidc_decision_free(d);

    // Builder misuse.
    let mut b = null();
    ok(oidc_validator_builder_new(&mut b, null()), null(), "builder");
    let mut err = null();
    fails(oidc_validator_builder_set_dpop_mode(b, 3, &mut err), err, oidc_result::InvalidArgument, "mode 3");
    let mut err = null();
    fails(oidc_validator_builder_set_require_mtls(b, 2, &mut err), err, oidc_result::InvalidArgument, "mtls 2");
    for algs in ["HS256", "none", "", "ES256,XY"] {
        let mut err = null();
        let rc = oidc_validator_builder_set_dpop_algorithms(b, algs.as_ptr().cast(), algs.len(), &mut err);
        assert_ne!(rc, oidc_result::Ok, "{algs:?}");
        oidc_error_free(err);
    }
    for s in ["a b", "", "a\"b"] {
        let mut err = null();
        assert_ne!(oidc_validator_builder_add_required_scope(b, s.as_ptr().cast(), s.len(), &mut err), oidc_result::Ok, "{s:?}");
        oidc_error_free(err);
    }
    oidc_validator_builder_free(b);
    let mut b = null();
    ok(oidc_validator_builder_new(&mut b, null()), null(), "builder");
    put(b, oidc_validator_builder_set_issuer, &iss);
    put(b, oidc_validator_builder_set_jwks_json, &oidc_testkit::jwks(&[token_key()]));
    put(b, oidc_validator_builder_add_audience, AUD);
    let short = b"short";
    ok(oidc_validator_builder_set_dpop_nonce_secret(b, short.as_ptr(), short.len(), 300, null()), null(), "secret");
    let mut out = null();
    let mut err = null();
    let msg = fails(oidc_validator_builder_build(b, &mut out, &mut err), err, oidc_result::InvalidConfig, "short nonce secret");
    assert!(!msg.contains("short"), "{msg}");
    oidc_validator_free(c);
}

/// Hostile `jwk` members in a proof header: each is refused as an invalid proof, quickly,
/// without a panic, through the core and the C ABI alike.
#[test]
fn hostile_proof_keys() {
    let iss = issuer("hostile");
    let c = client(&iss);
    let pk = proof_key(Alg::ES256);
    let rsa = proof_key(Alg::RS256);
    let tok = bound_token(&iss, &pk.jkt);
    let rtok = bound_token(&iss, &rsa.jkt);
    let mut nested = json!(1);
    for _ in 0..300 {
        nested = json!({"a": nested});
    }
    let mut deep_array = json!(1);
    for _ in 0..300 {
        deep_array = json!([deep_array]);
    }
    let many = |n: usize| {
        let mut j = pk.jwk.clone();
        for i in 0..n {
            j[format!("m{i}")] = json!(0);
        }
        j
    };
    let with_member = |k: &str, v: Value| {
        let mut j = pk.jwk.clone();
        j[k] = v;
        j
    };
    let rsa_with = |k: &str, v: Value| {
        let mut j = rsa.jwk.clone();
        j[k] = v;
        j
    };
    let cases: Vec<(&str, Value, bool)> = vec![
        ("RSA n of 16384 bits", rsa_with("n", json!(b64(vec![0xc5u8; 2048]))), true),
        ("RSA n of 1024 bits", rsa_with("n", json!(b64(vec![0xc5u8; 128]))), true),
        ("RSA n even", rsa_with("n", json!(b64(vec![0xc4u8; 256]))), true),
        ("RSA e = 1", rsa_with("e", json!(b64([1u8]))), true),
        ("RSA e = 2", rsa_with("e", json!(b64([2u8]))), true),
        ("RSA e of 9 bytes", rsa_with("e", json!(b64([1u8; 9]))), true),
        ("RSA n empty", rsa_with("n", json!("")), true),
        ("RSA n not base64url", rsa_with("n", json!("!!!!")), true),
        ("RSA n a number", rsa_with("n", json!(12345)), true),
        ("EC point off the curve", with_member("y", json!(b64([0x42u8; 32]))), false),
        (
            "EC point at zero",
            {
                let mut j = with_member("x", json!(b64([0u8; 32])));
                j["y"] = json!(b64([0u8; 32]));
                j
            },
            false,
        ),
        ("EC x of 31 bytes", with_member("x", json!(b64([0x11u8; 31]))), false),
        ("EC x of 33 bytes", with_member("x", json!(b64([0x11u8; 33]))), false),
        (
            "EC y missing",
            {
                let mut j = pk.jwk.clone();
                remove(&mut j, "y");
                j
            },
            false,
        ),
        ("EC crv P-384 for ES256", with_member("crv", json!("P-384")), false),
        ("EC crv secp256k1", with_member("crv", json!("secp256k1")), false),
        ("kty oct with k", json!({"kty": "oct", "k": b64([1u8; 32])}), false),
        ("kty unknown", with_member("kty", json!("XYZ")), false),
        ("kty a number", with_member("kty", json!(7)), false),
        ("use enc", with_member("use", json!("enc")), false),
        ("alg of the jwk is RS256", with_member("alg", json!("RS256")), false),
        ("key_ops without verify", with_member("key_ops", json!(["encrypt"])), false),
        ("nested objects 300 deep", with_member("x", nested.clone()), false),
        ("nested arrays 300 deep", with_member("ext", deep_array.clone()), false),
        ("jwk 300 deep", nested.clone(), false),
        ("jwk an array", json!([pk.jwk.clone()]), false),
        ("jwk null", Value::Null, false),
        ("400 members", many(400), false),
        ("10000 members", many(10_000), false),
    ];
    let cc = c_client(&iss, |_| {});
    for (what, jwk, is_rsa) in cases {
        let (key, t) = if is_rsa { (rsa, &rtok) } else { (pk, &tok) };
        let p = proof_with(key, t, |h, _| h["jwk"] = jwk);
        let t0 = Instant::now();
        let d = decide(&c, &dpop(t, &p));
        assert!(t0.elapsed() < Duration::from_secs(2), "{what}: {:?}", t0.elapsed());
        let (k, msg) = denial(&d).unwrap_or_else(|| panic!("{what}: allowed"));
        assert_eq!(k, ErrorKind::DpopProofInvalid, "{what}: {msg}");
        assert_eq!(d.status, 401);
        let s = c_decide(cc, &CReq::dpop(t, &p));
        assert_eq!(s.code, oidc_result::DpopProofInvalid as u32, "{what} via the C ABI");
    }
    // Hostile headers around the jwk.
    let hostile_headers: Vec<(&str, String)> = vec![
        ("header 300 deep", {
            let mut h = pk.header();
            h["x"] = nested;
            pk.sign(&h, &ProofKey::claims(&tok, "GET", HTU, NOW - 5))
        }),
        ("duplicate jwk member in the header", {
            let h = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{},"jwk":{}}}"#, proof_key(Alg::EdDSA).jwk, pk.jwk);
            let input = format!("{}.{}", b64(h), b64_json(&ProofKey::claims(&tok, "GET", HTU, NOW - 5)));
            format!("{input}.{}", b64(pk.key.sign_raw(&input)))
        }),
        ("duplicate iat claim", {
            let body = format!(
                r#"{{"jti":"{}","htm":"GET","htu":"{HTU}","iat":{},"iat":{},"ath":"{}"}}"#,
                random_jti(),
                NOW - 5,
                NOW - 5,
                ath(&tok)
            );
            let input = format!("{}.{}", b64_json(&pk.header()), b64(body));
            format!("{input}.{}", b64(pk.key.sign_raw(&input)))
        }),
        ("header not JSON", {
            let input = format!("{}.{}", b64("{not json"), b64_json(&ProofKey::claims(&tok, "GET", HTU, NOW - 5)));
            format!("{input}.{}", b64(pk.key.sign_raw(&input)))
        }),
        ("claims an array", {
            let input = format!("{}.{}", b64_json(&pk.header()), b64("[1,2]"));
            format!("{input}.{}", b64(pk.key.sign_raw(&input)))
        }),
    ];
    for (what, p) in hostile_headers {
        let d = decide(&c, &dpop(&tok, &p));
        if what == "header 300 deep" {
            // An unknown header parameter is ignored (RFC 7515 §4), however deep: parsed without
            // recursion, within the 8 KiB bound.
            assert_allowed(&d, what);
            continue;
        }
        let (k, msg) = denial(&d).unwrap_or_else(|| panic!("{what}: allowed"));
        assert_eq!(k, ErrorKind::DpopProofInvalid, "{what}: {msg}");
    }
    oidc_validator_free(cc);
}

/// Nonce secrets, tokens and proofs never appear in Debug output, decision messages,
/// challenges or log messages.
#[test]
fn secrets_stay_out_of_debug_messages_and_logs() {
    let logs: &'static Mutex<Vec<String>> = Box::leak(Box::new(Mutex::new(Vec::new())));
    oidc::core::log::set_sink(
        Some(Box::new(move |_, target, m| logs.lock().unwrap().push(format!("{target}: {m}")))),
        oidc::core::log::Level::Trace,
    );
    let iss = issuer("secrets");
    let secret = b"n0nce-s3cret-that-must-not-leak!".to_vec();
    let secret_hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let store = Arc::new(MemStore::default());
    let mut cfg = config(&iss);
    cfg.resource.dpop.nonce_secret = Some(NonceSecret(secret.clone()));
    cfg.resource.dpop.replay_store = Some(store.clone());
    cfg.resource.required_scopes = vec!["admin".into()];
    let shown = format!("{cfg:?} {:?} {:?}", cfg.resource, cfg.resource.dpop);
    let c = Client::new(cfg).unwrap();
    let shown = format!("{shown} {c:?}");
    for s in ["n0nce-s3cret", &secret_hex, "110, 48, 110"] {
        assert!(!shown.contains(s), "Debug shows the nonce secret ({s}): {shown}");
    }

    let pk = proof_key(Alg::ES256);
    let tok = bound_token(&iss, &pk.jkt);
    let nonce = {
        let d = decide(&c, &dpop(&tok, &proof(pk, &tok)));
        assert_eq!(denial(&d).unwrap().0, ErrorKind::DpopNonceRequired);
        d.dpop_nonce.unwrap()
    };
    let expired = token(&iss, |c| c["exp"] = json!(NOW - 100));
    let forged = {
        let p: Vec<&str> = tok.split('.').collect();
        format!("{}.{}.{}", p[0], p[1], &p[2][..p[2].len() - 4])
    };
    let with_nonce = |t: &str| proof_with(pk, t, |_, c| c["nonce"] = json!(nonce));
    let requests: Vec<RequestInput> = vec![
        dpop(&tok, &with_nonce(&tok)),                                        // 403: no admin scope
        dpop(&tok, &proof(pk, &tok)),                                         // nonce required
        dpop(&tok, &proof_with(pk, &tok, |_, c| c["nonce"] = json!("AAAA"))), // forged nonce
        dpop(&tok, &proof_with(pk, &tok, |h, _| h["typ"] = json!("x"))),      // bad proof
        dpop(&tok, &proof_with(pk, &tok, |_, c| c["htm"] = json!("PUT"))),    // mismatch
        bearer(&tok),                                                         // bound token as Bearer
        bearer(&expired),
        bearer(&forged),
        RequestInput { authorization: vec![format!("Bearer {tok} {tok}").into_bytes()], ..bearer("x") },
        RequestInput { authorization: vec![format!("Bearer {tok}").into_bytes(); 2], ..bearer("x") },
    ];
    let mut texts = vec![];
    for r in &requests {
        texts.push(format!("{r:?}"));
        let d = decide(&c, r);
        assert!(!d.allowed());
        texts.push(format!("{d:?}"));
        texts.push(d.outcome.as_ref().unwrap_err().message().to_string());
        texts.extend(d.challenges.iter().cloned());
    }
    // Through the C ABI: messages and error objects.
    let cc = c_client(&iss, |b| {
        ok(
            oidc_validator_builder_set_dpop_nonce_secret(b, secret.as_ptr(), secret.len(), 300, std::ptr::null_mut()),
            std::ptr::null_mut(),
            "secret",
        );
    });
    for t in [&tok, &expired, &forged] {
        let s = c_decide(cc, &CReq::bearer(t));
        texts.push(format!("{s:?}"));
    }
    let s = c_decide(cc, &CReq::dpop(&tok, &proof(pk, &tok)));
    assert_eq!(s.nonce.as_deref(), Some(nonce.as_str()), "the same secret, the same nonce over the ABI");
    texts.push(format!("{s:?}"));
    texts.extend(logs.lock().unwrap().iter().cloned());
    let sig = |t: &str| t.rsplit('.').next().unwrap().to_string();
    let proof_sig = sig(&proof(pk, &tok));
    let needles: Vec<(&str, String)> = vec![
        ("token", tok.clone()),
        ("token signature", sig(&tok)),
        ("token payload", tok.split('.').nth(1).unwrap().to_string()),
        ("expired token signature", sig(&expired)),
        ("forged token signature", sig(&forged)),
        ("nonce secret", "n0nce-s3cret".into()),
        ("nonce secret hex", secret_hex.clone()),
        ("proof signature", proof_sig),
    ];
    assert!(texts.len() > 30);
    for t in &texts {
        for (what, n) in &needles {
            assert!(!t.contains(n.as_str()), "{what} leaked into: {t}");
        }
    }
    oidc_validator_free(cc);
}

/// Server nonces end to end with a real clock: the nonce a denial offers is accepted next, a
/// nonce from another secret is not, and a fleet sharing the secret shares the nonces.
#[test]
fn nonces_are_shared_by_a_fleet_and_bound_to_the_secret() {
    let iss = issuer("nonces");
    let secret = b"fleet-wide nonce secret, 32 byte".to_vec();
    let mk = |s: &[u8]| {
        client_with(&iss, |cfg| {
            cfg.resource.dpop.nonce_secret = Some(NonceSecret(s.to_vec()));
            cfg.resource.dpop.nonce_lifetime = Duration::from_secs(120);
        })
    };
    let (a, b, other) = (mk(&secret), mk(&secret), mk(b"a different secret of 32 bytes!!"));
    let pk = proof_key(Alg::EdDSA);
    let tok = bound_token(&iss, &pk.jkt);
    let d = decide(&a, &dpop(&tok, &proof(pk, &tok)));
    assert_eq!((denial(&d).unwrap().0, d.status, d.error_code()), (ErrorKind::DpopNonceRequired, 401, Some("use_dpop_nonce")));
    assert!(d.challenges[1].starts_with("DPoP realm=\"api\", error=\"use_dpop_nonce\""), "{:?}", d.challenges);
    let n = d.dpop_nonce.clone().unwrap();
    let with = |n: &str| proof_with(pk, &tok, |_, c| c["nonce"] = json!(n));
    let d = decide(&b, &dpop(&tok, &with(&n)));
    assert_allowed(&d, "another process with the same secret accepts the nonce");
    assert!(d.dpop_nonce.is_none(), "a current nonce: nothing new to offer");
    let d = decide(&other, &dpop(&tok, &with(&n)));
    assert_eq!(denial(&d).unwrap().0, ErrorKind::DpopNonceRequired, "another secret");
    assert_ne!(d.dpop_nonce.unwrap(), n);
    // Two periods later the nonce is refused and a new one offered.
    let later = RequestInput {
        now: Some((NOW + 240) as f64),
        ..dpop(
            &tok,
            &proof_with(pk, &tok, |_, c| {
                c["nonce"] = json!(n);
                c["iat"] = json!(NOW + 235);
            }),
        )
    };
    let d = decide(&a, &later);
    assert_eq!(denial(&d).unwrap().0, ErrorKind::DpopNonceRequired);
    assert_ne!(d.dpop_nonce.as_deref(), Some(n.as_str()));
    // The nonce secret does not change Bearer requests.
    let d = decide(&a, &bearer(&token(&iss, |_| {})));
    assert_allowed(&d, "bearer");
    assert!(d.dpop_nonce.is_none());
}

/// mTLS-bound tokens with a real certificate's SHA-256 and the size bound.
#[test]
fn certificate_bound_tokens() {
    let iss = issuer("mtls");
    let c = client(&iss);
    let ca = oidc_testkit::TestCa::new();
    let der = ca.ca_der().to_vec();
    let tok = token(&iss, |c| c["cnf"] = json!({"x5t#S256": sha256_b64(&der)}));
    let with_cert = |cert: Option<Vec<u8>>| RequestInput { client_cert_der: cert, ..bearer(&tok) };
    assert_allowed(&decide(&c, &with_cert(Some(der.clone()))), "its certificate");
    let mut other = der.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    for (what, cert) in [("another certificate", Some(other)), ("no certificate", None), ("a huge certificate", Some(vec![0u8; 70_000]))] {
        let d = decide(&c, &with_cert(cert));
        assert_eq!((denial(&d).unwrap().0, d.status), (ErrorKind::TokenBindingMismatch, 401), "{what}");
        assert_eq!(d.error_code(), Some("invalid_token"));
    }
    let bad_cnf = token(&iss, |c| c["cnf"] = json!({"x5t#S256": 5}));
    assert_eq!(denial(&decide(&c, &bearer(&bad_cnf))).unwrap().0, ErrorKind::InvalidClaim, "cnf member of the wrong type");
    let strict = client_with(&iss, |cfg| cfg.resource.require_mtls = true);
    let d = decide(&strict, &RequestInput { client_cert_der: Some(der.clone()), ..bearer(&token(&iss, |_| {})) });
    assert_eq!(denial(&d).unwrap().0, ErrorKind::TokenBindingMismatch, "require_mtls: unbound token");
    assert_allowed(&decide(&strict, &with_cert(Some(der))), "require_mtls: bound token");
    // DPoP and mTLS together: both bindings are checked.
    let pk = proof_key(Alg::ES256);
    let both = token(&iss, |c| c["cnf"] = json!({"jkt": pk.jkt, "x5t#S256": sha256_b64(&ca.ca_der())}));
    let d = decide(&c, &dpop(&both, &proof(pk, &both)));
    assert_eq!(denial(&d).unwrap().0, ErrorKind::TokenBindingMismatch, "DPoP proof but no certificate");
    let r = RequestInput { client_cert_der: Some(ca.ca_der().to_vec()), ..dpop(&both, &proof(pk, &both)) };
    assert_allowed(&decide(&c, &r), "both bindings");
}

/// Concurrent requests on one client: the process-wide replay cache lets exactly one of many
/// concurrent uses of one proof through.
#[test]
fn concurrent_replays_allow_exactly_one() {
    let iss = issuer("race");
    let c = client(&iss);
    let pk = proof_key(Alg::ES256);
    let tok = bound_token(&iss, &pk.jkt);
    for _ in 0..5 {
        let p = proof(pk, &tok);
        let allowed = AtomicUsize::new(0);
        let replays = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let d = decide(&c, &dpop(&tok, &p));
                    match denial(&d) {
                        None => allowed.fetch_add(1, Ordering::SeqCst),
                        Some((ErrorKind::DpopReplay, _)) => replays.fetch_add(1, Ordering::SeqCst),
                        Some(other) => panic!("{other:?}"),
                    };
                });
            }
        });
        assert_eq!((allowed.into_inner(), replays.into_inner()), (1, 7));
    }
}

/// A multi-issuer validator keeps a replay partition per chosen issuer (the token's verified
/// `iss`): the same proof `jti` under two issuers is two proofs; the same proof twice is a replay.
#[test]
fn a_multi_issuer_validator_partitions_dpop_replay_by_the_chosen_issuer() {
    let (a, b) = (issuer("replay-a"), issuer("replay-b"));
    let mut cfg = config(&a);
    let mut ib = oidc::core::IssuerConfig::new(&b);
    ib.key_source = KeySource::Static(oidc_testkit::jwks(&[token_key()]));
    ib.audiences = vec![AUD.into()];
    cfg.issuers.push(ib);
    let c = Client::new(cfg).expect("multi-issuer client");
    let pk = proof_key(Alg::ES256);
    let jti = random_jti();
    let (ta, tb) = (bound_token(&a, &pk.jkt), bound_token(&b, &pk.jkt));
    let pa = proof_with(pk, &ta, |_, c| c["jti"] = json!(jti));
    let pb = proof_with(pk, &tb, |_, c| c["jti"] = json!(jti));
    assert_allowed(&decide(&c, &dpop(&ta, &pa)), "issuer A");
    assert_allowed(&decide(&c, &dpop(&tb, &pb)), "issuer B, the same jti");
    for (t, p, who) in [(&ta, &pa, "A"), (&tb, &pb, "B")] {
        let d = decide(&c, &dpop(t, p));
        assert_eq!(denial(&d).map(|(k, _)| k), Some(ErrorKind::DpopReplay), "issuer {who}: the same proof again");
    }
}
