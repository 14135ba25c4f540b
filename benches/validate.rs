//! Warm-cache `oidc_validate` through the C ABI against the raw signature check of the same
//! backend (aws-lc-rs `ParsedPublicKey::verify_sig`), per algorithm, in one run.
//!
//!     CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench validate
//!
//! Plain `Instant` loops (no harness). For every measurement: a warm-up, a calibration so that a
//! round lasts `OIDC_BENCH_ROUND_MS`, then `OIDC_BENCH_ROUNDS` rounds; the rounds of the
//! competing measurements of one algorithm are interleaved (rotating order) so that frequency or
//! neighbour drift hits all of them alike, and the median round is reported. Every round records
//! wall time and the thread's CPU time; the tables use CPU time (preemption by other processes on
//! a shared machine does not count) and print the CPU share so a busy run shows.
//!
//! Sections: single-thread rates (raw `verify_sig`, `oidc_validate` with a static JWKS and with a
//! warm JWKS-URL cache, jsonwebtoken 11) per algorithm with the per-call overhead; heap
//! allocations per call; a direct breakdown of liboidc's work outside the signature check (its
//! public core functions on the same token); RS256 on 2 threads sharing one client. See
//! BENCHMARKS.md.
//!
//! Environment knobs: `OIDC_BENCH_ROUNDS` (default 25), `OIDC_BENCH_ROUND_MS` (default 80),
//! `OIDC_BENCH_WARMUP_MS` (default 200), `OIDC_BENCH_MT_MS` (2-thread round length, default 1000),
//! `OIDC_BENCH_PROFILE=<alg>` (no measurement: run `oidc_validate` for that algorithm in a loop of
//! `OIDC_BENCH_PROFILE_ITERS` calls (default 20000), for perf / callgrind; with
//! `OIDC_BENCH_PROFILE_WHAT=miss` through a token cache that misses every time, `=hit` the same
//! token through the cache, `=auth` `oidc_authenticate` (Bearer, cache hit), `=dpop` a DPoP
//! request (RS256, cache off), `=raw` the raw verify), `OIDC_BENCH_SECTION=request` (only the
//! request-authentication and token-cache section).
//!
//! The request section (see `request_section`): a repeated token through the verified-token
//! cache, `oidc_authenticate` (Bearer and DPoP) against `oidc_validate` and the raw verifies, and
//! the work outside the signature check on a cache miss.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_char;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use oidc::core::json::{RawObject, b64url_decode};
use oidc::core::jwks::{KeySet, Lookup};
use oidc::core::oauth::SigningKey;
use oidc::core::oauth::dpop::Dpop;
use oidc::core::token_cache::{Entry, TokenCache};
use oidc::core::validate::{Policy, check_claims_json, parse_token};
use oidc::core::{Config, KeySource};
use oidc::ffi::authn::{
    oidc_authenticate, oidc_decision, oidc_decision_allowed, oidc_decision_claims, oidc_decision_free, oidc_decision_message,
    oidc_http_request, oidc_http_request_add_header, oidc_http_request_free, oidc_http_request_new, oidc_http_request_reset,
    oidc_http_request_set_method, oidc_http_request_set_url, oidc_validator_builder_set_token_cache_size,
};
use oidc::ffi::misc::{oidc_error_message, oidc_string_free};
use oidc::ffi::validator::{
    oidc_validate, oidc_validator_builder_add_audience, oidc_validator_builder_build, oidc_validator_builder_new,
    oidc_validator_builder_set_allow_http_loopback, oidc_validator_builder_set_expected_typ, oidc_validator_builder_set_issuer,
    oidc_validator_builder_set_jwks_json, oidc_validator_builder_set_jwks_uri, oidc_validator_free, oidc_validator_prefetch,
};
use oidc::ffi::{oidc_error, oidc_result, oidc_validator, oidc_validator_builder};

const ISSUER: &str = "https://idp.example.com";
const AUDIENCE: &str = "https://api.example.com";
const TARGET_TOKEN_BYTES: usize = 800;

// ---------------------------------------------------------------------------------------------
// Heap-allocation counter (Rust side only: aws-lc's own C mallocs are not seen). Off except while
// `count_allocs` runs, so the timed loops only pay one relaxed load per allocation.

struct CountingAlloc;
static COUNTING: AtomicBool = AtomicBool::new(false);
thread_local! {
    static ALLOCS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.with(|c| c.set((c.get().0 + 1, c.get().1)));
        }
        // SAFETY: forwarded.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.with(|c| c.set((c.get().0 + 1, c.get().1)));
        }
        // SAFETY: forwarded.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.with(|c| c.set((c.get().0, c.get().1 + 1)));
        }
        // SAFETY: forwarded.
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Rust heap allocations and reallocations per call of `f`.
fn count_allocs(f: &mut dyn FnMut()) -> (f64, f64) {
    const N: u64 = 1000;
    ALLOCS.with(|c| c.set((0, 0)));
    COUNTING.store(true, Ordering::Relaxed);
    for _ in 0..N {
        f();
    }
    COUNTING.store(false, Ordering::Relaxed);
    let (a, r) = ALLOCS.with(|c| c.get());
    (a as f64 / N as f64, r as f64 / N as f64)
}

// ---------------------------------------------------------------------------------------------
// Settings

struct Settings {
    rounds: usize,
    round: Duration,
    warmup: Duration,
    mt_round: Duration,
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            rounds: env_u64("OIDC_BENCH_ROUNDS", 25).max(1) as usize,
            round: Duration::from_millis(env_u64("OIDC_BENCH_ROUND_MS", 80).max(1)),
            warmup: Duration::from_millis(env_u64("OIDC_BENCH_WARMUP_MS", 200)),
            mt_round: Duration::from_millis(env_u64("OIDC_BENCH_MT_MS", 1000).max(1)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keys, JWKS and tokens

fn b64(b: &[u8]) -> String {
    B64.encode(b)
}

/// Minimal DER reader for a PKCS#1 `RSAPublicKey` (SEQUENCE { INTEGER n, INTEGER e }).
fn rsa_n_e(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    fn tlv(b: &[u8]) -> (u8, &[u8], &[u8]) {
        let tag = b[0];
        let (len, hdr) = if b[1] < 0x80 {
            (b[1] as usize, 2)
        } else {
            let n = (b[1] & 0x7f) as usize;
            (b[2..2 + n].iter().fold(0usize, |a, &x| (a << 8) | x as usize), 2 + n)
        };
        (tag, &b[hdr..hdr + len], &b[hdr + len..])
    }
    let (t, seq, _) = tlv(der);
    assert_eq!(t, 0x30);
    let (t, n, rest) = tlv(seq);
    assert_eq!(t, 0x02);
    let (t, e, _) = tlv(rest);
    assert_eq!(t, 0x02);
    let strip = |v: &[u8]| v[v.iter().position(|&x| x != 0).unwrap_or(v.len())..].to_vec();
    (strip(n), strip(e))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Alg {
    RS256,
    PS256,
    ES256,
    EdDSA,
}

impl Alg {
    const ALL: [Alg; 4] = [Alg::RS256, Alg::PS256, Alg::ES256, Alg::EdDSA];
    fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::PS256 => "PS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }
    fn kid(self) -> &'static str {
        match self {
            Alg::RS256 => "rsa-rs256",
            Alg::PS256 => "rsa-ps256",
            Alg::ES256 => "ec-p256",
            Alg::EdDSA => "okp-ed25519",
        }
    }
    fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Alg::RS256 => jsonwebtoken::Algorithm::RS256,
            Alg::PS256 => jsonwebtoken::Algorithm::PS256,
            Alg::ES256 => jsonwebtoken::Algorithm::ES256,
            Alg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

struct Keys {
    rsa: RsaKeyPair,
    ec: EcdsaKeyPair,
    ed: Ed25519KeyPair,
    rsa_n: Vec<u8>,
    rsa_e: Vec<u8>,
}

impl Keys {
    fn generate() -> Keys {
        let rsa = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA keygen");
        let ec = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 keygen");
        let ed = Ed25519KeyPair::generate().expect("Ed25519 keygen");
        let (rsa_n, rsa_e) = rsa_n_e(rsa.public_key().as_ref());
        Keys { rsa, ec, ed, rsa_n, rsa_e }
    }

    /// The public key bytes liboidc hands to `ParsedPublicKey::new` for this algorithm.
    fn public_bytes(&self, alg: Alg) -> Vec<u8> {
        match alg {
            Alg::RS256 | Alg::PS256 => self.rsa.public_key().as_ref().to_vec(), // PKCS#1 RSAPublicKey
            Alg::ES256 => self.ec.public_key().as_ref().to_vec(),               // 0x04 || x || y
            Alg::EdDSA => self.ed.public_key().as_ref().to_vec(),               // 32 bytes
        }
    }

    fn verification_alg(alg: Alg) -> &'static dyn signature::VerificationAlgorithm {
        match alg {
            Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            Alg::EdDSA => &signature::ED25519,
        }
    }

    fn sign(&self, alg: Alg, msg: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match alg {
            Alg::RS256 | Alg::PS256 => {
                let pad: &'static dyn signature::RsaEncoding =
                    if alg == Alg::RS256 { &signature::RSA_PKCS1_SHA256 } else { &signature::RSA_PSS_SHA256 };
                let mut sig = vec![0u8; self.rsa.public_modulus_len()];
                self.rsa.sign(pad, &rng, msg, &mut sig).expect("RSA sign");
                sig
            }
            Alg::ES256 => self.ec.sign(&rng, msg).expect("ECDSA sign").as_ref().to_vec(),
            Alg::EdDSA => self.ed.sign(msg).as_ref().to_vec(),
        }
    }

    fn jwk(&self, alg: Alg) -> String {
        let head = format!(r#""kid":"{}","use":"sig","alg":"{}""#, alg.kid(), alg.name());
        match alg {
            Alg::RS256 | Alg::PS256 => {
                format!(r#"{{"kty":"RSA",{head},"n":"{}","e":"{}"}}"#, b64(&self.rsa_n), b64(&self.rsa_e))
            }
            Alg::ES256 => {
                let p = self.ec.public_key().as_ref();
                format!(r#"{{"kty":"EC","crv":"P-256",{head},"x":"{}","y":"{}"}}"#, b64(&p[1..33]), b64(&p[33..65]))
            }
            Alg::EdDSA => format!(r#"{{"kty":"OKP","crv":"Ed25519",{head},"x":"{}"}}"#, b64(self.ed.public_key().as_ref())),
        }
    }

    fn jwks(&self) -> String {
        let keys: Vec<String> = Alg::ALL.iter().map(|&a| self.jwk(a)).collect();
        format!(r#"{{"keys":[{}]}}"#, keys.join(","))
    }

    fn jwt_key(&self, alg: Alg) -> jsonwebtoken::DecodingKey {
        match alg {
            Alg::RS256 | Alg::PS256 => jsonwebtoken::DecodingKey::from_rsa_components(&b64(&self.rsa_n), &b64(&self.rsa_e)).unwrap(),
            Alg::ES256 => {
                let p = self.ec.public_key().as_ref();
                jsonwebtoken::DecodingKey::from_ec_components(&b64(&p[1..33]), &b64(&p[33..65])).unwrap()
            }
            Alg::EdDSA => jsonwebtoken::DecodingKey::from_ed_components(&b64(self.ed.public_key().as_ref())).unwrap(),
        }
    }
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An RFC 9068 access token's claims. The standard claims are always present; the custom claims
/// are added in order while the token stays within `TARGET_TOKEN_BYTES`, then a `sid` claim pads
/// it to the target.
fn claims_json(customs: usize, pad: Option<usize>) -> String {
    let now = now_secs();
    let mut s = format!(
        concat!(
            r#"{{"iss":"{iss}","sub":"5f0c3a8e-8d1b-4c6e-9a57-2b1f0e7d4c93","#,
            r#""aud":["{aud}","account"],"exp":{exp},"iat":{iat},"nbf":{iat},"#,
            r#""jti":"b7e2c1d4-93a0-4f6b-8e15","client_id":"orders-web","#,
            r#""scope":"openid profile email orders:read orders:write""#
        ),
        iss = ISSUER,
        aud = AUDIENCE,
        exp = now + 10 * 365 * 86400,
        iat = now - 60,
    );
    const CUSTOM: [&str; 6] = [
        r#""auth_time":1767225600"#,
        r#""acr":"urn:mace:incommon:iap:silver""#,
        r#""tenant":"acme-prod-eu1""#,
        r#""roles":["orders.reader","orders.writer","billing.viewer"]"#,
        r#""email":"jane.doe@example.com","email_verified":true"#,
        r#""preferred_username":"jane.doe""#,
    ];
    for c in CUSTOM.iter().take(customs) {
        s.push(',');
        s.push_str(c);
    }
    if let Some(n) = pad {
        s.push_str(r#","sid":""#);
        s.extend(std::iter::repeat_n('x', n));
        s.push('"');
    }
    s.push('}');
    s
}

fn b64_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

fn make_token(keys: &Keys, alg: Alg) -> (String, String) {
    let header = format!(r#"{{"alg":"{}","kid":"{}","typ":"at+jwt"}}"#, alg.name(), alg.kid());
    let sig_len = match alg {
        Alg::RS256 | Alg::PS256 => keys.rsa.public_modulus_len(),
        _ => 64,
    };
    let total = |claims: &str| b64_len(header.len()) + 1 + b64_len(claims.len()) + 1 + b64_len(sig_len);
    let mut customs = 0;
    while customs < 6 && total(&claims_json(customs + 1, None)) <= TARGET_TOKEN_BYTES {
        customs += 1;
    }
    let mut claims = claims_json(customs, None);
    let mut pad = 0;
    while total(&claims) < TARGET_TOKEN_BYTES {
        claims = claims_json(customs, Some(pad));
        pad += 1;
    }
    let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let sig = keys.sign(alg, signing_input.as_bytes());
    (format!("{signing_input}.{}", b64(&sig)), claims)
}

// ---------------------------------------------------------------------------------------------
// liboidc through the C ABI

fn check(rc: oidc_result, err: *mut oidc_error, what: &str) {
    if rc != oidc_result::Ok {
        let msg = if err.is_null() {
            String::new()
        } else {
            // SAFETY: err is a live error object; the message is a NUL-terminated string it owns.
            unsafe { std::ffi::CStr::from_ptr(oidc_error_message(err)) }.to_string_lossy().into_owned()
        };
        panic!("{what} failed: {rc:?}: {msg}");
    }
}

fn set_str(
    b: *mut oidc_validator_builder,
    f: extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result,
    v: &str,
    what: &str,
) {
    let mut err = std::ptr::null_mut();
    check(f(b, v.as_ptr().cast(), v.len(), &mut err), err, what);
}

enum KeysFrom<'a> {
    Static(&'a str),
    Url(&'a str),
}

/// A client through the C ABI. `token_cache` entries (0: off). The single-token sections use
/// 0, so that a repeated token is validated in full every time.
fn build_client(src: KeysFrom, token_cache: usize) -> *mut oidc_validator {
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    check(oidc_validator_builder_new(&mut b, &mut err), err, "oidc_validator_builder_new");
    set_str(b, oidc_validator_builder_set_issuer, ISSUER, "set_issuer");
    match src {
        KeysFrom::Static(jwks) => set_str(b, oidc_validator_builder_set_jwks_json, jwks, "set_jwks_json"),
        KeysFrom::Url(url) => {
            set_str(b, oidc_validator_builder_set_jwks_uri, url, "set_jwks_uri");
            check(oidc_validator_builder_set_allow_http_loopback(b, 1, &mut err), err, "set_allow_http_loopback");
        }
    }
    set_str(b, oidc_validator_builder_add_audience, AUDIENCE, "add_audience");
    set_str(b, oidc_validator_builder_set_expected_typ, "at+jwt", "set_expected_typ");
    check(oidc_validator_builder_set_token_cache_size(b, token_cache, &mut err), err, "set_token_cache_size");
    let mut c: *mut oidc_validator = std::ptr::null_mut();
    check(oidc_validator_builder_build(b, &mut c, &mut err), err, "oidc_validator_builder_build");
    c
}

type ValidateFn =
    extern "C" fn(*const oidc_validator, *const c_char, usize, *mut *mut c_char, *mut usize, *mut *mut oidc_error) -> oidc_result;
type StringFreeFn = extern "C" fn(*mut c_char);

/// One `oidc_validate` call as a C caller makes it: validate, then free the claims string. The
/// functions are called through opaque pointers, as from C: with LTO, a direct call from this
/// crate could otherwise be inlined into the loop, which no C caller gets.
#[inline(always)]
fn validate_once(client: *const oidc_validator, token: &str) -> usize {
    let validate: ValidateFn = black_box(oidc_validate);
    let free: StringFreeFn = black_box(oidc_string_free);
    let mut claims: *mut c_char = std::ptr::null_mut();
    let mut len = 0usize;
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let rc = validate(client, token.as_ptr().cast(), token.len(), &mut claims, &mut len, &mut err);
    if rc != oidc_result::Ok {
        check(rc, err, "oidc_validate");
    }
    free(claims);
    len
}

/// A one-file JWKS endpoint on loopback (plain http, `Cache-Control: max-age=86400`), so that the
/// "remote" client takes the real warm-cache path (shared cache entry, read locks, clock).
fn serve_jwks(jwks: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=86400\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                jwks.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(jwks.as_bytes());
        }
    });
    format!("http://{addr}/jwks.json")
}

// ---------------------------------------------------------------------------------------------
// Timing

/// CPU time consumed by the calling thread (CLOCK_THREAD_CPUTIME_ID): unlike wall time it does
/// not count the time this thread was preempted by other processes on a shared machine.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// One timed round: nanoseconds per call, by wall clock and by this thread's CPU time.
#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
}

/// Time `n` calls of `f`.
fn ns_per_op(n: u64, f: &mut dyn FnMut()) -> Sample {
    let c = thread_cpu();
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    let wall = t.elapsed().as_nanos() as f64 / n as f64;
    let cpu = (thread_cpu() - c).as_nanos() as f64 / n as f64;
    Sample { wall, cpu }
}

/// Warm up for `warmup`, then return the iteration count that makes a round last about `round`.
fn calibrate(f: &mut dyn FnMut(), warmup: Duration, round: Duration) -> u64 {
    let start = Instant::now();
    let mut n = 0u64;
    while n < 16 || start.elapsed() < warmup {
        f();
        n += 1;
    }
    // A short timed sample after the warm-up for the per-call estimate.
    let sample = (n / 4).max(16);
    let ns = ns_per_op(sample, f).cpu.max(1.0);
    ((round.as_nanos() as f64 / ns) as u64).max(1)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let m = s.len() / 2;
    if s.len() % 2 == 1 { s[m] } else { (s[m - 1] + s[m]) / 2.0 }
}

/// Spread of the rounds: (max - min) / median, in %.
fn spread(v: &[f64]) -> f64 {
    let mx = v.iter().cloned().fold(f64::MIN, f64::max);
    let mn = v.iter().cloned().fold(f64::MAX, f64::min);
    100.0 * (mx - mn) / median(v)
}

/// Measure several closures with interleaved rounds; returns each one's samples per round.
fn measure(s: &Settings, fs: &mut [&mut dyn FnMut()]) -> Vec<Vec<Sample>> {
    measure_prepared(s, fs, &mut |_, _| {})
}

/// `measure`, calling `prep(i, n)` (untimed) before each round of `n` calls of closure `i`.
fn measure_prepared(s: &Settings, fs: &mut [&mut dyn FnMut()], prep: &mut dyn FnMut(usize, u64)) -> Vec<Vec<Sample>> {
    let ns: Vec<u64> = fs.iter_mut().map(|f| calibrate(*f, s.warmup, s.round)).collect();
    let mut out = vec![Vec::with_capacity(s.rounds); fs.len()];
    for r in 0..s.rounds {
        for k in 0..fs.len() {
            let i = (r + k) % fs.len();
            prep(i, ns[i]);
            out[i].push(ns_per_op(ns[i], fs[i]));
        }
    }
    out
}

/// `threads` threads run `f` for `d` on one shared object. Returns the aggregate calls per
/// wall-clock second, and the sum over threads of calls per thread-CPU second (what the threads
/// would reach if each had its core to itself: removes preemption by other processes).
fn throughput_mt(threads: usize, d: Duration, f: &(dyn Fn() + Sync)) -> (f64, f64) {
    let barrier = Barrier::new(threads);
    let results: Vec<(u64, Duration, Duration)> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                sc.spawn(|| {
                    barrier.wait();
                    let c = thread_cpu();
                    let t = Instant::now();
                    let mut n = 0u64;
                    loop {
                        for _ in 0..32 {
                            f();
                        }
                        n += 32;
                        if t.elapsed() >= d {
                            break;
                        }
                    }
                    (n, t.elapsed(), thread_cpu() - c)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall = results.iter().map(|(n, t, _)| *n as f64 / t.as_secs_f64()).sum();
    let cpu = results.iter().map(|(n, _, c)| *n as f64 / c.as_secs_f64()).sum();
    (wall, cpu)
}

#[derive(Clone, Copy)]
struct SendPtr(*const oidc_validator);
// SAFETY: an oidc_validator may be used from any number of threads concurrently (API contract).
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

// ---------------------------------------------------------------------------------------------

struct Case {
    token: String,
    claims: String,
    signing_input_len: usize,
    sig: Vec<u8>,
    raw_key: ParsedPublicKey,
    jwt_key: jsonwebtoken::DecodingKey,
    jwt_validation: jsonwebtoken::Validation,
}

impl Case {
    fn new(keys: &Keys, alg: Alg) -> Case {
        let (token, claims) = make_token(keys, alg);
        let d2 = token.rfind('.').unwrap();
        let sig = B64.decode(&token[d2 + 1..]).unwrap();
        let raw_key = ParsedPublicKey::new(Keys::verification_alg(alg), keys.public_bytes(alg)).unwrap();
        let mut v = jsonwebtoken::Validation::new(alg.jwt());
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.validate_nbf = true;
        Case { token, claims, signing_input_len: d2, sig, raw_key, jwt_key: keys.jwt_key(alg), jwt_validation: v }
    }

    fn signing_input(&self) -> &[u8] {
        &self.token.as_bytes()[..self.signing_input_len]
    }

    fn raw(&self) {
        black_box(self.raw_key.verify_sig(black_box(self.signing_input()), black_box(&self.sig))).unwrap();
    }

    fn jwt(&self) {
        let d = jsonwebtoken::decode::<serde_json::Value>(black_box(&self.token), &self.jwt_key, &self.jwt_validation);
        black_box(d).unwrap();
    }
}

struct Row {
    alg: Alg,
    token_bytes: usize,
    raw: Vec<Sample>,
    val: Vec<Sample>,
    val_remote: Vec<Sample>,
    jwt: Vec<Sample>,
    /// (allocations, reallocations) per call: raw, static, remote, jsonwebtoken.
    allocs: [(f64, f64); 4],
}

fn cpu(v: &[Sample]) -> Vec<f64> {
    v.iter().map(|s| s.cpu).collect()
}

fn wall(v: &[Sample]) -> Vec<f64> {
    v.iter().map(|s| s.wall).collect()
}

fn per_sec(ns: f64) -> f64 {
    1e9 / ns
}

fn fmt_rate(r: f64) -> String {
    let r = r.round() as u64;
    let s = r.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn profile_mode(alg_name: &str, keys: &Keys, client: *const oidc_validator) {
    let alg = *Alg::ALL.iter().find(|a| a.name().eq_ignore_ascii_case(alg_name)).expect("unknown alg");
    let case = Case::new(keys, alg);
    let iters = env_u64("OIDC_BENCH_PROFILE_ITERS", 20000);
    let what = std::env::var("OIDC_BENCH_PROFILE_WHAT").unwrap_or_else(|_| "validate".into());
    let jwks = keys.jwks();
    let cached = build_client(KeysFrom::Static(&jwks), 512);
    let many = if what == "miss" {
        assert_eq!(alg, Alg::RS256, "the miss profile signs RS256 tokens");
        distinct_rs256_tokens(keys, 1024)
    } else {
        Vec::new()
    };
    let req = HostRequest::new();
    let bearer = format!("Bearer {}", case.token);
    req.fill(&bearer, None);
    let holder = Arc::new(SigningKey::generate_es256().unwrap());
    let dpop = Dpop::new(holder.clone()).unwrap();
    let bound = make_bound_token(keys, &dpop.thumbprint());
    let dpop_auth = format!("DPoP {bound}");
    let proofs: Vec<String> =
        if what == "dpop" { (0..iters).map(|_| dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap()).collect() } else { Vec::new() };
    // "replica": the no-crypto replica of a cache miss (as in the request section).
    let mut cfg = Config::new(ISSUER);
    cfg.audiences = vec![AUDIENCE.to_string()];
    cfg.expected_typ = Some("at+jwt".into());
    cfg.key_source = KeySource::Static(jwks.clone());
    let policy = Policy::from_config(&cfg);
    let keyset = Arc::new(KeySet::parse(jwks.as_bytes()).unwrap());
    let cache = TokenCache::new(4096);
    let variants: Vec<String> = if what == "replica" {
        let d2 = case.token.rfind('.').unwrap();
        let sig = B64.decode(&case.token[d2 + 1..]).unwrap();
        (0..8192u32)
            .map(|i| {
                let mut s2 = sig.clone();
                s2[..4].copy_from_slice(&i.to_be_bytes());
                format!("{}.{}", &case.token[..d2], b64(&s2))
            })
            .collect()
    } else {
        Vec::new()
    };
    let t = Instant::now();
    for i in 0..iters as usize {
        match what.as_str() {
            "raw" => case.raw(),
            "replica" => {
                let t = variants[i % variants.len()].as_str();
                let now = oidc::core::client::unix_now();
                let h = cache.hash(t.as_bytes());
                assert!(cache.get(h, t.as_bytes()).is_none());
                let mut p = parse_token(t, &policy).unwrap();
                let kid = p.kid.take();
                let (v, times) = p.check_claims_timed(&policy, now).unwrap();
                cache.insert(h, Entry::new(t, &v, kid.as_deref(), times, keyset.clone(), 60.0), now);
                let c = std::ffi::CString::new(v.claims).unwrap();
                oidc_string_free(black_box(c.into_raw()));
            }
            "auth" => {
                black_box(authenticate_once(cached, &req));
            }
            "dpop" => {
                req.fill(&dpop_auth, Some(&proofs[i]));
                black_box(authenticate_once(client, &req));
            }
            "hit" => {
                black_box(validate_once(cached, &case.token));
            }
            "miss" => {
                black_box(validate_once(cached, &many[i % many.len()]));
            }
            _ => {
                black_box(validate_once(client, &case.token));
            }
        }
    }
    oidc_validator_free(cached);
    println!("{what} {}: {iters} calls in {:?}", alg.name(), t.elapsed());
}

fn main() {
    let total = Instant::now();
    let s = Settings::from_env();
    let keys = Keys::generate();
    let jwks = keys.jwks();
    let client = build_client(KeysFrom::Static(&jwks), 0);

    if let Ok(a) = std::env::var("OIDC_BENCH_PROFILE") {
        profile_mode(&a, &keys, client);
        oidc_validator_free(client);
        return;
    }

    if std::env::var("OIDC_BENCH_SECTION").as_deref() == Ok("request") {
        println!("# liboidc request authentication and token cache benchmark");
        println!();
        println!("load average at start: {}", loadavg());
        request_section(&s, &keys, &jwks);
        println!("load average at end: {}; total bench time: {:.1} s", loadavg(), total.elapsed().as_secs_f64());
        oidc_validator_free(client);
        return;
    }

    let url = serve_jwks(jwks.clone());
    let remote = build_client(KeysFrom::Url(&url), 0);
    let mut err = std::ptr::null_mut();
    check(oidc_validator_prefetch(remote, &mut err), err, "oidc_validator_prefetch");

    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |k: &str| {
        cpuinfo
            .lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split(':').nth(1))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    let load_start = loadavg();
    println!("# liboidc validate benchmark");
    println!();
    println!(
        "cpu: {} (family {} model {}), {} threads available; load average at start: {load_start}",
        field("model name"),
        field("cpu family"),
        field("model\t"),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
    );
    println!(
        "rounds: {} x {:?} per measurement (warm-up {:?}), interleaved; median round reported. \
         Rates are per second of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID).",
        s.rounds, s.round, s.warmup
    );
    println!();

    // Policy and key set for the direct breakdown (the same public core functions oidc_validate
    // runs, minus the signature check).
    let mut cfg = Config::new(ISSUER);
    cfg.audiences = vec![AUDIENCE.to_string()];
    cfg.expected_typ = Some("at+jwt".into());
    cfg.key_source = KeySource::Static(jwks.clone());
    let policy = Policy::from_config(&cfg);
    let keyset = KeySet::parse(jwks.as_bytes()).unwrap();

    let mut rows = Vec::new();
    let mut breakdowns = Vec::new();
    for alg in Alg::ALL {
        let case = Case::new(&keys, alg);
        // Sanity: every path accepts the token and liboidc returns the claims as signed.
        case.raw();
        case.jwt();
        {
            let mut out: *mut c_char = std::ptr::null_mut();
            let mut len = 0usize;
            let mut err = std::ptr::null_mut();
            check(oidc_validate(client, case.token.as_ptr().cast(), case.token.len(), &mut out, &mut len, &mut err), err, "oidc_validate");
            // SAFETY: out is a NUL-terminated string of len bytes owned by us.
            let got = unsafe { std::ffi::CStr::from_ptr(out) }.to_str().unwrap().to_string();
            assert_eq!(got, case.claims);
            assert_eq!(len, case.claims.len());
            oidc_string_free(out);
            validate_once(remote, &case.token);
        }

        let token = case.token.clone();
        let mut f_raw = || case.raw();
        let mut f_val = || {
            black_box(validate_once(client, black_box(&token)));
        };
        let mut f_rem = || {
            black_box(validate_once(remote, black_box(&token)));
        };
        let mut f_jwt = || case.jwt();
        let allocs = [count_allocs(&mut f_raw), count_allocs(&mut f_val), count_allocs(&mut f_rem), count_allocs(&mut f_jwt)];
        let r = measure(&s, &mut [&mut f_raw, &mut f_val, &mut f_rem, &mut f_jwt]);
        let mut it = r.into_iter();
        rows.push(Row {
            alg,
            token_bytes: case.token.len(),
            raw: it.next().unwrap(),
            val: it.next().unwrap(),
            val_remote: it.next().unwrap(),
            jwt: it.next().unwrap(),
            allocs,
        });

        // Direct breakdown of the work outside the signature check.
        let tok = case.token.as_str();
        let parsed = parse_token(tok, &policy).unwrap();
        let now = now_secs() as f64;
        let claims_owned = case.claims.clone();
        let payload_bytes = case.claims.as_bytes().to_vec();
        let mut segs = tok.split('.');
        let (header_b64, payload_b64, sig_b64) = (segs.next().unwrap(), segs.next().unwrap(), segs.next().unwrap());
        let mut b_utf8 = || {
            black_box(std::str::from_utf8(black_box(tok.as_bytes())).unwrap());
        };
        let mut b_parse = || {
            black_box(parse_token(black_box(tok), &policy).unwrap());
        };
        let mut b_b64h = || {
            black_box(b64url_decode(black_box(header_b64.as_bytes())).unwrap());
        };
        let mut b_b64p = || {
            black_box(b64url_decode(black_box(payload_b64.as_bytes())).unwrap());
        };
        let mut b_b64s = || {
            black_box(b64url_decode(black_box(sig_b64.as_bytes())).unwrap());
        };
        let mut b_find = || {
            black_box(matches!(keyset.find(black_box(parsed.kid.as_deref()), parsed.alg), Lookup::Found(_)));
        };
        let mut b_claims = || {
            let c = std::str::from_utf8(black_box(&payload_bytes)).unwrap();
            black_box(check_claims_json(c, &policy, black_box(now)).unwrap());
        };
        let mut b_rawobj = || {
            black_box(RawObject::parse(black_box(&case.claims)).unwrap().members.len());
        };
        let mut b_cstr = || {
            let c = std::ffi::CString::new(black_box(claims_owned.clone())).unwrap();
            oidc_string_free(black_box(c.into_raw()));
        };
        let mut b_clone = || {
            black_box(black_box(&claims_owned).clone());
        };
        let mut b_clock = || {
            black_box(oidc::core::client::unix_now());
        };
        let mut b_all = || {
            // Everything oidc_validate does except verify_sig (and the key-set Arc clone).
            let t = std::str::from_utf8(black_box(tok.as_bytes())).unwrap();
            let p = parse_token(t, &policy).unwrap();
            let Lookup::Found(_k) = keyset.find(p.kid.as_deref(), p.alg) else { unreachable!() };
            let v = p.check_claims(&policy, oidc::core::client::unix_now()).unwrap();
            let c = std::ffi::CString::new(v.claims).unwrap();
            oidc_string_free(black_box(c.into_raw()));
        };
        let mut b_naive = || {
            let p = B64.decode(black_box(payload_b64)).unwrap();
            black_box(serde_json::from_slice::<serde_json::Value>(&p).unwrap());
        };
        let bs = Settings { round: s.round / 8, warmup: s.warmup / 2, rounds: s.rounds.min(9), ..s };
        let names = [
            "UTF-8 check of the token (try_utf8)",
            "parse_token (split, strict b64 of the segments, header JSON, alg/kid/typ/crit)",
            "  part: b64url_decode header",
            "  part: b64url_decode payload",
            "  part: b64url_decode signature",
            "key lookup (KeySet::find)",
            "claims UTF-8 + check_claims_json (claims JSON, iss/aud/exp/nbf/iat)",
            "  part: RawObject::parse of the claims",
            "CString::new + into_raw + oidc_string_free (incl. a String clone)",
            "  the String clone alone (bench artefact, not in liboidc)",
            "unix_now (SystemTime::now)",
            "replica: oidc_validate minus verify_sig, FFI guard and Arc clone",
            "reference: b64 payload + serde_json::Value parse",
        ];
        let mut fs: [&mut dyn FnMut(); 13] = [
            &mut b_utf8,
            &mut b_parse,
            &mut b_b64h,
            &mut b_b64p,
            &mut b_b64s,
            &mut b_find,
            &mut b_claims,
            &mut b_rawobj,
            &mut b_cstr,
            &mut b_clone,
            &mut b_clock,
            &mut b_all,
            &mut b_naive,
        ];
        let allocs: Vec<(f64, f64)> = fs.iter_mut().map(|f| count_allocs(*f)).collect();
        let r = measure(&bs, &mut fs);
        let cells = names.iter().zip(r.iter().map(|v| median(&cpu(v)))).zip(allocs).map(|((n, v), a)| (*n, v, a));
        breakdowns.push((alg, cells.collect::<Vec<_>>()));
    }

    println!("## Single thread, per CPU-second (median of {} rounds; ± = (max-min)/median over the rounds)", s.rounds);
    println!();
    println!(
        "| alg | token bytes | raw verify_sig/s | oidc_validate/s (static JWKS) | validate/raw | overhead ns/call | oidc_validate/s (JWKS URL, warm cache) | validate/raw | jsonwebtoken 11/s | jwt/raw |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let (raw, val, rem, jwt) = (median(&cpu(&r.raw)), median(&cpu(&r.val)), median(&cpu(&r.val_remote)), median(&cpu(&r.jwt)));
        println!(
            "| {} | {} | {} ±{:.1}% | {} ±{:.1}% | {:.1}% | {:.0} | {} ±{:.1}% | {:.1}% | {} ±{:.1}% | {:.1}% |",
            r.alg.name(),
            r.token_bytes,
            fmt_rate(per_sec(raw)),
            spread(&cpu(&r.raw)),
            fmt_rate(per_sec(val)),
            spread(&cpu(&r.val)),
            100.0 * raw / val,
            val - raw,
            fmt_rate(per_sec(rem)),
            spread(&cpu(&r.val_remote)),
            100.0 * raw / rem,
            fmt_rate(per_sec(jwt)),
            spread(&cpu(&r.jwt)),
            100.0 * raw / jwt,
        );
    }
    println!();
    println!(
        "overhead ns/call = 1e9/validate - 1e9/raw (medians above). Paired per-round estimate, median of validate[r]-raw[r] (min..max):"
    );
    for r in &rows {
        let d: Vec<f64> = r.val.iter().zip(&r.raw).map(|(v, w)| v.cpu - w.cpu).collect();
        let q: Vec<f64> = r.val.iter().zip(&r.raw).map(|(v, w)| w.cpu / v.cpu).collect();
        let dr: Vec<f64> = r.val_remote.iter().zip(&r.raw).map(|(v, w)| v.cpu - w.cpu).collect();
        println!(
            "  {}: static {:.0} ns ({:.0}..{:.0}; paired validate/raw {:.1}%), JWKS URL warm {:.0} ns ({:.0}..{:.0}); raw verify_sig {:.0} ns/call",
            r.alg.name(),
            median(&d),
            d.iter().cloned().fold(f64::MAX, f64::min),
            d.iter().cloned().fold(f64::MIN, f64::max),
            100.0 * median(&q),
            median(&dr),
            dr.iter().cloned().fold(f64::MAX, f64::min),
            dr.iter().cloned().fold(f64::MIN, f64::max),
            median(&cpu(&r.raw)),
        );
    }
    println!("Best round (least disturbed) per measurement:");
    for r in &rows {
        let best = |v: &[Sample]| v.iter().map(|s| s.cpu).fold(f64::MAX, f64::min);
        let (raw, val, rem, jwt) = (best(&r.raw), best(&r.val), best(&r.val_remote), best(&r.jwt));
        println!(
            "  {}: raw {}/s, oidc_validate {}/s ({:.1}%, +{:.0} ns), JWKS URL warm {}/s ({:.1}%), jsonwebtoken {}/s ({:.1}%)",
            r.alg.name(),
            fmt_rate(per_sec(raw)),
            fmt_rate(per_sec(val)),
            100.0 * raw / val,
            val - raw,
            fmt_rate(per_sec(rem)),
            100.0 * raw / rem,
            fmt_rate(per_sec(jwt)),
            100.0 * raw / jwt,
        );
    }
    println!();
    println!("Rust heap allocations (+ reallocations) per call (aws-lc's C allocations not counted):");
    for r in &rows {
        let a = |i: usize| format!("{:.0} (+{:.0})", r.allocs[i].0, r.allocs[i].1);
        println!(
            "  {}: raw verify_sig {}, oidc_validate static {}, JWKS URL warm {}, jsonwebtoken {}",
            r.alg.name(),
            a(0),
            a(1),
            a(2),
            a(3)
        );
    }
    println!();
    println!("## Same rounds by wall clock (cpu share = CPU time / wall time: below ~98% the machine was busy)");
    println!();
    println!("| alg | raw verify_sig/s | oidc_validate/s (static) | validate/raw | jsonwebtoken 11/s | cpu share |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        let (raw, val, jwt) = (median(&wall(&r.raw)), median(&wall(&r.val)), median(&wall(&r.jwt)));
        let share: Vec<f64> = [&r.raw, &r.val, &r.val_remote, &r.jwt].iter().flat_map(|v| v.iter().map(|s| s.cpu / s.wall)).collect();
        println!(
            "| {} | {} | {} | {:.1}% | {} | {:.1}% |",
            r.alg.name(),
            fmt_rate(per_sec(raw)),
            fmt_rate(per_sec(val)),
            100.0 * raw / val,
            fmt_rate(per_sec(jwt)),
            100.0 * median(&share),
        );
    }
    println!();
    println!("## Direct breakdown of the work outside the signature check (ns per call, CPU time, median)");
    println!();
    print!("| step |");
    for (a, _) in &breakdowns {
        print!(" {} |", a.name());
    }
    println!(" heap allocs (+reallocs) {} / {} |", breakdowns[0].0.name(), breakdowns[2].0.name());
    print!("|---|");
    for _ in &breakdowns {
        print!("---:|");
    }
    println!("---:|");
    for i in 0..breakdowns[0].1.len() {
        print!("| {} |", breakdowns[0].1[i].0);
        for (_, b) in &breakdowns {
            print!(" {:.0} |", b[i].1);
        }
        let a = |k: usize| {
            let (n, r) = breakdowns[k].1[i].2;
            if r > 0.0 { format!("{n:.0} (+{r:.0})") } else { format!("{n:.0}") }
        };
        println!(" {} / {} |", a(0), a(2));
    }
    println!();

    // Two threads, RS256: aggregate throughput on one shared client / key.
    let case = Case::new(&keys, Alg::RS256);
    let threads = 2;
    let (c_static, c_remote) = (SendPtr(client), SendPtr(remote));
    let tok = case.token.as_str();
    let f_raw = || case.raw();
    let f_val = move || {
        let c = c_static;
        black_box(validate_once(c.0, black_box(tok)));
    };
    let f_rem = move || {
        let c = c_remote;
        black_box(validate_once(c.0, black_box(tok)));
    };
    let fs: [&(dyn Fn() + Sync); 3] = [&f_raw, &f_val, &f_rem];
    let mt_rounds = (s.rounds / 3).max(3);
    for f in fs {
        throughput_mt(threads, s.warmup, f);
    }
    let mut mt = vec![Vec::new(); 3];
    for r in 0..mt_rounds {
        for k in 0..3 {
            let i = (r + k) % 3;
            mt[i].push(throughput_mt(threads, s.mt_round, fs[i]));
        }
    }
    let mw: Vec<f64> = mt.iter().map(|v| median(&v.iter().map(|x| x.0).collect::<Vec<_>>())).collect();
    let mc: Vec<f64> = mt.iter().map(|v| median(&v.iter().map(|x| x.1).collect::<Vec<_>>())).collect();
    let st = rows.iter().find(|r| r.alg == Alg::RS256).unwrap();
    let st1 = [per_sec(median(&cpu(&st.raw))), per_sec(median(&cpu(&st.val))), per_sec(median(&cpu(&st.val_remote)))];
    println!("## {threads} threads, RS256, one shared client and key (median of {mt_rounds} rounds x {:?})", s.mt_round);
    println!();
    println!("| path | aggregate calls/s (wall) | vs raw | aggregate calls per CPU-second | vs raw | per-thread vs 1 thread |");
    println!("|---|---:|---:|---:|---:|---:|");
    let names = ["raw verify_sig", "oidc_validate (static JWKS)", "oidc_validate (JWKS URL, warm cache)"];
    for i in 0..3 {
        println!(
            "| {} | {} | {:.1}% | {} | {:.1}% | {:.1}% |",
            names[i],
            fmt_rate(mw[i]),
            100.0 * mw[i] / mw[0],
            fmt_rate(mc[i]),
            100.0 * mc[i] / mc[0],
            100.0 * (mc[i] / threads as f64) / st1[i],
        );
    }
    println!();
    println!("load average before the request section: {}", loadavg());
    println!();
    request_section(&s, &keys, &jwks);

    println!("load average at end: {}; total bench time: {:.1} s", loadavg(), total.elapsed().as_secs_f64());

    oidc_validator_free(client);
    oidc_validator_free(remote);
}

// ---------------------------------------------------------------------------------------------
// Request authentication and the verified-token cache

const RESOURCE_URL: &str = "https://api.example.com/orders/42?expand=items";

type AuthFn = extern "C" fn(*const oidc_validator, *const oidc_http_request, *mut *mut oidc_decision, *mut *mut oidc_error) -> oidc_result;
type DecisionFreeFn = extern "C" fn(*mut oidc_decision);
type DecisionClaimsFn = extern "C" fn(*const oidc_decision, *mut usize) -> *const c_char;
type DecisionAllowedFn = extern "C" fn(*const oidc_decision) -> u32;

/// An `oidc_http_request` as a host keeps one per worker.
struct HostRequest(*mut oidc_http_request);

impl HostRequest {
    fn new() -> HostRequest {
        let mut r = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        check(oidc_http_request_new(&mut r, &mut err), err, "oidc_http_request_new");
        HostRequest(r)
    }

    /// What a host does per request before the call: reset, the header lines, method and URL.
    fn fill(&self, authorization: &str, dpop: Option<&str>) {
        let mut err = std::ptr::null_mut();
        let header = |name: &str, v: &str, err: &mut *mut oidc_error| {
            let rc = black_box(oidc_http_request_add_header)(self.0, name.as_ptr().cast(), name.len(), v.as_ptr(), v.len(), err);
            if rc != oidc_result::Ok {
                check(rc, *err, "oidc_http_request_add_header");
            }
        };
        black_box(oidc_http_request_reset)(self.0);
        header("Authorization", authorization, &mut err);
        if let Some(p) = dpop {
            header("DPoP", p, &mut err);
        }
        let rc = black_box(oidc_http_request_set_method)(self.0, c"GET".as_ptr(), 3, &mut err);
        if rc != oidc_result::Ok {
            check(rc, err, "set_method");
        }
        let rc = black_box(oidc_http_request_set_url)(self.0, RESOURCE_URL.as_ptr().cast(), RESOURCE_URL.len(), &mut err);
        if rc != oidc_result::Ok {
            check(rc, err, "set_url");
        }
    }
}

impl Drop for HostRequest {
    fn drop(&mut self) {
        oidc_http_request_free(self.0);
    }
}

/// One `oidc_authenticate` as a host makes it on a filled request: the call, `allowed`, the
/// claims (borrowed), `oidc_decision_free`. Panics on a denial.
#[inline(always)]
fn authenticate_once(client: *const oidc_validator, req: &HostRequest) -> usize {
    let auth: AuthFn = black_box(oidc_authenticate);
    let allowed: DecisionAllowedFn = black_box(oidc_decision_allowed);
    let claims: DecisionClaimsFn = black_box(oidc_decision_claims);
    let free: DecisionFreeFn = black_box(oidc_decision_free);
    let mut d: *mut oidc_decision = std::ptr::null_mut();
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let rc = auth(client, req.0, &mut d, &mut err);
    if rc != oidc_result::Ok {
        check(rc, err, "oidc_authenticate");
    }
    if allowed(d) != 1 {
        let mut n = 0;
        // SAFETY: the message is a NUL-terminated string owned by the live decision.
        let m = unsafe { std::ffi::CStr::from_ptr(oidc_decision_message(d, &mut n)) };
        panic!("request denied: {}", m.to_string_lossy());
    }
    let mut len = 0usize;
    black_box(claims(d, &mut len));
    free(d);
    len
}

/// An RS256 access token bound to a DPoP key (`cnf.jkt`), about the size of the others.
fn make_bound_token(keys: &Keys, jkt: &str) -> String {
    let header = format!(r#"{{"alg":"RS256","kid":"{}","typ":"at+jwt"}}"#, Alg::RS256.kid());
    let mut claims = claims_json(0, None);
    claims.pop();
    claims.push_str(&format!(r#","cnf":{{"jkt":"{jkt}"}}}}"#));
    let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let sig = keys.sign(Alg::RS256, signing_input.as_bytes());
    format!("{signing_input}.{}", b64(&sig))
}

/// Distinct tokens with the same claims (RS256 signs deterministically, so each one differs in
/// its `jti`).
fn distinct_rs256_tokens(keys: &Keys, n: usize) -> Vec<String> {
    let (base, _) = make_token(keys, Alg::RS256);
    let d1 = base.find('.').unwrap();
    let d2 = base.rfind('.').unwrap();
    let claims = String::from_utf8(B64.decode(&base[d1 + 1..d2]).unwrap()).unwrap();
    (0..n)
        .map(|i| {
            let c = claims.replacen(r#""jti":"b7e2c1d4-93a0-4f6b-8e15""#, &format!(r#""jti":"b7e2c1d4-93a0-{i:09}""#), 1);
            let input = format!("{}.{}", &base[..d1], b64(c.as_bytes()));
            let sig = keys.sign(Alg::RS256, input.as_bytes());
            format!("{input}.{}", b64(&sig))
        })
        .collect()
}

/// The ES256 public key of a DPoP signing key, parsed for the raw verify.
fn dpop_raw_key(holder: &SigningKey) -> ParsedPublicKey {
    let jwk = holder.public_jwk();
    let coord = |n: &str| B64.decode(jwk[n].as_str().unwrap()).unwrap();
    let mut point = vec![4u8];
    point.extend(coord("x"));
    point.extend(coord("y"));
    ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).unwrap()
}

fn med(v: &[Sample]) -> f64 {
    median(&cpu(v))
}

/// Median over the rounds of `a[r] - b[r]` (ns, CPU time).
fn paired(a: &[Sample], b: &[Sample]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x.cpu - y.cpu).collect();
    median(&d)
}

fn request_section(s: &Settings, keys: &Keys, jwks: &str) {
    let off = build_client(KeysFrom::Static(jwks), 0);
    let on = build_client(KeysFrom::Static(jwks), 4096);
    let small = build_client(KeysFrom::Static(jwks), 512);
    let case = Case::new(keys, Alg::RS256);
    let token = case.token.clone();
    let bearer = format!("Bearer {token}");
    let req = HostRequest::new();
    req.fill(&bearer, None);
    let req_fill = HostRequest::new();
    // 1024 distinct tokens cycling through a 512-entry cache: every call misses (the clock
    // evicts each entry before its token comes back).
    let many = distinct_rs256_tokens(keys, 1024);
    let mut next = 0usize;
    for t in &many {
        validate_once(small, t);
    }

    let mut f_raw = || case.raw();
    let mut f_off = || {
        black_box(validate_once(off, black_box(&token)));
    };
    let mut f_hit = || {
        black_box(validate_once(on, black_box(&token)));
    };
    let mut f_miss = || {
        next = (next + 1) % many.len();
        black_box(validate_once(small, black_box(&many[next])));
    };
    let mut f_auth_off = || {
        black_box(authenticate_once(off, &req));
    };
    let mut f_auth_on = || {
        black_box(authenticate_once(on, &req));
    };
    let mut f_fill_off = || {
        req_fill.fill(black_box(&bearer), None);
        black_box(authenticate_once(off, &req_fill));
    };
    let mut f_fill_on = || {
        req_fill.fill(black_box(&bearer), None);
        black_box(authenticate_once(on, &req_fill));
    };
    let names = [
        "raw RS256 verify_sig",
        "oidc_validate, token cache off (full validation)",
        "oidc_validate, repeated token through the cache (hit)",
        "oidc_validate, cache miss (1024 tokens cycling through a 512-entry cache)",
        "oidc_authenticate Bearer, cache off (request filled once)",
        "oidc_authenticate Bearer, cache on (hit; request filled once)",
        "fill request + oidc_authenticate Bearer, cache off",
        "fill request + oidc_authenticate Bearer, cache on (hit)",
    ];
    let mut fs: [&mut dyn FnMut(); 8] =
        [&mut f_raw, &mut f_off, &mut f_hit, &mut f_miss, &mut f_auth_off, &mut f_auth_on, &mut f_fill_off, &mut f_fill_on];
    let allocs: Vec<(f64, f64)> = fs.iter_mut().map(|f| count_allocs(*f)).collect();
    let load_a = loadavg();
    let r = measure(s, &mut fs);
    drop(fs);

    println!(
        "## Request authentication and the verified-token cache (RS256, {} byte token; median of {} rounds, CPU time)",
        token.len(),
        s.rounds
    );
    println!();
    println!("load average when this part started: {load_a}");
    println!();
    println!("| call | ns/call | calls/s | ± | vs raw verify | Rust allocs (+reallocs) |");
    println!("|---|---:|---:|---:|---:|---:|");
    let raw = med(&r[0]);
    for (i, n) in names.iter().enumerate() {
        let m = med(&r[i]);
        println!(
            "| {n} | {m:.0} | {} | ±{:.1}% | {:.1}% | {:.0} (+{:.0}) |",
            fmt_rate(per_sec(m)),
            spread(&cpu(&r[i])),
            100.0 * raw / m,
            allocs[i].0,
            allocs[i].1,
        );
    }
    println!();
    println!(
        "- cache hit: {:.0} ns per oidc_validate over the C ABI ({:.1}x faster than a full RS256 validation, {:.1}x faster than the raw verify)",
        med(&r[2]),
        med(&r[1]) / med(&r[2]),
        raw / med(&r[2])
    );
    println!(
        "- oidc_authenticate minus oidc_validate, both hits (pure request-layer cost): {:.0} ns (paired per round: {:.0} ns); with the request filled per call: {:.0} ns (paired {:.0} ns)",
        med(&r[5]) - med(&r[2]),
        paired(&r[5], &r[2]),
        med(&r[7]) - med(&r[2]),
        paired(&r[7], &r[2])
    );
    println!(
        "- oidc_authenticate minus oidc_validate, both cache off (signature included): {:.0} ns (paired {:.0} ns); filled per call: {:.0} ns (paired {:.0} ns); authenticate/validate rate {:.1}%",
        med(&r[4]) - med(&r[1]),
        paired(&r[4], &r[1]),
        med(&r[6]) - med(&r[1]),
        paired(&r[6], &r[1]),
        100.0 * med(&r[1]) / med(&r[4])
    );
    println!(
        "- work outside the signature check (validate - raw): cache off {:.0} ns (paired {:.0} ns), cache miss {:.0} ns (paired {:.0} ns)",
        med(&r[1]) - raw,
        paired(&r[1], &r[0]),
        med(&r[3]) - raw,
        paired(&r[3], &r[0]),
    );
    println!();

    // Two threads on one client, the cache on: the same token from both (one shard, one entry:
    // its reference count and the shard's lock word are shared), and a token of their own each.
    {
        let other = many[0].clone();
        validate_once(on, &other);
        let (c_on, t_same, t_other) = (SendPtr(on), token.as_str(), other.as_str());
        let next = std::sync::atomic::AtomicUsize::new(0);
        thread_local! { static MINE: Cell<usize> = const { Cell::new(usize::MAX) }; }
        let f_same = move || {
            let c = c_on;
            black_box(validate_once(c.0, black_box(t_same)));
        };
        let f_own = || {
            let c = c_on;
            let i = MINE.with(|m| {
                if m.get() == usize::MAX {
                    m.set(next.fetch_add(1, Ordering::Relaxed) % 2);
                }
                m.get()
            });
            black_box(validate_once(c.0, black_box(if i == 0 { t_same } else { t_other })));
        };
        let fs: [&(dyn Fn() + Sync); 2] = [&f_same, &f_own];
        for f in fs {
            throughput_mt(2, s.warmup, f);
        }
        let rounds = (s.rounds / 3).max(3);
        let mut mt = vec![Vec::new(); 2];
        for r in 0..rounds {
            for k in 0..2 {
                let i = (r + k) % 2;
                mt[i].push(throughput_mt(2, s.mt_round / 4, fs[i]));
            }
        }
        let per_call = |v: &Vec<(f64, f64)>| 2.0 * 1e9 / median(&v.iter().map(|x| x.1).collect::<Vec<_>>());
        println!(
            "- 2 threads on one client, cache hits (median of {rounds} rounds): the same token from both {:.0} ns per call per thread (CPU time), a token of their own each {:.0} ns",
            per_call(&mt[0]),
            per_call(&mt[1]),
        );
        println!();
    }

    // DPoP: RS256 access token bound to an ES256 key, a fresh proof per request.
    let holder = Arc::new(SigningKey::generate_es256().unwrap());
    let dpop = Dpop::new(holder.clone()).unwrap();
    let bound = make_bound_token(keys, &dpop.thumbprint());
    let dpop_auth = format!("DPoP {bound}");
    let proof_key = dpop_raw_key(&holder);
    let sample = dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap();
    let pd = sample.rfind('.').unwrap();
    let proof_sig = B64.decode(&sample[pd + 1..]).unwrap();
    let bound_case = {
        let d2 = bound.rfind('.').unwrap();
        (bound[..d2].to_string(), B64.decode(&bound[d2 + 1..]).unwrap())
    };
    let rs_key = ParsedPublicKey::new(Keys::verification_alg(Alg::RS256), keys.public_bytes(Alg::RS256)).unwrap();
    let proofs: std::cell::RefCell<Vec<String>> = Default::default();
    let fresh_proof = || proofs.borrow_mut().pop().unwrap_or_else(|| dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap());
    let refill = |n: u64| {
        let mut p = proofs.borrow_mut();
        p.clear();
        p.extend((0..n).map(|_| dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap()));
    };
    // The same two raw verifies over fresh material per call (a new proof each time, decoded
    // in advance), prepared like the DPoP requests' proofs: the baseline that sees the same
    // inputs, and the same cache disturbance from the untimed proof signing before a round.
    let raw_pool: std::cell::RefCell<Vec<(String, Vec<u8>)>> = Default::default();
    let raw_refill = |n: u64| {
        let mut p = raw_pool.borrow_mut();
        p.clear();
        p.extend((0..n).map(|_| {
            let pr = dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap();
            let d = pr.rfind('.').unwrap();
            let sig = B64.decode(&pr[d + 1..]).unwrap();
            (pr[..d].to_string(), sig)
        }));
    };
    let mut f_raw_fresh = || {
        let (input, sig) = raw_pool.borrow_mut().pop().unwrap_or_else(|| {
            let pr = dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap();
            let d = pr.rfind('.').unwrap();
            (pr[..d].to_string(), B64.decode(&pr[d + 1..]).unwrap())
        });
        black_box(rs_key.verify_sig(black_box(bound_case.0.as_bytes()), black_box(&bound_case.1))).unwrap();
        black_box(proof_key.verify_sig(black_box(input.as_bytes()), black_box(&sig))).unwrap();
    };
    let dreq = HostRequest::new();
    let mut f_raw2 = || {
        black_box(rs_key.verify_sig(black_box(bound_case.0.as_bytes()), black_box(&bound_case.1))).unwrap();
        black_box(proof_key.verify_sig(black_box(&sample.as_bytes()[..pd]), black_box(&proof_sig))).unwrap();
    };
    let mut f_dpop_off = || {
        let p = fresh_proof();
        dreq.fill(&dpop_auth, Some(&p));
        black_box(authenticate_once(off, &dreq));
    };
    let mut f_dpop_on = || {
        let p = fresh_proof();
        dreq.fill(&dpop_auth, Some(&p));
        black_box(authenticate_once(on, &dreq));
    };
    // The pieces, called directly: the proof check (every RFC 9449 check but the replay, with
    // the ES256 verify) on fresh proofs, and the replay check on fresh jtis.
    let vp_pool: std::cell::RefCell<Vec<String>> = Default::default();
    let vp_refill = |n: u64| {
        let mut p = vp_pool.borrow_mut();
        p.clear();
        p.extend((0..n).map(|_| dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap()));
    };
    let dcfg = oidc::core::config::DpopConfig::default();
    let mut f_verify_proof = || {
        let pr = vp_pool.borrow_mut().pop().unwrap_or_else(|| dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap());
        let req = oidc::core::authn::dpop::ProofRequest { proof: pr.as_bytes(), method: "GET", url: RESOURCE_URL, access_token: &bound };
        let now = oidc::core::client::unix_now();
        black_box(oidc::core::authn::dpop::verify_proof(&req, &dcfg, 60.0, now).unwrap());
    };
    let es_pool: std::cell::RefCell<Vec<(String, Vec<u8>)>> = Default::default();
    let es_refill = |n: u64| {
        let mut p = es_pool.borrow_mut();
        p.clear();
        p.extend((0..n).map(|_| {
            let pr = dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap();
            let d = pr.rfind('.').unwrap();
            let sig = B64.decode(&pr[d + 1..]).unwrap();
            (pr[..d].to_string(), sig)
        }));
    };
    let mut f_es_fresh = || {
        let (input, sig) = es_pool.borrow_mut().pop().unwrap_or_else(|| {
            let pr = dpop.proof("GET", RESOURCE_URL, Some(&bound)).unwrap();
            let d = pr.rfind('.').unwrap();
            (pr[..d].to_string(), B64.decode(&pr[d + 1..]).unwrap())
        });
        black_box(proof_key.verify_sig(black_box(input.as_bytes()), black_box(&sig))).unwrap();
    };
    // A clock of its own that runs ahead (1 ms per call, entries live 1 s): the process-wide
    // cache then holds about a thousand of these entries instead of filling up at a million
    // calls per second (a server's table is larger: this row is a lower bound).
    let mut jti_n = 0u64;
    let replay_base = oidc::core::client::unix_now() + 200.0;
    let mut f_replay = || {
        jti_n += 1;
        let jti = format!("bench-jti-{jti_n:012}");
        let now = replay_base + jti_n as f64 * 0.001;
        oidc::core::authn::replay::check_and_record("https://bench.replay.example", black_box(&jti), 1, now, None).unwrap();
    };
    refill(4000);
    raw_refill(4000);
    vp_refill(4000);
    let dnames = [
        "raw RS256 verify_sig + raw ES256 verify_sig (the same token and proof every call)",
        "fill request + oidc_authenticate DPoP, token cache off",
        "fill request + oidc_authenticate DPoP, token cache on (token hit, proof checked)",
        "raw RS256 verify_sig + raw ES256 verify_sig of a fresh proof every call",
        "part: verify_proof alone (fresh proof; ES256 verify included, replay check not)",
        "part: replay check_and_record alone (a new jti every call; about 1000 live entries)",
        "part: raw ES256 verify_sig of a fresh proof every call",
    ];
    let mut dfs: [&mut dyn FnMut(); 7] =
        [&mut f_raw2, &mut f_dpop_off, &mut f_dpop_on, &mut f_raw_fresh, &mut f_verify_proof, &mut f_replay, &mut f_es_fresh];
    let dallocs: Vec<(f64, f64)> = {
        let mut v = vec![count_allocs(dfs[0])];
        for f in dfs.iter_mut().skip(1) {
            refill(1000);
            raw_refill(1000);
            vp_refill(1000);
            es_refill(1000);
            v.push(count_allocs(*f));
        }
        v
    };
    refill(4000);
    raw_refill(4000);
    vp_refill(4000);
    es_refill(4000);
    let load_d = loadavg();
    let rd = measure_prepared(s, &mut dfs, &mut |i, n| match i {
        1 | 2 => refill(n),
        3 => raw_refill(n),
        4 => vp_refill(n),
        6 => es_refill(n),
        _ => {}
    });
    drop(dfs);
    println!("## DPoP request: RS256 access token + ES256 proof, a fresh proof per request (median of {} rounds, CPU time)", s.rounds);
    println!();
    println!("load average when this part started: {load_d}");
    println!();
    println!("| call | ns/call | calls/s | ± | raw verifies / call | Rust allocs (+reallocs) |");
    println!("|---|---:|---:|---:|---:|---:|");
    let raw2 = med(&rd[0]);
    for (i, n) in dnames.iter().enumerate() {
        let m = med(&rd[i]);
        println!(
            "| {n} | {m:.0} | {} | ±{:.1}% | {:.1}% | {:.0} (+{:.0}) |",
            fmt_rate(per_sec(m)),
            spread(&cpu(&rd[i])),
            100.0 * raw2 / m,
            dallocs[i].0,
            dallocs[i].1,
        );
    }
    println!();
    let q: Vec<f64> = rd[1].iter().zip(&rd[0]).map(|(d, w)| w.cpu / d.cpu).collect();
    println!(
        "- DPoP request (cache off) vs the two raw verifies of one fixed token and proof: {:.1}% (paired per round {:.1}%); overhead {:.0} ns (paired {:.0} ns)",
        100.0 * raw2 / med(&rd[1]),
        100.0 * median(&q),
        med(&rd[1]) - raw2,
        paired(&rd[1], &rd[0]),
    );
    let q3: Vec<f64> = rd[1].iter().zip(&rd[3]).map(|(d, w)| w.cpu / d.cpu).collect();
    println!(
        "- DPoP request (cache off) vs the two raw verifies of fresh proofs: {:.1}% (paired per round {:.1}%); overhead {:.0} ns (paired {:.0} ns)",
        100.0 * med(&rd[3]) / med(&rd[1]),
        100.0 * median(&q3),
        med(&rd[1]) - med(&rd[3]),
        paired(&rd[1], &rd[3]),
    );
    println!(
        "- parts: verify_proof {:.0} ns vs the raw ES256 verify of fresh proofs {:.0} ns: proof checks {:.0} ns (paired {:.0} ns); replay check {:.0} ns per call",
        med(&rd[4]),
        med(&rd[6]),
        med(&rd[4]) - med(&rd[6]),
        paired(&rd[4], &rd[6]),
        med(&rd[5]),
    );
    println!();

    // Direct measurement of the work outside the signature check (no crypto), RS256.
    let mut cfg = Config::new(ISSUER);
    cfg.audiences = vec![AUDIENCE.to_string()];
    cfg.expected_typ = Some("at+jwt".into());
    cfg.key_source = KeySource::Static(jwks.to_string());
    let policy = Policy::from_config(&cfg);
    let keyset = std::sync::Arc::new(KeySet::parse(jwks.as_bytes()).unwrap());
    // Token variants that parse alike (only signature bytes differ; nothing is verified here).
    let variants: Vec<String> = {
        let d2 = token.rfind('.').unwrap();
        let sig = B64.decode(&token[d2 + 1..]).unwrap();
        (0..8192u32)
            .map(|i| {
                let mut s2 = sig.clone();
                s2[..4].copy_from_slice(&i.to_be_bytes());
                format!("{}.{}", &token[..d2], b64(&s2))
            })
            .collect()
    };
    let cache = TokenCache::new(4096);
    let mut vi = 0usize;
    let replica = |t: &str, cache: Option<&TokenCache>| {
        let t = std::str::from_utf8(black_box(t.as_bytes())).unwrap();
        let now = oidc::core::client::unix_now();
        let hash = cache.map(|c| c.hash(t.as_bytes()));
        if let (Some(c), Some(h)) = (cache, hash) {
            assert!(c.get(h, t.as_bytes()).is_none());
        }
        let mut p = parse_token(t, &policy).unwrap();
        let Lookup::Found(_k) = keyset.find(p.kid.as_deref(), p.alg) else { unreachable!() };
        let kid = p.kid.take();
        let (v, times) = p.check_claims_timed(&policy, now).unwrap();
        if let (Some(c), Some(h)) = (cache, hash) {
            c.insert(h, Entry::new(t, &v, kid.as_deref(), times, keyset.clone(), 60.0), now);
        }
        let c = std::ffi::CString::new(v.claims).unwrap();
        oidc_string_free(black_box(c.into_raw()));
    };
    let mut vj = 0usize;
    let mut g_off = || replica(&token, None);
    let mut g_cold = || {
        vj = (vj + 1) % variants.len();
        replica(&variants[vj], None);
    };
    let mut g_miss = || {
        vi = (vi + 1) % variants.len();
        replica(&variants[vi], Some(&cache));
    };
    let gnames = [
        "replica of oidc_validate minus verify_sig, cache off, one token",
        "replica of oidc_validate minus verify_sig, cache off, 8192 tokens in turn",
        "replica of oidc_validate minus verify_sig, cache miss + insert (8192 tokens in turn, 4096 entries)",
    ];
    let mut gfs: [&mut dyn FnMut(); 3] = [&mut g_off, &mut g_cold, &mut g_miss];
    let gallocs: Vec<(f64, f64)> = gfs.iter_mut().map(|f| count_allocs(*f)).collect();
    let bs = Settings { round: s.round / 4, ..*s };
    let rg = measure(&bs, &mut gfs);
    drop(gfs);
    println!("## Work outside the signature check, measured directly (RS256 token, no crypto; median of {} rounds, CPU time)", bs.rounds);
    println!();
    println!("| path | ns/call | ± | Rust allocs (+reallocs) |");
    println!("|---|---:|---:|---:|");
    for (i, n) in gnames.iter().enumerate() {
        println!("| {n} | {:.0} | ±{:.1}% | {:.0} (+{:.0}) |", med(&rg[i]), spread(&cpu(&rg[i])), gallocs[i].0, gallocs[i].1);
    }
    println!();
    println!("(the replica leaves out the FFI guard, the key-set Arc clone and the metrics counters)");
    println!();

    drop(req);
    drop(req_fill);
    drop(dreq);
    oidc_validator_free(off);
    oidc_validator_free(on);
    oidc_validator_free(small);
}
