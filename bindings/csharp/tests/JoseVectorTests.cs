// The shared issue-14 vectors, every case decided through this binding (OAuthClient.Decrypt,
// VerifyJws, ValidateLogoutToken; OidcClient.ValidateAt and OAuthClient.ValidateIdToken for the
// logout file's other paths), configured as the Rust runners configure them (tests/jose_jwe.rs,
// tests/jose_jws.rs, tests/logout_token.rs). A case the C ABI cannot express is skipped by name
// with its reason (printed, and counted: never silently).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    internal static class JoseVectors
    {
        internal static Dictionary<string, object> Load(string file)
        {
            return Json.ParseObject(File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "tests", "vectors", file)));
        }

        internal static IEnumerable<Dictionary<string, object>> Cases(Dictionary<string, object> v)
        {
            return ((List<object>)v["cases"]).Cast<Dictionary<string, object>>();
        }

        /// The outcome of one call: "OK" or the exception's code name (and the exception).
        internal static string Outcome(Action call, out OidcException error)
        {
            error = null;
            try { call(); return "OK"; }
            catch (AggregateException ae) when (ae.InnerException is OidcException) { error = (OidcException)ae.InnerException; return error.Name; }
            catch (OidcException e) { error = e; return e.Name; }
        }

        internal static void Report(string what, int decided, List<string> skipped, List<string> wrong)
        {
            Console.WriteLine("      {0}: {1} decided, {2} skipped", what, decided, skipped.Count);
            foreach (var s in skipped) Console.WriteLine("      skipped: " + s);
            Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        }
    }

    /// tests/vectors/jose_jwe.json through OAuthClient.Decrypt / DecryptAsync.
    public class JweVectorTests
    {
        private Dictionary<string, object> v;

        [OneTimeSetUp]
        public void SetUp() { v = JoseVectors.Load("jose_jwe.json"); }

        /// A protocol client with the case's key (its JSON text) and algorithms; no keys of the
        /// issuer are needed to decrypt (the issuer is never contacted).
        private static OAuthClient ClientFor(Dictionary<string, object> c)
        {
            var o = new OAuthClientOptions
            {
                Issuer = "https://jose.vectors.test",
                ClientId = "rp",
                DecryptionKeys = new[] { new DecryptionKey(VectorTests.JsonText(c["key"])) },
            };
            var algs = c["algorithms"] as string;
            if (algs != null) o.DecryptionAlgorithms = algs.Split(' ');
            return OAuthClient.Create(o);
        }

        private static string Skip(Dictionary<string, object> c)
        {
            if (c.ContainsKey("max_plaintext") && c["max_plaintext"] != null)
                return c["name"] + ": max_plaintext " + c["max_plaintext"] + " (the C ABI has no plaintext bound setter; the default 65536 applies)";
            return null;
        }

        private void Run(bool async)
        {
            int decided = 0, plaintexts = 0;
            var skipped = new List<string>();
            var wrong = new List<string>();
            foreach (var c in JoseVectors.Cases(v))
            {
                string name = (string)c["name"];
                string why = Skip(c);
                if (why != null) { skipped.Add(why); continue; }
                var expect = (Dictionary<string, object>)c["expect"];
                using (var client = ClientFor(c))
                {
                    JosePayload got = null;
                    OidcException e;
                    string outcome = JoseVectors.Outcome(() => got = async ? client.DecryptAsync((string)c["jwe"]).Result : client.Decrypt((string)c["jwe"]), out e);
                    decided++;
                    object pt;
                    if (expect.TryGetValue("plaintext_b64url", out pt))
                    {
                        if (outcome != "OK") { wrong.Add(name + ": " + outcome + " " + e.Message); continue; }
                        if (Base64Url.Encode(got.Payload) != (string)pt) wrong.Add(name + ": plaintext differs");
                        var h = got.Header;
                        if (!h.ContainsKey("alg") || !h.ContainsKey("enc")) wrong.Add(name + ": header without alg/enc: " + got.HeaderJson);
                        if (got.PayloadText == null) wrong.Add(name + ": the RFC plaintext is UTF-8 text");
                        else if (got.PayloadText != System.Text.Encoding.UTF8.GetString(got.Payload)) wrong.Add(name + ": text and bytes differ");
                        if (got.ToString().Contains("Frodo") || got.ToString().Contains("trust")) wrong.Add(name + ": ToString shows the plaintext");
                        plaintexts++;
                    }
                    else
                    {
                        string want = (string)expect["code"];
                        if (outcome != want) { wrong.Add(name + ": want " + want + ", got " + outcome + (e != null ? " (" + e.Message + ")" : "")); continue; }
                        object msg;
                        if (expect.TryGetValue("message", out msg) && e.Message != (string)msg) wrong.Add(name + ": message <" + e.Message + ">");
                        if (want == "DECRYPTION_FAILED" && !(e is DecryptionFailedException)) wrong.Add(name + ": " + e.GetType().Name);
                    }
                }
            }
            Assert.AreEqual(6, plaintexts, "the six RFC 7520 compact examples decrypt");
            Assert.True(decided >= 40, decided + " cases decided");
            JoseVectors.Report(async ? "jose_jwe.json (async)" : "jose_jwe.json", decided, skipped, wrong);
        }

        [Test]
        public void EveryJweVectorIsDecided() { Run(false); }

        [Test]
        public void EveryJweVectorIsDecidedAsync() { Run(true); }

        [Test]
        public void KeysAreNeverPrinted()
        {
            var c = JoseVectors.Cases(v).First(x => (string)x["name"] == "rsa-oaep-a256gcm");
            string key = VectorTests.JsonText(c["key"]);
            var d = (Dictionary<string, object>)c["key"];
            string secret = (string)d["d"];
            var k = new DecryptionKey(key, "k1");
            var o = new OAuthClientOptions { Issuer = "https://jose.vectors.test", ClientId = "rp", DecryptionKeys = new[] { k } };
            var vo = new OidcClientOptions { Issuer = "https://jose.vectors.test", AnyAudience = true, DecryptionKeys = new[] { k } };
            foreach (var s in new[] { k.ToString(), o.ToString(), vo.ToString() })
            {
                Assert.DoesNotContain(secret, s);
                Assert.DoesNotContain(secret.Substring(0, 12), s);
            }
            Assert.Contains("k1", k.ToString());
            // A bad key fails Create with liboidc's message, which does not echo the key either.
            var bad = key.Replace(secret, secret.Substring(0, 10));
            var e = Assert.Throws<OidcException>(() => OAuthClient.Create(new OAuthClientOptions
            {
                Issuer = "https://jose.vectors.test", ClientId = "rp", DecryptionKeys = new[] { new DecryptionKey(bad) },
            }));
            Assert.True(e is ConfigurationException || e is ApiMisuseException, e.GetType().Name + ": " + e.Message);
            Assert.DoesNotContain(secret.Substring(0, 10), e.Message);
            Assert.DoesNotContain(secret.Substring(0, 10), e.ToString());
        }
    }

    /// tests/vectors/jose_jws.json through OAuthClient.VerifyJws / VerifyJwsAsync.
    public class JwsVectorTests
    {
        private Dictionary<string, object> v;

        [OneTimeSetUp]
        public void SetUp() { v = JoseVectors.Load("jose_jws.json"); }

        private void Run(bool async)
        {
            int decided = 0, accepted = 0;
            var skipped = new List<string>();
            var wrong = new List<string>();
            var now = DateTimeOffset.FromUnixTimeSeconds(1800000000);
            foreach (var c in JoseVectors.Cases(v))
            {
                string name = (string)c["name"];
                var expect = (Dictionary<string, object>)c["expect"];
                var detached = c["detached_payload_b64url"] as string;
                byte[] payload = detached == null ? null : Base64Url.Decode(detached);
                using (var client = OAuthClient.Create(new OAuthClientOptions
                {
                    Issuer = "https://jose.vectors.test", ClientId = "rp", JwksJson = VectorTests.JsonText(c["jwks"]),
                    Algorithms = ((string)c["algorithms"]).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries),
                }))
                {
                    JosePayload got = null;
                    OidcException e;
                    string jws = (string)c["jws"];
                    string outcome = JoseVectors.Outcome(() => got = payload == null
                        ? (async ? client.VerifyJwsAsync(jws, (string)null, now).Result : client.VerifyJws(jws, (string)null, now))
                        : (async ? client.VerifyJwsAsync(jws, payload, now).Result : client.VerifyJws(jws, payload, now)), out e);
                    decided++;
                    object code;
                    if (!expect.TryGetValue("code", out code))
                    {
                        if (outcome != "OK") { wrong.Add(name + ": " + outcome + " " + e.Message); continue; }
                        if (Base64Url.Encode(got.Payload) != (string)expect["payload_b64url"]) wrong.Add(name + ": payload differs");
                        string wantHeader = VectorTests.JsonText(expect["header"]);
                        if (!SameJson(expect["header"], Json.Parse(got.HeaderJson))) wrong.Add(name + ": header " + got.HeaderJson + ", want " + wantHeader);
                        if (got.Algorithm != (string)((Dictionary<string, object>)expect["header"])["alg"]) wrong.Add(name + ": alg " + got.Algorithm);
                        accepted++;
                    }
                    else if (outcome != (string)code)
                        wrong.Add(name + ": want " + code + ", got " + outcome + (e != null ? " (" + e.Message + ")" : ""));
                }
            }
            Assert.True(accepted >= 20, accepted + " accepted");
            Assert.True(decided >= 60, decided + " decided");
            int total = JoseVectors.Cases(v).Count();
            Assert.True(decided == total, decided + " of " + total + " cases decided (every case runs)");
            JoseVectors.Report(async ? "jose_jws.json (async)" : "jose_jws.json", decided, skipped, wrong);
        }

        /// Structural JSON equality (member order ignored).
        internal static bool SameJson(object a, object b)
        {
            var da = a as Dictionary<string, object>;
            var db = b as Dictionary<string, object>;
            if (da != null || db != null)
                return da != null && db != null && da.Count == db.Count && da.All(kv => db.ContainsKey(kv.Key) && SameJson(kv.Value, db[kv.Key]));
            var la = a as List<object>;
            var lb = b as List<object>;
            if (la != null || lb != null)
                return la != null && lb != null && la.Count == lb.Count && la.Zip(lb, SameJson).All(x => x);
            return Equals(a, b);
        }

        [Test]
        public void EveryJwsVectorIsDecided() { Run(false); }

        [Test]
        public void EveryJwsVectorIsDecidedAsync() { Run(true); }

        [Test]
        public void ADetachedPayloadThatIsNotUtf8IsLiboidcsInvalidUtf8()
        {
            var c = JoseVectors.Cases(v).First(x => x["detached_payload_b64url"] != null && !((Dictionary<string, object>)x["expect"]).ContainsKey("code"));
            using (var client = OAuthClient.Create(new OAuthClientOptions { Issuer = "https://jose.vectors.test", ClientId = "rp", JwksJson = VectorTests.JsonText(c["jwks"]) }))
            {
                var e = Assert.Throws<InvalidUtf8Exception>(() => client.VerifyJws((string)c["jws"], new byte[] { 0xff, 0xfe }));
                Assert.Contains("PAYLOAD", e.Message);
                Assert.Throws<ArgumentNullException>(() => client.VerifyJws(null));
                Assert.Throws<ArgumentNullException>(() => client.Decrypt(null));
            }
        }
    }

    /// tests/vectors/logout.json: each case a fresh protocol client (and validator), steps in order.
    public class LogoutVectorTests
    {
        private Dictionary<string, object> v;

        [OneTimeSetUp]
        public void SetUp() { v = JoseVectors.Load("logout.json"); }

        private void Run(bool async)
        {
            var c0 = (Dictionary<string, object>)v["client"];
            string iss = (string)c0["issuer"], clientId = (string)c0["client_id"], jwks = VectorTests.JsonText(c0["jwks"]);
            int leeway = (int)(long)c0["leeway_secs"];
            var now = DateTimeOffset.FromUnixTimeSeconds((long)v["now"]);
            int steps = 0;
            var skipped = new List<string>();
            var wrong = new List<string>();
            // The protocol client has no leeway setter in the C ABI: the file's leeway must be liboidc's default (60 s).
            Assert.AreEqual(60, leeway, "logout.json leeway_secs (the OAuth client's leeway is liboidc's default)");
            foreach (var c in JoseVectors.Cases(v))
            {
                string name = (string)c["name"];
                var cc = (Dictionary<string, object>)c["client"];
                object untyped;
                var options = new OAuthClientOptions
                {
                    Issuer = iss, ClientId = clientId, JwksJson = jwks,
                    LogoutAcceptUntyped = cc.TryGetValue("accept_untyped", out untyped) && untyped is bool && (bool)untyped,
                };
                using (var rp = OAuthClient.Create(options))
                using (var rs = OidcClient.Create(new OidcClientOptions { Issuer = iss, JwksJson = jwks, Audiences = new[] { clientId }, LeewaySeconds = leeway }))
                {
                    int i = 0;
                    foreach (Dictionary<string, object> s in (List<object>)c["steps"])
                    {
                        steps++;
                        string token = (string)s["token"], path = (string)s["path"];
                        LogoutToken lt = null;
                        OidcException e;
                        string outcome;
                        switch (path)
                        {
                            case "logout_token":
                                outcome = JoseVectors.Outcome(() => lt = async ? rp.ValidateLogoutTokenAsync(token, now).Result : rp.ValidateLogoutToken(token, now), out e);
                                break;
                            case "access_token":
                                outcome = JoseVectors.Outcome(() => { if (async) rs.ValidateAtAsync(token, now).Wait(); else rs.ValidateAt(token, now); }, out e);
                                break;
                            case "id_token":
                                outcome = JoseVectors.Outcome(() => { if (async) rp.ValidateIdTokenAsync(token, now: now).Wait(); else rp.ValidateIdToken(token, now: now); }, out e);
                                break;
                            default:
                                throw new InvalidOperationException(name + ": unknown path " + path);
                        }
                        string want = (string)s["expect"];
                        if (outcome != want) wrong.Add(name + " step " + i + ": want " + want + ", got " + outcome + (e != null ? " (" + e.Message + ")" : ""));
                        else if (e != null && e.Code != (int)(long)s["code"]) wrong.Add(name + " step " + i + ": code " + e.Code);
                        else if (lt != null)
                        {
                            if (lt.Subject != s["sub"] as string) wrong.Add(name + ": sub " + lt.Subject);
                            if (lt.SessionId != s["sid"] as string) wrong.Add(name + ": sid " + lt.SessionId);
                            if (lt.JwtId != (string)s["jti"]) wrong.Add(name + ": jti " + lt.JwtId);
                            if (lt.Issuer != iss) wrong.Add(name + ": iss " + lt.Issuer);
                            if (lt.Claims.JwtId != lt.JwtId) wrong.Add(name + ": claims jti");
                        }
                        if (want == "TOKEN_REPLAYED" && !(e is TokenReplayedException)) wrong.Add(name + ": " + (e == null ? "no exception" : e.GetType().Name));
                        i++;
                    }
                }
            }
            Assert.True(steps >= 45, steps + " steps");
            JoseVectors.Report(async ? "logout.json (async)" : "logout.json", steps, skipped, wrong);
        }

        [Test]
        public void EveryLogoutVectorIsDecided() { Run(false); }

        [Test]
        public void EveryLogoutVectorIsDecidedAsync() { Run(true); }

        private OAuthClient Client(ILogoutReplayStore store)
        {
            var c0 = (Dictionary<string, object>)v["client"];
            return OAuthClient.Create(new OAuthClientOptions
            {
                Issuer = (string)c0["issuer"], ClientId = (string)c0["client_id"], JwksJson = VectorTests.JsonText(c0["jwks"]),
                LogoutReplayStore = store,
            });
        }

        private string Token(string name)
        {
            var c = JoseVectors.Cases(v).First(x => (string)x["name"] == name);
            return (string)((Dictionary<string, object>)((List<object>)c["steps"])[0])["token"];
        }

        private sealed class Store : ILogoutReplayStore
        {
            internal readonly List<KeyValuePair<string, TimeSpan>> Seen = new List<KeyValuePair<string, TimeSpan>>();
            internal Func<bool> Answer = () => true;
            public bool TryRecord(string key, TimeSpan ttl)
            {
                lock (Seen) Seen.Add(new KeyValuePair<string, TimeSpan>(key, ttl));
                return Answer();
            }
        }

        [Test]
        public void TheSharedReplayStoreIsAskedAndDecides()
        {
            var now = DateTimeOffset.FromUnixTimeSeconds((long)v["now"]);
            string token = Token("sub only");
            var store = new Store();
            using (var c = Client(store))
            {
                var lt = c.ValidateLogoutToken(token, now);
                Assert.AreEqual("alice", lt.Subject);
                Assert.Null(lt.SessionId);
                Assert.AreEqual(1, store.Seen.Count, "the store is asked once");
                Assert.True(store.Seen[0].Key.StartsWith("liboidc:logout:", StringComparison.Ordinal), store.Seen[0].Key);
                Assert.True(store.Seen[0].Value > TimeSpan.Zero, "ttl");
                // The client's own cache answers the replay first.
                Assert.Throws<TokenReplayedException>(() => c.ValidateLogoutTokenAsync(token, now).Wait());
                Assert.True(c.ToString().IndexOf("liboidc", StringComparison.Ordinal) < 0);
            }
            // Another process of the fleet saw it: the store says "seen".
            var seen = new Store { Answer = () => false };
            using (var c = Client(seen))
                Assert.Throws<TokenReplayedException>(() => c.ValidateLogoutToken(token, now));
            // A store that cannot answer: refused (503), never accepted; the jti is not used up.
            var down = new Store { Answer = () => { throw new InvalidOperationException("redis down"); } };
            using (var c = Client(down))
            {
                var e = Assert.Throws<ReplayStoreUnavailableException>(() => c.ValidateLogoutToken(token, now));
                Assert.AreEqual(503, e.HttpStatus);
                Assert.Throws<ReplayStoreUnavailableException>(() => c.ValidateLogoutToken(token, now));
                down.Answer = () => true;
                Assert.AreEqual("alice", c.ValidateLogoutToken(token, now).Subject);
            }
            var o = new OAuthClientOptions { Issuer = "https://x.example", ClientId = "c", LogoutReplayStore = store, LogoutAcceptUntyped = true };
            Assert.Contains("LogoutReplayStore", o.ToString());
            Assert.Contains("LogoutAcceptUntyped", o.ToString());
        }
    }
}

namespace Oidc.Tests
{
    /// The README's logout receiver (compiled by test.sh) with logout.json's tokens at its `now`.
    public class LogoutExampleTests
    {
        [Test]
        public void ReadmeLogoutExampleRuns()
        {
            var v = JoseVectors.Load("logout.json");
            var c0 = (Dictionary<string, object>)v["client"];
            Func<string, string> token = name => (string)((Dictionary<string, object>)((List<object>)JoseVectors.Cases(v)
                .First(x => (string)x["name"] == name)["steps"])[0])["token"];
            string dir = TestEnv.TempDir("oidc-cs-logout-example");
            try
            {
                string jwks = Path.Combine(dir, "jwks.json");
                File.WriteAllText(jwks, VectorTests.JsonText(c0["jwks"]));
                var env = new Dictionary<string, string>
                {
                    { "OIDC_ISSUER", (string)c0["issuer"] }, { "OIDC_CLIENT_ID", (string)c0["client_id"] }, { "OIDC_JWKS_FILE", jwks },
                };
                string now = ((long)v["now"]).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var ok = Examples.Run("LogoutExample.exe", token("sid only") + " " + now, env);
                Assert.AreEqual(0, ok.Item1, "exit code; output:\n" + ok.Item2);
                Assert.Contains("logout: sub=- sid=session-1 jti=v-sid", ok.Item2);
                Assert.Contains("replay refused: TOKEN_REPLAYED", ok.Item2);
                var bad = Examples.Run("LogoutExample.exe", token("no typ") + " " + now, env);
                Assert.AreEqual(1, bad.Item1, "exit code for a refused token; output:\n" + bad.Item2);
                Assert.Contains("refused: TYPE_MISMATCH", bad.Item2);
            }
            finally { Directory.Delete(dir, true); }
        }
    }
}
