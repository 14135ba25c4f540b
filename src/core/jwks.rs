//! JWK / JWKS parsing into pre-parsed verification keys.
//!
//! Every usable key is parsed once, at JWKS load time, into an aws-lc-rs `ParsedPublicKey` per
//! algorithm it may verify, so a validation only runs the signature check. Keys that cannot be
//! used are skipped with a recorded reason (so a token naming one gets a precise `KeyRejected`).

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use serde_json::Value;

use super::config::{Algorithm, MAX_KEYS_PER_SET};
use super::error::{Error, ErrorKind, Result, err};
use super::json::{b64url_decode, printable};

/// Minimum RSA modulus size.
pub const MIN_RSA_BITS: usize = 2048;
/// Maximum RSA modulus size (aws-lc-rs verifies up to 8192).
pub const MAX_RSA_BITS: usize = 8192;

/// The key type/curve families we verify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Rsa,
    P256,
    P384,
    P521,
    Ed25519,
}

impl KeyFamily {
    /// The family an algorithm needs.
    pub fn of(alg: Algorithm) -> KeyFamily {
        use Algorithm::*;
        match alg {
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => KeyFamily::Rsa,
            ES256 => KeyFamily::P256,
            ES384 => KeyFamily::P384,
            ES512 => KeyFamily::P521,
            EdDSA => KeyFamily::Ed25519,
        }
    }

    fn algorithms(self) -> &'static [Algorithm] {
        use Algorithm::*;
        match self {
            KeyFamily::Rsa => &[RS256, RS384, RS512, PS256, PS384, PS512],
            KeyFamily::P256 => &[ES256],
            KeyFamily::P384 => &[ES384],
            KeyFamily::P521 => &[ES512],
            KeyFamily::Ed25519 => &[EdDSA],
        }
    }
}

fn verification_alg(alg: Algorithm) -> &'static dyn VerificationAlgorithm {
    use Algorithm::*;
    match alg {
        RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        ES512 => &signature::ECDSA_P521_SHA512_FIXED,
        EdDSA => &signature::ED25519,
    }
}

/// One verification key, parsed for each algorithm it may be used with.
pub struct Jwk {
    pub kid: Option<String>,
    /// The key's own `alg`, if it declared one: then only that algorithm is accepted.
    pub alg: Option<Algorithm>,
    pub family: KeyFamily,
    /// Exact signature length this key produces (RSA: modulus bytes).
    pub sig_len: usize,
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwk").field("kid", &self.kid).field("alg", &self.alg).field("family", &self.family).finish()
    }
}

impl Jwk {
    /// Whether this key may verify a token signed with `alg`.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        KeyFamily::of(alg) == self.family && self.alg.is_none_or(|a| a == alg)
    }

    /// The public key material (PKCS#1 DER for RSA, the uncompressed point for EC, the 32 bytes
    /// for Ed25519): two keys with the same bytes verify the same signatures.
    pub fn key_bytes(&self) -> &[u8] {
        self.parsed.first().map(|(_, k)| k.as_ref()).unwrap_or_default()
    }

    /// Verify `sig` over `message` with `alg`. Degenerate signatures (wrong length) are rejected
    /// before the crypto layer sees them.
    pub fn verify(&self, alg: Algorithm, message: &[u8], sig: &[u8]) -> Result<()> {
        if sig.len() != self.sig_len {
            return err(ErrorKind::SignatureInvalid, format!("signature is {} bytes; {} needs {}", sig.len(), alg.name(), self.sig_len));
        }
        let Some((_, key)) = self.parsed.iter().find(|(a, _)| *a == alg) else {
            return err(ErrorKind::AlgorithmNotAllowed, format!("key does not support {}", alg.name()));
        };
        key.verify_sig(message, sig).map_err(|_| Error::new(ErrorKind::SignatureInvalid, "signature verification failed"))
    }
}

/// A key that was published but cannot be used, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub kid: Option<String>,
    pub reason: String,
}

/// A parsed JWKS.
#[derive(Debug, Default)]
pub struct KeySet {
    pub keys: Vec<Jwk>,
    pub rejected: Vec<Rejected>,
    /// Keys published for something else (encryption, another algorithm family): not used,
    /// remembered so a token naming one is told why.
    pub skipped: Vec<Rejected>,
}

/// The outcome of looking a token's key up.
pub enum Lookup<'a> {
    Found(&'a Jwk),
    /// No key fits; the message says why (for the error).
    Missing(String),
    /// The key named by `kid` was published but rejected.
    Rejected(String),
    /// The key named by `kid` exists but does not accept the token's algorithm.
    Mismatch(String),
}

impl KeySet {
    /// Parse a JWKS document. Structural problems fail; unusable keys are skipped and recorded.
    pub fn parse(doc: &[u8]) -> Result<KeySet> {
        let v: Value = serde_json::from_slice(doc).map_err(|_| Error::new(ErrorKind::JwksInvalid, "JWKS is not valid JSON"))?;
        let Some(keys) = v.as_object().and_then(|o| o.get("keys")) else {
            return err(ErrorKind::JwksInvalid, "JWKS is not an object with a \"keys\" member");
        };
        let Some(keys) = keys.as_array() else {
            return err(ErrorKind::JwksInvalid, "JWKS \"keys\" is not an array");
        };
        if keys.len() > MAX_KEYS_PER_SET {
            return err(ErrorKind::JwksInvalid, format!("JWKS has {} keys; at most {MAX_KEYS_PER_SET} are accepted", keys.len()));
        }
        let mut set = KeySet::default();
        for k in keys {
            let kid = k.get("kid").and_then(Value::as_str).map(|s| s.to_string());
            match parse_jwk_or_skip(k, None) {
                Ok(Ok(j)) => set.keys.push(j),
                Ok(Err(reason)) => set.skipped.push(Rejected { kid, reason }),
                Err(reason) => set.rejected.push(Rejected { kid, reason }),
            }
        }
        Ok(set)
    }

    /// Find the key for a token header's `kid` and `alg`.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Lookup<'_> {
        match kid {
            Some(kid) => {
                if let Some(k) = self.keys.iter().find(|k| k.kid.as_deref() == Some(kid) && k.accepts(alg)) {
                    return Lookup::Found(k);
                }
                if let Some(r) = self.rejected.iter().find(|r| r.kid.as_deref() == Some(kid)) {
                    return Lookup::Rejected(format!("key '{}' is unusable: {}", printable(kid), r.reason));
                }
                if self.keys.iter().any(|k| k.kid.as_deref() == Some(kid)) {
                    return Lookup::Mismatch(format!(
                        "key '{}' does not accept {} (key type or declared alg differs)",
                        printable(kid),
                        alg.name()
                    ));
                }
                if let Some(r) = self.skipped.iter().find(|r| r.kid.as_deref() == Some(kid)) {
                    return Lookup::Missing(format!("key '{}' is not for verifying signatures: {}", printable(kid), r.reason));
                }
                Lookup::Missing(format!("no key with kid '{}' in the key set", printable(kid)))
            }
            None => {
                let mut it = self.keys.iter().filter(|k| k.accepts(alg));
                match (it.next(), it.next()) {
                    (Some(k), None) => Lookup::Found(k),
                    (None, _) => Lookup::Missing(format!("token has no kid and no key accepts {}", alg.name())),
                    (Some(_), Some(_)) => {
                        Lookup::Missing(format!("token has no kid and several keys accept {}; a kid is required", alg.name()))
                    }
                }
            }
        }
    }
}

fn b64_member(k: &Value, name: &str) -> std::result::Result<Vec<u8>, String> {
    let s = k.get(name).and_then(Value::as_str).ok_or_else(|| format!("missing or non-string \"{name}\""))?;
    b64url_decode(s.as_bytes()).map_err(|_| format!("\"{name}\" is not valid base64url"))
}

/// Parse a public JWK that must verify `alg` (a DPoP proof's `jwk` header): only that
/// algorithm's key is prepared. `use`, `key_ops` and a declared `alg` must allow it.
pub fn parse_jwk_for(k: &Value, alg: Algorithm) -> std::result::Result<Jwk, String> {
    match parse_jwk_algs(k, Some(alg))? {
        Some(j) if j.accepts(alg) => Ok(j),
        _ => Err(format!("the key is not usable for {}", alg.name())),
    }
}

#[cfg(test)]
fn parse_jwk(k: &Value) -> std::result::Result<Option<Jwk>, String> {
    parse_jwk_algs(k, None)
}

/// Parse one JWK. `Ok(None)`: not a signature-verification key (skipped silently, e.g. `use: enc`,
/// symmetric keys). `Err`: a verification key that is unusable (weak, malformed).
fn parse_jwk_algs(k: &Value, only: Option<Algorithm>) -> std::result::Result<Option<Jwk>, String> {
    parse_jwk_or_skip(k, only).map(|r| r.ok())
}

/// Parse one JWK: `Ok(Ok(key))`; `Ok(Err(why))` when the key is not for verifying signatures
/// (`use`, `key_ops`, an `alg` or key type liboidc never verifies with: skipped, but a token
/// naming it is told why); `Err(why)` when it is a verification key that is unusable.
fn parse_jwk_or_skip(k: &Value, only: Option<Algorithm>) -> std::result::Result<std::result::Result<Jwk, String>, String> {
    let Some(obj) = k.as_object() else { return Err("key is not a JSON object".into()) };
    if let Some(u) = obj.get("use") {
        if u.as_str() != Some("sig") {
            return Ok(Err(format!("it is published with \"use\" {} (not \"sig\")", printable(&u.to_string()))));
        }
    }
    if let Some(ops) = obj.get("key_ops") {
        let Some(ops) = ops.as_array() else { return Err("\"key_ops\" is not an array".into()) };
        if !ops.iter().any(|o| o.as_str() == Some("verify")) {
            return Ok(Err("its \"key_ops\" do not include \"verify\"".into()));
        }
    }
    let kid = obj.get("kid").and_then(Value::as_str).map(|s| s.to_string());
    let declared = match obj.get("alg") {
        None => None,
        Some(a) => match a.as_str().and_then(Algorithm::from_jose) {
            Some(a) => Some(a),
            // an algorithm we never verify with (HS*, RSA-OAEP, ...)
            None => return Ok(Err(format!("its \"alg\" {} is not one liboidc verifies with", printable(&a.to_string())))),
        },
    };
    let kty = obj.get("kty").and_then(Value::as_str).unwrap_or("");
    let crv = obj.get("crv").and_then(Value::as_str);
    let (family, bytes, sig_len) = match (kty, crv) {
        ("RSA", _) => {
            let n = b64_member(k, "n")?;
            let e = b64_member(k, "e")?;
            let (der, modulus_len) = rsa_public_key_der(&n, &e)?;
            (KeyFamily::Rsa, der, modulus_len)
        }
        ("EC", Some("P-256")) => (KeyFamily::P256, ec_point(k, 32)?, 64),
        ("EC", Some("P-384")) => (KeyFamily::P384, ec_point(k, 48)?, 96),
        // P-521: 521-bit coordinates in 66 bytes (RFC 7518 §6.2.1.2), a 132-byte R || S.
        ("EC", Some("P-521")) => (KeyFamily::P521, ec_point(k, 66)?, 132),
        ("EC", _) => return Err("unsupported EC curve".into()),
        ("OKP", Some("Ed25519")) => {
            let x = b64_member(k, "x")?;
            if x.len() != 32 {
                return Err(format!("Ed25519 \"x\" is {} bytes, not 32", x.len()));
            }
            if ed25519_small_order_or_noncanonical(&x) {
                return Err("Ed25519 \"x\" is a small-order or non-canonical point (signatures under it are forgeable)".into());
            }
            (KeyFamily::Ed25519, x, 64)
        }
        ("OKP", _) => return Err("unsupported OKP curve".into()),
        // oct and unknown key types: never used for verification
        _ => return Ok(Err(format!("its key type {} is never used to verify signatures", printable(&format!("{kty:?}"))))),
    };
    if let Some(a) = declared {
        if KeyFamily::of(a) != family {
            return Err(format!("declared alg {} does not fit the key type", a.name()));
        }
    }
    let mut parsed = Vec::new();
    for &alg in family.algorithms() {
        if declared.is_some_and(|d| d != alg) || only.is_some_and(|o| o != alg) {
            continue;
        }
        let pk = ParsedPublicKey::new(verification_alg(alg), &bytes).map_err(|e| format!("key rejected by the crypto layer: {e}"))?;
        parsed.push((alg, pk));
    }
    Ok(Ok(Jwk { kid, alg: declared, family, sig_len, parsed }))
}

/// The y-coordinates (little endian, the sign bit of x cleared) of the Ed25519 points of order 1,
/// 2, 4 and 8 (libsodium's blocklist): RFC 8032 verification against such a public key accepts
/// forged signatures.
const ED25519_SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
        0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
        0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ],
    // p - 1 (order 2)
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ],
];

/// An encoded Ed25519 public key whose point has small order, or whose y is not reduced (y >= p,
/// which covers the non-canonical spellings of 0 and 1).
fn ed25519_small_order_or_noncanonical(x: &[u8]) -> bool {
    let mut y = [0u8; 32];
    y.copy_from_slice(x);
    y[31] &= 0x7f;
    let non_canonical = y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed;
    non_canonical || ED25519_SMALL_ORDER_Y.contains(&y)
}

fn ec_point(k: &Value, len: usize) -> std::result::Result<Vec<u8>, String> {
    let x = b64_member(k, "x")?;
    let y = b64_member(k, "y")?;
    if x.len() != len || y.len() != len {
        return Err(format!("EC coordinates must be {len} bytes each"));
    }
    let mut p = Vec::with_capacity(1 + 2 * len);
    p.push(4);
    p.extend_from_slice(&x);
    p.extend_from_slice(&y);
    Ok(p)
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[i..]
}

/// Check an RSA public key and encode it as a PKCS#1 `RSAPublicKey` DER. Returns the DER and
/// the modulus length in bytes.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> std::result::Result<(Vec<u8>, usize), String> {
    let n = strip_zeros(n);
    let e = strip_zeros(e);
    let bits = if n.is_empty() { 0 } else { n.len() * 8 - n[0].leading_zeros() as usize };
    if bits < MIN_RSA_BITS {
        return Err(format!("RSA modulus is {bits} bits; at least {MIN_RSA_BITS} are required"));
    }
    if bits > MAX_RSA_BITS {
        return Err(format!("RSA modulus is {bits} bits; at most {MAX_RSA_BITS} are supported"));
    }
    if n[n.len() - 1] & 1 == 0 {
        return Err("RSA modulus is even".into());
    }
    if e.is_empty() || e.len() > 4 {
        return Err("RSA exponent is out of range".into());
    }
    let ev = e.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64);
    if ev < 3 || ev % 2 == 0 {
        return Err("RSA exponent must be odd and at least 3".into());
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    der_uint(&mut body, n);
    der_uint(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    der_len(&mut out, body.len());
    out.extend_from_slice(&body);
    Ok((out, n.len()))
}

fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

fn der_uint(out: &mut Vec<u8>, v: &[u8]) {
    let pad = v[0] & 0x80 != 0;
    out.push(0x02);
    der_len(out, v.len() + pad as usize);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(b: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    #[test]
    fn rsa_checks() {
        let mut n = vec![0xC5u8; 256];
        n[255] |= 1;
        assert!(rsa_public_key_der(&n, &[1, 0, 1]).is_ok());
        assert!(rsa_public_key_der(&n[..128], &[1, 0, 1]).unwrap_err().contains("1024 bits"));
        assert!(rsa_public_key_der(&n, &[1]).unwrap_err().contains("exponent"));
        assert!(rsa_public_key_der(&n, &[2]).unwrap_err().contains("exponent"));
        let mut even = n.clone();
        even[255] &= 0xFE;
        assert!(rsa_public_key_der(&even, &[3]).unwrap_err().contains("even"));
    }

    #[test]
    fn ed25519_small_order_keys_are_rejected() {
        let okp = |x: &[u8]| serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": "e", "x": b64(x)});
        for y in ED25519_SMALL_ORDER_Y {
            for sign in [0u8, 0x80] {
                let mut x = y;
                x[31] |= sign;
                let e = parse_jwk(&okp(&x)).unwrap_err();
                assert!(e.contains("small-order"), "{e}");
            }
        }
        let mut p = [0xffu8; 32];
        p[0] = 0xed; // p itself: a non-canonical 0
        p[31] = 0x7f;
        assert!(parse_jwk(&okp(&p)).is_err());
        p[0] = 0xee; // p + 1: a non-canonical 1
        assert!(parse_jwk(&okp(&p)).is_err());
        // RFC 8032 section 7.1 test 1 public key: a real key is still accepted.
        let good: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        assert!(parse_jwk(&okp(&good)).unwrap().is_some());
    }

    #[test]
    fn skips_and_rejects() {
        let doc = json!({"keys": [
            {"kty": "oct", "k": "AAAA", "kid": "h"},
            {"kty": "EC", "crv": "P-256", "use": "enc", "x": b64(&[1; 32]), "y": b64(&[1; 32]), "kid": "e"},
            {"kty": "EC", "crv": "P-256", "key_ops": ["encrypt"], "x": b64(&[1; 32]), "y": b64(&[1; 32])},
            {"kty": "EC", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[1; 32]), "kid": "bad-point"},
            {"kty": "EC", "crv": "P-256", "x": b64(&[1; 31]), "y": b64(&[1; 32]), "kid": "short"},
            {"kty": "OKP", "crv": "X25519", "x": b64(&[1; 32]), "kid": "x"}
        ]});
        let s = KeySet::parse(doc.to_string().as_bytes()).unwrap();
        assert!(s.keys.is_empty());
        let kids: Vec<_> = s.rejected.iter().map(|r| r.kid.clone().unwrap_or_default()).collect();
        assert_eq!(kids, ["bad-point", "short", "x"]);
        assert!(matches!(s.find(Some("bad-point"), Algorithm::ES256), Lookup::Rejected(_)));
        assert!(matches!(s.find(Some("nope"), Algorithm::ES256), Lookup::Missing(_)));
    }

    #[test]
    fn p521_keys() {
        use aws_lc_rs::signature::{ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let pair = EcdsaKeyPair::generate(&ECDSA_P521_SHA512_FIXED_SIGNING).unwrap();
        let pt = pair.public_key().as_ref();
        assert_eq!(pt.len(), 133);
        let ec = |x: &[u8], y: &[u8]| json!({"kty": "EC", "crv": "P-521", "kid": "p", "x": b64(x), "y": b64(y)});
        let k = parse_jwk(&ec(&pt[1..67], &pt[67..])).unwrap().unwrap();
        assert_eq!((k.family, k.sig_len), (KeyFamily::P521, 132));
        assert!(k.accepts(Algorithm::ES512) && !k.accepts(Algorithm::ES256) && !k.accepts(Algorithm::ES384));
        let msg = b"signing input";
        let sig = pair.sign(&aws_lc_rs::rand::SystemRandom::new(), msg).unwrap();
        assert_eq!(sig.as_ref().len(), 132);
        k.verify(Algorithm::ES512, msg, sig.as_ref()).unwrap();
        assert_eq!(k.verify(Algorithm::ES512, b"other", sig.as_ref()).unwrap_err().kind(), ErrorKind::SignatureInvalid);
        // A DER or truncated signature is refused before the crypto layer.
        assert!(k.verify(Algorithm::ES512, msg, &sig.as_ref()[..130]).unwrap_err().message().contains("132"));
        // 65-byte (unpadded) coordinates, a point off the curve, P-384-sized coordinates.
        assert!(parse_jwk(&ec(&pt[2..67], &pt[68..])).unwrap_err().contains("66 bytes"));
        let mut off = pt[67..].to_vec();
        off[65] ^= 1;
        assert!(parse_jwk(&ec(&pt[1..67], &off)).unwrap_err().contains("crypto layer"));
        assert!(parse_jwk(&ec(&[1; 48], &[1; 48])).is_err());
        // A P-521 key declared for another algorithm, and a P-256 key declared ES512, are unusable.
        let mut declared = ec(&pt[1..67], &pt[67..]);
        declared["alg"] = json!("ES256");
        assert!(parse_jwk(&declared).unwrap_err().contains("does not fit"));
        // The key a DPoP proof carries.
        assert!(parse_jwk_for(&ec(&pt[1..67], &pt[67..]), Algorithm::ES512).is_ok());
        assert!(parse_jwk_for(&ec(&pt[1..67], &pt[67..]), Algorithm::ES384).is_err());
    }

    #[test]
    fn structural_errors() {
        for doc in ["[]", "{}", "{\"keys\":{}}", "nope", "{\"keys\":[1]"] {
            assert_eq!(KeySet::parse(doc.as_bytes()).unwrap_err().kind(), ErrorKind::JwksInvalid, "{doc}");
        }
        let many = json!({"keys": vec![json!({"kty":"oct"}); MAX_KEYS_PER_SET + 1]});
        assert_eq!(KeySet::parse(many.to_string().as_bytes()).unwrap_err().kind(), ErrorKind::JwksInvalid);
    }
}
