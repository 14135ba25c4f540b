//! `oidc`: look at a token, validate it, see what discovery and the key set hold, get tokens,
//! decide about a request, export and import warm-start snapshots. Every decision is the
//! library's (`oidc::core`): this binary only parses arguments and prints.
//!
//! Exit codes (also in `oidc --help`):
//!   0  success (token valid, request allowed, document accepted, token obtained)
//!   1  the token or request is rejected (any token, DPoP or request error; a 401/403 decision;
//!      a token `decode` cannot read)
//!   2  usage error (bad arguments; from clap)
//!   3  configuration error (bad issuer URL, http without --allow-http-loopback, CA file, algorithm)
//!   4  the identity provider or the network failed (DNS, TLS, HTTP status, invalid discovery/JWKS,
//!      keys unavailable)
//!   5  the identity provider answered with an OAuth error (invalid_client, invalid_grant, ...)
//!   6  a deadline passed or the call was cancelled (e.g. a device flow nobody approved)

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use oidc::core::authn::RequestInput;
use oidc::core::config::{Config, DpopMode, KeySource};
use oidc::core::error::{Error, ErrorKind};
use oidc::core::http::Http;
use oidc::core::json::{RawObject, b64url_decode, quoted};
use oidc::core::jwks::KeySet;
use oidc::core::oauth::client::{ClientAuth, OAuthClient, OAuthConfig};
use oidc::core::oauth::request::{Field, OAuthRequest, OAuthResponse, Operation, Param};
use oidc::core::oauth::secret::Secret;
use oidc::core::url::redact;
use oidc::core::{Client, snapshot};
use serde_json::{Value, json};

const EXIT_HELP: &str = "Exit codes: 0 success; 1 token/request rejected; 2 usage error; 3 configuration error; \
4 identity provider or network failure; 5 OAuth error from the identity provider; 6 deadline passed or cancelled.";

#[derive(Parser)]
#[command(name = "oidc", version, about = "OAuth 2.0 / OpenID Connect tokens from the command line, decided by liboidc", after_help = EXIT_HELP)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct Common {
    /// Machine-readable output: one JSON object on stdout (errors too).
    #[arg(long, global = true)]
    json: bool,
    /// PEM file of the CA certificates to trust (instead of the system roots).
    #[arg(long, global = true, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Allow http:// URLs to loopback hosts. FOR TESTS ONLY: tokens and secrets travel in clear.
    #[arg(long, global = true)]
    allow_http_loopback: bool,
    /// Total timeout of one HTTP exchange, in seconds.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 10)]
    timeout: u64,
}

#[derive(Subcommand)]
enum Cmd {
    /// Show a token's header and claims WITHOUT verifying anything.
    Decode {
        /// The token (`-` or absent: read from stdin).
        token: Option<String>,
    },
    /// Validate a token: signature, issuer, audience, times, typ, required claims and scopes.
    Validate(ValidateArgs),
    /// Fetch and check an issuer's discovery document.
    Discover {
        /// The issuer URL (exactly as the identity provider writes it).
        #[arg(long)]
        issuer: String,
    },
    /// Fetch (or read) a JWKS and show which keys liboidc would use, and why it refuses the others.
    Jwks {
        /// Discover the JWKS URL of this issuer.
        #[arg(long, conflicts_with_all = ["jwks_uri", "file"])]
        issuer: Option<String>,
        /// Fetch this JWKS URL.
        #[arg(long, conflicts_with = "file")]
        jwks_uri: Option<String>,
        /// Read a JWKS document from this file.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Get a token: client credentials, device flow, refresh.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Decide about an HTTP request (its method, URL, Authorization and DPoP headers).
    Authenticate(AuthenticateArgs),
    /// Warm-start snapshots of discovery metadata and key sets.
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
}

#[derive(Args, Clone)]
struct ValidatorArgs {
    /// The expected issuer (the token's `iss`, exactly).
    #[arg(long, required_unless_present = "policy")]
    issuer: Option<String>,
    /// A policy document (JSON, "version": 1; the same one every binding loads) instead of the
    /// flags below: issuers, templates, audiences, algorithms, leeway, claims, scopes, DPoP, CA.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["issuer", "jwks_uri", "jwks_file", "audiences", "any_audience",
        "algorithms", "leeway", "typ", "required_claims", "required_scopes"])]
    policy: Option<PathBuf>,
    /// Keys from this JWKS URL instead of discovery.
    #[arg(long, conflicts_with = "jwks_file")]
    jwks_uri: Option<String>,
    /// Keys from this JWKS file (offline).
    #[arg(long)]
    jwks_file: Option<PathBuf>,
    /// An accepted audience (repeat for several).
    #[arg(long = "audience", value_name = "AUD")]
    audiences: Vec<String>,
    /// Accept any audience (not recommended: a token for another service would pass).
    #[arg(long)]
    any_audience: bool,
    /// Allowed algorithms (repeat or comma-separate; default: every asymmetric one).
    #[arg(long = "alg", value_name = "ALG", value_delimiter = ',')]
    algorithms: Vec<String>,
    /// Clock-skew leeway in seconds for exp, nbf, iat (default 60).
    #[arg(long, value_name = "SECS")]
    leeway: Option<u64>,
    /// The expected `typ` header (e.g. at+jwt).
    #[arg(long)]
    typ: Option<String>,
    /// A claim that must be present (repeat).
    #[arg(long = "require-claim", value_name = "CLAIM")]
    required_claims: Vec<String>,
    /// A scope that must be granted (repeat).
    #[arg(long = "require-scope", value_name = "SCOPE")]
    required_scopes: Vec<String>,
    /// Import this warm-start snapshot first (keys and metadata then need no network).
    #[arg(long, value_name = "FILE")]
    snapshot: Option<PathBuf>,
}

#[derive(Args)]
struct ValidateArgs {
    #[command(flatten)]
    v: ValidatorArgs,
    /// Validate as of this time (Unix seconds) instead of now.
    #[arg(long, value_name = "UNIX_SECS")]
    at: Option<f64>,
    /// Show the library's explanation: every check with its outcome (issuer chosen and why, key,
    /// signature, each claim rule), not only the first failure. No secret in it.
    #[arg(long)]
    explain: bool,
    /// The token (`-` or absent: read from stdin).
    token: Option<String>,
}

#[derive(Args)]
struct AuthenticateArgs {
    #[command(flatten)]
    v: ValidatorArgs,
    /// The request method.
    #[arg(short = 'X', long, default_value = "GET")]
    method: String,
    /// The absolute URL the client addressed.
    #[arg(long)]
    url: String,
    /// A request header `Name: value` (repeat); Authorization and DPoP are used.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// DPoP: allowed (default), required or disabled.
    #[arg(long, default_value = "allowed", value_parser = ["allowed", "required", "disabled"])]
    dpop: String,
    /// Decide as of this time (Unix seconds) instead of now.
    #[arg(long, value_name = "UNIX_SECS")]
    at: Option<f64>,
    /// Show the library's explanation of the decision: credentials, DPoP proof, the token's own
    /// checks, binding, scopes and claim rules, each with its outcome. No secret in it.
    #[arg(long)]
    explain: bool,
}

#[derive(Args, Clone)]
struct ClientArgs {
    /// The issuer URL.
    #[arg(long)]
    issuer: String,
    /// The client id.
    #[arg(long)]
    client_id: String,
    /// The client secret (prefer --client-secret-file or OIDC_CLIENT_SECRET: a command line is visible to other users).
    #[arg(long, env = "OIDC_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// A file holding the client secret.
    #[arg(long, value_name = "FILE", conflicts_with = "client_secret")]
    client_secret_file: Option<PathBuf>,
    /// Client authentication: client_secret_basic, client_secret_post, none, auto (default: basic with a secret, none without).
    #[arg(long)]
    auth_method: Option<String>,
    /// Scopes (space-separated).
    #[arg(long)]
    scope: Option<String>,
    /// A resource indicator (RFC 8707; repeat).
    #[arg(long = "resource")]
    resources: Vec<String>,
}

#[derive(Subcommand)]
enum TokenCmd {
    /// The client credentials grant.
    ClientCredentials {
        #[command(flatten)]
        c: ClientArgs,
    },
    /// The device authorization grant: prints the user code, then polls until approved.
    Device {
        #[command(flatten)]
        c: ClientArgs,
        /// Give up polling after this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        poll_timeout: u64,
    },
    /// The refresh token grant.
    Refresh {
        #[command(flatten)]
        c: ClientArgs,
        /// The refresh token (prefer --refresh-token-file or OIDC_REFRESH_TOKEN).
        #[arg(long, env = "OIDC_REFRESH_TOKEN", hide_env_values = true)]
        refresh_token: Option<String>,
        /// A file holding the refresh token.
        #[arg(long, value_name = "FILE", conflicts_with = "refresh_token")]
        refresh_token_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SnapshotCmd {
    /// Fetch an issuer's metadata and keys and write them as a snapshot.
    Export {
        /// The issuer URL.
        #[arg(long)]
        issuer: String,
        /// Keys from this JWKS URL instead of discovery.
        #[arg(long)]
        jwks_uri: Option<String>,
        /// Write here instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check a snapshot file as an import would (every key set parsed, expiry) and report it.
    Import {
        /// The snapshot file.
        file: PathBuf,
    },
}

/// A failure of the command: the library's error, or one of ours (a file, an argument).
struct Failure {
    kind: Option<ErrorKind>,
    message: String,
    /// Extra members for --json (the OAuth error fields, a trace).
    extra: Value,
    code: u8,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let mut extra = json!({});
        if let Some(o) = e.oauth() {
            extra = json!({"oauth_error": o.error, "oauth_error_description": o.error_description, "http_status": o.status});
        }
        Failure { kind: Some(e.kind()), message: e.message().to_string(), extra, code: exit_code(e.kind()) }
    }
}

/// A token that cannot even be decoded (exit 1, like any rejected token).
fn malformed(message: impl Into<String>) -> Failure {
    Failure::from(Error::new(ErrorKind::TokenMalformed, message))
}

fn usage(message: impl Into<String>) -> Failure {
    Failure { kind: None, message: message.into(), extra: json!({}), code: 3 }
}

fn exit_code(k: ErrorKind) -> u8 {
    use ErrorKind::*;
    if k.is_token_error() || k.is_dpop_proof_error() {
        return 1;
    }
    match k {
        KeyRejected | RequestMalformed | TokenMissing | DpopNonceRequired | ClaimNotAllowed | InsufficientScope => 1,
        InvalidArgument | InvalidConfig | InsecureUrl | CaFile | UnsupportedAlgorithm => 3,
        DiscoveryInvalid
        | DiscoveryIssuerMismatch
        | JwksInvalid
        | Network
        | Timeout
        | Tls
        | HttpStatus
        | ResponseTooLarge
        | ResponseInvalid
        | RedirectRejected
        | KeysUnavailable
        | ReplayStoreUnavailable
        | ResponseMissingField => 4,
        DeadlineExceeded | Cancelled | QueueFull => 6,
        // The OAuth error kinds (RFC 6749 §5.2 and extensions) and the protocol checks.
        _ => 5,
    }
}

type Out = Result<(Value, Vec<String>), Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let c = cli.common.clone();
    let r = match cli.cmd {
        Cmd::Decode { token } => read_token(token).and_then(|t| decode(&t)),
        Cmd::Validate(a) => validate(&c, a),
        Cmd::Discover { issuer } => discover(&c, &issuer),
        Cmd::Jwks { issuer, jwks_uri, file } => jwks(&c, issuer, jwks_uri, file),
        Cmd::Token(t) => token(&c, t),
        Cmd::Authenticate(a) => authenticate(&c, a),
        Cmd::Snapshot(s) => snapshot_cmd(&c, s),
    };
    match r {
        Ok((v, lines)) => {
            if c.json {
                println!("{v}");
            } else {
                for l in lines {
                    println!("{l}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(f) => {
            let kind = f.kind.map(|k| format!("{k:?}"));
            if c.json {
                let mut v = json!({"ok": false, "error": {"kind": kind, "message": f.message, "exit_code": f.code}});
                if let (Some(o), Value::Object(extra)) = (v["error"].as_object_mut(), f.extra) {
                    o.extend(extra);
                }
                println!("{v}");
            } else {
                if let Some(trace) = f.extra.get("trace").and_then(Value::as_array) {
                    for t in trace {
                        println!("  {}", t.as_str().unwrap_or_default());
                    }
                }
                match kind {
                    Some(k) => eprintln!("oidc: {k}: {}", f.message),
                    None => eprintln!("oidc: {}", f.message),
                }
                if let Some(o) = f.extra.get("oauth_error").and_then(Value::as_str) {
                    let d = f.extra.get("oauth_error_description").and_then(Value::as_str).unwrap_or("");
                    eprintln!("oidc: the identity provider answered {o}: {}", quoted(d));
                }
            }
            ExitCode::from(f.code)
        }
    }
}

/// The token from the argument or stdin, trimmed.
fn read_token(t: Option<String>) -> Result<String, Failure> {
    let t = match t.as_deref() {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .take(2 * 1024 * 1024)
                .read_to_string(&mut s)
                .map_err(|e| usage(format!("cannot read the token from stdin: {e}")))?;
            s
        }
        Some(t) => t.to_string(),
    };
    Ok(t.trim().to_string())
}

fn read_secret_file(p: &PathBuf, what: &str) -> Result<String, Failure> {
    std::fs::read_to_string(p)
        .map(|s| s.trim().to_string())
        .map_err(|e| usage(format!("cannot read the {what} file {}: {}", p.display(), e.kind())))
}

fn decode_json_segment(seg: &str, what: &str) -> Result<Value, Failure> {
    let bytes = b64url_decode(seg.as_bytes()).map_err(|_| malformed(format!("the token's {what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|_| malformed(format!("the token's {what} is not JSON")))
}

fn decode(token: &str) -> Out {
    let mut lines = Vec::new();
    let mut t = token;
    for scheme in ["Bearer ", "DPoP "] {
        if t.len() > scheme.len() && t[..scheme.len()].eq_ignore_ascii_case(scheme) {
            lines.push(format!("note: removed the '{}' prefix: validate and libraries take the token alone", scheme.trim()));
            t = t[scheme.len()..].trim_start();
        }
    }
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() == 5 {
        return Err(malformed("this is a JWE (five segments): an encrypted token cannot be decoded without its key"));
    }
    if parts.len() != 3 {
        return Err(malformed(format!("a JWS has three segments separated by '.'; this token has {}", parts.len())));
    }
    let header = decode_json_segment(parts[0], "header")?;
    let claims = decode_json_segment(parts[1], "payload")?;
    let sig_len = b64url_decode(parts[2].as_bytes()).map(|s| s.len()).unwrap_or(0);
    lines.push("UNVERIFIED: nothing below is checked (no signature, issuer, audience or time check). Use `oidc validate`.".into());
    lines.push(format!("header: {}", serde_json::to_string_pretty(&header).unwrap_or_default()));
    lines.push(format!("claims: {}", serde_json::to_string_pretty(&claims).unwrap_or_default()));
    for (name, v) in [("iat", &claims["iat"]), ("nbf", &claims["nbf"]), ("exp", &claims["exp"])] {
        if let Some(n) = v.as_f64() {
            lines.push(format!("{name}: {} ({})", n as i64, relative(n - now())));
        }
    }
    lines.push(format!("signature: {sig_len} bytes (not shown)"));
    Ok((json!({"ok": true, "verified": false, "header": header, "claims": claims, "signature_bytes": sig_len}), lines))
}

fn now() -> f64 {
    oidc::core::client::unix_now()
}

fn relative(d: f64) -> String {
    let s = d.abs() as i64;
    let h = format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60);
    if d >= 0.0 { format!("in {h}") } else { format!("{h} ago") }
}

fn base_config(c: &Common, issuer: &str) -> Config {
    let mut cfg = Config::new(issuer);
    cfg.ca_file = c.ca_file.clone();
    cfg.allow_http_loopback = c.allow_http_loopback;
    let t = Duration::from_secs(c.timeout.clamp(1, 600));
    cfg.total_timeout = t;
    cfg.connect_timeout = t.min(cfg.connect_timeout);
    cfg
}

/// The validator of `a`, and the trace lines describing its configuration.
fn validator(c: &Common, a: &ValidatorArgs) -> Result<(Client, Vec<String>), Failure> {
    if let Some(p) = &a.policy {
        return policy_validator(c, a, p);
    }
    let issuer = a.issuer.as_deref().unwrap_or_default();
    let mut cfg = base_config(c, issuer);
    let mut trace = vec![format!("issuer: {}", quoted(issuer))];
    cfg.key_source = match (&a.jwks_uri, &a.jwks_file) {
        (Some(u), _) => {
            trace.push(format!("keys: JWKS URL {} (no discovery)", redact(u)));
            KeySource::JwksUri(u.clone())
        }
        (None, Some(f)) => {
            trace.push(format!("keys: JWKS file {} (offline)", f.display()));
            let doc = std::fs::read_to_string(f).map_err(|e| usage(format!("cannot read the JWKS file {}: {}", f.display(), e.kind())))?;
            KeySource::Static(doc)
        }
        (None, None) => {
            trace.push("keys: from the issuer's discovery document (jwks_uri)".into());
            KeySource::Discovery
        }
    };
    cfg.audiences = a.audiences.clone();
    cfg.allow_any_audience = a.any_audience;
    if !a.algorithms.is_empty() {
        cfg.set_algorithms(a.algorithms.iter().map(String::as_str))?;
    }
    let leeway = a.leeway.unwrap_or(60);
    cfg.leeway = Duration::from_secs(leeway);
    cfg.expected_typ = a.typ.clone();
    cfg.required_claims = a.required_claims.clone();
    for s in &a.required_scopes {
        cfg.add_required_scope(s)?;
    }
    let algs: Vec<&str> = cfg.algorithms.iter().map(|x| x.name()).collect();
    trace.push(format!(
        "policy: audiences [{}]{}, algorithms {}, leeway {}s{}",
        a.audiences.iter().map(|x| quoted(x)).collect::<Vec<_>>().join(", "),
        if a.any_audience { " (any audience allowed)" } else { "" },
        algs.join(","),
        leeway,
        a.typ.as_deref().map(|t| format!(", typ {}", quoted(t))).unwrap_or_default()
    ));
    finish_validator(cfg, a, trace)
}

/// A validator configured by a policy document (the library parses it; errors name the JSON
/// path). The CLI's --ca-file, --timeout and --allow-http-loopback apply unless the document
/// sets them.
fn policy_validator(c: &Common, a: &ValidatorArgs, p: &std::path::Path) -> Result<(Client, Vec<String>), Failure> {
    let doc = std::fs::read_to_string(p).map_err(|e| usage(format!("cannot read the policy document {}: {}", p.display(), e.kind())))?;
    let mut cfg = base_config(c, "");
    oidc::core::policy::parse_into(&doc, &mut cfg)?;
    let mut trace = vec![format!("policy: document {}", p.display())];
    let issuers: Vec<String> =
        if cfg.issuers.is_empty() { vec![quoted(&cfg.issuer)] } else { cfg.issuers.iter().map(|i| quoted(&i.issuer)).collect() };
    trace.push(format!("issuers: {}", issuers.join(", ")));
    finish_validator(cfg, a, trace)
}

fn finish_validator(mut cfg: Config, a: &ValidatorArgs, mut trace: Vec<String>) -> Result<(Client, Vec<String>), Failure> {
    cfg.token_cache_size = 0;
    let client = Client::new(cfg)?;
    if let Some(p) = &a.snapshot {
        let doc = std::fs::read_to_string(p).map_err(|e| usage(format!("cannot read the snapshot {}: {}", p.display(), e.kind())))?;
        let n = snapshot::import_for(&doc, Some(&client))?;
        trace.push(format!("snapshot: {} imported, {} skipped (expired or older)", n.imported, n.skipped));
    }
    Ok((client, trace))
}

/// What the validator used: the discovered JWKS URL and the key that signed the token.
fn key_trace(client: &Client, token: &str, trace: &mut Vec<String>) {
    if let Some(m) = client.metadata() {
        trace.push(format!("discovery: issuer {}, jwks_uri {}", quoted(&m.issuer), redact(&m.jwks_uri)));
    }
    let mut parts = token.split('.');
    if let Some(Ok(h)) = parts.next().map(|h| b64url_decode(h.as_bytes())) {
        if let Ok(h) = serde_json::from_slice::<Value>(&h) {
            let s = |n: &str| h.get(n).and_then(Value::as_str).map(quoted).unwrap_or_else(|| "(none)".into());
            trace.push(format!("token header: alg {}, kid {}, typ {}", s("alg"), s("kid"), s("typ")));
        }
    }
    if let Some(e) = client.cache_entry() {
        trace.push(format!("key set: {}", redact(e.url())));
    }
}

fn validate(c: &Common, a: ValidateArgs) -> Out {
    let token = read_token(a.token)?;
    let (client, mut trace) = validator(c, &a.v)?;
    let at = a.at.unwrap_or_else(now);
    if a.at.is_some() {
        trace.push(format!("time: validating as of {} ({} from now)", at as i64, relative(at - now())));
    }
    let r = client.validate_at(&token, at);
    key_trace(&client, &token, &mut trace);
    // --explain: the library's own check-by-check account, beside the decision (which it
    // never changes).
    let explained = a.explain.then(|| explanation(&client.explain_at(&token, at), &mut trace));
    let v = match r {
        Ok(v) => v,
        Err(e) => {
            trace.push(format!("result: REJECTED ({:?})", e.kind()));
            let mut f = Failure::from(e);
            f.extra["trace"] = json!(trace);
            if let Some(x) = explained {
                f.extra["explain"] = x;
            }
            return Err(f);
        }
    };
    let claims: Value = serde_json::from_str(&v.claims).unwrap_or(Value::Null);
    if !a.v.required_scopes.is_empty() {
        let obj = RawObject::parse(&v.claims).map_err(|m| usage(m.to_string()))?;
        let missing = oidc::core::authn::scope::missing_scopes(&obj, &a.v.required_scopes)?;
        if !missing.is_empty() {
            trace.push("result: REJECTED (InsufficientScope)".into());
            let mut f = Failure::from(Error::new(
                ErrorKind::InsufficientScope,
                format!("the token lacks the required scope(s) {}", missing.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", ")),
            ));
            f.extra["trace"] = json!(trace);
            return Err(f);
        }
        trace.push(format!("scopes: {} granted", a.v.required_scopes.join(" ")));
    }
    trace.push(format!("signature: verified with {}", v.alg.name()));
    trace.push(format!("times: exp {} ({})", v.exp as i64, relative(v.exp - at)));
    trace.push("result: VALID".into());
    let mut lines: Vec<String> = trace.iter().map(|t| format!("  {t}")).collect();
    lines.insert(0, "VALID".into());
    lines.push(format!("claims: {}", serde_json::to_string_pretty(&claims).unwrap_or_default()));
    let mut out = json!({"ok": true, "valid": true, "alg": v.alg.name(), "exp": v.exp, "claims": claims, "trace": trace});
    if let Some(x) = explained {
        out["explain"] = x;
    }
    Ok((out, lines))
}

/// The library's explanation (JSON) as a value for --json, and one trace line per check.
fn explanation(doc: &str, trace: &mut Vec<String>) -> Value {
    let v: Value = serde_json::from_str(doc).unwrap_or(Value::Null);
    if let Some(checks) = v.get("checks").and_then(Value::as_array) {
        for ch in checks {
            let name = ch.get("check").and_then(Value::as_str).unwrap_or("?");
            let outcome = ch.get("outcome").and_then(Value::as_str).unwrap_or("?");
            let msg = ch.get("message").and_then(Value::as_str).map(|m| format!(": {m}")).unwrap_or_default();
            trace.push(format!("explain: {name}: {outcome}{msg}"));
        }
    }
    v
}

fn http_for(c: &Common, issuer: &str) -> Result<Http, Failure> {
    let cfg = base_config(c, issuer);
    cfg.check().or_else(|e| if e.kind() == ErrorKind::InvalidConfig { Ok(()) } else { Err(e) }).map_err(Failure::from)?;
    Ok(Http::new(&cfg)?)
}

fn discover(c: &Common, issuer: &str) -> Out {
    let http = http_for(c, issuer)?;
    let m = oidc::core::discovery::discover(&http, issuer, c.allow_http_loopback)?;
    let mut lines = vec![
        format!("issuer:   {}", m.issuer),
        format!("jwks_uri: {}", m.jwks_uri),
        "accepted: the document names this issuer and every endpoint passes the URL policy".into(),
    ];
    let mut endpoints: Vec<(&String, &str)> =
        m.raw.iter().filter(|(k, _)| k.ends_with("_endpoint")).filter_map(|(k, v)| v.as_str().map(|s| (k, s))).collect();
    endpoints.sort();
    for (k, v) in &endpoints {
        lines.push(format!("  {k}: {v}"));
    }
    for list in ["id_token_signing_alg_values_supported", "token_endpoint_auth_methods_supported", "grant_types_supported"] {
        if let Some(a) = m.raw.get(list).and_then(Value::as_array) {
            let names: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
            lines.push(format!("  {list}: {}", names.join(" ")));
        }
    }
    Ok((json!({"ok": true, "issuer": m.issuer, "jwks_uri": m.jwks_uri, "document": Value::Object(m.raw.clone())}), lines))
}

fn jwks(c: &Common, issuer: Option<String>, jwks_uri: Option<String>, file: Option<PathBuf>) -> Out {
    let (doc, source) = match (issuer, jwks_uri, file) {
        (_, _, Some(f)) => {
            (std::fs::read(&f).map_err(|e| usage(format!("cannot read {}: {}", f.display(), e.kind())))?, f.display().to_string())
        }
        (_, Some(u), None) => {
            let http = http_for(c, &u)?;
            (http.get_json(&u, None)?.body.to_vec(), redact(&u))
        }
        (Some(i), None, None) => {
            let http = http_for(c, &i)?;
            let m = oidc::core::discovery::discover(&http, &i, c.allow_http_loopback)?;
            (http.get_json(&m.jwks_uri, None)?.body.to_vec(), redact(&m.jwks_uri))
        }
        (None, None, None) => return Err(usage("say where the keys are: --issuer URL, --jwks-uri URL or --file FILE")),
    };
    let set = KeySet::parse(&doc)?;
    let mut lines = vec![format!(
        "JWKS from {source}: {} usable, {} refused, {} not for signatures",
        set.keys.len(),
        set.rejected.len(),
        set.skipped.len()
    )];
    let kid = |k: &Option<String>| k.as_deref().map(quoted).unwrap_or_else(|| "(no kid)".into());
    let mut keys = Vec::new();
    for k in &set.keys {
        let algs: Vec<&str> = oidc::core::Algorithm::ALL.iter().filter(|a| k.accepts(**a)).map(|a| a.name()).collect();
        lines.push(format!("  usable  {} {:?} algs {}", kid(&k.kid), k.family, algs.join(",")));
        keys.push(json!({"kid": k.kid, "family": format!("{:?}", k.family), "algorithms": algs}));
    }
    let mut refused = Vec::new();
    for r in &set.rejected {
        lines.push(format!("  refused {}: {}", kid(&r.kid), r.reason));
        refused.push(json!({"kid": r.kid, "reason": r.reason}));
    }
    let mut skipped = Vec::new();
    for r in &set.skipped {
        lines.push(format!("  skipped {}: {}", kid(&r.kid), r.reason));
        skipped.push(json!({"kid": r.kid, "reason": r.reason}));
    }
    if set.keys.is_empty() {
        lines.push("warning: no usable key: every token of this issuer would be refused (UnknownKey)".into());
    }
    Ok((json!({"ok": true, "source": source, "keys": keys, "refused": refused, "skipped": skipped}), lines))
}

fn oauth_client(c: &Common, a: &ClientArgs) -> Result<OAuthClient, Failure> {
    let secret = match (&a.client_secret, &a.client_secret_file) {
        (Some(s), _) => Some(Secret::new(s.clone())),
        (None, Some(f)) => Some(Secret::new(read_secret_file(f, "client secret")?)),
        _ => None,
    };
    let auth = ClientAuth::from_parts(a.auth_method.as_deref(), secret)?;
    let mut cfg = OAuthConfig::new(a.issuer.clone(), a.client_id.clone(), auth);
    cfg.base = base_config(c, &a.issuer);
    Ok(OAuthClient::new(cfg)?)
}

fn request(client: &OAuthClient, op: Operation, a: &ClientArgs) -> Result<OAuthRequest, Failure> {
    let mut r = OAuthRequest::new(client, op)?;
    for s in a.scope.iter().flat_map(|s| s.split_whitespace()) {
        r.add_string(Param::Scope, s)?;
    }
    for res in &a.resources {
        r.add_string(Param::Resource, res)?;
    }
    Ok(r)
}

fn token_output(r: &OAuthResponse) -> (Value, Vec<String>) {
    let s = |f| r.string(f).map(str::to_string);
    let at = s(Field::AccessToken).unwrap_or_default();
    let mut lines = vec![at.clone()];
    let mut info = Vec::new();
    if let Some(t) = s(Field::TokenType) {
        info.push(format!("token_type {t}"));
    }
    if let Some(e) = r.int(Field::ExpiresIn) {
        info.push(format!("expires_in {e}s"));
    }
    if let Some(sc) = s(Field::Scope) {
        info.push(format!("scope {}", quoted(&sc)));
    }
    if r.string(Field::RefreshToken).is_some() {
        info.push("a refresh token was issued (see --json)".into());
    }
    eprintln!("oidc: {}", info.join(", "));
    lines.truncate(1);
    let v = json!({
        "ok": true,
        "access_token": at,
        "token_type": s(Field::TokenType),
        "expires_in": r.int(Field::ExpiresIn),
        "scope": s(Field::Scope),
        "refresh_token": s(Field::RefreshToken),
        "id_token": s(Field::IdToken),
    });
    (v, lines)
}

fn token(c: &Common, t: TokenCmd) -> Out {
    match t {
        TokenCmd::ClientCredentials { c: a } => {
            let client = oauth_client(c, &a)?;
            let r = client.send(&request(&client, Operation::ClientCredentials, &a)?, None)?;
            Ok(token_output(&r))
        }
        TokenCmd::Refresh { c: a, refresh_token, refresh_token_file } => {
            let rt = match (refresh_token, refresh_token_file) {
                (Some(t), _) => t,
                (None, Some(f)) => read_secret_file(&f, "refresh token")?,
                (None, None) => return Err(usage("give the refresh token: --refresh-token-file FILE or OIDC_REFRESH_TOKEN")),
            };
            let client = oauth_client(c, &a)?;
            let mut req = request(&client, Operation::Refresh, &a)?;
            req.set_string(Param::RefreshToken, &rt)?;
            let r = client.send(&req, None)?;
            Ok(token_output(&r))
        }
        TokenCmd::Device { c: a, poll_timeout } => {
            let client = oauth_client(c, &a)?;
            let started = client.send(&request(&client, Operation::DeviceAuthorization, &a)?, None)?;
            let code = started.string(Field::UserCode).unwrap_or_default();
            let uri = started.string(Field::VerificationUri).unwrap_or_default();
            // The user code goes to stderr so that stdout stays the token (or the JSON) only.
            eprintln!("To sign in, open {uri} and enter the code: {code}");
            if let Some(full) = started.string(Field::VerificationUriComplete) {
                eprintln!("(or open {full})");
            }
            eprintln!("Waiting for approval (at most {poll_timeout}s)...");
            let mut poll = OAuthRequest::new(&client, Operation::DevicePoll)?;
            poll.set_pending(&started)?;
            poll.set_int(Param::DeadlineMs, (poll_timeout.clamp(1, 3600) * 1000) as i64)?;
            let r = client.send(&poll, None).map_err(|e| {
                let mut f = Failure::from(e);
                f.extra["user_code"] = json!(code);
                f
            })?;
            let (mut v, lines) = token_output(&r);
            v["user_code"] = json!(code);
            Ok((v, lines))
        }
    }
}

fn authenticate(c: &Common, a: AuthenticateArgs) -> Out {
    let mode = match a.dpop.as_str() {
        "required" => DpopMode::Required,
        "disabled" => DpopMode::Disabled,
        _ => DpopMode::Allowed,
    };
    // The DPoP mode is part of the resource policy: rebuild the validator with it.
    let (client, mut trace) = {
        let (cl, tr) = validator(c, &a.v)?;
        let mut cfg = cl.config().clone();
        cfg.resource.dpop.mode = mode;
        (Client::new(cfg)?, tr)
    };
    let mut req = RequestInput { method: a.method.clone(), url: a.url.clone(), now: a.at, ..Default::default() };
    for h in &a.headers {
        let Some((name, value)) = h.split_once(':') else {
            return Err(usage(format!("a header is 'Name: value'; got {}", quoted(h.split(' ').next().unwrap_or("")))));
        };
        let value = value.trim_start().as_bytes().to_vec();
        match name.trim().to_ascii_lowercase().as_str() {
            "authorization" => req.authorization.push(value),
            "dpop" => req.dpop.push(value),
            _ => {}
        }
    }
    trace.push(format!(
        "request: {} {} ({} Authorization, {} DPoP header(s))",
        a.method,
        redact(&a.url),
        req.authorization.len(),
        req.dpop.len()
    ));
    // The explanation first: it has no side effect (a proof's jti is not recorded), so the
    // decision below is the same as without --explain.
    let explained = if a.explain { Some(explanation(&client.explain_request(&req)?, &mut trace)) } else { None };
    let d = client.authenticate(&req)?;
    if let Some(m) = client.metadata() {
        trace.push(format!("discovery: jwks_uri {}", redact(&m.jwks_uri)));
    }
    let mut out = json!({
        "ok": d.allowed(),
        "allowed": d.allowed(),
        "status": d.status,
        "www_authenticate": d.challenges,
        "dpop_nonce": d.dpop_nonce,
        "trace": trace,
    });
    if let Some(x) = &explained {
        out["explain"] = x.clone();
    }
    match &d.outcome {
        Ok(p) => {
            let claims: Value = serde_json::from_str(&p.claims).unwrap_or(Value::Null);
            out["token_type"] = json!(p.token_type.name());
            out["claims"] = claims.clone();
            let mut lines = vec![format!("ALLOWED ({} token)", p.token_type.name())];
            lines.extend(trace.iter().map(|t| format!("  {t}")));
            lines.push(format!("claims: {}", serde_json::to_string_pretty(&claims).unwrap_or_default()));
            Ok((out, lines))
        }
        Err(e) => {
            let mut f = Failure::from(e.clone());
            f.message = format!("{} (HTTP {}, {})", e.message(), d.status, d.error_code().unwrap_or("no error code"));
            f.extra["status"] = json!(d.status);
            f.extra["www_authenticate"] = json!(d.challenges);
            let mut tr = trace.clone();
            for ch in &d.challenges {
                tr.push(format!("WWW-Authenticate: {ch}"));
            }
            f.extra["trace"] = json!(tr);
            if let Some(x) = explained {
                f.extra["explain"] = x;
            }
            Err(f)
        }
    }
}

fn snapshot_cmd(c: &Common, s: SnapshotCmd) -> Out {
    match s {
        SnapshotCmd::Export { issuer, jwks_uri, out } => {
            let mut cfg = base_config(c, &issuer);
            cfg.allow_any_audience = true;
            if let Some(u) = jwks_uri {
                cfg.key_source = KeySource::JwksUri(u);
            }
            let client = Client::new(cfg)?;
            client.prefetch()?;
            let doc = snapshot::export(Some(&client))?;
            let v: Value = serde_json::from_str(&doc).unwrap_or(Value::Null);
            let n = v["key_sets"].as_array().map_or(0, Vec::len);
            let m = v["metadata"].as_array().map_or(0, Vec::len);
            match out {
                Some(p) => {
                    std::fs::write(&p, &doc).map_err(|e| usage(format!("cannot write {}: {}", p.display(), e.kind())))?;
                    let line = format!("wrote {} ({n} key set(s), {m} metadata document(s))", p.display());
                    Ok((json!({"ok": true, "file": p, "key_sets": n, "metadata": m}), vec![line]))
                }
                None => Ok((v, vec![doc])),
            }
        }
        SnapshotCmd::Import { file } => {
            let doc = std::fs::read_to_string(&file).map_err(|e| usage(format!("cannot read {}: {}", file.display(), e.kind())))?;
            let n = snapshot::import_for(&doc, None)?;
            let line = format!(
                "{}: valid snapshot, {} entr(ies) importable, {} skipped (expired or older); use it with `oidc validate --snapshot {}`",
                file.display(),
                n.imported,
                n.skipped,
                file.display()
            );
            Ok((json!({"ok": true, "imported": n.imported, "skipped": n.skipped}), vec![line]))
        }
    }
}
