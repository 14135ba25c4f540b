//! JOSE configuration over the C ABI (issue 14): decryption keys and JWE algorithms for
//! validators and protocol clients, the opt-in to encrypted access tokens, a static JWKS and
//! signed request objects for protocol clients. Translation only: the rules are in
//! `core::jose` and `core::oauth::jar`.

use std::ffi::c_char;

use super::boundary::{try_opt_utf8, try_utf8};
use super::error::{FfiError, oidc_error, oidc_result};
use super::oauth_client::{oidc_oauth_builder, with_oauth, with_oauth_builder};
use super::validator::{oidc_validator_builder, with_builder};
use crate::core::config::Config;
use crate::core::config::KeySource;
use crate::core::jose::jwe::{DecryptionKey, JweAlgs};
use crate::core::oauth::jar::RequestObjectConfig;

/// Add a decryption key to `cfg` from its text (JWK or PEM) and optional kid.
fn add_key(cfg: &mut Config, key: *const c_char, key_len: usize, kid: *const c_char, kid_len: usize) -> Result<(), FfiError> {
    // SAFETY: key points to key_len readable bytes (API contract).
    let text = unsafe { try_utf8(key, key_len, "key") }?;
    // SAFETY: kid points to kid_len readable bytes, or kid_len is 0 (API contract).
    let kid = unsafe { try_opt_utf8(kid, kid_len, "kid") }?;
    let k = DecryptionKey::from_text(text, kid)?;
    cfg.decryption_keys.push(k)?;
    Ok(())
}

fn set_algs(cfg: &mut Config, names: *const c_char, names_len: usize) -> Result<(), FfiError> {
    // SAFETY: names points to names_len readable bytes (API contract).
    let s = unsafe { try_utf8(names, names_len, "algorithms") }?;
    cfg.decryption_algorithms = JweAlgs::parse(s)?;
    Ok(())
}

/// Add a private key for encrypted tokens (JWE): a private JWK (RSA, EC P-256/P-384/P-521,
/// `oct`) or a PEM private key (PKCS#8, PKCS#1, SEC1). `kid` (`kid_len` 0: none) names it; a JWK's
/// own `kid` is used otherwise. Several keys may be added (at most 32); a JWE naming a `kid` is
/// decrypted with that key only. Keys never come from a token. With keys, a validator decrypts
/// encrypted access tokens only after `oidc_validator_builder_set_accept_encrypted`.
/// # Ownership: `builder` borrowed; the key copied (never echoed in messages).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_add_decryption_key(
    builder: *mut oidc_validator_builder,
    key: *const c_char,
    key_len: usize,
    kid: *const c_char,
    kid_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| add_key(c, key, key_len, kid, kid_len))
}

/// The JWE algorithms accepted: key management and content encryption names, separated by
/// spaces or commas (e.g. "RSA-OAEP-256 ECDH-ES+A128KW A256GCM A128CBC-HS256"). Default: every
/// supported one but RSA1_5 (padding oracle) and dir; RSA1_5 only when named here.
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_decryption_algorithms(
    builder: *mut oidc_validator_builder,
    names: *const c_char,
    names_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| set_algs(c, names, names_len))
}

/// Accept encrypted access tokens (nested JWT: signed, then encrypted; `cty` JWT) when `accept`
/// is 1 (0: refuse them, the default). Needs a decryption key (checked by `_build`).
/// # Ownership: `builder` borrowed.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_validator_builder_set_accept_encrypted(
    builder: *mut oidc_validator_builder,
    accept: u32,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_builder(builder, err_out, |c| {
        c.accept_encrypted = match accept {
            0 => false,
            1 => true,
            _ => return Err(FfiError::new(oidc_result::InvalidArgument, "accept must be 0 or 1")),
        };
        Ok(())
    })
}

/// As `oidc_validator_builder_add_decryption_key`, for a protocol client: its encrypted ID
/// tokens, userinfo, introspection and JARM responses are decrypted with these keys.
/// # Ownership: `builder` borrowed; the key copied (never echoed in messages).
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_add_decryption_key(
    builder: *mut oidc_oauth_builder,
    key: *const c_char,
    key_len: usize,
    kid: *const c_char,
    kid_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth(builder, err_out, |b| add_key(&mut b.cfg.base, key, key_len, kid, kid_len))
}

/// As `oidc_validator_builder_set_decryption_algorithms`, for a protocol client.
/// # Ownership: `builder` borrowed; the value copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_decryption_algorithms(
    builder: *mut oidc_oauth_builder,
    names: *const c_char,
    names_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth(builder, err_out, |b| set_algs(&mut b.cfg.base, names, names_len))
}

/// Use a static JWKS document for the issuer's keys (offline use, tests; no discovery for keys).
/// # Ownership: `builder` borrowed; the JSON copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_jwks_json(
    builder: *mut oidc_oauth_builder,
    jwks_json: *const c_char,
    jwks_json_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, jwks_json, jwks_json_len, err_out, |b, s| {
        b.cfg.base.key_source = KeySource::Static(s.to_string());
        Ok(())
    })
}

/// Send every authorization request (OIDC_OP_AUTHORIZATION_URL, OIDC_OP_PUSHED_AUTHORIZATION) as
/// a signed request object (RFC 9101), signed with the client's private key
/// (`oidc_oauth_builder_set_private_key_pem` / `_jwk`; a client that authenticates with its client
/// secret, auth method unset or `client_secret_*`, uses that key for request objects only). `enc_alg` and `enc_enc` (both given or
/// both empty) also encrypt it to the issuer: `RSA-OAEP`, `RSA-OAEP-256` or `ECDH-ES*` to the
/// issuer's published `use: enc` key, `A128KW`/`A192KW`/`A256KW` to the key derived from the client
/// secret; `enc_enc` one of A128GCM, A192GCM, A256GCM, A128CBC-HS256, A192CBC-HS384, A256CBC-HS512.
/// # Ownership: `builder` borrowed; the values copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_request_object(
    builder: *mut oidc_oauth_builder,
    enc_alg: *const c_char,
    enc_alg_len: usize,
    enc_enc: *const c_char,
    enc_enc_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth(builder, err_out, |b| {
        // SAFETY: enc_alg points to enc_alg_len readable bytes, or the length is 0 (API contract).
        let alg = unsafe { try_opt_utf8(enc_alg, enc_alg_len, "enc_alg") }?;
        // SAFETY: as above.
        let enc = unsafe { try_opt_utf8(enc_enc, enc_enc_len, "enc_enc") }?;
        let encryption = RequestObjectConfig::encryption_from_names(alg, enc)?;
        b.cfg.request_object = Some(RequestObjectConfig { key: None, encryption });
        Ok(())
    })
}

/// Replace the signature algorithm allow-list of the client's ID tokens, logout tokens, signed
/// responses and OIDC_OP_VERIFY_JWS (as `oidc_validator_builder_set_algorithms`: a comma- or
/// space-separated list; `none`, HMAC and unknown names fail with
/// `OIDC_RESULT_UNSUPPORTED_ALGORITHM`, and `_build` then fails too).
/// # Ownership: `builder` borrowed; the list copied.
/// # Thread safety: not concurrently on one builder.
/// # Blocking: no.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn oidc_oauth_builder_set_algorithms(
    builder: *mut oidc_oauth_builder,
    algorithms: *const c_char,
    algorithms_len: usize,
    err_out: *mut *mut oidc_error,
) -> oidc_result {
    with_oauth_builder(builder, algorithms, algorithms_len, err_out, |b, s| {
        b.cfg.base.set_algorithms(s.split([',', ' ']).filter(|x| !x.is_empty())).map_err(Into::into)
    })
}
