// Shared by the device and CIBA polls: a TimeSpan timeout becomes timeout_ms, and a .NET
// CancellationToken becomes an oidc_cancel (a registered callback calls oidc_cancel_cancel).
//
// Cancellation surfaces as OperationCanceledException (its CancellationToken is the caller's, its
// InnerException the OidcCancelledException with Code 9 / "CANCELLED"), so `await` code and
// Task continuations see a cancelled task, as everywhere else in .NET. A poll that reaches its
// timeout throws DeadlineExceededException (8).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    public sealed partial class OAuthClient
    {
        internal delegate uint PollCall(CancelHandle cancel, uint timeoutMs, out IntPtr response, out IntPtr err);

        internal static uint TimeoutMs(TimeSpan timeout)
        {
            if (timeout == Timeout.InfiniteTimeSpan) return uint.MaxValue;
            if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout", "a poll timeout cannot be negative");
            double ms = Math.Ceiling(timeout.TotalMilliseconds);
            return ms >= uint.MaxValue ? uint.MaxValue : (uint)ms;
        }

        internal static TokenResponse Poll(TimeSpan timeout, CancellationToken cancellationToken, PollCall call)
        {
            uint ms = TimeoutMs(timeout);
            cancellationToken.ThrowIfCancellationRequested();
            CancelHandle cancel;
            IntPtr err;
            uint rc = NativeGrants.oidc_cancel_new(out cancel, out err);
            if (rc != 0)
            {
                if (cancel != null) cancel.SetHandleAsInvalid();
                throw OidcException.FromNative(rc, err);
            }
            using (cancel)
            {
                IntPtr resp;
                // Disposing the registration waits for a callback already running, so the
                // callback never touches a freed handle.
                using (cancellationToken.Register(() => NativeGrants.oidc_cancel_cancel(cancel)))
                {
                    rc = call(cancel, ms, out resp, out err);
                }
                if (rc == (uint)OidcResult.Cancelled && cancellationToken.IsCancellationRequested)
                {
                    var inner = OidcException.FromNative(rc, err);
                    throw new OperationCanceledException("the poll was cancelled", inner, cancellationToken);
                }
                return TakeTokenResponse(rc, resp, err);
            }
        }
    }
}
