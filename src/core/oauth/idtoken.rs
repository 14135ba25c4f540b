//! ID token validation (OpenID Connect Core §3.1.3.7, §3.1.3.8, §3.2.2.9–11): the same parse,
//! key lookup, signature and claim checks as access tokens (the client's validator, audience =
//! client id, no `typ` requirement), then the OpenID Connect checks: `sub`, `iat`, `azp`,
//! `nonce`, `at_hash`, `c_hash` and `auth_time` against `max_age`.

use aws_lc_rs::digest;
use serde_json::{Map, Value};

use super::client::OAuthClient;
use crate::core::client::unix_now;
use crate::core::config::Algorithm;
use crate::core::error::{ErrorKind, Result, err};
use crate::core::json::b64url_encode;
use crate::core::validate::Validated;

/// What the caller knows about the request and response the ID token belongs to. `Debug`
/// shows which checks are set, never the access token or code.
#[derive(Clone, Copy, Default)]
pub struct IdTokenChecks<'a> {
    /// The `nonce` sent in the authorization request: the token's must equal it.
    pub nonce: Option<&'a str>,
    /// The access token issued with the ID token: `at_hash`, when present, must match it.
    pub access_token: Option<&'a str>,
    /// The authorization code: `c_hash`, when present, must match it.
    pub code: Option<&'a str>,
    /// The `max_age` sent (seconds): then `auth_time` is required and must be recent enough.
    pub max_age: Option<u64>,
    /// Validation time (Unix seconds); `None` = now.
    pub now: Option<f64>,
}

impl std::fmt::Debug for IdTokenChecks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenChecks")
            .field("nonce", &self.nonce)
            .field("has_access_token", &self.access_token.is_some())
            .field("has_code", &self.code.is_some())
            .field("max_age", &self.max_age)
            .field("now", &self.now)
            .finish()
    }
}

/// The claims of a valid ID token.
#[derive(Debug, Clone)]
pub struct Claims {
    /// The claims exactly as signed (a JSON object).
    pub json: String,
    pub object: Map<String, Value>,
    pub alg: Algorithm,
    pub exp: f64,
}

impl Claims {
    /// The subject (always present in a valid ID token).
    pub fn sub(&self) -> &str {
        self.object.get("sub").and_then(Value::as_str).unwrap_or("")
    }
    /// Any claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.object.get(name)
    }
}

/// The digest an `at_hash` / `c_hash` uses for a JWS algorithm (OIDC Core §3.1.3.6: the hash of
/// the alg; EdDSA with Ed25519 uses SHA-512).
pub fn hash_alg(alg: Algorithm) -> &'static digest::Algorithm {
    use Algorithm::*;
    match alg {
        RS256 | PS256 | ES256 => &digest::SHA256,
        RS384 | PS384 | ES384 => &digest::SHA384,
        RS512 | PS512 | ES512 | EdDSA => &digest::SHA512,
    }
}

/// `base64url(left half of hash(value))`.
pub fn left_half_hash(alg: Algorithm, value: &str) -> String {
    let d = digest::digest(hash_alg(alg), value.as_bytes());
    let b = d.as_ref();
    b64url_encode(&b[..b.len() / 2])
}

fn ct_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// Validate `id_token` for `client`. Secret inputs (access token, code) never appear in errors.
pub fn validate_id_token(client: &OAuthClient, id_token: &str, checks: &IdTokenChecks<'_>) -> Result<Claims> {
    let now = checks.now.unwrap_or_else(unix_now);
    let v = client.validator().validate_adjusted(id_token, now, |p| {
        // ID tokens carry no (or a generic "JWT") typ; the access-token typ rule does not apply.
        p.expected_typ = None;
        p.require_exp = true;
    })?;
    check_id_token_claims(client.client_id(), v, checks, now, client.validator().config().leeway.as_secs_f64())
}

/// The OpenID Connect checks on the claims of an authentic token.
pub fn check_id_token_claims(client_id: &str, v: Validated, checks: &IdTokenChecks<'_>, now: f64, leeway: f64) -> Result<Claims> {
    let object = match serde_json::from_str::<Value>(&v.claims) {
        Ok(Value::Object(m)) => m,
        _ => return err(ErrorKind::TokenMalformed, "ID token claims are not a JSON object"),
    };
    match object.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => {}
        None | Some(Value::Null) => return err(ErrorKind::MissingClaim, "ID token has no sub claim"),
        Some(_) => return err(ErrorKind::InvalidClaim, "ID token sub is not a non-empty string"),
    }
    match object.get("iat") {
        Some(Value::Number(_)) => {}
        None | Some(Value::Null) => return err(ErrorKind::MissingClaim, "ID token has no iat claim"),
        Some(_) => return err(ErrorKind::InvalidClaim, "ID token iat is not a number"),
    }
    // The client must be an audience, whatever other audiences the client accepts.
    let auds: Vec<&str> = match object.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(l)) => l.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !auds.contains(&client_id) {
        return err(ErrorKind::AudienceMismatch, "the ID token's audience does not include this client");
    }
    match object.get("azp") {
        None | Some(Value::Null) if auds.len() > 1 => {
            return err(ErrorKind::AzpMismatch, "the ID token has several audiences but no azp");
        }
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if a == client_id => {}
        Some(_) => return err(ErrorKind::AzpMismatch, "the ID token's azp is not this client"),
    }
    if let Some(n) = checks.nonce {
        match object.get("nonce") {
            Some(Value::String(t)) if ct_eq(t, n) => {}
            Some(Value::String(_)) => return err(ErrorKind::NonceMismatch, "the ID token's nonce differs from the one sent"),
            _ => return err(ErrorKind::NonceMismatch, "the ID token has no nonce but one was sent"),
        }
    }
    for (claim, value, what) in [("at_hash", checks.access_token, "access token"), ("c_hash", checks.code, "code")] {
        let (Some(value), Some(h)) = (value, object.get(claim)) else { continue };
        let Value::String(h) = h else {
            return err(ErrorKind::InvalidClaim, format!("ID token {claim} is not a string"));
        };
        if !ct_eq(h, &left_half_hash(v.alg, value)) {
            return err(ErrorKind::HashMismatch, format!("the ID token's {claim} does not match the {what}"));
        }
    }
    if let Some(max_age) = checks.max_age {
        let auth_time = match object.get("auth_time") {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
            None | Some(Value::Null) => {
                return err(ErrorKind::AuthTimeInvalid, "max_age was requested but the ID token has no auth_time");
            }
            Some(_) => return err(ErrorKind::InvalidClaim, "ID token auth_time is not a number"),
        };
        if !auth_time.is_finite() || now > auth_time + max_age as f64 + leeway {
            return err(
                ErrorKind::AuthTimeInvalid,
                format!("the end-user authenticated at {} (now {}), longer ago than max_age {max_age}s", auth_time as i64, now as i64),
            );
        }
    }
    Ok(Claims { json: v.claims, object, alg: v.alg, exp: v.exp })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validated(claims: serde_json::Value, alg: Algorithm) -> Validated {
        Validated { claims: claims.to_string(), alg, exp: 2000.0, cnf: Default::default(), jti: None }
    }

    fn kind(claims: serde_json::Value, checks: IdTokenChecks<'_>) -> Option<ErrorKind> {
        check_id_token_claims("web", validated(claims, Algorithm::RS256), &checks, 1000.0, 60.0).err().map(|e| e.kind())
    }

    #[test]
    fn hashes() {
        // OIDC Core A.3: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" with RS256.
        assert_eq!(left_half_hash(Algorithm::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
        // c_hash of "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk" (A.4).
        assert_eq!(
            left_half_hash(Algorithm::RS256, "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
            "LDktKdoQak3Pk0cnXxCltA"
        );
        assert_eq!(left_half_hash(Algorithm::ES384, "x").len(), 32);
        assert_eq!(left_half_hash(Algorithm::ES512, "x").len(), 43);
        assert_eq!(left_half_hash(Algorithm::EdDSA, "x").len(), 43);
    }

    #[test]
    fn oidc_checks() {
        use serde_json::json;
        let base = || {
            json!({"iss":"i","sub":"u","aud":"web","exp":2000,"iat":900,"nonce":"n1","auth_time":900,
            "at_hash": left_half_hash(Algorithm::RS256, "AT"), "c_hash": left_half_hash(Algorithm::RS256, "CODE")})
        };
        let all = IdTokenChecks { nonce: Some("n1"), access_token: Some("AT"), code: Some("CODE"), max_age: Some(200), now: None };
        let shown = format!("{all:?}");
        assert!(!shown.contains("\"AT\"") && !shown.contains("CODE"), "{shown}");
        assert_eq!(kind(base(), all), None);
        assert_eq!(kind(base(), IdTokenChecks { nonce: Some("n2"), ..all }), Some(ErrorKind::NonceMismatch));
        assert_eq!(kind(base(), IdTokenChecks { access_token: Some("AT2"), ..all }), Some(ErrorKind::HashMismatch));
        assert_eq!(kind(base(), IdTokenChecks { code: Some("C2"), ..all }), Some(ErrorKind::HashMismatch));
        assert_eq!(kind(base(), IdTokenChecks { max_age: Some(30), ..all }), Some(ErrorKind::AuthTimeInvalid));
        let mut c = base();
        c.as_object_mut().unwrap().remove("auth_time");
        assert_eq!(kind(c.clone(), all), Some(ErrorKind::AuthTimeInvalid));
        assert_eq!(kind(c, IdTokenChecks { max_age: None, ..all }), None, "auth_time only needed with max_age");
        let mut c = base();
        c.as_object_mut().unwrap().remove("nonce");
        assert_eq!(kind(c.clone(), all), Some(ErrorKind::NonceMismatch));
        assert_eq!(kind(c, IdTokenChecks { nonce: None, ..all }), None);
        let mut c = base();
        c["aud"] = json!(["web", "other"]);
        assert_eq!(kind(c.clone(), all), Some(ErrorKind::AzpMismatch));
        c["azp"] = json!("other");
        assert_eq!(kind(c.clone(), all), Some(ErrorKind::AzpMismatch));
        c["azp"] = json!("web");
        assert_eq!(kind(c, all), None);
        let mut c = base();
        c["aud"] = json!("other");
        assert_eq!(kind(c, all), Some(ErrorKind::AudienceMismatch));
        let mut c = base();
        c.as_object_mut().unwrap().remove("sub");
        assert_eq!(kind(c, all), Some(ErrorKind::MissingClaim));
        let mut c = base();
        c.as_object_mut().unwrap().remove("iat");
        assert_eq!(kind(c, all), Some(ErrorKind::MissingClaim));
        let mut c = base();
        c["at_hash"] = json!(5);
        assert_eq!(kind(c, all), Some(ErrorKind::InvalidClaim));
        // Hashes are optional in the code flow: absent claims pass.
        let mut c = base();
        c.as_object_mut().unwrap().remove("at_hash");
        c.as_object_mut().unwrap().remove("c_hash");
        assert_eq!(kind(c, all), None);
    }
}
