//! DPoP proof verification at a resource server (RFC 9449 §4.3).
//!
//! Order: size, compact-JWS structure (strict base64url, unique JSON members), header (`typ`
//! `dpop+jwt`, an allowed asymmetric `alg`, a public `jwk` usable for it), the signature with that
//! key, and only then the claims (`jti`, `htm`, `htu`, `iat`, `ath`, `nonce`), so no claim-based
//! answer is given for a forged proof. The nonce, the replay check and the token binding
//! (`cnf.jkt`) are the caller's (`authn`), since they depend on the resource's state.

use std::collections::HashMap;
use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::RwLock;
use serde_json::Value;

use super::MAX_DPOP_PROOF_BYTES;
use crate::core::config::{Algorithm, DpopConfig};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::json::{RawObject, Scalar, b64url_decode, b64url_encode, scalar};
use crate::core::jwks::{Jwk, parse_jwk_for};

/// Longest `jti` accepted (it becomes a replay-cache key).
pub const MAX_JTI_LEN: usize = 256;
/// Longest nonce accepted in a proof.
pub const MAX_NONCE_LEN: usize = 512;

/// What a proof is checked against.
pub struct ProofRequest<'a> {
    /// The `DPoP` header value as received.
    pub proof: &'a [u8],
    pub method: &'a str,
    pub url: &'a str,
    /// The access token the proof must hash in `ath`.
    pub access_token: &'a str,
}

/// A proof that passed every check but the replay, nonce and binding checks.
#[derive(Debug, Clone)]
pub struct VerifiedProof {
    /// RFC 7638 thumbprint of the proof's `jwk` (compared with the token's `cnf.jkt`).
    pub jkt: String,
    pub jti: String,
    pub iat: f64,
    pub nonce: Option<String>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::DpopProofInvalid, msg)
}

fn mismatch(msg: &str) -> Error {
    Error::new(ErrorKind::DpopProofMismatch, msg)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// RFC 3986 §6.2.2.2: upper-case percent-escapes, decode those of unreserved characters.
fn normalize_escapes(p: &str) -> Option<String> {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let (h, l) = (hex_val(*b.get(i + 1)?)?, hex_val(*b.get(i + 2)?)?);
            let v = h * 16 + l;
            if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                out.push(v as char);
            } else {
                out.push('%');
                out.push(b[i + 1].to_ascii_uppercase() as char);
                out.push(b[i + 2].to_ascii_uppercase() as char);
            }
            i += 3;
        } else {
            out.push(c as char);
            i += 1;
        }
    }
    Some(out)
}

/// RFC 3986 §5.2.4 remove_dot_segments, on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let n = segs.len();
    for (i, s) in segs.iter().enumerate() {
        let last = i + 1 == n;
        match *s {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// An absolute http(s) URL taken apart for its `htu` form, after every check of
/// [`normalize_htu`], without allocating.
struct HtuParts<'a> {
    https: bool,
    host: &'a str,
    /// Without leading zeros; `None` for the scheme's default port.
    port: Option<&'a str>,
    /// Without query and fragment; may be empty.
    path: &'a str,
}

/// Whether every `%` of `s` starts an escape `%XX` ([`normalize_escapes`] accepts `s`).
fn escapes_valid(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match (b.get(i + 1).and_then(|c| hex_val(*c)), b.get(i + 2).and_then(|c| hex_val(*c))) {
                (Some(_), Some(_)) => i += 3,
                _ => return false,
            }
        } else {
            i += 1;
        }
    }
    true
}

fn htu_parts(url: &str) -> Option<HtuParts<'_>> {
    if url.len() > 8192 || url.bytes().any(|c| c <= b' ' || c == 0x7f || !c.is_ascii()) {
        return None;
    }
    // The scheme before the first "://", which must be http or https (any case); the URL is
    // ASCII, so these byte offsets are character boundaries.
    let b = url.as_bytes();
    let (https, rest) = if b.len() >= 8 && b[..8].eq_ignore_ascii_case(b"https://") {
        (true, &url[8..])
    } else if b.len() >= 7 && b[..7].eq_ignore_ascii_case(b"http://") {
        (false, &url[7..])
    } else {
        return None;
    };
    let default_port = if https { "443" } else { "80" };
    let end = rest.bytes().position(|c| matches!(c, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']')?;
        let after = &v6[close + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (&authority[..close + 2], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return None;
    }
    let port = match port {
        Some(p) if !p.bytes().all(|c| c.is_ascii_digit()) || p.parse::<u32>().map_or(!p.is_empty(), |n| n > 65535) => {
            return None;
        }
        Some(p) => {
            let p = p.trim_start_matches('0');
            if p.is_empty() && port != Some("") {
                return None; // port 0
            }
            if p.is_empty() || p == default_port { None } else { Some(p) }
        }
        None => None,
    };
    let path_end = tail.bytes().position(|c| matches!(c, b'?' | b'#')).unwrap_or(tail.len());
    let path = &tail[..path_end];
    if !escapes_valid(path) || !escapes_valid(host) {
        return None;
    }
    Some(HtuParts { https, host, port, path })
}

/// Whether `url` is an absolute http(s) URL whose `htu` form exists ([`normalize_htu`] is
/// `Some`), decided without building it.
pub fn is_htu_url(url: &str) -> bool {
    htu_parts(url).is_some()
}

/// The `htu` form of a URL (RFC 9449 §4.3 check 9, RFC 3986 §6.2.2 and §6.2.3): scheme and host
/// lower case, the default port dropped, an empty path made `/`, percent-escapes normalized, dot
/// segments removed, no query or fragment. `None` if it is not an absolute http(s) URL without
/// user information, or holds spaces or control characters.
pub fn normalize_htu(url: &str) -> Option<String> {
    htu_parts(url)?.normalized()
}

/// An empty path is `/`.
fn or_root(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

impl HtuParts<'_> {
    fn normalized(&self) -> Option<String> {
        let scheme = if self.https { "https" } else { "http" };
        let path = if self.path.is_empty() { "/".to_string() } else { remove_dot_segments(&normalize_escapes(self.path)?) };
        let host = normalize_escapes(&self.host.to_ascii_lowercase())?;
        Some(match self.port {
            Some(port) => format!("{scheme}://{host}:{port}{path}"),
            None => format!("{scheme}://{host}{path}"),
        })
    }

    /// Whether the two URLs have the same `htu` form. Without escapes and dot segments the
    /// normal form only lower-cases the host (and makes an empty path `/`), so the parts are
    /// compared as they are; otherwise the normal forms are built and compared.
    fn same_htu(&self, other: &HtuParts) -> bool {
        let plain = |p: &HtuParts| !p.host.contains('%') && !p.path.contains('%') && !p.path.contains("/.");
        if plain(self) && plain(other) {
            self.https == other.https
                && self.port == other.port
                && self.host.eq_ignore_ascii_case(other.host)
                && or_root(self.path) == or_root(other.path)
        } else {
            matches!((self.normalized(), other.normalized()), (Some(a), Some(b)) if a == b)
        }
    }
}

/// RFC 7638 thumbprint of a public JWK (the required members only, in lexicographic order).
pub fn jwk_thumbprint(jwk: &serde_json::Map<String, Value>) -> Result<String> {
    let s = |n: &str| -> Result<&str> {
        jwk.get(n).and_then(Value::as_str).ok_or_else(|| invalid(format!("the proof jwk has no string member \"{n}\"")))
    };
    let canonical = match s("kty")? {
        "RSA" => serde_json::json!({"e": s("e")?, "kty": "RSA", "n": s("n")?}),
        "EC" => serde_json::json!({"crv": s("crv")?, "kty": "EC", "x": s("x")?, "y": s("y")?}),
        "OKP" => serde_json::json!({"crv": s("crv")?, "kty": "OKP", "x": s("x")?}),
        _ => return Err(invalid("the proof jwk has an unsupported kty")),
    };
    // serde_json's Map is ordered by key (no preserve_order feature): the canonical form.
    let text = canonical.to_string();
    Ok(b64url_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref()))
}

/// A proof's `jwk`, parsed for one algorithm, with its RFC 7638 thumbprint.
struct ProofKey {
    alg: Algorithm,
    jwk: Jwk,
    jkt: String,
}

/// Most proof keys kept parsed.
const PROOF_KEY_CACHE_SIZE: usize = 1024;

/// Parsed proof keys by the exact JSON text of the `jwk` header member. A client signs every
/// proof for a DPoP-bound token with the one key the token is bound to, so its key is parsed and
/// hashed once instead of for every request. Keyed by the exact text, a hit is exactly what
/// parsing that text again would give; only keys whose proof signature verified are kept.
/// Bounded (an arbitrary entry makes room); process-wide, like the replay cache.
static PROOF_KEYS: Lazy<RwLock<ProofKeys>> = Lazy::new(Default::default);

type ProofKeys = HashMap<Box<str>, Arc<ProofKey>, foldhash::quality::RandomState>;

fn cached_proof_key(jwk: &str, alg: Algorithm) -> Option<Arc<ProofKey>> {
    PROOF_KEYS.read().get(jwk).filter(|k| k.alg == alg).cloned()
}

fn remember_proof_key(jwk: &str, key: &Arc<ProofKey>) {
    let mut m = PROOF_KEYS.write();
    if m.len() >= PROOF_KEY_CACHE_SIZE && !m.contains_key(jwk) {
        if let Some(victim) = m.keys().next().cloned() {
            m.remove(&victim);
        }
    }
    m.insert(jwk.into(), key.clone());
}

/// RFC 9449 §4.3 checks 5-7 on a proof's `jwk` (a public key usable for `alg`, no private
/// members), and its thumbprint.
fn parse_proof_key(jwk_text: &str, alg: Algorithm) -> Result<ProofKey> {
    let jwk: Value = serde_json::from_str(jwk_text).map_err(|_| invalid("the DPoP proof jwk is not JSON"))?;
    let Some(jwk_obj) = jwk.as_object() else { return Err(invalid("the DPoP proof jwk is not an object")) };
    if jwk_obj.len() > 32 {
        return Err(invalid("the DPoP proof jwk has too many members"));
    }
    if PRIVATE_MEMBERS.iter().any(|m| jwk_obj.contains_key(*m)) {
        return Err(invalid("the DPoP proof jwk contains private key material"));
    }
    let key = parse_jwk_for(&jwk, alg).map_err(|m| invalid(format!("the DPoP proof jwk is unusable: {m}")))?;
    Ok(ProofKey { alg, jwk: key, jkt: jwk_thumbprint(jwk_obj)? })
}

/// Private-key members that must never appear in a proof's `jwk` (RFC 9449 §4.3 check 7).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn claim_str<'a>(obj: &RawObject<'a>, name: &str, max: usize) -> Result<std::borrow::Cow<'a, str>> {
    match obj.get(name).map(scalar) {
        Some(Scalar::Str(s)) if !s.is_empty() && s.len() <= max => Ok(s),
        Some(Scalar::Str(_)) => Err(invalid(format!("the proof claim {name} is empty or longer than {max} bytes"))),
        None | Some(Scalar::Null) => Err(invalid(format!("the proof has no {name} claim"))),
        Some(_) => Err(invalid(format!("the proof claim {name} is not a string"))),
    }
}

/// Every check of RFC 9449 §4.3 except the nonce, the replay and the token binding.
pub fn verify_proof(req: &ProofRequest, cfg: &DpopConfig, leeway: f64, now: f64) -> Result<VerifiedProof> {
    if req.proof.len() > MAX_DPOP_PROOF_BYTES {
        return Err(invalid(format!("the DPoP proof is {} bytes; the limit is {MAX_DPOP_PROOF_BYTES}", req.proof.len())));
    }
    let proof = std::str::from_utf8(req.proof).map_err(|_| invalid("the DPoP proof is not ASCII"))?;
    let proof = proof.trim_matches([' ', '\t']);
    let mut parts = proof.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(invalid("the DPoP proof is not a compact JWS (three segments)"));
    };
    if h.is_empty() || p.is_empty() || s.is_empty() {
        return Err(invalid("the DPoP proof has an empty segment"));
    }
    let b64 = |seg: &str, what: &str| {
        b64url_decode(seg.as_bytes()).map_err(|_| invalid(format!("the DPoP proof {what} is not strict base64url")))
    };
    let header_bytes = b64(h, "header")?;
    let payload_bytes = b64(p, "payload")?;
    let signature = b64(s, "signature")?;
    let header_str = std::str::from_utf8(&header_bytes).map_err(|_| invalid("the DPoP proof header is not UTF-8"))?;
    let header = RawObject::parse(header_str).map_err(|e| invalid(format!("the DPoP proof header: {e}")))?;

    match header.get("typ").map(scalar) {
        Some(Scalar::Str(t)) if t.eq_ignore_ascii_case("dpop+jwt") || t.eq_ignore_ascii_case("application/dpop+jwt") => {}
        Some(_) => return Err(invalid("the DPoP proof typ is not dpop+jwt")),
        None => return Err(invalid("the DPoP proof has no typ (dpop+jwt)")),
    }
    let alg = match header.get("alg").map(scalar) {
        Some(Scalar::Str(a)) => a,
        _ => return Err(invalid("the DPoP proof has no string alg")),
    };
    let alg = match Algorithm::from_jose(&alg) {
        Some(a) if cfg.algorithms.contains(a) => a,
        Some(a) => return Err(invalid(format!("the DPoP proof algorithm {} is not allowed", a.name()))),
        None if alg.eq_ignore_ascii_case("none") => return Err(invalid("the DPoP proof is unsigned (alg none)")),
        None if alg.starts_with("HS") => return Err(invalid("the DPoP proof uses a symmetric algorithm")),
        None => return Err(invalid("the DPoP proof algorithm is unknown")),
    };
    for (name, _) in &header.members {
        match name.as_ref() {
            "crit" => return Err(invalid("the DPoP proof has a crit header liboidc does not understand")),
            "b64" | "enc" | "zip" => return Err(invalid("the DPoP proof is not a plain JWS")),
            _ => {}
        }
    }
    let Some(jwk_raw) = header.get("jwk") else { return Err(invalid("the DPoP proof has no jwk header")) };
    let signing_input = &proof.as_bytes()[..h.len() + 1 + p.len()];
    let (key, cached) = match cached_proof_key(jwk_raw.get(), alg) {
        Some(k) => (k, true),
        None => (Arc::new(parse_proof_key(jwk_raw.get(), alg)?), false),
    };
    key.jwk.verify(alg, signing_input, &signature).map_err(|_| invalid("the DPoP proof signature does not verify with its jwk"))?;
    if !cached {
        remember_proof_key(jwk_raw.get(), &key);
    }
    let jkt = key.jkt.clone();

    let claims_str = std::str::from_utf8(&payload_bytes).map_err(|_| invalid("the DPoP proof payload is not UTF-8"))?;
    let claims = RawObject::parse(claims_str).map_err(|e| invalid(format!("the DPoP proof claims: {e}")))?;
    let jti = claim_str(&claims, "jti", MAX_JTI_LEN)?.into_owned();
    let htm = claim_str(&claims, "htm", 32)?;
    let htu = claim_str(&claims, "htu", 8192)?;
    let iat = match claims.get("iat").map(scalar) {
        Some(Scalar::Number(n)) if n.is_finite() => n,
        None => return Err(invalid("the DPoP proof has no iat claim")),
        Some(_) => return Err(invalid("the DPoP proof claim iat is not a number")),
    };
    let ath = claim_str(&claims, "ath", 128)?;
    let nonce = match claims.get("nonce").map(scalar) {
        None => None,
        Some(Scalar::Str(n)) if !n.is_empty() && n.len() <= MAX_NONCE_LEN => Some(n.into_owned()),
        Some(_) => return Err(invalid("the DPoP proof nonce is not a non-empty string")),
    };

    if *htm != *req.method {
        return Err(mismatch("the DPoP proof htm is not the request method"));
    }
    let want =
        htu_parts(req.url).ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "the request URL is not an absolute http(s) URL"))?;
    if !htu_parts(&htu).is_some_and(|got| got.same_htu(&want)) {
        return Err(mismatch("the DPoP proof htu is not the request URL"));
    }
    let window = cfg.proof_window.as_secs_f64();
    if iat < now - window || iat > now + leeway {
        return Err(Error::new(
            ErrorKind::DpopProofStale,
            format!("the DPoP proof was issued at {} (now {}, window {window}s)", iat as i64, now as i64),
        ));
    }
    let expected_ath = b64url_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, req.access_token.as_bytes()).as_ref());
    if !super::constant_time_eq(ath.as_bytes(), expected_ath.as_bytes()) {
        return Err(mismatch("the DPoP proof ath is not the hash of the access token"));
    }
    Ok(VerifiedProof { jkt, jti, iat, nonce })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jws(key: &crate::core::oauth::SigningKey, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64url_encode(header.to_string().as_bytes()), b64url_encode(claims.to_string().as_bytes()));
        format!("{input}.{}", b64url_encode(&key.sign_bytes(input.as_bytes()).unwrap()))
    }

    /// The proof-key cache answers only for the exact `jwk` text and algorithm it parsed, and
    /// never replaces the signature check.
    #[test]
    fn proof_key_cache() {
        use crate::core::oauth::SigningKey;
        let (holder, other) = (SigningKey::generate_es256().unwrap(), SigningKey::generate_es256().unwrap());
        let url = "https://api.proof-key-cache.test/x";
        let token = "a.b.c";
        let now = crate::core::client::unix_now().floor();
        let claims = |jti: &str| {
            serde_json::json!({"jti": jti, "htm": "GET", "htu": url, "iat": now,
                "ath": b64url_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())})
        };
        let header = |jwk: Value| serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
        let cfg = DpopConfig::default();
        let check =
            |proof: &str| verify_proof(&ProofRequest { proof: proof.as_bytes(), method: "GET", url, access_token: token }, &cfg, 60.0, now);
        let jwk = holder.public_jwk();
        let text = jwk.to_string();
        for i in 0..2 {
            let p = check(&jws(&holder, &header(jwk.clone()), &claims(&format!("j{i}")))).unwrap();
            assert_eq!(p.jkt, holder.thumbprint());
            assert!(cached_proof_key(&text, Algorithm::ES256).is_some());
        }
        assert!(cached_proof_key(&text, Algorithm::ES384).is_none(), "per algorithm");
        // The cached key's header, signed by another key: the signature still decides.
        let e = check(&jws(&other, &header(jwk.clone()), &claims("j2"))).unwrap_err();
        assert_eq!(e.message(), "the DPoP proof signature does not verify with its jwk");
        // The same public key with a private member: another text, every check again.
        let mut with_d = jwk.clone();
        with_d["d"] = Value::from("AAAA");
        let e = check(&jws(&holder, &header(with_d), &claims("j3"))).unwrap_err();
        assert_eq!(e.message(), "the DPoP proof jwk contains private key material");
        // Bounded.
        for _ in 0..PROOF_KEY_CACHE_SIZE + 10 {
            let k = SigningKey::generate_es256().unwrap();
            check(&jws(&k, &header(k.public_jwk()), &claims("j4"))).unwrap();
        }
        assert!(PROOF_KEYS.read().len() <= PROOF_KEY_CACHE_SIZE);
    }

    #[test]
    fn htu_comparison_agrees_with_the_normal_forms() {
        let urls = [
            "https://API.example.com/a/b?x=1",
            "https://api.example.com/a/b",
            "https://api.example.com:443/a/b#f",
            "https://api.example.com:8443/a/b",
            "http://api.example.com/a/b",
            "https://api.example.com/a/./b",
            "https://api.example.com/a/c/../b",
            "https://api.example.com/a/%62",
            "https://api.example.com/a/B",
            "https://api.example.com",
            "https://api.example.com/",
            "https://api.example.com?q",
            "https://api.%65xample.com/a/b",
            "https://[::1]/a/b",
            "https://[::1]:443/a/b",
            "https://api.example.com/a/b/.",
            "https://api.example.com/a/.b",
            "https://api.example.com//a/b",
        ];
        for a in urls {
            for b in urls {
                let (pa, pb) = (htu_parts(a).unwrap(), htu_parts(b).unwrap());
                assert_eq!(pa.same_htu(&pb), normalize_htu(a) == normalize_htu(b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn htu_normalization() {
        let n = |u: &str| {
            let r = normalize_htu(u);
            assert_eq!(is_htu_url(u), r.is_some(), "{u}");
            r
        };
        assert_eq!(n("https://API.Example.com/a/b?x=1#f").as_deref(), Some("https://api.example.com/a/b"));
        assert_eq!(n("HTTPS://api.example.com:443").as_deref(), Some("https://api.example.com/"));
        assert_eq!(n("http://api.example.com:80/x").as_deref(), Some("http://api.example.com/x"));
        assert_eq!(n("https://api.example.com:8443/x").as_deref(), Some("https://api.example.com:8443/x"));
        assert_eq!(n("https://a.example/%7euser/%2f").as_deref(), Some("https://a.example/~user/%2F"));
        assert_eq!(n("https://a.example/a/./b/../c").as_deref(), Some("https://a.example/a/c"));
        assert_eq!(n("https://[::1]:443/x").as_deref(), Some("https://[::1]/x"));
        assert_eq!(n("https://[::1]:8443/x").as_deref(), Some("https://[::1]:8443/x"));
        assert_eq!(n("https://user@a.example/"), None);
        assert_eq!(n("ftp://a.example/"), None);
        assert_eq!(n("/relative"), None);
        assert_eq!(n("https:///x"), None);
        assert_eq!(n("https://a.example:x/"), None);
        assert_eq!(n("https://a.example:65536/"), None);
        assert_eq!(n("https://a.example:99999/"), None);
        assert_eq!(n("https://a.example:0065535/").as_deref(), Some("https://a.example:65535/"));
        assert_eq!(n("https://a.example/ x"), None);
        assert_eq!(n("https://a.example/%zz"), None);
        assert_eq!(n("https://a.example:/x").as_deref(), Some("https://a.example/x"));
        assert_eq!(n("https://a.example:0/x"), None);
        assert_eq!(n("https://a.example:123456/x"), None);
        assert_eq!(n("https://a%zz.example/x"), None);
        assert_eq!(n("https://a.example/x%4"), None);
        assert_eq!(n("https://a.example/%%41"), None);
        assert_eq!(n("https://a.example/x?%zz").as_deref(), Some("https://a.example/x"));
        assert_eq!(n("https://[::1"), None);
        assert_eq!(n("https://[]/"), None);
        assert_eq!(n("https://[::1]x/"), None);
        assert_eq!(n("hTTp://A.example:0080/").as_deref(), Some("http://a.example/"));
        assert_eq!(n("HTTPS://a.example").as_deref(), Some("https://a.example/"));
        assert_eq!(n("https:/a.example/"), None);
        assert_eq!(n("http:://a.example/"), None);
        assert_eq!(n("httpss://a.example/"), None);
        assert_eq!(n("http://"), None);
        assert_eq!(n("https://a.example#f").as_deref(), Some("https://a.example/"));
    }
}
