/* liboidc request authentication from C: oidc_http_request, oidc_authenticate(_async),
 * oidc_decision, and the resource-server builder settings. No network: static-JWKS clients and
 * a fixed "now".
 *
 *   test_authn [REQUESTS_TXT]
 *
 * REQUESTS_TXT is tests/vectors/requests.json flattened by tests/c/requests_flat.py (run.sh
 * does it): every shared request vector, run once, in file order, compared member by member
 * (decision code and its name, allowed, HTTP status, error, every challenge exactly and in
 * order, DPoP-Nonce, token type, sub). Without it the vector test fails.
 *
 * The other tests use fixtures/authn_fixtures.h (an issuer no vector uses, so the process-wide
 * DPoP replay cache never mixes the two): NULL for every pointer parameter, _free(NULL),
 * invalid UTF-8, unknown header names, oversized and countless header lines, challenge index
 * past the end, reuse after reset, certificate binding, server nonces, the non-blocking twin
 * (same decision, one callback, off the caller's thread, cancel), a host replay store (a
 * mutex-guarded set; a store that fails gives 503), and threads hammering one client.
 *
 * Every DPoP proof of the fixtures is single-use in this process: each test below names the
 * AX_PROOFS index it consumes (PROOF_*), and no two tests share one.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"
#include "fixtures/authn_fixtures.h"

#define LEN(s) (sizeof(s) - 1) /* length of a string literal */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define REALM "api"
#define AUTH "Authorization"
#define DPOP "DPoP"

/* Which proof each test consumes (see the file comment). */
enum {
    PROOF_STORE_SEEDED = 0,  /* the host store already holds it: replay */
    PROOF_STORE_FRESH = 1,   /* first use through the store, then a replay */
    PROOF_STORE_DOWN = 2,    /* store fails (503, twice), then answers: allowed */
    PROOF_STORE_GARBAGE = 3, /* store answers 2: never allowed */
    PROOF_STORE_CLEARED = 4, /* a client whose store was cleared: the store is not asked */
    PROOF_STORE_RACE = 5,    /* 8 threads, one proof, through the store: one winner */
    PROOF_ASYNC = 6,         /* allowed through oidc_authenticate_async, then a blocking replay */
    PROOF_UNUSED = 7,        /* only ever denied before the replay check (never consumed) */
    PROOF_RACE_FIRST = 8,    /* 8..15: rounds of the thread race on one client */
};

static char sentinel_storage;
#define SENTINEL_ERR ((oidc_error *)(void *)&sentinel_storage)
#define SENTINEL_DECISION ((oidc_decision *)(void *)&sentinel_storage)

static const char *const BAD_UTF8[] = {
    "\xff", "abc\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "https://api.c-suite.test/\x80",
};

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Small helpers: hex, a JSON string member, decision snapshots                                */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode a requests_flat.py field: "-" is NULL, "-empty-" is "", else hex. The result is
 * malloc'd and NUL-terminated (bytes may contain NUL: use *len). NULL on a bad field sets *bad. */
static char *unhex(const char *h, size_t *len, int *bad) {
    size_t n, i;
    char *out;
    *len = 0;
    if (!h) {
        *bad = 1;
        return NULL;
    }
    if (strcmp(h, "-") == 0) return NULL;
    if (strcmp(h, "-empty-") == 0) return calloc(1, 1);
    n = strlen(h);
    if (n % 2) {
        *bad = 1;
        return NULL;
    }
    out = malloc(n / 2 + 1);
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            *bad = 1;
            free(out);
            return NULL;
        }
        out[i] = (char)(hi * 16 + lo);
    }
    out[n / 2] = 0;
    *len = n / 2;
    return out;
}

static void put_utf8(char **o, unsigned long cp) {
    unsigned char *p = (unsigned char *)*o;
    if (cp < 0x80) {
        *p++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *p++ = (unsigned char)(0xC0 | (cp >> 6));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *p++ = (unsigned char)(0xE0 | (cp >> 12));
        *p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *p++ = (unsigned char)(0xF0 | (cp >> 18));
        *p++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = (char *)p;
}

static unsigned long hex4(const char *s) {
    unsigned long v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        int d = hexval(s[i]);
        if (d < 0) return 0xFFFFFFFFul;
        v = v * 16 + (unsigned long)d;
    }
    return v;
}

/* The value of the top-level string member `key` of the JSON object `json` (unescaped,
 * malloc'd), or NULL when absent or not a string. Enough to read "sub" from claims. */
static char *json_string_member(const char *json, const char *key) {
    const char *p = json;
    int depth = 0;
    size_t klen = strlen(key);
    while (p && *p) {
        if (*p == '"') {
            const char *s = p + 1, *q = s, *r;
            while (*q && *q != '"') q += (*q == '\\' && q[1]) ? 2 : 1;
            if (!*q) return NULL;
            r = q + 1;
            while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') r++;
            if (depth == 1 && *r == ':' && (size_t)(q - s) == klen && memcmp(s, key, klen) == 0) {
                char *out, *o;
                r++;
                while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') r++;
                if (*r != '"') return NULL;
                out = o = malloc(strlen(r) * 2 + 1);
                for (r++; *r && *r != '"'; r++) {
                    if (*r != '\\') {
                        *o++ = *r;
                        continue;
                    }
                    r++;
                    switch (*r) {
                    case 'b': *o++ = '\b'; break;
                    case 'f': *o++ = '\f'; break;
                    case 'n': *o++ = '\n'; break;
                    case 'r': *o++ = '\r'; break;
                    case 't': *o++ = '\t'; break;
                    case 'u': {
                        unsigned long cp = hex4(r + 1);
                        if (cp == 0xFFFFFFFFul) goto bad;
                        r += 4;
                        if (cp >= 0xD800 && cp < 0xDC00 && r[1] == '\\' && r[2] == 'u') {
                            unsigned long lo = hex4(r + 3);
                            if (lo >= 0xDC00 && lo < 0xE000) {
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                r += 6;
                            }
                        }
                        put_utf8(&o, cp);
                        break;
                    }
                    case 0: goto bad;
                    default: *o++ = *r; break;
                    }
                }
                if (*r != '"') goto bad;
                *o = 0;
                return out;
            bad:
                free(out);
                return NULL;
            }
            p = q + 1;
            continue;
        }
        if (*p == '{' || *p == '[') depth++;
        if (*p == '}' || *p == ']') depth--;
        p++;
    }
    return NULL;
}

/* Everything a decision says, copied (a callback's decision is only borrowed). */
struct snap {
    int taken;
    uint32_t allowed, status;
    oidc_result code;
    char *error, *message, *claims, *token_type, *nonce;
    size_t claims_len, n_challenges;
    char **challenges;
};

static char *dup_or_null(const char *s) {
    if (!s) return NULL;
    return strcpy(malloc(strlen(s) + 1), s);
}

/* A borrowed string getter: *len_out equals strlen (0 for NULL), and NULL len_out is accepted. */
static const char *checked_str(const char *with_len, size_t len, const char *without_len, const char *what) {
    CHECKF((with_len == NULL) == (without_len == NULL), "%s: NULL-ness depends on len_out", what);
    if (with_len) CHECKF(len == strlen(with_len), "%s: len_out %zu != strlen %zu", what, len, strlen(with_len));
    else CHECKF(len == 0, "%s: NULL with len_out %zu", what, len);
    return with_len;
}

static void snap_take(struct snap *s, const oidc_decision *d) {
    size_t len, i;
    const char *p;
    memset(s, 0, sizeof *s);
    s->taken = 1;
    s->allowed = oidc_decision_allowed(d);
    s->code = oidc_decision_code(d);
    s->status = oidc_decision_http_status(d);
    len = 99;
    p = oidc_decision_error(d, &len);
    s->error = dup_or_null(checked_str(p, len, oidc_decision_error(d, NULL), "error"));
    len = 99;
    p = oidc_decision_message(d, &len);
    s->message = dup_or_null(checked_str(p, len, oidc_decision_message(d, NULL), "message"));
    len = 99;
    p = oidc_decision_claims(d, &len);
    s->claims = dup_or_null(checked_str(p, len, oidc_decision_claims(d, NULL), "claims"));
    s->claims_len = len;
    s->token_type = dup_or_null(oidc_decision_token_type(d));
    len = 99;
    p = oidc_decision_dpop_nonce(d, &len);
    s->nonce = dup_or_null(checked_str(p, len, oidc_decision_dpop_nonce(d, NULL), "dpop_nonce"));
    s->n_challenges = oidc_decision_challenge_count(d);
    s->challenges = calloc(s->n_challenges + 1, sizeof(char *));
    for (i = 0; i < s->n_challenges; i++) {
        len = 99;
        p = oidc_decision_challenge(d, i, &len);
        CHECKF(p != NULL, "challenge %zu of %zu is NULL", i, s->n_challenges);
        s->challenges[i] = dup_or_null(checked_str(p, len, oidc_decision_challenge(d, i, NULL), "challenge"));
    }
    len = 99;
    CHECK(oidc_decision_challenge(d, s->n_challenges, &len) == NULL && len == 0);
    /* invariants of every decision */
    CHECK(s->message && s->message[0]);
    if (s->allowed) {
        CHECK(s->code == OIDC_RESULT_OK && s->status == 200 && !s->error && s->claims && s->token_type);
        CHECK(s->n_challenges == 0);
    } else {
        CHECK(s->code != OIDC_RESULT_OK && !s->claims && !s->token_type);
        CHECK(s->status == 400 || s->status == 401 || s->status == 403 || s->status == 500 || s->status == 503);
        CHECKF((s->status >= 500) == (s->n_challenges == 0), "status %u with %zu challenges", s->status, s->n_challenges);
    }
}

static void snap_free(struct snap *s) {
    size_t i;
    free(s->error);
    free(s->message);
    free(s->claims);
    free(s->token_type);
    free(s->nonce);
    for (i = 0; s->challenges && i < s->n_challenges; i++) free(s->challenges[i]);
    free(s->challenges);
    memset(s, 0, sizeof *s);
}

static int str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }
#define OR_NULL(s) ((s) ? (s) : "(null)")

/* Two snapshots say the same thing (the message included). */
static void check_same(const struct snap *a, const struct snap *b) {
    size_t i;
    CHECK(a->taken && b->taken);
    CHECKF(a->allowed == b->allowed && a->code == b->code && a->status == b->status,
           "allowed/code/status %u/%s/%u vs %u/%s/%u", a->allowed, rc_name(a->code), a->status, b->allowed,
           rc_name(b->code), b->status);
    CHECKF(str_eq(a->error, b->error), "error %s vs %s", OR_NULL(a->error), OR_NULL(b->error));
    CHECKF(str_eq(a->message, b->message), "message %s vs %s", OR_NULL(a->message), OR_NULL(b->message));
    CHECK(str_eq(a->claims, b->claims) && a->claims_len == b->claims_len);
    CHECK(str_eq(a->token_type, b->token_type));
    CHECK(str_eq(a->nonce, b->nonce));
    CHECKF(a->n_challenges == b->n_challenges, "%zu vs %zu challenges", a->n_challenges, b->n_challenges);
    for (i = 0; i < a->n_challenges && i < b->n_challenges; i++)
        CHECKF(str_eq(a->challenges[i], b->challenges[i]), "challenge %zu: %s vs %s", i, OR_NULL(a->challenges[i]),
               OR_NULL(b->challenges[i]));
}

/* ------------------------------------------------------------------------------------------ */
/* Clients and requests of the fixtures                                                        */

typedef void (*configure_fn)(oidc_validator_builder *);

static oidc_validator_builder *ax_builder(void) {
    oidc_validator_builder *b = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_validator_builder_new(&b, &err), OIDC_RESULT_OK, err);
    oidc_error_free(err);
    if (!b) return NULL;
    CHECK_RC(oidc_validator_builder_set_issuer(b, AX_ISSUER, LEN(AX_ISSUER), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_jwks_json(b, AX_JWKS, LEN(AX_JWKS), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_add_audience(b, AX_AUDIENCE, LEN(AX_AUDIENCE), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_expected_typ(b, "at+jwt", 6, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_leeway_secs(b, 60, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_realm(b, REALM, LEN(REALM), NULL), OIDC_RESULT_OK);
    return b;
}

static oidc_validator *build(oidc_validator_builder *b) {
    oidc_validator *c = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validator_builder_build(b, &c, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    return c;
}

static oidc_validator *ax_client(configure_fn cfg) {
    oidc_validator_builder *b = ax_builder();
    if (b && cfg) cfg(b);
    return b ? build(b) : NULL;
}

static void add_header(oidc_http_request *r, const char *name, const char *value) {
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_http_request_add_header(r, name, strlen(name), (const uint8_t *)value, strlen(value), &err),
                 OIDC_RESULT_OK, err);
    oidc_error_free(err);
}

static void add_auth(oidc_http_request *r, const char *scheme, const char *token) {
    size_t n = strlen(scheme) + 1 + strlen(token) + 1;
    char *v = malloc(n);
    snprintf(v, n, "%s %s", scheme, token);
    add_header(r, AUTH, v);
    free(v);
}

/* Method, URL and now of the fixture proofs, then the given headers (NULL: absent). */
static void fill(oidc_http_request *r, const char *scheme, const char *token, const char *proof) {
    CHECK_RC(oidc_http_request_set_method(r, AX_METHOD, LEN(AX_METHOD), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_http_request_set_url(r, AX_URL, LEN(AX_URL), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_http_request_set_now(r, AX_NOW, NULL), OIDC_RESULT_OK);
    if (token) add_auth(r, scheme, token);
    if (proof) add_header(r, DPOP, proof);
}

static oidc_http_request *new_request(const char *scheme, const char *token, const char *proof) {
    oidc_http_request *r = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_http_request_new(&r, &err), OIDC_RESULT_OK, err);
    oidc_error_free(err);
    if (r) fill(r, scheme, token, proof);
    return r;
}

/* Authenticate; the call itself must succeed (a decision was made). Returns the snapshot. */
static struct snap decide(const oidc_validator *c, const oidc_http_request *r) {
    oidc_decision *d = NULL;
    oidc_error *err = NULL;
    struct snap s;
    oidc_result rc = oidc_authenticate(c, r, &d, &err);
    memset(&s, 0, sizeof s);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    if (rc == OIDC_RESULT_OK && d) snap_take(&s, d);
    CHECK(rc != OIDC_RESULT_OK || d != NULL);
    oidc_decision_free(d);
    return s;
}

/* One request from scratch, decided and checked: code, status, error (NULL: none). */
static struct snap expect(const oidc_validator *c, const char *scheme, const char *token, const char *proof,
                          oidc_result code, uint32_t status, const char *error) {
    oidc_http_request *r = new_request(scheme, token, proof);
    struct snap s = decide(c, r);
    oidc_http_request_free(r);
    CHECKF(s.code == code, "code %s, expected %s (%s)", rc_name(s.code), rc_name(code), OR_NULL(s.message));
    CHECKF(s.status == status, "status %u, expected %u", s.status, status);
    CHECKF(str_eq(s.error, error), "error %s, expected %s", OR_NULL(s.error), OR_NULL(error));
    CHECK(s.allowed == (code == OIDC_RESULT_OK));
    return s;
}

static void expect_sub(const struct snap *s, const char *sub) {
    char *got = s->claims ? json_string_member(s->claims, "sub") : NULL;
    CHECKF(str_eq(got, sub), "sub %s, expected %s", OR_NULL(got), OR_NULL(sub));
    free(got);
}

/* ------------------------------------------------------------------------------------------ */
/* (a) the shared request vectors                                                               */

struct vclient {
    char *name;
    oidc_validator_builder *b;
    oidc_validator *c;
};

struct vcase {
    char *name, *client;
    int allowed_set, allowed;
    long code, status;
    char *code_name, *error, *nonce, *token_type, *sub;
    size_t n_challenges, got_challenges;
    char **challenges;
};

static void vcase_free(struct vcase *v) {
    size_t i;
    free(v->name);
    free(v->client);
    free(v->code_name);
    free(v->error);
    free(v->nonce);
    free(v->token_type);
    free(v->sub);
    for (i = 0; i < v->got_challenges; i++) free(v->challenges[i]);
    free(v->challenges);
    memset(v, 0, sizeof *v);
}

static void finish_client(struct vclient *vc) {
    if (vc->b) {
        vc->c = build(vc->b);
        vc->b = NULL;
    }
}

static int dpop_mode_of(const char *s, uint32_t *mode) {
    if (strcmp(s, "allowed") == 0) *mode = OIDC_DPOP_MODE_ALLOWED;
    else if (strcmp(s, "required") == 0) *mode = OIDC_DPOP_MODE_REQUIRED;
    else if (strcmp(s, "disabled") == 0) *mode = OIDC_DPOP_MODE_DISABLED;
    else return 0;
    return 1;
}

/* One "cfg" line on the client being built. Returns 0 for an unknown member. */
static int apply_cfg(oidc_validator_builder *b, char *member, char *a1, char *a2, int *bad) {
    static const char *const numeric[] = {"leeway_secs", "max_token_bytes", "dpop_proof_window_secs", "require_mtls",
                                          "token_cache_size"};
    size_t n1 = 0, n2 = 0, i;
    int is_numeric = 0, known = 1;
    char *v1;
    oidc_error *err = NULL;
    oidc_result rc = OIDC_RESULT_OK;
    for (i = 0; i < COUNT(numeric); i++) is_numeric |= strcmp(member, numeric[i]) == 0;
    v1 = is_numeric ? NULL : unhex(a1, &n1, bad);
    if (strcmp(member, "issuer") == 0) rc = oidc_validator_builder_set_issuer(b, v1, n1, &err);
    else if (strcmp(member, "audience") == 0) rc = oidc_validator_builder_add_audience(b, v1, n1, &err);
    else if (strcmp(member, "expected_typ") == 0) rc = oidc_validator_builder_set_expected_typ(b, v1, n1, &err);
    else if (strcmp(member, "algorithms") == 0) rc = oidc_validator_builder_set_algorithms(b, v1, n1, &err);
    else if (strcmp(member, "realm") == 0) rc = oidc_validator_builder_set_realm(b, v1, n1, &err);
    else if (strcmp(member, "required_scope") == 0) rc = oidc_validator_builder_add_required_scope(b, v1, n1, &err);
    else if (strcmp(member, "dpop_algorithms") == 0) rc = oidc_validator_builder_set_dpop_algorithms(b, v1, n1, &err);
    else if (strcmp(member, "dpop_mode") == 0) {
        uint32_t mode = 0;
        CHECKF(v1 && dpop_mode_of(v1, &mode), "dpop_mode %s", OR_NULL(v1));
        rc = oidc_validator_builder_set_dpop_mode(b, mode, &err);
    } else if (strcmp(member, "claim_value") == 0) {
        char *v2 = unhex(a2, &n2, bad);
        rc = oidc_validator_builder_add_allowed_claim_value(b, v1, n1, v2, n2, &err);
        free(v2);
    } else if (strcmp(member, "dpop_nonce_secret") == 0) {
        /* lifetime "-": the documented default (300 s), which the C call needs spelled out */
        unsigned long life = (a2 && strcmp(a2, "-") != 0) ? strtoul(a2, NULL, 10) : 300;
        rc = oidc_validator_builder_set_dpop_nonce_secret(b, (const uint8_t *)v1, n1, (uint32_t)life, &err);
    } else {
        char *end = NULL;
        unsigned long long x = a1 ? strtoull(a1, &end, 10) : 0;
        if (is_numeric && (!a1 || !*a1 || *end)) *bad = 1;
        if (strcmp(member, "leeway_secs") == 0) rc = oidc_validator_builder_set_leeway_secs(b, (uint32_t)x, &err);
        else if (strcmp(member, "max_token_bytes") == 0) rc = oidc_validator_builder_set_max_token_bytes(b, (size_t)x, &err);
        else if (strcmp(member, "dpop_proof_window_secs") == 0)
            rc = oidc_validator_builder_set_dpop_proof_window_secs(b, (uint32_t)x, &err);
        else if (strcmp(member, "require_mtls") == 0) rc = oidc_validator_builder_set_require_mtls(b, (uint32_t)x, &err);
        else if (strcmp(member, "token_cache_size") == 0) rc = oidc_validator_builder_set_token_cache_size(b, (size_t)x, &err);
        else known = 0;
    }
    CHECKF(rc == OIDC_RESULT_OK, "cfg %s: %s %s", member, rc_name(rc), oidc_error_message(err));
    oidc_error_free(err);
    free(v1);
    return known;
}

/* Compare one decided vector with its "expect". */
static void check_vector(const struct vcase *v, const struct snap *s) {
    size_t i;
    char *sub;
    const char *name = oidc_result_name((uint32_t)s->code);
    CHECKF(s->allowed == (uint32_t)v->allowed, "allowed %u, expected %d (%s: %s)", s->allowed, v->allowed,
           rc_name(s->code), OR_NULL(s->message));
    CHECKF((long)s->code == v->code, "code %u %s, expected %ld %s (%s)", (unsigned)s->code, rc_name(s->code), v->code,
           OR_NULL(v->code_name), OR_NULL(s->message));
    CHECKF(str_eq(name, v->code_name), "oidc_result_name %s, expected %s", OR_NULL(name), OR_NULL(v->code_name));
    CHECKF((long)s->status == v->status, "status %u, expected %ld", s->status, v->status);
    CHECKF(str_eq(s->error, v->error), "error %s, expected %s", OR_NULL(s->error), OR_NULL(v->error));
    CHECKF(s->n_challenges == v->n_challenges, "%zu challenges, expected %zu", s->n_challenges, v->n_challenges);
    for (i = 0; i < s->n_challenges && i < v->n_challenges; i++)
        CHECKF(str_eq(s->challenges[i], v->challenges[i]), "challenge %zu:\n#     got      %s\n#     expected %s", i,
               OR_NULL(s->challenges[i]), OR_NULL(v->challenges[i]));
    for (; i < s->n_challenges; i++) CHECKF(0, "extra challenge %zu: %s", i, OR_NULL(s->challenges[i]));
    for (; i < v->n_challenges; i++) CHECKF(0, "missing challenge %zu: %s", i, OR_NULL(v->challenges[i]));
    CHECKF(str_eq(s->nonce, v->nonce), "dpop_nonce %s, expected %s", OR_NULL(s->nonce), OR_NULL(v->nonce));
    CHECKF(str_eq(s->token_type, v->token_type), "token_type %s, expected %s", OR_NULL(s->token_type),
           OR_NULL(v->token_type));
    sub = s->claims ? json_string_member(s->claims, "sub") : NULL;
    CHECKF(str_eq(sub, v->sub), "sub %s, expected %s", OR_NULL(sub), OR_NULL(v->sub));
    free(sub);
}

#define MAX_VCLIENTS 64

static void test_vectors(const char *path) {
    FILE *f = path ? fopen(path, "r") : NULL;
    char *line = NULL, *fields[4], *save, *tok;
    size_t cap = 0, n_clients = 0, n_cases = 0, n_fields, i, len;
    long long now = 0;
    int bad = 0, have_now = 0, in_case = 0, parse_ok = 1;
    char *jwks = NULL;
    size_t jwks_len = 0;
    struct vclient clients[MAX_VCLIENTS];
    struct vcase vc;
    oidc_http_request *req = NULL;

    memset(clients, 0, sizeof clients);
    memset(&vc, 0, sizeof vc);
    if (!f) {
        TEST_BEGIN("shared request vectors: read %s", path ? path : "(no REQUESTS_TXT argument)");
        CHECKF(0, "cannot open the flattened vectors (run through tests/c/run.sh)");
        TEST_END();
        return;
    }
    CHECK_RC(oidc_http_request_new(&req, NULL), OIDC_RESULT_OK);
    while (req && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        n_fields = 0;
        for (tok = strtok_r(line, " ", &save); tok && n_fields < 4; tok = strtok_r(NULL, " ", &save))
            fields[n_fields++] = tok;
        for (i = n_fields; i < 4; i++) fields[i] = NULL;
        if (n_fields == 0) continue;
        if (strcmp(fields[0], "now") == 0) {
            now = strtoll(fields[1], NULL, 10);
            have_now = 1;
        } else if (strcmp(fields[0], "jwks") == 0) {
            jwks = unhex(fields[1], &jwks_len, &bad);
        } else if (strcmp(fields[0], "client") == 0) {
            if (n_clients) finish_client(&clients[n_clients - 1]);
            if (n_clients == MAX_VCLIENTS || !jwks) {
                parse_ok = 0;
                break;
            }
            clients[n_clients].name = unhex(fields[1], &len, &bad);
            CHECK_RC(oidc_validator_builder_new(&clients[n_clients].b, NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_validator_builder_set_jwks_json(clients[n_clients].b, jwks, jwks_len, NULL), OIDC_RESULT_OK);
            n_clients++;
        } else if (strcmp(fields[0], "cfg") == 0) {
            if (!n_clients || !clients[n_clients - 1].b) {
                parse_ok = 0;
                break;
            }
            if (!apply_cfg(clients[n_clients - 1].b, fields[1], fields[2], fields[3], &bad)) {
                printf("#   unknown client member %s\n", fields[1]);
                parse_ok = 0;
            }
        } else if (strcmp(fields[0], "case") == 0) {
            if (n_clients) finish_client(&clients[n_clients - 1]);
            vcase_free(&vc);
            vc.name = unhex(fields[1], &len, &bad);
            vc.client = unhex(fields[2], &len, &bad);
            oidc_http_request_reset(req);
            in_case = 1;
        } else if (in_case && (strcmp(fields[0], "authorization") == 0 || strcmp(fields[0], "dpop") == 0)) {
            char *v = unhex(fields[1], &len, &bad);
            const char *name = fields[0][0] == 'a' ? AUTH : DPOP;
            CHECK_RC(oidc_http_request_add_header(req, name, strlen(name), (const uint8_t *)v, len, NULL), OIDC_RESULT_OK);
            free(v);
        } else if (in_case && strcmp(fields[0], "method") == 0) {
            char *v = unhex(fields[1], &len, &bad);
            CHECK_RC(oidc_http_request_set_method(req, v, len, NULL), OIDC_RESULT_OK);
            free(v);
        } else if (in_case && strcmp(fields[0], "url") == 0) {
            char *v = unhex(fields[1], &len, &bad);
            CHECK_RC(oidc_http_request_set_url(req, v, len, NULL), OIDC_RESULT_OK);
            free(v);
        } else if (in_case && strcmp(fields[0], "cert") == 0) {
            char *v = unhex(fields[1], &len, &bad);
            CHECK_RC(oidc_http_request_set_client_cert(req, (const uint8_t *)v, len, NULL), OIDC_RESULT_OK);
            free(v);
        } else if (in_case && strcmp(fields[0], "expect_allowed") == 0) {
            vc.allowed_set = 1;
            vc.allowed = atoi(fields[1]);
        } else if (in_case && strcmp(fields[0], "expect_code") == 0) {
            vc.code = strtol(fields[1], NULL, 10);
        } else if (in_case && strcmp(fields[0], "expect_status") == 0) {
            vc.status = strtol(fields[1], NULL, 10);
        } else if (in_case && strcmp(fields[0], "expect_code_name") == 0) {
            vc.code_name = unhex(fields[1], &len, &bad);
        } else if (in_case && strcmp(fields[0], "expect_error") == 0) {
            vc.error = unhex(fields[1], &len, &bad);
        } else if (in_case && strcmp(fields[0], "expect_dpop_nonce") == 0) {
            vc.nonce = unhex(fields[1], &len, &bad);
        } else if (in_case && strcmp(fields[0], "expect_token_type") == 0) {
            vc.token_type = unhex(fields[1], &len, &bad);
        } else if (in_case && strcmp(fields[0], "expect_sub") == 0) {
            vc.sub = unhex(fields[1], &len, &bad);
        } else if (in_case && strcmp(fields[0], "expect_challenges") == 0) {
            vc.n_challenges = (size_t)strtoul(fields[1], NULL, 10);
            vc.challenges = calloc(vc.n_challenges + 1, sizeof(char *));
        } else if (in_case && strcmp(fields[0], "expect_challenge") == 0) {
            if (vc.got_challenges >= vc.n_challenges) {
                parse_ok = 0;
                break;
            }
            vc.challenges[vc.got_challenges++] = unhex(fields[1], &len, &bad);
        } else if (in_case && strcmp(fields[0], "end") == 0) {
            const oidc_validator *c = NULL;
            struct snap s;
            for (i = 0; i < n_clients; i++)
                if (clients[i].name && vc.client && strcmp(clients[i].name, vc.client) == 0) c = clients[i].c;
            TEST_BEGIN("vector %s", OR_NULL(vc.name));
            CHECKF(c != NULL, "client %s was not built", OR_NULL(vc.client));
            CHECK(have_now && vc.allowed_set && vc.got_challenges == vc.n_challenges && !bad);
            CHECK_RC(oidc_http_request_set_now(req, now, NULL), OIDC_RESULT_OK);
            if (c) {
                s = decide(c, req);
                if (s.taken) check_vector(&vc, &s);
                snap_free(&s);
            }
            TEST_END();
            n_cases++;
            in_case = 0;
        } else {
            printf("#   unknown line %s\n", fields[0]);
            parse_ok = 0;
            break;
        }
    }
    TEST_BEGIN("shared request vectors: %s read completely (%zu clients, %zu cases)", path, n_clients, n_cases);
    CHECK(parse_ok && !bad && !in_case && have_now && n_cases > 0 && !ferror(f));
    TEST_END();
    fclose(f);
    free(line);
    free(jwks);
    vcase_free(&vc);
    for (i = 0; i < n_clients; i++) {
        free(clients[i].name);
        oidc_validator_builder_free(clients[i].b);
        oidc_validator_free(clients[i].c);
    }
    oidc_http_request_free(req);
}

/* ------------------------------------------------------------------------------------------ */
/* Decisions of the fixture clients (also: the builder settings reach the decision)            */

static void cfg_scope_write(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_add_required_scope(b, "write", 5, NULL), OIDC_RESULT_OK);
}
static void cfg_claim_web(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_add_allowed_claim_value(b, "client_id", 9, "web", 3, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_add_allowed_claim_value(b, "client_id", 9, "cli", 3, NULL), OIDC_RESULT_OK);
}
static void cfg_dpop_required(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_dpop_mode(b, OIDC_DPOP_MODE_REQUIRED, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_dpop_algorithms(b, "ES256,EdDSA", 11, NULL), OIDC_RESULT_OK);
}
static void cfg_dpop_disabled(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_dpop_mode(b, OIDC_DPOP_MODE_DISABLED, NULL), OIDC_RESULT_OK);
}
static void cfg_mtls(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_require_mtls(b, 1, NULL), OIDC_RESULT_OK);
}
static const char NONCE_SECRET_TEXT[] = "0123456789abcdef0123456789abcdef";
#define NONCE_SECRET ((const uint8_t *)NONCE_SECRET_TEXT)
#define NONCE_SECRET_LEN LEN(NONCE_SECRET_TEXT)
static void cfg_nonce(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_dpop_nonce_secret(b, NONCE_SECRET, NONCE_SECRET_LEN, 300, NULL), OIDC_RESULT_OK);
}
static void cfg_no_cache_short_window(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_token_cache_size(b, 0, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_dpop_proof_window_secs(b, 1, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_leeway_secs(b, 0, NULL), OIDC_RESULT_OK);
}

static void test_decisions(const oidc_validator *plain) {
    struct snap s;
    oidc_validator *c;

    TEST_BEGIN("Bearer token allowed: claims, token type, sub");
    s = expect(plain, "Bearer", AX_TOKEN_BEARER, NULL, OIDC_RESULT_OK, 200, NULL);
    CHECK(str_eq(s.token_type, "Bearer") && s.claims && s.claims_len == strlen(s.claims) && !s.nonce);
    expect_sub(&s, "alice");
    snap_free(&s);
    s = expect(plain, "bEaReR", AX_TOKEN_BEARER, NULL, OIDC_RESULT_OK, 200, NULL); /* scheme case-insensitive */
    snap_free(&s);
    TEST_END();

    TEST_BEGIN("no Authorization: 401 TOKEN_MISSING, bare challenges (Bearer, then DPoP with algs)");
    s = expect(plain, NULL, NULL, NULL, OIDC_RESULT_TOKEN_MISSING, 401, NULL);
    CHECKF(s.n_challenges == 2 && str_eq(s.challenges[0], "Bearer realm=\"api\"") &&
               str_starts(s.challenges[1], "DPoP realm=\"api\", algs=\"") && !str_has(s.challenges[1], "error"),
           "challenges: %s | %s", s.n_challenges > 0 ? s.challenges[0] : "-", s.n_challenges > 1 ? s.challenges[1] : "-");
    snap_free(&s);
    s = expect(plain, "Basic", "dXNlcjpwYXNz", NULL, OIDC_RESULT_TOKEN_MISSING, 401, NULL);
    snap_free(&s);
    TEST_END();

    TEST_BEGIN("expired token: 401 TOKEN_EXPIRED invalid_token, error on the Bearer challenge");
    s = expect(plain, "Bearer", AX_TOKEN_EXPIRED, NULL, OIDC_RESULT_TOKEN_EXPIRED, 401, "invalid_token");
    CHECK(s.n_challenges == 2 && str_has(s.challenges[0], "error=\"invalid_token\"") &&
          !str_has(s.challenges[1], "error="));
    snap_free(&s);
    TEST_END();

    TEST_BEGIN("required scope (add_required_scope): 403 INSUFFICIENT_SCOPE with scope=\"write\"");
    c = ax_client(cfg_scope_write);
    s = expect(c, "Bearer", AX_TOKEN_READ_ONLY, NULL, OIDC_RESULT_INSUFFICIENT_SCOPE, 403, "insufficient_scope");
    CHECKF(s.n_challenges >= 1 && str_has(s.challenges[0], "scope=\"write\""), "%s", s.n_challenges ? s.challenges[0] : "-");
    snap_free(&s);
    s = expect(c, "Bearer", AX_TOKEN_BEARER, NULL, OIDC_RESULT_OK, 200, NULL);
    snap_free(&s);
    oidc_validator_free(c);
    TEST_END();

    TEST_BEGIN("claim rule (add_allowed_claim_value): client_id svc not in {web, cli} -> 403 CLAIM_NOT_ALLOWED");
    c = ax_client(cfg_claim_web);
    s = expect(c, "Bearer", AX_TOKEN_BEARER, NULL, OIDC_RESULT_CLAIM_NOT_ALLOWED, 403, "insufficient_scope");
    snap_free(&s);
    oidc_validator_free(c);
    TEST_END();

    TEST_BEGIN("DPoP-bound token: sent as Bearer -> TOKEN_BINDING_MISMATCH; proof for another method -> DPOP_PROOF_MISMATCH");
    s = expect(plain, "Bearer", AX_TOKEN_DPOP, NULL, OIDC_RESULT_TOKEN_BINDING_MISMATCH, 401, "invalid_token");
    snap_free(&s);
    {
        oidc_http_request *r = new_request("DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_UNUSED]);
        CHECK_RC(oidc_http_request_set_method(r, "POST", 4, NULL), OIDC_RESULT_OK);
        s = decide(plain, r);
        CHECK(s.code == OIDC_RESULT_DPOP_PROOF_MISMATCH && s.status == 401 && str_eq(s.error, "invalid_dpop_proof"));
        CHECK(s.n_challenges == 2 && str_has(s.challenges[1], "error=\"invalid_dpop_proof\""));
        snap_free(&s);
        oidc_http_request_free(r);
    }
    s = expect(plain, "DPoP", AX_TOKEN_DPOP, NULL, OIDC_RESULT_DPOP_PROOF_INVALID, 401, "invalid_dpop_proof");
    snap_free(&s);
    s = expect(plain, "DPoP", AX_TOKEN_BEARER, AX_PROOFS[PROOF_UNUSED], OIDC_RESULT_DPOP_PROOF_MISMATCH, 401,
               "invalid_dpop_proof"); /* ath is the hash of another token */
    snap_free(&s);
    TEST_END();

    TEST_BEGIN("DPoP modes: required (no Bearer challenge, algs from set_dpop_algorithms), disabled (DPoP not offered)");
    c = ax_client(cfg_dpop_required);
    s = expect(c, "Bearer", AX_TOKEN_BEARER, NULL, OIDC_RESULT_TOKEN_MISSING, 401, NULL);
    CHECKF(s.n_challenges == 1 && str_eq(s.challenges[0], "DPoP realm=\"api\", algs=\"ES256 EdDSA\""), "%s",
           s.n_challenges ? s.challenges[0] : "-");
    snap_free(&s);
    oidc_validator_free(c);
    c = ax_client(cfg_dpop_disabled);
    s = expect(c, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_UNUSED], OIDC_RESULT_TOKEN_MISSING, 401, NULL);
    CHECK(s.n_challenges == 1 && str_eq(s.challenges[0], "Bearer realm=\"api\""));
    snap_free(&s);
    oidc_validator_free(c);
    TEST_END();

    TEST_BEGIN("server nonces (set_dpop_nonce_secret): proof without nonce -> 401 use_dpop_nonce + DPoP-Nonce");
    c = ax_client(cfg_nonce);
    s = expect(c, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_UNUSED], OIDC_RESULT_DPOP_NONCE_REQUIRED, 401, "use_dpop_nonce");
    CHECK(s.nonce != NULL && s.nonce[0] != 0);
    CHECK(s.n_challenges == 2 && str_has(s.challenges[1], "error=\"use_dpop_nonce\""));
    snap_free(&s);
    oidc_validator_free(c);
    TEST_END();

    TEST_BEGIN("proof window (set_dpop_proof_window_secs 1, leeway 0, token cache off): a proof 2 s old is stale");
    c = ax_client(cfg_no_cache_short_window);
    {
        oidc_http_request *r = new_request("DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_UNUSED]);
        CHECK_RC(oidc_http_request_set_now(r, AX_NOW + 2, NULL), OIDC_RESULT_OK);
        s = decide(c, r);
        CHECKF(s.code == OIDC_RESULT_DPOP_PROOF_STALE && s.status == 401, "%s", rc_name(s.code));
        snap_free(&s);
        oidc_http_request_free(r);
    }
    oidc_validator_free(c);
    TEST_END();

    TEST_BEGIN("certificate-bound token (set_client_cert): allowed with its certificate only");
    {
        oidc_http_request *r = new_request("Bearer", AX_TOKEN_MTLS, NULL);
        uint8_t other[AX_CERT_DER_LEN];
        CHECK_RC(oidc_http_request_set_client_cert(r, AX_CERT_DER, AX_CERT_DER_LEN, NULL), OIDC_RESULT_OK);
        s = decide(plain, r);
        CHECKF(s.allowed && str_eq(s.token_type, "Bearer"), "%s %s", rc_name(s.code), OR_NULL(s.message));
        expect_sub(&s, "erin");
        snap_free(&s);
        memcpy(other, AX_CERT_DER, sizeof other);
        other[sizeof other / 2] ^= 1;
        CHECK_RC(oidc_http_request_set_client_cert(r, other, sizeof other, NULL), OIDC_RESULT_OK);
        s = decide(plain, r);
        CHECK(s.code == OIDC_RESULT_TOKEN_BINDING_MISMATCH && s.status == 401 && str_eq(s.error, "invalid_token"));
        snap_free(&s);
        CHECK_RC(oidc_http_request_set_client_cert(r, NULL, 0, NULL), OIDC_RESULT_OK); /* clears it */
        s = decide(plain, r);
        CHECK(s.code == OIDC_RESULT_TOKEN_BINDING_MISMATCH);
        snap_free(&s);
        oidc_http_request_free(r);
    }
    c = ax_client(cfg_mtls);
    s = expect(c, "Bearer", AX_TOKEN_BEARER, NULL, OIDC_RESULT_TOKEN_BINDING_MISMATCH, 401, "invalid_token");
    snap_free(&s);
    oidc_validator_free(c);
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* (b) bad input                                                                               */

static oidc_validator *g_client;     /* the plain fixture client */
static oidc_http_request *g_req;  /* a complete request (Bearer, allowed) */

static void null_cb(void *ud, oidc_result rc, const oidc_decision *d, const oidc_error *e) {
    (void)rc, (void)d, (void)e;
    (*(int *)ud)++;
}
static int g_null_cb_calls;

static oidc_validator_builder *tmp_builder(void) {
    oidc_validator_builder *b = NULL;
    CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
    return b;
}
static oidc_http_request *tmp_request(void) {
    oidc_http_request *r = NULL;
    CHECK_RC(oidc_http_request_new(&r, NULL), OIDC_RESULT_OK);
    return r;
}
static int32_t store_never(void *ud, const char *k, size_t n, uint64_t ttl) {
    (void)ud, (void)k, (void)n, (void)ttl;
    return -1;
}

/* Each case builds (and frees) what it needs, so nothing leaks whatever the outcome. */
#define NULL_CASE(id, setup, expr, cleanup)                                                        \
    static oidc_result null_##id(oidc_error **e) {                                                 \
        oidc_result rc_;                                                                           \
        setup;                                                                                     \
        rc_ = (expr);                                                                              \
        cleanup;                                                                                   \
        return rc_;                                                                                \
    }
#define NO_SETUP (void)0
#define WITH_B oidc_validator_builder *b = tmp_builder()
#define FREE_B oidc_validator_builder_free(b)
#define WITH_R oidc_http_request *r = tmp_request()
#define FREE_R oidc_http_request_free(r)
#define V ((const uint8_t *)"x")

NULL_CASE(request_new, NO_SETUP, oidc_http_request_new(NULL, e), NO_SETUP)
NULL_CASE(add_header_request, NO_SETUP, oidc_http_request_add_header(NULL, AUTH, LEN(AUTH), V, 1, e), NO_SETUP)
NULL_CASE(add_header_name, WITH_R, oidc_http_request_add_header(r, NULL, 13, V, 1, e), FREE_R)
NULL_CASE(add_header_value, WITH_R, oidc_http_request_add_header(r, AUTH, LEN(AUTH), NULL, 5, e), FREE_R)
NULL_CASE(set_method_request, NO_SETUP, oidc_http_request_set_method(NULL, "GET", 3, e), NO_SETUP)
NULL_CASE(set_method_method, WITH_R, oidc_http_request_set_method(r, NULL, 3, e), FREE_R)
NULL_CASE(set_url_request, NO_SETUP, oidc_http_request_set_url(NULL, AX_URL, LEN(AX_URL), e), NO_SETUP)
NULL_CASE(set_url_url, WITH_R, oidc_http_request_set_url(r, NULL, 9, e), FREE_R)
NULL_CASE(set_client_cert_request, NO_SETUP, oidc_http_request_set_client_cert(NULL, V, 1, e), NO_SETUP)
NULL_CASE(set_client_cert_der, WITH_R, oidc_http_request_set_client_cert(r, NULL, 9, e), FREE_R)
NULL_CASE(set_now_request, NO_SETUP, oidc_http_request_set_now(NULL, AX_NOW, e), NO_SETUP)
NULL_CASE(authenticate_client, NO_SETUP, oidc_authenticate(NULL, g_req, &(oidc_decision *){NULL}, e), NO_SETUP)
NULL_CASE(authenticate_request, NO_SETUP, oidc_authenticate(g_client, NULL, &(oidc_decision *){NULL}, e), NO_SETUP)
NULL_CASE(authenticate_decision_out, NO_SETUP, oidc_authenticate(g_client, g_req, NULL, e), NO_SETUP)
NULL_CASE(async_client, NO_SETUP, oidc_authenticate_async(NULL, g_req, null_cb, &g_null_cb_calls, NULL, e), NO_SETUP)
NULL_CASE(async_request, NO_SETUP, oidc_authenticate_async(g_client, NULL, null_cb, &g_null_cb_calls, NULL, e), NO_SETUP)
NULL_CASE(async_cb, NO_SETUP, oidc_authenticate_async(g_client, g_req, NULL, &g_null_cb_calls, NULL, e), NO_SETUP)
NULL_CASE(add_required_scope_builder, NO_SETUP, oidc_validator_builder_add_required_scope(NULL, "s", 1, e), NO_SETUP)
NULL_CASE(add_required_scope_scope, WITH_B, oidc_validator_builder_add_required_scope(b, NULL, 1, e), FREE_B)
NULL_CASE(add_allowed_claim_value_builder, NO_SETUP, oidc_validator_builder_add_allowed_claim_value(NULL, "c", 1, "v", 1, e),
          NO_SETUP)
NULL_CASE(add_allowed_claim_value_claim, WITH_B, oidc_validator_builder_add_allowed_claim_value(b, NULL, 1, "v", 1, e), FREE_B)
NULL_CASE(add_allowed_claim_value_value, WITH_B, oidc_validator_builder_add_allowed_claim_value(b, "c", 1, NULL, 1, e), FREE_B)
NULL_CASE(set_dpop_mode, NO_SETUP, oidc_validator_builder_set_dpop_mode(NULL, OIDC_DPOP_MODE_REQUIRED, e), NO_SETUP)
NULL_CASE(set_dpop_algorithms_builder, NO_SETUP, oidc_validator_builder_set_dpop_algorithms(NULL, "ES256", 5, e), NO_SETUP)
NULL_CASE(set_dpop_algorithms_algs, WITH_B, oidc_validator_builder_set_dpop_algorithms(b, NULL, 5, e), FREE_B)
NULL_CASE(set_dpop_proof_window_secs, NO_SETUP, oidc_validator_builder_set_dpop_proof_window_secs(NULL, 30, e), NO_SETUP)
NULL_CASE(set_dpop_nonce_secret_builder, NO_SETUP,
          oidc_validator_builder_set_dpop_nonce_secret(NULL, NONCE_SECRET, NONCE_SECRET_LEN, 300, e), NO_SETUP)
NULL_CASE(set_dpop_nonce_secret_secret, WITH_B, oidc_validator_builder_set_dpop_nonce_secret(b, NULL, 32, 300, e), FREE_B)
NULL_CASE(set_dpop_replay_store, NO_SETUP, oidc_validator_builder_set_dpop_replay_store(NULL, store_never, NULL, e), NO_SETUP)
NULL_CASE(set_require_mtls, NO_SETUP, oidc_validator_builder_set_require_mtls(NULL, 1, e), NO_SETUP)
NULL_CASE(set_token_cache_size, NO_SETUP, oidc_validator_builder_set_token_cache_size(NULL, 16, e), NO_SETUP)

#define N(id) {#id, null_##id}
static const struct {
    const char *name;
    oidc_result (*call)(oidc_error **);
} NULL_CASES[] = {
    N(request_new), N(add_header_request), N(add_header_name), N(add_header_value), N(set_method_request),
    N(set_method_method), N(set_url_request), N(set_url_url), N(set_client_cert_request), N(set_client_cert_der),
    N(set_now_request), N(authenticate_client), N(authenticate_request), N(authenticate_decision_out),
    N(async_client), N(async_request), N(async_cb), N(add_required_scope_builder), N(add_required_scope_scope),
    N(add_allowed_claim_value_builder), N(add_allowed_claim_value_claim), N(add_allowed_claim_value_value),
    N(set_dpop_mode), N(set_dpop_algorithms_builder), N(set_dpop_algorithms_algs), N(set_dpop_proof_window_secs),
    N(set_dpop_nonce_secret_builder), N(set_dpop_nonce_secret_secret), N(set_dpop_replay_store), N(set_require_mtls),
    N(set_token_cache_size),
};
#undef N

/* The error object of a misuse failure (as test_offline.c checks it). */
static void check_misuse_error(oidc_error *err, oidc_result rc) {
    CHECK(err != NULL && err != SENTINEL_ERR);
    if (!err || err == SENTINEL_ERR) return;
    CHECK(oidc_error_code(err) == rc);
    CHECK(oidc_error_message(err)[0] != 0);
    CHECK(oidc_error_http_status(err) == 500);
    CHECK(oidc_error_oauth_error(err) == NULL);
    oidc_error_free(err);
}

/* String parameters that must be UTF-8 (the host's own values, not the remote party's). */
typedef oidc_result (*str_call)(const char *s, size_t n, oidc_error **e);
#define STR_CASE(id, setup, expr, cleanup)                                                         \
    static oidc_result str_##id(const char *s, size_t n, oidc_error **e) {                         \
        oidc_result rc_;                                                                           \
        setup;                                                                                     \
        rc_ = (expr);                                                                              \
        cleanup;                                                                                   \
        return rc_;                                                                                \
    }
STR_CASE(method, WITH_R, oidc_http_request_set_method(r, s, n, e), FREE_R)
STR_CASE(url, WITH_R, oidc_http_request_set_url(r, s, n, e), FREE_R)
STR_CASE(header_name, WITH_R, oidc_http_request_add_header(r, s, n, V, 1, e), FREE_R)
STR_CASE(required_scope, WITH_B, oidc_validator_builder_add_required_scope(b, s, n, e), FREE_B)
STR_CASE(claim, WITH_B, oidc_validator_builder_add_allowed_claim_value(b, s, n, "v", 1, e), FREE_B)
STR_CASE(claim_value, WITH_B, oidc_validator_builder_add_allowed_claim_value(b, "c", 1, s, n, e), FREE_B)
STR_CASE(dpop_algorithms, WITH_B, oidc_validator_builder_set_dpop_algorithms(b, s, n, e), FREE_B)

static const struct {
    const char *name;
    str_call call;
} STRING_PARAMS[] = {
    {"oidc_http_request_set_method(method)", str_method},
    {"oidc_http_request_set_url(url)", str_url},
    {"oidc_http_request_add_header(name)", str_header_name},
    {"oidc_validator_builder_add_required_scope(scope)", str_required_scope},
    {"oidc_validator_builder_add_allowed_claim_value(claim)", str_claim},
    {"oidc_validator_builder_add_allowed_claim_value(value)", str_claim_value},
    {"oidc_validator_builder_set_dpop_algorithms(algs)", str_dpop_algorithms},
};

/* A header value of `n` bytes: "<prefix>" then 'A's. */
static char *big_value(const char *prefix, size_t n) {
    char *v = malloc(n + 1);
    size_t p = strlen(prefix);
    memset(v, 'A', n);
    memcpy(v, prefix, p);
    v[n] = 0;
    return v;
}

static void test_misuse(void) {
    size_t i, j;
    struct snap s;

    for (i = 0; i < COUNT(NULL_CASES); i++) {
        oidc_error *err = SENTINEL_ERR;
        oidc_result rc;
        TEST_BEGIN("NULL argument: %s -> NULL_PARAMETER (with and without err_out)", NULL_CASES[i].name);
        rc = NULL_CASES[i].call(&err);
        CHECK_RC(rc, OIDC_RESULT_NULL_PARAMETER);
        check_misuse_error(err, rc);
        CHECK_RC(NULL_CASES[i].call(NULL), OIDC_RESULT_NULL_PARAMETER);
        TEST_END();
    }
    TEST_BEGIN("a refused oidc_authenticate_async never calls back");
    sleep_ms(200);
    CHECK(__atomic_load_n(&g_null_cb_calls, __ATOMIC_SEQ_CST) == 0);
    TEST_END();

    for (i = 0; i < COUNT(STRING_PARAMS); i++) {
        TEST_BEGIN("string parameter %s: invalid UTF-8 -> INVALID_UTF8", STRING_PARAMS[i].name);
        for (j = 0; j < COUNT(BAD_UTF8); j++) {
            oidc_error *err = SENTINEL_ERR;
            oidc_result rc = STRING_PARAMS[i].call(BAD_UTF8[j], strlen(BAD_UTF8[j]), &err);
            CHECKF(rc == OIDC_RESULT_INVALID_UTF8, "bad UTF-8 #%zu: %s", j, rc_name(rc));
            check_misuse_error(err, rc);
            CHECK_RC(STRING_PARAMS[i].call(BAD_UTF8[j], strlen(BAD_UTF8[j]), NULL), OIDC_RESULT_INVALID_UTF8);
        }
        TEST_END();
    }

    TEST_BEGIN("_free(NULL) and _reset(NULL) are no-ops");
    oidc_http_request_free(NULL);
    oidc_http_request_reset(NULL);
    oidc_decision_free(NULL);
    TEST_END();

    TEST_BEGIN("decision getters accept a NULL decision (strings NULL with *len_out 0)");
    {
        size_t len;
        CHECK(oidc_decision_allowed(NULL) == 0);
        CHECK(oidc_decision_code(NULL) == OIDC_RESULT_NULL_PARAMETER);
        CHECK(oidc_decision_http_status(NULL) == 0);
        len = 7;
        CHECK(oidc_decision_error(NULL, &len) == NULL && len == 0 && oidc_decision_error(NULL, NULL) == NULL);
        len = 7;
        CHECK(oidc_decision_message(NULL, &len) == NULL && len == 0 && oidc_decision_message(NULL, NULL) == NULL);
        len = 7;
        CHECK(oidc_decision_claims(NULL, &len) == NULL && len == 0 && oidc_decision_claims(NULL, NULL) == NULL);
        CHECK(oidc_decision_token_type(NULL) == NULL);
        CHECK(oidc_decision_challenge_count(NULL) == 0);
        len = 7;
        CHECK(oidc_decision_challenge(NULL, 0, &len) == NULL && len == 0 && oidc_decision_challenge(NULL, 0, NULL) == NULL);
        len = 7;
        CHECK(oidc_decision_dpop_nonce(NULL, &len) == NULL && len == 0 && oidc_decision_dpop_nonce(NULL, NULL) == NULL);
    }
    TEST_END();

    TEST_BEGIN("oidc_decision_challenge past the end (count, count+1, SIZE_MAX) -> NULL, len 0");
    {
        oidc_http_request *r = new_request(NULL, NULL, NULL);
        oidc_decision *d = NULL;
        size_t n, len;
        CHECK_RC(oidc_authenticate(g_client, r, &d, NULL), OIDC_RESULT_OK);
        n = oidc_decision_challenge_count(d);
        CHECK(n == 2);
        len = 5;
        CHECK(oidc_decision_challenge(d, n, &len) == NULL && len == 0);
        CHECK(oidc_decision_challenge(d, n + 1, NULL) == NULL);
        len = 5;
        CHECK(oidc_decision_challenge(d, SIZE_MAX, &len) == NULL && len == 0);
        len = 5;
        CHECK(oidc_decision_claims(d, &len) == NULL && len == 0);
        oidc_decision_free(d);
        oidc_http_request_free(r);
    }
    TEST_END();

    TEST_BEGIN("host misuse (no method, no URL, not an absolute http(s) URL): INVALID_ARGUMENT, no decision, "
               "err_out filled; oidc_authenticate_async refuses it too");
    {
        static const struct {
            const char *method, *url;
        } bad[] = {
            {NULL, AX_URL}, {"GET", NULL}, {"", AX_URL}, {"GET", ""},
            {"GET", "/items"}, {"GET", "ftp://api.c-suite.test/"}, {"GET", "api.c-suite.test/x"},
        };
        for (i = 0; i < COUNT(bad); i++) {
            oidc_http_request *r = tmp_request();
            oidc_decision *d = SENTINEL_DECISION;
            oidc_error *err = SENTINEL_ERR;
            oidc_result rc;
            if (bad[i].method) CHECK_RC(oidc_http_request_set_method(r, bad[i].method, strlen(bad[i].method), NULL), OIDC_RESULT_OK);
            if (bad[i].url) CHECK_RC(oidc_http_request_set_url(r, bad[i].url, strlen(bad[i].url), NULL), OIDC_RESULT_OK);
            add_auth(r, "Bearer", AX_TOKEN_BEARER);
            rc = oidc_authenticate(g_client, r, &d, &err);
            CHECKF(rc == OIDC_RESULT_INVALID_ARGUMENT, "#%zu %s %s: %s", i, OR_NULL(bad[i].method), OR_NULL(bad[i].url),
                   rc_name(rc));
            CHECK(d == SENTINEL_DECISION);
            check_misuse_error(err, rc);
            /* the non-blocking twin refuses it in the call, and never calls back */
            err = SENTINEL_ERR;
            rc = oidc_authenticate_async(g_client, r, null_cb, &g_null_cb_calls, NULL, &err);
            CHECKF(rc == OIDC_RESULT_INVALID_ARGUMENT, "async #%zu: %s", i, rc_name(rc));
            check_misuse_error(err, rc);
            oidc_http_request_free(r);
        }
        sleep_ms(200);
        CHECK(__atomic_load_n(&g_null_cb_calls, __ATOMIC_SEQ_CST) == 0);
    }
    TEST_END();

    TEST_BEGIN("what the client controls inside the method and URL (a method that is not a token, a Host that "
               "does not parse): a 400 REQUEST_MALFORMED decision, not a misuse");
    {
        static const struct {
            const char *method, *url;
        } bad[] = {
            {"G ET", AX_URL}, {"GET\r\n", AX_URL}, {"GET", "https://"}, {"GET", "https://user@api.c-suite.test/"},
            {"GET", "https://api.c-suite.test:70000/"}, {"GET", "https://[::1/x"},
        };
        for (i = 0; i < COUNT(bad); i++) {
            oidc_http_request *r = tmp_request();
            struct snap s;
            CHECK_RC(oidc_http_request_set_method(r, bad[i].method, strlen(bad[i].method), NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_http_request_set_url(r, bad[i].url, strlen(bad[i].url), NULL), OIDC_RESULT_OK);
            add_auth(r, "Bearer", AX_TOKEN_BEARER);
            s = decide(g_client, r);
            CHECKF(s.code == OIDC_RESULT_REQUEST_MALFORMED && s.status == 400 && !s.allowed, "#%zu %s %s: %s", i,
                   bad[i].method, bad[i].url, rc_name(s.code));
            CHECK(str_eq(s.error, "invalid_request"));
            snap_free(&s);
            oidc_http_request_free(r);
        }
    }
    TEST_END();

    TEST_BEGIN("header names: Authorization and DPoP in any case; any other -> INVALID_ARGUMENT");
    {
        static const char *const ok_names[] = {"Authorization", "authorization", "AUTHORIZATION", "DPoP", "dpop", "DPOP"};
        static const char *const bad_names[] = {"Cookie", "X-Authorization", "Authorization2", "Authorization ",
                                                " DPoP", "DPoP:", "Proxy-Authorization", "WWW-Authenticate", ""};
        oidc_http_request *r = tmp_request();
        for (i = 0; i < COUNT(ok_names); i++)
            CHECK_RC(oidc_http_request_add_header(r, ok_names[i], strlen(ok_names[i]), V, 1, NULL), OIDC_RESULT_OK);
        for (i = 0; i < COUNT(bad_names); i++) {
            oidc_error *err = SENTINEL_ERR;
            oidc_result rc = oidc_http_request_add_header(r, bad_names[i], strlen(bad_names[i]), V, 1, &err);
            CHECKF(rc == OIDC_RESULT_INVALID_ARGUMENT, "\"%s\": %s", bad_names[i], rc_name(rc));
            check_misuse_error(err, rc);
        }
        CHECK_RC(oidc_http_request_add_header(r, NULL, 0, V, 1, NULL), OIDC_RESULT_INVALID_ARGUMENT);
        oidc_http_request_free(r);
    }
    TEST_END();

    TEST_BEGIN("header value bytes are the request's: invalid UTF-8 is a decision (400 / 401), never a misuse");
    for (j = 0; j < COUNT(BAD_UTF8); j++) {
        oidc_http_request *r = new_request(NULL, NULL, NULL);
        char v[64];
        snprintf(v, sizeof v, "Bearer %s", BAD_UTF8[j]);
        add_header(r, AUTH, v);
        s = decide(g_client, r);
        CHECKF(s.code == OIDC_RESULT_REQUEST_MALFORMED && s.status == 400 && str_eq(s.error, "invalid_request"),
               "Authorization #%zu: %s %u", j, rc_name(s.code), s.status);
        snap_free(&s);
        oidc_http_request_reset(r);
        fill(r, "DPoP", AX_TOKEN_DPOP, BAD_UTF8[j]);
        s = decide(g_client, r);
        CHECKF(s.code == OIDC_RESULT_DPOP_PROOF_INVALID && s.status == 401 && str_eq(s.error, "invalid_dpop_proof"),
               "DPoP #%zu: %s %u", j, rc_name(s.code), s.status);
        snap_free(&s);
        oidc_http_request_free(r);
    }
    {
        /* an embedded NUL, and an empty value */
        oidc_http_request *r = new_request(NULL, NULL, NULL);
        static const uint8_t nul[] = {'B', 'e', 'a', 'r', 'e', 'r', ' ', 'a', 0, 'b'};
        CHECK_RC(oidc_http_request_add_header(r, AUTH, LEN(AUTH), nul, sizeof nul, NULL), OIDC_RESULT_OK);
        s = decide(g_client, r);
        CHECKF(s.code == OIDC_RESULT_REQUEST_MALFORMED && s.status == 400, "NUL: %s", rc_name(s.code));
        snap_free(&s);
        oidc_http_request_reset(r);
        fill(r, NULL, NULL, NULL);
        CHECK_RC(oidc_http_request_add_header(r, AUTH, LEN(AUTH), NULL, 0, NULL), OIDC_RESULT_OK);
        s = decide(g_client, r);
        CHECKF(s.code == OIDC_RESULT_REQUEST_MALFORMED && s.status == 400, "empty: %s", rc_name(s.code));
        snap_free(&s);
        oidc_http_request_free(r);
    }
    TEST_END();

    TEST_BEGIN("oversized values (1 MiB): Authorization -> 401 TOKEN_TOO_LARGE, DPoP -> 401 DPOP_PROOF_INVALID");
    {
        char *auth = big_value("Bearer ", 1 << 20), *proof = big_value("eyJ", 1 << 20);
        oidc_http_request *r = new_request(NULL, NULL, NULL);
        add_header(r, AUTH, auth);
        s = decide(g_client, r);
        CHECKF(s.code == OIDC_RESULT_TOKEN_TOO_LARGE && s.status == 401 && str_eq(s.error, "invalid_token"), "%s %u",
               rc_name(s.code), s.status);
        snap_free(&s);
        oidc_http_request_reset(r);
        fill(r, "DPoP", AX_TOKEN_DPOP, proof);
        s = decide(g_client, r);
        CHECKF(s.code == OIDC_RESULT_DPOP_PROOF_INVALID && s.status == 401 && str_eq(s.error, "invalid_dpop_proof"),
               "%s %u", rc_name(s.code), s.status);
        snap_free(&s);
        oidc_http_request_free(r);
        free(auth);
        free(proof);
    }
    TEST_END();

    TEST_BEGIN("a value over 16 MiB is refused at add_header (INVALID_ARGUMENT), not copied");
    {
        size_t n = (size_t)16 * 1024 * 1024 + 1;
        char *v = big_value("Bearer ", n);
        oidc_http_request *r = tmp_request();
        oidc_error *err = NULL;
        oidc_result rc = oidc_http_request_add_header(r, AUTH, LEN(AUTH), (const uint8_t *)v, n, &err);
        CHECKF(rc == OIDC_RESULT_INVALID_ARGUMENT, "%s", rc_name(rc));
        check_misuse_error(err, rc);
        oidc_http_request_free(r);
        free(v);
    }
    TEST_END();

    TEST_BEGIN("100000 Authorization lines -> 400 invalid_request; 100000 DPoP lines -> 401 DPOP_PROOF_INVALID");
    {
        oidc_http_request *r = new_request(NULL, NULL, NULL);
        int ok = 1;
        for (i = 0; i < 100000; i++)
            ok &= oidc_http_request_add_header(r, AUTH, LEN(AUTH), (const uint8_t *)"Bearer abc", 10, NULL) == OIDC_RESULT_OK;
        CHECK(ok);
        s = decide(g_client, r);
        CHECKF(s.code == OIDC_RESULT_REQUEST_MALFORMED && s.status == 400 && str_eq(s.error, "invalid_request"), "%s",
               rc_name(s.code));
        snap_free(&s);
        oidc_http_request_reset(r);
        fill(r, "DPoP", AX_TOKEN_DPOP, NULL);
        for (i = 0; i < 100000; i++)
            ok &= oidc_http_request_add_header(r, DPOP, LEN(DPOP), (const uint8_t *)AX_PROOFS[PROOF_UNUSED],
                                               strlen(AX_PROOFS[PROOF_UNUSED]), NULL) == OIDC_RESULT_OK;
        CHECK(ok);
        s = decide(g_client, r);
        CHECKF(s.code == OIDC_RESULT_DPOP_PROOF_INVALID && s.status == 401, "%s", rc_name(s.code));
        snap_free(&s);
        oidc_http_request_free(r);
    }
    TEST_END();

    TEST_BEGIN("one request object reused after oidc_http_request_reset: every field is cleared");
    {
        oidc_http_request *r = new_request("Bearer", AX_TOKEN_MTLS, NULL);
        oidc_decision *d = SENTINEL_DECISION;
        CHECK_RC(oidc_http_request_set_client_cert(r, AX_CERT_DER, AX_CERT_DER_LEN, NULL), OIDC_RESULT_OK);
        s = decide(g_client, r);
        CHECK(s.allowed);
        snap_free(&s);
        oidc_http_request_reset(r);
        CHECK_RC(oidc_authenticate(g_client, r, &d, NULL), OIDC_RESULT_INVALID_ARGUMENT); /* no method, no URL */
        CHECK(d == SENTINEL_DECISION);
        fill(r, NULL, NULL, NULL);
        s = decide(g_client, r); /* no header left */
        CHECK(s.code == OIDC_RESULT_TOKEN_MISSING);
        snap_free(&s);
        add_auth(r, "Bearer", AX_TOKEN_MTLS);
        s = decide(g_client, r); /* no certificate left */
        CHECKF(s.code == OIDC_RESULT_TOKEN_BINDING_MISMATCH, "%s", rc_name(s.code));
        snap_free(&s);
        oidc_http_request_reset(r);
        fill(r, "Bearer", AX_TOKEN_BEARER, NULL);
        s = decide(g_client, r);
        CHECK(s.allowed); /* one Authorization line, not two */
        expect_sub(&s, "alice");
        snap_free(&s);
        oidc_http_request_reset(r);
        oidc_http_request_reset(r); /* twice is fine */
        fill(r, "Bearer", AX_TOKEN_EXPIRED, NULL);
        s = decide(g_client, r);
        CHECK(s.code == OIDC_RESULT_TOKEN_EXPIRED);
        snap_free(&s);
        oidc_http_request_free(r);
    }
    TEST_END();
}

/* Builder settings out of range: refused at the setter or at build, with a message; nothing leaks. */
static void bad_dpop_mode(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_dpop_mode(b, 3, e);
}
static void bad_mtls(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_require_mtls(b, 2, e);
}
static void bad_window_0(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_dpop_proof_window_secs(b, 0, e);
}
static void bad_window_big(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_dpop_proof_window_secs(b, 3601, e);
}
static void bad_algs_hs(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_dpop_algorithms(b, "HS256", 5, e);
}
static void bad_algs_unknown(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_dpop_algorithms(b, "ES256,XS999", 11, e);
}
static void bad_algs_empty(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_dpop_algorithms(b, "", 0, e);
}
static void bad_secret_short(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_dpop_nonce_secret(b, NONCE_SECRET, 15, 300, e);
}
static void bad_secret_lifetime_big(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_dpop_nonce_secret(b, NONCE_SECRET, 32, 86401, e);
}
static void bad_cache_size(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_set_token_cache_size(b, ((size_t)1 << 20) + 1, e);
}
static void bad_scope_empty(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_add_required_scope(b, "", 0, e);
}
static void bad_scope_space(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_add_required_scope(b, "read write", 10, e);
}
static void bad_claim_empty(oidc_validator_builder *b, oidc_error **e, oidc_result *rc) {
    *rc = oidc_validator_builder_add_allowed_claim_value(b, "", 0, "v", 1, e);
}

static void test_builder_errors(void) {
    static const struct {
        const char *name;
        void (*set)(oidc_validator_builder *, oidc_error **, oidc_result *);
        oidc_result expected;
    } cases[] = {
        {"set_dpop_mode(3)", bad_dpop_mode, OIDC_RESULT_INVALID_ARGUMENT},
        {"set_require_mtls(2)", bad_mtls, OIDC_RESULT_INVALID_ARGUMENT},
        {"set_dpop_proof_window_secs(0)", bad_window_0, OIDC_RESULT_INVALID_CONFIG},
        {"set_dpop_proof_window_secs(3601)", bad_window_big, OIDC_RESULT_INVALID_CONFIG},
        {"set_dpop_algorithms(HS256)", bad_algs_hs, OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"set_dpop_algorithms(ES256,XS999)", bad_algs_unknown, OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"set_dpop_algorithms(\"\")", bad_algs_empty, OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"set_dpop_nonce_secret(15 bytes)", bad_secret_short, OIDC_RESULT_INVALID_CONFIG},
        {"set_dpop_nonce_secret(lifetime 86401)", bad_secret_lifetime_big, OIDC_RESULT_INVALID_CONFIG},
        {"set_token_cache_size(2^20 + 1)", bad_cache_size, OIDC_RESULT_INVALID_CONFIG},
        {"add_required_scope(\"\")", bad_scope_empty, OIDC_RESULT_INVALID_CONFIG},
        {"add_required_scope(\"read write\")", bad_scope_space, OIDC_RESULT_INVALID_CONFIG},
        {"add_allowed_claim_value(claim \"\")", bad_claim_empty, OIDC_RESULT_INVALID_CONFIG},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        oidc_validator_builder *b = ax_builder();
        oidc_validator *c = NULL;
        oidc_error *err = NULL;
        oidc_result rc = OIDC_RESULT_OK;
        TEST_BEGIN("builder: %s -> %s (at the setter or at build), with a message", cases[i].name,
                   rc_name(cases[i].expected));
        cases[i].set(b, &err, &rc);
        if (rc == OIDC_RESULT_OK) {
            CHECK(err == NULL);
            rc = oidc_validator_builder_build(b, &c, &err); /* consumes b */
        } else {
            oidc_validator_builder_free(b);
        }
        CHECK_RC_ERR(rc, cases[i].expected, err);
        CHECK(c == NULL);
        CHECK(err != NULL && oidc_error_code(err) == rc && oidc_error_message(err)[0]);
        oidc_error_free(err);
        oidc_validator_free(c);
        TEST_END();
    }
}

/* ------------------------------------------------------------------------------------------ */
/* (c) the non-blocking twin                                                                   */

struct async_call {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    oidc_result rc;
    pthread_t thread;
    struct snap snap;
    int had_decision, had_err;
    oidc_result err_code;
};

static void async_init(struct async_call *a) {
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
}

static void async_destroy(struct async_call *a) {
    snap_free(&a->snap);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
}

static void on_decision(void *ud, oidc_result rc, const oidc_decision *d, const oidc_error *err) {
    struct async_call *a = ud;
    pthread_mutex_lock(&a->mu);
    a->calls++;
    a->rc = rc;
    a->thread = pthread_self();
    a->had_decision = d != NULL;
    a->had_err = err != NULL;
    a->err_code = err ? oidc_error_code(err) : OIDC_RESULT_OK;
    if (d && a->calls == 1) snap_take(&a->snap, d);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* Wait (up to 60 s: valgrind is slow) for the first callback. */
static int async_wait(struct async_call *a) {
    struct timespec until;
    int calls;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&a->mu);
    while (a->calls == 0)
        if (pthread_cond_timedwait(&a->cv, &a->mu, &until) == ETIMEDOUT) break;
    calls = a->calls;
    pthread_mutex_unlock(&a->mu);
    return calls;
}

/* Submit `r` on `c` and wait; the request is reset and freed right after the submission
 * (it is copied). Returns 1 when the call was accepted. */
static int run_async(const oidc_validator *c, oidc_http_request *r, const oidc_cancel *cancel, struct async_call *a) {
    oidc_error *err = NULL;
    oidc_result rc = oidc_authenticate_async(c, r, on_decision, a, cancel, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    oidc_http_request_reset(r);
    oidc_http_request_free(r);
    if (rc != OIDC_RESULT_OK) return 0;
    CHECK(async_wait(a) >= 1);
    sleep_ms(50); /* a second callback would come now */
    pthread_mutex_lock(&a->mu);
    CHECKF(a->calls == 1, "%d callbacks", a->calls);
    CHECK(!pthread_equal(a->thread, pthread_self()));
    pthread_mutex_unlock(&a->mu);
    return 1;
}

static void test_async(const oidc_validator *plain) {
    static const struct {
        const char *name, *scheme, *token;
        int scoped;
    } cases[] = {
        {"Bearer allowed", "Bearer", AX_TOKEN_BEARER, 0},
        {"no token", NULL, NULL, 0},
        {"expired", "Bearer", AX_TOKEN_EXPIRED, 0},
        {"malformed", "Bearer", "a b", 0},
        {"bound token as Bearer", "Bearer", AX_TOKEN_DPOP, 0},
        {"insufficient scope", "Bearer", AX_TOKEN_READ_ONLY, 1},
    };
    oidc_validator *scoped = ax_client(cfg_scope_write);
    size_t i;

    for (i = 0; i < COUNT(cases); i++) {
        const oidc_validator *c = cases[i].scoped ? scoped : plain;
        struct async_call a;
        oidc_http_request *r = new_request(cases[i].scheme, cases[i].token, NULL);
        struct snap blocking = decide(c, r);
        TEST_BEGIN("async %s: the blocking decision, one callback, on a liboidc thread", cases[i].name);
        async_init(&a);
        if (run_async(c, r, NULL, &a)) {
            CHECK(a.rc == OIDC_RESULT_OK && a.had_decision && !a.had_err);
            check_same(&a.snap, &blocking);
        }
        async_destroy(&a);
        snap_free(&blocking);
        TEST_END();
    }

    TEST_BEGIN("async DPoP: allowed (token type DPoP, sub bob), then the same proof blocking -> DPOP_REPLAY");
    {
        struct async_call a;
        struct snap s;
        async_init(&a);
        if (run_async(plain, new_request("DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_ASYNC]), NULL, &a)) {
            CHECKF(a.snap.allowed && str_eq(a.snap.token_type, "DPoP"), "%s %s", rc_name(a.snap.code),
                   OR_NULL(a.snap.message));
            expect_sub(&a.snap, "bob");
        }
        async_destroy(&a);
        s = expect(plain, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_ASYNC], OIDC_RESULT_DPOP_REPLAY, 401, "invalid_dpop_proof");
        snap_free(&s);
    }
    TEST_END();

    TEST_BEGIN("async with a cancel handle cancelled before submission -> CANCELLED, no decision, once");
    {
        struct async_call a;
        oidc_cancel *cancel = NULL;
        CHECK_RC(oidc_cancel_new(0, &cancel, NULL), OIDC_RESULT_OK);
        oidc_cancel_trigger(cancel);
        async_init(&a);
        if (run_async(plain, new_request("Bearer", AX_TOKEN_BEARER, NULL), cancel, &a)) {
            CHECKF(a.rc == OIDC_RESULT_CANCELLED, "%s", rc_name(a.rc));
            CHECK(!a.had_decision && a.had_err && a.err_code == OIDC_RESULT_CANCELLED);
        }
        async_destroy(&a);
        oidc_cancel_free(cancel);
    }
    TEST_END();

    TEST_BEGIN("async with a live cancel handle (never cancelled): decided normally");
    {
        struct async_call a;
        oidc_cancel *cancel = NULL;
        CHECK_RC(oidc_cancel_new(0, &cancel, NULL), OIDC_RESULT_OK);
        async_init(&a);
        if (run_async(plain, new_request("Bearer", AX_TOKEN_BEARER, NULL), cancel, &a))
            CHECK(a.rc == OIDC_RESULT_OK && a.snap.allowed);
        async_destroy(&a);
        oidc_cancel_free(cancel);
    }
    TEST_END();

    TEST_BEGIN("500 async calls in flight from one request object: each called back exactly once");
    {
        enum { N_CALLS = 500 };
        struct async_call *calls = calloc(N_CALLS, sizeof *calls);
        oidc_http_request *r = new_request("Bearer", AX_TOKEN_BEARER, NULL);
        int accepted = 0, once = 0, allowed = 0, off_thread = 0;
        for (i = 0; i < N_CALLS; i++) {
            async_init(&calls[i]);
            if (oidc_authenticate_async(plain, r, on_decision, &calls[i], NULL, NULL) == OIDC_RESULT_OK) accepted++;
        }
        oidc_http_request_free(r);
        for (i = 0; i < N_CALLS; i++) async_wait(&calls[i]);
        sleep_ms(100);
        for (i = 0; i < N_CALLS; i++) {
            pthread_mutex_lock(&calls[i].mu);
            once += calls[i].calls == 1;
            allowed += calls[i].rc == OIDC_RESULT_OK && calls[i].snap.allowed;
            off_thread += !pthread_equal(calls[i].thread, pthread_self());
            pthread_mutex_unlock(&calls[i].mu);
            async_destroy(&calls[i]);
        }
        CHECKF(accepted == N_CALLS && once == N_CALLS && allowed == N_CALLS && off_thread == N_CALLS,
               "accepted %d, once %d, allowed %d, off thread %d", accepted, once, allowed, off_thread);
        free(calls);
    }
    TEST_END();
    oidc_validator_free(scoped);
}

/* ------------------------------------------------------------------------------------------ */
/* (d) a host replay store                                                                     */

#define STORE_MAX 64
struct store {
    pthread_mutex_t mu;
    int32_t answer; /* 1: behave (set semantics); anything else is returned as is */
    size_t n;
    char keys[STORE_MAX][128];
    long calls, bad_keys;
    uint64_t last_ttl;
};

static int32_t store_cb(void *ud, const char *key, size_t key_len, uint64_t ttl) {
    struct store *s = ud;
    int32_t r = 1;
    size_t i;
    pthread_mutex_lock(&s->mu);
    s->calls++;
    s->last_ttl = ttl;
    if (!key || key_len < 13 || key_len >= sizeof s->keys[0] || memcmp(key, "liboidc:dpop:", 13) != 0) {
        s->bad_keys++;
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    if (s->answer != 1) {
        r = s->answer;
    } else {
        for (i = 0; i < s->n; i++)
            if (strlen(s->keys[i]) == key_len && memcmp(s->keys[i], key, key_len) == 0) r = 0;
        if (r == 1 && s->n < STORE_MAX) {
            memcpy(s->keys[s->n], key, key_len);
            s->keys[s->n++][key_len] = 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

static int store_has(struct store *s, const char *key) {
    size_t i;
    int found = 0;
    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->n; i++) found |= strcmp(s->keys[i], key) == 0;
    pthread_mutex_unlock(&s->mu);
    return found;
}

static long store_calls(struct store *s) {
    long n;
    pthread_mutex_lock(&s->mu);
    n = s->calls;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static struct store g_store = {PTHREAD_MUTEX_INITIALIZER, 1, 0, {{0}}, 0, 0, 0};

static void cfg_store(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_dpop_replay_store(b, store_cb, &g_store, NULL), OIDC_RESULT_OK);
}
static void cfg_store_cleared(oidc_validator_builder *b) {
    cfg_store(b);
    CHECK_RC(oidc_validator_builder_set_dpop_replay_store(b, NULL, NULL, NULL), OIDC_RESULT_OK);
}

struct race {
    const oidc_validator *c;
    const char *proof;
    pthread_barrier_t *start;
    int allowed, replays, other;
};

static void *race_thread(void *arg) {
    struct race *x = arg;
    oidc_http_request *r = new_request("DPoP", AX_TOKEN_DPOP, x->proof);
    oidc_decision *d = NULL;
    pthread_barrier_wait(x->start);
    if (oidc_authenticate(x->c, r, &d, NULL) == OIDC_RESULT_OK) {
        if (oidc_decision_allowed(d)) x->allowed++;
        else if (oidc_decision_code(d) == OIDC_RESULT_DPOP_REPLAY) x->replays++;
        else x->other++;
    } else {
        x->other++;
    }
    oidc_decision_free(d);
    oidc_http_request_free(r);
    return NULL;
}

/* `threads` threads send the same fresh proof at once: exactly one is allowed. */
static void race_one_proof(const oidc_validator *c, const char *proof, int threads) {
    pthread_t t[16];
    struct race x[16];
    pthread_barrier_t start;
    int i, allowed = 0, replays = 0, other = 0;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (i = 0; i < threads; i++) {
        memset(&x[i], 0, sizeof x[i]);
        x[i].c = c;
        x[i].proof = proof;
        x[i].start = &start;
        pthread_create(&t[i], NULL, race_thread, &x[i]);
    }
    for (i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        allowed += x[i].allowed;
        replays += x[i].replays;
        other += x[i].other;
    }
    pthread_barrier_destroy(&start);
    CHECKF(allowed == 1 && replays == threads - 1 && other == 0, "allowed %d, replays %d, other %d", allowed, replays, other);
}

static void test_replay_store(void) {
    oidc_validator *c = ax_client(cfg_store);
    struct snap s;
    long before;

    TEST_BEGIN("replay store: a proof the store already holds (seen by another process) -> 401 DPOP_REPLAY");
    pthread_mutex_lock(&g_store.mu);
    strcpy(g_store.keys[g_store.n++], AX_PROOF_STORE_KEYS[PROOF_STORE_SEEDED]);
    pthread_mutex_unlock(&g_store.mu);
    s = expect(c, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_STORE_SEEDED], OIDC_RESULT_DPOP_REPLAY, 401, "invalid_dpop_proof");
    CHECK(s.n_challenges == 2 && str_has(s.challenges[1], "error=\"invalid_dpop_proof\""));
    snap_free(&s);
    CHECK(store_calls(&g_store) == 1);
    TEST_END();

    TEST_BEGIN("replay store: a fresh proof is recorded under its key (ttl = window + leeway) and allowed; "
               "its replay is refused by the process cache without asking the store");
    s = expect(c, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_STORE_FRESH], OIDC_RESULT_OK, 200, NULL);
    CHECK(str_eq(s.token_type, "DPoP"));
    expect_sub(&s, "bob");
    snap_free(&s);
    CHECK(store_has(&g_store, AX_PROOF_STORE_KEYS[PROOF_STORE_FRESH]));
    CHECK(store_calls(&g_store) == 2);
    CHECKF(g_store.last_ttl == 120, "ttl %llu", (unsigned long long)g_store.last_ttl);
    s = expect(c, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_STORE_FRESH], OIDC_RESULT_DPOP_REPLAY, 401, "invalid_dpop_proof");
    snap_free(&s);
    CHECK(store_calls(&g_store) == 2);
    CHECK(g_store.bad_keys == 0);
    TEST_END();

    TEST_BEGIN("replay store down (-1, -7): 503 REPLAY_STORE_UNAVAILABLE, no challenge, no error; the proof is not burnt");
    g_store.answer = -1;
    s = expect(c, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_STORE_DOWN], OIDC_RESULT_REPLAY_STORE_UNAVAILABLE, 503, NULL);
    CHECK(s.n_challenges == 0 && !s.nonce);
    snap_free(&s);
    g_store.answer = -7;
    s = expect(c, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_STORE_DOWN], OIDC_RESULT_REPLAY_STORE_UNAVAILABLE, 503, NULL);
    snap_free(&s);
    g_store.answer = 1;
    s = expect(c, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_STORE_DOWN], OIDC_RESULT_OK, 200, NULL);
    snap_free(&s);
    CHECK(store_has(&g_store, AX_PROOF_STORE_KEYS[PROOF_STORE_DOWN]));
    TEST_END();

    TEST_BEGIN("replay store answering neither 0 nor 1 (2): never allowed (503)");
    g_store.answer = 2;
    s = expect(c, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_STORE_GARBAGE], OIDC_RESULT_REPLAY_STORE_UNAVAILABLE, 503, NULL);
    snap_free(&s);
    g_store.answer = 1;
    TEST_END();

    TEST_BEGIN("replay store: Bearer requests never ask it; a store cleared with NULL is not asked");
    before = store_calls(&g_store);
    s = expect(c, "Bearer", AX_TOKEN_BEARER, NULL, OIDC_RESULT_OK, 200, NULL);
    snap_free(&s);
    {
        oidc_validator *cleared = ax_client(cfg_store_cleared);
        s = expect(cleared, "DPoP", AX_TOKEN_DPOP, AX_PROOFS[PROOF_STORE_CLEARED], OIDC_RESULT_OK, 200, NULL);
        snap_free(&s);
        oidc_validator_free(cleared);
    }
    CHECK(store_calls(&g_store) == before);
    TEST_END();

    TEST_BEGIN("replay store: 8 threads send one fresh proof at once: one allowed, 7 DPOP_REPLAY, the store asked once");
    before = store_calls(&g_store);
    race_one_proof(c, AX_PROOFS[PROOF_STORE_RACE], 8);
    CHECK(store_calls(&g_store) == before + 1);
    CHECK(store_has(&g_store, AX_PROOF_STORE_KEYS[PROOF_STORE_RACE]));
    TEST_END();

    oidc_validator_free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* (e) threads hammering one client                                                            */

#define HAMMER_THREADS 8

struct hammer {
    const oidc_validator *c;
    const oidc_http_request *shared; /* read by every thread, modified by none */
    int iterations, failures;
};

static int hammer_one(const oidc_validator *c, oidc_http_request *r, const char *scheme, const char *token,
                      oidc_result code, const char *sub) {
    oidc_decision *d = NULL;
    int ok;
    oidc_http_request_reset(r);
    fill(r, scheme, token, NULL);
    ok = oidc_authenticate(c, r, &d, NULL) == OIDC_RESULT_OK && oidc_decision_code(d) == code;
    if (ok && sub) {
        char *got = json_string_member(oidc_decision_claims(d, NULL), "sub");
        ok = str_eq(got, sub);
        free(got);
    }
    if (ok && code == OIDC_RESULT_INSUFFICIENT_SCOPE)
        ok = oidc_decision_challenge_count(d) == 2 && str_has(oidc_decision_challenge(d, 0, NULL), "scope=\"write\"");
    oidc_decision_free(d);
    return ok;
}

static void *hammer_thread(void *arg) {
    struct hammer *h = arg;
    oidc_http_request *r = tmp_request();
    int i;
    for (i = 0; i < h->iterations; i++) {
        oidc_decision *d = NULL;
        int ok = 1;
        switch (i % 6) {
        case 0: ok = hammer_one(h->c, r, "Bearer", AX_TOKEN_BEARER, OIDC_RESULT_OK, "alice"); break;
        case 1: ok = hammer_one(h->c, r, NULL, NULL, OIDC_RESULT_TOKEN_MISSING, NULL); break;
        case 2: ok = hammer_one(h->c, r, "Bearer", AX_TOKEN_EXPIRED, OIDC_RESULT_TOKEN_EXPIRED, NULL); break;
        case 3: ok = hammer_one(h->c, r, "Bearer", AX_TOKEN_READ_ONLY, OIDC_RESULT_INSUFFICIENT_SCOPE, NULL); break;
        case 4: ok = hammer_one(h->c, r, "Bearer", AX_TOKEN_DPOP, OIDC_RESULT_TOKEN_BINDING_MISMATCH, NULL); break;
        case 5:
            ok = oidc_authenticate(h->c, h->shared, &d, NULL) == OIDC_RESULT_OK && oidc_decision_allowed(d) == 1;
            oidc_decision_free(d);
            break;
        }
        if (!ok) h->failures++;
    }
    oidc_http_request_free(r);
    return NULL;
}

static void cfg_scope_write_no_cache(oidc_validator_builder *b) {
    cfg_scope_write(b);
    CHECK_RC(oidc_validator_builder_set_token_cache_size(b, 0, NULL), OIDC_RESULT_OK);
}

static void hammer(configure_fn cfg, int iterations) {
    oidc_validator *c = ax_client(cfg);
    oidc_http_request *shared = new_request("Bearer", AX_TOKEN_BEARER, NULL);
    pthread_t t[HAMMER_THREADS];
    struct hammer h[HAMMER_THREADS];
    int i, failures = 0;
    for (i = 0; i < HAMMER_THREADS; i++) {
        h[i].c = c;
        h[i].shared = shared;
        h[i].iterations = iterations;
        h[i].failures = 0;
        pthread_create(&t[i], NULL, hammer_thread, &h[i]);
    }
    for (i = 0; i < HAMMER_THREADS; i++) {
        pthread_join(t[i], NULL);
        failures += h[i].failures;
    }
    CHECKF(failures == 0, "%d of %d decisions wrong", failures, HAMMER_THREADS * iterations);
    oidc_http_request_free(shared);
    oidc_validator_free(c);
}

static void test_threads(void) {
    oidc_validator *c;
    int i;
    TEST_BEGIN("%d threads x 1200 requests on one client (token cache on; allowed, 401, 403, shared request)",
               HAMMER_THREADS);
    hammer(cfg_scope_write, 1200);
    TEST_END();
    TEST_BEGIN("%d threads x 120 requests on one client with the token cache off", HAMMER_THREADS);
    hammer(cfg_scope_write_no_cache, 120);
    TEST_END();
    c = ax_client(NULL);
    for (i = PROOF_RACE_FIRST; i < AX_PROOF_COUNT; i++) {
        TEST_BEGIN("race %d: %d threads send proof %d at once: exactly one allowed, the others DPOP_REPLAY",
                   i - PROOF_RACE_FIRST + 1, HAMMER_THREADS, i);
        race_one_proof(c, AX_PROOFS[i], HAMMER_THREADS);
        TEST_END();
    }
    oidc_validator_free(c);
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* The vectors first: they are run once per process, in file order, and the replay cache is
     * process-wide (their issuer is not the fixtures'). */
    test_vectors(argc > 1 ? argv[1] : NULL);

    g_client = ax_client(NULL);
    g_req = g_client ? new_request("Bearer", AX_TOKEN_BEARER, NULL) : NULL;
    if (!g_client || !g_req) {
        printf("not ok - build the fixture client\n");
        h_failed++;
        oidc_validator_free(g_client);
        oidc_http_request_free(g_req);
        return harness_finish();
    }
    test_decisions(g_client);
    test_misuse();
    test_builder_errors();
    test_async(g_client);
    test_replay_store();
    test_threads();
    oidc_http_request_free(g_req);
    oidc_validator_free(g_client);
    {
        oidc_error *err = NULL;
        TEST_BEGIN("oidc_async_shutdown: the worker pool stops (no thread outlives the test)");
        CHECK_RC_ERR(oidc_async_shutdown(30000, &err), OIDC_RESULT_OK, err);
        oidc_error_free(err);
        TEST_END();
    }
    return harness_finish();
}
