// One more issuer of a validating client (oidc_issuer_builder, src/ffi/issuer.rs). Plumbing only:
// which issuer a token is checked against, tenant rules and every check are decided in liboidc.
using System;
using System.Collections.Generic;
using System.Text;

namespace Oidc
{
    /// The settings of one more issuer of an <see cref="OidcClient"/>
    /// (<see cref="OidcClientOptions.Issuers"/>): its own keys (discovery, <see cref="JwksUri"/> or
    /// <see cref="JwksJson"/>), audiences, algorithms, <c>typ</c> and required claims. Unset token
    /// rules are the client's. A token's <c>iss</c> picks the issuer (exact match, then templates);
    /// it is never checked with another issuer's keys.
    ///
    /// An <see cref="Issuer"/> containing <c>{tenant}</c> is a template
    /// (<c>https://login.example.com/{tenant}/v2.0</c>): it needs <see cref="Tenants"/> or
    /// <see cref="AnyTenant"/>, and each tenant has its own discovery and keys. Plain data: one
    /// instance may be used for any number of clients.
    public sealed class IssuerOptions
    {
        /// An options object for <paramref name="issuer"/>.
        public IssuerOptions(string issuer) { Issuer = issuer; }

        /// An empty options object (set <see cref="Issuer"/>).
        public IssuerOptions() { }

        /// The issuer (required): tokens' <c>iss</c> must equal it exactly, or, for a template,
        /// with one allowed tenant in place of <c>{tenant}</c>.
        public string Issuer { get; set; }

        /// This issuer's audiences; none (and no <see cref="AnyAudience"/>): the client's.
        public IList<string> Audiences { get; set; }

        /// Accept any audience for this issuer (say so explicitly).
        public bool AnyAudience { get; set; }

        /// This issuer's algorithm allow-list, e.g. { "RS256", "ES256" }; null: the client's.
        public IList<string> Algorithms { get; set; }

        /// The JOSE <c>typ</c> this issuer's tokens must carry; null: the client's.
        public string ExpectedTyp { get; set; }

        /// Claims this issuer's tokens must carry, in addition to the client's.
        public IList<string> RequiredClaims { get; set; }

        /// Use this JWKS URL instead of discovering one (not for templates).
        public string JwksUri { get; set; }

        /// A static JWKS document for this issuer: no network (not for templates).
        public string JwksJson { get; set; }

        /// Templates: the allowed tenants (1 to 64 of <c>A-Z a-z 0-9 - _</c> each).
        public IList<string> Tenants { get; set; }

        /// Templates: accept any well-formed tenant, within <see cref="TenantBounds"/> (never the
        /// default; not together with <see cref="Tenants"/>).
        public bool AnyTenant { get; set; }

        /// Templates: the claim that must equal the tenant of <c>iss</c> (liboidc's default: <c>tid</c>).
        public string TenantClaim { get; set; }

        /// Templates: bounds of the per-tenant state; null keeps liboidc's defaults.
        public TenantBounds TenantBounds { get; set; }

        /// The options, without key material.
        public override string ToString()
        {
            var sb = new StringBuilder("IssuerOptions(").Append(Issuer);
            if (Audiences != null) sb.Append(", Audiences=[").Append(string.Join(", ", Audiences)).Append(']');
            if (AnyAudience) sb.Append(", AnyAudience");
            if (Algorithms != null) sb.Append(", Algorithms=[").Append(string.Join(", ", Algorithms)).Append(']');
            if (ExpectedTyp != null) sb.Append(", ExpectedTyp=").Append(ExpectedTyp);
            if (JwksUri != null) sb.Append(", JwksUri=").Append(JwksUri);
            if (JwksJson != null) sb.Append(", JwksJson=<").Append(JwksJson.Length).Append(" chars>");
            if (Tenants != null) sb.Append(", Tenants=[").Append(string.Join(", ", Tenants)).Append(']');
            if (AnyTenant) sb.Append(", AnyTenant");
            if (TenantClaim != null) sb.Append(", TenantClaim=").Append(TenantClaim);
            if (TenantBounds != null) sb.Append(", ").Append(TenantBounds);
            return sb.Append(')').ToString();
        }
    }

    /// Bounds of a template issuer's per-tenant state (oidc_issuer_builder_set_tenant_bounds): at
    /// most <see cref="MaxTenants"/> tenants kept (least recently used evicted),
    /// <see cref="NewPerWindow"/> new tenants per <see cref="WindowSeconds"/> and
    /// <see cref="MaxInFlight"/> first fetches at once; liboidc refuses a new tenant beyond them
    /// (KEYS_UNAVAILABLE) without a request. A property left unset (0) keeps liboidc's default.
    public sealed class TenantBounds
    {
        /// Tenants kept (0: liboidc's default, 256).
        public int MaxTenants { get; set; }

        /// New tenants admitted per window (0: liboidc's default, 10).
        public int NewPerWindow { get; set; }

        /// The admission window in seconds (0: liboidc's default, 60).
        public int WindowSeconds { get; set; }

        /// First fetches of new tenants at once (0: liboidc's default, 4).
        public int MaxInFlight { get; set; }

        /// The four bounds.
        public override string ToString()
        {
            return "TenantBounds(MaxTenants=" + MaxTenants + ", NewPerWindow=" + NewPerWindow + ", WindowSeconds=" +
                WindowSeconds + ", MaxInFlight=" + MaxInFlight + ")";
        }
    }

    /// A native oidc_issuer_builder, filled from an <see cref="IssuerOptions"/> and consumed by
    /// <see cref="AddTo"/> (oidc_validator_builder_add_issuer takes it over in every case). Any
    /// use after that throws <see cref="ObjectDisposedException"/> instead of touching freed memory.
    /// One thread at a time (like the native builder).
    internal sealed class IssuerBuilder : IDisposable
    {
        private IntPtr handle;
        private bool consumed;

        private IssuerBuilder(IntPtr handle) { this.handle = handle; }

        /// A builder for `issuer` (null: empty, which liboidc refuses).
        internal static IssuerBuilder New(string issuer)
        {
            byte[] s = Utf8.StrictBytes(issuer);
            IntPtr b, err;
            uint rc = NativeIssuers.oidc_issuer_builder_new(s, (UIntPtr)s.Length, out b, out err);
            if (rc != 0) throw OidcException.FromNative(rc, err);
            return new IssuerBuilder(b);
        }

        /// A builder with every setting of `o`; freed if a setting throws.
        internal static IssuerBuilder From(IssuerOptions o)
        {
            if (o == null) throw new ArgumentNullException("o");
            var ib = New(o.Issuer);
            try
            {
                if (o.Audiences != null)
                    foreach (var a in o.Audiences) ib.Set(a, NativeIssuers.oidc_issuer_builder_add_audience);
                if (o.AnyAudience) ib.Flag(NativeIssuers.oidc_issuer_builder_set_any_audience);
                if (o.Algorithms != null) ib.Set(string.Join(",", o.Algorithms), NativeIssuers.oidc_issuer_builder_set_algorithms);
                if (o.ExpectedTyp != null) ib.Set(o.ExpectedTyp, NativeIssuers.oidc_issuer_builder_set_expected_typ);
                if (o.RequiredClaims != null)
                    foreach (var c in o.RequiredClaims) ib.Set(c, NativeIssuers.oidc_issuer_builder_add_required_claim);
                if (o.JwksUri != null) ib.Set(o.JwksUri, NativeIssuers.oidc_issuer_builder_set_jwks_uri);
                if (o.JwksJson != null) ib.Set(o.JwksJson, NativeIssuers.oidc_issuer_builder_set_jwks_json);
                if (o.Tenants != null)
                    foreach (var t in o.Tenants) ib.Set(t, NativeIssuers.oidc_issuer_builder_add_tenant);
                if (o.AnyTenant) ib.Flag(NativeIssuers.oidc_issuer_builder_set_any_tenant);
                if (o.TenantClaim != null) ib.Set(o.TenantClaim, NativeIssuers.oidc_issuer_builder_set_tenant_claim);
                if (o.TenantBounds != null) ib.SetTenantBounds(o.TenantBounds);
                return ib;
            }
            catch
            {
                ib.Dispose();
                throw;
            }
        }

        private IntPtr Live
        {
            get
            {
                if (consumed) throw new ObjectDisposedException("IssuerBuilder", "the issuer builder was already added to a validator builder (consumed)");
                if (handle == IntPtr.Zero) throw new ObjectDisposedException("IssuerBuilder");
                return handle;
            }
        }

        internal void Set(string value, OidcClient.StringSetter setter)
        {
            IntPtr b = Live;
            if (value == null) throw new ArgumentNullException("value", "a null string in IssuerOptions");
            OidcClient.Set(b, value, setter);
        }

        internal delegate uint FlagSetter(IntPtr builder, uint on, out IntPtr err);

        internal void Flag(FlagSetter setter)
        {
            IntPtr b = Live, err;
            OidcException.Check(setter(b, 1, out err), err);
        }

        internal void SetTenantBounds(TenantBounds t)
        {
            IntPtr b = Live, err;
            OidcException.Check(NativeIssuers.oidc_issuer_builder_set_tenant_bounds(b,
                OidcClient.U32(t.MaxTenants, "TenantBounds.MaxTenants"), OidcClient.U32(t.NewPerWindow, "TenantBounds.NewPerWindow"),
                OidcClient.U32(t.WindowSeconds, "TenantBounds.WindowSeconds"), OidcClient.U32(t.MaxInFlight, "TenantBounds.MaxInFlight"),
                out err), err);
        }

        /// Hand the native builder to a validator builder (oidc_validator_builder_add_issuer). It is
        /// consumed whatever the outcome; a failure throws liboidc's error.
        internal void AddTo(IntPtr validatorBuilder)
        {
            IntPtr b = Live, err;
            consumed = true;
            handle = IntPtr.Zero;
            OidcException.Check(NativeIssuers.oidc_validator_builder_add_issuer(validatorBuilder, b, out err), err);
        }

        internal bool IsConsumed { get { return consumed; } }

        /// Free the native builder unless it was consumed. Idempotent.
        public void Dispose()
        {
            IntPtr b = handle;
            handle = IntPtr.Zero;
            if (b != IntPtr.Zero) NativeIssuers.oidc_issuer_builder_free(b);
        }
    }
}
