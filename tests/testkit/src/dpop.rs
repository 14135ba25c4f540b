//! DPoP (RFC 9449) proofs for tests: a proof key with its public JWK and RFC 7638 thumbprint,
//! proof claims, `ath`. Written from the RFCs, independently of liboidc.

use aws_lc_rs::digest;
use serde_json::{Value, json};

use crate::keys::{Alg, TestKey, b64};

/// base64url(SHA-256(bytes)): `ath` of a token, `x5t#S256` of a certificate.
pub fn sha256_b64(bytes: &[u8]) -> String {
    b64(digest::digest(&digest::SHA256, bytes).as_ref())
}

/// RFC 9449 `ath`: base64url(SHA-256(ASCII access token)).
pub fn ath(token: &str) -> String {
    sha256_b64(token.as_bytes())
}

/// A fresh random `jti`.
pub fn random_jti() -> String {
    let mut b = [0u8; 12];
    aws_lc_rs::rand::fill(&mut b).expect("rng");
    format!("jti-{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

/// RFC 7638 thumbprint of a public JWK: SHA-256 over the required members only, in
/// lexicographic order, without whitespace.
pub fn thumbprint(jwk: &Value) -> String {
    let s = |n: &str| jwk[n].as_str().unwrap_or_else(|| panic!("jwk member {n}")).to_string();
    let canonical = match jwk["kty"].as_str() {
        Some("EC") => format!(r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#, s("crv"), s("x"), s("y")),
        Some("OKP") => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, s("crv"), s("x")),
        Some("RSA") => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s("e"), s("n")),
        other => panic!("no thumbprint for kty {other:?}"),
    };
    sha256_b64(canonical.as_bytes())
}

/// A DPoP proof key: the signing key, its public JWK as a client puts it in a proof header
/// (required members only), and its thumbprint (the `cnf.jkt` of tokens bound to it).
#[derive(Clone, Debug)]
pub struct ProofKey {
    pub key: TestKey,
    pub jwk: Value,
    pub jkt: String,
}

impl ProofKey {
    /// A fresh key for `alg`.
    pub fn new(alg: Alg) -> ProofKey {
        ProofKey::from_key(TestKey::generate(alg))
    }

    /// The proof key of an existing test key.
    pub fn from_key(key: TestKey) -> ProofKey {
        let full = key.public_jwk();
        let s = |n: &str| full[n].clone();
        let jwk = match key.alg().kty() {
            "EC" => json!({"kty": "EC", "crv": s("crv"), "x": s("x"), "y": s("y")}),
            "OKP" => json!({"kty": "OKP", "crv": s("crv"), "x": s("x")}),
            _ => json!({"kty": "RSA", "n": s("n"), "e": s("e")}),
        };
        let jkt = thumbprint(&jwk);
        ProofKey { key, jwk, jkt }
    }

    /// `{"typ":"dpop+jwt","alg":<alg>,"jwk":<public jwk>}`.
    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.key.alg().name(), "jwk": self.jwk})
    }

    /// Claims of a proof presenting `token` for `htm htu` at `iat`, with a fresh `jti`.
    pub fn claims(token: &str, htm: &str, htu: &str, iat: i64) -> Value {
        json!({"jti": random_jti(), "htm": htm, "htu": htu, "iat": iat, "ath": ath(token)})
    }

    /// Sign `header` and `claims` (used verbatim) with this key.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        self.key.sign_token(header, claims)
    }

    /// A well-formed proof; `edit` may change the header and the claims before signing.
    pub fn proof_with(&self, token: &str, htm: &str, htu: &str, iat: i64, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
        let mut h = self.header();
        let mut c = ProofKey::claims(token, htm, htu, iat);
        edit(&mut h, &mut c);
        self.sign(&h, &c)
    }

    /// A well-formed proof.
    pub fn proof(&self, token: &str, htm: &str, htu: &str, iat: i64) -> String {
        self.proof_with(token, htm, htu, iat, |_, _| {})
    }
}
