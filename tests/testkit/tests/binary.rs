//! End-to-end test of the `oidc-testkit` binary's CLI and admin protocol.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use oidc_testkit::ca::client_config_from_pem_file;
use oidc_testkit::client::{self, Conn, Response};
use oidc_testkit::keys::verify_jws;
use rustls::ClientConfig;
use serde_json::{Value, json};

struct Kit {
    child: Option<Child>,
    info: Value,
    tls: Arc<ClientConfig>,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Kit {
    fn start(extra: &[&str]) -> Kit {
        let dir = std::env::temp_dir().join(format!("oidc-testkit-bin-{}-{}", std::process::id(), oidc_testkit::keys::b64(rand_bytes())));
        let mut child = Command::new(env!("CARGO_BIN_EXE_oidc-testkit"))
            .arg("--dir")
            .arg(&dir)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn oidc-testkit");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("startup line");
        let info: Value = serde_json::from_str(&line).expect("one JSON line");
        let tls = client_config_from_pem_file(info["ca_file"].as_str().unwrap()).unwrap();
        Kit { child: Some(child), info, tls, _dir: TempDir(dir) }
    }

    fn s(&self, k: &str) -> String {
        self.info[k].as_str().unwrap_or_else(|| panic!("{k}")).to_string()
    }

    fn admin(&self, method: &str, path_q: &str) -> Response {
        client::request(method, &format!("{}{path_q}", self.s("admin")), None, &[], &[]).unwrap()
    }

    fn issuer_get(&self, path: &str) -> std::io::Result<Response> {
        client::get(&format!("{}{path}", self.s("issuer")), Some(self.tls.clone()))
    }

    /// Waits (bounded) for the process to exit; returns whether it did.
    fn wait_exit(&mut self, timeout: Duration) -> bool {
        let mut child = self.child.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait().map(|s| s.success()));
        });
        matches!(rx.recv_timeout(timeout), Ok(Ok(true)))
    }
}

impl Drop for Kit {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn rand_bytes() -> [u8; 6] {
    let mut b = [0u8; 6];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    b
}

fn jwk_for<'a>(jwks: &'a Value, kid: &str) -> &'a Value {
    jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == json!(kid)).unwrap_or_else(|| panic!("kid {kid} in {jwks}"))
}

#[test]
fn binary_end_to_end() {
    let mut kit = Kit::start(&[]);
    let issuer = kit.s("issuer");
    assert!(issuer.starts_with("https://127.0.0.1:"));
    assert_eq!(kit.s("jwks_uri"), format!("{issuer}/jwks"));
    assert!(kit.s("admin").starts_with("http://127.0.0.1:"));
    assert!(std::path::Path::new(&kit.s("wrong_ca_file")).exists());

    let disco = kit.issuer_get("/.well-known/openid-configuration").unwrap().json().unwrap();
    assert_eq!(disco["issuer"], json!(issuer));
    assert_eq!(disco["jwks_uri"], json!(kit.s("jwks_uri")));
    let jwks = kit.issuer_get("/jwks").unwrap().json().unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 4);

    // Tokens for each alg verify against the published JWKS.
    for alg in ["RS256", "ES256", "EdDSA", "PS256"] {
        let r = kit.admin("GET", &format!("/token?alg={alg}&aud=api&sub=alice&scope=read%20write&exp_in=120"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("application/jwt"));
        let token = r.text();
        let parts: Vec<&str> = token.split('.').collect();
        let header: Value = serde_json::from_slice(&oidc_testkit::keys::b64_decode(parts[0]).unwrap()).unwrap();
        let claims: Value = serde_json::from_slice(&oidc_testkit::keys::b64_decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header["alg"], json!(alg));
        let kid = header["kid"].as_str().unwrap();
        assert_eq!(kid, format!("{}-g1", alg.to_ascii_lowercase()));
        assert!(verify_jws(jwk_for(&jwks, kid), &token), "{alg}");
        assert_eq!(claims["iss"], json!(issuer));
        assert_eq!(claims["aud"], json!("api"));
        assert_eq!(claims["sub"], json!("alice"));
        assert_eq!(claims["scope"], json!("read write"));
        let exp = claims["exp"].as_i64().unwrap();
        let iat = claims["iat"].as_i64().unwrap();
        assert_eq!(exp - iat, 120);
        assert!(claims["jti"].is_string() && claims["nbf"].is_i64());
    }
    // Overrides: multiple aud, claim removal, header kid.
    let r = kit.admin("GET", "/token?aud=a&aud=b&claims=%7B%22exp%22%3Anull%2C%22azp%22%3A%22c%22%7D&kid=nope");
    let token = r.text();
    let parts: Vec<&str> = token.split('.').collect();
    let claims: Value = serde_json::from_slice(&oidc_testkit::keys::b64_decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["aud"], json!(["a", "b"]));
    assert!(claims.get("exp").is_none());
    assert_eq!(claims["azp"], json!("c"));
    assert_eq!(kit.admin("GET", "/token?alg=RS384").status, 400);
    assert_eq!(kit.admin("GET", "/token?alg=bogus").status, 400);

    // Stats.
    let stats = kit.admin("GET", "/stats").json().unwrap();
    assert_eq!(stats["/jwks"], json!(1));
    assert_eq!(stats["/.well-known/openid-configuration"], json!(1));

    // Faults.
    assert_eq!(kit.admin("POST", "/fault?path=/jwks&mode=500").status, 200);
    assert_eq!(kit.issuer_get("/jwks").unwrap().status, 500);
    kit.admin("POST", "/fault?path=/jwks&mode=reset");
    assert!(kit.issuer_get("/jwks").is_err());
    kit.admin("POST", "/fault?path=/jwks&mode=truncate");
    assert!(kit.issuer_get("/jwks").is_err());
    kit.admin("POST", "/fault?path=/jwks&mode=garbage");
    let r = kit.issuer_get("/jwks").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.json().is_err());
    kit.admin("POST", "/fault?path=/jwks&mode=wrong_ctype");
    assert_eq!(kit.issuer_get("/jwks").unwrap().header("content-type"), Some("text/html; charset=utf-8"));
    kit.admin("POST", "/fault?path=/jwks&mode=slow_ms=200");
    let t = std::time::Instant::now();
    assert_eq!(kit.issuer_get("/jwks").unwrap().status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
    kit.admin("POST", "/fault?path=/jwks&mode=hang");
    let mut c = Conn::connect(&issuer, Some(kit.tls.clone())).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    assert!(c.get("/jwks").is_err(), "hang times out client-side");
    kit.admin("POST", "/fault?path=/jwks&mode=503&count=1");
    assert_eq!(kit.issuer_get("/jwks").unwrap().status, 503);
    assert_eq!(kit.issuer_get("/jwks").unwrap().status, 200);
    kit.admin("POST", "/fault?path=/jwks&mode=ok&etag=%22e1%22&cache_control=max-age%3D5");
    let r = kit.issuer_get("/jwks").unwrap();
    assert_eq!((r.header("etag"), r.header("cache-control")), (Some("\"e1\""), Some("max-age=5")));
    assert_eq!(kit.admin("POST", "/fault?path=/jwks&mode=bogus").status, 400);

    // Rotation: new + old served, new kid used.
    let rot = kit.admin("POST", "/rotate").json().unwrap();
    assert_eq!(rot["generation"], json!(2));
    let jwks = kit.issuer_get("/jwks").unwrap().json().unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 8);
    let token = kit.admin("GET", "/token?alg=ES256").text();
    assert!(verify_jws(jwk_for(&jwks, "es256-g2"), &token));
    let token = kit.admin("GET", "/token?alg=ES256&key=previous").text();
    assert!(verify_jws(jwk_for(&jwks, "es256-g1"), &token));
    kit.admin("POST", "/rotate");
    let jwks = kit.issuer_get("/jwks").unwrap().json().unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&"rs256-g3") && kids.contains(&"rs256-g2") && !kids.contains(&"rs256-g1"));

    let m = kit.admin("GET", "/metrics").json().unwrap();
    assert!(m["connections"].as_u64().unwrap() >= 10);

    // Shutdown via admin.
    let r = kit.admin("POST", "/shutdown");
    assert_eq!(r.status, 200);
    assert!(kit.wait_exit(Duration::from_secs(10)), "exits after /shutdown");
}

#[test]
fn binary_exits_when_stdin_closes() {
    let mut kit = Kit::start(&["--algs", "ES256"]);
    assert_eq!(kit.info["kids"], json!({"ES256": "es256-g1"}));
    // Hang a request so exit has to cope with a blocked connection thread.
    kit.admin("POST", "/fault?path=/jwks&mode=hang");
    let issuer = kit.s("issuer");
    let tls = kit.tls.clone();
    std::thread::spawn(move || {
        let _ = client::get(&format!("{issuer}/jwks"), Some(tls));
    });
    drop(kit.child.as_mut().unwrap().stdin.take());
    assert!(kit.wait_exit(Duration::from_secs(10)), "exits on stdin EOF");
}

#[test]
fn binary_rejects_bad_args() {
    let st = Command::new(env!("CARGO_BIN_EXE_oidc-testkit"))
        .arg("--bogus")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(2));
}
