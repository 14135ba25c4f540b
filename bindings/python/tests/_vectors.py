"""The shared vectors (tests/vectors/*.json) run through the binding; used by test_vectors.py,
also in fresh interpreters (the request vectors must run at most once per process: the DPoP
replay cache is process-wide)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys

import liboidc

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "vectors")


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def validation_validator(v):
    c = v["config"]
    return liboidc.Validator(issuer=c["issuer"], audiences=c["audiences"], algorithms=c["algorithms"],
                             jwks_json=v["jwks"], leeway=c["leeway_secs"], max_token_bytes=c["max_token_bytes"],
                             expected_typ=c["expected_typ"], required_claims=c["required_claims"])


def request_validators(r):
    out = {}
    for name, c in r["clients"].items():
        kw = dict(issuer=c["issuer"], audiences=c["audiences"], algorithms=c["algorithms"], jwks_json=r["jwks"],
                  leeway=c["leeway_secs"], max_token_bytes=c["max_token_bytes"], expected_typ=c["expected_typ"],
                  realm=c["realm"], required_scopes=c["required_scopes"], allowed_claim_values=c["claim_values"],
                  dpop_mode=c["dpop_mode"], require_mtls=c["require_mtls"])
        if c["dpop_algorithms"] is not None:
            kw["dpop_algorithms"] = c["dpop_algorithms"]
        if c["dpop_proof_window_secs"] is not None:
            kw["dpop_proof_window"] = c["dpop_proof_window_secs"]
        if c["dpop_nonce_secret_hex"] is not None:
            kw["dpop_nonce_secret"] = bytes.fromhex(c["dpop_nonce_secret_hex"])
            kw["dpop_nonce_lifetime"] = c["dpop_nonce_lifetime_secs"] or 0
        if c["token_cache_size"] is not None:
            kw["token_cache_size"] = c["token_cache_size"]
        out[name] = liboidc.Validator(**kw)
    return out


def decision_view(d):
    return {
        "allowed": d.allowed, "status": d.status, "code": d.code, "code_name": d.code_name, "error": d.error,
        "challenges": list(d.challenges), "dpop_nonce": d.dpop_nonce, "token_type": d.token_type,
        "sub": d.claims.sub if d.claims is not None else None,
    }


def run_requests(mode):
    """Every request vector in file order; returns a list of mismatch descriptions."""
    r = load("requests.json")
    vals = request_validators(r)
    bad = []

    async def one_async(v, args, kw):
        return await v.authenticate_async(*args, **kw)

    for case in r["cases"]:
        q = case["request"]
        headers = [("Authorization", a) for a in q["authorization"]] + [("DPoP", p) for p in q["dpop"]]
        kw = {"now": r["now"]}
        if q["client_cert_b64"] is not None:
            kw["client_cert"] = base64.b64decode(q["client_cert_b64"])
        args = (q["method"], q["url"], headers)
        v = vals[case["client"]]
        d = asyncio.run(one_async(v, args, kw)) if mode == "async" else v.authenticate(*args, **kw)
        got = decision_view(d)
        want = case["expect"]
        diff = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
        if diff:
            bad.append(f"{case['name']}: {diff}")
    return bad


if __name__ == "__main__":
    mismatches = run_requests(sys.argv[1])
    print(json.dumps({"cases": len(load("requests.json")["cases"]), "mismatches": mismatches}))
