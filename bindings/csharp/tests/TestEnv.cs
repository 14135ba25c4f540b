// Where things are, and child servers (oidc-testkit, the node IdP) with a piped stdin, so they
// exit when this process dies.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace Oidc.Tests
{
    internal static class TestEnv
    {
        /// The liboidc repository: $OIDC_REPO_ROOT, else the first ancestor of the working
        /// directory or of this assembly that has include/oidc.h.
        internal static string RepoRoot
        {
            get
            {
                var env = Environment.GetEnvironmentVariable("OIDC_REPO_ROOT");
                if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
                foreach (var start in new[] { Environment.CurrentDirectory, Path.GetDirectoryName(typeof(TestEnv).Assembly.Location) })
                {
                    for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                        if (File.Exists(Path.Combine(d.FullName, "include", "oidc.h"))) return d.FullName;
                }
                throw new InvalidOperationException("cannot find the liboidc repository (set OIDC_REPO_ROOT)");
            }
        }

        internal static string Header { get { return Path.Combine(RepoRoot, "include", "oidc.h"); } }

        internal static string Require(string variable, string what)
        {
            var v = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(v)) throw new InvalidOperationException(variable + " is not set (" + what + "); run bindings/csharp/test.sh");
            return v;
        }

        internal static int FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        internal static string TempDir(string prefix)
        {
            var d = Path.Combine(Path.GetTempPath(), prefix + "-" + Process.GetCurrentProcess().Id + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(d);
            return d;
        }

        internal static string HttpGet(string url)
        {
            return Http("GET", url);
        }

        internal static string HttpPost(string url)
        {
            return Http("POST", url);
        }

        private static string Http(string method, string url)
        {
            var req = (HttpWebRequest)WebRequest.Create(url);
            req.Method = method;
            req.Proxy = null;
            req.Timeout = 15000;
            if (method == "POST") req.ContentLength = 0;
            using (var resp = (HttpWebResponse)req.GetResponse())
            using (var r = new StreamReader(resp.GetResponseStream(), Encoding.UTF8))
                return r.ReadToEnd();
        }
    }

    /// A child server that prints one JSON ready line on stdout and exits on stdin EOF.
    internal sealed class ChildServer : IDisposable
    {
        private readonly Process p;
        private readonly StringBuilder stderr = new StringBuilder();
        internal readonly Dictionary<string, object> Ready;
        internal readonly string Dir;

        internal ChildServer(string exe, string args, string dir, int readySeconds)
        {
            Dir = dir;
            var psi = new ProcessStartInfo(exe, args)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            p = Process.Start(psi);
            p.ErrorDataReceived += (s, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
            p.BeginErrorReadLine();
            string line = null;
            var reader = new Thread(() => { try { line = p.StandardOutput.ReadLine(); } catch (Exception) { } });
            reader.IsBackground = true;
            reader.Start();
            if (!reader.Join(TimeSpan.FromSeconds(readySeconds)) || line == null)
            {
                string how = p.HasExited ? "exited with status " + p.ExitCode : "printed no ready line within " + readySeconds + " s";
                Dispose();
                try { p.WaitForExit(); } catch (Exception) { } // drains the asynchronous stderr reader
                throw new InvalidOperationException(exe + " " + args + " " + how + "; stderr:\n" + Stderr);
            }
            Ready = Json.ParseObject(line);
        }

        internal string this[string key] { get { return Ready[key] as string; } }

        internal string Stderr { get { lock (stderr) return stderr.ToString(); } }

        public void Dispose()
        {
            Stop();
        }

        private void Stop()
        {
            try
            {
                if (!p.HasExited)
                {
                    p.StandardInput.Close(); // both servers exit on stdin EOF
                    if (!p.WaitForExit(5000)) p.Kill(); // our own child, by handle
                }
            }
            catch (Exception) { }
        }
    }
}
