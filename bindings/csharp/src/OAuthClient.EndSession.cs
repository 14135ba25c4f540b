// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// The logout URL at the issuer's end_session_endpoint (client_id always included).
        /// Blocks only for discovery on first use.
        public string EndSessionUrl(string idTokenHint = null, string postLogoutRedirectUri = null, string state = null)
        {
            byte[] h = Optional(idTokenHint), r = Optional(postLogoutRedirectUri), s = Optional(state);
            IntPtr url, err;
            UIntPtr len;
            uint rc = NativeEndpoints.oidc_oauth_end_session_url(Handle, h, (UIntPtr)h.Length, r, (UIntPtr)r.Length,
                s, (UIntPtr)s.Length, out url, out len, out err);
            return TakeString(rc, url, len, err);
        }

        /// <see cref="EndSessionUrl"/> without blocking the caller on a first discovery.
        public Task<string> EndSessionUrlAsync(string idTokenHint = null, string postLogoutRedirectUri = null, string state = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] th = Optional(idTokenHint), r = Optional(postLogoutRedirectUri), s = Optional(state);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_end_session_url_async(h,
                th, (UIntPtr)th.Length, r, (UIntPtr)r.Length, s, (UIntPtr)s.Length, cb, ud, c, out e), AsyncBridge.ReadString, cancellationToken);
        }
    }
}
