//! liboidc
pub mod core;
pub mod ffi;
pub mod sys;
