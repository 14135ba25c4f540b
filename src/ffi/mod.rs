//! The C ABI: translation only (NULL and UTF-8 checks, ownership, codes). No OIDC logic here.
#![allow(non_camel_case_types)]
// Entry points are safe `extern "C" fn`s that receive raw pointers from C under the contract
// documented on each function (as in rustls-ffi); every dereference carries a SAFETY note.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod authn;
pub mod boundary;
pub mod cancel;
pub mod codes;
pub mod error;
pub mod issuer;
pub mod jose;
pub mod misc;
pub mod oauth_client;
pub mod oauth_request;
pub mod observe;
pub mod pool;
pub mod validator;
pub mod warm;

pub use error::{oidc_error, oidc_result};
pub use validator::{oidc_validator, oidc_validator_builder};
