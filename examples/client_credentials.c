/*
 * liboidc: client credentials (RFC 6749 §4.4) through the token cache.
 *
 *   client_credentials ISSUER CLIENT_ID CLIENT_SECRET [RESOURCE] [SCOPE]
 *
 * Trust comes from the system store plus SSL_CERT_FILE / CURL_CA_BUNDLE / REQUESTS_CA_BUNDLE.
 * Asks twice: the second call is served from the client's cache (no second request). Prints the
 * token type, lifetime and scope; the token itself is a secret and is never printed.
 * Exit status: 0 success, 1 the IdP refused, 2 usage/setup.
 */
#include <oidc.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, oidc_error *err, int status) {
    fprintf(stderr, "%s: %s (%s)\n", what, oidc_error_message(err), oidc_result_name(oidc_error_code(err)));
    oidc_error_free(err);
    return status;
}

#define S(x) (x), strlen(x)

int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s ISSUER CLIENT_ID CLIENT_SECRET [RESOURCE] [SCOPE]\n", argv[0]);
        return 2;
    }
    const char *resource = argc > 4 ? argv[4] : "", *scope = argc > 5 ? argv[5] : "";
    oidc_error *err = NULL;
    oidc_oauth_builder *b = NULL;
    if (oidc_oauth_builder_new(&b, &err) != OIDC_RESULT_OK) return fail("builder", err, 2);
    if (oidc_oauth_builder_set_issuer(b, S(argv[1]), &err) != OIDC_RESULT_OK ||
        oidc_oauth_builder_set_client_id(b, S(argv[2]), &err) != OIDC_RESULT_OK ||
        oidc_oauth_builder_set_client_secret(b, S(argv[3]), &err) != OIDC_RESULT_OK) {
        oidc_oauth_builder_free(b);
        return fail("configuration", err, 2);
    }
    oidc_oauth_client *client = NULL;
    if (oidc_oauth_builder_build(b, &client, &err) != OIDC_RESULT_OK) return fail("build", err, 2);

    /* One request, sent twice: scope items one per call, through the client's token cache. */
    oidc_oauth_request *req = NULL;
    if (oidc_oauth_request_new(client, OIDC_OP_CLIENT_CREDENTIALS, &req, &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_set_int(req, OIDC_PARAM_USE_CACHE, 1, &err) != OIDC_RESULT_OK ||
        (*resource && oidc_oauth_request_add_string(req, OIDC_PARAM_RESOURCE, S(resource), &err) != OIDC_RESULT_OK)) {
        oidc_oauth_request_free(req);
        oidc_oauth_client_free(client);
        return fail("request", err, 2);
    }
    for (const char *p = scope; *p;) { /* "read write" -> "read", "write" */
        size_t n = strcspn(p, " ");
        if (n && oidc_oauth_request_add_string(req, OIDC_PARAM_SCOPE, p, n, &err) != OIDC_RESULT_OK) {
            oidc_oauth_request_free(req);
            oidc_oauth_client_free(client);
            return fail("scope", err, 2);
        }
        p += n + (p[n] == ' ');
    }

    int status = 0;
    for (int i = 0; i < 2 && status == 0; i++) {
        oidc_oauth_response *t = NULL;
        if (oidc_oauth_send(req, NULL, &t, &err) != OIDC_RESULT_OK) {
            status = fail("token request", err, 1);
            break;
        }
        const char *granted = oidc_oauth_response_string(t, OIDC_FIELD_SCOPE);
        printf("token_type=%s expires_in=%lld scope=%s\n", oidc_oauth_response_string(t, OIDC_FIELD_TOKEN_TYPE),
               (long long)oidc_oauth_response_int(t, OIDC_FIELD_EXPIRES_IN), granted ? granted : "-");
        oidc_oauth_response_free(t);
    }
    oidc_oauth_request_free(req);
    oidc_oauth_client_free(client);
    return status;
}
