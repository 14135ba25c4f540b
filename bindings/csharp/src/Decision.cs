// The decision about one HTTP request (oidc_decision), copied out of liboidc. Plumbing only: every
// member is what the core decided; the binding never chooses a status, an error or a challenge.
using System;
using System.Collections.Generic;
using System.Net;
using System.Text;

namespace Oidc
{
    /// What liboidc decided about one request (<see cref="OidcClient.Authenticate(string, string, IEnumerable{string}, IEnumerable{string}, byte[], DateTimeOffset?)"/>): allowed,
    /// with the principal's <see cref="Claims"/> and <see cref="TokenType"/>, or denied, with the
    /// precise <see cref="Code"/>, the <see cref="HttpStatus"/> to answer with (400, 401, 403, 503,
    /// 500), the RFC 6750 / RFC 9449 <see cref="Error"/>, the <see cref="Challenges"/> to send (one
    /// `WWW-Authenticate` header line each) and possibly a <see cref="DpopNonce"/>.
    /// Immutable and thread safe.
    public sealed class Decision
    {
        private static readonly string[] NoChallenges = new string[0];

        private Decision() { }

        /// True when the request is allowed.
        public bool Allowed { get; private set; }

        /// 0 when allowed; else the reason of the denial (an oidc_result: TOKEN_MISSING 321,
        /// REQUEST_MALFORMED 320, TOKEN_EXPIRED 305, DPOP_REPLAY 325, INSUFFICIENT_SCOPE 418, ...).
        public int Code { get; private set; }

        /// <see cref="Code"/> as an <see cref="OidcResult"/>.
        public OidcResult Result { get { return (OidcResult)Code; } }

        /// The symbolic name of <see cref="Code"/> ("OK", "TOKEN_EXPIRED", ...).
        public string CodeName
        {
            get
            {
                ResultTable.Entry e;
                if (ResultTable.ByCode.TryGetValue(Code, out e)) return e.Name;
                return Library.ResultName(Code) ?? ("CODE_" + Code);
            }
        }

        /// 200 when allowed; the status to answer a denial with otherwise.
        public int HttpStatus { get; private set; }

        /// "invalid_request", "invalid_token", "insufficient_scope", "invalid_dpop_proof",
        /// "use_dpop_nonce", or null (allowed, no token, a server-side failure).
        public string Error { get; private set; }

        /// A message for logs naming what failed (never a token or a secret); "allowed" when allowed.
        public string Message { get; private set; }

        /// The access token's claims when allowed; null when denied.
        public Claims Claims { get; private set; }

        /// "Bearer" or "DPoP" when allowed; null when denied.
        public string TokenType { get; private set; }

        /// The `WWW-Authenticate` values of a denial, in order, each a whole header value to send
        /// as its own header line (empty when allowed and for 5xx denials).
        public IReadOnlyList<string> Challenges { get; private set; }

        /// A `DPoP-Nonce` value to send with the response (denied or allowed), or null.
        public string DpopNonce { get; private set; }

        /// Copy a decision (owned or borrowed; not freed here).
        internal static Decision Read(IntPtr d)
        {
            var r = new Decision();
            r.Allowed = Native.oidc_decision_allowed(d) == 1;
            r.Code = (int)Native.oidc_decision_code(d);
            r.HttpStatus = (int)Native.oidc_decision_http_status(d);
            UIntPtr n;
            IntPtr p = Native.oidc_decision_error(d, out n);
            r.Error = Borrowed(p, n);
            p = Native.oidc_decision_message(d, out n);
            r.Message = Borrowed(p, n);
            p = Native.oidc_decision_claims(d, out n);
            if (p != IntPtr.Zero) r.Claims = new Claims(Utf8.ReadScratch(p, checked((int)n.ToUInt64())));
            r.TokenType = TokenTypeName(Native.oidc_decision_token_type(d));
            int count = checked((int)Native.oidc_decision_challenge_count(d).ToUInt64());
            if (count == 0) r.Challenges = NoChallenges;
            else
            {
                var ch = new string[count];
                for (int i = 0; i < count; i++)
                {
                    p = Native.oidc_decision_challenge(d, (UIntPtr)i, out n);
                    ch[i] = Borrowed(p, n);
                }
                r.Challenges = Array.AsReadOnly(ch);
            }
            p = Native.oidc_decision_dpop_nonce(d, out n);
            r.DpopNonce = Borrowed(p, n);
            return r;
        }

        private static string Borrowed(IntPtr p, UIntPtr len)
        {
            return p == IntPtr.Zero ? null : Utf8.Read(p, checked((int)len.ToUInt64()));
        }

        // oidc_decision_token_type returns static strings: each is read once, then known by address.
        private static IntPtr bearerAt, dpopAt;

        private static string TokenTypeName(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            if (p == bearerAt) return "Bearer";
            if (p == dpopAt) return "DPoP";
            string s = Utf8.ReadNulTerminated(p);
            if (s == "Bearer") { bearerAt = p; return "Bearer"; }
            if (s == "DPoP") { dpopAt = p; return "DPoP"; }
            return s;
        }

        /// The denial as the exception of its code (<see cref="TokenExpiredException"/>,
        /// <see cref="DpopReplayException"/>, ...), carrying the status, the error and the first
        /// challenge; null when allowed. For callers that prefer exceptions; nothing throws it.
        public OidcException ToException()
        {
            if (Allowed) return null;
            return OidcException.Create(new OidcErrorInfo
            {
                Code = Code,
                Message = Message,
                HttpStatus = HttpStatus,
                OAuthError = Error,
                WwwAuthenticate = Challenges.Count > 0 ? Challenges[0] : null,
            });
        }

        /// Put what the decision asks for on <paramref name="response"/> without closing it: for a
        /// denial the status and each `WWW-Authenticate` value as its own header line; in both
        /// cases the `DPoP-Nonce` when there is one.
        public void ApplyTo(HttpListenerResponse response)
        {
            if (response == null) throw new ArgumentNullException("response");
            if (!Allowed)
            {
                response.StatusCode = HttpStatus;
                foreach (var c in Challenges) response.Headers.Add("WWW-Authenticate", c);
            }
            if (DpopNonce != null) response.Headers.Add("DPoP-Nonce", DpopNonce);
        }

        /// Answer a denied request: <see cref="ApplyTo"/>, an empty body, and close the response.
        public void WriteTo(HttpListenerResponse response)
        {
            if (response == null) throw new ArgumentNullException("response");
            if (Allowed) throw new InvalidOperationException("the request was allowed; nothing to write");
            try
            {
                ApplyTo(response);
                response.ContentLength64 = 0;
            }
            finally
            {
                response.Close();
            }
        }

        /// The outcome without claims (claims can hold personal data).
        public override string ToString()
        {
            var sb = new StringBuilder("Decision(");
            if (Allowed) sb.Append("allowed, ").Append(TokenType).Append(", sub=").Append(Claims != null ? Claims.Subject ?? "-" : "-");
            else sb.Append(HttpStatus).Append(' ').Append(CodeName).Append(Error != null ? ", " + Error : "").Append(": ").Append(Message);
            return sb.Append(')').ToString();
        }
    }
}
