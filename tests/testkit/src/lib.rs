//! # oidc-testkit
//!
//! Loopback fixtures for liboidc's tests: a throw-away CA, an HTTP/1.1
//! fixture server (TLS or plain) that can be scripted to misbehave, and JWS
//! signing keys / token helpers. Everything runs on `127.0.0.1`, uses
//! std threads only, and every blocking operation is bounded.
//!
//! ```no_run
//! use oidc_testkit::{TestCa, FixtureServer, Route, TestKey, Alg, keys};
//! use std::time::Duration;
//!
//! let ca = TestCa::new();                         // writes <tmp>/ca.pem
//! let srv = FixtureServer::start_https(&ca);      // https://127.0.0.1:PORT
//! let key = TestKey::generate(Alg::ES256);
//! let issuer = srv.install_oidc(&[&key]);         // discovery + /jwks
//! let token = key.sign(&keys::claims(&issuer, "api", "alice", 300));
//!
//! // Script failures: 500 once, then the real JWKS again.
//! let good = Route::json(&keys::jwks_value(&[&key]));
//! srv.set_sequence("/jwks", vec![Route::status(500), good]);
//! srv.set_route("/slow", Route::json_str("{}").with_delay(Duration::from_millis(300)));
//! assert_eq!(srv.hits("/jwks"), 0);
//! # let _ = (ca.ca_pem_path(), token);
//! ```
//!
//! ## Modules
//! * [`ca`] — [`TestCa`]: CA + server leaf (IP 127.0.0.1, DNS localhost),
//!   `ca.pem` / `wrong-ca.pem` on disk, rustls server/client configs.
//! * [`server`] — [`FixtureServer`], [`Route`], [`RecordedRequest`],
//!   [`oidc_discovery`].
//! * [`keys`] — [`TestKey`], [`Alg`], [`jwks`], [`default_header`], [`b64`],
//!   [`keys::claims`], [`keys::verify_jws`].
//! * [`client`] — a tiny blocking HTTP/1.1 client (self-tests, probes).
//! * [`dpop`] — DPoP proof keys, RFC 7638 thumbprints, `ath`.
//! * [`util`] — URL/query encoding helpers.
//!
//! ## Server semantics
//! * Routes match the exact path (query ignored), any method; unknown paths
//!   get `404 {"error":"not_found"}`.
//! * Counters (`hits`, `requests`, `connections`) are updated as soon as a
//!   request has been read — before the route's delay/hang/reset — so a
//!   test that has seen the outcome of a request can read them without
//!   waiting. For background activity use the `wait_for_*` methods
//!   (condition variable, bounded by a timeout).
//! * Keep-alive: HTTP/1.1 connections stay open until the client sends
//!   `Connection: close`, a route has `close`, the connection idles for
//!   [`server::IDLE_TIMEOUT`], or the server is dropped.
//! * `Drop` shuts the listener and all sockets down, wakes hanging/delayed
//!   handlers and waits at most [`server::DROP_WAIT`] for threads to exit.
//!
//! ## Binary
//! `oidc-testkit --dir DIR` starts an issuer for non-Rust tests; see
//! `src/bin/oidc-testkit.rs` for the admin protocol.

pub mod ca;
pub mod client;
pub mod dpop;
pub mod keys;
pub mod server;
pub mod util;

pub use ca::{CertValidity, TestCa};
pub use keys::{Alg, TestKey, b64, b64_json, default_header, jwks, jwks_value};
pub use server::{FixtureServer, RecordedRequest, Route, oidc_discovery};

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    /// Fixtures can live in `static`s / be shared across threads.
    #[test]
    fn public_types_are_send_sync() {
        assert_send_sync::<crate::TestCa>();
        assert_send_sync::<crate::FixtureServer>();
        assert_send_sync::<crate::TestKey>();
        assert_send_sync::<crate::Route>();
        assert_send_sync::<crate::RecordedRequest>();
    }
}
