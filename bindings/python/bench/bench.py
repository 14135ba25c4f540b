"""Validation throughput of the Python binding vs PyJWT (PyJWK) and joserfc, cffi vs ctypes on
the hot path, the verified-token cache, and asyncio vs sync. One run, alternated rounds; every
figure is also given as a ratio to a baseline measured in the same run.

    LIBOIDC_PATH=.../liboidc.so.0.2 PYTHONPATH=bindings/python/src \\
        bindings/python/build/venv/bin/python bindings/python/bench/bench.py [--rounds 5] [--n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import statistics
import time

import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwt as jrfc_jwt
from joserfc.jwk import KeySet

import liboidc
from liboidc._native import ffi, lib

ISS, AUD = "https://issuer.bench.test", "api://bench"


def make_keys():
    keys = {
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    }
    algo = {"RS256": pyjwt.algorithms.RSAAlgorithm, "ES256": pyjwt.algorithms.ECAlgorithm,
            "EdDSA": pyjwt.algorithms.OKPAlgorithm}
    jwks = []
    for alg, k in keys.items():
        j = json.loads(algo[alg].to_jwk(k.public_key()))
        j.update(kid=alg.lower(), alg=alg, use="sig")
        jwks.append(j)
    return keys, {"keys": jwks}


def make_token(alg, key, i=0):
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": f"user-{i}", "iat": now, "nbf": now, "exp": now + 3600,
              "jti": f"jti-{alg}-{i}", "scope": "read write", "client_id": "bench"}
    return pyjwt.encode(claims, key, algorithm=alg, headers={"kid": alg.lower(), "typ": "at+jwt"})


def timed(fn, n):
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=2000)
    a = ap.parse_args()
    keys, jwks = make_keys()
    jwks_s = json.dumps(jwks)
    nocache = liboidc.Validator(issuer=ISS, audiences=AUD, jwks_json=jwks_s, token_cache_size=0,
                                algorithms="RS256,ES256,EdDSA")
    cached = liboidc.Validator(issuer=ISS, audiences=AUD, jwks_json=jwks_s, algorithms="RS256,ES256,EdDSA")
    pyjwks = {j["kid"]: pyjwt.PyJWK(j) for j in jwks["keys"]}
    jrfc_keys = KeySet.import_key_set(jwks)
    registry = jrfc_jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISS}, aud={"essential": True, "value": AUD})
    results = {}

    # distinct tokens per call (no cache can help): a pool per alg, cycled
    pools = {alg: [make_token(alg, k, i) for i in range(64)] for alg, k in keys.items()}

    def lib_lazy(alg):
        toks = pools[alg]

        def run(n):
            for i in range(n):
                nocache.validate(toks[i & 63])
        return run

    def lib_mapping(alg):
        toks = pools[alg]

        def run(n):
            for i in range(n):
                c = nocache.validate(toks[i & 63])
                c["sub"]  # parse: the claims as a mapping
        return run

    def pyjwt_run(alg):
        toks = pools[alg]
        k = pyjwks[alg.lower()]

        def run(n):
            for i in range(n):
                d = pyjwt.decode(toks[i & 63], k, algorithms=[alg], audience=AUD, issuer=ISS)
                d["sub"]
        return run

    def joserfc_run(alg):
        toks = pools[alg]

        def run(n):
            for i in range(n):
                t = jrfc_jwt.decode(toks[i & 63], jrfc_keys, algorithms=[alg])
                registry.validate(t.claims)
                t.claims["sub"]
        return run

    # the hot path through the verified-token cache: cffi (the binding's own call) vs ctypes
    rep = pools["ES256"][0]
    cached.validate(rep)
    cdll = ctypes.CDLL(liboidc.LIBRARY_PATH)
    cdll.oidc_validate.restype = ctypes.c_uint32
    cdll.oidc_validate.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                   ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t),
                                   ctypes.POINTER(ctypes.c_void_p)]
    cdll.oidc_string_free.argtypes = [ctypes.c_void_p]
    cdll.oidc_string_free.restype = None
    vptr = ctypes.c_void_p(int(ffi.cast("uintptr_t", cached._p)))
    repb = rep.encode()

    def ffi_cffi(n):
        validate, free, buf, new = lib.oidc_validate, lib.oidc_string_free, ffi.buffer, ffi.new
        t1, t2, t3 = ffi.typeof("char **"), ffi.typeof("size_t *"), ffi.typeof("struct oidc_error **")
        p = cached._p
        for _ in range(n):
            out, ln, err = new(t1), new(t2), new(t3)
            rc = validate(p, repb, len(repb), out, ln, err)
            assert rc == 0
            buf(out[0], ln[0])[:]
            free(out[0])

    def ffi_ctypes(n):
        validate, free, at = cdll.oidc_validate, cdll.oidc_string_free, ctypes.string_at
        for _ in range(n):
            out = ctypes.c_void_p()
            ln = ctypes.c_size_t()
            err = ctypes.c_void_p()
            rc = validate(vptr, repb, len(repb), ctypes.byref(out), ctypes.byref(ln), ctypes.byref(err))
            assert rc == 0
            at(out.value, ln.value)
            free(out)

    # The issue's own method (a plain ctypes wrapper around oidc_validate, no binding): the same
    # tokens through the cache-off validator, with and without json.loads of the claims. It
    # bounds what any binding can reach on this machine.
    nptr = ctypes.c_void_p(int(ffi.cast("uintptr_t", nocache._p)))

    def plain_ctypes(alg, parse):
        toks = [t.encode() for t in pools[alg]]

        def run(n):
            validate, free, at, loads = cdll.oidc_validate, cdll.oidc_string_free, ctypes.string_at, json.loads
            for i in range(n):
                t = toks[i & 63]
                out = ctypes.c_void_p()
                ln = ctypes.c_size_t()
                err = ctypes.c_void_p()
                rc = validate(nptr, t, len(t), ctypes.byref(out), ctypes.byref(ln), ctypes.byref(err))
                assert rc == 0
                raw = at(out.value, ln.value)
                free(out)
                if parse:
                    loads(raw)["sub"]
        return run

    def repeated_binding(n):
        for _ in range(n):
            cached.validate(rep)["sub"]

    def repeated_nocache(n):
        for _ in range(n):
            nocache.validate(rep)["sub"]

    def sync_es(n):
        toks = pools["ES256"]
        for i in range(n):
            nocache.validate(toks[i & 63])

    def async_es(n):
        toks = pools["ES256"]

        async def go():
            await asyncio.gather(*(nocache.validate_async(toks[i & 63]) for i in range(n)))
        asyncio.run(go())

    benches = {}
    for alg in ("RS256", "ES256", "EdDSA"):
        benches[f"{alg} liboidc (claims as mapping)"] = lib_mapping(alg)
        benches[f"{alg} liboidc (validate only, lazy claims)"] = lib_lazy(alg)
        benches[f"{alg} PyJWT + PyJWK"] = pyjwt_run(alg)
        benches[f"{alg} joserfc"] = joserfc_run(alg)
        benches[f"{alg} plain ctypes wrapper (claims json.loads)"] = plain_ctypes(alg, True)
        benches[f"{alg} plain ctypes wrapper (claims not parsed)"] = plain_ctypes(alg, False)
    benches["hot path cffi (cached token)"] = ffi_cffi
    benches["hot path ctypes (cached token)"] = ffi_ctypes
    benches["repeated token, cache on"] = repeated_binding
    benches["repeated token, cache off"] = repeated_nocache
    benches["ES256 sync validate"] = sync_es
    benches["ES256 asyncio validate_async (gather)"] = async_es

    names = list(benches)
    for fn in benches.values():  # warm up
        fn(50)
    per = {k: [] for k in names}
    for r in range(a.rounds):
        order = names[r % len(names):] + names[:r % len(names)]  # rotate: alternated rounds
        for k in order:
            n = a.n * 10 if ("cached" in k or "cache on" in k) else a.n
            per[k].append(timed(benches[k], n))
    for k in names:
        results[k] = statistics.median(per[k])

    load = os.getloadavg()
    print(f"# load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {a.rounds} rounds, "
          f"n={a.n}; median ops/s")
    print(f"# liboidc {liboidc.LIBRARY_VERSION}, PyJWT {pyjwt.__version__}, cffi {ffi.__class__.__module__}")
    print("| benchmark | ops/s | ratio |")
    print("| --- | ---: | --- |")
    for alg in ("RS256", "ES256", "EdDSA"):
        base_j, base_r = results[f"{alg} PyJWT + PyJWK"], results[f"{alg} joserfc"]
        for k in (f"{alg} liboidc (claims as mapping)", f"{alg} liboidc (validate only, lazy claims)",
                  f"{alg} plain ctypes wrapper (claims json.loads)", f"{alg} plain ctypes wrapper (claims not parsed)"):
            print(f"| {k} | {results[k]:,.0f} | {results[k] / base_j:.2f}x PyJWT, {results[k] / base_r:.2f}x joserfc |")
        print(f"| {alg} PyJWT + PyJWK | {base_j:,.0f} | 1 |")
        print(f"| {alg} joserfc | {base_r:,.0f} | {base_r / base_j:.2f}x PyJWT |")
    c, t = results["hot path cffi (cached token)"], results["hot path ctypes (cached token)"]
    print(f"| hot path cffi (cached token) | {c:,.0f} | {c / t:.2f}x ctypes |")
    print(f"| hot path ctypes (cached token) | {t:,.0f} | 1 |")
    on, off = results["repeated token, cache on"], results["repeated token, cache off"]
    print(f"| repeated ES256 token, verified-token cache on | {on:,.0f} | {on / off:.2f}x cache off |")
    print(f"| repeated ES256 token, cache off | {off:,.0f} | 1 |")
    s, y = results["ES256 sync validate"], results["ES256 asyncio validate_async (gather)"]
    print(f"| ES256 asyncio validate_async ({a.n} gathered) | {y:,.0f} | {y / s:.2f}x sync |")
    print(f"| ES256 sync validate | {s:,.0f} | 1 |")


if __name__ == "__main__":
    main()
