// Authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), RFC 8707 resources.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        /// Exchange the authorization <paramref name="code"/> from the redirect for tokens
        /// (OAuthOperation.AuthorizationCode).
        /// <param name="code">the `code` of the authorization response (see ParseAuthorizationResponse)</param>
        /// <param name="redirectUri">the redirect URI of the authorization request</param>
        /// <param name="codeVerifier">the PKCE verifier (<see cref="AuthorizationUrl.CodeVerifier"/>), or null</param>
        /// <param name="nonce">the nonce sent in the authorization request (checked in the ID token), or null</param>
        /// <param name="resources">RFC 8707 resource indicators, or null</param>
        /// An ID token in the response is validated (signature, issuer, audience, times, nonce)
        /// before this returns. Throws InvalidGrantException for a used/expired code or a wrong verifier.
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        public TokenResponse ExchangeCode(string code, string redirectUri, string codeVerifier = null, string nonce = null,
            IEnumerable<string> resources = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return ExchangeCodeRequest(code, redirectUri, codeVerifier, nonce, resources).SendOnce(TokenResponse.From, cancellationToken);
        }

        /// <see cref="ExchangeCode"/> without blocking the caller (liboidc's worker pool).
        public Task<TokenResponse> ExchangeCodeAsync(string code, string redirectUri, string codeVerifier = null, string nonce = null,
            IEnumerable<string> resources = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return ExchangeCodeRequest(code, redirectUri, codeVerifier, nonce, resources).SendOnceAsync(TokenResponse.From, cancellationToken);
        }

        private OAuthRequest ExchangeCodeRequest(string code, string redirectUri, string codeVerifier, string nonce, IEnumerable<string> resources)
        {
            if (code == null) throw new ArgumentNullException("code");
            return Request(OAuthOperation.AuthorizationCode, r => r.Set(OAuthParam.Code, code)
                .SetOptional(OAuthParam.RedirectUri, redirectUri).SetOptional(OAuthParam.CodeVerifier, codeVerifier)
                .SetOptional(OAuthParam.Nonce, nonce).Add(OAuthParam.Resource, resources));
        }
    }
}
