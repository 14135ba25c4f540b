//! Token validation through the C ABI (`oidc_validate_at`) against a static key set, with a
//! forgery oracle: every token liboidc accepts must verify under a key of the set (checked
//! here with aws-lc-rs directly) and satisfy the configured policy, and the claims handed out
//! must be the signed payload. The input is the token bytes; two clients with different
//! policies see each one.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use oidc::ffi::misc::{oidc_error_free, oidc_string_free};
use oidc::ffi::validator::oidc_validate_at;
use oidc::ffi::{oidc_error, oidc_result};
use oidc_fuzz::{CClient, NOW, OraclePolicy, POLICY_A, POLICY_B, assert_rightly_accepted, build_c_client};

static CLIENTS: LazyLock<[(CClient, OraclePolicy); 2]> =
    LazyLock::new(|| [(build_c_client(&POLICY_A), POLICY_A), (build_c_client(&POLICY_B), POLICY_B)]);

fuzz_target!(|data: &[u8]| {
    for (client, policy) in CLIENTS.iter() {
        let mut claims: *mut std::ffi::c_char = std::ptr::null_mut();
        let mut len = 0usize;
        let mut err: *mut oidc_error = std::ptr::null_mut();
        let rc = oidc_validate_at(client.0, data.as_ptr().cast(), data.len(), NOW, &mut claims, &mut len, &mut err);
        assert_ne!(rc, oidc_result::Panic, "oidc_validate_at panicked");
        if rc == oidc_result::Ok {
            assert!(err.is_null());
            // SAFETY: on OK, claims points to len bytes owned by us until oidc_string_free.
            let out = unsafe { std::slice::from_raw_parts(claims.cast::<u8>(), len) };
            let token = std::str::from_utf8(data).expect("an accepted token is UTF-8");
            assert_rightly_accepted(token, policy, NOW as f64, Some(out));
            oidc_string_free(claims);
        } else {
            assert!(claims.is_null(), "claims written on failure");
            assert!(!err.is_null(), "no error object on failure");
            oidc_error_free(err);
        }
    }
});
