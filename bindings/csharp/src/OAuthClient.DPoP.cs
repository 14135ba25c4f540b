// DPoP (RFC 9449) for requests the caller sends, resource requests through liboidc, and the
// endpoint lookup.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// The answer of <see cref="OAuthClient.ResourceRequest"/>: any HTTP status is an answer.
    public sealed class ResourceResponse
    {
        internal ResourceResponse(int status, string body) { StatusCode = status; Body = body; }
        public int StatusCode { get; private set; }
        /// The body (a non-UTF-8 body is replaced lossily).
        public string Body { get; private set; }
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
            uint rc = NativeGrants.oidc_oauth_dpop_proof(Handle, m, (UIntPtr)m.Length, u, (UIntPtr)u.Length,
                t, (UIntPtr)t.Length, out p, out len, out err);
            return TakeString(rc, p, len, err);
        }

        /// Remember a `DPoP-Nonce` received from <paramref name="url"/>'s server for later proofs.
        public void SetDPoPNonce(string url, string nonce)
        {
            byte[] u = Required(url, "url"), n = Required(nonce, "nonce");
            IntPtr err;
            OidcException.Check(NativeGrants.oidc_oauth_dpop_set_nonce(Handle, u, (UIntPtr)u.Length, n, (UIntPtr)n.Length, out err), err);
        }

        /// The DPoP key's RFC 7638 thumbprint (bound tokens carry it as `cnf.jkt`).
        public string DPoPThumbprint()
        {
            IntPtr p, err;
            UIntPtr len;
            uint rc = NativeGrants.oidc_oauth_dpop_jkt(Handle, out p, out len, out err);
            return TakeString(rc, p, len, err);
        }

        /// Call a protected resource with <paramref name="accessToken"/>: DPoP-bound when this
        /// client uses DPoP and <paramref name="tokenType"/> is "DPoP", else Bearer.
        public ResourceResponse ResourceRequest(string method, string url, string accessToken, string tokenType = "Bearer",
            string body = null, string contentType = null)
        {
            byte[] m = Required(method, "method"), u = Required(url, "url"), t = Required(accessToken, "accessToken"),
                tt = Optional(tokenType), b = Optional(body), ct = Optional(contentType);
            uint status;
            IntPtr p, err;
            UIntPtr len;
            uint rc = NativeGrants.oidc_oauth_resource_request(Handle, m, (UIntPtr)m.Length, u, (UIntPtr)u.Length,
                t, (UIntPtr)t.Length, tt, (UIntPtr)tt.Length, b, (UIntPtr)b.Length, ct, (UIntPtr)ct.Length,
                out status, out p, out len, out err);
            string text = TakeString(rc, p, len, err);
            return new ResourceResponse((int)status, text);
        }

        /// <see cref="ResourceRequest"/> without blocking the caller (liboidc's worker pool).
        public Task<ResourceResponse> ResourceRequestAsync(string method, string url, string accessToken, string tokenType = "Bearer",
            string body = null, string contentType = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] m = Required(method, "method"), u = Required(url, "url"), t = Required(accessToken, "accessToken"),
                tt = Optional(tokenType), b = Optional(body), ct = Optional(contentType);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Resource((NativeAsync.ResourceCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_resource_request_async(h,
                    m, (UIntPtr)m.Length, u, (UIntPtr)u.Length, t, (UIntPtr)t.Length, tt, (UIntPtr)tt.Length, b, (UIntPtr)b.Length,
                    ct, (UIntPtr)ct.Length, cb, ud, c, out e),
                o => new ResourceResponse((int)o.Status, o.Value == IntPtr.Zero ? "" : o.Text), cancellationToken);
        }

        /// An endpoint's URL by metadata name ("token_endpoint", "device_authorization_endpoint",
        /// ...): the configured override, else discovery (fetched on first use).
        public string Endpoint(string name)
        {
            byte[] n = Required(name, "name");
            IntPtr p, err;
            UIntPtr len;
            uint rc = NativeGrants.oidc_oauth_client_endpoint(Handle, n, (UIntPtr)n.Length, out p, out len, out err);
            return TakeString(rc, p, len, err);
        }

        /// <see cref="Endpoint"/> without blocking the caller on a first discovery: also the
        /// non-blocking way to warm a protocol client.
        public Task<string> EndpointAsync(string name, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] n = Required(name, "name");
            OAuthClientHandle h = Handle;
            return AsyncBridge.Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) =>
                NativeAsync.oidc_oauth_client_endpoint_async(h, n, (UIntPtr)n.Length, cb, ud, c, out e), AsyncBridge.ReadString, cancellationToken);
        }
    }
}
