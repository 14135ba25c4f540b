//! The grants end to end against the real IdP (oidc-provider, tests/idp/server.mjs): client
//! authentication with JWT assertions, authorization code + PKCE with a scripted login, refresh,
//! device flow with a scripted approval, token exchange / JWT bearer / an "echo" grant (custom
//! grant handlers registered in server.mjs with `provider.registerGrantType`, since
//! oidc-provider has none of them built in), CIBA poll mode (oidc-provider's features.ciba,
//! approved through the IdP's admin endpoint `/ciba/approve`), DPoP-bound tokens, and the
//! client-credentials cache. One IdP per test binary (shared), except where counts matter.

mod common;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common::real_idp::{RealIdp, client_key};
use oidc::core::oauth::grants::TOKEN_TYPE_ACCESS_TOKEN;
use oidc::core::oauth::{
    AuthorizationSecrets, ClientAuth, OAuthClient, OAuthConfig, PollOptions, Secret, SigningKey, TokenExchangeRequest,
};
use oidc::core::{Client, Config, ErrorKind};
use oidc_testkit::util::url_encode;
use serde_json::Value;

fn idp() -> &'static RealIdp {
    static IDP: OnceLock<RealIdp> = OnceLock::new();
    IDP.get_or_init(RealIdp::start)
}

fn cfg(idp: &RealIdp, id: &str, auth: ClientAuth) -> OAuthConfig {
    let mut c = OAuthConfig::new(&idp.issuer, id, auth);
    c.base.ca_file = Some(idp.ca_file.clone());
    c
}

fn client(idp: &RealIdp, id: &str, auth: ClientAuth) -> OAuthClient {
    OAuthClient::new(cfg(idp, id, auth)).unwrap()
}

fn key(file: &str) -> Arc<SigningKey> {
    let text = client_key(file);
    Arc::new(SigningKey::from_pem_or_jwk(&text, None, Some(&format!("client-{}", file.split(['.', '-']).next().unwrap()))).unwrap())
}

/// Resource-server validator for JWT access tokens of `resource`.
fn rs(idp: &RealIdp, resource: &str) -> Client {
    let mut c = Config::new(&idp.issuer);
    c.audiences = vec![resource.into()];
    c.ca_file = Some(idp.ca_file.clone());
    c.expected_typ = Some("at+jwt".into());
    Client::new(c).unwrap()
}

fn claims(v: &oidc::core::Validated) -> Value {
    serde_json::from_str(&v.claims).unwrap()
}

#[test]
fn jwt_client_authentication() {
    let idp = idp();
    let rs = rs(idp, "urn:liboidc:es256");
    // private_key_jwt with each key type and PEM flavour, and from JWKs.
    for file in ["rsa.pem", "rsa-pkcs1.pem", "ec.pem", "ec-sec1.pem", "ed25519.pem", "rsa.jwk.json", "ec.jwk.json", "ed25519.jwk.json"] {
        let c = client(idp, "svc-pkjwt", ClientAuth::PrivateKeyJwt(key(file)));
        let t = c.client_credentials(Some("read"), &["urn:liboidc:es256"], None).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_eq!(claims(&rs.validate(t.access_token.expose()).unwrap())["client_id"], "svc-pkjwt", "{file}");
    }
    // PS256 with the RSA key.
    let ps = Arc::new(SigningKey::from_pem(&client_key("rsa.pem"), Some("PS256"), Some("client-rsa")).unwrap());
    client(idp, "svc-pkjwt", ClientAuth::PrivateKeyJwt(ps)).client_credentials(None, &[], None).unwrap();
    // "auto" picks private_key_jwt from the IdP's token_endpoint_auth_methods_supported.
    let auto = client(idp, "svc-pkjwt", ClientAuth::Auto { secret: None, key: Some(key("ec.pem")) });
    assert_eq!(auto.effective_auth().unwrap().method_name(), "private_key_jwt");
    auto.client_credentials(None, &[], None).unwrap();
    // client_secret_jwt.
    let sj = client(idp, "svc-secret-jwt", ClientAuth::SecretJwt("svc-secret-jwt-secret-0123456789abcdef0123456789".into()));
    let t = sj.client_credentials(Some("read"), &["urn:liboidc:es256"], None).unwrap();
    assert_eq!(claims(&rs.validate(t.access_token.expose()).unwrap())["client_id"], "svc-secret-jwt");
    // Wrong key / wrong secret: invalid_client, with no secret in the message.
    let other = Arc::new(SigningKey::from_pem(&client_key("dpop-ec.pem"), None, Some("client-ec")).unwrap());
    let e = client(idp, "svc-pkjwt", ClientAuth::PrivateKeyJwt(other)).client_credentials(None, &[], None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient);
    let e = client(idp, "svc-secret-jwt", ClientAuth::SecretJwt("wrong-secret-wrong-secret-wrong-secret".into()))
        .client_credentials(None, &[], None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient);
    assert!(!e.message().contains("wrong-secret"));
}

/// The authorization URL (the URL builder is the endpoints half's; built by hand here).
fn auth_url(idp: &RealIdp, client_id: &str, s: &AuthorizationSecrets, extra: &str) -> String {
    format!(
        "{}/auth?client_id={client_id}&response_type=code&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256{extra}",
        idp.issuer,
        url_encode("http://127.0.0.1/cb"),
        url_encode("openid email profile read"),
        s.state,
        s.nonce,
        s.code_challenge
    )
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    oidc_testkit::util::parse_query(q).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn login(idp: &RealIdp, client_id: &str, s: &AuthorizationSecrets, extra: &str) -> String {
    let cb = idp.browser().login_and_consent(&auth_url(idp, client_id, s, extra), "user-1");
    assert!(cb.starts_with("http://127.0.0.1/cb?"), "{cb}");
    assert_eq!(query_param(&cb, "state").as_deref(), Some(s.state.as_str()));
    query_param(&cb, "code").unwrap()
}

#[test]
fn authorization_code_pkce_and_refresh() {
    let idp = idp();
    let web = client(idp, "web-app", ClientAuth::SecretBasic("web-app-secret".into()));
    let s = AuthorizationSecrets::generate().unwrap();
    let code = login(idp, "web-app", &s, &format!("&resource={}", url_encode("urn:liboidc:es256")));
    let redirect = "http://127.0.0.1/cb";
    // A wrong verifier is refused (oidc-provider then consumes the code: log in again).
    let e = web.exchange_code(&code, redirect, Some("wrong-verifier-wrong-verifier-wrong-verifier-0"), Some(&s.nonce), &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidGrant);
    assert!(!e.message().contains(&code) && !e.message().contains(s.code_verifier.expose()));

    let s = AuthorizationSecrets::generate().unwrap();
    let code = login(idp, "web-app", &s, &format!("&resource={}", url_encode("urn:liboidc:es256")));
    let t = web.exchange_code(&code, redirect, Some(s.code_verifier.expose()), Some(&s.nonce), &["urn:liboidc:es256"]).unwrap();
    assert_eq!(t.token_type, "Bearer");
    let id = t.id_token.as_ref().expect("id_token");
    let idc: Value = serde_json::from_str(&web.validator().validate(id.expose()).unwrap().claims).unwrap();
    assert_eq!((idc["sub"].as_str(), idc["nonce"].as_str()), (Some("user-1"), Some(s.nonce.as_str())));
    assert_eq!(claims(&rs(idp, "urn:liboidc:es256").validate(t.access_token.expose()).unwrap())["sub"], "user-1");
    // Refresh: rotated, and the old refresh token is then rejected.
    let rt = t.refresh_token.clone().expect("refresh_token");
    let t2 = web.refresh(rt.expose(), None, &["urn:liboidc:es256"]).unwrap();
    let rt2 = t2.refresh_token.clone().unwrap();
    assert_ne!(rt2.expose(), rt.expose());
    assert!(t2.id_token.is_some(), "oidc-provider sends a new ID token on refresh (validated)");
    let e = web.refresh(rt.expose(), None, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidGrant);
    assert!(!e.message().contains(rt.expose()));
    assert!(!format!("{t2:?}").contains(rt2.expose()));
    // The code is single-use; reusing it revokes what it granted (RFC 6749 §4.1.2).
    let e = web.exchange_code(&code, redirect, Some(s.code_verifier.expose()), None, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidGrant);
    assert_eq!(web.refresh(rt2.expose(), None, &[]).unwrap_err().kind(), ErrorKind::InvalidGrant);

    // A public client (none) with PKCE on the native app.
    let native = client(idp, "native-app", ClientAuth::None);
    let s = AuthorizationSecrets::generate().unwrap();
    let code = login(idp, "native-app", &s, "");
    let t = native.exchange_code(&code, redirect, Some(s.code_verifier.expose()), Some(&s.nonce), &[]).unwrap();
    assert!(t.id_token.is_some() && t.refresh_token.is_some());
}

#[test]
fn device_flow_with_scripted_approval() {
    let idp = idp();
    let c = client(idp, "device-app", ClientAuth::None);
    let da = c.device_authorization(Some("openid"), &[]).unwrap();
    assert_eq!(da.interval, Duration::from_secs(5), "no interval from the IdP: the RFC 8628 default");
    assert!(da.verification_uri.starts_with(&idp.issuer));
    // Pending, and a deadline shorter than the interval: one poll, DeadlineExceeded at once.
    let t0 = std::time::Instant::now();
    let e = c.poll_device_token(&da, &PollOptions::timeout(&c, Duration::from_millis(200))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeadlineExceeded);
    assert!(t0.elapsed() < Duration::from_secs(2));
    idp.browser().approve_device(&da.user_code);
    let t = c.poll_device_token(&da, &PollOptions::timeout(&c, Duration::from_secs(30))).unwrap();
    assert!(!t.access_token.is_empty());
    assert!(t.id_token.is_some(), "validated ID token");
    // The device code is consumed.
    let e = c.poll_device_token(&da, &PollOptions::timeout(&c, Duration::from_secs(1))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidGrant);
}

#[test]
fn token_exchange_jwt_bearer_and_custom_grant() {
    let idp = idp();
    let svc = client(idp, "svc-basic", ClientAuth::SecretBasic("svc-basic-secret".into()));
    let pk = client(idp, "svc-pkjwt", ClientAuth::PrivateKeyJwt(key("ec.pem")));
    // RFC 8693 (custom grant handler in server.mjs): an opaque svc-basic token as subject.
    let subject = svc.client_credentials(None, &[], None).unwrap();
    let r = TokenExchangeRequest {
        subject_token: subject.access_token.clone(),
        audience: vec!["urn:x:downstream".into()],
        ..Default::default()
    };
    let t = pk.token_exchange(&r).unwrap();
    assert_eq!(t.issued_token_type.as_deref(), Some(TOKEN_TYPE_ACCESS_TOKEN));
    let bad = TokenExchangeRequest { subject_token: Secret::new("not-a-token"), ..Default::default() };
    assert_eq!(pk.token_exchange(&bad).unwrap_err().kind(), ErrorKind::InvalidGrant);
    // RFC 7523 JWT bearer (custom grant handler): an assertion signed with the client's key.
    let a = pk.jwt_bearer_assertion(&pk.private_key().unwrap(), "user-1", None).unwrap();
    let t = pk.jwt_bearer(&a, Some("read"), &[]).unwrap();
    assert!(!t.access_token.is_empty());
    let foreign = SigningKey::from_pem(&client_key("dpop-ec.pem"), None, Some("client-ec")).unwrap();
    let a = pk.jwt_bearer_assertion(&foreign, "user-1", None).unwrap();
    let e = pk.jwt_bearer(&a, None, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidGrant);
    assert!(!e.message().contains(&a));
    // A custom grant with extra parameters, echoed back by the IdP.
    let t = pk.custom_grant("urn:liboidc:grant-type:echo", &[("color".into(), "blue".into()), ("size".into(), "XL".into())]).unwrap();
    assert_eq!(t.get("echo").unwrap()["color"], "blue");
    assert_eq!(t.get("echo").unwrap()["size"], "XL");
    let e = pk.custom_grant("urn:liboidc:grant-type:echo", &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);
    // A grant the client is not registered for (oidc-provider answers invalid_request).
    assert_eq!(
        svc.custom_grant("urn:liboidc:grant-type:echo", &[("color".into(), "x".into())]).unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
}

#[test]
fn ciba_poll_mode() {
    let idp = idp();
    let c = client(idp, "svc-pkjwt", ClientAuth::PrivateKeyJwt(key("rsa.pem")));
    let params = |hint: &str| vec![("scope".to_string(), "openid email".to_string()), ("login_hint".to_string(), hint.to_string())];
    let req = c.ciba_request(&params("user-1")).unwrap();
    let e = c.ciba_poll(&req, &PollOptions::timeout(&c, Duration::from_millis(100))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeadlineExceeded, "pending before approval");
    let r = idp.admin_post(&format!("/ciba/approve?auth_req_id={}", url_encode(req.auth_req_id.expose())));
    assert_eq!(r["ok"], true, "{r}");
    let t = c.ciba_poll(&req, &PollOptions::timeout(&c, Duration::from_secs(30))).unwrap();
    let id = t.id_token.as_ref().expect("CIBA returns an ID token (validated)");
    let idc: Value = serde_json::from_str(&c.validator().validate(id.expose()).unwrap().claims).unwrap();
    assert_eq!(idc["sub"], "user-1");
    // Denied.
    let req = c.ciba_request(&params("user-2")).unwrap();
    idp.admin_post(&format!("/ciba/approve?deny=1&auth_req_id={}", url_encode(req.auth_req_id.expose())));
    assert_eq!(c.ciba_poll(&req, &PollOptions::timeout(&c, Duration::from_secs(30))).unwrap_err().kind(), ErrorKind::AccessDenied);
}

#[test]
fn dpop_bound_tokens() {
    let idp = idp();
    let dkey = Arc::new(SigningKey::from_pem(&client_key("dpop-ec.pem"), None, None).unwrap());
    // Client credentials: a DPoP-bound JWT access token with cnf.jkt = our key's thumbprint.
    // The IdP requires DPoP nonces, so the first request is answered use_dpop_nonce and retried.
    let mut cc = cfg(idp, "svc-basic", ClientAuth::SecretBasic("svc-basic-secret".into()));
    cc.dpop_key = Some(dkey.clone());
    let c = OAuthClient::new(cc).unwrap();
    let t = c.client_credentials(Some("read"), &["urn:liboidc:es256"], None).unwrap();
    assert_eq!(t.token_type, "DPoP");
    let v = claims(&rs(idp, "urn:liboidc:es256").validate(t.access_token.expose()).unwrap());
    assert_eq!(v["cnf"]["jkt"], dkey.thumbprint());
    assert!(c.dpop().unwrap().nonce(&idp.issuer).is_some(), "nonce remembered for the IdP's origin");

    // Authorization code with DPoP, then userinfo with the bound token (ath + nonce).
    let mut wc = cfg(idp, "web-app", ClientAuth::SecretBasic("web-app-secret".into()));
    wc.dpop_key = Some(Arc::new(SigningKey::generate_es256().unwrap()));
    let web = OAuthClient::new(wc).unwrap();
    let s = AuthorizationSecrets::generate().unwrap();
    let code = login(idp, "web-app", &s, "");
    let t = web.exchange_code(&code, "http://127.0.0.1/cb", Some(s.code_verifier.expose()), Some(&s.nonce), &[]).unwrap();
    assert_eq!(t.token_type, "DPoP");
    let me = format!("{}/me", idp.issuer);
    let r = web.resource_request("GET", &me, t.access_token.expose(), &t.token_type, None).unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let u: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(u["sub"], "user-1");
    // The same token as a Bearer token, or with another key's proof, is refused.
    let r = web.resource_request("GET", &me, t.access_token.expose(), "Bearer", None).unwrap();
    assert_eq!(r.status, 401);
    let r = c.resource_request("GET", &me, t.access_token.expose(), "DPoP", None).unwrap();
    assert_eq!(r.status, 401, "a proof from another key");
    // Refresh keeps the binding.
    let t2 = web.refresh(t.refresh_token.as_ref().unwrap().expose(), None, &[]).unwrap();
    assert_eq!(t2.token_type, "DPoP");
}

/// N threads, one token request, counted at the IdP (its own instance, so the count is ours).
#[test]
fn client_credentials_cache_single_flight_at_the_idp() {
    let idp = RealIdp::start();
    let c = client(&idp, "svc-basic", ClientAuth::SecretBasic("svc-basic-secret".into()));
    c.metadata().unwrap();
    let before = idp.path_hits("/token");
    let handles: Vec<_> = (0..12)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                c.client_credentials_cached(Some("read"), &["urn:liboidc:rs256"], None).unwrap().access_token.expose().to_string()
            })
        })
        .collect();
    let tokens: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(tokens.windows(2).all(|w| w[0] == w[1]), "every caller got the same token");
    assert_eq!(idp.path_hits("/token") - before, 1, "one token request for 12 callers");
    assert_eq!(c.token_cache_fetches(), 1);
}
