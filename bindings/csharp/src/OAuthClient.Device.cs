// Device authorization grant (RFC 8628), and the polls shared with CIBA.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// A pending device authorization (the DEVICE_AUTHORIZATION response): show the user
    /// <see cref="VerificationUri"/> and <see cref="UserCode"/>, then
    /// <see cref="OAuthClient.PollDevice"/>. Holds the response, device code included (a secret,
    /// never exposed or printed), in native memory: dispose it when done (the finaliser frees it
    /// otherwise). Polls running on other threads keep it alive until they return.
    public sealed class DeviceAuthorization : IDisposable
    {
        internal DeviceAuthorization(OAuthResponse r)
        {
            Response = r;
            UserCode = r.GetString(OAuthField.UserCode);
            VerificationUri = r.GetString(OAuthField.VerificationUri);
            VerificationUriComplete = r.GetString(OAuthField.VerificationUriComplete);
            long? e = r.GetInt(OAuthField.ExpiresIn);
            ExpiresIn = TimeSpan.FromSeconds(Math.Max(0, e ?? 0));
            ExpiresAt = DateTimeOffset.UtcNow + ExpiresIn;
            long? i = r.GetInt(OAuthField.Interval);
            Interval = i.HasValue ? TimeSpan.FromSeconds(i.Value) : (TimeSpan?)null;
        }

        /// The response (for <see cref="OAuthRequest.SetPending"/>).
        public OAuthResponse Response { get; private set; }
        /// The code the user enters at <see cref="VerificationUri"/>.
        public string UserCode { get; private set; }
        /// Where the user goes to enter the code.
        public string VerificationUri { get; private set; }
        /// The verification URI with the code included, or null when the server sent none.
        public string VerificationUriComplete { get; private set; }
        /// How long the codes live.
        public TimeSpan ExpiresIn { get; private set; }
        /// When the codes expire (receipt time plus ExpiresIn).
        public DateTimeOffset ExpiresAt { get; private set; }
        /// The polling interval liboidc reports (OAuthField.Interval), null when it has none.
        public TimeSpan? Interval { get; private set; }

        /// Free the native response (after polls running on other threads return). Idempotent.
        public void Dispose() { Response.Dispose(); }

        /// What to show the user; never the device code.
        public override string ToString()
        {
            return "DeviceAuthorization(VerificationUri=" + VerificationUri + ", UserCode=" + UserCode +
                ", ExpiresIn=" + (long)ExpiresIn.TotalSeconds + "s, Interval=" +
                (Interval.HasValue ? (long)Interval.Value.TotalSeconds + "s" : "-") + ")";
        }
    }

    public sealed partial class OAuthClient
    {
        /// Start a device authorization at the issuer's device_authorization_endpoint
        /// (OAuthOperation.DeviceAuthorization).
        /// <param name="scopes">scopes, one per item, or null</param>
        /// <param name="parameters">more form parameters (e.g. PKCE parameters a server demands), or null</param>
        /// <param name="cancellationToken">Cancels the call: it returns with <see cref="OidcCancelledException"/> at its next wait.</param>
        public DeviceAuthorization DeviceAuthorization(IEnumerable<string> scopes = null,
            IEnumerable<KeyValuePair<string, string>> parameters = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return DeviceAuthorizationRequest(scopes, parameters).SendKeep(r => new DeviceAuthorization(r), cancellationToken);
        }

        /// <see cref="OAuthClient.DeviceAuthorization(IEnumerable{string}, IEnumerable{KeyValuePair{string, string}}, CancellationToken)"/>
        /// without blocking the caller (liboidc's worker pool).
        public Task<DeviceAuthorization> DeviceAuthorizationAsync(IEnumerable<string> scopes = null,
            IEnumerable<KeyValuePair<string, string>> parameters = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return DeviceAuthorizationRequest(scopes, parameters).SendKeepAsync(r => new DeviceAuthorization(r), cancellationToken);
        }

        private OAuthRequest DeviceAuthorizationRequest(IEnumerable<string> scopes, IEnumerable<KeyValuePair<string, string>> parameters)
        {
            return Request(OAuthOperation.DeviceAuthorization, r => r.Add(OAuthParam.Scope, scopes).AddParameters(parameters));
        }

        /// Poll the token endpoint until the user approves <paramref name="authorization"/>
        /// (OAuthOperation.DevicePoll): the first poll at once, then one per interval (`slow_down`
        /// adds 5 s). Blocks the calling thread; see <see cref="PollDeviceAsync"/>.
        /// <param name="timeout">give up after this long (OAuthParam.DeadlineMs:
        /// DeadlineExceededException, never waits past it); Timeout.InfiniteTimeSpan waits until
        /// the codes expire</param>
        /// <param name="cancellationToken">an oidc_cancel: cancels the wait between polls at once
        /// (a poll request in flight finishes first, its result dropped): OperationCanceledException with an inner
        /// OidcCancelledException</param>
        /// Throws AccessDeniedException when the user declines, ExpiredTokenException when the
        /// codes expire, InvalidGrantException when the device code was already used.
        /// <param name="authorization">The answer of <see cref="DeviceAuthorization"/>.</param>
        public TokenResponse PollDevice(DeviceAuthorization authorization, TimeSpan timeout,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return PollRequest(OAuthOperation.DevicePoll, Started(authorization, "authorization"), timeout)
                .SendOnce(TokenResponse.From, cancellationToken);
        }

        /// <see cref="PollDevice"/> without blocking any thread: each poll runs on liboidc's
        /// worker pool and the wait between polls is a timer in liboidc (no thread is held). The
        /// task is Canceled at once when <paramref name="cancellationToken"/> cancels the poll;
        /// <paramref name="authorization"/> may be disposed once this returns.
        public Task<TokenResponse> PollDeviceAsync(DeviceAuthorization authorization, TimeSpan timeout,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return PollRequest(OAuthOperation.DevicePoll, Started(authorization, "authorization"), timeout)
                .SendOnceAsync(TokenResponse.From, cancellationToken);
        }

        private static OAuthResponse Started(DeviceAuthorization a, string name)
        {
            if (a == null) throw new ArgumentNullException(name);
            return a.Response;
        }

        /// A DEVICE_POLL / CIBA_POLL request continuing `started`, with the timeout as the
        /// request's own deadline (none for Timeout.InfiniteTimeSpan).
        private OAuthRequest PollRequest(OAuthOperation op, OAuthResponse started, TimeSpan timeout)
        {
            long? deadlineMs = DeadlineMs(timeout);
            return Request(op, r =>
            {
                r.SetPending(started);
                if (deadlineMs.HasValue) r.Set(OAuthParam.DeadlineMs, deadlineMs.Value);
            });
        }

        /// A TimeSpan as OAuthParam.DeadlineMs (whole ms, rounded up); null for Timeout.InfiniteTimeSpan.
        internal static long? DeadlineMs(TimeSpan timeout)
        {
            if (timeout == Timeout.InfiniteTimeSpan) return null;
            if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout", "a timeout cannot be negative");
            return (long)Math.Ceiling(timeout.TotalMilliseconds);
        }
    }
}
