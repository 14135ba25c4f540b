"""Issue 14's protocol-client features against the real oidc-provider (tests/idp, "JOSE
clients"), blocking and asyncio (the ``call`` fixture): encrypted ID tokens and UserInfo
decrypted with the client's keys (RSA-OAEP-256 with a PEM key, ECDH-ES family with a JWK),
``decrypt`` of the JWE itself, signed and encrypted request objects accepted by the IdP
(jar-app), and a back-channel logout token delivered by the IdP, validated, its replay refused.
"""

import json
import re
import urllib.parse
import urllib.request

import pytest

import liboidc
from liboidc.oauth import LogoutToken, Payload

from .support import CB, jwt_payload, key, raises


@pytest.fixture
def client(idp, closing):
    def make(client_id=None, secret=None, **kw):
        return closing(idp.client(client_id, secret, **kw))

    return make


def login(idp, call, c, browser=None, scope=("openid", "email", "profile")):
    req = call(c, "authorization_url", redirect_uri=CB, scope=list(scope))
    redirect = (browser or idp.browser()).authorize(req.url)
    resp = call(c, "parse_authorization_response", redirect, expected_state=req.state)
    t = call(c, "exchange_code", resp.code, redirect_uri=CB, pkce=req)  # the ID token is validated here
    return req, t


@pytest.mark.parametrize("client_id,keyfile,alg,enc", [
    ("enc-rsa", "enc-rsa.pem", "RSA-OAEP-256", "A256GCM"),
    ("enc-ec", "enc-ec.jwk.json", "ECDH-ES+A128KW", "A128CBC-HS256"),
])
def test_encrypted_id_token_and_userinfo(idp, client, call, client_id, keyfile, alg, enc):
    k = key(keyfile)
    dk = liboidc.DecryptionKey(json.loads(k) if keyfile.endswith(".json") else k,
                               kid=None if keyfile.endswith(".json") else client_id)
    assert "PRIVATE" not in repr(dk) and '"d"' not in repr(dk)
    c = client(client_id, f"{client_id}-secret", decryption_keys=[dk])
    req, t = login(idp, call, c)
    assert t.id_token.count(".") == 4, "a JWE"
    claims = call(c, "validate_id_token", t.id_token, nonce=req.nonce)
    assert claims.sub == "user-1" and claims["aud"] in (client_id, [client_id])
    p = call(c, "decrypt", t.id_token)
    assert isinstance(p, Payload)
    assert (p.header["alg"], p.header["enc"], p.header["cty"]) == (alg, enc, "JWT")
    assert p.text is not None and p.text.count(".") == 2, "the nested JWS"
    assert jwt_payload(p.text)["sub"] == "user-1"
    assert "user-1" not in repr(p)
    ui = call(c, "userinfo", t, expected_subject="user-1")
    assert ui.sub == "user-1"
    # a client without the key cannot decrypt (the library's single code)
    other = client(client_id, f"{client_id}-secret",
                   decryption_keys=[key("enc-ec.pem" if client_id == "enc-rsa" else "enc-rsa.pem")])
    with pytest.raises(liboidc.OidcError) as ei:
        call(other, "decrypt", t.id_token)
    assert ei.value.code_name in ("DECRYPTION_FAILED", "UNKNOWN_KEY"), ei.value
    assert "PRIVATE" not in str(ei.value)


@pytest.mark.parametrize("encryption", [None, ("RSA-OAEP-256", "A256GCM")])
def test_request_objects_accepted_by_the_idp(idp, client, call, encryption):
    # jar-app authenticates with client_secret_basic but signs its request objects with
    # client-keys/rsa.pem; liboidc takes a private key only with private_key_jwt or "auto" (which
    # then authenticates with the key, refused by the IdP for this client), so one client sends
    # the request objects and a second one (the secret only) redeems the code.
    c = client("jar-app", "jar-app-secret", private_key_pem=key("rsa.pem"), private_key_kid="client-rsa",
               private_key_alg="PS256", auth_method="auto", request_object=encryption is None,
               request_object_encryption=encryption)
    req = call(c, "authorization_url", redirect_uri=CB, scope=["openid"])
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(req.url).query)
    assert q["client_id"] == ["jar-app"] and "request" in q
    assert q["request"][0].count(".") == (4 if encryption else 2)
    redirect = idp.browser().authorize(req.url)  # the IdP takes every parameter from the object
    resp = call(c, "parse_authorization_response", redirect, expected_state=req.state)
    assert resp.code
    redeem = client("jar-app", "jar-app-secret")
    t = call(redeem, "exchange_code", resp.code, redirect_uri=CB, pkce=req)
    assert call(redeem, "validate_id_token", t.id_token, nonce=req.nonce).sub == "user-1"


def _admin_get(idp, path):
    with urllib.request.urlopen(idp.admin + path, timeout=10) as r:
        return json.loads(r.read())


def test_back_channel_logout_token(idp, client, call):
    seen = []

    def store(k, ttl):  # the shared replay store: asked once per token, after the client's own cache
        seen.append((k, ttl))
        return True

    c = client("bcl-app", "bcl-app-secret", logout_replay_store=store)
    idp.admin_post("/backchannel/reset")
    browser = idp.browser()
    req, t = login(idp, call, c, browser=browser)
    sid = jwt_payload(t.id_token)["sid"]
    url = call(c, "end_session_url", id_token_hint=t.id_token, post_logout_redirect_uri="http://127.0.0.1/logout-cb",
               state="bye")
    _, _, html = browser.send("GET", url)
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', html).group(1)
    browser.send("POST", idp.issuer + "/session/end/confirm", {"xsrf": xsrf, "logout": "yes"})
    received = _admin_get(idp, "/backchannel")
    assert received, "the IdP posted no logout token"
    token = received[-1]["logout_token"]

    lt = call(c, "validate_logout_token", token)
    assert isinstance(lt, LogoutToken)
    assert (lt.iss, lt.sub, lt.sid) == (idp.issuer, "user-1", sid)
    assert lt.jti and lt.claims["jti"] == lt.jti and "events" in lt.claims
    assert len(seen) == 1 and seen[0][0].startswith("liboidc:logout:") and seen[0][1] > 0
    with raises("TOKEN_REPLAYED"):
        call(c, "validate_logout_token", token)
    # the logout token is no ID token, and an ID token no logout token
    with raises("TYPE_MISMATCH"):
        call(c, "validate_id_token", token)
    with raises("TYPE_MISMATCH"):
        call(c, "validate_logout_token", t.id_token)
