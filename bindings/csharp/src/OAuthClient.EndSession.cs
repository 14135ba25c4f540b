// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// The logout URL at the issuer's end_session_endpoint (OAuthOperation.EndSessionUrl).
        /// Blocks only for discovery on first use.
        public string EndSessionUrl(string idTokenHint = null, string postLogoutRedirectUri = null, string state = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return EndSessionRequest(idTokenHint, postLogoutRedirectUri, state).SendOnce(ReadUrl, cancellationToken);
        }

        /// <see cref="EndSessionUrl"/> without blocking the caller on a first discovery.
        public Task<string> EndSessionUrlAsync(string idTokenHint = null, string postLogoutRedirectUri = null, string state = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return EndSessionRequest(idTokenHint, postLogoutRedirectUri, state).SendOnceAsync(ReadUrl, cancellationToken);
        }

        private OAuthRequest EndSessionRequest(string idTokenHint, string postLogoutRedirectUri, string state)
        {
            return Request(OAuthOperation.EndSessionUrl, r => r.SetOptional(OAuthParam.IdTokenHint, idTokenHint)
                .SetOptional(OAuthParam.PostLogoutRedirectUri, postLogoutRedirectUri).SetOptional(OAuthParam.State, state));
        }

        private static readonly Func<OAuthResponse, string> ReadUrl = r => r.GetString(OAuthField.Url);
    }
}
