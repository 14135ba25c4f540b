// The protocol client: construction, lifetime and the request object (NewRequest).
// Every protocol operation is one OAuthRequest (OAuthRequest.cs); the typed methods, one partial
// file per area (OAuthClient.ClientCredentials.cs, ...), each build their request ONCE (a
// private ...Request method) and differ only in the send: Send for the blocking method,
// SendAsync for its ...Async twin.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// An OAuth 2.0 / OpenID Connect protocol client (one registered client at one issuer).
    /// Thread safety: every request method may run concurrently from any thread; all requests
    /// share one pooled HTTP connection set inside liboidc.
    public sealed partial class OAuthClient : IDisposable
    {
        private readonly OAuthClientHandle handle;
        private readonly string issuer, clientId;

        private OAuthClient(OAuthClientHandle handle, string issuer, string clientId)
        {
            this.handle = handle;
            this.issuer = issuer;
            this.clientId = clientId;
        }

        /// The issuer this client talks to.
        public string Issuer { get { return issuer; } }
        /// This client's <c>client_id</c>.
        public string ClientId { get { return clientId; } }

        /// Build the client (no network). Configuration problems throw <see cref="ConfigurationException"/>.
        public static OAuthClient Create(OAuthClientOptions options)
        {
            IntPtr b = NewBuilder(options);
            // build consumes the builder in every case
            IntPtr err;
            OAuthClientHandle h;
            uint rc = Native.oidc_oauth_builder_build(b, out h, out err);
            if (rc != 0)
            {
                if (h != null) h.SetHandleAsInvalid();
                throw OidcException.FromNative(rc, err);
            }
            return new OAuthClient(h, options.Issuer, options.ClientId);
        }

        /// A configured native builder (caller-owned: build or free it). Frees it on failure.
        internal static IntPtr NewBuilder(OAuthClientOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            Library.EnsureLoaded();
            IntPtr b, err;
            OidcException.Check(Native.oidc_oauth_builder_new(out b, out err), err);
            bool ok = false;
            try
            {
                OidcClient.Set(b, options.Issuer, Native.oidc_oauth_builder_set_issuer);
                if (options.ClientId != null) OidcClient.Set(b, options.ClientId, Native.oidc_oauth_builder_set_client_id);
                if (options.ClientSecret != null) OidcClient.Set(b, options.ClientSecret, Native.oidc_oauth_builder_set_client_secret);
                if (options.AuthMethod != null) OidcClient.Set(b, options.AuthMethod, Native.oidc_oauth_builder_set_auth_method);
                if (options.CaFile != null) OidcClient.Set(b, options.CaFile, Native.oidc_oauth_builder_set_ca_file);
                if (options.Endpoints != null)
                {
                    foreach (var e in options.Endpoints)
                    {
                        byte[] n = Utf8.StrictBytes(e.Key), u = Utf8.StrictBytes(e.Value);
                        OidcException.Check(Native.oidc_oauth_builder_set_endpoint(b, n, (UIntPtr)n.Length, u, (UIntPtr)u.Length, out err), err);
                    }
                }
                if (options.ConnectTimeoutMs.HasValue || options.TotalTimeoutMs.HasValue)
                {
                    uint connect = OidcClient.U32(options.ConnectTimeoutMs ?? 0, "ConnectTimeoutMs");
                    uint total = OidcClient.U32(options.TotalTimeoutMs ?? 0, "TotalTimeoutMs");
                    OidcException.Check(Native.oidc_oauth_builder_set_timeouts_ms(b, connect, total, out err), err);
                }
                if (options.AllowHttpLoopback)
                    OidcException.Check(Native.oidc_oauth_builder_set_allow_http_loopback(b, 1, out err), err);
                if (options.Proxy != null) OidcClient.Set(b, options.Proxy, Native.oidc_oauth_builder_set_proxy);
                if (options.ProxyFromEnv)
                    OidcException.Check(Native.oidc_oauth_builder_set_proxy_from_env(b, 1, out err), err);
                if (options.ClientCertPem != null || options.ClientKeyPem != null)
                {
                    byte[] c = Utf8.StrictBytes(options.ClientCertPem ?? ""), k = Utf8.StrictBytes(options.ClientKeyPem ?? "");
                    OidcException.Check(Native.oidc_oauth_builder_set_client_cert(b, c, (UIntPtr)c.Length, k, (UIntPtr)k.Length, out err), err);
                }
                if (options.PrivateKey != null)
                {
                    byte[] k = Utf8.StrictBytes(options.PrivateKey), kid = Optional(options.PrivateKeyId), alg = Optional(options.PrivateKeyAlgorithm);
                    uint krc = options.PrivateKey.TrimStart().StartsWith("{", StringComparison.Ordinal)
                        ? Native.oidc_oauth_builder_set_private_key_jwk(b, k, (UIntPtr)k.Length, kid, (UIntPtr)kid.Length, alg, (UIntPtr)alg.Length, out err)
                        : Native.oidc_oauth_builder_set_private_key_pem(b, k, (UIntPtr)k.Length, kid, (UIntPtr)kid.Length, alg, (UIntPtr)alg.Length, out err);
                    OidcException.Check(krc, err);
                }
                if (options.AssertionAudience != null) OidcClient.Set(b, options.AssertionAudience, Native.oidc_oauth_builder_set_assertion_audience);
                if (options.UseDPoP || options.DPoPKey != null)
                {
                    byte[] k = Optional(options.DPoPKey);
                    OidcException.Check(Native.oidc_oauth_builder_set_dpop_key(b, k, (UIntPtr)k.Length, out err), err);
                }
                if (options.Algorithms != null)
                    OidcClient.Set(b, string.Join(",", options.Algorithms), Native.oidc_oauth_builder_set_algorithms);
                SetJose(b, options);
                ok = true;
                return b;
            }
            finally
            {
                if (!ok) Native.oidc_oauth_builder_free(b);
            }
        }

        /// Decryption keys and algorithms, static keys, request objects, logout options (issue 14).
        private static void SetJose(IntPtr b, OAuthClientOptions options)
        {
            IntPtr err;
            if (options.DecryptionKeys != null)
                foreach (var k in options.DecryptionKeys) OidcClient.AddDecryptionKey(b, k, NativeJose.oidc_oauth_builder_add_decryption_key);
            if (options.DecryptionAlgorithms != null)
                OidcClient.Set(b, string.Join(" ", options.DecryptionAlgorithms), NativeJose.oidc_oauth_builder_set_decryption_algorithms);
            if (options.JwksJson != null) OidcClient.Set(b, options.JwksJson, NativeJose.oidc_oauth_builder_set_jwks_json);
            if (options.RequestObject != null)
            {
                byte[] alg = Optional(options.RequestObject.EncryptionAlgorithm), enc = Optional(options.RequestObject.ContentEncryption);
                OidcException.Check(NativeJose.oidc_oauth_builder_set_request_object(b, alg, (UIntPtr)alg.Length, enc, (UIntPtr)enc.Length, out err), err);
            }
            if (options.LogoutAcceptUntyped)
                OidcException.Check(NativeJose.oidc_oauth_builder_set_logout_accept_untyped(b, 1, out err), err);
            if (options.LogoutReplayStore != null) ReplayStoreBridge.SetLogout(b, options.LogoutReplayStore);
        }

        internal OAuthClientHandle Handle
        {
            get { CheckNotDisposed(); return handle; }
        }

        // Our own flag, not handle.IsClosed: a SafeHandle becomes "closed" only when its last
        // in-flight call returns, so under a steady stream of overlapping calls IsClosed would
        // stay false and new calls would keep entering after Dispose.
        private int disposed;

        private void CheckNotDisposed()
        {
            if (Volatile.Read(ref disposed) != 0) throw new ObjectDisposedException("OAuthClient");
        }

        /// A request for <paramref name="operation"/> on this client (oidc_oauth_request_new): set
        /// its parameters, then Send / SendAsync. A client created without a ClientId can only
        /// send <see cref="OAuthOperation.Register"/> (liboidc's InvalidConfigException here).
        public OAuthRequest NewRequest(OAuthOperation operation)
        {
            return new OAuthRequest(Handle, operation);
        }

        /// A request filled by <paramref name="fill"/> (freed if a setter throws). The typed
        /// methods build their request here once, for both twins.
        internal OAuthRequest Request(OAuthOperation operation, Action<OAuthRequest> fill)
        {
            var r = NewRequest(operation);
            try
            {
                fill(r);
                return r;
            }
            catch
            {
                r.Dispose();
                throw;
            }
        }

        /// An optional string argument of the DPoP helpers: null or "" is absent (len 0).
        internal static byte[] Optional(string s)
        {
            return string.IsNullOrEmpty(s) ? Utf8.Empty : Utf8.StrictBytes(s);
        }

        /// A required string argument (secrets and tokens from outside: lone surrogates become U+FFFD).
        internal static byte[] Required(string s, string name)
        {
            if (s == null) throw new ArgumentNullException(name);
            return Utf8.Bytes(s);
        }

        /// Turn a call that returns an owned string into that string, or an exception.
        internal static string TakeString(uint rc, IntPtr s, UIntPtr len, IntPtr err)
        {
            if (rc != 0) throw OidcException.FromNative(rc, err);
            return Utf8.TakeOwned(s, len);
        }

        /// Free the native client (after calls still running on other threads return). Idempotent.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) handle.Dispose();
        }

        /// The issuer and client id (never the secret).
        public override string ToString()
        {
            return "OAuthClient(" + issuer + ", " + clientId + (Volatile.Read(ref disposed) != 0 ? ", disposed)" : ")");
        }
    }
}
