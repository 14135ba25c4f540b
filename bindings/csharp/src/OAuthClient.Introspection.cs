// Token introspection (RFC 7662, and RFC 9701 signed responses).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// An introspection response. An inactive token is a normal answer (<see cref="Active"/> false).
    public sealed class IntrospectionResponse
    {
        internal IntrospectionResponse(OAuthResponse r)
        {
            Members = r.Members;
            Active = r.GetInt(OAuthField.Active) == 1;
        }

        /// Every member of the response (`active`, `scope`, `client_id`, `sub`, `exp`, ...),
        /// with the typed accessors of <see cref="Claims"/>.
        public Claims Members { get; private set; }

        /// OAuthField.Active.
        public bool Active { get; private set; }

        /// Whether the token is active, without its contents.
        public override string ToString()
        {
            return "IntrospectionResponse(Active=" + Active + (Active ? ", sub=" + (Members.Subject ?? "-") + ", client_id=" + (Members.ClientId ?? "-") : "") + ")";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Introspect <paramref name="token"/> at the issuer's introspection endpoint with this
        /// client's authentication (OAuthOperation.Introspect). <paramref name="signedResponse"/>
        /// asks for an RFC 9701 signed response and accepts nothing else (validated with the
        /// issuer's keys).
        public IntrospectionResponse Introspect(string token, string tokenTypeHint = null, bool signedResponse = false,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return IntrospectRequest(token, tokenTypeHint, signedResponse).SendOnce(r => new IntrospectionResponse(r), cancellationToken);
        }

        /// <see cref="Introspect"/> without blocking the caller (liboidc's worker pool).
        public Task<IntrospectionResponse> IntrospectAsync(string token, string tokenTypeHint = null, bool signedResponse = false,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return IntrospectRequest(token, tokenTypeHint, signedResponse).SendOnceAsync(r => new IntrospectionResponse(r), cancellationToken);
        }

        private OAuthRequest IntrospectRequest(string token, string tokenTypeHint, bool signedResponse)
        {
            if (token == null) throw new ArgumentNullException("token");
            return Request(OAuthOperation.Introspect, r =>
            {
                r.Set(OAuthParam.Token, token).SetOptional(OAuthParam.TokenTypeHint, tokenTypeHint);
                if (signedResponse) r.Set(OAuthParam.SignedResponse, 1);
            });
        }
    }
}
