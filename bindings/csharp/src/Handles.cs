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
    /// An oidc_oauth_request: owned by an <see cref="OAuthRequest"/>; sends AddRef it.
    internal sealed class OAuthRequestHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private OAuthRequestHandle() : base(true) { }
        protected override bool ReleaseHandle() { Native.oidc_oauth_request_free(handle); return true; }
    }

    /// An oidc_oauth_response: owned by an <see cref="OAuthResponse"/> (or read into a typed result
    /// and freed at once). The non-blocking send hands one over in its callback, which wraps it
    /// here before anything else, so a response nobody disposes is still freed by the finaliser.
    internal sealed class OAuthResponseHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private static long created, released;
        /// Responses taken from liboidc so far (tests compare it with ReleasedCount: no leak).
        internal static long CreatedCount { get { return Interlocked.Read(ref created); } }
        /// Responses freed so far.
        internal static long ReleasedCount { get { return Interlocked.Read(ref released); } }

        // The marshaller creates the out-parameter instance before the call (blocking send).
        private OAuthResponseHandle() : base(true) { }

        /// Take ownership of a response handed over by oidc_oauth_response_cb.
        internal OAuthResponseHandle(IntPtr h) : base(true) { SetHandle(h); Interlocked.Increment(ref created); }

        /// Count a response the blocking send returned (the marshaller set the handle).
        internal void Taken() { Interlocked.Increment(ref created); }

        protected override bool ReleaseHandle()
        {
            Native.oidc_oauth_response_free(handle);
            Interlocked.Increment(ref released);
            return true;
        }
    }

    /// An oidc_cancel, one per cancellable send or non-blocking call (OAuthRequest.cs,
    /// AsyncBridge.cs).
    internal sealed class CancelHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private static long released;
        /// Number of cancel handles freed so far (tests check that sends free theirs).
        internal static long ReleasedCount { get { return Interlocked.Read(ref released); } }
        private CancelHandle() : base(true) { }
        protected override bool ReleaseHandle()
        {
            Native.oidc_cancel_free(handle);
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
