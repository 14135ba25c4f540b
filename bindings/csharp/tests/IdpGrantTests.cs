// The grants against the real oidc-provider (tests/idp), like tests/oauth_grants_idp.rs:
// authorization code + PKCE with a scripted login, refresh, device flow with a scripted
// approval and cancellation, cached client credentials, token exchange / JWT bearer / custom
// grant, CIBA (approved through the IdP's admin endpoint) and DPoP, each with an error case.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    public partial class IdpTests
    {
        private const string Es256 = "urn:liboidc:es256";

        private Browser NewBrowser() { return new Browser(Issuer, CaFile); }

        private static string ClientKey(string name)
        {
            return File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "tests", "idp", "client-keys", name));
        }

        private OAuthClient PkJwtClient()
        {
            return OAuthClient.Create(new OAuthClientOptions
            {
                Issuer = Issuer, ClientId = "svc-pkjwt", AuthMethod = AuthMethods.PrivateKeyJwt, CaFile = CaFile,
                PrivateKey = ClientKey("ec.pem"), PrivateKeyId = "client-ec",
            });
        }

        /// Log in through the authorization URL; returns the code from the checked redirect.
        private string LoginForCode(OAuthClient c, Pkce pkce, string resource)
        {
            var req = new AuthorizationRequest
            {
                RedirectUri = Cb, Scope = "openid email profile read", CodeChallenge = pkce.CodeChallenge,
                State = pkce.State, Nonce = pkce.Nonce,
            };
            if (resource != null) req.Parameters = new Dictionary<string, object> { { "resource", resource } };
            string cb = NewBrowser().LoginAndConsent(c.AuthorizationUrl(req).Url);
            Assert.True(cb.StartsWith(Cb + "?"), cb);
            return c.ParseAuthorizationResponse(cb, pkce.State).Code;
        }

        [Test]
        public void PkceNewGivesVerifierChallengeStateAndNonce()
        {
            var p = Pkce.New();
            Assert.AreEqual(43, p.CodeVerifier.Length);
            Assert.AreEqual("S256", p.CodeChallengeMethod);
            Assert.AreEqual(Pkce.Challenge(p.CodeVerifier), p.CodeChallenge);
            Assert.True(p.State.Length >= 20 && p.Nonce.Length >= 20 && p.State != p.Nonce, "state and nonce");
            Assert.True(Pkce.New().CodeVerifier != p.CodeVerifier, "fresh randomness");
            Assert.DoesNotContain(p.CodeVerifier, p.ToString());
            Assert.Contains(p.CodeChallenge, p.ToString());
        }

        [Test]
        public async Task CodeWithPkceThenRefresh()
        {
            using (var c = Client("web-app", "web-app-secret"))
            using (var v = Validator(Es256))
            {
                var pkce = Pkce.New();
                string code = LoginForCode(c, pkce, Es256);
                var t = await c.ExchangeCodeAsync(code, Cb, pkce.CodeVerifier, pkce.Nonce, new[] { Es256 });
                Assert.AreEqual("Bearer", t.TokenType);
                Assert.NotNull(t.IdToken, "id_token (validated by liboidc)");
                Assert.NotNull(t.RefreshToken, "refresh_token");
                var id = c.ValidateIdToken(t.IdToken, pkce.Nonce);
                Assert.AreEqual("user-1", id.Subject);
                Assert.AreEqual("user-1", v.Validate(t.AccessToken).Subject);
                foreach (var secret in new[] { t.AccessToken, t.RefreshToken, t.IdToken, code, pkce.CodeVerifier })
                    Assert.DoesNotContain(secret, t.ToString());

                // Refresh rotates the refresh token; the old one is then refused.
                var t2 = c.Refresh(t.RefreshToken, resources: new[] { Es256 });
                Assert.NotNull(t2.RefreshToken);
                Assert.True(t2.RefreshToken != t.RefreshToken, "rotated");
                Assert.AreEqual("user-1", v.Validate(t2.AccessToken).Subject);
                var e = Assert.Throws<InvalidGrantException>(() => c.RefreshAsync(t.RefreshToken).Wait());
                Assert.AreEqual("invalid_grant", e.OAuthError);
                Assert.DoesNotContain(t.RefreshToken, e.ToString());

                // The code is single use.
                Assert.Throws<InvalidGrantException>(() => c.ExchangeCode(code, Cb, pkce.CodeVerifier));
            }
        }

        [Test]
        public void AWrongVerifierOrABogusCodeIsInvalidGrant()
        {
            using (var c = Client("web-app", "web-app-secret"))
            {
                var pkce = Pkce.New();
                string code = LoginForCode(c, pkce, null);
                var e = Assert.Throws<InvalidGrantException>(() => c.ExchangeCode(code, Cb, Pkce.New().CodeVerifier, pkce.Nonce));
                Assert.DoesNotContain(code, e.ToString());
                Assert.DoesNotContain(pkce.CodeVerifier, e.ToString());
                Assert.Throws<InvalidGrantException>(() => c.ExchangeCode("bogus-code", Cb, pkce.CodeVerifier));
                Assert.Throws<InvalidGrantException>(() => c.Refresh("not-a-refresh-token"));
                Assert.Throws<ArgumentNullException>(() => c.ExchangeCode(null, Cb));
            }
        }

        [Test]
        public void DeviceFlowWithScriptedApproval()
        {
            using (var c = Client("device-app", null, AuthMethods.None))
            using (var da = c.DeviceAuthorization("openid"))
            {
                Assert.AreEqual(TimeSpan.FromSeconds(5), da.Interval, "RFC 8628 default interval");
                Assert.True(da.VerificationUri.StartsWith(Issuer), da.VerificationUri);
                Assert.True(da.UserCode.Length > 0 && da.ExpiresIn > TimeSpan.Zero, da.ToString());
                // Pending, with a deadline shorter than the interval: DeadlineExceeded at once.
                var sw = Stopwatch.StartNew();
                var e = Assert.Throws<DeadlineExceededException>(() => c.PollDevice(da, TimeSpan.FromMilliseconds(200)));
                Assert.AreEqual((int)OidcResult.DeadlineExceeded, e.Code);
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), "no wait past the timeout: " + sw.Elapsed);

                NewBrowser().ApproveDevice(da.UserCode);
                var t = c.PollDeviceAsync(da, TimeSpan.FromSeconds(30)).Result;
                Assert.True(t.AccessToken.Length > 0);
                Assert.NotNull(t.IdToken, "validated ID token");
                // The device code is consumed.
                Assert.Throws<InvalidGrantException>(() => c.PollDevice(da, TimeSpan.FromSeconds(1)));
            }
        }

        /// The device flow and CIBA on the non-blocking API: the starts hand over owned handles;
        /// the polls give the blocking polls' outcomes (the wait between polls is liboidc's timer:
        /// PollDeviceCancelled shows a pending poll cancelled at once).
        [Test]
        public void DeviceFlowWithoutBlocking()
        {
            using (var c = Client("device-app", null, AuthMethods.None))
            using (var da = c.DeviceAuthorizationAsync("openid").Result)
            {
                Assert.True(da.VerificationUri.StartsWith(Issuer), da.VerificationUri);
                Assert.True(da.UserCode.Length > 0, da.ToString());
                var e = Assert.Throws<DeadlineExceededException>(() => c.PollDeviceAsync(da, TimeSpan.FromMilliseconds(200)).Wait());
                Assert.AreEqual((int)OidcResult.DeadlineExceeded, e.Code);
                NewBrowser().ApproveDevice(da.UserCode);
                var t = c.PollDeviceAsync(da, TimeSpan.FromSeconds(30)).Result;
                Assert.True(t.AccessToken.Length > 0);
                Assert.NotNull(t.IdToken, "validated ID token");
            }
            using (var pk = PkJwtClient())
            using (var req = pk.CibaRequestAsync(new Dictionary<string, object> { { "scope", "openid" }, { "login_hint", "user-2" } }).Result)
            {
                TestEnv.HttpPost(idp["admin"] + "/ciba/approve?deny=1&auth_req_id=" + Uri.EscapeDataString(req.AuthReqId));
                Assert.Throws<AccessDeniedException>(() => pk.PollCibaAsync(req, TimeSpan.FromSeconds(30)).Wait());
            }
            Assert.AreEqual(0L, AsyncBridge.LiveCancelHandles, "cancel handles");
        }

        [Test]
        public void DeviceErrors()
        {
            using (var c = Client("svc-basic", "svc-basic-secret"))
                Assert.Throws<OAuthProtocolException>(() => c.DeviceAuthorization("openid"), "a client without the device grant");
            using (var c = Client("device-app", null, AuthMethods.None))
            {
                var da = c.DeviceAuthorization("openid");
                Assert.Throws<ArgumentOutOfRangeException>(() => c.PollDevice(da, TimeSpan.FromSeconds(-2)));
                da.Dispose();
                da.Dispose();
                Assert.Throws<ObjectDisposedException>(() => c.PollDevice(da, TimeSpan.FromSeconds(1)));
            }
        }

        /// Cancellation surfaces as OperationCanceledException (the Task is Canceled), with the
        /// liboidc result (CANCELLED) as its InnerException.
        [Test]
        public void PollDeviceCancelled()
        {
            using (var c = Client("device-app", null, AuthMethods.None))
            using (var da = c.DeviceAuthorization("openid"))
            {
                long freed = CancelHandle.ReleasedCount;
                // Synchronous: the first poll (pending) at once, then the 5 s wait, cut short.
                using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
                {
                    var sw = Stopwatch.StartNew();
                    var e = Assert.Throws<OperationCanceledException>(() => c.PollDevice(da, TimeSpan.FromSeconds(30), cts.Token));
                    Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), "cancelled within the interval: " + sw.Elapsed);
                    Assert.AreEqual(cts.Token, e.CancellationToken);
                    var inner = e.InnerException as OidcCancelledException;
                    Assert.NotNull(inner, "inner OidcCancelledException, was " + e.InnerException);
                    Assert.AreEqual((int)OidcResult.Cancelled, inner.Code);
                    Assert.AreEqual("CANCELLED", inner.Name);
                }
                // Asynchronous: the task ends Canceled.
                using (var cts = new CancellationTokenSource())
                {
                    var task = c.PollDeviceAsync(da, TimeSpan.FromSeconds(30), cts.Token);
                    Thread.Sleep(300);
                    Assert.False(task.IsCompleted, "still waiting for the user");
                    var sw = Stopwatch.StartNew();
                    cts.Cancel();
                    try { task.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
                    Assert.True(task.IsCanceled, "task status " + task.Status);
                    Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), "cancel ends the wait: " + sw.Elapsed);
                }
                // Already cancelled: nothing is sent.
                using (var cts = new CancellationTokenSource())
                {
                    cts.Cancel();
                    Assert.Throws<OperationCanceledException>(() => c.PollDevice(da, TimeSpan.FromSeconds(30), cts.Token));
                }
                Assert.True(CancelHandle.ReleasedCount - freed >= 1, "the blocking poll frees its oidc_cancel");
                Assert.AreEqual(0L, AsyncBridge.LiveCancelHandles, "the non-blocking poll freed its oidc_cancel");
            }
        }

        [Test]
        public void CachedClientCredentialsReuseOneToken()
        {
            using (var c = Client())
            {
                var a = c.ClientCredentials("read", new[] { "urn:liboidc:rs256" }, cached: true);
                var b = c.ClientCredentialsAsync("read", new[] { "urn:liboidc:rs256" }, cached: true).Result;
                Assert.AreEqual(a.AccessToken, b.AccessToken, "the same token twice");
                var fresh = c.ClientCredentials("read", new[] { "urn:liboidc:rs256" });
                Assert.True(fresh.AccessToken != a.AccessToken, "uncached: a new token");
                var other = c.ClientCredentials("read write", new[] { "urn:liboidc:rs256" }, cached: true);
                Assert.True(other.AccessToken != a.AccessToken, "another scope set: another cache entry");
            }
            using (var c = Client("svc-basic", "wrong-secret"))
            {
                var e = Assert.Throws<InvalidClientException>(() => c.ClientCredentials("read", cached: true));
                Assert.DoesNotContain("wrong-secret", e.ToString());
            }
        }

        [Test]
        public void TokenExchangeJwtBearerAndCustomGrant()
        {
            using (var svc = Client())
            using (var pk = PkJwtClient())
            {
                Assert.DoesNotContain("BEGIN", new OAuthClientOptions { PrivateKey = ClientKey("ec.pem") }.ToString());
                var subject = svc.ClientCredentials();
                var t = pk.TokenExchange(subject.AccessToken, parameters: new Dictionary<string, object> { { "audience", "urn:x:downstream" } });
                Assert.AreEqual(TokenTypes.AccessToken, t.IssuedTokenType);
                Assert.Throws<InvalidGrantException>(() => pk.TokenExchange("not-a-token"));

                var jb = pk.JwtBearerAsync(subject: "user-1", scope: "read").Result;
                Assert.True(jb.AccessToken.Length > 0);
                Assert.Throws<InvalidGrantException>(() => pk.JwtBearer(assertion: "e30.e30.sig"));

                var echo = pk.CustomGrant("urn:liboidc:grant-type:echo", new Dictionary<string, object> { { "color", "blue" }, { "size", "XL" } });
                var echoed = (Dictionary<string, object>)Json.ParseObject(echo.RawJson)["echo"];
                Assert.AreEqual("blue", (string)echoed["color"]);
                Assert.AreEqual("XL", (string)echoed["size"]);
                Assert.Throws<InvalidRequestException>(() => pk.CustomGrant("urn:liboidc:grant-type:echo"));
            }
            // A bad key fails at Create.
            Assert.Throws<ConfigurationException>(() => OAuthClient.Create(new OAuthClientOptions
            {
                Issuer = Issuer, ClientId = "svc-pkjwt", AuthMethod = AuthMethods.PrivateKeyJwt, CaFile = CaFile, PrivateKey = "not a key",
            }));
        }

        /// The Task methods on liboidc's non-blocking twins decide as the blocking calls do.
        [Test]
        public void AsyncTwinsOfTheGrantsMatchTheBlockingCalls()
        {
            using (var svc = Client())
            using (var pk = PkJwtClient())
            {
                var subject = svc.ClientCredentials();
                var p = new Dictionary<string, object> { { "audience", "urn:x:downstream" } };
                var t = pk.TokenExchangeAsync(subject.AccessToken, parameters: p).Result;
                Assert.AreEqual(pk.TokenExchange(subject.AccessToken, parameters: p).IssuedTokenType, t.IssuedTokenType);
                Assert.Throws<InvalidGrantException>(() => pk.TokenExchangeAsync("not-a-token").Wait());
                var echo = pk.CustomGrantAsync("urn:liboidc:grant-type:echo", new Dictionary<string, object> { { "color", "green" } }).Result;
                Assert.AreEqual("green", (string)((Dictionary<string, object>)Json.ParseObject(echo.RawJson)["echo"])["color"]);
                Assert.Throws<InvalidRequestException>(() => pk.CustomGrantAsync("urn:liboidc:grant-type:echo").Wait());
                Assert.Throws<InvalidGrantException>(() => pk.JwtBearerAsync(assertion: "e30.e30.sig").Wait());
                var cached = svc.ClientCredentialsAsync("read", cached: true).Result;
                Assert.AreEqual(cached.AccessToken, svc.ClientCredentials("read", cached: true).AccessToken, "one cache for both paths");
                Assert.Throws<TokenMalformedException>(() => svc.ValidateIdTokenAsync("x.y").Wait());
                Assert.Throws<ArgumentNullException>(() => svc.ValidateIdTokenAsync(null));
                Assert.AreEqual(svc.Endpoint("token_endpoint"), svc.EndpointAsync("token_endpoint").Result);
                var r = svc.ResourceRequestAsync("GET", Issuer + "/me", subject.AccessToken, subject.TokenType).Result;
                Assert.AreEqual(svc.ResourceRequest("GET", Issuer + "/me", subject.AccessToken, subject.TokenType).StatusCode, r.StatusCode);
                // A pre-cancelled token: Canceled without a request.
                using (var cts = new System.Threading.CancellationTokenSource())
                {
                    cts.Cancel();
                    Assert.True(svc.ClientCredentialsAsync("read", cancellationToken: cts.Token).IsCanceled, "pre-cancelled");
                }
            }
        }

        [Test]
        public void CibaPollMode()
        {
            using (var c = PkJwtClient())
            {
                var p = new Dictionary<string, object> { { "scope", "openid email" }, { "login_hint", "user-1" } };
                using (var req = c.CibaRequest(p))
                {
                    Assert.DoesNotContain(req.AuthReqId, req.ToString());
                    Assert.Throws<DeadlineExceededException>(() => c.PollCiba(req, TimeSpan.FromMilliseconds(100)), "pending before approval");
                    TestEnv.HttpPost(idp["admin"] + "/ciba/approve?auth_req_id=" + Uri.EscapeDataString(req.AuthReqId));
                    var t = c.PollCibaAsync(req, TimeSpan.FromSeconds(30)).Result;
                    Assert.AreEqual("user-1", c.ValidateIdToken(t.IdToken).Subject);
                }
                p["login_hint"] = "user-2";
                using (var req = c.CibaRequest(p))
                {
                    TestEnv.HttpPost(idp["admin"] + "/ciba/approve?deny=1&auth_req_id=" + Uri.EscapeDataString(req.AuthReqId));
                    Assert.Throws<AccessDeniedException>(() => c.PollCiba(req, TimeSpan.FromSeconds(30)));
                }
            }
        }

        [Test]
        public void DPoPBoundClientCredentials()
        {
            using (var c = OAuthClient.Create(new OAuthClientOptions
            {
                Issuer = Issuer, ClientId = "svc-basic", ClientSecret = "svc-basic-secret", CaFile = CaFile, DPoPKey = ClientKey("dpop-ec.pem"),
            }))
            using (var v = Validator(Es256))
            {
                var t = c.ClientCredentials("read", new[] { Es256 });
                Assert.AreEqual("DPoP", t.TokenType);
                var cnf = (Dictionary<string, object>)v.Validate(t.AccessToken)["cnf"];
                Assert.AreEqual(c.DPoPThumbprint(), (string)cnf["jkt"]);
                string proof = c.DPoPProof("GET", Issuer + "/me", t.AccessToken);
                Assert.AreEqual(3, proof.Split('.').Length, "a JWS");
                c.SetDPoPNonce(Issuer + "/me", "nonce-1");
                Assert.True(c.Endpoint("token_endpoint").StartsWith(Issuer), "endpoint lookup");
                var r = c.ResourceRequest("GET", Issuer + "/me", t.AccessToken, t.TokenType);
                Assert.True(r.StatusCode >= 200 && r.StatusCode < 500, r.ToString());
                Assert.DoesNotContain("BEGIN", new OAuthClientOptions { DPoPKey = ClientKey("dpop-ec.pem") }.ToString());
            }
            using (var plain = Client())
                Assert.Throws<OidcException>(() => plain.DPoPThumbprint(), "no DPoP key");
        }

        [Test]
        public void ReadmeAuthCodeExampleRuns()
        {
            string dir = TestEnv.Require("OIDC_CS_EXAMPLES_DIR", "where test.sh compiled the README examples");
            var psi = new ProcessStartInfo("mono", "--debug " + Path.Combine(dir, "AuthCodeExample.exe"))
            {
                UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            psi.EnvironmentVariables["OIDC_ISSUER"] = Issuer;
            psi.EnvironmentVariables["OIDC_CA_FILE"] = CaFile;
            psi.EnvironmentVariables["OIDC_CLIENT_ID"] = "web-app";
            psi.EnvironmentVariables["OIDC_CLIENT_SECRET"] = "web-app-secret";
            using (var p = Process.Start(psi))
            {
                var err = p.StandardError.ReadToEndAsync();
                string first = p.StandardOutput.ReadLine() ?? "";
                if (!first.StartsWith("open: ")) { p.Kill(); Assert.Fail(first + err.Result); }
                string redirect = NewBrowser().LoginAndConsent(first.Substring(6));
                p.StandardInput.WriteLine(redirect);
                p.StandardInput.Close();
                string rest = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(60000)) { p.Kill(); Assert.Fail("AuthCodeExample did not exit"); }
                Assert.AreEqual(0, p.ExitCode, "exit code; output:\n" + rest + err.Result);
                Assert.Contains("signed in: sub=user-1", rest);
                Assert.Contains("refreshed: rotated=True", rest);
                Assert.DoesNotContain("web-app-secret", rest);
            }
        }
    }
}
