/* liboidc C ABI tests against a live loopback issuer (tests/testkit's oidc-testkit binary).
 *
 * Environment (tests/c/run.sh sets all of them):
 *   OIDC_TEST_ISSUER          https issuer base URL
 *   OIDC_TEST_CA_FILE         PEM of the CA that signed the issuer's certificate
 *   OIDC_TEST_ADMIN           plain-http admin URL (token minting, faults, rotation, stats)
 *   OIDC_TEST_JWKS_URI        optional; default ISSUER/jwks
 *   OIDC_TEST_WRONG_CA_FILE   optional; an unrelated CA (must fail with TLS)
 *   OIDC_TEST_TIME_SCALE      optional factor for every client timeout (run.sh uses 4 under
 *                             valgrind, where a TLS handshake on a loaded machine takes seconds)
 * Without the first three, the program prints a skip line and exits 0.
 *
 * The process-wide key cache is keyed by JWKS URL, and failures are remembered for a few
 * seconds. Tests that need a cold key set therefore use the JWKS URL with a unique query
 * string (the testkit routes by path and ignores the query), and the cold-start test runs
 * first, before anything has fetched ISSUER/jwks in this process.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *ISSUER, *CA_FILE, *ADMIN, *WRONG_CA_FILE;
static char JWKS_URI[512];
static double TIME_SCALE = 1.0;
static const char *const CA_VARS[] = {"SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"};

/* ------------------------------------------------------------------------------------------ */
/* A tiny HTTP/1.1 client for the admin API (plain http, Connection: close, no chunking).      */

struct http_resp {
    int status;
    char *body; /* malloc'd, NUL-terminated */
};

/* METHOD base+path_query; returns 0 on a complete response. */
static int http_call(const char *method, const char *base, const char *path_query, struct http_resp *out) {
    char host[256], port[16] = "80", req[2048];
    const char *p, *colon, *slash, *hdr_end, *cl;
    struct addrinfo hints, *ai = NULL;
    struct timeval tv = {15, 0};
    size_t cap = 8192, len = 0, hl;
    char *buf;
    int fd = -1, rc = -1;
    ssize_t n;

    out->status = 0;
    out->body = NULL;
    if (strncmp(base, "http://", 7) != 0) return -1;
    p = base + 7;
    slash = strchr(p, '/');
    if (!slash) slash = p + strlen(p);
    colon = memchr(p, ':', (size_t)(slash - p));
    hl = (size_t)((colon ? colon : slash) - p);
    if (hl == 0 || hl >= sizeof host) return -1;
    memcpy(host, p, hl);
    host[hl] = 0;
    if (colon) {
        size_t pl = (size_t)(slash - colon - 1);
        if (pl == 0 || pl >= sizeof port) return -1;
        memcpy(port, colon + 1, pl);
        port[pl] = 0;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0) return -1;
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) goto done;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) goto done;
    n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                 method, path_query, host, port);
    if (n <= 0 || (size_t)n >= sizeof req || send(fd, req, (size_t)n, 0) != n) goto done;
    buf = malloc(cap);
    for (;;) {
        if (len + 1 >= cap) buf = realloc(buf, cap *= 2);
        n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    buf[len] = 0;
    hdr_end = strstr(buf, "\r\n\r\n");
    if (n < 0 || !hdr_end || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1 || strstr(buf, "chunked")) {
        free(buf);
        goto done;
    }
    hl = (size_t)(hdr_end + 4 - buf);
    cl = strstr(buf, "ontent-Length:");
    if (!cl) cl = strstr(buf, "ontent-length:");
    if (cl && cl < hdr_end) {
        size_t want = (size_t)strtoul(cl + 14, NULL, 10);
        if (len - hl < want) { /* truncated */
            free(buf);
            goto done;
        }
        len = hl + want;
    }
    out->body = malloc(len - hl + 1);
    memcpy(out->body, buf + hl, len - hl);
    out->body[len - hl] = 0;
    free(buf);
    rc = 0;
done:
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return rc;
}

/* GET/POST on the admin API expecting 200; returns the malloc'd body or NULL (and a diagnostic). */
static char *admin(const char *method, const char *path_query) {
    struct http_resp r;
    if (http_call(method, ADMIN, path_query, &r) != 0) {
        CHECKF(0, "admin %s %s: no response", method, path_query);
        return NULL;
    }
    if (r.status != 200) {
        CHECKF(0, "admin %s %s: HTTP %d %s", method, path_query, r.status, r.body ? r.body : "");
        free(r.body);
        return NULL;
    }
    return r.body;
}

static void admin_post(const char *path_query) {
    free(admin("POST", path_query));
}

/* A fresh token from the issuer; extra is appended to the query (e.g. "&exp_in=-3600"). */
static char *mint(const char *alg, const char *extra) {
    char q[512];
    char *t;
    snprintf(q, sizeof q, "/token?alg=%s&aud=api&sub=e2e-user&scope=read%s", alg, extra ? extra : "");
    t = admin("GET", q);
    if (t) t[strcspn(t, "\r\n")] = 0;
    return t;
}

/* The issuer's request count for `path` from GET /stats ({"<path>": hits, ...}); 0 if absent. */
static long hits(const char *path) {
    char key[256];
    char *body = admin("GET", "/stats"), *p;
    long v = 0;
    if (!body) return -1;
    snprintf(key, sizeof key, "\"%s\"", path);
    p = strstr(body, key);
    if (p) {
        p = strchr(p + strlen(key), ':');
        if (p) v = strtol(p + 1, NULL, 10);
    }
    free(body);
    return v;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------------------------ */
/* Clients                                                                                     */

static void clear_ca_env(void) {
    size_t i;
    for (i = 0; i < COUNT(CA_VARS); i++) unsetenv(CA_VARS[i]);
}

enum { DISCOVERY = 0, UNIQUE_JWKS = 1 };

struct client_opts {
    int key_source;       /* DISCOVERY, or UNIQUE_JWKS: ISSUER/jwks?<tag> (a cold cache entry) */
    const char *tag;      /* query tag for UNIQUE_JWKS */
    const char *ca_file;  /* oidc_validator_builder_set_ca_file, or NULL */
    uint32_t connect_ms, total_ms; /* before OIDC_TEST_TIME_SCALE; 0: 5000 / 10000 */
    uint32_t ttl_max_s, stale_s;   /* ttl_max_s 0: default cache policy */
    size_t max_response;           /* 0: default */
    const char *issuer;            /* NULL: ISSUER */
};

/* Build a client; on failure returns NULL and the build code in *rc_out. */
static oidc_validator *make_client(const struct client_opts *o, oidc_result *rc_out) {
    oidc_validator_builder *b = NULL;
    oidc_validator *c = NULL;
    oidc_error *err = NULL;
    oidc_result rc;
    char uri[768];
    CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_issuer(b, o->issuer ? o->issuer : ISSUER, strlen(o->issuer ? o->issuer : ISSUER), NULL),
             OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    if (o->max_response) CHECK_RC(oidc_validator_builder_set_max_response_bytes(b, o->max_response, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_expected_typ(b, "at+jwt", 6, NULL), OIDC_RESULT_OK);
    if (o->key_source == UNIQUE_JWKS) {
        snprintf(uri, sizeof uri, "%s?c=%s-%ld", JWKS_URI, o->tag, (long)getpid());
        CHECK_RC(oidc_validator_builder_set_jwks_uri(b, uri, strlen(uri), NULL), OIDC_RESULT_OK);
    }
    if (o->ca_file) CHECK_RC(oidc_validator_builder_set_ca_file(b, o->ca_file, strlen(o->ca_file), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_timeouts_ms(b, (uint32_t)((o->connect_ms ? o->connect_ms : 5000) * TIME_SCALE),
                                                 (uint32_t)((o->total_ms ? o->total_ms : 10000) * TIME_SCALE), NULL),
             OIDC_RESULT_OK);
    if (o->ttl_max_s)
        CHECK_RC(oidc_validator_builder_set_cache_policy_secs(b, 0, o->ttl_max_s, 0, o->stale_s, NULL), OIDC_RESULT_OK);
    rc = oidc_validator_builder_build(b, &c, &err);
    if (rc_out) *rc_out = rc;
    else CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    return c;
}

/* Validate `token` now; returns the code. On failure *err_out (if given) receives the error. */
static oidc_result validate(const oidc_validator *c, const char *token, oidc_error **err_out) {
    char *claims = NULL;
    size_t n = 0;
    oidc_result rc;
    if (!c || !token) return OIDC_RESULT_NULL_PARAMETER;
    rc = oidc_validate(c, token, strlen(token), &claims, &n, err_out);
    if (rc == OIDC_RESULT_OK) {
        CHECK(claims && n == strlen(claims));
        CHECKF(str_has(claims, "\"sub\":\"e2e-user\""), "claims: %s", claims ? claims : "(null)");
        CHECK(str_has(claims, ISSUER));
    }
    oidc_string_free(claims);
    return rc;
}

/* Infrastructure failures (keys unobtainable) are not the token's fault. */
static void check_infra_error(const oidc_error *err, oidc_result expected) {
    CHECK(oidc_error_code(err) == expected);
    CHECK(oidc_error_message(err)[0] != 0);
    CHECKF(oidc_error_http_status(err) == 503, "http status %u", oidc_error_http_status(err));
    CHECK(oidc_error_oauth_error(err) == NULL);
    CHECKF(str_starts(oidc_error_www_authenticate(err), "Bearer") &&
               !str_has(oidc_error_www_authenticate(err), "invalid_token"),
           "www: %s", oidc_error_www_authenticate(err));
}

/* ------------------------------------------------------------------------------------------ */
/* Cold start: 16 threads validate on one fresh discovery client at once.                      */

#define COLD_THREADS 16
static const char *const ALGS[] = {"RS256", "ES256", "EdDSA", "PS256"};

struct cold_arg {
    pthread_t tid;
    const oidc_validator *client;
    const char *token;
    pthread_barrier_t *start;
    oidc_result rc;
    char msg[256];
};

static void *cold_worker(void *p) {
    struct cold_arg *a = p;
    oidc_error *err = NULL;
    char *claims = NULL;
    pthread_barrier_wait(a->start);
    a->rc = oidc_validate(a->client, a->token, strlen(a->token), &claims, NULL, &err);
    snprintf(a->msg, sizeof a->msg, "%s", oidc_error_message(err));
    oidc_string_free(claims);
    oidc_error_free(err);
    return NULL;
}

static void test_cold_concurrent(void) {
    struct cold_arg a[COLD_THREADS];
    char *tokens[COUNT(ALGS)];
    pthread_barrier_t start;
    struct client_opts o = {.key_source = DISCOVERY, .ca_file = CA_FILE};
    oidc_validator *c;
    long disc0, jwks0;
    size_t i;

    TEST_BEGIN("cold start: %d threads validate at once on a fresh discovery client (CA file)", COLD_THREADS);
    for (i = 0; i < COUNT(ALGS); i++) tokens[i] = mint(ALGS[i], NULL);
    disc0 = hits("/.well-known/openid-configuration");
    jwks0 = hits("/jwks");
    c = make_client(&o, NULL);
    pthread_barrier_init(&start, NULL, COLD_THREADS);
    for (i = 0; i < COLD_THREADS; i++) {
        a[i].client = c;
        a[i].token = tokens[i % COUNT(ALGS)];
        a[i].start = &start;
        a[i].rc = OIDC_RESULT_INTERNAL;
        a[i].msg[0] = 0;
        CHECK(pthread_create(&a[i].tid, NULL, cold_worker, &a[i]) == 0);
    }
    for (i = 0; i < COLD_THREADS; i++) {
        pthread_join(a[i].tid, NULL);
        CHECKF(a[i].rc == OIDC_RESULT_OK, "thread %zu (%s): %s %s", i, ALGS[i % COUNT(ALGS)], rc_name(a[i].rc), a[i].msg);
    }
    pthread_barrier_destroy(&start);
    /* Single flight: one discovery request and one JWKS request for all 16 threads. */
    CHECKF(hits("/.well-known/openid-configuration") - disc0 == 1, "discovery fetched %ld times",
           hits("/.well-known/openid-configuration") - disc0);
    CHECKF(hits("/jwks") - jwks0 == 1, "JWKS fetched %ld times", hits("/jwks") - jwks0);
    /* Warm: no further requests. */
    for (i = 0; i < COUNT(ALGS); i++) CHECK_RC(validate(c, tokens[i], NULL), OIDC_RESULT_OK);
    CHECKF(hits("/jwks") - jwks0 == 1, "warm validation fetched the JWKS again");
    oidc_validator_free(c);
    for (i = 0; i < COUNT(ALGS); i++) free(tokens[i]);
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* Trust configuration                                                                          */

static void run_trust_case(const char *name, const char *env_var, const char *ca_file, oidc_result expected) {
    static int serial;
    char tag[64];
    int ks;
    char *token = mint("ES256", NULL);
    for (ks = DISCOVERY; ks <= UNIQUE_JWKS; ks++) {
        struct client_opts o = {.key_source = ks, .tag = tag, .ca_file = ca_file};
        oidc_validator *c;
        oidc_error *err = NULL;
        oidc_result rc;
        TEST_BEGIN("trust %s, %s -> %s", name, ks == DISCOVERY ? "discovery" : "fresh JWKS URL", rc_name(expected));
        snprintf(tag, sizeof tag, "trust%d", serial++);
        clear_ca_env();
        if (env_var) setenv(env_var, CA_FILE, 1);
        c = make_client(&o, NULL);
        clear_ca_env(); /* read at build time: clearing it now must not matter */
        rc = validate(c, token, &err);
        CHECK_RC_ERR(rc, expected, err);
        if (rc != OIDC_RESULT_OK) check_infra_error(err, rc);
        if (expected != OIDC_RESULT_OK) {
            oidc_error *perr = NULL;
            CHECK_RC_ERR(oidc_validator_prefetch(c, &perr), expected, perr);
            oidc_error_free(perr);
        }
        oidc_error_free(err);
        oidc_validator_free(c);
        TEST_END();
    }
    free(token);
}

static void test_trust(void) {
    size_t i;
    for (i = 0; i < COUNT(CA_VARS); i++) run_trust_case(CA_VARS[i], CA_VARS[i], NULL, OIDC_RESULT_OK);
    run_trust_case("set_ca_file, CA variables unset", NULL, CA_FILE, OIDC_RESULT_OK);
    run_trust_case("none (system roots only)", NULL, NULL, OIDC_RESULT_TLS);
    if (WRONG_CA_FILE) run_trust_case("an unrelated CA file", NULL, WRONG_CA_FILE, OIDC_RESULT_TLS);
}

/* ------------------------------------------------------------------------------------------ */
/* Live tokens, rotation                                                                       */

static void test_live_tokens(void) {
    static const struct {
        const char *name, *alg, *extra;
        oidc_result expected;
    } cases[] = {
        {"RS256", "RS256", NULL, OIDC_RESULT_OK},
        {"PS256", "PS256", NULL, OIDC_RESULT_OK},
        {"ES256", "ES256", NULL, OIDC_RESULT_OK},
        {"EdDSA", "EdDSA", NULL, OIDC_RESULT_OK},
        {"aud array", "RS256", "&aud=other", OIDC_RESULT_OK},
        {"expired an hour ago", "ES256", "&exp_in=-3600", OIDC_RESULT_TOKEN_EXPIRED},
        {"not valid for an hour", "ES256", "&nbf_in=3600", OIDC_RESULT_TOKEN_NOT_YET_VALID},
        {"other issuer", "ES256", "&iss=https://evil.test", OIDC_RESULT_ISSUER_MISMATCH},
        {"typ JWT", "ES256", "&typ=JWT", OIDC_RESULT_TYPE_MISMATCH},
        {"crit header", "ES256", "&header=%7B%22crit%22%3A%5B%22x%22%5D%2C%22x%22%3A1%7D", OIDC_RESULT_CRIT_UNSUPPORTED},
    };
    struct client_opts o = {.key_source = DISCOVERY, .ca_file = CA_FILE};
    oidc_validator *c;
    size_t i;
    c = make_client(&o, NULL);
    for (i = 0; i < COUNT(cases); i++) {
        char *token = mint(cases[i].alg, cases[i].extra);
        oidc_error *err = NULL;
        oidc_result rc;
        TEST_BEGIN("live token: %s -> %s", cases[i].name, rc_name(cases[i].expected));
        rc = validate(c, token, &err);
        CHECK_RC_ERR(rc, cases[i].expected, err);
        if (rc != OIDC_RESULT_OK) {
            CHECK(oidc_error_http_status(err) == 401);
            CHECK(str_has(oidc_error_www_authenticate(err), "error=\"invalid_token\""));
        }
        oidc_error_free(err);
        free(token);
        TEST_END();
    }
    oidc_validator_free(c);

    /* An unknown kid triggers one refresh; use a cold URL so the shared entry's cooldown is not
     * spent before the rotation test. */
    TEST_BEGIN("live token with an unknown kid -> UNKNOWN_KEY; a cold cache costs one fetch, then one refresh per cooldown");
    {
        struct client_opts u = {.key_source = UNIQUE_JWKS, .tag = "unknown-kid", .ca_file = CA_FILE};
        char *token = mint("RS256", "&kid=no-such-key");
        long j0;
        oidc_error *err = NULL;
        c = make_client(&u, NULL);
        j0 = hits("/jwks");
        CHECK_RC_ERR(validate(c, token, &err), OIDC_RESULT_UNKNOWN_KEY, err);
        /* issue 10 item 2: the cold fetch is the refresh (no second request at once) */
        CHECKF(hits("/jwks") - j0 == 1, "JWKS fetched %ld times (want the cold fetch only)", hits("/jwks") - j0);
        oidc_error_free(err);
        err = NULL;
        CHECK_RC_ERR(validate(c, token, &err), OIDC_RESULT_UNKNOWN_KEY, err);
        CHECKF(hits("/jwks") - j0 == 2, "want one refresh for the unknown kid: %ld fetches", hits("/jwks") - j0);
        oidc_error_free(err);
        err = NULL;
        CHECK_RC_ERR(validate(c, token, &err), OIDC_RESULT_UNKNOWN_KEY, err);
        CHECKF(hits("/jwks") - j0 == 2, "refresh cooldown not applied: %ld fetches", hits("/jwks") - j0);
        oidc_error_free(err);
        oidc_validator_free(c);
        free(token);
    }
    TEST_END();
}

static void test_rotation(void) {
    struct client_opts o = {.key_source = DISCOVERY, .ca_file = CA_FILE};
    oidc_validator *c;
    char *before, *after, *previous;
    long j0;
    TEST_BEGIN("rotation: after POST /rotate a new-key token validates (one refresh), old keys still work");
    c = make_client(&o, NULL);
    before = mint("RS256", NULL);
    CHECK_RC(validate(c, before, NULL), OIDC_RESULT_OK);
    admin_post("/rotate");
    after = mint("RS256", NULL);
    previous = mint("RS256", "&key=previous");
    j0 = hits("/jwks");
    CHECK_RC(validate(c, after, NULL), OIDC_RESULT_OK);
    CHECKF(hits("/jwks") - j0 == 1, "JWKS fetched %ld times for the new kid", hits("/jwks") - j0);
    CHECK_RC(validate(c, before, NULL), OIDC_RESULT_OK);
    CHECK_RC(validate(c, previous, NULL), OIDC_RESULT_OK);
    CHECK_RC(validate(c, after, NULL), OIDC_RESULT_OK);
    CHECKF(hits("/jwks") - j0 == 1, "JWKS fetched again: %ld", hits("/jwks") - j0);
    oidc_validator_free(c);
    free(before);
    free(after);
    free(previous);
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* Faults on the issuer: a fresh client gets a precise code within its timeout.              */

static void test_faults(void) {
    static const struct {
        const char *path, *mode;
        oidc_result expected;
    } cases[] = {
        {"/jwks", "500", OIDC_RESULT_HTTP_STATUS},
        {"/jwks", "404", OIDC_RESULT_HTTP_STATUS},
        {"/jwks", "garbage", OIDC_RESULT_JWKS_INVALID},
        {"/jwks", "wrong_ctype", OIDC_RESULT_RESPONSE_INVALID},
        {"/jwks", "truncate", OIDC_RESULT_RESPONSE_INVALID},
        {"/jwks", "reset", OIDC_RESULT_NETWORK},
        {"/jwks", "hang", OIDC_RESULT_TIMEOUT},
        {"/jwks", "slower than the timeout", OIDC_RESULT_TIMEOUT},
        {"/jwks", "slow_ms=100", OIDC_RESULT_OK},
        {"/.well-known/openid-configuration", "503", OIDC_RESULT_HTTP_STATUS},
        {"/.well-known/openid-configuration", "garbage", OIDC_RESULT_DISCOVERY_INVALID},
        {"/.well-known/openid-configuration", "wrong_ctype", OIDC_RESULT_RESPONSE_INVALID},
        {"/.well-known/openid-configuration", "hang", OIDC_RESULT_TIMEOUT},
    };
    const double total_s = 2.0 * TIME_SCALE;
    char *token = mint("ES256", NULL);
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        int discovery = cases[i].path[1] == '.';
        char q[256], tag[32];
        struct client_opts o = {.key_source = discovery ? DISCOVERY : UNIQUE_JWKS, .tag = tag, .ca_file = CA_FILE,
                                .connect_ms = 1000, .total_ms = 2000};
        oidc_validator *c;
        oidc_error *err = NULL;
        oidc_result rc;
        double t0, dt;
        TEST_BEGIN("fault %s mode=%s -> %s within the timeout", cases[i].path, cases[i].mode, rc_name(cases[i].expected));
        if (strcmp(cases[i].mode, "slower than the timeout") == 0)
            snprintf(q, sizeof q, "/fault?path=%s&mode=slow_ms=%d", cases[i].path, (int)(total_s * 1000) + 3000);
        else
            snprintf(q, sizeof q, "/fault?path=%s&mode=%s", cases[i].path, cases[i].mode);
        admin_post(q);
        snprintf(tag, sizeof tag, "fault%zu", i);
        c = make_client(&o, NULL);
        t0 = now_s();
        rc = validate(c, token, &err);
        dt = now_s() - t0;
        CHECK_RC_ERR(rc, cases[i].expected, err);
        if (rc != OIDC_RESULT_OK) check_infra_error(err, rc);
        CHECKF(dt < total_s + 1.5, "took %.2f s", dt);
        oidc_error_free(err);
        oidc_validator_free(c);
        snprintf(q, sizeof q, "/fault?path=%s&mode=ok", cases[i].path);
        admin_post(q);
        TEST_END();
    }
    free(token);
}

/* Misconfiguration and oversized documents that only show with a live issuer. */
static void test_live_config_errors(void) {
    char slash_issuer[600];
    struct client_opts o[2] = {
        {.key_source = DISCOVERY, .ca_file = CA_FILE, .issuer = slash_issuer},
        {.key_source = UNIQUE_JWKS, .tag = "small", .ca_file = CA_FILE, .max_response = 1024},
    };
    static const char *const names[] = {
        "issuer configured with a trailing slash -> DISCOVERY_ISSUER_MISMATCH",
        "JWKS larger than max_response_bytes (1 KiB) -> RESPONSE_TOO_LARGE",
    };
    static const oidc_result expected[] = {OIDC_RESULT_DISCOVERY_ISSUER_MISMATCH, OIDC_RESULT_RESPONSE_TOO_LARGE};
    char *token = mint("RS256", NULL);
    size_t i;
    snprintf(slash_issuer, sizeof slash_issuer, "%s/", ISSUER);
    for (i = 0; i < COUNT(o); i++) {
        oidc_validator *c;
        oidc_error *err = NULL;
        oidc_result rc;
        TEST_BEGIN("%s", names[i]);
        c = make_client(&o[i], NULL);
        rc = validate(c, token, &err);
        CHECK_RC_ERR(rc, expected[i], err);
        if (rc != OIDC_RESULT_OK) check_infra_error(err, rc);
        oidc_error_free(err);
        oidc_validator_free(c);
        TEST_END();
    }
    free(token);
}

static void test_prefetch(void) {
    struct client_opts o = {.key_source = UNIQUE_JWKS, .tag = "prefetch", .ca_file = CA_FILE};
    oidc_validator *c;
    oidc_error *err = NULL;
    char *token = mint("EdDSA", NULL);
    long j0;
    TEST_BEGIN("prefetch warms the key set; validation then makes no request");
    c = make_client(&o, NULL);
    j0 = hits("/jwks");
    CHECK_RC_ERR(oidc_validator_prefetch(c, &err), OIDC_RESULT_OK, err);
    oidc_error_free(err);
    CHECK(hits("/jwks") - j0 == 1);
    CHECK_RC(validate(c, token, NULL), OIDC_RESULT_OK);
    CHECK(hits("/jwks") - j0 == 1);
    oidc_validator_free(c);
    free(token);
    TEST_END();
}

/* Key-set expiry while the issuer fails: stale keys serve for stale-if-error, then not. */
static void test_stale_if_error(void) {
    static const struct {
        const char *name;
        uint32_t stale_s;
        oidc_result expected;
    } cases[] = {
        {"expired key set + JWKS HTTP 500, stale-if-error 60 s -> keys keep serving", 60, OIDC_RESULT_OK},
        {"expired key set + JWKS HTTP 500, stale-if-error 0 -> HTTP_STATUS", 0, OIDC_RESULT_HTTP_STATUS},
    };
    char *token = mint("ES256", NULL);
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        char tag[32];
        struct client_opts o = {.key_source = UNIQUE_JWKS, .tag = tag, .ca_file = CA_FILE, .ttl_max_s = 1,
                                .stale_s = cases[i].stale_s};
        struct timespec pause = {1, 300 * 1000 * 1000};
        oidc_validator *c;
        oidc_error *err = NULL;
        TEST_BEGIN("%s", cases[i].name);
        snprintf(tag, sizeof tag, "stale%zu", i);
        c = make_client(&o, NULL); /* key-set TTL: 1 s */
        CHECK_RC_ERR(oidc_validator_prefetch(c, &err), OIDC_RESULT_OK, err);
        oidc_error_free(err);
        err = NULL;
        admin_post("/fault?path=/jwks&mode=500");
        nanosleep(&pause, NULL);
        CHECK_RC_ERR(validate(c, token, &err), cases[i].expected, err);
        oidc_error_free(err);
        admin_post("/fault?path=/jwks&mode=ok");
        oidc_validator_free(c);
        TEST_END();
    }
    free(token);
}

/* Issue 10 item 3: an outage is not a forgery. An unknown kid whose refresh fails is
 * KEYS_UNAVAILABLE (503, no invalid_token), not UNKNOWN_KEY (401). */
static void test_outage_is_not_forgery(void) {
    struct client_opts o = {.key_source = UNIQUE_JWKS, .tag = "outage", .ca_file = CA_FILE};
    char *token = mint("RS256", "&kid=rotated-in-during-the-outage");
    oidc_validator *c;
    oidc_error *err = NULL;
    TEST_BEGIN("unknown kid while the JWKS endpoint fails -> KEYS_UNAVAILABLE (503, no invalid_token)");
    c = make_client(&o, NULL);
    CHECK_RC_ERR(oidc_validator_prefetch(c, &err), OIDC_RESULT_OK, err);
    oidc_error_free(err);
    err = NULL;
    admin_post("/fault?path=/jwks&mode=500");
    CHECK_RC_ERR(validate(c, token, &err), OIDC_RESULT_KEYS_UNAVAILABLE, err);
    CHECK(err != NULL && oidc_error_http_status(err) == 503 && oidc_error_oauth_error(err) == NULL);
    oidc_error_free(err);
    admin_post("/fault?path=/jwks&mode=ok");
    oidc_validator_free(c);
    free(token);
    TEST_END();
}

int main(void) {
    const char *jwks;
    setvbuf(stdout, NULL, _IOLBF, 0);
    ISSUER = getenv("OIDC_TEST_ISSUER");
    CA_FILE = getenv("OIDC_TEST_CA_FILE");
    ADMIN = getenv("OIDC_TEST_ADMIN");
    WRONG_CA_FILE = getenv("OIDC_TEST_WRONG_CA_FILE");
    jwks = getenv("OIDC_TEST_JWKS_URI");
    if (getenv("OIDC_TEST_TIME_SCALE") && atof(getenv("OIDC_TEST_TIME_SCALE")) >= 1.0)
        TIME_SCALE = atof(getenv("OIDC_TEST_TIME_SCALE"));
    if (!ISSUER || !*ISSUER || !CA_FILE || !*CA_FILE || !ADMIN || !*ADMIN) {
        printf("ok - e2e # SKIP OIDC_TEST_ISSUER, OIDC_TEST_CA_FILE or OIDC_TEST_ADMIN not set\n");
        printf("0 passed, 0 failed\n");
        return 0;
    }
    if (WRONG_CA_FILE && !*WRONG_CA_FILE) WRONG_CA_FILE = NULL;
    snprintf(JWKS_URI, sizeof JWKS_URI, "%s", jwks && *jwks ? jwks : "");
    if (!JWKS_URI[0]) snprintf(JWKS_URI, sizeof JWKS_URI, "%s/jwks", ISSUER);
    clear_ca_env();

    test_cold_concurrent(); /* first: needs a cold ISSUER/jwks cache entry */
    test_trust();
    test_live_tokens();
    test_prefetch();
    test_live_config_errors();
    test_rotation();
    test_faults();
    test_outage_is_not_forgery();
    test_stale_if_error();
    return harness_finish();
}
