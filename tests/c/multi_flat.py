#!/usr/bin/env python3
"""Flatten the issue-12 shared vectors into the line file test_multi.c reads.

    python3 tests/c/multi_flat.py tests/vectors > multi.txt

Reads tests/vectors/multi_issuer.json, tests/vectors/policy.json and every vector file that a
policy equivalent names (validation.json). JSON stays here; the C side reads one record per
line, fields separated by one space. Every string is lower-case hex of its UTF-8 bytes ("-" is
the empty string), numbers are decimal:

    set <file> <now>                  a vector file's cases (file: its name, e.g. multi_issuer.json)
    case <code> <name> <token>        one case of the set above (code: the expected result code)
    end                               ends the set
    config <member> <value>           multi_issuer.json `config`, as builder calls:
                                      audience <hex> (one line per entry), required_claim <hex>
                                      (one per entry), leeway_secs <int>, max_token_bytes <int>
    issuer <hex>                      starts one added issuer of multi_issuer.json `issuers`
    icfg <member> <hex>               its settings: jwks (the document), audience (one per entry),
                                      algorithms (the list as given), tenant (one per entry of a
                                      template's `tenants`)
    equivalent <file> <policy>        policy.json `equivalents`: the document decides <file>'s cases
    malformed <name> <document> <path>  policy.json `malformed`

Strict: a member this script does not know fails it (exit 2), so a vector that grows a member
is never half-run.
"""

import json
import os
import sys


def fail(msg):
    sys.stderr.write("multi_flat: %s\n" % msg)
    sys.exit(2)


def h(s):
    if not isinstance(s, str):
        fail("expected a string, got %r" % (s,))
    return s.encode("utf-8", "surrogatepass").hex() or "-"


def num(v, what):
    if isinstance(v, bool) or not isinstance(v, int):
        fail("%s: expected an integer, got %r" % (what, v))
    return str(v)


def strings(v, what):
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        fail("%s: expected a list of strings, got %r" % (what, v))
    return v


def known(obj, members, what):
    if not isinstance(obj, dict):
        fail("%s: expected an object" % what)
    extra = set(obj) - set(members)
    if extra:
        fail("%s: unknown member(s) %s" % (what, sorted(extra)))


def load(d, name):
    with open(os.path.join(d, name), encoding="utf-8") as f:
        return json.load(f)


def emit_set(out, name, v):
    now = v["now"]
    if isinstance(now, float) and now.is_integer():
        now = int(now)
    out.append("set %s %s" % (name, num(now, name + " now")))
    if not v["cases"]:
        fail("%s: no cases" % name)
    for i, c in enumerate(v["cases"]):
        known(c, ("code", "expect", "name", "token"), "%s cases[%d]" % (name, i))
        out.append("case %s %s %s" % (num(c["code"], "code"), h(c["name"]), h(c["token"])))
    out.append("end")


def main():
    if len(sys.argv) != 2:
        fail("usage: multi_flat.py VECTORS_DIR")
    d = sys.argv[1]
    out = []

    m = load(d, "multi_issuer.json")
    known(m, ("cases", "config", "description", "issuers", "now"), "multi_issuer.json")
    cfg = m["config"]
    known(cfg, ("audiences", "leeway_secs", "max_token_bytes", "required_claims"), "multi_issuer.json config")
    for a in strings(cfg.get("audiences", []), "config.audiences"):
        out.append("config audience %s" % h(a))
    for c in strings(cfg.get("required_claims", []), "config.required_claims"):
        out.append("config required_claim %s" % h(c))
    for k in ("leeway_secs", "max_token_bytes"):
        if k in cfg:
            out.append("config %s %s" % (k, num(cfg[k], "config." + k)))
    if not m["issuers"]:
        fail("multi_issuer.json: no issuers")
    for i, iss in enumerate(m["issuers"]):
        what = "multi_issuer.json issuers[%d]" % i
        known(iss, ("algorithms", "audiences", "issuer", "jwks", "tenants"), what)
        out.append("issuer %s" % h(iss["issuer"]))
        if "jwks" in iss:
            out.append("icfg jwks %s" % h(json.dumps(iss["jwks"], separators=(",", ":"))))
        for a in strings(iss.get("audiences", []), what + ".audiences"):
            out.append("icfg audience %s" % h(a))
        if "algorithms" in iss:
            out.append("icfg algorithms %s" % h(iss["algorithms"]))
        for t in strings(iss.get("tenants", []), what + ".tenants"):
            out.append("icfg tenant %s" % h(t))
    emit_set(out, "multi_issuer.json", m)

    p = load(d, "policy.json")
    known(p, ("description", "equivalents", "malformed"), "policy.json")
    sets = {"multi_issuer.json"}
    if not p["equivalents"] or not p["malformed"]:
        fail("policy.json: no equivalents or no malformed documents")
    for i, e in enumerate(p["equivalents"]):
        known(e, ("vectors", "policy"), "policy.json equivalents[%d]" % i)
        name = e["vectors"]
        if name not in sets:
            v = load(d, name)
            known(v, ("cases", "config", "description", "jwks", "now", "issuers"), name)
            emit_set(out, name, v)
            sets.add(name)
        doc = e["policy"] if isinstance(e["policy"], str) else json.dumps(e["policy"])
        out.append("equivalent %s %s" % (name, h(doc)))
    for i, e in enumerate(p["malformed"]):
        known(e, ("name", "document", "path"), "policy.json malformed[%d]" % i)
        out.append("malformed %s %s %s" % (h(e["name"]), h(e["document"]), h(e["path"])))

    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
