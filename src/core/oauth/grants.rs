//! The grants: authorization code with PKCE, refresh token, device authorization (RFC 8628) with
//! a polling helper, token exchange (RFC 8693), JWT bearer (RFC 7523), CIBA poll mode, and any
//! custom grant. ID tokens in code, refresh and CIBA responses are validated before the response
//! is returned.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::client::OAuthClient;
use super::secret::Secret;
use super::signing::{SigningKey, random_b64};
use super::token::{TokenResponse, json_object};
use crate::core::error::{Error, ErrorKind, Result, err};
use crate::core::pool::Cancel;

pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const GRANT_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const GRANT_CIBA: &str = "urn:openid:params:grant-type:ciba";
/// RFC 8693 token type of access tokens.
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// RFC 8628 §3.2 / CIBA: the polling interval when the server sends none.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: `slow_down` adds this much to the interval.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Largest interval honoured (a server asking for more is capped).
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(300);

/// What an authorization request needs and the exchange must repeat: a PKCE S256 pair
/// (RFC 7636; the verifier is 43 base64url characters from 32 random bytes), `state` and
/// `nonce` (22 characters from 16 random bytes each).
#[derive(Clone)]
pub struct AuthorizationSecrets {
    pub code_verifier: Secret,
    pub code_challenge: String,
    pub code_challenge_method: &'static str,
    pub state: String,
    pub nonce: String,
}

impl std::fmt::Debug for AuthorizationSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationSecrets")
            .field("code_challenge", &self.code_challenge)
            .field("code_challenge_method", &self.code_challenge_method)
            .finish_non_exhaustive()
    }
}

impl AuthorizationSecrets {
    /// Fresh values from the system RNG (PKCE from the one `pkce` module).
    pub fn generate() -> Result<AuthorizationSecrets> {
        let p = super::pkce::generate()?;
        Ok(AuthorizationSecrets {
            code_verifier: p.verifier,
            code_challenge: p.challenge,
            code_challenge_method: super::pkce::METHOD,
            state: super::pkce::random_value(16)?,
            nonce: super::pkce::random_value(16)?,
        })
    }
}

/// A pending device authorization (RFC 8628 §3.2).
#[derive(Clone)]
pub struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    /// Seconds the codes live.
    pub expires_in: u64,
    /// The polling interval (5 s when the server sent none).
    pub interval: Duration,
    /// When the response was received (client clock).
    pub received_at: Instant,
    /// The whole response (contains the device code: never log it).
    pub raw: Secret,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// A pending CIBA request (poll mode).
#[derive(Clone)]
pub struct BackchannelAuthentication {
    pub auth_req_id: Secret,
    pub expires_in: u64,
    pub interval: Duration,
    pub received_at: Instant,
}

impl std::fmt::Debug for BackchannelAuthentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackchannelAuthentication")
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Bounds of a polling helper.
#[derive(Debug, Clone)]
pub struct PollOptions {
    /// Give up with `DeadlineExceeded` rather than wait past this instant (client clock). A poll
    /// request itself is bounded by the client's HTTP timeouts.
    pub deadline: Instant,
    /// Cancels the wait between polls (`Cancelled`); its deadline ends the poll too
    /// (`DeadlineExceeded`).
    pub cancel: Option<Cancel>,
}

impl PollOptions {
    /// A deadline `timeout` from now on `client`'s clock.
    pub fn timeout(client: &OAuthClient, timeout: Duration) -> PollOptions {
        PollOptions { deadline: client.config().base.clock.now() + timeout, cancel: None }
    }
}

/// Where a device or CIBA poll stands: what to send, the current interval, the codes' end of
/// life, the caller's deadline and cancel token, and the polls made so far. Owns copies of what
/// it needs, so it can outlive the handle it was made from (the non-blocking polls).
#[derive(Debug, Clone)]
pub struct PollState {
    params: Vec<(String, String)>,
    interval: Duration,
    expires_at: Instant,
    deadline: Instant,
    cancel: Option<Cancel>,
    polls: u32,
}

impl PollState {
    /// A device-code poll (RFC 8628 §3.4) of `da` within `opts`.
    pub fn device(da: &DeviceAuthorization, opts: &PollOptions) -> PollState {
        let params = vec![param("grant_type", GRANT_DEVICE_CODE), param("device_code", da.device_code.expose())];
        PollState::new(params, da.interval, da.received_at + Duration::from_secs(super::server_lifetime(da.expires_in)), opts)
    }

    /// A CIBA poll of `req` within `opts`.
    pub fn ciba(req: &BackchannelAuthentication, opts: &PollOptions) -> PollState {
        let params = vec![param("grant_type", GRANT_CIBA), param("auth_req_id", req.auth_req_id.expose())];
        PollState::new(params, req.interval, req.received_at + Duration::from_secs(super::server_lifetime(req.expires_in)), opts)
    }

    fn new(params: Vec<(String, String)>, interval: Duration, expires_at: Instant, opts: &PollOptions) -> PollState {
        PollState { params, interval, expires_at, deadline: opts.deadline, cancel: opts.cancel.clone(), polls: 0 }
    }

    /// The same poll with `extra` (custom parameters) sent with every poll.
    pub fn with_params(mut self, extra: &[(String, String)]) -> PollState {
        self.params.extend(extra.iter().cloned());
        self
    }

    /// Polls made so far.
    pub fn polls(&self) -> u32 {
        self.polls
    }
}

/// What a poll step decided.
#[derive(Debug)]
pub enum PollStep {
    /// The poll is over: the tokens (ID token validated) or why not.
    Done(Result<TokenResponse>),
    /// Still pending: step again after this long.
    Wait(Duration),
}

/// A token-exchange request (RFC 8693 §2.1).
#[derive(Debug, Clone, Default)]
pub struct TokenExchangeRequest {
    pub subject_token: Secret,
    /// Default: access token.
    pub subject_token_type: Option<String>,
    pub actor_token: Option<Secret>,
    pub actor_token_type: Option<String>,
    pub requested_token_type: Option<String>,
    pub audience: Vec<String>,
    pub resources: Vec<String>,
    pub scope: Option<String>,
    /// Further parameters.
    pub extra: Vec<(String, String)>,
}

fn push_opt(p: &mut Vec<(String, String)>, k: &str, v: Option<&str>) {
    if let Some(v) = v.filter(|v| !v.is_empty()) {
        p.push((k.to_string(), v.to_string()));
    }
}

fn param(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// A server's `expires_in`: a non-negative number (integer, or a float such as 1e300), clamped to
/// [`super::MAX_SERVER_LIFETIME_SECS`].
fn lifetime(v: &Value) -> Option<u64> {
    let n = v.as_u64().or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))?;
    Some(super::server_lifetime(n))
}

fn interval_of(m: &Map<String, Value>) -> Duration {
    match m.get("interval").and_then(Value::as_u64) {
        Some(0) | None => DEFAULT_POLL_INTERVAL,
        Some(s) => Duration::from_secs(s).min(MAX_POLL_INTERVAL),
    }
}

fn required_str(m: &Map<String, Value>, k: &str, what: &str) -> Result<String> {
    match m.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => err(ErrorKind::ResponseMissingField, format!("{what} lacks {k}")),
    }
}

impl OAuthClient {
    /// Validate the ID token of a code, refresh or CIBA response.
    ///
    /// The single place ID tokens from grants are checked: the access-token policy code plus
    /// nonce (when one was sent), at_hash against the issued access token, azp and iat/sub
    /// (`idtoken::validate_id_token`).
    pub(crate) fn check_grant_id_token(&self, t: &TokenResponse, nonce: Option<&str>) -> Result<()> {
        if let Some(id) = &t.id_token {
            let checks = super::idtoken::IdTokenChecks { nonce, access_token: Some(t.access_token.expose()), ..Default::default() };
            super::idtoken::validate_id_token(self, id.expose(), &checks)?;
        }
        Ok(())
    }

    /// Authorization code grant (RFC 6749 §4.1.3) with the PKCE verifier (RFC 7636). `nonce`
    /// is the one sent in the authorization request; `resources` are RFC 8707 resource
    /// indicators. The ID token, if any, is validated.
    pub fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
        nonce: Option<&str>,
        resources: &[&str],
    ) -> Result<TokenResponse> {
        if code.is_empty() {
            return err(ErrorKind::InvalidArgument, "the authorization code is empty");
        }
        let mut p = vec![param("grant_type", GRANT_AUTHORIZATION_CODE), param("code", code)];
        push_opt(&mut p, "redirect_uri", Some(redirect_uri));
        push_opt(&mut p, "code_verifier", code_verifier);
        for r in resources {
            p.push(param("resource", r));
        }
        let t = self.token_request(p)?;
        self.check_grant_id_token(&t, nonce)?;
        Ok(t)
    }

    /// Refresh token grant (RFC 6749 §6). A rotated refresh token is in the response. The ID
    /// token, if any, is validated.
    pub fn refresh(&self, refresh_token: &str, scope: Option<&str>, resources: &[&str]) -> Result<TokenResponse> {
        if refresh_token.is_empty() {
            return err(ErrorKind::InvalidArgument, "the refresh token is empty");
        }
        let mut p = vec![param("grant_type", GRANT_REFRESH_TOKEN), param("refresh_token", refresh_token)];
        push_opt(&mut p, "scope", scope);
        for r in resources {
            p.push(param("resource", r));
        }
        let t = self.token_request(p)?;
        self.check_grant_id_token(&t, None)?;
        Ok(t)
    }

    /// Device authorization request (RFC 8628 §3.1) at `device_authorization_endpoint`.
    pub fn device_authorization(&self, scope: Option<&str>, extra: &[(String, String)]) -> Result<DeviceAuthorization> {
        let mut p = Vec::new();
        push_opt(&mut p, "scope", scope);
        p.extend(extra.iter().cloned());
        let resp = self.post_authenticated("device_authorization_endpoint", p)?;
        if !resp.is_json() {
            return err(ErrorKind::ResponseInvalid, "device authorization response is not JSON");
        }
        let m = json_object(&resp.body, "device authorization response")?;
        let what = "device authorization response";
        let expires_in = match m.get("expires_in").and_then(lifetime) {
            Some(e) => e,
            None => return err(ErrorKind::ResponseMissingField, format!("{what} lacks expires_in")),
        };
        Ok(DeviceAuthorization {
            device_code: Secret::new(required_str(&m, "device_code", what)?),
            user_code: required_str(&m, "user_code", what)?,
            // "verification_url" is the pre-RFC name some servers still send.
            verification_uri: required_str(&m, "verification_uri", what)
                .or_else(|e| required_str(&m, "verification_url", what).map_err(|_| e))?,
            verification_uri_complete: m.get("verification_uri_complete").and_then(Value::as_str).map(str::to_string),
            expires_in,
            interval: interval_of(&m),
            received_at: self.config().base.clock.now(),
            raw: Secret::new(String::from_utf8_lossy(&resp.body).into_owned()),
        })
    }

    /// Poll the token endpoint for a device authorization until the user approves (RFC 8628
    /// §3.4/3.5): the first poll is immediate, then one per interval; `slow_down` adds 5 s;
    /// `authorization_pending` keeps polling; `access_denied`, `expired_token` and every other
    /// error end it. Never waits past `opts.deadline` (`DeadlineExceeded`) or the codes' lifetime
    /// (`ExpiredToken`); `opts.cancel` ends the wait at once (`Cancelled`).
    pub fn poll_device_token(&self, da: &DeviceAuthorization, opts: &PollOptions) -> Result<TokenResponse> {
        self.poll_to_end(PollState::device(da, opts))
    }

    /// Run a poll to its end on this thread: [`poll_step`](Self::poll_step) until it is done,
    /// sleeping between steps; the wait ends at once when the state's cancel token is cancelled.
    pub fn poll_to_end(&self, mut st: PollState) -> Result<TokenResponse> {
        loop {
            let wait = match self.poll_step(&mut st) {
                PollStep::Done(r) => return r,
                PollStep::Wait(d) => d,
            };
            match &st.cancel {
                Some(c) => c.wait_until(Instant::now() + wait)?,
                None => std::thread::sleep(wait),
            }
        }
    }

    /// One step of a device or CIBA poll, the single set of rules of both the blocking loop
    /// ([`poll_to_end`](Self::poll_to_end)) and the non-blocking one (rescheduled on the worker
    /// pool's timer): check cancellation, the codes' lifetime and the deadline, poll once, and
    /// either end (`Done`: the tokens, their ID token validated, or the error) or say how long
    /// to wait before the next step (`Wait`). `authorization_pending` waits one interval;
    /// `slow_down` adds 5 s to it first; a next poll past the deadline ends with
    /// `DeadlineExceeded` now, one past the lifetime with `ExpiredToken`. With a manual clock
    /// (tests) the step advances the clock by the interval itself and asks for no real wait, so
    /// neither transport sleeps.
    pub fn poll_step(&self, st: &mut PollState) -> PollStep {
        match self.poll_step_inner(st) {
            Ok(Some(t)) => PollStep::Done(Ok(t)),
            Ok(None) => {
                let clock = &self.config().base.clock;
                if clock.is_manual() {
                    clock.advance(st.interval);
                    PollStep::Wait(Duration::ZERO)
                } else {
                    PollStep::Wait(st.interval)
                }
            }
            Err(e) => PollStep::Done(Err(e)),
        }
    }

    fn poll_step_inner(&self, st: &mut PollState) -> Result<Option<TokenResponse>> {
        let clock = &self.config().base.clock;
        if let Some(c) = &st.cancel {
            c.check()?;
        }
        let now = clock.now();
        if now >= st.expires_at {
            return err(ErrorKind::ExpiredToken, format!("the authorization request expired after {} polls", st.polls));
        }
        if now > st.deadline {
            return err(ErrorKind::DeadlineExceeded, format!("deadline passed after {} polls", st.polls));
        }
        st.polls += 1;
        match self.token_request(st.params.clone()) {
            Ok(t) => {
                self.check_grant_id_token(&t, None)?;
                return Ok(Some(t));
            }
            Err(e) if e.kind() == ErrorKind::AuthorizationPending => {}
            Err(e) if e.kind() == ErrorKind::SlowDown => st.interval = (st.interval + SLOW_DOWN_STEP).min(MAX_POLL_INTERVAL),
            Err(e) => return Err(e),
        }
        let next = clock.now() + st.interval;
        if next > st.deadline {
            return err(
                ErrorKind::DeadlineExceeded,
                format!("still pending after {} polls; the next poll ({} s) would be past the deadline", st.polls, st.interval.as_secs()),
            );
        }
        if next >= st.expires_at {
            return err(ErrorKind::ExpiredToken, format!("the authorization request expires before the next poll ({} polls)", st.polls));
        }
        Ok(None)
    }

    /// CIBA backchannel authentication request (poll mode) at
    /// `backchannel_authentication_endpoint`. `params` carry `scope` (with `openid`), one of
    /// `login_hint` / `id_token_hint` / `login_hint_token`, `binding_message`, ...
    pub fn ciba_request(&self, params: &[(String, String)]) -> Result<BackchannelAuthentication> {
        self.ciba_request_raw(params).map(|(b, _)| b)
    }

    /// [`ciba_request`](Self::ciba_request), with the response as received (contains the
    /// `auth_req_id`: never log it).
    pub(crate) fn ciba_request_raw(&self, params: &[(String, String)]) -> Result<(BackchannelAuthentication, String)> {
        let resp = self.post_authenticated("backchannel_authentication_endpoint", params.to_vec())?;
        if !resp.is_json() {
            return err(ErrorKind::ResponseInvalid, "backchannel authentication response is not JSON");
        }
        let what = "backchannel authentication response";
        let m = json_object(&resp.body, what)?;
        let Some(expires_in) = m.get("expires_in").and_then(lifetime) else {
            return err(ErrorKind::ResponseMissingField, format!("{what} lacks expires_in"));
        };
        let b = BackchannelAuthentication {
            auth_req_id: Secret::new(required_str(&m, "auth_req_id", what)?),
            expires_in,
            interval: interval_of(&m),
            received_at: self.config().base.clock.now(),
        };
        Ok((b, String::from_utf8_lossy(&resp.body).into_owned()))
    }

    /// Poll for a CIBA request's tokens (same rules as [`poll_device_token`](Self::poll_device_token)).
    pub fn ciba_poll(&self, req: &BackchannelAuthentication, opts: &PollOptions) -> Result<TokenResponse> {
        self.poll_to_end(PollState::ciba(req, opts))
    }

    /// Token exchange (RFC 8693). `issued_token_type` is required in the response.
    pub fn token_exchange(&self, r: &TokenExchangeRequest) -> Result<TokenResponse> {
        if r.subject_token.is_empty() {
            return err(ErrorKind::InvalidArgument, "the subject token is empty");
        }
        let mut p = vec![
            param("grant_type", GRANT_TOKEN_EXCHANGE),
            param("subject_token", r.subject_token.expose()),
            param("subject_token_type", r.subject_token_type.as_deref().unwrap_or(TOKEN_TYPE_ACCESS_TOKEN)),
        ];
        if let Some(a) = &r.actor_token {
            p.push(param("actor_token", a.expose()));
            p.push(param("actor_token_type", r.actor_token_type.as_deref().unwrap_or(TOKEN_TYPE_ACCESS_TOKEN)));
        }
        push_opt(&mut p, "requested_token_type", r.requested_token_type.as_deref());
        for a in &r.audience {
            p.push(param("audience", a));
        }
        for res in &r.resources {
            p.push(param("resource", res));
        }
        push_opt(&mut p, "scope", r.scope.as_deref());
        p.extend(r.extra.iter().cloned());
        let t = self.token_request(p)?;
        if t.issued_token_type.is_none() {
            return err(ErrorKind::ResponseMissingField, "token exchange response lacks issued_token_type");
        }
        Ok(t)
    }

    /// JWT bearer grant (RFC 7523 §2.1) with a ready assertion.
    pub fn jwt_bearer(&self, assertion: &str, scope: Option<&str>, extra: &[(String, String)]) -> Result<TokenResponse> {
        if assertion.is_empty() {
            return err(ErrorKind::InvalidArgument, "the assertion is empty");
        }
        let mut p = vec![param("grant_type", GRANT_JWT_BEARER), param("assertion", assertion)];
        push_opt(&mut p, "scope", scope);
        p.extend(extra.iter().cloned());
        self.token_request(p)
    }

    /// An RFC 7523 §3 grant assertion signed with `key`: iss = client id, `sub`, aud = `audience`
    /// (default: the issuer), random jti, iat, exp 60 s later.
    pub fn jwt_bearer_assertion(&self, key: &SigningKey, subject: &str, audience: Option<&str>) -> Result<String> {
        if subject.is_empty() {
            return err(ErrorKind::InvalidArgument, "the assertion subject is empty");
        }
        let now = crate::core::client::unix_now() as u64;
        let claims = serde_json::json!({
            "iss": self.client_id(), "sub": subject,
            "aud": audience.unwrap_or(&self.config().base.issuer),
            "jti": random_b64(16), "iat": now, "exp": now + super::client::ASSERTION_LIFETIME_SECS,
        });
        let header = Map::from_iter([("typ".to_string(), Value::from("JWT"))]);
        key.sign(&header, &claims)
    }

    /// The client's own private key (from `private_key_jwt` or `auto` configuration).
    pub fn private_key(&self) -> Option<Arc<SigningKey>> {
        match &self.config().auth {
            super::client::ClientAuth::PrivateKeyJwt(k) => Some(k.clone()),
            super::client::ClientAuth::Auto { key, .. } => key.clone(),
            _ => None,
        }
    }

    /// Any grant: `grant_type` plus `params`, authenticated like every token request.
    pub fn custom_grant(&self, grant_type: &str, params: &[(String, String)]) -> Result<TokenResponse> {
        if grant_type.is_empty() {
            return err(ErrorKind::InvalidArgument, "the grant type is empty");
        }
        if params.iter().any(|(k, _)| k == "grant_type") {
            return Err(Error::new(ErrorKind::InvalidArgument, "params must not repeat grant_type"));
        }
        let mut p = vec![param("grant_type", grant_type)];
        p.extend(params.iter().cloned());
        self.token_request(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_rfc7636_appendix_b() {
        let s = AuthorizationSecrets::generate().unwrap();
        assert_eq!(s.code_verifier.expose().len(), 43);
        assert_eq!(s.code_challenge, super::super::pkce::challenge_s256(s.code_verifier.expose()));
        assert_ne!(s.state, s.nonce);
        assert!(!format!("{s:?}").contains(s.code_verifier.expose()));
        let t = AuthorizationSecrets::generate().unwrap();
        assert_ne!(s.code_verifier, t.code_verifier);
    }

    #[test]
    fn custom_parameters_go_with_every_poll() {
        // (they were accepted by add_param and then dropped: Keycloak's code_verifier on a device
        // poll of a PKCE-enforcing client never arrived; tests/c/test_keycloak.c sends it)
        let opts = PollOptions { deadline: Instant::now() + Duration::from_secs(60), cancel: None };
        let b = BackchannelAuthentication {
            auth_req_id: Secret::new("req-1"),
            expires_in: 60,
            interval: Duration::from_secs(5),
            received_at: Instant::now(),
        };
        let st = PollState::ciba(&b, &opts).with_params(&[("code_verifier".into(), "v-1".into())]);
        assert_eq!(st.params.last(), Some(&("code_verifier".to_string(), "v-1".to_string())));
        assert_eq!(st.params[0].0, "grant_type");
    }
}
