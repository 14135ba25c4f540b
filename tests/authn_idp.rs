//! Request authentication (`Client::authenticate`) against the real IdP (oidc-provider,
//! tests/idp/server.mjs, over TLS with its generated test CA) and a real Redis (Debian
//! `redis-server`, started here on a free loopback port).
//!
//! The IdP issues RFC 9068 JWT access tokens (`typ` at+jwt) for the resource indicator
//! `urn:liboidc:es256`; to a client that sends a DPoP proof it issues DPoP-bound ones (`cnf.jkt`).
//! The resource server side is a validating `Client` for that issuer (discovery + JWKS over
//! TLS); proofs are made by the library's own client-side DPoP code (`Dpop::proof`).
//!
//! The shared replay store is proven across processes: this test binary re-runs itself
//! (`current_exe() --exact child_authenticates_in_a_second_process --ignored`) with the request
//! in environment variables; the child has a fresh process-wide replay cache, so only Redis can
//! tell it that a proof was used before.

mod common;

use std::ffi::{CStr, c_char, c_void};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common::real_idp::{RealIdp, client_key};
use common::redis::{RedisServer, RedisStore, Reply};
use oidc::core::authn::{Decision, RequestInput, Scheme, replay::store_key};
use oidc::core::config::NonceSecret;
use oidc::core::oauth::dpop::Dpop;
use oidc::core::oauth::{ClientAuth, OAuthClient, OAuthConfig, SigningKey};
use oidc::core::{Client, Config, ErrorKind, Prefetch, ReplayStore};
use serde_json::{Value, json};

/// The resource indicator: JWT access tokens (at+jwt, ES256) with `aud` = this URN.
const RESOURCE: &str = "urn:liboidc:es256";
/// The protected resource as addressed by its clients (not served anywhere: the decision only
/// needs the method and URL the request came with).
const API: &str = "https://api.authn-idp.test/v1/items?page=2";
const CHILD_TEST: &str = "child_authenticates_in_a_second_process";

struct Fixture {
    idp: RealIdp,
    /// The client's DPoP key (tests/idp/client-keys/dpop-ec.pem; the child process loads it too).
    dkey: Arc<SigningKey>,
    /// A DPoP-bound access token (`cnf.jkt` = dkey's thumbprint).
    bound: String,
    /// A plain bearer access token for the same resource.
    bearer: String,
}

fn dpop_key() -> Arc<SigningKey> {
    Arc::new(SigningKey::from_pem(&client_key("dpop-ec.pem"), None, None).expect("dpop-ec.pem"))
}

fn fx() -> &'static Fixture {
    static FX: OnceLock<Fixture> = OnceLock::new();
    FX.get_or_init(|| {
        let idp = RealIdp::start();
        let dkey = dpop_key();
        let mut oc = OAuthConfig::new(&idp.issuer, "svc-basic", ClientAuth::SecretBasic("svc-basic-secret".into()));
        oc.base.ca_file = Some(idp.ca_file.clone());
        oc.dpop_key = Some(dkey.clone());
        // The IdP demands DPoP nonces: the first token request is answered use_dpop_nonce and
        // retried by the client with the nonce.
        let t = OAuthClient::new(oc).unwrap().client_credentials(Some("read"), &[RESOURCE], None).expect("DPoP token");
        assert_eq!(t.token_type, "DPoP", "the IdP binds tokens requested with a DPoP proof");
        let bearer = idp.token(RESOURCE, "read");
        Fixture { bound: t.access_token.expose().to_string(), bearer, dkey, idp }
    })
}

/// The resource server's configuration: this issuer (discovery over TLS with the test CA),
/// audience = the resource, RFC 9068 `typ`, scope `read` required.
fn rs_config(issuer: &str, ca_file: &std::path::Path) -> Config {
    let mut c = Config::new(issuer);
    c.audiences = vec![RESOURCE.into()];
    c.ca_file = Some(ca_file.to_path_buf());
    c.expected_typ = Some("at+jwt".into());
    c.resource.required_scopes = vec!["read".into()];
    c.prefetch = Prefetch::FailFast;
    c
}

fn rs_with(store: Option<Arc<dyn ReplayStore>>) -> Client {
    let f = fx();
    let mut c = rs_config(&f.idp.issuer, &f.idp.ca_file);
    c.resource.dpop.replay_store = store;
    Client::start(c).expect("discovery and keys of the real IdP")
}

fn req(authorization: &str, proof: Option<&str>, method: &str, url: &str) -> RequestInput {
    RequestInput {
        authorization: vec![authorization.as_bytes().to_vec()],
        dpop: proof.map(|p| vec![p.as_bytes().to_vec()]).unwrap_or_default(),
        method: method.into(),
        url: url.into(),
        ..Default::default()
    }
}

fn dpop_req(token: &str, proof: &str) -> RequestInput {
    req(&format!("DPoP {token}"), Some(proof), "GET", API)
}

fn decide(c: &Client, r: &RequestInput) -> Decision {
    c.authenticate(r).expect("a decision (not a host misuse)")
}

#[track_caller]
fn assert_allowed(d: &Decision, scheme: Scheme) -> Value {
    match &d.outcome {
        Ok(p) => {
            assert_eq!((d.status, p.token_type), (200, scheme));
            assert!(d.challenges.is_empty());
            serde_json::from_str(&p.claims).unwrap()
        }
        Err(e) => panic!("denied {} {:?}: {}", d.status, e.kind(), e.message()),
    }
}

#[track_caller]
fn assert_denied(d: &Decision, kind: ErrorKind, status: u16, error: Option<&str>) {
    match &d.outcome {
        Ok(p) => panic!("allowed ({:?}), expected {kind:?}", p.token_type),
        Err(e) => {
            assert_eq!((e.kind(), d.status, d.error_code()), (kind, status, error), "{}", e.message());
        }
    }
}

/// The `jti` of a proof (its payload, unverified: only to name the Redis key).
fn jti(proof: &str) -> String {
    use base64::Engine;
    let payload = proof.split('.').nth(1).unwrap();
    let v: Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    v["jti"].as_str().unwrap().to_string()
}

#[test]
fn dpop_bound_token_from_the_idp() {
    let f = fx();
    let rs = rs_with(None);
    let dpop = Dpop::new(f.dkey.clone()).unwrap();
    let at = f.bound.as_str();

    // A fresh proof made by the library's client side: allowed as DPoP.
    let proof = dpop.proof("GET", API, Some(at)).unwrap();
    let claims = assert_allowed(&decide(&rs, &dpop_req(at, &proof)), Scheme::DPoP);
    assert_eq!(claims["cnf"]["jkt"], f.dkey.thumbprint());
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some(f.idp.issuer.as_str()), Some(RESOURCE)));
    assert_eq!(claims["client_id"], "svc-basic");

    // The same proof again: a replay (process-wide cache).
    assert_denied(&decide(&rs, &dpop_req(at, &proof)), ErrorKind::DpopReplay, 401, Some("invalid_dpop_proof"));

    // A proof for another method, for another URL (path; host): the proof does not match.
    let post = dpop.proof("POST", API, Some(at)).unwrap();
    assert_denied(&decide(&rs, &dpop_req(at, &post)), ErrorKind::DpopProofMismatch, 401, Some("invalid_dpop_proof"));
    for other in ["https://api.authn-idp.test/v1/admin", "https://other.authn-idp.test/v1/items"] {
        let p = dpop.proof("GET", other, Some(at)).unwrap();
        let d = decide(&rs, &dpop_req(at, &p));
        assert_denied(&d, ErrorKind::DpopProofMismatch, 401, Some("invalid_dpop_proof"));
        assert!(d.challenges.iter().any(|c| c.starts_with("DPoP ") && c.contains("error=\"invalid_dpop_proof\"")), "{:?}", d.challenges);
    }

    // The bound token with the Bearer scheme: refused, whatever proof comes along.
    for proof in [None, Some(dpop.proof("GET", API, Some(at)).unwrap())] {
        let d = decide(&rs, &req(&format!("Bearer {at}"), proof.as_deref(), "GET", API));
        assert_denied(&d, ErrorKind::TokenBindingMismatch, 401, Some("invalid_token"));
        assert!(d.challenges[0].starts_with("Bearer error=\"invalid_token\""), "{:?}", d.challenges);
    }

    // A valid proof (right method, URL and ath) from another key.
    let thief = Dpop::new(Arc::new(SigningKey::generate_es256().unwrap())).unwrap();
    let p = thief.proof("GET", API, Some(at)).unwrap();
    assert_denied(&decide(&rs, &dpop_req(at, &p)), ErrorKind::TokenBindingMismatch, 401, Some("invalid_token"));

    // A proof whose ath is another token's.
    let p = dpop.proof("GET", API, Some(&f.bearer)).unwrap();
    assert_denied(&decide(&rs, &dpop_req(at, &p)), ErrorKind::DpopProofMismatch, 401, Some("invalid_dpop_proof"));

    // None of the denials consumed anything: a fresh proof is allowed, and htu ignores the query.
    let p = dpop.proof("GET", API, Some(at)).unwrap();
    assert_allowed(&decide(&rs, &req(&format!("DPoP {at}"), Some(&p), "GET", "https://api.authn-idp.test/v1/items?page=3")), Scheme::DPoP);
}

#[test]
fn unbound_bearer_token_from_the_idp() {
    let f = fx();
    let rs = rs_with(None);
    let claims = assert_allowed(&decide(&rs, &req(&format!("Bearer {}", f.bearer), None, "GET", API)), Scheme::Bearer);
    assert!(claims.get("cnf").is_none(), "a plain bearer token: {claims}");
    assert_eq!(claims["scope"], "read");
    // The same token with the DPoP scheme and a valid proof (ath of this token): not DPoP-bound.
    let p = Dpop::new(f.dkey.clone()).unwrap().proof("GET", API, Some(&f.bearer)).unwrap();
    let d = decide(&rs, &dpop_req(&f.bearer, &p));
    assert_denied(&d, ErrorKind::TokenBindingMismatch, 401, Some("invalid_token"));
    assert!(d.challenges.iter().any(|c| c.starts_with("DPoP ") && c.contains("error=\"invalid_token\"")), "{:?}", d.challenges);
}

/// The resource server's own stateless nonces, with the client side remembering the
/// `DPoP-Nonce` it was given (the same code that talks to the IdP's nonces).
#[test]
fn server_nonce_round_trip() {
    let f = fx();
    let mut c = rs_config(&f.idp.issuer, &f.idp.ca_file);
    c.resource.dpop.nonce_secret = Some(NonceSecret(b"authn-idp nonce secret, 32 bytes".to_vec()));
    let rs = Client::start(c).unwrap();
    let dpop = Dpop::new(f.dkey.clone()).unwrap();
    let d = decide(&rs, &dpop_req(&f.bound, &dpop.proof("GET", API, Some(&f.bound)).unwrap()));
    assert_denied(&d, ErrorKind::DpopNonceRequired, 401, Some("use_dpop_nonce"));
    let nonce = d.dpop_nonce.clone().expect("a DPoP-Nonce to send");
    dpop.remember(API, &nonce);
    let d = decide(&rs, &dpop_req(&f.bound, &dpop.proof("GET", API, Some(&f.bound)).unwrap()));
    assert_allowed(&d, Scheme::DPoP);
    assert!(d.dpop_nonce.is_none(), "the proof carried a current nonce");
}

/// Run this test binary again in child mode; returns the JSON lines the child reported.
fn run_child(mode: &str, proof: &str, redis: Option<&RedisServer>) -> Vec<Value> {
    let f = fx();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", CHILD_TEST, "--ignored", "--nocapture", "--test-threads=1"])
        .env("AUTHN_IDP_CHILD", mode)
        .env("AUTHN_IDP_ISSUER", &f.idp.issuer)
        .env("AUTHN_IDP_CA", &f.idp.ca_file)
        .env("AUTHN_IDP_TOKEN", &f.bound)
        .env("AUTHN_IDP_PROOF", proof)
        .env("AUTHN_IDP_REDIS", redis.map(|r| r.addr.to_string()).unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("re-run the test binary as a child");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    // Generous: a loaded 2-core machine; the child normally takes well under a second.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child process did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (out_t.join().unwrap(), err_t.join().unwrap());
    assert!(status.success(), "child ({mode}) failed: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        // The harness prints "test NAME ... " before the test's own output, on the same line.
        .filter_map(|l| l.find("CHILD-DECISION ").map(|i| &l[i + "CHILD-DECISION ".len()..]))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("child line {l:?}: {e}")))
        .collect();
    assert!(!lines.is_empty(), "the child test did not run (filtered out?)\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    lines
}

fn summary(d: &Decision) -> Value {
    json!({
        "allowed": d.allowed(),
        "status": d.status,
        "kind": d.outcome.as_ref().err().map(|e| format!("{:?}", e.kind())),
        "token_type": d.outcome.as_ref().ok().map(|p| format!("{:?}", p.token_type)),
    })
}

/// Child mode (run by `replay_store_shared_with_a_second_process` with AUTHN_IDP_CHILD set):
/// a resource server in a new process, so with an empty process-wide replay cache. Mode
/// "redis": with the Redis store; it reports the decision about the given proof, then makes a
/// fresh proof of its own, reports that decision and the proof. Mode "none": no shared store.
#[test]
#[ignore = "child mode of replay_store_shared_with_a_second_process (needs its environment)"]
fn child_authenticates_in_a_second_process() {
    let Ok(mode) = std::env::var("AUTHN_IDP_CHILD") else {
        eprintln!("{CHILD_TEST}: not a child process (AUTHN_IDP_CHILD unset); nothing to do");
        return;
    };
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("child: {k} unset"));
    let (issuer, token, proof) = (env("AUTHN_IDP_ISSUER"), env("AUTHN_IDP_TOKEN"), env("AUTHN_IDP_PROOF"));
    let mut c = rs_config(&issuer, std::path::Path::new(&env("AUTHN_IDP_CA")));
    if mode == "redis" {
        let addr = env("AUTHN_IDP_REDIS").parse().unwrap();
        c.resource.dpop.replay_store = Some(Arc::new(RedisStore::new(addr)));
    }
    let rs = Client::start(c).expect("child: discovery and keys");
    println!("CHILD-DECISION {}", summary(&decide(&rs, &dpop_req(&token, &proof))));
    if mode == "redis" {
        let fresh = Dpop::new(dpop_key()).unwrap().proof("GET", API, Some(&token)).unwrap();
        let mut s = summary(&decide(&rs, &dpop_req(&token, &fresh)));
        s["proof"] = Value::from(fresh);
        println!("CHILD-DECISION {s}");
    }
}

#[test]
fn replay_store_shared_with_a_second_process() {
    let f = fx();
    let redis = RedisServer::start();
    let rs = rs_with(Some(Arc::new(redis.store())));
    let dpop = Dpop::new(f.dkey.clone()).unwrap();

    // Process A accepts a fresh proof; the store now holds its key, expiring with the window.
    let proof = dpop.proof("GET", API, Some(&f.bound)).unwrap();
    assert_allowed(&decide(&rs, &dpop_req(&f.bound, &proof)), Scheme::DPoP);
    let key = store_key(&f.idp.issuer, &jti(&proof));
    match redis.client().command(&[b"TTL", key.as_bytes()]).unwrap() {
        Reply::Int(ttl) => assert!((1..=200).contains(&ttl), "TTL {ttl}"),
        other => panic!("TTL: {other:?}"),
    }

    // Control: a second process without the shared store cannot know the proof was used.
    let none = run_child("none", &proof, None);
    assert_eq!(none[0]["allowed"], true, "{none:?}");

    // A second process sharing the Redis store: the replay is caught there.
    let out = run_child("redis", &proof, Some(&redis));
    assert_eq!(out[0], json!({"allowed": false, "status": 401, "kind": "DpopReplay", "token_type": null}), "{out:?}");
    // The child's own fresh proof was allowed there, and replaying it here is refused by Redis
    // (this process never saw it).
    assert_eq!((&out[1]["allowed"], &out[1]["token_type"]), (&json!(true), &json!("DPoP")), "{out:?}");
    let theirs = out[1]["proof"].as_str().unwrap();
    assert_denied(&decide(&rs, &dpop_req(&f.bound, theirs)), ErrorKind::DpopReplay, 401, Some("invalid_dpop_proof"));
}

#[test]
fn replay_store_down_is_503_never_allowed() {
    let f = fx();
    let mut redis = RedisServer::start();
    let rs = rs_with(Some(Arc::new(redis.store())));
    let dpop = Dpop::new(f.dkey.clone()).unwrap();
    assert_allowed(&decide(&rs, &dpop_req(&f.bound, &dpop.proof("GET", API, Some(&f.bound)).unwrap())), Scheme::DPoP);

    redis.stop();
    let proof = dpop.proof("GET", API, Some(&f.bound)).unwrap();
    for _ in 0..2 {
        let d = decide(&rs, &dpop_req(&f.bound, &proof));
        assert_denied(&d, ErrorKind::ReplayStoreUnavailable, 503, None);
        assert!(d.challenges.is_empty(), "{:?}", d.challenges);
    }
    // The failure did not burn the proof: with a store that answers, it is accepted once.
    let redis2 = RedisServer::start();
    let rs2 = rs_with(Some(Arc::new(redis2.store())));
    assert_allowed(&decide(&rs2, &dpop_req(&f.bound, &proof)), Scheme::DPoP);
    assert_denied(&decide(&rs2, &dpop_req(&f.bound, &proof)), ErrorKind::DpopReplay, 401, Some("invalid_dpop_proof"));
}

/// The replay store through the C ABI: an `extern "C"` callback over the same Redis client.
mod c_abi {
    use super::*;
    use common::cabi::{ok, put};
    use oidc::ffi::authn::*;
    use oidc::ffi::oidc_result;
    use oidc::ffi::validator::*;

    struct HostStore {
        store: RedisStore,
        calls: AtomicUsize,
    }

    extern "C" fn replay_cb(ud: *mut c_void, key: *const c_char, key_len: usize, ttl_secs: u64) -> i32 {
        // SAFETY: ud is the HostStore the test keeps alive; key points to key_len bytes.
        let host = unsafe { &*(ud as *const HostStore) };
        let key = unsafe { std::slice::from_raw_parts(key.cast::<u8>(), key_len) };
        host.calls.fetch_add(1, Ordering::SeqCst);
        let Ok(key) = std::str::from_utf8(key) else { return -1 };
        match host.store.set_nx(key, ttl_secs) {
            Ok(true) => 1,
            Ok(false) => 0,
            Err(()) => -1,
        }
    }

    struct Decided {
        allowed: u32,
        code: oidc_result,
        status: u32,
        token_type: Option<String>,
        challenges: usize,
    }

    fn authenticate(c: *const oidc_validator, token: &str, proof: &str) -> Decided {
        let mut r: *mut oidc_http_request = std::ptr::null_mut();
        ok(oidc_http_request_new(&mut r, std::ptr::null_mut()));
        let authz = format!("DPoP {token}");
        for (name, value) in [("Authorization", authz.as_str()), ("DPoP", proof)] {
            ok(oidc_http_request_add_header(r, name.as_ptr().cast(), name.len(), value.as_ptr(), value.len(), std::ptr::null_mut()));
        }
        ok(oidc_http_request_set_method(r, c"GET".as_ptr(), 3, std::ptr::null_mut()));
        ok(oidc_http_request_set_url(r, API.as_ptr().cast(), API.len(), std::ptr::null_mut()));
        let mut d: *mut oidc_decision = std::ptr::null_mut();
        ok(oidc_authenticate(c, r, &mut d, std::ptr::null_mut()));
        let tt = oidc_decision_token_type(d);
        let out = Decided {
            allowed: oidc_decision_allowed(d),
            code: oidc_decision_code(d),
            status: oidc_decision_http_status(d),
            // SAFETY: a static NUL-terminated string or NULL.
            token_type: (!tt.is_null()).then(|| unsafe { CStr::from_ptr(tt) }.to_str().unwrap().to_string()),
            challenges: oidc_decision_challenge_count(d),
        };
        oidc_decision_free(d);
        oidc_http_request_free(r);
        out
    }

    #[test]
    fn replay_store_callback_over_redis() {
        let f = fx();
        let mut redis = RedisServer::start();
        let host = Box::new(HostStore { store: redis.store(), calls: AtomicUsize::new(0) });
        let ud = &*host as *const HostStore as *mut c_void;

        let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
        ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()));
        put(oidc_validator_builder_set_issuer, b, &f.idp.issuer);
        put(oidc_validator_builder_add_audience, b, RESOURCE);
        put(oidc_validator_builder_set_ca_file, b, f.idp.ca_file.to_str().unwrap());
        put(oidc_validator_builder_set_expected_typ, b, "at+jwt");
        ok(oidc_validator_builder_set_dpop_replay_store(b, Some(replay_cb), ud, std::ptr::null_mut()));
        let mut c: *mut oidc_validator = std::ptr::null_mut();
        ok(oidc_validator_builder_build(b, &mut c, std::ptr::null_mut())); // consumes the builder

        let dpop = Dpop::new(f.dkey.clone()).unwrap();
        let d = authenticate(c, &f.bound, &dpop.proof("GET", API, Some(&f.bound)).unwrap());
        assert_eq!((d.allowed, d.code, d.status, d.token_type.as_deref()), (1, oidc_result::Ok, 200, Some("DPoP")));
        assert_eq!(host.calls.load(Ordering::SeqCst), 1, "the store was asked once");

        // A proof whose key another process already put in Redis: only the callback can know.
        let proof = dpop.proof("GET", API, Some(&f.bound)).unwrap();
        assert_eq!(host.store.set_nx(&store_key(&f.idp.issuer, &jti(&proof)), 60), Ok(true));
        let d = authenticate(c, &f.bound, &proof);
        assert_eq!((d.allowed, d.code, d.status), (0, oidc_result::DpopReplay, 401));
        assert_eq!(host.calls.load(Ordering::SeqCst), 2);

        // Redis down: the callback returns -1, the request is refused with 503 and no challenge.
        redis.stop();
        let d = authenticate(c, &f.bound, &dpop.proof("GET", API, Some(&f.bound)).unwrap());
        assert_eq!((d.allowed, d.code, d.status, d.challenges), (0, oidc_result::ReplayStoreUnavailable, 503, 0));
        assert_eq!(host.calls.load(Ordering::SeqCst), 3);

        oidc_validator_free(c);
        drop(host); // after the client: the callback's user_data outlives every client using it
    }
}
