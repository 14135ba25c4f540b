"""The request object as Python sees it, without a server: liboidc's parameter errors passed on,
local operations, cancel and deadlines before any network, object lifetimes, and bad input
(wrong types, None, invalid UTF-8, huge values) giving Python exceptions, never a crash."""

import asyncio
import gc
import threading
import time

import pytest

from liboidc import _aio, oauth
from liboidc.oauth import Cancel, Field, OAuthClient, OAuthRequest, OAuthResponse, Operation, Param

from .support import OidcError, raises


@pytest.fixture
def offline(closing):
    """No network at all: a fixed token endpoint, an issuer nobody listens on."""

    def make(**kw):
        return closing(OAuthClient("https://127.0.0.1:9", client_id="x", client_secret="s",
                                   endpoints={"token_endpoint": "https://127.0.0.1:9/token"}, **kw))

    return make


# ---- liboidc decides about parameters; the binding passes its errors on ----


def test_wrong_parameter_for_the_operation(offline, closing):
    r = closing(offline().request(Operation.CLIENT_CREDENTIALS))
    with raises("INVALID_ARGUMENT") as ei:
        r.set(Param.REFRESH_TOKEN, "rt")
    assert "REFRESH_TOKEN" in str(ei.value) and "CLIENT_CREDENTIALS" in str(ei.value)
    with raises("INVALID_ARGUMENT"):
        r.set("code", "c")
    with raises("INVALID_ARGUMENT"):
        r.set_int(Param.MAX_AGE, 10)
    # what applies is accepted, chained
    assert r.set(Param.SCOPE, ["read", "write"]).set("resource", "urn:x:api").set(Param.USE_CACHE, True) is r


def test_wrong_kind_and_bad_values(offline, closing):
    r = closing(offline().request(Operation.CLIENT_CREDENTIALS))
    with raises("INVALID_ARGUMENT"):
        r.set_string(Param.SCOPE, "read")  # a list given to set_string
    with raises("INVALID_ARGUMENT"):
        r.add(Param.SCOPE, "read write")  # a space inside a scope item
    rr = closing(offline().request(Operation.REFRESH))
    with raises("INVALID_ARGUMENT"):
        rr.add(Param.REFRESH_TOKEN, "x")
    with raises("INVALID_ARGUMENT"):
        rr.set_string(Param.DEADLINE_MS, "5")
    with raises("INVALID_ARGUMENT"):
        rr.set(Param.REFRESH_TOKEN, "")
    with raises("INVALID_ARGUMENT"):
        rr.set(Param.DEADLINE_MS, 0)  # out of the parameter's range


def test_custom_parameters_liboidc_sets_itself_are_refused(offline, closing):
    r = closing(offline().request(Operation.REFRESH))
    for name in ("grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type"):
        with raises("INVALID_ARGUMENT") as ei:
            r.param(name, "x")
        assert name in str(ei.value)
    with raises("INVALID_ARGUMENT") as ei:
        r.param("refresh_token", "x")
    assert "REFRESH_TOKEN" in str(ei.value)
    r.param("tenant", "t1").params({"audience_hint": ["a", "b"], "skipped": None, "n": 3})


def test_missing_required_parameter_at_send(offline, closing, mode):
    c = offline()
    r = closing(c.request(Operation.REFRESH))
    with raises("INVALID_ARGUMENT") as ei:
        r.send() if mode == "sync" else asyncio.run(r.send_async())
    assert "REFRESH_TOKEN" in str(ei.value)
    with raises("INVALID_ARGUMENT"):
        c.refresh(None) if mode == "sync" else asyncio.run(c.refresh_async(None))


def test_client_without_client_id_can_only_register(closing):
    anon = closing(OAuthClient("https://127.0.0.1:9"))
    assert anon.client_id is None
    with raises("INVALID_CONFIG"):
        anon.request(Operation.CLIENT_CREDENTIALS)
    closing(anon.request(Operation.REGISTER, metadata={"redirect_uris": ["https://app.example/cb"]}))


def test_unknown_operation_param_field(offline, closing):
    c = offline()
    with pytest.raises(ValueError):
        c.request("no_such_operation")
    with pytest.raises(ValueError):
        c.request(999)
    r = closing(c.request(Operation.CLIENT_CREDENTIALS))
    with pytest.raises(ValueError):
        r.set("no_such_param", "x")
    with pytest.raises(TypeError):
        r.set(1.5, "x")
    with pytest.raises(TypeError):
        OAuthRequest("not a client", Operation.REFRESH)


# ---- responses of a local operation (no network), sync and async ----


def test_local_operation_response(offline, closing, mode):
    c = offline()
    req = closing(c.request(Operation.ENDPOINT, endpoint_name="token_endpoint"))
    resp = closing(req.send() if mode == "sync" else asyncio.run(req.send_async()))
    assert isinstance(resp, OAuthResponse)
    assert resp.operation is Operation.ENDPOINT
    assert resp.url == "https://127.0.0.1:9/token"
    assert resp[Field.URL] == resp.string("url") == resp.url
    assert resp.to_dict() == {"url": "https://127.0.0.1:9/token"}
    assert resp.access_token is None and resp.expires_in is None and resp.int(Field.HTTP_STATUS) is None
    assert c.endpoint("token_endpoint") == resp.url
    assert asyncio.run(c.endpoint_async("token_endpoint")) == resp.url
    resp.close()
    resp.close()  # twice is harmless
    with pytest.raises(Exception) as ei:
        resp.url
    assert "closed" in str(ei.value)
    req.close()
    with pytest.raises(Exception, match="closed"):
        req.send()
    with pytest.raises(Exception, match="closed"):
        req.set(Param.ENDPOINT_NAME, "x")


def test_authorization_url_offline_with_endpoint_override(closing):
    c = closing(OAuthClient("https://127.0.0.1:9", client_id="web", client_secret="s",
                            endpoints={"authorization_endpoint": "https://127.0.0.1:9/auth"}))
    a = c.authorization_url(redirect_uri="https://app.example/cb", scope=["openid"], state="s1")
    assert a.url.startswith("https://127.0.0.1:9/auth?") and "state=s1" in a.url
    assert a.state == "s1" and a.nonce and len(a.code_verifier) == 43
    assert a.code_verifier not in repr(a)


def test_closed_client(offline):
    c = offline()
    c.close()
    c.close()
    assert c.closed
    with pytest.raises(Exception, match="closed"):
        c.endpoint("token_endpoint")
    with pytest.raises(Exception, match="closed"):
        asyncio.run(c.endpoint_async("token_endpoint"))
    with pytest.raises(Exception, match="closed"):
        c.request(Operation.ENDPOINT)


def test_context_managers(offline):
    with offline() as c:
        with c.request(Operation.ENDPOINT, endpoint_name="token_endpoint") as r, r.send() as resp:
            assert resp.url
        assert r.closed and resp.closed
    assert c.closed


# ---- cancel and deadlines before any network ----


def test_triggered_cancel_and_passed_deadline(offline, closing, call):
    c = offline()
    cancel = closing(Cancel())
    assert not cancel.cancelled
    cancel.cancel()
    cancel.cancel()  # idempotent
    assert cancel.cancelled
    with raises("CANCELLED"):
        call(c, "client_credentials", cancel=cancel)
    late = closing(Cancel(timeout=0.001))
    time.sleep(0.02)
    assert not late.cancelled
    with raises("DEADLINE_EXCEEDED"):
        call(c, "client_credentials", cancel=late)


def test_cancel_arguments(offline, closing):
    c = offline()
    with pytest.raises(ValueError):
        Cancel(timeout=0)
    with pytest.raises(ValueError):
        Cancel(timeout=-1)
    with pytest.raises(ValueError):
        Cancel(timeout=float("nan"))
    with pytest.raises(ValueError):
        Cancel(timeout=10**9)
    with pytest.raises(TypeError):
        Cancel(timeout="5")
    r = closing(c.request(Operation.CLIENT_CREDENTIALS))
    with pytest.raises(ValueError):
        r.send(cancel=closing(Cancel()), deadline=1)
    with pytest.raises(TypeError):
        r.send(cancel="no")
    with pytest.raises(TypeError):
        asyncio.run(r.send_async(cancel="no"))
    with pytest.raises(ValueError):
        c.client_credentials(deadline=0)
    cc = Cancel()
    cc.close()
    with pytest.raises(Exception, match="closed"):
        r.send(cancel=cc)


# ---- bad input: Python exceptions, never a crash ----


def test_wrong_types_and_none(offline, closing):
    c = offline()
    r = closing(c.request(Operation.CLIENT_CREDENTIALS))
    with pytest.raises(TypeError):
        r.set(Param.SCOPE, 42)
    with pytest.raises(TypeError):
        r.add(Param.SCOPE, None)
    with pytest.raises(TypeError):
        r.set(Param.SCOPE, [b"read", None])
    with pytest.raises(TypeError):
        r.set_int(Param.USE_CACHE, "1")
    with pytest.raises(TypeError):
        r.set_int(Param.USE_CACHE, None)
    with pytest.raises(OverflowError):
        r.set_int(Param.USE_CACHE, 2**64)
    with pytest.raises(TypeError):
        r.param(None, "x")
    with pytest.raises(TypeError):
        r.param("x", None)
    with pytest.raises(TypeError):
        r.params(["not", "a", "mapping"])
    with pytest.raises(TypeError):
        r.pending("device-code")
    with pytest.raises(TypeError):
        c.poll_device("device-code")
    with pytest.raises(TypeError):
        asyncio.run(c.poll_ciba(None))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c.registration_read("not a registration")
    with pytest.raises(TypeError):
        c.resource_request(None, "https://127.0.0.1:9/x", "t")
    with pytest.raises(TypeError):
        OAuthClient(None)
    with pytest.raises(TypeError):
        OAuthClient("https://127.0.0.1:9", client_id=5)
    with pytest.raises(TypeError):
        OAuthClient("https://127.0.0.1:9", endpoints=[("token_endpoint", "https://x")])
    with pytest.raises(TypeError):
        OAuthClient("https://127.0.0.1:9", timeouts=5)
    with pytest.raises(ValueError):
        OAuthClient("https://127.0.0.1:9", timeouts=(0, 1))
    with pytest.raises(ValueError):
        OAuthClient("https://127.0.0.1:9", private_key_pem="a", private_key_jwk="b")


def test_invalid_utf8_and_strange_strings(offline, closing):
    c = offline()
    r = closing(c.request(Operation.REFRESH))
    with raises("INVALID_UTF8"):
        r.set(Param.REFRESH_TOKEN, b"\xff\xfe")
    with raises("INVALID_UTF8"):
        r.param(b"na\xc3", "v")
    with pytest.raises(ValueError):
        r.set(Param.REFRESH_TOKEN, "lone \udc80 surrogate")
    with raises("INVALID_UTF8"):
        OAuthClient(b"https://\xff")
    with pytest.raises(OidcError):
        OAuthClient("https://127.0.0.1:9", client_id="x", client_secret="s", ca_file="/nonexistent/ca.pem")
    with pytest.raises(OidcError):
        OAuthClient("http://example.com", client_id="x")  # https only
    # NUL inside a value reaches liboidc with its length: its decision, not a truncation
    try:
        r.set(Param.REFRESH_TOKEN, "a\x00b")
    except OidcError:
        pass
    # huge values: accepted or refused by liboidc, never a crash
    big = "x" * (4 * 1024 * 1024)
    try:
        r.set(Param.REFRESH_TOKEN, big)
    except OidcError:
        pass
    try:
        r.param("p", big)
    except OidcError:
        pass


def test_bad_keys_fail_at_construction_without_echo(closing):
    with pytest.raises(OidcError) as ei:
        OAuthClient("https://127.0.0.1:9", client_id="x", private_key_pem="-----BEGIN PRIVATE KEY-----\nnope\n")
    assert "nope" not in str(ei.value)
    with pytest.raises(OidcError):
        OAuthClient("https://127.0.0.1:9", client_id="x", private_key_jwk={"kty": "RSA", "n": "bad"})
    with pytest.raises(OidcError):
        OAuthClient("https://127.0.0.1:9", client_id="x", dpop_key="not a key")
    with pytest.raises(ValueError):
        OAuthClient("https://127.0.0.1:9", client_id="x", dpop_key="")
    with pytest.raises(OidcError):
        OAuthClient("https://127.0.0.1:9", client_id="x", auth_method="bogus")
    with pytest.raises(OidcError):
        OAuthClient("https://127.0.0.1:9", client_id="x", assertion_audience="bogus")


# ---- lifetimes ----


def test_forgotten_requests_and_responses_are_freed(offline):
    c = offline()
    fins = []
    for _ in range(200):
        r = c.request(Operation.ENDPOINT, endpoint_name="token_endpoint")
        resp = r.send()
        fins += [r._h._fin, resp._h._fin]
    del r, resp
    gc.collect()
    assert not any(f.alive for f in fins)


def test_per_operation_methods_free_request_and_response(offline, monkeypatch):
    c = offline()
    made = []
    orig = oauth._Handle.__init__

    def spy(self, ptr, free, what):
        orig(self, ptr, free, what)
        made.append(self)

    monkeypatch.setattr(oauth._Handle, "__init__", spy)
    base = _aio.in_flight()
    for _ in range(3):
        c.endpoint("token_endpoint")
        asyncio.run(c.endpoint_async("token_endpoint"))
    with raises("INVALID_ARGUMENT"):
        c.refresh(None)
    with raises("INVALID_ARGUMENT"):
        asyncio.run(c.refresh_async(None))
    # every request and response closed explicitly, no async call left in flight
    assert _aio.in_flight() <= base
    assert made and all(h.closed and not h._fin.alive for h in made), [h._what for h in made if not h.closed]


def test_setter_waits_for_a_running_blocking_send(offline, closing):
    """A handle used by a running call is freed when that call returns, not under it."""
    c = offline()
    req = closing(c.request(Operation.ENDPOINT, endpoint_name="token_endpoint"))
    with req._h.use():
        t0 = time.monotonic()
        th = threading.Thread(target=lambda: req.set(Param.ENDPOINT_NAME, "token_endpoint"))
        th.start()
        time.sleep(0.2)
        assert th.is_alive(), "the setter waits while a send reads the request"
    th.join(5)
    assert time.monotonic() - t0 >= 0.2
    assert req.send().url is not None
    # close while in use: freed when the use ends
    with req._h.use():
        req.close()
        assert req._h._fin.alive
    assert not req._h._fin.alive


def test_many_concurrent_async_calls(offline):
    """1000 non-blocking calls at once on one loop: every one completes through the callback."""
    from liboidc import _aio

    c = offline()
    base = _aio.in_flight()  # (a call of an earlier test may still be draining: see the report)

    async def main():
        return await asyncio.gather(*(c.endpoint_async("token_endpoint") for _ in range(1000)))

    urls = asyncio.run(main())
    assert urls == ["https://127.0.0.1:9/token"] * 1000
    assert _aio.in_flight() <= base
