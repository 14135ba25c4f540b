/* The grants through the C ABI, against the real test IdP (tests/idp/server.mjs) and, for
 * malformed responses, a plain-HTTP mock (tests/c/mock_token_server.py). Started by
 * tests/c/run.sh grants, which sets:
 *   OIDC_TEST_ISSUER, OIDC_TEST_CA_FILE, OIDC_TEST_ADMIN   the IdP (ready line)
 *   OIDC_TEST_MOCK      http://127.0.0.1:PORT of the mock
 *   OIDC_TEST_KEYS      tests/idp/client-keys
 *   OIDC_TEST_BROWSER   tests/c/idp_browser.sh (scripted login, device and CIBA approval)
 * Last line: "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <time.h>

#include "harness.h"

static size_t slen(const char *s) { return s ? strlen(s) : 0; }
#define S(x) (x), slen(x)
#define NONE NULL, 0

static const char *ISSUER, *CA, *ADMIN, *MOCK, *KEYS, *BROWSER;
/* Under valgrind (OIDC_TEST_SLOW=1) everything is ~20x slower: longer client timeouts for the
 * happy paths and a looser bound on how long a failing call may take. */
static int SLOW;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static char *read_file(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = 0;
    fclose(f);
    return buf;
}

/* Run the browser helper; first line of its output into out. Returns its exit status. */
static int browser(char *out, size_t out_len, const char *fmt, ...) {
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s", BROWSER, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[4096] = "";
    if (!fgets(line, sizeof line, p)) line[0] = 0;
    line[strcspn(line, "\r\n")] = 0;
    if (out) snprintf(out, out_len, "%s", line);
    return pclose(p);
}

static long idp_token_hits(void) {
    char n[64];
    browser(n, sizeof n, "stat /token");
    return atol(n);
}

/* ---- clients ---------------------------------------------------------------------------- */

typedef struct {
    const char *issuer, *id, *secret, *method;
    const char *key_pem, *key_jwk, *kid;
    int dpop;                /* 1 = generated ES256 key */
    const char *endpoints[8]; /* name, url pairs */
    uint32_t total_ms;
    int http_loopback;
} spec;

static oidc_oauth_client *make(const spec *s, oidc_result *rc_out, oidc_error **err_out) {
    oidc_oauth_builder *b = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_builder_new(&b, &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_issuer(b, S(s->issuer ? s->issuer : ISSUER), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_client_id(b, S(s->id), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_ca_file(b, S(CA), &err);
    if (rc == OIDC_RESULT_OK && s->secret) rc = oidc_oauth_builder_set_client_secret(b, S(s->secret), &err);
    if (rc == OIDC_RESULT_OK && s->method) rc = oidc_oauth_builder_set_auth_method(b, S(s->method), &err);
    if (rc == OIDC_RESULT_OK && s->key_pem)
        rc = oidc_oauth_builder_set_private_key_pem(b, S(s->key_pem), S(s->kid), NONE, &err);
    if (rc == OIDC_RESULT_OK && s->key_jwk)
        rc = oidc_oauth_builder_set_private_key_jwk(b, S(s->key_jwk), NONE, NONE, &err);
    if (rc == OIDC_RESULT_OK && s->dpop) rc = oidc_oauth_builder_set_dpop_key(b, NONE, &err);
    for (int i = 0; rc == OIDC_RESULT_OK && i < 8 && s->endpoints[i]; i += 2)
        rc = oidc_oauth_builder_set_endpoint(b, S(s->endpoints[i]), S(s->endpoints[i + 1]), &err);
    if (rc == OIDC_RESULT_OK && s->total_ms) rc = oidc_oauth_builder_set_timeouts_ms(b, SLOW ? 5000 : 500, s->total_ms, &err);
    else if (rc == OIDC_RESULT_OK && SLOW) rc = oidc_oauth_builder_set_timeouts_ms(b, 30000, 60000, &err);
    if (rc == OIDC_RESULT_OK && s->http_loopback) rc = oidc_oauth_builder_set_allow_http_loopback(b, 1, &err);
    oidc_oauth_client *c = NULL;
    if (rc == OIDC_RESULT_OK) {
        rc = oidc_oauth_builder_build(b, &c, &err);
    } else {
        oidc_oauth_builder_free(b);
    }
    if (rc_out) *rc_out = rc;
    if (err_out) *err_out = err;
    else oidc_error_free(err);
    return c;
}

static oidc_oauth_client *must(const spec *s) {
    oidc_result rc;
    oidc_error *err = NULL;
    oidc_oauth_client *c = make(s, &rc, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    return c;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static void url_encode(const char *in, char *out, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (; *in && j + 4 < n; in++) {
        unsigned char ch = (unsigned char)*in;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out[j++] = (char)ch;
        } else {
            out[j++] = '%';
            out[j++] = hex[ch >> 4];
            out[j++] = hex[ch & 15];
        }
    }
    out[j] = 0;
}

static int query_param(const char *url, const char *name, char *out, size_t n) {
    const char *q = strchr(url, '?');
    size_t nl = strlen(name);
    while (q) {
        q++;
        if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
            const char *v = q + nl + 1;
            size_t len = strcspn(v, "&#");
            if (len >= n) return 0;
            memcpy(out, v, len);
            out[len] = 0;
            return 1;
        }
        q = strchr(q, '&');
    }
    return 0;
}

/* Log in through the IdP for `client_id` with the PKCE values; the code into `code`. */
static int login(oidc_oauth_client *c, const char *client_id, const oidc_pkce *p, char *code, size_t n) {
    char *authz = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_client_endpoint(c, S("authorization_endpoint"), &authz, NULL, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    if (rc != OIDC_RESULT_OK) return 0;
    char url[4096], cb[4096], redirect[256];
    url_encode("http://127.0.0.1/cb", redirect, sizeof redirect);
    snprintf(url, sizeof url,
             "%s?client_id=%s&response_type=code&redirect_uri=%s&scope=openid%%20email&state=%s"
             "&nonce=%s&code_challenge=%s&code_challenge_method=%s",
             authz, client_id, redirect, oidc_pkce_state(p), oidc_pkce_nonce(p), oidc_pkce_code_challenge(p),
             oidc_pkce_code_challenge_method());
    oidc_string_free(authz);
    if (browser(cb, sizeof cb, "login '%s'", url) != 0) return 0;
    char state[128];
    CHECK(query_param(cb, "state", state, sizeof state) && strcmp(state, oidc_pkce_state(p)) == 0);
    return query_param(cb, "code", code, n);
}

/* ---- tests against the IdP ------------------------------------------------------------------ */

static void test_client_auth_methods(void) {
    TEST_BEGIN("client auth: private_key_jwt (PEM RSA/EC/Ed25519, JWK), client_secret_jwt, auto");
    const char *pems[] = {"rsa.pem", "ec-sec1.pem", "ed25519.pem"};
    const char *kids[] = {"client-rsa", "client-ec", "client-ed25519"};
    for (int i = 0; i < 3; i++) {
        char *pem = read_file(KEYS, pems[i]);
        spec s = {.id = "svc-pkjwt", .key_pem = pem, .kid = kids[i]};
        oidc_oauth_client *c = must(&s);
        oidc_token_response *t = NULL;
        oidc_error *err = NULL;
        CHECK_RC_ERR(oidc_oauth_client_credentials(c, S("read"), S("urn:liboidc:es256"), NONE, &t, &err), OIDC_RESULT_OK, err);
        CHECK(t && strcmp(oidc_token_response_token_type(t), "Bearer") == 0);
        oidc_token_response_free(t);
        oidc_error_free(err);
        oidc_oauth_client_free(c);
        free(pem);
    }
    char *jwk = read_file(KEYS, "ec.jwk.json");
    spec sj = {.id = "svc-pkjwt", .key_jwk = jwk, .method = "auto"};
    oidc_oauth_client *c = must(&sj);
    oidc_token_response *t = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_oauth_client_credentials(c, NONE, NONE, NONE, &t, &err), OIDC_RESULT_OK, err);
    oidc_token_response_free(t);
    oidc_oauth_client_free(c);
    free(jwk);
    spec ss = {.id = "svc-secret-jwt", .secret = "svc-secret-jwt-secret-0123456789abcdef0123456789", .method = "client_secret_jwt"};
    c = must(&ss);
    t = NULL;
    CHECK_RC_ERR(oidc_oauth_client_credentials(c, NONE, NONE, NONE, &t, &err), OIDC_RESULT_OK, err);
    oidc_token_response_free(t);
    oidc_oauth_client_free(c);
    /* wrong secret: INVALID_CLIENT, secret not echoed */
    spec bad = {.id = "svc-secret-jwt", .secret = "wrong-secret-wrong-secret-wrong-secret-xx", .method = "client_secret_jwt"};
    c = must(&bad);
    t = NULL;
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_client_credentials(c, NONE, NONE, NONE, &t, &err), OIDC_RESULT_INVALID_CLIENT, err);
    CHECK(t == NULL && err && !strstr(oidc_error_message(err), "wrong-secret"));
    oidc_error_free(err);
    oidc_oauth_client_free(c);
    /* builder rejects bad keys and mismatched settings */
    oidc_oauth_builder *b = NULL;
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_builder_new(&b, NULL), OIDC_RESULT_OK, NULL);
    CHECK_RC_ERR(oidc_oauth_builder_set_private_key_pem(b, S("not a key"), NONE, NONE, &err), OIDC_RESULT_INVALID_CONFIG, err);
    oidc_error_free(err);
    char *ec = read_file(KEYS, "ec.pem");
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_builder_set_private_key_pem(b, S(ec), NONE, S("RS256"), &err), OIDC_RESULT_UNSUPPORTED_ALGORITHM, err);
    oidc_error_free(err);
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_builder_set_private_key_jwk(b, S("{\"kty\":\"oct\"}"), NONE, NONE, &err), OIDC_RESULT_INVALID_CONFIG, err);
    oidc_error_free(err);
    CHECK_RC_ERR(oidc_oauth_builder_set_private_key_pem(NULL, S(ec), NONE, NONE, NULL), OIDC_RESULT_NULL_PARAMETER, NULL);
    CHECK_RC_ERR(oidc_oauth_builder_set_private_key_pem(b, "\xff\xfe", 2, NONE, NONE, NULL), OIDC_RESULT_INVALID_UTF8, NULL);
    CHECK_RC_ERR(oidc_oauth_builder_set_assertion_audience(b, S("nowhere"), NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC_ERR(oidc_oauth_builder_set_assertion_audience(b, S("issuer"), NULL), OIDC_RESULT_OK, NULL);
    oidc_oauth_builder_free(b);
    free(ec);
    TEST_END();
}

static void test_auth_code_and_refresh(void) {
    TEST_BEGIN("authorization code + PKCE (scripted login), ID token validated, refresh rotates");
    spec s = {.id = "web-app", .secret = "web-app-secret"};
    oidc_oauth_client *c = must(&s);
    oidc_pkce *p = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_pkce_new(&p, &err), OIDC_RESULT_OK, err);
    CHECK(strlen(oidc_pkce_code_verifier(p)) == 43 && strlen(oidc_pkce_code_challenge(p)) == 43);
    CHECK(strcmp(oidc_pkce_code_challenge_method(), "S256") == 0);
    char code[512];
    CHECK(login(c, "web-app", p, code, sizeof code));
    oidc_token_response *t = NULL;
    oidc_result rc = oidc_oauth_exchange_code(c, S(code), S("http://127.0.0.1/cb"), S(oidc_pkce_code_verifier(p)),
                                              S(oidc_pkce_nonce(p)), NONE, &t, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    if (rc == OIDC_RESULT_OK) {
        CHECK(oidc_token_response_id_token(t) != NULL);
        CHECK(oidc_token_response_refresh_token(t) != NULL);
        /* the code is single-use */
        oidc_token_response *t2 = NULL;
        oidc_error *e2 = NULL;
        CHECK_RC_ERR(oidc_oauth_exchange_code(c, S(code), S("http://127.0.0.1/cb"), S(oidc_pkce_code_verifier(p)), NONE, NONE,
                                          &t2, &e2),
                 OIDC_RESULT_INVALID_GRANT, e2);
        CHECK(e2 && !strstr(oidc_error_message(e2), code));
        oidc_error_free(e2);
        oidc_token_response_free(t);
        t = NULL;
    }
    oidc_error_free(err);
    err = NULL;
    /* fresh login for refresh (reusing the code above revoked its grant) */
    oidc_pkce_free(p);
    p = NULL;
    CHECK_RC_ERR(oidc_pkce_new(&p, NULL), OIDC_RESULT_OK, NULL);
    CHECK(login(c, "web-app", p, code, sizeof code));
    rc = oidc_oauth_exchange_code(c, S(code), S("http://127.0.0.1/cb"), S(oidc_pkce_code_verifier(p)), NONE, NONE, &t, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    if (rc == OIDC_RESULT_OK) {
        char *rt = strdup(oidc_token_response_refresh_token(t));
        oidc_token_response *r = NULL;
        CHECK_RC_ERR(oidc_oauth_refresh(c, S(rt), S("openid"), NONE, &r, &err), OIDC_RESULT_OK, err);
        CHECK(r && oidc_token_response_refresh_token(r) && strcmp(oidc_token_response_refresh_token(r), rt) != 0);
        oidc_token_response_free(r);
        r = NULL;
        oidc_error_free(err);
        err = NULL;
        CHECK_RC_ERR(oidc_oauth_refresh(c, S(rt), NONE, NONE, &r, &err), OIDC_RESULT_INVALID_GRANT, err);
        CHECK(r == NULL && err && !strstr(oidc_error_message(err), rt));
        free(rt);
        oidc_token_response_free(t);
    }
    oidc_error_free(err);
    /* bad input */
    CHECK_RC_ERR(oidc_pkce_new(NULL, NULL), OIDC_RESULT_NULL_PARAMETER, NULL);
    CHECK(oidc_pkce_state(NULL) == NULL);
    oidc_pkce_free(NULL);
    oidc_token_response *t3 = NULL;
    CHECK_RC_ERR(oidc_oauth_exchange_code(NULL, S("x"), S("y"), NONE, NONE, NONE, &t3, NULL), OIDC_RESULT_NULL_PARAMETER, NULL);
    CHECK_RC_ERR(oidc_oauth_exchange_code(c, S("x"), S("y"), NONE, NONE, NONE, NULL, NULL), OIDC_RESULT_NULL_PARAMETER, NULL);
    CHECK_RC_ERR(oidc_oauth_exchange_code(c, NONE, S("y"), NONE, NONE, NONE, &t3, NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC_ERR(oidc_oauth_exchange_code(c, "\xc3", 1, S("y"), NONE, NONE, NONE, &t3, NULL), OIDC_RESULT_INVALID_UTF8, NULL);
    CHECK_RC_ERR(oidc_oauth_refresh(c, NONE, NONE, NONE, &t3, NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC_ERR(oidc_oauth_refresh(c, S("not-a-refresh-token"), NONE, NONE, &t3, NULL), OIDC_RESULT_INVALID_GRANT, NULL);
    CHECK(t3 == NULL);
    oidc_pkce_free(p);
    oidc_oauth_client_free(c);
    TEST_END();
}

static void test_device_flow(void) {
    TEST_BEGIN("device flow: authorization, pending within a deadline, scripted approval, poll");
    spec s = {.id = "device-app"};
    oidc_oauth_client *c = must(&s);
    oidc_device_authorization *da = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_device_authorization(c, S("openid"), &da, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    err = NULL;
    if (rc == OIDC_RESULT_OK) {
        CHECK(oidc_device_authorization_interval(da) == 5);
        CHECK(oidc_device_authorization_expires_in(da) > 0);
        CHECK(strncmp(oidc_device_authorization_verification_uri(da), ISSUER, strlen(ISSUER)) == 0);
        const char *complete = oidc_device_authorization_verification_uri_complete(da);
        CHECK(complete && strstr(complete, "user_code="));
        oidc_token_response *t = NULL;
        double t0 = now_s();
        CHECK_RC_ERR(oidc_oauth_device_poll(c, da, 200, NULL, &t, &err), OIDC_RESULT_DEADLINE_EXCEEDED, err);
        CHECK(now_s() - t0 < (SLOW ? 20.0 : 2.0));
        oidc_error_free(err);
        err = NULL;
        CHECK(browser(NULL, 0, "device '%s'", oidc_device_authorization_user_code(da)) == 0);
        CHECK_RC_ERR(oidc_oauth_device_poll(c, da, 30000, NULL, &t, &err), OIDC_RESULT_OK, err);
        CHECK(t && oidc_token_response_access_token(t) && oidc_token_response_id_token(t));
        oidc_token_response_free(t);
        oidc_error_free(err);
    }
    CHECK_RC_ERR(oidc_oauth_device_poll(c, NULL, 1000, NULL, &(oidc_token_response *){NULL}, NULL), OIDC_RESULT_NULL_PARAMETER, NULL);
    CHECK_RC_ERR(oidc_oauth_device_authorization(c, S("openid"), NULL, NULL), OIDC_RESULT_NULL_PARAMETER, NULL);
    CHECK(oidc_device_authorization_user_code(NULL) == NULL && oidc_device_authorization_expires_in(NULL) == -1);
    oidc_device_authorization_free(da);
    oidc_device_authorization_free(NULL);
    oidc_oauth_client_free(c);
    TEST_END();
}

static void test_ciba(void) {
    TEST_BEGIN("CIBA poll mode: request, pending, approval via the IdP admin endpoint, poll; denial");
    char *pem = read_file(KEYS, "rsa.pem");
    spec s = {.id = "svc-pkjwt", .key_pem = pem, .kid = "client-rsa"};
    oidc_oauth_client *c = must(&s);
    oidc_ciba_request *r = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_ciba_request(c, S("{\"scope\":\"openid\",\"login_hint\":\"user-1\"}"), &r, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    err = NULL;
    if (rc == OIDC_RESULT_OK) {
        CHECK(oidc_ciba_request_expires_in(r) > 0 && oidc_ciba_request_interval(r) == 5);
        oidc_token_response *t = NULL;
        CHECK_RC_ERR(oidc_oauth_ciba_poll(c, r, 100, NULL, &t, &err), OIDC_RESULT_DEADLINE_EXCEEDED, err);
        oidc_error_free(err);
        err = NULL;
        CHECK(browser(NULL, 0, "ciba '%s'", oidc_ciba_request_auth_req_id(r)) == 0);
        CHECK_RC_ERR(oidc_oauth_ciba_poll(c, r, 30000, NULL, &t, &err), OIDC_RESULT_OK, err);
        CHECK(t && oidc_token_response_id_token(t));
        oidc_token_response_free(t);
        oidc_error_free(err);
        err = NULL;
        oidc_ciba_request_free(r);
        r = NULL;
    }
    rc = oidc_oauth_ciba_request(c, S("{\"scope\":\"openid\",\"login_hint\":\"user-2\"}"), &r, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    err = NULL;
    if (rc == OIDC_RESULT_OK) {
        oidc_token_response *t = NULL;
        CHECK(browser(NULL, 0, "ciba '%s' deny", oidc_ciba_request_auth_req_id(r)) == 0);
        CHECK_RC_ERR(oidc_oauth_ciba_poll(c, r, 30000, NULL, &t, &err), OIDC_RESULT_ACCESS_DENIED, err);
        oidc_error_free(err);
        err = NULL;
    }
    CHECK_RC_ERR(oidc_oauth_ciba_request(c, S("[1,2]"), &(oidc_ciba_request *){NULL}, NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC_ERR(oidc_oauth_ciba_request(c, S("{\"scope\":\"openid\"}"), &(oidc_ciba_request *){NULL}, &err),
             OIDC_RESULT_INVALID_REQUEST, err);
    oidc_error_free(err);
    CHECK(oidc_ciba_request_auth_req_id(NULL) == NULL && oidc_ciba_request_interval(NULL) == 0);
    CHECK(oidc_ciba_request_expires_in(NULL) == -1 && oidc_device_authorization_verification_uri_complete(NULL) == NULL);
    oidc_ciba_request_free(r);
    oidc_oauth_client_free(c);
    free(pem);
    TEST_END();
}

/* The non-blocking twins: the start's callback hands the handle over (owned, freed here); the
 * poll waits on the pool's timer and completes once. */
typedef struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    int calls;
    oidc_result rc;
    void *handle;
    int id_token;
} slot;
#define SLOT_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, OIDC_RESULT_OK, NULL, 0}
static void slot_done(slot *s, oidc_result rc, void *handle, int id_token) {
    pthread_mutex_lock(&s->m);
    s->calls++;
    s->rc = rc;
    s->handle = handle;
    s->id_token = id_token;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->m);
}
static void on_ciba_request(void *ud, oidc_result rc, oidc_ciba_request *r, const oidc_error *err) {
    (void)err;
    slot_done(ud, rc, r, 0);
}
static void on_device_authorization(void *ud, oidc_result rc, oidc_device_authorization *da, const oidc_error *err) {
    (void)err;
    slot_done(ud, rc, da, 0);
}
static void on_poll_token(void *ud, oidc_result rc, const oidc_token_response *t, const oidc_error *err) {
    (void)err;
    slot_done(ud, rc, NULL, t && oidc_token_response_id_token(t) != NULL);
}
static int slot_wait(slot *s, double secs) {
    double end = now_s() + secs;
    pthread_mutex_lock(&s->m);
    while (s->calls == 0 && now_s() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->m, &ts);
    }
    int n = s->calls;
    pthread_mutex_unlock(&s->m);
    return n;
}

static void test_device_and_ciba_async(void) {
    TEST_BEGIN("device flow and CIBA without blocking: owned handles from the callbacks, polls on the timer");
    double slow = SLOW ? 20.0 : 1.0;
    spec ds = {.id = "device-app"};
    oidc_oauth_client *dc = must(&ds);
    slot a = SLOT_INIT;
    CHECK_RC_ERR(oidc_oauth_device_authorization_async(dc, S("openid"), on_device_authorization, &a, NULL, NULL), OIDC_RESULT_OK, NULL);
    CHECK(slot_wait(&a, 30 * slow) == 1 && a.rc == OIDC_RESULT_OK && a.handle);
    oidc_device_authorization *da = a.handle;
    if (da) {
        /* Cancelled while it waits for the next poll: CANCELLED at once, once. */
        oidc_cancel *cancel = NULL;
        CHECK_RC_ERR(oidc_cancel_new(&cancel, NULL), OIDC_RESULT_OK, NULL);
        slot p = SLOT_INIT;
        CHECK_RC_ERR(oidc_oauth_device_poll_async(dc, da, 60000, on_poll_token, &p, cancel, NULL), OIDC_RESULT_OK, NULL);
        struct timespec pause = {0, 500 * 1000 * 1000};
        nanosleep(&pause, NULL);
        CHECK(p.calls == 0);
        double t0 = now_s();
        oidc_cancel_cancel(cancel);
        CHECK(slot_wait(&p, 5 * slow) == 1 && p.rc == OIDC_RESULT_CANCELLED);
        CHECK(now_s() - t0 < 2.0 * slow);
        oidc_cancel_free(cancel);
        /* Approved: the poll completes OK with a validated ID token. */
        slot q = SLOT_INIT;
        CHECK(browser(NULL, 0, "device '%s'", oidc_device_authorization_user_code(da)) == 0);
        CHECK_RC_ERR(oidc_oauth_device_poll_async(dc, da, 30000, on_poll_token, &q, NULL, NULL), OIDC_RESULT_OK, NULL);
        oidc_device_authorization_free(da); /* the poll copied what it needs */
        CHECK(slot_wait(&q, 30 * slow) == 1 && q.rc == OIDC_RESULT_OK && q.id_token);
        CHECK(p.calls == 1);
    }
    CHECK_RC_ERR(oidc_oauth_device_poll_async(dc, NULL, 1000, on_poll_token, &a, NULL, NULL), OIDC_RESULT_NULL_PARAMETER, NULL);
    oidc_oauth_client_free(dc);

    char *pem = read_file(KEYS, "rsa.pem");
    spec cs = {.id = "svc-pkjwt", .key_pem = pem, .kid = "client-rsa"};
    oidc_oauth_client *c = must(&cs);
    const char *hints[2] = {"{\"scope\":\"openid\",\"login_hint\":\"user-1\"}", "{\"scope\":\"openid\",\"login_hint\":\"user-2\"}"};
    for (int deny = 0; deny < 2; deny++) {
        slot r = SLOT_INIT;
        CHECK_RC_ERR(oidc_oauth_ciba_request_async(c, S(hints[deny]), on_ciba_request, &r, NULL, NULL), OIDC_RESULT_OK, NULL);
        CHECK(slot_wait(&r, 30 * slow) == 1 && r.rc == OIDC_RESULT_OK && r.handle);
        oidc_ciba_request *req = r.handle;
        if (!req) continue;
        slot p = SLOT_INIT;
        CHECK_RC_ERR(oidc_oauth_ciba_poll_async(c, req, 30000, on_poll_token, &p, NULL, NULL), OIDC_RESULT_OK, NULL);
        CHECK(browser(NULL, 0, deny ? "ciba '%s' deny" : "ciba '%s'", oidc_ciba_request_auth_req_id(req)) == 0);
        CHECK(slot_wait(&p, 30 * slow) == 1);
        if (deny) {
            CHECK(p.rc == OIDC_RESULT_ACCESS_DENIED);
        } else {
            CHECK(p.rc == OIDC_RESULT_OK && p.id_token);
        }
        oidc_ciba_request_free(req);
    }
    oidc_oauth_client_free(c);
    free(pem);
    TEST_END();
}

static void test_exchange_bearer_custom(void) {
    TEST_BEGIN("token exchange, JWT bearer (library-signed assertion), custom grant with extra params");
    spec sb = {.id = "svc-basic", .secret = "svc-basic-secret"};
    oidc_oauth_client *svc = must(&sb);
    char *pem = read_file(KEYS, "ec.pem");
    spec sp = {.id = "svc-pkjwt", .key_pem = pem, .kid = "client-ec"};
    oidc_oauth_client *pk = must(&sp);
    oidc_token_response *subj = NULL, *t = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_oauth_client_credentials(svc, NONE, NONE, NONE, &subj, &err), OIDC_RESULT_OK, err);
    if (subj) {
        CHECK_RC_ERR(oidc_oauth_token_exchange(pk, S(oidc_token_response_access_token(subj)), NONE,
                                           S("{\"audience\":\"urn:x:downstream\"}"), &t, &err),
                 OIDC_RESULT_OK, err);
        CHECK(t && strcmp(oidc_token_response_issued_token_type(t), "urn:ietf:params:oauth:token-type:access_token") == 0);
        oidc_token_response_free(t);
        t = NULL;
    }
    oidc_error_free(err);
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_token_exchange(pk, S("bogus"), NONE, NONE, &t, &err), OIDC_RESULT_INVALID_GRANT, err);
    oidc_error_free(err);
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_token_exchange(pk, NONE, NONE, NONE, &t, NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC_ERR(oidc_oauth_token_exchange(pk, S("x"), NONE, S("not json"), &t, NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC_ERR(oidc_oauth_jwt_bearer(pk, NONE, S("user-1"), S("read"), &t, &err), OIDC_RESULT_OK, err);
    oidc_token_response_free(t);
    t = NULL;
    oidc_error_free(err);
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_jwt_bearer(pk, S("a.b.c"), NONE, NONE, &t, &err), OIDC_RESULT_INVALID_GRANT, err);
    oidc_error_free(err);
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_jwt_bearer(pk, NONE, NONE, NONE, &t, NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC_ERR(oidc_oauth_jwt_bearer(svc, NONE, S("user-1"), NONE, &t, NULL), OIDC_RESULT_INVALID_CONFIG, NULL);
    CHECK_RC_ERR(oidc_oauth_custom_grant(pk, S("urn:liboidc:grant-type:echo"), S("{\"color\":\"blue\",\"size\":\"XL\"}"), &t, &err),
             OIDC_RESULT_OK, err);
    CHECK(t && strstr(oidc_token_response_json(t), "\"color\":\"blue\"") && strstr(oidc_token_response_json(t), "\"XL\""));
    oidc_token_response_free(t);
    t = NULL;
    oidc_error_free(err);
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_custom_grant(pk, S("urn:liboidc:grant-type:echo"), NONE, &t, &err), OIDC_RESULT_INVALID_REQUEST, err);
    oidc_error_free(err);
    CHECK_RC_ERR(oidc_oauth_custom_grant(pk, NONE, NONE, &t, NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC_ERR(oidc_oauth_custom_grant(pk, S("x"), S("{\"grant_type\":\"y\"}"), &t, NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK(t == NULL);
    oidc_token_response_free(subj);
    oidc_oauth_client_free(svc);
    oidc_oauth_client_free(pk);
    free(pem);
    TEST_END();
}

static void test_dpop(void) {
    TEST_BEGIN("DPoP: bound client-credentials token (nonce retry), code flow + userinfo with ath");
    spec s = {.id = "svc-basic", .secret = "svc-basic-secret", .dpop = 1};
    oidc_oauth_client *c = must(&s);
    oidc_token_response *t = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_oauth_client_credentials(c, S("read"), S("urn:liboidc:es256"), NONE, &t, &err), OIDC_RESULT_OK, err);
    CHECK(t && strcmp(oidc_token_response_token_type(t), "DPoP") == 0);
    oidc_token_response_free(t);
    t = NULL;
    oidc_error_free(err);
    err = NULL;
    char *jkt = NULL;
    size_t jkt_len = 0;
    CHECK_RC_ERR(oidc_oauth_dpop_jkt(c, &jkt, &jkt_len, NULL), OIDC_RESULT_OK, NULL);
    CHECK(jkt && jkt_len == 43);
    oidc_string_free(jkt);
    char *proof = NULL;
    CHECK_RC_ERR(oidc_oauth_dpop_proof(c, S("GET"), S("https://rs.example/api?x=1"), S("at"), &proof, NULL, NULL), OIDC_RESULT_OK, NULL);
    CHECK(proof && strchr(proof, '.'));
    oidc_string_free(proof);
    CHECK_RC_ERR(oidc_oauth_dpop_proof(c, NONE, S("https://rs.example/"), NONE, &proof, NULL, NULL), OIDC_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC_ERR(oidc_oauth_dpop_set_nonce(c, S("https://rs.example/"), S("n-1"), NULL), OIDC_RESULT_OK, NULL);
    oidc_oauth_client_free(c);

    spec w = {.id = "web-app", .secret = "web-app-secret", .dpop = 1};
    c = must(&w);
    oidc_pkce *p = NULL;
    CHECK_RC_ERR(oidc_pkce_new(&p, NULL), OIDC_RESULT_OK, NULL);
    char code[512];
    if (login(c, "web-app", p, code, sizeof code)) {
        oidc_result rc = oidc_oauth_exchange_code(c, S(code), S("http://127.0.0.1/cb"), S(oidc_pkce_code_verifier(p)),
                                                  S(oidc_pkce_nonce(p)), NONE, &t, &err);
        CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
        if (rc == OIDC_RESULT_OK) {
            char me[512];
            snprintf(me, sizeof me, "%s/me", ISSUER);
            uint32_t status = 0;
            char *body = NULL;
            size_t body_len = 0;
            CHECK_RC_ERR(oidc_oauth_resource_request(c, S("GET"), S(me), S(oidc_token_response_access_token(t)),
                                                 S(oidc_token_response_token_type(t)), NONE, NONE, &status, &body, &body_len, &err),
                     OIDC_RESULT_OK, err);
            CHECK(status == 200 && body && strstr(body, "\"sub\":\"user-1\""));
            oidc_string_free(body);
            body = NULL;
            CHECK_RC_ERR(oidc_oauth_resource_request(c, S("GET"), S(me), S(oidc_token_response_access_token(t)), S("Bearer"), NONE,
                                                 NONE, &status, &body, NULL, NULL),
                     OIDC_RESULT_OK, NULL);
            CHECK(status == 401);
            oidc_string_free(body);
            CHECK_RC_ERR(oidc_oauth_resource_request(c, S("BREW"), S(me), S("x"), NONE, NONE, NONE, &status, &body, NULL, NULL),
                     OIDC_RESULT_INVALID_ARGUMENT, NULL);
            oidc_token_response_free(t);
        }
        oidc_error_free(err);
    } else {
        CHECK(!"login failed");
    }
    oidc_pkce_free(p);
    oidc_oauth_client_free(c);
    /* a client without DPoP */
    spec plain = {.id = "svc-basic", .secret = "svc-basic-secret"};
    c = must(&plain);
    CHECK_RC_ERR(oidc_oauth_dpop_jkt(c, &jkt, NULL, NULL), OIDC_RESULT_INVALID_CONFIG, NULL);
    CHECK_RC_ERR(oidc_oauth_dpop_proof(c, S("GET"), S("https://x/"), NONE, &proof, NULL, NULL), OIDC_RESULT_INVALID_CONFIG, NULL);
    oidc_oauth_client_free(c);
    oidc_oauth_builder *b = NULL;
    CHECK_RC_ERR(oidc_oauth_builder_new(&b, NULL), OIDC_RESULT_OK, NULL);
    CHECK_RC_ERR(oidc_oauth_builder_set_dpop_key(b, S("garbage"), NULL), OIDC_RESULT_INVALID_CONFIG, NULL);
    oidc_oauth_builder_free(b);
    TEST_END();
}

typedef struct {
    oidc_oauth_client *c;
    char token[4096];
    oidc_result rc;
} cache_arg;

static void *cache_thread(void *p) {
    cache_arg *a = p;
    oidc_token_response *t = NULL;
    a->rc = oidc_oauth_client_credentials_cached(a->c, S("read"), S("urn:liboidc:rs256"), NONE, &t, NULL);
    if (t) snprintf(a->token, sizeof a->token, "%s", oidc_token_response_access_token(t));
    oidc_token_response_free(t);
    return NULL;
}

static void test_cache_single_flight(void) {
    TEST_BEGIN("client-credentials cache: 8 threads, one token request at the IdP");
    spec s = {.id = "svc-basic", .secret = "svc-basic-secret"};
    oidc_oauth_client *c = must(&s);
    char *u = NULL;
    CHECK_RC_ERR(oidc_oauth_client_endpoint(c, S("token_endpoint"), &u, NULL, NULL), OIDC_RESULT_OK, NULL); /* warm discovery */
    oidc_string_free(u);
    long before = idp_token_hits();
    pthread_t th[8];
    cache_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i].c = c;
        args[i].token[0] = 0;
        pthread_create(&th[i], NULL, cache_thread, &args[i]);
    }
    for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 8; i++) {
        CHECK_RC_ERR(args[i].rc, OIDC_RESULT_OK, NULL);
        CHECK(strcmp(args[i].token, args[0].token) == 0);
    }
    long after = idp_token_hits();
    if (after - before != 1) h_diag(__FILE__, __LINE__, "token requests at the IdP: %ld, want 1", after - before);
    oidc_oauth_client_free(c);
    TEST_END();
}

typedef struct {
    oidc_oauth_client *c;
    oidc_device_authorization *da;
    oidc_cancel *cancel;
    oidc_result rc;
} poll_arg;

static void *poll_thread(void *p) {
    poll_arg *a = p;
    oidc_token_response *t = NULL;
    a->rc = oidc_oauth_device_poll(a->c, a->da, 60000, a->cancel, &t, NULL);
    oidc_token_response_free(t);
    return NULL;
}

static void test_cancel(void) {
    TEST_BEGIN("a device poll waiting between polls is cancelled at once from another thread");
    char tok[256], dev[256];
    snprintf(tok, sizeof tok, "%s/pending/token", MOCK);
    snprintf(dev, sizeof dev, "%s/ok-device/x", MOCK);
    spec s = {.id = "mock-client", .http_loopback = 1, .endpoints = {"token_endpoint", tok, "device_authorization_endpoint", dev}};
    oidc_oauth_client *c = must(&s);
    poll_arg a = {.c = c};
    CHECK_RC_ERR(oidc_cancel_new(&a.cancel, NULL), OIDC_RESULT_OK, NULL);
    CHECK_RC_ERR(oidc_oauth_device_authorization(c, NONE, &a.da, NULL), OIDC_RESULT_OK, NULL);
    pthread_t th;
    double t0 = now_s();
    pthread_create(&th, NULL, poll_thread, &a);
    struct timespec pause = {0, 300 * 1000 * 1000}; /* let it reach the wait; the result is the same either way */
    nanosleep(&pause, NULL);
    oidc_cancel_cancel(a.cancel);
    pthread_join(th, NULL);
    CHECK_RC_ERR(a.rc, OIDC_RESULT_CANCELLED, NULL);
    CHECK(now_s() - t0 < (SLOW ? 20.0 : 2.0));
    oidc_cancel_cancel(NULL);
    oidc_cancel_free(a.cancel);
    oidc_cancel_free(NULL);
    oidc_device_authorization_free(a.da);
    oidc_oauth_client_free(c);
    TEST_END();
}

/* ---- bad responses per operation (mock server) ------------------------------------------------ */

typedef oidc_result (*op_fn)(oidc_oauth_client *c, oidc_error **err);

static oidc_result op_cc(oidc_oauth_client *c, oidc_error **err) {
    oidc_token_response *t = NULL;
    oidc_result rc = oidc_oauth_client_credentials(c, S("read"), NONE, NONE, &t, err);
    oidc_token_response_free(t);
    return rc;
}
static oidc_result op_cc_cached(oidc_oauth_client *c, oidc_error **err) {
    oidc_token_response *t = NULL;
    oidc_result rc = oidc_oauth_client_credentials_cached(c, S("read"), NONE, NONE, &t, err);
    oidc_token_response_free(t);
    return rc;
}
static oidc_result op_code(oidc_oauth_client *c, oidc_error **err) {
    oidc_token_response *t = NULL;
    oidc_result rc = oidc_oauth_exchange_code(c, S("CODE-SECRET-1"), S("https://app/cb"), S("VERIFIER-SECRET-1"), NONE, NONE, &t, err);
    oidc_token_response_free(t);
    return rc;
}
static oidc_result op_refresh(oidc_oauth_client *c, oidc_error **err) {
    oidc_token_response *t = NULL;
    oidc_result rc = oidc_oauth_refresh(c, S("RT-SECRET-1"), NONE, NONE, &t, err);
    oidc_token_response_free(t);
    return rc;
}
static oidc_result op_device(oidc_oauth_client *c, oidc_error **err) {
    oidc_device_authorization *d = NULL;
    oidc_result rc = oidc_oauth_device_authorization(c, S("openid"), &d, err);
    oidc_device_authorization_free(d);
    return rc;
}
static oidc_result op_device_poll(oidc_oauth_client *c, oidc_error **err) {
    /* device authorization from /ok-device, polling at the faulty token endpoint */
    oidc_device_authorization *d = NULL;
    oidc_result rc = oidc_oauth_device_authorization(c, NONE, &d, err);
    if (rc != OIDC_RESULT_OK) return rc;
    oidc_token_response *t = NULL;
    rc = oidc_oauth_device_poll(c, d, 2000, NULL, &t, err);
    oidc_token_response_free(t);
    oidc_device_authorization_free(d);
    return rc;
}
static oidc_result op_ciba(oidc_oauth_client *c, oidc_error **err) {
    oidc_ciba_request *r = NULL;
    oidc_result rc = oidc_oauth_ciba_request(c, S("{\"login_hint\":\"u\"}"), &r, err);
    oidc_ciba_request_free(r);
    return rc;
}
static oidc_result op_ciba_poll(oidc_oauth_client *c, oidc_error **err) {
    oidc_ciba_request *r = NULL;
    oidc_result rc = oidc_oauth_ciba_request(c, S("{\"login_hint\":\"u\"}"), &r, err);
    if (rc != OIDC_RESULT_OK) return rc;
    oidc_token_response *t = NULL;
    rc = oidc_oauth_ciba_poll(c, r, 2000, NULL, &t, err);
    oidc_token_response_free(t);
    oidc_ciba_request_free(r);
    return rc;
}
static oidc_result op_exchange(oidc_oauth_client *c, oidc_error **err) {
    oidc_token_response *t = NULL;
    oidc_result rc = oidc_oauth_token_exchange(c, S("SUBJECT-SECRET-1"), NONE, NONE, &t, err);
    oidc_token_response_free(t);
    return rc;
}
static oidc_result op_bearer(oidc_oauth_client *c, oidc_error **err) {
    oidc_token_response *t = NULL;
    oidc_result rc = oidc_oauth_jwt_bearer(c, S("ASSERTION-SECRET-1"), NONE, NONE, &t, err);
    oidc_token_response_free(t);
    return rc;
}
static oidc_result op_custom(oidc_oauth_client *c, oidc_error **err) {
    oidc_token_response *t = NULL;
    oidc_result rc = oidc_oauth_custom_grant(c, S("urn:x:custom"), S("{\"p\":\"v\"}"), &t, err);
    oidc_token_response_free(t);
    return rc;
}

/* which endpoint an operation's fault is injected at */
enum { AT_TOKEN, AT_DEVICE, AT_CIBA };
static const struct {
    const char *name;
    op_fn fn;
    int at;
} OPS[] = {
    {"client_credentials", op_cc, AT_TOKEN},   {"client_credentials_cached", op_cc_cached, AT_TOKEN},
    {"exchange_code", op_code, AT_TOKEN},      {"refresh", op_refresh, AT_TOKEN},
    {"device_authorization", op_device, AT_DEVICE}, {"device_poll", op_device_poll, AT_TOKEN},
    {"ciba_request", op_ciba, AT_CIBA},        {"ciba_poll", op_ciba_poll, AT_TOKEN},
    {"token_exchange", op_exchange, AT_TOKEN}, {"jwt_bearer", op_bearer, AT_TOKEN},
    {"custom_grant", op_custom, AT_TOKEN},
};
static const struct {
    const char *mode;
    oidc_result want;
} FAULTS[] = {
    {"error", OIDC_RESULT_INVALID_GRANT},         {"malformed", OIDC_RESULT_RESPONSE_INVALID},
    {"big", OIDC_RESULT_RESPONSE_TOO_LARGE},      {"missing", OIDC_RESULT_RESPONSE_MISSING_FIELD},
    {"500", OIDC_RESULT_HTTP_STATUS},             {"hang", OIDC_RESULT_TIMEOUT},
    {"unreachable", OIDC_RESULT_NETWORK},
};

static void test_faults(void) {
    const char *secrets[] = {"mock-client-secret", "CODE-SECRET-1", "VERIFIER-SECRET-1", "RT-SECRET-1",
                             "SUBJECT-SECRET-1", "ASSERTION-SECRET-1"};
    for (size_t o = 0; o < sizeof OPS / sizeof OPS[0]; o++) {
        char name[200];
        snprintf(name, sizeof name, "%s: bad responses give clear codes within the timeout", OPS[o].name);
        TEST_BEGIN(name);
        for (size_t f = 0; f < sizeof FAULTS / sizeof FAULTS[0]; f++) {
            char bad[256], tok[256], dev[256], bc[256];
            if (strcmp(FAULTS[f].mode, "unreachable") == 0)
                snprintf(bad, sizeof bad, "http://127.0.0.1:1/x");
            else
                snprintf(bad, sizeof bad, "%s/%s/x", MOCK, FAULTS[f].mode);
            snprintf(tok, sizeof tok, "%s/ok/token", MOCK);
            snprintf(dev, sizeof dev, "%s/ok-device/x", MOCK);
            snprintf(bc, sizeof bc, "%s/ok-ciba/x", MOCK);
            spec s = {.id = "mock-client", .secret = "mock-client-secret", .total_ms = SLOW ? 4000 : 800, .http_loopback = 1};
            s.endpoints[0] = "token_endpoint";
            s.endpoints[1] = OPS[o].at == AT_TOKEN ? bad : tok;
            s.endpoints[2] = "device_authorization_endpoint";
            s.endpoints[3] = OPS[o].at == AT_DEVICE ? bad : dev;
            s.endpoints[4] = "backchannel_authentication_endpoint";
            s.endpoints[5] = OPS[o].at == AT_CIBA ? bad : bc;
            oidc_oauth_client *c = must(&s);
            oidc_error *err = NULL;
            double t0 = now_s();
            oidc_result rc = OPS[o].fn(c, &err);
            double took = now_s() - t0;
            if (rc != FAULTS[f].want)
                h_diag(__FILE__, __LINE__, "%s/%s: got %s, want %s (%s)", OPS[o].name, FAULTS[f].mode, oidc_result_name(rc),
                     oidc_result_name(FAULTS[f].want), err ? oidc_error_message(err) : "-");
            if (took > (SLOW ? 20.0 : 3.0)) h_diag(__FILE__, __LINE__, "%s/%s took %.1f s", OPS[o].name, FAULTS[f].mode, took);
            if (err) {
                CHECK(oidc_error_code(err) == rc);
                for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
                    if (strstr(oidc_error_message(err), secrets[i]) || strstr(oidc_error_details_json(err), secrets[i]))
                        h_diag(__FILE__, __LINE__, "%s/%s: error text shows a secret", OPS[o].name, FAULTS[f].mode);
            } else {
                h_diag(__FILE__, __LINE__, "%s/%s: no error object", OPS[o].name, FAULTS[f].mode);
            }
            oidc_error_free(err);
            oidc_oauth_client_free(c);
        }
        TEST_END();
    }
}

int main(void) {
    ISSUER = getenv("OIDC_TEST_ISSUER");
    CA = getenv("OIDC_TEST_CA_FILE");
    ADMIN = getenv("OIDC_TEST_ADMIN");
    MOCK = getenv("OIDC_TEST_MOCK");
    KEYS = getenv("OIDC_TEST_KEYS");
    BROWSER = getenv("OIDC_TEST_BROWSER");
    SLOW = getenv("OIDC_TEST_SLOW") != NULL;
    if (!ISSUER || !CA || !ADMIN || !MOCK || !KEYS || !BROWSER) {
        fprintf(stderr, "run through tests/c/run.sh grants (OIDC_TEST_* variables missing)\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    test_client_auth_methods();
    test_auth_code_and_refresh();
    test_device_flow();
    test_ciba();
    test_device_and_ciba_async();
    test_exchange_bearer_custom();
    test_dpop();
    test_cache_single_flight();
    test_cancel();
    test_faults();
    return harness_finish();
}
