//! Trust roots from SSL_CERT_FILE > CURL_CA_BUNDLE > REQUESTS_CA_BUNDLE (read at client creation)
//! and from a per-client CA file. One test function: the variables are process-wide, so the
//! scenarios run in sequence in a binary of their own.

mod common;

use common::*;
use oidc::core::{Client, Config, ErrorKind};

const VARS: [&str; 3] = ["SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"];

fn set_env(values: [Option<&std::path::Path>; 3]) {
    for (v, val) in VARS.iter().zip(values) {
        // SAFETY: this test binary has a single test; no other thread reads the environment now.
        unsafe {
            match val {
                Some(p) => std::env::set_var(v, p),
                None => std::env::remove_var(v),
            }
        }
    }
}

#[test]
fn ca_env_var_priority_and_per_client_file() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let good = idp.ca.ca_pem_path();
    let wrong = idp.ca.wrong_ca_pem_path();
    let token = k.sign(&idp.claims());
    let env_client = || {
        let mut c = Config::new(&idp.issuer);
        c.audiences = vec!["api".into()];
        // No per-client CA file: trust comes from the system store and the environment.
        Client::new(c)
    };
    let outcome = |c: Result<Client, oidc::core::Error>| c.and_then(|c| c.validate(&token).map(|_| ())).map_err(|e| e.kind());

    set_env([Some(&good), None, None]);
    assert_eq!(outcome(env_client()), Ok(()), "SSL_CERT_FILE");
    set_env([None, Some(&good), None]);
    assert_eq!(outcome(env_client()), Ok(()), "CURL_CA_BUNDLE");
    set_env([None, None, Some(&good)]);
    assert_eq!(outcome(env_client()), Ok(()), "REQUESTS_CA_BUNDLE");
    // Priority: the first variable that is set wins, even when a later one would work.
    set_env([Some(&wrong), Some(&good), Some(&good)]);
    assert_eq!(outcome(env_client()), Err(ErrorKind::Tls), "SSL_CERT_FILE beats CURL_CA_BUNDLE");
    set_env([None, Some(&wrong), Some(&good)]);
    assert_eq!(outcome(env_client()), Err(ErrorKind::Tls), "CURL_CA_BUNDLE beats REQUESTS_CA_BUNDLE");
    set_env([Some(&good), Some(&wrong), Some(&wrong)]);
    assert_eq!(outcome(env_client()), Ok(()), "SSL_CERT_FILE first");
    // Nothing set: only the system store, which does not hold the test CA.
    set_env([None, None, None]);
    assert_eq!(outcome(env_client()), Err(ErrorKind::Tls), "system store only");
    // The per-client CA file works with no variable set.
    assert_eq!(outcome(Ok(idp.client())), Ok(()), "per-client CA file");
    // An empty variable counts as unset.
    unsafe { std::env::set_var("SSL_CERT_FILE", "") };
    set_env([None, Some(&good), None]);
    assert_eq!(outcome(env_client()), Ok(()));
    // A variable naming an unreadable file fails at creation, clearly.
    set_env([Some(std::path::Path::new("/nonexistent/ca.pem")), None, None]);
    assert_eq!(env_client().unwrap_err().kind(), ErrorKind::CaFile);
    // Read at creation: changing the environment later does not affect a built client.
    set_env([Some(&good), None, None]);
    let built = env_client().unwrap();
    set_env([None, None, None]);
    assert_eq!(outcome(Ok(built)), Ok(()));
}
