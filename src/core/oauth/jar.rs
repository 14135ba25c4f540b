//! Signed, and optionally encrypted, request objects (RFC 9101 JAR; FAPI 2.0 message signing).
//!
//! When a client is configured with [`RequestObjectConfig`], every authorization request it
//! builds — the authorization URL and the pushed request (PAR) alike — carries its parameters
//! in a request object instead of the query or the form: a JWS signed with the client's private
//! key (header `typ: oauth-authz-req+jwt`, RFC 9101 §10.8), with `iss` = the client id, `aud` =
//! the issuer, `iat`/`nbf`/`exp`, a fresh `jti`, `client_id` and every authorization parameter.
//! With encryption configured, that JWS is then encrypted (nested, `cty: JWT`) to the issuer's
//! published `use: enc` key of the key-management family (RSA for `RSA-OAEP*`, EC for
//! `ECDH-ES*`), or — for `A128KW`/`A192KW`/`A256KW` — to the key derived from the client secret
//! (OIDC Core §10.2). The issuer's keys are never taken from anything but its `jwks_uri`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{Map, Value};

use super::client::{ClientAuth, OAuthClient};
use super::pkce;
use super::signing::SigningKey;
use crate::core::client::unix_now;
use crate::core::error::{Error, ErrorKind, Result, err};
use crate::core::jose::jwe::{self, ContentEnc, EncryptionKey, KeyAlg};
use crate::core::json::printable;

/// Lifetime of a request object (`exp - iat`; FAPI 2.0 allows at most 60 minutes).
pub const REQUEST_OBJECT_LIFETIME_SECS: u64 = 300;
/// How long the issuer's encryption keys are reused before they are fetched again.
const ENC_KEYS_TTL: Duration = Duration::from_secs(300);

/// How a client makes its request objects.
#[derive(Clone)]
pub struct RequestObjectConfig {
    /// The signing key; `None`: the client's `private_key_jwt` key.
    pub key: Option<Arc<SigningKey>>,
    /// Encrypt the signed request object to the issuer (key management, content encryption).
    pub encryption: Option<(KeyAlg, ContentEnc)>,
}

impl std::fmt::Debug for RequestObjectConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestObjectConfig")
            .field("own_key", &self.key.is_some())
            .field("encryption", &self.encryption.map(|(a, e)| (a.name(), e.name())))
            .finish()
    }
}

/// The issuer's published encryption keys, cached for [`ENC_KEYS_TTL`].
#[derive(Default)]
pub(crate) struct EncKeyCache {
    keys: Mutex<Option<(Instant, Arc<Vec<Value>>)>>,
}

impl RequestObjectConfig {
    /// The encryption of request objects from its two names (both or neither).
    pub fn encryption_from_names(alg: Option<&str>, enc: Option<&str>) -> Result<Option<(KeyAlg, ContentEnc)>> {
        match (alg, enc) {
            (None, None) => Ok(None),
            (Some(a), Some(e)) => {
                let alg = KeyAlg::parse(a).ok_or_else(|| {
                    Error::new(ErrorKind::UnsupportedAlgorithm, format!("'{}' is not a JWE key management algorithm", printable(a)))
                })?;
                let enc = ContentEnc::parse(e).ok_or_else(|| {
                    Error::new(ErrorKind::UnsupportedAlgorithm, format!("'{}' is not a JWE content encryption algorithm", printable(e)))
                })?;
                Ok(Some((alg, enc)))
            }
            _ => err(
                ErrorKind::InvalidArgument,
                "the request-object encryption needs both the key management and the content encryption algorithm",
            ),
        }
    }

    /// Check the configuration against the client's credentials (called when the client is built).
    pub fn check(&self, auth: &ClientAuth) -> Result<()> {
        if self.key.is_none() && signing_key_of(auth).is_none() {
            return err(
                ErrorKind::InvalidConfig,
                "signed request objects need a private key: set one (the client's private_key_jwt key is used when none is given)",
            );
        }
        if let Some((alg, _)) = self.encryption {
            if alg.is_symmetric() && secret_of(auth).is_none() {
                return err(ErrorKind::InvalidConfig, format!("{} request-object encryption needs a client secret", alg.name()));
            }
            if matches!(alg, KeyAlg::Rsa1_5 | KeyAlg::Dir) {
                return err(ErrorKind::UnsupportedAlgorithm, format!("{} is not offered for request objects", alg.name()));
            }
        }
        Ok(())
    }
}

fn signing_key_of(auth: &ClientAuth) -> Option<&Arc<SigningKey>> {
    match auth {
        ClientAuth::PrivateKeyJwt(k) => Some(k),
        ClientAuth::Auto { key: Some(k), .. } => Some(k),
        _ => None,
    }
}

pub(crate) fn secret_of(auth: &ClientAuth) -> Option<&[u8]> {
    match auth {
        ClientAuth::SecretBasic(s) | ClientAuth::SecretPost(s) | ClientAuth::SecretJwt(s) => Some(s.expose().as_bytes()),
        ClientAuth::Auto { secret: Some(s), .. } => Some(s.expose().as_bytes()),
        _ => None,
    }
}

/// The claims of a request object: every parameter (a repeated name becomes an array; `max_age`
/// a number), plus the JWT claims.
fn claims(client_id: &str, issuer: &str, params: &[(String, String)], now: u64) -> Result<Map<String, Value>> {
    let mut c = Map::new();
    for (k, v) in params {
        let value = if k == "max_age" {
            v.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(v.clone()))
        } else {
            Value::String(v.clone())
        };
        match c.get_mut(k) {
            None => {
                c.insert(k.clone(), value);
            }
            Some(Value::Array(list)) => list.push(value),
            Some(first) => {
                let prev = first.take();
                *first = Value::Array(vec![prev, value]);
            }
        }
    }
    c.insert("client_id".into(), Value::String(client_id.into()));
    c.insert("iss".into(), Value::String(client_id.into()));
    c.insert("aud".into(), Value::String(issuer.into()));
    c.insert("iat".into(), Value::from(now));
    c.insert("nbf".into(), Value::from(now));
    c.insert("exp".into(), Value::from(now.saturating_add(REQUEST_OBJECT_LIFETIME_SECS)));
    c.insert("jti".into(), Value::String(pkce::random_value(16)?));
    Ok(c)
}

impl OAuthClient {
    /// Whether this client sends its authorization requests as request objects.
    pub fn uses_request_objects(&self) -> bool {
        self.config().request_object.is_some()
    }

    /// The request object carrying `params` (signed, then encrypted when configured).
    pub fn request_object(&self, params: &[(String, String)]) -> Result<String> {
        let Some(cfg) = &self.config().request_object else {
            return err(ErrorKind::InvalidConfig, "this client is not configured for request objects");
        };
        let auth = &self.config().auth;
        let key = match cfg.key.as_ref().or_else(|| signing_key_of(auth)) {
            Some(k) => k,
            None => return err(ErrorKind::InvalidConfig, "signed request objects need a private key"),
        };
        let now = unix_now().max(0.0) as u64;
        let issuer = self.config().base.issuer.clone();
        let c = claims(self.client_id(), &issuer, params, now)?;
        let mut header = Map::new();
        header.insert("typ".into(), Value::String("oauth-authz-req+jwt".into()));
        let signed = key.sign(&header, &Value::Object(c))?;
        let Some((alg, enc)) = cfg.encryption else { return Ok(signed) };
        let recipient = if alg.is_symmetric() {
            let secret =
                secret_of(auth).ok_or_else(|| Error::new(ErrorKind::InvalidConfig, "request-object encryption needs a client secret"))?;
            EncryptionKey::from_client_secret(secret, alg)?
        } else {
            self.issuer_encryption_key(alg)?
        };
        let mut h = Map::new();
        h.insert("cty".into(), Value::String("JWT".into()));
        jwe::encrypt(signed.as_bytes(), &recipient, alg, enc, &h)
    }

    /// The issuer's first published `use: enc` key that fits `alg` (fetched from `jwks_uri`,
    /// cached for a few minutes).
    fn issuer_encryption_key(&self, alg: KeyAlg) -> Result<EncryptionKey> {
        let keys = self.issuer_enc_keys()?;
        let mut last_err = None;
        for k in keys.iter() {
            let o = match k.as_object() {
                Some(o) => o,
                None => continue,
            };
            if o.get("use").and_then(Value::as_str).is_some_and(|u| u != "enc") {
                continue;
            }
            if let Some(a) = o.get("alg").and_then(Value::as_str) {
                if a != alg.name() {
                    continue;
                }
            }
            match EncryptionKey::from_jwk(k) {
                Ok(key) if key.fits(alg) => return Ok(key),
                Ok(_) => {}
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            Error::new(
                ErrorKind::KeysUnavailable,
                format!("the issuer publishes no encryption key (use: enc) for {}; choose another algorithm", alg.name()),
            )
        }))
    }

    fn issuer_enc_keys(&self) -> Result<Arc<Vec<Value>>> {
        let cache = &self.inner.enc_keys;
        if let Some((at, keys)) = cache.keys.lock().as_ref() {
            if at.elapsed() < ENC_KEYS_TTL {
                return Ok(keys.clone());
            }
        }
        let doc: Value = match &self.config().base.key_source {
            crate::core::config::KeySource::Static(json) => {
                serde_json::from_str(json).map_err(|_| Error::new(ErrorKind::JwksInvalid, "the static JWKS is not JSON"))?
            }
            source => {
                let uri = match source {
                    crate::core::config::KeySource::JwksUri(u) => u.clone(),
                    _ => self.metadata()?.jwks_uri.clone(),
                };
                let fetched = self.http().get_json(&uri, None)?;
                serde_json::from_slice(&fetched.body)
                    .map_err(|_| Error::new(ErrorKind::JwksInvalid, format!("the JWKS at {} is not JSON", printable(&uri))))?
            }
        };
        let keys = match doc.get("keys") {
            Some(Value::Array(k)) => k.iter().filter(|k| k.get("use").and_then(Value::as_str) != Some("sig")).cloned().collect::<Vec<_>>(),
            _ => return err(ErrorKind::JwksInvalid, "the JWKS has no keys array"),
        };
        let keys = Arc::new(keys);
        *cache.keys.lock() = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_shape() {
        let p = vec![
            ("response_type".to_string(), "code".to_string()),
            ("resource".to_string(), "urn:a".to_string()),
            ("resource".to_string(), "urn:b".to_string()),
            ("resource".to_string(), "urn:c".to_string()),
            ("max_age".to_string(), "60".to_string()),
        ];
        let c = claims("cid", "https://issuer", &p, 1000).unwrap();
        assert_eq!(c["resource"], serde_json::json!(["urn:a", "urn:b", "urn:c"]));
        assert_eq!(c["max_age"], serde_json::json!(60));
        assert_eq!(c["iss"], "cid");
        assert_eq!(c["client_id"], "cid");
        assert_eq!(c["aud"], "https://issuer");
        assert_eq!(c["exp"], serde_json::json!(1000 + REQUEST_OBJECT_LIFETIME_SECS));
        assert!(c["jti"].as_str().unwrap().len() >= 16);
    }
}
