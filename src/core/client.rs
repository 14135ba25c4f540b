//! The validating client: one per issuer (or static key set), shared by every thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arc_swap::{ArcSwap, ArcSwapOption};

use super::cache::{CacheEntry, CachePolicy, GLOBAL, Need};
use super::config::Algorithm;
use super::config::{Config, KeySource};
use super::discovery::{Metadata, discover};
use super::error::{Error, ErrorKind, Result, err};
use super::http::Http;
use super::jose::jwe;
use super::jwks::{KeySet, Lookup};
use super::log::{Level, emit};
use super::metrics;
use super::runtime::ForkMutex;
use super::snapshot;
use super::token_cache::{Entry, TokenCache};
use super::url::redact;
use super::validate::{ParsedToken, Policy, Validated, normalize_typ, parse_token};

/// Seconds since the Unix epoch, as a float (NumericDate).
pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

thread_local! {
    /// Set when this thread's last `keys(Need::Keys)` had to fetch (or wait for a fetch); read
    /// and cleared by the next `keys` call (see `Client::keys`).
    static FETCHED_THIS_VALIDATION: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
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
    /// The verified-token cache (`None` when `token_cache_size` is 0).
    tokens: Option<TokenCache>,
    /// Several issuers (`cfg.issuers` not empty): every token goes to the issuer it names,
    /// whose own client decides it. `None`: this client is the one issuer (today's path).
    router: Option<Box<super::multi::Router>>,
    /// The issuer's signed revocation list (`cfg.revocation`), checked after the claims.
    revocation: Option<Box<super::revocation::Checker>>,
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
        if !cfg.issuers.is_empty() {
            let router = super::multi::Router::new(&cfg)?;
            let policy = Policy::from_config(&cfg);
            let cache_policy = CachePolicy::from_config(&cfg);
            // The router owns no keys: the chosen issuer's client verifies.
            let source = Source::Static(Arc::new(KeySet::parse(br#"{"keys":[]}"#)?));
            let inner =
                Inner { cfg, policy, cache_policy, http: None, source, tokens: None, router: Some(Box::new(router)), revocation: None };
            return Ok(Client { inner: Arc::new(inner) });
        }
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
        let tokens = (cfg.token_cache_size > 0).then(|| TokenCache::new(cfg.token_cache_size));
        let revocation = cfg.revocation.as_ref().map(|r| Box::new(super::revocation::Checker::new(&cfg, r)));
        Ok(Client { inner: Arc::new(Inner { cfg, policy, cache_policy, http, source, tokens, router: None, revocation }) })
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

    /// Whether this validator routes tokens to several issuers.
    pub fn is_multi_issuer(&self) -> bool {
        self.inner.router.is_some()
    }

    /// Validate `token` as of `now` (Unix seconds): reproducible tests, replay of recorded traffic.
    /// Key-cache timing still follows the client's monotonic clock.
    ///
    /// A token that validated before (the exact same bytes) is answered from the verified-token
    /// cache without parsing or the signature check, after the checks a hit still needs: the
    /// verifying key is still in the issuer's current key set, and `exp` / `nbf` / `iat` hold at
    /// `now` (same leeway, codes and messages as a full validation).
    pub fn validate_at(&self, token: &str, now: f64) -> Result<Validated> {
        if self.inner.policy.accept_encrypted && jwe::looks_like_jwe(token) {
            // The nested token then takes the path of every signed token (cache, issuers).
            let inner = match self.decrypt_nested(token) {
                Ok(t) => t,
                Err(e) => {
                    metrics::validation(Err(e.kind()));
                    return Err(e);
                }
            };
            return self.validate_at(&inner, now);
        }
        if let Some(router) = &self.inner.router {
            return router.validate_at(token, now);
        }
        let r = match &self.inner.tokens {
            Some(cache) => self.validate_cached(cache, token, now),
            None => self.validate_with_policy(token, now, &self.inner.policy),
        };
        metrics::validation(r.as_ref().map(|_| ()).map_err(|e| e.kind()));
        r
    }

    /// Validate `token` as of `now` with this client's policy adjusted by `adjust` (same parse,
    /// key lookup, signature and claim checks). The protocol clients use it for tokens whose
    /// rules differ slightly from access tokens: ID tokens (no `typ`), RFC 9701 introspection
    /// responses (`typ` `token-introspection+jwt`, no `exp`). It never uses the verified-token
    /// cache, whose entries passed the client's own policy.
    pub fn validate_adjusted(&self, token: &str, now: f64, adjust: impl FnOnce(&mut Policy)) -> Result<Validated> {
        let mut policy = self.inner.policy.clone();
        policy.accept_encrypted = true;
        adjust(&mut policy);
        if policy.accept_encrypted && jwe::looks_like_jwe(token) {
            let inner = self.decrypt_nested(token)?;
            return self.validate_with_policy(&inner, now, &policy);
        }
        self.validate_with_policy(token, now, &policy)
    }

    /// Decrypt a compact JWE with this client's keys and algorithm allow-list (no validation of
    /// what it holds).
    pub fn decrypt(&self, token: &str) -> Result<jwe::Decrypted> {
        let cfg = &self.inner.cfg;
        if cfg.decryption_keys.is_empty() {
            return err(
                ErrorKind::TokenMalformed,
                "the token is encrypted (JWE) but no decryption key is configured (add the client's private encryption key)",
            );
        }
        if token.len() > cfg.max_token_bytes.saturating_mul(2) {
            return err(
                ErrorKind::TokenTooLarge,
                format!("encrypted token is {} bytes; the limit is {}", token.len(), cfg.max_token_bytes * 2),
            );
        }
        jwe::decrypt(token, &cfg.decryption_keys, &cfg.decryption_algorithms, cfg.max_token_bytes)
    }

    /// Decrypt a nested JWT (RFC 7519 §5.2: `cty` "JWT") and return the signed token inside.
    pub(crate) fn decrypt_nested(&self, token: &str) -> Result<String> {
        let d = self.decrypt(token)?;
        match d.cty.as_deref().map(normalize_typ) {
            Some(c) if c == "jwt" => {}
            _ => {
                return err(
                    ErrorKind::TokenMalformed,
                    "the encrypted token does not hold a signed JWT (its cty is not JWT): an encrypted token must be nested (signed, then encrypted)",
                );
            }
        }
        let inner =
            String::from_utf8(d.plaintext).map_err(|_| Error::new(ErrorKind::TokenMalformed, "the decrypted token is not UTF-8"))?;
        if jwe::looks_like_jwe(&inner) {
            return err(ErrorKind::TokenMalformed, "the decrypted token is encrypted again: one level of encryption is accepted");
        }
        Ok(inner)
    }

    fn validate_with_policy(&self, token: &str, now: f64, policy: &Policy) -> Result<Validated> {
        let mut t = parse_token(token, policy)?;
        let keys = self.verify(&t, None)?;
        let kid = t.kid.take();
        let v = t.check_claims(policy, now)?;
        self.check_revoked(kid.as_deref(), &keys, &v)?;
        Ok(v)
    }

    /// The revocation-list check of an authentic token whose claims passed (`kid`: the header's).
    #[inline]
    fn check_revoked(&self, kid: Option<&str>, keys: &KeySet, v: &Validated) -> Result<()> {
        match &self.inner.revocation {
            None => Ok(()),
            Some(r) => r.check(self, kid, keys, v.alg, v.jti().as_deref()),
        }
    }

    /// The revocation checker (`None` when no list is configured).
    pub fn revocation(&self) -> Option<&super::revocation::Checker> {
        self.inner.revocation.as_deref()
    }

    /// Find the token's key and check the signature. Returns the key set that held the key.
    /// `current`: the keys this validation already looked at (a cache hit whose key was gone),
    /// so that a missing `kid` is handled as after any first look (see `keys`).
    #[inline]
    fn verify(&self, t: &ParsedToken, current: Option<Arc<KeySet>>) -> Result<Arc<KeySet>> {
        self.verify_with(t.alg, t.kid.as_deref(), t.signing_input, &t.signature, current)
    }

    /// Key lookup (`kid`, `alg`), one refresh for an unknown `kid` (remote key sets), and the
    /// signature check: the one path every signature liboidc verifies takes (tokens, detached
    /// and unencoded JWS). Returns the key set that held the key.
    #[inline]
    fn verify_with(
        &self,
        alg: Algorithm,
        kid: Option<&str>,
        signing_input: &[u8],
        signature: &[u8],
        current: Option<Arc<KeySet>>,
    ) -> Result<Arc<KeySet>> {
        let keys = match current {
            Some(k) => k,
            None => self.keys(Need::Keys)?,
        };
        match keys.find(kid, alg) {
            Lookup::Found(k) => k.verify(alg, signing_input, signature)?,
            Lookup::Rejected(m) => return err(ErrorKind::KeyRejected, m),
            Lookup::Mismatch(m) => return err(ErrorKind::AlgorithmNotAllowed, m),
            Lookup::Missing(first) => {
                if matches!(self.inner.source, Source::Static(_)) {
                    return err(ErrorKind::UnknownKey, first);
                }
                let fresh = self.keys(Need::UnknownKid)?;
                match fresh.find(kid, alg) {
                    Lookup::Found(k) => k.verify(alg, signing_input, signature)?,
                    Lookup::Rejected(m) => return err(ErrorKind::KeyRejected, m),
                    Lookup::Mismatch(m) => return err(ErrorKind::AlgorithmNotAllowed, m),
                    Lookup::Missing(m) => return Err(self.unknown_key(m)),
                }
                return Ok(fresh);
            }
        }
        Ok(keys)
    }

    /// `validate_at` through the verified-token cache.
    fn validate_cached(&self, cache: &TokenCache, token: &str, now: f64) -> Result<Validated> {
        let hash = cache.hash(token.as_bytes());
        let mut current = None;
        if let Some(e) = cache.get(hash, token.as_bytes()) {
            match self.check_hit(cache, hash, &e, now) {
                Hit::Answer(r) => {
                    metrics::TOKEN_CACHE_HITS.inc();
                    return r;
                }
                Hit::KeyGone(keys) => current = keys,
            }
        }
        metrics::TOKEN_CACHE_MISSES.inc();
        let policy = &self.inner.policy;
        let mut t = parse_token(token, policy)?;
        let keys = self.verify(&t, current)?;
        let kid = t.kid.take();
        let (v, times) = t.check_claims_timed(policy, now)?;
        self.check_revoked(kid.as_deref(), &keys, &v)?;
        cache.insert(hash, Entry::new(token, &v, kid.as_deref(), times, keys, policy.leeway_secs), now);
        Ok(v)
    }

    /// The answer to a cache hit, or [`Hit::KeyGone`] when the verifying key is no longer in the
    /// issuer's current key set (the entry is dropped; the caller validates the token in full,
    /// which gives the precise error or follows a rotation). An expired entry is dropped too.
    /// The entry keeps the key set that verified it; after a refresh the comparison with the
    /// current set (a kid lookup and a byte comparison) runs on every hit, a few ns.
    fn check_hit(&self, cache: &TokenCache, hash: u64, e: &Arc<Entry>, now: f64) -> Hit {
        // A static set is borrowed (no reference count touched on the hot path).
        let (fixed, fetched) = match &self.inner.source {
            Source::Static(k) => (Some(k), None),
            Source::Remote(_) => match self.keys(Need::Keys) {
                Ok(k) => (None, Some(k)),
                Err(x) => return Hit::Answer(Err(x)),
            },
        };
        let Some(current) = fixed.or(fetched.as_ref()) else { return Hit::KeyGone(None) };
        // A new key set (a refresh) must still hold the key, with the same material.
        if !Arc::ptr_eq(&e.keys, current) && !same_key(&e.keys, current, e.kid(), e.alg) {
            cache.remove(hash, e);
            return Hit::KeyGone(fetched);
        }
        if let Err(x) = e.times.check(self.inner.policy.leeway_secs, now) {
            if x.kind() == ErrorKind::TokenExpired {
                cache.remove(hash, e);
            }
            return Hit::Answer(Err(x));
        }
        // The list of now, not of the first validation: a revocation applies to cached tokens.
        if let Some(r) = &self.inner.revocation {
            let jti = e.jti.and_then(|s| s.get(e.claims()));
            if let Err(x) = r.check(self, e.kid(), &e.keys, e.alg, jti.as_deref()) {
                return Hit::Answer(Err(x));
            }
        }
        // One spare byte: the C ABI appends the NUL without reallocating.
        let mut claims = String::with_capacity(e.claims().len() + 1);
        claims.push_str(e.claims());
        Hit::Answer(Ok(Validated { claims, alg: e.alg, exp: e.times.exp, cnf: e.cnf.clone(), jti: e.jti }))
    }

    /// The token policy of this client (one issuer).
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Verify `signature` over `signing_input` with `alg` and the key `kid` names (or the one key
    /// that accepts `alg` when there is no `kid`), through the same key resolution as token
    /// validation: this client's key set, one refresh for an unknown `kid` (single-flight, with
    /// the cooldown), the same codes. `alg` must be in this client's allow-list
    /// (`AlgorithmNotAllowed` otherwise). A multi-issuer validator owns no keys and has no issuer
    /// to choose from a bare signature: `InvalidArgument` (use the issuer's own validator).
    /// `now` is the time of the check (Unix seconds).
    pub fn verify_signature(&self, alg: Algorithm, kid: Option<&str>, signing_input: &[u8], signature: &[u8], now: f64) -> Result<()> {
        let _ = now;
        if self.inner.router.is_some() {
            return err(
                ErrorKind::InvalidArgument,
                "a multi-issuer validator has no keys of its own: verify this signature with the issuer's own validator",
            );
        }
        if !self.inner.policy.algorithms.contains(alg) {
            return err(ErrorKind::AlgorithmNotAllowed, format!("algorithm {} is not in the allow-list", alg.name()));
        }
        self.verify_with(alg, kid, signing_input, signature, None).map(|_| ())
    }

    /// Key lookup and signature check of a parsed token against this client's own keys (explain
    /// mode): the key set's answer, the same codes as a validation.
    pub(crate) fn verify_only(&self, t: &ParsedToken) -> Result<()> {
        self.verify(t, None).map(|_| ())
    }

    /// The issuer table of a multi-issuer client (`None` for one issuer).
    pub fn router(&self) -> Option<&super::multi::Router> {
        self.inner.router.as_deref()
    }

    /// The verified-token cache (`None` when turned off).
    pub fn token_cache(&self) -> Option<&TokenCache> {
        self.inner.tokens.as_ref()
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
        if let Some(router) = &self.inner.router {
            return router.prefetch();
        }
        self.keys(Need::Keys)?;
        match &self.inner.revocation {
            Some(r) => r.prime(self),
            None => Ok(()),
        }
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
                if r.discovery_attempts.load(Ordering::Acquire) != seen || now < *t + self.inner.cache_policy.backoff(e) {
                    return Err(e.clone());
                }
            }
        }
        let cfg = &self.inner.cfg;
        // A warm start: metadata from an imported snapshot, checked by the same rules.
        if let Some(m) = snapshot::imported_metadata(&cfg.issuer, cfg.allow_http_loopback, http.trust_id()) {
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
                snapshot::remember_metadata(&m, http.trust_id());
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

    /// The error for a `kid` missing after the refresh it triggered: `UnknownKey` (401), or
    /// `KeysUnavailable` (503) when that refresh failed (an outage is not a forgery).
    fn unknown_key(&self, missing: String) -> Error {
        match self.cache_entry().and_then(|e| e.outage()) {
            Some(e) => {
                Error::new(ErrorKind::KeysUnavailable, format!("{missing}, and the key refresh failed ({}); retry later", e.message()))
            }
            None => Error::new(ErrorKind::UnknownKey, missing),
        }
    }

    /// The keys for a validation. `Need::Keys` is the validation's first look; `Need::UnknownKid`
    /// its second, for a `kid` missing from them. When the first look had to fetch (or wait for
    /// a fetch: a cold or expired entry), those keys are as new as the IdP has, so the second
    /// look takes them as they are instead of fetching again (issue 10 item 2: one request for a
    /// cold unknown kid); it does not start the unknown-kid cooldown either.
    fn keys(&self, need: Need) -> Result<Arc<KeySet>> {
        let r = match &self.inner.source {
            Source::Static(k) => return Ok(k.clone()),
            Source::Remote(r) => r,
        };
        let entry = self.entry(r)?;
        let http = self.inner.http.as_ref().expect("remote clients have http");
        let now = self.inner.cfg.clock.now();
        let fetched = FETCHED_THIS_VALIDATION.replace(false);
        if need == Need::Keys {
            if let Some(k) = entry.fresh(now, http, &self.inner.cache_policy) {
                metrics::CACHE_HITS.inc();
                return Ok(k);
            }
        } else if fetched {
            if let Some(k) = entry.fresh(now, http, &self.inner.cache_policy) {
                return Ok(k);
            }
        }
        metrics::CACHE_MISSES.inc();
        let out = entry.get(http, &self.inner.cache_policy, now, need);
        if need == Need::Keys {
            FETCHED_THIS_VALIDATION.set(true);
        }
        out
    }
}

/// What a verified-token cache hit gives.
enum Hit {
    /// The validation's answer (claims, or a time-claim or key-set error).
    Answer(Result<Validated>),
    /// The verifying key left the key set: validate in full, starting from these keys (a remote
    /// client's current set, already looked at) or from a first look of its own (`None`).
    KeyGone(Option<Arc<KeySet>>),
}

/// Whether `new` holds the key that `old` would use for `kid` and `alg`, with the same key
/// material (and so would verify the same signatures).
fn same_key(old: &KeySet, new: &KeySet, kid: Option<&str>, alg: Algorithm) -> bool {
    match (old.find(kid, alg), new.find(kid, alg)) {
        (Lookup::Found(a), Lookup::Found(b)) => a.key_bytes() == b.key_bytes(),
        _ => false,
    }
}
