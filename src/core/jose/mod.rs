//! JOSE beyond the validation of compact JWS: JSON Web Encryption (RFC 7516/7518).
//!
//! Pure building blocks (no I/O, no configuration): the validator and the OAuth client decide
//! when a token is decrypted and with which keys.

pub mod jwe;
