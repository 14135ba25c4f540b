// Token introspection (RFC 7662, and RFC 9701 signed responses).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// An introspection response. An inactive token is a normal answer (<see cref="Active"/> false).
    public sealed class IntrospectionResponse
    {
        internal IntrospectionResponse(Claims members) { Members = members; }

        /// Every member of the response (`active`, `scope`, `client_id`, `sub`, `exp`, ...),
        /// with the typed accessors of <see cref="Claims"/>.
        public Claims Members { get; private set; }

        public bool Active
        {
            get { object v; return Members.TryGetValue("active", out v) && v is bool && (bool)v; }
        }

        public override string ToString()
        {
            return "IntrospectionResponse(Active=" + Active + (Active ? ", sub=" + (Members.Subject ?? "-") + ", client_id=" + (Members.ClientId ?? "-") : "") + ")";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Introspect <paramref name="token"/> at the issuer's introspection endpoint with this
        /// client's authentication. <paramref name="signedResponse"/> asks for an RFC 9701 signed
        /// response and accepts nothing else (validated with the issuer's keys).
        public IntrospectionResponse Introspect(string token, string tokenTypeHint = null, bool signedResponse = false)
        {
            byte[] t = Required(token, "token"), h = Optional(tokenTypeHint);
            IntPtr json, err;
            UIntPtr len;
            uint rc = NativeEndpoints.oidc_oauth_introspect(Handle, t, (UIntPtr)t.Length, h, (UIntPtr)h.Length,
                signedResponse ? 1u : 0u, out json, out len, out err);
            return new IntrospectionResponse(new Claims(TakeString(rc, json, len, err)));
        }

        /// <see cref="Introspect"/> without blocking the caller (liboidc's worker pool).
        public Task<IntrospectionResponse> IntrospectAsync(string token, string tokenTypeHint = null, bool signedResponse = false,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] t = Required(token, "token"), th = Optional(tokenTypeHint);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) => NativeAsync.oidc_oauth_introspect_async(h,
                    t, (UIntPtr)t.Length, th, (UIntPtr)th.Length, signedResponse ? 1u : 0u, cb, ud, c, out e),
                o => new IntrospectionResponse(new Claims(o.Text)), cancellationToken);
        }
    }
}
