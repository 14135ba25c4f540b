// Client-initiated backchannel authentication (OpenID Connect CIBA, poll mode).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// A pending CIBA request (the CIBA_REQUEST response). Its `auth_req_id` (a secret) is
    /// <see cref="AuthReqId"/>, which <see cref="ToString"/> never prints. Dispose it when done.
    public sealed class CibaRequest : IDisposable
    {
        internal CibaRequest(OAuthResponse r)
        {
            Response = r;
            AuthReqId = r.GetString(OAuthField.AuthReqId);
            ExpiresIn = TimeSpan.FromSeconds(Math.Max(0, r.GetInt(OAuthField.ExpiresIn) ?? 0));
            ExpiresAt = DateTimeOffset.UtcNow + ExpiresIn;
            long? i = r.GetInt(OAuthField.Interval);
            Interval = i.HasValue ? TimeSpan.FromSeconds(i.Value) : (TimeSpan?)null;
        }

        /// The response (for <see cref="OAuthRequest.SetPending"/>).
        public OAuthResponse Response { get; private set; }
        /// The request's `auth_req_id` (a secret: never log it).
        public string AuthReqId { get; private set; }
        /// How long the request lives.
        public TimeSpan ExpiresIn { get; private set; }
        /// Receipt time plus ExpiresIn.
        public DateTimeOffset ExpiresAt { get; private set; }
        /// The polling interval liboidc reports (OAuthField.Interval), null when it has none.
        public TimeSpan? Interval { get; private set; }

        /// Free the native response (after polls running on other threads return). Idempotent.
        public void Dispose() { Response.Dispose(); }

        /// A description without the <c>auth_req_id</c>.
        public override string ToString()
        {
            return "CibaRequest(AuthReqId=<redacted>, ExpiresIn=" + (long)ExpiresIn.TotalSeconds + "s, Interval=" +
                (Interval.HasValue ? (long)Interval.Value.TotalSeconds + "s" : "-") + ")";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Start a CIBA request at the issuer's backchannel_authentication_endpoint
        /// (OAuthOperation.CibaRequest).
        /// <param name="scopes">scopes, one per item</param>
        /// <param name="loginHint">the user's `login_hint`</param>
        /// <param name="bindingMessage">the `binding_message` shown to the user, or null</param>
        /// <param name="parameters">more form parameters, or null</param>
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        public CibaRequest CibaRequest(IEnumerable<string> scopes, string loginHint, string bindingMessage = null,
            IEnumerable<KeyValuePair<string, string>> parameters = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return CibaStartRequest(scopes, loginHint, bindingMessage, parameters).SendKeep(r => new CibaRequest(r), cancellationToken);
        }

        /// <see cref="OAuthClient.CibaRequest(IEnumerable{string}, string, string, IEnumerable{KeyValuePair{string, string}}, CancellationToken)"/>
        /// without blocking the caller (liboidc's worker pool).
        public Task<CibaRequest> CibaRequestAsync(IEnumerable<string> scopes, string loginHint, string bindingMessage = null,
            IEnumerable<KeyValuePair<string, string>> parameters = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return CibaStartRequest(scopes, loginHint, bindingMessage, parameters).SendKeepAsync(r => new CibaRequest(r), cancellationToken);
        }

        private OAuthRequest CibaStartRequest(IEnumerable<string> scopes, string loginHint, string bindingMessage,
            IEnumerable<KeyValuePair<string, string>> parameters)
        {
            return Request(OAuthOperation.CibaRequest, r => r.Add(OAuthParam.Scope, scopes).SetOptional(OAuthParam.LoginHint, loginHint)
                .SetOptional(OAuthParam.BindingMessage, bindingMessage).AddParameters(parameters));
        }

        /// Poll for the tokens of <paramref name="request"/> (OAuthOperation.CibaPoll); same rules,
        /// timeout and cancellation as <see cref="PollDevice"/>.
        public TokenResponse PollCiba(CibaRequest request, TimeSpan timeout, CancellationToken cancellationToken = default(CancellationToken))
        {
            return PollRequest(OAuthOperation.CibaPoll, Started(request), timeout).SendOnce(TokenResponse.From, cancellationToken);
        }

        /// <see cref="PollCiba"/> without blocking any thread (as <see cref="PollDeviceAsync"/>).
        public Task<TokenResponse> PollCibaAsync(CibaRequest request, TimeSpan timeout, CancellationToken cancellationToken = default(CancellationToken))
        {
            return PollRequest(OAuthOperation.CibaPoll, Started(request), timeout).SendOnceAsync(TokenResponse.From, cancellationToken);
        }

        private static OAuthResponse Started(CibaRequest r)
        {
            if (r == null) throw new ArgumentNullException("request");
            return r.Response;
        }
    }
}
