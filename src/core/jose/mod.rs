//! JOSE beyond the validation of compact JWS tokens (issue 14): JSON Web Encryption (RFC
//! 7516/7518) and JWS documents (detached content, unencoded payloads, non-JWT payloads).
//!
//! Building blocks: the validator and the OAuth client decide when a token is decrypted and with
//! which keys, and which keys verify a JWS.

pub mod jwe;
pub mod jws;
