//! Issuer sub-builders: one more issuer (or issuer template) of a multi-issuer validator.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{ffi_boundary, free_box, try_mut, try_utf8, write_box};
use super::error::{FfiError, oidc_error, oidc_result};
use super::validator::{failed_setter, oidc_validator_builder, remember_failure};
use crate::core::{IssuerConfig, KeySource, TenantBounds, Tenants};

/// The settings of one more issuer of a validator: its own keys (discovery, a JWKS URL or a
/// static JWKS), audiences, algorithms, `typ` and required claims; unset token rules are the
/// validator's. An issuer containing `{tenant}` is a template (`https://login.example.com/{tenant}/v2.0`)
/// and needs `oidc_issuer_builder_add_tenant` or `oidc_issuer_builder_set_any_tenant`.
/// Not thread safe: use from one thread, then hand it to `oidc_validator_builder_add_issuer`
/// (which consumes it) or free it with `oidc_issuer_builder_free`.
pub struct oidc_issuer_builder {
    cfg: IssuerConfig,
    failed: Option<(oidc_result, String)>,
}

/// Create an issuer builder for `issuer` (exact, or a template with one `{tenant}`).
/// # Ownership: `issuer` (UTF-8, `issuer_len` bytes) copied; on OK `*out` is caller-owned:
///   consume it with `oidc_validator_builder_add_issuer` or free it with `oidc_issuer_builder_free`.
/// # Thread safety: any thread.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_new(
    issuer: *const c_char,
    issuer_len: usize,
    out: *mut *mut oidc_issuer_builder,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: issuer points to issuer_len readable bytes (API contract).
        let s = unsafe { try_utf8(issuer, issuer_len, "issuer") }?;
        write_box(out, oidc_issuer_builder { cfg: IssuerConfig::new(s), failed: None })
    })
}

/// Free an issuer builder that will not be added. NULL is accepted.
/// # Ownership: consumes `builder`.
/// # Thread safety: not concurrently with other calls on the same builder.
/// # Blocking: no.
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_free(builder: *mut oidc_issuer_builder) {
    // SAFETY: builder came from oidc_issuer_builder_new (API contract).
    unsafe { free_box(builder) }
}

fn with_issuer(
    builder: *mut oidc_issuer_builder,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&mut IssuerConfig) -> Result<(), FfiError>,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: builder is NULL or a live issuer builder used by one thread (API contract).
        let b = unsafe { try_mut(builder, "builder") }?;
        let r = f(&mut b.cfg);
        remember_failure(&mut b.failed, r)
    })
}

fn with_issuer_str(
    builder: *mut oidc_issuer_builder,
    value: *const c_char,
    value_len: usize,
    err_out: *mut *mut oidc_error,
    f: impl FnOnce(&mut IssuerConfig, &str) -> Result<(), FfiError>,
) -> oidc_result {
    with_issuer(builder, err_out, |c| {
        // SAFETY: value points to value_len readable bytes (API contract).
        let s = unsafe { try_utf8(value, value_len, "value") }?;
        f(c, s)
    })
}

/// Use this JWKS URL for this issuer instead of discovering one (not for templates).
/// # Ownership: `builder` borrowed; the URL copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_set_jwks_uri(
    builder: *mut oidc_issuer_builder,
    uri: *const c_char,
    uri_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer_str(builder, uri, uri_len, err_out, |c, s| {
        c.key_source = KeySource::JwksUri(s.to_string());
        Ok(())
    })
}

/// Use a static JWKS document for this issuer (no network; not for templates).
/// # Ownership: `builder` borrowed; the JSON copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_set_jwks_json(
    builder: *mut oidc_issuer_builder,
    jwks_json: *const c_char,
    jwks_json_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer_str(builder, jwks_json, jwks_json_len, err_out, |c, s| {
        c.key_source = KeySource::Static(s.to_string());
        Ok(())
    })
}

/// Add an audience of this issuer. With none (and no any-audience), the validator's audiences apply.
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_add_audience(
    builder: *mut oidc_issuer_builder,
    audience: *const c_char,
    audience_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer_str(builder, audience, audience_len, err_out, |c, s| {
        c.audiences.push(s.to_string());
        Ok(())
    })
}

/// Explicitly accept any audience for this issuer (`allow` = 1).
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_set_any_audience(
    builder: *mut oidc_issuer_builder,
    allow: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer(builder, err_out, |c| {
        c.allow_any_audience = allow != 0;
        Ok(())
    })
}

/// This issuer's algorithm allow-list, comma- or space-separated ("RS256,ES256"); unset: the
/// validator's. `none`, HMAC and unknown names fail (`OIDC_RESULT_UNSUPPORTED_ALGORITHM`).
/// # Ownership: `builder` borrowed; the list copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_set_algorithms(
    builder: *mut oidc_issuer_builder,
    algorithms: *const c_char,
    algorithms_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer_str(builder, algorithms, algorithms_len, err_out, |c, s| {
        let set =
            crate::core::config::AlgSet::from_names(s.split([',', ' ']).filter(|x| !x.is_empty()), "the algorithm allow-list is empty")?;
        c.algorithms = Some(set);
        Ok(())
    })
}

/// Require this JOSE `typ` of this issuer's tokens (unset: the validator's).
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_set_expected_typ(
    builder: *mut oidc_issuer_builder,
    typ: *const c_char,
    typ_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer_str(builder, typ, typ_len, err_out, |c, s| {
        c.expected_typ = Some(s.to_string());
        Ok(())
    })
}

/// Require a claim of this issuer's tokens (in addition to the validator's required claims).
/// # Ownership: `builder` borrowed; the name copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_add_required_claim(
    builder: *mut oidc_issuer_builder,
    claim: *const c_char,
    claim_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer_str(builder, claim, claim_len, err_out, |c, s| {
        c.required_claims.push(s.to_string());
        Ok(())
    })
}

/// Templates: allow this tenant (1 to 64 of `A-Z a-z 0-9 - _`). Calls build an allow-list;
/// mixing with `oidc_issuer_builder_set_any_tenant` fails.
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_add_tenant(
    builder: *mut oidc_issuer_builder,
    tenant: *const c_char,
    tenant_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer_str(builder, tenant, tenant_len, err_out, |c, s| {
        match &mut c.tenants {
            None => c.tenants = Some(Tenants::AllowList(vec![s.to_string()])),
            Some(Tenants::AllowList(l)) => l.push(s.to_string()),
            Some(Tenants::Any) => {
                return Err(FfiError::new(oidc_result::InvalidConfig, "this template already accepts any tenant"));
            }
        }
        Ok(())
    })
}

/// Templates: explicitly accept any well-formed tenant (`any` = 1), within the tenant bounds.
/// Never the default. Fails after `oidc_issuer_builder_add_tenant`.
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_set_any_tenant(
    builder: *mut oidc_issuer_builder,
    any: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer(builder, err_out, |c| {
        match (&c.tenants, any != 0) {
            (Some(Tenants::AllowList(_)), true) => {
                return Err(FfiError::new(oidc_result::InvalidConfig, "this template already has a tenant allow-list"));
            }
            (_, true) => c.tenants = Some(Tenants::Any),
            (Some(Tenants::Any), false) => c.tenants = None,
            (_, false) => {}
        }
        Ok(())
    })
}

/// Templates: the claim that must equal the tenant in `iss` (default `tid`).
/// # Ownership: `builder` borrowed; the name copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_set_tenant_claim(
    builder: *mut oidc_issuer_builder,
    claim: *const c_char,
    claim_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer_str(builder, claim, claim_len, err_out, |c, s| {
        c.tenant_claim = s.to_string();
        Ok(())
    })
}

/// Templates: bound the per-tenant state. At most `max_tenants` tenants kept (default 256,
/// least recently used evicted), `new_per_window` new tenants per `window_secs` (default 10
/// per 60 s) and `max_in_flight` first fetches at once (default 4); a new tenant beyond them is
/// refused with `OIDC_RESULT_KEYS_UNAVAILABLE` without a request. 0 for any of the four keeps
/// its default (so a binding passes 0 for what its caller left unset, never a copy of the value).
/// # Ownership: `builder` borrowed; on failure `*err_out` (if non-NULL) is caller-owned (`oidc_error_free`).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_issuer_builder_set_tenant_bounds(
    builder: *mut oidc_issuer_builder,
    max_tenants: u32,
    new_per_window: u32,
    window_secs: u32,
    max_in_flight: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_issuer(builder, err_out, |c| {
        let d = TenantBounds::default();
        let or = |v: u32, def: u32| if v == 0 { def } else { v };
        c.tenant_bounds = TenantBounds {
            max_tenants: if max_tenants == 0 { d.max_tenants } else { max_tenants as usize },
            new_per_window: or(new_per_window, d.new_per_window),
            window: if window_secs == 0 { d.window } else { Duration::from_secs(window_secs as u64) },
            max_in_flight: or(max_in_flight, d.max_in_flight),
        };
        Ok(())
    })
}

/// Add an issuer to a validator: tokens whose `iss` names it (or, for a template, one of its
/// tenants) are checked against its settings and keys only. The validator's own issuer (set
/// with `oidc_validator_builder_set_issuer`, optional once an issuer is added) is the first
/// entry. Up to 64 issuers. A setter of `issuer` that failed makes this call, and `_build`,
/// fail with that setter's code; the settings are checked as a whole at `_build`.
/// # Ownership: `builder` borrowed; consumes `issuer` in every case (do not free it afterwards).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_add_issuer(
    builder: *mut oidc_validator_builder,
    issuer: *mut oidc_issuer_builder,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        let ib = if issuer.is_null() {
            None
        } else {
            // SAFETY: issuer came from oidc_issuer_builder_new; taken over here in every case.
            Some(unsafe { Box::from_raw(issuer) })
        };
        // SAFETY: builder is NULL or a live builder used by one thread (API contract).
        let b = unsafe { try_mut(builder, "builder") }?;
        let Some(ib) = ib else {
            return remember_failure(&mut b.failed, Err(FfiError::new(oidc_result::NullParameter, "issuer is NULL")));
        };
        let ib = *ib;
        let cfg = ib.cfg;
        let r = failed_setter(ib.failed).and_then(|()| {
            if b.cfg.issuers.len() >= crate::core::config::MAX_ISSUERS {
                return Err(FfiError::new(oidc_result::InvalidConfig, "too many issuers (at most 64)"));
            }
            b.cfg.issuers.push(cfg);
            Ok(())
        });
        remember_failure(&mut b.failed, r)
    })
}

/// Load a policy document (JSON, `"version": 1`, see README "Policy document") into the
/// builder: every member it holds replaces the builder's setting (members it omits keep the
/// builder's). Strict: an unknown member, a wrong type or a bad value fails with
/// `OIDC_RESULT_INVALID_CONFIG`, the message naming its JSON path (`$.issuers[1].audiences[0]`);
/// the failure is also reported by `_build`. The document and the builder calls are two
/// spellings of one configuration (`oidc_validator_policy_json` writes it back).
/// # Ownership: `builder` borrowed; `json` (`json_len` bytes of UTF-8) read during the call.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_load_policy(
    builder: *mut oidc_validator_builder,
    json: *const c_char,
    json_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    super::validator::with_builder(builder, err_out, |cfg| {
        // SAFETY: json points to json_len readable bytes (API contract).
        let doc = unsafe { try_utf8(json, json_len, "json") }?;
        crate::core::policy::parse_into(doc, cfg).map_err(Into::into)
    })
}

/// Like `oidc_validator_builder_load_policy`, reading the document from the file at `path`
/// (UTF-8, `path_len` bytes; at most 1 MiB).
/// # Ownership: `builder` borrowed; `path` read during the call.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: reads the file.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_load_policy_file(
    builder: *mut oidc_validator_builder,
    path: *const c_char,
    path_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    super::validator::with_builder(builder, err_out, |cfg| {
        // SAFETY: path points to path_len readable bytes (API contract).
        let p = unsafe { try_utf8(path, path_len, "path") }?;
        let meta = std::fs::metadata(p).map_err(|e| FfiError::new(oidc_result::InvalidConfig, format!("policy file: {e}")))?;
        if meta.len() > crate::core::policy::MAX_DOCUMENT_BYTES as u64 {
            return Err(FfiError::new(oidc_result::InvalidConfig, "policy file: larger than 1 MiB"));
        }
        let doc = std::fs::read_to_string(p).map_err(|e| FfiError::new(oidc_result::InvalidConfig, format!("policy file: {e}")))?;
        crate::core::policy::parse_into(&doc, cfg).map_err(Into::into)
    })
}

/// The configuration of a built validator as a policy document (JSON, every member written,
/// defaults included). Not in it: the DPoP nonce secret and a replay store (secrets and host
/// objects), the prefetch mode.
/// # Ownership: `client` borrowed; on OK `*out` is caller-owned (`oidc_string_free`),
///   `*out_len` (if non-NULL) its length.
/// # Thread safety: any thread, concurrently with any call on the client.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_policy_json(
    client: *const super::validator::oidc_validator,
    out: *mut *mut c_char,
    out_len: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { super::boundary::try_ref(client, "client") }?;
        super::boundary::check_out(out, "out")?;
        super::boundary::write_owned_string(out, out_len, crate::core::policy::export(c.client.config()))
    })
}

/// Explain the validation of a token as of `now_unix` (0: now): every check with its outcome as
/// a JSON document (which issuer was chosen and why, the key/signature check, each claim rule),
/// not only the first failure. It holds no secret: never the signature or the token text; from
/// the token only `alg`, a bounded `kid`, a bounded `iss`, the tenant, and `exp`/`nbf`/`iat`.
/// The explanation itself is the output: a token that fails its checks still returns OK here,
/// with `"decision": "deny"` in the document.
/// # Ownership: `client` and `token` borrowed; on OK `*json_out` is caller-owned
///   (`oidc_string_free`), `*json_len_out` (if non-NULL) its length.
/// # Thread safety: may be called concurrently on one client from any number of threads.
/// # Blocking: as `oidc_validate` (may fetch keys when they are not cached, bounded by the
///   client's timeouts); never uses the verified-token cache.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validate_explain(
    client: *const super::validator::oidc_validator,
    token: *const c_char,
    token_len: usize,
    now_unix: i64,
    json_out: *mut *mut c_char,
    json_len_out: *mut usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    ffi_boundary(err_out, None, || {
        // SAFETY: client is NULL or live (API contract).
        let c = unsafe { super::boundary::try_ref(client, "client") }?;
        super::boundary::check_out(json_out, "json_out")?;
        let bytes = super::validator::token_bytes(token, token_len)?;
        let now = if now_unix == 0 { crate::core::client::unix_now() } else { now_unix as f64 };
        let doc = match std::str::from_utf8(bytes) {
            Ok(t) if t.len() <= c.client.config().max_token_bytes => c.client.explain_at(t, now),
            Ok(_) => serde_json::json!({"decision": "deny", "code": "TokenTooLarge", "checks": [
                {"check": "size", "outcome": "fail", "kind": "TokenTooLarge", "message": "the token is larger than the configured limit"}]})
            .to_string(),
            Err(_) => serde_json::json!({"decision": "deny", "code": "TokenMalformed", "checks": [
                {"check": "size", "outcome": "fail", "kind": "TokenMalformed", "message": "the token is not valid UTF-8"}]})
            .to_string(),
        };
        super::boundary::write_owned_string(json_out, json_len_out, doc)
    })
}
