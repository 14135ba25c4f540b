#!/usr/bin/env bash
# Tests of the `oidc` command-line tool, every subcommand, against the real IdP (tests/idp,
# oidc-provider over TLS) and the fault fixture (oidc-testkit), both started by
# scripts/servers.sh. Checks exit codes, the --json output shape, and that no secret (client
# secret, refresh token, token signature) appears in any output or error.
#
#   cli/tests/run.sh            (builds the CLI with cargo unless OIDC_CLI is set)
#
# Inputs: OIDC_CLI (the oidc binary), OIDC_TESTKIT_BIN (see scripts/servers.sh), OIDC_NODE.
# Last line: "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
die() { echo "run.sh: $*" >&2; echo "$pass passed, $((fail + 1)) failed"; exit 1; }

if [ -z "${OIDC_CLI:-}" ]; then
    (cd "$repo" && cargo build -q -p oidc-cli) || die "cargo build -p oidc-cli failed"
    OIDC_CLI="${CARGO_TARGET_DIR:-$repo/target}/debug/oidc"
fi
command -v jq >/dev/null || die "jq is required (scripts/setup.sh installs it)"

. "$repo/scripts/servers.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/oidc-cli-tests.XXXXXX")
on_exit 'rm -rf "$work"'

# run NAME EXPECTED_EXIT ARGS...: run the CLI; stdout in $out, stderr in $err, exit code in $rc.
run() {
    local name=$1 want=$2; shift 2
    out=$("$OIDC_CLI" "$@" 2>"$work/stderr"); rc=$?
    err=$(cat "$work/stderr")
    if [ "$rc" = "$want" ]; then ok "$name: exit $rc"; else bad "$name: exit $rc, expected $want; stdout: ${out:0:400} stderr: ${err:0:400}"; fi
}
# has NAME TEXT: $out or $err contains TEXT.
has() { case "$out$err" in *"$2"*) ok "$1" ;; *) bad "$1: no '$2' in: ${out:0:600} ${err:0:600}" ;; esac; }
# jqt NAME FILTER: the JSON on stdout satisfies FILTER (jq -e).
jqt() { if printf '%s' "$out" | jq -e "$2" >/dev/null 2>&1; then ok "$1"; else bad "$1: jq '$2' fails on: ${out:0:600}"; fi; }
# secret_free NAME SECRET...: none of the secrets appears in stdout or stderr.
secret_free() {
    local name=$1 s; shift
    for s in "$@"; do
        [ -n "$s" ] || continue
        case "$out$err" in *"$s"*) bad "$name: a secret appears in the output"; return ;; esac
    done
    ok "$name: no secret in the output"
}
sig_of() { printf '%s' "${1##*.}"; }

# ---------------------------------------------------------------- fixture (oidc-testkit)
start_fixture || die "the fixture did not start"
FI=$FIXTURE_ISSUER FCA=$FIXTURE_CA_FILE FADM=$FIXTURE_ADMIN
mint() { curl -sf "$FADM/token?$1"; }
tok=$(mint "alg=RS256&aud=api&exp_in=300&scope=read%20write") || die "fixture /token failed"
sig=$(sig_of "$tok")

# decode
run "decode" 0 decode "$tok"
has "decode: marked UNVERIFIED" "UNVERIFIED"
has "decode: shows the claims" "\"aud\": \"api\""
secret_free "decode" "$sig"
run "decode --json" 0 --json decode "$tok"
jqt "decode --json shape" '.ok == true and .verified == false and .header.alg == "RS256" and .claims.aud == "api" and (.signature_bytes > 0)'
out=$(printf 'Bearer %s\n' "$tok" | "$OIDC_CLI" decode 2>"$work/stderr"); rc=$?; err=$(cat "$work/stderr")
[ "$rc" = 0 ] && ok "decode: from stdin with a Bearer prefix" || bad "decode from stdin: exit $rc"
has "decode: names the removed prefix" "removed the 'Bearer' prefix"
run "decode: not a JWS" 1 decode "abc.def"
has "decode: says how many segments" "three segments"

# validate: discovery, JWKS URL, JWKS file
run "validate via discovery" 0 --ca-file "$FCA" validate --issuer "$FI" --audience api "$tok"
has "validate: VALID" "VALID"
has "validate: names the key set used" "key set: $FI/jwks"
has "validate: names the token's kid" "kid 'rs256-g1'"
secret_free "validate" "$sig"
run "validate --json" 0 --json --ca-file "$FCA" validate --issuer "$FI" --jwks-uri "$FI/jwks" --audience api --require-scope read "$tok"
jqt "validate --json shape" '.ok == true and .valid == true and .alg == "RS256" and .claims.aud == "api" and (.trace | length > 2)'
curl -sf --cacert "$FCA" "$FI/jwks" >"$work/jwks.json" || die "cannot fetch the fixture's JWKS"
run "validate with a JWKS file" 0 validate --issuer "$FI" --jwks-file "$work/jwks.json" --audience api "$tok"
run "validate: audience mismatch" 1 --ca-file "$FCA" validate --issuer "$FI" --audience other-api "$tok"
has "audience mismatch names both audiences" "token audience 'api' does not match the configured audience(s) 'other-api'"
run "validate: trailing slash" 1 --ca-file "$FCA" validate --issuer "$FI/" --jwks-uri "$FI/jwks" --audience api "$tok"
has "issuer mismatch hints at the trailing slash" "differ only by a trailing slash"
run "validate --json: audience mismatch" 1 --json --ca-file "$FCA" validate --issuer "$FI" --audience x "$tok"
jqt "rejection --json shape" '.ok == false and .error.kind == "AudienceMismatch" and .error.exit_code == 1 and (.error.trace | length > 0)'
expired=$(mint "alg=ES256&aud=api&exp_in=-600&iat_in=-1200&nbf_in=-1200")
run "validate: expired" 1 --ca-file "$FCA" validate --issuer "$FI" --audience api "$expired"
has "expired: names the times" "token expired at"
exp=$("$OIDC_CLI" --json decode "$expired" | jq -r .claims.exp)
run "validate --at before expiry" 0 --ca-file "$FCA" validate --issuer "$FI" --audience api --at $((exp - 100)) "$expired"
run "validate --leeway covers the skew" 0 --ca-file "$FCA" validate --issuer "$FI" --audience api --leeway 900 "$expired"
run "validate: typ" 1 --ca-file "$FCA" validate --issuer "$FI" --audience api --typ jwt "$tok"
run "validate: required claim" 1 --ca-file "$FCA" validate --issuer "$FI" --audience api --require-claim email "$tok"
run "validate: required scope missing" 1 --ca-file "$FCA" validate --issuer "$FI" --audience api --require-scope admin "$tok"
has "missing scope named" "'admin'"
run "validate: algorithm not allowed" 1 --ca-file "$FCA" validate --issuer "$FI" --audience api --alg ES256 "$tok"
run "validate: Bearer prefix" 1 --ca-file "$FCA" validate --issuer "$FI" --audience api "Bearer $tok"
has "Bearer prefix named" "token starts with 'Bearer '"
secret_free "validate: Bearer prefix" "$sig"
run "validate: unknown kid" 1 --ca-file "$FCA" validate --issuer "$FI" --audience api "$(mint 'alg=RS256&aud=api&kid=gone-key')"
has "unknown kid named" "no key with kid 'gone-key'"
run "validate: config error (http issuer)" 3 validate --issuer "http://127.0.0.1:1" --audience api "$tok"
run "validate: no audience" 3 --ca-file "$FCA" validate --issuer "$FI" "$tok"
has "no audience: says what to fix" "at least one audience is required"
run "validate: wrong CA" 4 --ca-file "$FIXTURE_WRONG_CA_FILE" validate --issuer "$FI" --audience api "$tok"
run "validate: unresolvable host" 4 validate --issuer "https://no-such-host.invalid" --audience api "$tok"
has "unresolvable host said" "cannot resolve the host name"
run "validate: usage error" 2 validate --no-such-flag

# discover / jwks
run "discover" 0 --ca-file "$FCA" discover --issuer "$FI"
has "discover: jwks_uri" "jwks_uri: $FI/jwks"
run "discover --json" 0 --json --ca-file "$FCA" discover --issuer "$FI"
jqt "discover --json shape" ".ok == true and .issuer == \"$FI\" and .jwks_uri == \"$FI/jwks\" and (.document | type == \"object\")"
run "discover: trailing slash" 4 --ca-file "$FCA" discover --issuer "$FI/"
has "discover: both issuers shown" "is not the configured issuer '$FI/'"
curl -sf -X POST "$FADM/fault?path=/.well-known/openid-configuration&mode=garbage&count=1" >/dev/null
run "discover: garbage document" 4 --ca-file "$FCA" discover --issuer "$FI"
has "discover: says it is not JSON" "not valid JSON"
curl -sf -X POST "$FADM/fault?path=/.well-known/openid-configuration&mode=503&count=1" >/dev/null
run "discover: 503" 4 --json --ca-file "$FCA" discover --issuer "$FI"
jqt "discover 503 --json" '.ok == false and .error.kind == "HttpStatus"'
run "jwks via issuer" 0 --ca-file "$FCA" jwks --issuer "$FI"
has "jwks: lists the RS256 key" "usable  'rs256-g1'"
run "jwks --json" 0 --json --ca-file "$FCA" jwks --jwks-uri "$FI/jwks"
jqt "jwks --json shape" '.ok == true and (.keys | length >= 4) and (.refused | type == "array")'
printf '{"keys":[{"kty":"RSA","kid":"tiny","n":"AQAB","e":"AQAB"},{"kty":"EC","kid":"enc","use":"enc","crv":"P-256","x":"AA","y":"AA"}]}' >"$work/bad-jwks.json"
run "jwks: refused keys explained" 0 jwks --file "$work/bad-jwks.json"
has "jwks: a refused key and why" "refused 'tiny'"
has "jwks: no usable key warned" "no usable key"
printf '{"keys":{}}' >"$work/not-jwks.json"
run "jwks: invalid document" 4 jwks --file "$work/not-jwks.json"
curl -sf -X POST "$FADM/fault?path=/jwks&mode=truncate&count=1" >/dev/null
run "jwks: truncated body" 4 --ca-file "$FCA" jwks --jwks-uri "$FI/jwks"

# authenticate
run "authenticate: Bearer allowed" 0 --ca-file "$FCA" authenticate --issuer "$FI" --audience api --url https://api.test/x -H "Authorization: Bearer $tok"
has "authenticate: ALLOWED" "ALLOWED (Bearer token)"
run "authenticate --json: no token" 1 --json --ca-file "$FCA" authenticate --issuer "$FI" --audience api --url https://api.test/x
jqt "authenticate --json denial" '.ok == false and .error.kind == "TokenMissing" and .error.status == 401 and (.error.www_authenticate | length >= 1)'
run "authenticate: DPoP required, Bearer sent" 1 --ca-file "$FCA" authenticate --issuer "$FI" --audience api --dpop required --url https://api.test/x -H "Authorization: Bearer $tok"
secret_free "authenticate" "$sig"
run "authenticate: DPoP scheme with a malformed proof" 1 --json --ca-file "$FCA" authenticate --issuer "$FI" --audience api -X POST --url https://api.test/x -H "Authorization: DPoP $tok" -H "DPoP: not-a-proof"
jqt "DPoP malformed proof: 401 invalid_dpop_proof" '.error.status == 401 and ([.error.www_authenticate[] | contains("invalid_dpop_proof")] | any)'
secret_free "authenticate DPoP" "$sig"

# policy documents (the library parses them: one file for every language) and --explain
printf '{"version": 1, "issuer": "%s", "audiences": ["api"], "algorithms": ["RS256", "ES256"], "resource": {"required_scopes": ["read"]}}' "$FI" >"$work/policy.json"
run "validate --policy" 0 --ca-file "$FCA" validate --policy "$work/policy.json" "$tok"
has "validate --policy: names the document" "policy: document $work/policy.json"
printf '{"version": 1, "issuer": "%s", "audiences": ["other-api"]}' "$FI" >"$work/policy-aud.json"
run "validate --policy: the document's audience decides" 1 --ca-file "$FCA" validate --policy "$work/policy-aud.json" "$tok"
has "validate --policy: audience mismatch named" "configured audience(s) 'other-api'"
printf '{"version": 1, "issuer": "%s", "audiencez": ["api"]}' "$FI" >"$work/policy-bad.json"
run "validate --policy: unknown member" 3 --ca-file "$FCA" validate --policy "$work/policy-bad.json" "$tok"
has "malformed policy names the JSON path" '$.audiencez'
run "validate --policy with --issuer: usage error" 2 validate --policy "$work/policy.json" --issuer "$FI" "$tok"
run "validate --explain --json" 0 --json --ca-file "$FCA" validate --issuer "$FI" --audience api --explain "$tok"
jqt "explain: every check listed, issuer chosen" '.explain.checks | length > 3'
jqt "explain: all checks pass for a valid token" '[.explain.checks[] | select(.outcome == "fail")] | length == 0'
secret_free "validate --explain" "$sig"
run "validate --explain: expired" 1 --json --ca-file "$FCA" validate --issuer "$FI" --audience other --explain "$expired"
jqt "explain: the expiry and the audience both fail (not only the first)" '[.error.explain.checks[] | select(.outcome == "fail")] | length >= 2'
run "validate --explain (human)" 1 --ca-file "$FCA" validate --issuer "$FI" --audience other --explain "$expired"
has "explain (human): one line per check" "explain: "
printf '{"version": 1, "issuer": "%s", "audiences": ["api"], "resource": {"required_scopes": ["admin"]}}' "$FI" >"$work/policy-admin.json"
run "authenticate --policy --explain: scope refused" 1 --json --ca-file "$FCA" authenticate --policy "$work/policy-admin.json" --explain --url https://api.test/x -H "Authorization: Bearer $tok"
jqt "authenticate --policy: 403 insufficient_scope" '.error.status == 403 and ([.error.www_authenticate[] | contains("insufficient_scope")] | any)'
jqt "authenticate --explain: the scope check fails" '[.error.explain.checks[] | select(.outcome == "fail") | .check] | any(test("scope"))'
secret_free "authenticate --explain" "$sig"
run "authenticate: expired" 1 --json --ca-file "$FCA" authenticate --issuer "$FI" --audience api --url https://api.test/x -H "Authorization: Bearer $expired"
jqt "authenticate expired: 401 invalid_token" '.error.status == 401 and (.error.www_authenticate[0] | contains("invalid_token"))'

# snapshot
run "snapshot export" 0 --ca-file "$FCA" snapshot export --issuer "$FI" -o "$work/snap.json"
has "snapshot export: says what it wrote" "1 key set(s), 1 metadata document(s)"
[ "$(jq '.key_sets | length' "$work/snap.json")" -ge 1 ] && ok "snapshot holds a key set" || bad "snapshot holds no key set"
run "snapshot import" 0 --json snapshot import "$work/snap.json"
jqt "snapshot import --json" '.ok == true and .imported >= 1'
# Warm start: the issuer's discovery and JWKS fail now; the snapshot carries the validation.
curl -sf -X POST "$FADM/fault?path=/jwks&mode=500&count=50" >/dev/null
curl -sf -X POST "$FADM/fault?path=/.well-known/openid-configuration&mode=500&count=50" >/dev/null
run "validate with --snapshot while the issuer fails" 0 --ca-file "$FCA" validate --issuer "$FI" --audience api --snapshot "$work/snap.json" "$tok"
run "validate without the snapshot fails" 4 --ca-file "$FCA" validate --issuer "$FI" --audience api "$tok"
printf '{"version":1,"key_sets":[{"jwks_uri":"x"' >"$work/broken-snap.json"
run "snapshot import: broken file" 3 snapshot import "$work/broken-snap.json"
run "snapshot import: missing file" 3 snapshot import "$work/nope.json"
curl -sf -X POST "$FADM/fault?path=/jwks&mode=ok" >/dev/null
curl -sf -X POST "$FADM/fault?path=/.well-known/openid-configuration&mode=ok" >/dev/null

# ---------------------------------------------------------------- the real IdP (oidc-provider)
if start_idp; then
    II=$IDP_ISSUER ICA=$IDP_CA_FILE
    secret=svc-basic-secret
    printf '%s\n' "$secret" >"$work/secret"
    run "token client-credentials" 0 --ca-file "$ICA" token client-credentials --issuer "$II" --client-id svc-basic --client-secret-file "$work/secret" --resource urn:liboidc:rs256 --scope read
    at=$out
    secret_free "token client-credentials" "$secret"
    OIDC_CLIENT_SECRET=svc-post-secret run "token client-credentials --json (secret from the environment)" 0 --json --ca-file "$ICA" token client-credentials --issuer "$II" --client-id svc-post --auth-method client_secret_post --resource urn:liboidc:es256 --scope read
    secret_free "token from the environment's secret" svc-post-secret
    jqt "token --json shape" '.ok == true and (.access_token | length > 20) and .token_type == "Bearer" and (.expires_in > 0)'
    at_es=$(printf '%s' "$out" | jq -r .access_token)
    run "validate an IdP token" 0 --ca-file "$ICA" validate --issuer "$II" --audience urn:liboidc:rs256 --require-scope read "$at"
    has "validate IdP: names the discovered JWKS" "jwks_uri"
    secret_free "validate IdP" "$(sig_of "$at")"
    run "validate an IdP ES256 token --json" 0 --json --ca-file "$ICA" validate --issuer "$II" --audience urn:liboidc:es256 --alg ES256 "$at_es"
    jqt "IdP token claims" ".claims.iss == \"$II\" and .alg == \"ES256\""
    run "validate IdP: wrong audience" 1 --ca-file "$ICA" validate --issuer "$II" --audience urn:liboidc:ps256 "$at"
    has "IdP audience mismatch named" "token audience 'urn:liboidc:rs256'"
    run "discover the IdP" 0 --ca-file "$ICA" discover --issuer "$II"
    has "IdP: device endpoint" "device_authorization_endpoint"
    run "jwks of the IdP" 0 --json --ca-file "$ICA" jwks --issuer "$II"
    jqt "IdP jwks" '(.keys | length >= 3) and ([.keys[].family] | index("Ed25519") != null)'
    run "authenticate an IdP token" 0 --ca-file "$ICA" authenticate --issuer "$II" --audience urn:liboidc:rs256 --url https://api.test/ -H "Authorization: Bearer $at"
    run "token: wrong secret" 5 --json --ca-file "$ICA" token client-credentials --issuer "$II" --client-id svc-basic --client-secret not-the-secret
    jqt "wrong secret --json: invalid_client" '.ok == false and .error.kind == "InvalidClient" and .error.oauth_error == "invalid_client"'
    secret_free "token: wrong secret" "not-the-secret"
    printf 'not-a-refresh-token-0123456789\n' >"$work/rt"
    run "token refresh: unknown refresh token" 5 --ca-file "$ICA" token refresh --issuer "$II" --client-id device-app --refresh-token-file "$work/rt"
    has "refresh: invalid_grant" "invalid_grant"
    secret_free "token refresh" "not-a-refresh-token-0123456789"
    run "token device: prints the user code, polls, gives up at the deadline" 6 --ca-file "$ICA" token device --issuer "$II" --client-id device-app --scope openid --poll-timeout 3
    has "device: user code printed" "enter the code: "
    has "device: verification URI printed" "$II/device"
    # The whole device flow: the CLI polls while the scripted browser approves the user code;
    # then the refresh token it got is refreshed (both only through the CLI).
    "$OIDC_CLI" --json --ca-file "$ICA" token device --issuer "$II" --client-id device-app --scope "openid offline_access" \
        --poll-timeout 60 >"$work/device.out" 2>"$work/device.err" &
    dev_pid=$!
    code=""
    for _ in $(seq 100); do
        code=$(sed -n 's/.*enter the code: \([^ ]*\).*/\1/p' "$work/device.err" | head -n1)
        [ -n "$code" ] && break
        sleep 0.1
    done
    if [ -n "$code" ] && OIDC_TEST_ISSUER=$II OIDC_TEST_CA_FILE=$ICA OIDC_TEST_ADMIN=$IDP_ADMIN \
        bash "$repo/tests/c/idp_browser.sh" device "$code" >/dev/null 2>"$work/browser.err"; then
        ok "device: the user code approved in the browser"
    else
        bad "device: no user code or approval failed: $(cat "$work/device.err" "$work/browser.err" 2>/dev/null | head -c 400)"
    fi
    wait "$dev_pid"; rc=$?
    out=$(cat "$work/device.out"); err=$(cat "$work/device.err")
    [ "$rc" = 0 ] && ok "token device: approved, exit 0" || bad "token device: exit $rc: ${out:0:300} ${err:0:300}"
    jqt "device --json: access and refresh token" '.ok == true and (.access_token | length > 20) and (.refresh_token | length > 10)'
    rt=$(printf '%s' "$out" | jq -r '.refresh_token // empty')
    printf '%s\n' "$rt" >"$work/rt-good"
    run "token refresh: the device flow's refresh token" 0 --json --ca-file "$ICA" token refresh --issuer "$II" --client-id device-app --refresh-token-file "$work/rt-good"
    jqt "refresh --json: a new access token" '.ok == true and (.access_token | length > 20)'
    secret_free "token refresh (good)" "$rt"
    run "snapshot export from the IdP" 0 --json --ca-file "$ICA" snapshot export --issuer "$II" -o "$work/idp-snap.json"
    jqt "IdP snapshot --json" '.ok == true and .key_sets == 1 and .metadata == 1'
    run "validate offline from the IdP snapshot" 0 --ca-file "$ICA" validate --issuer "$II" --audience urn:liboidc:rs256 --snapshot "$work/idp-snap.json" "$at"
else
    bad "the IdP did not start (tests/idp: run scripts/setup.sh)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
