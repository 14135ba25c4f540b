//! Token introspection (RFC 7662), with RFC 9701 signed responses
//! (`Accept: application/token-introspection+jwt`, validated with the issuer's keys by the same
//! policy code as every token: `typ` `token-introspection+jwt`, `iss`, `aud` = client id).

use serde_json::{Map, Value};

use super::client::OAuthClient;
use super::token::{error_from_response, json_object};
use crate::core::client::unix_now;
use crate::core::error::{ErrorKind, Result, err};
use crate::core::http::HttpRequest;

/// RFC 9701 media type.
pub const INTROSPECTION_JWT: &str = "application/token-introspection+jwt";

/// An introspection answer.
#[derive(Debug, Clone)]
pub struct Introspection {
    pub active: bool,
    /// The response object as JSON (for a JWT response: its `token_introspection` member).
    pub json: String,
    pub object: Map<String, Value>,
    /// Whether the answer came as a signed JWT (RFC 9701).
    pub signed: bool,
}

impl Introspection {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.object.get(name)
    }
}

fn parse_object(object: Map<String, Value>, signed: bool) -> Result<Introspection> {
    let active = match object.get("active") {
        Some(Value::Bool(b)) => *b,
        _ => return err(ErrorKind::ResponseMissingField, "introspection response lacks a boolean active"),
    };
    let json = Value::Object(object.clone()).to_string();
    Ok(Introspection { active, json, object, signed })
}

impl OAuthClient {
    /// Introspect `token` (with an optional `token_type_hint`). With `signed`, ask for an RFC
    /// 9701 JWT response and accept nothing else.
    pub fn introspect(&self, token: &str, token_type_hint: Option<&str>, signed: bool) -> Result<Introspection> {
        self.introspect_with(token, token_type_hint, signed, &[])
    }

    /// [`introspect`](Self::introspect) with further form parameters (`extra`).
    pub fn introspect_with(
        &self,
        token: &str,
        token_type_hint: Option<&str>,
        signed: bool,
        extra: &[(String, String)],
    ) -> Result<Introspection> {
        if token.is_empty() {
            return err(ErrorKind::InvalidArgument, "the token to introspect is empty");
        }
        let url = self.endpoint("introspection_endpoint")?;
        let mut form = vec![("token".to_string(), token.to_string())];
        if let Some(h) = token_type_hint {
            form.push(("token_type_hint".into(), h.into()));
        }
        form.extend(extra.iter().cloned());
        let mut req = HttpRequest { method: "POST", url, form: Some(form), ..Default::default() };
        req.headers.push(("Accept", if signed { INTROSPECTION_JWT.into() } else { "application/json".into() }));
        self.apply_client_auth(&mut req)?;
        let resp = self.http().send(&req)?;
        if !(200..300).contains(&resp.status) {
            return Err(error_from_response(&resp, "introspection_endpoint"));
        }
        if !signed {
            if !resp.is_json() {
                return err(ErrorKind::ResponseInvalid, "introspection response is not JSON");
            }
            return parse_object(json_object(&resp.body, "introspection response")?, false);
        }
        if resp.mime() != INTROSPECTION_JWT {
            // A plain JSON answer to a request for a signed one would be a silent downgrade.
            return err(ErrorKind::ResponseInvalid, "introspection response is not an application/token-introspection+jwt");
        }
        let jwt = std::str::from_utf8(&resp.body)
            .map_err(|_| crate::core::Error::new(ErrorKind::ResponseInvalid, "introspection JWT is not UTF-8"))?
            .trim();
        let v = self.validator().validate_adjusted(jwt, unix_now(), |p| {
            p.expected_typ = Some("token-introspection+jwt".into());
            p.require_exp = false;
            p.required_claims.clear();
            p.audiences = vec![self.client_id().to_string()];
            p.any_audience = false;
        })?;
        let claims = match serde_json::from_str::<Value>(&v.claims) {
            Ok(Value::Object(m)) => m,
            _ => return err(ErrorKind::TokenMalformed, "introspection JWT claims are not a JSON object"),
        };
        match claims.get("iat") {
            Some(Value::Number(_)) => {}
            _ => return err(ErrorKind::MissingClaim, "introspection JWT has no iat claim"),
        }
        match claims.get("token_introspection") {
            Some(Value::Object(o)) => parse_object(o.clone(), true),
            _ => err(ErrorKind::ResponseMissingField, "introspection JWT lacks the token_introspection object"),
        }
    }

    /// Revoke `token` (RFC 7009). Success means the server no longer honours it (or never did).
    pub fn revoke(&self, token: &str, token_type_hint: Option<&str>) -> Result<()> {
        self.revoke_with(token, token_type_hint, &[])
    }

    /// [`revoke`](Self::revoke) with further form parameters (`extra`).
    pub fn revoke_with(&self, token: &str, token_type_hint: Option<&str>, extra: &[(String, String)]) -> Result<()> {
        if token.is_empty() {
            return err(ErrorKind::InvalidArgument, "the token to revoke is empty");
        }
        let mut form = vec![("token".to_string(), token.to_string())];
        if let Some(h) = token_type_hint {
            form.push(("token_type_hint".into(), h.into()));
        }
        form.extend(extra.iter().cloned());
        self.post_authenticated("revocation_endpoint", form)?;
        Ok(())
    }
}
