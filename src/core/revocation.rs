//! Signed revocation lists (issue 14 item 2): a key or a token can be revoked before its
//! natural end.
//!
//! # The document
//!
//! The issuer publishes a compact JWS, `Content-Type: application/jwt` (or
//! `application/revocation-list+jwt`, `application/jose`), at
//! `<issuer>/.well-known/revocation-list` by default (the issuer exactly as configured, a
//! trailing `/` removed, plus the path: the rule of OpenID discovery, so a realm or tenant issuer
//! such as `https://idp.example/realms/a` gets `https://idp.example/realms/a/.well-known/revocation-list`),
//! or at a configured URL.
//!
//! * Header: `typ` `revocation-list+jwt` (required; compared like a token's `typ`), `alg` one
//!   of the client's allowed algorithms, `kid` a key of the issuer's JWKS. The list is verified
//!   through the client's own key resolution (the same JWKS cache, unknown-`kid` refresh and
//!   cooldown) and algorithm policy as a token; no `crit`, no `jku`/`jwk`/`x5u`.
//! * Claims (a JSON object):
//!
//! ```json
//! {
//!   "iss": "https://idp.example",          // = the configured issuer, exactly
//!   "iat": 1767225600,                     // Unix seconds; not in the future (leeway)
//!   "next_update": 1767229200,             // Unix seconds: when the issuer publishes again
//!   "version": 42,                         // monotonic, 0 ..= 2^53-1
//!   "revoked_kids": ["key-2024-01"],        // signing keys no token may be verified with
//!   "revoked_jtis": [{"jti": "a1b2", "exp": 1767300000}]  // tokens; drop one after its exp
//! }
//! ```
//!
//!   Unknown members are ignored. `revoked_kids` and `revoked_jtis` may be absent (empty).
//!   Every string is 1 to [`MAX_ENTRY_LEN`] bytes; at most [`MAX_REVOKED_KIDS`] kids and
//!   [`MAX_REVOKED_JTIS`] jtis (the response itself is bounded by `max_response_bytes`). An
//!   entry whose `exp` has passed is dropped when the list is loaded (the token it names is
//!   expired anyway). A list signed by a key that the held list (or the list itself) revokes is
//!   refused.
//!
//! # The checker
//!
//! One [`Checker`] per issuer client. A multi-issuer validator gives every issuer (and every
//! tenant of a template) its own checker at its own default URL; an explicitly configured URL
//! applies to the base issuer only.
//!
//! * No rollback: a list whose `version` is lower than the held one, or equal with other
//!   content, is refused (logged, counted in [`RevocationStats::rollbacks_refused`]) and the
//!   fetch counts as failed: the held list keeps serving into its grace period.
//! * Polling: after a successful fetch the list is fresh for `next_update - now`, clamped to
//!   `[min_interval, max_interval]` (defaults 30 s and 24 h). A stale list is refetched with
//!   `If-None-Match`; a 304 keeps the list and slides its freshness by the last interval.
//! * Single flight: callers without a usable list queue on one lock and share the first one's
//!   fetch (20 concurrent first checks make one request). Once a list is held, the one caller
//!   that notices it is stale refreshes it while the others keep using the stale list.
//! * A failed fetch never moves the poll schedule: the list stays due and the next attempt is
//!   made after `retry_after_failure` (a fetch answered `Cancelled` / `DeadlineExceeded` sets no
//!   back-off at all). A non-blocking call cancelled while its fetch runs lets the fetch finish
//!   for everybody (see [`super::pool`]).
//! * Grace: a stale list keeps serving for `grace` (default 1 h) past its freshness while
//!   fetches fail. After that the policy decides: [`RevocationPolicy::FailClosed`] refuses every
//!   validation with `RevocationUnavailable` (503, retry later);
//!   [`RevocationPolicy::FailOpen`] accepts (checking the last list held, if any), counts each
//!   such validation ([`metrics::REVOCATION_FAIL_OPEN`]) and logs once per outage.
//! * Priming: [`super::Client::prefetch`] (and so `Prefetch::FailFast` start-up) fetches the
//!   list and fails when that fails.
//!
//! # The hot path
//!
//! After the signature and the claims, [`Checker::check`] loads the current list (an
//! `ArcSwap`: no lock, no allocation), compares the monotonic clock with its freshness, and looks
//! the token's `kid` (the header's, or the verifying key's when the header has none) and `jti`
//! up in two foldhash sets. A verified-token cache hit is checked the same way, so a list
//! change applies to cached tokens at once.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

use super::client::Client;
use super::config::{Algorithm, Config};
use super::error::{Error, ErrorKind, Result, err};
use super::http::HttpRequest;
use super::json::printable;
use super::jwks::{KeySet, Lookup};
use super::log::{Level, emit};
use super::metrics;
use super::runtime::{ForkMutex, fork_generation};
use super::url::{Url, redact};
use super::validate::{Policy, parse_token};

/// The JWS `typ` of a revocation list.
pub const REVOCATION_TYP: &str = "revocation-list+jwt";
/// The path appended to the issuer for the default URL.
pub const WELL_KNOWN_PATH: &str = "/.well-known/revocation-list";
/// Default bounds of the poll interval derived from `next_update`.
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// Default grace period of a stale list while fetches fail.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);
/// Largest configurable grace period.
pub const MAX_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Bounds on the configurable poll interval.
pub const MIN_INTERVAL_FLOOR: Duration = Duration::from_secs(1);
pub const MAX_INTERVAL_CEILING: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most revoked jtis / kids accepted in one list.
pub const MAX_REVOKED_JTIS: usize = 100_000;
pub const MAX_REVOKED_KIDS: usize = 1_000;
/// Longest kid or jti in a list (bytes).
pub const MAX_ENTRY_LEN: usize = 256;
/// Largest `version` (the JSON-safe integer range).
pub const MAX_VERSION: u64 = (1 << 53) - 1;

/// What validation does when no usable list is available past the grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum RevocationPolicy {
    /// Refuse with `RevocationUnavailable` (503).
    FailClosed = 1,
    /// Accept (checking the last list held, if any); counted and logged.
    FailOpen = 2,
}

impl RevocationPolicy {
    /// The policy for a raw value (`OIDC_REVOCATION_FAIL_CLOSED` 1, `_FAIL_OPEN` 2); anything
    /// else (0 included) is `InvalidArgument`.
    pub fn from_u32(v: u32) -> Result<RevocationPolicy> {
        match v {
            1 => Ok(RevocationPolicy::FailClosed),
            2 => Ok(RevocationPolicy::FailOpen),
            _ => err(ErrorKind::InvalidArgument, "revocation policy must be OIDC_REVOCATION_FAIL_CLOSED or OIDC_REVOCATION_FAIL_OPEN"),
        }
    }

    /// The policy document's name.
    pub fn name(self) -> &'static str {
        match self {
            RevocationPolicy::FailClosed => "fail_closed",
            RevocationPolicy::FailOpen => "fail_open",
        }
    }

    /// The policy for a policy-document name.
    pub fn from_name(n: &str) -> Option<RevocationPolicy> {
        match n {
            "fail_closed" => Some(RevocationPolicy::FailClosed),
            "fail_open" => Some(RevocationPolicy::FailOpen),
            _ => None,
        }
    }
}

/// Revocation-list settings of a client (`Config::revocation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationConfig {
    /// `None`: `<issuer>/.well-known/revocation-list`.
    pub url: Option<String>,
    pub policy: RevocationPolicy,
    pub grace: Duration,
    pub min_interval: Duration,
    pub max_interval: Duration,
}

impl RevocationConfig {
    /// Defaults: the well-known URL, 1 h grace, polling between 30 s and 24 h.
    pub fn new(policy: RevocationPolicy) -> RevocationConfig {
        RevocationConfig { url: None, policy, grace: DEFAULT_GRACE, min_interval: DEFAULT_MIN_INTERVAL, max_interval: DEFAULT_MAX_INTERVAL }
    }

    /// The list's URL for `issuer`.
    pub fn url_for(&self, issuer: &str) -> String {
        match &self.url {
            Some(u) => u.clone(),
            None => default_url(issuer),
        }
    }

    /// Check the settings (called by `Config::check`): every problem is `InvalidConfig`, a
    /// non-https URL `InsecureUrl` (http only on loopback with the opt-in).
    pub fn check(&self, issuer: &str, allow_http_loopback: bool) -> Result<()> {
        let bad = |m: &str| Err(Error::new(ErrorKind::InvalidConfig, m));
        if let Some(u) = &self.url {
            if u.is_empty() || u.len() > 2048 {
                return bad("the revocation list URL must be 1 to 2048 bytes");
            }
        }
        Url::parse_checked(&self.url_for(issuer), allow_http_loopback)
            .map_err(|e| Error::new(e.kind(), format!("revocation list URL: {}", e.message())))?;
        if self.grace > MAX_GRACE {
            return bad("the revocation grace period must be at most 7 days");
        }
        if self.min_interval < MIN_INTERVAL_FLOOR || self.max_interval > MAX_INTERVAL_CEILING {
            return bad("revocation poll bounds must lie between 1 second and 7 days");
        }
        if self.min_interval > self.max_interval {
            return bad("the revocation poll minimum is above its maximum");
        }
        Ok(())
    }
}

/// `<issuer>/.well-known/revocation-list` (a trailing `/` of the issuer removed).
pub fn default_url(issuer: &str) -> String {
    format!("{}{WELL_KNOWN_PATH}", issuer.trim_end_matches('/'))
}

/// A verified, immutable revocation list.
pub struct RevocationList {
    pub issuer: String,
    pub iat: i64,
    pub next_update: i64,
    pub version: u64,
    kids: HashSet<Box<str>, foldhash::fast::RandomState>,
    jtis: HashSet<Box<str>, foldhash::fast::RandomState>,
    /// SHA-256 of the claims: two lists of one version must be the same list.
    digest: [u8; 32],
}

impl std::fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationList")
            .field("issuer", &self.issuer)
            .field("version", &self.version)
            .field("next_update", &self.next_update)
            .field("kids", &self.kids.len())
            .field("jtis", &self.jtis.len())
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct RawJti<'a> {
    #[serde(borrow)]
    jti: std::borrow::Cow<'a, str>,
    exp: f64,
}

#[derive(serde::Deserialize)]
struct RawList<'a> {
    #[serde(borrow)]
    iss: Option<std::borrow::Cow<'a, str>>,
    iat: Option<f64>,
    next_update: Option<f64>,
    version: Option<f64>,
    #[serde(default, borrow)]
    revoked_kids: Option<Vec<std::borrow::Cow<'a, str>>>,
    #[serde(default, borrow)]
    revoked_jtis: Option<Vec<RawJti<'a>>>,
}

fn invalid<T>(m: impl Into<String>) -> Result<T> {
    Err(Error::new(ErrorKind::ResponseInvalid, format!("revocation list: {}", m.into())))
}

/// A NumericDate in a list: finite, whole seconds within ±2^53.
fn seconds(v: Option<f64>, name: &str) -> Result<i64> {
    match v {
        Some(x) if x.is_finite() && x.fract() == 0.0 && x.abs() <= MAX_VERSION as f64 => Ok(x as i64),
        Some(_) => invalid(format!("{name} is not a whole number of seconds")),
        None => invalid(format!("{name} is missing")),
    }
}

impl RevocationList {
    /// Parse and check a list's claims (the JWS payload, already authenticated). `issuer`: the
    /// expected `iss` (`None` skips the comparison: the fuzz target); `now`: Unix seconds, for
    /// dropping jti entries past their `exp`. Every problem is `ResponseInvalid`.
    pub fn parse_claims(claims: &[u8], issuer: Option<&str>, now: i64) -> Result<RevocationList> {
        // The whole document must be strict JSON: the typed reading below skips members it does
        // not know without checking them (invalid UTF-8, lone surrogates). Found by the fuzzer.
        if serde_json::from_slice::<serde_json::Value>(claims).is_err() {
            return invalid("the claims are not a JSON object of the documented shape");
        }
        let raw: RawList = match serde_json::from_slice(claims) {
            Ok(r) => r,
            Err(_) => return invalid("the claims are not a JSON object of the documented shape"),
        };
        let iss = match raw.iss {
            Some(i) => i.into_owned(),
            None => return invalid("iss is missing"),
        };
        if let Some(want) = issuer {
            if iss != want {
                return invalid(super::validate::issuer_mismatch("iss", &iss, want));
            }
        }
        let iat = seconds(raw.iat, "iat")?;
        let next_update = seconds(raw.next_update, "next_update")?;
        let version = match raw.version {
            Some(v) if v.is_finite() && v.fract() == 0.0 && (0.0..=MAX_VERSION as f64).contains(&v) => v as u64,
            Some(_) => return invalid("version is not an integer between 0 and 2^53-1"),
            None => return invalid("version is missing"),
        };
        let entry_ok = |s: &str| !s.is_empty() && s.len() <= MAX_ENTRY_LEN;
        let kids_in = raw.revoked_kids.unwrap_or_default();
        if kids_in.len() > MAX_REVOKED_KIDS {
            return invalid(format!("{} revoked kids; at most {MAX_REVOKED_KIDS} are accepted", kids_in.len()));
        }
        let mut kids = HashSet::with_capacity_and_hasher(kids_in.len(), Default::default());
        for k in kids_in {
            if !entry_ok(&k) {
                return invalid(format!("a revoked kid is empty or longer than {MAX_ENTRY_LEN} bytes"));
            }
            kids.insert(k.into_owned().into_boxed_str());
        }
        let jtis_in = raw.revoked_jtis.unwrap_or_default();
        if jtis_in.len() > MAX_REVOKED_JTIS {
            return invalid(format!("{} revoked jtis; at most {MAX_REVOKED_JTIS} are accepted", jtis_in.len()));
        }
        let mut jtis = HashSet::with_capacity_and_hasher(jtis_in.len(), Default::default());
        for j in jtis_in {
            if !entry_ok(&j.jti) {
                return invalid(format!("a revoked jti is empty or longer than {MAX_ENTRY_LEN} bytes"));
            }
            if !j.exp.is_finite() {
                return invalid("a revoked jti's exp is not a number");
            }
            // Past its exp (with a day's margin for clock skew) the token is dead anyway.
            if j.exp + 86_400.0 < now as f64 {
                continue;
            }
            jtis.insert(j.jti.into_owned().into_boxed_str());
        }
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, claims);
        let mut d = [0u8; 32];
        d.copy_from_slice(digest.as_ref());
        Ok(RevocationList { issuer: iss, iat, next_update, version, kids, jtis, digest: d })
    }

    /// Whether `kid` is revoked.
    #[inline]
    pub fn kid_revoked(&self, kid: &str) -> bool {
        !self.kids.is_empty() && self.kids.contains(kid)
    }

    /// Whether `jti` is revoked.
    #[inline]
    pub fn jti_revoked(&self, jti: &str) -> bool {
        !self.jtis.is_empty() && self.jtis.contains(jti)
    }

    /// Revoked kids / jtis held.
    pub fn len(&self) -> (usize, usize) {
        (self.kids.len(), self.jtis.len())
    }

    /// Whether the list revokes nothing.
    pub fn is_empty(&self) -> bool {
        self.kids.is_empty() && self.jtis.is_empty()
    }

    /// The check of one validated token: its `kid` (the header's, else the verifying key's) and
    /// its `jti`. No allocation.
    #[inline]
    fn check(&self, kid: Option<&str>, keys: &KeySet, alg: Algorithm, jti: Option<&str>) -> Result<()> {
        if !self.kids.is_empty() {
            let kid = match kid {
                Some(k) => Some(k),
                None => match keys.find(None, alg) {
                    Lookup::Found(k) => k.kid.as_deref(),
                    _ => None,
                },
            };
            if kid.is_some_and(|k| self.kids.contains(k)) {
                return err(ErrorKind::Revoked, "the token's signing key is revoked by the issuer's revocation list");
            }
        }
        if !self.jtis.is_empty() {
            if let Some(j) = jti {
                if self.jtis.contains(j) {
                    return err(ErrorKind::Revoked, "the token is revoked by the issuer's revocation list (jti)");
                }
            }
        }
        Ok(())
    }
}

/// Counters of one checker (tests and operators).
#[derive(Debug, Default)]
pub struct RevocationStats {
    /// Requests sent for the list.
    pub fetches: AtomicU64,
    /// 304 answers.
    pub not_modified: AtomicU64,
    /// Failed fetches (network, status, invalid or unverifiable list, rollback).
    pub failures: AtomicU64,
    /// Lists refused as older than the held one (or same version, other content).
    pub rollbacks_refused: AtomicU64,
    /// Validations answered with a stale list (in its grace period).
    pub stale_served: AtomicU64,
    /// Validations accepted by the fail-open policy without a usable list.
    pub fail_open_accepted: AtomicU64,
}

#[derive(Clone, Default)]
struct State {
    list: Option<Arc<RevocationList>>,
    /// The list is fresh before this (the last success + the interval).
    fresh_until: Option<Instant>,
    /// The last interval used (a 304 slides by it).
    interval: Duration,
    etag: Option<String>,
    last_failure: Option<Error>,
    /// No new attempt before this (after a failure).
    retry_at: Option<Instant>,
    /// A fail-open acceptance was logged for the current outage.
    open_logged: bool,
}

/// What the state allows at an instant.
enum Use {
    /// The list is fresh.
    Fresh(Arc<RevocationList>),
    /// Stale but within grace.
    Stale(Arc<RevocationList>),
    /// No usable list (none yet, or past grace).
    None,
}

impl State {
    fn usable(&self, now: Instant, grace: Duration) -> Use {
        match (&self.list, self.fresh_until) {
            (Some(l), Some(t)) if now < t => Use::Fresh(l.clone()),
            (Some(l), Some(t)) if now < t + grace => Use::Stale(l.clone()),
            _ => Use::None,
        }
    }
}

/// The revocation checker of one issuer client.
pub struct Checker {
    url: String,
    cfg: RevocationConfig,
    state: ArcSwap<State>,
    fetch_lock: ForkMutex,
    /// Completed attempts (success or failure, not cancelled): the single-flight generation.
    attempts: AtomicU64,
    /// `fork generation + 1` while one caller refreshes a stale list.
    refreshing: AtomicU64,
    pub stats: RevocationStats,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker").field("url", &redact(&self.url)).field("policy", &self.cfg.policy).finish()
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Checker {
    /// The checker of the client configured by `cfg` (whose `revocation` is set).
    pub fn new(cfg: &Config, r: &RevocationConfig) -> Checker {
        Checker {
            url: r.url_for(&cfg.issuer),
            cfg: r.clone(),
            state: ArcSwap::from_pointee(State::default()),
            fetch_lock: ForkMutex::new(),
            attempts: AtomicU64::new(0),
            refreshing: AtomicU64::new(0),
            stats: RevocationStats::default(),
        }
    }

    /// The list's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The list currently held (fresh or not).
    pub fn current(&self) -> Option<Arc<RevocationList>> {
        self.state.load().list.clone()
    }

    /// Check a validated token (`kid`: its header's) against the current list; fetch the list
    /// first when none is usable. `Revoked`, `RevocationUnavailable`, or Ok.
    #[inline]
    pub fn check(&self, client: &Client, kid: Option<&str>, keys: &KeySet, alg: Algorithm, jti: Option<&str>) -> Result<()> {
        let now = client.config().clock.now();
        {
            let st = self.state.load();
            if let (Some(l), Some(t)) = (st.list.as_ref(), st.fresh_until) {
                if now < t {
                    return l.check(kid, keys, alg, jti);
                }
            }
        }
        match self.slow(client, now)? {
            Some(l) => l.check(kid, keys, alg, jti),
            None => Ok(()),
        }
    }

    /// Fetch the list now unless a fresh one is held (prefetch / start-up priming): fails when
    /// no fresh list could be had, whatever the policy.
    pub fn prime(&self, client: &Client) -> Result<()> {
        let now = client.config().clock.now();
        if matches!(self.state.load().usable(now, Duration::ZERO), Use::Fresh(_)) {
            return Ok(());
        }
        let _log_hold = super::log::hold();
        let _g = self.fetch_lock.lock();
        if matches!(self.state.load().usable(now, Duration::ZERO), Use::Fresh(_)) {
            return Ok(());
        }
        self.fetch_locked(client, now)
    }

    /// No fresh list: refresh (one caller) or wait for the fetch in flight, then decide.
    #[cold]
    fn slow(&self, client: &Client, now: Instant) -> Result<Option<Arc<RevocationList>>> {
        let grace = self.cfg.grace;
        let st = self.state.load_full();
        let backoff = st.retry_at.is_some_and(|t| now < t);
        if let Use::Stale(l) = st.usable(now, grace) {
            // Stale within grace: one caller refreshes, the others go on with the stale list.
            let mark = fork_generation() + 1;
            let cur = self.refreshing.load(Ordering::Acquire);
            if backoff || cur == mark || self.refreshing.compare_exchange(cur, mark, Ordering::AcqRel, Ordering::Acquire).is_err() {
                self.stats.stale_served.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(l));
            }
            {
                let _log_hold = super::log::hold();
                let _g = self.fetch_lock.lock();
                if !matches!(self.state.load().usable(now, Duration::ZERO), Use::Fresh(_)) {
                    // A failure is recorded in the state; the decision below reads it.
                    let _ = self.fetch_locked(client, now);
                }
            }
            self.refreshing.store(0, Ordering::Release);
            return self.decide(now);
        }
        if backoff {
            return self.decide(now);
        }
        // No usable list: single flight.
        let seen = self.attempts.load(Ordering::Acquire);
        {
            let _log_hold = super::log::hold();
            let _g = self.fetch_lock.lock();
            let st = self.state.load();
            let fresh = matches!(st.usable(now, grace), Use::Fresh(_) | Use::Stale(_));
            let in_backoff = st.retry_at.is_some_and(|t| now < t);
            drop(st);
            if !fresh && !in_backoff && self.attempts.load(Ordering::Acquire) == seen {
                let _ = self.fetch_locked(client, now);
            }
        }
        self.decide(now)
    }

    /// The answer from the state at `now`: the list (fresh, or stale within grace), else the
    /// policy.
    fn decide(&self, now: Instant) -> Result<Option<Arc<RevocationList>>> {
        let st = self.state.load();
        match st.usable(now, self.cfg.grace) {
            Use::Fresh(l) => Ok(Some(l)),
            Use::Stale(l) => {
                self.stats.stale_served.fetch_add(1, Ordering::Relaxed);
                Ok(Some(l))
            }
            Use::None => match self.cfg.policy {
                RevocationPolicy::FailClosed => Err(self.unavailable()),
                RevocationPolicy::FailOpen => {
                    self.stats.fail_open_accepted.fetch_add(1, Ordering::Relaxed);
                    metrics::REVOCATION_FAIL_OPEN.inc();
                    if !st.open_logged {
                        drop(st);
                        let _log_hold = super::log::hold();
                        let _g = self.fetch_lock.lock();
                        let mut s = State::clone(&self.state.load());
                        if !s.open_logged {
                            s.open_logged = true;
                            self.state.store(Arc::new(s));
                            emit(Level::Warn, "oidc::revocation", || {
                                format!(
                                    "no usable revocation list from {}: accepting tokens (fail-open policy) until a list is fetched",
                                    redact(&self.url)
                                )
                            });
                        }
                        return Ok(self.state.load().list.clone());
                    }
                    Ok(st.list.clone())
                }
            },
        }
    }

    fn unavailable(&self) -> Error {
        let why = match &self.state.load().last_failure {
            Some(e) => format!(": {}", e.message()),
            None => String::new(),
        };
        Error::new(
            ErrorKind::RevocationUnavailable,
            format!("the revocation list of {} is unavailable{why}; retry later", redact(&self.url)),
        )
    }

    /// Fetch, verify and install. Caller holds `fetch_lock`.
    fn fetch_locked(&self, client: &Client, now: Instant) -> Result<()> {
        let Some(http) = client.http() else {
            return err(ErrorKind::InvalidConfig, "a revocation list needs a remote issuer");
        };
        let (etag, held) = {
            let st = self.state.load();
            (if st.list.is_some() { st.etag.clone() } else { None }, st.list.clone())
        };
        self.stats.fetches.fetch_add(1, Ordering::Relaxed);
        metrics::REVOCATION_FETCHES.inc();
        emit(Level::Info, "oidc::revocation", || format!("fetching the revocation list {}", redact(&self.url)));
        let mut req = HttpRequest {
            method: "GET",
            url: self.url.clone(),
            headers: vec![("Accept", "application/jwt, application/revocation-list+jwt".to_string())],
            ..Default::default()
        };
        if let Some(t) = &etag {
            req.headers.push(("If-None-Match", t.clone()));
        }
        let result = http.send(&req).and_then(|resp| match resp.status {
            304 if etag.is_some() => Ok((None, resp.header("etag").map(str::to_string))),
            200 => {
                let mime = resp.mime();
                if !matches!(mime.as_str(), "application/jwt" | "application/revocation-list+jwt" | "application/jose") {
                    return invalid(format!("expected application/jwt, got '{}'", printable(&mime)));
                }
                let list = self.verify(client, &resp.body, held.as_deref())?;
                Ok((Some(list), resp.header("etag").map(str::to_string)))
            }
            s => {
                let mut e = Error::new(ErrorKind::HttpStatus, format!("HTTP {s} from {}", redact(&self.url))).with_server_status(s);
                if matches!(s, 429 | 503) {
                    if let Some(d) = resp.header("retry-after").and_then(|v| super::http::parse_retry_after(v, unix_now())) {
                        e = e.with_retry_after(d);
                    }
                }
                Err(e)
            }
        });
        let mut st = State::clone(&self.state.load());
        let out = match result {
            Ok((list, new_etag)) => {
                match list {
                    None => {
                        self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
                        emit(Level::Debug, "oidc::revocation", || {
                            format!("revocation list {} not modified; fresh for {} s more", redact(&self.url), st.interval.as_secs())
                        });
                    }
                    Some(l) => {
                        let unchanged = held.as_ref().is_some_and(|h| h.version == l.version);
                        st.interval = self.interval(l.next_update);
                        if !unchanged {
                            emit(Level::Info, "oidc::revocation", || {
                                format!(
                                    "revocation list {} version {}: {} kids, {} jtis revoked; next update in {} s",
                                    redact(&self.url),
                                    l.version,
                                    l.kids.len(),
                                    l.jtis.len(),
                                    st.interval.as_secs()
                                )
                            });
                            st.list = Some(Arc::new(l));
                        }
                        st.etag = new_etag.clone();
                    }
                }
                if new_etag.is_some() {
                    st.etag = new_etag;
                }
                if st.interval.is_zero() {
                    st.interval = self.cfg.min_interval;
                }
                st.fresh_until = Some(now + st.interval);
                st.last_failure = None;
                st.retry_at = None;
                st.open_logged = false;
                Ok(())
            }
            Err(e) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                metrics::REVOCATION_FAILURES.inc();
                emit(Level::Warn, "oidc::revocation", || format!("revocation list fetch failed: {}", e.message()));
                if !matches!(e.kind(), ErrorKind::Cancelled | ErrorKind::DeadlineExceeded) {
                    st.retry_at = Some(now + client.cache_policy().backoff(&e));
                }
                st.last_failure = Some(e.clone());
                Err(e)
            }
        };
        let cancelled = out.as_ref().is_err_and(|e| matches!(e.kind(), ErrorKind::Cancelled | ErrorKind::DeadlineExceeded));
        self.state.store(Arc::new(st));
        if !cancelled {
            self.attempts.fetch_add(1, Ordering::AcqRel);
        }
        out
    }

    /// The poll interval for a list whose `next_update` is `next` (Unix seconds).
    fn interval(&self, next: i64) -> Duration {
        let left = next.saturating_sub(unix_now()).max(0) as u64;
        Duration::from_secs(left).clamp(self.cfg.min_interval, self.cfg.max_interval)
    }

    /// Verify a fetched list with the client's keys and policy, then the no-rollback rule.
    fn verify(&self, client: &Client, body: &[u8], held: Option<&RevocationList>) -> Result<RevocationList> {
        let text = std::str::from_utf8(body).map_err(|_| Error::new(ErrorKind::ResponseInvalid, "revocation list: not UTF-8"))?;
        let text = text.trim();
        let cp = client.policy();
        let policy = Policy {
            issuer: client.config().issuer.clone(),
            audiences: Vec::new(),
            any_audience: true,
            algorithms: cp.algorithms,
            leeway_secs: cp.leeway_secs,
            required_claims: Vec::new(),
            expected_typ: Some(REVOCATION_TYP.to_string()),
            max_token_bytes: client.config().max_response_bytes,
            require_exp: false,
            logout_token: false,
            accept_encrypted: false,
        };
        let wrap = |e: Error| Error::new(ErrorKind::ResponseInvalid, format!("revocation list refused: {}", e.message()));
        let mut t = parse_token(text, &policy).map_err(wrap)?;
        if let (Some(h), Some(kid)) = (held, t.kid.as_deref()) {
            if h.kid_revoked(kid) {
                return invalid(format!("signed with the revoked key '{}'", printable(kid)));
            }
        }
        client.verify_only(&t).map_err(wrap)?;
        let kid = t.kid.take();
        let v = t.check_claims(&policy, unix_now() as f64).map_err(wrap)?;
        let list = RevocationList::parse_claims(v.claims.as_bytes(), Some(&client.config().issuer), unix_now())?;
        if let Some(kid) = kid.as_deref() {
            if list.kid_revoked(kid) {
                return invalid(format!("signed with a key it revokes ('{}')", printable(kid)));
            }
        }
        if let Some(h) = held {
            if list.version < h.version || (list.version == h.version && list.digest != h.digest) {
                self.stats.rollbacks_refused.fetch_add(1, Ordering::Relaxed);
                let what = if list.version < h.version { "an older version" } else { "the same version with other content" };
                emit(Level::Warn, "oidc::revocation", || {
                    format!(
                        "revocation list {} refused: {what} ({} after {}); keeping the held list",
                        redact(&self.url),
                        list.version,
                        h.version
                    )
                });
                return invalid(format!("version {} is {what} than the held version {} (rollback refused)", list.version, h.version));
            }
        }
        Ok(list)
    }
}

impl Client {
    /// Drop the cached keys of `issuer` (`None`: of every issuer of this validator) at once:
    /// the next validation refetches them. Returns how many key sets were dropped;
    /// `InvalidArgument` when `issuer` is not one of this validator's issuers.
    pub fn drop_keys(&self, issuer: Option<&str>) -> Result<usize> {
        let clients: Vec<Client> = match self.router() {
            Some(r) => r.all_clients(),
            None => vec![self.clone()],
        };
        let mut matched = false;
        let mut dropped = 0;
        for c in &clients {
            if issuer.is_some_and(|i| i != c.config().issuer) {
                continue;
            }
            matched = true;
            if let Some(e) = c.cache_entry() {
                e.drop_keys();
                dropped += 1;
                emit(Level::Info, "oidc::cache", || format!("keys of {} dropped by the operator", redact(&c.config().issuer)));
            }
            if let Some(t) = c.token_cache() {
                t.clear();
            }
        }
        if !matched {
            return err(ErrorKind::InvalidArgument, "drop_keys: not an issuer of this validator");
        }
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(extra: &str) -> Vec<u8> {
        format!(r#"{{"iss":"https://i","iat":1,"next_update":2,"version":3{extra}}}"#).into_bytes()
    }

    #[test]
    fn parses_the_documented_shape() {
        let c = claims(r#","revoked_kids":["k1"],"revoked_jtis":[{"jti":"a","exp":9999999999},{"jti":"old","exp":5}]"#);
        let l = RevocationList::parse_claims(&c, Some("https://i"), 1_000_000).unwrap();
        assert_eq!((l.version, l.iat, l.next_update), (3, 1, 2));
        assert!(l.kid_revoked("k1") && !l.kid_revoked("k2"));
        assert!(l.jti_revoked("a") && !l.jti_revoked("old"), "an entry past its exp is dropped");
        assert!(RevocationList::parse_claims(&claims(""), Some("https://i"), 0).unwrap().is_empty());
    }

    #[test]
    fn refuses_bad_lists() {
        let bad = |c: &[u8]| RevocationList::parse_claims(c, Some("https://i"), 0).unwrap_err().kind();
        assert_eq!(bad(b"[]"), ErrorKind::ResponseInvalid);
        assert_eq!(bad(br#"{"iss":"https://other","iat":1,"next_update":2,"version":3}"#), ErrorKind::ResponseInvalid);
        assert_eq!(bad(br#"{"iss":"https://i","iat":1,"next_update":2}"#), ErrorKind::ResponseInvalid);
        assert_eq!(bad(br#"{"iss":"https://i","iat":1,"next_update":2,"version":-1}"#), ErrorKind::ResponseInvalid);
        assert_eq!(bad(br#"{"iss":"https://i","iat":1,"next_update":2,"version":1.5}"#), ErrorKind::ResponseInvalid);
        assert_eq!(bad(br#"{"iss":"https://i","iat":1e300,"next_update":2,"version":1}"#), ErrorKind::ResponseInvalid);
        assert_eq!(bad(&claims(r#","revoked_kids":[""]"#)), ErrorKind::ResponseInvalid);
        assert_eq!(bad(&claims(r#","revoked_jtis":[{"jti":"x"}]"#)), ErrorKind::ResponseInvalid);
        let many = format!(",\"revoked_kids\":[{}]", (0..=MAX_REVOKED_KIDS).map(|i| format!("\"k{i}\"")).collect::<Vec<_>>().join(","));
        assert_eq!(bad(&claims(&many)), ErrorKind::ResponseInvalid);
    }

    #[test]
    fn config_checks() {
        let mut r = RevocationConfig::new(RevocationPolicy::FailClosed);
        assert!(r.check("https://idp.example/realm/", false).is_ok());
        assert_eq!(r.url_for("https://idp.example/realm/"), "https://idp.example/realm/.well-known/revocation-list");
        r.min_interval = Duration::from_secs(100);
        r.max_interval = Duration::from_secs(50);
        assert_eq!(r.check("https://i", false).unwrap_err().kind(), ErrorKind::InvalidConfig);
        let mut r = RevocationConfig::new(RevocationPolicy::FailOpen);
        r.url = Some("http://127.0.0.1:1/rl".into());
        assert_eq!(r.check("https://i", false).unwrap_err().kind(), ErrorKind::InsecureUrl);
        assert!(r.check("https://i", true).is_ok());
        r.url = Some("not a url".into());
        assert!(r.check("https://i", true).is_err());
        assert_eq!(RevocationPolicy::from_u32(0).unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(RevocationPolicy::from_u32(2).unwrap(), RevocationPolicy::FailOpen);
    }
}
