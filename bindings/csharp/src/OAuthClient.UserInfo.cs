// The UserInfo endpoint (OpenID Connect Core §5.3).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Call the UserInfo endpoint with <paramref name="accessToken"/> (OAuthOperation.Userinfo).
        /// A signed response is validated with the issuer's keys. With
        /// <paramref name="expectedSubject"/> (the ID token's `sub`) a different subject throws
        /// <see cref="SubjectMismatchException"/>; the resource's RFC 6750 errors throw
        /// <see cref="InvalidTokenException"/> / <see cref="InsufficientScopeException"/>.
        /// <param name="tokenType">"DPoP" or "Bearer"; null: liboidc's default (DPoP when the
        /// client has a DPoP key)</param>
        /// <param name="accessToken">The access token to send.</param>
        /// <param name="expectedSubject">The ID token's <c>sub</c>: the answer must carry the same.</param>
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        public Claims UserInfo(string accessToken, string expectedSubject = null, string tokenType = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return UserInfoRequest(accessToken, expectedSubject, tokenType).SendOnce(ReadMembers, cancellationToken);
        }

        /// <see cref="UserInfo"/> without blocking the caller (liboidc's worker pool).
        public Task<Claims> UserInfoAsync(string accessToken, string expectedSubject = null, string tokenType = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return UserInfoRequest(accessToken, expectedSubject, tokenType).SendOnceAsync(ReadMembers, cancellationToken);
        }

        private OAuthRequest UserInfoRequest(string accessToken, string expectedSubject, string tokenType)
        {
            if (accessToken == null) throw new ArgumentNullException("accessToken");
            return Request(OAuthOperation.Userinfo, r => r.Set(OAuthParam.AccessToken, accessToken)
                .SetOptional(OAuthParam.ExpectedSub, expectedSubject).SetOptional(OAuthParam.TokenType, tokenType));
        }

        private static readonly Func<OAuthResponse, Claims> ReadMembers = r => r.Members;
    }
}
