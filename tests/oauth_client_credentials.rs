//! Client credentials against the real IdP (oidc-provider), with both secret methods, and the
//! issued token validated by the resource-server side of the library.

mod common;

use common::real_idp::RealIdp;
use oidc::core::oauth::{ClientAuth, OAuthClient, OAuthConfig};
use oidc::core::{Client, Config, ErrorKind};

fn oauth(idp: &RealIdp, id: &str, auth: ClientAuth) -> OAuthClient {
    let mut cfg = OAuthConfig::new(&idp.issuer, id, auth);
    cfg.base.ca_file = Some(idp.ca_file.clone());
    OAuthClient::new(cfg).unwrap()
}

#[test]
fn client_credentials_basic_and_post() {
    let idp = RealIdp::start();
    let mut rs = Config::new(&idp.issuer);
    rs.audiences = vec!["urn:liboidc:es256".into()];
    rs.ca_file = Some(idp.ca_file.clone());
    rs.expected_typ = Some("at+jwt".into());
    let rs = Client::new(rs).unwrap();
    for (id, auth) in
        [("svc-basic", ClientAuth::SecretBasic("svc-basic-secret".into())), ("svc-post", ClientAuth::SecretPost("svc-post-secret".into()))]
    {
        let c = oauth(&idp, id, auth);
        let t = c.client_credentials(Some("read"), &["urn:liboidc:es256"], None).unwrap();
        assert_eq!(t.token_type, "Bearer");
        assert!(t.expires_in.unwrap() > 0);
        assert_eq!(t.scope.as_deref(), Some("read"));
        let v = rs.validate(t.access_token.expose()).unwrap();
        assert!(v.claims.contains(&format!("\"client_id\":\"{id}\"")));
        assert!(!format!("{t:?} {c:?}").contains(t.access_token.expose()));
        assert!(!format!("{c:?}").contains("secret\""));
    }
    let bad = oauth(&idp, "svc-basic", ClientAuth::SecretBasic("wrong".into()));
    let e = bad.client_credentials(None, &["urn:liboidc:es256"], None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient);
    assert_eq!(e.oauth().unwrap().status, 401);
    assert!(!e.message().contains("wrong"));
    let c = oauth(&idp, "svc-basic", ClientAuth::SecretBasic("svc-basic-secret".into()));
    let e = c.client_credentials(None, &["urn:liboidc:nope"], None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTarget);
}
