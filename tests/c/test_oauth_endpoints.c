/*
 * C tests of the protocol endpoints against the real IdP (oidc-provider) and, for faults, the
 * oidc-testkit fixture issuer. Run by tests/c/run.sh endpoints, which:
 *   1. runs `test_oauth_endpoints prepare` (builds an authorization URL with liboidc and prints
 *      url, state, nonce, PKCE verifier, one per line),
 *   2. logs in and consents with curl form posts, exchanges the code with curl,
 *   3. runs `test_oauth_endpoints` with the environment below.
 * Environment: OIDC_TEST_ISSUER, OIDC_TEST_CA_FILE (real IdP); OIDC_TEST_REDIRECT, _STATE,
 * _NONCE, _ID_TOKEN, _ACCESS_TOKEN, _REFRESH_TOKEN (the completed code flow);
 * OIDC_TEST_FAULT_ISSUER, OIDC_TEST_FAULT_CA (oidc-testkit with faults on /e/error, /e/garbage,
 * /e/big, /e/hang). Last line: "N passed, N failed" (tests/c/harness.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <oidc.h>

/* Exported by liboidc but missing from include/oidc.h at this commit (the scaffold generates
 * the token-response getters with a macro, which cbindgen does not expand). Identical
 * redeclarations stay valid once the header carries them. */
const char *oidc_token_response_access_token(const oidc_token_response *resp);

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define S(x) (x), strlen(x)

static const char *env(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "missing environment variable %s\n", name);
        exit(2);
    }
    return v;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Secrets that must never appear in an error message or in the details JSON. */
static const char *secrets[8];
static int n_secrets;

static void no_secret(const oidc_error *err, const char *what) {
    for (int i = 0; i < n_secrets; i++) {
        CHECKF(strstr(oidc_error_message(err), secrets[i]) == NULL, "%s: message leaks a secret", what);
        const char *d = oidc_error_details_json(err);
        CHECKF(d == NULL || strstr(d, secrets[i]) == NULL, "%s: details leak a secret", what);
    }
}

/* Assert rc == want; on failure-as-expected check the error object and free it. */
static void expect(oidc_result rc, oidc_result want, oidc_error *err, const char *what) {
    CHECKF(rc == want, "%s: got %s (%s), want %s", what, oidc_result_name(rc),
          err ? oidc_error_message(err) : "", oidc_result_name(want));
    if (rc != OIDC_RESULT_OK) {
        CHECKF(err != NULL && oidc_error_code(err) == rc, "%s: error object matches the result", what);
        if (err) no_secret(err, what);
    }
    oidc_error_free(err);
}

/* Evaluate the call before reading the error pointer it fills (argument order is unspecified). */
#define EXPECT(call, want, e, what)       \
    do {                                  \
        oidc_result r_ = (call);          \
        expect(r_, want, e, what);        \
    } while (0)

/* A non-blocking call's completion, copied out of the callback (its arguments are borrowed). */
struct async_result {
    long calls;
    oidc_result rc;
    oidc_result err_code;
    char *value;
    pthread_t thread;
};

static void on_string(void *ud, oidc_result rc, const char *value, size_t len, const oidc_error *err) {
    struct async_result *r = ud;
    r->rc = rc;
    r->err_code = err ? oidc_error_code(err) : OIDC_RESULT_OK;
    r->value = value ? strndup(value, len) : NULL;
    r->thread = pthread_self();
    __atomic_add_fetch(&r->calls, 1, __ATOMIC_RELEASE);
}

/* Wait (20 s at most) for the callback; then check it ran exactly once. */
static int one_callback(struct async_result *r) {
    for (int i = 0; i < 20000 && __atomic_load_n(&r->calls, __ATOMIC_ACQUIRE) == 0; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    return __atomic_load_n(&r->calls, __ATOMIC_ACQUIRE) == 1;
}

static void on_token(void *ud, oidc_result rc, const oidc_token_response *resp, const oidc_error *err) {
    struct async_result *r = ud;
    r->rc = rc;
    r->err_code = err ? oidc_error_code(err) : OIDC_RESULT_OK;
    r->value = resp ? strdup(oidc_token_response_access_token(resp)) : NULL;
    r->thread = pthread_self();
    __atomic_add_fetch(&r->calls, 1, __ATOMIC_RELEASE);
}

static void on_done(void *ud, oidc_result rc, const oidc_error *err) {
    on_string(ud, rc, NULL, 0, err);
}

static void on_resource(void *ud, oidc_result rc, uint32_t status, const char *body, size_t len, const oidc_error *err) {
    struct async_result *r = ud;
    char buf[16];
    on_string(ud, rc, body, len, err);
    snprintf(buf, sizeof buf, "%u", status);
    free(r->value);
    r->value = strdup(buf); /* the status is what the comparison needs */
}

/* A non-blocking twin's outcome against its blocking sibling's: accepted, one callback on a
 * liboidc thread, the same code (and, given `want_value`, the same output). */
static void twin(const char *what, oidc_result accepted, oidc_error *err, struct async_result *r, oidc_result want,
                 const char *want_value) {
    expect(accepted, OIDC_RESULT_OK, err, what);
    CHECKF(accepted == OIDC_RESULT_OK && one_callback(r), "%s: exactly one callback", what);
    CHECKF(r->rc == want && r->err_code == want, "%s: %s, the blocking call gave %s", what, oidc_result_name(r->rc),
          oidc_result_name(want));
    CHECKF(!pthread_equal(r->thread, pthread_self()), "%s: not on the calling thread", what);
    if (want_value) CHECKF(r->value && strcmp(r->value, want_value) == 0, "%s: the same output", what);
    free(r->value);
    memset(r, 0, sizeof *r);
}

/* Every protocol twin not covered above: same decision as the blocking call on the real IdP. */
static void async_twins(oidc_oauth_client *web, const char *issuer, const char *ca, const char *redirect, const char *id_token,
                        const char *at) {
    oidc_error *err = NULL;
    oidc_token_response *t = NULL;
    char *out = NULL, *sync = NULL;
    struct async_result r = {0};
    oidc_result want;
    const char *req = "{\"redirect_uri\":\"http://127.0.0.1/cb\",\"scope\":\"openid\",\"state\":\"s-1\",\"nonce\":\"n-1\"}";
    TEST_BEGIN("non-blocking twins: authorization URL, PAR, authorization response, end session, endpoint, ID token");

    want = oidc_oauth_authorization_url(web, S(req), &sync, NULL, NULL);
    twin("authorization_url_async", oidc_oauth_authorization_url_async(web, S(req), on_string, &r, NULL, &err), err, &r, want, sync);
    oidc_string_free(sync);
    const char *par = "{\"redirect_uri\":\"http://127.0.0.1/cb\",\"scope\":\"openid\","
                      "\"code_challenge\":\"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\"}";
    want = oidc_oauth_push_authorization_request(web, S(par), &out, NULL, NULL);
    if (want == OIDC_RESULT_OK) oidc_string_free(out);
    CHECKF(want == OIDC_RESULT_OK, "PAR: %s", oidc_result_name(want));
    err = NULL;
    twin("push_authorization_request_async", oidc_oauth_push_authorization_request_async(web, S(par), on_string, &r, NULL, &err),
         err, &r, want, NULL);
    /* without PKCE the server refuses: the same code both ways */
    want = oidc_oauth_push_authorization_request(web, S(req), &out, NULL, NULL);
    err = NULL;
    twin("push_authorization_request_async (no PKCE)", oidc_oauth_push_authorization_request_async(web, S(req), on_string, &r, NULL, &err),
         err, &r, want, NULL);
    err = NULL;
    want = oidc_oauth_parse_authorization_response(web, S(redirect), S("other-state"), &out, NULL, NULL);
    twin("parse_authorization_response_async",
         oidc_oauth_parse_authorization_response_async(web, S(redirect), S("other-state"), on_string, &r, NULL, &err), err, &r, want, NULL);
    sync = NULL;
    want = oidc_oauth_end_session_url(web, NULL, 0, NULL, 0, S("bye"), &sync, NULL, NULL);
    err = NULL;
    twin("end_session_url_async", oidc_oauth_end_session_url_async(web, NULL, 0, NULL, 0, S("bye"), on_string, &r, NULL, &err), err, &r,
         want, sync);
    oidc_string_free(sync);
    sync = NULL;
    want = oidc_oauth_client_endpoint(web, S("token_endpoint"), &sync, NULL, NULL);
    err = NULL;
    twin("client_endpoint_async", oidc_oauth_client_endpoint_async(web, S("token_endpoint"), on_string, &r, NULL, &err), err, &r, want, sync);
    oidc_string_free(sync);
    want = oidc_oauth_validate_id_token(web, S(id_token), S("other-nonce"), NULL, 0, NULL, 0, -1, &out, NULL, NULL);
    err = NULL;
    twin("validate_id_token_async",
         oidc_oauth_validate_id_token_async(web, S(id_token), S("other-nonce"), NULL, 0, NULL, 0, -1, on_string, &r, NULL, &err), err, &r,
         want, NULL);

    TEST_END();
    TEST_BEGIN("non-blocking twins: token requests the server refuses, revocation");
    /* Token requests the server refuses: the server's code, both ways. */
    want = oidc_oauth_exchange_code(web, S("bogus-code"), S("http://127.0.0.1/cb"), NULL, 0, NULL, 0, NULL, 0, &t, NULL);
    err = NULL;
    twin("exchange_code_async",
         oidc_oauth_exchange_code_async(web, S("bogus-code"), S("http://127.0.0.1/cb"), NULL, 0, NULL, 0, NULL, 0, on_token, &r, NULL, &err),
         err, &r, want, NULL);
    CHECKF(want == OIDC_RESULT_INVALID_GRANT, "bogus code: %s", oidc_result_name(want));
    want = oidc_oauth_refresh(web, S("bogus-refresh-token"), NULL, 0, NULL, 0, &t, NULL);
    err = NULL;
    twin("refresh_async", oidc_oauth_refresh_async(web, S("bogus-refresh-token"), NULL, 0, NULL, 0, on_token, &r, NULL, &err), err, &r, want,
         NULL);
    want = oidc_oauth_client_credentials_cached(web, S("openid"), NULL, 0, NULL, 0, &t, NULL);
    if (want == OIDC_RESULT_OK) oidc_token_response_free(t);
    err = NULL;
    twin("client_credentials_cached_async",
         oidc_oauth_client_credentials_cached_async(web, S("openid"), NULL, 0, NULL, 0, on_token, &r, NULL, &err), err, &r, want, NULL);
    want = oidc_oauth_token_exchange(web, S("not-a-token"), NULL, 0, NULL, 0, &t, NULL);
    if (want == OIDC_RESULT_OK) oidc_token_response_free(t);
    err = NULL;
    twin("token_exchange_async", oidc_oauth_token_exchange_async(web, S("not-a-token"), NULL, 0, NULL, 0, on_token, &r, NULL, &err), err, &r,
         want, NULL);
    want = oidc_oauth_jwt_bearer(web, S("e30.e30.sig"), NULL, 0, NULL, 0, &t, NULL);
    if (want == OIDC_RESULT_OK) oidc_token_response_free(t);
    err = NULL;
    twin("jwt_bearer_async", oidc_oauth_jwt_bearer_async(web, S("e30.e30.sig"), NULL, 0, NULL, 0, on_token, &r, NULL, &err), err, &r, want,
         NULL);
    want = oidc_oauth_custom_grant(web, S("urn:liboidc:grant-type:echo"), NULL, 0, &t, NULL);
    if (want == OIDC_RESULT_OK) oidc_token_response_free(t);
    err = NULL;
    twin("custom_grant_async", oidc_oauth_custom_grant_async(web, S("urn:liboidc:grant-type:echo"), NULL, 0, on_token, &r, NULL, &err), err,
         &r, want, NULL);
    want = oidc_oauth_revoke(web, S("not-a-real-token"), NULL, 0, NULL);
    err = NULL;
    twin("revoke_async", oidc_oauth_revoke_async(web, S("not-a-real-token"), NULL, 0, on_done, &r, NULL, &err), err, &r, want, NULL);

    TEST_END();
    TEST_BEGIN("non-blocking twin: resource request");
    /* A resource request: the same HTTP status. */
    char url[512], status[16] = "";
    uint32_t st = 0;
    snprintf(url, sizeof url, "%s/me", issuer);
    want = oidc_oauth_resource_request(web, S("GET"), S(url), S(at), S("Bearer"), NULL, 0, NULL, 0, &st, &out, NULL, NULL);
    if (want == OIDC_RESULT_OK) oidc_string_free(out);
    snprintf(status, sizeof status, "%u", st);
    err = NULL;
    twin("resource_request_async",
         oidc_oauth_resource_request_async(web, S("GET"), S(url), S(at), S("Bearer"), NULL, 0, NULL, 0, on_resource, &r, NULL, &err), err,
         &r, want, want == OIDC_RESULT_OK ? status : NULL);

    TEST_END();
    TEST_BEGIN("non-blocking twin: registration (builder freed after the call)");
    /* Registration from a builder (freed right after the initiating call: its settings were copied). */
    oidc_oauth_builder *b = NULL;
    if (oidc_oauth_builder_new(&b, NULL) == OIDC_RESULT_OK && oidc_oauth_builder_set_issuer(b, S(issuer), NULL) == OIDC_RESULT_OK &&
        oidc_oauth_builder_set_ca_file(b, S(ca), NULL) == OIDC_RESULT_OK) {
        const char *bad = "{\"redirect_uris\":[\"https://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"bogus\"}";
        want = oidc_oauth_register(b, S(bad), NULL, 0, &out, NULL, NULL);
        err = NULL;
        oidc_result accepted = oidc_oauth_register_async(b, S(bad), NULL, 0, on_string, &r, NULL, &err);
        oidc_oauth_builder_free(b);
        twin("register_async", accepted, err, &r, want, NULL);
    } else {
        oidc_oauth_builder_free(b);
        CHECKF(0, "registration builder");
    }
    TEST_END();
}

static oidc_oauth_client *mk(const char *issuer, const char *ca, const char *id, const char *secret,
                             const char *const *endpoints, unsigned total_ms) {
    oidc_oauth_builder *b = NULL;
    oidc_error *err = NULL;
    oidc_oauth_client *c = NULL;
    if (oidc_oauth_builder_new(&b, &err) != OIDC_RESULT_OK) goto fail;
    if (oidc_oauth_builder_set_issuer(b, S(issuer), &err) != OIDC_RESULT_OK) goto fail_b;
    if (oidc_oauth_builder_set_client_id(b, S(id), &err) != OIDC_RESULT_OK) goto fail_b;
    if (oidc_oauth_builder_set_ca_file(b, S(ca), &err) != OIDC_RESULT_OK) goto fail_b;
    if (secret && oidc_oauth_builder_set_client_secret(b, S(secret), &err) != OIDC_RESULT_OK) goto fail_b;
    if (total_ms && oidc_oauth_builder_set_timeouts_ms(b, total_ms, total_ms, &err) != OIDC_RESULT_OK) goto fail_b;
    for (int i = 0; endpoints && endpoints[i]; i += 2) {
        if (oidc_oauth_builder_set_endpoint(b, S(endpoints[i]), S(endpoints[i + 1]), &err) != OIDC_RESULT_OK) goto fail_b;
    }
    if (oidc_oauth_builder_build(b, &c, &err) != OIDC_RESULT_OK) goto fail;
    return c;
fail_b:
    oidc_oauth_builder_free(b);
fail:
    fprintf(stderr, "client setup: %s\n", oidc_error_message(err));
    oidc_error_free(err);
    exit(2);
}

/* Value of a string member in a flat JSON text (test helper; values without escapes). */
static char *json_str(const char *json, const char *name, char *buf, size_t cap) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *p = strstr(json, key);
    if (!p) return NULL;
    p += strlen(key);
    const char *e = strchr(p, '"');
    if (!e || (size_t)(e - p) >= cap) return NULL;
    memcpy(buf, p, e - p);
    buf[e - p] = 0;
    return buf;
}

static int prepare(void) {
    const char *issuer = env("OIDC_TEST_ISSUER"), *ca = env("OIDC_TEST_CA_FILE");
    oidc_oauth_client *c = mk(issuer, ca, "web-app", "web-app-secret", NULL, 0);
    char *verifier = NULL, *challenge = NULL, *out = NULL;
    oidc_error *err = NULL;
    if (oidc_pkce_generate(&verifier, &challenge, &err) != OIDC_RESULT_OK) return 2;
    char req[512];
    snprintf(req, sizeof req,
             "{\"redirect_uri\":\"http://127.0.0.1/cb\",\"scope\":\"openid email profile\","
             "\"code_challenge\":\"%s\",\"max_age\":600}", challenge);
    if (oidc_oauth_authorization_url(c, S(req), &out, NULL, &err) != OIDC_RESULT_OK) {
        fprintf(stderr, "authorization_url: %s\n", oidc_error_message(err));
        return 2;
    }
    char url[4096], state[128], nonce[128];
    if (!json_str(out, "url", url, sizeof url) || !json_str(out, "state", state, sizeof state) ||
        !json_str(out, "nonce", nonce, sizeof nonce)) return 2;
    printf("%s\n%s\n%s\n%s\n", url, state, nonce, verifier);
    oidc_string_free(out);
    oidc_string_free(verifier);
    oidc_string_free(challenge);
    oidc_oauth_client_free(c);
    return 0;
}

static void real_idp(void) {
    const char *issuer = env("OIDC_TEST_ISSUER"), *ca = env("OIDC_TEST_CA_FILE");
    const char *redirect = env("OIDC_TEST_REDIRECT"), *state = env("OIDC_TEST_STATE");
    const char *nonce = env("OIDC_TEST_NONCE"), *id_token = env("OIDC_TEST_ID_TOKEN");
    const char *at = env("OIDC_TEST_ACCESS_TOKEN"), *rt = env("OIDC_TEST_REFRESH_TOKEN");
    secrets[n_secrets++] = at;
    secrets[n_secrets++] = rt;
    secrets[n_secrets++] = "web-app-secret";
    secrets[n_secrets++] = "wrong-secret-value";
    oidc_oauth_client *web = mk(issuer, ca, "web-app", "web-app-secret", NULL, 0);
    oidc_error *err = NULL;
    char *out = NULL;
    size_t len = 0;
    oidc_result rc;

    TEST_BEGIN("authorization response: code, state mismatch, wrong iss, access_denied");
    /* Authorization response. */
    rc = oidc_oauth_parse_authorization_response(web, S(redirect), S(state), &out, &len, &err);
    expect(rc, OIDC_RESULT_OK, err, "parse redirect");
    if (rc == OIDC_RESULT_OK) {
        CHECKF(strstr(out, "\"code\":\"") && strstr(out, "\"jarm\":false") && len == strlen(out), "response JSON: %s", "(code)");
        char iss[256];
        CHECKF(json_str(out, "iss", iss, sizeof iss) && strcmp(iss, issuer) == 0, "iss is the issuer");
        oidc_string_free(out);
    }
    err = NULL;
    EXPECT(oidc_oauth_parse_authorization_response(web, S(redirect), S("other-state"), &out, NULL, &err),
           OIDC_RESULT_STATE_MISMATCH, err, "state mismatch");
    err = NULL;
    EXPECT(oidc_oauth_parse_authorization_response(web, S("?error=access_denied&state=s&iss=x"), S("s"), &out, NULL, &err),
           OIDC_RESULT_RESPONSE_ISSUER_MISMATCH, err, "wrong iss");
    {
        char buf[512];
        snprintf(buf, sizeof buf, "error=access_denied&error_description=no&state=s&iss=%s", issuer);
        /* iss must be form-encoded in a real response; an https URL has no reserved chars
           that break parsing except ':' and '/', which are fine in a query value. */
        err = NULL;
        rc = oidc_oauth_parse_authorization_response(web, S(buf), S("s"), &out, NULL, &err);
        CHECKF(rc == OIDC_RESULT_ACCESS_DENIED, "access_denied: %s", oidc_result_name(rc));
        if (err) {
            const char *d = oidc_error_details_json(err);
            CHECKF(d && strstr(d, "\"error\":\"access_denied\"") && strstr(d, "\"error_description\":\"no\""),
                  "error details carry the OAuth error: %s", d ? d : "(null)");
        }
        oidc_error_free(err);
    }

    TEST_END();
    TEST_BEGIN("ID token: claims, nonce, at_hash, audience, malformed");
    /* ID token. */
    err = NULL;
    rc = oidc_oauth_validate_id_token(web, S(id_token), S(nonce), S(at), NULL, 0, 600, &out, &len, &err);
    expect(rc, OIDC_RESULT_OK, err, "id token");
    int has_at_hash = 0;
    if (rc == OIDC_RESULT_OK) {
        CHECKF(strstr(out, "\"sub\":\"user-1\"") != NULL, "id token sub");
        CHECKF(strstr(out, "\"auth_time\"") != NULL, "auth_time with max_age");
        has_at_hash = strstr(out, "\"at_hash\"") != NULL;
        oidc_string_free(out);
    }
    err = NULL;
    EXPECT(oidc_oauth_validate_id_token(web, S(id_token), S("other-nonce"), NULL, 0, NULL, 0, -1, &out, NULL, &err),
           OIDC_RESULT_NONCE_MISMATCH, err, "nonce mismatch");
    if (has_at_hash) {
        err = NULL;
        EXPECT(oidc_oauth_validate_id_token(web, S(id_token), NULL, 0, S("not-the-access-token"), NULL, 0, -1, &out, NULL, &err),
               OIDC_RESULT_HASH_MISMATCH, err, "at_hash mismatch");
    }
    {
        oidc_oauth_client *native = mk(issuer, ca, "native-app", NULL, NULL, 0);
        err = NULL;
        EXPECT(oidc_oauth_validate_id_token(native, S(id_token), NULL, 0, NULL, 0, NULL, 0, -1, &out, NULL, &err),
               OIDC_RESULT_AUDIENCE_MISMATCH, err, "id token for another client");
        oidc_oauth_client_free(native);
    }
    err = NULL;
    EXPECT(oidc_oauth_validate_id_token(web, S("a.b"), NULL, 0, NULL, 0, NULL, 0, -1, &out, NULL, &err),
           OIDC_RESULT_TOKEN_MALFORMED, err, "malformed id token");

    TEST_END();
    TEST_BEGIN("userinfo: claims, subject mismatch, bad token");
    /* UserInfo. */
    err = NULL;
    rc = oidc_oauth_userinfo(web, S(at), S("user-1"), &out, &len, &err);
    expect(rc, OIDC_RESULT_OK, err, "userinfo");
    if (rc == OIDC_RESULT_OK) {
        CHECKF(strstr(out, "user-1@liboidc.test") != NULL, "userinfo email");
        oidc_string_free(out);
    }
    err = NULL;
    EXPECT(oidc_oauth_userinfo(web, S(at), S("user-2"), &out, NULL, &err), OIDC_RESULT_SUBJECT_MISMATCH, err, "userinfo sub");
    err = NULL;
    rc = oidc_oauth_userinfo(web, S("bogus-access-token"), NULL, 0, &out, NULL, &err);
    CHECKF(rc == OIDC_RESULT_INVALID_TOKEN, "userinfo bad token: %s", oidc_result_name(rc));
    if (err) CHECKF(strstr(oidc_error_details_json(err), "\"status\":401") != NULL, "status 401 in details");
    oidc_error_free(err);

    TEST_END();
    TEST_BEGIN("introspection (JSON, RFC 9701), its non-blocking twins, revocation");
    /* Introspection (JSON and RFC 9701), revocation. */
    err = NULL;
    rc = oidc_oauth_introspect(web, S(at), S("access_token"), OIDC_INTROSPECT_FLAG_NONE, &out, NULL, &err);
    expect(rc, OIDC_RESULT_OK, err, "introspect");
    if (rc == OIDC_RESULT_OK) {
        CHECKF(strstr(out, "\"active\":true") && strstr(out, "\"sub\":\"user-1\""), "introspection active: %s", out);
        oidc_string_free(out);
    }
    /* The non-blocking twins: the same JSON / the same code, through the callback, exactly once,
     * on a liboidc thread; argument errors returned at once, with no callback. */
    {
        char *sync = NULL;
        err = NULL;
        rc = oidc_oauth_introspect(web, S(at), S("access_token"), OIDC_INTROSPECT_FLAG_NONE, &sync, NULL, &err);
        expect(rc, OIDC_RESULT_OK, err, "introspect (blocking twin)");
        struct async_result r = {0};
        err = NULL;
        rc = oidc_oauth_introspect_async(web, S(at), S("access_token"), OIDC_INTROSPECT_FLAG_NONE, on_string, &r, NULL, &err);
        expect(rc, OIDC_RESULT_OK, err, "introspect_async accepted");
        CHECKF(rc == OIDC_RESULT_OK && one_callback(&r), "introspect_async: exactly one callback");
        CHECKF(r.rc == OIDC_RESULT_OK && sync && r.value && strcmp(sync, r.value) == 0, "introspect_async: the same JSON");
        CHECKF(!pthread_equal(r.thread, pthread_self()), "introspect_async: not on the calling thread");
        free(r.value);
        oidc_string_free(sync);
        struct async_result u = {0};
        err = NULL;
        rc = oidc_oauth_userinfo_async(web, S("bogus-access-token"), NULL, 0, on_string, &u, NULL, &err);
        expect(rc, OIDC_RESULT_OK, err, "userinfo_async accepted");
        CHECKF(rc == OIDC_RESULT_OK && one_callback(&u), "userinfo_async: exactly one callback");
        CHECKF(u.rc == OIDC_RESULT_INVALID_TOKEN && u.err_code == u.rc && u.value == NULL, "userinfo_async bad token: %s",
              oidc_result_name(u.rc));
        struct async_result n = {0};
        err = NULL;
        EXPECT(oidc_oauth_introspect_async(web, S(at), NULL, 0, 8, on_string, &n, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err,
               "introspect_async bad flags");
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
        CHECKF(__atomic_load_n(&n.calls, __ATOMIC_ACQUIRE) == 0, "introspect_async bad flags: no callback");
    }
    err = NULL;
    rc = oidc_oauth_introspect(web, S(at), NULL, 0, OIDC_INTROSPECT_FLAG_SIGNED, &out, NULL, &err);
    expect(rc, OIDC_RESULT_OK, err, "introspect signed");
    if (rc == OIDC_RESULT_OK) {
        CHECKF(strstr(out, "\"active\":true") != NULL, "signed introspection active");
        oidc_string_free(out);
    }
    err = NULL;
    EXPECT(oidc_oauth_introspect(web, S(at), NULL, 0, 8, &out, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "bad flags");
    err = NULL;
    EXPECT(oidc_oauth_revoke(web, S(at), S("access_token"), &err), OIDC_RESULT_OK, err, "revoke access token");
    err = NULL;
    rc = oidc_oauth_introspect(web, S(at), NULL, 0, 0, &out, NULL, &err);
    expect(rc, OIDC_RESULT_OK, err, "introspect revoked");
    if (rc == OIDC_RESULT_OK) {
        CHECKF(strstr(out, "\"active\":false") != NULL, "revoked token inactive");
        oidc_string_free(out);
    }
    err = NULL;
    EXPECT(oidc_oauth_revoke(web, S(rt), S("refresh_token"), &err), OIDC_RESULT_OK, err, "revoke refresh token");
    {
        oidc_oauth_client *bad = mk(issuer, ca, "web-app", "wrong-secret-value", NULL, 0);
        err = NULL;
        EXPECT(oidc_oauth_introspect(bad, S(at), NULL, 0, 0, &out, NULL, &err), OIDC_RESULT_INVALID_CLIENT, err, "introspect wrong secret");
        err = NULL;
        EXPECT(oidc_oauth_revoke(bad, S(rt), NULL, 0, &err), OIDC_RESULT_INVALID_CLIENT, err, "revoke wrong secret");
        oidc_oauth_client_free(bad);
    }
    TEST_END();
    TEST_BEGIN("introspection of an opaque client-credentials token by another client");
    /* An opaque client-credentials token, introspected by another client. */
    {
        oidc_oauth_client *svc = mk(issuer, ca, "svc-basic", "svc-basic-secret", NULL, 0);
        oidc_oauth_client *rs = mk(issuer, ca, "svc-post", "svc-post-secret", NULL, 0);
        oidc_token_response *t = NULL;
        err = NULL;
        rc = oidc_oauth_client_credentials(svc, S("read"), S("urn:liboidc:opaque"), NULL, 0, &t, &err);
        expect(rc, OIDC_RESULT_OK, err, "client credentials (opaque)");
        if (rc == OIDC_RESULT_OK) {
            const char *tok = oidc_token_response_access_token(t);
            err = NULL;
            rc = oidc_oauth_introspect(rs, S(tok), NULL, 0, 0, &out, NULL, &err);
            expect(rc, OIDC_RESULT_OK, err, "introspect opaque");
            if (rc == OIDC_RESULT_OK) {
                CHECKF(strstr(out, "\"aud\":\"urn:liboidc:opaque\"") != NULL, "opaque token audience");
                oidc_string_free(out);
            }
            oidc_token_response_free(t);
        }
        t = NULL;
        err = NULL;
        rc = oidc_oauth_client_credentials(svc, S("read"), S("urn:liboidc:rs256"), NULL, 0, &t, &err);
        expect(rc, OIDC_RESULT_OK, err, "client credentials (JWT)");
        if (rc == OIDC_RESULT_OK) {
            const char *tok = oidc_token_response_access_token(t);
            err = NULL;
            EXPECT(oidc_oauth_introspect(rs, S(tok), NULL, 0, 0, &out, NULL, &err), OIDC_RESULT_UNSUPPORTED_TOKEN_TYPE, err,
                   "JWT access tokens are not introspectable at oidc-provider");
            oidc_token_response_free(t);
        }
        oidc_oauth_client_free(svc);
        oidc_oauth_client_free(rs);
    }

    TEST_END();
    TEST_BEGIN("URLs: authorization (options, PAR form), PAR, end session");
    /* URLs: authorization (options, PAR form), PAR, end session. */
    char *verifier = NULL, *challenge = NULL;
    err = NULL;
    EXPECT(oidc_pkce_generate(&verifier, &challenge, &err), OIDC_RESULT_OK, err, "pkce");
    CHECKF(verifier && strlen(verifier) == 43 && challenge && strlen(challenge) == 43, "pkce lengths");
    char req[1024];
    snprintf(req, sizeof req,
             "{\"redirect_uri\":\"http://127.0.0.1/cb\",\"scope\":\"openid email\",\"code_challenge\":\"%s\","
             "\"params\":{\"prompt\":\"login\",\"resource\":[\"urn:liboidc:es256\"]}}", challenge);
    err = NULL;
    rc = oidc_oauth_authorization_url(web, S(req), &out, NULL, &err);
    expect(rc, OIDC_RESULT_OK, err, "authorization url");
    if (rc == OIDC_RESULT_OK) {
        CHECKF(strstr(out, "/auth?client_id=web-app&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb") != NULL, "url: %s", out);
        CHECKF(strstr(out, "code_challenge_method=S256") && strstr(out, "prompt=login") &&
              strstr(out, "resource=urn%3Aliboidc%3Aes256"), "url params: %s", out);
        CHECKF(strstr(out, verifier) == NULL, "the verifier is not in the URL");
        oidc_string_free(out);
    }
    err = NULL;
    EXPECT(oidc_oauth_authorization_url(web, S("{\"scop\":\"openid\"}"), &out, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "unknown member");
    err = NULL;
    EXPECT(oidc_oauth_authorization_url(web, S("{\"code_challenge\":\"plain\"}"), &out, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "bad challenge");
    err = NULL;
    EXPECT(oidc_oauth_authorization_url(web, S("not json"), &out, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "not JSON");
    err = NULL;
    rc = oidc_oauth_push_authorization_request(web, S(req), &out, NULL, &err);
    expect(rc, OIDC_RESULT_OK, err, "PAR");
    if (rc == OIDC_RESULT_OK) {
        char uri[512], req2[700];
        CHECKF(json_str(out, "request_uri", uri, sizeof uri) && strstr(out, "\"expires_in\":"), "PAR response: %s", out);
        oidc_string_free(out);
        snprintf(req2, sizeof req2, "{\"request_uri\":\"%s\"}", uri);
        err = NULL;
        rc = oidc_oauth_authorization_url(web, S(req2), &out, NULL, &err);
        expect(rc, OIDC_RESULT_OK, err, "PAR authorization url");
        if (rc == OIDC_RESULT_OK) {
            CHECKF(strstr(out, "/auth?client_id=web-app&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A") != NULL &&
                  strstr(out, "scope") == NULL, "PAR url: %s", out);
            oidc_string_free(out);
        }
    }
    err = NULL;
    EXPECT(oidc_oauth_push_authorization_request(web, S("{\"redirect_uri\":\"http://127.0.0.1/unregistered\"}"), &out, NULL, &err),
           OIDC_RESULT_INVALID_REQUEST, err, "PAR bad redirect_uri");
    oidc_string_free(verifier);
    oidc_string_free(challenge);
    err = NULL;
    rc = oidc_oauth_end_session_url(web, S(id_token), S("http://127.0.0.1/logout-cb"), S("bye"), &out, NULL, &err);
    expect(rc, OIDC_RESULT_OK, err, "end session url");
    if (rc == OIDC_RESULT_OK) {
        char want[512];
        snprintf(want, sizeof want, "%s/session/end?id_token_hint=", issuer);
        CHECKF(strncmp(out, want, strlen(want)) == 0 && strstr(out, "&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%2Flogout-cb&state=bye&client_id=web-app"),
              "end session url: %s", out);
        oidc_string_free(out);
    }

    TEST_END();
    TEST_BEGIN("dynamic registration; the registered client sends PAR");
    /* Dynamic registration with a builder's issuer settings. */
    {
        oidc_oauth_builder *b = NULL;
        err = NULL;
        if (oidc_oauth_builder_new(&b, &err) == OIDC_RESULT_OK && oidc_oauth_builder_set_issuer(b, S(issuer), &err) == OIDC_RESULT_OK &&
            oidc_oauth_builder_set_ca_file(b, S(ca), &err) == OIDC_RESULT_OK) {
            const char *md = "{\"redirect_uris\":[\"https://127.0.0.1/cb\"],\"grant_types\":[\"authorization_code\"],"
                             "\"response_types\":[\"code\"],\"client_name\":\"from C\"}";
            rc = oidc_oauth_register(b, S(md), NULL, 0, &out, &len, &err);
            expect(rc, OIDC_RESULT_OK, err, "register");
            if (rc == OIDC_RESULT_OK) {
                char id[128], sec[256];
                CHECKF(json_str(out, "client_id", id, sizeof id) && json_str(out, "client_secret", sec, sizeof sec), "registration: client_id and secret");
                CHECKF(strstr(out, "\"client_name\":\"from C\"") != NULL, "registration echoes metadata");
                /* The registered client works: same builder, now with its id and secret. */
                oidc_oauth_client *nc = NULL;
                err = NULL;
                if (oidc_oauth_builder_set_client_id(b, S(id), &err) == OIDC_RESULT_OK &&
                    oidc_oauth_builder_set_client_secret(b, S(sec), &err) == OIDC_RESULT_OK) {
                    oidc_string_free(out);
                    rc = oidc_oauth_builder_build(b, &nc, &err);
                    b = NULL;
                    expect(rc, OIDC_RESULT_OK, err, "build the registered client");
                    err = NULL;
                    rc = oidc_oauth_push_authorization_request(nc, S("{\"redirect_uri\":\"https://127.0.0.1/cb\",\"scope\":\"openid\",\"code_challenge\":\"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\"}"), &out, NULL, &err);
                    expect(rc, OIDC_RESULT_OK, err, "PAR with the registered client");
                    if (rc == OIDC_RESULT_OK) oidc_string_free(out);
                    oidc_oauth_client_free(nc);
                }
            }
            if (b) {
                err = NULL;
                EXPECT(oidc_oauth_register(b, S("{\"redirect_uris\":[\"https://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"bogus\"}"), NULL, 0, &out, NULL, &err),
                       OIDC_RESULT_INVALID_CLIENT_METADATA, err, "register bad metadata");
                err = NULL;
                EXPECT(oidc_oauth_register(b, S("[1]"), NULL, 0, &out, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "register non-object");
                oidc_oauth_builder_free(b);
            }
        } else {
            CHECKF(0, "registration builder: %s", oidc_error_message(err));
            oidc_error_free(err);
        }
    }
    TEST_END();
    async_twins(web, issuer, ca, redirect, id_token, at);
    oidc_oauth_client_free(web);
}

static void pkce_and_misuse(const char *issuer, const char *ca) {
    oidc_error *err = NULL;
    char *out = NULL;
    TEST_BEGIN("PKCE: RFC 7636 vector, short verifier, NULL out");
    /* RFC 7636 appendix B */
    oidc_result rc = oidc_pkce_challenge(S("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), &out, &err);
    expect(rc, OIDC_RESULT_OK, err, "pkce challenge");
    if (rc == OIDC_RESULT_OK) {
        CHECKF(strcmp(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") == 0, "RFC 7636 vector");
        oidc_string_free(out);
    }
    err = NULL;
    EXPECT(oidc_pkce_challenge(S("short"), &out, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "short verifier");
    err = NULL;
    EXPECT(oidc_pkce_generate(NULL, &out, &err), OIDC_RESULT_NULL_PARAMETER, err, "pkce NULL out");
    TEST_END();
    TEST_BEGIN("misuse: NULL and invalid UTF-8 arguments, empty and repeated inputs");

    oidc_oauth_client *c = mk(issuer, ca, "web-app", "web-app-secret", NULL, 0);
    const char bad_utf8[] = {'a', (char)0xff, 'b'};
    err = NULL;
    EXPECT(oidc_oauth_introspect(NULL, S("t"), NULL, 0, 0, &out, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "introspect NULL client");
    err = NULL;
    EXPECT(oidc_oauth_introspect(c, S("t"), NULL, 0, 0, NULL, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "introspect NULL out");
    err = NULL;
    EXPECT(oidc_oauth_introspect(c, NULL, 0, NULL, 0, 0, &out, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "introspect empty token");
    err = NULL;
    EXPECT(oidc_oauth_introspect(c, NULL, 5, NULL, 0, 0, &out, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "introspect NULL token");
    err = NULL;
    EXPECT(oidc_oauth_introspect(c, bad_utf8, 3, NULL, 0, 0, &out, NULL, &err), OIDC_RESULT_INVALID_UTF8, err, "introspect bad UTF-8");
    err = NULL;
    EXPECT(oidc_oauth_revoke(NULL, S("t"), NULL, 0, &err), OIDC_RESULT_NULL_PARAMETER, err, "revoke NULL client");
    err = NULL;
    EXPECT(oidc_oauth_revoke(c, bad_utf8, 3, NULL, 0, &err), OIDC_RESULT_INVALID_UTF8, err, "revoke bad UTF-8");
    err = NULL;
    EXPECT(oidc_oauth_userinfo(NULL, S("t"), NULL, 0, &out, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "userinfo NULL client");
    err = NULL;
    EXPECT(oidc_oauth_userinfo(c, S("t"), bad_utf8, 3, &out, NULL, &err), OIDC_RESULT_INVALID_UTF8, err, "userinfo bad UTF-8");
    err = NULL;
    EXPECT(oidc_oauth_validate_id_token(NULL, S("t"), NULL, 0, NULL, 0, NULL, 0, -1, &out, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "id token NULL client");
    err = NULL;
    EXPECT(oidc_oauth_validate_id_token(c, S("t"), NULL, 0, NULL, 0, NULL, 0, -1, NULL, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "id token NULL out");
    err = NULL;
    EXPECT(oidc_oauth_authorization_url(NULL, S("{}"), &out, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "url NULL client");
    err = NULL;
    EXPECT(oidc_oauth_push_authorization_request(c, bad_utf8, 3, &out, NULL, &err), OIDC_RESULT_INVALID_UTF8, err, "PAR bad UTF-8");
    err = NULL;
    EXPECT(oidc_oauth_push_authorization_request(c, S("{\"request_uri\":\"urn:x\"}"), &out, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "PAR with request_uri");
    err = NULL;
    EXPECT(oidc_oauth_parse_authorization_response(c, NULL, 0, NULL, 0, &out, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "parse empty");
    err = NULL;
    EXPECT(oidc_oauth_parse_authorization_response(c, S("code=a&code=b"), S("s"), &out, NULL, &err), OIDC_RESULT_RESPONSE_INVALID, err, "parse repeated");
    EXPECT(oidc_oauth_parse_authorization_response(c, S("code=a&state=s"), NULL, 0, &out, NULL, &err), OIDC_RESULT_INVALID_ARGUMENT, err, "no expected state is a misuse, never a skipped check");
    err = NULL;
    EXPECT(oidc_oauth_parse_authorization_response(NULL, S("code=a"), NULL, 0, &out, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "parse NULL client");
    err = NULL;
    EXPECT(oidc_oauth_end_session_url(NULL, NULL, 0, NULL, 0, NULL, 0, &out, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "end session NULL client");
    err = NULL;
    EXPECT(oidc_oauth_register(NULL, S("{}"), NULL, 0, &out, NULL, &err), OIDC_RESULT_NULL_PARAMETER, err, "register NULL builder");
    /* err_out NULL is allowed */
    CHECKF(oidc_oauth_revoke(c, NULL, 0, NULL, 0, NULL) == OIDC_RESULT_INVALID_ARGUMENT, "NULL err_out");
    oidc_string_free(NULL);
    oidc_oauth_client_free(c);
    TEST_END();
}

static int closed_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &l) != 0) return 1;
    int port = ntohs(a.sin_port);
    close(s); /* nothing listens there now */
    return port;
}

/* Every operation against one misbehaving endpoint; each must fail with `want` quickly. */
static void faults(void) {
    const char *issuer = env("OIDC_TEST_FAULT_ISSUER"), *ca = env("OIDC_TEST_FAULT_CA");
    char unreachable[128];
    snprintf(unreachable, sizeof unreachable, "https://127.0.0.1:%d/x", closed_port());
    char paths[5][256];
    const char *names[5] = {"/e/error", "/e/garbage", "/e/big", "/.well-known/openid-configuration", "/e/hang"};
    for (int i = 0; i < 5; i++) snprintf(paths[i], sizeof paths[i], "%s%s", issuer, names[i]);
    struct {
        const char *what, *url;
        oidc_result want, want_revoke;
    } cases[] = {
        {"unreachable", unreachable, OIDC_RESULT_NETWORK, OIDC_RESULT_NETWORK},
        {"OAuth error", paths[0], OIDC_RESULT_OAUTH_ERROR, OIDC_RESULT_OAUTH_ERROR},
        {"malformed JSON", paths[1], OIDC_RESULT_RESPONSE_INVALID, OIDC_RESULT_OK},
        {"oversized body", paths[2], OIDC_RESULT_RESPONSE_TOO_LARGE, OIDC_RESULT_RESPONSE_TOO_LARGE},
        {"missing field", paths[3], OIDC_RESULT_RESPONSE_MISSING_FIELD, OIDC_RESULT_OK},
        {"timeout", paths[4], OIDC_RESULT_TIMEOUT, OIDC_RESULT_TIMEOUT},
    };
    secrets[n_secrets++] = "fault-client-secret";
    secrets[n_secrets++] = "fault-token-value";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *u = cases[i].url;
        const char *eps[] = {"introspection_endpoint", u, "revocation_endpoint", u, "userinfo_endpoint", u,
                             "pushed_authorization_request_endpoint", u, "registration_endpoint", u, NULL};
        /* a short timeout only where the server hangs: no other case races the clock */
        unsigned ms = cases[i].want == OIDC_RESULT_TIMEOUT ? 300 : 0;
        TEST_BEGIN("faults: %s: introspect, revoke, userinfo, PAR, register", cases[i].what);
        oidc_oauth_client *c = mk(issuer, ca, "rp", "fault-client-secret", eps, ms);
        oidc_error *err = NULL;
        char *out = NULL, what[128];
        double t0;
#define TIMED(label, want, call)                                                         \
    do {                                                                                 \
        snprintf(what, sizeof what, "%s: %s", cases[i].what, label);                     \
        err = NULL;                                                                      \
        t0 = now_s();                                                                    \
        oidc_result r_ = (call);                                                         \
        CHECKF(now_s() - t0 < 2.0, "%s took %.2fs", what, now_s() - t0);                  \
        if (r_ == OIDC_RESULT_OK && out) { oidc_string_free(out); out = NULL; }          \
        expect(r_, want, err, what);                                                     \
    } while (0)
        TIMED("introspect", cases[i].want, oidc_oauth_introspect(c, S("fault-token-value"), NULL, 0, 0, &out, NULL, &err));
        TIMED("revoke", cases[i].want_revoke, oidc_oauth_revoke(c, S("fault-token-value"), NULL, 0, &err));
        TIMED("userinfo", cases[i].want, oidc_oauth_userinfo(c, S("fault-token-value"), NULL, 0, &out, NULL, &err));
        TIMED("PAR", cases[i].want, oidc_oauth_push_authorization_request(c, S("{}"), &out, NULL, &err));
        oidc_oauth_client_free(c);
        oidc_oauth_builder *b = NULL;
        if (oidc_oauth_builder_new(&b, NULL) == OIDC_RESULT_OK && oidc_oauth_builder_set_issuer(b, S(issuer), NULL) == OIDC_RESULT_OK &&
            oidc_oauth_builder_set_ca_file(b, S(ca), NULL) == OIDC_RESULT_OK && (ms == 0 || oidc_oauth_builder_set_timeouts_ms(b, ms, ms, NULL) == OIDC_RESULT_OK) &&
            oidc_oauth_builder_set_endpoint(b, S("registration_endpoint"), S(u), NULL) == OIDC_RESULT_OK) {
            TIMED("register", cases[i].want, oidc_oauth_register(b, S("{\"redirect_uris\":[\"https://rp/cb\"]}"), S("fault-token-value"), &out, NULL, &err));
        }
        oidc_oauth_builder_free(b);
        TEST_END();
#undef TIMED
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "prepare") == 0) return prepare();
    if (oidc_version_number() != OIDC_VERSION_NUMBER) {
        fprintf(stderr, "library/header version mismatch\n");
        return 2;
    }
    real_idp();
    pkce_and_misuse(env("OIDC_TEST_ISSUER"), env("OIDC_TEST_CA_FILE"));
    faults();
    return harness_finish();
}
