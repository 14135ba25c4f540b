"""The FFI layer: the cffi declarations match include/oidc.h, the generated code table matches the
library, library lookup and the version check at import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import liboidc
from liboidc import errors
from liboidc._native import ffi, lib

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.normpath(os.path.join(HERE, ".."))
REPO = os.path.normpath(os.path.join(PKG, "..", ".."))


def test_cdef_matches_header():
    r = subprocess.run([sys.executable, os.path.join(PKG, "gen_cdef.py"), "--verify"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_codes_match_library_and_header():
    with open(os.path.join(REPO, "include", "oidc.h"), encoding="utf-8") as f:
        header = f.read()
    for code, (name, description, cls) in errors.CODES.items():
        assert ffi.string(lib.oidc_result_name(code)).decode() == name
        assert ffi.string(lib.oidc_result_str(code)).decode() == description
        assert getattr(lib, f"OIDC_RESULT_{name}") == code
        assert f"OIDC_RESULT_{name} = {code}," in header
        assert errors.error_class(code) is cls and issubclass(cls, liboidc.OidcError)
    assert header.count("  OIDC_RESULT_") == len(errors.CODES) + 1  # + OK
    assert errors.error_class(319) is liboidc.TokenError  # an unnamed code lands in its range
    assert errors.error_class(7777) is liboidc.OidcError


def test_raise_for_frees_and_maps():
    err = ffi.new("struct oidc_error **")
    rc = lib.oidc_async_configure(0, 0, err)  # a queue capacity of 0 is out of range
    assert rc == lib.OIDC_RESULT_INVALID_ARGUMENT and err[0] != ffi.NULL
    with pytest.raises(liboidc.OidcError) as ei:
        errors._raise_for(rc, err)
    assert err[0] == ffi.NULL and ei.value.code == rc  # taken and freed
    errors._raise_for(0, ffi.NULL)  # OK: nothing raised
    with pytest.raises(liboidc.QueueFullError):
        errors._raise_for(7, ffi.NULL)


def test_version():
    assert liboidc.LIBRARY_VERSION.startswith(f"{lib.OIDC_VERSION_MAJOR}.{lib.OIDC_VERSION_MINOR}.")


def _import_with(env):
    e = dict(os.environ, PYTHONPATH=os.path.join(PKG, "src"))
    e.update(env)
    return subprocess.run([sys.executable, "-c", "import liboidc; print(liboidc.LIBRARY_PATH)"],
                          capture_output=True, text=True, env=e)


def test_lookup_errors_are_clear(tmp_path):
    r = _import_with({"LIBOIDC_PATH": str(tmp_path / "missing.so")})
    assert r.returncode != 0 and "LIBOIDC_PATH" in r.stderr and "is not a file" in r.stderr
    bogus = tmp_path / "liboidc.so.0.2"
    bogus.write_bytes(b"not a library")
    r = _import_with({"LIBOIDC_PATH": str(bogus)})
    assert r.returncode != 0 and "could not be loaded" in r.stderr


def test_version_mismatch_is_an_import_error(tmp_path):
    # a stub library claiming 0.3.0: the binding refuses it at import, naming both versions
    cc = None
    for c in ("cc", "gcc", "clang"):
        if subprocess.run(["which", c], capture_output=True).returncode == 0:
            cc = c
            break
    if cc is None:
        pytest.skip("no C compiler for the stub library")
    src = tmp_path / "stub.c"
    src.write_text('unsigned oidc_version_number(void){return (0u<<16)|(3u<<8)|0u;}\n'
                   'const char *oidc_version(void){return "0.3.0";}\n')
    so = tmp_path / "liboidc.so.0.2"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    r = _import_with({"LIBOIDC_PATH": str(so)})
    assert r.returncode != 0
    assert "is version 0.3.0" in r.stderr and "needs ABI 0.2" in r.stderr


REPRO_CANCEL_FREE_IN_CALLBACK = r'''
import threading, _vectors
from liboidc._native import ffi, lib
v = _vectors.load("validation.json")
val = _vectors.validation_validator(v)
tok = v["cases"][0]["token"].encode()
done, state = threading.Event(), {}

@ffi.callback("oidc_validate_cb")
def cb(ud, rc, claims, n, err):
    lib.oidc_cancel_free(state["c"])  # "free with oidc_cancel_free (any time)", here: in the callback
    done.set()

for _ in range(200):
    out, err = ffi.new("struct oidc_cancel **"), ffi.new("struct oidc_error **")
    assert lib.oidc_cancel_new(0, out, err) == 0
    state["c"] = out[0]
    done.clear()
    assert lib.oidc_validate_async(val._p, tok, len(tok), cb, ffi.NULL, out[0], err) == 0
    assert done.wait(10)
print("ok")
'''


def test_cancel_free_inside_completion_callback(run_python):
    assert run_python(REPRO_CANCEL_FREE_IN_CALLBACK).strip() == "ok"
