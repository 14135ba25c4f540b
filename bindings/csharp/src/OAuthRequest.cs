// The protocol request object (ABI 0.2): one request type for every protocol operation, typed
// setters, one blocking and one non-blocking send, one response type. Translation only: which
// parameter applies to which operation, what is required, the defaults, are the core's; a
// refused parameter is liboidc's INVALID_ARGUMENT (InvalidArgumentException) with its message.
//
// The enums mirror oidc_operation / oidc_param / oidc_field of include/oidc.h (values fixed by
// the header; AbiTests checks every name and value).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc
{
    /// oidc_operation: what an <see cref="OAuthRequest"/> does.
    public enum OAuthOperation : uint
    {
        AuthorizationCode = 1, Refresh = 2, ClientCredentials = 3, TokenExchange = 4, JwtBearer = 5, CustomGrant = 6,
        DeviceAuthorization = 7, DevicePoll = 8, CibaRequest = 9, CibaPoll = 10, Introspect = 11, Revoke = 12, Userinfo = 13,
        PushedAuthorization = 14, AuthorizationUrl = 15, EndSessionUrl = 16, AuthorizationResponse = 17, ValidateIdToken = 18,
        Register = 19, RegistrationRead = 20, RegistrationUpdate = 21, RegistrationDelete = 22, Resource = 23, Endpoint = 24,
    }

    /// oidc_param: a request parameter. Strings (1-99) go through
    /// <see cref="OAuthRequest.Set(OAuthParam, string)"/>, lists (100-199) through
    /// <see cref="OAuthRequest.Add(OAuthParam, string)"/> (one item per call), integers (200-)
    /// through <see cref="OAuthRequest.Set(OAuthParam, long)"/>. Which apply to which operation:
    /// include/oidc.h.
    public enum OAuthParam : uint
    {
        Code = 1, RedirectUri = 2, CodeVerifier = 3, Nonce = 4, RefreshToken = 5, SubjectToken = 6, SubjectTokenType = 7,
        ActorToken = 8, ActorTokenType = 9, RequestedTokenType = 10, Assertion = 11, Subject = 12, GrantType = 13, Token = 14,
        TokenTypeHint = 15, AccessToken = 16, TokenType = 17, ExpectedSub = 18, DeviceCode = 19, AuthReqId = 20, Metadata = 21,
        InitialAccessToken = 22, RegistrationAccessToken = 23, RegistrationClientUri = 24, Method = 25, Url = 26, Body = 27,
        ContentType = 28, Response = 29, ExpectedState = 30, IdToken = 31, IdTokenHint = 32, PostLogoutRedirectUri = 33,
        State = 34, ResponseType = 35, ResponseMode = 36, CodeChallenge = 37, RequestObject = 38, RequestUri = 39,
        LoginHint = 40, BindingMessage = 41, EndpointName = 42,
        Scope = 100, Resource = 101, Audience = 102,
        MaxAge = 200, DeadlineMs = 201, IntervalSecs = 202, ExpiresInSecs = 203, SignedResponse = 204, UseCache = 205,
        NoStateSent = 206,
    }

    /// oidc_field: a response field. Strings (1-99) through <see cref="OAuthResponse.GetString"/>,
    /// integers (100-) through <see cref="OAuthResponse.GetInt"/>.
    public enum OAuthField : uint
    {
        AccessToken = 1, TokenType = 2, RefreshToken = 3, IdToken = 4, Scope = 5, IssuedTokenType = 6, DeviceCode = 7,
        UserCode = 8, VerificationUri = 9, VerificationUriComplete = 10, AuthReqId = 11, RequestUri = 12, Url = 13, Code = 14,
        State = 15, Nonce = 16, CodeVerifier = 17, CodeChallenge = 18, Iss = 19, Sub = 20, ClientId = 21, ClientSecret = 22,
        RegistrationAccessToken = 23, RegistrationClientUri = 24, Error = 25, ErrorDescription = 26, ErrorUri = 27,
        ContentType = 28, WwwAuthenticate = 29,
        ExpiresIn = 100, Interval = 101, HttpStatus = 102, Active = 103,
    }

    /// One protocol request (oidc_oauth_request), made by <see cref="OAuthClient.NewRequest"/>.
    /// Set its parameters, then <see cref="Send"/> or <see cref="SendAsync"/>: the request is
    /// copied at send, so it may be sent again, from several threads at once, or disposed as soon
    /// as SendAsync returned. Setters return the request (chainable) and throw liboidc's
    /// InvalidArgumentException for a parameter the operation does not take. Holds native memory:
    /// dispose it (the finaliser frees it otherwise).
    public sealed class OAuthRequest : IDisposable
    {
        private readonly OAuthRequestHandle handle;
        private int disposed;

        internal OAuthRequest(OAuthClientHandle client, OAuthOperation op)
        {
            OAuthRequestHandle h;
            IntPtr err;
            uint rc = Native.oidc_oauth_request_new(client, op, out h, out err);
            if (rc != 0)
            {
                if (h != null) h.SetHandleAsInvalid();
                throw OidcException.FromNative(rc, err);
            }
            handle = h;
            Operation = op;
        }

        public OAuthOperation Operation { get; private set; }

        private OAuthRequestHandle Handle
        {
            get
            {
                if (Volatile.Read(ref disposed) != 0) throw new ObjectDisposedException("OAuthRequest");
                return handle;
            }
        }

        /// A string parameter (setting it again replaces it).
        public OAuthRequest Set(OAuthParam param, string value)
        {
            byte[] v = Value(value, param);
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_set_string(Handle, param, v, (UIntPtr)v.Length, out err), err);
            return this;
        }

        /// <see cref="Set(OAuthParam, string)"/> when <paramref name="value"/> is not null (the
        /// typed methods of OAuthClient: null means "not given").
        internal OAuthRequest SetOptional(OAuthParam param, string value)
        {
            return value == null ? this : Set(param, value);
        }

        /// One item of a list parameter (<see cref="OAuthParam.Scope"/>, Resource, Audience).
        public OAuthRequest Add(OAuthParam param, string item)
        {
            byte[] v = Value(item, param);
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_add_string(Handle, param, v, (UIntPtr)v.Length, out err), err);
            return this;
        }

        /// Every item of <paramref name="items"/>, in order (null: none).
        public OAuthRequest Add(OAuthParam param, IEnumerable<string> items)
        {
            if (items != null) foreach (var item in items) Add(param, item);
            return this;
        }

        /// An integer parameter (<see cref="OAuthParam.DeadlineMs"/>, MaxAge, UseCache = 1, ...).
        public OAuthRequest Set(OAuthParam param, long value)
        {
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_set_int(Handle, param, value, out err), err);
            return this;
        }

        /// A custom parameter by name (may repeat); liboidc refuses the names it sets itself or
        /// that have a typed <see cref="OAuthParam"/> (the message names which).
        public OAuthRequest AddParameter(string name, string value)
        {
            if (name == null) throw new ArgumentNullException("name");
            byte[] n = Utf8.StrictBytes(name), v = Value(value, name);
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_add_param(Handle, n, (UIntPtr)n.Length, v, (UIntPtr)v.Length, out err), err);
            return this;
        }

        /// Every pair of <paramref name="parameters"/> (null: none).
        public OAuthRequest AddParameters(IEnumerable<KeyValuePair<string, string>> parameters)
        {
            if (parameters != null) foreach (var kv in parameters) AddParameter(kv.Key, kv.Value);
            return this;
        }

        /// A DEVICE_POLL / CIBA_POLL request continues <paramref name="started"/> (the response of
        /// DEVICE_AUTHORIZATION / CIBA_REQUEST: its code, interval and expiry are copied).
        public OAuthRequest SetPending(OAuthResponse started)
        {
            if (started == null) throw new ArgumentNullException("started");
            IntPtr err;
            OidcException.Check(Native.oidc_oauth_request_set_pending(Handle, started.Handle, out err), err);
            return this;
        }

        private static byte[] Value(string value, object what)
        {
            if (value == null) throw new ArgumentNullException("value", "no value for " + what);
            return Utf8.StrictBytes(value);
        }

        /// Send and wait (oidc_oauth_send). <paramref name="cancellationToken"/> becomes an
        /// oidc_cancel: cancelling it ends a poll's wait at once; a request in flight finishes
        /// first (bounded by the client's timeouts) and its result is dropped
        /// (OperationCanceledException, its InnerException liboidc's OidcCancelledException). A
        /// deadline: <see cref="OAuthParam.DeadlineMs"/> (DeadlineExceededException). Failures
        /// throw the exception of their liboidc code. Dispose the response.
        public OAuthResponse Send(CancellationToken cancellationToken = default(CancellationToken))
        {
            return new OAuthResponse(SendNative(cancellationToken));
        }

        /// Send without blocking (oidc_oauth_send_async): the task completes from liboidc's
        /// callback with the response (dispose it; the finaliser frees one you forget), faults with
        /// the exception <see cref="Send"/> would throw, or is Canceled when
        /// <paramref name="cancellationToken"/> cancels it (through an oidc_cancel).
        public Task<OAuthResponse> SendAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncBridge.Send(Handle, r => r, cancellationToken);
        }

        /// Send, then read the response with <paramref name="read"/> and free it (typed methods
        /// of OAuthClient). The request is disposed.
        internal T SendOnce<T>(Func<OAuthResponse, T> read, CancellationToken ct)
        {
            using (this)
            using (var r = Send(ct))
                return read(r);
        }

        /// <see cref="SendOnce{T}"/> without blocking: the response is read and freed on the
        /// callback's thread; the request is disposed once the call is queued (it was copied).
        internal Task<T> SendOnceAsync<T>(Func<OAuthResponse, T> read, CancellationToken ct)
        {
            using (this)
                return AsyncBridge.Send(Handle, r => { using (r) return read(r); }, ct);
        }

        /// Like <see cref="SendOnce{T}"/>, but <paramref name="keep"/> takes ownership of the
        /// response (a started device or CIBA flow keeps it for its polls).
        internal T SendKeep<T>(Func<OAuthResponse, T> keep, CancellationToken ct)
        {
            using (this)
                return keep(Send(ct));
        }

        internal Task<T> SendKeepAsync<T>(Func<OAuthResponse, T> keep, CancellationToken ct)
        {
            using (this)
                return AsyncBridge.Send(Handle, keep, ct);
        }

        private OAuthResponseHandle SendNative(CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            OAuthRequestHandle h = Handle;
            CancelHandle cancel = null;
            IntPtr err;
            uint rc;
            if (ct.CanBeCanceled)
            {
                rc = Native.oidc_cancel_new(0, out cancel, out err);
                if (rc != 0)
                {
                    if (cancel != null) cancel.SetHandleAsInvalid();
                    throw OidcException.FromNative(rc, err);
                }
            }
            try
            {
                OAuthResponseHandle resp;
                // Disposing the registration waits for a trigger already running, so the token's
                // callback never touches a freed handle.
                using (cancel == null ? default(CancellationTokenRegistration) : ct.Register(TriggerCancel, cancel))
                {
                    bool held = false;
                    try
                    {
                        if (cancel != null) cancel.DangerousAddRef(ref held);
                        rc = Native.oidc_oauth_send(h, cancel == null ? IntPtr.Zero : cancel.DangerousGetHandle(), out resp, out err);
                    }
                    finally
                    {
                        if (held) cancel.DangerousRelease();
                    }
                }
                if (rc != 0)
                {
                    if (resp != null) resp.SetHandleAsInvalid();
                    var e = OidcException.FromNative(rc, err);
                    if (rc == (uint)OidcResult.Cancelled && ct.IsCancellationRequested)
                        throw new OperationCanceledException("the request was cancelled", e, ct);
                    throw e;
                }
                resp.Taken();
                return resp;
            }
            finally
            {
                if (cancel != null) cancel.Dispose();
            }
        }

        private static readonly Action<object> TriggerCancel = s => Native.oidc_cancel_trigger((CancelHandle)s);

        /// Free the native request (after sends running on other threads return). Idempotent.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) handle.Dispose();
        }

        public override string ToString() { return "OAuthRequest(" + Operation + ")"; }
    }

    /// A protocol response (oidc_oauth_response): typed fields, and the JSON liboidc received or
    /// made (<see cref="Json"/>). Many responses hold secrets (tokens, codes, client secrets):
    /// <see cref="ToString"/> prints none. Dispose it (the finaliser frees it otherwise).
    public sealed class OAuthResponse : IDisposable
    {
        private readonly OAuthResponseHandle handle;
        private int disposed;

        internal OAuthResponse(OAuthResponseHandle h)
        {
            handle = h;
            Operation = Native.oidc_oauth_response_operation(h);
        }

        /// The operation this answers.
        public OAuthOperation Operation { get; private set; }

        internal OAuthResponseHandle Handle
        {
            get
            {
                if (Volatile.Read(ref disposed) != 0) throw new ObjectDisposedException("OAuthResponse");
                return handle;
            }
        }

        /// A string field, or null when absent. Fields not computed by liboidc are the top-level
        /// string member of that name in <see cref="Json"/>.
        public string GetString(OAuthField field)
        {
            OAuthResponseHandle h = Handle;
            bool held = false;
            try
            {
                h.DangerousAddRef(ref held); // the string is borrowed until the response is freed
                return Utf8.ReadNulTerminated(Native.oidc_oauth_response_string(h, field));
            }
            finally
            {
                if (held) h.DangerousRelease();
            }
        }

        /// An integer field, or null when absent.
        public long? GetInt(OAuthField field)
        {
            long v = Native.oidc_oauth_response_int(Handle, field);
            return v == -1 ? (long?)null : v;
        }

        /// The server's JSON body (token, device, CIBA, introspection, userinfo, registration,
        /// PAR), a resource's body as received, an ID token's claims, or the object liboidc made
        /// for a local operation (authorization URL, logout URL, authorization response, endpoint).
        public string Json
        {
            get
            {
                OAuthResponseHandle h = Handle;
                bool held = false;
                try
                {
                    h.DangerousAddRef(ref held);
                    UIntPtr len;
                    IntPtr p = Native.oidc_oauth_response_json(h, out len);
                    return p == IntPtr.Zero ? null : Utf8.Read(p, checked((int)len.ToUInt64()));
                }
                finally
                {
                    if (held) h.DangerousRelease();
                }
            }
        }

        /// <see cref="Json"/> as <see cref="Claims"/> (a JSON object; a resource body need not be one).
        public Claims Members { get { return new Claims(Json); } }

        /// Free the native response (after reads running on other threads return). Idempotent.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) handle.Dispose();
        }

        public override string ToString() { return "OAuthResponse(" + Operation + ")"; }
    }
}
