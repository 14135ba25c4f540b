//! HTTP for the core: one pooled ureq `Agent` per client, rustls on the aws-lc-rs provider,
//! trust roots from the system store plus the CA environment variables and a per-client file,
//! connect and total timeouts, capped bodies, redirects followed by hand under the URL policy.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use once_cell::sync::Lazy;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::config::{Config, MAX_REDIRECTS};
use super::error::{Error, ErrorKind, Result, err};
use super::runtime::{Gen, PerFork, ensure_fork_handler};
use super::url::{Url, redact};

/// The CA bundle variables, highest priority first. The first one that is set and non-empty is
/// added to the system roots (read when the client is created).
pub const CA_ENV_VARS: [&str; 3] = ["SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"];

/// Where distributions keep the system bundle; the first readable one is used.
const SYSTEM_BUNDLES: [&str; 6] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

/// Largest CA file we read.
const MAX_CA_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The system bundle (its canonical path, to recognize it when a CA variable names the same
/// file) and its certificates.
static SYSTEM_ROOTS: Lazy<(Option<PathBuf>, Vec<Certificate<'static>>)> = Lazy::new(|| {
    SYSTEM_BUNDLES
        .iter()
        .find_map(|p| {
            let certs = read_pem_certs(Path::new(p)).ok().filter(|v| !v.is_empty())?;
            Some((std::fs::canonicalize(p).ok(), certs))
        })
        .unwrap_or_default()
});

static PROVIDER: Lazy<Arc<rustls::crypto::CryptoProvider>> = Lazy::new(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));

fn read_pem_certs(path: &Path) -> std::result::Result<Vec<Certificate<'static>>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.kind().to_string())?;
    if meta.len() > MAX_CA_FILE_BYTES {
        return Err("file is larger than 8 MiB".into());
    }
    let pem = std::fs::read(path).map_err(|e| e.kind().to_string())?;
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
            out.push(c);
        }
    }
    Ok(out)
}

fn load_ca_file(path: &Path, what: &str) -> Result<Vec<Certificate<'static>>> {
    match read_pem_certs(path) {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => err(ErrorKind::CaFile, format!("{what} {} holds no PEM certificate", path.display())),
        Err(e) => err(ErrorKind::CaFile, format!("cannot read {what} {}: {e}", path.display())),
    }
}

/// Check that a per-client CA file is readable and holds a certificate, for a client that will
/// never connect (static keys): a wrong path is still the configuration error it would be for
/// a client that does.
pub fn check_ca_file(path: &Path) -> Result<()> {
    load_ca_file(path, "CA file").map(|_| ())
}

/// Which environment variable (if any) supplies extra roots, by the documented priority.
pub fn ca_env_file() -> Option<(&'static str, String)> {
    CA_ENV_VARS.iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()).map(|s| (*v, s)))
}

/// Build the trust roots: system store + the first CA env var + the per-client CA file.
/// A file named twice (`SSL_CERT_FILE` is often the system bundle itself) is read once, and a
/// certificate in several files is kept once: the set trusted is the same, and it is not
/// parsed twice by every TLS configuration built from it (the cold start).
pub fn trust_roots(ca_file: Option<&Path>) -> Result<Vec<Certificate<'static>>> {
    let (system_path, system) = &*SYSTEM_ROOTS;
    let mut roots = system.clone();
    let is_system_bundle = |p: &Path| system_path.is_some() && std::fs::canonicalize(p).ok() == *system_path;
    if let Some((var, file)) = ca_env_file() {
        if !is_system_bundle(Path::new(&file)) {
            roots.extend(load_ca_file(Path::new(&file), &format!("CA file from {var}"))?);
        }
    }
    if let Some(p) = ca_file {
        if !is_system_bundle(p) {
            roots.extend(load_ca_file(p, "CA file")?);
        }
    }
    let mut seen = std::collections::HashSet::with_capacity(roots.len());
    roots.retain(|c| seen.insert(c.der().to_vec()));
    Ok(roots)
}

/// An explicit HTTP proxy (`http://[user[:password]@]host:port`), used with HTTP CONNECT for
/// every request of a handle. `Debug` and [`ProxyUrl::display`] show `http://host:port` only:
/// the credentials (sent as `Proxy-Authorization: Basic`) never appear in a message or log.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let creds = if self.user.is_some() { " (with credentials)" } else { "" };
        write!(f, "ProxyUrl({}{creds})", self.display())
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl ProxyUrl {
    /// Parse `http://[user[:password]@]host:port[/]` (user and password percent-encoded).
    /// `bare_ok`: also accept `host:port` without the scheme (the proxy variables' custom).
    /// Errors never repeat the input (it may hold a password).
    pub fn parse(url: &str, bare_ok: bool) -> Result<ProxyUrl> {
        let bad = |why: &str| {
            Error::new(ErrorKind::InvalidConfig, format!("invalid proxy URL: {why} (expected http://[user:password@]host:port)"))
        };
        let url = url.trim();
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(bad("only http:// proxies (HTTP CONNECT) are supported")),
            None if bare_ok => url,
            None => return Err(bad("no http:// scheme")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("a proxy URL has no path, query or fragment"));
        }
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => {
                let (n, p) = match u.split_once(':') {
                    Some((n, p)) => (n, Some(p)),
                    None => (u, None),
                };
                let n = percent_decode(n).ok_or_else(|| bad("the user name is not valid percent-encoded UTF-8"))?;
                let p = p.map(|p| percent_decode(p).ok_or_else(|| bad("the password is not valid percent-encoded UTF-8"))).transpose()?;
                if n.is_empty() {
                    return Err(bad("empty user name"));
                }
                (Some(n), p)
            }
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                (h, p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| bad("the port is out of range"))?)
            }
            _ => return Err(bad("a proxy URL needs a host and a port")),
        };
        let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        } else {
            host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        };
        if !host_ok {
            return Err(bad("the host is not a host name or IP address"));
        }
        Ok(ProxyUrl { host: host.to_ascii_lowercase(), port, user, password })
    }

    /// `http://host:port`: the proxy as messages name it (no credentials).
    pub fn display(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// Whether credentials are configured.
    pub fn has_credentials(&self) -> bool {
        self.user.is_some()
    }

    fn to_ureq(&self, no_proxy: &[String]) -> Result<ureq::Proxy> {
        let mut b = ureq::Proxy::builder(ureq::ProxyProtocol::Http);
        b = b.host(&self.host).port(self.port);
        if let Some(u) = &self.user {
            b = b.username(u);
        }
        if let Some(p) = &self.password {
            b = b.password(p);
        }
        for e in no_proxy {
            b = b.no_proxy(e);
        }
        b.build().map_err(|_| Error::new(ErrorKind::InvalidConfig, format!("invalid proxy URL {}", self.display())))
    }
}

/// The proxy variables read when the environment is opted in, highest priority first.
pub const PROXY_ENV_VARS: [&str; 2] = ["https_proxy", "HTTPS_PROXY"];
/// The bypass-list variables read when the environment is opted in.
pub const NO_PROXY_ENV_VARS: [&str; 2] = ["no_proxy", "NO_PROXY"];

fn env_first(vars: &[&'static str]) -> Option<(&'static str, String)> {
    vars.iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()).map(|s| (*v, s)))
}

/// The proxy of a handle: the explicit one, else (when opted in) `https_proxy`/`HTTPS_PROXY`;
/// the bypass list (`no_proxy`/`NO_PROXY`) only with the opt-in. Read when the handle is built.
fn effective_proxy(cfg: &Config) -> Result<Option<(ProxyUrl, Vec<String>)>> {
    let no_proxy: Vec<String> = if cfg.proxy_from_env {
        env_first(&NO_PROXY_ENV_VARS)
            .map(|(_, v)| v.split(',').map(|e| e.trim().to_string()).filter(|e| !e.is_empty()).take(256).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    if let Some(p) = &cfg.proxy {
        return Ok(Some((p.clone(), no_proxy)));
    }
    if !cfg.proxy_from_env {
        return Ok(None);
    }
    match env_first(&PROXY_ENV_VARS) {
        None => Ok(None),
        Some((var, v)) => {
            let p = ProxyUrl::parse(&v, true).map_err(|e| Error::new(e.kind(), format!("{var}: {}", e.message())))?;
            Ok(Some((p, no_proxy)))
        }
    }
}

/// An mTLS client certificate (RFC 8705 §2): the certificate chain (leaf first) and its private
/// key, checked to match when the handle is built. `Debug` shows neither.
#[derive(Clone)]
pub struct ClientCertificate(ureq::tls::ClientCert);

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientCertificate({} certificate(s), key <redacted>)", self.0.certs().len())
    }
}

/// Largest certificate or key PEM accepted.
const MAX_CLIENT_PEM_BYTES: usize = 1024 * 1024;

impl ClientCertificate {
    /// From PEM text: `cert_pem` holds the certificate chain (leaf first), `key_pem` its
    /// unencrypted private key (PKCS#8, PKCS#1 RSA or SEC1 EC). The key must match the leaf.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<ClientCertificate> {
        let bad = |m: &str| Error::new(ErrorKind::ClientCert, m.to_string());
        if cert_pem.len() > MAX_CLIENT_PEM_BYTES || key_pem.len() > MAX_CLIENT_PEM_BYTES {
            return Err(bad("client certificate or key PEM is larger than 1 MiB"));
        }
        let mut chain = Vec::new();
        for item in ureq::tls::parse_pem(cert_pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => chain.push(c),
                Ok(_) => {}
                Err(_) => return Err(bad("the client certificate PEM is malformed")),
            }
        }
        if chain.is_empty() {
            return Err(bad("the client certificate PEM holds no CERTIFICATE block"));
        }
        let mut key = None;
        for item in ureq::tls::parse_pem(key_pem) {
            match item {
                Ok(ureq::tls::PemItem::PrivateKey(k)) if key.is_none() => key = Some(k),
                Ok(ureq::tls::PemItem::PrivateKey(_)) => return Err(bad("the client key PEM holds more than one private key")),
                Ok(_) => {}
                Err(_) => return Err(bad("the client key PEM is malformed")),
            }
        }
        let Some(key) = key else {
            return Err(bad("the client key PEM holds no unencrypted private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"));
        };
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let key_der =
            PrivateKeyDer::try_from(key.der()).map_err(|_| bad("the client key is not a PKCS#8, PKCS#1 or SEC1 private key"))?.clone_key();
        let certs: Vec<CertificateDer<'static>> = chain.iter().map(|c| CertificateDer::from(c.der().to_vec())).collect();
        let ck = rustls::sign::CertifiedKey::from_der(certs, key_der, &PROVIDER).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => bad("the client key does not match the client certificate"),
            _ => bad("the client key is not usable (unsupported algorithm or malformed)"),
        })?;
        if ck.keys_match().is_err() {
            return Err(bad("the client key does not match the client certificate"));
        }
        Ok(ClientCertificate(ureq::tls::ClientCert::new_with_certs(&chain, key)))
    }

    /// From files holding the PEM (the same file may hold both).
    pub fn from_files(cert_path: &Path, key_path: &Path) -> Result<ClientCertificate> {
        let read = |p: &Path, what: &str| -> Result<Vec<u8>> {
            let meta = std::fs::metadata(p)
                .map_err(|e| Error::new(ErrorKind::ClientCert, format!("cannot read the client {what} {}: {}", p.display(), e.kind())))?;
            if meta.len() > MAX_CLIENT_PEM_BYTES as u64 {
                return err(ErrorKind::ClientCert, format!("the client {what} {} is larger than 1 MiB", p.display()));
            }
            std::fs::read(p)
                .map_err(|e| Error::new(ErrorKind::ClientCert, format!("cannot read the client {what} {}: {}", p.display(), e.kind())))
        };
        Self::from_pem(&read(cert_path, "certificate")?, &read(key_path, "key")?)
    }

    /// DER of the leaf certificate (whose SHA-256 is the `cnf.x5t#S256` of bound tokens).
    pub fn leaf_der(&self) -> &[u8] {
        self.0.certs()[0].der()
    }
}

/// A fetched resource.
#[derive(Debug)]
pub struct Fetched {
    /// 200, or 304 when `If-None-Match` matched (then `body` is empty).
    pub status: u16,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    /// `max-age` from `Cache-Control`; `Some(0)` for `no-cache`/`no-store`.
    pub max_age: Option<u64>,
}

/// One pooled HTTP client. Cheap to share (an `Arc` inside).
///
/// The ureq agent (its connection pool) belongs to one fork generation: a forked child builds its
/// own on first use and never touches the parent's keep-alive TLS connections.
#[derive(Clone)]
pub struct Http {
    inner: Arc<HttpInner>,
    max_response_bytes: usize,
    allow_http_loopback: bool,
    trust_id: u64,
}

struct HttpInner {
    roots: Arc<Vec<Certificate<'static>>>,
    /// The proxy (explicit or from the environment), as ureq takes it, and its credential-free name.
    proxy: Option<(ureq::Proxy, String)>,
    client_cert: Option<ClientCertificate>,
    https_only: bool,
    connect_timeout: Duration,
    total_timeout: Duration,
    agent: PerFork<ureq::Agent>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("max_response_bytes", &self.max_response_bytes).finish()
    }
}

impl HttpInner {
    fn build_agent(&self) -> ureq::Agent {
        let client_cert = self.client_cert.as_ref().map(|c| c.0.clone());
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::Specific(self.roots.clone()))
            .client_cert(client_cert)
            .unversioned_rustls_crypto_provider(PROVIDER.clone())
            .build();
        ureq::Agent::config_builder()
            .tls_config(tls)
            // Never ureq's own reading of the environment (it takes HTTP_PROXY and ALL_PROXY,
            // which a remote client can set in CGI-like hosts: "httpoxy"): only the explicit
            // proxy, or https_proxy/HTTPS_PROXY when the handle opted in (`effective_proxy`).
            // The proxy's connect and CONNECT exchange count in timeout_connect and the global
            // timeout (the request's deadline) like any connection.
            .proxy(self.proxy.as_ref().map(|(p, _)| p.clone()))
            .https_only(self.https_only)
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.total_timeout))
            .max_idle_connections(16)
            .max_idle_connections_per_host(4)
            .max_idle_age(Duration::from_secs(30))
            .user_agent(concat!("liboidc/", env!("CARGO_PKG_VERSION")))
            .accept_encoding("identity")
            .build()
            .into()
    }
}

impl Http {
    /// Build the agent for a client. Reads the CA env vars now (not per request).
    pub fn new(cfg: &Config) -> Result<Http> {
        ensure_fork_handler();
        let roots = trust_roots(cfg.ca_file.as_deref())?;
        let proxy = match effective_proxy(cfg)? {
            Some((p, no_proxy)) => Some((p.to_ureq(&no_proxy)?, p.display())),
            None => None,
        };
        let trust_id = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for r in &roots {
                r.der().hash(&mut h);
            }
            cfg.allow_http_loopback.hash(&mut h);
            // A proxy sees loopback http in clear: keys fetched through one are not shared
            // with a handle that fetched directly.
            if cfg.allow_http_loopback {
                proxy.as_ref().map(|(_, name)| name.clone()).hash(&mut h);
            }
            h.finish()
        };
        let inner = HttpInner {
            roots: Arc::new(roots),
            proxy,
            client_cert: cfg.client_cert.clone(),
            https_only: !cfg.allow_http_loopback,
            connect_timeout: cfg.connect_timeout,
            total_timeout: cfg.total_timeout,
            agent: PerFork::new(),
        };
        Ok(Http {
            inner: Arc::new(inner),
            max_response_bytes: cfg.max_response_bytes,
            allow_http_loopback: cfg.allow_http_loopback,
            trust_id,
        })
    }

    /// Identifies what this agent trusts (its root certificates and the loopback-http opt-in).
    /// Key sets are cached per (JWKS URL, trust): keys fetched under one client's trust are
    /// never served to a client that trusts something else.
    pub fn trust_id(&self) -> u64 {
        self.trust_id
    }

    /// The proxy a request to `url` goes through (its credential-free name), if any.
    pub fn proxy_for(&self, url: &str) -> Option<&str> {
        let (p, name) = self.inner.proxy.as_ref()?;
        let uri: ureq::http::Uri = url.parse().ok()?;
        (!p.is_no_proxy(&uri)).then_some(name.as_str())
    }

    /// Whether this agent presents a client certificate (mTLS).
    pub fn has_client_cert(&self) -> bool {
        self.inner.client_cert.is_some()
    }

    fn map_err(&self, e: ureq::Error, url: &str, phase: Phase) -> Error {
        map_ureq(e, url, phase, self.proxy_for(url))
    }

    /// The agent of the current fork generation (built on first use in each process).
    fn agent(&self) -> Arc<Gen<ureq::Agent>> {
        self.inner.agent.get_or_init(|| self.inner.build_agent())
    }

    /// GET a JSON document, following at most [`MAX_REDIRECTS`] https redirects, sending
    /// `If-None-Match` when `etag` is given. Only 200 and 304 succeed.
    pub fn get_json(&self, url: &str, etag: Option<&str>) -> Result<Fetched> {
        let mut current = Url::parse_checked(url, self.allow_http_loopback)?.text;
        for _ in 0..=MAX_REDIRECTS {
            let agent = self.agent();
            let mut req = agent.get(&current).header("Accept", "application/json");
            if let Some(t) = etag {
                req = req.header("If-None-Match", t);
            }
            let mut resp = req.call().map_err(|e| self.map_err(e, &current, Phase::Reply))?;
            let status = resp.status().as_u16();
            let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string());
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let Some(loc) = header("location") else {
                    return err(ErrorKind::RedirectRejected, format!("redirect without Location from {}", redact(&current)));
                };
                let next = resolve(&current, &loc);
                match Url::parse_checked(&next, false) {
                    Ok(u) => current = u.text,
                    Err(_) => {
                        return err(ErrorKind::RedirectRejected, format!("refused redirect from {} to a non-https URL", redact(&current)));
                    }
                }
                continue;
            }
            let etag_out = header("etag");
            let max_age = header("cache-control").and_then(|c| parse_max_age(&c));
            if status == 304 && etag.is_some() {
                return Ok(Fetched { status, body: Vec::new(), etag: etag_out, max_age });
            }
            if status != 200 {
                let mut e =
                    Error::new(ErrorKind::HttpStatus, format!("HTTP {status} from {}", redact(&current))).with_server_status(status);
                if matches!(status, 429 | 503) {
                    if let Some(d) = header("retry-after").and_then(|v| parse_retry_after(&v, unix_now_secs())) {
                        e = e.with_retry_after(d);
                    }
                }
                return Err(e);
            }
            let ctype = header("content-type").unwrap_or_default().to_ascii_lowercase();
            let mime = ctype.split(';').next().unwrap_or("").trim();
            if !(mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))) {
                return err(
                    ErrorKind::ResponseInvalid,
                    format!("expected a JSON content type from {}, got '{}'", redact(&current), sanitize(mime)),
                );
            }
            let body = resp
                .body_mut()
                .with_config()
                .limit(self.max_response_bytes as u64)
                .read_to_vec()
                .map_err(|e| self.map_err(e, &current, Phase::Body))?;
            return Ok(Fetched { status, body, etag: etag_out, max_age });
        }
        err(ErrorKind::RedirectRejected, format!("too many redirects from {}", redact(url)))
    }
}

/// A request of the protocol clients. `Debug` shows the method, the URL without its query,
/// header names and form field names: never a value (they carry tokens and secrets).
#[derive(Clone, Default)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    /// Extra headers. Values may be secret (Authorization): never logged or put in errors.
    pub headers: Vec<(&'static str, String)>,
    /// `application/x-www-form-urlencoded` body.
    pub form: Option<Vec<(String, String)>>,
    /// A raw body with its content type (used instead of `form`).
    pub body: Option<(&'static str, Vec<u8>)>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(k, _)| *k).collect();
        let form: Option<Vec<&str>> = self.form.as_ref().map(|v| v.iter().map(|(k, _)| k.as_str()).collect());
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redact(&self.url))
            .field("headers", &headers)
            .field("form_fields", &form)
            .field("body_len", &self.body.as_ref().map(|(_, b)| b.len()))
            .finish()
    }
}

/// A response as received: any status, headers, capped body.
#[derive(Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Bodies and headers may carry tokens: never in Debug output.
        f.debug_struct("HttpResponse").field("status", &self.status).field("body_len", &self.body.len()).finish()
    }
}

impl HttpResponse {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The media type without parameters, lower case.
    pub fn mime(&self) -> String {
        self.header("content-type").unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase()
    }

    /// Whether the content type is JSON (`application/json` or `application/*+json`).
    pub fn is_json(&self) -> bool {
        let m = self.mime();
        m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
    }
}

/// `application/x-www-form-urlencoded` encoding of one component (RFC 6749 Appendix B).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-encoding for URL query components (RFC 3986 unreserved kept).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

thread_local! {
    /// The deadline of the call running on this thread ([`with_deadline`]).
    static CALL_DEADLINE: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
}

/// Run `f` with every request it sends on this thread bounded by `deadline` as well as by the
/// client's timeouts (a call's deadline: the cancel handle's or the request's own). A request
/// whose deadline already passed is not sent (`DeadlineExceeded`).
pub fn with_deadline<T>(deadline: Option<std::time::Instant>, f: impl FnOnce() -> T) -> T {
    let prev = CALL_DEADLINE.with(|d| d.replace(deadline));
    let out = f();
    CALL_DEADLINE.with(|d| d.set(prev));
    out
}

impl Http {
    /// Send a request; any HTTP status is returned (not an error). No redirects are followed.
    /// The body is capped like every response. Errors never include header values or bodies.
    pub fn send(&self, req: &HttpRequest) -> Result<HttpResponse> {
        let url = Url::parse_checked(&req.url, self.allow_http_loopback)?.text;
        let mut builder = ureq::http::Request::builder().method(req.method).uri(&url);
        for (k, v) in &req.headers {
            builder = builder.header(*k, v.as_str());
        }
        let body: Vec<u8> = if let Some(form) = &req.form {
            builder = builder.header("Content-Type", "application/x-www-form-urlencoded");
            form.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect::<Vec<_>>().join("&").into_bytes()
        } else if let Some((ct, b)) = &req.body {
            builder = builder.header("Content-Type", *ct);
            b.clone()
        } else {
            Vec::new()
        };
        let request =
            builder.body(body).map_err(|_| Error::new(ErrorKind::InvalidArgument, format!("invalid request to {}", redact(&url))))?;
        let agent = self.agent();
        let mut resp = match CALL_DEADLINE.with(std::cell::Cell::get) {
            None => agent.run(request),
            Some(at) => {
                let left = at.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(Error::new(ErrorKind::DeadlineExceeded, "the call's deadline passed before it completed"));
                }
                let request = agent.configure_request(request).timeout_global(Some(left.min(self.inner.total_timeout))).build();
                agent.run(request)
            }
        }
        .map_err(|e| self.map_err(e, &url, Phase::Reply))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string()))).collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(self.max_response_bytes as u64)
            .read_to_vec()
            .map_err(|e| self.map_err(e, &url, Phase::Body))?;
        Ok(HttpResponse { status, headers, body })
    }
}

fn sanitize(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(64).collect()
}

/// Resolve a `Location` value against the current URL (absolute, or absolute-path reference).
fn resolve(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    let authority = rest.split('/').next().unwrap_or("");
    if let Some(stripped) = loc.strip_prefix("//") {
        return format!("{scheme}://{stripped}");
    }
    if loc.starts_with('/') {
        format!("{scheme}://{authority}{loc}")
    } else {
        // Relative path references are not expected from an IdP; resolve against the root.
        format!("{scheme}://{authority}/{loc}")
    }
}

fn unix_now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A `Retry-After` value (RFC 9110 §10.2.3) as a wait from `now` (Unix seconds): delay-seconds
/// (`120`) or an IMF-fixdate HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`). Anything else
/// (garbage, negative or huge numbers, the obsolete date forms) is `None`: ignored. A date in
/// the past is a zero wait. The caller bounds the wait (see `cache::backoff`).
pub fn parse_retry_after(v: &str, now: i64) -> Option<std::time::Duration> {
    let v = v.trim();
    if !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<u64>().ok().map(std::time::Duration::from_secs);
    }
    let at = parse_http_date(v)?;
    Some(std::time::Duration::from_secs(at.saturating_sub(now).max(0) as u64))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds.
fn parse_http_date(v: &str) -> Option<i64> {
    let p: Vec<&str> = v.split(' ').collect();
    let [wd, day, mon, year, time, "GMT"] = p.as_slice() else { return None };
    if wd.len() != 4 || !wd.ends_with(',') || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let num = |s: &str| -> Option<i64> { s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse().ok()).flatten() };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let m = MONTHS.iter().position(|x| x == mon)? as i64 + 1;
    let (d, y) = (num(day)?, num(year)?);
    let t: Vec<&str> = time.split(':').collect();
    let [hh, mm, ss] = t.as_slice() else { return None };
    if hh.len() != 2 || mm.len() != 2 || ss.len() != 2 {
        return None;
    }
    let (hh, mm, ss) = (num(hh)?, num(mm)?, num(ss)?);
    if !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (H. Hinnant), proleptic Gregorian.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// `max-age=N` from a Cache-Control value; `no-store`/`no-cache` count as 0.
pub fn parse_max_age(v: &str) -> Option<u64> {
    let mut out = None;
    for d in v.split(',') {
        let d = d.trim().to_ascii_lowercase();
        if d == "no-store" || d == "no-cache" {
            return Some(0);
        }
        if let Some(n) = d.strip_prefix("max-age=") {
            out = n.trim_matches('"').parse::<u64>().ok().or(out);
        }
    }
    out
}

/// Where an exchange failed: before a reply's status line arrived, or while reading its body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Reply,
    Body,
}

fn map_ureq(e: ureq::Error, url: &str, phase: Phase, proxy: Option<&str>) -> Error {
    use ureq::Error as U;
    let u = redact(url);
    if let Some(p) = proxy {
        // Through a CONNECT proxy the only TCP connection is to the proxy (it resolves and
        // connects to the target): a connection failure before the reply is the proxy's.
        let unreachable = |why: &str| Error::new(ErrorKind::Proxy, format!("cannot reach the proxy {p} ({why}) for {u}"));
        match &e {
            U::ConnectProxyFailed(reason) => {
                // 407 is the standard answer; some proxies (tinyproxy 1.11) answer 401.
                let hint = if reason.contains(" 407") || reason.contains(" 401") {
                    ": proxy authentication required (give the credentials as http://user:password@host:port, or check them)"
                } else if reason.contains(" 403") {
                    ": the proxy denies this destination (check its allow rules for the host and port)"
                } else {
                    ""
                };
                return Error::new(ErrorKind::Proxy, format!("the proxy {p} refused to tunnel to {u}: {}{hint}", sanitize(reason)));
            }
            U::HostNotFound => return unreachable("its host name does not resolve"),
            U::ConnectionFailed => return unreachable("connection failed"),
            U::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                return Error::new(ErrorKind::Timeout, format!("timed out connecting through the proxy {p} to {u}"));
            }
            U::Io(io)
                if phase == Phase::Reply
                    && matches!(io.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable) =>
            {
                return unreachable(&format!("{}", io.kind()));
            }
            _ => {}
        }
    }
    let (kind, what) = match &e {
        U::Timeout(t) => (ErrorKind::Timeout, format!("timed out ({t}) talking to {u}")),
        U::HostNotFound => (ErrorKind::Network, format!("cannot resolve the host name of {u} (no address found): check the host name")),
        U::ConnectionFailed => (ErrorKind::Network, format!("connection failed to {u}")),
        U::BodyExceedsLimit(n) => (ErrorKind::ResponseTooLarge, format!("response from {u} exceeds the {n}-byte limit")),
        U::TooManyRedirects | U::RedirectFailed => (ErrorKind::RedirectRejected, format!("redirect refused from {u}")),
        U::Tls(m) => (ErrorKind::Tls, format!("TLS error with {u}: {m}")),
        U::Rustls(r) => (ErrorKind::Tls, format!("TLS error with {u}: {r}")),
        U::RequireHttpsOnly(_) => (ErrorKind::InsecureUrl, format!("refused non-https URL {u}")),
        U::Io(io) => {
            if let Some(r) = io.get_ref().and_then(|x| x.downcast_ref::<rustls::Error>()) {
                (ErrorKind::Tls, format!("TLS error with {u}: {r}"))
            } else {
                match io.kind() {
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                        (ErrorKind::Timeout, format!("timed out talking to {u}"))
                    }
                    // No reply at all is the network's (or the server's) failure, like a reset;
                    // a reply cut short after its headers is an invalid response.
                    std::io::ErrorKind::UnexpectedEof if phase == Phase::Reply => {
                        (ErrorKind::Network, format!("{u} closed the connection without a reply"))
                    }
                    std::io::ErrorKind::UnexpectedEof => (ErrorKind::ResponseInvalid, format!("truncated response from {u}")),
                    // The system resolver's failure (getaddrinfo) has no io::ErrorKind of its
                    // own ("uncategorized"); std words it this way.
                    _ if io.to_string().contains("failed to lookup address information") => (
                        ErrorKind::Network,
                        format!("cannot resolve the host name of {u} (DNS lookup failed): check the host name, or the resolver"),
                    ),
                    k => (ErrorKind::Network, format!("I/O error talking to {u}: {k}")),
                }
            }
        }
        U::Protocol(p) => (ErrorKind::ResponseInvalid, format!("HTTP protocol error from {u}: {p}")),
        _ => (ErrorKind::Network, format!("HTTP error talking to {u}: {}", sanitize(&e.to_string()))),
    };
    Error::new(kind, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unresolvable_host_says_so() {
        // `.invalid` never resolves (RFC 6761), online or not.
        let http = Http::new(&Config::new("https://idp.example")).unwrap();
        let e = http.get_json("https://no-such-host.invalid/.well-known/openid-configuration", None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network);
        assert!(e.message().starts_with("cannot resolve the host name of https://no-such-host.invalid/"), "{}", e.message());
        assert!(!e.message().contains("uncategorized"), "{}", e.message());
    }

    #[test]
    fn retry_after_parsing() {
        use std::time::Duration;
        let now = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO), "past: no wait");
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", 0), Some(Duration::ZERO));
        assert_eq!(parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"), Some(1_835_481_599));
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "99999999999999999999",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn roots_are_read_once_and_deduplicated() {
        let (Some(system_path), system) = &*SYSTEM_ROOTS else { return };
        let base = trust_roots(None).unwrap();
        // The system bundle named again (as SSL_CERT_FILE often does) adds nothing.
        assert_eq!(trust_roots(Some(system_path)).unwrap().len(), base.len());
        // A certificate already trusted, listed twice in another file, is kept once.
        let pem = |c: &Certificate| {
            use base64::Engine;
            let b = base64::engine::general_purpose::STANDARD.encode(c.der());
            format!("-----BEGIN CERTIFICATE-----\n{b}\n-----END CERTIFICATE-----\n")
        };
        let dir = std::env::temp_dir().join(format!("oidc-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("dup.pem");
        std::fs::write(&f, pem(&system[0]) + &pem(&system[0])).unwrap();
        let r = trust_roots(Some(&f)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(r.len(), base.len());
        assert!(r.iter().any(|c| c.der() == system[0].der()));
    }

    #[test]
    fn max_age_parsing() {
        assert_eq!(parse_max_age("public, max-age=300"), Some(300));
        assert_eq!(parse_max_age("no-store"), Some(0));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }

    #[test]
    fn request_debug_has_no_values() {
        let r = HttpRequest {
            method: "POST",
            url: "https://h/p?token=q-secret".into(),
            headers: vec![("Authorization", "Bearer h-secret".into())],
            form: Some(vec![("client_secret".into(), "f-secret".into())]),
            body: None,
        };
        let d = format!("{r:?}");
        assert!(!d.contains("q-secret") && !d.contains("h-secret") && !d.contains("f-secret"), "{d}");
        assert!(d.contains("Authorization") && d.contains("client_secret"));
    }

    #[test]
    fn request_debug_hides_secrets() {
        let r = HttpRequest {
            method: "POST",
            url: "https://idp.example/token?code=c0de".into(),
            headers: vec![("Authorization", "Basic c2VjcmV0".into()), ("DPoP", "ey.proof.sig".into())],
            form: Some(vec![("client_secret".into(), "hunter2".into()), ("code".into(), "c0de".into())]),
            body: None,
        };
        let d = format!("{r:?}");
        for s in ["c2VjcmV0", "ey.proof", "hunter2", "c0de"] {
            assert!(!d.contains(s), "{d}");
        }
        assert!(d.contains("client_secret") && d.contains("Authorization") && d.contains("idp.example/token"));
    }

    #[test]
    fn encodings() {
        assert_eq!(form_encode("a b+c/d:é"), "a+b%2Bc%2Fd%3A%C3%A9");
        assert_eq!(url_encode("a b~"), "a%20b~");
    }

    #[test]
    fn resolve_locations() {
        assert_eq!(resolve("https://a:1/x/y", "/z"), "https://a:1/z");
        assert_eq!(resolve("https://a:1/x", "http://b/z"), "http://b/z");
        assert_eq!(resolve("https://a/x", "//b/z"), "https://b/z");
    }
}
