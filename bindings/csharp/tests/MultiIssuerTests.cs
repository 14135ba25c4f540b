// Several issuers, policy documents and explain mode (issue 12): the shared vectors
// tests/vectors/multi_issuer.json and tests/vectors/policy.json through this binding's options,
// the explanations, and misuse of the new calls.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace Oidc.Tests
{
    /// Shared helpers: the vector files, options built from them, deciding every case.
    internal static class Multi
    {
        internal static Dictionary<string, object> Load(string file)
        {
            return Json.ParseObject(File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "tests", "vectors", file)));
        }

        internal static List<string> Strings(object list)
        {
            return ((List<object>)list).Cast<string>().ToList();
        }

        internal static IEnumerable<Dictionary<string, object>> Cases(Dictionary<string, object> v)
        {
            return ((List<object>)v["cases"]).Cast<Dictionary<string, object>>();
        }

        internal static DateTimeOffset Now(Dictionary<string, object> v)
        {
            return DateTimeOffset.FromUnixTimeSeconds((long)v["now"]);
        }

        /// multi_issuer.json's `description`: the validator-level `config`, plus one added issuer per
        /// `issuers` entry (its own static JWKS, audiences, algorithms).
        internal static OidcClientOptions Options(Dictionary<string, object> v)
        {
            var c = (Dictionary<string, object>)v["config"];
            var o = new OidcClientOptions
            {
                Audiences = Strings(c["audiences"]),
                RequiredClaims = Strings(c["required_claims"]),
                LeewaySeconds = (int)(long)c["leeway_secs"],
                MaxTokenBytes = (int)(long)c["max_token_bytes"],
                Issuers = new List<IssuerOptions>(),
            };
            foreach (Dictionary<string, object> i in (List<object>)v["issuers"])
            {
                var io = new IssuerOptions((string)i["issuer"])
                {
                    Algorithms = ((string)i["algorithms"]).Split(','),
                };
                // an entry with "tenants" is a template: no jwks, keys discovered per tenant
                if (i.ContainsKey("jwks")) io.JwksJson = VectorTests.JsonText(i["jwks"]);
                if (i.ContainsKey("tenants")) io.Tenants = Strings(i["tenants"]);
                var aud = Strings(i["audiences"]);
                if (aud.Count > 0) io.Audiences = aud; // none: the validator's audiences
                o.Issuers.Add(io);
            }
            return o;
        }

        /// Validate every case of `v` at its `now`; the cases whose code or name differ.
        internal static List<string> Wrong(OidcClient client, Dictionary<string, object> v, string label)
        {
            var wrong = new List<string>();
            int n = 0;
            foreach (var c in Cases(v))
            {
                n++;
                int got;
                string gotName;
                try
                {
                    client.ValidateAt((string)c["token"], Now(v));
                    got = 0; gotName = "OK";
                }
                catch (OidcException e) { got = e.Code; gotName = e.Name; }
                if (got != (int)(long)c["code"] || gotName != (string)c["expect"])
                    wrong.Add(label + ": " + c["name"] + ": want " + c["code"] + " " + c["expect"] + ", got " + got + " " + gotName);
            }
            if (n == 0) wrong.Add(label + ": no cases");
            return wrong;
        }

        internal static Dictionary<string, object> Case(Dictionary<string, object> v, string name)
        {
            return Cases(v).First(c => (string)c["name"] == name);
        }
    }

    /// (a) tests/vectors/multi_issuer.json through IssuerOptions.
    public class MultiIssuerVectorTests
    {
        private Dictionary<string, object> v;

        [OneTimeSetUp]
        public void SetUp() { v = Multi.Load("multi_issuer.json"); }

        [Test]
        public void EveryMultiIssuerCaseHasTheExpectedCode()
        {
            Assert.True(Multi.Cases(v).Count() >= 15, "at least 15 cases");
            Assert.True(Multi.Cases(v).Any(c => (long)c["code"] == 0) && Multi.Cases(v).Any(c => (long)c["code"] != 0), "both outcomes");
            using (var client = OidcClient.Create(Multi.Options(v)))
            {
                var wrong = Multi.Wrong(client, v, "builder");
                Assert.True(wrong.Count == 0, string.Join("\n", wrong));
            }
        }

        [Test]
        public void WithoutTheAddedIssuersTheTokensAreRefused()
        {
            // The same options with only the first issuer: B's valid tokens now name an unknown issuer.
            var o = Multi.Options(v);
            o.Issuers = o.Issuers.Take(1).ToList();
            using (var client = OidcClient.Create(o))
            {
                var b = Multi.Case(v, "issuer B, B's key");
                var e = Assert.Throws<IssuerMismatchException>(() => client.ValidateAt((string)b["token"], Multi.Now(v)));
                Assert.AreEqual(401, e.HttpStatus);
                client.ValidateAt((string)Multi.Case(v, "issuer A, A's key")["token"], Multi.Now(v));
            }
        }

        [Test]
        public void TheOwnIssuerIsTheFirstEntry()
        {
            // A's settings as the client's own issuer, B added: the same outcomes.
            var o = Multi.Options(v);
            var a = o.Issuers[0];
            o.Issuer = a.Issuer;
            o.JwksJson = a.JwksJson;
            o.Algorithms = a.Algorithms;
            o.Issuers.RemoveAt(0);
            using (var client = OidcClient.Create(o))
            {
                var wrong = Multi.Wrong(client, v, "own issuer A");
                Assert.True(wrong.Count == 0, string.Join("\n", wrong));
            }
        }

        [Test]
        public void AsyncValidationChoosesTheSameIssuer()
        {
            using (var client = OidcClient.Create(Multi.Options(v)))
            {
                foreach (var c in Multi.Cases(v))
                {
                    int code;
                    try { client.ValidateAtAsync((string)c["token"], Multi.Now(v)).Wait(); code = 0; }
                    catch (AggregateException e) { code = ((OidcException)e.InnerException).Code; }
                    Assert.AreEqual((int)(long)c["code"], code, (string)c["name"]);
                }
            }
        }
    }

    /// (b) tests/vectors/policy.json: documents, files, export and reload, malformed documents.
    public class PolicyVectorTests
    {
        private Dictionary<string, object> p;
        private string dir;

        [OneTimeSetUp]
        public void SetUp()
        {
            p = Multi.Load("policy.json");
            dir = TestEnv.TempDir("oidc-cs-policy");
        }

        [OneTimeTearDown]
        public void TearDown() { try { Directory.Delete(dir, true); } catch (IOException) { } }

        private IEnumerable<Dictionary<string, object>> Equivalents
        {
            get { return ((List<object>)p["equivalents"]).Cast<Dictionary<string, object>>(); }
        }

        private IEnumerable<Dictionary<string, object>> Malformed
        {
            get { return ((List<object>)p["malformed"]).Cast<Dictionary<string, object>>(); }
        }

        [Test]
        public void EachDocumentDecidesItsVectorFile()
        {
            int n = 0;
            var wrong = new List<string>();
            foreach (var e in Equivalents)
            {
                n++;
                string file = (string)e["vectors"];
                var v = Multi.Load(file);
                string doc = VectorTests.JsonText(e["policy"]);
                using (var client = OidcClient.Create(new OidcClientOptions { Policy = doc }))
                    wrong.AddRange(Multi.Wrong(client, v, file + " (text)"));
            }
            Assert.True(n >= 2, "at least 2 equivalents, found " + n);
            Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        }

        [Test]
        public void EachDocumentDecidesItsVectorFileFromAFile()
        {
            var wrong = new List<string>();
            foreach (var e in Equivalents)
            {
                string file = (string)e["vectors"];
                string path = Path.Combine(dir, "policy-" + file);
                File.WriteAllText(path, VectorTests.JsonText(e["policy"]), new UTF8Encoding(false));
                using (var client = OidcClient.Create(new OidcClientOptions { PolicyFile = path }))
                    wrong.AddRange(Multi.Wrong(client, Multi.Load(file), file + " (file)"));
            }
            Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        }

        [Test]
        public void TheExportReloadedDecidesTheSameAndExportsTheSameText()
        {
            var wrong = new List<string>();
            foreach (var e in Equivalents)
            {
                string file = (string)e["vectors"];
                var v = Multi.Load(file);
                string exported;
                using (var client = OidcClient.Create(new OidcClientOptions { Policy = VectorTests.JsonText(e["policy"]) }))
                    exported = client.ExportPolicy();
                Assert.AreEqual(1L, (long)Json.ParseObject(exported)["version"], file + ": export version");
                using (var again = OidcClient.Create(new OidcClientOptions { Policy = exported }))
                {
                    wrong.AddRange(Multi.Wrong(again, v, file + " (exported)"));
                    Assert.AreEqual(exported, again.ExportPolicy(), file + ": the export of the reloaded export");
                }
            }
            Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        }

        [Test]
        public void TheBuilderOptionsExportTheSameDocumentAsThePolicy()
        {
            // multi_issuer.json's builder calls and its policy document: two spellings of one configuration.
            var e = Equivalents.First(x => (string)x["vectors"] == "multi_issuer.json");
            string fromOptions, fromDocument;
            using (var a = OidcClient.Create(Multi.Options(Multi.Load("multi_issuer.json")))) fromOptions = a.ExportPolicy();
            using (var b = OidcClient.Create(new OidcClientOptions { Policy = VectorTests.JsonText(e["policy"]) })) fromDocument = b.ExportPolicy();
            Assert.AreEqual(fromDocument, fromOptions);
        }

        [Test]
        public void EveryMalformedDocumentFailsWithItsPath()
        {
            int n = 0;
            foreach (var m in Malformed)
            {
                n++;
                string name = (string)m["name"], doc = (string)m["document"], path = (string)m["path"];
                var e = Assert.Throws<InvalidConfigException>(() => OidcClient.Create(new OidcClientOptions { Policy = doc }), name);
                Assert.AreEqual((int)OidcResult.InvalidConfig, e.Code, name);
                Assert.AreEqual("INVALID_CONFIG", e.Name, name);
                Assert.Contains(path + ":", e.Message, name);
            }
            Assert.True(n >= 10, "at least 10 malformed documents, found " + n);
        }

        [Test]
        public void EveryMalformedDocumentFailsFromAFileToo()
        {
            foreach (var m in Malformed)
            {
                string name = (string)m["name"], path = Path.Combine(dir, "malformed.json");
                File.WriteAllText(path, (string)m["document"], new UTF8Encoding(false));
                var e = Assert.Throws<InvalidConfigException>(() => OidcClient.Create(new OidcClientOptions { PolicyFile = path }), name);
                Assert.Contains((string)m["path"] + ":", e.Message, name);
            }
        }

        [Test]
        public void AfterAMalformedDocumentTheBuilderRefusesToBuild()
        {
            // The C contract under OidcClient.Create (which stops at the load): load fails, then build fails.
            foreach (var m in Malformed)
            {
                string name = (string)m["name"];
                IntPtr b, err;
                OidcException.Check(Native.oidc_validator_builder_new(out b, out err), err);
                byte[] doc = Encoding.UTF8.GetBytes((string)m["document"]);
                uint rc = NativeIssuers.oidc_validator_builder_load_policy(b, doc, (UIntPtr)doc.Length, out err);
                var load = OidcException.FromNative(rc, err);
                Assert.AreEqual((int)OidcResult.InvalidConfig, load.Code, name + ": load");
                Assert.Contains((string)m["path"] + ":", load.Message, name);
                ClientHandle h;
                rc = Native.oidc_validator_builder_build(b, out h, out err); // consumes b
                if (h != null && rc != 0) h.SetHandleAsInvalid();
                var build = OidcException.FromNative(rc, err);
                if (rc == 0) h.Dispose();
                Assert.AreEqual((int)OidcResult.InvalidConfig, build.Code, name + ": build after a failed load");
            }
        }

        [Test]
        public void OptionsApplyOnTopOfTheDocument()
        {
            // validation.json's document with an extra audience set as an option: both in the export.
            var e = Equivalents.First(x => (string)x["vectors"] == "validation.json");
            var o = new OidcClientOptions { Policy = VectorTests.JsonText(e["policy"]), Audiences = new[] { "api://extra" }, Realm = "r1" };
            using (var client = OidcClient.Create(o))
            {
                var d = Json.ParseObject(client.ExportPolicy());
                Assert.True(Multi.Strings(d["audiences"]).Contains("api://extra"), "the option's audience: " + client.ExportPolicy());
                Assert.AreEqual("r1", (string)d["realm"]);
                Assert.AreEqual("https://issuer.vectors.test", (string)d["issuer"], "the document's issuer");
            }
        }
    }

    /// (c) explain mode for tokens and requests.
    public class ExplainTests
    {
        private Dictionary<string, object> v;
        private OidcClient client;

        [OneTimeSetUp]
        public void SetUp()
        {
            v = Multi.Load("multi_issuer.json");
            client = OidcClient.Create(Multi.Options(v));
        }

        [OneTimeTearDown]
        public void TearDown() { client.Dispose(); }

        private static void NoTokenText(string json, string token, string what)
        {
            var parts = token.Split('.');
            Assert.DoesNotContain(token, json, what + ": token text");
            foreach (var part in parts)
                if (part.Length > 16) Assert.DoesNotContain(part, json, what + ": a token segment");
        }

        private static Dictionary<string, object> Issuer(Explanation x)
        {
            var i = x["issuer"] as Dictionary<string, object>;
            Assert.NotNull(i, "an issuer member: " + x.Json);
            return i;
        }

        [Test]
        public void AnAcceptedTokenIsExplainedAsAllowWithItsIssuer()
        {
            var c = Multi.Case(v, "issuer B, B's key");
            Assert.AreEqual(0L, (long)c["code"]);
            var x = client.Explain((string)c["token"], Multi.Now(v));
            Assert.AreEqual("allow", x.Decision, x.Json);
            Assert.True(x.Allowed);
            var i = Issuer(x);
            Assert.AreEqual("https://b.issuers.vectors.test/tenant-b/v2.0", i["iss"] as string, "the chosen issuer");
            Assert.AreEqual("exact", i["chosen"] as string);
            Assert.AreEqual("pass", x.Outcome("key_and_signature"), x.Json);
            NoTokenText(x.Json, (string)c["token"], "allow");
        }

        [Test]
        public void ARefusedTokenIsExplainedAsDenyWithItsIssuer()
        {
            var c = Multi.Case(v, "issuer B with A's audience");
            Assert.AreEqual("AUDIENCE_MISMATCH", (string)c["expect"]);
            var x = client.Explain((string)c["token"], Multi.Now(v));
            Assert.AreEqual("deny", x.Decision, x.Json);
            Assert.False(x.Allowed);
            var i = Issuer(x);
            Assert.AreEqual("https://b.issuers.vectors.test/tenant-b/v2.0", i["iss"] as string, "the chosen issuer");
            Assert.AreEqual("fail", x.Outcome("claim aud"), x.Json);
            Assert.AreEqual("pass", x.Outcome("key_and_signature"), x.Json);
            NoTokenText(x.Json, (string)c["token"], "deny");
        }

        [Test]
        public void EveryCaseIsExplainedWithTheDecisionOfValidate()
        {
            foreach (var c in Multi.Cases(v))
            {
                var x = client.Explain((string)c["token"], Multi.Now(v));
                Assert.AreEqual((long)c["code"] == 0 ? "allow" : "deny", x.Decision, c["name"] + ": " + x.Json);
                NoTokenText(x.Json, (string)c["token"], (string)c["name"]);
            }
        }

        [Test]
        public void AnUnknownIssuerIsExplainedAsNoneChosen()
        {
            var c = Multi.Case(v, "unknown issuer");
            var x = client.Explain((string)c["token"], Multi.Now(v));
            Assert.AreEqual("deny", x.Decision);
            Assert.AreEqual("none", Issuer(x)["chosen"] as string, x.Json);
            Assert.AreEqual("skipped", x.Outcome("key_and_signature"), x.Json);
        }

        [Test]
        public void TheTimeMatters()
        {
            // The same accepted token a day after its expiry: deny, with the exp check failing.
            var c = Multi.Case(v, "issuer A, A's key");
            var x = client.Explain((string)c["token"], Multi.Now(v).AddDays(1));
            Assert.AreEqual("deny", x.Decision, x.Json);
            Assert.AreEqual("fail", x.Outcome("claim exp"), x.Json);
        }

        [Test]
        public void ARequestIsExplained()
        {
            var ok = (string)Multi.Case(v, "issuer B, B's key")["token"];
            var x = client.ExplainRequest("GET", "https://api.example/items", new[] { "Bearer " + ok }, now: Multi.Now(v));
            Assert.AreEqual("allow", x.Decision, x.Json);
            var token = x["token"] as Dictionary<string, object>;
            Assert.NotNull(token, "the nested token explanation: " + x.Json);
            Assert.AreEqual("allow", token["decision"] as string);
            NoTokenText(x.Json, ok, "request allow");

            var bad = (string)Multi.Case(v, "issuer A with B's audience")["token"];
            x = client.ExplainRequest("GET", "https://api.example/items", new[] { "Bearer " + bad }, now: Multi.Now(v));
            Assert.AreEqual("deny", x.Decision, x.Json);
            Assert.AreEqual("fail", x.Outcome("token"), x.Json);
            NoTokenText(x.Json, bad, "request deny");

            // No credentials at all: deny, and the same decision as Authenticate.
            x = client.ExplainRequest("GET", "https://api.example/items", null, now: Multi.Now(v));
            Assert.AreEqual("deny", x.Decision, x.Json);
            var d = client.Authenticate("GET", "https://api.example/items", null, now: Multi.Now(v));
            Assert.False(d.Allowed);
        }
    }

    /// (d) misuse of the new calls: clear errors, no crash.
    public class MultiIssuerMisuseTests
    {
        private Dictionary<string, object> v;

        [OneTimeSetUp]
        public void SetUp() { v = Multi.Load("multi_issuer.json"); }

        private OidcClientOptions With(params IssuerOptions[] issuers)
        {
            var o = Multi.Options(v);
            foreach (var i in issuers) o.Issuers.Add(i);
            return o;
        }

        [Test]
        public void ANullIssuerEntryIsAnArgumentException()
        {
            var e = Assert.Throws<ArgumentException>(() => OidcClient.Create(With((IssuerOptions)null)));
            Assert.Contains("null", e.Message);
        }

        [Test]
        public void AnIssuerWithoutItsNameIsAConfigurationError()
        {
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(With(new IssuerOptions())));
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(With(new IssuerOptions(""))));
        }

        [Test]
        public void NullAndLoneSurrogateStringsAreArgumentExceptions()
        {
            Assert.Throws<ArgumentException>(() => OidcClient.Create(With(new IssuerOptions("https://c.example") { Audiences = new string[] { null } })));
            Assert.Throws<ArgumentException>(() => OidcClient.Create(With(new IssuerOptions("https://c.example") { Audiences = new[] { "a\ud800" } })));
            Assert.Throws<ArgumentException>(() => OidcClient.Create(With(new IssuerOptions("https://c.example\udc00"))));
            Assert.Throws<ArgumentException>(() => OidcClient.Create(new OidcClientOptions { Policy = "{\"version\":1,\"issuer\":\"\ud800\"}" }));
            Assert.Throws<ArgumentOutOfRangeException>(() => OidcClient.Create(With(new IssuerOptions("https://login.example/{tenant}/v2.0")
            {
                AnyTenant = true, TenantBounds = new TenantBounds { MaxInFlight = -1 },
            })));
        }

        [Test]
        public void TheCoreJudgesTheIssuerSettings()
        {
            // Each refused by liboidc (the binding only passes the values on).
            Assert.Throws<UnsupportedAlgorithmException>(() => OidcClient.Create(With(new IssuerOptions("https://c.example") { Algorithms = new[] { "HS256" } })));
            Assert.Throws<ConfigurationException>(() => OidcClient.Create(With(new IssuerOptions("https://login.example/{tenant}/v2.0"))), "a template without tenants");
            Assert.Throws<OidcException>(() => OidcClient.Create(With(new IssuerOptions("https://login.example/{tenant}/v2.0")
            {
                Tenants = new[] { "t1" }, AnyTenant = true,
            })), "a tenant list and any tenant");
            Assert.Throws<OidcException>(() => OidcClient.Create(With(new IssuerOptions("https://login.example/{tenant}/v2.0")
            {
                Tenants = new[] { "bad tenant!" },
            })), "a malformed tenant");
            Assert.Throws<OidcException>(() => OidcClient.Create(With(new IssuerOptions("https://login.example/{tenant}/v2.0")
            {
                Tenants = new[] { "t1" }, JwksJson = "{\"keys\":[]}",
            })), "a static key set for a template");
            Assert.Throws<InsecureUrlException>(() => OidcClient.Create(With(new IssuerOptions("https://c.example") { JwksUri = "http://c.example/keys" })));
            var many = Enumerable.Range(0, 70).Select(n => new IssuerOptions("https://i" + n + ".example") { JwksJson = "{\"keys\":[]}" }).ToArray();
            Assert.Throws<InvalidConfigException>(() => OidcClient.Create(With(many)), "more than 64 issuers");
        }

        [Test]
        public void BadPolicyFilesAreConfigurationErrors()
        {
            string dir = TestEnv.TempDir("oidc-cs-policy-misuse");
            try
            {
                var missing = Assert.Throws<InvalidConfigException>(() => OidcClient.Create(new OidcClientOptions { PolicyFile = Path.Combine(dir, "missing.json") }));
                Assert.Contains("policy file", missing.Message);
                string bad = Path.Combine(dir, "latin1.json");
                File.WriteAllBytes(bad, new byte[] { (byte)'{', (byte)'"', 0xff, 0xfe, (byte)'"', (byte)':', (byte)'1', (byte)'}' }); // not UTF-8
                Assert.Throws<ConfigurationException>(() => OidcClient.Create(new OidcClientOptions { PolicyFile = bad }));
                Assert.Throws<InvalidConfigException>(() => OidcClient.Create(new OidcClientOptions { PolicyFile = dir }), "a directory");
                Assert.Throws<InvalidConfigException>(() => OidcClient.Create(new OidcClientOptions { Policy = "" }), "an empty document");
            }
            finally { Directory.Delete(dir, true); }
        }

        [Test]
        public void TheNewCallsOnADisposedClientThrowObjectDisposed()
        {
            var client = OidcClient.Create(Multi.Options(v));
            string token = (string)Multi.Case(v, "issuer A, A's key")["token"];
            Assert.Throws<ArgumentNullException>(() => client.Explain(null));
            Assert.Throws<ArgumentNullException>(() => client.ExplainRequest("GET", null, null));
            Assert.Throws<InvalidArgumentException>(() => client.ExplainRequest("", "https://api.example/", null), "no method");
            Assert.Throws<InvalidArgumentException>(() => client.ExplainRequest("GET", "/relative", null), "not an absolute URL");
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.ExportPolicy());
            Assert.Throws<ObjectDisposedException>(() => client.Explain(token));
            Assert.Throws<ObjectDisposedException>(() => client.ExplainRequest("GET", "https://api.example/", new[] { "Bearer " + token }));
        }

        [Test]
        public void BadTokensAreExplainedNotThrown()
        {
            using (var client = OidcClient.Create(Multi.Options(v)))
            {
                foreach (var t in new[] { "", "x", "a.b.c", "\ud800.\udc00.x", new string('a', 20000) })
                {
                    var x = client.Explain(t, Multi.Now(v));
                    Assert.AreEqual("deny", x.Decision, "token <" + (t.Length > 20 ? t.Substring(0, 20) + "..." : t) + ">: " + x.Json);
                }
            }
        }

        [Test]
        public void AnIssuerBuilderCannotBeUsedAfterItWasConsumed()
        {
            IntPtr b, err;
            OidcException.Check(Native.oidc_validator_builder_new(out b, out err), err);
            try
            {
                var ib = IssuerBuilder.New("https://c.example");
                ib.Set("api", NativeIssuers.oidc_issuer_builder_add_audience);
                ib.AddTo(b);
                Assert.True(ib.IsConsumed);
                var e = Assert.Throws<ObjectDisposedException>(() => ib.Set("more", NativeIssuers.oidc_issuer_builder_add_audience));
                Assert.Contains("consumed", e.Message);
                Assert.Throws<ObjectDisposedException>(() => ib.AddTo(b), "added twice");
                Assert.Throws<ObjectDisposedException>(() => ib.Flag(NativeIssuers.oidc_issuer_builder_set_any_audience));
                Assert.Throws<ObjectDisposedException>(() => ib.SetTenantBounds(new TenantBounds()));
                ib.Dispose(); // nothing left to free
                ib.Dispose();

                // A freed (never added) builder is refused the same way.
                var freed = IssuerBuilder.New("https://d.example");
                freed.Dispose();
                Assert.Throws<ObjectDisposedException>(() => freed.AddTo(b));
            }
            finally
            {
                Native.oidc_validator_builder_free(b);
            }
        }

        [Test]
        public void AFailedIssuerSetterFailsItsAddAndTheBuild()
        {
            IntPtr b, err;
            OidcException.Check(Native.oidc_validator_builder_new(out b, out err), err);
            var ib = IssuerBuilder.New("https://c.example");
            Assert.Throws<UnsupportedAlgorithmException>(() => ib.Set("HS256", NativeIssuers.oidc_issuer_builder_set_algorithms));
            Assert.Throws<UnsupportedAlgorithmException>(() => ib.AddTo(b), "the setter's failure at add");
            Assert.True(ib.IsConsumed, "consumed even though the add failed");
            ClientHandle h;
            uint rc = Native.oidc_validator_builder_build(b, out h, out err);
            if (rc != 0 && h != null) h.SetHandleAsInvalid();
            var build = OidcException.FromNative(rc, err);
            if (rc == 0) h.Dispose();
            Assert.AreEqual((int)OidcResult.UnsupportedAlgorithm, build.Code, "the build reports it too");
        }

        [Test]
        public void TheAbiRefusesNullAndInvalidUtf8()
        {
            // What the wrapper never passes, checked at the P/Invoke level: NULL and bytes that are not UTF-8.
            IntPtr b, err, ib;
            OidcException.Check(Native.oidc_validator_builder_new(out b, out err), err);
            try
            {
                uint rc = NativeIssuers.oidc_validator_builder_add_issuer(b, IntPtr.Zero, out err);
                Assert.True(OidcException.FromNative(rc, err) is NullParameterException, "add_issuer(NULL)");
                rc = NativeIssuers.oidc_issuer_builder_add_audience(IntPtr.Zero, new byte[] { 0x61 }, (UIntPtr)1, out err);
                Assert.True(OidcException.FromNative(rc, err) is NullParameterException, "setter on NULL");
                rc = NativeIssuers.oidc_issuer_builder_new(new byte[] { 0x68, 0xff }, (UIntPtr)2, out ib, out err);
                Assert.True(OidcException.FromNative(rc, err) is InvalidUtf8Exception, "issuer not UTF-8");
                Assert.AreEqual(IntPtr.Zero, ib);
                rc = NativeIssuers.oidc_validator_builder_load_policy(b, new byte[] { 0x7b, 0xc3 }, (UIntPtr)2, out err);
                Assert.True(OidcException.FromNative(rc, err) is InvalidUtf8Exception, "document not UTF-8");
                rc = NativeIssuers.oidc_validator_builder_load_policy(IntPtr.Zero, new byte[] { 0x7b }, (UIntPtr)1, out err);
                Assert.True(OidcException.FromNative(rc, err) is NullParameterException, "load_policy on NULL");
            }
            finally
            {
                Native.oidc_validator_builder_free(b);
            }
        }
    }

    /// Every IssuerOptions setting reaches liboidc (read back from the exported policy).
    public class IssuerOptionsTests
    {
        [Test]
        public void EverySettingIsInTheExportedPolicy()
        {
            var vj = Multi.Load("validation.json");
            var o = new OidcClientOptions
            {
                Issuer = "https://main.example",
                JwksJson = VectorTests.JsonText(vj["jwks"]),
                Audiences = new[] { "api" },
                Issuers = new List<IssuerOptions>
                {
                    new IssuerOptions("https://login.example/{tenant}/v2.0")
                    {
                        Tenants = new[] { "t1", "t-2" },
                        TenantClaim = "tenant",
                        TenantBounds = new TenantBounds { MaxTenants = 5, NewPerWindow = 2, WindowSeconds = 30, MaxInFlight = 1 },
                        Audiences = new[] { "b1", "b2" },
                        Algorithms = new[] { "ES256", "PS256" },
                        ExpectedTyp = "at+jwt",
                        RequiredClaims = new[] { "email" },
                    },
                    new IssuerOptions("https://c.example") { JwksUri = "https://c.example/keys", AnyAudience = true },
                    new IssuerOptions("https://any.example/{tenant}") { AnyTenant = true },
                },
            };
            using (var client = OidcClient.Create(o))
            {
                string export = client.ExportPolicy();
                var d = Json.ParseObject(export);
                var issuers = ((List<object>)d["issuers"]).Cast<Dictionary<string, object>>().ToList();
                Assert.AreEqual(3, issuers.Count, export);
                var t = issuers[0];
                Assert.AreEqual("https://login.example/{tenant}/v2.0", t["issuer"] as string);
                Assert.AreEqual("t1,t-2", string.Join(",", Multi.Strings(t["tenants"])));
                Assert.AreEqual("tenant", t["tenant_claim"] as string);
                var bounds = (Dictionary<string, object>)t["tenant_bounds"];
                Assert.AreEqual(5L, (long)bounds["max_tenants"]);
                Assert.AreEqual(2L, (long)bounds["new_per_window"]);
                Assert.AreEqual(30L, (long)bounds["window_secs"]);
                Assert.AreEqual(1L, (long)bounds["max_in_flight"]);
                Assert.AreEqual("b1,b2", string.Join(",", Multi.Strings(t["audiences"])));
                Assert.AreEqual("ES256,PS256", string.Join(",", Multi.Strings(t["algorithms"]).OrderBy(a => a, StringComparer.Ordinal)));
                Assert.AreEqual("at+jwt", t["typ"] as string);
                Assert.AreEqual("email", string.Join(",", Multi.Strings(t["required_claims"])));
                var c = issuers[1];
                Assert.AreEqual("https://c.example/keys", c["jwks_uri"] as string);
                Assert.AreEqual(true, (bool)c["any_audience"]);
                Assert.AreEqual("any", issuers[2]["tenants"] as string, export);
                Assert.DoesNotContain("\"d\":", export, "no private key member in the export");
            }
        }

        [Test]
        public void ATemplateTenantOutsideTheListIsRefusedWithoutANetworkRequest()
        {
            var o = new OidcClientOptions
            {
                Audiences = new[] { "api://vectors" },
                Issuers = new List<IssuerOptions>
                {
                    new IssuerOptions("https://b.issuers.vectors.test/{tenant}/v2.0") { Tenants = new[] { "allowed" } },
                },
            };
            var v = Multi.Load("multi_issuer.json");
            using (var client = OidcClient.Create(o))
            {
                // B's token names tenant "tenant-b" of this template, which is not allowed: refused before
                // any request (b.issuers.vectors.test does not resolve: a fetch would be a network error).
                var token = (string)Multi.Case(v, "issuer B, B's key")["token"];
                Assert.Throws<IssuerMismatchException>(() => client.ValidateAt(token, Multi.Now(v)));
                var x = client.Explain(token, Multi.Now(v));
                Assert.AreEqual("deny", x.Decision);
            }
        }

        [Test]
        public void ToStringShowsNoKeyMaterial()
        {
            var jwks = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0LXNlY3JldA\"}]}";
            var io = new IssuerOptions("https://c.example") { JwksJson = jwks, Tenants = new[] { "t1" }, TenantBounds = new TenantBounds() };
            string s = io.ToString();
            Assert.Contains("https://c.example", s);
            Assert.Contains("t1", s);
            Assert.DoesNotContain("c2VjcmV0", s);
            var o = new OidcClientOptions { Policy = "{\"version\":1,\"jwks\":" + jwks + "}", Issuers = new[] { io } };
            Assert.DoesNotContain("c2VjcmV0", o.ToString());
        }
    }

    /// The README's policy example (compiled by test.sh) with the multi-issuer document.
    public class PolicyExampleTests
    {
        [Test]
        public void ReadmePolicyExampleRuns()
        {
            var p = Multi.Load("policy.json");
            var v = Multi.Load("multi_issuer.json");
            var e = ((List<object>)p["equivalents"]).Cast<Dictionary<string, object>>().First(x => (string)x["vectors"] == "multi_issuer.json");
            string dir = TestEnv.TempDir("oidc-cs-policy-example");
            try
            {
                string path = Path.Combine(dir, "policy.json");
                File.WriteAllText(path, VectorTests.JsonText(e["policy"]), new UTF8Encoding(false));
                string now = ((long)v["now"]).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var env = new Dictionary<string, string>();
                var ok = Examples.Run("PolicyExample.exe", path + " " + (string)Multi.Case(v, "issuer B, B's key")["token"] + " " + now, env);
                Assert.AreEqual(0, ok.Item1, "exit code; output:\n" + ok.Item2);
                Assert.Contains("decision: allow", ok.Item2);
                Assert.Contains("issuer: https://b.issuers.vectors.test/tenant-b/v2.0", ok.Item2);
                var bad = Examples.Run("PolicyExample.exe", path + " " + (string)Multi.Case(v, "issuer B with A's audience")["token"] + " " + now, env);
                Assert.AreEqual(1, bad.Item1, "exit code for a refused token; output:\n" + bad.Item2);
                Assert.Contains("decision: deny", bad.Item2);
                Assert.Contains("AUDIENCE_MISMATCH", bad.Item2);
                File.WriteAllText(path, "{\"version\":1,\"issuers\":[{\"audiences\":[\"a\"]}]}");
                var malformed = Examples.Run("PolicyExample.exe", path + " x " + now, env);
                Assert.True(malformed.Item1 != 0, "a malformed document fails Create");
                Assert.Contains("$.issuers[0].issuer:", malformed.Item2);
            }
            finally { Directory.Delete(dir, true); }
        }
    }
}
