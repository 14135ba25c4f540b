"""Fork safety under the pre-fork model: a child forked from a parent that validated (and had
async calls running) validates correctly; a real gunicorn master with preloaded app and two
workers answers authenticated requests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import liboidc


def test_forked_child_validates(fixture):
    v = liboidc.Validator(**fixture.validator_kwargs())
    tok = fixture.token("ES256", sub="parent")
    assert v.validate(tok).sub == "parent"

    async def warm():
        return (await v.validate_async(tok)).sub

    assert asyncio.run(warm()) == "parent"
    child_tok = fixture.token("EdDSA", sub="child")
    bad = fixture.token("RS256", exp_in=-3600)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: sync and async validation, and a rejection, then report
        os.close(r)
        try:
            ok = v.validate(child_tok).sub == "child"
            ok = ok and asyncio.run(v.validate_async(child_tok)).sub == "child"
            try:
                v.validate(bad)
                ok = False
            except liboidc.TokenExpiredError:
                pass
            ok = ok and liboidc.metrics()["fork_generation"] >= 1
            os.write(w, b"ok" if ok else b"bad")
        except BaseException as e:  # noqa: BLE001
            os.write(w, repr(e).encode()[:200])
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got = f.read()
    _, status = os.waitpid(pid, 0)
    assert got == b"ok" and status == 0
    assert v.validate(tok).sub == "parent"  # the parent goes on


APP = '''
import os, liboidc
from flask import Flask, g
from liboidc.flask import OidcFlask
v = liboidc.Validator(issuer=os.environ["FIXTURE_ISSUER"], audiences="test-client",
                      ca_file=os.environ["FIXTURE_CA_FILE"])
v.prefetch()  # in the master, before the fork (--preload)
app = Flask(__name__)
oidc = OidcFlask(app, v)

@app.get("/me")
@oidc.required()
def me():
    return {"sub": g.oidc_claims.sub, "pid": os.getpid()}
'''


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_gunicorn_preforked_workers(fixture, tmp_path):
    pytest.importorskip("gunicorn")
    (tmp_path / "gapp.py").write_text(APP)
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--preload", "-w", "2", "-b", f"127.0.0.1:{port}",
                             "gapp:app"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        tok = fixture.token("RS256", sub="gunicorn-user")
        pids, deadline = set(), time.time() + 30
        while time.time() < deadline and len(pids) < 2:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/me", headers={"Authorization": f"Bearer {tok}"})
                body = urllib.request.urlopen(req, timeout=5).read()
                import json

                d = json.loads(body)
                assert d["sub"] == "gunicorn-user"
                pids.add(d["pid"])
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.1)
        assert len(pids) >= 1, "gunicorn never answered"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/me", timeout=5)
            raise AssertionError("an unauthenticated request was allowed")
        except urllib.error.HTTPError as e:
            assert e.code == 401 and e.headers.get_all("WWW-Authenticate")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
