// The one place where the binding turns liboidc calls into Tasks.
//
// Every Task method whose call may touch the network runs on liboidc's non-blocking API
// (oidc_validate_async, oidc_validator_prefetch_async, oidc_authenticate_async,
// oidc_oauth_send_async for every protocol operation): the call is queued on
// liboidc's worker pool and a completion callback, exactly once on a liboidc thread (never inside
// the initiating call), completes a TaskCompletionSource created with
// RunContinuationsAsynchronously, so no caller's continuation ever runs on a liboidc thread.
// Shape (STYLE.md, "Binding shapes", C#):
// * one static, rooted delegate per callback type (never a per-call lambda the GC could collect);
// * a GCHandle to a per-call state object is the user_data; the callback frees it;
// * the callback copies the borrowed output/error (the error is read, never freed) and never
//   lets an exception escape into native code;
// * a cancellable CancellationToken (or a timeout) gets its own oidc_cancel per call, registered
//   token -> oidc_cancel_trigger; the registration is disposed and the handle freed when the call
//   completes (before the task does). CANCELLED for the caller's token becomes a Canceled task.
// * Lifetime: the client's SafeHandle is AddRef'd by the marshaller only for the initiating call.
//   That suffices: per oidc.h, freeing a client is safe with *_async calls in flight (each holds
//   its own reference to the client's internals) and their callbacks still run exactly once, so
//   disposing a client while calls are in flight completes every task.
// * Input strings are copied by liboidc before the initiating call returns.
// * Process exit: see EnsureExitHook.
//
// The device and CIBA polls (oidc_oauth_send_async of a DEVICE_POLL / CIBA_POLL request) wait
// between polls on liboidc's timer, not on a worker or a .NET thread: no Task method of the
// binding holds a thread while it waits for the network.
//
// oidc_oauth_send_async hands the response over (OWNED) to the callback: ResponseDone wraps it
// in an OAuthResponseHandle before anything else, so it is freed by whoever reads it (the typed
// methods free it at once) or, if nobody disposes it, by the SafeHandle's finaliser.
using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    internal static class AsyncBridge
    {
        // ---- test observability ----------------------------------------------------------------
        private static long liveCancelHandles, callbacksOnCallerThread, callbacksRun;
        /// oidc_cancel handles created by async calls and not yet freed.
        internal static long LiveCancelHandles { get { return Interlocked.Read(ref liveCancelHandles); } }
        /// Completion callbacks that ran on the thread that started the call (must stay 0).
        internal static long CallbacksOnCallerThread { get { return Interlocked.Read(ref callbacksOnCallerThread); } }
        /// Completion callbacks run so far.
        internal static long CallbacksRun { get { return Interlocked.Read(ref callbacksRun); } }

        /// Per-call state, pinned by a GCHandle until the callback (or a rejected start) frees it.
        private abstract class Pending
        {
            internal readonly CancellationToken Token;
            internal readonly int CallerThread = Thread.CurrentThread.ManagedThreadId;
            internal CancelHandle Cancel;
            internal CancellationTokenRegistration Registration;

            protected Pending(CancellationToken token) { Token = token; }

            /// Create the oidc_cancel (when the token can be cancelled or a timeout is set) and
            /// register the token; done before the native call, so a cancellation racing the start
            /// still reaches the call (a cancelled handle cancels calls attached later).
            internal void Attach(uint timeoutMs)
            {
                if (!Token.CanBeCanceled && timeoutMs == 0) return;
                CancelHandle c;
                IntPtr err;
                uint rc = Native.oidc_cancel_new(timeoutMs, out c, out err);
                if (rc != 0)
                {
                    if (c != null) c.SetHandleAsInvalid();
                    throw OidcException.FromNative(rc, err);
                }
                Cancel = c;
                Interlocked.Increment(ref liveCancelHandles);
                if (Token.CanBeCanceled) Registration = Token.Register(OnTokenCancelled, this);
            }

            /// Dispose the registration (waits for a running OnTokenCancelled, which never blocks),
            /// then free the handle, so the token callback never touches a freed handle.
            internal void Release()
            {
                try { Registration.Dispose(); }
                finally
                {
                    if (Cancel != null)
                    {
                        Cancel.Dispose();
                        Cancel = null;
                        Interlocked.Decrement(ref liveCancelHandles);
                    }
                }
            }

            /// The task's outcome for a failed call (the error is borrowed: read, not freed).
            internal Exception Failure(uint rc, IntPtr err)
            {
                return OidcException.FromNative(rc, err, false);
            }

            internal bool CancelledByToken(uint rc)
            {
                return rc == (uint)OidcResult.Cancelled && Token.IsCancellationRequested;
            }

            internal abstract void Complete(uint rc, Output output, IntPtr err);
        }

        private static readonly Action<object> OnTokenCancelled = s =>
        {
            var p = (Pending)s;
            var c = p.Cancel;
            if (c != null) Native.oidc_cancel_trigger(c);
        };

        /// A call whose task completes with a T read from the callback's borrowed output.
        private sealed class Pending<T> : Pending
        {
            internal readonly TaskCompletionSource<T> Tcs =
                new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            private readonly Func<Output, T> read;

            internal Pending(CancellationToken t, Func<Output, T> read) : base(t) { this.read = read; }

            /// Copy the outcome (the output and the error are borrowed for the callback only),
            /// release the cancel handle, then complete the task: Canceled when the caller's token
            /// asked for it, faulted with the blocking call's exception, or with the value.
            internal override void Complete(uint rc, Output output, IntPtr err)
            {
                T value = default(T);
                Exception failure = null;
                try
                {
                    if (rc == 0) value = read(output);
                    else
                    {
                        if (output.Response != null) output.Response.Dispose(); // never on a failure, per oidc.h
                        if (!CancelledByToken(rc)) failure = Failure(rc, err);
                    }
                }
                catch (Exception e) { failure = e; }
                try { Release(); } catch (Exception e) { if (failure == null) failure = e; }
                if (CancelledByToken(rc)) Tcs.TrySetCanceled(Token);
                else if (failure != null) Tcs.TrySetException(failure);
                else Tcs.TrySetResult(value);
            }
        }

        // Static and readonly: the delegates (and the native thunks Mono/.NET make for them) stay
        // rooted for the life of the process.
        private static readonly Native.ValidateCb OnString = StringDone;
        private static readonly Native.DoneCb OnDone = Done;
        private static readonly Native.ResponseCb OnResponse = ResponseDone;
        private static readonly Native.DecisionCb OnDecision = DecisionDone;

        // A liboidc pool thread is attached to the runtime by the first callback it runs, and
        // Mono cannot finish exiting while such a foreign thread lives (its shutdown keeps
        // signalling it, forever). So before the first native call the binding hooks
        // ProcessExit to stop liboidc's pool (oidc_async_shutdown), which joins those threads.
        private static int exitHookInstalled;

        /// How long the exit hook waits for running calls (a key fetch in flight ends within the
        /// client's HTTP timeouts; queued calls are answered Canceled at once).
        internal static readonly TimeSpan ExitShutdownTimeout = TimeSpan.FromSeconds(10);

        internal static void EnsureExitHook()
        {
            if (Interlocked.CompareExchange(ref exitHookInstalled, 1, 0) != 0) return;
            AppDomain.CurrentDomain.ProcessExit += (sender, e) =>
            {
                try { Library.ShutdownWorkers(ExitShutdownTimeout); }
                catch (Exception) { } // never throw from an exit handler
            };
        }

        private static Pending Take(IntPtr userData)
        {
            GCHandle gch = GCHandle.FromIntPtr(userData);
            var p = (Pending)gch.Target;
            gch.Free();
            Interlocked.Increment(ref callbacksRun);
            if (p.CallerThread == Thread.CurrentThread.ManagedThreadId) Interlocked.Increment(ref callbacksOnCallerThread);
            return p;
        }

        // The callbacks: never let anything unwind into native code.
        private static void StringDone(IntPtr userData, uint rc, IntPtr json, UIntPtr len, IntPtr err)
        {
            try { Take(userData).Complete(rc, new Output { Value = json, Length = len }, err); } catch { }
        }

        /// oidc_oauth_response_cb: the response is owned from here on; wrapped first.
        private static void ResponseDone(IntPtr userData, uint rc, IntPtr response, IntPtr err)
        {
            OAuthResponseHandle h = null;
            try
            {
                if (response != IntPtr.Zero) h = new OAuthResponseHandle(response);
                Take(userData).Complete(rc, new Output { Response = h }, err);
            }
            catch
            {
                // Complete never throws; if Take did, nobody will read the response.
                try { if (h != null) h.Dispose(); } catch { }
            }
        }

        private static void DecisionDone(IntPtr userData, uint rc, IntPtr decision, IntPtr err)
        {
            try { Take(userData).Complete(rc, new Output { Value = decision }, err); } catch { }
        }

        private static void Done(IntPtr userData, uint rc, IntPtr err)
        {
            try { Take(userData).Complete(rc, default(Output), err); } catch { }
        }

        /// A callback's output: a borrowed pointer and length (string, decision), or an owned
        /// protocol response.
        internal struct Output
        {
            internal IntPtr Value;
            internal UIntPtr Length;
            internal OAuthResponseHandle Response;

            /// The borrowed UTF-8 string.
            internal string Text { get { return Utf8.Read(Value, checked((int)Length.ToUInt64())); } }
        }

        // Readers of the borrowed outputs.
        internal static readonly Func<Output, Claims> ReadClaims = o => new Claims(o.Text);
        internal static readonly Func<Output, string> ReadString = o => o.Text;
        internal static readonly Func<Output, bool> ReadNothing = o => true;
        /// The borrowed oidc_decision, copied (never freed: the callback lends it).
        internal static readonly Func<Output, Decision> ReadDecision = o => Decision.Read(o.Value);

        /// Starts one native non-blocking call: `userData` and `cancel` are to be passed on.
        internal delegate uint Starter(IntPtr userData, IntPtr cancel, out IntPtr err);
        internal delegate uint StringStarter(Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);
        internal delegate uint DoneStarter(Native.DoneCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);
        internal delegate uint DecisionStarter(Native.DecisionCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        /// A call with a JSON/string result (oidc_string_cb, the shape of oidc_validate_cb).
        internal static Task<T> Json<T>(StringStarter start, Func<Output, T> read, CancellationToken ct)
        {
            return Json(start, read, 0, ct);
        }

        internal static Task<T> Json<T>(StringStarter start, Func<Output, T> read, uint timeoutMs, CancellationToken ct)
        {
            return Start((IntPtr ud, IntPtr c, out IntPtr e) => start(OnString, ud, c, out e), read, timeoutMs, ct);
        }

        /// oidc_oauth_send_async (oidc_oauth_response_cb): `read` gets the owned response and
        /// must dispose it unless it hands it on (OAuthRequest.SendAsync returns it to the caller).
        internal static Task<T> Send<T>(OAuthRequestHandle request, Func<OAuthResponse, T> read, CancellationToken ct)
        {
            return Start((IntPtr ud, IntPtr c, out IntPtr e) => Native.oidc_oauth_send_async(request, c, OnResponse, ud, out e),
                o => read(new OAuthResponse(o.Response)), 0, ct);
        }

        /// oidc_authenticate_async (oidc_decision_cb): the task gets a copy of the borrowed decision.
        internal static Task<Decision> Authenticate(DecisionStarter start, CancellationToken ct)
        {
            return Start((IntPtr ud, IntPtr c, out IntPtr e) => start(OnDecision, ud, c, out e), ReadDecision, 0, ct);
        }

        /// A call without output (oidc_done_cb).
        internal static Task Done(DoneStarter start, CancellationToken ct)
        {
            return Start((IntPtr ud, IntPtr c, out IntPtr e) => start(OnDone, ud, c, out e), ReadNothing, 0, ct);
        }

        /// The one place a native non-blocking call starts: a cancel handle when needed, a
        /// GCHandle to the pending call as user_data; if the call is refused, the callback will
        /// never run, so everything is undone here and the task faults with the refusal.
        private static Task<T> Start<T>(Starter start, Func<Output, T> read, uint timeoutMs, CancellationToken ct)
        {
            if (ct.IsCancellationRequested) return Task.FromCanceled<T>(ct);
            EnsureExitHook();
            var p = new Pending<T>(ct, read);
            GCHandle gch = default(GCHandle);
            bool accepted = false;
            try
            {
                p.Attach(timeoutMs);
                gch = GCHandle.Alloc(p);
                IntPtr err;
                // The native call borrows the cancel handle until it returns, but the callback
                // may run on a worker (and Release dispose the handle) before it returns: liboidc
                // still reads the handle after queueing the call. The reference taken here keeps
                // oidc_cancel_free until the call has returned (a Dispose meanwhile only marks it).
                CancelHandle cancel = p.Cancel;
                bool held = false;
                uint rc;
                try
                {
                    if (cancel != null) cancel.DangerousAddRef(ref held);
                    rc = start(GCHandle.ToIntPtr(gch), cancel == null ? IntPtr.Zero : cancel.DangerousGetHandle(), out err);
                }
                finally
                {
                    if (held) cancel.DangerousRelease();
                }
                if (rc != 0) return Task.FromException<T>(OidcException.FromNative(rc, err));
                accepted = true;
                return p.Tcs.Task;
            }
            finally
            {
                if (!accepted)
                {
                    if (gch.IsAllocated) gch.Free();
                    p.Release();
                }
            }
        }

        /// A TimeSpan as oidc_cancel_new's timeout_ms (uint32_t; 0 = none).
        internal static uint TimeoutMs(TimeSpan timeout)
        {
            if (timeout == Timeout.InfiniteTimeSpan) return 0;
            if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout", "must be positive (or Timeout.InfiniteTimeSpan)");
            double ms = Math.Ceiling(timeout.TotalMilliseconds);
            if (ms > uint.MaxValue) throw new ArgumentOutOfRangeException("timeout", "at most uint.MaxValue ms (or Timeout.InfiniteTimeSpan)");
            return (uint)ms;
        }

        /// oidc_validate_async / oidc_validate_at_async. `timeoutMs` 0: no deadline. The token is
        /// copied by liboidc before the initiating call returns, so the per-thread buffer is safe.
        internal static Task<Claims> Validate(OidcClient client, string token, bool at, long nowUnix, uint timeoutMs,
            CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<Claims>(cancellationToken);
            ClientHandle h = client.Handle;
            int n;
            byte[] buf = Utf8.RentEncoded(token, out n);
            try
            {
                return Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) => at
                        ? Native.oidc_validate_at_async(h, buf, (UIntPtr)n, nowUnix, cb, ud, c, out e)
                        : Native.oidc_validate_async(h, buf, (UIntPtr)n, cb, ud, c, out e),
                    ReadClaims, timeoutMs, cancellationToken);
            }
            finally { Utf8.Return(buf); }
        }

        /// oidc_validator_prefetch_async.
        internal static Task Prefetch(OidcClient client, CancellationToken cancellationToken)
        {
            ClientHandle h = client.Handle;
            return Done((Native.DoneCb cb, IntPtr ud, IntPtr c, out IntPtr e) => Native.oidc_validator_prefetch_async(h, cb, ud, c, out e),
                cancellationToken);
        }
    }
}
