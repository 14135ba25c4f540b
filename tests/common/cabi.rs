//! The non-blocking C ABI seen from a test: batches of calls whose callbacks record how often
//! and with what they ran (exactly-once checks), and clients built through the builder.

use std::ffi::{CStr, c_char, c_void};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Idp;
use oidc::ffi::cancel::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::grants::{oidc_device_authorization, oidc_oauth_device_authorization};
use oidc::ffi::misc::{oidc_error_code, oidc_error_details_json, oidc_error_http_status, oidc_error_message, oidc_error_oauth_error};
use oidc::ffi::oauth::*;
use oidc::ffi::oidc_result;
use oidc::ffi::pool::*;
use oidc::ffi::validator::*;
use serde_json::Value;

pub const NULL: *mut c_void = std::ptr::null_mut();

/// Results of a batch of calls: per call, how many callbacks and the last code / claims (or
/// string, token-response or resource-response summary) / error summary.
pub struct Batch {
    pub calls: Vec<AtomicU32>,
    pub codes: Vec<AtomicU32>,
    pub claims: Mutex<Vec<Option<String>>>,
    pub errors: Mutex<Vec<Option<String>>>,
    /// Handles handed over to a callback (device authorization, CIBA request), as addresses.
    pub handles: Mutex<Vec<usize>>,
    pub done: AtomicUsize,
    pub threads: Mutex<std::collections::HashSet<std::thread::ThreadId>>,
}

impl Batch {
    pub fn new(n: usize) -> Arc<Batch> {
        Arc::new(Batch {
            calls: (0..n).map(|_| AtomicU32::new(0)).collect(),
            codes: (0..n).map(|_| AtomicU32::new(u32::MAX)).collect(),
            claims: Mutex::new(vec![None; n]),
            errors: Mutex::new(vec![None; n]),
            handles: Mutex::new(vec![0; n]),
            done: AtomicUsize::new(0),
            threads: Mutex::new(Default::default()),
        })
    }
    /// Bounded polling of a condition (no sleep as synchronisation).
    pub fn wait(&self, n: usize, within: Duration) -> bool {
        let end = Instant::now() + within;
        while self.done.load(Ordering::Acquire) < n {
            if Instant::now() > end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }
    pub fn code(&self, i: usize) -> u32 {
        self.codes[i].load(Ordering::Acquire)
    }
}

/// user_data = a leaked `(Arc<Batch>, index)`; freed by the callback (so a second callback
/// would be a use after free, which the exactly-once counters and ASan/valgrind would catch).
pub struct Slot {
    pub batch: Arc<Batch>,
    pub i: usize,
}

pub fn slot(b: &Arc<Batch>, i: usize) -> *mut c_void {
    Box::into_raw(Box::new(Slot { batch: b.clone(), i })).cast()
}

fn opt_str(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string())
}

/// What an error object says that both transports must agree on: the code, then the details
/// (the server's OAuth error, description and HTTP status, ...), the RFC 6750 error and the HTTP
/// status to answer.
pub fn error_summary(err: *const oidc_error) -> String {
    format!(
        "{}|{}|{}|{}",
        oidc_error_code(err) as u32,
        opt_str(oidc_error_details_json(err)).unwrap_or_default(),
        opt_str(oidc_error_oauth_error(err)).unwrap_or_default(),
        oidc_error_http_status(err)
    )
}

/// A token response's getters as JSON (the same for a blocking response and a callback's).
pub fn token_fields(r: *const oidc_token_response) -> Value {
    let json: Value = serde_json::from_str(&opt_str(oidc_token_response_json(r)).unwrap()).unwrap();
    serde_json::json!({
        "access_token": opt_str(oidc_token_response_access_token(r)),
        "token_type": opt_str(oidc_token_response_token_type(r)),
        "refresh_token": opt_str(oidc_token_response_refresh_token(r)),
        "id_token": opt_str(oidc_token_response_id_token(r)),
        "scope": opt_str(oidc_token_response_scope(r)),
        "issued_token_type": opt_str(oidc_token_response_issued_token_type(r)),
        "expires_in": oidc_token_response_expires_in(r),
        "json": json,
    })
}

pub extern "C" fn on_validate(ud: *mut c_void, rc: oidc_result, claims: *const c_char, len: usize, err: *const oidc_error) {
    let s = unsafe { &*(ud as *const Slot) };
    if rc == oidc_result::Ok {
        assert!(err.is_null());
        let c = unsafe { std::slice::from_raw_parts(claims.cast::<u8>(), len) };
        assert_eq!(unsafe { CStr::from_ptr(claims) }.to_bytes(), c, "NUL-terminated, len matches");
        s.batch.claims.lock().unwrap()[s.i] = Some(String::from_utf8(c.to_vec()).unwrap());
    } else {
        assert!(claims.is_null() && len == 0);
    }
    record(ud, rc, err);
}

/// `oidc_string_cb` has the shape of `oidc_validate_cb`: one recorder serves both.
pub extern "C" fn on_string(ud: *mut c_void, rc: oidc_result, value: *const c_char, len: usize, err: *const oidc_error) {
    on_validate(ud, rc, value, len, err);
}

pub extern "C" fn on_token(ud: *mut c_void, rc: oidc_result, resp: *const oidc_token_response, err: *const oidc_error) {
    let s = unsafe { &*(ud as *const Slot) };
    if rc == oidc_result::Ok {
        assert!(err.is_null() && !resp.is_null());
        s.batch.claims.lock().unwrap()[s.i] = Some(token_fields(resp).to_string());
    } else {
        assert!(resp.is_null());
    }
    record(ud, rc, err);
}

pub extern "C" fn on_resource(ud: *mut c_void, rc: oidc_result, status: u32, body: *const c_char, len: usize, err: *const oidc_error) {
    let s = unsafe { &*(ud as *const Slot) };
    if rc == oidc_result::Ok {
        assert!(err.is_null());
        let c = unsafe { std::slice::from_raw_parts(body.cast::<u8>(), len) };
        assert_eq!(unsafe { CStr::from_ptr(body) }.to_bytes(), c, "NUL-terminated, len matches");
        let v = serde_json::json!({"status": status, "body": String::from_utf8(c.to_vec()).unwrap()});
        s.batch.claims.lock().unwrap()[s.i] = Some(v.to_string());
    } else {
        assert!(body.is_null() && len == 0 && status == 0);
    }
    record(ud, rc, err);
}

/// The common part of every recorder: the error object, code, count and thread; then the slot
/// is freed (a second callback would be a use after free).
fn record(ud: *mut c_void, rc: oidc_result, err: *const oidc_error) {
    let s = unsafe { &*(ud as *const Slot) };
    let b = &s.batch;
    if rc != oidc_result::Ok {
        assert!(!err.is_null());
        assert_eq!(oidc_error_code(err), rc);
        assert!(!unsafe { CStr::from_ptr(oidc_error_message(err)) }.to_bytes().is_empty());
        b.errors.lock().unwrap()[s.i] = Some(error_summary(err));
    }
    b.codes[s.i].store(rc as u32, Ordering::Release);
    b.calls[s.i].fetch_add(1, Ordering::AcqRel);
    b.threads.lock().unwrap().insert(std::thread::current().id());
    b.done.fetch_add(1, Ordering::AcqRel);
    drop(unsafe { Box::from_raw(ud as *mut Slot) });
}

/// The recorder of callbacks that hand a handle over (`oidc_device_authorization_cb`,
/// `oidc_ciba_request_cb`): the handle (owned by the test from now on) is kept in `handles`.
pub extern "C" fn on_handle<X>(ud: *mut c_void, rc: oidc_result, handle: *mut X, err: *const oidc_error) {
    let s = unsafe { &*(ud as *const Slot) };
    if rc == oidc_result::Ok {
        assert!(err.is_null() && !handle.is_null());
    } else {
        assert!(handle.is_null());
    }
    s.batch.handles.lock().unwrap()[s.i] = handle as usize;
    record(ud, rc, err);
}

pub extern "C" fn on_done(ud: *mut c_void, rc: oidc_result, err: *const oidc_error) {
    record(ud, rc, err);
}

pub fn ok(rc: oidc_result) {
    assert_eq!(rc, oidc_result::Ok);
}

pub fn put(
    f: extern "C" fn(*mut oidc_validator_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result,
    b: *mut oidc_validator_builder,
    v: &str,
) {
    ok(f(b, v.as_ptr().cast(), v.len(), std::ptr::null_mut()));
}

/// A C-ABI client for a loopback issuer (audience "api", the test CA).
pub fn c_client(idp: &Idp, timeout_ms: u32) -> *mut oidc_validator {
    let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
    ok(oidc_validator_builder_new(&mut b, std::ptr::null_mut()));
    put(oidc_validator_builder_set_issuer, b, &idp.issuer);
    put(oidc_validator_builder_add_audience, b, "api");
    put(oidc_validator_builder_set_ca_file, b, idp.ca.ca_pem_path().to_str().unwrap());
    ok(oidc_validator_builder_set_timeouts_ms(b, timeout_ms, timeout_ms, std::ptr::null_mut()));
    let mut c: *mut oidc_validator = std::ptr::null_mut();
    ok(oidc_validator_builder_build(b, &mut c, std::ptr::null_mut()));
    c
}

/// Start a call with the slot `i` of `b` as its user_data: the slot is freed here when the call
/// was refused (its callback never runs), by the callback otherwise.
pub fn start(b: &Arc<Batch>, i: usize, f: impl FnOnce(*mut c_void) -> oidc_result) -> oidc_result {
    let ud = slot(b, i);
    let rc = f(ud);
    if rc != oidc_result::Ok {
        drop(unsafe { Box::from_raw(ud as *mut Slot) });
    }
    rc
}

pub fn validate_async(c: *const oidc_validator, t: &str, b: &Arc<Batch>, i: usize, cancel: *const oidc_cancel) -> oidc_result {
    let ud = slot(b, i);
    let rc = oidc_validate_async(c, t.as_ptr().cast(), t.len(), Some(on_validate), ud, cancel, std::ptr::null_mut());
    if rc != oidc_result::Ok {
        drop(unsafe { Box::from_raw(ud as *mut Slot) });
    }
    rc
}

pub fn new_cancel(timeout_ms: u64) -> *mut oidc_cancel {
    let mut c: *mut oidc_cancel = std::ptr::null_mut();
    ok(oidc_cancel_new(u32::try_from(timeout_ms).unwrap(), &mut c, std::ptr::null_mut()));
    c
}

pub fn vectors() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/validation.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A protocol client for `idp` whose device endpoint answers a device authorization with a
/// `interval` s polling interval, and whose token endpoint always answers pending; and that
/// authorization.
pub fn pending_device_flow(idp: &Idp, interval: u64) -> (*mut oidc_oauth_client, *mut oidc_device_authorization) {
    let mut d = oidc_testkit::oidc_discovery(&idp.issuer, &idp.srv.url("/jwks"));
    d["device_authorization_endpoint"] = serde_json::json!(idp.srv.url("/device"));
    d["token_endpoint"] = serde_json::json!(idp.srv.url("/token"));
    idp.srv.set_route(super::DISCOVERY, super::Route::json(&d));
    let body =
        format!(r#"{{"device_code":"dc","user_code":"U-1","verification_uri":"https://x/d","expires_in":600,"interval":{interval}}}"#);
    idp.srv.set_route("/device", super::Route::json_str(&body));
    idp.srv.set_route("/token", super::Route::json_str(r#"{"error":"authorization_pending"}"#).with_status(400));
    let mut b: *mut oidc_oauth_builder = std::ptr::null_mut();
    ok(oidc_oauth_builder_new(&mut b, std::ptr::null_mut()));
    let ca = idp.ca.ca_pem_path().to_str().unwrap().to_string();
    for (f, v) in [
        (oidc_oauth_builder_set_issuer as extern "C" fn(_, _, _, _) -> oidc_result, idp.issuer.as_str()),
        (oidc_oauth_builder_set_client_id, "public-app"),
        (oidc_oauth_builder_set_ca_file, ca.as_str()),
    ] {
        ok(f(b, v.as_ptr().cast(), v.len(), std::ptr::null_mut()));
    }
    let mut c = std::ptr::null_mut();
    ok(oidc_oauth_builder_build(b, &mut c, std::ptr::null_mut()));
    let mut da = std::ptr::null_mut();
    ok(oidc_oauth_device_authorization(c, "openid".as_ptr().cast(), 6, &mut da, std::ptr::null_mut()));
    (c, da)
}

/// `(pointer, length)` of a string for the C ABI.
pub fn s(x: &str) -> (*const c_char, usize) {
    (x.as_ptr().cast(), x.len())
}

/// A protocol-client builder for `idp` with client id `id` and the IdP's CA file.
pub fn oauth_builder(idp: &super::real_idp::RealIdp, id: &str) -> *mut oidc::ffi::oauth::oidc_oauth_builder {
    use oidc::ffi::oauth::*;
    use std::ptr::null_mut;
    let mut b = null_mut();
    assert_eq!(oidc_oauth_builder_new(&mut b, null_mut()), oidc_result::Ok);
    let ca = idp.ca_file.to_str().unwrap().to_string();
    for (f, v) in [
        (oidc_oauth_builder_set_issuer as extern "C" fn(_, _, _, _) -> oidc_result, idp.issuer.as_str()),
        (oidc_oauth_builder_set_client_id, id),
        (oidc_oauth_builder_set_ca_file, ca.as_str()),
    ] {
        let (p, n) = s(v);
        assert_eq!(f(b, p, n, null_mut()), oidc_result::Ok);
    }
    b
}

/// Build a protocol client (the builder is consumed).
pub fn oauth_build(b: *mut oidc::ffi::oauth::oidc_oauth_builder) -> *mut oidc::ffi::oauth::oidc_oauth_client {
    let mut c = std::ptr::null_mut();
    assert_eq!(oidc::ffi::oauth::oidc_oauth_builder_build(b, &mut c, std::ptr::null_mut()), oidc_result::Ok);
    c
}
