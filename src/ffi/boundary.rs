//! The boundary: every `extern "C"` body runs inside [`ffi_boundary`], which turns a panic into
//! `OIDC_RESULT_PANIC`, and an error into its code plus an `oidc_error` for `err_out`.

use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::error::{FfiError, oidc_error, oidc_result};
use crate::core::args;

/// Run `body`; on failure write an owned error to `err_out` (when non-NULL) and return its code.
/// `realm` is used for the error's `WWW-Authenticate` value.
pub fn ffi_boundary<F>(err_out: *mut *mut oidc_error, realm: Option<&str>, body: F) -> oidc_result
where
    F: FnOnce() -> Result<(), FfiError>,
{
    let outcome = catch_unwind(AssertUnwindSafe(body));
    let e = match outcome {
        Ok(Ok(())) => return oidc_result::Ok,
        Ok(Err(e)) => e,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            FfiError::new(oidc_result::Panic, format!("internal panic caught at the C boundary: {what}"))
        }
    };
    let code = e.code;
    if !err_out.is_null() {
        // Building the error object must not unwind either.
        if let Ok(obj) = catch_unwind(AssertUnwindSafe(|| Box::new(oidc_error::from_ffi(e, realm)))) {
            // SAFETY: err_out is non-NULL and, per the API contract, points to writable storage.
            unsafe { *err_out = Box::into_raw(obj) };
        }
    }
    code
}

/// Run `body` for a function without a result code: a panic yields `fallback`.
pub fn ffi_guard<T, F: FnOnce() -> T>(fallback: T, body: F) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn null(name: &str) -> FfiError {
    FfiError::new(oidc_result::NullParameter, format!("{name} is NULL"))
}

/// Borrow `*p`, or fail with `NULL_PARAMETER`.
///
/// # Safety
/// `p` is NULL or points to a live `T` for `'a`.
pub unsafe fn try_ref<'a, T>(p: *const T, name: &str) -> Result<&'a T, FfiError> {
    // SAFETY: forwarded to the caller.
    unsafe { p.as_ref() }.ok_or_else(|| null(name))
}

/// Mutably borrow `*p`, or fail with `NULL_PARAMETER`.
///
/// # Safety
/// `p` is NULL or points to a live, unaliased `T` for `'a`.
pub unsafe fn try_mut<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, FfiError> {
    // SAFETY: forwarded to the caller.
    unsafe { p.as_mut() }.ok_or_else(|| null(name))
}

/// Fail with `NULL_PARAMETER` when an out-pointer is NULL.
pub fn check_out<T>(p: *mut T, name: &str) -> Result<(), FfiError> {
    if p.is_null() { Err(null(name)) } else { Ok(()) }
}

/// Largest string argument accepted (tokens, JSON documents, URLs).
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Borrow `len` bytes at `p` as UTF-8. `len == 0` accepts NULL. Need not be NUL-terminated.
///
/// # Safety
/// If `len > 0`, `p` is NULL or points to `len` readable bytes that stay valid for `'a`.
pub unsafe fn try_utf8<'a>(p: *const c_char, len: usize, name: &str) -> Result<&'a str, FfiError> {
    if len == 0 {
        return Ok("");
    }
    if p.is_null() {
        return Err(null(name));
    }
    if len > MAX_INPUT_BYTES {
        return Err(FfiError::new(oidc_result::InvalidArgument, format!("{name} is longer than 16 MiB")));
    }
    // SAFETY: p is non-NULL and the caller guarantees len readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    std::str::from_utf8(bytes).map_err(|_| FfiError::new(oidc_result::InvalidUtf8, format!("{name} is not valid UTF-8")))
}

/// Optional string argument (`len == 0`: absent, NULL allowed), by the core's one rule for empty
/// strings ([`crate::core::args`]).
///
/// # Safety
/// As [`try_utf8`].
pub unsafe fn try_opt_utf8<'a>(p: *const c_char, len: usize, name: &str) -> Result<Option<&'a str>, FfiError> {
    // SAFETY: forwarded to the caller.
    Ok(args::optional(unsafe { try_utf8(p, len, name) }?))
}

/// Required string argument: empty is `OIDC_RESULT_INVALID_ARGUMENT` ("`name` is empty"), by the
/// core's one rule for empty strings ([`crate::core::args`]).
///
/// # Safety
/// As [`try_utf8`].
pub unsafe fn try_required_utf8<'a>(p: *const c_char, len: usize, name: &str) -> Result<&'a str, FfiError> {
    // SAFETY: forwarded to the caller.
    Ok(args::required(unsafe { try_utf8(p, len, name) }?, name)?)
}

// ---- C strings we hand out: the one rule for NUL bytes -------------------------------------
//
// A Rust string may contain NUL (a server can send "\u0000" inside a JSON string); a C string
// cannot. Two kinds of output, two helpers, nothing else builds a CString for the caller:
//
// - VALUES the caller acts on (tokens, secrets, codes, state, nonces, URLs, JSON documents,
//   claims, header values): `c_value`. Exact or an error (`OIDC_RESULT_INTERNAL`, "output
//   contains a NUL byte"), never altered: a token with a byte dropped is another token, and a
//   truncated one could validate or be sent where the whole one would not. Fail closed.
// - DIAGNOSTIC TEXT a human reads (error messages, the details JSON, a decision's message):
//   `c_text`. Every NUL becomes a space; it never fails, so an error can always be reported.

/// A value for the caller as a C string: exact, or `OIDC_RESULT_INTERNAL` when it contains a NUL
/// byte (never stripped or truncated). Takes a `String` without copying.
pub fn c_value(s: impl Into<Vec<u8>>) -> Result<CString, FfiError> {
    CString::new(s).map_err(|_| FfiError::new(oidc_result::Internal, "output contains a NUL byte"))
}

/// Diagnostic text for the caller as a C string: each NUL byte becomes a space. Never fails.
pub fn c_text(s: impl Into<Vec<u8>>) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let mut v = e.into_vec();
        for b in v.iter_mut().filter(|b| **b == 0) {
            *b = b' ';
        }
        // No NUL is left, so this cannot fail.
        CString::new(v).unwrap_or_default()
    })
}

/// Hand `s` to the caller as an owned NUL-terminated string (free with `oidc_string_free`),
/// writing its length (without the NUL) to `len_out` when that is non-NULL.
pub fn write_owned_string(out: *mut *mut c_char, len_out: *mut usize, s: String) -> Result<(), FfiError> {
    check_out(out, "output pointer")?;
    let len = s.len();
    let c = c_value(s)?;
    // SAFETY: out is non-NULL (checked) and points to writable storage per the API contract.
    unsafe {
        *out = c.into_raw();
        if !len_out.is_null() {
            *len_out = len;
        }
    }
    Ok(())
}

/// Free a handle handed out with [`write_box`]. NULL is accepted; a panic in a destructor is
/// contained (the `_free` functions return nothing).
///
/// # Safety
/// `p` is NULL or came from `write_box`/`Box::into_raw` for this `T`, and is not used again.
pub unsafe fn free_box<T>(p: *mut T) {
    ffi_guard((), || {
        if !p.is_null() {
            // SAFETY: forwarded to the caller.
            drop(unsafe { Box::from_raw(p) });
        }
    })
}

/// Hand a boxed value to the caller through `out`.
pub fn write_box<T>(out: *mut *mut T, v: T) -> Result<(), FfiError> {
    check_out(out, "output pointer")?;
    // SAFETY: out is non-NULL and writable per the API contract.
    unsafe { *out = Box::into_raw(Box::new(v)) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_exact_or_an_error() {
        assert_eq!(c_value("eyJ.a.b").unwrap().as_bytes(), b"eyJ.a.b");
        assert_eq!(c_value(String::new()).unwrap().as_bytes(), b"");
        // A NUL inside a value is never stripped or truncated: the call fails.
        let e = c_value("tok\0en").unwrap_err();
        assert_eq!(e.code, oidc_result::Internal);
        assert!(c_value(String::from("\0")).is_err());
    }

    #[test]
    fn text_never_fails_and_keeps_its_length() {
        assert_eq!(c_text("bad \0 byte\0").as_bytes(), b"bad   byte ");
        assert_eq!(c_text(String::from("plain")).as_bytes(), b"plain");
    }

    #[test]
    fn empty_string_arguments() {
        // SAFETY: len 0 never reads p.
        unsafe {
            assert_eq!(try_opt_utf8(std::ptr::null(), 0, "nonce").unwrap(), None);
            assert_eq!(try_opt_utf8(c"abc".as_ptr(), 3, "nonce").unwrap(), Some("abc"));
            let e = try_required_utf8(std::ptr::null(), 0, "code").unwrap_err();
            assert_eq!(e.code, oidc_result::InvalidArgument);
            assert_eq!(try_required_utf8(c"abc".as_ptr(), 2, "code").unwrap(), "ab");
            assert_eq!(try_opt_utf8(std::ptr::null(), 1, "nonce").unwrap_err().code, oidc_result::NullParameter);
        }
    }
}
