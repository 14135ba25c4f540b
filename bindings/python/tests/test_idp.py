"""Against the real IdP (oidc-provider over TLS with the test CA): discovery, JWKS, validation,
request authentication, sync and asyncio."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest

import liboidc
from conftest import REPO, need_env


def _token(issuer, ca, scope="read write"):
    return subprocess.run([os.path.join(REPO, "tests", "idp", "get-token.sh"), issuer, ca, "svc-basic",
                           "svc-basic-secret", "urn:liboidc:rs256", scope],
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def test_validate_idp_token_sync_and_async():
    issuer, ca = need_env("IDP_ISSUER", "IDP_CA_FILE")
    tok = _token(issuer, ca)
    with liboidc.Validator(issuer=issuer, audiences="urn:liboidc:rs256", expected_typ="at+jwt", ca_file=ca,
                           required_scopes=["write"], realm="api") as v:
        c = v.validate(tok)
        assert c.iss == issuer.rstrip("/") or c.iss == issuer
        assert c.client_id == "svc-basic" and set(c.scopes) >= {"read", "write"}
        assert asyncio.run(v.validate_async(tok)) == c
        d = v.authenticate("GET", "https://api.test/x", {"Authorization": f"Bearer {tok}"})
        assert d.allowed and d.claims.client_id == "svc-basic"
        weak = _token(issuer, ca, "read")
        d = asyncio.run(v.authenticate_async("GET", "https://api.test/x", {"Authorization": f"Bearer {weak}"}))
        assert (d.status, d.code_name) == (403, "INSUFFICIENT_SCOPE")
    with liboidc.Validator(issuer=issuer, audiences="urn:other", ca_file=ca) as v:
        with pytest.raises(liboidc.AudienceMismatchError):
            v.validate(tok)
    with liboidc.Validator(issuer=issuer, audiences="urn:liboidc:rs256") as v:  # without the test CA
        with pytest.raises(liboidc.NetworkError) as ei:
            v.validate(tok)
        assert ei.value.http_status == 503
