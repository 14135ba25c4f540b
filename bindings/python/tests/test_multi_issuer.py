"""Several issuers (issue 12): tests/vectors/multi_issuer.json through ``Validator(issuers=[...])``,
explain mode, the issuer settings reaching the library, and misuse."""

from __future__ import annotations

import base64
import gc
import json

import pytest

import liboidc
from liboidc import Issuer, TenantBounds
from liboidc.issuer import _build as build_issuer
from liboidc._native import ffi, lib
from _vectors import load

MULTI = load("multi_issuer.json")
CASES = MULTI["cases"]
NOW = MULTI["now"]


def issuer_specs(v=MULTI):
    # an entry with "tenants" is a template (no jwks: keys discovered per tenant)
    return [Issuer(i["issuer"], jwks_json=i.get("jwks"), tenants=i.get("tenants", ()), audiences=i["audiences"],
                   algorithms=i["algorithms"])
            for i in v["issuers"]]


def multi_validator(**kw):
    c = MULTI["config"]
    return liboidc.Validator(audiences=c["audiences"], required_claims=c["required_claims"],
                             max_token_bytes=c["max_token_bytes"], leeway=c["leeway_secs"],
                             issuers=issuer_specs(), **kw)


def code_of(v, token, now=NOW):
    try:
        v.validate_at(token, now)
        return 0
    except liboidc.OidcError as e:
        return e.code


def iss_of(token):
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("iss")
    except Exception:
        return None


@pytest.fixture(scope="module")
def validator():
    return multi_validator()


def test_the_file_has_allowed_and_denied_cases():
    codes = {c["code"] for c in CASES}
    assert 0 in codes and len(codes) > 3 and len(CASES) >= 15
    assert len(MULTI["issuers"]) >= 2 and "issuer" not in MULTI["config"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_multi_issuer_vector(validator, case):
    if case["code"] == 0:
        claims = validator.validate_at(case["token"], NOW)
        assert claims.iss in [i["issuer"] for i in MULTI["issuers"]]
    else:
        with pytest.raises(liboidc.OidcError) as ei:
            validator.validate_at(case["token"], NOW)
        assert (ei.value.code, ei.value.code_name) == (case["code"], case["expect"]), ei.value
        assert isinstance(ei.value, liboidc.errors.error_class(case["code"]))


def test_issuers_as_mappings_decide_the_same():
    c = MULTI["config"]
    v = liboidc.Validator(audiences=c["audiences"], required_claims=c["required_claims"],
                          max_token_bytes=c["max_token_bytes"], leeway=c["leeway_secs"],
                          issuers=[{"issuer": i["issuer"], "audiences": i["audiences"],
                                    "algorithms": i["algorithms"].split(","),
                                    **({"jwks_json": json.dumps(i["jwks"])} if "jwks" in i else {}),
                                    **({"tenants": i["tenants"]} if "tenants" in i else {})}
                                   for i in MULTI["issuers"]])
    assert [code_of(v, c["token"]) for c in CASES] == [c["code"] for c in CASES]


def test_without_the_second_issuer_its_tokens_are_refused():
    # the issuers really reach the library: drop B and B's good tokens fail with ISSUER_MISMATCH
    c = MULTI["config"]
    v = liboidc.Validator(audiences=c["audiences"], required_claims=c["required_claims"], issuers=issuer_specs()[:1])
    b = MULTI["issuers"][1]["issuer"]
    b_ok = [x for x in CASES if x["code"] == 0 and iss_of(x["token"]) == b]
    assert b_ok
    for x in b_ok:
        assert code_of(v, x["token"]) == lib.OIDC_RESULT_ISSUER_MISMATCH


def test_one_issuer_spec_serves_several_validators():
    specs = issuer_specs()
    c = MULTI["config"]
    vs = [liboidc.Validator(audiences=c["audiences"], required_claims=c["required_claims"], issuers=specs)
          for _ in range(3)]
    ok = next(x for x in CASES if x["code"] == 0)
    for v in vs:
        assert v.validate_at(ok["token"], NOW).sub
    assert hash(specs[0]) == hash(issuer_specs()[0]) and specs[0] == issuer_specs()[0]


# ---- explain ----

def _no_token_text(doc, token):
    text = json.dumps(doc)
    sig = token.rsplit(".", 1)[-1]
    assert token not in text
    assert len(sig) < 8 or sig not in text, "the signature leaked"
    payload = token.split(".")[1] if token.count(".") == 2 else ""
    assert len(payload) < 8 or payload not in text


def test_explain_an_allowed_case_names_the_chosen_issuer(validator):
    for case in [c for c in CASES if c["code"] == 0]:
        d = validator.explain(case["token"], now=NOW)
        assert isinstance(d, dict)
        assert d["decision"] == "allow", d
        want = iss_of(case["token"])
        assert d["issuer"]["iss"] == want
        assert d["issuer"]["chosen"] == "exact"
        assert d["issuer"]["index"] == [i["issuer"] for i in MULTI["issuers"]].index(want)
        assert all(c["outcome"] in ("pass", "skipped") for c in d["checks"]), d
        _no_token_text(d, case["token"])


def test_explain_a_denied_case(validator):
    case = next(c for c in CASES if c["name"] == "issuer B with A's audience")
    d = validator.explain(case["token"], now=NOW)
    assert d["decision"] == "deny"
    assert d["issuer"]["iss"] == MULTI["issuers"][1]["issuer"] and d["issuer"]["index"] == 1
    assert any(c["check"] == "claim aud" and c["outcome"] == "fail" for c in d["checks"]), d
    _no_token_text(d, case["token"])
    # an issuer that is not configured: none chosen, no key tried
    case = next(c for c in CASES if c["name"] == "unknown issuer")
    d = validator.explain(case["token"], now=NOW)
    assert d["decision"] == "deny" and d["issuer"]["chosen"] == "none"
    _no_token_text(d, case["token"])


def test_explain_agrees_with_validate_on_every_case(validator):
    for case in CASES:
        d = validator.explain(case["token"], now=NOW)
        assert d["decision"] == ("allow" if case["code"] == 0 else "deny"), (case["name"], d)
        _no_token_text(d, case["token"])


def test_explain_now_matters(validator):
    ok = next(c for c in CASES if c["code"] == 0)
    assert validator.explain(ok["token"], now=NOW)["decision"] == "allow"
    assert validator.explain(ok["token"], now=NOW + 10 * 365 * 86400)["decision"] == "deny"
    assert validator.explain(ok["token"])["decision"] == "deny"  # now: the tokens are from 2027


def test_explain_request(validator):
    ok = next(c for c in CASES if c["code"] == 0)
    d = validator.explain_request("GET", "https://api.example/x", {"Authorization": "Bearer " + ok["token"]}, now=NOW)
    assert d["decision"] == "allow", d
    assert d["token"]["decision"] == "allow" and d["token"]["issuer"]["iss"] == iss_of(ok["token"])
    _no_token_text(d, ok["token"])
    bad = next(c for c in CASES if c["name"] == "issuer A with B's audience")
    d = validator.explain_request("GET", "https://api.example/x", [("Authorization", "Bearer " + bad["token"])], now=NOW)
    assert d["decision"] == "deny" and d["token"]["decision"] == "deny"
    _no_token_text(d, bad["token"])
    # no credentials: still an explanation, not an exception
    d = validator.explain_request("GET", "https://api.example/x", {}, now=NOW)
    assert d["decision"] == "deny"
    # the same decision as authenticate
    dec = validator.authenticate("GET", "https://api.example/x", {"Authorization": "Bearer " + bad["token"]}, now=NOW)
    assert not dec.allowed


# ---- the issuer settings reach the library (its export shows them) ----

def test_template_settings_reach_the_library():
    tpl = "https://login.example/{tenant}/v2.0"
    v = liboidc.Validator(audiences="api", issuers=[
        Issuer(tpl, tenants=["t1", "t2"], tenant_claim="tenant", tenant_bounds=TenantBounds(8, 2, 30, 1),
               expected_typ="at+jwt", required_claims=["sub"], algorithms="ES256", audiences=["api://t"]),
        Issuer("https://any.example/{tenant}", any_tenant=True, any_audience=True),
        Issuer("https://jwks.example", jwks_uri="https://jwks.example/keys"),
    ])
    doc = json.loads(v.policy_json())
    a, b, c = doc["issuers"][-3:]
    assert a["issuer"] == tpl and a["tenants"] == ["t1", "t2"] and a["tenant_claim"] == "tenant"
    assert a["tenant_bounds"] == {"max_tenants": 8, "new_per_window": 2, "window_secs": 30, "max_in_flight": 1}
    assert a["typ"] == "at+jwt" and a["required_claims"] == ["sub"] and a["algorithms"] == ["ES256"]
    assert a["audiences"] == ["api://t"]
    assert b["tenants"] == "any" and b["any_audience"] is True
    assert c["jwks_uri"] == "https://jwks.example/keys"


def test_a_tenant_outside_the_allow_list_is_refused_without_a_request():
    tpl = "https://login.example/{tenant}/v2.0"
    v = liboidc.Validator(audiences="api", issuers=[Issuer(tpl, tenants=["t1"])])
    tok = ".".join(base64.urlsafe_b64encode(json.dumps(x).encode()).decode().rstrip("=") for x in
                   ({"alg": "RS256", "kid": "k"}, {"iss": "https://login.example/evil/v2.0", "tid": "evil", "aud": "api",
                                                   "sub": "s", "exp": NOW + 60})) + ".c2ln"
    with pytest.raises(liboidc.OidcError) as ei:
        v.validate_at(tok, NOW)
    assert ei.value.code == lib.OIDC_RESULT_ISSUER_MISMATCH
    assert v.explain(tok, now=NOW)["decision"] == "deny"


# ---- misuse ----

def test_issuer_argument_types():
    with pytest.raises(TypeError):
        Issuer(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Issuer(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Issuer("https://a.example", audiences=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Issuer("https://a.example", audiences=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Issuer("https://a.example", any_tenant="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Issuer("https://a.example", jwks_json=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Issuer("https://a.example", tenant_bounds=(1, 2))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Issuer("https://a.example", tenant_bounds=TenantBounds(1, 2, "3", 4))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Issuer("https://a.example", tenant_bounds=TenantBounds(-1, 2, 3, 4))
    with pytest.raises(TypeError):
        Issuer.coerce("https://a.example")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Issuer.coerce({"issuer": "https://a.example", "audience": "x"})  # an unknown field


def test_issuers_argument_types():
    for bad in ("https://a.example", b"x", 42, Issuer("https://a.example"), {"issuer": "https://a.example"}):
        with pytest.raises(TypeError):
            liboidc.Validator(audiences="api", issuers=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        liboidc.Validator(audiences="api", issuers=[None])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        liboidc.Validator(audiences="api", issuers=[Issuer("https://a.example/\ud800")])


def test_library_refusals_name_the_issuer_and_field():
    with pytest.raises(liboidc.OidcError) as ei:
        liboidc.Validator(audiences="api", issuers=[Issuer("https://a.example"), Issuer("https://b.example", algorithms="HS256")])
    assert ei.value.code == lib.OIDC_RESULT_UNSUPPORTED_ALGORITHM and "issuers[1].algorithms" in ei.value.message
    with pytest.raises(liboidc.InvalidConfigError) as ei:  # any tenant after an allow-list
        liboidc.Validator(audiences="api", issuers=[Issuer("https://l.example/{tenant}", tenants=["t1"], any_tenant=True)])
    assert "issuers[0].any_tenant" in ei.value.message
    with pytest.raises(liboidc.InvalidConfigError) as ei:  # a malformed tenant: the library's check at build
        liboidc.Validator(audiences="api", issuers=[Issuer("https://l.example/{tenant}", tenants=["no/slash"])])
    assert "no/slash" in ei.value.message
    with pytest.raises(liboidc.InvalidConfigError):  # a template without a tenant choice: at build
        liboidc.Validator(audiences="api", issuers=[Issuer("https://l.example/{tenant}")])
    with pytest.raises(liboidc.OidcError) as ei:  # invalid UTF-8 reaches the library
        liboidc.Validator(audiences="api", issuers=[Issuer(b"https://a.example/\xff")])
    assert "issuers[0].issuer" in ei.value.message
    with pytest.raises(liboidc.OidcError):
        liboidc.Validator(audiences="api", issuers=[Issuer("https://a.example", audiences=[b"\xc3"])])
    with pytest.raises(liboidc.OidcError):  # no issuer at all: the library says so at build
        liboidc.Validator(audiences="api")


def test_an_issuer_builder_used_after_it_was_consumed():
    vb_out = ffi.new("struct oidc_validator_builder **")
    assert lib.oidc_validator_builder_new(vb_out, ffi.NULL) == 0
    vb = vb_out[0]
    try:
        ib = build_issuer(Issuer("https://a.example", audiences="api"), "issuers[0]")
        ib.add_to(vb, "issuers[0]")
        with pytest.raises(liboidc.ClosedError, match="consumed"):
            ib.set_str("audiences", lib.oidc_issuer_builder_add_audience, "api2")
        with pytest.raises(liboidc.ClosedError):
            ib.add_to(vb, "issuers[0]")
        ib.free()  # a no-op now: nothing is freed twice
        # a builder whose setter failed is still consumed by add_issuer, which reports the failure
        ib2 = build_issuer(Issuer("https://b.example"), "issuers[1]")
        with pytest.raises(liboidc.OidcError):
            ib2.call("algorithms", lib.oidc_issuer_builder_set_algorithms, b"HS256", 5)
        with pytest.raises(liboidc.UnsupportedAlgorithmError):
            ib2.add_to(vb, "issuers[1]")
        with pytest.raises(liboidc.ClosedError):
            ib2.call("any_audience", lib.oidc_issuer_builder_set_any_audience, 1)
        # an abandoned builder is freed by the garbage collector
        build_issuer(Issuer("https://c.example"), "x")
        gc.collect()
    finally:
        lib.oidc_validator_builder_free(vb)


def test_explain_misuse(validator):
    with pytest.raises(TypeError):
        validator.explain(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        validator.explain("abc", now="soon")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        validator.explain("abc", now=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        validator.explain("abc", now=2**63)
    with pytest.raises(ValueError):
        validator.explain("a\ud800b")
    d = validator.explain(b"\xff\xfe.\xff.\x00", now=NOW)  # invalid UTF-8: explained, refused
    assert d["decision"] == "deny"
    with pytest.raises(TypeError):
        validator.explain_request("GET", "https://api.example/x", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        validator.explain_request(None, "https://api.example/x", {})  # type: ignore[arg-type]
    with pytest.raises(liboidc.OidcError):  # the library refuses a request without a URL
        validator.explain_request("GET", "", {})
    v = multi_validator()
    v.close()
    with pytest.raises(liboidc.ClosedError):
        v.explain(CASES[0]["token"], now=NOW)
    with pytest.raises(liboidc.ClosedError):
        v.explain_request("GET", "https://api.example/x", {})
    with pytest.raises(liboidc.ClosedError):
        v.policy_json()
