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
    pub dir: PathBuf,
    /// With [`RealIdp::start_with_tenants`]: each tenant and its issuer
    /// (`https://127.0.0.1:PORT/tenants/<tenant>`).
    pub tenants: Vec<(String, String)>,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl RealIdp {
    pub fn start() -> RealIdp {
        RealIdp::start_with_args(&[])
    }

    /// The IdP with one more `oidc-provider` per tenant (`--tenants`), each at issuer
    /// `ISSUER/tenants/<tenant>` with its own keys; their access tokens carry `tid: <tenant>`
    /// (client `svc-foreign`'s carry another tenant's name). Other `/tenants/…` paths answer
    /// 404 (counted in `/stats` `paths` and `unknown_tenants`).
    pub fn start_with_tenants(tenants: &[&str]) -> RealIdp {
        RealIdp::start_with_args(&["--tenants", &tenants.join(",")])
    }

    fn start_with_args(args: &[&str]) -> RealIdp {
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
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // IDP_DEBUG=1 shows the IdP's grant/authorization errors.
            .stderr(if std::env::var_os("IDP_DEBUG").is_some() { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("start node tests/idp/server.mjs");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("ready line");
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("bad ready line: {line:?}"));
        let s = |k: &str| ready[k].as_str().unwrap_or_else(|| panic!("ready line lacks {k}")).to_string();
        let ca_file = PathBuf::from(s("ca_file"));
        let tls = oidc_testkit::ca::client_config_from_pem_file(&ca_file).unwrap();
        let tenants = match ready["tenants"].as_object() {
            Some(m) => m.iter().map(|(k, v)| (k.clone(), v.as_str().expect("tenant issuer").to_string())).collect(),
            None => Vec::new(),
        };
        RealIdp {
            child,
            _stdin: stdin,
            issuer: s("issuer"),
            admin: s("admin"),
            ca_file,
            token_endpoint: s("token_endpoint"),
            tls,
            dir,
            tenants,
        }
    }

    /// The issuer of `tenant` (started with [`RealIdp::start_with_tenants`]).
    pub fn tenant_issuer(&self, tenant: &str) -> &str {
        self.tenants.iter().find(|(t, _)| t == tenant).map(|(_, i)| i.as_str()).unwrap_or_else(|| panic!("no tenant {tenant}"))
    }

    /// Client credentials at `tenant`'s token endpoint, as `client_id`:`secret`
    /// (client_secret_basic); returns the access token.
    pub fn tenant_token(&self, tenant: &str, client_id: &str, secret: &str, resource: &str, scope: &str) -> String {
        self.cc_token(&format!("{}/token", self.tenant_issuer(tenant)), client_id, secret, resource, scope)
    }

    /// Client credentials with client_secret_basic for `resource`; returns the access token.
    pub fn token(&self, resource: &str, scope: &str) -> String {
        self.cc_token(&self.token_endpoint, "svc-basic", "svc-basic-secret", resource, scope)
    }

    fn cc_token(&self, token_endpoint: &str, client_id: &str, secret: &str, resource: &str, scope: &str) -> String {
        let body = format!(
            "grant_type=client_credentials&resource={}&scope={}",
            oidc_testkit::util::url_encode(resource),
            oidc_testkit::util::url_encode(scope)
        );
        let auth = format!("Basic {}", base64_std(&format!("{client_id}:{secret}")));
        let r = oidc_testkit::client::request(
            "POST",
            token_endpoint,
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

/// The committed test client keys (tests/idp/client-keys), registered for `svc-pkjwt`.
pub fn client_key(name: &str) -> String {
    std::fs::read_to_string(repo().join("tests/idp/client-keys").join(name)).unwrap()
}

impl RealIdp {
    /// Requests to `path` seen by the IdP's HTTPS listener (admin `/stats`).
    pub fn path_hits(&self, path: &str) -> u64 {
        self.admin_get("/stats")["paths"][path].as_u64().unwrap_or(0)
    }
}

/// A scripted user agent: one cookie jar, `Location` headers followed by hand, the IdP's
/// development login and consent pages answered with form posts (no browser; see
/// tests/idp/README.md).
pub struct Browser {
    tls: Arc<rustls::ClientConfig>,
    cookies: Vec<(String, String)>,
    issuer: String,
    /// Body of the last page `login_and_consent` stopped at.
    pub last_body: String,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') { format!("{}{url}", self.issuer) } else { url.to_string() }
    }

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
        let url = self.absolute(url);
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
        let r = oidc_testkit::client::request(method, &url, Some(self.tls.clone()), &headers, body.as_bytes())
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        self.store_cookies(&r);
        r
    }

    pub fn request(&mut self, method: &str, url: &str, form: &[(&str, &str)]) -> Page {
        let r = self.send(method, url, form);
        Page { status: r.status, location: r.header("location").map(|l| self.absolute(l)), body: r.text() }
    }

    /// Follow the interactions from `url` (an authorization URL or an interaction) until a
    /// redirect leaves the issuer; log in as `login` and consent. Returns the final Location
    /// (the redirect URI with code/state/iss), or the last page's URL for device flows.
    pub fn login_and_consent(&mut self, url: &str, login: &str) -> String {
        let mut url = url.to_string();
        let mut logged_in = false;
        for _ in 0..20 {
            let page = if url.contains("/interaction/") {
                let form: Vec<(&str, &str)> = if logged_in {
                    vec![("prompt", "consent")]
                } else {
                    vec![("prompt", "login"), ("login", login), ("password", "anything")]
                };
                logged_in = true;
                self.request("POST", &url, &form)
            } else {
                self.request("GET", &url, &[])
            };
            match page.location {
                Some(l) if l.starts_with(&self.issuer) => url = l,
                Some(l) => return l,
                None => {
                    assert!(page.status < 400, "IdP error page at {url}: {} {}", page.status, page.body);
                    self.last_body = page.body;
                    return url;
                }
            }
        }
        panic!("too many redirects in the scripted login");
    }

    /// Approve a device authorization: enter `user_code` at /device, confirm, log in, consent.
    pub fn approve_device(&mut self, user_code: &str) {
        let xsrf = |b: &str| {
            let needle = "name=\"xsrf\" value=\"";
            let i = b.find(needle).expect("xsrf field") + needle.len();
            b[i..].split('"').next().unwrap().to_string()
        };
        let p = self.request("GET", "/device", &[]);
        let x = xsrf(&p.body);
        let p = self.request("POST", "/device", &[("xsrf", &x), ("user_code", user_code)]);
        let x = xsrf(&p.body);
        let p = self.request("POST", "/device", &[("xsrf", &x), ("user_code", user_code), ("confirm", "yes")]);
        let next = p.location.unwrap_or_else(|| panic!("device confirm did not redirect: {} {}", p.status, p.body));
        self.login_and_consent(&next, "user-1");
        assert!(self.last_body.contains("Sign-in Success"), "device approval did not succeed: {}", self.last_body);
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

impl Browser {
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
        Browser { tls: self.tls.clone(), issuer: self.issuer.clone(), cookies: Vec::new(), last_body: String::new() }
    }

    /// A minimal authorization-code exchange by form POST (the library's own code exchange
    /// belongs to the grants work); returns the token response JSON.
    pub fn exchange_code(&self, client_id: &str, secret: Option<&str>, code: &str, redirect_uri: &str, verifier: &str) -> Value {
        let enc = oidc_testkit::util::url_encode;
        let mut body =
            format!("grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}", enc(code), enc(redirect_uri), enc(verifier));
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

/// Issue 14 (JOSE breadth) helpers: the back-channel logout receiver, the IdP's encryption key,
/// RP-initiated logout, and raw calls whose responses may be JWEs (see tests/idp/README.md,
/// "JOSE clients").
impl RealIdp {
    /// Every logout token the IdP POSTed to its receiver (`ADMIN/backchannel`, client
    /// `bcl-app`), oldest first.
    pub fn backchannel_logout_tokens(&self) -> Vec<String> {
        let v = self.admin_get("/backchannel");
        let list = v.as_array().unwrap_or_else(|| panic!("GET /backchannel: not a list: {v}"));
        list.iter().map(|e| e["logout_token"].as_str().expect("logout_token").to_string()).collect()
    }

    /// Empty the receiver's list.
    pub fn backchannel_reset(&self) {
        self.admin_post("/backchannel/reset");
    }

    /// The IdP's encryption key as published in its JWKS (`use: enc`, RSA, `alg: RSA-OAEP-256`):
    /// request objects are encrypted to it.
    pub fn encryption_jwk(&self) -> Value {
        let r = oidc_testkit::client::get(&format!("{}/jwks", self.issuer), Some(self.tls.clone())).expect("GET /jwks");
        let v = r.json().expect("JWKS JSON");
        v["keys"]
            .as_array()
            .and_then(|k| k.iter().find(|k| k["use"] == "enc"))
            .cloned()
            .unwrap_or_else(|| panic!("no use=enc key in the JWKS: {v}"))
    }

    /// `GET url` (or a path under the issuer) with `Authorization: Bearer token`: status,
    /// Content-Type and body (UserInfo of an `enc-*` client is `application/jwt`, a JWE).
    pub fn get_bearer(&self, url: &str, token: &str) -> (u16, String, String) {
        let url = if url.starts_with('/') { format!("{}{url}", self.issuer) } else { url.to_string() };
        let auth = format!("Bearer {token}");
        let r = oidc_testkit::client::request("GET", &url, Some(self.tls.clone()), &[("Authorization", &auth)], b"")
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        (r.status, r.header("content-type").unwrap_or("").to_string(), r.text())
    }

    /// `POST url` (or a path under the issuer) with a form body and client_secret_basic, plus
    /// optional extra headers (e.g. `Accept: application/token-introspection+jwt`): status and
    /// body.
    pub fn post_form_basic(
        &self,
        url: &str,
        client_id: &str,
        secret: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> (u16, String) {
        let url = if url.starts_with('/') { format!("{}{url}", self.issuer) } else { url.to_string() };
        let enc = oidc_testkit::util::url_encode;
        let body = form.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        let auth = format!("Basic {}", base64_std(&format!("{}:{}", enc(client_id), enc(secret))));
        let mut headers: Vec<(&str, &str)> = vec![("Authorization", &auth), ("Content-Type", "application/x-www-form-urlencoded")];
        headers.extend_from_slice(extra);
        let r = oidc_testkit::client::request("POST", &url, Some(self.tls.clone()), &headers, body.as_bytes())
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        (r.status, r.text())
    }
}

impl Browser {
    /// RP-initiated logout of this browser's session: `GET /session/end` with `id_token_hint`,
    /// then the confirmation form (`xsrf`, `logout=yes`). Returns the final Location (the
    /// `post_logout_redirect_uri` with `state`). A back-channel logout client of the session
    /// (`bcl-app`) has been sent its logout token when this returns.
    pub fn logout(&mut self, id_token_hint: &str, post_logout_redirect_uri: &str, state: &str) -> String {
        let enc = oidc_testkit::util::url_encode;
        let url = format!(
            "/session/end?id_token_hint={}&post_logout_redirect_uri={}&state={}",
            enc(id_token_hint),
            enc(post_logout_redirect_uri),
            enc(state)
        );
        let page = self.request("GET", &url, &[]);
        assert_eq!(page.status, 200, "logout page: {}", page.body);
        let needle = "name=\"xsrf\" value=\"";
        let i = page.body.find(needle).unwrap_or_else(|| panic!("no xsrf field on the logout page: {}", page.body)) + needle.len();
        let xsrf = page.body[i..].split('"').next().unwrap_or("").to_string();
        let done = self.request("POST", "/session/end/confirm", &[("xsrf", &xsrf), ("logout", "yes")]);
        done.location.unwrap_or_else(|| panic!("logout confirmation did not redirect: {} {}", done.status, done.body))
    }
}
