using System;
using System.Collections.Generic;
using System.Linq;

namespace Oidc.Tests
{
    public class JsonClaimsTests
    {
        [Test]
        public void ParsesEveryJsonShape()
        {
            var o = Json.ParseObject(" {\"s\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\", \"i\":-12, \"big\":12345678901234567890, \"f\":1.5e2," +
                                     " \"t\":true, \"n\":null, \"a\":[1,[2],{}], \"o\":{\"k\":[]}} ");
            Assert.AreEqual("a\"b\\c/d\né\U0001F600", (string)o["s"]);
            Assert.AreEqual(-12L, (long)o["i"]);
            Assert.AreEqual(12345678901234567890.0, (double)o["big"]);
            Assert.AreEqual(150.0, (double)o["f"]);
            Assert.AreEqual(true, (bool)o["t"]);
            Assert.True(o.ContainsKey("n") && o["n"] == null);
            var a = (List<object>)o["a"];
            Assert.AreEqual(3, a.Count);
            Assert.AreEqual(2L, (long)((List<object>)a[1])[0]);
            Assert.AreEqual(0, ((List<object>)((Dictionary<string, object>)o["o"])["k"]).Count);
        }

        [Test]
        public void RejectsInvalidJson()
        {
            foreach (var bad in new[] { "", "{", "{\"a\":}", "{\"a\":1,}", "[1 2]", "{\"a\":01}", "{\"a\":1} x", "{'a':1}",
                                        "{\"a\":\"\u0001\"}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":-}", "{\"a\":1.}", "[1e]" })
                Assert.Throws<FormatException>(() => Json.Parse(bad), bad);
            Assert.Throws<FormatException>(() => Json.ParseObject("[1]"));
            Assert.Throws<FormatException>(() => Json.Parse(new string('[', 200) + new string(']', 200)), "depth");
        }

        [Test]
        public void TypedClaims()
        {
            var c = new Claims("{\"sub\":\"u1\",\"iss\":\"https://i\",\"aud\":\"api\",\"scp\":[\"a\",\"b\"],\"exp\":1700000000,\"nbf\":1699999999.5,\"x\":{\"y\":1}}");
            Assert.AreEqual("u1", c.Subject);
            Assert.AreEqual("api", string.Join(",", c.Audiences));
            Assert.AreEqual("a,b", string.Join(",", ((List<object>)c["scp"]).Cast<string>()), "claims as they are");
            Assert.AreEqual(DateTimeOffset.FromUnixTimeSeconds(1700000000), c.ExpiresAt.Value);
            Assert.AreEqual(DateTimeOffset.FromUnixTimeMilliseconds(1699999999500), c.NotBefore.Value);
            Assert.Null(c.IssuedAt);
            Assert.Null(c.ClientId);
            Assert.AreEqual(1L, (long)((Dictionary<string, object>)c["x"])["y"]);
            Assert.AreEqual(7, c.Count);
            Assert.AreEqual(7, c.Keys.Count());
            var empty = new Claims("{}");
            Assert.AreEqual(0, empty.Audiences.Count);
            Assert.Null(empty.Subject);
            Assert.Null(typeof(Claims).GetProperty("Scopes"), "no scope parser in the binding (liboidc decides)");
            Assert.Null(typeof(Claims).GetMethod("HasScope"), "no scope parser in the binding (liboidc decides)");
            Assert.Throws<FormatException>(() => new Claims("[]").Count.ToString());
        }

        [Test]
        public void ToStringNeverPrintsSecrets()
        {
            var o = new OAuthClientOptions { Issuer = "https://i", ClientId = "svc", ClientSecret = "hunter2-secret" };
            Assert.DoesNotContain("hunter2", o.ToString());
            Assert.Contains("<redacted>", o.ToString());
            Assert.Contains("svc", o.ToString());
            var claims = new Claims("{\"sub\":\"u1\",\"email\":\"private@example.com\"}");
            Assert.DoesNotContain("private@", claims.ToString());
            Assert.Contains("u1", claims.ToString());
        }
    }
}
