#!/usr/bin/env bash
# End to end, in a few minutes from a clean clone: build liboidc (`cargo build --release`, the
# shared library only), compile examples/validate.c against it and the committed
# include/oidc.h, start a local identity provider (oidc-provider on 127.0.0.1 over HTTPS with a
# fresh test CA), fetch an access token with the client-credentials grant and validate it,
# trusting the test CA through SSL_CERT_FILE. Prints the validated claims.
#
# It installs only what it needs (scripts/setup.sh --example: a C compiler, curl, openssl, the
# IdP's npm packages). Installing the library with cargo-c (`cargo cinstall`, pkg-config) is
# what the test suite proves (scripts/test-all.sh: stages cinstall and packages).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --example
target=${CARGO_TARGET_DIR:-$PWD/target}
echo "== cargo rustc --release --lib --crate-type cdylib (liboidc.so)" >&2
# Only the cdylib: the staticlib and rlib the crate also declares are not needed here.
cargo rustc --quiet --release --lib --crate-type cdylib
lib="$target/release"
mkdir -p build
cc -std=c99 -Wall -Wextra -Werror -Iinclude -o build/validate examples/validate.c -L"$lib" -loidc

# shellcheck source=../scripts/servers.sh
. scripts/servers.sh   # stops the IdP when this script exits
start_idp || exit 1
issuer=$IDP_ISSUER ca=$IDP_CA_FILE
echo "== local issuer $issuer" >&2
token=$(tests/idp/get-token.sh "$issuer" "$ca" svc-basic svc-basic-secret urn:liboidc:rs256 "read write")
echo "== validating a client-credentials access token (RS256, at+jwt) with liboidc" >&2
SSL_CERT_FILE="$ca" LD_LIBRARY_PATH="$lib" build/validate "$issuer" urn:liboidc:rs256 "$token"
echo "== and a tampered one (last signature character changed)" >&2
# The last base64url character of an RS256 signature carries 2 bits: A, Q, g, w are its only
# canonical values, so swap between two of them (replacing it by a fixed letter would be a
# no-op whenever it already was that letter).
case "${token: -1}" in A) sub=Q ;; *) sub=A ;; esac
if SSL_CERT_FILE="$ca" LD_LIBRARY_PATH="$lib" build/validate "$issuer" urn:liboidc:rs256 "${token%?}$sub"; then
  echo "run.sh: the tampered token was accepted" >&2
  exit 1
fi
echo "== ok: the valid token was accepted, the tampered one rejected" >&2
