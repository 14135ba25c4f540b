/* The fields of the line files the vector flatteners write (multi_flat.py, jose_flat.py): lower-
 * case (or upper-case) hex of a string's bytes, "-" for the empty string, "~" for an absent value.
 * Shared by test_multi.c and test_jose.c. */
#ifndef OIDC_TEST_FLAT_H
#define OIDC_TEST_FLAT_H

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *p; /* NULL: absent ("~"); else malloc'd, NUL-terminated */
    size_t n;
} bytes;

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One field: "~" absent, "-" empty, else hex. Returns 0 on a malformed field. */
static int unhex(const char *h, bytes *out) {
    size_t n, i;
    out->p = NULL;
    out->n = 0;
    if (!h) return 0;
    if (strcmp(h, "~") == 0) return 1;
    if (strcmp(h, "-") == 0) {
        out->p = calloc(1, 1);
        return 1;
    }
    n = strlen(h);
    if (n % 2) return 0;
    out->p = malloc(n / 2 + 1);
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out->p);
            out->p = NULL;
            return 0;
        }
        out->p[i] = (char)(hi * 16 + lo);
    }
    out->p[n / 2] = 0;
    out->n = n / 2;
    return 1;
}

#endif
