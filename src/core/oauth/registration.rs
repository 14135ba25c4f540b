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
    let object = json_object(&resp.body, "registration response")?;
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
        json: Secret::new(String::from_utf8_lossy(&resp.body).into_owned()),
        object,
    })
}
