// Token revocation (RFC 7009).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Revoke <paramref name="token"/> at the issuer's revocation endpoint with this client's
        /// authentication. <paramref name="tokenTypeHint"/>: "access_token" or "refresh_token".
        public void Revoke(string token, string tokenTypeHint = null)
        {
            byte[] t = Required(token, "token"), h = Optional(tokenTypeHint);
            IntPtr err;
            OidcException.Check(NativeEndpoints.oidc_oauth_revoke(Handle, t, (UIntPtr)t.Length, h, (UIntPtr)h.Length, out err), err);
        }

        /// <see cref="Revoke"/> without blocking the caller (liboidc's worker pool).
        public Task RevokeAsync(string token, string tokenTypeHint = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] t = Required(token, "token"), th = Optional(tokenTypeHint);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Done((Native.DoneCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_revoke_async(h,
                t, (UIntPtr)t.Length, th, (UIntPtr)th.Length, cb, ud, c, out e), cancellationToken);
        }
    }
}
