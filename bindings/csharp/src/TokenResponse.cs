using System;
using System.Collections.Generic;

namespace Oidc
{
    /// A token-endpoint response. <see cref="ToString"/> never prints a token.
    public sealed class TokenResponse
    {
        private TokenResponse() { }

        /// The access token (a secret: never log it).
        public string AccessToken { get; private set; }
        /// "Bearer", "DPoP", "N_A", ...
        public string TokenType { get; private set; }
        /// The refresh token, or null (a secret).
        public string RefreshToken { get; private set; }
        /// The ID token, or null.
        public string IdToken { get; private set; }
        /// The granted scope as the server sent it, or null.
        public string Scope { get; private set; }
        /// RFC 8693 issued_token_type, or null.
        public string IssuedTokenType { get; private set; }
        /// `expires_in`, or null when the server did not send it.
        public TimeSpan? ExpiresIn { get; private set; }
        /// When the response was received plus ExpiresIn, or null.
        public DateTimeOffset? ExpiresAt { get; private set; }
        /// The whole response as JSON (contains secrets: never log it).
        public string RawJson { get; private set; }

        /// <see cref="Scope"/> split on spaces.
        public IReadOnlyList<string> Scopes
        {
            get { return Scope == null ? new string[0] : Scope.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries); }
        }

        /// Copy everything out of a native token response and free it.
        internal static TokenResponse Take(IntPtr resp)
        {
            try { return Read(resp); }
            finally { Native.oidc_token_response_free(resp); }
        }

        /// Copy everything out of a native token response (borrowed: not freed).
        internal static TokenResponse Read(IntPtr resp)
        {
            {
                var t = new TokenResponse
                {
                    AccessToken = Utf8.ReadNulTerminated(Native.oidc_token_response_access_token(resp)),
                    TokenType = Utf8.ReadNulTerminated(Native.oidc_token_response_token_type(resp)),
                    RefreshToken = Utf8.ReadNulTerminated(Native.oidc_token_response_refresh_token(resp)),
                    IdToken = Utf8.ReadNulTerminated(Native.oidc_token_response_id_token(resp)),
                    Scope = Utf8.ReadNulTerminated(Native.oidc_token_response_scope(resp)),
                    IssuedTokenType = Utf8.ReadNulTerminated(Native.oidc_token_response_issued_token_type(resp)),
                    RawJson = Utf8.ReadNulTerminated(Native.oidc_token_response_json(resp)),
                };
                long e = Native.oidc_token_response_expires_in(resp);
                if (e >= 0)
                {
                    t.ExpiresIn = TimeSpan.FromSeconds(e);
                    t.ExpiresAt = DateTimeOffset.UtcNow + t.ExpiresIn.Value;
                }
                return t;
            }
        }

        /// Token type, scope, lifetime and which tokens are present; never the tokens.
        public override string ToString()
        {
            return "TokenResponse(TokenType=" + TokenType +
                ", Scope=" + (Scope ?? "-") +
                ", ExpiresIn=" + (ExpiresIn.HasValue ? ((long)ExpiresIn.Value.TotalSeconds) + "s" : "-") +
                ", AccessToken=" + Redacted(AccessToken) +
                ", RefreshToken=" + Redacted(RefreshToken) +
                ", IdToken=" + Redacted(IdToken) + ")";
        }

        private static string Redacted(string s)
        {
            return s == null ? "<none>" : "<redacted>";
        }
    }
}
