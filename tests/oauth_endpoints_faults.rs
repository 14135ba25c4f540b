//! Bad input for every endpoint operation, over a loopback HTTPS fixture server (features and
//! failures oidc-provider cannot produce on demand): unreachable endpoint, OAuth error, malformed
//! JSON, oversized body, missing field, wrong content type, a hanging server (bounded by the
//! timeout); forged or misaddressed signed responses (RFC 9701 introspection, UserInfo, JARM);
//! ID tokens with every hash size. No secret in any message or Debug output.

mod common;

use std::time::{Duration, Instant};

use common::{Alg, FixtureServer, Route, TestCa, TestKey, default_header, keys};
use oidc::core::oauth::idtoken::left_half_hash;
use oidc::core::oauth::{AuthorizationRequest, ClientAuth, IdTokenChecks, OAuthClient, OAuthConfig, register_client, validate_id_token};
use oidc::core::{Algorithm, Error, ErrorKind};
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t-client-value";
const TOKEN: &str = "tok-SECRET-0123456789";

struct Fx {
    ca: TestCa,
    srv: FixtureServer,
    issuer: String,
    key: TestKey,
}

fn fx() -> Fx {
    fx_with(TestKey::generate(Alg::RS256))
}

fn fx_with(key: TestKey) -> Fx {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    let issuer = srv.install_oidc(&[&key]);
    Fx { ca, srv, issuer, key }
}

impl Fx {
    fn cfg(&self) -> OAuthConfig {
        let mut cfg = OAuthConfig::new(&self.issuer, "rp", ClientAuth::SecretPost(SECRET.into()));
        cfg.base.ca_file = Some(self.ca.ca_pem_path());
        for (name, path) in [
            ("introspection_endpoint", "/introspect"),
            ("revocation_endpoint", "/revoke"),
            ("userinfo_endpoint", "/userinfo"),
            ("pushed_authorization_request_endpoint", "/par"),
            ("registration_endpoint", "/reg"),
            ("end_session_endpoint", "/logout"),
        ] {
            cfg.endpoints.push((name.into(), self.srv.url(path)));
        }
        cfg
    }
    fn client(&self) -> OAuthClient {
        OAuthClient::new(self.cfg()).unwrap()
    }
    fn sign(&self, header: Value, claims: Value) -> String {
        self.key.sign_token(&header, &claims)
    }
    fn header(&self, typ: Option<&str>) -> Value {
        let mut h = default_header(&self.key);
        match typ {
            Some(t) => h["typ"] = json!(t),
            None => {
                h.as_object_mut().unwrap().remove("typ");
            }
        }
        h
    }
}

/// Every operation, run against path `p` of the fixture.
#[derive(Clone, Copy, Debug)]
enum Op {
    Introspect,
    IntrospectSigned,
    Revoke,
    Userinfo,
    Par,
    Register,
}

const OPS: [(Op, &str); 6] = [
    (Op::Introspect, "/introspect"),
    (Op::IntrospectSigned, "/introspect"),
    (Op::Revoke, "/revoke"),
    (Op::Userinfo, "/userinfo"),
    (Op::Par, "/par"),
    (Op::Register, "/reg"),
];

fn run(c: &OAuthClient, op: Op) -> Result<(), Error> {
    match op {
        Op::Introspect => c.introspect(TOKEN, None, false).map(|_| ()),
        Op::IntrospectSigned => c.introspect(TOKEN, None, true).map(|_| ()),
        Op::Revoke => c.revoke(TOKEN, None),
        Op::Userinfo => c.userinfo(TOKEN, None).map(|_| ()),
        Op::Par => c.push_authorization_request(&AuthorizationRequest::default()).map(|_| ()),
        Op::Register => register_client(c.config(), r#"{"redirect_uris":["https://rp/cb"]}"#, Some(TOKEN)).map(|_| ()),
    }
}

fn no_secret(e: &Error) {
    for s in [SECRET, TOKEN] {
        assert!(!e.message().contains(s), "{e:?}");
        assert!(!format!("{e:?}").contains(s));
    }
}

fn expect(c: &OAuthClient, op: Op, want: ErrorKind, what: &str) {
    let t = Instant::now();
    let e = run(c, op).expect_err(&format!("{op:?} {what}: expected {want:?}"));
    assert_eq!(e.kind(), want, "{op:?} {what}: {e:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{op:?} {what} took {:?}", t.elapsed());
    no_secret(&e);
}

#[test]
fn transport_and_response_faults_for_every_operation() {
    let f = fx();
    let c = f.client();
    let mut cfg = f.cfg();
    cfg.base.total_timeout = Duration::from_millis(400);
    cfg.base.connect_timeout = Duration::from_millis(400);
    let quick = OAuthClient::new(cfg).unwrap();
    for (op, path) in OPS {
        f.srv.set_route(path, Route::json(&json!({"error": "invalid_client", "error_description": "nope"})).with_status(401));
        expect(&c, op, ErrorKind::InvalidClient, "OAuth error");
        f.srv.set_route(path, Route::bytes(200, "application/json", b"{\"active\": tru".to_vec()));
        let want = if matches!(op, Op::Revoke) { None } else { Some(ErrorKind::ResponseInvalid) };
        if let Some(w) = want {
            expect(&c, op, w, "malformed JSON");
        }
        f.srv.set_route(path, Route::json_str(format!("{{\"x\":\"{}\"}}", "a".repeat(600 * 1024))));
        expect(&c, op, ErrorKind::ResponseTooLarge, "oversized body");
        if !matches!(op, Op::Revoke | Op::IntrospectSigned) {
            f.srv.set_route(
                path,
                Route::json(&json!({"unrelated": 1})).with_status(if matches!(op, Op::Par | Op::Register) { 201 } else { 200 }),
            );
            expect(&c, op, ErrorKind::ResponseMissingField, "missing field");
            f.srv.set_route(path, Route::text(200, "<html>hello</html>"));
            expect(&c, op, ErrorKind::ResponseInvalid, "wrong content type");
        }
        f.srv.set_route(path, Route::text(502, "bad gateway"));
        expect(&c, op, ErrorKind::HttpStatus, "HTTP 502");
        // Only this client has a short timeout: the other cases must not race the clock.
        f.srv.set_route(path, Route::hang());
        expect(&quick, op, ErrorKind::Timeout, "hanging server");
    }
    // Unreachable endpoints: a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = f.cfg();
    for (_, url) in cfg.endpoints.iter_mut() {
        *url = format!("https://127.0.0.1:{port}/x");
    }
    let dead = OAuthClient::new(cfg).unwrap();
    for (op, _) in OPS {
        expect(&dead, op, ErrorKind::Network, "unreachable");
    }
    // Requests carry the client authentication and the token only in the body.
    f.srv.set_route("/revoke", Route::status(200));
    c.revoke(TOKEN, Some("refresh_token")).unwrap();
    let r = f.srv.last_request("/revoke").unwrap();
    assert_eq!(r.form_param("token").as_deref(), Some(TOKEN));
    assert_eq!(r.form_param("token_type_hint").as_deref(), Some("refresh_token"));
    assert_eq!(r.form_param("client_secret").as_deref(), Some(SECRET));
    assert!(!r.path.contains(TOKEN));
}

#[test]
fn bad_arguments() {
    let f = fx();
    let c = f.client();
    assert_eq!(c.introspect("", None, false).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(c.revoke("", None).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(c.userinfo("", None).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(register_client(c.config(), "not json", None).unwrap_err().kind(), ErrorKind::InvalidArgument);
    let par = AuthorizationRequest { request_uri: Some("urn:x".into()), ..Default::default() };
    assert_eq!(c.push_authorization_request(&par).unwrap_err().kind(), ErrorKind::InvalidArgument);
    // Without an endpoint in the metadata or an override: a configuration error, no request.
    let mut cfg = f.cfg();
    cfg.endpoints.clear();
    let bare = OAuthClient::new(cfg).unwrap();
    for (op, _) in OPS {
        assert_eq!(run(&bare, op).unwrap_err().kind(), ErrorKind::InvalidConfig, "{op:?}");
    }
    assert_eq!(bare.end_session_url(&Default::default()).unwrap_err().kind(), ErrorKind::InvalidConfig);
}

#[test]
fn signed_introspection_rfc9701() {
    let f = fx();
    let c = f.client();
    let now = keys::now();
    let good = json!({"iss": f.issuer, "aud": "rp", "iat": now, "jti": "j1",
        "token_introspection": {"active": true, "sub": "u1", "scope": "read", "client_id": "other"}});
    let serve = |header: Value, claims: &Value| {
        f.srv.set_route(
            "/introspect",
            Route::bytes(200, "application/token-introspection+jwt", f.sign(header, claims.clone()).into_bytes()),
        );
    };
    serve(f.header(Some("token-introspection+jwt")), &good);
    let i = c.introspect(TOKEN, Some("access_token"), true).unwrap();
    assert!(i.active && i.signed);
    assert_eq!(i.get("sub"), Some(&json!("u1")));
    let r = f.srv.last_request("/introspect").unwrap();
    assert_eq!(r.header("accept"), Some("application/token-introspection+jwt"));
    let k = || c.introspect(TOKEN, None, true).unwrap_err().kind();
    serve(f.header(Some("JWT")), &good);
    assert_eq!(k(), ErrorKind::TypeMismatch);
    serve(f.header(None), &good);
    assert_eq!(k(), ErrorKind::TypeMismatch);
    let mut bad = good.clone();
    bad["aud"] = json!("someone-else");
    serve(f.header(Some("token-introspection+jwt")), &bad);
    assert_eq!(k(), ErrorKind::AudienceMismatch);
    let mut bad = good.clone();
    bad["iss"] = json!("https://evil.example");
    serve(f.header(Some("token-introspection+jwt")), &bad);
    assert_eq!(k(), ErrorKind::IssuerMismatch);
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("token_introspection");
    serve(f.header(Some("token-introspection+jwt")), &bad);
    assert_eq!(k(), ErrorKind::ResponseMissingField);
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("iat");
    serve(f.header(Some("token-introspection+jwt")), &bad);
    assert_eq!(k(), ErrorKind::MissingClaim);
    // Signed by a key the issuer does not publish.
    let stranger = TestKey::generate_with_kid(Alg::RS256, f.key.kid());
    f.srv.set_route(
        "/introspect",
        Route::bytes(
            200,
            "application/token-introspection+jwt",
            stranger.sign_token(&f.header(Some("token-introspection+jwt")), &good).into_bytes(),
        ),
    );
    assert_eq!(k(), ErrorKind::SignatureInvalid);
    // A plain JSON answer to a request for a signed one is a downgrade.
    f.srv.set_route("/introspect", Route::json(&json!({"active": true})));
    assert_eq!(k(), ErrorKind::ResponseInvalid);
    assert!(c.introspect(TOKEN, None, false).unwrap().active);
    f.srv.set_route("/introspect", Route::json(&json!({"active": "yes"})));
    assert_eq!(c.introspect(TOKEN, None, false).unwrap_err().kind(), ErrorKind::ResponseMissingField);
}

#[test]
fn userinfo_json_jwt_and_rfc6750_errors() {
    let f = fx_with(TestKey::generate(Alg::ES256));
    let c = f.client();
    f.srv.set_route("/userinfo", Route::json(&json!({"sub": "u1", "email": "a@b"})));
    let u = c.userinfo(TOKEN, Some("u1")).unwrap();
    assert_eq!(u.object["email"], "a@b");
    assert_eq!(f.srv.last_request("/userinfo").unwrap().header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(c.userinfo(TOKEN, Some("u2")).unwrap_err().kind(), ErrorKind::SubjectMismatch);
    f.srv.set_route("/userinfo", Route::json(&json!({"email": "a@b"})));
    assert_eq!(c.userinfo(TOKEN, None).unwrap_err().kind(), ErrorKind::ResponseMissingField);
    let mut claims = json!({"iss": f.issuer, "aud": "rp", "sub": "u1", "name": "N"});
    let serve = |claims: &Value| {
        f.srv.set_route("/userinfo", Route::bytes(200, "application/jwt", f.sign(f.header(None), claims.clone()).into_bytes()))
    };
    serve(&claims);
    let u = c.userinfo(TOKEN, Some("u1")).unwrap();
    assert!(u.signed);
    assert_eq!(u.object["name"], "N");
    claims["exp"] = json!(keys::now() - 3600);
    serve(&claims);
    assert_eq!(c.userinfo(TOKEN, None).unwrap_err().kind(), ErrorKind::TokenExpired);
    claims["exp"] = json!(keys::now() + 3600);
    claims["aud"] = json!("other");
    serve(&claims);
    assert_eq!(c.userinfo(TOKEN, None).unwrap_err().kind(), ErrorKind::AudienceMismatch);
    f.srv.set_route("/userinfo", Route::bytes(200, "application/jwt", b"a.b".to_vec()));
    assert_eq!(c.userinfo(TOKEN, None).unwrap_err().kind(), ErrorKind::TokenMalformed);
    // RFC 6750 errors arrive in WWW-Authenticate, with or without a body.
    f.srv.set_route(
        "/userinfo",
        Route::status(401).with_header("WWW-Authenticate", r#"Bearer realm="idp", error="invalid_token", error_description="expired""#),
    );
    let e = c.userinfo(TOKEN, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidToken);
    assert_eq!(e.oauth().unwrap().error_description.as_deref(), Some("expired"));
    no_secret(&e);
    f.srv
        .set_route("/userinfo", Route::status(403).with_header("WWW-Authenticate", r#"Bearer error="insufficient_scope", scope="openid""#));
    assert_eq!(c.userinfo(TOKEN, None).unwrap_err().kind(), ErrorKind::InsufficientScope);
}

#[test]
fn id_tokens_every_hash_size_and_azp() {
    for alg in [Alg::RS256, Alg::ES256, Alg::PS256, Alg::EdDSA] {
        let f = fx_with(TestKey::generate(alg));
        let c = f.client();
        let core_alg = Algorithm::from_jose(alg.name()).unwrap();
        let now = keys::now();
        let claims = json!({"iss": f.issuer, "aud": "rp", "sub": "u1", "iat": now, "exp": now + 300, "nonce": "n",
            "at_hash": left_half_hash(core_alg, "AT"), "c_hash": left_half_hash(core_alg, "CODE"), "auth_time": now - 100});
        // typ "JWT" or none: the access-token typ rule does not apply to ID tokens.
        for typ in [Some("JWT"), None] {
            let t = f.sign(f.header(typ), claims.clone());
            let checks = IdTokenChecks { nonce: Some("n"), access_token: Some("AT"), code: Some("CODE"), max_age: Some(120), now: None };
            let got = validate_id_token(&c, &t, &checks).unwrap();
            assert_eq!(got.sub(), "u1");
            let e = validate_id_token(&c, &t, &IdTokenChecks { access_token: Some(TOKEN), ..checks }).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::HashMismatch, "{alg:?}");
            no_secret(&e);
            assert_eq!(
                validate_id_token(&c, &t, &IdTokenChecks { code: Some("X"), ..checks }).unwrap_err().kind(),
                ErrorKind::HashMismatch
            );
            assert_eq!(
                validate_id_token(&c, &t, &IdTokenChecks { max_age: Some(5), ..checks }).unwrap_err().kind(),
                ErrorKind::AuthTimeInvalid
            );
        }
        let mut multi = claims.clone();
        multi["aud"] = json!(["rp", "api"]);
        let t = f.sign(f.header(None), multi.clone());
        assert_eq!(validate_id_token(&c, &t, &IdTokenChecks::default()).unwrap_err().kind(), ErrorKind::AzpMismatch);
        multi["azp"] = json!("rp");
        validate_id_token(&c, &f.sign(f.header(None), multi), &IdTokenChecks::default()).unwrap();
    }
}

#[test]
fn jarm_and_response_checks_over_a_fixture_issuer() {
    let f = fx();
    let c = f.client();
    let now = keys::now();
    let jwt = |claims: Value| f.sign(f.header(None), claims);
    let good = json!({"iss": f.issuer, "aud": "rp", "exp": now + 60, "code": "C0DE", "state": "s1"});
    let r = c
        .parse_authorization_response(
            &format!("https://rp/cb?response={}", jwt(good.clone())),
            oidc::core::oauth::ExpectedState::Sent("s1"),
            None,
        )
        .unwrap();
    assert!(r.jarm);
    assert_eq!(r.code.expose(), "C0DE");
    let err = json!({"iss": f.issuer, "aud": "rp", "exp": now + 60, "error": "access_denied", "state": "s1"});
    let e =
        c.parse_authorization_response(&format!("response={}", jwt(err)), oidc::core::oauth::ExpectedState::Sent("s1"), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    let mut expired = good.clone();
    expired["exp"] = json!(now - 3600);
    assert_eq!(
        c.parse_authorization_response(&format!("?response={}", jwt(expired)), oidc::core::oauth::ExpectedState::NoneSent, None)
            .unwrap_err()
            .kind(),
        ErrorKind::TokenExpired
    );
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        c.parse_authorization_response(&format!("?response={}", jwt(no_exp)), oidc::core::oauth::ExpectedState::NoneSent, None)
            .unwrap_err()
            .kind(),
        ErrorKind::MissingClaim
    );
    // This issuer does not advertise RFC 9207, so a plain response without iss is accepted;
    // a wrong iss is still refused.
    let r = c.parse_authorization_response("https://rp/cb?code=abc&state=s1", oidc::core::oauth::ExpectedState::Sent("s1"), None).unwrap();
    assert_eq!(r.iss, None);
    assert_eq!(
        c.parse_authorization_response(
            "https://rp/cb?code=abc&state=s1&iss=https%3A%2F%2Fx",
            oidc::core::oauth::ExpectedState::Sent("s1"),
            None
        )
        .unwrap_err()
        .kind(),
        ErrorKind::ResponseIssuerMismatch
    );
    assert_eq!(
        c.parse_authorization_response("?state=s1", oidc::core::oauth::ExpectedState::Sent("s1"), None).unwrap_err().kind(),
        ErrorKind::ResponseMissingField
    );
    assert_eq!(
        c.parse_authorization_response("?code=a", oidc::core::oauth::ExpectedState::Sent("s1"), None).unwrap_err().kind(),
        ErrorKind::StateMismatch
    );
    let e = c
        .parse_authorization_response(
            "?error=temporarily_unavailable&error_description=later&state=s1",
            oidc::core::oauth::ExpectedState::Sent("s1"),
            None,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OAuthOther);
    assert_eq!(e.oauth().unwrap().error, "temporarily_unavailable");
    // A discovery that advertises RFC 9207 makes iss mandatory.
    let mut disco = oidc_testkit::oidc_discovery(&f.issuer, &f.srv.url("/jwks"));
    disco["authorization_response_iss_parameter_supported"] = json!(true);
    f.srv.set_route("/.well-known/openid-configuration", Route::json(&disco));
    let c2 = f.client();
    assert_eq!(
        c2.parse_authorization_response("?code=abc&state=s1", oidc::core::oauth::ExpectedState::Sent("s1"), None).unwrap_err().kind(),
        ErrorKind::ResponseIssuerMismatch
    );
}

#[test]
fn urls_pkce_par_shapes_and_redaction() {
    let f = fx();
    let mut cfg = f.cfg();
    cfg.endpoints.push(("authorization_endpoint".into(), f.srv.url("/authorize?tenant=t1")));
    let c = OAuthClient::new(cfg).unwrap();
    let p = oidc::core::oauth::pkce::generate().unwrap();
    let req = AuthorizationRequest {
        redirect_uri: Some("https://rp/cb".into()),
        scope: Some("openid email".into()),
        code_challenge: Some(p.challenge.clone()),
        extra: vec![("resource".into(), "urn:a".into()), ("prompt".into(), "login consent".into())],
        ..Default::default()
    };
    let a = c.authorization_url(&req).unwrap();
    let b = c.authorization_url(&req).unwrap();
    assert_ne!(a.state, b.state);
    assert_ne!(a.nonce, b.nonce);
    let url = &a.url;
    assert!(
        url.starts_with(&format!(
            "{}/authorize?tenant=t1&client_id=rp&response_type=code&redirect_uri=https%3A%2F%2Frp%2Fcb&scope=openid%20email&state=",
            f.issuer
        )),
        "{url}"
    );
    assert!(url.contains(&format!("&code_challenge={}&code_challenge_method=S256", p.challenge)));
    assert!(url.contains("&resource=urn%3Aa&prompt=login%20consent"));
    assert!(!url.contains(p.verifier.expose()));
    let given = AuthorizationRequest { state: Some("st".into()), nonce: Some("no".into()), ..Default::default() };
    let g = c.authorization_url(&given).unwrap();
    assert_eq!((g.state.as_deref(), g.nonce.as_deref()), (Some("st"), Some("no")));
    let jar = c
        .authorization_url(&AuthorizationRequest { request: Some("h.p.s".into()), scope: Some("openid".into()), ..Default::default() })
        .unwrap();
    assert!(jar.url.ends_with("&client_id=rp&response_type=code&scope=openid&request=h.p.s"), "{}", jar.url);
    let par = c
        .authorization_url(&AuthorizationRequest { request_uri: Some("urn:ietf:params:oauth:request_uri:x".into()), ..Default::default() })
        .unwrap();
    assert!(par.url.ends_with("?tenant=t1&client_id=rp&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax"));
    // PAR request body: parameters + client auth; answer 201.
    f.srv.set_route("/par", Route::json(&json!({"request_uri": "urn:r", "expires_in": 60})).with_status(201));
    let pushed = c.push_authorization_request(&req).unwrap();
    assert_eq!((pushed.request_uri.as_str(), pushed.expires_in), ("urn:r", 60));
    let r = f.srv.last_request("/par").unwrap();
    assert_eq!(r.form_param("client_id").as_deref(), Some("rp"));
    assert_eq!(r.form_param("code_challenge").as_deref(), Some(p.challenge.as_str()));
    assert_eq!(r.form_param("state"), pushed.state);
    f.srv.set_route("/par", Route::json(&json!({"request_uri": "urn:r", "expires_in": "soon"})).with_status(201));
    assert_eq!(c.push_authorization_request(&req).unwrap_err().kind(), ErrorKind::ResponseMissingField);
    // End session.
    let u = c
        .end_session_url(&oidc::core::oauth::EndSessionRequest {
            id_token_hint: Some("a.b.c".into()),
            post_logout_redirect_uri: Some("https://rp/bye".into()),
            state: Some("s".into()),
            include_client_id: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(u, format!("{}/logout?id_token_hint=a.b.c&post_logout_redirect_uri=https%3A%2F%2Frp%2Fbye&state=s&client_id=rp", f.issuer));
    // Registration sends the initial access token as a Bearer token and JSON metadata.
    f.srv.set_route("/reg", Route::json(&json!({"client_id": "new", "client_secret": "fresh-secret"})).with_status(201));
    let reg = register_client(c.config(), r#"{"redirect_uris":["https://rp/cb"]}"#, Some(TOKEN)).unwrap();
    assert_eq!(reg.client_id, "new");
    assert!(!format!("{reg:?}").contains("fresh-secret"));
    let r = f.srv.last_request("/reg").unwrap();
    assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(r.header("content-type"), Some("application/json"));
    f.srv.set_route("/reg", Route::json(&json!({"error": "invalid_redirect_uri"})).with_status(400));
    assert_eq!(register_client(c.config(), "{}", None).unwrap_err().kind(), ErrorKind::InvalidRedirectUri);
}

#[test]
fn one_pooled_connection_for_sequential_calls() {
    let f = fx();
    let c = f.client();
    f.srv.set_route("/introspect", Route::json(&json!({"active": false})));
    f.srv.set_route("/revoke", Route::status(200));
    f.srv.set_route("/userinfo", Route::json(&json!({"sub": "u"})));
    c.introspect(TOKEN, None, false).unwrap(); // discovery is not needed: endpoints overridden
    let before = f.srv.connections();
    for _ in 0..5 {
        c.introspect(TOKEN, None, false).unwrap();
        c.revoke(TOKEN, None).unwrap();
        c.userinfo(TOKEN, None).unwrap();
    }
    assert_eq!(f.srv.connections(), before, "every call reused the pooled connection");
}
