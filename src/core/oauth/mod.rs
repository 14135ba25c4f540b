//! OAuth 2.0 / OpenID Connect protocol clients: grants, client authentication, token-endpoint
//! responses and the other endpoints. One [`OAuthClient`] per registered client; it reuses one
//! pooled HTTP agent for every request, and validates ID tokens with the same policy code as
//! access tokens.

pub mod authorize;
pub mod client;
pub mod dpop;
pub mod grants;
pub mod idtoken;
pub mod introspection;
pub mod jar;
pub mod logout;
pub mod pkce;
pub mod registration;
pub mod request;
pub mod response;
pub mod secret;
pub mod signing;
pub mod token;
pub mod token_cache;
pub mod userinfo;

pub use authorize::{AuthorizationRequest, EndSessionRequest, PreparedAuthorization, PushedRequest};
pub use client::{AssertionAudience, ClientAuth, OAuthClient, OAuthConfig};
pub use grants::{
    AuthorizationSecrets, BackchannelAuthentication, DeviceAuthorization, PollOptions, PollState, PollStep, TokenExchangeRequest,
};
pub use idtoken::{IdTokenChecks, validate_id_token};
pub use introspection::Introspection;
pub use logout::{LogoutConfig, LogoutToken, validate_logout_token};
pub use registration::{Registration, register_client};
pub use request::{Field, OAuthRequest, OAuthResponse, Operation, Param, ParamKind, Run, RunStep};
pub use response::{AuthorizationResponse, ExpectedState};
pub use secret::Secret;
pub use signing::SigningKey;
pub use token::TokenResponse;
pub use userinfo::UserInfo;

/// Longest lifetime liboidc takes from a server (`expires_in` of tokens, device codes, CIBA
/// requests, PAR request URIs): one year. A larger value (2^64-1, 1e300) is clamped to it, so no
/// arithmetic on a server-supplied number can overflow.
pub const MAX_SERVER_LIFETIME_SECS: u64 = 366 * 24 * 3600;

/// A server-supplied lifetime in seconds, clamped to [`MAX_SERVER_LIFETIME_SECS`].
pub fn server_lifetime(secs: u64) -> u64 {
    secs.min(MAX_SERVER_LIFETIME_SECS)
}
