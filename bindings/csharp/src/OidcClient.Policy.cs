// Policy export and explain mode (src/ffi/issuer.rs, oidc_authenticate_explain). Plumbing only:
// the document and the explanations are liboidc's JSON, passed through unchanged.
using System;
using System.Collections.Generic;

namespace Oidc
{
    public sealed partial class OidcClient
    {
        /// This client's configuration as a policy document (oidc_validator_policy_json): JSON,
        /// every member written, defaults included, for <see cref="OidcClientOptions.Policy"/>
        /// of another client (the same configuration again). Not in it: the DPoP nonce secret, a
        /// replay store and the prefetch mode.
        public string ExportPolicy()
        {
            IntPtr json, err;
            UIntPtr len;
            OidcException.Check(NativeIssuers.oidc_validator_policy_json(Handle, out json, out len, out err), err);
            return Utf8.TakeOwned(json, len);
        }

        /// Explain the validation of <paramref name="token"/> (oidc_validate_explain): every check
        /// with its outcome (the issuer chosen and why, header, key and signature, each claim
        /// rule), not only the first failure. A refused token is not an exception here: the
        /// explanation says <c>"decision": "deny"</c>. It holds no token text, signature or claim
        /// value beyond <c>alg</c>, a bounded <c>kid</c> and <c>iss</c>, the tenant and the times.
        /// <param name="token">the compact JWS, without "Bearer "</param>
        /// <param name="now">check exp/nbf/iat as of this time (null: the clock; liboidc also reads
        /// the epoch itself, 0, as the clock)</param>
        /// Blocks like <see cref="Validate"/> when keys are not cached yet; never uses the
        /// verified-token cache.
        public Explanation Explain(string token, DateTimeOffset? now = null)
        {
            if (token == null) throw new ArgumentNullException("token");
            long at = now.HasValue ? now.Value.ToUnixTimeSeconds() : 0; // 0: liboidc's clock
            byte[] t = Utf8.Bytes(token);
            IntPtr json, err;
            UIntPtr len;
            OidcException.Check(NativeIssuers.oidc_validate_explain(Handle, t, (UIntPtr)t.Length, at, out json, out len, out err), err);
            return new Explanation(Utf8.TakeOwned(json, len));
        }

        /// Explain the decision about one HTTP request (oidc_authenticate_explain): every rule of
        /// <see cref="Authenticate(string, string, IEnumerable{string}, IEnumerable{string}, byte[], DateTimeOffset?)"/>
        /// with its outcome (credentials, the DPoP proof, the token's own explanation as in
        /// <see cref="Explain"/>, the binding, each required scope and claim-value rule). No side
        /// effect (a DPoP proof is not recorded as used); no token or proof text in it. A denied
        /// request is not an exception: the explanation says <c>"decision": "deny"</c>. Arguments
        /// as for Authenticate; a misuse by the host (not an HTTP method, not an absolute URL)
        /// throws <see cref="InvalidArgumentException"/>.
        public Explanation ExplainRequest(string method, string url, IEnumerable<string> authorization,
            IEnumerable<string> dpop = null, byte[] clientCertificate = null, DateTimeOffset? now = null)
        {
            ClientHandle h = Handle;
            HttpRequestHandle req = RentRequest();
            try
            {
                Fill(req, method, url, authorization, dpop, clientCertificate, now, Utf8Headers);
                IntPtr json, err;
                UIntPtr len;
                OidcException.Check(NativeIssuers.oidc_authenticate_explain(h, req, out json, out len, out err), err);
                return new Explanation(Utf8.TakeOwned(json, len));
            }
            finally
            {
                ReturnRequest(req);
            }
        }
    }

    /// An explanation from liboidc (<see cref="OidcClient.Explain"/>,
    /// <see cref="OidcClient.ExplainRequest"/>): the JSON document as liboidc wrote it
    /// (<see cref="Json"/>), its <see cref="Decision"/>, and the whole document parsed
    /// (<see cref="Document"/>: objects as <c>Dictionary&lt;string, object&gt;</c>, arrays as
    /// <c>List&lt;object&gt;</c>, as in <see cref="Claims"/>). The members (<c>checks</c> with
    /// <c>check</c>/<c>outcome</c>, <c>issuer</c>, <c>code</c>, ...) are liboidc's; see
    /// tests/explain.rs for their shape. Immutable and thread safe.
    public sealed class Explanation
    {
        private readonly string json;
        private readonly Dictionary<string, object> doc;

        /// Wrap an explanation document (a JSON object); throws FormatException when it is not one.
        public Explanation(string json)
        {
            if (json == null) throw new ArgumentNullException("json");
            this.json = json;
            doc = Oidc.Json.ParseObject(json);
        }

        /// The explanation exactly as liboidc returned it (a JSON object).
        public string Json { get { return json; } }

        /// The document's <c>decision</c>: "allow" or "deny".
        public string Decision { get { return GetString("decision"); } }

        /// True when <see cref="Decision"/> is "allow".
        public bool Allowed { get { return Decision == "allow"; } }

        /// The parsed document.
        public IReadOnlyDictionary<string, object> Document { get { return doc; } }

        /// A top-level member (see <see cref="Document"/>), or null when absent.
        public object this[string member]
        {
            get
            {
                object v;
                return doc.TryGetValue(member, out v) ? v : null;
            }
        }

        /// A top-level string member, or null when absent or not a string.
        public string GetString(string member) { return this[member] as string; }

        /// The outcome ("pass", "fail", "skipped", ...) of the check named <paramref name="check"/>
        /// in the document's <c>checks</c>, or null when there is no such check.
        public string Outcome(string check)
        {
            var checks = this["checks"] as List<object>;
            if (checks == null) return null;
            foreach (var c in checks)
            {
                var d = c as Dictionary<string, object>;
                object name, outcome;
                if (d != null && d.TryGetValue("check", out name) && (name as string) == check && d.TryGetValue("outcome", out outcome))
                    return outcome as string;
            }
            return null;
        }

        /// <see cref="Json"/>.
        public override string ToString() { return json; }
    }
}
