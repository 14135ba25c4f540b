#!/usr/bin/env bash
# The C grants suite and the C examples against the real test IdP.
#
#   tests/c/run_oauth_grants.sh [--no-build] [--valgrind]
#
# --valgrind runs the C test under valgrind (memcheck; definite leaks and errors fail the run).
# Builds liboidc (cargo build --release, into $CARGO_TARGET_DIR or target/; with OIDC_LIB_DIR
# set, uses the liboidc.so there and builds nothing), starts
# `node tests/idp/server.mjs --dir TMP` with a piped stdin (it exits when we do) and reads its
# ready line, starts the plain-HTTP mock of bad token responses (tests/c/mock_token_server.py),
# compiles tests/c/test_oauth_grants.c and examples/{client_credentials,auth_code_pkce,
# device_flow}.c with -I include -L <target>/release -loidc, and runs them. The scripted login,
# device approval and CIBA approval are done by tests/c/idp_browser.sh (curl + a cookie jar).
# Every step prints "ok - ..." / "not ok - ..."; the last line is "N passed, N failed" (the C
# test's own cases plus the steps here).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
target=${CARGO_TARGET_DIR:-$repo/target}
libdir=${OIDC_LIB_DIR:-$target/release}
CC=${CC:-cc}
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy
export RUST_BACKTRACE=0

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

work=$(mktemp -d)
pids=()
cleanup() {
  exec 3>&- 4>&- 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

build_lib=1 valgrind=()
for arg in "$@"; do
  case $arg in
    --no-build) build_lib=0 ;;
    --valgrind) valgrind=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
                export OIDC_TEST_SLOW=1 ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
if [ "$build_lib" = 1 ] && [ -z "${OIDC_LIB_DIR:-}" ]; then
  if cargo build --release --quiet 2>"$work/build.log"; then ok "cargo build --release"; else
    not_ok "cargo build --release"; sed 's/^/#   /' "$work/build.log" | tail -20; finish; fi
fi
[ -f "$libdir/liboidc.so" ] || { not_ok "liboidc.so in $libdir"; finish; }

# --- the IdP and the mock; both exit when fds 3/4 (their stdin) close -------------------------
mkfifo "$work/idp.in" "$work/mock.in"
node tests/idp/server.mjs --dir "$work/idp" <"$work/idp.in" >"$work/idp.ready" 2>"$work/idp.log" &
pids+=($!)
exec 3>"$work/idp.in"
python3 "$here/mock_token_server.py" <"$work/mock.in" >"$work/mock.ready" 2>"$work/mock.log" &
pids+=($!)
exec 4>"$work/mock.in"
for _ in $(seq 150); do [ -s "$work/idp.ready" ] && [ -s "$work/mock.ready" ] && break; sleep 0.1; done
ready=$(head -n1 "$work/idp.ready")
field() { printf '%s' "$ready" | sed -E "s/.*\"$1\":\"([^\"]+)\".*/\1/"; }
if [ -z "$ready" ] || [ ! -s "$work/mock.ready" ]; then
  not_ok "IdP and mock start"; sed 's/^/#   /' "$work/idp.log" "$work/mock.log" | tail -20; finish
fi
ok "IdP and mock start"
export OIDC_TEST_ISSUER=$(field issuer) OIDC_TEST_CA_FILE=$(field ca_file) OIDC_TEST_ADMIN=$(field admin)
export OIDC_TEST_MOCK=$(head -n1 "$work/mock.ready")
export OIDC_TEST_KEYS=$repo/tests/idp/client-keys OIDC_TEST_BROWSER=$here/idp_browser.sh
echo "# issuer $OIDC_TEST_ISSUER, mock $OIDC_TEST_MOCK"

build() { # build NAME SOURCE
  if $CC -std=c99 -Wall -Wextra -Werror -I include -o "$work/$1" "$2" -L "$libdir" -loidc -lpthread 2>"$work/$1.cc.log"; then
    ok "compile $2"
  else
    not_ok "compile $2"; sed 's/^/#   /' "$work/$1.cc.log" | head -30; return 1
  fi
}
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# --- the C test ----------------------------------------------------------------------------
if build test_oauth_grants tests/c/test_oauth_grants.c; then
  timeout 600 "${valgrind[@]}" "$work/test_oauth_grants" >"$work/test.out" 2>"$work/test.err"
  rc=$?
  sed 's/^/    /' "$work/test.out"
  read -r p f < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$work/test.out" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then not_ok "test_oauth_grants exited $rc"; fi
  if [ "$rc" -ne 0 ]; then sed 's/^/#   /' "$work/test.err" | tail -40; fi
fi

# --- examples --------------------------------------------------------------------------------
export SSL_CERT_FILE=$OIDC_TEST_CA_FILE   # the examples trust the test CA the standard way
if build client_credentials examples/client_credentials.c; then
  out=$(timeout 30 "$work/client_credentials" "$OIDC_TEST_ISSUER" svc-basic svc-basic-secret urn:liboidc:rs256 read 2>&1)
  before_after=$(grep -c '^token_type=Bearer expires_in=[0-9]* scope=read$' <<<"$out")
  if [ "$before_after" = 2 ]; then ok "example client_credentials (twice, second from the cache)"; else
    not_ok "example client_credentials"; sed 's/^/#   /' <<<"$out"; fi
  out=$(timeout 30 "$work/client_credentials" "$OIDC_TEST_ISSUER" svc-basic wrong-secret 2>&1); rc=$?
  if [ "$rc" = 1 ] && grep -q INVALID_CLIENT <<<"$out" && ! grep -q wrong-secret <<<"$out"; then
    ok "example client_credentials: wrong secret -> INVALID_CLIENT, exit 1, secret not shown"
  else not_ok "example client_credentials wrong secret (rc $rc)"; sed 's/^/#   /' <<<"$out"; fi
fi

if build auth_code_pkce examples/auth_code_pkce.c; then
  mkfifo "$work/ac.in" "$work/ac.out"
  timeout 60 "$work/auth_code_pkce" "$OIDC_TEST_ISSUER" web-app web-app-secret http://127.0.0.1/cb "openid email" \
    <"$work/ac.in" >"$work/ac.out" 2>"$work/ac.err" &
  ac_pid=$!
  exec 5>"$work/ac.in" 6<"$work/ac.out"
  IFS= read -r -t 20 line <&6 || line=
  url=${line#open: }
  cb=$("$here/idp_browser.sh" login "$url" 2>>"$work/ac.err")
  printf '%s\n' "$cb" >&5
  exec 5>&-
  IFS= read -r -t 20 result <&6 || result=
  exec 6<&-
  wait "$ac_pid"; rc=$?
  if [ "$rc" = 0 ] && [[ $result == "token_type=Bearer expires_in="*" id_token=validated refresh_token=yes" ]]; then
    ok "example auth_code_pkce (scripted login)"
  else not_ok "example auth_code_pkce (rc $rc): $result"; sed 's/^/#   /' "$work/ac.err"; fi
fi

if build device_flow examples/device_flow.c; then
  mkfifo "$work/df.out"
  timeout 60 "$work/device_flow" "$OIDC_TEST_ISSUER" device-app openid 30 >"$work/df.out" 2>"$work/df.err" &
  df_pid=$!
  exec 7<"$work/df.out"
  IFS= read -r -t 20 line <&7 || line=
  code=${line##* }
  "$here/idp_browser.sh" device "$code" 2>>"$work/df.err" || echo "approval failed" >>"$work/df.err"
  IFS= read -r -t 40 result <&7 || result=
  exec 7<&-
  wait "$df_pid"; rc=$?
  if [ "$rc" = 0 ] && [[ $line == "visit $OIDC_TEST_ISSUER/device and enter "* ]] && [[ $result == "approved: token_type=Bearer"* ]]; then
    ok "example device_flow (scripted approval)"
  else not_ok "example device_flow (rc $rc): $line / $result"; sed 's/^/#   /' "$work/df.err"; fi
fi

finish
