/* liboidc issue 12 from C: several issuers (oidc_issuer_builder_*, oidc_validator_builder_add_issuer),
 * the policy document (oidc_validator_builder_load_policy(_file), oidc_validator_policy_json)
 * and explain mode (oidc_validate_explain, oidc_authenticate_explain). No network: static JWKS
 * and each vector file's fixed "now".
 *
 *   test_multi MULTI_TXT
 *
 * MULTI_TXT is tests/vectors/{multi_issuer,policy,validation}.json flattened by
 * tests/c/multi_flat.py (run.sh does it). Without it the vector tests fail.
 *
 *   - multi_issuer.json through the builder calls: one validator from `config`, one added issuer
 *     per `issuers` entry, every case at `now`, the code compared (one line per case);
 *   - policy.json `equivalents`: each document loaded as text and from a file decides every case
 *     of its vector file; its export, loaded again, decides the same and exports the same text;
 *   - policy.json `malformed`: INVALID_CONFIG at load (text and file), the message names
 *     `path` + ":", and the build then fails with INVALID_CONFIG;
 *   - explain: an allowed, a denied and an unrouted case of multi_issuer.json: valid JSON (a
 *     small strict checker below), the decision, the chosen issuer, its code, no token text;
 *     every case of every vector set explained (decision and code as the vectors say;
 *     cases with a duplicate claim or unreadable claims included); a request
 *     explained (allow and deny);
 *   - misuse: NULL for every pointer parameter of the issue-12 functions, invalid UTF-8 for
 *     every string parameter, oidc_issuer_builder_free(NULL), an issuer builder consumed by a
 *     failing add_issuer (valgrind/LSan prove it is freed), failing setters remembered by
 *     add_issuer and build, a template without tenants, tenant allow-list + any-tenant mixed,
 *     more than 64 issuers.
 * Every object obtained is freed: valgrind and LSan check it.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <unistd.h>

#include "flat.h"
#include "harness.h"

#define LEN(s) (sizeof(s) - 1) /* length of a string literal */
#define MAX_ITEMS 64
#define TEMPLATE "https://login.multi.test/{tenant}/v2.0"

/* ------------------------------------------------------------------------------------------ */
/* The flattened vectors                                                                       */

typedef struct {
    bytes name, token;
    int code;
} vcase;

typedef struct {
    char file[64];
    int64_t now;
    vcase cases[MAX_ITEMS];
    size_t n;
} vset;

typedef struct {
    bytes issuer, jwks, algorithms;
    bytes audiences[MAX_ITEMS];
    size_t n_aud;
    bytes tenants[MAX_ITEMS]; /* a template's allow-list */
    size_t n_tenants;
} viss;

typedef struct {
    char file[64];
    bytes doc;
} vequiv;

typedef struct {
    bytes name, doc, path;
} vmal;

static struct {
    int loaded;
    bytes audiences[MAX_ITEMS], required_claims[MAX_ITEMS];
    size_t n_aud, n_req;
    long leeway, max_token_bytes; /* -1: not set */
    viss issuers[MAX_ITEMS];
    size_t n_iss;
    vset sets[4];
    size_t n_sets;
    vequiv equivs[MAX_ITEMS];
    size_t n_equiv;
    vmal malformed[MAX_ITEMS];
    size_t n_mal;
} V;

static vset *find_set(const char *file) {
    size_t i;
    for (i = 0; i < V.n_sets; i++)
        if (strcmp(V.sets[i].file, file) == 0) return &V.sets[i];
    return NULL;
}

static void free_vectors(void) {
    size_t i, j;
    for (i = 0; i < V.n_aud; i++) free(V.audiences[i].p);
    for (i = 0; i < V.n_req; i++) free(V.required_claims[i].p);
    for (i = 0; i < V.n_iss; i++) {
        free(V.issuers[i].issuer.p);
        free(V.issuers[i].jwks.p);
        free(V.issuers[i].algorithms.p);
        for (j = 0; j < V.issuers[i].n_aud; j++) free(V.issuers[i].audiences[j].p);
        for (j = 0; j < V.issuers[i].n_tenants; j++) free(V.issuers[i].tenants[j].p);
    }
    for (i = 0; i < V.n_sets; i++)
        for (j = 0; j < V.sets[i].n; j++) {
            free(V.sets[i].cases[j].name.p);
            free(V.sets[i].cases[j].token.p);
        }
    for (i = 0; i < V.n_equiv; i++) free(V.equivs[i].doc.p);
    for (i = 0; i < V.n_mal; i++) {
        free(V.malformed[i].name.p);
        free(V.malformed[i].doc.p);
        free(V.malformed[i].path.p);
    }
    memset(&V, 0, sizeof V);
}

/* Read MULTI_TXT; 0 and a message on any unknown or malformed line. */
static int load_vectors(const char *path, char *why, size_t why_len) {
    FILE *f = path ? fopen(path, "r") : NULL;
    char *line = NULL, *fields[5];
    size_t cap = 0, lineno = 0;
    vset *cur = NULL;
    int ok = 1;
    V.leeway = V.max_token_bytes = -1;
    if (!f) {
        snprintf(why, why_len, "cannot open %s", path ? path : "(no MULTI_TXT argument)");
        return 0;
    }
    while (ok && getline(&line, &cap, f) > 0) {
        size_t nf = 0;
        char *save = NULL, *t;
        lineno++;
        line[strcspn(line, "\n")] = 0;
        for (t = strtok_r(line, " ", &save); t && nf < 5; t = strtok_r(NULL, " ", &save)) fields[nf++] = t;
        if (nf == 0) continue;
#define FAIL_LINE()                                                                                \
    do {                                                                                           \
        snprintf(why, why_len, "line %zu: bad %s record", lineno, fields[0]);                      \
        ok = 0;                                                                                    \
    } while (0)
        if (strcmp(fields[0], "config") == 0 && nf == 3) {
            if (strcmp(fields[1], "audience") == 0 && V.n_aud < MAX_ITEMS) {
                if (!unhex(fields[2], &V.audiences[V.n_aud++])) FAIL_LINE();
            } else if (strcmp(fields[1], "required_claim") == 0 && V.n_req < MAX_ITEMS) {
                if (!unhex(fields[2], &V.required_claims[V.n_req++])) FAIL_LINE();
            } else if (strcmp(fields[1], "leeway_secs") == 0) {
                V.leeway = strtol(fields[2], NULL, 10);
            } else if (strcmp(fields[1], "max_token_bytes") == 0) {
                V.max_token_bytes = strtol(fields[2], NULL, 10);
            } else {
                FAIL_LINE();
            }
        } else if (strcmp(fields[0], "issuer") == 0 && nf == 2 && V.n_iss < MAX_ITEMS) {
            if (!unhex(fields[1], &V.issuers[V.n_iss++].issuer)) FAIL_LINE();
        } else if (strcmp(fields[0], "icfg") == 0 && nf == 3 && V.n_iss > 0) {
            viss *is = &V.issuers[V.n_iss - 1];
            bytes *dst = NULL;
            if (strcmp(fields[1], "jwks") == 0 && !is->jwks.p) dst = &is->jwks;
            else if (strcmp(fields[1], "algorithms") == 0 && !is->algorithms.p) dst = &is->algorithms;
            else if (strcmp(fields[1], "audience") == 0 && is->n_aud < MAX_ITEMS) dst = &is->audiences[is->n_aud++];
            else if (strcmp(fields[1], "tenant") == 0 && is->n_tenants < MAX_ITEMS) dst = &is->tenants[is->n_tenants++];
            if (!dst || !unhex(fields[2], dst)) FAIL_LINE();
        } else if (strcmp(fields[0], "set") == 0 && nf == 3 && !cur && V.n_sets < 4 && strlen(fields[1]) < 64) {
            cur = &V.sets[V.n_sets++];
            strcpy(cur->file, fields[1]);
            cur->now = (int64_t)strtoll(fields[2], NULL, 10);
        } else if (strcmp(fields[0], "case") == 0 && nf == 4 && cur && cur->n < MAX_ITEMS) {
            vcase *c = &cur->cases[cur->n++];
            c->code = (int)strtol(fields[1], NULL, 10);
            if (!unhex(fields[2], &c->name) || !unhex(fields[3], &c->token)) FAIL_LINE();
        } else if (strcmp(fields[0], "end") == 0 && nf == 1 && cur) {
            cur = NULL;
        } else if (strcmp(fields[0], "equivalent") == 0 && nf == 3 && V.n_equiv < MAX_ITEMS && strlen(fields[1]) < 64) {
            vequiv *e = &V.equivs[V.n_equiv++];
            strcpy(e->file, fields[1]);
            if (!unhex(fields[2], &e->doc)) FAIL_LINE();
        } else if (strcmp(fields[0], "malformed") == 0 && nf == 4 && V.n_mal < MAX_ITEMS) {
            vmal *m = &V.malformed[V.n_mal++];
            if (!unhex(fields[1], &m->name) || !unhex(fields[2], &m->doc) || !unhex(fields[3], &m->path)) FAIL_LINE();
        } else {
            FAIL_LINE();
        }
#undef FAIL_LINE
    }
    free(line);
    fclose(f);
    if (ok && cur) {
        snprintf(why, why_len, "set %s has no end", cur->file);
        ok = 0;
    }
    if (ok && (V.n_iss == 0 || !find_set("multi_issuer.json") || V.n_equiv == 0 || V.n_mal == 0)) {
        snprintf(why, why_len, "no issuers, no multi_issuer.json set, no equivalents or no malformed documents");
        ok = 0;
    }
    return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* A strict JSON checker (RFC 8259 grammar, depth-bounded) and member lookup                   */

static const char *ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const char *j_value(const char *p, const char *end, int depth);

static const char *j_string(const char *p, const char *end) {
    if (p >= end || *p != '"') return NULL;
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            p++;
            if (p >= end) return NULL;
            if (*p == 'u') {
                int i;
                for (i = 1; i <= 4; i++)
                    if (p + i >= end || hexval(p[i]) < 0) return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
    }
    return NULL;
}

static const char *j_number(const char *p, const char *end) {
    const char *s;
    if (p < end && *p == '-') p++;
    if (p >= end) return NULL;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (p < end && *p >= '0' && *p <= '9') p++;
    else return NULL;
    if (p < end && *p == '.') {
        s = ++p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == s) return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        s = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == s) return NULL;
    }
    return p;
}

static const char *j_value(const char *p, const char *end, int depth) {
    p = ws(p, end);
    if (p >= end || depth > 64) return NULL;
    switch (*p) {
    case '"': return j_string(p, end);
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = ws(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                p = j_string(ws(p, end), end);
                if (!p) return NULL;
                p = ws(p, end);
                if (p >= end || *p != ':') return NULL;
                p++;
            }
            p = j_value(p, end, depth + 1);
            if (!p) return NULL;
            p = ws(p, end);
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            return p < end && *p == close ? p + 1 : NULL;
        }
    }
    case 't': return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f': return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n': return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default: return j_number(p, end);
    }
}

/* 1 when s[0..n) is exactly one JSON value (whitespace around it allowed). */
static int json_valid(const char *s, size_t n) {
    const char *end = s + n, *p;
    if (!s) return 0;
    p = j_value(s, end, 0);
    return p && ws(p, end) == end;
}

/* In a valid JSON text: the value of member `key` of the object at `obj` (NULL if `obj` is not
 * an object or has no such member). Keys are compared raw (the keys looked up have no escapes). */
static const char *json_member(const char *obj, const char *key) {
    const char *end, *p;
    size_t klen = strlen(key);
    if (!obj) return NULL;
    end = obj + strlen(obj);
    p = ws(obj, end);
    if (p >= end || *p != '{') return NULL;
    p = ws(p + 1, end);
    while (p < end && *p == '"') {
        const char *k = p + 1, *ke = j_string(p, end);
        if (!ke) return NULL;
        p = ws(ke, end);
        if (p >= end || *p != ':') return NULL;
        p = ws(p + 1, end);
        if ((size_t)(ke - 1 - k) == klen && memcmp(k, key, klen) == 0) return p;
        p = j_value(p, end, 0);
        if (!p) return NULL;
        p = ws(p, end);
        if (p < end && *p == ',') p = ws(p + 1, end);
    }
    return NULL;
}

/* 1 when the JSON value at `v` is the string `s` (no escapes in `s`). */
static int json_is_str(const char *v, const char *s, size_t n) {
    return v && v[0] == '"' && strncmp(v + 1, s, n) == 0 && v[1 + n] == '"';
}

/* 1 when the JSON value at `v` is the integer `n`. */
static int json_is_int(const char *v, long n) {
    char *e;
    long got;
    if (!v || !((*v >= '0' && *v <= '9') || *v == '-')) return 0;
    got = strtol(v, &e, 10);
    return got == n && *e != '.' && *e != 'e' && *e != 'E';
}

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */

static const char *code_name(int code) { return rc_name((oidc_result)code); }

/* The error's code, then free it; (oidc_result)-1 when there is none. */
static oidc_result take_err(oidc_error **err) {
    oidc_result c = *err ? oidc_error_code(*err) : (oidc_result)-1;
    oidc_error_free(*err);
    *err = NULL;
    return c;
}

/* Expect `rc` == want and the error (if any) to carry the same code; frees the error. */
static void expect_rc(oidc_result rc, oidc_result want, oidc_error **err, const char *what, int line) {
    if (rc != want)
        h_diag(__FILE__, line, "%s: got %s, expected %s (message: %s)", what, rc_name(rc), rc_name(want),
               oidc_error_message(*err));
    if (want != OIDC_RESULT_OK && *err && oidc_error_code(*err) != want)
        h_diag(__FILE__, line, "%s: error object says %s, the call returned %s", what, rc_name(oidc_error_code(*err)),
               rc_name(rc));
    if (want != OIDC_RESULT_OK && !*err) h_diag(__FILE__, line, "%s: failed without an error object", what);
    oidc_error_free(*err);
    *err = NULL;
}
#define EXPECT(call, want, errp) expect_rc((call), (want), (errp), #call, __LINE__)

/* Build a builder's validator, expecting `want`; on OK return it (caller frees). */
static oidc_validator *build_expect(oidc_validator_builder *b, oidc_result want, const char *what, int line) {
    oidc_validator *v = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validator_builder_build(b, &v, &err);
    if (rc != want)
        h_diag(__FILE__, line, "%s: build gave %s, expected %s (message: %s)", what, rc_name(rc), rc_name(want),
               oidc_error_message(err));
    if (rc != OIDC_RESULT_OK && v) h_diag(__FILE__, line, "%s: a failed build handed out a validator", what);
    oidc_error_free(err);
    if (rc != OIDC_RESULT_OK) return NULL;
    return v;
}
#define BUILD_EXPECT(b, want, what) build_expect((b), (want), (what), __LINE__)

static oidc_validator_builder *new_builder(void) {
    oidc_validator_builder *b = NULL;
    if (oidc_validator_builder_new(&b, NULL) != OIDC_RESULT_OK) return NULL;
    return b;
}

/* The validator of multi_issuer.json through the builder calls (NULL and a diagnostic on any
 * failing call: every call's result is checked). */
static oidc_validator *build_multi_by_calls(void) {
    oidc_validator_builder *b = new_builder();
    oidc_error *err = NULL;
    size_t i, j;
    int bad = 0;
    if (!b) return NULL;
#define CALL(x)                                                                                    \
    do {                                                                                           \
        oidc_result r_ = (x);                                                                      \
        if (r_ != OIDC_RESULT_OK) {                                                                \
            h_diag(__FILE__, __LINE__, "%s: %s (%s)", #x, rc_name(r_), oidc_error_message(err));   \
            bad = 1;                                                                               \
        }                                                                                          \
        oidc_error_free(err);                                                                      \
        err = NULL;                                                                                \
    } while (0)
    for (i = 0; i < V.n_aud; i++) CALL(oidc_validator_builder_add_audience(b, V.audiences[i].p, V.audiences[i].n, &err));
    for (i = 0; i < V.n_req; i++)
        CALL(oidc_validator_builder_add_required_claim(b, V.required_claims[i].p, V.required_claims[i].n, &err));
    if (V.leeway >= 0) CALL(oidc_validator_builder_set_leeway_secs(b, (uint32_t)V.leeway, &err));
    if (V.max_token_bytes >= 0) CALL(oidc_validator_builder_set_max_token_bytes(b, (size_t)V.max_token_bytes, &err));
    for (i = 0; i < V.n_iss; i++) {
        const viss *is = &V.issuers[i];
        oidc_issuer_builder *ib = NULL;
        CALL(oidc_issuer_builder_new(is->issuer.p, is->issuer.n, &ib, &err));
        if (!ib) continue;
        if (is->jwks.p) CALL(oidc_issuer_builder_set_jwks_json(ib, is->jwks.p, is->jwks.n, &err));
        for (j = 0; j < is->n_aud; j++)
            CALL(oidc_issuer_builder_add_audience(ib, is->audiences[j].p, is->audiences[j].n, &err));
        if (is->algorithms.p) CALL(oidc_issuer_builder_set_algorithms(ib, is->algorithms.p, is->algorithms.n, &err));
        for (j = 0; j < is->n_tenants; j++) CALL(oidc_issuer_builder_add_tenant(ib, is->tenants[j].p, is->tenants[j].n, &err));
        CALL(oidc_validator_builder_add_issuer(b, ib, &err)); /* consumes ib */
    }
#undef CALL
    if (bad) {
        oidc_validator_builder_free(b);
        return NULL;
    }
    return BUILD_EXPECT(b, OIDC_RESULT_OK, "multi_issuer.json by builder calls");
}

/* Validate one case at the set's now; the code. Frees everything it gets. */
static int decide(const oidc_validator *v, const vset *s, const vcase *c) {
    char *claims = NULL;
    size_t n = 0;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validate_at(v, c->token.p, c->token.n, s->now, &claims, &n, &err);
    if (rc == OIDC_RESULT_OK && (!claims || n != strlen(claims) || !json_valid(claims, n)))
        h_diag(__FILE__, __LINE__, "%s: OK without a JSON claims object", c->name.p);
    if (rc != OIDC_RESULT_OK && (claims || !err || oidc_error_code(err) != rc))
        h_diag(__FILE__, __LINE__, "%s: refusal %s with claims or without a matching error", c->name.p, rc_name(rc));
    oidc_string_free(claims);
    oidc_error_free(err);
    return (int)rc;
}

/* Decide every case of `s` with `v`; each mismatch is a diagnostic naming the case. */
static void decide_all(const oidc_validator *v, const vset *s, const char *how) {
    size_t i, right = 0;
    for (i = 0; i < s->n; i++) {
        int got = decide(v, s, &s->cases[i]);
        if (got == s->cases[i].code) right++;
        else
            h_diag(__FILE__, __LINE__, "%s, %s: \"%s\" gave %d %s, expected %d %s", s->file, how, s->cases[i].name.p, got,
                   code_name(got), s->cases[i].code, code_name(s->cases[i].code));
    }
    if (right != s->n) note("%s, %s: %zu of %zu cases right", s->file, how, right, s->n);
}

/* The policy document of a built validator (caller frees with oidc_string_free), checked to be
 * JSON of the stated length with "version": 1. */
static char *export_policy(const oidc_validator *v) {
    char *out = NULL;
    size_t n = 0;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validator_policy_json(v, &out, &n, &err);
    if (rc != OIDC_RESULT_OK) {
        h_diag(__FILE__, __LINE__, "oidc_validator_policy_json: %s (%s)", rc_name(rc), oidc_error_message(err));
        oidc_error_free(err);
        return NULL;
    }
    CHECKF(out && n == strlen(out), "export: length %zu, strlen %zu", n, out ? strlen(out) : 0);
    CHECKF(out && json_valid(out, strlen(out)), "export is not JSON: %.200s", out ? out : "(null)");
    CHECKF(json_is_int(json_member(out, "version"), 1), "export has no \"version\": 1");
    return out;
}

/* Write `doc` to a fresh temporary file; its path in `path` (unlink it). 0 on failure. */
static int temp_file(const bytes *doc, char *path, size_t path_len) {
    const char *dir = getenv("TMPDIR");
    int fd;
    size_t off = 0;
    snprintf(path, path_len, "%s/oidc_test_multi_XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(path);
    if (fd < 0) return 0;
    while (off < doc->n) {
        ssize_t w = write(fd, doc->p + off, doc->n - off);
        if (w <= 0) {
            close(fd);
            unlink(path);
            return 0;
        }
        off += (size_t)w;
    }
    close(fd);
    return 1;
}

/* A builder with `doc` loaded as text (via_file = 0) or from a temporary file (1); load OK. */
static oidc_validator *build_from_policy(const bytes *doc, int via_file) {
    oidc_validator_builder *b = new_builder();
    oidc_error *err = NULL;
    oidc_result rc;
    char path[512];
    if (!b) return NULL;
    if (via_file) {
        if (!temp_file(doc, path, sizeof path)) {
            h_diag(__FILE__, __LINE__, "cannot write a temporary policy file");
            oidc_validator_builder_free(b);
            return NULL;
        }
        rc = oidc_validator_builder_load_policy_file(b, path, strlen(path), &err);
        unlink(path);
    } else {
        rc = oidc_validator_builder_load_policy(b, doc->p, doc->n, &err);
    }
    if (rc != OIDC_RESULT_OK) {
        h_diag(__FILE__, __LINE__, "load_policy%s: %s (%s)", via_file ? "_file" : "", rc_name(rc), oidc_error_message(err));
        oidc_error_free(err);
        oidc_validator_builder_free(b);
        return NULL;
    }
    return BUILD_EXPECT(b, OIDC_RESULT_OK, via_file ? "policy from a file" : "policy as text");
}

/* ------------------------------------------------------------------------------------------ */
/* multi_issuer.json through the builder calls                                                 */

static void test_multi_issuer_vectors(void) {
    const vset *s = find_set("multi_issuer.json");
    oidc_validator *v;
    size_t i;
    TEST_BEGIN("multi_issuer.json: the validator from the builder calls (%zu added issuers) builds", V.n_iss);
    REQUIRE(s != NULL, "no multi_issuer.json set");
    v = build_multi_by_calls();
    REQUIRE(v != NULL, "the validator did not build");
    TEST_END();
    for (i = 0; i < s->n; i++) {
        const vcase *c = &s->cases[i];
        int got;
        TEST_BEGIN("multi_issuer.json via oidc_issuer_builder: %s -> %s", c->name.p, code_name(c->code));
        got = decide(v, s, c);
        CHECKF(got == c->code, "got %d %s, expected %d %s", got, code_name(got), c->code, code_name(c->code));
        TEST_END();
    }
    oidc_validator_free(v);
}

/* The builder calls and the policy document are two spellings of one configuration: both
 * validators export the same document. */
static void test_calls_and_document_agree(void) {
    oidc_validator *by_calls, *by_doc = NULL;
    char *e1 = NULL, *e2 = NULL;
    size_t i;
    TEST_BEGIN("multi_issuer.json: the builder calls and its policy.json document export the same policy");
    for (i = 0; i < V.n_equiv; i++)
        if (strcmp(V.equivs[i].file, "multi_issuer.json") == 0) break;
    REQUIRE(i < V.n_equiv, "policy.json has no equivalent of multi_issuer.json");
    by_calls = build_multi_by_calls();
    if (by_calls) by_doc = build_from_policy(&V.equivs[i].doc, 0);
    if (by_doc) {
        e1 = export_policy(by_calls);
        e2 = export_policy(by_doc);
        CHECKF(e1 && e2 && strcmp(e1, e2) == 0, "exports differ:\n#   calls:    %.600s\n#   document: %.600s", e1 ? e1 : "",
               e2 ? e2 : "");
    }
    oidc_string_free(e1);
    oidc_string_free(e2);
    oidc_validator_free(by_calls);
    oidc_validator_free(by_doc);
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* policy.json                                                                                  */

static void test_policy_equivalents(void) {
    size_t i;
    for (i = 0; i < V.n_equiv; i++) {
        const vequiv *e = &V.equivs[i];
        const vset *s = find_set(e->file);
        oidc_validator *v, *again = NULL;
        char *e1 = NULL, *e2 = NULL;
        int via_file;
        for (via_file = 0; via_file <= 1; via_file++) {
            TEST_BEGIN("policy.json equivalent %zu (%s), loaded %s: every case decided as the vectors say", i, e->file,
                       via_file ? "from a file" : "as text");
            REQUIRE(s != NULL, "no cases for %s", e->file);
            v = build_from_policy(&e->doc, via_file);
            REQUIRE(v != NULL, "the document did not build");
            decide_all(v, s, via_file ? "policy file" : "policy text");
            oidc_validator_free(v);
            TEST_END();
        }

        TEST_BEGIN("policy.json equivalent %zu (%s): the export reloaded decides the same and exports the same text", i,
                   e->file);
        REQUIRE(s != NULL, "no cases for %s", e->file);
        v = build_from_policy(&e->doc, 0);
        REQUIRE(v != NULL, "the document did not build");
        e1 = export_policy(v);
        oidc_validator_free(v);
        if (e1) {
            bytes b1;
            b1.p = e1;
            b1.n = strlen(e1);
            again = build_from_policy(&b1, 0);
        }
        if (again) {
            decide_all(again, s, "exported policy reloaded");
            e2 = export_policy(again);
            CHECKF(e2 && strcmp(e1, e2) == 0, "second export differs:\n#   first:  %.400s\n#   second: %.400s", e1,
                   e2 ? e2 : "");
        }
        oidc_string_free(e1);
        oidc_string_free(e2);
        oidc_validator_free(again);
        TEST_END();
    }
}

static void test_policy_malformed(void) {
    size_t i;
    for (i = 0; i < V.n_mal; i++) {
        const vmal *m = &V.malformed[i];
        char *want = malloc(m->path.n + 2);
        int via_file;
        memcpy(want, m->path.p, m->path.n);
        memcpy(want + m->path.n, ":", 2);
        TEST_BEGIN("policy.json malformed: %s -> INVALID_CONFIG naming %s (text and file), then the build fails",
                   m->name.p, want);
        for (via_file = 0; via_file <= 1; via_file++) {
            oidc_validator_builder *b = new_builder();
            oidc_error *err = NULL;
            oidc_result rc;
            char path[512];
            if (!b) {
                CHECKF(0, "oidc_validator_builder_new failed");
                continue;
            }
            if (via_file) {
                if (!temp_file(&m->doc, path, sizeof path)) {
                    CHECKF(0, "cannot write a temporary file");
                    oidc_validator_builder_free(b);
                    continue;
                }
                rc = oidc_validator_builder_load_policy_file(b, path, strlen(path), &err);
                unlink(path);
            } else {
                rc = oidc_validator_builder_load_policy(b, m->doc.p, m->doc.n, &err);
            }
            CHECKF(rc == OIDC_RESULT_INVALID_CONFIG, "%s: load gave %s, expected INVALID_CONFIG (message: %s)",
                   via_file ? "file" : "text", rc_name(rc), oidc_error_message(err));
            CHECKF(err && oidc_error_code(err) == OIDC_RESULT_INVALID_CONFIG, "%s: no INVALID_CONFIG error object",
                   via_file ? "file" : "text");
            CHECKF(str_has(oidc_error_message(err), want), "%s: the message does not name \"%s\": %s",
                   via_file ? "file" : "text", want, oidc_error_message(err));
            oidc_error_free(err);
            CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_CONFIG, m->name.p) == NULL);
        }
        free(want);
        TEST_END();
    }
}

static void test_policy_file_errors(void) {
    oidc_validator_builder *b;
    oidc_error *err = NULL;
    static const char missing[] = "/nonexistent/liboidc/policy.json";
    const char *dir = getenv("TMPDIR");
    TEST_BEGIN("load_policy_file: a missing file and a directory are INVALID_CONFIG, and the build fails");
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    EXPECT(oidc_validator_builder_load_policy_file(b, missing, LEN(missing), &err), OIDC_RESULT_INVALID_CONFIG, &err);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_CONFIG, "missing file") == NULL);
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    dir = dir && *dir ? dir : "/tmp";
    EXPECT(oidc_validator_builder_load_policy_file(b, dir, strlen(dir), &err), OIDC_RESULT_INVALID_CONFIG, &err);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_CONFIG, "a directory") == NULL);
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* explain                                                                                      */

static int b64url(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* The token's payload (base64url-decoded, NUL-terminated, malloc'd) or NULL. */
static char *payload_of(const bytes *tok) {
    const char *d1 = memchr(tok->p, '.', tok->n), *d2, *p;
    char *out, *o;
    unsigned acc = 0;
    int bits = 0;
    if (!d1) return NULL;
    d2 = memchr(d1 + 1, '.', (size_t)(tok->p + tok->n - d1 - 1));
    if (!d2) return NULL;
    out = o = malloc((size_t)(d2 - d1) + 1);
    for (p = d1 + 1; p < d2; p++) {
        int v = b64url((unsigned char)*p);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (char)((acc >> bits) & 0xFF);
        }
    }
    *o = 0;
    return out;
}

/* The index of the configured issuer the case's token names in `iss`, or -1. */
static int issuer_of(const vcase *c) {
    char *pl = payload_of(&c->token);
    const char *iss = pl && json_valid(pl, strlen(pl)) ? json_member(pl, "iss") : NULL;
    int found = -1;
    size_t i;
    for (i = 0; iss && i < V.n_iss; i++)
        if (!strchr(V.issuers[i].issuer.p, '\\') && json_is_str(iss, V.issuers[i].issuer.p, V.issuers[i].issuer.n))
            found = (int)i;
    free(pl);
    return found;
}

/* `name` (a Rust kind, "AudienceMismatch") is the result name ("AUDIENCE_MISMATCH")? */
static int same_code(const char *kind_json, int code) {
    const char *want = code_name(code);
    const char *k = kind_json;
    if (!k || *k != '"') return 0;
    for (k++; *k && *k != '"'; k++, want++) {
        if (*want == '_') want++;
        if (!*want || (*k | 0x20) != (*want | 0x20)) return 0;
    }
    return *k == '"' && *want == 0;
}

/* No part of the token's text in `doc` (the whole token and each non-empty segment). */
static void check_no_token_text(const char *doc, const bytes *tok) {
    const char *p = tok->p, *end = tok->p + tok->n;
    CHECKF(!strstr(doc, tok->p), "the explanation holds the token text");
    while (p < end) {
        const char *q = memchr(p, '.', (size_t)(end - p));
        size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
        if (n >= 8) {
            char *seg = malloc(n + 1);
            memcpy(seg, p, n);
            seg[n] = 0;
            CHECKF(!strstr(doc, seg), "the explanation holds a segment of the token: %.40s...", seg);
            free(seg);
        }
        p += n + 1;
    }
}

static void explain_case(const oidc_validator *v, const vset *s, const vcase *c, const char *label) {
    char *doc = NULL;
    size_t n = 0;
    oidc_error *err = NULL;
    oidc_result rc;
    const char *issuer, *decision;
    int want_issuer = issuer_of(c);
    TEST_BEGIN("explain %s case \"%s\": JSON, decision %s, issuer %s, code, no token text", label, c->name.p,
               c->code == 0 ? "allow" : "deny", want_issuer >= 0 ? V.issuers[want_issuer].issuer.p : "none");
    rc = oidc_validate_explain(v, c->token.p, c->token.n, s->now, &doc, &n, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    REQUIRE(rc == OIDC_RESULT_OK && doc != NULL, "no explanation");
    CHECKF(n == strlen(doc), "length %zu, strlen %zu", n, strlen(doc));
    CHECKF(json_valid(doc, n), "not JSON: %.300s", doc);
    decision = json_member(doc, "decision");
    CHECKF(json_is_str(decision, c->code == 0 ? "allow" : "deny", c->code == 0 ? 5 : 4), "decision: %.300s", doc);
    issuer = json_member(doc, "issuer");
    if (want_issuer >= 0) {
        CHECKF(json_is_str(json_member(issuer, "chosen"), "exact", 5), "chosen is not exact: %.300s", doc);
        CHECKF(json_is_int(json_member(issuer, "index"), want_issuer), "index is not %d: %.300s", want_issuer, doc);
        CHECKF(json_is_str(json_member(issuer, "iss"), V.issuers[want_issuer].issuer.p, V.issuers[want_issuer].issuer.n),
               "iss is not %s: %.300s", V.issuers[want_issuer].issuer.p, doc);
    } else {
        CHECKF(json_is_str(json_member(issuer, "chosen"), "none", 4), "chosen is not none: %.300s", doc);
    }
    if (c->code == 0)
        CHECKF(json_member(doc, "code") == NULL || strncmp(json_member(doc, "code"), "null", 4) == 0,
               "an allowed token with a code: %.300s", doc);
    else
        CHECKF(same_code(json_member(doc, "code"), c->code), "code is not %s: %.300s", code_name(c->code), doc);
    CHECKF(json_member(doc, "checks") && *json_member(doc, "checks") == '[', "no checks list: %.300s", doc);
    check_no_token_text(doc, &c->token);
    oidc_string_free(doc);
    TEST_END();
}

static void test_explain(void) {
    const vset *s = find_set("multi_issuer.json");
    oidc_validator *v;
    const vcase *allow = NULL, *deny = NULL, *unrouted = NULL;
    size_t i;
    if (!s) return;
    for (i = 0; i < s->n; i++) {
        const vcase *c = &s->cases[i];
        int is = issuer_of(c);
        if (!allow && c->code == 0 && is >= 0) allow = c;
        /* a denial after the issuer was chosen (not the first case's issuer, for variety) */
        if (!deny && c->code != 0 && is > 0) deny = c;
        if (!unrouted && c->code == OIDC_RESULT_ISSUER_MISMATCH && is < 0 && c->token.n > 0) unrouted = c;
    }
    TEST_BEGIN("explain: multi_issuer.json has an allowed, a denied and an unrouted case");
    CHECK(allow && deny && unrouted);
    TEST_END();
    v = build_multi_by_calls();
    if (!v) return;
    if (allow) explain_case(v, s, allow, "allowed");
    if (deny) explain_case(v, s, deny, "denied");
    if (unrouted) explain_case(v, s, unrouted, "unrouted");
    oidc_validator_free(v);
}

/* Explain one case; its decision (and for a denied case its code) against the vectors. */
static void explain_matches(const oidc_validator *v, const vset *s, const vcase *c) {
    char *doc = NULL;
    oidc_result rc = oidc_validate_explain(v, c->token.p, c->token.n, s->now, &doc, NULL, NULL);
    CHECKF(rc == OIDC_RESULT_OK && doc && json_valid(doc, strlen(doc)), "%s: %s", c->name.p, rc_name(rc));
    if (doc) {
        CHECKF(json_is_str(json_member(doc, "decision"), c->code == 0 ? "allow" : "deny", c->code == 0 ? 5 : 4),
               "%s: decision is not %s: %.300s", c->name.p, c->code == 0 ? "allow" : "deny", doc);
        if (c->code != 0)
            CHECKF(same_code(json_member(doc, "code"), c->code), "%s: code is not %s: %.300s", c->name.p, code_name(c->code),
                   doc);
    }
    oidc_string_free(doc);
}

/* Explain every case of `s` with `v` (a multi-issuer validator or not): decision and code as the
 * vectors say, for every case (tokens with a duplicate claim and tokens without readable claims
 * included: explain once said allow for the first and named the issuer check for the second). */
static void explain_every_case(const oidc_validator *v, const vset *s, const char *how, int multi) {
    size_t i;
    (void)multi;
    TEST_BEGIN("explain (%s, %s): decision and code of all %zu cases are the vectors'", s->file, how, s->n);
    for (i = 0; i < s->n; i++) explain_matches(v, s, &s->cases[i]);
    TEST_END();
}

static void test_explain_every_case(void) {
    size_t i;
    const vset *m = find_set("multi_issuer.json");
    oidc_validator *v = build_multi_by_calls();
    if (m && v) explain_every_case(v, m, "builder calls", 1);
    oidc_validator_free(v);
    for (i = 0; i < V.n_equiv; i++) {
        const vset *s = find_set(V.equivs[i].file);
        if (!s) continue;
        v = build_from_policy(&V.equivs[i].doc, 0);
        if (v) explain_every_case(v, s, "policy document", strcmp(s->file, "multi_issuer.json") == 0);
        oidc_validator_free(v);
    }
}

/* A request explained: the allowed and the denied token of multi_issuer.json as Bearer. */
static void test_authenticate_explain(void) {
    const vset *s = find_set("multi_issuer.json");
    const vcase *allow = NULL, *deny = NULL;
    oidc_validator *v;
    size_t i;
    int k;
    if (!s) return;
    for (i = 0; i < s->n; i++) {
        if (!allow && s->cases[i].code == 0) allow = &s->cases[i];
        if (!deny && s->cases[i].code != 0 && s->cases[i].token.n > 0) deny = &s->cases[i];
    }
    if (!allow || !deny) return;
    v = build_multi_by_calls();
    if (!v) return;
    for (k = 0; k < 2; k++) {
        const vcase *c = k == 0 ? allow : deny;
        oidc_http_request *r = NULL;
        oidc_error *err = NULL;
        char *auth, *doc = NULL;
        size_t n = 0, alen = c->token.n + 7;
        oidc_result rc;
        TEST_BEGIN("oidc_authenticate_explain: Bearer \"%s\" -> JSON, decision %s, the token's explanation, no token text",
                   c->name.p, k == 0 ? "allow" : "deny");
        REQUIRE(oidc_http_request_new(&r, NULL) == OIDC_RESULT_OK, "oidc_http_request_new");
        auth = malloc(alen + 1);
        memcpy(auth, "Bearer ", 7);
        memcpy(auth + 7, c->token.p, c->token.n + 1);
        CHECK_RC(oidc_http_request_add_header(r, "Authorization", 13, (const uint8_t *)auth, alen, NULL), OIDC_RESULT_OK);
        free(auth);
        CHECK_RC(oidc_http_request_set_method(r, "GET", 3, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_http_request_set_url(r, "https://api.multi.test/x", 24, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_http_request_set_now(r, s->now, NULL), OIDC_RESULT_OK);
        rc = oidc_authenticate_explain(v, r, &doc, &n, &err);
        CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
        oidc_error_free(err);
        if (doc) {
            const char *tok;
            CHECKF(n == strlen(doc) && json_valid(doc, n), "not JSON: %.300s", doc);
            CHECKF(json_is_str(json_member(doc, "decision"), k == 0 ? "allow" : "deny", k == 0 ? 5 : 4), "decision: %.300s",
                   doc);
            tok = json_member(doc, "token");
            CHECKF(tok && *tok == '{' && json_member(tok, "decision"), "no nested token explanation: %.300s", doc);
            check_no_token_text(doc, &c->token);
        } else {
            CHECKF(0, "no explanation");
        }
        oidc_string_free(doc);
        oidc_http_request_free(r);
        TEST_END();
    }
    oidc_validator_free(v);
}

/* ------------------------------------------------------------------------------------------ */
/* misuse                                                                                       */

static const char BAD_UTF8[] = "ab\xff\xfe";
static const char JWKS_EMPTY[] = "{\"keys\":[]}";

/* A fresh issuer builder for `iss` (NULL on failure). */
static oidc_issuer_builder *issuer_new(const char *iss) {
    oidc_issuer_builder *ib = NULL;
    if (oidc_issuer_builder_new(iss, strlen(iss), &ib, NULL) != OIDC_RESULT_OK) return NULL;
    return ib;
}

/* The string setters of the issuer builder, for the NULL and UTF-8 tables. */
typedef oidc_result (*ib_str_fn)(oidc_issuer_builder *, const char *, size_t, oidc_error **);
static const struct {
    const char *name;
    ib_str_fn fn;
} IB_STR[] = {
    {"oidc_issuer_builder_set_jwks_uri", oidc_issuer_builder_set_jwks_uri},
    {"oidc_issuer_builder_set_jwks_json", oidc_issuer_builder_set_jwks_json},
    {"oidc_issuer_builder_add_audience", oidc_issuer_builder_add_audience},
    {"oidc_issuer_builder_set_algorithms", oidc_issuer_builder_set_algorithms},
    {"oidc_issuer_builder_set_expected_typ", oidc_issuer_builder_set_expected_typ},
    {"oidc_issuer_builder_add_required_claim", oidc_issuer_builder_add_required_claim},
    {"oidc_issuer_builder_add_tenant", oidc_issuer_builder_add_tenant},
    {"oidc_issuer_builder_set_tenant_claim", oidc_issuer_builder_set_tenant_claim},
};
#define N_IB_STR (sizeof IB_STR / sizeof IB_STR[0])

/* An issuer builder whose setter failed with `want`: add_issuer fails with `want` (and consumes
 * it), and so does the validator's build. */
static void expect_remembered(oidc_issuer_builder *ib, oidc_result want, const char *what) {
    oidc_validator_builder *b = new_builder();
    oidc_error *err = NULL;
    oidc_result rc;
    if (!b) {
        oidc_issuer_builder_free(ib);
        CHECKF(0, "builder");
        return;
    }
    rc = oidc_validator_builder_add_issuer(b, ib, &err);
    CHECKF(rc == want, "%s: add_issuer gave %s, expected %s (%s)", what, rc_name(rc), rc_name(want), oidc_error_message(err));
    oidc_error_free(err);
    CHECK(BUILD_EXPECT(b, want, what) == NULL);
}

static void test_misuse_issuer_builder_null(void) {
    oidc_issuer_builder *ib = NULL;
    oidc_error *err = NULL;
    size_t i;
    TEST_BEGIN("misuse: NULL for every pointer parameter of oidc_issuer_builder_* and add_issuer: NULL_PARAMETER");
    /* new: NULL issuer with a length, NULL out */
    EXPECT(oidc_issuer_builder_new(NULL, 5, &ib, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    CHECK(ib == NULL);
    EXPECT(oidc_issuer_builder_new("https://a.multi.test", 20, NULL, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    /* err_out NULL is fine on both paths */
    CHECK_RC(oidc_issuer_builder_new(NULL, 5, &ib, NULL), OIDC_RESULT_NULL_PARAMETER);
    /* every setter with a NULL builder */
    for (i = 0; i < N_IB_STR; i++) {
        oidc_result rc = IB_STR[i].fn(NULL, "x", 1, &err);
        CHECKF(rc == OIDC_RESULT_NULL_PARAMETER, "%s(NULL builder): %s", IB_STR[i].name, rc_name(rc));
        CHECKF(take_err(&err) == OIDC_RESULT_NULL_PARAMETER, "%s(NULL builder): error object", IB_STR[i].name);
    }
    EXPECT(oidc_issuer_builder_set_any_audience(NULL, 1, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    EXPECT(oidc_issuer_builder_set_any_tenant(NULL, 1, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    EXPECT(oidc_issuer_builder_set_tenant_bounds(NULL, 10, 1, 60, 1, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    /* every string setter with a NULL value and a length: NULL_PARAMETER, remembered */
    for (i = 0; i < N_IB_STR; i++) {
        oidc_result rc;
        ib = issuer_new(TEMPLATE);
        if (!ib) {
            CHECKF(0, "oidc_issuer_builder_new");
            continue;
        }
        rc = IB_STR[i].fn(ib, NULL, 3, &err);
        CHECKF(rc == OIDC_RESULT_NULL_PARAMETER, "%s(NULL value): %s", IB_STR[i].name, rc_name(rc));
        CHECKF(take_err(&err) == OIDC_RESULT_NULL_PARAMETER, "%s(NULL value): error object", IB_STR[i].name);
        expect_remembered(ib, OIDC_RESULT_NULL_PARAMETER, IB_STR[i].name);
    }
    /* free(NULL) */
    oidc_issuer_builder_free(NULL);
    /* add_issuer: NULL validator builder (the issuer builder is still consumed: valgrind/LSan
     * would report it otherwise), NULL issuer builder (remembered: the build fails) */
    ib = issuer_new("https://a.multi.test");
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    EXPECT(oidc_validator_builder_add_issuer(NULL, ib, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    {
        oidc_validator_builder *b = new_builder();
        REQUIRE(b != NULL, "builder");
        CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
        EXPECT(oidc_validator_builder_add_issuer(b, NULL, &err), OIDC_RESULT_NULL_PARAMETER, &err);
        CHECK(BUILD_EXPECT(b, OIDC_RESULT_NULL_PARAMETER, "add_issuer(NULL)") == NULL);
    }
    CHECK_RC(oidc_validator_builder_add_issuer(NULL, NULL, NULL), OIDC_RESULT_NULL_PARAMETER);
    TEST_END();
}

static void test_misuse_issuer_builder_utf8(void) {
    oidc_issuer_builder *ib = NULL;
    oidc_error *err = NULL;
    size_t i;
    TEST_BEGIN("misuse: invalid UTF-8 in every string parameter of oidc_issuer_builder_*: INVALID_UTF8, remembered");
    EXPECT(oidc_issuer_builder_new(BAD_UTF8, LEN(BAD_UTF8), &ib, &err), OIDC_RESULT_INVALID_UTF8, &err);
    CHECK(ib == NULL);
    for (i = 0; i < N_IB_STR; i++) {
        oidc_result rc;
        ib = issuer_new(TEMPLATE);
        if (!ib) {
            CHECKF(0, "oidc_issuer_builder_new");
            continue;
        }
        rc = IB_STR[i].fn(ib, BAD_UTF8, LEN(BAD_UTF8), &err);
        CHECKF(rc == OIDC_RESULT_INVALID_UTF8, "%s(bad UTF-8): %s", IB_STR[i].name, rc_name(rc));
        CHECKF(take_err(&err) == OIDC_RESULT_INVALID_UTF8, "%s(bad UTF-8): error object", IB_STR[i].name);
        expect_remembered(ib, OIDC_RESULT_INVALID_UTF8, IB_STR[i].name);
    }
    TEST_END();
}

static void test_misuse_issuer_builder_values(void) {
    oidc_issuer_builder *ib;
    oidc_error *err = NULL;
    oidc_validator_builder *b;
    oidc_validator *v;
    TEST_BEGIN("issuer builder: a bad algorithm list is UNSUPPORTED_ALGORITHM and remembered; a failed builder freed unused");
    ib = issuer_new("https://a.multi.test");
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    EXPECT(oidc_issuer_builder_set_algorithms(ib, "HS256", 5, &err), OIDC_RESULT_UNSUPPORTED_ALGORITHM, &err);
    expect_remembered(ib, OIDC_RESULT_UNSUPPORTED_ALGORITHM, "HS256");
    ib = issuer_new("https://a.multi.test");
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    EXPECT(oidc_issuer_builder_set_algorithms(ib, "none", 4, &err), OIDC_RESULT_UNSUPPORTED_ALGORITHM, &err);
    oidc_issuer_builder_free(ib); /* a builder that failed, freed without adding it */
    TEST_END();

    TEST_BEGIN("issuer builder: a template without tenants fails at build (INVALID_CONFIG); with tenants it builds");
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    ib = issuer_new(TEMPLATE);
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    EXPECT(oidc_validator_builder_add_issuer(b, ib, &err), OIDC_RESULT_OK, &err);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_CONFIG, "template without tenants") == NULL);
    /* the control: the same template with an allow-list, and with any tenant, builds */
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    ib = issuer_new(TEMPLATE);
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    EXPECT(oidc_issuer_builder_add_tenant(ib, "contoso", 7, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_issuer_builder_add_tenant(ib, "fabrikam", 8, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_issuer_builder_set_tenant_claim(ib, "tid", 3, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_issuer_builder_set_tenant_bounds(ib, 16, 4, 60, 2, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_issuer_builder_set_expected_typ(ib, "at+jwt", 6, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_issuer_builder_add_required_claim(ib, "scp", 3, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_issuer_builder_set_any_audience(ib, 1, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_validator_builder_add_issuer(b, ib, &err), OIDC_RESULT_OK, &err);
    v = BUILD_EXPECT(b, OIDC_RESULT_OK, "template with an allow-list");
    if (v) {
        char *doc = export_policy(v);
        CHECKF(str_has(doc, "contoso") && str_has(doc, "fabrikam"), "the export lacks the tenants: %.400s", doc ? doc : "");
        oidc_string_free(doc);
    }
    oidc_validator_free(v);
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    ib = issuer_new(TEMPLATE);
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    EXPECT(oidc_issuer_builder_set_any_tenant(ib, 1, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_validator_builder_add_issuer(b, ib, &err), OIDC_RESULT_OK, &err);
    oidc_validator_free(BUILD_EXPECT(b, OIDC_RESULT_OK, "template with any tenant"));
    TEST_END();

    TEST_BEGIN("issuer builder: tenant allow-list and any-tenant mixed (both orders) is INVALID_CONFIG, remembered");
    ib = issuer_new(TEMPLATE);
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    EXPECT(oidc_issuer_builder_add_tenant(ib, "contoso", 7, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_issuer_builder_set_any_tenant(ib, 1, &err), OIDC_RESULT_INVALID_CONFIG, &err);
    expect_remembered(ib, OIDC_RESULT_INVALID_CONFIG, "add_tenant then set_any_tenant");
    ib = issuer_new(TEMPLATE);
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    EXPECT(oidc_issuer_builder_set_any_tenant(ib, 1, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_issuer_builder_add_tenant(ib, "contoso", 7, &err), OIDC_RESULT_INVALID_CONFIG, &err);
    expect_remembered(ib, OIDC_RESULT_INVALID_CONFIG, "set_any_tenant then add_tenant");
    TEST_END();

    TEST_BEGIN("issuer builder: a tenant outside A-Z a-z 0-9 - _ is refused (at the setter or the build)");
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    ib = issuer_new(TEMPLATE);
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    {
        oidc_result r1 = oidc_issuer_builder_add_tenant(ib, "../evil", 7, &err);
        oidc_result r2;
        oidc_error_free(err);
        err = NULL;
        r2 = oidc_validator_builder_add_issuer(b, ib, &err);
        oidc_error_free(err);
        err = NULL;
        v = NULL;
        {
            oidc_result r3 = oidc_validator_builder_build(b, &v, &err);
            CHECKF(r3 != OIDC_RESULT_OK && v == NULL, "a bad tenant built (setter %s, add %s)", rc_name(r1), rc_name(r2));
            oidc_error_free(err);
            err = NULL;
        }
        oidc_validator_free(v);
    }
    TEST_END();

    TEST_BEGIN("issuer builder: a static JWKS on a template fails at build; 65 issuers are too many");
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    ib = issuer_new(TEMPLATE);
    REQUIRE(ib != NULL, "oidc_issuer_builder_new");
    EXPECT(oidc_issuer_builder_set_any_tenant(ib, 1, &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_issuer_builder_set_jwks_json(ib, JWKS_EMPTY, LEN(JWKS_EMPTY), &err), OIDC_RESULT_OK, &err);
    EXPECT(oidc_validator_builder_add_issuer(b, ib, &err), OIDC_RESULT_OK, &err);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_CONFIG, "static JWKS on a template") == NULL);
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    {
        int k, added = 0;
        oidc_result last = OIDC_RESULT_OK;
        for (k = 0; k < 65; k++) {
            char iss[64];
            snprintf(iss, sizeof iss, "https://i%d.multi.test", k);
            ib = issuer_new(iss);
            if (!ib) break;
            if (oidc_issuer_builder_set_jwks_uri(ib, "https://keys.multi.test/jwks", 28, NULL) != OIDC_RESULT_OK) {
                oidc_issuer_builder_free(ib);
                break;
            }
            last = oidc_validator_builder_add_issuer(b, ib, &err);
            if (last == OIDC_RESULT_OK) added++;
            else break;
        }
        CHECKF(added == 64 && last == OIDC_RESULT_INVALID_CONFIG, "added %d, the last add gave %s (%s)", added,
               rc_name(last), oidc_error_message(err));
        oidc_error_free(err);
        err = NULL;
        CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_CONFIG, "65 issuers") == NULL);
    }
    TEST_END();
}

static void test_misuse_policy(void) {
    oidc_validator_builder *b;
    oidc_validator *v = NULL;
    oidc_error *err = NULL;
    char *out = NULL;
    size_t n = 0;
    static const char doc[] = "{\"version\":1}";
    static const char bad_doc[] = "{\"version\":1,\"audiences\":[\"\xff\"]}";
    static const char path[] = "/tmp/x";
    static const char bad_path[] = "/tmp/\xff\xfe";

    TEST_BEGIN("misuse: NULL and invalid UTF-8 for load_policy / load_policy_file / policy_json: clear codes, build fails");
    EXPECT(oidc_validator_builder_load_policy(NULL, doc, LEN(doc), &err), OIDC_RESULT_NULL_PARAMETER, &err);
    EXPECT(oidc_validator_builder_load_policy_file(NULL, path, LEN(path), &err), OIDC_RESULT_NULL_PARAMETER, &err);
    CHECK_RC(oidc_validator_builder_load_policy(NULL, doc, LEN(doc), NULL), OIDC_RESULT_NULL_PARAMETER);

    b = new_builder();
    REQUIRE(b != NULL, "builder");
    EXPECT(oidc_validator_builder_load_policy(b, NULL, 5, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_NULL_PARAMETER, "load_policy(NULL json)") == NULL);
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    EXPECT(oidc_validator_builder_load_policy_file(b, NULL, 5, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_NULL_PARAMETER, "load_policy_file(NULL path)") == NULL);

    b = new_builder();
    REQUIRE(b != NULL, "builder");
    EXPECT(oidc_validator_builder_load_policy(b, bad_doc, LEN(bad_doc), &err), OIDC_RESULT_INVALID_UTF8, &err);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_UTF8, "load_policy(bad UTF-8)") == NULL);
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    EXPECT(oidc_validator_builder_load_policy_file(b, bad_path, LEN(bad_path), &err), OIDC_RESULT_INVALID_UTF8, &err);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_UTF8, "load_policy_file(bad UTF-8 path)") == NULL);

    /* an empty document (length 0) is not a policy */
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    EXPECT(oidc_validator_builder_load_policy(b, NULL, 0, &err), OIDC_RESULT_INVALID_CONFIG, &err);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_CONFIG, "load_policy(empty)") == NULL);

    /* a builder call after a failed load does not clear the failure */
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    EXPECT(oidc_validator_builder_load_policy(b, "[1]", 3, &err), OIDC_RESULT_INVALID_CONFIG, &err);
    CHECK_RC(oidc_validator_builder_set_issuer(b, "https://a.multi.test", 20, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_jwks_json(b, JWKS_EMPTY, LEN(JWKS_EMPTY), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    CHECK(BUILD_EXPECT(b, OIDC_RESULT_INVALID_CONFIG, "builder calls after a failed load") == NULL);

    /* policy_json: NULL validator, NULL out; out_len may be NULL */
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    CHECK_RC(oidc_validator_builder_set_issuer(b, "https://a.multi.test", 20, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_jwks_json(b, JWKS_EMPTY, LEN(JWKS_EMPTY), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    v = BUILD_EXPECT(b, OIDC_RESULT_OK, "a one-issuer validator");
    REQUIRE(v != NULL, "validator");
    EXPECT(oidc_validator_policy_json(NULL, &out, &n, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    CHECK(out == NULL);
    EXPECT(oidc_validator_policy_json(v, NULL, &n, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    CHECK_RC(oidc_validator_policy_json(v, &out, NULL, NULL), OIDC_RESULT_OK);
    CHECKF(out && json_valid(out, strlen(out)) && str_has(out, "https://a.multi.test"), "export: %.300s", out ? out : "");
    oidc_string_free(out);
    oidc_validator_free(v);
    TEST_END();
}

static void test_misuse_explain(void) {
    oidc_validator_builder *b;
    oidc_validator *v = NULL;
    oidc_http_request *r = NULL;
    oidc_error *err = NULL;
    char *out = NULL;
    size_t n = 0;
    static const char tok[] = "a.b.c";

    TEST_BEGIN("misuse: NULL and invalid UTF-8 for oidc_validate_explain / oidc_authenticate_explain");
    b = new_builder();
    REQUIRE(b != NULL, "builder");
    CHECK_RC(oidc_validator_builder_set_issuer(b, "https://a.multi.test", 20, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_jwks_json(b, JWKS_EMPTY, LEN(JWKS_EMPTY), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    v = BUILD_EXPECT(b, OIDC_RESULT_OK, "a one-issuer validator");
    REQUIRE(v != NULL, "validator");

    EXPECT(oidc_validate_explain(NULL, tok, LEN(tok), 0, &out, &n, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    EXPECT(oidc_validate_explain(v, NULL, 5, 0, &out, &n, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    EXPECT(oidc_validate_explain(v, tok, LEN(tok), 0, NULL, &n, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    CHECK(out == NULL);
    /* a token that is not UTF-8, and an empty one: explained as denied, not an error */
    CHECK_RC(oidc_validate_explain(v, BAD_UTF8, LEN(BAD_UTF8), 0, &out, NULL, NULL), OIDC_RESULT_OK);
    CHECKF(out && json_valid(out, strlen(out)) && json_is_str(json_member(out, "decision"), "deny", 4), "bad UTF-8: %.300s",
           out ? out : "");
    oidc_string_free(out);
    out = NULL;
    CHECK_RC(oidc_validate_explain(v, NULL, 0, 0, &out, &n, NULL), OIDC_RESULT_OK);
    CHECKF(out && json_valid(out, n) && json_is_str(json_member(out, "decision"), "deny", 4), "empty: %.300s", out ? out : "");
    oidc_string_free(out);
    out = NULL;

    REQUIRE(oidc_http_request_new(&r, NULL) == OIDC_RESULT_OK, "oidc_http_request_new");
    EXPECT(oidc_authenticate_explain(NULL, r, &out, &n, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    EXPECT(oidc_authenticate_explain(v, NULL, &out, &n, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    CHECK_RC(oidc_http_request_set_method(r, "GET", 3, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_http_request_set_url(r, "https://api.multi.test/x", 24, NULL), OIDC_RESULT_OK);
    EXPECT(oidc_authenticate_explain(v, r, NULL, &n, &err), OIDC_RESULT_NULL_PARAMETER, &err);
    CHECK(out == NULL);
    /* no credentials: a denial explained, OK */
    CHECK_RC(oidc_authenticate_explain(v, r, &out, NULL, NULL), OIDC_RESULT_OK);
    CHECKF(out && json_valid(out, strlen(out)) && json_is_str(json_member(out, "decision"), "deny", 4), "no credentials: %.300s",
           out ? out : "");
    oidc_string_free(out);
    out = NULL;
    /* a request without method and URL is a misuse: an error, no document */
    oidc_http_request_reset(r);
    {
        oidc_result rc = oidc_authenticate_explain(v, r, &out, &n, &err);
        CHECKF(rc != OIDC_RESULT_OK && out == NULL, "no method/URL: %s", rc_name(rc));
        CHECKF(err && oidc_error_code(err) == rc, "no method/URL: error object");
        oidc_error_free(err);
        err = NULL;
        oidc_string_free(out);
    }
    oidc_http_request_free(r);
    oidc_validator_free(v);
    TEST_END();
}

int main(int argc, char **argv) {
    char why[256] = "";
    TEST_BEGIN("the flattened vectors load (multi_issuer.json, policy.json, the sets they name)");
    V.loaded = load_vectors(argc > 1 ? argv[1] : NULL, why, sizeof why);
    CHECKF(V.loaded, "%s", why);
    TEST_END();
    if (V.loaded) {
        note("%zu issuers, %zu sets, %zu equivalents, %zu malformed documents", V.n_iss, V.n_sets, V.n_equiv, V.n_mal);
        test_multi_issuer_vectors();
        test_calls_and_document_agree();
        test_policy_equivalents();
        test_policy_malformed();
        test_explain();
        test_explain_every_case();
        test_authenticate_explain();
    }
    test_policy_file_errors();
    test_misuse_issuer_builder_null();
    test_misuse_issuer_builder_utf8();
    test_misuse_issuer_builder_values();
    test_misuse_policy();
    test_misuse_explain();
    free_vectors();
    return harness_finish();
}
