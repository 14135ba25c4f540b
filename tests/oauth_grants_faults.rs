//! Grants against our loopback HTTPS fixture server (tests/testkit): every operation's bad
//! responses (OAuth error, malformed JSON, oversized body, HTTP 500, hang, missing field,
//! unreachable endpoint), the polling rules on a manual clock, client assertions, "auto" method
//! selection, the DPoP nonce retry, the client-credentials cache and connection reuse. The token
//! endpoints here are mock routes of the fixture server, not a real IdP.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{FixtureServer, Route, TestCa};
use oidc::core::oauth::grants::{GRANT_CIBA, GRANT_DEVICE_CODE};
use oidc::core::oauth::{AssertionAudience, ClientAuth, OAuthClient, OAuthConfig, PollOptions, Secret, SigningKey, TokenExchangeRequest};
use oidc::core::{Cancel, Clock, ErrorKind};
use serde_json::{Value, json};

const SECRET: &str = "fixture-client-secret-0123456789abcdef";
const TOKEN: &str = r#"{"access_token":"AT-1","token_type":"Bearer","expires_in":600}"#;

struct Fx {
    _ca: TestCa,
    srv: FixtureServer,
    issuer: String,
    ca_file: std::path::PathBuf,
}

fn fixture() -> Fx {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    let issuer = srv.base_url();
    let mut d = oidc_testkit::oidc_discovery(&issuer, &srv.url("/jwks"));
    d["device_authorization_endpoint"] = json!(srv.url("/device"));
    d["backchannel_authentication_endpoint"] = json!(srv.url("/bc"));
    srv.set_route("/.well-known/openid-configuration", Route::json(&d));
    srv.set_route("/jwks", Route::json(&json!({"keys": []})));
    srv.set_route("/token", Route::json_str(TOKEN));
    let ca_file = ca.ca_pem_path();
    Fx { _ca: ca, srv, issuer, ca_file }
}

impl Fx {
    fn cfg(&self, auth: ClientAuth) -> OAuthConfig {
        let mut c = OAuthConfig::new(&self.issuer, "cid", auth);
        c.base.ca_file = Some(self.ca_file.clone());
        c.base.total_timeout = Duration::from_millis(500);
        c.base.connect_timeout = Duration::from_millis(500);
        c.base.max_response_bytes = 4096;
        c
    }
    fn client(&self) -> OAuthClient {
        OAuthClient::new(self.cfg(ClientAuth::SecretBasic(SECRET.into()))).unwrap()
    }
    fn set_discovery(&self, f: impl FnOnce(&mut Value)) {
        let mut d = oidc_testkit::oidc_discovery(&self.issuer, &self.srv.url("/jwks"));
        d["device_authorization_endpoint"] = json!(self.srv.url("/device"));
        f(&mut d);
        self.srv.set_route("/.well-known/openid-configuration", Route::json(&d));
    }
}

fn form(r: &oidc_testkit::RecordedRequest) -> Vec<(String, String)> {
    oidc_testkit::util::parse_query(&r.body_str())
}

fn jwt_parts(t: &str) -> (Value, Value) {
    let p: Vec<&str> = t.split('.').collect();
    let d = |s: &str| serde_json::from_slice(&oidc_testkit::keys::b64_decode(s).unwrap()).unwrap();
    (d(p[0]), d(p[1]))
}

type Op = (&'static str, &'static str, Box<dyn Fn(&OAuthClient) -> Result<(), oidc::core::Error>>);

/// Every operation with the route it talks to.
fn operations() -> Vec<Op> {
    let da = || oidc::core::oauth::DeviceAuthorization {
        device_code: Secret::new("DC-secret"),
        user_code: "U".into(),
        verification_uri: "https://x/device".into(),
        verification_uri_complete: None,
        expires_in: 600,
        interval: Duration::from_secs(5),
        received_at: Instant::now(),
        raw: Secret::default(),
    };
    vec![
        ("client_credentials", "/token", Box::new(|c: &OAuthClient| c.client_credentials(Some("read"), &[], None).map(drop))),
        (
            "exchange_code",
            "/token",
            Box::new(|c: &OAuthClient| c.exchange_code("CODE-secret", "https://app/cb", Some("VERIFIER-secret"), None, &[]).map(drop)),
        ),
        ("refresh", "/token", Box::new(|c: &OAuthClient| c.refresh("RT-secret", None, &[]).map(drop))),
        ("device_authorization", "/device", Box::new(|c: &OAuthClient| c.device_authorization(Some("openid"), &[]).map(drop))),
        (
            "poll_device_token",
            "/token",
            Box::new(move |c: &OAuthClient| c.poll_device_token(&da(), &PollOptions::timeout(c, Duration::from_secs(2))).map(drop)),
        ),
        (
            "token_exchange",
            "/token",
            Box::new(|c: &OAuthClient| {
                let r = TokenExchangeRequest { subject_token: Secret::new("SUBJECT-secret"), ..Default::default() };
                c.token_exchange(&r).map(drop)
            }),
        ),
        ("jwt_bearer", "/token", Box::new(|c: &OAuthClient| c.jwt_bearer("ASSERTION-secret", None, &[]).map(drop))),
        ("ciba_request", "/bc", Box::new(|c: &OAuthClient| c.ciba_request(&[("login_hint".into(), "u".into())]).map(drop))),
        ("custom_grant", "/token", Box::new(|c: &OAuthClient| c.custom_grant("urn:x:custom", &[("p".into(), "v".into())]).map(drop))),
    ]
}

const SECRETS: [&str; 7] = [SECRET, "CODE-secret", "VERIFIER-secret", "RT-secret", "DC-secret", "SUBJECT-secret", "ASSERTION-secret"];

fn assert_no_secret(op: &str, e: &oidc::core::Error) {
    for s in SECRETS {
        assert!(!e.message().contains(s), "{op}: message leaks a secret: {}", e.message());
        assert!(!format!("{e:?}").contains(s), "{op}: Debug leaks a secret");
    }
}

#[test]
fn bad_responses_per_operation() {
    let fx = fixture();
    let c = fx.client();
    let big = format!("{{\"access_token\":\"{}\",\"token_type\":\"Bearer\"}}", "x".repeat(5000));
    let cases: Vec<(&str, Route, ErrorKind)> = vec![
        (
            "oauth error",
            Route::json_str(r#"{"error":"invalid_grant","error_description":"nope"}"#).with_status(400),
            ErrorKind::InvalidGrant,
        ),
        ("malformed json", Route::json_str("{\"access_token\":"), ErrorKind::ResponseInvalid),
        ("not json", Route::text(200, "<html>hello</html>"), ErrorKind::ResponseInvalid),
        ("oversized", Route::json_str(big), ErrorKind::ResponseTooLarge),
        ("http 500", Route::text(500, "boom"), ErrorKind::HttpStatus),
        ("missing field", Route::json_str(r#"{"token_type":"Bearer","interval":5}"#), ErrorKind::ResponseMissingField),
    ];
    for (op, path, f) in operations() {
        for (name, route, want) in &cases {
            fx.srv.set_route(path, route.clone());
            let e = f(&c).expect_err(&format!("{op} / {name} must fail"));
            assert_eq!(e.kind(), *want, "{op} / {name}: {e:?}");
            assert_no_secret(op, &e);
        }
        // A hanging server: a Timeout within the configured total timeout (500 ms).
        fx.srv.set_route(path, Route::hang());
        let t0 = Instant::now();
        let e = f(&c).expect_err("hang");
        assert_eq!(e.kind(), ErrorKind::Timeout, "{op} / hang: {e:?}");
        assert!(t0.elapsed() < Duration::from_secs(3), "{op}: waited {:?}", t0.elapsed());
        fx.srv.set_route(path, Route::json_str(TOKEN));
    }
    // Unreachable endpoints: connection refused on a port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let mut cfg = fx.cfg(ClientAuth::SecretBasic(SECRET.into()));
    for n in ["token_endpoint", "device_authorization_endpoint", "backchannel_authentication_endpoint"] {
        cfg.endpoints.push((n.into(), format!("https://127.0.0.1:{port}/x")));
    }
    let c = OAuthClient::new(cfg).unwrap();
    for (op, _, f) in operations() {
        let t0 = Instant::now();
        let e = f(&c).expect_err("unreachable");
        assert_eq!(e.kind(), ErrorKind::Network, "{op}: {e:?}");
        assert!(t0.elapsed() < Duration::from_secs(3));
        assert_no_secret(op, &e);
    }
}

#[test]
fn token_exchange_requires_issued_token_type_and_device_fields() {
    let fx = fixture();
    let c = fx.client();
    let r = TokenExchangeRequest { subject_token: Secret::new("s"), audience: vec!["a1".into(), "a2".into()], ..Default::default() };
    assert_eq!(c.token_exchange(&r).unwrap_err().kind(), ErrorKind::ResponseMissingField);
    let f = form(&fx.srv.last_request("/token").unwrap());
    assert!(f.contains(&("subject_token_type".into(), "urn:ietf:params:oauth:token-type:access_token".into())));
    assert_eq!(f.iter().filter(|(k, _)| k == "audience").count(), 2);
    fx.srv.set_route(
        "/token",
        Route::json_str(r#"{"access_token":"x","token_type":"N_A","issued_token_type":"urn:ietf:params:oauth:token-type:jwt"}"#),
    );
    assert_eq!(c.token_exchange(&r).unwrap().issued_token_type.as_deref(), Some("urn:ietf:params:oauth:token-type:jwt"));
    assert_eq!(c.token_exchange(&TokenExchangeRequest::default()).unwrap_err().kind(), ErrorKind::InvalidArgument);
    // Device authorization: good response, then without user_code.
    fx.srv
        .set_route("/device", Route::json_str(r#"{"device_code":"d","user_code":"U-1","verification_uri":"https://x/d","expires_in":60}"#));
    let d = c.device_authorization(Some("openid"), &[]).unwrap();
    assert_eq!((d.user_code.as_str(), d.interval), ("U-1", Duration::from_secs(5)), "interval defaults to 5 s");
    assert!(!format!("{d:?}").contains("\"d\""));
    fx.srv.set_route("/device", Route::json_str(r#"{"device_code":"d","verification_uri":"https://x/d","expires_in":60}"#));
    assert_eq!(c.device_authorization(None, &[]).unwrap_err().kind(), ErrorKind::ResponseMissingField);
    // Custom grant: grant_type may not be smuggled in the params.
    assert_eq!(c.custom_grant("x", &[("grant_type".into(), "y".into())]).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

fn pending(code: &str) -> Route {
    Route::json_str(format!(r#"{{"error":"{code}"}}"#)).with_status(400)
}

fn manual_client(fx: &Fx) -> (OAuthClient, Clock) {
    let mut cfg = fx.cfg(ClientAuth::None);
    let clock = Clock::manual();
    cfg.base.clock = clock.clone();
    (OAuthClient::new(cfg).unwrap(), clock)
}

#[test]
fn device_polling_rules_on_a_manual_clock() {
    let fx = fixture();
    fx.srv.set_route(
        "/device",
        Route::json_str(r#"{"device_code":"dc","user_code":"U","verification_uri":"https://x/d","expires_in":600,"interval":5}"#),
    );
    let (c, clock) = manual_client(&fx);
    // pending, slow_down (+5 s), pending, then the token: waits 5 + 10 + 10 s of client clock.
    fx.srv.set_sequence(
        "/token",
        vec![pending("authorization_pending"), pending("slow_down"), pending("authorization_pending"), Route::json_str(TOKEN)],
    );
    let da = c.device_authorization(None, &[]).unwrap();
    let t0 = clock.now();
    let t = c.poll_device_token(&da, &PollOptions::timeout(&c, Duration::from_secs(120))).unwrap();
    assert_eq!(t.access_token.expose(), "AT-1");
    assert_eq!(clock.now() - t0, Duration::from_secs(25));
    assert_eq!(fx.srv.hits("/token"), 4);
    let f = form(&fx.srv.last_request("/token").unwrap());
    assert!(f.contains(&("grant_type".into(), GRANT_DEVICE_CODE.into())) && f.contains(&("device_code".into(), "dc".into())));
    assert!(f.contains(&("client_id".into(), "cid".into())), "public client sends client_id");

    // Deadline: pending forever; polls at 0, 5, 10 s, then the next (15 s) is past 12 s.
    fx.srv.reset_counters();
    fx.srv.set_route("/token", pending("authorization_pending"));
    let da = c.device_authorization(None, &[]).unwrap();
    let e = c.poll_device_token(&da, &PollOptions::timeout(&c, Duration::from_secs(12))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeadlineExceeded);
    assert_eq!(fx.srv.hits("/token"), 3);

    // The codes' own lifetime ends polling with ExpiredToken.
    fx.srv.set_route("/device", Route::json_str(r#"{"device_code":"dc","user_code":"U","verification_uri":"https://x/d","expires_in":7}"#));
    let da = c.device_authorization(None, &[]).unwrap();
    assert_eq!(c.poll_device_token(&da, &PollOptions::timeout(&c, Duration::from_secs(60))).unwrap_err().kind(), ErrorKind::ExpiredToken);

    // Terminal errors end polling at once.
    for (code, kind) in
        [("access_denied", ErrorKind::AccessDenied), ("expired_token", ErrorKind::ExpiredToken), ("invalid_grant", ErrorKind::InvalidGrant)]
    {
        fx.srv.reset_counters();
        fx.srv.set_route("/token", pending(code));
        let e = c.poll_device_token(&da, &PollOptions::timeout(&c, Duration::from_secs(60))).unwrap_err();
        assert_eq!((e.kind(), fx.srv.hits("/token")), (kind, 1), "{code}");
    }
}

#[test]
fn polling_is_cancellable_and_bounded_in_real_time() {
    let fx = fixture();
    fx.srv.set_route("/bc", Route::json_str(r#"{"auth_req_id":"rid","expires_in":120,"interval":2}"#));
    fx.srv.set_route("/token", pending("authorization_pending"));
    let c = fx.client();
    let req = c.ciba_request(&[("scope".into(), "openid".into()), ("login_hint".into(), "u".into())]).unwrap();
    assert_eq!(req.interval, Duration::from_secs(2));
    // A deadline shorter than the interval: one poll, no sleep at all.
    let t0 = Instant::now();
    let e = c.ciba_poll(&req, &PollOptions::timeout(&c, Duration::from_millis(300))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeadlineExceeded);
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    let f = form(&fx.srv.last_request("/token").unwrap());
    assert!(f.contains(&("grant_type".into(), GRANT_CIBA.into())) && f.contains(&("auth_req_id".into(), "rid".into())));
    // Cancel wakes the wait between polls at once.
    let cancel = Cancel::new(None);
    let opts = PollOptions { deadline: Instant::now() + Duration::from_secs(60), cancel: Some(cancel.clone()) };
    let c2 = c.clone();
    let t0 = Instant::now();
    let h = std::thread::spawn(move || c2.ciba_poll(&req, &opts));
    assert!(fx.srv.wait_for_hits("/token", 2, Duration::from_secs(5)));
    cancel.cancel();
    assert_eq!(h.join().unwrap().unwrap_err().kind(), ErrorKind::Cancelled);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}

#[test]
fn client_assertions() {
    let fx = fixture();
    let key = Arc::new(SigningKey::from_pem(&common::real_idp::client_key("ec.pem"), None, Some("k1")).unwrap());
    let c = OAuthClient::new(fx.cfg(ClientAuth::PrivateKeyJwt(key.clone()))).unwrap();
    c.client_credentials(None, &[], None).unwrap();
    c.client_credentials(None, &[], None).unwrap();
    let log: Vec<_> = fx.srv.request_log().into_iter().filter(|r| r.path == "/token").collect();
    let mut jtis = Vec::new();
    for r in &log {
        let f = form(r);
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        let a = get("client_assertion");
        assert!(oidc_testkit::keys::verify_jws(&key.public_jwk(), &a), "assertion verifies with the public key");
        let (h, p) = jwt_parts(&a);
        assert_eq!((h["alg"].as_str(), h["kid"].as_str()), (Some("ES256"), Some("k1")));
        assert_eq!((p["iss"].as_str(), p["sub"].as_str()), (Some("cid"), Some("cid")));
        assert_eq!(p["aud"], json!(fx.srv.url("/token")));
        assert_eq!(p["exp"].as_u64().unwrap() - p["iat"].as_u64().unwrap(), 60);
        jtis.push(p["jti"].as_str().unwrap().to_string());
        assert!(r.header("authorization").is_none());
    }
    assert_eq!(log.len(), 2);
    assert_ne!(jtis[0], jtis[1], "jti is unique per assertion");

    // client_secret_jwt: HS256 with the secret; aud = issuer when asked.
    let mut cfg = fx.cfg(ClientAuth::SecretJwt(SECRET.into()));
    cfg.assertion_audience = AssertionAudience::Issuer;
    OAuthClient::new(cfg).unwrap().client_credentials(None, &[], None).unwrap();
    let f = form(&fx.srv.last_request("/token").unwrap());
    let a = &f.iter().find(|(k, _)| k == "client_assertion").unwrap().1;
    let (h, p) = jwt_parts(a);
    assert_eq!((h["alg"].as_str(), p["aud"].as_str()), (Some("HS256"), Some(fx.issuer.as_str())));
    let (input, sig) = a.rsplit_once('.').unwrap();
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET.as_bytes());
    assert!(aws_lc_rs::hmac::verify(&k, input.as_bytes(), &oidc_testkit::keys::b64_decode(sig).unwrap()).is_ok());
    assert!(!fx.srv.last_request("/token").unwrap().body_str().contains(SECRET), "the secret itself is never sent");
}

#[test]
fn auto_method_follows_discovery() {
    let fx = fixture();
    let key = Arc::new(SigningKey::from_pem(&common::real_idp::client_key("ed25519.pem"), None, None).unwrap());
    let auto = |secret: Option<&str>, key: Option<Arc<SigningKey>>| {
        OAuthClient::new(fx.cfg(ClientAuth::Auto { secret: secret.map(Secret::from), key })).unwrap()
    };
    let last = || fx.srv.last_request("/token").unwrap();
    // No list in discovery: RFC 8414 default client_secret_basic.
    auto(Some(SECRET), None).client_credentials(None, &[], None).unwrap();
    assert!(last().header("authorization").unwrap().starts_with("Basic "));
    fx.set_discovery(|d| d["token_endpoint_auth_methods_supported"] = json!(["private_key_jwt", "client_secret_post"]));
    auto(Some(SECRET), None).client_credentials(None, &[], None).unwrap();
    assert!(last().form_param("client_secret").is_some());
    auto(Some(SECRET), Some(key.clone())).client_credentials(None, &[], None).unwrap();
    assert_eq!(jwt_parts(&last().form_param("client_assertion").unwrap()).0["alg"], "EdDSA");
    fx.set_discovery(|d| d["token_endpoint_auth_methods_supported"] = json!(["client_secret_jwt"]));
    let e = auto(None, Some(key)).client_credentials(None, &[], None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.message().contains("client_secret_jwt"), "{}", e.message());
    auto(Some(SECRET), None).client_credentials(None, &[], None).unwrap();
    assert_eq!(jwt_parts(&last().form_param("client_assertion").unwrap()).0["alg"], "HS256");
}

#[test]
fn from_parts_rules() {
    let key = || Some(Arc::new(SigningKey::generate_es256().unwrap()));
    let k = |m: Option<&str>, s: Option<&str>, key: Option<Arc<SigningKey>>| {
        ClientAuth::from_parts_with_key(m, s.map(Secret::from), key).map(|a| a.method_name()).map_err(|e| e.kind())
    };
    assert_eq!(k(None, None, key()), Ok("private_key_jwt"));
    assert_eq!(k(Some("private_key_jwt"), None, key()), Ok("private_key_jwt"));
    assert_eq!(k(Some("client_secret_jwt"), Some("s"), None), Ok("client_secret_jwt"));
    assert_eq!(k(Some("auto"), Some("s"), key()), Ok("auto"));
    assert_eq!(k(Some("private_key_jwt"), None, None), Err(ErrorKind::InvalidConfig));
    assert_eq!(k(Some("client_secret_jwt"), None, None), Err(ErrorKind::InvalidConfig));
    assert_eq!(k(Some("client_secret_basic"), Some("s"), key()), Err(ErrorKind::InvalidConfig));
    assert_eq!(k(Some("bogus"), None, None), Err(ErrorKind::InvalidConfig));
    let a = ClientAuth::SecretJwt(SECRET.into());
    assert!(!format!("{a:?}").contains(SECRET));
}

#[test]
fn dpop_nonce_retry_at_the_token_endpoint() {
    let fx = fixture();
    let mut cfg =
        fx.cfg(ClientAuth::PrivateKeyJwt(Arc::new(SigningKey::from_pem(&common::real_idp::client_key("rsa.pem"), None, None).unwrap())));
    let dkey = Arc::new(SigningKey::generate_es256().unwrap());
    cfg.dpop_key = Some(dkey.clone());
    let c = OAuthClient::new(cfg).unwrap();
    fx.srv.set_sequence(
        "/token",
        vec![
            Route::json_str(r#"{"error":"use_dpop_nonce"}"#).with_status(400).with_header("DPoP-Nonce", "n-1"),
            Route::json_str(r#"{"access_token":"AT","token_type":"DPoP","expires_in":60}"#).with_header("DPoP-Nonce", "n-2"),
        ],
    );
    let t = c.client_credentials(None, &[], None).unwrap();
    assert_eq!(t.token_type, "DPoP");
    let log: Vec<_> = fx.srv.request_log().into_iter().filter(|r| r.path == "/token").collect();
    assert_eq!(log.len(), 2, "one retry");
    let (h0, p0) = jwt_parts(log[0].header("dpop").unwrap());
    let (_, p1) = jwt_parts(log[1].header("dpop").unwrap());
    assert_eq!(h0["typ"], "dpop+jwt");
    assert!(oidc_testkit::keys::verify_jws(&h0["jwk"], log[0].header("dpop").unwrap()));
    assert!(p0.get("nonce").is_none() && p0.get("ath").is_none());
    assert_eq!((p1["nonce"].as_str(), p1["htm"].as_str()), (Some("n-1"), Some("POST")));
    assert_eq!(p1["htu"], json!(fx.srv.url("/token")));
    assert_ne!(p0["jti"], p1["jti"]);
    let a0 = log[0].form_param("client_assertion").unwrap();
    assert_ne!(a0, log[1].form_param("client_assertion").unwrap(), "a fresh client assertion on the retry");
    assert_eq!(c.dpop().unwrap().nonce(&fx.issuer).as_deref(), Some("n-2"), "the newest nonce is remembered");
    // Only one retry: a second use_dpop_nonce is returned as the error.
    fx.srv.set_route("/token", Route::json_str(r#"{"error":"use_dpop_nonce"}"#).with_status(400).with_header("DPoP-Nonce", "n-3"));
    fx.srv.reset_counters();
    assert_eq!(c.client_credentials(None, &[], None).unwrap_err().kind(), ErrorKind::UseDpopNonce);
    assert_eq!(fx.srv.hits("/token"), 2);
    // Resource requests: ath, DPoP authorization scheme, one retry on a 401 nonce challenge.
    fx.srv.set_sequence(
        "/api",
        vec![
            Route::status(401).with_header("WWW-Authenticate", r#"DPoP error="use_dpop_nonce""#).with_header("DPoP-Nonce", "r-1"),
            Route::json_str("{}"),
        ],
    );
    let r = c.resource_request("GET", &fx.srv.url("/api?q=1"), "AT", "DPoP", None).unwrap();
    assert_eq!(r.status, 200);
    let req = fx.srv.last_request("/api").unwrap();
    assert_eq!(req.header("authorization"), Some("DPoP AT"));
    let (_, p) = jwt_parts(req.header("dpop").unwrap());
    assert_eq!((p["nonce"].as_str(), p["htm"].as_str()), (Some("r-1"), Some("GET")));
    assert_eq!(p["htu"], json!(fx.srv.url("/api")));
    assert_eq!(p["ath"], json!(oidc::core::oauth::dpop::ath("AT")));
    // A Bearer token goes out as Bearer, without a proof.
    fx.srv.set_route("/api", Route::json_str("{}"));
    c.resource_request("GET", &fx.srv.url("/api"), "BT", "Bearer", None).unwrap();
    let req = fx.srv.last_request("/api").unwrap();
    assert_eq!((req.header("authorization"), req.header("dpop")), (Some("Bearer BT"), None));
}

#[test]
fn client_credentials_cache_expiry_and_single_flight() {
    let fx = fixture();
    let mut cfg = fx.cfg(ClientAuth::SecretBasic(SECRET.into()));
    let clock = Clock::manual();
    cfg.base.clock = clock.clone();
    let c = OAuthClient::new(cfg).unwrap();
    fx.srv.set_route("/token", Route::json_str(TOKEN).with_delay(Duration::from_millis(200)));
    // 16 threads at once: one request.
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                c.client_credentials_cached(Some("read write"), &["urn:r"], None).unwrap().access_token.expose().to_string()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "AT-1");
    }
    assert_eq!(fx.srv.hits("/token"), 1);
    // Same key in another order: cached. Another scope: a new request.
    c.client_credentials_cached(Some("write read"), &["urn:r"], None).unwrap();
    assert_eq!(fx.srv.hits("/token"), 1);
    c.client_credentials_cached(Some("read"), &["urn:r"], None).unwrap();
    assert_eq!(fx.srv.hits("/token"), 2);
    // expires_in 600: reused until 570 s, refetched after.
    clock.advance(Duration::from_secs(569));
    c.client_credentials_cached(Some("read write"), &["urn:r"], None).unwrap();
    assert_eq!(fx.srv.hits("/token"), 2);
    clock.advance(Duration::from_secs(2));
    c.client_credentials_cached(Some("read write"), &["urn:r"], None).unwrap();
    assert_eq!(fx.srv.hits("/token"), 3);
    // Errors are not cached, but are shared with the callers that waited.
    fx.srv.set_route("/token", Route::text(500, "down").with_delay(Duration::from_millis(300)));
    c.clear_token_cache();
    fx.srv.reset_counters();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || c.client_credentials_cached(Some("x"), &[], None).unwrap_err().kind())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), ErrorKind::HttpStatus);
    }
    assert!(fx.srv.hits("/token") <= 2, "waiters share the failed request: {}", fx.srv.hits("/token"));
    fx.srv.set_route("/token", Route::json_str(r#"{"access_token":"n","token_type":"Bearer"}"#));
    c.client_credentials_cached(Some("x"), &[], None).unwrap();
    let before = fx.srv.hits("/token");
    c.client_credentials_cached(Some("x"), &[], None).unwrap();
    assert_eq!(fx.srv.hits("/token"), before + 1, "no expires_in: not cached");
}

/// 100 sequential token requests over the handle's pooled agent: at most a couple of TLS
/// connections at the fixture server (the mock token endpoint is a fixture route).
#[test]
fn sequential_token_requests_reuse_connections() {
    let fx = fixture();
    let c = fx.client();
    c.metadata().unwrap();
    fx.srv.reset_counters();
    for _ in 0..100 {
        c.client_credentials(Some("read"), &[], None).unwrap();
    }
    assert_eq!(fx.srv.hits("/token"), 100);
    assert!(fx.srv.connections() <= 2, "{} connections for 100 requests", fx.srv.connections());
}

/// Issue 10 item 11: no arithmetic on a server-supplied `expires_in` may panic. Huge values
/// (2^64-1, 1e300, a numeric string of 2^64-1) are clamped to a year in the cached
/// client-credentials path and in device and CIBA polls.
#[test]
fn huge_expires_in_never_panics() {
    let fx = fixture();
    let c = fx.client();
    for huge in ["18446744073709551615", "1e300", "\"18446744073709551615\""] {
        fx.srv.set_route("/token", Route::json_str(format!(r#"{{"access_token":"AT-huge","token_type":"Bearer","expires_in":{huge}}}"#)));
        let t = c.client_credentials_cached(Some(&format!("s{}", huge.len())), &[], None).unwrap();
        assert_eq!(t.expires_in, Some(oidc::core::oauth::MAX_SERVER_LIFETIME_SECS), "{huge}");
        let again = c.client_credentials_cached(Some(&format!("s{}", huge.len())), &[], None).unwrap();
        assert_eq!(again.access_token.expose(), "AT-huge", "reused from the cache: {huge}");
    }
    let (mc, _clock) = manual_client(&fx);
    fx.srv.set_route("/token", Route::json_str(TOKEN));
    for huge in ["18446744073709551615", "1e300"] {
        fx.srv.set_route("/device", Route::json_str(format!(r#"{{"device_code":"dc","user_code":"U","verification_uri":"https://x/d","expires_in":{huge},"interval":18446744073709551615}}"#)));
        let da = mc.device_authorization(None, &[]).unwrap();
        assert_eq!(da.expires_in, oidc::core::oauth::MAX_SERVER_LIFETIME_SECS);
        let t = mc.poll_device_token(&da, &PollOptions::timeout(&mc, Duration::from_secs(60))).unwrap();
        assert_eq!(t.access_token.expose(), "AT-1");
        fx.srv.set_route("/bc", Route::json_str(format!(r#"{{"auth_req_id":"rid","expires_in":{huge},"interval":5}}"#)));
        let req = mc.ciba_request(&[("scope".into(), "openid".into()), ("login_hint".into(), "u".into())]).unwrap();
        assert_eq!(req.expires_in, oidc::core::oauth::MAX_SERVER_LIFETIME_SECS);
        let t = mc.ciba_poll(&req, &PollOptions::timeout(&mc, Duration::from_secs(60))).unwrap();
        assert_eq!(t.access_token.expose(), "AT-1");
    }
}
