using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// A validating client for one issuer: checks bearer tokens (JWT access tokens) against the
    /// issuer's keys and the configured policy, entirely inside liboidc.
    ///
    /// Thread safety: every method may run concurrently from any number of threads. Keys are
    /// cached process-wide (per JWKS URL), so with warm keys a validation never touches the network.
    /// Dispose when done (or let the finaliser free it); Dispose waits for no call, but the native
    /// client is freed only after running calls return.
    public sealed partial class OidcClient : IDisposable
    {
        private readonly ClientHandle handle;
        private readonly string issuer, realm;

        private OidcClient(ClientHandle handle, string issuer, string realm)
        {
            this.handle = handle;
            this.issuer = issuer;
            this.realm = realm;
        }

        /// The configured issuer (<see cref="OidcClientOptions.Issuer"/>), or null when the issuers
        /// come from <see cref="OidcClientOptions.Issuers"/> or a policy document alone
        /// (<see cref="ExportPolicy"/> names them all).
        public string Issuer { get { return issuer; } }

        /// The configured realm, or null.
        public string Realm { get { return realm; } }

        /// Build a client. Every configuration problem is reported here as a
        /// <see cref="ConfigurationException"/> (or <see cref="OidcLibraryException"/> when liboidc
        /// is missing); nothing is fetched yet (see <see cref="Prefetch"/>), unless
        /// <see cref="OidcClientOptions.Prefetch"/> asks for a warm start (then
        /// <see cref="PrefetchMode.FailFast"/> also throws the fetch's error here).
        public static OidcClient Create(OidcClientOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            Library.EnsureLoaded();
            IntPtr b, err;
            OidcException.Check(Native.oidc_validator_builder_new(out b, out err), err);
            bool consumed = false;
            try
            {
                // The document first: the options below apply on top of it.
                if (options.PolicyFile != null) Set(b, options.PolicyFile, NativeIssuers.oidc_validator_builder_load_policy_file);
                if (options.Policy != null) Set(b, options.Policy, NativeIssuers.oidc_validator_builder_load_policy);
                // Optional once an issuer comes from Issuers or a document; liboidc checks at build.
                if (options.Issuer != null || (options.Issuers == null && options.Policy == null && options.PolicyFile == null))
                    Set(b, options.Issuer, Native.oidc_validator_builder_set_issuer);
                if (options.Audiences != null)
                    foreach (var a in options.Audiences) Set(b, a, Native.oidc_validator_builder_add_audience);
                if (options.AnyAudience)
                    OidcException.Check(Native.oidc_validator_builder_set_any_audience(b, 1, out err), err);
                if (options.Algorithms != null)
                    Set(b, string.Join(",", options.Algorithms), Native.oidc_validator_builder_set_algorithms);
                if (options.ExpectedTyp != null) Set(b, options.ExpectedTyp, Native.oidc_validator_builder_set_expected_typ);
                if (options.RequiredClaims != null)
                    foreach (var c in options.RequiredClaims) Set(b, c, Native.oidc_validator_builder_add_required_claim);
                if (options.LeewaySeconds.HasValue)
                    OidcException.Check(Native.oidc_validator_builder_set_leeway_secs(b, U32(options.LeewaySeconds.Value, "LeewaySeconds"), out err), err);
                if (options.MaxTokenBytes.HasValue)
                    OidcException.Check(Native.oidc_validator_builder_set_max_token_bytes(b, (UIntPtr)U32(options.MaxTokenBytes.Value, "MaxTokenBytes"), out err), err);
                if (options.MaxResponseBytes.HasValue)
                    OidcException.Check(Native.oidc_validator_builder_set_max_response_bytes(b, (UIntPtr)U32(options.MaxResponseBytes.Value, "MaxResponseBytes"), out err), err);
                if (options.CaFile != null) Set(b, options.CaFile, Native.oidc_validator_builder_set_ca_file);
                if (options.JwksUri != null) Set(b, options.JwksUri, Native.oidc_validator_builder_set_jwks_uri);
                if (options.JwksJson != null) Set(b, options.JwksJson, Native.oidc_validator_builder_set_jwks_json);
                if (options.AllowHttpLoopback)
                    OidcException.Check(Native.oidc_validator_builder_set_allow_http_loopback(b, 1, out err), err);
                if (options.Proxy != null) Set(b, options.Proxy, Native.oidc_validator_builder_set_proxy);
                if (options.ProxyFromEnv)
                    OidcException.Check(Native.oidc_validator_builder_set_proxy_from_env(b, 1, out err), err);
                if (options.ConnectTimeoutMs.HasValue || options.TotalTimeoutMs.HasValue)
                {
                    uint connect = U32(options.ConnectTimeoutMs ?? 0, "ConnectTimeoutMs");
                    uint total = U32(options.TotalTimeoutMs ?? 0, "TotalTimeoutMs");
                    OidcException.Check(Native.oidc_validator_builder_set_timeouts_ms(b, connect, total, out err), err);
                }
                if (options.Realm != null) Set(b, options.Realm, Native.oidc_validator_builder_set_realm);
                if (options.Prefetch.HasValue)
                    OidcException.Check(NativeProcess.oidc_validator_builder_set_prefetch(b, (uint)options.Prefetch.Value, out err), err);
                SetResourceRules(b, options);
                SetJose(b, options);
                if (options.Issuers != null)
                {
                    foreach (var io in options.Issuers)
                    {
                        if (io == null) throw new ArgumentException("Issuers holds a null entry", "options");
                        using (var ib = IssuerBuilder.From(io)) ib.AddTo(b);
                    }
                }

                consumed = true; // build consumes the builder in every case
                ClientHandle h;
                uint rc = Native.oidc_validator_builder_build(b, out h, out err);
                if (rc != 0)
                {
                    if (h != null) h.SetHandleAsInvalid();
                    throw OidcException.FromNative(rc, err);
                }
                return new OidcClient(h, options.Issuer, options.Realm);
            }
            finally
            {
                if (!consumed) Native.oidc_validator_builder_free(b);
            }
        }

        /// The resource's rules for Authenticate (src/ffi/authn.rs builder setters).
        private static void SetResourceRules(IntPtr b, OidcClientOptions options)
        {
            IntPtr err;
            if (options.RequiredScopes != null)
                foreach (var s in options.RequiredScopes) Set(b, s, Native.oidc_validator_builder_add_required_scope);
            if (options.AllowedClaimValues != null)
            {
                foreach (var kv in options.AllowedClaimValues)
                {
                    if (kv.Value == null) throw new ArgumentException("AllowedClaimValues[\"" + kv.Key + "\"] is null", "options");
                    byte[] claim = Utf8.StrictBytes(kv.Key);
                    foreach (var v in kv.Value)
                    {
                        byte[] value = Utf8.StrictBytes(v);
                        OidcException.Check(Native.oidc_validator_builder_add_allowed_claim_value(b, claim, (UIntPtr)claim.Length,
                            value, (UIntPtr)value.Length, out err), err);
                    }
                }
            }
            if (options.DpopMode.HasValue)
                OidcException.Check(Native.oidc_validator_builder_set_dpop_mode(b, (uint)options.DpopMode.Value, out err), err);
            if (options.DpopAlgorithms != null)
                Set(b, string.Join(",", options.DpopAlgorithms), Native.oidc_validator_builder_set_dpop_algorithms);
            if (options.DpopProofWindowSeconds.HasValue)
                OidcException.Check(Native.oidc_validator_builder_set_dpop_proof_window_secs(b,
                    U32(options.DpopProofWindowSeconds.Value, "DpopProofWindowSeconds"), out err), err);
            if (options.DpopNonceSecret != null)
            {
                // 0: liboidc's default lifetime.
                uint life = U32(options.DpopNonceLifetimeSeconds ?? 0, "DpopNonceLifetimeSeconds");
                OidcException.Check(Native.oidc_validator_builder_set_dpop_nonce_secret(b, options.DpopNonceSecret,
                    (UIntPtr)options.DpopNonceSecret.Length, life, out err), err);
            }
            else if (options.DpopNonceLifetimeSeconds.HasValue)
                throw new ArgumentException("DpopNonceLifetimeSeconds needs DpopNonceSecret", "options");
            if (options.DpopReplayStore != null) ReplayStoreBridge.Set(b, options.DpopReplayStore);
            if (options.RequireMtls)
                OidcException.Check(Native.oidc_validator_builder_set_require_mtls(b, 1, out err), err);
            if (options.TokenCacheSize.HasValue)
                OidcException.Check(Native.oidc_validator_builder_set_token_cache_size(b,
                    (UIntPtr)U32(options.TokenCacheSize.Value, "TokenCacheSize"), out err), err);
        }

        /// Decryption keys and algorithms, encrypted access tokens, the revocation list (issue 14).
        private static void SetJose(IntPtr b, OidcClientOptions options)
        {
            IntPtr err;
            if (options.DecryptionKeys != null)
                foreach (var k in options.DecryptionKeys) AddDecryptionKey(b, k, NativeJose.oidc_validator_builder_add_decryption_key);
            if (options.DecryptionAlgorithms != null)
                Set(b, string.Join(" ", options.DecryptionAlgorithms), NativeJose.oidc_validator_builder_set_decryption_algorithms);
            if (options.AcceptEncryptedAccessTokens)
                OidcException.Check(NativeJose.oidc_validator_builder_set_accept_encrypted(b, 1, out err), err);
            var r = options.Revocation;
            if (r != null)
            {
                byte[] url = r.Url == null ? null : Utf8.StrictBytes(r.Url);
                OidcException.Check(NativeJose.oidc_validator_builder_set_revocation(b, url, (UIntPtr)(url == null ? 0 : url.Length),
                    (uint)r.Policy, U32(r.GraceSeconds ?? 0, "GraceSeconds"), out err), err); // 0: liboidc's default grace
                if (r.MinPollSeconds.HasValue || r.MaxPollSeconds.HasValue) // 0 keeps that bound's default
                    OidcException.Check(NativeJose.oidc_validator_builder_set_revocation_bounds(b,
                        U32(r.MinPollSeconds ?? 0, "MinPollSeconds"), U32(r.MaxPollSeconds ?? 0, "MaxPollSeconds"), out err), err);
            }
        }

        internal delegate uint KeySetter(IntPtr builder, byte[] key, UIntPtr keyLen, byte[] kid, UIntPtr kidLen, out IntPtr err);

        /// One decryption key (validator or protocol client builder): the key text and its kid as given.
        internal static void AddDecryptionKey(IntPtr b, DecryptionKey k, KeySetter setter)
        {
            if (k == null) throw new ArgumentException("DecryptionKeys holds a null entry", "options");
            byte[] key = Utf8.StrictBytes(k.Key), kid = string.IsNullOrEmpty(k.KeyId) ? Utf8.Empty : Utf8.StrictBytes(k.KeyId);
            IntPtr err;
            try
            {
                OidcException.Check(setter(b, key, (UIntPtr)key.Length, kid, (UIntPtr)kid.Length, out err), err);
            }
            finally
            {
                Array.Clear(key, 0, key.Length); // our copy of the secret
            }
        }

        internal delegate uint StringSetter(IntPtr builder, byte[] s, UIntPtr len, out IntPtr err);

        internal static void Set(IntPtr b, string value, StringSetter setter)
        {
            byte[] v = Utf8.StrictBytes(value);
            IntPtr err;
            OidcException.Check(setter(b, v, (UIntPtr)v.Length, out err), err);
        }

        internal static uint U32(int v, string name)
        {
            if (v < 0) throw new ArgumentOutOfRangeException(name, "must not be negative");
            return (uint)v;
        }

        /// Validate a bearer token (the compact JWS, without "Bearer ") and return its claims.
        /// Throws a <see cref="TokenValidationException"/> subclass for a bad token (answer 401
        /// with <see cref="OidcException.WwwAuthenticate"/>), a <see cref="NetworkException"/> or
        /// <see cref="DiscoveryException"/> when keys could not be obtained (HttpStatus 503).
        /// Blocks only when keys are not cached yet.
        public Claims Validate(string token)
        {
            return Call(token, false, 0);
        }

        /// Like <see cref="Validate"/>, but checks exp/nbf/iat as of <paramref name="now"/>
        /// (reproducible tests, replaying recorded traffic).
        public Claims ValidateAt(string token, DateTimeOffset now)
        {
            return Call(token, true, now.ToUnixTimeSeconds());
        }

        private Claims Call(string token, bool at, long nowUnix)
        {
            if (token == null) throw new ArgumentNullException("token");
            ClientHandle h = Handle;
            int n;
            byte[] buf = Utf8.RentEncoded(token, out n);
            try
            {
                IntPtr claims, err;
                UIntPtr len;
                uint rc = at
                    ? Native.oidc_validate_at(h, buf, (UIntPtr)n, nowUnix, out claims, out len, out err)
                    : Native.oidc_validate(h, buf, (UIntPtr)n, out claims, out len, out err);
                if (rc != 0) throw OidcException.FromNative(rc, err);
                return new Claims(Utf8.TakeOwned(claims, len, buf));
            }
            finally
            {
                Utf8.Return(buf);
            }
        }

        /// <see cref="Validate"/> without blocking the caller: queued on liboidc's worker pool
        /// (oidc_validate_async); the task completes from a liboidc thread and its continuations
        /// run on the .NET thread pool (see AsyncBridge.cs). Failures fault the task with the same
        /// exceptions as <see cref="Validate"/>. Cancelling <paramref name="cancellationToken"/>
        /// completes the task as Canceled at once (a key fetch it waited on goes on and still
        /// fills the cache). Disposing the client while calls are in flight is safe: each still
        /// completes.
        public Task<Claims> ValidateAsync(string token, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (token == null) throw new ArgumentNullException("token");
            CheckNotDisposed();
            return AsyncBridge.Validate(this, token, false, 0, 0, cancellationToken);
        }

        /// <see cref="ValidateAsync(string, CancellationToken)"/> with a deadline: a call not
        /// complete after <paramref name="timeout"/> faults with <see cref="DeadlineExceededException"/>.
        /// <paramref name="timeout"/> must be positive, or Timeout.InfiniteTimeSpan for none.
        public Task<Claims> ValidateAsync(string token, TimeSpan timeout, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (token == null) throw new ArgumentNullException("token");
            uint ms = AsyncBridge.TimeoutMs(timeout);
            CheckNotDisposed();
            return AsyncBridge.Validate(this, token, false, 0, ms, cancellationToken);
        }

        /// <see cref="ValidateAt"/> without blocking the caller (as <see cref="ValidateAsync(string, CancellationToken)"/>).
        public Task<Claims> ValidateAtAsync(string token, DateTimeOffset now, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (token == null) throw new ArgumentNullException("token");
            CheckNotDisposed();
            return AsyncBridge.Validate(this, token, true, now.ToUnixTimeSeconds(), 0, cancellationToken);
        }

        /// Fetch discovery and the key set now (warm start), so the first request does not wait.
        public void Prefetch()
        {
            IntPtr err;
            OidcException.Check(Native.oidc_validator_prefetch(Handle, out err), err);
        }

        /// <see cref="Prefetch"/> without blocking the caller (oidc_validator_prefetch_async);
        /// cancellable like <see cref="ValidateAsync(string, CancellationToken)"/>.
        public Task PrefetchAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            CheckNotDisposed();
            return AsyncBridge.Prefetch(this, cancellationToken);
        }

        /// Drop the cached keys of <paramref name="issuer"/> (null: every issuer of this client)
        /// at once, and their verified tokens (oidc_validator_drop_keys): the next validation
        /// fetches the keys again (operators, after a key compromise). An issuer this client does
        /// not serve: <see cref="InvalidArgumentException"/>; a static-key client: nothing to
        /// drop. No network of its own; waits for a key fetch in flight (bounded by the timeouts).
        public void DropKeys(string issuer = null)
        {
            byte[] i = issuer == null ? null : Utf8.StrictBytes(issuer);
            IntPtr err;
            OidcException.Check(NativeJose.oidc_validator_drop_keys(Handle, i, (UIntPtr)(i == null ? 0 : i.Length), out err), err);
        }

        /// A JSON snapshot of this client's cached key set and its issuer's metadata (public data
        /// only) for <see cref="Library.ImportKeyCache"/> in a fresh process; see
        /// <see cref="Library.ExportKeyCache"/> for the whole process's.
        public string ExportKeyCache()
        {
            IntPtr json, err;
            UIntPtr len;
            OidcException.Check(NativeProcess.oidc_cache_export_json(Handle, out json, out len, out err), err);
            return Utf8.TakeOwned(json, len);
        }

        internal ClientHandle Handle
        {
            get { CheckNotDisposed(); return handle; }
        }

        // Our own flag, not handle.IsClosed: a SafeHandle becomes "closed" only when its last
        // in-flight call returns, so under a steady stream of overlapping calls IsClosed would
        // stay false and new calls would keep entering after Dispose.
        private int disposed;

        private void CheckNotDisposed()
        {
            if (Volatile.Read(ref disposed) != 0) throw new ObjectDisposedException("OidcClient");
        }

        /// Free the native client (after calls still running on other threads return). Idempotent.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) handle.Dispose();
        }

        /// The issuer and audiences.
        public override string ToString()
        {
            return "OidcClient(" + issuer + (Volatile.Read(ref disposed) != 0 ? ", disposed)" : ")");
        }
    }
}
