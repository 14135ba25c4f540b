//! Scope and claim-value rules of a resource (RFC 9068 §2.2.3, RFC 6749 §3.3).
//!
//! Granted scopes are the union of `scope` and `scp`, each either a space-separated string
//! (RFC 9068, RFC 8693) or an array of scope strings (as some providers issue them). Any other
//! type, or a scope that is not a scope-token, makes the token invalid (`INVALID_CLAIM`), never
//! silently "no scopes".

use crate::core::error::{Error, ErrorKind, Result};
use crate::core::json::{RawObject, Scalar, scalar};

/// RFC 6749 §3.3 `scope-token = 1*NQCHAR` (%x21 / %x23-5B / %x5D-7E).
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c == 0x21 || (0x23..=0x5b).contains(&c) || (0x5d..=0x7e).contains(&c))
}

fn invalid(name: &str) -> Error {
    Error::new(ErrorKind::InvalidClaim, format!("claim {name} is not a space-separated string or an array of scope strings"))
}

/// Add the scopes of claim `name` (if present) to `out`.
fn collect<'a>(obj: &RawObject<'a>, name: &str, out: &mut Vec<String>) -> Result<()> {
    let Some(raw) = obj.get(name) else { return Ok(()) };
    match scalar(raw) {
        Scalar::Str(s) => {
            for t in s.split(' ').filter(|t| !t.is_empty()) {
                if !is_scope_token(t) {
                    return Err(invalid(name));
                }
                out.push(t.to_string());
            }
            Ok(())
        }
        Scalar::Other if raw.get().starts_with('[') => {
            let items: Vec<std::borrow::Cow<str>> = serde_json::from_str(raw.get()).map_err(|_| invalid(name))?;
            for t in items {
                if !is_scope_token(&t) {
                    return Err(invalid(name));
                }
                out.push(t.into_owned());
            }
            Ok(())
        }
        _ => Err(invalid(name)),
    }
}

/// The scopes a token grants (`scope` and `scp`).
pub fn granted_scopes(claims: &RawObject) -> Result<Vec<String>> {
    let mut out = Vec::new();
    collect(claims, "scope", &mut out)?;
    collect(claims, "scp", &mut out)?;
    Ok(out)
}

/// The required scopes the token lacks (empty: every one is granted).
pub fn missing_scopes(claims: &RawObject, required: &[String]) -> Result<Vec<String>> {
    if required.is_empty() {
        return Ok(Vec::new());
    }
    let granted = granted_scopes(claims)?;
    Ok(required.iter().filter(|r| !granted.iter().any(|g| g == *r)).cloned().collect())
}

/// Check claim-value rules: the claim must be a string among the values, or an array of strings
/// one of which is among them. A missing claim fails the rule.
pub fn check_claim_values(claims: &RawObject, rules: &[(String, Vec<String>)]) -> Result<()> {
    for (name, allowed) in rules {
        let shown = crate::core::json::printable(name);
        let fail = || Error::new(ErrorKind::ClaimNotAllowed, format!("claim '{shown}' does not hold an allowed value"));
        let Some(raw) = claims.get(name) else {
            return Err(Error::new(ErrorKind::ClaimNotAllowed, format!("claim '{shown}' is missing")));
        };
        let ok = match scalar(raw) {
            Scalar::Str(s) => allowed.iter().any(|a| *a == *s),
            Scalar::Other if raw.get().starts_with('[') => {
                let items: Vec<serde_json::Value> = serde_json::from_str(raw.get()).map_err(|_| fail())?;
                items.iter().any(|v| v.as_str().is_some_and(|s| allowed.iter().any(|a| a == s)))
            }
            _ => false,
        };
        if !ok {
            return Err(fail());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing(claims: &str, req: &[&str]) -> std::result::Result<Vec<String>, ErrorKind> {
        let obj = RawObject::parse(claims).unwrap();
        let req: Vec<String> = req.iter().map(|s| s.to_string()).collect();
        missing_scopes(&obj, &req).map_err(|e| e.kind())
    }

    #[test]
    fn scope_shapes() {
        assert_eq!(missing(r#"{"scope":"a b"}"#, &["a", "b"]), Ok(vec![]));
        assert_eq!(missing(r#"{"scope":"a  b "}"#, &["b"]), Ok(vec![]));
        assert_eq!(missing(r#"{"scope":["a","b"]}"#, &["a", "b"]), Ok(vec![]));
        assert_eq!(missing(r#"{"scp":["a","b"]}"#, &["b"]), Ok(vec![]));
        assert_eq!(missing(r#"{"scp":"a b"}"#, &["a"]), Ok(vec![]));
        assert_eq!(missing(r#"{"scope":"a","scp":["b"]}"#, &["a", "b"]), Ok(vec![]));
        assert_eq!(missing(r#"{"scope":"a"}"#, &["a", "b", "c"]), Ok(vec!["b".into(), "c".into()]));
        assert_eq!(missing(r#"{}"#, &["a"]), Ok(vec!["a".into()]));
        assert_eq!(missing(r#"{"scope":"ab"}"#, &["a"]), Ok(vec!["a".into()]));
        assert_eq!(missing(r#"{"scope":5}"#, &["a"]), Err(ErrorKind::InvalidClaim));
        assert_eq!(missing(r#"{"scope":null}"#, &["a"]), Err(ErrorKind::InvalidClaim));
        assert_eq!(missing(r#"{"scope":["a b"]}"#, &["a"]), Err(ErrorKind::InvalidClaim));
        assert_eq!(missing(r#"{"scp":[1]}"#, &["a"]), Err(ErrorKind::InvalidClaim));
        assert_eq!(missing(r#"{"scope":"a\tb"}"#, &["a"]), Err(ErrorKind::InvalidClaim));
        assert_eq!(missing(r#"{"scope":5}"#, &[]), Ok(vec![]), "no rule, no reading");
    }

    #[test]
    fn claim_values() {
        let rules = vec![("client_id".to_string(), vec!["svc".to_string(), "web".to_string()])];
        let check = |c: &str| check_claim_values(&RawObject::parse(c).unwrap(), &rules).map_err(|e| e.kind());
        assert_eq!(check(r#"{"client_id":"svc"}"#), Ok(()));
        assert_eq!(check(r#"{"client_id":["x","web"]}"#), Ok(()));
        assert_eq!(check(r#"{"client_id":"evil"}"#), Err(ErrorKind::ClaimNotAllowed));
        assert_eq!(check(r#"{"client_id":7}"#), Err(ErrorKind::ClaimNotAllowed));
        assert_eq!(check(r#"{}"#), Err(ErrorKind::ClaimNotAllowed));
        assert!(is_scope_token("read:all"));
        assert!(!is_scope_token("a\"b") && !is_scope_token("a\\b") && !is_scope_token("") && !is_scope_token("a b"));
    }
}
