/*
 * C tests of the protocol endpoints through the ABI 0.2 request object (every flow sent with
 * oidc_oauth_send AND oidc_oauth_send_async, the same expected results), against the real IdP
 * (oidc-provider) and, for faults, the oidc-testkit fixture issuer. Run by
 * tests/c/run.sh endpoints, which:
 *   1. runs `test_oauth_endpoints prepare` twice (builds an authorization URL with liboidc and
 *      prints url, state, nonce, PKCE verifier, one per line),
 *   2. logs in and consents with curl form posts, exchanges each code with curl,
 *   3. runs `test_oauth_endpoints` with the environment below.
 * Environment: OIDC_TEST_ISSUER, OIDC_TEST_CA_FILE (real IdP); OIDC_TEST_REDIRECT, _STATE,
 * _NONCE, _ID_TOKEN, _ACCESS_TOKEN, _REFRESH_TOKEN (a completed code flow for the blocking
 * sends; the same names ending in _2: another one for the non-blocking sends, as the tests
 * revoke the tokens); OIDC_TEST_FAULT_ISSUER, OIDC_TEST_FAULT_CA (oidc-testkit with faults on
 * /e/error, /e/garbage, /e/big, /e/hang). Last line: "N passed, N failed" (tests/c/harness.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <oidc.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "oauth_send.h"

#define S(x) (x), strlen(x)

static const char *env(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "missing environment variable %s\n", name);
        exit(2);
    }
    return v;
}

/* The completed code flow of one mode. */
typedef struct {
    const char *redirect, *state, *nonce, *id_token, *at, *rt;
} flow;

static flow flow_env(enum send_mode m) {
    char n[6][64];
    const char *names[6] = {"REDIRECT", "STATE", "NONCE", "ID_TOKEN", "ACCESS_TOKEN", "REFRESH_TOKEN"};
    for (int i = 0; i < 6; i++) snprintf(n[i], sizeof n[i], "OIDC_TEST_%s%s", names[i], m == ASYNC ? "_2" : "");
    flow f = {env(n[0]), env(n[1]), env(n[2]), env(n[3]), env(n[4]), env(n[5])};
    return f;
}

/* Secrets that must never appear in an error message or in the details JSON. */
static const char *secrets[16];
static int n_secrets;

static void no_secret(const outcome *o, const char *what) {
    for (int i = 0; i < n_secrets; i++) {
        CHECKF(!o->message || strstr(o->message, secrets[i]) == NULL, "%s: message leaks a secret", what);
        CHECKF(!o->details || strstr(o->details, secrets[i]) == NULL, "%s: details leak a secret", what);
    }
}

/* Send with `m`, check the code (and that no secret shows), return the outcome (owned). */
static outcome sent(oidc_oauth_request *r, enum send_mode m, oidc_result want, const char *what) {
    outcome o = send_mode(r, NULL, m);
    expect_outcome(&o, want, what);
    no_secret(&o, what);
    return o;
}
/* The same, for a request used once: freed here, only the code matters. */
static void sent_once(oidc_oauth_request *r, enum send_mode m, oidc_result want, const char *what) {
    outcome o = sent(r, m, want, what);
    outcome_free(&o);
    oidc_oauth_request_free(r);
}

/* A parameter refused either by its setter or, at the latest, by the send (INVALID_ARGUMENT). */
static void refused_by_setter_or_send(oidc_oauth_request *r, oidc_param p, const char *v, enum send_mode m, const char *what) {
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_request_set_string(r, p, v, strlen(v), &err);
    if (rc == OIDC_RESULT_OK) {
        outcome o = send_mode(r, NULL, m);
        expect_outcome(&o, OIDC_RESULT_INVALID_ARGUMENT, what);
        outcome_free(&o);
    } else {
        CHECKF(rc == OIDC_RESULT_INVALID_ARGUMENT && err && oidc_error_code(err) == rc, "%s: setter gave %s", what, rc_name(rc));
    }
    oidc_error_free(err);
}

static oidc_oauth_client *mk(const char *issuer, const char *ca, const char *id, const char *secret,
                             const char *const *endpoints, unsigned total_ms) {
    oidc_oauth_builder *b = NULL;
    oidc_error *err = NULL;
    oidc_oauth_client *c = NULL;
    if (oidc_oauth_builder_new(&b, &err) != OIDC_RESULT_OK) goto fail;
    if (oidc_oauth_builder_set_issuer(b, S(issuer), &err) != OIDC_RESULT_OK) goto fail_b;
    if (id && oidc_oauth_builder_set_client_id(b, S(id), &err) != OIDC_RESULT_OK) goto fail_b;
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

/* `prepare`: the authorization URL for the scripted login (state, nonce and the PKCE pair are
 * generated by liboidc and come back in the response). */
static int prepare(void) {
    const char *issuer = env("OIDC_TEST_ISSUER"), *ca = env("OIDC_TEST_CA_FILE");
    oidc_oauth_client *c = mk(issuer, ca, "web-app", "web-app-secret", NULL, 0);
    oidc_oauth_request *r = NULL;
    oidc_oauth_response *u = NULL;
    oidc_error *err = NULL;
    if (oidc_oauth_request_new(c, OIDC_OP_AUTHORIZATION_URL, &r, &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_set_string(r, OIDC_PARAM_REDIRECT_URI, S("http://127.0.0.1/cb"), &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_add_string(r, OIDC_PARAM_SCOPE, S("openid"), &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_add_string(r, OIDC_PARAM_SCOPE, S("email"), &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_add_string(r, OIDC_PARAM_SCOPE, S("profile"), &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_set_int(r, OIDC_PARAM_MAX_AGE, 600, &err) != OIDC_RESULT_OK ||
        oidc_oauth_send(r, NULL, &u, &err) != OIDC_RESULT_OK) {
        fprintf(stderr, "authorization URL: %s\n", oidc_error_message(err));
        return 2;
    }
    const char *f[4] = {oidc_oauth_response_string(u, OIDC_FIELD_URL), oidc_oauth_response_string(u, OIDC_FIELD_STATE),
                        oidc_oauth_response_string(u, OIDC_FIELD_NONCE), oidc_oauth_response_string(u, OIDC_FIELD_CODE_VERIFIER)};
    for (int i = 0; i < 4; i++)
        if (!f[i]) return 2;
    printf("%s\n%s\n%s\n%s\n", f[0], f[1], f[2], f[3]);
    oidc_oauth_response_free(u);
    oidc_oauth_request_free(r);
    oidc_oauth_client_free(c);
    return 0;
}

/* ---- the real IdP, one mode ------------------------------------------------------------------ */

static void real_idp(enum send_mode m) {
    const char *issuer = env("OIDC_TEST_ISSUER"), *ca = env("OIDC_TEST_CA_FILE");
    const char *M = MODE_NAME[m];
    flow fl = flow_env(m);
    oidc_oauth_client *web = mk(issuer, ca, "web-app", "web-app-secret", NULL, 0);
    oidc_oauth_request *r;
    outcome o;

    TEST_BEGIN("authorization response: code, state mismatch, wrong iss, access_denied, repeated, no state [%s]", M);
    r = req_new(web, OIDC_OP_AUTHORIZATION_RESPONSE);
    req_set(r, OIDC_PARAM_RESPONSE, fl.redirect);
    req_set(r, OIDC_PARAM_EXPECTED_STATE, fl.state);
    o = sent(r, m, OIDC_RESULT_OK, "parse redirect");
    CHECKF(strstr(resp_json(&o), "\"code\":\"") != NULL, "response JSON: %s", resp_json(&o));
    CHECK(field_s(&o, OIDC_FIELD_CODE)[0] != 0);
    CHECK(strcmp(field_s(&o, OIDC_FIELD_STATE), fl.state) == 0);
    CHECKF(strcmp(field_s(&o, OIDC_FIELD_ISS), issuer) == 0, "iss %s", field_s(&o, OIDC_FIELD_ISS));
    {
        size_t len = 0;
        const char *j = o.resp ? oidc_oauth_response_json(o.resp, &len) : NULL;
        CHECK(j && len == strlen(j));
    }
    outcome_free(&o);
    req_set(r, OIDC_PARAM_EXPECTED_STATE, "other-state");
    o = sent(r, m, OIDC_RESULT_STATE_MISMATCH, "state mismatch");
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(web, OIDC_OP_AUTHORIZATION_RESPONSE);
    req_set(r, OIDC_PARAM_RESPONSE, "?error=access_denied&state=s&iss=x");
    req_set(r, OIDC_PARAM_EXPECTED_STATE, "s");
    sent_once(r, m, OIDC_RESULT_RESPONSE_ISSUER_MISMATCH, "wrong iss");
    {
        char buf[512];
        snprintf(buf, sizeof buf, "error=access_denied&error_description=no&state=s&iss=%s", issuer);
        r = req_new(web, OIDC_OP_AUTHORIZATION_RESPONSE);
        req_set(r, OIDC_PARAM_RESPONSE, buf);
        req_set(r, OIDC_PARAM_EXPECTED_STATE, "s");
        o = sent(r, m, OIDC_RESULT_ACCESS_DENIED, "access_denied");
        CHECKF(o.details && strstr(o.details, "\"error\":\"access_denied\"") && strstr(o.details, "\"error_description\":\"no\""),
               "error details carry the OAuth error: %s", o.details ? o.details : "(null)");
        outcome_free(&o);
        oidc_oauth_request_free(r);
    }
    r = req_new(web, OIDC_OP_AUTHORIZATION_RESPONSE);
    req_set(r, OIDC_PARAM_RESPONSE, "code=a&code=b");
    req_set(r, OIDC_PARAM_EXPECTED_STATE, "s");
    sent_once(r, m, OIDC_RESULT_RESPONSE_INVALID, "repeated parameter");
    r = req_new(web, OIDC_OP_AUTHORIZATION_RESPONSE);
    req_set(r, OIDC_PARAM_RESPONSE, "code=a&state=s");
    o = sent(r, m, OIDC_RESULT_INVALID_ARGUMENT, "no expected state is a misuse, never a skipped check");
    CHECKF(o.message && strstr(o.message, "OIDC_PARAM_NO_STATE_SENT"), "message: %s", o.message ? o.message : "-");
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(web, OIDC_OP_AUTHORIZATION_RESPONSE);
    {
        oidc_error *err = NULL;
        CHECK_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_RESPONSE, "", 0, &err), err, OIDC_RESULT_INVALID_ARGUMENT, NULL,
                      "empty RESPONSE");
        CHECK_REFUSED(oidc_oauth_request_add_param(r, S("x"), S("y"), &err), err, OIDC_RESULT_INVALID_ARGUMENT, NULL,
                      "custom parameter on an operation that sends nothing");
    }
    oidc_oauth_request_free(r);
    TEST_END();

    TEST_BEGIN("ID token: claims, nonce, at_hash, audience, malformed [%s]", M);
    r = req_new(web, OIDC_OP_VALIDATE_ID_TOKEN);
    req_set(r, OIDC_PARAM_ID_TOKEN, fl.id_token);
    req_set(r, OIDC_PARAM_NONCE, fl.nonce);
    req_set(r, OIDC_PARAM_ACCESS_TOKEN, fl.at);
    req_int(r, OIDC_PARAM_MAX_AGE, 600);
    o = sent(r, m, OIDC_RESULT_OK, "id token");
    CHECK(strstr(resp_json(&o), "\"sub\":\"user-1\"") != NULL);
    CHECK(strcmp(field_s(&o, OIDC_FIELD_SUB), "user-1") == 0);
    CHECKF(strstr(resp_json(&o), "\"auth_time\"") != NULL, "auth_time with max_age");
    int has_at_hash = strstr(resp_json(&o), "\"at_hash\"") != NULL;
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(web, OIDC_OP_VALIDATE_ID_TOKEN);
    req_set(r, OIDC_PARAM_ID_TOKEN, fl.id_token);
    req_set(r, OIDC_PARAM_NONCE, "other-nonce");
    sent_once(r, m, OIDC_RESULT_NONCE_MISMATCH, "nonce mismatch");
    if (has_at_hash) {
        r = req_new(web, OIDC_OP_VALIDATE_ID_TOKEN);
        req_set(r, OIDC_PARAM_ID_TOKEN, fl.id_token);
        req_set(r, OIDC_PARAM_ACCESS_TOKEN, "not-the-access-token");
        sent_once(r, m, OIDC_RESULT_HASH_MISMATCH, "at_hash mismatch");
    }
    {
        oidc_oauth_client *native = mk(issuer, ca, "native-app", NULL, NULL, 0);
        r = req_new(native, OIDC_OP_VALIDATE_ID_TOKEN);
        req_set(r, OIDC_PARAM_ID_TOKEN, fl.id_token);
        sent_once(r, m, OIDC_RESULT_AUDIENCE_MISMATCH, "id token for another client");
        oidc_oauth_client_free(native);
    }
    r = req_new(web, OIDC_OP_VALIDATE_ID_TOKEN);
    req_set(r, OIDC_PARAM_ID_TOKEN, "a.b");
    sent_once(r, m, OIDC_RESULT_TOKEN_MALFORMED, "malformed id token");
    r = req_new(web, OIDC_OP_VALIDATE_ID_TOKEN);
    sent_once(r, m, OIDC_RESULT_INVALID_ARGUMENT, "no ID_TOKEN");
    TEST_END();

    TEST_BEGIN("userinfo and a resource: claims, subject mismatch, bad token [%s]", M);
    r = req_new(web, OIDC_OP_USERINFO);
    req_set(r, OIDC_PARAM_ACCESS_TOKEN, fl.at);
    req_set(r, OIDC_PARAM_EXPECTED_SUB, "user-1");
    o = sent(r, m, OIDC_RESULT_OK, "userinfo");
    CHECK(strstr(resp_json(&o), "user-1@liboidc.test") != NULL);
    CHECK(strcmp(field_s(&o, OIDC_FIELD_SUB), "user-1") == 0);
    outcome_free(&o);
    req_set(r, OIDC_PARAM_EXPECTED_SUB, "user-2");
    o = sent(r, m, OIDC_RESULT_SUBJECT_MISMATCH, "userinfo sub");
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(web, OIDC_OP_USERINFO);
    req_set(r, OIDC_PARAM_ACCESS_TOKEN, "bogus-access-token");
    o = sent(r, m, OIDC_RESULT_INVALID_TOKEN, "userinfo bad token");
    CHECKF(o.http_status == 401 || (o.details && strstr(o.details, "\"status\":401")), "status 401 (%u, %s)", o.http_status,
           o.details ? o.details : "-");
    outcome_free(&o);
    oidc_oauth_request_free(r);
    {
        char url[512];
        snprintf(url, sizeof url, "%s/me", issuer);
        r = req_new(web, OIDC_OP_RESOURCE);
        req_set(r, OIDC_PARAM_URL, url);
        req_set(r, OIDC_PARAM_ACCESS_TOKEN, fl.at);
        req_set(r, OIDC_PARAM_TOKEN_TYPE, "Bearer");
        o = sent(r, m, OIDC_RESULT_OK, "resource /me");
        CHECKF(field_i(&o, OIDC_FIELD_HTTP_STATUS) == 200, "status %lld", (long long)field_i(&o, OIDC_FIELD_HTTP_STATUS));
        CHECK(strstr(resp_json(&o), "\"sub\":\"user-1\"") != NULL);
        outcome_free(&o);
        req_set(r, OIDC_PARAM_ACCESS_TOKEN, "bogus-access-token");
        o = sent(r, m, OIDC_RESULT_OK, "resource /me with a bogus token: any status is a success of the call");
        CHECKF(field_i(&o, OIDC_FIELD_HTTP_STATUS) == 401, "status %lld", (long long)field_i(&o, OIDC_FIELD_HTTP_STATUS));
        CHECKF(field_s(&o, OIDC_FIELD_WWW_AUTHENTICATE)[0] != 0, "WWW-Authenticate");
        outcome_free(&o);
        oidc_oauth_request_free(r);
    }
    TEST_END();

    TEST_BEGIN("introspection (JSON, RFC 9701), revocation [%s]", M);
    r = req_new(web, OIDC_OP_INTROSPECT);
    req_set(r, OIDC_PARAM_TOKEN, fl.at);
    req_set(r, OIDC_PARAM_TOKEN_TYPE_HINT, "access_token");
    o = sent(r, m, OIDC_RESULT_OK, "introspect");
    CHECKF(strstr(resp_json(&o), "\"active\":true") && strcmp(field_s(&o, OIDC_FIELD_SUB), "user-1") == 0, "introspection: %s",
           resp_json(&o));
    CHECK(field_i(&o, OIDC_FIELD_ACTIVE) == 1);
    outcome_free(&o);
    req_int(r, OIDC_PARAM_SIGNED_RESPONSE, 1);
    o = sent(r, m, OIDC_RESULT_OK, "introspect signed");
    CHECK(field_i(&o, OIDC_FIELD_ACTIVE) == 1 && strstr(resp_json(&o), "\"active\":true") != NULL);
    outcome_free(&o);
    {
        oidc_error *err = NULL;
        CHECK_REFUSED(oidc_oauth_request_set_int(r, OIDC_PARAM_SIGNED_RESPONSE, 8, &err), err, OIDC_RESULT_INVALID_ARGUMENT, NULL,
                      "SIGNED_RESPONSE 8");
    }
    oidc_oauth_request_free(r);
    r = req_new(web, OIDC_OP_REVOKE);
    req_set(r, OIDC_PARAM_TOKEN, fl.at);
    req_set(r, OIDC_PARAM_TOKEN_TYPE_HINT, "access_token");
    o = sent(r, m, OIDC_RESULT_OK, "revoke access token");
    CHECKF(strcmp(resp_json(&o), "{}") == 0, "revocation JSON %s", resp_json(&o));
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(web, OIDC_OP_INTROSPECT);
    req_set(r, OIDC_PARAM_TOKEN, fl.at);
    o = sent(r, m, OIDC_RESULT_OK, "introspect revoked");
    CHECK(field_i(&o, OIDC_FIELD_ACTIVE) == 0 && strstr(resp_json(&o), "\"active\":false") != NULL);
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(web, OIDC_OP_REVOKE);
    req_set(r, OIDC_PARAM_TOKEN, fl.rt);
    req_set(r, OIDC_PARAM_TOKEN_TYPE_HINT, "refresh_token");
    sent_once(r, m, OIDC_RESULT_OK, "revoke refresh token");
    {
        oidc_oauth_client *bad = mk(issuer, ca, "web-app", "wrong-secret-value", NULL, 0);
        r = req_new(bad, OIDC_OP_INTROSPECT);
        req_set(r, OIDC_PARAM_TOKEN, fl.at);
        sent_once(r, m, OIDC_RESULT_INVALID_CLIENT, "introspect wrong secret");
        r = req_new(bad, OIDC_OP_REVOKE);
        req_set(r, OIDC_PARAM_TOKEN, fl.rt);
        sent_once(r, m, OIDC_RESULT_INVALID_CLIENT, "revoke wrong secret");
        oidc_oauth_client_free(bad);
    }
    TEST_END();

    TEST_BEGIN("introspection of an opaque client-credentials token by another client [%s]", M);
    {
        oidc_oauth_client *svc = mk(issuer, ca, "svc-basic", "svc-basic-secret", NULL, 0);
        oidc_oauth_client *rs = mk(issuer, ca, "svc-post", "svc-post-secret", NULL, 0);
        const char *resources[2] = {"urn:liboidc:opaque", "urn:liboidc:rs256"};
        for (int i = 0; i < 2; i++) {
            r = req_new(svc, OIDC_OP_CLIENT_CREDENTIALS);
            req_add(r, OIDC_PARAM_SCOPE, "read");
            req_add(r, OIDC_PARAM_RESOURCE, resources[i]);
            outcome t = sent(r, m, OIDC_RESULT_OK, i ? "client credentials (JWT)" : "client credentials (opaque)");
            oidc_oauth_request_free(r);
            if (t.resp) {
                r = req_new(rs, OIDC_OP_INTROSPECT);
                req_set(r, OIDC_PARAM_TOKEN, field_s(&t, OIDC_FIELD_ACCESS_TOKEN));
                if (i == 0) {
                    o = sent(r, m, OIDC_RESULT_OK, "introspect opaque");
                    CHECK(strstr(resp_json(&o), "\"aud\":\"urn:liboidc:opaque\"") != NULL);
                    CHECK(strcmp(field_s(&o, OIDC_FIELD_CLIENT_ID), "svc-basic") == 0);
                    outcome_free(&o);
                } else {
                    o = sent(r, m, OIDC_RESULT_UNSUPPORTED_TOKEN_TYPE, "JWT access tokens are not introspectable at oidc-provider");
                    outcome_free(&o);
                }
                oidc_oauth_request_free(r);
            }
            outcome_free(&t);
        }
        oidc_oauth_client_free(svc);
        oidc_oauth_client_free(rs);
    }
    TEST_END();

    TEST_BEGIN("URLs: authorization (options, PAR form), PAR, end session [%s]", M);
    const char *challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; /* RFC 7636 appendix B */
    oidc_oauth_request *ar = req_new(web, OIDC_OP_AUTHORIZATION_URL);
    req_set(ar, OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb");
    req_add(ar, OIDC_PARAM_SCOPE, "openid");
    req_add(ar, OIDC_PARAM_SCOPE, "email");
    req_set(ar, OIDC_PARAM_CODE_CHALLENGE, challenge);
    req_param(ar, "prompt", "login");
    req_add(ar, OIDC_PARAM_RESOURCE, "urn:liboidc:es256");
    o = sent(ar, m, OIDC_RESULT_OK, "authorization url");
    {
        const char *u = field_s(&o, OIDC_FIELD_URL);
        CHECKF(strstr(u, "/auth?") && strstr(u, "client_id=web-app") && strstr(u, "response_type=code") &&
                   strstr(u, "redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb"),
               "url: %s", u);
        CHECKF(strstr(u, "code_challenge_method=S256") && strstr(u, "prompt=login") && strstr(u, "resource=urn%3Aliboidc%3Aes256") &&
                   strstr(u, challenge),
               "url params: %s", u);
        CHECK(field_s(&o, OIDC_FIELD_STATE)[0] && field_s(&o, OIDC_FIELD_NONCE)[0]);
        CHECKF(field_s(&o, OIDC_FIELD_CODE_VERIFIER)[0] == 0, "a given challenge: no verifier of liboidc's");
    }
    outcome_free(&o);
    oidc_oauth_request_free(ar);
    {
        /* a generated PKCE pair: the verifier in the response, never in the URL */
        oidc_oauth_request *g = req_new(web, OIDC_OP_AUTHORIZATION_URL);
        req_set(g, OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb");
        outcome gu = sent(g, m, OIDC_RESULT_OK, "authorization url (generated PKCE)");
        const char *v = field_s(&gu, OIDC_FIELD_CODE_VERIFIER), *c = field_s(&gu, OIDC_FIELD_CODE_CHALLENGE);
        CHECK(strlen(v) == 43 && strlen(c) == 43);
        CHECK(strstr(field_s(&gu, OIDC_FIELD_URL), v) == NULL && strstr(field_s(&gu, OIDC_FIELD_URL), c) != NULL);
        CHECK(strstr(resp_json(&gu), "\"code_challenge_method\":\"S256\"") != NULL);
        outcome_free(&gu);
        oidc_oauth_request_free(g);
    }
    {
        oidc_oauth_request *bad = req_new(web, OIDC_OP_AUTHORIZATION_URL);
        refused_by_setter_or_send(bad, OIDC_PARAM_CODE_CHALLENGE, "plain", m, "bad challenge");
        oidc_oauth_request_free(bad);
        bad = req_new(web, OIDC_OP_AUTHORIZATION_URL);
        oidc_error *err = NULL;
        CHECK_REFUSED(oidc_oauth_request_add_param(bad, S("code_challenge_method"), S("plain"), &err), err, OIDC_RESULT_INVALID_ARGUMENT,
                      NULL, "add_param(code_challenge_method)");
        CHECK_REFUSED(oidc_oauth_request_add_param(bad, S("redirect_uri"), S("x"), &err), err, OIDC_RESULT_INVALID_ARGUMENT,
                      "OIDC_PARAM_REDIRECT_URI", "add_param(redirect_uri)");
        CHECK_REFUSED(oidc_oauth_request_set_string(bad, OIDC_PARAM_TOKEN, S("x"), &err), err, OIDC_RESULT_INVALID_ARGUMENT,
                      "OIDC_PARAM_TOKEN", "TOKEN on an authorization URL");
        oidc_oauth_request_free(bad);
    }
    /* PAR: the same parameters pushed */
    oidc_oauth_request *par = req_new(web, OIDC_OP_PUSHED_AUTHORIZATION);
    req_set(par, OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb");
    req_add(par, OIDC_PARAM_SCOPE, "openid");
    req_add(par, OIDC_PARAM_SCOPE, "email");
    req_set(par, OIDC_PARAM_CODE_CHALLENGE, challenge);
    req_param(par, "prompt", "login");
    req_add(par, OIDC_PARAM_RESOURCE, "urn:liboidc:es256");
    o = sent(par, m, OIDC_RESULT_OK, "PAR");
    if (o.resp) {
        const char *uri = field_s(&o, OIDC_FIELD_REQUEST_URI);
        CHECKF(uri[0] && field_i(&o, OIDC_FIELD_EXPIRES_IN) > 0, "PAR response: %s", resp_json(&o));
        oidc_oauth_request *pu = req_new(web, OIDC_OP_AUTHORIZATION_URL);
        req_set(pu, OIDC_PARAM_REQUEST_URI, uri);
        outcome u2 = sent(pu, m, OIDC_RESULT_OK, "PAR authorization url");
        CHECKF(strstr(field_s(&u2, OIDC_FIELD_URL), "client_id=web-app") &&
                   strstr(field_s(&u2, OIDC_FIELD_URL), "request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A") &&
                   strstr(field_s(&u2, OIDC_FIELD_URL), "scope") == NULL,
               "PAR url: %s", field_s(&u2, OIDC_FIELD_URL));
        outcome_free(&u2);
        oidc_oauth_request_free(pu);
    }
    outcome_free(&o);
    oidc_oauth_request_free(par);
    /* a PAR carries no request_uri (RFC 9126 §2.1): refused at the setter or the send */
    par = req_new(web, OIDC_OP_PUSHED_AUTHORIZATION);
    req_set(par, OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb");
    refused_by_setter_or_send(par, OIDC_PARAM_REQUEST_URI, "urn:x", m, "PAR with REQUEST_URI");
    oidc_oauth_request_free(par);
    par = req_new(web, OIDC_OP_PUSHED_AUTHORIZATION);
    req_set(par, OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/unregistered");
    sent_once(par, m, OIDC_RESULT_INVALID_REQUEST, "PAR bad redirect_uri");
    /* without PKCE the server refuses (oidc-provider requires it) */
    par = req_new(web, OIDC_OP_PUSHED_AUTHORIZATION);
    req_set(par, OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb");
    req_add(par, OIDC_PARAM_SCOPE, "openid");
    o = sent(par, m, OIDC_RESULT_OK, "PAR, PKCE generated by liboidc");
    CHECK(field_s(&o, OIDC_FIELD_CODE_VERIFIER)[0] && field_s(&o, OIDC_FIELD_STATE)[0] && field_s(&o, OIDC_FIELD_REQUEST_URI)[0]);
    outcome_free(&o);
    oidc_oauth_request_free(par);
    r = req_new(web, OIDC_OP_END_SESSION_URL);
    req_set(r, OIDC_PARAM_ID_TOKEN_HINT, fl.id_token);
    req_set(r, OIDC_PARAM_POST_LOGOUT_REDIRECT_URI, "http://127.0.0.1/logout-cb");
    req_set(r, OIDC_PARAM_STATE, "bye");
    o = sent(r, m, OIDC_RESULT_OK, "end session url");
    {
        char want[512];
        snprintf(want, sizeof want, "%s/session/end?id_token_hint=", issuer);
        const char *u = field_s(&o, OIDC_FIELD_URL);
        CHECKF(strncmp(u, want, strlen(want)) == 0 && strstr(u, "post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%2Flogout-cb") &&
                   strstr(u, "state=bye") && strstr(u, "client_id=web-app"),
               "end session url: %s", u);
    }
    outcome_free(&o);
    oidc_oauth_request_free(r);
    r = req_new(web, OIDC_OP_ENDPOINT);
    req_set(r, OIDC_PARAM_ENDPOINT_NAME, "token_endpoint");
    o = sent(r, m, OIDC_RESULT_OK, "endpoint");
    {
        char want[512];
        snprintf(want, sizeof want, "%s/token", issuer);
        CHECKF(strcmp(field_s(&o, OIDC_FIELD_URL), want) == 0, "token endpoint %s", field_s(&o, OIDC_FIELD_URL));
    }
    outcome_free(&o);
    oidc_oauth_request_free(r);
    TEST_END();

    TEST_BEGIN("dynamic registration (a client without client id); the registered client sends PAR, reads and deletes its registration (RFC 7592) [%s]", M);
    {
        oidc_oauth_client *anon = mk(issuer, ca, NULL, NULL, NULL, 0);
        oidc_oauth_request *reg = req_new(anon, OIDC_OP_REGISTER);
        req_set(reg, OIDC_PARAM_METADATA,
                "{\"redirect_uris\":[\"https://127.0.0.1/cb\"],\"grant_types\":[\"authorization_code\"],"
                "\"response_types\":[\"code\"]}");
        req_param(reg, "client_name", "from C");
        o = sent(reg, m, OIDC_RESULT_OK, "register");
        if (o.resp) {
            char id[128], sec[256], rat[512], uri[512];
            snprintf(id, sizeof id, "%s", field_s(&o, OIDC_FIELD_CLIENT_ID));
            snprintf(sec, sizeof sec, "%s", field_s(&o, OIDC_FIELD_CLIENT_SECRET));
            snprintf(rat, sizeof rat, "%s", field_s(&o, OIDC_FIELD_REGISTRATION_ACCESS_TOKEN));
            snprintf(uri, sizeof uri, "%s", field_s(&o, OIDC_FIELD_REGISTRATION_CLIENT_URI));
            CHECK(id[0] && sec[0]);
            CHECKF(strstr(resp_json(&o), "\"client_name\":\"from C\"") != NULL, "registration echoes metadata: %s", resp_json(&o));
            /* the registered client works */
            oidc_oauth_client *nc = mk(issuer, ca, id, sec, NULL, 0);
            oidc_oauth_request *p = req_new(nc, OIDC_OP_PUSHED_AUTHORIZATION);
            req_set(p, OIDC_PARAM_REDIRECT_URI, "https://127.0.0.1/cb");
            req_add(p, OIDC_PARAM_SCOPE, "openid");
            sent_once(p, m, OIDC_RESULT_OK, "PAR with the registered client");
            if (rat[0] && uri[0]) {
                oidc_oauth_request *rd = req_new(nc, OIDC_OP_REGISTRATION_READ);
                req_set(rd, OIDC_PARAM_REGISTRATION_ACCESS_TOKEN, rat);
                req_set(rd, OIDC_PARAM_REGISTRATION_CLIENT_URI, uri);
                outcome ro = sent(rd, m, OIDC_RESULT_OK, "registration read");
                CHECK(strcmp(field_s(&ro, OIDC_FIELD_CLIENT_ID), id) == 0);
                outcome_free(&ro);
                oidc_oauth_request_free(rd);
                rd = req_new(nc, OIDC_OP_REGISTRATION_DELETE);
                req_set(rd, OIDC_PARAM_REGISTRATION_ACCESS_TOKEN, rat);
                req_set(rd, OIDC_PARAM_REGISTRATION_CLIENT_URI, uri);
                sent_once(rd, m, OIDC_RESULT_OK, "registration delete");
                /* deleted: the client is gone */
                rd = req_new(nc, OIDC_OP_REGISTRATION_READ);
                req_set(rd, OIDC_PARAM_REGISTRATION_ACCESS_TOKEN, rat);
                req_set(rd, OIDC_PARAM_REGISTRATION_CLIENT_URI, uri);
                outcome gone = send_mode(rd, NULL, m);
                CHECKF(gone.rc != OIDC_RESULT_OK, "read after delete: %s", rc_name(gone.rc));
                outcome_free(&gone);
                oidc_oauth_request_free(rd);
            } else {
                CHECKF(0, "no registration_access_token / registration_client_uri: %s", resp_json(&o));
            }
            oidc_oauth_client_free(nc);
        }
        outcome_free(&o);
        oidc_oauth_request_free(reg);
        reg = req_new(anon, OIDC_OP_REGISTER);
        req_set(reg, OIDC_PARAM_METADATA, "{\"redirect_uris\":[\"https://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"bogus\"}");
        sent_once(reg, m, OIDC_RESULT_INVALID_CLIENT_METADATA, "register bad metadata");
        reg = req_new(anon, OIDC_OP_REGISTER);
        {
            oidc_error *err = NULL;
            CHECK_REFUSED(oidc_oauth_request_set_string(reg, OIDC_PARAM_METADATA, S("[1]"), &err), err, OIDC_RESULT_INVALID_ARGUMENT,
                          "JSON object", "register non-object");
        }
        sent_once(reg, m, OIDC_RESULT_INVALID_ARGUMENT, "register without METADATA");
        {
            oidc_oauth_request *x = NULL;
            oidc_error *err = NULL;
            CHECK_REFUSED(oidc_oauth_request_new(anon, OIDC_OP_CLIENT_CREDENTIALS, &x, &err), err, OIDC_RESULT_INVALID_CONFIG,
                          "OIDC_OP_REGISTER", "a client without client id sends only REGISTER");
            CHECK(x == NULL);
        }
        oidc_oauth_client_free(anon);
    }
    TEST_END();
    oidc_oauth_client_free(web);
}

/* The local operations answer the same on both paths (same input, same output). */
static void same_output_both_paths(void) {
    const char *issuer = env("OIDC_TEST_ISSUER"), *ca = env("OIDC_TEST_CA_FILE");
    TEST_BEGIN("local operations: the same answer from oidc_oauth_send and oidc_oauth_send_async");
    oidc_oauth_client *web = mk(issuer, ca, "web-app", "web-app-secret", NULL, 0);
    oidc_oauth_request *r[3];
    r[0] = req_new(web, OIDC_OP_AUTHORIZATION_URL);
    req_set(r[0], OIDC_PARAM_REDIRECT_URI, "http://127.0.0.1/cb");
    req_add(r[0], OIDC_PARAM_SCOPE, "openid");
    req_set(r[0], OIDC_PARAM_STATE, "s-1");
    req_set(r[0], OIDC_PARAM_NONCE, "n-1");
    req_set(r[0], OIDC_PARAM_CODE_CHALLENGE, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    r[1] = req_new(web, OIDC_OP_END_SESSION_URL);
    req_set(r[1], OIDC_PARAM_STATE, "bye");
    r[2] = req_new(web, OIDC_OP_ENDPOINT);
    req_set(r[2], OIDC_PARAM_ENDPOINT_NAME, "token_endpoint");
    for (int i = 0; i < 3; i++) {
        outcome a = send_mode(r[i], NULL, BLOCKING), b = send_mode(r[i], NULL, ASYNC);
        expect_outcome(&a, OIDC_RESULT_OK, "local operation");
        expect_outcome(&b, OIDC_RESULT_OK, "local operation");
        CHECKF(strcmp(resp_json(&a), resp_json(&b)) == 0, "#%d: %s vs %s", i, resp_json(&a), resp_json(&b));
        CHECK(oidc_oauth_response_operation(a.resp) == oidc_oauth_response_operation(b.resp));
        outcome_free(&a);
        outcome_free(&b);
        oidc_oauth_request_free(r[i]);
    }
    oidc_oauth_client_free(web);
    TEST_END();
}

static void misuse(void) {
    const char *issuer = env("OIDC_TEST_ISSUER"), *ca = env("OIDC_TEST_CA_FILE");
    TEST_BEGIN("misuse: NULL and invalid UTF-8 arguments, empty and missing values, both paths");
    oidc_oauth_client *c = mk(issuer, ca, "web-app", "web-app-secret", NULL, 0);
    const char bad_utf8[] = {'a', (char)0xff, 'b'};
    oidc_error *err = NULL;
    oidc_oauth_request *r = NULL;
    CHECK_REFUSED(oidc_oauth_request_new(NULL, OIDC_OP_INTROSPECT, &r, &err), err, OIDC_RESULT_NULL_PARAMETER, NULL, "request_new NULL client");
    CHECK_REFUSED(oidc_oauth_request_new(c, OIDC_OP_INTROSPECT, NULL, &err), err, OIDC_RESULT_NULL_PARAMETER, NULL, "request_new NULL out");
    CHECK_REFUSED(oidc_oauth_request_new(c, 999, &r, &err), err, OIDC_RESULT_INVALID_ARGUMENT, NULL, "request_new unknown op");
    r = req_new(c, OIDC_OP_INTROSPECT);
    CHECK_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN, NULL, 0, &err), err, OIDC_RESULT_INVALID_ARGUMENT, NULL, "empty TOKEN");
    CHECK_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN, NULL, 5, &err), err, OIDC_RESULT_NULL_PARAMETER, NULL, "NULL TOKEN");
    CHECK_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN, bad_utf8, 3, &err), err, OIDC_RESULT_INVALID_UTF8, NULL,
                  "TOKEN bad UTF-8");
    CHECK_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN_TYPE_HINT, bad_utf8, 3, &err), err, OIDC_RESULT_INVALID_UTF8, NULL,
                  "TOKEN_TYPE_HINT bad UTF-8");
    CHECK_REFUSED(oidc_oauth_request_add_param(r, bad_utf8, 3, S("v"), &err), err, OIDC_RESULT_INVALID_UTF8, NULL, "param name bad UTF-8");
    CHECK_REFUSED(oidc_oauth_request_add_param(r, S("n"), bad_utf8, 3, &err), err, OIDC_RESULT_INVALID_UTF8, NULL, "param value bad UTF-8");
    CHECK_REFUSED(oidc_oauth_request_add_param(r, NULL, 3, S("v"), &err), err, OIDC_RESULT_NULL_PARAMETER, NULL, "param name NULL");
    for (int m = BLOCKING; m <= ASYNC; m++) {
        outcome o = send_mode(r, NULL, (enum send_mode)m);
        expect_outcome(&o, OIDC_RESULT_INVALID_ARGUMENT, "introspect without TOKEN");
        CHECKF(o.message && strstr(o.message, "OIDC_PARAM_TOKEN"), "message: %s", o.message ? o.message : "-");
        outcome_free(&o);
    }
    oidc_oauth_response *resp = NULL;
    CHECK_REFUSED(oidc_oauth_send(NULL, NULL, &resp, &err), err, OIDC_RESULT_NULL_PARAMETER, NULL, "send NULL request");
    CHECK_REFUSED(oidc_oauth_send(r, NULL, NULL, &err), err, OIDC_RESULT_NULL_PARAMETER, NULL, "send NULL out");
    CHECK_REFUSED(oidc_oauth_send_async(NULL, NULL, on_response, NULL, &err), err, OIDC_RESULT_NULL_PARAMETER, NULL, "send_async NULL request");
    CHECK_REFUSED(oidc_oauth_send_async(r, NULL, NULL, NULL, &err), err, OIDC_RESULT_NULL_PARAMETER, NULL, "send_async NULL callback");
    CHECK(resp == NULL);
    /* err_out NULL is allowed */
    CHECK_RC(oidc_oauth_send(r, NULL, &resp, NULL), OIDC_RESULT_INVALID_ARGUMENT);
    CHECK(oidc_oauth_response_json(NULL, NULL) == NULL && oidc_oauth_response_string(NULL, OIDC_FIELD_URL) == NULL);
    CHECK(oidc_oauth_response_int(NULL, OIDC_FIELD_EXPIRES_IN) == -1 && oidc_oauth_response_operation(NULL) == 0);
    oidc_oauth_response_free(NULL);
    oidc_oauth_request_free(NULL);
    oidc_oauth_request_free(r);
    oidc_string_free(NULL);
    oidc_oauth_client_free(c);
    TEST_END();
}

/* ---- faults (the fixture issuer) ------------------------------------------------------------- */

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
static void faults(enum send_mode m) {
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
    double limit = getenv("OIDC_TEST_SLOW") ? 20.0 : 2.0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TEST_BEGIN("faults: %s: introspect, revoke, userinfo, PAR, register [%s]", cases[i].what, MODE_NAME[m]);
        const char *u = cases[i].url;
        const char *eps[] = {"introspection_endpoint", u, "revocation_endpoint", u, "userinfo_endpoint", u,
                             "pushed_authorization_request_endpoint", u, "registration_endpoint", u, NULL};
        /* a short timeout only where the server hangs: no other case races the clock */
        unsigned ms = cases[i].want == OIDC_RESULT_TIMEOUT ? 300 : 0;
        oidc_oauth_client *c = mk(issuer, ca, "rp", "fault-client-secret", eps, ms);
        oidc_oauth_client *anon = mk(issuer, ca, NULL, NULL, eps, ms);
        struct {
            const char *label;
            oidc_oauth_client *client;
            oidc_operation op;
            oidc_param p;
            const char *v;
            oidc_result want;
        } ops[] = {
            {"introspect", c, OIDC_OP_INTROSPECT, OIDC_PARAM_TOKEN, "fault-token-value", cases[i].want},
            {"revoke", c, OIDC_OP_REVOKE, OIDC_PARAM_TOKEN, "fault-token-value", cases[i].want_revoke},
            {"userinfo", c, OIDC_OP_USERINFO, OIDC_PARAM_ACCESS_TOKEN, "fault-token-value", cases[i].want},
            {"PAR", c, OIDC_OP_PUSHED_AUTHORIZATION, OIDC_PARAM_REDIRECT_URI, "https://rp/cb", cases[i].want},
            {"register", anon, OIDC_OP_REGISTER, OIDC_PARAM_INITIAL_ACCESS_TOKEN, "fault-token-value", cases[i].want},
        };
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            char what[128];
            snprintf(what, sizeof what, "%s: %s", cases[i].what, ops[k].label);
            oidc_oauth_request *r = req_new(ops[k].client, ops[k].op);
            req_set(r, ops[k].p, ops[k].v);
            if (ops[k].op == OIDC_OP_REGISTER) req_set(r, OIDC_PARAM_METADATA, "{\"redirect_uris\":[\"https://rp/cb\"]}");
            outcome o = sent(r, m, ops[k].want, what);
            CHECKF(o.secs < limit, "%s took %.2fs", what, o.secs);
            outcome_free(&o);
            oidc_oauth_request_free(r);
        }
        oidc_oauth_client_free(c);
        oidc_oauth_client_free(anon);
        TEST_END();
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "prepare") == 0) return prepare();
    if (oidc_version_number() != OIDC_VERSION_NUMBER) {
        fprintf(stderr, "library/header version mismatch\n");
        return 2;
    }
    secrets[n_secrets++] = "web-app-secret";
    secrets[n_secrets++] = "wrong-secret-value";
    secrets[n_secrets++] = "fault-client-secret";
    secrets[n_secrets++] = "fault-token-value";
    for (int m = BLOCKING; m <= ASYNC; m++) {
        flow fl = flow_env((enum send_mode)m);
        secrets[n_secrets++] = fl.at;
        secrets[n_secrets++] = fl.rt;
    }
    for (int m = BLOCKING; m <= ASYNC; m++) real_idp((enum send_mode)m);
    same_output_both_paths();
    misuse();
    for (int m = BLOCKING; m <= ASYNC; m++) faults((enum send_mode)m);
    CHECK_RC(oidc_async_shutdown(30000, NULL), OIDC_RESULT_OK);
    return harness_finish();
}
