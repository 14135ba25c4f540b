// Binding overhead: OidcClient.ValidateAt vs a raw P/Invoke of oidc_validate_at with
// preallocated buffers, same tokens (tests/vectors/validation.json), same static keys, one
// process. Run through bindings/csharp/bench.sh; results in BENCHMARKS.md.
//
//   mono --optimize=all OidcBenchmark.exe [--rounds R] [--round-ms MS]
//
// Time is this thread's CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), as in the Rust
// benchmark (benches/validate.rs): the machine is shared, and CPU time does not count the time
// the thread was preempted. The rounds of the competing measurements of one token are
// interleaved with a rotating order, and the median round is reported.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Bench
{
    internal static class Raw
    {
        private const string Lib = "oidc";
        [DllImport(Lib)] internal static extern uint oidc_validator_builder_new(out IntPtr b, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_validator_builder_set_issuer(IntPtr b, byte[] s, UIntPtr n, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_validator_builder_set_jwks_json(IntPtr b, byte[] s, UIntPtr n, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_validator_builder_add_audience(IntPtr b, byte[] s, UIntPtr n, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_validator_builder_set_expected_typ(IntPtr b, byte[] s, UIntPtr n, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_validator_builder_add_required_claim(IntPtr b, byte[] s, UIntPtr n, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_validator_builder_set_algorithms(IntPtr b, byte[] s, UIntPtr n, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_validator_builder_build(IntPtr b, out IntPtr c, IntPtr err);
        [DllImport(Lib)] internal static extern void oidc_validator_free(IntPtr c);
        [DllImport(Lib)] internal static extern void oidc_string_free(IntPtr s);
        [DllImport(Lib)] internal static extern void oidc_error_free(IntPtr e);
        [DllImport(Lib)] internal static extern uint oidc_validator_prefetch(IntPtr c, out IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_validate_at(IntPtr c, byte[] token, UIntPtr len, long now,
            out IntPtr claims, out UIntPtr claimsLen, out IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_validator_builder_set_token_cache_size(IntPtr b, UIntPtr n, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_http_request_new(out IntPtr r, IntPtr err);
        [DllImport(Lib)] internal static extern void oidc_http_request_free(IntPtr r);
        [DllImport(Lib)] internal static extern uint oidc_http_request_add_header(IntPtr r, byte[] name, UIntPtr nameLen, byte[] value, UIntPtr valueLen, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_http_request_set_method(IntPtr r, byte[] m, UIntPtr len, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_http_request_set_url(IntPtr r, byte[] u, UIntPtr len, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_http_request_set_now(IntPtr r, long now, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_authenticate(IntPtr c, IntPtr r, out IntPtr d, IntPtr err);
        [DllImport(Lib)] internal static extern uint oidc_decision_allowed(IntPtr d);
        [DllImport(Lib)] internal static extern IntPtr oidc_decision_claims(IntPtr d, out UIntPtr len);
        [DllImport(Lib)] internal static extern void oidc_http_request_reset(IntPtr r);
        [DllImport(Lib)] internal static extern void oidc_decision_free(IntPtr d);
    }

    internal static class CpuClock
    {
        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec { public long Sec; public long Nsec; }

        [DllImport("libc.so.6")] private static extern int clock_gettime(int clock, out Timespec ts);

        private const int CLOCK_THREAD_CPUTIME_ID = 3;

        internal static long NowNs()
        {
            Timespec ts;
            if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, out ts) != 0) throw new InvalidOperationException("clock_gettime");
            return ts.Sec * 1000000000L + ts.Nsec;
        }
    }

    internal sealed class Measurement
    {
        internal readonly string Name;
        internal readonly Action<int> Loop; // runs the body n times
        internal readonly List<double> Rounds = new List<double>(); // ns per call, CPU time
        internal readonly List<double> WallRounds = new List<double>();
        internal int N;
        internal Measurement(string name, Action<int> loop) { Name = name; Loop = loop; }
        internal double Median { get { return Stats.Median(Rounds); } }
        internal double Spread { get { return (Rounds.Max() - Rounds.Min()) / Median; } }
    }

    internal static class Stats
    {
        internal static double Median(IEnumerable<double> xs)
        {
            var s = xs.OrderBy(x => x).ToList();
            return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
        }
    }

    internal static class Program
    {
        private static int rounds = 15;
        private static double roundMs = 100;

        private static string JwksText(string file)
        {
            int start = file.IndexOf('{', file.IndexOf("\"jwks\"", StringComparison.Ordinal));
            int depth = 0;
            for (int i = start; ; i++)
            {
                if (file[i] == '{') depth++;
                else if (file[i] == '}' && --depth == 0) return file.Substring(start, i - start + 1);
            }
        }

        private static byte[] B(string s) { return Encoding.UTF8.GetBytes(s); }

        private static void Ok(uint rc, string what) { if (rc != 0) throw new Exception(what + " failed: " + rc); }

        private static IntPtr RawClient(Dictionary<string, object> cfg, string jwks, int? tokenCacheSize = null)
        {
            IntPtr b, c;
            Ok(Raw.oidc_validator_builder_new(out b, IntPtr.Zero), "new");
            Action<Func<IntPtr, byte[], UIntPtr, IntPtr, uint>, string> set = (f, s) => { var x = B(s); Ok(f(b, x, (UIntPtr)x.Length, IntPtr.Zero), s); };
            set(Raw.oidc_validator_builder_set_issuer, (string)cfg["issuer"]);
            set(Raw.oidc_validator_builder_set_jwks_json, jwks);
            set(Raw.oidc_validator_builder_add_audience, (string)((List<object>)cfg["audiences"])[0]);
            set(Raw.oidc_validator_builder_set_expected_typ, (string)cfg["expected_typ"]);
            set(Raw.oidc_validator_builder_add_required_claim, "sub");
            set(Raw.oidc_validator_builder_set_algorithms, (string)cfg["algorithms"]);
            if (tokenCacheSize.HasValue) Ok(Raw.oidc_validator_builder_set_token_cache_size(b, (UIntPtr)tokenCacheSize.Value, IntPtr.Zero), "cache size");
            Ok(Raw.oidc_validator_builder_build(b, out c, IntPtr.Zero), "build");
            return c;
        }

        /// Warm up, calibrate n so that a round takes about roundMs of CPU, then run `rounds`
        /// rounds of every measurement, rotating the order each round.
        private static void Run(params Measurement[] ms)
        {
            foreach (var m in ms)
            {
                m.Loop(200); // JIT + caches
                int n = 100;
                while (true)
                {
                    long t0 = CpuClock.NowNs();
                    m.Loop(n);
                    double ms_ = (CpuClock.NowNs() - t0) / 1e6;
                    if (ms_ >= roundMs / 4 || n > 50000000) { m.N = Math.Max(10, (int)(n * roundMs / Math.Max(ms_, 0.001))); break; }
                    n *= 4;
                }
            }
            for (int r = 0; r < rounds; r++)
            {
                for (int k = 0; k < ms.Length; k++)
                {
                    var m = ms[(k + r) % ms.Length];
                    GC.Collect(); // each round starts with the same heap state; collections inside the round count
                    var sw = Stopwatch.StartNew();
                    long t0 = CpuClock.NowNs();
                    m.Loop(m.N);
                    long t1 = CpuClock.NowNs();
                    m.Rounds.Add((double)(t1 - t0) / m.N);
                    m.WallRounds.Add(sw.Elapsed.TotalMilliseconds * 1e6 / m.N);
                }
            }
        }

        private static double PairedDiff(Measurement a, Measurement b)
        {
            return Stats.Median(a.Rounds.Zip(b.Rounds, (x, y) => x - y));
        }

        internal static int Main(string[] args)
        {
            bool authnOnly = false;
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--rounds") rounds = int.Parse(args[++i]);
                else if (args[i] == "--round-ms") roundMs = double.Parse(args[++i]);
                else if (args[i] == "--authn-only") authnOnly = true;
                else { Console.Error.WriteLine("usage: OidcBenchmark.exe [--rounds R] [--round-ms MS] [--authn-only]"); return 2; }
            }
            string repo = Environment.GetEnvironmentVariable("OIDC_REPO_ROOT")
                ?? Path.GetFullPath(Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "..", "..", ".."));
            string file = File.ReadAllText(Path.Combine(repo, "tests", "vectors", "validation.json"));
            var v = Json.ParseObject(file);
            var cfg = (Dictionary<string, object>)v["config"];
            var cases = ((List<object>)v["cases"]).Cast<Dictionary<string, object>>().ToDictionary(c => (string)c["name"], c => (string)c["token"]);
            long nowUnix = (long)v["now"];
            var now = DateTimeOffset.FromUnixTimeSeconds(nowUnix);
            string jwks = JwksText(file);

            IntPtr raw = RawClient(cfg, jwks);
            var client = OidcClient.Create(new OidcClientOptions
            {
                Issuer = (string)cfg["issuer"], JwksJson = jwks, Audiences = new[] { (string)((List<object>)cfg["audiences"])[0] },
                ExpectedTyp = (string)cfg["expected_typ"], RequiredClaims = new[] { "sub" }, Algorithms = ((string)cfg["algorithms"]).Split(','),
            });

            Console.WriteLine("liboidc {0}; Mono {1}; {2} CPUs; load average {3}; {4} rounds of ~{5} ms CPU per measurement, interleaved",
                Library.Version, MonoVersion(), Environment.ProcessorCount, LoadAverage(), rounds, roundMs);
            Console.WriteLine("ns per call, this thread's CPU time, median round (spread = (max-min)/median)");
            Console.WriteLine();
            if (authnOnly)
            {
                Authenticate(client, raw, cfg, jwks, cases["valid RS256"], nowUnix);
                client.Dispose();
                Raw.oidc_validator_free(raw);
                Console.WriteLine();
                Console.WriteLine("load average at the end: " + LoadAverage());
                return 0;
            }
            Console.WriteLine("| token | raw C P/Invoke | binding ValidateAt | overhead | paired | binding + Subject | overhead | CPU share |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            string sink = null;
            foreach (var name in new[] { "valid RS256", "valid PS256", "valid ES256", "valid EdDSA" })
            {
                string tok = cases[name];
                byte[] tokBytes = B(tok);
                var len = (UIntPtr)tokBytes.Length;
                var mRaw = new Measurement("raw", n =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        IntPtr claims, err; UIntPtr claimsLen;
                        if (Raw.oidc_validate_at(raw, tokBytes, len, nowUnix, out claims, out claimsLen, out err) == 0) Raw.oidc_string_free(claims);
                        else { Raw.oidc_error_free(err); throw new Exception("raw failed"); }
                    }
                });
                var mBinding = new Measurement("binding", n => { for (int i = 0; i < n; i++) client.ValidateAt(tok, now); });
                var mSubject = new Measurement("binding+sub", n => { for (int i = 0; i < n; i++) sink = client.ValidateAt(tok, now).Subject; });
                Run(mRaw, mBinding, mSubject);
                double share = mRaw.Rounds.Sum() / mRaw.WallRounds.Sum();
                Console.WriteLine("| {0} | {1:F0} ±{2:P0} | {3:F0} ±{4:P0} | {5:F0} | {6:F0} | {7:F0} ±{8:P0} | {9:F0} | {10:P0} |",
                    name.Replace("valid ", ""), mRaw.Median, mRaw.Spread, mBinding.Median, mBinding.Spread,
                    mBinding.Median - mRaw.Median, PairedDiff(mBinding, mRaw), mSubject.Median, mSubject.Spread,
                    mSubject.Median - mRaw.Median, share);
            }
            GC.KeepAlive(sink);

            // The error path: the core returns an error object; the binding copies it, frees it,
            // builds the exception from the table and throws it.
            {
                string tok = cases["expired"];
                byte[] tokBytes = B(tok);
                var len = (UIntPtr)tokBytes.Length;
                var mRaw = new Measurement("raw", n =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        IntPtr claims, err; UIntPtr claimsLen;
                        if (Raw.oidc_validate_at(raw, tokBytes, len, nowUnix, out claims, out claimsLen, out err) == 0) throw new Exception("expected an error");
                        Raw.oidc_error_free(err);
                    }
                });
                var mBinding = new Measurement("binding", n =>
                {
                    for (int i = 0; i < n; i++) { try { client.ValidateAt(tok, now); } catch (TokenExpiredException) { } }
                });
                Run(mRaw, mBinding);
                Console.WriteLine("| ES256 expired (error path: throw + catch) | {0:F0} ±{1:P0} | {2:F0} ±{3:P0} | {4:F0} | {5:F0} | | | {6:P0} |",
                    mRaw.Median, mRaw.Spread, mBinding.Median, mBinding.Spread, mBinding.Median - mRaw.Median, PairedDiff(mBinding, mRaw),
                    mRaw.Rounds.Sum() / mRaw.WallRounds.Sum());
            }

            Console.WriteLine();
            Console.WriteLine("Paired single calls: raw, binding, raw, binding, ... each timed on its own; median of the per-pair differences.");
            Console.WriteLine();
            Console.WriteLine("| token | pairs | raw median | binding median | overhead (median of differences) | binding + Subject: overhead |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            foreach (var name in new[] { "valid RS256", "valid PS256", "valid ES256", "valid EdDSA" })
                Paired(client, raw, name.Replace("valid ", ""), cases[name], nowUnix);

            Authenticate(client, raw, cfg, jwks, cases["valid RS256"], nowUnix);
            Breakdown(client, raw, cases["valid RS256"], nowUnix);
            AsyncThroughput(client, cases["valid ES256"], now);
            client.Dispose();
            Raw.oidc_validator_free(raw);
            return 0;
        }

        /// Request authentication (oidc_authenticate) with a repeated RS256 token: the verified-token
        /// cache's hit path, from C#, against the raw C ABI (a request object filled once, then
        /// oidc_authenticate + oidc_decision_allowed + oidc_decision_free per call), against the
        /// same with the cache off, and against oidc_validate_at (the full verify).
        private static void Authenticate(OidcClient client, IntPtr raw, Dictionary<string, object> cfg, string jwks, string token, long nowUnix)
        {
            const string url = "https://api.example.test/items?x=1";
            var now = DateTimeOffset.FromUnixTimeSeconds(nowUnix);
            var authz = new[] { "Bearer " + token };
            byte[] tokBytes = B(token);
            IntPtr rawOff = RawClient(cfg, jwks, 0);
            var opts = new OidcClientOptions
            {
                Issuer = (string)cfg["issuer"], JwksJson = jwks, Audiences = new[] { (string)((List<object>)cfg["audiences"])[0] },
                ExpectedTyp = (string)cfg["expected_typ"], RequiredClaims = new[] { "sub" }, Algorithms = ((string)cfg["algorithms"]).Split(','),
                TokenCacheSize = 0,
            };
            var clientOff = OidcClient.Create(opts);
            IntPtr req;
            Ok(Raw.oidc_http_request_new(out req, IntPtr.Zero), "request");
            byte[] h = B("Authorization"), v = B(authz[0]), m = B("GET"), u = B(url);
            Ok(Raw.oidc_http_request_add_header(req, h, (UIntPtr)h.Length, v, (UIntPtr)v.Length, IntPtr.Zero), "header");
            Ok(Raw.oidc_http_request_set_method(req, m, (UIntPtr)m.Length, IntPtr.Zero), "method");
            Ok(Raw.oidc_http_request_set_url(req, u, (UIntPtr)u.Length, IntPtr.Zero), "url");
            Ok(Raw.oidc_http_request_set_now(req, nowUnix, IntPtr.Zero), "now");
            Action<IntPtr> rawCall = c =>
            {
                IntPtr d;
                Ok(Raw.oidc_authenticate(c, req, out d, IntPtr.Zero), "authenticate");
                if (Raw.oidc_decision_allowed(d) != 1) throw new Exception("denied");
                Raw.oidc_decision_free(d);
            };
            // What a C host does per request: fill the request object, decide, read, free.
            Action<IntPtr> rawRequest = c =>
            {
                Raw.oidc_http_request_reset(req);
                Ok(Raw.oidc_http_request_add_header(req, h, (UIntPtr)h.Length, v, (UIntPtr)v.Length, IntPtr.Zero), "header");
                Ok(Raw.oidc_http_request_set_method(req, m, (UIntPtr)m.Length, IntPtr.Zero), "method");
                Ok(Raw.oidc_http_request_set_url(req, u, (UIntPtr)u.Length, IntPtr.Zero), "url");
                Ok(Raw.oidc_http_request_set_now(req, nowUnix, IntPtr.Zero), "now");
                IntPtr d;
                Ok(Raw.oidc_authenticate(c, req, out d, IntPtr.Zero), "authenticate");
                if (Raw.oidc_decision_allowed(d) != 1) throw new Exception("denied");
                UIntPtr cl;
                if (Raw.oidc_decision_claims(d, out cl) == IntPtr.Zero) throw new Exception("claims");
                Raw.oidc_decision_free(d);
            };
            string sink = null;
            var ms = new[]
            {
                new Measurement("raw oidc_validate_at (full verify, no cache)", n =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        IntPtr claims, err; UIntPtr claimsLen;
                        Ok(Raw.oidc_validate_at(raw, tokBytes, (UIntPtr)tokBytes.Length, nowUnix, out claims, out claimsLen, out err), "validate");
                        Raw.oidc_string_free(claims);
                    }
                }),
                new Measurement("raw oidc_authenticate, token cache off", n => { for (int i = 0; i < n; i++) rawCall(rawOff); }),
                new Measurement("raw oidc_authenticate, repeated token (cache hit), request filled once", n => { for (int i = 0; i < n; i++) rawCall(raw); }),
                new Measurement("raw C ABI per request, cache hit: reset + header + method + URL + now + oidc_authenticate + allowed + claims + free", n => { for (int i = 0; i < n; i++) rawRequest(raw); }),
                new Measurement("**binding Authenticate, repeated token (cache hit)**", n =>
                {
                    for (int i = 0; i < n; i++) if (!client.Authenticate("GET", url, authz, null, null, now).Allowed) throw new Exception("denied");
                }),
                new Measurement("binding Authenticate + Claims.Subject, cache hit", n =>
                {
                    for (int i = 0; i < n; i++) sink = client.Authenticate("GET", url, authz, null, null, now).Claims.Subject;
                }),
                new Measurement("binding Authenticate, token cache off", n =>
                {
                    for (int i = 0; i < n; i++) if (!clientOff.Authenticate("GET", url, authz, null, null, now).Allowed) throw new Exception("denied");
                }),
            };
            Run(ms);
            Console.WriteLine();
            Console.WriteLine("Request authentication, RS256 token (" + token.Length + " chars), Bearer, static keys, ns per call (CPU time, median round):");
            Console.WriteLine();
            Console.WriteLine("| path | ns per call | spread |");
            Console.WriteLine("|---|---:|---:|");
            foreach (var x in ms) Console.WriteLine("| {0} | {1:F0} | ±{2:P0} |", x.Name, x.Median, x.Spread);
            Console.WriteLine();
            Console.WriteLine("binding over the raw C ABI per request (cache hit): {0:F0} ns; paired median of differences: {1:F0} ns", ms[4].Median - ms[3].Median, PairedDiff(ms[4], ms[3]));

            // The binding's own steps on that path, each alone.
            ClientHandle ch = client.Handle;
            HttpRequestHandle sreq;
            IntPtr e0;
            Ok(Native.oidc_http_request_new(out sreq, out e0), "request");
            byte[] scratch = new byte[4096];
            object keep = null;
            IntPtr borrowed;
            Ok(Raw.oidc_authenticate(raw, req, out borrowed, IntPtr.Zero), "authenticate");
            var steps = new[]
            {
                new Measurement("header value string -> UTF-8 (" + authz[0].Length + " chars)", n => { for (int i = 0; i < n; i++) Encoding.UTF8.GetBytes(authz[0], 0, authz[0].Length, scratch, 0); }),
                new Measurement("header value string -> bytes as RequestAuthenticator encodes it (Latin-1; ASCII through the UTF-8 encoder)", n => { for (int i = 0; i < n; i++) OidcClient.Encode(authz[0], OidcClient.Latin1Headers, ref scratch); }),
                new Measurement("request: reset + header + method + URL + now (SafeHandle, bytes ready)", n =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        IntPtr e;
                        Native.oidc_http_request_reset(sreq);
                        Native.oidc_http_request_add_header(sreq, h, (UIntPtr)h.Length, v, (UIntPtr)v.Length, out e);
                        Native.oidc_http_request_set_method(sreq, m, (UIntPtr)m.Length, out e);
                        Native.oidc_http_request_set_url(sreq, u, (UIntPtr)u.Length, out e);
                        Native.oidc_http_request_set_now(sreq, nowUnix, out e);
                    }
                }),
                new Measurement("oidc_authenticate + free, IntPtr decision (raw)", n => { for (int i = 0; i < n; i++) rawCall(raw); }),
                new Measurement("oidc_authenticate, SafeHandle client/request, out DecisionHandle + Dispose", n =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        DecisionHandle d; IntPtr e;
                        Native.oidc_authenticate(ch, sreq, out d, out e);
                        d.Dispose();
                    }
                }),
                new Measurement("Decision.Read of an allowed decision (9 getters, claims copy)", n => { for (int i = 0; i < n; i++) keep = Decision.Read(borrowed); }),
            };
            Run(steps);
            Console.WriteLine();
            Console.WriteLine("| binding step (cache hit path) | ns per call |");
            Console.WriteLine("|---|---:|");
            foreach (var x in steps) Console.WriteLine("| {0} | {1:F0} ±{2:P0} |", x.Name, x.Median, x.Spread);
            GC.KeepAlive(keep);
            Raw.oidc_decision_free(borrowed);
            sreq.Dispose();
            GC.KeepAlive(sink);
            Raw.oidc_http_request_free(req);
            Raw.oidc_validator_free(rawOff);
            clientOff.Dispose();
        }

        /// Alternate single raw and binding calls, each timed with the thread CPU clock; the
        /// median of the per-pair differences is robust against preemption and frequency drift,
        /// which hit a single call of either kind alike.
        private static void Paired(OidcClient client, IntPtr raw, string name, string token, long nowUnix)
        {
            byte[] tokBytes = B(token);
            var len = (UIntPtr)tokBytes.Length;
            var now = DateTimeOffset.FromUnixTimeSeconds(nowUnix);
            int pairs = Math.Max(2000, (int)(rounds * roundMs * 1e6 / 3 / 60000));
            var rr = new double[pairs]; var bb = new double[pairs];
            string sink = null;
            for (int w = 0; w < 300; w++) { client.ValidateAt(token, now); IntPtr c, e; UIntPtr l; Raw.oidc_validate_at(raw, tokBytes, len, nowUnix, out c, out l, out e); Raw.oidc_string_free(c); }
            for (int i = 0; i < pairs; i++)
            {
                IntPtr claims, err; UIntPtr claimsLen;
                long t0 = CpuClock.NowNs();
                if (Raw.oidc_validate_at(raw, tokBytes, len, nowUnix, out claims, out claimsLen, out err) == 0) Raw.oidc_string_free(claims);
                long t1 = CpuClock.NowNs();
                if (i % 2 == 0) client.ValidateAt(token, now); else sink = client.ValidateAt(token, now).Subject;
                long t2 = CpuClock.NowNs();
                rr[i] = t1 - t0; bb[i] = t2 - t1;
            }
            var plain = Enumerable.Range(0, pairs).Where(i => i % 2 == 0).Select(i => bb[i] - rr[i]);
            var withSub = Enumerable.Range(0, pairs).Where(i => i % 2 == 1).Select(i => bb[i] - rr[i]);
            Console.WriteLine("| {0} | {1} | {2:F0} | {3:F0} | {4:F0} | {5:F0} |", name, pairs, Stats.Median(rr),
                Stats.Median(Enumerable.Range(0, pairs).Where(i => i % 2 == 0).Select(i => bb[i])), Stats.Median(plain), Stats.Median(withSub));
            GC.KeepAlive(sink);
        }

        /// The binding's own work on the success path, measured without the signature check.
        private static void Breakdown(OidcClient client, IntPtr raw, string token, long nowUnix)
        {
            byte[] tokBytes = B(token);
            IntPtr claimsPtr, err; UIntPtr claimsLen;
            Ok(Raw.oidc_validate_at(raw, tokBytes, (UIntPtr)tokBytes.Length, nowUnix, out claimsPtr, out claimsLen, out err), "validate");
            int clen = (int)claimsLen.ToUInt64();
            string json = Utf8.Read(claimsPtr, clen);
            ClientHandle handle = client.Handle;
            object sink = null;
            var steps = new[]
            {
                new Measurement("token: string -> UTF-8 in the per-thread buffer (Utf8.RentEncoded + Return, " + token.Length + " chars)", n => { int k; for (int i = 0; i < n; i++) Utf8.Return(Utf8.RentEncoded(token, out k)); }),
                new Measurement("(for comparison: Encoding.UTF8.GetBytes(token), a new array)", n => { for (int i = 0; i < n; i++) sink = Utf8.Bytes(token); }),
                new Measurement("P/Invoke, IntPtr handle (oidc_validator_prefetch, static keys: returns at once)", n => { for (int i = 0; i < n; i++) Raw.oidc_validator_prefetch(raw, out err); }),
                new Measurement("P/Invoke, SafeHandle (same call through the binding's declaration)", n => { for (int i = 0; i < n; i++) Native.oidc_validator_prefetch(handle, out err); }),
                new Measurement("OidcClient.Prefetch() (disposed check + SafeHandle P/Invoke)", n => { for (int i = 0; i < n; i++) client.Prefetch(); }),
                new Measurement("claims: Marshal.Copy into the buffer + UTF-8 decode (" + clen + " bytes)", n =>
                {
                    for (int i = 0; i < n; i++) { var b = Utf8.Rent(1024); Marshal.Copy(claimsPtr, b, 0, clen); sink = Encoding.UTF8.GetString(b, 0, clen); Utf8.Return(b); }
                }),
                new Measurement("new Claims(json) (decoding is deferred)", n => { for (int i = 0; i < n; i++) sink = new Claims(json); }),
                new Measurement("replica: all of the above around a no-op instead of oidc_validate_at", n =>
                {
                    var now = DateTimeOffset.FromUnixTimeSeconds(nowUnix);
                    for (int i = 0; i < n; i++)
                    {
                        long unix = now.ToUnixTimeSeconds();
                        int k;
                        byte[] b = Utf8.RentEncoded(token, out k);
                        try
                        {
                            if (unix == 0 || k == 0) throw new Exception();
                            Marshal.Copy(claimsPtr, b, 0, clen);
                            sink = new Claims(Encoding.UTF8.GetString(b, 0, clen));
                        }
                        finally { Utf8.Return(b); }
                    }
                }),
                new Measurement("Claims decode on first access (Json.ParseObject)", n => { for (int i = 0; i < n; i++) sink = Json.ParseObject(json); }),
            };
            Run(steps);
            Console.WriteLine();
            Console.WriteLine("| binding step (RS256 token) | ns per call |");
            Console.WriteLine("|---|---:|");
            foreach (var s in steps) Console.WriteLine("| {0} | {1:F0} ±{2:P0} |", s.Name, s.Median, s.Spread);
            Raw.oidc_string_free(claimsPtr);
            GC.KeepAlive(sink);
        }

        /// Warm-key throughput by wall clock, all cores: ValidateAtAsync on liboidc's callback API
        /// (the binding's Task path) against the same call as Task.Run(ValidateAt) (the binding's
        /// Task path before) and against blocking ValidateAt on one thread per CPU. Windows of
        /// 256 concurrent tasks; rounds interleaved; median round.
        private static void AsyncThroughput(OidcClient client, string token, DateTimeOffset now)
        {
            const int window = 256;
            int perRound = 20480, nRounds = Math.Max(5, rounds / 2);
            int cpus = Environment.ProcessorCount;
            Func<int, double> native = n =>
            {
                var sw = Stopwatch.StartNew();
                var w = new Task[window];
                for (int done = 0; done < n; done += window)
                {
                    for (int i = 0; i < window; i++) w[i] = client.ValidateAtAsync(token, now);
                    Task.WaitAll(w);
                }
                return n / sw.Elapsed.TotalSeconds;
            };
            Func<int, double> taskRun = n =>
            {
                var sw = Stopwatch.StartNew();
                var w = new Task[window];
                for (int done = 0; done < n; done += window)
                {
                    for (int i = 0; i < window; i++) w[i] = Task.Run(() => client.ValidateAt(token, now));
                    Task.WaitAll(w);
                }
                return n / sw.Elapsed.TotalSeconds;
            };
            Func<int, double> blocking = n =>
            {
                var sw = Stopwatch.StartNew();
                var ts = Enumerable.Range(0, cpus).Select(_ => new Thread(() => { for (int i = 0; i < n / cpus; i++) client.ValidateAt(token, now); })).ToList();
                ts.ForEach(t => t.Start());
                ts.ForEach(t => t.Join());
                return n / sw.Elapsed.TotalSeconds;
            };
            var kinds = new[] { native, taskRun, blocking };
            var results = kinds.Select(_ => new List<double>()).ToArray();
            foreach (var k in kinds) k(window * 8); // warm up (JIT, pool threads)
            for (int r = 0; r < nRounds; r++)
                for (int j = 0; j < kinds.Length; j++)
                {
                    int k = (j + r) % kinds.Length;
                    results[k].Add(kinds[k](perRound));
                }
            Func<List<double>, double> median = l => l.OrderBy(x => x).ElementAt(l.Count / 2);
            double nat = median(results[0]), run = median(results[1]), blk = median(results[2]);
            Console.WriteLine();
            Console.WriteLine("Warm-key throughput, ES256, wall clock, {0} CPUs, {1} rounds of {2} calls, windows of {3} tasks (median round):", cpus, nRounds, perRound, window);
            Console.WriteLine();
            Console.WriteLine("| path | validations/s | vs blocking |");
            Console.WriteLine("|---|---:|---:|");
            Console.WriteLine("| ValidateAtAsync (liboidc callback API) | {0:F0} | {1:F2} |", nat, nat / blk);
            Console.WriteLine("| Task.Run(ValidateAt) (thread pool) | {0:F0} | {1:F2} |", run, run / blk);
            Console.WriteLine("| ValidateAt on {2} threads (blocking) | {0:F0} | {1:F2} |", blk, 1.0, cpus);
            Console.WriteLine();
            Console.WriteLine("ratio callback API / Task.Run: {0:F2}", nat / run);
        }

        private static string MonoVersion()
        {
            var t = Type.GetType("Mono.Runtime");
            if (t == null) return Environment.Version.ToString();
            var m = t.GetMethod("GetDisplayName", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static);
            return m != null ? ((string)m.Invoke(null, null)).Split(' ')[0] : "?";
        }

        private static string LoadAverage()
        {
            try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; } catch (Exception) { return "?"; }
        }
    }
}
