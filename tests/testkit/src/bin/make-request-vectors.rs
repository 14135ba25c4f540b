//! Writes tests/vectors/requests.json: request-level shared vectors for request authentication
//! (`Client::authenticate`, `oidc_authenticate`): clients (a static JWKS and a resource policy
//! each), HTTP requests (Authorization and DPoP header values, method, URL, client certificate)
//! at a fixed "now", and the decision expected for each: allowed or not, the result code, the
//! HTTP status, the RFC 6750 / RFC 9449 error, the exact `WWW-Authenticate` values, the
//! `DPoP-Nonce` value, the token type and the subject. The format is described in
//! /work/handoff/SPEC.md and in the file's "description".
//!
//! Every expected value is written down here from the specification (the decision rules, the
//! challenge grammar, the fixed error descriptions, the documented nonce construction of
//! src/core/authn/nonce.rs, RFC 7638 thumbprints, RFC 9449 `ath`), never by asking liboidc: a
//! vector that echoes the library could not fail.
//!
//! Usage: cargo run -p oidc-testkit --bin make-request-vectors -- OUT.json
//! Keys, certificates, the nonce secret and the proofs' `jti`s are random, so the output is
//! generated once and committed. The file must run at most once per process: cases replay
//! earlier cases' proofs and expect DPOP_REPLAY from the process-wide replay cache.

use aws_lc_rs::hmac;
use base64::Engine;
use oidc_testkit::dpop::{ProofKey, sha256_b64};
use oidc_testkit::keys::{b64, b64_json};
use oidc_testkit::{Alg, TestKey};
use serde_json::{Value, json};

const ISS: &str = "https://issuer.vectors.test";
const AUD: &str = "api://vectors";
const NOW: i64 = 1_800_000_000;
const URL: &str = "https://api.vectors.test/items?x=1";
const HTU: &str = "https://api.vectors.test/items";
const NONCE_LIFETIME: u64 = 300;
/// The default DPoP allow-list as the challenge lists it (SPEC.md).
const ALGS_DEFAULT: &str = "ES256 ES384 ES512 EdDSA RS256 PS256";

/// The documented nonce of a time bucket (src/core/authn/nonce.rs):
/// base64url(bucket as 8 bytes big-endian || HMAC-SHA256(secret, "liboidc dpop nonce" || bucket)[..16]).
fn nonce_for(secret: &[u8], bucket: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut msg = b"liboidc dpop nonce".to_vec();
    msg.extend_from_slice(&bucket.to_be_bytes());
    let tag = hmac::sign(&key, &msg);
    let mut raw = bucket.to_be_bytes().to_vec();
    raw.extend_from_slice(&tag.as_ref()[..16]);
    b64(raw)
}

/// Proofs for `GET HTU` at NOW - 5 (a fresh jti each); `f` edits header and claims.
trait Proofs {
    fn at_with(&self, token: &str, f: impl FnOnce(&mut Value, &mut Value)) -> String;
    fn at(&self, token: &str) -> String {
        self.at_with(token, |_, _| {})
    }
}

impl Proofs for ProofKey {
    fn at_with(&self, token: &str, f: impl FnOnce(&mut Value, &mut Value)) -> String {
        ProofKey::proof_with(self, token, "GET", HTU, NOW - 5, f)
    }
}

/// One client of the file, as the challenge rules need it.
struct ClientDesc {
    name: &'static str,
    realm: Option<&'static str>,
    bearer: bool,
    dpop: bool,
    algs: &'static str,
    json: Value,
}

/// The fixed facts the spec gives for each result code: number, HTTP status, RFC 6750 / 9449
/// error code and the fixed `error_description`.
fn code_facts(name: &str) -> (u32, u16, Option<&'static str>, Option<&'static str>) {
    let tok = Some("invalid_token");
    let proof = Some("invalid_dpop_proof");
    match name {
        "OK" => (0, 200, None, None),
        "TOKEN_MISSING" => (321, 401, None, None),
        "REQUEST_MALFORMED" => (320, 400, Some("invalid_request"), Some("The request credentials are malformed")),
        "TOKEN_MALFORMED" => (300, 401, tok, Some("The access token is malformed")),
        "TOKEN_TOO_LARGE" => (301, 401, tok, Some("The access token is too large")),
        "UNKNOWN_KEY" => (303, 401, tok, Some("The access token signing key is unknown")),
        "SIGNATURE_INVALID" => (304, 401, tok, Some("The access token signature is invalid")),
        "TOKEN_EXPIRED" => (305, 401, tok, Some("The access token expired")),
        "ISSUER_MISMATCH" => (308, 401, tok, Some("The access token issuer is not accepted")),
        "AUDIENCE_MISMATCH" => (309, 401, tok, Some("The access token audience is not accepted")),
        "INVALID_CLAIM" => (311, 401, tok, Some("The access token has an invalid claim")),
        "KEY_REJECTED" => (314, 503, None, None),
        "DPOP_PROOF_INVALID" => (322, 401, proof, Some("The DPoP proof is invalid")),
        "DPOP_PROOF_MISMATCH" => (323, 401, proof, Some("The DPoP proof does not match the request")),
        "DPOP_PROOF_STALE" => (324, 401, proof, Some("The DPoP proof is outside the accepted time window")),
        "DPOP_REPLAY" => (325, 401, proof, Some("The DPoP proof was already used")),
        "DPOP_NONCE_REQUIRED" => (326, 401, Some("use_dpop_nonce"), Some("A fresh DPoP nonce is required")),
        "TOKEN_BINDING_MISMATCH" => (327, 401, tok, Some("The access token is not bound to this sender")),
        "CLAIM_NOT_ALLOWED" => (328, 403, Some("insufficient_scope"), Some("The access token is not authorized for this resource")),
        "INSUFFICIENT_SCOPE" => (418, 403, Some("insufficient_scope"), Some("The access token lacks a required scope")),
        other => panic!("no facts for {other}"),
    }
}

/// The challenges of a denial, by the spec's rules: one per offered scheme, Bearer first; realm
/// first when configured; the error (when the code has one) on the scheme the request used if
/// offered, else on the first offered; `scope` of a 403 after the description; the DPoP
/// challenge always ends with `algs`. 5xx denials carry none.
fn challenges(c: &ClientDesc, code_name: &str, used: Option<&str>, scope: Option<&str>) -> Vec<String> {
    let (_, status, error, desc) = code_facts(code_name);
    if status >= 500 {
        return Vec::new();
    }
    let offered: Vec<&str> = [(c.bearer, "Bearer"), (c.dpop, "DPoP")].iter().filter(|(on, _)| *on).map(|(_, s)| *s).collect();
    let target = used.filter(|u| offered.contains(u)).or(offered.first().copied());
    offered
        .iter()
        .map(|&scheme| {
            let mut parts = Vec::new();
            if let Some(r) = c.realm {
                parts.push(format!("realm=\"{r}\""));
            }
            if Some(scheme) == target {
                if let Some(e) = error {
                    parts.push(format!("error=\"{e}\""));
                    parts.push(format!("error_description=\"{}\"", desc.unwrap()));
                    if let Some(s) = scope {
                        parts.push(format!("scope=\"{s}\""));
                    }
                }
            }
            if scheme == "DPoP" {
                parts.push(format!("algs=\"{}\"", c.algs));
            }
            if parts.is_empty() { scheme.to_string() } else { format!("{scheme} {}", parts.join(", ")) }
        })
        .collect()
}

struct Request {
    authorization: Vec<String>,
    dpop: Vec<String>,
    url: String,
    method: &'static str,
    cert: Option<Vec<u8>>,
}

impl Request {
    fn none() -> Request {
        Request { authorization: vec![], dpop: vec![], url: URL.into(), method: "GET", cert: None }
    }
    fn auth(v: impl Into<String>) -> Request {
        Request { authorization: vec![v.into()], ..Request::none() }
    }
    fn bearer(token: &str) -> Request {
        Request::auth(format!("Bearer {token}"))
    }
    fn dpop(token: &str, proof: impl Into<String>) -> Request {
        Request { authorization: vec![format!("DPoP {token}")], dpop: vec![proof.into()], ..Request::none() }
    }
    fn url(mut self, u: &str) -> Request {
        self.url = u.into();
        self
    }
    fn cert(mut self, der: &[u8]) -> Request {
        self.cert = Some(der.to_vec());
        self
    }
    fn to_json(&self) -> Value {
        json!({"authorization": self.authorization, "dpop": self.dpop, "method": self.method, "url": self.url,
               "client_cert_b64": self.cert.as_ref().map(|c| base64::engine::general_purpose::STANDARD.encode(c))})
    }
}

struct Expect {
    code_name: &'static str,
    used: Option<&'static str>,
    scope: Option<&'static str>,
    nonce: Option<String>,
    token_type: Option<&'static str>,
}

fn allow(token_type: &'static str) -> Expect {
    Expect { code_name: "OK", used: None, scope: None, nonce: None, token_type: Some(token_type) }
}

/// A denial whose error lands on the scheme `used` (None: no usable scheme in the request).
fn deny(code_name: &'static str, used: Option<&'static str>) -> Expect {
    Expect { code_name, used, scope: None, nonce: None, token_type: None }
}

impl Expect {
    fn scope(mut self, s: &'static str) -> Expect {
        self.scope = Some(s);
        self
    }
    fn nonce(mut self, n: &str) -> Expect {
        self.nonce = Some(n.to_string());
        self
    }
}

fn client_json(realm: Option<&str>, f: impl FnOnce(&mut Value)) -> Value {
    let mut c = json!({
        "issuer": ISS, "audiences": [AUD], "expected_typ": "at+jwt", "algorithms": "RS256,PS256,ES256,EdDSA",
        "leeway_secs": 60, "max_token_bytes": 8192, "realm": realm,
        "required_scopes": [], "claim_values": {},
        "dpop_mode": "allowed", "dpop_algorithms": null, "dpop_proof_window_secs": null,
        "dpop_nonce_secret_hex": null, "dpop_nonce_lifetime_secs": null,
        "require_mtls": false, "token_cache_size": null,
    });
    f(&mut c);
    c
}

fn main() {
    let out = std::env::args().nth(1).expect("usage: make-request-vectors OUT.json");

    // Token signing keys (the static JWKS) and one weak key the policy refuses.
    let es = TestKey::generate_with_kid(Alg::ES256, "es256-key");
    let rs = TestKey::generate_with_kid(Alg::RS256, "rs256-key");
    let weak = TestKey::weak_rsa1024();
    let stranger = TestKey::generate_with_kid(Alg::ES256, "not-published");
    let jwks = json!({"keys": [es.public_jwk(), rs.public_jwk(), weak.public_jwk()]});

    // DPoP proof keys.
    let pk_es = ProofKey::new(Alg::ES256);
    let pk_other = ProofKey::new(Alg::ES256);
    let pk_ed = ProofKey::new(Alg::EdDSA);
    let pk_rs = ProofKey::new(Alg::RS256);
    let pk_ps = ProofKey::new(Alg::PS256);
    let pk_es384 = ProofKey::new(Alg::ES384);

    // mTLS client certificates (self-signed; only their SHA-256 matters to the resource).
    let cert = |san: &str| rcgen::generate_simple_self_signed(vec![san.to_string()]).expect("cert").cert.der().to_vec();
    let cert_a = cert("client-a.vectors.test");
    let cert_b = cert("client-b.vectors.test");
    let x5t_a = sha256_b64(&cert_a);

    let mut secret = vec![0u8; 32];
    aws_lc_rs::rand::fill(&mut secret).expect("rng");
    let secret_hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let bucket = NOW as u64 / NONCE_LIFETIME;
    let nonce_now = nonce_for(&secret, bucket);
    let nonce_prev = nonce_for(&secret, bucket - 1);
    let nonce_forged = nonce_for(b"not the resource's nonce secret!", bucket);

    let claims = || {
        json!({"iss": ISS, "aud": AUD, "sub": "alice", "scope": "read write", "iat": NOW - 10, "nbf": NOW - 10,
               "exp": NOW + 300, "jti": "token-jti", "client_id": "svc"})
    };
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims();
        f(&mut c);
        c
    };
    let bound = |jkt: &str| with(&|c| c["cnf"] = json!({"jkt": jkt}));
    let token = es.sign(&claims());
    let token_rs = rs.sign(&claims());
    let tok_es = es.sign(&bound(&pk_es.jkt));
    let tok_ed = es.sign(&bound(&pk_ed.jkt));
    let tok_rs = rs.sign(&bound(&pk_rs.jkt));
    let tok_ps = es.sign(&bound(&pk_ps.jkt));
    let tok_mtls = es.sign(&with(&|c| c["cnf"] = json!({"x5t#S256": x5t_a})));

    let clients = vec![
        ClientDesc {
            name: "main",
            realm: Some("api"),
            bearer: true,
            dpop: true,
            algs: ALGS_DEFAULT,
            json: client_json(Some("api"), |_| {}),
        },
        ClientDesc {
            name: "no_realm",
            realm: None,
            bearer: true,
            dpop: true,
            algs: ALGS_DEFAULT,
            json: client_json(None, |c| c["token_cache_size"] = json!(0)),
        },
        ClientDesc {
            name: "scoped",
            realm: Some("api"),
            bearer: true,
            dpop: true,
            algs: ALGS_DEFAULT,
            json: client_json(Some("api"), |c| c["required_scopes"] = json!(["read", "write"])),
        },
        ClientDesc {
            name: "client_ids",
            realm: Some("api"),
            bearer: true,
            dpop: true,
            algs: ALGS_DEFAULT,
            json: client_json(Some("api"), |c| c["claim_values"] = json!({"client_id": ["svc", "web"]})),
        },
        ClientDesc {
            name: "nonces",
            realm: Some("api"),
            bearer: true,
            dpop: true,
            algs: ALGS_DEFAULT,
            json: client_json(Some("api"), |c| {
                c["dpop_nonce_secret_hex"] = json!(secret_hex);
                c["dpop_nonce_lifetime_secs"] = json!(NONCE_LIFETIME);
            }),
        },
        ClientDesc {
            name: "dpop_required",
            realm: Some("api"),
            bearer: false,
            dpop: true,
            algs: ALGS_DEFAULT,
            json: client_json(Some("api"), |c| c["dpop_mode"] = json!("required")),
        },
        ClientDesc {
            name: "dpop_disabled",
            realm: Some("api"),
            bearer: true,
            dpop: false,
            algs: "",
            json: client_json(Some("api"), |c| c["dpop_mode"] = json!("disabled")),
        },
        ClientDesc {
            name: "dpop_ec_only",
            realm: None,
            bearer: true,
            dpop: true,
            algs: "ES256 EdDSA",
            json: client_json(None, |c| {
                c["dpop_algorithms"] = json!("EdDSA,ES256");
                c["dpop_proof_window_secs"] = json!(30);
            }),
        },
        ClientDesc {
            name: "mtls_required",
            realm: Some("api"),
            bearer: true,
            dpop: true,
            algs: ALGS_DEFAULT,
            json: client_json(Some("api"), |c| c["require_mtls"] = json!(true)),
        },
    ];
    let client = |n: &str| clients.iter().find(|c| c.name == n).unwrap_or_else(|| panic!("client {n}"));

    let mut cases: Vec<Value> = Vec::new();
    let mut add = |name: &str, cname: &str, req: Request, e: Expect| {
        let c = client(cname);
        let (code, status, error, _) = code_facts(e.code_name);
        let allowed = e.code_name == "OK";
        assert!(cases.iter().all(|x| x["name"] != name), "duplicate case name {name}");
        cases.push(json!({
            "name": name, "client": cname, "request": req.to_json(),
            "expect": {
                "allowed": allowed, "code": code, "code_name": e.code_name, "status": status, "error": error,
                "challenges": if allowed { vec![] } else { challenges(c, e.code_name, e.used, e.scope) },
                "dpop_nonce": e.nonce, "token_type": e.token_type, "sub": if allowed { Some("alice") } else { None },
            },
        }));
    };
    let b = Some("Bearer");
    let d = Some("DPoP");

    // ---- the Authorization header (RFC 6750 §2.1, RFC 9449 §7.1) ----
    add("no Authorization header", "main", Request::none(), deny("TOKEN_MISSING", None));
    add("Basic scheme is not a token", "main", Request::auth("Basic dXNlcjpwYXNz"), deny("TOKEN_MISSING", None));
    add("Bearer token allowed (ES256 token)", "main", Request::bearer(&token), allow("Bearer"));
    add("Bearer token allowed (RS256 token)", "main", Request::bearer(&token_rs), allow("Bearer"));
    add("scheme is case-insensitive (bEaReR)", "main", Request::auth(format!("bEaReR {token}")), allow("Bearer"));
    add("several spaces after the scheme", "main", Request::auth(format!("Bearer   {token}")), allow("Bearer"));
    add(
        "two Authorization headers",
        "main",
        Request { authorization: vec![format!("Bearer {token}"), format!("Bearer {token}")], ..Request::none() },
        deny("REQUEST_MALFORMED", None),
    );
    add("two credentials in one header", "main", Request::auth(format!("Bearer {token}, Bearer {token}")), deny("REQUEST_MALFORMED", b));
    add("token is not a b64token (quote)", "main", Request::auth("Bearer abc\"def"), deny("REQUEST_MALFORMED", b));
    add("token is not a b64token (= inside)", "main", Request::auth("Bearer ab=cd"), deny("REQUEST_MALFORMED", b));
    add("empty token", "main", Request::auth("Bearer "), deny("REQUEST_MALFORMED", b));
    add("empty Authorization header", "main", Request::auth(""), deny("REQUEST_MALFORMED", None));
    add("malformed DPoP credentials: error on the DPoP challenge", "main", Request::auth("DPoP abc def"), deny("REQUEST_MALFORMED", d));
    let big = es.sign(&with(&|c| c["pad"] = json!("x".repeat(9000))));
    add("oversized token", "main", Request::bearer(&big), deny("TOKEN_TOO_LARGE", b));

    // ---- access-token validation failures ----
    add("expired token", "main", Request::bearer(&es.sign(&with(&|c| c["exp"] = json!(NOW - 61)))), deny("TOKEN_EXPIRED", b));
    add("expired inside the leeway is allowed", "main", Request::bearer(&es.sign(&with(&|c| c["exp"] = json!(NOW - 30)))), allow("Bearer"));
    add("wrong audience", "main", Request::bearer(&es.sign(&with(&|c| c["aud"] = json!("api://other")))), deny("AUDIENCE_MISMATCH", b));
    add("wrong issuer", "main", Request::bearer(&es.sign(&with(&|c| c["iss"] = json!("https://evil.test")))), deny("ISSUER_MISMATCH", b));
    let p: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", p[0], b64_json(&with(&|c| c["sub"] = json!("mallory"))), p[2]);
    add("bad signature (tampered payload)", "main", Request::bearer(&tampered), deny("SIGNATURE_INVALID", b));
    add("unknown signing key", "main", Request::bearer(&stranger.sign(&claims())), deny("UNKNOWN_KEY", b));
    add("token is not a JWS", "main", Request::bearer("abc.def"), deny("TOKEN_MALFORMED", b));
    add("key refused by policy (RSA 1024): 503, no challenge", "main", Request::bearer(&weak.sign(&claims())), deny("KEY_REJECTED", b));

    // ---- DPoP (RFC 9449 §4.3, §7) ----
    let replayed = pk_es.at(&tok_es);
    add("DPoP proof allowed (ES256 proof)", "main", Request::dpop(&tok_es, replayed.clone()), allow("DPoP"));
    add("DPoP proof allowed (EdDSA proof)", "main", Request::dpop(&tok_ed, pk_ed.at(&tok_ed)), allow("DPoP"));
    add("DPoP proof allowed (RS256 proof, RS256 token)", "main", Request::dpop(&tok_rs, pk_rs.at(&tok_rs)), allow("DPoP"));
    add("DPoP proof allowed (PS256 proof)", "main", Request::dpop(&tok_ps, pk_ps.at(&tok_ps)), allow("DPoP"));
    add(
        "DPoP scheme is case-insensitive (dpop)",
        "main",
        Request { authorization: vec![format!("dpop {tok_es}")], ..Request::dpop(&tok_es, pk_es.at(&tok_es)) },
        allow("DPoP"),
    );
    add(
        "htu with query and fragment is allowed (both ignored)",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["htu"] = json!("https://api.vectors.test/items?y=2#frag"))),
        allow("DPoP"),
    );
    add(
        "htu compared with host case and default port normalized",
        "main",
        Request::dpop(&tok_es, pk_es.at(&tok_es)).url("https://API.Vectors.TEST:443/items?x=1"),
        allow("DPoP"),
    );
    add(
        "htu with upper-case scheme and host in the proof",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["htu"] = json!("HTTPS://api.VECTORS.test/items"))),
        allow("DPoP"),
    );
    add("DPoP: no DPoP header", "main", Request { dpop: vec![], ..Request::dpop(&tok_es, "") }, deny("DPOP_PROOF_INVALID", d));
    add(
        "DPoP: two DPoP headers",
        "main",
        Request { dpop: vec![pk_es.at(&tok_es), pk_es.at(&tok_es)], ..Request::dpop(&tok_es, "") },
        deny("DPOP_PROOF_INVALID", d),
    );
    add("DPoP: proof is not a JWS", "main", Request::dpop(&tok_es, "not-a-jws"), deny("DPOP_PROOF_INVALID", d));
    add(
        "DPoP: typ is not dpop+jwt",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |h, _| h["typ"] = json!("jwt"))),
        deny("DPOP_PROOF_INVALID", d),
    );
    add(
        "DPoP: typ missing",
        "main",
        Request::dpop(
            &tok_es,
            pk_es.at_with(&tok_es, |h, _| {
                h.as_object_mut().unwrap().remove("typ");
            }),
        ),
        deny("DPOP_PROOF_INVALID", d),
    );
    let unsigned = |alg: &str| {
        let mut h = pk_es.header();
        h["alg"] = json!(alg);
        let c = json!({"jti": oidc_testkit::dpop::random_jti(), "htm": "GET", "htu": HTU, "iat": NOW - 5,
                       "ath": sha256_b64(tok_es.as_bytes())});
        format!("{}.{}.{}", b64_json(&h), b64_json(&c), b64([9u8; 32]))
    };
    add("DPoP: alg none", "main", Request::dpop(&tok_es, unsigned("none")), deny("DPOP_PROOF_INVALID", d));
    add("DPoP: alg HS256", "main", Request::dpop(&tok_es, unsigned("HS256")), deny("DPOP_PROOF_INVALID", d));
    let rs384 = ProofKey { key: pk_rs.key.with_alg(Alg::RS384), jwk: pk_rs.jwk.clone(), jkt: pk_rs.jkt.clone() };
    add("DPoP: alg RS384 is not in the allow-list", "main", Request::dpop(&tok_rs, rs384.at(&tok_rs)), deny("DPOP_PROOF_INVALID", d));
    let tok_es384 = es.sign(&bound(&pk_es384.jkt));
    add("DPoP: ES384 allowed by default", "main", Request::dpop(&tok_es384, pk_es384.at(&tok_es384)), allow("DPoP"));
    add(
        "DPoP: no jwk",
        "main",
        Request::dpop(
            &tok_es,
            pk_es.at_with(&tok_es, |h, _| {
                h.as_object_mut().unwrap().remove("jwk");
            }),
        ),
        deny("DPOP_PROOF_INVALID", d),
    );
    add(
        "DPoP: jwk with private member d",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |h, _| h["jwk"]["d"] = json!(b64([5u8; 32])))),
        deny("DPOP_PROOF_INVALID", d),
    );
    add(
        "DPoP: jwk of the wrong type for alg (OKP key, ES256)",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |h, _| h["jwk"] = pk_ed.jwk.clone())),
        deny("DPOP_PROOF_INVALID", d),
    );
    add(
        "DPoP: signature by another key than the jwk",
        "main",
        Request::dpop(&tok_es, pk_other.at_with(&tok_es, |h, _| h["jwk"] = pk_es.jwk.clone())),
        deny("DPOP_PROOF_INVALID", d),
    );
    for claim in ["jti", "htm", "htu", "iat", "ath"] {
        add(
            &format!("DPoP: no {claim} claim"),
            "main",
            Request::dpop(
                &tok_es,
                pk_es.at_with(&tok_es, |_, c| {
                    c.as_object_mut().unwrap().remove(claim);
                }),
            ),
            deny("DPOP_PROOF_INVALID", d),
        );
    }
    add(
        "DPoP: oversized proof",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["pad"] = json!("x".repeat(9000)))),
        deny("DPOP_PROOF_INVALID", d),
    );
    add(
        "DPoP: htm is not the method",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["htm"] = json!("POST"))),
        deny("DPOP_PROOF_MISMATCH", d),
    );
    add(
        "DPoP: htm in lower case",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["htm"] = json!("get"))),
        deny("DPOP_PROOF_MISMATCH", d),
    );
    add(
        "DPoP: htu of another path",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["htu"] = json!("https://api.vectors.test/other"))),
        deny("DPOP_PROOF_MISMATCH", d),
    );
    add(
        "DPoP: htu of another host",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["htu"] = json!("https://evil.vectors.test/items"))),
        deny("DPOP_PROOF_MISMATCH", d),
    );
    add(
        "DPoP: htu with a non-default port",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["htu"] = json!("https://api.vectors.test:8443/items"))),
        deny("DPOP_PROOF_MISMATCH", d),
    );
    add(
        "DPoP: htu with http instead of https",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["htu"] = json!("http://api.vectors.test/items"))),
        deny("DPOP_PROOF_MISMATCH", d),
    );
    add(
        "DPoP: iat too old (61 s, window 60 s)",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["iat"] = json!(NOW - 61))),
        deny("DPOP_PROOF_STALE", d),
    );
    add(
        "DPoP: iat in the future beyond the leeway (61 s, leeway 60 s)",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["iat"] = json!(NOW + 61))),
        deny("DPOP_PROOF_STALE", d),
    );
    add(
        "DPoP: iat in the future inside the leeway",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["iat"] = json!(NOW + 50))),
        allow("DPoP"),
    );
    add(
        "DPoP: ath of another token",
        "main",
        Request::dpop(&tok_es, pk_es.at_with(&tok_es, |_, c| c["ath"] = json!(sha256_b64(token.as_bytes())))),
        deny("DPOP_PROOF_MISMATCH", d),
    );
    add("DPoP: proof key is not cnf.jkt", "main", Request::dpop(&tok_es, pk_other.at(&tok_es)), deny("TOKEN_BINDING_MISMATCH", d));
    add("DPoP-bound token sent as Bearer", "main", Request::bearer(&tok_es), deny("TOKEN_BINDING_MISMATCH", b));
    add(
        "DPoP-bound token sent as Bearer with a valid proof",
        "main",
        Request { dpop: vec![pk_es.at(&tok_es)], ..Request::bearer(&tok_es) },
        deny("TOKEN_BINDING_MISMATCH", b),
    );
    add("DPoP scheme with an unbound token", "main", Request::dpop(&token, pk_es.at(&token)), deny("TOKEN_BINDING_MISMATCH", d));
    add(
        "DPoP with an expired bound token",
        "main",
        {
            let t = es.sign(&with(&|c| {
                c["cnf"] = json!({"jkt": pk_es.jkt});
                c["exp"] = json!(NOW - 61);
            }));
            Request::dpop(&t, pk_es.at(&t))
        },
        deny("TOKEN_EXPIRED", d),
    );
    add("DPoP: replay of an allowed proof", "main", Request::dpop(&tok_es, replayed.clone()), deny("DPOP_REPLAY", d));
    add("DPoP: replay at another client of the same issuer", "no_realm", Request::dpop(&tok_es, replayed), deny("DPOP_REPLAY", d));
    let denied_then_fresh = pk_es.at_with(&tok_es, |_, c| c["htm"] = json!("GET"));
    add(
        "DPoP: a proof first sent with the wrong URL (denied, not recorded)",
        "main",
        Request::dpop(&tok_es, denied_then_fresh.clone()).url("https://api.vectors.test/other"),
        deny("DPOP_PROOF_MISMATCH", d),
    );
    add("DPoP: the same proof at the right URL is allowed", "main", Request::dpop(&tok_es, denied_then_fresh), allow("DPoP"));

    // ---- server nonces (RFC 9449 §8) ----
    add(
        "nonce: proof without a nonce",
        "nonces",
        Request::dpop(&tok_es, pk_es.at(&tok_es)),
        deny("DPOP_NONCE_REQUIRED", d).nonce(&nonce_now),
    );
    let with_nonce = |n: &str| pk_es.at_with(&tok_es, |_, c| c["nonce"] = json!(n));
    add("nonce: current nonce is allowed", "nonces", Request::dpop(&tok_es, with_nonce(&nonce_now)), allow("DPoP"));
    add(
        "nonce: previous period's nonce is allowed, a fresh one offered",
        "nonces",
        Request::dpop(&tok_es, with_nonce(&nonce_prev)),
        Expect { nonce: Some(nonce_now.clone()), ..allow("DPoP") },
    );
    add(
        "nonce: forged nonce",
        "nonces",
        Request::dpop(&tok_es, with_nonce(&nonce_forged)),
        deny("DPOP_NONCE_REQUIRED", d).nonce(&nonce_now),
    );
    add(
        "nonce: nonce two periods old",
        "nonces",
        Request::dpop(&tok_es, with_nonce(&nonce_for(&secret, bucket - 2))),
        deny("DPOP_NONCE_REQUIRED", d).nonce(&nonce_now),
    );
    add("nonce: no Authorization header gets a nonce", "nonces", Request::none(), deny("TOKEN_MISSING", None).nonce(&nonce_now));
    add("nonce: Bearer request gets none", "nonces", Request::bearer(&token), allow("Bearer"));
    add(
        "nonce: an invalid proof is refused before the nonce is checked",
        "nonces",
        Request::dpop(
            &tok_es,
            pk_es.at_with(&tok_es, |h, c| {
                h["typ"] = json!("jwt");
                c["nonce"] = json!(nonce_now);
            }),
        ),
        deny("DPOP_PROOF_INVALID", d).nonce(&nonce_now),
    );

    // ---- DPoP modes ----
    add("dpop required: Bearer is not offered", "dpop_required", Request::bearer(&token), deny("TOKEN_MISSING", None));
    add("dpop required: no header", "dpop_required", Request::none(), deny("TOKEN_MISSING", None));
    add("dpop required: DPoP allowed", "dpop_required", Request::dpop(&tok_es, pk_es.at(&tok_es)), allow("DPoP"));
    add(
        "dpop required: DPoP with an unbound token",
        "dpop_required",
        Request::dpop(&token, pk_es.at(&token)),
        deny("TOKEN_BINDING_MISMATCH", d),
    );
    add("dpop disabled: DPoP is not offered", "dpop_disabled", Request::dpop(&tok_es, pk_es.at(&tok_es)), deny("TOKEN_MISSING", None));
    add("dpop disabled: Bearer allowed", "dpop_disabled", Request::bearer(&token), allow("Bearer"));
    add("dpop disabled: DPoP-bound token as Bearer", "dpop_disabled", Request::bearer(&tok_es), deny("TOKEN_BINDING_MISMATCH", b));
    add("dpop algorithms: no header lists the configured algs", "dpop_ec_only", Request::none(), deny("TOKEN_MISSING", None));
    add("dpop algorithms: PS256 proof refused", "dpop_ec_only", Request::dpop(&tok_ps, pk_ps.at(&tok_ps)), deny("DPOP_PROOF_INVALID", d));
    add("dpop algorithms: EdDSA proof allowed", "dpop_ec_only", Request::dpop(&tok_ed, pk_ed.at(&tok_ed)), allow("DPoP"));
    add(
        "dpop window 30 s: proof 31 s old",
        "dpop_ec_only",
        Request::dpop(&tok_ed, pk_ed.at_with(&tok_ed, |_, c| c["iat"] = json!(NOW - 31))),
        deny("DPOP_PROOF_STALE", d),
    );

    // ---- mTLS-bound tokens (RFC 8705 §3) ----
    add("mtls: certificate matches cnf.x5t#S256", "main", Request::bearer(&tok_mtls).cert(&cert_a), allow("Bearer"));
    add("mtls: another certificate", "main", Request::bearer(&tok_mtls).cert(&cert_b), deny("TOKEN_BINDING_MISMATCH", b));
    add("mtls: bound token without a certificate", "main", Request::bearer(&tok_mtls), deny("TOKEN_BINDING_MISMATCH", b));
    add("mtls: unbound token with a certificate is allowed", "main", Request::bearer(&token).cert(&cert_a), allow("Bearer"));
    add("mtls required: unbound token", "mtls_required", Request::bearer(&token).cert(&cert_a), deny("TOKEN_BINDING_MISMATCH", b));
    add("mtls required: bound token with its certificate", "mtls_required", Request::bearer(&tok_mtls).cert(&cert_a), allow("Bearer"));

    // ---- scopes (required: read, write) ----
    let scoped = |f: &dyn Fn(&mut Value)| {
        let mut c = claims();
        c.as_object_mut().unwrap().remove("scope");
        f(&mut c);
        es.sign(&c)
    };
    add("scope: space-separated string", "scoped", Request::bearer(&scoped(&|c| c["scope"] = json!("write read other"))), allow("Bearer"));
    add("scope: array", "scoped", Request::bearer(&scoped(&|c| c["scope"] = json!(["read", "write"]))), allow("Bearer"));
    add("scp: array", "scoped", Request::bearer(&scoped(&|c| c["scp"] = json!(["read", "write"]))), allow("Bearer"));
    add("scp: space-separated string", "scoped", Request::bearer(&scoped(&|c| c["scp"] = json!("read write"))), allow("Bearer"));
    add(
        "scope and scp: the union",
        "scoped",
        Request::bearer(&scoped(&|c| {
            c["scope"] = json!("read");
            c["scp"] = json!(["write"]);
        })),
        allow("Bearer"),
    );
    add("scope: wrong type (number)", "scoped", Request::bearer(&scoped(&|c| c["scope"] = json!(5))), deny("INVALID_CLAIM", b));
    add("scp: wrong type (object)", "scoped", Request::bearer(&scoped(&|c| c["scp"] = json!({"read": true}))), deny("INVALID_CLAIM", b));
    add("scope: missing", "scoped", Request::bearer(&scoped(&|_| {})), deny("INSUFFICIENT_SCOPE", b).scope("read write"));
    add(
        "scope: one of two missing",
        "scoped",
        Request::bearer(&scoped(&|c| c["scope"] = json!("read"))),
        deny("INSUFFICIENT_SCOPE", b).scope("write"),
    );
    add(
        "scope: prefix is not a match",
        "scoped",
        Request::bearer(&scoped(&|c| c["scope"] = json!("readwrite"))),
        deny("INSUFFICIENT_SCOPE", b).scope("read write"),
    );
    let tok_es_read = es.sign(&with(&|c| {
        c["cnf"] = json!({"jkt": pk_es.jkt});
        c["scope"] = json!("read");
    }));
    add(
        "scope: DPoP request lacking a scope",
        "scoped",
        Request::dpop(&tok_es_read, pk_es.at(&tok_es_read)),
        deny("INSUFFICIENT_SCOPE", d).scope("write"),
    );

    // ---- claim-value allow-list (client_id in svc, web) ----
    add("claim value: allowed", "client_ids", Request::bearer(&token), allow("Bearer"));
    add(
        "claim value: array holding an allowed value",
        "client_ids",
        Request::bearer(&es.sign(&with(&|c| c["client_id"] = json!(["x", "web"])))),
        allow("Bearer"),
    );
    add(
        "claim value: not allowed",
        "client_ids",
        Request::bearer(&es.sign(&with(&|c| c["client_id"] = json!("evil")))),
        deny("CLAIM_NOT_ALLOWED", b),
    );
    add(
        "claim value: missing",
        "client_ids",
        Request::bearer(&es.sign(&with(&|c| {
            c.as_object_mut().unwrap().remove("client_id");
        }))),
        deny("CLAIM_NOT_ALLOWED", b),
    );

    // ---- realm absent ----
    add("no realm: no header", "no_realm", Request::none(), deny("TOKEN_MISSING", None));
    add("no realm: expired token", "no_realm", Request::bearer(&es.sign(&with(&|c| c["exp"] = json!(NOW - 61)))), deny("TOKEN_EXPIRED", b));
    add("no realm: bad DPoP proof", "no_realm", Request::dpop(&tok_es, "x.y.z"), deny("DPOP_PROOF_INVALID", d));
    add("no realm: allowed", "no_realm", Request::bearer(&token), allow("Bearer"));

    let clients_json: serde_json::Map<String, Value> = clients.iter().map(|c| (c.name.to_string(), c.json.clone())).collect();
    let doc = json!({
        "description": "Shared request-authentication vectors. Build one client per entry of \"clients\" (static JWKS = \"jwks\"; null members mean \"do not set\"), then run the cases IN FILE ORDER through Client::authenticate / oidc_authenticate, each with now = \"now\" (oidc_http_request_set_now), and compare every member of \"expect\" (challenges exactly, in order; sub is the allowed principal's sub claim). Run the file at most once per process: the DPoP replay cache is process-wide and later cases replay earlier cases' proofs. Generated by tests/testkit/src/bin/make-request-vectors.rs (expected values written from the spec, not by liboidc).",
        "now": NOW,
        "jwks": jwks,
        "clients": clients_json,
        "cases": cases,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    eprintln!("wrote {} cases to {out}", doc["cases"].as_array().unwrap().len());
}
