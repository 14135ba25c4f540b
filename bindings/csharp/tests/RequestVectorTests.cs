// tests/vectors/requests.json through OidcClient.Authenticate: the same decision, code, status,
// error, WWW-Authenticate values (exactly, in order), DPoP-Nonce, token type and subject as the
// Rust core, C, Go and Ruby. The file runs at most once per process: the DPoP replay cache is
// process-wide, and a case replaying an earlier case's proof expects DPOP_REPLAY.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;

namespace Oidc.Tests
{
    public class RequestVectorTests
    {
        private static int ran;
        private Dictionary<string, object> v;
        private Dictionary<string, OidcClient> clients;

        internal static string Path { get { return System.IO.Path.Combine(TestEnv.RepoRoot, "tests", "vectors", "requests.json"); } }

        [OneTimeSetUp]
        public void SetUp()
        {
            Assert.True(File.Exists(Path), Path + " is missing (the shared request vectors)");
            v = Json.ParseObject(File.ReadAllText(Path));
            string jwks = Json.Write(v["jwks"]);
            clients = new Dictionary<string, OidcClient>();
            foreach (var kv in (Dictionary<string, object>)v["clients"])
                clients.Add(kv.Key, OidcClient.Create(Options((Dictionary<string, object>)kv.Value, jwks)));
        }

        [OneTimeTearDown]
        public void TearDown()
        {
            if (clients != null) foreach (var c in clients.Values) c.Dispose();
        }

        /// A client entry of the file; a null (or absent) member means "do not set".
        internal static OidcClientOptions Options(Dictionary<string, object> c, string jwks)
        {
            var o = new OidcClientOptions { Issuer = Str(c, "issuer"), JwksJson = jwks };
            object x;
            if (Has(c, "audiences", out x)) o.Audiences = Strings(x);
            if (Has(c, "expected_typ", out x)) o.ExpectedTyp = (string)x;
            if (Has(c, "algorithms", out x)) o.Algorithms = ((string)x).Split(',');
            if (Has(c, "required_claims", out x)) o.RequiredClaims = Strings(x);
            if (Has(c, "leeway_secs", out x)) o.LeewaySeconds = Int(x);
            if (Has(c, "max_token_bytes", out x)) o.MaxTokenBytes = Int(x);
            if (Has(c, "realm", out x)) o.Realm = (string)x;
            if (Has(c, "required_scopes", out x)) o.RequiredScopes = Strings(x);
            if (Has(c, "claim_values", out x))
            {
                var d = new Dictionary<string, IList<string>>();
                foreach (var kv in (Dictionary<string, object>)x) d.Add(kv.Key, Strings(kv.Value));
                o.AllowedClaimValues = d;
            }
            if (Has(c, "dpop_mode", out x))
                o.DpopMode = (DpopMode)Enum.Parse(typeof(DpopMode), (string)x, true); // "allowed" | "required" | "disabled"
            if (Has(c, "dpop_algorithms", out x)) o.DpopAlgorithms = ((string)x).Split(',');
            if (Has(c, "dpop_proof_window_secs", out x)) o.DpopProofWindowSeconds = Int(x);
            if (Has(c, "dpop_nonce_secret_hex", out x)) o.DpopNonceSecret = Hex((string)x);
            if (Has(c, "dpop_nonce_lifetime_secs", out x)) o.DpopNonceLifetimeSeconds = Int(x);
            if (Has(c, "require_mtls", out x)) o.RequireMtls = (bool)x;
            if (Has(c, "token_cache_size", out x)) o.TokenCacheSize = Int(x);
            return o;
        }

        private static bool Has(Dictionary<string, object> d, string k, out object x)
        {
            return d.TryGetValue(k, out x) && x != null;
        }

        private static string Str(Dictionary<string, object> d, string k)
        {
            object x;
            return d.TryGetValue(k, out x) ? x as string : null;
        }

        private static List<string> Strings(object x) { return ((List<object>)x).Cast<string>().ToList(); }

        private static int Int(object x) { return checked((int)(long)x); }

        private static byte[] Hex(string s)
        {
            var b = new byte[s.Length / 2];
            for (int i = 0; i < b.Length; i++) b[i] = byte.Parse(s.Substring(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return b;
        }

        private IEnumerable<Dictionary<string, object>> Cases
        {
            get { return ((List<object>)v["cases"]).Cast<Dictionary<string, object>>(); }
        }

        private DateTimeOffset Now { get { return DateTimeOffset.FromUnixTimeSeconds((long)v["now"]); } }

        private Decision Run(Dictionary<string, object> c, bool async)
        {
            var r = (Dictionary<string, object>)c["request"];
            object x;
            var authz = Has(r, "authorization", out x) ? Strings(x) : null;
            var dpop = Has(r, "dpop", out x) ? Strings(x) : null;
            byte[] cert = Has(r, "client_cert_b64", out x) ? Convert.FromBase64String((string)x) : null;
            var client = clients[(string)c["client"]];
            return async
                ? client.AuthenticateAsync((string)r["method"], (string)r["url"], authz, dpop, cert, Now).Result
                : client.Authenticate((string)r["method"], (string)r["url"], authz, dpop, cert, Now);
        }

        /// Every member of "expect" that differs, as "name: member want X got Y" lines.
        private static List<string> Compare(Dictionary<string, object> c, Decision d)
        {
            var e = (Dictionary<string, object>)c["expect"];
            var wrong = new List<string>();
            string name = (string)c["name"];
            Action<string, object, object> check = (member, expected, got) =>
            {
                if (!Equals(expected, got)) wrong.Add(name + ": " + member + " want <" + expected + "> got <" + got + ">");
            };
            check("allowed", (bool)e["allowed"], d.Allowed);
            check("code", (long)e["code"], (long)d.Code);
            if (e.ContainsKey("code_name")) check("code_name", Str(e, "code_name"), d.CodeName);
            check("status", (long)e["status"], (long)d.HttpStatus);
            check("error", Str(e, "error"), d.Error);
            object ch;
            var want = e.TryGetValue("challenges", out ch) && ch != null ? Strings(ch) : new List<string>();
            check("challenges", string.Join("\n", want), string.Join("\n", d.Challenges));
            check("dpop_nonce", Str(e, "dpop_nonce"), d.DpopNonce);
            check("token_type", Str(e, "token_type"), d.TokenType);
            check("sub", Str(e, "sub"), d.Claims != null ? d.Claims.Subject : null);
            if (d.Allowed != (d.Claims != null)) wrong.Add(name + ": claims present exactly when allowed");
            return wrong;
        }

        [Test]
        public void EveryRequestVectorHasTheSameDecision()
        {
            Assert.AreEqual(0, Interlocked.Exchange(ref ran, 1), "requests.json runs at most once per process");
            int n = 0;
            var wrong = new List<string>();
            foreach (var c in Cases)
            {
                n++;
                Decision d;
                try { d = Run(c, false); }
                catch (OidcException ex) { wrong.Add(c["name"] + ": threw " + ex.Name + ": " + ex.Message); continue; }
                wrong.AddRange(Compare(c, d));
            }
            Console.WriteLine("      " + n + " request vectors");
            Assert.True(n >= 20, "at least 20 request vectors, found " + n);
            Assert.True(wrong.Count == 0, wrong.Count + " mismatches:\n" + string.Join("\n", wrong));
        }

        /// The non-blocking twin gives the same decisions. Only cases without a DPoP proof: a
        /// proof may be used once per process (EveryRequestVectorHasTheSameDecision's run).
        [Test]
        public void AuthenticateAsyncGivesTheSameDecisionsWithoutProofs()
        {
            int n = 0;
            var wrong = new List<string>();
            foreach (var c in Cases)
            {
                object x;
                if (Has((Dictionary<string, object>)c["request"], "dpop", out x) && ((List<object>)x).Count > 0) continue;
                n++;
                wrong.AddRange(Compare(c, Run(c, true)));
            }
            Assert.True(n >= 10, "at least 10 cases without a proof, found " + n);
            Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        }

        [Test]
        public void EveryDenialCodeIsInTheBindingsTable()
        {
            foreach (var c in Cases)
            {
                int code = checked((int)(long)((Dictionary<string, object>)c["expect"])["code"]);
                Assert.True(ResultTable.ByCode.ContainsKey(code), c["name"] + ": code " + code + " is not in ResultTable");
            }
        }
    }
}
