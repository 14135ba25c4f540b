// Back-channel logout tokens, JWS documents (detached / unencoded payloads) and JWE decryption
// (issue 14): OAuthOperation.ValidateLogoutToken, VerifyJws, Decrypt. Each typed method builds
// its request once and has an ...Async twin that differs only in the send.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// A validated back-channel logout token (OpenID Connect Back-Channel Logout 1.0): end the
    /// sessions it names (<see cref="SessionId"/>, else every session of <see cref="Subject"/>).
    public sealed class LogoutToken
    {
        internal LogoutToken(OAuthResponse r)
        {
            Claims = r.Members;
            Issuer = r.GetString(OAuthField.Iss);
            Subject = r.GetString(OAuthField.Sub);
            SessionId = r.GetString(OAuthField.Sid);
            JwtId = r.GetString(OAuthField.Jti);
        }

        /// Every claim of the token.
        public Claims Claims { get; private set; }
        /// <c>iss</c>.
        public string Issuer { get; private set; }
        /// <c>sub</c>, or null when the token names only a session.
        public string Subject { get; private set; }
        /// <c>sid</c>, or null when the token names only a subject.
        public string SessionId { get; private set; }
        /// <c>jti</c> (seen once: a replay is <see cref="TokenReplayedException"/>).
        public string JwtId { get; private set; }

        /// Who is logged out.
        public override string ToString()
        {
            return "LogoutToken(iss=" + Issuer + ", sub=" + (Subject ?? "-") + ", sid=" + (SessionId ?? "-") + ")";
        }
    }

    /// The payload and protected header of a verified JWS (<see cref="OAuthClient.VerifyJws(string, string, DateTimeOffset?, CancellationToken)"/>)
    /// or a decrypted JWE (<see cref="OAuthClient.Decrypt"/>). A decrypted payload may be a
    /// secret: <see cref="ToString"/> prints only sizes and the algorithm.
    public sealed class JosePayload
    {
        private readonly byte[] payload;

        internal JosePayload(OAuthResponse r)
        {
            HeaderJson = r.GetString(OAuthField.ProtectedHeader);
            Header = Oidc.Json.ParseObject(HeaderJson);
            PayloadText = r.GetString(OAuthField.Payload);
            var doc = Oidc.Json.ParseObject(r.Json);
            payload = Base64Url.Decode((string)doc["payload_b64url"]);
        }

        /// The payload bytes (a copy).
        public byte[] Payload { get { return (byte[])payload.Clone(); } }

        /// The payload as text when it is UTF-8, else null.
        public string PayloadText { get; private set; }

        /// The protected header as liboidc returned it (JSON).
        public string HeaderJson { get; private set; }

        /// The protected header's members (values as <see cref="Claims"/> maps them).
        public IReadOnlyDictionary<string, object> Header { get; private set; }

        /// The header's <c>alg</c>.
        public string Algorithm { get { object a; return Header.TryGetValue("alg", out a) ? a as string : null; } }

        /// The header's <c>kid</c>, or null.
        public string KeyId { get { object k; return Header.TryGetValue("kid", out k) ? k as string : null; } }

        /// The algorithm and sizes, never the payload.
        public override string ToString()
        {
            return "JosePayload(alg=" + Algorithm + ", " + payload.Length + " bytes" + (PayloadText != null ? ", text" : "") + ")";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Validate a back-channel logout token (OAuthOperation.ValidateLogoutToken): the
        /// <c>logout_token</c> form parameter the OP posted. liboidc applies the ID token's key,
        /// algorithm and <c>iss</c>/<c>aud</c>/<c>iat</c>/<c>exp</c> rules, then <c>typ</c>
        /// <c>logout+jwt</c>, the logout event, <c>sub</c> and/or <c>sid</c>, no <c>nonce</c>, and
        /// a <c>jti</c> seen once (<see cref="TokenReplayedException"/>; the client's cache, then
        /// <see cref="OAuthClientOptions.LogoutReplayStore"/>). <paramref name="now"/>: check
        /// the times as of then (null: the clock).
        public LogoutToken ValidateLogoutToken(string logoutToken, DateTimeOffset? now = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return LogoutRequest(logoutToken, now).SendOnce(ReadLogout, cancellationToken);
        }

        /// <see cref="ValidateLogoutToken"/> without blocking the caller (a first use may fetch the issuer's keys).
        public Task<LogoutToken> ValidateLogoutTokenAsync(string logoutToken, DateTimeOffset? now = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return LogoutRequest(logoutToken, now).SendOnceAsync(ReadLogout, cancellationToken);
        }

        private OAuthRequest LogoutRequest(string logoutToken, DateTimeOffset? now)
        {
            if (logoutToken == null) throw new ArgumentNullException("logoutToken");
            return Request(OAuthOperation.ValidateLogoutToken, r => r.Set(OAuthParam.LogoutToken, logoutToken).SetNow(now));
        }

        private static readonly Func<OAuthResponse, LogoutToken> ReadLogout = r => new LogoutToken(r);
        private static readonly Func<OAuthResponse, JosePayload> ReadJose = r => new JosePayload(r);

        /// Verify a JWS document that is not a token (OAuthOperation.VerifyJws): compact or
        /// flattened JSON, with its payload or with <paramref name="detachedPayload"/> (RFC 7515
        /// Appendix F; RFC 7797 unencoded payloads), with the issuer's keys and the client's
        /// algorithm policy. Returns the payload and the protected header; a bad signature,
        /// key or algorithm throws its <see cref="TokenValidationException"/>.
        public JosePayload VerifyJws(string jws, string detachedPayload = null, DateTimeOffset? now = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return VerifyJwsRequest(jws, detachedPayload == null ? null : Utf8.StrictBytes(detachedPayload), now).SendOnce(ReadJose, cancellationToken);
        }

        /// <see cref="VerifyJws(string, string, DateTimeOffset?, CancellationToken)"/> with the
        /// detached payload as bytes (liboidc takes UTF-8 text: other bytes are its InvalidUtf8Exception).
        public JosePayload VerifyJws(string jws, byte[] detachedPayload, DateTimeOffset? now = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return VerifyJwsRequest(jws, detachedPayload, now).SendOnce(ReadJose, cancellationToken);
        }

        /// <see cref="VerifyJws(string, string, DateTimeOffset?, CancellationToken)"/> without blocking the caller.
        public Task<JosePayload> VerifyJwsAsync(string jws, string detachedPayload = null, DateTimeOffset? now = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return VerifyJwsRequest(jws, detachedPayload == null ? null : Utf8.StrictBytes(detachedPayload), now).SendOnceAsync(ReadJose, cancellationToken);
        }

        /// <see cref="VerifyJws(string, byte[], DateTimeOffset?, CancellationToken)"/> without blocking the caller.
        public Task<JosePayload> VerifyJwsAsync(string jws, byte[] detachedPayload, DateTimeOffset? now = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return VerifyJwsRequest(jws, detachedPayload, now).SendOnceAsync(ReadJose, cancellationToken);
        }

        private OAuthRequest VerifyJwsRequest(string jws, byte[] detachedPayload, DateTimeOffset? now)
        {
            if (jws == null) throw new ArgumentNullException("jws");
            return Request(OAuthOperation.VerifyJws, r =>
            {
                r.Set(OAuthParam.Jws, jws).SetNow(now);
                if (detachedPayload != null) r.Set(OAuthParam.Payload, detachedPayload);
            });
        }

        /// Decrypt a compact JWE with <see cref="OAuthClientOptions.DecryptionKeys"/>
        /// (OAuthOperation.Decrypt). Decrypts only: a nested JWT inside is not validated
        /// (validate it with the operation it is for). Every key-unwrap, decryption or tag
        /// failure is one <see cref="DecryptionFailedException"/> with one message.
        public JosePayload Decrypt(string jwe, CancellationToken cancellationToken = default(CancellationToken))
        {
            return DecryptRequest(jwe).SendOnce(ReadJose, cancellationToken);
        }

        /// <see cref="Decrypt"/> without blocking the caller.
        public Task<JosePayload> DecryptAsync(string jwe, CancellationToken cancellationToken = default(CancellationToken))
        {
            return DecryptRequest(jwe).SendOnceAsync(ReadJose, cancellationToken);
        }

        private OAuthRequest DecryptRequest(string jwe)
        {
            if (jwe == null) throw new ArgumentNullException("jwe");
            return Request(OAuthOperation.Decrypt, r => r.Set(OAuthParam.Jwe, jwe));
        }
    }

    /// base64url without padding (RFC 7515 §2), for the payload liboidc returns.
    internal static class Base64Url
    {
        internal static byte[] Decode(string s)
        {
            if (s == null) throw new ArgumentNullException("s");
            var b = s.Replace('-', '+').Replace('_', '/');
            switch (b.Length % 4)
            {
                case 2: b += "=="; break;
                case 3: b += "="; break;
            }
            return Convert.FromBase64String(b);
        }

        internal static string Encode(byte[] data)
        {
            return Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }
    }
}
