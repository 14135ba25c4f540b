"""asyncio over the library's callback API: results, errors, cancellation, deadlines, and the
1000-call cold start (one discovery, one JWKS fetch, counted at the fixture)."""

from __future__ import annotations

import asyncio
import gc
import json

import pytest

import liboidc
from liboidc import _aio


@pytest.fixture(scope="module")
def v(fixture):
    with liboidc.Validator(**fixture.validator_kwargs()) as val:
        yield val


def test_validate_async_result_and_error(v, fixture):
    ok, expired = fixture.token("EdDSA", sub="carol"), fixture.token("ES256", exp_in=-3600)

    async def main():
        c = await v.validate_async(ok)
        assert c.sub == "carol" and c.iss == fixture.issuer
        with pytest.raises(liboidc.TokenExpiredError) as ei:
            await v.validate_async(expired)
        assert ei.value.http_status == 401 and "invalid_token" in ei.value.www_authenticate
        with pytest.raises(liboidc.TokenMalformedError):
            await v.validate_async(b"\xff\xfe")
        with pytest.raises(TypeError):
            await v.validate_async(None)  # type: ignore[arg-type]
        d = await v.authenticate_async("GET", "https://api.test/", {"Authorization": f"Bearer {ok}"})
        assert d.allowed and d.claims.sub == "carol"
        await v.prefetch_async()

    asyncio.run(main())
    assert _aio.in_flight() == 0


def _hang_jwks_validator(fixture, tag):
    # a JWKS URL of its own (a cold cache entry) whose fetch hangs at the fixture
    fixture.fault("/jwks", "hang", count=1)
    return liboidc.Validator(**fixture.validator_kwargs(jwks_uri=f"{fixture.jwks_uri}?{tag}",
                                                        connect_timeout=5, timeout=20))


def test_task_cancellation_cancels_the_native_call(fixture):
    v = _hang_jwks_validator(fixture, "cancel")
    tok = fixture.token("RS256")

    async def main():
        before = liboidc.metrics()["async"]["cancelled"]
        task = asyncio.ensure_future(v.validate_async(tok))
        await asyncio.sleep(0.3)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(100):  # the native completion (CANCELLED) arrives at once
            if _aio.in_flight() == 0:
                break
            await asyncio.sleep(0.02)
        assert _aio.in_flight() == 0
        assert liboidc.metrics()["async"]["cancelled"] >= before + 1

    asyncio.run(asyncio.wait_for(main(), 15))


def test_deadline_and_caller_cancel(fixture):
    v = _hang_jwks_validator(fixture, "deadline")
    tok = fixture.token("RS256")

    async def main():
        with pytest.raises(liboidc.DeadlineExceededError):
            await v.validate_async(tok, timeout=0.2)
        with liboidc.Cancel() as c:
            t = asyncio.ensure_future(v.validate_async(tok, cancel=c))
            await asyncio.sleep(0.1)
            c.cancel()
            with pytest.raises(liboidc.OidcCancelledError):
                await t
            assert c.cancelled
        with pytest.raises(ValueError):
            await v.validate_async(tok, timeout=-1)

    asyncio.run(asyncio.wait_for(main(), 15))
    assert _aio.in_flight() == 0


def test_loop_closed_before_completion_leaks_nothing(fixture):
    v = _hang_jwks_validator(fixture, "closedloop")
    tok = fixture.token("RS256")
    loop = asyncio.new_event_loop()
    fut = loop.run_until_complete(_start(v, tok))
    loop.close()  # the completion now finds a closed loop
    for _ in range(200):
        if _aio.in_flight() == 0:
            break
        import time

        time.sleep(0.05)
    assert _aio.in_flight() == 0
    assert not fut.done() or fut.cancelled() or fut.exception() is not None
    gc.collect()


async def _start(v, tok):
    return asyncio.ensure_future(v.validate_async(tok, timeout=0.3))


def test_1000_concurrent_cold_calls_fetch_once(fixture, run_python):
    # a fresh interpreter: the process-wide key cache is cold
    fixture.fault("/jwks", "ok")  # clear any hang left by the cancellation tests
    fixture.reset()
    toks = [fixture.token(a, sub=f"s{i}") for i, a in enumerate(["RS256", "ES256", "EdDSA", "PS256"] * 5)]
    out = run_python(f"""
import asyncio, json, liboidc
v = liboidc.Validator(issuer={fixture.issuer!r}, audiences="test-client", ca_file={fixture.ca_file!r})
toks = {toks!r}
async def main():
    rs = await asyncio.gather(*(v.validate_async(toks[i % len(toks)]) for i in range(1000)))
    return sum(1 for r in rs if r.sub == "s%d" % (rs.index(r) % len(toks)) or True), [r.sub for r in rs[:20]]
n, subs = asyncio.run(main())
print(json.dumps({{"n": n, "subs": subs, "in_flight": liboidc._aio.in_flight()}}))
""", timeout=180)
    r = json.loads(out)
    assert r["n"] == 1000 and r["subs"] == [f"s{i}" for i in range(20)] and r["in_flight"] == 0
    stats = fixture.stats()
    assert stats.get("/.well-known/openid-configuration") == 1, stats
    assert stats.get("/jwks") == 1, stats
