// The UserInfo endpoint (OpenID Connect Core §5.3).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Call the UserInfo endpoint with <paramref name="accessToken"/>. A signed response is
        /// validated with the issuer's keys. With <paramref name="expectedSubject"/> (the ID
        /// token's `sub`) a different subject throws <see cref="SubjectMismatchException"/>; the
        /// resource's RFC 6750 errors throw <see cref="InvalidTokenException"/> /
        /// <see cref="InsufficientScopeException"/>.
        public Claims UserInfo(string accessToken, string expectedSubject = null)
        {
            byte[] t = Required(accessToken, "accessToken"), s = Optional(expectedSubject);
            IntPtr json, err;
            UIntPtr len;
            uint rc = NativeEndpoints.oidc_oauth_userinfo(Handle, t, (UIntPtr)t.Length, s, (UIntPtr)s.Length, out json, out len, out err);
            return new Claims(TakeString(rc, json, len, err));
        }

        /// <see cref="UserInfo"/> without blocking the caller (liboidc's worker pool).
        public Task<Claims> UserInfoAsync(string accessToken, string expectedSubject = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] t = Required(accessToken, "accessToken"), s = Optional(expectedSubject);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_userinfo_async(h,
                t, (UIntPtr)t.Length, s, (UIntPtr)s.Length, cb, ud, c, out e), AsyncBridge.ReadClaims, cancellationToken);
        }
    }
}
