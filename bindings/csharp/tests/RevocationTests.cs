// Signed revocation lists and DropKeys against the oidc-testkit fixture (its admin API:
// POST /revocation/set?kid=..&jti=.., /fault, GET /stats). Every decision is liboidc's; the
// test only changes the fixture's list and waits for the next poll (bounds of 1 s).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace Oidc.Tests
{
    public class RevocationTests
    {
        private const string ListPath = "/.well-known/revocation-list";
        private Testkit kit;

        [OneTimeSetUp]
        public void SetUp() { kit = new Testkit(); }

        [OneTimeTearDown]
        public void TearDown() { kit.Dispose(); }

        private string Kid(string alg) { return (string)((Dictionary<string, object>)kit.Server.Ready["kids"])[alg]; }

        private OidcClient Client(RevocationPolicy policy, int? grace = null)
        {
            return kit.Client(o => o.Revocation = new RevocationOptions(policy) { GraceSeconds = grace, MinPollSeconds = 1, MaxPollSeconds = 1 });
        }

        /// Validate until <paramref name="done"/> says the outcome arrived (the next poll), at most 10 s.
        private static string Eventually(OidcClient c, string token, Func<string, bool> done)
        {
            var sw = Stopwatch.StartNew();
            string last;
            while (true)
            {
                OidcException e;
                last = JoseVectors.Outcome(() => c.Validate(token), out e);
                if (done(last) || sw.Elapsed > TimeSpan.FromSeconds(10)) return last;
                Thread.Sleep(200);
            }
        }

        [Test]
        public void ARevokedJtiThenARevokedKidAreRevoked()
        {
            TestEnv.HttpPost(kit.Admin + "/revocation/set"); // empty list
            using (var c = Client(RevocationPolicy.FailClosed))
            {
                string t1 = kit.Token("ES256", query: "&jti=cs-j1"), t2 = kit.Token("ES256", query: "&jti=cs-j2"), rs = kit.Token("RS256", query: "&jti=cs-j3");
                long before = kit.Hits(ListPath);
                Assert.AreEqual("test-user", c.Validate(t1).Subject);
                c.Validate(t2);
                Assert.True(kit.Hits(ListPath) > before, "the list was fetched");

                TestEnv.HttpPost(kit.Admin + "/revocation/set?jti=cs-j1");
                Assert.AreEqual("REVOKED", Eventually(c, t1, o => o != "OK"), "revoked jti");
                var e = Assert.Throws<RevokedException>(() => c.Validate(t1));
                Assert.AreEqual(401, e.HttpStatus);
                Assert.Throws<RevokedException>(() => c.ValidateAsync(t1).Wait());
                OidcException none;
                Assert.AreEqual("OK", JoseVectors.Outcome(() => c.Validate(t2), out none), "another jti");

                TestEnv.HttpPost(kit.Admin + "/revocation/set?kid=" + Uri.EscapeDataString(Kid("ES256")));
                Assert.AreEqual("REVOKED", Eventually(c, t2, o => o != "OK"), "revoked kid");
                Assert.Throws<RevokedException>(() => c.Validate(kit.Token("ES256", query: "&jti=cs-fresh")));
                Assert.AreEqual("test-user", c.Validate(rs).Subject, "another key");
                // The jti is no longer listed: only the key's tokens stay refused.
                Assert.AreEqual("OK", Eventually(c, kit.Token("RS256", query: "&jti=cs-j1"), o => o == "OK"));
            }
            TestEnv.HttpPost(kit.Admin + "/revocation/set");
        }

        [Test]
        public void PrefetchPrimesTheList()
        {
            using (var c = kit.Client(o => o.Revocation = new RevocationOptions(RevocationPolicy.FailClosed)))
            {
                long before = kit.Hits(ListPath);
                c.Prefetch();
                Assert.True(kit.Hits(ListPath) > before, "Prefetch fetched the list");
            }
            using (var c = kit.Client(o => o.Revocation = new RevocationOptions(RevocationPolicy.FailClosed)))
            {
                long before = kit.Hits(ListPath);
                c.PrefetchAsync().Wait();
                Assert.True(kit.Hits(ListPath) > before, "PrefetchAsync fetched the list");
            }
            // FailFast: Create fails when the list cannot be fetched.
            kit.Fault("path=" + ListPath + "&mode=500");
            try
            {
                Assert.Throws<OidcException>(() => kit.Client(o =>
                {
                    o.Revocation = new RevocationOptions(RevocationPolicy.FailClosed);
                    o.Prefetch = PrefetchMode.FailFast;
                }).Dispose());
            }
            finally { kit.Fault("path=" + ListPath + "&mode=ok"); }
        }

        [Test]
        public void PastTheGracePeriodThePolicyDecides()
        {
            TestEnv.HttpPost(kit.Admin + "/revocation/set");
            string t = kit.Token("ES256", query: "&jti=cs-grace");
            using (var closed = Client(RevocationPolicy.FailClosed, grace: 1))
            using (var open = Client(RevocationPolicy.FailOpen, grace: 1))
            {
                closed.Validate(t);
                open.Validate(t);
                kit.Fault("path=" + ListPath + "&mode=500");
                try
                {
                    Assert.AreEqual("REVOCATION_UNAVAILABLE", Eventually(closed, t, o => o != "OK"), "fail closed");
                    var e = Assert.Throws<RevocationUnavailableException>(() => closed.Validate(t));
                    Assert.AreEqual(503, e.HttpStatus);
                    Assert.AreEqual("test-user", open.Validate(t).Subject, "fail open");
                }
                finally { kit.Fault("path=" + ListPath + "&mode=ok"); }
                Assert.AreEqual("OK", Eventually(closed, t, o => o == "OK"), "the list is back");
            }
        }

        [Test]
        public void DropKeysRefetchesTheKeys()
        {
            using (var c = kit.Client())
            {
                string t = kit.Token("ES256");
                c.Validate(t);
                kit.ResetStats();
                c.Validate(kit.Token("RS256"));
                Assert.AreEqual(0L, kit.Hits("/jwks"), "warm keys");
                c.DropKeys();
                c.Validate(t);
                Assert.AreEqual(1L, kit.Hits("/jwks"), "refetched after DropKeys()");
                c.DropKeys(kit.Issuer);
                c.ValidateAsync(t).Wait();
                Assert.AreEqual(2L, kit.Hits("/jwks"), "refetched after DropKeys(issuer)");
                var e = Assert.Throws<InvalidArgumentException>(() => c.DropKeys("https://nope.example"));
                Assert.True(!string.IsNullOrEmpty(e.Message));
            }
            using (var s = OidcClient.Create(new OidcClientOptions { Issuer = "https://static.example", AnyAudience = true, JwksJson = "{\"keys\":[]}" }))
                s.DropKeys(); // a static-key client: nothing to drop
        }

        [Test]
        public void BadRevocationSettingsFailCreate()
        {
            // Every check is liboidc's, reported by Create.
            Assert.Throws<ConfigurationException>(() => kit.Client(o => o.Revocation = new RevocationOptions(RevocationPolicy.FailClosed) { MinPollSeconds = 600, MaxPollSeconds = 60 }).Dispose());
            Assert.Throws<OidcException>(() => kit.Client(o => o.Revocation = new RevocationOptions(RevocationPolicy.FailClosed) { Url = "http://example.com/rl" }).Dispose());
            Assert.Throws<OidcException>(() => kit.Client(o => o.Revocation = new RevocationOptions((RevocationPolicy)0)).Dispose());
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(new OidcClientOptions
            {
                Issuer = "https://static.example", AnyAudience = true, JwksJson = "{\"keys\":[]}",
                Revocation = new RevocationOptions(RevocationPolicy.FailOpen),
            }));
            Assert.Throws<ArgumentOutOfRangeException>(() => kit.Client(o => o.Revocation = new RevocationOptions(RevocationPolicy.FailClosed) { GraceSeconds = -1 }));
            // Accepting encrypted access tokens needs a decryption key (liboidc's rule).
            Assert.Throws<ConfigurationException>(() => kit.Client(o => o.AcceptEncryptedAccessTokens = true).Dispose());
            var opts = new OidcClientOptions { Revocation = new RevocationOptions(RevocationPolicy.FailOpen) { GraceSeconds = 5 } };
            Assert.Contains("Revocation=RevocationOptions(FailOpen, GraceSeconds=5)", opts.ToString());
        }
    }
}
