// SafeHandle lifetime, configuration errors, argument handling.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    public class LifetimeTests
    {
        private Dictionary<string, object> v;
        private string validToken;
        private DateTimeOffset now;

        [OneTimeSetUp]
        public void SetUp()
        {
            v = VectorTests.Load();
            now = DateTimeOffset.FromUnixTimeSeconds((long)v["now"]);
            validToken = ((List<object>)v["cases"]).Cast<Dictionary<string, object>>().First(c => (string)c["name"] == "valid ES256")["token"] as string;
        }

        private OidcClient NewClient() { return OidcClient.Create(VectorTests.Options(v)); }

        [Test]
        public void DisposeTwiceIsHarmless()
        {
            long before = ClientHandle.ReleasedCount;
            var c = NewClient();
            c.Dispose();
            c.Dispose();
            Assert.AreEqual(before + 1, ClientHandle.ReleasedCount, "freed exactly once");
        }

        [Test]
        public void UseAfterDisposeThrowsObjectDisposed()
        {
            var c = NewClient();
            Assert.AreEqual("alice", c.ValidateAt(validToken, now).Subject);
            c.Dispose();
            Assert.Throws<ObjectDisposedException>(() => c.Validate(validToken));
            Assert.Throws<ObjectDisposedException>(() => c.ValidateAt(validToken, now));
            Assert.Throws<ObjectDisposedException>(() => c.ValidateAsync(validToken));
            Assert.Throws<ObjectDisposedException>(() => c.Prefetch());
            Assert.Contains("disposed", c.ToString());
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Abandon(int n)
        {
            for (int i = 0; i < n; i++) NewClient().ValidateAt(validToken, now);
        }

        [Test]
        public void TheFinaliserFreesAbandonedClients()
        {
            long before = ClientHandle.ReleasedCount;
            // Allocate on another thread so no stale stack slot of ours keeps one alive (Mono scans stacks conservatively).
            var t = new Thread(() => Abandon(200));
            t.Start(); t.Join();
            for (int i = 0; i < 5 && ClientHandle.ReleasedCount - before < 200; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            long freed = ClientHandle.ReleasedCount - before;
            Assert.True(freed >= 190, "finaliser freed " + freed + " of 200 abandoned clients");
        }

        [Test]
        public void DisposeWhileCallsRunWaitsForThem()
        {
            var c = NewClient();
            long before = ClientHandle.ReleasedCount;
            int ok = 0, disposed = 0;
            var other = new List<Exception>();
            var go = new ManualResetEventSlim();
            var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
            {
                go.Wait();
                try
                {
                    while (true) { c.ValidateAt(validToken, now); Interlocked.Increment(ref ok); }
                }
                catch (ObjectDisposedException) { Interlocked.Increment(ref disposed); }
                catch (Exception e) { lock (other) other.Add(e); }
            })).ToList();
            threads.ForEach(t => t.Start());
            go.Set();
            Thread.Sleep(200);
            c.Dispose();
            threads.ForEach(t => t.Join());
            Assert.True(other.Count == 0, "unexpected: " + string.Join("; ", other.Select(e => e.GetType().Name + " " + e.Message)));
            Assert.AreEqual(8, disposed, "every thread ends with ObjectDisposedException");
            Assert.True(ok > 100, "validations before dispose: " + ok);
            Assert.AreEqual(before + 1, ClientHandle.ReleasedCount, "freed exactly once, after the calls");
        }

        [Test]
        public void AsyncCallsInFlightSurviveDispose()
        {
            var c = NewClient();
            var tasks = Enumerable.Range(0, 200).Select(_ => c.ValidateAtAsync(validToken, now)).ToArray();
            c.Dispose();
            int ok = 0, disposed = 0;
            foreach (var t in tasks)
            {
                try { t.Wait(); ok++; }
                catch (AggregateException e)
                {
                    Assert.True(e.InnerException is ObjectDisposedException, e.InnerException.GetType().Name + ": " + e.InnerException.Message);
                    disposed++;
                }
            }
            Assert.AreEqual(200, ok + disposed);
            Assert.Throws<ObjectDisposedException>(() => c.ValidateAtAsync(validToken, now));
        }

        [Test]
        public void OAuthClientDisposeTwiceAndUseAfterDispose()
        {
            long before = OAuthClientHandle.ReleasedCount;
            var c = OAuthClient.Create(new OAuthClientOptions { Issuer = "https://issuer.example", ClientId = "x", ClientSecret = "s" });
            c.Dispose();
            c.Dispose();
            Assert.AreEqual(before + 1, OAuthClientHandle.ReleasedCount);
            Assert.Throws<ObjectDisposedException>(() => c.ClientCredentials(new[] { "read" }));
            Assert.Throws<ObjectDisposedException>(() => c.ClientCredentialsAsync(new[] { "read" }));
            Assert.Throws<ObjectDisposedException>(() => c.NewRequest(OAuthOperation.Revoke));
        }

        // ---- configuration errors are reported by Create ---------------------------------------
        [Test]
        public void ConfigurationErrorsAreTyped()
        {
            var e1 = Assert.Throws<InvalidConfigException>(() => OidcClient.Create(new OidcClientOptions { Issuer = "https://i.example" }), "no audience");
            Assert.AreEqual(100, e1.Code);
            Assert.AreEqual("INVALID_CONFIG", e1.Name);
            Assert.True(e1.Message.Length > 0);
            Assert.Throws<InvalidConfigException>(() => OidcClient.Create(new OidcClientOptions { Issuer = "", Audiences = new[] { "a" } }), "empty issuer");
            Assert.Throws<InsecureUrlException>(() => OidcClient.Create(new OidcClientOptions { Issuer = "http://i.example", Audiences = new[] { "a" } }));
            Assert.Throws<UnsupportedAlgorithmException>(() => OidcClient.Create(new OidcClientOptions { Issuer = "https://i.example", Audiences = new[] { "a" }, Algorithms = new[] { "RS256", "HS256" } }));
            Assert.Throws<UnsupportedAlgorithmException>(() => OidcClient.Create(new OidcClientOptions { Issuer = "https://i.example", Audiences = new[] { "a" }, Algorithms = new[] { "none" } }));
            Assert.Throws<CaFileException>(() => OidcClient.Create(new OidcClientOptions { Issuer = "https://i.example", Audiences = new[] { "a" }, CaFile = "/nonexistent/ca.pem" }));
            var j = Assert.Throws<ConfigurationException>(() => OidcClient.Create(new OidcClientOptions { Issuer = "https://i.example", Audiences = new[] { "a" }, JwksJson = "{\"keys\":5}" }));
            Assert.True(j is DiscoveryException || j is InvalidConfigException, j.GetType().Name);
            Assert.Throws<ArgumentOutOfRangeException>(() => OidcClient.Create(new OidcClientOptions { Issuer = "https://i.example", Audiences = new[] { "a" }, LeewaySeconds = -1 }));
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(new OidcClientOptions { Issuer = "https://i.example", Audiences = new[] { "a" }, LeewaySeconds = 100000 }));
            Assert.Throws<ArgumentNullException>(() => OidcClient.Create(null));
            // Any audience, explicitly, is fine.
            OidcClient.Create(new OidcClientOptions { Issuer = "https://i.example", AnyAudience = true }).Dispose();
        }

        [Test]
        public void OAuthConfigurationErrorsAreTyped()
        {
            // ABI 0.2: a client without a client id builds, and can only register.
            using (var noId = OAuthClient.Create(new OAuthClientOptions { Issuer = "https://i.example" }))
            {
                var e = Assert.Throws<InvalidConfigException>(() => noId.NewRequest(OAuthOperation.ClientCredentials), "no client id");
                Assert.True(e.Message.Length > 0);
                noId.NewRequest(OAuthOperation.Register).Dispose();
            }
            Assert.Throws<InsecureUrlException>(() => OAuthClient.Create(new OAuthClientOptions { Issuer = "http://i.example", ClientId = "c" }));
            Assert.Throws<ConfigurationException>(() => OAuthClient.Create(new OAuthClientOptions { Issuer = "https://i.example", ClientId = "c", AuthMethod = "telepathy" }));
        }

        [Test]
        public void OAuthAlgorithmsAreCheckedByCreate()
        {
            // none, HMAC and unknown names: liboidc's UNSUPPORTED_ALGORITHM, from Create.
            foreach (var algs in new[] { new[] { "none" }, new[] { "RS256", "HS256" }, new[] { "RS257" } })
            {
                var e = Assert.Throws<UnsupportedAlgorithmException>(() => OAuthClient.Create(new OAuthClientOptions { Issuer = "https://i.example", ClientId = "c", Algorithms = algs }), string.Join(",", algs));
                Assert.AreEqual("UNSUPPORTED_ALGORITHM", e.Name);
            }
            var o = new OAuthClientOptions { Issuer = "https://i.example", ClientId = "c", Algorithms = new[] { "ES256", "EdDSA" } };
            OAuthClient.Create(o).Dispose();
            Assert.Contains("Algorithms=[ES256, EdDSA]", o.ToString());
        }

        [Test]
        public void TokensThatAreNotUtf16CleanFailAsMalformed()
        {
            using (var c = NewClient())
            {
                Assert.Throws<TokenMalformedException>(() => c.ValidateAt("eyJ\uD800.x.y", now));
                Assert.Throws<TokenMalformedException>(() => c.ValidateAt("", now));
                Assert.Throws<TokenMalformedException>(() => c.ValidateAt("a\0b.c.d", now));
                Assert.Throws<ArgumentNullException>(() => c.ValidateAt(null, now));
                Assert.Throws<ArgumentNullException>(() => c.Validate(null));
            }
        }

        [Test]
        public void ErrorsCarryTheCoreDetails()
        {
            using (var c = OidcClient.Create(new OidcClientOptions { Issuer = VectorTests.Options(v).Issuer, JwksJson = VectorTests.Options(v).JwksJson, Audiences = new[] { "api://vectors" }, Realm = "vectors-api" }))
            {
                var expired = ((List<object>)v["cases"]).Cast<Dictionary<string, object>>().First(x => (string)x["expect"] == "TOKEN_EXPIRED");
                var e = Assert.Throws<TokenExpiredException>(() => c.ValidateAt((string)expired["token"], now));
                Assert.AreEqual(OidcResult.TokenExpired, e.Result);
                Assert.AreEqual(401, e.HttpStatus);
                Assert.AreEqual("invalid_token", e.OAuthError);
                Assert.AreEqual("Bearer realm=\"vectors-api\", error=\"invalid_token\", error_description=\"The access token expired\"", e.WwwAuthenticate);
                Assert.Contains("\"name\":\"TOKEN_EXPIRED\"", e.Info.DetailsJson);
                Assert.Contains("TOKEN_EXPIRED", e.ToString());
                Assert.DoesNotContain((string)expired["token"], e.ToString(), "no token in the exception text");
            }
        }
    }
}
