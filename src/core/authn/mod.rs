//! Request authentication: the whole resource-server decision about one HTTP request, made once,
//! here, for every language.
//!
//! Input is what a host has (the `Authorization` and `DPoP` header values, the method, the
//! absolute URL, the client certificate of an mTLS connection); output is a [`Decision`]: allow,
//! with the principal's claims and the token type, or deny, with the precise error, the HTTP
//! status, the RFC 6750 / RFC 9449 error code and the `WWW-Authenticate` challenges to send.
//!
//! Order of checks (each failure is final): the `Authorization` header (RFC 6750 §2.1); for the
//! DPoP scheme the proof (RFC 9449 §4.3: structure, header, signature, htm, htu, iat, ath) and
//! the server nonce; the access token (the client's validation policy, through the verified-token
//! cache); the token's binding (`cnf.jkt` to the proof key, `cnf.x5t#S256` to the certificate,
//! the scheme fitting the binding); the resource's scope and claim-value rules; last, the proof's
//! `jti` is recorded (so only a request that would be allowed consumes it) and checked against
//! replays (process-wide cache, then the host's shared store).

pub mod challenge;
pub mod dpop;
pub mod header;
pub mod nonce;
pub mod replay;
pub mod scope;

use std::fmt;

use super::client::{Client, unix_now};
use super::error::{Error, ErrorKind, Result, err};
use super::json::{RawObject, b64url_encode};
use super::validate::{Cnf, Validated};
pub use header::Scheme;

/// Largest `DPoP` header value examined.
pub const MAX_DPOP_PROOF_BYTES: usize = 8 * 1024;
/// Largest client certificate accepted (DER).
pub const MAX_CERT_BYTES: usize = 64 * 1024;

/// What the host knows of one HTTP request. `Debug` never prints header values.
#[derive(Clone, Default)]
pub struct RequestInput {
    /// Every `Authorization` field value, one entry per header line, as received (bytes).
    pub authorization: Vec<Vec<u8>>,
    /// Every `DPoP` field value.
    pub dpop: Vec<Vec<u8>>,
    /// The request method (`GET`, `POST`, ...), as received.
    pub method: String,
    /// The absolute request URL the client addressed (`https://api.example.com/v1/x?y=1`).
    pub url: String,
    /// The client certificate of an mTLS connection (DER).
    pub client_cert_der: Option<Vec<u8>>,
    /// "Now" in Unix seconds for reproducible decisions; the clock otherwise.
    pub now: Option<f64>,
}

impl RequestInput {
    /// The host's part of the input: a method and an absolute http(s) URL are set. A failure is a
    /// misuse by the host (`InvalidArgument`), not a fault of the request; the non-blocking
    /// transport checks it before queueing, so misuse is answered by the call itself. What the
    /// client controls inside them (a method that is not a token, a `Host` that makes the URL
    /// unparseable) is the request's fault: a 400 `REQUEST_MALFORMED` decision.
    pub fn check(&self) -> Result<()> {
        if self.method.is_empty() {
            return err(ErrorKind::InvalidArgument, "the request method is not set (GET, POST, ...)");
        }
        // The scheme before the first "://" must be http or https, any case (a byte comparison:
        // no substring search on the hot path).
        let u = self.url.as_bytes();
        let http = |n: usize, s: &[u8]| u.len() >= n && u[..n].eq_ignore_ascii_case(s);
        if !http(8, b"https://") && !http(7, b"http://") {
            return err(ErrorKind::InvalidArgument, "the request URL must be absolute: scheme://host/path as the client addressed it");
        }
        Ok(())
    }
}

impl fmt::Debug for RequestInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInput")
            .field("authorization", &format_args!("<{} value(s)>", self.authorization.len()))
            .field("dpop", &format_args!("<{} value(s)>", self.dpop.len()))
            .field("method", &self.method)
            .field("url", &super::url::redact(&self.url))
            .field("client_cert_der", &self.client_cert_der.as_ref().map(|c| c.len()))
            .field("now", &self.now)
            .finish()
    }
}

/// An authenticated request's principal.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The access token's claims, exactly as signed (a JSON object).
    pub claims: String,
    /// The scheme the token came with (`DPoP` for a DPoP-bound token).
    pub token_type: Scheme,
    pub exp: f64,
}

/// The decision about one request.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Allow with the principal, or deny with the precise error.
    pub outcome: std::result::Result<Principal, Error>,
    /// The HTTP status to answer a denial with (400, 401, 403, 503, 500); 200 when allowed.
    pub status: u16,
    /// The `WWW-Authenticate` values to send (one header line each), empty when allowed.
    pub challenges: Vec<String>,
    /// A `DPoP-Nonce` value to send (server nonces on, and the proof had no current nonce).
    pub dpop_nonce: Option<String>,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.outcome.is_ok()
    }
    /// The RFC 6750 / RFC 9449 error code of a denial (`invalid_token`, `invalid_request`,
    /// `insufficient_scope`, `invalid_dpop_proof`, `use_dpop_nonce`), if it has one.
    pub fn error_code(&self) -> Option<&'static str> {
        self.outcome.as_ref().err().and_then(|e| e.kind().resource_error())
    }
}

/// RFC 9110 method token: 1*tchar.
fn is_method(m: &str) -> bool {
    !m.is_empty() && m.len() <= 32 && m.bytes().all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// A denial in progress: the error and, for 403 `insufficient_scope`, the missing scopes.
struct Deny {
    error: Error,
    missing: Vec<String>,
}

impl From<Error> for Deny {
    fn from(error: Error) -> Deny {
        Deny { error, missing: Vec::new() }
    }
}

impl Client {
    /// Decide about one request. `Err` only for a misuse by the host (no method, a URL that is
    /// not absolute http(s)); every fault of the request itself is a denying [`Decision`].
    pub fn authenticate(&self, req: &RequestInput) -> Result<Decision> {
        req.check()?;
        let now = req.now.unwrap_or_else(unix_now);
        let cfg = self.config();
        let dcfg = &cfg.resource.dpop;
        let mut used = None;
        let mut proof_nonce_current = false;
        let outcome = self.decide(req, now, &mut used, &mut proof_nonce_current);
        let nonce_offered = super::authn::challenge::is_offered(dcfg, Scheme::DPoP) && used != Some(Scheme::Bearer);
        let dpop_nonce = match &dcfg.nonce_secret {
            Some(secret) if nonce_offered && !proof_nonce_current => Some(nonce::issue(&secret.0, dcfg.nonce_lifetime.as_secs(), now)),
            _ => None,
        };
        Ok(match outcome {
            Ok(p) => Decision { outcome: Ok(p), status: 200, challenges: Vec::new(), dpop_nonce },
            Err(d) => {
                let status = d.error.kind().http_status();
                let challenges = challenge::challenges(cfg.realm.as_deref(), dcfg, used, &d.error, &d.missing);
                super::log::emit(super::log::Level::Debug, "oidc::authn", || format!("request denied ({status}): {}", d.error.message()));
                Decision { outcome: Err(d.error), status, challenges, dpop_nonce }
            }
        })
    }

    fn decide(
        &self,
        req: &RequestInput,
        now: f64,
        used: &mut Option<Scheme>,
        nonce_current: &mut bool,
    ) -> std::result::Result<Principal, Deny> {
        let cfg = self.config();
        let rp = &cfg.resource;
        if !is_method(&req.method) {
            return Err(Error::new(ErrorKind::RequestMalformed, "the request method is not an HTTP method token").into());
        }
        if !dpop::is_htu_url(&req.url) {
            return Err(Error::new(ErrorKind::RequestMalformed, "the request URL is not a well-formed absolute http(s) URL").into());
        }
        let creds = header::parse_authorization(&req.authorization, cfg.max_token_bytes).inspect_err(|_| {
            // Malformed credentials in a known scheme: the error goes on that scheme's challenge.
            *used = header::scheme_hint(&req.authorization);
        })?;
        let (scheme, token) = match creds {
            header::Credentials::Token(s, t) if challenge::is_offered(&rp.dpop, s) => (s, t),
            _ => return Err(Error::new(ErrorKind::TokenMissing, "the request has no access token in an accepted scheme").into()),
        };
        *used = Some(scheme);

        let proof = if scheme == Scheme::DPoP {
            let value = match req.dpop.as_slice() {
                [v] => v,
                [] => return Err(Error::new(ErrorKind::DpopProofInvalid, "the DPoP scheme needs a DPoP proof header").into()),
                _ => return Err(Error::new(ErrorKind::DpopProofInvalid, "the request has more than one DPoP header").into()),
            };
            let p = dpop::verify_proof(
                &dpop::ProofRequest { proof: value, method: &req.method, url: &req.url, access_token: token },
                &rp.dpop,
                cfg.leeway.as_secs_f64(),
                now,
            )?;
            if let Some(secret) = &rp.dpop.nonce_secret {
                let state = match &p.nonce {
                    Some(n) => nonce::check(&secret.0, rp.dpop.nonce_lifetime.as_secs(), n, now),
                    None => nonce::NonceState::Invalid,
                };
                match state {
                    nonce::NonceState::Current => *nonce_current = true,
                    nonce::NonceState::Previous => {}
                    nonce::NonceState::Invalid => {
                        return Err(Error::new(ErrorKind::DpopNonceRequired, "the DPoP proof lacks a current server nonce").into());
                    }
                }
            }
            Some(p)
        } else {
            None
        };

        let v: Validated = self.validate_at(token, now)?;
        check_binding(&v.cnf, scheme, proof.as_ref(), req.client_cert_der.as_deref(), rp.require_mtls)?;

        if !rp.required_scopes.is_empty() || !rp.claim_values.is_empty() {
            let obj = RawObject::parse(&v.claims).map_err(|e| Error::new(ErrorKind::TokenMalformed, format!("claims: {e}")))?;
            let missing = scope::missing_scopes(&obj, &rp.required_scopes)?;
            if !missing.is_empty() {
                return Err(Deny {
                    error: Error::new(ErrorKind::InsufficientScope, format!("the access token lacks the scope(s) {}", missing.join(" "))),
                    missing,
                });
            }
            scope::check_claim_values(&obj, &rp.claim_values)?;
        }

        if let Some(p) = &proof {
            let horizon = p.iat + rp.dpop.proof_window.as_secs_f64() + cfg.leeway.as_secs_f64();
            let ttl = (horizon - now).ceil().clamp(1.0, 24.0 * 3600.0) as u64;
            // The replay cache is partitioned per issuer: with several issuers, the issuer that
            // accepted this token (its `iss`, checked equal to that issuer's name by now).
            let chosen;
            let issuer = if self.is_multi_issuer() {
                chosen = verified_issuer(&v.claims)?;
                chosen.as_ref()
            } else {
                cfg.issuer.as_str()
            };
            replay::check_and_record(issuer, &p.jti, ttl, now, rp.dpop.replay_store.as_deref())?;
        }
        Ok(Principal { claims: v.claims, token_type: scheme, exp: v.exp })
    }
}

/// The `iss` of claims a validation accepted (a multi-issuer validator's chosen issuer).
fn verified_issuer(claims: &str) -> Result<std::borrow::Cow<'_, str>> {
    let obj = RawObject::parse(claims).map_err(|e| Error::new(ErrorKind::TokenMalformed, format!("claims: {e}")))?;
    match obj.get("iss").map(crate::core::json::scalar) {
        Some(crate::core::json::Scalar::Str(s)) => Ok(s),
        _ => Err(Error::new(ErrorKind::TokenMalformed, "the token has no string iss")),
    }
}

/// The token's binding against what the request presented.
fn check_binding(cnf: &Cnf, scheme: Scheme, proof: Option<&dpop::VerifiedProof>, cert: Option<&[u8]>, require_mtls: bool) -> Result<()> {
    let mismatch = |m: &str| err(ErrorKind::TokenBindingMismatch, m);
    match (scheme, &cnf.jkt) {
        (Scheme::Bearer, Some(_)) => return mismatch("a DPoP-bound token was sent with the Bearer scheme"),
        (Scheme::DPoP, None) => return mismatch("the DPoP scheme was used with a token that is not DPoP-bound (no cnf.jkt)"),
        (Scheme::DPoP, Some(jkt)) => {
            let p = proof.expect("a DPoP-scheme request has a verified proof");
            if !constant_time_eq(jkt.as_bytes(), p.jkt.as_bytes()) {
                return mismatch("the DPoP proof key is not the key the token is bound to (cnf.jkt)");
            }
        }
        (Scheme::Bearer, None) => {}
    }
    match (&cnf.x5t_s256, cert) {
        (Some(_), None) => mismatch("the token is bound to a client certificate (cnf.x5t#S256) and the request has none"),
        (Some(x5t), Some(der)) => {
            if der.len() > MAX_CERT_BYTES {
                return mismatch("the client certificate is larger than 64 KiB");
            }
            let h = b64url_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref());
            if constant_time_eq(h.as_bytes(), x5t.as_bytes()) {
                Ok(())
            } else {
                mismatch("the client certificate is not the one the token is bound to (cnf.x5t#S256)")
            }
        }
        (None, _) if require_mtls => mismatch("this resource accepts certificate-bound tokens only (no cnf.x5t#S256)"),
        (None, _) => Ok(()),
    }
}

/// Comparison whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Client {
    /// Explain mode for a request (issue 12): every rule of [`Client::authenticate`] with its
    /// outcome as JSON - credentials, the DPoP proof and nonce, the token (the full token
    /// explanation of [`Client::explain_at`], nested), the binding, each required scope and each
    /// claim-value rule - not only the first failure. No side effect: the proof's `jti` is not
    /// recorded (the replay check is listed as skipped). Holds nothing secret: scope names and
    /// claim-rule names are configuration; from the request only the scheme.
    pub fn explain_request(&self, req: &RequestInput) -> Result<String> {
        use serde_json::{Value, json};
        req.check()?;
        let now = req.now.unwrap_or_else(unix_now);
        let cfg = self.config();
        let rp = &cfg.resource;
        let mut checks: Vec<Value> = Vec::new();
        let mut first: Option<ErrorKind> = None;
        fn push(checks: &mut Vec<Value>, first: &mut Option<ErrorKind>, name: String, r: Result<()>) {
            checks.push(match r {
                Ok(()) => json!({"check": name, "outcome": "pass"}),
                Err(e) => {
                    first.get_or_insert(e.kind());
                    json!({"check": name, "outcome": "fail", "kind": format!("{:?}", e.kind()), "message": e.message()})
                }
            });
        }
        macro_rules! add {
            ($name:expr, $r:expr $(,)?) => {{
                let r = $r;
                push(&mut checks, &mut first, $name, r)
            }};
        }
        let creds = header::parse_authorization(&req.authorization, cfg.max_token_bytes);
        let (scheme, token) = match creds {
            Ok(header::Credentials::Token(s, t)) if challenge::is_offered(&rp.dpop, s) => {
                add!("credentials".into(), Ok(()));
                (Some(s), Some(t))
            }
            Ok(_) => {
                add!("credentials".into(), err(ErrorKind::TokenMissing, "the request has no access token in an accepted scheme"));
                (None, None)
            }
            Err(e) => {
                add!("credentials".into(), Err(e));
                (None, None)
            }
        };
        let mut proof = None;
        if scheme == Some(Scheme::DPoP) {
            let t = token.unwrap_or_default();
            let r = match req.dpop.as_slice() {
                [v] => dpop::verify_proof(
                    &dpop::ProofRequest { proof: v, method: &req.method, url: &req.url, access_token: t },
                    &rp.dpop,
                    cfg.leeway.as_secs_f64(),
                    now,
                ),
                [] => err(ErrorKind::DpopProofInvalid, "the DPoP scheme needs a DPoP proof header"),
                _ => err(ErrorKind::DpopProofInvalid, "the request has more than one DPoP header"),
            };
            match r {
                Ok(p) => {
                    add!("dpop proof".into(), Ok(()));
                    if let Some(secret) = &rp.dpop.nonce_secret {
                        let ok = p.nonce.as_deref().map(|n| nonce::check(&secret.0, rp.dpop.nonce_lifetime.as_secs(), n, now));
                        add!(
                            "dpop nonce".into(),
                            match ok {
                                Some(nonce::NonceState::Current | nonce::NonceState::Previous) => Ok(()),
                                _ => err(ErrorKind::DpopNonceRequired, "the DPoP proof lacks a current server nonce"),
                            },
                        );
                    }
                    proof = Some(p);
                }
                Err(e) => add!("dpop proof".into(), Err(e)),
            }
        }
        let mut token_doc = Value::Null;
        if let (Some(s), Some(t)) = (scheme, token) {
            token_doc = serde_json::from_str(&self.explain_at(t, now)).unwrap_or(Value::Null);
            match self.validate_at(t, now) {
                Ok(v) => {
                    add!("token".into(), Ok(()));
                    if s == Scheme::DPoP && proof.is_none() {
                        checks.push(json!({"check": "binding", "outcome": "skipped", "message": "the DPoP proof did not verify"}));
                    } else {
                        add!("binding".into(), check_binding(&v.cnf, s, proof.as_ref(), req.client_cert_der.as_deref(), rp.require_mtls));
                    }
                    match RawObject::parse(&v.claims) {
                        Ok(obj) => {
                            for sc in &rp.required_scopes {
                                let r = match scope::missing_scopes(&obj, std::slice::from_ref(sc)) {
                                    Ok(m) if m.is_empty() => Ok(()),
                                    Ok(_) => err(ErrorKind::InsufficientScope, "the access token lacks this scope"),
                                    Err(e) => Err(e),
                                };
                                add!(format!("required scope {sc}"), r);
                            }
                            for rule in &rp.claim_values {
                                add!(
                                    format!("claim value {}", super::json::printable(&rule.0)),
                                    scope::check_claim_values(&obj, std::slice::from_ref(rule)),
                                );
                            }
                        }
                        Err(e) => add!("claims".into(), err(ErrorKind::TokenMalformed, format!("claims: {e}"))),
                    }
                }
                Err(e) => add!("token".into(), Err(e)),
            }
        }
        if proof.is_some() {
            checks.push(json!({"check": "dpop replay", "outcome": "skipped", "message": "explain mode does not record the proof's jti"}));
        }
        Ok(json!({
            "decision": if first.is_none() && token.is_some() { "allow" } else { "deny" },
            "code": first.map(|k| format!("{k:?}")),
            "scheme": scheme.map(|s| format!("{s:?}")),
            "checks": checks,
            "token": token_doc,
        })
        .to_string())
    }
}
