//! Shared pieces of the liboidc fuzz targets: the fixed configuration, the clients built through
//! the C ABI, and the oracles.
//!
//! The oracles decide independently of liboidc's own code whether an input that liboidc
//! ACCEPTED deserved it: the token is split and decoded here (strict base64url, `serde_json`),
//! its signature is checked with aws-lc-rs directly against the JWKS members (not through
//! liboidc's key parser or verifier), and the claims against the configured policy. A failing
//! oracle panics, which libFuzzer records as a crash.

use std::ffi::c_char;
use std::sync::OnceLock;

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc::ffi::oidc_result;
use oidc::ffi::validator::{
    oidc_validator, oidc_validator_builder, oidc_validator_builder_add_audience, oidc_validator_builder_add_required_claim,
    oidc_validator_builder_build, oidc_validator_builder_new, oidc_validator_builder_set_algorithms,
    oidc_validator_builder_set_any_audience, oidc_validator_builder_set_expected_typ, oidc_validator_builder_set_issuer,
    oidc_validator_builder_set_jwks_json, oidc_validator_builder_set_leeway_secs,
};
use serde_json::{Map, Value};

/// The issuer of every fixture.
pub const ISSUER: &str = "https://issuer.fuzz.test";
/// The audience of the fixture tokens.
pub const AUDIENCE: &str = "api://fuzz";
/// A second configured audience of client A.
pub const AUDIENCE_2: &str = "api://other";
/// "Now" of every fuzz run (2027-01-15): the seed tokens are valid at this time.
pub const NOW: i64 = 1_800_000_000;
/// The resource URL the DPoP seeds are made for.
pub const RESOURCE_URL: &str = "https://api.fuzz.test/items?x=1";
/// The DPoP nonce secret of the DPoP-required authenticate client.
pub const NONCE_SECRET: &[u8] = b"fuzz-nonce-secret-0123456789abcdef";
/// Its nonce lifetime.
pub const NONCE_LIFETIME: u64 = 300;
/// The OAuth client id of the response target.
pub const CLIENT_ID: &str = "fuzz-client";

/// The static key set of every target (public keys; made by `make-seeds`).
pub const JWKS: &str = include_str!("../fixtures/jwks.json");

pub fn jwks() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| serde_json::from_str(JWKS).expect("fixtures/jwks.json"))
}

/// What the oracle holds a validating client to (mirrors how the client was configured).
#[derive(Debug, Clone)]
pub struct OraclePolicy {
    pub issuer: &'static str,
    /// Empty: any audience (`aud`, when present, must still be a string or an array of strings).
    pub audiences: &'static [&'static str],
    pub algorithms: &'static [&'static str],
    pub leeway: f64,
    /// Normalized (`at+jwt`).
    pub expected_typ: Option<&'static str>,
    pub required_claims: &'static [&'static str],
}

/// Client A of `validate_token`: the defaults, two audiences.
pub const POLICY_A: OraclePolicy = OraclePolicy {
    issuer: ISSUER,
    audiences: &[AUDIENCE, AUDIENCE_2],
    algorithms: &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"],
    leeway: 60.0,
    expected_typ: None,
    required_claims: &[],
};

/// Client B: typ `at+jwt`, ES256 and EdDSA only, `sub` required, any audience, no leeway.
pub const POLICY_B: OraclePolicy = OraclePolicy {
    issuer: ISSUER,
    audiences: &[],
    algorithms: &["ES256", "EdDSA"],
    leeway: 0.0,
    expected_typ: Some("at+jwt"),
    required_claims: &["sub"],
};

fn ok(rc: oidc_result, what: &str) {
    assert_eq!(rc, oidc_result::Ok, "fixture setup failed at {what}");
}

fn set_str(
    b: *mut oidc_validator_builder,
    f: extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc::ffi::oidc_error) -> oidc_result,
    s: &str,
    what: &str,
) {
    ok(f(b, s.as_ptr().cast(), s.len(), std::ptr::null_mut()), what);
}

/// A client handle built through the C ABI (never freed: it lives for the whole run).
pub struct CClient(pub *mut oidc_validator);
// SAFETY: an oidc_validator may be used from any thread (C ABI contract).
unsafe impl Send for CClient {}
// SAFETY: as above.
unsafe impl Sync for CClient {}

/// Build a static-JWKS client through the C ABI for `p`.
pub fn build_c_client(p: &OraclePolicy) -> CClient {
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()), "builder_new");
    set_str(b, oidc_validator_builder_set_issuer, p.issuer, "issuer");
    set_str(b, oidc_validator_builder_set_jwks_json, JWKS, "jwks");
    if p.audiences.is_empty() {
        ok(oidc_validator_builder_set_any_audience(b, 1, std::ptr::null_mut()), "any_audience");
    }
    for a in p.audiences {
        set_str(b, oidc_validator_builder_add_audience, a, "audience");
    }
    set_str(b, oidc_validator_builder_set_algorithms, &p.algorithms.join(","), "algorithms");
    ok(oidc_validator_builder_set_leeway_secs(b, p.leeway as u32, std::ptr::null_mut()), "leeway");
    if let Some(t) = p.expected_typ {
        set_str(b, oidc_validator_builder_set_expected_typ, t, "typ");
    }
    for c in p.required_claims {
        set_str(b, oidc_validator_builder_add_required_claim, c, "required claim");
    }
    let mut c: *mut oidc_validator = std::ptr::null_mut();
    ok(oidc_validator_builder_build(b, &mut c, std::ptr::null_mut()), "build");
    CClient(c)
}

/// Strict base64url (no padding, canonical trailing bits), as RFC 7515 requires.
pub fn b64d(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

pub fn b64e(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// Whether JWK `k` may verify `alg` by the JWK rules (RFC 7517 §4.2-4.4): `use` absent or
/// `sig`, `key_ops` absent or containing `verify`, `alg` absent or equal, and the key type /
/// curve of the algorithm.
fn key_usable_for(k: &Map<String, Value>, alg: &str) -> bool {
    if k.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
        return false;
    }
    if let Some(ops) = k.get("key_ops")
        && !ops.as_array().is_some_and(|a| a.iter().any(|o| o.as_str() == Some("verify")))
    {
        return false;
    }
    if k.get("alg").is_some_and(|a| a.as_str() != Some(alg)) {
        return false;
    }
    let kty = k.get("kty").and_then(Value::as_str);
    let crv = k.get("crv").and_then(Value::as_str);
    match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => kty == Some("RSA"),
        "ES256" => kty == Some("EC") && crv == Some("P-256"),
        "ES384" => kty == Some("EC") && crv == Some("P-384"),
        "ES512" => kty == Some("EC") && crv == Some("P-521"),
        "EdDSA" => kty == Some("OKP") && crv == Some("Ed25519"),
        _ => false,
    }
}

/// Verify `sig` over `msg` with the public JWK `k` for `alg`, with aws-lc-rs directly.
pub fn verify_with_jwk(k: &Map<String, Value>, alg: &str, msg: &[u8], sig: &[u8]) -> bool {
    let m = |n: &str| k.get(n).and_then(Value::as_str).and_then(b64d);
    let rsa = |params: &'static signature::RsaParameters| -> bool {
        let (Some(n), Some(e)) = (m("n"), m("e")) else { return false };
        signature::RsaPublicKeyComponents { n: &n[..], e: &e[..] }.verify(params, msg, sig).is_ok()
    };
    let ec = |a: &'static signature::EcdsaVerificationAlgorithm| -> bool {
        let (Some(x), Some(y)) = (m("x"), m("y")) else { return false };
        let mut point = vec![4u8];
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        UnparsedPublicKey::new(a, &point).verify(msg, sig).is_ok()
    };
    match alg {
        "RS256" => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => rsa(&signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => rsa(&signature::RSA_PSS_2048_8192_SHA512),
        "ES256" => ec(&signature::ECDSA_P256_SHA256_FIXED),
        "ES384" => ec(&signature::ECDSA_P384_SHA384_FIXED),
        "ES512" => ec(&signature::ECDSA_P521_SHA512_FIXED),
        "EdDSA" => m("x").is_some_and(|x| UnparsedPublicKey::new(&signature::ED25519, &x).verify(msg, sig).is_ok()),
        _ => false,
    }
}

/// A JSON object as the oracle reads it: member names decoded, values kept raw and decoded only
/// when looked at (so a malformed escape in a member nobody reads does not decide anything, as
/// in any reader that decodes lazily).
pub struct Obj(pub std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>);

impl Obj {
    pub fn parse(bytes: &[u8]) -> Option<Obj> {
        let s = std::str::from_utf8(bytes).ok()?;
        serde_json::from_str(s).ok().map(Obj)
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
    /// The member's value, `None` when absent or undecodable.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.0.get(name).and_then(|r| serde_json::from_str(r.get()).ok())
    }
    pub fn str(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }
}

/// A compact JWS taken apart by the oracle.
pub struct Jws {
    pub header: Obj,
    pub payload: Vec<u8>,
    pub alg: String,
}

/// Split and decode a compact JWS and verify its signature under SOME usable key of `keys`
/// (a JWKS `{"keys":[...]}`). `Err` says why it is not authentic.
pub fn authentic(token: &str, keys: &Value) -> Result<Jws, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts[..] else { return Err(format!("{} segments", parts.len())) };
    let header = b64d(h).ok_or("header is not strict base64url")?;
    let payload = b64d(p).ok_or("payload is not strict base64url")?;
    let sig = b64d(s).ok_or("signature is not strict base64url")?;
    let header = Obj::parse(&header).ok_or("header is not a JSON object")?;
    let alg = header.str("alg").ok_or("no string alg")?;
    let signing_input = &token.as_bytes()[..h.len() + 1 + p.len()];
    let list = keys.get("keys").and_then(Value::as_array).ok_or("no keys")?;
    let verified =
        list.iter().filter_map(Value::as_object).filter(|k| key_usable_for(k, &alg)).any(|k| verify_with_jwk(k, &alg, signing_input, &sig));
    if !verified {
        return Err(format!("no key of the set verifies this {alg} signature"));
    }
    Ok(Jws { header, payload, alg })
}

fn typ_normalized(t: &str) -> String {
    let l = t.trim().to_ascii_lowercase();
    l.strip_prefix("application/").map(str::to_string).unwrap_or(l)
}

/// The claims of an authentic token, checked against `p` at `now`. `Err` says which rule an
/// accepted token broke.
pub fn policy_holds(jws: &Jws, p: &OraclePolicy, now: f64) -> Result<Obj, String> {
    if !p.algorithms.contains(&jws.alg.as_str()) {
        return Err(format!("alg {} is not allowed", jws.alg));
    }
    if jws.header.has("crit") {
        return Err("header has crit".into());
    }
    if let Some(want) = p.expected_typ {
        match jws.header.str("typ") {
            Some(t) if typ_normalized(&t) == want => {}
            _ => return Err("typ is not the expected one".into()),
        }
    }
    let c = Obj::parse(&jws.payload).ok_or("claims are not a JSON object")?;
    if c.str("iss").as_deref() != Some(p.issuer) {
        return Err("iss is not the issuer".into());
    }
    // RFC 7519 §4.1: sub and jti are strings when present (null counts as absent, as it does
    // for required claims).
    for n in ["sub", "jti"] {
        if c.0.get(n).is_some_and(|raw| raw.get() != "null") && c.str(n).is_none() {
            return Err(format!("{n} is not a string"));
        }
    }
    let num = |n: &str| -> Result<Option<f64>, String> {
        if !c.has(n) {
            return Ok(None);
        }
        c.get(n).and_then(|v| v.as_f64()).map(Some).ok_or(format!("{n} is not a number"))
    };
    match num("exp")? {
        Some(exp) if now < exp + p.leeway => {}
        Some(_) => return Err("expired".into()),
        None => return Err("no exp".into()),
    }
    if num("nbf")?.is_some_and(|nbf| nbf > now + p.leeway) {
        return Err("not yet valid".into());
    }
    if num("iat")?.is_some_and(|iat| iat > now + p.leeway) {
        return Err("issued in the future".into());
    }
    let auds: Option<Vec<String>> = match (c.has("aud"), c.get("aud")) {
        (false, _) => None,
        (true, Some(Value::String(s))) => Some(vec![s]),
        (true, Some(Value::Array(a))) if !a.is_empty() => {
            Some(a.iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<Vec<_>>>().ok_or("aud array holds a non-string")?)
        }
        (true, _) => return Err("aud is neither a string nor a non-empty array".into()),
    };
    if !p.audiences.is_empty() {
        let Some(auds) = auds else { return Err("no aud".into()) };
        if !auds.iter().any(|a| p.audiences.contains(&a.as_str())) {
            return Err("no aud matches".into());
        }
    }
    for r in p.required_claims {
        if c.0.get(*r).is_none_or(|raw| raw.get() == "null") {
            return Err(format!("required claim {r} missing"));
        }
    }
    Ok(c)
}

/// The whole oracle for an accepted access token: authentic under the fixture key set, the
/// policy holds, and the claims liboidc handed out (when given) are exactly the signed payload.
pub fn assert_rightly_accepted(token: &str, p: &OraclePolicy, now: f64, claims_out: Option<&[u8]>) -> Obj {
    let jws = match authentic(token, jwks()) {
        Ok(j) => j,
        Err(why) => panic!("FORGERY: liboidc accepted a token that is not authentic ({why}): {token:?}"),
    };
    let claims = match policy_holds(&jws, p, now) {
        Ok(c) => c,
        Err(why) => panic!("POLICY: liboidc accepted a token that breaks the policy ({why}): {token:?}"),
    };
    if let Some(out) = claims_out {
        assert_eq!(out, &jws.payload[..], "the claims handed out are not the signed payload");
    }
    claims
}

/// RFC 7638 thumbprint of an EC / OKP / RSA public JWK (required members, sorted: serde_json's
/// map is a BTreeMap).
pub fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let s = |n: &str| jwk.get(n).and_then(Value::as_str).map(|v| Value::String(v.into()));
    let mut m = Map::new();
    let names: &[&str] = match jwk.get("kty").and_then(Value::as_str)? {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    for n in names {
        m.insert((*n).to_string(), s(n)?);
    }
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, Value::Object(m).to_string().as_bytes());
    Some(b64e(d.as_ref()))
}
