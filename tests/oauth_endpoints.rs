//! The endpoint half of the protocol clients end to end against the real IdP (oidc-provider):
//! authorization URL + scripted login/consent + response parsing (state, RFC 9207 iss, errors,
//! JARM), PAR, ID-token validation, UserInfo (JSON and signed), introspection (JSON and RFC 9701
//! JWT), revocation, dynamic registration and the end-session URL. One IdP for the whole file.

mod common;

use std::sync::OnceLock;

use common::real_idp::RealIdp;
use oidc::core::ErrorKind;
use oidc::core::oauth::{
    AuthorizationRequest, ClientAuth, EndSessionRequest, ExpectedState, IdTokenChecks, OAuthClient, OAuthConfig, pkce, register_client,
    validate_id_token,
};
use serde_json::{Value, json};

const CB: &str = "http://127.0.0.1/cb";

fn idp() -> &'static RealIdp {
    static IDP: OnceLock<RealIdp> = OnceLock::new();
    IDP.get_or_init(RealIdp::start)
}

fn client(id: &str, auth: ClientAuth) -> OAuthClient {
    let idp = idp();
    let mut cfg = OAuthConfig::new(&idp.issuer, id, auth);
    cfg.base.ca_file = Some(idp.ca_file.clone());
    OAuthClient::new(cfg).unwrap()
}

fn web() -> OAuthClient {
    client("web-app", ClientAuth::SecretBasic("web-app-secret".into()))
}

/// What one completed code flow gives.
struct Flow {
    tokens: Value,
    code: String,
    nonce: String,
    redirect: String,
    state: String,
}

fn code_flow(c: &OAuthClient, secret: Option<&str>, redirect_uri: &str, extra: Vec<(String, String)>) -> Flow {
    let p = pkce::generate().unwrap();
    let req = AuthorizationRequest {
        redirect_uri: Some(redirect_uri.into()),
        scope: Some("openid email profile".into()),
        code_challenge: Some(p.challenge.clone()),
        max_age: Some(600),
        extra,
        ..Default::default()
    };
    let prepared = c.authorization_url(&req).unwrap();
    let state = prepared.state.clone().unwrap();
    let redirect = idp().browser().authorize(&prepared.url, "user-1");
    let resp = c.parse_authorization_response(&redirect, ExpectedState::Sent(&state), None).unwrap();
    assert_eq!(resp.iss.as_deref(), Some(idp().issuer.as_str()));
    let code = resp.code.expose().to_string();
    let tokens = idp().exchange_code(c.client_id(), secret, &code, redirect_uri, p.verifier.expose());
    Flow { tokens, code, nonce: prepared.nonce.unwrap(), redirect, state }
}

#[test]
fn code_flow_id_token_userinfo_introspection_revocation_logout() {
    let c = web();
    let f = code_flow(&c, Some("web-app-secret"), CB, vec![]);
    let id_token = f.tokens["id_token"].as_str().unwrap();
    let at = f.tokens["access_token"].as_str().unwrap();
    let rt = f.tokens["refresh_token"].as_str().unwrap();

    // ID token: nonce, at_hash, auth_time with max_age.
    let checks = IdTokenChecks { nonce: Some(&f.nonce), access_token: Some(at), code: Some(&f.code), max_age: Some(600), now: None };
    let claims = validate_id_token(&c, id_token, &checks).unwrap();
    assert_eq!(claims.sub(), "user-1");
    assert_eq!(claims.get("aud"), Some(&json!("web-app")));
    let k = |ch: IdTokenChecks| validate_id_token(&c, id_token, &ch).unwrap_err().kind();
    assert_eq!(k(IdTokenChecks { nonce: Some("other"), ..checks }), ErrorKind::NonceMismatch);
    if claims.get("at_hash").is_some() {
        assert_eq!(k(IdTokenChecks { access_token: Some("not-the-token"), ..checks }), ErrorKind::HashMismatch);
    }
    let later = claims.get("auth_time").unwrap().as_f64().unwrap() + 3600.0;
    assert_eq!(k(IdTokenChecks { max_age: Some(60), now: Some(later), ..checks }), ErrorKind::AuthTimeInvalid);
    // Same policy code as access tokens: expiry, signature, audience.
    assert_eq!(k(IdTokenChecks { now: Some(claims.exp + 3600.0), ..checks }), ErrorKind::TokenExpired);
    let mut forged = id_token.to_string();
    forged.replace_range(forged.len() - 6.., "AAAAAA");
    assert!(matches!(validate_id_token(&c, &forged, &checks).unwrap_err().kind(), ErrorKind::SignatureInvalid | ErrorKind::TokenMalformed));
    let other = client("native-app", ClientAuth::None);
    assert_eq!(validate_id_token(&other, id_token, &IdTokenChecks::default()).unwrap_err().kind(), ErrorKind::AudienceMismatch);

    // UserInfo (JSON), sub against the ID token's.
    let ui = c.userinfo(at, Some(claims.sub())).unwrap();
    assert!(!ui.signed);
    assert_eq!(ui.object["email"], "user-1@liboidc.test");
    assert_eq!(c.userinfo(at, Some("someone-else")).unwrap_err().kind(), ErrorKind::SubjectMismatch);
    let e = c.userinfo("not-a-valid-access-token", None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidToken);
    assert_eq!(e.oauth().unwrap().status, 401);
    assert!(!e.message().contains("not-a-valid-access-token"));

    // Introspection: JSON and RFC 9701 JWT, then revocation.
    let i = c.introspect(at, Some("access_token"), false).unwrap();
    assert!(i.active && !i.signed);
    assert_eq!(i.get("sub"), Some(&json!("user-1")));
    let j = c.introspect(at, None, true).unwrap();
    assert!(j.active && j.signed);
    assert_eq!(j.get("client_id"), Some(&json!("web-app")));
    let ri = c.introspect(rt, Some("refresh_token"), false).unwrap();
    assert!(ri.active);
    c.revoke(at, Some("access_token")).unwrap();
    assert!(!c.introspect(at, None, false).unwrap().active);
    assert!(!c.introspect(at, None, true).unwrap().active);
    c.revoke(rt, Some("refresh_token")).unwrap();
    assert!(!c.introspect(rt, None, false).unwrap().active);
    // Revoking an unknown token is a success (RFC 7009 §2.2).
    c.revoke("never-issued", None).unwrap();
    let bad = client("web-app", ClientAuth::SecretBasic("wrong-secret".into()));
    for e in [bad.introspect(at, None, false).unwrap_err(), bad.revoke(at, None).unwrap_err()] {
        assert_eq!(e.kind(), ErrorKind::InvalidClient);
        assert!(!e.message().contains(at) && !e.message().contains("wrong-secret"));
    }

    // Response checks on the real redirect.
    let k = |input: &str, st: Option<&str>| {
        let st = st.map_or(ExpectedState::NoneSent, ExpectedState::Sent);
        c.parse_authorization_response(input, st, None).unwrap_err().kind()
    };
    assert_eq!(k(&f.redirect, Some("another-state")), ErrorKind::StateMismatch);
    let no_iss: String = f.redirect.split('&').filter(|p| !p.starts_with("iss=")).collect::<Vec<_>>().join("&");
    assert_eq!(k(&no_iss, Some(&f.state)), ErrorKind::ResponseIssuerMismatch, "oidc-provider advertises RFC 9207");
    let wrong_iss = format!("{no_iss}&iss=https%3A%2F%2Fevil.example");
    assert_eq!(k(&wrong_iss, Some(&f.state)), ErrorKind::ResponseIssuerMismatch);
    // Issue 10 item 12: no state is never "skip the check". An empty expected state is a misuse;
    // "none was sent" is explicit, and then a response carrying a state is refused.
    assert_eq!(k(&f.redirect, Some("")), ErrorKind::InvalidArgument);
    assert_eq!(k(&f.redirect, None), ErrorKind::StateMismatch, "a state nobody expected");
    let iss = c.config().base.issuer.replace(':', "%3A").replace('/', "%2F");
    let stateless = format!("code=c-1&iss={iss}");
    assert_eq!(c.parse_authorization_response(&stateless, ExpectedState::NoneSent, None).unwrap().code.expose(), "c-1");
    assert_eq!(k(&stateless, Some(&f.state)), ErrorKind::StateMismatch, "a state was sent and none came back");
    let resp = c.parse_authorization_response(&f.redirect, ExpectedState::Sent(&f.state), None).unwrap();
    assert!(!format!("{resp:?}").contains(&f.code));

    // RP-initiated logout: the IdP accepts the URL and shows its confirmation page.
    let url = c
        .end_session_url(&EndSessionRequest {
            id_token_hint: Some(id_token.into()),
            post_logout_redirect_uri: Some("http://127.0.0.1/logout-cb".into()),
            state: Some("bye".into()),
            include_client_id: true,
            ..Default::default()
        })
        .unwrap();
    assert!(url.starts_with(&format!("{}/session/end?", idp().issuer)));
    let (status, body) = idp().browser().get(&url);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("logout") || body.contains("Logout"), "{body}");
    let (status, body) = idp().browser().get(&url.replace("logout-cb", "not-registered"));
    assert_eq!(status, 400, "{body}");
}

#[test]
fn error_responses_and_prompt_none() {
    let c = web();
    let p = pkce::generate().unwrap();
    let req = AuthorizationRequest {
        redirect_uri: Some(CB.into()),
        scope: Some("openid".into()),
        code_challenge: Some(p.challenge.clone()),
        ..Default::default()
    };
    let prepared = c.authorization_url(&req).unwrap();
    let state = prepared.state.unwrap();
    let back = idp().browser().authorize_and_abort(&prepared.url);
    let e = c.parse_authorization_response(&back, ExpectedState::Sent(&state), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    let o = e.oauth().unwrap();
    assert_eq!(o.error, "access_denied");
    assert_eq!(o.status, 0);
    assert!(o.error_description.as_deref().unwrap().contains("aborted"));
    // A forged error with the wrong state is a state mismatch, not an error response.
    assert_eq!(c.parse_authorization_response(&back, ExpectedState::Sent("x"), None).unwrap_err().kind(), ErrorKind::StateMismatch);

    // prompt=none without a session: login_required (an OAuth error without its own kind).
    let req = AuthorizationRequest { extra: vec![("prompt".into(), "none".into())], ..req };
    let prepared = c.authorization_url(&req).unwrap();
    let back = idp().browser().authorize(&prepared.url, "user-1");
    let e = c.parse_authorization_response(&back, ExpectedState::Sent(prepared.state.as_deref().unwrap()), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OAuthOther);
    assert_eq!(e.oauth().unwrap().error, "login_required");
}

#[test]
fn pushed_authorization_request() {
    let c = web();
    let p = pkce::generate().unwrap();
    let req = AuthorizationRequest {
        redirect_uri: Some(CB.into()),
        scope: Some("openid email".into()),
        code_challenge: Some(p.challenge.clone()),
        ..Default::default()
    };
    let pushed = c.push_authorization_request(&req).unwrap();
    assert!(pushed.request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert!(pushed.expires_in > 0);
    let prepared =
        c.authorization_url(&AuthorizationRequest { request_uri: Some(pushed.request_uri.clone()), ..Default::default() }).unwrap();
    let q = prepared.url.split_once('?').unwrap().1;
    assert_eq!(q.split('&').count(), 2, "only client_id and request_uri: {q}");
    let back = idp().browser().authorize(&prepared.url, "user-1");
    let resp = c.parse_authorization_response(&back, ExpectedState::Sent(pushed.state.as_deref().unwrap()), None).unwrap();
    let tokens = idp().exchange_code("web-app", Some("web-app-secret"), resp.code.expose(), CB, p.verifier.expose());
    let checks = IdTokenChecks { nonce: pushed.nonce.as_deref(), ..Default::default() };
    validate_id_token(&c, tokens["id_token"].as_str().unwrap(), &checks).unwrap();
    // Errors from the PAR endpoint keep their OAuth code.
    let bad = AuthorizationRequest { redirect_uri: Some("http://127.0.0.1/not-registered".into()), ..req.clone() };
    let e = c.push_authorization_request(&bad).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidRequest | ErrorKind::InvalidRedirectUri | ErrorKind::OAuthOther), "{e:?}");
    let bad = client("web-app", ClientAuth::SecretBasic("nope".into()));
    assert_eq!(bad.push_authorization_request(&req).unwrap_err().kind(), ErrorKind::InvalidClient);
}

#[test]
fn jarm_response() {
    let c = web();
    let f = code_flow(&c, Some("web-app-secret"), CB, vec![]);
    let _ = f; // a normal flow first: the browser session is separate per flow anyway
    let p = pkce::generate().unwrap();
    let req = AuthorizationRequest {
        redirect_uri: Some(CB.into()),
        scope: Some("openid".into()),
        code_challenge: Some(p.challenge.clone()),
        response_mode: Some("jwt".into()),
        ..Default::default()
    };
    let prepared = c.authorization_url(&req).unwrap();
    let back = idp().browser().authorize(&prepared.url, "user-1");
    assert!(back.contains("response="), "{back}");
    let resp = c.parse_authorization_response(&back, ExpectedState::Sent(prepared.state.as_deref().unwrap()), None).unwrap();
    assert!(resp.jarm);
    assert_eq!(resp.iss.as_deref(), Some(idp().issuer.as_str()));
    idp().exchange_code("web-app", Some("web-app-secret"), resp.code.expose(), CB, p.verifier.expose());
    // The response JWT is checked by the token policy: another client is not its audience,
    // a tampered one fails its signature, and the state inside it is compared.
    let other = client("native-app", ClientAuth::None);
    assert_eq!(other.parse_authorization_response(&back, ExpectedState::NoneSent, None).unwrap_err().kind(), ErrorKind::AudienceMismatch);
    let mut tampered = back.clone();
    tampered.truncate(tampered.len() - 4);
    tampered.push_str("AAAA");
    assert!(matches!(
        c.parse_authorization_response(&tampered, ExpectedState::NoneSent, None).unwrap_err().kind(),
        ErrorKind::SignatureInvalid | ErrorKind::TokenMalformed
    ));
    assert_eq!(c.parse_authorization_response(&back, ExpectedState::Sent("x"), None).unwrap_err().kind(), ErrorKind::StateMismatch);
}

#[test]
fn dynamic_registration_and_signed_userinfo() {
    let idp = idp();
    let mut cfg = OAuthConfig::new(&idp.issuer, "", ClientAuth::None);
    cfg.base.ca_file = Some(idp.ca_file.clone());
    let md = json!({
        "redirect_uris": ["https://127.0.0.1/cb"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "userinfo_signed_response_alg": "RS256",
        "client_name": "liboidc test"
    });
    let r = register_client(&cfg, &md.to_string(), None).unwrap();
    let secret = r.client_secret.clone().unwrap();
    assert!(!format!("{r:?}").contains(secret.expose()));
    assert_eq!(r.object["client_name"], "liboidc test");

    let c = client(&r.client_id, ClientAuth::SecretBasic(secret.clone()));
    let f = code_flow(&c, Some(secret.expose()), "https://127.0.0.1/cb", vec![]);
    let at = f.tokens["access_token"].as_str().unwrap();
    let claims =
        validate_id_token(&c, f.tokens["id_token"].as_str().unwrap(), &IdTokenChecks { nonce: Some(&f.nonce), ..Default::default() })
            .unwrap();
    let ui = c.userinfo(at, Some(claims.sub())).unwrap();
    assert!(ui.signed, "registered with userinfo_signed_response_alg");
    assert_eq!(ui.sub(), "user-1");
    assert_eq!(c.userinfo(at, Some("user-2")).unwrap_err().kind(), ErrorKind::SubjectMismatch);
    // The signed response is for this client only.
    let other = client("web-app", ClientAuth::SecretBasic("web-app-secret".into()));
    assert_eq!(other.userinfo(at, None).unwrap_err().kind(), ErrorKind::AudienceMismatch);

    // Bad metadata: the server's RFC 7591 error codes.
    let e = register_client(&cfg, &json!({"redirect_uris": ["not a url"]}).to_string(), None).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidRedirectUri | ErrorKind::InvalidClientMetadata), "{e:?}");
    let e =
        register_client(&cfg, &json!({"redirect_uris": ["https://127.0.0.1/cb"], "token_endpoint_auth_method": "bogus"}).to_string(), None)
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClientMetadata);
    assert_eq!(register_client(&cfg, "[1]", None).unwrap_err().kind(), ErrorKind::InvalidArgument);
    // Registration with a client's own settings also works (its id and secret are ignored).
    let mut cfg2 = cfg.clone();
    cfg2.client_id = "web-app".into();
    cfg2.auth = ClientAuth::SecretBasic("web-app-secret".into());
    let r2 = register_client(&cfg2, &json!({"redirect_uris": ["https://127.0.0.1/cb"]}).to_string(), None).unwrap();
    assert_ne!(r2.client_id, r.client_id);
}

#[test]
fn introspection_of_client_credentials_tokens() {
    let idp = idp();
    let opaque = idp.token("urn:liboidc:opaque", "read");
    let c = client("svc-post", ClientAuth::SecretPost("svc-post-secret".into()));
    let i = c.introspect(&opaque, None, false).unwrap();
    assert!(i.active);
    assert_eq!(i.get("aud"), Some(&json!("urn:liboidc:opaque")));
    assert_eq!(i.get("client_id"), Some(&json!("svc-basic")));
    let j = c.introspect(&opaque, None, true).unwrap();
    assert!(j.signed && j.active);
    assert_eq!(j.object, i.object.iter().filter(|_| true).map(|(k, v)| (k.clone(), v.clone())).collect());
    assert!(!c.introspect("garbage-token", None, false).unwrap().active);
    // oidc-provider refuses JWT access tokens at introspection.
    let jwt = idp.token("urn:liboidc:es256", "read");
    let e = c.introspect(&jwt, None, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnsupportedTokenType);
    assert!(!e.message().contains(&jwt[jwt.len() - 20..]));
}

#[test]
fn hybrid_front_channel_id_token_c_hash() {
    // oidc-provider puts c_hash (and at_hash) only into front-channel ID tokens: a registered
    // hybrid client ("code id_token", response in the fragment) exercises c_hash for real.
    let idp = idp();
    let mut cfg = OAuthConfig::new(&idp.issuer, "", ClientAuth::None);
    cfg.base.ca_file = Some(idp.ca_file.clone());
    let md = json!({
        "redirect_uris": ["https://127.0.0.1/cb"],
        "grant_types": ["authorization_code", "implicit"],
        "response_types": ["code id_token"],
        "token_endpoint_auth_method": "client_secret_basic"
    });
    let r = register_client(&cfg, &md.to_string(), None).unwrap();
    let c = client(&r.client_id, ClientAuth::SecretBasic(r.client_secret.clone().unwrap()));
    let p = pkce::generate().unwrap();
    let req = AuthorizationRequest {
        response_type: Some("code id_token".into()),
        redirect_uri: Some("https://127.0.0.1/cb".into()),
        scope: Some("openid".into()),
        code_challenge: Some(p.challenge.clone()),
        ..Default::default()
    };
    let prepared = c.authorization_url(&req).unwrap();
    let back = idp.browser().authorize(&prepared.url, "user-1");
    assert!(back.contains("#code="), "{back}");
    let resp = c.parse_authorization_response(&back, ExpectedState::Sent(prepared.state.as_deref().unwrap()), None).unwrap();
    let id_token = resp.param("id_token").expect("front-channel id_token").to_string();
    let checks = IdTokenChecks { nonce: prepared.nonce.as_deref(), code: Some(resp.code.expose()), ..Default::default() };
    let claims = validate_id_token(&c, &id_token, &checks).unwrap();
    assert!(claims.get("c_hash").is_some(), "c_hash in a hybrid ID token");
    let e = validate_id_token(&c, &id_token, &IdTokenChecks { code: Some("another-code"), ..checks }).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HashMismatch);
    assert!(!e.message().contains(resp.code.expose()));
    // Without iss, the front-channel ID token vouches for the issuer: a forged one is refused.
    let forged = back.replace(&id_token, &format!("{}AAAA", &id_token[..id_token.len() - 4]));
    assert!(!forged.contains("iss="));
    assert!(matches!(
        c.parse_authorization_response(&forged, ExpectedState::Sent(prepared.state.as_deref().unwrap()), None).unwrap_err().kind(),
        ErrorKind::SignatureInvalid | ErrorKind::TokenMalformed
    ));
}

#[test]
fn concurrent_calls_on_one_client() {
    let idp = idp();
    let tokens: Vec<String> = (0..4).map(|_| idp.token("urn:liboidc:opaque", "read")).collect();
    let c = client("svc-post", ClientAuth::SecretPost("svc-post-secret".into()));
    std::thread::scope(|s| {
        for t in 0..8 {
            let c = &c;
            let tokens = &tokens;
            s.spawn(move || {
                for i in 0..4 {
                    let tok = &tokens[(t + i) % tokens.len()];
                    let r = c.introspect(tok, None, i % 2 == 1).unwrap();
                    assert!(r.active);
                }
            });
        }
    });
}
