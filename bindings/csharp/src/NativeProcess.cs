// P/Invoke declarations for the process-wide half of include/oidc.h (src/ffi/observe.rs,
// src/ffi/warm.rs, oidc_async_configure, oidc_validator_builder_set_prefetch). Translation only;
// the wrappers are in Library.cs (process-wide), LogBridge.cs, OidcClient.cs.
using System;
using System.Runtime.InteropServices;

namespace Oidc
{
    internal static class NativeProcess
    {
        private const string Lib = Native.Lib;
        private const CallingConvention Cdecl = CallingConvention.Cdecl;

        // ---- warm start ------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_prefetch(IntPtr b, uint mode, out IntPtr err);

        /// The whole process's snapshot: `client` is NULL.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_cache_export_json(IntPtr client, out IntPtr json, out UIntPtr jsonLen, out IntPtr err);

        /// One client's snapshot.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_cache_export_json(ClientHandle client, out IntPtr json, out UIntPtr jsonLen, out IntPtr err);

        /// Import with the default TTL maximum: `client` is NULL.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_cache_import_json(IntPtr client, byte[] json, UIntPtr jsonLen,
            out UIntPtr imported, out IntPtr err);

        /// Import clamped to `client`'s TTL maximum.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_cache_import_json(ClientHandle client, byte[] json, UIntPtr jsonLen,
            out UIntPtr imported, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_snapshot_set_key(byte[] key, UIntPtr keyLen, out IntPtr err);

        // ---- observability ---------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_metrics_json(out IntPtr json, out UIntPtr jsonLen, out IntPtr err);

        /// `target` and `message` are borrowed for the call and not NUL-terminated.
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void LogCb(IntPtr userData, uint level, IntPtr target, UIntPtr targetLen, IntPtr message, UIntPtr messageLen);

        /// `cb` null removes the callback.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_set_log_callback(LogCb cb, IntPtr userData, uint maxLevel, out IntPtr err);

        // ---- worker pool -----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_async_configure(uint threads, uint queueCapacity, out IntPtr err);
    }
}
