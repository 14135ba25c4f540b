//! The revocation check's cost per validation with a fresh list (issue 14 item 2; target under
//! 0.1 us). One loopback HTTPS issuer (oidc-testkit) serves an ES256 key and a signed list of
//! 10 000 revoked jtis and 10 revoked kids; two clients of that issuer differ only in the list
//! (off / on). Measured, in alternated rounds (the order rotates each round), the median of
//! `OIDC_BENCH_ROUNDS` rounds (default 31) of thread CPU time per call:
//!
//! * a verified-token-cache hit (`Client::validate` of a repeated token: no signature check,
//!   so the check's share is as large as it gets);
//! * a full validation (cache off: parse, ES256 verify, claims);
//!
//! each without and with the list, and the difference (the check's cost).
//!
//!     CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench revocation

#[path = "common/mod.rs"]
mod common;
use common::{median, per_call};

use std::hint::black_box;
use std::time::Duration;

use oidc::core::{Client, Config, RevocationConfig, RevocationPolicy};
use oidc_testkit::keys::{self, Alg, TestKey};
use oidc_testkit::{FixtureServer, Route, TestCa};
use serde_json::{Value, json};

fn env(name: &str, d: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(d)
}

fn main() {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    let key = TestKey::generate(Alg::ES256);
    let issuer = srv.install_oidc(&[&key]);
    let now = keys::now();
    let jtis: Vec<Value> = (0..10_000).map(|i| json!({"jti": format!("revoked-{i:05}-{}", i * 7919), "exp": now + 86_400})).collect();
    let kids: Vec<String> = (0..10).map(|i| format!("old-key-{i}")).collect();
    let claims = json!({"iss": issuer, "iat": now, "next_update": now + 86_400, "version": 1, "revoked_kids": kids, "revoked_jtis": jtis});
    let mut h = keys::default_header(&key);
    h["typ"] = json!("revocation-list+jwt");
    let list = key.sign_token(&h, &claims);
    srv.set_route("/.well-known/revocation-list", Route::bytes(200, "application/jwt", list.into_bytes()));

    let client = |revocation: bool, cache: usize| {
        let mut c = Config::new(&issuer);
        c.audiences = vec!["api".into()];
        c.ca_file = Some(ca.ca_pem_path());
        c.token_cache_size = cache;
        // 10 000 entries of this size are ~0.7 MB as a JWS: past the default 512 KiB response cap.
        c.max_response_bytes = 4 << 20;
        if revocation {
            c.revocation = Some(RevocationConfig::new(RevocationPolicy::FailClosed));
        }
        let c = Client::new(c).expect("client");
        c.prefetch().expect("prefetch");
        c
    };
    let mut tc = keys::claims(&issuer, "api", "alice", 3600);
    tc["jti"] = json!("not-revoked-7f3a9c");
    let token = key.sign(&tc);
    let (hit_off, hit_on) = (client(false, 4096), client(true, 4096));
    let (full_off, full_on) = (client(false, 0), client(true, 0));
    for c in [&hit_off, &hit_on, &full_off, &full_on] {
        c.validate(&token).expect("valid");
    }
    let on = hit_on.revocation().unwrap().current().unwrap();
    assert_eq!(on.len(), (10, 10_000));
    let mut rev = tc.clone();
    rev["jti"] = json!("revoked-00042-332598");
    assert_eq!(hit_on.validate(&key.sign(&rev)).unwrap_err().kind(), oidc::core::ErrorKind::Revoked);

    let rounds = env("OIDC_BENCH_ROUNDS", 31) as usize;
    let cases: [(&str, &Client, &Client, u64); 2] =
        [("token-cache hit", &hit_off, &hit_on, 200_000), ("full validation (ES256)", &full_off, &full_on, 4_000)];
    println!("# revocation check per validation (median of {rounds} alternated rounds, thread CPU ns/call)");
    println!("load average: {}", std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim());
    for (name, off, on, n) in cases {
        let (mut a, mut b, mut d) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n / 10 {
            black_box(off.validate(black_box(&token)).unwrap());
            black_box(on.validate(black_box(&token)).unwrap());
        }
        for r in 0..rounds {
            let run = |c: &Client| per_call(n, &mut || drop(black_box(c.validate(black_box(&token)).unwrap())));
            let (x, y) = if r % 2 == 0 {
                let x = run(off);
                (x, run(on))
            } else {
                let y = run(on);
                (run(off), y)
            };
            a.push(x);
            b.push(y);
            d.push(y - x);
        }
        let (ma, mb, md) = (median(&mut a), median(&mut b), median(&mut d));
        println!(
            "{name:<26} no list {ma:>9.1} ns   10k-entry list {mb:>9.1} ns   difference (median of paired rounds) {md:>6.1} ns   ratio {:.3}",
            mb / ma
        );
    }
    std::thread::sleep(Duration::from_millis(10));
}
