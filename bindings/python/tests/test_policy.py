"""Policy documents (issue 12): tests/vectors/policy.json through ``Validator(policy=...)`` and
``Validator(policy_file=...)``, the export ``policy_json()``, and misuse."""

from __future__ import annotations

import json
import os

import pytest

import liboidc
from liboidc._native import ffi, lib
from _vectors import load

POLICY = load("policy.json")
EQUIV = POLICY["equivalents"]
MALFORMED = POLICY["malformed"]


def decisions(v, vectors):
    out = []
    for case in vectors["cases"]:
        try:
            v.validate_at(case["token"], vectors["now"])
            out.append(0)
        except liboidc.OidcError as e:
            out.append(e.code)
    return out


def test_the_file_covers_both_vector_files():
    assert sorted(e["vectors"] for e in EQUIV) == ["multi_issuer.json", "validation.json"]
    assert len(MALFORMED) >= 10


@pytest.mark.parametrize("how", ["text", "bytes", "dict", "file", "pathlib"])
@pytest.mark.parametrize("entry", EQUIV, ids=[e["vectors"] for e in EQUIV])
def test_a_policy_decides_like_the_builder_calls(entry, how, tmp_path):
    vectors = load(entry["vectors"])
    text = json.dumps(entry["policy"])
    if how in ("file", "pathlib"):
        f = tmp_path / "policy.json"
        f.write_text(text, encoding="utf-8")
        v = liboidc.Validator(policy_file=str(f) if how == "file" else f)
    else:
        v = liboidc.Validator(policy={"text": text, "bytes": text.encode(), "dict": entry["policy"]}[how])
    want = [c["code"] for c in vectors["cases"]]
    assert 0 in want and len(set(want)) > 3
    assert decisions(v, vectors) == want
    # the export, loaded again, decides the same and exports the same text
    exported = v.policy_json()
    assert isinstance(exported, str) and json.loads(exported)["version"] == 1
    again = liboidc.Validator(policy=exported)
    assert decisions(again, vectors) == want
    assert again.policy_json() == exported


def test_the_builder_calls_export_the_same_document_as_the_policy():
    vectors = load("validation.json")
    c = vectors["config"]
    by_kwargs = liboidc.Validator(issuer=c["issuer"], audiences=c["audiences"], algorithms=c["algorithms"],
                                  jwks_json=vectors["jwks"], leeway=c["leeway_secs"], max_token_bytes=c["max_token_bytes"],
                                  expected_typ=c["expected_typ"], required_claims=c["required_claims"])
    entry = next(e for e in EQUIV if e["vectors"] == "validation.json")
    assert by_kwargs.policy_json() == liboidc.Validator(policy=entry["policy"]).policy_json()


def test_keyword_arguments_win_over_the_document(tmp_path):
    entry = next(e for e in EQUIV if e["vectors"] == "validation.json")
    v = liboidc.Validator(policy=entry["policy"], leeway=7, audiences=["api://other"])
    doc = json.loads(v.policy_json())
    assert doc["leeway_secs"] == 7
    assert "api://other" in doc["audiences"]
    # the file is loaded before the text: the text's members replace the file's
    f = tmp_path / "base.json"
    f.write_text(json.dumps(entry["policy"]), encoding="utf-8")
    v = liboidc.Validator(policy_file=f, policy={"version": 1, "leeway_secs": 11})
    doc = json.loads(v.policy_json())
    assert doc["leeway_secs"] == 11 and doc["issuer"] == entry["policy"]["issuer"]


@pytest.mark.parametrize("m", MALFORMED, ids=[m["name"] for m in MALFORMED])
def test_a_malformed_policy_names_its_path(m, tmp_path):
    with pytest.raises(liboidc.OidcError) as ei:
        liboidc.Validator(policy=m["document"])
    e = ei.value
    assert isinstance(e, liboidc.InvalidConfigError) and e.code == 100 and e.code_name == "INVALID_CONFIG", e
    assert m["path"] + ":" in e.message, e.message
    # the same through a file
    f = tmp_path / "bad.json"
    f.write_text(m["document"], encoding="utf-8")
    with pytest.raises(liboidc.InvalidConfigError) as ei:
        liboidc.Validator(policy_file=f)
    assert m["path"] + ":" in ei.value.message and str(f) in ei.value.message
    # Validator() raises at the load and never builds; the library's own contract (build after a
    # failed load fails too) through the same calls:
    out = ffi.new("struct oidc_validator_builder **")
    assert lib.oidc_validator_builder_new(out, ffi.NULL) == 0
    doc = m["document"].encode()
    assert lib.oidc_validator_builder_load_policy(out[0], doc, len(doc), ffi.NULL) == lib.OIDC_RESULT_INVALID_CONFIG
    vout = ffi.new("struct oidc_validator **")
    assert lib.oidc_validator_builder_build(out[0], vout, ffi.NULL) == lib.OIDC_RESULT_INVALID_CONFIG
    assert vout[0] == ffi.NULL


def test_policy_misuse(tmp_path):
    for bad in (42, ["{}"], 1.5, True):
        with pytest.raises(TypeError):
            liboidc.Validator(policy=bad)  # type: ignore[arg-type]
    for bad in (42, ["a"], True):
        with pytest.raises(TypeError):
            liboidc.Validator(policy_file=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        liboidc.Validator(policy='{"version":1,"issuer":"\ud800"}')
    with pytest.raises(liboidc.OidcError):  # invalid UTF-8 reaches the library
        liboidc.Validator(policy=b'{"version":1,"issuer":"https://a.example/\xff"}')
    with pytest.raises(liboidc.OidcError):
        liboidc.Validator(policy=b"")
    with pytest.raises(liboidc.InvalidConfigError) as ei:
        liboidc.Validator(policy_file=tmp_path / "missing.json")
    assert "missing.json" in ei.value.message
    with pytest.raises(liboidc.OidcError):  # a directory
        liboidc.Validator(policy_file=tmp_path)
    with pytest.raises(liboidc.OidcError):  # a path that is not UTF-8
        liboidc.Validator(policy_file=os.fsencode(str(tmp_path)) + b"/\xff.json")
    big = tmp_path / "big.json"
    big.write_text('{"version":1,"realm":"' + "x" * (1024 * 1024) + '"}', encoding="utf-8")
    with pytest.raises(liboidc.InvalidConfigError):
        liboidc.Validator(policy_file=big)
    # a dict that is not JSON-serializable is the caller's TypeError
    with pytest.raises(TypeError):
        liboidc.Validator(policy={"version": 1, "leeway_secs": object()})
    # a well-formed document that does not make a validator: refused at build
    with pytest.raises(liboidc.OidcError):
        liboidc.Validator(policy={"version": 1})


def test_policy_json_is_a_fresh_string_each_time():
    entry = next(e for e in EQUIV if e["vectors"] == "multi_issuer.json")
    v = liboidc.Validator(policy=entry["policy"])
    a, b = v.policy_json(), v.policy_json()
    assert a == b and json.loads(a)["issuers"][-1]["issuer"] == entry["policy"]["issuers"][-1]["issuer"]
