/*
 * liboidc example: a resource server introspecting an opaque access token (RFC 7662), once as
 * plain JSON and once as an RFC 9701 signed response validated with the issuer's keys.
 *
 *   introspection ISSUER CA_FILE
 *
 * Against the test IdP (tests/idp): the client "svc-basic" gets an opaque token for the
 * resource urn:liboidc:opaque (client credentials), and the resource server "svc-post"
 * introspects it. Exit status: 0 on success, 1 on an error.
 */
#include <oidc.h>
#include <stdio.h>
#include <string.h>

static oidc_oauth_client *client(const char *issuer, const char *ca, const char *id, const char *secret,
                                 const char *method) {
    oidc_oauth_builder *b = NULL;
    oidc_oauth_client *c = NULL;
    oidc_error *err = NULL;
    if (oidc_oauth_builder_new(&b, &err) != OIDC_RESULT_OK) goto fail;
    if (oidc_oauth_builder_set_issuer(b, issuer, strlen(issuer), &err) != OIDC_RESULT_OK ||
        oidc_oauth_builder_set_ca_file(b, ca, strlen(ca), &err) != OIDC_RESULT_OK ||
        oidc_oauth_builder_set_client_id(b, id, strlen(id), &err) != OIDC_RESULT_OK ||
        oidc_oauth_builder_set_client_secret(b, secret, strlen(secret), &err) != OIDC_RESULT_OK ||
        oidc_oauth_builder_set_auth_method(b, method, strlen(method), &err) != OIDC_RESULT_OK) {
        oidc_oauth_builder_free(b);
        goto fail;
    }
    if (oidc_oauth_builder_build(b, &c, &err) == OIDC_RESULT_OK) return c; /* consumes b */
fail:
    fprintf(stderr, "client %s: %s\n", id, oidc_error_message(err));
    oidc_error_free(err);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s ISSUER CA_FILE\n", argv[0]);
        return 1;
    }
    oidc_oauth_client *app = client(argv[1], argv[2], "svc-basic", "svc-basic-secret", "client_secret_basic");
    oidc_oauth_client *rs = client(argv[1], argv[2], "svc-post", "svc-post-secret", "client_secret_post");
    if (!app || !rs) return 1;

    int status = 1;
    oidc_error *err = NULL;
    oidc_oauth_request *r = NULL;
    oidc_oauth_response *tok = NULL, *answer = NULL;
    const char *resource = "urn:liboidc:opaque";
    if (oidc_oauth_request_new(app, OIDC_OP_CLIENT_CREDENTIALS, &r, &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_add_string(r, OIDC_PARAM_SCOPE, "read", 4, &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_add_string(r, OIDC_PARAM_RESOURCE, resource, strlen(resource), &err) != OIDC_RESULT_OK ||
        oidc_oauth_send(r, NULL, &tok, &err) != OIDC_RESULT_OK) {
        fprintf(stderr, "client credentials: %s\n", oidc_error_message(err));
        goto out;
    }
    oidc_oauth_request_free(r);
    r = NULL;
    const char *access_token = oidc_oauth_response_string(tok, OIDC_FIELD_ACCESS_TOKEN); /* a secret: never print it */

    /* One introspection request, sent as plain JSON, then asking for a signed answer. */
    if (oidc_oauth_request_new(rs, OIDC_OP_INTROSPECT, &r, &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN, access_token, strlen(access_token), &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN_TYPE_HINT, "access_token", 12, &err) != OIDC_RESULT_OK) {
        fprintf(stderr, "introspection request: %s\n", oidc_error_message(err));
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        size_t len = 0;
        if ((i == 1 && oidc_oauth_request_set_int(r, OIDC_PARAM_SIGNED_RESPONSE, 1, &err) != OIDC_RESULT_OK) ||
            oidc_oauth_send(r, NULL, &answer, &err) != OIDC_RESULT_OK) {
            fprintf(stderr, "introspection: %s: %s\n", oidc_result_name(oidc_error_code(err)), oidc_error_message(err));
            goto out;
        }
        const char *json = oidc_oauth_response_json(answer, &len);
        printf("%s introspection (%zu bytes): %s\n", i ? "signed (RFC 9701)" : "JSON (RFC 7662)", len, json);
        oidc_oauth_response_free(answer);
        answer = NULL;
    }
    oidc_oauth_request_free(r);
    r = NULL;
    /* After revocation (RFC 7009) the token is inactive. */
    if (oidc_oauth_request_new(app, OIDC_OP_REVOKE, &r, &err) != OIDC_RESULT_OK ||
        oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN, access_token, strlen(access_token), &err) != OIDC_RESULT_OK ||
        oidc_oauth_send(r, NULL, &answer, &err) != OIDC_RESULT_OK) {
        fprintf(stderr, "revocation: %s\n", oidc_error_message(err));
        goto out;
    }
    oidc_oauth_response_free(answer);
    answer = NULL;
    oidc_oauth_request_free(r);
    r = NULL;
    if (oidc_oauth_request_new(rs, OIDC_OP_INTROSPECT, &r, &err) == OIDC_RESULT_OK &&
        oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN, access_token, strlen(access_token), &err) == OIDC_RESULT_OK &&
        oidc_oauth_send(r, NULL, &answer, &err) == OIDC_RESULT_OK) {
        printf("after revocation: %s\n", oidc_oauth_response_json(answer, NULL));
        status = oidc_oauth_response_int(answer, OIDC_FIELD_ACTIVE) == 0 ? 0 : 1;
    } else {
        fprintf(stderr, "introspection: %s\n", oidc_error_message(err));
    }
out:
    oidc_error_free(err);
    oidc_oauth_response_free(answer);
    oidc_oauth_request_free(r);
    oidc_oauth_response_free(tok);
    oidc_oauth_client_free(app);
    oidc_oauth_client_free(rs);
    return status;
}
