#!/usr/bin/env bash
# The Go binding against a real Keycloak (bindings/go/keycloak_test.go): waits for the Keycloak
# named by KEYCLOAK_DIR (started earlier with scripts/servers.sh `start_keycloak --no-wait`,
# e.g. by scripts/test-all.sh) or starts one, makes a fresh realm (kc.py setup), runs
# `go test -run '^TestKeycloak'`. Needs PKG_CONFIG_PATH to find oidc.pc (as bindings/go/test.sh).
# Last line: "N passed, N failed" (the Go tests' PASS/FAIL lines, subtests included).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/scripts/servers.sh"
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

if [ -n "${KEYCLOAK_DIR:-}" ]; then wait_keycloak "$KEYCLOAK_DIR"; else start_keycloak; fi ||
    { echo "0 passed, 1 failed"; exit 1; }
env=$(python3 "$here/kc.py" setup) || { echo "kc.py setup failed"; echo "0 passed, 1 failed"; exit 1; }
eval "$env"
export KEYCLOAK_TOOL=$here/kc.py
export LD_LIBRARY_PATH="$(pkg-config --variable=libdir oidc)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log=$(mktemp "$SERVERS_DIR/go.XXXXXX")
(cd "$repo/bindings/go" && "$GO" test -count=1 -v -run '^TestKeycloak' .) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
p=$(grep -cE '^ *--- PASS' "$log") f=$(grep -cE '^ *--- FAIL' "$log")
s=$(grep -cE '^ *--- SKIP' "$log")
[ "$s" = 0 ] || { echo "go-test.sh: $s Keycloak tests skipped (KEYCLOAK_ISSUER not seen?)"; f=$((f + s)); }
[ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
echo "$p passed, $f failed"
[ "$f" = 0 ]
