//! Issuer metadata: OpenID Connect discovery, with RFC 8414 as the fallback.

use serde_json::{Map, Value};

use super::error::{Error, ErrorKind, Result, err};
use super::http::Http;
use super::url::{Url, redact};

/// Validated issuer metadata.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub issuer: String,
    pub jwks_uri: String,
    /// The whole document (for the protocol clients and for callers).
    pub raw: Map<String, Value>,
}

impl Metadata {
    /// A string member, if present.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.raw.get(name).and_then(Value::as_str)
    }
}

/// The discovery URLs tried for `issuer`, in order: OIDC (`{issuer}/.well-known/openid-configuration`),
/// then RFC 8414 (`{origin}/.well-known/oauth-authorization-server{path}`).
pub fn discovery_urls(issuer: &str) -> [String; 2] {
    let trimmed = issuer.trim_end_matches('/');
    let oidc = format!("{trimmed}/.well-known/openid-configuration");
    let (scheme, rest) = trimmed.split_once("://").unwrap_or(("https", trimmed));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let oauth = format!("{scheme}://{authority}/.well-known/oauth-authorization-server{path}");
    [oidc, oauth]
}

/// Fetch and validate the metadata of `issuer`.
pub fn discover(http: &Http, issuer: &str, allow_http_loopback: bool) -> Result<Metadata> {
    let [oidc, oauth] = discovery_urls(issuer);
    let doc = match http.get_json(&oidc, None) {
        Ok(f) => f.body,
        // Fall back to RFC 8414 only when the OIDC document does not exist.
        Err(e) if e.kind() == ErrorKind::HttpStatus && e.message().starts_with("HTTP 404") => http.get_json(&oauth, None)?.body,
        Err(e) => return Err(e),
    };
    parse_metadata(&doc, issuer, allow_http_loopback)
}

/// Validate a metadata document against the configured issuer.
pub fn parse_metadata(doc: &[u8], issuer: &str, allow_http_loopback: bool) -> Result<Metadata> {
    let v: Value =
        serde_json::from_slice(doc).map_err(|_| Error::new(ErrorKind::DiscoveryInvalid, "discovery document is not valid JSON"))?;
    let Value::Object(raw) = v else {
        return err(ErrorKind::DiscoveryInvalid, "discovery document is not a JSON object");
    };
    let Some(doc_issuer) = raw.get("issuer").and_then(Value::as_str) else {
        return err(ErrorKind::DiscoveryInvalid, "discovery document has no issuer");
    };
    if doc_issuer != issuer {
        return err(
            ErrorKind::DiscoveryIssuerMismatch,
            super::validate::issuer_mismatch("the discovery document's issuer", doc_issuer, &redact(issuer)),
        );
    }
    let Some(jwks_uri) = raw.get("jwks_uri").and_then(Value::as_str) else {
        return err(ErrorKind::DiscoveryInvalid, "discovery document has no jwks_uri");
    };
    // Every endpoint must pass the URL policy, not just the one we use now.
    for (name, value) in &raw {
        let is_endpoint =
            name.ends_with("_endpoint") || (name.ends_with("_uri") && !matches!(name.as_str(), "op_policy_uri" | "op_tos_uri"));
        if !is_endpoint {
            continue;
        }
        if let Some(u) = value.as_str() {
            Url::parse_checked(u, allow_http_loopback)
                .map_err(|e| Error::new(ErrorKind::DiscoveryInvalid, format!("discovery member {name}: {}", e.message())))?;
        }
    }
    Ok(Metadata { issuer: doc_issuer.to_string(), jwks_uri: jwks_uri.to_string(), raw })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issuer_mismatch_names_both_and_the_trailing_slash() {
        let doc = |iss: &str| json!({"issuer": iss, "jwks_uri": "https://a.example/jwks"}).to_string();
        let e = parse_metadata(doc("https://a.example").as_bytes(), "https://a.example/", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DiscoveryIssuerMismatch);
        assert!(
            e.message().starts_with(
                "the discovery document's issuer 'https://a.example' is not the configured issuer 'https://a.example/' \
                 (they differ only by a trailing slash: configure the issuer without the trailing '/'"
            ),
            "{}",
            e.message()
        );
        let e = parse_metadata(doc("https://b.example").as_bytes(), "https://a.example", false).unwrap_err();
        assert_eq!(e.message(), "the discovery document's issuer 'https://b.example' is not the configured issuer 'https://a.example'");
    }

    #[test]
    fn urls() {
        assert_eq!(
            discovery_urls("https://a.example/tenant/"),
            [
                "https://a.example/tenant/.well-known/openid-configuration".to_string(),
                "https://a.example/.well-known/oauth-authorization-server/tenant".to_string()
            ]
        );
        assert_eq!(discovery_urls("https://a.example")[1], "https://a.example/.well-known/oauth-authorization-server");
    }

    #[test]
    fn metadata_rules() {
        let iss = "https://a.example";
        let good = json!({"issuer": iss, "jwks_uri": "https://a.example/jwks", "token_endpoint": "https://a.example/t"});
        assert_eq!(parse_metadata(good.to_string().as_bytes(), iss, false).unwrap().jwks_uri, "https://a.example/jwks");
        let k = |d: Value| parse_metadata(d.to_string().as_bytes(), iss, false).unwrap_err().kind();
        assert_eq!(k(json!({"issuer": "https://a.example/", "jwks_uri": "https://a/j"})), ErrorKind::DiscoveryIssuerMismatch);
        assert_eq!(k(json!({"issuer": iss})), ErrorKind::DiscoveryInvalid);
        assert_eq!(k(json!({"issuer": iss, "jwks_uri": "http://a.example/j"})), ErrorKind::DiscoveryInvalid);
        assert_eq!(k(json!({"issuer": iss, "jwks_uri": "https://a/j", "token_endpoint": "http://evil/t"})), ErrorKind::DiscoveryInvalid);
        assert_eq!(k(json!([1])), ErrorKind::DiscoveryInvalid);
        assert_eq!(parse_metadata(b"{", iss, false).unwrap_err().kind(), ErrorKind::DiscoveryInvalid);
    }
}
