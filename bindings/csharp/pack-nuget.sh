#!/usr/bin/env bash
# Build Oidc.dll with xbuild (Oidc.csproj) and pack the NuGet package LibOidc (Oidc.nuspec) with
# the native library of a liboidc install:
#
#   bindings/csharp/pack-nuget.sh PREFIX OUTDIR
#
# PREFIX: a `cargo cinstall --release --prefix PREFIX --libdir lib` tree (its lib/liboidc.so.0.2
# goes to runtimes/linux-x64/native). Writes OUTDIR/LibOidc.<version>.nupkg; the build and the
# staging folder are under OUTDIR/work (nothing is written inside the repository).
# Needs mono-devel (xbuild and the reference assemblies) and nuget (Debian packages).
set -euo pipefail
[ $# -eq 2 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
for tool in xbuild nuget; do
  command -v "$tool" >/dev/null || { echo "pack-nuget.sh: $tool not found (apt-get install mono-devel nuget)" >&2; exit 1; }
done
native="$prefix/lib/liboidc.so.0.2"
[ -e "$native" ] || { echo "pack-nuget.sh: $native not found (cargo cinstall --release --prefix $prefix --libdir lib)" >&2; exit 1; }

work="$out/work"
rm -rf "$work"
mkdir -p "$work/stage/lib/net46" "$work/stage/runtimes/linux-x64/native"
xbuild /nologo /verbosity:minimal /p:Configuration=Release /p:OutputPath="$work/bin/" \
  /p:IntermediateOutputPath="$work/obj/" "$here/Oidc.csproj" >&2
cp "$work/bin/Oidc.dll" "$work/bin/Oidc.xml" "$work/bin/Oidc.dll.config" "$work/stage/lib/net46/"
# The file the SONAME names, dereferenced (a package carries no symlinks).
cp -L "$native" "$work/stage/runtimes/linux-x64/native/liboidc.so.0.2"
cp "$here/Oidc.nuspec" "$work/stage/"
# nuget.exe (Mono) writes its caches under $HOME: keep them in the work folder.
HOME="$work/home" nuget pack "$work/stage/Oidc.nuspec" -BasePath "$work/stage" -OutputDirectory "$out" \
  -NoPackageAnalysis -NonInteractive >&2
ls "$out"/LibOidc.*.nupkg
