//! The non-blocking C ABI seen from a test: batches of calls whose callbacks record how often
//! and with what they ran (exactly-once checks), and clients built through the builder.

use std::ffi::{CStr, c_char, c_void};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Idp;
use oidc::ffi::r#async::*;
use oidc::ffi::client::*;
use oidc::ffi::error::oidc_error;
use oidc::ffi::misc::{oidc_error_code, oidc_error_message};
use oidc::ffi::oidc_result;
use serde_json::Value;

pub const NULL: *mut c_void = std::ptr::null_mut();

/// Results of a batch of calls: per call, how many callbacks and the last code / claims.
pub struct Batch {
    pub calls: Vec<AtomicU32>,
    pub codes: Vec<AtomicU32>,
    pub claims: Mutex<Vec<Option<String>>>,
    pub done: AtomicUsize,
    pub threads: Mutex<std::collections::HashSet<std::thread::ThreadId>>,
}

impl Batch {
    pub fn new(n: usize) -> Arc<Batch> {
        Arc::new(Batch {
            calls: (0..n).map(|_| AtomicU32::new(0)).collect(),
            codes: (0..n).map(|_| AtomicU32::new(u32::MAX)).collect(),
            claims: Mutex::new(vec![None; n]),
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

pub extern "C" fn on_validate(ud: *mut c_void, rc: oidc_result, claims: *const c_char, len: usize, err: *const oidc_error) {
    let s = unsafe { &*(ud as *const Slot) };
    let b = &s.batch;
    if rc == oidc_result::Ok {
        assert!(err.is_null());
        let c = unsafe { std::slice::from_raw_parts(claims.cast::<u8>(), len) };
        assert_eq!(unsafe { CStr::from_ptr(claims) }.to_bytes(), c, "NUL-terminated, len matches");
        b.claims.lock().unwrap()[s.i] = Some(String::from_utf8(c.to_vec()).unwrap());
    } else {
        assert!(claims.is_null());
        assert_eq!(oidc_error_code(err), rc);
        assert!(!unsafe { CStr::from_ptr(oidc_error_message(err)) }.to_bytes().is_empty());
    }
    b.codes[s.i].store(rc as u32, Ordering::Release);
    b.calls[s.i].fetch_add(1, Ordering::AcqRel);
    b.threads.lock().unwrap().insert(std::thread::current().id());
    b.done.fetch_add(1, Ordering::AcqRel);
    drop(unsafe { Box::from_raw(ud as *mut Slot) });
}

pub extern "C" fn on_done(ud: *mut c_void, rc: oidc_result, err: *const oidc_error) {
    on_validate(ud, rc, std::ptr::null(), 0, err);
}

pub fn ok(rc: oidc_result) {
    assert_eq!(rc, oidc_result::Ok);
}

pub fn put(f: extern "C" fn(*mut oidc_client_builder, *const c_char, usize, *mut *mut oidc_error) -> oidc_result, b: *mut oidc_client_builder, v: &str) {
    ok(f(b, v.as_ptr().cast(), v.len(), std::ptr::null_mut()));
}

/// A C-ABI client for a loopback issuer (audience "api", the test CA).
pub fn c_client(idp: &Idp, timeout_ms: u32) -> *mut oidc_client {
    let mut b: *mut oidc_client_builder = std::ptr::null_mut();
    ok(oidc_client_builder_new(&mut b, std::ptr::null_mut()));
    put(oidc_client_builder_set_issuer, b, &idp.issuer);
    put(oidc_client_builder_add_audience, b, "api");
    put(oidc_client_builder_set_ca_file, b, idp.ca.ca_pem_path().to_str().unwrap());
    ok(oidc_client_builder_set_timeouts_ms(b, timeout_ms, timeout_ms, std::ptr::null_mut()));
    let mut c: *mut oidc_client = std::ptr::null_mut();
    ok(oidc_client_builder_build(b, &mut c, std::ptr::null_mut()));
    c
}

pub fn validate_async(c: *const oidc_client, t: &str, b: &Arc<Batch>, i: usize, cancel: *const oidc_cancel) -> oidc_result {
    let ud = slot(b, i);
    let rc = oidc_validate_async(c, t.as_ptr().cast(), t.len(), Some(on_validate), ud, cancel, std::ptr::null_mut());
    if rc != oidc_result::Ok {
        drop(unsafe { Box::from_raw(ud as *mut Slot) });
    }
    rc
}

pub fn new_cancel(timeout_ms: u64) -> *mut oidc_cancel {
    let mut c: *mut oidc_cancel = std::ptr::null_mut();
    ok(oidc_cancel_new_with_timeout_ms(timeout_ms, &mut c, std::ptr::null_mut()));
    c
}

pub fn vectors() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/validation.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}
