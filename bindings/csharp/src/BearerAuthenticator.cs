// RFC 6750 bearer-token authentication for System.Net.HttpListener (and anything else that can
// hand over an Authorization header value). The token decision and the 401 challenge are the
// core's (OidcException.HttpStatus / WwwAuthenticate); this file only reads the header, checks
// required scopes on the validated claims, and writes the answer.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading.Tasks;

namespace Oidc
{
    /// The outcome of authenticating one request.
    public sealed class AuthResult
    {
        internal AuthResult() { }

        /// True when the token is valid and carries every required scope.
        public bool Succeeded { get; internal set; }
        /// The validated claims (also set on a 403: the token was valid, its scopes were not enough).
        public Claims Claims { get; internal set; }
        /// 200 on success, else the status to answer with: 401 (no or bad token), 403
        /// (insufficient_scope), 503 (keys could not be obtained), 500 (anything else).
        public int StatusCode { get; internal set; }
        /// The `WWW-Authenticate` value to send with a 401 or 403, else null.
        public string WwwAuthenticate { get; internal set; }
        /// "invalid_token", "insufficient_scope", or null (no token / not the token's fault).
        public string ErrorCode { get; internal set; }
        /// The validation error, when there was one.
        public OidcException Error { get; internal set; }

        /// Write this failure to <paramref name="response"/> (status, `WWW-Authenticate`,
        /// `Cache-Control: no-store`, a short JSON body) and close it.
        public void WriteTo(HttpListenerResponse response)
        {
            if (response == null) throw new ArgumentNullException("response");
            if (Succeeded) throw new InvalidOperationException("the request was authenticated; nothing to write");
            response.StatusCode = StatusCode;
            if (WwwAuthenticate != null) response.Headers["WWW-Authenticate"] = WwwAuthenticate;
            response.Headers["Cache-Control"] = "no-store";
            var body = Encoding.UTF8.GetBytes(ErrorCode != null
                ? "{\"error\":\"" + ErrorCode + "\"}"
                : "{\"error\":\"" + (StatusCode == 401 ? "unauthorized" : StatusCode == 503 ? "temporarily_unavailable" : "server_error") + "\"}");
            response.ContentType = "application/json";
            response.ContentLength64 = body.Length;
            try
            {
                response.OutputStream.Write(body, 0, body.Length);
            }
            finally
            {
                response.Close();
            }
        }
    }

    /// Authenticates requests carrying `Authorization: Bearer <token>` with an <see cref="OidcClient"/>
    /// and optional required scopes. Thread safe; use one instance for all requests.
    public sealed class BearerAuthenticator
    {
        private const string InsufficientScopeDescription = "The access token lacks a required scope";
        private readonly OidcClient client;
        private readonly string[] requiredScopes;
        private readonly string realm;

        /// <param name="client">validates the tokens (not disposed by this class)</param>
        /// <param name="requiredScopes">scopes a token must all carry, else 403 insufficient_scope</param>
        /// <param name="realm">the realm for the challenges this class writes itself (no token,
        /// insufficient scope); default: the client's <see cref="OidcClientOptions.Realm"/>, which the
        /// core's challenges use</param>
        public BearerAuthenticator(OidcClient client, IEnumerable<string> requiredScopes = null, string realm = null)
        {
            if (client == null) throw new ArgumentNullException("client");
            this.client = client;
            this.requiredScopes = requiredScopes == null ? new string[0] : requiredScopes.ToArray();
            this.realm = realm ?? client.Realm;
        }

        public IReadOnlyList<string> RequiredScopes { get { return requiredScopes; } }

        /// Authenticate an HttpListener request.
        public AuthResult Authenticate(HttpListenerRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            return Authenticate(request.Headers["Authorization"]);
        }

        /// Authenticate an `Authorization` header value (null when the request had none).
        public AuthResult Authenticate(string authorizationHeader)
        {
            string token = ExtractToken(authorizationHeader);
            if (token == null)
            {
                // RFC 6750 §3.1: no authentication information -> a challenge without an error code.
                return new AuthResult { StatusCode = 401, WwwAuthenticate = Challenge(null, null) };
            }
            Claims claims;
            try
            {
                claims = client.Validate(token);
            }
            catch (OidcException e)
            {
                return Failure(e);
            }
            return Decide(claims);
        }

        /// <see cref="Authenticate(HttpListenerRequest)"/> without blocking the caller on a cold key cache.
        public Task<AuthResult> AuthenticateAsync(HttpListenerRequest request)
        {
            if (request == null) throw new ArgumentNullException("request");
            string token = ExtractToken(request.Headers["Authorization"]);
            if (token == null)
                return Task.FromResult(new AuthResult { StatusCode = 401, WwwAuthenticate = Challenge(null, null) });
            return client.ValidateAsync(token).ContinueWith(t =>
            {
                if (t.IsFaulted)
                {
                    var e = t.Exception.InnerException as OidcException;
                    if (e == null) throw t.Exception.InnerException;
                    return Failure(e);
                }
                return Decide(t.Result);
            }, TaskContinuationOptions.ExecuteSynchronously);
        }

        /// Authenticate <paramref name="context"/>'s request. On failure the response is written
        /// (401 + the core's `WWW-Authenticate`, 403 insufficient_scope, or 503/500) and closed,
        /// and false is returned; on success nothing is written.
        public bool TryAuthenticate(HttpListenerContext context, out Claims claims)
        {
            if (context == null) throw new ArgumentNullException("context");
            var r = Authenticate(context.Request);
            claims = r.Claims;
            if (r.Succeeded) return true;
            r.WriteTo(context.Response);
            claims = null;
            return false;
        }

        private AuthResult Failure(OidcException e)
        {
            int status = e.HttpStatus != 0 ? e.HttpStatus : 500;
            return new AuthResult
            {
                StatusCode = status,
                // The core's challenge, verbatim, on a 401; none on 503/500 (RFC 7235: 401 only).
                WwwAuthenticate = status == 401 ? e.WwwAuthenticate : null,
                ErrorCode = status == 401 ? e.OAuthError : null,
                Error = e,
            };
        }

        private AuthResult Decide(Claims claims)
        {
            foreach (var s in requiredScopes)
            {
                if (!claims.HasScope(s))
                {
                    return new AuthResult
                    {
                        StatusCode = 403,
                        Claims = claims,
                        ErrorCode = "insufficient_scope",
                        WwwAuthenticate = Challenge("insufficient_scope", InsufficientScopeDescription),
                    };
                }
            }
            return new AuthResult { Succeeded = true, StatusCode = 200, Claims = claims };
        }

        /// The token of a `Bearer` credential (scheme case-insensitive), or null when the
        /// header is absent or uses another scheme.
        internal static string ExtractToken(string header)
        {
            if (header == null) return null;
            header = header.Trim();
            if (header.Length < 6 || string.Compare(header, 0, "Bearer", 0, 6, StringComparison.OrdinalIgnoreCase) != 0)
                return null;
            if (header.Length == 6) return string.Empty; // "Bearer" alone: a (malformed) empty token
            if (header[6] != ' ') return null;
            return header.Substring(7).Trim(' ');
        }

        private string Challenge(string error, string description)
        {
            var parts = new List<string>();
            if (realm != null) parts.Add("realm=\"" + QuoteSafe(realm) + "\"");
            if (error != null)
            {
                parts.Add("error=\"" + error + "\"");
                parts.Add("error_description=\"" + description + "\"");
                if (requiredScopes.Length > 0) parts.Add("scope=\"" + QuoteSafe(string.Join(" ", requiredScopes)) + "\"");
            }
            return parts.Count == 0 ? "Bearer" : "Bearer " + string.Join(", ", parts);
        }

        /// Printable ASCII without '"' and '\' (as the core does for its realm).
        private static string QuoteSafe(string s)
        {
            var sb = new StringBuilder(s.Length);
            foreach (char c in s)
                if (c >= ' ' && c <= '~' && c != '"' && c != '\\' && sb.Length < 200) sb.Append(c);
            return sb.ToString();
        }
    }
}
