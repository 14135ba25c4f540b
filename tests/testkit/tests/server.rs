use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use oidc_testkit::ca::CertValidity;
use oidc_testkit::client::{self, Conn};
use oidc_testkit::{Alg, FixtureServer, Route, TestCa, TestKey, jwks_value, oidc_discovery};
use serde_json::json;

fn raw_http(srv: &FixtureServer, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn https_keep_alive_counts_connections() {
    let ca = TestCa::new();
    assert!(ca.ca_pem_path().exists());
    assert!(ca.wrong_ca_pem_path().exists());
    let srv = FixtureServer::start_https(&ca);
    assert!(srv.base_url().starts_with("https://127.0.0.1:"));
    srv.set_route("/a", Route::json(&json!({"x": 1})));

    let mut c = Conn::connect(&srv.base_url(), Some(ca.client_config())).unwrap();
    for i in 1..=3 {
        let r = c.get("/a").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.json().unwrap(), json!({"x": 1}));
        assert_eq!(srv.hits("/a"), i);
    }
    assert_eq!(srv.connections(), 1);
    assert_eq!(srv.requests(), 3);

    // localhost works too (DNS SAN).
    let url = format!("https://localhost:{}", srv.port());
    let mut c2 = Conn::connect(&url, Some(ca.client_config())).unwrap();
    assert_eq!(c2.get("/a").unwrap().status, 200);
    assert_eq!(srv.connections(), 2);
    assert_eq!(srv.open_connections(), 2);

    // Unknown path → 404 JSON, counted.
    let r = c.get("/nope?x=1").unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(srv.hits("/nope"), 1);
    assert_eq!(srv.requests(), 5);
}

#[test]
fn connection_close_is_honoured() {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    srv.set_route("/a", Route::json_str("{}"));
    let mut c = Conn::connect(&srv.base_url(), Some(ca.client_config())).unwrap();
    let r = c.request("GET", "/a", &[("Connection", "close")], &[]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.get("/a").is_err(), "server must have closed the connection");
    assert!(srv.wait_for_idle(Duration::from_secs(5)));

    // Route-forced close.
    srv.set_route("/b", Route::json_str("{}").with_close());
    let mut c = Conn::connect(&srv.base_url(), Some(ca.client_config())).unwrap();
    assert_eq!(c.get("/b").unwrap().header("connection"), Some("close"));
    assert!(c.get("/b").is_err());
}

#[test]
fn plain_http_keep_alive_and_pipelining() {
    let srv = FixtureServer::start_http();
    assert!(srv.base_url().starts_with("http://127.0.0.1:"));
    srv.set_route("/p", Route::text(200, "hi"));
    let mut c = Conn::connect(&srv.base_url(), None).unwrap();
    for _ in 0..4 {
        let r = c.get("/p").unwrap();
        assert_eq!((r.status, r.text()), (200, "hi".to_string()));
    }
    assert_eq!(srv.connections(), 1);

    // Two pipelined requests in one write, the second one closing.
    let out = raw_http(&srv, b"GET /p HTTP/1.1\r\nHost: x\r\n\r\nGET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
    assert_eq!(srv.hits("/p"), 6);
    assert_eq!(srv.connections(), 2);

    // HTTP/1.0 without keep-alive closes after one response.
    let out = raw_http(&srv, b"GET /p HTTP/1.0\r\n\r\n");
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200 OK"));
}

#[test]
fn request_bodies_headers_and_handlers() {
    let srv = FixtureServer::start_http();
    srv.set_handler("/echo", |req| {
        Route::json(&json!({
            "method": req.method,
            "body": req.body_str(),
            "q": req.query_param("q"),
            "grant": req.form_param("grant_type"),
        }))
    });
    let r = client::request(
        "POST",
        &srv.url("/echo?q=a%20b"),
        None,
        &[("Content-Type", "application/x-www-form-urlencoded"), ("X-Test", "1")],
        b"grant_type=client_credentials&scope=x",
    )
    .unwrap();
    assert_eq!(
        r.json().unwrap(),
        json!({"method": "POST", "body": "grant_type=client_credentials&scope=x", "q": "a b", "grant": "client_credentials"})
    );
    let hdrs = srv.last_request_headers("/echo").unwrap();
    assert!(hdrs.iter().any(|(k, v)| k == "X-Test" && v == "1"));
    let last = srv.last_request("/echo").unwrap();
    assert_eq!(last.header("x-test"), Some("1"));
    assert_eq!(last.query, "q=a%20b");

    // Chunked request body.
    let out = raw_http(
        &srv,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("\"body\":\"hello world\""), "{text}");

    // Malformed request → 400 and close.
    let out = raw_http(&srv, b"BROKEN\r\n\r\n");
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 400"));
    assert_eq!(srv.request_log().len(), 2);
}

#[test]
fn etag_304() {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    srv.set_route("/jwks", Route::json_str(r#"{"keys":[]}"#).with_etag("\"v1\"").with_cache_control("max-age=60"));
    let mut c = Conn::connect(&srv.base_url(), Some(ca.client_config())).unwrap();
    let r = c.get("/jwks").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.header("cache-control"), Some("max-age=60"));

    let r = c.request("GET", "/jwks", &[("If-None-Match", "\"v1\"")], &[]).unwrap();
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some("\"v1\""));
    let r = c.request("GET", "/jwks", &[("If-None-Match", "W/\"v0\", \"v1\"")], &[]).unwrap();
    assert_eq!(r.status, 304);
    let r = c.request("GET", "/jwks", &[("If-None-Match", "\"v0\"")], &[]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), r#"{"keys":[]}"#);

    assert_eq!(srv.hits("/jwks"), 4);
    assert_eq!(srv.not_modified_hits("/jwks"), 2);
    // `responses` counts after the flush, so it may trail the client: wait.
    assert!(srv.wait_for_responses("/jwks", 4, Duration::from_secs(5)));
    assert_eq!(srv.connections(), 1, "304 keeps the connection alive");
}

#[test]
fn sequence_then_last_repeats() {
    let srv = FixtureServer::start_http();
    srv.set_sequence("/s", vec![Route::json_str("1"), Route::status(500), Route::json_str("3")]);
    let mut c = Conn::connect(&srv.base_url(), None).unwrap();
    let got: Vec<(u16, String)> = (0..5)
        .map(|_| {
            let r = c.get("/s").unwrap();
            (r.status, r.text())
        })
        .collect();
    assert_eq!(got, vec![(200, "1".into()), (500, "".into()), (200, "3".into()), (200, "3".into()), (200, "3".into())]);
    // Routes can be replaced while a connection is open.
    srv.set_route("/s", Route::text(201, "new"));
    assert_eq!(c.get("/s").unwrap().status, 201);
    srv.remove_route("/s");
    assert_eq!(c.get("/s").unwrap().status, 404);
}

#[test]
fn redirect() {
    let srv = FixtureServer::start_http();
    srv.set_route("/old", Route::redirect("/new"));
    let r = client::get(&srv.url("/old"), None).unwrap();
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/new"));
}

#[test]
fn reset_closes_abruptly() {
    let srv = FixtureServer::start_http();
    srv.set_route("/r", Route::reset());
    let err = client::get(&srv.url("/r"), None).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "SO_LINGER 0 should produce RST: {err:?}");
    assert_eq!(srv.hits("/r"), 1);

    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    srv.set_route("/r", Route::reset());
    assert!(client::get(&srv.url("/r"), Some(ca.client_config())).is_err());
    assert_eq!(srv.hits("/r"), 1);
    assert_eq!(srv.responses("/r"), 0);
}

#[test]
fn truncate_sends_partial_body() {
    let srv = FixtureServer::start_http();
    srv.set_route("/t", Route::json_str("0123456789").truncated(4));
    let out = raw_http(&srv, b"GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("Content-Length: 10\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n0123"), "{text}");
    let err = client::get(&srv.url("/t"), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);

    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    srv.set_route("/t", Route::json_str("0123456789").truncated(4));
    assert!(client::get(&srv.url("/t"), Some(ca.client_config())).is_err());
}

#[test]
fn delay_is_applied() {
    let srv = FixtureServer::start_http();
    srv.set_route("/slow", Route::json_str("{}").with_delay(Duration::from_millis(300)));
    let t = Instant::now();
    assert_eq!(client::get(&srv.url("/slow"), None).unwrap().status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

fn assert_drop_is_fast(route: Route, tls: bool) {
    let ca = TestCa::new();
    let srv = if tls { FixtureServer::start_https(&ca) } else { FixtureServer::start_http() };
    srv.set_route("/h", route);
    let url = srv.url("/h");
    let cfg = tls.then(|| ca.client_config());
    let (tx, rx) = mpsc::channel();
    let client = std::thread::spawn(move || {
        let r = client::get(&url, cfg);
        let _ = tx.send(r.is_ok());
    });
    assert!(srv.wait_for_hits("/h", 1, Duration::from_secs(10)));
    // An idle keep-alive connection must not block drop either.
    let mut idle = Conn::connect(&srv.base_url(), tls.then(|| ca.client_config())).unwrap();
    assert_eq!(idle.get("/nothing").unwrap().status, 404);

    let t = Instant::now();
    drop(srv);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(1), "drop took {took:?}");
    let got_response = rx.recv_timeout(Duration::from_secs(5)).expect("client unblocked");
    assert!(!got_response, "a hanging route never answers");
    client.join().unwrap();
    assert!(idle.get("/nothing").is_err());
}

#[test]
fn hang_does_not_block_drop() {
    assert_drop_is_fast(Route::hang(), false);
    assert_drop_is_fast(Route::hang(), true);
}

#[test]
fn long_delay_does_not_block_drop() {
    assert_drop_is_fast(Route::json_str("{}").with_delay(Duration::from_secs(60)), true);
}

#[test]
fn drop_idle_server_is_fast() {
    let t = Instant::now();
    let srv = FixtureServer::start_http();
    drop(srv);
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn wrong_ca_and_bad_certs_fail_handshake() {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    srv.set_route("/a", Route::json_str("{}"));
    assert!(client::get(&srv.url("/a"), Some(ca.wrong_client_config())).is_err());
    let other = TestCa::new();
    assert!(client::get(&srv.url("/a"), Some(other.client_config())).is_err());
    assert_eq!(srv.hits("/a"), 0);
    assert!(srv.connections() >= 1);
    assert_eq!(client::get(&srv.url("/a"), Some(ca.client_config())).unwrap().status, 200);

    // Hostname mismatch.
    let srv = FixtureServer::start_https_with_config(ca.server_config_for(&["example.com"], CertValidity::Valid));
    srv.set_route("/a", Route::json_str("{}"));
    assert!(client::get(&srv.url("/a"), Some(ca.client_config())).is_err());
    // Expired.
    let srv = FixtureServer::start_https_with_config(ca.server_config_for(&["127.0.0.1"], CertValidity::Expired));
    srv.set_route("/a", Route::json_str("{}"));
    let err = client::get(&srv.url("/a"), Some(ca.client_config())).unwrap_err();
    assert!(format!("{err:?}").to_lowercase().contains("expired"), "{err:?}");
    // CA file on disk is usable.
    let cfg = oidc_testkit::ca::client_config_from_pem_file(ca.ca_pem_path()).unwrap();
    let srv = FixtureServer::start_https(&ca);
    srv.set_route("/a", Route::json_str("{}"));
    assert_eq!(client::get(&srv.url("/a"), Some(cfg)).unwrap().status, 200);
}

#[test]
fn install_oidc_and_discovery() {
    let ca = TestCa::new();
    let srv = FixtureServer::start_https(&ca);
    let k = TestKey::generate(Alg::ES256);
    let issuer = srv.install_oidc(&[&k]);
    assert_eq!(issuer, srv.base_url());
    let d = client::get(&srv.url("/.well-known/openid-configuration"), Some(ca.client_config())).unwrap().json().unwrap();
    assert_eq!(d, oidc_discovery(&issuer, &srv.url("/jwks")));
    let j = client::get(&srv.url("/jwks"), Some(ca.client_config())).unwrap().json().unwrap();
    assert_eq!(j, jwks_value(&[&k]));
}

#[test]
fn raw_response_and_counters_reset() {
    let srv = FixtureServer::start_http();
    srv.set_route("/raw", Route::raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()));
    let r = client::get(&srv.url("/raw"), None).unwrap();
    assert_eq!(r.text(), "ok");
    assert_eq!(srv.all_hits().get("/raw"), Some(&1));
    srv.reset_counters();
    assert_eq!(srv.hits("/raw"), 0);
    assert_eq!(srv.requests(), 0);
    assert_eq!(srv.connections(), 0);
    assert!(srv.request_log().is_empty());
}

#[test]
fn expect_100_continue() {
    let srv = FixtureServer::start_http();
    srv.set_handler("/e", |req| Route::text(200, req.body_str()));
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n").unwrap();
    let mut interim = [0u8; 25];
    s.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"abc").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK") && out.ends_with("abc"), "{out}");
}
