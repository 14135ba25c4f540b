// SafeHandles for the native objects that outlive one call (libgit2sharp Core/Handles style).
//
// Passing a SafeHandle to a DllImport makes the marshaller AddRef it for the duration of the call:
// Dispose() during a running Validate only drops the owner's reference, and ReleaseHandle
// (oidc_validator_free) runs when the last running call returns. That is exactly the C contract
// ("oidc_validator_free only when no other call on it is running"). The clients keep their own
// disposed flag so that a call started after Dispose throws ObjectDisposedException at once.
using System;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace Oidc
{
    internal sealed class ClientHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private static long released;

        /// Number of native clients freed so far (tests observe the finaliser through this).
        internal static long ReleasedCount { get { return Interlocked.Read(ref released); } }

        private ClientHandle() : base(true) { }

        protected override bool ReleaseHandle()
        {
            Native.oidc_validator_free(handle);
            Interlocked.Increment(ref released);
            return true;
        }
    }

    internal sealed class OAuthClientHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private static long released;

        internal static long ReleasedCount { get { return Interlocked.Read(ref released); } }

        private OAuthClientHandle() : base(true) { }

        protected override bool ReleaseHandle()
        {
            Native.oidc_oauth_client_free(handle);
            Interlocked.Increment(ref released);
            return true;
        }
    }
}

namespace Oidc
{
    /// An oidc_pkce (read once, then freed).
    internal sealed class PkceHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private PkceHandle() : base(true) { }
        protected override bool ReleaseHandle() { NativeGrants.oidc_pkce_free(handle); return true; }
    }

    /// An oidc_device_authorization: owned by a <see cref="DeviceAuthorization"/>; polls AddRef it.
    internal sealed class DeviceAuthorizationHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private DeviceAuthorizationHandle() : base(true) { }
        /// Take ownership of a handle handed over by a completion callback.
        internal DeviceAuthorizationHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { NativeGrants.oidc_device_authorization_free(handle); return true; }
    }

    /// An oidc_ciba_request: owned by a <see cref="CibaRequest"/>; polls AddRef it.
    internal sealed class CibaRequestHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private CibaRequestHandle() : base(true) { }
        /// Take ownership of a handle handed over by a completion callback.
        internal CibaRequestHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { NativeGrants.oidc_ciba_request_free(handle); return true; }
    }

    /// An oidc_cancel, one per cancellable poll or non-blocking call (OAuthClient.Polling.cs,
    /// AsyncBridge.cs).
    internal sealed class CancelHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private static long released;
        /// Number of cancel handles freed so far (tests check that polls free theirs).
        internal static long ReleasedCount { get { return Interlocked.Read(ref released); } }
        private CancelHandle() : base(true) { }
        protected override bool ReleaseHandle()
        {
            NativeGrants.oidc_cancel_free(handle);
            Interlocked.Increment(ref released);
            return true;
        }
    }

    /// An oidc_http_request (OidcClient.Authenticate keeps one per thread and resets it per call).
    internal sealed class HttpRequestHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private HttpRequestHandle() : base(true) { }
        protected override bool ReleaseHandle() { Native.oidc_http_request_free(handle); return true; }
    }

    /// An oidc_decision from oidc_authenticate (read into a <see cref="Decision"/>, then freed).
    internal sealed class DecisionHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private DecisionHandle() : base(true) { }
        protected override bool ReleaseHandle() { Native.oidc_decision_free(handle); return true; }
    }
}
