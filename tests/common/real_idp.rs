//! The real identity provider (`oidc-provider` from npm, tests/idp/server.mjs), started by the
//! test on 127.0.0.1 over HTTPS with a CA it generates. Stopped when dropped (and when the test
//! process dies: the server exits when its stdin closes).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;

use serde_json::Value;

pub struct RealIdp {
    child: Child,
    _stdin: ChildStdin,
    pub issuer: String,
    pub admin: String,
    pub ca_file: PathBuf,
    pub token_endpoint: String,
    tls: Arc<rustls::ClientConfig>,
    _dir: PathBuf,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl RealIdp {
    pub fn start() -> RealIdp {
        let idp_dir = repo().join("tests/idp");
        assert!(
            idp_dir.join("node_modules/oidc-provider").is_dir(),
            "tests/idp/node_modules is missing: run scripts/setup.sh (npm ci from the lock file)"
        );
        let dir = std::env::temp_dir().join(format!("liboidc-idp-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new("node")
            .arg(idp_dir.join("server.mjs"))
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node tests/idp/server.mjs");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("ready line");
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("bad ready line: {line:?}"));
        let s = |k: &str| ready[k].as_str().unwrap_or_else(|| panic!("ready line lacks {k}")).to_string();
        let ca_file = PathBuf::from(s("ca_file"));
        let tls = oidc_testkit::ca::client_config_from_pem_file(&ca_file).unwrap();
        RealIdp {
            child,
            _stdin: stdin,
            issuer: s("issuer"),
            admin: s("admin"),
            ca_file,
            token_endpoint: s("token_endpoint"),
            tls,
            _dir: dir,
        }
    }

    /// Client credentials with client_secret_basic for `resource`; returns the access token.
    pub fn token(&self, resource: &str, scope: &str) -> String {
        let body = format!(
            "grant_type=client_credentials&resource={}&scope={}",
            oidc_testkit::util::url_encode(resource),
            oidc_testkit::util::url_encode(scope)
        );
        let auth = format!("Basic {}", base64_std("svc-basic:svc-basic-secret"));
        let r = oidc_testkit::client::request(
            "POST",
            &self.token_endpoint,
            Some(self.tls.clone()),
            &[("Authorization", &auth), ("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
        .expect("token request");
        let v = r.json().expect("token response JSON");
        v["access_token"].as_str().unwrap_or_else(|| panic!("no access_token: {v}")).to_string()
    }

    pub fn admin_post(&self, path: &str) -> Value {
        oidc_testkit::client::post(&format!("{}{path}", self.admin), None, b"").unwrap().json().unwrap()
    }

    pub fn admin_get(&self, path: &str) -> Value {
        oidc_testkit::client::get(&format!("{}{path}", self.admin), None).unwrap().json().unwrap()
    }

    pub fn jwks_fetches(&self) -> u64 {
        self.admin_get("/stats")["jwks"].as_u64().unwrap_or(0)
    }
}

impl Drop for RealIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64
}

fn base64_std(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
