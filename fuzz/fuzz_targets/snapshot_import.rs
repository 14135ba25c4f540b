//! Cache-snapshot import through the C ABI (`oidc_cache_import_json`), then an export of the
//! whole process cache, which must succeed and import again. The input is the snapshot text.
//! The process cache is kept small (4 key sets) so that the export and re-import of what
//! earlier inputs left behind does not dominate the run.
#![no_main]

use oidc::ffi::misc::{oidc_error_free, oidc_string_free};
use oidc::ffi::validator::oidc_cache_set_max_entries;
use oidc::ffi::warm::{oidc_cache_export_json, oidc_cache_import_json};
use oidc::ffi::{oidc_error, oidc_result};

fn import(doc: &[u8]) -> oidc_result {
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let mut n = usize::MAX;
    let rc = oidc_cache_import_json(std::ptr::null(), doc.as_ptr().cast(), doc.len(), &mut n, &mut err);
    assert_ne!(rc, oidc_result::Panic, "oidc_cache_import_json panicked");
    if rc == oidc_result::Ok {
        assert!(err.is_null());
        assert_ne!(n, usize::MAX, "imported count not written");
    } else {
        assert!(!err.is_null(), "no error object on failure");
        oidc_error_free(err);
    }
    rc
}

libfuzzer_sys::fuzz_target!(init: { oidc_cache_set_max_entries(4) }, |data: &[u8]| {
    if import(data) != oidc_result::Ok {
        return;
    }
    let mut out: *mut std::ffi::c_char = std::ptr::null_mut();
    let mut len = 0usize;
    let mut err: *mut oidc_error = std::ptr::null_mut();
    let rc = oidc_cache_export_json(std::ptr::null(), &mut out, &mut len, &mut err);
    assert_eq!(rc, oidc_result::Ok, "export after a successful import failed");
    // SAFETY: on OK, out points to len bytes owned by us until oidc_string_free.
    let exported = unsafe { std::slice::from_raw_parts(out.cast::<u8>(), len) }.to_vec();
    oidc_string_free(out);
    assert_eq!(import(&exported), oidc_result::Ok, "a snapshot liboidc exported does not import");
});
