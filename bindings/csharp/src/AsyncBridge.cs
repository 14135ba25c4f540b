// The one place where the binding turns blocking liboidc calls into Tasks.
//
// Today: Task.Run on the thread pool around the synchronous call. With warm keys a validation
// takes microseconds and never blocks, so this costs a pool hop; on a cold cache the pool thread
// waits for the network (bounded by the client's timeouts).
//
// When liboidc gains `oidc_validate_async(client, token, len, cb, user_data)` (callback exactly
// once, on a liboidc worker thread, never synchronously), only Validate/ValidateAt below change: a
// TaskCompletionSource with RunContinuationsAsynchronously, a GCHandle to it as user_data, and
// one static, rooted callback delegate that reads the claims/error and completes the task
// (STYLE.md, "Binding shapes", C#). OidcClient.ValidateAsync and its callers stay as they are.
using System;
using System.Threading.Tasks;

namespace Oidc
{
    internal static class AsyncBridge
    {
        internal static Task<Claims> Validate(OidcClient client, string token)
        {
            return Task.Run(() => client.Validate(token));
        }

        internal static Task<Claims> ValidateAt(OidcClient client, string token, DateTimeOffset now)
        {
            return Task.Run(() => client.ValidateAt(token, now));
        }

        internal static Task<T> Run<T>(Func<T> blockingCall)
        {
            return Task.Run(blockingCall);
        }

        /// A cancellable blocking call (the device and CIBA polls): an OperationCanceledException
        /// for `cancellationToken` makes the task Canceled.
        internal static Task<T> Run<T>(Func<T> blockingCall, System.Threading.CancellationToken cancellationToken)
        {
            return Task.Run(blockingCall, cancellationToken);
        }

        internal static Task Run(Action blockingCall)
        {
            return Task.Run(blockingCall);
        }
    }
}
