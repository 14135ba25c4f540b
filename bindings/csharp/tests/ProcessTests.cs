// Process-wide calls: key-cache snapshots (export / import, and a fresh child process that starts
// warm with zero fetches), the counters, the log callback (level filter, no secrets, removal,
// exceptions kept out of native code, a process whose logger ran on liboidc threads still
// exits), prefetch modes and the worker-pool bounds.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    /// `OidcTests.exe --probe-warm-start ISSUER CA_FILE TOKEN SNAPSHOT_FILE|-`: import the
    /// snapshot (unless "-"), validate once, print what liboidc fetched.
    internal static class WarmStartProbe
    {
        internal static int Run(string[] args)
        {
            if (args[4] != "-") Console.WriteLine("imported " + Library.ImportKeyCache(File.ReadAllText(args[4])));
            var o = new OidcClientOptions { Issuer = args[1], CaFile = args[2], Audiences = new[] { "api://cs" }, ExpectedTyp = "at+jwt" };
            using (var c = OidcClient.Create(o))
                Console.WriteLine("subject " + c.Validate(args[3]).Subject);
            var m = Library.Metrics();
            Console.WriteLine("jwks_fetches=" + ProcessTests.Counter(m, "cache", "jwks_fetches") +
                              " discovery_fetches=" + ProcessTests.Counter(m, "discovery", "fetches"));
            return 0;
        }
    }

    /// `OidcTests.exe --probe-log-exit ISSUER CA_FILE JWKS_URI`: install a logger, start a
    /// background prefetch (its messages reach the logger on a liboidc pool thread), wait for one,
    /// then return from Main. The parent checks that the process ends.
    internal static class LogExitProbe
    {
        internal static int Run(string[] args)
        {
            int main = Thread.CurrentThread.ManagedThreadId;
            var fromPool = new ManualResetEventSlim();
            string seen = null;
            Library.SetLogger((level, target, message) =>
            {
                if (Thread.CurrentThread.ManagedThreadId != main && Interlocked.CompareExchange(ref seen, target + ": " + message, null) == null)
                    fromPool.Set();
            });
            var o = new OidcClientOptions
            {
                Issuer = args[1], CaFile = args[2], JwksUri = args[3], Audiences = new[] { "api://cs" }, Prefetch = PrefetchMode.Background,
            };
            using (OidcClient.Create(o))
            {
                if (!fromPool.Wait(20000)) { Console.WriteLine("no message from a liboidc thread"); return 5; }
                Console.WriteLine("logged on a liboidc thread: " + seen);
            }
            return 0;
        }
    }

    public class ProcessTests
    {
        private Testkit kit;

        [OneTimeSetUp]
        public void SetUp() { kit = new Testkit(); }

        [OneTimeTearDown]
        public void TearDown()
        {
            Library.SetLogger(null);
            kit.Dispose();
        }

        internal static long Counter(Dictionary<string, object> m, params string[] path)
        {
            object v = m;
            foreach (var p in path)
            {
                var d = v as Dictionary<string, object>;
                if (d == null || !d.TryGetValue(p, out v)) return 0; // e.g. a reason never counted yet
            }
            return (long)v;
        }

        private static Tuple<int, string> Child(params string[] args)
        {
            string here = Path.GetDirectoryName(typeof(ProcessTests).Assembly.Location);
            var psi = new ProcessStartInfo("mono", "--debug " + Path.Combine(here, "OidcTests.exe") + " " + string.Join(" ", args))
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using (var p = Process.Start(psi))
            {
                var err = p.StandardError.ReadToEndAsync();
                var output = p.StandardOutput.ReadToEndAsync();
                if (!p.WaitForExit(30000))
                {
                    p.Kill();
                    Assert.Fail("the child process did not exit; output: " + output.Result);
                }
                return Tuple.Create(p.ExitCode, output.Result + err.Result);
            }
        }

        private static void WaitFor(string what, Func<bool> done, int ms = 10000)
        {
            var sw = Stopwatch.StartNew();
            while (!done())
            {
                if (sw.ElapsedMilliseconds > ms) Assert.Fail("timed out waiting for " + what);
                Thread.Sleep(10);
            }
        }

        // ---- key-cache snapshots -----------------------------------------------------------------

        [Test]
        public void ExportAfterAValidationNamesTheJwksUrl()
        {
            using (var c = kit.Client())
            {
                c.Validate(kit.Token("ES256"));
                string all = Library.ExportKeyCache(), mine = c.ExportKeyCache();
                Assert.Contains("\"" + kit.JwksUri + "\"", all, "process-wide snapshot");
                Assert.Contains("\"" + kit.JwksUri + "\"", mine, "the client's snapshot");
                var snap = Json.ParseObject(mine);
                Assert.AreEqual(1L, (long)snap["version"]);
                Assert.AreEqual(1, ((List<object>)snap["key_sets"]).Count, "the client's one key set");
                Assert.Contains(kit.Issuer, Json.Write(snap["metadata"]), "its issuer's metadata");
                Assert.DoesNotContain("\"d\":", mine, "public keys only");
                c.Dispose();
                Assert.Throws<ObjectDisposedException>(() => c.ExportKeyCache());
            }
        }

        /// `snapshot`'s key sets alone, moved to `jwksUri` (what another service's cache would hold).
        private static string MoveKeySets(string snapshot, string jwksUri)
        {
            var snap = Json.ParseObject(snapshot);
            foreach (Dictionary<string, object> ks in (List<object>)snap["key_sets"]) ks["jwks_uri"] = jwksUri;
            snap["metadata"] = new List<object>();
            return Json.Write(snap);
        }

        [Test]
        public void ImportWarmsAJwksUrlThatWasNeverFetched()
        {
            string token = kit.Token("RS256", query: "&sub=imported");
            string snapshot;
            using (var src = kit.Client(o => o.JwksUri = kit.JwksUri + "?warm-src"))
            {
                src.Validate(token);
                snapshot = MoveKeySets(src.ExportKeyCache(), kit.JwksUri + "?warm-dst");
            }
            long importedBefore = Counter(Library.Metrics(), "snapshot", "imported");
            int n = Library.ImportKeyCache(snapshot);
            Assert.AreEqual(1, n, "entries taken");
            Assert.AreEqual(importedBefore + n, Counter(Library.Metrics(), "snapshot", "imported"), "counted");
            kit.ResetStats();
            var dst = kit.Client(o => o.JwksUri = kit.JwksUri + "?warm-dst");
            using (dst)
            {
                Assert.AreEqual("imported", dst.Validate(token).Subject);
                Assert.AreEqual(0L, kit.Hits("/jwks"), "JWKS fetches for imported keys");
                // The same snapshot again is not fresher than what is cached: nothing taken.
                int again = Library.ImportKeyCache(snapshot, dst);
                Assert.AreEqual(0, again, "entries taken again");
                Assert.AreEqual("imported", dst.Validate(token).Subject);
                Assert.AreEqual(0L, kit.Hits("/jwks"), "JWKS fetches after the second import");
            }
            Assert.Throws<ObjectDisposedException>(() => Library.ImportKeyCache(snapshot, dst));
        }

        [Test]
        public void AFreshProcessStartsWarmWithZeroFetches()
        {
            string token = kit.Token("ES256", query: "&sub=warm-child");
            string file = Path.Combine(TestEnv.TempDir("oidc-cs-snapshot"), "snapshot.json");
            using (var c = kit.Client())
            {
                c.Validate(token);
                File.WriteAllText(file, c.ExportKeyCache());
            }

            // Control: a cold child fetches discovery and keys (so the counts below can move).
            long jwks = kit.Hits("/jwks"), disco = kit.Hits("/.well-known/openid-configuration");
            var cold = Child("--probe-warm-start", kit.Issuer, kit.CaFile, token, "-");
            Assert.AreEqual(0, cold.Item1, cold.Item2);
            Assert.Contains("subject warm-child", cold.Item2);
            Assert.Contains("jwks_fetches=1 discovery_fetches=1", cold.Item2);
            Assert.AreEqual(jwks + 1, kit.Hits("/jwks"), "the cold child fetched the keys");
            Assert.AreEqual(disco + 1, kit.Hits("/.well-known/openid-configuration"), "the cold child discovered");

            jwks = kit.Hits("/jwks");
            disco = kit.Hits("/.well-known/openid-configuration");
            var warm = Child("--probe-warm-start", kit.Issuer, kit.CaFile, token, file);
            Assert.AreEqual(0, warm.Item1, warm.Item2);
            Assert.Contains("imported 2", warm.Item2, "the key set and the metadata");
            Assert.Contains("subject warm-child", warm.Item2);
            Assert.Contains("jwks_fetches=0 discovery_fetches=0", warm.Item2);
            Assert.AreEqual(jwks, kit.Hits("/jwks"), "JWKS hits by the warm child");
            Assert.AreEqual(disco, kit.Hits("/.well-known/openid-configuration"), "discovery hits by the warm child");
        }

        [Test]
        public void ABadSnapshotThrowsAndChangesNothing()
        {
            Assert.Throws<ArgumentNullException>(() => Library.ImportKeyCache(null));
            Assert.Throws<InvalidArgumentException>(() => Library.ImportKeyCache("{not json"));
            Assert.Throws<InvalidArgumentException>(() => Library.ImportKeyCache("{\"version\":99,\"key_sets\":[]}"));

            // One good key set and one bad one: the whole import fails, the good one is not taken.
            string token = kit.Token("ES256", query: "&sub=atomic");
            string good;
            using (var src = kit.Client(o => o.JwksUri = kit.JwksUri + "?atomic-src"))
            {
                src.Validate(token);
                good = MoveKeySets(src.ExportKeyCache(), kit.JwksUri + "?atomic-dst");
            }
            var snap = Json.ParseObject(good);
            var sets = (List<object>)snap["key_sets"];
            var bad = new Dictionary<string, object>((Dictionary<string, object>)sets[0]);
            bad["jwks_uri"] = kit.JwksUri + "?atomic-bad";
            bad["jwks"] = Json.Parse("{\"keys\":\"not an array\"}");
            sets.Add(bad);
            var before = Library.Metrics();
            var e = Assert.Throws<JwksInvalidException>(() => Library.ImportKeyCache(Json.Write(snap)));
            Assert.AreEqual("JWKS_INVALID", e.Name);
            var after = Library.Metrics();
            Assert.AreEqual(Counter(before, "snapshot", "imported"), Counter(after, "snapshot", "imported"), "nothing imported");
            Assert.AreEqual(Counter(before, "cache", "entries"), Counter(after, "cache", "entries"), "no cache entry added");
            long jwks = kit.Hits("/jwks");
            using (var dst = kit.Client(o => o.JwksUri = kit.JwksUri + "?atomic-dst"))
                Assert.AreEqual("atomic", dst.Validate(token).Subject);
            Assert.AreEqual(jwks + 1, kit.Hits("/jwks"), "the good entry was not installed: fetched cold");
        }

        [Test]
        public void ReadmeWarmStartExampleRuns()
        {
            string token = kit.Token("ES256", aud: "https://api.example.com", query: "&sub=readme-warm");
            var env = new Dictionary<string, string>
            {
                { "OIDC_ISSUER", kit.Issuer }, { "OIDC_CA_FILE", kit.CaFile }, { "OIDC_AUDIENCE", "https://api.example.com" },
                { "OIDC_SNAPSHOT", Path.Combine(TestEnv.TempDir("oidc-cs-readme-warm"), "keys.json") },
            };
            var cold = Examples.Run("WarmStartExample.exe", token, env);
            Assert.AreEqual(0, cold.Item1, "exit code; output:\n" + cold.Item2);
            Assert.DoesNotContain("imported entries", cold.Item2, "no snapshot yet");
            Assert.Contains("Info oidc::cache: fetching keys from " + kit.JwksUri, cold.Item2, "the logger");
            Assert.Contains("subject: readme-warm", cold.Item2);
            Assert.Contains("key fetches: 1", cold.Item2);
            Assert.True(File.Exists(env["OIDC_SNAPSHOT"]), "snapshot written");

            long jwks = kit.Hits("/jwks"), disco = kit.Hits("/.well-known/openid-configuration");
            var warm = Examples.Run("WarmStartExample.exe", token, env);
            Assert.AreEqual(0, warm.Item1, "exit code; output:\n" + warm.Item2);
            Assert.Contains("imported entries: 2", warm.Item2);
            Assert.Contains("subject: readme-warm", warm.Item2);
            Assert.Contains("key fetches: 0", warm.Item2);
            Assert.DoesNotContain("fetching keys", warm.Item2);
            Assert.AreEqual(jwks, kit.Hits("/jwks"), "JWKS hits by the warm run");
            Assert.AreEqual(disco, kit.Hits("/.well-known/openid-configuration"), "discovery hits by the warm run");
        }

        // ---- counters ----------------------------------------------------------------------------

        [Test]
        public void MetricsCountValidationsByReason()
        {
            var m0 = Library.Metrics();
            foreach (var section in new[] { "validations", "cache", "discovery", "snapshot", "async" })
                Assert.True(m0[section] is Dictionary<string, object>, section);
            Assert.True(m0["fork_generation"] is long, "fork_generation");
            using (var c = kit.Client())
            {
                c.Validate(kit.Token("ES256"));
                c.Validate(kit.Token("RS256"));
                Assert.Throws<AudienceMismatchException>(() => c.Validate(kit.Token("ES256", aud: "api://other")));
                Assert.Throws<TokenMalformedException>(() => c.Validate("not-a-token"));
            }
            var m1 = Library.Metrics();
            Assert.True(Counter(m1, "validations", "ok") >= Counter(m0, "validations", "ok") + 2, "ok");
            Assert.True(Counter(m1, "validations", "failed") >= Counter(m0, "validations", "failed") + 2, "failed");
            Assert.True(Counter(m1, "validations", "failed_by_reason", "AUDIENCE_MISMATCH") >= Counter(m0, "validations", "failed_by_reason", "AUDIENCE_MISMATCH") + 1, "AUDIENCE_MISMATCH");
            Assert.True(Counter(m1, "validations", "failed_by_reason", "TOKEN_MALFORMED") >= Counter(m0, "validations", "failed_by_reason", "TOKEN_MALFORMED") + 1, "TOKEN_MALFORMED");
            Assert.True(Counter(m1, "cache", "hits") > Counter(m0, "cache", "hits"), "cache hits");
        }

        // ---- logging -----------------------------------------------------------------------------

        private sealed class Line
        {
            internal OidcLogLevel Level;
            internal string Target, Message;
            public override string ToString() { return Level + " " + Target + ": " + Message; }
        }

        [Test]
        public void TheLoggerGetsAFailedKeyFetchButNeverTheTokenOrTheQuery()
        {
            var lines = new ConcurrentQueue<Line>();
            string token = kit.Token("ES256", query: "&sub=logged");
            kit.Fault("path=/jwks&mode=500&count=100");
            try
            {
                Library.SetLogger((l, t, m) => lines.Enqueue(new Line { Level = l, Target = t, Message = m }), OidcLogLevel.Warn);
                using (var c = kit.Client(o => o.JwksUri = kit.JwksUri + "?log-secret=hunter2"))
                    Assert.Throws<HttpStatusException>(() => c.Validate(token));
                string all = string.Join("\n", lines.Select(x => x.ToString()));
                Assert.True(lines.Any(x => x.Level == OidcLogLevel.Error && x.Target == "oidc::cache" && x.Message.Contains("key fetch failed")),
                    "the failed fetch was logged; got:\n" + all);
                Assert.True(lines.All(x => x.Level <= OidcLogLevel.Warn), "liboidc filters above Warn; got:\n" + all);
                Assert.DoesNotContain(token, all, "the token");
                Assert.DoesNotContain(token.Split('.')[1], all, "the token's payload");
                Assert.DoesNotContain("hunter2", all, "the URL's query");

                // Removed: no more messages.
                Library.SetLogger(null);
                int n = lines.Count;
                using (var c = kit.Client(o => o.JwksUri = kit.JwksUri + "?log-removed"))
                    Assert.Throws<HttpStatusException>(() => c.Validate(token));
                Assert.AreEqual(n, lines.Count, "messages after SetLogger(null)");
            }
            finally
            {
                Library.SetLogger(null);
                kit.Fault("path=/jwks&mode=ok");
            }
        }

        [Test]
        public void LoggerExceptionsStayInTheBindingAndLevelsComeFromLiboidc()
        {
            var lines = new ConcurrentQueue<Line>();
            Exception reentry = null;
            try
            {
                Assert.Throws<InvalidArgumentException>(() => Library.SetLogger((l, t, m) => { }, (OidcLogLevel)9), "liboidc checks the level");
                long swallowed = LogBridge.SinkExceptions;
                Library.SetLogger((l, t, m) =>
                {
                    lines.Enqueue(new Line { Level = l, Target = t, Message = m });
                    try { Library.SetLogger(null); } catch (Exception e) { reentry = e; }
                    throw new InvalidOperationException("a logger bug");
                }, OidcLogLevel.Debug);
                using (var c = kit.Client(o => o.JwksUri = kit.JwksUri + "?log-throws"))
                    Assert.AreEqual("throws", c.Validate(kit.Token("ES256", query: "&sub=throws")).Subject, "validation unaffected");
                Assert.True(lines.Any(x => x.Level == OidcLogLevel.Info && x.Message.StartsWith("fetching keys from", StringComparison.Ordinal)),
                    "Info messages at Debug; got:\n" + string.Join("\n", lines));
                Assert.True(LogBridge.SinkExceptions > swallowed, "the logger's exceptions were caught");
                Assert.True(reentry is InvalidOperationException, "SetLogger from inside the logger: " + reentry);
            }
            finally { Library.SetLogger(null); }
        }

        [Test]
        public void AProcessWhoseLoggerRanOnLiboidcThreadsExitsByItself()
        {
            var r = Child("--probe-log-exit", kit.Issuer, kit.CaFile, kit.JwksUri + "?log-exit");
            Assert.AreEqual(0, r.Item1, r.Item2);
            Assert.Contains("logged on a liboidc thread: oidc::", r.Item2);
        }

        // ---- prefetch modes and the pool -----------------------------------------------------------

        [Test]
        public void PrefetchFailFastThrowsForAnUnreachableIssuer()
        {
            Action<OidcClientOptions> unreachable = o =>
            {
                o.Issuer = "https://127.0.0.1:9"; o.CaFile = null; o.ConnectTimeoutMs = 500; o.TotalTimeoutMs = 1000;
            };
            using (kit.Client(unreachable)) { } // nothing fetched without prefetch
            var e = Assert.Throws<NetworkException>(() => kit.Client(o => { unreachable(o); o.Prefetch = PrefetchMode.FailFast; }));
            Assert.AreEqual(503, e.HttpStatus);
            Assert.Throws<InvalidArgumentException>(() => kit.Client(o => o.Prefetch = (PrefetchMode)7), "liboidc checks the mode");

            // Reachable: the keys are fetched in Create, the first validation fetches nothing.
            long jwks = kit.Hits("/jwks");
            using (var c = kit.Client(o => { o.JwksUri = kit.JwksUri + "?fail-fast"; o.Prefetch = PrefetchMode.FailFast; }))
            {
                Assert.AreEqual(jwks + 1, kit.Hits("/jwks"), "fetched in Create");
                c.Validate(kit.Token("ES256"));
                Assert.AreEqual(jwks + 1, kit.Hits("/jwks"), "nothing fetched by the validation");
            }
        }

        [Test]
        public void PrefetchBackgroundFetchesOnThePool()
        {
            long jwks = kit.Hits("/jwks");
            using (var c = kit.Client(o => { o.JwksUri = kit.JwksUri + "?background"; o.Prefetch = PrefetchMode.Background; }))
            {
                WaitFor("the background fetch", () => kit.Hits("/jwks") == jwks + 1);
                Assert.AreEqual("bg", c.Validate(kit.Token("RS256", query: "&sub=bg")).Subject);
                Assert.AreEqual(jwks + 1, kit.Hits("/jwks"), "nothing fetched by the validation");
            }
        }

        [Test]
        public async Task ConfigureWorkersBoundsThePool()
        {
            Assert.Throws<InvalidArgumentException>(() => Library.ConfigureWorkers(0, 0), "liboidc checks the bounds");
            Assert.Throws<ArgumentOutOfRangeException>(() => Library.ConfigureWorkers(-1, 16));
            try
            {
                Assert.True(Library.ShutdownWorkers(TimeSpan.FromSeconds(10)), "joined");
                Library.ConfigureWorkers(3, 4096);
                using (var c = kit.Client())
                    Assert.AreEqual("pool", (await c.ValidateAsync(kit.Token("ES256", query: "&sub=pool"))).Subject);
                Assert.AreEqual(3L, Counter(Library.Metrics(), "async", "threads"), "the new pool's threads");
            }
            finally
            {
                Library.ConfigureWorkers(0, 4096);
                Library.ShutdownWorkers(TimeSpan.FromSeconds(10)); // the next pool starts with the defaults
            }
        }
    }
}
