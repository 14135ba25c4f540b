#!/usr/bin/env bash
# Test the Go binding (see README.md, "Tests").
#
# Environment (all optional):
#   PKG_CONFIG_PATH   where oidc.pc is found; without an oidc.pc on it, liboidc is built from this
#                     checkout with `cargo cinstall` into $OIDC_PREFIX (default target/go-prefix)
#   LD_LIBRARY_PATH   prepended with `pkg-config --variable=libdir oidc`
#   OIDC_TESTKIT      the oidc-testkit binary; default: built with cargo into
#                     ${CARGO_TARGET_DIR:-target}/release/oidc-testkit
#   GO                the go command (default: go on PATH, else /usr/local/go/bin/go)
# Also runs `npm ci` in tests/idp when node is installed and its packages are not.
# Exits non-zero when anything fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
"$GO" version

if ! pkg-config --exists oidc 2>/dev/null; then
  prefix=${OIDC_PREFIX:-$root/target/go-prefix}
  echo "test.sh: no oidc.pc on PKG_CONFIG_PATH: cargo cinstall into $prefix"
  (cd "$root" && cargo cinstall --release --prefix "$prefix" --libdir lib)
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
fi
libdir=$(pkg-config --variable=libdir oidc)
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "test.sh: liboidc $(pkg-config --modversion oidc) from $libdir"

if [ -z "${OIDC_TESTKIT:-}" ]; then
  (cd "$root" && cargo build --release -p oidc-testkit --bin oidc-testkit)
  OIDC_TESTKIT="${CARGO_TARGET_DIR:-$root/target}/release/oidc-testkit"
fi
export OIDC_TESTKIT OIDC_REQUIRE_E2E=1

# The test IdP's npm packages (tests/idp/package-lock.json), when node is there to run it.
if command -v node >/dev/null && [ ! -d "$root/tests/idp/node_modules/oidc-provider" ]; then
  (cd "$root/tests/idp" && npm ci --no-audit --no-fund)
fi

"$GO" vet ./...
# Both builds verbose into a log, counted at the end: tests, subtests and examples, each
# "--- PASS" / "--- FAIL" line once (a skipped test is neither, and is counted apart).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
"$GO" test -race -count=1 -v ./... 2>&1 | tee -a "$log" || rc=1
"$GO" test -race -count=1 -v -tags debug ./... 2>&1 | tee -a "$log" || rc=1
# The benchmark: its correctness checks and one short round of every measurement.
(cd bench && "$GO" vet . && "$GO" run . -rounds 1 -round-ms 5 >/dev/null) || rc=1
passed=$(grep -cE '^[[:space:]]*--- PASS' "$log" || true)
failed=$(grep -cE '^[[:space:]]*--- FAIL' "$log" || true)
skipped=$(grep -cE '^[[:space:]]*--- SKIP' "$log" || true)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a build, vet or bench failure
echo "test.sh: Go binding, plain and -tags debug (-race); $skipped skipped"
echo "$passed passed, $failed failed"
exit "$rc"
