#!/usr/bin/env bash
# Build and run liboidc's C tests against the real (installed) shared library: one runner for
# every suite, each test program built with the same flags and run plain, under valgrind and
# under ASan+UBSan.
#
#   tests/c/run.sh [--pkg-config] [--no-valgrind] [--no-e2e-valgrind] [--no-asan] [--no-e2e] [SUITE...]
#
# Suites (default: all, in this order):
#   header     the header: C99/C11/C17/C++ compiles, OIDC_MUST_USE, exports == header, names
#   offline    test_offline.c      no network
#   authn      test_authn.c        request authentication, the shared request vectors
#   multi      test_multi.c        several issuers, the policy document, explain mode: the shared
#                                  vectors multi_issuer.json and policy.json (no network)
#   jose       test_jose.c         issue 14: the shared vectors jose_jwe.json, jose_jws.json and
#                                  logout.json through both sends, the JOSE settings' misuse (no
#                                  network); then (unless --no-e2e) `test_jose --revocation`
#                                  against the fixture issuer: signed revocation lists, drop_keys
#   e2e        test_e2e.c          against the fixture issuer (oidc-testkit), faults injected
#   async      test_async.c        the non-blocking API against the fixture; examples/event_loop.c
#   endpoints  test_oauth_endpoints.c   protocol endpoints against the real IdP (tests/idp) and
#                                  the fixture's faults; examples/introspection.c
#   grants     test_oauth_grants.c the grants against the real IdP and the mock of bad token
#                                  responses; examples/{client_credentials,auth_code_pkce,device_flow}.c
#   keycloak   test_keycloak.c     interop with a real Keycloak (not in the default list: it needs
#                                  scripts/setup.sh's Keycloak and takes 25 s to minutes to start).
#                                  One Keycloak serves every run: the one named by KEYCLOAK_DIR
#                                  (started earlier with `start_keycloak --no-wait`, e.g. by
#                                  scripts/test-all.sh) or one started here; its realm is made
#                                  afresh for every run by tests/keycloak/kc.py setup.
#   net        test_net.c          HTTP proxies (tinyproxy) and mTLS client certificates against
#                                  the real IdP
# --no-e2e leaves out every suite that needs a server (e2e async endpoints grants net keycloak)
# and the server part of jose (its revocation runs);
# --no-e2e-valgrind runs those suites without valgrind.
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
#   OIDC_TESTKIT_BIN             the oidc-testkit binary; default: built with
#                                `cargo build -p oidc-testkit --release` in the repo (scripts/servers.sh)
#   BUILD_DIR                    default: tests/c/build
#   CC (gcc), CXX (g++), ASAN_CC (clang)
# The servers (fixture issuer, IdP, mock) are started by scripts/servers.sh, fresh for every run
# of a test program.
#
# Every check prints "ok - ..." or "not ok - ..."; test programs' own lines are indented.
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

all_suites=(header offline authn multi jose e2e async endpoints grants net)
known_suites=" ${all_suites[*]} keycloak "
server_suites=" e2e async endpoints grants net keycloak "
use_pkg_config=0 use_valgrind=1 use_asan=1 use_e2e=1 e2e_valgrind=1
suites=()
for arg in "$@"; do
    case $arg in
        --pkg-config) use_pkg_config=1 ;;
        --no-valgrind) use_valgrind=0 ;;
        --no-asan) use_asan=0 ;;
        --no-e2e) use_e2e=0 ;;
        --no-e2e-valgrind) e2e_valgrind=0 ;;
        -h|--help) sed -n '2,/^set -uo pipefail/{/^#/p}' "$0"; exit 0 ;;
        -*) die "unknown argument $arg" ;;
        *) [[ $known_suites == *" $arg "* ]] || die "unknown suite $arg ($known_suites)"; suites+=("$arg") ;;
    esac
done
[ ${#suites[@]} -gt 0 ] || suites=("${all_suites[@]}")
if [ "$use_e2e" = 0 ]; then
    kept=()
    for s in "${suites[@]}"; do [[ $server_suites == *" $s "* ]] || kept+=("$s"); done
    suites=("${kept[@]}")
fi
wanted() { [[ " ${suites[*]} " == *" $1 "* ]]; }

# The panic test prints Rust's panic message; keep it to two lines.
export RUST_BACKTRACE=0
# The servers, and the proxy variables unset (liboidc reads them only on opt-in; curl does).
# shellcheck source=../../scripts/servers.sh
. "$repo/scripts/servers.sh"

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

# suite NAME CMD...: run a test program, indent its output, add its counts to ours.
suite() {
    local name=$1; shift
    local log="$BUILD_DIR/logs/$name.log" t0=$(date +%s) rc last p= f=
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
    if [ "$rc" -eq 0 ] && [ -n "$p" ] && [ "${f:-1}" -eq 0 ]; then
        ok "$name ($(( $(date +%s) - t0 )) s)"
    else
        not_ok "$name (exit $rc, $(( $(date +%s) - t0 )) s)"
        [ "$rc" -eq 99 ] && grep -E "^==[0-9]+== " "$log.stderr" | grep -vE "^==[0-9]+== +(at|by) " | tail -30 | sed 's/^/#   /'
        [ "$rc" -ne 0 ] && [ "$rc" -ne 99 ] && grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error)" "$log.stderr" | head -5 | sed 's/^/#   /'
    fi
    if [[ " $* " == *" valgrind "* ]]; then
        grep -hE "ERROR SUMMARY|(definitely|indirectly|possibly) lost:" "$log.stderr" | sed 's/^==[0-9]*== */#   valgrind: /'
    fi
    return 0
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
echo "# suites: ${suites[*]}"

# word-split the flag variables on purpose
# shellcheck disable=SC2086
cflags=(-std=c99 -Wall -Wextra -Werror -pedantic -pthread -g $hooks $OIDC_CFLAGS -I"$here")
# shellcheck disable=SC2086
asan_cflags=(-std=c99 -Wall -Wextra -Werror -pthread -g -O1 -fno-omit-frame-pointer
             -fsanitize=address,undefined -fno-sanitize-recover=undefined $hooks $OIDC_CFLAGS -I"$here")
# shellcheck disable=SC2086
libs=($OIDC_LIBS -pthread)

VALGRIND=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
          --show-leak-kinds=definite,indirect --num-callers=40)
# Rust's allocator is the system malloc, so LSan/ASan see liboidc's heap too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
have_valgrind=0
if [ "$use_valgrind" = 1 ]; then
    if command -v valgrind >/dev/null; then have_valgrind=1; else not_ok "valgrind not installed (use --no-valgrind)"; fi
fi
have_clang=0
if [ "$use_asan" = 1 ]; then
    if command -v "$ASAN_CC" >/dev/null; then have_clang=1; else not_ok "$ASAN_CC not installed (use --no-asan)"; fi
fi

# build NAME SOURCE: BUILD_DIR/NAME and (with ASan) BUILD_DIR/NAME_asan, as runner steps.
build() {
    local name=$1 src=$2
    rm -f "$BUILD_DIR/$name" "$BUILD_DIR/${name}_asan" # never run a stale build
    step "build $name ($CC ${cflags[*]})" $CC "${cflags[@]}" -o "$BUILD_DIR/$name" "$src" "${libs[@]}" || return 1
    if [ "$have_clang" = 1 ]; then
        step "build ${name}_asan ($ASAN_CC -fsanitize=address,undefined)" \
            "$ASAN_CC" "${asan_cflags[@]}" -o "$BUILD_DIR/${name}_asan" "$src" "${libs[@]}" || rm -f "$BUILD_DIR/${name}_asan"
    fi
    return 0
}

# run_variants NAME SETUP_FN [ARGS...]: run BUILD_DIR/test_NAME plain, under valgrind (unless
# disabled) and its ASan build (when built), each time after SETUP_FN (if any) has started fresh
# servers (it sees RUN_VARIANT = plain|valgrind|asan and may set RUN_ARGS, the program's
# arguments, default ARGS); the servers are stopped after each run.
run_variants() {
    local name=$1 setup=$2; shift 2
    local runs=("plain")
    # --no-e2e-valgrind: no valgrind run for the programs that need servers
    if [ "$have_valgrind" = 1 ] && { [ -z "$setup" ] || [ "$e2e_valgrind" = 1 ]; }; then runs+=("valgrind"); fi
    [ "$have_clang" = 1 ] && [ -x "$BUILD_DIR/test_${name}_asan" ] && runs+=("asan")
    local v label bin wrapper
    for v in "${runs[@]}"; do
        label=test_$name bin=$BUILD_DIR/test_$name wrapper=()
        case $v in
            valgrind) label=$label.valgrind wrapper=("${VALGRIND[@]}") ;;
            asan) label=$label.asan bin=${bin}_asan ;;
        esac
        RUN_VARIANT=$v RUN_ARGS=("$@")
        if [ -n "$setup" ] && ! "$setup"; then not_ok "$label: start the servers"; stop_all; continue; fi
        suite "$label" "${wrapper[@]}" "$bin" "${RUN_ARGS[@]}"
        stop_all
    done
}

# --- header -------------------------------------------------------------------------------
if wanted header; then
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
# The flat protocol calls of ABI 0.1 (and their handles and PKCE helpers), removed by ABI 0.2:
# the request object replaces them; none may come back.
flat_protocol_call='^oidc_(oauth_(exchange_code|refresh|client_credentials(_cached)?|token_exchange|jwt_bearer|custom_grant|device_authorization|device_poll|ciba_request|ciba_poll|introspect|revoke|userinfo|authorization_url|push_authorization_request|parse_authorization_response|end_session_url|validate_id_token|register|resource_request|client_endpoint)(_async)?|(token_response|device_authorization|ciba_request|pkce)_[a-z_]+|pkce_(new|generate|challenge))$'
# Every function of the header is called by the C tests, so the NULL/UTF-8 coverage keeps up.
header_functions_tested() {
    local n missing=""
    for n in $(header_functions "$1"); do grep -qw "$n" "$here"/test_*.c || missing="$missing $n"; done
    [ -z "$missing" ] || { echo "not called by any tests/c/test_*.c:$missing"; return 1; }
}
# The header still declares flat protocol calls (removed by ABI 0.2).
no_flat_protocol_calls() {
    local flat
    flat=$(header_functions "$1" | grep -E "$flat_protocol_call" | tr '\n' ' ')
    [ -z "$flat" ] || { echo "still in the header: $flat"; return 1; }
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
    step "the header has no flat protocol call of ABI 0.1 left (the request object only)" no_flat_protocol_calls "$hdr_file"
    step "the header declares only oidc_/OIDC_ names" header_prefixed "$hdr_file"
fi
fi

# --- offline ------------------------------------------------------------------------------
if wanted offline && build test_offline "$here/test_offline.c"; then
    run_variants offline ""
fi

# --- request authentication ---------------------------------------------------------------
# test_authn runs the shared request vectors once per process, from a line file that
# requests_flat.py makes of tests/vectors/requests.json (no JSON parser in C).
if wanted authn && build test_authn "$here/test_authn.c"; then
    requests_json=$repo/tests/vectors/requests.json
    requests_txt=$BUILD_DIR/requests.txt
    rm -f "$requests_txt"
    if [ -f "$requests_json" ]; then
        step "flatten tests/vectors/requests.json (requests_flat.py)" \
            sh -c 'python3 "$1" "$2" >"$3"' sh "$here/requests_flat.py" "$requests_json" "$requests_txt"
    else
        not_ok "tests/vectors/requests.json is missing (test_authn runs the shared request vectors)"
    fi
    run_variants authn "" "$requests_txt"
fi

# --- several issuers, the policy document, explain mode -------------------------------------
# test_multi reads tests/vectors/{multi_issuer,policy,validation}.json flattened by
# multi_flat.py into a line file (no JSON parser in C).
if wanted multi && build test_multi "$here/test_multi.c"; then
    multi_txt=$BUILD_DIR/multi.txt
    rm -f "$multi_txt"
    step "flatten tests/vectors/multi_issuer.json + policy.json (multi_flat.py)" \
        sh -c 'python3 "$1" "$2" >"$3"' sh "$here/multi_flat.py" "$repo/tests/vectors" "$multi_txt"
    run_variants multi "" "$multi_txt"
fi

# --- issue 14: JWE, JWS, back-channel logout (shared vectors), JOSE settings, revocation ------
# test_jose reads tests/vectors/{jose_jwe,jose_jws,logout}.json flattened by jose_flat.py into a
# line file (no JSON parser in C); its --revocation mode runs against a fresh fixture issuer
# (the same program under the name test_jose_revocation, so that its logs stay apart).
jose_revocation_setup() {
    start_fixture || return 1
    echo "# fixture: issuer $FIXTURE_ISSUER admin $FIXTURE_ADMIN"
    RUN_ARGS=(--revocation "$FIXTURE_ISSUER" "$FIXTURE_CA_FILE" "$FIXTURE_ADMIN")
}
if wanted jose && build test_jose "$here/test_jose.c"; then
    jose_txt=$BUILD_DIR/jose.txt
    rm -f "$jose_txt"
    step "flatten tests/vectors/jose_jwe.json + jose_jws.json + logout.json (jose_flat.py)" \
        sh -c 'python3 "$1" "$2" >"$3"' sh "$here/jose_flat.py" "$repo/tests/vectors" "$jose_txt"
    run_variants jose "" "$jose_txt"
    if [ "$use_e2e" = 1 ]; then
        rm -f "$BUILD_DIR/test_jose_revocation" "$BUILD_DIR/test_jose_revocation_asan"
        ln -s test_jose "$BUILD_DIR/test_jose_revocation"
        [ -x "$BUILD_DIR/test_jose_asan" ] && ln -s test_jose_asan "$BUILD_DIR/test_jose_revocation_asan"
        run_variants jose_revocation jose_revocation_setup
    fi
fi

# --- end to end: the fixture issuer --------------------------------------------------------
# Each run gets its own issuer (fresh keys, counters and faults).
e2e_setup() {
    start_fixture || return 1
    export OIDC_TEST_ISSUER=$FIXTURE_ISSUER OIDC_TEST_CA_FILE=$FIXTURE_CA_FILE OIDC_TEST_ADMIN=$FIXTURE_ADMIN
    export OIDC_TEST_JWKS_URI=$FIXTURE_JWKS_URI OIDC_TEST_WRONG_CA_FILE=$FIXTURE_WRONG_CA_FILE
    # valgrind is slow: every client timeout of test_e2e x4
    if [ "$RUN_VARIANT" = valgrind ]; then export OIDC_TEST_TIME_SCALE=4; else unset OIDC_TEST_TIME_SCALE; fi
    echo "# fixture: issuer $OIDC_TEST_ISSUER admin $OIDC_TEST_ADMIN"
}
if wanted e2e && build test_e2e "$here/test_e2e.c"; then
    run_variants e2e e2e_setup
fi

# --- the non-blocking API: the fixture issuer ----------------------------------------------
# Each run needs a cold process-wide cache for its issuer: a new process and a new issuer.
async_setup() {
    start_fixture --algs ES256 || return 1
    echo "# fixture: issuer $FIXTURE_ISSUER admin $FIXTURE_ADMIN"
    RUN_ARGS=("$FIXTURE_ISSUER" "$FIXTURE_CA_FILE" "$FIXTURE_ADMIN" "$BUILD_DIR/validation_vectors.txt")
}
# example_step NAME OUT CMD...: run an example (plain), output into OUT (shown indented).
example_run() {
    local out=$1; shift
    timeout 120 "$@" >"$out" 2>&1
}
if wanted async && build test_async "$here/test_async.c"; then
    step "flatten tests/vectors/validation.json" python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
c = v["config"]
with open(sys.argv[2], "w") as out:
    for line in (c["issuer"], c["audiences"][0], c["expected_typ"], c["algorithms"], c["max_token_bytes"],
                 int(v["now"]), json.dumps(v["jwks"], separators=(",", ":"))):
        print(line, file=out)
    for case in v["cases"]:
        print(case["code"], case["name"].replace(" ", "_"), case["token"], file=out)
' "$repo/tests/vectors/validation.json" "$BUILD_DIR/validation_vectors.txt"
    run_variants async async_setup
    # examples/event_loop.c: three valid tokens and an expired one, all answered
    if step "build example event_loop" $CC "${cflags[@]}" -o "$BUILD_DIR/event_loop" "$repo/examples/event_loop.c" "${libs[@]}" &&
        async_setup; then
        tokens=()
        for _ in 1 2 3; do tokens+=("$(curl -sS "$FIXTURE_ADMIN/token?alg=ES256&aud=api")"); done
        tokens+=("$(curl -sS "$FIXTURE_ADMIN/token?alg=ES256&aud=api&exp_in=-3600")")
        out=$BUILD_DIR/logs/event_loop.out
        if example_run "$out" "$BUILD_DIR/event_loop" "$FIXTURE_ISSUER" api "$FIXTURE_CA_FILE" "${tokens[@]}" &&
            grep -q "4/4 callbacks" "$out" && grep -q "TOKEN_EXPIRED" "$out"; then
            sed 's/^/    /' "$out"; ok "example event_loop (4 tokens, the expired one TOKEN_EXPIRED)"
        else
            sed 's/^/#   /' "$out"; not_ok "example event_loop"
        fi
        stop_all
    fi
fi

# --- protocol endpoints: the real IdP and the fixture's faults ----------------------------
# Per run: a fresh IdP and fixture; `test_oauth_endpoints prepare` builds an authorization URL
# with liboidc (url, state, nonce, PKCE verifier, one per line); the login and consent are
# scripted with curl form posts (tests/idp/README.md) and the code is exchanged with curl;
# twice (one code flow per send mode).
# endpoints_login SUFFIX: one completed code flow into OIDC_TEST_{REDIRECT,STATE,NONCE,ID_TOKEN,
# ACCESS_TOKEN,REFRESH_TOKEN}SUFFIX (the test revokes the tokens: one flow per send mode).
endpoints_login() {
    local sfx=$1 prep url state nonce verifier redirect code tr l
    prep=$(OIDC_TEST_ISSUER=$IDP_ISSUER OIDC_TEST_CA_FILE=$IDP_CA_FILE "$BUILD_DIR/test_oauth_endpoints" prepare) ||
        { echo "# test_oauth_endpoints prepare failed"; return 1; }
    { read -r url; read -r state; read -r nonce; read -r verifier; } <<<"$prep"
    local jar="$SERVERS_DIR/endpoints$sfx.jar"
    rm -f "$jar"
    local C=(curl --silent --show-error --max-time 10 --cacert "$IDP_CA_FILE" -b "$jar" -c "$jar")
    loc() { "${C[@]}" -o /dev/null -w '%{redirect_url}' "$@"; }
    l=$(loc "$url")
    l=$(loc --data-urlencode prompt=login --data-urlencode login=user-1 --data-urlencode password=any "$l")
    l=$(loc "$l")
    l=$(loc --data-urlencode prompt=consent "$l")
    redirect=$(loc "$l")
    case $redirect in http://127.0.0.1/cb\?code=*) ;; *) echo "# login flow ended at '$redirect'"; return 1 ;; esac
    code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$redirect")
    tr=$("${C[@]}" -u web-app:web-app-secret -d grant_type=authorization_code -d "code=$code" \
        --data-urlencode redirect_uri=http://127.0.0.1/cb -d "code_verifier=$verifier" "$IDP_ISSUER/token")
    [ -n "$(ready_field "$tr" id_token)" ] || { echo "# code exchange failed: $tr"; return 1; }
    export "OIDC_TEST_REDIRECT$sfx=$redirect" "OIDC_TEST_STATE$sfx=$state" "OIDC_TEST_NONCE$sfx=$nonce"
    export "OIDC_TEST_ID_TOKEN$sfx=$(ready_field "$tr" id_token)" "OIDC_TEST_ACCESS_TOKEN$sfx=$(ready_field "$tr" access_token)"
    export "OIDC_TEST_REFRESH_TOKEN$sfx=$(ready_field "$tr" refresh_token)"
}
endpoints_setup() {
    start_idp && start_fixture || return 1
    local f
    # faults on the fixture issuer (persist for every request)
    for f in "/e/error&mode=400" "/e/garbage&mode=garbage" "/e/big&mode=big&bytes=700000" "/e/hang&mode=hang"; do
        curl -sS --max-time 5 -X POST "$FIXTURE_ADMIN/fault?path=$f" >/dev/null || { echo "# fault setup $f failed"; return 1; }
    done
    endpoints_login "" && endpoints_login _2 || return 1
    export OIDC_TEST_ISSUER=$IDP_ISSUER OIDC_TEST_CA_FILE=$IDP_CA_FILE
    export OIDC_TEST_FAULT_ISSUER=$FIXTURE_ISSUER OIDC_TEST_FAULT_CA=$FIXTURE_CA_FILE
    # valgrind is slow: looser bounds on how long a failing call may take
    if [ "$RUN_VARIANT" = valgrind ]; then export OIDC_TEST_SLOW=1; else unset OIDC_TEST_SLOW; fi
    echo "# IdP $IDP_ISSUER, fixture $FIXTURE_ISSUER"
}
if wanted endpoints && build test_oauth_endpoints "$here/test_oauth_endpoints.c"; then
    # the test program's name is test_oauth_endpoints: run_variants wants test_NAME
    run_variants oauth_endpoints endpoints_setup
    if step "build example introspection" $CC "${cflags[@]}" -o "$BUILD_DIR/introspection" "$repo/examples/introspection.c" "${libs[@]}" &&
        start_idp; then
        out=$BUILD_DIR/logs/introspection.out
        if example_run "$out" "$BUILD_DIR/introspection" "$IDP_ISSUER" "$IDP_CA_FILE" && grep -q '"active":true' "$out"; then
            sed 's/^/    /' "$out"; ok "example introspection"
        else
            sed 's/^/#   /' "$out"; not_ok "example introspection"
        fi
        stop_all
    fi
fi

# --- grants: the real IdP and the mock of bad token responses ------------------------------
# The scripted login, device approval and CIBA approval are done by tests/c/idp_browser.sh.
grants_setup() {
    start_idp && start_mock || return 1
    export OIDC_TEST_ISSUER=$IDP_ISSUER OIDC_TEST_CA_FILE=$IDP_CA_FILE OIDC_TEST_ADMIN=$IDP_ADMIN
    export OIDC_TEST_MOCK=$MOCK_URL OIDC_TEST_KEYS=$repo/tests/idp/client-keys OIDC_TEST_BROWSER=$here/idp_browser.sh
    # valgrind is ~20x slower: longer client timeouts, looser bounds on failing calls
    if [ "$RUN_VARIANT" = valgrind ]; then export OIDC_TEST_SLOW=1; else unset OIDC_TEST_SLOW; fi
    echo "# IdP $IDP_ISSUER, mock $MOCK_URL"
}
if wanted grants && build test_oauth_grants "$here/test_oauth_grants.c"; then
    run_variants oauth_grants grants_setup
    # the examples, against one IdP; they trust the test CA the standard way (SSL_CERT_FILE)
    ex_ok=1
    for ex in client_credentials auth_code_pkce device_flow; do
        step "build example $ex" $CC "${cflags[@]}" -o "$BUILD_DIR/$ex" "$repo/examples/$ex.c" "${libs[@]}" || ex_ok=0
    done
    if [ "$ex_ok" = 1 ] && RUN_VARIANT=plain grants_setup; then
        export SSL_CERT_FILE=$IDP_CA_FILE
        out=$BUILD_DIR/logs/client_credentials.out
        example_run "$out" "$BUILD_DIR/client_credentials" "$IDP_ISSUER" svc-basic svc-basic-secret urn:liboidc:rs256 read
        if [ "$(grep -c '^token_type=Bearer expires_in=[0-9]* scope=read$' "$out")" = 2 ]; then
            ok "example client_credentials (twice, second from the cache)"
        else not_ok "example client_credentials"; sed 's/^/#   /' "$out"; fi
        example_run "$out" "$BUILD_DIR/client_credentials" "$IDP_ISSUER" svc-basic wrong-secret; rc=$?
        if [ "$rc" = 1 ] && grep -q INVALID_CLIENT "$out" && ! grep -q wrong-secret "$out"; then
            ok "example client_credentials: wrong secret -> INVALID_CLIENT, exit 1, secret not shown"
        else not_ok "example client_credentials wrong secret (rc $rc)"; sed 's/^/#   /' "$out"; fi

        # auth_code_pkce: prints "open: URL", reads the callback URL on stdin
        w=$SERVERS_DIR/examples
        mkdir -p "$w"
        mkfifo "$w/ac.in" "$w/ac.out"
        timeout 60 "$BUILD_DIR/auth_code_pkce" "$IDP_ISSUER" web-app web-app-secret http://127.0.0.1/cb "openid email" \
            <"$w/ac.in" >"$w/ac.out" 2>"$w/ac.err" &
        ac_pid=$!
        exec {ac_in}>"$w/ac.in" {ac_out}<"$w/ac.out"
        IFS= read -r -t 20 line <&"$ac_out" || line=
        cb=$("$here/idp_browser.sh" login "${line#open: }" 2>>"$w/ac.err")
        printf '%s\n' "$cb" >&"$ac_in"
        exec {ac_in}>&-
        IFS= read -r -t 20 result <&"$ac_out" || result=
        exec {ac_out}<&-
        wait "$ac_pid"; rc=$?
        if [ "$rc" = 0 ] && [[ $result == "token_type=Bearer expires_in="*" id_token=validated refresh_token=yes" ]]; then
            ok "example auth_code_pkce (scripted login)"
        else not_ok "example auth_code_pkce (rc $rc): $result"; sed 's/^/#   /' "$w/ac.err"; fi

        # device_flow: prints "visit URI and enter CODE", then the result once approved
        mkfifo "$w/df.out"
        timeout 60 "$BUILD_DIR/device_flow" "$IDP_ISSUER" device-app openid 30 >"$w/df.out" 2>"$w/df.err" &
        df_pid=$!
        exec {df_out}<"$w/df.out"
        IFS= read -r -t 20 line <&"$df_out" || line=
        "$here/idp_browser.sh" device "${line##* }" 2>>"$w/df.err" || echo "approval failed" >>"$w/df.err"
        IFS= read -r -t 40 result <&"$df_out" || result=
        exec {df_out}<&-
        wait "$df_pid"; rc=$?
        if [ "$rc" = 0 ] && [[ $line == "visit $IDP_ISSUER/device and enter "* ]] && [[ $result == "approved: token_type=Bearer"* ]]; then
            ok "example device_flow (scripted approval)"
        else not_ok "example device_flow (rc $rc): $line / $result"; sed 's/^/#   /' "$w/df.err"; fi
        unset SSL_CERT_FILE
        stop_all
    fi
fi

# --- keycloak: interop with a real Keycloak ------------------------------------------------
# One Keycloak for every run (its start-up takes minutes on 2 cores): waited for when the
# caller started it (KEYCLOAK_DIR), else started here; kept across runs, stopped at exit.
# Every run gets a fresh realm (kc.py setup: keys, clients, user; its variables exported).
keycloak_setup() {
    local env
    env=$(python3 "$repo/tests/keycloak/kc.py" setup) || { echo "# kc.py setup failed"; return 1; }
    eval "$env"
    export KEYCLOAK_TOOL=$repo/tests/keycloak/kc.py
    if [ "$RUN_VARIANT" = valgrind ]; then export OIDC_TEST_SLOW=1; else unset OIDC_TEST_SLOW; fi
    echo "# Keycloak realm $KEYCLOAK_ISSUER"
}
if wanted keycloak && build test_keycloak "$here/test_keycloak.c"; then
    kc_t0=$(date +%s) kc_up=0
    if [ -n "${KEYCLOAK_DIR:-}" ]; then
        wait_keycloak "$KEYCLOAK_DIR" && kc_up=1
    elif start_keycloak; then
        keep_server keycloak
        kc_up=1
    fi
    if [ "$kc_up" = 1 ]; then
        ok "Keycloak is up at $KEYCLOAK_URL ($(( $(date +%s) - kc_t0 )) s waited here)"
        run_variants keycloak keycloak_setup
    else
        not_ok "Keycloak did not start"
    fi
fi
# --- net: HTTP proxies (tinyproxy) and mTLS client certificates, against the real IdP --------
net_setup() {
    start_idp || return 1
    start_proxy proxyuser pr0xyPass7f3e || return 1
    export OIDC_TEST_AUTH_PROXY=$PROXY_URL
    start_proxy || return 1
    export OIDC_TEST_PROXY=$PROXY_URL OIDC_TEST_PROXY_LOG=$PROXY_LOG
    export OIDC_TEST_ISSUER=$IDP_ISSUER OIDC_TEST_CA_FILE=$IDP_CA_FILE
    OIDC_TEST_IDP_DIR=$(ready_field "$IDP_READY" dir)
    export OIDC_TEST_IDP_DIR
    if [ "$RUN_VARIANT" = valgrind ]; then export OIDC_TEST_SLOW=1; else unset OIDC_TEST_SLOW; fi
    echo "# IdP $IDP_ISSUER, proxies $OIDC_TEST_PROXY (open) $OIDC_TEST_AUTH_PROXY (Basic)"
}
if wanted net && build test_net "$here/test_net.c"; then
    run_variants net net_setup
fi

echo "# total time $(( $(date +%s) - t_start )) s; logs in $BUILD_DIR/logs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

