"""The shared vectors: the same decisions, codes and challenges as every other language."""

from __future__ import annotations

import asyncio
import json

import pytest

import liboidc
from _vectors import load, validation_validator

VALIDATION = load("validation.json")


@pytest.fixture(scope="module")
def validator():
    return validation_validator(VALIDATION)


@pytest.mark.parametrize("case", VALIDATION["cases"], ids=[c["name"] for c in VALIDATION["cases"]])
def test_validation_vector(validator, case):
    if case["code"] == 0:
        claims = validator.validate_at(case["token"], VALIDATION["now"])
        assert claims.iss == VALIDATION["config"]["issuer"]
        assert isinstance(claims, liboidc.Claims) and "sub" in claims
    else:
        with pytest.raises(liboidc.OidcError) as ei:
            validator.validate_at(case["token"], VALIDATION["now"])
        e = ei.value
        assert e.code == case["code"], (e, case["expect"])
        assert e.code_name == case["expect"]
        assert isinstance(e, liboidc.errors.error_class(case["code"]))
        assert e.http_status in (401, 500, 503)
        assert e.www_authenticate.startswith("Bearer")


def test_validation_vectors_async(validator):
    async def main():
        out = []
        for case in VALIDATION["cases"]:
            try:
                await validator.validate_at_async(case["token"], VALIDATION["now"])
                out.append(0)
            except liboidc.OidcError as e:
                out.append(e.code)
        return out

    assert asyncio.run(main()) == [c["code"] for c in VALIDATION["cases"]]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_request_vectors(run_python, mode):
    # a fresh interpreter per run: the DPoP replay cache is process-wide and the file replays
    # earlier cases' proofs
    out = json.loads(run_python(f"import _vectors, json; print(json.dumps({{'m': _vectors.run_requests('{mode}')}}))"))
    assert out["m"] == []
    assert len(load("requests.json")["cases"]) >= 100
