// RequestAuthenticator behind a real HttpListener on 127.0.0.1, tokens from oidc-testkit, DPoP
// proofs made here. Responses are read off the socket, so each WWW-Authenticate line is seen as
// sent. The middleware must write exactly what the core decided: the expected answers come from
// OidcClient.Authenticate on the same input, plus literal checks of the core's strings.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace Oidc.Tests
{
    public class RequestAuthenticatorTests
    {
        private Testkit kit;
        private OidcClient client, unreachable, arrays, nonces, stored;
        private readonly Dictionary<string, RequestAuthenticator> routes = new Dictionary<string, RequestAuthenticator>();
        private HttpListener listener;
        private int port;
        private DpopKey key;
        private TestStore store;

        /// A shared replay store whose answers the test chooses.
        private sealed class TestStore : IDpopReplayStore
        {
            internal readonly ConcurrentDictionary<string, TimeSpan> Keys = new ConcurrentDictionary<string, TimeSpan>();
            internal volatile string Mode = "record"; // record | replay | down
            public bool TryRecord(string k, TimeSpan ttl)
            {
                if (Mode == "down") throw new IOException("store down");
                if (Mode == "replay") return false;
                return Keys.TryAdd(k, ttl);
            }
        }

        [OneTimeSetUp]
        public void SetUp()
        {
            kit = new Testkit();
            key = new DpopKey();
            store = new TestStore();
            client = kit.Client(o => { o.Realm = "cs-api"; o.RequiredScopes = new[] { "read" }; });
            unreachable = kit.Client(o =>
            {
                o.Realm = "cs-api";
                o.JwksUri = "https://127.0.0.1:" + TestEnv.FreePort() + "/jwks";
                o.ConnectTimeoutMs = 500;
                o.TotalTimeoutMs = 1000;
            });
            arrays = kit.Client(o => o.RequiredScopes = new[] { "a", "b" });
            nonces = kit.Client(o =>
            {
                o.DpopNonceSecret = Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef");
                o.DpopNonceLifetimeSeconds = 120;
            });
            stored = kit.Client(o => o.DpopReplayStore = store);
            routes["/api"] = routes["/async"] = new RequestAuthenticator(client);
            routes["/keys-down"] = new RequestAuthenticator(unreachable);
            routes["/arrays"] = new RequestAuthenticator(arrays);
            routes["/nonce"] = new RequestAuthenticator(nonces);
            routes["/store"] = new RequestAuthenticator(stored);
            routes["/proxied"] = new RequestAuthenticator(client, "https://api.example.com/");
            port = TestEnv.FreePort();
            listener = new HttpListener();
            listener.Prefixes.Add("http://127.0.0.1:" + port + "/");
            listener.Start();
            var loop = new Thread(() =>
            {
                while (listener.IsListening)
                {
                    HttpListenerContext ctx;
                    try { ctx = listener.GetContext(); } catch (Exception) { return; }
                    // A thread per request: the tests' clients block pool threads, so the pool would starve.
                    var t = new Thread(() => Serve(ctx));
                    t.IsBackground = true;
                    t.Start();
                }
            });
            loop.IsBackground = true;
            loop.Start();
        }

        private void Serve(HttpListenerContext ctx)
        {
            try
            {
                string path = ctx.Request.Url.AbsolutePath;
                var auth = routes[path];
                Decision d;
                if (path == "/async")
                {
                    d = auth.TryAuthenticateAsync(ctx).Result;
                    if (!d.Allowed) return;
                }
                else if (!auth.TryAuthenticate(ctx, out d)) return; // response written
                var body = Encoding.UTF8.GetBytes("hello " + d.Claims.Subject + " " + d.TokenType);
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentLength64 = body.Length; // not chunked: no Nagle/delayed-ACK stall
                ctx.Response.OutputStream.Write(body, 0, body.Length);
                ctx.Response.Close();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine("handler: " + e);
                try { ctx.Response.StatusCode = 599; ctx.Response.Close(); } catch (Exception) { }
            }
        }

        [OneTimeTearDown]
        public void TearDown()
        {
            listener.Stop();
            listener.Close();
            foreach (var c in new[] { client, unreachable, arrays, nonces, stored }) c.Dispose();
            key.Dispose();
            kit.Dispose();
        }

        private sealed class Response
        {
            internal int Status;
            internal readonly List<KeyValuePair<string, string>> Headers = new List<KeyValuePair<string, string>>();
            internal string Body;

            /// Every line of header `name`, in order, as sent.
            internal List<string> All(string name)
            {
                return Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
            }
        }

        private string Url(string path) { return "http://127.0.0.1:" + port + path; }

        /// One request over a raw socket; `headers` are whole header lines ("Authorization: ...").
        private Response Send(string method, string path, params string[] headers)
        {
            return SendTo(port, method, path, headers);
        }

        private static Response SendTo(int port, string method, string path, params string[] headers)
        {
            using (var c = new TcpClient("127.0.0.1", port))
            {
                c.ReceiveTimeout = 20000;
                var s = c.GetStream();
                var sb = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n");
                foreach (var h in headers) sb.Append(h).Append("\r\n");
                if (method == "POST") sb.Append("Content-Length: 0\r\n"); // HttpListener answers 411 without it
                sb.Append("Connection: close\r\n\r\n");
                byte[] req = Encoding.UTF8.GetBytes(sb.ToString());
                s.Write(req, 0, req.Length);
                var ms = new MemoryStream();
                s.CopyTo(ms);
                string text = Encoding.UTF8.GetString(ms.ToArray());
                int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                Assert.True(end > 0, "a complete response: " + text);
                var lines = text.Substring(0, end).Split(new[] { "\r\n" }, StringSplitOptions.None);
                var r = new Response { Status = int.Parse(lines[0].Split(' ')[1]), Body = text.Substring(end + 4) };
                foreach (var l in lines.Skip(1))
                {
                    int colon = l.IndexOf(':');
                    r.Headers.Add(new KeyValuePair<string, string>(l.Substring(0, colon), l.Substring(colon + 1).Trim()));
                }
                return r;
            }
        }

        /// The response carries exactly the decision: status, challenges (one line each, in order), nonce.
        private static void AssertAnswers(Decision want, Response got, string what)
        {
            Assert.AreEqual(want.HttpStatus, got.Status, what + " status (" + want + ") body " + got.Body);
            Assert.AreEqual(string.Join("\n", want.Challenges), string.Join("\n", got.All("WWW-Authenticate")), what + " challenges");
            if (want.DpopNonce == null) Assert.AreEqual(0, got.All("DPoP-Nonce").Count, what + " no DPoP-Nonce");
        }

        [Test]
        public void AValidTokenWithTheScopeGets200()
        {
            var r = Send("GET", "/api", "Authorization: Bearer " + kit.Token("ES256", query: "&sub=alice&scope=read%20write"));
            Assert.AreEqual(200, r.Status, r.Body);
            Assert.AreEqual("hello alice Bearer", r.Body);
            Assert.AreEqual(0, r.All("WWW-Authenticate").Count, "no challenge on success");
        }

        [Test]
        public void NoTokenGets401WithBareChallengesOnePerLine()
        {
            foreach (var auth in new[] { null, "Authorization: Basic dXNlcjpwYXNz", "Authorization: Digest a=\"1\", b=\"2\"" })
            {
                var r = auth == null ? Send("GET", "/api") : Send("GET", "/api", auth);
                Assert.AreEqual(401, r.Status, auth);
                var ch = r.All("WWW-Authenticate");
                Assert.AreEqual(2, ch.Count, auth + ": Bearer and DPoP, each on its own line");
                Assert.AreEqual("Bearer realm=\"cs-api\"", ch[0], auth);
                Assert.True(ch[1].StartsWith("DPoP realm=\"cs-api\", algs=\"", StringComparison.Ordinal), ch[1]);
                AssertAnswers(client.Authenticate("GET", Url("/api"), null), r, auth ?? "no header");
            }
        }

        [Test]
        public void ABadTokenGets401WithTheCoreChallenges()
        {
            var expired = TestEnv.HttpGet(kit.Admin + "/token?alg=RS256&aud=api://cs&exp_in=-400&scope=read").Trim();
            var r = Send("GET", "/api", "Authorization: Bearer " + expired);
            Assert.AreEqual(401, r.Status);
            Assert.AreEqual("Bearer realm=\"cs-api\", error=\"invalid_token\", error_description=\"The access token expired\"",
                r.All("WWW-Authenticate")[0]);
            AssertAnswers(client.Authenticate("GET", Url("/api"), new[] { "Bearer " + expired }), r, "expired");
            var garbage = Send("GET", "/api", "Authorization: Bearer not.a.token");
            Assert.AreEqual(401, garbage.Status);
            Assert.Contains("error=\"invalid_token\"", garbage.All("WWW-Authenticate")[0]);
        }

        [Test]
        public void MalformedCredentialsGet400InvalidRequest()
        {
            foreach (var v in new[] { "Bearer a b", "Bearer", "Bearer a,Bearer b", "Bearer t\u00e9" })
            {
                var r = Send("GET", "/api", "Authorization: " + v);
                Assert.AreEqual(400, r.Status, v);
                Assert.Contains("error=\"invalid_request\"", string.Join("\n", r.All("WWW-Authenticate")), v);
                AssertAnswers(client.Authenticate("GET", Url("/api"), new[] { v }), r, v);
            }
        }

        [Test]
        public void AValidTokenWithoutTheScopeGets403FromTheCore()
        {
            var r = Send("GET", "/api", "Authorization: Bearer " + kit.Token("RS256", query: "&scope=write"));
            Assert.AreEqual(403, r.Status);
            var ch = r.All("WWW-Authenticate");
            Assert.Contains("error=\"insufficient_scope\"", ch[0]);
            Assert.Contains("scope=\"read\"", ch[0]);
            Assert.Contains("realm=\"cs-api\"", ch[0]);
            var none = Send("GET", "/api", "Authorization: Bearer " + kit.Token("RS256"));
            Assert.AreEqual(403, none.Status, "no scope claim at all");
        }

        [Test]
        public void EveryScopeShapeIsTheCoresDecision()
        {
            // Issue 9: the old C# middleware answered 403 for {"scope":["a","b"]}; Go and Ruby allowed.
            var shapes = new Dictionary<string, int>
            {
                { "{\"scope\":[\"a\",\"b\"]}", 200 },
                { "{\"scope\":\"a b\"}", 200 },
                { "{\"scope\":\"b  a\"}", 200 },
                { "{\"scp\":[\"a\",\"b\"]}", 200 },
                { "{\"scp\":\"a b\"}", 200 },
                { "{\"scope\":\"a\",\"scp\":[\"b\"]}", 200 },
                { "{\"scope\":[\"a\"]}", 403 },
                { "{\"scope\":\"a\"}", 403 },
                { "{\"scope\":42}", 401 },
            };
            foreach (var kv in shapes)
            {
                string token = kit.Token("RS256", query: "&claims=" + Uri.EscapeDataString(kv.Key));
                var r = Send("GET", "/arrays", "Authorization: Bearer " + token);
                Assert.AreEqual(kv.Value, r.Status, kv.Key + " " + string.Join(" | ", r.All("WWW-Authenticate")));
                AssertAnswers(arrays.Authenticate("GET", Url("/arrays"), new[] { "Bearer " + token }), r, kv.Key);
            }
        }

        [Test]
        public void UnobtainableKeysGet503WithoutAChallenge()
        {
            var r = Send("GET", "/keys-down", "Authorization: Bearer " + kit.Token("RS256", query: "&scope=read"));
            Assert.AreEqual(503, r.Status, r.Body);
            Assert.AreEqual(0, r.All("WWW-Authenticate").Count, "no WWW-Authenticate on 503");
        }

        [Test]
        public void TryAuthenticateAsyncBehavesTheSame()
        {
            Assert.AreEqual(200, Send("GET", "/async", "Authorization: Bearer " + kit.Token("EdDSA", query: "&scope=read")).Status);
            Assert.AreEqual(401, Send("GET", "/async", "Authorization: Bearer x.y.z").Status);
            var none = Send("GET", "/async");
            Assert.AreEqual(401, none.Status);
            Assert.AreEqual(2, none.All("WWW-Authenticate").Count);
            Assert.AreEqual(403, Send("GET", "/async", "Authorization: Bearer " + kit.Token("EdDSA", query: "&scope=other")).Status);
            Assert.AreEqual(400, Send("GET", "/async", "Authorization: Bearer a b").Status);
        }

        [Test]
        public void ADpopBoundTokenWithAFreshProofIsAllowedAndItsReplayDenied()
        {
            string token = kit.Token("RS256", query: "&sub=dpop-user&scope=read" + key.CnfQuery);
            string proof = key.Proof("POST", Url("/api"), token);
            var ok = Send("POST", "/api?page=2", "Authorization: DPoP " + token, "DPoP: " + proof);
            Assert.AreEqual(200, ok.Status, ok.Body + " " + string.Join(" | ", ok.All("WWW-Authenticate")));
            Assert.AreEqual("hello dpop-user DPoP", ok.Body);

            var replay = Send("POST", "/api?page=2", "Authorization: DPoP " + token, "DPoP: " + proof);
            Assert.AreEqual(401, replay.Status);
            var ch = replay.All("WWW-Authenticate");
            Assert.AreEqual(2, ch.Count);
            Assert.True(ch[1].StartsWith("DPoP realm=\"cs-api\", error=\"invalid_dpop_proof\"", StringComparison.Ordinal), ch[1]);

            var otherMethod = Send("GET", "/api", "Authorization: DPoP " + token, "DPoP: " + key.Proof("POST", Url("/api"), token));
            Assert.AreEqual(401, otherMethod.Status, "a proof for another method");
            var asBearer = Send("GET", "/api", "Authorization: Bearer " + token);
            Assert.AreEqual(401, asBearer.Status, "a DPoP-bound token sent as Bearer");
            Assert.Contains("error=\"invalid_token\"", asBearer.All("WWW-Authenticate")[0]);
            using (var other = new DpopKey())
            {
                var r = Send("GET", "/api", "Authorization: DPoP " + token, "DPoP: " + other.Proof("GET", Url("/api"), token));
                Assert.AreEqual(401, r.Status, "a proof from another key");
            }
            // The same denials, decided directly, carry the precise codes.
            Assert.AreEqual(OidcResult.DpopReplay, client.Authenticate("POST", Url("/api?page=2"), new[] { "DPoP " + token }, new[] { proof }).Result);
            Assert.AreEqual(OidcResult.TokenBindingMismatch, client.Authenticate("GET", Url("/api"), new[] { "Bearer " + token }).Result);
        }

        [Test]
        public void TheProxiedOriginIsTheUrlProofsAreCheckedAgainst()
        {
            string token = kit.Token("RS256", query: "&sub=p&scope=read" + key.CnfQuery);
            var r = Send("GET", "/proxied?x=1", "Authorization: DPoP " + token, "DPoP: " + key.Proof("GET", "https://api.example.com/proxied", token));
            Assert.AreEqual(200, r.Status, string.Join(" | ", r.All("WWW-Authenticate")));
            var local = Send("GET", "/proxied", "Authorization: DPoP " + token, "DPoP: " + key.Proof("GET", Url("/proxied"), token));
            Assert.AreEqual(401, local.Status, "the listener's own URL is not the public one");
            Assert.Throws<ArgumentException>(() => new RequestAuthenticator(client, "https://api.example.com/base"));
            Assert.Throws<ArgumentException>(() => new RequestAuthenticator(client, "api.example.com"));
        }

        [Test]
        public void ServerNoncesTravelAsDpopNonceHeaders()
        {
            string token = kit.Token("ES256", query: "&sub=n" + key.CnfQuery);
            var first = Send("GET", "/nonce", "Authorization: DPoP " + token, "DPoP: " + key.Proof("GET", Url("/nonce"), token));
            Assert.AreEqual(401, first.Status);
            var nonce = first.All("DPoP-Nonce");
            Assert.AreEqual(1, nonce.Count, "one DPoP-Nonce line");
            Assert.Contains("error=\"use_dpop_nonce\"", string.Join("\n", first.All("WWW-Authenticate")));
            var second = Send("GET", "/nonce", "Authorization: DPoP " + token, "DPoP: " + key.Proof("GET", Url("/nonce"), token, nonce[0]));
            Assert.AreEqual(200, second.Status, string.Join(" | ", second.All("WWW-Authenticate")));
            Assert.AreEqual("hello n DPoP", second.Body);
        }

        [Test]
        public void TheSharedReplayStoreIsAsked()
        {
            string token = kit.Token("RS256", query: "&sub=s" + key.CnfQuery);
            store.Mode = "record";
            int before = store.Keys.Count;
            var ok = Send("GET", "/store", "Authorization: DPoP " + token, "DPoP: " + key.Proof("GET", Url("/store"), token));
            Assert.AreEqual(200, ok.Status, string.Join(" | ", ok.All("WWW-Authenticate")));
            Assert.AreEqual(before + 1, store.Keys.Count, "the store recorded the proof");
            Assert.True(store.Keys.Values.All(t => t > TimeSpan.Zero), "a time to live");
            try
            {
                // A proof first seen by another process of the fleet: the store says replay.
                store.Mode = "replay";
                var replay = Send("GET", "/store", "Authorization: DPoP " + token, "DPoP: " + key.Proof("GET", Url("/store"), token));
                Assert.AreEqual(401, replay.Status);
                Assert.AreEqual(OidcResult.DpopReplay, stored.Authenticate("GET", Url("/store"), new[] { "DPoP " + token },
                    new[] { key.Proof("GET", Url("/store"), token) }).Result);
                // The store cannot answer: 503, never allowed.
                store.Mode = "down";
                long failures = ReplayStoreBridge.Failures;
                var down = Send("GET", "/store", "Authorization: DPoP " + token, "DPoP: " + key.Proof("GET", Url("/store"), token));
                Assert.AreEqual(503, down.Status);
                Assert.AreEqual(0, down.All("WWW-Authenticate").Count);
                Assert.True(ReplayStoreBridge.Failures > failures, "the exception was caught at the boundary");
            }
            finally { store.Mode = "record"; }
        }

        [Test]
        public void TheReadmeResourceServerAnswersFromTheCore()
        {
            string dir = TestEnv.Require("OIDC_CS_EXAMPLES_DIR", "where test.sh compiled the README examples");
            int p = TestEnv.FreePort();
            var psi = new System.Diagnostics.ProcessStartInfo("mono", "--debug " + System.IO.Path.Combine(dir, "ResourceServerExample.exe") +
                " http://127.0.0.1:" + p + "/ 4") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.EnvironmentVariables["OIDC_ISSUER"] = kit.Issuer;
            psi.EnvironmentVariables["OIDC_CA_FILE"] = kit.CaFile;
            psi.EnvironmentVariables["OIDC_AUDIENCE"] = "https://api.example.com";
            using (var proc = System.Diagnostics.Process.Start(psi))
            {
                var err = proc.StandardError.ReadToEndAsync();
                try
                {
                    Assert.Contains("listening", proc.StandardOutput.ReadLine());
                    var stdout = proc.StandardOutput.ReadToEndAsync();
                    var none = SendTo(p, "GET", "/items");
                    Assert.AreEqual(401, none.Status);
                    Assert.AreEqual("Bearer realm=\"api\"", none.All("WWW-Authenticate")[0]);
                    Assert.AreEqual(2, none.All("WWW-Authenticate").Count);
                    var ok = SendTo(p, "GET", "/items", "Authorization: Bearer " + kit.Token("ES256", aud: "https://api.example.com", query: "&sub=rs-user&scope=read"));
                    Assert.AreEqual(200, ok.Status, ok.Body);
                    Assert.AreEqual("hello rs-user (Bearer)\n", ok.Body);
                    var scope = SendTo(p, "GET", "/items", "Authorization: Bearer " + kit.Token("RS256", aud: "https://api.example.com", query: "&claims=" + Uri.EscapeDataString("{\"scope\":[\"write\"]}")));
                    Assert.AreEqual(403, scope.Status);
                    Assert.Contains("scope=\"read\"", scope.All("WWW-Authenticate")[0]);
                    var wrongAud = SendTo(p, "GET", "/items", "Authorization: Bearer " + kit.Token("RS256", query: "&scope=read"));
                    Assert.AreEqual(401, wrongAud.Status);
                    Assert.True(proc.WaitForExit(30000), "the example exits after its 4 requests");
                    Assert.AreEqual(0, proc.ExitCode, stdout.Result + err.Result);
                }
                finally
                {
                    if (!proc.HasExited) proc.Kill();
                }
            }
        }

        [Test]
        public void ManyConcurrentRequests()
        {
            var token = "Authorization: Bearer " + kit.Token("ES256", query: "&sub=c&scope=read");
            var sw0 = System.Diagnostics.Stopwatch.StartNew();
            var status = new int[64];
            var threads = new Thread[status.Length];
            for (int i = 0; i < threads.Length; i++)
            {
                int n = i;
                threads[i] = new Thread(() => { try { status[n] = Send(n % 2 == 0 ? "GET" : "POST", n % 3 == 0 ? "/async" : "/api", token).Status; } catch (Exception) { status[n] = -1; } });
                threads[i].Start();
            }
            foreach (var t in threads) t.Join();
            foreach (var s in status) Assert.AreEqual(200, s);
            Console.WriteLine("      64 concurrent: " + sw0.ElapsedMilliseconds + " ms");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 64; i++) Assert.AreEqual(200, Send("GET", "/api", token).Status);
            Console.WriteLine("      64 sequential: " + sw.ElapsedMilliseconds + " ms");
        }
    }
}
