//! The protocol client handle.

use std::sync::Arc;

use super::secret::Secret;
use super::token::{TokenResponse, error_from_response};
use crate::core::client::Client;
use crate::core::config::{Config, KeySource};
use crate::core::discovery::Metadata;
use crate::core::error::{Error, ErrorKind, Result, err};
use crate::core::http::{Http, HttpRequest, HttpResponse};
use crate::core::url::Url;

/// How the client authenticates at the token endpoint (and introspection, revocation, PAR).
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// A public client: `client_id` in the body, no secret.
    None,
    /// `client_secret_basic`: HTTP Basic with RFC 6749 §2.3.1 form-encoded id and secret.
    SecretBasic(Secret),
    /// `client_secret_post`: id and secret in the form body.
    SecretPost(Secret),
}

impl ClientAuth {
    /// Resolve the authentication from its parts: an explicit method name (RFC 7591 names:
    /// `none`, `client_secret_basic`, `client_secret_post`) or, without one, the secret's
    /// presence (`client_secret_basic` with a secret, `none` without).
    pub fn from_parts(method: Option<&str>, secret: Option<Secret>) -> Result<ClientAuth> {
        match (method, secret) {
            (None, None) | (Some("none"), None) => Ok(ClientAuth::None),
            (Some("none"), Some(_)) => err(ErrorKind::InvalidConfig, "auth method none takes no client secret"),
            (None | Some("client_secret_basic"), Some(s)) => Ok(ClientAuth::SecretBasic(s)),
            (Some("client_secret_post"), Some(s)) => Ok(ClientAuth::SecretPost(s)),
            (Some("client_secret_basic" | "client_secret_post"), None) => {
                err(ErrorKind::InvalidConfig, "this auth method needs a client secret")
            }
            (Some(m), _) => err(
                ErrorKind::InvalidConfig,
                format!("unknown client auth method '{}'", crate::core::json::printable(m)),
            ),
        }
    }
}

/// A protocol client's configuration.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// Issuer, HTTP settings (timeouts, CA file, loopback opt-in, response cap), the ID-token
    /// policy (algorithms, leeway) and the clock. Its audiences default to `[client_id]`.
    pub base: Config,
    pub client_id: String,
    pub auth: ClientAuth,
    /// Endpoint overrides by metadata name (`token_endpoint`, `introspection_endpoint`, ...);
    /// they take precedence over discovery and pass the same URL policy.
    pub endpoints: Vec<(String, String)>,
}

impl OAuthConfig {
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, auth: ClientAuth) -> OAuthConfig {
        OAuthConfig { base: Config::new(issuer), client_id: client_id.into(), auth, endpoints: Vec::new() }
    }
}

pub(crate) struct Inner {
    pub(crate) cfg: OAuthConfig,
    /// Validates ID tokens (audience = client id) with the access-token policy code, and owns
    /// the pooled HTTP agent every request of this client uses.
    pub(crate) validator: Client,
}

/// A protocol client. Cheap to clone; every method may run concurrently from any thread.
#[derive(Clone)]
pub struct OAuthClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("issuer", &self.inner.cfg.base.issuer)
            .field("client_id", &self.inner.cfg.client_id)
            .field("auth", &self.inner.cfg.auth)
            .finish()
    }
}

impl OAuthClient {
    /// Check the configuration and build the client (no network).
    pub fn new(mut cfg: OAuthConfig) -> Result<OAuthClient> {
        if cfg.client_id.is_empty() {
            return err(ErrorKind::InvalidConfig, "client_id is empty");
        }
        if cfg.base.audiences.is_empty() {
            cfg.base.audiences.push(cfg.client_id.clone());
        }
        for (name, url) in &cfg.endpoints {
            Url::parse_checked(url, cfg.base.allow_http_loopback).map_err(|e| {
                Error::new(e.kind(), format!("endpoint {name}: {}", e.message()))
            })?;
            if name == "jwks_uri" {
                cfg.base.key_source = KeySource::JwksUri(url.clone());
            }
        }
        match &cfg.auth {
            ClientAuth::SecretBasic(s) | ClientAuth::SecretPost(s) if s.is_empty() => {
                return err(ErrorKind::InvalidConfig, "client secret is empty");
            }
            _ => {}
        }
        let validator = Client::new(cfg.base.clone())?;
        Ok(OAuthClient { inner: Arc::new(Inner { cfg, validator }) })
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.inner.cfg
    }

    pub fn client_id(&self) -> &str {
        &self.inner.cfg.client_id
    }

    /// The ID-token validator (same policy code as access tokens; audience = client id).
    pub fn validator(&self) -> &Client {
        &self.inner.validator
    }

    /// The one pooled HTTP agent of this client.
    pub fn http(&self) -> &Http {
        self.inner.validator.http().expect("protocol clients always have an HTTP agent")
    }

    /// The issuer's metadata (discovered once, single-flight).
    pub fn metadata(&self) -> Result<Arc<Metadata>> {
        self.inner.validator.discover()
    }

    /// The URL of endpoint `name` (metadata member name): an override, else discovery.
    pub fn endpoint(&self, name: &str) -> Result<String> {
        if let Some((_, u)) = self.inner.cfg.endpoints.iter().find(|(n, _)| n == name) {
            return Ok(u.clone());
        }
        let m = self.metadata()?;
        match m.get_str(name) {
            Some(u) => Ok(u.to_string()),
            None => err(ErrorKind::InvalidConfig, format!("the issuer advertises no {name}")),
        }
    }

    /// Add this client's authentication to a request for `endpoint_url`.
    pub fn apply_client_auth(&self, req: &mut HttpRequest) -> Result<()> {
        let id = &self.inner.cfg.client_id;
        let form = req.form.get_or_insert_with(Vec::new);
        match &self.inner.cfg.auth {
            ClientAuth::None => form.push(("client_id".into(), id.clone())),
            ClientAuth::SecretPost(s) => {
                form.push(("client_id".into(), id.clone()));
                form.push(("client_secret".into(), s.expose().to_string()));
            }
            ClientAuth::SecretBasic(s) => {
                use base64::Engine;
                // RFC 6749 §2.3.1: form-encode id and secret before joining them.
                let pair = format!(
                    "{}:{}",
                    crate::core::http::form_encode(id),
                    crate::core::http::form_encode(s.expose())
                );
                let b = base64::engine::general_purpose::STANDARD.encode(pair);
                req.headers.push(("Authorization", format!("Basic {b}")));
            }
        }
        Ok(())
    }

    /// POST an authenticated form to endpoint `name`; non-2xx becomes an error (OAuth error
    /// responses keep their code).
    pub fn post_authenticated(&self, name: &str, params: Vec<(String, String)>) -> Result<HttpResponse> {
        let url = self.endpoint(name)?;
        let mut req = HttpRequest { method: "POST", url, form: Some(params), ..Default::default() };
        req.headers.push(("Accept", "application/json".into()));
        self.apply_client_auth(&mut req)?;
        let resp = self.http().send(&req)?;
        if !(200..300).contains(&resp.status) {
            return Err(error_from_response(&resp, name));
        }
        Ok(resp)
    }

    /// A token-endpoint request with `params` (grant_type and the grant's parameters).
    pub fn token_request(&self, params: Vec<(String, String)>) -> Result<TokenResponse> {
        let resp = self.post_authenticated("token_endpoint", params)?;
        if !resp.is_json() {
            return err(ErrorKind::ResponseInvalid, "token response is not JSON");
        }
        TokenResponse::parse(&resp.body)
    }

    /// Client credentials grant (RFC 6749 §4.4) with optional scope, RFC 8707 resources and an
    /// `audience` parameter.
    pub fn client_credentials(&self, scope: Option<&str>, resources: &[&str], audience: Option<&str>) -> Result<TokenResponse> {
        let mut p = vec![("grant_type".to_string(), "client_credentials".to_string())];
        if let Some(s) = scope {
            p.push(("scope".into(), s.into()));
        }
        for r in resources {
            p.push(("resource".into(), (*r).into()));
        }
        if let Some(a) = audience {
            p.push(("audience".into(), a.into()));
        }
        self.token_request(p)
    }
}
