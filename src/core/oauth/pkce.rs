//! PKCE (RFC 7636, S256 only) and the random values of an authorization request (`state`,
//! `nonce`). One copy for the whole library: the grants use [`generate`] and the authorization
//! URL builder uses [`challenge_s256`] / [`random_value`].

use aws_lc_rs::digest;

use super::secret::Secret;
use crate::core::error::{Error, ErrorKind, Result, err};
use crate::core::json::b64url_encode;

/// A PKCE pair: keep `verifier` for the code exchange, send `challenge` (method `S256`).
#[derive(Clone)]
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce").field("verifier", &self.verifier).field("challenge", &self.challenge).finish()
    }
}

/// The only challenge method liboidc sends (`plain` is never used).
pub const METHOD: &str = "S256";

/// `n` random bytes from the system RNG (aws-lc-rs), base64url-encoded.
pub fn random_value(n: usize) -> Result<String> {
    let mut b = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| Error::new(ErrorKind::InvalidArgument, "the system RNG failed"))?;
    Ok(b64url_encode(&b))
}

/// A new verifier (32 random bytes: 43 base64url characters, 256 bits) and its S256 challenge.
pub fn generate() -> Result<Pkce> {
    let v = random_value(32)?;
    let challenge = challenge_s256(&v);
    Ok(Pkce { verifier: Secret::new(v), challenge })
}

/// `BASE64URL(SHA256(verifier))`.
pub fn challenge_s256(verifier: &str) -> String {
    b64url_encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
}

/// RFC 7636 §4.1: 43-128 characters of `[A-Za-z0-9-._~]`.
pub fn check_verifier(v: &str) -> Result<()> {
    if !(43..=128).contains(&v.len()) {
        return err(ErrorKind::InvalidArgument, "a PKCE code verifier must be 43 to 128 characters long");
    }
    if !v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')) {
        return err(ErrorKind::InvalidArgument, "a PKCE code verifier may only use A-Z a-z 0-9 - . _ ~");
    }
    Ok(())
}

/// An S256 challenge is 43 base64url characters.
pub fn check_challenge(c: &str) -> Result<()> {
    if c.len() != 43 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')) {
        return err(ErrorKind::InvalidArgument, "a PKCE S256 code challenge must be 43 base64url characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn generated_pairs() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a.verifier, b.verifier);
        check_verifier(a.verifier.expose()).unwrap();
        check_challenge(&a.challenge).unwrap();
        assert_eq!(challenge_s256(a.verifier.expose()), a.challenge);
        assert!(!format!("{a:?}").contains(a.verifier.expose()));
        assert!(check_verifier("short").is_err());
        assert!(check_verifier(&"a".repeat(129)).is_err());
        assert!(check_verifier(&format!("{}!", "a".repeat(43))).is_err());
        assert!(check_challenge("abc").is_err());
    }
}
