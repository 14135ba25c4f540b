// Token exchange (RFC 8693), JWT bearer (RFC 7523 §2.1) and any other grant type.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// RFC 8693 token type identifiers.
    public static class TokenTypes
    {
        /// RFC 8693 access token type.
        public const string AccessToken = "urn:ietf:params:oauth:token-type:access_token";
        /// RFC 8693 refresh token type.
        public const string RefreshToken = "urn:ietf:params:oauth:token-type:refresh_token";
        /// RFC 8693 ID token type.
        public const string IdToken = "urn:ietf:params:oauth:token-type:id_token";
        /// RFC 8693 JWT token type.
        public const string Jwt = "urn:ietf:params:oauth:token-type:jwt";
    }

    /// The optional parameters of a token exchange (RFC 8693 §2.1).
    public sealed class TokenExchangeOptions
    {
        /// The <c>audience</c> values to request.
        public IEnumerable<string> Audiences { get; set; }
        /// The <c>resource</c> values (RFC 8707) to request.
        public IEnumerable<string> Resources { get; set; }
        /// The scopes to request.
        public IEnumerable<string> Scopes { get; set; }
        /// The <c>requested_token_type</c> (a <see cref="TokenTypes"/> value).
        public string RequestedTokenType { get; set; }
        /// The <c>actor_token</c> (delegation).
        public string ActorToken { get; set; }
        /// The <c>actor_token_type</c> (a <see cref="TokenTypes"/> value).
        public string ActorTokenType { get; set; }
        /// Further form parameters, by name.
        public IEnumerable<KeyValuePair<string, string>> Parameters { get; set; }
    }

    public sealed partial class OAuthClient
    {
        /// Exchange <paramref name="subjectToken"/> for another token (RFC 8693,
        /// OAuthOperation.TokenExchange). The response carries <see cref="TokenResponse.IssuedTokenType"/>.
        /// <param name="subjectTokenType">null: liboidc's default (<see cref="TokenTypes.AccessToken"/>)</param>
        /// <param name="subjectToken">The token to exchange.</param>
        /// <param name="options">The client's options (issuer, endpoints, CA file).</param>
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        public TokenResponse TokenExchange(string subjectToken, string subjectTokenType = null, TokenExchangeOptions options = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return TokenExchangeRequest(subjectToken, subjectTokenType, options).SendOnce(TokenResponse.From, cancellationToken);
        }

        /// <see cref="TokenExchange"/> without blocking the caller (liboidc's worker pool).
        public Task<TokenResponse> TokenExchangeAsync(string subjectToken, string subjectTokenType = null, TokenExchangeOptions options = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return TokenExchangeRequest(subjectToken, subjectTokenType, options).SendOnceAsync(TokenResponse.From, cancellationToken);
        }

        private OAuthRequest TokenExchangeRequest(string subjectToken, string subjectTokenType, TokenExchangeOptions o)
        {
            if (subjectToken == null) throw new ArgumentNullException("subjectToken");
            return Request(OAuthOperation.TokenExchange, r =>
            {
                r.Set(OAuthParam.SubjectToken, subjectToken).SetOptional(OAuthParam.SubjectTokenType, subjectTokenType);
                if (o == null) return;
                r.Add(OAuthParam.Audience, o.Audiences).Add(OAuthParam.Resource, o.Resources).Add(OAuthParam.Scope, o.Scopes)
                    .SetOptional(OAuthParam.RequestedTokenType, o.RequestedTokenType).SetOptional(OAuthParam.ActorToken, o.ActorToken)
                    .SetOptional(OAuthParam.ActorTokenType, o.ActorTokenType).AddParameters(o.Parameters);
            });
        }

        /// JWT bearer grant (RFC 7523, OAuthOperation.JwtBearer): with a ready
        /// <paramref name="assertion"/>, or with a <paramref name="subject"/>, in which case
        /// liboidc signs one with <see cref="OAuthClientOptions.PrivateKey"/>.
        public TokenResponse JwtBearer(string assertion = null, string subject = null, IEnumerable<string> scopes = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return JwtBearerRequest(assertion, subject, scopes).SendOnce(TokenResponse.From, cancellationToken);
        }

        /// <see cref="JwtBearer"/> without blocking the caller (liboidc's worker pool).
        public Task<TokenResponse> JwtBearerAsync(string assertion = null, string subject = null, IEnumerable<string> scopes = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return JwtBearerRequest(assertion, subject, scopes).SendOnceAsync(TokenResponse.From, cancellationToken);
        }

        private OAuthRequest JwtBearerRequest(string assertion, string subject, IEnumerable<string> scopes)
        {
            return Request(OAuthOperation.JwtBearer, r => r.SetOptional(OAuthParam.Assertion, assertion)
                .SetOptional(OAuthParam.Subject, subject).Add(OAuthParam.Scope, scopes));
        }

        /// Any grant at the token endpoint (OAuthOperation.CustomGrant): <paramref name="grantType"/>
        /// plus <paramref name="parameters"/> (form parameters by name; a name may repeat),
        /// authenticated like every token request (DPoP-bound when the client uses DPoP). Extra
        /// response members are in <see cref="TokenResponse.RawJson"/>.
        public TokenResponse CustomGrant(string grantType, IEnumerable<KeyValuePair<string, string>> parameters = null,
            IEnumerable<string> scopes = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return CustomGrantRequest(grantType, parameters, scopes).SendOnce(TokenResponse.From, cancellationToken);
        }

        /// <see cref="CustomGrant"/> without blocking the caller (liboidc's worker pool).
        public Task<TokenResponse> CustomGrantAsync(string grantType, IEnumerable<KeyValuePair<string, string>> parameters = null,
            IEnumerable<string> scopes = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return CustomGrantRequest(grantType, parameters, scopes).SendOnceAsync(TokenResponse.From, cancellationToken);
        }

        private OAuthRequest CustomGrantRequest(string grantType, IEnumerable<KeyValuePair<string, string>> parameters, IEnumerable<string> scopes)
        {
            if (grantType == null) throw new ArgumentNullException("grantType");
            return Request(OAuthOperation.CustomGrant, r => r.Set(OAuthParam.GrantType, grantType).Add(OAuthParam.Scope, scopes)
                .AddParameters(parameters));
        }
    }
}
