using System;
using System.IO;
using System.Net;
using System.Net.Sockets;

namespace Oidc.Tests
{
    // Proxy and mTLS settings reach liboidc (the proxy itself is tested against tinyproxy in the
    // Rust and C suites).
    public partial class IdpTests
    {
        [Test]
        public void ProxyThatIsNotListeningIsAProxyErrorWithoutCredentials()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            var o = new OAuthClientOptions { Issuer = Issuer, ClientId = "svc-basic", ClientSecret = "svc-basic-secret", CaFile = CaFile,
                Proxy = "http://user:pr0xyPass7f3e@127.0.0.1:" + port };
            Assert.DoesNotContain("pr0xyPass7f3e", o.ToString());
            using (var c = OAuthClient.Create(o))
            {
                var e = Assert.Throws<ProxyException>(() => c.ClientCredentials());
                Assert.AreEqual(208, e.Code);
                Assert.Contains("http://127.0.0.1:" + port, e.Message);
                Assert.DoesNotContain("pr0xyPass7f3e", e.Message);
            }
        }

        [Test]
        public void TlsClientAuthWithACertificate()
        {
            string dir = idp["dir"];
            var o = new OAuthClientOptions { Issuer = Issuer, ClientId = "mtls-ca", AuthMethod = "tls_client_auth", CaFile = CaFile,
                ClientCertPem = File.ReadAllText(Path.Combine(dir, "mtls-client.pem")),
                ClientKeyPem = File.ReadAllText(Path.Combine(dir, "mtls-client.key")) };
            using (var c = OAuthClient.Create(o))
            {
                var t = c.ClientCredentials(null, new[] { "urn:liboidc:es256" });
                Assert.AreEqual(2, t.AccessToken.Split('.').Length - 1);
            }
            o.ClientKeyPem = File.ReadAllText(Path.Combine(dir, "mtls-other.key"));
            var e = Assert.Throws<ClientCertException>(() => OAuthClient.Create(o));
            Assert.AreEqual(104, e.Code);
        }
    }
}
