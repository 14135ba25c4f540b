using System;
using System.Linq;
using System.Security.Claims;

namespace Oidc.Tests
{
    // Claims.ToClaimsPrincipal: the validated claims in System.Security.Claims form.
    public class ClaimsPrincipalTests
    {
        const string Json = "{\"sub\":\"user-1\",\"iss\":\"https://idp.example\",\"aud\":[\"api\",\"other\"]," +
                            "\"exp\":1700000000,\"ratio\":0.5,\"admin\":true,\"roles\":[\"reader\",\"writer\"]," +
                            "\"scope\":\"read write\",\"cnf\":{\"jkt\":\"abc\"},\"gone\":null}";

        [Test]
        public void EveryClaimBecomesTypedClaims()
        {
            var p = new Claims(Json).ToClaimsPrincipal();
            var id = (ClaimsIdentity)p.Identity;
            Assert.True(id.IsAuthenticated, "authenticated");
            Assert.AreEqual("Bearer", id.AuthenticationType);
            Assert.AreEqual("user-1", p.Identity.Name);
            Assert.AreEqual("user-1", p.FindFirst("sub").Value);

            var aud = p.FindAll("aud").Select(c => c.Value).ToArray();
            Assert.AreEqual(2, aud.Length);
            Assert.AreEqual("api", aud[0]);
            Assert.AreEqual("other", aud[1]);

            var exp = p.FindFirst("exp");
            Assert.AreEqual("1700000000", exp.Value);
            Assert.AreEqual(ClaimValueTypes.Integer64, exp.ValueType);
            Assert.AreEqual(ClaimValueTypes.Double, p.FindFirst("ratio").ValueType);
            Assert.AreEqual("0.5", p.FindFirst("ratio").Value);
            Assert.AreEqual("true", p.FindFirst("admin").Value);
            Assert.AreEqual(ClaimValueTypes.Boolean, p.FindFirst("admin").ValueType);

            // scope is not interpreted: one claim, as the token carries it
            Assert.AreEqual(1, p.FindAll("scope").Count());
            Assert.AreEqual("read write", p.FindFirst("scope").Value);

            var cnf = p.FindFirst("cnf");
            Assert.AreEqual(Claims.JsonClaimValueType, cnf.ValueType);
            Assert.AreEqual("{\"jkt\":\"abc\"}", cnf.Value);
            Assert.True(p.FindFirst("gone") == null, "a null claim is left out");

            foreach (var c in p.Claims) Assert.AreEqual("https://idp.example", c.Issuer, c.Type);
        }

        [Test]
        public void RolesAndNameFollowTheChosenClaimTypes()
        {
            var p = new Claims(Json).ToClaimsPrincipal();
            Assert.True(p.IsInRole("reader") && p.IsInRole("writer"), "roles from the roles array");
            Assert.False(p.IsInRole("admin"), "admin is a claim, not a role");

            var q = new Claims("{\"sub\":\"u\",\"preferred_username\":\"alice\",\"groups\":[\"ops\"]}")
                .ToClaimsPrincipal("DPoP", "preferred_username", "groups");
            Assert.AreEqual("alice", q.Identity.Name);
            Assert.AreEqual("DPoP", q.Identity.AuthenticationType);
            Assert.True(q.IsInRole("ops"), "role from groups");
            Assert.AreEqual(ClaimsIdentity.DefaultIssuer, q.FindFirst("sub").Issuer);
        }

        [Test]
        public void AnEmptyAuthenticationTypeIsNotAuthenticated()
        {
            var p = new Claims("{\"sub\":\"u\"}").ToClaimsPrincipal(null);
            Assert.False(p.Identity.IsAuthenticated, "no authentication type");
        }
    }
}
