//! Issue 14 integration (no network): encrypted access tokens through a validator (opt-in,
//! nested `cty`, one level, the token cache), encrypted ID tokens through a protocol client,
//! OIDC_OP_DECRYPT / OIDC_OP_VERIFY_JWS, and request objects (RFC 9101) built for the
//! authorization URL: signed, and encrypted to the issuer's key or the client-secret key.

use std::sync::Arc;

use oidc::core::jose::jwe::{self, ContentEnc, DecryptionKey, DecryptionKeys, EncryptionKey, KeyAlg};
use oidc::core::oauth::jar::RequestObjectConfig;
use oidc::core::oauth::{
    AuthorizationRequest, ClientAuth, IdTokenChecks, OAuthClient, OAuthConfig, OAuthRequest, Operation, Param, Secret, SigningKey,
    validate_id_token,
};
use oidc::core::{Client, Config, ErrorKind, KeySource};
use oidc_testkit::keys::{self, Alg, TestKey};
use serde_json::{Map, Value, json};

const ISSUER: &str = "https://jose.integration.test";
const CLIENT_RSA_PEM: &str = include_str!("idp/client-keys/enc-rsa.pem");
const CLIENT_RSA_JWK: &str = include_str!("idp/client-keys/enc-rsa.jwk.json");
const CLIENT_EC_PEM: &str = include_str!("idp/client-keys/enc-ec.pem");

fn keyset(pem: &str) -> DecryptionKeys {
    let mut k = DecryptionKeys::new();
    k.push(DecryptionKey::from_text(pem, None).unwrap()).unwrap();
    k
}

/// The public half of a decryption key, to encrypt to.
fn recipient(pem: &str) -> EncryptionKey {
    DecryptionKey::from_text(pem, None).unwrap().encryption_key().unwrap()
}

fn nest(signed: &str, to: &EncryptionKey, alg: KeyAlg, enc: ContentEnc, cty: Option<&str>) -> String {
    let mut h = Map::new();
    if let Some(c) = cty {
        h.insert("cty".into(), json!(c));
    }
    jwe::encrypt(signed.as_bytes(), to, alg, enc, &h).unwrap()
}

fn validator(signer: &TestKey, accept: bool, keys: DecryptionKeys, cache: usize) -> Client {
    let mut cfg = Config::new(ISSUER);
    cfg.audiences = vec!["api".into()];
    cfg.key_source = KeySource::Static(keys::jwks(&[signer]));
    cfg.decryption_keys = keys;
    cfg.accept_encrypted = accept;
    cfg.token_cache_size = cache;
    Client::new(cfg).unwrap()
}

#[test]
fn encrypted_access_tokens_need_the_opt_in_and_a_nested_jwt() {
    let signer = TestKey::generate(Alg::ES256);
    let token = signer.sign(&keys::claims(ISSUER, "api", "alice", 300));
    let to = recipient(CLIENT_RSA_PEM);
    let nested = nest(&token, &to, KeyAlg::RsaOaep256, ContentEnc::A256Gcm, Some("JWT"));
    assert_eq!(nested.split('.').count(), 5);

    // Without the opt-in a JWE is not a token this validator takes.
    let off = validator(&signer, false, keyset(CLIENT_RSA_PEM), 0);
    let e = off.validate(&nested).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TokenMalformed, "{}", e.message());
    assert!(off.validate(&token).is_ok());

    // With it (and the token cache on): the nested token validates, twice (cache hit).
    let on = validator(&signer, true, keyset(CLIENT_RSA_PEM), 64);
    for _ in 0..2 {
        let v = on.validate(&nested).unwrap();
        assert!(v.claims.contains("\"alice\""));
    }
    assert!(on.validate(&token).is_ok(), "a signed token still validates");

    // cty must say JWT: an encrypted claims set (no signature) is refused.
    let bare = nest(&keys::claims(ISSUER, "api", "alice", 300).to_string(), &to, KeyAlg::RsaOaep256, ContentEnc::A256Gcm, None);
    let e = on.validate(&bare).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TokenMalformed);
    assert!(e.message().contains("cty"), "{}", e.message());

    // One level only.
    let twice = nest(&nested, &to, KeyAlg::RsaOaep256, ContentEnc::A256Gcm, Some("JWT"));
    assert_eq!(on.validate(&twice).unwrap_err().kind(), ErrorKind::TokenMalformed);

    // Another client's key: the fixed DECRYPTION_FAILED message.
    let other = validator(&signer, true, keyset(CLIENT_EC_PEM), 0);
    let e = other.validate(&nested).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DecryptionFailed);

    // A forged inner token is still a forged token.
    let forger = TestKey::generate(Alg::ES256).with_kid(signer.kid());
    let forged =
        nest(&forger.sign(&keys::claims(ISSUER, "api", "mallory", 300)), &to, KeyAlg::RsaOaep256, ContentEnc::A256Gcm, Some("JWT"));
    assert_eq!(on.validate(&forged).unwrap_err().kind(), ErrorKind::SignatureInvalid);

    // The inner token's claims are checked like any token's.
    let expired =
        nest(&signer.sign(&keys::claims(ISSUER, "api", "alice", -600)), &to, KeyAlg::RsaOaep256, ContentEnc::A256Gcm, Some("JWT"));
    assert_eq!(on.validate(&expired).unwrap_err().kind(), ErrorKind::TokenExpired);
}

#[test]
fn the_opt_in_needs_a_key() {
    let mut cfg = Config::new(ISSUER);
    cfg.audiences = vec!["api".into()];
    cfg.accept_encrypted = true;
    let e = Client::new(cfg).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
}

fn oauth(signer: &TestKey, keys: DecryptionKeys, auth: ClientAuth, ro: Option<RequestObjectConfig>) -> OAuthClient {
    let mut cfg = OAuthConfig::new(ISSUER, "rp-1", auth);
    cfg.base.key_source = KeySource::Static(keys::jwks(&[signer]));
    cfg.base.decryption_keys = keys;
    cfg.endpoints = vec![("authorization_endpoint".into(), format!("{ISSUER}/auth"))];
    cfg.request_object = ro;
    OAuthClient::new(cfg).unwrap()
}

fn id_token(signer: &TestKey, nonce: &str) -> String {
    let mut c = keys::claims(ISSUER, "rp-1", "alice", 300);
    c["nonce"] = json!(nonce);
    signer.sign(&c)
}

#[test]
fn encrypted_id_tokens_through_the_protocol_client() {
    let signer = TestKey::generate(Alg::RS256);
    let secret = Secret::new("rp-1-secret-0123456789abcdef0123456789abcdef");
    let client = oauth(&signer, keyset(CLIENT_EC_PEM), ClientAuth::SecretBasic(secret), None);
    let checks = IdTokenChecks { nonce: Some("n-1"), ..Default::default() };
    for (alg, enc) in [(KeyAlg::EcdhEs, ContentEnc::A128Gcm), (KeyAlg::EcdhEsA128Kw, ContentEnc::A128CbcHs256)] {
        let t = nest(&id_token(&signer, "n-1"), &recipient(CLIENT_EC_PEM), alg, enc, Some("JWT"));
        let c = validate_id_token(&client, &t, &checks).unwrap();
        assert_eq!(c.sub(), "alice");
        // OIDC_OP_DECRYPT hands out the nested token without validating it.
        let mut r = OAuthRequest::new(&client, Operation::Decrypt).unwrap();
        r.set_string(Param::Jwe, &t).unwrap();
        let resp = client.send(&r, None).unwrap();
        let v: Value = serde_json::from_str(resp.json()).unwrap();
        assert_eq!(v["payload"].as_str().unwrap(), id_token_prefix(&v), "{v}");
        assert_eq!(v["header"]["alg"], alg.name());
    }
    // The wrong nonce is still the wrong nonce inside an encrypted token.
    let t = nest(&id_token(&signer, "other"), &recipient(CLIENT_EC_PEM), KeyAlg::EcdhEs, ContentEnc::A256Gcm, Some("JWT"));
    assert_eq!(validate_id_token(&client, &t, &checks).unwrap_err().kind(), ErrorKind::NonceMismatch);
    // A client without decryption keys names the missing setting.
    let bare = oauth(&signer, DecryptionKeys::new(), ClientAuth::None, None);
    let e = validate_id_token(&bare, &t, &checks).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TokenMalformed);
    assert!(e.message().contains("decryption key"), "{}", e.message());
}

/// The payload member of a DECRYPT answer is the nested JWS itself (three segments).
fn id_token_prefix(v: &Value) -> &str {
    let p = v["payload"].as_str().unwrap();
    assert_eq!(p.split('.').count(), 3);
    p
}

#[test]
fn verify_jws_op_uses_the_issuer_keys() {
    let signer = TestKey::generate(Alg::ES256);
    let client = oauth(&signer, DecryptionKeys::new(), ClientAuth::None, None);
    let header = json!({"alg": "ES256", "kid": signer.kid(), "b64": false, "crit": ["b64"]});
    let h = keys::b64_json(&header);
    let payload = "{\"amount\":42}";
    let sig = signer.sign_raw(&format!("{h}.{payload}"));
    let detached = format!("{h}..{}", keys::b64(sig));
    let mut r = OAuthRequest::new(&client, Operation::VerifyJws).unwrap();
    r.set_string(Param::Jws, &detached).unwrap();
    r.set_string(Param::Payload, payload).unwrap();
    let v: Value = serde_json::from_str(client.send(&r, None).unwrap().json()).unwrap();
    assert_eq!(v["payload"], payload);
    assert_eq!(v["header"]["b64"], false);
    let mut bad = OAuthRequest::new(&client, Operation::VerifyJws).unwrap();
    bad.set_string(Param::Jws, &detached).unwrap();
    bad.set_string(Param::Payload, "{\"amount\":43}").unwrap();
    assert_eq!(client.send(&bad, None).unwrap_err().kind(), ErrorKind::SignatureInvalid);
}

fn request_param(url: &str) -> String {
    let q = url.split_once('?').unwrap().1;
    let v = q.split('&').find_map(|kv| kv.strip_prefix("request=")).expect("a request parameter");
    oidc::core::oauth::response::form_decode(v).unwrap()
}

fn claims_of(jws: &str) -> Value {
    let p = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&keys::b64_decode(p).unwrap()).unwrap()
}

#[test]
fn request_objects_signed_and_encrypted() {
    let signer = TestKey::generate(Alg::RS256);
    let rp_key = Arc::new(SigningKey::from_pem(include_str!("idp/client-keys/rsa.pem"), Some("PS256"), Some("client-rsa")).unwrap());
    let rp_pub: Value = rp_key.public_jwk();
    let req = AuthorizationRequest {
        redirect_uri: Some("https://rp.example/cb".into()),
        scope: Some("openid email".into()),
        extra: vec![("resource".into(), "urn:a".into()), ("resource".into(), "urn:b".into())],
        ..Default::default()
    };

    // Signed.
    let c = oauth(
        &signer,
        DecryptionKeys::new(),
        ClientAuth::PrivateKeyJwt(rp_key.clone()),
        Some(RequestObjectConfig { key: None, encryption: None }),
    );
    let p = c.authorization_url(&req).unwrap();
    let jar = request_param(&p.url);
    assert!(keys::verify_jws(&rp_pub, &jar), "signed with the client's key");
    let h: Value = serde_json::from_slice(&keys::b64_decode(jar.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(h["typ"], "oauth-authz-req+jwt");
    assert_eq!(h["alg"], "PS256");
    let cl = claims_of(&jar);
    assert_eq!(cl["iss"], "rp-1");
    assert_eq!(cl["client_id"], "rp-1");
    assert_eq!(cl["aud"], ISSUER);
    assert_eq!(cl["state"].as_str(), p.state.as_deref());
    assert_eq!(cl["nonce"].as_str(), p.nonce.as_deref());
    assert_eq!(cl["redirect_uri"], "https://rp.example/cb");
    assert_eq!(cl["resource"], json!(["urn:a", "urn:b"]));
    assert!(cl["exp"].as_i64().unwrap() > cl["iat"].as_i64().unwrap());
    assert!(!p.url.contains("redirect_uri="), "the parameters travel inside the object: {}", p.url);
    assert!(p.url.contains("response_type=code") && p.url.contains("scope=openid"));

    // Encrypted to the issuer's published use:enc key (found in its key set).
    let enc_priv = DecryptionKey::from_text(CLIENT_RSA_JWK, None).unwrap();
    let mut enc_pub: Value = serde_json::from_str(CLIENT_RSA_JWK).unwrap();
    for m in ["d", "p", "q", "dp", "dq", "qi"] {
        enc_pub.as_object_mut().unwrap().remove(m);
    }
    enc_pub["use"] = json!("enc");
    let mut jwks = keys::jwks_value(&[&signer]);
    jwks["keys"].as_array_mut().unwrap().push(enc_pub);
    let mut cfg = OAuthConfig::new(ISSUER, "rp-1", ClientAuth::PrivateKeyJwt(rp_key.clone()));
    cfg.base.key_source = KeySource::Static(jwks.to_string());
    cfg.endpoints = vec![("authorization_endpoint".into(), format!("{ISSUER}/auth"))];
    cfg.request_object = Some(RequestObjectConfig { key: None, encryption: Some((KeyAlg::RsaOaep256, ContentEnc::A256Gcm)) });
    let c = OAuthClient::new(cfg).unwrap();
    let jwe_ro = request_param(&c.authorization_url(&req).unwrap().url);
    assert_eq!(jwe_ro.split('.').count(), 5);
    let mut ks = DecryptionKeys::new();
    ks.push(enc_priv).unwrap();
    let d = jwe::decrypt(&jwe_ro, &ks, &Default::default(), 1 << 20).unwrap();
    assert_eq!(d.cty.as_deref(), Some("JWT"));
    let inner = String::from_utf8(d.plaintext).unwrap();
    assert!(keys::verify_jws(&rp_pub, &inner));
    assert_eq!(claims_of(&inner)["redirect_uri"], "https://rp.example/cb");

    // Encrypted with the client-secret key (A256KW), and the secret must be there.
    let secret = "rp-1-secret-0123456789abcdef0123456789abcdef";
    let auth = ClientAuth::Auto { secret: Some(Secret::new(secret)), key: Some(rp_key.clone()) };
    let c = oauth(
        &signer,
        DecryptionKeys::new(),
        auth,
        Some(RequestObjectConfig { key: None, encryption: Some((KeyAlg::A256Kw, ContentEnc::A128CbcHs256)) }),
    );
    let jwe_ro = request_param(&c.authorization_url(&req).unwrap().url);
    let mut ks = DecryptionKeys::new();
    ks.push(DecryptionKey::from_client_secret(secret.as_bytes(), KeyAlg::A256Kw).unwrap()).unwrap();
    let d = jwe::decrypt(&jwe_ro, &ks, &Default::default(), 1 << 20).unwrap();
    assert!(keys::verify_jws(&rp_pub, std::str::from_utf8(&d.plaintext).unwrap()));

    // Configuration errors surface when the client is built.
    let mut cfg = OAuthConfig::new(ISSUER, "rp-1", ClientAuth::SecretBasic(Secret::new(secret)));
    cfg.request_object = Some(RequestObjectConfig { key: None, encryption: None });
    assert_eq!(OAuthClient::new(cfg).unwrap_err().kind(), ErrorKind::InvalidConfig, "no private key");
    let mut cfg = OAuthConfig::new(ISSUER, "rp-1", ClientAuth::PrivateKeyJwt(rp_key));
    cfg.request_object = Some(RequestObjectConfig { key: None, encryption: Some((KeyAlg::A128Kw, ContentEnc::A128Gcm)) });
    assert_eq!(OAuthClient::new(cfg).unwrap_err().kind(), ErrorKind::InvalidConfig, "A128KW without a secret");
}

#[test]
fn explain_follows_an_encrypted_token() {
    let signer = TestKey::generate(Alg::ES256);
    let token = signer.sign(&keys::claims(ISSUER, "api", "alice", 300));
    let nested = nest(&token, &recipient(CLIENT_RSA_PEM), KeyAlg::RsaOaep256, ContentEnc::A256Gcm, Some("JWT"));
    let on = validator(&signer, true, keyset(CLIENT_RSA_PEM), 0);
    let doc: Value = serde_json::from_str(&on.explain_at(&nested, keys::now() as f64)).unwrap();
    assert_eq!(doc["decision"], "allow", "{doc}");
    assert_eq!(doc["encrypted"], true);
    assert_eq!(doc["checks"][0]["check"], "decryption");
    assert!(!doc.to_string().contains("alice"), "no claim values: {doc}");
    let other = validator(&signer, true, keyset(CLIENT_EC_PEM), 0);
    let doc: Value = serde_json::from_str(&other.explain_at(&nested, keys::now() as f64)).unwrap();
    assert_eq!(doc["decision"], "deny");
    assert_eq!(doc["code"], "DecryptionFailed");
    assert_eq!(other.validate(&nested).unwrap_err().kind(), ErrorKind::DecryptionFailed, "explain agrees with validation");
}
