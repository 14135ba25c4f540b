// Client credentials grant (RFC 6749 §4.4), with RFC 8707 resources and an audience parameter.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Request a token with the client's own credentials (OAuthOperation.ClientCredentials).
        /// All parameters are optional.
        /// <param name="scopes">scopes, one per item</param>
        /// <param name="resources">RFC 8707 resource indicators</param>
        /// <param name="audience">the `audience` parameter some servers use instead of resources</param>
        /// <param name="cached">through this client's token cache (OAuthParam.UseCache): the same
        /// scopes, resources and audience get one token until it is about to expire, and
        /// concurrent callers share a single request</param>
        /// Throws an <see cref="OAuthProtocolException"/> subclass (e.g. InvalidClientException,
        /// InvalidTargetException) when the server answers with an OAuth error.
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        public TokenResponse ClientCredentials(IEnumerable<string> scopes = null, IEnumerable<string> resources = null,
            string audience = null, bool cached = false, CancellationToken cancellationToken = default(CancellationToken))
        {
            return ClientCredentialsRequest(scopes, resources, audience, cached).SendOnce(TokenResponse.From, cancellationToken);
        }

        /// <see cref="ClientCredentials"/> without blocking the caller: the request runs on
        /// liboidc's worker pool (oidc_oauth_send_async); no .NET thread waits for the network.
        /// Cancelling <paramref name="cancellationToken"/> makes the task Canceled at once (with
        /// `cached`, a request already sent still fills the cache).
        public Task<TokenResponse> ClientCredentialsAsync(IEnumerable<string> scopes = null, IEnumerable<string> resources = null,
            string audience = null, bool cached = false, CancellationToken cancellationToken = default(CancellationToken))
        {
            return ClientCredentialsRequest(scopes, resources, audience, cached).SendOnceAsync(TokenResponse.From, cancellationToken);
        }

        private OAuthRequest ClientCredentialsRequest(IEnumerable<string> scopes, IEnumerable<string> resources, string audience, bool cached)
        {
            return Request(OAuthOperation.ClientCredentials, r =>
            {
                r.Add(OAuthParam.Scope, scopes).Add(OAuthParam.Resource, resources);
                if (audience != null) r.Add(OAuthParam.Audience, audience);
                if (cached) r.Set(OAuthParam.UseCache, 1);
            });
        }
    }
}
