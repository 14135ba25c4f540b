// P/Invoke declarations for the protocol client's non-blocking twins (oidc_oauth_*_async in
// include/oidc.h). Translation only; AsyncBridge.cs owns the callbacks, user_data and cancel
// handles. The string results use oidc_string_cb, whose shape is oidc_validate_cb's
// (Native.ValidateCb); the resource request has its own callback.
using System;
using System.Runtime.InteropServices;

namespace Oidc
{
    internal static class NativeAsync
    {
        private const string Lib = Native.Lib;
        private const CallingConvention Cdecl = CallingConvention.Cdecl;

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ResourceCb(IntPtr userData, uint result, uint status, IntPtr body, UIntPtr bodyLen, IntPtr err);

        // oidc_device_authorization_cb and oidc_ciba_request_cb have oidc_token_cb's shape (a
        // pointer and an error); their pointer is OWNED by the callee (AsyncBridge wraps it in a
        // SafeHandle before anything else).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_device_authorization_async(OAuthClientHandle client, byte[] scope, UIntPtr scopeLen,
            Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_device_poll_async(OAuthClientHandle client, DeviceAuthorizationHandle authorization, uint timeoutMs,
            Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_ciba_request_async(OAuthClientHandle client, byte[] paramsJson, UIntPtr paramsJsonLen,
            Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_ciba_poll_async(OAuthClientHandle client, CibaRequestHandle request, uint timeoutMs,
            Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_exchange_code_async(OAuthClientHandle client, byte[] code, UIntPtr codeLen, byte[] redirectUri, UIntPtr redirectUriLen, byte[] codeVerifier, UIntPtr codeVerifierLen, byte[] nonce, UIntPtr nonceLen, byte[] resource, UIntPtr resourceLen, Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_refresh_async(OAuthClientHandle client, byte[] refreshToken, UIntPtr refreshTokenLen, byte[] scope, UIntPtr scopeLen, byte[] resource, UIntPtr resourceLen, Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_client_credentials_cached_async(OAuthClientHandle client, byte[] scope, UIntPtr scopeLen, byte[] resource, UIntPtr resourceLen, byte[] audience, UIntPtr audienceLen, Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_token_exchange_async(OAuthClientHandle client, byte[] subjectToken, UIntPtr subjectTokenLen, byte[] subjectTokenType, UIntPtr subjectTokenTypeLen, byte[] paramsJson, UIntPtr paramsJsonLen, Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_jwt_bearer_async(OAuthClientHandle client, byte[] assertion, UIntPtr assertionLen, byte[] subject, UIntPtr subjectLen, byte[] scope, UIntPtr scopeLen, Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_custom_grant_async(OAuthClientHandle client, byte[] grantType, UIntPtr grantTypeLen, byte[] paramsJson, UIntPtr paramsJsonLen, Native.TokenCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_validate_id_token_async(OAuthClientHandle client, byte[] idToken, UIntPtr idTokenLen, byte[] nonce, UIntPtr nonceLen, byte[] accessToken, UIntPtr accessTokenLen, byte[] code, UIntPtr codeLen, long maxAge, Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_introspect_async(OAuthClientHandle client, byte[] token, UIntPtr tokenLen, byte[] tokenTypeHint, UIntPtr tokenTypeHintLen, uint flags, Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_revoke_async(OAuthClientHandle client, byte[] token, UIntPtr tokenLen, byte[] tokenTypeHint, UIntPtr tokenTypeHintLen, Native.DoneCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_userinfo_async(OAuthClientHandle client, byte[] accessToken, UIntPtr accessTokenLen, byte[] expectedSub, UIntPtr expectedSubLen, Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_authorization_url_async(OAuthClientHandle client, byte[] requestJson, UIntPtr requestJsonLen, Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_push_authorization_request_async(OAuthClientHandle client, byte[] requestJson, UIntPtr requestJsonLen, Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_parse_authorization_response_async(OAuthClientHandle client, byte[] response, UIntPtr responseLen, byte[] expectedState, UIntPtr expectedStateLen, Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_end_session_url_async(OAuthClientHandle client, byte[] idTokenHint, UIntPtr idTokenHintLen, byte[] postLogoutRedirectUri, UIntPtr postLogoutRedirectUriLen, byte[] state, UIntPtr stateLen, Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_resource_request_async(OAuthClientHandle client, byte[] method, UIntPtr methodLen, byte[] url, UIntPtr urlLen, byte[] accessToken, UIntPtr accessTokenLen, byte[] tokenType, UIntPtr tokenTypeLen, byte[] body, UIntPtr bodyLen, byte[] contentType, UIntPtr contentTypeLen, ResourceCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_client_endpoint_async(OAuthClientHandle client, byte[] name, UIntPtr nameLen, Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_register_async(IntPtr builder, byte[] metadataJson, UIntPtr metadataJsonLen, byte[] initialAccessToken, UIntPtr initialAccessTokenLen, Native.ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);
    }
}
