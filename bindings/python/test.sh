#!/usr/bin/env bash
# Python binding: pytest suite (validation, asyncio, frameworks, fork, packaging, and py-oauth's
# protocol tests in the same folder) and the README quick start. Last line: "N passed, N failed".
#
# Environment:
#   OIDC_LIB_DIR=DIR           directory of the liboidc under test (liboidc.so.0.2 / liboidc.so),
#                              e.g. $prefix/lib after cargo cinstall; or LIBOIDC_PATH=file
#   OIDC_TESTKIT=/path         optional; otherwise built here with cargo (see scripts/servers.sh)
#   PYTHON=python3.11          the interpreter (default python3)
#   OIDC_REQUIRE_ALL=0         let tests skip when a server is missing (default 1: they fail)
#   PYTEST_ARGS="-k vectors"   extra pytest arguments
# `test.sh --setup` only creates the venv (scripts/setup.sh calls it).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

if [ -z "${LIBOIDC_PATH:-}" ] && [ -n "${OIDC_LIB_DIR:-}" ]; then
  for f in "$OIDC_LIB_DIR/liboidc.so.0.2" "$OIDC_LIB_DIR/liboidc.so"; do
    [ -f "$f" ] && { export LIBOIDC_PATH=$f; break; }
  done
fi
[ -n "${LIBOIDC_PATH:-}" ] || echo "test.sh: note: neither OIDC_LIB_DIR nor LIBOIDC_PATH set; using the loader's liboidc" >&2

# the venv with the pinned requirements (idempotent: reinstalls only when the file changed)
venv="$here/build/venv"
py=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then "$py" -m venv "$venv" || { rm -rf "$venv"; echo "0 passed, 1 failed"; exit 1; }; fi
stamp="$venv/.requirements.sha"
want=$(sha256sum requirements-test.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check -r requirements-test.txt || { echo "0 passed, 1 failed"; exit 1; }
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
[ "${1:-}" = --setup ] && exit 0

if [ -z "${OIDC_TESTKIT:-}" ] && [ -z "${OIDC_TESTKIT_BIN:-}" ]; then
  echo "== building oidc-testkit (set OIDC_TESTKIT to skip)" >&2
  (cd "$root" && cargo build -q --release -p oidc-testkit --bin oidc-testkit) || { echo "0 passed, 1 failed"; exit 1; }
  export OIDC_TESTKIT="${CARGO_TARGET_DIR:-$root/target}/release/oidc-testkit"
fi

# shellcheck source=../../scripts/servers.sh
. "$root/scripts/servers.sh"
work=$(mktemp -d)
on_exit 'rm -rf "$work"'
start_fixture || { echo "0 passed, 1 failed"; exit 1; }
export FIXTURE_ISSUER FIXTURE_CA_FILE FIXTURE_ADMIN FIXTURE_JWKS_URI
start_idp || { echo "0 passed, 1 failed"; exit 1; }
export IDP_ISSUER IDP_CA_FILE IDP_ADMIN
start_mock || { echo "0 passed, 1 failed"; exit 1; }
export MOCK_URL  # the protocol tests' bad-token-response mock (tests/oauth/support.py uses it)
export OIDC_REQUIRE_ALL="${OIDC_REQUIRE_ALL:-1}"
export PYTHONPATH="$here/src:$here/tests"

echo "== python $("$venv/bin/python" -c 'import sys, cffi, liboidc; print(sys.version.split()[0], "cffi", cffi.__version__, "liboidc", liboidc.LIBRARY_VERSION, liboidc.LIBRARY_PATH)')" >&2
# shellcheck disable=SC2086
"$venv/bin/python" -m pytest -q -p no:cacheprovider --junitxml="$work/junit.xml" tests ${PYTEST_ARGS:-} >&2
"$venv/bin/python" - "$work/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 passed, 1 failed"); sys.exit(1)
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{t - f - sk} passed, {f} failed")
sys.exit(1 if f or t == 0 else 0)
PY
