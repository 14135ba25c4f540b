// End to end against the oidc-testkit binary: discovery + JWKS over TLS (127.0.0.1, test CA).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    /// An oidc-testkit process and helpers for its admin API.
    internal sealed class Testkit : IDisposable
    {
        internal readonly ChildServer Server;

        internal Testkit()
        {
            string exe = TestEnv.Require("OIDC_TESTKIT", "path of the oidc-testkit binary");
            string dir = TestEnv.TempDir("oidc-cs-testkit");
            Server = new ChildServer(exe, "--dir " + dir, dir, 60);
        }

        internal string Issuer { get { return Server["issuer"]; } }
        internal string CaFile { get { return Server["ca_file"]; } }
        internal string WrongCaFile { get { return Server["wrong_ca_file"]; } }
        internal string Admin { get { return Server["admin"]; } }
        internal string JwksUri { get { return Server["jwks_uri"]; } }

        /// A token from the issuer's current key; `query` adds/overrides admin /token parameters.
        internal string Token(string alg = "RS256", string aud = "api://cs", string query = "")
        {
            return TestEnv.HttpGet(Admin + "/token?alg=" + alg + "&aud=" + Uri.EscapeDataString(aud) + "&exp_in=300" + query).Trim();
        }

        internal Dictionary<string, object> Stats() { return Json.ParseObject(TestEnv.HttpGet(Admin + "/stats")); }
        internal void ResetStats() { TestEnv.HttpPost(Admin + "/reset_stats"); }
        internal void Fault(string query) { TestEnv.HttpPost(Admin + "/fault?" + query); }

        internal long Hits(string path)
        {
            object v;
            return Stats().TryGetValue(path, out v) && v is long ? (long)v : 0;
        }

        internal OidcClient Client(Action<OidcClientOptions> tweak = null)
        {
            var o = new OidcClientOptions { Issuer = Issuer, CaFile = CaFile, Audiences = new[] { "api://cs" }, ExpectedTyp = "at+jwt" };
            if (tweak != null) tweak(o);
            return OidcClient.Create(o);
        }

        public void Dispose() { Server.Dispose(); }
    }

    public class TestkitTests
    {
        private Testkit kit;

        [OneTimeSetUp]
        public void SetUp() { kit = new Testkit(); }

        [OneTimeTearDown]
        public void TearDown() { kit.Dispose(); }

        [Test]
        public void DiscoveryAndJwksOverTlsWithTheCaFile()
        {
            kit.ResetStats();
            using (var c = kit.Client())
            {
                foreach (var alg in new[] { "RS256", "ES256", "EdDSA", "PS256" })
                {
                    var claims = c.Validate(kit.Token(alg, query: "&sub=cs-user&scope=read%20write"));
                    Assert.AreEqual("cs-user", claims.Subject, alg);
                    Assert.AreEqual(kit.Issuer, claims.Issuer, alg);
                    Assert.AreEqual("read write", claims.GetString("scope"), alg);
                    Assert.True(claims.ExpiresAt > DateTimeOffset.UtcNow.AddSeconds(200), alg + " exp");
                }
            }
            Assert.True(kit.Hits("/.well-known/openid-configuration") >= 1, "discovery fetched");
            Assert.True(kit.Hits("/jwks") >= 1, "JWKS fetched");
        }

        [Test]
        public void WarmKeysNeverTouchTheNetwork()
        {
            using (var c = kit.Client())
            {
                c.Prefetch();
                string[] tokens = { kit.Token("RS256"), kit.Token("ES256") };
                c.Validate(tokens[0]);
                kit.ResetStats();
                for (int i = 0; i < 200; i++) c.Validate(tokens[i % 2]);
                Assert.AreEqual(0L, kit.Hits("/jwks"), "JWKS hits with warm keys");
                Assert.AreEqual(0L, kit.Hits("/.well-known/openid-configuration"), "discovery hits with warm keys");
            }
        }

        [Test]
        public async Task PrefetchAsyncThenValidateAsync()
        {
            using (var c = kit.Client())
            {
                await c.PrefetchAsync();
                var claims = await c.ValidateAsync(kit.Token("ES256", query: "&sub=async-user"));
                Assert.AreEqual("async-user", claims.Subject);
            }
        }

        [Test]
        public async Task ThousandConcurrentValidateAsyncAwaited()
        {
            var tokens = Enumerable.Range(0, 8).Select(i => kit.Token(i % 2 == 0 ? "ES256" : "RS256", query: "&sub=user-" + i)).ToArray();
            using (var c = kit.Client())
            {
                var sw = Stopwatch.StartNew();
                var tasks = Enumerable.Range(0, 1000).Select(i => c.ValidateAsync(tokens[i % tokens.Length])).ToArray();
                var all = await Task.WhenAll(tasks);
                for (int i = 0; i < all.Length; i++) Assert.AreEqual("user-" + (i % tokens.Length), all[i].Subject, "task " + i);
                Console.WriteLine("      1000 ValidateAsync in {0} ms", sw.ElapsedMilliseconds);
            }
        }

        [Test]
        public async Task ThousandConcurrentValidateAsyncOnAColdCache()
        {
            var token = kit.Token("EdDSA", query: "&sub=cold");
            // A JWKS URL nobody fetched yet: every call starts cold; liboidc fetches it once.
            using (var c = kit.Client(o => o.JwksUri = kit.JwksUri + "?cold-start"))
            {
                kit.ResetStats();
                var all = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => c.ValidateAsync(token)));
                Assert.True(all.All(x => x.Subject == "cold"), "every task validated");
                Assert.AreEqual(1L, kit.Hits("/jwks"), "JWKS fetches for 1000 cold concurrent calls");
            }
        }

        [Test]
        public void BadTokensFromTheIssuerAreTyped()
        {
            using (var c = kit.Client(o => o.Realm = "cs-api"))
            {
                var e = Assert.Throws<TokenExpiredException>(() => c.Validate(TestEnv.HttpGet(kit.Admin + "/token?alg=RS256&aud=api://cs&exp_in=-400").Trim()));
                Assert.AreEqual(401, e.HttpStatus);
                Assert.Contains("realm=\"cs-api\"", e.WwwAuthenticate);
                Assert.Contains("error=\"invalid_token\"", e.WwwAuthenticate);
                Assert.Throws<AudienceMismatchException>(() => c.Validate(kit.Token("RS256", aud: "someone-else")));
                Assert.Throws<IssuerMismatchException>(() => c.Validate(kit.Token("ES256", query: "&iss=https://evil.example")));
                Assert.Throws<TypeMismatchException>(() => c.Validate(kit.Token("ES256", query: "&typ=JWT")));
                Assert.Throws<TokenNotYetValidException>(() => c.Validate(kit.Token("ES256", query: "&nbf_in=600&exp_in=900")));
                var unknown = Assert.Throws<TokenValidationException>(() => c.Validate(kit.Token("ES256", query: "&kid=nobody")));
                Assert.AreEqual(OidcResult.UnknownKey, unknown.Result);
            }
        }

        [Test]
        public void AnUntrustedCertificateIsATlsError()
        {
            // Separate JWKS URLs so the process-wide key cache cannot answer for them.
            using (var c = kit.Client(o => { o.CaFile = null; o.JwksUri = kit.JwksUri + "?untrusted"; }))
            {
                var e = Assert.Throws<NetworkException>(() => c.Validate(kit.Token()));
                Assert.AreEqual(OidcResult.Tls, e.Result);
                Assert.True(e is TlsException);
                Assert.AreEqual(503, e.HttpStatus, "keys unavailable -> 503");
                Assert.AreEqual("Bearer", e.WwwAuthenticate);
            }
            using (var c = kit.Client(o => { o.CaFile = kit.WrongCaFile; o.JwksUri = kit.JwksUri + "?wrong-ca"; }))
                Assert.Throws<TlsException>(() => c.Prefetch());
        }

        [Test]
        public void AServerErrorOnTheKeySetIs503()
        {
            kit.Fault("path=/jwks&mode=500&count=50");
            try
            {
                using (var c = kit.Client(o => o.JwksUri = kit.JwksUri + "?fault-500"))
                {
                    var e = Assert.Throws<HttpStatusException>(() => c.Validate(kit.Token()));
                    Assert.AreEqual(503, e.HttpStatus);
                }
            }
            finally { kit.Fault("path=/jwks&mode=ok"); }
        }

        [Test]
        public void ReadmeValidationExampleRuns()
        {
            string token = kit.Token("ES256", aud: "https://api.example.com", query: "&sub=readme-user&scope=read");
            var r = Examples.Run("ValidateExample.exe", token, new Dictionary<string, string>
            {
                { "OIDC_ISSUER", kit.Issuer }, { "OIDC_CA_FILE", kit.CaFile }, { "OIDC_AUDIENCE", "https://api.example.com" },
            });
            Assert.AreEqual(0, r.Item1, "exit code; output:\n" + r.Item2);
            Assert.Contains("subject: readme-user", r.Item2);
            Assert.Contains("scope: read", r.Item2);
            var bad = Examples.Run("ValidateExample.exe", "not-a-token", new Dictionary<string, string>
            {
                { "OIDC_ISSUER", kit.Issuer }, { "OIDC_CA_FILE", kit.CaFile }, { "OIDC_AUDIENCE", "https://api.example.com" },
            });
            Assert.AreEqual(1, bad.Item1, "exit code for a bad token; output:\n" + bad.Item2);
            Assert.Contains("TOKEN_MALFORMED", bad.Item2);
        }
    }

    /// Runs the README examples compiled by test.sh (into $OIDC_CS_EXAMPLES_DIR).
    internal static class Examples
    {
        internal static Tuple<int, string> Run(string exe, string args, IDictionary<string, string> env)
        {
            string dir = TestEnv.Require("OIDC_CS_EXAMPLES_DIR", "where test.sh compiled the README examples");
            var psi = new ProcessStartInfo("mono", "--debug " + Path.Combine(dir, exe) + " " + args)
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            foreach (var kv in env) psi.EnvironmentVariables[kv.Key] = kv.Value;
            using (var p = Process.Start(psi))
            {
                var err = p.StandardError.ReadToEndAsync();
                string output = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(60000)) { p.Kill(); return Tuple.Create(-1, output + err.Result); }
                return Tuple.Create(p.ExitCode, output + err.Result);
            }
        }
    }
}
