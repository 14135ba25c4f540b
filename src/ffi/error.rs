//! Result codes and the per-call error object.

use std::ffi::{CStr, CString, c_char};

use super::boundary::c_text;
use crate::core::Error;

// The codes themselves (enum oidc_result, names, descriptions, the ErrorKind mapping) are
// generated from codes.in into codes.rs; re-exported here, where the rest of the FFI looks for them.
pub use super::codes::{code_for, oidc_result};

/// A failure on its way out through the ABI.
#[derive(Debug)]
pub struct FfiError {
    pub code: oidc_result,
    pub message: String,
    pub core: Option<Error>,
}

impl FfiError {
    pub fn new(code: oidc_result, message: impl Into<String>) -> FfiError {
        FfiError { code, message: message.into(), core: None }
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> FfiError {
        FfiError { code: code_for(e.kind()), message: e.message().to_string(), core: Some(e) }
    }
}

/// Details of one failed call. Owned by the caller; free with `oidc_error_free`.
pub struct oidc_error {
    code: oidc_result,
    message: CString,
    www_authenticate: CString,
    details: CString,
    oauth_error: Option<&'static CStr>,
    http_status: u32,
    /// The identity provider's OAuth error, when the failure is its answer: `error`,
    /// `error_description`, `error_uri` (the last two may be absent).
    server_error: Option<[Option<CString>; 3]>,
}

impl oidc_error {
    pub fn from_ffi(e: FfiError, realm: Option<&str>) -> oidc_error {
        let (www, oauth, status) = match &e.core {
            Some(c) => (c.www_authenticate(realm), c.oauth_error().map(|_| c"invalid_token"), c.kind().http_status() as u32),
            None => ("Bearer".to_string(), None, 500),
        };
        let mut details = serde_json::json!({
            "code": e.code as u32,
            "name": e.code.name().to_str().unwrap_or(""),
            "message": e.message,
            "http_status": status,
            "oauth_error": oauth.map(|s| s.to_str().unwrap_or("")),
            "server_status": e.core.as_ref().and_then(|c| c.server_status()),
        });
        if let Some(o) = e.core.as_ref().and_then(|c| c.oauth()) {
            details["error"] = o.error.clone().into();
            details["error_description"] = o.error_description.clone().into();
            details["error_uri"] = o.error_uri.clone().into();
            details["status"] = o.status.into();
        }
        let details = details.to_string();
        let server_error = e
            .core
            .as_ref()
            .and_then(|c| c.oauth())
            .map(|o| [Some(c_text(o.error.clone())), o.error_description.clone().map(c_text), o.error_uri.clone().map(c_text)]);
        oidc_error {
            code: e.code,
            message: c_text(e.message),
            www_authenticate: c_text(www),
            details: c_text(details),
            oauth_error: oauth,
            http_status: status,
            server_error,
        }
    }
    pub fn code(&self) -> oidc_result {
        self.code
    }
    pub fn message_ptr(&self) -> *const c_char {
        self.message.as_ptr()
    }
    pub fn www_authenticate_ptr(&self) -> *const c_char {
        self.www_authenticate.as_ptr()
    }
    pub fn details_ptr(&self) -> *const c_char {
        self.details.as_ptr()
    }
    pub fn oauth_error_ptr(&self) -> *const c_char {
        self.oauth_error.map(|s| s.as_ptr()).unwrap_or(std::ptr::null())
    }
    pub fn http_status(&self) -> u32 {
        self.http_status
    }
    /// Member `i` (0 error, 1 description, 2 URI) of the server's OAuth error, or NULL.
    pub fn server_error_ptr(&self, i: usize) -> *const c_char {
        self.server_error.as_ref().and_then(|e| e.get(i)?.as_ref()).map_or(std::ptr::null(), |s| s.as_ptr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_named() {
        let mut seen = std::collections::HashSet::new();
        for c in &oidc_result::ALL {
            assert!(seen.insert(*c as u32), "duplicate {c:?}");
            assert_eq!(oidc_result::from_u32(*c as u32), Some(*c));
            assert!(!c.name().to_bytes().is_empty());
            assert!(!c.description().to_bytes().is_empty());
        }
        assert_eq!(oidc_result::ALL.len(), 82);
        assert!(oidc_result::ALL.windows(2).all(|w| (w[0] as u32) < (w[1] as u32)));
        // 4 was never assigned; 508 and 509 were DEADLINE_EXCEEDED and CANCELLED before ABI 0.2.
        assert_eq!(oidc_result::from_u32(4), None);
        assert_eq!(oidc_result::from_u32(508), None);
        assert_eq!(oidc_result::from_u32(509), None);
        assert_eq!(oidc_result::DeadlineExceeded as u32, 8);
        assert_eq!(oidc_result::Cancelled as u32, 9);
        assert_eq!(oidc_result::from_u32(999), None);
    }
}
