// SafeHandles for the native objects that outlive one call (libgit2sharp Core/Handles style).
//
// Passing a SafeHandle to a DllImport makes the marshaller AddRef it for the duration of the call:
// Dispose() during a running Validate only drops the owner's reference, and ReleaseHandle
// (oidc_client_free) runs when the last running call returns. That is exactly the C contract
// ("oidc_client_free only when no other call on it is running"). The clients keep their own
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
            Native.oidc_client_free(handle);
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
