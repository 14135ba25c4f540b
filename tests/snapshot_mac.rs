//! Issue 10 item 14: an optional key authenticates snapshots (HMAC-SHA256). With a key set,
//! export adds a `mac` and import refuses a snapshot without one, with a wrong one, or edited.
//! Own test binary: the key is process-wide.

mod common;

use std::time::Instant;

use common::*;
use oidc::core::cache::CachePolicy;
use oidc::core::{Config, ErrorKind, snapshot};
use serde_json::Value;

#[test]
fn snapshots_are_authenticated_when_a_key_is_set() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = idp.client();
    client.validate(&k.sign(&idp.claims())).unwrap();
    let policy = CachePolicy::from_config(&Config::new(""));
    let import = |doc: &str| snapshot::import(doc, &policy, Instant::now());

    assert_eq!(snapshot::set_key(Some(b"short")).unwrap_err().kind(), ErrorKind::InvalidArgument);
    snapshot::set_key(Some(b"fleet snapshot key 0123456789")).unwrap();
    let signed = snapshot::export(Some(&client)).unwrap();
    let v: Value = serde_json::from_str(&signed).unwrap();
    assert!(v["mac"].as_str().is_some_and(|m| m.len() == 43), "{v}");
    import(&signed).expect("an authentic snapshot imports");

    // Edited (the text itself: a MAC covers the text as exported).
    let i = signed.find("\"expires_at\":").unwrap() + 14;
    let digit = signed.as_bytes()[i];
    let mut edited = signed.clone().into_bytes();
    edited[i] = if digit == b'9' { b'8' } else { digit + 1 };
    let e = import(std::str::from_utf8(&edited).unwrap()).unwrap_err();
    assert!(e.message().contains("does not verify"), "{}", e.message());
    // Re-serialized (the same content, other member order): refused too.
    let e = import(&v.to_string()).unwrap_err();
    assert!(e.message().contains("not authenticated") || e.message().contains("does not verify"), "{}", e.message());
    // No mac.
    let mut bare = v.clone();
    bare.as_object_mut().unwrap().remove("mac");
    let e = import(&bare.to_string()).unwrap_err();
    assert!(e.message().contains("not authenticated"), "{}", e.message());
    // Another key.
    snapshot::set_key(Some(b"another fleet key 0123456789")).unwrap();
    assert!(import(&signed).is_err());
    // No key: unauthenticated snapshots are accepted again (and treated as configuration).
    snapshot::set_key(None).unwrap();
    import(&bare.to_string()).unwrap();
    let unsigned: Value = serde_json::from_str(&snapshot::export(Some(&client)).unwrap()).unwrap();
    assert!(unsigned.get("mac").is_none());
}
