"""The protocol client's section of the README (README.md, from "## Protocol client") runs as written against the test IdP;
the examples that need a browser or a user are compiled."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = README.read_text().split("\n## Protocol client", 1)[1].split("\n## ", 1)[0]
BLOCKS = re.findall(r"<!-- example: (\w+)([^\n]*)-->\n```python\n(.*?)```", SECTION, re.S)
EXPECT = {
    "client_credentials": [r"^Bearer token for read write$", r"access_token=\[FILTERED\]",
                           r"^INVALID_TARGET invalid_target"],
    "asyncio": [r"^1 token for 10 callers$"],
    "request": [r"^CLIENT_CREDENTIALS Bearer True$"],
}


def test_examples_found():
    names = [n for n, _, _ in BLOCKS]
    assert set(EXPECT) <= set(names), names
    assert {"code_flow", "device"} <= set(names)


@pytest.mark.parametrize("name,note,code", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_readme_example(idp, name, note, code):
    if "not run" in note:
        compile(code, f"README.md:{name}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        return
    env = dict(os.environ, OIDC_ISSUER=idp.issuer, OIDC_CA_FILE=idp.ca_file,
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for pattern in EXPECT[name]:
        assert re.search(pattern, r.stdout, re.M), f"{name}: no line matching {pattern!r} in:\n{r.stdout}"
    assert "svc-basic-secret" not in r.stdout
