//! The revocation-list claims parser (`RevocationList::parse_claims`, issue 14 item 2): the
//! payload of an authenticated list, as bytes. Never panics; every refusal is
//! `ResponseInvalid`; an accepted list has the issuer asked for, a version within 0..=2^53-1,
//! at most the documented number of entries, each 1 to 256 bytes, and answers exactly the
//! entries the input names (kids; jtis not past their exp).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc::core::ErrorKind;
use oidc::core::revocation::{MAX_ENTRY_LEN, MAX_REVOKED_JTIS, MAX_REVOKED_KIDS, MAX_VERSION, RevocationList};
use serde_json::Value;

const ISSUER: &str = "https://issuer.example";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let _ = RevocationList::parse_claims(data, None, NOW);
    match RevocationList::parse_claims(data, Some(ISSUER), NOW) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ResponseInvalid, "{e:?}"),
        Ok(l) => {
            assert_eq!(l.issuer, ISSUER);
            assert!(l.version <= MAX_VERSION);
            let (kids, jtis) = l.len();
            assert!(kids <= MAX_REVOKED_KIDS && jtis <= MAX_REVOKED_JTIS);
            // Oracle: serde_json's own reading of the same document.
            let v: Value = serde_json::from_slice(data).expect("an accepted list is JSON");
            if let Some(ks) = v.get("revoked_kids").and_then(Value::as_array) {
                for k in ks {
                    let k = k.as_str().expect("accepted kids are strings");
                    assert!(!k.is_empty() && k.len() <= MAX_ENTRY_LEN);
                    assert!(l.kid_revoked(k), "a listed kid is not revoked");
                }
            }
            if let Some(js) = v.get("revoked_jtis").and_then(Value::as_array) {
                for j in js {
                    let id = j.get("jti").and_then(Value::as_str).expect("accepted jti entries have a string jti");
                    let exp = j.get("exp").and_then(Value::as_f64).expect("accepted jti entries have a numeric exp");
                    if exp > (NOW + 86_400) as f64 {
                        assert!(l.jti_revoked(id), "a live listed jti is not revoked");
                    }
                }
            }
            assert!(!l.kid_revoked(""), "the empty kid is never revoked");
            assert!(!l.jti_revoked(""), "the empty jti is never revoked");
        }
    }
});
