//! Shared helpers for the integration tests: a loopback HTTPS issuer and client configs.
#![allow(dead_code)]

use oidc::core::{Client, Config, Error, ErrorKind};
#[allow(unused_imports)]
pub use oidc_testkit::{Alg, FixtureServer, Route, TestCa, TestKey, b64, b64_json, default_header, jwks, keys};
use serde_json::Value;

pub mod cabi;
pub mod proxy;
pub mod real_idp;
pub mod redis;

/// A loopback HTTPS issuer: discovery at `/.well-known/openid-configuration`, keys at `/jwks`.
pub struct Idp {
    pub ca: TestCa,
    pub srv: FixtureServer,
    pub issuer: String,
}

pub const DISCOVERY: &str = "/.well-known/openid-configuration";

pub fn idp(keys: &[&TestKey]) -> Idp {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    let issuer = srv.install_oidc(keys);
    Idp { ca, srv, issuer }
}

impl Idp {
    /// A config for this issuer: audience "api", the test CA as the per-client CA file.
    pub fn config(&self) -> Config {
        let mut c = Config::new(&self.issuer);
        c.audiences = vec!["api".into()];
        c.ca_file = Some(self.ca.ca_pem_path());
        c
    }
    pub fn client(&self) -> Client {
        Client::new(self.config()).expect("client")
    }
    pub fn client_with(&self, f: impl FnOnce(&mut Config)) -> Client {
        let mut c = self.config();
        f(&mut c);
        Client::new(c).expect("client")
    }
    /// Standard claims for this issuer and audience "api", valid for 5 minutes.
    pub fn claims(&self) -> Value {
        keys::claims(&self.issuer, "api", "alice", 300)
    }
    pub fn set_keys(&self, keys: &[&TestKey]) {
        self.srv.set_route("/jwks", Route::json(&oidc_testkit::jwks_value(keys)));
    }
}

/// Validate `token` from `n` threads released together by a barrier; panics (with `what`) unless
/// every validation succeeds.
pub fn validate_concurrently(client: &Client, token: &str, n: usize, what: &str) {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (c, t, b) = (client.clone(), token.to_string(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                c.validate(&t).map(|_| ())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap_or_else(|e| panic!("{what}: {e:?}"));
    }
}

/// The error kind of a failed validation (panics on success).
pub fn kind_of(r: Result<oidc::core::Validated, Error>) -> ErrorKind {
    match r {
        Ok(v) => panic!("expected an error, got claims {}", v.claims),
        Err(e) => e.kind(),
    }
}

/// Assert that no part of the token's payload or signature segment shows in the error text.
pub fn assert_no_echo(token: &str, e: &Error) {
    for seg in token.split('.').skip(1) {
        if seg.len() >= 8 {
            assert!(!e.message().contains(seg), "message echoes the token: {}", e.message());
            assert!(!e.www_authenticate(None).contains(seg));
        }
    }
}
