#!/usr/bin/env bash
# Self-test of the test IdP: starts server.mjs in a temp dir, exercises client
# credentials for every resource/algorithm, key rotation, the auth-code and
# device flows, restart from the same dir, and shutdown paths.
# Last line: "N passed, N failed"; exit status non-zero on any failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/idp-selftest.XXXXXX")
SRV_PID=
keep_tmp=${KEEP_TMP:-0}

ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1${2:+ ($2)}"; }
# check DESC CMD...: passes when CMD exits 0
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# eq DESC ACTUAL EXPECTED
eq() { if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi; }
ne() { if [ "$2" != "$3" ]; then ok "$1"; else fail "$1" "both '$2'"; fi; }

cleanup() {
  if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
    kill "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
  fi
  if [ "$failed" -ne 0 ] && [ -f "$tmp/server.log" ]; then
    echo "--- server.log (tail) ---"
    tail -n 30 "$tmp/server.log"
    echo "---"
  fi
  if [ "$keep_tmp" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}

finish() {
  cleanup
  trap - EXIT
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
trap 'failed=$((failed + 1)); finish' EXIT

# --- small JSON / JWT helper (node is required by the server anyway) -------
read -r -d '' HELPER_JS <<'EOF'
const crypto = require('node:crypto');
const [cmd, ...a] = process.argv.slice(1);
const pick = (obj, p) => p.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
const out = (v) => process.stdout.write(v === undefined ? '' : (typeof v === 'string' ? v : JSON.stringify(v)));
switch (cmd) {
  case 'get': { // get JSON PATH
    let obj; try { obj = JSON.parse(a[0]); } catch { process.exit(1); }
    out(pick(obj, a[1])); break;
  }
  case 'kids': { // kids JWKS -> space separated kids
    out(JSON.parse(a[0]).keys.map((k) => k.kid).join(' ')); break;
  }
  case 'https-endpoints': { // https-endpoints DISCOVERY ISSUER -> list of bad ones
    const d = JSON.parse(a[0]);
    const bad = Object.entries(d).filter(([k, v]) => (k.endsWith('_endpoint') || k === 'jwks_uri')
      && !(typeof v === 'string' && v.startsWith(`${a[1]}/`)));
    out(bad.map(([k, v]) => `${k}=${v}`).join(' ')); break;
  }
  case 'jwt': { // jwt TOKEN JWKS -> "alg typ kid aud iss sigok"
    const [h, p, s] = a[0].split('.');
    let header; let payload; let jwks;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url'));
      payload = JSON.parse(Buffer.from(p, 'base64url'));
      jwks = JSON.parse(a[1]);
    } catch {
      out('- - - - - notajwt'); break;
    }
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    let sigok = 'nokey';
    if (jwk) {
      const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
      const data = Buffer.from(`${h}.${p}`);
      const sig = Buffer.from(s, 'base64url');
      let good;
      switch (header.alg) {
        case 'RS256': good = crypto.verify('sha256', data, key, sig); break;
        case 'PS256': good = crypto.verify('sha256', data, {
          key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
        }, sig); break;
        case 'ES256': good = crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig); break;
        case 'EdDSA': case 'Ed25519': good = crypto.verify(null, data, key, sig); break;
        default: good = false;
      }
      sigok = good ? 'sigok' : 'badsig';
    }
    out([header.alg, header.typ || '-', header.kid || '-', payload.aud || '-', payload.iss || '-', sigok].join(' '));
    break;
  }
  default: process.exit(2);
}
EOF
js() { node -e "$HELPER_JS" "$@"; }

# --- prerequisites ------------------------------------------------------------
if [ ! -d "$here/node_modules/oidc-provider" ]; then
  echo "# node_modules missing: running npm ci" >&2
  (cd "$here" && npm ci --no-audit --no-fund >&2) || { fail "npm ci"; finish; }
fi

# --- server control -----------------------------------------------------------
READY=
start_server() {
  coproc IDP { exec node "$here/server.mjs" --dir "$tmp/work" 2>>"$tmp/server.log"; }
  SRV_PID=$IDP_PID
  SRV_IN=${IDP[1]}
  READY=
  IFS= read -r -t 20 READY <&"${IDP[0]}" || true
  [ -n "$READY" ]
}
wait_exit() { # wait_exit PID SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
    sleep 0.1
  done
  return 1
}

t0=$(date +%s)
check "server starts and prints a ready line" start_server
if [ -z "$READY" ]; then finish; fi
echo "# ready: $READY"

ISS=$(js get "$READY" issuer)
PORT=$(js get "$READY" port)
ADMIN=$(js get "$READY" admin)
CA=$(js get "$READY" ca_file)
JWKS_URI=$(js get "$READY" jwks_uri)
TOKEN_EP=$(js get "$READY" token_endpoint)
eq "issuer is https://127.0.0.1:PORT" "$ISS" "https://127.0.0.1:$PORT"
eq "jwks_uri in ready line" "$JWKS_URI" "$ISS/jwks"
eq "token_endpoint in ready line" "$TOKEN_EP" "$ISS/token"
eq "ca_file is <dir>/ca.pem" "$CA" "$tmp/work/ca.pem"
check "admin is loopback http" test "${ADMIN#http://127.0.0.1:}" != "$ADMIN"
check "server cert verifies against the CA" openssl verify -CAfile "$CA" -purpose sslserver "$tmp/work/server.pem" >/dev/null

CURL=(curl --silent --show-error --max-time 10 --cacert "$CA")

DISCO=$("${CURL[@]}" "$ISS/.well-known/openid-configuration")
eq "discovery issuer" "$(js get "$DISCO" issuer)" "$ISS"
eq "discovery jwks_uri" "$(js get "$DISCO" jwks_uri)" "$JWKS_URI"
eq "discovery token_endpoint" "$(js get "$DISCO" token_endpoint)" "$TOKEN_EP"
eq "all discovery endpoints are https under the issuer" "$(js https-endpoints "$DISCO" "$ISS")" ""
check "discovery lists client_credentials" grep -q '"client_credentials"' <<<"$DISCO"

JWKS=$("${CURL[@]}" "$JWKS_URI")
KIDS0=$(js kids "$JWKS")
eq "JWKS has 3 keys (RSA, EC, OKP)" "$(wc -w <<<"$KIDS0" | tr -d ' ')" 3

declare -A ALG=([urn:liboidc:rs256]=RS256 [urn:liboidc:ps256]=PS256 [urn:liboidc:es256]=ES256 [urn:liboidc:eddsa]=EdDSA)
RESOURCES=(urn:liboidc:rs256 urn:liboidc:ps256 urn:liboidc:es256 urn:liboidc:eddsa)
declare -A KID0 TOK0

for r in "${RESOURCES[@]}"; do
  tok=$("$here/get-token.sh" "$ISS" "$CA" svc-basic svc-basic-secret "$r" "read write" 2>&1) || { fail "token for $r" "$tok"; continue; }
  read -r alg typ kid aud iss sig <<<"$(js jwt "$tok" "$JWKS")"
  eq "$r: alg" "$alg" "${ALG[$r]}"
  eq "$r: typ" "$typ" "at+jwt"
  eq "$r: aud" "$aud" "$r"
  eq "$r: iss" "$iss" "$ISS"
  check "$r: kid $kid is in JWKS" grep -qw -- "$kid" <<<"$KIDS0"
  eq "$r: signature verifies with JWKS key" "$sig" sigok
  KID0[$r]=$kid
  TOK0[$r]=$tok
done
eq "RS256 and PS256 share the RSA key" "${KID0[urn:liboidc:rs256]}" "${KID0[urn:liboidc:ps256]}"

tok=$("$here/get-token.sh" "$ISS" "$CA" svc-post svc-post-secret urn:liboidc:es256 read post 2>&1)
read -r alg typ kid aud iss sig <<<"$(js jwt "$tok" "$JWKS")"
eq "svc-post (client_secret_post) gets an ES256 token" "$alg $typ $aud $sig" "ES256 at+jwt urn:liboidc:es256 sigok"

resp=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -u svc-basic:wrong -d grant_type=client_credentials -d resource=urn:liboidc:rs256 "$TOKEN_EP")
eq "wrong secret is rejected with 401" "$resp" 401
resp=$("${CURL[@]}" -u svc-basic:svc-basic-secret -d grant_type=client_credentials -d resource=urn:liboidc:nope "$TOKEN_EP")
eq "unknown resource gives invalid_target" "$(js get "$resp" error)" invalid_target

OT=$("$here/get-token.sh" "$ISS" "$CA" svc-basic svc-basic-secret urn:liboidc:opaque read 2>&1)
IN=$("${CURL[@]}" -u svc-post:svc-post-secret --data-urlencode "token=$OT" "$ISS/token/introspection")
eq "opaque token introspects active with aud urn:liboidc:opaque" "$(js get "$IN" active) $(js get "$IN" aud) $(js get "$IN" client_id)" "true urn:liboidc:opaque svc-basic"
SR=$("${CURL[@]}" -u svc-basic:svc-basic-secret -d grant_type=client_credentials -d resource=urn:liboidc:short "$TOKEN_EP")
eq "urn:liboidc:short token expires_in is 5" "$(js get "$SR" expires_in)" 5

# --- authorization code + PKCE, login/consent by form posts -------------------
JAR=$tmp/cookies.txt
CJ=("${CURL[@]}" -b "$JAR" -c "$JAR")
loc() { "${CJ[@]}" -o /dev/null -w '%{redirect_url}' "$@"; }
VERIFIER=selftest-verifier-0123456789abcdefghijklmnopqrstuvwxyz
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -binary -sha256 | openssl base64 -A | tr '+/' '-_' | tr -d '=')
L=$(loc "$ISS/auth?client_id=web-app&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&scope=openid%20email%20profile%20read&resource=urn%3Aliboidc%3Aes256&state=st-1&nonce=n-1&code_challenge=$CHALLENGE&code_challenge_method=S256")
check "authorize redirects to a login interaction" grep -q "^$ISS/interaction/" <<<"$L"
L=$(loc --data-urlencode prompt=login --data-urlencode login=user-1 --data-urlencode password=any "$L")
L=$(loc "$L")
check "after login: consent interaction" grep -q "^$ISS/interaction/" <<<"$L"
L=$(loc --data-urlencode prompt=consent "$L")
L=$(loc "$L")
check "redirect to http://127.0.0.1/cb with code and state" grep -q '^http://127.0.0.1/cb?code=.*state=st-1' <<<"$L"
CODE=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$L")
TR=$("${CURL[@]}" -u web-app:web-app-secret -d grant_type=authorization_code -d "code=$CODE" \
  --data-urlencode redirect_uri=http://127.0.0.1/cb -d "code_verifier=$VERIFIER" "$TOKEN_EP")
AT=$(js get "$TR" access_token)
RT=$(js get "$TR" refresh_token)
IDT=$(js get "$TR" id_token)
check "code exchange returns access, refresh and id tokens" test -n "$AT" -a -n "$RT" -a -n "$IDT"
read -r alg typ kid aud iss sig <<<"$(js jwt "$IDT" "$JWKS")"
eq "id_token: RS256, aud web-app, verifies" "$alg $aud $iss $sig" "RS256 web-app $ISS sigok"
UI=$("${CURL[@]}" -H "Authorization: Bearer $AT" "$ISS/me")
eq "userinfo sub" "$(js get "$UI" sub)" user-1
eq "userinfo email" "$(js get "$UI" email)" user-1@liboidc.test

# --- rotation -----------------------------------------------------------------
ROT=$(curl -sS --max-time 15 -X POST "$ADMIN/rotate")
NEW_RSA=$(js get "$ROT" kids.RS256)
NEW_EC=$(js get "$ROT" kids.ES256)
NEW_ED=$(js get "$ROT" kids.EdDSA)
ne "rotate returns a new RSA kid" "$NEW_RSA" "${KID0[urn:liboidc:rs256]}"
ne "rotate returns a new EC kid" "$NEW_EC" "${KID0[urn:liboidc:es256]}"
ne "rotate returns a new Ed25519 kid" "$NEW_ED" "${KID0[urn:liboidc:eddsa]}"
JWKS1=$("${CURL[@]}" "$JWKS_URI")
KIDS1=$(js kids "$JWKS1")
eq "JWKS after rotate: new keys first, old keys kept" "$KIDS1" "$NEW_RSA $NEW_EC $NEW_ED $KIDS0"
declare -A NEWKID=([urn:liboidc:rs256]=$NEW_RSA [urn:liboidc:ps256]=$NEW_RSA [urn:liboidc:es256]=$NEW_EC [urn:liboidc:eddsa]=$NEW_ED)
for r in "${RESOURCES[@]}"; do
  tok=$("$here/get-token.sh" "$ISS" "$CA" svc-basic svc-basic-secret "$r" read 2>&1) || { fail "token after rotate for $r" "$tok"; continue; }
  read -r alg typ kid aud iss sig <<<"$(js jwt "$tok" "$JWKS1")"
  eq "$r after rotate: new kid" "$kid" "${NEWKID[$r]}"
  eq "$r after rotate: alg/typ/signature" "$alg $typ $sig" "${ALG[$r]} at+jwt sigok"
  read -r alg typ kid aud iss sig <<<"$(js jwt "${TOK0[$r]}" "$JWKS1")"
  eq "$r: pre-rotation token still verifies (overlap)" "$kid $sig" "${KID0[$r]} sigok"
done

STATS=$(curl -sS --max-time 5 "$ADMIN/stats")
check "stats counts jwks fetches (>=2)" test "$(js get "$STATS" jwks)" -ge 2
check "stats counts discovery fetches (>=1)" test "$(js get "$STATS" discovery)" -ge 1
eq "stats paths./jwks matches jwks" "$(js get "$STATS" 'paths./jwks')" "$(js get "$STATS" jwks)"

# --- refresh (grant made before the rotation), revocation -------------------
TR2=$("${CURL[@]}" -u web-app:web-app-secret -d grant_type=refresh_token -d "refresh_token=$RT" -d resource=urn:liboidc:es256 "$TOKEN_EP")
RT2=$(js get "$TR2" refresh_token)
check "refresh token from before the rotation works and is rotated" test -n "$RT2" -a "$RT2" != "$RT"
read -r alg typ kid aud iss sig <<<"$(js jwt "$(js get "$TR2" access_token)" "$JWKS1")"
eq "refresh with resource gives an ES256 JWT with the new key" "$alg $typ $kid $aud $sig" "ES256 at+jwt $NEW_EC urn:liboidc:es256 sigok"
RV=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -u web-app:web-app-secret -d "token=$RT2" -d token_type_hint=refresh_token "$ISS/token/revocation")
eq "revocation returns 200" "$RV" 200
TR3=$("${CURL[@]}" -u web-app:web-app-secret -d grant_type=refresh_token -d "refresh_token=$RT2" "$TOKEN_EP")
eq "revoked refresh token is rejected" "$(js get "$TR3" error)" invalid_grant

# --- device flow -------------------------------------------------------------
rm -f "$JAR"
DA=$("${CURL[@]}" -d client_id=device-app -d scope=openid "$ISS/device/auth")
DC=$(js get "$DA" device_code)
UC=$(js get "$DA" user_code)
check "device authorization returns codes" test -n "$DC" -a -n "$UC"
XSRF=$("${CJ[@]}" "$ISS/device" | sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p')
PAGE=$("${CJ[@]}" --data-urlencode "xsrf=$XSRF" --data-urlencode "user_code=$UC" "$ISS/device")
XSRF=$(sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p' <<<"$PAGE")
L=$(loc --data-urlencode "xsrf=$XSRF" --data-urlencode "user_code=$UC" --data-urlencode confirm=yes "$ISS/device")
L=$(loc --data-urlencode prompt=login --data-urlencode login=user-1 --data-urlencode password=any "$L")
L=$(loc "$L")
L=$(loc --data-urlencode prompt=consent "$L")
check "device approval ends on the success page" grep -q 'Sign-in Success' <<<"$("${CJ[@]}" "$L")"
DT=$("${CURL[@]}" -d client_id=device-app -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d "device_code=$DC" "$TOKEN_EP")
check "device_code grant returns an access token" test -n "$(js get "$DT" access_token)"

# --- dynamic registration survives another rotation -------------------------
REG=$("${CURL[@]}" -H 'content-type: application/json' \
  -d '{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic"}' "$ISS/reg")
RCID=$(js get "$REG" client_id)
RSEC=$(js get "$REG" client_secret)
check "dynamic registration returns client_id/secret" test -n "$RCID" -a -n "$RSEC"

ROT2=$(curl -sS --max-time 15 -X POST "$ADMIN/rotate?drop_old=1")
KIDS2=$("${CURL[@]}" "$JWKS_URI")
KIDS2=$(js kids "$KIDS2")
eq "rotate?drop_old=1 publishes only the new keys" "$KIDS2" "$(js get "$ROT2" kids.RS256) $(js get "$ROT2" kids.ES256) $(js get "$ROT2" kids.EdDSA)"
tok=$("$here/get-token.sh" "$ISS" "$CA" "$RCID" "$RSEC" urn:liboidc:eddsa read 2>&1)
read -r alg typ kid aud iss sig <<<"$(js jwt "$tok" "$("${CURL[@]}" "$JWKS_URI")")"
eq "registered client still works after rotation" "$alg $kid $sig" "EdDSA $(js get "$ROT2" kids.EdDSA) sigok"

# --- shutdown, restart from the same dir, stdin-EOF exit ---------------------
CA_SUM=$(openssl dgst -sha256 -r "$CA" | cut -d' ' -f1)
curl -sS --max-time 5 -X POST "$ADMIN/shutdown" >/dev/null
check "POST /shutdown stops the server" wait_exit "$SRV_PID" 5
check "restart from the same dir" start_server
if [ -n "$READY" ]; then
  ISS2=$(js get "$READY" issuer)
  eq "restart reuses the CA" "$(openssl dgst -sha256 -r "$(js get "$READY" ca_file)" | cut -d' ' -f1)" "$CA_SUM"
  tok=$("$here/get-token.sh" "$ISS2" "$CA" svc-basic svc-basic-secret urn:liboidc:es256 read 2>&1)
  read -r alg typ kid aud iss sig <<<"$(js jwt "$tok" "$("${CURL[@]}" "$ISS2/jwks")")"
  eq "restart reuses the persisted signing keys" "$kid $iss $sig" "$(js get "$ROT2" kids.ES256) $ISS2 sigok"
  eval "exec ${SRV_IN}>&-"
  check "closing stdin stops the server" wait_exit "$SRV_PID" 5
fi

elapsed=$(($(date +%s) - t0))
check "self-test ran in under 60 s (${elapsed}s)" test "$elapsed" -lt 60
finish
