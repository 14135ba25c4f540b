#!/usr/bin/env bash
# The scripted browser and the CIBA "authentication device" for the C tests against the test
# IdP (see tests/idp/README.md). Needs OIDC_TEST_ISSUER, OIDC_TEST_CA_FILE, OIDC_TEST_ADMIN.
#
#   idp_browser.sh login AUTH_URL      log in as user-1, consent; prints the final redirect URL
#   idp_browser.sh device USER_CODE    approve a device authorization
#   idp_browser.sh ciba AUTH_REQ_ID [deny]   approve (or deny) a CIBA request
#   idp_browser.sh stat PATH           the IdP's request count for PATH (admin /stats)
set -euo pipefail
: "${OIDC_TEST_ISSUER:?}" "${OIDC_TEST_CA_FILE:?}"
jar=$(mktemp)
trap 'rm -f "$jar" "$jar.body"' EXIT
C=(curl --silent --show-error --max-time 10 --cacert "$OIDC_TEST_CA_FILE" -b "$jar" -c "$jar")
loc() { "${C[@]}" -o "$jar.body" -w '%{redirect_url}' "$@"; }
xsrf() { sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p'; }
abs() { case $1 in /*) echo "$OIDC_TEST_ISSUER$1" ;; *) echo "$1" ;; esac; }

# Follow interactions from $1: the first one logs in, later ones consent; stop when a redirect
# leaves the issuer (print it) or a page has no redirect (print that page's URL).
interact() {
  local url=$1 logged_in=0 next i
  for i in $(seq 20); do
    if [[ $url == *"/interaction/"* ]]; then
      if [ $logged_in = 0 ]; then
        next=$(loc --data-urlencode prompt=login --data-urlencode login=user-1 --data-urlencode password=x "$url")
        logged_in=1
      else
        next=$(loc --data-urlencode prompt=consent "$url")
      fi
    else
      next=$(loc "$url")
    fi
    [ -n "$next" ] || { echo "$url"; return 0; }
    next=$(abs "$next")
    [[ $next == "$OIDC_TEST_ISSUER"* ]] || { echo "$next"; return 0; }
    url=$next
  done
  echo "too many redirects" >&2
  return 1
}

case ${1:-} in
  login) interact "$2" ;;
  device)
    x=$("${C[@]}" "$OIDC_TEST_ISSUER/device" | xsrf)
    x=$("${C[@]}" --data-urlencode "xsrf=$x" --data-urlencode "user_code=$2" "$OIDC_TEST_ISSUER/device" | xsrf)
    l=$(loc --data-urlencode "xsrf=$x" --data-urlencode "user_code=$2" --data-urlencode confirm=yes "$OIDC_TEST_ISSUER/device")
    interact "$(abs "$l")" >/dev/null
    grep -q 'Sign-in Success' "$jar.body"
    ;;
  ciba)
    q="auth_req_id=$(printf %s "$2" | jq -sRr @uri 2>/dev/null || printf %s "$2")"
    [ "${3:-}" = deny ] && q="$q&deny=1"
    curl --silent --show-error --max-time 10 -X POST "$OIDC_TEST_ADMIN/ciba/approve?$q" | grep '"ok":true' >/dev/null
    ;;
  stat)
    curl --silent --show-error --max-time 10 "$OIDC_TEST_ADMIN/stats" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["paths"].get(sys.argv[1], 0))' "$2"
    ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
