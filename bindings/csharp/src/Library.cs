using System;
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
        /// The liboidc version this binding was written and tested against (0.1.0).
        public const int BuiltForMajor = 0, BuiltForMinor = 1, BuiltForPatch = 0;

        /// `(major << 16) | (minor << 8) | patch`, as `oidc_version_number()` and `OIDC_VERSION_NUMBER`.
        public const uint BuiltForVersionNumber = (BuiltForMajor << 16) | (BuiltForMinor << 8) | BuiltForPatch;

        internal const string Soname = "liboidc.so.0.1";

        internal const string InstallHint =
            "Install liboidc 0.1.x: in the liboidc repository run `cargo cinstall --release --prefix /usr/local` " +
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
        /// ABI breaks, as the SONAME liboidc.so.0.1 says); never older than what was built for.
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

        /// The loaded library's version string, e.g. "0.1.0".
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
