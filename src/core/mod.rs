//! The OAuth 2.0 / OpenID Connect core: all policy, no FFI types, no unsafe code.
#![forbid(unsafe_code)]

pub mod args;
pub mod authn;
pub mod cache;
pub mod client;
pub mod config;
pub mod discovery;
pub mod error;
mod error_kinds;
pub mod explain;
pub mod http;
pub mod jose;
pub mod json;
pub mod jwks;
pub mod log;
pub mod metrics;
pub mod multi;
pub mod oauth;
pub mod policy;
pub mod pool;
pub mod revocation;
pub mod runtime;
pub mod snapshot;
pub mod token_cache;
pub mod url;
pub mod validate;

pub use client::Client;
pub use config::{Algorithm, Clock, Config, DpopMode, IssuerConfig, KeySource, Prefetch, ReplayStore, TenantBounds, Tenants};
pub use error::{Error, ErrorKind, Result};
pub use pool::Cancel;
pub use revocation::{RevocationConfig, RevocationPolicy};
pub use validate::Validated;
