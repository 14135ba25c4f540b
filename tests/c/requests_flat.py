#!/usr/bin/env python3
"""Flatten the shared request vectors (tests/vectors/requests.json) into lines test_authn.c reads.

    python3 tests/c/requests_flat.py tests/vectors/requests.json > requests.txt

JSON stays here; the C side reads one record per line, fields separated by one space. Every
string is lower-case hex of its UTF-8 bytes (so any byte, space or newline survives), "-" is
null, "-empty-" the empty string, numbers are decimal:

    now <int>
    jwks <hex>
    client <name>                              starts a client; its cfg lines follow
    cfg <member> <value>                       issuer, audience, expected_typ, algorithms, realm,
                                               required_scope, dpop_mode, dpop_algorithms: <hex>;
                                               leeway_secs, max_token_bytes, dpop_proof_window_secs,
                                               require_mtls (0/1), token_cache_size: <int>
    cfg claim_value <claim> <value>
    cfg dpop_nonce_secret <secret bytes> <lifetime int or ->
    case <name> <client>                       starts a case; request and expect lines follow
    authorization|dpop <hex>                   one line per header line, in order
    method|url <hex>
    cert <DER bytes hex>
    expect_allowed 0|1, expect_code <int>, expect_status <int>
    expect_code_name|expect_error|expect_dpop_nonce|expect_token_type|expect_sub <hex or ->
    expect_challenges <count>, then expect_challenge <hex> per value, in order
    end

Strict: a member this script does not know fails it (exit 2), so a vector that grows a member
is never half-run. Members named "description", "comment", "note" or starting with "_" are notes.
"""

import base64
import json
import sys


def fail(msg):
    sys.stderr.write("requests_flat: %s\n" % msg)
    sys.exit(2)


def h(s):
    if s is None:
        return "-"
    if not isinstance(s, str):
        fail("expected a string or null, got %r" % (s,))
    return s.encode("utf-8", "surrogatepass").hex() or "-empty-"


def num(v, what):
    if isinstance(v, bool) or not isinstance(v, int):
        fail("%s: expected an integer, got %r" % (what, v))
    return str(v)


def is_note(k):
    return k in ("description", "comment", "note") or k.startswith("_")


def check_keys(obj, allowed, where):
    if not isinstance(obj, dict):
        fail("%s: expected an object" % where)
    for k in obj:
        if k not in allowed and not is_note(k):
            fail("%s: unknown member %r (teach tests/c/requests_flat.py and test_authn.c)" % (where, k))


CLIENT_MEMBERS = {
    "issuer", "audiences", "expected_typ", "algorithms", "leeway_secs", "max_token_bytes", "realm",
    "required_scopes", "claim_values", "dpop_mode", "dpop_algorithms", "dpop_proof_window_secs",
    "dpop_nonce_secret_hex", "dpop_nonce_lifetime_secs", "require_mtls", "token_cache_size",
}
REQUEST_MEMBERS = {"authorization", "dpop", "method", "url", "client_cert_b64"}
EXPECT_MEMBERS = {"allowed", "code", "code_name", "status", "error", "challenges", "dpop_nonce",
                  "token_type", "sub"}


def main(path):
    v = json.load(open(path, encoding="utf-8"))
    check_keys(v, {"now", "jwks", "clients", "cases"}, "top level")
    out = []
    out.append("now " + num(v["now"], "now"))
    out.append("jwks " + h(json.dumps(v["jwks"], separators=(",", ":"))))
    clients = v["clients"]
    for name, c in clients.items():
        where = "client %s" % name
        check_keys(c, CLIENT_MEMBERS, where)
        out.append("client " + h(name))

        def cfg(member, value):
            out.append("cfg %s %s" % (member, value))

        for k in ("issuer", "expected_typ", "algorithms", "realm", "dpop_mode", "dpop_algorithms"):
            if c.get(k) is not None:
                cfg(k, h(c[k]))
        for a in c.get("audiences") or []:
            cfg("audience", h(a))
        for k in ("leeway_secs", "max_token_bytes", "dpop_proof_window_secs", "token_cache_size"):
            if c.get(k) is not None:
                cfg(k, num(c[k], where + " " + k))
        if c.get("require_mtls") is not None:
            if not isinstance(c["require_mtls"], bool):
                fail(where + ": require_mtls is not a boolean")
            cfg("require_mtls", "1" if c["require_mtls"] else "0")
        for s in c.get("required_scopes") or []:
            cfg("required_scope", h(s))
        claim_values = c.get("claim_values") or {}
        if not isinstance(claim_values, dict):
            fail(where + ": claim_values is not an object")
        for claim, values in claim_values.items():
            if not isinstance(values, list):
                fail(where + ": claim_values.%s is not an array" % claim)
            for val in values:
                out.append("cfg claim_value %s %s" % (h(claim), h(val)))
        if c.get("dpop_nonce_secret_hex") is not None:
            secret = bytes.fromhex(c["dpop_nonce_secret_hex"])
            life = c.get("dpop_nonce_lifetime_secs")
            out.append("cfg dpop_nonce_secret %s %s" % (secret.hex() or "-empty-",
                                                        "-" if life is None else num(life, where)))
        elif c.get("dpop_nonce_lifetime_secs") is not None:
            fail(where + ": dpop_nonce_lifetime_secs without dpop_nonce_secret_hex")

    for i, case in enumerate(v["cases"]):
        where = "case %d (%s)" % (i, case.get("name"))
        check_keys(case, {"name", "client", "request", "expect"}, where)
        if case["client"] not in clients:
            fail(where + ": unknown client %r" % case["client"])
        out.append("case %s %s" % (h(case["name"]), h(case["client"])))
        r = case["request"]
        check_keys(r, REQUEST_MEMBERS, where + " request")
        for k in ("authorization", "dpop"):
            vals = r.get(k)
            if vals is None:
                continue
            if not isinstance(vals, list):
                fail(where + ": request.%s is not an array" % k)
            for val in vals:
                out.append("%s %s" % (k, h(val)))
        out.append("method " + h(r["method"]))
        out.append("url " + h(r["url"]))
        if r.get("client_cert_b64") is not None:
            out.append("cert " + (base64.b64decode(r["client_cert_b64"], validate=True).hex() or "-empty-"))
        e = case["expect"]
        check_keys(e, EXPECT_MEMBERS, where + " expect")
        missing = EXPECT_MEMBERS - set(e)
        if missing:
            fail(where + ": expect lacks %s" % sorted(missing))
        if not isinstance(e["allowed"], bool):
            fail(where + ": expect.allowed is not a boolean")
        out.append("expect_allowed " + ("1" if e["allowed"] else "0"))
        out.append("expect_code " + num(e["code"], where))
        out.append("expect_code_name " + h(e["code_name"]))
        out.append("expect_status " + num(e["status"], where))
        out.append("expect_error " + h(e["error"]))
        if not isinstance(e["challenges"], list):
            fail(where + ": expect.challenges is not an array")
        out.append("expect_challenges %d" % len(e["challenges"]))
        for ch in e["challenges"]:
            out.append("expect_challenge " + h(ch))
        out.append("expect_dpop_nonce " + h(e["dpop_nonce"]))
        out.append("expect_token_type " + h(e["token_type"]))
        out.append("expect_sub " + h(e["sub"]))
        out.append("end")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: requests_flat.py requests.json")
    main(sys.argv[1])
