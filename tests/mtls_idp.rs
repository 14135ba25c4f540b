//! mTLS client authentication (RFC 8705 §2) against the real IdP (tests/idp/server.mjs, its
//! features.mTLS on): tls_client_auth with a certificate from the test CA, and
//! self_signed_tls_client_auth with a registered self-signed certificate; the issuer's
//! `mtls_endpoint_aliases` used (the IdP counts requests per Host); certificate-bound access
//! tokens (`cnf.x5t#S256` = the certificate's thumbprint) accepted by a resource server that
//! requires mTLS with the same certificate and refused with another; wrong certificates give
//! `invalid_client`; a key that does not match its certificate is refused at build.

mod common;

use std::sync::OnceLock;

use base64::Engine;
use common::real_idp::RealIdp;
use oidc::core::authn::RequestInput;
use oidc::core::http::ClientCertificate;
use oidc::core::oauth::{ClientAuth, OAuthClient, OAuthConfig};
use oidc::core::{Client, Config, ErrorKind};
use serde_json::Value;

fn idp() -> &'static RealIdp {
    static IDP: OnceLock<RealIdp> = OnceLock::new();
    IDP.get_or_init(RealIdp::start)
}

fn pem(idp: &RealIdp, name: &str) -> (String, String) {
    let r = |ext: &str| std::fs::read_to_string(idp.dir.join(format!("{name}.{ext}"))).unwrap();
    (r("pem"), r("key"))
}

fn cert(idp: &RealIdp, name: &str) -> ClientCertificate {
    let (c, k) = pem(idp, name);
    ClientCertificate::from_pem(c.as_bytes(), k.as_bytes()).unwrap()
}

fn client(idp: &RealIdp, id: &str, auth: ClientAuth, cert_name: Option<&str>) -> OAuthClient {
    let mut c = OAuthConfig::new(&idp.issuer, id, auth);
    c.base.ca_file = Some(idp.ca_file.clone());
    c.base.client_cert = cert_name.map(|n| cert(idp, n));
    OAuthClient::new(c).unwrap()
}

fn thumbprint(der: &[u8]) -> String {
    let h = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.as_ref())
}

fn payload(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

/// A resource server for `urn:liboidc:es256` that accepts certificate-bound tokens only.
fn rs(idp: &RealIdp) -> Client {
    let mut c = Config::new(&idp.issuer);
    c.audiences = vec!["urn:liboidc:es256".into()];
    c.ca_file = Some(idp.ca_file.clone());
    c.resource.require_mtls = true;
    Client::new(c).unwrap()
}

fn request(token: &str, cert_der: Option<&[u8]>) -> RequestInput {
    RequestInput {
        authorization: vec![format!("Bearer {token}").into_bytes()],
        method: "GET".into(),
        url: "https://api.example/v1".into(),
        client_cert_der: cert_der.map(<[u8]>::to_vec),
        ..Default::default()
    }
}

fn localhost_requests(idp: &RealIdp) -> u64 {
    idp.admin_get("/stats")["hosts"]["localhost"].as_u64().unwrap_or(0)
}

#[test]
fn tls_client_auth_gives_bound_tokens_through_the_mtls_aliases() {
    let idp = idp();
    let before = localhost_requests(idp);
    let c = client(idp, "mtls-ca", ClientAuth::TlsClientAuth, Some("mtls-client"));
    let t = c.client_credentials(Some("read"), &["urn:liboidc:es256"], None).unwrap();
    let at = t.access_token.expose().to_string();
    // The token endpoint was the alias (https://localhost:PORT/token).
    assert!(localhost_requests(idp) > before, "mtls_endpoint_aliases not used: {}", idp.admin_get("/stats"));
    let leaf = cert(idp, "mtls-client").leaf_der().to_vec();
    let claims = payload(&at);
    assert_eq!(claims["cnf"]["x5t#S256"].as_str(), Some(thumbprint(&leaf).as_str()), "{claims}");
    assert_eq!(claims["client_id"], "mtls-ca");
    // The resource server that requires mTLS: the same certificate passes, another fails,
    // none fails.
    let rs = rs(idp);
    let ok = rs.authenticate(&request(&at, Some(&leaf))).unwrap();
    assert!(ok.allowed(), "{:?}", ok.outcome.err());
    let other = cert(idp, "mtls-other").leaf_der().to_vec();
    for d in [rs.authenticate(&request(&at, Some(&other))).unwrap(), rs.authenticate(&request(&at, None)).unwrap()] {
        let e = d.outcome.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TokenBindingMismatch, "{e:?}");
        assert_eq!(d.status, 401);
    }
    // Introspection and revocation authenticate the same way (their aliases too), on an
    // opaque token (no resource) bound to the same certificate.
    let opaque = c.client_credentials(None, &[], None).unwrap().access_token.expose().to_string();
    let before = localhost_requests(idp);
    let i = c.introspect(&opaque, Some("access_token"), false).unwrap();
    assert!(i.active, "{}", i.json);
    assert_eq!(i.object["cnf"]["x5t#S256"].as_str(), Some(thumbprint(&leaf).as_str()), "{}", i.json);
    c.revoke(&opaque, Some("access_token")).unwrap();
    assert!(!c.introspect(&opaque, Some("access_token"), false).unwrap().active);
    assert!(localhost_requests(idp) >= before + 3);
}

#[test]
fn self_signed_tls_client_auth_and_auto() {
    let idp = idp();
    let c = client(idp, "mtls-self", ClientAuth::SelfSignedTlsClientAuth, Some("mtls-self"));
    let t = c.client_credentials(None, &["urn:liboidc:es256"], None).unwrap();
    let leaf = cert(idp, "mtls-self").leaf_der().to_vec();
    assert_eq!(payload(t.access_token.expose())["cnf"]["x5t#S256"].as_str(), Some(thumbprint(&leaf).as_str()));
    assert!(rs(idp).authenticate(&request(t.access_token.expose(), Some(&leaf))).unwrap().allowed());
    // "auto" with only a certificate picks tls_client_auth (the issuer lists it first).
    let auto = client(idp, "mtls-ca", ClientAuth::Auto { secret: None, key: None }, Some("mtls-client"));
    assert_eq!(auto.effective_auth().unwrap().method_name(), "tls_client_auth");
    auto.client_credentials(None, &[], None).unwrap();
}

#[test]
fn wrong_certificates_are_invalid_client() {
    let idp = idp();
    for (id, auth, name) in [
        ("mtls-ca", ClientAuth::TlsClientAuth, "mtls-other"), // trusted CA, wrong subject
        ("mtls-ca", ClientAuth::TlsClientAuth, "mtls-self"),  // not issued by the CA
        ("mtls-self", ClientAuth::SelfSignedTlsClientAuth, "mtls-client"), // not the registered one
    ] {
        let e = client(idp, id, auth, Some(name)).client_credentials(None, &[], None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidClient, "{id} with {name}: {e:?}");
    }
}

#[test]
fn configuration_errors_at_build() {
    let idp = idp();
    let (c1, k1) = pem(idp, "mtls-client");
    let (_, k2) = pem(idp, "mtls-other");
    let e = ClientCertificate::from_pem(c1.as_bytes(), k2.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ClientCert);
    assert!(e.message().contains("does not match"), "{}", e.message());
    for (c, k, what) in
        [("", k1.as_str(), "no CERTIFICATE"), (c1.as_str(), "", "no unencrypted private key"), (c1.as_str(), c1.as_str(), "no unencrypted")]
    {
        let e = ClientCertificate::from_pem(c.as_bytes(), k.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ClientCert);
        assert!(e.message().contains(what), "{}", e.message());
        assert!(!e.message().contains("PRIVATE KEY-----"), "key material in a message");
    }
    let good = ClientCertificate::from_pem(c1.as_bytes(), k1.as_bytes()).unwrap();
    let dbg = format!("{good:?}");
    assert!(!dbg.contains(&k1[40..80]) && dbg.contains("redacted"), "{dbg}");
    // tls_client_auth without a certificate; a secret with tls_client_auth.
    let mut cfg = OAuthConfig::new(&idp.issuer, "mtls-ca", ClientAuth::TlsClientAuth);
    cfg.base.ca_file = Some(idp.ca_file.clone());
    let e = OAuthClient::new(cfg).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.message().contains("client certificate"), "{}", e.message());
    let e = ClientAuth::from_parts(Some("tls_client_auth"), Some("s".into())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert_eq!(ClientAuth::from_parts(Some("self_signed_tls_client_auth"), None).unwrap().method_name(), "self_signed_tls_client_auth");
}
