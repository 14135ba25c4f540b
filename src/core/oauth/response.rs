//! The authorization response (RFC 6749 §4.1.2 / §4.1.2.1) as it reaches the redirect URI:
//! `state` (StateMismatch), error responses (their OAuth code), RFC 9207 `iss`
//! (ResponseIssuerMismatch; required when the issuer advertises
//! `authorization_response_iss_parameter_supported`, unless a front-channel ID token carries
//! the issuer: it is then validated here) and JARM (`response`, a JWT signed by the
//! issuer, audience = client id, validated by the same policy code as every token).

use serde_json::Value;

use super::client::OAuthClient;
use super::idtoken::{IdTokenChecks, validate_id_token};
use super::secret::Secret;
use crate::core::client::unix_now;
use crate::core::error::{Error, ErrorKind, OAuthError, Result, err};
use crate::core::json::printable;

/// Largest authorization response accepted (URL, query or fragment).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A successful authorization response.
#[derive(Clone)]
pub struct AuthorizationResponse {
    /// The authorization code (a secret: never log it).
    pub code: Secret,
    pub state: Option<String>,
    /// RFC 9207 `iss` (or the JARM token's issuer), already checked.
    pub iss: Option<String>,
    /// Whether the parameters came from a JARM response JWT.
    pub jarm: bool,
    /// Every parameter received (including `code`: never log these).
    pub params: Vec<(String, String)>,
}

impl std::fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationResponse")
            .field("code", &self.code)
            .field("state", &self.state)
            .field("iss", &self.iss)
            .field("jarm", &self.jarm)
            .finish()
    }
}

impl AuthorizationResponse {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decode one `application/x-www-form-urlencoded` component strictly.
pub fn form_decode(s: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let v = match (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
                    (Some(h), Some(l)) => h * 16 + l,
                    _ => return err(ErrorKind::ResponseInvalid, "authorization response has a bad percent-encoding"),
                };
                out.push(v);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Error::new(ErrorKind::ResponseInvalid, "authorization response is not UTF-8"))
}

/// The parameters of a redirect URL (its fragment when non-empty, else its query), or of a bare
/// query / fragment string (a leading `?` or `#` is ignored). Repeated names are refused
/// (RFC 6749 §3.1).
pub fn response_params(input: &str) -> Result<Vec<(String, String)>> {
    if input.len() > MAX_RESPONSE_BYTES {
        return err(ErrorKind::InvalidArgument, "authorization response is longer than 64 KiB");
    }
    let input = input.trim();
    // A URL starts with a scheme (`https:`, `http:`, a private-use `com.example.app:`); a bare
    // query or fragment does not (its first ':' comes after a '=').
    let is_url = match input.find(':') {
        Some(i) => {
            let scheme = &input[..i];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    };
    let raw = if is_url {
        let (before, fragment) = match input.split_once('#') {
            Some((a, f)) => (a, f),
            None => (input, ""),
        };
        if !fragment.is_empty() { fragment } else { before.split_once('?').map(|(_, q)| q).unwrap_or("") }
    } else {
        input.strip_prefix('?').or_else(|| input.strip_prefix('#')).unwrap_or(input)
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = form_decode(k)?;
        let v = form_decode(v)?;
        if out.iter().any(|(n, _)| *n == k) {
            return err(ErrorKind::ResponseInvalid, format!("authorization response repeats the parameter '{}'", printable(&k)));
        }
        out.push((k, v));
    }
    if out.is_empty() {
        return err(ErrorKind::ResponseMissingField, "authorization response has no parameters");
    }
    Ok(out)
}

fn ct_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// The `state` an authorization request carried: the response must carry exactly it. "No state
/// was sent" is an explicit choice, never the default of an empty or missing value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedState<'a> {
    /// The state sent (non-empty); the response must carry the same (compared in constant time).
    Sent(&'a str),
    /// The request carried no state; a response that carries one is refused.
    NoneSent,
}

impl OAuthClient {
    /// Parse and check an authorization response against the state that was sent. `now`
    /// defaults to the current time (JARM expiry).
    pub fn parse_authorization_response(
        &self,
        input: &str,
        expected_state: ExpectedState<'_>,
        now: Option<f64>,
    ) -> Result<AuthorizationResponse> {
        if expected_state == ExpectedState::Sent("") {
            return err(ErrorKind::InvalidArgument, "the expected state is empty: pass the state the authorization request carried");
        }
        let mut params = response_params(input)?;
        let get = |p: &[(String, String)], n: &str| p.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let jarm = match get(&params, "response") {
            Some(jwt) => {
                params = self.jarm_params(&jwt, now.unwrap_or_else(unix_now))?;
                true
            }
            None => false,
        };
        let iss = get(&params, "iss");
        if !jarm {
            // RFC 9207 §2.4: compare exactly; require it when the issuer says it sends it.
            match &iss {
                Some(i) if *i == self.config().base.issuer => {}
                Some(_) => {
                    return err(
                        ErrorKind::ResponseIssuerMismatch,
                        format!("authorization response iss is not the issuer {}", self.config().base.issuer),
                    );
                }
                None => {
                    let m = self.metadata()?;
                    if let Some(id_token) = get(&params, "id_token") {
                        // Hybrid / implicit: the front-channel ID token's iss stands in for the
                        // parameter (RFC 9207 §2.4); check its signature, iss and audience now
                        // (nonce and c_hash are the caller's, with validate_id_token).
                        let checks = IdTokenChecks { now, ..Default::default() };
                        validate_id_token(self, &id_token, &checks)?;
                    } else if m.raw.get("authorization_response_iss_parameter_supported") == Some(&Value::Bool(true)) {
                        return err(
                            ErrorKind::ResponseIssuerMismatch,
                            "authorization response lacks iss although the issuer advertises it (RFC 9207)",
                        );
                    }
                }
            }
        }
        let state = get(&params, "state");
        match (expected_state, &state) {
            (ExpectedState::Sent(want), Some(s)) if ct_eq(s, want) => {}
            (ExpectedState::Sent(_), Some(_)) => {
                return err(ErrorKind::StateMismatch, "authorization response state differs from the one sent");
            }
            (ExpectedState::Sent(_), None) => {
                return err(ErrorKind::StateMismatch, "authorization response has no state but one was sent");
            }
            (ExpectedState::NoneSent, Some(_)) => {
                return err(ErrorKind::StateMismatch, "authorization response carries a state although none was sent");
            }
            (ExpectedState::NoneSent, None) => {}
        }
        if let Some(code) = get(&params, "error") {
            let text = |k: &str| get(&params, k).map(|s| s.chars().filter(|c| !c.is_control()).take(500).collect());
            return Err(Error::from_oauth(
                OAuthError {
                    error: printable(&code),
                    error_description: text("error_description"),
                    error_uri: text("error_uri"),
                    status: 0,
                },
                "authorization response",
            ));
        }
        let code = match get(&params, "code") {
            Some(c) if !c.is_empty() => Secret::new(c),
            _ => return err(ErrorKind::ResponseMissingField, "authorization response has neither code nor error"),
        };
        Ok(AuthorizationResponse { code, state, iss, jarm, params })
    }

    /// JARM: validate the response JWT (issuer keys, `iss`, `aud` = client id, `exp`) and
    /// return its parameters.
    fn jarm_params(&self, jwt: &str, now: f64) -> Result<Vec<(String, String)>> {
        let v = self.validator().validate_adjusted(jwt, now, |p| {
            p.expected_typ = None;
            p.required_claims.clear();
            p.audiences = vec![self.client_id().to_string()];
            p.any_audience = false;
        })?;
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&v.claims) else {
            return err(ErrorKind::TokenMalformed, "JARM response claims are not a JSON object");
        };
        let mut out = Vec::new();
        for (k, val) in m {
            if matches!(k.as_str(), "aud" | "exp" | "iat" | "nbf" | "jti") {
                continue;
            }
            match val {
                Value::String(s) => out.push((k, s)),
                Value::Number(n) => out.push((k, n.to_string())),
                Value::Bool(b) => out.push((k, b.to_string())),
                _ => {}
            }
        }
        Ok(out)
    }
}

impl AuthorizationResponse {
    /// `{"code":…, "state":…, "iss":…, "jarm":bool, "params":{…}}` (contains the code: never log).
    pub fn to_json(&self) -> String {
        let params: serde_json::Map<String, Value> = self.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        serde_json::json!({"code": self.code.expose(), "state": self.state, "iss": self.iss, "jarm": self.jarm, "params": params})
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_from_urls_and_strings() {
        let p = response_params("http://127.0.0.1/cb?code=a%2Bb&state=s+1&iss=https%3A%2F%2Fi").unwrap();
        assert_eq!(p, vec![("code".into(), "a+b".into()), ("state".into(), "s 1".into()), ("iss".into(), "https://i".into())]);
        assert_eq!(response_params("http://x/cb?t=1#code=c").unwrap(), vec![("code".to_string(), "c".to_string())]);
        assert_eq!(response_params("http://x/cb?code=q#").unwrap(), vec![("code".to_string(), "q".to_string())]);
        assert_eq!(response_params("?code=c").unwrap().len(), 1);
        assert_eq!(response_params("code=c&iss=https://i").unwrap()[1], ("iss".to_string(), "https://i".to_string()));
        assert_eq!(response_params("com.example.app:/cb?code=c").unwrap()[0], ("code".to_string(), "c".to_string()));
        assert_eq!(response_params("#code=c&state=").unwrap()[1], ("state".to_string(), String::new()));
        assert_eq!(response_params("code=a&code=b").unwrap_err().kind(), ErrorKind::ResponseInvalid);
        assert_eq!(response_params("code=%zz").unwrap_err().kind(), ErrorKind::ResponseInvalid);
        assert_eq!(response_params("code=%ff").unwrap_err().kind(), ErrorKind::ResponseInvalid);
        assert_eq!(response_params("http://x/cb").unwrap_err().kind(), ErrorKind::ResponseMissingField);
        assert_eq!(response_params(&"a".repeat(70000)).unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
}
