// P/Invoke declarations for the JOSE half of include/oidc.h (issue 14: decryption keys and
// algorithms, encrypted access tokens, signed revocation lists, dropping an issuer's keys, the
// protocol client's static JWKS, request objects and back-channel logout options). Translation
// only; the wrappers are OidcClient.Create / DropKeys and OAuthClient.NewBuilder.
using System;
using System.Runtime.InteropServices;

namespace Oidc
{
    internal static class NativeJose
    {
        private const string Lib = Native.Lib;
        private const CallingConvention Cdecl = CallingConvention.Cdecl;

        // ---- validator builder ---------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_add_decryption_key(IntPtr b, byte[] key, UIntPtr keyLen,
            byte[] kid, UIntPtr kidLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_decryption_algorithms(IntPtr b, byte[] names, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_accept_encrypted(IntPtr b, uint accept, out IntPtr err);

        /// `url` NULL (or 0 bytes): the default `{issuer}/.well-known/revocation-list`.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_revocation(IntPtr b, byte[] url, UIntPtr urlLen,
            uint policy, uint graceSecs, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_revocation_bounds(IntPtr b, uint minSecs, uint maxSecs, out IntPtr err);

        /// `issuer` NULL (or 0 bytes): every issuer of the validator.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_drop_keys(ClientHandle client, byte[] issuer, UIntPtr issuerLen, out IntPtr err);

        // ---- protocol client builder ---------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_add_decryption_key(IntPtr b, byte[] key, UIntPtr keyLen,
            byte[] kid, UIntPtr kidLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_decryption_algorithms(IntPtr b, byte[] names, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_jwks_json(IntPtr b, byte[] json, UIntPtr len, out IntPtr err);

        /// `encAlg` / `encEnc` both empty: signed only.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_request_object(IntPtr b, byte[] encAlg, UIntPtr encAlgLen,
            byte[] encEnc, UIntPtr encEncLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_replay_store(IntPtr b, Native.ReplayStoreCb cb, IntPtr userData, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_logout_accept_untyped(IntPtr b, uint accept, out IntPtr err);
    }
}
