#!/usr/bin/env bash
# Build the cargo-fuzz targets (fuzz/) and run each for SECONDS (default 60): a bounded
# campaign for CI. Each target is one test: it fails on any crash, panic (a failed oracle is a
# panic), leak (AddressSanitizer/LeakSanitizer, the cargo-fuzz default) or input that takes
# more than 10 s. Per target it prints the executions; the last line is "N passed, N failed".
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Inputs: the checked-in seeds (fuzz/seeds/TARGET, read only) plus a scratch corpus that grows
# from run to run (build/fuzz/corpus/TARGET). A crashing input is written to
# fuzz/artifacts/TARGET/ (not checked in); reproduce it with
# `cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...` and turn it into a test in
# tests/fuzz_regressions.rs. The longer campaign is in fuzz/README.md.
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
ALL_TARGETS=(validate_token jwks_parse discovery_parse snapshot_import oauth_responses authenticate jwe_parse revocation_list_parse jws_detached)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${ALL_TARGETS[@]}"); fi
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2; }

logs=build/fuzz/logs
mkdir -p "$logs"
fail_all() { echo "fuzz: $1" >&2; echo "0 passed, ${#targets[@]} failed"; exit 1; }

cargo +nightly --version >/dev/null 2>&1 \
  || fail_all "the nightly toolchain is missing (cargo-fuzz needs it: rustup toolchain install nightly)"
cargo +nightly fuzz --version >/dev/null 2>&1 \
  || fail_all "cargo-fuzz is missing (scripts/setup.sh installs it: cargo install cargo-fuzz --locked)"

t0=$(date +%s)
echo "fuzz: building ${#ALL_TARGETS[@]} targets (cargo +nightly fuzz build, AddressSanitizer)"
if ! nice cargo +nightly fuzz build >"$logs/build.log" 2>&1; then
  tail -40 "$logs/build.log"
  fail_all "build failed (log: $logs/build.log)"
fi
echo "fuzz: built in $(( $(date +%s) - t0 )) s"

passed=0
failed=0
for t in "${targets[@]}"; do
  corpus=build/fuzz/corpus/$t
  mkdir -p "$corpus"
  log=$logs/$t.log
  start=$(date +%s)
  # New inputs go to the first directory (scratch); the seeds are only read. The outer timeout
  # bounds a run that would hang outside libFuzzer's own clock (start-up, exit).
  timeout --kill-after=10 $((secs + 120)) nice cargo +nightly fuzz run "$t" "$corpus" "fuzz/seeds/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[^ ]+' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok   $t: ${execs:-?} executions in $took s (${cov:-no coverage line})"
  else
    failed=$((failed + 1))
    why=$(grep -m1 -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-z -]+|panicked at .*|FORGERY: .{0,160}|POLICY: .{0,160}' "$log")
    echo "FAIL $t: exit $rc after ${execs:-?} executions in $took s: ${why:-see $log}"
    grep -E 'Test unit written to|artifact_prefix' "$log" | tail -2 | sed 's/^/     /'
    grep -A12 -m1 -E 'panicked at|ERROR: (AddressSanitizer|LeakSanitizer)' "$log" | head -14 | sed 's/^/     /'
  fi
done
echo "fuzz: stage took $(( $(date +%s) - t0 )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
