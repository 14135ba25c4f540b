//! Client configuration and every default in one place.

use std::path::PathBuf;
use std::time::Duration;

use super::error::{Error, ErrorKind, Result, err};
use super::url::Url;

/// Default clock-skew leeway for `exp`, `nbf`, `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// Default maximum token size in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Hard ceiling on the configurable token size.
pub const MAX_TOKEN_BYTES_CEILING: usize = 1024 * 1024;
/// Default TCP connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default total timeout of one HTTP exchange (connect, TLS, request, body).
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on any response body (discovery, JWKS).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 512 * 1024;
/// Key-set TTL bounds: `Cache-Control: max-age` is clamped to `[min, max]`; no header gives `default`.
pub const DEFAULT_JWKS_TTL_MIN: Duration = Duration::from_secs(60);
pub const DEFAULT_JWKS_TTL_MAX: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_JWKS_TTL: Duration = Duration::from_secs(3600);
/// At most one refresh triggered by an unknown `kid` per cooldown.
pub const DEFAULT_REFRESH_COOLDOWN: Duration = Duration::from_secs(30);
/// After a failed fetch, no new attempt for this long (callers get the last error).
pub const DEFAULT_RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// Expired keys keep serving for this long past their TTL while refreshes fail.
pub const DEFAULT_STALE_IF_ERROR: Duration = Duration::from_secs(6 * 3600);
/// Refresh in the background once a fraction of the TTL has elapsed: a per-process fraction in
/// `[REFRESH_AHEAD_MIN, REFRESH_AHEAD_MAX]` (see `cache::refresh_ahead_fraction`), so a fleet
/// does not refresh in lockstep.
pub const REFRESH_AHEAD_MIN: f64 = 0.7;
/// See [`REFRESH_AHEAD_MIN`].
pub const REFRESH_AHEAD_MAX: f64 = 0.9;
/// The longest `Retry-After` (429/503 from the JWKS or discovery endpoint) honoured: a longer
/// one waits this long.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(300);
/// Discovery metadata is re-fetched after this long.
pub const DEFAULT_METADATA_TTL: Duration = Duration::from_secs(24 * 3600);
/// Most keys accepted in one JWKS document.
pub const MAX_KEYS_PER_SET: usize = 100;
/// Most key sets (JWKS URLs) in the process-wide cache.
pub const DEFAULT_CACHE_MAX_ENTRIES: usize = 64;
/// Most audiences / required claims one client may configure.
pub const MAX_LIST_ITEMS: usize = 64;
/// Most redirects followed for one fetch.
pub const MAX_REDIRECTS: u32 = 3;
/// Default size of a client's verified-token cache (entries; 0 turns it off).
pub const DEFAULT_TOKEN_CACHE_SIZE: usize = 4096;
/// Largest configurable verified-token cache.
pub const MAX_TOKEN_CACHE_SIZE: usize = 1 << 20;
/// Default DPoP proof window: a proof's `iat` may be this far in the past (and the leeway in
/// the future); replay-cache entries live this long.
pub const DEFAULT_DPOP_PROOF_WINDOW: Duration = Duration::from_secs(60);
/// Default lifetime of a server-issued DPoP nonce (one time bucket; the previous bucket's nonce
/// is still accepted).
pub const DEFAULT_DPOP_NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// Most required scopes / claim-value rules one client may configure.
pub const MAX_RULES: usize = 64;

/// A JWS algorithm liboidc can verify. HMAC and `none` are deliberately absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
}

impl Algorithm {
    /// Every supported algorithm, in bit order for [`AlgSet`].
    pub const ALL: [Algorithm; 10] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ];

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// Parse a JOSE name as found in a token header (exact, case-sensitive).
    /// `Ed25519` (the fully-specified name of RFC 9864) is accepted as EdDSA.
    pub fn from_jose(name: &str) -> Option<Algorithm> {
        Some(match name {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "PS384" => Algorithm::PS384,
            "PS512" => Algorithm::PS512,
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "ES512" => Algorithm::ES512,
            "EdDSA" | "Ed25519" => Algorithm::EdDSA,
            _ => return None,
        })
    }

    /// Parse a configured name: like [`from_jose`](Self::from_jose), with a precise error for
    /// names that are known but forbidden.
    pub fn parse_config(name: &str) -> Result<Algorithm> {
        if let Some(a) = Algorithm::from_jose(name.trim()) {
            return Ok(a);
        }
        let n = name.trim();
        if n.eq_ignore_ascii_case("none") {
            return err(ErrorKind::UnsupportedAlgorithm, "algorithm 'none' is never allowed");
        }
        if n.starts_with("HS") {
            return err(ErrorKind::UnsupportedAlgorithm, "HMAC algorithms are not allowed: liboidc verifies with public keys only");
        }
        let shown: String = n.chars().filter(|c| c.is_ascii_alphanumeric()).take(16).collect();
        err(ErrorKind::UnsupportedAlgorithm, format!("unknown algorithm '{shown}'"))
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A small set of algorithms (a bit mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgSet(u16);

impl AlgSet {
    /// A set from configured names: unknown names, `none` and HMAC fail; an empty list fails
    /// with `empty` (the message naming which list).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>, empty: &str) -> Result<AlgSet> {
        let mut set = AlgSet::default();
        for n in names {
            set.insert(Algorithm::parse_config(n)?);
        }
        if set.is_empty() {
            return err(ErrorKind::InvalidConfig, empty);
        }
        Ok(set)
    }

    /// The default allow-list: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA.
    pub fn default_allowed() -> AlgSet {
        AlgSet::from_iter(Algorithm::ALL)
    }
    pub fn contains(self, a: Algorithm) -> bool {
        self.0 & a.bit() != 0
    }
    pub fn insert(&mut self, a: Algorithm) {
        self.0 |= a.bit();
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl FromIterator<Algorithm> for AlgSet {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        let mut s = AlgSet(0);
        for a in iter {
            s.insert(a);
        }
        s
    }
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Discover `jwks_uri` from the issuer's metadata.
    Discovery,
    /// A fixed JWKS URL (no discovery).
    JwksUri(String),
    /// A static JWKS document (offline use, tests).
    Static(String),
}

/// Everything a validating client is configured with. Build with [`Config::new`] and the
/// setters, then pass to [`crate::core::Client::new`], which checks it all at once.
#[derive(Debug, Clone)]
pub struct Config {
    pub issuer: String,
    pub key_source: KeySource,
    pub audiences: Vec<String>,
    pub algorithms: AlgSet,
    pub leeway: Duration,
    pub required_claims: Vec<String>,
    pub expected_typ: Option<String>,
    pub max_token_bytes: usize,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    pub max_response_bytes: usize,
    pub ca_file: Option<PathBuf>,
    /// An explicit HTTP CONNECT proxy for every request of the handle (credentials redacted
    /// in `Debug`).
    pub proxy: Option<super::http::ProxyUrl>,
    /// Opt-in to `https_proxy`/`HTTPS_PROXY` and `no_proxy`/`NO_PROXY` (read when the handle is
    /// built). Off by default: the environment never routes a handle through a proxy.
    pub proxy_from_env: bool,
    /// The mTLS client certificate presented to servers that ask for one (RFC 8705).
    pub client_cert: Option<super::http::ClientCertificate>,
    pub allow_http_loopback: bool,
    pub jwks_ttl_min: Duration,
    pub jwks_ttl_max: Duration,
    pub jwks_ttl_default: Duration,
    pub refresh_cooldown: Duration,
    pub retry_after_failure: Duration,
    pub stale_if_error: Duration,
    pub realm: Option<String>,
    /// Accept tokens for any audience. Off by default: at least one audience is required.
    pub allow_any_audience: bool,
    pub clock: Clock,
    /// What [`crate::core::Client::start`] fetches before returning the client.
    pub prefetch: Prefetch,
    /// Resource-server rules applied by [`crate::core::Client::authenticate`] (scopes, claim
    /// values, DPoP, mTLS). Token validation alone (`validate`) does not apply them.
    pub resource: ResourcePolicy,
    /// Entries of the verified-token cache (0: off).
    pub token_cache_size: usize,
    /// Further issuers accepted by the same validator (issue 12), each with its own keys and
    /// token rules. Empty: the validator serves `issuer` alone, exactly as before.
    pub issuers: Vec<IssuerConfig>,
    /// Private keys for encrypted tokens and responses (JWE, issue 14), chosen by `kid`. Empty:
    /// an encrypted token is refused (TOKEN_MALFORMED, naming the setting).
    pub decryption_keys: super::jose::jwe::DecryptionKeys,
    /// The JWE algorithms accepted (default: every one but RSA1_5 and dir).
    pub decryption_algorithms: super::jose::jwe::JweAlgs,
    /// Accept encrypted (nested JWE) access tokens. Off by default. ID tokens, userinfo,
    /// introspection and JARM responses are decrypted whenever keys are configured.
    pub accept_encrypted: bool,
    /// The issuer's signed revocation list (issue 14; see [`super::revocation`]). `None`: off.
    pub revocation: Option<super::revocation::RevocationConfig>,
}

/// Most issuers (exact or templates) one validator may serve.
pub const MAX_ISSUERS: usize = 64;
/// Longest tenant value accepted from a token's `iss` (before it is used in any URL).
pub const MAX_TENANT_LEN: usize = 64;
/// The placeholder of an issuer template.
pub const TENANT_PLACEHOLDER: &str = "{tenant}";

/// Which tenants an issuer template accepts. There is no default: a template needs one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tenants {
    /// Only these tenants (each a valid tenant value).
    AllowList(Vec<String>),
    /// Any tenant whose value is well formed (bounded by [`TenantBounds`]).
    Any,
}

/// Bounds on the per-tenant state of an issuer template: a flood of made-up tenants must not
/// become a flood of discovery requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantBounds {
    /// Most tenants kept (discovery, keys, and failures as negative entries); least recently
    /// used evicted.
    pub max_tenants: usize,
    /// Most tenants first seen (and so fetched) per `window`.
    pub new_per_window: u32,
    pub window: Duration,
    /// Most first fetches of new tenants running at once.
    pub max_in_flight: u32,
}

impl Default for TenantBounds {
    fn default() -> Self {
        TenantBounds { max_tenants: 256, new_per_window: 10, window: Duration::from_secs(60), max_in_flight: 4 }
    }
}

/// One more issuer of a multi-issuer validator. Unset token rules (`None` / empty) take the
/// validator's own; the transport settings (timeouts, CA, cache bounds) are always the
/// validator's.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// The exact issuer, or a template with one `{tenant}` placeholder
    /// (`https://login.example.com/{tenant}/v2.0`).
    pub issuer: String,
    pub key_source: KeySource,
    /// Empty: the validator's audiences.
    pub audiences: Vec<String>,
    pub allow_any_audience: bool,
    /// `None`: the validator's algorithms.
    pub algorithms: Option<AlgSet>,
    /// `None`: the validator's expected `typ`.
    pub expected_typ: Option<String>,
    /// Required in addition to the validator's required claims.
    pub required_claims: Vec<String>,
    /// Templates only: which tenants (required for a template, refused for an exact issuer).
    pub tenants: Option<Tenants>,
    /// Templates only: the claim that must equal the tenant in `iss` (default `tid`).
    pub tenant_claim: String,
    pub tenant_bounds: TenantBounds,
}

impl IssuerConfig {
    pub fn new(issuer: impl Into<String>) -> IssuerConfig {
        IssuerConfig {
            issuer: issuer.into(),
            key_source: KeySource::Discovery,
            audiences: Vec::new(),
            allow_any_audience: false,
            algorithms: None,
            expected_typ: None,
            required_claims: Vec::new(),
            tenants: None,
            tenant_claim: "tid".to_string(),
            tenant_bounds: TenantBounds::default(),
        }
    }

    /// Whether the issuer is a template (`{tenant}` in it).
    pub fn is_template(&self) -> bool {
        self.issuer.contains(TENANT_PLACEHOLDER)
    }

    /// The validator configuration of this issuer (or of one tenant of a template: `issuer`
    /// then names the concrete issuer): `base` with this issuer's keys and token rules.
    pub fn derive(&self, base: &Config, issuer: &str) -> Config {
        let mut c = base.clone();
        c.issuers = Vec::new();
        c.issuer = issuer.to_string();
        // An explicit revocation-list URL is the base issuer's: every other issuer (and tenant)
        // polls its own well-known URL.
        if let Some(r) = &mut c.revocation {
            r.url = None;
        }
        c.key_source = self.key_source.clone();
        if !self.audiences.is_empty() || self.allow_any_audience {
            c.audiences = self.audiences.clone();
            c.allow_any_audience = self.allow_any_audience;
        }
        if let Some(a) = self.algorithms {
            c.algorithms = a;
        }
        if self.expected_typ.is_some() {
            c.expected_typ = self.expected_typ.clone();
        }
        for r in &self.required_claims {
            if !c.required_claims.contains(r) {
                c.required_claims.push(r.clone());
            }
        }
        c
    }

    /// Check what the derived configuration cannot: the template and its tenants.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::new(ErrorKind::InvalidConfig, m));
        let n = self.issuer.matches(TENANT_PLACEHOLDER).count();
        if n > 1 {
            return bad("an issuer template holds exactly one {tenant}".into());
        }
        if self.issuer.contains('{') && n == 0 || self.issuer.matches('{').count() > n {
            return bad("an issuer may hold no '{' other than the one {tenant} placeholder".into());
        }
        match (n, &self.tenants) {
            (0, Some(_)) => return bad("tenants are set for an issuer that is not a template (no {tenant})".into()),
            (1, None) => {
                return bad("an issuer template needs an explicit tenant allow-list or an explicit 'any tenant'".into());
            }
            (1, Some(Tenants::AllowList(l))) => {
                if l.is_empty() {
                    return bad("the tenant allow-list is empty".into());
                }
                if l.len() > MAX_LIST_ITEMS {
                    return bad("too many allowed tenants (at most 64)".into());
                }
                if let Some(t) = l.iter().find(|t| !is_tenant(t)) {
                    return bad(format!("allowed tenant '{}' is not 1 to 64 characters of A-Z a-z 0-9 - _", super::json::printable(t)));
                }
            }
            _ => {}
        }
        if n == 1 {
            if self.tenant_claim.is_empty() {
                return bad("the tenant claim name is empty".into());
            }
            let b = &self.tenant_bounds;
            if !(1..=65536).contains(&b.max_tenants) || !(1..=65536).contains(&b.new_per_window) || !(1..=1024).contains(&b.max_in_flight) {
                return bad(
                    "tenant bounds: 1..=65536 tenants kept, 1..=65536 new tenants per window, 1..=1024 first fetches in flight".into()
                );
            }
            if b.window.is_zero() || b.window > Duration::from_secs(24 * 3600) {
                return bad("the tenant window must be between 1 ms and 24 hours".into());
            }
            if matches!(self.key_source, KeySource::Static(_)) {
                return bad("an issuer template discovers its keys per tenant: a static key set is not allowed".into());
            }
        }
        Ok(())
    }
}

/// A tenant value usable in a URL: 1 to 64 of `A-Z a-z 0-9 - _` (a GUID, a domain label).
pub fn is_tenant(t: &str) -> bool {
    !t.is_empty() && t.len() <= MAX_TENANT_LEN && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// How the DPoP scheme (RFC 9449) is treated by request authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopMode {
    /// Both schemes: `Bearer` for unbound tokens, `DPoP` (with a proof) for DPoP-bound tokens.
    #[default]
    Allowed,
    /// Only `DPoP`: every token must be DPoP-bound and come with a proof.
    Required,
    /// Only `Bearer`: the `DPoP` scheme is not offered (DPoP-bound tokens are then refused).
    Disabled,
}

impl DpopMode {
    /// The mode for a raw value (`OIDC_DPOP_MODE_ALLOWED` 0, `_REQUIRED` 1, `_DISABLED` 2; a
    /// binding passes it as an integer); anything else is `InvalidArgument`.
    pub fn from_u32(mode: u32) -> Result<DpopMode> {
        match mode {
            0 => Ok(DpopMode::Allowed),
            1 => Ok(DpopMode::Required),
            2 => Ok(DpopMode::Disabled),
            _ => Err(Error::new(ErrorKind::InvalidArgument, "DPoP mode must be OIDC_DPOP_MODE_ALLOWED, _REQUIRED or _DISABLED")),
        }
    }
}

/// A shared replay store for DPoP proof `jti`s, for a fleet of processes behind one load
/// balancer (e.g. Redis `SET key 1 NX EX ttl`).
pub trait ReplayStore: Send + Sync {
    /// Record `key` for `ttl_secs` seconds if it is not recorded yet. `Ok(true)`: first use;
    /// `Ok(false)`: seen before (a replay); `Err(())`: the store could not answer (the request
    /// is then refused with a 503, never allowed).
    // `()`: the store's own error is the host's business; liboidc only needs "no answer".
    #[allow(clippy::result_unit_err)]
    fn check_and_record(&self, key: &str, ttl_secs: u64) -> std::result::Result<bool, ()>;
}

/// The secret of stateless DPoP nonces; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct NonceSecret(pub Vec<u8>);

impl std::fmt::Debug for NonceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// DPoP proof rules (RFC 9449 §4.3) for request authentication.
#[derive(Clone)]
pub struct DpopConfig {
    pub mode: DpopMode,
    /// Proof algorithms (asymmetric only; sent as the challenge's `algs`).
    pub algorithms: AlgSet,
    /// A proof's `iat` may lie this far in the past (and `leeway` in the future).
    pub proof_window: Duration,
    /// Stateless server nonces: when set, every proof must carry a current nonce.
    pub nonce_secret: Option<NonceSecret>,
    pub nonce_lifetime: Duration,
    /// A store shared by a fleet, consulted after the process-wide replay cache.
    pub replay_store: Option<std::sync::Arc<dyn ReplayStore>>,
}

impl std::fmt::Debug for DpopConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopConfig")
            .field("mode", &self.mode)
            .field("algorithms", &self.algorithms)
            .field("proof_window", &self.proof_window)
            .field("nonce_secret", &self.nonce_secret.as_ref().map(|_| "<redacted>"))
            .field("nonce_lifetime", &self.nonce_lifetime)
            .field("replay_store", &self.replay_store.as_ref().map(|_| "<host store>"))
            .finish()
    }
}

impl Default for DpopConfig {
    fn default() -> Self {
        use Algorithm::*;
        DpopConfig {
            mode: DpopMode::Allowed,
            algorithms: AlgSet::from_iter([ES256, ES384, ES512, EdDSA, RS256, PS256]),
            proof_window: DEFAULT_DPOP_PROOF_WINDOW,
            nonce_secret: None,
            nonce_lifetime: DEFAULT_DPOP_NONCE_LIFETIME,
            replay_store: None,
        }
    }
}

/// What a resource server demands of a request beyond a valid token.
#[derive(Debug, Clone, Default)]
pub struct ResourcePolicy {
    /// Every one of these scopes must be granted (403 `insufficient_scope` otherwise).
    pub required_scopes: Vec<String>,
    /// Claim-value rules: the claim must hold one of the values (403 otherwise).
    pub claim_values: Vec<(String, Vec<String>)>,
    pub dpop: DpopConfig,
    /// Every token must be bound to the client certificate (RFC 8705 `cnf.x5t#S256`).
    pub require_mtls: bool,
}

/// Warm start when a client is built ([`crate::core::Client::start`]). The discriminants are the
/// C ABI's `oidc_prefetch` values ([`Prefetch::from_u32`] is the one mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u32)]
pub enum Prefetch {
    /// Nothing: keys are fetched on first use.
    #[default]
    None = 0,
    /// Discovery + JWKS now; building fails with the fetch error (fail fast at start-up).
    FailFast = 1,
    /// Discovery + JWKS on the worker pool; failures are logged and counted, first use retries.
    Background = 2,
}

impl Prefetch {
    /// The mode for a raw value (a binding passes it as an integer); anything else is
    /// `InvalidArgument`.
    pub fn from_u32(mode: u32) -> Result<Prefetch> {
        match mode {
            0 => Ok(Prefetch::None),
            1 => Ok(Prefetch::FailFast),
            2 => Ok(Prefetch::Background),
            _ => Err(Error::new(ErrorKind::InvalidArgument, "prefetch mode must be 0 (none), 1 (fail fast) or 2 (background)")),
        }
    }
}

impl Config {
    /// A configuration for `issuer` with every default.
    pub fn new(issuer: impl Into<String>) -> Config {
        Config {
            issuer: issuer.into(),
            key_source: KeySource::Discovery,
            audiences: Vec::new(),
            algorithms: AlgSet::default_allowed(),
            leeway: DEFAULT_LEEWAY,
            required_claims: Vec::new(),
            expected_typ: None,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            ca_file: None,
            proxy: None,
            proxy_from_env: false,
            client_cert: None,
            allow_http_loopback: false,
            jwks_ttl_min: DEFAULT_JWKS_TTL_MIN,
            jwks_ttl_max: DEFAULT_JWKS_TTL_MAX,
            jwks_ttl_default: DEFAULT_JWKS_TTL,
            refresh_cooldown: DEFAULT_REFRESH_COOLDOWN,
            retry_after_failure: DEFAULT_RETRY_AFTER_FAILURE,
            stale_if_error: DEFAULT_STALE_IF_ERROR,
            realm: None,
            allow_any_audience: false,
            clock: Clock::system(),
            prefetch: Prefetch::None,
            resource: ResourcePolicy::default(),
            token_cache_size: DEFAULT_TOKEN_CACHE_SIZE,
            issuers: Vec::new(),
            decryption_keys: Default::default(),
            decryption_algorithms: Default::default(),
            accept_encrypted: false,
            revocation: None,
        }
    }

    /// Add a required scope (a scope-token: printable ASCII without space, `"` or `\\`).
    pub fn add_required_scope(&mut self, scope: &str) -> Result<()> {
        if !super::authn::scope::is_scope_token(scope) {
            return err(
                ErrorKind::InvalidConfig,
                "a required scope must be a non-empty scope-token (printable ASCII, no space, quote or backslash)",
            );
        }
        if self.resource.required_scopes.len() >= MAX_RULES {
            return err(ErrorKind::InvalidConfig, "too many required scopes (at most 64)");
        }
        if !self.resource.required_scopes.iter().any(|s| s == scope) {
            self.resource.required_scopes.push(scope.to_string());
        }
        Ok(())
    }

    /// Allow `value` for claim `name` (calls with the same name build an allow-list).
    pub fn add_claim_value(&mut self, name: &str, value: &str) -> Result<()> {
        if name.is_empty() {
            return err(ErrorKind::InvalidConfig, "a claim-value rule needs a claim name");
        }
        if let Some((_, vals)) = self.resource.claim_values.iter_mut().find(|(n, _)| n == name) {
            if vals.len() >= MAX_LIST_ITEMS {
                return err(ErrorKind::InvalidConfig, "too many values for one claim (at most 64)");
            }
            vals.push(value.to_string());
            return Ok(());
        }
        if self.resource.claim_values.len() >= MAX_RULES {
            return err(ErrorKind::InvalidConfig, "too many claim-value rules (at most 64)");
        }
        self.resource.claim_values.push((name.to_string(), vec![value.to_string()]));
        Ok(())
    }

    /// Set the DPoP proof algorithms from names (asymmetric only).
    pub fn set_dpop_algorithms<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> Result<()> {
        self.resource.dpop.algorithms = AlgSet::from_names(names, "the DPoP algorithm list is empty")?;
        Ok(())
    }

    /// Set the key-set cache bounds: `Cache-Control: max-age` is clamped to [`ttl_min`, `ttl_max`]
    /// (a maximum below the minimum counts as the minimum for the clamp; [`Config::check`]
    /// rejects it at build), and the TTL used when the server sends no max-age is pulled into
    /// the same range. Also the refresh cooldown for unknown `kid`s and how long expired keys keep
    /// serving while refreshes fail.
    pub fn set_cache_policy(&mut self, ttl_min: Duration, ttl_max: Duration, refresh_cooldown: Duration, stale_if_error: Duration) {
        self.jwks_ttl_min = ttl_min;
        self.jwks_ttl_max = ttl_max;
        self.jwks_ttl_default = self.jwks_ttl_default.clamp(ttl_min, ttl_max.max(ttl_min));
        self.refresh_cooldown = refresh_cooldown;
        self.stale_if_error = stale_if_error;
    }

    /// Set the allow-list from names (replaces the default). Unknown names, `none` and HMAC fail.
    pub fn set_algorithms<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> Result<()> {
        self.algorithms = AlgSet::from_names(names, "the algorithm allow-list is empty")?;
        Ok(())
    }

    /// Check the whole configuration. Called by `Client::new`; every problem surfaces here, never
    /// at the first request.
    pub fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::new(ErrorKind::InvalidConfig, m));
        if self.issuer.trim().is_empty() {
            return bad("the issuer is empty");
        }
        if self.issuer.len() > 2048 {
            return bad("the issuer is longer than 2048 bytes");
        }
        match &self.key_source {
            KeySource::Static(_) => {}
            KeySource::Discovery => {
                Url::parse_checked(&self.issuer, self.allow_http_loopback)?;
            }
            KeySource::JwksUri(u) => {
                Url::parse_checked(u, self.allow_http_loopback)?;
            }
        }
        if self.algorithms.is_empty() {
            return bad("the algorithm allow-list is empty");
        }
        if self.accept_encrypted && self.decryption_keys.is_empty() {
            return bad("accepting encrypted access tokens needs a decryption key (add one)");
        }
        if self.audiences.len() > MAX_LIST_ITEMS || self.required_claims.len() > MAX_LIST_ITEMS {
            return bad("too many audiences or required claims (at most 64 each)");
        }
        if self.audiences.is_empty() && !self.allow_any_audience {
            return bad("at least one audience is required (or explicitly allow any audience)");
        }
        if self.audiences.iter().any(|a| a.is_empty()) {
            return bad("an audience is empty");
        }
        if self.required_claims.iter().any(|c| c.is_empty()) {
            return bad("a required claim name is empty");
        }
        if self.expected_typ.as_deref() == Some("") {
            return bad("the expected typ is empty");
        }
        if self.max_token_bytes < 16 || self.max_token_bytes > MAX_TOKEN_BYTES_CEILING {
            return bad("max token size must be between 16 bytes and 1 MiB");
        }
        if self.leeway > Duration::from_secs(3600) {
            return bad("leeway must be at most 3600 seconds");
        }
        let t = |d: Duration| d >= Duration::from_millis(1) && d <= Duration::from_secs(600);
        if !t(self.connect_timeout) || !t(self.total_timeout) {
            return bad("timeouts must be between 1 ms and 600 s");
        }
        if self.max_response_bytes < 1024 || self.max_response_bytes > 16 * 1024 * 1024 {
            return bad("max response size must be between 1 KiB and 16 MiB");
        }
        if self.jwks_ttl_min > self.jwks_ttl_max || self.jwks_ttl_max.is_zero() {
            return bad("key-set TTL bounds must satisfy 0 <= min <= max, max > 0");
        }
        if self.refresh_cooldown > Duration::from_secs(24 * 3600)
            || self.stale_if_error > Duration::from_secs(7 * 24 * 3600)
            || self.retry_after_failure > Duration::from_secs(3600)
        {
            return bad("cooldown, retry and stale-if-error bounds exceed their maxima");
        }
        if self.token_cache_size > MAX_TOKEN_CACHE_SIZE {
            return bad("the verified-token cache holds at most 1048576 entries");
        }
        let d = &self.resource.dpop;
        if d.proof_window < Duration::from_secs(1) || d.proof_window > Duration::from_secs(3600) {
            return bad("the DPoP proof window must be between 1 and 3600 seconds");
        }
        if d.nonce_lifetime < Duration::from_secs(1) || d.nonce_lifetime > Duration::from_secs(24 * 3600) {
            return bad("the DPoP nonce lifetime must be between 1 second and 24 hours");
        }
        if let Some(s) = &d.nonce_secret {
            if s.0.len() < 16 || s.0.len() > 1024 {
                return bad("the DPoP nonce secret must be 16 to 1024 bytes");
            }
        }
        if d.algorithms.is_empty() {
            return bad("the DPoP algorithm list is empty");
        }
        if let Some(r) = &self.revocation {
            if matches!(self.key_source, KeySource::Static(_)) {
                return bad("a revocation list needs a remote issuer (discovery or a JWKS URL), not a static key set");
            }
            r.check(&self.issuer, self.allow_http_loopback)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_policy_pulls_the_default_ttl_into_range() {
        let s = Duration::from_secs;
        let mut c = Config::new("https://issuer.example");
        c.set_cache_policy(s(10), s(20), s(5), s(7));
        assert_eq!((c.jwks_ttl_min, c.jwks_ttl_max, c.jwks_ttl_default), (s(10), s(20), s(20)));
        assert_eq!((c.refresh_cooldown, c.stale_if_error), (s(5), s(7)));
        let mut c = Config::new("https://issuer.example");
        c.set_cache_policy(s(7200), s(9000), s(5), s(7));
        assert_eq!(c.jwks_ttl_default, s(7200));
        // A maximum below the minimum: the clamp uses the minimum; the check refuses the config.
        let mut c = Config::new("https://issuer.example");
        c.set_cache_policy(s(100), s(50), s(5), s(7));
        assert_eq!(c.jwks_ttl_default, s(100));
    }

    #[test]
    fn prefetch_modes() {
        assert_eq!(Prefetch::from_u32(0).unwrap(), Prefetch::None);
        assert_eq!(Prefetch::from_u32(1).unwrap(), Prefetch::FailFast);
        assert_eq!(Prefetch::from_u32(2).unwrap(), Prefetch::Background);
        assert_eq!(Prefetch::from_u32(3).unwrap_err().kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(Algorithm::from_jose("Ed25519"), Some(Algorithm::EdDSA));
        assert_eq!(Algorithm::from_jose("rs256"), None);
        assert_eq!(Algorithm::parse_config("none").unwrap_err().kind(), ErrorKind::UnsupportedAlgorithm);
        assert_eq!(Algorithm::parse_config("HS256").unwrap_err().kind(), ErrorKind::UnsupportedAlgorithm);
        assert_eq!(Algorithm::parse_config("FOO").unwrap_err().kind(), ErrorKind::UnsupportedAlgorithm);
        let d = AlgSet::default_allowed();
        assert_eq!(d.iter().count(), 10);
        assert_eq!(Algorithm::from_jose("ES512"), Some(Algorithm::ES512));
        assert_eq!(Algorithm::ES512.name(), "ES512");
        assert!(d.contains(Algorithm::ES512) && d.contains(Algorithm::EdDSA));
    }

    #[test]
    fn config_checks() {
        let ok = |i: &str| {
            let mut c = Config::new(i);
            c.audiences.push("api".into());
            c
        };
        assert!(ok("https://idp.example").check().is_ok());
        assert_eq!(Config::new("https://idp.example").check().unwrap_err().kind(), ErrorKind::InvalidConfig);
        assert_eq!(Config::new("").check().unwrap_err().kind(), ErrorKind::InvalidConfig);
        assert_eq!(Config::new("http://idp.example").check().unwrap_err().kind(), ErrorKind::InsecureUrl);
        assert_eq!(Config::new("http://127.0.0.1:8080").check().unwrap_err().kind(), ErrorKind::InsecureUrl);
        let mut c = ok("http://127.0.0.1:8080");
        c.allow_http_loopback = true;
        assert!(c.check().is_ok());
        let mut c = Config::new("http://idp.example");
        c.allow_http_loopback = true;
        assert_eq!(c.check().unwrap_err().kind(), ErrorKind::InsecureUrl);
        let mut c = ok("https://idp.example");
        assert!(c.set_algorithms(["RS256", "none"]).is_err());
        c.max_token_bytes = 1;
        assert_eq!(c.check().unwrap_err().kind(), ErrorKind::InvalidConfig);
    }
}

/// The monotonic clock a client uses for cache timing. `Clock::system()` in production; tests use
/// [`Clock::manual`] and [`Clock::advance`] to step through TTLs and cooldowns without sleeping.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<std::sync::Arc<(std::time::Instant, std::sync::atomic::AtomicU64)>>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.manual.is_some() { "Clock(manual)" } else { "Clock(system)" })
    }
}

impl Clock {
    /// The system monotonic clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }
    /// A clock that starts now and moves only by [`advance`](Self::advance).
    pub fn manual() -> Clock {
        Clock { manual: Some(std::sync::Arc::new((std::time::Instant::now(), Default::default()))) }
    }
    /// Move a manual clock forward (no effect on the system clock).
    pub fn advance(&self, d: Duration) {
        if let Some(m) = &self.manual {
            m.1.fetch_add(d.as_millis() as u64, std::sync::atomic::Ordering::SeqCst);
        }
    }
    /// Whether this is a manual clock (polling helpers then advance it instead of sleeping).
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
    /// The current instant.
    pub fn now(&self) -> std::time::Instant {
        match &self.manual {
            None => std::time::Instant::now(),
            Some(m) => m.0 + Duration::from_millis(m.1.load(std::sync::atomic::Ordering::SeqCst)),
        }
    }
}
