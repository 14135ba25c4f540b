//! Explain mode (issue 12): every check of a token validation with its outcome, as JSON, not
//! only the first failure. For support desks, logs and the CLI.
//!
//! What the output may hold (nothing else from the token): the header's `alg`, `kid` (at most
//! 64 printable characters) and `typ` (at most 64); the `iss` value (at most 256 printable
//! characters) and the tenant of a template; the NumericDates `exp`, `nbf`, `iat`; the names of
//! required claims. Never the signature, the token text, `sub`, `aud` values or any other claim
//! value. Claim checks of a token whose signature did not verify are still listed, marked
//! `"authenticated": false` (their outcome is about unauthenticated data).
//!
//! Output: `{"decision": "allow"|"deny", "code": <first failure kind or null>, "issuer":
//! {"iss": ..., "chosen": "exact"|"template"|"none", "index": n, "tenant": ...},
//! "header": {...}, "authenticated": bool, "checks": [{"check": name, "outcome":
//! "pass"|"fail"|"skipped", "kind": ..., "message": ...}]}`. Messages are the validation's own
//! (they never echo token contents beyond the values above).
//!
//! An encrypted token a validator accepts (issue 14) is decrypted first: a `decryption` check
//! leads the list and `"encrypted": true` is added; the nested token is then explained as above.

use serde_json::{Map, Value, json};

use super::client::Client;
use super::error::{Error, ErrorKind, Result};
use super::json::{RawObject, Scalar, b64url_decode, printable, scalar};
use super::multi::Choice;
use super::validate::{Policy, check_audience, check_exp, check_iat, check_nbf, number, parse_token};

/// The error validation gives for a payload that is not one JSON object.
fn claims_error(text: &str) -> Error {
    match RawObject::parse(text) {
        Err(e) => Error::new(ErrorKind::TokenMalformed, format!("claims: {e}")),
        Ok(_) => Error::new(ErrorKind::TokenMalformed, "claims: not readable"),
    }
}

fn bounded(s: &str, max: usize) -> String {
    printable(s).chars().take(max).collect()
}

struct Checks {
    list: Vec<Value>,
    first: Option<Error>,
}

impl Checks {
    fn add(&mut self, name: &str, r: Result<()>) -> bool {
        let ok = r.is_ok();
        let mut e = Map::new();
        e.insert("check".into(), json!(name));
        match r {
            Ok(()) => {
                e.insert("outcome".into(), json!("pass"));
            }
            Err(x) => {
                e.insert("outcome".into(), json!("fail"));
                e.insert("kind".into(), json!(format!("{:?}", x.kind())));
                e.insert("message".into(), json!(x.message()));
                if self.first.is_none() {
                    self.first = Some(x);
                }
            }
        }
        self.list.push(Value::Object(e));
        ok
    }
    fn skip(&mut self, name: &str, why: &str) {
        self.list.push(json!({"check": name, "outcome": "skipped", "message": why}));
    }
}

impl Client {
    /// Explain the validation of `token` as of `now` (Unix seconds): every check and its
    /// outcome as a JSON document (see the module comment for what it may hold). Like
    /// `validate_at`, it may fetch keys (bounded by the client's timeouts); it never uses the
    /// verified-token cache.
    pub fn explain_at(&self, token: &str, now: f64) -> String {
        // An encrypted token this validator accepts: decryption first, then the nested token's
        // own checks (what validation does; nothing of the plaintext beyond the usual items).
        if self.policy().accept_encrypted && super::jose::jwe::looks_like_jwe(token) {
            let mut c = Checks { list: Vec::new(), first: None };
            return match self.decrypt_nested(token) {
                Ok(inner) => {
                    let mut doc: Value = serde_json::from_str(&self.explain_at(&inner, now)).unwrap_or(Value::Null);
                    if let Some(Value::Array(list)) = doc.get_mut("checks") {
                        c.add("decryption", Ok(()));
                        list.splice(0..0, c.list);
                    }
                    doc["encrypted"] = json!(true);
                    doc.to_string()
                }
                Err(e) => {
                    c.add("decryption", Err(e));
                    json!({"decision": "deny", "code": c.first.as_ref().map(|e| format!("{:?}", e.kind())), "issuer": {},
                           "header": {}, "authenticated": false, "encrypted": true, "checks": c.list})
                    .to_string()
                }
            };
        }
        let mut c = Checks { list: Vec::new(), first: None };
        let mut issuer = Map::new();
        let mut header = Map::new();
        let mut authenticated = false;
        // The unverified claims, if readable (for the issuer choice and the claim checks).
        let claims_text = token.split('.').nth(1).and_then(|p| b64url_decode(p.as_bytes()).ok()).and_then(|b| String::from_utf8(b).ok());
        let claims = claims_text.as_deref().and_then(|s| RawObject::parse(s).ok());
        let iss = claims.as_ref().and_then(|o| match o.get("iss").map(scalar) {
            Some(Scalar::Str(s)) => Some(s.into_owned()),
            _ => None,
        });
        if let Some(i) = &iss {
            issuer.insert("iss".into(), json!(bounded(i, 256)));
        }
        // 1. The issuer: which client decides, and why. A failed choice is listed after the
        // structure check, the order in which validation reports them.
        let mut tenant = None;
        let mut no_issuer: Option<Error> = None;
        let chosen: Option<Client> = match self.router() {
            None => {
                issuer.insert("chosen".into(), json!("single"));
                Some(self.clone())
            }
            Some(r) => match iss.as_deref().map(|i| r.choose(i)) {
                Some(Ok((Choice::Exact(n), _))) => {
                    issuer.insert("chosen".into(), json!("exact"));
                    issuer.insert("index".into(), json!(n));
                    issuer.insert("why".into(), json!("iss equals this configured issuer byte for byte"));
                    c.add("issuer", Ok(()));
                    r.exact_client(n).cloned()
                }
                Some(Ok((Choice::Template(n, t), client))) => {
                    issuer.insert("chosen".into(), json!("template"));
                    issuer.insert("index".into(), json!(n));
                    issuer.insert("tenant".into(), json!(&t));
                    issuer.insert("why".into(), json!("iss matches this issuer template with an accepted tenant"));
                    tenant = Some((t, r.tenant_claim(n).to_string()));
                    c.add("issuer", Ok(()));
                    client
                }
                Some(Err(e)) => {
                    issuer.insert("chosen".into(), json!("none"));
                    no_issuer = Some(e);
                    None
                }
                None => {
                    issuer.insert("chosen".into(), json!("none"));
                    no_issuer = Some(match (&claims_text, &claims) {
                        (Some(t), None) => claims_error(t),
                        (None, _) => Error::new(ErrorKind::TokenMalformed, "the token payload is not base64url-encoded UTF-8"),
                        (Some(_), Some(o)) => match o.get("iss").map(scalar) {
                            None | Some(Scalar::Null) => Error::new(ErrorKind::MissingClaim, "token has no iss claim"),
                            _ => Error::new(ErrorKind::InvalidClaim, "claim iss is not a string"),
                        },
                    });
                    None
                }
            },
        };
        let policy: Policy = chosen.as_ref().map(|x| x.policy().clone()).unwrap_or_else(|| self.policy().clone());
        // 2. Structure and header; 3. key and signature.
        let parsed = parse_token(token, &policy);
        c.add("structure_and_header", parsed.as_ref().map(|_| ()).map_err(Error::clone));
        if let Some(e) = no_issuer {
            c.add("issuer", Err(e));
        }
        match parsed {
            Ok(t) => {
                header.insert("alg".into(), json!(t.alg.name()));
                if let Some(k) = &t.kid {
                    header.insert("kid".into(), json!(bounded(k, 64)));
                }
                match &chosen {
                    Some(client) => authenticated = c.add("key_and_signature", client.verify_only(&t)),
                    None => c.skip("key_and_signature", "no issuer was chosen: no key of any issuer is tried"),
                }
            }
            Err(_) => c.skip("key_and_signature", "the token did not parse"),
        }
        // 4. Each claim rule, on its own.
        match &claims {
            // A payload that is not one JSON object (a duplicate member, say) fails validation.
            None => match &claims_text {
                Some(t) => {
                    c.add("claims", Err(claims_error(t)));
                }
                None => c.skip("claims", "the payload is not readable"),
            },
            Some(o) => {
                let leeway = policy.leeway_secs;
                let iss_ok = match o.get("iss").map(scalar) {
                    Some(Scalar::Str(s)) if *s == *policy.issuer => Ok(()),
                    Some(Scalar::Str(_)) => {
                        Err(Error::new(super::error::ErrorKind::IssuerMismatch, "token issuer is not the chosen issuer"))
                    }
                    None | Some(Scalar::Null) => Err(Error::new(super::error::ErrorKind::MissingClaim, "token has no iss claim")),
                    Some(_) => Err(Error::new(super::error::ErrorKind::InvalidClaim, "claim iss is not a string")),
                };
                c.add("claim iss", iss_ok);
                let exp = number(o.get("exp"), "exp");
                let exp_r = match &exp {
                    Ok(Some(e)) => check_exp(*e, leeway, now),
                    Ok(None) if !policy.require_exp => Ok(()),
                    Ok(None) => Err(Error::new(super::error::ErrorKind::MissingClaim, "token has no exp claim")),
                    Err(e) => Err(e.clone()),
                };
                c.add("claim exp", exp_r);
                let nbf = number(o.get("nbf"), "nbf");
                c.add("claim nbf", nbf.clone().and_then(|n| check_nbf(n, leeway, now)));
                let iat = number(o.get("iat"), "iat");
                c.add("claim iat", iat.clone().and_then(|n| check_iat(n, leeway, now)));
                let mut times = Map::new();
                for (k, v) in [("exp", exp), ("nbf", nbf), ("iat", iat)] {
                    if let Ok(Some(n)) = v {
                        times.insert(k.into(), json!(n));
                    }
                }
                issuer.insert("times".into(), Value::Object(times));
                if policy.any_audience && o.get("aud").is_none() {
                    c.skip("claim aud", "any audience is accepted and the token has none");
                } else {
                    c.add("claim aud", check_audience(o.get("aud"), &policy));
                }
                for name in &policy.required_claims {
                    let r = match o.get(name).map(scalar) {
                        None | Some(Scalar::Null) => Err(Error::new(
                            super::error::ErrorKind::MissingClaim,
                            format!("required claim '{}' is missing", printable(name)),
                        )),
                        Some(_) => Ok(()),
                    };
                    c.add(&format!("required claim {}", bounded(name, 64)), r);
                }
                if let Some((t, claim)) = &tenant {
                    let ok = matches!(o.get(claim).map(scalar), Some(Scalar::Str(s)) if *s == **t);
                    c.add(
                        "tenant claim",
                        if ok {
                            Ok(())
                        } else {
                            Err(Error::new(super::error::ErrorKind::IssuerMismatch, "the tenant claim does not match the tenant in iss"))
                        },
                    );
                }
            }
        }
        let doc = json!({
            "decision": if c.first.is_none() && authenticated { "allow" } else { "deny" },
            "code": c.first.as_ref().map(|e| format!("{:?}", e.kind())),
            "issuer": Value::Object(issuer),
            "header": Value::Object(header),
            "authenticated": authenticated,
            "checks": c.list,
        });
        doc.to_string()
    }
}
