#!/usr/bin/env bash
# End to end: install liboidc with cargo-c into build/prefix, start a local identity provider
# (oidc-provider on 127.0.0.1 over HTTPS with a fresh test CA), fetch an access token with the
# client-credentials grant, build examples/validate.c with pkg-config and validate the token,
# trusting the test CA through SSL_CERT_FILE. Prints the validated claims.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
prefix="$PWD/build/prefix"
echo "== cargo cinstall --release --prefix $prefix" >&2
mkdir -p build
cargo cinstall --release --prefix "$prefix" --libdir lib > build/cinstall.log 2>&1 || { cat build/cinstall.log; exit 1; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
mkdir -p build
cc -std=c99 -Wall -Werror -o build/validate examples/validate.c $(pkg-config --cflags --libs oidc)

# shellcheck source=../scripts/servers.sh
. scripts/servers.sh   # stops the IdP when this script exits
start_idp || exit 1
issuer=$IDP_ISSUER ca=$IDP_CA_FILE
echo "== local issuer $issuer" >&2
token=$(tests/idp/get-token.sh "$issuer" "$ca" svc-basic svc-basic-secret urn:liboidc:rs256 "read write")
echo "== validating a client-credentials access token (RS256, at+jwt) with liboidc" >&2
SSL_CERT_FILE="$ca" LD_LIBRARY_PATH="$prefix/lib" build/validate "$issuer" urn:liboidc:rs256 "$token"
echo "== and a tampered one (last signature character changed)" >&2
# The last base64url character of an RS256 signature carries 2 bits: A, Q, g, w are its only
# canonical values, so swap between two of them (replacing it by a fixed letter would be a
# no-op whenever it already was that letter).
case "${token: -1}" in A) sub=Q ;; *) sub=A ;; esac
if SSL_CERT_FILE="$ca" LD_LIBRARY_PATH="$prefix/lib" build/validate "$issuer" urn:liboidc:rs256 "${token%?}$sub"; then
  echo "run.sh: the tampered token was accepted" >&2
  exit 1
fi
