//! The C ABI seen from a test: batches of non-blocking calls whose callbacks record how often
//! and with what they ran (exactly-once checks), validators and protocol clients built through
//! the builders, and the protocol request object (`Req`, `Resp`) sent blocking and non-blocking.

use std::ffi::{CStr, c_char, c_void};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Idp;
use oidc::ffi::cancel::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{
    oidc_error_code, oidc_error_details_json, oidc_error_free, oidc_error_http_status, oidc_error_message, oidc_error_oauth_error,
};
use oidc::ffi::oauth_client::*;
pub use oidc::ffi::oauth_request::oidc_field as F;
pub use oidc::ffi::oauth_request::oidc_operation as Op;
pub use oidc::ffi::oauth_request::oidc_param as P;
use oidc::ffi::oauth_request::*;
use oidc::ffi::oidc_result;
use oidc::ffi::validator::*;
use serde_json::Value;

pub const NULL: *mut c_void = std::ptr::null_mut();

/// Results of a batch of calls: per call, how many callbacks and the last code / claims (or the
/// response's fields, `Resp::fields`) / error summary.
pub struct Batch {
    pub calls: Vec<AtomicU32>,
    pub codes: Vec<AtomicU32>,
    pub claims: Mutex<Vec<Option<String>>>,
    pub errors: Mutex<Vec<Option<String>>>,
    /// Responses handed over to a callback (owned by the test from then on), as addresses;
    /// taken with `take`, freed with the batch otherwise.
    pub responses: Mutex<Vec<usize>>,
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
            responses: Mutex::new(vec![0; n]),
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
    /// The response handed to call `i`'s callback (the test owns it now), if any.
    pub fn take(&self, i: usize) -> Option<Resp> {
        let p = std::mem::take(&mut self.responses.lock().unwrap()[i]);
        (p != 0).then(|| Resp(p as *mut oidc_oauth_response))
    }
    pub fn error(&self, i: usize) -> Option<String> {
        self.errors.lock().unwrap()[i].clone()
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        for p in self.responses.get_mut().unwrap().drain(..).filter(|p| *p != 0) {
            oidc_oauth_response_free(p as *mut oidc_oauth_response);
        }
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

/// The recorder of `oidc_oauth_response_cb`: the response (owned by the test from now on) is
/// kept in `responses`, its fields in `claims`.
pub extern "C" fn on_response(ud: *mut c_void, rc: oidc_result, resp: *mut oidc_oauth_response, err: *const oidc_error) {
    let s = unsafe { &*(ud as *const Slot) };
    if rc == oidc_result::Ok {
        assert!(err.is_null() && !resp.is_null());
        s.batch.claims.lock().unwrap()[s.i] = Some(Resp::fields_of(resp).to_string());
        s.batch.responses.lock().unwrap()[s.i] = resp as usize;
    } else {
        assert!(resp.is_null());
    }
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
    start(b, i, |ud| oidc_validate_async(c, t.as_ptr().cast(), t.len(), Some(on_validate), ud, cancel, std::ptr::null_mut()))
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

/// `(pointer, length)` of a string for the C ABI.
pub fn s(x: &str) -> (*const c_char, usize) {
    (x.as_ptr().cast(), x.len())
}

// ---------------------------------------------------------------------------------------------
// Protocol clients and the request object
// ---------------------------------------------------------------------------------------------

/// A failed call: the code, the message, the error summary (`error_summary`: what both
/// transports must agree on) and whether the non-blocking send refused it itself (no callback).
#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    pub code: oidc_result,
    pub msg: String,
    pub summary: String,
    pub returned: bool,
}

impl Fail {
    /// From an error object (freed here).
    pub fn take(e: *mut oidc_error, returned: bool) -> Fail {
        assert!(!e.is_null(), "err_out written on failure");
        let f = Fail::of(e, returned);
        oidc_error_free(e);
        f
    }
    fn of(e: *const oidc_error, returned: bool) -> Fail {
        let msg = unsafe { CStr::from_ptr(oidc_error_message(e)) }.to_string_lossy().into_owned();
        Fail { code: oidc_error_code(e), msg, summary: error_summary(e), returned }
    }
}

/// The failure of a call that must fail (panics on success).
pub fn failure<T>(r: Result<T, Fail>) -> Fail {
    match r {
        Ok(_) => panic!("expected a failure"),
        Err(e) => e,
    }
}

/// Same failure on both paths: code and error object (OAuth error, HTTP status, details);
/// `returned`: the non-blocking send refused the call itself (an argument error).
pub fn same_failure<T>(blocking: Result<T, Fail>, non_blocking: Result<T, Fail>, returned: bool) -> Fail {
    let (b, a) = (failure(blocking), failure(non_blocking));
    assert_eq!((b.code, &b.summary), (a.code, &a.summary), "blocking vs non-blocking");
    assert_eq!(a.returned, returned, "{a:?}");
    b
}

/// A protocol client handle; freed when dropped.
pub struct Client(pub *mut oidc_oauth_client);
unsafe impl Send for Client {}
unsafe impl Sync for Client {}
impl Drop for Client {
    fn drop(&mut self) {
        oidc_oauth_client_free(self.0);
    }
}

pub type BuilderSetter = extern "C" fn(*mut oidc_oauth_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result;

/// Apply a string setter of the protocol-client builder (must succeed).
pub fn set_str(b: *mut oidc_oauth_builder, f: BuilderSetter, v: &str) {
    let (p, n) = s(v);
    let mut e = std::ptr::null_mut();
    let rc = f(b, p, n, &mut e);
    assert_eq!(rc, oidc_result::Ok, "{:?}", (!e.is_null()).then(|| Fail::take(e, false)));
}

/// A protocol-client builder for `issuer` trusting `ca_file`, with client id `id` (none if empty).
pub fn oauth_builder_for(issuer: &str, ca_file: &str, id: &str) -> *mut oidc_oauth_builder {
    let mut b = std::ptr::null_mut();
    ok(oidc_oauth_builder_new(&mut b, std::ptr::null_mut()));
    set_str(b, oidc_oauth_builder_set_issuer, issuer);
    set_str(b, oidc_oauth_builder_set_ca_file, ca_file);
    if !id.is_empty() {
        set_str(b, oidc_oauth_builder_set_client_id, id);
    }
    b
}

/// A protocol-client builder for the real IdP with client id `id` (none if empty).
pub fn oauth_builder(idp: &super::real_idp::RealIdp, id: &str) -> *mut oidc_oauth_builder {
    oauth_builder_for(&idp.issuer, idp.ca_file.to_str().unwrap(), id)
}

/// Build a protocol client (the builder is consumed).
pub fn oauth_build(b: *mut oidc_oauth_builder) -> Client {
    let mut c = std::ptr::null_mut();
    let mut e = std::ptr::null_mut();
    let rc = oidc_oauth_builder_build(b, &mut c, &mut e);
    assert_eq!(rc, oidc_result::Ok, "{:?}", (!e.is_null()).then(|| Fail::take(e, false)));
    Client(c)
}

/// A real-IdP client `id` with a client secret.
pub fn with_secret(idp: &super::real_idp::RealIdp, id: &str, secret: &str) -> Client {
    let b = oauth_builder(idp, id);
    set_str(b, oidc_oauth_builder_set_client_secret, secret);
    oauth_build(b)
}

/// How long a non-blocking send may take to call back in these tests.
pub const CALLBACK_WAIT: Duration = Duration::from_secs(60);

/// A request under construction; freed when dropped.
pub struct Req(pub *mut oidc_oauth_request);
impl Drop for Req {
    fn drop(&mut self) {
        oidc_oauth_request_free(self.0);
    }
}

fn setter_result(rc: oidc_result, e: *mut oidc_error) -> Result<(), Fail> {
    match rc {
        oidc_result::Ok => Ok(()),
        _ => Err(Fail::take(e, true)),
    }
}

impl Req {
    pub fn new(c: &Client, op: Op) -> Req {
        let mut r = std::ptr::null_mut();
        let mut e = std::ptr::null_mut();
        let rc = oidc_oauth_request_new(c.0, op as u32, &mut r, &mut e);
        assert_eq!(rc, oidc_result::Ok, "{:?}", (!e.is_null()).then(|| Fail::take(e, false)));
        Req(r)
    }
    pub fn try_set(&self, p: P, v: &str) -> Result<(), Fail> {
        let ((vp, vn), mut e) = (s(v), std::ptr::null_mut());
        setter_result(oidc_oauth_request_set_string(self.0, p as u32, vp, vn, &mut e), e)
    }
    pub fn set(self, p: P, v: &str) -> Req {
        self.try_set(p, v).unwrap();
        self
    }
    pub fn try_add(&self, p: P, v: &str) -> Result<(), Fail> {
        let ((vp, vn), mut e) = (s(v), std::ptr::null_mut());
        setter_result(oidc_oauth_request_add_string(self.0, p as u32, vp, vn, &mut e), e)
    }
    pub fn add(self, p: P, v: &str) -> Req {
        self.try_add(p, v).unwrap();
        self
    }
    pub fn try_int(&self, p: P, v: i64) -> Result<(), Fail> {
        let mut e = std::ptr::null_mut();
        setter_result(oidc_oauth_request_set_int(self.0, p as u32, v, &mut e), e)
    }
    pub fn int(self, p: P, v: i64) -> Req {
        self.try_int(p, v).unwrap();
        self
    }
    pub fn try_param(&self, n: &str, v: &str) -> Result<(), Fail> {
        let ((np, nn), (vp, vn), mut e) = (s(n), s(v), std::ptr::null_mut());
        setter_result(oidc_oauth_request_add_param(self.0, np, nn, vp, vn, &mut e), e)
    }
    pub fn param(self, n: &str, v: &str) -> Req {
        self.try_param(n, v).unwrap();
        self
    }
    pub fn try_pending(&self, started: *const oidc_oauth_response) -> Result<(), Fail> {
        let mut e = std::ptr::null_mut();
        setter_result(oidc_oauth_request_set_pending(self.0, started, &mut e), e)
    }
    /// Continue the flow `started` began (a poll).
    pub fn pending(self, started: &Resp) -> Req {
        self.try_pending(started.0).unwrap();
        self
    }
    /// The blocking send.
    pub fn send(&self) -> Result<Resp, Fail> {
        self.send_with(std::ptr::null())
    }
    pub fn send_with(&self, cancel: *const oidc_cancel) -> Result<Resp, Fail> {
        let (mut out, mut e) = (std::ptr::null_mut(), std::ptr::null_mut());
        match oidc_oauth_send(self.0, cancel, &mut out, &mut e) {
            oidc_result::Ok => {
                assert!(e.is_null() && !out.is_null());
                Ok(Resp(out))
            }
            _ => {
                assert!(out.is_null(), "out untouched on failure");
                Err(Fail::take(e, false))
            }
        }
    }
    /// Start the non-blocking send with slot `i` of `b` as its user_data (`on_response`).
    pub fn submit(&self, b: &Arc<Batch>, i: usize, cancel: *const oidc_cancel) -> oidc_result {
        start(b, i, |ud| oidc_oauth_send_async(self.0, cancel, Some(on_response), ud, std::ptr::null_mut()))
    }
    /// The non-blocking send, waited for here, with its promises checked: a refused call's
    /// error comes through `err_out` and its callback never runs; an accepted call's callback
    /// runs exactly once, not on this thread, and hands over the response (`Resp` frees it).
    pub fn send_async(&self, cancel: *const oidc_cancel) -> Result<Resp, Fail> {
        let b = Batch::new(1);
        let mut e: *mut oidc_error = std::ptr::null_mut();
        let rc = start(&b, 0, |ud| oidc_oauth_send_async(self.0, cancel, Some(on_response), ud, &mut e));
        if rc != oidc_result::Ok {
            let f = Fail::take(e, true);
            assert_eq!(f.code, rc);
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(b.calls[0].load(Ordering::Acquire), 0, "a refused call's callback never runs");
            return Err(f);
        }
        assert!(e.is_null(), "err_out untouched when accepted");
        assert!(b.wait(1, CALLBACK_WAIT), "callback within {CALLBACK_WAIT:?}");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(b.calls[0].load(Ordering::Acquire), 1, "exactly once");
        assert!(!b.threads.lock().unwrap().contains(&std::thread::current().id()), "never on the calling thread");
        match b.take(0) {
            Some(r) => Ok(r),
            None => {
                let summary = b.error(0).expect("an error object");
                let code = b.code(0);
                let code = *oidc_result::ALL.iter().find(|c| **c as u32 == code).unwrap();
                Err(Fail { code, msg: String::new(), summary, returned: false })
            }
        }
    }
    /// Both sends (blocking first).
    pub fn send_both(&self) -> (Result<Resp, Fail>, Result<Resp, Fail>) {
        (self.send(), self.send_async(std::ptr::null()))
    }
}

/// A response; freed when dropped.
pub struct Resp(pub *mut oidc_oauth_response);
unsafe impl Send for Resp {}
impl Drop for Resp {
    fn drop(&mut self) {
        oidc_oauth_response_free(self.0);
    }
}

const STRING_FIELDS: [F; 31] = [
    F::OIDC_FIELD_ACCESS_TOKEN,
    F::OIDC_FIELD_TOKEN_TYPE,
    F::OIDC_FIELD_REFRESH_TOKEN,
    F::OIDC_FIELD_ID_TOKEN,
    F::OIDC_FIELD_SCOPE,
    F::OIDC_FIELD_ISSUED_TOKEN_TYPE,
    F::OIDC_FIELD_DEVICE_CODE,
    F::OIDC_FIELD_USER_CODE,
    F::OIDC_FIELD_VERIFICATION_URI,
    F::OIDC_FIELD_VERIFICATION_URI_COMPLETE,
    F::OIDC_FIELD_AUTH_REQ_ID,
    F::OIDC_FIELD_REQUEST_URI,
    F::OIDC_FIELD_URL,
    F::OIDC_FIELD_CODE,
    F::OIDC_FIELD_STATE,
    F::OIDC_FIELD_NONCE,
    F::OIDC_FIELD_CODE_VERIFIER,
    F::OIDC_FIELD_CODE_CHALLENGE,
    F::OIDC_FIELD_ISS,
    F::OIDC_FIELD_SUB,
    F::OIDC_FIELD_CLIENT_ID,
    F::OIDC_FIELD_CLIENT_SECRET,
    F::OIDC_FIELD_REGISTRATION_ACCESS_TOKEN,
    F::OIDC_FIELD_REGISTRATION_CLIENT_URI,
    F::OIDC_FIELD_ERROR,
    F::OIDC_FIELD_ERROR_DESCRIPTION,
    F::OIDC_FIELD_ERROR_URI,
    F::OIDC_FIELD_CONTENT_TYPE,
    F::OIDC_FIELD_WWW_AUTHENTICATE,
    F::OIDC_FIELD_SID,
    F::OIDC_FIELD_JTI,
];
const INT_FIELDS: [F; 4] = [F::OIDC_FIELD_EXPIRES_IN, F::OIDC_FIELD_INTERVAL, F::OIDC_FIELD_HTTP_STATUS, F::OIDC_FIELD_ACTIVE];

/// `OIDC_FIELD_ACCESS_TOKEN` -> "access_token".
fn field_key(f: F) -> String {
    format!("{f:?}").trim_start_matches("OIDC_FIELD_").to_ascii_lowercase()
}

impl Resp {
    pub fn str(&self, f: F) -> Option<String> {
        let p = oidc_oauth_response_string(self.0, f as u32);
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
    pub fn int(&self, f: F) -> i64 {
        oidc_oauth_response_int(self.0, f as u32)
    }
    /// The raw body (NUL-terminated, `len` bytes).
    pub fn body(&self) -> String {
        let mut n = 0usize;
        let p = oidc_oauth_response_json(self.0, &mut n);
        assert!(!p.is_null());
        let b = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n + 1) };
        assert_eq!(b[n], 0, "NUL-terminated");
        String::from_utf8(b[..n].to_vec()).unwrap()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body()).unwrap()
    }
    pub fn op(&self) -> u32 {
        oidc_oauth_response_operation(self.0)
    }
    /// Every getter's answer as one JSON object (absent fields left out), plus "json": the
    /// body (parsed when it is JSON): the same for a blocking response and a callback's.
    pub fn fields(&self) -> Value {
        Resp::fields_of(self.0)
    }
    pub fn fields_of(r: *const oidc_oauth_response) -> Value {
        let resp = std::mem::ManuallyDrop::new(Resp(r.cast_mut()));
        let mut m = serde_json::Map::new();
        for f in STRING_FIELDS {
            if let Some(v) = resp.str(f) {
                m.insert(field_key(f), v.into());
            }
        }
        for f in INT_FIELDS {
            let v = resp.int(f);
            if v != -1 {
                m.insert(field_key(f), v.into());
            }
        }
        let body = resp.body();
        m.insert("json".into(), serde_json::from_str(&body).unwrap_or(Value::String(body)));
        m.insert("operation".into(), resp.op().into());
        Value::Object(m)
    }
}

/// A protocol client for the loopback `idp` whose device endpoint answers a device
/// authorization with an `interval` s polling interval and whose token endpoint always answers
/// pending; and the device authorization's response.
pub fn pending_device_flow(idp: &Idp, interval: u64) -> (Client, Resp) {
    let mut d = oidc_testkit::oidc_discovery(&idp.issuer, &idp.srv.url("/jwks"));
    d["device_authorization_endpoint"] = serde_json::json!(idp.srv.url("/device"));
    d["token_endpoint"] = serde_json::json!(idp.srv.url("/token"));
    idp.srv.set_route(super::DISCOVERY, super::Route::json(&d));
    let body =
        format!(r#"{{"device_code":"dc","user_code":"U-1","verification_uri":"https://x/d","expires_in":600,"interval":{interval}}}"#);
    idp.srv.set_route("/device", super::Route::json_str(&body));
    idp.srv.set_route("/token", super::Route::json_str(r#"{"error":"authorization_pending"}"#).with_status(400));
    let c = oauth_build(oauth_builder_for(&idp.issuer, idp.ca.ca_pem_path().to_str().unwrap(), "public-app"));
    let da = Req::new(&c, Op::OIDC_OP_DEVICE_AUTHORIZATION).add(P::OIDC_PARAM_SCOPE, "openid").send().unwrap();
    (c, da)
}

/// A poll request continuing `started`.
pub fn poll_req(c: &Client, started: &Resp) -> Req {
    let op = if started.op() == Op::OIDC_OP_CIBA_REQUEST as u32 { Op::OIDC_OP_CIBA_POLL } else { Op::OIDC_OP_DEVICE_POLL };
    Req::new(c, op).pending(started)
}
