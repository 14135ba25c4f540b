//! Token-endpoint responses and OAuth error responses.

use serde_json::{Map, Value};

use super::secret::Secret;
use crate::core::error::{Error, ErrorKind, OAuthError, Result, err};
use crate::core::http::HttpResponse;
use crate::core::json::printable;

/// A successful token response (RFC 6749 §5.1 and extensions).
#[derive(Clone)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub token_type: String,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<Secret>,
    pub id_token: Option<Secret>,
    pub scope: Option<String>,
    /// RFC 8693.
    pub issued_token_type: Option<String>,
    /// The whole response as received (contains secrets: never log it).
    pub raw: Secret,
    /// The response's JSON object.
    pub(crate) object: Map<String, Value>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are secrets: only non-secret members are shown.
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("issued_token_type", &self.issued_token_type)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("has_id_token", &self.id_token.is_some())
            .finish()
    }
}

impl TokenResponse {
    /// Any member of the response.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.object.get(name)
    }

    /// Parse a 200 token response. `access_token` and `token_type` are required.
    pub fn parse(body: &[u8]) -> Result<TokenResponse> {
        let object = json_object(body, "token response")?;
        let s = |k: &str| object.get(k).and_then(Value::as_str).map(str::to_string);
        let access_token = match object.get("access_token") {
            Some(Value::String(t)) if !t.is_empty() => Secret::new(t.clone()),
            _ => return err(ErrorKind::ResponseMissingField, "token response lacks access_token"),
        };
        let token_type = match object.get("token_type") {
            Some(Value::String(t)) => t.clone(),
            _ => return err(ErrorKind::ResponseMissingField, "token response lacks token_type"),
        };
        // Clamped (`server_lifetime`): a huge value must not overflow the token cache's clock.
        let expires_in = match object.get("expires_in") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
            // Some servers send a numeric string; accept it, reject anything else.
            Some(Value::String(s)) => {
                Some(s.parse().map_err(|_| Error::new(ErrorKind::ResponseMissingField, "token response expires_in is not a number"))?)
            }
            Some(_) => return err(ErrorKind::ResponseMissingField, "token response expires_in is not a number"),
        }
        .map(super::server_lifetime);
        Ok(TokenResponse {
            access_token,
            token_type,
            expires_in,
            refresh_token: s("refresh_token").map(Secret::new),
            id_token: s("id_token").map(Secret::new),
            scope: s("scope"),
            issued_token_type: s("issued_token_type"),
            raw: Secret::new(String::from_utf8_lossy(body).into_owned()),
            object,
        })
    }
}

/// Parse a JSON object body, with a precise error.
pub fn json_object(body: &[u8], what: &str) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => err(ErrorKind::ResponseInvalid, format!("{what} is not a JSON object")),
        Err(_) => err(ErrorKind::ResponseInvalid, format!("{what} is not valid JSON")),
    }
}

/// Turn a non-2xx response into an error: an OAuth error body (RFC 6749 §5.2) gives its own
/// kind; anything else is `HttpStatus`. `what` names the endpoint for the message.
pub fn error_from_response(resp: &HttpResponse, what: &str) -> Error {
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&resp.body) {
        if let Some(code) = m.get("error").and_then(Value::as_str) {
            let text = |k: &str| m.get(k).and_then(Value::as_str).map(printable_long);
            return Error::from_oauth(
                OAuthError {
                    error: printable(code),
                    error_description: text("error_description"),
                    error_uri: text("error_uri"),
                    status: resp.status,
                },
                what,
            );
        }
    }
    // RFC 6750 errors come in WWW-Authenticate (userinfo, resources).
    if let Some(www) = resp.header("www-authenticate") {
        if let Some(code) = auth_param(www, "error") {
            return Error::from_oauth(
                OAuthError {
                    error: printable(&code),
                    error_description: auth_param(www, "error_description").map(|s| printable_long(&s)),
                    error_uri: auth_param(www, "error_uri").map(|s| printable_long(&s)),
                    status: resp.status,
                },
                what,
            );
        }
    }
    Error::new(ErrorKind::HttpStatus, format!("{what}: HTTP {}", resp.status)).with_server_status(resp.status)
}

fn printable_long(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(500).collect()
}

/// A parameter of a `WWW-Authenticate` challenge (`error="invalid_token"`).
pub fn auth_param(header: &str, name: &str) -> Option<String> {
    let idx = header.find(&format!("{name}="))?;
    // Make sure we matched a whole parameter name.
    if idx > 0 && !matches!(header.as_bytes()[idx - 1], b' ' | b',') {
        return None;
    }
    let rest = &header[idx + name.len() + 1..];
    if let Some(q) = rest.strip_prefix('"') {
        q.split('"').next().map(str::to_string)
    } else {
        rest.split([',', ' ']).next().map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str, www: Option<&str>) -> HttpResponse {
        let mut headers = vec![("content-type".into(), "application/json".into())];
        if let Some(w) = www {
            headers.push(("www-authenticate".into(), w.into()));
        }
        HttpResponse { status, headers, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn token_response() {
        let t = TokenResponse::parse(br#"{"access_token":"AT","token_type":"Bearer","expires_in":300,"scope":"a b"}"#).unwrap();
        assert_eq!(t.access_token.expose(), "AT");
        assert_eq!(t.expires_in, Some(300));
        assert!(!format!("{t:?}").contains("AT\""));
        let e = TokenResponse::parse(br#"{"token_type":"Bearer"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ResponseMissingField);
        assert_eq!(TokenResponse::parse(b"{").unwrap_err().kind(), ErrorKind::ResponseInvalid);
        assert_eq!(
            TokenResponse::parse(br#"{"access_token":"a","token_type":"b","expires_in":[]}"#).unwrap_err().kind(),
            ErrorKind::ResponseMissingField
        );
    }

    #[test]
    fn oauth_errors() {
        let e = error_from_response(&resp(400, r#"{"error":"invalid_grant","error_description":"bad code"}"#, None), "token");
        assert_eq!(e.kind(), ErrorKind::InvalidGrant);
        assert_eq!(e.oauth().unwrap().status, 400);
        assert_eq!(e.oauth().unwrap().error_description.as_deref(), Some("bad code"));
        let e = error_from_response(&resp(400, r#"{"error":"weird_thing"}"#, None), "token");
        assert_eq!(e.kind(), ErrorKind::OAuthOther);
        let e = error_from_response(&resp(401, "", Some(r#"Bearer realm="x", error="invalid_token""#)), "userinfo");
        assert_eq!(e.kind(), ErrorKind::InvalidToken);
        let e = error_from_response(&resp(502, "<html>", None), "token");
        assert_eq!(e.kind(), ErrorKind::HttpStatus);
    }
}
