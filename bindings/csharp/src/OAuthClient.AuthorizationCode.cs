// Authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), RFC 8707 resources.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Exchange the authorization <paramref name="code"/> from the redirect for tokens.
        /// <param name="code">the `code` of the authorization response (see ParseAuthorizationResponse)</param>
        /// <param name="redirectUri">the redirect URI of the authorization request</param>
        /// <param name="codeVerifier">the PKCE verifier (<see cref="Pkce.CodeVerifier"/>), or null</param>
        /// <param name="nonce">the nonce sent in the authorization request (checked in the ID token), or null</param>
        /// <param name="resources">RFC 8707 resource indicators, or null</param>
        /// An ID token in the response is validated (signature, issuer, audience, times, nonce)
        /// before this returns. Throws InvalidGrantException for a used/expired code or a wrong verifier.
        public TokenResponse ExchangeCode(string code, string redirectUri, string codeVerifier = null, string nonce = null,
            IEnumerable<string> resources = null)
        {
            byte[] c = Required(code, "code"), r = Required(redirectUri, "redirectUri"), v = Optional(codeVerifier),
                n = Optional(nonce), res = Optional(JoinResources(resources));
            IntPtr resp, err;
            uint rc = NativeGrants.oidc_oauth_exchange_code(Handle, c, (UIntPtr)c.Length, r, (UIntPtr)r.Length,
                v, (UIntPtr)v.Length, n, (UIntPtr)n.Length, res, (UIntPtr)res.Length, out resp, out err);
            return TakeTokenResponse(rc, resp, err);
        }

        /// <see cref="ExchangeCode"/> without blocking the caller (liboidc's worker pool).
        public Task<TokenResponse> ExchangeCodeAsync(string code, string redirectUri, string codeVerifier = null, string nonce = null,
            IEnumerable<string> resources = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] c0 = Required(code, "code"), r = Required(redirectUri, "redirectUri"), v = Optional(codeVerifier),
                n = Optional(nonce), res = Optional(JoinResources(resources));
            OAuthClientHandle h = Handle;
            return AsyncBridge.Token((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_exchange_code_async(h,
                c0, (UIntPtr)c0.Length, r, (UIntPtr)r.Length, v, (UIntPtr)v.Length, n, (UIntPtr)n.Length, res, (UIntPtr)res.Length,
                cb, ud, c, out e), cancellationToken);
        }
    }
}
