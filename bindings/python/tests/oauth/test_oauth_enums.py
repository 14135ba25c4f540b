"""Operation / Param / Field against include/oidc.h: the generated module is up to date, and
equal in both directions to the header's enums and to the loaded cdef's."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from liboidc._native import ffi
from liboidc.oauth import Field, Operation, Param

from .support import HEADER

HERE = Path(__file__).resolve().parent
CASES = [(Operation, "oidc_operation", "OIDC_OP_"), (Param, "oidc_param", "OIDC_PARAM_"),
         (Field, "oidc_field", "OIDC_FIELD_")]


def header_enum(enum: str, prefix: str) -> dict:
    text = HEADER.read_text()
    m = re.search(r"enum " + enum + r"\b[^{]*\{(.*?)\};", text, re.S)
    assert m, f"enum {enum} not in {HEADER}"
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return {n: int(v) for n, v in re.findall(r"\b" + prefix + r"([A-Z0-9_]+)\s*=\s*(\d+)", body)}


@pytest.mark.parametrize("cls,enum,prefix", CASES, ids=[c[1] for c in CASES])
def test_enum_matches_the_header(cls, enum, prefix):
    want = header_enum(enum, prefix)
    assert want, f"no {prefix}* in the header"
    assert {m.name: m.value for m in cls} == want


@pytest.mark.parametrize("cls,enum,prefix", CASES, ids=[c[1] for c in CASES])
def test_enum_matches_the_loaded_cdef(cls, enum, prefix):
    loaded = {n[len(prefix):]: v for n, v in ffi.typeof(f"enum {enum}").relements.items()}
    assert {m.name: m.value for m in cls} == loaded


def test_generated_module_is_current():
    r = subprocess.run([sys.executable, str(HERE / "gen_oauth_enums.py"), "--verify"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
