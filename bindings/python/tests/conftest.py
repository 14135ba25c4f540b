"""Shared fixtures. test.sh starts the servers (scripts/servers.sh) and exports:

FIXTURE_ISSUER, FIXTURE_CA_FILE, FIXTURE_ADMIN, FIXTURE_JWKS_URI  the loopback fixture issuer (oidc-testkit)
IDP_ISSUER, IDP_CA_FILE, IDP_ADMIN                                the real IdP (oidc-provider)
LIBOIDC_PATH                                                      the library under test

A test needing a server that is not running fails (OIDC_REQUIRE_ALL=1, test.sh's default) or is
skipped (OIDC_REQUIRE_ALL=0, for a quick local run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
VECTORS = os.path.join(REPO, "tests", "vectors")


def need_env(*names: str) -> list:
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        msg = f"needs {', '.join(missing)} (run through bindings/python/test.sh)"
        if os.environ.get("OIDC_REQUIRE_ALL", "1") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return [os.environ[n] for n in names]


class Fixture:
    """The oidc-testkit issuer: mint tokens and read request counters through its admin API."""

    def __init__(self) -> None:
        self.issuer, self.ca_file, self.admin, self.jwks_uri = need_env(
            "FIXTURE_ISSUER", "FIXTURE_CA_FILE", "FIXTURE_ADMIN", "FIXTURE_JWKS_URI")

    def _admin(self, path: str, method: str = "GET") -> bytes:
        req = urllib.request.Request(self.admin + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def token(self, alg: str = "RS256", **params: object) -> str:
        q = [("alg", alg)]
        for k, v in params.items():
            if isinstance(v, (list, tuple)):
                q += [(k, str(x)) for x in v]
            elif isinstance(v, dict):
                q.append((k, json.dumps(v)))
            else:
                q.append((k, str(v)))
        return self._admin("/token?" + urllib.parse.urlencode(q)).decode()

    def stats(self) -> dict:
        return json.loads(self._admin("/stats"))

    def reset(self) -> None:
        self._admin("/reset_stats", "POST")

    def fault(self, path: str, mode: str, **kw: object) -> None:
        q = urllib.parse.urlencode([("path", path), ("mode", mode)] + [(k, str(v)) for k, v in kw.items()])
        self._admin("/fault?" + q, "POST")

    def validator_kwargs(self, **kw: object) -> dict:
        return dict(issuer=self.issuer, audiences="test-client", ca_file=self.ca_file, **kw)


@pytest.fixture(scope="session")
def fixture() -> Fixture:
    return Fixture()


@pytest.fixture
def run_python():
    """Run a Python snippet in a fresh interpreter (cold process-wide caches); returns stdout."""

    def run(code: str, timeout: float = 120, env: dict | None = None) -> str:
        e = dict(os.environ)
        e.update(env or {})
        e["PYTHONPATH"] = os.pathsep.join([os.path.join(HERE, "..", "src"), HERE, e.get("PYTHONPATH", "")])
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=e)
        if p.returncode != 0:
            raise AssertionError(f"subprocess failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p.stdout

    return run


def load_vectors(name: str) -> dict:
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)
