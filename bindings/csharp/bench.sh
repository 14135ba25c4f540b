#!/usr/bin/env bash
# Run the binding-overhead benchmark (see BENCHMARKS.md). Builds with test.sh's layout first.
#   OIDC_LIB_DIR=/path/to/lib bindings/csharp/bench.sh [--rounds R] [--round-ms MS]
# OIDC_BENCH_MONO_FLAGS adds mono options (e.g. --optimize=all); default: plain `mono`, as users run it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${OIDC_LIB_DIR:?set OIDC_LIB_DIR to the directory holding liboidc.so.0.2}"
mkdir -p "$here/build"
mcs -langversion:7 -nologo -warnaserror+ -optimize+ -target:library -out:"$here/build/Oidc.dll" "$here"/src/*.cs
cp "$here/Oidc.dll.config" "$here/build/"
mcs -langversion:7 -nologo -warnaserror+ -optimize+ -target:exe -out:"$here/build/OidcBenchmark.exe" -r:"$here/build/Oidc.dll" "$here"/bench/*.cs
export LD_LIBRARY_PATH="$OIDC_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OIDC_REPO_ROOT="$(cd "$here/../.." && pwd)"
# shellcheck disable=SC2086
exec mono ${OIDC_BENCH_MONO_FLAGS:-} "$here/build/OidcBenchmark.exe" "$@"
