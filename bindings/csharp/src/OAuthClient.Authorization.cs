// The front channel: authorization URL (with PKCE, JAR, PAR), pushed authorization requests
// (RFC 9126) and the checks on the authorization response (state, RFC 9207 iss, JARM, errors).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// What to put in an authorization request (OAuthOperation.AuthorizationUrl or
    /// PushedAuthorization). Every member is optional: liboidc generates `state`, `nonce` and the
    /// PKCE verifier/challenge when they are not given (they come back in
    /// <see cref="AuthorizationUrl"/> / <see cref="PushedAuthorizationRequest"/>).
    public sealed class AuthorizationRequest
    {
        /// The <c>redirect_uri</c> registered for this client.
        public string RedirectUri { get; set; }
        /// Scopes, one per item, e.g. { "openid", "email" }.
        public IEnumerable<string> Scopes { get; set; }
        /// The <c>state</c> to send; generated when null.
        public string State { get; set; }
        /// The <c>nonce</c> to send; generated when null.
        public string Nonce { get; set; }
        /// Your own PKCE S256 challenge (else liboidc makes a verifier and its challenge).
        public string CodeChallenge { get; set; }
        /// Default "code".
        public string ResponseType { get; set; }
        /// e.g. "jwt" for JARM.
        public string ResponseMode { get; set; }
        /// The <c>max_age</c> to send (checked against <c>auth_time</c> in the ID token).
        public TimeSpan? MaxAge { get; set; }
        /// RFC 8707 resource indicators.
        public IEnumerable<string> Resources { get; set; }
        /// The <c>login_hint</c> to send.
        public string LoginHint { get; set; }
        /// Further parameters (`prompt`, ...), by name; a name may repeat.
        public IEnumerable<KeyValuePair<string, string>> Parameters { get; set; }
        /// An already signed request object (RFC 9101).
        public string Request { get; set; }
        /// A request_uri from <see cref="OAuthClient.PushAuthorizationRequest"/>: the URL then has only client_id and request_uri.
        public string RequestUri { get; set; }

        /// Set these parameters on <paramref name="r"/> (the ones given; liboidc refuses those
        /// its operation does not take).
        public void ApplyTo(OAuthRequest r)
        {
            if (r == null) throw new ArgumentNullException("r");
            r.SetOptional(OAuthParam.RedirectUri, RedirectUri).Add(OAuthParam.Scope, Scopes)
                .SetOptional(OAuthParam.State, State).SetOptional(OAuthParam.Nonce, Nonce)
                .SetOptional(OAuthParam.CodeChallenge, CodeChallenge).SetOptional(OAuthParam.ResponseType, ResponseType)
                .SetOptional(OAuthParam.ResponseMode, ResponseMode).Add(OAuthParam.Resource, Resources)
                .SetOptional(OAuthParam.LoginHint, LoginHint).SetOptional(OAuthParam.RequestObject, Request)
                .SetOptional(OAuthParam.RequestUri, RequestUri).AddParameters(Parameters);
            if (MaxAge.HasValue) r.Set(OAuthParam.MaxAge, (long)MaxAge.Value.TotalSeconds);
        }
    }

    /// An authorization URL and what went into it: keep State, Nonce and CodeVerifier for the
    /// response and the code exchange. ToString prints the URL only.
    public sealed class AuthorizationUrl
    {
        internal AuthorizationUrl(OAuthResponse r)
        {
            Url = r.GetString(OAuthField.Url);
            State = r.GetString(OAuthField.State);
            Nonce = r.GetString(OAuthField.Nonce);
            CodeVerifier = r.GetString(OAuthField.CodeVerifier);
            CodeChallenge = r.GetString(OAuthField.CodeChallenge);
            CodeChallengeMethod = r.Members.GetString("code_challenge_method"); // no oidc_field for it
        }
        /// The URL to redirect the user agent to.
        public string Url { get; private set; }
        /// null when unknown (a request object or request_uri carries it).
        public string State { get; private set; }
        /// The <c>nonce</c> sent: keep it for the ID token check.
        public string Nonce { get; private set; }
        /// The PKCE verifier liboidc generated (a secret: for <see cref="OAuthClient.ExchangeCode"/>
        /// only), null when you gave your own challenge.
        public string CodeVerifier { get; private set; }
        /// The PKCE <c>code_challenge</c> sent.
        public string CodeChallenge { get; private set; }
        /// The PKCE method (<c>S256</c>).
        public string CodeChallengeMethod { get; private set; }
        /// The URL.
        public override string ToString() { return Url; }
    }

    /// The answer to a pushed authorization request, with what went into it.
    public sealed class PushedAuthorizationRequest
    {
        internal PushedAuthorizationRequest(OAuthResponse r)
        {
            RequestUri = r.GetString(OAuthField.RequestUri);
            long? e = r.GetInt(OAuthField.ExpiresIn);
            if (e.HasValue) ExpiresIn = TimeSpan.FromSeconds(e.Value);
            State = r.GetString(OAuthField.State);
            Nonce = r.GetString(OAuthField.Nonce);
            CodeVerifier = r.GetString(OAuthField.CodeVerifier);
        }
        /// The <c>request_uri</c> the server returned (RFC 9126).
        public string RequestUri { get; private set; }
        /// How long the <c>request_uri</c> is valid.
        public TimeSpan? ExpiresIn { get; private set; }
        /// The <c>state</c> sent: keep it for the response check.
        public string State { get; private set; }
        /// The <c>nonce</c> sent: keep it for the ID token check.
        public string Nonce { get; private set; }
        /// The PKCE verifier liboidc generated (a secret), or null.
        public string CodeVerifier { get; private set; }
        /// The type and <c>request_uri</c>.
        public override string ToString() { return "PushedAuthorizationRequest(" + RequestUri + ")"; }
    }

    /// A checked authorization response. ToString never prints the code.
    public sealed class AuthorizationResponse
    {
        internal AuthorizationResponse(OAuthResponse r)
        {
            Code = r.GetString(OAuthField.Code);
            State = r.GetString(OAuthField.State);
            Issuer = r.GetString(OAuthField.Iss);
            // liboidc's JSON: {"code","state","iss","jarm":bool,"params":{...every parameter}}.
            Claims c = r.Members;
            object v;
            Jarm = c.TryGetValue("jarm", out v) && v is bool && (bool)v;
            var p = new Dictionary<string, string>();
            if (c.TryGetValue("params", out v) && v is Dictionary<string, object>)
                foreach (var kv in (Dictionary<string, object>)v)
                    p[kv.Key] = kv.Value == null ? null : Convert.ToString(kv.Value, System.Globalization.CultureInfo.InvariantCulture);
            Parameters = p;
        }
        /// The authorization code (a secret).
        public string Code { get; private set; }
        /// The <c>state</c> the response carried (already checked).
        public string State { get; private set; }
        /// The RFC 9207 `iss` parameter, when present.
        public string Issuer { get; private set; }
        /// Whether the response came as a JARM JWT.
        public bool Jarm { get; private set; }
        /// Every parameter of the response (`code` included: a secret).
        public IReadOnlyDictionary<string, string> Parameters { get; private set; }
        /// A description without the code.
        public override string ToString()
        {
            return "AuthorizationResponse(Code=" + (Code == null ? "<none>" : "<redacted>") + ", State=" + State + ", Issuer=" + Issuer + ", Jarm=" + Jarm + ")";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Build the authorization URL (OAuthOperation.AuthorizationUrl; blocks only for discovery
        /// on first use).
        public AuthorizationUrl AuthorizationUrl(AuthorizationRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AuthorizationRequestOf(OAuthOperation.AuthorizationUrl, request).SendOnce(r => new AuthorizationUrl(r), cancellationToken);
        }

        /// <see cref="AuthorizationUrl"/> without blocking the caller on a first discovery.
        public Task<AuthorizationUrl> AuthorizationUrlAsync(AuthorizationRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AuthorizationRequestOf(OAuthOperation.AuthorizationUrl, request).SendOnceAsync(r => new AuthorizationUrl(r), cancellationToken);
        }

        /// Push the request (RFC 9126, OAuthOperation.PushedAuthorization) with this client's
        /// authentication; use the returned RequestUri in <see cref="AuthorizationUrl"/>.
        public PushedAuthorizationRequest PushAuthorizationRequest(AuthorizationRequest request,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return AuthorizationRequestOf(OAuthOperation.PushedAuthorization, request)
                .SendOnce(r => new PushedAuthorizationRequest(r), cancellationToken);
        }

        /// <see cref="PushAuthorizationRequest"/> without blocking the caller (liboidc's worker pool).
        public Task<PushedAuthorizationRequest> PushAuthorizationRequestAsync(AuthorizationRequest request,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return AuthorizationRequestOf(OAuthOperation.PushedAuthorization, request)
                .SendOnceAsync(r => new PushedAuthorizationRequest(r), cancellationToken);
        }

        private OAuthRequest AuthorizationRequestOf(OAuthOperation op, AuthorizationRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            return Request(op, request.ApplyTo);
        }

        /// Check the response that reached the redirect URI (OAuthOperation.AuthorizationResponse:
        /// the full URL, its query or fragment, or a form body): state
        /// (<see cref="StateMismatchException"/>), RFC 9207 iss
        /// (<see cref="ResponseIssuerMismatchException"/>), JARM; an error response throws its
        /// OAuth exception (<see cref="AccessDeniedException"/>, ...).
        /// <param name="expectedState">the state sent; when none was sent, use a request with
        /// OAuthParam.NoStateSent = 1</param>
        /// <param name="response">The redirect back: its query string, fragment or form body, or the whole URL.</param>
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        /// <param name="now">check a JARM response's times as of then (OAuthParam.NowSecs; null: the clock)</param>
        public AuthorizationResponse ParseAuthorizationResponse(string response, string expectedState,
            DateTimeOffset? now = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AuthorizationResponseRequest(response, expectedState, now).SendOnce(r => new AuthorizationResponse(r), cancellationToken);
        }

        /// <see cref="ParseAuthorizationResponse"/> without blocking the caller (a JARM response
        /// may need the issuer's keys).
        public Task<AuthorizationResponse> ParseAuthorizationResponseAsync(string response, string expectedState,
            DateTimeOffset? now = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AuthorizationResponseRequest(response, expectedState, now).SendOnceAsync(r => new AuthorizationResponse(r), cancellationToken);
        }

        private OAuthRequest AuthorizationResponseRequest(string response, string expectedState, DateTimeOffset? now)
        {
            if (response == null) throw new ArgumentNullException("response");
            return Request(OAuthOperation.AuthorizationResponse, r => r.Set(OAuthParam.Response, response)
                .SetOptional(OAuthParam.ExpectedState, expectedState).SetNow(now));
        }
    }
}
