//! The non-blocking API through the extern "C" functions: parity with the blocking path on the
//! shared vectors, single-flight under 1000 concurrent cold calls, exactly-once callbacks with
//! cancellation (before, during, after), deadlines, free while in flight, warm start from a
//! snapshot in a fresh process, observability.

mod common;

use std::ffi::{CStr, c_char, c_void};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::cabi::*;
use common::*;
use oidc::ffi::cancel::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{oidc_error_free, oidc_error_http_status, oidc_string_free};
use oidc::ffi::observe::{metrics_json, oidc_metrics_json, oidc_set_log_callback};
use oidc::ffi::oidc_result;
use oidc::ffi::pool::*;
use oidc::ffi::validator::*;
use oidc::ffi::warm::{oidc_cache_export_json, oidc_cache_import_json};
use serde_json::Value;

#[test]
fn every_vector_is_decided_identically_by_both_paths() {
    let v = vectors();
    let c = &v["config"];
    let s = |x: &Value| x.as_str().unwrap().to_string();
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()));
    put(oidc_validator_builder_set_issuer, b, &s(&c["issuer"]));
    put(oidc_validator_builder_set_jwks_json, b, &v["jwks"].to_string());
    put(oidc_validator_builder_add_audience, b, &s(&c["audiences"][0]));
    put(oidc_validator_builder_set_expected_typ, b, &s(&c["expected_typ"]));
    put(oidc_validator_builder_add_required_claim, b, "sub");
    put(oidc_validator_builder_set_algorithms, b, &s(&c["algorithms"]));
    ok(oidc_validator_builder_set_max_token_bytes(b, c["max_token_bytes"].as_u64().unwrap() as usize, std::ptr::null_mut()));
    let mut client: *mut oidc_validator = std::ptr::null_mut();
    ok(oidc_validator_builder_build(b, &mut client, std::ptr::null_mut()));
    let cases = v["cases"].as_array().unwrap();
    let now = v["now"].as_i64().unwrap();
    let batch = Batch::new(cases.len());
    for (i, case) in cases.iter().enumerate() {
        let t = case["token"].as_str().unwrap();
        let ud = slot(&batch, i);
        ok(oidc_validate_at_async(client, t.as_ptr().cast(), t.len(), now, Some(on_validate), ud, std::ptr::null(), std::ptr::null_mut()));
    }
    assert!(batch.wait(cases.len(), Duration::from_secs(20)));
    for (i, case) in cases.iter().enumerate() {
        let t = case["token"].as_str().unwrap();
        let mut out: *mut c_char = std::ptr::null_mut();
        let mut err: *mut oidc_error = std::ptr::null_mut();
        let rc = oidc_validate_at(client, t.as_ptr().cast(), t.len(), now, &mut out, std::ptr::null_mut(), &mut err);
        assert_eq!(batch.code(i), rc as u32, "{}: blocking and non-blocking differ", case["name"]);
        assert_eq!(rc as u32, case["code"].as_u64().unwrap() as u32, "{}", case["name"]);
        if rc == oidc_result::Ok {
            let sync = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
            assert_eq!(batch.claims.lock().unwrap()[i].as_deref(), Some(sync.as_str()), "{}", case["name"]);
            oidc_string_free(out);
        } else {
            oidc_error_free(err);
        }
        assert_eq!(batch.calls[i].load(Ordering::Acquire), 1);
    }
    assert!(!batch.threads.lock().unwrap().contains(&std::thread::current().id()), "never on the caller's thread");
    oidc_validator_free(client);
}

/// Token bytes the host received but that are no token (not UTF-8, too long, empty) are the
/// token's fault on both paths: the same 401 code, through the callback on the non-blocking one.
#[test]
fn bad_token_bytes_are_rejected_alike_by_both_paths() {
    let v = vectors();
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()));
    put(oidc_validator_builder_set_issuer, b, "https://issuer.example");
    put(oidc_validator_builder_set_jwks_json, b, &v["jwks"].to_string());
    put(oidc_validator_builder_add_audience, b, "api");
    ok(oidc_validator_builder_set_max_token_bytes(b, 64, std::ptr::null_mut()));
    let mut client: *mut oidc_validator = std::ptr::null_mut();
    ok(oidc_validator_builder_build(b, &mut client, std::ptr::null_mut()));
    let long = vec![b'a'; 65];
    let cases: [(&[u8], oidc_result); 4] = [
        (&[0xff], oidc_result::TokenMalformed),
        (b"ab\xc3(.cd.ef", oidc_result::TokenMalformed),
        (&long, oidc_result::TokenTooLarge),
        (b"", oidc_result::TokenMalformed),
    ];
    let batch = Batch::new(cases.len());
    for (i, (bytes, _)) in cases.iter().enumerate() {
        let ud = slot(&batch, i);
        let rc =
            oidc_validate_async(client, bytes.as_ptr().cast(), bytes.len(), Some(on_validate), ud, std::ptr::null(), std::ptr::null_mut());
        assert_eq!(rc, oidc_result::Ok, "case {i}: accepted; the verdict comes through the callback");
    }
    assert!(batch.wait(cases.len(), Duration::from_secs(20)));
    for (i, (bytes, want)) in cases.iter().enumerate() {
        let mut out: *mut c_char = std::ptr::null_mut();
        let mut err: *mut oidc_error = std::ptr::null_mut();
        let rc = oidc_validate(client, bytes.as_ptr().cast(), bytes.len(), &mut out, std::ptr::null_mut(), &mut err);
        assert_eq!(rc, *want, "case {i}: blocking");
        assert_eq!(batch.code(i), rc as u32, "case {i}: blocking and non-blocking differ");
        assert_eq!(oidc_error_http_status(err), 401, "case {i}: the token's fault, not the host's");
        oidc_error_free(err);
        assert_eq!(batch.calls[i].load(Ordering::Acquire), 1);
    }
    oidc_validator_free(client);
}

#[test]
fn a_thousand_cold_calls_cause_one_discovery_and_one_jwks_fetch() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&k])).with_delay(Duration::from_millis(300)));
    let client = c_client(&idp, 10_000);
    let token = k.sign(&idp.claims());
    let n = 1000;
    let batch = Batch::new(n);
    // Submitted from 4 threads at once.
    let cp = client as usize;
    let hs: Vec<_> = (0..4)
        .map(|t| {
            let (b, tok) = (batch.clone(), token.clone());
            std::thread::spawn(move || {
                for i in (t..n).step_by(4) {
                    ok(validate_async(cp as *const oidc_validator, &tok, &b, i, std::ptr::null()));
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert!(batch.wait(n, Duration::from_secs(30)), "all callbacks within 30 s");
    for i in 0..n {
        assert_eq!(batch.calls[i].load(Ordering::Acquire), 1, "call {i}: exactly one callback");
        assert_eq!(batch.code(i), 0, "call {i}");
    }
    assert_eq!(idp.srv.hits(DISCOVERY), 1, "one discovery request");
    assert_eq!(idp.srv.hits("/jwks"), 1, "one JWKS request");
    oidc_validator_free(client);
}

#[test]
fn cancel_before_start_answers_cancelled_without_fetching_or_burning_the_cooldown() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = c_client(&idp, 10_000);
    let good = k.sign(&idp.claims());
    let batch = Batch::new(3);
    ok(validate_async(client, &good, &batch, 0, std::ptr::null()));
    assert!(batch.wait(1, Duration::from_secs(10)));
    assert_eq!(batch.code(0), 0);
    assert_eq!(idp.srv.hits("/jwks"), 1);
    // Rotation: a token with a new kid would trigger an unknown-kid refresh, but it is cancelled
    // before it starts.
    let new = TestKey::generate(Alg::ES256);
    idp.set_keys(&[&new, &k]);
    let rotated = new.sign(&idp.claims());
    let cancel = new_cancel(0);
    oidc_cancel_trigger(cancel);
    assert_eq!(oidc_cancel_is_cancelled(cancel), 1);
    ok(validate_async(client, &rotated, &batch, 1, cancel));
    assert!(batch.wait(2, Duration::from_secs(10)));
    assert_eq!(batch.code(1), oidc_result::Cancelled as u32);
    assert_eq!(idp.srv.hits("/jwks"), 1, "a cancelled call never fetches");
    // The cooldown was not burned: the next caller refreshes at once and succeeds.
    ok(validate_async(client, &rotated, &batch, 2, std::ptr::null()));
    assert!(batch.wait(3, Duration::from_secs(10)));
    assert_eq!(batch.code(2), 0, "rotation followed");
    assert_eq!(idp.srv.hits("/jwks"), 2);
    oidc_cancel_free(cancel);
    oidc_validator_free(client);
}

#[test]
fn cancel_during_a_fetch_answers_at_once_and_the_fetch_still_fills_the_cache() {
    let k = TestKey::generate(Alg::RS256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&k])).with_delay(Duration::from_millis(1500)));
    let client = c_client(&idp, 10_000);
    let token = k.sign(&idp.claims());
    let batch = Batch::new(3);
    let cancel = new_cancel(0);
    ok(validate_async(client, &token, &batch, 0, cancel));
    ok(validate_async(client, &token, &batch, 1, std::ptr::null())); // waits on the same fetch
    assert!(idp.srv.wait_for_hits("/jwks", 1, Duration::from_secs(10)), "the fetch started");
    let t0 = Instant::now();
    oidc_cancel_trigger(cancel);
    assert!(batch.wait(1, Duration::from_secs(10)));
    assert!(t0.elapsed() < Duration::from_millis(1000), "answered before the fetch ended: {:?}", t0.elapsed());
    assert_eq!(batch.code(0), oidc_result::Cancelled as u32);
    assert_eq!(batch.calls[1].load(Ordering::Acquire), 0, "the other caller still waits");
    assert!(batch.wait(2, Duration::from_secs(10)));
    assert_eq!(batch.code(1), 0, "the uncancelled caller gets the keys");
    // Cancel after completion: nothing happens, no second callback.
    oidc_cancel_trigger(cancel);
    ok(validate_async(client, &token, &batch, 2, std::ptr::null()));
    assert!(batch.wait(3, Duration::from_secs(10)));
    assert_eq!(idp.srv.hits("/jwks"), 1, "the cancelled caller's fetch filled the cache");
    for i in 0..3 {
        assert_eq!(batch.calls[i].load(Ordering::Acquire), 1);
    }
    oidc_cancel_free(cancel);
    oidc_validator_free(client);
}

#[test]
fn a_deadline_completes_a_hanging_call_with_deadline_exceeded() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", Route::hang());
    let client = c_client(&idp, 3000);
    let token = k.sign(&idp.claims());
    let batch = Batch::new(2);
    let cancel = new_cancel(150);
    let t0 = Instant::now();
    ok(validate_async(client, &token, &batch, 0, cancel));
    oidc_cancel_free(cancel); // freeing the handle neither cancels nor breaks the deadline
    assert!(batch.wait(1, Duration::from_secs(10)));
    assert_eq!(batch.code(0), oidc_result::DeadlineExceeded as u32);
    assert!(t0.elapsed() < Duration::from_millis(2500), "{:?}", t0.elapsed());
    // Cancel + prefetch: the done callback.
    let c2 = new_cancel(0);
    let ud = slot(&batch, 1);
    ok(oidc_validator_prefetch_async(client, Some(on_done), ud, c2, std::ptr::null_mut()));
    oidc_cancel_trigger(c2);
    assert!(batch.wait(2, Duration::from_secs(10)));
    assert_eq!(batch.code(1), oidc_result::Cancelled as u32);
    oidc_cancel_free(c2);
    oidc_validator_free(client);
}

#[test]
fn freeing_the_client_with_calls_in_flight_is_safe_and_every_callback_runs() {
    let k = TestKey::generate(Alg::EdDSA);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&k])).with_delay(Duration::from_millis(300)));
    let client = c_client(&idp, 10_000);
    let token = k.sign(&idp.claims());
    let n = 200;
    let batch = Batch::new(n);
    for i in 0..n {
        ok(validate_async(client, &token, &batch, i, std::ptr::null()));
    }
    oidc_validator_free(client); // returns at once; calls hold their own reference
    assert!(batch.wait(n, Duration::from_secs(20)));
    for i in 0..n {
        assert_eq!(batch.calls[i].load(Ordering::Acquire), 1);
        assert_eq!(batch.code(i), 0);
    }
}

#[test]
fn argument_errors_are_returned_and_no_callback_runs() {
    let batch = Batch::new(1);
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let rc = oidc_validate_async(std::ptr::null(), c"x".as_ptr(), 1, Some(on_validate), NULL, std::ptr::null(), &mut err);
    assert_eq!(rc, oidc_result::NullParameter);
    oidc_error_free(err);
    let v = vectors();
    let jwks = v["jwks"].to_string();
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()));
    put(oidc_validator_builder_set_issuer, b, "https://issuer.example");
    put(oidc_validator_builder_set_jwks_json, b, &jwks);
    put(oidc_validator_builder_add_audience, b, "api");
    let mut c: *mut oidc_validator = std::ptr::null_mut();
    ok(oidc_validator_builder_build(b, &mut c, std::ptr::null_mut()));
    assert_eq!(oidc_validate_async(c, c"x".as_ptr(), 1, None, NULL, std::ptr::null(), std::ptr::null_mut()), oidc_result::NullParameter);
    // NULL token bytes with a length: misuse, answered at once, as by oidc_validate.
    let rc = oidc_validate_async(c, std::ptr::null(), 5, Some(on_validate), NULL, std::ptr::null(), std::ptr::null_mut());
    assert_eq!(rc, oidc_result::NullParameter);
    assert_eq!(oidc_cancel_new(0, std::ptr::null_mut(), std::ptr::null_mut()), oidc_result::NullParameter);
    oidc_cancel_free(std::ptr::null_mut());
    oidc_cancel_trigger(std::ptr::null());
    assert_eq!(oidc_async_configure(100_000, 10, std::ptr::null_mut()), oidc_result::InvalidArgument);
    assert_eq!(batch.done.load(Ordering::Acquire), 0);
    oidc_validator_free(c);
}

fn export(c: *const oidc_validator) -> String {
    let mut out: *mut c_char = std::ptr::null_mut();
    let mut len = 0usize;
    ok(oidc_cache_export_json(c, &mut out, &mut len, std::ptr::null_mut()));
    let s = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
    assert_eq!(s.len(), len);
    oidc_string_free(out);
    s
}

fn import(c: *const oidc_validator, s: &str) -> (oidc_result, usize) {
    let mut n = usize::MAX;
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let rc = oidc_cache_import_json(c, s.as_ptr().cast(), s.len(), &mut n, &mut err);
    oidc_error_free(err);
    (rc, n)
}

/// The child half of the warm-start test: a fresh process imports the snapshot and validates.
#[test]
fn warm_start_child() {
    let Ok(snap) = std::env::var("OIDC_TEST_SNAPSHOT") else { return };
    let (issuer, ca, token) =
        (std::env::var("OIDC_TEST_ISSUER").unwrap(), std::env::var("OIDC_TEST_CA").unwrap(), std::env::var("OIDC_TEST_TOKEN").unwrap());
    let (rc, n) = import(std::ptr::null(), &snap);
    assert_eq!(rc, oidc_result::Ok);
    assert_eq!(n, 2, "key set + metadata");
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()));
    put(oidc_validator_builder_set_issuer, b, &issuer);
    put(oidc_validator_builder_add_audience, b, "api");
    put(oidc_validator_builder_set_ca_file, b, &ca);
    let mut c: *mut oidc_validator = std::ptr::null_mut();
    ok(oidc_validator_builder_build(b, &mut c, std::ptr::null_mut()));
    let mut out: *mut c_char = std::ptr::null_mut();
    ok(oidc_validate(c, token.as_ptr().cast(), token.len(), &mut out, std::ptr::null_mut(), std::ptr::null_mut()));
    oidc_string_free(out);
    oidc_validator_free(c);
    println!("WARM-CHILD-OK");
}

#[test]
fn a_snapshot_starts_a_fresh_process_warm_with_zero_fetches() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    idp.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(&[&k])).with_cache_control("max-age=600"));
    let client = c_client(&idp, 10_000);
    ok(oidc_validator_prefetch(client, std::ptr::null_mut()));
    let snap = export(client);
    let v: Value = serde_json::from_str(&snap).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["key_sets"].as_array().unwrap().len(), 1);
    assert_eq!(v["metadata"].as_array().unwrap().len(), 1);
    let left = v["key_sets"][0]["expires_at"].as_f64().unwrap() - v["exported_at"].as_f64().unwrap();
    assert!((590.0..=600.5).contains(&left), "absolute expiry carries the max-age: {left}");
    let (d0, j0) = (idp.srv.hits(DISCOVERY), idp.srv.hits("/jwks"));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "warm_start_child", "--nocapture", "--test-threads=1"])
        .env("OIDC_TEST_SNAPSHOT", &snap)
        .env("OIDC_TEST_ISSUER", &idp.issuer)
        .env("OIDC_TEST_CA", idp.ca.ca_pem_path())
        .env("OIDC_TEST_TOKEN", k.sign(&idp.claims()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("WARM-CHILD-OK"), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((idp.srv.hits(DISCOVERY), idp.srv.hits("/jwks")), (d0, j0), "zero fetches in the fresh process");
    oidc_validator_free(client);
}

#[test]
fn imported_snapshots_obey_the_ttl_and_key_rules() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = c_client(&idp, 10_000);
    ok(oidc_validator_prefetch(client, std::ptr::null_mut()));
    let snap: Value = serde_json::from_str(&export(client)).unwrap();
    let now = snap["exported_at"].as_f64().unwrap();
    // An expired snapshot is skipped (the keys would be refetched).
    let mut expired = snap.clone();
    expired["key_sets"][0]["jwks_uri"] = format!("{}/other-jwks", idp.issuer).into();
    expired["key_sets"][0]["expires_at"] = (now - 1.0).into();
    expired["metadata"] = Value::Array(vec![]);
    assert_eq!(import(std::ptr::null(), &expired.to_string()), (oidc_result::Ok, 0));
    // A far-future expiry is clamped to the TTL maximum (86400 s by default).
    let mut far = expired.clone();
    far["key_sets"][0]["expires_at"] = (now + 10.0 * 86400.0).into();
    assert_eq!(import(std::ptr::null(), &far.to_string()), (oidc_result::Ok, 1));
    // The same snapshot again: not fresher than what is cached (its expiry lands microseconds
    // later at most), so nothing is taken, every time.
    for _ in 0..3 {
        assert_eq!(import(std::ptr::null(), &far.to_string()), (oidc_result::Ok, 0), "re-import");
    }
    let all: Value = serde_json::from_str(&export(std::ptr::null())).unwrap();
    let e = all["key_sets"].as_array().unwrap().iter().find(|e| e["jwks_uri"] == far["key_sets"][0]["jwks_uri"]).unwrap();
    assert!(e["expires_at"].as_f64().unwrap() <= now + 86400.0 + 5.0, "clamped: {e}");
    // Keys go through the same parser: a weak RSA key is rejected like a fetched one would be,
    // and a structurally invalid key set fails the whole import.
    let mut bad = expired.clone();
    bad["key_sets"][0]["expires_at"] = (now + 100.0).into();
    bad["key_sets"][0]["jwks"] = serde_json::json!({"keys": "nope"});
    assert_eq!(import(std::ptr::null(), &bad.to_string()).0, oidc_result::JwksInvalid);
    assert_eq!(import(std::ptr::null(), "{\"version\":2}").0, oidc_result::InvalidArgument);
    assert_eq!(import(std::ptr::null(), "not json").0, oidc_result::InvalidArgument);
    oidc_validator_free(client);
}

static LOGS: Mutex<Vec<(u32, String, String)>> = Mutex::new(Vec::new());

extern "C" fn on_log(_ud: *mut c_void, level: u32, t: *const c_char, tl: usize, m: *const c_char, ml: usize) {
    let s = |p: *const c_char, n: usize| String::from_utf8(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) }.to_vec()).unwrap();
    LOGS.lock().unwrap().push((level, s(t, tl), s(m, ml)));
}

#[test]
fn a_key_rotation_outage_shows_in_logs_and_metrics() {
    ok(oidc_set_log_callback(Some(on_log), NULL, 4, std::ptr::null_mut()));
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = c_client(&idp, 10_000);
    let before = metrics_json();
    let batch = Batch::new(3);
    ok(validate_async(client, &k.sign(&idp.claims()), &batch, 0, std::ptr::null()));
    assert!(batch.wait(1, Duration::from_secs(10)));
    // Rotation while the JWKS endpoint fails: the new kid cannot be fetched.
    idp.srv.set_route("/jwks", Route::status(503));
    let new = TestKey::generate(Alg::ES256);
    let rotated = new.sign(&idp.claims());
    ok(validate_async(client, &rotated, &batch, 1, std::ptr::null()));
    assert!(batch.wait(2, Duration::from_secs(10)));
    ok(validate_async(client, &rotated, &batch, 2, std::ptr::null()));
    assert!(batch.wait(3, Duration::from_secs(10)));
    assert_ne!(batch.code(1), 0);
    let after = metrics_json();
    let d = |p: &str| after.pointer(p).and_then(Value::as_u64).unwrap_or(0) - before.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    assert!(d("/validations/ok") >= 1);
    assert!(d("/validations/failed") >= 2);
    // The refresh the new kid triggered failed: an outage, not a forgery (issue 10 item 3).
    assert!(d("/validations/failed_by_reason/KEYS_UNAVAILABLE") >= 1, "{after}");
    assert_eq!(batch.code(1), oidc_result::KeysUnavailable as u32);
    assert!(d("/cache/jwks_fetch_failures") >= 1);
    assert!(d("/cache/jwks_fetches") >= 2);
    assert!(d("/async/completed") >= 3);
    assert!(after["async"]["threads"].as_u64().unwrap() >= 2);
    let mut json: *mut c_char = std::ptr::null_mut();
    ok(oidc_metrics_json(&mut json, std::ptr::null_mut(), std::ptr::null_mut()));
    let _: Value = serde_json::from_str(unsafe { CStr::from_ptr(json) }.to_str().unwrap()).unwrap();
    oidc_string_free(json);
    ok(oidc_set_log_callback(None, NULL, 0, std::ptr::null_mut()));
    let logs = LOGS.lock().unwrap().clone();
    assert!(logs.iter().any(|(l, t, m)| *l == 2 && t == "oidc::cache" && m.contains("refresh failed")), "{logs:?}");
    assert!(logs.iter().any(|(_, t, m)| t == "oidc::cache" && m.contains("fetching keys")));
    for (_, _, m) in &logs {
        for seg in rotated.split('.') {
            assert!(!m.contains(seg), "a log message shows the token: {m}");
        }
    }
    assert_eq!(oidc_set_log_callback(Some(on_log), NULL, 9, std::ptr::null_mut()), oidc_result::InvalidArgument);
    oidc_validator_free(client);
}

#[test]
fn start_up_prefetch_fails_fast_or_warms_in_the_background() {
    let k = TestKey::generate(Alg::ES256);
    let down = idp(&[&k]);
    let up = idp(&[&k]);
    let builder = |idp: &Idp, mode: u32| {
        let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
        ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()));
        put(oidc_validator_builder_set_issuer, b, &idp.issuer);
        put(oidc_validator_builder_add_audience, b, "api");
        put(oidc_validator_builder_set_ca_file, b, idp.ca.ca_pem_path().to_str().unwrap());
        ok(oidc_validator_builder_set_prefetch(b, mode, std::ptr::null_mut()));
        b
    };
    // Fail fast: the issuer's JWKS endpoint is down, so no client is returned.
    down.srv.set_route("/jwks", Route::status(503));
    let mut c: *mut oidc_validator = std::ptr::null_mut();
    let mut err: *mut oidc_error = std::ptr::null_mut();
    assert_eq!(oidc_validator_builder_build(builder(&down, oidc_prefetch::FailFast as u32), &mut c, &mut err), oidc_result::HttpStatus);
    assert!(c.is_null());
    oidc_error_free(err);
    // Background: build returns at once; the keys arrive without a validation asking for them.
    let idp = up;
    ok(oidc_validator_builder_build(builder(&idp, oidc_prefetch::Background as u32), &mut c, std::ptr::null_mut()));
    let jwks_uri = idp.srv.url("/jwks");
    let end = Instant::now() + Duration::from_secs(10);
    while !oidc::core::cache::GLOBAL.entries().iter().any(|e| e.url() == jwks_uri && e.snapshot(Instant::now()).is_some()) {
        assert!(Instant::now() < end, "the background prefetch never filled the cache");
        std::thread::sleep(Duration::from_millis(2));
    }
    let j0 = idp.srv.hits("/jwks");
    assert_eq!(j0, 1);
    let t = k.sign(&idp.claims());
    let mut out: *mut c_char = std::ptr::null_mut();
    ok(oidc_validate(c, t.as_ptr().cast(), t.len(), &mut out, std::ptr::null_mut(), std::ptr::null_mut()));
    oidc_string_free(out);
    assert_eq!(idp.srv.hits("/jwks"), j0, "the validation used the prefetched keys");
    oidc_validator_free(c);
    let b = builder(&idp, oidc_prefetch::None as u32);
    assert_eq!(oidc_validator_builder_set_prefetch(b, 9, std::ptr::null_mut()), oidc_result::InvalidArgument);
    oidc_validator_builder_free(b);
}
