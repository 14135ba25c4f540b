#!/usr/bin/env bash
# Ruby binding: run the minitest suite and the README examples; exit non-zero on any failure.
#
# Environment:
#   OIDC_LIB=/path/to/liboidc.so   the library to load (or LD_LIBRARY_PATH with liboidc.so[.0.2]);
#                                  build it with: CARGO_TARGET_DIR=/tmp/rb-target cargo cinstall
#                                  --release --prefix /tmp/rb-prefix --libdir lib
#   OIDC_TESTKIT=/path/to/oidc-testkit   optional; otherwise built here with cargo
#   OIDC_REQUIRE_ALL=0             let tests skip when a prerequisite (node, cargo) is missing
#                                  (default here: 1, a missing prerequisite fails)
#
# The last line of output is "N passed, N failed" (", N skipped" when some were skipped):
# minitest's runs plus the README blocks (each run or syntax-checked block counts as one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

if [ -z "${OIDC_LIB:-}" ] && [ -z "${LD_LIBRARY_PATH:-}" ]; then
  echo "test.sh: note: neither OIDC_LIB nor LD_LIBRARY_PATH is set; trying the system's liboidc" >&2
fi
ruby -Ilib -e 'require "oidc"; puts "ruby #{RUBY_VERSION}, ffi #{FFI::VERSION}, liboidc #{Oidc.library_version}"' ||
  { echo "== ruby binding: FAILED (liboidc could not be loaded)" >&2; echo "0 passed, 1 failed"; exit 1; }

if [ -z "${OIDC_TESTKIT:-}" ]; then
  echo "== building oidc-testkit (set OIDC_TESTKIT to skip)" >&2
  (cd "$root" && cargo build -q --release -p oidc-testkit --bin oidc-testkit)
  target=$(cd "$root" && cargo metadata -q --format-version 1 --no-deps |
           ruby -rjson -e 'puts JSON.parse($stdin.read).fetch("target_directory")')
  export OIDC_TESTKIT="$target/release/oidc-testkit"
fi
export OIDC_REQUIRE_ALL="${OIDC_REQUIRE_ALL:-1}"

status=0
work=$(mktemp -d)
# shellcheck source=../../scripts/servers.sh
. "$root/scripts/servers.sh" # the test IdP (start_idp), stopped at exit
on_exit 'rm -rf "$work"'

# The last line of output is "N passed, N failed" (", N skipped" when minitest skipped some):
# the minitest runs (a run that did not finish counts as one failure) plus the README blocks.
passed=0 failed=0 skipped=0
summary() {
  # the last line is "N passed, N failed" alone, like every runner of ours (skips before it)
  if [ "$skipped" -gt 0 ]; then echo "($skipped skipped)"; fi
  echo "$passed passed, $failed failed"
}

echo "== minitest" >&2
start=$(date +%s.%N)
set +e
ruby -Ilib -Itest -e 'Dir["test/*_test.rb"].sort.each { |f| require File.expand_path(f) }' 2>&1 | tee "$work/minitest.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e
echo "== minitest took $(ruby -e "printf('%.1f', $(date +%s.%N) - $start)") s" >&2
if counts=$(grep -E '^[0-9]+ runs, [0-9]+ assertions, [0-9]+ failures, [0-9]+ errors, [0-9]+ skips' "$work/minitest.log" | tail -1) &&
   [ -n "$counts" ]; then
  read -r runs fails errors skips < <(sed -E 's/^([0-9]+) runs, [0-9]+ assertions, ([0-9]+) failures, ([0-9]+) errors, ([0-9]+) skips.*/\1 \2 \3 \4/' <<<"$counts")
  passed=$((runs - fails - errors - skips)) failed=$((fails + errors)) skipped=$skips
else
  failed=1 # no summary: the run did not finish
fi

echo "== README examples (against the test IdP)" >&2
start_idp || { echo "== ruby binding: FAILED (the test IdP did not start)" >&2; failed=$((failed + 1)); summary; exit 1; }
OIDC_ISSUER=$IDP_ISSUER OIDC_CA_FILE=$IDP_CA_FILE
export OIDC_ISSUER OIDC_CA_FILE
ACCESS_TOKEN=$("$root/tests/idp/get-token.sh" "$OIDC_ISSUER" "$OIDC_CA_FILE" svc-basic svc-basic-secret \
  urn:liboidc:rs256 "read write")
export ACCESS_TOKEN

# Each ```ruby block preceded by "<!-- example: NAME" is run as written; the others are
# syntax-checked.
ruby -e '
  blocks = File.read("README.md").scan(/(?:<!-- example: (\w+)[^\n]*\n)?```ruby\n(.*?)```/m)
  abort "no examples found" if blocks.count { |n, _| n } < 5
  blocks.each_with_index do |(name, code), i|
    file = File.join(ARGV[0], "example-#{name || i}.rb")
    File.write(file, code)
    puts file + "\t" + (name ? "run" : "check")
  end' "$work" > "$work/examples"
while IFS=$'\t' read -r file mode; do
  name=$(basename "$file" .rb)
  ex_ok=1
  if [ "$mode" = run ]; then
    echo "-- $name" >&2
    case "$name" in
      example-auth_code) run=(ruby test/browse_example.rb "$OIDC_ISSUER" "$OIDC_CA_FILE" "$file") ;;
      *) run=(ruby -Ilib "$file") ;;
    esac
    if out=$(timeout 120 "${run[@]}" 2>&1); then
      printf '%s\n' "$out" | sed 's/^/   /'
      # the examples must do what they say
      case "$name" in
        example-validate) grep -q "^subject svc-basic, scopes read write" <<<"$out" || { echo "   unexpected output" >&2; ex_ok=0; } ;;
        example-authenticate)
          grep -q "^allowed svc-basic Bearer" <<<"$out" && grep -q "^denied 403 INSUFFICIENT_SCOPE" <<<"$out" &&
            grep -q '^Bearer realm="api", error="insufficient_scope".*scope="admin"' <<<"$out" ||
            { echo "   unexpected output" >&2; ex_ok=0; } ;;
        example-client_credentials)
          grep -q "Bearer token for read write" <<<"$out" && grep -q "InvalidTarget: invalid_target" <<<"$out" &&
            ! grep -q "svc-basic-secret" <<<"$out" ||
            { echo "   unexpected output" >&2; ex_ok=0; } ;;
        example-policy)
          grep -q "^subject svc-basic" <<<"$out" && grep -q "^explain: allow, issuer exact $OIDC_ISSUER\$" <<<"$out" &&
            grep -q "^later: deny, failed claim exp\$" <<<"$out" &&
            grep -q "^reloaded: same policy, subject svc-basic" <<<"$out" &&
            grep -q '^refused: .*\$\.audiences:' <<<"$out" && ! grep -q "$ACCESS_TOKEN" <<<"$out" ||
            { echo "   unexpected output" >&2; ex_ok=0; } ;;
        example-jose)
          grep -q "^request object oauth-authz-req+jwt signed by rp-1: client_id web-app\$" <<<"$out" &&
            grep -q "^tampered: SIGNATURE_INVALID\$" <<<"$out" ||
            { echo "   unexpected output" >&2; ex_ok=0; } ;;
        example-auth_code)
          grep -q "^signed in as user-1 (user-1@liboidc.test)" <<<"$out" && grep -q "^refreshed: Bearer" <<<"$out" &&
            grep -q "^InvalidGrant: invalid_grant" <<<"$out" && ! grep -q "web-app-secret" <<<"$out" ||
            { echo "   unexpected output" >&2; ex_ok=0; } ;;
      esac
    else
      printf '%s\n' "$out" | sed 's/^/   /' >&2
      echo "   FAILED: $name" >&2
      ex_ok=0
    fi
  else
    ruby -c "$file" > /dev/null || { echo "   syntax error in README block $name" >&2; ex_ok=0; }
  fi
  if [ "$ex_ok" -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)) status=1; fi
done < "$work/examples"

if [ "$status" -eq 0 ]; then echo "== ruby binding: all passed" >&2; else echo "== ruby binding: FAILED" >&2; fi
summary
exit "$status"
