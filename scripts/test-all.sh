#!/usr/bin/env bash
# Run every test of liboidc: header freshness, Rust unit + integration tests (loopback fixture
# server and the real oidc-provider IdP), the cargo-c install with a pkg-config build, the C
# suite under valgrind, a bounded fuzzing run, and interop with a real Keycloak. Each runner
# prints its own summary; the last line adds them up as "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

# Keycloak (the keycloak stages near the end) takes 25 s to minutes to start on 2 cores: start it
# now, in the background (its own session, so no stage's end stops it), and let it come up while
# the other stages run. It is stopped when this script exits (scripts/servers.sh's exit trap).
. scripts/servers.sh
start_keycloak --no-wait || echo "keycloak could not be started: the keycloak stages will fail"

logs=build/test-logs
mkdir -p "$logs"
passed=0
failed=0
bad_stages=()

count() { # add up the summary lines a runner printed
  local log=$1 p=0 f=0
  # cargo test: "test result: ok. 12 passed; 0 failed; ..."
  while read -r a b; do p=$((p + a)); f=$((f + b)); done < <(
    sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$log")
  # our own runners: "N passed, N failed" alone on a line (a runner that also shows minitest's
  # line counts those tests in its own summary: then minitest's line is not added again)
  local own
  own=$(sed -nE 's/^(\w+: )?([0-9]+) passed, ([0-9]+) failed(, [0-9]+ skipped)?$/\2 \3/p' "$log")
  while read -r a b; do [ -n "$a" ] && { p=$((p + a)); f=$((f + b)); }; done <<<"$own"
  # minitest: "N runs, N assertions, N failures, N errors, N skips"
  [ -n "$own" ] || while read -r r fl er sk; do p=$((p + r - fl - er - sk)); f=$((f + fl + er)); done < <(
    sed -nE 's/^([0-9]+) runs, [0-9]+ assertions, ([0-9]+) failures, ([0-9]+) errors, ([0-9]+) skips$/\1 \2 \3 \4/p' "$log")
  echo "$p $f"
}

stage() { # stage NAME COMMAND...: run, show output, count its tests
  local name=$1; shift
  echo "=== $name: $*"
  local log="$logs/$name.log" rc
  "$@" > >(tee "$log") 2>&1
  rc=$?
  sleep 0.1
  read -r p f < <(count "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # a crashed runner counts as a failure
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    if [ "$rc" -eq 0 ]; then p=1; else f=1; fi          # a check without a test count
  fi
  passed=$((passed + p)); failed=$((failed + f))
  [ "$rc" -eq 0 ] || bad_stages+=("$name")
  echo "=== $name: exit $rc ($p passed, $f failed)"
}

prefix="$PWD/build/test-prefix"
stage codes scripts/gen-codes.py --verify
stage header scripts/gen-header.sh --verify
stage fmt bash -c "cargo fmt --all --check && (cd fuzz && cargo fmt --check)"
stage clippy cargo clippy --workspace --all-targets --quiet -- -D warnings
stage idp-selftest bash tests/idp/selftest.sh
stage rust cargo test --workspace --quiet
stage cinstall bash -c "rm -rf '$prefix' && cargo cinstall --release --features test-hooks --prefix '$prefix' --libdir lib && scripts/check-install.sh '$prefix'"
# One oidc-testkit binary (loopback fixture issuer) for the C and binding suites.
testkit="$PWD/target/release/oidc-testkit"
stage testkit cargo build --quiet --release -p oidc-testkit --bin oidc-testkit
export OIDC_TESTKIT_BIN="$testkit" OIDC_TESTKIT="$testkit"
# The `oidc` CLI, every subcommand, against the real IdP and the fixture (a debug build: the
# workspace's test profile has built its dependencies already).
stage cli bash cli/tests/run.sh
# The C suites (tests/c/run.sh SUITE...), each built against the installed library and header
# (pkg-config) and run plain, under valgrind and under ASan+UBSan.
cstage() { local name=$1; shift; stage "$name" env PKG_CONFIG_PATH="$prefix/lib/pkgconfig" bash tests/c/run.sh --pkg-config "$@"; }
cstage c header offline authn multi jose e2e
cstage c-endpoints endpoints
cstage c-grants grants
cstage c-net net
stage go env PKG_CONFIG_PATH="$prefix/lib/pkgconfig" bash bindings/go/test.sh
stage csharp env OIDC_LIB_DIR="$prefix/lib" bash bindings/csharp/test.sh
stage ruby env OIDC_LIB="$prefix/lib/liboidc.so" bash bindings/ruby/test.sh
stage python env OIDC_LIB_DIR="$prefix/lib" bash bindings/python/test.sh
# Each host's package built and used from outside the repository (a temp dir): the cinstall
# tree's layout and stripped library, the README's C quick start, valgrind with the installed
# suppression file, a Go module, the gem, the NuGet package (about 15 s).
stage packages bash scripts/test-packages.sh "$prefix"
cstage c-async async
# cargo-fuzz targets (fuzz/), 35 s each after one build: about 9 minutes in all on 2 cores
# (fuzz/README.md has the longer campaign).
stage fuzz scripts/fuzz.sh 35
# The README's first command, as written: a valid token accepted, a tampered one rejected.
stage example examples/run.sh
# Keycloak interop (started at the top): the C suite (plain, valgrind, ASan) and the Go binding.
# Each waits for Keycloak ("keycloak started in N s" in the log) and makes a fresh realm.
cstage keycloak keycloak
stage keycloak-go env PKG_CONFIG_PATH="$prefix/lib/pkgconfig" bash tests/keycloak/go-test.sh

echo
if [ ${#bad_stages[@]} -gt 0 ]; then echo "failed stages: ${bad_stages[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#bad_stages[@]} -eq 0 ]
