// Signed and encrypted request objects (RFC 9101) offline, through the binding only: one client
// signs (its PrivateKey) and encrypts (to the issuer's `use: enc` key in its static JwksJson) the
// authorization request; a second client holding that key decrypts it (OAuthClient.Decrypt) and
// verifies the inner JWS with the first client's public key (OAuthClient.VerifyJws).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Oidc.Tests
{
    public class RequestObjectJarTests
    {
        private const string Issuer = "https://jar.vectors.test";

        private static string Key(string name)
        {
            return File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "tests", "idp", "client-keys", name));
        }

        /// The public half of a private JWK file, as a one-key JWKS.
        private static string PublicJwks(string name)
        {
            var k = Json.ParseObject(Key(name));
            foreach (var m in new[] { "d", "p", "q", "dp", "dq", "qi" }) k.Remove(m);
            return "{\"keys\":[" + VectorTests.JsonText(k) + "]}";
        }

        private static OAuthClient Rp(RequestObjectOptions ro)
        {
            return OAuthClient.Create(new OAuthClientOptions
            {
                Issuer = Issuer, ClientId = "rp-jar", PrivateKey = Key("ec.jwk.json"), JwksJson = PublicJwks("enc-rsa.jwk.json"),
                Endpoints = new Dictionary<string, string> { { "authorization_endpoint", Issuer + "/authorize" } },
                RequestObject = ro,
            });
        }

        private static string RequestParam(string url)
        {
            var q = new Uri(url).Query.TrimStart('?').Split('&').Select(p => p.Split(new[] { '=' }, 2))
                .ToDictionary(p => p[0], p => Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""));
            string r;
            Assert.True(q.TryGetValue("request", out r), "no request parameter in " + url);
            return r;
        }

        [Test]
        public void SignedThenEncryptedRequestObjectRoundTrips()
        {
            string signed, encrypted;
            using (var rp = Rp(new RequestObjectOptions()))
                signed = RequestParam(rp.AuthorizationUrl(new AuthorizationRequest { RedirectUri = "https://rp.example/cb", Scopes = new[] { "openid" } }).Url);
            using (var rp = Rp(new RequestObjectOptions { EncryptionAlgorithm = "RSA-OAEP-256", ContentEncryption = "A256GCM" }))
                encrypted = RequestParam(rp.AuthorizationUrl(new AuthorizationRequest { RedirectUri = "https://rp.example/cb", Scopes = new[] { "openid" } }).Url);
            Assert.AreEqual(3, signed.Split('.').Length, "a compact JWS");
            Assert.AreEqual(5, encrypted.Split('.').Length, "a compact JWE");

            // The issuer's side: decrypt with its key, verify with the client's public key.
            using (var op = OAuthClient.Create(new OAuthClientOptions
            {
                Issuer = Issuer, ClientId = "op-side", JwksJson = PublicJwks("ec.jwk.json"),
                DecryptionKeys = new[] { new DecryptionKey(Key("enc-rsa.pem"), "enc-rsa") },
            }))
            {
                JosePayload outer = op.Decrypt(encrypted);
                Assert.AreEqual("RSA-OAEP-256", outer.Algorithm);
                Assert.AreEqual("A256GCM", (string)outer.Header["enc"]);
                Assert.AreEqual("enc-rsa", outer.KeyId);
                Assert.NotNull(outer.PayloadText, "the nested JWS is text");
                foreach (var jws in new[] { signed, outer.PayloadText })
                {
                    JosePayload inner = op.VerifyJwsAsync(jws).Result;
                    Assert.AreEqual("ES256", inner.Algorithm);
                    var claims = Json.ParseObject(inner.PayloadText);
                    Assert.AreEqual("rp-jar", (string)claims["client_id"]);
                    Assert.AreEqual("https://rp.example/cb", (string)claims["redirect_uri"]);
                    Assert.AreEqual(Issuer, claims["aud"] as string, "aud is the issuer");
                    Assert.AreEqual("rp-jar", claims["iss"] as string, "iss is the client");
                }
                // Tampered: one fixed refusal.
                var parts = encrypted.Split('.');
                parts[3] = (parts[3][0] == 'A' ? "B" : "A") + parts[3].Substring(1);
                var e = Assert.Throws<DecryptionFailedException>(() => op.Decrypt(string.Join(".", parts)));
                Assert.AreEqual("the token could not be decrypted", e.Message);
            }
        }

        [Test]
        public void HalfAnEncryptionSettingIsLiboidcsError()
        {
            Assert.Throws<OidcException>(() => Rp(new RequestObjectOptions { EncryptionAlgorithm = "RSA-OAEP-256" }).Dispose());
            Assert.Contains("encrypted RSA-OAEP-256 A128GCM", new RequestObjectOptions { EncryptionAlgorithm = "RSA-OAEP-256", ContentEncryption = "A128GCM" }.ToString());
        }
    }
}
