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
        /// The issuer (required unless <see cref="Issuers"/> or a policy document names one).
        /// Tokens' `iss` must equal it exactly; its metadata is discovered at
        /// `{Issuer}/.well-known/openid-configuration` unless JwksUri or JwksJson is set. With
        /// <see cref="Issuers"/>, it is the first issuer of the client.
        public string Issuer { get; set; }

        /// More issuers of this client (oidc_validator_builder_add_issuer, up to 64 in all), each
        /// with its own keys and token rules (unset rules are this client's); a token's `iss`
        /// picks the issuer. See <see cref="IssuerOptions"/>, also for tenant templates.
        public IList<IssuerOptions> Issuers { get; set; }

        /// A policy document (JSON, `"version": 1`; liboidc's README, "Policy document"), loaded
        /// before every other option here (oidc_validator_builder_load_policy): the options set
        /// on this object then apply on top of it, as builder calls after the load do. A
        /// malformed document fails <see cref="OidcClient.Create"/> with
        /// <see cref="InvalidConfigException"/> naming its JSON path (`$.issuers[1].audiences[0]: ...`).
        /// <see cref="OidcClient.ExportPolicy"/> writes a client's configuration as one.
        public string Policy { get; set; }

        /// A policy document read from this file by liboidc (UTF-8, at most 1 MiB;
        /// oidc_validator_builder_load_policy_file), loaded before <see cref="Policy"/>.
        public string PolicyFile { get; set; }

        /// Accepted audiences (a token is accepted when any of its `aud` values matches any of these).
        public IList<string> Audiences { get; set; }

        /// Accept tokens for any audience (off by default; say so explicitly).
        public bool AnyAudience { get; set; }

        /// Allowed algorithms, e.g. { "RS256", "ES256" } (default: RS/PS 256-512, ES256/384/512, EdDSA).
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

        /// An HTTP CONNECT proxy for every request, "http://[user:password@]host:port"; the
        /// credentials never appear in messages or logs.
        public string Proxy { get; set; }

        /// Opt in to https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY (off by default).
        public bool ProxyFromEnv { get; set; }

        /// TCP connect timeout in ms (default 5000).
        public int? ConnectTimeoutMs { get; set; }

        /// Total timeout per HTTP exchange in ms (default 10000).
        public int? TotalTimeoutMs { get; set; }

        /// The realm named in this client's `WWW-Authenticate` values.
        public string Realm { get; set; }

        /// Warm start when <see cref="OidcClient.Create"/> builds the client
        /// (oidc_validator_builder_set_prefetch); null keeps liboidc's default (no fetch until the
        /// first validation).
        public PrefetchMode? Prefetch { get; set; }

        // ---- the resource's rules for OidcClient.Authenticate (decided in liboidc) -------------

        /// Scopes every authenticated request's token must all carry (from its `scope` string or
        /// array, or `scp`); a token lacking one is denied 403 `insufficient_scope` with the
        /// missing scopes in the challenge (oidc_validator_builder_add_required_scope).
        public IList<string> RequiredScopes { get; set; }

        /// Claim allow-lists, e.g. { "client_id": ["svc", "web"] }: the token must hold one
        /// allowed value of each claim named (a string claim, or an array holding one), else 403
        /// CLAIM_NOT_ALLOWED (oidc_validator_builder_add_allowed_claim_value).
        public IDictionary<string, IList<string>> AllowedClaimValues { get; set; }

        /// DPoP (RFC 9449) at this resource; null keeps liboidc's default (<see cref="Oidc.DpopMode.Allowed"/>).
        public DpopMode? DpopMode { get; set; }

        /// DPoP proof algorithms accepted, e.g. { "ES256", "EdDSA" } (default ES256, ES384, ES512, EdDSA,
        /// RS256, PS256); sent as the DPoP challenge's `algs`.
        public IList<string> DpopAlgorithms { get; set; }

        /// How old a DPoP proof may be, in seconds (1 to 3600, default 60).
        public int? DpopProofWindowSeconds { get; set; }

        /// Turn on stateless DPoP server nonces: the secret (16 to 1024 bytes, shared by every
        /// process of a fleet) the nonces are issued under. Never printed.
        public byte[] DpopNonceSecret { get; set; }

        /// Lifetime of a server nonce in seconds (1 to 86400; null or 0: liboidc's default, 300);
        /// needs <see cref="DpopNonceSecret"/>.
        public int? DpopNonceLifetimeSeconds { get; set; }

        /// A DPoP replay store shared by a fleet (e.g. Redis), consulted after the process-wide
        /// replay cache (oidc_validator_builder_set_dpop_replay_store). See <see cref="IDpopReplayStore"/>.
        public IDpopReplayStore DpopReplayStore { get; set; }

        /// Accept only certificate-bound tokens (RFC 8705 `cnf.x5t#S256`); bound tokens are always
        /// checked against the request's certificate.
        public bool RequireMtls { get; set; }

        /// Entries of the verified-token cache (a repeated token skips the signature check);
        /// 0 turns it off; null keeps liboidc's default (4096).
        public int? TokenCacheSize { get; set; }

        // ---- encrypted tokens and revocation (issue 14) ----------------------------------------

        /// Private keys for encrypted tokens (JWE; oidc_validator_builder_add_decryption_key, at
        /// most 32). Never printed. With keys, encrypted access tokens are decrypted only after
        /// <see cref="AcceptEncryptedAccessTokens"/>.
        public IList<DecryptionKey> DecryptionKeys { get; set; }

        /// The JWE algorithms accepted, key management and content encryption names, e.g.
        /// { "RSA-OAEP-256", "A256GCM" } (oidc_validator_builder_set_decryption_algorithms;
        /// default: every supported one but RSA1_5 and dir).
        public IList<string> DecryptionAlgorithms { get; set; }

        /// Accept encrypted access tokens (a signed JWT inside a JWE with <c>cty</c> JWT; needs a
        /// decryption key; oidc_validator_builder_set_accept_encrypted). Off by default.
        public bool AcceptEncryptedAccessTokens { get; set; }

        /// Check tokens against the issuer's signed revocation list (see
        /// <see cref="RevocationOptions"/>); null: no revocation list (liboidc's default).
        /// <see cref="OidcClient.Prefetch"/> and <see cref="PrefetchMode.FailFast"/> fetch it too.
        public RevocationOptions Revocation { get; set; }

        /// The options, without secrets.
        public override string ToString()
        {
            var sb = new StringBuilder("OidcClientOptions(Issuer=").Append(Issuer);
            if (PolicyFile != null) sb.Append(", PolicyFile=").Append(PolicyFile);
            if (Policy != null) sb.Append(", Policy=<").Append(Policy.Length).Append(" chars>");
            if (Issuers != null) sb.Append(", Issuers=[").Append(string.Join(", ", Issuers)).Append(']');
            if (Audiences != null) sb.Append(", Audiences=[").Append(string.Join(", ", Audiences)).Append(']');
            if (AnyAudience) sb.Append(", AnyAudience");
            if (Algorithms != null) sb.Append(", Algorithms=[").Append(string.Join(", ", Algorithms)).Append(']');
            if (ExpectedTyp != null) sb.Append(", ExpectedTyp=").Append(ExpectedTyp);
            if (JwksUri != null) sb.Append(", JwksUri=").Append(JwksUri);
            if (JwksJson != null) sb.Append(", JwksJson=<").Append(JwksJson.Length).Append(" chars>");
            if (CaFile != null) sb.Append(", CaFile=").Append(CaFile);
            if (Prefetch.HasValue) sb.Append(", Prefetch=").Append(Prefetch.Value);
            if (RequiredScopes != null) sb.Append(", RequiredScopes=[").Append(string.Join(", ", RequiredScopes)).Append(']');
            if (DpopMode.HasValue) sb.Append(", DpopMode=").Append(DpopMode.Value);
            if (DpopNonceSecret != null) sb.Append(", DpopNonceSecret=<redacted>");
            if (DpopReplayStore != null) sb.Append(", DpopReplayStore");
            if (RequireMtls) sb.Append(", RequireMtls");
            if (TokenCacheSize.HasValue) sb.Append(", TokenCacheSize=").Append(TokenCacheSize.Value);
            if (DecryptionKeys != null) sb.Append(", DecryptionKeys=<").Append(DecryptionKeys.Count).Append(" redacted>");
            if (DecryptionAlgorithms != null) sb.Append(", DecryptionAlgorithms=[").Append(string.Join(", ", DecryptionAlgorithms)).Append(']');
            if (AcceptEncryptedAccessTokens) sb.Append(", AcceptEncryptedAccessTokens");
            if (Revocation != null) sb.Append(", Revocation=").Append(Revocation);
            return sb.Append(')').ToString();
        }
    }

    /// What <see cref="OidcClient.Create"/> fetches before returning (oidc_validator_builder_set_prefetch's `mode`).
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

    /// How the DPoP scheme is treated (oidc_validator_builder_set_dpop_mode).
    public enum DpopMode
    {
        /// Both schemes: Bearer for unbound tokens, DPoP for DPoP-bound ones (liboidc's default).
        Allowed = 0,
        /// DPoP-bound tokens with proofs only.
        Required = 1,
        /// Bearer only; the DPoP scheme is not offered.
        Disabled = 2,
    }

    /// A DPoP replay store shared by the processes of a fleet. liboidc calls it from any thread,
    /// concurrently (inside Authenticate and on its worker threads), after its own process-wide
    /// replay cache, for proofs of requests that would otherwise be allowed.
    public interface IDpopReplayStore
    {
        /// Atomically record <paramref name="key"/> for <paramref name="timeToLive"/> if it is
        /// absent (Redis: `SET key 1 NX EX ttl`): true when it was absent (first use), false when
        /// it was present (a replay: the request is denied DPOP_REPLAY). Throw when the store
        /// cannot answer: the request is then denied 503 REPLAY_STORE_UNAVAILABLE, never allowed.
        /// Must not call liboidc. The key is ASCII and carries no secret.
        bool TryRecord(string key, TimeSpan timeToLive);
    }
}
