// tests/vectors/validation.json: the same outcome, code and name as the Rust core and the C ABI.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Oidc.Tests
{
    public class VectorTests
    {
        private Dictionary<string, object> v;
        private OidcClient client;

        internal static OidcClientOptions Options(Dictionary<string, object> v)
        {
            var c = (Dictionary<string, object>)v["config"];
            return new OidcClientOptions
            {
                Issuer = (string)c["issuer"],
                JwksJson = JsonText(v["jwks"]),
                Audiences = ((List<object>)c["audiences"]).Cast<string>().ToList(),
                ExpectedTyp = (string)c["expected_typ"],
                RequiredClaims = ((List<object>)c["required_claims"]).Cast<string>().ToList(),
                Algorithms = ((string)c["algorithms"]).Split(','),
                LeewaySeconds = (int)(long)c["leeway_secs"],
                MaxTokenBytes = (int)(long)c["max_token_bytes"],
            };
        }

        internal static Dictionary<string, object> Load()
        {
            return Json.ParseObject(File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "tests", "vectors", "validation.json")));
        }

        [OneTimeSetUp]
        public void SetUp()
        {
            v = Load();
            client = OidcClient.Create(Options(v));
        }

        [OneTimeTearDown]
        public void TearDown() { client.Dispose(); }

        private IEnumerable<Dictionary<string, object>> Cases
        {
            get { return ((List<object>)v["cases"]).Cast<Dictionary<string, object>>(); }
        }

        private DateTimeOffset Now { get { return DateTimeOffset.FromUnixTimeSeconds((long)v["now"]); } }

        [Test]
        public void EveryVectorHasTheSameOutcome()
        {
            int n = 0;
            var wrong = new List<string>();
            foreach (var c in Cases)
            {
                n++;
                int want = (int)(long)c["code"];
                string wantName = (string)c["expect"];
                int got; string gotName; Type type = null;
                try
                {
                    var claims = client.ValidateAt((string)c["token"], Now);
                    got = 0; gotName = "OK";
                    Assert.AreEqual("alice", claims.Subject, (string)c["name"]);
                }
                catch (OidcException e)
                {
                    got = e.Code; gotName = e.Name; type = e.GetType();
                    Assert.True(e is TokenValidationException, c["name"] + ": a 300s code maps to TokenValidationException, got " + type.Name);
                    // 401 + invalid_token for a bad token; 503 when the key is the problem (KEY_REJECTED).
                    Assert.True(e.HttpStatus == 401 || e.HttpStatus == 503, c["name"] + " http status " + e.HttpStatus);
                    if (e.HttpStatus == 401)
                    {
                        Assert.AreEqual("invalid_token", e.OAuthError, c["name"] + " oauth error");
                        Assert.Contains("error=\"invalid_token\"", e.WwwAuthenticate, (string)c["name"]);
                    }
                    Assert.True(!string.IsNullOrEmpty(e.Message), c["name"] + " message");
                }
                if (got != want || gotName != wantName)
                    wrong.Add(c["name"] + ": want " + want + " " + wantName + ", got " + got + " " + gotName);
            }
            Assert.True(n >= 30, "at least 30 vectors, found " + n);
            Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        }

        [Test]
        public void ExceptionTypesFollowTheNames()
        {
            foreach (var c in Cases)
            {
                if ((long)c["code"] == 0) continue;
                var e = Assert.Throws<OidcException>(() => client.ValidateAt((string)c["token"], Now));
                string pascal = string.Concat(((string)c["expect"]).Split('_').Select(w => w[0] + w.Substring(1).ToLowerInvariant()));
                Assert.AreEqual(pascal + "Exception", e.GetType().Name, (string)c["name"]);
                Assert.AreEqual(pascal, e.Result.ToString(), (string)c["name"]);
            }
        }

        [Test]
        public void AsyncGivesTheSameOutcomes()
        {
            var tasks = Cases.Select(c => Tuple.Create(c, client.ValidateAtAsync((string)c["token"], Now))).ToList();
            foreach (var t in tasks)
            {
                int code;
                try { t.Item2.Wait(); code = 0; }
                catch (AggregateException e) { code = ((OidcException)e.InnerException).Code; }
                Assert.AreEqual((int)(long)t.Item1["code"], code, (string)t.Item1["name"]);
            }
        }

        [Test]
        public void ValidClaimsAreTyped()
        {
            var c = Cases.First(x => (string)x["name"] == "valid RS256");
            var claims = client.ValidateAt((string)c["token"], Now);
            Assert.AreEqual("alice", claims.Subject);
            Assert.AreEqual("https://issuer.vectors.test", claims.Issuer);
            Assert.AreEqual("api://vectors", claims.Audiences.Single());
            Assert.AreEqual("read write", claims.GetString("scope"));
            Assert.AreEqual(DateTimeOffset.FromUnixTimeSeconds(1800000300), claims.ExpiresAt.Value);
            Assert.AreEqual("svc", claims.ClientId);
            Assert.AreEqual("svc", (string)claims["client_id"]);
            Assert.AreEqual(1799999990L, (long)claims["iat"]);
            Assert.True(claims.Count >= 8);
            var arr = Cases.First(x => (string)x["name"] == "audience in an array");
            var aud = client.ValidateAt((string)arr["token"], Now).Audiences;
            Assert.AreEqual("other,api://vectors", string.Join(",", aud));
        }

        /// Re-serialise a parsed JSON value (for the static JWKS).
        internal static string JsonText(object o)
        {
            var sb = new System.Text.StringBuilder();
            Write(sb, o);
            return sb.ToString();
        }

        private static void Write(System.Text.StringBuilder sb, object o)
        {
            if (o == null) { sb.Append("null"); return; }
            var s = o as string;
            if (s != null)
            {
                sb.Append('"');
                foreach (char ch in s)
                {
                    if (ch == '"' || ch == '\\') sb.Append('\\').Append(ch);
                    else if (ch < 0x20) sb.AppendFormat("\\u{0:x4}", (int)ch);
                    else sb.Append(ch);
                }
                sb.Append('"');
                return;
            }
            if (o is bool) { sb.Append((bool)o ? "true" : "false"); return; }
            if (o is long) { sb.Append((long)o); return; }
            if (o is double) { sb.Append(((double)o).ToString("R", System.Globalization.CultureInfo.InvariantCulture)); return; }
            var d = o as Dictionary<string, object>;
            if (d != null)
            {
                sb.Append('{');
                bool first = true;
                foreach (var kv in d) { if (!first) sb.Append(','); first = false; Write(sb, kv.Key); sb.Append(':'); Write(sb, kv.Value); }
                sb.Append('}');
                return;
            }
            var l = (List<object>)o;
            sb.Append('[');
            for (int i = 0; i < l.Count; i++) { if (i > 0) sb.Append(','); Write(sb, l[i]); }
            sb.Append(']');
        }
    }
}
