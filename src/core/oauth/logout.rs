//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4-2.6).
//!
//! A logout token goes through the same parse, key lookup, signature, algorithm policy and
//! `iss` / `aud` / `exp` / `nbf` / `iat` checks as an ID token (the client's validator, audience =
//! client id), then the logout rules, in this order:
//!
//! - header `typ` `logout+jwt` (compared as media types: case-insensitive, `application/` may
//!   prefix it). §2.4 only RECOMMENDS explicit typing, but it is what keeps a logout token apart
//!   from other JWTs (§4.1), so liboidc **fails closed: a token without it is refused**
//!   (`TYPE_MISMATCH`) unless the client opts in with [`LogoutConfig::accept_untyped`] (then an
//!   absent `typ` or `JWT` is accepted too; any other `typ` still is not);
//! - the client id is one of the audiences;
//! - `events`: a JSON object holding the member `http://schemas.openid.net/event/backchannel-logout`
//!   whose value is a JSON object (§2.4 says it SHOULD be `{}`; any object is accepted);
//! - no `nonce` (present with any value: `INVALID_CLAIM`);
//! - `sub` and/or `sid`, non-empty strings;
//! - `iat` and `exp` required (numbers), `jti` required (a non-empty string);
//! - `exp` at most a year ahead (a replay entry must outlive the token; a longer lifetime could
//!   not be remembered);
//! - the `jti` was not seen before (`TOKEN_REPLAYED`): first the client's bounded in-memory cache
//!   (an entry lives until `exp` + leeway; when [`LogoutConfig::replay_capacity`] live entries are
//!   held, new tokens are refused with `REPLAY_STORE_UNAVAILABLE` rather than forgetting one),
//!   then the host's shared store when one is set (key `liboidc:logout:` + base64url(SHA-256 of
//!   issuer, client id and jti): never the key of a DPoP `jti`). A store that does not answer
//!   refuses the token (`REPLAY_STORE_UNAVAILABLE`) and forgets the reservation, so the OP may
//!   retry.
//!
//! The `jti` is recorded only for a token that passed every other check. The other direction
//! (a logout token refused as an access token, ID token or signed response) is the token
//! policy's own rule: see `validate::Policy::logout_token`.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::client::OAuthClient;
use crate::core::authn::replay::replay_key;
use crate::core::client::unix_now;
use crate::core::config::{Algorithm, ReplayStore};
use crate::core::error::{ErrorKind, Result, err};
use crate::core::json::{RawObject, Scalar, b64url_decode, scalar};
use crate::core::validate::{BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TYP};

/// The default capacity of a client's logout-token replay cache.
pub const DEFAULT_LOGOUT_REPLAY_CAPACITY: usize = 100_000;

/// How far ahead a logout token's `exp` may lie (its `jti` is remembered that long).
pub const MAX_LOGOUT_LIFETIME_SECS: u64 = super::MAX_SERVER_LIFETIME_SECS;

/// A protocol client's logout-token settings. `Debug` never shows the host's store.
#[derive(Clone)]
pub struct LogoutConfig {
    /// Accept a logout token whose header has no `typ` (or the generic `JWT`). Default false:
    /// `typ` must be `logout+jwt`.
    pub accept_untyped: bool,
    /// Most live `jti`s the client's replay cache holds (at least 1). Default
    /// [`DEFAULT_LOGOUT_REPLAY_CAPACITY`].
    pub replay_capacity: usize,
    /// A store shared by a fleet of relying-party processes, consulted after the client's own
    /// cache (the same trait as the DPoP replay store; keys are namespaced per kind).
    pub replay_store: Option<Arc<dyn ReplayStore>>,
}

impl Default for LogoutConfig {
    fn default() -> LogoutConfig {
        LogoutConfig { accept_untyped: false, replay_capacity: DEFAULT_LOGOUT_REPLAY_CAPACITY, replay_store: None }
    }
}

impl std::fmt::Debug for LogoutConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoutConfig")
            .field("accept_untyped", &self.accept_untyped)
            .field("replay_capacity", &self.replay_capacity)
            .field("replay_store", &self.replay_store.as_ref().map(|_| "<host store>"))
            .finish()
    }
}

/// A valid logout token.
#[derive(Debug, Clone)]
pub struct LogoutToken {
    /// The claims exactly as signed (a JSON object).
    pub json: String,
    pub object: Map<String, Value>,
    pub iss: String,
    /// At least one of `sub` and `sid` is set.
    pub sub: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
    pub iat: f64,
    pub exp: f64,
    pub alg: Algorithm,
}

/// The header's `typ` as a string (`None` when absent, or when the header cannot be read: the
/// validation then reports the malformed token itself).
fn header_typ(token: &str) -> Option<Option<String>> {
    let h = token.split('.').next()?;
    let bytes = b64url_decode(h.as_bytes()).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let obj = RawObject::parse(text).ok()?;
    Some(match obj.get("typ").map(scalar) {
        None => None,
        Some(Scalar::Str(t)) => Some(t.into_owned()),
        // Not a string: the validation says so.
        Some(_) => return None,
    })
}

/// Validate back-channel logout token `token` for `client` as of `now` (Unix seconds; `None` =
/// now), and record its `jti` (see the module documentation for every rule and code).
pub fn validate_logout_token(client: &OAuthClient, token: &str, now: Option<f64>) -> Result<LogoutToken> {
    let now = now.unwrap_or_else(unix_now);
    let cfg = &client.config().logout;
    if cfg.accept_untyped {
        if let Some(Some(t)) = header_typ(token) {
            let n = crate::core::validate::normalize_typ(&t);
            if n != LOGOUT_TYP && n != "jwt" {
                return err(ErrorKind::TypeMismatch, "the logout token's typ is neither logout+jwt nor JWT");
            }
        }
    }
    let strict = !cfg.accept_untyped;
    let v = client.validator().validate_adjusted(token, now, |p| {
        p.expected_typ = strict.then(|| LOGOUT_TYP.to_string());
        p.require_exp = true;
        p.logout_token = true;
    })?;
    let leeway = client.validator().config().leeway.as_secs_f64();
    let object = match serde_json::from_str::<Value>(&v.claims) {
        Ok(Value::Object(m)) => m,
        _ => return err(ErrorKind::TokenMalformed, "logout token claims are not a JSON object"),
    };
    check_logout_claims(client.client_id(), &object, now)?;
    let s = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let t = LogoutToken {
        iss: s("iss").unwrap_or_default(),
        sub: s("sub"),
        sid: s("sid"),
        jti: s("jti").unwrap_or_default(),
        iat: object.get("iat").and_then(Value::as_f64).unwrap_or(f64::NAN),
        exp: v.exp,
        alg: v.alg,
        json: v.claims,
        object,
    };
    if t.exp - now > MAX_LOGOUT_LIFETIME_SECS as f64 {
        return err(
            ErrorKind::InvalidClaim,
            "the logout token's exp is more than a year ahead (its jti could not be remembered that long)",
        );
    }
    // Remembered until the token could no longer be accepted: exp + leeway (whole seconds, up).
    let ttl = (t.exp + leeway - now).ceil().clamp(1.0, (MAX_LOGOUT_LIFETIME_SECS + 3600) as f64) as u64;
    let key = replay_key(&[&t.iss, client.client_id(), &t.jti]);
    client.inner.logout_replay.check_and_record(key, ttl, now, cfg.replay_store.as_deref())?;
    Ok(t)
}

/// The Back-Channel Logout checks on the claims of an authentic token (everything but the
/// replay check). `now` is unused today (the time claims were checked by the token policy); it
/// keeps the shape of the ID-token checks.
pub fn check_logout_claims(client_id: &str, object: &Map<String, Value>, _now: f64) -> Result<()> {
    // The client must be an audience, whatever other audiences the client accepts.
    let in_aud = match object.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(l)) => l.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !in_aud {
        return err(ErrorKind::AudienceMismatch, "the logout token's audience does not include this client");
    }
    match object.get("events") {
        None | Some(Value::Null) => return err(ErrorKind::MissingClaim, "logout token has no events claim"),
        Some(Value::Object(e)) => match e.get(BACKCHANNEL_LOGOUT_EVENT) {
            Some(Value::Object(_)) => {}
            None => {
                return err(ErrorKind::InvalidClaim, "the logout token's events claim does not hold the back-channel-logout event");
            }
            Some(_) => {
                return err(ErrorKind::InvalidClaim, "the logout token's back-channel-logout event is not a JSON object");
            }
        },
        Some(_) => return err(ErrorKind::InvalidClaim, "the logout token's events claim is not a JSON object"),
    }
    if object.contains_key("nonce") {
        return err(ErrorKind::InvalidClaim, "a logout token must not contain a nonce claim (it would pass for an ID token)");
    }
    let mut subject = false;
    for name in ["sub", "sid"] {
        match object.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if !s.is_empty() => subject = true,
            Some(_) => return err(ErrorKind::InvalidClaim, format!("logout token {name} is not a non-empty string")),
        }
    }
    if !subject {
        return err(ErrorKind::MissingClaim, "logout token has neither a sub nor a sid claim");
    }
    match object.get("iat") {
        Some(Value::Number(_)) => {}
        None | Some(Value::Null) => return err(ErrorKind::MissingClaim, "logout token has no iat claim"),
        Some(_) => return err(ErrorKind::InvalidClaim, "logout token iat is not a number"),
    }
    match object.get("jti") {
        Some(Value::String(s)) if !s.is_empty() => {}
        None | Some(Value::Null) => return err(ErrorKind::MissingClaim, "logout token has no jti claim"),
        Some(_) => return err(ErrorKind::InvalidClaim, "logout token jti is not a non-empty string"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(c: Value) -> Option<ErrorKind> {
        check_logout_claims("web", c.as_object().unwrap(), 1000.0).err().map(|e| e.kind())
    }

    fn base() -> Value {
        json!({"iss":"i","aud":"web","iat":900,"exp":1100,"jti":"j1","sub":"u","sid":"s",
               "events":{BACKCHANNEL_LOGOUT_EVENT:{}}})
    }

    fn without(name: &str) -> Value {
        let mut c = base();
        c.as_object_mut().unwrap().remove(name);
        c
    }

    fn with(name: &str, v: Value) -> Value {
        let mut c = base();
        c[name] = v;
        c
    }

    #[test]
    fn logout_claims() {
        assert_eq!(kind(base()), None);
        assert_eq!(kind(without("sub")), None, "sid alone");
        assert_eq!(kind(without("sid")), None, "sub alone");
        let mut neither = without("sub");
        neither.as_object_mut().unwrap().remove("sid");
        assert_eq!(kind(neither), Some(ErrorKind::MissingClaim));
        assert_eq!(kind(with("sid", json!(5))), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(with("sub", json!(""))), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(with("events", json!({BACKCHANNEL_LOGOUT_EVENT: {"reason": "x"}}))), None, "any object");
        assert_eq!(kind(without("events")), Some(ErrorKind::MissingClaim));
        assert_eq!(kind(with("events", json!({"urn:other": {}}))), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(with("events", json!({BACKCHANNEL_LOGOUT_EVENT: []}))), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(with("events", json!({BACKCHANNEL_LOGOUT_EVENT: null}))), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(with("events", json!([BACKCHANNEL_LOGOUT_EVENT]))), Some(ErrorKind::InvalidClaim), "the draft-era array");
        assert_eq!(kind(with("nonce", json!("n"))), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(with("nonce", Value::Null)), Some(ErrorKind::InvalidClaim), "present at all");
        assert_eq!(kind(without("iat")), Some(ErrorKind::MissingClaim));
        assert_eq!(kind(with("iat", json!("900"))), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(without("jti")), Some(ErrorKind::MissingClaim));
        assert_eq!(kind(with("jti", json!(""))), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(with("aud", json!("other"))), Some(ErrorKind::AudienceMismatch));
        assert_eq!(kind(with("aud", json!(["other", "web"]))), None);
    }

    #[test]
    fn typ_of_header() {
        let h = |v: Value| format!("{}.e30.c2ln", crate::core::json::b64url_encode(v.to_string().as_bytes()));
        assert_eq!(header_typ(&h(json!({"alg":"RS256","typ":"logout+jwt"}))), Some(Some("logout+jwt".into())));
        assert_eq!(header_typ(&h(json!({"alg":"RS256"}))), Some(None));
        assert_eq!(header_typ(&h(json!({"alg":"RS256","typ":1}))), None);
        assert_eq!(header_typ("%%%.e30.c2ln"), None);
    }

    #[test]
    fn debug_hides_the_store() {
        struct S;
        impl ReplayStore for S {
            fn check_and_record(&self, _: &str, _: u64) -> std::result::Result<bool, ()> {
                Ok(true)
            }
        }
        let c = LogoutConfig { replay_store: Some(Arc::new(S)), ..Default::default() };
        assert!(format!("{c:?}").contains("<host store>"));
    }
}
