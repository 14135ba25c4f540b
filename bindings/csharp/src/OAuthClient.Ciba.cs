// Client-initiated backchannel authentication (OpenID Connect CIBA, poll mode).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// A pending CIBA request. Its `auth_req_id` (a secret) stays in native memory except for
    /// <see cref="AuthReqId"/>, which <see cref="ToString"/> never prints. Dispose it when done.
    public sealed class CibaRequest : IDisposable
    {
        private readonly CibaRequestHandle handle;
        private int disposed;

        internal CibaRequest(CibaRequestHandle h)
        {
            handle = h;
            AuthReqId = Utf8.ReadNulTerminated(NativeGrants.oidc_ciba_request_auth_req_id(h));
            ExpiresIn = TimeSpan.FromSeconds(Math.Max(0, NativeGrants.oidc_ciba_request_expires_in(h)));
            ExpiresAt = DateTimeOffset.UtcNow + ExpiresIn;
            Interval = TimeSpan.FromSeconds(NativeGrants.oidc_ciba_request_interval(h));
        }

        /// The request's `auth_req_id` (a secret: never log it).
        public string AuthReqId { get; private set; }
        /// How long the request lives.
        public TimeSpan ExpiresIn { get; private set; }
        /// Receipt time plus ExpiresIn.
        public DateTimeOffset ExpiresAt { get; private set; }
        /// The polling interval (5 s when the server sent none).
        public TimeSpan Interval { get; private set; }

        internal CibaRequestHandle Handle
        {
            get
            {
                if (Volatile.Read(ref disposed) != 0) throw new ObjectDisposedException("CibaRequest");
                return handle;
            }
        }

        /// Free the native request (after polls running on other threads return). Idempotent.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) handle.Dispose();
        }

        public override string ToString()
        {
            return "CibaRequest(AuthReqId=<redacted>, ExpiresIn=" + (long)ExpiresIn.TotalSeconds + "s, Interval=" +
                (long)Interval.TotalSeconds + "s)";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Start a CIBA request at the issuer's backchannel_authentication_endpoint.
        /// <param name="parameters">the request's parameters, e.g. scope, login_hint,
        /// binding_message (values: strings, numbers, booleans, or string arrays for repeated ones)</param>
        public CibaRequest CibaRequest(IDictionary<string, object> parameters)
        {
            if (parameters == null) throw new ArgumentNullException("parameters");
            byte[] p = Utf8.StrictBytes(Json.Write(parameters));
            CibaRequestHandle h;
            IntPtr err;
            uint rc = NativeGrants.oidc_oauth_ciba_request(Handle, p, (UIntPtr)p.Length, out h, out err);
            if (rc != 0)
            {
                if (h != null) h.SetHandleAsInvalid();
                throw OidcException.FromNative(rc, err);
            }
            return new CibaRequest(h);
        }

        /// <see cref="CibaRequest(IDictionary{string, object})"/> without blocking the caller (liboidc's worker pool).
        public Task<CibaRequest> CibaRequestAsync(IDictionary<string, object> parameters,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (parameters == null) throw new ArgumentNullException("parameters");
            byte[] p = Utf8.StrictBytes(Json.Write(parameters));
            OAuthClientHandle h = Handle;
            return AsyncBridge.Pointer((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) =>
                    NativeAsync.oidc_oauth_ciba_request_async(h, p, (UIntPtr)p.Length, cb, ud, c, out e),
                o => new CibaRequest(new CibaRequestHandle(o.Value)), cancellationToken);
        }

        /// Poll for the tokens of <paramref name="request"/>; same rules, timeout and
        /// cancellation as <see cref="PollDevice"/>.
        public TokenResponse PollCiba(CibaRequest request, TimeSpan timeout, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (request == null) throw new ArgumentNullException("request");
            var client = Handle;
            var req = request.Handle;
            return Poll(timeout, cancellationToken, (CancelHandle cancel, uint ms, out IntPtr resp, out IntPtr err) =>
                NativeGrants.oidc_oauth_ciba_poll(client, req, ms, cancel, out resp, out err));
        }

        /// <see cref="PollCiba"/> without blocking any thread (as <see cref="PollDeviceAsync"/>).
        public Task<TokenResponse> PollCibaAsync(CibaRequest request, TimeSpan timeout, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (request == null) throw new ArgumentNullException("request");
            uint ms = TimeoutMs(timeout);
            OAuthClientHandle h = Handle;
            CibaRequestHandle req = request.Handle;
            return AsyncBridge.Token((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) =>
                NativeAsync.oidc_oauth_ciba_poll_async(h, req, ms, cb, ud, c, out e), cancellationToken);
        }
    }
}
