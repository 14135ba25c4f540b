//! The UserInfo endpoint (OIDC Core §5.3): JSON or signed JWT responses (validated with the
//! issuer's keys, `iss`, `aud` = client id), `sub` checked against the ID token's, RFC 6750
//! errors from `WWW-Authenticate` (InvalidToken, InsufficientScope).

use serde_json::{Map, Value};

use super::client::OAuthClient;
use super::token::{error_from_response, json_object};
use crate::core::client::unix_now;
use crate::core::error::{ErrorKind, Result, err};

/// A UserInfo answer.
#[derive(Debug, Clone)]
pub struct UserInfo {
    /// The claims as JSON (the JWT's claims for a signed response).
    pub json: String,
    pub object: Map<String, Value>,
    /// Whether the response was a signed JWT.
    pub signed: bool,
}

impl UserInfo {
    pub fn sub(&self) -> &str {
        self.object.get("sub").and_then(Value::as_str).unwrap_or("")
    }
}

impl OAuthClient {
    /// Call the UserInfo endpoint with `access_token` (Bearer). With `expected_sub` (the ID
    /// token's `sub`), a different subject fails with SubjectMismatch.
    pub fn userinfo(&self, access_token: &str, expected_sub: Option<&str>) -> Result<UserInfo> {
        self.userinfo_with(access_token, "Bearer", expected_sub, &[])
    }

    /// [`userinfo`](Self::userinfo) with the token's type: a DPoP-bound token (`token_type`
    /// "DPoP", the client has a DPoP key) goes with the DPoP scheme and a proof (RFC 9449 §7.1),
    /// retried once on a `use_dpop_nonce` challenge; `extra` parameters join the query.
    pub fn userinfo_with(
        &self,
        access_token: &str,
        token_type: &str,
        expected_sub: Option<&str>,
        extra: &[(String, String)],
    ) -> Result<UserInfo> {
        if access_token.is_empty() {
            return err(ErrorKind::InvalidArgument, "the access token is empty");
        }
        let url = super::authorize::with_query(&self.endpoint("userinfo_endpoint")?, extra);
        let resp = self.protected_request("GET", &url, access_token, token_type, None, Some("application/json, application/jwt"))?;
        if !(200..300).contains(&resp.status) {
            return Err(error_from_response(&resp, "userinfo_endpoint"));
        }
        let (object, signed) = if resp.mime() == "application/jwt" {
            let jwt = std::str::from_utf8(&resp.body)
                .map_err(|_| crate::core::Error::new(ErrorKind::ResponseInvalid, "userinfo JWT is not UTF-8"))?
                .trim();
            // OIDC Core §5.3.2: a signed response carries iss and aud; exp is optional.
            let v = self.validator().validate_adjusted(jwt, unix_now(), |p| {
                p.expected_typ = None;
                p.require_exp = false;
                p.required_claims.clear();
                p.audiences = vec![self.client_id().to_string()];
                p.any_audience = false;
            })?;
            match serde_json::from_str::<Value>(&v.claims) {
                Ok(Value::Object(m)) => (m, true),
                _ => return err(ErrorKind::TokenMalformed, "userinfo JWT claims are not a JSON object"),
            }
        } else if resp.is_json() {
            (json_object(&resp.body, "userinfo response")?, false)
        } else {
            return err(ErrorKind::ResponseInvalid, "userinfo response is neither JSON nor a JWT");
        };
        let sub = match object.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return err(ErrorKind::ResponseMissingField, "userinfo response lacks sub"),
        };
        if let Some(want) = expected_sub {
            if sub != want {
                return err(ErrorKind::SubjectMismatch, "userinfo sub differs from the ID token's sub");
            }
        }
        let json = Value::Object(object.clone()).to_string();
        Ok(UserInfo { json, object, signed })
    }
}
