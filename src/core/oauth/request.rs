//! One request type for every protocol operation (ABI 0.2): an [`OAuthRequest`] is made for an
//! [`Operation`], its parameters set by typed setters ([`Param`]) or by name (custom
//! parameters), then sent by [`OAuthClient::send`] (blocking) or stepped by
//! [`OAuthClient::step`] on the worker pool (non-blocking): the same rules on both paths. Every
//! answer is one [`OAuthResponse`].
//!
//! All the parameter policy lives here: which parameter applies to which operation, which are
//! required, which names a custom parameter may not take, the defaults. The C ABI only
//! translates.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::authorize::{AuthorizationRequest, EndSessionRequest};
use super::client::OAuthClient;
use super::grants::{
    BackchannelAuthentication, DeviceAuthorization, GRANT_AUTHORIZATION_CODE, GRANT_JWT_BEARER, GRANT_REFRESH_TOKEN, GRANT_TOKEN_EXCHANGE,
    PollOptions, PollState, PollStep, TOKEN_TYPE_ACCESS_TOKEN,
};
use super::idtoken::{IdTokenChecks, validate_id_token};
use super::logout::validate_logout_token;
use super::response::ExpectedState;
use super::secret::Secret;
use super::token::{TokenResponse, auth_param};
use crate::core::error::{Error, ErrorKind, Result, err};
use crate::core::pool::Cancel;

macro_rules! enum_table {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $n:literal => $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v = $n),* }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// From the C value.
            pub fn from_u32(n: u32) -> Option<$name> {
                match n { $($n => Some($name::$v),)* _ => None }
            }
            /// The C name (`OIDC_OP_REFRESH`, `OIDC_PARAM_SCOPE`, ...), for messages.
            pub fn c_name(self) -> &'static str {
                match self { $($name::$v => $s),* }
            }
        }
    };
}

enum_table! {
    /// A protocol operation.
    Operation {
        AuthorizationCode = 1 => "OIDC_OP_AUTHORIZATION_CODE",
        Refresh = 2 => "OIDC_OP_REFRESH",
        ClientCredentials = 3 => "OIDC_OP_CLIENT_CREDENTIALS",
        TokenExchange = 4 => "OIDC_OP_TOKEN_EXCHANGE",
        JwtBearer = 5 => "OIDC_OP_JWT_BEARER",
        CustomGrant = 6 => "OIDC_OP_CUSTOM_GRANT",
        DeviceAuthorization = 7 => "OIDC_OP_DEVICE_AUTHORIZATION",
        DevicePoll = 8 => "OIDC_OP_DEVICE_POLL",
        CibaRequest = 9 => "OIDC_OP_CIBA_REQUEST",
        CibaPoll = 10 => "OIDC_OP_CIBA_POLL",
        Introspect = 11 => "OIDC_OP_INTROSPECT",
        Revoke = 12 => "OIDC_OP_REVOKE",
        UserInfo = 13 => "OIDC_OP_USERINFO",
        PushedAuthorization = 14 => "OIDC_OP_PUSHED_AUTHORIZATION",
        AuthorizationUrl = 15 => "OIDC_OP_AUTHORIZATION_URL",
        EndSessionUrl = 16 => "OIDC_OP_END_SESSION_URL",
        AuthorizationResponse = 17 => "OIDC_OP_AUTHORIZATION_RESPONSE",
        ValidateIdToken = 18 => "OIDC_OP_VALIDATE_ID_TOKEN",
        Register = 19 => "OIDC_OP_REGISTER",
        RegistrationRead = 20 => "OIDC_OP_REGISTRATION_READ",
        RegistrationUpdate = 21 => "OIDC_OP_REGISTRATION_UPDATE",
        RegistrationDelete = 22 => "OIDC_OP_REGISTRATION_DELETE",
        Resource = 23 => "OIDC_OP_RESOURCE",
        Endpoint = 24 => "OIDC_OP_ENDPOINT",
        ValidateLogoutToken = 25 => "OIDC_OP_VALIDATE_LOGOUT_TOKEN",
        VerifyJws = 26 => "OIDC_OP_VERIFY_JWS",
        Decrypt = 27 => "OIDC_OP_DECRYPT",
    }
}

enum_table! {
    /// A typed parameter of a request.
    Param {
        Code = 1 => "OIDC_PARAM_CODE",
        RedirectUri = 2 => "OIDC_PARAM_REDIRECT_URI",
        CodeVerifier = 3 => "OIDC_PARAM_CODE_VERIFIER",
        Nonce = 4 => "OIDC_PARAM_NONCE",
        RefreshToken = 5 => "OIDC_PARAM_REFRESH_TOKEN",
        SubjectToken = 6 => "OIDC_PARAM_SUBJECT_TOKEN",
        SubjectTokenType = 7 => "OIDC_PARAM_SUBJECT_TOKEN_TYPE",
        ActorToken = 8 => "OIDC_PARAM_ACTOR_TOKEN",
        ActorTokenType = 9 => "OIDC_PARAM_ACTOR_TOKEN_TYPE",
        RequestedTokenType = 10 => "OIDC_PARAM_REQUESTED_TOKEN_TYPE",
        Assertion = 11 => "OIDC_PARAM_ASSERTION",
        Subject = 12 => "OIDC_PARAM_SUBJECT",
        GrantType = 13 => "OIDC_PARAM_GRANT_TYPE",
        Token = 14 => "OIDC_PARAM_TOKEN",
        TokenTypeHint = 15 => "OIDC_PARAM_TOKEN_TYPE_HINT",
        AccessToken = 16 => "OIDC_PARAM_ACCESS_TOKEN",
        TokenType = 17 => "OIDC_PARAM_TOKEN_TYPE",
        ExpectedSub = 18 => "OIDC_PARAM_EXPECTED_SUB",
        DeviceCode = 19 => "OIDC_PARAM_DEVICE_CODE",
        AuthReqId = 20 => "OIDC_PARAM_AUTH_REQ_ID",
        Metadata = 21 => "OIDC_PARAM_METADATA",
        InitialAccessToken = 22 => "OIDC_PARAM_INITIAL_ACCESS_TOKEN",
        RegistrationAccessToken = 23 => "OIDC_PARAM_REGISTRATION_ACCESS_TOKEN",
        RegistrationClientUri = 24 => "OIDC_PARAM_REGISTRATION_CLIENT_URI",
        Method = 25 => "OIDC_PARAM_METHOD",
        Url = 26 => "OIDC_PARAM_URL",
        Body = 27 => "OIDC_PARAM_BODY",
        ContentType = 28 => "OIDC_PARAM_CONTENT_TYPE",
        Response = 29 => "OIDC_PARAM_RESPONSE",
        ExpectedState = 30 => "OIDC_PARAM_EXPECTED_STATE",
        IdToken = 31 => "OIDC_PARAM_ID_TOKEN",
        IdTokenHint = 32 => "OIDC_PARAM_ID_TOKEN_HINT",
        PostLogoutRedirectUri = 33 => "OIDC_PARAM_POST_LOGOUT_REDIRECT_URI",
        State = 34 => "OIDC_PARAM_STATE",
        ResponseType = 35 => "OIDC_PARAM_RESPONSE_TYPE",
        ResponseMode = 36 => "OIDC_PARAM_RESPONSE_MODE",
        CodeChallenge = 37 => "OIDC_PARAM_CODE_CHALLENGE",
        RequestObject = 38 => "OIDC_PARAM_REQUEST_OBJECT",
        RequestUri = 39 => "OIDC_PARAM_REQUEST_URI",
        LoginHint = 40 => "OIDC_PARAM_LOGIN_HINT",
        BindingMessage = 41 => "OIDC_PARAM_BINDING_MESSAGE",
        EndpointName = 42 => "OIDC_PARAM_ENDPOINT_NAME",
        LogoutToken = 43 => "OIDC_PARAM_LOGOUT_TOKEN",
        Jws = 44 => "OIDC_PARAM_JWS",
        Payload = 45 => "OIDC_PARAM_PAYLOAD",
        Jwe = 46 => "OIDC_PARAM_JWE",
        Scope = 100 => "OIDC_PARAM_SCOPE",
        Resource = 101 => "OIDC_PARAM_RESOURCE",
        Audience = 102 => "OIDC_PARAM_AUDIENCE",
        MaxAge = 200 => "OIDC_PARAM_MAX_AGE",
        DeadlineMs = 201 => "OIDC_PARAM_DEADLINE_MS",
        IntervalSecs = 202 => "OIDC_PARAM_INTERVAL_SECS",
        ExpiresInSecs = 203 => "OIDC_PARAM_EXPIRES_IN_SECS",
        SignedResponse = 204 => "OIDC_PARAM_SIGNED_RESPONSE",
        UseCache = 205 => "OIDC_PARAM_USE_CACHE",
        NoStateSent = 206 => "OIDC_PARAM_NO_STATE_SENT",
        NowSecs = 207 => "OIDC_PARAM_NOW_SECS",
    }
}

enum_table! {
    /// A field of a response.
    Field {
        AccessToken = 1 => "OIDC_FIELD_ACCESS_TOKEN",
        TokenType = 2 => "OIDC_FIELD_TOKEN_TYPE",
        RefreshToken = 3 => "OIDC_FIELD_REFRESH_TOKEN",
        IdToken = 4 => "OIDC_FIELD_ID_TOKEN",
        Scope = 5 => "OIDC_FIELD_SCOPE",
        IssuedTokenType = 6 => "OIDC_FIELD_ISSUED_TOKEN_TYPE",
        DeviceCode = 7 => "OIDC_FIELD_DEVICE_CODE",
        UserCode = 8 => "OIDC_FIELD_USER_CODE",
        VerificationUri = 9 => "OIDC_FIELD_VERIFICATION_URI",
        VerificationUriComplete = 10 => "OIDC_FIELD_VERIFICATION_URI_COMPLETE",
        AuthReqId = 11 => "OIDC_FIELD_AUTH_REQ_ID",
        RequestUri = 12 => "OIDC_FIELD_REQUEST_URI",
        Url = 13 => "OIDC_FIELD_URL",
        Code = 14 => "OIDC_FIELD_CODE",
        State = 15 => "OIDC_FIELD_STATE",
        Nonce = 16 => "OIDC_FIELD_NONCE",
        CodeVerifier = 17 => "OIDC_FIELD_CODE_VERIFIER",
        CodeChallenge = 18 => "OIDC_FIELD_CODE_CHALLENGE",
        Iss = 19 => "OIDC_FIELD_ISS",
        Sub = 20 => "OIDC_FIELD_SUB",
        ClientId = 21 => "OIDC_FIELD_CLIENT_ID",
        ClientSecret = 22 => "OIDC_FIELD_CLIENT_SECRET",
        RegistrationAccessToken = 23 => "OIDC_FIELD_REGISTRATION_ACCESS_TOKEN",
        RegistrationClientUri = 24 => "OIDC_FIELD_REGISTRATION_CLIENT_URI",
        Error = 25 => "OIDC_FIELD_ERROR",
        ErrorDescription = 26 => "OIDC_FIELD_ERROR_DESCRIPTION",
        ErrorUri = 27 => "OIDC_FIELD_ERROR_URI",
        ContentType = 28 => "OIDC_FIELD_CONTENT_TYPE",
        WwwAuthenticate = 29 => "OIDC_FIELD_WWW_AUTHENTICATE",
        Sid = 30 => "OIDC_FIELD_SID",
        Jti = 31 => "OIDC_FIELD_JTI",
        Payload = 32 => "OIDC_FIELD_PAYLOAD",
        ProtectedHeader = 33 => "OIDC_FIELD_PROTECTED_HEADER",
        ExpiresIn = 100 => "OIDC_FIELD_EXPIRES_IN",
        Interval = 101 => "OIDC_FIELD_INTERVAL",
        HttpStatus = 102 => "OIDC_FIELD_HTTP_STATUS",
        Active = 103 => "OIDC_FIELD_ACTIVE",
    }
}

impl Field {
    /// The JSON member a string field is read from when the operation does not compute it.
    fn member(self) -> Option<&'static str> {
        use Field::*;
        Some(match self {
            AccessToken => "access_token",
            TokenType => "token_type",
            RefreshToken => "refresh_token",
            IdToken => "id_token",
            Scope => "scope",
            IssuedTokenType => "issued_token_type",
            DeviceCode => "device_code",
            UserCode => "user_code",
            VerificationUri => "verification_uri",
            VerificationUriComplete => "verification_uri_complete",
            AuthReqId => "auth_req_id",
            RequestUri => "request_uri",
            Url => "url",
            Code => "code",
            State => "state",
            Nonce => "nonce",
            CodeVerifier => "code_verifier",
            CodeChallenge => "code_challenge",
            Iss => "iss",
            Sub => "sub",
            ClientId => "client_id",
            ClientSecret => "client_secret",
            RegistrationAccessToken => "registration_access_token",
            RegistrationClientUri => "registration_client_uri",
            Error => "error",
            ErrorDescription => "error_description",
            ErrorUri => "error_uri",
            Sid => "sid",
            Jti => "jti",
            _ => return None,
        })
    }
}

/// How a parameter is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// One string (`set_string`; setting it again replaces it).
    Str,
    /// A list (`add_string`, one item per call).
    List,
    /// An integer (`set_int`).
    Int,
}

impl Param {
    pub fn kind(self) -> ParamKind {
        match self as u32 {
            100..=199 => ParamKind::List,
            200.. => ParamKind::Int,
            _ => ParamKind::Str,
        }
    }

    /// The name the parameter has on the wire (for refusing a custom parameter of that name).
    pub fn wire_name(self) -> Option<&'static str> {
        use Param::*;
        Some(match self {
            Code => "code",
            RedirectUri => "redirect_uri",
            CodeVerifier => "code_verifier",
            Nonce => "nonce",
            RefreshToken => "refresh_token",
            SubjectToken => "subject_token",
            SubjectTokenType => "subject_token_type",
            ActorToken => "actor_token",
            ActorTokenType => "actor_token_type",
            RequestedTokenType => "requested_token_type",
            Assertion => "assertion",
            GrantType => "grant_type",
            Token => "token",
            TokenTypeHint => "token_type_hint",
            DeviceCode => "device_code",
            AuthReqId => "auth_req_id",
            IdTokenHint => "id_token_hint",
            PostLogoutRedirectUri => "post_logout_redirect_uri",
            State => "state",
            ResponseType => "response_type",
            ResponseMode => "response_mode",
            CodeChallenge => "code_challenge",
            RequestObject => "request",
            RequestUri => "request_uri",
            LoginHint => "login_hint",
            BindingMessage => "binding_message",
            Scope => "scope",
            Resource => "resource",
            Audience => "audience",
            MaxAge => "max_age",
            _ => return None,
        })
    }
}

impl Operation {
    /// The typed parameters this operation takes. `DEADLINE_MS` applies to every operation.
    pub fn params(self) -> &'static [Param] {
        use Param::*;
        match self {
            Operation::AuthorizationCode => &[Code, RedirectUri, CodeVerifier, Nonce, Resource],
            Operation::Refresh => &[RefreshToken, Scope, Resource],
            Operation::ClientCredentials => &[Scope, Resource, Audience, UseCache],
            Operation::TokenExchange => {
                &[SubjectToken, SubjectTokenType, ActorToken, ActorTokenType, RequestedTokenType, Audience, Resource, Scope]
            }
            Operation::JwtBearer => &[Assertion, Subject, Scope],
            Operation::CustomGrant => &[GrantType, Scope, Resource, Audience],
            Operation::DeviceAuthorization => &[Scope],
            Operation::DevicePoll => &[DeviceCode, IntervalSecs, ExpiresInSecs],
            Operation::CibaRequest => &[Scope, LoginHint, BindingMessage],
            Operation::CibaPoll => &[AuthReqId, IntervalSecs, ExpiresInSecs],
            Operation::Introspect => &[Token, TokenTypeHint, SignedResponse],
            Operation::Revoke => &[Token, TokenTypeHint],
            Operation::UserInfo => &[AccessToken, TokenType, ExpectedSub],
            Operation::PushedAuthorization | Operation::AuthorizationUrl => &[
                RedirectUri,
                Scope,
                State,
                Nonce,
                ResponseType,
                ResponseMode,
                CodeChallenge,
                RequestObject,
                RequestUri,
                LoginHint,
                Resource,
                MaxAge,
            ],
            Operation::EndSessionUrl => &[IdTokenHint, PostLogoutRedirectUri, State],
            Operation::AuthorizationResponse => &[Response, ExpectedState, NoStateSent, NowSecs],
            Operation::ValidateIdToken => &[IdToken, Nonce, AccessToken, Code, MaxAge, NowSecs],
            Operation::Register => &[Metadata, InitialAccessToken],
            Operation::RegistrationRead | Operation::RegistrationDelete => &[RegistrationAccessToken, RegistrationClientUri],
            Operation::RegistrationUpdate => &[Metadata, RegistrationAccessToken, RegistrationClientUri],
            Operation::Resource => &[Method, Url, AccessToken, TokenType, Body, ContentType],
            Operation::Endpoint => &[EndpointName],
            Operation::ValidateLogoutToken => &[LogoutToken, NowSecs],
            Operation::VerifyJws => &[Jws, Payload, NowSecs],
            Operation::Decrypt => &[Jwe],
        }
    }

    /// Whether the operation sends anything a custom parameter could join.
    fn sends(self) -> bool {
        !matches!(
            self,
            Operation::AuthorizationResponse
                | Operation::ValidateIdToken
                | Operation::Endpoint
                | Operation::ValidateLogoutToken
                | Operation::VerifyJws
                | Operation::Decrypt
        )
    }

    fn is_poll(self) -> bool {
        matches!(self, Operation::DevicePoll | Operation::CibaPoll)
    }
}

/// Names liboidc always sets itself (client authentication and the grant), never custom.
const OWNED_NAMES: [&str; 5] = ["grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type"];

/// Whether liboidc sets `name` itself on `op`: the names above everywhere, and the PKCE method
/// on the operations that send the code challenge liboidc made or was given (always S256). On
/// any other operation `code_challenge_method` is a custom parameter like any other: Keycloak
/// wants PKCE (`code_challenge`, `code_challenge_method`) on the device authorization request
/// of a client that enforces PKCE, and the device poll then carries `code_verifier`.
fn owned_name(op: Operation, name: &str) -> bool {
    OWNED_NAMES.contains(&name)
        || (name == "code_challenge_method" && matches!(op, Operation::AuthorizationUrl | Operation::PushedAuthorization))
}

/// Longest value of one parameter (tokens, metadata, bodies included).
pub const MAX_PARAM_BYTES: usize = 1024 * 1024;
/// Most values (custom parameters and list items) one request takes.
pub const MAX_PARAMS: usize = 256;

/// The longest deadline a request may carry (a day).
pub const MAX_DEADLINE_MS: i64 = 24 * 3600 * 1000;

/// What a poll continues: the code and the timing of the start's response.
#[derive(Clone)]
struct Pending {
    code: Secret,
    interval: Duration,
    expires_in: u64,
    received_at: Instant,
}

/// One protocol request: an operation and its parameters. Cheap to clone (a send copies it);
/// `Debug` shows names only, never values (tokens, secrets).
#[derive(Clone)]
pub struct OAuthRequest {
    op: Operation,
    strings: Vec<(Param, Secret)>,
    lists: Vec<(Param, String)>,
    ints: Vec<(Param, i64)>,
    extra: Vec<(String, String)>,
    pending: Option<Pending>,
}

impl std::fmt::Debug for OAuthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.strings.iter().map(|(p, _)| p.c_name()).collect();
        let extra: Vec<&str> = self.extra.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OAuthRequest")
            .field("op", &self.op.c_name())
            .field("params", &names)
            .field("custom", &extra)
            .finish_non_exhaustive()
    }
}

fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    err(ErrorKind::InvalidArgument, msg)
}

impl OAuthRequest {
    /// A request for `op` on `client`. A client built without a client id can only register.
    pub fn new(client: &OAuthClient, op: Operation) -> Result<OAuthRequest> {
        if client.client_id().is_empty() && op != Operation::Register {
            return err(
                ErrorKind::InvalidConfig,
                format!("{} needs a client id: this client was built without one (it can only send OIDC_OP_REGISTER)", op.c_name()),
            );
        }
        Ok(OAuthRequest { op, strings: Vec::new(), lists: Vec::new(), ints: Vec::new(), extra: Vec::new(), pending: None })
    }

    pub fn operation(&self) -> Operation {
        self.op
    }

    fn applies(&self, p: Param, kind: ParamKind) -> Result<()> {
        if p != Param::DeadlineMs && !self.op.params().contains(&p) {
            return invalid(format!("{} does not apply to {}", p.c_name(), self.op.c_name()));
        }
        if p.kind() != kind {
            let how = match p.kind() {
                ParamKind::Str => "set it with oidc_oauth_request_set_string",
                ParamKind::List => "it is a list: add one item per oidc_oauth_request_add_string call",
                ParamKind::Int => "it is an integer: set it with oidc_oauth_request_set_int",
            };
            return invalid(format!("{}: {how}", p.c_name()));
        }
        Ok(())
    }

    fn check_value(p: &str, v: &str) -> Result<()> {
        if v.is_empty() {
            return invalid(format!("{p} is empty (leave a parameter unset rather than empty)"));
        }
        if v.len() > MAX_PARAM_BYTES {
            return invalid(format!("{p} is longer than {MAX_PARAM_BYTES} bytes"));
        }
        Ok(())
    }

    fn room(&self) -> Result<()> {
        if self.lists.len() + self.extra.len() >= MAX_PARAMS {
            return invalid(format!("a request takes at most {MAX_PARAMS} list items and custom parameters"));
        }
        Ok(())
    }

    /// Set a string parameter (replacing an earlier value). Empty values are refused.
    pub fn set_string(&mut self, p: Param, v: &str) -> Result<()> {
        self.applies(p, ParamKind::Str)?;
        Self::check_value(p.c_name(), v)?;
        match p {
            Param::Method if !METHODS.contains(&v) => return invalid("OIDC_PARAM_METHOD must be GET, POST, PUT, PATCH, DELETE or HEAD"),
            Param::ContentType if !CONTENT_TYPES.contains(&v) => {
                return invalid(format!("OIDC_PARAM_CONTENT_TYPE must be one of {}", CONTENT_TYPES.join(", ")));
            }
            Param::TokenType if !v.eq_ignore_ascii_case("dpop") && !v.eq_ignore_ascii_case("bearer") => {
                return invalid("OIDC_PARAM_TOKEN_TYPE must be DPoP or Bearer");
            }
            Param::Metadata => match serde_json::from_str::<Value>(v) {
                Ok(Value::Object(_)) => {}
                _ => return invalid("OIDC_PARAM_METADATA must be a JSON object"),
            },
            _ => {}
        }
        self.strings.retain(|(q, _)| *q != p);
        self.strings.push((p, Secret::new(v)));
        Ok(())
    }

    /// Add one item to a list parameter. A scope item is one scope token (no spaces).
    pub fn add_string(&mut self, p: Param, v: &str) -> Result<()> {
        self.applies(p, ParamKind::List)?;
        Self::check_value(p.c_name(), v)?;
        if p == Param::Scope && v.contains([' ', '\t', '\n', '\r']) {
            return invalid("OIDC_PARAM_SCOPE items are single scope tokens: add one scope per call");
        }
        if p == Param::Audience && self.op == Operation::ClientCredentials && self.lists.iter().any(|(q, _)| *q == p) {
            return invalid("OIDC_OP_CLIENT_CREDENTIALS takes at most one OIDC_PARAM_AUDIENCE");
        }
        self.room()?;
        self.lists.push((p, v.to_string()));
        Ok(())
    }

    /// Set an integer parameter.
    pub fn set_int(&mut self, p: Param, v: i64) -> Result<()> {
        self.applies(p, ParamKind::Int)?;
        let ok = match p {
            Param::SignedResponse | Param::UseCache | Param::NoStateSent => v == 0 || v == 1,
            Param::DeadlineMs => (1..=MAX_DEADLINE_MS).contains(&v),
            Param::IntervalSecs => (1..=300).contains(&v),
            Param::ExpiresInSecs => (1..=super::MAX_SERVER_LIFETIME_SECS as i64).contains(&v),
            _ => v >= 0,
        };
        if !ok {
            let range = match p {
                Param::SignedResponse | Param::UseCache | Param::NoStateSent => "0 or 1".to_string(),
                Param::DeadlineMs => format!("1..{MAX_DEADLINE_MS} ms"),
                Param::IntervalSecs => "1..300 s".to_string(),
                Param::ExpiresInSecs => format!("1..{} s", super::MAX_SERVER_LIFETIME_SECS),
                _ => "non-negative".to_string(),
            };
            return invalid(format!("{} must be {range} (got {v})", p.c_name()));
        }
        self.ints.retain(|(q, _)| *q != p);
        self.ints.push((p, v));
        Ok(())
    }

    /// Add a custom parameter (a name may repeat). Names liboidc sets itself and names that have
    /// a typed parameter for this operation are refused.
    pub fn add_param(&mut self, name: &str, value: &str) -> Result<()> {
        if !self.op.sends() {
            return invalid(format!("{} sends nothing: it takes no custom parameters", self.op.c_name()));
        }
        if name.is_empty() || name.len() > 256 || name.chars().any(|c| c.is_control() || c == ' ') {
            return invalid("a custom parameter name must be 1 to 256 printable characters without spaces");
        }
        if value.len() > MAX_PARAM_BYTES {
            return invalid(format!("custom parameter {name} is longer than {MAX_PARAM_BYTES} bytes"));
        }
        if owned_name(self.op, name) {
            return invalid(format!("{name} is set by liboidc itself; it cannot be a custom parameter"));
        }
        if let Some(p) = self.op.params().iter().find(|p| p.wire_name() == Some(name)) {
            return invalid(format!("{name} has a typed parameter for {}: use {}", self.op.c_name(), p.c_name()));
        }
        self.room()?;
        self.extra.push((name.to_string(), value.to_string()));
        Ok(())
    }

    /// Continue the flow `started` began: a device poll from a device authorization's response,
    /// a CIBA poll from a CIBA request's response.
    pub fn set_pending(&mut self, started: &OAuthResponse) -> Result<()> {
        let want = match self.op {
            Operation::DevicePoll => Operation::DeviceAuthorization,
            Operation::CibaPoll => Operation::CibaRequest,
            _ => return invalid(format!("{} continues no earlier response (only the polls do)", self.op.c_name())),
        };
        if started.op != want {
            return invalid(format!("{} continues a {} response, not a {} one", self.op.c_name(), want.c_name(), started.op.c_name()));
        }
        match &started.pending {
            Some(p) => {
                self.pending = Some(p.clone());
                Ok(())
            }
            None => invalid("the response holds no pending flow"),
        }
    }

    fn s(&self, p: Param) -> Option<&str> {
        self.strings.iter().find(|(q, _)| *q == p).map(|(_, v)| v.expose())
    }

    fn req(&self, p: Param) -> Result<&str> {
        match self.s(p) {
            Some(v) => Ok(v),
            None => invalid(format!("{} requires {}", self.op.c_name(), p.c_name())),
        }
    }

    fn list(&self, p: Param) -> impl Iterator<Item = &str> {
        self.lists.iter().filter(move |(q, _)| *q == p).map(|(_, v)| v.as_str())
    }

    fn scope(&self) -> Option<String> {
        let v: Vec<&str> = self.list(Param::Scope).collect();
        if v.is_empty() { None } else { Some(v.join(" ")) }
    }

    fn int(&self, p: Param) -> Option<i64> {
        self.ints.iter().find(|(q, _)| *q == p).map(|(_, v)| *v)
    }

    /// The validation time the request names (OIDC_PARAM_NOW_SECS), if any.
    fn now(&self) -> Option<f64> {
        self.int(Param::NowSecs).map(|v| v as f64)
    }

    fn flag(&self, p: Param) -> bool {
        self.int(p) == Some(1)
    }

    /// The wire form of the typed string and list parameters that are sent as they are (the
    /// operation's own names), then the custom ones.
    fn form(&self, skip: &[Param]) -> Vec<(String, String)> {
        let mut p = Vec::new();
        for (q, v) in &self.strings {
            if let Some(n) = q.wire_name().filter(|_| !skip.contains(q)) {
                p.push((n.to_string(), v.expose().to_string()));
            }
        }
        if let Some(s) = self.scope().filter(|_| !skip.contains(&Param::Scope)) {
            p.push(("scope".into(), s));
        }
        for (q, v) in &self.lists {
            if *q != Param::Scope && !skip.contains(q) {
                p.push((q.wire_name().unwrap_or_default().to_string(), v.clone()));
            }
        }
        p.extend(self.extra.iter().cloned());
        p
    }
}

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
const CONTENT_TYPES: [&str; 4] = ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream"];

fn static_str(v: &str, set: &[&'static str]) -> &'static str {
    set.iter().find(|m| **m == v).copied().unwrap_or(set[0])
}

/// The answer to a request: the JSON (or body) and the fields callers read. Holds secrets
/// (tokens, codes): `Debug` shows field names only.
#[derive(Clone)]
pub struct OAuthResponse {
    op: Operation,
    json: Secret,
    strings: Vec<(Field, Secret)>,
    ints: Vec<(Field, i64)>,
    object: Option<Map<String, Value>>,
    pending: Option<Pending>,
}

impl std::fmt::Debug for OAuthResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.strings.iter().map(|(p, _)| p.c_name()).collect();
        f.debug_struct("OAuthResponse")
            .field("op", &self.op.c_name())
            .field("fields", &names)
            .field("ints", &self.ints)
            .finish_non_exhaustive()
    }
}

impl OAuthResponse {
    fn new(op: Operation, json: String, object: Option<Map<String, Value>>) -> OAuthResponse {
        OAuthResponse { op, json: Secret::new(json), strings: Vec::new(), ints: Vec::new(), object, pending: None }
    }

    fn local(op: Operation, object: Map<String, Value>) -> OAuthResponse {
        let json = Value::Object(object.clone()).to_string();
        OAuthResponse::new(op, json, Some(object))
    }

    fn with(mut self, f: Field, v: Option<&str>) -> OAuthResponse {
        if let Some(v) = v {
            self.strings.retain(|(g, _)| *g != f);
            self.strings.push((f, Secret::new(v)));
        }
        self
    }

    fn with_int(mut self, f: Field, v: Option<i64>) -> OAuthResponse {
        if let Some(v) = v {
            self.ints.push((f, v));
        }
        self
    }

    pub fn operation(&self) -> Operation {
        self.op
    }

    /// The JSON body (or the resource's body as received, lossy UTF-8).
    pub fn json(&self) -> &str {
        self.json.expose()
    }

    /// A string field: computed by the operation, else the top-level string member of that name.
    pub fn string(&self, f: Field) -> Option<&str> {
        if let Some((_, v)) = self.strings.iter().find(|(g, _)| *g == f) {
            return Some(v.expose());
        }
        self.object.as_ref()?.get(f.member()?)?.as_str()
    }

    /// An integer field (`None` when absent).
    pub fn int(&self, f: Field) -> Option<i64> {
        self.ints.iter().find(|(g, _)| *g == f).map(|(_, v)| *v)
    }

    fn from_token(op: Operation, t: TokenResponse) -> OAuthResponse {
        let r = OAuthResponse::new(op, t.raw.expose().to_string(), Some(t.object));
        r.with(Field::AccessToken, Some(t.access_token.expose()))
            .with(Field::TokenType, Some(&t.token_type))
            .with(Field::RefreshToken, t.refresh_token.as_ref().map(Secret::expose))
            .with(Field::IdToken, t.id_token.as_ref().map(Secret::expose))
            .with(Field::Scope, t.scope.as_deref())
            .with(Field::IssuedTokenType, t.issued_token_type.as_deref())
            .with_int(Field::ExpiresIn, t.expires_in.map(secs))
    }
}

fn secs(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The answer of OIDC_OP_VERIFY_JWS and OIDC_OP_DECRYPT: `{"header": {..}, "payload_b64url": "..",
/// "payload": ".."}` (`payload` only when the bytes are UTF-8), with the payload text and the
/// protected header as fields.
fn payload_response(op: Operation, header_json: &str, payload: &[u8]) -> OAuthResponse {
    let header = object_of(header_json).map(Value::Object).unwrap_or(Value::Null);
    let text = std::str::from_utf8(payload).ok();
    let mut m = Map::new();
    m.insert("header".into(), header);
    m.insert("payload_b64url".into(), Value::String(crate::core::json::b64url_encode(payload)));
    if let Some(t) = text {
        m.insert("payload".into(), Value::String(t.to_string()));
    }
    OAuthResponse::local(op, m).with(Field::Payload, text).with(Field::ProtectedHeader, Some(header_json))
}

fn object_of(json: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// A request under way: the single-shot request, or a poll's state.
pub struct Run {
    req: OAuthRequest,
    poll: Option<PollState>,
    /// The cancel handle the call runs under (the host's, narrowed by `DEADLINE_MS`).
    cancel: Option<Cancel>,
}

impl Run {
    /// The cancel handle the call runs under (give it to the pool for the non-blocking path).
    pub fn cancel(&self) -> Option<&Cancel> {
        self.cancel.as_ref()
    }
}

impl OAuthClient {
    /// Check `req` (required parameters, combinations) and make it ready to run under `cancel`.
    /// Nothing is sent yet; every argument error surfaces here.
    pub fn start(&self, req: &OAuthRequest, cancel: Option<&Cancel>) -> Result<Run> {
        let r = req.clone();
        let timeout = r.int(Param::DeadlineMs).map(|ms| Duration::from_millis(ms.unsigned_abs()));
        self.check_request(&r)?;
        let cancel = Cancel::for_call(cancel, timeout);
        let poll = if r.op.is_poll() { Some(self.poll_state(&r, cancel.as_ref())?) } else { None };
        Ok(Run { req: r, poll, cancel })
    }

    /// The required parameters and the combinations, checked at send.
    fn check_request(&self, r: &OAuthRequest) -> Result<()> {
        use Operation as O;
        use Param as P;
        let required: &[Param] = match r.op {
            O::AuthorizationCode => &[P::Code],
            O::Refresh => &[P::RefreshToken],
            O::TokenExchange => &[P::SubjectToken],
            O::CustomGrant => &[P::GrantType],
            O::Introspect | O::Revoke => &[P::Token],
            O::UserInfo => &[P::AccessToken],
            O::AuthorizationResponse => &[P::Response],
            O::ValidateIdToken => &[P::IdToken],
            O::Register => &[P::Metadata],
            O::RegistrationRead | O::RegistrationDelete => &[P::RegistrationAccessToken, P::RegistrationClientUri],
            O::RegistrationUpdate => &[P::Metadata, P::RegistrationAccessToken, P::RegistrationClientUri],
            O::Resource => &[P::Url, P::AccessToken],
            O::Endpoint => &[P::EndpointName],
            O::ValidateLogoutToken => &[P::LogoutToken],
            O::VerifyJws => &[P::Jws],
            O::Decrypt => &[P::Jwe],
            _ => &[],
        };
        for p in required {
            r.req(*p)?;
        }
        match r.op {
            O::JwtBearer if r.s(P::Assertion).is_some() == r.s(P::Subject).is_some() => {
                invalid("OIDC_OP_JWT_BEARER takes OIDC_PARAM_ASSERTION or OIDC_PARAM_SUBJECT (liboidc then signs one), exactly one")
            }
            O::ClientCredentials if r.flag(P::UseCache) && !r.extra.is_empty() => {
                invalid("custom parameters are not part of the token cache's key: send them without OIDC_PARAM_USE_CACHE")
            }
            O::AuthorizationResponse if r.s(P::ExpectedState).is_some() == r.flag(P::NoStateSent) => invalid(
                "OIDC_OP_AUTHORIZATION_RESPONSE needs OIDC_PARAM_EXPECTED_STATE (the state sent) or OIDC_PARAM_NO_STATE_SENT = 1, exactly one",
            ),
            O::DevicePoll | O::CibaPoll => {
                let code = if r.op == O::DevicePoll { P::DeviceCode } else { P::AuthReqId };
                match (r.pending.is_some(), r.s(code).is_some()) {
                    (false, false) => invalid(format!(
                        "{} needs the start's response (oidc_oauth_request_set_pending) or {}",
                        r.op.c_name(),
                        code.c_name()
                    )),
                    (true, true) => invalid(format!("{} takes the start's response or {}, not both", r.op.c_name(), code.c_name())),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    fn poll_state(&self, r: &OAuthRequest, cancel: Option<&Cancel>) -> Result<PollState> {
        let now = self.config().base.clock.now();
        let p = match &r.pending {
            Some(p) => p.clone(),
            None => {
                let code = if r.op == Operation::DevicePoll { Param::DeviceCode } else { Param::AuthReqId };
                Pending {
                    code: Secret::new(r.req(code)?),
                    interval: r
                        .int(Param::IntervalSecs)
                        .map_or(super::grants::DEFAULT_POLL_INTERVAL, |s| Duration::from_secs(s.unsigned_abs())),
                    expires_in: r.int(Param::ExpiresInSecs).map_or(super::MAX_SERVER_LIFETIME_SECS, |s| s.unsigned_abs()),
                    received_at: now,
                }
            }
        };
        // The poll's own deadline is the codes' lifetime; the call's deadline is the cancel's.
        let opts = PollOptions { deadline: now + Duration::from_secs(super::MAX_SERVER_LIFETIME_SECS), cancel: cancel.cloned() };
        Ok((if r.op == Operation::DevicePoll {
            let da = DeviceAuthorization {
                device_code: p.code,
                user_code: String::new(),
                verification_uri: String::new(),
                verification_uri_complete: None,
                expires_in: p.expires_in,
                interval: p.interval,
                received_at: p.received_at,
                raw: Secret::default(),
            };
            PollState::device(&da, &opts)
        } else {
            let b = BackchannelAuthentication {
                auth_req_id: p.code,
                expires_in: p.expires_in,
                interval: p.interval,
                received_at: p.received_at,
            };
            PollState::ciba(&b, &opts)
        })
        // custom parameters go with every poll (e.g. Keycloak's code_verifier on a device poll
        // of a PKCE-enforcing client)
        .with_params(&r.extra))
    }

    /// One step of a run: the whole call for single-shot operations, one poll for the polls
    /// (`Wait`: step again after that long). The rule of both transports.
    pub fn step(&self, run: &mut Run) -> RunStep {
        if let Some(c) = &run.cancel {
            if let Err(e) = c.check() {
                return RunStep::Done(Err(e));
            }
        }
        // Every request of the step is bounded by the call's deadline too.
        let deadline = run.cancel.as_ref().and_then(Cancel::deadline);
        let r = match crate::core::http::with_deadline(deadline, || match &mut run.poll {
            Some(st) => match self.poll_step(st) {
                PollStep::Done(t) => RunStep::Done(t.map(|t| OAuthResponse::from_token(run.req.op, t))),
                PollStep::Wait(d) => RunStep::Wait(d),
            },
            None => RunStep::Done(self.run_once(&run.req)),
        }) {
            RunStep::Done(r) => r,
            wait => return wait,
        };
        // A call cancelled (or past its deadline) meanwhile ends so, on both transports.
        if let Some(c) = &run.cancel {
            if let Err(e) = c.check() {
                return RunStep::Done(Err(e));
            }
        }
        RunStep::Done(r)
    }

    /// Send `req` and wait for its answer on this thread, under `cancel` (may be `None`): the
    /// same checks, steps and outcomes as the non-blocking send.
    pub fn send(&self, req: &OAuthRequest, cancel: Option<&Cancel>) -> Result<OAuthResponse> {
        let mut run = self.start(req, cancel)?;
        loop {
            match self.step(&mut run) {
                RunStep::Done(r) => return r,
                RunStep::Wait(d) => match &run.cancel {
                    Some(c) => c.wait_until(Instant::now() + d)?,
                    None => std::thread::sleep(d),
                },
            }
        }
    }

    fn run_once(&self, r: &OAuthRequest) -> Result<OAuthResponse> {
        use Operation as O;
        use Param as P;
        let op = r.op;
        match op {
            O::AuthorizationCode | O::Refresh | O::ClientCredentials | O::TokenExchange | O::JwtBearer | O::CustomGrant => {
                self.grant(r).map(|t| OAuthResponse::from_token(op, t))
            }
            O::DeviceAuthorization => {
                let d = self.device_authorization(r.scope().as_deref(), &r.form(&[P::Scope]))?;
                let object = object_of(d.raw.expose());
                Ok(OAuthResponse::new(op, d.raw.expose().to_string(), object)
                    .with(Field::DeviceCode, Some(d.device_code.expose()))
                    .with(Field::UserCode, Some(&d.user_code))
                    .with(Field::VerificationUri, Some(&d.verification_uri))
                    .with(Field::VerificationUriComplete, d.verification_uri_complete.as_deref())
                    .with_int(Field::ExpiresIn, Some(secs(d.expires_in)))
                    .with_int(Field::Interval, Some(secs(d.interval.as_secs())))
                    .pending(Pending { code: d.device_code, interval: d.interval, expires_in: d.expires_in, received_at: d.received_at }))
            }
            O::CibaRequest => {
                let (b, raw) = self.ciba_request_raw(&r.form(&[]))?;
                let object = object_of(&raw);
                Ok(OAuthResponse::new(op, raw, object)
                    .with(Field::AuthReqId, Some(b.auth_req_id.expose()))
                    .with_int(Field::ExpiresIn, Some(secs(b.expires_in)))
                    .with_int(Field::Interval, Some(secs(b.interval.as_secs())))
                    .pending(Pending { code: b.auth_req_id, interval: b.interval, expires_in: b.expires_in, received_at: b.received_at }))
            }
            O::DevicePoll | O::CibaPoll => invalid("a poll runs in steps"),
            O::Introspect => {
                let i = self.introspect_with(r.req(P::Token)?, r.s(P::TokenTypeHint), r.flag(P::SignedResponse), &r.extra)?;
                Ok(OAuthResponse::new(op, i.json, Some(i.object)).with_int(Field::Active, Some(i64::from(i.active))))
            }
            O::Revoke => {
                self.revoke_with(r.req(P::Token)?, r.s(P::TokenTypeHint), &r.extra)?;
                Ok(OAuthResponse::local(op, Map::new()))
            }
            O::UserInfo => {
                let tt = self.token_type_for(r)?;
                let u = self.userinfo_with(r.req(P::AccessToken)?, tt, r.s(P::ExpectedSub), &r.extra)?;
                Ok(OAuthResponse::new(op, u.json, Some(u.object)))
            }
            O::AuthorizationUrl | O::PushedAuthorization => self.authorization(r),
            O::EndSessionUrl => {
                let req = EndSessionRequest {
                    id_token_hint: r.s(P::IdTokenHint).map(str::to_string),
                    post_logout_redirect_uri: r.s(P::PostLogoutRedirectUri).map(str::to_string),
                    state: r.s(P::State).map(str::to_string),
                    include_client_id: true,
                    extra: r.extra.clone(),
                    ..Default::default()
                };
                let url = self.end_session_url(&req)?;
                Ok(OAuthResponse::local(op, Map::from_iter([("url".to_string(), Value::from(url.clone()))])).with(Field::Url, Some(&url)))
            }
            O::AuthorizationResponse => {
                let expected = match r.s(P::ExpectedState) {
                    Some(s) => ExpectedState::Sent(s),
                    None => ExpectedState::NoneSent,
                };
                let a = self.parse_authorization_response(r.req(P::Response)?, expected, r.now())?;
                let json = a.to_json();
                let object = object_of(&json);
                Ok(OAuthResponse::new(op, json, object)
                    .with(Field::Code, Some(a.code.expose()))
                    .with(Field::State, a.state.as_deref())
                    .with(Field::Iss, a.iss.as_deref()))
            }
            O::ValidateIdToken => {
                let checks = IdTokenChecks {
                    nonce: r.s(P::Nonce),
                    access_token: r.s(P::AccessToken),
                    code: r.s(P::Code),
                    max_age: r.int(P::MaxAge).map(i64::unsigned_abs),
                    now: r.now(),
                };
                let c = validate_id_token(self, r.req(P::IdToken)?, &checks)?;
                Ok(OAuthResponse::new(op, c.json, Some(c.object)))
            }
            O::ValidateLogoutToken => {
                let t = validate_logout_token(self, r.req(P::LogoutToken)?, r.now())?;
                Ok(OAuthResponse::new(op, t.json, Some(t.object))
                    .with(Field::Iss, Some(&t.iss))
                    .with(Field::Sub, t.sub.as_deref())
                    .with(Field::Sid, t.sid.as_deref())
                    .with(Field::Jti, Some(&t.jti)))
            }
            O::Register | O::RegistrationRead | O::RegistrationUpdate | O::RegistrationDelete => self.registration(r),
            O::Resource => self.resource(r),
            O::Endpoint => {
                let url = self.endpoint(r.req(P::EndpointName)?)?;
                Ok(OAuthResponse::local(op, Map::from_iter([("url".to_string(), Value::from(url.clone()))])).with(Field::Url, Some(&url)))
            }
            O::VerifyJws => {
                let detached = r.s(P::Payload).map(str::as_bytes);
                let v = crate::core::jose::jws::verify_jws(
                    self.validator(),
                    r.req(P::Jws)?,
                    detached,
                    r.now().unwrap_or_else(crate::core::client::unix_now),
                )?;
                Ok(payload_response(op, &v.header_json, &v.payload))
            }
            O::Decrypt => {
                let d = self.decrypt(r.req(P::Jwe)?)?;
                Ok(payload_response(op, &d.header_json, &d.plaintext))
            }
        }
    }

    /// The token grants: the grant's parameters, then the typed and custom ones.
    fn grant(&self, r: &OAuthRequest) -> Result<TokenResponse> {
        use Operation as O;
        use Param as P;
        let param = |k: &str, v: &str| (k.to_string(), v.to_string());
        let t = match r.op {
            O::AuthorizationCode => {
                let mut p = vec![param("grant_type", GRANT_AUTHORIZATION_CODE)];
                p.extend(r.form(&[P::Nonce]));
                let t = self.token_request(p)?;
                self.check_grant_id_token(&t, r.s(P::Nonce))?;
                t
            }
            O::Refresh => {
                let mut p = vec![param("grant_type", GRANT_REFRESH_TOKEN)];
                p.extend(r.form(&[]));
                let t = self.token_request(p)?;
                self.check_grant_id_token(&t, None)?;
                t
            }
            O::ClientCredentials if r.flag(P::UseCache) => {
                let resources: Vec<&str> = r.list(P::Resource).collect();
                self.client_credentials_cached(r.scope().as_deref(), &resources, r.list(P::Audience).next())?
            }
            O::ClientCredentials => {
                let mut p = vec![param("grant_type", "client_credentials")];
                p.extend(r.form(&[]));
                self.token_request(p)?
            }
            O::TokenExchange => {
                let mut p = vec![param("grant_type", GRANT_TOKEN_EXCHANGE)];
                if r.s(P::SubjectTokenType).is_none() {
                    p.push(param("subject_token_type", TOKEN_TYPE_ACCESS_TOKEN));
                }
                if r.s(P::ActorToken).is_some() && r.s(P::ActorTokenType).is_none() {
                    p.push(param("actor_token_type", TOKEN_TYPE_ACCESS_TOKEN));
                }
                p.extend(r.form(&[]));
                let t = self.token_request(p)?;
                if t.issued_token_type.is_none() {
                    return err(ErrorKind::ResponseMissingField, "token exchange response lacks issued_token_type");
                }
                t
            }
            O::JwtBearer => {
                let assertion = match (r.s(P::Assertion), r.s(P::Subject)) {
                    (Some(a), _) => a.to_string(),
                    (None, Some(sub)) => {
                        let key = self.private_key().ok_or_else(|| {
                            Error::new(
                                ErrorKind::InvalidConfig,
                                "no OIDC_PARAM_ASSERTION given and the client has no private key to sign one",
                            )
                        })?;
                        self.jwt_bearer_assertion(&key, sub, None)?
                    }
                    (None, None) => return invalid("OIDC_OP_JWT_BEARER requires OIDC_PARAM_ASSERTION or OIDC_PARAM_SUBJECT"),
                };
                let mut p = vec![param("grant_type", GRANT_JWT_BEARER), param("assertion", &assertion)];
                p.extend(r.form(&[P::Assertion]));
                self.token_request(p)?
            }
            O::CustomGrant => self.token_request(r.form(&[]))?,
            _ => return invalid("not a grant"),
        };
        Ok(t)
    }

    /// The token type a protected request uses: the one set, else DPoP when the client has a
    /// DPoP key (RFC 9449 §7.1: a DPoP-bound token is always sent with the DPoP scheme).
    fn token_type_for(&self, r: &OAuthRequest) -> Result<&'static str> {
        match r.s(Param::TokenType) {
            Some(t) if t.eq_ignore_ascii_case("dpop") => {
                if self.dpop().is_none() {
                    return err(ErrorKind::InvalidConfig, "OIDC_PARAM_TOKEN_TYPE is DPoP but the client has no DPoP key");
                }
                Ok("DPoP")
            }
            Some(_) => Ok("Bearer"),
            None => Ok(if self.dpop().is_some() { "DPoP" } else { "Bearer" }),
        }
    }

    fn authorization(&self, r: &OAuthRequest) -> Result<OAuthResponse> {
        use Param as P;
        let owned = |p: Param| r.s(p).map(str::to_string);
        let pushed = r.op == Operation::PushedAuthorization;
        // PKCE: generated when no challenge is given (the verifier comes back in the response).
        let generated = match (r.s(P::CodeChallenge), r.s(P::RequestObject), r.s(P::RequestUri)) {
            (None, None, None) => Some(super::pkce::generate()?),
            _ => None,
        };
        let mut extra: Vec<(String, String)> = Vec::new();
        if let Some(h) = r.s(P::LoginHint) {
            extra.push(("login_hint".into(), h.into()));
        }
        extra.extend(r.list(P::Resource).map(|v| ("resource".to_string(), v.to_string())));
        extra.extend(r.extra.iter().cloned());
        let req = AuthorizationRequest {
            response_type: owned(P::ResponseType),
            redirect_uri: owned(P::RedirectUri),
            scope: r.scope(),
            state: owned(P::State),
            nonce: owned(P::Nonce),
            code_challenge: owned(P::CodeChallenge).or_else(|| generated.as_ref().map(|g| g.challenge.clone())),
            response_mode: owned(P::ResponseMode),
            max_age: r.int(P::MaxAge).map(i64::unsigned_abs),
            extra,
            request: owned(P::RequestObject),
            request_uri: owned(P::RequestUri),
        };
        let mut o = Map::new();
        let (url, request_uri, expires_in, state, nonce) = if pushed {
            let p = self.push_authorization_request(&req)?;
            (None, Some(p.request_uri), Some(p.expires_in), p.state, p.nonce)
        } else {
            let a = self.authorization_url(&req)?;
            (Some(a.url), None, None, a.state, a.nonce)
        };
        let put = |o: &mut Map<String, Value>, k: &str, v: Option<&str>| {
            if let Some(v) = v {
                o.insert(k.to_string(), Value::from(v));
            }
        };
        put(&mut o, "url", url.as_deref());
        put(&mut o, "request_uri", request_uri.as_deref());
        if let Some(e) = expires_in {
            o.insert("expires_in".into(), Value::from(e));
        }
        put(&mut o, "state", state.as_deref());
        put(&mut o, "nonce", nonce.as_deref());
        if let Some(g) = &generated {
            put(&mut o, "code_verifier", Some(g.verifier.expose()));
            put(&mut o, "code_challenge", Some(&g.challenge));
            put(&mut o, "code_challenge_method", Some(super::pkce::METHOD));
        }
        let resp = OAuthResponse::local(r.op, o)
            .with(Field::Url, url.as_deref())
            .with(Field::RequestUri, request_uri.as_deref())
            .with(Field::State, state.as_deref())
            .with(Field::Nonce, nonce.as_deref())
            .with(Field::CodeVerifier, generated.as_ref().map(|g| g.verifier.expose()))
            .with(Field::CodeChallenge, generated.as_ref().map(|g| g.challenge.as_str()).or(r.s(P::CodeChallenge)))
            .with_int(Field::ExpiresIn, expires_in.map(secs));
        Ok(resp)
    }

    fn registration(&self, r: &OAuthRequest) -> Result<OAuthResponse> {
        use Operation as O;
        use Param as P;
        let metadata = || -> Result<String> {
            let Some(Value::Object(mut m)) = r.s(P::Metadata).and_then(|s| serde_json::from_str::<Value>(s).ok()) else {
                return invalid("OIDC_PARAM_METADATA must be a JSON object");
            };
            for (k, v) in &r.extra {
                m.insert(k.clone(), Value::from(v.as_str()));
            }
            Ok(Value::Object(m).to_string())
        };
        let reg = match r.op {
            O::Register => super::registration::register_client(self.config(), &metadata()?, r.s(P::InitialAccessToken))?,
            _ => {
                let (uri, rat) = (r.req(P::RegistrationClientUri)?, r.req(P::RegistrationAccessToken)?);
                let (method, body) = match r.op {
                    O::RegistrationRead => ("GET", None),
                    O::RegistrationUpdate => ("PUT", Some(metadata()?)),
                    _ => ("DELETE", None),
                };
                match super::registration::manage(self, method, uri, rat, body)? {
                    Some(reg) => reg,
                    None => return Ok(OAuthResponse::local(r.op, Map::new())),
                }
            }
        };
        Ok(OAuthResponse::new(r.op, reg.json.expose().to_string(), Some(reg.object)))
    }

    fn resource(&self, r: &OAuthRequest) -> Result<OAuthResponse> {
        use Param as P;
        let method = static_str(r.s(P::Method).unwrap_or("GET"), &METHODS);
        let ct = static_str(r.s(P::ContentType).unwrap_or("application/json"), &CONTENT_TYPES);
        let mut url = r.req(P::Url)?.to_string();
        if !r.extra.is_empty() {
            url = super::authorize::with_query(&url, &r.extra);
        }
        let tt = self.token_type_for(r)?;
        let body = r.s(P::Body).map(|b| (ct, b.as_bytes().to_vec()));
        let resp = self.resource_request(method, &url, r.req(P::AccessToken)?, tt, body)?;
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        let object = object_of(&text);
        let www = resp.header("www-authenticate").map(str::to_string);
        let from_www = |k: &str| www.as_deref().and_then(|w| auth_param(w, k));
        let from_body = |k: &str| object.as_ref().and_then(|o| o.get(k)).and_then(Value::as_str).map(str::to_string);
        let error = from_www("error").or_else(|| if resp.status >= 400 { from_body("error") } else { None });
        let (desc, uri) = if www.as_deref().and_then(|w| auth_param(w, "error")).is_some() {
            (from_www("error_description"), from_www("error_uri"))
        } else if error.is_some() {
            (from_body("error_description"), from_body("error_uri"))
        } else {
            (None, None)
        };
        let ctype = resp.header("content-type").map(str::to_string);
        let mut out = OAuthResponse::new(r.op, text, None);
        out = out
            .with(Field::Error, error.as_deref())
            .with(Field::ErrorDescription, desc.as_deref())
            .with(Field::ErrorUri, uri.as_deref())
            .with(Field::ContentType, ctype.as_deref())
            .with(Field::WwwAuthenticate, www.as_deref())
            .with_int(Field::HttpStatus, Some(i64::from(resp.status)));
        Ok(out)
    }
}

impl OAuthResponse {
    fn pending(mut self, p: Pending) -> OAuthResponse {
        self.pending = Some(p);
        self
    }
}

/// What a step of a run decided.
#[derive(Debug)]
pub enum RunStep {
    /// The call is over.
    Done(Result<OAuthResponse>),
    /// A poll is pending: step again after this long.
    Wait(Duration),
}
