using System;
using System.Collections.Generic;
using System.Text;

namespace Oidc
{
    /// RFC 7591 names of client authentication methods (<see cref="OAuthClientOptions.AuthMethod"/>).
    public static class AuthMethods
    {
        /// A public client: no client authentication.
        public const string None = "none";
        /// The secret in HTTP Basic authentication.
        public const string ClientSecretBasic = "client_secret_basic";
        /// The secret in the request body.
        public const string ClientSecretPost = "client_secret_post";
        /// HS256 assertion signed with the client secret (RFC 7523).
        public const string ClientSecretJwt = "client_secret_jwt";
        /// Assertion signed with <see cref="OAuthClientOptions.PrivateKey"/> (RFC 7523).
        public const string PrivateKeyJwt = "private_key_jwt";
        /// Chosen from the issuer's token_endpoint_auth_methods_supported.
        public const string Auto = "auto";
    }

    /// Configuration of a protocol client (one registered client at one issuer).
    public sealed class OAuthClientOptions
    {
        /// The issuer (required); its metadata is discovered on first use.
        public string Issuer { get; set; }

        /// The client id (required).
        public string ClientId { get; set; }

        /// The client secret. Never printed by <see cref="ToString"/>, and never in liboidc's
        /// messages or logs.
        public string ClientSecret { get; set; }

        /// Client authentication by its RFC 7591 name (<see cref="AuthMethods"/>). Default:
        /// client_secret_basic with a secret, none without.
        public string AuthMethod { get; set; }

        /// A PEM file of extra trusted CA certificates.
        public string CaFile { get; set; }

        /// Endpoint overrides by metadata name ("token_endpoint", "jwks_uri", ...).
        public IDictionary<string, string> Endpoints { get; set; }

        /// TCP connect timeout in ms (default 5000).
        public int? ConnectTimeoutMs { get; set; }

        /// Total timeout per HTTP request in ms (default 10000).
        public int? TotalTimeoutMs { get; set; }

        /// Allow plain http to loopback hosts (local development only).
        public bool AllowHttpLoopback { get; set; }

        /// An HTTP CONNECT proxy for every request, "http://[user:password@]host:port"; the
        /// credentials never appear in messages or logs.
        public string Proxy { get; set; }

        /// Opt in to https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY (off by default).
        public bool ProxyFromEnv { get; set; }

        /// The mTLS client certificate chain (PEM, leaf first), with ClientKeyPem (RFC 8705;
        /// AuthMethod "tls_client_auth" or "self_signed_tls_client_auth").
        public string ClientCertPem { get; set; }

        /// The unencrypted PEM private key of ClientCertPem.
        public string ClientKeyPem { get; set; }

        /// The client's private key for private_key_jwt and signed JWT-bearer assertions: PEM
        /// (PKCS#8, PKCS#1 RSA, SEC1 EC) or a private JWK (text starting with '{'). A secret:
        /// never printed.
        public string PrivateKey { get; set; }

        /// The `kid` put in assertion headers (default: none for PEM, the JWK's own).
        public string PrivateKeyId { get; set; }

        /// The assertion algorithm (default by key type: RS256, ES256/ES384/ES512, EdDSA; PS256 etc. for RSA).
        public string PrivateKeyAlgorithm { get; set; }

        /// The `aud` of client assertions: "token_endpoint" (default), "issuer" or "endpoint".
        public string AssertionAudience { get; set; }

        /// Bind tokens with DPoP (RFC 9449). With no <see cref="DPoPKey"/> a fresh ES256 key is generated.
        public bool UseDPoP { get; set; }

        /// The DPoP key (PEM or private JWK); implies <see cref="UseDPoP"/>. A secret: never printed.
        public string DPoPKey { get; set; }

        /// The signature allow-list of the client's ID tokens, logout tokens, signed responses and
        /// OAuthClient.VerifyJws, e.g. { "RS256", "ES256" } (oidc_oauth_builder_set_algorithms;
        /// default: RS/PS 256-512, ES256/384/512, EdDSA). `none`, HMAC and unknown names fail
        /// construction with <see cref="UnsupportedAlgorithmException"/>.
        public IList<string> Algorithms { get; set; }

        // ---- JOSE (issue 14) ---------------------------------------------------------------------

        /// Private keys for encrypted ID tokens, UserInfo, introspection and JARM responses and
        /// for <see cref="OAuthClient.Decrypt"/> (oidc_oauth_builder_add_decryption_key, at most
        /// 32). Never printed.
        public IList<DecryptionKey> DecryptionKeys { get; set; }

        /// The JWE algorithms accepted (oidc_oauth_builder_set_decryption_algorithms; default:
        /// every supported one but RSA1_5 and dir).
        public IList<string> DecryptionAlgorithms { get; set; }

        /// A static JWKS document for the issuer's keys (oidc_oauth_builder_set_jwks_json): no
        /// discovery for keys (offline use, tests).
        public string JwksJson { get; set; }

        /// Send authorization requests as signed (optionally encrypted) request objects
        /// (RFC 9101; needs <see cref="PrivateKey"/>); null: plain parameters.
        public RequestObjectOptions RequestObject { get; set; }

        /// Accept back-channel logout tokens without a header <c>typ</c> (or typed <c>JWT</c>), for an
        /// OP that does not type them (oidc_oauth_builder_set_logout_accept_untyped). Off by default:
        /// a logout token must be typed <c>logout+jwt</c>.
        public bool LogoutAcceptUntyped { get; set; }

        /// A replay store for logout token <c>jti</c>s shared by a fleet, consulted after the
        /// client's own cache (oidc_oauth_builder_set_replay_store). See <see cref="ILogoutReplayStore"/>.
        public ILogoutReplayStore LogoutReplayStore { get; set; }

        /// Shows whether a secret is set, never the secret.
        public override string ToString()
        {
            var sb = new StringBuilder("OAuthClientOptions(Issuer=").Append(Issuer)
                .Append(", ClientId=").Append(ClientId)
                .Append(", ClientSecret=").Append(ClientSecret == null ? "<none>" : "<redacted>");
            if (AuthMethod != null) sb.Append(", AuthMethod=").Append(AuthMethod);
            if (PrivateKey != null) sb.Append(", PrivateKey=<redacted>");
            if (UseDPoP || DPoPKey != null) sb.Append(", DPoP=").Append(DPoPKey == null ? "<generated>" : "<redacted>");
            if (CaFile != null) sb.Append(", CaFile=").Append(CaFile);
            if (Proxy != null) sb.Append(", Proxy=<set>");
            if (ClientCertPem != null) sb.Append(", ClientCert=<set>");
            if (Endpoints != null)
                foreach (var e in Endpoints) sb.Append(", ").Append(e.Key).Append('=').Append(e.Value);
            if (Algorithms != null) sb.Append(", Algorithms=[").Append(string.Join(", ", Algorithms)).Append(']');
            if (DecryptionKeys != null) sb.Append(", DecryptionKeys=<").Append(DecryptionKeys.Count).Append(" redacted>");
            if (DecryptionAlgorithms != null) sb.Append(", DecryptionAlgorithms=[").Append(string.Join(", ", DecryptionAlgorithms)).Append(']');
            if (JwksJson != null) sb.Append(", JwksJson=<").Append(JwksJson.Length).Append(" chars>");
            if (RequestObject != null) sb.Append(", RequestObject=").Append(RequestObject);
            if (LogoutAcceptUntyped) sb.Append(", LogoutAcceptUntyped");
            if (LogoutReplayStore != null) sb.Append(", LogoutReplayStore");
            return sb.Append(')').ToString();
        }
    }
}
