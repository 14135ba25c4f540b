#!/usr/bin/env bash
# Client-credentials token request against the test IdP; prints the access_token.
#
# usage: get-token.sh ISSUER CA_FILE CLIENT_ID CLIENT_SECRET [RESOURCE] [SCOPE] [basic|post]
#   e.g. get-token.sh https://127.0.0.1:PORT /tmp/idp/ca.pem svc-basic svc-basic-secret urn:liboidc:rs256 "read write"
# RESOURCE and SCOPE may be empty strings to leave them out. Auth method defaults
# to basic (client_secret_basic); "post" sends the secret in the body.
set -euo pipefail

if [ $# -lt 4 ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
issuer=${1%/}
ca=$2
client_id=$3
client_secret=$4
resource=${5:-}
scope=${6:-}
method=${7:-basic}

args=(--silent --show-error --cacert "$ca" --max-time 15
      --data-urlencode grant_type=client_credentials)
[ -n "$resource" ] && args+=(--data-urlencode "resource=$resource")
[ -n "$scope" ] && args+=(--data-urlencode "scope=$scope")
case "$method" in
  basic) args+=(--user "$client_id:$client_secret") ;;
  post) args+=(--data-urlencode "client_id=$client_id" --data-urlencode "client_secret=$client_secret") ;;
  *) echo "unknown auth method: $method (basic|post)" >&2; exit 2 ;;
esac

# the token endpoint is $issuer/token (also advertised in discovery)
response=$(curl "${args[@]}" "$issuer/token")
token=$(printf '%s' "$response" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then
  echo "token request failed: $response" >&2
  exit 1
fi
printf '%s\n' "$token"
