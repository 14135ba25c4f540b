// Device authorization grant (RFC 8628).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// A pending device authorization: show the user <see cref="VerificationUri"/> and
    /// <see cref="UserCode"/>, then <see cref="OAuthClient.PollDevice"/>. Holds the device code
    /// (a secret, never exposed or printed) in native memory: dispose it when done (the finaliser
    /// frees it otherwise). Polls running on other threads keep it alive until they return.
    public sealed class DeviceAuthorization : IDisposable
    {
        private readonly DeviceAuthorizationHandle handle;
        private int disposed;

        internal DeviceAuthorization(DeviceAuthorizationHandle h)
        {
            handle = h;
            UserCode = Utf8.ReadNulTerminated(NativeGrants.oidc_device_authorization_user_code(h));
            VerificationUri = Utf8.ReadNulTerminated(NativeGrants.oidc_device_authorization_verification_uri(h));
            VerificationUriComplete = Utf8.ReadNulTerminated(NativeGrants.oidc_device_authorization_verification_uri_complete(h));
            long e = NativeGrants.oidc_device_authorization_expires_in(h);
            ExpiresIn = TimeSpan.FromSeconds(Math.Max(0, e));
            ExpiresAt = DateTimeOffset.UtcNow + ExpiresIn;
            Interval = TimeSpan.FromSeconds(NativeGrants.oidc_device_authorization_interval(h));
        }

        /// The code the user enters at <see cref="VerificationUri"/>.
        public string UserCode { get; private set; }
        /// Where the user goes to enter the code.
        public string VerificationUri { get; private set; }
        /// The verification URI with the code included, or null when the server sent none.
        public string VerificationUriComplete { get; private set; }
        /// How long the codes live.
        public TimeSpan ExpiresIn { get; private set; }
        /// When the codes expire (receipt time plus ExpiresIn).
        public DateTimeOffset ExpiresAt { get; private set; }
        /// The polling interval (5 s when the server sent none).
        public TimeSpan Interval { get; private set; }

        internal DeviceAuthorizationHandle Handle
        {
            get
            {
                if (Volatile.Read(ref disposed) != 0) throw new ObjectDisposedException("DeviceAuthorization");
                return handle;
            }
        }

        /// Free the native authorization (after polls running on other threads return). Idempotent.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) handle.Dispose();
        }

        /// What to show the user; never the device code.
        public override string ToString()
        {
            return "DeviceAuthorization(VerificationUri=" + VerificationUri + ", UserCode=" + UserCode +
                ", ExpiresIn=" + (long)ExpiresIn.TotalSeconds + "s, Interval=" + (long)Interval.TotalSeconds + "s)";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Start a device authorization at the issuer's device_authorization_endpoint.
        /// <param name="scope">space-separated scopes, or null</param>
        public DeviceAuthorization DeviceAuthorization(string scope = null)
        {
            byte[] s = Optional(scope);
            DeviceAuthorizationHandle h;
            IntPtr err;
            uint rc = NativeGrants.oidc_oauth_device_authorization(Handle, s, (UIntPtr)s.Length, out h, out err);
            if (rc != 0)
            {
                if (h != null) h.SetHandleAsInvalid();
                throw OidcException.FromNative(rc, err);
            }
            return new DeviceAuthorization(h);
        }

        /// <see cref="DeviceAuthorization(string)"/> without blocking the caller (liboidc's worker pool).
        public Task<DeviceAuthorization> DeviceAuthorizationAsync(string scope = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] s = Optional(scope);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Pointer((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) =>
                    NativeAsync.oidc_oauth_device_authorization_async(h, s, (UIntPtr)s.Length, cb, ud, c, out e),
                o => new DeviceAuthorization(new DeviceAuthorizationHandle(o.Value)), cancellationToken);
        }

        /// Poll the token endpoint until the user approves <paramref name="authorization"/>: the
        /// first poll at once, then one per interval (`slow_down` adds 5 s). Blocks the calling
        /// thread; see <see cref="PollDeviceAsync"/>.
        /// <param name="timeout">give up after this long (DeadlineExceededException, never waits
        /// past it); Timeout.InfiniteTimeSpan waits until the codes expire</param>
        /// <param name="cancellationToken">cancels the wait between polls at once (a request in
        /// flight finishes first): OperationCanceledException with an inner OidcCancelledException</param>
        /// Throws AccessDeniedException when the user declines, ExpiredTokenException when the
        /// codes expire, InvalidGrantException when the device code was already used.
        public TokenResponse PollDevice(DeviceAuthorization authorization, TimeSpan timeout,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (authorization == null) throw new ArgumentNullException("authorization");
            var client = Handle;
            var da = authorization.Handle;
            return Poll(timeout, cancellationToken, (CancelHandle cancel, uint ms, out IntPtr resp, out IntPtr err) =>
                NativeGrants.oidc_oauth_device_poll(client, da, ms, cancel, out resp, out err));
        }

        /// <see cref="PollDevice"/> without blocking any thread: each poll runs on liboidc's
        /// worker pool and the wait between polls is a timer in liboidc (no thread is held). The
        /// task is Canceled at once when <paramref name="cancellationToken"/> cancels the poll;
        /// <paramref name="authorization"/> may be disposed once this returns.
        public Task<TokenResponse> PollDeviceAsync(DeviceAuthorization authorization, TimeSpan timeout,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (authorization == null) throw new ArgumentNullException("authorization");
            uint ms = TimeoutMs(timeout);
            OAuthClientHandle h = Handle;
            DeviceAuthorizationHandle da = authorization.Handle;
            return AsyncBridge.Token((Native.TokenCb cb, IntPtr ud, IntPtr c, out IntPtr e) =>
                NativeAsync.oidc_oauth_device_poll_async(h, da, ms, cb, ud, c, out e), cancellationToken);
        }
    }
}
