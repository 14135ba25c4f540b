// The protocol endpoints against the real oidc-provider: PKCE, authorization URL, PAR, the
// authorization-response checks, logout URL, introspection, revocation, UserInfo, ID-token
// checks and dynamic registration. (The grants, with a scripted login, are in IdpGrantTests.cs.)
using System;
using System.Collections.Generic;
using System.Linq;

namespace Oidc.Tests
{
    public partial class IdpTests
    {
        private const string Cb = "http://127.0.0.1/cb";

        [Test]
        public void AuthorizationUrlAndPushedRequest()
        {
            using (var c = Client("web-app", "web-app-secret"))
            {
                // RFC 7636 appendix B: the caller's own challenge is sent as given.
                const string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
                var req = new AuthorizationRequest
                {
                    RedirectUri = Cb, Scopes = new[] { "openid", "email" }, CodeChallenge = challenge,
                    Parameters = new Dictionary<string, string> { { "prompt", "consent" } },
                };
                var u = c.AuthorizationUrl(req);
                Assert.True(u.Url.StartsWith(Issuer + "/auth?"), u.Url);
                Assert.Contains("client_id=web-app", u.Url);
                Assert.Contains("code_challenge=" + challenge, u.Url);
                Assert.Contains("code_challenge_method=S256", u.Url);
                Assert.Contains("prompt=consent", u.Url);
                Assert.True(u.State.Length >= 20 && u.Nonce.Length >= 20, "generated state and nonce");
                Assert.Contains("state=" + u.State, u.Url);
                var mine = c.AuthorizationUrl(new AuthorizationRequest { RedirectUri = Cb, Scopes = new[] { "openid" }, State = "s-1", Nonce = "n-1", CodeChallenge = challenge });
                Assert.AreEqual("s-1", mine.State);
                Assert.AreEqual("n-1", mine.Nonce);

                var par = c.PushAuthorizationRequestAsync(req).Result;
                Assert.True(par.RequestUri.StartsWith("urn:ietf:params:oauth:request_uri:"), par.RequestUri);
                Assert.True(par.ExpiresIn > TimeSpan.Zero);
                var viaPar = c.AuthorizationUrl(new AuthorizationRequest { RequestUri = par.RequestUri });
                Assert.Contains("request_uri=" + Uri.EscapeDataString(par.RequestUri), viaPar.Url);
                Assert.DoesNotContain("code_challenge", viaPar.Url);
            }
        }

        [Test]
        public void AuthorizationResponseChecks()
        {
            using (var c = Client("web-app", "web-app-secret"))
            {
                string iss = Uri.EscapeDataString(Issuer);
                var r = c.ParseAuthorizationResponse(Cb + "?code=the-code&state=s-1&iss=" + iss, "s-1");
                Assert.AreEqual("the-code", r.Code);
                Assert.AreEqual("s-1", r.State);
                Assert.AreEqual(Issuer, r.Issuer);
                Assert.False(r.Jarm);
                Assert.AreEqual("the-code", r.Parameters["code"]);
                Assert.DoesNotContain("the-code", r.ToString());
                Assert.Throws<StateMismatchException>(() => c.ParseAuthorizationResponse(Cb + "?code=x&state=other&iss=" + iss, "s-1"));
                Assert.Throws<ResponseIssuerMismatchException>(() => c.ParseAuthorizationResponse("code=x&state=s-1&iss=https%3A%2F%2Fevil.example", "s-1"));
                var denied = Assert.Throws<AccessDeniedException>(() =>
                    c.ParseAuthorizationResponse(Cb + "?error=access_denied&error_description=no%20thanks&state=s-1&iss=" + iss, "s-1"));
                Assert.AreEqual("access_denied", denied.OAuthError);
                Assert.AreEqual("no thanks", denied.OAuthErrorDescription);
            }
        }

        [Test]
        public void AsyncTwinsOfTheEndpointsMatchTheBlockingCalls()
        {
            using (var c = Client("web-app", "web-app-secret"))
            {
                var req = new AuthorizationRequest { RedirectUri = Cb, Scopes = new[] { "openid" }, State = "s-2", Nonce = "n-2", CodeChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" };
                Assert.AreEqual(c.AuthorizationUrl(req).Url, c.AuthorizationUrlAsync(req).Result.Url);
                string iss = Uri.EscapeDataString(Issuer);
                Assert.AreEqual("the-code", c.ParseAuthorizationResponseAsync(Cb + "?code=the-code&state=s-2&iss=" + iss, "s-2").Result.Code);
                Assert.Throws<StateMismatchException>(() => c.ParseAuthorizationResponseAsync(Cb + "?code=x&state=other&iss=" + iss, "s-2").Wait());
                Assert.AreEqual(c.EndSessionUrl(state: "bye"), c.EndSessionUrlAsync(state: "bye").Result);
            }
        }

        [Test]
        public void EndSessionUrl()
        {
            using (var c = Client("web-app", "web-app-secret"))
            {
                var url = c.EndSessionUrl(postLogoutRedirectUri: "http://127.0.0.1/logout-cb", state: "bye");
                Assert.True(url.StartsWith(Issuer + "/session/end?"), url);
                Assert.Contains("client_id=web-app", url);
                Assert.Contains("state=bye", url);
            }
        }

        [Test]
        public void IntrospectionAndRevocation()
        {
            string opaque;
            using (var basic = Client())
                opaque = basic.ClientCredentials(new[] { "read" }, new[] { "urn:liboidc:opaque" }).AccessToken;
            using (var c = Client("svc-post", "svc-post-secret", AuthMethods.ClientSecretPost))
            {
                var i = c.Introspect(opaque);
                Assert.True(i.Active, i.ToString());
                Assert.AreEqual("svc-basic", i.Members.ClientId);
                Assert.AreEqual("urn:liboidc:opaque", i.Members.Audiences.Single());
                Assert.AreEqual("read", i.Members.GetString("scope"));
                var signed = c.IntrospectAsync(opaque, signedResponse: true).Result;
                Assert.True(signed.Active);
                Assert.False(c.Introspect("garbage-token").Active);
                var jwt = c.ClientCredentials(new[] { "read" }, new[] { "urn:liboidc:es256" }).AccessToken;
                Assert.Throws<UnsupportedTokenTypeException>(() => c.Introspect(jwt));

                // Only the client the token was issued to may revoke it.
                var foreign = Assert.Throws<InvalidRequestException>(() => c.Revoke(opaque));
                Assert.AreEqual("invalid_request", foreign.OAuthError);
                using (var owner = Client()) owner.RevokeAsync(opaque, "access_token").Wait();
                Assert.False(c.Introspect(opaque).Active, "revoked");
                c.Revoke("never-issued");
            }
            using (var bad = Client("svc-post", "wrong", AuthMethods.ClientSecretPost))
                Assert.Throws<InvalidClientException>(() => bad.Introspect(opaque));
        }

        [Test]
        public void UserInfoAndIdTokenRejectWhatTheyMust()
        {
            using (var c = Client("web-app", "web-app-secret"))
            {
                var e = Assert.Throws<InvalidTokenException>(() => c.UserInfoAsync("not-a-valid-access-token").Wait());
                Assert.AreEqual(417, e.Code);
                string accessJwt;
                using (var svc = Client()) accessJwt = svc.ClientCredentials(new[] { "read" }, new[] { "urn:liboidc:rs256" }).AccessToken;
                // An access token is no ID token for web-app: wrong audience.
                Assert.Throws<AudienceMismatchException>(() => c.ValidateIdToken(accessJwt, nonce: "n"));
                Assert.Throws<TokenMalformedException>(() => c.ValidateIdToken("x.y"));
            }
        }

        [Test]
        public void DynamicRegistrationThenClientCredentials()
        {
            var options = new OAuthClientOptions { Issuer = Issuer, CaFile = CaFile };
            var reg = OAuthClient.Register(options, new Dictionary<string, object>
            {
                { "grant_types", new[] { "client_credentials" } }, { "response_types", new string[0] },
                { "redirect_uris", new string[0] }, { "token_endpoint_auth_method", "client_secret_basic" },
            });
            Assert.True(!string.IsNullOrEmpty(reg.ClientId) && !string.IsNullOrEmpty(reg.ClientSecret));
            Assert.DoesNotContain(reg.ClientSecret, reg.ToString());
            using (var c = OAuthClient.Create(new OAuthClientOptions { Issuer = Issuer, CaFile = CaFile, ClientId = reg.ClientId, ClientSecret = reg.ClientSecret }))
            using (var v = Validator("urn:liboidc:rs256"))
            {
                var t = c.ClientCredentials(new[] { "read" }, new[] { "urn:liboidc:rs256" });
                Assert.AreEqual(reg.ClientId, v.Validate(t.AccessToken).Subject);
            }
            var bad = Assert.Throws<OAuthProtocolException>(() => OAuthClient.RegisterAsync(options, "{\"redirect_uris\":[\"not a url\"]}").Wait());
            Assert.True(bad is InvalidRedirectUriException || bad is InvalidClientMetadataException, bad.GetType().Name);
            Assert.Throws<InvalidArgumentException>(() => OAuthClient.Register(options, "[1]"));
        }
    }
}
