//! Dynamic client registration (RFC 7591): POST the metadata as JSON to the issuer's
//! `registration_endpoint` (optionally with an initial access token), get the client back.

use serde_json::{Map, Value};

use super::client::{ClientAuth, OAuthClient, OAuthConfig};
use super::secret::Secret;
use super::token::{error_from_response, json_object};
use crate::core::error::{ErrorKind, Result, err};
use crate::core::http::HttpRequest;

/// A registered client. Contains secrets (`client_secret`, `registration_access_token`):
/// `Debug` redacts them; never log `json`.
#[derive(Clone)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub registration_access_token: Option<Secret>,
    pub registration_client_uri: Option<String>,
    /// The whole response (contains secrets).
    pub json: Secret,
    pub object: Map<String, Value>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("registration_access_token", &self.registration_access_token)
            .field("registration_client_uri", &self.registration_client_uri)
            .finish()
    }
}

/// Register a client at `cfg`'s issuer (its HTTP settings and endpoint overrides are used; its
/// client id and authentication are not). `metadata` is a JSON object (RFC 7591 §2).
pub fn register_client(cfg: &OAuthConfig, metadata: &str, initial_access_token: Option<&str>) -> Result<Registration> {
    let m = match serde_json::from_str::<Value>(metadata) {
        Ok(Value::Object(m)) => m,
        _ => return err(ErrorKind::InvalidArgument, "client metadata must be a JSON object"),
    };
    let mut cfg = cfg.clone();
    if cfg.client_id.is_empty() {
        cfg.client_id = "(unregistered)".into();
    }
    cfg.auth = ClientAuth::None;
    let client = OAuthClient::new(cfg)?;
    let url = client.endpoint("registration_endpoint")?;
    let body = Value::Object(m).to_string().into_bytes();
    let mut req = HttpRequest { method: "POST", url, body: Some(("application/json", body)), ..Default::default() };
    req.headers.push(("Accept", "application/json".into()));
    if let Some(t) = initial_access_token {
        req.headers.push(("Authorization", format!("Bearer {t}")));
    }
    let resp = client.http().send(&req)?;
    if !(200..300).contains(&resp.status) {
        return Err(error_from_response(&resp, "registration_endpoint"));
    }
    if !resp.is_json() {
        return err(ErrorKind::ResponseInvalid, "registration response is not JSON");
    }
    parse_registration(&resp.body)
}

/// A registration response (RFC 7591 §3.2.1, RFC 7592 §3): a JSON object with a `client_id`.
fn parse_registration(body: &[u8]) -> Result<Registration> {
    let object = json_object(body, "registration response")?;
    let s = |k: &str| object.get(k).and_then(Value::as_str).map(str::to_string);
    let client_id = match s("client_id") {
        Some(id) if !id.is_empty() => id,
        _ => return err(ErrorKind::ResponseMissingField, "registration response lacks client_id"),
    };
    Ok(Registration {
        client_id,
        client_secret: s("client_secret").map(Secret::new),
        registration_access_token: s("registration_access_token").map(Secret::new),
        registration_client_uri: s("registration_client_uri"),
        json: Secret::new(String::from_utf8_lossy(body).into_owned()),
        object,
    })
}

/// RFC 7592 client configuration management at `uri` (the `registration_client_uri`) with the
/// `registration_access_token`: `GET` reads the registration, `PUT` replaces its metadata with
/// `metadata` (a JSON object; `client_id` is added when missing, as §2.2 requires), `DELETE`
/// deletes it (then `None`). The URI must be on the issuer's origin, so the access token never
/// goes elsewhere.
pub fn manage(
    client: &OAuthClient,
    method: &'static str,
    uri: &str,
    access_token: &str,
    metadata: Option<String>,
) -> Result<Option<Registration>> {
    let issuer = &client.config().base.issuer;
    crate::core::url::Url::parse_checked(uri, client.config().base.allow_http_loopback)?;
    if super::dpop::origin(uri) != super::dpop::origin(issuer) {
        return err(ErrorKind::InvalidArgument, "the registration_client_uri is not on the issuer's origin");
    }
    let body = match metadata {
        Some(m) => {
            let Ok(Value::Object(mut o)) = serde_json::from_str::<Value>(&m) else {
                return err(ErrorKind::InvalidArgument, "client metadata must be a JSON object");
            };
            o.entry("client_id").or_insert_with(|| Value::from(client.client_id()));
            Some(("application/json", Value::Object(o).to_string().into_bytes()))
        }
        None => None,
    };
    let mut req = HttpRequest { method, url: uri.to_string(), body, ..Default::default() };
    req.headers.push(("Accept", "application/json".into()));
    req.headers.push(("Authorization", format!("Bearer {access_token}")));
    let resp = client.http().send(&req)?;
    if !(200..300).contains(&resp.status) {
        return Err(error_from_response(&resp, "registration_client_uri"));
    }
    if method == "DELETE" {
        return Ok(None);
    }
    if !resp.is_json() {
        return err(ErrorKind::ResponseInvalid, "registration response is not JSON");
    }
    parse_registration(&resp.body).map(Some)
}
