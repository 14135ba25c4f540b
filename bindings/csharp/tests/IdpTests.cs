// Client credentials against the real oidc-provider (tests/idp), then validating what it issued.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    public partial class IdpTests
    {
        private ChildServer idp;
        private string Issuer { get { return idp["issuer"]; } }
        private string CaFile { get { return idp["ca_file"]; } }

        [OneTimeSetUp]
        public void SetUp()
        {
            string node = Environment.GetEnvironmentVariable("OIDC_NODE");
            if (string.IsNullOrEmpty(node)) node = "node";
            string dir = TestEnv.TempDir("oidc-cs-idp");
            string server = Path.Combine(TestEnv.RepoRoot, "tests", "idp", "server.mjs");
            idp = new ChildServer(node, "\"" + server + "\" --dir \"" + dir + "\"", dir, 90);
        }

        [OneTimeTearDown]
        public void TearDown() { if (idp != null) idp.Dispose(); }

        private OAuthClient Client(string id = "svc-basic", string secret = "svc-basic-secret", string method = null)
        {
            return OAuthClient.Create(new OAuthClientOptions { Issuer = Issuer, ClientId = id, ClientSecret = secret, AuthMethod = method, CaFile = CaFile });
        }

        private OidcClient Validator(string resource)
        {
            return OidcClient.Create(new OidcClientOptions { Issuer = Issuer, CaFile = CaFile, Audiences = new[] { resource }, ExpectedTyp = "at+jwt" });
        }

        [Test]
        public void ClientCredentialsBasicThenValidate()
        {
            using (var c = Client())
            using (var v = Validator("urn:liboidc:rs256"))
            {
                var t = c.ClientCredentials(new[] { "read", "write" }, new[] { "urn:liboidc:rs256" });
                Assert.AreEqual("Bearer", t.TokenType);
                Assert.AreEqual(TimeSpan.FromSeconds(600), t.ExpiresIn.Value);
                Assert.True(t.ExpiresAt > DateTimeOffset.UtcNow.AddSeconds(500));
                Assert.AreEqual("read write", t.Scope);
                Assert.Null(t.RefreshToken);
                Assert.Contains("\"access_token\"", t.RawJson);
                var claims = v.Validate(t.AccessToken);
                Assert.AreEqual("svc-basic", claims.Subject);
                Assert.AreEqual("svc-basic", claims.ClientId);
                Assert.AreEqual("urn:liboidc:rs256", claims.Audiences.Single());
                Assert.AreEqual("read write", claims.GetString("scope"));
                // The same claims as a ClaimsPrincipal, from a real IdP's token.
                var principal = claims.ToClaimsPrincipal();
                Assert.True(principal.Identity.IsAuthenticated, "authenticated principal");
                Assert.AreEqual("svc-basic", principal.Identity.Name);
                Assert.AreEqual("svc-basic", principal.FindFirst("client_id").Value);
                Assert.AreEqual(claims.Issuer, principal.FindFirst("aud").Issuer);
                Assert.AreEqual(System.Security.Claims.ClaimValueTypes.Integer64, principal.FindFirst("exp").ValueType);
                // Never print a token.
                Assert.DoesNotContain(t.AccessToken, t.ToString());
                Assert.DoesNotContain(t.AccessToken.Substring(0, 20), t.ToString());
                Assert.Contains("<redacted>", t.ToString());
                Assert.DoesNotContain("svc-basic-secret", c.ToString());
            }
        }

        [Test]
        public async Task ClientCredentialsPostAsyncEveryAlgorithm()
        {
            using (var c = Client("svc-post", "svc-post-secret", AuthMethods.ClientSecretPost))
            {
                foreach (var res in new[] { "urn:liboidc:es256", "urn:liboidc:eddsa", "urn:liboidc:ps256" })
                {
                    var t = await c.ClientCredentialsAsync(new[] { "read" }, new[] { res });
                    Assert.AreEqual("read", t.Scope, res);
                    using (var v = Validator(res))
                    {
                        var claims = await v.ValidateAsync(t.AccessToken);
                        Assert.AreEqual("svc-post", claims.Subject, res);
                        Assert.AreEqual("read", claims.GetString("scope"), res);
                    }
                }
            }
        }

        [Test]
        public void WithoutAResourceTheTokenIsOpaque()
        {
            using (var c = Client())
            using (var v = Validator("urn:liboidc:rs256"))
            {
                var t = c.ClientCredentials();
                Assert.True(t.AccessToken.Length > 10);
                Assert.Throws<TokenMalformedException>(() => v.Validate(t.AccessToken));
            }
        }

        [Test]
        public void AWrongSecretIsInvalidClient()
        {
            using (var c = Client("svc-basic", "wrong-secret"))
            {
                var e = Assert.Throws<InvalidClientException>(() => c.ClientCredentials(new[] { "read" }, new[] { "urn:liboidc:rs256" }));
                Assert.AreEqual(402, e.Code);
                Assert.AreEqual("invalid_client", e.OAuthError);
                Assert.True(e is OAuthProtocolException);
                Assert.AreEqual(401, e.Info.OAuthStatus, "the token endpoint's HTTP status");
                Assert.DoesNotContain("wrong-secret", e.ToString());
                Assert.DoesNotContain("wrong-secret", e.Info.DetailsJson ?? "");
            }
        }

        [Test]
        public void AnUnknownResourceIsInvalidTarget()
        {
            using (var c = Client())
            {
                var e = Assert.Throws<InvalidTargetException>(() => c.ClientCredentialsAsync(new[] { "read" }, new[] { "urn:liboidc:nope" }).Wait());
                Assert.AreEqual("invalid_target", e.OAuthError);
                Assert.True(e.OAuthErrorDescription == null || e.OAuthErrorDescription.Length > 0);
            }
        }

        [Test]
        public void ReadmeClientCredentialsExampleRuns()
        {
            var r = Examples.Run("ClientCredentialsExample.exe", "", new Dictionary<string, string>
            {
                { "OIDC_ISSUER", Issuer }, { "OIDC_CA_FILE", CaFile },
                { "OIDC_CLIENT_ID", "svc-basic" }, { "OIDC_CLIENT_SECRET", "svc-basic-secret" },
                { "OIDC_RESOURCE", "urn:liboidc:rs256" },
            });
            Assert.AreEqual(0, r.Item1, "exit code; output:\n" + r.Item2);
            Assert.Contains("TokenResponse(TokenType=Bearer, Scope=read", r.Item2);
            Assert.Contains("validated: sub=svc-basic", r.Item2);
            Assert.DoesNotContain("svc-basic-secret", r.Item2);
        }
    }
}
