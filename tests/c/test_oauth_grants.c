/* The grants through the C ABI's request object (oidc_oauth_request_*, each flow sent with
 * oidc_oauth_send AND oidc_oauth_send_async, same expected results), against the real test IdP
 * (tests/idp/server.mjs) and, for malformed responses, a plain-HTTP mock
 * (tests/c/mock_token_server.py). Started by
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
#include "oauth_send.h"

static size_t slen(const char *s) { return s ? strlen(s) : 0; }
#define S(x) (x), slen(x)
#define NONE NULL, 0

static const char *ISSUER, *CA, *ADMIN, *MOCK, *KEYS, *BROWSER;
/* Under valgrind (OIDC_TEST_SLOW=1) everything is ~20x slower: longer client timeouts for the
 * happy paths and a looser bound on how long a failing call may take. */
static int SLOW;

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

static double slow_factor(void) { return SLOW ? 10.0 : 1.0; }

/* The secrets of an outcome's error text. */
static int shows(const outcome *o, const char *secret) {
    return (o->message && strstr(o->message, secret)) || (o->details && strstr(o->details, secret));
}

typedef struct {
    char code[512], verifier[256], nonce[256];
} login_result;

/* Log in through the IdP for client `c` (its client id is in the URL liboidc builds): the
 * authorization URL (state, nonce and PKCE generated by OIDC_OP_AUTHORIZATION_URL), the
 * scripted login, the callback checked by OIDC_OP_AUTHORIZATION_RESPONSE; both sent with `m`. */
static int login(oidc_oauth_client *c, enum send_mode m, login_result *lr) {
    memset(lr, 0, sizeof *lr);
    oidc_oauth_request *r = req_new(c, OIDC_OP_AUTHORIZATION_URL);
    req_set(r, OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb");
    req_add(r, OIDC_PARAM_SCOPE, "openid");
    req_add(r, OIDC_PARAM_SCOPE, "email");
    outcome u = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    int ok = expect_outcome(&u, OIDC_RESULT_OK, "authorization URL");
    if (!ok) {
        outcome_free(&u);
        return 0;
    }
    const char *url = field_s(&u, OIDC_FIELD_URL);
    char state[256], v[256];
    CHECK(strlen(field_s(&u, OIDC_FIELD_CODE_VERIFIER)) == 43 && strlen(field_s(&u, OIDC_FIELD_CODE_CHALLENGE)) == 43);
    CHECK(query_param(url, "code_challenge_method", v, sizeof v) && strcmp(v, "S256") == 0);
    CHECK(query_param(url, "code_challenge", v, sizeof v) && strcmp(v, field_s(&u, OIDC_FIELD_CODE_CHALLENGE)) == 0);
    CHECK(strstr(url, field_s(&u, OIDC_FIELD_CODE_VERIFIER)) == NULL);
    snprintf(state, sizeof state, "%s", field_s(&u, OIDC_FIELD_STATE));
    snprintf(lr->verifier, sizeof lr->verifier, "%s", field_s(&u, OIDC_FIELD_CODE_VERIFIER));
    snprintf(lr->nonce, sizeof lr->nonce, "%s", field_s(&u, OIDC_FIELD_NONCE));
    CHECK(state[0] && lr->nonce[0]);
    char cb[4096];
    ok = browser(cb, sizeof cb, "login '%s'", url) == 0;
    outcome_free(&u);
    CHECKF(ok, "scripted login failed");
    if (!ok) return 0;
    r = req_new(c, OIDC_OP_AUTHORIZATION_RESPONSE);
    req_set(r, OIDC_PARAM_RESPONSE, cb);
    req_set(r, OIDC_PARAM_EXPECTED_STATE, state);
    outcome a = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    ok = expect_outcome(&a, OIDC_RESULT_OK, "authorization response");
    if (ok) {
        CHECK(strcmp(field_s(&a, OIDC_FIELD_STATE), state) == 0);
        CHECK(strcmp(field_s(&a, OIDC_FIELD_ISS), ISSUER) == 0);
        snprintf(lr->code, sizeof lr->code, "%s", field_s(&a, OIDC_FIELD_CODE));
        ok = lr->code[0] != 0;
    }
    outcome_free(&a);
    return ok;
}

/* A code exchange (web-app's redirect URI). */
static outcome exchange(oidc_oauth_client *c, const login_result *lr, int with_nonce, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_AUTHORIZATION_CODE);
    req_set(r, OIDC_PARAM_CODE, lr->code);
    req_set(r, OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb");
    req_set(r, OIDC_PARAM_CODE_VERIFIER, lr->verifier);
    if (with_nonce) req_set(r, OIDC_PARAM_NONCE, lr->nonce);
    outcome o = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    return o;
}

/* Client credentials with optional scope and resource. */
static outcome client_credentials(oidc_oauth_client *c, const char *scope, const char *resource, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_CLIENT_CREDENTIALS);
    if (scope) req_add(r, OIDC_PARAM_SCOPE, scope);
    if (resource) req_add(r, OIDC_PARAM_RESOURCE, resource);
    outcome o = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    return o;
}

/* A send that runs on another thread, so this one can cancel it while it waits. */
typedef struct {
    const oidc_oauth_request *r;
    const oidc_cancel *cancel;
    enum send_mode m;
    outcome o;
    int done;
} bg_send;

static void *bg_send_main(void *p) {
    bg_send *b = p;
    b->o = send_mode(b->r, b->cancel, b->m);
    __atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Send `r` on a thread, wait `ms`, check it is still waiting, trigger a fresh cancel handle:
 * CANCELLED within 2 s of the trigger. */
static void cancel_while_polling(const oidc_oauth_request *r, enum send_mode m, long ms, const char *what) {
    oidc_cancel *cancel = NULL;
    CHECK_RC(oidc_cancel_new(0, &cancel, NULL), OIDC_RESULT_OK);
    bg_send b = {r, cancel, m, {0}, 0};
    pthread_t th;
    pthread_create(&th, NULL, bg_send_main, &b);
    sleep_ms(ms);
    CHECKF(!__atomic_load_n(&b.done, __ATOMIC_ACQUIRE), "%s [%s]: the poll ended before the cancel", what, MODE_NAME[m]);
    double t0 = mono_s();
    oidc_cancel_trigger(cancel);
    CHECK(oidc_cancel_is_cancelled(cancel) == 1);
    pthread_join(th, NULL);
    double took = mono_s() - t0;
    expect_outcome(&b.o, OIDC_RESULT_CANCELLED, what);
    CHECKF(took < 2.0 * slow_factor(), "%s [%s]: CANCELLED %.2f s after the trigger", what, MODE_NAME[m], took);
    outcome_free(&b.o);
    oidc_cancel_free(cancel);
}

/* ---- tests against the IdP ------------------------------------------------------------------ */

static void test_client_auth_methods(enum send_mode m) {
    TEST_BEGIN("client auth: private_key_jwt (PEM RSA/EC/Ed25519, JWK), client_secret_jwt, auto [%s]", MODE_NAME[m]);
    const char *pems[] = {"rsa.pem", "ec-sec1.pem", "ed25519.pem"};
    const char *kids[] = {"client-rsa", "client-ec", "client-ed25519"};
    for (int i = 0; i < 3; i++) {
        char *pem = read_file(KEYS, pems[i]);
        spec s = {.id = "svc-pkjwt", .key_pem = pem, .kid = kids[i]};
        oidc_oauth_client *c = must(&s);
        outcome o = client_credentials(c, "read", "urn:liboidc:es256", m);
        expect_outcome(&o, OIDC_RESULT_OK, pems[i]);
        CHECK(strcmp(field_s(&o, OIDC_FIELD_TOKEN_TYPE), "Bearer") == 0);
        outcome_free(&o);
        oidc_oauth_client_free(c);
        free(pem);
    }
    char *jwk = read_file(KEYS, "ec.jwk.json");
    spec sj = {.id = "svc-pkjwt", .key_jwk = jwk, .method = "auto"};
    oidc_oauth_client *c = must(&sj);
    outcome o = client_credentials(c, NULL, NULL, m);
    expect_outcome(&o, OIDC_RESULT_OK, "JWK, auto");
    outcome_free(&o);
    oidc_oauth_client_free(c);
    free(jwk);
    spec ss = {.id = "svc-secret-jwt", .secret = "svc-secret-jwt-secret-0123456789abcdef0123456789", .method = "client_secret_jwt"};
    c = must(&ss);
    o = client_credentials(c, NULL, NULL, m);
    expect_outcome(&o, OIDC_RESULT_OK, "client_secret_jwt");
    outcome_free(&o);
    oidc_oauth_client_free(c);
    /* wrong secret: INVALID_CLIENT, secret not echoed */
    spec bad = {.id = "svc-secret-jwt", .secret = "wrong-secret-wrong-secret-wrong-secret-xx", .method = "client_secret_jwt"};
    c = must(&bad);
    o = client_credentials(c, NULL, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_CLIENT, "wrong secret");
    CHECK(!shows(&o, "wrong-secret"));
    /* the IdP's own OAuth error, as an accessor of the error object */
    CHECKF(o.server_error && strcmp(o.server_error, "invalid_client") == 0, "server error %s", o.server_error ? o.server_error : "(none)");
    outcome_free(&o);
    oidc_oauth_client_free(c);
    if (m == BLOCKING) {
        /* builder rejects bad keys and mismatched settings (no send) */
        oidc_oauth_builder *b = NULL;
        oidc_error *err = NULL;
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
    }
    TEST_END();
}

static void test_auth_code_and_refresh(enum send_mode m) {
    TEST_BEGIN("authorization code + PKCE (scripted login), ID token validated, refresh rotates [%s]", MODE_NAME[m]);
    spec s = {.id = "web-app", .secret = "web-app-secret"};
    oidc_oauth_client *c = must(&s);
    login_result lr;
    if (login(c, m, &lr)) {
        outcome t = exchange(c, &lr, 1, m);
        if (expect_outcome(&t, OIDC_RESULT_OK, "code exchange")) {
            CHECK(field_s(&t, OIDC_FIELD_ID_TOKEN)[0] != 0);
            CHECK(field_s(&t, OIDC_FIELD_REFRESH_TOKEN)[0] != 0);
            CHECK(oidc_oauth_response_operation(t.resp) == OIDC_OP_AUTHORIZATION_CODE);
            /* the code is single-use */
            outcome t2 = exchange(c, &lr, 0, m);
            expect_outcome(&t2, OIDC_RESULT_INVALID_GRANT, "code replayed");
            CHECK(!shows(&t2, lr.code));
            outcome_free(&t2);
        }
        outcome_free(&t);
    }
    /* fresh login for refresh (reusing the code above revoked its grant) */
    if (login(c, m, &lr)) {
        outcome t = exchange(c, &lr, 0, m);
        if (expect_outcome(&t, OIDC_RESULT_OK, "code exchange (no nonce)")) {
            char *rt = dup_or_null(field_s(&t, OIDC_FIELD_REFRESH_TOKEN));
            oidc_oauth_request *r = req_new(c, OIDC_OP_REFRESH);
            req_set(r, OIDC_PARAM_REFRESH_TOKEN, rt);
            req_add(r, OIDC_PARAM_SCOPE, "openid");
            outcome n = send_mode(r, NULL, m);
            expect_outcome(&n, OIDC_RESULT_OK, "refresh");
            CHECK(field_s(&n, OIDC_FIELD_REFRESH_TOKEN)[0] && strcmp(field_s(&n, OIDC_FIELD_REFRESH_TOKEN), rt) != 0);
            outcome_free(&n);
            oidc_oauth_request_free(r);
            r = req_new(c, OIDC_OP_REFRESH);
            req_set(r, OIDC_PARAM_REFRESH_TOKEN, rt);
            n = send_mode(r, NULL, m);
            expect_outcome(&n, OIDC_RESULT_INVALID_GRANT, "rotated refresh token reused");
            CHECK(!shows(&n, rt));
            outcome_free(&n);
            oidc_oauth_request_free(r);
            free(rt);
        }
        outcome_free(&t);
    }
    /* bad input: a missing required parameter is refused at send (both paths), a bad one at the setter */
    oidc_oauth_request *r = req_new(c, OIDC_OP_AUTHORIZATION_CODE);
    req_set(r, OIDC_PARAM_REDIRECT_URI, "y");
    outcome o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_ARGUMENT, "code exchange without CODE");
    CHECK(o.message && strstr(o.message, "OIDC_PARAM_CODE"));
    outcome_free(&o);
    {
        oidc_error *err = NULL;
        CHECK_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_CODE, "\xc3", 1, &err), err, OIDC_RESULT_INVALID_UTF8, NULL,
                      "CODE bad UTF-8");
    }
    oidc_oauth_request_free(r);
    r = req_new(c, OIDC_OP_REFRESH);
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_ARGUMENT, "refresh without REFRESH_TOKEN");
    outcome_free(&o);
    req_set(r, OIDC_PARAM_REFRESH_TOKEN, "not-a-refresh-token");
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_GRANT, "refresh with a bogus token");
    outcome_free(&o);
    CHECK_RC(oidc_oauth_send(r, NULL, NULL, NULL), OIDC_RESULT_NULL_PARAMETER);
    oidc_oauth_request_free(r);
    oidc_oauth_client_free(c);
    TEST_END();
}

static void test_device_flow(enum send_mode m) {
    TEST_BEGIN("device flow: authorization, pending within a deadline, cancelled from another thread, approval, poll [%s]",
               MODE_NAME[m]);
    spec s = {.id = "device-app"};
    oidc_oauth_client *c = must(&s);
    oidc_oauth_request *r = req_new(c, OIDC_OP_DEVICE_AUTHORIZATION);
    req_add(r, OIDC_PARAM_SCOPE, "openid");
    outcome da = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    if (expect_outcome(&da, OIDC_RESULT_OK, "device authorization")) {
        CHECK(field_i(&da, OIDC_FIELD_INTERVAL) == 5);
        CHECK(field_i(&da, OIDC_FIELD_EXPIRES_IN) > 0);
        CHECK(strncmp(field_s(&da, OIDC_FIELD_VERIFICATION_URI), ISSUER, strlen(ISSUER)) == 0);
        CHECK(strstr(field_s(&da, OIDC_FIELD_VERIFICATION_URI_COMPLETE), "user_code="));
        CHECK(field_s(&da, OIDC_FIELD_DEVICE_CODE)[0] != 0);
        char user_code[128];
        snprintf(user_code, sizeof user_code, "%s", field_s(&da, OIDC_FIELD_USER_CODE));
        oidc_oauth_request *poll = req_new(c, OIDC_OP_DEVICE_POLL);
        req_pending(poll, da.resp);
        outcome_free(&da); /* the poll copied code, interval and expiry */
        /* pending: the request's own deadline ends the poll */
        req_int(poll, OIDC_PARAM_DEADLINE_MS, 200);
        outcome o = send_mode(poll, NULL, m);
        expect_outcome(&o, OIDC_RESULT_DEADLINE_EXCEEDED, "poll with DEADLINE_MS 200");
        CHECKF(o.secs < 2.0 * slow_factor(), "DEADLINE_EXCEEDED after %.2f s", o.secs);
        outcome_free(&o);
        /* cancelled from another thread while it waits between polls */
        req_int(poll, OIDC_PARAM_DEADLINE_MS, 60000);
        cancel_while_polling(poll, m, 500, "device poll cancelled while waiting");
        /* approved: tokens with a validated ID token */
        CHECK(browser(NULL, 0, "device '%s'", user_code) == 0);
        req_int(poll, OIDC_PARAM_DEADLINE_MS, 30000);
        o = send_mode(poll, NULL, m);
        expect_outcome(&o, OIDC_RESULT_OK, "poll after approval");
        CHECK(field_s(&o, OIDC_FIELD_ACCESS_TOKEN)[0] && field_s(&o, OIDC_FIELD_ID_TOKEN)[0]);
        CHECK(oidc_oauth_response_operation(o.resp) == OIDC_OP_DEVICE_POLL);
        /* a token response is no start of a flow */
        oidc_oauth_request *p2 = req_new(c, OIDC_OP_DEVICE_POLL);
        if (o.resp) {
            oidc_error *err = NULL;
            CHECK_REFUSED(oidc_oauth_request_set_pending(p2, o.resp, &err), err, OIDC_RESULT_INVALID_ARGUMENT, NULL,
                          "set_pending with a token response");
        }
        oidc_oauth_request_free(p2);
        outcome_free(&o);
        oidc_oauth_request_free(poll);
    } else {
        outcome_free(&da);
    }
    /* misuse: set_pending without a start response; a poll with neither pending nor DEVICE_CODE */
    r = req_new(c, OIDC_OP_DEVICE_POLL);
    CHECK_RC(oidc_oauth_request_set_pending(r, NULL, NULL), OIDC_RESULT_NULL_PARAMETER);
    CHECK_RC(oidc_oauth_request_set_pending(NULL, NULL, NULL), OIDC_RESULT_NULL_PARAMETER);
    outcome o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_ARGUMENT, "poll without a pending flow");
    outcome_free(&o);
    oidc_oauth_request_free(r);
    oidc_oauth_client_free(c);
    TEST_END();
}

static void test_ciba(enum send_mode m) {
    TEST_BEGIN("CIBA poll mode: request, pending, approval via the IdP admin endpoint, poll; denial [%s]", MODE_NAME[m]);
    char *pem = read_file(KEYS, "rsa.pem");
    spec s = {.id = "svc-pkjwt", .key_pem = pem, .kid = "client-rsa"};
    oidc_oauth_client *c = must(&s);
    for (int deny = 0; deny < 2; deny++) {
        oidc_oauth_request *r = req_new(c, OIDC_OP_CIBA_REQUEST);
        req_add(r, OIDC_PARAM_SCOPE, "openid");
        req_set(r, OIDC_PARAM_LOGIN_HINT, deny ? "user-2" : "user-1");
        outcome st = send_mode(r, NULL, m);
        oidc_oauth_request_free(r);
        if (!expect_outcome(&st, OIDC_RESULT_OK, "CIBA request")) {
            outcome_free(&st);
            continue;
        }
        CHECK(field_i(&st, OIDC_FIELD_EXPIRES_IN) > 0 && field_i(&st, OIDC_FIELD_INTERVAL) == 5);
        char id[512];
        snprintf(id, sizeof id, "%s", field_s(&st, OIDC_FIELD_AUTH_REQ_ID));
        CHECK(id[0] != 0);
        oidc_oauth_request *poll = req_new(c, OIDC_OP_CIBA_POLL);
        req_pending(poll, st.resp);
        outcome_free(&st);
        outcome o;
        if (!deny) {
            req_int(poll, OIDC_PARAM_DEADLINE_MS, 100);
            o = send_mode(poll, NULL, m);
            expect_outcome(&o, OIDC_RESULT_DEADLINE_EXCEEDED, "CIBA poll with DEADLINE_MS 100");
            outcome_free(&o);
        }
        CHECK(browser(NULL, 0, deny ? "ciba '%s' deny" : "ciba '%s'", id) == 0);
        req_int(poll, OIDC_PARAM_DEADLINE_MS, 30000);
        o = send_mode(poll, NULL, m);
        if (deny) {
            expect_outcome(&o, OIDC_RESULT_ACCESS_DENIED, "CIBA poll after denial");
        } else {
            expect_outcome(&o, OIDC_RESULT_OK, "CIBA poll after approval");
            CHECK(field_s(&o, OIDC_FIELD_ID_TOKEN)[0] != 0);
        }
        outcome_free(&o);
        oidc_oauth_request_free(poll);
    }
    /* without a login hint the server refuses */
    oidc_oauth_request *r = req_new(c, OIDC_OP_CIBA_REQUEST);
    req_add(r, OIDC_PARAM_SCOPE, "openid");
    outcome o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_REQUEST, "CIBA request without a hint");
    outcome_free(&o);
    /* a parameter of another operation */
    oidc_error *err = NULL;
    CHECK_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_CODE, S("x"), &err), err, OIDC_RESULT_INVALID_ARGUMENT,
                  "OIDC_PARAM_CODE", "CODE on a CIBA request");
    oidc_oauth_request_free(r);
    oidc_oauth_client_free(c);
    free(pem);
    TEST_END();
}

static void test_exchange_bearer_custom(enum send_mode m) {
    TEST_BEGIN("token exchange, JWT bearer (library-signed assertion), custom grant with extra params [%s]", MODE_NAME[m]);
    spec sb = {.id = "svc-basic", .secret = "svc-basic-secret"};
    oidc_oauth_client *svc = must(&sb);
    char *pem = read_file(KEYS, "ec.pem");
    spec sp = {.id = "svc-pkjwt", .key_pem = pem, .kid = "client-ec"};
    oidc_oauth_client *pk = must(&sp);
    oidc_error *err = NULL;
    outcome subj = client_credentials(svc, NULL, NULL, m);
    expect_outcome(&subj, OIDC_RESULT_OK, "subject token");
    oidc_oauth_request *r = req_new(pk, OIDC_OP_TOKEN_EXCHANGE);
    if (subj.resp) {
        req_set(r, OIDC_PARAM_SUBJECT_TOKEN, field_s(&subj, OIDC_FIELD_ACCESS_TOKEN));
        req_add(r, OIDC_PARAM_AUDIENCE, "urn:x:downstream");
        outcome t = send_mode(r, NULL, m);
        expect_outcome(&t, OIDC_RESULT_OK, "token exchange");
        CHECK(strcmp(field_s(&t, OIDC_FIELD_ISSUED_TOKEN_TYPE), "urn:ietf:params:oauth:token-type:access_token") == 0);
        outcome_free(&t);
    }
    oidc_oauth_request_free(r);
    outcome_free(&subj);
    r = req_new(pk, OIDC_OP_TOKEN_EXCHANGE);
    outcome o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_ARGUMENT, "token exchange without SUBJECT_TOKEN");
    outcome_free(&o);
    CHECK_REFUSED(oidc_oauth_request_add_param(r, S("subject_token"), S("x"), &err), err, OIDC_RESULT_INVALID_ARGUMENT,
                  "OIDC_PARAM_SUBJECT_TOKEN", "add_param(subject_token)");
    err = NULL;
    req_set(r, OIDC_PARAM_SUBJECT_TOKEN, "bogus");
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_GRANT, "token exchange of a bogus token");
    outcome_free(&o);
    oidc_oauth_request_free(r);

    r = req_new(pk, OIDC_OP_JWT_BEARER);
    req_set(r, OIDC_PARAM_SUBJECT, "user-1");
    req_add(r, OIDC_PARAM_SCOPE, "read");
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_OK, "JWT bearer (liboidc-signed assertion)");
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(pk, OIDC_OP_JWT_BEARER);
    req_set(r, OIDC_PARAM_ASSERTION, "a.b.c");
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_GRANT, "JWT bearer with a bogus assertion");
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(pk, OIDC_OP_JWT_BEARER);
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_ARGUMENT, "JWT bearer with neither ASSERTION nor SUBJECT");
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(svc, OIDC_OP_JWT_BEARER);
    req_set(r, OIDC_PARAM_SUBJECT, "user-1");
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_CONFIG, "JWT bearer SUBJECT without a client key");
    outcome_free(&o);
    oidc_oauth_request_free(r);

    r = req_new(pk, OIDC_OP_CUSTOM_GRANT);
    req_set(r, OIDC_PARAM_GRANT_TYPE, "urn:liboidc:grant-type:echo");
    req_param(r, "color", "blue");
    req_param(r, "size", "XL");
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_OK, "custom grant with extra params");
    CHECK(strstr(resp_json(&o), "\"color\":\"blue\"") && strstr(resp_json(&o), "\"XL\""));
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(pk, OIDC_OP_CUSTOM_GRANT);
    req_set(r, OIDC_PARAM_GRANT_TYPE, "urn:liboidc:grant-type:echo");
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_REQUEST, "custom grant without its params");
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(pk, OIDC_OP_CUSTOM_GRANT);
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_ARGUMENT, "custom grant without GRANT_TYPE");
    outcome_free(&o);
    err = NULL;
    CHECK_REFUSED(oidc_oauth_request_add_param(r, S("grant_type"), S("y"), &err), err, OIDC_RESULT_INVALID_ARGUMENT, "grant_type",
                  "add_param(grant_type)");
    oidc_oauth_request_free(r);
    oidc_oauth_client_free(svc);
    oidc_oauth_client_free(pk);
    free(pem);
    TEST_END();
}

static void test_dpop(enum send_mode m) {
    TEST_BEGIN("DPoP: bound client-credentials token (nonce retry), code flow, resource and userinfo with the DPoP scheme [%s]",
               MODE_NAME[m]);
    spec s = {.id = "svc-basic", .secret = "svc-basic-secret", .dpop = 1};
    oidc_oauth_client *c = must(&s);
    outcome o = client_credentials(c, "read", "urn:liboidc:es256", m);
    expect_outcome(&o, OIDC_RESULT_OK, "DPoP client credentials");
    CHECK(strcmp(field_s(&o, OIDC_FIELD_TOKEN_TYPE), "DPoP") == 0);
    outcome_free(&o);
    if (m == BLOCKING) { /* the local helpers for requests the host sends itself */
        char *jkt = NULL, *proof = NULL;
        size_t jkt_len = 0;
        CHECK_RC_ERR(oidc_oauth_dpop_jkt(c, &jkt, &jkt_len, NULL), OIDC_RESULT_OK, NULL);
        CHECK(jkt && jkt_len == 43);
        oidc_string_free(jkt);
        CHECK_RC_ERR(oidc_oauth_dpop_proof(c, S("GET"), S("https://rs.example/api?x=1"), S("at"), &proof, NULL, NULL), OIDC_RESULT_OK,
                     NULL);
        CHECK(proof && strchr(proof, '.'));
        oidc_string_free(proof);
        CHECK_RC_ERR(oidc_oauth_dpop_proof(c, NONE, S("https://rs.example/"), NONE, &proof, NULL, NULL), OIDC_RESULT_INVALID_ARGUMENT,
                     NULL);
        CHECK_RC_ERR(oidc_oauth_dpop_set_nonce(c, S("https://rs.example/"), S("n-1"), NULL), OIDC_RESULT_OK, NULL);
    }
    oidc_oauth_client_free(c);

    spec w = {.id = "web-app", .secret = "web-app-secret", .dpop = 1};
    c = must(&w);
    login_result lr;
    if (login(c, m, &lr)) {
        outcome t = exchange(c, &lr, 1, m);
        if (expect_outcome(&t, OIDC_RESULT_OK, "DPoP code exchange")) {
            CHECK(strcmp(field_s(&t, OIDC_FIELD_TOKEN_TYPE), "DPoP") == 0);
            char me[512];
            snprintf(me, sizeof me, "%s/me", ISSUER);
            oidc_oauth_request *r = req_new(c, OIDC_OP_RESOURCE);
            req_set(r, OIDC_PARAM_URL, me);
            req_set(r, OIDC_PARAM_ACCESS_TOKEN, field_s(&t, OIDC_FIELD_ACCESS_TOKEN));
            o = send_mode(r, NULL, m); /* TOKEN_TYPE defaults to DPoP: the client has a DPoP key */
            expect_outcome(&o, OIDC_RESULT_OK, "resource with the DPoP token");
            CHECKF(field_i(&o, OIDC_FIELD_HTTP_STATUS) == 200, "status %lld", (long long)field_i(&o, OIDC_FIELD_HTTP_STATUS));
            CHECK(strstr(resp_json(&o), "\"sub\":\"user-1\""));
            outcome_free(&o);
            req_set(r, OIDC_PARAM_TOKEN_TYPE, "Bearer");
            o = send_mode(r, NULL, m);
            expect_outcome(&o, OIDC_RESULT_OK, "resource with the DPoP token sent as Bearer");
            CHECKF(field_i(&o, OIDC_FIELD_HTTP_STATUS) == 401, "status %lld", (long long)field_i(&o, OIDC_FIELD_HTTP_STATUS));
            outcome_free(&o);
            oidc_error *err = NULL;
            CHECK_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_METHOD, S("BREW"), &err), err, OIDC_RESULT_INVALID_ARGUMENT, NULL,
                          "METHOD BREW");
            oidc_oauth_request_free(r);
            /* UserInfo with a DPoP-bound token uses the DPoP scheme (RFC 9449 §7.1) */
            r = req_new(c, OIDC_OP_USERINFO);
            req_set(r, OIDC_PARAM_ACCESS_TOKEN, field_s(&t, OIDC_FIELD_ACCESS_TOKEN));
            req_set(r, OIDC_PARAM_EXPECTED_SUB, "user-1");
            o = send_mode(r, NULL, m);
            expect_outcome(&o, OIDC_RESULT_OK, "userinfo with the DPoP token");
            CHECK(strstr(resp_json(&o), "user-1@liboidc.test"));
            outcome_free(&o);
            oidc_oauth_request_free(r);
        }
        outcome_free(&t);
    }
    oidc_oauth_client_free(c);
    if (m == BLOCKING) {
        /* a client without DPoP */
        spec plain = {.id = "svc-basic", .secret = "svc-basic-secret"};
        c = must(&plain);
        char *jkt = NULL, *proof = NULL;
        CHECK_RC_ERR(oidc_oauth_dpop_jkt(c, &jkt, NULL, NULL), OIDC_RESULT_INVALID_CONFIG, NULL);
        CHECK_RC_ERR(oidc_oauth_dpop_proof(c, S("GET"), S("https://x/"), NONE, &proof, NULL, NULL), OIDC_RESULT_INVALID_CONFIG, NULL);
        oidc_oauth_client_free(c);
        oidc_oauth_builder *b = NULL;
        CHECK_RC_ERR(oidc_oauth_builder_new(&b, NULL), OIDC_RESULT_OK, NULL);
        CHECK_RC_ERR(oidc_oauth_builder_set_dpop_key(b, S("garbage"), NULL), OIDC_RESULT_INVALID_CONFIG, NULL);
        oidc_oauth_builder_free(b);
    }
    TEST_END();
}

typedef struct {
    const oidc_oauth_request *r;
    enum send_mode m;
    char token[4096];
    oidc_result rc;
} cache_arg;

static void *cache_thread(void *p) {
    cache_arg *a = p;
    outcome o = send_mode(a->r, NULL, a->m);
    a->rc = o.rc;
    snprintf(a->token, sizeof a->token, "%s", field_s(&o, OIDC_FIELD_ACCESS_TOKEN));
    outcome_free(&o);
    return NULL;
}

static void test_cache_single_flight(enum send_mode m) {
    TEST_BEGIN("client-credentials cache (USE_CACHE): 8 threads, one token request at the IdP [%s]", MODE_NAME[m]);
    spec s = {.id = "svc-basic", .secret = "svc-basic-secret"};
    oidc_oauth_client *c = must(&s);
    oidc_oauth_request *e = req_new(c, OIDC_OP_ENDPOINT); /* warm discovery */
    req_set(e, OIDC_PARAM_ENDPOINT_NAME, "token_endpoint");
    outcome o = send_mode(e, NULL, m);
    expect_outcome(&o, OIDC_RESULT_OK, "token endpoint");
    outcome_free(&o);
    oidc_oauth_request_free(e);
    oidc_oauth_request *r = req_new(c, OIDC_OP_CLIENT_CREDENTIALS);
    req_add(r, OIDC_PARAM_SCOPE, "read");
    req_add(r, OIDC_PARAM_RESOURCE, "urn:liboidc:rs256");
    req_int(r, OIDC_PARAM_USE_CACHE, 1);
    long before = idp_token_hits();
    pthread_t th[8];
    cache_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i].r = r; /* one request, sent from 8 threads at once */
        args[i].m = m;
        args[i].token[0] = 0;
        pthread_create(&th[i], NULL, cache_thread, &args[i]);
    }
    for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 8; i++) {
        CHECK_RC(args[i].rc, OIDC_RESULT_OK);
        CHECK(args[i].token[0] && strcmp(args[i].token, args[0].token) == 0);
    }
    long after = idp_token_hits();
    CHECKF(after - before == 1, "token requests at the IdP: %ld, want 1", after - before);
    oidc_oauth_request_free(r);
    oidc_oauth_client_free(c);
    TEST_END();
}

/* ---- cancel and deadline: the same on both paths (the mock: a device flow that stays pending) ---- */

static oidc_oauth_client *mock_client(const char *token_mode, uint32_t total_ms) {
    static char tok[256], dev[256]; /* copied by the builder */
    snprintf(tok, sizeof tok, "%s/%s/token", MOCK, token_mode);
    snprintf(dev, sizeof dev, "%s/ok-device/x", MOCK);
    spec s = {.id = "mock-client", .http_loopback = 1, .total_ms = total_ms,
              .endpoints = {"token_endpoint", tok, "device_authorization_endpoint", dev}};
    return must(&s);
}

static void test_cancel(enum send_mode m) {
    TEST_BEGIN("cancel and deadline: a pending device poll cancelled from another thread, a cancelled handle, its deadline, "
               "DEADLINE_MS, a hanging request [%s]",
               MODE_NAME[m]);
    oidc_oauth_client *c = mock_client("pending", 0);
    oidc_oauth_request *r = req_new(c, OIDC_OP_DEVICE_AUTHORIZATION);
    outcome da = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    expect_outcome(&da, OIDC_RESULT_OK, "mock device authorization");
    CHECK(field_i(&da, OIDC_FIELD_INTERVAL) == 1);
    oidc_oauth_request *poll = req_new(c, OIDC_OP_DEVICE_POLL);
    if (da.resp) req_pending(poll, da.resp);
    outcome_free(&da);
    /* waiting between polls: cancelled from another thread at once */
    cancel_while_polling(poll, m, 300, "pending device poll");
    /* a handle cancelled before the send: CANCELLED, nothing sent */
    oidc_cancel *cancel = NULL;
    CHECK_RC(oidc_cancel_new(0, &cancel, NULL), OIDC_RESULT_OK);
    oidc_cancel_trigger(cancel);
    oidc_cancel_trigger(cancel); /* idempotent */
    outcome o = send_mode(poll, cancel, m);
    expect_outcome(&o, OIDC_RESULT_CANCELLED, "poll under a cancelled handle");
    outcome_free(&o);
    oidc_cancel_free(cancel);
    /* the handle's deadline */
    CHECK_RC(oidc_cancel_new(300, &cancel, NULL), OIDC_RESULT_OK);
    o = send_mode(poll, cancel, m);
    expect_outcome(&o, OIDC_RESULT_DEADLINE_EXCEEDED, "poll under a handle with a 300 ms deadline");
    CHECKF(o.secs < 2.0 * slow_factor(), "DEADLINE_EXCEEDED after %.2f s", o.secs);
    CHECK(oidc_cancel_is_cancelled(cancel) == 0);
    outcome_free(&o);
    oidc_cancel_free(cancel);
    /* the request's own deadline */
    req_int(poll, OIDC_PARAM_DEADLINE_MS, 300);
    o = send_mode(poll, NULL, m);
    expect_outcome(&o, OIDC_RESULT_DEADLINE_EXCEEDED, "poll with DEADLINE_MS 300");
    CHECKF(o.secs < 2.0 * slow_factor(), "DEADLINE_EXCEEDED after %.2f s", o.secs);
    outcome_free(&o);
    oidc_oauth_request_free(poll);
    oidc_oauth_client_free(c);
    oidc_cancel_trigger(NULL);
    oidc_cancel_free(NULL);
    CHECK(oidc_cancel_is_cancelled(NULL) == 0);
    CHECK_RC(oidc_cancel_new(0, NULL, NULL), OIDC_RESULT_NULL_PARAMETER);
    TEST_END();

    /* A request in flight is bounded by the deadline, not only by the client's timeouts
     * (handoff spec ABI02.md, "Cancel": "a request in flight is bounded by the client's HTTP
     * timeouts and by the deadline"; the same on both paths). */
    TEST_BEGIN("a hanging token request ends at DEADLINE_MS (500 ms), not at the client's 6 s timeout [%s]", MODE_NAME[m]);
    c = mock_client("hang", 6000);
    r = req_new(c, OIDC_OP_CLIENT_CREDENTIALS);
    req_int(r, OIDC_PARAM_DEADLINE_MS, 500);
    o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_DEADLINE_EXCEEDED, "a hanging token request with DEADLINE_MS 500");
    CHECKF(o.secs < 3.0 * slow_factor(), "DEADLINE_EXCEEDED after %.2f s", o.secs);
    outcome_free(&o);
    oidc_oauth_request_free(r);
    oidc_oauth_client_free(c);
    TEST_END(); /* the blocking path took the client's timeout until main's 204f4ba (found here and by the C# tests) */
}

/* ---- bad responses per operation (mock server) ------------------------------------------------ */

typedef outcome (*op_fn)(oidc_oauth_client *c, enum send_mode m);

static outcome send_free(oidc_oauth_request *r, enum send_mode m) {
    outcome o = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    return o;
}
static outcome op_cc(oidc_oauth_client *c, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_CLIENT_CREDENTIALS);
    req_add(r, OIDC_PARAM_SCOPE, "read");
    return send_free(r, m);
}
static outcome op_cc_cached(oidc_oauth_client *c, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_CLIENT_CREDENTIALS);
    req_add(r, OIDC_PARAM_SCOPE, "read");
    req_int(r, OIDC_PARAM_USE_CACHE, 1);
    return send_free(r, m);
}
static outcome op_code(oidc_oauth_client *c, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_AUTHORIZATION_CODE);
    req_set(r, OIDC_PARAM_CODE, "CODE-SECRET-1");
    req_set(r, OIDC_PARAM_REDIRECT_URI, "https://app/cb");
    req_set(r, OIDC_PARAM_CODE_VERIFIER, "VERIFIER-SECRET-1");
    return send_free(r, m);
}
static outcome op_refresh(oidc_oauth_client *c, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_REFRESH);
    req_set(r, OIDC_PARAM_REFRESH_TOKEN, "RT-SECRET-1");
    return send_free(r, m);
}
static outcome op_device(oidc_oauth_client *c, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_DEVICE_AUTHORIZATION);
    req_add(r, OIDC_PARAM_SCOPE, "openid");
    return send_free(r, m);
}
/* a start at the good endpoint, then the poll at the faulty token endpoint */
static outcome op_poll(oidc_oauth_client *c, enum send_mode m, oidc_operation start, oidc_operation poll_op) {
    oidc_oauth_request *r = req_new(c, start);
    if (start == OIDC_OP_CIBA_REQUEST) req_set(r, OIDC_PARAM_LOGIN_HINT, "u");
    outcome st = send_free(r, m);
    if (st.rc != OIDC_RESULT_OK) return st;
    r = req_new(c, poll_op);
    req_pending(r, st.resp);
    outcome_free(&st);
    req_int(r, OIDC_PARAM_DEADLINE_MS, SLOW ? 20000 : 2000);
    return send_free(r, m);
}
static outcome op_device_poll(oidc_oauth_client *c, enum send_mode m) {
    return op_poll(c, m, OIDC_OP_DEVICE_AUTHORIZATION, OIDC_OP_DEVICE_POLL);
}
static outcome op_ciba(oidc_oauth_client *c, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_CIBA_REQUEST);
    req_set(r, OIDC_PARAM_LOGIN_HINT, "u");
    return send_free(r, m);
}
static outcome op_ciba_poll(oidc_oauth_client *c, enum send_mode m) { return op_poll(c, m, OIDC_OP_CIBA_REQUEST, OIDC_OP_CIBA_POLL); }
static outcome op_exchange(oidc_oauth_client *c, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_TOKEN_EXCHANGE);
    req_set(r, OIDC_PARAM_SUBJECT_TOKEN, "SUBJECT-SECRET-1");
    return send_free(r, m);
}
static outcome op_bearer(oidc_oauth_client *c, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_JWT_BEARER);
    req_set(r, OIDC_PARAM_ASSERTION, "ASSERTION-SECRET-1");
    return send_free(r, m);
}
static outcome op_custom(oidc_oauth_client *c, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_CUSTOM_GRANT);
    req_set(r, OIDC_PARAM_GRANT_TYPE, "urn:x:custom");
    req_param(r, "p", "v");
    return send_free(r, m);
}

/* which endpoint an operation's fault is injected at */
enum { AT_TOKEN, AT_DEVICE, AT_CIBA };
static const struct {
    const char *name;
    op_fn fn;
    int at;
} OPS[] = {
    {"client_credentials", op_cc, AT_TOKEN},   {"client_credentials (cache)", op_cc_cached, AT_TOKEN},
    {"authorization_code", op_code, AT_TOKEN}, {"refresh", op_refresh, AT_TOKEN},
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

static void test_faults(enum send_mode m) {
    const char *secrets[] = {"mock-client-secret", "CODE-SECRET-1", "VERIFIER-SECRET-1", "RT-SECRET-1",
                             "SUBJECT-SECRET-1", "ASSERTION-SECRET-1"};
    for (size_t o = 0; o < sizeof OPS / sizeof OPS[0]; o++) {
        TEST_BEGIN("%s: bad responses give clear codes within the timeout [%s]", OPS[o].name, MODE_NAME[m]);
        for (size_t f = 0; f < sizeof FAULTS / sizeof FAULTS[0]; f++) {
            char bad[256], tok[256], dev[256], bc[256], what[256];
            if (strcmp(FAULTS[f].mode, "unreachable") == 0)
                snprintf(bad, sizeof bad, "http://127.0.0.1:1/x");
            else
                snprintf(bad, sizeof bad, "%s/%s/x", MOCK, FAULTS[f].mode);
            snprintf(tok, sizeof tok, "%s/ok/token", MOCK);
            snprintf(dev, sizeof dev, "%s/ok-device/x", MOCK);
            snprintf(bc, sizeof bc, "%s/ok-ciba/x", MOCK);
            snprintf(what, sizeof what, "%s/%s", OPS[o].name, FAULTS[f].mode);
            spec s = {.id = "mock-client", .secret = "mock-client-secret", .total_ms = SLOW ? 4000 : 800, .http_loopback = 1};
            s.endpoints[0] = "token_endpoint";
            s.endpoints[1] = OPS[o].at == AT_TOKEN ? bad : tok;
            s.endpoints[2] = "device_authorization_endpoint";
            s.endpoints[3] = OPS[o].at == AT_DEVICE ? bad : dev;
            s.endpoints[4] = "backchannel_authentication_endpoint";
            s.endpoints[5] = OPS[o].at == AT_CIBA ? bad : bc;
            oidc_oauth_client *c = must(&s);
            outcome out = OPS[o].fn(c, m);
            expect_outcome(&out, FAULTS[f].want, what);
            CHECKF(out.secs <= (SLOW ? 20.0 : 3.0), "%s took %.1f s", what, out.secs);
            for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) CHECKF(!shows(&out, secrets[i]), "%s: error text shows a secret", what);
            outcome_free(&out);
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
    /* every flow twice: through oidc_oauth_send, then through oidc_oauth_send_async */
    for (int m = BLOCKING; m <= ASYNC; m++) {
        test_client_auth_methods((enum send_mode)m);
        test_auth_code_and_refresh((enum send_mode)m);
        test_device_flow((enum send_mode)m);
        test_ciba((enum send_mode)m);
        test_exchange_bearer_custom((enum send_mode)m);
        test_dpop((enum send_mode)m);
        test_cache_single_flight((enum send_mode)m);
        test_cancel((enum send_mode)m);
        test_faults((enum send_mode)m);
    }
    /* leave no liboidc worker behind (valgrind sees them joined) */
    CHECK_RC(oidc_async_shutdown(30000, NULL), OIDC_RESULT_OK);
    return harness_finish();
}
