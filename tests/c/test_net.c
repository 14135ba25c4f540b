/* liboidc C ABI tests of the HTTP proxy and mTLS client certificates, against real servers:
 * the IdP (tests/idp/server.mjs, features.mTLS on) and tinyproxy (Debian), started by run.sh.
 *
 * Environment (tests/c/run.sh sets all of them):
 *   OIDC_TEST_ISSUER, OIDC_TEST_CA_FILE   the IdP and its test CA
 *   OIDC_TEST_IDP_DIR                      the IdP's work dir (mtls-{client,other,self}.{pem,key})
 *   OIDC_TEST_PROXY, OIDC_TEST_PROXY_LOG   an open tinyproxy (http://127.0.0.1:PORT) and its log
 *   OIDC_TEST_AUTH_PROXY                   a tinyproxy demanding user "proxyuser" password
 *                                          "pr0xyPass7f3e" (http://127.0.0.1:PORT, no credentials)
 *   OIDC_TEST_SLOW                         set under valgrind: longer timeouts
 * Without them, the program prints a skip line and exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "harness.h"

#define S(x) (x), strlen(x)

static const char *ISSUER, *CA, *IDP_DIR, *PROXY, *PROXY_LOG, *AUTH_PROXY;
static const char *const PASS = "pr0xyPass7f3e";

static char *read_file(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

/* CONNECT lines in the proxy's log so far. */
static int proxy_connects(void) {
    FILE *f = fopen(PROXY_LOG, "r");
    if (!f) return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "): CONNECT ")) n++;
    fclose(f);
    return n;
}

static void slow_timeouts_oauth(oidc_oauth_builder *b, oidc_error **err) {
    if (getenv("OIDC_TEST_SLOW")) CHECK_RC_ERR(oidc_oauth_builder_set_timeouts_ms(b, 30000, 60000, err), OIDC_RESULT_OK, *err);
}

/* A client-credentials token for `id`: returns the result and the error's message (caller frees
 * both), the access token in *token (caller frees) on OK. */
static oidc_result token(oidc_oauth_client *c, const char *resource, char **token, char **message) {
    oidc_oauth_request *r = NULL;
    oidc_oauth_response *resp = NULL;
    oidc_error *err = NULL;
    *token = NULL;
    *message = NULL;
    oidc_result rc = oidc_oauth_request_new(c, OIDC_OP_CLIENT_CREDENTIALS, &r, &err);
    if (rc == OIDC_RESULT_OK && resource) rc = oidc_oauth_request_add_string(r, OIDC_PARAM_RESOURCE, S(resource), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_send(r, NULL, &resp, &err);
    if (rc == OIDC_RESULT_OK) {
        const char *t = oidc_oauth_response_string(resp, OIDC_FIELD_ACCESS_TOKEN);
        *token = t ? strdup(t) : NULL;
    } else if (err) {
        *message = strdup(oidc_error_message(err));
    }
    oidc_oauth_response_free(resp);
    oidc_oauth_request_free(r);
    oidc_error_free(err);
    return rc;
}

static oidc_oauth_client *client(const char *id, const char *method, const char *proxy, const char *cert, const char *key) {
    oidc_oauth_builder *b = NULL;
    oidc_oauth_client *c = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_oauth_builder_new(&b, &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_oauth_builder_set_issuer(b, S(ISSUER), &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_oauth_builder_set_client_id(b, S(id), &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_oauth_builder_set_ca_file(b, S(CA), &err), OIDC_RESULT_OK, err);
    if (strcmp(id, "svc-basic") == 0) CHECK_RC_ERR(oidc_oauth_builder_set_client_secret(b, S("svc-basic-secret"), &err), OIDC_RESULT_OK, err);
    if (method) CHECK_RC_ERR(oidc_oauth_builder_set_auth_method(b, S(method), &err), OIDC_RESULT_OK, err);
    if (proxy) CHECK_RC_ERR(oidc_oauth_builder_set_proxy(b, S(proxy), &err), OIDC_RESULT_OK, err);
    if (cert) CHECK_RC_ERR(oidc_oauth_builder_set_client_cert(b, S(cert), S(key), &err), OIDC_RESULT_OK, err);
    slow_timeouts_oauth(b, &err);
    CHECK_RC_ERR(oidc_oauth_builder_build(b, &c, &err), OIDC_RESULT_OK, err);
    oidc_error_free(err);
    return c;
}

/* A validator of the test issuer whose fetches go through the open proxy (`from_env`: by
 * opting in to HTTPS_PROXY, else set explicitly) validates `tok`; the proxy's log must show a
 * CONNECT made meanwhile. */
static void validate_through_proxy(const char *tok, int from_env) {
    int before = proxy_connects();
    oidc_validator_builder *vb = NULL;
    oidc_validator *v = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_validator_builder_new(&vb, &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_validator_builder_set_issuer(vb, S(ISSUER), &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_validator_builder_add_audience(vb, S("urn:liboidc:es256"), &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_validator_builder_set_ca_file(vb, S(CA), &err), OIDC_RESULT_OK, err);
    if (from_env)
        CHECK_RC_ERR(oidc_validator_builder_set_proxy_from_env(vb, 1, &err), OIDC_RESULT_OK, err);
    else
        CHECK_RC_ERR(oidc_validator_builder_set_proxy(vb, S(PROXY), &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_validator_builder_build(vb, &v, &err), OIDC_RESULT_OK, err);
    if (tok && v) {
        char *claims = NULL;
        CHECK_RC_ERR(oidc_validate(v, S(tok), &claims, NULL, &err), OIDC_RESULT_OK, err);
        oidc_string_free(claims);
        CHECKF(proxy_connects() > before, "the proxy saw no CONNECT (%d before, %d after)", before, proxy_connects());
    }
    oidc_error_free(err);
    oidc_validator_free(v);
}

static void test_proxy_token_and_validation(void) {
    TEST_BEGIN("a token request and discovery+JWKS through a proxy with credentials");
    char url[512];
    snprintf(url, sizeof url, "http://proxyuser:%s@%s", PASS, AUTH_PROXY + strlen("http://"));
    oidc_oauth_client *c = client("svc-basic", NULL, url, NULL, NULL);
    char *tok = NULL, *msg = NULL;
    oidc_result rc = token(c, "urn:liboidc:es256", &tok, &msg);
    CHECKF(rc == OIDC_RESULT_OK && tok, "token through the proxy: %s", msg ? msg : "?");
    free(msg);
    /* the validator through the open proxy: its log proves the CONNECTs */
    validate_through_proxy(tok, 0);
    free(tok);
    oidc_oauth_client_free(c);
    TEST_END();
}

static void test_proxy_refusals(void) {
    TEST_BEGIN("a proxy that wants credentials: OIDC_RESULT_PROXY naming it, no credentials in the message");
    char url[512];
    snprintf(url, sizeof url, "http://proxyuser:wrong-%s@%s", PASS, AUTH_PROXY + strlen("http://"));
    const char *urls[2] = {AUTH_PROXY, url};
    for (int i = 0; i < 2; i++) {
        oidc_oauth_client *c = client("svc-basic", NULL, urls[i], NULL, NULL);
        char *tok = NULL, *msg = NULL;
        oidc_result rc = token(c, NULL, &tok, &msg);
        CHECK_RC(rc, OIDC_RESULT_PROXY);
        CHECKF(msg && strstr(msg, AUTH_PROXY) && strstr(msg, "authentication required"), "message: %s", msg ? msg : "(none)");
        CHECKF(msg && !strstr(msg, PASS) && !strstr(msg, "proxyuser"), "credentials in: %s", msg ? msg : "");
        free(tok);
        free(msg);
        oidc_oauth_client_free(c);
    }
    TEST_END();

    TEST_BEGIN("a malformed proxy URL fails at the setter and at build, without echoing it");
    oidc_oauth_builder *b = NULL;
    oidc_oauth_client *c = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_oauth_builder_new(&b, &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_oauth_builder_set_issuer(b, S(ISSUER), &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_oauth_builder_set_client_id(b, S("svc-basic"), &err), OIDC_RESULT_OK, err);
    CHECK_RC(oidc_oauth_builder_set_proxy(b, S("socks5://u:pr0xyPass7f3e@127.0.0.1:1"), &err), OIDC_RESULT_INVALID_CONFIG);
    CHECKF(err && !strstr(oidc_error_message(err), PASS), "%s", err ? oidc_error_message(err) : "no error");
    oidc_error_free(err);
    err = NULL;
    CHECK_RC(oidc_oauth_builder_build(b, &c, &err), OIDC_RESULT_INVALID_CONFIG);
    oidc_error_free(err);
    oidc_oauth_client_free(c);
    TEST_END();
}

static void test_proxy_env_opt_in(void) {
    TEST_BEGIN("HTTPS_PROXY is ignored by default and used on opt-in; NO_PROXY bypasses it");
    setenv("HTTPS_PROXY", PROXY, 1);
    setenv("ALL_PROXY", PROXY, 1);
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    unsetenv("https_proxy");
    for (int round = 0; round < 3; round++) {
        /* 0: default (direct), 1: opt-in (proxy), 2: opt-in with NO_PROXY=127.0.0.1 (direct) */
        if (round == 2) setenv("NO_PROXY", "localhost,127.0.0.1", 1);
        int before = proxy_connects();
        oidc_oauth_builder *b = NULL;
        oidc_oauth_client *c = NULL;
        oidc_error *err = NULL;
        CHECK_RC_ERR(oidc_oauth_builder_new(&b, &err), OIDC_RESULT_OK, err);
        CHECK_RC_ERR(oidc_oauth_builder_set_issuer(b, S(ISSUER), &err), OIDC_RESULT_OK, err);
        CHECK_RC_ERR(oidc_oauth_builder_set_client_id(b, S("svc-basic"), &err), OIDC_RESULT_OK, err);
        CHECK_RC_ERR(oidc_oauth_builder_set_client_secret(b, S("svc-basic-secret"), &err), OIDC_RESULT_OK, err);
        CHECK_RC_ERR(oidc_oauth_builder_set_ca_file(b, S(CA), &err), OIDC_RESULT_OK, err);
        if (round > 0) CHECK_RC_ERR(oidc_oauth_builder_set_proxy_from_env(b, 1, &err), OIDC_RESULT_OK, err);
        slow_timeouts_oauth(b, &err);
        CHECK_RC_ERR(oidc_oauth_builder_build(b, &c, &err), OIDC_RESULT_OK, err);
        oidc_error_free(err);
        char *tok = NULL, *msg = NULL;
        CHECKF(token(c, NULL, &tok, &msg) == OIDC_RESULT_OK, "round %d: %s", round, msg ? msg : "");
        int used = proxy_connects() - before;
        CHECKF(round == 1 ? used > 0 : used == 0, "round %d: %d CONNECT(s) through the proxy", round, used);
        free(tok);
        free(msg);
        oidc_oauth_client_free(c);
    }
    unsetenv("HTTPS_PROXY");
    unsetenv("ALL_PROXY");
    unsetenv("NO_PROXY");
    TEST_END();
}

static void test_mtls(void) {
    char *cert = read_file(IDP_DIR, "mtls-client.pem"), *key = read_file(IDP_DIR, "mtls-client.key");
    char *other_cert = read_file(IDP_DIR, "mtls-other.pem"), *other_key = read_file(IDP_DIR, "mtls-other.key");
    char *self_cert = read_file(IDP_DIR, "mtls-self.pem"), *self_key = read_file(IDP_DIR, "mtls-self.key");
    TEST_BEGIN("tls_client_auth and self_signed_tls_client_auth give certificate-bound tokens");
    REQUIRE(cert && key && other_cert && other_key && self_cert && self_key, "client certificates in %s", IDP_DIR);
    const char *ids[2][4] = {{"mtls-ca", "tls_client_auth", cert, key}, {"mtls-self", "self_signed_tls_client_auth", self_cert, self_key}};
    for (int i = 0; i < 2; i++) {
        oidc_oauth_client *c = client(ids[i][0], ids[i][1], NULL, ids[i][2], ids[i][3]);
        char *tok = NULL, *msg = NULL;
        oidc_result rc = token(c, "urn:liboidc:es256", &tok, &msg);
        CHECKF(rc == OIDC_RESULT_OK && tok, "%s: %s", ids[i][1], msg ? msg : "");
        /* the cnf member is in the JWT's payload; its value is checked by the Rust tests */
        free(tok);
        free(msg);
        oidc_oauth_client_free(c);
    }
    TEST_END();

    TEST_BEGIN("a wrong client certificate: OIDC_RESULT_INVALID_CLIENT");
    oidc_oauth_client *c = client("mtls-ca", "tls_client_auth", NULL, other_cert, other_key);
    char *tok = NULL, *msg = NULL;
    CHECK_RC(token(c, NULL, &tok, &msg), OIDC_RESULT_INVALID_CLIENT);
    free(tok);
    free(msg);
    oidc_oauth_client_free(c);
    TEST_END();

    TEST_BEGIN("mTLS through the proxy: TLS (with the certificate) stays end to end");
    c = client("mtls-ca", "tls_client_auth", PROXY, cert, key);
    int before = proxy_connects();
    CHECK_RC(token(c, NULL, &tok, &msg), OIDC_RESULT_OK);
    CHECK(proxy_connects() > before);
    free(tok);
    free(msg);
    oidc_oauth_client_free(c);
    TEST_END();

    TEST_BEGIN("a key that does not match its certificate: OIDC_RESULT_CLIENT_CERT at the setter and at build");
    oidc_oauth_builder *b = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_oauth_builder_new(&b, &err), OIDC_RESULT_OK, err);
    CHECK_RC(oidc_oauth_builder_set_client_cert(b, S(cert), S(other_key), &err), OIDC_RESULT_CLIENT_CERT);
    CHECKF(err && strstr(oidc_error_message(err), "does not match"), "%s", err ? oidc_error_message(err) : "no error");
    CHECKF(err && !strstr(oidc_error_message(err), "PRIVATE KEY"), "key material in the message");
    oidc_error_free(err);
    err = NULL;
    CHECK_RC(oidc_oauth_builder_set_client_cert(b, S("not a pem"), S(key), &err), OIDC_RESULT_CLIENT_CERT);
    oidc_error_free(err);
    err = NULL;
    CHECK_RC_ERR(oidc_oauth_builder_set_issuer(b, S(ISSUER), &err), OIDC_RESULT_OK, err);
    CHECK_RC_ERR(oidc_oauth_builder_set_client_id(b, S("mtls-ca"), &err), OIDC_RESULT_OK, err);
    c = NULL;
    CHECK_RC(oidc_oauth_builder_build(b, &c, &err), OIDC_RESULT_CLIENT_CERT);
    oidc_error_free(err);
    oidc_oauth_client_free(c);
    TEST_END();
    free(cert);
    free(key);
    free(other_cert);
    free(other_key);
    free(self_cert);
    free(self_key);
}

/* First in the process (no key cached yet): a validator that opts in to the proxy variables
 * fetches discovery and keys through HTTPS_PROXY. */
static void test_validator_proxy_env(void) {
    TEST_BEGIN("a validator opting in to HTTPS_PROXY fetches discovery and keys through it");
    oidc_oauth_client *c = client("svc-basic", NULL, NULL, NULL, NULL);
    char *tok = NULL, *msg = NULL;
    CHECKF(token(c, "urn:liboidc:es256", &tok, &msg) == OIDC_RESULT_OK && tok, "token: %s", msg ? msg : "?");
    free(msg);
    setenv("HTTPS_PROXY", PROXY, 1);
    unsetenv("https_proxy");
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    validate_through_proxy(tok, 1);
    unsetenv("HTTPS_PROXY");
    CHECK_RC(oidc_validator_builder_set_proxy_from_env(NULL, 1, NULL), OIDC_RESULT_NULL_PARAMETER);
    free(tok);
    oidc_oauth_client_free(c);
    TEST_END();
}

int main(void) {
    ISSUER = getenv("OIDC_TEST_ISSUER");
    CA = getenv("OIDC_TEST_CA_FILE");
    IDP_DIR = getenv("OIDC_TEST_IDP_DIR");
    PROXY = getenv("OIDC_TEST_PROXY");
    PROXY_LOG = getenv("OIDC_TEST_PROXY_LOG");
    AUTH_PROXY = getenv("OIDC_TEST_AUTH_PROXY");
    if (!ISSUER || !CA || !IDP_DIR || !PROXY || !PROXY_LOG || !AUTH_PROXY) {
        printf("# skip: OIDC_TEST_ISSUER/CA_FILE/IDP_DIR/PROXY/PROXY_LOG/AUTH_PROXY not set (run tests/c/run.sh net)\n");
        return harness_finish();
    }
    test_validator_proxy_env();
    test_proxy_token_and_validation();
    test_proxy_refusals();
    test_proxy_env_opt_in();
    test_mtls();
    return harness_finish();
}
