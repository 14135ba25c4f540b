// The load-time check: a missing library or a wrong version gives an OidcLibraryException with
// an install hint (not a DllNotFoundException or TypeInitializationException). Checked in child
// processes whose Oidc.dll.config maps "oidc" to a missing file or to a stub reporting 0.2.0.
using System;
using System.Diagnostics;
using System.IO;

namespace Oidc.Tests
{
    internal static class LoadProbe
    {
        /// `OidcTests.exe --probe-load`: exit 0 when loaded, 3 with the message when not.
        internal static int Run()
        {
            try
            {
                Library.EnsureLoaded();
                Console.WriteLine("loaded " + Library.Version);
                return 0;
            }
            catch (OidcLibraryException e)
            {
                Console.WriteLine("OidcLibraryException: " + e.Message);
                try
                {
                    OidcClient.Create(new OidcClientOptions { Issuer = "https://i.example", AnyAudience = true });
                    Console.WriteLine("Create did not throw");
                    return 4;
                }
                catch (OidcLibraryException) { Console.WriteLine("Create: OidcLibraryException"); }
                return 3;
            }
        }
    }

    public class LoadTests
    {
        private static Tuple<int, string> Probe(string dllmapTarget)
        {
            string dir = TestEnv.TempDir("oidc-cs-load");
            string here = Path.GetDirectoryName(typeof(LoadTests).Assembly.Location);
            File.Copy(Path.Combine(here, "Oidc.dll"), Path.Combine(dir, "Oidc.dll"));
            File.Copy(typeof(LoadTests).Assembly.Location, Path.Combine(dir, "OidcTests.exe"));
            File.WriteAllText(Path.Combine(dir, "Oidc.dll.config"),
                "<configuration><dllmap dll=\"oidc\" target=\"" + dllmapTarget + "\"/></configuration>");
            var psi = new ProcessStartInfo("mono", Path.Combine(dir, "OidcTests.exe") + " --probe-load")
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using (var p = Process.Start(psi))
            {
                var err = p.StandardError.ReadToEndAsync();
                string output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                return Tuple.Create(p.ExitCode, output + err.Result);
            }
        }

        [Test]
        public void AMissingLibraryGivesAnInstallHint()
        {
            var r = Probe("liboidc-does-not-exist.so.0.2");
            Assert.AreEqual(3, r.Item1, r.Item2);
            Assert.Contains("OidcLibraryException: liboidc could not be loaded", r.Item2);
            Assert.Contains("cargo cinstall", r.Item2);
            Assert.Contains("LD_LIBRARY_PATH", r.Item2);
            Assert.Contains("Create: OidcLibraryException", r.Item2);
        }

        [Test]
        public void AnIncompatibleVersionIsRefused()
        {
            string dir = TestEnv.TempDir("oidc-cs-stub");
            string c = Path.Combine(dir, "stub.c"), so = Path.Combine(dir, "liboidc-stub.so");
            File.WriteAllText(c, "unsigned int oidc_version_number(void) { return 2u << 8; }\n" +
                                 "const char *oidc_version(void) { return \"0.2.0\"; }\n");
            Process cc;
            try { cc = Process.Start(new ProcessStartInfo("cc", "-shared -fPIC -o " + so + " " + c) { UseShellExecute = false }); }
            catch (Exception e) { Assert.Ignore("no C compiler to build a stub library: " + e.Message); return; }
            cc.WaitForExit();
            Assert.AreEqual(0, cc.ExitCode, "cc");
            var r = Probe(so);
            Assert.AreEqual(3, r.Item1, r.Item2);
            Assert.Contains("liboidc 0.2.0 was loaded, but this binding needs 0.1.x", r.Item2);
        }
    }
}
