"""The shared JOSE vectors of issue 14, every case decided through the binding (blocking and
asyncio), configured as the Rust runners do (tests/jose_jwe.rs, tests/jose_jws.rs,
tests/logout_token.rs):

* tests/vectors/jose_jwe.json: an ``OAuthClient`` with the case's key as its decryption key and
  the case's algorithms (when given), ``decrypt``;
* tests/vectors/jose_jws.json: an ``OAuthClient`` with the case's JWKS as its static key set
  and the case's algorithms as its allow-list (``algorithms=``), ``verify_jws`` at the Rust
  runner's ``now``;
* tests/vectors/logout.json: a fresh ``OAuthClient`` per case (issuer, client id, static JWKS,
  ``logout_accept_untyped``), ``validate_logout_token`` / ``validate_id_token`` at the file's
  ``now``, and a ``Validator`` of the same issuer and keys for the access-token path.

What the C ABI cannot express is skipped with the reason (pytest -rs lists them): the JWE
plaintext bound (``max_plaintext``: no setter) and a non-UTF-8 detached JWS payload (none in
the file today: every JWS case runs); the logout leeway must be the library's default (checked,
not assumed).
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

import liboidc
from liboidc.oauth import OAuthClient
from _vectors import load

JWE = load("jose_jwe.json")
JWS = load("jose_jws.json")
LOGOUT = load("logout.json")

ISSUER = "https://jose.vectors.test"
JWS_NOW = 1_800_000_000  # tests/jose_jws.rs NOW
DEFAULT_PLAINTEXT_BOUND = 65536  # jose_jwe.json's description: "max_plaintext ... (default 65536)"


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _library_defaults() -> dict:
    """The library's defaults, read from a default validator's policy document (not assumed)."""
    v = liboidc.Validator(issuer=ISSUER, audiences="api", jwks_json=JWS["cases"][0]["jwks"])
    return json.loads(v.policy_json())


DEFAULTS = _library_defaults()


# ---- JWE ---------------------------------------------------------------------------------

def jwe_skip(case) -> str | None:
    if case.get("max_plaintext", DEFAULT_PLAINTEXT_BOUND) != DEFAULT_PLAINTEXT_BOUND:
        return (f"max_plaintext={case['max_plaintext']}: the C ABI has no plaintext-bound setter "
                "(the library's default bound applies)")
    return None


def jwe_client(case) -> OAuthClient:
    kw = {}
    if case["algorithms"] is not None:
        kw["decryption_algorithms"] = case["algorithms"]
    return OAuthClient(ISSUER, client_id="rp", jwks_json=JWS["cases"][0]["jwks"],
                       decryption_keys=[json.dumps(case["key"])], **kw)


def jwe_outcome(case, call) -> tuple:
    """("ok", plaintext_b64url, header) or ("error", code_name, message)."""
    with jwe_client(case) as c:
        try:
            p = call(c)
        except liboidc.OidcError as e:
            assert isinstance(e, liboidc.errors.error_class(e.code))
            return ("error", e.code_name, e.message)
    return ("ok", b64url(p.payload), dict(p.header), p.text)


def check_jwe(case, got) -> None:
    expect = case["expect"]
    if "plaintext_b64url" in expect:
        assert got[0] == "ok", (case["name"], got)
        assert got[1] == expect["plaintext_b64url"]
        header = got[2]
        assert header["alg"] and header["enc"]
        pt = unb64url(expect["plaintext_b64url"])
        assert got[3] == pt.decode("utf-8")
    else:
        assert got[0] == "error", (case["name"], got[:1])
        assert got[1] == expect["code"], (case["name"], got)
        if "message" in expect:
            assert got[2] == expect["message"]
        assert "Frodo" not in got[2]  # no plaintext in a refusal


@pytest.mark.parametrize("case", JWE["cases"], ids=[c["name"] for c in JWE["cases"]])
def test_jwe_vector(case):
    why = jwe_skip(case)
    if why:
        pytest.skip(why)
    check_jwe(case, jwe_outcome(case, lambda c: c.decrypt(case["jwe"])))


def test_jwe_vectors_async():
    cases = [c for c in JWE["cases"] if not jwe_skip(c)]

    async def main():
        out = []
        for case in cases:
            async with jwe_client(case) as c:
                try:
                    p = await c.decrypt_async(case["jwe"])
                    out.append(("ok", b64url(p.payload), dict(p.header), p.text))
                except liboidc.OidcError as e:
                    out.append(("error", e.code_name, e.message))
        return out

    for case, got in zip(cases, asyncio.run(main())):
        check_jwe(case, got)
    assert sum(1 for c in cases if "plaintext_b64url" in c["expect"]) == 6  # the RFC 7520 examples


# ---- JWS ---------------------------------------------------------------------------------

def jws_skip(case) -> str | None:
    p = case["detached_payload_b64url"]
    if p is not None:
        try:
            unb64url(p).decode("utf-8")
        except UnicodeDecodeError:
            return "a non-UTF-8 detached payload: OIDC_PARAM_PAYLOAD is text"
    return None


def jws_args(case) -> dict:
    kw = {"now": JWS_NOW}
    if case["detached_payload_b64url"] is not None:
        kw["detached_payload"] = unb64url(case["detached_payload_b64url"])
    return kw


def check_jws(case, got) -> None:
    expect = case["expect"]
    if "code" in expect:
        assert got[0] == "error", (case["name"], got[:1])
        assert got[1] == expect["code"], (case["name"], got)
    else:
        assert got[0] == "ok", (case["name"], got)
        payload, header, text = got[1:]
        assert b64url(payload) == expect["payload_b64url"]
        assert header == expect["header"]
        try:
            want_text = payload.decode("utf-8")
        except UnicodeDecodeError:
            want_text = None
        assert text == want_text


def _jws_result(p) -> tuple:
    return ("ok", p.payload, dict(p.header), p.text)


@pytest.mark.parametrize("case", JWS["cases"], ids=[c["name"] for c in JWS["cases"]])
def test_jws_vector(case):
    why = jws_skip(case)
    if why:
        pytest.skip(why)
    with OAuthClient(ISSUER, client_id="api", jwks_json=case["jwks"], algorithms=case["algorithms"].split()) as c:
        try:
            got = _jws_result(c.verify_jws(case["jws"], **jws_args(case)))
        except liboidc.OidcError as e:
            got = ("error", e.code_name, e.message)
    check_jws(case, got)


def test_jws_vectors_async():
    cases = [c for c in JWS["cases"] if not jws_skip(c)]

    async def main():
        out = []
        for case in cases:
            async with OAuthClient(ISSUER, client_id="api", jwks_json=case["jwks"],
                                   algorithms=case["algorithms"].split()) as c:
                try:
                    out.append(_jws_result(await c.verify_jws_async(case["jws"], **jws_args(case))))
                except liboidc.OidcError as e:
                    out.append(("error", e.code_name, e.message))
        return out

    for case, got in zip(cases, asyncio.run(main())):
        check_jws(case, got)
    assert len(cases) >= 60
    assert len(cases) == len(JWS["cases"]), "every case of jose_jws.json runs"


# ---- back-channel logout tokens ------------------------------------------------------------

CLIENT = LOGOUT["client"]


def logout_preconditions() -> None:
    if CLIENT["leeway_secs"] != DEFAULTS["leeway_secs"]:
        pytest.skip(f"leeway {CLIENT['leeway_secs']} s: the protocol client has no leeway setter "
                    f"(library default {DEFAULTS['leeway_secs']} s)")


def logout_client(case) -> OAuthClient:
    return OAuthClient(CLIENT["issuer"], client_id=CLIENT["client_id"], jwks_json=CLIENT["jwks"],
                       logout_accept_untyped=bool(case["client"].get("accept_untyped", False)))


def logout_validator() -> liboidc.Validator:
    return liboidc.Validator(issuer=CLIENT["issuer"], audiences=CLIENT["client_id"], jwks_json=CLIENT["jwks"],
                             leeway=CLIENT["leeway_secs"])


def check_step(name, i, step, got) -> None:
    code, code_name, result = got
    assert (code, code_name) == (step["code"], step["expect"]), f"{name} step {i}: {got}"
    if isinstance(result, liboidc.oauth.LogoutToken):
        assert result.sub == step["sub"] and result.sid == step["sid"] and result.jti == step["jti"], name
        assert result.iss == CLIENT["issuer"] and result.claims["jti"] == step["jti"]


def _ok(result) -> tuple:
    return (0, "OK", result)


def _err(e: liboidc.OidcError) -> tuple:
    assert isinstance(e, liboidc.errors.error_class(e.code))
    return (e.code, e.code_name, None)


@pytest.mark.parametrize("case", LOGOUT["cases"], ids=[c["name"] for c in LOGOUT["cases"]])
def test_logout_vector(case):
    logout_preconditions()
    now = LOGOUT["now"]
    with logout_client(case) as c, logout_validator() as v:
        for i, step in enumerate(case["steps"]):
            try:
                if step["path"] == "logout_token":
                    got = _ok(c.validate_logout_token(step["token"], now=now))
                elif step["path"] == "access_token":
                    got = _ok(v.validate_at(step["token"], now))
                elif step["path"] == "id_token":
                    got = _ok(c.validate_id_token(step["token"], now=now))
                else:
                    pytest.fail(f"unknown path {step['path']}")
            except liboidc.OidcError as e:
                got = _err(e)
            check_step(case["name"], i, step, got)


def test_logout_vectors_async():
    logout_preconditions()
    now = LOGOUT["now"]

    async def main():
        out = []
        for case in LOGOUT["cases"]:
            steps = []
            async with logout_client(case) as c:
                v = logout_validator()
                for step in case["steps"]:
                    try:
                        if step["path"] == "logout_token":
                            steps.append(_ok(await c.validate_logout_token_async(step["token"], now=now)))
                        elif step["path"] == "access_token":
                            steps.append(_ok(await v.validate_at_async(step["token"], now)))
                        else:
                            steps.append(_ok(await c.validate_id_token_async(step["token"], now=now)))
                    except liboidc.OidcError as e:
                        steps.append(_err(e))
                v.close()
            out.append(steps)
        return out

    results = asyncio.run(main())
    n = 0
    for case, steps in zip(LOGOUT["cases"], results):
        for i, (step, got) in enumerate(zip(case["steps"], steps)):
            check_step(case["name"], i, step, got)
            n += 1
    assert n >= 45
