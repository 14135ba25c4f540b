//! Validation through a 10-issuer validator against a single-issuer one (issue 12), in one
//! run, rounds alternated (order swapped every round), median round reported as a ratio.
//!
//!     cargo bench --bench multi_issuer
//!
//! Both validators use static key sets (no network), the same token (RS256 and ES256, about
//! 800 bytes), and the same rules. The 10-issuer validator holds ten exact issuers, each with
//! its own key set; the token's issuer is the LAST entry of the table (the worst case of the
//! exact match). Measured twice: with the verified-token cache off (a full validation every
//! call: parse, key lookup, signature, claims) and on (a repeated token answered from the
//! cache: here the routing is a larger share of the call), and with the cache off over 4096
//! distinct tokens cycled (more than the routing hint's 1024 slots: every call reads `iss`, as a
//! token seen for the first time does). Knobs: `OIDC_BENCH_ROUNDS` (default
//! 31), `OIDC_BENCH_ROUND_MS` (default 100).

use std::hint::black_box;
use std::time::{Duration, Instant};

use oidc::core::config::AlgSet;
use oidc::core::{Client, Config, IssuerConfig, KeySource};
use oidc_testkit::keys::claims;
use oidc_testkit::{Alg, TestKey, jwks};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Wall-clock ns per call over `iters` calls (the load average is stated with the figures).
fn per_call(f: &mut dyn FnMut(), iters: u64) -> f64 {
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_nanos() as f64 / iters as f64
}

fn calibrate(f: &mut dyn FnMut(), round: Duration) -> u64 {
    let mut n = 16u64;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        let e = t.elapsed();
        if e >= round / 4 {
            return ((n as f64) * round.as_secs_f64() / e.as_secs_f64()).max(1.0) as u64;
        }
        n *= 2;
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let rounds = env_u64("OIDC_BENCH_ROUNDS", 31).max(1) as usize;
    let round = Duration::from_millis(env_u64("OIDC_BENCH_ROUND_MS", 100).max(1));
    println!("multi-issuer routing: {rounds} rounds of {} ms, alternated; median ns/call", round.as_millis());
    for alg in [Alg::RS256, Alg::ES256] {
        let key = TestKey::generate(alg);
        let target = "https://issuer-9.example.com";
        let mut c = claims(target, "api", "alice", 10 * 365 * 24 * 3600);
        c["scope"] = serde_json::json!("read write admin profile email");
        c["client_id"] = serde_json::json!("svc-0123456789");
        let token = key.sign(&c);
        // Distinct tokens (the routing hint's 1024 slots cannot hold them): every call routes
        // by reading `iss`, as a token seen for the first time does.
        let distinct: Vec<String> = (0..4096)
            .map(|i| {
                let mut c = c.clone();
                c["jti"] = serde_json::json!(format!("jti-{i:06}"));
                key.sign(&c)
            })
            .collect();
        for (cache, fresh) in [(0usize, false), (0, true), (4096, false)] {
            let mut single = Config::new(target);
            single.key_source = KeySource::Static(jwks(&[&key]));
            single.audiences = vec!["api".into()];
            single.token_cache_size = cache;
            let one = Client::new(single.clone()).unwrap();
            let mut multi = single.clone();
            multi.issuer = String::new();
            let others: Vec<TestKey> = (0..9).map(|_| TestKey::generate(Alg::ES256)).collect();
            for (i, k) in others.iter().enumerate() {
                let mut ic = IssuerConfig::new(format!("https://issuer-{i}.example.com/"));
                ic.key_source = KeySource::Static(jwks(&[k]));
                ic.algorithms = Some(AlgSet::default_allowed());
                multi.issuers.push(ic);
            }
            let mut last = IssuerConfig::new(target);
            last.key_source = KeySource::Static(jwks(&[&key]));
            multi.issuers.push(last);
            let ten = Client::new(multi).unwrap();
            one.validate(&token).expect("single");
            ten.validate(&token).expect("ten issuers");
            let (mut i1, mut i10) = (0usize, 0usize);
            let mut f1 = || {
                let t = if fresh {
                    i1 = (i1 + 1) & 4095;
                    &distinct[i1]
                } else {
                    &token
                };
                black_box(one.validate(black_box(t)).unwrap());
            };
            let mut f10 = || {
                let t = if fresh {
                    i10 = (i10 + 1) & 4095;
                    &distinct[i10]
                } else {
                    &token
                };
                black_box(ten.validate(black_box(t)).unwrap());
            };
            let n1 = calibrate(&mut f1, round);
            let n10 = calibrate(&mut f10, round);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for r in 0..rounds {
                if r % 2 == 0 {
                    a.push(per_call(&mut f1, n1));
                    b.push(per_call(&mut f10, n10));
                } else {
                    b.push(per_call(&mut f10, n10));
                    a.push(per_call(&mut f1, n1));
                }
            }
            let ratios: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y / x).collect();
            let (m1, m10) = (median(a), median(b));
            println!(
                "{:5} token cache {:26}: 1 issuer {:9.0} ns | 10 issuers {:9.0} ns | ratio of medians {:.4} | median per-round ratio {:.4}",
                alg.name(),
                match (cache, fresh) {
                    (0, false) => "off, one token",
                    (0, true) => "off, 4096 distinct tokens",
                    _ => "on, one token",
                },
                m1,
                m10,
                m10 / m1,
                median(ratios)
            );
        }
    }
}
