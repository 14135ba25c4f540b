//! The C ABI: translation only (NULL and UTF-8 checks, ownership, codes). No OIDC logic here.
#![allow(non_camel_case_types)]
// Entry points are safe `extern "C" fn`s that receive raw pointers from C under the contract
// documented on each function (as in rustls-ffi); every dereference carries a SAFETY note.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod r#async;
pub mod authn;
pub mod boundary;
pub mod cancel;
pub mod client;
pub mod codes;
pub mod error;
pub mod grants;
pub mod misc;
pub mod oauth;
pub mod oauth_async;
pub mod oauth_endpoints;
pub mod oauth_request;
pub mod observe;
pub mod warm;

pub use client::{oidc_validator, oidc_validator_builder};
pub use error::{oidc_error, oidc_result};
