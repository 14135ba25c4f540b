#!/usr/bin/env python3
"""Flatten the issue-14 shared JOSE vectors into the line file test_jose.c reads.

    python3 tests/c/jose_flat.py tests/vectors > jose.txt

Reads tests/vectors/jose_jwe.json, jose_jws.json and logout.json. JSON stays here; the C side
reads one record per line, fields separated by one space. Every string is lower-case hex of its
UTF-8 bytes ("-" is the empty string, "~" is absent/null), numbers are decimal:

    jwe <name> <jwe> <key> <algorithms|~> <plaintext_b64url|~> <header|~> <payload_text|~>
        <code|~> <message|~> <skip|~>
        key: the case's private JWK as JSON text; header: the JWE's protected header in the
        form the library's response JSON has it (sorted members, compact); payload_text: the
        plaintext when it is UTF-8; code: the expected result name; skip: why the C ABI cannot
        express the case
    jws <name> <jws> <jwks> <algorithms> <restricted 0|1> <detached|~> <header|~> <payload_b64url|~>
        <payload_text|~> <code|~> <skip|~>
        restricted: the case's algorithm allow-list is not the OAuth client's default (a library
        without oidc_oauth_builder_set_algorithms cannot run it); detached: the detached payload
        (its bytes; only UTF-8 text can be given to the ABI)
    logout <issuer> <client_id> <jwks> <leeway_secs> <now>     logout.json `client` and `now`
    lcase <name> <accept_untyped 0|1>                          one case: a fresh client
    lstep <path> <code> <expect> <sub|~> <sid|~> <jti|~> <token>   its steps, in order
    lend

Nothing is decided here: codes, payloads and headers are the vectors'. The only knowledge of the
C ABI here is which case settings it has no knob for (the plaintext bound; a JWS detached
payload that is not text) and which JWS cases need the OAuth client's algorithm setting, so that those cases are skipped visibly with the reason.

Strict: a member this script does not know fails it (exit 2), so a vector that grows a member
is never half-run.
"""

import base64
import json
import os
import sys

# The signature algorithms an OAuth client allows by default (every asymmetric JWS algorithm):
# a library without oidc_oauth_builder_set_algorithms runs only the cases that use them.
OAUTH_DEFAULT_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}


def fail(msg):
    sys.stderr.write("jose_flat: %s\n" % msg)
    sys.exit(2)


def h(s):
    if s is None:
        return "~"
    if isinstance(s, bytes):
        return s.hex() or "-"
    if not isinstance(s, str):
        fail("expected a string, got %r" % (s,))
    return s.encode("utf-8", "surrogatepass").hex() or "-"


def num(v, what):
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        fail("%s: expected an integer, got %r" % (what, v))
    return str(v)


def known(obj, members, what):
    if not isinstance(obj, dict):
        fail("%s: expected an object" % what)
    extra = set(obj) - set(members)
    if extra:
        fail("%s: unknown member(s) %s" % (what, sorted(extra)))


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def canon(v):
    # serde_json's compact form with sorted members (the library's response JSON)
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def text_of(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return None


def load(d, name):
    with open(os.path.join(d, name), encoding="utf-8") as f:
        return json.load(f)


def jwe_lines(v, out):
    known(v, ("description", "cases"), "jose_jwe.json")
    for i, c in enumerate(v["cases"]):
        what = "jose_jwe.json cases[%d]" % i
        known(c, ("name", "source", "jwe", "key", "algorithms", "max_plaintext", "expect"), what)
        e = c["expect"]
        known(e, ("plaintext_b64url", "code", "message"), what + " expect")
        skip = None
        if c.get("max_plaintext") is not None:
            skip = "max_plaintext %d: the C ABI has no plaintext bound setting (default 65536)" % c["max_plaintext"]
        header = payload_text = None
        pt = e.get("plaintext_b64url")
        if pt is not None:
            header = canon(json.loads(b64d(c["jwe"].split(".")[0])))
            payload_text = text_of(b64d(pt))
        out.append(" ".join(["jwe", h(c["name"]), h(c["jwe"]), h(json.dumps(c["key"], separators=(",", ":"))),
                             h(c.get("algorithms")), h(pt), h(header), h(payload_text), h(e.get("code")),
                             h(e.get("message")), h(skip)]))


def jws_lines(v, out):
    known(v, ("cases",), "jose_jws.json")
    for i, c in enumerate(v["cases"]):
        what = "jose_jws.json cases[%d]" % i
        known(c, ("name", "source", "jws", "jwks", "algorithms", "detached_payload_b64url", "expect"), what)
        e = c["expect"]
        known(e, ("header", "payload_b64url", "code"), what + " expect")
        skip = None
        restricted = set(c["algorithms"].split()) != OAUTH_DEFAULT_ALGS
        detached = None
        if c["detached_payload_b64url"] is not None:
            detached = b64d(c["detached_payload_b64url"])
            if text_of(detached) is None:
                skip = "the detached payload is not UTF-8: OIDC_PARAM_PAYLOAD takes text"
        header = payload_text = None
        if "header" in e:
            header = canon(e["header"])
            payload_text = text_of(b64d(e["payload_b64url"]))
        out.append(" ".join(["jws", h(c["name"]), h(c["jws"]), h(json.dumps(c["jwks"], separators=(",", ":"))),
                             h(c["algorithms"]), "1" if restricted else "0", h(detached), h(header), h(e.get("payload_b64url")), h(payload_text), h(e.get("code")),
                             h(skip)]))


def logout_lines(v, out):
    known(v, ("description", "client", "now", "cases"), "logout.json")
    cl = v["client"]
    known(cl, ("issuer", "client_id", "jwks", "leeway_secs"), "logout.json client")
    out.append(" ".join(["logout", h(cl["issuer"]), h(cl["client_id"]), h(json.dumps(cl["jwks"], separators=(",", ":"))),
                         num(cl["leeway_secs"], "leeway_secs"), num(v["now"], "now")]))
    for i, c in enumerate(v["cases"]):
        what = "logout.json cases[%d]" % i
        known(c, ("name", "client", "steps"), what)
        known(c["client"], ("accept_untyped",), what + " client")
        out.append("lcase %s %d" % (h(c["name"]), 1 if c["client"].get("accept_untyped") else 0))
        for j, s in enumerate(c["steps"]):
            known(s, ("path", "code", "expect", "sub", "sid", "jti", "token"), "%s steps[%d]" % (what, j))
            if s["path"] not in ("logout_token", "access_token", "id_token"):
                fail("%s steps[%d]: unknown path %r" % (what, j, s["path"]))
            out.append(" ".join(["lstep", s["path"], num(s["code"], "code"), s["expect"], h(s.get("sub")),
                                 h(s.get("sid")), h(s.get("jti")), h(s["token"])]))
        out.append("lend")


def main():
    if len(sys.argv) != 2:
        fail("usage: jose_flat.py VECTOR_DIR")
    d = sys.argv[1]
    out = []
    jwe_lines(load(d, "jose_jwe.json"), out)
    jws_lines(load(d, "jose_jws.json"), out)
    logout_lines(load(d, "logout.json"), out)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
