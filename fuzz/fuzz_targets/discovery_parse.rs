//! Discovery documents (`discovery::parse_metadata`) and the discovery URLs of an issuer.
//! Input: one flag byte (bit 0: allow http to loopback), the issuer up to the first newline,
//! then the document. An accepted document names the configured issuer and a JWKS URL, and
//! every endpoint in it passes the URL policy (https, or http to loopback when allowed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc::core::discovery::{discovery_urls, parse_metadata};
use oidc::core::url::{Url, is_loopback_host};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let loopback = flags & 1 == 1;
    let (issuer, doc) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    let Ok(issuer) = std::str::from_utf8(issuer) else { return };
    let _ = discovery_urls(issuer);
    let Ok(md) = parse_metadata(doc, issuer, loopback) else { return };
    assert_eq!(md.issuer, issuer);
    let v: serde_json::Value = serde_json::from_slice(doc).expect("accepted metadata is JSON");
    assert_eq!(v.get("jwks_uri").and_then(|j| j.as_str()), Some(md.jwks_uri.as_str()));
    for (name, value) in &md.raw {
        let is_endpoint =
            name.ends_with("_endpoint") || (name.ends_with("_uri") && !matches!(name.as_str(), "op_policy_uri" | "op_tos_uri"));
        let Some(u) = value.as_str().filter(|_| is_endpoint) else { continue };
        let url = Url::parse_checked(u, loopback).expect("accepted endpoints pass the URL policy");
        if !url.https {
            assert!(loopback, "plain http endpoint {u:?} accepted without the loopback opt-in");
            let authority = u.get("http://".len()..).unwrap_or("").split(['/', '?']).next().unwrap_or("");
            let host = match authority.strip_prefix('[') {
                Some(v6) => format!("[{}]", v6.split(']').next().unwrap_or("")),
                None => authority.split(':').next().unwrap_or("").to_string(),
            };
            assert!(is_loopback_host(&host), "plain http endpoint {u:?} to a non-loopback host");
        }
    }
});
