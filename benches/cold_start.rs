//! Cold start: from process start to the first successful validation against a loopback HTTPS
//! issuer (discovery + JWKS + signature + claims), median over fresh processes, with a Go
//! anchor (golang-jwt v5 + keyfunc v3, `bench/coldstart-go`) measured in the same run.
//!
//!     cargo bench --bench cold_start
//!
//! The parent starts the repo's fixture issuer (`oidc-testkit`, built if `OIDC_TESTKIT_BIN` is
//! not set) once, mints one RS256 access token from it, then spawns the children in turns
//! (liboidc, Go, liboidc, ...). A liboidc child is this same binary (re-executed with
//! `OIDC_COLD_CHILD=1`): what a C host does, through the C ABI, `oidc_validator_builder_*` with
//! the issuer, the audience and the issuer's CA file (added to the system roots), `_build`,
//! `oidc_validate`. Each child prints CLOCK_MONOTONIC timestamps of its `main` and of the
//! end of the validation; the parent read the same clock just before `spawn`, so "total"
//! covers fork, exec, dynamic loading, runtime start-up, and the work. A first run of each kind
//! (page cache) is discarded.
//!
//! Knobs: `OIDC_COLD_RUNS` (default 15 per kind), `OIDC_COLD_GO` (path of a built Go anchor;
//! default: `go build` of bench/coldstart-go; `OIDC_COLD_GO=skip` skips it),
//! `OIDC_COLD_PHASES=1` (the liboidc child also prints the time of each phase).

use std::ffi::c_char;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{oidc_error_free, oidc_error_message, oidc_string_free};
use oidc::ffi::oidc_result;
use oidc::ffi::validator::*;

const AUDIENCE: &str = "test-client";

fn mono_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid timespec to write.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

fn child() {
    let start = mono_ns();
    let phases = std::env::var_os("OIDC_COLD_PHASES").is_some();
    let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("{n} not set"));
    let (issuer, ca, token) = (var("OIDC_ISSUER"), var("OIDC_CA_FILE"), var("OIDC_TOKEN"));
    let check = |rc: oidc_result, err: *mut oidc_error, what: &str| {
        if rc != oidc_result::Ok {
            // SAFETY: on failure err is a live error object.
            let msg = unsafe { std::ffi::CStr::from_ptr(oidc_error_message(err)) }.to_string_lossy().into_owned();
            oidc_error_free(err);
            eprintln!("cold_start child: {what} failed ({rc:?}): {msg}");
            std::process::exit(1);
        }
    };
    let put = |f: extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result,
               b: *mut oidc_validator_builder,
               v: &str,
               what: &str| {
        let mut err = std::ptr::null_mut();
        check(f(b, v.as_ptr().cast(), v.len(), &mut err), err, what);
    };
    let mut err = std::ptr::null_mut();
    let mut b = std::ptr::null_mut();
    check(oidc_validator_builder_new(&mut b, &mut err), err, "builder_new");
    put(oidc_validator_builder_set_issuer, b, &issuer, "issuer");
    put(oidc_validator_builder_add_audience, b, AUDIENCE, "audience");
    put(oidc_validator_builder_set_ca_file, b, &ca, "ca_file");
    let mut client = std::ptr::null_mut();
    check(oidc_validator_builder_build(b, &mut client, &mut err), err, "build");
    let built = mono_ns();
    let (mut claims, mut len) = (std::ptr::null_mut(), 0usize);
    let rc = oidc_validate(client, token.as_ptr().cast(), token.len(), &mut claims, &mut len, &mut err);
    check(rc, err, "validate");
    let done = mono_ns();
    oidc_string_free(claims);
    oidc_validator_free(client);
    if phases {
        println!("{{\"main\":{start},\"built\":{built},\"done\":{done}}}");
    } else {
        println!("{{\"main\":{start},\"done\":{done}}}");
    }
}

struct Issuer {
    child: std::process::Child,
    issuer: String,
    ca_file: String,
    admin: String,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn testkit_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("OIDC_TESTKIT_BIN") {
        return PathBuf::from(p);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let st = Command::new(cargo)
        .args(["build", "--quiet", "--release", "-p", "oidc-testkit", "--bin", "oidc-testkit", "--message-format", "short"])
        .current_dir(repo())
        .status()
        .expect("cargo build oidc-testkit");
    assert!(st.success(), "building oidc-testkit failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("target"));
    target.join("release/oidc-testkit")
}

fn start_issuer(dir: &Path) -> Issuer {
    let mut child = Command::new(testkit_bin())
        .arg("--dir")
        .arg(dir)
        .args(["--algs", "RS256,ES256,EdDSA,PS256", "--max-lifetime", "900"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start oidc-testkit");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("oidc-testkit line");
    let v: serde_json::Value = serde_json::from_str(&line).expect("oidc-testkit JSON line");
    let s = |k: &str| v[k].as_str().expect(k).to_string();
    Issuer { issuer: s("issuer"), ca_file: s("ca_file"), admin: s("admin"), child }
}

fn mint_token(admin: &str) -> String {
    let r = oidc_testkit::client::get(&format!("{admin}/token?alg=RS256&aud={AUDIENCE}&exp_in=3600"), None).expect("mint a token");
    r.text().trim().to_string()
}

fn go_anchor(tmp: &Path) -> Option<PathBuf> {
    match std::env::var("OIDC_COLD_GO") {
        Ok(v) if v == "skip" => return None,
        Ok(v) => return Some(PathBuf::from(v)),
        Err(_) => {}
    }
    let out = tmp.join("coldstart-go");
    let st = Command::new("go").args(["build", "-o"]).arg(&out).arg(".").current_dir(repo().join("bench/coldstart-go")).status();
    match st {
        Ok(s) if s.success() => Some(out),
        _ => {
            eprintln!("cold_start: the Go anchor did not build (go and its modules needed); measuring liboidc only");
            None
        }
    }
}

/// One fresh process: (total ms from spawn to the end of the validation, ms from spawn to main,
/// ms from build to the end for liboidc with phases).
fn run_once(cmd: &Path, child_env: &[(&str, &str)]) -> (f64, f64, Option<f64>) {
    let mut c = Command::new(cmd);
    c.envs(child_env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let spawned_at = mono_ns();
    let mut p = c.spawn().expect("spawn child");
    let mut out = String::new();
    p.stdout.take().expect("stdout").read_to_string(&mut out).expect("child output");
    let st = p.wait().expect("wait child");
    assert!(st.success(), "child {} failed: {out}", cmd.display());
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("child JSON line");
    let at = |k: &str| v[k].as_i64();
    let ms = |a: i64, b: i64| (b - a) as f64 / 1e6;
    let (main, done) = (at("main").expect("main"), at("done").expect("done"));
    (ms(spawned_at, done), ms(spawned_at, main), at("built").map(|b| ms(b, done)))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split(' ').take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn main() {
    if std::env::var_os("OIDC_COLD_CHILD").is_some() {
        child();
        return;
    }
    // `cargo bench` passes --bench; a filter argument that is not ours means another bench.
    if std::env::args().skip(1).any(|a| !a.starts_with('-') && !"cold_start".contains(a.as_str())) {
        return;
    }
    let runs: usize = std::env::var("OIDC_COLD_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(15);
    let tmp = std::env::temp_dir().join(format!("oidc-cold-start-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let go = go_anchor(&tmp);
    let iss = start_issuer(&tmp);
    let token = mint_token(&iss.admin);
    let me = std::env::current_exe().expect("current exe");
    let phases = if std::env::var_os("OIDC_COLD_PHASES").is_some() { "1" } else { "" };
    let mut env = vec![
        ("OIDC_ISSUER", iss.issuer.as_str()),
        ("OIDC_CA_FILE", iss.ca_file.as_str()),
        ("OIDC_TOKEN", token.as_str()),
        ("OIDC_AUDIENCE", AUDIENCE),
        ("OIDC_COLD_CHILD", "1"),
    ];
    if !phases.is_empty() {
        env.push(("OIDC_COLD_PHASES", phases));
    }
    let load_before = loadavg();
    // Page-cache warm-up, discarded.
    run_once(&me, &env);
    if let Some(g) = &go {
        run_once(g, &env);
    }
    let (mut oidc, mut oidc_main, mut oidc_work, mut anchor, mut anchor_main) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let (t, m, w) = run_once(&me, &env);
        oidc.push(t);
        oidc_main.push(m);
        if let Some(w) = w {
            oidc_work.push(w);
        }
        if let Some(g) = &go {
            let (t, m, _) = run_once(g, &env);
            anchor.push(t);
            anchor_main.push(m);
        }
    }
    let load_after = loadavg();
    let show = |v: &[f64]| v.iter().map(|x| format!("{x:.1}")).collect::<Vec<_>>().join(" ");
    println!("cold start: process start -> first successful validation (discovery + JWKS over loopback HTTPS)");
    println!("runs per kind: {runs}; load average before: {load_before}; after: {load_after}");
    println!("liboidc runs (ms): {}", show(&oidc));
    let (om, omm) = (median(&mut oidc), median(&mut oidc_main));
    println!("liboidc  median {om:7.2} ms  (spawn -> main {omm:.2} ms)");
    if !oidc_work.is_empty() {
        println!("liboidc  median from _build to validated: {:.2} ms", median(&mut oidc_work));
    }
    if !anchor.is_empty() {
        println!("go runs (ms): {}", show(&anchor));
        let (am, amm) = (median(&mut anchor), median(&mut anchor_main));
        println!("go anchor median {am:7.2} ms  (spawn -> main {amm:.2} ms)  golang-jwt v5 + keyfunc v3");
        println!("ratio liboidc / go: {:.2}", om / am);
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
