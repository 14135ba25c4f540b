// Options of issue 14 (JOSE breadth) shared by OidcClientOptions and OAuthClientOptions:
// decryption keys, the signed revocation list, request objects, the logout replay store.
// Plain data: every value goes to liboidc as given, liboidc checks it (at Create).
using System;

namespace Oidc
{
    /// A private key for encrypted tokens and responses (JWE): a private JWK (RSA, EC
    /// P-256/P-384/P-521, <c>oct</c>) or a PEM private key (PKCS#8, PKCS#1, SEC1). A secret:
    /// <see cref="ToString"/> prints only the <see cref="KeyId"/>, liboidc never echoes it.
    public sealed class DecryptionKey
    {
        /// <param name="key">the private JWK (JSON text) or PEM text</param>
        /// <param name="keyId">the <c>kid</c> that selects it (null: the JWK's own <c>kid</c>, if any)</param>
        public DecryptionKey(string key, string keyId = null)
        {
            if (key == null) throw new ArgumentNullException("key");
            Key = key;
            KeyId = keyId;
        }

        /// The key text (JWK JSON or PEM).
        public string Key { get; private set; }

        /// The <c>kid</c> naming it, or null. A JWE naming a <c>kid</c> is decrypted with that key only.
        public string KeyId { get; private set; }

        /// The kid, never the key.
        public override string ToString() { return "DecryptionKey(" + (KeyId ?? "no kid") + ", <redacted>)"; }
    }

    /// What validation does when the issuer's revocation list is unavailable past its grace
    /// period (oidc_revocation_policy).
    public enum RevocationPolicy : uint
    {
        /// Refuse every validation with <see cref="RevocationUnavailableException"/> (HTTP 503, retry later).
        FailClosed = 1,
        /// Accept (still checking the last list held, if any); counted and logged by liboidc.
        FailOpen = 2,
    }

    /// Check every token against the issuer's signed revocation list
    /// (oidc_validator_builder_set_revocation, _set_revocation_bounds): a token whose <c>kid</c>
    /// or <c>jti</c> is listed fails with <see cref="RevokedException"/>. Unset values keep
    /// liboidc's defaults; liboidc checks them at <see cref="OidcClient.Create"/>.
    public sealed class RevocationOptions
    {
        /// <param name="policy">what happens when the list is unavailable past <see cref="GraceSeconds"/></param>
        public RevocationOptions(RevocationPolicy policy)
        {
            Policy = policy;
        }

        /// Fail closed or fail open (required: liboidc has no default policy).
        public RevocationPolicy Policy { get; private set; }

        /// The list's URL (https; http only on loopback with AllowHttpLoopback). Null: the
        /// default <c>&lt;issuer&gt;/.well-known/revocation-list</c> (with several issuers, each
        /// polls its own default URL; an explicit URL is the first issuer's).
        public string Url { get; set; }

        /// How long a stale list keeps serving while fetches fail (null: liboidc's default, 3600 s).
        public int? GraceSeconds { get; set; }

        /// The lower bound of the poll interval derived from the list's <c>next_update</c> (null: liboidc's default, 30 s).
        public int? MinPollSeconds { get; set; }

        /// The upper bound of the poll interval (null: liboidc's default, 86400 s).
        public int? MaxPollSeconds { get; set; }

        /// The settings.
        public override string ToString()
        {
            return "RevocationOptions(" + Policy + (Url != null ? ", Url=" + Url : "")
                + (GraceSeconds.HasValue ? ", GraceSeconds=" + GraceSeconds.Value : "")
                + (MinPollSeconds.HasValue ? ", MinPollSeconds=" + MinPollSeconds.Value : "")
                + (MaxPollSeconds.HasValue ? ", MaxPollSeconds=" + MaxPollSeconds.Value : "") + ")";
        }
    }

    /// Send every authorization request (AuthorizationUrl, PushAuthorizationRequest) as a signed
    /// request object (RFC 9101, oidc_oauth_builder_set_request_object), signed with
    /// <see cref="OAuthClientOptions.PrivateKey"/>; with both encryption names set, also
    /// encrypted to the issuer.
    public sealed class RequestObjectOptions
    {
        /// The JWE key management algorithm (<c>RSA-OAEP</c>, <c>RSA-OAEP-256</c>, <c>ECDH-ES*</c> to
        /// the issuer's published <c>use: enc</c> key; <c>A128KW</c>/<c>A192KW</c>/<c>A256KW</c> with
        /// the key derived from the client secret), or null: signed only.
        public string EncryptionAlgorithm { get; set; }

        /// The JWE content encryption (A128GCM, A192GCM, A256GCM, A128CBC-HS256, A192CBC-HS384,
        /// A256CBC-HS512), with <see cref="EncryptionAlgorithm"/>.
        public string ContentEncryption { get; set; }

        /// The settings.
        public override string ToString()
        {
            return EncryptionAlgorithm == null && ContentEncryption == null ? "RequestObjectOptions(signed)"
                : "RequestObjectOptions(signed, encrypted " + EncryptionAlgorithm + " " + ContentEncryption + ")";
        }
    }

    /// A replay store for back-channel logout token <c>jti</c>s shared by the relying-party
    /// processes of a fleet (oidc_oauth_builder_set_replay_store), consulted after the client's
    /// own bounded cache. The contract of <see cref="IDpopReplayStore"/>; keys start with
    /// <c>liboidc:logout:</c>. One object may implement both interfaces (one store, two key spaces).
    public interface ILogoutReplayStore
    {
        /// Atomically record <paramref name="key"/> for <paramref name="timeToLive"/> if it is
        /// absent (Redis: <c>SET key 1 NX EX ttl</c>): true on first use, false when it was present
        /// (the token is refused with <see cref="TokenReplayedException"/>). Throw when the store
        /// cannot answer: the token is refused with <see cref="ReplayStoreUnavailableException"/>,
        /// never accepted. Called from any thread, concurrently; must not call liboidc.
        bool TryRecord(string key, TimeSpan timeToLive);
    }
}
