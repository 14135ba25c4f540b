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
        case 'ES512': good = crypto.verify('sha512', data, { key, dsaEncoding: 'ieee-p1363' }, sig); break;
        case 'EdDSA': case 'Ed25519': good = crypto.verify(null, data, key, sig); break;
        default: good = false;
      }
      sigok = good ? 'sigok' : 'badsig';
    }
    out([header.alg, header.typ || '-', header.kid || '-', payload.aud || '-', payload.iss || '-', sigok].join(' '));
    break;
  }
  case 'seg': { // seg TOKEN N PATH... -> JSON members PATH of base64url segment N (0-based), space separated
    let obj; try { obj = JSON.parse(Buffer.from(a[0].split('.')[Number(a[1])], 'base64url')); } catch { process.exit(1); }
    out(a.slice(2).map((p) => { const v = pick(obj, p); return v === undefined ? '' : (typeof v === 'string' ? v : JSON.stringify(v)); }).join(' ')); break;
  }
  case 'jwk-use': { // jwk-use JWKS USE PATH -> member PATH of the first key with that use
    const k = JSON.parse(a[0]).keys.find((x) => x.use === a[1]);
    out(k ? pick(k, a[2]) : undefined); break;
  }
  case 'len': { // len JSON -> length of the top-level array
    out(String(JSON.parse(a[0]).length)); break;
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
eq "JWKS has 5 keys (RSA, EC, OKP, then P-521 and the enc key)" "$(wc -w <<<"$KIDS0" | tr -d ' ')" 5
KIDS0_SIG3=$(cut -d' ' -f1-3 <<<"$KIDS0")
KIDS0_ENC=$(cut -d' ' -f5 <<<"$KIDS0")
KIDS0_P521=$(cut -d' ' -f4 <<<"$KIDS0")

declare -A ALG=([urn:liboidc:rs256]=RS256 [urn:liboidc:ps256]=PS256 [urn:liboidc:es256]=ES256 [urn:liboidc:eddsa]=EdDSA [urn:liboidc:es512]=ES512)
RESOURCES=(urn:liboidc:rs256 urn:liboidc:ps256 urn:liboidc:es256 urn:liboidc:eddsa urn:liboidc:es512)
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

# --- issue 14: JOSE breadth (encryption, JARM, back-channel logout, ES512, request objects) --
# Everything below is checked with the openssl CLI (key unwrap, AES-CBC + HMAC decryption, PSS
# signing, RSA-OAEP encryption); node only handles JSON and base64url.
KEYS_DIR=$here/client-keys
b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }   # stdin bytes -> base64url
b64u_str() { printf %s "$1" | b64u; }
unb64u() { # base64url text -> bytes on stdout
  local s; s=$(tr '_-' '/+' <<<"$1")
  while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
  [ -z "$s" ] || openssl base64 -d -A <<<"$s"
}
hexof() { xxd -p | tr -d '\n'; }
seg() { cut -d. -f"$2" <<<"$1"; }   # seg TOKEN N (1-based)
nseg() { awk -F. '{print NF}' <<<"$1"; }
# sign_ps256 KEY.pem HEADER PAYLOAD -> compact JWS
sign_ps256() {
  local si; si="$(b64u_str "$2").$(b64u_str "$3")"
  printf '%s.%s' "$si" "$(printf %s "$si" | openssl dgst -sha256 -sign "$1" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 | b64u)"
}
# cbc_hs_decrypt JWE CEK_HEX -> plaintext (AxxxCBC-HSyyy, RFC 7518 5.2); fails on a bad tag
cbc_hs_decrypt() {
  local jwe=$1 cek=$2 enc hl md cipher mac ek al tag want h
  enc=$(js seg "$jwe" 0 enc)
  case "$enc" in
    A128CBC-HS256) hl=16; md=sha256; cipher=aes-128-cbc ;;
    A192CBC-HS384) hl=24; md=sha384; cipher=aes-192-cbc ;;
    A256CBC-HS512) hl=32; md=sha512; cipher=aes-256-cbc ;;
    *) return 1 ;;
  esac
  [ "${#cek}" -eq $((hl * 4)) ] || return 1
  mac=${cek:0:$((hl * 2))}; ek=${cek:$((hl * 2))}
  h=${jwe%%.*}
  al=$(printf '%016x' $((${#h} * 8)))
  want=$({ printf %s "$(seg "$jwe" 1)"; unb64u "$(seg "$jwe" 3)"; unb64u "$(seg "$jwe" 4)"; xxd -r -p <<<"$al"; } \
    | openssl dgst -"$md" -mac HMAC -macopt "hexkey:$mac" -binary | head -c "$hl" | hexof)
  tag=$(unb64u "$(seg "$jwe" 5)" | hexof)
  [ "$tag" = "$want" ] || return 1
  unb64u "$(seg "$jwe" 4)" | openssl enc -d -"$cipher" -K "$ek" -iv "$(unb64u "$(seg "$jwe" 3)" | hexof)"
}
# rsa_unwrap JWE KEY.pem -> CEK hex (RSA-OAEP or RSA-OAEP-256 by the header)
rsa_unwrap() {
  local md=sha1
  [ "$(js seg "$1" 0 alg)" = RSA-OAEP-256 ] && md=sha256
  unb64u "$(seg "$1" 2)" | openssl pkeyutl -decrypt -inkey "$2" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:$md -pkeyopt rsa_mgf1_md:$md | hexof
}
# aes_unwrap JWE KEK_HEX BITS -> CEK hex (AxxxKW, RFC 3394)
aes_unwrap() { unb64u "$(seg "$1" 2)" | openssl enc -d -id-aes"$3"-wrap -K "$2" -iv A6A6A6A6A6A6A6A6 | hexof; }
# jwe_to_idp PUBKEY.pem KID PLAINTEXT -> compact JWE, RSA-OAEP-256 + A128CBC-HS256, cty JWT
jwe_to_idp() {
  local d cek mac ek iv hdr wrapped ct tag
  d=$(mktemp -d "$tmp/jwe.XXXXXX")
  openssl rand 32 >"$d/cek"; openssl rand 16 >"$d/iv"
  cek=$(hexof <"$d/cek"); mac=${cek:0:32}; ek=${cek:32}; iv=$(hexof <"$d/iv")
  hdr=$(b64u_str "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A128CBC-HS256\",\"cty\":\"JWT\",\"kid\":\"$2\"}")
  wrapped=$(openssl pkeyutl -encrypt -pubin -inkey "$1" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
    -pkeyopt rsa_mgf1_md:sha256 -in "$d/cek" | b64u)
  printf %s "$3" | openssl enc -aes-128-cbc -K "$ek" -iv "$iv" >"$d/ct"
  tag=$({ printf %s "$hdr"; cat "$d/iv" "$d/ct"; printf '%016x' $((${#hdr} * 8)) | xxd -r -p; } \
    | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$mac" -binary | head -c 16 | b64u)
  printf '%s.%s.%s.%s.%s' "$hdr" "$wrapped" "$(b64u <"$d/iv")" "$(b64u <"$d/ct")" "$tag"
  rm -rf "$d"
}
# login_flow URL -> final redirect (login as user-1, consent), in a fresh cookie jar
login_flow() {
  local l i logged=0
  rm -f "$JAR"
  l=$(loc "$1")
  for ((i = 0; i < 10; i++)); do
    case "$l" in
      "$ISS"/interaction/*)
        if [ $logged = 0 ]; then
          l=$(loc --data-urlencode prompt=login --data-urlencode login=user-1 --data-urlencode password=any "$l"); logged=1
        else
          l=$(loc --data-urlencode prompt=consent "$l")
        fi ;;
      "$ISS"/*) l=$(loc "$l") ;;
      *) break ;;
    esac
  done
  printf %s "$l"
}
qparam() { sed -n "s/.*[?&]$2=\([^&]*\).*/\1/p" <<<"$1"; }
auth_q() { # auth_q CLIENT [extra] -> authorization URL (code + PKCE, openid email profile)
  printf '%s/auth?client_id=%s&response_type=code&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%2Fcb&scope=openid%%20email%%20profile&state=st-%s&nonce=n-%s&code_challenge=%s&code_challenge_method=S256%s' \
    "$ISS" "$1" "$1" "$1" "$CHALLENGE" "${2:-}"
}
redeem() { # redeem CLIENT SECRET CODE -> token response
  "${CURL[@]}" -u "$1:$2" -d grant_type=authorization_code -d "code=$3" \
    --data-urlencode redirect_uri=http://127.0.0.1/cb -d "code_verifier=$VERIFIER" "$TOKEN_EP"
}

JWKS=$("${CURL[@]}" "$JWKS_URI")
DISCO=$("${CURL[@]}" "$ISS/.well-known/openid-configuration")
has() { node -e 'const d=JSON.parse(process.argv[1]);const v=d[process.argv[2]];process.exit(Array.isArray(v)?(process.argv.slice(3).every((x)=>v.includes(x))?0:1):(String(v)===process.argv[3]?0:1))' "$DISCO" "$@"; }
lacks() { ! has "$@"; }
ENC_ALLS=(RSA-OAEP RSA-OAEP-256 ECDH-ES ECDH-ES+A128KW ECDH-ES+A192KW ECDH-ES+A256KW A128KW A256KW)
ENC_ENCS=(A128GCM A192GCM A256GCM A128CBC-HS256 A192CBC-HS384 A256CBC-HS512)
for what in id_token userinfo authorization introspection; do
  check "discovery: ${what}_encryption_alg_values_supported has every key management alg" has "${what}_encryption_alg_values_supported" "${ENC_ALLS[@]}"
  check "discovery: ${what}_encryption_enc_values_supported has every content encryption" has "${what}_encryption_enc_values_supported" "${ENC_ENCS[@]}"
  check "discovery: ${what}_encryption_alg_values_supported lacks RSA1_5 (oidc-provider has none)" lacks "${what}_encryption_alg_values_supported" RSA1_5
done
for what in id_token userinfo authorization introspection request_object; do
  check "discovery: ${what}_signing_alg_values_supported has ES512" has "${what}_signing_alg_values_supported" ES512
done
check "discovery: request objects (request_parameter_supported)" has request_parameter_supported true
check "discovery: request_object_encryption_alg_values_supported has RSA-OAEP-256 and A128KW" has request_object_encryption_alg_values_supported RSA-OAEP-256 A128KW
check "discovery: backchannel_logout_supported" has backchannel_logout_supported true
check "discovery: backchannel_logout_session_supported" has backchannel_logout_session_supported true
check "discovery: response_modes_supported has jwt and query.jwt" has response_modes_supported jwt query.jwt

ENC_KID=$(js jwk-use "$JWKS" enc kid)
eq "JWKS: the enc key is last and is RSA, alg RSA-OAEP-256" "$(js jwk-use "$JWKS" enc kty) $(js jwk-use "$JWKS" enc alg) $ENC_KID" "RSA RSA-OAEP-256 $KIDS0_ENC"
openssl pkey -in "$tmp/work/keys/enc-rsa.pem" -pubout -out "$tmp/idp-enc.pub" 2>/dev/null
eq "JWKS: the enc key's modulus is keys/enc-rsa.pem's" "$(unb64u "$(js jwk-use "$JWKS" enc n)" | hexof | tr a-f A-F)" \
  "$(openssl rsa -pubin -in "$tmp/idp-enc.pub" -noout -modulus 2>/dev/null | sed 's/^Modulus=//')"
eq "admin /keys enc_kid" "$(js get "$(curl -sS --max-time 5 "$ADMIN/keys")" enc_kid)" "$ENC_KID"

# enc-rsa: ID token RSA-OAEP-256 + A256GCM; UserInfo RSA-OAEP-256 + A128CBC-HS256; JARM RSA-OAEP +
# A256CBC-HS512; introspection RSA-OAEP-256 + A192GCM
L=$(login_flow "$(auth_q enc-rsa)")
TR=$(redeem enc-rsa enc-rsa-secret "$(qparam "$L" code)")
IDT=$(js get "$TR" id_token)
eq "enc-rsa: the ID token is a JWE (5 segments)" "$(nseg "$IDT")" 5
eq "enc-rsa: ID token header alg/enc/cty/kid" "$(js seg "$IDT" 0 alg enc cty kid)" "RSA-OAEP-256 A256GCM JWT enc-rsa"
eq "enc-rsa: the ID token's CEK unwraps with client-keys/enc-rsa.pem (32 bytes)" "$(rsa_unwrap "$IDT" "$KEYS_DIR/enc-rsa.pem" | wc -c)" 64
UI=$("${CURL[@]}" -H "Authorization: Bearer $(js get "$TR" access_token)" "$ISS/me")
eq "enc-rsa: UserInfo is a JWE RSA-OAEP-256 + A128CBC-HS256" "$(nseg "$UI") $(js seg "$UI" 0 alg enc)" "5 RSA-OAEP-256 A128CBC-HS256"
INNER=$(cbc_hs_decrypt "$UI" "$(rsa_unwrap "$UI" "$KEYS_DIR/enc-rsa.pem")")
read -r alg typ kid aud iss sig <<<"$(js jwt "$INNER" "$JWKS")"
eq "enc-rsa: decrypted UserInfo is an RS256 JWT for enc-rsa that verifies" "$alg $aud $iss $sig" "RS256 enc-rsa $ISS sigok"
eq "enc-rsa: decrypted UserInfo sub/email" "$(js seg "$INNER" 1 sub email)" "user-1 user-1@liboidc.test"
L=$(login_flow "$(auth_q enc-rsa '&response_mode=jwt')")
RESP=$(qparam "$L" response)
eq "enc-rsa: JARM (response_mode=jwt) response is a JWE RSA-OAEP + A256CBC-HS512" "$(nseg "$RESP") $(js seg "$RESP" 0 alg enc)" "5 RSA-OAEP A256CBC-HS512"
INNER=$(cbc_hs_decrypt "$RESP" "$(rsa_unwrap "$RESP" "$KEYS_DIR/enc-rsa.pem")")
read -r alg typ kid aud iss sig <<<"$(js jwt "$INNER" "$JWKS")"
eq "enc-rsa: decrypted JARM response is an RS256 JWT that verifies, with state" "$alg $aud $iss $sig $(js seg "$INNER" 1 state)" "RS256 enc-rsa $ISS sigok st-enc-rsa"
TR=$(redeem enc-rsa enc-rsa-secret "$(js seg "$INNER" 1 code)")
check "enc-rsa: the JARM code redeems" test -n "$(js get "$TR" access_token)"
OT=$("$here/get-token.sh" "$ISS" "$CA" svc-basic svc-basic-secret urn:liboidc:opaque read 2>&1)
IJ=$("${CURL[@]}" -u enc-rsa:enc-rsa-secret -H 'Accept: application/token-introspection+jwt' --data-urlencode "token=$OT" "$ISS/token/introspection")
eq "enc-rsa: RFC 9701 introspection response is a JWE RSA-OAEP-256 + A192GCM" "$(nseg "$IJ") $(js seg "$IJ" 0 alg enc)" "5 RSA-OAEP-256 A192GCM"
eq "enc-rsa: the introspection CEK unwraps (24 bytes)" "$(rsa_unwrap "$IJ" "$KEYS_DIR/enc-rsa.pem" | wc -c)" 48

# enc-ec: ID token ECDH-ES+A128KW + A128CBC-HS256, UserInfo ECDH-ES + A256GCM (headers only here)
L=$(login_flow "$(auth_q enc-ec)")
TR=$(redeem enc-ec enc-ec-secret "$(qparam "$L" code)")
IDT=$(js get "$TR" id_token)
eq "enc-ec: ID token JWE ECDH-ES+A128KW + A128CBC-HS256 to kid enc-ec, with an epk" \
  "$(nseg "$IDT") $(js seg "$IDT" 0 alg enc kid epk.crv)" "5 ECDH-ES+A128KW A128CBC-HS256 enc-ec P-256"
UI=$("${CURL[@]}" -H "Authorization: Bearer $(js get "$TR" access_token)" "$ISS/me")
eq "enc-ec: UserInfo JWE ECDH-ES + A256GCM (empty encrypted key)" "$(nseg "$UI") $(js seg "$UI" 0 alg enc) [$(seg "$UI" 2)]" "5 ECDH-ES A256GCM []"

# enc-sym: keys derived from the client secret (OIDC Core 10.2: leftmost bits of SHA-256)
SYM_SECRET=enc-sym-secret-0123456789abcdef0123456789abcdef0123456789abcdef
SYM_SHA=$(printf %s "$SYM_SECRET" | openssl dgst -sha256 -binary | hexof)
L=$(login_flow "$(auth_q enc-sym)")
TR=$(redeem enc-sym "$SYM_SECRET" "$(qparam "$L" code)")
IDT=$(js get "$TR" id_token)
eq "enc-sym: ID token JWE A128KW + A128GCM" "$(nseg "$IDT") $(js seg "$IDT" 0 alg enc)" "5 A128KW A128GCM"
eq "enc-sym: its CEK unwraps with SHA-256(secret)[0..16] (16 bytes)" "$(aes_unwrap "$IDT" "${SYM_SHA:0:32}" 128 | wc -c)" 32
UI=$("${CURL[@]}" -H "Authorization: Bearer $(js get "$TR" access_token)" "$ISS/me")
eq "enc-sym: UserInfo JWE A256KW + A256CBC-HS512" "$(nseg "$UI") $(js seg "$UI" 0 alg enc)" "5 A256KW A256CBC-HS512"
INNER=$(cbc_hs_decrypt "$UI" "$(aes_unwrap "$UI" "$SYM_SHA" 256)")
read -r alg typ kid aud iss sig <<<"$(js jwt "$INNER" "$JWKS")"
eq "enc-sym: decrypted UserInfo is an RS256 JWT that verifies" "$alg $aud $sig $(js seg "$INNER" 1 sub)" "RS256 enc-sym sigok user-1"

# ES512: ID tokens of es512-app, access tokens for urn:liboidc:es512 (checked with the resources)
L=$(login_flow "$(auth_q es512-app)")
TR=$(redeem es512-app es512-app-secret "$(qparam "$L" code)")
read -r alg typ kid aud iss sig <<<"$(js jwt "$(js get "$TR" id_token)" "$JWKS")"
eq "es512-app: ES512 ID token with the P-521 key verifies" "$alg $kid $aud $sig" "ES512 $KIDS0_P521 es512-app sigok"

# back-channel logout: log in to bcl-app, RP-initiated logout, the receiver gets a logout token
curl -sS --max-time 5 -X POST "$ADMIN/backchannel/reset" >/dev/null
L=$(login_flow "$(auth_q bcl-app)")
TR=$(redeem bcl-app bcl-app-secret "$(qparam "$L" code)")
IDT=$(js get "$TR" id_token)
SID=$(js seg "$IDT" 1 sid)
check "bcl-app: the ID token carries sid" test -n "$SID"
PAGE=$("${CJ[@]}" "$ISS/session/end?id_token_hint=$IDT&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%2Flogout-cb&state=lo-1")
XSRF=$(sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p' <<<"$PAGE")
L=$(loc --data-urlencode "xsrf=$XSRF" --data-urlencode logout=yes "$ISS/session/end/confirm")
eq "bcl-app: logout confirmed, redirect to post_logout_redirect_uri" "$L" "http://127.0.0.1/logout-cb?state=lo-1"
BC=$(curl -sS --max-time 5 "$ADMIN/backchannel")
eq "bcl-app: the receiver recorded one logout token" "$(js len "$BC")" 1
LT=$(js get "$BC" 0.logout_token)
read -r alg typ kid aud iss sig <<<"$(js jwt "$LT" "$JWKS")"
eq "logout token: RS256, typ logout+jwt, aud bcl-app, verifies" "$alg $typ $aud $iss $sig" "RS256 logout+jwt bcl-app $ISS sigok"
eq "logout token: sub, sid of the session, no nonce" "$(js seg "$LT" 1 sub sid) [$(js seg "$LT" 1 nonce)]" "user-1 $SID []"
eq "logout token: events has the back-channel logout member" "$(js seg "$LT" 1 'events')" '{"http://schemas.openid.net/event/backchannel-logout":{}}'
eq "logout token: jti, iat, exp present" "$(js seg "$LT" 1 jti iat exp | wc -w | tr -d ' ')" 3
curl -sS --max-time 5 -X POST "$ADMIN/backchannel/reset" >/dev/null
eq "POST /backchannel/reset empties the list" "$(curl -sS --max-time 5 "$ADMIN/backchannel")" "[]"

# request objects (jar-app): PS256 with client-keys/rsa.pem (kid client-rsa), optionally encrypted
# to the IdP's enc key; at /auth and at PAR. Every parameter goes inside the request object.
ro() { # ro STATE -> request object claims
  local now; now=$(date +%s)
  printf '{"iss":"jar-app","aud":"%s","client_id":"jar-app","response_type":"code","redirect_uri":"http://127.0.0.1/cb","scope":"openid email","state":"%s","nonce":"n-%s","code_challenge":"%s","code_challenge_method":"S256","iat":%d,"nbf":%d,"exp":%d,"jti":"%s-%s"}' \
    "$ISS" "$1" "$1" "$CHALLENGE" "$now" "$now" $((now + 300)) "$1" "$RANDOM"
}
RO_HDR='{"alg":"PS256","kid":"client-rsa","typ":"oauth-authz-req+jwt"}'
JWS=$(sign_ps256 "$KEYS_DIR/rsa.pem" "$RO_HDR" "$(ro jar-1)")
L=$(login_flow "$ISS/auth?client_id=jar-app&request=$JWS")
check "jar-app: a signed request object is accepted at /auth (code, state from the object)" grep -q '^http://127.0.0.1/cb?code=.*state=jar-1' <<<"$L"
check "jar-app: its code redeems" test -n "$(js get "$(redeem jar-app jar-app-secret "$(qparam "$L" code)")" id_token)"
JWE=$(jwe_to_idp "$tmp/idp-enc.pub" "$ENC_KID" "$(sign_ps256 "$KEYS_DIR/rsa.pem" "$RO_HDR" "$(ro jar-2)")")
L=$(login_flow "$ISS/auth?client_id=jar-app&request=$JWE")
check "jar-app: a request object encrypted to the IdP enc key (RSA-OAEP-256) is accepted at /auth" grep -q '^http://127.0.0.1/cb?code=.*state=jar-2' <<<"$L"
PAR=$("${CURL[@]}" -u jar-app:jar-app-secret --data-urlencode "request=$(sign_ps256 "$KEYS_DIR/rsa.pem" "$RO_HDR" "$(ro jar-3)")" "$ISS/request")
L=$(login_flow "$ISS/auth?client_id=jar-app&request_uri=$(js get "$PAR" request_uri)")
check "jar-app: a signed request object is accepted at PAR" grep -q '^http://127.0.0.1/cb?code=.*state=jar-3' <<<"$L"
JWE=$(jwe_to_idp "$tmp/idp-enc.pub" "$ENC_KID" "$(sign_ps256 "$KEYS_DIR/rsa.pem" "$RO_HDR" "$(ro jar-4)")")
PAR=$("${CURL[@]}" -u jar-app:jar-app-secret --data-urlencode "request=$JWE" "$ISS/request")
L=$(login_flow "$ISS/auth?client_id=jar-app&request_uri=$(js get "$PAR" request_uri)")
check "jar-app: an encrypted request object is accepted at PAR" grep -q '^http://127.0.0.1/cb?code=.*state=jar-4' <<<"$L"
L=$(login_flow "$(auth_q jar-app)")
eq "jar-app: a plain authorization request is refused" "$(qparam "$L" error)" invalid_request
PAR=$("${CURL[@]}" -u jar-app:jar-app-secret -d response_type=code --data-urlencode redirect_uri=http://127.0.0.1/cb \
  -d scope=openid -d "code_challenge=$CHALLENGE" -d code_challenge_method=S256 "$ISS/request")
eq "jar-app: a plain PAR is refused" "$(js get "$PAR" error)" invalid_request
BAD=$(sign_ps256 "$KEYS_DIR/enc-rsa.pem" "$RO_HDR" "$(ro jar-5)")
L=$(login_flow "$ISS/auth?client_id=jar-app&request=$BAD")
eq "jar-app: a request object signed with another key is refused" "$(qparam "$L" error)" invalid_request_object
JWE=$(jwe_to_idp "$tmp/idp-enc.pub" "$ENC_KID" "$(sign_ps256 "$KEYS_DIR/rsa.pem" "$RO_HDR" "$(ro jar-6)")")
L=$(login_flow "$ISS/auth?client_id=jar-app&request=${JWE%.*}.AAAAAAAAAAAAAAAAAAAAAA")
eq "jar-app: an encrypted request object with a bad tag is refused" "$(qparam "$L" error)" invalid_request_object

# --- rotation -----------------------------------------------------------------
ROT=$(curl -sS --max-time 15 -X POST "$ADMIN/rotate")
NEW_RSA=$(js get "$ROT" kids.RS256)
NEW_EC=$(js get "$ROT" kids.ES256)
NEW_ED=$(js get "$ROT" kids.EdDSA)
NEW_P521=$(js get "$ROT" kids.ES512)
ne "rotate returns a new RSA kid" "$NEW_RSA" "${KID0[urn:liboidc:rs256]}"
ne "rotate returns a new EC kid" "$NEW_EC" "${KID0[urn:liboidc:es256]}"
ne "rotate returns a new Ed25519 kid" "$NEW_ED" "${KID0[urn:liboidc:eddsa]}"
JWKS1=$("${CURL[@]}" "$JWKS_URI")
KIDS1=$(js kids "$JWKS1")
eq "JWKS after rotate: new keys first, old keys kept, then P-521 keys, then the enc key" "$KIDS1" "$NEW_RSA $NEW_EC $NEW_ED $KIDS0_SIG3 $NEW_P521 $KIDS0_P521 $KIDS0_ENC"
eq "rotate's published_kids is the JWKS order" "$(js get "$ROT" published_kids | tr -d '[]"' | tr ',' ' ')" "$KIDS1"
declare -A NEWKID=([urn:liboidc:rs256]=$NEW_RSA [urn:liboidc:ps256]=$NEW_RSA [urn:liboidc:es256]=$NEW_EC [urn:liboidc:eddsa]=$NEW_ED [urn:liboidc:es512]=$NEW_P521)
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
eq "rotate?drop_old=1 publishes only the new keys (and the enc key)" "$KIDS2" "$(js get "$ROT2" kids.RS256) $(js get "$ROT2" kids.ES256) $(js get "$ROT2" kids.EdDSA) $(js get "$ROT2" kids.ES512) $KIDS0_ENC"
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
