//! A token request through the C ABI's request object (`oidc_oauth_request_new` + setters +
//! send + response getters): the blocking send (`oidc_oauth_send`) against the non-blocking one
//! (`oidc_oauth_send_async`, waited for: the cost of the pool hand-off), on one client, against
//! a loopback HTTPS token endpoint (keep-alive, the same pooled connection), in one run, rounds
//! alternated. (The 0.1 flat call was measured against the request object before it was
//! removed: no measurable difference.)
//!
//!     cargo bench --bench token_request
//!
//! Knobs: `OIDC_BENCH_ROUNDS` (default 9), `OIDC_BENCH_ROUND_MS` (default 700).

use std::ffi::{c_char, c_void};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use oidc::ffi::error::oidc_error;
use oidc::ffi::oauth_client::*;
use oidc::ffi::oauth_request::*;
use oidc::ffi::oidc_result;
use oidc_testkit::{FixtureServer, Route, TestCa};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ok(rc: oidc_result) {
    assert_eq!(rc, oidc_result::Ok);
}

fn s(x: &str) -> (*const c_char, usize) {
    (x.as_ptr().cast(), x.len())
}

fn err() -> *mut *mut oidc_error {
    std::ptr::null_mut()
}

fn client(server: &FixtureServer, ca: &str) -> *mut oidc_oauth_client {
    let mut b = std::ptr::null_mut();
    ok(oidc_oauth_builder_new(&mut b, err()));
    let set = |f: extern "C" fn(*mut oidc_oauth_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result, v: &str| {
        let (p, n) = s(v);
        ok(f(b, p, n, err()));
    };
    set(oidc_oauth_builder_set_issuer, &server.base_url());
    set(oidc_oauth_builder_set_client_id, "bench");
    set(oidc_oauth_builder_set_client_secret, "bench-secret");
    set(oidc_oauth_builder_set_auth_method, "client_secret_basic");
    set(oidc_oauth_builder_set_ca_file, ca);
    let (n, nl) = s("token_endpoint");
    let url = server.url("/token");
    let (u, ul) = s(&url);
    ok(oidc_oauth_builder_set_endpoint(b, n, nl, u, ul, err()));
    let mut c = std::ptr::null_mut();
    ok(oidc_oauth_builder_build(b, &mut c, err()));
    c
}

/// A client-credentials request (scope, resource).
fn request(c: *const oidc_oauth_client) -> *mut oidc_oauth_request {
    let mut r = std::ptr::null_mut();
    ok(oidc_oauth_request_new(c, oidc_operation::OIDC_OP_CLIENT_CREDENTIALS as u32, &mut r, err()));
    let (sp, sl) = s("read");
    ok(oidc_oauth_request_add_string(r, oidc_param::OIDC_PARAM_SCOPE as u32, sp, sl, err()));
    let (rp, rl) = s("urn:bench");
    ok(oidc_oauth_request_add_string(r, oidc_param::OIDC_PARAM_RESOURCE as u32, rp, rl, err()));
    r
}

fn check_and_free(out: *mut oidc_oauth_response) {
    assert!(!oidc_oauth_response_string(out, oidc_field::OIDC_FIELD_ACCESS_TOKEN as u32).is_null());
    oidc_oauth_response_free(out);
}

fn blocking_call(c: *const oidc_oauth_client) {
    let r = request(c);
    let mut out = std::ptr::null_mut();
    ok(oidc_oauth_send(r, std::ptr::null(), &mut out, err()));
    check_and_free(out);
    oidc_oauth_request_free(r);
}

extern "C" fn on_response(ud: *mut c_void, rc: oidc_result, resp: *mut oidc_oauth_response, _e: *const oidc_error) {
    ok(rc);
    check_and_free(resp);
    // The sender is the callback's (a borrowed one could be dropped by the waiting thread
    // while `send` still touches it).
    unsafe { Box::from_raw(ud.cast::<mpsc::SyncSender<()>>()) }.send(()).unwrap();
}

fn async_call(c: *const oidc_oauth_client) {
    let r = request(c);
    let (tx, rx) = mpsc::sync_channel::<()>(1);
    ok(oidc_oauth_send_async(r, std::ptr::null(), Some(on_response), Box::into_raw(Box::new(tx)).cast(), err()));
    oidc_oauth_request_free(r);
    rx.recv().unwrap();
}

/// Calls per second for `round` of `f`.
fn round(c: *const oidc_oauth_client, round: Duration, f: fn(*const oidc_oauth_client)) -> f64 {
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < round {
        f(c);
        n += 1;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let ca = TestCa::new();
    let server = FixtureServer::start_https(&ca);
    server.set_route(
        "/token",
        Route::json(&serde_json::json!({"access_token":"a".repeat(600),"token_type":"Bearer","expires_in":300,"scope":"read"})),
    );
    let c = client(&server, ca.ca_pem_path().to_str().unwrap());
    let rounds = env("OIDC_BENCH_ROUNDS", 9);
    let dur = Duration::from_millis(env("OIDC_BENCH_ROUND_MS", 700));
    for _ in 0..200 {
        blocking_call(c);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("token request over the C ABI, loopback HTTPS, {rounds} rounds x {dur:?}; load {}", load.trim());
    let (mut blocking, mut non_blocking, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        // Alternate which goes first, so neither always runs on a warmer machine.
        let (o, n) = if i % 2 == 0 {
            let o = round(c, dur, blocking_call);
            (o, round(c, dur, async_call))
        } else {
            let n = round(c, dur, async_call);
            (round(c, dur, blocking_call), n)
        };
        blocking.push(o);
        non_blocking.push(n);
        ratios.push(n / o);
        println!("  round: blocking {o:.0}/s, non-blocking {n:.0}/s, ratio {:.3}", n / o);
    }
    let (o, n) = (median(blocking), median(non_blocking));
    println!(
        "median: blocking {o:.0}/s ({:.1} us), non-blocking {n:.0}/s ({:.1} us); median per-round ratio non-blocking/blocking {:.3}",
        1e6 / o,
        1e6 / n,
        median(ratios)
    );
    oidc_oauth_client_free(c);
}
