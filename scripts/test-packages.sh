#!/usr/bin/env bash
# The packages stage: liboidc installed and used the way each host does it, from outside the
# repository (everything is built and run in a temp dir under ${TMPDIR:-/tmp}):
#
#   scripts/test-packages.sh [PREFIX]
#
# PREFIX: a `cargo cinstall --release --prefix PREFIX --libdir lib` tree (the test suite passes
# its cinstall stage's); without it, one is installed into the temp dir.
#
#   C      the install layout (lib/, no multiarch dir, the valgrind suppression file), the
#          shared library without debug info, every README's cargo cinstall command with
#          --libdir lib, the README's C quick start as written (gcc and clang, -Wall -Wextra
#          -Werror), a program under valgrind with the suppression file (no "possibly lost",
#          a real leak still reported)
#   Go     a module outside the repository requiring github.com/liboidc/liboidc/bindings/go
#          (replace to the checkout), go build with pkg-config, run against the real IdP
#   Ruby   gem build, gem install into a fresh GEM_HOME, the README's example run with plain
#          `ruby` (no -I), the gem's license and homepage
#   C#     xbuild + nuget pack (bindings/csharp/pack-nuget.sh), then a project outside the
#          repository: nuget install from the local feed, mcs against the package's Oidc.dll,
#          the README's ValidateExample run with the native library from the package
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/oidc-packages.XXXXXX")
case "$work" in "$repo"/*) echo "test-packages.sh: the temp dir is inside the repository" >&2; exit 1 ;; esac

# shellcheck source=servers.sh
. "$repo/scripts/servers.sh"     # the real IdP, stopped at exit
on_exit 'rm -rf "$work"'

passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); [ -n "${2:-}" ] && [ -s "$2" ] && sed 's/^/#   /' "$2" | tail -25; return 0; }
# check NAME CMD...: run CMD (its output to a log shown on failure)
check() {
  local name=$1; shift
  local log="$work/log.$((passed + failed))"
  if "$@" > "$log" 2>&1; then ok "$name"; else not_ok "$name" "$log"; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

if [ $# -ge 1 ]; then
  prefix=$(cd "$1" && pwd)
else
  prefix="$work/prefix"
  echo "# cargo cinstall --release --prefix $prefix --libdir lib" >&2
  (cd "$repo" && cargo cinstall --release --prefix "$prefix" --libdir lib) >&2 || { not_ok "cargo cinstall"; finish; exit 1; }
fi
lib="$prefix/lib"
export PKG_CONFIG_PATH="$lib/pkgconfig"

start_idp || { not_ok "the test IdP starts"; finish; exit 1; }
issuer=$IDP_ISSUER ca=$IDP_CA_FILE
token=$("$repo/tests/idp/get-token.sh" "$issuer" "$ca" svc-basic svc-basic-secret urn:liboidc:rs256 "read write") ||
  { not_ok "a token from the test IdP"; finish; exit 1; }

# ---- C: layout, size, README commands ---------------------------------------------------------
check "liboidc.so.0.2, oidc.pc and oidc.h installed under PREFIX/lib and PREFIX/include" \
  test -e "$lib/liboidc.so.0.2" -a -e "$lib/pkgconfig/oidc.pc" -a -e "$prefix/include/oidc.h"
check "no multiarch library dir (--libdir lib)" test ! -e "$lib/x86_64-linux-gnu"
check "the valgrind suppression file installed as share/liboidc/liboidc.supp" \
  cmp "$prefix/share/liboidc/liboidc.supp" "$repo/share/liboidc/liboidc.supp"
so=$(readlink -f "$lib/liboidc.so.0.2")
size=$(stat -c %s "$so")
echo "# $(basename "$so"): $size bytes"
check "the installed library has no debug info (no .debug_* section)" \
  bash -c "! readelf -S --wide '$so' | grep -E '\\.debug_|\\.zdebug_'"
check "the installed library is under 10 MB (26.6 MB with debug info)" test "$size" -lt 10000000
check "its dynamic symbols are all there (oidc_validate exported)" bash -c "nm -D --defined-only '$so' | grep -w oidc_validate"
# Every README command that installs with cargo-c says --libdir lib (the READMEs assume PREFIX/lib).
check "every README's cargo cinstall command passes --libdir lib" bash -c "
  cd '$repo' && ! git ls-files 'README.md' '*/README.md' | xargs grep -nE 'cargo cinstall (--|\\.\\.\\.)' | grep -v -- '--libdir lib'"

# ---- C: the README's quick start, as written --------------------------------------------------
mkdir -p "$work/c"
awk '/^<!-- c-quick-start/ { f = 1; next } f && /^```c$/ { p = 1; next } p && /^```$/ { exit } p' \
  "$repo/README.md" > "$work/c/app.c"
check "the C quick start was extracted from README.md (a complete program)" \
  bash -c "grep -q '#include <stdio.h>' '$work/c/app.c' && grep -q 'int main' '$work/c/app.c'"
# shellcheck disable=SC2046
for compiler in gcc clang; do
  check "the C quick start compiles with $compiler -std=c99 -Wall -Wextra -Werror -pedantic" \
    "$compiler" -std=c99 -Wall -Wextra -Werror -pedantic -o "$work/c/app-$compiler" "$work/c/app.c" \
      $(pkg-config --cflags --libs oidc)
done
check "the C quick start runs: a malformed token answers 401 invalid_token" bash -c "
  out=\$(LD_LIBRARY_PATH='$lib' '$work/c/app-gcc' a.b.c); rc=\$?; echo \"\$out\"
  [ \$rc -eq 1 ] && grep -q '^401 Bearer error=\"invalid_token\"' <<<\"\$out\""

# ---- C: valgrind with the suppression file ----------------------------------------------------
cp "$repo/examples/validate.c" "$work/c/validate.c"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror -o "$work/c/validate" "$work/c/validate.c" $(pkg-config --cflags --libs oidc)
cat > "$work/c/leak.c" <<'C'
/* Forgets to free an error: a leak the suppression file must not hide. */
#include <oidc.h>
#include <stdio.h>
int main(void) {
    oidc_validator_builder *b = NULL;
    oidc_error *err = NULL;
    if (oidc_validator_builder_new(&b, NULL) != OIDC_RESULT_OK) return 2;
    if (oidc_validator_builder_set_issuer(b, "http://not-https.example", 24, &err) == OIDC_RESULT_OK) return 3;
    printf("%s\n", oidc_error_message(err)); /* err never freed */
    oidc_validator_builder_free(b);
    return 0;
}
C
# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror -o "$work/c/leak" "$work/c/leak.c" $(pkg-config --cflags --libs oidc)
supp="$prefix/share/liboidc/liboidc.supp"
vg=(valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=definite,indirect,possible
    --error-exitcode=99 --num-callers=40)
if command -v valgrind >/dev/null; then
  SSL_CERT_FILE=$ca LD_LIBRARY_PATH=$lib "${vg[@]}" "$work/c/validate" "$issuer" urn:liboidc:rs256 "$token" \
    > "$work/c/vg-nosupp.out" 2> "$work/c/vg-nosupp.err"
  echo "# without the suppression file: $(grep -E 'possibly lost:' "$work/c/vg-nosupp.err" | sed 's/^==[0-9]*== *//')"
  check "under valgrind with liboidc.supp: a token from the IdP validates, no leak of any kind reported" bash -c "
    SSL_CERT_FILE='$ca' LD_LIBRARY_PATH='$lib' ${vg[*]} --suppressions='$supp' '$work/c/validate' '$issuer' urn:liboidc:rs256 '$token' \
      > '$work/c/vg.out' 2> '$work/c/vg.err'; rc=\$?
    grep -E 'lost:|reachable:|ERROR SUMMARY' '$work/c/vg.err'
    [ \$rc -eq 0 ] && grep -q '^valid token' '$work/c/vg.out' &&
      grep -qE 'possibly lost: 0 bytes|All heap blocks were freed|no leaks are possible' '$work/c/vg.err' &&
      ! grep -qE 'still reachable: [1-9]' '$work/c/vg.err'"
  check "under valgrind with liboidc.supp: a forgotten oidc_error_free is still reported as definitely lost" bash -c "
    LD_LIBRARY_PATH='$lib' ${vg[*]} --suppressions='$supp' '$work/c/leak' > /dev/null 2> '$work/c/vg-leak.err'; rc=\$?
    grep -E 'definitely lost:' '$work/c/vg-leak.err'
    [ \$rc -eq 99 ] && grep -qE 'definitely lost: [1-9]' '$work/c/vg-leak.err'"
else
  not_ok "valgrind is installed (scripts/setup.sh)"
fi

# ---- Go: a module outside the repository ------------------------------------------------------
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
mod=github.com/liboidc/liboidc/bindings/go
mkdir -p "$work/go-app"
cat > "$work/go-app/main.go" <<'GO'
// A program outside the liboidc repository, using the published module path.
package main

import (
	"context"
	"fmt"
	"os"

	oidc "github.com/liboidc/liboidc/bindings/go"
)

func main() {
	client, err := oidc.NewClient(oidc.Config{
		Issuer:      os.Getenv("OIDC_ISSUER"),
		Audiences:   []string{"urn:liboidc:rs256"},
		ExpectedTyp: "at+jwt",
		CAFile:      os.Getenv("OIDC_CA_FILE"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer client.Close()
	claims, err := client.Validate(context.Background(), os.Getenv("OIDC_TOKEN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("liboidc", oidc.Version(), "subject", claims.Subject(), "scope", claims.String("scope"))
}
GO
check "Go: the README recipe (go mod edit -require/-replace) and go build in a module outside the repo" bash -c "
  cd '$work/go-app' && export GOFLAGS=-mod=mod GOTOOLCHAIN=local &&
  '$GO' mod init example.com/app && '$GO' mod edit -require $mod@v0.2.0 -replace $mod='$repo/bindings/go' &&
  '$GO' build -o app . && '$GO' vet ."
check "Go: the program validates an IdP token against the installed library" bash -c "
  out=\$(cd '$work/go-app' && LD_LIBRARY_PATH='$lib' OIDC_ISSUER='$issuer' OIDC_CA_FILE='$ca' OIDC_TOKEN='$token' ./app) &&
  echo \"\$out\" && grep -q 'subject svc-basic scope read write' <<<\"\$out\" &&
  LD_LIBRARY_PATH='$lib' ldd '$work/go-app/app' | grep -q 'liboidc.so.0.2 => $lib'"
check "Go: the package has a doc comment (go doc)" bash -c "
  cd '$repo/bindings/go' && '$GO' doc . | grep -q '^Package oidc is the Go binding of liboidc'"

# ---- Ruby: gem build, gem install into a fresh GEM_HOME, the README example --------------------
mkdir -p "$work/ruby"
check "Ruby: gem build bindings/ruby/oidc.gemspec" bash -c "
  cd '$repo/bindings/ruby' && gem build oidc.gemspec --output '$work/ruby/oidc.gem'"
check "Ruby: the gem's license (Apache-2.0) and homepage" bash -c "
  gem specification '$work/ruby/oidc.gem' license | grep -qx -- '--- Apache-2.0' &&
  gem specification '$work/ruby/oidc.gem' homepage | grep -q 'https://github.com/liboidc/liboidc'"
check "Ruby: gem install into a fresh GEM_HOME (ffi from the system)" bash -c "
  cd '$work/ruby' && GEM_HOME='$work/ruby/gems' gem install --local --no-document ./oidc.gem &&
  test -e '$work/ruby/gems/gems/oidc-0.2.0/lib/oidc/logger.rb'"
ruby -e '
  code = File.read(ARGV[0])[/<!-- example: validate[^\n]*\n```ruby\n(.*?)```/m, 1] or abort "no validate example"
  File.write(ARGV[1], code)' "$repo/bindings/ruby/README.md" "$work/ruby/example.rb"
check "Ruby: the README's validate example runs from the installed gem (plain ruby, no -I)" bash -c "
  cd '$work/ruby' && out=\$(GEM_HOME='$work/ruby/gems' OIDC_LIB='$lib/liboidc.so' OIDC_ISSUER='$issuer' OIDC_CA_FILE='$ca' \
    ACCESS_TOKEN='$token' ruby example.rb) && echo \"\$out\" &&
  grep -q '^subject svc-basic, scopes read write' <<<\"\$out\" &&
  GEM_HOME='$work/ruby/gems' OIDC_LIB='$lib/liboidc.so' ruby -e 'require \"oidc\"; puts \$LOADED_FEATURES.grep(/oidc\\.rb\$/)' |
    grep -q '$work/ruby/gems/gems/oidc-0.2.0/lib/oidc.rb'"

# ---- C#: xbuild + NuGet package, consumed from a project outside the repository --------------
mkdir -p "$work/cs/feed" "$work/cs/app"
check "C#: xbuild Oidc.csproj (XML docs, warnings as errors) and nuget pack" \
  "$repo/bindings/csharp/pack-nuget.sh" "$prefix" "$work/cs/feed"
nupkg="$work/cs/feed/LibOidc.0.2.0.nupkg"
check "C#: the package carries Oidc.dll, Oidc.xml, Oidc.dll.config and runtimes/linux-x64/native/liboidc.so.0.2" bash -c "
  unzip -l '$nupkg' > '$work/cs/list' && cat '$work/cs/list' &&
  for f in lib/net46/Oidc.dll lib/net46/Oidc.xml lib/net46/Oidc.dll.config runtimes/linux-x64/native/liboidc.so.0.2; do
    grep -q \" \$f\$\" '$work/cs/list' || exit 1; done"
awk -v out="$work/cs/app/ValidateExample.cs" '
  /^```csharp$/ { blk = 1; first = 1; next }
  /^```$/ && blk { blk = 0; if (take) exit; next }
  blk && first { first = 0; take = ($0 ~ /^\/\/ ValidateExample\.cs:/) }
  blk && take { print > out }' "$repo/bindings/csharp/README.md"
pkgdir="$work/cs/app/packages/LibOidc.0.2.0"
check "C#: nuget install LibOidc from the local feed, mcs against the package's Oidc.dll" bash -c "
  cd '$work/cs/app' && test -s ValidateExample.cs &&
  HOME='$work/cs/home' nuget install LibOidc -Version 0.2.0 -Source '$work/cs/feed' -OutputDirectory packages -NonInteractive &&
  mcs -langversion:7 -nologo -warnaserror+ -r:'$pkgdir/lib/net46/Oidc.dll' -out:ValidateExample.exe ValidateExample.cs &&
  cp '$pkgdir/lib/net46/Oidc.dll' '$pkgdir/lib/net46/Oidc.dll.config' ."
check "C#: the README's ValidateExample validates an IdP token with the package's native library" bash -c "
  cd '$work/cs/app' && out=\$(LD_LIBRARY_PATH='$pkgdir/runtimes/linux-x64/native' OIDC_ISSUER='$issuer' \
    OIDC_AUDIENCE=urn:liboidc:rs256 OIDC_CA_FILE='$ca' mono ValidateExample.exe '$token') && echo \"\$out\" &&
  grep -q '^subject: svc-basic' <<<\"\$out\" && grep -q '^scope: read write' <<<\"\$out\""

finish
