// DPoP proofs (RFC 9449 §4.2) made in the test, with an RSA key (Mono has no ECDSA on Linux):
// the tests act as a DPoP client in front of the HttpListener middleware.
using System;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace Oidc.Tests
{
    internal sealed class DpopKey : IDisposable
    {
        private readonly RSACryptoServiceProvider rsa = new RSACryptoServiceProvider(2048);
        private readonly string n, e;
        private static long counter;

        internal DpopKey()
        {
            var p = rsa.ExportParameters(false);
            n = B64(p.Modulus);
            e = B64(p.Exponent);
            // RFC 7638: the required members in lexicographic order, no whitespace.
            Thumbprint = B64(Sha256(Encoding.UTF8.GetBytes("{\"e\":\"" + e + "\",\"kty\":\"RSA\",\"n\":\"" + n + "\"}")));
        }

        /// The key's RFC 7638 thumbprint: a bound token's cnf.jkt.
        internal string Thumbprint { get; private set; }

        /// testkit /token parameters that bind a token to this key.
        internal string CnfQuery { get { return "&claims=" + Uri.EscapeDataString("{\"cnf\":{\"jkt\":\"" + Thumbprint + "\"}}"); } }

        /// A proof for `method` `htu` carrying `ath` of `accessToken`, issued now (or `iat`), with a fresh jti.
        internal string Proof(string method, string htu, string accessToken, string nonce = null, long? iat = null)
        {
            string header = "{\"typ\":\"dpop+jwt\",\"alg\":\"RS256\",\"jwk\":{\"kty\":\"RSA\",\"n\":\"" + n + "\",\"e\":\"" + e + "\"}}";
            string jti = "cs-" + Guid.NewGuid().ToString("N") + "-" + Interlocked.Increment(ref counter);
            string claims = "{\"jti\":\"" + jti + "\",\"htm\":\"" + method + "\",\"htu\":\"" + htu + "\",\"iat\":" +
                (iat ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()) +
                ",\"ath\":\"" + B64(Sha256(Encoding.ASCII.GetBytes(accessToken))) + "\"" +
                (nonce != null ? ",\"nonce\":\"" + nonce + "\"" : "") + "}";
            string input = B64(Encoding.UTF8.GetBytes(header)) + "." + B64(Encoding.UTF8.GetBytes(claims));
            byte[] sig = rsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return input + "." + B64(sig);
        }

        internal static byte[] Sha256(byte[] b)
        {
            using (var h = SHA256.Create()) return h.ComputeHash(b);
        }

        internal static string B64(byte[] b)
        {
            return Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }

        public void Dispose() { rsa.Dispose(); }
    }
}
