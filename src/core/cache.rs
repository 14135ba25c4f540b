//! The process-wide key cache.
//!
//! One [`CacheEntry`] per JWKS URL, shared by every client that uses that URL. The hot path is a
//! read lock and an `Arc` clone. Fetches are single-flight: callers that find the keys missing,
//! expired or lacking their `kid` queue on one mutex; the first fetches, the others see the
//! attempt counter moved and take its result. Refreshes for an unknown `kid` happen at most once
//! per cooldown; a failed fetch is not retried for `retry_after_failure` (or for the server's
//! `Retry-After`, see [`backoff`]); expired keys keep serving for `stale_if_error` while
//! refreshes fail; past the refresh-ahead point of the TTL (a per-process fraction between 70 %
//! and 90 %, see [`refresh_ahead_fraction`]) a background refresh runs so the request path never
//! waits in steady state.
//!
//! Rules for unknown `kid`s (issue 10 items 1-4):
//! - A 200 response whose key set is empty, or has no usable key (every key rejected or
//!   published for something else), is a *failed* fetch: the last good keys keep serving
//!   (stale-if-error), the failure is logged and counted. A set of other usable keys is a real
//!   rotation and replaces the cached one.
//! - The first fetch of a cold entry counts as the unknown-`kid` refresh: a cold cache plus an
//!   unknown `kid` costs one JWKS request, not two. Precisely: a validation whose keys were
//!   fetched (or waited for) during that same validation does not refresh them again for a
//!   missing `kid` (the client tracks this per thread); it does not start the cooldown, so a
//!   rotation seconds after a cold start is still followed at once.
//! - When the refresh an unknown `kid` triggered failed (or the last attempt failed and is in its
//!   back-off), the caller is told ([`CacheEntry::outage`]) so it answers `KeysUnavailable` (503,
//!   retry later), not `UnknownKey` (401): an IdP outage is not a forged `kid`.
//! - Cooldown with one early follow-up: an unknown-`kid` refresh starts the cooldown
//!   (`refresh_cooldown`, 30 s by default) during which further unknown `kid`s cause no fetch,
//!   EXCEPT that a refresh which found a `kid` the previous set did not have grants ONE early
//!   follow-up refresh inside that cooldown (a second rotation right after the first is
//!   followed). The follow-up restarts the cooldown and grants another only if it too found a
//!   new `kid`. A flood of random `kid`s against an IdP whose keys do not change therefore
//!   still causes at most one fetch per cooldown.
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

use super::config::{Config, DEFAULT_CACHE_MAX_ENTRIES, REFRESH_AHEAD_MAX, REFRESH_AHEAD_MIN, RETRY_AFTER_MAX};
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

    /// How long to wait after the failure `e` before the next attempt: `retry_after_failure`,
    /// or the server's `Retry-After` (429/503) when longer, at most [`RETRY_AFTER_MAX`].
    pub fn backoff(&self, e: &Error) -> Duration {
        backoff(self.retry_after_failure, e)
    }

    /// TTL from `max-age`, clamped to `[ttl_min, ttl_max]`.
    pub fn ttl(&self, max_age: Option<u64>) -> Duration {
        let d = max_age.map(Duration::from_secs).unwrap_or(self.ttl_default);
        d.clamp(self.ttl_min, self.ttl_max)
    }
}

/// The wait after a failed fetch: `base`, or the server's `Retry-After` (429/503) when longer,
/// bounded by [`RETRY_AFTER_MAX`] (300 s): a server cannot switch refreshes off for longer.
pub fn backoff(base: Duration, e: &Error) -> Duration {
    match e.retry_after() {
        Some(r) => r.min(RETRY_AFTER_MAX).max(base),
        None => base,
    }
}

/// The fraction of the TTL after which keys are refreshed in the background: chosen once per
/// process, uniformly in `[REFRESH_AHEAD_MIN, REFRESH_AHEAD_MAX]` (70-90 %), so a fleet warmed
/// from one snapshot (same expiry everywhere) does not refresh in lockstep. The entropy is the
/// standard library's per-process hash seed (no crypto RNG on the cold path).
pub fn refresh_ahead_fraction() -> f64 {
    static F: Lazy<f64> = Lazy::new(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        jitter(h.finish())
    });
    *F
}

/// Map 64 random bits into `[REFRESH_AHEAD_MIN, REFRESH_AHEAD_MAX]`.
fn jitter(r: u64) -> f64 {
    let u = (r >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
    REFRESH_AHEAD_MIN + u * (REFRESH_AHEAD_MAX - REFRESH_AHEAD_MIN)
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
    /// No new attempt before this (set with `last_failure`: `retry_after_failure` or Retry-After).
    retry_at: Option<Instant>,
    last_kid_refresh: Option<Instant>,
    /// The last refresh found a `kid` the set before it lacked: one unknown-`kid` refresh may
    /// run inside the cooldown.
    early_refresh: bool,
    /// The keys came from a live fetch: a snapshot import never replaces them (issue 10 item 14).
    live: bool,
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
        let backoff = st.retry_at.is_some_and(|t| now < t);
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
            if let (Some((_, e)), Some(until)) = (st.last_failure.clone(), st.retry_at) {
                if now < until {
                    drop(st);
                    return self.outcome_or(now, policy, Some(e));
                }
            }
            if need == Need::UnknownKid {
                if let Some(t) = st.last_kid_refresh {
                    if now < t + policy.cooldown && !st.early_refresh {
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

    /// The failure of the last fetch attempt, while it is current: the attempt failed and no
    /// attempt succeeded since. A token whose `kid` is missing from the keys then cannot be told
    /// from one signed with a key the IdP could not deliver: the caller answers
    /// `KeysUnavailable` (503), not `UnknownKey` (issue 10 item 3).
    pub fn outage(&self) -> Option<Error> {
        self.state.load().last_failure.as_ref().map(|(_, e)| e.clone())
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
            None => Err(e.unwrap_or_else(|| Error::new(ErrorKind::Network, format!("no keys available from {}", redact(&self.url))))),
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
                let set = KeySet::parse(&f.body)?;
                if set.keys.is_empty() {
                    // Not a rotation: a misbehaving IdP. The last good keys keep serving.
                    return Err(Error::new(
                        ErrorKind::JwksInvalid,
                        format!(
                            "JWKS from {} has no usable key ({} rejected, {} for other uses)",
                            redact(&self.url),
                            set.rejected.len(),
                            set.skipped.len()
                        ),
                    ));
                }
                let raw: Arc<str> = String::from_utf8_lossy(&f.body).into();
                Ok((Some((Arc::new(set), raw)), f))
            }
        });
        let out = self.update(|st| {
            if kid_refresh {
                st.last_kid_refresh = Some(now);
                st.early_refresh = false;
            }
            match result {
                Ok((set, f)) => {
                    let ttl = policy.ttl(f.max_age);
                    if set.is_none() {
                        self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
                        metrics::JWKS_NOT_MODIFIED.inc();
                    }
                    if let Some((s, raw)) = set {
                        // A refresh that found a kid the previous set lacked grants one early
                        // follow-up inside the cooldown (a second rotation right after the first).
                        if let Some(old) = &st.keys {
                            let new_kid = s
                                .keys
                                .iter()
                                .filter_map(|k| k.kid.as_deref())
                                .any(|kid| !old.keys.iter().any(|o| o.kid.as_deref() == Some(kid)));
                            st.early_refresh = new_kid;
                        }
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
                        st.live = true;
                    }
                    if f.etag.is_some() || f.status == 200 {
                        st.etag = f.etag;
                    }
                    st.fetched_at = Some(now);
                    st.expires_at = Some(now + ttl);
                    st.refresh_at = Some(now + ttl.mul_f64(refresh_ahead_fraction()));
                    st.last_failure = None;
                    st.retry_at = None;
                    Ok(st.keys.clone().expect("keys present after a successful fetch"))
                }
                Err(e) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    metrics::JWKS_FETCH_FAILURES.inc();
                    st.retry_at = Some(now + policy.backoff(&e));
                    st.last_failure = Some((now, e.clone()));
                    match st.usable(now, policy.stale_if_error) {
                        Some((k, stale)) => {
                            if stale {
                                self.stats.stale_served.fetch_add(1, Ordering::Relaxed);
                                metrics::STALE_SERVED.inc();
                                emit(Level::Warn, "oidc::cache", || {
                                    format!(
                                        "key refresh failed ({}); serving expired keys of {} (stale-if-error)",
                                        e.message(),
                                        redact(&self.url)
                                    )
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

    /// Forget the keys (an operator's `drop_keys`): the next use fetches them again, without
    /// `If-None-Match`, as on a cold start. In-flight fetches finish first (the fetch lock).
    pub fn drop_keys(&self) {
        let _log_hold = super::log::hold();
        let _g = self.fetch_lock.lock();
        self.state.store(Arc::new(State::default()));
        self.attempts.fetch_add(1, Ordering::AcqRel);
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
        // Snapshots are trust anchors, live fetches are the truth: keys fetched live are never
        // replaced by imported ones (an edited snapshot cannot inject keys into a running process).
        if self.state.load().live {
            emit(Level::Info, "oidc::snapshot", || format!("snapshot keys of {} ignored: keys fetched live are cached", redact(&self.url)));
            return Ok(false);
        }
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
            st.refresh_at = Some(now + remaining.mul_f64(refresh_ahead_fraction()));
            st.last_failure = None;
            st.retry_at = None;
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
            let victim = map.iter().min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed)).map(|(k, _)| k.clone());
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
    fn refresh_ahead_jitter_bounds() {
        assert_eq!(jitter(0), REFRESH_AHEAD_MIN);
        assert!(jitter(u64::MAX) <= REFRESH_AHEAD_MAX && jitter(u64::MAX) > REFRESH_AHEAD_MAX - 1e-9);
        assert!((jitter(u64::MAX / 2) - 0.8).abs() < 1e-9);
        let f = refresh_ahead_fraction();
        assert!((REFRESH_AHEAD_MIN..=REFRESH_AHEAD_MAX).contains(&f), "{f}");
        assert_eq!(f, refresh_ahead_fraction(), "chosen once per process");
    }

    #[test]
    fn retry_after_backoff_is_bounded() {
        let base = Duration::from_secs(5);
        let e = |s: u64| Error::new(ErrorKind::HttpStatus, "x").with_retry_after(Duration::from_secs(s));
        assert_eq!(backoff(base, &Error::new(ErrorKind::HttpStatus, "x")), base);
        assert_eq!(backoff(base, &e(60)), Duration::from_secs(60));
        assert_eq!(backoff(base, &e(1)), base, "never shorter than retry_after_failure");
        assert_eq!(backoff(base, &e(1_000_000)), RETRY_AFTER_MAX);
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
