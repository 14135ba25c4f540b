"""Build hook: bundle liboidc.so into the wheel (as liboidc/_lib/liboidc.so.0.2).

Where the library comes from, first match wins:

1. ``LIBOIDC_PATH`` (a library file) or ``OIDC_LIB_DIR`` (a directory holding liboidc.so.0.2 or
   liboidc.so): an installed liboidc, e.g. ``cargo cinstall --prefix P`` -> ``OIDC_LIB_DIR=P/lib``;
2. ``pkg-config --variable=libdir oidc`` (an installed liboidc with its oidc.pc);
3. the Rust sources around this directory (``pip install ./bindings/python`` in a checkout):
   ``cargo build --release --lib`` (``CARGO_TARGET_DIR`` honoured), then its liboidc.so;
4. none: ``LIBOIDC_BUNDLE=0`` builds a wheel without the library (it then loads liboidc.so.0.2
   through the system loader). Without it a missing library is an error naming these options.

A wheel with the library is platform-specific (linux_x86_64 etc.), not pure Python.
"""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SONAME = "liboidc.so.0.2"


def _log(msg):
    print(f"liboidc build: {msg}", file=sys.stderr)


def _from_dir(d):
    for name in (SONAME, "liboidc.so"):
        p = os.path.join(d, name)
        if os.path.isfile(p):
            return p
    return None


def find_library():
    env = os.environ.get("LIBOIDC_PATH")
    if env:
        if not os.path.isfile(env):
            sys.exit(f"liboidc build: LIBOIDC_PATH={env!r} is not a file")
        return env
    d = os.environ.get("OIDC_LIB_DIR")
    if d:
        p = _from_dir(d)
        if not p:
            sys.exit(f"liboidc build: OIDC_LIB_DIR={d!r} holds no {SONAME} or liboidc.so")
        return p
    try:
        libdir = subprocess.run(["pkg-config", "--variable=libdir", "oidc"], capture_output=True, text=True,
                                check=True).stdout.strip()
        p = libdir and _from_dir(libdir)
        if p:
            return p
    except (OSError, subprocess.CalledProcessError):
        pass
    if os.path.isfile(os.path.join(REPO, "Cargo.toml")) and os.path.isdir(os.path.join(REPO, "src", "ffi")):
        cargo = shutil.which("cargo") or os.path.expanduser("~/.cargo/bin/cargo")
        if os.path.exists(cargo):
            _log("building the library: cargo build --release --lib (set OIDC_LIB_DIR to use an installed one)")
            subprocess.run([cargo, "build", "--release", "--lib"], cwd=REPO, check=True)
            target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
            p = os.path.join(target if os.path.isabs(target) else os.path.join(REPO, target), "release", "liboidc.so")
            if os.path.isfile(p):
                return p
    return None


class BuildPy(build_py):
    def run(self):
        super().run()
        if os.environ.get("LIBOIDC_BUNDLE") == "0":
            _log("LIBOIDC_BUNDLE=0: no library bundled; liboidc.so.0.2 must be on the loader path")
            return
        lib = find_library()
        if lib is None:
            sys.exit("liboidc build: no liboidc found: set OIDC_LIB_DIR (an installed liboidc's lib dir) or "
                     "LIBOIDC_PATH, install it with its oidc.pc, build from a checkout with cargo, or set "
                     "LIBOIDC_BUNDLE=0 to use the system's")
        dest = os.path.join(self.build_lib, "liboidc", "_lib")
        os.makedirs(dest, exist_ok=True)
        out = os.path.join(dest, SONAME)
        shutil.copyfile(lib, out)
        if shutil.which("strip"):  # debug info is most of an unstripped build's size
            subprocess.run(["strip", "--strip-debug", out], check=False)
        _log(f"bundled {lib}")


cmdclass = {"build_py": BuildPy}
try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # older setuptools
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None

if bdist_wheel is not None:
    class BdistWheel(bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = os.environ.get("LIBOIDC_BUNDLE") == "0"

        def get_tag(self):
            python, abi, plat = super().get_tag()
            if not self.root_is_pure:
                python, abi = "py3", "none"  # cffi ABI mode: any CPython 3, one platform
            return python, abi, plat

    cmdclass["bdist_wheel"] = BdistWheel

from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    """A wheel carrying liboidc.so is platform-specific (installed to platlib)."""

    def has_ext_modules(self):
        return os.environ.get("LIBOIDC_BUNDLE") != "0"


setup(cmdclass=cmdclass, distclass=BinaryDistribution)
