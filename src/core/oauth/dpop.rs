//! DPoP (RFC 9449): proof JWTs for token and resource requests, server nonces remembered per
//! origin, and DPoP-bound resource requests with one automatic `use_dpop_nonce` retry.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Map, Value, json};

use super::client::OAuthClient;
use super::signing::{SigningKey, random_b64};
use super::token::auth_param;
use crate::core::error::{ErrorKind, Result, err};
use crate::core::http::{HttpRequest, HttpResponse};
use crate::core::json::b64url_encode;

/// Most origins whose nonces are remembered (oldest entries are dropped past this).
const MAX_NONCE_ORIGINS: usize = 64;
/// Longest nonce kept.
const MAX_NONCE_LEN: usize = 512;

/// A DPoP key plus the nonces servers handed out.
pub struct Dpop {
    key: Arc<SigningKey>,
    nonces: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dpop").field("alg", &self.key.alg().name()).field("jkt", &self.key.thumbprint()).finish()
    }
}

/// `scheme://authority` in lower case: the key of the nonce table.
pub fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let auth = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{}://{}", scheme.to_ascii_lowercase(), auth.to_ascii_lowercase())
}

/// The `htu` of a proof: the URL without query and fragment (RFC 9449 §4.2).
pub fn htu(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// `ath`: base64url SHA-256 of the access token.
pub fn ath(access_token: &str) -> String {
    b64url_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes()).as_ref())
}

impl Dpop {
    pub fn new(key: Arc<SigningKey>) -> Result<Dpop> {
        use crate::core::config::Algorithm::*;
        if !matches!(key.alg(), ES256 | ES384 | ES512 | EdDSA | RS256 | PS256) {
            return err(ErrorKind::UnsupportedAlgorithm, "this algorithm is not usable for DPoP proofs");
        }
        Ok(Dpop { key, nonces: Mutex::new(HashMap::new()) })
    }

    /// The key's RFC 7638 thumbprint (`jkt`, the `cnf.jkt` of bound tokens).
    pub fn thumbprint(&self) -> String {
        self.key.thumbprint()
    }

    /// A proof for `method url`; with `access_token`, for a resource request (`ath`). The
    /// remembered nonce of the URL's origin is included.
    pub fn proof(&self, method: &str, url: &str, access_token: Option<&str>) -> Result<String> {
        let mut header = Map::new();
        header.insert("typ".into(), Value::from("dpop+jwt"));
        let mut jwk = self.key.public_jwk();
        if let Value::Object(m) = &mut jwk {
            m.remove("kid");
        }
        header.insert("jwk".into(), jwk);
        let mut claims = json!({
            "jti": random_b64(16),
            "htm": method,
            "htu": htu(url),
            "iat": crate::core::client::unix_now() as u64,
        });
        if let Some(n) = self.nonces.lock().get(&origin(url)) {
            claims["nonce"] = Value::from(n.clone());
        }
        if let Some(at) = access_token {
            claims["ath"] = Value::from(ath(at));
        }
        // The key id is deliberately not sent: the proof carries the public key itself.
        let token = sign_without_kid(&self.key, &header, &claims)?;
        Ok(token)
    }

    /// The nonce remembered for `url`'s origin.
    pub fn nonce(&self, url: &str) -> Option<String> {
        self.nonces.lock().get(&origin(url)).cloned()
    }

    /// Remember `nonce` for `url`'s origin.
    pub fn remember(&self, url: &str, nonce: &str) {
        if nonce.is_empty() || nonce.len() > MAX_NONCE_LEN || !nonce.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            return;
        }
        let mut m = self.nonces.lock();
        if m.len() >= MAX_NONCE_ORIGINS && !m.contains_key(&origin(url)) {
            m.clear();
        }
        m.insert(origin(url), nonce.to_string());
    }

    /// Remember the `DPoP-Nonce` header of a response, if any.
    pub fn remember_from(&self, url: &str, resp: &HttpResponse) {
        if let Some(n) = resp.header("dpop-nonce") {
            self.remember(url, n.trim());
        }
    }
}

/// Sign with the key but without its `kid` header (DPoP proofs carry `jwk` instead).
fn sign_without_kid(key: &SigningKey, header: &Map<String, Value>, claims: &Value) -> Result<String> {
    let mut h = header.clone();
    h.insert("alg".into(), Value::from(key.alg().name()));
    let input = format!("{}.{}", b64url_encode(Value::Object(h).to_string().as_bytes()), b64url_encode(claims.to_string().as_bytes()));
    let sig = key.sign_bytes(input.as_bytes())?;
    Ok(format!("{input}.{}", b64url_encode(&sig)))
}

impl OAuthClient {
    /// The DPoP state, when the client has a DPoP key.
    pub fn dpop(&self) -> Option<&Dpop> {
        self.inner.dpop.as_ref()
    }

    /// A DPoP proof for a request the caller makes itself (`access_token` given for resource
    /// requests). Fails with `InvalidConfig` when the client has no DPoP key.
    pub fn dpop_proof(&self, method: &str, url: &str, access_token: Option<&str>) -> Result<String> {
        match &self.inner.dpop {
            Some(d) => d.proof(method, url, access_token),
            None => err(ErrorKind::InvalidConfig, "this client has no DPoP key"),
        }
    }

    /// Call a protected resource with `access_token` through the client's pooled agent:
    /// `Authorization: DPoP` plus a proof (with `ath`) when the client has a DPoP key and the
    /// token is DPoP-bound (`token_type` "DPoP"), else `Authorization: Bearer`. A 401 with
    /// `error="use_dpop_nonce"` and a `DPoP-Nonce` header is retried once. Any final status is
    /// returned (not an error); the body is capped like every response.
    pub fn resource_request(
        &self,
        method: &'static str,
        url: &str,
        access_token: &str,
        token_type: &str,
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<HttpResponse> {
        self.protected_request(method, url, access_token, token_type, body, None)
    }

    /// [`resource_request`](Self::resource_request) with an `Accept` header (UserInfo).
    pub(crate) fn protected_request(
        &self,
        method: &'static str,
        url: &str,
        access_token: &str,
        token_type: &str,
        body: Option<(&'static str, Vec<u8>)>,
        accept: Option<&str>,
    ) -> Result<HttpResponse> {
        let dpop = self.inner.dpop.as_ref().filter(|_| token_type.eq_ignore_ascii_case("dpop"));
        let mut retried = false;
        loop {
            let mut req = HttpRequest { method, url: url.to_string(), body: body.clone(), ..Default::default() };
            if let Some(a) = accept {
                req.headers.push(("Accept", a.to_string()));
            }
            match dpop {
                Some(d) => {
                    req.headers.push(("Authorization", format!("DPoP {access_token}")));
                    req.headers.push(("DPoP", d.proof(method, url, Some(access_token))?));
                }
                None => req.headers.push(("Authorization", format!("Bearer {access_token}"))),
            }
            let resp = self.http().send(&req)?;
            if let Some(d) = dpop {
                d.remember_from(url, &resp);
                let nonce_error = resp.status == 401
                    && resp.header("www-authenticate").and_then(|w| auth_param(w, "error")).as_deref() == Some("use_dpop_nonce");
                if nonce_error && !retried && resp.header("dpop-nonce").is_some() {
                    retried = true;
                    continue;
                }
            }
            return Ok(resp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_shape() {
        let d = Dpop::new(Arc::new(SigningKey::generate_es256().unwrap())).unwrap();
        d.remember("https://AS.example:443/token", "n-1");
        let p = d.proof("POST", "https://as.example:443/token?x=1#f", Some("at")).unwrap();
        let parts: Vec<&str> = p.split('.').collect();
        let h: Value = serde_json::from_slice(&crate::core::json::b64url_decode(parts[0].as_bytes()).unwrap()).unwrap();
        let c: Value = serde_json::from_slice(&crate::core::json::b64url_decode(parts[1].as_bytes()).unwrap()).unwrap();
        assert_eq!(h["typ"], "dpop+jwt");
        assert_eq!(h["alg"], "ES256");
        assert!(h.get("kid").is_none());
        assert_eq!(h["jwk"]["kty"], "EC");
        assert!(h["jwk"].get("d").is_none());
        assert_eq!(c["htu"], "https://as.example:443/token");
        assert_eq!(c["htm"], "POST");
        assert_eq!(c["nonce"], "n-1");
        assert_eq!(c["ath"], ath("at"));
        assert_eq!(origin("HTTPS://A.example:8443/x?y"), "https://a.example:8443");
        d.remember("https://x", "bad nonce with spaces");
        assert_eq!(d.nonce("https://x"), None);
    }
}
