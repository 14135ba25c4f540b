//! Client builder, client handle and validation.

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::time::Duration;

use super::boundary::{
    check_out, ffi_boundary, ffi_guard, free_box, try_mut, try_opt_utf8, try_ref, try_utf8, write_box, write_owned_string,
};
use super::cancel::{cancel_owned, oidc_cancel};
use super::error::{FfiError, oidc_error, oidc_result};
use super::pool::{on_done, on_string, string_out, submit};
use crate::core::{Client, Config, KeySource};

/// Collects a client's configuration. Not thread safe: use from one thread, then
/// `oidc_validator_builder_build` (which consumes it) or `oidc_validator_builder_free`.
pub struct oidc_validator_builder {
    pub(crate) cfg: Config,
    /// The first setter failure: `_build` reports it instead of building with a default in its
    /// place (a caller who checks only `_build` must never get a client it did not configure).
    pub(crate) failed: Option<(oidc_result, String)>,
}

/// Remember the first failure of a setter on a builder; `_build` reports it.
pub(crate) fn remember_failure(failed: &mut Option<(oidc_result, String)>, r: Result<(), FfiError>) -> Result<(), FfiError> {
    if let Err(e) = &r {
        if failed.is_none() {
            *failed = Some((e.code, e.message.clone()));
        }
    }
    r
}

/// The error `_build` answers after a failed setter: the setter's own code and message.
pub(crate) fn failed_setter(failed: Option<(oidc_result, String)>) -> Result<(), FfiError> {
    match failed {
        Some((code, message)) => Err(FfiError::new(code, format!("not built: an earlier setter failed: {message}"))),
        None => Ok(()),
    }
}

/// A validating client for one issuer (or a static key set). Immutable once built apart from its
/// internal caches: every function taking `const oidc_validator *` may run concurrently on one
/// client from any number of threads.
pub struct oidc_validator {
    pub(crate) client: Client,
}

/// Create a builder with every default: algorithms RS256/384/512, PS256/384/512, ES256/384/512,
/// EdDSA; leeway 60 s; max token 16 KiB; connect timeout 5 s, total 10 s; https only.
/// # Ownership: on OK `*out` is caller-owned; consume it with `oidc_validator_builder_build` or
///   free it with `oidc_validator_builder_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_new(out: *mut *mut oidc_validator_builder, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || write_box(out, oidc_validator_builder { cfg: Config::new(""), failed: None }))
}

/// Free a builder that will not be built. NULL is accepted.
/// # Ownership: consumes `builder`.
/// # Thread safety: not concurrently with other calls on the same builder.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_free(builder: *mut oidc_validator_builder) {
    // SAFETY: builder came from oidc_validator_builder_new (API contract).
    unsafe { free_box(builder) }
}

pub(crate) fn with_builder(
    builder: *mut oidc_validator_builder,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&mut Config) -> Result<(), FfiError>,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: builder is NULL or a live builder used by one thread (API contract).
        let b = unsafe { try_mut(builder, "builder") }?;
        let r = f(&mut b.cfg);
        remember_failure(&mut b.failed, r)
    })
}

fn with_builder_str(
    builder: *mut oidc_validator_builder,
    value: *const c_char,
    value_len: usize,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&mut Config, &str) -> Result<(), FfiError>,
) -> oidc_result {
    with_builder(builder, err_out, |cfg| {
        // SAFETY: value points to value_len readable bytes (API contract).
        let s = unsafe { try_utf8(value, value_len, "value") }?;
        f(cfg, s)
    })
}

/// Set the issuer (required). Its `iss` must match tokens exactly; unless a JWKS URL or a static
/// key set is given, `{issuer}/.well-known/openid-configuration` is fetched on first use.
/// # Ownership: `builder` borrowed; `issuer` (UTF-8, `issuer_len` bytes) copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_issuer(
    builder: *mut oidc_validator_builder,
    issuer: *const c_char,
    issuer_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder_str(builder, issuer, issuer_len, err_out, |c, s| {
        c.issuer = s.to_string();
        Ok(())
    })
}

/// Use this JWKS URL instead of discovering one.
/// # Ownership: `builder` borrowed; the URL copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_jwks_uri(
    builder: *mut oidc_validator_builder,
    uri: *const c_char,
    uri_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder_str(builder, uri, uri_len, err_out, |c, s| {
        c.key_source = KeySource::JwksUri(s.to_string());
        Ok(())
    })
}

/// Use a static JWKS document (offline use, tests): no network at all. The document is parsed when
/// the client is built.
/// # Ownership: `builder` borrowed; the JSON copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_jwks_json(
    builder: *mut oidc_validator_builder,
    jwks_json: *const c_char,
    jwks_json_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder_str(builder, jwks_json, jwks_json_len, err_out, |c, s| {
        c.key_source = KeySource::Static(s.to_string());
        Ok(())
    })
}

/// Add an accepted audience (a token is accepted when any of its `aud` values matches any
/// configured audience). At least one is required unless `oidc_validator_builder_set_any_audience`.
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_add_audience(
    builder: *mut oidc_validator_builder,
    audience: *const c_char,
    audience_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder_str(builder, audience, audience_len, err_out, |c, s| {
        c.audiences.push(s.to_string());
        Ok(())
    })
}

/// Explicitly accept tokens for any audience (`allow` = 1). Off by default.
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_any_audience(
    builder: *mut oidc_validator_builder,
    allow: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        c.allow_any_audience = allow != 0;
        Ok(())
    })
}

/// Replace the algorithm allow-list with a comma- or space-separated list ("RS256,ES256").
/// `none`, HMAC and unknown names fail here, at once, with `OIDC_RESULT_UNSUPPORTED_ALGORITHM`,
/// and `oidc_validator_builder_build` then fails with the same code (never the default list). `Ed25519` is accepted as EdDSA.
/// # Ownership: `builder` borrowed; the list copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_algorithms(
    builder: *mut oidc_validator_builder,
    algorithms: *const c_char,
    algorithms_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder_str(builder, algorithms, algorithms_len, err_out, |c, s| {
        c.set_algorithms(s.split([',', ' ']).filter(|x| !x.is_empty())).map_err(Into::into)
    })
}

/// Clock-skew leeway for exp/nbf/iat in seconds (default 60, at most 3600).
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_leeway_secs(
    builder: *mut oidc_validator_builder,
    secs: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        c.leeway = Duration::from_secs(secs as u64);
        Ok(())
    })
}

/// Require a claim to be present and not null.
/// # Ownership: `builder` borrowed; the name copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_add_required_claim(
    builder: *mut oidc_validator_builder,
    claim: *const c_char,
    claim_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder_str(builder, claim, claim_len, err_out, |c, s| {
        c.required_claims.push(s.to_string());
        Ok(())
    })
}

/// Require the JOSE `typ` header, e.g. "at+jwt" (RFC 9068); compared case-insensitively, with
/// or without "application/".
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_expected_typ(
    builder: *mut oidc_validator_builder,
    typ: *const c_char,
    typ_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder_str(builder, typ, typ_len, err_out, |c, s| {
        c.expected_typ = Some(s.to_string());
        Ok(())
    })
}

/// Maximum token size in bytes (default 16384; 16 to 1 MiB).
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_max_token_bytes(
    builder: *mut oidc_validator_builder,
    max_bytes: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        c.max_token_bytes = max_bytes;
        Ok(())
    })
}

/// HTTP timeouts in milliseconds: connect (TCP connect and TLS handshake), and total per exchange
/// (connect + request + body). Defaults 5000 and 10000; each 1 ms to 600 s; 0 keeps that one's
/// current setting (the default, or what a loaded policy document set), so a caller can set one
/// of the two without restating the other.
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_timeouts_ms(
    builder: *mut oidc_validator_builder,
    connect_ms: u32,
    total_ms: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        if connect_ms != 0 {
            c.connect_timeout = Duration::from_millis(connect_ms as u64);
        }
        if total_ms != 0 {
            c.total_timeout = Duration::from_millis(total_ms as u64);
        }
        Ok(())
    })
}

/// Cap on any response body (discovery, JWKS) in bytes (default 512 KiB; 1 KiB to 16 MiB).
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_max_response_bytes(
    builder: *mut oidc_validator_builder,
    max_bytes: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        c.max_response_bytes = max_bytes;
        Ok(())
    })
}

/// Trust the PEM certificates in this file in addition to the system store and the CA file named
/// by SSL_CERT_FILE, else CURL_CA_BUNDLE, else REQUESTS_CA_BUNDLE. Read when the client is built.
/// # Ownership: `builder` borrowed; the path copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_ca_file(
    builder: *mut oidc_validator_builder,
    path: *const c_char,
    path_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder_str(builder, path, path_len, err_out, |c, s| {
        c.ca_file = Some(PathBuf::from(s));
        Ok(())
    })
}

/// Send every request of this validator (discovery, JWKS) through an HTTP proxy:
/// `http://[user[:password]@]host:port` (user and password percent-encoded), HTTP CONNECT for
/// https targets. The credentials are sent as `Proxy-Authorization: Basic` and never appear in a
/// message, log or debug output (the proxy is named `http://host:port`). An explicit proxy wins
/// over the environment; `no_proxy`/`NO_PROXY` apply to it only with
/// `oidc_validator_builder_set_proxy_from_env`. Length 0 clears it. A malformed URL fails here
/// (`OIDC_RESULT_INVALID_CONFIG`) and again at build. A proxy that refuses or cannot be reached
/// gives `OIDC_RESULT_PROXY`; its connection and CONNECT exchange count in the connect timeout
/// and the request's total timeout.
/// # Ownership: `builder` borrowed; `url` (UTF-8, `url_len` bytes) copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_proxy(
    builder: *mut oidc_validator_builder,
    url: *const c_char,
    url_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    if url_len == 0 {
        return with_builder(builder, err_out, |c| {
            c.proxy = None;
            Ok(())
        });
    }
    with_builder_str(builder, url, url_len, err_out, |c, s| {
        c.proxy = Some(crate::core::http::ProxyUrl::parse(s, false)?);
        Ok(())
    })
}

/// Opt in (`enable` = 1) to the proxy variables: `https_proxy`, else `HTTPS_PROXY` (an
/// `http://` proxy URL or `host:port`), with the bypass list `no_proxy`, else `NO_PROXY`
/// (comma-separated host names, IP addresses, `.domain` suffixes, `*`). Read when the validator
/// is built. Off by default: without this call the environment never routes requests through a
/// proxy (`HTTP_PROXY` and `ALL_PROXY` are never read). A malformed variable fails the build
/// (`OIDC_RESULT_INVALID_CONFIG`, naming the variable, not its value).
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_proxy_from_env(
    builder: *mut oidc_validator_builder,
    enable: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        c.proxy_from_env = enable != 0;
        Ok(())
    })
}

/// Allow plain http to loopback hosts (127.0.0.0/8, ::1, localhost) when `allow` = 1: for local
/// development only. Other hosts always need https.
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_allow_http_loopback(
    builder: *mut oidc_validator_builder,
    allow: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        c.allow_http_loopback = allow != 0;
        Ok(())
    })
}

/// Key-set cache bounds in seconds: `Cache-Control: max-age` is clamped to [min, max] (defaults
/// 60 and 86400; 3600 when the server sends no max-age), the refresh cooldown for unknown `kid`s
/// (default 30) and how long expired keys keep serving while refreshes fail (default 21600).
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_cache_policy_secs(
    builder: *mut oidc_validator_builder,
    ttl_min: u32,
    ttl_max: u32,
    refresh_cooldown: u32,
    stale_if_error: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        let s = |v: u32| Duration::from_secs(v as u64);
        c.set_cache_policy(s(ttl_min), s(ttl_max), s(refresh_cooldown), s(stale_if_error));
        Ok(())
    })
}

/// Warm start when the client is built (`oidc_validator_builder_set_prefetch`; passed as a
/// `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oidc_prefetch {
    /// Nothing: keys are fetched on first use (the default).
    None = 0,
    /// Fail fast: `oidc_validator_builder_build` fetches discovery and the key set and fails with
    /// the fetch's error (NETWORK, TLS, DISCOVERY_INVALID, ...) instead of returning a client that
    /// cannot validate.
    FailFast = 1,
    /// Background: the fetch runs on the worker pool, failures are logged and counted, and the
    /// first validation retries.
    Background = 2,
}

/// Warm start when the client is built: `mode` is an `oidc_prefetch` (`OIDC_PREFETCH_NONE`, the
/// default; `OIDC_PREFETCH_FAIL_FAST`; `OIDC_PREFETCH_BACKGROUND`). Any other value:
/// INVALID_ARGUMENT.
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no (`OIDC_PREFETCH_FAIL_FAST` makes `oidc_validator_builder_build` block, bounded
///   by the timeouts).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_prefetch(
    builder: *mut oidc_validator_builder,
    mode: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        c.prefetch = crate::core::Prefetch::from_u32(mode)?;
        Ok(())
    })
}

/// What validation does when the issuer's revocation list is unavailable past its grace period
/// (`oidc_validator_builder_set_revocation`; passed as a `uint32_t`). 0 is not a policy.
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// The variant names are the C names (`OIDC_REVOCATION_FAIL_CLOSED`, not `..._POLICY_...`).
#[allow(clippy::enum_variant_names)]
pub enum oidc_revocation_policy {
    /// Refuse every validation with `OIDC_RESULT_REVOCATION_UNAVAILABLE` (HTTP 503, retry later).
    OidcRevocationFailClosed = 1,
    /// Accept (still checking the last list held, if any); counted and logged.
    OidcRevocationFailOpen = 2,
}

/// Check every token against the issuer's signed revocation list (a JWS of `typ`
/// `revocation-list+jwt` signed by a key of the issuer's JWKS; see the README, "Signed
/// revocation lists"): a token whose `kid` or `jti` is listed fails with `OIDC_RESULT_REVOKED`.
/// `url` (UTF-8, `url_len` bytes; NULL or 0 bytes: the default
/// `<issuer>/.well-known/revocation-list`) must be https (http only on loopback with the
/// loopback opt-in); checked at build. `policy` is an `oidc_revocation_policy`
/// (`OIDC_REVOCATION_FAIL_CLOSED` or `OIDC_REVOCATION_FAIL_OPEN`; anything else, 0 included:
/// INVALID_ARGUMENT). `grace_secs`: how long a stale list keeps serving while fetches fail
/// (0: the default, 3600; at most 7 days). With several issuers, every issuer polls its own
/// default URL; an explicit `url` is the base issuer's. `oidc_validator_prefetch` (and
/// `OIDC_PREFETCH_FAIL_FAST`) fetch the list too and fail when that fails.
/// # Ownership: `builder` borrowed; `url` copied; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_revocation(
    builder: *mut oidc_validator_builder,
    url: *const c_char,
    url_len: usize,
    policy: u32,
    grace_secs: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        // SAFETY: url points to url_len readable bytes, or url_len is 0 (API contract).
        let url = unsafe { try_opt_utf8(url, url_len, "url") }?;
        let policy = crate::core::RevocationPolicy::from_u32(policy)?;
        let mut r = c.revocation.clone().unwrap_or_else(|| crate::core::RevocationConfig::new(policy));
        r.policy = policy;
        r.url = url.map(str::to_string);
        r.grace = if grace_secs == 0 { crate::core::revocation::DEFAULT_GRACE } else { Duration::from_secs(u64::from(grace_secs)) };
        c.revocation = Some(r);
        Ok(())
    })
}

/// Bound the revocation list's poll interval (derived from the list's `next_update`) to
/// [`min_secs`, `max_secs`] (0 keeps that bound's default: 30 s and 86400 s). Call after
/// `oidc_validator_builder_set_revocation` (before it: INVALID_ARGUMENT). A minimum above the
/// maximum, or a bound outside 1 s .. 7 days, fails the build with INVALID_CONFIG.
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_revocation_bounds(
    builder: *mut oidc_validator_builder,
    min_secs: u32,
    max_secs: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        let Some(r) = c.revocation.as_mut() else {
            return Err(FfiError::new(
                oidc_result::InvalidArgument,
                "set the revocation list (oidc_validator_builder_set_revocation) before its bounds",
            ));
        };
        use crate::core::revocation::{DEFAULT_MAX_INTERVAL, DEFAULT_MIN_INTERVAL};
        let s = |v: u32, d: Duration| if v == 0 { d } else { Duration::from_secs(u64::from(v)) };
        r.min_interval = s(min_secs, DEFAULT_MIN_INTERVAL);
        r.max_interval = s(max_secs, DEFAULT_MAX_INTERVAL);
        Ok(())
    })
}

/// The realm named in `WWW-Authenticate` values of this client's errors.
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_realm(
    builder: *mut oidc_validator_builder,
    realm: *const c_char,
    realm_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder_str(builder, realm, realm_len, err_out, |c, s| {
        c.realm = Some(s.to_string());
        Ok(())
    })
}

/// Check the configuration and build the client. Every configuration problem is reported here
/// at the latest: a setter that failed earlier makes the build fail too, with that setter's code
/// (the builder never falls back to a default in its place); then the whole configuration is
/// checked (empty issuer, non-https URL, unreadable CA file, bad static JWKS, no audience, ...).
/// Nothing is fetched yet, unless `oidc_validator_builder_set_prefetch`
/// asked for a start-up prefetch.
/// # Ownership: consumes `builder` in every case (do not free it afterwards); on OK `*out` is
///   caller-owned, free with `oidc_validator_free`.
/// # Thread safety: any thread.
/// # Blocking: reads CA files; no network (unless `OIDC_PREFETCH_FAIL_FAST`: then bounded by the timeouts).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_build(
    builder: *mut oidc_validator_builder,
    out: *mut *mut oidc_validator,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        if builder.is_null() {
            return Err(FfiError::new(oidc_result::NullParameter, "builder is NULL"));
        }
        // SAFETY: builder came from oidc_validator_builder_new; taken over here in every case.
        let b = unsafe { Box::from_raw(builder) };
        check_out(out, "out")?;
        failed_setter(b.failed)?;
        let client = Client::start(b.cfg)?;
        write_box(out, oidc_validator { client })
    })
}

/// Free a client. NULL is accepted. Blocking calls running on other threads must have returned.
/// Non-blocking calls (`*_async`) may still be in flight: each holds its own reference to the
/// client's internals, so freeing is safe and never waits; their callbacks still run, exactly
/// once each, possibly after this function returned (keep their `user_data` valid until then).
/// Do not call it from a callback of a call on the same `client` handle if other threads may
/// still use the handle.
/// # Ownership: consumes `client`.
/// # Thread safety: not concurrently with any other call on the same client.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_free(client: *mut oidc_validator) {
    // SAFETY: client came from oidc_validator_builder_build (API contract).
    unsafe { free_box(client) }
}

fn realm_of<'a>(client: *const oidc_validator) -> Option<&'a str> {
    // SAFETY: client is NULL or live for the duration of the call (API contract).
    unsafe { client.as_ref() }.and_then(|c| c.client.config().realm.as_deref())
}

fn validate_impl(
    client: *const oidc_validator,
    token: *const c_char,
    token_len: usize,
    now: Option<i64>,
    claims_out: *mut *mut c_char,
    claims_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    let realm = realm_of(client);
    ffi_boundary(err_out, realm, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        check_out(claims_out, "claims_out")?;
        let token = c.client.token_from_bytes(token_bytes(token, token_len)?)?;
        let v = match now {
            Some(n) => c.client.validate_at(token, n as f64)?,
            None => c.client.validate(token)?,
        };
        write_owned_string(claims_out, claims_len_out, v.claims)
    })
}

/// The token bytes of a `(pointer, length)` pair: NULL with a length is a host misuse; everything
/// about the bytes themselves (size, UTF-8) is the policy's call (`Client::token_from_bytes`).
pub(crate) fn token_bytes<'a>(p: *const c_char, len: usize) -> Result<&'a [u8], FfiError> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(FfiError::new(oidc_result::NullParameter, "token is NULL"));
    }
    // SAFETY: p is non-NULL and points to len readable bytes for the duration of the call (API
    // contract); the slice does not outlive it.
    Ok(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// Validate a bearer token (a compact JWS, `token_len` bytes of UTF-8, need not be
/// NUL-terminated) against the client's policy and the issuer's keys.
/// On OK, `*claims_out` receives the token's claims as a JSON object and `*claims_len_out` (if
/// non-NULL) its length. On failure, a specific code (TOKEN_EXPIRED, SIGNATURE_INVALID, ...) and,
/// if `err_out` is non-NULL, an error object with the message, the RFC 6750 error and a ready
/// `WWW-Authenticate` value.
/// # Ownership: `client` and `token` borrowed; on OK `*claims_out` is caller-owned, free with
///   `oidc_string_free`; on failure `*err_out` is caller-owned, free with `oidc_error_free`.
/// # Thread safety: may be called concurrently on one client from any number of threads.
/// # Blocking: only when keys are not cached (cold start, expiry, unknown kid): then it may fetch
///   discovery and JWKS, bounded by the client's timeouts. With cached keys it never touches the
///   network.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validate(
    client: *const oidc_validator,
    token: *const c_char,
    token_len: usize,
    claims_out: *mut *mut c_char,
    claims_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    validate_impl(client, token, token_len, None, claims_out, claims_len_out, err_out)
}

/// Like `oidc_validate`, but checks exp/nbf/iat as of `now_unix` (seconds since the epoch):
/// reproducible tests and replay of recorded traffic. Key-cache timing is unaffected.
/// # Ownership: as `oidc_validate`.
/// # Thread safety: as `oidc_validate`.
/// # Blocking: as `oidc_validate`.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validate_at(
    client: *const oidc_validator,
    token: *const c_char,
    token_len: usize,
    now_unix: i64,
    claims_out: *mut *mut c_char,
    claims_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    validate_impl(client, token, token_len, Some(now_unix), claims_out, claims_len_out, err_out)
}

/// Fetch discovery and the key set now (warm start), so the first request does not wait, and
/// the revocation list when one is configured (a failure to fetch or verify it fails the call).
/// A static-key client returns OK at once.
/// # Ownership: `client` borrowed.
/// # Thread safety: may be called concurrently with any call on the client.
/// # Blocking: yes, bounded by the client's timeouts.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_prefetch(client: *const oidc_validator, err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        c.client.prefetch().map_err(Into::into)
    })
}

/// Drop the cached keys of `issuer` (UTF-8, `issuer_len` bytes; NULL or 0 bytes: every issuer
/// of the validator) at once: the next validation fetches them again (operators, after a key
/// compromise). The verified-token cache of those issuers is emptied too. An issuer the
/// validator does not serve: INVALID_ARGUMENT. A static-key validator: OK, nothing dropped.
/// # Ownership: `client` borrowed; `issuer` read during the call; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: may be called concurrently with any call on the client (a fetch in flight
///   finishes first).
/// # Blocking: waits for a key fetch in flight (bounded by the timeouts); no network of its own.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_drop_keys(
    client: *const oidc_validator,
    issuer: *const c_char,
    issuer_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { try_ref(client, "client") }?;
        // SAFETY: issuer points to issuer_len readable bytes, or issuer_len is 0 (API contract).
        let issuer = unsafe { try_opt_utf8(issuer, issuer_len, "issuer") }?;
        c.client.drop_keys(issuer).map(|_| ()).map_err(Into::into)
    })
}

/// Bound the process-wide key cache to `max_entries` JWKS URLs (default 64, at least 1); the
/// least recently used entry is evicted when a new URL needs room.
/// # Ownership: nothing is passed or returned by pointer.
/// # Thread safety: any thread.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_cache_set_max_entries(max_entries: usize) {
    ffi_guard((), || crate::core::cache::GLOBAL.set_max_entries(max_entries))
}

/// Test hook: panics inside the boundary; must return `OIDC_RESULT_PANIC`.
/// Only in builds with the `test-hooks` feature.
/// # Ownership: on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread.
/// # Blocking: no.
#[cfg(feature = "test-hooks")]
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_test_panic(err_out: *mut *mut oidc_error) -> oidc_result {
    ffi_boundary(err_out, None, || -> Result<(), FfiError> { panic!("oidc_test_panic called") })
}

// ---------------------------------------------------------------------------------------------
// Non-blocking validation and prefetch (completion callbacks on the worker pool, `pool`)
// ---------------------------------------------------------------------------------------------

/// Completion of `oidc_validate_async`: `result` is `OIDC_RESULT_OK` with the claims as JSON
/// (`claims_json`, `claims_json_len` bytes, NUL-terminated) and `err` NULL, or a failure code
/// with `claims_json` NULL and `err` describing it (`OIDC_RESULT_CANCELLED`,
/// `OIDC_RESULT_DEADLINE_EXCEEDED`, `OIDC_RESULT_TOKEN_EXPIRED`, ...). Every pointer argument is
/// borrowed for the duration of the callback only: copy what you keep; never free them.
pub type oidc_validate_cb = Option<
    extern "C" fn(user_data: *mut c_void, result: oidc_result, claims_json: *const c_char, claims_json_len: usize, err: *const oidc_error),
>;

/// Completion of a call without output (`oidc_validator_prefetch_async`):
/// `err` is NULL on OK, otherwise borrowed for the duration of the callback.
pub type oidc_done_cb = Option<extern "C" fn(user_data: *mut c_void, result: oidc_result, err: *const oidc_error)>;

fn client_ref<'a>(client: *const oidc_validator) -> Result<&'a oidc_validator, FfiError> {
    // SAFETY: client is NULL or live for the duration of the initiating call (API contract).
    unsafe { try_ref(client, "client") }
}

// The C signature's parameters, plus `now`.
#[allow(clippy::too_many_arguments)]
fn validate_async_impl(
    client: *const oidc_validator,
    token: *const c_char,
    token_len: usize,
    now: Option<i64>,
    cb: oidc_validate_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    // SAFETY: client is NULL or live (API contract).
    let realm = unsafe { client.as_ref() }.and_then(|c| c.client.config().realm.clone());
    ffi_boundary(err_out, realm.as_deref(), || {
        let c = client_ref(client)?;
        let deliver = on_string(cb, user_data)?;
        // Same door as `oidc_validate`: a token too large or not UTF-8 is the token's fault and
        // arrives through the callback like any other rejection (only misuse is answered here).
        let token = c.client.token_from_bytes(token_bytes(token, token_len)?).map(str::to_owned);
        let core = c.client.clone();
        submit(
            cancel_owned(cancel).as_ref(),
            realm.clone(),
            move || {
                let token = token?;
                let v = match now {
                    Some(n) => core.validate_at(&token, n as f64)?,
                    None => core.validate(&token)?,
                };
                string_out(v.claims)
            },
            deliver,
        )
    })
}

/// Validate a token without blocking: the same checks, codes and error objects as
/// `oidc_validate`, delivered to `cb`. The token is copied; it need not outlive this call.
/// Token bytes that are too many or not UTF-8 are the token's fault here too: the call is
/// accepted and `cb` gets `OIDC_RESULT_TOKEN_TOO_LARGE` / `OIDC_RESULT_TOKEN_MALFORMED`.
/// With cached keys the work needs no network; it still runs on the worker pool.
/// `cancel` (may be NULL) attaches the call to a cancel handle / deadline: cancelling completes
/// it with `OIDC_RESULT_CANCELLED`, an expired deadline with `OIDC_RESULT_DEADLINE_EXCEEDED`,
/// at once, even if a key fetch it waits on goes on (that fetch still fills the cache).
/// Returns OK when the call was accepted: then `cb` runs exactly once, on a liboidc worker
/// thread, never inside this function, possibly after `oidc_validator_free(client)` returned.
/// On any other return `cb` is never called (`OIDC_RESULT_QUEUE_FULL` when the bounded queue is
/// full, `OIDC_RESULT_NULL_PARAMETER` for a NULL client or callback, ...).
/// # Ownership: `client`, `token` and `cancel` borrowed for this call only; `user_data` is
///   handed back to `cb` untouched and must stay valid until `cb` ran; the callback's arguments
///   are borrowed for its duration; on failure `*err_out` is caller-owned (`oidc_error_free`).
/// # Thread safety: any thread, concurrently on one client. `cb` may run on any liboidc worker
///   thread, concurrently with other callbacks; it must not block for long.
/// # Blocking: no (a bounded queue push).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validate_async(
    client: *const oidc_validator,
    token: *const c_char,
    token_len: usize,
    cb: oidc_validate_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    validate_async_impl(client, token, token_len, None, cb, user_data, cancel, err_out)
}

/// Like `oidc_validate_async`, checking exp/nbf/iat as of `now_unix` (as `oidc_validate_at`).
/// # Ownership: as `oidc_validate_async`.
/// # Thread safety: as `oidc_validate_async`.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validate_at_async(
    client: *const oidc_validator,
    token: *const c_char,
    token_len: usize,
    now_unix: i64,
    cb: oidc_validate_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    validate_async_impl(client, token, token_len, Some(now_unix), cb, user_data, cancel, err_out)
}

/// Warm the client without blocking: discovery and the key set are fetched on the worker pool
/// (as `oidc_validator_prefetch`), and `cb` reports the outcome. A static-key client completes OK.
/// # Ownership: `client` and `cancel` borrowed for this call only; `user_data` as
///   `oidc_validate_async`.
/// # Thread safety: any thread. `cb` runs exactly once on a liboidc worker thread if OK was
///   returned, never inside this call.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_prefetch_async(
    client: *const oidc_validator,
    cb: oidc_done_cb,
    user_data: *mut c_void,
    cancel: *const oidc_cancel,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        let c = client_ref(client)?;
        let deliver = on_done(cb, user_data)?;
        let core = c.client.clone();
        submit(cancel_owned(cancel).as_ref(), None, move || core.prefetch().map_err(FfiError::from), deliver)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_utf8_paths() {
        let mut err: *mut oidc_error = std::ptr::null_mut();
        let mut out: *mut c_char = std::ptr::null_mut();
        let rc = oidc_validate(std::ptr::null(), c"x".as_ptr(), 1, &mut out, std::ptr::null_mut(), &mut err);
        assert_eq!(rc, oidc_result::NullParameter);
        assert!(!err.is_null());
        super::super::misc::oidc_error_free(err);
        let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
        assert_eq!(oidc_validator_builder_new(&mut b, std::ptr::null_mut()), oidc_result::Ok);
        let bad = [0xffu8, 0xfe];
        let rc = oidc_validator_builder_set_issuer(b, bad.as_ptr().cast(), 2, std::ptr::null_mut());
        assert_eq!(rc, oidc_result::InvalidUtf8);
        oidc_validator_builder_free(b);
    }

    #[test]
    fn revocation_policy_constants_are_the_core_policies() {
        use crate::core::RevocationPolicy;
        assert_eq!(
            RevocationPolicy::from_u32(oidc_revocation_policy::OidcRevocationFailClosed as u32).unwrap(),
            RevocationPolicy::FailClosed
        );
        assert_eq!(RevocationPolicy::from_u32(oidc_revocation_policy::OidcRevocationFailOpen as u32).unwrap(), RevocationPolicy::FailOpen);
        assert!(RevocationPolicy::from_u32(0).is_err());
    }

    #[test]
    fn prefetch_constants_are_the_core_modes() {
        use crate::core::Prefetch;
        for (c, p) in [
            (oidc_prefetch::None, Prefetch::None),
            (oidc_prefetch::FailFast, Prefetch::FailFast),
            (oidc_prefetch::Background, Prefetch::Background),
        ] {
            assert_eq!(c as u32, p as u32);
            assert_eq!(Prefetch::from_u32(c as u32).unwrap(), p);
        }
        let mut b: *mut oidc_validator_builder = std::ptr::null_mut();
        assert_eq!(oidc_validator_builder_new(&mut b, std::ptr::null_mut()), oidc_result::Ok);
        assert_eq!(oidc_validator_builder_set_prefetch(b, 3, std::ptr::null_mut()), oidc_result::InvalidArgument);
        oidc_validator_builder_free(b);
    }
}
