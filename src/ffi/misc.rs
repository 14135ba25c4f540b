//! Version, result-code names, owned strings and the error object's accessors.

use std::ffi::{CString, c_char};

use super::boundary::{ffi_guard, free_box};
use super::error::{oidc_error, oidc_result};

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0u32;
    while i < b.len() {
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

const VERSION_NUMBER: u32 = (parse_u32(env!("CARGO_PKG_VERSION_MAJOR")) << 16)
    | (parse_u32(env!("CARGO_PKG_VERSION_MINOR")) << 8)
    | parse_u32(env!("CARGO_PKG_VERSION_PATCH"));

/// The library version, e.g. "0.1.0".
/// # Ownership: static; never free.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The library version as `(major << 16) | (minor << 8) | patch`; compare with
/// `OIDC_VERSION_NUMBER` from the header you compiled against.
/// # Ownership: nothing is passed or returned by pointer.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_version_number() -> u32 {
    VERSION_NUMBER
}

/// A static English description of a result code ("token expired", ...), or "unknown result
/// code" for a value liboidc never returns.
/// # Ownership: static; never free.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_result_str(code: u32) -> *const c_char {
    let s: &'static std::ffi::CStr = match oidc_result::from_u32(code) {
        None => c"unknown result code",
        Some(c) => c.description(),
    };
    s.as_ptr()
}

/// The stable symbolic name of a result code without its prefix ("TOKEN_EXPIRED"), or NULL for a
/// value liboidc never returns. Bindings use it to keep their error tables in sync.
/// # Ownership: static; never free.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_result_name(code: u32) -> *const c_char {
    oidc_result::from_u32(code).map(|c| c.name().as_ptr()).unwrap_or(std::ptr::null())
}

/// Free a string returned by liboidc. NULL is accepted. Never pass a string from elsewhere, and
/// never free one twice.
/// # Ownership: consumes `s`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_string_free(s: *mut c_char) {
    ffi_guard((), || {
        if !s.is_null() {
            // SAFETY: s came from CString::into_raw in write_owned_string (API contract).
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

/// The error's result code (`OIDC_RESULT_NULL_PARAMETER` for NULL).
/// # Ownership: `err` borrowed.
/// # Thread safety: any thread; an error object is immutable.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_error_code(err: *const oidc_error) -> oidc_result {
    // SAFETY: err is NULL or a live error object (API contract).
    unsafe { err.as_ref() }.map(|e| e.code()).unwrap_or(oidc_result::NullParameter)
}

/// The error's message: English, never containing secrets, token claims or signatures (it may
/// name the token's key id and algorithm, and configured values such as the issuer).
/// # Ownership: borrowed from `err`, NUL-terminated, valid until `oidc_error_free(err)`.
///   Returns "" for NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_error_message(err: *const oidc_error) -> *const c_char {
    // SAFETY: as above.
    unsafe { err.as_ref() }.map(|e| e.message_ptr()).unwrap_or(c"".as_ptr())
}

/// A ready `WWW-Authenticate` header value for a resource server's 401 answer (RFC 6750), e.g.
/// `Bearer realm="api", error="invalid_token", error_description="The access token expired"`.
/// Just `Bearer` (plus realm) when the failure was not the token's fault.
/// # Ownership: borrowed from `err`, valid until `oidc_error_free(err)`. "" for NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_error_www_authenticate(err: *const oidc_error) -> *const c_char {
    // SAFETY: as above.
    unsafe { err.as_ref() }.map(|e| e.www_authenticate_ptr()).unwrap_or(c"".as_ptr())
}

/// The RFC 6750 error code ("invalid_token") when the token was at fault, else NULL.
/// # Ownership: static or borrowed from `err`; never free.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_error_oauth_error(err: *const oidc_error) -> *const c_char {
    // SAFETY: as above.
    unsafe { err.as_ref() }.map(|e| e.oauth_error_ptr()).unwrap_or(std::ptr::null())
}

/// The identity provider's OAuth error when the failed call was refused by it (a token, device,
/// CIBA, introspection, revocation, registration or PAR endpoint's error response, RFC 6749
/// §5.2; a UserInfo `WWW-Authenticate` error, RFC 6750 §3; an authorization error response):
/// `field` is `OIDC_FIELD_ERROR` ("invalid_grant", "access_denied", ...),
/// `OIDC_FIELD_ERROR_DESCRIPTION` or `OIDC_FIELD_ERROR_URI`. NULL when the failure was not such
/// an answer, the server sent no such member, `err` is NULL or `field` is another field. The
/// server's HTTP status is `status` in `oidc_error_details_json`. (`oidc_error_oauth_error` is
/// the other direction: the RFC 6750 code for the host's own caller.)
/// # Ownership: `err` borrowed; the string is borrowed from it, valid until `oidc_error_free(err)`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_error_server_error(err: *const oidc_error, field: u32) -> *const c_char {
    use crate::core::oauth::Field;
    let i = match Field::from_u32(field) {
        Some(Field::Error) => 0,
        Some(Field::ErrorDescription) => 1,
        Some(Field::ErrorUri) => 2,
        _ => return std::ptr::null(),
    };
    // SAFETY: err is NULL or live (API contract).
    unsafe { err.as_ref() }.map_or(std::ptr::null(), |e| e.server_error_ptr(i))
}

/// The HTTP status liboidc suggests the host answer ITS OWN caller with: 401 (the caller's token
/// is bad), 503 (keys or a store could not be had: retry later), 500 (anything else, including a
/// protocol call the identity provider refused: a misconfigured client is the host's fault, not
/// its caller's). It is never the identity provider's status: that one, when the failure is the
/// provider's answer (an OAuth error response, an unexpected status), is `server_status` in
/// `oidc_error_details_json` (and `status` for OAuth error responses). 0 for NULL.
/// # Ownership: `err` borrowed.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_error_http_status(err: *const oidc_error) -> u32 {
    // SAFETY: as above.
    unsafe { err.as_ref() }.map(|e| e.http_status()).unwrap_or(0)
}

/// The error as a JSON object: `{"code","name","message","http_status","oauth_error","server_status"}`
/// (`server_status`: the remote server's HTTP status when the failure is its answer, else null).
/// # Ownership: borrowed from `err`, valid until `oidc_error_free(err)`. "" for NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_error_details_json(err: *const oidc_error) -> *const c_char {
    // SAFETY: as above.
    unsafe { err.as_ref() }.map(|e| e.details_ptr()).unwrap_or(c"".as_ptr())
}

/// Free an error object. NULL is accepted.
/// # Ownership: consumes `err`.
/// # Thread safety: any thread, once.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_error_free(err: *mut oidc_error) {
    // SAFETY: err came from Box::into_raw in ffi_boundary (API contract).
    unsafe { free_box(err) }
}
