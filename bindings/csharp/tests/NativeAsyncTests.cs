// The Task methods on liboidc's completion-callback API (AsyncBridge.cs): cancellation through a
// CancellationToken and deadlines against a hanging key fetch, callbacks exactly once and never
// on the caller's thread, no cancel handle left behind, the pool shut down and restarted, and a
// process that used the callbacks exiting by itself (Mono hangs at exit otherwise).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    /// `OidcTests.exe --probe-async-exit ISSUER CA_FILE TOKEN`: validate through the callback API
    /// on liboidc threads, then return from Main. The parent checks that the process ends.
    internal static class AsyncExitProbe
    {
        internal static int Run(string[] args)
        {
            var o = new OidcClientOptions { Issuer = args[1], CaFile = args[2], Audiences = new[] { "api://cs" }, ExpectedTyp = "at+jwt" };
            using (var c = OidcClient.Create(o))
            {
                var all = Task.WhenAll(Enumerable.Range(0, 200).Select(_ => c.ValidateAsync(args[3]))).Result;
                Console.WriteLine("validated " + all.Length + " on liboidc threads: " + all[0].Subject);
            }
            return 0;
        }
    }

    public class NativeAsyncTests
    {
        private Testkit kit;

        [OneTimeSetUp]
        public void SetUp() { kit = new Testkit(); }

        [OneTimeTearDown]
        public void TearDown() { kit.Dispose(); }

        internal static void WaitFor(string what, Func<bool> done, int ms = 10000)
        {
            var sw = Stopwatch.StartNew();
            while (!done())
            {
                if (sw.ElapsedMilliseconds > ms) Assert.Fail("timed out waiting for " + what);
                Thread.Sleep(5);
            }
        }

        /// Threads named like liboidc's pool threads in this process (/proc). A thread that Mono
        /// creates while running a completion on a pool thread (a thread-pool worker) inherits
        /// that thread's name, so this may count a few Mono threads too.
        private static int PoolThreads()
        {
            return Directory.GetDirectories("/proc/self/task")
                .Select(t => { try { return File.ReadAllText(Path.Combine(t, "comm")); } catch (IOException) { return ""; } })
                .Count(n => n.StartsWith("oidc-worker", StringComparison.Ordinal) || n.StartsWith("oidc-completer", StringComparison.Ordinal));
        }

        [Test]
        public async Task EveryCallCompletesOnceAndNeverOnTheCallersThread()
        {
            string token = kit.Token("ES256", query: "&sub=once");
            using (var c = kit.Client())
            {
                await c.PrefetchAsync();
                long before = AsyncBridge.CallbacksRun;
                var all = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => c.ValidateAsync(token)));
                Assert.True(all.All(x => x.Subject == "once"), "every task validated");
                Assert.AreEqual(500L, AsyncBridge.CallbacksRun - before, "one native callback per call");
                Assert.AreEqual(0L, AsyncBridge.CallbacksOnCallerThread, "callbacks on the initiating thread");
                Assert.AreEqual(0L, AsyncBridge.LiveCancelHandles, "cancel handles left");
            }
        }

        [Test]
        public void CancellingTheTokenCancelsACallWaitingOnAHangingKeyFetch()
        {
            string token = kit.Token("ES256");
            kit.Fault("path=/jwks&mode=hang&count=1");
            try
            {
                using (var c = kit.Client(o => { o.JwksUri = kit.JwksUri + "?hang-cancel"; o.TotalTimeoutMs = 1500; }))
                using (var cts = new CancellationTokenSource())
                {
                    var tasks = Enumerable.Range(0, 20).Select(_ => c.ValidateAsync(token, cts.Token)).ToArray();
                    WaitFor("the hanging fetch", () => kit.Hits("/jwks") >= 1);
                    Assert.True(tasks.All(t => !t.IsCompleted), "the calls wait on the hanging key fetch");
                    Assert.AreEqual(20L, AsyncBridge.LiveCancelHandles, "one cancel handle per cancellable call");
                    var sw = Stopwatch.StartNew();
                    cts.Cancel();
                    Assert.True(Task.WaitAll(tasks.Select(t => t.ContinueWith(_ => { })).ToArray(), 2000), "answered at once, not after the fetch");
                    Assert.True(sw.ElapsedMilliseconds < 2000, "cancelled in " + sw.ElapsedMilliseconds + " ms");
                    Assert.True(tasks.All(t => t.IsCanceled), "every task Canceled");
                    Assert.AreEqual(0L, AsyncBridge.LiveCancelHandles, "cancel handles freed before the tasks completed");
                    // An already cancelled token: Canceled without a native call.
                    Assert.True(c.ValidateAsync(token, cts.Token).IsCanceled, "pre-cancelled");
                }
            }
            finally { kit.Fault("path=/jwks&mode=ok"); }
        }

        [Test]
        public void ADeadlineEndsACallWithDeadlineExceeded()
        {
            string token = kit.Token("ES256");
            kit.Fault("path=/jwks&mode=hang&count=1");
            try
            {
                using (var c = kit.Client(o => { o.JwksUri = kit.JwksUri + "?hang-deadline"; o.TotalTimeoutMs = 1500; }))
                {
                    var sw = Stopwatch.StartNew();
                    var t = c.ValidateAsync(token, TimeSpan.FromMilliseconds(300));
                    var e = Assert.Throws<DeadlineExceededException>(() => t.Wait());
                    Assert.AreEqual(OidcResult.DeadlineExceeded, e.Result);
                    Assert.True(sw.ElapsedMilliseconds < 2500, "deadline kept: " + sw.ElapsedMilliseconds + " ms");
                    Assert.Throws<ArgumentOutOfRangeException>(() => c.ValidateAsync(token, TimeSpan.Zero));
                }
            }
            finally { kit.Fault("path=/jwks&mode=ok"); }
            WaitFor("cancel handles freed", () => AsyncBridge.LiveCancelHandles == 0);
        }

        [Test]
        public async Task FailuresFaultTheTaskWithTheBlockingCallsException()
        {
            using (var c = kit.Client())
            {
                string expired = kit.Token("ES256", aud: "api://someone-else");
                var blocking = Assert.Throws<OidcException>(() => c.Validate(expired));
                Assert.AreEqual(OidcResult.AudienceMismatch, blocking.Result);
                try
                {
                    await c.ValidateAsync(expired);
                    Assert.Fail("expected a fault");
                }
                catch (OidcException e)
                {
                    Assert.AreEqual(blocking.GetType(), e.GetType(), "same exception type");
                    Assert.AreEqual(blocking.Result, e.Result);
                    Assert.AreEqual(blocking.WwwAuthenticate, e.WwwAuthenticate);
                }
                // Bytes that are no token: the token's fault on both paths (401), not a misuse.
                var big = new string('a', 20000);
                var sync = Assert.Throws<OidcException>(() => c.Validate(big));
                var async = Assert.Throws<OidcException>(() => c.ValidateAsync(big).Wait());
                Assert.AreEqual(sync.Result, async.Result, "oversized token");
                Assert.AreEqual(401, async.HttpStatus);
            }
        }

        [Test]
        public async Task ShutdownWorkersJoinsThePoolAndTheNextCallStartsANewOne()
        {
            string token = kit.Token("ES256", query: "&sub=restart");
            using (var c = kit.Client())
            {
                Assert.AreEqual("restart", (await c.ValidateAsync(token)).Subject);
                // The workers ("threads" in the metrics) and the completer.
                long poolSize = (long)((Dictionary<string, object>)Library.Metrics()["async"])["threads"] + 1;
                int named = PoolThreads();
                Assert.True(poolSize > 0 && named >= poolSize, "a pool runs: " + poolSize + " threads, " + named + " so named");
                Assert.True(Library.ShutdownWorkers(TimeSpan.FromSeconds(10)), "joined in time");
                // Every pool thread is gone (only Mono threads that inherited a pool thread's
                // name may remain). A joined thread can linger in /proc for a moment after
                // pthread_join returns.
                WaitFor("no liboidc thread in /proc", () => PoolThreads() <= named - poolSize, 2000);
                int after = PoolThreads();
                Assert.AreEqual("restart", (await c.ValidateAsync(token)).Subject, "a new pool on demand");
                Assert.True(PoolThreads() > after, "the new pool");
            }
        }

        [Test]
        public void AProcessThatUsedTheCallbacksExitsByItself()
        {
            string here = Path.GetDirectoryName(typeof(NativeAsyncTests).Assembly.Location);
            string token = kit.Token("ES256", query: "&sub=exit-probe");
            var psi = new ProcessStartInfo("mono", string.Join(" ", Path.Combine(here, "OidcTests.exe"), "--probe-async-exit", kit.Issuer, kit.CaFile, token))
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
                    Assert.Fail("the process did not exit after using the callback API; output: " + output.Result);
                }
                Assert.AreEqual(0, p.ExitCode, output.Result + err.Result);
                Assert.Contains("validated 200 on liboidc threads: exit-probe", output.Result);
            }
        }
    }
}
