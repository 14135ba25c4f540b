// PKCE (RFC 7636, S256), computed by liboidc.
using System;

namespace Oidc
{
    /// A PKCE verifier and its S256 challenge. Send <see cref="Challenge"/> in the authorization
    /// request; keep <see cref="Verifier"/> (a secret) for the code exchange.
    public sealed class PkcePair
    {
        internal PkcePair(string verifier, string challenge) { Verifier = verifier; Challenge = challenge; }
        public string Verifier { get; private set; }
        public string Challenge { get; private set; }
        /// The challenge only: the verifier is a secret.
        public override string ToString() { return "PkcePair(Challenge=" + Challenge + ", Verifier=<redacted>)"; }
    }

    public static class Pkce
    {
        /// A fresh pair: a 43-character verifier from 32 random bytes and its S256 challenge.
        public static PkcePair Generate()
        {
            Library.EnsureLoaded();
            IntPtr v, c, err;
            OidcException.Check(NativeEndpoints.oidc_pkce_generate(out v, out c, out err), err);
            string verifier = Utf8.TakeOwnedNulTerminated(v);
            return new PkcePair(verifier, Utf8.TakeOwnedNulTerminated(c));
        }

        /// The S256 challenge of <paramref name="verifier"/> (43-128 characters of A-Z a-z 0-9 - . _ ~).
        public static string Challenge(string verifier)
        {
            Library.EnsureLoaded();
            byte[] v = OAuthClient.Required(verifier, "verifier");
            IntPtr c, err;
            OidcException.Check(NativeEndpoints.oidc_pkce_challenge(v, (UIntPtr)v.Length, out c, out err), err);
            return Utf8.TakeOwnedNulTerminated(c);
        }
    }
}
