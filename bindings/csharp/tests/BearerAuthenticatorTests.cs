// BearerAuthenticator behind a real HttpListener on 127.0.0.1, tokens from oidc-testkit.
using System;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    public class BearerAuthenticatorTests
    {
        private Testkit kit;
        private OidcClient client, unreachable;
        private HttpListener listener;
        private string baseUrl;
        private Thread loop;

        [OneTimeSetUp]
        public void SetUp()
        {
            kit = new Testkit();
            client = kit.Client(o => o.Realm = "cs-api");
            // Keys that cannot be fetched: a closed port, short timeouts.
            unreachable = kit.Client(o =>
            {
                o.Realm = "cs-api";
                o.JwksUri = "https://127.0.0.1:" + TestEnv.FreePort() + "/jwks";
                o.ConnectTimeoutMs = 500;
                o.TotalTimeoutMs = 1000;
            });
            var auth = new BearerAuthenticator(client, new[] { "read" });
            var auth503 = new BearerAuthenticator(unreachable, new[] { "read" });
            int port = TestEnv.FreePort();
            baseUrl = "http://127.0.0.1:" + port + "/";
            listener = new HttpListener();
            listener.Prefixes.Add(baseUrl);
            listener.Start();
            loop = new Thread(() =>
            {
                while (listener.IsListening)
                {
                    HttpListenerContext ctx;
                    try { ctx = listener.GetContext(); } catch (Exception) { return; }
                    // A thread per request: the tests' clients block pool threads, so the pool would starve.
                    var t = new Thread(() => Serve(ctx, ctx.Request.Url.AbsolutePath == "/keys-down" ? auth503 : auth));
                    t.IsBackground = true;
                    t.Start();
                }
            });
            loop.IsBackground = true;
            loop.Start();
        }

        private static void Serve(HttpListenerContext ctx, BearerAuthenticator auth)
        {
            try
            {
                Claims claims;
                if (ctx.Request.Url.AbsolutePath == "/async")
                {
                    var r = auth.AuthenticateAsync(ctx.Request).Result;
                    if (!r.Succeeded) { r.WriteTo(ctx.Response); return; }
                    claims = r.Claims;
                }
                else if (!auth.TryAuthenticate(ctx, out claims)) return; // response written
                var body = Encoding.UTF8.GetBytes("hello " + claims.Subject);
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
            client.Dispose();
            unreachable.Dispose();
            kit.Dispose();
        }

        private Tuple<int, string, string> Get(string path, string authorization)
        {
            var req = (HttpWebRequest)WebRequest.Create(baseUrl + path);
            req.Proxy = null;
            req.Timeout = 20000;
            if (authorization != null) req.Headers["Authorization"] = authorization;
            HttpWebResponse resp;
            try { resp = (HttpWebResponse)req.GetResponse(); }
            catch (WebException e) when (e.Response != null) { resp = (HttpWebResponse)e.Response; }
            using (resp)
            using (var r = new StreamReader(resp.GetResponseStream()))
                return Tuple.Create((int)resp.StatusCode, resp.Headers["WWW-Authenticate"], r.ReadToEnd());
        }

        [Test]
        public void AValidTokenWithTheScopeGets200()
        {
            var r = Get("api", "Bearer " + kit.Token("ES256", query: "&sub=alice&scope=read%20write"));
            Assert.AreEqual(200, r.Item1, r.Item3);
            Assert.AreEqual("hello alice", r.Item3);
            Assert.Null(r.Item2, "no challenge on success");
        }

        [Test]
        public void NoTokenGets401WithABareChallenge()
        {
            var r = Get("api", null);
            Assert.AreEqual(401, r.Item1);
            Assert.AreEqual("Bearer realm=\"cs-api\"", r.Item2);
            var basic = Get("api", "Basic dXNlcjpwYXNz");
            Assert.AreEqual(401, basic.Item1);
            Assert.AreEqual("Bearer realm=\"cs-api\"", basic.Item2);
        }

        [Test]
        public void ABadTokenGets401WithTheCoreChallenge()
        {
            var expired = TestEnv.HttpGet(kit.Admin + "/token?alg=RS256&aud=api://cs&exp_in=-400&scope=read").Trim();
            var r = Get("api", "Bearer " + expired);
            Assert.AreEqual(401, r.Item1);
            Assert.AreEqual("Bearer realm=\"cs-api\", error=\"invalid_token\", error_description=\"The access token expired\"", r.Item2);
            Assert.Contains("invalid_token", r.Item3);
            var garbage = Get("api", "Bearer not.a.token");
            Assert.AreEqual(401, garbage.Item1);
            Assert.Contains("error=\"invalid_token\"", garbage.Item2);
        }

        [Test]
        public void AValidTokenWithoutTheScopeGets403()
        {
            var r = Get("api", "Bearer " + kit.Token("RS256", query: "&scope=write"));
            Assert.AreEqual(403, r.Item1);
            Assert.Contains("error=\"insufficient_scope\"", r.Item2);
            Assert.Contains("scope=\"read\"", r.Item2);
            Assert.Contains("realm=\"cs-api\"", r.Item2);
            var none = Get("api", "Bearer " + kit.Token("RS256"));
            Assert.AreEqual(403, none.Item1, "no scope claim at all");
        }

        [Test]
        public void UnobtainableKeysGet503WithoutAChallenge()
        {
            var r = Get("keys-down", "Bearer " + kit.Token("RS256", query: "&scope=read"));
            Assert.AreEqual(503, r.Item1, r.Item3);
            Assert.Null(r.Item2, "no WWW-Authenticate on 503");
        }

        [Test]
        public void AuthenticateAsyncBehavesTheSame()
        {
            Assert.AreEqual(200, Get("async", "Bearer " + kit.Token("EdDSA", query: "&scope=read")).Item1);
            Assert.AreEqual(401, Get("async", "Bearer x.y.z").Item1);
            Assert.AreEqual(401, Get("async", null).Item1);
            Assert.AreEqual(403, Get("async", "Bearer " + kit.Token("EdDSA", query: "&scope=other")).Item1);
        }

        [Test]
        public void ManyConcurrentRequests()
        {
            ServicePointManager.DefaultConnectionLimit = 64;
            // Mono's HttpWebRequest and HttpListener complete their I/O on pool threads; 64
            // blocking clients would otherwise wait for the pool to grow (one thread per 500 ms).
            int minWorker, minIo;
            ThreadPool.GetMinThreads(out minWorker, out minIo);
            ThreadPool.SetMinThreads(Math.Max(minWorker, 160), Math.Max(minIo, 160));
            try { ConcurrentThenSequential(); }
            finally { ThreadPool.SetMinThreads(minWorker, minIo); }
        }

        private void ConcurrentThenSequential()
        {
            var token = "Bearer " + kit.Token("ES256", query: "&sub=c&scope=read");
            var sw0 = System.Diagnostics.Stopwatch.StartNew();
            var status = new int[64];
            var threads = new Thread[status.Length];
            for (int i = 0; i < threads.Length; i++)
            {
                int n = i;
                threads[i] = new Thread(() => { try { status[n] = Get("api", token).Item1; } catch (Exception) { status[n] = -1; } });
                threads[i].Start();
            }
            foreach (var t in threads) t.Join();
            foreach (var s in status) Assert.AreEqual(200, s);
            Console.WriteLine("      64 concurrent: " + sw0.ElapsedMilliseconds + " ms");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 64; i++) Assert.AreEqual(200, Get("api", token).Item1);
            Console.WriteLine("      64 sequential: " + sw.ElapsedMilliseconds + " ms");
        }
    }
}
