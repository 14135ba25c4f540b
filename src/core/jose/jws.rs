//! JWS documents that are not compact JWTs: detached content (RFC 7515 Appendix F), the
//! unencoded payload option (RFC 7797, `b64: false` with `crit: ["b64"]`), payloads that are not
//! JWT claims, and the flattened (or one-signature general) JSON serialization.
//!
//! Verification goes through the client's own algorithm allow-list (never `none`, never HMAC)
//! and its key resolution (the key set, one refresh for an unknown `kid`, the same codes as a
//! token: [`Client::verify_signature`]). Nothing in the JWS chooses or supplies a key (`jwk`,
//! `jku`, `x5u`, `x5c` are ignored, as for tokens).
//!
//! Rules, all failing closed (`TokenMalformed` unless said otherwise):
//! - sizes: the JWS text at most [`MAX_JWS_BYTES`] and a payload (attached or detached) at most
//!   [`MAX_PAYLOAD_BYTES`] (`TokenTooLarge`); a protected or unprotected header at most
//!   [`MAX_HEADER_BYTES`];
//! - the protected header is a JSON object with unique member names and holds `alg` (a string);
//!   `b64` and `crit` may only be protected; a name may not be both protected and unprotected
//!   (RFC 7515 §7.2.1); `kid` may be in either;
//! - `b64` is a boolean; `false` only with `crit` naming `b64` (RFC 7797 §6); then the signing
//!   input is `ASCII(BASE64URL(protected)) || '.' || payload bytes`;
//! - `crit`: a non-empty array of unique strings, each present in the header; `b64` is the only
//!   extension understood (`CritUnsupported` for any other); names the JWS and JWA specifications
//!   define may not be listed;
//! - compact: three segments; detached when the payload segment is empty and a detached payload
//!   is given; an unencoded attached payload containing '.' is refused (RFC 7797 §5.2);
//! - JSON: `protected`, `signature`, optional `payload` and `header`; the general serialization
//!   with exactly one entry in `signatures` is read as the flattened one, with more it is
//!   refused; other members are ignored (RFC 7515 §7.2.1);
//! - a JWS carrying a payload while a detached payload is given is refused (the caller's
//!   payload is the one that must be signed);
//! - an empty signature is `AlgorithmNotAllowed` (unsigned), as for tokens; `enc` / `zip`
//!   (JWE, compression) are refused.

use serde_json::{Map, Value};

use crate::core::client::Client;
use crate::core::config::Algorithm;
use crate::core::error::{Error, ErrorKind, Result, err};
use crate::core::json::{RawObject, b64url_decode, b64url_encode, printable};
use crate::core::validate::header_alg;

/// Largest JWS text (compact or JSON) accepted.
pub const MAX_JWS_BYTES: usize = 2 * 1024 * 1024;
/// Largest payload (attached after decoding, or detached) accepted.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// Largest decoded protected header, and largest unprotected header.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// A verified JWS.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    /// The protected header, exactly as signed (a JSON object).
    pub header_json: String,
    /// The payload: decoded (`b64` true), as sent (`b64` false), or the detached payload given.
    pub payload: Vec<u8>,
    pub alg: Algorithm,
    /// The `kid` the key was looked up with (protected or unprotected header).
    pub kid: Option<String>,
}

/// A structurally valid JWS, its header rules checked; not yet authenticated.
#[derive(Debug)]
pub(crate) struct ParsedJws {
    pub header_json: String,
    /// The protected header's `alg`, not yet checked against an allow-list.
    pub alg: String,
    pub kid: Option<String>,
    pub signing_input: Vec<u8>,
    pub signature: Vec<u8>,
    pub payload: Vec<u8>,
}

fn malformed<T>(msg: impl Into<String>) -> Result<T> {
    err(ErrorKind::TokenMalformed, msg)
}

/// Verify `jws` (compact or JSON serialization) with `client`'s keys and algorithm policy.
/// `detached_payload`: the content of a detached JWS (its payload segment empty, or its JSON
/// `payload` member absent). `now` is the time of the check (Unix seconds).
///
/// A multi-issuer validator has no keys of its own and no issuer to route a bare JWS to: it
/// refuses with `InvalidArgument` (verify with the issuer's own validator).
pub fn verify_jws(client: &Client, jws: &str, detached_payload: Option<&[u8]>, now: f64) -> Result<VerifiedJws> {
    if client.is_multi_issuer() {
        return err(
            ErrorKind::InvalidArgument,
            "a multi-issuer validator has no keys of its own: verify a JWS with the issuer's own validator",
        );
    }
    let p = parse_jws(jws, detached_payload)?;
    let alg = header_alg(&p.alg, client.policy().algorithms)?;
    if p.signature.is_empty() {
        return err(ErrorKind::AlgorithmNotAllowed, "the JWS is unsigned (empty signature)");
    }
    client.verify_signature(alg, p.kid.as_deref(), &p.signing_input, &p.signature, now)?;
    Ok(VerifiedJws { header_json: p.header_json, payload: p.payload, alg, kid: p.kid })
}

/// Where the payload of a JWS is.
enum Body<'a> {
    /// The compact payload segment, or the JSON `payload` member's string.
    Attached(&'a str),
    Detached(&'a [u8]),
}

/// Parse `jws` and check its header rules (everything but the algorithm policy and the key).
pub(crate) fn parse_jws(jws: &str, detached: Option<&[u8]>) -> Result<ParsedJws> {
    if jws.len() > MAX_JWS_BYTES {
        return err(ErrorKind::TokenTooLarge, format!("the JWS is {} bytes; the limit is {MAX_JWS_BYTES}", jws.len()));
    }
    if let Some(d) = detached {
        if d.len() > MAX_PAYLOAD_BYTES {
            return err(ErrorKind::TokenTooLarge, format!("the detached payload is {} bytes; the limit is {MAX_PAYLOAD_BYTES}", d.len()));
        }
    }
    let text = jws.trim_start_matches([' ', '\t', '\r', '\n']);
    if text.starts_with('{') { parse_json(text, detached) } else { parse_compact(jws, detached) }
}

fn parse_compact<'a>(jws: &'a str, detached: Option<&'a [u8]>) -> Result<ParsedJws> {
    if jws.is_empty() {
        return malformed("the JWS is empty");
    }
    let (Some(d1), Some(d2)) = (jws.find('.'), jws.rfind('.')) else {
        return malformed("the JWS is neither a compact JWS (no '.') nor a JSON object");
    };
    if d1 == d2 {
        return malformed("the JWS is not a compact JWS (two segments)");
    }
    let (protected, middle, signature) = (&jws[..d1], &jws[d1 + 1..d2], &jws[d2 + 1..]);
    let body = match (middle.is_empty(), detached) {
        (true, Some(d)) => Body::Detached(d),
        (false, Some(_)) => return malformed("the JWS carries a payload, but a detached payload was given"),
        (_, None) => Body::Attached(middle),
    };
    let h = Header::parse(protected, None)?;
    if middle.contains('.') {
        return if h.b64 {
            malformed("the JWS has more than three segments (a JWE, or not a JWS)")
        } else {
            malformed("an unencoded payload containing '.' cannot be sent in the compact serialization (RFC 7797 §5.2)")
        };
    }
    finish(protected, h, body, signature)
}

fn parse_json<'a>(text: &'a str, detached: Option<&'a [u8]>) -> Result<ParsedJws> {
    let top = RawObject::parse(text).map_err(|e| Error::new(ErrorKind::TokenMalformed, format!("JWS JSON serialization: {e}")))?;
    let sig_obj;
    let one = match top.get("signatures") {
        None => &top,
        Some(raw) => {
            if ["protected", "header", "signature"].iter().any(|m| top.get(m).is_some()) {
                return malformed("the JWS mixes the general and the flattened JSON serialization");
            }
            let list: Vec<&serde_json::value::RawValue> =
                serde_json::from_str(raw.get()).map_err(|_| Error::new(ErrorKind::TokenMalformed, "JWS \"signatures\" is not an array"))?;
            match list.as_slice() {
                [only] => {
                    sig_obj = RawObject::parse(only.get())
                        .map_err(|e| Error::new(ErrorKind::TokenMalformed, format!("JWS signature entry: {e}")))?;
                    &sig_obj
                }
                [] => return malformed("JWS \"signatures\" is empty"),
                more => {
                    return malformed(format!("the JWS has {} signatures; liboidc verifies a JWS with exactly one signature", more.len()));
                }
            }
        }
    };
    let string = |o: &RawObject<'_>, name: &str| -> Result<Option<String>> {
        match o.get(name) {
            None => Ok(None),
            Some(v) => match serde_json::from_str::<Value>(v.get()) {
                Ok(Value::String(s)) => Ok(Some(s)),
                _ => malformed(format!("JWS \"{name}\" is not a string")),
            },
        }
    };
    let Some(protected) = string(one, "protected")? else {
        return malformed("the JWS has no protected header (alg must be integrity protected)");
    };
    let Some(signature) = string(one, "signature")? else { return malformed("the JWS has no \"signature\"") };
    let unprotected = match one.get("header") {
        None => None,
        Some(v) => {
            if v.get().len() > MAX_HEADER_BYTES {
                return err(ErrorKind::TokenTooLarge, format!("the unprotected header is over {MAX_HEADER_BYTES} bytes"));
            }
            Some(header_object(v.get(), "unprotected header")?)
        }
    };
    let payload = string(&top, "payload")?.filter(|p| !p.is_empty());
    let body = match (&payload, detached) {
        (None, Some(d)) => Body::Detached(d),
        (Some(_), Some(_)) => return malformed("the JWS carries a payload, but a detached payload was given"),
        (Some(p), None) => Body::Attached(p),
        (None, None) => Body::Attached(""),
    };
    let h = Header::parse(&protected, unprotected.as_ref())?;
    finish(&protected, h, body, &signature)
}

/// The signing input, payload and signature of a parsed header and body.
fn finish(protected: &str, h: Header, body: Body<'_>, signature: &str) -> Result<ParsedJws> {
    let payload: Vec<u8> = match (&body, h.b64) {
        (Body::Attached(p), true) => {
            if p.len() / 4 * 3 > MAX_PAYLOAD_BYTES {
                return err(ErrorKind::TokenTooLarge, format!("the payload is over {MAX_PAYLOAD_BYTES} bytes"));
            }
            b64url_decode(p.as_bytes()).map_err(|_| Error::new(ErrorKind::TokenMalformed, "the JWS payload is not strict base64url"))?
        }
        (Body::Attached(p), false) => p.as_bytes().to_vec(),
        (Body::Detached(d), _) => d.to_vec(),
    };
    if payload.len() > MAX_PAYLOAD_BYTES {
        return err(ErrorKind::TokenTooLarge, format!("the payload is {} bytes; the limit is {MAX_PAYLOAD_BYTES}", payload.len()));
    }
    let signature = b64url_decode(signature.as_bytes())
        .map_err(|_| Error::new(ErrorKind::TokenMalformed, "the JWS signature is not strict base64url"))?;
    let mut signing_input = Vec::with_capacity(protected.len() + 1 + payload.len() * 4 / 3 + 4);
    signing_input.extend_from_slice(protected.as_bytes());
    signing_input.push(b'.');
    match (&body, h.b64) {
        // The payload as sent: re-encoding could differ from what was signed only for
        // non-canonical base64url, which strict decoding already refused.
        (Body::Attached(p), true) => signing_input.extend_from_slice(p.as_bytes()),
        (Body::Detached(d), true) => signing_input.extend_from_slice(b64url_encode(d).as_bytes()),
        (_, false) => signing_input.extend_from_slice(&payload),
    }
    Ok(ParsedJws { header_json: h.json, alg: h.alg, kid: h.kid, signing_input, signature, payload })
}

/// A JSON object with unique member names.
fn header_object(s: &str, what: &str) -> Result<Map<String, Value>> {
    RawObject::parse(s).map_err(|e| Error::new(ErrorKind::TokenMalformed, format!("JWS {what}: {e}")))?;
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => Ok(m),
        _ => malformed(format!("JWS {what} is not a JSON object")),
    }
}

/// Header parameters defined by RFC 7515 / RFC 7516 / RFC 7518: never valid in `crit`.
const REGISTERED: [&str; 20] = [
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc", "zip", "epk", "apu", "apv", "iv", "tag",
    "p2s", "p2c",
];

/// The header rules, on the protected header (base64url) and the unprotected one.
struct Header {
    json: String,
    alg: String,
    kid: Option<String>,
    b64: bool,
}

impl Header {
    fn parse(protected_b64: &str, unprotected: Option<&Map<String, Value>>) -> Result<Header> {
        if protected_b64.is_empty() {
            return malformed("the JWS has no protected header (alg must be integrity protected)");
        }
        if protected_b64.len() / 4 * 3 > MAX_HEADER_BYTES {
            return err(ErrorKind::TokenTooLarge, format!("the protected header is over {MAX_HEADER_BYTES} bytes"));
        }
        let bytes = b64url_decode(protected_b64.as_bytes())
            .map_err(|_| Error::new(ErrorKind::TokenMalformed, "the JWS protected header is not strict base64url"))?;
        let json = String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::TokenMalformed, "the JWS protected header is not UTF-8"))?;
        let p = header_object(&json, "protected header")?;
        if let Some(u) = unprotected {
            for name in u.keys() {
                if p.contains_key(name) {
                    return malformed(format!("header parameter '{}' is both protected and unprotected", printable(name)));
                }
                match name.as_str() {
                    "alg" => return malformed("alg must be in the protected header"),
                    "b64" => return malformed("b64 must be in the protected header (RFC 7797 §3)"),
                    "crit" => return malformed("crit must be in the protected header (RFC 7515 §4.1.11)"),
                    _ => {}
                }
            }
        }
        let get = |name: &str| p.get(name).or_else(|| unprotected.and_then(|u| u.get(name)));
        if get("enc").is_some() || get("zip").is_some() {
            return malformed("the JWS is a JWE or has a compressed payload; only JWS is accepted");
        }
        let alg = match p.get("alg") {
            Some(Value::String(a)) => a.clone(),
            Some(_) => return malformed("header alg is not a string"),
            None => return malformed("the protected header has no alg"),
        };
        let kid = match get("kid") {
            None => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(_) => return malformed("header kid is not a string"),
        };
        let b64 = match p.get("b64") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return malformed("header b64 is not a boolean"),
        };
        let mut crit_b64 = false;
        if let Some(c) = p.get("crit") {
            let Some(names) = c.as_array().filter(|a| !a.is_empty()) else {
                return malformed("header crit is not a non-empty array");
            };
            for (i, n) in names.iter().enumerate() {
                let Some(n) = n.as_str() else { return malformed("header crit is not an array of strings") };
                if names[..i].iter().any(|m| m.as_str() == Some(n)) {
                    return malformed("header crit names a parameter twice");
                }
                if REGISTERED.contains(&n) {
                    return malformed(format!("header crit names '{n}', which the JWS specification defines"));
                }
                if n != "b64" {
                    return err(ErrorKind::CritUnsupported, "header crit names an extension liboidc does not understand");
                }
                if !p.contains_key(n) {
                    return malformed("header crit names b64, which the header does not hold");
                }
                crit_b64 = true;
            }
        }
        if !b64 && !crit_b64 {
            return malformed("b64 false requires crit [\"b64\"] in the protected header (RFC 7797 §6)");
        }
        Ok(Header { json, alg, kid, b64 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::hmac;

    /// RFC 7797 §4 / RFC 7520 §3.5 symmetric key ("AyM1Sys...").
    const RFC7797_KEY: &str = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    /// RFC 7520 §3.5 "018c0ae5-4d9b-471b-bfd6-eef314bc7037".
    const RFC7520_HMAC_KEY: &str = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg";

    /// The signing input our parser builds, checked with HMAC-SHA256 against the signature the
    /// RFC gives: proves the construction (detached, unencoded) byte for byte.
    fn hmac_ok(key_b64: &str, jws: &str, detached: Option<&[u8]>) -> ParsedJws {
        let p = parse_jws(jws, detached).unwrap_or_else(|e| panic!("{jws}: {e:?}"));
        assert_eq!(p.alg, "HS256");
        let key = hmac::Key::new(hmac::HMAC_SHA256, &b64url_decode(key_b64.as_bytes()).unwrap());
        hmac::verify(&key, &p.signing_input, &p.signature).unwrap_or_else(|_| panic!("HMAC over our signing input: {jws}"));
        p
    }

    #[test]
    fn rfc7797_signing_input() {
        // §4.1: b64 true.
        let p = hmac_ok(RFC7797_KEY, "eyJhbGciOiJIUzI1NiJ9.JC4wMg.5mvfOroL-g7HyqJoozehmsaqmvTYGEq5jTI1gVvoEoQ", None);
        assert_eq!(p.payload, b"$.02");
        // §4.2: b64 false, detached compact (the payload contains '.').
        let compact = "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19..A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY";
        let p = hmac_ok(RFC7797_KEY, compact, Some(b"$.02"));
        assert_eq!(p.signing_input, b"eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19.$.02");
        assert_eq!(p.header_json, r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#);
        assert_eq!(p.payload, b"$.02");
        // §4.2, the JSON serialization (payload attached, unencoded).
        let json = r#"{"protected":"eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19","payload":"$.02","signature":"A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY"}"#;
        assert_eq!(hmac_ok(RFC7797_KEY, json, None).payload, b"$.02");
        // The same signature does not hold for the b64 (encoded) reading of the same payload.
        let p = parse_jws(compact, Some(b"$.03")).unwrap();
        let key = hmac::Key::new(hmac::HMAC_SHA256, &b64url_decode(RFC7797_KEY.as_bytes()).unwrap());
        assert!(hmac::verify(&key, &p.signing_input, &p.signature).is_err());
        // Attached in compact form: '.' in an unencoded payload is refused.
        let attached = "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19.$.02.A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY";
        assert!(parse_jws(attached, None).unwrap_err().message().contains("RFC 7797 §5.2"));
    }

    #[test]
    fn rfc7520_hmac_examples_signing_input() {
        const PAYLOAD: &str = "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";
        let content = b64url_decode(PAYLOAD.as_bytes()).unwrap();
        // §4.4 (compact) and §4.5 (detached content, compact and flattened JSON).
        const H44: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9";
        const S44: &str = "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";
        let p = hmac_ok(RFC7520_HMAC_KEY, &format!("{H44}.{PAYLOAD}.{S44}"), None);
        assert_eq!((p.kid.as_deref(), p.payload.as_slice()), (Some("018c0ae5-4d9b-471b-bfd6-eef314bc7037"), content.as_slice()));
        let p = hmac_ok(RFC7520_HMAC_KEY, &format!("{H44}..{S44}"), Some(&content));
        assert_eq!(p.payload, content);
        hmac_ok(RFC7520_HMAC_KEY, &format!(r#"{{"protected":"{H44}","signature":"{S44}"}}"#), Some(&content));
        // §4.6: kid unprotected.
        let j = format!(
            r#"{{"payload":"{PAYLOAD}","protected":"eyJhbGciOiJIUzI1NiJ9","header":{{"kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037"}},"signature":"bWUSVaxorn7bEF1djytBd0kHv70Ly5pvbomzMWSOr20"}}"#
        );
        let p = hmac_ok(RFC7520_HMAC_KEY, &j, None);
        assert_eq!(p.kid.as_deref(), Some("018c0ae5-4d9b-471b-bfd6-eef314bc7037"));
        assert_eq!(p.header_json, r#"{"alg":"HS256"}"#);
        // Tampered detached content: the signature no longer holds.
        let mut other = content.clone();
        other[0] ^= 1;
        let p = parse_jws(&format!("{H44}..{S44}"), Some(&other)).unwrap();
        let key = hmac::Key::new(hmac::HMAC_SHA256, &b64url_decode(RFC7520_HMAC_KEY.as_bytes()).unwrap());
        assert!(hmac::verify(&key, &p.signing_input, &p.signature).is_err());
    }

    #[test]
    fn header_rules() {
        let h = |v: Value| b64url_encode(v.to_string().as_bytes());
        let code = |jws: &str, d: Option<&[u8]>| parse_jws(jws, d).map(|_| ()).unwrap_err().kind();
        use serde_json::json;
        let m = ErrorKind::TokenMalformed;
        // b64 false without crit, b64 not a boolean, crit naming b64 without b64, unknown crit.
        assert_eq!(code(&format!("{}..AAAA", h(json!({"alg":"ES256","b64":false}))), Some(b"x")), m);
        assert_eq!(code(&format!("{}..AAAA", h(json!({"alg":"ES256","b64":"false","crit":["b64"]}))), Some(b"x")), m);
        assert_eq!(code(&format!("{}..AAAA", h(json!({"alg":"ES256","crit":["b64"]}))), Some(b"x")), m);
        assert_eq!(code(&format!("{}..AAAA", h(json!({"alg":"ES256","crit":["exp"],"exp":1}))), Some(b"x")), ErrorKind::CritUnsupported);
        assert_eq!(code(&format!("{}..AAAA", h(json!({"alg":"ES256","crit":["kid"],"kid":"k"}))), Some(b"x")), m);
        assert_eq!(code(&format!("{}..AAAA", h(json!({"alg":"ES256","crit":[]}))), Some(b"x")), m);
        assert_eq!(code(&format!("{}..AAAA", h(json!({"alg":"ES256","b64":false,"crit":["b64","b64"]}))), Some(b"x")), m);
        // b64 / crit / alg unprotected; a name both protected and unprotected.
        let prot = h(json!({"alg":"ES256"}));
        for hdr in [json!({"b64": false}), json!({"crit": ["b64"]}), json!({"alg": "ES256"})] {
            let j = json!({"protected": prot, "header": hdr, "payload": "", "signature": "AAAA"}).to_string();
            assert_eq!(code(&j, Some(b"x")), m, "{hdr}");
        }
        // No protected header (RFC 7520 §4.7: alg and kid unprotected).
        let j = json!({"header": {"alg": "ES256", "kid": "k"}, "payload": "eA", "signature": "AAAA"}).to_string();
        assert!(parse_jws(&j, None).unwrap_err().message().contains("protected"));
        // Duplicate members, JWE-ish headers, a payload and a detached payload at once.
        let dup = b64url_encode(br#"{"alg":"ES256","alg":"RS256"}"#);
        assert_eq!(code(&format!("{dup}.eA.AAAA"), None), m);
        assert_eq!(code(&format!("{}.eA.AAAA", h(json!({"alg":"ES256","zip":"DEF"}))), None), m);
        assert_eq!(code(&format!("{prot}.eA.AAAA"), Some(b"x")), m);
        // Two signatures, a mix of general and flattened.
        let two =
            json!({"payload": "eA", "signatures": [{"protected": prot, "signature": "AAAA"}, {"protected": prot, "signature": "AAAA"}]});
        assert!(parse_jws(&two.to_string(), None).unwrap_err().message().contains("exactly one signature"));
        let mixed = json!({"payload": "eA", "signature": "AAAA", "signatures": [{"protected": prot, "signature": "AAAA"}]});
        assert_eq!(code(&mixed.to_string(), None), m);
        let one = json!({"payload": "eA", "signatures": [{"protected": prot, "signature": "AAAA"}]});
        assert_eq!(parse_jws(&one.to_string(), None).unwrap().payload, b"x");
        // Segments.
        for bad in ["", "abc", "a.b", &format!("{prot}.eA.AA.AA"), &format!("{prot}.e=.AAAA"), &format!("{prot}.eA.AA=A")] {
            assert_eq!(code(bad, None), m, "{bad}");
        }
        // Sizes.
        let big = "a".repeat(MAX_JWS_BYTES + 1);
        assert_eq!(code(&big, None), ErrorKind::TokenTooLarge);
        assert_eq!(code(&format!("{prot}..AAAA"), Some(&vec![0; MAX_PAYLOAD_BYTES + 1])), ErrorKind::TokenTooLarge);
        let huge_header = h(json!({"alg": "ES256", "x": "a".repeat(MAX_HEADER_BYTES)}));
        assert_eq!(code(&format!("{huge_header}.eA.AAAA"), None), ErrorKind::TokenTooLarge);
        let huge_payload = "A".repeat(MAX_PAYLOAD_BYTES / 3 * 4 + 8);
        assert_eq!(code(&format!("{prot}.{huge_payload}.AAAA"), None), ErrorKind::TokenTooLarge);
    }
}
