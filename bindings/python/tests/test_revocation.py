"""Signed revocation lists and drop_keys against the loopback fixture (oidc-testkit serves
``/.well-known/revocation-list``; ``POST /revocation/set?kid=..&jti=..`` changes it). Every
decision is the library's: the binding only passes ``revocation=liboidc.Revocation(...)``.

The validators poll the list every second (``min_interval=max_interval=1``) so a change on the
fixture is seen by the next validation after a second; the list is emptied again after each test
(other tests' validators do not check it)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

import liboidc

LIST = "/.well-known/revocation-list"


@pytest.fixture
def fx(fixture):
    fixture._admin("/revocation/set", "POST")  # no kid, no jti: an empty list
    try:
        yield fixture
    finally:
        fixture.fault(LIST, "ok")
        fixture._admin("/revocation/set", "POST")


def revoke(fixture, kid=None, jti=None) -> None:
    q = "&".join(([f"kid={kid}"] if kid else []) + ([f"jti={jti}"] if jti else []))
    fixture._admin("/revocation/set?" + q, "POST")


def validator(fixture, policy="fail_closed", **kw) -> liboidc.Validator:
    return liboidc.Validator(**fixture.validator_kwargs(
        revocation=liboidc.Revocation(policy=policy, min_interval=1, max_interval=1, **kw)))


def until_revoked(v: liboidc.Validator, token: str, timeout: float = 15) -> liboidc.OidcError:
    """Validate until the library refuses the token (the list is polled every second)."""
    deadline = time.time() + timeout
    while True:
        try:
            v.validate(token)
        except liboidc.RevokedError as e:
            return e
        if time.time() > deadline:
            pytest.fail("the token was never refused as REVOKED")
        time.sleep(0.25)


def test_a_revoked_jti_is_refused(fx):
    v = validator(fx)
    v.prefetch()  # primes the list too
    jti = "py-revoked-" + uuid.uuid4().hex
    token = fx.token("ES256", jti=jti)
    other = fx.token("ES256")
    assert v.validate(token).jti == jti
    revoke(fx, jti=jti)
    e = until_revoked(v, token)
    assert (e.code, e.code_name, e.http_status) == (316, "REVOKED", 401)
    assert isinstance(e, liboidc.TokenError) and e.www_authenticate.startswith("Bearer")
    with pytest.raises(liboidc.RevokedError):
        asyncio.run(v.validate_async(token))
    assert v.validate(other).sub == "test-user"  # only that jti


def test_a_revoked_kid_is_refused(fx):
    kid = json.loads(fx._admin("/keys"))["current"]["ES256"]  # not the list's own signing key (RS256)
    v = validator(fx)
    es, rs = fx.token("ES256"), fx.token("RS256")
    v.validate(es)
    v.validate(rs)
    revoke(fx, kid=kid)
    e = until_revoked(v, es)
    assert e.code_name == "REVOKED"
    with pytest.raises(liboidc.RevokedError):
        v.validate(fx.token("ES256"))  # every token of that key
    assert v.validate(rs).sub == "test-user"  # other keys still valid


def test_list_unavailable_fail_closed_and_fail_open(fx):
    fx.fault(LIST, "500")
    closed = validator(fx, "fail_closed")
    with pytest.raises(liboidc.RevocationUnavailableError) as ei:
        closed.validate(fx.token("ES256"))
    assert ei.value.code == 209 and ei.value.http_status == 503
    with pytest.raises(liboidc.OidcError):
        validator(fx).prefetch()  # priming fails when the list cannot be had
    assert validator(fx, "fail-open").validate(fx.token("ES256")).sub == "test-user"


def test_revocation_options_are_checked_by_the_library(fixture):
    with pytest.raises(liboidc.InvalidConfigError) as ei:  # a static key set has no list URL
        liboidc.Validator(issuer="https://static.example", audiences="a",
                          jwks_json={"keys": []}, revocation="fail_closed")
    assert "revocation" in ei.value.message
    with pytest.raises(liboidc.OidcError):  # min above max
        liboidc.Validator(**fixture.validator_kwargs(revocation=liboidc.Revocation("fail_closed", min_interval=600, max_interval=60)))
    with pytest.raises(liboidc.OidcError):  # plain http off loopback
        liboidc.Validator(**fixture.validator_kwargs(revocation=liboidc.Revocation("fail_closed", url="http://example.com/rl")))
    with pytest.raises(ValueError):
        liboidc.Revocation(policy="sometimes")
    with pytest.raises(TypeError):
        liboidc.Revocation("fail_closed", grace=1.5)
    with pytest.raises(TypeError):  # no default policy: the caller chooses
        liboidc.Revocation()
    with pytest.raises(TypeError):
        liboidc.Revocation.coerce(True)
    assert liboidc.Revocation.coerce("fail-open").policy == "fail_open"
    assert liboidc.Revocation.coerce({"policy": "fail_open", "grace": 60}).grace == 60


def test_drop_keys_refetches(fixture, run_python):
    # a fresh interpreter: the key cache is shared within a process
    out = run_python(f"""
import json, urllib.request, liboidc
admin = {fixture.admin!r}
def post(p): urllib.request.urlopen(urllib.request.Request(admin + p, method="POST", data=b""), timeout=10).read()
def hits(): return json.loads(urllib.request.urlopen(admin + "/stats", timeout=10).read()).get("/jwks", 0)
tok = urllib.request.urlopen(admin + "/token?alg=ES256", timeout=10).read().decode()
v = liboidc.Validator(issuer={fixture.issuer!r}, audiences="test-client", ca_file={fixture.ca_file!r})
v.validate(tok)
post("/reset_stats")
v.validate(tok); a = hits()
v.drop_keys(); v.validate(tok); b = hits()
v.drop_keys({fixture.issuer!r}); v.validate(tok); c = hits()
try:
    v.drop_keys("https://nope.example"); err = None
except liboidc.InvalidArgumentError as e:
    err = e.code_name
print(json.dumps([a, b, c, err]))
""")
    assert json.loads(out) == [0, 1, 2, "INVALID_ARGUMENT"]
