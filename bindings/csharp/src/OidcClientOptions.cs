using System;
using System.Collections.Generic;
using System.Text;

namespace Oidc
{
    /// Configuration of a validating client. Only <see cref="Issuer"/> and one audience (or
    /// <see cref="AnyAudience"/>) are required; every unset option keeps liboidc's default, and
    /// liboidc checks everything in <see cref="OidcClient.Create"/> (never at the first request).
    public sealed class OidcClientOptions
    {
        /// The issuer (required). Tokens' `iss` must equal it exactly; its metadata is
        /// discovered at `{Issuer}/.well-known/openid-configuration` unless JwksUri or JwksJson is set.
        public string Issuer { get; set; }

        /// Accepted audiences (a token is accepted when any of its `aud` values matches any of these).
        public IList<string> Audiences { get; set; }

        /// Accept tokens for any audience (off by default; say so explicitly).
        public bool AnyAudience { get; set; }

        /// Allowed algorithms, e.g. { "RS256", "ES256" } (default: RS/PS 256-512, ES256/384, EdDSA).
        /// `none` and HMAC are refused.
        public IList<string> Algorithms { get; set; }

        /// Required JOSE `typ` header, e.g. "at+jwt" (RFC 9068).
        public string ExpectedTyp { get; set; }

        /// Claims that must be present and not null.
        public IList<string> RequiredClaims { get; set; }

        /// Clock-skew leeway for exp/nbf/iat (default 60 s, at most 3600).
        public int? LeewaySeconds { get; set; }

        /// Maximum token size in bytes (default 16384).
        public int? MaxTokenBytes { get; set; }

        /// Maximum discovery/JWKS response size in bytes (default 512 KiB).
        public int? MaxResponseBytes { get; set; }

        /// A PEM file of extra trusted CA certificates (in addition to the system store and
        /// SSL_CERT_FILE / CURL_CA_BUNDLE / REQUESTS_CA_BUNDLE).
        public string CaFile { get; set; }

        /// Use this JWKS URL instead of discovering one.
        public string JwksUri { get; set; }

        /// A static JWKS document: no network at all (offline use, tests).
        public string JwksJson { get; set; }

        /// Allow plain http to loopback hosts (local development only).
        public bool AllowHttpLoopback { get; set; }

        /// TCP connect timeout in ms (default 5000).
        public int? ConnectTimeoutMs { get; set; }

        /// Total timeout per HTTP exchange in ms (default 10000).
        public int? TotalTimeoutMs { get; set; }

        /// The realm named in this client's `WWW-Authenticate` values.
        public string Realm { get; set; }

        /// Warm start when <see cref="OidcClient.Create"/> builds the client
        /// (oidc_client_builder_set_prefetch); null keeps liboidc's default (no fetch until the
        /// first validation).
        public PrefetchMode? Prefetch { get; set; }

        public override string ToString()
        {
            var sb = new StringBuilder("OidcClientOptions(Issuer=").Append(Issuer);
            if (Audiences != null) sb.Append(", Audiences=[").Append(string.Join(", ", Audiences)).Append(']');
            if (AnyAudience) sb.Append(", AnyAudience");
            if (Algorithms != null) sb.Append(", Algorithms=[").Append(string.Join(", ", Algorithms)).Append(']');
            if (ExpectedTyp != null) sb.Append(", ExpectedTyp=").Append(ExpectedTyp);
            if (JwksUri != null) sb.Append(", JwksUri=").Append(JwksUri);
            if (JwksJson != null) sb.Append(", JwksJson=<").Append(JwksJson.Length).Append(" chars>");
            if (CaFile != null) sb.Append(", CaFile=").Append(CaFile);
            if (Prefetch.HasValue) sb.Append(", Prefetch=").Append(Prefetch.Value);
            return sb.Append(')').ToString();
        }
    }

    /// What <see cref="OidcClient.Create"/> fetches before returning (oidc_client_builder_set_prefetch's `mode`).
    public enum PrefetchMode
    {
        /// Nothing: keys are fetched on first use (liboidc's default).
        None = 0,
        /// Fetch discovery and the key set in Create, which throws the fetch's error
        /// (<see cref="NetworkException"/>, <see cref="DiscoveryException"/>, ...) instead of
        /// returning a client that cannot validate. Create blocks, bounded by the timeouts.
        FailFast = 1,
        /// Fetch on liboidc's worker pool: Create returns at once; a failure is logged
        /// (<see cref="Library.SetLogger"/>) and counted (<see cref="Library.Metrics"/>), and
        /// the first validation retries.
        Background = 2,
    }
}
