// Dynamic client registration (RFC 7591) and its management (RFC 7592).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// A registration response. ToString never prints the secrets.
    public sealed class ClientRegistration
    {
        internal ClientRegistration(OAuthResponse r)
        {
            RawJson = r.Json;
            Metadata = new Claims(RawJson);
            ClientId = r.GetString(OAuthField.ClientId);
            ClientSecret = r.GetString(OAuthField.ClientSecret);
            RegistrationAccessToken = r.GetString(OAuthField.RegistrationAccessToken);
            RegistrationClientUri = r.GetString(OAuthField.RegistrationClientUri);
        }

        /// The whole response (contains `client_secret` and `registration_access_token`: secrets).
        public string RawJson { get; private set; }
        /// Every member, with dictionary access.
        public Claims Metadata { get; private set; }
        /// The registered client's <c>client_id</c>.
        public string ClientId { get; private set; }
        /// A secret, or null for a public client.
        public string ClientSecret { get; private set; }
        /// A secret, or null.
        public string RegistrationAccessToken { get; private set; }
        /// The RFC 7592 <c>registration_client_uri</c>, for reading, updating or deleting the registration.
        public string RegistrationClientUri { get; private set; }

        /// The client id (never the secret or the registration access token).
        public override string ToString()
        {
            return "ClientRegistration(ClientId=" + ClientId + ", ClientSecret=" + (ClientSecret == null ? "<none>" : "<redacted>") + ")";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Register a client at <paramref name="options"/>' issuer (OAuthOperation.Register, on a
        /// client made from the options; its CA file, timeouts and endpoint overrides are used, no
        /// client id or secret is needed). Then create the client with the returned ClientId /
        /// ClientSecret. Server errors keep their code (<see cref="InvalidClientMetadataException"/>,
        /// <see cref="InvalidRedirectUriException"/>).
        /// <param name="metadata">client metadata: a dictionary (serialised here) or a JSON object string</param>
        /// <param name="options">The client's options (issuer, endpoints, CA file).</param>
        /// <param name="initialAccessToken">The RFC 7591 initial access token, if the server requires one.</param>
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        public static ClientRegistration Register(OAuthClientOptions options, object metadata, string initialAccessToken = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            using (var c = Create(options))
                return c.RegisterRequest(metadata, initialAccessToken).SendOnce(r => new ClientRegistration(r), cancellationToken);
        }

        /// <see cref="Register"/> without blocking the caller (liboidc's worker pool; the request
        /// is copied when it is queued, and the client may go once the call is queued).
        public static Task<ClientRegistration> RegisterAsync(OAuthClientOptions options, object metadata, string initialAccessToken = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            using (var c = Create(options))
                return c.RegisterRequest(metadata, initialAccessToken).SendOnceAsync(r => new ClientRegistration(r), cancellationToken);
        }

        private OAuthRequest RegisterRequest(object metadata, string initialAccessToken)
        {
            if (metadata == null) throw new ArgumentNullException("metadata");
            string json = metadata as string ?? Json.Write(metadata);
            return Request(OAuthOperation.Register, r => r.Set(OAuthParam.Metadata, json)
                .SetOptional(OAuthParam.InitialAccessToken, initialAccessToken));
        }
    }
}
