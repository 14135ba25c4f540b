/*
 * liboidc quick start: validate a bearer token against an issuer.
 *
 *   validate ISSUER AUDIENCE TOKEN
 *
 * Trust comes from the system store plus SSL_CERT_FILE / CURL_CA_BUNDLE / REQUESTS_CA_BUNDLE
 * (first one set). Prints the validated claims as JSON, or the error and the WWW-Authenticate
 * value a resource server would answer with. Exit status: 0 valid, 1 rejected, 2 usage/setup.
 */
#include <oidc.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, oidc_error *err) {
    fprintf(stderr, "%s: %s (%s)\n", what, oidc_error_message(err),
            oidc_result_name(oidc_error_code(err)));
    oidc_error_free(err);
    return 2;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s ISSUER AUDIENCE TOKEN\n", argv[0]);
        return 2;
    }
    if (oidc_version_number() != OIDC_VERSION_NUMBER) {
        fprintf(stderr, "liboidc %s does not match the header this was built with\n", oidc_version());
        return 2;
    }
    const char *issuer = argv[1], *audience = argv[2], *token = argv[3];
    oidc_error *err = NULL;
    oidc_validator_builder *b = NULL;
    if (oidc_validator_builder_new(&b, &err) != OIDC_RESULT_OK) return fail("builder", err);
    if (oidc_validator_builder_set_issuer(b, issuer, strlen(issuer), &err) != OIDC_RESULT_OK ||
        oidc_validator_builder_add_audience(b, audience, strlen(audience), &err) != OIDC_RESULT_OK ||
        oidc_validator_builder_set_expected_typ(b, "at+jwt", 6, &err) != OIDC_RESULT_OK) {
        oidc_validator_builder_free(b);
        return fail("configuration", err);
    }
    oidc_validator *client = NULL;
    /* build consumes the builder, whatever the outcome */
    if (oidc_validator_builder_build(b, &client, &err) != OIDC_RESULT_OK) return fail("client", err);

    char *claims = NULL;
    size_t claims_len = 0;
    oidc_result rc = oidc_validate(client, token, strlen(token), &claims, &claims_len, &err);
    int status = 0;
    if (rc == OIDC_RESULT_OK) {
        printf("valid token; claims (%zu bytes):\n%s\n", claims_len, claims);
        oidc_string_free(claims);
    } else {
        printf("rejected: %s: %s\nHTTP %u, WWW-Authenticate: %s\n", oidc_result_name(rc),
               oidc_error_message(err), oidc_error_http_status(err), oidc_error_www_authenticate(err));
        oidc_error_free(err);
        status = 1;
    }
    oidc_validator_free(client);
    return status;
}
