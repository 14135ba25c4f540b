// Refresh token grant (RFC 6749 §6).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// New tokens for <paramref name="refreshToken"/>. Keep the response's RefreshToken when
        /// it has one: servers that rotate refresh tokens reject the old one from now on. An ID
        /// token in the response is validated.
        /// <param name="scope">a narrower scope, or null for the original grant's</param>
        /// <param name="resources">RFC 8707 resource indicators, or null</param>
        public TokenResponse Refresh(string refreshToken, string scope = null, IEnumerable<string> resources = null)
        {
            byte[] t = Required(refreshToken, "refreshToken"), s = Optional(scope), r = Optional(JoinResources(resources));
            IntPtr resp, err;
            uint rc = NativeGrants.oidc_oauth_refresh(Handle, t, (UIntPtr)t.Length, s, (UIntPtr)s.Length, r, (UIntPtr)r.Length,
                out resp, out err);
            return TakeTokenResponse(rc, resp, err);
        }

        /// <see cref="Refresh"/> without blocking the caller (liboidc's worker pool; see
        /// <see cref="ClientCredentialsAsync"/> for cancellation).
        public Task<TokenResponse> RefreshAsync(string refreshToken, string scope = null, IEnumerable<string> resources = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] t = Required(refreshToken, "refreshToken"), s = Optional(scope), r = Optional(JoinResources(resources));
            OAuthClientHandle h = Handle;
            return AsyncBridge.Token((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_refresh_async(h,
                t, (UIntPtr)t.Length, s, (UIntPtr)s.Length, r, (UIntPtr)r.Length, cb, ud, c, out e), cancellationToken);
        }
    }
}
