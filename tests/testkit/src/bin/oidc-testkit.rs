//! `oidc-testkit`: a loopback OIDC issuer for non-Rust tests (C, Go, Ruby, C#).
//!
//! ```text
//! oidc-testkit --dir DIR [--algs RS256,ES256,EdDSA,PS256] [--ignore-stdin]
//!              [--max-lifetime SECS]
//! ```
//!
//! Generates a CA into DIR (`DIR/ca.pem`, plus an unrelated `DIR/wrong-ca.pem`),
//! one signing key per alg (default RS256, ES256, EdDSA, PS256; kids
//! `"<alg lowercase>-g<generation>"`, e.g. `rs256-g1`), starts
//!
//! * an HTTPS issuer on 127.0.0.1 serving `/.well-known/openid-configuration`
//!   (issuer = its base URL, `jwks_uri` = base + `/jwks`) and `/jwks`;
//! * a plain-HTTP admin listener on 127.0.0.1;
//!
//! then prints ONE JSON line on stdout and flushes it:
//!
//! ```text
//! {"issuer":"https://127.0.0.1:P","ca_file":"DIR/ca.pem","wrong_ca_file":"DIR/wrong-ca.pem",
//!  "admin":"http://127.0.0.1:Q","jwks_uri":"https://127.0.0.1:P/jwks",
//!  "discovery_url":"https://127.0.0.1:P/.well-known/openid-configuration",
//!  "pid":1234,"kids":{"RS256":"rs256-g1",...}}
//! ```
//!
//! It exits (status 0) when stdin reaches EOF (so a dead parent never leaves
//! it running; pass `--ignore-stdin` when stdin is /dev/null), on
//! `POST /shutdown`, or after `--max-lifetime` seconds (default 1800).
//!
//! ## Admin protocol (plain HTTP; GET or POST accepted everywhere)
//!
//! * `GET /token?alg=RS256&aud=X&exp_in=300&sub=S&scope=a%20b` → 200,
//!   `Content-Type: application/jwt`, body = compact JWS signed by the
//!   issuer's current key for `alg` (400 if the set has no such alg).
//!   Claims: `iss` (issuer), `aud` (repeat `aud=` for an array; default
//!   `"test-client"`), `sub` (default `"test-user"`), `iat = now + iat_in`,
//!   `nbf = now + nbf_in`, `exp = now + exp_in` (defaults 0, 0, 300;
//!   negative allowed), `jti` (random), `scope` (only if given).
//!   Optional: `iss=` override, `jti=` override, `kid=` header kid override,
//!   `typ=` header typ (default `at+jwt`; `typ=` empty removes it),
//!   `key=previous` to sign with the previous generation's key,
//!   `claims={json}` merged into the claims and `header={json}` merged into
//!   the header (a `null` value removes that member).
//! * `GET /stats` → `{"<path>": hits, ...}` for the issuer server.
//! * `GET /metrics` → `{"connections":N,"requests":N,"open_connections":N,"hits":{...}}`.
//! * `POST /reset_stats` → zeroes the issuer's counters.
//! * `GET /keys` → `{"generation":G,"current":{"RS256":"rs256-gG",..},"previous":{..}|null}`.
//! * `POST /fault?path=/jwks&mode=M[&count=N][&cache_control=V][&etag=V]`
//!   where M is one of `ok` (normal response), a status code (`500`,
//!   `404`, `503`, …), `hang`, `reset`, `slow_ms=N` (or `mode=slow&ms=N`),
//!   `truncate` (half the body, full Content-Length), `garbage` (200 with a
//!   non-JSON body), `wrong_ctype` (normal body as `text/html`), `big`
//!   (200, a valid JSON object of `bytes=N` bytes, default 1 MiB).
//!   `count=N` applies the fault to the next N hits only, then `ok`.
//!   `cache_control`/`etag` set those headers on the normal response.
//!   `path` may be any path (unknown paths' normal response is a 404).
//!   → `{"ok":true}`.
//! * `POST /rotate` → new key generation; `/jwks` serves new + previous
//!   (older generations are dropped). → `{"generation":G,"kids":{..}}`.
//! * `POST /shutdown` → `{"ok":true}`, then the process exits.
//!
//! ## Signed revocation list (liboidc issue 14)
//!
//! The issuer also serves `/.well-known/revocation-list` (liboidc's default URL for it):
//! `Content-Type: application/jwt`, a JWS with header `typ` `revocation-list+jwt`, signed by
//! the current generation's key of the first configured alg (`--algs`; `kid` in the header),
//! claims `{"iss", "iat", "next_update", "version", "revoked_kids": [..], "revoked_jtis":
//! [{"jti","exp"}]}` (see liboidc's README, "Signed revocation lists"). It starts empty at
//! version 1, `next_update` = now + 300. It carries an `ETag` (`"rl-<version>-<n>"`, new on every
//! change) and answers a matching `If-None-Match` with 304. The list is re-signed (fresh `iat`)
//! on every change and on `/rotate`. `/fault?path=/.well-known/revocation-list&mode=500|hang|...`
//! makes it fail like any path; `/stats` counts its requests.
//!
//! * `POST /revocation/set?kid=K&jti=J&jti_exp_in=SECS` (repeat `kid=` / `jti=`; both optional:
//!   none clears the list; `jti_exp_in` default 3600) → replaces the revoked kids and jtis and
//!   bumps the version by 1 → `{"version":V}`.
//! * `POST /revocation/version?bump=1` (version + 1, content unchanged) or `?set=N` (any
//!   version, also lower: a rollback a client must refuse) → `{"version":V}`.
//! * `POST /revocation/next_update?in=SECS` → `next_update` = now + SECS (negative allowed)
//!   → `{"next_update":T}`.
//! * `POST /revocation/etag?enabled=0|1` → serve without / with an ETag (default with).
//! * `GET /revocation` → `{"version":V,"kids":[..],"jtis":[..],"next_update":T,"etag":E|null,
//!   "fetches":N,"not_modified":M}` (`fetches`: every request for the list, 304s included).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use oidc_testkit::TestCa;
use oidc_testkit::keys::{self, Alg, TestKey};
use oidc_testkit::server::{FixtureServer, RecordedRequest, Route, oidc_discovery};
use parking_lot::Mutex;
use serde_json::{Value, json};

const DISCOVERY: &str = "/.well-known/openid-configuration";
const JWKS: &str = "/jwks";
const REVOCATION: &str = "/.well-known/revocation-list";

/// The revocation list the issuer serves (see the module doc).
struct Revocation {
    version: i64,
    kids: Vec<String>,
    jtis: Vec<(String, i64)>,
    next_update: i64,
    etag: bool,
    /// Bumped on every change (the ETag).
    changes: u64,
}

impl Revocation {
    fn etag(&self) -> Option<String> {
        self.etag.then(|| format!("\"rl-{}-{}\"", self.version, self.changes))
    }
}

fn usage() -> ! {
    eprintln!("usage: oidc-testkit --dir DIR [--algs RS256,ES256,EdDSA,PS256] [--ignore-stdin] [--max-lifetime SECS]");
    std::process::exit(2)
}

struct Generation {
    n: u32,
    keys: Vec<TestKey>,
}

impl Generation {
    fn new(n: u32, algs: &[Alg]) -> Generation {
        Generation {
            n,
            keys: algs.iter().map(|a| TestKey::generate_with_kid(*a, &format!("{}-g{n}", a.name().to_ascii_lowercase()))).collect(),
        }
    }
    fn kids(&self) -> Value {
        let m: BTreeMap<&str, &str> = self.keys.iter().map(|k| (k.alg().name(), k.kid())).collect();
        json!(m)
    }
    fn key(&self, alg: Alg) -> Option<&TestKey> {
        self.keys.iter().find(|k| k.alg() == alg)
    }
}

struct Keys {
    current: Generation,
    previous: Option<Generation>,
}

#[derive(Clone, Debug)]
enum Mode {
    Ok,
    Status(u16),
    Hang,
    Reset,
    Slow(u64),
    Truncate,
    Garbage,
    WrongCtype,
    Big(usize),
}

#[derive(Clone, Debug)]
struct Fault {
    mode: Mode,
    count: Option<usize>,
    cache_control: Option<String>,
    etag: Option<String>,
}

enum Exit {
    Stdin,
    Admin,
}

struct App {
    issuer: String,
    srv: FixtureServer,
    algs: Vec<Alg>,
    keys: Mutex<Keys>,
    faults: Mutex<HashMap<String, Fault>>,
    exit: Mutex<mpsc::Sender<Exit>>,
    revocation: Mutex<Revocation>,
}

impl App {
    fn normal_route(&self, path: &str) -> Route {
        match path {
            DISCOVERY => Route::json(&oidc_discovery(&self.issuer, &format!("{}{JWKS}", self.issuer))),
            JWKS => {
                let k = self.keys.lock();
                let mut all: Vec<&TestKey> = k.current.keys.iter().collect();
                if let Some(p) = &k.previous {
                    all.extend(p.keys.iter());
                }
                Route::json(&keys::jwks_value(&all))
            }
            REVOCATION => {
                let k = self.keys.lock();
                let Some(key) = self.algs.first().and_then(|a| k.current.key(*a)) else {
                    return Route::json(&json!({"error": "no_key"})).with_status(500);
                };
                let r = self.revocation.lock();
                let claims = json!({
                    "iss": self.issuer,
                    "iat": keys::now(),
                    "next_update": r.next_update,
                    "version": r.version,
                    "revoked_kids": r.kids,
                    "revoked_jtis": r.jtis.iter().map(|(j, e)| json!({"jti": j, "exp": e})).collect::<Vec<Value>>(),
                });
                let mut header = keys::default_header(key);
                header["typ"] = json!("revocation-list+jwt");
                let mut route = Route::bytes(200, "application/jwt", key.sign_token(&header, &claims).into_bytes());
                route.etag = r.etag();
                route
            }
            _ => Route::json(&json!({"error": "not_found"})).with_status(404),
        }
    }

    /// Recomputes and installs the route for `path` from its fault state.
    fn apply(&self, path: &str) {
        let fault = self.faults.lock().get(path).cloned();
        let mut base = self.normal_route(path);
        let Some(f) = fault else {
            self.srv.set_route(path, base);
            return;
        };
        base.cache_control = f.cache_control.clone();
        if f.etag.is_some() || path != REVOCATION {
            base.etag = f.etag.clone();
        }
        let faulty = match f.mode {
            Mode::Ok => base.clone(),
            Mode::Status(s) => Route::json(&json!({"error": "injected_fault", "status": s})).with_status(s),
            Mode::Hang => Route::hang(),
            Mode::Reset => Route::reset(),
            Mode::Slow(ms) => base.clone().with_delay(Duration::from_millis(ms)),
            Mode::Truncate => {
                let n = base.body.len() / 2;
                base.clone().truncated(n)
            }
            Mode::Garbage => Route::bytes(200, "application/json", b"<html>\x00\xff{{ not json".to_vec()),
            Mode::WrongCtype => base.clone().with_content_type("text/html; charset=utf-8"),
            Mode::Big(n) => {
                let mut body = b"{\"padding\":\"".to_vec();
                body.resize(body.len() + n, b'a');
                body.extend_from_slice(b"\"}");
                Route::bytes(200, "application/json", body)
            }
        };
        match f.count {
            Some(n) if n > 0 => {
                let mut seq = vec![faulty; n];
                seq.push(base);
                self.srv.set_sequence(path, seq);
            }
            Some(_) => self.srv.set_route(path, base),
            None => self.srv.set_route(path, faulty),
        }
    }
}

fn bad(msg: impl Into<String>) -> Route {
    Route::json(&json!({"error": "bad_request", "message": msg.into()})).with_status(400)
}

fn ok_json(v: Value) -> Route {
    Route::json(&v)
}

fn merge(target: &mut Value, patch: &str, what: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(patch).map_err(|e| format!("{what}: invalid JSON: {e}"))?;
    let Value::Object(m) = v else {
        return Err(format!("{what}: must be a JSON object"));
    };
    let obj = target.as_object_mut().expect("object");
    for (k, v) in m {
        if v.is_null() {
            obj.remove(&k);
        } else {
            obj.insert(k, v);
        }
    }
    Ok(())
}

fn handle_token(app: &App, req: &RecordedRequest) -> Route {
    let p = |n: &str| req.query_param(n);
    let alg_name = p("alg").unwrap_or_else(|| "RS256".to_string());
    let Some(alg) = Alg::parse(&alg_name) else {
        return bad(format!("unknown alg {alg_name:?}"));
    };
    let int = |n: &str, d: i64| -> Result<i64, String> {
        match p(n) {
            None => Ok(d),
            Some(s) => s.trim().parse().map_err(|_| format!("{n} must be an integer")),
        }
    };
    let (exp_in, nbf_in, iat_in) = match (int("exp_in", 300), int("nbf_in", 0), int("iat_in", 0)) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return bad(e),
    };
    let key = {
        let k = app.keys.lock();
        let gen_ = match p("key").as_deref() {
            None | Some("current") => Some(&k.current),
            Some("previous") => k.previous.as_ref(),
            Some(other) => return bad(format!("key must be current|previous, not {other:?}")),
        };
        let Some(gen_) = gen_ else {
            return bad("no previous key generation (rotate first)");
        };
        match gen_.key(alg) {
            Some(key) => key.clone(),
            None => return bad(format!("no key for alg {alg} (have {:?})", app.algs)),
        }
    };
    let now = keys::now();
    let auds = req.query_params("aud");
    let aud = match auds.len() {
        0 => json!("test-client"),
        1 => json!(auds[0]),
        _ => json!(auds),
    };
    let mut claims = json!({
        "iss": p("iss").unwrap_or_else(|| app.issuer.clone()),
        "aud": aud,
        "sub": p("sub").unwrap_or_else(|| "test-user".to_string()),
        "iat": now + iat_in,
        "nbf": now + nbf_in,
        "exp": now + exp_in,
        "jti": p("jti").unwrap_or_else(|| {
            let mut b = [0u8; 12];
            aws_lc_rs::rand::fill(&mut b).expect("rng");
            keys::b64(b)
        }),
    });
    if let Some(scope) = p("scope") {
        claims["scope"] = json!(scope);
    }
    let mut header = keys::default_header(&key);
    if let Some(kid) = p("kid") {
        header["kid"] = json!(kid);
    }
    if let Some(typ) = p("typ") {
        if typ.is_empty() {
            header.as_object_mut().expect("object").remove("typ");
        } else {
            header["typ"] = json!(typ);
        }
    }
    if let Some(Err(e)) = p("claims").map(|c| merge(&mut claims, &c, "claims")) {
        return bad(e);
    }
    if let Some(Err(e)) = p("header").map(|h| merge(&mut header, &h, "header")) {
        return bad(e);
    }
    Route::bytes(200, "application/jwt", key.sign_token(&header, &claims).into_bytes())
}

fn parse_mode(req: &RecordedRequest) -> Result<Mode, String> {
    let mode = req.query_param("mode").ok_or("missing mode")?;
    let ms = |s: &str| s.trim().parse::<u64>().map_err(|_| format!("bad ms {s:?}"));
    Ok(match mode.as_str() {
        "ok" => Mode::Ok,
        "hang" => Mode::Hang,
        "reset" => Mode::Reset,
        "truncate" => Mode::Truncate,
        "garbage" => Mode::Garbage,
        "wrong_ctype" => Mode::WrongCtype,
        "big" => Mode::Big(
            req.query_param("bytes")
                .unwrap_or_else(|| "1048576".into())
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= 64 << 20)
                .ok_or("big needs bytes=N (at most 64 MiB)")?,
        ),
        "slow" => Mode::Slow(ms(&req.query_param("ms").or(req.query_param("slow_ms")).ok_or("slow needs ms=N")?)?),
        m if m.starts_with("slow_ms=") || m.starts_with("slow_ms:") => Mode::Slow(ms(&m[8..])?),
        m => match m.parse::<u16>() {
            Ok(s) if (100..=599).contains(&s) => Mode::Status(s),
            _ => return Err(format!("unknown mode {m:?}")),
        },
    })
}

fn handle_fault(app: &App, req: &RecordedRequest) -> Route {
    let Some(path) = req.query_param("path") else {
        return bad("missing path");
    };
    if !path.starts_with('/') {
        return bad("path must start with /");
    }
    let mode = match parse_mode(req) {
        Ok(m) => m,
        Err(e) => return bad(e),
    };
    let count = match req.query_param("count") {
        None => None,
        Some(c) => match c.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => return bad("count must be a non-negative integer"),
        },
    };
    let fault = Fault { mode, count, cache_control: req.query_param("cache_control"), etag: req.query_param("etag") };
    app.faults.lock().insert(path.clone(), fault);
    app.apply(&path);
    ok_json(json!({"ok": true}))
}

fn handle_rotate(app: &App) -> Route {
    let (g, kids) = {
        let mut k = app.keys.lock();
        let next = Generation::new(k.current.n + 1, &app.algs);
        let old = std::mem::replace(&mut k.current, next);
        k.previous = Some(old);
        (k.current.n, k.current.kids())
    };
    app.apply(JWKS);
    app.apply(REVOCATION);
    ok_json(json!({"generation": g, "kids": kids}))
}

fn handle_revocation(app: &App, what: &str, req: &RecordedRequest) -> Route {
    let int = |n: &str| req.query_param(n).map(|s| s.trim().parse::<i64>().map_err(|_| format!("{n} must be an integer")));
    let out = {
        let mut r = app.revocation.lock();
        match what {
            "set" => {
                let exp_in = match int("jti_exp_in").unwrap_or(Ok(3600)) {
                    Ok(v) => v,
                    Err(e) => return bad(e),
                };
                r.kids = req.query_params("kid");
                r.jtis = req.query_params("jti").into_iter().map(|j| (j, keys::now() + exp_in)).collect();
                r.version += 1;
                json!({"version": r.version})
            }
            "version" => {
                match (int("set"), req.query_param("bump")) {
                    (Some(Ok(v)), _) => r.version = v,
                    (Some(Err(e)), _) => return bad(e),
                    (None, Some(_)) => r.version += 1,
                    (None, None) => return bad("version needs set=N or bump=1"),
                }
                json!({"version": r.version})
            }
            "next_update" => match int("in") {
                Some(Ok(v)) => {
                    r.next_update = keys::now() + v;
                    json!({"next_update": r.next_update})
                }
                Some(Err(e)) => return bad(e),
                None => return bad("next_update needs in=SECS"),
            },
            "etag" => {
                r.etag = req.query_param("enabled").as_deref() != Some("0");
                json!({"ok": true})
            }
            _ => {
                return ok_json(json!({
                    "version": r.version,
                    "kids": r.kids,
                    "jtis": r.jtis.iter().map(|(j, _)| j.clone()).collect::<Vec<String>>(),
                    "next_update": r.next_update,
                    "etag": r.etag(),
                    "fetches": app.srv.hits(REVOCATION),
                    "not_modified": app.srv.not_modified_hits(REVOCATION),
                }));
            }
        }
    };
    app.revocation.lock().changes += 1;
    app.apply(REVOCATION);
    ok_json(out)
}

fn main() {
    let mut dir = None;
    let mut algs = vec![Alg::RS256, Alg::ES256, Alg::EdDSA, Alg::PS256];
    let mut watch_stdin = true;
    let mut max_lifetime = Duration::from_secs(1800);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = Some(args.next().unwrap_or_else(|| usage())),
            "--algs" => {
                let v = args.next().unwrap_or_else(|| usage());
                algs = v
                    .split(',')
                    .map(|s| {
                        Alg::parse(s.trim()).unwrap_or_else(|| {
                            eprintln!("oidc-testkit: unknown alg {s:?}");
                            usage()
                        })
                    })
                    .collect();
            }
            "--ignore-stdin" => watch_stdin = false,
            "--max-lifetime" => {
                let v = args.next().unwrap_or_else(|| usage());
                max_lifetime = Duration::from_secs(v.parse().unwrap_or_else(|_| usage()));
            }
            "-h" | "--help" => usage(),
            _ => {
                eprintln!("oidc-testkit: unknown argument {a:?}");
                usage()
            }
        }
    }
    let Some(dir) = dir else { usage() };
    let dir = std::path::absolute(&dir).unwrap_or_else(|_| dir.into());

    let ca = match TestCa::new_in(&dir) {
        Ok(ca) => ca,
        Err(e) => {
            eprintln!("oidc-testkit: cannot write CA into {}: {e}", dir.display());
            std::process::exit(1);
        }
    };
    let srv = FixtureServer::start_https(&ca);
    let issuer = srv.base_url();
    let (tx, rx) = mpsc::channel();
    let app = Arc::new(App {
        issuer: issuer.clone(),
        srv,
        keys: Mutex::new(Keys { current: Generation::new(1, &algs), previous: None }),
        algs,
        faults: Mutex::new(HashMap::new()),
        exit: Mutex::new(tx.clone()),
        revocation: Mutex::new(Revocation {
            version: 1,
            kids: Vec::new(),
            jtis: Vec::new(),
            next_update: keys::now() + 300,
            etag: true,
            changes: 0,
        }),
    });
    app.apply(DISCOVERY);
    app.apply(JWKS);
    app.apply(REVOCATION);

    let admin = FixtureServer::start_http();
    {
        let a = app.clone();
        admin.set_handler("/token", move |r| handle_token(&a, r));
        let a = app.clone();
        admin.set_handler("/stats", move |_| ok_json(json!(a.srv.all_hits())));
        let a = app.clone();
        admin.set_handler("/metrics", move |_| {
            ok_json(json!({
                "connections": a.srv.connections(),
                "requests": a.srv.requests(),
                "open_connections": a.srv.open_connections(),
                "hits": a.srv.all_hits(),
            }))
        });
        let a = app.clone();
        admin.set_handler("/reset_stats", move |_| {
            a.srv.reset_counters();
            ok_json(json!({"ok": true}))
        });
        let a = app.clone();
        admin.set_handler("/keys", move |_| {
            let k = a.keys.lock();
            ok_json(json!({
                "generation": k.current.n,
                "current": k.current.kids(),
                "previous": k.previous.as_ref().map(|p| p.kids()),
            }))
        });
        let a = app.clone();
        admin.set_handler("/fault", move |r| handle_fault(&a, r));
        let a = app.clone();
        admin.set_handler("/rotate", move |_| handle_rotate(&a));
        for what in ["", "/set", "/version", "/next_update", "/etag"] {
            let a = app.clone();
            let w = what.trim_start_matches('/');
            admin.set_handler(&format!("/revocation{what}"), move |r| handle_revocation(&a, w, r));
        }
        let a = app.clone();
        admin.set_handler("/shutdown", move |_| {
            let _ = a.exit.lock().send(Exit::Admin);
            ok_json(json!({"ok": true})).with_close()
        });
    }

    let kids = app.keys.lock().current.kids();
    let line = json!({
        "issuer": issuer,
        "ca_file": ca.ca_pem_path(),
        "wrong_ca_file": ca.wrong_ca_pem_path(),
        "admin": admin.base_url(),
        "jwks_uri": format!("{issuer}{JWKS}"),
        "discovery_url": format!("{issuer}{DISCOVERY}"),
        "pid": std::process::id(),
        "kids": kids,
    });
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    if watch_stdin {
        let tx = tx.clone();
        let _ = std::thread::Builder::new().name("stdin-watch".into()).spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 4096];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(Exit::Stdin);
        });
    }
    drop(tx);

    match rx.recv_timeout(max_lifetime) {
        Ok(Exit::Admin) => {
            // Let the /shutdown response reach the client (bounded).
            admin.wait_for_responses("/shutdown", 1, Duration::from_secs(1));
        }
        Ok(Exit::Stdin) | Err(_) => {}
    }
    drop(admin);
    std::process::exit(0);
}
