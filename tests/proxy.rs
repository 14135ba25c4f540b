//! HTTP proxy support through a real proxy (tinyproxy, Debian): discovery, JWKS and a token
//! request tunnelled with CONNECT (proved by the proxy's own log), credentials sent and never
//! shown, the environment opt-in (off by default) with its NO_PROXY bypass, and proxies that
//! refuse (407, 403, nothing listening) giving `ErrorKind::Proxy` with a message naming the
//! proxy without its credentials. The IdP is the real one (tests/idp/server.mjs).

mod common;

use std::sync::{Mutex, OnceLock};

use common::proxy::{ProxyOptions, TinyProxy};
use common::real_idp::RealIdp;
use oidc::core::http::ProxyUrl;
use oidc::core::oauth::{ClientAuth, OAuthClient, OAuthConfig, Secret};
use oidc::core::{Client, Config, ErrorKind};

fn idp() -> &'static RealIdp {
    static IDP: OnceLock<RealIdp> = OnceLock::new();
    IDP.get_or_init(RealIdp::start)
}

/// Serializes the tests that touch the process environment.
static ENV: Mutex<()> = Mutex::new(());

const USER: &str = "proxyuser";
const PASS: &str = "pr0xyPass7f3e";

fn idp_hostport(idp: &RealIdp) -> String {
    idp.issuer.trim_start_matches("https://").to_string()
}

fn oauth_cfg(idp: &RealIdp) -> OAuthConfig {
    let mut c = OAuthConfig::new(&idp.issuer, "svc-basic", ClientAuth::SecretBasic(Secret::new("svc-basic-secret")));
    c.base.ca_file = Some(idp.ca_file.clone());
    c
}

fn rs_cfg(idp: &RealIdp) -> Config {
    let mut c = Config::new(&idp.issuer);
    c.audiences = vec!["urn:liboidc:es256".into()];
    c.ca_file = Some(idp.ca_file.clone());
    c
}

fn assert_no_creds(msg: &str) {
    assert!(!msg.contains(PASS) && !msg.contains("pr0xy") && !msg.contains(USER), "credentials in message: {msg}");
}

#[test]
fn discovery_jwks_and_token_go_through_the_proxy_with_credentials() {
    let idp = idp();
    let proxy = TinyProxy::start(ProxyOptions { basic_auth: Some((USER, PASS)), ..Default::default() });
    let url = proxy.url(Some((USER, PASS)));
    let mut oc = oauth_cfg(idp);
    oc.base.proxy = Some(ProxyUrl::parse(&url, false).unwrap());
    assert_no_creds(&format!("{oc:?}"));
    let client = OAuthClient::new(oc).unwrap();
    let t = client.client_credentials(Some("read"), &["urn:liboidc:es256"], None).unwrap();
    let mut rc = rs_cfg(idp);
    rc.proxy = Some(ProxyUrl::parse(&url, false).unwrap());
    let rs = Client::new(rc).unwrap();
    rs.validate(t.access_token.expose()).unwrap();
    // Token, discovery (client), discovery + JWKS (validator): every connection was a CONNECT
    // to the IdP through the proxy (keep-alive may reuse one per handle).
    let connects = proxy.connects();
    let target = idp_hostport(idp);
    assert!(connects.len() >= 2, "expected the client's and the validator's tunnels, proxy log:\n{}", proxy.log());
    assert!(connects.iter().all(|c| *c == target), "{connects:?} vs {target}");
    assert_no_creds(&proxy.connects().join(" "));
}

#[test]
fn refusing_proxies_give_a_proxy_error_naming_the_proxy_without_credentials() {
    let idp = idp();
    // 407 (tinyproxy 1.11 answers 401): the proxy wants credentials; none given, then wrong ones.
    let auth = TinyProxy::start(ProxyOptions { basic_auth: Some((USER, PASS)), ..Default::default() });
    for url in [auth.url(None), auth.url(Some((USER, "wrong-pr0xy-pass")))] {
        let mut rc = rs_cfg(idp);
        rc.proxy = Some(ProxyUrl::parse(&url, false).unwrap());
        let e = Client::new(rc).unwrap().discover().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy, "{e:?}");
        let m = e.message();
        assert!(m.contains(&auth.url(None)) && m.contains("authentication required"), "{m}");
        assert_no_creds(m);
    }
    // 403: the proxy only tunnels to port 1.
    let denied = TinyProxy::start(ProxyOptions { connect_ports: vec![1], ..Default::default() });
    let mut rc = rs_cfg(idp);
    rc.proxy = Some(ProxyUrl::parse(&denied.url(None), false).unwrap());
    let e = Client::new(rc).unwrap().discover().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Proxy, "{e:?}");
    assert!(e.message().contains("403") && e.message().contains(&denied.url(None)), "{}", e.message());
    // Nothing listening: connection refused at the proxy, named as such.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut oc = oauth_cfg(idp);
    oc.base.proxy = Some(ProxyUrl::parse(&format!("http://{USER}:{PASS}@127.0.0.1:{port}"), false).unwrap());
    let e = OAuthClient::new(oc).unwrap().client_credentials(None, &[], None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Proxy, "{e:?}");
    assert!(e.message().contains(&format!("http://127.0.0.1:{port}")) && e.message().contains("cannot reach the proxy"), "{}", e.message());
    assert_no_creds(e.message());
    assert_no_creds(&format!("{e:?}"));
}

#[test]
fn proxy_urls_are_checked_and_never_echoed() {
    for bad in [
        "https://u:pr0xy-p@ss@127.0.0.1:3128",
        "socks5://127.0.0.1:1080",
        "http://127.0.0.1",
        "http://u:pr0xy@127.0.0.1:99999",
        "http://127.0.0.1:3128/path",
        "127.0.0.1:3128",
        "http://u:pr0xy%zz@127.0.0.1:3128",
    ] {
        let e = ProxyUrl::parse(bad, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{bad}");
        assert_no_creds(e.message());
    }
    let p = ProxyUrl::parse("http://u%40x:pr0xy-p%40ss@Proxy.Example:3128/", false).unwrap();
    assert_eq!(p.display(), "http://proxy.example:3128");
    assert!(p.has_credentials());
    assert_no_creds(&format!("{p:?}"));
    assert_eq!(ProxyUrl::parse("127.0.0.1:3128", true).unwrap().display(), "http://127.0.0.1:3128");
}

#[test]
fn environment_is_ignored_by_default_and_used_on_opt_in_with_no_proxy() {
    let _g = ENV.lock().unwrap();
    let idp = idp();
    let proxy = TinyProxy::start(ProxyOptions::default());
    let set = |k: &str, v: Option<&str>| {
        // SAFETY: the tests that touch the environment hold ENV; the others never read these
        // variables (they do not opt in).
        unsafe {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    };
    for k in ["https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "HTTP_PROXY", "ALL_PROXY"] {
        set(k, None);
    }
    set("HTTPS_PROXY", Some(&proxy.url(None)));
    set("HTTP_PROXY", Some(&proxy.url(None)));
    set("ALL_PROXY", Some(&proxy.url(None)));
    // Default: off. The request goes direct; the proxy sees nothing.
    Client::new(rs_cfg(idp)).unwrap().discover().unwrap();
    assert!(proxy.connects().is_empty(), "{}", proxy.log());
    // Opted in: through the proxy.
    let mut rc = rs_cfg(idp);
    rc.proxy_from_env = true;
    Client::new(rc.clone()).unwrap().discover().unwrap();
    assert_eq!(proxy.connects(), vec![idp_hostport(idp)]);
    // NO_PROXY names the IdP's host: direct again.
    set("NO_PROXY", Some("example.org, 127.0.0.1"));
    Client::new(rc.clone()).unwrap().discover().unwrap();
    assert_eq!(proxy.connects().len(), 1, "NO_PROXY bypass: {}", proxy.log());
    // ... and applies to an explicit proxy too when opted in; without the opt-in it does not.
    let mut explicit = rs_cfg(idp);
    explicit.proxy = Some(ProxyUrl::parse(&proxy.url(None), false).unwrap());
    explicit.proxy_from_env = true;
    Client::new(explicit.clone()).unwrap().discover().unwrap();
    assert_eq!(proxy.connects().len(), 1);
    explicit.proxy_from_env = false;
    Client::new(explicit).unwrap().discover().unwrap();
    assert_eq!(proxy.connects().len(), 2);
    // A malformed variable is a build error naming the variable, not the value.
    set("NO_PROXY", None);
    set("HTTPS_PROXY", Some("socks5://u:pr0xy-p@ss@127.0.0.1:1"));
    let e = Client::new(rc).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.message().contains("HTTPS_PROXY"), "{}", e.message());
    assert_no_creds(e.message());
    for k in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"] {
        set(k, None);
    }
}

#[test]
fn a_proxy_that_never_answers_is_bounded_by_the_timeouts() {
    // Accepts the TCP connection, never answers the CONNECT.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(1).filter_map(|s| s.ok()).collect();
        std::thread::sleep(std::time::Duration::from_secs(3));
        drop(held);
    });
    let mut rc = Config::new("https://127.0.0.1:9/never");
    rc.audiences = vec!["a".into()];
    rc.connect_timeout = std::time::Duration::from_millis(500);
    rc.total_timeout = std::time::Duration::from_secs(1);
    rc.proxy = Some(ProxyUrl::parse(&format!("http://{USER}:{PASS}@{addr}"), false).unwrap());
    let t0 = std::time::Instant::now();
    let e = Client::new(rc).unwrap().discover().unwrap_err();
    let took = t0.elapsed();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e:?}");
    assert!(e.message().contains(&format!("http://{addr}")), "{}", e.message());
    assert_no_creds(e.message());
    // Bounded by the timeouts (generous margin for a loaded machine), not by the proxy (which holds the connection 3 s).
    assert!(took < std::time::Duration::from_millis(2900), "took {took:?}");
    hold.join().unwrap();
}
