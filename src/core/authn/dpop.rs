//! DPoP proof verification at a resource server (RFC 9449 §4.3).
//!
//! Order: size, compact-JWS structure (strict base64url, unique JSON members), header (`typ`
//! `dpop+jwt`, an allowed asymmetric `alg`, a public `jwk` usable for it), the signature with that
//! key, and only then the claims (`jti`, `htm`, `htu`, `iat`, `ath`, `nonce`), so no claim-based
//! answer is given for a forged proof. The nonce, the replay check and the token binding
//! (`cnf.jkt`) are the caller's (`authn`), since they depend on the resource's state.

use serde_json::Value;

use super::MAX_DPOP_PROOF_BYTES;
use crate::core::config::{Algorithm, DpopConfig};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::json::{RawObject, Scalar, b64url_decode, b64url_encode, scalar};
use crate::core::jwks::parse_jwk_for;

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

/// The `htu` form of a URL (RFC 9449 §4.3 check 9, RFC 3986 §6.2.2 and §6.2.3): scheme and host
/// lower case, the default port dropped, an empty path made `/`, percent-escapes normalized, dot
/// segments removed, no query or fragment. `None` if it is not an absolute http(s) URL without
/// user information, or holds spaces or control characters.
pub fn normalize_htu(url: &str) -> Option<String> {
    if url.len() > 8192 || url.bytes().any(|c| c <= b' ' || c == 0x7f || !c.is_ascii()) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
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
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let path = &tail[..path_end];
    let path = if path.is_empty() { "/".to_string() } else { remove_dot_segments(&normalize_escapes(path)?) };
    let host = normalize_escapes(&host.to_ascii_lowercase())?;
    Some(match port {
        Some(p) => format!("{scheme}://{host}:{p}{path}"),
        None => format!("{scheme}://{host}{path}"),
    })
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
    let b64 = |seg: &str, what: &str| b64url_decode(seg.as_bytes()).map_err(|_| invalid(format!("the DPoP proof {what} is not strict base64url")));
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
    let jwk: Value = serde_json::from_str(jwk_raw.get()).map_err(|_| invalid("the DPoP proof jwk is not JSON"))?;
    let Some(jwk_obj) = jwk.as_object() else { return Err(invalid("the DPoP proof jwk is not an object")) };
    if jwk_obj.len() > 32 {
        return Err(invalid("the DPoP proof jwk has too many members"));
    }
    if PRIVATE_MEMBERS.iter().any(|m| jwk_obj.contains_key(*m)) {
        return Err(invalid("the DPoP proof jwk contains private key material"));
    }
    let key = parse_jwk_for(&jwk, alg).map_err(|m| invalid(format!("the DPoP proof jwk is unusable: {m}")))?;
    let signing_input = &proof.as_bytes()[..h.len() + 1 + p.len()];
    key.verify(alg, signing_input, &signature)
        .map_err(|_| invalid("the DPoP proof signature does not verify with its jwk"))?;
    let jkt = jwk_thumbprint(jwk_obj)?;

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
    let want = normalize_htu(req.url).ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "the request URL is not an absolute http(s) URL"))?;
    if normalize_htu(&htu).as_deref() != Some(want.as_str()) {
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

    #[test]
    fn htu_normalization() {
        let n = |u: &str| normalize_htu(u);
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
    }
}
