// HttpListener plumbing over OidcClient.Authenticate: read what the request carries, hand it to
// liboidc, write back what liboidc decided. No policy here: no header parsing, no scope check,
// no status or challenge chosen by the binding (scopes, claim values, DPoP and mTLS are
// OidcClientOptions).
using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// Authenticates HttpListener requests with an <see cref="OidcClient"/>: every
    /// `Authorization` and `DPoP` header value, the method, the absolute URL and the TLS client
    /// certificate go to liboidc, which makes the whole decision. Thread safe; use one instance
    /// for all requests.
    ///
    /// Mono's HttpListener keeps only the last of repeated header lines, so a request with two
    /// `Authorization` lines reaches liboidc as one (on .NET they arrive joined by a comma, which
    /// liboidc rejects as malformed).
    public sealed class RequestAuthenticator
    {
        private readonly OidcClient client;
        private readonly string publicOrigin;

        /// <param name="client">decides (not disposed by this class)</param>
        /// <param name="publicOrigin">"https://api.example.com": the scheme and host clients
        /// address, when the listener sits behind a proxy or load balancer; DPoP proofs name that
        /// URL. Default: the request's own scheme and `Host` header.</param>
        public RequestAuthenticator(OidcClient client, string publicOrigin = null)
        {
            if (client == null) throw new ArgumentNullException("client");
            if (publicOrigin != null)
            {
                Uri u;
                if (!Uri.TryCreate(publicOrigin, UriKind.Absolute, out u) || (u.Scheme != "https" && u.Scheme != "http")
                    || u.PathAndQuery != "/" || u.Fragment.Length != 0)
                    throw new ArgumentException("publicOrigin must be scheme://host[:port], e.g. https://api.example.com", "publicOrigin");
                publicOrigin = publicOrigin.TrimEnd('/');
            }
            this.client = client;
            this.publicOrigin = publicOrigin;
        }

        /// Decide about an HttpListener request (see <see cref="OidcClient.Authenticate(string, string, IEnumerable{string}, IEnumerable{string}, byte[], DateTimeOffset?)"/>).
        public Decision Authenticate(HttpListenerRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            return client.Authenticate(request.HttpMethod, Url(request, publicOrigin), Values(request, "Authorization"),
                Values(request, "DPoP"), ClientCertificate(request), null, OidcClient.Latin1Headers);
        }

        /// <see cref="Authenticate(HttpListenerRequest)"/> without blocking the caller on a cold key cache.
        public Task<Decision> AuthenticateAsync(HttpListenerRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (request == null) throw new ArgumentNullException("request");
            return client.AuthenticateAsync(request.HttpMethod, Url(request, publicOrigin), Values(request, "Authorization"),
                Values(request, "DPoP"), ClientCertificate(request), null, OidcClient.Latin1Headers, cancellationToken);
        }

        /// Authenticate <paramref name="context"/>'s request. Denied: the response is written
        /// (liboidc's status, each `WWW-Authenticate` value on its own line, `DPoP-Nonce`) and
        /// closed, and false is returned. Allowed: a `DPoP-Nonce` liboidc asks for is added to
        /// the response, nothing else is written, and the decision carries the claims.
        public bool TryAuthenticate(HttpListenerContext context, out Decision decision)
        {
            if (context == null) throw new ArgumentNullException("context");
            decision = Authenticate(context.Request);
            return Answer(context, decision);
        }

        /// <see cref="TryAuthenticate"/> without blocking the caller: the task's result is the
        /// decision; a denial has been written and the response closed when it completes.
        public Task<Decision> TryAuthenticateAsync(HttpListenerContext context, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (context == null) throw new ArgumentNullException("context");
            return AnswerAsync(context, AuthenticateAsync(context.Request, cancellationToken));
        }

        private static async Task<Decision> AnswerAsync(HttpListenerContext context, Task<Decision> decision)
        {
            Decision d = await decision.ConfigureAwait(false);
            Answer(context, d);
            return d;
        }

        private static bool Answer(HttpListenerContext context, Decision d)
        {
            if (d.Allowed)
            {
                d.ApplyTo(context.Response);
                return true;
            }
            d.WriteTo(context.Response);
            return false;
        }

        /// The absolute URL as addressed: an absolute-form request target as is; else the
        /// public origin (or the connection's scheme and the `Host` header) + the raw target.
        internal static string Url(HttpListenerRequest request, string publicOrigin)
        {
            string raw = request.RawUrl ?? "/";
            if (raw.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || raw.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                return raw;
            if (publicOrigin != null) return publicOrigin + raw;
            string host = request.Headers["Host"];
            if (string.IsNullOrEmpty(host)) host = request.Url.Authority;
            return (request.IsSecureConnection ? "https://" : "http://") + host + raw;
        }

        /// Every value of a header, one per line as the listener kept them. By index, because
        /// WebHeaderCollection.GetValues(name) splits `Authorization` values at commas.
        internal static List<string> Values(HttpListenerRequest request, string name)
        {
            List<string> list = null;
            var h = request.Headers;
            for (int i = 0; i < h.Count; i++)
            {
                if (!string.Equals(h.GetKey(i), name, StringComparison.OrdinalIgnoreCase)) continue;
                var vs = h.GetValues(i);
                if (vs == null) continue;
                if (list == null) list = new List<string>(vs.Length);
                list.AddRange(vs);
            }
            return list;
        }

        private static byte[] ClientCertificate(HttpListenerRequest request)
        {
            if (!request.IsSecureConnection) return null;
            X509Certificate2 c = request.GetClientCertificate();
            return c == null ? null : c.RawData;
        }
    }
}
