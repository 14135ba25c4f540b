// Result codes and the exception hierarchy. One table (ResultTable.Entries, generated into
// ResultCodes.cs from codes.in by scripts/gen-codes.py) maps every oidc_result to its name and
// exception type, as libgit2sharp's Ensure.cs does; AbiTests parses include/oidc.h and fails on any
// drift in names or values.
using System;
using System.Collections.Generic;

namespace Oidc
{
    // enum OidcResult is generated: ResultCodes.cs (scripts/gen-codes.py from codes.in).

    /// Everything an `oidc_error` carried, copied out before it was freed.
    public sealed class OidcErrorInfo
    {
        internal OidcErrorInfo() { }
        /// The result code (negative for errors raised by the binding itself).
        public int Code { get; internal set; }
        /// The stable symbolic name, e.g. "TOKEN_EXPIRED".
        public string Name { get; internal set; }
        /// English, secret-free message from liboidc.
        public string Message { get; internal set; }
        /// The status a resource server should answer with: 401 bad token, 503 keys unavailable, 500 otherwise; 0 if unknown.
        public int HttpStatus { get; internal set; }
        /// A ready `WWW-Authenticate` value (RFC 6750), e.g. `Bearer realm="api", error="invalid_token", ...`.
        public string WwwAuthenticate { get; internal set; }
        /// The OAuth error code: the server's `error` for OAuth error responses, "invalid_token" for token failures.
        public string OAuthError { get; internal set; }
        /// The server's `error_description`, if any.
        public string OAuthErrorDescription { get; internal set; }
        /// The server's `error_uri`, if any.
        public string OAuthErrorUri { get; internal set; }
        /// The HTTP status of the server's OAuth error response, if any.
        public int OAuthStatus { get; internal set; }
        /// `oidc_error_details_json` verbatim.
        public string DetailsJson { get; internal set; }
    }

    /// Base of every liboidc error. Catch a range base class (TokenValidationException,
    /// ConfigurationException, NetworkException, OAuthProtocolException, ...) or a specific one.
    public class OidcException : Exception
    {
        private readonly OidcErrorInfo info;

        /// An error raised by the binding itself (Code -1, Name "BINDING"), not by liboidc.
        public OidcException(string message) : this(new OidcErrorInfo { Code = -1, Name = "BINDING", Message = message }) { }

        internal OidcException(OidcErrorInfo info) : base(info.Message)
        {
            this.info = info;
        }

        /// Everything liboidc said about the failure.
        public OidcErrorInfo Info { get { return info; } }
        /// liboidc's result code (<c>oidc_result</c>; -1 for errors of the binding itself).
        public int Code { get { return info.Code; } }
        /// <see cref="Code"/> as the <see cref="OidcResult"/> enum.
        public OidcResult Result { get { return (OidcResult)info.Code; } }
        /// The result code's stable name, e.g. "TOKEN_EXPIRED".
        public string Name { get { return info.Name; } }
        /// The HTTP status a resource server should answer (401, 403, 503, ...), 0 when none applies.
        public int HttpStatus { get { return info.HttpStatus; } }
        /// The ready RFC 6750 <c>WWW-Authenticate</c> header value for a rejected token, or null.
        public string WwwAuthenticate { get { return info.WwwAuthenticate; } }
        /// The OAuth error code (<c>invalid_token</c>, or the identity provider's <c>error</c> when the failure is its answer), or null.
        public string OAuthError { get { return info.OAuthError; } }
        /// The identity provider's <c>error_description</c>, when the failure is its answer.
        public string OAuthErrorDescription { get { return info.OAuthErrorDescription; } }
        /// The identity provider's <c>error_uri</c>, when the failure is its answer.
        public string OAuthErrorUri { get { return info.OAuthErrorUri; } }

        /// The class, name, code, message and stack trace.
        public override string ToString()
        {
            return GetType().FullName + " (" + Name + ", " + Code + "): " + Message +
                (StackTrace != null ? Environment.NewLine + StackTrace : "");
        }

        /// Read a failed call's error object, free it, and build the exception for its code.
        /// `err` may be IntPtr.Zero (then only the code is known).
        internal static OidcException FromNative(uint rc, IntPtr err)
        {
            return FromNative(rc, err, true);
        }

        /// As <see cref="FromNative(uint, IntPtr)"/>; `owned` false for an error borrowed from a
        /// completion callback (read, never freed).
        internal static OidcException FromNative(uint rc, IntPtr err, bool owned)
        {
            var info = new OidcErrorInfo { Code = (int)rc };
            try
            {
                if (err != IntPtr.Zero)
                {
                    info.Code = (int)Native.oidc_error_code(err);
                    info.Message = Utf8.ReadNulTerminated(Native.oidc_error_message(err));
                    info.WwwAuthenticate = Utf8.ReadNulTerminated(Native.oidc_error_www_authenticate(err));
                    info.OAuthError = Utf8.ReadNulTerminated(Native.oidc_error_oauth_error(err));
                    info.HttpStatus = (int)Native.oidc_error_http_status(err);
                    info.DetailsJson = Utf8.ReadNulTerminated(Native.oidc_error_details_json(err));
                    // The identity provider's OAuth error, when the failure is its answer.
                    string serverError = Utf8.ReadNulTerminated(Native.oidc_error_server_error(err, (uint)OAuthField.Error));
                    if (serverError != null)
                    {
                        info.OAuthError = serverError;
                        info.OAuthErrorDescription = Utf8.ReadNulTerminated(Native.oidc_error_server_error(err, (uint)OAuthField.ErrorDescription));
                        info.OAuthErrorUri = Utf8.ReadNulTerminated(Native.oidc_error_server_error(err, (uint)OAuthField.ErrorUri));
                    }
                }
            }
            finally
            {
                if (owned && err != IntPtr.Zero) Native.oidc_error_free(err);
            }
            // The server's HTTP status of its error response is in the details ("status").
            if (info.DetailsJson != null && info.DetailsJson.IndexOf("\"status\":", StringComparison.Ordinal) >= 0)
            {
                try
                {
                    var d = Json.Parse(info.DetailsJson) as Dictionary<string, object>;
                    object v;
                    if (d != null && d.TryGetValue("status", out v) && v is long) info.OAuthStatus = (int)(long)v;
                }
                catch (FormatException) { /* details are optional; the scalars above suffice */ }
            }
            if (string.IsNullOrEmpty(info.Message)) info.Message = Utf8.ReadNulTerminated(Native.oidc_result_str((uint)info.Code));
            return Create(info);
        }

        internal static OidcException Create(OidcErrorInfo info)
        {
            ResultTable.Entry e;
            if (ResultTable.ByCode.TryGetValue(info.Code, out e))
            {
                if (info.Name == null) info.Name = e.Name;
                return e.Factory(info);
            }
            // A code newer than this binding: keep it, and use the base class of its range.
            if (info.Name == null) info.Name = info.Code >= 0 ? Library.ResultName(info.Code) ?? ("CODE_" + info.Code) : "BINDING";
            return ResultTable.ForRange(info);
        }

        internal static void Check(uint rc, IntPtr err)
        {
            if (rc != 0) throw FromNative(rc, err);
        }
    }

    /// liboidc is missing or of an incompatible version (raised by the binding; Code -1).
    public sealed class OidcLibraryException : OidcException
    {
        /// liboidc is missing or incompatible: <paramref name="message"/> says what was found and how to install the right one.
        public OidcLibraryException(string message)
            : base(new OidcErrorInfo { Code = -1, Name = "LIBRARY_UNAVAILABLE", Message = message }) { }
    }

    // ---- 1-99: API misuse (1-6: a bug in the caller or the binding) and call control (7-9) ----
    /// Base of the API-misuse and call-control errors (codes 1-99): a bug in the caller or the binding
    /// (1-6), a full worker queue, a deadline or a cancellation (7-9).
    public class ApiMisuseException : OidcException { internal ApiMisuseException(OidcErrorInfo i) : base(i) { } }
    /// A required pointer argument was NULL. (<c>OIDC_RESULT_NULL_PARAMETER</c>, code 1)
    public sealed class NullParameterException : ApiMisuseException { internal NullParameterException(OidcErrorInfo i) : base(i) { } }
    /// A string argument was not valid UTF-8. (<c>OIDC_RESULT_INVALID_UTF8</c>, code 2)
    public sealed class InvalidUtf8Exception : ApiMisuseException { internal InvalidUtf8Exception(OidcErrorInfo i) : base(i) { } }
    /// An argument was out of range or unusable. (<c>OIDC_RESULT_INVALID_ARGUMENT</c>, code 3)
    public sealed class InvalidArgumentException : ApiMisuseException { internal InvalidArgumentException(OidcErrorInfo i) : base(i) { } }
    /// A panic was caught inside liboidc (a bug): dispose the client it happened on.
    public sealed class PanicException : ApiMisuseException { internal PanicException(OidcErrorInfo i) : base(i) { } }
    /// An output could not be produced (e.g. a NUL byte inside a string). (<c>OIDC_RESULT_INTERNAL</c>,
    /// code 6)
    public sealed class InternalErrorException : ApiMisuseException { internal InternalErrorException(OidcErrorInfo i) : base(i) { } }
    /// The worker queue of liboidc's non-blocking API is full (nothing was started; retry later).
    public sealed class QueueFullException : ApiMisuseException { internal QueueFullException(OidcErrorInfo i) : base(i) { } }
    /// The call's deadline passed (a polling deadline or a cancel handle's timeout). Code 8 (508 before ABI 0.2).
    public sealed class DeadlineExceededException : ApiMisuseException { internal DeadlineExceededException(OidcErrorInfo i) : base(i) { } }
    /// The call was cancelled. Code 9 (509 before ABI 0.2).
    public sealed class OidcCancelledException : ApiMisuseException { internal OidcCancelledException(OidcErrorInfo i) : base(i) { } }

    // ---- 100s: configuration and discovery -----------------------------------------------------
    /// Base of the configuration and discovery errors (codes 100-199): reported when a client is built or
    /// first fetches the issuer's metadata; fix the configuration or the issuer.
    public class ConfigurationException : OidcException { internal ConfigurationException(OidcErrorInfo i) : base(i) { } }
    /// The client configuration is invalid (empty issuer, no audience, bad bound, ...).
    /// (<c>OIDC_RESULT_INVALID_CONFIG</c>, code 100)
    public sealed class InvalidConfigException : ConfigurationException { internal InvalidConfigException(OidcErrorInfo i) : base(i) { } }
    /// A URL is not https (or loopback http without the opt-in). (<c>OIDC_RESULT_INSECURE_URL</c>, code
    /// 101)
    public sealed class InsecureUrlException : ConfigurationException { internal InsecureUrlException(OidcErrorInfo i) : base(i) { } }
    /// The CA file (per-client or from SSL_CERT_FILE / CURL_CA_BUNDLE / REQUESTS_CA_BUNDLE) is unusable.
    /// (<c>OIDC_RESULT_CA_FILE</c>, code 102)
    public sealed class CaFileException : ConfigurationException { internal CaFileException(OidcErrorInfo i) : base(i) { } }
    /// An algorithm name is unknown or forbidden (none, HMAC). (<c>OIDC_RESULT_UNSUPPORTED_ALGORITHM</c>,
    /// code 103)
    public sealed class UnsupportedAlgorithmException : ConfigurationException { internal UnsupportedAlgorithmException(OidcErrorInfo i) : base(i) { } }
    /// The mTLS client certificate or key is unusable (not PEM, or the key does not match).
    public sealed class ClientCertException : ConfigurationException { internal ClientCertException(OidcErrorInfo i) : base(i) { } }
    /// The issuer's metadata or key set is unusable (110-112).
    public class DiscoveryException : ConfigurationException { internal DiscoveryException(OidcErrorInfo i) : base(i) { } }
    /// The discovery document is invalid (no `jwks_uri`, a non-https endpoint, ...).
    /// (<c>OIDC_RESULT_DISCOVERY_INVALID</c>, code 110)
    public sealed class DiscoveryInvalidException : DiscoveryException { internal DiscoveryInvalidException(OidcErrorInfo i) : base(i) { } }
    /// The discovery document names another issuer. (<c>OIDC_RESULT_DISCOVERY_ISSUER_MISMATCH</c>, code
    /// 111)
    public sealed class DiscoveryIssuerMismatchException : DiscoveryException { internal DiscoveryIssuerMismatchException(OidcErrorInfo i) : base(i) { } }
    /// The JWKS document is invalid. (<c>OIDC_RESULT_JWKS_INVALID</c>, code 112)
    public sealed class JwksInvalidException : DiscoveryException { internal JwksInvalidException(OidcErrorInfo i) : base(i) { } }

    // ---- 200s: network and HTTP ----------------------------------------------------------------
    /// Base of the network and HTTP errors (codes 200-299): the issuer could not be reached or answered
    /// unusably; usually transient (a resource server answers 503).
    public class NetworkException : OidcException { internal NetworkException(OidcErrorInfo i) : base(i) { } }
    /// Connection failed, DNS failure, reset or another transport error. (<c>OIDC_RESULT_NETWORK</c>, code
    /// 200)
    public sealed class ConnectionException : NetworkException { internal ConnectionException(OidcErrorInfo i) : base(i) { } }
    /// Named so as not to clash with System.TimeoutException.
    public sealed class NetworkTimeoutException : NetworkException { internal NetworkTimeoutException(OidcErrorInfo i) : base(i) { } }
    /// The TLS handshake failed (e.g. an untrusted certificate). (<c>OIDC_RESULT_TLS</c>, code 202)
    public sealed class TlsException : NetworkException { internal TlsException(OidcErrorInfo i) : base(i) { } }
    /// Unexpected HTTP status. (<c>OIDC_RESULT_HTTP_STATUS</c>, code 203)
    public sealed class HttpStatusException : NetworkException { internal HttpStatusException(OidcErrorInfo i) : base(i) { } }
    /// The response body exceeded its bound. (<c>OIDC_RESULT_RESPONSE_TOO_LARGE</c>, code 204)
    public sealed class ResponseTooLargeException : NetworkException { internal ResponseTooLargeException(OidcErrorInfo i) : base(i) { } }
    /// The response was malformed, truncated or of the wrong content type.
    /// (<c>OIDC_RESULT_RESPONSE_INVALID</c>, code 205)
    public sealed class ResponseInvalidException : NetworkException { internal ResponseInvalidException(OidcErrorInfo i) : base(i) { } }
    /// A redirect was refused. (<c>OIDC_RESULT_REDIRECT_REJECTED</c>, code 206)
    public sealed class RedirectRejectedException : NetworkException { internal RedirectRejectedException(OidcErrorInfo i) : base(i) { } }
    /// An unknown kid could not be checked because the key refresh failed (IdP outage): answer 503, retry later.
    public sealed class KeysUnavailableException : NetworkException { internal KeysUnavailableException(OidcErrorInfo i) : base(i) { } }
    /// The HTTP proxy refused the tunnel (407/401, 403) or could not be reached (named without credentials).
    public sealed class ProxyException : NetworkException { internal ProxyException(OidcErrorInfo i) : base(i) { } }
    /// The issuer's revocation list is unavailable past its grace period (fail-closed policy): 503,
    /// retry later. (<c>OIDC_RESULT_REVOCATION_UNAVAILABLE</c>, code 209)
    public sealed class RevocationUnavailableException : NetworkException { internal RevocationUnavailableException(OidcErrorInfo i) : base(i) { } }

    // ---- 300s: token validation (a resource server answers 401 invalid_token) ------------------
    /// Base of the token validation errors (codes 300-319): the token is rejected; a resource server
    /// answers 401 with <see cref="OidcException.WwwAuthenticate"/>.
    public class TokenValidationException : OidcException { internal TokenValidationException(OidcErrorInfo i) : base(i) { } }
    /// The token is not a well-formed compact JWS. (<c>OIDC_RESULT_TOKEN_MALFORMED</c>, code 300)
    public sealed class TokenMalformedException : TokenValidationException { internal TokenMalformedException(OidcErrorInfo i) : base(i) { } }
    /// The token exceeds the maximum size. (<c>OIDC_RESULT_TOKEN_TOO_LARGE</c>, code 301)
    public sealed class TokenTooLargeException : TokenValidationException { internal TokenTooLargeException(OidcErrorInfo i) : base(i) { } }
    /// The token's algorithm is not allowed (or none/HMAC, or does not fit the key).
    /// (<c>OIDC_RESULT_ALGORITHM_NOT_ALLOWED</c>, code 302)
    public sealed class AlgorithmNotAllowedException : TokenValidationException { internal AlgorithmNotAllowedException(OidcErrorInfo i) : base(i) { } }
    /// No key matches the token's kid/alg, even after a refresh (or within the refresh cooldown).
    /// (<c>OIDC_RESULT_UNKNOWN_KEY</c>, code 303)
    public sealed class UnknownKeyException : TokenValidationException { internal UnknownKeyException(OidcErrorInfo i) : base(i) { } }
    /// The signature does not verify. (<c>OIDC_RESULT_SIGNATURE_INVALID</c>, code 304)
    public sealed class SignatureInvalidException : TokenValidationException { internal SignatureInvalidException(OidcErrorInfo i) : base(i) { } }
    /// The token expired (`exp` passed, beyond leeway). (<c>OIDC_RESULT_TOKEN_EXPIRED</c>, code 305)
    public sealed class TokenExpiredException : TokenValidationException { internal TokenExpiredException(OidcErrorInfo i) : base(i) { } }
    /// The token is not yet valid (nbf). (<c>OIDC_RESULT_TOKEN_NOT_YET_VALID</c>, code 306)
    public sealed class TokenNotYetValidException : TokenValidationException { internal TokenNotYetValidException(OidcErrorInfo i) : base(i) { } }
    /// The token was issued in the future (iat). (<c>OIDC_RESULT_TOKEN_ISSUED_IN_FUTURE</c>, code 307)
    public sealed class TokenIssuedInFutureException : TokenValidationException { internal TokenIssuedInFutureException(OidcErrorInfo i) : base(i) { } }
    /// The token's issuer is not the configured one. (<c>OIDC_RESULT_ISSUER_MISMATCH</c>, code 308)
    public sealed class IssuerMismatchException : TokenValidationException { internal IssuerMismatchException(OidcErrorInfo i) : base(i) { } }
    /// No token audience matches. (<c>OIDC_RESULT_AUDIENCE_MISMATCH</c>, code 309)
    public sealed class AudienceMismatchException : TokenValidationException { internal AudienceMismatchException(OidcErrorInfo i) : base(i) { } }
    /// A required claim is missing or null. (<c>OIDC_RESULT_MISSING_CLAIM</c>, code 310)
    public sealed class MissingClaimException : TokenValidationException { internal MissingClaimException(OidcErrorInfo i) : base(i) { } }
    /// A registered claim has the wrong type. (<c>OIDC_RESULT_INVALID_CLAIM</c>, code 311)
    public sealed class InvalidClaimException : TokenValidationException { internal InvalidClaimException(OidcErrorInfo i) : base(i) { } }
    /// The token's typ header is not the expected one. (<c>OIDC_RESULT_TYPE_MISMATCH</c>, code 312)
    public sealed class TypeMismatchException : TokenValidationException { internal TypeMismatchException(OidcErrorInfo i) : base(i) { } }
    /// The token's crit header names an unsupported extension. (<c>OIDC_RESULT_CRIT_UNSUPPORTED</c>, code
    /// 313)
    public sealed class CritUnsupportedException : TokenValidationException { internal CritUnsupportedException(OidcErrorInfo i) : base(i) { } }
    /// The key named by the token is published but unusable (weak RSA, bad point, ...).
    /// (<c>OIDC_RESULT_KEY_REJECTED</c>, code 314)
    public sealed class KeyRejectedException : TokenValidationException { internal KeyRejectedException(OidcErrorInfo i) : base(i) { } }
    /// An encrypted token or response (JWE) could not be decrypted (one code for every failure).
    /// (<c>OIDC_RESULT_DECRYPTION_FAILED</c>, code 315)
    public sealed class DecryptionFailedException : TokenValidationException { internal DecryptionFailedException(OidcErrorInfo i) : base(i) { } }
    /// The token's jti or its signing key's kid is on the issuer's revocation list.
    /// (<c>OIDC_RESULT_REVOKED</c>, code 316)
    public sealed class RevokedException : TokenValidationException { internal RevokedException(OidcErrorInfo i) : base(i) { } }
    /// A one-time token (a back-channel logout token) was presented before.
    /// (<c>OIDC_RESULT_TOKEN_REPLAYED</c>, code 317)
    public sealed class TokenReplayedException : TokenValidationException { internal TokenReplayedException(OidcErrorInfo i) : base(i) { } }
    // 320-339: request authentication. OidcClient.Authenticate reports them as a Decision's Code;
    // Decision.ToException() builds these when a caller prefers an exception.
    /// The request's credentials are malformed (several Authorization headers, a bad b64token): 400 invalid_request.
    public sealed class RequestMalformedException : TokenValidationException { internal RequestMalformedException(OidcErrorInfo i) : base(i) { } }
    /// No access token in an accepted scheme: 401 with a bare challenge.
    public sealed class TokenMissingException : TokenValidationException { internal TokenMissingException(OidcErrorInfo i) : base(i) { } }
    /// The DPoP proof is absent, malformed, badly signed or breaks a header/claim rule.
    public sealed class DpopProofInvalidException : TokenValidationException { internal DpopProofInvalidException(OidcErrorInfo i) : base(i) { } }
    /// The DPoP proof's htm, htu or ath does not match the request.
    public sealed class DpopProofMismatchException : TokenValidationException { internal DpopProofMismatchException(OidcErrorInfo i) : base(i) { } }
    /// The DPoP proof's iat is outside the accepted window.
    public sealed class DpopProofStaleException : TokenValidationException { internal DpopProofStaleException(OidcErrorInfo i) : base(i) { } }
    /// The DPoP proof's jti was used before.
    public sealed class DpopReplayException : TokenValidationException { internal DpopReplayException(OidcErrorInfo i) : base(i) { } }
    /// A fresh server nonce is required in the DPoP proof (use_dpop_nonce; send the decision's DPoP-Nonce).
    public sealed class DpopNonceRequiredException : TokenValidationException { internal DpopNonceRequiredException(OidcErrorInfo i) : base(i) { } }
    /// The token's cnf binding does not match the proof key or certificate, or a bound token used the wrong scheme.
    public sealed class TokenBindingMismatchException : TokenValidationException { internal TokenBindingMismatchException(OidcErrorInfo i) : base(i) { } }
    /// A claim-value rule of the resource is not met (403).
    public sealed class ClaimNotAllowedException : TokenValidationException { internal ClaimNotAllowedException(OidcErrorInfo i) : base(i) { } }
    /// The shared DPoP replay store could not answer (503).
    public sealed class ReplayStoreUnavailableException : TokenValidationException { internal ReplayStoreUnavailableException(OidcErrorInfo i) : base(i) { } }

    // ---- 400s: OAuth error responses (OAuthError/OAuthErrorDescription hold the server's words) --
    /// Base of the OAuth error responses (codes 400-499): the authorization server answered with an OAuth
    /// error (<see cref="OidcException.OAuthError"/>).
    public class OAuthProtocolException : OidcException { internal OAuthProtocolException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `invalid_request`. (<c>OIDC_RESULT_INVALID_REQUEST</c>, code 401)
    public sealed class InvalidRequestException : OAuthProtocolException { internal InvalidRequestException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `invalid_client`. (<c>OIDC_RESULT_INVALID_CLIENT</c>, code 402)
    public sealed class InvalidClientException : OAuthProtocolException { internal InvalidClientException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `invalid_grant`. (<c>OIDC_RESULT_INVALID_GRANT</c>, code 403)
    public sealed class InvalidGrantException : OAuthProtocolException { internal InvalidGrantException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `unauthorized_client`. (<c>OIDC_RESULT_UNAUTHORIZED_CLIENT</c>, code 404)
    public sealed class UnauthorizedClientException : OAuthProtocolException { internal UnauthorizedClientException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `unsupported_grant_type`. (<c>OIDC_RESULT_UNSUPPORTED_GRANT_TYPE</c>, code 405)
    public sealed class UnsupportedGrantTypeException : OAuthProtocolException { internal UnsupportedGrantTypeException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `invalid_scope`. (<c>OIDC_RESULT_INVALID_SCOPE</c>, code 406)
    public sealed class InvalidScopeException : OAuthProtocolException { internal InvalidScopeException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `authorization_pending` (device flow, CIBA). (<c>OIDC_RESULT_AUTHORIZATION_PENDING</c>, code
    /// 407)
    public sealed class AuthorizationPendingException : OAuthProtocolException { internal AuthorizationPendingException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `slow_down` (device flow, CIBA). (<c>OIDC_RESULT_SLOW_DOWN</c>, code 408)
    public sealed class SlowDownException : OAuthProtocolException { internal SlowDownException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `access_denied`. (<c>OIDC_RESULT_ACCESS_DENIED</c>, code 409)
    public sealed class AccessDeniedException : OAuthProtocolException { internal AccessDeniedException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `expired_token` (a device code expired); not to be confused with TokenExpiredException.
    public sealed class ExpiredTokenException : OAuthProtocolException { internal ExpiredTokenException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `invalid_target` (RFC 8707). (<c>OIDC_RESULT_INVALID_TARGET</c>, code 411)
    public sealed class InvalidTargetException : OAuthProtocolException { internal InvalidTargetException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `use_dpop_nonce` (RFC 9449). (<c>OIDC_RESULT_USE_DPOP_NONCE</c>, code 412)
    public sealed class UseDpopNonceException : OAuthProtocolException { internal UseDpopNonceException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `invalid_dpop_proof` (RFC 9449). (<c>OIDC_RESULT_INVALID_DPOP_PROOF</c>, code 413)
    public sealed class InvalidDpopProofException : OAuthProtocolException { internal InvalidDpopProofException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `unsupported_token_type` (RFC 7009). (<c>OIDC_RESULT_UNSUPPORTED_TOKEN_TYPE</c>, code 414)
    public sealed class UnsupportedTokenTypeException : OAuthProtocolException { internal UnsupportedTokenTypeException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `invalid_client_metadata` (RFC 7591). (<c>OIDC_RESULT_INVALID_CLIENT_METADATA</c>, code 415)
    public sealed class InvalidClientMetadataException : OAuthProtocolException { internal InvalidClientMetadataException(OidcErrorInfo i) : base(i) { } }
    /// OAuth `invalid_redirect_uri` (RFC 7591). (<c>OIDC_RESULT_INVALID_REDIRECT_URI</c>, code 416)
    public sealed class InvalidRedirectUriException : OAuthProtocolException { internal InvalidRedirectUriException(OidcErrorInfo i) : base(i) { } }
    /// RFC 6750 `invalid_token` from a protected resource. (<c>OIDC_RESULT_INVALID_TOKEN</c>, code 417)
    public sealed class InvalidTokenException : OAuthProtocolException { internal InvalidTokenException(OidcErrorInfo i) : base(i) { } }
    /// RFC 6750 `insufficient_scope` from a protected resource. (<c>OIDC_RESULT_INSUFFICIENT_SCOPE</c>,
    /// code 418)
    public sealed class InsufficientScopeException : OAuthProtocolException { internal InsufficientScopeException(OidcErrorInfo i) : base(i) { } }

    // ---- 500s: checks on protocol responses ------------------------------------------------------
    /// Base of the protocol checks on responses (codes 500-599): a server response failed a check (missing
    /// member, state, nonce, hashes, azp, auth_time, sub, iss).
    public class ResponseCheckException : OidcException { internal ResponseCheckException(OidcErrorInfo i) : base(i) { } }
    /// A response lacks a required member or has one of the wrong type.
    /// (<c>OIDC_RESULT_RESPONSE_MISSING_FIELD</c>, code 500)
    public sealed class ResponseMissingFieldException : ResponseCheckException { internal ResponseMissingFieldException(OidcErrorInfo i) : base(i) { } }
    /// Authorization response `state` mismatch. (<c>OIDC_RESULT_STATE_MISMATCH</c>, code 501)
    public sealed class StateMismatchException : ResponseCheckException { internal StateMismatchException(OidcErrorInfo i) : base(i) { } }
    /// ID token `nonce` mismatch. (<c>OIDC_RESULT_NONCE_MISMATCH</c>, code 502)
    public sealed class NonceMismatchException : ResponseCheckException { internal NonceMismatchException(OidcErrorInfo i) : base(i) { } }
    /// `at_hash` or `c_hash` mismatch. (<c>OIDC_RESULT_HASH_MISMATCH</c>, code 503)
    public sealed class HashMismatchException : ResponseCheckException { internal HashMismatchException(OidcErrorInfo i) : base(i) { } }
    /// `azp` missing or not this client. (<c>OIDC_RESULT_AZP_MISMATCH</c>, code 504)
    public sealed class AzpMismatchException : ResponseCheckException { internal AzpMismatchException(OidcErrorInfo i) : base(i) { } }
    /// `auth_time` missing or older than `max_age`. (<c>OIDC_RESULT_AUTH_TIME_INVALID</c>, code 505)
    public sealed class AuthTimeInvalidException : ResponseCheckException { internal AuthTimeInvalidException(OidcErrorInfo i) : base(i) { } }
    /// userinfo `sub` differs from the ID token's. (<c>OIDC_RESULT_SUBJECT_MISMATCH</c>, code 506)
    public sealed class SubjectMismatchException : ResponseCheckException { internal SubjectMismatchException(OidcErrorInfo i) : base(i) { } }
    /// Authorization response `iss` missing or wrong (RFC 9207).
    /// (<c>OIDC_RESULT_RESPONSE_ISSUER_MISMATCH</c>, code 507)
    public sealed class ResponseIssuerMismatchException : ResponseCheckException { internal ResponseIssuerMismatchException(OidcErrorInfo i) : base(i) { } }

    /// The single code -> (name, exception) table.
    internal static partial class ResultTable
    {
        internal sealed class Entry
        {
            internal readonly int Code;
            internal readonly string Name;
            internal readonly Func<OidcErrorInfo, OidcException> Factory;
            internal Entry(OidcResult code, string name, Func<OidcErrorInfo, OidcException> factory)
            {
                Code = (int)code; Name = name; Factory = factory;
            }
        }

        // Entries and ByCode (code -> name and exception type) are generated: ResultCodes.cs.

        private static Dictionary<int, Entry> Index()
        {
            var d = new Dictionary<int, Entry>();
            foreach (var e in Entries) d.Add(e.Code, e); // Add: a duplicate code fails at type init
            return d;
        }

        /// The range base class for a code this binding does not know yet.
        internal static OidcException ForRange(OidcErrorInfo i)
        {
            int c = i.Code;
            if (c >= 1 && c < 100) return new ApiMisuseException(i);
            if (c >= 100 && c < 200) return new ConfigurationException(i);
            if (c >= 200 && c < 300) return new NetworkException(i);
            if (c >= 300 && c < 400) return new TokenValidationException(i);
            if (c >= 400 && c < 500) return new OAuthProtocolException(i);
            if (c >= 500 && c < 600) return new ResponseCheckException(i);
            return new OidcException(i);
        }
    }
}
