using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("OidcTests")]
[assembly: InternalsVisibleTo("OidcBenchmark")]

namespace Oidc
{
    /// The loaded liboidc: its version, checked once when the binding is first used (rbnacl
    /// style). Every public entry point calls <see cref="EnsureLoaded"/>, which rethrows the
    /// load-time problem as an <see cref="OidcLibraryException"/> with an install hint.
    public static class Library
    {
        /// The liboidc version this binding was written and tested against (0.2.0).
        public const int BuiltForMajor = 0;
        /// The minor version of the liboidc ABI this binding was built for.
        public const int BuiltForMinor = 2;
        /// The patch level of the liboidc ABI this binding was built for (the oldest it accepts).
        public const int BuiltForPatch = 0;

        /// <c>(major &lt;&lt; 16) | (minor &lt;&lt; 8) | patch</c>, as `oidc_version_number()` and `OIDC_VERSION_NUMBER`.
        public const uint BuiltForVersionNumber = (BuiltForMajor << 16) | (BuiltForMinor << 8) | BuiltForPatch;

        internal const string Soname = "liboidc.so.0.2";

        internal const string InstallHint =
            "Install liboidc 0.2.x: in the liboidc repository run `cargo cinstall --release --prefix /usr/local --libdir lib` " +
            "(cargo install cargo-c first if needed) and `ldconfig`, or point LD_LIBRARY_PATH at the directory " +
            "holding " + Soname + ". On Mono, Oidc.dll.config (next to Oidc.dll) maps \"oidc\" to " + Soname + ".";

        private static readonly uint loadedVersion;
        private static readonly string loadedVersionString;
        private static readonly string loadError; // null when the library is usable

        static Library()
        {
            try
            {
                loadedVersion = Native.oidc_version_number();
                loadedVersionString = Utf8.ReadNulTerminated(Native.oidc_version());
                if (!IsCompatible(BuiltForVersionNumber, loadedVersion))
                {
                    loadError = string.Format(
                        "liboidc {0} was loaded, but this binding needs {1}.{2}.x (at least {1}.{2}.{3}). {4}",
                        loadedVersionString, BuiltForMajor, BuiltForMinor, BuiltForPatch, InstallHint);
                }
            }
            catch (DllNotFoundException e)
            {
                loadError = "liboidc could not be loaded (" + Soname + ": " + e.Message + "). " + InstallHint;
            }
            catch (EntryPointNotFoundException e)
            {
                loadError = "the loaded library is not a usable liboidc (" + e.Message + "). " + InstallHint;
            }
            catch (BadImageFormatException e)
            {
                loadError = "liboidc could not be loaded (" + e.Message + "). " + InstallHint;
            }
        }

        /// Whether a library reporting <paramref name="loaded"/> can serve a binding built for
        /// <paramref name="builtFor"/>: same major; for 0.x also the same minor (0.x minors are
        /// ABI breaks, as the SONAME liboidc.so.0.2 says); never older than what was built for.
        public static bool IsCompatible(uint builtFor, uint loaded)
        {
            uint bMaj = builtFor >> 16, bMin = (builtFor >> 8) & 0xff;
            uint lMaj = loaded >> 16, lMin = (loaded >> 8) & 0xff;
            if (lMaj != bMaj) return false;
            if (bMaj == 0 && lMin != bMin) return false;
            return loaded >= builtFor;
        }

        /// Throws <see cref="OidcLibraryException"/> when liboidc is missing or of an
        /// incompatible version. Cheap after the first call.
        public static void EnsureLoaded()
        {
            if (loadError != null) throw new OidcLibraryException(loadError);
        }

        /// The loaded library's version string, e.g. "0.2.0".
        public static string Version
        {
            get { EnsureLoaded(); return loadedVersionString; }
        }

        /// The loaded library's `oidc_version_number()`.
        public static uint VersionNumber
        {
            get { EnsureLoaded(); return loadedVersion; }
        }

        /// Bound the process-wide key cache to <paramref name="maxEntries"/> JWKS URLs (default 64).
        public static void SetKeyCacheMaxEntries(int maxEntries)
        {
            if (maxEntries < 1) throw new ArgumentOutOfRangeException("maxEntries", "must be at least 1");
            EnsureLoaded();
            Native.oidc_cache_set_max_entries((UIntPtr)(uint)maxEntries);
        }

        /// Stop liboidc's worker pool (the threads behind ValidateAsync, PrefetchAsync and
        /// background key refresh) and join its threads, waiting at most <paramref name="timeout"/>
        /// for calls still running; calls still queued complete as Canceled. The next async call
        /// starts a new pool. The binding does this itself at process exit (Mono cannot exit
        /// while a liboidc thread that ran managed code lives); call it earlier to stop the
        /// threads sooner, e.g. when a plugin is unloaded. Returns false when some thread was
        /// still busy at the deadline (it ends after its call). Throws
        /// <see cref="InvalidOperationException"/> from a task continuation running on a liboidc
        /// thread (a thread cannot join itself).
        public static bool ShutdownWorkers(TimeSpan timeout)
        {
            if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout", "must not be negative");
            EnsureLoaded();
            uint ms = timeout.TotalMilliseconds >= uint.MaxValue ? uint.MaxValue : (uint)Math.Ceiling(timeout.TotalMilliseconds);
            IntPtr err;
            uint rc = Native.oidc_async_shutdown(ms, out err);
            if (rc == (uint)OidcResult.Timeout)
            {
                Native.oidc_error_free(err);
                return false;
            }
            if (rc == (uint)OidcResult.InvalidArgument)
            {
                var e = OidcException.FromNative(rc, err);
                throw new InvalidOperationException(e.Message, e);
            }
            OidcException.Check(rc, err);
            return true;
        }

        /// Bound liboidc's worker pool (the threads behind ValidateAsync, PrefetchAsync,
        /// <see cref="PrefetchMode.Background"/> and background key refresh): <paramref name="threads"/>
        /// workers (0 = liboidc's default) and at most <paramref name="queueCapacity"/> calls
        /// waiting (oidc_async_configure; liboidc checks the bounds and throws
        /// <see cref="InvalidArgumentException"/>). The queue bound applies at once, the thread
        /// count when the pool (re)starts: call it first, or after <see cref="ShutdownWorkers"/>.
        public static void ConfigureWorkers(int threads, int queueCapacity)
        {
            uint t = OidcClient.U32(threads, "threads"), q = OidcClient.U32(queueCapacity, "queueCapacity");
            EnsureLoaded();
            IntPtr err;
            OidcException.Check(NativeProcess.oidc_async_configure(t, q, out err), err);
        }

        /// Send liboidc's log messages up to <paramref name="maxLevel"/> (fetches, refresh
        /// failures, cooldown suppressions, stale keys served, pool overload, snapshot imports)
        /// to <paramref name="logger"/> as (level, target, message), e.g.
        /// (Warn, "oidc::cache", "key refresh failed ..."). Messages carry no token, secret or key,
        /// and URLs without query or credentials. Replaces the previous logger atomically;
        /// null removes it (a message being delivered on another thread at that moment may still
        /// reach the old one). The logger runs on liboidc threads and on threads inside liboidc
        /// calls, concurrently: make it thread safe and quick. Its exceptions are caught and
        /// dropped, and it must not call SetLogger (InvalidOperationException). Installing a
        /// logger also makes the binding stop liboidc's pool at process exit (see
        /// <see cref="ShutdownWorkers"/>).
        public static void SetLogger(Action<OidcLogLevel, string, string> logger, OidcLogLevel maxLevel = OidcLogLevel.Info)
        {
            EnsureLoaded();
            LogBridge.Set(logger, maxLevel);
        }

        /// liboidc's process-wide counters (oidc_metrics_json), parsed: "validations" (ok,
        /// failed, failed_by_reason keyed by result name), "cache", "discovery", "snapshot",
        /// "async" (nested <c>Dictionary&lt;string, object&gt;</c> of <c>long</c>) and
        /// "fork_generation". Counters only grow; async in_flight and queue_depth are gauges.
        public static Dictionary<string, object> Metrics()
        {
            EnsureLoaded();
            IntPtr json, err;
            UIntPtr len;
            OidcException.Check(NativeProcess.oidc_metrics_json(out json, out len, out err), err);
            return Json.ParseObject(Utf8.TakeOwned(json, len));
        }

        /// A JSON snapshot of the whole process's key cache: the fresh key sets (with their
        /// absolute expiry) and the issuer metadata discovered so far; public data only, no
        /// secrets (oidc_cache_export_json). Give it to <see cref="ImportKeyCache"/> in a fresh
        /// process (pre-forked workers, serverless) to start warm with zero fetches.
        /// <see cref="OidcClient.ExportKeyCache"/> exports one client's.
        public static string ExportKeyCache()
        {
            EnsureLoaded();
            IntPtr json, err;
            UIntPtr len;
            OidcException.Check(NativeProcess.oidc_cache_export_json(IntPtr.Zero, out json, out len, out err), err);
            return Utf8.TakeOwned(json, len);
        }

        /// Import a snapshot from <see cref="ExportKeyCache"/> into the process-wide key cache
        /// (oidc_cache_import_json). Imported keys pass the same checks as fetched ones; each
        /// entry expires at its exported time, clamped to the TTL maximum of
        /// <paramref name="clampTo"/> (liboidc's default when null); expired entries are skipped
        /// (fetched later, as on a cold start) and older entries do not replace newer cached ones.
        /// A malformed snapshot or an invalid key set throws (<see cref="InvalidArgumentException"/>,
        /// <see cref="JwksInvalidException"/>, ...) and changes nothing. Returns the number of
        /// entries (key sets and metadata documents) taken.
        public static int ImportKeyCache(string json, OidcClient clampTo = null)
        {
            if (json == null) throw new ArgumentNullException("json");
            EnsureLoaded();
            byte[] b = Utf8.StrictBytes(json);
            IntPtr err;
            UIntPtr n;
            uint rc = clampTo == null
                ? NativeProcess.oidc_cache_import_json(IntPtr.Zero, b, (UIntPtr)b.Length, out n, out err)
                : NativeProcess.oidc_cache_import_json(clampTo.Handle, b, (UIntPtr)b.Length, out n, out err);
            OidcException.Check(rc, err);
            return checked((int)n.ToUInt64());
        }

        /// Set (or with null or an empty key clear) the process-wide key that authenticates
        /// key-cache snapshots (HMAC-SHA256, 16 to 1024 bytes; oidc_snapshot_set_key):
        /// <see cref="ExportKeyCache"/> then adds a MAC and <see cref="ImportKeyCache"/> refuses a
        /// snapshot without a valid one. Without a key, treat a snapshot as configuration.
        public static void SetSnapshotKey(byte[] key)
        {
            EnsureLoaded();
            byte[] k = key ?? new byte[0];
            IntPtr err;
            OidcException.Check(NativeProcess.oidc_snapshot_set_key(k, (UIntPtr)k.Length, out err), err);
        }

        /// liboidc's static description of a result code ("token expired", ...).
        public static string Describe(int code)
        {
            EnsureLoaded();
            return code < 0 ? "binding error" : Utf8.ReadNulTerminated(Native.oidc_result_str((uint)code));
        }

        /// liboidc's symbolic name of a result code ("TOKEN_EXPIRED"), or null for a code the
        /// loaded library does not know.
        public static string ResultName(int code)
        {
            EnsureLoaded();
            return code < 0 ? null : Utf8.ReadNulTerminated(Native.oidc_result_name((uint)code));
        }
    }
}
