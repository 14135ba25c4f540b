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

/* Exported by liboidc but missing from include/oidc.h at this commit (the scaffold generates
 * the token-response getters with a macro, which cbindgen does not expand). Identical
 * redeclarations stay valid once the header carries them. */
const char *oidc_token_response_access_token(const oidc_token_response *resp);
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
    oidc_token_response *tok = NULL;
    const char *resource = "urn:liboidc:opaque";
    if (oidc_oauth_client_credentials(app, "read", 4, resource, strlen(resource), NULL, 0, &tok, &err) != OIDC_RESULT_OK) {
        fprintf(stderr, "client credentials: %s\n", oidc_error_message(err));
        oidc_error_free(err);
        goto out;
    }
    const char *access_token = oidc_token_response_access_token(tok); /* a secret: never print it */

    const uint32_t modes[2] = {OIDC_INTROSPECT_FLAG_NONE, OIDC_INTROSPECT_FLAG_SIGNED};
    for (int i = 0; i < 2; i++) {
        char *json = NULL;
        size_t len = 0;
        oidc_result rc = oidc_oauth_introspect(rs, access_token, strlen(access_token), "access_token", 12,
                                               modes[i], &json, &len, &err);
        if (rc != OIDC_RESULT_OK) {
            fprintf(stderr, "introspection: %s: %s\n", oidc_result_name(rc), oidc_error_message(err));
            oidc_error_free(err);
            goto out;
        }
        printf("%s introspection (%zu bytes): %s\n", i ? "signed (RFC 9701)" : "JSON (RFC 7662)", len, json);
        oidc_string_free(json);
    }
    /* After revocation (RFC 7009) the token is inactive. */
    if (oidc_oauth_revoke(app, access_token, strlen(access_token), NULL, 0, &err) != OIDC_RESULT_OK) {
        fprintf(stderr, "revocation: %s\n", oidc_error_message(err));
        oidc_error_free(err);
        goto out;
    }
    char *json = NULL;
    if (oidc_oauth_introspect(rs, access_token, strlen(access_token), NULL, 0, 0, &json, NULL, &err) == OIDC_RESULT_OK) {
        printf("after revocation: %s\n", json);
        oidc_string_free(json);
        status = 0;
    } else {
        fprintf(stderr, "introspection: %s\n", oidc_error_message(err));
        oidc_error_free(err);
    }
out:
    oidc_token_response_free(tok);
    oidc_oauth_client_free(app);
    oidc_oauth_client_free(rs);
    return status;
}
