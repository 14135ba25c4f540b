// ID token validation (OpenID Connect Core §3.1.3.7).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Validate an ID token issued to this client (OAuthOperation.ValidateIdToken): signature
        /// with the issuer's keys, `iss`, `aud` = client id, `exp`/`nbf`/`iat`, `sub`, `azp`;
        /// `nonce` when given (must be equal), `at_hash`/`c_hash` when the token has them and the
        /// access token / code is given, and `auth_time` when <paramref name="maxAge"/> is given.
        /// Returns the token's claims. <paramref name="now"/>: check the times as of then
        /// (OAuthParam.NowSecs; null: the clock).
        public Claims ValidateIdToken(string idToken, string nonce = null, string accessToken = null, string code = null, TimeSpan? maxAge = null,
            DateTimeOffset? now = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return ValidateIdTokenRequest(idToken, nonce, accessToken, code, maxAge, now).SendOnce(ReadMembers, cancellationToken);
        }

        /// <see cref="ValidateIdToken"/> without blocking the caller (liboidc's worker pool).
        public Task<Claims> ValidateIdTokenAsync(string idToken, string nonce = null, string accessToken = null, string code = null, TimeSpan? maxAge = null,
            DateTimeOffset? now = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return ValidateIdTokenRequest(idToken, nonce, accessToken, code, maxAge, now).SendOnceAsync(ReadMembers, cancellationToken);
        }

        private OAuthRequest ValidateIdTokenRequest(string idToken, string nonce, string accessToken, string code, TimeSpan? maxAge, DateTimeOffset? now)
        {
            if (idToken == null) throw new ArgumentNullException("idToken");
            return Request(OAuthOperation.ValidateIdToken, r =>
            {
                r.Set(OAuthParam.IdToken, idToken).SetOptional(OAuthParam.Nonce, nonce)
                    .SetOptional(OAuthParam.AccessToken, accessToken).SetOptional(OAuthParam.Code, code);
                if (maxAge.HasValue) r.Set(OAuthParam.MaxAge, (long)maxAge.Value.TotalSeconds);
                r.SetNow(now);
            });
        }
    }
}
