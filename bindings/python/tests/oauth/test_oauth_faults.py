"""Faults a real server will not produce, from the plain-HTTP mock (tests/c/mock_token_server.py):
bad token/device/CIBA responses give clear codes within the timeout on both paths, secrets never
shown; a pending device poll and a hanging request end at their deadline or cancel."""

import asyncio
import time

import pytest

from liboidc._native import ffi
from liboidc.oauth import Cancel, OAuthClient, Operation, Param

from .support import OidcError, raises

SECRETS = ["mock-client-secret", "CODE-SECRET-1", "VERIFIER-SECRET-1", "RT-SECRET-1", "SUBJECT-SECRET-1",
           "ASSERTION-SECRET-1"]


def mock_client(idp, mock, closing, token="ok", device="ok-device", ciba="ok-ciba", total=0.8):
    return closing(OAuthClient(idp.issuer, client_id="mock-client", client_secret="mock-client-secret",
                               ca_file=idp.ca_file, allow_http_loopback=True, timeouts=(0.5, total),
                               endpoints={"token_endpoint": token_url(mock, token),
                                          "device_authorization_endpoint": token_url(mock, device),
                                          "backchannel_authentication_endpoint": token_url(mock, ciba)}))


def token_url(mock, mode):
    return "http://127.0.0.1:1/x" if mode == "unreachable" else f"{mock}/{mode}/x"


def poll(c, call, start, poll_name):
    kw = {"login_hint": "u"} if start == "ciba_request" else {}
    pending = call(c, start, **kw)
    try:
        return call(c, poll_name, pending, deadline=2)
    finally:
        pending.close()


# operation -> (where its fault is injected, how to call it)
OPS = {
    "client_credentials": ("token", lambda c, call: call(c, "client_credentials", scope="read")),
    "client_credentials_cached": ("token", lambda c, call: call(c, "client_credentials", scope="read", cached=True)),
    "authorization_code": ("token", lambda c, call: call(c, "exchange_code", "CODE-SECRET-1",
                                                         redirect_uri="https://app/cb",
                                                         code_verifier="VERIFIER-SECRET-1")),
    "refresh": ("token", lambda c, call: call(c, "refresh", "RT-SECRET-1")),
    "device_authorization": ("device", lambda c, call: call(c, "device_authorization", scope="openid").close()),
    "device_poll": ("token", lambda c, call: poll(c, call, "device_authorization", "poll_device")),
    "ciba_request": ("ciba", lambda c, call: call(c, "ciba_request", login_hint="u").close()),
    "ciba_poll": ("token", lambda c, call: poll(c, call, "ciba_request", "poll_ciba")),
    "token_exchange": ("token", lambda c, call: call(c, "token_exchange", "SUBJECT-SECRET-1")),
    "jwt_bearer": ("token", lambda c, call: call(c, "jwt_bearer", assertion="ASSERTION-SECRET-1")),
    "custom_grant": ("token", lambda c, call: call(c, "custom_grant", "urn:x:custom", {"p": "v"})),
}
FAULTS = {"error": "INVALID_GRANT", "malformed": "RESPONSE_INVALID", "big": "RESPONSE_TOO_LARGE",
          "missing": "RESPONSE_MISSING_FIELD", "500": "HTTP_STATUS", "hang": "TIMEOUT", "unreachable": "NETWORK"}


@pytest.mark.parametrize("op", sorted(OPS))
def test_bad_responses_give_clear_codes(idp, mock_url, closing, call, op):
    at, fn = OPS[op]
    for mode, want in FAULTS.items():
        c = mock_client(idp, mock_url, closing, **{at: mode})
        t0 = time.monotonic()
        with pytest.raises(OidcError) as ei:
            fn(c, call)
        took = time.monotonic() - t0
        e = ei.value
        assert e.code_name == want, f"{op}/{mode}: {e.code_name}: {e}"
        assert took <= 3.0, f"{op}/{mode} took {took:.1f} s"
        text = f"{e} {e!r} {e.details}"
        for s in SECRETS:
            assert s not in text, f"{op}/{mode}: the error shows a secret"
        if mode == "error":
            assert e.error == "invalid_grant" and e.error_description == "mock says no"


def test_mock_success_is_a_token(idp, mock_url, closing, call):
    c = mock_client(idp, mock_url, closing)
    t = call(c, "client_credentials", scope="read")
    assert t.access_token == "mock-at" and t.expires_in == 60


def test_pending_device_poll_cancel_and_deadlines(idp, mock_url, closing, call, mode):
    c = mock_client(idp, mock_url, closing, token="pending", total=5)
    da = closing(call(c, "device_authorization"))
    assert da.interval == 1
    # a handle cancelled before the send: CANCELLED, nothing sent
    cancel = closing(Cancel())
    cancel.cancel()
    with raises("CANCELLED"):
        call(c, "poll_device", da, cancel=cancel)
    # the handle's deadline
    with Cancel(timeout=0.3) as dl:
        t0 = time.monotonic()
        with raises("DEADLINE_EXCEEDED"):
            call(c, "poll_device", da, cancel=dl)
        assert time.monotonic() - t0 < 2.0
        assert not dl.cancelled
    # the call's own deadline
    t0 = time.monotonic()
    with raises("DEADLINE_EXCEEDED"):
        call(c, "poll_device", da, deadline=0.3)
    assert time.monotonic() - t0 < 2.0
    # the request's DEADLINE_MS through the generic request
    req = closing(c.request(Operation.DEVICE_POLL).pending(da).set(Param.DEADLINE_MS, 300))
    t0 = time.monotonic()
    with raises("DEADLINE_EXCEEDED"):
        req.send() if mode == "sync" else asyncio.run(req.send_async())
    assert time.monotonic() - t0 < 2.0


def test_pending_poll_task_cancelled_while_polling(idp, mock_url, closing):
    """Polls every second at the mock (authorization_pending); the task's cancellation ends it
    at once, and the loop stays usable."""
    c = mock_client(idp, mock_url, closing, token="pending", total=5)
    da = closing(c.device_authorization())

    async def main():
        task = asyncio.ensure_future(c.poll_device_async(da))
        await asyncio.sleep(1.5)  # at least one poll answered authorization_pending
        assert not task.done()
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        took = time.monotonic() - t0
        t = await asyncio.wait_for(c.endpoint_async("token_endpoint"), 5)
        return took, t

    took, url = asyncio.run(main())
    assert took < 1.0 and url.endswith("/pending/x")


def test_hanging_request_ends_at_its_deadline(idp, mock_url, closing, call, mode):
    c = mock_client(idp, mock_url, closing, token="hang", total=6)
    t0 = time.monotonic()
    with raises("DEADLINE_EXCEEDED"):
        call(c, "client_credentials", deadline=0.5)
    assert time.monotonic() - t0 < 3.0, "the deadline bounds the request in flight, not the 6 s timeout"
    req = closing(c.request(Operation.CLIENT_CREDENTIALS).set(Param.DEADLINE_MS, 500))
    t0 = time.monotonic()
    with raises("DEADLINE_EXCEEDED"):
        req.send() if mode == "sync" else asyncio.run(req.send_async())
    assert time.monotonic() - t0 < 3.0


def test_hanging_request_task_cancelled(idp, mock_url, closing):
    c = mock_client(idp, mock_url, closing, token="hang", total=6)

    async def main():
        task = asyncio.ensure_future(c.client_credentials_async())
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - t0

    assert asyncio.run(main()) < 1.0


def test_task_cancelled_under_a_callers_handle_triggers_it(idp, mock_url, closing):
    """A task cancelled while its call runs under the caller's Cancel triggers that handle (the
    package's asyncio rule, liboidc._aio): the other calls under it end with CANCELLED too, and
    every native call completes exactly once (nothing left in flight)."""
    from liboidc import _aio

    c = mock_client(idp, mock_url, closing, token="pending", total=5)
    da = closing(c.device_authorization())
    cancel = closing(Cancel())

    async def main():
        base = _aio.in_flight()
        task = asyncio.ensure_future(c.poll_device_async(da, cancel=cancel))
        other = asyncio.ensure_future(c.poll_device_async(da, cancel=cancel))
        await asyncio.sleep(0.3)
        assert _aio.in_flight() >= 2
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with raises("CANCELLED"):
            await asyncio.wait_for(other, 2)
        assert cancel.cancelled
        for _ in range(100):
            if _aio.in_flight() <= base:
                break
            await asyncio.sleep(0.02)
        assert _aio.in_flight() <= base

    asyncio.run(main())


def test_cancel_closed_during_a_blocking_send_is_freed_after_it(idp, mock_url, closing):
    """Cancel.close() while a blocking send on another thread holds the handle must not free it
    under the send (liboidc: oidc_cancel_free not concurrently with calls taking the handle):
    the free waits for the send, and until then cancel() still reaches it."""
    import threading

    c = mock_client(idp, mock_url, closing, token="pending", total=30)
    da = closing(c.device_authorization())
    cc = Cancel()
    out = {}

    def send():
        try:
            c.poll_device(da, cancel=cc)
        except BaseException as e:  # the expected CANCELLED, checked below
            out["exc"] = e

    t = threading.Thread(target=send)
    t.start()
    deadline = time.monotonic() + 5
    while cc._users == 0 and time.monotonic() < deadline:  # the send holds the handle
        time.sleep(0.01)
    assert cc._users == 1 and t.is_alive()
    cc.close()
    assert cc.closed and cc.ptr == ffi.NULL  # closed for new calls ...
    assert cc._ptr != ffi.NULL  # ... the native handle still alive for the running send
    with pytest.raises(Exception, match="closed"):
        c.poll_device(da, cancel=cc)
    cc.cancel()  # still reaches the running send
    t.join(10)
    assert not t.is_alive()
    assert getattr(out.get("exc"), "code_name", None) == "CANCELLED", out
    assert cc._users == 0 and cc._ptr == ffi.NULL  # freed by the send's exit
    cc.close()  # idempotent
    cc.cancel()  # a no-op once freed


def test_cancel_closed_idle_frees_at_once():
    cc = Cancel(timeout=5)
    assert cc.ptr != ffi.NULL
    cc.close()
    assert cc._ptr == ffi.NULL and cc.closed and not cc.cancelled
    with pytest.raises(Exception, match="closed"):
        with cc.use():
            pass
