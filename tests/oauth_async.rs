//! The protocol request object's non-blocking send (`oidc_oauth_send_async`) against its
//! blocking send (`oidc_oauth_send`), through the extern "C" functions, against the real IdP
//! (oidc-provider): for every operation the callback's response gives what the blocking
//! response gives (the same fields / the same JSON, the same codes and error objects), argument
//! errors are returned with no callback, every accepted call's callback runs exactly once,
//! never on the calling thread, and hands over a response the host owns; pre-cancelled calls
//! complete CANCELLED, and freeing the client and the request with calls in flight is safe.
//! `oidc_async_shutdown` is not called here (it is process-wide; tests/async_shutdown.rs owns
//! it).

mod common;

use std::ptr::{null, null_mut};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::cabi::*;
use common::real_idp::{RealIdp, client_key};
use oidc::core::oauth::{AuthorizationRequest, ClientAuth, OAuthClient, OAuthConfig, pkce};
use oidc::ffi::cancel::*;
use oidc::ffi::misc::oidc_error_free;
use oidc::ffi::oauth_client::*;
use oidc::ffi::oauth_request::*;
use oidc::ffi::oidc_result as R;
use serde_json::{Value, json};

const CB: &str = "http://127.0.0.1/cb";
const WAIT: Duration = Duration::from_secs(30);

fn idp() -> &'static RealIdp {
    static IDP: OnceLock<RealIdp> = OnceLock::new();
    IDP.get_or_init(RealIdp::start)
}

fn secret_client(id: &str, secret: &str) -> Client {
    with_secret(idp(), id, secret)
}

/// svc-pkjwt: private_key_jwt with the committed EC key (token exchange, JWT bearer, echo grant).
fn pkjwt() -> Client {
    let b = oauth_builder(idp(), "svc-pkjwt");
    let pem = client_key("ec.pem");
    let ((p, n), (k, kn)) = (s(&pem), s("client-ec"));
    assert_eq!(oidc_oauth_builder_set_private_key_pem(b, p, n, k, kn, null(), 0, null_mut()), R::Ok);
    oauth_build(b)
}

fn web() -> Client {
    secret_client("web-app", "web-app-secret")
}

/// Both sends of `r` must succeed; their responses.
fn both_ok(r: &Req) -> (Resp, Resp) {
    let (a, b) = r.send_both();
    (a.unwrap_or_else(|f| panic!("blocking: {f:?}")), b.unwrap_or_else(|f| panic!("non-blocking: {f:?}")))
}

/// Both sends of `r` fail alike; `returned`: refused by the non-blocking send itself.
fn both_fail(r: &Req, returned: bool) -> Fail {
    let (a, b) = r.send_both();
    same_failure(a, b, returned)
}

/// The token fields that do not change from one issuance to the next.
fn token_shape(r: &Resp) -> Value {
    let v = r.fields();
    let present = |k: &str| !v[k].is_null();
    json!({
        "token_type": v["token_type"], "scope": v["scope"], "issued_token_type": v["issued_token_type"],
        "access": present("access_token"), "refresh": present("refresh_token"), "id": present("id_token"),
        "expires": v["expires_in"].as_i64().unwrap() > 0, "keys": json_keys(&v["json"]), "operation": v["operation"],
    })
}

fn json_keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// A code from a scripted login for web-app (PKCE), with its verifier and nonce.
fn login() -> (String, String, String) {
    let c = OAuthClient::new({
        let mut cfg = OAuthConfig::new(&idp().issuer, "web-app", ClientAuth::SecretBasic("web-app-secret".into()));
        cfg.base.ca_file = Some(idp().ca_file.clone());
        cfg
    })
    .unwrap();
    let p = pkce::generate().unwrap();
    let req = AuthorizationRequest {
        redirect_uri: Some(CB.into()),
        scope: Some("openid email profile".into()),
        code_challenge: Some(p.challenge.clone()),
        ..Default::default()
    };
    let prepared = c.authorization_url(&req).unwrap();
    let back = idp().browser().authorize(&prepared.url, "user-1");
    let resp =
        c.parse_authorization_response(&back, oidc::core::oauth::ExpectedState::Sent(prepared.state.as_deref().unwrap()), None).unwrap();
    (resp.code.expose().to_string(), p.verifier.expose().to_string(), prepared.nonce.unwrap())
}

#[test]
fn token_requests_match_on_both_paths() {
    let web = web();
    // Authorization code: one login for each path; the same shape of response (validated ID
    // token, refresh token, scope).
    let exchange = |(code, verifier, nonce): &(String, String, String)| {
        Req::new(&web, Op::OIDC_OP_AUTHORIZATION_CODE)
            .set(P::OIDC_PARAM_CODE, code)
            .set(P::OIDC_PARAM_REDIRECT_URI, CB)
            .set(P::OIDC_PARAM_CODE_VERIFIER, verifier)
            .set(P::OIDC_PARAM_NONCE, nonce)
    };
    let (l1, l2) = (login(), login());
    let sync = exchange(&l1).send().unwrap();
    let a = exchange(&l2).send_async(null()).unwrap();
    assert_eq!(token_shape(&a), token_shape(&sync));
    assert_eq!(token_shape(&a)["id"], true);
    assert_eq!(token_shape(&a)["refresh"], true);

    // Refresh: each path with its own refresh token; a bad one is INVALID_GRANT on both.
    let refresh = |rt: &str| Req::new(&web, Op::OIDC_OP_REFRESH).set(P::OIDC_PARAM_REFRESH_TOKEN, rt);
    let rt_async = a.str(F::OIDC_FIELD_REFRESH_TOKEN).unwrap();
    let r_sync = refresh(&sync.str(F::OIDC_FIELD_REFRESH_TOKEN).unwrap()).send().unwrap();
    let r_async = refresh(&rt_async).send_async(null()).unwrap();
    assert_eq!(token_shape(&r_async), token_shape(&r_sync));
    assert_ne!(r_async.str(F::OIDC_FIELD_REFRESH_TOKEN), Some(rt_async), "rotated");
    assert_eq!(both_fail(&refresh("not-a-refresh-token"), false).code, R::InvalidGrant);
    // A missing required parameter: refused by the non-blocking send itself, as by the blocking.
    assert_eq!(both_fail(&Req::new(&web, Op::OIDC_OP_REFRESH), true).code, R::InvalidArgument);

    // Client credentials, plain and through the cache (the cache hands both paths one token).
    let svc = secret_client("svc-basic", "svc-basic-secret");
    let cc =
        Req::new(&svc, Op::OIDC_OP_CLIENT_CREDENTIALS).add(P::OIDC_PARAM_SCOPE, "read").add(P::OIDC_PARAM_RESOURCE, "urn:liboidc:es256");
    let (x, y) = both_ok(&cc);
    assert_eq!(token_shape(&y), token_shape(&x));
    assert_eq!(y.str(F::OIDC_FIELD_SCOPE).as_deref(), Some("read"));
    let cached = cc.int(P::OIDC_PARAM_USE_CACHE, 1);
    let (x, y) = both_ok(&cached);
    assert_eq!(y.fields(), x.fields(), "the same cached token, field for field");
    let bad =
        Req::new(&svc, Op::OIDC_OP_CLIENT_CREDENTIALS).add(P::OIDC_PARAM_RESOURCE, "urn:liboidc:nope").int(P::OIDC_PARAM_USE_CACHE, 1);
    assert_eq!(both_fail(&bad, false).code, R::InvalidTarget);

    // Token exchange (RFC 8693) with an svc-basic token as the subject.
    let pk = pkjwt();
    let subject = Req::new(&svc, Op::OIDC_OP_CLIENT_CREDENTIALS).send().unwrap().str(F::OIDC_FIELD_ACCESS_TOKEN).unwrap();
    let tx = |t: &str| {
        Req::new(&pk, Op::OIDC_OP_TOKEN_EXCHANGE).set(P::OIDC_PARAM_SUBJECT_TOKEN, t).add(P::OIDC_PARAM_AUDIENCE, "urn:x:downstream")
    };
    let (x, y) = both_ok(&tx(&subject));
    assert_eq!(token_shape(&y), token_shape(&x));
    assert_eq!(y.str(F::OIDC_FIELD_ISSUED_TOKEN_TYPE).as_deref(), Some("urn:ietf:params:oauth:token-type:access_token"));
    assert_eq!(both_fail(&tx("not-a-token"), false).code, R::InvalidGrant);
    assert_eq!(both_fail(&Req::new(&pk, Op::OIDC_OP_TOKEN_EXCHANGE), true).code, R::InvalidArgument);

    // JWT bearer: an assertion signed for "user-1" with the client's key (on the worker).
    let jb = Req::new(&pk, Op::OIDC_OP_JWT_BEARER).set(P::OIDC_PARAM_SUBJECT, "user-1").add(P::OIDC_PARAM_SCOPE, "read");
    let (x, y) = both_ok(&jb);
    assert_eq!(token_shape(&y), token_shape(&x));
    let neither = Req::new(&pk, Op::OIDC_OP_JWT_BEARER).add(P::OIDC_PARAM_SCOPE, "read");
    assert_eq!(both_fail(&neither, true).code, R::InvalidArgument, "neither an assertion nor a subject");
    // A subject but no key to sign with: the core's answer, through the callback.
    let nokey = Req::new(&svc, Op::OIDC_OP_JWT_BEARER).set(P::OIDC_PARAM_SUBJECT, "user-1");
    assert_eq!(both_fail(&nokey, false).code, R::InvalidConfig);

    // A custom grant with custom parameters, echoed back by the IdP; without its parameter
    // INVALID_REQUEST on both.
    let grant = || Req::new(&pk, Op::OIDC_OP_CUSTOM_GRANT).set(P::OIDC_PARAM_GRANT_TYPE, "urn:liboidc:grant-type:echo");
    let (x, y) = both_ok(&grant().param("color", "blue").param("size", "XL"));
    assert_eq!(token_shape(&y), token_shape(&x));
    assert_eq!(y.json()["echo"], json!({"color": "blue", "size": "XL"}));
    assert_eq!(both_fail(&grant(), false).code, R::InvalidRequest);

    // A used code fails alike (last: reusing a code revokes what it granted).
    let (r1, r2) = (exchange(&l1), exchange(&l2));
    let reused = same_failure(r2.send(), r1.send_async(null()), false);
    assert_eq!(reused.code, R::InvalidGrant);
}

#[test]
fn other_operations_match_on_both_paths() {
    let web = web();
    let (code, verifier, nonce) = login();
    let tokens = Req::new(&web, Op::OIDC_OP_AUTHORIZATION_CODE)
        .set(P::OIDC_PARAM_CODE, &code)
        .set(P::OIDC_PARAM_REDIRECT_URI, CB)
        .set(P::OIDC_PARAM_CODE_VERIFIER, &verifier)
        .set(P::OIDC_PARAM_NONCE, &nonce)
        .send()
        .unwrap();
    let id_token = tokens.str(F::OIDC_FIELD_ID_TOKEN).unwrap();
    let at = tokens.str(F::OIDC_FIELD_ACCESS_TOKEN).unwrap();
    let rt = tokens.str(F::OIDC_FIELD_REFRESH_TOKEN).unwrap();

    // ID token: the same claims; a wrong nonce fails alike.
    let v = Req::new(&web, Op::OIDC_OP_VALIDATE_ID_TOKEN).set(P::OIDC_PARAM_ID_TOKEN, &id_token);
    let (x, y) = both_ok(&v.set(P::OIDC_PARAM_NONCE, &nonce).set(P::OIDC_PARAM_ACCESS_TOKEN, &at));
    assert_eq!(y.fields(), x.fields());
    assert_eq!(y.json()["sub"], "user-1");
    let v = Req::new(&web, Op::OIDC_OP_VALIDATE_ID_TOKEN).set(P::OIDC_PARAM_ID_TOKEN, &id_token).set(P::OIDC_PARAM_NONCE, "another-nonce");
    assert_eq!(both_fail(&v, false).code, R::NonceMismatch);

    // UserInfo: the same claims; a bad token INVALID_TOKEN (401) on both; none refused.
    let ui = |t: &str| Req::new(&web, Op::OIDC_OP_USERINFO).set(P::OIDC_PARAM_ACCESS_TOKEN, t);
    let (x, y) = both_ok(&ui(&at).set(P::OIDC_PARAM_EXPECTED_SUB, "user-1"));
    assert_eq!(y.fields(), x.fields());
    assert_eq!(y.json()["email"], "user-1@liboidc.test");
    let bad = both_fail(&ui("not-a-valid-access-token"), false);
    assert_eq!(bad.code, R::InvalidToken);
    assert!(bad.summary.contains(r#""status":401"#), "the server's status in the details: {bad:?}");
    assert_eq!(both_fail(&Req::new(&web, Op::OIDC_OP_USERINFO), true).code, R::InvalidArgument);

    // Introspection, plain and RFC 9701: the same JSON; an out-of-range flag refused.
    for signed in [0, 1] {
        let i = Req::new(&web, Op::OIDC_OP_INTROSPECT)
            .set(P::OIDC_PARAM_TOKEN, &at)
            .set(P::OIDC_PARAM_TOKEN_TYPE_HINT, "access_token")
            .int(P::OIDC_PARAM_SIGNED_RESPONSE, signed);
        let (x, y) = both_ok(&i);
        assert_eq!(y.fields(), x.fields(), "signed {signed}");
        assert_eq!((y.json()["active"].clone(), y.int(F::OIDC_FIELD_ACTIVE)), (json!(true), 1));
    }
    let i = Req::new(&web, Op::OIDC_OP_INTROSPECT);
    assert_eq!(failure(i.try_int(P::OIDC_PARAM_SIGNED_RESPONSE, 4)).code, R::InvalidArgument);

    // A resource request (the IdP's /me) with the access token: same status and body.
    let me = format!("{}/me", idp().issuer);
    let r = Req::new(&web, Op::OIDC_OP_RESOURCE)
        .set(P::OIDC_PARAM_METHOD, "GET")
        .set(P::OIDC_PARAM_URL, &me)
        .set(P::OIDC_PARAM_ACCESS_TOKEN, &at);
    let (x, y) = both_ok(&r);
    assert_eq!(y.fields(), x.fields());
    assert_eq!(y.int(F::OIDC_FIELD_HTTP_STATUS), 200);
    assert_eq!(y.body(), x.body());
    // Any status is a success of the call: a bad token is the resource's 401 and its challenge.
    let r = Req::new(&web, Op::OIDC_OP_RESOURCE).set(P::OIDC_PARAM_URL, &me).set(P::OIDC_PARAM_ACCESS_TOKEN, "not-a-valid-access-token");
    let (x, y) = both_ok(&r);
    assert_eq!(y.fields(), x.fields());
    assert_eq!(y.int(F::OIDC_FIELD_HTTP_STATUS), 401);
    assert_eq!(both_fail(&Req::new(&web, Op::OIDC_OP_RESOURCE).set(P::OIDC_PARAM_URL, &me), true).code, R::InvalidArgument);

    // Authorization URL (state, nonce and challenge given: deterministic), PAR, response
    // checking, logout URL and endpoint lookup: the same answers.
    let challenge = pkce::generate().unwrap().challenge;
    let authz = |op: Op| {
        Req::new(&web, op)
            .set(P::OIDC_PARAM_REDIRECT_URI, CB)
            .add(P::OIDC_PARAM_SCOPE, "openid")
            .set(P::OIDC_PARAM_STATE, "st-1")
            .set(P::OIDC_PARAM_NONCE, "n-1")
            .set(P::OIDC_PARAM_CODE_CHALLENGE, &challenge)
    };
    let (x, y) = both_ok(&authz(Op::OIDC_OP_AUTHORIZATION_URL));
    assert_eq!(y.fields(), x.fields());
    assert!(y.str(F::OIDC_FIELD_CODE_VERIFIER).is_none(), "the host's challenge: no verifier made");

    let (x, y) = both_ok(&authz(Op::OIDC_OP_PUSHED_AUTHORIZATION));
    assert_eq!(json_keys(&y.json()), json_keys(&x.json()));
    assert!(y.str(F::OIDC_FIELD_REQUEST_URI).unwrap().starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!((y.str(F::OIDC_FIELD_STATE), y.str(F::OIDC_FIELD_NONCE)), (Some("st-1".into()), Some("n-1".into())));
    let bad_client = secret_client("web-app", "wrong-secret");
    let par = Req::new(&bad_client, Op::OIDC_OP_PUSHED_AUTHORIZATION).set(P::OIDC_PARAM_REDIRECT_URI, CB);
    assert_eq!(both_fail(&par, false).code, R::InvalidClient);

    let back = format!("{CB}?code=abc&state=st-1&iss={}", oidc_testkit::util::url_encode(&idp().issuer));
    let check = |state: &str| {
        Req::new(&web, Op::OIDC_OP_AUTHORIZATION_RESPONSE).set(P::OIDC_PARAM_RESPONSE, &back).set(P::OIDC_PARAM_EXPECTED_STATE, state)
    };
    let (x, y) = both_ok(&check("st-1"));
    assert_eq!(y.fields(), x.fields());
    assert_eq!(y.str(F::OIDC_FIELD_CODE).as_deref(), Some("abc"));
    assert_eq!(both_fail(&check("st-2"), false).code, R::StateMismatch);

    let l = Req::new(&web, Op::OIDC_OP_END_SESSION_URL)
        .set(P::OIDC_PARAM_ID_TOKEN_HINT, &id_token)
        .set(P::OIDC_PARAM_POST_LOGOUT_REDIRECT_URI, "http://127.0.0.1/logout-cb")
        .set(P::OIDC_PARAM_STATE, "bye");
    let (x, y) = both_ok(&l);
    assert_eq!(y.fields(), x.fields());

    let ep = |name: &str| Req::new(&web, Op::OIDC_OP_ENDPOINT).set(P::OIDC_PARAM_ENDPOINT_NAME, name);
    let (x, y) = both_ok(&ep("token_endpoint"));
    assert_eq!(y.fields(), x.fields());
    assert_eq!(y.str(F::OIDC_FIELD_URL).as_deref(), Some(idp().token_endpoint.as_str()));
    both_fail(&ep("registration_endpoint_nope"), false);

    // Revocation: the access token through the non-blocking send, the refresh token blocking;
    // both are then inactive. A wrong client secret fails alike; no token is refused.
    let revoke = |c: &Client, t: &str| Req::new(c, Op::OIDC_OP_REVOKE).set(P::OIDC_PARAM_TOKEN, t);
    assert_eq!(revoke(&web, &at).set(P::OIDC_PARAM_TOKEN_TYPE_HINT, "access_token").send_async(null()).unwrap().json(), json!({}));
    assert_eq!(revoke(&web, &rt).send().unwrap().op(), Op::OIDC_OP_REVOKE as u32);
    for t in [&at, &rt] {
        let i = Req::new(&web, Op::OIDC_OP_INTROSPECT).set(P::OIDC_PARAM_TOKEN, t).send().unwrap();
        assert_eq!((i.json()["active"].clone(), i.int(F::OIDC_FIELD_ACTIVE)), (json!(false), 0));
    }
    assert_eq!(both_fail(&revoke(&bad_client, &at), false).code, R::InvalidClient);
    assert_eq!(both_fail(&Req::new(&web, Op::OIDC_OP_REVOKE), true).code, R::InvalidArgument);
}

#[test]
fn registration_matches_on_both_paths_and_the_client_may_go_at_once() {
    let anon = oauth_build(oauth_builder(idp(), ""));
    let reg = |md: &Value| Req::new(&anon, Op::OIDC_OP_REGISTER).set(P::OIDC_PARAM_METADATA, &md.to_string());
    let (x, y) = both_ok(&reg(&json!({"redirect_uris": ["https://127.0.0.1/cb"], "client_name": "liboidc async"})));
    assert_eq!(json_keys(&y.json()), json_keys(&x.json()));
    assert_eq!(y.json()["client_name"], "liboidc async");
    assert_ne!(y.str(F::OIDC_FIELD_CLIENT_ID), x.str(F::OIDC_FIELD_CLIENT_ID));
    // The server's RFC 7591 error, on both paths.
    let bad = reg(&json!({"redirect_uris": ["https://127.0.0.1/cb"], "token_endpoint_auth_method": "bogus"}));
    assert_eq!(both_fail(&bad, false).code, R::InvalidClientMetadata);
    // No metadata: refused by the sends themselves.
    assert_eq!(both_fail(&Req::new(&anon, Op::OIDC_OP_REGISTER), true).code, R::InvalidArgument);
    // The request and the client may be freed at once: the call copied what it needs, and the
    // response handed to the callback is the host's.
    let r = reg(&json!({"redirect_uris": ["https://127.0.0.1/cb"]}));
    let batch = Batch::new(1);
    assert_eq!(r.submit(&batch, 0, null()), R::Ok);
    drop(r);
    drop(anon);
    assert!(batch.wait(1, WAIT));
    assert_eq!(batch.code(0), R::Ok as u32, "{:?}", batch.error(0));
    let resp = batch.take(0).unwrap();
    assert!(resp.str(F::OIDC_FIELD_CLIENT_ID).is_some());
    assert_eq!(resp.op(), Op::OIDC_OP_REGISTER as u32);
}

#[test]
fn null_request_or_callback_is_refused_and_no_callback_runs() {
    let web = web();
    let b = Batch::new(1);
    // Every operation, its request complete or not: a NULL callback is NULL_PARAMETER first.
    for op in 1..=24u32 {
        let mut r = null_mut();
        assert_eq!(oidc_oauth_request_new(web.0, op, &mut r, null_mut()), R::Ok, "op {op}");
        let r = Req(r);
        let mut e = null_mut();
        assert_eq!(start(&b, 0, |ud| oidc_oauth_send_async(r.0, null(), None, ud, &mut e)), R::NullParameter, "op {op}");
        assert_eq!(Fail::take(e, true).code, R::NullParameter);
    }
    let mut e = null_mut();
    assert_eq!(start(&b, 0, |ud| oidc_oauth_send_async(null(), null(), Some(on_response), ud, &mut e)), R::NullParameter);
    oidc_error_free(e);
    let mut r = null_mut();
    assert_eq!(oidc_oauth_request_new(null(), Op::OIDC_OP_REFRESH as u32, &mut r, null_mut()), R::NullParameter);
    assert!(r.is_null());
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(b.done.load(Ordering::Acquire), 0, "no callback ran");
}

#[test]
fn pre_cancelled_calls_complete_cancelled_and_a_cancel_after_start_is_answered_once() {
    let web = web();
    let svc = secret_client("svc-basic", "svc-basic-secret");
    let anon = oauth_build(oauth_builder(idp(), ""));
    let cancel = new_cancel(0);
    oidc_cancel_trigger(cancel);
    let md = json!({"redirect_uris": ["https://127.0.0.1/cb"]}).to_string();
    let calls = [
        Req::new(&svc, Op::OIDC_OP_CLIENT_CREDENTIALS),
        Req::new(&svc, Op::OIDC_OP_CLIENT_CREDENTIALS).int(P::OIDC_PARAM_USE_CACHE, 1),
        Req::new(&web, Op::OIDC_OP_REFRESH).set(P::OIDC_PARAM_REFRESH_TOKEN, "tok"),
        Req::new(&web, Op::OIDC_OP_AUTHORIZATION_CODE).set(P::OIDC_PARAM_CODE, "tok").set(P::OIDC_PARAM_REDIRECT_URI, CB),
        Req::new(&web, Op::OIDC_OP_INTROSPECT).set(P::OIDC_PARAM_TOKEN, "tok"),
        Req::new(&web, Op::OIDC_OP_USERINFO).set(P::OIDC_PARAM_ACCESS_TOKEN, "tok"),
        Req::new(&web, Op::OIDC_OP_REVOKE).set(P::OIDC_PARAM_TOKEN, "tok"),
        Req::new(&web, Op::OIDC_OP_PUSHED_AUTHORIZATION),
        Req::new(&web, Op::OIDC_OP_DEVICE_POLL).set(P::OIDC_PARAM_DEVICE_CODE, "dc"),
        Req::new(&web, Op::OIDC_OP_RESOURCE).set(P::OIDC_PARAM_URL, "https://127.0.0.1/").set(P::OIDC_PARAM_ACCESS_TOKEN, "tok"),
        Req::new(&anon, Op::OIDC_OP_REGISTER).set(P::OIDC_PARAM_METADATA, &md),
    ];
    for (i, r) in calls.iter().enumerate() {
        let f = same_failure(r.send_with(cancel), r.send_async(cancel), false);
        assert_eq!(f.code, R::Cancelled, "call {i}");
        assert!(f.summary.starts_with(&format!("{}|", R::Cancelled as u32)));
    }
    oidc_cancel_free(cancel);

    // Cancelled right after they were accepted: each completes exactly once, OK or CANCELLED.
    let cancel = new_cancel(0);
    let cc = Req::new(&svc, Op::OIDC_OP_CLIENT_CREDENTIALS);
    let intro = Req::new(&web, Op::OIDC_OP_INTROSPECT).set(P::OIDC_PARAM_TOKEN, "tok");
    let batch = Batch::new(16);
    for i in 0..16 {
        let r = if i % 2 == 0 { &cc } else { &intro };
        assert_eq!(r.submit(&batch, i, cancel), R::Ok);
    }
    oidc_cancel_trigger(cancel);
    oidc_cancel_free(cancel);
    assert!(batch.wait(16, WAIT));
    std::thread::sleep(Duration::from_millis(50));
    for i in 0..16 {
        assert_eq!(batch.calls[i].load(Ordering::Acquire), 1, "call {i} exactly once");
        assert!([R::Ok as u32, R::Cancelled as u32].contains(&batch.code(i)), "call {i}: {}", batch.code(i));
        assert_eq!(batch.take(i).is_some(), batch.code(i) == R::Ok as u32, "a response exactly on OK");
    }
    assert!(!batch.threads.lock().unwrap().contains(&std::thread::current().id()));
}

#[test]
fn freeing_the_client_and_requests_with_calls_in_flight_is_safe_and_every_callback_runs() {
    let svc = secret_client("svc-post", "svc-post-secret");
    let opaque = idp().token("urn:liboidc:opaque", "read");
    let reqs = [
        Req::new(&svc, Op::OIDC_OP_CLIENT_CREDENTIALS),
        Req::new(&svc, Op::OIDC_OP_INTROSPECT).set(P::OIDC_PARAM_TOKEN, &opaque),
        Req::new(&svc, Op::OIDC_OP_USERINFO).set(P::OIDC_PARAM_ACCESS_TOKEN, "not-a-valid-access-token"),
        Req::new(&svc, Op::OIDC_OP_ENDPOINT).set(P::OIDC_PARAM_ENDPOINT_NAME, "introspection_endpoint"),
    ];
    let batch = Batch::new(24);
    for i in 0..24 {
        assert_eq!(reqs[i % 4].submit(&batch, i, null()), R::Ok);
    }
    // Both return at once; the calls hold their own copies and references.
    drop(reqs);
    drop(svc);
    assert!(batch.wait(24, WAIT), "every callback ran");
    std::thread::sleep(Duration::from_millis(50));
    for i in 0..24 {
        assert_eq!(batch.calls[i].load(Ordering::Acquire), 1, "call {i} exactly once");
        let want = if i % 4 == 2 { R::InvalidToken } else { R::Ok };
        assert_eq!(batch.code(i), want as u32, "call {i}: {:?}", batch.error(i));
    }
    let introspected = batch.take(1).unwrap().json();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["aud"], "urn:liboidc:opaque");
}
