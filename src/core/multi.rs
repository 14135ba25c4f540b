//! Several issuers in one validator (issue 12).
//!
//! The token's unverified `iss` only picks the candidate issuer: an exact match over a small
//! table (a byte comparison per entry, no hashing), then a template match. Everything else —
//! header rules, keys, signature, audiences, algorithms, `typ`, required claims, the
//! verified-token cache — is the chosen issuer's own [`Client`], built from that issuer's own
//! configuration. A token is therefore never verified with another issuer's keys, and a token
//! naming an issuer that is not configured is refused before any key lookup (no network).
//!
//! A template (`https://login.example.com/{tenant}/v2.0`) admits tenants from an explicit
//! allow-list or, explicitly, any well-formed tenant; each tenant gets its own client (its own
//! discovery and keys) in a bounded LRU map. New tenants are admitted at most
//! `new_per_window` per window and `max_in_flight` at once, so made-up tenants cost a bounded
//! number of discovery requests; a tenant whose discovery failed stays in the map with its
//! failure (a negative entry answered from memory until its retry backoff ends).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use super::client::Client;
use super::config::{Config, IssuerConfig, TENANT_PLACEHOLDER, Tenants, is_tenant};
use super::error::{Error, ErrorKind, Result, err};
use super::json::{RawObject, Scalar, b64url_decode, b64url_decode_to_slice, scalar};
use super::validate::Validated;

/// The issuer table of a multi-issuer validator.
pub struct Router {
    /// Exact issuers, in configuration order.
    exact: Box<[(Box<str>, Client)]>,
    templates: Box<[Template]>,
    /// Parses a token whose `iss` cannot be read, for the precise structural error (no keys).
    structural: super::validate::Policy,
    /// Which exact issuer accepted a token lately, keyed by a hash of the token's last 16 bytes
    /// (signature bytes): a hint that spares reading `iss` for a repeated token. Written only
    /// after the issuer's client accepted the token. A hint is never trusted: the hinted
    /// client decides in full (an accepting client has checked `iss` equals its issuer), and a
    /// refusal after a hint falls back to the routing by `iss`.
    memo: Box<[AtomicU64]>,
}

const MEMO_SLOTS: usize = 1024;

/// A 64-bit mix of the token's last 16 bytes (its signature's tail: high entropy).
fn memo_hash(token: &[u8]) -> u64 {
    let tail = &token[token.len().saturating_sub(16)..];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ token.len() as u64;
    for &b in tail {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (h >> 29)
}

struct Template {
    cfg: IssuerConfig,
    base: Config,
    prefix: String,
    suffix: String,
    tenants: Mutex<TenantMap>,
    in_flight: AtomicU32,
    /// New tenants refused by the bounds (for tests and operators).
    refused: AtomicU64,
}

struct TenantMap {
    map: HashMap<String, (Client, u64)>,
    tick: u64,
    window_start: Option<Instant>,
    window_count: u32,
}

/// Which issuer a token was routed to, and why (explain mode and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Exact issuer number `n` of the table.
    Exact(usize),
    /// Template number `n`, tenant `t`.
    Template(usize, String),
}

impl Router {
    /// Build the table: the base issuer (when set) first, then every added issuer. Every
    /// configuration problem surfaces here.
    pub fn new(base: &Config) -> Result<Router> {
        if base.issuers.len() > super::config::MAX_ISSUERS {
            return err(ErrorKind::InvalidConfig, "too many issuers (at most 64)");
        }
        let mut exact: Vec<(Box<str>, Client)> = Vec::new();
        let mut templates = Vec::new();
        let mut single = base.clone();
        single.issuers = Vec::new();
        if !base.issuer.is_empty() {
            exact.push((base.issuer.clone().into_boxed_str(), Client::new(single.clone())?));
        }
        for (i, ic) in base.issuers.iter().enumerate() {
            ic.check().map_err(|e| Error::new(e.kind(), format!("issuer {}: {}", i + 1, e.message())))?;
            let dup = exact.iter().any(|(x, _)| **x == *ic.issuer) || templates.iter().any(|t: &Template| t.cfg.issuer == ic.issuer);
            if dup {
                return err(ErrorKind::InvalidConfig, format!("issuer {} is configured twice", i + 1));
            }
            if ic.is_template() {
                let (prefix, suffix) = ic.issuer.split_once(TENANT_PLACEHOLDER).expect("a template holds {tenant}");
                // Check the derived configuration once, with a sample tenant.
                let sample = ic.derive(&single, &format!("{prefix}tenant{suffix}"));
                sample.check().map_err(|e| Error::new(e.kind(), format!("issuer {}: {}", i + 1, e.message())))?;
                templates.push(Template {
                    cfg: ic.clone(),
                    base: single.clone(),
                    prefix: prefix.to_string(),
                    suffix: suffix.to_string(),
                    tenants: Mutex::new(TenantMap { map: HashMap::new(), tick: 0, window_start: None, window_count: 0 }),
                    in_flight: AtomicU32::new(0),
                    refused: AtomicU64::new(0),
                });
            } else {
                let c = Client::new(ic.derive(&single, &ic.issuer))
                    .map_err(|e| Error::new(e.kind(), format!("issuer {}: {}", i + 1, e.message())))?;
                exact.push((ic.issuer.clone().into_boxed_str(), c));
            }
        }
        if exact.is_empty() && templates.is_empty() {
            return err(ErrorKind::InvalidConfig, "the issuer is empty");
        }
        let structural = super::validate::Policy::from_config(&single);
        if exact.len() > 250 {
            return err(ErrorKind::InvalidConfig, "too many issuers");
        }
        let memo = (0..MEMO_SLOTS).map(|_| AtomicU64::new(0)).collect();
        Ok(Router { exact: exact.into_boxed_slice(), templates: templates.into_boxed_slice(), structural, memo })
    }

    /// The exact issuers' clients, in table order.
    pub fn exact_clients(&self) -> impl Iterator<Item = &Client> {
        self.exact.iter().map(|(_, c)| c)
    }

    /// Validate through the issuer the token names.
    pub fn validate_at(&self, token: &str, now: f64) -> Result<Validated> {
        let h = memo_hash(token.as_bytes());
        let slot = &self.memo[(h as usize) % MEMO_SLOTS];
        let m = slot.load(Ordering::Relaxed);
        let hinted = if m & !0xff == h & !0xff && m & 0xff != 0 { Some((m & 0xff) as usize - 1) } else { None };
        if let Some(i) = hinted.filter(|i| *i < self.exact.len()) {
            match self.exact[i].1.validate_at(token, now) {
                Ok(v) => return Ok(v),
                // The token names this issuer after all (say, it expired since): that answer.
                Err(e) if matches!(self.route(token), Ok((Choice::Exact(j), _)) if j == i) => return Err(e),
                Err(_) => {}
            }
        }
        let r = self.route_and_validate(token, now);
        if let Ok((_, Some(i))) = &r {
            slot.store((h & !0xff) | (*i as u64 + 1), Ordering::Relaxed);
        }
        r.map(|(v, _)| v)
    }

    /// Route by `iss` and validate; also the exact entry that accepted (for the hint).
    fn route_and_validate(&self, token: &str, now: f64) -> Result<(Validated, Option<usize>)> {
        // Refusals before an issuer is chosen are counted here; the chosen client counts its own.
        let chosen = self.route(token);
        let chosen = chosen.inspect_err(|e| super::metrics::validation(Err(e.kind())))?;
        match chosen {
            (Choice::Exact(i), _) => self.exact[i].1.validate_at(token, now).map(|v| (v, Some(i))),
            (Choice::Template(i, tenant), client) => {
                let t = &self.templates[i];
                let client = client.expect("a template choice carries its tenant client");
                let v = client.validate_at(token, now)?;
                check_tenant_claim(&v.claims, &t.cfg.tenant_claim, &tenant)?;
                Ok((v, None))
            }
        }
    }

    /// Route a token: read its unverified `iss` (without copying it) and choose. A token whose
    /// `iss` cannot be read gets the structural error a single-issuer validator gives (parsed
    /// without keys: no network).
    fn route(&self, token: &str) -> Result<(Choice, Option<Client>)> {
        if token.len() > self.structural.max_token_bytes {
            return err(
                ErrorKind::TokenTooLarge,
                format!("token is {} bytes; the limit is {}", token.len(), self.structural.max_token_bytes),
            );
        }
        match with_iss(token, |iss| self.choose(iss)) {
            Some(Ok(chosen)) => chosen,
            other => {
                // The header and structure first, as a single issuer would answer.
                super::validate::parse_token(token, &self.structural)?;
                match other {
                    Some(Err(e)) => Err(e),
                    // The structure is sound but the payload is not one JSON object (a duplicate
                    // member, say): what a single issuer answers for the claims.
                    _ => err(ErrorKind::TokenMalformed, "claims: the payload is not a readable JSON object"),
                }
            }
        }
    }

    /// The tenant claim of template `i` (explain mode).
    pub fn tenant_claim(&self, i: usize) -> &str {
        self.templates.get(i).map(|t| t.cfg.tenant_claim.as_str()).unwrap_or("tid")
    }

    /// The client of an exact choice (explain mode).
    pub fn exact_client(&self, i: usize) -> Option<&Client> {
        self.exact.get(i).map(|(_, c)| c)
    }

    /// Pick the issuer for `iss`; for a template also its tenant client (admitted within the
    /// bounds). An issuer not configured is `IssuerMismatch`, with no network request.
    pub fn choose(&self, iss: &str) -> Result<(Choice, Option<Client>)> {
        for (i, (name, _)) in self.exact.iter().enumerate() {
            if **name == *iss {
                return Ok((Choice::Exact(i), None));
            }
        }
        for (i, t) in self.templates.iter().enumerate() {
            let Some(tenant) = iss.strip_prefix(t.prefix.as_str()).and_then(|r| r.strip_suffix(t.suffix.as_str())) else {
                continue;
            };
            if !is_tenant(tenant) {
                return err(ErrorKind::IssuerMismatch, "the tenant in the token issuer is not 1 to 64 characters of A-Z a-z 0-9 - _");
            }
            if let Some(Tenants::AllowList(l)) = &t.cfg.tenants {
                if !l.iter().any(|x| x == tenant) {
                    return err(ErrorKind::IssuerMismatch, "the tenant in the token issuer is not an allowed tenant");
                }
            }
            let c = t.tenant_client(tenant, iss)?;
            return Ok((Choice::Template(i, tenant.to_string()), Some(c)));
        }
        err(ErrorKind::IssuerMismatch, "token issuer is not one of the configured issuers")
    }

    /// New tenants refused by the bounds of template `i` (tests, operators).
    pub fn tenants_refused(&self, i: usize) -> u64 {
        self.templates.get(i).map(|t| t.refused.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Tenants currently held by template `i`.
    pub fn tenants_held(&self, i: usize) -> usize {
        self.templates.get(i).map(|t| t.tenants.lock().map.len()).unwrap_or(0)
    }

    /// Discovery requests made for the tenants template `i` holds now.
    pub fn tenant_discovery_fetches(&self, i: usize) -> u64 {
        self.templates.get(i).map(|t| t.tenants.lock().map.values().map(|(c, _)| c.discovery_fetches()).sum()).unwrap_or(0)
    }

    /// Every issuer client: the exact issuers and the tenants held (operator calls).
    pub fn all_clients(&self) -> Vec<Client> {
        let mut v: Vec<Client> = self.exact_clients().cloned().collect();
        for t in self.templates.iter() {
            v.extend(t.tenants.lock().map.values().map(|(c, _)| c.clone()));
        }
        v
    }

    /// Prefetch every exact issuer (templates are fetched per tenant, on first use).
    pub fn prefetch(&self) -> Result<()> {
        for (_, c) in self.exact.iter() {
            c.prefetch()?;
        }
        Ok(())
    }
}

impl Template {
    /// The client of `tenant`, created within the bounds.
    fn tenant_client(&self, tenant: &str, iss: &str) -> Result<Client> {
        let now = self.base.clock.now();
        let mut m = self.tenants.lock();
        m.tick += 1;
        let tick = m.tick;
        if let Some((c, used)) = m.map.get_mut(tenant) {
            *used = tick;
            return Ok(c.clone());
        }
        let b = self.cfg.tenant_bounds;
        let refuse = |msg: &str| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            Err(Error::new(ErrorKind::KeysUnavailable, msg.to_string()))
        };
        match m.window_start {
            Some(s) if now < s + b.window => {}
            _ => {
                m.window_start = Some(now);
                m.window_count = 0;
            }
        }
        if m.window_count >= b.new_per_window {
            return refuse("too many new tenants of this issuer template in the current window; retry later");
        }
        if self.in_flight.load(Ordering::Acquire) >= b.max_in_flight {
            return refuse("too many new tenants of this issuer template being fetched at once; retry later");
        }
        let mut cfg = self.cfg.derive(&self.base, iss);
        // Per-tenant verified-token caches stay small: the tenant map bounds their number.
        cfg.token_cache_size = cfg.token_cache_size.min(256);
        let client = Client::new(cfg)?;
        if m.map.len() >= b.max_tenants {
            if let Some(oldest) = m.map.iter().min_by_key(|(_, (_, u))| *u).map(|(k, _)| k.clone()) {
                m.map.remove(&oldest);
            }
        }
        m.window_count += 1;
        m.map.insert(tenant.to_string(), (client.clone(), tick));
        drop(m);
        // The first fetch of a new tenant counts as in flight until it ends.
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let r = client.prefetch();
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        // A failure stays recorded in the tenant's client (negative entry with backoff); the
        // validation that follows answers it from there.
        let _ = r;
        Ok(client)
    }
}

/// The tenant claim must equal the tenant in `iss`.
fn check_tenant_claim(claims: &str, name: &str, tenant: &str) -> Result<()> {
    let obj = RawObject::parse(claims).map_err(|e| Error::new(ErrorKind::TokenMalformed, format!("claims: {e}")))?;
    match obj.get(name).map(scalar) {
        Some(Scalar::Str(t)) if t == tenant => Ok(()),
        Some(Scalar::Str(_)) => err(
            ErrorKind::IssuerMismatch,
            format!("the tenant claim '{}' does not match the tenant in the token issuer", super::json::printable(name)),
        ),
        None | Some(Scalar::Null) => err(ErrorKind::MissingClaim, format!("token has no tenant claim '{}'", super::json::printable(name))),
        Some(_) => err(ErrorKind::InvalidClaim, format!("claim '{}' is not a string", super::json::printable(name))),
    }
}

/// `f` of the unverified `iss` of a compact JWS: `None` when the payload cannot be read (the caller
/// then reports the structural error), `Some(Err)` when `iss` is absent or not a string.
fn with_iss<R>(token: &str, f: impl FnOnce(&str) -> R) -> Option<Result<R>> {
    let b = token.as_bytes();
    let d1 = memchr::memchr(b'.', b)?;
    let d2 = memchr::memchr(b'.', &b[d1 + 1..])? + d1 + 1;
    let p = &b[d1 + 1..d2];
    let mut stack = [0u8; 1024];
    let heap;
    let payload: &[u8] = match b64url_decode_to_slice(p, &mut stack) {
        Some(r) => r.ok()?,
        None => {
            heap = b64url_decode(p).ok()?;
            &heap
        }
    };
    let s = std::str::from_utf8(payload).ok()?;
    let obj = RawObject::parse(s).ok()?;
    Some(match obj.get("iss").map(scalar) {
        Some(Scalar::Str(i)) => Ok(f(&i)),
        None | Some(Scalar::Null) => err(ErrorKind::MissingClaim, "token has no iss claim"),
        Some(_) => err(ErrorKind::InvalidClaim, "claim iss is not a string"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_iss_cases() {
        let enc = |s: &str| super::super::json::b64url_encode(s.as_bytes());
        let t = |p: &str| format!("{}.{}.sig", enc(r#"{"alg":"RS256"}"#), enc(p));
        let read_iss = |t: &str| with_iss(t, |i| i.to_string());
        assert_eq!(read_iss(&t(r#"{"iss":"https://a"}"#)).unwrap().unwrap(), "https://a");
        assert_eq!(read_iss(&t(r#"{"iss":"https:\/\/a"}"#)).unwrap().unwrap(), "https://a", "escapes decoded");
        assert_eq!(read_iss(&t(r#"{"iss":7}"#)).unwrap().unwrap_err().kind(), ErrorKind::InvalidClaim);
        assert_eq!(read_iss(&t(r#"{"sub":"x"}"#)).unwrap().unwrap_err().kind(), ErrorKind::MissingClaim);
        assert!(read_iss("nodots").is_none());
        assert!(read_iss("a.!!.c").is_none());
    }

    #[test]
    fn template_checks() {
        let mut ic = IssuerConfig::new("https://login.example.com/{tenant}/v2.0");
        assert_eq!(ic.check().unwrap_err().kind(), ErrorKind::InvalidConfig, "no tenant choice by default");
        ic.tenants = Some(Tenants::AllowList(vec!["bad/tenant".into()]));
        assert!(ic.check().is_err());
        ic.tenants = Some(Tenants::AllowList(vec!["t1".into()]));
        assert!(ic.check().is_ok());
        ic.tenants = Some(Tenants::Any);
        assert!(ic.check().is_ok());
        let mut e = IssuerConfig::new("https://a.example");
        e.tenants = Some(Tenants::Any);
        assert!(e.check().is_err(), "tenants on an exact issuer");
        assert!(IssuerConfig::new("https://x/{tenant}/{tenant}").check().is_err());
        assert!(!is_tenant("../x") && !is_tenant("") && !is_tenant(&"a".repeat(65)) && is_tenant("72f988bf-86f1-41af"));
    }
}
