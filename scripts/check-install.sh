#!/usr/bin/env bash
# Check a `cargo cinstall` prefix: SONAME'd shared library, static library, header, oidc.pc,
# and a C program built with `pkg-config --cflags --libs oidc` that runs against it.
set -euo pipefail
prefix=$1
cd "$(dirname "$0")/.."
ok=0; bad=0
check() { if eval "$2"; then echo "ok - $1"; ok=$((ok+1)); else echo "not ok - $1"; bad=$((bad+1)); fi; }
lib="$prefix/lib"
check "liboidc.so installed" "[ -e '$lib/liboidc.so' ]"
check "liboidc.a installed" "[ -e '$lib/liboidc.a' ]"
soname=$(readelf -d "$lib/liboidc.so" | sed -nE 's/.*SONAME.*\[(.*)\].*/\1/p')
check "SONAME is liboidc.so.0.2 (got '$soname')" "[ '$soname' = liboidc.so.0.2 ] && [ -e '$lib/$soname' ]"
check "oidc.h installed and identical to include/oidc.h" "cmp -s '$prefix/include/oidc.h' include/oidc.h"
check "oidc.pc installed" "[ -e '$lib/pkgconfig/oidc.pc' ]"
export PKG_CONFIG_PATH="$lib/pkgconfig"
check "pkg-config knows oidc $(pkg-config --modversion oidc 2>/dev/null)" "pkg-config --exists oidc"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/t.c" <<'C'
#include <oidc.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    if (oidc_version_number() != OIDC_VERSION_NUMBER) return 1;
    oidc_validator_builder *b = NULL; oidc_validator *c = NULL; oidc_error *e = NULL;
    if (oidc_validator_builder_new(&b, NULL) != OIDC_RESULT_OK) return 2;
    const char *jwks = "{\"keys\":[]}";
    if (oidc_validator_builder_set_issuer(b, "https://i.example", 17, NULL) ||
        oidc_validator_builder_set_jwks_json(b, jwks, strlen(jwks), NULL) ||
        oidc_validator_builder_add_audience(b, "api", 3, NULL)) return 3;
    if (oidc_validator_builder_build(b, &c, NULL) != OIDC_RESULT_OK) return 4;
    char *out = NULL;
    oidc_result rc = oidc_validate(c, "a.b.c", 5, &out, NULL, &e);
    printf("%s %s\n", oidc_version(), oidc_result_name(rc));
    int bad = rc != OIDC_RESULT_TOKEN_MALFORMED || oidc_error_http_status(e) != 401;
    oidc_error_free(e); oidc_validator_free(c);
    return bad ? 5 : 0;
}
C
check "C program builds with pkg-config --cflags --libs oidc" \
  "cc -std=c99 -Wall -Werror -o '$tmp/t' '$tmp/t.c' \$(pkg-config --cflags --libs oidc)"
check "it runs against the installed library" "LD_LIBRARY_PATH='$lib' '$tmp/t' >/dev/null"
check "it resolves liboidc through the SONAME" "LD_LIBRARY_PATH='$lib' ldd '$tmp/t' | grep 'liboidc.so.0.2 => $lib' >/dev/null"
echo "$ok passed, $bad failed"
[ "$bad" -eq 0 ]
