#!/usr/bin/env bash
# Keycloak on 127.0.0.1 over TLS, for scripts/servers.sh (start_keycloak): not meant to be run
# by hand. Usage: server.sh DIR KC_HOME JAVA_HOME
#
# In DIR: a test CA and a server certificate for 127.0.0.1 (openssl), keycloak.log, and
# ready.json once Keycloak answers ({"url","ca_file","admin_user","admin_password",
# "startup_secs"}) or failed.txt when it died first. Prints one line on stdout at once (the
# servers.sh ready line: {"dir":..., "https_port":...}) and exits, stopping Keycloak, on EOF on
# stdin (the script that started it ended) or on TERM. Dev mode, in-memory H2 (dev-mem): every
# start is a fresh server.
set -uo pipefail
dir=$1 kc_home=$2 java_home=$3
cd "$dir" || exit 1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
https_port=$(free_port) mgmt_port=$(free_port)

# the test CA and the server certificate (IP SAN 127.0.0.1)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=liboidc keycloak test CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
    -subj "/CN=127.0.0.1" 2>/dev/null &&
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >server.ext &&
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
    -extfile server.ext 2>/dev/null || { echo "openssl failed" >failed.txt; echo '{"error":"openssl"}'; exit 1; }
rm -f ca.key server.csr

admin_password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
printf '{"dir":"%s","https_port":%s}\n' "$dir" "$https_port"
exec >&2

t0=$(date +%s)
echo "keycloak: starting $kc_home on https://127.0.0.1:$https_port (JAVA_HOME=$java_home)"
JAVA_HOME=$java_home KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=$admin_password \
    "$kc_home/bin/kc.sh" start-dev --db=dev-mem \
    --http-enabled=false --https-port="$https_port" --http-management-port="$mgmt_port" \
    --hostname-strict=false --https-certificate-file="$dir/server.pem" \
    --https-certificate-key-file="$dir/server.key" \
    --features=dpop,token-exchange-standard:v2,par \
    >keycloak.log 2>&1 </dev/null &
kc=$!

stop() {
    kill -TERM "$kc" 2>/dev/null   # kc.sh forwards TERM to java
    for _ in $(seq 150); do kill -0 "$kc" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$kc" 2>/dev/null; then kill -KILL -- "-$$" 2>/dev/null; fi   # our own process group (setsid)
    wait "$kc" 2>/dev/null
    exit 0
}
trap stop TERM INT

ready=0
while kill -0 "$kc" 2>/dev/null; do
    if [ "$ready" = 0 ] && grep -q "started in [0-9.]*s" keycloak.log; then
        secs=$(( $(date +%s) - t0 ))
        own=$(sed -nE 's/.*started in ([0-9.]+)s.*/\1/p' keycloak.log | head -n1)
        printf '{"url":"https://127.0.0.1:%s","ca_file":"%s/ca.pem","admin_user":"admin","admin_password":"%s","startup_secs":%s,"keycloak_secs":"%s"}\n' \
            "$https_port" "$dir" "$admin_password" "$secs" "$own" >ready.json.part && mv ready.json.part ready.json
        echo "keycloak started in $secs s (Keycloak's own figure after the build step: ${own} s)"
        ready=1
    fi
    read -r -t 1 _; [ $? -eq 1 ] && stop   # EOF: the script that started us is gone
done
wait "$kc"; rc=$?
echo "keycloak exited ($rc) before it was stopped" >failed.txt
tail -n 30 keycloak.log >>failed.txt
echo "keycloak: exited with $rc"
exit 1
