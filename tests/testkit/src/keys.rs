//! Signing keys, JWKs and compact-JWS tokens.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// JWS algorithms supported by [`TestKey`].
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
}

impl Alg {
    /// Every supported algorithm.
    pub const ALL: [Alg; 10] =
        [Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA];

    /// The JOSE name (`"RS256"`, …, `"EdDSA"`).
    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// Parses a JOSE name (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == s)
    }

    /// JWK `kty`: `"RSA"`, `"EC"` or `"OKP"`.
    pub fn kty(self) -> &'static str {
        match self {
            Alg::ES256 | Alg::ES384 | Alg::ES512 => "EC",
            Alg::EdDSA => "OKP",
            _ => "RSA",
        }
    }

    /// RS* or PS*.
    pub fn is_rsa(self) -> bool {
        self.kty() == "RSA"
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Alg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Alg::parse(s).ok_or_else(|| format!("unknown alg {s:?}"))
    }
}

enum Material {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    WeakRsa,
}

/// A private signing key with a `kid` and a JWS `alg`.
///
/// Cloning is cheap (the key material is shared).
#[derive(Clone)]
pub struct TestKey {
    alg: Alg,
    kid: String,
    material: Arc<Material>,
}

impl fmt::Debug for TestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestKey").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

static KID_COUNTER: AtomicU64 = AtomicU64::new(0);

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut b).expect("rng");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl TestKey {
    /// Generates a fresh key for `alg` (RSA 2048 for RS*/PS*, P-256 for
    /// ES256, P-384 for ES384, P-521 for ES512, Ed25519 for EdDSA) with a unique kid of the
    /// form `"<alg lowercase>-<n>-<random hex>"`.
    pub fn generate(alg: Alg) -> TestKey {
        let n = KID_COUNTER.fetch_add(1, Ordering::Relaxed);
        let kid = format!("{}-{n}-{}", alg.name().to_ascii_lowercase(), random_hex(4));
        Self::generate_with_kid(alg, &kid)
    }

    /// Like [`TestKey::generate`] with a chosen kid.
    pub fn generate_with_kid(alg: Alg, kid: &str) -> TestKey {
        let material = match alg {
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
                Material::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA keygen"))
            }
            Alg::ES256 => Material::Ec(EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 keygen")),
            Alg::ES384 => Material::Ec(EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING).expect("P-384 keygen")),
            Alg::ES512 => Material::Ec(EcdsaKeyPair::generate(&signature::ECDSA_P521_SHA512_FIXED_SIGNING).expect("P-521 keygen")),
            Alg::EdDSA => Material::Ed(Ed25519KeyPair::generate().expect("Ed25519 keygen")),
        };
        TestKey { alg, kid: kid.to_string(), material: Arc::new(material) }
    }

    /// A fixed 1024-bit RSA key (alg RS256, kid `"weak-rsa1024"`), for
    /// "reject weak keys" tests. aws-lc-rs refuses to generate or load RSA
    /// keys below 2048 bits, so this key signs with a small built-in
    /// RSASSA-PKCS1-v1_5/SHA-256 implementation: tokens it signs ARE valid
    /// signatures (a verifier that accepts 1024-bit keys would accept them).
    /// Only RS256 is supported for it; `with_alg` to anything else panics.
    pub fn weak_rsa1024() -> TestKey {
        TestKey { alg: Alg::RS256, kid: "weak-rsa1024".to_string(), material: Arc::new(Material::WeakRsa) }
    }

    /// Same key material, different kid.
    pub fn with_kid(&self, kid: &str) -> TestKey {
        TestKey { kid: kid.to_string(), ..self.clone() }
    }

    /// Same key material, different alg, for alg-confusion tests. Allowed
    /// only within the RSA family (RS* ↔ PS*); panics otherwise.
    pub fn with_alg(&self, alg: Alg) -> TestKey {
        let ok = match &*self.material {
            Material::Rsa(_) => alg.is_rsa(),
            Material::WeakRsa => alg == Alg::RS256,
            _ => alg == self.alg,
        };
        assert!(ok, "cannot use a {} key for {}", self.alg, alg);
        TestKey { alg, ..self.clone() }
    }

    /// The JWS alg this key signs with.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// RSA modulus size in bits (None for EC/OKP keys).
    pub fn rsa_bits(&self) -> Option<usize> {
        match &*self.material {
            Material::Rsa(k) => Some(k.public_modulus_len() * 8),
            Material::WeakRsa => Some(1024),
            _ => None,
        }
    }

    /// Public JWK: `{"kty":"RSA","n","e"}`, `{"kty":"EC","crv","x","y"}`
    /// or `{"kty":"OKP","crv":"Ed25519","x"}`, each with `kid`, `alg`, and
    /// `"use":"sig"`. Mutate the returned value for malformed-JWK tests.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = match &*self.material {
            Material::Rsa(k) => {
                let pk = k.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(pk.modulus().big_endian_without_leading_zero()),
                    "e": b64(pk.exponent().big_endian_without_leading_zero()),
                })
            }
            Material::WeakRsa => json!({
                "kty": "RSA",
                "n": b64(weak::modulus_bytes()),
                "e": b64([1u8, 0, 1]),
            }),
            Material::Ec(k) => {
                let point = k.public_key().as_ref();
                let (crv, len) = match self.alg {
                    Alg::ES256 => ("P-256", 32),
                    Alg::ES384 => ("P-384", 48),
                    _ => ("P-521", 66),
                };
                assert_eq!(point.len(), 1 + 2 * len, "uncompressed EC point");
                json!({
                    "kty": "EC",
                    "crv": crv,
                    "x": b64(&point[1..1 + len]),
                    "y": b64(&point[1 + len..]),
                })
            }
            Material::Ed(k) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64(k.public_key().as_ref()),
            }),
        };
        let obj = jwk.as_object_mut().expect("object");
        obj.insert("kid".into(), json!(self.kid));
        obj.insert("alg".into(), json!(self.alg.name()));
        obj.insert("use".into(), json!("sig"));
        jwk
    }

    /// Signs `signing_input` (normally `"<b64 header>.<b64 payload>"`, but
    /// any bytes) with this key's alg: RS* PKCS#1 v1.5, PS* PSS (salt = hash
    /// length), ES* fixed-width `r||s`, EdDSA Ed25519. Returns the raw
    /// signature bytes (use [`b64`] to encode).
    pub fn sign_raw(&self, signing_input: &str) -> Vec<u8> {
        self.sign_bytes(signing_input.as_bytes())
    }

    /// [`TestKey::sign_raw`] over arbitrary bytes.
    pub fn sign_bytes(&self, msg: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &*self.material {
            Material::Rsa(k) => {
                let enc: &'static dyn signature::RsaEncoding = match self.alg {
                    Alg::RS256 => &signature::RSA_PKCS1_SHA256,
                    Alg::RS384 => &signature::RSA_PKCS1_SHA384,
                    Alg::RS512 => &signature::RSA_PKCS1_SHA512,
                    Alg::PS256 => &signature::RSA_PSS_SHA256,
                    Alg::PS384 => &signature::RSA_PSS_SHA384,
                    Alg::PS512 => &signature::RSA_PSS_SHA512,
                    other => unreachable!("RSA key with alg {other}"),
                };
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(enc, &rng, msg, &mut sig).expect("RSA sign");
                sig
            }
            Material::Ec(k) => k.sign(&rng, msg).expect("ECDSA sign").as_ref().to_vec(),
            Material::Ed(k) => k.sign(msg).as_ref().to_vec(),
            Material::WeakRsa => weak::sign_pkcs1_sha256(msg),
        }
    }

    /// Compact JWS: `b64(header) "." b64(claims) "." b64(signature)`.
    /// The header is used verbatim (it is NOT forced to match the key, so
    /// tests can lie about `alg`/`kid`); see [`default_header`].
    pub fn sign_token(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64_json(header), b64_json(claims));
        let sig = self.sign_raw(&input);
        format!("{input}.{}", b64(sig))
    }

    /// `sign_token(&default_header(self), claims)`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_token(&default_header(self), claims)
    }
}

/// `{"alg": key.alg, "kid": key.kid, "typ": "at+jwt"}`.
pub fn default_header(key: &TestKey) -> Value {
    json!({"alg": key.alg().name(), "kid": key.kid(), "typ": "at+jwt"})
}

/// `{"keys": [public_jwk of each key]}`.
pub fn jwks_value(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()})
}

/// `jwks_value(keys)` serialized.
pub fn jwks(keys: &[&TestKey]) -> String {
    jwks_value(keys).to_string()
}

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url-without-padding of the compact JSON serialization of `v`.
pub fn b64_json(v: &Value) -> String {
    b64(serde_json::to_vec(v).expect("serialize"))
}

/// Decodes base64url without padding (None on error).
pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Current UNIX time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

/// Typical access-token claims: `iss`, `aud` (string), `sub`,
/// `iat = now`, `nbf = now`, `exp = now + exp_in` (negative → expired),
/// random `jti`.
pub fn claims(iss: &str, aud: &str, sub: &str, exp_in: i64) -> Value {
    let t = now();
    json!({
        "iss": iss,
        "aud": aud,
        "sub": sub,
        "iat": t,
        "nbf": t,
        "exp": t + exp_in,
        "jti": random_hex(12),
    })
}

/// Verifies a compact JWS against a public JWK using aws-lc-rs (the JWK's
/// `kty`/`crv` and the token header's `alg` select the algorithm; RSA keys
/// of 1024..8192 bits are accepted for RS*). Returns false on any error.
/// Meant for self-checks of tokens minted by this crate or the binary.
pub fn verify_jws(jwk: &Value, token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return false;
    }
    let Some(header) = b64_decode(parts[0]).and_then(|h| serde_json::from_slice::<Value>(&h).ok()) else {
        return false;
    };
    let Some(alg) = header.get("alg").and_then(Value::as_str).and_then(Alg::parse) else {
        return false;
    };
    let Some(sig) = b64_decode(parts[2]) else {
        return false;
    };
    let input = format!("{}.{}", parts[0], parts[1]);
    verify_raw(jwk, alg, input.as_bytes(), &sig)
}

/// Verifies raw signature bytes over `msg` with the public JWK for `alg`.
pub fn verify_raw(jwk: &Value, alg: Alg, msg: &[u8], sig: &[u8]) -> bool {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str).and_then(b64_decode);
    match alg {
        Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
            let (Some(n), Some(e)) = (field("n"), field("e")) else {
                return false;
            };
            let params: &signature::RsaParameters = match alg {
                Alg::RS256 => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                Alg::RS512 => &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
                Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                Alg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                _ => &signature::RSA_PSS_2048_8192_SHA512,
            };
            signature::RsaPublicKeyComponents { n: &n, e: &e }.verify(params, msg, sig).is_ok()
        }
        Alg::ES256 | Alg::ES384 | Alg::ES512 => {
            let (Some(x), Some(y)) = (field("x"), field("y")) else {
                return false;
            };
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let valg = match alg {
                Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                Alg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                _ => &signature::ECDSA_P521_SHA512_FIXED,
            };
            signature::UnparsedPublicKey::new(valg, &point).verify(msg, sig).is_ok()
        }
        Alg::EdDSA => {
            let Some(x) = field("x") else { return false };
            signature::UnparsedPublicKey::new(&signature::ED25519, &x).verify(msg, sig).is_ok()
        }
    }
}

/// Fixed 1024-bit RSA key and a tiny Montgomery modexp to sign with it.
mod weak {
    use aws_lc_rs::digest;

    const N_HEX: &str = "E02E69570FA45074ACB64944CBE78627CC76B07D8E33CE3FDF4C1BF9FA4871C6\
        499135A967FAAB5D1F75D337C4C73CEC522DDF3DCF9F42F52C9D49DC852B160D\
        97F7172E280247D340C856C4778FFCC9D4935B1580FA267B1B54B7FC29EE11BC\
        63D354141638ABF75BB722FBD1A1762F4C58DE8FF68F50707C5407347414472F";
    const D_HEX: &str = "5b6a118272da6a0469b91b3f76763e7a5421c1ee30e267241c86089272c0bfc4\
        3f937af24d7826109f1788bda0fc2d97a01b1c8133fc996d28782afa45434086\
        1f229c435f9d467f17b2f6634861640a35954f471359ae5edade40ec9751b40f\
        def153c9f18c66c5f35b715068492500ac4f8d3d87e639613cfd62756bdb6d41";
    const K: usize = 128; // modulus bytes
    const LIMBS: usize = K / 4;

    fn hex_bytes(h: &str) -> Vec<u8> {
        let h: String = h.chars().filter(|c| !c.is_whitespace()).collect();
        (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex")).collect()
    }

    pub fn modulus_bytes() -> Vec<u8> {
        hex_bytes(N_HEX)
    }

    /// Big-endian bytes (len ≤ K) → little-endian u32 limbs.
    fn to_limbs(be: &[u8]) -> Vec<u32> {
        let mut padded = vec![0u8; K - be.len()];
        padded.extend_from_slice(be);
        (0..LIMBS)
            .map(|i| {
                let off = K - 4 * (i + 1);
                u32::from_be_bytes([padded[off], padded[off + 1], padded[off + 2], padded[off + 3]])
            })
            .collect()
    }

    fn from_limbs(l: &[u32]) -> Vec<u8> {
        l.iter().rev().flat_map(|x| x.to_be_bytes()).collect()
    }

    fn geq(a: &[u32], b: &[u32]) -> bool {
        for i in (0..LIMBS).rev() {
            if a[i] != b[i] {
                return a[i] > b[i];
            }
        }
        true
    }

    fn sub_in_place(a: &mut [u32], b: &[u32]) {
        let mut borrow = 0i64;
        for i in 0..LIMBS {
            let v = a[i] as i64 - b[i] as i64 - borrow;
            if v < 0 {
                a[i] = (v + (1i64 << 32)) as u32;
                borrow = 1;
            } else {
                a[i] = v as u32;
                borrow = 0;
            }
        }
    }

    /// Montgomery product a*b*R^-1 mod n (CIOS).
    fn mont_mul(a: &[u32], b: &[u32], n: &[u32], n0inv: u32) -> Vec<u32> {
        let mut t = [0u32; LIMBS + 2];
        for &bi in b.iter().take(LIMBS) {
            let mut c: u64 = 0;
            for j in 0..LIMBS {
                let s = t[j] as u64 + a[j] as u64 * bi as u64 + c;
                t[j] = s as u32;
                c = s >> 32;
            }
            let s = t[LIMBS] as u64 + c;
            t[LIMBS] = s as u32;
            t[LIMBS + 1] = (s >> 32) as u32;
            let m = t[0].wrapping_mul(n0inv);
            let s = t[0] as u64 + m as u64 * n[0] as u64;
            let mut c = s >> 32;
            for j in 1..LIMBS {
                let s = t[j] as u64 + m as u64 * n[j] as u64 + c;
                t[j - 1] = s as u32;
                c = s >> 32;
            }
            let s = t[LIMBS] as u64 + c;
            t[LIMBS - 1] = s as u32;
            t[LIMBS] = t[LIMBS + 1] + (s >> 32) as u32;
        }
        let mut r = t[..LIMBS].to_vec();
        if t[LIMBS] != 0 || geq(&r, n) {
            sub_in_place(&mut r, n);
        }
        r
    }

    /// base^exp mod n.
    fn mod_exp(base: &[u32], exp_be: &[u8], n: &[u32]) -> Vec<u32> {
        // n0inv = -n^-1 mod 2^32 (Newton iteration; n is odd).
        let mut inv: u32 = 1;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(n[0].wrapping_mul(inv)));
        }
        let n0inv = inv.wrapping_neg();
        // R^2 mod n by doubling 1 (2 * 32 * LIMBS) times.
        let mut r2 = vec![0u32; LIMBS];
        r2[0] = 1;
        for _ in 0..(2 * 32 * LIMBS) {
            let mut carry = 0u32;
            for x in r2.iter_mut() {
                let nc = *x >> 31;
                *x = (*x << 1) | carry;
                carry = nc;
            }
            if carry != 0 || geq(&r2, n) {
                sub_in_place(&mut r2, n);
            }
        }
        let mut one = vec![0u32; LIMBS];
        one[0] = 1;
        let xm = mont_mul(base, &r2, n, n0inv);
        let mut acc = mont_mul(&one, &r2, n, n0inv);
        for byte in exp_be {
            for bit in (0..8).rev() {
                acc = mont_mul(&acc, &acc, n, n0inv);
                if (byte >> bit) & 1 == 1 {
                    acc = mont_mul(&acc, &xm, n, n0inv);
                }
            }
        }
        mont_mul(&acc, &one, n, n0inv)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256.
    pub fn sign_pkcs1_sha256(msg: &[u8]) -> Vec<u8> {
        const PREFIX: [u8; 19] =
            [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];
        let h = digest::digest(&digest::SHA256, msg);
        let t_len = PREFIX.len() + 32;
        let mut em = vec![0x00u8, 0x01];
        em.extend(std::iter::repeat_n(0xffu8, K - t_len - 3));
        em.push(0);
        em.extend_from_slice(&PREFIX);
        em.extend_from_slice(h.as_ref());
        let n = to_limbs(&hex_bytes(N_HEX));
        let s = mod_exp(&to_limbs(&em), &hex_bytes(D_HEX), &n);
        from_limbs(&s)
    }
}
