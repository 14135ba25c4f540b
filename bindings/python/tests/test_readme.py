"""The README's examples run as written (against the fixture issuer, with one of its tokens)."""

from __future__ import annotations

import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "README.md")


def blocks():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    # the quick start: the examples before the protocol client's section (tests/oauth/test_oauth_readme.py runs those)
    text = text.split("\n## Protocol client", 1)[0]
    return re.findall(r"<!-- example: (\w+)[^\n]*\n```python\n(.*?)```", text, re.S)


def test_readme_has_examples():
    assert [n for n, _ in blocks()] == ["validate", "authenticate", "fastapi", "issuers", "revocation_logout"]


@pytest.mark.parametrize("name,code", blocks(), ids=[n for n, _ in blocks()])
def test_readme_example(name, code, fixture, run_python):
    tok = fixture.token("RS256", sub="readme-user", scope="read write")
    logout = fixture.token("RS256", sub="readme-user", typ="logout+jwt",
                           claims={"events": {"http://schemas.openid.net/event/backchannel-logout": {}}})
    env = {"OIDC_ISSUER": fixture.issuer, "OIDC_CA_FILE": fixture.ca_file, "ACCESS_TOKEN": tok, "LOGOUT_TOKEN": logout}
    out = run_python(code, env=env)
    if name == "validate":
        assert out.splitlines() == ["subject readme-user scopes ['read', 'write']", "True"]
    elif name == "authenticate":
        lines = out.splitlines()
        assert lines[0] == "denied 403 INSUFFICIENT_SCOPE"
        assert lines[1].startswith('WWW-Authenticate: Bearer realm="api", error="insufficient_scope"')
        assert 'scope="admin"' in lines[1]
    elif name == "fastapi":
        assert out.startswith('403 Bearer realm="api", error="insufficient_scope"')
    elif name == "issuers":
        assert out.splitlines() == ["subject readme-user", "allow 0", "deny", "['contoso', 'fabrikam'] True"]
    elif name == "revocation_logout":
        assert out.splitlines() == ["subject readme-user", "end the sessions of readme-user None", "replay refused"]
    else:  # pragma: no cover
        pytest.fail(f"no expectation for the example {name}")
