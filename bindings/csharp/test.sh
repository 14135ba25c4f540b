#!/usr/bin/env bash
# Build the C# binding, its tests, benchmark and README examples with mcs (C# 7), then run the
# test suite. The last line of output is the runner's "N passed, N failed".
#
#   bindings/csharp/test.sh [--filter SUBSTRING]
#
# Environment:
#   OIDC_LIB_DIR   directory holding liboidc.so.0.2 (default: build this tree's library with
#                  `cargo cinstall` into $CARGO_TARGET_DIR/csharp-prefix)
#   OIDC_TESTKIT   the oidc-testkit binary (default: `cargo build --release -p oidc-testkit`)
#   OIDC_NODE      node for tests/idp (default: node; tests/idp needs `npm ci` once)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="$here/build"
target="${CARGO_TARGET_DIR:-$repo/target}"

for tool in mcs mono; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool not found (apt-get install mono-mcs mono-runtime)" >&2; exit 1; }
done

if [ -z "${OIDC_LIB_DIR:-}" ]; then
  echo "test.sh: OIDC_LIB_DIR not set; building liboidc with cargo cinstall" >&2
  (cd "$repo" && CARGO_TARGET_DIR="$target" cargo cinstall --release --prefix "$target/csharp-prefix" --libdir lib >&2)
  OIDC_LIB_DIR="$target/csharp-prefix/lib"
fi
if [ ! -e "$OIDC_LIB_DIR/liboidc.so.0.2" ]; then
  echo "test.sh: $OIDC_LIB_DIR/liboidc.so.0.2 not found (set OIDC_LIB_DIR)" >&2
  exit 1
fi
if [ -z "${OIDC_TESTKIT:-}" ]; then
  (cd "$repo" && CARGO_TARGET_DIR="$target" cargo build --release --quiet -p oidc-testkit --bin oidc-testkit >&2)
  OIDC_TESTKIT="$target/release/oidc-testkit"
fi

rm -rf "$build"
mkdir -p "$build/examples"
MCS=(mcs -langversion:7 -nologo -warnaserror+ -debug)

"${MCS[@]}" -target:library -out:"$build/Oidc.dll" "$here"/src/*.cs
cp "$here/Oidc.dll.config" "$build/"
"${MCS[@]}" -target:exe -out:"$build/OidcTests.exe" -r:"$build/Oidc.dll" "$here"/tests/*.cs
"${MCS[@]}" -target:exe -out:"$build/OidcBenchmark.exe" -r:"$build/Oidc.dll" "$here"/bench/*.cs

# The README's examples, verbatim: every ```csharp block whose first line is "// Name.cs: ...".
awk -v out="$build/examples" '
  /^```csharp$/ { inblk = 1; first = 1; f = ""; next }
  /^```$/ && inblk { inblk = 0; if (f != "") close(f); f = ""; next }
  inblk {
    if (first) { first = 0; if (match($0, /^\/\/ [A-Za-z]+\.cs:/)) f = out "/" substr($0, 4, RLENGTH - 4) }
    if (f != "") print > f
  }' "$here/README.md"
n=0
for ex in "$build"/examples/*.cs; do
  [ -e "$ex" ] || continue
  "${MCS[@]}" -target:exe -out:"$build/$(basename "${ex%.cs}").exe" -r:"$build/Oidc.dll" "$ex"
  n=$((n + 1))
done
[ "$n" -ge 2 ] || { echo "test.sh: expected at least 2 README examples, extracted $n" >&2; exit 1; }

export LD_LIBRARY_PATH="$OIDC_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OIDC_REPO_ROOT="$repo" OIDC_TESTKIT OIDC_CS_EXAMPLES_DIR="$build"
exec mono --debug "$build/OidcTests.exe" "$@"
