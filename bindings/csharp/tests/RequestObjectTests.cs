// The ABI 0.2 request object as an API: the core's INVALID_ARGUMENT for a parameter the
// operation does not take (no rule in the binding), cancellation and deadlines of the blocking
// and the non-blocking send against a hanging token endpoint (oidc-testkit's fault fixture), and
// no response left behind by either path.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    public class RequestObjectTests
    {
        private Testkit kit;

        [OneTimeSetUp]
        public void SetUp() { kit = new Testkit(); }

        [OneTimeTearDown]
        public void TearDown() { kit.Dispose(); }

        /// A protocol client at the testkit whose token endpoint is `path` (any path may be
        /// given a fault).
        private OAuthClient Client(string path, int totalTimeoutMs = 10000)
        {
            return OAuthClient.Create(new OAuthClientOptions
            {
                Issuer = kit.Issuer, CaFile = kit.CaFile, ClientId = "svc", ClientSecret = "svc-secret", TotalTimeoutMs = totalTimeoutMs,
                Endpoints = new Dictionary<string, string> { { "token_endpoint", kit.Issuer + path } },
            });
        }

        private static void Refused(Action a, params string[] inMessage)
        {
            var e = Assert.Throws<InvalidArgumentException>(a);
            Assert.AreEqual(OidcResult.InvalidArgument, e.Result);
            Assert.AreEqual("INVALID_ARGUMENT", e.Name);
            foreach (var m in inMessage) Assert.Contains(m, e.Message, "the core's message");
        }

        [Test]
        public void AWrongParameterIsTheCoresInvalidArgumentWithItsMessage()
        {
            using (var c = Client("/token"))
            using (var r = c.NewRequest(OAuthOperation.ClientCredentials))
            {
                Assert.AreEqual(OAuthOperation.ClientCredentials, r.Operation);
                Refused(() => r.Set(OAuthParam.Code, "x"), "CODE", "CLIENT_CREDENTIALS");           // not for this operation
                Refused(() => r.Set(OAuthParam.Scope, "read"), "SCOPE");                             // a list through set_string
                Refused(() => r.Add(OAuthParam.RefreshToken, "x"), "REFRESH_TOKEN");                 // a string through add_string
                Refused(() => r.Set(OAuthParam.DeadlineMs, "100"), "DEADLINE_MS");                   // an int through set_string
                Refused(() => r.Add(OAuthParam.Scope, "read write"), "SCOPE");                       // a space inside a scope item
                Refused(() => r.AddParameter("grant_type", "password"), "grant_type");               // set by liboidc itself
                Refused(() => r.AddParameter("client_secret", "x"), "client_secret");
                Refused(() => r.AddParameter("scope", "read"), "OIDC_PARAM_SCOPE");                  // has a typed parameter
                // What applies is accepted, and the request still sends (below).
                r.Add(OAuthParam.Scope, "read").Add(OAuthParam.Resource, "urn:x").Set(OAuthParam.DeadlineMs, 5000).AddParameter("x-custom", "1");
            }
            // A missing required parameter: at send, on both paths; the async one never starts.
            using (var c = Client("/token"))
            using (var r = c.NewRequest(OAuthOperation.Refresh))
            {
                Refused(() => r.Send(), "REFRESH_TOKEN");
                long runs = AsyncBridge.CallbacksRun;
                var t = r.SendAsync();
                Assert.True(t.IsFaulted, "faulted at once, status " + t.Status);
                Refused(() => t.Wait(), "REFRESH_TOKEN");
                Thread.Sleep(50);
                Assert.AreEqual(runs, AsyncBridge.CallbacksRun, "no callback for a refused send");
            }
            // The typed methods pass what they are given through to the same rules.
            using (var c = Client("/token"))
            {
                Refused(() => c.ClientCredentials(new[] { "read write" }), "SCOPE");
                Refused(() => c.ClientCredentialsAsync(new[] { "read write" }).Wait(), "SCOPE");
                Refused(() => c.CustomGrant("urn:x", new Dictionary<string, string> { { "grant_type", "y" } }), "grant_type");
            }
        }

        [Test]
        public void OneCancelTypeTriggeredAndQueried()
        {
            CancelHandle h;
            IntPtr err;
            OidcException.Check(Native.oidc_cancel_new(0, out h, out err), err);
            using (h)
            {
                Assert.AreEqual(0u, Native.oidc_cancel_is_cancelled(h));
                Native.oidc_cancel_trigger(h);
                Native.oidc_cancel_trigger(h);
                Assert.AreEqual(1u, Native.oidc_cancel_is_cancelled(h));
            }
        }

        [Test]
        public void CancellingTheTokenEndsAHangingRequestOnBothPaths()
        {
            kit.Fault("path=/token-hang&mode=hang&count=100");
            try
            {
                // oidc.h: a blocking send sees the trigger at its next step (a request in flight
                // finishes first, bounded by the client's timeouts, and its result is dropped);
                // a non-blocking send completes at once.
                using (var c = Client("/token-hang", 2000))
                {
                    c.Endpoint("token_endpoint"); // discovery done, so only the token request hangs
                    long freed = CancelHandle.ReleasedCount;
                    // Blocking: OperationCanceledException (inner: liboidc's CANCELLED), not the
                    // request's network timeout.
                    using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
                    {
                        var sw = Stopwatch.StartNew();
                        var e = Assert.Throws<OperationCanceledException>(() => c.ClientCredentials(new[] { "read" }, cancellationToken: cts.Token));
                        Assert.True(sw.ElapsedMilliseconds < 6000, "cancelled in " + sw.ElapsedMilliseconds + " ms");
                        Assert.AreEqual(cts.Token, e.CancellationToken);
                        var inner = e.InnerException as OidcCancelledException;
                        Assert.NotNull(inner, "inner OidcCancelledException, was " + e.InnerException);
                        Assert.AreEqual(OidcResult.Cancelled, inner.Result);
                    }
                    Assert.True(CancelHandle.ReleasedCount - freed >= 1, "the blocking send freed its oidc_cancel");
                    // Non-blocking: the task ends Canceled at once.
                    using (var cts = new CancellationTokenSource())
                    using (var r = c.NewRequest(OAuthOperation.ClientCredentials).Add(OAuthParam.Scope, "read"))
                    {
                        var tasks = Enumerable.Range(0, 5).Select(_ => r.SendAsync(cts.Token)).ToArray();
                        NativeAsyncTests.WaitFor("the hanging requests", () => kit.Hits("/token-hang") >= 1);
                        Thread.Sleep(200);
                        Assert.True(tasks.All(t => !t.IsCompleted), "waiting on the hanging endpoint");
                        var sw = Stopwatch.StartNew();
                        cts.Cancel();
                        Assert.True(Task.WaitAll(tasks.Select(t => t.ContinueWith(_ => { })).ToArray(), 5000), "answered");
                        Assert.True(sw.ElapsedMilliseconds < 1500, "cancelled at once, not after the HTTP timeout: " + sw.ElapsedMilliseconds + " ms");
                        Assert.True(tasks.All(t => t.IsCanceled), "every task Canceled: " + string.Join(",", tasks.Select(t => t.Status)));
                    }
                    Assert.AreEqual(0L, AsyncBridge.LiveCancelHandles, "cancel handles freed");
                    // Already cancelled: nothing is sent, on either path.
                    using (var cts = new CancellationTokenSource())
                    {
                        cts.Cancel();
                        Assert.Throws<OperationCanceledException>(() => c.ClientCredentials(cancellationToken: cts.Token));
                        Assert.True(c.ClientCredentialsAsync(cancellationToken: cts.Token).IsCanceled, "pre-cancelled task");
                    }
                }
            }
            finally { kit.Fault("path=/token-hang&mode=ok"); }
        }

        [Test]
        public void TheRequestsDeadlineEndsAHangingRequestOnBothPaths()
        {
            kit.Fault("path=/token-deadline&mode=hang&count=100");
            try
            {
                using (var c = Client("/token-deadline", 20000))
                using (var r = c.NewRequest(OAuthOperation.ClientCredentials).Set(OAuthParam.DeadlineMs, 300))
                {
                    c.Endpoint("token_endpoint");
                    // Non-blocking: DeadlineExceeded at the deadline, not after the HTTP timeout.
                    var sw = Stopwatch.StartNew();
                    var a = Assert.Throws<DeadlineExceededException>(() => r.SendAsync().Wait());
                    Assert.AreEqual(OidcResult.DeadlineExceeded, a.Result);
                    Assert.True(sw.ElapsedMilliseconds < 1500, "async deadline kept: " + sw.ElapsedMilliseconds + " ms");
                    // Blocking: the deadline bounds the request in flight too (a per-request timeout of
                    // what is left), not the client's 20 s timeout.
                    sw.Restart();
                    var e = Assert.Throws<DeadlineExceededException>(() => r.Send());
                    Assert.AreEqual(OidcResult.DeadlineExceeded, e.Result);
                    Assert.True(sw.ElapsedMilliseconds < 1500, "blocking deadline kept: " + sw.ElapsedMilliseconds + " ms");
                    // A poll's timeout is the same parameter (PollDevice/PollCiba: see IdpGrantTests).
                    Assert.Throws<ArgumentOutOfRangeException>(() => OAuthClient.DeadlineMs(TimeSpan.FromSeconds(-1)));
                    Assert.AreEqual(1500L, OAuthClient.DeadlineMs(TimeSpan.FromTicks(14992000)).Value);
                    Assert.Null(OAuthClient.DeadlineMs(Timeout.InfiniteTimeSpan));
                }
            }
            finally { kit.Fault("path=/token-deadline&mode=ok"); }
        }

        /// The fault fixture's token endpoint errors come back as the blocking call's exception on
        /// the async path too.
        [Test]
        public void TokenEndpointFaultsFailAlikeOnBothPaths()
        {
            foreach (var mode in new[] { "500", "garbage", "reset" })
            {
                string path = "/token-" + mode;
                kit.Fault("path=" + path + "&mode=" + mode + "&count=100");
                try
                {
                    using (var c = Client(path))
                    {
                        var sync = Assert.Throws<OidcException>(() => c.ClientCredentials(new[] { "read" }), mode);
                        var async = Assert.Throws<OidcException>(() => c.ClientCredentialsAsync(new[] { "read" }).Wait(), mode);
                        Assert.AreEqual(sync.GetType(), async.GetType(), mode + ": same exception type");
                        Assert.AreEqual(sync.Result, async.Result, mode);
                    }
                }
                finally { kit.Fault("path=" + path + "&mode=ok"); }
            }
        }

        /// Every response liboidc hands over is freed: the typed methods free theirs at once, a
        /// disposed OAuthResponse frees its own, and one nobody disposes is freed by the
        /// finaliser (the non-blocking path's callback wraps it in a SafeHandle first).
        [Test]
        public void NoResponseIsLeftBehind()
        {
            using (var c = Client("/token"))
            {
                long created = OAuthResponseHandle.CreatedCount, released = OAuthResponseHandle.ReleasedCount;
                // ENDPOINT is local (discovery only): a response without a token server.
                Assert.AreEqual(kit.Issuer + "/token", c.Endpoint("token_endpoint"));
                var urls = Task.WhenAll(Enumerable.Range(0, 50).Select(_ => c.EndpointAsync("token_endpoint"))).Result;
                Assert.True(urls.All(u => u == kit.Issuer + "/token"));
                Assert.AreEqual(51L, OAuthResponseHandle.CreatedCount - created, "responses taken");
                Assert.AreEqual(51L, OAuthResponseHandle.ReleasedCount - released, "typed methods free theirs");

                using (var r = c.NewRequest(OAuthOperation.Endpoint).Set(OAuthParam.EndpointName, "token_endpoint"))
                {
                    using (var resp = r.SendAsync().Result)
                    {
                        Assert.AreEqual(OAuthOperation.Endpoint, resp.Operation);
                        Assert.AreEqual(kit.Issuer + "/token", resp.GetString(OAuthField.Url));
                        Assert.Contains("\"url\"", resp.Json);
                        Assert.Null(resp.GetString(OAuthField.AccessToken), "absent field");
                        Assert.Null(resp.GetInt(OAuthField.ExpiresIn), "absent int");
                    }
                    Assert.AreEqual(52L, OAuthResponseHandle.ReleasedCount - released, "a disposed response is freed");
                    var disposed = r.Send();
                    disposed.Dispose();
                    disposed.Dispose();
                    Assert.Throws<ObjectDisposedException>(() => disposed.GetString(OAuthField.Url));
                    // Abandoned: never disposed, from both paths.
                    Abandon(r);
                }
                for (int i = 0; i < 5 && OAuthResponseHandle.ReleasedCount != OAuthResponseHandle.CreatedCount; i++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }
                Assert.AreEqual(OAuthResponseHandle.CreatedCount - created, OAuthResponseHandle.ReleasedCount - released,
                    "every response freed (abandoned ones by the finaliser)");
            }
        }

        private static void Abandon(OAuthRequest r)
        {
            for (int i = 0; i < 10; i++)
            {
                r.Send();
                r.SendAsync().Wait();
            }
        }

        /// A request is read-only once built: sent again, and from many threads at once.
        [Test]
        public void ARequestIsSentAgainAndFromManyThreads()
        {
            using (var c = Client("/token"))
            using (var r = c.NewRequest(OAuthOperation.Endpoint).Set(OAuthParam.EndpointName, "jwks_uri"))
            {
                var all = Task.WhenAll(Enumerable.Range(0, 100).Select(i => i % 2 == 0
                    ? r.SendAsync()
                    : Task.Run(() => r.Send()))).Result;
                Assert.True(all.All(x => x.GetString(OAuthField.Url) == kit.JwksUri), "the same answer everywhere");
                foreach (var x in all) x.Dispose();
                r.Dispose();
                Assert.Throws<ObjectDisposedException>(() => r.Send());
                Assert.Throws<ObjectDisposedException>(() => r.Set(OAuthParam.EndpointName, "x"));
            }
        }
    }
}
