//! DPoP `jti` replay detection: a bounded process-wide cache keyed per issuer, then the host's
//! shared store (a fleet behind one load balancer, where a replay may reach another process).
//!
//! A `jti` is recorded only for a request that passed every other check, and it is kept until the
//! proof could no longer be accepted anyway (`iat` + window + leeway). The cache holds at most
//! [`MAX_REPLAY_ENTRIES`] live entries; when that many unexpired proofs were seen, new proofs are
//! refused with `REPLAY_STORE_UNAVAILABLE` (503) rather than forgetting one (which would let it
//! be replayed).

use std::collections::{HashMap, VecDeque};

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::core::config::ReplayStore;
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::json::b64url_encode;

/// Most live `jti`s the process-wide cache holds.
pub const MAX_REPLAY_ENTRIES: usize = 500_000;

type Key = [u8; 32];

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

static CACHE: Lazy<Mutex<Cache>> = Lazy::new(|| Mutex::new(Cache::default()));

/// The replay key of (`issuer`, `jti`): SHA-256 over both, so any `jti` is a fixed-size key.
fn key(issuer: &str, jti: &str) -> Key {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(issuer.as_bytes());
    ctx.update(&[0]);
    ctx.update(jti.as_bytes());
    ctx.finish().as_ref().try_into().expect("32 bytes")
}

/// The key handed to a shared store: a fixed prefix and the base64url replay key (ASCII, 60 bytes).
pub fn store_key(issuer: &str, jti: &str) -> String {
    format!("liboidc:dpop:{}", b64url_encode(&key(issuer, jti)))
}

fn replay() -> Error {
    Error::new(ErrorKind::DpopReplay, "the DPoP proof jti was used before")
}

/// Record `jti` of `issuer` for `ttl_secs` seconds from `now`, or refuse it as a replay.
pub fn check_and_record(issuer: &str, jti: &str, ttl_secs: u64, now: f64, store: Option<&dyn ReplayStore>) -> Result<()> {
    let k = key(issuer, jti);
    let exp = now + ttl_secs as f64;
    let full = {
        let mut c = CACHE.lock();
        if c.expiry.get(&k).is_some_and(|e| *e > now) {
            return Err(replay());
        }
        c.prune(now);
        if c.expiry.len() >= MAX_REPLAY_ENTRIES && !(now - c.last_sweep < 1.0 && now >= c.last_sweep) {
            // Expired entries may sit behind live ones in insertion order: sweep, at most once a
            // second (a full cache of live proofs must not cost every request a full scan).
            c.expiry.retain(|_, e| *e > now);
            c.order.retain(|(_, e)| *e > now);
            c.last_sweep = now;
        }
        let full = c.expiry.len() >= MAX_REPLAY_ENTRIES;
        if !full {
            c.expiry.insert(k, exp);
            c.order.push_back((k, exp));
        }
        full
    };
    // Logged after the lock is released: a log callback may call liboidc.
    if full {
        crate::core::log::emit(crate::core::log::Level::Warn, "oidc::authn", || {
            format!("the DPoP replay cache holds {MAX_REPLAY_ENTRIES} live proofs; refusing new ones")
        });
        return Err(Error::new(ErrorKind::ReplayStoreUnavailable, "the DPoP replay cache is full; retry later"));
    }
    let Some(store) = store else { return Ok(()) };
    let key_text = store_key(issuer, jti);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.check_and_record(&key_text, ttl_secs))) {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(replay()),
        Ok(Err(())) | Err(_) => {
            // Not a replay we know of: forget the reservation so the client may retry.
            CACHE.lock().expiry.remove(&k);
            crate::core::log::emit(crate::core::log::Level::Warn, "oidc::authn", || {
                "the shared DPoP replay store did not answer; the request is refused (503)".to_string()
            });
            Err(Error::new(ErrorKind::ReplayStoreUnavailable, "the shared DPoP replay store did not answer; retry later"))
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
