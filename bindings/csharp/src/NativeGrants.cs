// P/Invoke declarations for the grants half of include/oidc.h (src/ffi grants). Translation
// only. Strings in are (ptr, len), len 0 = absent for the optional ones; handles that outlive a
// call (device authorization, CIBA request, cancel) are SafeHandles (src/Handles.cs).
using System;
using System.Runtime.InteropServices;

namespace Oidc
{
    internal static class NativeGrants
    {
        private const string Lib = Native.Lib;
        private const CallingConvention Cdecl = CallingConvention.Cdecl;

        // ---- builder: client keys, DPoP, assertion audience -----------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_private_key_pem(IntPtr b, byte[] pem, UIntPtr pemLen,
            byte[] kid, UIntPtr kidLen, byte[] alg, UIntPtr algLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_private_key_jwk(IntPtr b, byte[] jwk, UIntPtr jwkLen,
            byte[] kid, UIntPtr kidLen, byte[] alg, UIntPtr algLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_dpop_key(IntPtr b, byte[] key, UIntPtr keyLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_assertion_audience(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        // ---- PKCE ------------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_pkce_new(out PkceHandle pkce, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_pkce_code_verifier(PkceHandle pkce);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_pkce_code_challenge(PkceHandle pkce);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_pkce_state(PkceHandle pkce);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_pkce_nonce(PkceHandle pkce);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_pkce_code_challenge_method();

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_pkce_free(IntPtr pkce);

        // ---- token grants ----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_exchange_code(OAuthClientHandle client, byte[] code, UIntPtr codeLen,
            byte[] redirectUri, UIntPtr redirectUriLen, byte[] verifier, UIntPtr verifierLen, byte[] nonce, UIntPtr nonceLen,
            byte[] resource, UIntPtr resourceLen, out IntPtr response, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_refresh(OAuthClientHandle client, byte[] refreshToken, UIntPtr refreshTokenLen,
            byte[] scope, UIntPtr scopeLen, byte[] resource, UIntPtr resourceLen, out IntPtr response, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_client_credentials_cached(OAuthClientHandle client,
            byte[] scope, UIntPtr scopeLen, byte[] resource, UIntPtr resourceLen, byte[] audience, UIntPtr audienceLen,
            out IntPtr response, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_token_exchange(OAuthClientHandle client, byte[] subjectToken, UIntPtr subjectTokenLen,
            byte[] subjectTokenType, UIntPtr subjectTokenTypeLen, byte[] paramsJson, UIntPtr paramsJsonLen,
            out IntPtr response, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_jwt_bearer(OAuthClientHandle client, byte[] assertion, UIntPtr assertionLen,
            byte[] subject, UIntPtr subjectLen, byte[] scope, UIntPtr scopeLen, out IntPtr response, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_custom_grant(OAuthClientHandle client, byte[] grantType, UIntPtr grantTypeLen,
            byte[] paramsJson, UIntPtr paramsJsonLen, out IntPtr response, out IntPtr err);

        // ---- cancel ----------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_cancel_new(out CancelHandle cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_cancel_new_with_timeout_ms(ulong timeoutMs, out CancelHandle cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_cancel_cancel(CancelHandle cancel);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_cancel_free(IntPtr cancel);

        // ---- device flow -----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_device_authorization(OAuthClientHandle client, byte[] scope, UIntPtr scopeLen,
            out DeviceAuthorizationHandle da, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_device_authorization_user_code(DeviceAuthorizationHandle da);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_device_authorization_verification_uri(DeviceAuthorizationHandle da);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_device_authorization_verification_uri_complete(DeviceAuthorizationHandle da);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern long oidc_device_authorization_expires_in(DeviceAuthorizationHandle da);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_device_authorization_interval(DeviceAuthorizationHandle da);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_device_authorization_free(IntPtr da);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_device_poll(OAuthClientHandle client, DeviceAuthorizationHandle da,
            uint timeoutMs, CancelHandle cancel, out IntPtr response, out IntPtr err);

        // ---- CIBA ------------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_ciba_request(OAuthClientHandle client, byte[] paramsJson, UIntPtr paramsJsonLen,
            out CibaRequestHandle req, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_ciba_request_auth_req_id(CibaRequestHandle req);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern long oidc_ciba_request_expires_in(CibaRequestHandle req);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_ciba_request_interval(CibaRequestHandle req);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_ciba_request_free(IntPtr req);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_ciba_poll(OAuthClientHandle client, CibaRequestHandle req,
            uint timeoutMs, CancelHandle cancel, out IntPtr response, out IntPtr err);

        // ---- DPoP, resources, endpoints --------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_dpop_proof(OAuthClientHandle client, byte[] method, UIntPtr methodLen,
            byte[] url, UIntPtr urlLen, byte[] accessToken, UIntPtr accessTokenLen, out IntPtr proof, out UIntPtr proofLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_dpop_set_nonce(OAuthClientHandle client, byte[] url, UIntPtr urlLen,
            byte[] nonce, UIntPtr nonceLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_dpop_jkt(OAuthClientHandle client, out IntPtr jkt, out UIntPtr jktLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_resource_request(OAuthClientHandle client, byte[] method, UIntPtr methodLen,
            byte[] url, UIntPtr urlLen, byte[] accessToken, UIntPtr accessTokenLen, byte[] tokenType, UIntPtr tokenTypeLen,
            byte[] body, UIntPtr bodyLen, byte[] contentType, UIntPtr contentTypeLen,
            out uint status, out IntPtr respBody, out UIntPtr respBodyLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_client_endpoint(OAuthClientHandle client, byte[] name, UIntPtr nameLen,
            out IntPtr url, out UIntPtr urlLen, out IntPtr err);
    }
}
