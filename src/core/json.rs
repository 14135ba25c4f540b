//! Strict base64url and a borrowed, duplicate-rejecting view of a JSON object.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// base64url without padding; padding, non-alphabet bytes and non-zero trailing bits all fail.
const STRICT_B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Strictly decode base64url (no padding, canonical trailing bits).
pub fn b64url_decode(input: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    STRICT_B64URL.decode(input)
}

/// Strictly decode base64url, appending to `out` (which keeps its capacity).
pub fn b64url_decode_into(input: &[u8], out: &mut Vec<u8>) -> Result<(), base64::DecodeError> {
    STRICT_B64URL.decode_vec(input, out)
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

/// A JSON object's top-level members, borrowed from the input, in document order.
/// Parsing fails on duplicate member names (RFC 7515 §4 / RFC 7519 §4: fail closed).
pub struct RawObject<'a> {
    pub members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> RawObject<'a> {
    /// Parse `s`, which must be a JSON object with unique member names.
    pub fn parse(s: &'a str) -> Result<RawObject<'a>, &'static str> {
        let obj: RawObject<'a> = serde_json::from_str(s).map_err(|e| {
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
        if obj.members.len() > LINEAR_DUP_CHECK {
            let mut names: Vec<&str> = obj.members.iter().map(|(k, _)| k.as_ref()).collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                return Err("duplicate member name");
            }
        }
        Ok(obj)
    }

    /// The raw value of member `name`.
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
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

impl<'de> serde::Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject<'de>, A::Error> {
                let mut members: Vec<(Cow<'de, str>, &'de RawValue)> = Vec::with_capacity(24);
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    let v: &'de RawValue = map.next_value()?;
                    if members.len() >= MAX_MEMBERS {
                        return Err(de::Error::custom(TOO_MANY));
                    }
                    if members.len() < LINEAR_DUP_CHECK
                        && members.iter().any(|(m, _)| m.len() == k.len() && *m == k)
                    {
                        return Err(de::Error::custom(DUPLICATE));
                    }
                    members.push((k, v));
                }
                Ok(RawObject { members })
            }
        }
        d.deserialize_map(V)
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
