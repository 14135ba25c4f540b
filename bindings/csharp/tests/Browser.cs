// A scripted user agent for the real IdP (tests/idp), like tests/common/real_idp.rs: one cookie
// jar, redirects followed by hand, the IdP's development login and consent pages answered with
// form posts, device approval at /device. Requests go through curl, trusting only the IdP's
// test CA.
using System;
using System.Diagnostics;
using System.IO;
using System.Text;

namespace Oidc.Tests
{
    internal sealed class Browser
    {
        private readonly string issuer;
        private readonly string caFile;
        private readonly string jar;
        /// Body of the last page LoginAndConsent stopped at.
        internal string LastBody = "";

        internal Browser(string issuer, string caFile)
        {
            this.issuer = issuer;
            this.caFile = caFile;
            jar = Path.Combine(TestEnv.TempDir("oidc-cs-browser"), "cookies.txt");
        }

        internal sealed class Page
        {
            internal int Status;
            internal string Location;
            internal string Body;
        }

        private string Absolute(string url)
        {
            return url.StartsWith("/", StringComparison.Ordinal) ? issuer + url : url;
        }

        /// One request through curl (Mono 6.8's TLS stack cannot verify the IdP's EC
        /// certificate), with the cookie jar and no redirect following.
        internal Page Request(string method, string url, params string[] form)
        {
            url = Absolute(url);
            var args = new StringBuilder("-sS -i --max-time 15 --noproxy \"*\" --cacert " + Quote(caFile) + " -b " + Quote(jar) + " -c " + Quote(jar));
            if (method == "POST")
            {
                args.Append(" -X POST -H \"Content-Type: application/x-www-form-urlencoded\" --data-raw ");
                var sb = new StringBuilder();
                for (int i = 0; i + 1 < form.Length; i += 2)
                {
                    if (sb.Length > 0) sb.Append('&');
                    sb.Append(Uri.EscapeDataString(form[i])).Append('=').Append(Uri.EscapeDataString(form[i + 1]));
                }
                args.Append(Quote(sb.ToString()));
            }
            args.Append(' ').Append(Quote(url));
            var psi = new ProcessStartInfo("curl", args.ToString())
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            string output, error;
            using (var p = Process.Start(psi))
            {
                var err = p.StandardError.ReadToEndAsync();
                output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                error = err.Result;
                if (p.ExitCode != 0) throw new InvalidOperationException("curl " + method + " " + url + ": " + error);
            }
            int split = output.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            string head = split < 0 ? output : output.Substring(0, split);
            string body = split < 0 ? "" : output.Substring(split + 4);
            var lines = head.Split(new[] { "\r\n" }, StringSplitOptions.None);
            var page = new Page { Status = int.Parse(lines[0].Split(' ')[1]), Body = body };
            foreach (var l in lines)
                if (l.StartsWith("location:", StringComparison.OrdinalIgnoreCase)) page.Location = Absolute(l.Substring(9).Trim());
            return page;
        }

        private static string Quote(string s)
        {
            return "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        }

        /// Follow `url` (an authorization URL or an interaction) until a redirect leaves the
        /// issuer, logging in as `login` and consenting. Returns that redirect (the redirect URI
        /// with code/state/iss), or the last page's URL when there is none (device flow).
        internal string LoginAndConsent(string url, string login = "user-1")
        {
            bool loggedIn = false;
            for (int i = 0; i < 20; i++)
            {
                Page page;
                if (url.Contains("/interaction/"))
                {
                    page = loggedIn ? Request("POST", url, "prompt", "consent")
                        : Request("POST", url, "prompt", "login", "login", login, "password", "anything");
                    loggedIn = true;
                }
                else
                {
                    page = Request("GET", url);
                }
                if (page.Location != null && page.Location.StartsWith(issuer, StringComparison.Ordinal)) { url = page.Location; continue; }
                if (page.Location != null) return page.Location;
                Assert.True(page.Status < 400, "IdP error page at " + url + ": " + page.Status + " " + page.Body);
                LastBody = page.Body;
                return url;
            }
            throw new InvalidOperationException("too many redirects in the scripted login");
        }

        /// Approve a device authorization: enter the user code at /device, confirm, log in, consent.
        internal void ApproveDevice(string userCode)
        {
            var p = Request("GET", "/device");
            p = Request("POST", "/device", "xsrf", Xsrf(p.Body), "user_code", userCode);
            p = Request("POST", "/device", "xsrf", Xsrf(p.Body), "user_code", userCode, "confirm", "yes");
            Assert.NotNull(p.Location, "device confirm did not redirect: " + p.Status + " " + p.Body);
            LoginAndConsent(p.Location);
            Assert.Contains("Sign-in Success", LastBody, "device approval");
        }

        private static string Xsrf(string body)
        {
            const string needle = "name=\"xsrf\" value=\"";
            int i = body.IndexOf(needle, StringComparison.Ordinal);
            Assert.True(i >= 0, "xsrf field in: " + body);
            i += needle.Length;
            return body.Substring(i, body.IndexOf('"', i) - i);
        }
    }
}
