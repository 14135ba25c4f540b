#!/usr/bin/env bash
# The non-blocking API from C: builds liboidc (release) and the oidc-testkit issuer, then runs
# tests/c/test_async.c (pthreads, cold single-flight, parity on the shared vectors, cancel,
# deadline, free in flight, fork) natively and under valgrind (leaks: definite/indirect fail),
# and examples/event_loop.c. Prints "N passed, N failed" last.
#   OIDC_VALGRIND=0 skips valgrind; OIDC_ASAN=1 adds an AddressSanitizer build of the test.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TARGET_DIR=$target
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

cargo build --release --quiet --lib || { echo "0 passed, 1 failed"; exit 1; }
cargo build --release --quiet -p oidc-testkit --bin oidc-testkit || { echo "0 passed, 1 failed"; exit 1; }
lib="$target/release"
work=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null; rm -rf "$work"' EXIT

fifo="$work/stdin"; mkfifo "$fifo"
"$target/release/oidc-testkit" --dir "$work" --algs ES256 < "$fifo" > "$work/ready" 2> "$work/testkit.log" &
exec 3>"$fifo"   # the issuer exits when this script (and so fd 3) goes away
for _ in $(seq 200); do [ -s "$work/ready" ] && break; sleep 0.05; done
ready=$(head -n1 "$work/ready")
field() { printf '%s' "$ready" | sed -E "s/.*\"$1\":\"([^\"]+)\".*/\1/"; }
issuer=$(field issuer); ca=$(field ca_file); admin=$(field admin)
echo "issuer $issuer, admin $admin"

python3 - "$root/tests/vectors/validation.json" > "$work/vectors.txt" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
c = v["config"]
print(c["issuer"]); print(c["audiences"][0]); print(c["expected_typ"]); print(c["algorithms"])
print(c["max_token_bytes"]); print(int(v["now"])); print(json.dumps(v["jwks"], separators=(",", ":")))
for case in v["cases"]:
    print(case["code"], case["name"].replace(" ", "_"), case["token"])
PY

cflags=(-std=c11 -Wall -Wextra -Werror -pthread -I"$root/include" -I"$root/tests/c")
ldflags=(-L"$lib" -loidc -Wl,-rpath,"$lib")
cc "${cflags[@]}" -O1 -g -o "$work/test_async" tests/c/test_async.c "${ldflags[@]}" || { echo "0 passed, 1 failed"; exit 1; }
cc "${cflags[@]}" -O1 -g -o "$work/event_loop" examples/event_loop.c "${ldflags[@]}" || { echo "0 passed, 1 failed"; exit 1; }

run_suite() { # NAME COMMAND...: a fresh issuer state per run (new key generation, counters reset)
  local name=$1; shift
  curl -s -X POST "$admin/rotate" > /dev/null
  curl -s -X POST "$admin/reset_stats" > /dev/null
  if "$@" "$issuer" "$ca" "$admin" "$work/vectors.txt"; then pass "$name"; else fail "$name"; fi
}

# Each run needs a cold process-wide cache for its issuer: a new process is exactly that.
run_suite test_async "$work/test_async"
if [ "${OIDC_VALGRIND:-1}" != 0 ] && command -v valgrind > /dev/null; then
  run_suite test_async-valgrind valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --trace-children=no \
    "$work/test_async"
fi
if [ "${OIDC_ASAN:-0}" = 1 ]; then
  cc "${cflags[@]}" -O1 -g -fsanitize=address -o "$work/test_async_asan" tests/c/test_async.c "${ldflags[@]}" &&
    ASAN_OPTIONS=detect_leaks=1 run_suite test_async-asan "$work/test_async_asan" || true
fi

tokens=()
for _ in 1 2 3; do tokens+=("$(curl -s "$admin/token?alg=ES256&aud=api")"); done
tokens+=("$(curl -s "$admin/token?alg=ES256&aud=api&exp_in=-3600")")
if "$work/event_loop" "$issuer" api "$ca" "${tokens[@]}" > "$work/event_loop.out" 2>&1 &&
   grep -q "4/4 callbacks" "$work/event_loop.out" && grep -q "TOKEN_EXPIRED" "$work/event_loop.out"; then
  cat "$work/event_loop.out"; pass event_loop
else
  cat "$work/event_loop.out"; fail event_loop
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
