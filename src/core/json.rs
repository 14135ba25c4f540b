//! Strict base64url and a borrowed, duplicate-rejecting view of a JSON object.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use smallvec::SmallVec;

/// base64url without padding (encoding only; decoding is [`STRICT_DECODE`]).
const STRICT_B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// The decoder of the hot path (base64-simd: SIMD where the CPU has it, the same table decoder
/// otherwise): base64url without padding, strict like [`STRICT_B64URL`] (padding, bytes
/// outside the alphabet, a length of 4n+1 and non-zero trailing bits all fail; the unit test
/// below holds both to the same answers).
const STRICT_DECODE: base64_simd::Base64 = base64_simd::URL_SAFE_NO_PAD;

/// Strict base64url decoding failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct B64Error;

/// Strictly decode base64url (no padding, canonical trailing bits).
pub fn b64url_decode(input: &[u8]) -> Result<Vec<u8>, B64Error> {
    STRICT_DECODE.decode_to_vec(input).map_err(|_| B64Error)
}

/// Strictly decode base64url, appending to `out` (which keeps its capacity).
pub fn b64url_decode_into(input: &[u8], out: &mut Vec<u8>) -> Result<(), B64Error> {
    STRICT_DECODE.decode_append(input, out).map_err(|_| B64Error)
}

/// Strictly decode base64url into `buf`; `None` when `buf` is too small, `Some(Err)` when the
/// input is not strict base64url.
pub fn b64url_decode_to_slice<'b>(input: &[u8], buf: &'b mut [u8]) -> Option<Result<&'b [u8], B64Error>> {
    use base64_simd::AsOut;
    let n = match STRICT_DECODE.decoded_length(input) {
        Ok(n) => n,
        Err(_) => return Some(Err(B64Error)),
    };
    if n > buf.len() {
        return None;
    }
    Some(STRICT_DECODE.decode(input, buf[..n].as_out()).map(|d| &*d).map_err(|_| B64Error))
}

/// Encode base64url without padding.
pub fn b64url_encode(input: &[u8]) -> String {
    STRICT_B64URL.encode(input)
}

/// A value shown in a message: printable ASCII only, at most 64 characters.
pub fn printable(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(64).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

/// A string from outside (a token's `iss` or `aud`, a document's member) for an error message:
/// quoted, escaped (quotes, backslashes, control and non-ASCII characters: `char::escape_default`)
/// and bounded to 64 characters of the original, with `…` after a cut. Never for secrets.
pub fn quoted(s: &str) -> String {
    quoted_max(s, 64)
}

/// [`quoted`] with another bound (`max` characters of the original).
pub fn quoted_max(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 2);
    out.push('\'');
    for c in s.chars().take(max) {
        out.extend(c.escape_default());
    }
    out.push('\'');
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// The members of a [`RawObject`]: up to [`INLINE_MEMBERS`] live on the stack (a token's header
/// and claims usually fit), more on the heap.
pub type Members<'a> = SmallVec<[(Cow<'a, str>, &'a RawValue); INLINE_MEMBERS]>;

/// Members a [`RawObject`] holds without allocating.
pub const INLINE_MEMBERS: usize = 24;

/// A JSON object's top-level members, borrowed from the input, in document order.
/// Parsing fails on duplicate member names (RFC 7515 §4 / RFC 7519 §4: fail closed).
pub struct RawObject<'a> {
    pub members: Members<'a>,
}

impl<'a> RawObject<'a> {
    /// An object without members, for [`RawObject::fill`].
    pub fn new() -> RawObject<'a> {
        RawObject { members: Members::new() }
    }

    /// Parse `s`, which must be a JSON object with unique member names.
    pub fn parse(s: &'a str) -> Result<RawObject<'a>, &'static str> {
        let mut obj = RawObject::new();
        obj.fill(s)?;
        Ok(obj)
    }

    /// [`RawObject::parse`] into this object, which must be empty: the hot path's way, which
    /// does not move the inline members (about 1 KiB) through return values.
    pub fn fill(&mut self, s: &'a str) -> Result<(), &'static str> {
        debug_assert!(self.members.is_empty());
        let mut de = serde_json::Deserializer::from_str(s);
        de::DeserializeSeed::deserialize(Fill(&mut self.members), &mut de).and_then(|()| de.end()).map_err(|e| {
            let m = e.to_string();
            if m.starts_with(DUPLICATE) {
                "duplicate member name"
            } else if m.starts_with(TOO_MANY) {
                "more than 1024 members (the limit on token headers, claims and other JSON objects)"
            } else {
                "not a JSON object"
            }
        })?;
        // Large objects skipped the per-insert check; sort once (n log n worst case).
        if self.members.len() > LINEAR_DUP_CHECK {
            let mut names: Vec<&str> = self.members.iter().map(|(k, _)| k.as_ref()).collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                return Err("duplicate member name");
            }
        }
        Ok(())
    }

    /// The raw value of member `name`.
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        let n = name.as_bytes();
        // The length and first byte settle most mismatches without a comparison call.
        self.members.iter().find(|(k, _)| k.len() == n.len() && k.as_bytes().first() == n.first() && k.as_bytes() == n).map(|(_, v)| *v)
    }
}

impl Default for RawObject<'_> {
    fn default() -> Self {
        RawObject::new()
    }
}

/// Up to this many members, duplicates are found while inserting (no extra allocation).
const LINEAR_DUP_CHECK: usize = 32;
const DUPLICATE: &str = "duplicate member";
/// Most members of one object (token headers and claims, proofs, responses): a bound on the
/// work a hostile document can cause. Documented in the README.
pub const MAX_MEMBERS: usize = 1024;
const TOO_MANY: &str = "too many members";

/// A JSON string, borrowed from the input when it has no escapes.
pub(crate) struct Key<'a>(pub(crate) Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Fills a [`Members`] with the members of a JSON object, rejecting duplicate names.
struct Fill<'m, 'a>(&'m mut Members<'a>);

impl<'de> de::DeserializeSeed<'de> for Fill<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Fill<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let members = self.0;
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let v: &'de RawValue = map.next_value()?;
            if members.len() >= MAX_MEMBERS {
                return Err(de::Error::custom(TOO_MANY));
            }
            // The length and first byte settle most comparisons without a call to memcmp.
            let first = k.as_bytes().first();
            if members.len() < LINEAR_DUP_CHECK
                && members.iter().any(|(m, _)| m.len() == k.len() && m.as_bytes().first() == first && *m == k)
            {
                return Err(de::Error::custom(DUPLICATE));
            }
            members.push((k, v));
        }
        Ok(())
    }
}

impl<'de> serde::Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut obj = RawObject::new();
        d.deserialize_map(Fill(&mut obj.members))?;
        Ok(obj)
    }
}

/// What a raw JSON value holds, for the claim checks.
pub enum Scalar<'a> {
    Null,
    Number(f64),
    Str(Cow<'a, str>),
    Other,
}

/// Classify a raw value without building a tree (strings are borrowed when unescaped).
pub fn scalar(v: &RawValue) -> Scalar<'_> {
    let s = v.get();
    match s.as_bytes().first() {
        Some(b'n') => Scalar::Null,
        Some(b'"') => {
            // Borrowed when the string has no escapes (serde's Cow<str> would always copy).
            let mut de = serde_json::Deserializer::from_str(s);
            match <Key as serde::Deserialize>::deserialize(&mut de) {
                Ok(Key(c)) => Scalar::Str(c),
                Err(_) => Scalar::Other,
            }
        }
        Some(b'-' | b'0'..=b'9') => match s.parse::<f64>() {
            Ok(f) if f.is_finite() => Scalar::Number(f),
            _ => Scalar::Other,
        },
        _ => Scalar::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_base64() {
        assert_eq!(b64url_decode(b"AQAB").unwrap(), vec![1, 0, 1]);
        assert!(b64url_decode(b"AQAB=").is_err());
        assert!(b64url_decode(b"AQ==").is_err());
        assert!(b64url_decode(b"AR").is_err(), "non-canonical trailing bits");
        assert!(b64url_decode(b"A+/B").is_err(), "standard alphabet");
        assert!(b64url_decode(b"A B").is_err());
        assert_eq!(b64url_encode(&[1, 0, 1]), "AQAB");
        let mut buf = [0u8; 3];
        assert_eq!(b64url_decode_to_slice(b"AQAB", &mut buf), Some(Ok(&[1u8, 0, 1][..])));
        assert_eq!(b64url_decode_to_slice(b"AQABAQ", &mut buf), None, "too small");
        assert_eq!(b64url_decode_to_slice(b"AR", &mut buf), Some(Err(B64Error)));
        let mut v = vec![9u8];
        b64url_decode_into(b"AQAB", &mut v).unwrap();
        assert_eq!(v, [9, 1, 0, 1]);
    }

    /// The hot-path decoder accepts exactly what the strict `base64` engine accepts, with the same
    /// bytes: every length up to 70 (SIMD blocks and the scalar tail), every byte value at every
    /// position of short inputs, and every trailing-bit pattern.
    #[test]
    fn decoders_agree() {
        let same = |input: &[u8]| {
            let a = STRICT_B64URL.decode(input).ok();
            let b = b64url_decode(input).ok();
            assert_eq!(a, b, "{:?}", String::from_utf8_lossy(input));
        };
        let alphabet: Vec<u8> = (b'A'..=b'Z').chain(b'a'..=b'z').chain(b'0'..=b'9').chain(*b"-_").collect();
        for len in 0..=70usize {
            let s: Vec<u8> = (0..len).map(|i| alphabet[(i * 7 + len) % 64]).collect();
            same(&s);
            for bad in [b'=', b'+', b'/', b' ', b'.', 0, 0x80, 0xff] {
                for pos in [0, len / 2, len.saturating_sub(1)] {
                    if pos < len {
                        let mut t = s.clone();
                        t[pos] = bad;
                        same(&t);
                    }
                }
            }
        }
        for c in 0..=255u8 {
            for pos in 0..4 {
                let mut t = *b"QUJD";
                t[pos] = c;
                same(&t);
                same(&t[..3]);
                same(&t[..2]);
            }
        }
        for last in &alphabet {
            same(&[b'Q', *last]);
            same(&[b'Q', b'U', *last]);
            same(&[b'Q', b'U', b'J', b'D', b'Q', *last]);
        }
        let long: Vec<u8> = (0..1000).map(|i| alphabet[(i * 13) % 64]).collect();
        same(&long);
        same(&long[..999]);
        same(&long[..998]);
    }

    #[test]
    fn raw_object() {
        let o = RawObject::parse(r#"{"a":1,"b":"x\"y","c":{"d":[1]}}"#).unwrap();
        assert_eq!(o.members.len(), 3);
        assert!(matches!(scalar(o.get("a").unwrap()), Scalar::Number(n) if n == 1.0));
        assert!(matches!(scalar(o.get("b").unwrap()), Scalar::Str(s) if s == "x\"y"));
        assert!(matches!(scalar(o.get("c").unwrap()), Scalar::Other));
        assert!(RawObject::parse(r#"{"a":1,"a":2}"#).is_err());
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        assert!(RawObject::parse(&format!("{{{}}}", many.join(","))).is_ok());
        assert!(RawObject::parse(&format!("{{{},\"k3\":0}}", many.join(","))).is_err(), "late duplicate");
        assert!(matches!(scalar(o.get("b").unwrap()), Scalar::Str(Cow::Owned(_))), "escaped: owned");
        let p = RawObject::parse(r#"{"s":"plain"}"#).unwrap();
        assert!(matches!(scalar(p.get("s").unwrap()), Scalar::Str(Cow::Borrowed("plain"))));
        assert!(RawObject::parse(r#"{"\u0061":1,"a":2}"#).is_err(), "escaped duplicate");
        assert!(RawObject::parse("[1]").is_err());
        assert!(RawObject::parse("{} x").is_err());
        assert!(RawObject::parse(r#"{"a":1,}"#).is_err());
    }
}
