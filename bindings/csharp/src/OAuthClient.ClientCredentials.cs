// Client credentials grant (RFC 6749 §4.4), with RFC 8707 resources and an audience parameter.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Request a token with the client's own credentials. All parameters are optional.
        /// <param name="scope">space-separated scopes</param>
        /// <param name="resources">RFC 8707 resource indicators (absolute URIs without spaces)</param>
        /// <param name="audience">the `audience` parameter some servers use instead of resources</param>
        /// <param name="cached">reuse a token from this client's cache: the same scope, resources
        /// and audience get one token until `expires_in` minus 30 s, and concurrent callers share
        /// a single request (oidc_oauth_client_credentials_cached)</param>
        /// Throws an <see cref="OAuthProtocolException"/> subclass (e.g. InvalidClientException,
        /// InvalidTargetException) when the server answers with an OAuth error.
        public TokenResponse ClientCredentials(string scope = null, IEnumerable<string> resources = null, string audience = null,
            bool cached = false)
        {
            byte[] s = Optional(scope), r = Optional(JoinResources(resources)), a = Optional(audience);
            IntPtr resp, err;
            uint rc = cached
                ? NativeGrants.oidc_oauth_client_credentials_cached(Handle, s, (UIntPtr)s.Length, r, (UIntPtr)r.Length,
                    a, (UIntPtr)a.Length, out resp, out err)
                : Native.oidc_oauth_client_credentials(Handle, s, (UIntPtr)s.Length, r, (UIntPtr)r.Length,
                    a, (UIntPtr)a.Length, out resp, out err);
            return TakeTokenResponse(rc, resp, err);
        }

        /// <see cref="ClientCredentials"/> without blocking the caller: the request runs on
        /// liboidc's worker pool (oidc_oauth_client_credentials_async); no .NET thread waits for
        /// the network. Cancelling <paramref name="cancellationToken"/> makes the task Canceled at
        /// once (a request already sent still completes; with `cached` it still fills the cache).
        public Task<TokenResponse> ClientCredentialsAsync(string scope = null, IEnumerable<string> resources = null, string audience = null,
            bool cached = false, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] s = Optional(scope), r = Optional(JoinResources(resources)), a = Optional(audience);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Token((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) => cached
                    ? NativeAsync.oidc_oauth_client_credentials_cached_async(h, s, (UIntPtr)s.Length, r, (UIntPtr)r.Length, a, (UIntPtr)a.Length, cb, ud, c, out e)
                    : Native.oidc_oauth_client_credentials_async(h, s, (UIntPtr)s.Length, r, (UIntPtr)r.Length, a, (UIntPtr)a.Length, cb, ud, c, out e),
                cancellationToken);
        }

        /// The C ABI takes several resources as one space-separated string.
        internal static string JoinResources(IEnumerable<string> resources)
        {
            if (resources == null) return null;
            var list = new List<string>();
            foreach (var r in resources)
            {
                if (string.IsNullOrEmpty(r)) continue;
                if (r.IndexOf(' ') >= 0) throw new ArgumentException("a resource indicator cannot contain a space: " + r, "resources");
                list.Add(r);
            }
            return string.Join(" ", list);
        }
    }
}
