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

/// A scripted user agent: one cookie jar, `Location` headers followed by hand, the IdP's
/// development login and consent pages answered with form posts (no browser).
pub struct Browser {
    tls: Arc<rustls::ClientConfig>,
    issuer: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn store_cookies(&mut self, r: &oidc_testkit::client::Response) {
        for (k, v) in &r.headers {
            if !k.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let first = v.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else { continue };
            let expired = v.to_ascii_lowercase().contains("expires=thu, 01 jan 1970") || value.is_empty();
            self.cookies.retain(|(n, _)| n != name.trim());
            if !expired {
                self.cookies.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
    }

    fn send(&mut self, method: &str, url: &str, form: &[(&str, &str)]) -> oidc_testkit::client::Response {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", oidc_testkit::util::url_encode(k), oidc_testkit::util::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut headers: Vec<(&str, &str)> = vec![("Cookie", &cookie)];
        if method == "POST" {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        let r = oidc_testkit::client::request(method, url, Some(self.tls.clone()), &headers, body.as_bytes())
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        self.store_cookies(&r);
        r
    }

    fn absolute(&self, loc: &str) -> String {
        if loc.starts_with('/') { format!("{}{loc}", self.issuer) } else { loc.to_string() }
    }

    /// Follow an authorization URL through login (as `login`) and consent, up to the redirect
    /// leaving the IdP; returns that URL (the redirect URI with `code`/`error`, `state`, `iss`).
    pub fn authorize(&mut self, auth_url: &str, login: &str) -> String {
        let mut url = auth_url.to_string();
        for _ in 0..12 {
            if !url.starts_with(&self.issuer) {
                return url;
            }
            let r = if url.contains("/interaction/") {
                let page = self.send("GET", &url, &[]);
                let html = page.text();
                if html.contains("name=\"prompt\" value=\"login\"") {
                    self.send("POST", &url, &[("prompt", "login"), ("login", login), ("password", "any")])
                } else if html.contains("name=\"prompt\" value=\"consent\"") {
                    self.send("POST", &url, &[("prompt", "consent")])
                } else {
                    panic!("unexpected interaction page: {}", &html[..html.len().min(300)]);
                }
            } else {
                self.send("GET", &url, &[])
            };
            match r.header("location") {
                Some(l) => url = self.absolute(l),
                None => panic!("no redirect from {}: HTTP {} {}", url.split('?').next().unwrap(), r.status, r.text()),
            }
        }
        panic!("too many redirects in the authorization flow")
    }
}

impl Browser {
    /// Start an authorization and abort at the first interaction (the user cancels): returns
    /// the redirect back to the client (an `access_denied` error response).
    pub fn authorize_and_abort(&mut self, auth_url: &str) -> String {
        let r = self.send("GET", auth_url, &[]);
        let interaction = self.absolute(r.header("location").expect("redirect to an interaction"));
        assert!(interaction.contains("/interaction/"), "not an interaction: {interaction}");
        let mut url = format!("{interaction}/abort");
        for _ in 0..6 {
            if !url.starts_with(&self.issuer) {
                return url;
            }
            let r = self.send("GET", &url, &[]);
            url = self.absolute(r.header("location").unwrap_or_else(|| panic!("no redirect: HTTP {} {}", r.status, r.text())));
        }
        panic!("too many redirects after abort")
    }

    /// GET `url` with the cookie jar; returns status and body.
    pub fn get(&mut self, url: &str) -> (u16, String) {
        let r = self.send("GET", url, &[]);
        (r.status, r.text())
    }
}

impl RealIdp {
    /// The rustls config trusting this IdP's CA.
    pub fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// A fresh scripted browser (empty cookie jar).
    pub fn browser(&self) -> Browser {
        Browser { tls: self.tls.clone(), issuer: self.issuer.clone(), cookies: Vec::new() }
    }

    /// A minimal authorization-code exchange by form POST (the library's own code exchange
    /// belongs to the grants work); returns the token response JSON.
    pub fn exchange_code(
        &self,
        client_id: &str,
        secret: Option<&str>,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Value {
        let enc = oidc_testkit::util::url_encode;
        let mut body = format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}",
            enc(code),
            enc(redirect_uri),
            enc(verifier)
        );
        let auth;
        let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/x-www-form-urlencoded")];
        match secret {
            Some(s) => {
                auth = format!("Basic {}", base64_std(&format!("{}:{}", enc(client_id), enc(s))));
                headers.push(("Authorization", &auth));
            }
            None => body.push_str(&format!("&client_id={}", enc(client_id))),
        }
        let r = oidc_testkit::client::request("POST", &self.token_endpoint, Some(self.tls.clone()), &headers, body.as_bytes())
            .expect("token request");
        let v = r.json().expect("token response JSON");
        assert!(v["access_token"].is_string(), "code exchange failed: {v}");
        v
    }
}
