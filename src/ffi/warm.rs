//! Warm start: key-cache snapshots (export / import as JSON).

use std::ffi::c_char;

use super::boundary::{ffi_boundary, try_utf8, write_owned_string};
use super::error::{oidc_error, oidc_result};
use super::validator::oidc_validator;
use crate::core::snapshot;

/// Export the key cache as a JSON snapshot: the fresh key sets (each with its absolute expiry
/// time) and the issuer metadata discovered so far, of `client` only, or of the whole process
/// when `client` is NULL. Give it to `oidc_cache_import_json` in a fresh process (serverless,
/// pre-fork workers) to start warm with zero fetches. The snapshot holds public keys and
/// metadata only: no secrets. With a snapshot key set (`oidc_snapshot_set_key`) it carries a MAC.
/// A snapshot is a trust anchor: whoever can edit it decides which keys a process accepts until
/// they expire. Keep it where you keep configuration, or authenticate it with a snapshot key.
/// # Ownership: `client` borrowed (may be NULL); on OK `*json_out` is caller-owned, free with
///   `oidc_string_free`.
/// # Thread safety: any thread, concurrently with validations.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_cache_export_json(
    client: *const oidc_validator,
    json_out: *mut *mut c_char,
    json_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live for this call (API contract).
        let c = unsafe { client.as_ref() };
        let s = snapshot::export(c.map(|c| &c.client))?;
        write_owned_string(json_out, json_len_out, s)
    })
}

/// Import a snapshot made by `oidc_cache_export_json` into the process-wide cache.
/// AN UNAUTHENTICATED SNAPSHOT MUST BE TREATED AS CONFIGURATION: its keys are trusted as if they
/// had been fetched from the issuer. With a snapshot key set (`oidc_snapshot_set_key`) only a
/// snapshot carrying a valid MAC under that key is imported (`OIDC_RESULT_INVALID_ARGUMENT`
/// otherwise). An import never replaces keys this process fetched live; imported issuer metadata
/// serves only clients with the trust it was fetched under (roots, CA files, loopback opt-in), and
/// is ignored (the issuer rediscovered) when its `jwks_uri` is not on the issuer's origin.
/// Imported keys obey the rules of fetched keys: every JWKS is parsed and checked by the same parser, metadata
/// by the same discovery checks when used, and each entry expires at its absolute time,
/// clamped to the TTL maximum of `client` (or the default 86400 s when `client` is NULL); an
/// expired entry is skipped (it will be fetched as on a cold start), and an entry older than
/// what is cached does not replace it. A malformed snapshot or an invalid key set fails the
/// whole import (`OIDC_RESULT_INVALID_ARGUMENT`, `OIDC_RESULT_JWKS_INVALID`, ...) and changes
/// nothing. `*imported_out` (if non-NULL) receives the number of entries taken.
/// # Ownership: `client` (may be NULL) and `json` borrowed.
/// # Thread safety: any thread, concurrently with validations.
/// # Blocking: no (parses keys).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_cache_import_json(
    client: *const oidc_validator,
    json: *const c_char,
    json_len: usize,
    imported_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: json points to json_len readable bytes (API contract).
        let doc = unsafe { try_utf8(json, json_len, "json") }?;
        // SAFETY: client is NULL or live for this call (API contract).
        let c = unsafe { client.as_ref() };
        let r = snapshot::import_for(doc, c.map(|c| &c.client))?;
        if !imported_out.is_null() {
            // SAFETY: non-NULL and writable per the API contract.
            unsafe { *imported_out = r.imported };
        }
        Ok(())
    })
}

/// Set the key that authenticates snapshots (HMAC-SHA256; 16 to 1024 bytes; `key_len` 0 clears
/// it): `oidc_cache_export_json` then adds a MAC over the exact text it writes, and
/// `oidc_cache_import_json` refuses a snapshot without a valid one (carry the text verbatim: a
/// re-serialized snapshot no longer verifies). Every process of a fleet sets the same key (e.g. from its secret store).
/// Process-wide.
/// # Ownership: `key` copied (never printed).
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_snapshot_set_key(key: *const u8, key_len: usize, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || {
        if key_len == 0 {
            return snapshot::set_key(None).map_err(Into::into);
        }
        if key.is_null() {
            return Err(super::error::FfiError::new(oidc_result::NullParameter, "key is NULL"));
        }
        // SAFETY: key is non-NULL and points to key_len readable bytes (API contract).
        let k = unsafe { std::slice::from_raw_parts(key, key_len.min(4096)) };
        if key_len > 4096 {
            return Err(super::error::FfiError::new(oidc_result::InvalidArgument, "the snapshot key must be 16 to 1024 bytes"));
        }
        snapshot::set_key(Some(k)).map_err(Into::into)
    })
}
