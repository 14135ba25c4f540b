//! The validating client: one per issuer (or static key set), shared by every thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arc_swap::{ArcSwap, ArcSwapOption};

use super::cache::{CacheEntry, CachePolicy, GLOBAL, Need};
use super::config::{Config, KeySource};
use super::discovery::{Metadata, discover};
use super::error::{Error, ErrorKind, Result, err};
use super::http::Http;
use super::jwks::{KeySet, Lookup};
use super::log::{Level, emit};
use super::metrics;
use super::runtime::ForkMutex;
use super::snapshot;
use super::url::redact;
use super::validate::{Policy, Validated, parse_token};

/// Seconds since the Unix epoch, as a float (NumericDate).
pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

#[derive(Default, Clone)]
struct DiscoveryState {
    metadata: Option<Arc<Metadata>>,
    last_failure: Option<(Instant, Error)>,
}

struct Remote {
    /// Set when the JWKS URL is configured directly (no discovery).
    fixed_jwks_uri: Option<String>,
    /// Lock-free reads; replaced whole under `discovery_lock` (fork-safe, see `runtime`).
    discovery: ArcSwap<DiscoveryState>,
    discovery_lock: ForkMutex,
    discovery_attempts: AtomicU64,
    discovery_fetches: AtomicU64,
    entry: ArcSwapOption<CacheEntry>,
}

enum Source {
    Static(Arc<KeySet>),
    Remote(Box<Remote>),
}

struct Inner {
    cfg: Config,
    policy: Policy,
    cache_policy: CachePolicy,
    http: Option<Http>,
    source: Source,
}

/// A validating client. Cloning is cheap (an `Arc`); every method takes `&self` and may run
/// concurrently from any number of threads.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("issuer", &self.inner.cfg.issuer).finish()
    }
}

impl Client {
    /// Check `cfg` and build the client. Every configuration error surfaces here; no network.
    pub fn new(cfg: Config) -> Result<Client> {
        cfg.check()?;
        let policy = Policy::from_config(&cfg);
        let cache_policy = CachePolicy::from_config(&cfg);
        let (http, source) = match &cfg.key_source {
            KeySource::Static(doc) => {
                if let Some(ca) = &cfg.ca_file {
                    super::http::check_ca_file(ca)?;
                }
                (None, Source::Static(Arc::new(KeySet::parse(doc.as_bytes())?)))
            }
            KeySource::Discovery | KeySource::JwksUri(_) => {
                let fixed = match &cfg.key_source {
                    KeySource::JwksUri(u) => Some(u.clone()),
                    _ => None,
                };
                let http = Http::new(&cfg)?;
                let remote = Remote {
                    entry: ArcSwapOption::new(fixed.as_deref().map(|u| GLOBAL.entry(u, http.trust_id()))),
                    fixed_jwks_uri: fixed,
                    discovery: ArcSwap::from_pointee(DiscoveryState::default()),
                    discovery_lock: ForkMutex::new(),
                    discovery_attempts: AtomicU64::new(0),
                    discovery_fetches: AtomicU64::new(0),
                };
                (Some(http), Source::Remote(Box::new(remote)))
            }
        };
        Ok(Client { inner: Arc::new(Inner { cfg, policy, cache_policy, http, source }) })
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &Config {
        &self.inner.cfg
    }

    /// The client's HTTP agent (`None` for a static key set).
    pub fn http(&self) -> Option<&Http> {
        self.inner.http.as_ref()
    }

    /// The token bytes a host received (an `Authorization` header's bytes) as the policy sees
    /// them: more than `max_token_bytes`, or not UTF-8, is the token's fault (`TokenTooLarge`,
    /// `TokenMalformed`: a 401 for the remote party), not a misuse by the host. The size is
    /// checked before a byte is read. Such a rejection counts as a failed validation. Both
    /// transports (blocking and non-blocking) take token bytes through here.
    pub fn token_from_bytes<'a>(&self, bytes: &'a [u8]) -> Result<&'a str> {
        let max = self.inner.cfg.max_token_bytes;
        let r = if bytes.len() > max {
            Err(Error::new(ErrorKind::TokenTooLarge, format!("token is {} bytes; the limit is {max}", bytes.len())))
        } else {
            std::str::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::TokenMalformed, "token is not valid UTF-8"))
        };
        if let Err(e) = &r {
            metrics::validation(Err(e.kind()));
        }
        r
    }

    /// Validate `token` now.
    pub fn validate(&self, token: &str) -> Result<Validated> {
        self.validate_at(token, unix_now())
    }

    /// Validate `token` as of `now` (Unix seconds): reproducible tests, replay of recorded traffic.
    /// Key-cache timing still follows the client's monotonic clock.
    pub fn validate_at(&self, token: &str, now: f64) -> Result<Validated> {
        let r = self.validate_with_policy(token, now, &self.inner.policy);
        metrics::validation(r.as_ref().map(|_| ()).map_err(|e| e.kind()));
        r
    }

    /// Validate `token` as of `now` with this client's policy adjusted by `adjust` (same parse,
    /// key lookup, signature and claim checks). The protocol clients use it for tokens whose
    /// rules differ slightly from access tokens: ID tokens (no `typ`), RFC 9701 introspection
    /// responses (`typ` `token-introspection+jwt`, no `exp`).
    pub fn validate_adjusted(&self, token: &str, now: f64, adjust: impl FnOnce(&mut Policy)) -> Result<Validated> {
        let mut policy = self.inner.policy.clone();
        adjust(&mut policy);
        self.validate_with_policy(token, now, &policy)
    }

    fn validate_with_policy(&self, token: &str, now: f64, policy: &Policy) -> Result<Validated> {
        let t = parse_token(token, policy)?;
        let keys = self.keys(Need::Keys)?;
        let kid = t.kid.as_deref();
        let verified = match keys.find(kid, t.alg) {
            Lookup::Found(k) => k.verify(t.alg, t.signing_input, &t.signature),
            Lookup::Rejected(m) => return err(ErrorKind::KeyRejected, m),
            Lookup::Mismatch(m) => return err(ErrorKind::AlgorithmNotAllowed, m),
            Lookup::Missing(first) => {
                if matches!(self.inner.source, Source::Static(_)) {
                    return err(ErrorKind::UnknownKey, first);
                }
                let fresh = self.keys(Need::UnknownKid)?;
                match fresh.find(kid, t.alg) {
                    Lookup::Found(k) => k.verify(t.alg, t.signing_input, &t.signature),
                    Lookup::Rejected(m) => return err(ErrorKind::KeyRejected, m),
                    Lookup::Mismatch(m) => return err(ErrorKind::AlgorithmNotAllowed, m),
                    Lookup::Missing(m) => return err(ErrorKind::UnknownKey, m),
                }
            }
        };
        verified?;
        t.check_claims(policy, now)
    }

    /// Build the client and warm it as `cfg.prefetch` says: nothing, a blocking fail-fast
    /// prefetch (the error is returned instead of a client), or a background prefetch on the
    /// worker pool.
    pub fn start(cfg: Config) -> Result<Client> {
        let mode = cfg.prefetch;
        let c = Client::new(cfg)?;
        match mode {
            super::config::Prefetch::None => {}
            super::config::Prefetch::FailFast => c.prefetch()?,
            super::config::Prefetch::Background => {
                let bg = c.clone();
                let queued = super::pool::execute(move || {
                    if let Err(e) = bg.prefetch() {
                        emit(Level::Warn, "oidc::discovery", || format!("background prefetch failed: {}", e.message()));
                    }
                });
                if let Err(e) = queued {
                    emit(Level::Warn, "oidc::pool", || format!("background prefetch not started: {}", e.message()));
                }
            }
        }
        Ok(c)
    }

    /// Discovery (if configured) and the key set, fetched now if not cached. For warm start.
    pub fn prefetch(&self) -> Result<()> {
        self.keys(Need::Keys).map(|_| ())
    }

    /// The issuer metadata, once discovered.
    pub fn metadata(&self) -> Option<Arc<Metadata>> {
        match &self.inner.source {
            Source::Remote(r) => r.discovery.load().metadata.clone(),
            Source::Static(_) => None,
        }
    }

    /// Discover the issuer's metadata now (single-flight), or return what is cached.
    pub fn discover(&self) -> Result<Arc<Metadata>> {
        let Source::Remote(r) = &self.inner.source else {
            return err(ErrorKind::InvalidConfig, "a static key set client has no issuer metadata");
        };
        if let Some(m) = r.discovery.load().metadata.clone() {
            return Ok(m);
        }
        let http = self.inner.http.as_ref().expect("remote clients have http");
        let now = self.inner.cfg.clock.now();
        let seen = r.discovery_attempts.load(Ordering::Acquire);
        // Messages wait until the lock is released (a log callback may call liboidc). Declared
        // first, so it drops last.
        let _log_hold = super::log::hold();
        let _g = r.discovery_lock.lock();
        {
            let st = r.discovery.load();
            if let Some(m) = &st.metadata {
                return Ok(m.clone());
            }
            if let Some((t, e)) = &st.last_failure {
                if r.discovery_attempts.load(Ordering::Acquire) != seen
                    || now < *t + self.inner.cache_policy.retry_after_failure
                {
                    return Err(e.clone());
                }
            }
        }
        let cfg = &self.inner.cfg;
        // A warm start: metadata from an imported snapshot, checked by the same rules.
        if let Some(m) = snapshot::imported_metadata(&cfg.issuer, cfg.allow_http_loopback) {
            let m = Arc::new(m);
            r.discovery.store(Arc::new(DiscoveryState { metadata: Some(m.clone()), last_failure: None }));
            r.discovery_attempts.fetch_add(1, Ordering::AcqRel);
            return Ok(m);
        }
        r.discovery_fetches.fetch_add(1, Ordering::Relaxed);
        metrics::DISCOVERY_FETCHES.inc();
        emit(Level::Info, "oidc::discovery", || format!("discovering the metadata of {}", redact(&cfg.issuer)));
        let result = discover(http, &cfg.issuer, cfg.allow_http_loopback);
        let mut st = DiscoveryState::clone(&r.discovery.load());
        let out = match result {
            Ok(m) => {
                let m = Arc::new(m);
                snapshot::remember_metadata(&m);
                st.metadata = Some(m.clone());
                st.last_failure = None;
                Ok(m)
            }
            Err(e) => {
                metrics::DISCOVERY_FAILURES.inc();
                emit(Level::Warn, "oidc::discovery", || format!("discovery failed: {}", e.message()));
                st.last_failure = Some((now, e.clone()));
                Err(e)
            }
        };
        r.discovery.store(Arc::new(st));
        r.discovery_attempts.fetch_add(1, Ordering::AcqRel);
        out
    }

    /// The shared cache entry of this client's JWKS URL (after discovery).
    pub fn cache_entry(&self) -> Option<Arc<CacheEntry>> {
        match &self.inner.source {
            Source::Remote(r) => r.entry.load_full(),
            Source::Static(_) => None,
        }
    }

    /// The cache-timing policy of this client.
    pub fn cache_policy(&self) -> &CachePolicy {
        &self.inner.cache_policy
    }

    /// How many discovery requests this client made.
    pub fn discovery_fetches(&self) -> u64 {
        match &self.inner.source {
            Source::Remote(r) => r.discovery_fetches.load(Ordering::Relaxed),
            Source::Static(_) => 0,
        }
    }

    fn entry(&self, r: &Remote) -> Result<Arc<CacheEntry>> {
        if let Some(e) = r.entry.load_full() {
            return Ok(e);
        }
        debug_assert!(r.fixed_jwks_uri.is_none());
        let m = self.discover()?;
        // Every racer gets the same entry for the (URL, trust), so storing it twice is harmless.
        let trust = self.inner.http.as_ref().map(Http::trust_id).unwrap_or(0);
        let e = GLOBAL.entry(&m.jwks_uri, trust);
        r.entry.store(Some(e.clone()));
        Ok(e)
    }

    fn keys(&self, need: Need) -> Result<Arc<KeySet>> {
        let r = match &self.inner.source {
            Source::Static(k) => return Ok(k.clone()),
            Source::Remote(r) => r,
        };
        let entry = self.entry(r)?;
        let http = self.inner.http.as_ref().expect("remote clients have http");
        let now = self.inner.cfg.clock.now();
        if need == Need::Keys {
            if let Some(k) = entry.fresh(now, http, &self.inner.cache_policy) {
                metrics::CACHE_HITS.inc();
                return Ok(k);
            }
        }
        metrics::CACHE_MISSES.inc();
        entry.get(http, &self.inner.cache_policy, now, need)
    }
}
