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

        /// Copy the token fields out of a protocol response (not freed here).
        internal static TokenResponse From(OAuthResponse r)
        {
            var t = new TokenResponse
            {
                AccessToken = r.GetString(OAuthField.AccessToken),
                TokenType = r.GetString(OAuthField.TokenType),
                RefreshToken = r.GetString(OAuthField.RefreshToken),
                IdToken = r.GetString(OAuthField.IdToken),
                Scope = r.GetString(OAuthField.Scope),
                IssuedTokenType = r.GetString(OAuthField.IssuedTokenType),
                RawJson = r.Json,
            };
            long? e = r.GetInt(OAuthField.ExpiresIn);
            if (e.HasValue && e.Value >= 0)
            {
                t.ExpiresIn = TimeSpan.FromSeconds(e.Value);
                t.ExpiresAt = DateTimeOffset.UtcNow + t.ExpiresIn.Value;
            }
            return t;
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
