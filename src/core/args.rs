//! The one rule for string arguments that arrive empty (from C: `len == 0`, NULL allowed; from a
//! binding: `""`). Every entry point applies it the same way:
//!
//! - an **optional** argument that is empty is **absent** ([`optional`]): "no nonce", "no scope";
//! - a **required** argument that is empty is an `InvalidArgument` error naming it ([`required`]);
//! - a **builder setter** stores what it is given, and the configuration's own check decides at
//!   build time (an empty issuer is `InvalidConfig` there), so a setter never silently drops a value.
//!
//! There is no third meaning: an empty string is never sent to a server as a present, empty value.

use super::error::{Error, ErrorKind, Result};

/// An optional string argument: empty means absent.
pub fn optional(s: &str) -> Option<&str> {
    if s.is_empty() { None } else { Some(s) }
}

/// A required string argument: empty is `InvalidArgument` ("`name` is empty").
pub fn required<'a>(s: &'a str, name: &str) -> Result<&'a str> {
    if s.is_empty() { Err(Error::new(ErrorKind::InvalidArgument, format!("{name} is empty"))) } else { Ok(s) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_absent_or_an_error() {
        assert_eq!(optional(""), None);
        assert_eq!(optional("x"), Some("x"));
        assert_eq!(optional(" "), Some(" "));
        assert_eq!(required("x", "code").unwrap(), "x");
        let e = required("", "code").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("code is empty"));
    }
}
