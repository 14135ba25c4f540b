// P/Invoke declarations for include/oidc.h. Translation only: no OAuth/OIDC policy lives here.
//
// Conventions (STYLE.md, "The C ABI"):
// * strings in: UTF-8 byte[] + length (UIntPtr = size_t), never NUL-terminated;
// * strings out: IntPtr + length, copied with Marshal.Copy, then oidc_string_free;
// * borrowed strings (error accessors, oidc_oauth_response getters): NUL-terminated, read before the
//   owning object is freed;
// * handles that outlive a call are SafeHandles (AddRef/Release around every call, so a
//   concurrent Dispose can never free a client under a running call);
// * oidc_result is uint32_t; flags are uint32_t (no C bool in this ABI).
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Oidc
{
    internal static class Native
    {
        // Mono maps "oidc" to liboidc.so.0.2 through Oidc.dll.config; .NET probes liboidc.so.
        internal const string Lib = "oidc";
        private const CallingConvention Cdecl = CallingConvention.Cdecl;

        // ---- version, result codes, strings, errors ---------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_version_number();

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_version();

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_result_str(uint code);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_result_name(uint code);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_string_free(IntPtr s);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_error_code(IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_error_message(IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_error_www_authenticate(IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_error_oauth_error(IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_error_http_status(IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_error_details_json(IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_error_server_error(IntPtr err, uint field);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_error_free(IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_cache_set_max_entries(UIntPtr maxEntries);

        // ---- validation client builder ------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_new(out IntPtr builder, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_validator_builder_free(IntPtr builder);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_issuer(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_jwks_uri(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_jwks_json(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_add_audience(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_any_audience(IntPtr b, uint allow, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_algorithms(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_leeway_secs(IntPtr b, uint secs, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_add_required_claim(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_expected_typ(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_max_token_bytes(IntPtr b, UIntPtr max, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_timeouts_ms(IntPtr b, uint connectMs, uint totalMs, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_max_response_bytes(IntPtr b, UIntPtr max, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_ca_file(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_allow_http_loopback(IntPtr b, uint allow, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_proxy(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_proxy_from_env(IntPtr b, uint enable, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_cache_policy_secs(IntPtr b, uint ttlMin, uint ttlMax,
            uint refreshCooldown, uint staleIfError, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_realm(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        /// Consumes the builder in every case.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_build(IntPtr b, out ClientHandle client, out IntPtr err);

        // ---- validation client --------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_validator_free(IntPtr client);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validate(ClientHandle client, byte[] token, UIntPtr tokenLen,
            out IntPtr claims, out UIntPtr claimsLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validate_at(ClientHandle client, byte[] token, UIntPtr tokenLen, long nowUnix,
            out IntPtr claims, out UIntPtr claimsLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_prefetch(ClientHandle client, out IntPtr err);

        // ---- request authentication (src/ffi/authn.rs) ------------------------------------------
        // oidc_http_request: filled by the binding, read by oidc_authenticate (HttpRequestHandle).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_http_request_new(out HttpRequestHandle request, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_http_request_free(IntPtr request);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_http_request_reset(HttpRequestHandle request);

        /// `name` "Authorization" or "DPoP"; `value` the field's bytes as received (need not be UTF-8).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_http_request_add_header(HttpRequestHandle request, byte[] name, UIntPtr nameLen,
            byte[] value, UIntPtr valueLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_http_request_set_method(HttpRequestHandle request, byte[] method, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_http_request_set_url(HttpRequestHandle request, byte[] url, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_http_request_set_client_cert(HttpRequestHandle request, byte[] der, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_http_request_set_now(HttpRequestHandle request, long nowUnix, out IntPtr err);

        /// OK = a decision was made (allowed or denied); any other code is a misuse, no decision.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_authenticate(ClientHandle client, HttpRequestHandle request,
            out DecisionHandle decision, out IntPtr err);

        /// oidc_decision_cb: (user_data, rc, const oidc_decision* borrowed, const oidc_error* borrowed).
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void DecisionCb(IntPtr userData, uint result, IntPtr decision, IntPtr err);

        /// The request is copied before this returns.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_authenticate_async(ClientHandle client, HttpRequestHandle request,
            DecisionCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        // oidc_decision getters: borrowed strings (ptr + length), valid until oidc_decision_free
        // (or the end of the callback that lent the decision). IntPtr, so that the owned
        // (DecisionHandle) and the borrowed (callback) decision are read by one reader.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_decision_free(IntPtr decision);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_decision_allowed(IntPtr decision);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_decision_code(IntPtr decision);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_decision_http_status(IntPtr decision);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_decision_error(IntPtr decision, out UIntPtr len);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_decision_message(IntPtr decision, out UIntPtr len);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_decision_claims(IntPtr decision, out UIntPtr len);

        /// Static "Bearer" / "DPoP", or NULL.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_decision_token_type(IntPtr decision);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr oidc_decision_challenge_count(IntPtr decision);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_decision_challenge(IntPtr decision, UIntPtr index, out UIntPtr len);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_decision_dpop_nonce(IntPtr decision, out UIntPtr len);

        // builder: the resource's rules
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_add_required_scope(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_add_allowed_claim_value(IntPtr b, byte[] claim, UIntPtr claimLen,
            byte[] value, UIntPtr valueLen, out IntPtr err);

        /// OIDC_DPOP_ALLOWED 0, OIDC_DPOP_REQUIRED 1, OIDC_DPOP_DISABLED 2 (DpopMode).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_dpop_mode(IntPtr b, uint mode, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_dpop_algorithms(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_dpop_proof_window_secs(IntPtr b, uint secs, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_dpop_nonce_secret(IntPtr b, byte[] secret, UIntPtr len,
            uint lifetimeSecs, out IntPtr err);

        /// int32 cb(user_data, key, key_len, ttl_secs): 1 first use, 0 replay, negative: store down.
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int ReplayStoreCb(IntPtr userData, IntPtr key, UIntPtr keyLen, ulong ttlSecs);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_dpop_replay_store(IntPtr b, ReplayStoreCb cb, IntPtr userData, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_require_mtls(IntPtr b, uint require, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_builder_set_token_cache_size(IntPtr b, UIntPtr entries, out IntPtr err);

        // ---- non-blocking API (AsyncBridge.cs) -------------------------------------------------
        // Callbacks run on liboidc pool threads; their pointer arguments are borrowed for the
        // callback's duration. The cancel handle is a raw pointer here (NULL when the caller's
        // CancellationToken cannot be cancelled); AsyncBridge owns and frees it.
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ValidateCb(IntPtr userData, uint result, IntPtr claimsJson, UIntPtr claimsJsonLen, IntPtr err);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void DoneCb(IntPtr userData, uint result, IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validate_async(ClientHandle client, byte[] token, UIntPtr tokenLen,
            ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validate_at_async(ClientHandle client, byte[] token, UIntPtr tokenLen, long nowUnix,
            ValidateCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_validator_prefetch_async(ClientHandle client, DoneCb cb, IntPtr userData, IntPtr cancel, out IntPtr err);

        // ---- cancel (one type for the blocking and the non-blocking calls) ------------------
        /// timeout_ms 0 = no deadline; past it, calls using the handle end DEADLINE_EXCEEDED.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_cancel_new(uint timeoutMs, out CancelHandle cancel, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_cancel_trigger(CancelHandle cancel);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_cancel_is_cancelled(CancelHandle cancel);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_cancel_free(IntPtr cancel);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_async_shutdown(uint timeoutMs, out IntPtr err);

        // ---- protocol client ----------------------------------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_new(out IntPtr builder, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_oauth_builder_free(IntPtr builder);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_issuer(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_client_id(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_client_secret(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_auth_method(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_ca_file(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_endpoint(IntPtr b, byte[] name, UIntPtr nameLen,
            byte[] url, UIntPtr urlLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_timeouts_ms(IntPtr b, uint connectMs, uint totalMs, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_allow_http_loopback(IntPtr b, uint allow, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_proxy(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_proxy_from_env(IntPtr b, uint enable, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_client_cert(IntPtr b, byte[] cert, UIntPtr certLen,
            byte[] key, UIntPtr keyLen, out IntPtr err);

        /// Consumes the builder in every case.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_build(IntPtr b, out OAuthClientHandle client, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_oauth_client_free(IntPtr client);

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
        internal static extern uint oidc_oauth_builder_set_algorithms(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_builder_set_assertion_audience(IntPtr b, byte[] s, UIntPtr len, out IntPtr err);

        // ---- DPoP helpers for requests the host sends itself ------------------------------------
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_dpop_proof(OAuthClientHandle client, byte[] method, UIntPtr methodLen,
            byte[] url, UIntPtr urlLen, byte[] accessToken, UIntPtr accessTokenLen, out IntPtr proof, out UIntPtr proofLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_dpop_set_nonce(OAuthClientHandle client, byte[] url, UIntPtr urlLen,
            byte[] nonce, UIntPtr nonceLen, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_dpop_jkt(OAuthClientHandle client, out IntPtr jkt, out UIntPtr jktLen, out IntPtr err);

        // ---- protocol request object (ABI 0.2; OAuthRequest.cs) ---------------------------------
        // One request type for every protocol operation: created for an operation on a client,
        // typed setters (a parameter that does not apply is INVALID_ARGUMENT from the core), one
        // blocking and one non-blocking send. The request is copied at send.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_request_new(OAuthClientHandle client, OAuthOperation op,
            out OAuthRequestHandle request, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_request_set_string(OAuthRequestHandle r, OAuthParam p, byte[] v, UIntPtr len, out IntPtr err);

        /// List parameters only (SCOPE, RESOURCE, AUDIENCE): one item per call, in order.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_request_add_string(OAuthRequestHandle r, OAuthParam p, byte[] v, UIntPtr len, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_request_set_int(OAuthRequestHandle r, OAuthParam p, long v, out IntPtr err);

        /// A custom parameter by name (may repeat).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_request_add_param(OAuthRequestHandle r, byte[] name, UIntPtr nameLen,
            byte[] value, UIntPtr valueLen, out IntPtr err);

        /// A poll continues the DEVICE_AUTHORIZATION / CIBA_REQUEST response `started` (copied).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_request_set_pending(OAuthRequestHandle r, OAuthResponseHandle started, out IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_oauth_request_free(IntPtr r);

        /// Blocking. `cancel` may be NULL (IntPtr: the caller keeps the handle alive, see OAuthRequest.Send).
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_send(OAuthRequestHandle r, IntPtr cancel, out OAuthResponseHandle response, out IntPtr err);

        /// oidc_oauth_response_cb: runs exactly once on a liboidc thread (never inside send_async,
        /// never after a non-OK return). `response` is OWNED by the callee on OK (else NULL);
        /// `err` is borrowed for the callback.
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ResponseCb(IntPtr userData, uint result, IntPtr response, IntPtr err);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern uint oidc_oauth_send_async(OAuthRequestHandle r, IntPtr cancel, ResponseCb cb, IntPtr userData, out IntPtr err);

        // oidc_oauth_response getters: strings borrowed (NUL-terminated) until oidc_oauth_response_free.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern OAuthOperation oidc_oauth_response_operation(OAuthResponseHandle r);

        /// NULL when absent.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_oauth_response_string(OAuthResponseHandle r, OAuthField f);

        /// -1 when absent.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern long oidc_oauth_response_int(OAuthResponseHandle r, OAuthField f);

        /// Never NULL for a live response.
        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern IntPtr oidc_oauth_response_json(OAuthResponseHandle r, out UIntPtr len);

        [DllImport(Lib, CallingConvention = Cdecl, ExactSpelling = true)]
        internal static extern void oidc_oauth_response_free(IntPtr r);
    }

    /// UTF-8 conversions at the boundary.
    internal static class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);
        internal static readonly byte[] Empty = new byte[0];

        /// Encode configuration for a (ptr, len) parameter. Lone surrogates throw
        /// (ArgumentException) instead of being silently replaced.
        internal static byte[] StrictBytes(string s)
        {
            if (string.IsNullOrEmpty(s)) return Empty;
            return Strict.GetBytes(s);
        }

        /// Encode untrusted input (a token from a request). A lone surrogate becomes U+FFFD,
        /// which liboidc then rejects with its own code (TOKEN_MALFORMED) instead of the
        /// binding throwing an ArgumentException in the middle of a request.
        internal static byte[] Bytes(string s)
        {
            if (s.Length == 0) return Empty;
            return Encoding.UTF8.GetBytes(s);
        }

        // ---- per-thread scratch buffer for the hot path (token in, claims out) ----------------
        // Saves two allocations and a counting pass per validation. The buffer is taken out of
        // the slot while in use, so a re-entrant call on the same thread (e.g. from a future log
        // callback) gets its own. Never handed to an asynchronous native call.
        private const int MaxScratch = 64 * 1024;
        [ThreadStatic] private static byte[] scratch;

        /// A buffer of at least `size` bytes; give it back with <see cref="Return"/>.
        internal static byte[] Rent(int size)
        {
            byte[] b = scratch;
            if (b != null && b.Length >= size)
            {
                scratch = null;
                return b;
            }
            return new byte[Math.Max(size, 1024)];
        }

        internal static void Return(byte[] b)
        {
            if (b.Length <= MaxScratch) scratch = b;
        }

        /// Encode `s` (lone surrogates become U+FFFD) into a rented buffer; returns the byte count.
        internal static byte[] RentEncoded(string s, out int length)
        {
            byte[] b = Rent(Encoding.UTF8.GetMaxByteCount(s.Length));
            length = Encoding.UTF8.GetBytes(s, 0, s.Length, b, 0);
            return b;
        }

        /// Copy `len` bytes of an owned liboidc string (through `buffer` when it is large
        /// enough), then free it with oidc_string_free.
        internal static string TakeOwned(IntPtr p, UIntPtr len, byte[] buffer)
        {
            if (p == IntPtr.Zero) return null;
            try
            {
                int n = checked((int)len.ToUInt64());
                if (n == 0) return string.Empty;
                if (buffer == null || buffer.Length < n) return Read(p, n);
                Marshal.Copy(p, buffer, 0, n);
                return Encoding.UTF8.GetString(buffer, 0, n);
            }
            finally
            {
                Native.oidc_string_free(p);
            }
        }

        /// Copy `len` bytes of an owned liboidc string, then free it with oidc_string_free.
        internal static string TakeOwned(IntPtr p, UIntPtr len)
        {
            return TakeOwned(p, len, null);
        }

        /// Copy an owned NUL-terminated liboidc string (no length given), then free it.
        internal static string TakeOwnedNulTerminated(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            try { return ReadNulTerminated(p); }
            finally { Native.oidc_string_free(p); }
        }

        /// A borrowed UTF-8 string, copied through the per-thread scratch buffer (no byte[] per call).
        internal static string ReadScratch(IntPtr p, int len)
        {
            if (len == 0) return string.Empty;
            byte[] b = Rent(len);
            try
            {
                Marshal.Copy(p, b, 0, len);
                return Encoding.UTF8.GetString(b, 0, len);
            }
            finally
            {
                Return(b);
            }
        }

        internal static string Read(IntPtr p, int len)
        {
            if (len == 0) return string.Empty;
            var buf = new byte[len];
            Marshal.Copy(p, buf, 0, len);
            return Encoding.UTF8.GetString(buf);
        }

        /// A borrowed NUL-terminated UTF-8 string, or null for NULL. (Marshal.PtrToStringUTF8
        /// is not in Mono's 4.x profile.)
        internal static string ReadNulTerminated(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0) len++;
            return Read(p, len);
        }
    }
}
