#!/usr/bin/env bash
# Install everything the example and the test suite need, on a fresh machine of this kind.
# Idempotent: what is already there is not installed again.
set -euo pipefail
cd "$(dirname "$0")/.."

CBINDGEN_VERSION=0.29.4
CARGO_C_VERSION=0.10.24
CARGO_FUZZ_VERSION=0.13.2
APT_PACKAGES=(pkg-config openssl curl valgrind clang libclang-rt-14-dev
              ruby ruby-ffi ruby-minitest ruby-rack ruby-jwt
              mono-mcs mono-runtime nunit-console
              redis-server tinyproxy-bin)

log() { echo "setup: $*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(cbindgen --version 2>/dev/null | awk '{print $2}')" != "$CBINDGEN_VERSION" ]; then
  log "cargo install cbindgen $CBINDGEN_VERSION"
  cargo install --quiet cbindgen --version "$CBINDGEN_VERSION" --locked
fi
if ! cargo cinstall --version >/dev/null 2>&1; then
  log "cargo install cargo-c $CARGO_C_VERSION (takes several minutes)"
  cargo install --quiet cargo-c --version "$CARGO_C_VERSION" --locked
fi

# The fuzz stage (scripts/fuzz.sh) needs the nightly toolchain (sanitizers) and cargo-fuzz.
# Nightly comes with the machine image (offline, rustup cannot fetch it): check, fail clearly.
if ! cargo +nightly --version >/dev/null 2>&1; then
  log "the nightly Rust toolchain is missing: the fuzz stage needs it (rustup toolchain install nightly)"
  exit 1
fi
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  log "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

if [ ! -d tests/idp/node_modules ] || [ tests/idp/package-lock.json -nt tests/idp/node_modules ]; then
  log "npm ci (tests/idp, from the lock file)"
  (cd tests/idp && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch tests/idp/node_modules
fi
log "ready"
