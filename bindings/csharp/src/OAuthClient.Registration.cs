// Dynamic client registration (RFC 7591).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// A registration response. ToString never prints the secrets.
    public sealed class ClientRegistration
    {
        internal ClientRegistration(string json) { RawJson = json; Metadata = new Claims(json); }

        /// The whole response (contains `client_secret` and `registration_access_token`: secrets).
        public string RawJson { get; private set; }
        /// Every member, with dictionary access.
        public Claims Metadata { get; private set; }
        public string ClientId { get { return Metadata.GetString("client_id"); } }
        /// A secret, or null for a public client.
        public string ClientSecret { get { return Metadata.GetString("client_secret"); } }
        /// A secret, or null.
        public string RegistrationAccessToken { get { return Metadata.GetString("registration_access_token"); } }
        public string RegistrationClientUri { get { return Metadata.GetString("registration_client_uri"); } }

        public override string ToString()
        {
            return "ClientRegistration(ClientId=" + ClientId + ", ClientSecret=" + (ClientSecret == null ? "<none>" : "<redacted>") + ")";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Register a client at <paramref name="options"/>' issuer (its CA file, timeouts and
        /// endpoint overrides are used; no client id or secret is needed). Then create the
        /// client with the returned ClientId / ClientSecret. Server errors keep their code
        /// (<see cref="InvalidClientMetadataException"/>, <see cref="InvalidRedirectUriException"/>).
        /// <param name="metadata">client metadata: a dictionary (serialised here) or a JSON object string</param>
        public static ClientRegistration Register(OAuthClientOptions options, object metadata, string initialAccessToken = null)
        {
            if (metadata == null) throw new ArgumentNullException("metadata");
            string json = metadata as string ?? Json.Write(metadata);
            byte[] m = Utf8.StrictBytes(json), t = Optional(initialAccessToken);
            IntPtr b = NewBuilder(options);
            try
            {
                IntPtr outJson, err;
                UIntPtr len;
                uint rc = NativeEndpoints.oidc_oauth_register(b, m, (UIntPtr)m.Length, t, (UIntPtr)t.Length, out outJson, out len, out err);
                return new ClientRegistration(TakeString(rc, outJson, len, err));
            }
            finally
            {
                Native.oidc_oauth_builder_free(b); // register borrows the builder
            }
        }

        /// <see cref="Register"/> without blocking the caller (liboidc's worker pool; the
        /// builder's settings are copied by the initiating call, so it is freed at once).
        public static Task<ClientRegistration> RegisterAsync(OAuthClientOptions options, object metadata, string initialAccessToken = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (metadata == null) throw new ArgumentNullException("metadata");
            byte[] m = Utf8.StrictBytes(metadata as string ?? Json.Write(metadata)), t = Optional(initialAccessToken);
            IntPtr b = NewBuilder(options);
            try
            {
                return AsyncBridge.Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_register_async(b,
                    m, (UIntPtr)m.Length, t, (UIntPtr)t.Length, cb, ud, c, out e), o => new ClientRegistration(o.Text), cancellationToken);
            }
            finally
            {
                Native.oidc_oauth_builder_free(b);
            }
        }
    }
}
