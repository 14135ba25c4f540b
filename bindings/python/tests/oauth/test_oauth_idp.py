"""Every protocol flow of the Ruby and Go suites against the real oidc-provider (tests/idp), each
test run twice: the blocking methods and their ``_async`` twins (the ``call`` fixture), with the
same results. Scripted login, device approval and CIBA approval through the IdP's pages and
admin API."""

import asyncio
import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse

import pytest

from liboidc.validator import Claims
from liboidc.oauth import (
    TOKEN_TYPE_ACCESS_TOKEN,
    AuthorizationRequest,
    Cancel,
    CibaRequest,
    DeviceAuthorization,
    OAuthClient,
    Operation,
    Param,
    Registration,
    Token,
)

from .support import CB, OidcError, jwt_payload, key, raises


@pytest.fixture
def client(idp, closing):
    def make(client_id=None, secret=None, **kw):
        return closing(idp.client(client_id, secret, **kw))

    return make


def login(idp, call, c, scope=("openid", "email", "profile", "read"), resources=None):
    req = call(c, "authorization_url", redirect_uri=CB, scope=list(scope), resources=resources)
    assert f"code_challenge={req.code_challenge}" in req.url
    resp = call(c, "parse_authorization_response", idp.browser().authorize(req.url), expected_state=req.state)
    return req, resp.code


# ---- client credentials ----


def test_client_credentials(client, call):
    c = client("svc-basic", "svc-basic-secret")
    tok = call(c, "client_credentials", scope=["read", "write"], resources=["urn:liboidc:rs256"])
    assert isinstance(tok, Token)
    assert tok.token_type == "Bearer"
    assert tok.access_token.count(".") == 2
    assert 1 <= tok.expires_in <= 600
    assert sorted(tok.scopes) == ["read", "write"]
    assert tok.refresh_token is None
    assert tok.raw["access_token"] == tok.access_token
    assert not tok.expired()
    claims = jwt_payload(tok.access_token)
    assert claims["aud"] == "urn:liboidc:rs256" and claims["sub"] == "svc-basic"
    for s in (repr(tok), str(tok), repr(c)):
        assert tok.access_token not in s and "svc-basic-secret" not in s
    assert "[FILTERED]" in repr(tok)


def test_other_algorithms_and_post_auth(client, call):
    post = client("svc-post", "svc-post-secret", auth_method="client_secret_post")
    for res in ("urn:liboidc:es256", "urn:liboidc:eddsa"):
        t = call(post, "client_credentials", scope="read", resources=[res])
        assert jwt_payload(t.access_token)["aud"] == res


def test_oauth_errors_carry_the_servers_fields(client, call):
    bad = client("svc-basic", "wrong-svc-basic-secret")
    with raises("INVALID_CLIENT") as ei:
        call(bad, "client_credentials", scope="read")
    e = ei.value
    assert e.error == "invalid_client"
    assert e.details.get("status") == 401
    assert "wrong-svc-basic-secret" not in str(e) and "wrong-svc-basic-secret" not in repr(e)
    ok = client("svc-basic", "svc-basic-secret")
    with raises("INVALID_TARGET") as ei:
        call(ok, "client_credentials", resources=["urn:liboidc:nope"])
    assert ei.value.error == "invalid_target"


def test_token_endpoint_unreachable(closing, call):
    c = closing(OAuthClient("https://127.0.0.1:9", client_id="x", client_secret="y", timeouts=(0.5, 1)))
    with pytest.raises(OidcError) as ei:
        call(c, "client_credentials")
    assert 200 <= ei.value.code < 300  # the network range


def test_cached_client_credentials(client, call):
    c = client("svc-basic", "svc-basic-secret")
    a = call(c, "client_credentials", scope="read", resources=["urn:liboidc:rs256"], cached=True)
    b = call(c, "client_credentials", scope="read", resources=["urn:liboidc:rs256"], cached=True)
    assert a.access_token == b.access_token
    fresh = call(c, "client_credentials", scope="read", resources=["urn:liboidc:rs256"])
    assert fresh.access_token != a.access_token
    other = call(c, "client_credentials", scope=["read", "write"], resources=["urn:liboidc:rs256"], cached=True)
    assert other.access_token != a.access_token
    with raises("INVALID_TARGET"):
        call(c, "client_credentials", resources=["urn:liboidc:nope"], cached=True)
    with raises("INVALID_CLIENT"):
        call(client("svc-basic", "wrong-secret"), "client_credentials", scope="read", cached=True)


def test_cached_client_credentials_concurrently(client):
    c = client("svc-basic", "svc-basic-secret")

    async def many():
        ts = await asyncio.gather(*(c.client_credentials_async(scope="write", resources=["urn:liboidc:es256"],
                                                               cached=True) for _ in range(8)))
        return {t.access_token for t in ts}

    assert len(asyncio.run(many())) == 1
    tokens = []
    ths = [threading.Thread(target=lambda: tokens.append(
        c.client_credentials(scope="write", resources=["urn:liboidc:es256"], cached=True).access_token))
        for _ in range(6)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert len(set(tokens)) == 1


# ---- authorization code ----


def test_authorization_request_carries_pkce_state_and_nonce(client, call):
    c = client("web-app", "web-app-secret")
    a = call(c, "authorization_url", redirect_uri=CB, scope=["openid"])
    b = call(c, "authorization_url", redirect_uri=CB, scope=["openid"])
    assert isinstance(a, AuthorizationRequest)
    assert len(a.code_verifier) == 43 and a.code_verifier != b.code_verifier and a.state != b.state
    assert a.nonce
    want = base64.urlsafe_b64encode(hashlib.sha256(a.code_verifier.encode()).digest()).rstrip(b"=").decode()
    assert a.code_challenge == want and a.code_challenge_method == "S256"
    assert f"state={a.state}" in a.url and str(a) == a.url
    assert a.code_verifier not in repr(a)
    with pytest.raises(TypeError):
        call(c, "authorization_url", max_age="nope")


def test_authorization_code_pkce_and_refresh(idp, client, call):
    c = client("web-app", "web-app-secret")
    pkce, code = login(idp, call, c)
    with raises("INVALID_GRANT") as ei:
        call(c, "exchange_code", code, redirect_uri=CB,
             code_verifier="wrong-verifier-wrong-verifier-wrong-verifier-0", nonce=pkce.nonce)
    assert ei.value.error == "invalid_grant" and code not in str(ei.value)

    pkce, code = login(idp, call, c, resources=["urn:liboidc:es256"])
    t = call(c, "exchange_code", code, redirect_uri=CB, code_verifier=pkce.code_verifier, nonce=pkce.nonce,
             resources=["urn:liboidc:es256"])
    assert t.token_type == "Bearer" and t.id_token and t.refresh_token
    idc = call(c, "validate_id_token", t.id_token, nonce=pkce.nonce)
    assert idc["sub"] == "user-1" and idc["email"] == "user-1@liboidc.test"
    assert jwt_payload(t.access_token)["sub"] == "user-1"
    for secret in (t.access_token, t.refresh_token, t.id_token):
        assert secret not in repr(t)

    t2 = call(c, "refresh", t, resources=["urn:liboidc:es256"])
    assert t2.refresh_token != t.refresh_token and t2.id_token
    with raises("INVALID_GRANT") as ei:
        call(c, "refresh", t.refresh_token)
    assert t.refresh_token not in str(ei.value)
    with raises("INVALID_ARGUMENT"):
        call(c, "refresh", Token(access_token="x", token_type="Bearer"))
    with raises("INVALID_GRANT"):  # the code is single use
        call(c, "exchange_code", code, redirect_uri=CB, pkce=pkce)


def test_public_client_with_pkce_shortcut(idp, client, call):
    native = client("native-app")
    pkce, code = login(idp, call, native, scope=["openid"])
    t = call(native, "exchange_code", code, redirect_uri=CB, pkce=pkce)
    assert t.id_token and t.refresh_token
    pkce, code = login(idp, call, native, scope=["openid"])
    with raises("NONCE_MISMATCH"):
        call(native, "exchange_code", code, redirect_uri=CB, code_verifier=pkce.code_verifier, nonce="other-nonce")


def own_pkce():
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_code_flow_id_token_userinfo_introspection_revocation(idp, client, call):
    web = client("web-app", "web-app-secret")
    verifier, challenge = own_pkce()
    req = call(web, "authorization_url", redirect_uri=CB, scope=["openid", "email", "profile"],
               code_challenge=challenge, max_age=600)
    assert req.url.startswith(idp.issuer) and f"code_challenge={challenge}" in req.url
    assert req.code_verifier is None
    redirect = idp.browser().authorize(req.url)
    resp = call(web, "parse_authorization_response", redirect, expected_state=req.state)
    assert resp.iss == idp.issuer and not resp.jarm and resp.code not in repr(resp)
    t = call(web, "exchange_code", resp.code, redirect_uri=CB, code_verifier=verifier, nonce=req.nonce)
    at, rt = t.access_token, t.refresh_token

    claims = call(web, "validate_id_token", t.id_token, nonce=req.nonce, access_token=at, max_age=600)
    assert isinstance(claims, Claims) and claims.sub == "user-1"
    assert claims["sub"] == "user-1" and claims["aud"] in ("web-app", ["web-app"])
    with raises("NONCE_MISMATCH"):
        call(web, "validate_id_token", t.id_token, nonce="other")
    if "at_hash" in claims:
        with raises("HASH_MISMATCH"):
            call(web, "validate_id_token", t.id_token, access_token="not-the-token")
    with raises("TOKEN_MALFORMED"):
        call(web, "validate_id_token", "garbage")

    ui = call(web, "userinfo", at, expected_subject="user-1")
    assert isinstance(ui, Claims) and ui.sub == "user-1"
    assert ui["email"] == "user-1@liboidc.test"
    assert call(web, "userinfo", t)["sub"] == "user-1"
    with raises("SUBJECT_MISMATCH"):
        call(web, "userinfo", at, expected_subject="someone-else")
    with raises("INVALID_TOKEN") as ei:
        call(web, "userinfo", "not-a-valid-access-token")
    assert ei.value.error == "invalid_token" and "not-a-valid-access-token" not in str(ei.value)

    i = call(web, "introspect", at, token_type_hint="access_token")
    assert isinstance(i, Claims) and i["active"] is True and i.sub == "user-1"
    j = call(web, "introspect", at, signed=True)
    assert j["active"] is True and j["client_id"] == "web-app"
    assert call(web, "introspect", rt, token_type_hint="refresh_token")["active"] is True
    assert call(web, "revoke", at, token_type_hint="access_token") is None
    assert call(web, "introspect", at)["active"] is False
    call(web, "revoke", rt)
    assert call(web, "introspect", rt)["active"] is False
    call(web, "revoke", "never-issued")  # RFC 7009 §2.2: not an error

    with raises("STATE_MISMATCH"):
        call(web, "parse_authorization_response", redirect, expected_state="another")
    no_iss = "&".join(p for p in redirect.split("&") if not p.startswith("iss="))
    with raises("RESPONSE_ISSUER_MISMATCH"):
        call(web, "parse_authorization_response", no_iss, expected_state=req.state)


def test_error_response_and_bad_client(idp, client, call):
    web = client("web-app", "web-app-secret")
    err = (f"{CB}?error=access_denied&error_description=user+said+no&error_uri=https%3A%2F%2Fidp.example%2Fwhy"
           f"&state=s1&iss={urllib.parse.quote(idp.issuer, safe='')}")
    with raises("ACCESS_DENIED") as ei:
        call(web, "parse_authorization_response", err, expected_state="s1")
    assert ei.value.error == "access_denied" and ei.value.error_description == "user said no"
    assert ei.value.error_uri == "https://idp.example/why"
    bad = client("web-app", "wrong-secret")
    with raises("INVALID_CLIENT") as ei:
        call(bad, "introspect", "whatever")
    assert "wrong-secret" not in str(ei.value)
    with raises("INVALID_CLIENT"):
        call(bad, "revoke", "whatever")


def test_par_and_end_session(idp, client, call):
    web = client("web-app", "web-app-secret")
    _, challenge = own_pkce()
    par = call(web, "push_authorization_request", redirect_uri=CB, scope=["openid"], code_challenge=challenge)
    assert par.request_uri.startswith("urn:ietf:params:oauth:request_uri:") and par.expires_in > 0
    url = call(web, "authorization_url", request_uri=par.request_uri).url
    assert "request_uri=" in url and "client_id=web-app" in url
    logout = call(web, "end_session_url", post_logout_redirect_uri="http://127.0.0.1/logout-cb", state="bye")
    assert logout.startswith(idp.issuer) and "client_id=web-app" in logout and "state=bye" in logout


# ---- device and CIBA ----


def test_device_flow_with_scripted_approval(idp, client, call):
    c = client("device-app")
    da = call(c, "device_authorization", scope="openid")
    assert isinstance(da, DeviceAuthorization)
    assert da.verification_uri.startswith(idp.issuer) and da.user_code
    assert da.interval == 5 and da.expires_in > 0 and not da.expired()
    assert da.user_code in repr(da) and da.device_code not in repr(da)
    t0 = time.monotonic()
    with raises("DEADLINE_EXCEEDED"):
        call(c, "poll_device", da, deadline=0.2)
    assert time.monotonic() - t0 < 2
    idp.browser().approve_device(da.user_code)
    t = call(c, "poll_device", da, deadline=30)
    assert t.access_token and t.id_token
    with raises("INVALID_GRANT"):  # consumed
        call(c, "poll_device", da, deadline=1)
    da.close()
    with pytest.raises(Exception, match="closed"):
        call(c, "poll_device", da, deadline=1)
    with pytest.raises(TypeError):
        call(c, "poll_device", "device-code", deadline=1)


def test_device_poll_cancelled_from_another_thread(client, closing):
    c = client("device-app")
    da = closing(c.device_authorization(scope="openid"))
    cancel = closing(Cancel())
    out = {}

    def poll():
        try:
            c.poll_device(da, cancel=cancel)
        except OidcError as e:
            out["e"] = e

    t0 = time.monotonic()
    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.5)  # Python runs while the poll waits inside liboidc (GIL released)
    cancel.cancel()
    th.join(10)
    assert out["e"].code_name == "CANCELLED"
    assert time.monotonic() - t0 < 4, "cancel ended the 5 s wait"
    with raises("CANCELLED"):  # stays cancelled
        c.poll_device(da, cancel=cancel)


def test_device_poll_cancelled_from_another_task(client, closing):
    """The asyncio path: cancelling the awaiting task cancels the native poll (no thread)."""
    c = client("device-app")
    da = closing(c.device_authorization(scope="openid"))

    async def main():
        ticks = 0
        task = asyncio.ensure_future(c.poll_device_async(da, deadline=60))

        async def canceller():
            nonlocal ticks
            for _ in range(5):  # the loop runs while the poll waits on liboidc's timer
                await asyncio.sleep(0.1)
                ticks += 1
            task.cancel()

        t0 = time.monotonic()
        await canceller()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ticks, time.monotonic() - t0

    ticks, took = asyncio.run(main())
    assert ticks == 5 and took < 3
    # a shared Cancel handle triggered from another task ends a poll with CANCELLED
    cancel = closing(Cancel())

    async def shared():
        polls = [asyncio.ensure_future(c.poll_device_async(da, cancel=cancel)) for _ in range(3)]
        await asyncio.sleep(0.3)
        cancel.cancel()
        return await asyncio.gather(*polls, return_exceptions=True)

    res = asyncio.run(shared())
    assert [getattr(e, "code_name", e) for e in res] == ["CANCELLED"] * 3


def test_ciba_poll_mode(idp, client, call):
    c = client("svc-pkjwt", private_key_pem=key("rsa.pem"), private_key_kid="client-rsa")
    req = call(c, "ciba_request", scope=["openid", "email"], login_hint="user-1")
    assert isinstance(req, CibaRequest) and req.auth_req_id not in repr(req)
    with raises("DEADLINE_EXCEEDED"):
        call(c, "poll_ciba", req, deadline=0.1)
    assert idp.approve_ciba(req.auth_req_id)["ok"] is True
    t = call(c, "poll_ciba", req, deadline=30)
    assert call(c, "validate_id_token", t.id_token)["sub"] == "user-1"
    req.close()
    denied = call(c, "ciba_request", scope="openid", login_hint="user-2")
    idp.approve_ciba(denied.auth_req_id, deny=True)
    with raises("ACCESS_DENIED") as ei:
        call(c, "poll_ciba", denied, deadline=30)
    assert ei.value.error == "access_denied"
    denied.close()


# ---- extension grants, keys, DPoP ----


def test_token_exchange_jwt_bearer_custom_grant(client, call):
    svc = client("svc-basic", "svc-basic-secret")
    pk = client("svc-pkjwt", private_key_pem=key("ec.pem"), private_key_kid="client-ec")
    assert not any("PRIVATE KEY" in str(v) for v in vars(pk).values())
    subject = call(svc, "client_credentials")
    t = call(pk, "token_exchange", subject.access_token, audience="urn:x:downstream")
    assert t.issued_token_type == TOKEN_TYPE_ACCESS_TOKEN
    with raises("INVALID_GRANT"):
        call(pk, "token_exchange", "not-a-token")
    t = call(pk, "jwt_bearer", subject="user-1", scope="read")
    assert t.access_token
    with raises("INVALID_ARGUMENT"):
        call(pk, "jwt_bearer")
    with raises("INVALID_GRANT") as ei:
        call(pk, "jwt_bearer", assertion="not.a.jwt")
    assert "not.a.jwt" not in str(ei.value)
    foreign = client("svc-pkjwt", private_key_pem=key("dpop-ec.pem"), private_key_kid="client-ec")
    with raises("INVALID_CLIENT"):
        call(foreign, "jwt_bearer", subject="user-1")
    t = call(pk, "custom_grant", "urn:liboidc:grant-type:echo", {"color": "blue", "size": "XL"})
    assert t["echo"] == {"color": "blue", "size": "XL"}
    with raises("INVALID_REQUEST"):
        call(pk, "custom_grant", "urn:liboidc:grant-type:echo")
    rsa = client("svc-pkjwt", private_key_pem=key("rsa.pem"), private_key_kid="client-rsa", private_key_alg="PS256")
    assert call(rsa, "client_credentials").access_token
    jwk = client("svc-pkjwt", private_key_jwk=json.loads(key("ed25519.jwk.json")))
    assert call(jwk, "client_credentials").access_token


def test_dpop(idp, client, call):
    c = client("svc-basic", "svc-basic-secret", dpop_key=key("dpop-ec.pem"))
    assert c.dpop and "dpop" in repr(c)
    t = call(c, "client_credentials", scope="read", resources=["urn:liboidc:es256"])
    assert t.token_type == "DPoP"
    assert jwt_payload(t.access_token)["cnf"]["jkt"] == c.dpop_jkt()
    proof = c.dpop_proof("get", f"{idp.issuer}/me", access_token=t.access_token)
    head = proof.split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["typ"] == "dpop+jwt"
    assert c.dpop_nonce(f"{idp.issuer}/me", "n-1") is None

    w = client("web-app", "web-app-secret", dpop_key=True)
    pkce, code = login(idp, call, w, scope=["openid", "email"])
    t = call(w, "exchange_code", code, redirect_uri=CB, pkce=pkce)
    assert t.token_type == "DPoP"
    me = f"{idp.issuer}/me"
    r = call(w, "resource_request", "get", me, t)
    assert r.status == 200 and r.ok, r.body
    assert r.json()["sub"] == "user-1" and "user-1" not in repr(r)
    bearer = call(w, "resource_request", "GET", me, t.access_token, token_type="Bearer")
    assert bearer.status == 401 and bearer.www_authenticate
    assert call(c, "resource_request", "GET", me, t).status == 401
    assert call(w, "refresh", t).token_type == "DPoP"
    with pytest.raises(OidcError):
        client("web-app", "web-app-secret").dpop_jkt()


def test_endpoint(idp, client, call):
    c = client("web-app", "web-app-secret")
    assert call(c, "endpoint", "token_endpoint") == idp.token_endpoint
    assert call(c, "endpoint", "device_authorization_endpoint") == f"{idp.issuer}/device/auth"
    o = client("web-app", "web-app-secret", endpoints={"token_endpoint": "https://127.0.0.1:9/token"})
    assert call(o, "endpoint", "token_endpoint") == "https://127.0.0.1:9/token"
    with pytest.raises(OidcError):
        call(c, "endpoint", "no_such_endpoint")


# ---- registration ----

MD = {"redirect_uris": ["https://127.0.0.1/cb"], "grant_types": ["client_credentials"], "response_types": [],
      "token_endpoint_auth_method": "client_secret_basic"}


def test_dynamic_registration(idp, client, call):
    anon = client()
    reg = call(anon, "register", MD)
    assert isinstance(reg, Registration) and reg.client_id and reg.client_secret
    for s in (repr(reg), str(reg)):
        assert reg.client_secret not in s
        if reg.registration_access_token:
            assert reg.registration_access_token not in s
    c = client(reg.client_id, reg.client_secret)
    assert call(c, "client_credentials").access_token
    with raises("INVALID_CLIENT_METADATA") as ei:
        call(anon, "register", {"redirect_uris": ["https://127.0.0.1/cb"], "token_endpoint_auth_method": "bogus"})
    assert ei.value.error == "invalid_client_metadata"
    with raises("INVALID_ARGUMENT"):
        call(anon, "register", "[1]")


def test_registration_management(client, call):
    anon = client()
    reg = call(anon, "register", MD, params={"client_name": "before"})
    assert reg["client_name"] == "before" and reg.registration_client_uri and reg.registration_access_token
    with raises("INVALID_CONFIG"):
        call(anon, "registration_read", reg)
    c = client(reg.client_id, reg.client_secret)
    assert call(c, "registration_read", reg).client_id == reg.client_id
    up = call(c, "registration_update", reg, metadata={**MD, "client_id": reg.client_id, "client_name": "after"})
    assert up["client_name"] == "after"
    assert call(c, "registration_delete", reg) is None
    with pytest.raises(OidcError):
        call(c, "registration_read", reg)
    with pytest.raises(TypeError):
        call(c, "registration_read", "not a registration")


# ---- the generic request against the IdP ----


def test_generic_request_blocking_async_and_reused(client, closing):
    c = client("svc-basic", "svc-basic-secret")
    req = closing(c.request(Operation.CLIENT_CREDENTIALS, scope=["read", "write"]).set(Param.RESOURCE,
                                                                                        ["urn:liboidc:rs256"]))
    a = closing(req.send())
    b = closing(asyncio.run(req.send_async()))
    assert a.operation is Operation.CLIENT_CREDENTIALS and a.token_type == "Bearer"
    assert 1 <= a.expires_in <= 600 and sorted(a.scope.split()) == ["read", "write"]
    assert a.access_token == a.to_dict()["access_token"] and a.access_token != b.access_token
    assert a.access_token not in repr(a) and a.access_token not in repr(req)
    assert Token.from_response(a).access_token == a.access_token
    bad = closing(c.request(Operation.CLIENT_CREDENTIALS, resource=["urn:liboidc:nope"]))
    with raises("INVALID_TARGET") as ei:
        bad.send()
    assert ei.value.error == "invalid_target"
    with raises("INVALID_TARGET"):
        asyncio.run(bad.send_async())


def test_one_request_from_many_threads_and_tasks(client, closing):
    c = client("svc-basic", "svc-basic-secret")
    req = closing(c.request(Operation.CLIENT_CREDENTIALS, scope=["read"], resource=["urn:liboidc:rs256"]))
    tokens = []

    def one():
        with req.send() as r:
            tokens.append(r.access_token)

    ths = [threading.Thread(target=one) for _ in range(6)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()

    async def many():
        rs = await asyncio.gather(*(req.send_async() for _ in range(6)))
        out = [r.access_token for r in rs]
        for r in rs:
            r.close()
        return out

    tokens += asyncio.run(many())
    assert len(set(tokens)) == 12


def test_device_poll_by_hand_and_ciba_poll_from_the_response(idp, client, closing):
    c = client("device-app")
    start = closing(c.request(Operation.DEVICE_AUTHORIZATION, scope=["openid"]).send())
    assert start.operation is Operation.DEVICE_AUTHORIZATION and start.device_code and start.interval == 5
    poll = closing(c.request(Operation.DEVICE_POLL, device_code=start.device_code, interval_secs=start.interval,
                             expires_in_secs=start.expires_in))
    with raises("DEADLINE_EXCEEDED"):
        poll.send(deadline=0.3)
    with raises("DEADLINE_EXCEEDED"):
        asyncio.run(poll.send_async(deadline=0.3))
    idp.browser().approve_device(start.user_code)
    tok = closing(asyncio.run(poll.send_async(deadline=30)))
    assert tok.operation is Operation.DEVICE_POLL and tok.access_token and tok.id_token

    k = client("svc-pkjwt", private_key_pem=key("rsa.pem"), private_key_kid="client-rsa")
    ciba = closing(k.request(Operation.CIBA_REQUEST, scope=["openid"], login_hint="user-1").send())
    assert ciba.auth_req_id
    idp.approve_ciba(ciba.auth_req_id)
    tok = closing(k.request(Operation.CIBA_POLL).pending(ciba).send(deadline=30))
    assert tok.access_token
    with pytest.raises(TypeError):
        k.request(Operation.CIBA_POLL).pending("auth-req-id")
