/* liboidc issue 14 from C: JWE decryption, JWS verification and back-channel logout tokens
 * through the protocol client's request object, the JOSE settings of both builders, and signed
 * revocation lists.
 *
 *   test_jose JOSE_TXT                        the shared vectors + configuration misuse (no network)
 *   test_jose --revocation ISSUER CA ADMIN    revocation and drop_keys against oidc-testkit
 *
 * JOSE_TXT is tests/vectors/{jose_jwe,jose_jws,logout}.json flattened by tests/c/jose_flat.py
 * (run.sh does it; no JSON parser here). Every case runs twice, once through oidc_oauth_send and
 * once through oidc_oauth_send_async (oauth_send.h), each on a client of its own:
 *
 *   - jose_jwe.json: an OAuth client with the case's key (oidc_oauth_builder_add_decryption_key,
 *     the JWK text) and algorithms (oidc_oauth_builder_set_decryption_algorithms, when given),
 *     a static JWKS; OIDC_OP_DECRYPT; the plaintext (payload_b64url, the PAYLOAD field when
 *     UTF-8), the protected header, or the code and the fixed message; no refusal's message or
 *     details contain the plaintext or a piece of the private key;
 *   - jose_jws.json: an OAuth client with the case's JWKS (oidc_oauth_builder_set_jwks_json);
 *     OIDC_OP_VERIFY_JWS with the detached payload (OIDC_PARAM_PAYLOAD) and OIDC_PARAM_NOW_SECS;
 *     payload + header or the code; the case's algorithms through oidc_oauth_builder_set_algorithms
 *     (a weak symbol: with a library without it, the cases whose list is not the default are
 *     skipped visibly);
 *   - logout.json: per case a fresh OAuth client (issuer, client id, static JWKS, the case's
 *     accept_untyped) and validator (same issuer and keys, audience = client id, the leeway);
 *     its steps in order at `now`: logout_token (OIDC_OP_VALIDATE_LOGOUT_TOKEN + NOW_SECS: code,
 *     sub, sid, jti), access_token (oidc_validate_at / oidc_validate_at_async), id_token
 *     (OIDC_OP_VALIDATE_ID_TOKEN + NOW_SECS).
 *   - misuse: NULL builder / key / names for every issue-14 setter of both builders, invalid
 *     UTF-8, keys that are not keys (remembered: _build fails with the same code), bad algorithm
 *     names, accept_encrypted without a key (_build: INVALID_CONFIG), set_request_object with
 *     one of enc alg / enc, revocation settings out of range; no message or details ever contain
 *     a piece of the key text given.
 *   - --revocation: a validator with the issuer's signed revocation list (fail closed, poll
 *     bounds of 1 s): a valid token accepted, a revoked jti and a revoked kid refused with
 *     OIDC_RESULT_REVOKED through oidc_validate and oidc_validate_async; oidc_validator_drop_keys
 *     (every issuer, one issuer, an unknown issuer, a static-key validator) and the /jwks
 *     refetch it causes.
 * Every object obtained is freed: valgrind and LSan check it.
 */
#define _GNU_SOURCE

#include "async_common.h"

#include <stdint.h>

#include "flat.h"
#include "harness.h"
#include "oauth_send.h"

#define LEN(s) (sizeof(s) - 1)

/* The JWS vectors' validation time (tests/jose_jws.rs NOW). */
#define JWS_NOW 1800000000
/* The protocol client's leeway: no C setter, the library's default. */
#define OAUTH_DEFAULT_LEEWAY 60
/* Any valid key set for the JWE clients (decryption needs no signature keys). */
static const char ANY_JWKS[] =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"any\",\"x\":\"0aUpqxzMNMr67wkrAvSnzvcb7rVph3ypyrmecbKzdu0\","
    "\"y\":\"mWStjieFYeCAL-RUaekdX2NxD1aMTXNC69Z-OtLxWYM\"}]}";
static const char JOSE_ISSUER[] = "https://jose.vectors.test";

/* ------------------------------------------------------------------------------------------ */
/* The flattened vectors                                                                       */

static void bfree(bytes *b) {
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

/* The result code named `name` (the vectors name codes), or -1. */
static long code_by_name(const char *name) {
    uint32_t c;
    for (c = 0; c < 1000; c++) {
        const char *n = oidc_result_name(c);
        if (n && strcmp(n, name) == 0) return (long)c;
    }
    return -1;
}

/* A NUL-terminated response string equals `want` (bytes; NULL: the field must be absent). */
static int field_is(const char *got, const bytes *want) {
    if (!want->p) return got == NULL;
    return got && strlen(got) == want->n && memcmp(got, want->p, want->n) == 0;
}

/* A distinctive piece (24 characters) of a JSON string member of `json`, into `out`. */
static int secret_piece(const char *json, const char *member, char *out, size_t cap) {
    char key[32];
    const char *p;
    size_t i;
    snprintf(key, sizeof key, "\"%s\":\"", member);
    p = strstr(json, key);
    if (!p) return 0;
    p += strlen(key);
    for (i = 0; i + 1 < cap && i < 24 && p[i] && p[i] != '"'; i++) out[i] = p[i];
    out[i] = 0;
    return i >= 16;
}

static int text_has(const char *s, const char *needle) { return s && needle && needle[0] && strstr(s, needle); }

/* ------------------------------------------------------------------------------------------ */
/* Builders                                                                                    */

static oidc_oauth_builder *oauth_base(const char *issuer, const char *client_id, const char *jwks, size_t jwks_len) {
    oidc_oauth_builder *b = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_builder_new(&b, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    if (!b) return NULL;
    err = NULL;
    rc = oidc_oauth_builder_set_issuer(b, issuer, strlen(issuer), &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    err = NULL;
    rc = oidc_oauth_builder_set_client_id(b, client_id, strlen(client_id), &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    err = NULL;
    rc = oidc_oauth_builder_set_jwks_json(b, jwks, jwks_len, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    return b;
}

static oidc_oauth_client *oauth_build(oidc_oauth_builder *b) {
    oidc_oauth_client *c = NULL;
    oidc_error *err = NULL;
    if (!b) return NULL;
    oidc_result rc = oidc_oauth_builder_build(b, &c, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    return c;
}

/* ------------------------------------------------------------------------------------------ */
/* jose_jwe.json                                                                                */

/* The common checks of a VERIFY_JWS / DECRYPT answer: the JSON starts with the expected header
 * (the library's sorted compact form), holds payload_b64url, the PAYLOAD field is the text. */
static void check_payload_response(const outcome *o, const bytes *header, const bytes *pt_b64, const bytes *pt_text) {
    const char *json = resp_json(o);
    char *prefix;
    size_t n;
    if (header->p) {
        n = header->n + 16;
        prefix = malloc(n);
        snprintf(prefix, n, "{\"header\":%s,", header->p);
        CHECKF(str_starts(json, prefix), "[%s] response JSON %.300s does not start with %s", MODE_NAME[o->async], json, prefix);
        free(prefix);
    }
    if (pt_b64->p) {
        n = pt_b64->n + 24;
        prefix = malloc(n);
        snprintf(prefix, n, "\"payload_b64url\":\"%s\"", pt_b64->p);
        CHECKF(str_has(json, prefix), "[%s] response JSON %.300s lacks %s", MODE_NAME[o->async], json, prefix);
        free(prefix);
    }
    const char *text = o->resp ? oidc_oauth_response_string(o->resp, OIDC_FIELD_PAYLOAD) : NULL;
    CHECKF(field_is(text, pt_text), "[%s] PAYLOAD field %.120s, want %.120s", MODE_NAME[o->async], text ? text : "(none)",
           pt_text->p ? pt_text->p : "(none)");
    const char *ph = o->resp ? oidc_oauth_response_string(o->resp, OIDC_FIELD_PROTECTED_HEADER) : NULL;
    CHECKF(ph && ph[0] == '{', "[%s] PROTECTED_HEADER field %s", MODE_NAME[o->async], ph ? ph : "(none)");
}

static int n_jwe, n_jws, n_logout, n_skipped;

static void run_jwe(char **f, enum send_mode mode) {
    bytes name, jwe, key, algs, pt, header, text, code, message, skip;
    int ok = unhex(f[1], &name) && unhex(f[2], &jwe) && unhex(f[3], &key) && unhex(f[4], &algs) && unhex(f[5], &pt) &&
             unhex(f[6], &header) && unhex(f[7], &text) && unhex(f[8], &code) && unhex(f[9], &message) &&
             unhex(f[10], &skip);
    char label[300];
    snprintf(label, sizeof label, "jwe [%s] %s", MODE_NAME[mode], name.p ? name.p : "?");
    if (ok && skip.p) {
        test_skip(label, skip.p);
        n_skipped++;
        goto done;
    }
    TEST_BEGIN("%s", label);
    if (!ok) {
        CHECKF(0, "malformed jwe line");
        TEST_END();
        goto done;
    }
    n_jwe++;
    {
        oidc_oauth_builder *b = oauth_base(JOSE_ISSUER, "rp-jose", ANY_JWKS, LEN(ANY_JWKS));
        oidc_error *err = NULL;
        oidc_result rc = oidc_oauth_builder_add_decryption_key(b, key.p, key.n, NULL, 0, &err);
        CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
        oidc_error_free(err);
        if (algs.p) {
            err = NULL;
            rc = oidc_oauth_builder_set_decryption_algorithms(b, algs.p, algs.n, &err);
            CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
            oidc_error_free(err);
        }
        oidc_oauth_client *c = oauth_build(b);
        oidc_oauth_request *r = c ? req_new(c, OIDC_OP_DECRYPT) : NULL;
        if (r) {
            req_set(r, OIDC_PARAM_JWE, jwe.p);
            outcome o = send_mode(r, NULL, mode);
            long want = code.p ? code_by_name(code.p) : 0;
            CHECKF(want >= 0, "unknown code %s", code.p);
            expect_outcome(&o, (oidc_result)want, "decrypt");
            if (o.rc == OIDC_RESULT_OK && want == 0) check_payload_response(&o, &header, &pt, &text);
            if (o.rc != OIDC_RESULT_OK) {
                if (message.p) CHECKF(o.message && strcmp(o.message, message.p) == 0, "message %s, want %s", o.message, message.p);
                CHECKF(!text_has(o.message, "Frodo") && !text_has(o.details, "Frodo"), "the plaintext in the error");
                char piece[32];
                const char *members[] = {"d", "k", "p", "q"};
                size_t i;
                for (i = 0; i < 4; i++)
                    if (secret_piece(key.p, members[i], piece, sizeof piece))
                        CHECKF(!text_has(o.message, piece) && !text_has(o.details, piece), "key member %s in the error", members[i]);
            }
            outcome_free(&o);
        }
        oidc_oauth_request_free(r);
        oidc_oauth_client_free(c);
    }
    TEST_END();
done:
    bfree(&name), bfree(&jwe), bfree(&key), bfree(&algs), bfree(&pt), bfree(&header), bfree(&text), bfree(&code),
        bfree(&message), bfree(&skip);
}

/* ------------------------------------------------------------------------------------------ */
/* jose_jws.json                                                                                */

/* oidc_oauth_builder_set_algorithms came after ABI 0.2's first header: weak, so that this test
 * builds against either header and runs against either library (NULL: not in the library). */
extern oidc_result oidc_oauth_builder_set_algorithms(struct oidc_oauth_builder *builder, const char *algorithms,
                                                     size_t algorithms_len, struct oidc_error **err_out)
    __attribute__((weak));

static void run_jws(char **f, enum send_mode mode) {
    bytes name, jws, jwks, algs, detached, header, pt, text, code, skip;
    int ok = unhex(f[1], &name) && unhex(f[2], &jws) && unhex(f[3], &jwks) && unhex(f[4], &algs) && unhex(f[6], &detached) &&
             unhex(f[7], &header) && unhex(f[8], &pt) && unhex(f[9], &text) && unhex(f[10], &code) && unhex(f[11], &skip);
    int restricted = strcmp(f[5], "1") == 0;
    char label[300];
    snprintf(label, sizeof label, "jws [%s] %s", MODE_NAME[mode], name.p ? name.p : "?");
    if (ok && !skip.p && restricted && !oidc_oauth_builder_set_algorithms) {
        char why[300];
        snprintf(why, sizeof why, "algorithms '%s': this liboidc has no oidc_oauth_builder_set_algorithms (the OAuth client's "
                 "allow-list is always the default)", algs.p);
        test_skip(label, why);
        n_skipped++;
        goto done;
    }
    if (ok && skip.p) {
        test_skip(label, skip.p);
        n_skipped++;
        goto done;
    }
    TEST_BEGIN("%s", label);
    if (!ok) {
        CHECKF(0, "malformed jws line");
        TEST_END();
        goto done;
    }
    n_jws++;
    {
        oidc_oauth_builder *b = oauth_base(JOSE_ISSUER, "api", jwks.p, jwks.n);
        if (b && oidc_oauth_builder_set_algorithms) { /* the case's list, as tests/jose_jws.rs */
            oidc_error *e = NULL;
            oidc_result arc = oidc_oauth_builder_set_algorithms(b, algs.p, algs.n, &e);
            CHECK_RC_ERR(arc, OIDC_RESULT_OK, e);
            oidc_error_free(e);
        }
        oidc_oauth_client *c = oauth_build(b);
        oidc_oauth_request *r = c ? req_new(c, OIDC_OP_VERIFY_JWS) : NULL;
        if (r) {
            oidc_error *err = NULL;
            oidc_result rc = oidc_oauth_request_set_string(r, OIDC_PARAM_JWS, jws.p, jws.n, &err);
            CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
            oidc_error_free(err);
            if (detached.p) {
                err = NULL;
                rc = oidc_oauth_request_set_string(r, OIDC_PARAM_PAYLOAD, detached.p, detached.n, &err);
                CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
                oidc_error_free(err);
            }
            req_int(r, OIDC_PARAM_NOW_SECS, JWS_NOW);
            outcome o = send_mode(r, NULL, mode);
            long want = code.p ? code_by_name(code.p) : 0;
            CHECKF(want >= 0, "unknown code %s", code.p);
            expect_outcome(&o, (oidc_result)want, "verify_jws");
            if (o.rc == OIDC_RESULT_OK && want == 0) check_payload_response(&o, &header, &pt, &text);
            outcome_free(&o);
        }
        oidc_oauth_request_free(r);
        oidc_oauth_client_free(c);
    }
    TEST_END();
done:
    bfree(&name), bfree(&jws), bfree(&jwks), bfree(&algs), bfree(&detached), bfree(&header), bfree(&pt), bfree(&text), bfree(&code),
        bfree(&skip);
}

/* ------------------------------------------------------------------------------------------ */
/* logout.json                                                                                  */

/* oidc_validate_at_async, waited for: the code, the callback count, off the caller's thread. */
typedef struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    pthread_t caller;
    int calls, on_caller;
    oidc_result rc;
    int has_claims, err_matches;
} vwait;

static void on_validated(void *ud, oidc_result rc, const char *claims, size_t len, const oidc_error *err) {
    vwait *w = ud;
    pthread_mutex_lock(&w->m);
    w->calls++;
    if (pthread_equal(pthread_self(), w->caller)) w->on_caller = 1;
    w->rc = rc;
    w->has_claims = claims != NULL && len > 0;
    w->err_matches = rc == OIDC_RESULT_OK ? err == NULL : (err != NULL && oidc_error_code(err) == rc);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->m);
}

/* Validate with the validator, blocking (at `now`, or now when `now` < 0) or async; the code. */
static oidc_result validate_mode(const oidc_validator *v, const char *tok, int64_t now, enum send_mode mode, const char *what) {
    if (mode == BLOCKING) {
        char *claims = NULL;
        size_t n = 0;
        oidc_error *err = NULL;
        oidc_result rc = now >= 0 ? oidc_validate_at(v, tok, strlen(tok), now, &claims, &n, &err)
                                  : oidc_validate(v, tok, strlen(tok), &claims, &n, &err);
        CHECKF((rc == OIDC_RESULT_OK) == (claims != NULL), "%s [blocking]: claims exactly on OK", what);
        CHECKF(rc == OIDC_RESULT_OK || (err && oidc_error_code(err) == rc), "%s [blocking]: the error carries the code", what);
        oidc_string_free(claims);
        oidc_error_free(err);
        return rc;
    }
    vwait *w = calloc(1, sizeof *w);
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->caller = pthread_self();
    oidc_error *err = NULL;
    oidc_result acc = now >= 0 ? oidc_validate_at_async(v, tok, strlen(tok), now, on_validated, w, NULL, &err)
                               : oidc_validate_async(v, tok, strlen(tok), on_validated, w, NULL, &err);
    CHECK_RC_ERR(acc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    if (acc != OIDC_RESULT_OK) {
        pthread_mutex_destroy(&w->m);
        pthread_cond_destroy(&w->cv);
        free(w);
        return acc;
    }
    double end = mono_s() + send_wait_secs();
    pthread_mutex_lock(&w->m);
    while (w->calls == 0 && mono_s() < end) {
        pthread_mutex_unlock(&w->m);
        sleep_ms(1);
        pthread_mutex_lock(&w->m);
    }
    pthread_mutex_unlock(&w->m);
    sleep_ms(5); /* a second callback would show in the counter */
    pthread_mutex_lock(&w->m);
    int calls = w->calls;
    oidc_result rc = calls ? w->rc : (oidc_result)0xFFFFu;
    CHECKF(calls == 1, "%s [async]: %d callbacks, want 1", what, calls);
    CHECKF(!w->on_caller, "%s [async]: the callback ran on the calling thread", what);
    if (calls) {
        CHECKF((rc == OIDC_RESULT_OK) == w->has_claims, "%s [async]: claims exactly on OK", what);
        CHECKF(w->err_matches, "%s [async]: the error must carry the code", what);
    }
    pthread_mutex_unlock(&w->m);
    if (calls == 0) return rc; /* leaked on purpose: a late callback must not write freed memory */
    pthread_mutex_destroy(&w->m);
    pthread_cond_destroy(&w->cv);
    free(w);
    return rc;
}

static struct {
    bytes issuer, client_id, jwks;
    long leeway;
    int64_t now;
    int have;
} L;

typedef struct {
    char path[16];
    long code;
    char expect[64];
    bytes sub, sid, jti, token;
} lstep;

#define MAX_STEPS 8

static void run_logout_case(const char *name, int untyped, lstep *steps, int n, enum send_mode mode) {
    char label[300];
    int i;
    snprintf(label, sizeof label, "logout [%s] %s", MODE_NAME[mode], name);
    if (L.leeway != OAUTH_DEFAULT_LEEWAY) {
        char why[160];
        snprintf(why, sizeof why, "leeway_secs %ld: the OAuth builder has no leeway setting (default %d)", L.leeway,
                 OAUTH_DEFAULT_LEEWAY);
        test_skip(label, why);
        n_skipped++;
        return;
    }
    TEST_BEGIN("%s", label);
    n_logout++;
    oidc_oauth_builder *b = oauth_base(L.issuer.p, L.client_id.p, L.jwks.p, L.jwks.n);
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_builder_set_logout_accept_untyped(b, (uint32_t)untyped, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    oidc_oauth_client *c = oauth_build(b);

    oidc_validator_builder *vb = NULL;
    oidc_validator *v = NULL;
    err = NULL;
    rc = oidc_validator_builder_new(&vb, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    err = NULL;
    if (vb) {
        CHECK_RC(oidc_validator_builder_set_issuer(vb, L.issuer.p, L.issuer.n, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_jwks_json(vb, L.jwks.p, L.jwks.n, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_add_audience(vb, L.client_id.p, L.client_id.n, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_leeway_secs(vb, (uint32_t)L.leeway, NULL), OIDC_RESULT_OK);
        rc = oidc_validator_builder_build(vb, &v, &err);
        CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
        oidc_error_free(err);
    }
    for (i = 0; c && v && i < n; i++) {
        lstep *s = &steps[i];
        char what[64];
        snprintf(what, sizeof what, "step %d (%s)", i, s->path);
        CHECKF(strcmp(rc_name((oidc_result)s->code), s->expect) == 0, "%s: the vector's code %ld is %s, not %s", what, s->code,
               rc_name((oidc_result)s->code), s->expect);
        if (strcmp(s->path, "access_token") == 0) {
            rc = validate_mode(v, s->token.p, L.now, mode, what);
            CHECKF(rc == (oidc_result)s->code, "%s [%s]: got %s, want %s", what, MODE_NAME[mode], rc_name(rc), s->expect);
            continue;
        }
        int logout = strcmp(s->path, "logout_token") == 0;
        oidc_oauth_request *r = req_new(c, logout ? OIDC_OP_VALIDATE_LOGOUT_TOKEN : OIDC_OP_VALIDATE_ID_TOKEN);
        if (!r) continue;
        req_set(r, logout ? OIDC_PARAM_LOGOUT_TOKEN : OIDC_PARAM_ID_TOKEN, s->token.p);
        req_int(r, OIDC_PARAM_NOW_SECS, L.now);
        outcome o = send_mode(r, NULL, mode);
        expect_outcome(&o, (oidc_result)s->code, what);
        if (o.rc == OIDC_RESULT_OK && logout) {
            const char *sub = oidc_oauth_response_string(o.resp, OIDC_FIELD_SUB);
            const char *sid = oidc_oauth_response_string(o.resp, OIDC_FIELD_SID);
            const char *jti = oidc_oauth_response_string(o.resp, OIDC_FIELD_JTI);
            const char *iss = oidc_oauth_response_string(o.resp, OIDC_FIELD_ISS);
            CHECKF(field_is(sub, &s->sub), "%s: sub %s, want %s", what, sub ? sub : "(none)", s->sub.p ? s->sub.p : "(none)");
            CHECKF(field_is(sid, &s->sid), "%s: sid %s, want %s", what, sid ? sid : "(none)", s->sid.p ? s->sid.p : "(none)");
            CHECKF(field_is(jti, &s->jti), "%s: jti %s, want %s", what, jti ? jti : "(none)", s->jti.p ? s->jti.p : "(none)");
            CHECKF(iss && strcmp(iss, L.issuer.p) == 0, "%s: iss %s", what, iss ? iss : "(none)");
            CHECKF(str_starts(resp_json(&o), "{"), "%s: the JSON is the claims", what);
        }
        outcome_free(&o);
        oidc_oauth_request_free(r);
    }
    oidc_validator_free(v);
    oidc_oauth_client_free(c);
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* The vector file                                                                              */

#define MAX_FIELDS 16

static int split(char *line, char **f) {
    int n = 0;
    char *save = NULL, *t;
    for (t = strtok_r(line, " \n", &save); t && n < MAX_FIELDS; t = strtok_r(NULL, " \n", &save)) f[n++] = t;
    return n;
}

static void run_vectors(const char *path) {
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    char *f[MAX_FIELDS];
    lstep steps[MAX_STEPS];
    int n_steps = 0, untyped = 0, in_case = 0, malformed = 0;
    char case_name[256] = "";
    if (!fp) {
        TEST_BEGIN("the flattened vectors (%s)", path ? path : "no file given");
        CHECKF(0, "cannot open the vector file: run tests/c/jose_flat.py (run.sh does)");
        TEST_END();
        return;
    }
    while (getline(&line, &cap, fp) > 0) {
        char *copy = strdup(line);
        int n = split(line, f);
        int m;
        if (n == 0) {
            free(copy);
            continue;
        }
        if (strcmp(f[0], "jwe") == 0 && n == 11) {
            for (m = 0; m < 2; m++) {
                memcpy(line, copy, strlen(copy) + 1);
                split(line, f);
                run_jwe(f, (enum send_mode)m);
            }
        } else if (strcmp(f[0], "jws") == 0 && n == 12) {
            for (m = 0; m < 2; m++) {
                memcpy(line, copy, strlen(copy) + 1);
                split(line, f);
                run_jws(f, (enum send_mode)m);
            }
        } else if (strcmp(f[0], "logout") == 0 && n == 6) {
            L.have = unhex(f[1], &L.issuer) && unhex(f[2], &L.client_id) && unhex(f[3], &L.jwks);
            L.leeway = strtol(f[4], NULL, 10);
            L.now = strtoll(f[5], NULL, 10);
            if (!L.have) malformed++;
        } else if (strcmp(f[0], "lcase") == 0 && n == 3 && L.have) {
            bytes nm;
            if (!unhex(f[1], &nm) || !nm.p) malformed++;
            snprintf(case_name, sizeof case_name, "%s", nm.p ? nm.p : "?");
            bfree(&nm);
            untyped = atoi(f[2]);
            n_steps = 0;
            in_case = 1;
        } else if (strcmp(f[0], "lstep") == 0 && n == 8 && in_case && n_steps < MAX_STEPS) {
            lstep *s = &steps[n_steps++];
            snprintf(s->path, sizeof s->path, "%s", f[1]);
            s->code = strtol(f[2], NULL, 10);
            snprintf(s->expect, sizeof s->expect, "%s", f[3]);
            if (!(unhex(f[4], &s->sub) && unhex(f[5], &s->sid) && unhex(f[6], &s->jti) && unhex(f[7], &s->token) && s->token.p))
                malformed++;
        } else if (strcmp(f[0], "lend") == 0 && in_case) {
            int i;
            for (m = 0; m < 2; m++) run_logout_case(case_name, untyped, steps, n_steps, (enum send_mode)m);
            for (i = 0; i < n_steps; i++) bfree(&steps[i].sub), bfree(&steps[i].sid), bfree(&steps[i].jti), bfree(&steps[i].token);
            in_case = 0;
        } else {
            malformed++;
        }
        free(copy);
    }
    free(line);
    fclose(fp);
    bfree(&L.issuer), bfree(&L.client_id), bfree(&L.jwks);
    TEST_BEGIN("the vector file is well formed and complete (%d jwe, %d jws, %d logout runs, %d skipped)", n_jwe, n_jws,
               n_logout, n_skipped);
    CHECKF(malformed == 0, "%d malformed lines", malformed);
    /* both modes of every case: at least 40 JWE, 50 JWS and 40 logout cases in the vectors */
    CHECKF(n_jwe >= 2 * 40 - 4 && n_jws >= 2 * 50 && n_logout >= 2 * 40, "too few cases ran");
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* Configuration misuse                                                                         */

/* A test EC P-256 private key (made for this test; protects nothing). */
static const char PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                          "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPHpxDPal2Mco6NyC\n"
                          "KGTmbyqwq6eCxQQ1oi4IVmi2vrahRANCAARR/hhkR0G+JlXwTlSMJMMicGvIhECh\n"
                          "mwbT/lz6mfTWSwB90WH3LI8ddDzj4ZHcEyPu+s/mHjqf+H67zTdvbdYh\n"
                          "-----END PRIVATE KEY-----\n";
/* Distinctive pieces of its body, never to be seen in a message. */
static const char *const PEM_PIECES[] = {"PHpxDPal2Mco6NyC", "KGTmbyqwq6eCxQQ1", "mwbT/lz6mfTWSwB9", "MIGHAgEAMBMGByqG"};
/* A private JWK (an RFC 7520 key of the vectors would do; this one is the PEM above). */
static const char JWK_PUBLIC_ONLY[] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"0aUpqxzMNMr67wkrAvSnzvcb7rVph3ypyrmecbKzdu0\","
                                      "\"y\":\"mWStjieFYeCAL-RUaekdX2NxD1aMTXNC69Z-OtLxWYM\"}";
static const char JWK_BAD_D[] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"0aUpqxzMNMr67wkrAvSnzvcb7rVph3ypyrmecbKzdu0\","
                                "\"y\":\"mWStjieFYeCAL-RUaekdX2NxD1aMTXNC69Z-OtLxWYM\",\"d\":\"SECRETdSECRETdSECRETdXYZ\"}";
static const char OCT_SHORT[] = "{\"kty\":\"oct\",\"k\":\"c2VjcmV0LW9jdC1rZXktdmFsdWU\"}";

/* No message or details of `err` contains a piece of the key texts. */
static void check_no_key_material(const oidc_error *err, const char *what) {
    size_t i;
    const char *m = err ? oidc_error_message(err) : NULL;
    const char *d = err ? oidc_error_details_json(err) : NULL;
    for (i = 0; i < sizeof PEM_PIECES / sizeof *PEM_PIECES; i++)
        CHECKF(!text_has(m, PEM_PIECES[i]) && !text_has(d, PEM_PIECES[i]), "%s: the message shows key text: %s", what, m);
    CHECKF(!text_has(m, "SECRETdSECRET") && !text_has(d, "SECRETdSECRET"), "%s: the message shows the JWK's d: %s", what, m);
    CHECKF(!text_has(m, "c2VjcmV0LW9jdC1rZXk") && !text_has(d, "c2VjcmV0LW9jdC1rZXk"), "%s: the message shows k: %s", what, m);
}

static oidc_validator_builder *vbuilder(void) {
    oidc_validator_builder *b = NULL;
    CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
    if (b) {
        CHECK_RC(oidc_validator_builder_set_issuer(b, JOSE_ISSUER, LEN(JOSE_ISSUER), NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_jwks_json(b, ANY_JWKS, LEN(ANY_JWKS), NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    }
    return b;
}

/* Build `b` (consumed); the result code; the message checked for key material. */
static oidc_result vbuild(oidc_validator_builder *b, const char *what, char *msg, size_t cap) {
    oidc_validator *v = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validator_builder_build(b, &v, &err);
    CHECKF((rc == OIDC_RESULT_OK) == (v != NULL), "%s: a validator exactly on OK", what);
    check_no_key_material(err, what);
    if (msg) snprintf(msg, cap, "%s", err ? oidc_error_message(err) : "");
    oidc_error_free(err);
    oidc_validator_free(v);
    return rc;
}

static oidc_result obuild(oidc_oauth_builder *b, const char *what) {
    oidc_oauth_client *c = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_builder_build(b, &c, &err);
    CHECKF((rc == OIDC_RESULT_OK) == (c != NULL), "%s: a client exactly on OK", what);
    check_no_key_material(err, what);
    oidc_error_free(err);
    oidc_oauth_client_free(c);
    return rc;
}

/* A setter call: its code is `want`, its error (if any) carries it and shows no key text. */
#define EXPECT_CALL(call, want, what)                                                                                  \
    do {                                                                                                               \
        oidc_error *e_ = NULL;                                                                                         \
        oidc_result r_ = (call);                                                                                       \
        CHECKF(r_ == (want), "%s: got %s, want %s (%s)", (what), rc_name(r_), rc_name(want), oidc_error_message(e_)); \
        CHECKF(r_ == OIDC_RESULT_OK ? e_ == NULL : (e_ && oidc_error_code(e_) == r_), "%s: the error object", (what)); \
        check_no_key_material(e_, (what));                                                                             \
        oidc_error_free(e_);                                                                                           \
    } while (0)
/* `call` uses `&e_` as its err_out */

static void test_null_and_utf8(void) {
    static const char bad[] = "ab\xff\xfe";
    TEST_BEGIN("misuse: NULL builder, NULL key/names, invalid UTF-8 (both builders)");
    EXPECT_CALL(oidc_validator_builder_add_decryption_key(NULL, PEM, LEN(PEM), NULL, 0, &e_), OIDC_RESULT_NULL_PARAMETER, "v add_key NULL builder");
    EXPECT_CALL(oidc_validator_builder_set_decryption_algorithms(NULL, "A256GCM", 7, &e_), OIDC_RESULT_NULL_PARAMETER, "v algs NULL builder");
    EXPECT_CALL(oidc_validator_builder_set_accept_encrypted(NULL, 1, &e_), OIDC_RESULT_NULL_PARAMETER, "v accept NULL builder");
    EXPECT_CALL(oidc_validator_builder_set_revocation(NULL, NULL, 0, OIDC_REVOCATION_FAIL_CLOSED, 0, &e_), OIDC_RESULT_NULL_PARAMETER, "v revocation NULL builder");
    EXPECT_CALL(oidc_validator_builder_set_revocation_bounds(NULL, 1, 2, &e_), OIDC_RESULT_NULL_PARAMETER, "v bounds NULL builder");
    EXPECT_CALL(oidc_validator_drop_keys(NULL, NULL, 0, &e_), OIDC_RESULT_NULL_PARAMETER, "drop_keys NULL validator");
    EXPECT_CALL(oidc_oauth_builder_add_decryption_key(NULL, PEM, LEN(PEM), NULL, 0, &e_), OIDC_RESULT_NULL_PARAMETER, "o add_key NULL builder");
    EXPECT_CALL(oidc_oauth_builder_set_decryption_algorithms(NULL, "A256GCM", 7, &e_), OIDC_RESULT_NULL_PARAMETER, "o algs NULL builder");
    EXPECT_CALL(oidc_oauth_builder_set_jwks_json(NULL, ANY_JWKS, LEN(ANY_JWKS), &e_), OIDC_RESULT_NULL_PARAMETER, "o jwks NULL builder");
    EXPECT_CALL(oidc_oauth_builder_set_request_object(NULL, NULL, 0, NULL, 0, &e_), OIDC_RESULT_NULL_PARAMETER, "o request object NULL builder");
    EXPECT_CALL(oidc_oauth_builder_set_logout_accept_untyped(NULL, 1, &e_), OIDC_RESULT_NULL_PARAMETER, "o untyped NULL builder");
    EXPECT_CALL(oidc_oauth_builder_set_replay_store(NULL, NULL, NULL, &e_), OIDC_RESULT_NULL_PARAMETER, "o replay store NULL builder");

    oidc_validator_builder *vb = vbuilder();
    EXPECT_CALL(oidc_validator_builder_add_decryption_key(vb, NULL, 10, NULL, 0, &e_), OIDC_RESULT_NULL_PARAMETER, "v add_key NULL key");
    EXPECT_CALL(oidc_validator_builder_add_decryption_key(vb, PEM, LEN(PEM), NULL, 5, &e_), OIDC_RESULT_NULL_PARAMETER, "v add_key NULL kid with a length");
    EXPECT_CALL(oidc_validator_builder_set_decryption_algorithms(vb, NULL, 3, &e_), OIDC_RESULT_NULL_PARAMETER, "v algs NULL names");
    EXPECT_CALL(oidc_validator_builder_add_decryption_key(vb, bad, LEN(bad), NULL, 0, &e_), OIDC_RESULT_INVALID_UTF8, "v add_key invalid UTF-8 key");
    EXPECT_CALL(oidc_validator_builder_add_decryption_key(vb, PEM, LEN(PEM), bad, LEN(bad), &e_), OIDC_RESULT_INVALID_UTF8, "v add_key invalid UTF-8 kid");
    EXPECT_CALL(oidc_validator_builder_set_decryption_algorithms(vb, bad, LEN(bad), &e_), OIDC_RESULT_INVALID_UTF8, "v algs invalid UTF-8");
    EXPECT_CALL(oidc_validator_builder_set_revocation(vb, bad, LEN(bad), OIDC_REVOCATION_FAIL_CLOSED, 0, &e_), OIDC_RESULT_INVALID_UTF8, "v revocation url invalid UTF-8");
    /* a failed setter is remembered: the build fails */
    CHECK(vbuild(vb, "build after failed setters", NULL, 0) != OIDC_RESULT_OK);

    oidc_oauth_builder *ob = oauth_base(JOSE_ISSUER, "rp", ANY_JWKS, LEN(ANY_JWKS));
    EXPECT_CALL(oidc_oauth_builder_add_decryption_key(ob, NULL, 10, NULL, 0, &e_), OIDC_RESULT_NULL_PARAMETER, "o add_key NULL key");
    EXPECT_CALL(oidc_oauth_builder_set_decryption_algorithms(ob, NULL, 3, &e_), OIDC_RESULT_NULL_PARAMETER, "o algs NULL names");
    EXPECT_CALL(oidc_oauth_builder_set_jwks_json(ob, NULL, 3, &e_), OIDC_RESULT_NULL_PARAMETER, "o jwks NULL");
    EXPECT_CALL(oidc_oauth_builder_add_decryption_key(ob, bad, LEN(bad), NULL, 0, &e_), OIDC_RESULT_INVALID_UTF8, "o add_key invalid UTF-8");
    EXPECT_CALL(oidc_oauth_builder_set_decryption_algorithms(ob, bad, LEN(bad), &e_), OIDC_RESULT_INVALID_UTF8, "o algs invalid UTF-8");
    EXPECT_CALL(oidc_oauth_builder_set_jwks_json(ob, bad, LEN(bad), &e_), OIDC_RESULT_INVALID_UTF8, "o jwks invalid UTF-8");
    EXPECT_CALL(oidc_oauth_builder_set_request_object(ob, bad, LEN(bad), "A256GCM", 7, &e_), OIDC_RESULT_INVALID_UTF8, "o request object invalid UTF-8 alg");
    EXPECT_CALL(oidc_oauth_builder_set_request_object(ob, "RSA-OAEP", 8, bad, LEN(bad), &e_), OIDC_RESULT_INVALID_UTF8, "o request object invalid UTF-8 enc");
    EXPECT_CALL(oidc_oauth_builder_set_logout_accept_untyped(ob, 2, &e_), OIDC_RESULT_INVALID_ARGUMENT, "o untyped 2");
    CHECK(obuild(ob, "oauth build after failed setters") != OIDC_RESULT_OK);
    TEST_END();
}

/* Keys that are not keys: refused at the setter (never OK), the build fails with the same code,
 * no message shows the key text; the same for the OAuth builder. */
static void test_not_a_key(void) {
    static const char *const names[] = {"text", "a PEM with a broken body", "a PEM certificate header",
                                        "a public JWK", "a JWK with a bad d", "an empty JSON object",
                                        "an oct key of 19 bytes", "a JWK set", "a PEM whose DER is cut short",
                                        "PKCS#8 DER under an RSA PRIVATE KEY label", "a PEM without its end line"};
    char broken[sizeof PEM];
    memcpy(broken, PEM, sizeof PEM);
    broken[40] = '!';
    broken[41] = '*';
    char cert[sizeof PEM + 16];
    snprintf(cert, sizeof cert, "-----BEGIN CERTIFICATE-----\n%s", PEM + 28);
    char *end = strstr(cert, "-----END PRIVATE KEY-----");
    if (end) memcpy(end, "-----END CERTIFICATE-----", 25);
    /* valid base64 throughout, the DER cut after the first two lines */
    char cut[sizeof PEM];
    snprintf(cut, sizeof cut, "-----BEGIN PRIVATE KEY-----\n%.130s-----END PRIVATE KEY-----\n", PEM + 28);
    char rsa_label[sizeof PEM + 16];
    snprintf(rsa_label, sizeof rsa_label, "-----BEGIN RSA PRIVATE KEY-----\n%.195s-----END RSA PRIVATE KEY-----\n", PEM + 28);
    char no_end[sizeof PEM];
    snprintf(no_end, sizeof no_end, "%.223s", PEM);
    const char *texts[] = {"not a key at all", broken, cert, JWK_PUBLIC_ONLY, JWK_BAD_D, "{}", OCT_SHORT,
                           "{\"keys\":[]}", cut, rsa_label, no_end};
    size_t i;
    for (i = 0; i < sizeof texts / sizeof *texts; i++) {
        TEST_BEGIN("misuse: a key that is not a key (%s): refused, remembered by _build, no key text shown", names[i]);
        oidc_validator_builder *vb = vbuilder();
        oidc_error *err = NULL;
        oidc_result rc = oidc_validator_builder_add_decryption_key(vb, texts[i], strlen(texts[i]), NULL, 0, &err);
        CHECKF(rc != OIDC_RESULT_OK, "validator builder: accepted");
        CHECKF(rc == OIDC_RESULT_OK || (err && oidc_error_code(err) == rc), "the error object");
        CHECKF(rc == OIDC_RESULT_INVALID_CONFIG || rc == OIDC_RESULT_INVALID_ARGUMENT || rc == OIDC_RESULT_UNSUPPORTED_ALGORITHM,
               "code %s (%s)", rc_name(rc), oidc_error_message(err));
        check_no_key_material(err, names[i]);
        note("%s: %s: %s", names[i], rc_name(rc), oidc_error_message(err));
        oidc_error_free(err);
        CHECKF(vbuild(vb, names[i], NULL, 0) == rc, "the build fails with the setter's code");

        oidc_oauth_builder *ob = oauth_base(JOSE_ISSUER, "rp", ANY_JWKS, LEN(ANY_JWKS));
        err = NULL;
        oidc_result orc = oidc_oauth_builder_add_decryption_key(ob, texts[i], strlen(texts[i]), NULL, 0, &err);
        CHECKF(orc == rc, "the OAuth builder: %s, the validator builder: %s", rc_name(orc), rc_name(rc));
        check_no_key_material(err, names[i]);
        oidc_error_free(err);
        CHECKF(obuild(ob, names[i]) == orc, "the OAuth build fails with the setter's code");
        TEST_END();
    }

    TEST_BEGIN("a valid PEM and a private JWK are accepted (with and without kid); 33 keys are refused");
    oidc_validator_builder *vb = vbuilder();
    CHECK_RC(oidc_validator_builder_add_decryption_key(vb, PEM, LEN(PEM), "k1", 2, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_add_decryption_key(vb, PEM, LEN(PEM), NULL, 0, NULL), OIDC_RESULT_OK);
    static const char OCT_128[] = "{\"kty\":\"oct\",\"kid\":\"oct-1\",\"k\":\"GawgguFyGrWKav7AX4VKUg\"}";
    CHECK_RC(oidc_validator_builder_add_decryption_key(vb, OCT_128, LEN(OCT_128), NULL, 0, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_accept_encrypted(vb, 1, NULL), OIDC_RESULT_OK);
    CHECK_RC(vbuild(vb, "valid keys", NULL, 0), OIDC_RESULT_OK);
    vb = vbuilder();
    oidc_result last = OIDC_RESULT_OK;
    for (i = 0; i < 33; i++) {
        char kid[16];
        snprintf(kid, sizeof kid, "k%zu", i);
        oidc_error *err = NULL;
        last = oidc_validator_builder_add_decryption_key(vb, PEM, LEN(PEM), kid, strlen(kid), &err);
        if (i < 32) CHECK_RC_ERR(last, OIDC_RESULT_OK, err);
        check_no_key_material(err, "33 keys");
        oidc_error_free(err);
    }
    CHECKF(last != OIDC_RESULT_OK, "the 33rd key: %s", rc_name(last));
    CHECK(vbuild(vb, "33 keys", NULL, 0) == last);
    TEST_END();
}

static void test_algorithms_and_accept(void) {
    static const char *const bad_names[] = {"RSA-OAEP FOO", "HS256", "A128GCM none", "RSA-OAEP;A256GCM", "", " ", "ECDH-ES+A512KW"};
    size_t i;
    for (i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        TEST_BEGIN("misuse: decryption algorithms '%s' refused (both builders), the build fails", bad_names[i]);
        oidc_validator_builder *vb = vbuilder();
        oidc_error *err = NULL;
        oidc_result rc = oidc_validator_builder_set_decryption_algorithms(vb, bad_names[i], strlen(bad_names[i]), &err);
        CHECKF(rc != OIDC_RESULT_OK, "accepted");
        CHECKF(rc == OIDC_RESULT_OK || (err && oidc_error_code(err) == rc), "the error object");
        note("'%s': %s: %s", bad_names[i], rc_name(rc), oidc_error_message(err));
        oidc_error_free(err);
        CHECKF(vbuild(vb, bad_names[i], NULL, 0) == rc, "the build fails with the setter's code");
        oidc_oauth_builder *ob = oauth_base(JOSE_ISSUER, "rp", ANY_JWKS, LEN(ANY_JWKS));
        oidc_result orc = oidc_oauth_builder_set_decryption_algorithms(ob, bad_names[i], strlen(bad_names[i]), NULL);
        CHECKF(orc == rc, "OAuth builder %s, validator builder %s", rc_name(orc), rc_name(rc));
        CHECK(obuild(ob, bad_names[i]) == orc);
        TEST_END();
    }
    TEST_BEGIN("decryption algorithms: good lists accepted (spaces, commas, RSA1_5 named)");
    oidc_validator_builder *vb = vbuilder();
    CHECK_RC(oidc_validator_builder_set_decryption_algorithms(vb, "RSA-OAEP-256 ECDH-ES+A128KW A256GCM A128CBC-HS256", 49, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_decryption_algorithms(vb, "RSA1_5,A128CBC-HS256", 20, NULL), OIDC_RESULT_OK);
    CHECK_RC(vbuild(vb, "good algorithms", NULL, 0), OIDC_RESULT_OK);
    TEST_END();

    TEST_BEGIN("misuse: accept_encrypted without a decryption key: _build INVALID_CONFIG; 2 INVALID_ARGUMENT");
    char msg[512];
    vb = vbuilder();
    CHECK_RC(oidc_validator_builder_set_accept_encrypted(vb, 1, NULL), OIDC_RESULT_OK);
    CHECK_RC(vbuild(vb, "accept without key", msg, sizeof msg), OIDC_RESULT_INVALID_CONFIG);
    note("accept_encrypted without a key: %s", msg);
    vb = vbuilder();
    EXPECT_CALL(oidc_validator_builder_set_accept_encrypted(vb, 2, &e_), OIDC_RESULT_INVALID_ARGUMENT, "accept 2");
    CHECK_RC(vbuild(vb, "accept 2", NULL, 0), OIDC_RESULT_INVALID_ARGUMENT);
    vb = vbuilder();
    CHECK_RC(oidc_validator_builder_set_accept_encrypted(vb, 1, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_accept_encrypted(vb, 0, NULL), OIDC_RESULT_OK);
    CHECK_RC(vbuild(vb, "accept 1 then 0, no key", NULL, 0), OIDC_RESULT_OK);
    TEST_END();
}

static void test_request_object(void) {
    struct {
        const char *alg, *enc;
        oidc_result want;
        const char *what;
    } cases[] = {
        {"RSA-OAEP", NULL, OIDC_RESULT_INVALID_ARGUMENT, "only enc alg"},
        {NULL, "A256GCM", OIDC_RESULT_INVALID_ARGUMENT, "only enc"},
        {"RSA-OAEP-512", "A256GCM", OIDC_RESULT_UNSUPPORTED_ALGORITHM, "unknown enc alg"},
        {"RSA-OAEP", "A256CTR", OIDC_RESULT_UNSUPPORTED_ALGORITHM, "unknown enc"},
        {"A256GCM", "RSA-OAEP", OIDC_RESULT_UNSUPPORTED_ALGORITHM, "swapped"},
        {NULL, NULL, OIDC_RESULT_OK, "neither (signed only)"},
        {"RSA-OAEP-256", "A256GCM", OIDC_RESULT_OK, "both"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        TEST_BEGIN("set_request_object: %s -> %s", cases[i].what, rc_name(cases[i].want));
        oidc_oauth_builder *ob = oauth_base(JOSE_ISSUER, "rp", ANY_JWKS, LEN(ANY_JWKS));
        EXPECT_CALL(oidc_oauth_builder_set_request_object(ob, cases[i].alg, slen_(cases[i].alg), cases[i].enc, slen_(cases[i].enc), &e_),
                    cases[i].want, cases[i].what);
        if (cases[i].want != OIDC_RESULT_OK) CHECKF(obuild(ob, cases[i].what) == cases[i].want, "the build fails with the setter's code");
        else oidc_oauth_builder_free(ob); /* a request object needs a private key at build: not this test's subject */
        TEST_END();
    }
    TEST_BEGIN("set_request_object: a NULL pointer with a length is NULL_PARAMETER");
    oidc_oauth_builder *ob = oauth_base(JOSE_ISSUER, "rp", ANY_JWKS, LEN(ANY_JWKS));
    EXPECT_CALL(oidc_oauth_builder_set_request_object(ob, NULL, 4, "A256GCM", 7, &e_), OIDC_RESULT_NULL_PARAMETER, "NULL alg, length 4");
    oidc_oauth_builder_free(ob);
    TEST_END();
}

/* A validator builder for a remote issuer (discovery on first use; nothing fetched at build). */
static oidc_validator_builder *vbuilder_remote(void) {
    oidc_validator_builder *b = NULL;
    CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
    if (b) {
        CHECK_RC(oidc_validator_builder_set_issuer(b, JOSE_ISSUER, LEN(JOSE_ISSUER), NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    }
    return b;
}

static void test_revocation_settings(void) {
    TEST_BEGIN("revocation settings: bad policy, bounds before set_revocation, min > max, http URL, >7 days grace");
    oidc_validator_builder *vb = vbuilder_remote();
    EXPECT_CALL(oidc_validator_builder_set_revocation(vb, NULL, 0, 0, 0, &e_), OIDC_RESULT_INVALID_ARGUMENT, "policy 0");
    oidc_validator_builder_free(vb);
    vb = vbuilder_remote();
    EXPECT_CALL(oidc_validator_builder_set_revocation(vb, NULL, 0, 3, 0, &e_), OIDC_RESULT_INVALID_ARGUMENT, "policy 3");
    oidc_validator_builder_free(vb);
    vb = vbuilder_remote();
    EXPECT_CALL(oidc_validator_builder_set_revocation_bounds(vb, 1, 2, &e_), OIDC_RESULT_INVALID_ARGUMENT, "bounds first");
    oidc_validator_builder_free(vb);
    vb = vbuilder_remote();
    CHECK_RC(oidc_validator_builder_set_revocation(vb, NULL, 0, OIDC_REVOCATION_FAIL_CLOSED, 0, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_revocation_bounds(vb, 600, 60, NULL), OIDC_RESULT_OK);
    CHECK_RC(vbuild(vb, "min > max", NULL, 0), OIDC_RESULT_INVALID_CONFIG);
    vb = vbuilder_remote();
    CHECK_RC(oidc_validator_builder_set_revocation(vb, "http://revocation.example/rl", 28, OIDC_REVOCATION_FAIL_OPEN, 0, NULL), OIDC_RESULT_OK);
    char msg[512];
    oidc_result hrc = vbuild(vb, "http url", msg, sizeof msg);
    CHECKF(hrc == OIDC_RESULT_INSECURE_URL, "http URL: %s (%s)", rc_name(hrc), msg);
    vb = vbuilder_remote();
    oidc_error *err = NULL;
    oidc_result rc = oidc_validator_builder_set_revocation(vb, NULL, 0, OIDC_REVOCATION_FAIL_CLOSED, 8 * 86400, &err);
    oidc_error_free(err);
    oidc_result brc = vbuild(vb, "grace 8 days", NULL, 0);
    CHECKF(rc != OIDC_RESULT_OK || brc != OIDC_RESULT_OK, "a grace of 8 days accepted (at most 7 days)");
    vb = vbuilder_remote();
    CHECK_RC(oidc_validator_builder_set_revocation(vb, NULL, 0, OIDC_REVOCATION_FAIL_OPEN, 60, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_revocation_bounds(vb, 1, 0, NULL), OIDC_RESULT_OK);
    brc = vbuild(vb, "good revocation settings", msg, sizeof msg);
    CHECKF(brc == OIDC_RESULT_OK, "good settings: %s (%s)", rc_name(brc), msg);
    TEST_END();

    TEST_BEGIN("revocation with a static key set: _build INVALID_CONFIG (the list needs a remote issuer)");
    vb = vbuilder();
    CHECK_RC(oidc_validator_builder_set_revocation(vb, NULL, 0, OIDC_REVOCATION_FAIL_CLOSED, 0, NULL), OIDC_RESULT_OK);
    CHECK_RC(vbuild(vb, "static keys + revocation", NULL, 0), OIDC_RESULT_INVALID_CONFIG);
    TEST_END();

    TEST_BEGIN("drop_keys on a static-key validator: OK; an unknown issuer INVALID_ARGUMENT; invalid UTF-8");
    vb = vbuilder();
    oidc_validator *v = NULL;
    CHECK_RC(oidc_validator_builder_build(vb, &v, NULL), OIDC_RESULT_OK);
    EXPECT_CALL(oidc_validator_drop_keys(v, NULL, 0, &e_), OIDC_RESULT_OK, "static, every issuer");
    EXPECT_CALL(oidc_validator_drop_keys(v, JOSE_ISSUER, LEN(JOSE_ISSUER), &e_), OIDC_RESULT_OK, "static, its issuer");
    EXPECT_CALL(oidc_validator_drop_keys(v, "https://nope.example", 20, &e_), OIDC_RESULT_INVALID_ARGUMENT, "unknown issuer");
    EXPECT_CALL(oidc_validator_drop_keys(v, "ab\xff", 3, &e_), OIDC_RESULT_INVALID_UTF8, "invalid UTF-8 issuer");
    oidc_validator_free(v);
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* Revocation against the fixture                                                               */

static const char *R_ISSUER, *R_CA, *R_ADMIN;

static char *fixture_token(const char *query) {
    char *t = admin_get(R_ADMIN, query);
    if (t) {
        size_t n = strlen(t);
        while (n && (t[n - 1] == '\n' || t[n - 1] == '\r')) t[--n] = 0;
    }
    return t;
}

static oidc_validator *revocation_validator(int with_revocation) {
    oidc_validator_builder *b = NULL;
    oidc_validator *v = NULL;
    oidc_error *err = NULL;
    CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
    if (!b) return NULL;
    CHECK_RC(oidc_validator_builder_set_issuer(b, R_ISSUER, strlen(R_ISSUER), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_ca_file(b, R_CA, strlen(R_CA), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    if (with_revocation) {
        CHECK_RC(oidc_validator_builder_set_revocation(b, NULL, 0, OIDC_REVOCATION_FAIL_CLOSED, 0, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_revocation_bounds(b, 1, 1, NULL), OIDC_RESULT_OK);
    }
    oidc_result rc = oidc_validator_builder_build(b, &v, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    return v;
}

/* Validate until the code is `want` (the list is polled every second): at most ~20 s. */
static oidc_result validate_until(const oidc_validator *v, const char *tok, oidc_result want, enum send_mode mode) {
    oidc_result rc = OIDC_RESULT_OK;
    int i;
    for (i = 0; i < 80; i++) {
        rc = validate_mode(v, tok, -1, mode, "revocation");
        if (rc == want) break;
        sleep_ms(250);
    }
    return rc;
}

/* The current kid of `alg` from the admin /keys document. */
static int current_kid(const char *alg, char *out, size_t cap) {
    char *keys = admin_get(R_ADMIN, "/keys");
    char pat[64];
    const char *p;
    size_t i;
    snprintf(pat, sizeof pat, "\"%s\":\"", alg);
    p = keys ? strstr(keys, "\"current\"") : NULL;
    p = p ? strstr(p, pat) : NULL;
    if (!p) {
        free(keys);
        return 0;
    }
    p += strlen(pat);
    for (i = 0; i + 1 < cap && p[i] && p[i] != '"'; i++) out[i] = p[i];
    out[i] = 0;
    free(keys);
    return i > 0;
}

static void run_revocation(void) {
    int m;
    char kid[64] = "";
    /* The fixture signs the list with its first alg (RS256 by default); tokens here are ES256. */
    TEST_BEGIN("revocation: the fixture's admin answers; the ES256 kid");
    CHECKF(current_kid("ES256", kid, sizeof kid), "no ES256 kid in /keys");
    TEST_END();
    for (m = 0; m < 2; m++) {
        enum send_mode mode = (enum send_mode)m;
        char q[256], jti_good[64], jti_bad[64];
        snprintf(jti_good, sizeof jti_good, "good-%s", MODE_NAME[m]);
        snprintf(jti_bad, sizeof jti_bad, "revoked-%s", MODE_NAME[m]);
        admin_post(R_ADMIN, "/revocation/set"); /* empty list */

        TEST_BEGIN("revocation [%s]: a valid token accepted, a revoked jti REVOKED", MODE_NAME[m]);
        oidc_validator *v = revocation_validator(1);
        snprintf(q, sizeof q, "/token?alg=ES256&aud=api&jti=%s", jti_good);
        char *good = fixture_token(q);
        snprintf(q, sizeof q, "/token?alg=ES256&aud=api&jti=%s", jti_bad);
        char *bad = fixture_token(q);
        REQUIRE(v && good && bad && good[0] == 'e' && bad[0] == 'e', "setup: validator or tokens (%s)", good ? good : "none");
        CHECK_RC(validate_mode(v, good, -1, mode, "not yet revoked"), OIDC_RESULT_OK);
        CHECK_RC(validate_mode(v, bad, -1, mode, "not yet revoked"), OIDC_RESULT_OK);
        snprintf(q, sizeof q, "/revocation/set?jti=%s", jti_bad);
        admin_post(R_ADMIN, q);
        CHECK_RC(validate_until(v, bad, OIDC_RESULT_REVOKED, mode), OIDC_RESULT_REVOKED);
        CHECK_RC(validate_mode(v, good, -1, mode, "another jti"), OIDC_RESULT_OK);
        /* a fresh validator learns the list on its first validation */
        oidc_validator *v2 = revocation_validator(1);
        CHECK_RC(validate_mode(v2, bad, -1, mode, "fresh validator"), OIDC_RESULT_REVOKED);
        CHECK_RC(validate_mode(v2, good, -1, mode, "fresh validator"), OIDC_RESULT_OK);
        oidc_validator_free(v2);
        TEST_END();

        TEST_BEGIN("revocation [%s]: a revoked kid REVOKED for every token it signed", MODE_NAME[m]);
        snprintf(q, sizeof q, "/revocation/set?kid=%s", kid);
        admin_post(R_ADMIN, q);
        CHECK_RC(validate_until(v, good, OIDC_RESULT_REVOKED, mode), OIDC_RESULT_REVOKED);
        char *other = fixture_token("/token?alg=ES256&aud=api");
        CHECK_RC(validate_mode(v, other, -1, mode, "another token by the kid"), OIDC_RESULT_REVOKED);
        char *rs = fixture_token("/token?alg=RS256&aud=api");
        CHECK_RC(validate_mode(v, rs, -1, mode, "a token by another kid"), OIDC_RESULT_OK);
        /* the list cleared: accepted again */
        admin_post(R_ADMIN, "/revocation/set");
        CHECK_RC(validate_until(v, good, OIDC_RESULT_OK, mode), OIDC_RESULT_OK);
        /* a validator without revocation never asks */
        snprintf(q, sizeof q, "/revocation/set?kid=%s", kid);
        admin_post(R_ADMIN, q);
        oidc_validator *plain = revocation_validator(0);
        CHECK_RC(validate_mode(plain, good, -1, mode, "no revocation configured"), OIDC_RESULT_OK);
        oidc_validator_free(plain);
        admin_post(R_ADMIN, "/revocation/set");
        free(other);
        free(rs);
        free(good);
        free(bad);
        oidc_validator_free(v);
        TEST_END();
    }

    TEST_BEGIN("drop_keys: every issuer and one issuer force a /jwks refetch; an unknown issuer INVALID_ARGUMENT");
    oidc_validator *v = revocation_validator(0);
    char *t1 = fixture_token("/token?alg=ES256&aud=api");
    REQUIRE(v && t1, "setup");
    CHECK_RC(validate_mode(v, t1, -1, BLOCKING, "warm"), OIDC_RESULT_OK);
    long h0 = admin_hits(R_ADMIN, "/jwks");
    CHECK_RC(validate_mode(v, t1, -1, BLOCKING, "cached"), OIDC_RESULT_OK);
    CHECKF(admin_hits(R_ADMIN, "/jwks") == h0, "a cached validation fetched /jwks");
    EXPECT_CALL(oidc_validator_drop_keys(v, NULL, 0, &e_), OIDC_RESULT_OK, "drop every issuer");
    CHECK_RC(validate_mode(v, t1, -1, BLOCKING, "after drop"), OIDC_RESULT_OK);
    long h1 = admin_hits(R_ADMIN, "/jwks");
    CHECKF(h1 == h0 + 1, "/jwks hits %ld -> %ld after drop_keys(NULL), want one refetch", h0, h1);
    EXPECT_CALL(oidc_validator_drop_keys(v, R_ISSUER, strlen(R_ISSUER), &e_), OIDC_RESULT_OK, "drop the issuer");
    CHECK_RC(validate_mode(v, t1, -1, ASYNC, "after drop (async)"), OIDC_RESULT_OK);
    long h2 = admin_hits(R_ADMIN, "/jwks");
    CHECKF(h2 == h1 + 1, "/jwks hits %ld -> %ld after drop_keys(issuer), want one refetch", h1, h2);
    EXPECT_CALL(oidc_validator_drop_keys(v, "https://nope.example", 20, &e_), OIDC_RESULT_INVALID_ARGUMENT, "unknown issuer");
    CHECK_RC(validate_mode(v, t1, -1, BLOCKING, "after the refused drop"), OIDC_RESULT_OK);
    CHECKF(admin_hits(R_ADMIN, "/jwks") == h2, "a refused drop_keys dropped the keys");
    free(t1);
    oidc_validator_free(v);
    TEST_END();
    (void)wait_count;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--revocation") == 0) {
        if (argc != 5) {
            printf("ok - revocation # SKIP usage: test_jose --revocation ISSUER CA_FILE ADMIN_URL\n");
            return harness_finish();
        }
        R_ISSUER = argv[2], R_CA = argv[3], R_ADMIN = argv[4];
        note("fixture %s, admin %s", R_ISSUER, R_ADMIN);
        run_revocation();
        return harness_finish();
    }
    run_vectors(argc >= 2 ? argv[1] : NULL);
    test_null_and_utf8();
    test_not_a_key();
    test_algorithms_and_accept();
    test_request_object();
    test_revocation_settings();
    return harness_finish();
}
