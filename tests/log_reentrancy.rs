//! Issue 10 item 13: the log callback is never invoked while liboidc holds a lock a liboidc call
//! could need. A sink that validates a token with the same client while it is told about the
//! first discovery and key fetch must not deadlock. (Own test binary: the sink is process-wide.)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use oidc::core::log::{Level, set_sink};

#[test]
fn a_log_callback_may_call_liboidc_during_the_first_fetch() {
    let k = TestKey::generate(Alg::ES256);
    let idp = idp(&[&k]);
    let client = idp.client_with(|_| {});
    let token = k.sign(&idp.claims());
    let reentered = Arc::new(AtomicUsize::new(0));
    {
        let (client, token, reentered) = (client.clone(), token.clone(), reentered.clone());
        set_sink(
            Some(Box::new(move |_level, target, msg| {
                // Re-enter only from the messages sent while the first fetches run.
                if (target == "oidc::discovery" || target == "oidc::cache") && reentered.fetch_add(1, Ordering::SeqCst) < 4 {
                    let _ = msg;
                    client.validate(&token).expect("validation from inside the log callback");
                }
            })),
            Level::Debug,
        );
    }
    let (tx, rx) = mpsc::channel();
    let c = client.clone();
    std::thread::spawn(move || tx.send(c.validate(&token).map(|_| ())).unwrap());
    let r = rx.recv_timeout(Duration::from_secs(30)).expect("deadlock: the log callback ran under a liboidc lock");
    set_sink(None, Level::Error);
    r.unwrap();
    assert!(reentered.load(Ordering::SeqCst) >= 2, "the sink was called during discovery and the key fetch");
}
