//! Issue 14 (JOSE breadth) end to end against the real IdP (oidc-provider, tests/idp/server.mjs,
//! README section "JOSE clients"), through liboidc's public Rust API:
//!
//! - encrypted ID tokens in each key-management family (`enc-rsa`: RSA-OAEP-256, `enc-ec`:
//!   ECDH-ES+A128KW, `enc-sym`: A128KW from the client secret), encrypted UserInfo, encrypted
//!   JARM responses and RFC 9701 introspection responses, with a scripted login and liboidc's
//!   own authorization URL, response parsing and code exchange; without the key a
//!   TOKEN_MALFORMED naming the missing key, with a wrong key DECRYPTION_FAILED;
//! - signed and encrypted request objects (`jar-app`, RFC 9101) accepted by the IdP at `/auth`
//!   and through PAR;
//! - a back-channel logout token delivered to the IdP's receiver, validated, its replay refused,
//!   and refused as an access token and as an ID token;
//! - ES512 ID tokens and access tokens.
//!
//! One IdP for the whole file (nothing here counts requests).

mod common;

use std::sync::{Arc, OnceLock};

use common::real_idp::{RealIdp, client_key};
use oidc::core::jose::jwe::{ContentEnc, DecryptionKey, KeyAlg};
use oidc::core::oauth::jar::RequestObjectConfig;
use oidc::core::oauth::{
    AuthorizationRequest, AuthorizationSecrets, ClientAuth, ExpectedState, IdTokenChecks, OAuthClient, OAuthConfig, SigningKey,
    TokenResponse, validate_id_token, validate_logout_token,
};
use oidc::core::{Client, Config, ErrorKind};
use serde_json::Value;

const CB: &str = "http://127.0.0.1/cb";

fn idp() -> &'static RealIdp {
    static IDP: OnceLock<RealIdp> = OnceLock::new();
    IDP.get_or_init(RealIdp::start)
}

fn secret(id: &str) -> &'static str {
    match id {
        "enc-rsa" => "enc-rsa-secret",
        "enc-ec" => "enc-ec-secret",
        "enc-sym" => "enc-sym-secret-0123456789abcdef0123456789abcdef0123456789abcdef",
        "jar-app" => "jar-app-secret",
        "bcl-app" => "bcl-app-secret",
        "es512-app" => "es512-app-secret",
        _ => panic!("no secret for {id}"),
    }
}

/// A protocol client for `id` (client_secret_basic) decrypting with `keys`; `f` adjusts the
/// configuration.
fn client_with(id: &str, keys: &[DecryptionKey], f: impl FnOnce(&mut OAuthConfig)) -> OAuthClient {
    let idp = idp();
    let mut c = OAuthConfig::new(&idp.issuer, id, ClientAuth::SecretBasic(secret(id).into()));
    c.base.ca_file = Some(idp.ca_file.clone());
    for k in keys {
        c.base.decryption_keys.push(k.clone()).unwrap();
    }
    f(&mut c);
    OAuthClient::new(c).unwrap()
}

fn client(id: &str, keys: &[DecryptionKey]) -> OAuthClient {
    client_with(id, keys, |_| {})
}

/// A committed client key (tests/idp/client-keys) as a decryption key.
fn dkey(file: &str, kid: Option<&str>) -> DecryptionKey {
    DecryptionKey::from_text(&client_key(file), kid).unwrap_or_else(|e| panic!("{file}: {e:?}"))
}

fn header(token: &str) -> Value {
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&oidc_testkit::keys::b64_decode(h).unwrap()).unwrap()
}

fn jwe_algs(token: &str) -> (String, String) {
    assert_eq!(token.split('.').count(), 5, "not a compact JWE: {}", &token[..token.len().min(40)]);
    let h = header(token);
    assert_eq!(h["cty"], "JWT", "nested: {h}");
    (h["alg"].as_str().unwrap().to_string(), h["enc"].as_str().unwrap().to_string())
}

/// An authorization request of liboidc's URL builder (PKCE, state, nonce); `f` adjusts it.
fn request(s: &AuthorizationSecrets, f: impl FnOnce(&mut AuthorizationRequest)) -> AuthorizationRequest {
    let mut r = AuthorizationRequest {
        redirect_uri: Some(CB.into()),
        scope: Some("openid email profile".into()),
        state: Some(s.state.clone()),
        nonce: Some(s.nonce.clone()),
        code_challenge: Some(s.code_challenge.clone()),
        ..Default::default()
    };
    f(&mut r);
    r
}

/// Follow `url` through the scripted login and consent; the redirect back to the client.
fn browse(url: &str) -> String {
    let cb = idp().browser().login_and_consent(url, "user-1");
    assert!(cb.starts_with("http://127.0.0.1/cb?"), "{cb}");
    cb
}

/// Log in through `c`'s authorization URL, parse the response (state, RFC 9207 iss, JARM),
/// exchange the code (the ID token is validated with the nonce). Returns the tokens and the
/// secrets.
fn login(c: &OAuthClient, f: impl FnOnce(&mut AuthorizationRequest)) -> (TokenResponse, AuthorizationSecrets) {
    let s = AuthorizationSecrets::generate().unwrap();
    let url = c.authorization_url(&request(&s, f)).unwrap().url;
    let cb = browse(&url);
    let r = c.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap_or_else(|e| panic!("{cb}: {e:?}"));
    let t = c
        .exchange_code(r.code.expose(), CB, Some(s.code_verifier.expose()), Some(&s.nonce), &[])
        .unwrap_or_else(|e| panic!("{}: code exchange: {e:?}", c.client_id()));
    (t, s)
}

/// The authorization code of a scripted login (response not yet checked by liboidc).
fn login_code(c: &OAuthClient, s: &AuthorizationSecrets) -> String {
    let cb = browse(&c.authorization_url(&request(s, |_| {})).unwrap().url);
    c.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap().code.expose().to_string()
}

/// One key-management family: encrypted ID token (plus the refusals without the key and with
/// a wrong key), encrypted UserInfo, encrypted JARM, and (`introspection`) encrypted RFC 9701
/// introspection.
struct Family {
    id: &'static str,
    keys: Vec<DecryptionKey>,
    wrong: Vec<DecryptionKey>,
    id_token: (&'static str, &'static str),
    userinfo: (&'static str, &'static str),
    jarm: (&'static str, &'static str),
    introspection: Option<(&'static str, &'static str)>,
    /// The wrong key is a wrong client secret (its derived keys), not `wrong`.
    wrong_secret: Option<&'static str>,
}

fn run_family(f: Family) {
    let idp = idp();
    let c = client(f.id, &f.keys);
    let wrong = match f.wrong_secret {
        Some(w) => client_with(f.id, &[], |c| c.auth = ClientAuth::SecretBasic(w.into())),
        None => client(f.id, &f.wrong),
    };
    // Without its private key a client with a secret holds only the keys derived from the
    // secret (they fit no RSA or ECDH token); for enc-sym those are the right keys.
    let nokey = f.wrong_secret.is_none().then(|| client(f.id, &[]));
    let no_key_fits = |e: oidc::core::Error| {
        assert_eq!(e.kind(), ErrorKind::DecryptionFailed, "{}: {e:?}", f.id);
        assert!(e.message().contains("no configured decryption key fits"), "{}: {}", f.id, e.message());
    };

    // Encrypted ID token: login, code exchange (validated with the nonce inside exchange_code).
    let (t, s) = login(&c, |_| {});
    let id = t.id_token.as_ref().expect("id_token").expose().to_string();
    assert_eq!(jwe_algs(&id), (f.id_token.0.into(), f.id_token.1.into()), "{}: ID token algorithms", f.id);
    let checks = IdTokenChecks { nonce: Some(&s.nonce), access_token: Some(t.access_token.expose()), ..Default::default() };
    let claims = validate_id_token(&c, &id, &checks).unwrap();
    assert_eq!(claims.sub(), "user-1");
    assert_eq!(claims.get("aud").and_then(Value::as_str), Some(f.id));
    assert_eq!(claims.get("nonce").and_then(Value::as_str), Some(s.nonce.as_str()));
    let bad_nonce = IdTokenChecks { nonce: Some("another-nonce"), ..Default::default() };
    assert_eq!(validate_id_token(&c, &id, &bad_nonce).unwrap_err().kind(), ErrorKind::NonceMismatch);

    // No key: DECRYPTION_FAILED saying no key fits; a wrong key: DECRYPTION_FAILED with the
    // one fixed message.
    if let Some(nokey) = &nokey {
        no_key_fits(validate_id_token(nokey, &id, &checks).unwrap_err());
    }
    let e = validate_id_token(&wrong, &id, &checks).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DecryptionFailed, "{}: {e:?}", f.id);
    assert_eq!(e.message(), "the token could not be decrypted");
    // The grant path reports the same (a fresh code: the first exchange consumed it).
    let s2 = AuthorizationSecrets::generate().unwrap();
    if let Some(nokey) = &nokey {
        let code = login_code(nokey, &s2);
        no_key_fits(nokey.exchange_code(&code, CB, Some(s2.code_verifier.expose()), Some(&s2.nonce), &[]).unwrap_err());
    }

    // Encrypted UserInfo (application/jwt, a JWE holding a signed JWT).
    let (status, ctype, body) = idp.get_bearer("/me", t.access_token.expose());
    assert_eq!((status, ctype.split(';').next().unwrap()), (200, "application/jwt"), "{body}");
    assert_eq!(jwe_algs(body.trim()), (f.userinfo.0.into(), f.userinfo.1.into()), "{}: userinfo algorithms", f.id);
    let u = c.userinfo(t.access_token.expose(), Some("user-1")).unwrap_or_else(|e| panic!("{}: userinfo: {e:?}", f.id));
    assert!(u.signed);
    assert_eq!(u.sub(), "user-1");
    assert_eq!(u.object["email"], "user-1@liboidc.test");
    assert_eq!(u.object["name"], "Test User One");
    if let Some(nokey) = &nokey {
        no_key_fits(nokey.userinfo(t.access_token.expose(), None).unwrap_err());
    }
    assert_eq!(wrong.userinfo(t.access_token.expose(), None).unwrap_err().kind(), ErrorKind::DecryptionFailed);

    // Encrypted JARM (response_mode=jwt): the response parameter is a JWE.
    let s = AuthorizationSecrets::generate().unwrap();
    let url = c.authorization_url(&request(&s, |r| r.response_mode = Some("jwt".into()))).unwrap().url;
    let cb = browse(&url);
    let jarm = cb.split_once("response=").map(|(_, r)| r.split('&').next().unwrap().to_string()).expect("JARM response");
    assert_eq!(jwe_algs(&jarm), (f.jarm.0.into(), f.jarm.1.into()), "{}: JARM algorithms", f.id);
    if let Some(nokey) = &nokey {
        no_key_fits(nokey.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap_err());
    }
    assert_eq!(
        wrong.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap_err().kind(),
        ErrorKind::DecryptionFailed
    );
    assert_eq!(
        c.parse_authorization_response(&cb, ExpectedState::Sent("another-state"), None).unwrap_err().kind(),
        ErrorKind::StateMismatch
    );
    let r = c.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap_or_else(|e| panic!("{}: JARM: {e:?}", f.id));
    assert!(r.jarm);
    assert_eq!(r.iss.as_deref(), Some(idp.issuer.as_str()));
    let t = c.exchange_code(r.code.expose(), CB, Some(s.code_verifier.expose()), Some(&s.nonce), &[]).unwrap();
    assert!(t.id_token.is_some());

    // RFC 9701 introspection, encrypted.
    if let Some((alg, enc)) = f.introspection {
        let opaque = idp.token("urn:liboidc:opaque", "read");
        let (status, body) = idp.post_form_basic(
            "/token/introspection",
            f.id,
            secret(f.id),
            &[("token", &opaque)],
            &[("Accept", "application/token-introspection+jwt")],
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(jwe_algs(body.trim()), (alg.into(), enc.into()), "{}: introspection algorithms", f.id);
        let i = c.introspect(&opaque, None, true).unwrap_or_else(|e| panic!("{}: introspection: {e:?}", f.id));
        assert!(i.active && i.signed);
        assert_eq!(i.get("client_id").and_then(Value::as_str), Some("svc-basic"));
        if let Some(nokey) = &nokey {
            no_key_fits(nokey.introspect(&opaque, None, true).unwrap_err());
        }
        assert_eq!(wrong.introspect(&opaque, None, true).unwrap_err().kind(), ErrorKind::DecryptionFailed);
    }
}

#[test]
fn encrypted_responses_rsa_oaep() {
    run_family(Family {
        id: "enc-rsa",
        keys: vec![dkey("enc-rsa.pem", Some("enc-rsa"))],
        // Another RSA key under the right kid: the unwrap fails.
        wrong: vec![dkey("rsa.pem", Some("enc-rsa"))],
        id_token: ("RSA-OAEP-256", "A256GCM"),
        userinfo: ("RSA-OAEP-256", "A128CBC-HS256"),
        jarm: ("RSA-OAEP", "A256CBC-HS512"),
        introspection: Some(("RSA-OAEP-256", "A192GCM")),
        wrong_secret: None,
    });
    // The other key forms: PKCS#1 PEM, and the private JWK (kid from the JWK).
    for k in [dkey("enc-rsa-pkcs1.pem", Some("enc-rsa")), dkey("enc-rsa.jwk.json", None)] {
        let c = client("enc-rsa", &[k]);
        let (t, s) = login(&c, |_| {});
        let checks = IdTokenChecks { nonce: Some(&s.nonce), ..Default::default() };
        assert_eq!(validate_id_token(&c, t.id_token.unwrap().expose(), &checks).unwrap().sub(), "user-1");
    }
}

#[test]
fn encrypted_responses_ecdh_es() {
    run_family(Family {
        id: "enc-ec",
        keys: vec![dkey("enc-ec.jwk.json", None)],
        wrong: vec![dkey("ec.pem", Some("enc-ec"))],
        id_token: ("ECDH-ES+A128KW", "A128CBC-HS256"),
        userinfo: ("ECDH-ES", "A256GCM"),
        jarm: ("ECDH-ES+A256KW", "A192CBC-HS384"),
        introspection: Some(("ECDH-ES+A192KW", "A128GCM")),
        wrong_secret: None,
    });
    let c = client("enc-ec", &[dkey("enc-ec-sec1.pem", Some("enc-ec"))]);
    let (t, _) = login(&c, |_| {});
    assert!(t.id_token.is_some());
}

/// `enc-sym`: AES key wrap with keys derived from the client secret (OIDC Core §10.2): the
/// protocol client derives them from its configured secret by itself (no key is given).
#[test]
fn encrypted_responses_client_secret_key_wrap() {
    let id = "enc-sym";
    run_family(Family {
        id,
        keys: vec![],
        wrong: vec![],
        wrong_secret: Some("enc-sym-secret-but-not-the-right-one-0123456789abcdef"),
        id_token: ("A128KW", "A128GCM"),
        userinfo: ("A256KW", "A256CBC-HS512"),
        jarm: ("A192KW", "A192GCM"),
        introspection: None,
    });
}

/// jar-app: every authorization request is a request object signed PS256 with
/// client-keys/rsa.pem (kid client-rsa); the client authenticates with its secret.
fn jar_client(encryption: Option<(KeyAlg, ContentEnc)>) -> OAuthClient {
    let key = Arc::new(SigningKey::from_pem(&client_key("rsa.pem"), Some("PS256"), Some("client-rsa")).unwrap());
    client_with("jar-app", &[], |c| c.request_object = Some(RequestObjectConfig { key: Some(key), encryption }))
}

#[test]
fn request_objects_signed_encrypted_and_pushed() {
    // Without a request object the IdP refuses jar-app (the refusal comes back to the client).
    let plain = client("jar-app", &[]);
    let s = AuthorizationSecrets::generate().unwrap();
    let cb = browse(&plain.authorization_url(&request(&s, |_| {})).unwrap().url);
    let e = plain.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{e:?}");

    for (what, enc) in [
        ("signed", None),
        ("RSA-OAEP-256 + A256GCM to the IdP's key", Some((KeyAlg::RsaOaep256, ContentEnc::A256Gcm))),
        ("A256KW from the client secret", Some((KeyAlg::A256Kw, ContentEnc::A128CbcHs256))),
    ] {
        let c = jar_client(enc);
        // At /auth: the URL carries client_id, response_type, scope and the object.
        let s = AuthorizationSecrets::generate().unwrap();
        let url = c.authorization_url(&request(&s, |_| {})).unwrap().url;
        let q: Vec<(String, String)> = oidc_testkit::util::parse_query(url.split_once('?').unwrap().1);
        let names: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["client_id", "response_type", "scope", "request"], "{what}");
        let object = &q[3].1;
        assert_eq!(object.split('.').count(), if enc.is_some() { 5 } else { 3 }, "{what}");
        if enc.is_none() {
            assert_eq!(header(object)["alg"], "PS256");
            assert_eq!(header(object)["kid"], "client-rsa");
        } else if enc.is_some_and(|(a, _)| a == KeyAlg::RsaOaep256) {
            assert_eq!(header(object)["kid"], idp().encryption_jwk()["kid"], "encrypted to the IdP's use:enc key");
        }
        let cb = browse(&url);
        let r = c.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap_or_else(|e| panic!("{what}: {cb}: {e:?}"));
        let t = c.exchange_code(r.code.expose(), CB, Some(s.code_verifier.expose()), Some(&s.nonce), &[]).unwrap();
        assert!(t.id_token.is_some(), "{what}");

        // Through PAR: the object is pushed, the URL carries only client_id and request_uri.
        let s = AuthorizationSecrets::generate().unwrap();
        let pushed = c.push_authorization_request(&request(&s, |_| {})).unwrap_or_else(|e| panic!("{what}: PAR: {e:?}"));
        assert!(pushed.request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
        let url =
            c.authorization_url(&AuthorizationRequest { request_uri: Some(pushed.request_uri.clone()), ..Default::default() }).unwrap().url;
        let cb = browse(&url);
        let r = c.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap_or_else(|e| panic!("{what}: {cb}: {e:?}"));
        c.exchange_code(r.code.expose(), CB, Some(s.code_verifier.expose()), Some(&s.nonce), &[]).unwrap();
    }
}

#[test]
fn back_channel_logout_token() {
    let idp = idp();
    let c = client("bcl-app", &[]);
    // Log in keeping the browser (its session is the one logged out).
    let mut browser = idp.browser();
    let s = AuthorizationSecrets::generate().unwrap();
    let cb = browser.login_and_consent(&c.authorization_url(&request(&s, |_| {})).unwrap().url, "user-1");
    let r = c.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap();
    let t = c.exchange_code(r.code.expose(), CB, Some(s.code_verifier.expose()), Some(&s.nonce), &[]).unwrap();
    let id = t.id_token.as_ref().unwrap().expose().to_string();
    let idc = validate_id_token(&c, &id, &IdTokenChecks { nonce: Some(&s.nonce), ..Default::default() }).unwrap();
    let sid = idc.get("sid").and_then(Value::as_str).expect("sid in the ID token").to_string();

    // RP-initiated logout: the IdP posts the logout token to its receiver before redirecting.
    let done = browser.logout(&id, "http://127.0.0.1/logout-cb", "S");
    assert!(done.starts_with("http://127.0.0.1/logout-cb"), "{done}");
    // The receiver is shared with c::c_abi_logout_token (running concurrently): this session's
    // token is the one with its sid.
    let tokens: Vec<String> = idp.backchannel_logout_tokens().into_iter().filter(|t| c::header_claims(t)["sid"] == sid.as_str()).collect();
    assert_eq!(tokens.len(), 1, "one logout token for this session");
    let lt = &tokens[0];
    assert_eq!(header(lt)["typ"], "logout+jwt");

    let v = validate_logout_token(&c, lt, None).unwrap_or_else(|e| panic!("logout token: {e:?}"));
    assert_eq!(v.sub.as_deref(), Some(idc.sub()));
    assert_eq!(v.sid.as_deref(), Some(sid.as_str()));
    assert_eq!(v.iss, idp.issuer);
    assert!(!v.jti.is_empty());
    // Replay.
    let e = validate_logout_token(&c, lt, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TokenReplayed, "{e:?}");
    // Never an access token nor an ID token.
    let e = c.validator().validate(lt).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch, "as an access token: {e:?}");
    let mut rs = Config::new(&idp.issuer);
    rs.audiences = vec!["bcl-app".into()];
    rs.ca_file = Some(idp.ca_file.clone());
    assert_eq!(Client::new(rs).unwrap().validate(lt).unwrap_err().kind(), ErrorKind::TypeMismatch, "any validator");
    let e = validate_id_token(&c, lt, &IdTokenChecks::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch, "as an ID token: {e:?}");
    // And an ID token is not a logout token.
    let fresh = client("bcl-app", &[]);
    assert!(validate_logout_token(&fresh, &id, None).is_err());
}

#[test]
fn es512_id_and_access_tokens() {
    let idp = idp();
    let c = client("es512-app", &[]);
    let (t, s) = login(&c, |_| {});
    let id = t.id_token.as_ref().unwrap().expose();
    assert_eq!(header(id)["alg"], "ES512");
    let claims = validate_id_token(&c, id, &IdTokenChecks { nonce: Some(&s.nonce), ..Default::default() }).unwrap();
    assert_eq!(claims.alg.name(), "ES512");
    assert_eq!(claims.sub(), "user-1");
    // UserInfo JWTs are ES512 too.
    let u = c.userinfo(t.access_token.expose(), Some("user-1")).unwrap();
    assert!(u.signed);

    let token = idp.token("urn:liboidc:es512", "read");
    assert_eq!(header(&token)["alg"], "ES512");
    let mut rs = Config::new(&idp.issuer);
    rs.audiences = vec!["urn:liboidc:es512".into()];
    rs.ca_file = Some(idp.ca_file.clone());
    rs.expected_typ = Some("at+jwt".into());
    let v = Client::new(rs).unwrap().validate(&token).unwrap();
    assert_eq!(v.alg.name(), "ES512");
}

// ---------------------------------------------------------------------------------------------
// The same through the C ABI (builders, OIDC_OP_* on oidc_oauth_request, blocking and
// non-blocking sends)
// ---------------------------------------------------------------------------------------------

mod c {
    use super::*;
    use crate::common::cabi::{self, F, Fail, Op, P, Req, Resp, failure, oauth_build, oauth_builder, set_str};
    use oidc::ffi::jose::{oidc_oauth_builder_add_decryption_key, oidc_oauth_builder_set_request_object};
    use oidc::ffi::oauth_client::{oidc_oauth_builder_set_client_secret, oidc_oauth_builder_set_private_key_pem};
    use oidc::ffi::oidc_result;

    fn ok(rc: oidc_result, e: *mut oidc::ffi::error::oidc_error) {
        assert_eq!(rc, oidc_result::Ok, "{:?}", (!e.is_null()).then(|| Fail::take(e, false)));
    }

    /// A C client for `id` with its secret and, when given, a decryption key (PEM or JWK text).
    pub fn client(id: &str, key: Option<(&str, Option<&str>)>) -> cabi::Client {
        let b = oauth_builder(idp(), id);
        set_str(b, oidc_oauth_builder_set_client_secret, secret(id));
        if let Some((file, kid)) = key {
            let text = client_key(file);
            let (kp, kn) = cabi::s(kid.unwrap_or(""));
            let mut e = std::ptr::null_mut();
            ok(oidc_oauth_builder_add_decryption_key(b, text.as_ptr().cast(), text.len(), kp, kn, &mut e), e);
        }
        oauth_build(b)
    }

    /// OIDC_OP_AUTHORIZATION_URL (liboidc generates state, nonce and the PKCE pair), the
    /// scripted login, OIDC_OP_AUTHORIZATION_RESPONSE: the URL response and the parsed one.
    pub fn authorize(c: &cabi::Client, response_mode: Option<&str>) -> (Resp, Resp) {
        let mut r = Req::new(c, Op::OIDC_OP_AUTHORIZATION_URL)
            .set(P::OIDC_PARAM_REDIRECT_URI, CB)
            .add(P::OIDC_PARAM_SCOPE, "openid")
            .add(P::OIDC_PARAM_SCOPE, "email");
        if let Some(m) = response_mode {
            r = r.set(P::OIDC_PARAM_RESPONSE_MODE, m);
        }
        let url = r.send().unwrap();
        let cb = browse(&url.str(F::OIDC_FIELD_URL).unwrap());
        let state = url.str(F::OIDC_FIELD_STATE).unwrap();
        let parsed = Req::new(c, Op::OIDC_OP_AUTHORIZATION_RESPONSE)
            .set(P::OIDC_PARAM_RESPONSE, &cb)
            .set(P::OIDC_PARAM_EXPECTED_STATE, &state)
            .send()
            .unwrap_or_else(|e| panic!("{cb}: {e:?}"));
        (url, parsed)
    }

    /// OIDC_OP_AUTHORIZATION_CODE for a parsed response (the ID token is validated with the nonce).
    pub fn exchange(c: &cabi::Client, url: &Resp, parsed: &Resp) -> Result<Resp, Fail> {
        Req::new(c, Op::OIDC_OP_AUTHORIZATION_CODE)
            .set(P::OIDC_PARAM_CODE, &parsed.str(F::OIDC_FIELD_CODE).unwrap())
            .set(P::OIDC_PARAM_REDIRECT_URI, CB)
            .set(P::OIDC_PARAM_CODE_VERIFIER, &url.str(F::OIDC_FIELD_CODE_VERIFIER).unwrap())
            .set(P::OIDC_PARAM_NONCE, &url.str(F::OIDC_FIELD_NONCE).unwrap())
            .send()
    }

    #[test]
    fn c_abi_encrypted_login_userinfo_jarm_introspection() {
        let idp = idp();
        for (id, key, kid) in [("enc-rsa", "enc-rsa.pem", Some("enc-rsa")), ("enc-ec", "enc-ec.jwk.json", None)] {
            let c = client(id, Some((key, kid)));
            let nokey = client(id, None);
            let wrong = client(id, Some((if id == "enc-rsa" { "rsa.pem" } else { "ec.pem" }, Some(id))));
            // JARM (encrypted) + code exchange (encrypted ID token) in one login.
            let (url, parsed) = authorize(&c, Some("jwt"));
            assert_eq!(parsed.json()["jarm"], true, "{id}");
            let t = exchange(&c, &url, &parsed).unwrap_or_else(|e| panic!("{id}: {e:?}"));
            let id_token = t.str(F::OIDC_FIELD_ID_TOKEN).unwrap();
            assert_eq!(id_token.split('.').count(), 5);
            let nonce = url.str(F::OIDC_FIELD_NONCE).unwrap();
            let v = Req::new(&c, Op::OIDC_OP_VALIDATE_ID_TOKEN).set(P::OIDC_PARAM_ID_TOKEN, &id_token).set(P::OIDC_PARAM_NONCE, &nonce);
            let (b, a) = v.send_both();
            for r in [b, a] {
                assert_eq!(r.unwrap_or_else(|e| panic!("{id}: {e:?}")).json()["sub"], "user-1");
            }
            let v = Req::new(&nokey, Op::OIDC_OP_VALIDATE_ID_TOKEN).set(P::OIDC_PARAM_ID_TOKEN, &id_token);
            let e = cabi::same_failure(v.send(), v.send_async(std::ptr::null()), false);
            assert_eq!(e.code, oidc_result::DecryptionFailed, "{id}: {e:?}");
            assert!(e.msg.contains("no configured decryption key fits"), "{}", e.msg);
            let v = Req::new(&wrong, Op::OIDC_OP_VALIDATE_ID_TOKEN).set(P::OIDC_PARAM_ID_TOKEN, &id_token);
            assert_eq!(failure(v.send()).code, oidc_result::DecryptionFailed, "{id}");
            // OIDC_OP_DECRYPT: the nested JWS and the JWE header.
            let d = Req::new(&c, Op::OIDC_OP_DECRYPT).set(P::OIDC_PARAM_JWE, &id_token).send().unwrap();
            let h: Value = serde_json::from_str(&d.str(F::OIDC_FIELD_PROTECTED_HEADER).unwrap()).unwrap();
            assert_eq!(h["cty"], "JWT");
            assert_eq!(d.str(F::OIDC_FIELD_PAYLOAD).unwrap().split('.').count(), 3);
            // Encrypted UserInfo.
            let at = t.str(F::OIDC_FIELD_ACCESS_TOKEN).unwrap();
            let u = Req::new(&c, Op::OIDC_OP_USERINFO)
                .set(P::OIDC_PARAM_ACCESS_TOKEN, &at)
                .set(P::OIDC_PARAM_EXPECTED_SUB, "user-1")
                .send()
                .unwrap_or_else(|e| panic!("{id}: userinfo: {e:?}"));
            assert_eq!(u.json()["email"], "user-1@liboidc.test");
            let e = failure(Req::new(&nokey, Op::OIDC_OP_USERINFO).set(P::OIDC_PARAM_ACCESS_TOKEN, &at).send());
            assert_eq!(e.code, oidc_result::DecryptionFailed);
            // Encrypted RFC 9701 introspection.
            let opaque = idp.token("urn:liboidc:opaque", "read");
            let i = Req::new(&c, Op::OIDC_OP_INTROSPECT)
                .set(P::OIDC_PARAM_TOKEN, &opaque)
                .int(P::OIDC_PARAM_SIGNED_RESPONSE, 1)
                .send()
                .unwrap_or_else(|e| panic!("{id}: introspection: {e:?}"));
            assert_eq!(i.int(F::OIDC_FIELD_ACTIVE), 1);
            // Without the key the JARM response is refused, naming the setting.
            let url_nk = Req::new(&nokey, Op::OIDC_OP_AUTHORIZATION_URL)
                .set(P::OIDC_PARAM_REDIRECT_URI, CB)
                .add(P::OIDC_PARAM_SCOPE, "openid")
                .set(P::OIDC_PARAM_RESPONSE_MODE, "jwt")
                .send()
                .unwrap();
            let cb = browse(&url_nk.str(F::OIDC_FIELD_URL).unwrap());
            let e = failure(
                Req::new(&nokey, Op::OIDC_OP_AUTHORIZATION_RESPONSE)
                    .set(P::OIDC_PARAM_RESPONSE, &cb)
                    .set(P::OIDC_PARAM_EXPECTED_STATE, &url_nk.str(F::OIDC_FIELD_STATE).unwrap())
                    .send(),
            );
            assert_eq!(e.code, oidc_result::DecryptionFailed, "{id}: {e:?}");
        }
    }

    /// jar-app through the C ABI: its private key (PS256, kid client-rsa) signs the request
    /// objects while the client authenticates with its secret.
    fn jar(enc: Option<(&str, &str)>) -> cabi::Client {
        let b = oauth_builder(idp(), "jar-app");
        set_str(b, oidc_oauth_builder_set_client_secret, secret("jar-app"));
        let pem = client_key("rsa.pem");
        let (kid, kidn) = cabi::s("client-rsa");
        let (alg, algn) = cabi::s("PS256");
        let mut e = std::ptr::null_mut();
        ok(oidc_oauth_builder_set_private_key_pem(b, pem.as_ptr().cast(), pem.len(), kid, kidn, alg, algn, &mut e), e);
        let (a, an) = cabi::s(enc.map_or("", |x| x.0));
        let (n, nn) = cabi::s(enc.map_or("", |x| x.1));
        ok(oidc_oauth_builder_set_request_object(b, a, an, n, nn, &mut e), e);
        oauth_build(b)
    }

    #[test]
    fn c_abi_request_objects_and_par() {
        for enc in [None, Some(("RSA-OAEP-256", "A256GCM"))] {
            let c = jar(enc);
            let (url, parsed) = authorize(&c, None);
            exchange(&c, &url, &parsed).unwrap_or_else(|e| panic!("{enc:?}: {e:?}"));
            // PAR, then the URL with the request_uri.
            let pushed = Req::new(&c, Op::OIDC_OP_PUSHED_AUTHORIZATION)
                .set(P::OIDC_PARAM_REDIRECT_URI, CB)
                .add(P::OIDC_PARAM_SCOPE, "openid")
                .send()
                .unwrap_or_else(|e| panic!("{enc:?}: PAR: {e:?}"));
            let ru = pushed.str(F::OIDC_FIELD_REQUEST_URI).unwrap();
            let u = Req::new(&c, Op::OIDC_OP_AUTHORIZATION_URL).set(P::OIDC_PARAM_REQUEST_URI, &ru).send().unwrap();
            let cb = browse(&u.str(F::OIDC_FIELD_URL).unwrap());
            let parsed = Req::new(&c, Op::OIDC_OP_AUTHORIZATION_RESPONSE)
                .set(P::OIDC_PARAM_RESPONSE, &cb)
                .set(P::OIDC_PARAM_EXPECTED_STATE, &pushed.str(F::OIDC_FIELD_STATE).unwrap())
                .send()
                .unwrap_or_else(|e| panic!("{cb}: {e:?}"));
            exchange(&c, &pushed, &parsed).unwrap_or_else(|e| panic!("{enc:?}: PAR code: {e:?}"));
        }
    }

    #[test]
    fn c_abi_logout_token() {
        let idp = idp();
        // The Rust side delivers a token to the receiver; the C client (its own replay cache)
        // validates it once, then refuses the replay, on both transports.
        let rc = super::client("bcl-app", &[]);
        let mut browser = idp.browser();
        let s = AuthorizationSecrets::generate().unwrap();
        let cb = browser.login_and_consent(&rc.authorization_url(&request(&s, |_| {})).unwrap().url, "user-1");
        let r = rc.parse_authorization_response(&cb, ExpectedState::Sent(&s.state), None).unwrap();
        let t = rc.exchange_code(r.code.expose(), CB, Some(s.code_verifier.expose()), Some(&s.nonce), &[]).unwrap();
        let id = t.id_token.unwrap().expose().to_string();
        let sid = header_claims(&id)["sid"].as_str().unwrap().to_string();
        browser.logout(&id, "http://127.0.0.1/logout-cb", "S");
        let lt = idp
            .backchannel_logout_tokens()
            .into_iter()
            .find(|t| header_claims(t)["sid"] == sid.as_str())
            .expect("the logout token of this session");
        let c = client("bcl-app", None);
        let v = Req::new(&c, Op::OIDC_OP_VALIDATE_LOGOUT_TOKEN).set(P::OIDC_PARAM_LOGOUT_TOKEN, &lt);
        let ok = v.send().unwrap();
        assert_eq!(ok.str(F::OIDC_FIELD_SID).as_deref(), Some(sid.as_str()));
        assert_eq!(ok.str(F::OIDC_FIELD_SUB).as_deref(), Some("user-1"));
        let e = cabi::same_failure(v.send(), v.send_async(std::ptr::null()), false);
        assert_eq!(e.code, oidc_result::TokenReplayed);
        let e = failure(Req::new(&c, Op::OIDC_OP_VALIDATE_ID_TOKEN).set(P::OIDC_PARAM_ID_TOKEN, &lt).send());
        assert_eq!(e.code, oidc_result::TypeMismatch);
    }

    /// The claims of a compact JWS (unverified; to pick the right logout token).
    pub fn header_claims(jws: &str) -> Value {
        let p = jws.split('.').nth(1).unwrap();
        serde_json::from_slice(&oidc_testkit::keys::b64_decode(p).unwrap()).unwrap()
    }
}
