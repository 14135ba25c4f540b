// ID token validation (OpenID Connect Core §3.1.3.7).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Validate an ID token issued to this client: signature with the issuer's keys, `iss`,
        /// `aud` = client id, `exp`/`nbf`/`iat`, `sub`, `azp`; `nonce` when given (must be
        /// equal), `at_hash`/`c_hash` when the token has them and the access token / code is
        /// given, and `auth_time` when <paramref name="maxAge"/> is given.
        public Claims ValidateIdToken(string idToken, string nonce = null, string accessToken = null, string code = null, TimeSpan? maxAge = null)
        {
            byte[] t = Required(idToken, "idToken"), n = Optional(nonce), a = Optional(accessToken), c = Optional(code);
            long max = MaxAgeSeconds(maxAge);
            IntPtr json, err;
            UIntPtr len;
            uint rc = NativeEndpoints.oidc_oauth_validate_id_token(Handle, t, (UIntPtr)t.Length, n, (UIntPtr)n.Length,
                a, (UIntPtr)a.Length, c, (UIntPtr)c.Length, max, out json, out len, out err);
            return new Claims(TakeString(rc, json, len, err));
        }

        /// <see cref="ValidateIdToken"/> without blocking the caller (liboidc's worker pool).
        public Task<Claims> ValidateIdTokenAsync(string idToken, string nonce = null, string accessToken = null, string code = null, TimeSpan? maxAge = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] t = Required(idToken, "idToken"), n = Optional(nonce), a = Optional(accessToken), c0 = Optional(code);
            long max = MaxAgeSeconds(maxAge);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_validate_id_token_async(h,
                    t, (UIntPtr)t.Length, n, (UIntPtr)n.Length, a, (UIntPtr)a.Length, c0, (UIntPtr)c0.Length, max, cb, ud, c, out e),
                AsyncBridge.ReadClaims, cancellationToken);
        }

        /// max_age in seconds for the C ABI: -1 when not given.
        private static long MaxAgeSeconds(TimeSpan? maxAge)
        {
            long max = maxAge.HasValue ? (long)maxAge.Value.TotalSeconds : -1;
            if (maxAge.HasValue && max < 0) throw new ArgumentOutOfRangeException("maxAge");
            return max;
        }
    }
}
