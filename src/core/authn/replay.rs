//! One-time `jti` replay detection: a bounded in-memory cache, then the host's shared store (a
//! fleet behind one load balancer, where a replay may reach another process).
//!
//! Two users: DPoP proofs (one process-wide cache keyed per issuer, [`check_and_record`]) and
//! back-channel logout tokens (one cache per protocol client, `oauth::logout`). Each kind has
//! its own code, messages and shared-store key prefix (`liboidc:dpop:`, `liboidc:logout:`), so a
//! logout `jti` never collides with a DPoP `jti`, in memory or in the shared store.
//!
//! A `jti` is recorded only for a token that passed every other check, and it is kept until the
//! token could no longer be accepted anyway (the caller's `ttl`). A cache holds at most its
//! capacity of live entries; when that many unexpired tokens were seen, new ones are refused
//! with `REPLAY_STORE_UNAVAILABLE` (503) rather than forgetting one (which would let it be
//! replayed).

use std::collections::{HashMap, VecDeque};

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::core::config::ReplayStore;
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::json::b64url_encode;

/// Most live `jti`s the process-wide DPoP cache holds.
pub const MAX_REPLAY_ENTRIES: usize = 500_000;

/// A fixed-size replay key: SHA-256 over the parts (see [`replay_key`]).
pub type Key = [u8; 32];

/// What a cache protects: its codes, messages and shared-store namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayKind {
    /// DPoP proofs (RFC 9449 §11.1): `DPOP_REPLAY`.
    Dpop,
    /// Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.6): `TOKEN_REPLAYED`.
    Logout,
}

impl ReplayKind {
    fn prefix(self) -> &'static str {
        match self {
            ReplayKind::Dpop => "liboidc:dpop:",
            ReplayKind::Logout => "liboidc:logout:",
        }
    }
    fn replayed(self) -> Error {
        match self {
            ReplayKind::Dpop => Error::new(ErrorKind::DpopReplay, "the DPoP proof jti was used before"),
            ReplayKind::Logout => Error::new(ErrorKind::TokenReplayed, "the logout token's jti was used before (a replayed logout token)"),
        }
    }
    fn what(self) -> &'static str {
        match self {
            ReplayKind::Dpop => "DPoP",
            ReplayKind::Logout => "logout-token",
        }
    }
    fn target(self) -> &'static str {
        match self {
            ReplayKind::Dpop => "oidc::authn",
            ReplayKind::Logout => "oidc::oauth",
        }
    }
}

#[derive(Default)]
struct Cache {
    expiry: HashMap<Key, f64>,
    /// Insertion order, for pruning expired entries.
    order: VecDeque<(Key, f64)>,
    /// When a full cache was last swept (a full sweep at most once a second, not per request).
    last_sweep: f64,
}

impl Cache {
    fn prune(&mut self, now: f64) {
        while let Some(&(k, exp)) = self.order.front() {
            if exp > now {
                break;
            }
            self.order.pop_front();
            if self.expiry.get(&k).is_some_and(|e| *e <= now) {
                self.expiry.remove(&k);
            }
        }
    }
}

/// A bounded replay cache of one [`ReplayKind`]. Thread-safe: of concurrent first uses of one
/// key exactly one is recorded, the others are replays.
pub struct ReplayCache {
    cache: Mutex<Cache>,
    capacity: usize,
    kind: ReplayKind,
}

impl std::fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayCache").field("kind", &self.kind).field("capacity", &self.capacity).finish_non_exhaustive()
    }
}

static DPOP: Lazy<ReplayCache> = Lazy::new(|| ReplayCache::new(ReplayKind::Dpop, MAX_REPLAY_ENTRIES));

/// The replay key of `parts` (issuer, [client id,] jti): SHA-256 over the parts separated by NUL,
/// so any `jti` is a fixed-size key. Only the last part comes from the token (the others are the
/// client's configuration), so two different `jti`s of one issuer never share a key. The DPoP
/// form (issuer, jti) is the one earlier versions wrote to shared stores.
pub fn replay_key(parts: &[&str]) -> Key {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            ctx.update(&[0]);
        }
        ctx.update(p.as_bytes());
    }
    ctx.finish().as_ref().try_into().expect("32 bytes")
}

/// The DPoP key handed to a shared store: a fixed prefix and the base64url replay key (ASCII, 56 bytes).
pub fn store_key(issuer: &str, jti: &str) -> String {
    ReplayKind::Dpop.prefix().to_string() + &b64url_encode(&replay_key(&[issuer, jti]))
}

/// Record the DPoP proof `jti` of `issuer` for `ttl_secs` seconds from `now`, or refuse it as a
/// replay (the process-wide DPoP cache, then `store`).
pub fn check_and_record(issuer: &str, jti: &str, ttl_secs: u64, now: f64, store: Option<&dyn ReplayStore>) -> Result<()> {
    DPOP.check_and_record(replay_key(&[issuer, jti]), ttl_secs, now, store)
}

impl ReplayCache {
    /// An empty cache of at most `capacity` live entries (at least 1).
    pub fn new(kind: ReplayKind, capacity: usize) -> ReplayCache {
        ReplayCache { cache: Mutex::new(Cache::default()), capacity: capacity.max(1), kind }
    }

    /// The most live entries it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The entries held now (live or not yet pruned).
    pub fn len(&self) -> usize {
        self.cache.lock().expiry.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key handed to a shared store for `key`: the kind's prefix and the base64url key.
    pub fn store_key(&self, key: &Key) -> String {
        self.kind.prefix().to_string() + &b64url_encode(key)
    }

    /// Record `key` for `ttl_secs` seconds from `now`, or refuse it: the kind's replay code when
    /// it was seen (here, or by `store`); `REPLAY_STORE_UNAVAILABLE` when the cache is full of
    /// live entries or `store` did not answer (then the reservation is forgotten, so the token
    /// may be retried).
    pub fn check_and_record(&self, k: Key, ttl_secs: u64, now: f64, store: Option<&dyn ReplayStore>) -> Result<()> {
        let kind = self.kind;
        let exp = now + ttl_secs as f64;
        let cap = self.capacity;
        let full = {
            let mut c = self.cache.lock();
            if c.expiry.get(&k).is_some_and(|e| *e > now) {
                return Err(kind.replayed());
            }
            c.prune(now);
            if c.expiry.len() >= cap && !(now - c.last_sweep < 1.0 && now >= c.last_sweep) {
                // Expired entries may sit behind live ones in insertion order: sweep, at most once a
                // second (a full cache of live entries must not cost every request a full scan).
                c.expiry.retain(|_, e| *e > now);
                c.order.retain(|(_, e)| *e > now);
                c.last_sweep = now;
            }
            let full = c.expiry.len() >= cap;
            if !full {
                c.expiry.insert(k, exp);
                c.order.push_back((k, exp));
            }
            full
        };
        // Logged after the lock is released: a log callback may call liboidc.
        if full {
            crate::core::log::emit(crate::core::log::Level::Warn, kind.target(), || {
                format!("the {} replay cache holds {cap} live entries; refusing new ones", kind.what())
            });
            return Err(Error::new(
                ErrorKind::ReplayStoreUnavailable,
                format!("the {} replay cache is full ({cap} live entries); retry later", kind.what()),
            ));
        }
        let Some(store) = store else { return Ok(()) };
        let key_text = self.store_key(&k);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.check_and_record(&key_text, ttl_secs))) {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(kind.replayed()),
            Ok(Err(())) | Err(_) => {
                // Not a replay we know of: forget the reservation so the client may retry.
                self.cache.lock().expiry.remove(&k);
                crate::core::log::emit(crate::core::log::Level::Warn, kind.target(), || {
                    format!("the shared {} replay store did not answer; the request is refused (503)", kind.what())
                });
                Err(Error::new(
                    ErrorKind::ReplayStoreUnavailable,
                    format!("the shared {} replay store did not answer; retry later", kind.what()),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn local_replay_and_expiry() {
        let iss = "https://replay-unit.test";
        assert!(check_and_record(iss, "j1", 60, 1000.0, None).is_ok());
        assert_eq!(check_and_record(iss, "j1", 60, 1010.0, None).unwrap_err().kind(), ErrorKind::DpopReplay);
        assert!(check_and_record("https://other.test", "j1", 60, 1010.0, None).is_ok(), "keyed per issuer");
        assert!(check_and_record(iss, "j1", 60, 1061.0, None).is_ok(), "expired entries are forgotten");
    }

    struct Store(AtomicUsize, Option<bool>);
    impl ReplayStore for Store {
        fn check_and_record(&self, key: &str, ttl: u64) -> std::result::Result<bool, ()> {
            assert!(key.starts_with("liboidc:dpop:") && key.len() == 13 + 43);
            assert!(ttl >= 1);
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.ok_or(())
        }
    }

    #[test]
    fn logout_cache_is_its_own_kind_and_bounded() {
        let c = ReplayCache::new(ReplayKind::Logout, 2);
        let k = |j: &str| replay_key(&["https://op.test", "rp", j]);
        assert!(c.check_and_record(k("a"), 60, 1000.0, None).is_ok());
        assert_eq!(c.check_and_record(k("a"), 60, 1001.0, None).unwrap_err().kind(), ErrorKind::TokenReplayed);
        assert!(c.check_and_record(k("b"), 10, 1000.0, None).is_ok());
        let e = c.check_and_record(k("c"), 60, 1002.0, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable);
        assert!(e.message().contains("logout-token replay cache is full (2 live entries)"), "{}", e.message());
        assert_eq!(c.len(), 2, "nothing forgotten while live");
        assert!(c.check_and_record(k("c"), 60, 1011.0, None).is_ok(), "b expired: room again");
        // Another kind, another namespace: the DPoP cache never saw these, and store keys differ.
        assert!(check_and_record("https://op.test", "a", 60, 1000.0, None).is_ok());
        assert!(c.store_key(&k("a")).starts_with("liboidc:logout:"));
        assert_ne!(c.store_key(&replay_key(&["i", "j"])), store_key("i", "j"));
        assert_ne!(replay_key(&["i", "rp", "j"]), replay_key(&["i", "rp2", "j"]), "the client is part of a logout key");
    }

    #[test]
    fn shared_store() {
        let iss = "https://replay-store.test";
        let seen = Store(AtomicUsize::new(0), Some(false));
        assert_eq!(check_and_record(iss, "a", 60, 1000.0, Some(&seen)).unwrap_err().kind(), ErrorKind::DpopReplay);
        let down = Store(AtomicUsize::new(0), None);
        assert_eq!(check_and_record(iss, "b", 60, 1000.0, Some(&down)).unwrap_err().kind(), ErrorKind::ReplayStoreUnavailable);
        let fresh = Store(AtomicUsize::new(0), Some(true));
        assert!(check_and_record(iss, "b", 60, 1000.0, Some(&fresh)).is_ok(), "a store failure does not burn the jti");
        assert_eq!(check_and_record(iss, "b", 60, 1000.0, Some(&fresh)).unwrap_err().kind(), ErrorKind::DpopReplay);
        assert_eq!(fresh.0.load(Ordering::SeqCst), 1, "a local hit does not ask the store");
    }
}
