#!/usr/bin/env bash
# Install everything the example and the test suite need, on a fresh machine of this kind.
# Idempotent: what is already there is not installed again.
#
#   scripts/setup.sh            everything the test suite needs (scripts/test-all.sh, .ci/run)
#   scripts/setup.sh --example  only what examples/run.sh needs: a C compiler, curl, openssl
#                               and the test IdP's npm packages (no cargo install: the example
#                               builds with `cargo build` and the committed include/oidc.h)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=all
case "${1:-}" in
  "") ;;
  --example) mode=example ;;
  *) echo "usage: scripts/setup.sh [--example]" >&2; exit 2 ;;
esac

CBINDGEN_VERSION=0.29.4
CARGO_C_VERSION=0.10.24
CARGO_FUZZ_VERSION=0.13.2
EXAMPLE_APT_PACKAGES=(gcc libc6-dev openssl curl)
# The packages stage (scripts/test-packages.sh) builds the gem (ruby), the C# project with
# xbuild (mono-devel: xbuild and the .NET reference assemblies it compiles against) and its
# NuGet package (nuget; unzip lists it), and builds the README's C quick start with gcc and
# clang.
APT_PACKAGES=("${EXAMPLE_APT_PACKAGES[@]}" pkg-config valgrind clang libclang-rt-14-dev
              ruby ruby-ffi ruby-minitest ruby-rack ruby-jwt
              mono-mcs mono-runtime nunit-console mono-devel nuget unzip
              redis-server maven jq tinyproxy-bin)
[ "$mode" = example ] && APT_PACKAGES=("${EXAMPLE_APT_PACKAGES[@]}")

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

install_idp_packages() {
  if [ ! -d tests/idp/node_modules ] || [ tests/idp/package-lock.json -nt tests/idp/node_modules ]; then
    log "npm ci (tests/idp, from the lock file)"
    (cd tests/idp && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch tests/idp/node_modules
  fi
}
if [ "$mode" = example ]; then
  install_idp_packages
  log "ready (example)"
  exit 0
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

install_idp_packages
# Keycloak (the interop stage, tests/keycloak): the quarkus distribution from Maven Central,
# pinned, unpacked into a cache outside the repository (OIDC_KEYCLOAK_CACHE, default
# ~/.cache/liboidc). It runs on the Java 21+ JDK beside the default Java 17 (OIDC_KEYCLOAK_JAVA_HOME,
# see scripts/servers.sh start_keycloak).
KEYCLOAK_VERSION=26.5.6
kc_cache=${OIDC_KEYCLOAK_CACHE:-$HOME/.cache/liboidc}
if [ ! -x "$kc_cache/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" ]; then
  mkdir -p "$kc_cache"
  kc_tgz="$kc_cache/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz"
  if [ ! -s "$kc_tgz" ]; then
    log "mvn dependency:copy org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION (164 MB)"
    mvn -B -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" \
      -DoutputDirectory="$kc_cache" -Dstyle.color=never >/dev/null
  fi
  log "unpack keycloak-$KEYCLOAK_VERSION into $kc_cache"
  rm -rf "$kc_cache/keycloak-$KEYCLOAK_VERSION.part"
  mkdir "$kc_cache/keycloak-$KEYCLOAK_VERSION.part"
  tar -xzf "$kc_tgz" -C "$kc_cache/keycloak-$KEYCLOAK_VERSION.part"
  mv "$kc_cache/keycloak-$KEYCLOAK_VERSION.part/keycloak-$KEYCLOAK_VERSION" "$kc_cache/"
  rmdir "$kc_cache/keycloak-$KEYCLOAK_VERSION.part"
fi
if [ -z "${OIDC_KEYCLOAK_JAVA_HOME:-}" ] && ! ls -d /usr/lib/jvm/*-2[1-9]* >/dev/null 2>&1; then
  log "warning: no Java 21+ JDK under /usr/lib/jvm (Keycloak needs one; set OIDC_KEYCLOAK_JAVA_HOME): the keycloak stage will fail"
fi
# The Python binding's tests: the venv module (Debian splits it out) and the pinned requirements
# in bindings/python/build/venv (from PyPI; bindings/python/test.sh --setup is idempotent).
if ! python3 -c "import ensurepip, venv" 2>/dev/null; then
  log "apt-get install python3-venv"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
log "python venv (bindings/python/requirements-test.txt)"
bash bindings/python/test.sh --setup
log "ready"
