# shellcheck shell=bash
# The test servers, started one way for every script: source this file, start what you need,
# and they are stopped when the script exits (or by stop_all / stop_server).
#
#   . "$repo/scripts/servers.sh"      # sets an EXIT trap that calls stop_all
#   on_exit 'rm -rf "$work"'          # more cleanup, run by the same trap (last added first)
#   start_idp            # the real IdP (oidc-provider, tests/idp/server.mjs)
#                        #   -> IDP_READY IDP_ISSUER IDP_CA_FILE IDP_ADMIN
#   start_fixture [ARG..] # the loopback fixture issuer (oidc-testkit; ARGs e.g. --algs ES256)
#                        #   -> FIXTURE_READY FIXTURE_ISSUER FIXTURE_CA_FILE FIXTURE_ADMIN
#                        #      FIXTURE_JWKS_URI FIXTURE_WRONG_CA_FILE
#   start_mock           # the plain-HTTP mock of bad token responses (tests/c/mock_token_server.py)
#                        #   -> MOCK_URL
#   start_redis          # redis-server on a free loopback port, no persistence -> REDIS_PORT
#   start_keycloak       # Keycloak (tests/keycloak/server.sh: dev mode, https on 127.0.0.1 with a
#                        #   certificate from a test CA it makes, in-memory H2), waited for
#                        #   -> KEYCLOAK_URL KEYCLOAK_CA_FILE KEYCLOAK_ADMIN_USER
#                        #      KEYCLOAK_ADMIN_PASSWORD KEYCLOAK_STARTUP_SECS KEYCLOAK_DIR
#   start_keycloak --no-wait  # start it and return at once (its start-up takes 25 s to minutes):
#                        #   exports KEYCLOAK_DIR; wait_keycloak [DIR] later (also from another
#                        #   script that was given KEYCLOAK_DIR) sets the variables above
#                        #   Inputs: OIDC_KEYCLOAK_HOME (the unpacked distribution; default
#                        #   the one scripts/setup.sh unpacks), OIDC_KEYCLOAK_JAVA_HOME (a Java
#                        #   21+ JDK; default the newest under /usr/lib/jvm), KEYCLOAK_START_SECS
#                        #   (default 900). Prints "keycloak started in N s".
#   start_proxy [USER PASS] [PORT..] # tinyproxy (HTTP CONNECT) on a free loopback port; with
#                        #   USER PASS it demands Basic credentials (401/407 without), with PORTs
#                        #   it tunnels only to them (403 otherwise) -> PROXY_URL (no credentials),
#                        #   PROXY_LOG (its log: one "CONNECT host:port" line per tunnel)
#   stop_server NAME     # NAME: idp, fixture, mock, redis, keycloak, proxyPORT (or the NAME given to start_server)
#   stop_all             # every server but those kept with keep_server
#   keep_server NAME     # stop_all leaves NAME running (a server too slow to start again for
#                        #   every test run, e.g. keycloak); the exit trap still stops it
#
# Works under `set -euo pipefail`. Each start_* returns non-zero (after printing the server's log tail on stderr) when the server
# does not come up within SERVERS_START_SECS (default 30). The IdP, the fixture and the mock read
# a piped stdin whose only writer is this shell: they exit on EOF, so even a killed script
# leaves none behind. Their files (work dir, logs) are under SERVERS_DIR (a fresh temp dir).
#
# Inputs: OIDC_TESTKIT_BIN or OIDC_TESTKIT (the oidc-testkit binary; default: built with
# `cargo build --release -p oidc-testkit`, into ${CARGO_TARGET_DIR:-target}), OIDC_NODE (node),
# SERVERS_START_SECS, TMPDIR.

servers_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVERS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/oidc-servers.XXXXXX")
declare -A servers_pid=() servers_fd=()
servers_exit_hooks=()
servers_seq=0

# liboidc ignores the proxy variables unless a handle opts in (set_proxy_from_env); curl and
# the other clients of the scripts do not: the servers are on loopback, reach them directly.
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy

# on_exit CMD: run CMD (eval'd) at exit, before the servers are stopped.
on_exit() { servers_exit_hooks=("$1" "${servers_exit_hooks[@]}"); }

servers_on_exit() {
    local rc=$? h
    for h in "${servers_exit_hooks[@]}"; do eval "$h" || true; done
    servers_kept=" "
    stop_all
    rm -rf "$SERVERS_DIR"
    return $rc
}
trap servers_on_exit EXIT

# ready_field JSON NAME: a top-level string or number member of a one-line JSON object.
ready_field() {
    printf '%s' "$1" | sed -nE "s/.*\"$2\":(\"([^\"]*)\"|([0-9]+)).*/\2\3/p"
}

# start_server NAME CMD...: start CMD with a piped stdin held open by this shell; wait for the
# first line on its stdout (the ready line) and put it in READY. Its stderr is
# $SERVERS_DIR/NAME.log.
start_server() {
    local name=$1; shift
    [ -z "${servers_pid[$name]:-}" ] || stop_server "$name"
    servers_seq=$((servers_seq + 1))
    local base="$SERVERS_DIR/$name.$servers_seq" fd pid line=""
    mkfifo "$base.in"
    # the server must not inherit the other servers' stdin writers (they would never see EOF)
    (for f in "${servers_fd[@]}"; do exec {f}>&-; done; exec "$@") <"$base.in" >"$base.out" 2>"$base.log" &
    pid=$!
    exec {fd}>"$base.in"
    servers_pid[$name]=$pid servers_fd[$name]=$fd
    local tries=$(( ${SERVERS_START_SECS:-30} * 10 ))
    for _ in $(seq "$tries"); do
        line=$(head -n1 "$base.out" 2>/dev/null)
        [ -n "$line" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$line" ]; then
        echo "servers.sh: $name did not start ($*); its log:" >&2
        tail -n 20 "$base.log" | sed 's/^/    /' >&2
        stop_server "$name"
        return 1
    fi
    READY=$line
    ln -sf "$base.log" "$SERVERS_DIR/$name.log"
}

# stop_server NAME: EOF on its stdin (the servers exit by themselves), then TERM after 5 s.
stop_server() {
    local name=$1 pid=${servers_pid[$1]:-} fd=${servers_fd[$1]:-}
    if [ -n "$fd" ]; then exec {fd}>&-; fi
    if [ -n "$pid" ]; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    unset "servers_pid[$name]" "servers_fd[$name]"
    return 0
}

servers_kept=" "
keep_server() { servers_kept="$servers_kept$1 "; }
stop_all() {
    local n
    for n in "${!servers_pid[@]}"; do
        [[ $servers_kept == *" $n "* ]] || stop_server "$n"
    done
    return 0
}

# testkit_bin: the oidc-testkit binary (built once when not given).
testkit_bin() {
    local bin=${OIDC_TESTKIT_BIN:-${OIDC_TESTKIT:-}}
    if [ -z "$bin" ]; then
        bin=${CARGO_TARGET_DIR:-$servers_repo/target}/release/oidc-testkit
        (cd "$servers_repo" && cargo build --quiet --release -p oidc-testkit --bin oidc-testkit) >&2 || return 1
        export OIDC_TESTKIT_BIN=$bin
    fi
    [ -x "$bin" ] || { echo "servers.sh: oidc-testkit not found at $bin" >&2; return 1; }
    echo "$bin"
}

start_idp() {
    [ -d "$servers_repo/tests/idp/node_modules/oidc-provider" ] ||
        { echo "servers.sh: tests/idp/node_modules is missing (run scripts/setup.sh)" >&2; return 1; }
    local dir
    dir=$(mktemp -d "$SERVERS_DIR/idp.XXXXXX")
    start_server idp "${OIDC_NODE:-node}" "$servers_repo/tests/idp/server.mjs" --dir "$dir" || return 1
    IDP_READY=$READY
    IDP_ISSUER=$(ready_field "$READY" issuer)
    IDP_CA_FILE=$(ready_field "$READY" ca_file)
    IDP_ADMIN=$(ready_field "$READY" admin)
}

start_fixture() {
    local bin dir
    bin=$(testkit_bin) || return 1
    dir=$(mktemp -d "$SERVERS_DIR/fixture.XXXXXX")
    start_server fixture "$bin" --dir "$dir" "$@" || return 1
    FIXTURE_READY=$READY
    FIXTURE_ISSUER=$(ready_field "$READY" issuer)
    FIXTURE_CA_FILE=$(ready_field "$READY" ca_file)
    FIXTURE_ADMIN=$(ready_field "$READY" admin)
    FIXTURE_JWKS_URI=$(ready_field "$READY" jwks_uri)
    FIXTURE_WRONG_CA_FILE=$(ready_field "$READY" wrong_ca_file)
}

start_mock() {
    start_server mock python3 "$servers_repo/tests/c/mock_token_server.py" || return 1
    MOCK_URL=$READY
}

# redis-server ignores stdin: a small shell in front of it reads the piped stdin and stops it on
# EOF, like the other servers.
start_redis() {
    command -v redis-server >/dev/null || { echo "servers.sh: redis-server not installed" >&2; return 1; }
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    start_server redis bash -c '
        redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --dir "$2" >&2 &
        r=$!
        for _ in $(seq 100); do
            if redis-cli -p "$1" ping 2>/dev/null | grep PONG >/dev/null; then echo "$1"; break; fi
            kill -0 "$r" 2>/dev/null || exit 1
            sleep 0.1
        done
        while kill -0 "$r" 2>/dev/null; do read -r -t 1 _; [ $? -eq 1 ] && break; done
        kill "$r" 2>/dev/null; wait "$r"' redis "$port" "$SERVERS_DIR" || return 1
    REDIS_PORT=$READY
}

# Keycloak. Its wrapper (tests/keycloak/server.sh) runs in a session of its own (setsid) so it
# outlives the stage or job that started it, and still stops when this shell's stdin pipe to it
# closes (the starting script ended, however it ended) or on stop_server keycloak.
keycloak_home() {
    local home=${OIDC_KEYCLOAK_HOME:-}
    if [ -z "$home" ]; then
        home=$(ls -d "${OIDC_KEYCLOAK_CACHE:-$HOME/.cache/liboidc}"/keycloak-26.* 2>/dev/null | sort -V | tail -n1)
    fi
    [ -n "$home" ] && [ -x "$home/bin/kc.sh" ] ||
        { echo "servers.sh: no Keycloak distribution (run scripts/setup.sh, or set OIDC_KEYCLOAK_HOME)" >&2; return 1; }
    echo "$home"
}
keycloak_java_home() {
    local j=${OIDC_KEYCLOAK_JAVA_HOME:-} d v best=0
    if [ -z "$j" ]; then
        for d in /usr/lib/jvm/*/; do
            [ -x "$d/bin/java" ] || continue
            v=$(basename "$d" | sed -nE 's/^[a-z]*-?(1\.)?([0-9]+).*/\2/p')
            [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$best" ] && { best=$v; j=${d%/}; }
        done
    fi
    [ -n "$j" ] && [ -x "$j/bin/java" ] ||
        { echo "servers.sh: no Java 21+ JDK for Keycloak under /usr/lib/jvm (set OIDC_KEYCLOAK_JAVA_HOME)" >&2; return 1; }
    echo "$j"
}
start_keycloak() {
    local home java dir
    home=$(keycloak_home) && java=$(keycloak_java_home) || return 1
    dir=$(mktemp -d "$SERVERS_DIR/keycloak.XXXXXX")
    start_server keycloak setsid bash "$servers_repo/tests/keycloak/server.sh" "$dir" "$home" "$java" || return 1
    export KEYCLOAK_DIR=$dir
    [ "${1:-}" = --no-wait ] && return 0
    wait_keycloak "$dir"
}
wait_keycloak() {
    local dir=${1:-${KEYCLOAK_DIR:-}} limit=${KEYCLOAK_START_SECS:-900} t0 ready
    [ -n "$dir" ] && [ -d "$dir" ] || { echo "servers.sh: wait_keycloak: no Keycloak was started (KEYCLOAK_DIR)" >&2; return 1; }
    t0=$(date +%s)
    until [ -s "$dir/ready.json" ]; do
        if [ -e "$dir/failed.txt" ] || [ $(( $(date +%s) - t0 )) -ge "$limit" ]; then
            echo "servers.sh: keycloak did not start (waited $(( $(date +%s) - t0 )) s); its log:" >&2
            cat "$dir/failed.txt" 2>/dev/null | sed 's/^/    /' >&2
            tail -n 20 "$dir/keycloak.log" 2>/dev/null | sed 's/^/    /' >&2
            return 1
        fi
        sleep 1
    done
    ready=$(cat "$dir/ready.json")
    KEYCLOAK_URL=$(ready_field "$ready" url)
    KEYCLOAK_CA_FILE=$(ready_field "$ready" ca_file)
    KEYCLOAK_ADMIN_USER=$(ready_field "$ready" admin_user)
    KEYCLOAK_ADMIN_PASSWORD=$(ready_field "$ready" admin_password)
    KEYCLOAK_STARTUP_SECS=$(ready_field "$ready" startup_secs)
    KEYCLOAK_DIR=$dir
    export KEYCLOAK_URL KEYCLOAK_CA_FILE KEYCLOAK_ADMIN_USER KEYCLOAK_ADMIN_PASSWORD KEYCLOAK_STARTUP_SECS KEYCLOAK_DIR
    echo "keycloak started in $KEYCLOAK_STARTUP_SECS s (Keycloak's own figure after its build step: $(ready_field "$ready" keycloak_secs) s); waited $(( $(date +%s) - t0 )) s here"
}
# tinyproxy runs in the foreground (-d); a small shell in front of it stops it on stdin EOF.
start_proxy() {
    local bin user="" pass="" port conf p
    bin=$(command -v tinyproxy || echo /usr/bin/tinyproxy)
    [ -x "$bin" ] || { echo "servers.sh: tinyproxy not installed (Debian package tinyproxy-bin)" >&2; return 1; }
    if [ $# -ge 2 ] && ! [[ $1 =~ ^[0-9]+$ ]]; then user=$1 pass=$2; shift 2; fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    conf="$SERVERS_DIR/tinyproxy.$port.conf"
    printf 'Port %s\nListen 127.0.0.1\nTimeout 30\nLogLevel Connect\nMaxClients 32\nAllow 127.0.0.1\nDisableViaHeader Yes\n' "$port" >"$conf"
    [ -z "$user" ] || printf 'BasicAuth %s %s\n' "$user" "$pass" >>"$conf"
    for p in "$@"; do printf 'ConnectPort %s\n' "$p" >>"$conf"; done
    PROXY_LOG="$SERVERS_DIR/tinyproxy.$port.log"
    start_server "proxy$port" bash -c '
        "$1" -d -c "$2" >"$4" 2>&1 &
        t=$!
        for _ in $(seq 100); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null; then echo "$3"; break; fi
            kill -0 "$t" 2>/dev/null || exit 1
            sleep 0.1
        done
        while kill -0 "$t" 2>/dev/null; do read -r -t 1 _; [ $? -eq 1 ] && break; done
        kill "$t" 2>/dev/null; wait "$t"' proxy "$bin" "$conf" "$port" "$PROXY_LOG" || return 1
    PROXY_URL="http://127.0.0.1:$port"
}
