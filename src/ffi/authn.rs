//! Request authentication over the C ABI: an `oidc_http_request` filled by the host, one
//! blocking and one non-blocking call, and an `oidc_decision` read by getters.

use std::borrow::Cow;
use std::ffi::{CStr, CString, c_char, c_void};

use super::boundary::{c_text, c_value, check_out, ffi_boundary, ffi_guard, free_box, try_mut, try_ref, try_utf8, write_box};
use super::error::{FfiError, code_for, oidc_error, oidc_result};
use super::pool::{UserData, submit};
use super::validator::{oidc_validator, oidc_validator_builder, with_builder};
use crate::core::authn::{Decision, RequestInput};
use crate::core::config::{DpopMode, NonceSecret, ReplayStore};

/// The parts of an incoming HTTP request that request authentication reads. Filled by the host
/// (`oidc_http_request_*` setters), read by `oidc_authenticate`; reusable (clear with
/// `oidc_http_request_reset`). Not thread safe: one thread at a time.
pub struct oidc_http_request {
    input: RequestInput,
}

/// The decision about one request: allowed (with the principal's claims and token type) or
/// denied (with the precise code, the HTTP status, the RFC 6750 / RFC 9449 error, the
/// `WWW-Authenticate` values and possibly a `DPoP-Nonce`). Immutable: its getters may be called
/// from any thread. Owned by the caller (free with `oidc_decision_free`), except in a callback,
/// where it is borrowed.
pub struct oidc_decision {
    allowed: bool,
    code: oidc_result,
    status: u32,
    error: Option<CString>,
    message: Cow<'static, CStr>,
    claims: Option<CString>,
    token_type: Option<&'static std::ffi::CStr>,
    challenges: Vec<CString>,
    nonce: Option<CString>,
}

impl oidc_decision {
    /// Claims, challenges and the nonce are values (`c_value`: exact or INTERNAL); the message is
    /// text (`c_text`).
    fn from_core(d: Decision) -> Result<oidc_decision, FfiError> {
        let challenges = d.challenges.into_iter().map(c_value).collect::<Result<_, _>>()?;
        let nonce = d.dpop_nonce.map(c_value).transpose()?;
        Ok(match d.outcome {
            Ok(p) => oidc_decision {
                allowed: true,
                code: oidc_result::Ok,
                status: 200,
                error: None,
                message: Cow::Borrowed(c"allowed"),
                claims: Some(c_value(p.claims)?),
                token_type: Some(match p.token_type {
                    crate::core::authn::Scheme::Bearer => c"Bearer",
                    crate::core::authn::Scheme::DPoP => c"DPoP",
                }),
                challenges,
                nonce,
            },
            Err(e) => oidc_decision {
                allowed: false,
                code: code_for(e.kind()),
                status: d.status as u32,
                error: e.kind().resource_error().map(c_value).transpose()?,
                message: Cow::Owned(c_text(e.message())),
                claims: None,
                token_type: None,
                challenges,
                nonce,
            },
        })
    }
}

/// Create an empty request description.
/// # Ownership: on OK `*out` is caller-owned, free with `oidc_http_request_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_http_request_new(out: *mut *mut oidc_http_request, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || write_box(out, oidc_http_request { input: RequestInput::default() }))
}

/// Free a request description. NULL is accepted.
/// # Ownership: consumes `request`.
/// # Thread safety: not concurrently with any other use of `request`.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_http_request_free(request: *mut oidc_http_request) {
    // SAFETY: request came from oidc_http_request_new (API contract).
    unsafe { free_box(request) }
}

/// Clear every field, so the object can describe the next request.
/// # Ownership: `request` borrowed.
/// # Thread safety: not concurrently on one request.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_http_request_reset(request: *mut oidc_http_request) {
    ffi_guard((), || {
        // SAFETY: request is NULL or live and used by one thread (API contract).
        if let Some(r) = unsafe { request.as_mut() } {
            r.input = RequestInput::default();
        }
    })
}

fn with_request(
    request: *mut oidc_http_request,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&mut RequestInput) -> Result<(), FfiError>,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: request is NULL or a live request used by one thread (API contract).
        let r = unsafe { try_mut(request, "request") }?;
        f(&mut r.input)
    })
}

/// Bytes a host passes through untouched (header values): NULL with a length is a misuse;
/// anything else (even invalid UTF-8) is the request's to be judged.
fn raw_bytes<'a>(p: *const u8, len: usize, name: &str) -> Result<&'a [u8], FfiError> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(FfiError::new(oidc_result::NullParameter, format!("{name} is NULL")));
    }
    if len > super::boundary::MAX_INPUT_BYTES {
        return Err(FfiError::new(oidc_result::InvalidArgument, format!("{name} is longer than 16 MiB")));
    }
    // SAFETY: p is non-NULL and points to len readable bytes for this call (API contract).
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Most values kept per header name (more than one is already a denial).
const MAX_HEADER_VALUES: usize = 8;

/// Add one received header line. `name` is `Authorization` or `DPoP` (any case; other names are
/// `OIDC_RESULT_INVALID_ARGUMENT`: pass only these two). `value` is the field value exactly as
/// received (bytes; need not be UTF-8: malformed values are the request's fault and are judged
/// by `oidc_authenticate`). Add a header once per line received: several `Authorization` lines
/// are a malformed request (400).
/// # Ownership: `request` borrowed; `name` and `value` copied.
/// # Thread safety: not concurrently on one request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_http_request_add_header(
    request: *mut oidc_http_request,
    name: *const c_char,
    name_len: usize,
    value: *const u8,
    value_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_request(request, err_out, |r| {
        // SAFETY: name points to name_len readable bytes (API contract).
        let name = unsafe { try_utf8(name, name_len, "name") }?;
        let value = raw_bytes(value, value_len, "value")?;
        let list = if name.eq_ignore_ascii_case("authorization") {
            &mut r.authorization
        } else if name.eq_ignore_ascii_case("dpop") {
            &mut r.dpop
        } else {
            return Err(FfiError::new(
                oidc_result::InvalidArgument,
                "only the Authorization and DPoP headers are read; pass no other header",
            ));
        };
        if list.len() < MAX_HEADER_VALUES {
            list.push(value.to_vec());
        } else {
            list.push(Vec::new()); // keep the count growing past the bound without the bytes
            list.truncate(MAX_HEADER_VALUES + 1);
        }
        Ok(())
    })
}

/// Set the request method (`GET`, `POST`, ... exactly as received; required).
/// # Ownership: `request` borrowed; `method` copied.
/// # Thread safety: not concurrently on one request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_http_request_set_method(
    request: *mut oidc_http_request,
    method: *const c_char,
    method_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_request(request, err_out, |r| {
        // SAFETY: method points to method_len readable bytes (API contract).
        r.method = unsafe { try_utf8(method, method_len, "method") }?.to_string();
        Ok(())
    })
}

/// Set the absolute URL the client addressed (`https://api.example.com/v1/items?x=1`; required):
/// the scheme and host the client used (behind a proxy: the public ones), the path and query.
/// DPoP proofs are checked against it (`htu`).
/// # Ownership: `request` borrowed; `url` copied.
/// # Thread safety: not concurrently on one request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_http_request_set_url(
    request: *mut oidc_http_request,
    url: *const c_char,
    url_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_request(request, err_out, |r| {
        // SAFETY: url points to url_len readable bytes (API contract).
        r.url = unsafe { try_utf8(url, url_len, "url") }?.to_string();
        Ok(())
    })
}

/// Set the client certificate of the mTLS connection the request came on (DER bytes), for
/// certificate-bound tokens (RFC 8705 `cnf.x5t#S256`). Length 0 clears it.
/// # Ownership: `request` borrowed; `der` copied.
/// # Thread safety: not concurrently on one request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_http_request_set_client_cert(
    request: *mut oidc_http_request,
    der: *const u8,
    der_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_request(request, err_out, |r| {
        let der = raw_bytes(der, der_len, "der")?;
        r.client_cert_der = (!der.is_empty()).then(|| der.to_vec());
        Ok(())
    })
}

/// Decide as of `now_unix` (seconds since the epoch) instead of the clock: token times, DPoP
/// proof times and nonces (reproducible tests, replay of recorded traffic).
/// # Ownership: `request` borrowed.
/// # Thread safety: not concurrently on one request.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_http_request_set_now(request: *mut oidc_http_request, now_unix: i64, err_out: *mut *mut oidc_error) -> oidc_result {
    with_request(request, err_out, |r| {
        r.now = Some(now_unix as f64);
        Ok(())
    })
}

fn read_request<'a>(
    client: *const oidc_validator,
    request: *const oidc_http_request,
) -> Result<(&'a oidc_validator, &'a RequestInput), FfiError> {
    // SAFETY: client and request are NULL or live for the duration of the call (API contract).
    let c = unsafe { try_ref(client, "client") }?;
    // SAFETY: as above.
    let r = unsafe { try_ref(request, "request") }?;
    Ok((c, &r.input))
}

/// Authenticate one request: the `Authorization` header (RFC 6750 §2.1), for the DPoP scheme the
/// proof (RFC 9449 §4.3) and server nonce, the access token (the client's validation policy,
/// through its verified-token cache), the token's binding (`cnf.jkt`, `cnf.x5t#S256`), the
/// required scopes and claim values, and the proof's replay check.
/// Returns OK when a decision was made, allowed or denied: read it from `*decision_out`
/// (`oidc_decision_allowed`, `_code`, `_http_status`, `_challenge`, ...). Any other code is a
/// misuse by the host (NULL argument, missing method, URL not absolute http(s)) and no decision
/// is written.
/// # Ownership: `client` and `request` borrowed; on OK `*decision_out` is caller-owned, free
///   with `oidc_decision_free`; on failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: concurrently on one client from any number of threads (each with its own
///   request object, or one shared request object that nobody modifies meanwhile).
/// # Blocking: as `oidc_validate` (only when keys are not cached), plus the host's replay store
///   callback when one is set.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_authenticate(
    client: *const oidc_validator,
    request: *const oidc_http_request,
    decision_out: *mut *mut oidc_decision,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        let (c, input) = read_request(client, request)?;
        check_out(decision_out, "decision_out")?;
        let d = c.client.authenticate(input)?;
        write_box(decision_out, oidc_decision::from_core(d)?)
    })
}

/// Completion of `oidc_authenticate_async`: `result` OK with `decision` (borrowed for the
/// duration of the callback: read what you need, never free it) and `err` NULL; or a failure code
/// (`OIDC_RESULT_CANCELLED`, `OIDC_RESULT_DEADLINE_EXCEEDED`, a misuse) with `decision` NULL
/// and `err` borrowed.
pub type oidc_decision_cb =
    Option<extern "C" fn(user_data: *mut c_void, result: oidc_result, decision: *const oidc_decision, err: *const oidc_error)>;

/// Authenticate one request without blocking: the same decision as `oidc_authenticate`,
/// delivered to `cb` on a liboidc worker thread. The request is copied: it may be reset, reused
/// or freed as soon as this returns. `cancel` (may be NULL) as for `oidc_validate_async`.
/// Returns OK when the call was accepted: then `cb` runs exactly once, never inside this call.
/// On any other return `cb` is never called.
/// # Ownership: `client`, `request` and `cancel` borrowed for this call only; `user_data` must
///   stay valid until `cb` ran; on failure `*err_out` is caller-owned.
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any worker thread.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_authenticate_async(
    client: *const oidc_validator,
    request: *const oidc_http_request,
    cb: oidc_decision_cb,
    user_data: *mut c_void,
    cancel: *const super::cancel::oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        let (c, input) = read_request(client, request)?;
        let cb = cb.ok_or_else(|| FfiError::new(oidc_result::NullParameter, "callback is NULL"))?;
        // Misuse (no method, no absolute URL) is answered here, not through the callback.
        input.check()?;
        let ud = UserData(user_data);
        let input = input.clone();
        let core = c.client.clone();
        let realm = core.config().realm.clone();
        submit(
            super::cancel::cancel_owned(cancel).as_ref(),
            realm,
            move || oidc_decision::from_core(core.authenticate(&input)?),
            move |rc, d: Option<&oidc_decision>, err: Option<&oidc_error>| {
                let ud = ud;
                let dp = d.map(|d| d as *const oidc_decision).unwrap_or(std::ptr::null());
                let ep = err.map(|e| e as *const oidc_error).unwrap_or(std::ptr::null());
                cb(ud.0, rc, dp, ep);
            },
        )
    })
}

/// Free a decision. NULL is accepted.
/// # Ownership: consumes `decision` (never one borrowed in a callback).
/// # Thread safety: not concurrently with other uses of `decision`.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_free(decision: *mut oidc_decision) {
    // SAFETY: decision came from oidc_authenticate (API contract).
    unsafe { free_box(decision) }
}

fn get<T: Copy>(d: *const oidc_decision, fallback: T, f: impl FnOnce(&oidc_decision) -> T) -> T {
    ffi_guard(fallback, || {
        // SAFETY: d is NULL or a live decision (API contract).
        match unsafe { d.as_ref() } {
            Some(d) => f(d),
            None => fallback,
        }
    })
}

/// A borrowed string getter: NULL (and `*len_out` = 0) for a NULL decision or an absent value.
fn get_str(d: *const oidc_decision, len_out: *mut usize, f: impl FnOnce(&oidc_decision) -> Option<&CStr>) -> *const c_char {
    ffi_guard(std::ptr::null(), || {
        // SAFETY: d is NULL or a live decision (API contract).
        out_str(unsafe { d.as_ref() }.and_then(f), len_out)
    })
}

fn out_str(s: Option<&CStr>, len_out: *mut usize) -> *const c_char {
    let (p, n) = s.map(|c| (c.as_ptr(), c.to_bytes().len())).unwrap_or((std::ptr::null(), 0));
    if !len_out.is_null() {
        // SAFETY: len_out is non-NULL and writable (API contract).
        unsafe { *len_out = n };
    }
    p
}

/// 1 when the request is allowed, 0 when denied (or `decision` is NULL).
/// # Ownership: `decision` borrowed.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_allowed(decision: *const oidc_decision) -> u32 {
    get(decision, 0, |d| d.allowed as u32)
}

/// `OIDC_RESULT_OK` when allowed; the precise reason of a denial otherwise (`OIDC_RESULT_TOKEN_MISSING`,
/// `OIDC_RESULT_REQUEST_MALFORMED`, `OIDC_RESULT_TOKEN_EXPIRED`, `OIDC_RESULT_DPOP_REPLAY`,
/// `OIDC_RESULT_INSUFFICIENT_SCOPE`, ...). `OIDC_RESULT_NULL_PARAMETER` for a NULL decision.
/// # Ownership: `decision` borrowed.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_code(decision: *const oidc_decision) -> oidc_result {
    get(decision, oidc_result::NullParameter, |d| d.code)
}

/// The HTTP status to answer with: 200 when allowed; 400, 401, 403, 503 (keys or replay store
/// unavailable: retry later) or 500 when denied. 0 for a NULL decision.
/// # Ownership: `decision` borrowed.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_http_status(decision: *const oidc_decision) -> u32 {
    get(decision, 0, |d| d.status)
}

/// The RFC 6750 / RFC 9449 error code of a denial (`invalid_request`, `invalid_token`,
/// `insufficient_scope`, `invalid_dpop_proof`, `use_dpop_nonce`), or NULL (allowed, no token, a
/// server-side failure). Borrowed from `decision`; `*len_out` (if non-NULL) gets its length.
/// # Ownership: `decision`, `len_out` borrowed; the returned string is borrowed from `decision`.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_error(decision: *const oidc_decision, len_out: *mut usize) -> *const c_char {
    get_str(decision, len_out, |d| d.error.as_deref())
}

/// A message for logs naming what failed (never a token's contents or a secret); "allowed" when
/// allowed. Borrowed from `decision`.
/// # Ownership: `decision`, `len_out` borrowed; the returned string is borrowed from `decision`.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_message(decision: *const oidc_decision, len_out: *mut usize) -> *const c_char {
    get_str(decision, len_out, |d| Some(&d.message))
}

/// The access token's claims (a JSON object, exactly as signed) when allowed; NULL when denied.
/// Borrowed from `decision`.
/// # Ownership: `decision`, `len_out` borrowed; the returned string is borrowed from `decision`.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_claims(decision: *const oidc_decision, len_out: *mut usize) -> *const c_char {
    get_str(decision, len_out, |d| d.claims.as_deref())
}

/// The scheme of an allowed request's token: `"Bearer"` or `"DPoP"` (static); NULL when denied.
/// # Ownership: `decision` borrowed; the returned string is borrowed from `decision`.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_token_type(decision: *const oidc_decision) -> *const c_char {
    get(decision, std::ptr::null(), |d| d.token_type.map(|s| s.as_ptr()).unwrap_or(std::ptr::null()))
}

/// How many `WWW-Authenticate` values a denial carries (one header line each; 0 when allowed
/// and for 5xx denials).
/// # Ownership: `decision` borrowed.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_challenge_count(decision: *const oidc_decision) -> usize {
    get(decision, 0, |d| d.challenges.len())
}

/// The `index`-th `WWW-Authenticate` value (`Bearer realm="api", error="invalid_token", ...`,
/// `DPoP algs="ES256 ..."`), or NULL past the end. Borrowed from `decision`.
/// # Ownership: `decision`, `len_out` borrowed; the returned string is borrowed from `decision`.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_challenge(decision: *const oidc_decision, index: usize, len_out: *mut usize) -> *const c_char {
    get_str(decision, len_out, |d| d.challenges.get(index).map(CString::as_c_str))
}

/// A `DPoP-Nonce` header value to send with the response (server nonces configured and the
/// request had no current nonce), or NULL. Borrowed from `decision`.
/// # Ownership: `decision`, `len_out` borrowed; the returned string is borrowed from `decision`.
/// # Thread safety: any thread. # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_decision_dpop_nonce(decision: *const oidc_decision, len_out: *mut usize) -> *const c_char {
    get_str(decision, len_out, |d| d.nonce.as_deref())
}

// ---- builder: the resource's rules ----

/// Require `scope` (a scope-token) in every authenticated request's token (`scope` string or
/// array, or `scp`); call once per scope. A token lacking one is denied 403 `insufficient_scope`
/// with the missing scopes in the challenge.
/// # Ownership: `builder` borrowed; `scope` copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_add_required_scope(
    builder: *mut oidc_validator_builder,
    scope: *const c_char,
    scope_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        // SAFETY: scope points to scope_len readable bytes (API contract).
        let s = unsafe { try_utf8(scope, scope_len, "scope") }?;
        cfg.add_required_scope(s).map_err(Into::into)
    })
}

/// Allow `value` for claim `claim` (calls with the same claim build an allow-list): an
/// authenticated request's token must hold one allowed value (a string claim, or an array with
/// one of them), else it is denied 403 (`OIDC_RESULT_CLAIM_NOT_ALLOWED`). E.g. `client_id`.
/// # Ownership: `builder` borrowed; strings copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_add_allowed_claim_value(
    builder: *mut oidc_validator_builder,
    claim: *const c_char,
    claim_len: usize,
    value: *const c_char,
    value_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        // SAFETY: both point to their lengths' readable bytes (API contract).
        let (c, v) = unsafe { (try_utf8(claim, claim_len, "claim")?, try_utf8(value, value_len, "value")?) };
        cfg.add_claim_value(c, v).map_err(Into::into)
    })
}

/// DPoP (RFC 9449) at this resource: `OIDC_DPOP_MODE_ALLOWED` (default: Bearer for unbound tokens,
/// DPoP for bound ones), `OIDC_DPOP_MODE_REQUIRED` (DPoP-bound tokens only), `OIDC_DPOP_MODE_DISABLED`
/// (Bearer only). Other values: `OIDC_RESULT_INVALID_ARGUMENT`.
/// # Ownership: `builder` borrowed.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_dpop_mode(
    builder: *mut oidc_validator_builder,
    mode: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        cfg.resource.dpop.mode = DpopMode::from_u32(mode)?;
        Ok(())
    })
}

/// DPoP at a resource (`oidc_validator_builder_set_dpop_mode`; passed as a `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oidc_dpop_mode {
    /// Both schemes: Bearer for unbound tokens, DPoP for DPoP-bound ones (the default).
    Allowed = 0,
    /// DPoP-bound tokens with proofs only.
    Required = 1,
    /// Bearer only; the DPoP scheme is not offered.
    Disabled = 2,
}

/// The DPoP proof algorithms accepted (comma-separated JOSE names, e.g. `"ES256,EdDSA"`; default
/// ES256, ES384, ES512, EdDSA, RS256, PS256); sent as the DPoP challenge's `algs`.
/// # Ownership: `builder` borrowed; `algs` copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_dpop_algorithms(
    builder: *mut oidc_validator_builder,
    algs: *const c_char,
    algs_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        // SAFETY: algs points to algs_len readable bytes (API contract).
        let s = unsafe { try_utf8(algs, algs_len, "algs") }?;
        cfg.set_dpop_algorithms(s.split(',')).map_err(Into::into)
    })
}

/// How old a DPoP proof may be (its `iat` at most `secs` in the past, and the leeway in the
/// future; 1 to 3600, default 60). Replay-cache entries live as long.
/// # Ownership: `builder` borrowed.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_dpop_proof_window_secs(
    builder: *mut oidc_validator_builder,
    secs: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        cfg.resource.dpop.proof_window = std::time::Duration::from_secs(secs as u64);
        Ok(())
    })
}

/// Turn on stateless DPoP server nonces (RFC 9449 §8): every proof must carry a nonce issued
/// under `secret` (16 to 1024 bytes, shared by every process of a fleet) within the last
/// `lifetime_secs` (1 to 86400, or 0 for the default of 300; the previous period's nonce is
/// still accepted). A proof without
/// one is denied `use_dpop_nonce` and the decision carries the `DPoP-Nonce` to send.
/// # Ownership: `builder` borrowed; `secret` copied (never printed).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_dpop_nonce_secret(
    builder: *mut oidc_validator_builder,
    secret: *const u8,
    secret_len: usize,
    lifetime_secs: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        let s = raw_bytes(secret, secret_len, "secret")?;
        cfg.resource.dpop.nonce_secret = Some(NonceSecret(s.to_vec()));
        cfg.resource.dpop.nonce_lifetime = match lifetime_secs {
            0 => crate::core::config::DEFAULT_DPOP_NONCE_LIFETIME,
            n => std::time::Duration::from_secs(n as u64),
        };
        Ok(())
    })
}

/// A shared DPoP replay store (for a fleet behind one load balancer): called with a key
/// (`key_len` bytes of ASCII, not NUL-terminated) and a time to live; it must atomically record
/// the key if absent (Redis: `SET key 1 NX EX ttl`) and return 1 when it was absent (first use),
/// 0 when it was present (a replay), or a negative value when the store could not answer (the
/// request is then denied 503 `OIDC_RESULT_REPLAY_STORE_UNAVAILABLE`, never allowed).
/// The process-wide replay cache is always consulted first.
pub type oidc_replay_store_cb = Option<extern "C" fn(user_data: *mut c_void, key: *const c_char, key_len: usize, ttl_secs: u64) -> i32>;

pub(crate) struct HostStore {
    cb: extern "C" fn(*mut c_void, *const c_char, usize, u64) -> i32,
    user_data: UserData,
}

impl HostStore {
    /// The host's store as the core's trait object (`None` for a NULL callback).
    pub(crate) fn boxed(cb: oidc_replay_store_cb, user_data: *mut c_void) -> Option<std::sync::Arc<dyn ReplayStore>> {
        cb.map(|cb| std::sync::Arc::new(HostStore { cb, user_data: UserData(user_data) }) as std::sync::Arc<dyn ReplayStore>)
    }
}

// SAFETY: the host promised (oidc_validator_builder_set_dpop_replay_store,
// oidc_oauth_builder_set_replay_store) that the callback may be called with user_data from any
// thread, concurrently.
unsafe impl Sync for HostStore {}

impl ReplayStore for HostStore {
    fn check_and_record(&self, key: &str, ttl_secs: u64) -> Result<bool, ()> {
        match (self.cb)(self.user_data.0, key.as_ptr().cast(), key.len(), ttl_secs) {
            1 => Ok(true),
            0 => Ok(false),
            _ => Err(()),
        }
    }
}

/// Set (or, with a NULL `cb`, clear) the shared DPoP replay store. `cb` is called from any
/// thread, concurrently, during `oidc_authenticate`; `user_data` must stay valid as long as any
/// client built from this builder lives. The callback must not call liboidc.
/// # Ownership: `builder` borrowed; `user_data` kept, never freed by liboidc.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_dpop_replay_store(
    builder: *mut oidc_validator_builder,
    cb: oidc_replay_store_cb,
    user_data: *mut c_void,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        cfg.resource.dpop.replay_store = HostStore::boxed(cb, user_data);
        Ok(())
    })
}

/// Accept only certificate-bound tokens (RFC 8705: `cnf.x5t#S256` equal to the SHA-256 of the
/// request's client certificate). Certificate-bound tokens are always checked against the
/// certificate; this refuses unbound ones too. `require` is 0 or 1.
/// # Ownership: `builder` borrowed.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_require_mtls(
    builder: *mut oidc_validator_builder,
    require: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        cfg.resource.require_mtls = match require {
            0 => false,
            1 => true,
            _ => return Err(FfiError::new(oidc_result::InvalidArgument, "require must be 0 or 1")),
        };
        Ok(())
    })
}

/// Size of the verified-token cache (entries; 0 turns it off; default 4096, at most 1048576): a
/// token seen before skips the signature check (its time claims are still checked against now,
/// and its key must still be in the issuer's key set).
/// # Ownership: `builder` borrowed.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_token_cache_size(
    builder: *mut oidc_validator_builder,
    entries: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        cfg.token_cache_size = entries;
        Ok(())
    })
}

/// Explain mode for a request: every rule of `oidc_authenticate` with its outcome as a JSON
/// document (credentials, the DPoP proof and nonce, the token's own explanation as in
/// `oidc_validate_explain`, the binding, each required scope, each claim-value rule), not only
/// the first failure. No side effect: the proof's `jti` is not recorded. It holds no secret
/// (never the token or proof text). A request that would be denied still returns OK here, with
/// `"decision": "deny"` in the document; only a misuse (no method or URL set) fails.
/// # Ownership: `client` and `request` borrowed; on OK `*json_out` is caller-owned
///   (`oidc_string_free`), `*json_len_out` (if non-NULL) its length.
/// # Thread safety: any thread, concurrently on one client; not concurrently with a change of
///   the same `request`.
/// # Blocking: as `oidc_authenticate` (may fetch keys when they are not cached).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_authenticate_explain(
    client: *const oidc_validator,
    request: *const oidc_http_request,
    json_out: *mut *mut c_char,
    json_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        let (c, input) = read_request(client, request)?;
        check_out(json_out, "json_out")?;
        let doc = c.client.explain_request(input)?;
        super::boundary::write_owned_string(json_out, json_len_out, doc)
    })
}
