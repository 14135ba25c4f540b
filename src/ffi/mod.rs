//! The C ABI: translation only (NULL and UTF-8 checks, ownership, codes). No OIDC logic here.
#![allow(non_camel_case_types)]

pub mod boundary;
pub mod client;
pub mod error;
pub mod grants;
pub mod misc;
pub mod oauth;

pub use client::{oidc_client, oidc_client_builder};
pub use error::{oidc_error, oidc_result};
