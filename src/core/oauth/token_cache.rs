//! The client-credentials token cache: a token is reused until `expires_in` minus a skew, keyed by
//! scope, resources and audience (one cache per client). Concurrent callers of one key share one
//! request (single-flight): the first caller fetches while holding the key's lock, the others
//! wait on it and then take its token (or its error, without a request of their own).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::client::OAuthClient;
use super::token::TokenResponse;
use crate::core::error::{Error, Result};

/// A cached token is not handed out during the last this-many seconds of its life.
pub const TOKEN_CACHE_SKEW: Duration = Duration::from_secs(30);
/// Most keys per client; past this, expired entries are dropped (all, if none expired).
pub const TOKEN_CACHE_MAX_KEYS: usize = 256;

#[derive(Default)]
struct SlotState {
    token: Option<(TokenResponse, Instant)>,
    last_error: Option<Error>,
}

#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    /// Bumped after every fetch (under the lock); read without it, so a waiter that sees a new
    /// generation once it holds the lock knows a fetch finished while it waited.
    generation: std::sync::atomic::AtomicU64,
}

/// Per-client token cache.
#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    fetches: std::sync::atomic::AtomicU64,
}

/// How long a token with `expires_in` seconds may be reused: `expires_in - skew`, where the skew
/// is 30 s but at most half the lifetime. `None` (no `expires_in`, or 0): not cached.
pub fn reuse_for(expires_in: Option<u64>) -> Option<Duration> {
    let e = Duration::from_secs(super::server_lifetime(expires_in.filter(|e| *e > 0)?));
    Some(e - TOKEN_CACHE_SKEW.min(e / 2))
}

impl TokenCache {
    fn slot(&self, key: &str, now: Instant) -> Arc<Slot> {
        let mut slots = self.slots.lock();
        if slots.len() >= TOKEN_CACHE_MAX_KEYS && !slots.contains_key(key) {
            slots.retain(|_, s| s.state.try_lock().is_none_or(|st| st.token.as_ref().is_some_and(|(_, until)| *until > now)));
            if slots.len() >= TOKEN_CACHE_MAX_KEYS {
                slots.retain(|_, s| Arc::strong_count(s) > 1);
            }
        }
        slots.entry(key.to_string()).or_default().clone()
    }

    /// The cached token for `key`, or the result of `fetch` (run by one caller at a time).
    pub fn get_or_fetch(
        &self,
        key: &str,
        now: impl Fn() -> Instant,
        fetch: impl FnOnce() -> Result<TokenResponse>,
    ) -> Result<TokenResponse> {
        let slot = self.slot(key, now());
        let seen = slot.generation.load(std::sync::atomic::Ordering::Acquire);
        // The fetch runs under the slot's lock: messages wait until it is released.
        let _log_hold = crate::core::log::hold();
        let mut st = slot.state.lock();
        if let Some((t, until)) = &st.token {
            if now() < *until {
                return Ok(t.clone());
            }
        }
        if slot.generation.load(std::sync::atomic::Ordering::Acquire) != seen {
            if let Some(e) = &st.last_error {
                // Another caller fetched (and failed) while we waited: share its outcome.
                return Err(e.clone());
            }
        }
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let r = fetch();
        slot.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        match &r {
            Ok(t) => {
                st.last_error = None;
                st.token = reuse_for(t.expires_in).map(|d| (t.clone(), now() + d));
            }
            Err(e) => {
                st.last_error = Some(e.clone());
                st.token = None;
            }
        }
        r
    }

    /// Drop every cached token.
    pub fn clear(&self) {
        self.slots.lock().clear();
    }

    /// How many token requests the cache made.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn cache_key(scope: Option<&str>, resources: &[&str], audience: Option<&str>) -> String {
    let mut scopes: Vec<&str> = scope.unwrap_or("").split(' ').filter(|s| !s.is_empty()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    let mut res: Vec<&str> = resources.to_vec();
    res.sort_unstable();
    res.dedup();
    // Serialized as JSON so that no separator can be forged by a value.
    serde_json::json!([scopes, res, audience]).to_string()
}

impl OAuthClient {
    /// Client credentials through the cache: the same (scope set, resources, audience) reuses
    /// the token until `expires_in - 30 s` (half the lifetime for short tokens); concurrent
    /// callers share one request. Tokens without `expires_in` are not cached. Errors are not
    /// cached (beyond being shared with the callers that waited for that request).
    pub fn client_credentials_cached(&self, scope: Option<&str>, resources: &[&str], audience: Option<&str>) -> Result<TokenResponse> {
        let key = cache_key(scope, resources, audience);
        let clock = self.inner.cfg.base.clock.clone();
        self.inner.cc_cache.get_or_fetch(&key, || clock.now(), || self.client_credentials(scope, resources, audience))
    }

    /// Drop this client's cached client-credentials tokens.
    pub fn clear_token_cache(&self) {
        self.inner.cc_cache.clear();
    }

    /// How many token requests the client-credentials cache made.
    pub fn token_cache_fetches(&self) -> u64 {
        self.inner.cc_cache.fetches()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_window() {
        assert_eq!(reuse_for(Some(600)), Some(Duration::from_secs(570)));
        assert_eq!(reuse_for(Some(40)), Some(Duration::from_secs(20)));
        assert_eq!(reuse_for(Some(0)), None);
        assert_eq!(reuse_for(None), None);
        assert_eq!(cache_key(Some("b a a"), &["y", "x"], None), cache_key(Some("a b"), &["x", "y"], None));
        assert_ne!(cache_key(Some("a"), &[], None), cache_key(Some("a"), &[], Some("x")));
    }
}
