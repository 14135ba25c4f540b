//! The protocol client over the C ABI: builder, handle, token responses, client credentials.

use std::ffi::{CString, c_char};
use std::path::PathBuf;
use std::time::Duration;

use super::boundary::{check_out, ffi_boundary, free_box, try_mut, try_ref, try_utf8, write_box, write_owned_string};
use super::error::{FfiError, oidc_error, oidc_result};
use crate::core::oauth::{ClientAuth, OAuthClient, OAuthConfig, Secret, TokenResponse};

/// Collects a protocol client's configuration. One thread at a time; consumed by
/// `oidc_oauth_builder_build`.
pub struct oidc_oauth_builder {
    pub(crate) cfg: OAuthConfig,
    pub(crate) method: Option<String>,
    pub(crate) secret: Option<Secret>,
    /// private_key_jwt key (set with `oidc_oauth_builder_set_private_key_pem` / `_jwk`).
    pub(crate) key: Option<std::sync::Arc<crate::core::oauth::SigningKey>>,
    /// The first setter failure, reported by `_build` (see `oidc_validator_builder`).
    failed: Option<(oidc_result, String)>,
}

/// An OAuth 2.0 / OpenID Connect protocol client (one registered client at one issuer). Every
/// function taking `const oidc_oauth_client *` may run concurrently from any thread; all of its
/// requests share one pooled HTTP connection set.
pub struct oidc_oauth_client {
    pub(crate) client: OAuthClient,
}

/// A token-endpoint response. Immutable; getters return borrowed strings valid until
/// `oidc_token_response_free`.
pub struct oidc_token_response {
    access_token: CString,
    token_type: CString,
    refresh_token: Option<CString>,
    id_token: Option<CString>,
    scope: Option<CString>,
    issued_token_type: Option<CString>,
    json: CString,
    expires_in: i64,
}

fn cstr(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

impl oidc_token_response {
    pub(crate) fn from_core(t: &TokenResponse) -> oidc_token_response {
        oidc_token_response {
            access_token: cstr(t.access_token.expose()),
            token_type: cstr(&t.token_type),
            refresh_token: t.refresh_token.as_ref().map(|s| cstr(s.expose())),
            id_token: t.id_token.as_ref().map(|s| cstr(s.expose())),
            scope: t.scope.as_deref().map(cstr),
            issued_token_type: t.issued_token_type.as_deref().map(cstr),
            json: cstr(t.raw.expose()),
            expires_in: t.expires_in.map(|v| v.min(i64::MAX as u64) as i64).unwrap_or(-1),
        }
    }
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

pub(crate) fn with_oauth_builder(
    builder: *mut oidc_oauth_builder,
    value: *const c_char,
    value_len: usize,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&mut oidc_oauth_builder, &str) -> Result<(), FfiError>,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: builder is NULL or a live builder used by one thread (API contract).
        let b = unsafe { try_mut(builder, "builder") }?;
        // SAFETY: value points to value_len readable bytes (API contract).
        let r = unsafe { try_utf8(value, value_len, "value") }.and_then(|s| f(b, s));
        super::client::remember_failure(&mut b.failed, r)
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
/// "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt") or
/// "auto" (the first method the issuer's `token_endpoint_auth_methods_supported` lists that the
/// credentials allow: private_key_jwt, then client_secret_basic, _post, _jwt). Without it:
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

/// HTTP timeouts in milliseconds (connect, total per request); defaults 5000 / 10000.
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
        b.cfg.base.connect_timeout = Duration::from_millis(connect_ms as u64);
        b.cfg.base.total_timeout = Duration::from_millis(total_ms as u64);
        Ok(())
    })
}

/// Allow plain http to loopback hosts (`allow` = 1); for local development only.
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
        super::client::failed_setter(b.failed.take())?;
        b.cfg.auth = ClientAuth::from_parts_with_key(b.method.as_deref(), b.secret.take(), b.key.take())?;
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

/// Optional string argument: `len == 0` means absent (`boundary::try_opt_utf8`, the core's rule).
pub(crate) fn opt_utf8<'a>(p: *const c_char, len: usize, name: &str) -> Result<Option<&'a str>, FfiError> {
    // SAFETY: p points to len readable bytes when len > 0 (API contract).
    unsafe { super::boundary::try_opt_utf8(p, len, name) }
}

/// A space-separated list (RFC 8707 resources) as its non-empty items.
pub(crate) fn words(s: Option<&str>) -> Vec<&str> {
    s.map(|r| r.split(' ').filter(|x| !x.is_empty()).collect()).unwrap_or_default()
}

/// A protocol call whose arguments were read, checked and copied (the `prepare_*` functions
/// beside each blocking call): the core call, ready to run on the calling thread (the blocking
/// function) or on a worker of the non-blocking API (its `_async` twin). One reader and one core
/// call per function, shared by both transports: no argument rule is written twice.
pub(crate) trait Prepared<T>: FnOnce(&OAuthClient) -> Result<T, FfiError> + Send + 'static {}
impl<T, F: FnOnce(&OAuthClient) -> Result<T, FfiError> + Send + 'static> Prepared<T> for F {}

/// Run a protocol call that yields a token response.
pub(crate) fn token_call(
    client: *const oidc_oauth_client,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&OAuthClient) -> Result<TokenResponse, FfiError>,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        check_out(out, "out")?;
        let t = f(&c.client)?;
        write_box(out, oidc_token_response::from_core(&t))
    })
}

/// Run a call on a protocol client that yields an owned string.
pub(crate) fn string_call(
    client: *const oidc_oauth_client,
    out: *mut *mut c_char,
    out_len: *mut usize,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&OAuthClient) -> Result<String, FfiError>,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        check_out(out, "out")?;
        let s = f(&c.client)?;
        write_owned_string(out, out_len, s)
    })
}

/// The arguments of `oidc_oauth_client_credentials` (`cached` = false) and
/// `oidc_oauth_client_credentials_cached` (true) and of their `_async` twins.
pub(crate) fn prepare_client_credentials(
    scope: *const c_char,
    scope_len: usize,
    resource: *const c_char,
    resource_len: usize,
    audience: *const c_char,
    audience_len: usize,
    cached: bool,
) -> Result<impl Prepared<TokenResponse>, FfiError> {
    let scope = opt_utf8(scope, scope_len, "scope")?.map(str::to_owned);
    let resource = opt_utf8(resource, resource_len, "resource")?.map(str::to_owned);
    let audience = opt_utf8(audience, audience_len, "audience")?.map(str::to_owned);
    Ok(move |c: &OAuthClient| {
        let resources = words(resource.as_deref());
        let r = if cached {
            c.client_credentials_cached(scope.as_deref(), &resources, audience.as_deref())
        } else {
            c.client_credentials(scope.as_deref(), &resources, audience.as_deref())
        };
        r.map_err(Into::into)
    })
}

/// Client credentials grant (RFC 6749 §4.4). `scope`, `resource` (RFC 8707) and `audience` are
/// optional (`len` 0 = absent); `resource` may hold several URIs separated by spaces.
/// # Ownership: `client` and the strings borrowed; on OK `*out` is caller-owned, free with
///   `oidc_token_response_free`.
/// # Thread safety: may be called concurrently on one client.
/// # Blocking: yes: one request to the token endpoint (plus discovery on first use), bounded by
///   the client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_client_credentials(
    client: *const oidc_oauth_client,
    scope: *const c_char,
    scope_len: usize,
    resource: *const c_char,
    resource_len: usize,
    audience: *const c_char,
    audience_len: usize,
    out: *mut *mut oidc_token_response,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    token_call(client, out, err_out, |c| {
        prepare_client_credentials(scope, scope_len, resource, resource_len, audience, audience_len, false)?(c)
    })
}

fn token_field(resp: *const oidc_token_response, f: impl Fn(&oidc_token_response) -> Option<&CString>) -> *const c_char {
    // SAFETY: resp is NULL or live (API contract).
    unsafe { resp.as_ref() }.and_then(f).map(|s| s.as_ptr()).unwrap_or(std::ptr::null())
}

/// The access token (a secret: never log it).
/// # Ownership: borrowed from `resp`, valid until `oidc_token_response_free`; NULL when
///   `resp` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_token_response_access_token(resp: *const oidc_token_response) -> *const c_char {
    token_field(resp, |r| Some(&r.access_token))
}

/// The token type ("Bearer", "DPoP", "N_A").
/// # Ownership: borrowed from `resp`, valid until `oidc_token_response_free`; NULL when
///   `resp` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_token_response_token_type(resp: *const oidc_token_response) -> *const c_char {
    token_field(resp, |r| Some(&r.token_type))
}

/// The refresh token, if issued.
/// # Ownership: borrowed from `resp`, valid until `oidc_token_response_free`; NULL when
///   absent or when `resp` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_token_response_refresh_token(resp: *const oidc_token_response) -> *const c_char {
    token_field(resp, |r| r.refresh_token.as_ref())
}

/// The ID token, if issued.
/// # Ownership: borrowed from `resp`, valid until `oidc_token_response_free`; NULL when
///   absent or when `resp` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_token_response_id_token(resp: *const oidc_token_response) -> *const c_char {
    token_field(resp, |r| r.id_token.as_ref())
}

/// The granted scope, if the server sent it.
/// # Ownership: borrowed from `resp`, valid until `oidc_token_response_free`; NULL when
///   absent or when `resp` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_token_response_scope(resp: *const oidc_token_response) -> *const c_char {
    token_field(resp, |r| r.scope.as_ref())
}

/// RFC 8693 issued_token_type, if present.
/// # Ownership: borrowed from `resp`, valid until `oidc_token_response_free`; NULL when
///   absent or when `resp` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_token_response_issued_token_type(resp: *const oidc_token_response) -> *const c_char {
    token_field(resp, |r| r.issued_token_type.as_ref())
}

/// The whole response as JSON (contains secrets: never log it).
/// # Ownership: borrowed from `resp`, valid until `oidc_token_response_free`; NULL when
///   `resp` is NULL.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_token_response_json(resp: *const oidc_token_response) -> *const c_char {
    token_field(resp, |r| Some(&r.json))
}

/// `expires_in` in seconds, or -1 when the server did not send it (or `resp` is NULL).
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_token_response_expires_in(resp: *const oidc_token_response) -> i64 {
    // SAFETY: resp is NULL or live (API contract).
    unsafe { resp.as_ref() }.map(|r| r.expires_in).unwrap_or(-1)
}

/// Free a token response. NULL is accepted.
/// # Ownership: consumes `resp`.
/// # Thread safety: any thread, once.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_token_response_free(resp: *mut oidc_token_response) {
    // SAFETY: resp came from Box::into_raw in token_call (API contract).
    unsafe { free_box(resp) }
}
