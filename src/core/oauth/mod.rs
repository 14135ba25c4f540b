//! OAuth 2.0 / OpenID Connect protocol clients: grants, client authentication, token-endpoint
//! responses and the other endpoints. One [`OAuthClient`] per registered client; it reuses one
//! pooled HTTP agent for every request, and validates ID tokens with the same policy code as
//! access tokens.

pub mod client;
pub mod dpop;
pub mod grants;
pub mod secret;
pub mod signing;
pub mod token;
pub mod token_cache;

pub use client::{AssertionAudience, ClientAuth, OAuthClient, OAuthConfig};
pub use grants::{AuthorizationSecrets, BackchannelAuthentication, CancelToken, DeviceAuthorization, PollOptions, TokenExchangeRequest};
pub use signing::SigningKey;
pub use secret::Secret;
pub use token::TokenResponse;
