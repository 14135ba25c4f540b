using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Claims;
using System.Threading;

namespace Oidc
{
    /// The claims of a validated token: every claim as a read-only dictionary (values as the
    /// JSON reader maps them: string, long, double, bool, null, List&lt;object&gt;,
    /// Dictionary&lt;string, object&gt;) plus typed accessors for the registered ones.
    /// Scopes are not interpreted here: required scopes are a rule of the client
    /// (<see cref="OidcClientOptions.RequiredScopes"/>), decided by liboidc in
    /// <see cref="OidcClient.Authenticate(string, string, IEnumerable{string}, IEnumerable{string}, byte[], DateTimeOffset?)"/>; the raw claim is <c>claims["scope"]</c>.
    ///
    /// The JSON from liboidc is decoded on first access, so a caller that only needs to know
    /// that a token is valid pays nothing for decoding. Thread safe.
    public sealed class Claims : IReadOnlyDictionary<string, object>
    {
        private readonly string json;
        private Dictionary<string, object> map; // decoded on demand

        /// Wrap a claims JSON object (as returned by liboidc). Decoding errors surface on first access.
        public Claims(string json)
        {
            if (json == null) throw new ArgumentNullException("json");
            this.json = json;
        }

        /// The claims exactly as liboidc returned them (a JSON object).
        public string Json { get { return json; } }

        private Dictionary<string, object> Map
        {
            get
            {
                var m = Volatile.Read(ref map);
                if (m != null) return m;
                m = Oidc.Json.ParseObject(json);
                return Interlocked.CompareExchange(ref map, m, null) ?? m;
            }
        }

        /// `sub`, or null.
        public string Subject { get { return GetString("sub"); } }

        /// `iss`, or null.
        public string Issuer { get { return GetString("iss"); } }

        /// `client_id` (RFC 9068), or null.
        public string ClientId { get { return GetString("client_id"); } }

        /// `jti`, or null.
        public string JwtId { get { return GetString("jti"); } }

        /// `aud` as a list (a single string becomes one element; absent: empty).
        public IReadOnlyList<string> Audiences { get { return StringList("aud"); } }

        /// `exp` as a point in time, or null.
        public DateTimeOffset? ExpiresAt { get { return GetTime("exp"); } }

        /// `iat` as a point in time, or null.
        public DateTimeOffset? IssuedAt { get { return GetTime("iat"); } }

        /// `nbf` as a point in time, or null.
        public DateTimeOffset? NotBefore { get { return GetTime("nbf"); } }

        /// The claim as a string, or null when absent or not a string.
        public string GetString(string name)
        {
            object v;
            return Map.TryGetValue(name, out v) ? v as string : null;
        }

        /// A NumericDate claim (seconds since the epoch) as a point in time, or null.
        public DateTimeOffset? GetTime(string name)
        {
            object v;
            if (!Map.TryGetValue(name, out v) || v == null) return null;
            if (v is long) return DateTimeOffset.FromUnixTimeSeconds((long)v);
            if (v is double)
            {
                double d = (double)v;
                if (double.IsNaN(d) || d < -62135596800.0 || d > 253402300799.0) return null;
                return DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Floor(d * 1000.0));
            }
            return null;
        }

        private IReadOnlyList<string> StringList(string name)
        {
            object v;
            if (!Map.TryGetValue(name, out v) || v == null) return new string[0];
            var s = v as string;
            if (s != null) return new[] { s };
            var l = v as List<object>;
            if (l == null) return new string[0];
            var r = new List<string>(l.Count);
            foreach (var o in l) { var e = o as string; if (e != null) r.Add(e); }
            return r.AsReadOnly();
        }

        /// The claims as a <see cref="ClaimsPrincipal"/> (System.Security.Claims), for code written
        /// against .NET's identity model (<c>Thread.CurrentPrincipal</c>, <c>HttpListenerContext.User</c>
        /// style checks). Each JSON claim becomes <see cref="Claim"/>s of the same type name: a string
        /// as is (<see cref="ClaimValueTypes.String"/>), an integer as
        /// <see cref="ClaimValueTypes.Integer64"/>, a fraction as <see cref="ClaimValueTypes.Double"/>,
        /// a boolean as <see cref="ClaimValueTypes.Boolean"/> ("true"/"false"), an array as one claim
        /// per element, an object as its JSON text (value type "JSON"); null is left out. Every claim's
        /// <see cref="Claim.Issuer"/> is the token's <c>iss</c>. Nothing is interpreted: the
        /// <c>scope</c> claim stays one space-separated string (required scopes are decided by
        /// liboidc, <see cref="OidcClientOptions.RequiredScopes"/>).
        /// <param name="authenticationType">The identity's authentication type (it is authenticated
        /// when not empty); "Bearer" by default.</param>
        /// <param name="nameClaimType">The claim <see cref="ClaimsIdentity.Name"/> reads; "sub" by default.</param>
        /// <param name="roleClaimType">The claim <see cref="ClaimsPrincipal.IsInRole"/> reads (one
        /// role per array element); "roles" by default.</param>
        public ClaimsPrincipal ToClaimsPrincipal(string authenticationType = "Bearer", string nameClaimType = "sub",
            string roleClaimType = "roles")
        {
            string issuer = Issuer ?? ClaimsIdentity.DefaultIssuer;
            var list = new List<Claim>();
            foreach (var kv in Map)
            {
                var items = kv.Value as List<object>;
                if (items != null)
                {
                    foreach (var item in items) AddClaim(list, kv.Key, item, issuer);
                }
                else
                {
                    AddClaim(list, kv.Key, kv.Value, issuer);
                }
            }
            var identity = new ClaimsIdentity(list, authenticationType, nameClaimType, roleClaimType);
            return new ClaimsPrincipal(identity);
        }

        /// The value type of a claim holding a JSON object (ASP.NET Core's JsonClaimValueTypes.Json).
        public const string JsonClaimValueType = "JSON";

        private static void AddClaim(List<Claim> list, string type, object value, string issuer)
        {
            if (value == null) return;
            string text, valueType;
            if (value is string) { text = (string)value; valueType = ClaimValueTypes.String; }
            else if (value is long) { text = ((long)value).ToString(CultureInfo.InvariantCulture); valueType = ClaimValueTypes.Integer64; }
            else if (value is double) { text = ((double)value).ToString("R", CultureInfo.InvariantCulture); valueType = ClaimValueTypes.Double; }
            else if (value is bool) { text = (bool)value ? "true" : "false"; valueType = ClaimValueTypes.Boolean; }
            else { text = Oidc.Json.Write(value); valueType = JsonClaimValueType; }
            list.Add(new Claim(type, text, valueType, issuer));
        }

        // ---- IReadOnlyDictionary --------------------------------------------------------------
        /// The claim named <paramref name="key"/> (string, long, double, bool, null, List&lt;object&gt; or Dictionary&lt;string, object&gt;); throws KeyNotFoundException when absent.
        public object this[string key] { get { return Map[key]; } }
        /// The names of the token's claims.
        public IEnumerable<string> Keys { get { return Map.Keys; } }
        /// The values of the token's claims, as decoded from JSON.
        public IEnumerable<object> Values { get { return Map.Values; } }
        /// The number of claims.
        public int Count { get { return Map.Count; } }
        /// True when the token has the claim <paramref name="key"/>.
        public bool ContainsKey(string key) { return Map.ContainsKey(key); }
        /// The claim <paramref name="key"/> in <paramref name="value"/>, false when absent.
        public bool TryGetValue(string key, out object value) { return Map.TryGetValue(key, out value); }
        /// Every claim, as name and decoded value.
        public IEnumerator<KeyValuePair<string, object>> GetEnumerator() { return Map.GetEnumerator(); }
        IEnumerator IEnumerable.GetEnumerator() { return GetEnumerator(); }

        /// Subject, issuer and expiry only (claims can hold personal data; print Json deliberately).
        public override string ToString()
        {
            return "Claims(sub=" + (Subject ?? "-") + ", iss=" + (Issuer ?? "-") + ", exp=" +
                (ExpiresAt.HasValue ? ExpiresAt.Value.ToString("u") : "-") + ", " + Count + " claims)";
        }
    }
}
