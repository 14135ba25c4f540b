// Refresh token grant (RFC 6749 §6).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// New tokens for <paramref name="refreshToken"/> (OAuthOperation.Refresh). Keep the
        /// response's RefreshToken when it has one: servers that rotate refresh tokens reject the
        /// old one from now on. An ID token in the response is validated.
        /// <param name="scopes">a narrower scope, or null for the original grant's</param>
        /// <param name="resources">RFC 8707 resource indicators, or null</param>
        /// <param name="refreshToken">The refresh token.</param>
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        public TokenResponse Refresh(string refreshToken, IEnumerable<string> scopes = null, IEnumerable<string> resources = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return RefreshRequest(refreshToken, scopes, resources).SendOnce(TokenResponse.From, cancellationToken);
        }

        /// <see cref="Refresh"/> without blocking the caller (liboidc's worker pool; see
        /// <see cref="ClientCredentialsAsync"/> for cancellation).
        public Task<TokenResponse> RefreshAsync(string refreshToken, IEnumerable<string> scopes = null, IEnumerable<string> resources = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return RefreshRequest(refreshToken, scopes, resources).SendOnceAsync(TokenResponse.From, cancellationToken);
        }

        private OAuthRequest RefreshRequest(string refreshToken, IEnumerable<string> scopes, IEnumerable<string> resources)
        {
            if (refreshToken == null) throw new ArgumentNullException("refreshToken");
            return Request(OAuthOperation.Refresh, r => r.Set(OAuthParam.RefreshToken, refreshToken)
                .Add(OAuthParam.Scope, scopes).Add(OAuthParam.Resource, resources));
        }
    }
}
