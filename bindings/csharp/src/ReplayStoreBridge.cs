// A managed IDpopReplayStore behind oidc_validator_builder_set_dpop_replay_store.
//
// * One static, rooted delegate (OnCheck) is handed to liboidc; user_data is a GCHandle to the
//   store. liboidc may call it as long as any client built with it lives, and asynchronous calls
//   keep the native client alive past OidcClient.Dispose, unobservably: so each distinct store is
//   pinned once, for the life of the process (one GCHandle per store object, not per client).
// * Called on liboidc pool threads and on host threads inside Authenticate, concurrently; never
//   lets an exception unwind into native code: a throwing store answers "unavailable" (-1),
//   which liboidc turns into a 503 denial.
// * Like a logger, a callback on a pool thread attaches it to Mono: the exit hook is installed.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;

namespace Oidc
{
    internal static class ReplayStoreBridge
    {
        private static readonly Native.ReplayStoreCb OnCheck = Check;
        private static readonly Dictionary<IDpopReplayStore, IntPtr> Pinned =
            new Dictionary<IDpopReplayStore, IntPtr>(ReferenceComparer.Instance);

        // ---- test observability ----------------------------------------------------------------
        private static long failures;
        /// Store calls that threw (answered "unavailable").
        internal static long Failures { get { return Interlocked.Read(ref failures); } }

        internal static void Set(IntPtr builder, IDpopReplayStore store)
        {
            IntPtr ud;
            lock (Pinned)
            {
                if (!Pinned.TryGetValue(store, out ud))
                {
                    ud = GCHandle.ToIntPtr(GCHandle.Alloc(store));
                    Pinned.Add(store, ud);
                }
            }
            AsyncBridge.EnsureExitHook();
            IntPtr err;
            OidcException.Check(Native.oidc_validator_builder_set_dpop_replay_store(builder, OnCheck, ud, out err), err);
        }

        private static int Check(IntPtr userData, IntPtr key, UIntPtr keyLen, ulong ttlSecs)
        {
            try
            {
                var store = (IDpopReplayStore)GCHandle.FromIntPtr(userData).Target;
                string k = Utf8.Read(key, checked((int)keyLen.ToUInt64()));
                TimeSpan ttl = TimeSpan.FromSeconds(Math.Min(ttlSecs, (ulong)int.MaxValue));
                return store.TryRecord(k, ttl) ? 1 : 0;
            }
            catch
            {
                try { Interlocked.Increment(ref failures); } catch { }
                return -1;
            }
        }

        private sealed class ReferenceComparer : IEqualityComparer<IDpopReplayStore>
        {
            internal static readonly ReferenceComparer Instance = new ReferenceComparer();
            public bool Equals(IDpopReplayStore a, IDpopReplayStore b) { return ReferenceEquals(a, b); }
            public int GetHashCode(IDpopReplayStore o) { return System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(o); }
        }
    }
}
