// P/Invoke declarations for the several-issuers half of include/oidc.h (src/ffi/issuer.rs: issuer
// sub-builders, policy documents, explain mode; oidc_authenticate_explain from src/ffi/authn.rs).
// Translation only; the wrappers are in IssuerOptions.cs (IssuerBuilder), OidcClient.cs and
// OidcClient.Policy.cs.
using System;
using System.Runtime.InteropServices;

namespace Oidc
{
    internal static class NativeIssuers
    {
        private const string Lib = Native.Lib;
        private const CallingConvention Cdecl = CallingConvention.Cdecl;

        // ---- issuer sub-builder (not thread safe; consumed by oidc_validator_builder_add_issuer) --
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_new(byte[] issuer, UIntPtr len, out IntPtr builder, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_issuer_builder_free(IntPtr builder);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_set_jwks_uri(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_set_jwks_json(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_add_audience(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_set_any_audience(IntPtr b, uint allow, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_set_algorithms(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_set_expected_typ(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_add_required_claim(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_add_tenant(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_set_any_tenant(IntPtr b, uint any, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_set_tenant_claim(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_issuer_builder_set_tenant_bounds(IntPtr b, uint maxTenants, uint newPerWindow,
            uint windowSecs, uint maxInFlight, out IntPtr err);

        /// Consumes `issuer` in every case (OK or not).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_add_issuer(IntPtr b, IntPtr issuer, out IntPtr err);

        // ---- policy documents ----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_load_policy(IntPtr b, byte[] json, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_load_policy_file(IntPtr b, byte[] path, UIntPtr len, out IntPtr err);

        /// On OK `json` is owned (oidc_string_free).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_policy_json(ClientHandle client, out IntPtr json, out UIntPtr len, out IntPtr err);

        // ---- explain mode (OK with "decision":"deny" for a refused token or request) ------------------
        /// `nowUnix` 0: now. On OK `json` is owned (oidc_string_free).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validate_explain(ClientHandle client, byte[] token, UIntPtr tokenLen, long nowUnix,
            out IntPtr json, out UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_authenticate_explain(ClientHandle client, HttpRequestHandle request,
            out IntPtr json, out UIntPtr len, out IntPtr err);
    }
}
