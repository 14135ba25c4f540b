// The front channel: authorization URL (with PKCE, JAR, PAR), pushed authorization requests
// (RFC 9126) and the checks on the authorization response (state, RFC 9207 iss, JARM, errors).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// What to put in an authorization request. Every member is optional; liboidc generates
    /// `state` and `nonce` (32 random bytes) when they are not given and refuses unknown members.
    public sealed class AuthorizationRequest
    {
        public string RedirectUri { get; set; }
        /// Space-separated scopes, e.g. "openid email".
        public string Scope { get; set; }
        public string State { get; set; }
        public string Nonce { get; set; }
        /// PKCE S256 challenge (<see cref="Pkce.Generate"/>).
        public string CodeChallenge { get; set; }
        /// Default "code".
        public string ResponseType { get; set; }
        /// e.g. "jwt" for JARM.
        public string ResponseMode { get; set; }
        public TimeSpan? MaxAge { get; set; }
        /// Further parameters (`prompt`, `resource`, `login_hint`, ...): each a string or a list of strings.
        public IDictionary<string, object> Parameters { get; set; }
        /// An already signed request object (RFC 9101).
        public string Request { get; set; }
        /// A request_uri from <see cref="OAuthClient.PushAuthorizationRequest"/>: the URL then has only client_id and request_uri.
        public string RequestUri { get; set; }

        internal string ToJson()
        {
            var o = new Dictionary<string, object>();
            if (RedirectUri != null) o["redirect_uri"] = RedirectUri;
            if (Scope != null) o["scope"] = Scope;
            if (State != null) o["state"] = State;
            if (Nonce != null) o["nonce"] = Nonce;
            if (CodeChallenge != null) o["code_challenge"] = CodeChallenge;
            if (ResponseType != null) o["response_type"] = ResponseType;
            if (ResponseMode != null) o["response_mode"] = ResponseMode;
            if (MaxAge.HasValue) o["max_age"] = (long)MaxAge.Value.TotalSeconds;
            if (Parameters != null) o["params"] = Parameters;
            if (Request != null) o["request"] = Request;
            if (RequestUri != null) o["request_uri"] = RequestUri;
            return Json.Write(o);
        }
    }

    /// An authorization URL and the state/nonce that went into it (keep both for the response).
    public sealed class AuthorizationUrl
    {
        internal AuthorizationUrl(Claims c) { Url = c.GetString("url"); State = c.GetString("state"); Nonce = c.GetString("nonce"); }
        public string Url { get; private set; }
        /// null when unknown (a request object or request_uri carries it).
        public string State { get; private set; }
        public string Nonce { get; private set; }
        public override string ToString() { return Url; }
    }

    /// The answer to a pushed authorization request.
    public sealed class PushedAuthorizationRequest
    {
        internal PushedAuthorizationRequest(Claims c)
        {
            RequestUri = c.GetString("request_uri");
            object e;
            if (c.TryGetValue("expires_in", out e) && e is long) ExpiresIn = TimeSpan.FromSeconds((long)e);
            State = c.GetString("state");
            Nonce = c.GetString("nonce");
        }
        public string RequestUri { get; private set; }
        public TimeSpan? ExpiresIn { get; private set; }
        public string State { get; private set; }
        public string Nonce { get; private set; }
        public override string ToString() { return "PushedAuthorizationRequest(" + RequestUri + ")"; }
    }

    /// A checked authorization response. ToString never prints the code.
    public sealed class AuthorizationResponse
    {
        internal AuthorizationResponse(Claims c)
        {
            Code = c.GetString("code");
            State = c.GetString("state");
            Issuer = c.GetString("iss");
            object v;
            Jarm = c.TryGetValue("jarm", out v) && v is bool && (bool)v;
            var p = new Dictionary<string, string>();
            if (c.TryGetValue("params", out v) && v is Dictionary<string, object>)
                foreach (var kv in (Dictionary<string, object>)v) p[kv.Key] = kv.Value == null ? null : Convert.ToString(kv.Value, System.Globalization.CultureInfo.InvariantCulture);
            Parameters = p;
        }
        /// The authorization code (a secret).
        public string Code { get; private set; }
        public string State { get; private set; }
        /// The RFC 9207 `iss` parameter, when present.
        public string Issuer { get; private set; }
        /// Whether the response came as a JARM JWT.
        public bool Jarm { get; private set; }
        /// Every parameter of the response (`code` included: a secret).
        public IReadOnlyDictionary<string, string> Parameters { get; private set; }
        public override string ToString()
        {
            return "AuthorizationResponse(Code=" + (Code == null ? "<none>" : "<redacted>") + ", State=" + State + ", Issuer=" + Issuer + ", Jarm=" + Jarm + ")";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Build the authorization URL (blocks only for discovery on first use).
        public AuthorizationUrl AuthorizationUrl(AuthorizationRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            byte[] r = Utf8.StrictBytes(request.ToJson());
            IntPtr json, err;
            UIntPtr len;
            uint rc = NativeEndpoints.oidc_oauth_authorization_url(Handle, r, (UIntPtr)r.Length, out json, out len, out err);
            return new AuthorizationUrl(new Claims(TakeString(rc, json, len, err)));
        }

        /// Push the request (RFC 9126) with this client's authentication; use the returned
        /// RequestUri in <see cref="AuthorizationUrl"/>.
        public PushedAuthorizationRequest PushAuthorizationRequest(AuthorizationRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            byte[] r = Utf8.StrictBytes(request.ToJson());
            IntPtr json, err;
            UIntPtr len;
            uint rc = NativeEndpoints.oidc_oauth_push_authorization_request(Handle, r, (UIntPtr)r.Length, out json, out len, out err);
            return new PushedAuthorizationRequest(new Claims(TakeString(rc, json, len, err)));
        }

        /// <see cref="AuthorizationUrl"/> without blocking the caller on a first discovery.
        public Task<AuthorizationUrl> AuthorizationUrlAsync(AuthorizationRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (request == null) throw new ArgumentNullException("request");
            byte[] r = Utf8.StrictBytes(request.ToJson());
            OAuthClientHandle h = Handle;
            return AsyncBridge.Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) =>
                    NativeAsync.oidc_oauth_authorization_url_async(h, r, (UIntPtr)r.Length, cb, ud, c, out e),
                o => new AuthorizationUrl(new Claims(o.Text)), cancellationToken);
        }

        /// <see cref="PushAuthorizationRequest"/> without blocking the caller (liboidc's worker pool).
        public Task<PushedAuthorizationRequest> PushAuthorizationRequestAsync(AuthorizationRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (request == null) throw new ArgumentNullException("request");
            byte[] r = Utf8.StrictBytes(request.ToJson());
            OAuthClientHandle h = Handle;
            return AsyncBridge.Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) =>
                    NativeAsync.oidc_oauth_push_authorization_request_async(h, r, (UIntPtr)r.Length, cb, ud, c, out e),
                o => new PushedAuthorizationRequest(new Claims(o.Text)), cancellationToken);
        }

        /// Check the response that reached the redirect URI (the full URL, or its query or
        /// fragment): state (<see cref="StateMismatchException"/>), RFC 9207 iss
        /// (<see cref="ResponseIssuerMismatchException"/>), JARM; an error response throws its
        /// OAuth exception (<see cref="AccessDeniedException"/>, ...).
        public AuthorizationResponse ParseAuthorizationResponse(string response, string expectedState)
        {
            byte[] r = Required(response, "response"), s = Optional(expectedState);
            IntPtr json, err;
            UIntPtr len;
            uint rc = NativeEndpoints.oidc_oauth_parse_authorization_response(Handle, r, (UIntPtr)r.Length, s, (UIntPtr)s.Length, out json, out len, out err);
            return new AuthorizationResponse(new Claims(TakeString(rc, json, len, err)));
        }

        /// <see cref="ParseAuthorizationResponse"/> without blocking the caller (a JARM response
        /// may need the issuer's keys).
        public Task<AuthorizationResponse> ParseAuthorizationResponseAsync(string response, string expectedState,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] r = Required(response, "response"), s = Optional(expectedState);
            OAuthClientHandle h = Handle;
            return AsyncBridge.Json((Native.ValidateCb cb, IntPtr ud, IntPtr c, out IntPtr e) =>
                    NativeAsync.oidc_oauth_parse_authorization_response_async(h, r, (UIntPtr)r.Length, s, (UIntPtr)s.Length, cb, ud, c, out e),
                o => new AuthorizationResponse(new Claims(o.Text)), cancellationToken);
        }
    }
}
