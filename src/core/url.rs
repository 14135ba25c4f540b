//! The URL policy: https everywhere; plain http only to a loopback host, and only when the
//! client opted in. No credentials in URLs.

use std::net::IpAddr;

use super::error::{ErrorKind, Result, err};

/// A URL that passed the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub text: String,
    pub https: bool,
}

/// Whether `host` (as it appears in a URL authority, IPv6 in brackets) is a loopback host.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

impl Url {
    /// Parse `s` and apply the policy. Messages name the URL only up to its path (no query).
    pub fn parse_checked(s: &str, allow_http_loopback: bool) -> Result<Url> {
        let shown = redact(s);
        if s.len() > 4096 || s.chars().any(|c| c.is_ascii_control() || c == ' ') {
            return err(ErrorKind::InsecureUrl, format!("not a valid URL: {shown}"));
        }
        let uri: ureq::http::Uri = match s.parse() {
            Ok(u) => u,
            Err(_) => return err(ErrorKind::InsecureUrl, format!("not a valid URL: {shown}")),
        };
        let Some(auth) = uri.authority() else {
            return err(ErrorKind::InsecureUrl, format!("URL has no host: {shown}"));
        };
        if auth.as_str().contains('@') {
            return err(ErrorKind::InsecureUrl, "URLs with embedded credentials are not allowed");
        }
        let host = auth.host();
        if host.is_empty() {
            return err(ErrorKind::InsecureUrl, format!("URL has no host: {shown}"));
        }
        if uri.path_and_query().is_some_and(|pq| pq.as_str().contains('#')) || s.contains('#') {
            return err(ErrorKind::InsecureUrl, format!("URL must not have a fragment: {shown}"));
        }
        match uri.scheme_str() {
            Some("https") => Ok(Url { text: s.to_string(), https: true }),
            Some("http") if allow_http_loopback && is_loopback_host(host) => Ok(Url { text: s.to_string(), https: false }),
            Some("http") if is_loopback_host(host) => {
                err(ErrorKind::InsecureUrl, format!("plain http to loopback needs the explicit allow_http_loopback opt-in: {shown}"))
            }
            _ => err(ErrorKind::InsecureUrl, format!("URL must use https: {shown}")),
        }
    }
}

/// A URL as shown in messages: scheme, host and path, never userinfo or query.
pub fn redact(s: &str) -> String {
    let no_query = s.split(['?', '#']).next().unwrap_or("");
    let (scheme, rest) = match no_query.split_once("://") {
        Some((a, b)) => (a, b),
        None => ("", no_query),
    };
    let rest = match rest.split_once('/') {
        Some((auth, path)) => {
            let host = auth.rsplit('@').next().unwrap_or(auth);
            format!("{host}/{path}")
        }
        None => rest.rsplit('@').next().unwrap_or(rest).to_string(),
    };
    let out = if scheme.is_empty() { rest } else { format!("{scheme}://{rest}") };
    out.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(Url::parse_checked("https://idp.example/x", false).is_ok());
        assert!(Url::parse_checked("http://idp.example/x", true).is_err());
        assert!(Url::parse_checked("http://127.0.0.1:1/x", false).is_err());
        assert!(Url::parse_checked("http://127.0.0.1:1/x", true).is_ok());
        assert!(Url::parse_checked("http://[::1]:1/x", true).is_ok());
        assert!(Url::parse_checked("http://localhost:1/x", true).is_ok());
        assert!(Url::parse_checked("https://u:p@idp.example/", false).is_err());
        assert!(Url::parse_checked("ftp://idp.example/", true).is_err());
        assert!(Url::parse_checked("idp.example", true).is_err());
        assert!(Url::parse_checked("https://idp.example/#f", true).is_err());
        assert!(Url::parse_checked("", true).is_err());
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("https://u:secret@h/p?token=abc"), "https://h/p");
        assert!(!redact("https://h/p?client_secret=s").contains("secret"));
    }
}
