// A managed IDpopReplayStore behind oidc_validator_builder_set_dpop_replay_store, and a managed
// ILogoutReplayStore behind oidc_oauth_builder_set_replay_store (the same callback contract; one
// static delegate per interface, so an object implementing both answers each through its own).
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
        private static readonly Native.ReplayStoreCb OnCheckLogout = CheckLogout;
        private static readonly Dictionary<object, IntPtr> Pinned = new Dictionary<object, IntPtr>(ReferenceComparer.Instance);

        // ---- test observability ----------------------------------------------------------------
        private static long failures;
        /// Store calls that threw (answered "unavailable").
        internal static long Failures { get { return Interlocked.Read(ref failures); } }

        private static IntPtr Pin(object store)
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
            return ud;
        }

        internal static void Set(IntPtr builder, IDpopReplayStore store)
        {
            IntPtr ud = Pin(store), err;
            OidcException.Check(Native.oidc_validator_builder_set_dpop_replay_store(builder, OnCheck, ud, out err), err);
        }

        /// The logout-token replay store of a protocol client.
        internal static void SetLogout(IntPtr builder, ILogoutReplayStore store)
        {
            IntPtr ud = Pin(store), err;
            OidcException.Check(NativeJose.oidc_oauth_builder_set_replay_store(builder, OnCheckLogout, ud, out err), err);
        }

        private static int Check(IntPtr userData, IntPtr key, UIntPtr keyLen, ulong ttlSecs)
        {
            try
            {
                var store = (IDpopReplayStore)GCHandle.FromIntPtr(userData).Target;
                return store.TryRecord(Key(key, keyLen), Ttl(ttlSecs)) ? 1 : 0;
            }
            catch
            {
                try { Interlocked.Increment(ref failures); } catch { }
                return -1;
            }
        }

        private static int CheckLogout(IntPtr userData, IntPtr key, UIntPtr keyLen, ulong ttlSecs)
        {
            try
            {
                var store = (ILogoutReplayStore)GCHandle.FromIntPtr(userData).Target;
                return store.TryRecord(Key(key, keyLen), Ttl(ttlSecs)) ? 1 : 0;
            }
            catch
            {
                try { Interlocked.Increment(ref failures); } catch { }
                return -1;
            }
        }

        private static string Key(IntPtr key, UIntPtr keyLen)
        {
            return Utf8.Read(key, checked((int)keyLen.ToUInt64()));
        }

        private static TimeSpan Ttl(ulong ttlSecs)
        {
            return TimeSpan.FromSeconds(Math.Min(ttlSecs, (ulong)int.MaxValue));
        }

        private sealed class ReferenceComparer : IEqualityComparer<object>
        {
            internal static readonly ReferenceComparer Instance = new ReferenceComparer();
            public new bool Equals(object a, object b) { return ReferenceEquals(a, b); }
            public int GetHashCode(object o) { return System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(o); }
        }
    }
}
