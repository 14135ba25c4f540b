//! Shared by tests/request_vectors_core.rs and tests/request_vectors_abi.rs: reading
//! tests/vectors/requests.json and comparing a decision with a case's "expect".
#![allow(dead_code)]

use base64::Engine;
use serde_json::{Value, json};

pub fn vectors() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/requests.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("tests/vectors/requests.json")).expect("JSON")
}

pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "hex of odd length");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

pub fn cert(req: &Value) -> Option<Vec<u8>> {
    req["client_cert_b64"].as_str().map(|c| base64::engine::general_purpose::STANDARD.decode(c).expect("std base64"))
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|s| s.as_str().expect("string").to_string()).collect()
}

/// A decision as seen through one API, in the vectors' terms.
#[derive(Debug)]
pub struct Seen {
    pub allowed: bool,
    pub code: u32,
    pub code_name: String,
    pub status: u32,
    pub error: Option<String>,
    pub challenges: Vec<String>,
    pub dpop_nonce: Option<String>,
    pub token_type: Option<String>,
    pub claims: Option<String>,
}

impl Seen {
    fn as_expect(&self) -> Value {
        let sub = self.claims.as_deref().map(|c| serde_json::from_str::<Value>(c).expect("claims are JSON")["sub"].clone());
        json!({
            "allowed": self.allowed, "code": self.code, "code_name": self.code_name, "status": self.status,
            "error": self.error, "challenges": self.challenges, "dpop_nonce": self.dpop_nonce,
            "token_type": self.token_type, "sub": sub.unwrap_or(Value::Null),
        })
    }
}

/// Compare every member of `expect`; returns a readable difference or None.
pub fn compare(case: &Value, seen: &Seen) -> Option<String> {
    let got = seen.as_expect();
    let want = &case["expect"];
    let want_obj = want.as_object().expect("expect is an object");
    assert_eq!(want_obj.len(), 9, "expect has the nine members of SPEC.md: {}", case["name"]);
    let diffs: Vec<String> = want_obj
        .iter()
        .filter(|(k, v)| got.get(k.as_str()) != Some(*v))
        .map(|(k, v)| format!("    {k}: want {v}, got {}", got[k.as_str()]))
        .collect();
    if seen.allowed != seen.claims.is_some() {
        return Some(format!("{}: claims present = {} but allowed = {}", case["name"], seen.claims.is_some(), seen.allowed));
    }
    (!diffs.is_empty()).then(|| format!("{} (client {}):\n{}", case["name"], case["client"], diffs.join("\n")))
}

/// Run every case in file order through `decide`; fail listing every mismatch.
pub fn run_all(v: &Value, mut decide: impl FnMut(&Value) -> Seen) {
    let cases = v["cases"].as_array().expect("cases");
    assert!(cases.len() >= 100, "the file has every rule's cases");
    let mut failures = Vec::new();
    for case in cases {
        let seen = decide(case);
        if let Some(d) = compare(case, &seen) {
            failures.push(d);
        }
    }
    assert!(failures.is_empty(), "{} of {} request vectors failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
