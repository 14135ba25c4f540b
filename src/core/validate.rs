//! The token policy: compact JWS parsing, header rules and claim checks.
//!
//! Order of checks: size, structure (three strict base64url segments), header (JSON object,
//! unique members, `alg` allowed, `crit`, `typ`), then — in the client — key lookup and the
//! signature, and only for an authentic token the claims (`iss`, `aud`, `exp`, `nbf`, `iat`,
//! required claims). So no claim-based answer is ever given for a forged token.

use std::borrow::Cow;

use super::config::{AlgSet, Algorithm, Config};
use super::error::{Error, ErrorKind, Result, err};
use super::json::{RawObject, Scalar, b64url_decode, b64url_decode_to_slice, scalar};
use serde_json::value::RawValue;

/// The parts of a client's configuration that decide a token.
#[derive(Debug, Clone)]
pub struct Policy {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub any_audience: bool,
    pub algorithms: AlgSet,
    pub leeway_secs: f64,
    pub required_claims: Vec<String>,
    /// Normalized (lower case, without `application/`).
    pub expected_typ: Option<String>,
    pub max_token_bytes: usize,
    /// Whether `exp` is required (true for every token policy of a client; signed endpoint
    /// responses such as RFC 9701 introspection JWTs may lack it).
    pub require_exp: bool,
    /// Whether this path takes back-channel logout tokens. False on every path but the logout
    /// one (`oauth::logout`): a token typed `logout+jwt`, or whose `events` claim holds the
    /// back-channel-logout event, is then refused (`TYPE_MISMATCH`), so a logout token is never
    /// taken for an access token, an ID token or a signed endpoint response.
    pub logout_token: bool,
    /// Whether a five-segment token (JWE) is decrypted with the client's keys and its nested
    /// JWS validated (issue 14): access tokens only with `Config::accept_encrypted`; the
    /// protocol responses (ID token, userinfo, introspection, JARM) whenever keys are set.
    pub accept_encrypted: bool,
}

/// The `events` member that makes a JWT a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The `typ` of a logout token (normalized).
pub const LOGOUT_TYP: &str = "logout+jwt";

impl Policy {
    pub fn from_config(c: &Config) -> Policy {
        Policy {
            issuer: c.issuer.clone(),
            audiences: c.audiences.clone(),
            any_audience: c.allow_any_audience,
            algorithms: c.algorithms,
            leeway_secs: c.leeway.as_secs_f64(),
            required_claims: c.required_claims.clone(),
            expected_typ: c.expected_typ.as_deref().map(normalize_typ),
            max_token_bytes: c.max_token_bytes,
            require_exp: true,
            logout_token: false,
            accept_encrypted: c.accept_encrypted,
        }
    }
}

/// RFC 7515 §4.1.9: `typ` is a media type whose `application/` prefix may be omitted; compare
/// case-insensitively.
pub fn normalize_typ(t: &str) -> String {
    let l = t.trim().to_ascii_lowercase();
    match l.strip_prefix("application/") {
        Some(rest) => rest.to_string(),
        None => l,
    }
}

/// A structurally valid token whose header passed the policy; not yet authenticated.
#[derive(Debug)]
pub struct ParsedToken<'a> {
    pub alg: Algorithm,
    pub kid: Option<String>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a [u8],
    pub signature: Signature,
    /// The decoded payload; parsed only after the signature verified.
    payload: Vec<u8>,
}

/// Signatures up to this size (RSA-4096, every EC and EdDSA signature) are kept inline.
const INLINE_SIGNATURE: usize = 512;

/// A decoded signature, inline when it fits (no allocation on the hot path).
// The inline variant is large on purpose: it lives on the stack for the length of one call.
#[allow(clippy::large_enum_variant)]
pub enum Signature {
    Inline { len: usize, bytes: [u8; INLINE_SIGNATURE] },
    Heap(Vec<u8>),
}

impl std::ops::Deref for Signature {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Signature::Inline { len, bytes } => &bytes[..*len],
            Signature::Heap(v) => v,
        }
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({} bytes)", self.len())
    }
}

/// Decoded headers up to this size are decoded on the stack.
const HEADER_ON_STACK: usize = 512;

fn malformed<T>(msg: &str) -> Result<T> {
    err(ErrorKind::TokenMalformed, msg)
}

/// Parse and check everything that can be checked before the signature.
pub fn parse_token<'a>(token: &'a str, policy: &Policy) -> Result<ParsedToken<'a>> {
    if token.len() > policy.max_token_bytes {
        return err(ErrorKind::TokenTooLarge, format!("token is {} bytes; the limit is {}", token.len(), policy.max_token_bytes));
    }
    if token.is_empty() {
        return malformed("token is empty");
    }
    if let Some(scheme) = scheme_prefix(token) {
        return malformed(&format!(
            "token starts with '{scheme} ': pass the token alone, without the Authorization scheme (or authenticate the whole request)"
        ));
    }
    let bytes = token.as_bytes();
    let Some(d1) = memchr::memchr(b'.', bytes) else { return malformed("token is not a compact JWS (no '.')") };
    let Some(d2) = memchr::memchr(b'.', &bytes[d1 + 1..]).map(|i| i + d1 + 1) else {
        return malformed("token is not a compact JWS (two segments)");
    };
    // A third '.' falls in the signature segment, whose strict base64url decoding rejects it.
    let (h, p, s) = (&token[..d1], &token[d1 + 1..d2], &token[d2 + 1..]);
    if h.is_empty() || p.is_empty() {
        return malformed("token has an empty header or payload segment");
    }
    if s.is_empty() {
        return err(ErrorKind::AlgorithmNotAllowed, "token is unsigned (empty signature segment)");
    }
    let bad_header = || Error::new(ErrorKind::TokenMalformed, "header is not strict base64url");
    // The header is only read here: decoded on the stack unless it is unusually large.
    let mut stack = [0u8; HEADER_ON_STACK];
    let heap;
    let header_buf: &[u8] = match b64url_decode_to_slice(h.as_bytes(), &mut stack) {
        Some(r) => r.map_err(|_| bad_header())?,
        None => {
            heap = b64url_decode(h.as_bytes()).map_err(|_| bad_header())?;
            &heap
        }
    };
    // Exact capacity plus one, so handing the claims out as a C string needs no reallocation.
    let mut payload = Vec::with_capacity(p.len() / 4 * 3 + 4);
    super::json::b64url_decode_into(p.as_bytes(), &mut payload)
        .map_err(|_| Error::new(ErrorKind::TokenMalformed, "payload is not strict base64url"))?;
    let bad_signature = || {
        let msg =
            if s.contains('.') { "token has more than three segments (JWE or not a JWS)" } else { "signature is not strict base64url" };
        Error::new(ErrorKind::TokenMalformed, msg)
    };
    let mut inline = [0u8; INLINE_SIGNATURE];
    let signature = match b64url_decode_to_slice(s.as_bytes(), &mut inline) {
        Some(Ok(d)) => {
            let len = d.len();
            Signature::Inline { len, bytes: inline }
        }
        Some(Err(_)) => return Err(bad_signature()),
        None => Signature::Heap(b64url_decode(s.as_bytes()).map_err(|_| bad_signature())?),
    };
    let header_str = std::str::from_utf8(header_buf).map_err(|_| Error::new(ErrorKind::TokenMalformed, "header is not UTF-8"))?;
    let mut header = RawObject::new();
    header.fill(header_str).map_err(|e| Error::new(ErrorKind::TokenMalformed, format!("header: {e}")))?;

    let alg = match header.get("alg").map(scalar) {
        Some(Scalar::Str(a)) => a,
        Some(_) => return malformed("header alg is not a string"),
        None => return malformed("header has no alg"),
    };
    let alg = header_alg(&alg, policy.algorithms)?;
    let mut kid = None;
    for (name, value) in &header.members {
        match name.as_ref() {
            "kid" => match scalar(value) {
                Scalar::Str(k) => kid = Some(k),
                _ => return malformed("header kid is not a string"),
            },
            "crit" => {
                let names: Vec<Cow<str>> = serde_json::from_str(value.get())
                    .map_err(|_| Error::new(ErrorKind::TokenMalformed, "header crit is not an array of strings"))?;
                if names.is_empty() {
                    return malformed("header crit is empty");
                }
                return err(ErrorKind::CritUnsupported, "header crit names an extension liboidc does not understand");
            }
            "b64" => return err(ErrorKind::CritUnsupported, "unencoded payloads (b64) are not supported"),
            "enc" | "zip" => return malformed("token is a JWE or compressed; only JWS is accepted"),
            // A quoted "logout+jwt" is at least 12 bytes (escapes only lengthen it): the usual
            // typ values ("JWT", "at+jwt") are not even decoded.
            "typ" if !policy.logout_token && value.get().len() >= LOGOUT_TYP.len() + 2 => {
                if let Scalar::Str(t) = scalar(value) {
                    if typ_matches(&t, LOGOUT_TYP) {
                        return err(
                            ErrorKind::TypeMismatch,
                            "token typ is logout+jwt: a back-channel logout token is accepted only as a logout token",
                        );
                    }
                }
            }
            // jwk, jku, x5u, x5c, x5t: never used to find or build a key.
            _ => {}
        }
    }
    if let Some(expected) = &policy.expected_typ {
        match header.get("typ").map(scalar) {
            Some(Scalar::Str(t)) if typ_matches(&t, expected) => {}
            Some(Scalar::Str(_)) | None => {
                return err(ErrorKind::TypeMismatch, format!("token typ is not the expected '{expected}'"));
            }
            Some(_) => return malformed("header typ is not a string"),
        }
    }
    let kid = kid.map(Cow::into_owned);
    Ok(ParsedToken { alg, kid, signing_input: &bytes[..d2], signature, payload })
}

/// A header's `alg` against an allow-list: `none`, HMAC, unknown and unlisted algorithms are
/// `AlgorithmNotAllowed` (tokens and JWS documents alike).
#[inline]
pub(crate) fn header_alg(alg: &str, allowed: AlgSet) -> Result<Algorithm> {
    match Algorithm::from_jose(alg) {
        Some(a) if allowed.contains(a) => Ok(a),
        Some(a) => err(ErrorKind::AlgorithmNotAllowed, format!("algorithm {} is not in the allow-list", a.name())),
        None if alg.eq_ignore_ascii_case("none") => err(ErrorKind::AlgorithmNotAllowed, "algorithm 'none' is never accepted"),
        None if alg.starts_with("HS") => err(ErrorKind::AlgorithmNotAllowed, "HMAC algorithms are never accepted"),
        None => {
            let shown: String = alg.chars().filter(|c| c.is_ascii_alphanumeric()).take(16).collect();
            err(ErrorKind::AlgorithmNotAllowed, format!("unknown algorithm '{shown}'"))
        }
    }
}

/// The authorization scheme a token was passed with by mistake (`Bearer `, `DPoP `, any case).
fn scheme_prefix(token: &str) -> Option<&'static str> {
    let head = token.get(..6)?;
    if head.eq_ignore_ascii_case("bearer") && token[6..].starts_with([' ', '\t']) {
        return Some("Bearer");
    }
    let head = token.get(..4)?;
    if head.eq_ignore_ascii_case("dpop") && token[4..].starts_with([' ', '\t']) {
        return Some("DPoP");
    }
    None
}

/// "{what} 'X' is not the configured issuer 'Y'", with a hint when the two differ only by a
/// trailing slash (the usual cause). Both are quoted, escaped and bounded (256 characters: real
/// issuers run past 64).
pub fn issuer_mismatch(what: &str, got: &str, configured: &str) -> String {
    let q = |s: &str| super::json::quoted_max(s, 256);
    let mut m = format!("{what} {} is not the configured issuer {}", q(got), q(configured));
    if got.trim_end_matches('/') == configured.trim_end_matches('/') {
        m.push_str(if got.ends_with('/') {
            " (they differ only by a trailing slash: configure the issuer with the trailing '/' exactly as the identity provider writes it)"
        } else {
            " (they differ only by a trailing slash: configure the issuer without the trailing '/', exactly as the identity provider writes it)"
        });
    }
    m
}

/// `typ` against an already-normalized expectation, without allocating.
fn typ_matches(typ: &str, expected: &str) -> bool {
    let t = typ.trim();
    let t = match t.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("application/") => &t[12..],
        _ => t,
    };
    t.eq_ignore_ascii_case(expected)
}

/// The outcome of a successful validation.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The token's claims, exactly as signed (a JSON object).
    pub claims: String,
    pub alg: Algorithm,
    pub exp: f64,
    /// The token's confirmation (RFC 7800 `cnf`), read in the same pass as the other claims.
    pub cnf: Cnf,
    /// Where the token's `jti` lies in `claims` (found in the same pass; the revocation check).
    pub jti: Option<JtiSpan>,
}

impl Validated {
    /// The token's `jti` (a string claim), borrowed from the claims unless it holds a JSON escape.
    #[inline]
    pub fn jti(&self) -> Option<Cow<'_, str>> {
        self.jti.as_ref().and_then(|s| s.get(&self.claims))
    }
}

/// The position of a `jti` string literal's content in a claims document: no allocation to
/// find it again; `escaped` when the literal holds a backslash escape (then decoded on use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JtiSpan {
    start: u32,
    end: u32,
    escaped: bool,
}

impl JtiSpan {
    /// The span of `literal` (a JSON string literal borrowed from `claims`), if it lies in it.
    fn of(claims: &str, literal: &str) -> Option<JtiSpan> {
        let off = (literal.as_ptr() as usize).checked_sub(claims.as_ptr() as usize)?;
        let end = off.checked_add(literal.len())?;
        if end > claims.len() || literal.len() < 2 || !literal.starts_with('"') || !literal.ends_with('"') {
            return None;
        }
        Some(JtiSpan { start: u32::try_from(off + 1).ok()?, end: u32::try_from(end - 1).ok()?, escaped: literal.contains('\\') })
    }

    /// The `jti` in `claims` (the document the span was taken from).
    pub fn get<'c>(&self, claims: &'c str) -> Option<Cow<'c, str>> {
        let (s, e) = (self.start as usize, self.end as usize);
        if !self.escaped {
            return claims.get(s..e).map(Cow::Borrowed);
        }
        let lit = claims.get(s.checked_sub(1)?..e.checked_add(1)?)?;
        serde_json::from_str::<String>(lit).ok().map(Cow::Owned)
    }
}

/// A token's sender constraint: `cnf.jkt` (RFC 9449, DPoP) and `cnf.x5t#S256` (RFC 8705, mTLS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cnf {
    pub jkt: Option<String>,
    pub x5t_s256: Option<String>,
}

/// What the claim checks read besides accepting the token.
#[derive(Debug, Clone, Default)]
pub struct ClaimInfo {
    /// `exp` (infinity when absent and not required).
    pub exp: f64,
    pub nbf: Option<f64>,
    pub iat: Option<f64>,
    pub cnf: Cnf,
    pub jti: Option<JtiSpan>,
}

/// A validated token's time claims, kept by the verified-token cache to check them again at
/// another "now".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeClaims {
    pub exp: f64,
    pub nbf: Option<f64>,
    pub iat: Option<f64>,
}

impl TimeClaims {
    /// The time checks of a full validation, in its order, with its codes and messages.
    pub fn check(&self, leeway: f64, now: f64) -> Result<()> {
        check_exp(self.exp, leeway, now)?;
        check_nbf(self.nbf, leeway, now)?;
        check_iat(self.iat, leeway, now)
    }
}

impl<'a> ParsedToken<'a> {
    /// After the signature verified: decode the payload and check every claim at `now` (Unix s).
    pub fn check_claims(self, policy: &Policy, now: f64) -> Result<Validated> {
        self.check_claims_timed(policy, now).map(|(v, _)| v)
    }

    /// [`ParsedToken::check_claims`], also returning the time claims it checked.
    pub fn check_claims_timed(self, policy: &Policy, now: f64) -> Result<(Validated, TimeClaims)> {
        let claims = String::from_utf8(self.payload).map_err(|_| Error::new(ErrorKind::TokenMalformed, "payload is not UTF-8"))?;
        let info = check_claims_json(&claims, policy, now)?;
        let times = TimeClaims { exp: info.exp, nbf: info.nbf, iat: info.iat };
        Ok((Validated { claims, alg: self.alg, exp: info.exp, cnf: info.cnf, jti: info.jti }, times))
    }
}

pub(crate) fn number(v: Option<&RawValue>, name: &str) -> Result<Option<f64>> {
    match v.map(scalar) {
        None => Ok(None),
        Some(Scalar::Number(n)) => Ok(Some(n)),
        Some(Scalar::Null) => err(ErrorKind::InvalidClaim, format!("claim {name} is null")),
        Some(_) => err(ErrorKind::InvalidClaim, format!("claim {name} is not a NumericDate number")),
    }
}

/// `cnf` (RFC 7800): an object; `jkt` and `x5t#S256` strings when present.
fn read_cnf(raw: Option<&RawValue>) -> Result<Cnf> {
    let Some(raw) = raw else { return Ok(Cnf::default()) };
    let bad = || Error::new(ErrorKind::InvalidClaim, "claim cnf is not an object with string members jkt / x5t#S256");
    let c = RawObject::parse(raw.get()).map_err(|_| bad())?;
    let member = |name: &str| -> Result<Option<String>> {
        match c.get(name).map(scalar) {
            None => Ok(None),
            Some(Scalar::Str(s)) if !s.is_empty() => Ok(Some(s.into_owned())),
            Some(_) => Err(bad()),
        }
    };
    Ok(Cnf { jkt: member("jkt")?, x5t_s256: member("x5t#S256")? })
}

/// Check the claims; returns `exp` (infinity when absent and not required), `nbf`, `iat` and
/// `cnf`.
pub fn check_claims_json(claims: &str, policy: &Policy, now: f64) -> Result<ClaimInfo> {
    let mut obj = RawObject::new();
    obj.fill(claims).map_err(|e| Error::new(ErrorKind::TokenMalformed, format!("claims: {e}")))?;
    // One pass for the registered claims checked below (member names are unique).
    let (mut iss, mut exp, mut nbf, mut iat, mut aud, mut cnf) = (None, None, None, None, None, None);
    let (mut sub, mut jti, mut events) = (None, None, None);
    for (k, v) in &obj.members {
        match k.as_ref() {
            "iss" => iss = Some(*v),
            "events" => events = Some(*v),
            "sub" => sub = Some(*v),
            "jti" => jti = Some(*v),
            "exp" => exp = Some(*v),
            "nbf" => nbf = Some(*v),
            "iat" => iat = Some(*v),
            "aud" => aud = Some(*v),
            "cnf" => cnf = Some(*v),
            _ => {}
        }
    }
    match iss.map(scalar) {
        Some(Scalar::Str(iss)) if iss == policy.issuer => {}
        Some(Scalar::Str(iss)) => return err(ErrorKind::IssuerMismatch, issuer_mismatch("token issuer", &iss, &policy.issuer)),
        None | Some(Scalar::Null) => return err(ErrorKind::MissingClaim, "token has no iss claim"),
        Some(_) => return err(ErrorKind::InvalidClaim, "claim iss is not a string"),
    }
    if !policy.logout_token {
        refuse_logout_event(events)?;
    }
    let leeway = policy.leeway_secs;
    let exp = match number(exp, "exp")? {
        Some(e) => e,
        None if !policy.require_exp => f64::INFINITY,
        None => return err(ErrorKind::MissingClaim, "token has no exp claim"),
    };
    check_exp(exp, leeway, now)?;
    let nbf = number(nbf, "nbf")?;
    check_nbf(nbf, leeway, now)?;
    let iat = number(iat, "iat")?;
    check_iat(iat, leeway, now)?;
    // RFC 7519 §4.1.2 / §4.1.7: `sub` and `jti` are strings when present (a numeric `sub` must
    // not reach a host that compares subjects as strings).
    for (name, v) in [("sub", sub), ("jti", jti)] {
        match v.map(scalar) {
            // null counts as absent (a required claim that is null is MISSING_CLAIM below).
            None | Some(Scalar::Null) | Some(Scalar::Str(_)) => {}
            Some(_) => return err(ErrorKind::InvalidClaim, format!("claim {name} is not a string")),
        }
    }
    if !policy.any_audience || aud.is_some() {
        check_audience(aud, policy)?;
    }
    for name in &policy.required_claims {
        match obj.get(name).map(scalar) {
            None | Some(Scalar::Null) => {
                return err(ErrorKind::MissingClaim, format!("required claim '{}' is missing", super::json::printable(name)));
            }
            Some(_) => {}
        }
    }
    let jti = match jti.map(scalar) {
        Some(Scalar::Str(_)) => jti.and_then(|v| JtiSpan::of(claims, v.get())),
        _ => None,
    };
    Ok(ClaimInfo { exp, nbf, iat, cnf: read_cnf(cnf)?, jti })
}

/// Cross-JWT confusion (Back-Channel Logout 1.0 §4.1): a token whose `events` object holds the
/// back-channel-logout event is a logout token, refused on every other path. Only a token that
/// has `events` pays for reading it.
fn refuse_logout_event(events: Option<&RawValue>) -> Result<()> {
    let Some(raw) = events else { return Ok(()) };
    if !raw.get().trim_start().starts_with('{') {
        return Ok(());
    }
    let has_event = match RawObject::parse(raw.get()) {
        Ok(e) => e.get(BACKCHANNEL_LOGOUT_EVENT).is_some(),
        // Duplicate member names: read it as serde_json does (the event must not hide there).
        Err(_) => serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(raw.get())
            .map_or(true, |m| m.contains_key(BACKCHANNEL_LOGOUT_EVENT)),
    };
    if has_event {
        return err(
            ErrorKind::TypeMismatch,
            "the token's events claim holds the back-channel-logout event: a logout token is accepted only as a logout token",
        );
    }
    Ok(())
}

pub(crate) fn check_exp(exp: f64, leeway: f64, now: f64) -> Result<()> {
    if now >= exp + leeway {
        return err(ErrorKind::TokenExpired, format!("token expired at {} (now {}, leeway {}s)", exp as i64, now as i64, leeway));
    }
    Ok(())
}

pub(crate) fn check_nbf(nbf: Option<f64>, leeway: f64, now: f64) -> Result<()> {
    match nbf {
        Some(nbf) if nbf > now + leeway => {
            err(ErrorKind::TokenNotYetValid, format!("token is not valid before {} (now {}, leeway {}s)", nbf as i64, now as i64, leeway))
        }
        _ => Ok(()),
    }
}

pub(crate) fn check_iat(iat: Option<f64>, leeway: f64, now: f64) -> Result<()> {
    match iat {
        Some(iat) if iat > now + leeway => err(
            ErrorKind::TokenIssuedInFuture,
            format!("token was issued in the future at {} (now {}, leeway {}s)", iat as i64, now as i64, leeway),
        ),
        _ => Ok(()),
    }
}

pub(crate) fn check_audience(aud: Option<&RawValue>, policy: &Policy) -> Result<()> {
    let Some(raw) = aud else {
        return err(ErrorKind::MissingClaim, "token has no aud claim");
    };
    let matches = |a: &str| policy.any_audience || policy.audiences.iter().any(|x| x == a);
    let configured = || policy.audiences.iter().take(8).map(|a| super::json::quoted(a)).collect::<Vec<_>>().join(", ");
    match scalar(raw) {
        Scalar::Str(a) => {
            if matches(&a) {
                return Ok(());
            }
            err(
                ErrorKind::AudienceMismatch,
                format!("token audience {} does not match the configured audience(s) {}", super::json::quoted(&a), configured()),
            )
        }
        Scalar::Other if raw.get().starts_with('[') => {
            let mut de = serde_json::Deserializer::from_str(raw.get());
            let (count, matched) = serde::Deserializer::deserialize_seq(&mut de, AudVisitor(&matches))
                .map_err(|_| Error::new(ErrorKind::InvalidClaim, "claim aud is not a string or an array of strings"))?;
            if count == 0 {
                return err(ErrorKind::AudienceMismatch, "token aud is an empty array");
            }
            if matched {
                return Ok(());
            }
            // Shown only now that the token is known to be well-formed: at most 4 values.
            let shown: Vec<String> = serde_json::from_str::<Vec<Cow<str>>>(raw.get())
                .map(|v| v.iter().take(4).map(|a| super::json::quoted(a)).collect())
                .unwrap_or_default();
            let more = if count > 4 { format!(" and {} more", count - 4) } else { String::new() };
            err(
                ErrorKind::AudienceMismatch,
                format!("no token audience ([{}]{more}) matches the configured audience(s) {}", shown.join(", "), configured()),
            )
        }
        Scalar::Null => err(ErrorKind::MissingClaim, "token aud is null"),
        _ => err(ErrorKind::InvalidClaim, "claim aud is not a string or an array of strings"),
    }
}

/// Walks an `aud` array without collecting it: (element count, any match). Every element must
/// be a string.
struct AudVisitor<'m, F: Fn(&str) -> bool>(&'m F);

impl<'de, F: Fn(&str) -> bool> serde::de::Visitor<'de> for AudVisitor<'_, F> {
    type Value = (usize, bool);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of strings")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(usize, bool), A::Error> {
        let (mut n, mut hit) = (0usize, false);
        while let Some(super::json::Key(a)) = seq.next_element::<super::json::Key<'de>>()? {
            n += 1;
            hit |= (self.0)(&a);
        }
        Ok((n, hit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let mut c = Config::new("https://idp.example");
        c.audiences = vec!["api".into(), "other".into()];
        c.required_claims = vec!["sub".into()];
        c.expected_typ = Some("at+jwt".into());
        Policy::from_config(&c)
    }

    fn kind(claims: &str, now: f64) -> Option<ErrorKind> {
        check_claims_json(claims, &policy(), now).err().map(|e| e.kind())
    }

    #[test]
    fn claims() {
        let base = r#""iss":"https://idp.example","sub":"u""#;
        let ok = format!(r#"{{{base},"aud":"api","exp":1000}}"#);
        assert_eq!(kind(&ok, 900.0), None);
        assert_eq!(kind(&ok, 1059.0), None, "within leeway");
        assert_eq!(kind(&ok, 1060.0), Some(ErrorKind::TokenExpired));
        assert_eq!(kind(&format!(r#"{{{base},"aud":["x","other"],"exp":1000.5}}"#), 900.0), None);
        assert_eq!(kind(&format!(r#"{{{base},"aud":["x"],"exp":1000}}"#), 900.0), Some(ErrorKind::AudienceMismatch));
        assert_eq!(kind(&format!(r#"{{{base},"aud":[],"exp":1000}}"#), 900.0), Some(ErrorKind::AudienceMismatch));
        assert_eq!(kind(&format!(r#"{{{base},"aud":[1],"exp":1000}}"#), 900.0), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(&format!(r#"{{{base},"aud":5,"exp":1000}}"#), 900.0), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(&format!(r#"{{{base},"exp":1000}}"#), 900.0), Some(ErrorKind::MissingClaim));
        assert_eq!(kind(&format!(r#"{{{base},"aud":"api","exp":"1000"}}"#), 900.0), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(&format!(r#"{{{base},"aud":"api"}}"#), 900.0), Some(ErrorKind::MissingClaim));
        assert_eq!(kind(&format!(r#"{{{base},"aud":"api","exp":1000,"nbf":961}}"#), 900.0), Some(ErrorKind::TokenNotYetValid));
        assert_eq!(kind(&format!(r#"{{{base},"aud":"api","exp":1000,"nbf":960}}"#), 900.0), None);
        assert_eq!(kind(&format!(r#"{{{base},"aud":"api","exp":1000,"iat":961}}"#), 900.0), Some(ErrorKind::TokenIssuedInFuture));
        assert_eq!(kind(&format!(r#"{{{base},"aud":"api","exp":1000,"nbf":"0"}}"#), 900.0), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(r#"{"iss":"https://idp.example/","sub":"u","aud":"api","exp":1000}"#, 900.0), Some(ErrorKind::IssuerMismatch));
        assert_eq!(kind(r#"{"iss":7,"sub":"u","aud":"api","exp":1000}"#, 900.0), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(r#"{"sub":"u","aud":"api","exp":1000}"#, 900.0), Some(ErrorKind::MissingClaim));
        assert_eq!(kind(r#"{"iss":"https://idp.example","sub":null,"aud":"api","exp":1000}"#, 900.0), Some(ErrorKind::MissingClaim));
        assert_eq!(kind(r#"{"iss":"https://idp.example","aud":"api","exp":1000}"#, 900.0), Some(ErrorKind::MissingClaim));
        assert_eq!(
            kind(r#"{"iss":"https://idp.example","iss":"x","aud":"api","exp":1000,"sub":"u"}"#, 900.0),
            Some(ErrorKind::TokenMalformed)
        );
        assert_eq!(kind("[1]", 900.0), Some(ErrorKind::TokenMalformed));
        // Registered claim types (RFC 7519 §4.1): sub, jti strings; iss a string; aud a string
        // or an array of strings; the NumericDates numbers.
        let t = |extra: &str| kind(&format!(r#"{{"iss":"https://idp.example","aud":"api","exp":1000,{extra}}}"#), 900.0);
        assert_eq!(t(r#""sub":"u""#), None);
        assert_eq!(t(r#""sub":42"#), Some(ErrorKind::InvalidClaim));
        assert_eq!(t(r#""sub":["u"]"#), Some(ErrorKind::InvalidClaim));
        assert_eq!(t(r#""sub":null"#), Some(ErrorKind::MissingClaim), "null is absent; sub is required here");
        assert_eq!(t(r#""sub":"u","jti":7"#), Some(ErrorKind::InvalidClaim));
        assert_eq!(t(r#""sub":"u","jti":"j""#), None);
        assert_eq!(t(r#""sub":"u","iat":"5""#), Some(ErrorKind::InvalidClaim));
        assert_eq!(t(r#""sub":"u","nbf":true"#), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(r#"{"iss":"https://idp.example","aud":["api",7],"exp":1000,"sub":"u"}"#, 900.0), Some(ErrorKind::InvalidClaim));
        assert_eq!(kind(r#"{"iss":"https://idp.example","aud":{"a":1},"exp":1000,"sub":"u"}"#, 900.0), Some(ErrorKind::InvalidClaim));
    }

    fn message(claims: &str) -> String {
        check_claims_json(claims, &policy(), 900.0).unwrap_err().message().to_string()
    }

    #[test]
    fn messages_name_what_to_fix() {
        // Audience: the token's and the configured values.
        let m = message(r#"{"iss":"https://idp.example","sub":"u","aud":"web","exp":1000}"#);
        assert_eq!(m, "token audience 'web' does not match the configured audience(s) 'api', 'other'");
        let m = message(r#"{"iss":"https://idp.example","sub":"u","aud":["a","b","c","d","e","f"],"exp":1000}"#);
        assert_eq!(m, "no token audience (['a', 'b', 'c', 'd'] and 2 more) matches the configured audience(s) 'api', 'other'");
        // Token-supplied strings are escaped and bounded.
        let long = "x".repeat(500);
        let m = message(&format!(r#"{{"iss":"https://idp.example","sub":"u","aud":"q'\n\u0007{long}","exp":1000}}"#));
        assert!(m.starts_with(r"token audience 'q\'\n\u{7}xxx"), "{m}");
        assert!(m.contains("…"), "{m}");
        assert!(m.len() < 300, "{m}");
        // Issuer: both strings, and the trailing-slash hint only when that is the difference.
        let m = message(r#"{"iss":"https://idp.example/","sub":"u","aud":"api","exp":1000}"#);
        assert!(m.starts_with("token issuer 'https://idp.example/' is not the configured issuer 'https://idp.example' (they differ only by a trailing slash"), "{m}");
        let m = message(r#"{"iss":"https://other.example","sub":"u","aud":"api","exp":1000}"#);
        assert_eq!(m, "token issuer 'https://other.example' is not the configured issuer 'https://idp.example'");
        // A token passed with its scheme.
        for t in ["Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "bearer\teyJ.e30.c2ln", "DPoP eyJ.e30.c2ln"] {
            let e = parse_token(t, &policy()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::TokenMalformed);
            assert!(e.message().starts_with("token starts with '"), "{}", e.message());
            assert!(e.message().contains("without the Authorization scheme"), "{}", e.message());
            assert!(!e.message().contains("c2ln"), "no token bytes in the message");
        }
    }

    #[test]
    fn typ_normalization() {
        assert_eq!(normalize_typ("application/AT+JWT"), "at+jwt");
        assert_eq!(normalize_typ("at+jwt"), "at+jwt");
        assert!(typ_matches("application/AT+JWT", "at+jwt"));
        assert!(typ_matches("At+Jwt", "at+jwt"));
        assert!(!typ_matches("application/jwt", "at+jwt"));
        assert!(!typ_matches("application", "at+jwt"));
        assert!(!typ_matches("é", "at+jwt"));
    }
}
