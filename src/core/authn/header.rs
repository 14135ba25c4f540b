//! The `Authorization` header of a request (RFC 6750 §2.1, RFC 9449 §7.1, RFC 9110 §11.4).

use crate::core::error::{Error, ErrorKind, Result};

/// The scheme a token was presented with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    DPoP,
}

impl Scheme {
    /// The scheme's name as sent in challenges and reported to hosts.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Bearer => "Bearer",
            Scheme::DPoP => "DPoP",
        }
    }
}

/// What the `Authorization` header(s) hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// No `Authorization` header, or one in a scheme this library does not handle (`Basic`, ...):
    /// RFC 6750 §3.1 says such a request gets a bare challenge without an error code.
    None,
    /// A token in a known scheme.
    Token(Scheme, &'a str),
}

fn malformed(msg: &str) -> Error {
    Error::new(ErrorKind::RequestMalformed, msg)
}

/// RFC 6750 `b64token`: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
pub fn is_b64token(t: &str) -> bool {
    let b = t.as_bytes();
    let body = b.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
    body > 0 && b[..body].iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
}

/// `t` as a `&str` if it is a `b64token` (what [`is_b64token`] accepts), checked without a
/// branch per byte so that the compiler vectorizes the loop.
fn plain_b64token(t: &[u8]) -> Option<&str> {
    let body = &t[..t.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1)];
    let tchar = |c: u8| {
        // ALPHA (`| 0x20` folds the case), DIGIT, "-" "." "/", "+", "_", "~".
        ((c | 0x20).wrapping_sub(b'a') < 26)
            | (c.wrapping_sub(b'0') < 10)
            | (c.wrapping_sub(b'-') < 3)
            | (c == b'+')
            | (c == b'_')
            | (c == b'~')
    };
    let ok = !body.is_empty() && body.iter().fold(true, |ok, &c| ok & tchar(c));
    // Every byte is ASCII then, so the conversion cannot fail.
    if ok { std::str::from_utf8(t).ok() } else { None }
}

/// Optional whitespace (RFC 9110 §5.6.3) around a field value.
fn trim_ows(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| c != b' ' && c != b'\t').unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c != b' ' && c != b'\t').map_or(start, |i| i + 1);
    &b[start..end]
}

/// The scheme a single `Authorization` value names, even when its credentials are malformed
/// ("DPoP a b"): a denial's error then goes on that scheme's challenge. `None` for no value,
/// several values, or a scheme other than Bearer and DPoP.
pub fn scheme_hint(values: &[Vec<u8>]) -> Option<Scheme> {
    let [v] = values else { return None };
    let v = trim_ows(v);
    let end = v.iter().position(|&c| c == b' ' || c == b'\t' || c == b',').unwrap_or(v.len());
    let name = &v[..end];
    if name.eq_ignore_ascii_case(b"bearer") {
        Some(Scheme::Bearer)
    } else if name.eq_ignore_ascii_case(b"dpop") {
        Some(Scheme::DPoP)
    } else {
        None
    }
}

/// Parse the `Authorization` field values a request carried (one entry per header line).
/// `max_token_bytes` bounds the token before any of it is examined.
pub fn parse_authorization(values: &[Vec<u8>], max_token_bytes: usize) -> Result<Credentials<'_>> {
    let value = match values {
        [] => return Ok(Credentials::None),
        [v] => trim_ows(v),
        _ => return Err(malformed("the request has more than one Authorization header")),
    };
    if value.is_empty() {
        return Err(malformed("the Authorization header is empty"));
    }
    let sp = value.iter().position(|&c| c == b' ' || c == b'\t').unwrap_or(value.len());
    let (scheme, rest) = value.split_at(sp);
    let scheme = if scheme.eq_ignore_ascii_case(b"bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case(b"dpop") {
        Scheme::DPoP
    } else if scheme.contains(&b',') {
        // "Bearer,..." or a list of credentials glued together.
        return Err(malformed("the Authorization header holds more than one credential"));
    } else {
        return Ok(Credentials::None);
    };
    // RFC 6750: credentials = "Bearer" 1*SP b64token.
    let token = trim_ows(rest);
    if token.is_empty() {
        return Err(malformed("the Authorization header has a scheme but no token"));
    }
    if token.len() > max_token_bytes {
        return Err(Error::new(ErrorKind::TokenTooLarge, format!("token is {} bytes; the limit is {max_token_bytes}", token.len())));
    }
    // The common case in one pass the compiler vectorizes: every byte a b64token character.
    // Only a token that fails it goes through the checks below, which name the fault.
    if let Some(t) = plain_b64token(token) {
        return Ok(Credentials::Token(scheme, t));
    }
    if token.iter().any(|&c| c == b',' || c == b' ' || c == b'\t') {
        return Err(malformed("the Authorization header holds more than one credential or a token with spaces"));
    }
    let Ok(token) = std::str::from_utf8(token) else {
        return Err(malformed("the access token is not a b64token (non-ASCII bytes)"));
    };
    if !is_b64token(token) {
        return Err(malformed("the access token is not a b64token (RFC 6750 section 2.1)"));
    }
    Ok(Credentials::Token(scheme, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&[u8]]) -> std::result::Result<Credentials<'static>, ErrorKind> {
        let owned: Vec<Vec<u8>> = v.iter().map(|x| x.to_vec()).collect();
        let leaked: &'static [Vec<u8>] = Box::leak(owned.into_boxed_slice());
        parse_authorization(leaked, 100).map_err(|e| e.kind())
    }

    #[test]
    fn schemes_and_shapes() {
        use Credentials::*;
        use Scheme::*;
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&[b"Bearer abc"]), Ok(Token(Bearer, "abc")));
        assert_eq!(parse(&[b"bEaReR   abc.def-_~+/=="]), Ok(Token(Bearer, "abc.def-_~+/==")));
        assert_eq!(parse(&[b"  DPoP abc  "]), Ok(Token(DPoP, "abc")));
        assert_eq!(parse(&[b"dpop\tabc"]), Ok(Token(DPoP, "abc")));
        assert_eq!(parse(&[b"Basic dXNlcjpwYXNz"]), Ok(None));
        assert_eq!(parse(&[b"Bearer a", b"Bearer b"]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer a, Bearer b"]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer a b"]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer"]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer   "]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b""]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer =abc"]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer ab=c"]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer ab\"c"]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer \xff\xfe"]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer,Basic x"]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[&[b'B', b'e', b'a', b'r', b'e', b'r', b' '][..]]), Err(ErrorKind::RequestMalformed));
        assert_eq!(scheme_hint(&[b"dpop a b".to_vec()]), Some(DPoP));
        assert_eq!(scheme_hint(&[b" Bearer,Basic x".to_vec()]), Some(Bearer));
        assert_eq!(scheme_hint(&[b"Bearer a".to_vec(), b"DPoP b".to_vec()]), Option::None);
        assert_eq!(scheme_hint(&[b"Basic x".to_vec()]), Option::None);
        assert_eq!(parse(&[b"Bearer =="]), Err(ErrorKind::RequestMalformed));
        assert_eq!(parse(&[b"Bearer a.b~c+d/e-f_g=="]), Ok(Token(Bearer, "a.b~c+d/e-f_g==")));
        for c in 0..=255u8 {
            let tok = [b'a', c, b'b'];
            assert_eq!(plain_b64token(&tok).is_some(), std::str::from_utf8(&tok).is_ok_and(is_b64token), "byte {c}");
        }
        let big = format!("Bearer {}", "a".repeat(101));
        assert_eq!(parse(&[Box::leak(big.into_boxed_str()).as_bytes()]), Err(ErrorKind::TokenTooLarge));
    }
}
