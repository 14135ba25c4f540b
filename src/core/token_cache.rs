//! The verified-token cache of a validating client: a token seen again (the exact same bytes)
//! skips parsing and the signature check.
//!
//! What a hit still checks is the client's ([`super::client`]): the time claims against the
//! caller's "now" with the same leeway, codes and messages as a full validation, and that the
//! verifying key is still in the issuer's current key set. This module only keeps the entries.
//!
//! Layout: sharded CLOCK (second chance), an approximation of LRU whose hits only take a shared
//! lock and set a flag. Each shard is a fixed-capacity ring of slots and an index from the
//! token's 64-bit hash to its slot; the shard capacities add up to exactly the configured size.
//! The index holds one slot per hash: two different tokens with the same hash (2^-64 for a
//! random seed) only displace each other, and a lookup always compares the exact bytes.
//! Eviction: the clock hand passes over slots, clearing the "used since" flag, and takes the
//! first slot that is expired (its `exp` + leeway has passed) or was not used since the hand last
//! passed. New entries start unflagged, so a token seen once goes before one seen twice.
//!
//! An entry is never served past its `exp` + leeway (the client checks the time claims on every
//! hit and drops an expired entry), and only validations that passed every check insert one, so
//! nothing an attacker sends without a valid signature takes a slot.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;

use super::config::Algorithm;
use super::jwks::KeySet;
use super::validate::{Cnf, JtiSpan, TimeClaims, Validated};

/// Most shards; a shard holds at least [`MIN_SHARD_SLOTS`] entries, so small caches have fewer.
const MAX_SHARDS: usize = 64;
const MIN_SHARD_SLOTS: usize = 32;

/// One verified token.
pub struct Entry {
    /// The claims (JSON, exactly as signed), the token and the header's `kid`: one allocation.
    buf: Box<str>,
    claims_end: usize,
    token_end: usize,
    has_kid: bool,
    pub alg: Algorithm,
    /// `exp`, `nbf`, `iat`, checked again on every hit.
    pub times: TimeClaims,
    pub cnf: Cnf,
    /// The `jti`'s place in the claims (the revocation check of a hit).
    pub jti: Option<JtiSpan>,
    /// The key set whose key verified the token. Held strongly: a pointer comparison with the
    /// current set is then never fooled by a freed set's address being reused.
    pub keys: Arc<KeySet>,
    /// `exp` + leeway: past it the entry can only answer TOKEN_EXPIRED and is evicted first.
    pub expires: f64,
}

impl Entry {
    /// The entry for `token`, which validated as `v` with the key named by `kid` in `keys`.
    pub fn new(token: &str, v: &Validated, kid: Option<&str>, times: TimeClaims, keys: Arc<KeySet>, leeway_secs: f64) -> Entry {
        let kid_len = kid.map_or(0, str::len);
        let mut buf = String::with_capacity(v.claims.len() + token.len() + kid_len);
        buf.push_str(&v.claims);
        buf.push_str(token);
        buf.push_str(kid.unwrap_or_default());
        Entry {
            buf: buf.into_boxed_str(),
            claims_end: v.claims.len(),
            token_end: v.claims.len() + token.len(),
            has_kid: kid.is_some(),
            alg: v.alg,
            expires: times.exp + leeway_secs,
            times,
            cnf: v.cnf.clone(),
            jti: v.jti,
            keys,
        }
    }

    pub fn token(&self) -> &[u8] {
        &self.buf.as_bytes()[self.claims_end..self.token_end]
    }

    /// The claims JSON, exactly as signed.
    pub fn claims(&self) -> &str {
        &self.buf[..self.claims_end]
    }

    /// The token header's `kid`, to find the verifying key again in a newer key set.
    pub fn kid(&self) -> Option<&str> {
        self.has_kid.then(|| &self.buf[self.token_end..])
    }
}

struct Slot {
    hash: u64,
    /// The entry's `expires`, here so that the clock hand does not visit every entry it passes.
    expires: f64,
    entry: Arc<Entry>,
    /// Used since the clock hand last passed (set by hits under the shared lock).
    used: AtomicBool,
}

struct Ring {
    index: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    slots: Vec<Slot>,
    capacity: usize,
    hand: usize,
}

/// The index key is already a hash.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; kept total for any other use.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Ring {
    fn remove_slot(&mut self, i: usize) {
        let gone = self.slots.swap_remove(i);
        self.index.remove(&gone.hash);
        if let Some(moved) = self.slots.get(i) {
            self.index.insert(moved.hash, i as u32);
        }
        if self.hand >= self.slots.len() {
            self.hand = 0;
        }
    }

    /// The slot the clock hand gives up: the first expired one, or the first not used since the
    /// hand last passed (at most two turns: the first clears every flag).
    fn victim(&mut self, now: f64) -> usize {
        let n = self.slots.len();
        for _ in 0..2 * n {
            let i = self.hand;
            self.hand = (i + 1) % n;
            let s = &self.slots[i];
            if s.expires <= now || !s.used.swap(false, Ordering::Relaxed) {
                return i;
            }
        }
        self.hand
    }
}

/// A bounded cache of verified tokens, shared by every thread using the client.
pub struct TokenCache {
    shards: Box<[RwLock<Ring>]>,
    hasher: foldhash::quality::RandomState,
    capacity: usize,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").field("capacity", &self.capacity).field("len", &self.len()).finish()
    }
}

impl TokenCache {
    /// A cache of at most `capacity` entries (`capacity` > 0).
    pub fn new(capacity: usize) -> TokenCache {
        let capacity = capacity.max(1);
        // The largest power of two that keeps MIN_SHARD_SLOTS per shard, within MAX_SHARDS.
        let fit = (capacity / MIN_SHARD_SLOTS).clamp(1, MAX_SHARDS);
        let shards = 1usize << (usize::BITS - 1 - fit.leading_zeros());
        let (base, extra) = (capacity / shards, capacity % shards);
        let shards = (0..shards)
            .map(|i| {
                let cap = base + usize::from(i < extra);
                RwLock::new(Ring {
                    index: HashMap::with_capacity_and_hasher(cap, Default::default()),
                    slots: Vec::with_capacity(cap),
                    capacity: cap,
                    hand: 0,
                })
            })
            .collect();
        TokenCache { shards, hasher: Default::default(), capacity }
    }

    /// The configured bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().slots.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash a token is filed under (one per lookup, reused for the insert after a miss).
    pub fn hash(&self, token: &[u8]) -> u64 {
        self.hasher.hash_one(token)
    }

    fn shard(&self, hash: u64) -> &RwLock<Ring> {
        // Bits 32.. pick the shard; the index uses the low bits (bucket) and the top 7 (tag).
        &self.shards[(hash >> 32) as usize & (self.shards.len() - 1)]
    }

    /// The entry of exactly these token bytes, marking it used.
    pub fn get(&self, hash: u64, token: &[u8]) -> Option<Arc<Entry>> {
        let ring = self.shard(hash).read();
        let slot = &ring.slots[*ring.index.get(&hash)? as usize];
        if slot.entry.token() != token {
            return None;
        }
        if !slot.used.load(Ordering::Relaxed) {
            slot.used.store(true, Ordering::Relaxed);
        }
        Some(slot.entry.clone())
    }

    /// File `entry` under `hash` (from [`TokenCache::hash`] of its token), evicting as the
    /// clock says when the shard is full. `now` (Unix seconds) tells which entries expired.
    pub fn insert(&self, hash: u64, entry: Entry, now: f64) {
        let expires = entry.expires;
        let slot = Slot { hash, expires, entry: Arc::new(entry), used: AtomicBool::new(false) };
        // The entry this insert displaces is dropped after the lock is released.
        let _displaced = {
            let mut ring = self.shard(hash).write();
            let ring = &mut *ring;
            if let Some(&i) = ring.index.get(&hash) {
                Some(std::mem::replace(&mut ring.slots[i as usize], slot))
            } else if ring.slots.len() < ring.capacity {
                ring.index.insert(hash, ring.slots.len() as u32);
                ring.slots.push(slot);
                None
            } else {
                let i = ring.victim(now);
                let old = std::mem::replace(&mut ring.slots[i], slot);
                ring.index.remove(&old.hash);
                ring.index.insert(hash, i as u32);
                Some(old)
            }
        };
    }

    /// Drop `entry` (if it is still the one filed under `hash`).
    pub fn remove(&self, hash: u64, entry: &Arc<Entry>) {
        let mut ring = self.shard(hash).write();
        if let Some(&i) = ring.index.get(&hash) {
            if Arc::ptr_eq(&ring.slots[i as usize].entry, entry) {
                ring.remove_slot(i as usize);
            }
        }
    }

    /// Drop every entry.
    pub fn clear(&self) {
        for s in self.shards.iter() {
            let mut r = s.write();
            r.index.clear();
            r.slots.clear();
            r.hand = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(token: &str, exp: f64) -> Entry {
        let v = Validated { claims: r#"{"sub":"x"}"#.into(), alg: Algorithm::ES256, exp, cnf: Cnf::default(), jti: None };
        let times = TimeClaims { exp, nbf: None, iat: None };
        Entry::new(token, &v, Some("k1"), times, Arc::new(KeySet::default()), 0.0)
    }

    fn put(c: &TokenCache, token: &str, exp: f64, now: f64) {
        c.insert(c.hash(token.as_bytes()), entry(token, exp), now);
    }

    fn has(c: &TokenCache, token: &str) -> bool {
        c.get(c.hash(token.as_bytes()), token.as_bytes()).is_some()
    }

    #[test]
    fn shard_capacities_add_up_to_the_bound() {
        for cap in [1, 2, 31, 32, 33, 63, 64, 100, 1000, 4096, 5000, 1 << 20] {
            let c = TokenCache::new(cap);
            let total: usize = c.shards.iter().map(|s| s.read().capacity).sum();
            assert_eq!(total, cap, "capacity {cap}");
            assert!(c.shards.len().is_power_of_two() && c.shards.len() <= MAX_SHARDS);
            assert!(c.shards.iter().all(|s| s.read().capacity >= MIN_SHARD_SLOTS.min(cap)), "capacity {cap}");
        }
    }

    #[test]
    fn exact_bytes_and_bound() {
        let c = TokenCache::new(100);
        put(&c, "a.b.c", 1e12, 0.0);
        assert!(has(&c, "a.b.c"));
        assert!(!has(&c, "a.b.d"));
        assert!(!has(&c, "a.b.c "));
        let e = c.get(c.hash(b"a.b.c"), b"a.b.c").unwrap();
        assert_eq!(e.claims(), r#"{"sub":"x"}"#);
        assert_eq!(e.kid(), Some("k1"));
        assert_eq!(e.token(), b"a.b.c");
        for i in 0..10_000 {
            put(&c, &format!("t{i}"), 1e12, 0.0);
            assert!(c.len() <= 100);
        }
        assert_eq!(c.len(), 100);
        c.clear();
        assert!(c.is_empty());
    }

    #[test]
    fn clock_keeps_what_is_used_and_evicts_the_expired_first() {
        let c = TokenCache::new(1);
        put(&c, "old", 100.0, 0.0);
        put(&c, "new", 1e12, 0.0);
        assert!(!has(&c, "old") && has(&c, "new"));

        let c = TokenCache::new(4);
        for t in ["a", "b", "c", "d"] {
            put(&c, t, 1e12, 0.0);
        }
        assert!(has(&c, "a") && has(&c, "b") && has(&c, "d"));
        put(&c, "e", 1e12, 0.0);
        assert!(!has(&c, "c"), "the one entry not used since insertion goes");
        assert!(has(&c, "a") && has(&c, "b") && has(&c, "d") && has(&c, "e"));

        let c = TokenCache::new(3);
        put(&c, "x", 1e12, 0.0);
        put(&c, "expiring", 50.0, 0.0);
        put(&c, "y", 1e12, 0.0);
        for _ in 0..3 {
            assert!(has(&c, "x") && has(&c, "expiring") && has(&c, "y"));
        }
        put(&c, "z", 1e12, 60.0);
        assert!(!has(&c, "expiring"), "an expired entry goes first even if used");
        assert!(has(&c, "x") && has(&c, "y") && has(&c, "z"));
    }

    #[test]
    fn remove_only_the_given_entry() {
        let c = TokenCache::new(64);
        for i in 0..40 {
            put(&c, &format!("t{i}"), 1e12, 0.0);
        }
        let h = c.hash(b"t7");
        let e = c.get(h, b"t7").unwrap();
        put(&c, "t7", 1e12, 0.0); // replaced: a stale handle removes nothing
        c.remove(h, &e);
        assert!(has(&c, "t7"));
        let e = c.get(h, b"t7").unwrap();
        c.remove(h, &e);
        assert!(!has(&c, "t7"));
        for i in (0..40).filter(|i| *i != 7) {
            assert!(has(&c, &format!("t{i}")), "t{i} survives the removal (index kept consistent)");
        }
        assert_eq!(c.len(), 39);
    }
}
