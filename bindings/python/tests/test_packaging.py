"""Packaging: ``pip install <the package directory>`` and the built wheel, each into a fresh
virtual environment (no site packages, no LIBOIDC_PATH, no LD_LIBRARY_PATH): the bundled library
loads and validates."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import venv

import pytest

from conftest import VECTORS

PKG = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

CHECK = f"""
import json, liboidc, os
assert "_lib" in liboidc.LIBRARY_PATH, liboidc.LIBRARY_PATH   # the bundled copy
v = json.load(open({os.path.join(VECTORS, "validation.json")!r}))
c = v["config"]
val = liboidc.Validator(issuer=c["issuer"], audiences=c["audiences"], jwks_json=v["jwks"],
                        expected_typ=c["expected_typ"], algorithms=c["algorithms"])
case = v["cases"][0]
print("ok", val.validate_at(case["token"], v["now"]).sub, liboidc.LIBRARY_VERSION)
"""


def _lib_dir():
    path = os.environ.get("LIBOIDC_PATH")
    if not path:
        pytest.fail("needs LIBOIDC_PATH (the library to bundle)")
    return os.path.dirname(path), path


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBOIDC_PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "OIDC_LIB_DIR", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def _fresh_venv(path):
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return os.path.join(path, "bin", "python")


def _run(cmd, env, timeout=600, cwd=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd)
    assert r.returncode == 0, f"{cmd}: {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def _copy_package(tmp_path):
    src = tmp_path / "pkg"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "_lib", "tests"))
    return str(src)


def test_pip_install_directory_into_fresh_venv(tmp_path):
    lib_dir, lib = _lib_dir()
    src = _copy_package(tmp_path)
    py = _fresh_venv(str(tmp_path / "venv"))
    env = _clean_env(OIDC_LIB_DIR=lib_dir)
    _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", src], env)
    out = _run([py, "-c", CHECK], _clean_env(), cwd=str(tmp_path))
    assert out.startswith("ok alice 0.2."), out


def test_wheel_installs_into_fresh_venv(tmp_path):
    lib_dir, lib = _lib_dir()
    src = _copy_package(tmp_path)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(dist), src],
         _clean_env(OIDC_LIB_DIR=lib_dir, PATH=os.environ["PATH"]))
    wheels = glob.glob(str(dist / "liboidc-*.whl"))
    assert len(wheels) == 1 and "linux" in os.path.basename(wheels[0]), wheels
    py = _fresh_venv(str(tmp_path / "venv"))
    _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheels[0]], _clean_env())
    out = _run([py, "-c", CHECK], _clean_env(), cwd=str(tmp_path))
    assert out.startswith("ok alice 0.2."), out
    # the wheel carries the typing marker and the library
    import zipfile

    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "liboidc/py.typed" in names and "liboidc/_lib/liboidc.so.0.2" in names
