#!/usr/bin/env bash
# Build liboidc and run the C endpoint tests and examples/introspection.c against
# the real IdP (tests/idp/server.mjs) and the oidc-testkit fixture issuer (faults).
#   1. start both servers (stdin piped: they exit with this script), read their ready lines;
#   2. `test_oauth_endpoints prepare` builds an authorization URL with liboidc; the login and
#      consent are scripted here with curl form posts (tests/idp/README.md) and the code is
#      exchanged with curl (the library's code exchange belongs to the grants work);
#   3. run the C test with the results in the environment; then the example.
# OIDC_TEST_WRAPPER (e.g. "valgrind -q --error-exitcode=9 --leak-check=full --show-leak-kinds=definite")
# runs the C test under a tool. Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d "${TMPDIR:-/tmp}/oauth-endpoints.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
die() { echo "run_oauth_endpoints: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
t0=$(date +%s)

# The library: OIDC_LIB_DIR (e.g. a cargo-c install) or the debug build cargo test shares.
if [ -n "${OIDC_LIB_DIR:-}" ]; then
  libdir=$OIDC_LIB_DIR
else
  cargo build --quiet --lib || die "cargo build failed"
  libdir=$target/debug
fi
cargo build --quiet -p oidc-testkit --bin oidc-testkit || die "building oidc-testkit failed"
[ -d tests/idp/node_modules/oidc-provider ] || die "tests/idp/node_modules is missing (scripts/setup.sh)"

# start NAME CMD...: run with a piped stdin (fd kept open by this shell) and put the ready
# line in READY (20 s at most). Not in a subshell: the fd must outlive the function.
start() {
  local name=$1; shift
  mkfifo "$work/$name.in"
  "$@" < "$work/$name.in" > "$work/$name.out" 2> "$work/$name.log" &
  pids+=($!)
  exec {fd}>"$work/$name.in"
  local line=
  for _ in $(seq 200); do
    line=$(head -n1 "$work/$name.out" 2>/dev/null)
    [ -n "$line" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$line" ] || { tail -n 20 "$work/$name.log" >&2; die "$name did not start"; }
  READY=$line
}
get() { node -e 'const v=JSON.parse(process.argv[1]); const r=process.argv[2].split(".").reduce((o,k)=>o==null?o:o[k],v); process.stdout.write(r==null?"":String(r))' "$1" "$2"; }

start idp node tests/idp/server.mjs --dir "$work/idp"; idp=$READY
start testkit "$target/debug/oidc-testkit" --dir "$work/testkit"; tk=$READY
ISS=$(get "$idp" issuer); CA=$(get "$idp" ca_file)
FISS=$(get "$tk" issuer); FCA=$(get "$tk" ca_file); FADMIN=$(get "$tk" admin)

# Faults on the fixture issuer (persist for every request).
for f in "/e/error&mode=400" "/e/garbage&mode=garbage" "/e/big&mode=big&bytes=700000" "/e/hang&mode=hang"; do
  curl -sS --max-time 5 -X POST "$FADMIN/fault?path=$f" > /dev/null || die "fault setup $f"
done

cc -std=c99 -Wall -Wextra -Werror -I include -o "$work/test_oauth_endpoints" tests/c/test_oauth_endpoints.c \
  -L "$libdir" -loidc || die "compiling tests/c/test_oauth_endpoints.c failed"
cc -std=c99 -Wall -Wextra -Werror -I include -o "$work/introspection" examples/introspection.c \
  -L "$libdir" -loidc || die "compiling examples/introspection.c failed"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# 1. the authorization URL, built by liboidc
prep=$(OIDC_TEST_ISSUER=$ISS OIDC_TEST_CA_FILE=$CA "$work/test_oauth_endpoints" prepare) || die "prepare failed"
{ read -r URL; read -r STATE; read -r NONCE; read -r VERIFIER; } <<<"$prep"

# 2. login + consent with form posts, following Location by hand (one cookie jar)
CURL=(curl --silent --show-error --max-time 10 --cacert "$CA" -b "$work/jar" -c "$work/jar")
loc() { "${CURL[@]}" -o /dev/null -w '%{redirect_url}' "$@"; }
L=$(loc "$URL")
L=$(loc --data-urlencode prompt=login --data-urlencode login=user-1 --data-urlencode password=any "$L")
L=$(loc "$L")
L=$(loc --data-urlencode prompt=consent "$L")
REDIRECT=$(loc "$L")
case $REDIRECT in http://127.0.0.1/cb\?code=*) ;; *) die "login flow ended at '$REDIRECT'";; esac
CODE=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$REDIRECT")
TR=$("${CURL[@]}" -u web-app:web-app-secret -d grant_type=authorization_code -d "code=$CODE" \
  --data-urlencode redirect_uri=http://127.0.0.1/cb -d "code_verifier=$VERIFIER" "$ISS/token")
[ -n "$(get "$TR" id_token)" ] || die "code exchange failed"

# 3. the C tests
OIDC_TEST_ISSUER=$ISS OIDC_TEST_CA_FILE=$CA OIDC_TEST_REDIRECT=$REDIRECT OIDC_TEST_STATE=$STATE \
OIDC_TEST_NONCE=$NONCE OIDC_TEST_ID_TOKEN=$(get "$TR" id_token) OIDC_TEST_ACCESS_TOKEN=$(get "$TR" access_token) \
OIDC_TEST_REFRESH_TOKEN=$(get "$TR" refresh_token) OIDC_TEST_FAULT_ISSUER=$FISS OIDC_TEST_FAULT_CA=$FCA \
  ${OIDC_TEST_WRAPPER:-} "$work/test_oauth_endpoints" > "$work/c.out"
rc=$?
# show the output, the C test's own summary as a comment (only the last line is the total)
sed -E 's/^([0-9]+ passed, [0-9]+ failed)$/# test_oauth_endpoints: \1/' "$work/c.out"
summary=$(tail -n1 "$work/c.out")
p=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p' <<<"$summary"); p=${p:-0}
f=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p' <<<"$summary"); f=${f:-1}
[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || f=1

# 4. the example
if "$work/introspection" "$ISS" "$CA" > "$work/example.out" 2>&1 && grep -q '"active":true' "$work/example.out"; then
  p=$((p + 1)); echo "ok - examples/introspection.c"; sed 's/^/  /' "$work/example.out"
else
  f=$((f + 1)); echo "FAIL - examples/introspection.c"; cat "$work/example.out"
fi
echo "# $(( $(date +%s) - t0 )) s"
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
