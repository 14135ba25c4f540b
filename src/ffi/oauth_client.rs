//! The protocol client over the C ABI: its builder (issuer, client id, authentication, keys,
//! endpoints, timeouts), the handle, and DPoP proofs for requests the host sends itself. The
//! protocol calls themselves are requests (`oauth_request`). Translation only.

use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::boundary::{check_out, ffi_boundary, free_box, try_mut, try_ref, try_utf8, write_box, write_owned_string};
use super::error::{FfiError, oidc_error, oidc_result};
use crate::core::oauth::{AssertionAudience, ClientAuth, OAuthClient, OAuthConfig, Secret, SigningKey};

fn invalid(msg: &str) -> FfiError {
    FfiError::new(oidc_result::InvalidArgument, msg)
}

/// Optional string argument: `len == 0` means absent (the one rule: `boundary::try_opt_utf8`).
fn opt_utf8<'a>(p: *const c_char, len: usize, name: &str) -> Result<Option<&'a str>, FfiError> {
    // SAFETY: p points to len readable bytes (API contract).
    unsafe { super::boundary::try_opt_utf8(p, len, name) }
}

/// Collects a protocol client's configuration. One thread at a time; consumed by
/// `oidc_oauth_builder_build`.
pub struct oidc_oauth_builder {
    pub(crate) cfg: OAuthConfig,
    pub(crate) method: Option<String>,
    pub(crate) secret: Option<Secret>,
    /// private_key_jwt key (set with `oidc_oauth_builder_set_private_key_pem` / `_jwk`).
    pub(crate) key: Option<std::sync::Arc<crate::core::oauth::SigningKey>>,
    /// The first setter failure, reported by `_build` (see `oidc_validator_builder`).
    pub(crate) failed: Option<(oidc_result, String)>,
}

/// An OAuth 2.0 / OpenID Connect protocol client (one registered client at one issuer). Every
/// function taking `const oidc_oauth_client *` may run concurrently from any thread; all of its
/// requests share one pooled HTTP connection set.
pub struct oidc_oauth_client {
    pub(crate) client: OAuthClient,
}

/// Create a protocol-client builder. Defaults as for `oidc_validator_builder_new` (https only,
/// timeouts 5 s / 10 s); the ID-token audience is the client id.
/// # Ownership: on OK `*out` is caller-owned: build it or free it with `oidc_oauth_builder_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_new(out: *mut *mut oidc_oauth_builder, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || {
        write_box(
            out,
            oidc_oauth_builder { cfg: OAuthConfig::new("", "", ClientAuth::None), method: None, secret: None, key: None, failed: None },
        )
    })
}

/// Free a builder that will not be built. NULL is accepted.
/// # Ownership: consumes `builder`.
/// # Thread safety: not concurrently with other calls on the same builder.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_free(builder: *mut oidc_oauth_builder) {
    // SAFETY: builder came from oidc_oauth_builder_new (API contract).
    unsafe { free_box(builder) }
}

/// Run a setter on a live builder; its failure is remembered for `_build`.
pub(crate) fn with_oauth(
    builder: *mut oidc_oauth_builder,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&mut oidc_oauth_builder) -> Result<(), FfiError>,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: builder is NULL or a live builder used by one thread (API contract).
        let b = unsafe { try_mut(builder, "builder") }?;
        let r = f(b);
        super::validator::remember_failure(&mut b.failed, r)
    })
}

/// `with_oauth` for a setter of one UTF-8 string.
pub(crate) fn with_oauth_builder(
    builder: *mut oidc_oauth_builder,
    value: *const c_char,
    value_len: usize,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&mut oidc_oauth_builder, &str) -> Result<(), FfiError>,
) -> oidc_result {
    with_oauth(builder, err_out, |b| {
        // SAFETY: value points to value_len readable bytes (API contract).
        let s = unsafe { try_utf8(value, value_len, "value") }?;
        f(b, s)
    })
}

/// Set the issuer (required); its metadata is discovered on first use.
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_issuer(
    builder: *mut oidc_oauth_builder,
    issuer: *const c_char,
    issuer_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, issuer, issuer_len, err_out, |b, s| {
        b.cfg.base.issuer = s.to_string();
        Ok(())
    })
}

/// Set the client id (required).
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_client_id(
    builder: *mut oidc_oauth_builder,
    client_id: *const c_char,
    client_id_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, client_id, client_id_len, err_out, |b, s| {
        b.cfg.client_id = s.to_string();
        Ok(())
    })
}

/// Set the client secret. It is never shown in messages, logs or debug output.
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_client_secret(
    builder: *mut oidc_oauth_builder,
    secret: *const c_char,
    secret_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, secret, secret_len, err_out, |b, s| {
        b.secret = Some(Secret::new(s));
        Ok(())
    })
}

/// Choose the client authentication method by its RFC 7591 name ("none",
/// "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt",
/// RFC 8705 "tls_client_auth" and "self_signed_tls_client_auth": both need
/// `oidc_oauth_builder_set_client_cert`) or
/// "auto" (the first method the issuer's `token_endpoint_auth_methods_supported` lists that the
/// credentials allow: private_key_jwt, then client_secret_basic, _post, _jwt, then with only a
/// client certificate tls_client_auth, self_signed_tls_client_auth). Without it:
/// private_key_jwt when a private key is set, client_secret_basic when a secret is set, none
/// otherwise.
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_auth_method(
    builder: *mut oidc_oauth_builder,
    method: *const c_char,
    method_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, method, method_len, err_out, |b, s| {
        b.method = Some(s.to_string());
        Ok(())
    })
}

/// Trust the PEM certificates in this file (in addition to the system store and the CA
/// environment variables). Read when the client is built.
/// # Ownership: `builder` borrowed; the path copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_ca_file(
    builder: *mut oidc_oauth_builder,
    path: *const c_char,
    path_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, path, path_len, err_out, |b, s| {
        b.cfg.base.ca_file = Some(PathBuf::from(s));
        Ok(())
    })
}

/// Override an endpoint by its metadata name ("token_endpoint", "introspection_endpoint", ...,
/// "jwks_uri"); the URL passes the https policy.
/// # Ownership: `builder` borrowed; the values copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_endpoint(
    builder: *mut oidc_oauth_builder,
    name: *const c_char,
    name_len: usize,
    url: *const c_char,
    url_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, name, name_len, err_out, |b, name| {
        // SAFETY: url points to url_len readable bytes (API contract).
        let url = unsafe { try_utf8(url, url_len, "url") }?;
        b.cfg.endpoints.push((name.to_string(), url.to_string()));
        Ok(())
    })
}

/// HTTP timeouts in milliseconds (connect, total per request); defaults 5000 / 10000; each 1 ms
/// to 600 s; 0 keeps that one's current setting (so one can be set without restating the other).
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_timeouts_ms(
    builder: *mut oidc_oauth_builder,
    connect_ms: u32,
    total_ms: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, std::ptr::null(), 0, err_out, |b, _| {
        if connect_ms != 0 {
            b.cfg.base.connect_timeout = Duration::from_millis(connect_ms as u64);
        }
        if total_ms != 0 {
            b.cfg.base.total_timeout = Duration::from_millis(total_ms as u64);
        }
        Ok(())
    })
}

/// Allow plain http to loopback hosts (`allow` = 1); for local development only.
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_allow_http_loopback(
    builder: *mut oidc_oauth_builder,
    allow: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, std::ptr::null(), 0, err_out, |b, _| {
        b.cfg.base.allow_http_loopback = allow != 0;
        Ok(())
    })
}

/// A shared replay store for back-channel logout tokens (OIDC_OP_VALIDATE_LOGOUT_TOKEN), for a
/// fleet of relying-party processes: the callback contract of
/// `oidc_validator_builder_set_dpop_replay_store` (atomically record the key if absent; 1 first
/// use, 0 seen before, negative when the store cannot answer: the token is then refused with
/// `OIDC_RESULT_REPLAY_STORE_UNAVAILABLE`, never accepted). Keys start with `liboidc:logout:`
/// (never a DPoP key); the TTL is the token's remaining lifetime plus the leeway. The client's own
/// bounded cache is always consulted first. A NULL `cb` clears it. The callback must not call
/// liboidc; `user_data` must stay valid as long as any client built from this builder lives.
/// # Ownership: `builder` borrowed; `user_data` kept, never freed by liboidc.
/// # Thread safety: not concurrently on one builder; `cb` is called from any thread, concurrently.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_replay_store(
    builder: *mut oidc_oauth_builder,
    cb: super::authn::oidc_replay_store_cb,
    user_data: *mut std::ffi::c_void,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, std::ptr::null(), 0, err_out, |b, _| {
        b.cfg.logout.replay_store = super::authn::HostStore::boxed(cb, user_data);
        Ok(())
    })
}

/// Accept back-channel logout tokens without a header `typ` (or with the generic `JWT`):
/// `accept` = 1. By default (0) a logout token must be typed `logout+jwt` (Back-Channel Logout
/// 1.0 §2.4 recommends it; it keeps logout tokens apart from other JWTs) and an untyped one is
/// refused with `OIDC_RESULT_TYPE_MISMATCH`. Turn this on only for an OP that does not type its
/// logout tokens; the `events` claim still marks them.
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_logout_accept_untyped(
    builder: *mut oidc_oauth_builder,
    accept: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, std::ptr::null(), 0, err_out, |b, _| {
        b.cfg.logout.accept_untyped = match accept {
            0 => false,
            1 => true,
            _ => return Err(invalid("accept must be 0 or 1")),
        };
        Ok(())
    })
}

/// Send every request of this client (discovery, JWKS, token, PAR, introspection, revocation,
/// userinfo, ...) through an HTTP proxy: `http://[user[:password]@]host:port` (user and
/// password percent-encoded), HTTP CONNECT for https targets (TLS, including an mTLS client
/// certificate, stays end to end). The credentials are sent as `Proxy-Authorization: Basic` and
/// never appear in a message, log or debug output. An explicit proxy wins over the environment;
/// `no_proxy`/`NO_PROXY` apply to it only with `oidc_oauth_builder_set_proxy_from_env`. Length 0
/// clears it. A malformed URL fails here (`OIDC_RESULT_INVALID_CONFIG`) and again at build. A
/// proxy that refuses or cannot be reached gives `OIDC_RESULT_PROXY`.
/// # Ownership: `builder` borrowed; `url` (UTF-8, `url_len` bytes) copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_proxy(
    builder: *mut oidc_oauth_builder,
    url: *const c_char,
    url_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, url, url_len, err_out, |b, s| {
        b.cfg.base.proxy = if s.is_empty() { None } else { Some(crate::core::http::ProxyUrl::parse(s, false)?) };
        Ok(())
    })
}

/// Opt in (`enable` = 1) to the proxy variables `https_proxy`/`HTTPS_PROXY` and
/// `no_proxy`/`NO_PROXY`, read when the client is built; as
/// `oidc_validator_builder_set_proxy_from_env`. Off by default.
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_proxy_from_env(
    builder: *mut oidc_oauth_builder,
    enable: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, std::ptr::null(), 0, err_out, |b, _| {
        b.cfg.base.proxy_from_env = enable != 0;
        Ok(())
    })
}

/// Set the mTLS client certificate (RFC 8705): `cert_pem` the PEM certificate chain (leaf
/// first), `key_pem` its unencrypted PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC). Presented
/// to every server that asks for one; with it the client uses the issuer's
/// `mtls_endpoint_aliases` for the endpoints listed there, and the token endpoint binds access
/// tokens to the certificate (`cnf.x5t#S256`). Authenticate with it by
/// `oidc_oauth_builder_set_auth_method` "tls_client_auth" (a CA-issued certificate) or
/// "self_signed_tls_client_auth". A certificate or key that is not PEM, or a key that does not
/// match the certificate, fails here with `OIDC_RESULT_CLIENT_CERT` (and again at build). The
/// key is never shown in messages or debug output. To read files, pass their contents.
/// # Ownership: `builder` borrowed; both buffers copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_client_cert(
    builder: *mut oidc_oauth_builder,
    cert_pem: *const c_char,
    cert_pem_len: usize,
    key_pem: *const c_char,
    key_pem_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, cert_pem, cert_pem_len, err_out, |b, cert| {
        // SAFETY: key_pem points to key_pem_len readable bytes (API contract).
        let key = unsafe { try_utf8(key_pem, key_pem_len, "key_pem") }?;
        b.cfg.base.client_cert = Some(crate::core::http::ClientCertificate::from_pem(cert.as_bytes(), key.as_bytes())?);
        Ok(())
    })
}

/// Check the configuration and build the client (no network). A setter that failed earlier
/// makes the build fail with that setter's code (never a default in its place).
/// # Ownership: consumes `builder` in every case; on OK `*out` is caller-owned, free with
///   `oidc_oauth_client_free`.
/// # Thread safety: any thread.
/// # Blocking: reads CA and key files; no network.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_build(
    builder: *mut oidc_oauth_builder,
    out: *mut *mut oidc_oauth_client,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        if builder.is_null() {
            return Err(FfiError::new(oidc_result::NullParameter, "builder is NULL"));
        }
        // SAFETY: builder came from oidc_oauth_builder_new; taken over here in every case.
        let mut b = unsafe { Box::from_raw(builder) };
        check_out(out, "out")?;
        super::validator::failed_setter(b.failed.take())?;
        let (method, secret, key) = (b.method.take(), b.secret.take(), b.key.take());
        b.cfg.set_credentials(method.as_deref(), secret, key)?;
        let client = OAuthClient::new(b.cfg)?;
        write_box(out, oidc_oauth_client { client })
    })
}

/// Free a protocol client. NULL is accepted. Blocking calls running on other threads must have
/// returned. Non-blocking calls (`oidc_oauth_*_async`) may still be in flight: each holds its own
/// reference to the client's internals, so freeing is safe and never waits; their callbacks still
/// run, exactly once each, possibly after this function returned (keep their `user_data` valid
/// until then). Do not call it from a callback of a call on the same `client` handle if other
/// threads may still use the handle.
/// # Ownership: consumes `client`.
/// # Thread safety: not concurrently with any other call on the same client.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_client_free(client: *mut oidc_oauth_client) {
    // SAFETY: client came from oidc_oauth_builder_build (API contract).
    unsafe { free_box(client) }
}

// ---------------------------------------------------------------------------------------------
// Client keys (private_key_jwt, DPoP) and the assertion audience
// ---------------------------------------------------------------------------------------------

// The C setters' argument list, forwarded as is.
#[allow(clippy::too_many_arguments)]
fn set_key(
    builder: *mut oidc_oauth_builder,
    key: *const c_char,
    key_len: usize,
    kid: *const c_char,
    kid_len: usize,
    alg: *const c_char,
    alg_len: usize,
    err_out: *mut *mut oidc_error,
    jwk: bool,
) -> oidc_result {
    with_oauth_builder(builder, key, key_len, err_out, |b, text| {
        let kid = opt_utf8(kid, kid_len, "kid")?;
        let alg = opt_utf8(alg, alg_len, "alg")?;
        let k = if jwk { SigningKey::from_jwk(text, alg, kid)? } else { SigningKey::from_pem(text, alg, kid)? };
        b.key = Some(Arc::new(k));
        Ok(())
    })
}

/// Set the client's private key for `private_key_jwt` (and JWT-bearer assertions) from PEM
/// (PKCS#8, PKCS#1 RSA or SEC1 EC; RSA >= 2048 bits, EC P-256/P-384, Ed25519). `kid` (optional,
/// `len` 0 = none) is put in assertion headers; `alg` (optional) defaults by key type (RS256,
/// ES256/ES384/ES512, EdDSA) and may be PS256 etc. for RSA. Parsed now: a bad key fails here. The
/// key never appears in messages or logs.
/// # Ownership: `builder` borrowed; the values copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_private_key_pem(
    builder: *mut oidc_oauth_builder,
    pem: *const c_char,
    pem_len: usize,
    kid: *const c_char,
    kid_len: usize,
    alg: *const c_char,
    alg_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    set_key(builder, pem, pem_len, kid, kid_len, alg, alg_len, err_out, false)
}

/// Like `oidc_oauth_builder_set_private_key_pem`, from a private JWK (RSA with CRT members, EC,
/// OKP Ed25519). `kid` and `alg` default to the JWK's own members.
/// # Ownership: `builder` borrowed; the values copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_private_key_jwk(
    builder: *mut oidc_oauth_builder,
    jwk: *const c_char,
    jwk_len: usize,
    kid: *const c_char,
    kid_len: usize,
    alg: *const c_char,
    alg_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    set_key(builder, jwk, jwk_len, kid, kid_len, alg, alg_len, err_out, true)
}

/// Enable DPoP (RFC 9449) with this key (PEM or a private JWK: ES256, EdDSA, ...), or with a
/// freshly generated ES256 key when `key_len` is 0. Token requests then carry DPoP proofs (one
/// automatic retry on `use_dpop_nonce`; nonces are remembered per server) and the tokens are
/// DPoP-bound.
/// # Ownership: `builder` borrowed; the key copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_dpop_key(
    builder: *mut oidc_oauth_builder,
    key: *const c_char,
    key_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, key, key_len, err_out, |b, text| {
        let k = if text.is_empty() { SigningKey::generate_es256()? } else { SigningKey::from_pem_or_jwk(text, None, None)? };
        let k = Arc::new(k);
        // Refuse a key whose algorithm cannot sign DPoP proofs now, not at the first request.
        crate::core::oauth::dpop::Dpop::new(k.clone())?;
        b.cfg.dpop_key = Some(k);
        Ok(())
    })
}

/// The `aud` of client assertions: "token_endpoint" (default), "issuer" or "endpoint" (the URL
/// being called).
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_assertion_audience(
    builder: *mut oidc_oauth_builder,
    audience: *const c_char,
    audience_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, audience, audience_len, err_out, |b, s| {
        b.cfg.assertion_audience = AssertionAudience::from_name(s)?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// DPoP proofs for requests the host sends itself
// ---------------------------------------------------------------------------------------------

/// A DPoP proof for a request the caller sends itself: `method` and `url` of that request;
/// `access_token` (optional) for resource requests (adds `ath`). The nonce last received from
/// the URL's server is included. Put it in a `DPoP` header, with `Authorization: DPoP <token>`.
/// # Ownership: `client` and the strings borrowed; on OK `*proof_out` is caller-owned, free with
///   `oidc_string_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_dpop_proof(
    client: *const oidc_oauth_client,
    method: *const c_char,
    method_len: usize,
    url: *const c_char,
    url_len: usize,
    access_token: *const c_char,
    access_token_len: usize,
    proof_out: *mut *mut c_char,
    proof_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live; pointer/length pairs per the API contract.
        let c = unsafe { try_ref(client, "client") }?;
        check_out(proof_out, "proof_out")?;
        let method = unsafe { try_utf8(method, method_len, "method") }?;
        let url = unsafe { try_utf8(url, url_len, "url") }?;
        if method.is_empty() || url.is_empty() {
            return Err(invalid("method and url are required"));
        }
        let at = opt_utf8(access_token, access_token_len, "access_token")?;
        let p = c.client.dpop_proof(method, url, at)?;
        write_owned_string(proof_out, proof_len_out, p)
    })
}

/// Remember a `DPoP-Nonce` the caller received from `url`'s server (for proofs made with
/// `oidc_oauth_dpop_proof`). Requests liboidc sends itself handle nonces on their own.
/// # Ownership: everything borrowed.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_dpop_set_nonce(
    client: *const oidc_oauth_client,
    url: *const c_char,
    url_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live; pointer/length pairs per the API contract.
        let c = unsafe { try_ref(client, "client") }?;
        let url = unsafe { try_utf8(url, url_len, "url") }?;
        let nonce = unsafe { try_utf8(nonce, nonce_len, "nonce") }?;
        let d = c.client.dpop().ok_or_else(|| FfiError::new(oidc_result::InvalidConfig, "this client has no DPoP key"))?;
        d.remember(url, nonce);
        Ok(())
    })
}

/// The DPoP key's RFC 7638 thumbprint (`jkt`; bound tokens carry it as `cnf.jkt`).
/// # Ownership: `client` borrowed; on OK `*out` is caller-owned, free with `oidc_string_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_dpop_jkt(
    client: *const oidc_oauth_client,
    out: *mut *mut c_char,
    len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        let d = c.client.dpop().ok_or_else(|| FfiError::new(oidc_result::InvalidConfig, "this client has no DPoP key"))?;
        write_owned_string(out, len_out, d.thumbprint())
    })
}
