//! The protocol client handle.

use std::sync::Arc;

use super::dpop::Dpop;
use super::logout::LogoutConfig;
use super::secret::Secret;
use super::signing::{SigningKey, random_b64, sign_hs256};
use super::token::{TokenResponse, error_from_response};
use super::token_cache::TokenCache;
use crate::core::authn::replay::{ReplayCache, ReplayKind};
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
    /// `client_secret_jwt`: an RFC 7523 assertion signed with HS256 using the secret.
    SecretJwt(Secret),
    /// `private_key_jwt`: an RFC 7523 assertion signed with the client's private key.
    PrivateKeyJwt(Arc<SigningKey>),
    /// "auto": the first method the issuer lists in `token_endpoint_auth_methods_supported`
    /// (RFC 8414 default: `client_secret_basic`) that the credentials allow, preferring
    /// `private_key_jwt`, then `client_secret_basic`, `client_secret_post`, `client_secret_jwt`;
    /// `none` without credentials. Resolved per request from the (cached) metadata.
    Auto { secret: Option<Secret>, key: Option<Arc<SigningKey>> },
    /// `tls_client_auth` (RFC 8705 §2.1): the client certificate of the TLS connection, issued
    /// by a CA the server trusts for this client; `client_id` in the body.
    TlsClientAuth,
    /// `self_signed_tls_client_auth` (RFC 8705 §2.2): a self-signed client certificate the
    /// server knows (registered in the client's JWKS); `client_id` in the body.
    SelfSignedTlsClientAuth,
}

/// The RFC 7591 names [`ClientAuth::from_parts_with_key`] accepts.
pub const AUTH_METHODS: [&str; 8] = [
    "none",
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
    "auto",
];

impl ClientAuth {
    /// Resolve the authentication from its parts: an explicit method name (RFC 7591 names:
    /// `none`, `client_secret_basic`, `client_secret_post`) or, without one, the secret's
    /// presence (`client_secret_basic` with a secret, `none` without).
    pub fn from_parts(method: Option<&str>, secret: Option<Secret>) -> Result<ClientAuth> {
        Self::from_parts_with_key(method, secret, None)
    }

    /// Like [`from_parts`](Self::from_parts), with a private key: methods also
    /// `client_secret_jwt`, `private_key_jwt` and `auto`. Without a method: `private_key_jwt`
    /// when a key is given, else `client_secret_basic` with a secret, else `none`.
    pub fn from_parts_with_key(method: Option<&str>, secret: Option<Secret>, key: Option<Arc<SigningKey>>) -> Result<ClientAuth> {
        let needs_secret =
            |s: Option<Secret>| s.ok_or_else(|| Error::new(ErrorKind::InvalidConfig, "this auth method needs a client secret"));
        match method {
            Some("auto") => return Ok(ClientAuth::Auto { secret, key }),
            Some(m @ ("tls_client_auth" | "self_signed_tls_client_auth")) => {
                if secret.is_some() || key.is_some() {
                    return err(ErrorKind::InvalidConfig, format!("{m} takes a client certificate, not a client secret or private key"));
                }
                return Ok(if m == "tls_client_auth" { ClientAuth::TlsClientAuth } else { ClientAuth::SelfSignedTlsClientAuth });
            }
            Some("private_key_jwt") => {
                if secret.is_some() {
                    return err(ErrorKind::InvalidConfig, "private_key_jwt takes a private key, not a client secret");
                }
                return key
                    .map(ClientAuth::PrivateKeyJwt)
                    .ok_or_else(|| Error::new(ErrorKind::InvalidConfig, "private_key_jwt needs a private key"));
            }
            None if key.is_some() && secret.is_none() => return Ok(ClientAuth::PrivateKeyJwt(key.unwrap())),
            _ if key.is_some() => {
                return err(ErrorKind::InvalidConfig, "a private key is only used with private_key_jwt or auto");
            }
            _ => {}
        }
        match (method, secret) {
            (None, None) | (Some("none"), None) => Ok(ClientAuth::None),
            (Some("none"), Some(_)) => err(ErrorKind::InvalidConfig, "auth method none takes no client secret"),
            (None | Some("client_secret_basic"), Some(s)) => Ok(ClientAuth::SecretBasic(s)),
            (Some("client_secret_post"), s) => Ok(ClientAuth::SecretPost(needs_secret(s)?)),
            (Some("client_secret_basic"), None) => err(ErrorKind::InvalidConfig, "this auth method needs a client secret"),
            (Some("client_secret_jwt"), s) => Ok(ClientAuth::SecretJwt(needs_secret(s)?)),
            (Some(m), _) => err(ErrorKind::InvalidConfig, format!("unknown client auth method '{}'", crate::core::json::printable(m))),
        }
    }

    /// The RFC 7591 name of a concrete method (`auto` for [`ClientAuth::Auto`]).
    pub fn method_name(&self) -> &'static str {
        match self {
            ClientAuth::None => "none",
            ClientAuth::SecretBasic(_) => "client_secret_basic",
            ClientAuth::SecretPost(_) => "client_secret_post",
            ClientAuth::SecretJwt(_) => "client_secret_jwt",
            ClientAuth::PrivateKeyJwt(_) => "private_key_jwt",
            ClientAuth::Auto { .. } => "auto",
            ClientAuth::TlsClientAuth => "tls_client_auth",
            ClientAuth::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }
}

/// The `aud` of client assertions (RFC 7523 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssertionAudience {
    /// The token endpoint URL (the RFC 7523 suggestion, accepted by most servers).
    #[default]
    TokenEndpoint,
    /// The issuer identifier (what RFC 7523bis and FAPI 2 recommend).
    Issuer,
    /// The URL of the endpoint being called.
    Endpoint,
}

impl AssertionAudience {
    /// The audience for its configuration name: `token_endpoint`, `issuer` or `endpoint`
    /// (anything else is `InvalidArgument`).
    pub fn from_name(name: &str) -> Result<AssertionAudience> {
        match name {
            "token_endpoint" => Ok(AssertionAudience::TokenEndpoint),
            "issuer" => Ok(AssertionAudience::Issuer),
            "endpoint" => Ok(AssertionAudience::Endpoint),
            _ => Err(Error::new(ErrorKind::InvalidArgument, "assertion audience must be token_endpoint, issuer or endpoint")),
        }
    }

    /// The configuration name (the inverse of [`AssertionAudience::from_name`]).
    pub fn name(self) -> &'static str {
        match self {
            AssertionAudience::TokenEndpoint => "token_endpoint",
            AssertionAudience::Issuer => "issuer",
            AssertionAudience::Endpoint => "endpoint",
        }
    }
}

/// Lifetime of a client assertion.
pub const ASSERTION_LIFETIME_SECS: u64 = 60;

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
    /// `aud` of client assertions (client_secret_jwt, private_key_jwt).
    pub assertion_audience: AssertionAudience,
    /// DPoP (RFC 9449) key: when set, token requests carry DPoP proofs and resource requests
    /// made through the client are DPoP-bound.
    pub dpop_key: Option<Arc<SigningKey>>,
    /// Back-channel logout tokens: explicit typing, the replay cache's capacity, the host's
    /// shared replay store (`logout::validate_logout_token`).
    pub logout: LogoutConfig,
    /// RFC 9101: send every authorization request as a signed (optionally encrypted) request
    /// object (see [`super::jar`]).
    pub request_object: Option<super::jar::RequestObjectConfig>,
}

impl OAuthConfig {
    /// Set the client's authentication from its parts (see [`ClientAuth::from_parts_with_key`]).
    /// RFC 9101 does not tie request-object signing to the token-endpoint method: with request
    /// objects configured, a client that authenticates with its secret (no method, or a
    /// `client_secret_*` one) signs its request objects with the private key given.
    pub fn set_credentials(&mut self, method: Option<&str>, secret: Option<Secret>, mut key: Option<Arc<SigningKey>>) -> Result<()> {
        if let Some(ro) = self.request_object.as_mut() {
            if ro.key.is_none() && secret.is_some() && !matches!(method, Some("private_key_jwt" | "auto")) {
                ro.key = key.take();
            }
        }
        self.auth = ClientAuth::from_parts_with_key(method, secret, key)?;
        Ok(())
    }

    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, auth: ClientAuth) -> OAuthConfig {
        OAuthConfig {
            base: Config::new(issuer),
            client_id: client_id.into(),
            auth,
            endpoints: Vec::new(),
            assertion_audience: AssertionAudience::TokenEndpoint,
            dpop_key: None,
            logout: LogoutConfig::default(),
            request_object: None,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) cfg: OAuthConfig,
    /// Validates ID tokens (audience = client id) with the access-token policy code, and owns
    /// the pooled HTTP agent every request of this client uses.
    pub(crate) validator: Client,
    /// DPoP proofs and the nonces servers handed out, per origin.
    pub(crate) dpop: Option<Dpop>,
    /// Client-credentials tokens, single-flight (see `client_credentials_cached`).
    pub(crate) cc_cache: TokenCache,
    /// The `jti`s of the logout tokens this client accepted (bounded; see `logout`).
    pub(crate) logout_replay: ReplayCache,
    /// The issuer's encryption keys (request-object encryption).
    pub(crate) enc_keys: super::jar::EncKeyCache,
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

/// The metadata names an endpoint override may use (every endpoint liboidc calls).
pub const ENDPOINT_NAMES: [&str; 11] = [
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "registration_endpoint",
    "pushed_authorization_request_endpoint",
    "device_authorization_endpoint",
    "backchannel_authentication_endpoint",
    "end_session_endpoint",
    "jwks_uri",
];

/// The ID-token audience of a client built without a client id (it validates no ID token).
const UNREGISTERED_AUDIENCE: &str = "urn:liboidc:unregistered-client";

impl OAuthClient {
    /// Check the configuration and build the client (no network).
    /// Check `cfg` (every problem surfaces here) and build the client; no network.
    pub fn new(mut cfg: OAuthConfig) -> Result<OAuthClient> {
        // Without a client id the client can only register (`request::OAuthRequest::new`
        // refuses every other operation); its ID-token audience is one no token carries.
        if cfg.base.audiences.is_empty() {
            let aud = if cfg.client_id.is_empty() { UNREGISTERED_AUDIENCE.to_string() } else { cfg.client_id.clone() };
            cfg.base.audiences.push(aud);
        }
        for (name, url) in &cfg.endpoints {
            if !ENDPOINT_NAMES.contains(&name.as_str()) {
                return err(
                    ErrorKind::InvalidConfig,
                    format!("unknown endpoint name '{}' (one of: {})", crate::core::json::printable(name), ENDPOINT_NAMES.join(", ")),
                );
            }
            Url::parse_checked(url, cfg.base.allow_http_loopback)
                .map_err(|e| Error::new(e.kind(), format!("endpoint {name}: {}", e.message())))?;
            if name == "jwks_uri" {
                cfg.base.key_source = KeySource::JwksUri(url.clone());
            }
        }
        match &cfg.auth {
            ClientAuth::SecretBasic(s) | ClientAuth::SecretPost(s) | ClientAuth::SecretJwt(s) if s.is_empty() => {
                return err(ErrorKind::InvalidConfig, "client secret is empty");
            }
            ClientAuth::Auto { secret: Some(s), .. } if s.is_empty() => {
                return err(ErrorKind::InvalidConfig, "client secret is empty");
            }
            ClientAuth::TlsClientAuth | ClientAuth::SelfSignedTlsClientAuth if cfg.base.client_cert.is_none() => {
                return err(
                    ErrorKind::InvalidConfig,
                    format!("{} needs a client certificate and key (oidc_oauth_builder_set_client_cert)", cfg.auth.method_name()),
                );
            }
            _ => {}
        }
        if let Some(ro) = &cfg.request_object {
            ro.check(&cfg.auth)?;
        }
        if cfg.logout.replay_capacity == 0 {
            return err(ErrorKind::InvalidConfig, "the logout-token replay cache capacity must be at least 1");
        }
        // OIDC Core §10.2: a client with a secret decrypts what the issuer encrypts with the
        // symmetric keys derived from it (A128KW, A192KW, A256KW, dir), next to its own keys.
        let mut base = cfg.base.clone();
        if let Some(secret) = super::jar::secret_of(&cfg.auth) {
            use crate::core::jose::jwe::{DecryptionKey, KeyAlg};
            for alg in [KeyAlg::A128Kw, KeyAlg::A192Kw, KeyAlg::A256Kw, KeyAlg::Dir] {
                base.decryption_keys.push(DecryptionKey::from_client_secret(secret, alg)?)?;
            }
        }
        let validator = Client::new(base)?;
        let dpop = cfg.dpop_key.clone().map(Dpop::new).transpose()?;
        let logout_replay = ReplayCache::new(ReplayKind::Logout, cfg.logout.replay_capacity);
        Ok(OAuthClient {
            inner: Arc::new(Inner { cfg, validator, dpop, cc_cache: TokenCache::default(), logout_replay, enc_keys: Default::default() }),
        })
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.inner.cfg
    }

    pub fn client_id(&self) -> &str {
        &self.inner.cfg.client_id
    }

    /// Decrypt a compact JWE with the client's decryption keys (OIDC_OP_DECRYPT): what it
    /// holds is not validated.
    pub fn decrypt(&self, jwe: &str) -> Result<crate::core::jose::jwe::Decrypted> {
        self.inner.validator.decrypt(jwe)
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
        // RFC 8705 §5: a client that presents a certificate uses the issuer's mTLS aliases.
        if self.inner.cfg.base.client_cert.is_some() {
            if let Some(u) = m.raw.get("mtls_endpoint_aliases").and_then(|a| a.get(name)).and_then(serde_json::Value::as_str) {
                Url::parse_checked(u, self.inner.cfg.base.allow_http_loopback).map_err(|e| {
                    Error::new(ErrorKind::DiscoveryInvalid, format!("discovery member mtls_endpoint_aliases.{name}: {}", e.message()))
                })?;
                return Ok(u.to_string());
            }
        }
        match m.get_str(name) {
            Some(u) => Ok(u.to_string()),
            None => err(ErrorKind::InvalidConfig, format!("the issuer advertises no {name}")),
        }
    }

    /// The concrete authentication for the next request ("auto" resolved from metadata).
    pub fn effective_auth(&self) -> Result<ClientAuth> {
        let ClientAuth::Auto { secret, key } = &self.inner.cfg.auth else {
            return Ok(self.inner.cfg.auth.clone());
        };
        let m = self.metadata()?;
        let supported: Vec<String> = match m.raw.get("token_endpoint_auth_methods_supported") {
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            _ => vec!["client_secret_basic".to_string()],
        };
        let has = |n: &str| supported.iter().any(|s| s == n);
        if let Some(k) = key {
            if has("private_key_jwt") {
                return Ok(ClientAuth::PrivateKeyJwt(k.clone()));
            }
        }
        if let Some(s) = secret {
            for (name, make) in [
                ("client_secret_basic", ClientAuth::SecretBasic as fn(Secret) -> ClientAuth),
                ("client_secret_post", ClientAuth::SecretPost),
                ("client_secret_jwt", ClientAuth::SecretJwt),
            ] {
                if has(name) {
                    return Ok(make(s.clone()));
                }
            }
        }
        if secret.is_none() && key.is_none() && self.inner.cfg.base.client_cert.is_some() {
            if has("tls_client_auth") {
                return Ok(ClientAuth::TlsClientAuth);
            }
            if has("self_signed_tls_client_auth") {
                return Ok(ClientAuth::SelfSignedTlsClientAuth);
            }
        }
        if secret.is_none() && key.is_none() && has("none") {
            return Ok(ClientAuth::None);
        }
        let shown: Vec<String> = supported.iter().take(8).map(|s| crate::core::json::printable(s)).collect();
        err(
            ErrorKind::InvalidConfig,
            format!(
                "auth method auto: the issuer supports none of the methods this client's credentials allow (it lists: {})",
                shown.join(", ")
            ),
        )
    }

    /// An RFC 7523 client assertion for a request to `endpoint_url`: iss = sub = client_id,
    /// aud per [`AssertionAudience`], a random `jti`, `iat` now, `exp` 60 s later.
    fn client_assertion(&self, auth: &ClientAuth, endpoint_url: &str) -> Result<String> {
        let aud = match self.inner.cfg.assertion_audience {
            AssertionAudience::TokenEndpoint => self.endpoint("token_endpoint")?,
            AssertionAudience::Issuer => self.inner.cfg.base.issuer.clone(),
            AssertionAudience::Endpoint => endpoint_url.to_string(),
        };
        let now = crate::core::client::unix_now() as u64;
        let id = &self.inner.cfg.client_id;
        let claims = serde_json::json!({
            "iss": id, "sub": id, "aud": aud, "jti": random_b64(16),
            "iat": now, "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let header = serde_json::Map::from_iter([("typ".to_string(), serde_json::Value::from("JWT"))]);
        match auth {
            ClientAuth::SecretJwt(s) => Ok(sign_hs256(s.expose().as_bytes(), &header, &claims)),
            ClientAuth::PrivateKeyJwt(k) => k.sign(&header, &claims),
            _ => err(ErrorKind::InvalidConfig, "no assertion for this auth method"),
        }
    }

    /// Add this client's authentication to a request for `req.url`.
    pub fn apply_client_auth(&self, req: &mut HttpRequest) -> Result<()> {
        let auth = self.effective_auth()?;
        let id = &self.inner.cfg.client_id;
        let assertion = match &auth {
            ClientAuth::SecretJwt(_) | ClientAuth::PrivateKeyJwt(_) => Some(self.client_assertion(&auth, &req.url)?),
            _ => None,
        };
        let form = req.form.get_or_insert_with(Vec::new);
        match &auth {
            ClientAuth::None | ClientAuth::TlsClientAuth | ClientAuth::SelfSignedTlsClientAuth => {
                form.push(("client_id".into(), id.clone()))
            }
            ClientAuth::SecretPost(s) => {
                form.push(("client_id".into(), id.clone()));
                form.push(("client_secret".into(), s.expose().to_string()));
            }
            ClientAuth::SecretBasic(s) => {
                use base64::Engine;
                // RFC 6749 §2.3.1: form-encode id and secret before joining them.
                let pair = format!("{}:{}", crate::core::http::form_encode(id), crate::core::http::form_encode(s.expose()));
                let b = base64::engine::general_purpose::STANDARD.encode(pair);
                req.headers.push(("Authorization", format!("Basic {b}")));
            }
            ClientAuth::SecretJwt(_) | ClientAuth::PrivateKeyJwt(_) => {
                form.push(("client_id".into(), id.clone()));
                form.push(("client_assertion_type".into(), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
                form.push(("client_assertion".into(), assertion.unwrap_or_default()));
            }
            ClientAuth::Auto { .. } => unreachable!("effective_auth resolves auto"),
        }
        Ok(())
    }

    /// POST an authenticated form to endpoint `name`; non-2xx becomes an error (OAuth error
    /// responses keep their code).
    pub fn post_authenticated(&self, name: &str, params: Vec<(String, String)>) -> Result<HttpResponse> {
        self.post_form(name, params, false)
    }

    /// POST an authenticated form to endpoint `name`, with a DPoP proof when `dpop` is set and
    /// the client has a DPoP key. A `use_dpop_nonce` answer with a `DPoP-Nonce` header is retried
    /// once with that nonce (a fresh proof and a fresh client assertion); nonces are remembered
    /// per origin.
    pub(crate) fn post_form(&self, name: &str, params: Vec<(String, String)>, dpop: bool) -> Result<HttpResponse> {
        let url = self.endpoint(name)?;
        let dpop = if dpop { self.inner.dpop.as_ref() } else { None };
        let mut retried = false;
        loop {
            let mut req = HttpRequest { method: "POST", url: url.clone(), form: Some(params.clone()), ..Default::default() };
            req.headers.push(("Accept", "application/json".into()));
            self.apply_client_auth(&mut req)?;
            if let Some(d) = dpop {
                req.headers.push(("DPoP", d.proof("POST", &url, None)?));
            }
            let resp = self.http().send(&req)?;
            if let Some(d) = dpop {
                d.remember_from(&url, &resp);
            }
            if (200..300).contains(&resp.status) {
                return Ok(resp);
            }
            let e = error_from_response(&resp, name);
            if e.kind() == ErrorKind::UseDpopNonce && dpop.is_some() && !retried && resp.header("dpop-nonce").is_some() {
                retried = true;
                continue;
            }
            return Err(e);
        }
    }

    /// A token-endpoint request with `params` (grant_type and the grant's parameters).
    pub fn token_request(&self, params: Vec<(String, String)>) -> Result<TokenResponse> {
        let resp = self.post_form("token_endpoint", params, true)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_audience_names() {
        for a in [AssertionAudience::TokenEndpoint, AssertionAudience::Issuer, AssertionAudience::Endpoint] {
            assert_eq!(AssertionAudience::from_name(a.name()).unwrap(), a);
        }
        assert_eq!(AssertionAudience::from_name("Issuer").unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(AssertionAudience::from_name("").unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
}
