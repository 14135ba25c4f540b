// The generic request object against the real oidc-provider: the same token as the typed
// method, on the blocking and the non-blocking send; a poll continued by hand from the start's
// fields instead of SetPending; custom parameters on an operation.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    public partial class IdpTests
    {
        [Test]
        public async Task TheGenericRequestOnBothSends()
        {
            using (var c = Client())
            using (var v = Validator("urn:liboidc:rs256"))
            using (var r = c.NewRequest(OAuthOperation.ClientCredentials).Add(OAuthParam.Scope, new[] { "read", "write" })
                .Add(OAuthParam.Resource, "urn:liboidc:rs256"))
            {
                using (var blocking = r.Send())
                using (var async = await r.SendAsync())
                {
                    foreach (var t in new[] { blocking, async })
                    {
                        Assert.AreEqual(OAuthOperation.ClientCredentials, t.Operation);
                        Assert.AreEqual("Bearer", t.GetString(OAuthField.TokenType));
                        Assert.AreEqual("read write", t.GetString(OAuthField.Scope));
                        Assert.AreEqual(600L, t.GetInt(OAuthField.ExpiresIn));
                        Assert.Null(t.GetString(OAuthField.RefreshToken));
                        Assert.Contains("\"access_token\"", t.Json);
                        Assert.AreEqual("svc-basic", v.Validate(t.GetString(OAuthField.AccessToken)).Subject);
                        Assert.DoesNotContain(t.GetString(OAuthField.AccessToken), t.ToString());
                    }
                    Assert.True(blocking.GetString(OAuthField.AccessToken) != async.GetString(OAuthField.AccessToken), "two requests");
                }
            }
        }

        [Test]
        public void ADevicePollContinuedByHandOrBySetPending()
        {
            using (var c = Client("device-app", null, AuthMethods.None))
            using (var start = c.NewRequest(OAuthOperation.DeviceAuthorization).Add(OAuthParam.Scope, "openid").Send())
            {
                Assert.AreEqual(OAuthOperation.DeviceAuthorization, start.Operation);
                string deviceCode = start.GetString(OAuthField.DeviceCode);
                Assert.True(!string.IsNullOrEmpty(deviceCode), "device code");
                using (var byHand = c.NewRequest(OAuthOperation.DevicePoll).Set(OAuthParam.DeviceCode, deviceCode)
                    .Set(OAuthParam.IntervalSecs, 1).Set(OAuthParam.DeadlineMs, 300))
                    Assert.Throws<DeadlineExceededException>(() => byHand.Send(), "pending");
                NewBrowser().ApproveDevice(start.GetString(OAuthField.UserCode));
                using (var poll = c.NewRequest(OAuthOperation.DevicePoll).SetPending(start).Set(OAuthParam.DeadlineMs, 30000))
                using (var t = poll.SendAsync().Result)
                {
                    Assert.AreEqual(OAuthOperation.DevicePoll, t.Operation);
                    Assert.True(t.GetString(OAuthField.AccessToken).Length > 0);
                    Assert.NotNull(t.GetString(OAuthField.IdToken), "validated ID token");
                }
                // SetPending refuses a response that started nothing.
                using (var other = c.NewRequest(OAuthOperation.Endpoint).Set(OAuthParam.EndpointName, "token_endpoint").Send())
                using (var poll = c.NewRequest(OAuthOperation.DevicePoll))
                    Assert.Throws<InvalidArgumentException>(() => poll.SetPending(other));
            }
        }

        [Test]
        public void CustomParametersReachTheServer()
        {
            using (var pk = PkJwtClient())
            using (var r = pk.NewRequest(OAuthOperation.CustomGrant).Set(OAuthParam.GrantType, "urn:liboidc:grant-type:echo")
                .AddParameter("color", "red").AddParameter("size", "S"))
            using (var t = r.SendAsync().Result)
            {
                var echoed = (Dictionary<string, object>)Json.ParseObject(t.Json)["echo"];
                Assert.AreEqual("red", (string)echoed["color"]);
                Assert.AreEqual("S", (string)echoed["size"]);
            }
        }
    }
}
