// liboidc's process-wide log callback (oidc_set_log_callback) as a managed sink.
//
// * One static, rooted delegate (OnNativeLog) is ever handed to liboidc, so no native thread can
//   call into a collected thunk; user_data is unused (NULL).
// * The managed sink is a static field swapped atomically (Volatile.Write); the callback reads it
//   once per message. Installing or removing is serialised by a lock, the delivery path takes none.
// * Level filtering is liboidc's (max_level): messages above it are not even formatted.
// * The callback runs on liboidc pool threads and on host threads inside liboidc calls,
//   concurrently: it copies the borrowed strings and never lets an exception unwind into native code.
// * A liboidc pool thread that ran managed code keeps Mono from exiting, so installing a logger
//   also installs the exit hook that stops liboidc's pool (AsyncBridge.EnsureExitHook).
using System;
using System.Threading;

namespace Oidc
{
    /// Severity of a liboidc log message (oidc_log_cb's `level`); smaller is more severe.
    public enum OidcLogLevel
    {
        /// Failures (a key fetch failed, a refresh failed).
        Error = 1,
        /// Degraded service (stale keys served, pool overload).
        Warn = 2,
        /// Fetches, rotations, snapshots.
        Info = 3,
        /// Cache decisions (cooldowns, revalidations).
        Debug = 4,
        /// Every step.
        Trace = 5,
    }

    internal static class LogBridge
    {
        private static readonly NativeProcess.LogCb OnNativeLog = Deliver;
        private static readonly object Gate = new object();
        private static Action<OidcLogLevel, string, string> sink;

        [ThreadStatic] private static bool inSink;

        // ---- test observability ----------------------------------------------------------------
        private static long sinkExceptions;
        /// Exceptions thrown by the managed logger and swallowed at the native boundary.
        internal static long SinkExceptions { get { return Interlocked.Read(ref sinkExceptions); } }

        internal static void Set(Action<OidcLogLevel, string, string> logger, OidcLogLevel maxLevel)
        {
            // oidc.h: the callback "must not call back into liboidc's logging setup".
            if (inSink) throw new InvalidOperationException("Library.SetLogger must not be called from inside the logger");
            lock (Gate)
            {
                IntPtr err;
                if (logger == null)
                {
                    Volatile.Write(ref sink, null);
                    OidcException.Check(NativeProcess.oidc_set_log_callback(null, IntPtr.Zero, 0, out err), err);
                    return;
                }
                AsyncBridge.EnsureExitHook();
                // liboidc checks the level first and changes nothing when it refuses it.
                Action<OidcLogLevel, string, string> previous = Volatile.Read(ref sink);
                Volatile.Write(ref sink, logger);
                uint rc = NativeProcess.oidc_set_log_callback(OnNativeLog, IntPtr.Zero, (uint)maxLevel, out err);
                if (rc != 0)
                {
                    Volatile.Write(ref sink, previous);
                    throw OidcException.FromNative(rc, err);
                }
            }
        }

        private static void Deliver(IntPtr userData, uint level, IntPtr target, UIntPtr targetLen, IntPtr message, UIntPtr messageLen)
        {
            try
            {
                var s = Volatile.Read(ref sink);
                if (s == null || inSink) return; // removed, or a message raised by the logger itself
                string t = Utf8.Read(target, checked((int)targetLen.ToUInt64()));
                string m = Utf8.Read(message, checked((int)messageLen.ToUInt64()));
                inSink = true;
                try { s((OidcLogLevel)level, t, m); }
                finally { inSink = false; }
            }
            catch
            {
                // Never unwind into native code.
                try { Interlocked.Increment(ref sinkExceptions); } catch { }
            }
        }
    }
}
