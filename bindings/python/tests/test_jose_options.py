"""Issue 14's options, offline: decryption keys never shown, the library's refusals passed on,
the logout replay store's answers (its contract is the DPoP store's: True new, False seen, None
or an exception: the store cannot answer, the token is refused), typed results."""

from __future__ import annotations

import json

import pytest

import liboidc
from liboidc.oauth import LogoutToken, OAuthClient, Payload
from _vectors import load

JWE = load("jose_jwe.json")
LOGOUT = load("logout.json")
JWKS = load("jose_jws.json")["cases"][0]["jwks"]
RSA_CASE = next(c for c in JWE["cases"] if c["name"] == "rsa-oaep-a256gcm")
SECRET_MARK = "SECRETKEYMATERIAL"
BAD_PEM = f"-----BEGIN PRIVATE KEY-----\n{SECRET_MARK}AAAA\n-----END PRIVATE KEY-----\n"


def test_decryption_key_repr_hides_the_key():
    k = liboidc.DecryptionKey(RSA_CASE["key"], kid="enc-1")
    assert repr(k) == str(k) == "DecryptionKey(kid='enc-1', key=[FILTERED])"
    assert RSA_CASE["key"]["d"] not in repr(k)
    assert isinstance(k.key, str) and json.loads(k.key) == RSA_CASE["key"]  # a snapshot
    with pytest.raises(TypeError):
        liboidc.DecryptionKey(42)
    with pytest.raises(TypeError):
        liboidc.Validator(issuer="https://x.example", audiences="a", jwks_json=JWKS, decryption_keys=42)


@pytest.mark.parametrize("make", ["validator", "client"])
def test_an_unusable_key_is_refused_without_echo(make):
    with pytest.raises(liboidc.InvalidConfigError) as ei:
        if make == "validator":
            liboidc.Validator(issuer="https://x.example", audiences="a", jwks_json=JWKS, decryption_keys=[BAD_PEM])
        else:
            OAuthClient("https://x.example", client_id="rp", jwks_json=JWKS, decryption_keys=BAD_PEM)
    assert SECRET_MARK not in str(ei.value) and SECRET_MARK not in repr(ei.value)
    assert SECRET_MARK not in json.dumps(ei.value.details)


def test_validator_decryption_options():
    kw = dict(issuer="https://x.example", audiences="a", jwks_json=JWKS)
    with pytest.raises(liboidc.InvalidConfigError):  # the library: accepting JWE needs a key
        liboidc.Validator(accept_encrypted=True, **kw)
    with pytest.raises(liboidc.OidcError):  # an unknown algorithm name
        liboidc.Validator(decryption_keys=[RSA_CASE["key"]], decryption_algorithms="RSA-OAEP-999", **kw)
    v = liboidc.Validator(decryption_keys=[liboidc.DecryptionKey(RSA_CASE["key"], kid="k1"), RSA_CASE["key"]],
                          decryption_algorithms=["RSA-OAEP", "A256GCM"], accept_encrypted=True, **kw)
    with pytest.raises(liboidc.TokenError):  # the RFC 7520 plaintext is no JWT: refused, not crashed
        v.validate(RSA_CASE["jwe"])
    with pytest.raises(TypeError):
        liboidc.Validator(accept_encrypted="yes", **kw)


def test_client_decrypt_and_algorithms():
    c = OAuthClient("https://x.example", client_id="rp", jwks_json=JWKS, decryption_keys=RSA_CASE["key"])
    p = c.decrypt(RSA_CASE["jwe"])
    assert isinstance(p, Payload) and p.header["enc"] == "A256GCM" and p.text.startswith("You can trust us")
    assert "trust" not in repr(p)
    only_gcm128 = OAuthClient("https://x.example", client_id="rp", jwks_json=JWKS, decryption_keys=RSA_CASE["key"],
                              decryption_algorithms="RSA-OAEP A128GCM")
    with pytest.raises(liboidc.AlgorithmNotAllowedError):
        only_gcm128.decrypt(RSA_CASE["jwe"])
    with pytest.raises(liboidc.TokenMalformedError):
        c.decrypt("a.b.c")
    with pytest.raises(liboidc.InvalidArgumentError):  # JWE is required: liboidc's rule
        with c.request("decrypt") as r:
            r.send()


def _logout_client(**kw) -> OAuthClient:
    cl = LOGOUT["client"]
    return OAuthClient(cl["issuer"], client_id=cl["client_id"], jwks_json=cl["jwks"], **kw)


@pytest.mark.parametrize("answer,want", [
    (True, "OK"), (False, "TOKEN_REPLAYED"), (None, "REPLAY_STORE_UNAVAILABLE"), ("raise", "REPLAY_STORE_UNAVAILABLE"),
])
def test_logout_replay_store(answer, want):
    step = LOGOUT["cases"][0]["steps"][0]
    asked = []

    def store(key, ttl):
        asked.append((key, ttl))
        if answer == "raise":
            raise RuntimeError("store down")
        return answer

    with _logout_client(logout_replay_store=store) as c:
        try:
            t = c.validate_logout_token(step["token"], now=LOGOUT["now"])
            got = "OK"
            assert isinstance(t, LogoutToken) and t.sub == "alice" and t.sid is None and t.jti == step["jti"]
            assert "alice" in repr(t)
        except liboidc.OidcError as e:
            got = e.code_name
    assert got == want
    assert len(asked) == 1 and asked[0][0].startswith("liboidc:logout:") and asked[0][1] > 0
    with pytest.raises(TypeError):
        _logout_client(logout_replay_store="not callable")


def test_logout_now_and_untyped():
    case = next(c for c in LOGOUT["cases"] if c["name"] == "no typ, client accepts untyped logout tokens")
    token = case["steps"][0]["token"]
    with pytest.raises(liboidc.TypeMismatchError):
        _logout_client().validate_logout_token(token, now=LOGOUT["now"])
    assert _logout_client(logout_accept_untyped=True).validate_logout_token(token, now=LOGOUT["now"]).iss
    with pytest.raises(liboidc.TokenExpiredError):  # now= is the validation time
        _logout_client(logout_accept_untyped=True).validate_logout_token(token, now=LOGOUT["now"] + 86400)
    with pytest.raises(TypeError):
        _logout_client().validate_logout_token(token, now=1.5)


def test_request_object_options_are_checked():
    with pytest.raises(TypeError):
        OAuthClient("https://x.example", client_id="rp", request_object_encryption="RSA-OAEP-256")
    with pytest.raises(liboidc.OidcError):  # half an encryption pair: the library refuses
        OAuthClient("https://x.example", client_id="rp", request_object_encryption=("RSA-OAEP-256", ""))


@pytest.mark.parametrize("algs", ["none", "RS256,HS256", ["RS256", "HS256"], "RS257"])
def test_client_algorithms_refused_at_construction(algs):
    # none, HMAC and unknown names: the library's UNSUPPORTED_ALGORITHM, from the constructor.
    with pytest.raises(liboidc.UnsupportedAlgorithmError) as e:
        OAuthClient("https://x.example", client_id="rp", jwks_json=JWKS, algorithms=algs)
    assert e.value.code_name == "UNSUPPORTED_ALGORITHM"


def test_client_algorithms_allow_list():
    with OAuthClient("https://x.example", client_id="rp", jwks_json=JWKS, algorithms=["ES256", "EdDSA"]) as c:
        assert "algorithms='ES256,EdDSA'" in repr(c)
    with OAuthClient("https://x.example", client_id="rp", jwks_json=JWKS) as c:
        assert "algorithms" not in repr(c)
    with pytest.raises(TypeError):
        OAuthClient("https://x.example", client_id="rp", algorithms=256)
