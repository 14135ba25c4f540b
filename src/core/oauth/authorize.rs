//! The front-channel URLs: the authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1,
//! PKCE, RFC 9126 PAR, RFC 9101 JAR) and RP-initiated logout; and pushing a request (PAR).

use serde_json::Value;

use super::client::{ClientAuth, OAuthClient};
use super::pkce;
use super::token::json_object;
use crate::core::error::{ErrorKind, Result, err};
use crate::core::http::url_encode;
use crate::core::json::printable;

/// An authorization request. Everything is optional; `state` and `nonce` are generated when
/// absent (32 random bytes each).
#[derive(Debug, Clone, Default)]
pub struct AuthorizationRequest {
    /// Default `code`.
    pub response_type: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The PKCE S256 challenge (see [`pkce::generate`]).
    pub code_challenge: Option<String>,
    /// e.g. `jwt` / `query.jwt` (JARM), `form_post`.
    pub response_mode: Option<String>,
    /// `max_age` in seconds (then validate the ID token with the same value).
    pub max_age: Option<u64>,
    /// Other parameters (`prompt`, `login_hint`, `resource`, `acr_values`, ...). A name may
    /// repeat (`resource`); reserved names set by the fields above are refused.
    pub extra: Vec<(String, String)>,
    /// RFC 9101: an already signed request object (built by the caller). The URL then carries
    /// `client_id`, `request` and, for OpenID Connect, `response_type` and `scope`.
    pub request: Option<String>,
    /// RFC 9126: the `request_uri` from a pushed request. The URL then carries only
    /// `client_id` and `request_uri`.
    pub request_uri: Option<String>,
}

/// The parameter names the fields of [`AuthorizationRequest`] own.
const RESERVED: [&str; 12] = [
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "max_age",
    "request",
    "request_uri",
];

/// A ready authorization request: send the user agent to `url`; keep `state` and `nonce` to
/// check the response and the ID token.
#[derive(Debug, Clone)]
pub struct PreparedAuthorization {
    pub url: String,
    /// `None` only for the `request_uri` form when no state was given (it was pushed).
    pub state: Option<String>,
    pub nonce: Option<String>,
}

/// The answer of the PAR endpoint.
#[derive(Debug, Clone)]
pub struct PushedRequest {
    pub request_uri: String,
    pub expires_in: u64,
    /// The state and nonce that were pushed (generated when not given).
    pub state: Option<String>,
    pub nonce: Option<String>,
}

/// What an RP-initiated logout carries (OpenID Connect RP-Initiated Logout 1.0). `Debug` does
/// not show the ID token.
#[derive(Clone, Default)]
pub struct EndSessionRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub logout_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// Whether to send `client_id` (default true in the C ABI).
    pub include_client_id: bool,
    /// Further parameters.
    pub extra: Vec<(String, String)>,
}

impl std::fmt::Debug for EndSessionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndSessionRequest")
            .field("has_id_token_hint", &self.id_token_hint.is_some())
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .field("state", &self.state)
            .field("include_client_id", &self.include_client_id)
            .finish()
    }
}

fn check_value(name: &str, v: &str) -> Result<()> {
    if v.is_empty() {
        return err(ErrorKind::InvalidArgument, format!("the {name} parameter is empty"));
    }
    if v.len() > 64 * 1024 {
        return err(ErrorKind::InvalidArgument, format!("the {name} parameter is longer than 64 KiB"));
    }
    Ok(())
}

/// Append `params` to `base` as a query string (after any query `base` already has).
pub fn with_query(base: &str, params: &[(String, String)]) -> String {
    let mut url = base.to_string();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    if base.ends_with('?') || base.ends_with('&') {
        sep = '\0';
    }
    for (k, v) in params {
        if sep != '\0' {
            url.push(sep);
        }
        sep = '&';
        url.push_str(&url_encode(k));
        url.push('=');
        url.push_str(&url_encode(v));
    }
    url
}

/// Request parameters, state, nonce.
type Params = (Vec<(String, String)>, String, String);

impl AuthorizationRequest {
    /// The parameters of this request (without `client_id` when `with_client_id` is false),
    /// the state and the nonce. Used for the URL and for PAR.
    fn params(&self, client_id: &str, with_client_id: bool) -> Result<Params> {
        let mut p: Vec<(String, String)> = Vec::new();
        if with_client_id {
            p.push(("client_id".into(), client_id.into()));
        }
        let response_type = self.response_type.clone().unwrap_or_else(|| "code".into());
        check_value("response_type", &response_type)?;
        p.push(("response_type".into(), response_type));
        for (name, v) in [("redirect_uri", &self.redirect_uri), ("scope", &self.scope)] {
            if let Some(v) = v {
                check_value(name, v)?;
                p.push((name.into(), v.clone()));
            }
        }
        let state = match &self.state {
            Some(s) => s.clone(),
            None => pkce::random_value(32)?,
        };
        check_value("state", &state)?;
        p.push(("state".into(), state.clone()));
        let nonce = match &self.nonce {
            Some(s) => s.clone(),
            None => pkce::random_value(32)?,
        };
        check_value("nonce", &nonce)?;
        p.push(("nonce".into(), nonce.clone()));
        if let Some(c) = &self.code_challenge {
            pkce::check_challenge(c)?;
            p.push(("code_challenge".into(), c.clone()));
            p.push(("code_challenge_method".into(), pkce::METHOD.into()));
        }
        if let Some(m) = &self.response_mode {
            check_value("response_mode", m)?;
            p.push(("response_mode".into(), m.clone()));
        }
        if let Some(m) = self.max_age {
            p.push(("max_age".into(), m.to_string()));
        }
        for (k, v) in &self.extra {
            if k.is_empty() {
                return err(ErrorKind::InvalidArgument, "an extra parameter has an empty name");
            }
            if RESERVED.contains(&k.as_str()) {
                return err(ErrorKind::InvalidArgument, format!("the extra parameter '{}' is set by its own option", printable(k)));
            }
            check_value(k, v)?;
            p.push((k.clone(), v.clone()));
        }
        Ok((p, state, nonce))
    }
}

impl OAuthClient {
    /// Build the authorization URL (no network except discovery of `authorization_endpoint`).
    pub fn authorization_url(&self, req: &AuthorizationRequest) -> Result<PreparedAuthorization> {
        let endpoint = self.endpoint("authorization_endpoint")?;
        let id = self.client_id().to_string();
        if let Some(uri) = &req.request_uri {
            check_value("request_uri", uri)?;
            if req.request.is_some() {
                return err(ErrorKind::InvalidArgument, "request and request_uri are mutually exclusive");
            }
            let p = vec![("client_id".to_string(), id), ("request_uri".to_string(), uri.clone())];
            return Ok(PreparedAuthorization { url: with_query(&endpoint, &p), state: req.state.clone(), nonce: req.nonce.clone() });
        }
        if let Some(jar) = &req.request {
            check_value("request", jar)?;
            if jar.split('.').count() < 3 {
                return err(ErrorKind::InvalidArgument, "the request object is not a compact JWS or JWE");
            }
            // The request object carries the parameters; OpenID Connect also wants
            // response_type and scope outside it, and the caller's state/nonce are in it.
            let mut p = vec![("client_id".to_string(), id)];
            p.push(("response_type".into(), req.response_type.clone().unwrap_or_else(|| "code".into())));
            if let Some(s) = &req.scope {
                p.push(("scope".into(), s.clone()));
            }
            p.push(("request".into(), jar.clone()));
            return Ok(PreparedAuthorization { url: with_query(&endpoint, &p), state: req.state.clone(), nonce: req.nonce.clone() });
        }
        let (p, state, nonce) = req.params(&id, true)?;
        if self.uses_request_objects() {
            // RFC 9101 §5: the parameters travel in the signed object; OpenID Connect also
            // wants response_type and scope outside it (they are in it too).
            let jar = self.request_object(&p)?;
            let mut q = vec![("client_id".to_string(), id)];
            q.extend(p.iter().filter(|(k, _)| k == "response_type" || k == "scope").cloned());
            q.push(("request".into(), jar));
            return Ok(PreparedAuthorization { url: with_query(&endpoint, &q), state: Some(state), nonce: Some(nonce) });
        }
        Ok(PreparedAuthorization { url: with_query(&endpoint, &p), state: Some(state), nonce: Some(nonce) })
    }

    /// RFC 9126: push the request to the PAR endpoint (with client authentication) and get a
    /// `request_uri` for [`AuthorizationRequest::request_uri`].
    pub fn push_authorization_request(&self, req: &AuthorizationRequest) -> Result<PushedRequest> {
        if req.request_uri.is_some() {
            return err(ErrorKind::InvalidArgument, "a pushed request cannot itself carry a request_uri");
        }
        let id = self.client_id().to_string();
        // PAR servers want client_id in the body; the body-based methods add it themselves.
        let with_id = matches!(self.config().auth, ClientAuth::SecretBasic(_));
        let (params, state, nonce) = match &req.request {
            Some(jar) => {
                check_value("request", jar)?;
                let mut p = Vec::new();
                if with_id {
                    p.push(("client_id".to_string(), id));
                }
                p.push(("request".to_string(), jar.clone()));
                (p, req.state.clone(), req.nonce.clone())
            }
            None if self.uses_request_objects() => {
                let (p, s, n) = req.params(&id, true)?;
                let jar = self.request_object(&p)?;
                let mut q = Vec::new();
                if with_id {
                    q.push(("client_id".to_string(), id));
                }
                q.push(("request".to_string(), jar));
                (q, Some(s), Some(n))
            }
            None => {
                let (p, s, n) = req.params(&id, with_id)?;
                (p, Some(s), Some(n))
            }
        };
        let resp = self.post_authenticated("pushed_authorization_request_endpoint", params)?;
        if !resp.is_json() {
            return err(ErrorKind::ResponseInvalid, "PAR response is not JSON");
        }
        let o = json_object(&resp.body, "PAR response")?;
        let request_uri = match o.get("request_uri") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return err(ErrorKind::ResponseMissingField, "PAR response lacks request_uri"),
        };
        let expires_in = match o.get("expires_in").and_then(Value::as_u64) {
            Some(n) if n > 0 => super::server_lifetime(n),
            _ => return err(ErrorKind::ResponseMissingField, "PAR response lacks a positive integer expires_in"),
        };
        Ok(PushedRequest { request_uri, expires_in, state, nonce })
    }

    /// The RP-initiated logout URL at the issuer's `end_session_endpoint`.
    pub fn end_session_url(&self, req: &EndSessionRequest) -> Result<String> {
        let endpoint = self.endpoint("end_session_endpoint")?;
        let mut p: Vec<(String, String)> = Vec::new();
        for (name, v) in [
            ("id_token_hint", &req.id_token_hint),
            ("post_logout_redirect_uri", &req.post_logout_redirect_uri),
            ("state", &req.state),
            ("logout_hint", &req.logout_hint),
            ("ui_locales", &req.ui_locales),
        ] {
            if let Some(v) = v {
                check_value(name, v)?;
                p.push((name.into(), v.clone()));
            }
        }
        if req.include_client_id {
            p.push(("client_id".into(), self.client_id().into()));
        }
        for (k, v) in &req.extra {
            check_value(k, v)?;
            p.push((k.clone(), v.clone()));
        }
        if req.post_logout_redirect_uri.is_some() && req.id_token_hint.is_none() && !req.include_client_id {
            return err(ErrorKind::InvalidArgument, "post_logout_redirect_uri needs id_token_hint or client_id to identify the client");
        }
        Ok(with_query(&endpoint, &p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_joining() {
        let p = vec![("a".to_string(), "x y".to_string()), ("b".to_string(), "é&".to_string())];
        assert_eq!(with_query("https://h/auth", &p), "https://h/auth?a=x%20y&b=%C3%A9%26");
        assert_eq!(with_query("https://h/auth?t=1", &p[..1]), "https://h/auth?t=1&a=x%20y");
        assert_eq!(with_query("https://h/auth?", &p[..1]), "https://h/auth?a=x%20y");
    }

    #[test]
    fn params_and_reserved_names() {
        let r = AuthorizationRequest {
            scope: Some("openid".into()),
            extra: vec![("resource".into(), "urn:a".into()), ("resource".into(), "urn:b".into())],
            ..Default::default()
        };
        let (p, s, n) = r.params("c", true).unwrap();
        assert_eq!(s.len(), 43);
        assert_ne!(s, n);
        assert_eq!(p.iter().filter(|(k, _)| k == "resource").count(), 2);
        let bad = AuthorizationRequest { extra: vec![("state".into(), "x".into())], ..Default::default() };
        assert_eq!(bad.params("c", true).unwrap_err().kind(), ErrorKind::InvalidArgument);
        let bad = AuthorizationRequest { code_challenge: Some("plain-verifier".into()), ..Default::default() };
        assert_eq!(bad.params("c", true).unwrap_err().kind(), ErrorKind::InvalidArgument);
        let bad = AuthorizationRequest { state: Some(String::new()), ..Default::default() };
        assert_eq!(bad.params("c", true).unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
}

impl AuthorizationRequest {
    /// Read a request from a JSON object (the C ABI and the bindings use this form):
    /// `response_type`, `redirect_uri`, `scope`, `state`, `nonce`, `code_challenge`,
    /// `response_mode`, `request`, `request_uri` (strings), `max_age` (non-negative integer) and
    /// `params` (an object of strings or arrays of strings). Unknown members are refused.
    pub fn from_json(s: &str) -> Result<AuthorizationRequest> {
        let m = match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => m,
            _ => return err(ErrorKind::InvalidArgument, "the authorization request must be a JSON object"),
        };
        let mut r = AuthorizationRequest::default();
        for (k, v) in m {
            let text = |v: Value| match v {
                Value::String(s) => Ok(s),
                _ => err(ErrorKind::InvalidArgument, format!("authorization request member '{}' must be a string", printable(&k))),
            };
            match k.as_str() {
                "response_type" => r.response_type = Some(text(v)?),
                "redirect_uri" => r.redirect_uri = Some(text(v)?),
                "scope" => r.scope = Some(text(v)?),
                "state" => r.state = Some(text(v)?),
                "nonce" => r.nonce = Some(text(v)?),
                "code_challenge" => r.code_challenge = Some(text(v)?),
                "response_mode" => r.response_mode = Some(text(v)?),
                "request" => r.request = Some(text(v)?),
                "request_uri" => r.request_uri = Some(text(v)?),
                "max_age" => match v.as_u64() {
                    Some(n) => r.max_age = Some(n),
                    None => return err(ErrorKind::InvalidArgument, "max_age must be a non-negative integer"),
                },
                "params" => {
                    let Value::Object(p) = v else {
                        return err(ErrorKind::InvalidArgument, "params must be a JSON object");
                    };
                    for (name, val) in p {
                        match val {
                            Value::String(s) => r.extra.push((name, s)),
                            Value::Array(items) => {
                                for it in items {
                                    match it {
                                        Value::String(s) => r.extra.push((name.clone(), s)),
                                        _ => {
                                            return err(
                                                ErrorKind::InvalidArgument,
                                                format!("params member '{}' must hold strings", printable(&name)),
                                            );
                                        }
                                    }
                                }
                            }
                            _ => {
                                return err(
                                    ErrorKind::InvalidArgument,
                                    format!("params member '{}' must be a string or an array of strings", printable(&name)),
                                );
                            }
                        }
                    }
                }
                _ => {
                    return err(ErrorKind::InvalidArgument, format!("unknown authorization request member '{}'", printable(&k)));
                }
            }
        }
        Ok(r)
    }
}

impl PreparedAuthorization {
    /// `{"url":…, "state":…, "nonce":…}` (state/nonce null when not known).
    pub fn to_json(&self) -> String {
        serde_json::json!({"url": self.url, "state": self.state, "nonce": self.nonce}).to_string()
    }
}

impl PushedRequest {
    /// `{"request_uri":…, "expires_in":…, "state":…, "nonce":…}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({"request_uri": self.request_uri, "expires_in": self.expires_in, "state": self.state, "nonce": self.nonce})
            .to_string()
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn request_from_json() {
        let r = AuthorizationRequest::from_json(
            r#"{"redirect_uri":"https://rp/cb","scope":"openid","max_age":30,"params":{"prompt":"login","resource":["urn:a","urn:b"]}}"#,
        )
        .unwrap();
        assert_eq!(r.redirect_uri.as_deref(), Some("https://rp/cb"));
        assert_eq!(r.max_age, Some(30));
        assert_eq!(r.extra.len(), 3);
        for bad in [r#"[1]"#, r#"{"scope":1}"#, r#"{"max_age":-1}"#, r#"{"params":{"a":1}}"#, r#"{"params":[]}"#, r#"{"sope":"x"}"#, "{"] {
            assert_eq!(AuthorizationRequest::from_json(bad).unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad}");
        }
    }
}
