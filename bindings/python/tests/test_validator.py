"""Validator against the loopback fixture issuer: configuration errors, claims, bad input,
request authentication, lifetime, snapshots, metrics, logging."""

from __future__ import annotations

import gc
import logging
import threading

import pytest

import liboidc
from liboidc import errors


@pytest.fixture(scope="module")
def v(fixture):
    with liboidc.Validator(**fixture.validator_kwargs()) as val:
        yield val


# ---- configuration -------------------------------------------------------------------------

def test_config_errors_name_the_argument(fixture):
    with pytest.raises(liboidc.UnsupportedAlgorithmError) as ei:
        liboidc.Validator(issuer=fixture.issuer, audiences="a", algorithms="HS256")
    assert ei.value.message.startswith("algorithms:")
    with pytest.raises(liboidc.ConfigError, match="leeway"):  # checked at build: the message names it
        liboidc.Validator(issuer=fixture.issuer, audiences="a", leeway=100000)
    with pytest.raises(liboidc.ConfigError, match="^configuration:"):
        liboidc.Validator(issuer=fixture.issuer)  # no audience
    with pytest.raises(liboidc.InsecureURLError):
        liboidc.Validator(issuer="http://idp.example.com", audiences="a")
    with pytest.raises(liboidc.CAFileError):
        liboidc.Validator(issuer=fixture.issuer, audiences="a", ca_file="/nonexistent/ca.pem")
    with pytest.raises(ValueError, match="dpop_mode"):
        liboidc.Validator(issuer=fixture.issuer, audiences="a", dpop_mode="sometimes")
    with pytest.raises(ValueError, match="connect_timeout and timeout"):
        liboidc.Validator(issuer=fixture.issuer, audiences="a", timeout=3)
    with pytest.raises(TypeError, match="issuer"):
        liboidc.Validator(issuer=42, audiences="a")  # type: ignore[arg-type]
    with pytest.raises(liboidc.ConfigError, match="issuer"):  # None is unset (issuers= or policy= may name them)
        liboidc.Validator(issuer=None, audiences="a")
    with pytest.raises(TypeError, match="leeway"):
        liboidc.Validator(issuer=fixture.issuer, audiences="a", leeway="60")  # type: ignore[arg-type]
    with pytest.raises(liboidc.JWKSInvalidError):
        liboidc.Validator(issuer=fixture.issuer, audiences="a", jwks_json="{}")


def test_http_only_to_loopback_by_opt_in():
    with pytest.raises(liboidc.InsecureURLError):
        liboidc.Validator(issuer="http://127.0.0.1:1", audiences="a")
    liboidc.Validator(issuer="http://127.0.0.1:1", audiences="a", allow_http_loopback=True).close()


# ---- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA", "PS256"])
def test_validate_claims(v, fixture, alg):
    tok = fixture.token(alg, sub="alice", scope="read write", aud=["test-client", "other"],
                        claims={"client_id": "svc", "azp": "svc", "custom": {"n": 1}})
    c = v.validate(tok)
    assert (c.sub, c.iss, c.client_id, c.azp) == ("alice", fixture.issuer, "svc", "svc")
    assert c.aud == ["test-client", "other"]
    assert c.scopes == ["read", "write"] and c.scope == "read write"
    assert isinstance(c.exp, int) and isinstance(c.iat, int) and c.exp > c.iat
    assert c["custom"] == {"n": 1} and c.get("missing") is None and "jti" in c
    assert dict(c) == c.to_dict() and c == c.to_dict()
    assert c.json.startswith("{")
    assert v.validate(tok.encode()) == c  # bytes accepted


def test_failures_carry_code_status_and_challenge(v, fixture):
    with pytest.raises(liboidc.TokenExpiredError) as ei:
        v.validate(fixture.token("ES256", exp_in=-3600))
    e = ei.value
    assert (e.code, e.code_name, e.http_status, e.oauth_error) == (305, "TOKEN_EXPIRED", 401, "invalid_token")
    assert 'error="invalid_token"' in e.www_authenticate
    assert e.details["name"] == "TOKEN_EXPIRED" and e.details["code"] == 305
    assert e.error is None and e.error_description is None and e.error_uri is None  # not an IdP answer
    assert isinstance(e, liboidc.TokenError) and isinstance(e, liboidc.OidcError)
    with pytest.raises(liboidc.AudienceMismatchError):
        v.validate(fixture.token("RS256", aud="someone-else"))
    with pytest.raises(liboidc.UnknownKeyError):
        v.validate(fixture.token("RS256", kid="no-such-kid"))


def test_validate_at(v, fixture):
    tok = fixture.token("RS256", exp_in=60)
    exp = v.validate(tok).exp
    with pytest.raises(liboidc.TokenExpiredError):
        v.validate_at(tok, exp + 3600)


# ---- bad input: Python exceptions, never a crash -----------------------------------------------

@pytest.mark.parametrize("bad", [None, 123, 1.5, ["a"], {"t": 1}, object()])
def test_wrong_types(v, bad):
    with pytest.raises(TypeError, match="token"):
        v.validate(bad)  # type: ignore[arg-type]
    if not isinstance(bad, dict):  # a dict is a header mapping (its other headers are ignored)
        with pytest.raises(TypeError):
            v.authenticate("GET", "https://api.test/", bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="method"):
        v.authenticate(bad, "https://api.test/", {})  # type: ignore[arg-type]


def test_invalid_utf8_empty_nul_and_huge(v):
    with pytest.raises(liboidc.TokenMalformedError):
        v.validate(b"\xff\xfe.\x80\x81.\xc3")
    with pytest.raises(liboidc.TokenMalformedError):
        v.validate("")
    with pytest.raises(liboidc.TokenMalformedError):
        v.validate("a\0b.c.d")
    with pytest.raises(liboidc.TokenTooLargeError):
        v.validate("a" * (10 * 1024 * 1024))
    with pytest.raises(ValueError, match="UTF-8"):
        v.validate("\udcff")  # a lone surrogate cannot be encoded
    d = v.authenticate("GET", "https://api.test/", {"Authorization": b"Bearer \xff\xfe"})
    assert not d.allowed and d.status in (400, 401)
    with pytest.raises(liboidc.OidcError):
        v.authenticate("GET", "not a url", {})  # misuse by the host: an exception, no decision
    with pytest.raises(TypeError):
        v.authenticate("GET", "https://api.test/", {}, client_cert="pem text")  # type: ignore[arg-type]


def test_bytes_helper():
    assert errors._bytes("é") == "é".encode() and errors._bytes(b"\xff") == b"\xff"
    assert errors._bytes(bytearray(b"x")) == b"x" and errors._bytes(memoryview(b"y")) == b"y"
    with pytest.raises(TypeError, match="widget must be str or bytes, not NoneType"):
        errors._bytes(None, "widget")
    with pytest.raises(ValueError, match="NUL"):
        errors._cbytes("a\0b")


# ---- request authentication -------------------------------------------------------------------

def test_authenticate(fixture):
    v = liboidc.Validator(**fixture.validator_kwargs(required_scopes=["admin"], realm="api"))
    ok = fixture.token("ES256", sub="bob", scope="admin read")
    d = v.authenticate("GET", "https://api.test/items?x=1", {"Authorization": f"Bearer {ok}"})
    assert d.allowed and d and d.status == 200 and d.code == 0 and d.code_name == "OK"
    assert d.token_type == "Bearer" and d.claims.sub == "bob" and d.challenges == () and d.exception() is None
    weak = fixture.token("ES256", scope="read")
    d = v.authenticate("GET", "https://api.test/", [("authorization", f"Bearer {weak}")])
    assert not d.allowed and d.status == 403 and d.code_name == "INSUFFICIENT_SCOPE"
    assert d.error == "insufficient_scope" and any('scope="admin"' in c for c in d.challenges)
    assert ("WWW-Authenticate", d.challenges[0]) in d.headers
    assert isinstance(d.exception(), liboidc.InsufficientScopeError)
    d = v.authenticate("GET", "https://api.test/", {})
    assert (d.status, d.code_name, d.error) == (401, "TOKEN_MISSING", None)
    assert d.challenges[0].startswith('Bearer realm="api"')
    two = [("Authorization", f"Bearer {ok}"), ("Authorization", f"Bearer {ok}")]
    assert v.authenticate("GET", "https://api.test/", two).status == 400  # two lines: malformed
    v.close()


# ---- lifetime and threads ---------------------------------------------------------------------

def test_close_and_context_manager(fixture):
    v = liboidc.Validator(**fixture.validator_kwargs())
    with v:
        assert not v.closed
    assert v.closed
    with pytest.raises(liboidc.ClosedError):
        v.validate("x.y.z")
    v.close()  # idempotent


def test_concurrent_threads(v, fixture):
    toks = [fixture.token(a, sub=f"u{i}") for i, a in enumerate(["RS256", "ES256", "EdDSA", "PS256"] * 4)]
    errors_seen = []

    def work(t, want):
        try:
            for _ in range(50):
                assert v.validate(t).sub == want
        except Exception as e:  # noqa: BLE001
            errors_seen.append(e)

    threads = [threading.Thread(target=work, args=(t, f"u{i}")) for i, t in enumerate(toks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors_seen == []


def test_close_while_other_threads_validate(fixture):
    v = liboidc.Validator(**fixture.validator_kwargs())
    tok = fixture.token("RS256")
    v.validate(tok)
    outcomes = []

    def work():
        for _ in range(200):
            try:
                v.validate(tok)
                outcomes.append("ok")
            except liboidc.ClosedError:
                outcomes.append("closed")

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    v.close()
    for t in ts:
        t.join()
    assert set(outcomes) <= {"ok", "closed"} and len(outcomes) == 800
    del v
    gc.collect()


# ---- process-wide: prefetch, snapshots, metrics, logging ---------------------------------------

def test_prefetch_snapshot_roundtrip(fixture, run_python):
    v = liboidc.Validator(**fixture.validator_kwargs())
    v.prefetch()
    snap = v.export_snapshot()
    assert fixture.jwks_uri in snap
    tok = fixture.token("ES256", sub="warm")
    # a fresh process imports it and validates with zero fetches
    out = run_python(f"""
import json, urllib.request, liboidc
snap = {snap!r}
n = liboidc.import_snapshot(snap)
urllib.request.urlopen(urllib.request.Request({fixture.admin!r} + "/reset_stats", data=b"", method="POST")).read()
v = liboidc.Validator(issuer={fixture.issuer!r}, audiences="test-client", ca_file={fixture.ca_file!r})
print(n, v.validate({tok!r}).sub, json.dumps(json.loads(urllib.request.urlopen({fixture.admin!r} + "/stats").read())))
""")
    n, sub, stats = out.split(" ", 2)
    assert int(n) >= 1 and sub == "warm"
    assert json.loads(stats).get("/jwks", 0) == 0 and json.loads(stats).get("/.well-known/openid-configuration", 0) == 0


def test_snapshot_key_refuses_unauthenticated(fixture, run_python):
    v = liboidc.Validator(**fixture.validator_kwargs())
    v.prefetch()
    plain = liboidc.export_snapshot()
    out = run_python(f"""
import liboidc
liboidc.set_snapshot_key(b"k" * 32)
try:
    liboidc.import_snapshot({plain!r}); print("imported")
except liboidc.InvalidArgumentError as e:
    print("refused")
""")
    assert out.strip() == "refused"
    with pytest.raises(TypeError):
        liboidc.set_snapshot_key("not bytes")  # type: ignore[arg-type]
    with pytest.raises(liboidc.OidcError):
        liboidc.import_snapshot("{not json")


def test_key_cache_bound_arguments():
    with pytest.raises(ValueError):
        liboidc.set_key_cache_max_entries(0)
    with pytest.raises(TypeError):
        liboidc.set_key_cache_max_entries("64")  # type: ignore[arg-type]
    liboidc.set_key_cache_max_entries(64)  # the default


def test_metrics_dict(v, fixture):
    before = liboidc.metrics()["validations"]["failed_by_reason"].get("TOKEN_EXPIRED", 0)
    with pytest.raises(liboidc.TokenExpiredError):
        v.validate(fixture.token("RS256", exp_in=-7200))
    m = liboidc.metrics()
    assert m["validations"]["failed_by_reason"]["TOKEN_EXPIRED"] == before + 1
    assert {"cache", "discovery", "async", "token_cache"} <= set(m)


def test_logging_reaches_python_logging(fixture, caplog):
    caplog.set_level(logging.DEBUG, logger="liboidc")
    v = liboidc.Validator(issuer=fixture.issuer, audiences="test-client", ca_file=fixture.ca_file,
                          jwks_uri=fixture.jwks_uri + "?fresh=log")
    v.prefetch()
    recs = [r for r in caplog.records if r.name.startswith("liboidc")]
    assert recs, "no log record from the library"
    assert all("BEGIN" not in r.getMessage() for r in recs)


import json  # noqa: E402


def test_out_parameters_reused_per_thread(v, fixture):
    """validate reuses one out-parameter set per thread: failures leave it clean (err NULL), a
    call made while this thread's set is taken (re-entry) gets its own, other threads theirs."""
    from liboidc import validator as vmod
    from liboidc._native import ffi

    good = fixture.token("RS256", sub="reuse")
    for i in range(50):
        if i % 2:
            with pytest.raises(liboidc.TokenError):
                v.validate("not.a.token")
        else:
            assert v.validate(good).sub == "reuse"
    free = vmod._tls.free
    assert len(free) == 1 and free[0][2][0] == ffi.NULL
    # re-entry: this thread's set is in use (taken out of the free list) -> a fresh one, then both back
    taken = free.pop()
    assert v.validate(good).sub == "reuse"
    assert len(free) == 1 and free[0] is not taken
    free.append(taken)
    seen = []
    t = threading.Thread(target=lambda: seen.append((v.validate(good).sub, len(vmod._tls.free))))
    t.start()
    t.join()
    assert seen == [("reuse", 1)] and len(free) == 2
