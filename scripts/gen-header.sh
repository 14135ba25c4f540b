#!/usr/bin/env bash
# Regenerate include/oidc.h with the pinned cbindgen, or with --verify fail when it is stale.
# The Python binding's cffi declarations (bindings/python/src/liboidc/_cdef.py) follow the header:
# rewritten (or verified) here too.
set -euo pipefail
cd "$(dirname "$0")/.."
want="0.29.4"
have=$(cbindgen --version 2>/dev/null | awk '{print $2}')
if [ "$have" != "$want" ]; then
  echo "gen-header: cbindgen $want is required (found '${have:-none}'): cargo install cbindgen --version $want --locked" >&2
  exit 2
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cbindgen --quiet --config cbindgen.toml --crate oidc --output "$tmp" .
if [ "${1:-}" = "--verify" ]; then
  if ! diff -u include/oidc.h "$tmp"; then
    echo "gen-header: include/oidc.h is stale; run scripts/gen-header.sh" >&2
    exit 1
  fi
  echo "gen-header: include/oidc.h is up to date"
  python3 bindings/python/gen_cdef.py --verify
else
  cp "$tmp" include/oidc.h && chmod 644 include/oidc.h
  echo "gen-header: wrote include/oidc.h"
  python3 bindings/python/gen_cdef.py
fi
