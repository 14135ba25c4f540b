//! Stateless DPoP server nonces (RFC 9449 §8): the HMAC of a time bucket, so every process of a
//! fleet sharing the secret issues and accepts the same nonces without shared state. A nonce is
//! `base64url(bucket as 8 bytes big-endian || HMAC-SHA256(secret, "liboidc dpop nonce" || bucket)[..16])`;
//! the current and the previous bucket's nonces are accepted.

use aws_lc_rs::hmac;

use crate::core::json::{b64url_decode, b64url_encode};

/// How a presented nonce relates to the current time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceState {
    Current,
    /// The previous bucket's nonce: accepted, and a fresh one is offered.
    Previous,
    Invalid,
}

fn bucket(lifetime_secs: u64, now: f64) -> u64 {
    let now = if now.is_finite() && now > 0.0 { now as u64 } else { 0 };
    now / lifetime_secs.max(1)
}

fn mac(secret: &[u8], bucket: u64) -> [u8; 16] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(b"liboidc dpop nonce");
    ctx.update(&bucket.to_be_bytes());
    let tag = ctx.sign();
    let mut out = [0u8; 16];
    out.copy_from_slice(&tag.as_ref()[..16]);
    out
}

fn encode(secret: &[u8], b: u64) -> String {
    let mut raw = [0u8; 24];
    raw[..8].copy_from_slice(&b.to_be_bytes());
    raw[8..].copy_from_slice(&mac(secret, b));
    b64url_encode(&raw)
}

/// The nonce of the current time bucket.
pub fn issue(secret: &[u8], lifetime_secs: u64, now: f64) -> String {
    encode(secret, bucket(lifetime_secs, now))
}

/// Check a nonce from a proof against the current time.
pub fn check(secret: &[u8], lifetime_secs: u64, nonce: &str, now: f64) -> NonceState {
    if nonce.len() != 32 {
        return NonceState::Invalid;
    }
    let Ok(raw) = b64url_decode(nonce.as_bytes()) else { return NonceState::Invalid };
    if raw.len() != 24 {
        return NonceState::Invalid;
    }
    let b = u64::from_be_bytes(raw[..8].try_into().expect("8 bytes"));
    let cur = bucket(lifetime_secs, now);
    let state = if b == cur {
        NonceState::Current
    } else if cur.checked_sub(1) == Some(b) {
        NonceState::Previous
    } else {
        return NonceState::Invalid;
    };
    if super::constant_time_eq(&raw[8..], &mac(secret, b)) { state } else { NonceState::Invalid }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        let s = b"0123456789abcdef0123";
        let n = issue(s, 300, 1_800_000_000.0);
        assert_eq!(n.len(), 32);
        assert_eq!(check(s, 300, &n, 1_800_000_000.0), NonceState::Current);
        assert_eq!(check(s, 300, &n, 1_800_000_299.0), NonceState::Current, "1_800_000_000 starts a bucket");
        assert_eq!(check(s, 300, &n, 1_800_000_300.0), NonceState::Previous);
        assert_eq!(check(s, 300, &n, 1_800_000_600.0), NonceState::Invalid);
        assert_eq!(check(s, 300, &n, 1_799_999_000.0), NonceState::Invalid, "a future bucket");
        assert_eq!(check(b"another secret 1234", 300, &n, 1_800_000_000.0), NonceState::Invalid);
        assert_eq!(check(s, 300, "x", 1_800_000_000.0), NonceState::Invalid);
        let mut t = n.clone().into_bytes();
        t[31] = if t[31] == b'A' { b'B' } else { b'A' };
        assert_eq!(check(s, 300, std::str::from_utf8(&t).unwrap(), 1_800_000_000.0), NonceState::Invalid);
    }
}
