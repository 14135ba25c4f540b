"""The shared DPoP replay store callback (dpop_replay_store=): asked for first-use, its answer
decides; a failing store denies with 503 (never allows). Fresh interpreters: the process-wide
replay cache must not have seen the vectors' proofs."""

from __future__ import annotations

import json

import pytest

CODE = r'''
import json, liboidc, _vectors
r = _vectors.load("requests.json")
case = r["cases"][22]          # "DPoP proof allowed (ES256 proof)", client "main"
assert case["expect"]["token_type"] == "DPoP" and case["expect"]["allowed"]
c = r["clients"][case["client"]]
seen = []
def store(key, ttl):
    seen.append((len(key), ttl))
    return MODE
kw = dict(issuer=c["issuer"], audiences=c["audiences"], algorithms=c["algorithms"], jwks_json=r["jwks"],
          leeway=c["leeway_secs"], expected_typ=c["expected_typ"], realm=c["realm"], dpop_replay_store=store)
v = liboidc.Validator(**kw)
q = case["request"]
headers = [("Authorization", a) for a in q["authorization"]] + [("DPoP", p) for p in q["dpop"]]
d = v.authenticate(q["method"], q["url"], headers, now=r["now"])
print(json.dumps({"allowed": d.allowed, "status": d.status, "code": d.code_name, "calls": len(seen),
                  "ttl_positive": all(t > 0 for _, t in seen)}))
'''


@pytest.mark.parametrize("mode,want", [
    ("True", {"allowed": True, "status": 200, "code": "OK"}),
    ("False", {"allowed": False, "status": 401, "code": "DPOP_REPLAY"}),
    ("None", {"allowed": False, "status": 503, "code": "REPLAY_STORE_UNAVAILABLE"}),
    ("1 // 0", {"allowed": False, "status": 503, "code": "REPLAY_STORE_UNAVAILABLE"}),  # raises
])
def test_replay_store(run_python, mode, want):
    code = CODE.replace("return MODE", f"return {mode}")
    out = json.loads(run_python(code))
    assert {k: out[k] for k in want} == want
    assert out["calls"] == 1 and out["ttl_positive"]
