//! What an authorization server or a redirect hands a client: token-endpoint responses
//! (`TokenResponse::parse`), error responses (`error_from_response`: JSON body or
//! `WWW-Authenticate`), and authorization responses at the redirect URI
//! (`parse_authorization_response`, with JARM validated against the fixture key set).
//! Input: a selector byte, then the parser's input:
//! `0` token response body; `1` two status bytes, a `WWW-Authenticate` value up to '\n', then the
//! body; `2` the expected state up to '\n' (`-`: no state was sent), then the redirect URL /
//! query / fragment.
//!
//! Oracles: an accepted token response has a non-empty access_token and a token_type; an
//! accepted authorization response has a non-empty code, exactly the state sent (none when
//! none was sent, never a check skipped for an empty one), the issuer's
//! `iss` (or, for JARM, a response JWT that is authentic under the key set, names the issuer and
//! the client as audience, and has not expired).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use oidc::core::KeySource;
use oidc::core::http::HttpResponse;
use oidc::core::oauth::client::{ClientAuth, OAuthClient, OAuthConfig};
use oidc::core::oauth::response::{ExpectedState, response_params};
use oidc::core::oauth::token::{TokenResponse, auth_param, error_from_response};
use oidc::ffi::error::{FfiError, oidc_error};
use oidc_fuzz::{CLIENT_ID, ISSUER, JWKS, NOW, OraclePolicy, authentic, jwks, policy_holds};

static CLIENT: LazyLock<OAuthClient> = LazyLock::new(|| {
    let mut cfg = OAuthConfig::new(ISSUER, CLIENT_ID, ClientAuth::None);
    cfg.base.key_source = KeySource::Static(JWKS.to_string());
    OAuthClient::new(cfg).expect("fixture OAuth client")
});

const JARM: OraclePolicy = OraclePolicy {
    issuer: ISSUER,
    audiences: &[CLIENT_ID],
    algorithms: oidc_fuzz::POLICY_A.algorithms,
    leeway: 60.0,
    expected_typ: None,
    required_claims: &[],
};

/// Errors leave through the C ABI as error objects: build one (message sanitizing, codes).
fn through_ffi(e: oidc::core::Error) {
    let _ = oidc_error::from_ffi(FfiError::from(e), Some("api"));
}

fn split_line(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().position(|&c| c == b'\n') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &[]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    match sel % 3 {
        0 => match TokenResponse::parse(rest) {
            Ok(t) => {
                assert!(!t.access_token.expose().is_empty(), "token response accepted without an access_token");
                let _ = format!("{t:?}");
            }
            Err(e) => through_ffi(e),
        },
        1 => {
            let Some((status, rest)) = rest.split_first_chunk::<2>() else { return };
            let (www, body) = split_line(rest);
            let Ok(www) = std::str::from_utf8(www) else { return };
            for name in ["error", "error_description", "realm", "scope"] {
                let _ = auth_param(www, name);
            }
            let resp = HttpResponse {
                status: u16::from_be_bytes(*status),
                headers: vec![("content-type".into(), "application/json".into()), ("www-authenticate".into(), www.into())],
                body: body.to_vec(),
            };
            through_ffi(error_from_response(&resp, "token endpoint"));
        }
        _ => {
            let (state, input) = split_line(rest);
            let (Ok(state), Ok(input)) = (std::str::from_utf8(state), std::str::from_utf8(input)) else { return };
            let expected = if state == "-" { ExpectedState::NoneSent } else { ExpectedState::Sent(state) };
            let _ = response_params(input);
            match CLIENT.parse_authorization_response(input, expected, Some(NOW as f64)) {
                Ok(r) => {
                    assert!(!r.code.expose().is_empty(), "authorization response accepted without a code");
                    match expected {
                        ExpectedState::Sent(want) => {
                            assert!(!want.is_empty(), "an empty expected state was accepted as a state check");
                            assert_eq!(r.state.as_deref(), Some(want), "authorization response accepted with another state");
                        }
                        ExpectedState::NoneSent => {
                            assert_eq!(r.state, None, "authorization response accepted with a state nobody sent");
                        }
                    }
                    assert!(r.param("error").is_none(), "an error response was accepted");
                    if r.jarm {
                        let params = response_params(input).expect("accepted input has parameters");
                        let jwt = &params.iter().find(|(k, _)| k == "response").expect("JARM without response").1;
                        let jws = authentic(jwt, jwks()).unwrap_or_else(|why| panic!("FORGERY: JARM response accepted ({why})"));
                        policy_holds(&jws, &JARM, NOW as f64).unwrap_or_else(|why| panic!("POLICY: JARM response accepted ({why})"));
                    } else {
                        assert_eq!(r.iss.as_deref(), Some(ISSUER), "authorization response accepted without the issuer's iss");
                    }
                    let _ = r.to_json();
                }
                Err(e) => through_ffi(e),
            }
        }
    }
});
