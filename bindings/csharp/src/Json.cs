// A small strict JSON reader (RFC 8259). Mono 6.8 ships neither System.Text.Json nor, on a
// minimal install, System.Runtime.Serialization, so the binding depends on mscorlib/System only.
// It reads what liboidc emits (serde_json output: claims, error details, token responses).
//
// Mapping: object -> Dictionary<string, object> (ordinal keys; a repeated key: the last wins),
// array -> List<object>, string -> string, true/false -> bool, null -> null,
// integer that fits -> long, other numbers -> double.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Oidc
{
    internal sealed class Json
    {
        private const int MaxDepth = 128;
        private readonly string s;
        private int i;

        private Json(string s) { this.s = s; }

        internal static object Parse(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            var p = new Json(text);
            p.SkipWs();
            object v = p.Value(0);
            p.SkipWs();
            if (p.i != text.Length) throw p.Error("trailing characters");
            return v;
        }

        internal static Dictionary<string, object> ParseObject(string text)
        {
            var d = Parse(text) as Dictionary<string, object>;
            if (d == null) throw new FormatException("JSON: expected an object");
            return d;
        }

        /// Serialise a value built from the same types (plus any IDictionary with string keys,
        /// any IEnumerable, int/long/double/bool and null) as compact JSON.
        internal static string Write(object value)
        {
            var sb = new StringBuilder();
            Write(sb, value);
            return sb.ToString();
        }

        private static void Write(StringBuilder sb, object o)
        {
            if (o == null) { sb.Append("null"); return; }
            var str = o as string;
            if (str != null) { WriteString(sb, str); return; }
            if (o is bool) { sb.Append((bool)o ? "true" : "false"); return; }
            if (o is int || o is long || o is uint || o is short || o is byte)
            {
                sb.Append(Convert.ToInt64(o, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                return;
            }
            if (o is double || o is float || o is decimal)
            {
                double d = Convert.ToDouble(o, CultureInfo.InvariantCulture);
                if (double.IsNaN(d) || double.IsInfinity(d)) throw new ArgumentException("JSON has no NaN or infinity");
                sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                return;
            }
            var dict = o as IDictionary;
            if (dict != null)
            {
                sb.Append('{');
                bool first = true;
                foreach (DictionaryEntry e in dict)
                {
                    var k = e.Key as string;
                    if (k == null) throw new ArgumentException("JSON object keys must be strings");
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, k);
                    sb.Append(':');
                    Write(sb, e.Value);
                }
                sb.Append('}');
                return;
            }
            var seq = o as IEnumerable;
            if (seq != null)
            {
                sb.Append('[');
                bool first = true;
                foreach (var x in seq)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    Write(sb, x);
                }
                sb.Append(']');
                return;
            }
            throw new ArgumentException("cannot write a " + o.GetType().Name + " as JSON");
        }

        private static void WriteString(StringBuilder sb, string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }

        private FormatException Error(string what)
        {
            return new FormatException("JSON: " + what + " at offset " + i);
        }

        private void SkipWs()
        {
            while (i < s.Length)
            {
                char c = s[i];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') i++;
                else break;
            }
        }

        private object Value(int depth)
        {
            if (depth > MaxDepth) throw Error("nesting too deep");
            if (i >= s.Length) throw Error("unexpected end");
            char c = s[i];
            switch (c)
            {
                case '{': return Obj(depth);
                case '[': return Arr(depth);
                case '"': return Str();
                case 't': Lit("true"); return true;
                case 'f': Lit("false"); return false;
                case 'n': Lit("null"); return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return Num();
                    throw Error("unexpected character");
            }
        }

        private void Lit(string word)
        {
            if (string.CompareOrdinal(s, i, word, 0, word.Length) != 0) throw Error("invalid literal");
            i += word.Length;
        }

        private Dictionary<string, object> Obj(int depth)
        {
            var d = new Dictionary<string, object>(); // string keys compare ordinally by default
            i++; // {
            SkipWs();
            if (i < s.Length && s[i] == '}') { i++; return d; }
            while (true)
            {
                SkipWs();
                if (i >= s.Length || s[i] != '"') throw Error("expected a member name");
                string k = Key();
                SkipWs();
                if (i >= s.Length || s[i] != ':') throw Error("expected ':'");
                i++;
                SkipWs();
                d[k] = Value(depth + 1);
                SkipWs();
                if (i >= s.Length) throw Error("unexpected end");
                if (s[i] == ',') { i++; continue; }
                if (s[i] == '}') { i++; return d; }
                throw Error("expected ',' or '}'");
            }
        }

        private List<object> Arr(int depth)
        {
            var l = new List<object>();
            i++; // [
            SkipWs();
            if (i < s.Length && s[i] == ']') { i++; return l; }
            while (true)
            {
                SkipWs();
                l.Add(Value(depth + 1));
                SkipWs();
                if (i >= s.Length) throw Error("unexpected end");
                if (s[i] == ',') { i++; continue; }
                if (s[i] == ']') { i++; return l; }
                throw Error("expected ',' or ']'");
            }
        }

        // Registered claim names and other frequent members, shared instead of allocated per parse.
        private static readonly string[] KnownKeys =
        {
            "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "azp", "sid", "acr", "amr", "scp", "scope", "client_id",
            "auth_time", "email", "name", "roles", "groups", "error", "error_description", "error_uri", "status",
        };

        private string Key()
        {
            int start = i + 1, end = start;
            while (end < s.Length && s[end] != '"' && s[end] != '\\') end++;
            if (end < s.Length && s[end] == '"')
            {
                int n = end - start;
                foreach (var k in KnownKeys)
                {
                    if (k.Length == n && string.CompareOrdinal(s, start, k, 0, n) == 0)
                    {
                        i = end + 1;
                        return k;
                    }
                }
            }
            return Str();
        }

        private string Str()
        {
            i++; // opening quote
            int start = i;
            // Fast path: no escapes.
            while (i < s.Length)
            {
                char c = s[i];
                if (c == '"') { string r = s.Substring(start, i - start); i++; return r; }
                if (c == '\\') break;
                if (c < 0x20) throw Error("control character in string");
                i++;
            }
            var sb = new StringBuilder(s, start, i - start, (i - start) + 16);
            while (true)
            {
                if (i >= s.Length) throw Error("unterminated string");
                char c = s[i++];
                if (c == '"') return sb.ToString();
                if (c < 0x20) throw Error("control character in string");
                if (c != '\\') { sb.Append(c); continue; }
                if (i >= s.Length) throw Error("unterminated escape");
                char e = s[i++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (i + 4 > s.Length) throw Error("short \\u escape");
                        int cp;
                        if (!int.TryParse(s.Substring(i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out cp))
                            throw Error("bad \\u escape");
                        i += 4;
                        sb.Append((char)cp); // surrogate pairs arrive as two escapes and combine naturally
                        break;
                    default: throw Error("bad escape");
                }
            }
        }

        private object Num()
        {
            int start = i;
            bool neg = false, integral = true;
            if (s[i] == '-') { neg = true; i++; }
            if (i >= s.Length) throw Error("bad number");
            int digits = i;
            if (s[i] == '0') i++;
            else if (s[i] >= '1' && s[i] <= '9') { while (i < s.Length && s[i] >= '0' && s[i] <= '9') i++; }
            else throw Error("bad number");
            int intEnd = i;
            if (i < s.Length && s[i] == '.')
            {
                integral = false; i++;
                int d = i;
                while (i < s.Length && s[i] >= '0' && s[i] <= '9') i++;
                if (i == d) throw Error("bad fraction");
            }
            if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
            {
                integral = false; i++;
                if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
                int d = i;
                while (i < s.Length && s[i] >= '0' && s[i] <= '9') i++;
                if (i == d) throw Error("bad exponent");
            }
            // Integers of up to 18 digits (every NumericDate) without a Substring or culture lookup.
            if (integral && intEnd - digits <= 18)
            {
                long v = 0;
                for (int k = digits; k < intEnd; k++) v = v * 10 + (s[k] - '0');
                return neg ? -v : v;
            }
            string t = s.Substring(start, i - start);
            long l;
            if (integral && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l)) return l;
            return double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
    }
}
