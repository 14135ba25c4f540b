/*
 * liboidc: device authorization grant (RFC 8628) for a public client.
 *
 *   device_flow ISSUER CLIENT_ID [SCOPE] [TIMEOUT_SECONDS]
 *
 * Prints "visit <verification_uri> and enter <user_code>" on stdout, then polls the token
 * endpoint (at the interval the server asks for, 5 s by default, slower on slow_down) until the
 * user approves, declines, the code expires, or TIMEOUT_SECONDS (default 300) pass.
 * Trust: system store plus SSL_CERT_FILE etc. Exit status: 0 approved, 1 not, 2 usage/setup.
 */
#include <oidc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(x) (x), strlen(x)

static int fail(const char *what, oidc_error *err, int status) {
    fprintf(stderr, "%s: %s (%s)\n", what, oidc_error_message(err), oidc_result_name(oidc_error_code(err)));
    oidc_error_free(err);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s ISSUER CLIENT_ID [SCOPE] [TIMEOUT_SECONDS]\n", argv[0]);
        return 2;
    }
    const char *scope = argc > 3 ? argv[3] : "openid";
    unsigned timeout_s = argc > 4 ? (unsigned)atoi(argv[4]) : 300;
    oidc_error *err = NULL;
    oidc_oauth_builder *b = NULL;
    if (oidc_oauth_builder_new(&b, &err) != OIDC_RESULT_OK) return fail("builder", err, 2);
    if (oidc_oauth_builder_set_issuer(b, S(argv[1]), &err) != OIDC_RESULT_OK ||
        oidc_oauth_builder_set_client_id(b, S(argv[2]), &err) != OIDC_RESULT_OK) {
        oidc_oauth_builder_free(b);
        return fail("configuration", err, 2);
    }
    oidc_oauth_client *client = NULL;
    if (oidc_oauth_builder_build(b, &client, &err) != OIDC_RESULT_OK) return fail("build", err, 2);

    /* Start: DEVICE_AUTHORIZATION (scope items one per call). */
    oidc_oauth_request *start = NULL;
    oidc_oauth_response *da = NULL;
    if (oidc_oauth_request_new(client, OIDC_OP_DEVICE_AUTHORIZATION, &start, &err) != OIDC_RESULT_OK) {
        oidc_oauth_client_free(client);
        return fail("request", err, 2);
    }
    for (const char *p = scope; *p;) {
        size_t n = strcspn(p, " ");
        if (n && oidc_oauth_request_add_string(start, OIDC_PARAM_SCOPE, p, n, &err) != OIDC_RESULT_OK) {
            oidc_oauth_request_free(start);
            oidc_oauth_client_free(client);
            return fail("scope", err, 2);
        }
        p += n + (p[n] == ' ');
    }
    oidc_result rc = oidc_oauth_send(start, NULL, &da, &err);
    oidc_oauth_request_free(start);
    if (rc != OIDC_RESULT_OK) {
        oidc_oauth_client_free(client);
        return fail("device authorization", err, 1);
    }
    printf("visit %s and enter %s\n", oidc_oauth_response_string(da, OIDC_FIELD_VERIFICATION_URI),
           oidc_oauth_response_string(da, OIDC_FIELD_USER_CODE));
    fflush(stdout);

    /* Poll: DEVICE_POLL continues the flow the start began (code, interval, expiry copied),
     * with its own deadline. */
    oidc_oauth_request *poll = NULL;
    oidc_oauth_response *t = NULL;
    int status = 0;
    if (oidc_oauth_request_new(client, OIDC_OP_DEVICE_POLL, &poll, &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_set_pending(poll, da, &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_set_int(poll, OIDC_PARAM_DEADLINE_MS, (int64_t)timeout_s * 1000, &err) != OIDC_RESULT_OK) {
        status = fail("poll request", err, 2);
    } else if (oidc_oauth_send(poll, NULL, &t, &err) != OIDC_RESULT_OK) {
        status = fail("waiting for approval", err, 1);
    } else {
        printf("approved: token_type=%s expires_in=%lld id_token=%s\n", oidc_oauth_response_string(t, OIDC_FIELD_TOKEN_TYPE),
               (long long)oidc_oauth_response_int(t, OIDC_FIELD_EXPIRES_IN),
               oidc_oauth_response_string(t, OIDC_FIELD_ID_TOKEN) ? "validated" : "none");
        oidc_oauth_response_free(t);
    }
    oidc_oauth_request_free(poll);
    oidc_oauth_response_free(da);
    oidc_oauth_client_free(client);
    return status;
}
