#!/usr/bin/env bash
# Build and run liboidc's C tests against the real shared library.
#
#   tests/c/run.sh [--pkg-config] [--no-valgrind] [--no-e2e-valgrind] [--no-asan] [--no-e2e]
#
# Library and header (first match wins):
#   --pkg-config                 OIDC_CFLAGS/OIDC_LIBS from `pkg-config --cflags --libs oidc`
#                                (set PKG_CONFIG_PATH, e.g. after `cargo cinstall`); the run-time
#                                library dir is pkg-config's libdir.
#   OIDC_CFLAGS / OIDC_LIBS      explicit compiler / linker flags
#   OIDC_INCLUDE_DIR             default: <repo>/include
#   OIDC_LIB_DIR                 dir holding liboidc.so; default: <repo>/target/release
#                                (build it with: cargo build --release --features test-hooks)
# Other inputs:
#   OIDC_TEST_HOOKS=1|0          compile with -DOIDC_TEST_HOOKS (default: when the library
#                                exports oidc_test_panic, i.e. was built with --features test-hooks)
#   OIDC_TESTKIT_BIN             the oidc-testkit binary for test_e2e; default: built with
#                                `cargo build -p oidc-testkit --release` in the repo
#   BUILD_DIR                    default: tests/c/build
#   CC (gcc), CXX (g++), ASAN_CC (clang)
#
# Every check prints "ok - ..." or "not ok - ..."; test binaries' own lines are indented.
# "... # TODO why" marks a check pinning a known library bug: shown, not counted as a failure.
# The last line is "N passed, N failed": runner steps plus every test case of every run.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$here/build}
CC=${CC:-gcc}
CXX=${CXX:-g++}
ASAN_CC=${ASAN_CC:-clang}
# A fatal setup problem: say why, and still end with the summary line.
die() { echo "run.sh: $*" >&2; echo "0 passed, 1 failed"; exit 2; }

use_pkg_config=0 use_valgrind=1 use_asan=1 use_e2e=1 e2e_valgrind=1
for arg in "$@"; do
    case $arg in
        --pkg-config) use_pkg_config=1 ;;
        --no-valgrind) use_valgrind=0 ;;
        --no-asan) use_asan=0 ;;
        --no-e2e) use_e2e=0 ;;
        --no-e2e-valgrind) e2e_valgrind=0 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) die "unknown argument $arg" ;;
    esac
done

# The library honours the standard proxy variables (ureq's default); the issuer is on loopback.
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy
# The panic test prints Rust's panic message; keep it to two lines.
export RUST_BACKTRACE=0

mkdir -p "$BUILD_DIR/logs"
passed=0 failed=0
t_start=$(date +%s)

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# step NAME CMD...: run CMD quietly; its output goes to logs/ and is shown on failure.
step() {
    local name=$1; shift
    local log="$BUILD_DIR/logs/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_' | cut -c1-60).log"
    if "$@" >"$log" 2>&1; then ok "$name"; else not_ok "$name"; sed 's/^/#   /' "$log" | tail -40; return 1; fi
}

# step_todo NAME WHY CMD...: a check that pins a known library bug (TAP "# TODO"): reported,
# not counted as a failure.
step_todo() {
    local name=$1 why=$2; shift 2
    local out
    passed=$((passed + 1))
    if out=$("$@" 2>&1); then echo "ok - $name # TODO fixed? remove the TODO marker ($why)"
    else echo "not ok - $name # TODO $why"; echo "$out" | sed 's/^/#   /' | tail -10; fi
}

# step_fails NAME CMD...: CMD must fail.
step_fails() {
    local name=$1; shift
    if "$@" >/dev/null 2>&1; then not_ok "$name"; else ok "$name"; fi
}

# suite NAME CMD...: run a test binary, indent its output, add its counts to ours.
suite() {
    local name=$1; shift
    local log="$BUILD_DIR/logs/$name.log" t0=$(date +%s) rc last p f
    "$@" >"$log" 2>"$log.stderr"
    rc=$?
    sed 's/^/    /' "$log"
    last=$(tail -n 1 "$log")
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
        passed=$((passed + p)) failed=$((failed + f))
    else
        echo "#   $name did not finish (exit $rc); stderr:"
        tail -20 "$log.stderr" | sed 's/^/#   /'
    fi
    if [ "$rc" -eq 0 ] && [ -n "${p:-}" ] && [ "${f:-1}" -eq 0 ]; then
        ok "$name ($(( $(date +%s) - t0 )) s)"
    else
        not_ok "$name (exit $rc, $(( $(date +%s) - t0 )) s)"
        [ "$rc" -eq 99 ] && grep -E "^==[0-9]+== " "$log.stderr" | grep -vE "^==[0-9]+== +(at|by) " | tail -30 | sed 's/^/#   /'
    fi
    if [[ " $* " == *" valgrind "* ]]; then
        grep -hE "ERROR SUMMARY|(definitely|indirectly|possibly) lost:" "$log.stderr" | sed 's/^==[0-9]*== */#   valgrind: /'
    fi
}

# --- compiler flags -----------------------------------------------------------------------
if [ "$use_pkg_config" = 1 ]; then
    OIDC_CFLAGS=$(pkg-config --cflags oidc) || die "pkg-config cannot find oidc (PKG_CONFIG_PATH?)"
    OIDC_LIBS=$(pkg-config --libs oidc)
    OIDC_LIB_DIR=$(pkg-config --variable=libdir oidc)
fi
OIDC_INCLUDE_DIR=${OIDC_INCLUDE_DIR:-$repo/include}
OIDC_LIB_DIR=${OIDC_LIB_DIR:-$repo/target/release}
OIDC_CFLAGS=${OIDC_CFLAGS:-"-I$OIDC_INCLUDE_DIR"}
OIDC_LIBS=${OIDC_LIBS:-"-L$OIDC_LIB_DIR -loidc"}
export LD_LIBRARY_PATH="$OIDC_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
lib=$OIDC_LIB_DIR/liboidc.so
[ -e "$lib" ] || die "$lib not found; build it (cargo build --release --features test-hooks) or set OIDC_LIB_DIR"
nm -D --defined-only "$lib" 2>/dev/null | grep -w oidc_validate >/dev/null ||
    die "$lib exports no oidc_validate (stale or empty build?); rebuild it (cargo build --release --features test-hooks) or set OIDC_LIB_DIR"
if [ -z "${OIDC_TEST_HOOKS:-}" ]; then
    if nm -D --defined-only "$lib" 2>/dev/null | grep -w oidc_test_panic >/dev/null; then OIDC_TEST_HOOKS=1; else OIDC_TEST_HOOKS=0; fi
fi
hooks=""
[ "$OIDC_TEST_HOOKS" = 1 ] && hooks="-DOIDC_TEST_HOOKS"
echo "# library: $lib ($(readlink -f "$lib"))"
echo "# OIDC_CFLAGS=$OIDC_CFLAGS OIDC_LIBS=$OIDC_LIBS test hooks: $OIDC_TEST_HOOKS"

# word-split the flag variables on purpose
# shellcheck disable=SC2086
cflags=(-std=c99 -Wall -Wextra -Werror -pedantic -pthread -g $hooks $OIDC_CFLAGS)
# shellcheck disable=SC2086
libs=($OIDC_LIBS -pthread)

# --- the header -------------------------------------------------------------------------
hdr_c="$BUILD_DIR/header_check.c"
cat >"$hdr_c" <<'EOF'
/* Compiles as C and C++: every declaration of oidc.h is usable. */
#include <oidc.h>
#include <oidc.h> /* include guard */
int header_check(void);
int header_check(void) {
    oidc_validator_builder *b = 0;
    oidc_result rc = oidc_validator_builder_new(&b, 0);
    oidc_validator_builder_free(b);
    return (int)rc + (int)oidc_version_number() + (OIDC_RESULT_KEY_REJECTED > 0) + OIDC_VERSION_NUMBER;
}
EOF
cp "$hdr_c" "$BUILD_DIR/header_check.cpp"
for std in c99 c11 c17 gnu99; do
    step "header compiles as $std ($CC -Wall -Wextra -Werror -pedantic)" \
        $CC -std=$std -Wall -Wextra -Werror -pedantic $hooks $OIDC_CFLAGS -c "$hdr_c" -o "$BUILD_DIR/header_$std.o"
done
for std in c++11 c++17 c++20; do
    step "header compiles as $std ($CXX -Wall -Wextra -Werror -pedantic)" \
        $CXX -std=$std -Wall -Wextra -Werror -pedantic $hooks $OIDC_CFLAGS -c "$BUILD_DIR/header_check.cpp" -o "$BUILD_DIR/header_$std.o"
done
if command -v clang >/dev/null; then
    step "header compiles as c99 (clang -Weverything minus padding/declaration-after-statement)" \
        clang -std=c99 -Weverything -Wno-padded -Wno-declaration-after-statement -Wno-unknown-warning-option \
        -Werror $hooks $OIDC_CFLAGS -c "$hdr_c" -o "$BUILD_DIR/header_clang.o"
fi
printf '#include <oidc.h>\nvoid f(void);\nvoid f(void) { oidc_validator_builder_new(0, 0); }\n' >"$BUILD_DIR/must_use.c"
step_fails "OIDC_MUST_USE: ignoring a result is a warning (-Werror fails)" \
    $CC -std=c99 -Wall -Werror $OIDC_CFLAGS -c "$BUILD_DIR/must_use.c" -o "$BUILD_DIR/must_use.o"
# Names a C program gets from the header: macros, typedefs, tags and functions.
header_names() {
    sed -nE 's/^#define ([A-Za-z_][A-Za-z0-9_]*).*/\1/p' "$1"
    sed -nE 's/^typedef .*[ *]([A-Za-z_][A-Za-z0-9_]*);$/\1/p' "$1"
    sed -nE 's/^(struct|enum) ([A-Za-z_][A-Za-z0-9_]*).*/\2/p' "$1"
    sed -nE 's/^[A-Za-z_][A-Za-z0-9_ *]*[ *]\**([A-Za-z_][A-Za-z0-9_]*)\(.*/\1/p' "$1"
}
header_prefixed() {
    local bad
    bad=$(header_names "$1" | grep -vE '^(oidc_|OIDC_)' | sort -u | tr '\n' ' ')
    [ -z "$bad" ] || { echo "names without the oidc_/OIDC_ prefix: $bad"; return 1; }
}
header_functions() {
    header_names "$1" | grep -E '^oidc_' | while read -r n; do grep -qE "[ *]$n\(" "$1" && echo "$n"; done | sort -u
}
# The library's dynamic symbols and the header's functions are the same set.
exports_match_header() {
    local funcs syms
    funcs=$(header_functions "$1")
    syms=$(nm -D --defined-only "$2" | awk '{print $3}' | sort -u)
    [ "$OIDC_TEST_HOOKS" = 1 ] || funcs=$(echo "$funcs" | grep -v '^oidc_test_panic$')
    diff <(echo "$funcs") <(echo "$syms") && return 0
    echo "(< header only, > library only)"; return 1
}
# Every function of the header is called by the C tests, so the NULL/UTF-8 coverage keeps up.
header_functions_tested() {
    local n missing=""
    # test_offline.c, or a suite with its own runner (test_oauth_grants.c: run_oauth_grants.sh).
    for n in $(header_functions "$1"); do grep -qw "$n" "$here"/test_*.c || missing="$missing $n"; done
    [ -z "$missing" ] || { echo "not called by any tests/c/test_*.c:$missing"; return 1; }
}

cargo_version=$(sed -n 's/^version *= *"\([0-9.]*\)".*/\1/p' "$repo/Cargo.toml" | head -1)
hdr_file=""
for d in $OIDC_CFLAGS; do [[ $d == -I* ]] && [ -f "${d#-I}/oidc.h" ] && hdr_file=${d#-I}/oidc.h && break; done
if [ -n "$hdr_file" ] && [ -n "$cargo_version" ]; then
    hdr_version=$(awk '/#define OIDC_VERSION_(MAJOR|MINOR|PATCH) /{printf "%s%s", sep, $3; sep="."}' "$hdr_file")
    step "header version $hdr_version == Cargo.toml version $cargo_version" test "$hdr_version" = "$cargo_version"
fi
if [ -n "$hdr_file" ]; then
    step "liboidc.so exports exactly the header's functions" exports_match_header "$hdr_file" "$lib"
    step "every function in oidc.h is exercised by a C test" header_functions_tested "$hdr_file"
    step "the header declares only oidc_/OIDC_ names" header_prefixed "$hdr_file"
fi

# --- build ------------------------------------------------------------------------------
step "build test_offline ($CC ${cflags[*]})" \
    $CC "${cflags[@]}" -o "$BUILD_DIR/test_offline" "$here/test_offline.c" "${libs[@]}"
step "build test_e2e" $CC "${cflags[@]}" -o "$BUILD_DIR/test_e2e" "$here/test_e2e.c" "${libs[@]}"
step "build test_authn" $CC "${cflags[@]}" -o "$BUILD_DIR/test_authn" "$here/test_authn.c" "${libs[@]}"
have_asan=0
build_asan() {
    local flags=(-std=c99 -Wall -Wextra -Werror -pthread -g -O1 -fno-omit-frame-pointer
                 -fsanitize=address,undefined -fno-sanitize-recover=undefined $hooks $OIDC_CFLAGS)
    "$ASAN_CC" "${flags[@]}" -o "$BUILD_DIR/test_offline_asan" "$here/test_offline.c" "${libs[@]}" &&
        "$ASAN_CC" "${flags[@]}" -o "$BUILD_DIR/test_e2e_asan" "$here/test_e2e.c" "${libs[@]}" &&
        "$ASAN_CC" "${flags[@]}" -o "$BUILD_DIR/test_authn_asan" "$here/test_authn.c" "${libs[@]}"
}
if [ "$use_asan" = 1 ]; then
    if command -v "$ASAN_CC" >/dev/null; then
        step "build ASan+UBSan binaries ($ASAN_CC)" build_asan && have_asan=1
    else
        not_ok "$ASAN_CC not installed (use --no-asan)"
    fi
fi

VALGRIND=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
          --show-leak-kinds=definite,indirect --num-callers=40)
# Rust's allocator is the system malloc, so LSan/ASan see liboidc's heap too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# --- offline ----------------------------------------------------------------------------
[ -x "$BUILD_DIR/test_offline" ] && suite test_offline "$BUILD_DIR/test_offline"
if [ "$use_valgrind" = 1 ] && [ -x "$BUILD_DIR/test_offline" ]; then
    if command -v valgrind >/dev/null; then
        suite test_offline.valgrind "${VALGRIND[@]}" "$BUILD_DIR/test_offline"
    else
        not_ok "valgrind not installed (use --no-valgrind)"
    fi
fi
[ "$have_asan" = 1 ] && suite test_offline.asan "$BUILD_DIR/test_offline_asan"

# --- request authentication -------------------------------------------------------------
# test_authn runs the shared request vectors once per process, from a line file that
# requests_flat.py makes of tests/vectors/requests.json (no JSON parser in C).
requests_json=$repo/tests/vectors/requests.json
requests_txt=$BUILD_DIR/requests.txt
rm -f "$requests_txt"
if [ -f "$requests_json" ]; then
    step "flatten tests/vectors/requests.json (requests_flat.py)" \
        sh -c 'python3 "$1" "$2" >"$3"' sh "$here/requests_flat.py" "$requests_json" "$requests_txt"
else
    not_ok "tests/vectors/requests.json is missing (test_authn runs the shared request vectors)"
fi
[ -x "$BUILD_DIR/test_authn" ] && suite test_authn "$BUILD_DIR/test_authn" "$requests_txt"
if [ "$use_valgrind" = 1 ] && [ -x "$BUILD_DIR/test_authn" ] && command -v valgrind >/dev/null; then
    suite test_authn.valgrind "${VALGRIND[@]}" "$BUILD_DIR/test_authn" "$requests_txt"
fi
[ "$have_asan" = 1 ] && suite test_authn.asan "$BUILD_DIR/test_authn_asan" "$requests_txt"

# --- end to end -------------------------------------------------------------------------
tk_pid="" tk_fd="" tk_dir=""
stop_testkit() {
    if [ -n "$tk_fd" ]; then exec {tk_fd}>&-; tk_fd=""; fi   # stdin EOF: the testkit exits
    if [ -n "$tk_pid" ]; then
        for _ in $(seq 50); do kill -0 "$tk_pid" 2>/dev/null || break; sleep 0.1; done
        kill "$tk_pid" 2>/dev/null
        wait "$tk_pid" 2>/dev/null
        tk_pid=""
    fi
    [ -n "$tk_dir" ] && rm -rf "$tk_dir"
    tk_dir=""
}
trap stop_testkit EXIT

json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -1; }

# Start a fresh testkit; stdin is a FIFO whose only writer is this shell, so it dies with us.
start_testkit() {
    tk_dir=$(mktemp -d "$BUILD_DIR/testkit.XXXXXX")
    mkfifo "$tk_dir/stdin"
    "$TESTKIT_BIN" --dir "$tk_dir" <"$tk_dir/stdin" >"$tk_dir/stdout" 2>"$tk_dir/stderr" &
    tk_pid=$!
    exec {tk_fd}>"$tk_dir/stdin"
    for _ in $(seq 300); do
        grep -q '}' "$tk_dir/stdout" 2>/dev/null && break
        kill -0 "$tk_pid" 2>/dev/null || break
        sleep 0.1
    done
    export OIDC_TEST_ISSUER OIDC_TEST_CA_FILE OIDC_TEST_ADMIN OIDC_TEST_JWKS_URI OIDC_TEST_WRONG_CA_FILE
    OIDC_TEST_ISSUER=$(json_field issuer "$tk_dir/stdout")
    OIDC_TEST_CA_FILE=$(json_field ca_file "$tk_dir/stdout")
    OIDC_TEST_ADMIN=$(json_field admin "$tk_dir/stdout")
    OIDC_TEST_JWKS_URI=$(json_field jwks_uri "$tk_dir/stdout")
    OIDC_TEST_WRONG_CA_FILE=$(json_field wrong_ca_file "$tk_dir/stdout")
    if [ -z "$OIDC_TEST_ISSUER" ] || [ -z "$OIDC_TEST_ADMIN" ]; then
        echo "#   oidc-testkit did not start:"; sed 's/^/#   /' "$tk_dir/stderr" | tail -20
        return 1
    fi
    echo "# testkit pid $tk_pid: issuer $OIDC_TEST_ISSUER admin $OIDC_TEST_ADMIN"
}

# run_e2e NAME CMD...: each run gets its own issuer (fresh keys, counters and faults).
run_e2e() {
    local name=$1; shift
    if start_testkit; then
        suite "$name" "$@"
    else
        not_ok "$name: start oidc-testkit"
    fi
    stop_testkit
}

if [ "$use_e2e" = 1 ] && [ -x "$BUILD_DIR/test_e2e" ]; then
    TESTKIT_BIN=${OIDC_TESTKIT_BIN:-}
    if [ -z "$TESTKIT_BIN" ]; then
        target=${CARGO_TARGET_DIR:-$repo/target}
        step "build oidc-testkit (cargo build -p oidc-testkit --release)" \
            sh -c "cd '$repo' && cargo build -q -p oidc-testkit --release --bin oidc-testkit"
        TESTKIT_BIN=$target/release/oidc-testkit
    fi
    if [ -x "$TESTKIT_BIN" ]; then
        run_e2e test_e2e "$BUILD_DIR/test_e2e"
        if [ "$use_valgrind" = 1 ] && [ "$e2e_valgrind" = 1 ] && command -v valgrind >/dev/null; then
            run_e2e test_e2e.valgrind env OIDC_TEST_TIME_SCALE=4 "${VALGRIND[@]}" "$BUILD_DIR/test_e2e"
        fi
        [ "$have_asan" = 1 ] && run_e2e test_e2e.asan "$BUILD_DIR/test_e2e_asan"
    else
        not_ok "oidc-testkit binary not found at $TESTKIT_BIN (set OIDC_TESTKIT_BIN or use --no-e2e)"
    fi
fi

echo "# total time $(( $(date +%s) - t_start )) s; logs in $BUILD_DIR/logs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
