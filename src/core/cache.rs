//! The process-wide key cache.
//!
//! One [`CacheEntry`] per JWKS URL, shared by every client that uses that URL. The hot path is a
//! read lock and an `Arc` clone. Fetches are single-flight: callers that find the keys missing,
//! expired or lacking their `kid` queue on one mutex; the first fetches, the others see the
//! attempt counter moved and take its result. Refreshes for an unknown `kid` happen at most once
//! per cooldown; a failed fetch is not retried for `retry_after_failure`; expired keys keep
//! serving for `stale_if_error` while refreshes fail; past [`REFRESH_AHEAD_FRACTION`] of the TTL a
//! background refresh runs so the request path never waits in steady state.
//!
//! Fork safety and lock-freedom: an entry's state is an immutable snapshot behind an `ArcSwap`
//! (readers never lock; writers replace it whole while holding the fetch lock, so a reader never
//! sees a half-updated entry), and the fetch lock is a [`ForkMutex`], so a fetch that a parent
//! thread was running at `fork()` time never blocks the child. Background refreshes run on the
//! worker pool ([`super::pool`]) of the current fork generation.
//!
//! Entries live in a bounded map (LRU eviction). A client keeps an `Arc` to its entry, so an
//! evicted entry lives on only as long as the clients using it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use once_cell::sync::Lazy;

use super::config::{Config, DEFAULT_CACHE_MAX_ENTRIES, REFRESH_AHEAD_FRACTION};
use super::error::{Error, ErrorKind, Result};
use super::http::Http;
use super::jwks::KeySet;
use super::log::{Level, emit};
use super::metrics;
use super::runtime::{ForkMutex, fork_generation};
use super::url::redact;

/// The cache-timing part of a client's configuration.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub ttl_min: Duration,
    pub ttl_max: Duration,
    pub ttl_default: Duration,
    pub cooldown: Duration,
    pub retry_after_failure: Duration,
    pub stale_if_error: Duration,
}

impl CachePolicy {
    pub fn from_config(c: &Config) -> CachePolicy {
        CachePolicy {
            ttl_min: c.jwks_ttl_min,
            ttl_max: c.jwks_ttl_max,
            ttl_default: c.jwks_ttl_default,
            cooldown: c.refresh_cooldown,
            retry_after_failure: c.retry_after_failure,
            stale_if_error: c.stale_if_error,
        }
    }

    /// TTL from `max-age`, clamped to `[ttl_min, ttl_max]`.
    pub fn ttl(&self, max_age: Option<u64>) -> Duration {
        let d = max_age.map(Duration::from_secs).unwrap_or(self.ttl_default);
        d.clamp(self.ttl_min, self.ttl_max)
    }
}

/// Why a caller wants a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// No usable keys (cold or expired).
    Keys,
    /// The keys are current but lack the token's key: refresh, bounded by the cooldown.
    UnknownKid,
}

/// Counters for tests and observability.
#[derive(Debug, Default)]
pub struct EntryStats {
    pub fetches: AtomicU64,
    pub not_modified: AtomicU64,
    pub failures: AtomicU64,
    pub cooldown_suppressed: AtomicU64,
    pub stale_served: AtomicU64,
    pub background_refreshes: AtomicU64,
}

#[derive(Default, Clone)]
struct State {
    keys: Option<Arc<KeySet>>,
    /// The JWKS document the keys were parsed from (for snapshots).
    raw: Option<Arc<str>>,
    fetched_at: Option<Instant>,
    expires_at: Option<Instant>,
    refresh_at: Option<Instant>,
    etag: Option<String>,
    last_failure: Option<(Instant, Error)>,
    last_kid_refresh: Option<Instant>,
}

impl State {
    /// Keys usable at `now`: fresh, or expired but within `stale_if_error` after a failure.
    fn usable(&self, now: Instant, stale_if_error: Duration) -> Option<(Arc<KeySet>, bool)> {
        let keys = self.keys.as_ref()?;
        let exp = self.expires_at?;
        if now < exp {
            Some((keys.clone(), false))
        } else if now < exp + stale_if_error {
            Some((keys.clone(), true))
        } else {
            None
        }
    }
}

/// The key set of one JWKS URL.
pub struct CacheEntry {
    url: String,
    /// The trust (roots + loopback opt-in) the keys were fetched under.
    trust: u64,
    state: ArcSwap<State>,
    fetch_lock: ForkMutex,
    /// Completed fetch attempts (success or failure): the single-flight generation.
    attempts: AtomicU64,
    /// `fork generation + 1` while a background refresh of that generation is queued or running.
    refreshing: AtomicU64,
    last_used: AtomicU64,
    pub stats: EntryStats,
}

impl std::fmt::Debug for CacheEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheEntry").field("url", &redact(&self.url)).finish()
    }
}

static TICK: AtomicU64 = AtomicU64::new(0);

impl CacheEntry {
    fn new(url: &str, trust: u64) -> CacheEntry {
        CacheEntry {
            url: url.to_string(),
            trust,
            state: ArcSwap::from_pointee(State::default()),
            fetch_lock: ForkMutex::new(),
            attempts: AtomicU64::new(0),
            refreshing: AtomicU64::new(0),
            last_used: AtomicU64::new(TICK.fetch_add(1, Ordering::Relaxed)),
            stats: EntryStats::default(),
        }
    }

    /// Mark the entry used (for LRU eviction). Writes the shared counter only when another
    /// entry was touched since, so a hot entry's cache line is not written on every validation.
    fn touch(&self) {
        let t = TICK.load(Ordering::Relaxed);
        if self.last_used.load(Ordering::Relaxed) != t {
            self.last_used.store(TICK.fetch_add(1, Ordering::Relaxed) + 1, Ordering::Relaxed);
        }
    }

    /// The trust id the keys are fetched under (see `Http::trust_id`).
    pub fn trust(&self) -> u64 {
        self.trust
    }

    /// The JWKS URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The current keys if they are fresh at `now`, without any network. Starts a background
    /// refresh when the refresh-ahead point has passed.
    pub fn fresh(self: &Arc<Self>, now: Instant, http: &Http, policy: &CachePolicy) -> Option<Arc<KeySet>> {
        self.touch();
        let st = self.state.load();
        let keys = st.keys.as_ref()?;
        let exp = st.expires_at?;
        if now >= exp {
            return None;
        }
        let ahead = st.refresh_at.is_some_and(|r| now >= r);
        let backoff = st.last_failure.as_ref().is_some_and(|(t, _)| now < *t + policy.retry_after_failure);
        let keys = keys.clone();
        drop(st);
        if ahead && !backoff {
            self.spawn_refresh(http, policy, now);
        }
        Some(keys)
    }

    fn spawn_refresh(self: &Arc<Self>, http: &Http, policy: &CachePolicy, now: Instant) {
        let mark = fork_generation() + 1;
        let cur = self.refreshing.load(Ordering::Acquire);
        if cur == mark || self.refreshing.compare_exchange(cur, mark, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return;
        }
        let me = self.clone();
        let http = http.clone();
        let policy = *policy;
        let queued = super::pool::execute(move || {
            me.stats.background_refreshes.fetch_add(1, Ordering::Relaxed);
            metrics::BACKGROUND_REFRESHES.inc();
            let seen = me.attempts.load(Ordering::Acquire);
            let log_hold = super::log::hold();
            let guard = me.fetch_lock.lock();
            if me.attempts.load(Ordering::Acquire) == seen {
                emit(Level::Debug, "oidc::cache", || format!("refreshing keys of {} ahead of expiry", redact(&me.url)));
                if me.fetch_locked(&http, &policy, now, false).is_err() || me.state.load().last_failure.is_some() {
                    metrics::REFRESH_FAILURES.inc();
                }
            }
            drop(guard);
            drop(log_hold);
            me.refreshing.store(0, Ordering::Release);
        });
        if queued.is_err() {
            self.refreshing.store(0, Ordering::Release);
        }
    }

    /// Get keys, fetching if needed (single-flight). `now` is the caller's monotonic time.
    pub fn get(&self, http: &Http, policy: &CachePolicy, now: Instant, need: Need) -> Result<Arc<KeySet>> {
        self.touch();
        let seen = self.attempts.load(Ordering::Acquire);
        // Messages wait until the lock is released: a log callback may call liboidc (issue 10
        // item 13). Declared first, so it drops last.
        let _log_hold = super::log::hold();
        let _guard = self.fetch_lock.lock();
        if self.attempts.load(Ordering::Acquire) != seen {
            // Somebody completed an attempt while we queued: share its outcome.
            return self.outcome(now, policy);
        }
        {
            let st = self.state.load();
            if let Some((t, e)) = st.last_failure.clone() {
                if now < t + policy.retry_after_failure {
                    drop(st);
                    return self.outcome_or(now, policy, Some(e));
                }
            }
            if need == Need::UnknownKid {
                if let Some(t) = st.last_kid_refresh {
                    if now < t + policy.cooldown {
                        self.stats.cooldown_suppressed.fetch_add(1, Ordering::Relaxed);
                        metrics::COOLDOWN_SUPPRESSED.inc();
                        emit(Level::Debug, "oidc::cache", || {
                            format!("unknown kid: refresh of {} suppressed by the cooldown", redact(&self.url))
                        });
                        if let Some((k, _)) = st.usable(now, policy.stale_if_error) {
                            return Ok(k);
                        }
                    }
                }
            }
        }
        if need == Need::UnknownKid {
            emit(Level::Info, "oidc::cache", || format!("unknown kid: refreshing keys of {}", redact(&self.url)));
        }
        self.fetch_locked(http, policy, now, need == Need::UnknownKid)
    }

    /// Replace the state with a modified copy. Caller holds `fetch_lock` (the only writers).
    fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = State::clone(&self.state.load());
        let r = f(&mut st);
        self.state.store(Arc::new(st));
        r
    }

    fn outcome(&self, now: Instant, policy: &CachePolicy) -> Result<Arc<KeySet>> {
        let e = self.state.load().last_failure.as_ref().map(|(_, e)| e.clone());
        self.outcome_or(now, policy, e)
    }

    fn outcome_or(&self, now: Instant, policy: &CachePolicy, e: Option<Error>) -> Result<Arc<KeySet>> {
        let st = self.state.load();
        match st.usable(now, policy.stale_if_error) {
            Some((k, stale)) => {
                if stale {
                    self.stats.stale_served.fetch_add(1, Ordering::Relaxed);
                    metrics::STALE_SERVED.inc();
                }
                Ok(k)
            }
            None => Err(e.unwrap_or_else(|| {
                Error::new(ErrorKind::Network, format!("no keys available from {}", redact(&self.url)))
            })),
        }
    }

    /// Fetch now. Caller holds `fetch_lock`. The new state is built aside and published in one
    /// store, so readers see the old state or the new one, never a mix. An unknown-`kid` refresh
    /// (`kid_refresh`) starts the cooldown only once it completed: a fetch that never finished
    /// in this process (a parent's at `fork()` time) does not hold the next one back.
    fn fetch_locked(&self, http: &Http, policy: &CachePolicy, now: Instant, kid_refresh: bool) -> Result<Arc<KeySet>> {
        let etag = {
            let st = self.state.load();
            if st.keys.is_some() { st.etag.clone() } else { None }
        };
        self.stats.fetches.fetch_add(1, Ordering::Relaxed);
        metrics::JWKS_FETCHES.inc();
        emit(Level::Info, "oidc::cache", || format!("fetching keys from {}", redact(&self.url)));
        let result = http.get_json(&self.url, etag.as_deref()).and_then(|f| {
            if f.status == 304 {
                Ok((None, f))
            } else {
                let set = Arc::new(KeySet::parse(&f.body)?);
                let raw: Arc<str> = String::from_utf8_lossy(&f.body).into();
                Ok((Some((set, raw)), f))
            }
        });
        let out = self.update(|st| {
            if kid_refresh {
                st.last_kid_refresh = Some(now);
            }
            match result {
                Ok((set, f)) => {
                    let ttl = policy.ttl(f.max_age);
                    if set.is_none() {
                        self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
                        metrics::JWKS_NOT_MODIFIED.inc();
                    }
                    if let Some((s, raw)) = set {
                        emit(Level::Info, "oidc::cache", || {
                            format!(
                                "loaded {} keys ({} rejected) from {}, valid for {} s",
                                s.keys.len(),
                                s.rejected.len(),
                                redact(&self.url),
                                ttl.as_secs()
                            )
                        });
                        st.keys = Some(s);
                        st.raw = Some(raw);
                    }
                    if f.etag.is_some() || f.status == 200 {
                        st.etag = f.etag;
                    }
                    st.fetched_at = Some(now);
                    st.expires_at = Some(now + ttl);
                    st.refresh_at = Some(now + ttl.mul_f64(REFRESH_AHEAD_FRACTION));
                    st.last_failure = None;
                    Ok(st.keys.clone().expect("keys present after a successful fetch"))
                }
                Err(e) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    metrics::JWKS_FETCH_FAILURES.inc();
                    st.last_failure = Some((now, e.clone()));
                    match st.usable(now, policy.stale_if_error) {
                        Some((k, stale)) => {
                            if stale {
                                self.stats.stale_served.fetch_add(1, Ordering::Relaxed);
                                metrics::STALE_SERVED.inc();
                                emit(Level::Warn, "oidc::cache", || {
                                    format!("key refresh failed ({}); serving expired keys of {} (stale-if-error)", e.message(), redact(&self.url))
                                });
                            } else {
                                emit(Level::Warn, "oidc::cache", || {
                                    format!("key refresh failed ({}); keeping the current keys of {}", e.message(), redact(&self.url))
                                });
                            }
                            Ok(k)
                        }
                        None => {
                            emit(Level::Error, "oidc::cache", || {
                                format!("key fetch failed and no usable keys are cached: {}", e.message())
                            });
                            Err(e)
                        }
                    }
                }
            }
        });
        self.attempts.fetch_add(1, Ordering::AcqRel);
        out
    }

    /// The cached document for a snapshot: `(raw JWKS, time left until expiry, etag)`, if the
    /// keys are fresh at `now`.
    pub fn snapshot(&self, now: Instant) -> Option<(Arc<str>, Duration, Option<String>)> {
        let st = self.state.load();
        let exp = st.expires_at?;
        let raw = st.raw.clone()?;
        (now < exp).then(|| (raw, exp - now, st.etag.clone()))
    }

    /// Install keys from a snapshot: `set` was parsed from `doc` by the same JWKS parser as a
    /// fetched document; `remaining` is the time left of its TTL (already clamped by the caller's policy).
    /// Keys already cached that live longer are kept. Returns whether the snapshot was used.
    pub fn install(&self, set: Arc<KeySet>, doc: &str, remaining: Duration, etag: Option<String>, now: Instant) -> Result<bool> {
        let _log_hold = super::log::hold();
        let _g = self.fetch_lock.lock();
        let expires = now + remaining;
        // Only a meaningfully fresher set replaces the cached one: a snapshot's expiry passes
        // through wall-clock seconds and back, so the same keys re-imported land within
        // microseconds of their cached expiry and must count as "not newer".
        if self.state.load().expires_at.is_some_and(|e| e + IMPORT_MIN_GAIN >= expires) {
            return Ok(false);
        }
        self.update(|st| {
            st.keys = Some(set);
            st.raw = Some(doc.into());
            st.etag = etag;
            st.fetched_at = Some(now);
            st.expires_at = Some(expires);
            st.refresh_at = Some(now + remaining.mul_f64(REFRESH_AHEAD_FRACTION));
            st.last_failure = None;
        });
        self.attempts.fetch_add(1, Ordering::AcqRel);
        Ok(true)
    }
}

/// How much later an imported key set must expire than the cached one to replace it.
const IMPORT_MIN_GAIN: Duration = Duration::from_secs(1);

/// The bounded, process-wide map of entries. Lookups are lock-free (a copy-on-write map behind
/// an `ArcSwap`); insertions take a [`ForkMutex`].
pub struct KeyCache {
    /// Keyed by (JWKS URL, trust id of the fetching agent).
    map: ArcSwap<HashMap<(String, u64), Arc<CacheEntry>>>,
    insert_lock: ForkMutex,
    max_entries: AtomicUsize,
}

/// The one process-wide cache.
pub static GLOBAL: Lazy<KeyCache> = Lazy::new(|| KeyCache::with_max(DEFAULT_CACHE_MAX_ENTRIES));

impl KeyCache {
    fn with_max(max: usize) -> KeyCache {
        KeyCache { map: ArcSwap::from_pointee(HashMap::new()), insert_lock: ForkMutex::new(), max_entries: AtomicUsize::new(max) }
    }

    /// The entry for `url` as fetched under `trust` (see [`Http::trust_id`](super::http::Http::trust_id)),
    /// created (and the least recently used one evicted) if needed.
    pub fn entry(&self, url: &str, trust: u64) -> Arc<CacheEntry> {
        let key = (url.to_string(), trust);
        if let Some(e) = self.map.load().get(&key) {
            return e.clone();
        }
        let _g = self.insert_lock.lock();
        let cur = self.map.load_full();
        if let Some(e) = cur.get(&key) {
            return e.clone();
        }
        let mut map = HashMap::clone(&cur);
        let max = self.max_entries.load(Ordering::Relaxed).max(1);
        while map.len() >= max {
            let victim = map
                .iter()
                .min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            match victim {
                Some(k) => {
                    map.remove(&k);
                }
                None => break,
            }
        }
        let e = Arc::new(CacheEntry::new(url, trust));
        map.insert(key, e.clone());
        self.map.store(Arc::new(map));
        e
    }

    /// Every entry (for snapshots).
    pub fn entries(&self) -> Vec<Arc<CacheEntry>> {
        self.map.load().values().cloned().collect()
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.map.load().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `url` currently has an entry (under any trust).
    pub fn contains(&self, url: &str) -> bool {
        self.map.load().keys().any(|(u, _)| u == url)
    }

    /// Set the bound on entries (at least 1); evicts on the next insertion.
    pub fn set_max_entries(&self, n: usize) {
        self.max_entries.store(n.max(1), Ordering::Relaxed);
    }

    /// The bound on entries.
    pub fn max_entries(&self) -> usize {
        self.max_entries.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_clamp() {
        let p = CachePolicy::from_config(&Config::new("https://x"));
        assert_eq!(p.ttl(Some(5)), Duration::from_secs(60));
        assert_eq!(p.ttl(Some(600)), Duration::from_secs(600));
        assert_eq!(p.ttl(Some(10_000_000)), Duration::from_secs(86400));
        assert_eq!(p.ttl(None), Duration::from_secs(3600));
    }

    #[test]
    fn bounded_lru() {
        let c = KeyCache::with_max(3);
        let a = c.entry("https://a", 1);
        c.entry("https://b", 1);
        c.entry("https://c", 1);
        c.entry("https://a", 1); // same entry back
        assert!(Arc::ptr_eq(&a, &c.entry("https://a", 1)));
        a.last_used.store(u64::MAX, Ordering::Relaxed); // a is the most recent
        c.entry("https://d", 1);
        assert_eq!(c.len(), 3);
        assert!(c.contains("https://a") && c.contains("https://d"));
        assert!(!c.contains("https://b"), "least recently used evicted");
        assert!(!Arc::ptr_eq(&a, &c.entry("https://a", 2)), "another trust gets its own entry");
    }
}
