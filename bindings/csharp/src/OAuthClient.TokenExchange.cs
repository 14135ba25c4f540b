// Token exchange (RFC 8693), JWT bearer (RFC 7523 §2.1) and any other grant type.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// RFC 8693 token type identifiers.
    public static class TokenTypes
    {
        public const string AccessToken = "urn:ietf:params:oauth:token-type:access_token";
        public const string RefreshToken = "urn:ietf:params:oauth:token-type:refresh_token";
        public const string IdToken = "urn:ietf:params:oauth:token-type:id_token";
        public const string Jwt = "urn:ietf:params:oauth:token-type:jwt";
    }

    public sealed partial class OAuthClient
    {
        /// Exchange <paramref name="subjectToken"/> for another token (RFC 8693). The response
        /// carries <see cref="TokenResponse.IssuedTokenType"/>.
        /// <param name="subjectTokenType">default <see cref="TokenTypes.AccessToken"/></param>
        /// <param name="parameters">more parameters: audience, resource (string or string array),
        /// scope, requested_token_type, actor_token, actor_token_type, ...</param>
        public TokenResponse TokenExchange(string subjectToken, string subjectTokenType = null,
            IDictionary<string, object> parameters = null)
        {
            byte[] t = Required(subjectToken, "subjectToken"), tt = Optional(subjectTokenType), p = ParamsJson(parameters);
            IntPtr resp, err;
            uint rc = NativeGrants.oidc_oauth_token_exchange(Handle, t, (UIntPtr)t.Length, tt, (UIntPtr)tt.Length,
                p, (UIntPtr)p.Length, out resp, out err);
            return TakeTokenResponse(rc, resp, err);
        }

        /// <see cref="TokenExchange"/> without blocking the caller (liboidc's worker pool).
        public Task<TokenResponse> TokenExchangeAsync(string subjectToken, string subjectTokenType = null,
            IDictionary<string, object> parameters = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] t = Required(subjectToken, "subjectToken"), tt = Optional(subjectTokenType), p = ParamsJson(parameters);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Token((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_token_exchange_async(h,
                t, (UIntPtr)t.Length, tt, (UIntPtr)tt.Length, p, (UIntPtr)p.Length, cb, ud, c, out e), cancellationToken);
        }

        /// JWT bearer grant (RFC 7523): with a ready <paramref name="assertion"/>, or with none and
        /// a <paramref name="subject"/>, in which case liboidc signs one with
        /// <see cref="OAuthClientOptions.PrivateKey"/> (iss = client id, sub = subject, aud = issuer, 60 s).
        public TokenResponse JwtBearer(string assertion = null, string subject = null, string scope = null)
        {
            byte[] a = Optional(assertion), s = Optional(subject), sc = Optional(scope);
            IntPtr resp, err;
            uint rc = NativeGrants.oidc_oauth_jwt_bearer(Handle, a, (UIntPtr)a.Length, s, (UIntPtr)s.Length,
                sc, (UIntPtr)sc.Length, out resp, out err);
            return TakeTokenResponse(rc, resp, err);
        }

        /// <see cref="JwtBearer"/> without blocking the caller (liboidc's worker pool).
        public Task<TokenResponse> JwtBearerAsync(string assertion = null, string subject = null, string scope = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] a = Optional(assertion), s = Optional(subject), sc = Optional(scope);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Token((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_jwt_bearer_async(h,
                a, (UIntPtr)a.Length, s, (UIntPtr)s.Length, sc, (UIntPtr)sc.Length, cb, ud, c, out e), cancellationToken);
        }

        /// Any grant at the token endpoint: <paramref name="grantType"/> plus
        /// <paramref name="parameters"/> (strings, numbers, booleans or string arrays),
        /// authenticated like every token request (DPoP-bound when the client uses DPoP).
        /// Extra response members are in <see cref="TokenResponse.RawJson"/>.
        public TokenResponse CustomGrant(string grantType, IDictionary<string, object> parameters = null)
        {
            byte[] g = Required(grantType, "grantType"), p = ParamsJson(parameters);
            IntPtr resp, err;
            uint rc = NativeGrants.oidc_oauth_custom_grant(Handle, g, (UIntPtr)g.Length, p, (UIntPtr)p.Length, out resp, out err);
            return TakeTokenResponse(rc, resp, err);
        }

        /// <see cref="CustomGrant"/> without blocking the caller (liboidc's worker pool).
        public Task<TokenResponse> CustomGrantAsync(string grantType, IDictionary<string, object> parameters = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] g = Required(grantType, "grantType"), p = ParamsJson(parameters);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Token((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_custom_grant_async(h,
                g, (UIntPtr)g.Length, p, (UIntPtr)p.Length, cb, ud, c, out e), cancellationToken);
        }

        private static byte[] ParamsJson(IDictionary<string, object> parameters)
        {
            return parameters == null || parameters.Count == 0 ? Utf8.Empty : Utf8.Bytes(Json.Write(parameters));
        }
    }
}
