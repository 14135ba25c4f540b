// Request authentication: one call per HTTP request (oidc_authenticate / oidc_authenticate_async).
// The binding hands over what the host has (headers, method, URL, client certificate) and copies
// the decision back; the rules (schemes, DPoP, binding, scopes, claim values, 400/401/403/503,
// challenges) are the core's, configured on OidcClientOptions.
using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OidcClient
    {
        /// Decide about one HTTP request.
        /// <param name="method">the request method as received ("GET", "POST", ...)</param>
        /// <param name="url">the absolute URL the client addressed ("https://api.example.com/items?x=1";
        /// behind a proxy: the public scheme and host); DPoP proofs are checked against it</param>
        /// <param name="authorization">every `Authorization` header line's value (null or empty: none)</param>
        /// <param name="dpop">every `DPoP` header line's value (null or empty: none)</param>
        /// <param name="clientCertificate">the DER client certificate of an mTLS connection, or null</param>
        /// <param name="now">decide as of this time instead of the clock (tests, replays)</param>
        /// Returns the decision, allowed or denied: a fault of the request is a denial, never an
        /// exception. Throws <see cref="InvalidArgumentException"/> for a misuse by the host (a
        /// method that is not an HTTP token, a URL that is not absolute http(s)).
        /// Blocks only when the issuer's keys are not cached yet (and while a configured
        /// <see cref="IDpopReplayStore"/> answers).
        public Decision Authenticate(string method, string url, IEnumerable<string> authorization,
            IEnumerable<string> dpop = null, byte[] clientCertificate = null, DateTimeOffset? now = null)
        {
            return Authenticate(method, url, authorization, dpop, clientCertificate, now, Utf8Headers);
        }

        /// <see cref="Authenticate(string, string, IEnumerable{string}, IEnumerable{string}, byte[], DateTimeOffset?)"/>
        /// without blocking the caller: queued on liboidc's worker pool (oidc_authenticate_async);
        /// the task completes from a liboidc thread, its continuations run on the .NET thread
        /// pool. Cancelling <paramref name="cancellationToken"/> completes the task as Canceled.
        public Task<Decision> AuthenticateAsync(string method, string url, IEnumerable<string> authorization,
            IEnumerable<string> dpop = null, byte[] clientCertificate = null, DateTimeOffset? now = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return AuthenticateAsync(method, url, authorization, dpop, clientCertificate, now, Utf8Headers, cancellationToken);
        }

        // Header values are strings in .NET; the core wants the bytes as received. Values given
        // by the caller are UTF-8 (what a JSON vector or a Go/Ruby string holds); HttpListener
        // decodes received header bytes as ISO-8859-1, so its values go back through Latin-1
        // (RequestAuthenticator).
        internal static readonly Encoding Utf8Headers = Encoding.UTF8;
        /// ISO-8859-1 (one byte per char; a char above U+00FF, which HttpListener never produces,
        /// becomes '?'). Written out because Mono's Latin-1 encoder is 7 times slower than its UTF-8 one.
        internal static readonly Encoding Latin1Headers = new Latin1Encoding();

        private sealed class Latin1Encoding : Encoding
        {
            public override int GetByteCount(char[] chars, int index, int count) { return count; }
            public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex)
            {
                for (int i = 0; i < charCount; i++)
                {
                    char c = chars[charIndex + i];
                    bytes[byteIndex + i] = c <= '\u00ff' ? (byte)c : (byte)'?';
                }
                return charCount;
            }
            public override int GetBytes(string s, int charIndex, int charCount, byte[] bytes, int byteIndex)
            {
                for (int i = 0; i < charCount; i++)
                {
                    char c = s[charIndex + i];
                    bytes[byteIndex + i] = c <= '\u00ff' ? (byte)c : (byte)'?';
                }
                return charCount;
            }
            public override int GetCharCount(byte[] bytes, int index, int count) { return count; }
            public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
            {
                for (int i = 0; i < byteCount; i++) chars[charIndex + i] = (char)bytes[byteIndex + i];
                return byteCount;
            }
            public override int GetMaxByteCount(int charCount) { return charCount; }
            public override int GetMaxCharCount(int byteCount) { return byteCount; }
        }

        internal Decision Authenticate(string method, string url, IEnumerable<string> authorization,
            IEnumerable<string> dpop, byte[] clientCertificate, DateTimeOffset? now, Encoding headerEncoding)
        {
            ClientHandle h = Handle;
            HttpRequestHandle req = RentRequest();
            try
            {
                Fill(req, method, url, authorization, dpop, clientCertificate, now, headerEncoding);
                DecisionHandle d;
                IntPtr err;
                uint rc = Native.oidc_authenticate(h, req, out d, out err);
                if (rc != 0)
                {
                    if (d != null) d.SetHandleAsInvalid();
                    throw OidcException.FromNative(rc, err);
                }
                using (d) return Decision.Read(d.DangerousGetHandle());
            }
            finally
            {
                ReturnRequest(req);
            }
        }

        internal Task<Decision> AuthenticateAsync(string method, string url, IEnumerable<string> authorization,
            IEnumerable<string> dpop, byte[] clientCertificate, DateTimeOffset? now, Encoding headerEncoding,
            CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<Decision>(cancellationToken);
            ClientHandle h = Handle;
            HttpRequestHandle req = RentRequest();
            try
            {
                Fill(req, method, url, authorization, dpop, clientCertificate, now, headerEncoding);
                // liboidc copies the request before oidc_authenticate_async returns.
                return AsyncBridge.Authenticate((Native.DecisionCb cb, IntPtr ud, IntPtr c, out IntPtr e) =>
                    Native.oidc_authenticate_async(h, req, cb, ud, c, out e), cancellationToken);
            }
            finally
            {
                ReturnRequest(req);
            }
        }

        // ---- the request object: one per thread, reset after each use ------------------------
        // Saves an allocation, a free and a finalisable SafeHandle per request. Taken out of the
        // slot while in use, so a re-entrant call on the same thread (an IDpopReplayStore that
        // authenticates) gets its own.
        [ThreadStatic] private static HttpRequestHandle cachedRequest;

        private static HttpRequestHandle RentRequest()
        {
            HttpRequestHandle r = cachedRequest;
            if (r != null)
            {
                cachedRequest = null;
                return r;
            }
            IntPtr err;
            uint rc = Native.oidc_http_request_new(out r, out err);
            if (rc != 0)
            {
                if (r != null) r.SetHandleAsInvalid();
                throw OidcException.FromNative(rc, err);
            }
            return r;
        }

        /// Clear the request (no header value outlives the call) and keep it for the next one.
        private static void ReturnRequest(HttpRequestHandle r)
        {
            Native.oidc_http_request_reset(r);
            if (cachedRequest == null) cachedRequest = r;
            else r.Dispose();
        }

        private static readonly byte[] AuthorizationName = Encoding.ASCII.GetBytes("Authorization");
        private static readonly byte[] DpopName = Encoding.ASCII.GetBytes("DPoP");

        private static void Fill(HttpRequestHandle req, string method, string url, IEnumerable<string> authorization,
            IEnumerable<string> dpop, byte[] clientCertificate, DateTimeOffset? now, Encoding headerEncoding)
        {
            if (method == null) throw new ArgumentNullException("method");
            if (url == null) throw new ArgumentNullException("url");
            byte[] buf = Utf8.Rent(256);
            try
            {
                IntPtr err;
                int n = Encode(method, Utf8Headers, ref buf);
                OidcException.Check(Native.oidc_http_request_set_method(req, buf, (UIntPtr)n, out err), err);
                n = Encode(url, Utf8Headers, ref buf);
                OidcException.Check(Native.oidc_http_request_set_url(req, buf, (UIntPtr)n, out err), err);
                AddHeaders(req, AuthorizationName, authorization, "authorization", headerEncoding, ref buf);
                AddHeaders(req, DpopName, dpop, "dpop", headerEncoding, ref buf);
                if (clientCertificate != null && clientCertificate.Length > 0)
                    OidcException.Check(Native.oidc_http_request_set_client_cert(req, clientCertificate, (UIntPtr)clientCertificate.Length, out err), err);
                if (now.HasValue)
                    OidcException.Check(Native.oidc_http_request_set_now(req, now.Value.ToUnixTimeSeconds(), out err), err);
            }
            finally
            {
                Utf8.Return(buf);
            }
        }

        private static void AddHeaders(HttpRequestHandle req, byte[] name, IEnumerable<string> values, string param,
            Encoding enc, ref byte[] buf)
        {
            if (values == null) return;
            foreach (var v in values)
            {
                if (v == null) throw new ArgumentException("a header value is null", param);
                int n = Encode(v, enc, ref buf);
                IntPtr err;
                OidcException.Check(Native.oidc_http_request_add_header(req, name, (UIntPtr)name.Length, buf, (UIntPtr)n, out err), err);
            }
        }

        /// Encode into the scratch buffer, growing it when needed. UTF-8: a lone surrogate becomes
        /// U+FFFD (liboidc then judges the request, the binding does not throw mid-request).
        /// Latin-1: through Mono's fast UTF-8 encoder when the value is ASCII (the same bytes; as
        /// good as every real header value), else char by char.
        internal static int Encode(string s, Encoding enc, ref byte[] buf)
        {
            int max = Utf8Headers.GetMaxByteCount(s.Length);
            if (buf.Length < max) buf = new byte[max];
            if (ReferenceEquals(enc, Latin1Headers))
            {
                int n = Utf8Headers.GetBytes(s, 0, s.Length, buf, 0);
                return n == s.Length ? n : enc.GetBytes(s, 0, s.Length, buf, 0);
            }
            return enc.GetBytes(s, 0, s.Length, buf, 0);
        }
    }
}
