// OidcClient.Authenticate / AuthenticateAsync as an API: what reaches liboidc, what comes back,
// misuse, cancellation, and the resource options reaching the builder. Static keys and tokens
// from tests/vectors/validation.json (no network); the decisions themselves are pinned by the
// shared request vectors (RequestVectorTests).
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    public class AuthenticateTests
    {
        private Dictionary<string, object> v;
        private OidcClient client;
        private DateTimeOffset now;
        private const string Url = "https://api.example.test/items?x=1";

        [OneTimeSetUp]
        public void SetUp()
        {
            v = VectorTests.Load();
            now = DateTimeOffset.FromUnixTimeSeconds((long)v["now"]);
            client = OidcClient.Create(Options(o => o.Realm = "api"));
        }

        [OneTimeTearDown]
        public void TearDown() { client.Dispose(); }

        private OidcClientOptions Options(Action<OidcClientOptions> tweak = null)
        {
            var o = VectorTests.Options(v);
            if (tweak != null) tweak(o);
            return o;
        }

        private string Token(string name)
        {
            return (string)((List<object>)v["cases"]).Cast<Dictionary<string, object>>().First(c => (string)c["name"] == name)["token"];
        }

        [Test]
        public void AnAllowedRequestCarriesTheClaimsAndTheTokenType()
        {
            var d = client.Authenticate("GET", Url, new[] { "Bearer " + Token("valid RS256") }, null, null, now);
            Assert.True(d.Allowed, d.ToString());
            Assert.AreEqual(0, d.Code);
            Assert.AreEqual(OidcResult.Ok, d.Result);
            Assert.AreEqual("OK", d.CodeName);
            Assert.AreEqual(200, d.HttpStatus);
            Assert.Null(d.Error);
            Assert.AreEqual("Bearer", d.TokenType);
            Assert.AreEqual(0, d.Challenges.Count);
            Assert.Null(d.DpopNonce);
            Assert.AreEqual("alice", d.Claims.Subject);
            Assert.AreEqual("read write", d.Claims.GetString("scope"));
            Assert.Null(d.ToException());
            Assert.Contains("allowed", d.ToString());
            Assert.DoesNotContain("read write", d.ToString());
        }

        [Test]
        public void ADenialCarriesEverythingTheCoreDecided()
        {
            var d = client.Authenticate("GET", Url, new[] { "Bearer " + Token("expired") }, null, null, now);
            Assert.False(d.Allowed);
            Assert.AreEqual(OidcResult.TokenExpired, d.Result);
            Assert.AreEqual("TOKEN_EXPIRED", d.CodeName);
            Assert.AreEqual(401, d.HttpStatus);
            Assert.AreEqual("invalid_token", d.Error);
            Assert.Null(d.Claims);
            Assert.Null(d.TokenType);
            Assert.AreEqual("Bearer realm=\"api\", error=\"invalid_token\", error_description=\"The access token expired\"", d.Challenges[0]);
            Assert.AreEqual(2, d.Challenges.Count);
            Assert.True(d.Challenges[1].StartsWith("DPoP realm=\"api\", algs=\"", StringComparison.Ordinal), d.Challenges[1]);
            Assert.True(!string.IsNullOrEmpty(d.Message));
            var e = d.ToException();
            Assert.True(e is TokenExpiredException, e.GetType().Name);
            Assert.AreEqual(401, e.HttpStatus);
            Assert.AreEqual(d.Challenges[0], e.WwwAuthenticate);
            Assert.AreEqual("invalid_token", e.OAuthError);
        }

        [Test]
        public void NoCredentialsAndMalformedOnesAreDenialsNotExceptions()
        {
            var none = client.Authenticate("GET", Url, null);
            Assert.AreEqual(OidcResult.TokenMissing, none.Result);
            Assert.AreEqual(401, none.HttpStatus);
            Assert.Null(none.Error);
            Assert.AreEqual("Bearer realm=\"api\"", none.Challenges[0]);
            Assert.AreEqual(OidcResult.TokenMissing, client.Authenticate("GET", Url, new string[0], new string[0]).Result, "empty lists");
            Assert.AreEqual(OidcResult.TokenMissing, client.Authenticate("GET", Url, new[] { "Basic dXNlcjpwYXNz" }).Result);
            // Each value is one header line: two lines are malformed, whatever they hold.
            string tok = "Bearer " + Token("valid RS256");
            var two = client.Authenticate("GET", Url, new[] { tok, tok }, null, null, now);
            Assert.AreEqual(OidcResult.RequestMalformed, two.Result);
            Assert.AreEqual(400, two.HttpStatus);
            Assert.AreEqual("invalid_request", two.Error);
            // A lone surrogate is not a binding exception: it reaches liboidc as U+FFFD and is judged there.
            Assert.AreEqual(400, client.Authenticate("GET", Url, new[] { "Bearer a\ud800b" }).HttpStatus);
            // A DPoP value without the DPoP scheme is not looked at.
            Assert.True(client.Authenticate("GET", Url, new[] { tok }, new[] { "x.y.z" }, null, now).Allowed);
        }

        [Test]
        public void HostMisuseThrows()
        {
            Assert.Throws<InvalidArgumentException>(() => client.Authenticate("GET", "/relative", null), "relative URL");
            Assert.Throws<InvalidArgumentException>(() => client.Authenticate("GET", "ftp://x/y", null), "not http(s)");
            Assert.Throws<InvalidArgumentException>(() => client.Authenticate("", Url, null), "empty method");
            // What the client controls inside the method or URL is the request's fault: a 400 decision.
            var badMethod = client.Authenticate("G T", Url, null);
            Assert.AreEqual(OidcResult.RequestMalformed, badMethod.Result, "not a method token");
            Assert.AreEqual(400, badMethod.HttpStatus);
            Assert.Throws<ArgumentNullException>(() => client.Authenticate(null, Url, null));
            Assert.Throws<ArgumentNullException>(() => client.Authenticate("GET", null, null));
            Assert.Throws<ArgumentException>(() => client.Authenticate("GET", Url, new string[] { null }));
            Assert.Throws<InvalidArgumentException>(() => client.AuthenticateAsync("GET", "/relative", null).Wait(), "async: the task faults");
            // The thread's request object was reset and still works.
            Assert.True(client.Authenticate("GET", Url, new[] { "Bearer " + Token("valid RS256") }, null, null, now).Allowed);
            using (var c = OidcClient.Create(Options()))
            {
                c.Dispose();
                Assert.Throws<ObjectDisposedException>(() => c.Authenticate("GET", Url, null));
                Assert.Throws<ObjectDisposedException>(() => c.AuthenticateAsync("GET", Url, null));
            }
        }

        [Test]
        public async Task AuthenticateAsyncCompletesOffTheCallersThread()
        {
            long onCaller = AsyncBridge.CallbacksOnCallerThread;
            var tasks = Enumerable.Range(0, 50).Select(i => client.AuthenticateAsync("GET", Url,
                new[] { "Bearer " + Token(i % 2 == 0 ? "valid RS256" : "expired") }, null, null, now)).ToList();
            var ds = await Task.WhenAll(tasks);
            for (int i = 0; i < ds.Length; i++)
            {
                Assert.AreEqual(i % 2 == 0, ds[i].Allowed, "call " + i);
                Assert.AreEqual(i % 2 == 0 ? 200 : 401, ds[i].HttpStatus);
            }
            Assert.AreEqual("alice", ds[0].Claims.Subject);
            Assert.AreEqual(2, ds[1].Challenges.Count, "the borrowed decision was copied before the callback returned");
            Assert.AreEqual(onCaller, AsyncBridge.CallbacksOnCallerThread);
        }

        [Test]
        public void AuthenticateAsyncIsCancellable()
        {
            var cts = new CancellationTokenSource();
            cts.Cancel();
            var t = client.AuthenticateAsync("GET", Url, null, cancellationToken: cts.Token);
            Assert.True(t.IsCanceled, "a cancelled token: Canceled at once");
            long live = AsyncBridge.LiveCancelHandles;
            using (var cts2 = new CancellationTokenSource())
            {
                var d = client.AuthenticateAsync("GET", Url, new[] { "Bearer " + Token("valid RS256") }, null, null, now, cts2.Token).Result;
                Assert.True(d.Allowed);
            }
            // A cancellable call releases its oidc_cancel when it completes.
            for (int i = 0; i < 100 && AsyncBridge.LiveCancelHandles != live; i++) Thread.Sleep(10);
            Assert.AreEqual(live, AsyncBridge.LiveCancelHandles);
        }

        /// Calls that complete at once on a worker, each with a cancel handle: the completion may run
        /// (and release the handle) before oidc_*_async has returned. The binding used to free the
        /// handle there while liboidc still read it (a use-after-free that crashed Mono within a
        /// few hundred calls); a crash fails the whole run.
        [Test]
        public void CancellableCallsThatCompleteAtOnceNeverCrash()
        {
            long live = AsyncBridge.LiveCancelHandles;
            for (int i = 0; i < 1500; i++)
            {
                using (var cts = new CancellationTokenSource())
                {
                    if (i % 2 == 0)
                        Assert.AreEqual(OidcResult.TokenMissing, client.AuthenticateAsync("GET", Url, null, cancellationToken: cts.Token).Result.Result);
                    else
                        Assert.Throws<TokenMalformedException>(() => client.ValidateAsync("x.y.z", cts.Token).Wait());
                }
            }
            for (int i = 0; i < 100 && AsyncBridge.LiveCancelHandles != live; i++) Thread.Sleep(10);
            Assert.AreEqual(live, AsyncBridge.LiveCancelHandles);
        }

        [Test]
        public void ConcurrentCallersOnOneClient()
        {
            string tok = "Bearer " + Token("valid RS256");
            var errors = new List<string>();
            var threads = Enumerable.Range(0, 8).Select(n => new Thread(() =>
            {
                for (int i = 0; i < 200; i++)
                {
                    var d = client.Authenticate("GET", Url, new[] { (i + n) % 3 == 0 ? "Bearer x" : tok }, null, null, now);
                    bool want = (i + n) % 3 != 0;
                    if (d.Allowed != want) lock (errors) errors.Add(n + "/" + i + ": " + d);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            Assert.True(errors.Count == 0, string.Join("\n", errors.Take(5)));
        }

        [Test]
        public void ResourceOptionsReachTheCore()
        {
            string tok = "Bearer " + Token("valid RS256"); // scope "read write", client_id "svc"
            Func<Action<OidcClientOptions>, Decision> with = tweak =>
            {
                using (var c = OidcClient.Create(Options(tweak)))
                    return c.Authenticate("GET", Url, new[] { tok }, null, null, now);
            };
            Assert.True(with(o => o.RequiredScopes = new[] { "read", "write" }).Allowed);
            var scope = with(o => o.RequiredScopes = new[] { "read", "admin" });
            Assert.AreEqual(OidcResult.InsufficientScope, scope.Result);
            Assert.AreEqual(403, scope.HttpStatus);
            Assert.Contains("scope=\"admin\"", scope.Challenges[0]);
            Assert.True(with(o => o.AllowedClaimValues = new Dictionary<string, IList<string>> { { "client_id", new[] { "web", "svc" } } }).Allowed);
            var claim = with(o => o.AllowedClaimValues = new Dictionary<string, IList<string>> { { "client_id", new[] { "web" } } });
            Assert.AreEqual(OidcResult.ClaimNotAllowed, claim.Result);
            Assert.AreEqual(403, claim.HttpStatus);
            var required = with(o => o.DpopMode = DpopMode.Required);
            Assert.AreEqual(OidcResult.TokenMissing, required.Result, "Bearer is not offered");
            Assert.AreEqual(1, required.Challenges.Count);
            Assert.True(required.Challenges[0].StartsWith("DPoP ", StringComparison.Ordinal), required.Challenges[0]);
            var disabled = with(o => o.DpopMode = DpopMode.Disabled);
            Assert.True(disabled.Allowed);
            Assert.AreEqual(OidcResult.TokenMissing, WithNone(o => o.DpopMode = DpopMode.Disabled).Result);
            Assert.AreEqual(1, WithNone(o => o.DpopMode = DpopMode.Disabled).Challenges.Count, "no DPoP challenge");
            Assert.AreEqual("DPoP algs=\"ES256\"", WithNone(o => { o.DpopMode = DpopMode.Required; o.DpopAlgorithms = new[] { "ES256" }; }).Challenges[0]);
            Assert.AreEqual(OidcResult.TokenBindingMismatch, with(o => o.RequireMtls = true).Result, "an unbound token without a certificate");
            Assert.True(with(o => { o.TokenCacheSize = 0; o.DpopProofWindowSeconds = 30; }).Allowed);
            Assert.True(with(o => { o.DpopNonceSecret = new byte[32]; o.DpopNonceLifetimeSeconds = 60; }).Allowed, "nonces concern DPoP only");
        }

        private Decision WithNone(Action<OidcClientOptions> tweak)
        {
            using (var c = OidcClient.Create(Options(tweak)))
                return c.Authenticate("GET", Url, null, null, null, now);
        }

        [Test]
        public void BadResourceOptionsFailAtCreate()
        {
            Assert.Throws<InvalidConfigException>(() => OidcClient.Create(Options(o => o.RequiredScopes = new[] { "a b" })), "scope-token");
            Assert.Throws<InvalidConfigException>(() => OidcClient.Create(Options(o => o.RequiredScopes = new[] { "" })));
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(Options(o => o.DpopAlgorithms = new[] { "HS256" })), "symmetric");
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(Options(o => o.DpopProofWindowSeconds = 0)));
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(Options(o => o.DpopNonceSecret = new byte[4])), "short secret");
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(Options(o => { o.DpopNonceSecret = new byte[32]; o.DpopNonceLifetimeSeconds = 86401; })));
            Assert.Throws<ArgumentException>(() => OidcClient.Create(Options(o => o.DpopNonceLifetimeSeconds = 60)), "a lifetime needs a secret");
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(Options(o => o.TokenCacheSize = 2000000)));
            Assert.Throws<ArgumentOutOfRangeException>(() => OidcClient.Create(Options(o => o.TokenCacheSize = -1)));
            Assert.Throws<OidcException>(() => OidcClient.Create(Options(o => o.AllowedClaimValues = new Dictionary<string, IList<string>> { { "", new[] { "x" } } })));
            var s = Options(o => { o.DpopNonceSecret = System.Text.Encoding.ASCII.GetBytes("super-secret-nonce-key-123456"); o.RequiredScopes = new[] { "r" }; }).ToString();
            Assert.DoesNotContain("super-secret", s);
            Assert.Contains("<redacted>", s);
        }
    }
}
