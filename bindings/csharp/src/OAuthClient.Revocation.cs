// Token revocation (RFC 7009).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Revoke <paramref name="token"/> at the issuer's revocation endpoint with this client's
        /// authentication (OAuthOperation.Revoke). <paramref name="tokenTypeHint"/>: "access_token"
        /// or "refresh_token".
        public void Revoke(string token, string tokenTypeHint = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            RevokeRequest(token, tokenTypeHint).SendOnce(Nothing, cancellationToken);
        }

        /// <see cref="Revoke"/> without blocking the caller (liboidc's worker pool).
        public Task RevokeAsync(string token, string tokenTypeHint = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return RevokeRequest(token, tokenTypeHint).SendOnceAsync(Nothing, cancellationToken);
        }

        private OAuthRequest RevokeRequest(string token, string tokenTypeHint)
        {
            if (token == null) throw new ArgumentNullException("token");
            return Request(OAuthOperation.Revoke, r => r.Set(OAuthParam.Token, token).SetOptional(OAuthParam.TokenTypeHint, tokenTypeHint));
        }

        private static readonly Func<OAuthResponse, bool> Nothing = r => true;
    }
}
