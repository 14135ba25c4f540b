// DPoP (RFC 9449) for requests the caller sends, resource requests through liboidc, and the
// endpoint lookup.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// The answer of <see cref="OAuthClient.ResourceRequest"/> (OAuthOperation.Resource): any
    /// HTTP status is an answer.
    public sealed class ResourceResponse
    {
        internal ResourceResponse(OAuthResponse r)
        {
            StatusCode = (int)(r.GetInt(OAuthField.HttpStatus) ?? 0);
            Body = r.Json;
            ContentType = r.GetString(OAuthField.ContentType);
            WwwAuthenticate = r.GetString(OAuthField.WwwAuthenticate);
            Error = r.GetString(OAuthField.Error);
            ErrorDescription = r.GetString(OAuthField.ErrorDescription);
        }
        /// The resource server's HTTP status.
        public int StatusCode { get; private set; }
        /// The body (a non-UTF-8 body is replaced lossily).
        public string Body { get; private set; }
        /// The response's <c>Content-Type</c>.
        public string ContentType { get; private set; }
        /// The WWW-Authenticate challenge, or null.
        public string WwwAuthenticate { get; private set; }
        /// The error from the challenge or a JSON error body, or null.
        public string Error { get; private set; }
        /// The <c>error_description</c> of the resource server's <c>WWW-Authenticate</c> challenge, if any.
        public string ErrorDescription { get; private set; }
        /// The status and body size.
        public override string ToString() { return "ResourceResponse(" + StatusCode + ", " + (Body == null ? 0 : Body.Length) + " chars)"; }
    }

    public sealed partial class OAuthClient
    {
        /// A DPoP proof for a request you send yourself (put it in a `DPoP` header, with
        /// `Authorization: DPoP &lt;token&gt;`). <paramref name="accessToken"/> (optional) adds `ath`.
        /// Needs <see cref="OAuthClientOptions.UseDPoP"/> or DPoPKey.
        public string DPoPProof(string method, string url, string accessToken = null)
        {
            byte[] m = Required(method, "method"), u = Required(url, "url"), t = Optional(accessToken);
            IntPtr p, err;
            UIntPtr len;
            uint rc = Native.oidc_oauth_dpop_proof(Handle, m, (UIntPtr)m.Length, u, (UIntPtr)u.Length,
                t, (UIntPtr)t.Length, out p, out len, out err);
            return TakeString(rc, p, len, err);
        }

        /// Remember a `DPoP-Nonce` received from <paramref name="url"/>'s server for later proofs.
        public void SetDPoPNonce(string url, string nonce)
        {
            byte[] u = Required(url, "url"), n = Required(nonce, "nonce");
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_dpop_set_nonce(Handle, u, (UIntPtr)u.Length, n, (UIntPtr)n.Length, out err), err);
        }

        /// The DPoP key's RFC 7638 thumbprint (bound tokens carry it as `cnf.jkt`).
        public string DPoPThumbprint()
        {
            IntPtr p, err;
            UIntPtr len;
            uint rc = Native.oidc_oauth_dpop_jkt(Handle, out p, out len, out err);
            return TakeString(rc, p, len, err);
        }

        /// Call a protected resource with <paramref name="accessToken"/> (OAuthOperation.Resource).
        /// <param name="method">null: liboidc's default (GET)</param>
        /// <param name="tokenType">"DPoP" or "Bearer"; null: liboidc's default (DPoP when the
        /// client has a DPoP key)</param>
        /// <param name="contentType">null: liboidc's default (application/json)</param>
        /// <param name="url">The resource's https URL.</param>
        /// <param name="accessToken">The access token to send.</param>
        /// <param name="body">The request body, or null.</param>
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        public ResourceResponse ResourceRequest(string method, string url, string accessToken, string tokenType = null,
            string body = null, string contentType = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return ResourceRequestOf(method, url, accessToken, tokenType, body, contentType).SendOnce(r => new ResourceResponse(r), cancellationToken);
        }

        /// <see cref="ResourceRequest"/> without blocking the caller (liboidc's worker pool).
        public Task<ResourceResponse> ResourceRequestAsync(string method, string url, string accessToken, string tokenType = null,
            string body = null, string contentType = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return ResourceRequestOf(method, url, accessToken, tokenType, body, contentType).SendOnceAsync(r => new ResourceResponse(r), cancellationToken);
        }

        private OAuthRequest ResourceRequestOf(string method, string url, string accessToken, string tokenType, string body, string contentType)
        {
            if (url == null) throw new ArgumentNullException("url");
            if (accessToken == null) throw new ArgumentNullException("accessToken");
            return Request(OAuthOperation.Resource, r => r.SetOptional(OAuthParam.Method, method).Set(OAuthParam.Url, url)
                .Set(OAuthParam.AccessToken, accessToken).SetOptional(OAuthParam.TokenType, tokenType)
                .SetOptional(OAuthParam.Body, body).SetOptional(OAuthParam.ContentType, contentType));
        }

        /// An endpoint's URL by metadata name ("token_endpoint", "device_authorization_endpoint",
        /// ...; OAuthOperation.Endpoint): the configured override, else discovery (fetched on first use).
        public string Endpoint(string name, CancellationToken cancellationToken = default(CancellationToken))
        {
            return EndpointRequest(name).SendOnce(ReadUrl, cancellationToken);
        }

        /// <see cref="Endpoint"/> without blocking the caller on a first discovery: also the
        /// non-blocking way to warm a protocol client.
        public Task<string> EndpointAsync(string name, CancellationToken cancellationToken = default(CancellationToken))
        {
            return EndpointRequest(name).SendOnceAsync(ReadUrl, cancellationToken);
        }

        private OAuthRequest EndpointRequest(string name)
        {
            if (name == null) throw new ArgumentNullException("name");
            return Request(OAuthOperation.Endpoint, r => r.Set(OAuthParam.EndpointName, name));
        }
    }
}
