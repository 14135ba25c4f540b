"""Helpers and fixtures of the protocol-client tests (tests/oauth; conftest.py loads the fixtures).

Servers come from the environment the way the other bindings' suites take them
(scripts/servers.sh under test.sh): IDP_ISSUER, IDP_CA_FILE, IDP_ADMIN for the real IdP
(tests/idp), MOCK_URL for the plain-HTTP mock of bad token responses
(tests/c/mock_token_server.py). When a variable is absent the fixture starts that server itself,
with a piped stdin it holds (the servers exit on EOF, so none outlives the test run), and stops it
at the end of the session. OIDC_REQUIRE_ALL=1 turns a missing prerequisite (node, the IdP's
node_modules) into a failure instead of a skip.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from liboidc import errors
from liboidc.oauth import OAuthClient

ROOT = Path(__file__).resolve().parents[4]  # the repository
HEADER = Path(os.environ.get("OIDC_HEADER", ROOT / "include" / "oidc.h"))
KEYS = ROOT / "tests" / "idp" / "client-keys"
CB = "http://127.0.0.1/cb"

# The errors module's base class (whatever the foundation calls it).
OidcError: type = next(
    getattr(errors, n) for n in ("OidcError", "Error", "LibOidcError") if isinstance(getattr(errors, n, None), type)
)


def need(ok: bool, why: str) -> None:
    if ok:
        return
    if os.environ.get("OIDC_REQUIRE_ALL") == "1":
        pytest.fail(f"prerequisite missing: {why}")
    pytest.skip(why)


@contextlib.contextmanager
def raises(code_name: str) -> Iterator[Any]:
    """Expect the errors module's exception for liboidc code ``code_name`` (e.g. "INVALID_GRANT")."""
    with pytest.raises(OidcError) as ei:
        yield ei
    assert ei.value.code_name == code_name, f"{ei.value.code_name}: {ei.value}"


def jwt_payload(token: str) -> dict:
    """The claims of a JWT, decoded without validation (for assertions about what the IdP issued)."""
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def key(name: str) -> str:
    return (KEYS / name).read_text()


class _Child:
    """A server started with a piped stdin; its first stdout line is its ready line."""

    def __init__(self, cmd: list, name: str, timeout: float = 120) -> None:
        self.dir = tempfile.mkdtemp(prefix=f"oidc-py-{name}-")
        self.log = open(os.path.join(self.dir, "stderr.log"), "w+b")
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     cwd=str(ROOT), env=env)
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            self.stop()
            raise RuntimeError(f"{name}: no ready line within {timeout} s: {self._log_tail()}")
        line = self.proc.stdout.readline().decode().strip()
        if not line:
            self.stop()
            raise RuntimeError(f"{name} exited before its ready line: {self._log_tail()}")
        self.ready = line

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()  # only our own child
            self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Idp:
    """The real oidc-provider: issuer, CA file and its admin API."""

    def __init__(self, issuer: str, ca_file: str, admin: str) -> None:
        self.issuer = issuer
        self.ca_file = ca_file
        self.admin = admin
        self.token_endpoint = issuer + "/token"

    def admin_post(self, path: str) -> Any:
        u = urllib.parse.urlsplit(self.admin + path)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            conn.request("POST", u.path + ("?" + u.query if u.query else ""), body=b"")
            return json.loads(conn.getresponse().read() or b"null")
        finally:
            conn.close()

    def approve_ciba(self, auth_req_id: str, deny: bool = False) -> Any:
        q = urllib.parse.urlencode({"auth_req_id": auth_req_id, **({"deny": "1"} if deny else {})})
        return self.admin_post("/ciba/approve?" + q)

    def browser(self) -> "Browser":
        return Browser(self.issuer, self.ca_file)

    def client(self, client_id: Optional[str] = None, secret: Optional[str] = None, **kw: Any) -> OAuthClient:
        return OAuthClient(self.issuer, client_id=client_id, client_secret=secret, ca_file=self.ca_file, **kw)


class Browser:
    """A scripted user agent for the test IdP (port of the Ruby suite's idp_browser.rb): one
    cookie jar, redirects followed by hand, the development login and consent pages answered."""

    def __init__(self, issuer: str, ca_file: str) -> None:
        self.issuer = issuer
        self.ctx = ssl.create_default_context(cafile=ca_file)
        self.cookies: dict = {}
        self.last_body = ""

    def send(self, method: str, url: str, form: Optional[dict] = None) -> tuple:
        u = urllib.parse.urlsplit(url)
        if u.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(u.hostname, u.port, context=self.ctx,
                                                                           timeout=15)
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, u.path + ("?" + u.query if u.query else ""), body=body, headers=headers)
            res = conn.getresponse()
            data = res.read().decode(errors="replace")
            for c in res.headers.get_all("Set-Cookie") or []:
                name, _, value = c.split(";", 1)[0].partition("=")
                expired = not value or "expires=thu, 01 jan 1970" in c.lower()
                if expired:
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value.strip()
            return res.status, res.headers.get("Location"), data
        finally:
            conn.close()

    def absolute(self, loc: str) -> str:
        return self.issuer + loc if loc.startswith("/") else loc

    def authorize(self, url: str, login: str = "user-1", page_ok: bool = False) -> str:
        """Follow an authorization URL through login and consent; returns the redirect leaving
        the IdP (the redirect URI with code/error, state, iss)."""
        for _ in range(12):
            if not url.startswith(self.issuer):
                return url
            if "/interaction/" in url:
                _, _, html = self.send("GET", url)
                if 'name="prompt" value="login"' in html:
                    status, loc, body = self.send("POST", url, {"prompt": "login", "login": login, "password": "any"})
                elif 'name="prompt" value="consent"' in html:
                    status, loc, body = self.send("POST", url, {"prompt": "consent"})
                else:
                    raise AssertionError(f"unexpected interaction page: {html[:300]}")
            else:
                status, loc, body = self.send("GET", url)
            self.last_body = body
            if page_ok and status == 200 and not loc:
                return url
            if not loc:
                raise AssertionError(f"no redirect from {url.split('?')[0]}: {status} {body[:300]}")
            url = self.absolute(loc)
        raise AssertionError("too many redirects in the authorization flow")

    def approve_device(self, user_code: str, login: str = "user-1") -> None:
        def xsrf(html: str) -> str:
            m = re.search(r'name="xsrf" value="([^"]+)"', html)
            assert m, f"no xsrf field: {html[:300]}"
            return m.group(1)

        x = xsrf(self.send("GET", f"{self.issuer}/device")[2])
        x = xsrf(self.send("POST", f"{self.issuer}/device", {"xsrf": x, "user_code": user_code})[2])
        status, loc, body = self.send("POST", f"{self.issuer}/device",
                                      {"xsrf": x, "user_code": user_code, "confirm": "yes"})
        assert loc, f"device confirmation did not redirect: {status} {body[:300]}"
        self.authorize(self.absolute(loc), login=login, page_ok=True)
        assert "Sign-in Success" in self.last_body, self.last_body[:300]


@pytest.fixture(scope="session")
def idp() -> Iterator[Idp]:
    issuer, ca, admin = (os.environ.get(k) for k in ("IDP_ISSUER", "IDP_CA_FILE", "IDP_ADMIN"))
    if issuer and ca and admin:
        yield Idp(issuer, ca, admin)
        return
    node = os.environ.get("OIDC_NODE") or shutil.which("node")
    need(node is not None, "node is needed for tests/idp")
    need((ROOT / "tests/idp/node_modules/oidc-provider").is_dir(),
         "tests/idp/node_modules missing (scripts/setup.sh, or cd tests/idp && npm ci)")
    workdir = tempfile.mkdtemp(prefix="oidc-py-idp-work-")
    child = _Child([node, str(ROOT / "tests/idp/server.mjs"), "--dir", workdir], "idp")
    info = json.loads(child.ready)
    try:
        yield Idp(info["issuer"], info["ca_file"], info["admin"])
    finally:
        child.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def mock_url() -> Iterator[str]:
    url = os.environ.get("MOCK_URL")
    if url:
        yield url
        return
    child = _Child([sys.executable, str(ROOT / "tests/c/mock_token_server.py")], "mock", timeout=30)
    try:
        yield child.ready
    finally:
        child.stop()


@pytest.fixture
def closing() -> Iterator[Callable[[Any], Any]]:
    """closing(obj) -> obj, closed after the test (newest first)."""
    objs: list = []

    def add(obj: Any) -> Any:
        objs.append(obj)
        return obj

    yield add
    for o in reversed(objs):
        o.close()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def call(mode: str) -> Callable[..., Any]:
    """call(client, "method", *args, **kw): the blocking method, or its _async twin run to
    completion on an event loop; the same test body covers both paths."""

    def run(obj: Any, name: str, *args: Any, **kw: Any) -> Any:
        if mode == "sync":
            return getattr(obj, name)(*args, **kw)
        return asyncio.run(getattr(obj, name + "_async")(*args, **kw))

    return run
