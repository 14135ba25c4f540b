//! JOSE beyond the compact JWS of token validation (issue 14).

pub mod jws;
