//! Writes tests/vectors/logout.json: back-channel logout tokens (OpenID Connect Back-Channel
//! Logout 1.0), the relying party's configuration (issuer, client id, static JWKS, leeway), a
//! fixed "now", and the expected decision of each step. A case runs its steps in order on one
//! fresh protocol client (so replays are decided within the case); a step names the path that
//! decides it: `logout_token` (validate a logout token), `access_token` (a validator with the
//! same issuer, audience = client id, no typ rule) or `id_token` (ID-token validation, no
//! nonce sent). An accepted logout token also gives the expected `sub`, `sid` (null when absent)
//! and `jti`.
//!
//! Usage: cargo run -p oidc-testkit --bin make-logout-vectors -- OUT.json
//! Keys are random, so the output is generated once and committed.

use oidc_testkit::keys::{b64, b64_json};
use oidc_testkit::{Alg, TestKey};
use serde_json::{Value, json};

const ISS: &str = "https://op.logout.vectors.test";
const CLIENT: &str = "rp-vectors";
const NOW: i64 = 1_800_000_000;
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn claims(jti: &str) -> Value {
    json!({"iss": ISS, "aud": CLIENT, "iat": NOW - 10, "exp": NOW + 120, "jti": jti, "sub": "alice",
           "sid": "session-1", "events": {EVENT: {}}})
}

fn with(jti: &str, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut c = claims(jti);
    f(c.as_object_mut().unwrap());
    c
}

fn header(k: &TestKey, typ: Option<&str>) -> Value {
    let mut h = json!({"alg": k.alg().name(), "kid": k.kid()});
    if let Some(t) = typ {
        h["typ"] = json!(t);
    }
    h
}

fn code(name: &str) -> u32 {
    match name {
        "OK" => 0,
        "UNKNOWN_KEY" => 303,
        "SIGNATURE_INVALID" => 304,
        "TOKEN_EXPIRED" => 305,
        "TOKEN_ISSUED_IN_FUTURE" => 307,
        "ISSUER_MISMATCH" => 308,
        "AUDIENCE_MISMATCH" => 309,
        "MISSING_CLAIM" => 310,
        "INVALID_CLAIM" => 311,
        "TYPE_MISMATCH" => 312,
        "TOKEN_REPLAYED" => 317,
        other => panic!("no code for {other}"),
    }
}

fn step(path: &str, token: &str, expect: &str) -> Value {
    json!({"path": path, "token": token, "expect": expect, "code": code(expect)})
}

/// An accepted logout token: OK with the identifiers it carries.
fn ok(token: &str, c: &Value) -> Value {
    let mut s = step("logout_token", token, "OK");
    s["sub"] = c.get("sub").cloned().unwrap_or(Value::Null);
    s["sid"] = c.get("sid").cloned().unwrap_or(Value::Null);
    s["jti"] = c["jti"].clone();
    s
}

fn main() {
    let out = std::env::args().nth(1).expect("usage: make-logout-vectors OUT.json");
    let es = TestKey::generate_with_kid(Alg::ES256, "logout-es256");
    let rs = TestKey::generate_with_kid(Alg::RS256, "logout-rs256");
    let stranger = TestKey::generate_with_kid(Alg::ES256, "not-published");
    let jwks = json!({"keys": [es.public_jwk(), rs.public_jwk()]});

    let typed = |k: &TestKey, c: &Value| k.sign_token(&header(k, Some("logout+jwt")), c);
    let mut cases: Vec<Value> = Vec::new();
    let mut case = |name: &str, untyped: bool, steps: Vec<Value>| {
        cases.push(json!({"name": name, "client": {"accept_untyped": untyped}, "steps": steps}));
    };
    let one = |token: &str, expect: &str| vec![step("logout_token", token, expect)];

    // Accepted.
    let c = with("v-sub", |m| {
        m.remove("sid");
    });
    case("sub only", false, vec![ok(&typed(&es, &c), &c)]);
    let c = with("v-sid", |m| {
        m.remove("sub");
    });
    case("sid only", false, vec![ok(&typed(&es, &c), &c)]);
    let c = claims("v-both");
    case("sub and sid, RS256", false, vec![ok(&typed(&rs, &c), &c)]);
    let c = claims("v-media");
    case(
        "typ with the application/ prefix, any case",
        false,
        vec![ok(&es.sign_token(&header(&es, Some("application/Logout+JWT")), &c), &c)],
    );
    let c = with("v-event-obj", |m| {
        m.insert("events".into(), json!({EVENT: {"reason": "user"}, "urn:other": {}}));
    });
    case("event value a non-empty object, other events beside it", false, vec![ok(&typed(&es, &c), &c)]);
    let c = with("v-aud-array", |m| {
        m.insert("aud".into(), json!(["other-rp", CLIENT]));
    });
    case("audience in an array", false, vec![ok(&typed(&es, &c), &c)]);
    let c = with("v-leeway", |m| {
        m.insert("exp".into(), json!(NOW - 30));
    });
    case("expired inside the leeway", false, vec![ok(&typed(&es, &c), &c)]);

    // Typing.
    let c = claims("t-none");
    case("no typ", false, one(&es.sign_token(&header(&es, None), &c), "TYPE_MISMATCH"));
    case("no typ, client accepts untyped logout tokens", true, vec![ok(&es.sign_token(&header(&es, None), &c), &c)]);
    let c = claims("t-jwt");
    case("typ JWT", false, one(&es.sign_token(&header(&es, Some("JWT")), &c), "TYPE_MISMATCH"));
    case("typ JWT, client accepts untyped logout tokens", true, vec![ok(&es.sign_token(&header(&es, Some("JWT")), &c), &c)]);
    let c = claims("t-at");
    case("typ at+jwt", false, one(&es.sign_token(&header(&es, Some("at+jwt")), &c), "TYPE_MISMATCH"));
    case("typ at+jwt, client accepts untyped logout tokens", true, one(&es.sign_token(&header(&es, Some("at+jwt")), &c), "TYPE_MISMATCH"));

    // Claims.
    let bad = |name: &str, jti: &str, f: &dyn Fn(&mut serde_json::Map<String, Value>), expect: &str| {
        (name.to_string(), typed(&es, &with(jti, f)), expect.to_string())
    };
    let claim_cases = [
        bad(
            "no events",
            "c-1",
            &|m| {
                m.remove("events");
            },
            "MISSING_CLAIM",
        ),
        bad(
            "events without the back-channel-logout member",
            "c-2",
            &|m| {
                m.insert("events".into(), json!({"urn:other": {}}));
            },
            "INVALID_CLAIM",
        ),
        bad(
            "back-channel-logout member not an object",
            "c-3",
            &|m| {
                m.insert("events".into(), json!({EVENT: "yes"}));
            },
            "INVALID_CLAIM",
        ),
        bad(
            "events an array (draft form)",
            "c-4",
            &|m| {
                m.insert("events".into(), json!([EVENT]));
            },
            "INVALID_CLAIM",
        ),
        bad(
            "nonce present",
            "c-5",
            &|m| {
                m.insert("nonce".into(), json!("n-1"));
            },
            "INVALID_CLAIM",
        ),
        bad(
            "neither sub nor sid",
            "c-6",
            &|m| {
                m.remove("sub");
                m.remove("sid");
            },
            "MISSING_CLAIM",
        ),
        bad(
            "sid not a string",
            "c-7",
            &|m| {
                m.insert("sid".into(), json!(42));
            },
            "INVALID_CLAIM",
        ),
        bad(
            "no jti",
            "c-8",
            &|m| {
                m.remove("jti");
            },
            "MISSING_CLAIM",
        ),
        bad(
            "no iat",
            "c-9",
            &|m| {
                m.remove("iat");
            },
            "MISSING_CLAIM",
        ),
        bad(
            "no exp",
            "c-10",
            &|m| {
                m.remove("exp");
            },
            "MISSING_CLAIM",
        ),
        bad(
            "wrong audience",
            "c-11",
            &|m| {
                m.insert("aud".into(), json!("other-rp"));
            },
            "AUDIENCE_MISMATCH",
        ),
        bad(
            "wrong issuer",
            "c-12",
            &|m| {
                m.insert("iss".into(), json!("https://evil.test"));
            },
            "ISSUER_MISMATCH",
        ),
        bad(
            "expired",
            "c-13",
            &|m| {
                m.insert("exp".into(), json!(NOW - 61));
            },
            "TOKEN_EXPIRED",
        ),
        bad(
            "issued in the future",
            "c-14",
            &|m| {
                m.insert("iat".into(), json!(NOW + 120));
            },
            "TOKEN_ISSUED_IN_FUTURE",
        ),
        bad(
            "exp more than a year ahead",
            "c-15",
            &|m| {
                m.insert("exp".into(), json!(NOW + 2 * 366 * 86400));
            },
            "INVALID_CLAIM",
        ),
    ];
    for (name, token, expect) in &claim_cases {
        case(name, false, one(token, expect));
    }
    case("signed by an unpublished key", false, one(&typed(&stranger, &claims("k-1")), "UNKNOWN_KEY"));
    let good = typed(&es, &claims("k-2"));
    let forged = {
        let (input, _) = good.rsplit_once('.').unwrap();
        format!("{input}.{}", b64(es.sign_raw(&format!("{}.{}", b64_json(&header(&es, Some("logout+jwt"))), b64_json(&claims("k-other"))))))
    };
    case("signature over other claims", false, one(&forged, "SIGNATURE_INVALID"));

    // Replay.
    let c = claims("r-1");
    let t = typed(&es, &c);
    case("replayed", false, vec![ok(&t, &c), step("logout_token", &t, "TOKEN_REPLAYED")]);
    let c1 = claims("r-2");
    let c2 = with("r-2", |m| {
        m.insert("sid".into(), json!("session-2"));
    });
    case("another token with a used jti", false, vec![ok(&typed(&es, &c1), &c1), step("logout_token", &typed(&rs, &c2), "TOKEN_REPLAYED")]);
    let rejected = with("r-3", |m| {
        m.insert("nonce".into(), json!("n"));
    });
    let c = claims("r-3");
    case(
        "a refused token does not use up its jti",
        false,
        vec![step("logout_token", &typed(&es, &rejected), "INVALID_CLAIM"), ok(&typed(&es, &c), &c)],
    );

    // Cross-JWT confusion: a logout token on the other paths, other tokens on the logout path.
    let lt = typed(&es, &claims("x-1"));
    case("logout token as an access token", false, vec![step("access_token", &lt, "TYPE_MISMATCH")]);
    case("logout token as an ID token", false, vec![step("id_token", &lt, "TYPE_MISMATCH")]);
    let untyped_lt = es.sign_token(&header(&es, None), &claims("x-2"));
    case("untyped logout token (events) as an access token", false, vec![step("access_token", &untyped_lt, "TYPE_MISMATCH")]);
    case("untyped logout token (events) as an ID token", false, vec![step("id_token", &untyped_lt, "TYPE_MISMATCH")]);
    let typed_no_events = typed(
        &es,
        &with("x-3", |m| {
            m.remove("events");
        }),
    );
    case("logout+jwt typ without events as an access token", false, vec![step("access_token", &typed_no_events, "TYPE_MISMATCH")]);
    let id_claims =
        json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "iat": NOW - 10, "exp": NOW + 300, "nonce": "n-1", "sid": "session-1"});
    let id_token = es.sign_token(&header(&es, Some("JWT")), &id_claims);
    case("ID token on the ID-token path", false, vec![step("id_token", &id_token, "OK")]);
    case("ID token as a logout token", false, one(&id_token, "TYPE_MISMATCH"));
    case("ID token as a logout token, client accepts untyped logout tokens", true, one(&id_token, "MISSING_CLAIM"));
    let at_claims = json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "iat": NOW - 10, "exp": NOW + 300, "jti": "at-1",
                           "events": {"urn:example:other-event": {}}});
    let at = es.sign_token(&header(&es, Some("at+jwt")), &at_claims);
    case("access token with another events member on the access-token path", false, vec![step("access_token", &at, "OK")]);
    case("access token as a logout token", false, one(&at, "TYPE_MISMATCH"));

    let doc = json!({
        "description": "Shared back-channel logout token vectors (OpenID Connect Back-Channel Logout 1.0 §2.4-2.6). For each case build a fresh protocol client with `client` (issuer, client_id, the static jwks, leeway_secs) and the case's `client` options, then run its steps in order at `now`: path `logout_token` validates a logout token (an OK step also gives sub, sid (null = absent) and jti), `access_token` validates with a validator of the same issuer and keys (audience = client_id, no typ rule), `id_token` validates an ID token (no nonce sent). Expect the result code. Generated by tests/testkit/src/bin/make-logout-vectors.rs.",
        "client": {"issuer": ISS, "client_id": CLIENT, "jwks": jwks, "leeway_secs": 60},
        "now": NOW,
        "cases": cases,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    eprintln!("wrote {out}");
}
