/* liboidc C ABI tests that need no server: static-JWKS clients, a fixed "now", committed
 * fixtures (fixtures/fixtures.h, made by fixtures/make-fixtures.sh).
 *
 * Covers: every result code for the fixture tokens, the error object (message, WWW-Authenticate,
 * RFC 6750 error, HTTP status, details JSON), ownership of outputs, NULL for every pointer
 * parameter, invalid UTF-8 in every string parameter, builder configuration errors, result-code
 * names, versions, the panic boundary (with -DOIDC_TEST_HOOKS), and 8 threads x 2000
 * validations on one client.
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdint.h>

#include "harness.h"
#include "fixtures/fixtures.h"

#define LEN(s) (sizeof(s) - 1) /* length of a string literal */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define REALM "api"

/* A pointer value that liboidc must never write over (out-params are written only on success,
 * err_out only on failure). Never dereferenced or freed. */
static char sentinel_storage;
#define SENTINEL_STR ((char *)&sentinel_storage)
#define SENTINEL_ERR ((oidc_error *)(void *)&sentinel_storage)
#define SENTINEL_CLIENT ((oidc_validator *)(void *)&sentinel_storage)

/* ------------------------------------------------------------------------------------------ */
/* Clients                                                                                     */

/* The builder of the main test client: the fixture issuer and JWKS, audience "api", typ at+jwt,
 * a FX_MAX_TOKEN_BYTES (2048) token limit and realm "api". */
static oidc_validator_builder *fixture_builder(void) {
    oidc_validator_builder *b = NULL;
    oidc_error *err = NULL;
    CHECK_RC_ERR(oidc_validator_builder_new(&b, &err), OIDC_RESULT_OK, err);
    if (!b) return NULL;
    CHECK_RC(oidc_validator_builder_set_issuer(b, FX_ISSUER, LEN(FX_ISSUER), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_jwks_json(b, FX_JWKS, LEN(FX_JWKS), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_add_audience(b, FX_AUDIENCE, LEN(FX_AUDIENCE), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_expected_typ(b, "at+jwt", 6, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_max_token_bytes(b, FX_MAX_TOKEN_BYTES, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_leeway_secs(b, 60, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_realm(b, REALM, LEN(REALM), NULL), OIDC_RESULT_OK);
    return b;
}

static oidc_validator *build(oidc_validator_builder *b) {
    oidc_validator *c = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validator_builder_build(b, &c, &err);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    CHECK(rc != OIDC_RESULT_OK || c != NULL);
    oidc_error_free(err);
    return c;
}

/* Validate a NUL-terminated token at `now`; returns the code and frees every output. */
static oidc_result validate_code(const oidc_validator *c, const char *token, int64_t now) {
    char *claims = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validate_at(c, token, strlen(token), now, &claims, NULL, &err);
    oidc_string_free(claims);
    oidc_error_free(err);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The token table                                                                             */

struct token_case {
    const char *name;
    const char *token;
    int64_t now;
    oidc_result expected;
};

#define T(name, now, code) {#name, FX_TOKEN_##name, now, OIDC_RESULT_##code}

static const struct token_case TOKEN_CASES[] = {
    /* valid */
    T(VALID_RS256, FX_NOW, OK),
    T(VALID_PS256, FX_NOW, OK),
    T(VALID_ES256, FX_NOW, OK),
    T(VALID_EDDSA, FX_NOW, OK),
    T(VALID_ED25519_NAME, FX_NOW, OK),
    T(AUD_ARRAY, FX_NOW, OK),
    T(TYP_MEDIA_TYPE, FX_NOW, OK),
    T(NO_KID, FX_NOW, OK),
    /* time: exp/nbf/iat with the 60 s leeway, and extreme clocks */
    {"VALID_RS256 at exp+59", FX_TOKEN_VALID_RS256, FX_EXP + 59, OIDC_RESULT_OK},
    {"VALID_RS256 at exp+60", FX_TOKEN_VALID_RS256, FX_EXP + 60, OIDC_RESULT_TOKEN_EXPIRED},
    {"VALID_RS256 at nbf-60", FX_TOKEN_VALID_RS256, FX_NBF - 60, OIDC_RESULT_OK},
    {"VALID_RS256 at nbf-61", FX_TOKEN_VALID_RS256, FX_NBF - 61, OIDC_RESULT_TOKEN_NOT_YET_VALID},
    {"VALID_RS256 at INT64_MAX", FX_TOKEN_VALID_RS256, INT64_MAX, OIDC_RESULT_TOKEN_EXPIRED},
    {"VALID_RS256 at INT64_MIN", FX_TOKEN_VALID_RS256, INT64_MIN, OIDC_RESULT_TOKEN_NOT_YET_VALID},
    {"VALID_RS256 at 0", FX_TOKEN_VALID_RS256, 0, OIDC_RESULT_TOKEN_NOT_YET_VALID},
    T(EXPIRED, FX_NOW, TOKEN_EXPIRED),
    T(NBF_FUTURE, FX_NOW, TOKEN_NOT_YET_VALID),
    T(IAT_FUTURE, FX_NOW, TOKEN_ISSUED_IN_FUTURE),
    /* claims */
    T(WRONG_ISSUER, FX_NOW, ISSUER_MISMATCH),
    T(ISSUER_TRAILING_SLASH, FX_NOW, ISSUER_MISMATCH),
    T(WRONG_AUDIENCE, FX_NOW, AUDIENCE_MISMATCH),
    T(AUD_ARRAY_NO_MATCH, FX_NOW, AUDIENCE_MISMATCH),
    T(AUD_EMPTY_ARRAY, FX_NOW, AUDIENCE_MISMATCH),
    T(AUD_NUMBER, FX_NOW, INVALID_CLAIM),
    T(MISSING_EXP, FX_NOW, MISSING_CLAIM),
    T(MISSING_ISS, FX_NOW, MISSING_CLAIM),
    T(MISSING_AUD, FX_NOW, MISSING_CLAIM),
    T(EXP_STRING, FX_NOW, INVALID_CLAIM),
    T(EXP_NULL, FX_NOW, INVALID_CLAIM),
    T(NBF_STRING, FX_NOW, INVALID_CLAIM),
    T(DUPLICATE_EXP, FX_NOW, TOKEN_MALFORMED),
    T(PAYLOAD_ARRAY, FX_NOW, TOKEN_MALFORMED),
    T(PAYLOAD_NOT_JSON, FX_NOW, TOKEN_MALFORMED),
    /* signatures */
    T(TAMPERED_PAYLOAD, FX_NOW, SIGNATURE_INVALID),
    T(SIGNATURE_BITFLIP, FX_NOW, SIGNATURE_INVALID),
    T(EDDSA_TAMPERED, FX_NOW, SIGNATURE_INVALID),
    T(PS_SIG_AS_RS256, FX_NOW, SIGNATURE_INVALID),
    T(RS_SIG_AS_PS256, FX_NOW, SIGNATURE_INVALID),
    T(ES256_DER_SIGNATURE, FX_NOW, SIGNATURE_INVALID),
    T(ES256_SHORT_SIGNATURE, FX_NOW, SIGNATURE_INVALID),
    /* keys */
    T(UNKNOWN_KID, FX_NOW, UNKNOWN_KEY),
    T(KID_OF_OTHER_KEY_TYPE, FX_NOW, ALGORITHM_NOT_ALLOWED), /* alg does not fit the key */
    T(WEAK_RSA_KEY, FX_NOW, KEY_REJECTED),
    T(EMBEDDED_JWK, FX_NOW, SIGNATURE_INVALID), /* the header's own jwk is never trusted */
    T(JKU_HEADER, FX_NOW, UNKNOWN_KEY),         /* jku is never fetched */
    /* header and algorithm */
    T(ALG_NONE, FX_NOW, ALGORITHM_NOT_ALLOWED),
    T(ALG_NONE_WITH_SIGNATURE, FX_NOW, ALGORITHM_NOT_ALLOWED),
    T(HS256_KEY_CONFUSION, FX_NOW, ALGORITHM_NOT_ALLOWED),
    T(ALG_UNKNOWN, FX_NOW, ALGORITHM_NOT_ALLOWED),
    T(EMPTY_SIGNATURE, FX_NOW, ALGORITHM_NOT_ALLOWED),
    T(CRIT, FX_NOW, CRIT_UNSUPPORTED),
    T(B64_FALSE, FX_NOW, CRIT_UNSUPPORTED),
    T(TYP_JWT, FX_NOW, TYPE_MISMATCH),
    T(TYP_MISSING, FX_NOW, TYPE_MISMATCH),
    T(HEADER_DUPLICATE_ALG, FX_NOW, TOKEN_MALFORMED),
    T(HEADER_NOT_JSON, FX_NOW, TOKEN_MALFORMED),
    T(HEADER_ARRAY, FX_NOW, TOKEN_MALFORMED),
    /* structure and size */
    T(TWO_SEGMENTS, FX_NOW, TOKEN_MALFORMED),
    T(FOUR_SEGMENTS, FX_NOW, TOKEN_MALFORMED),
    T(FIVE_SEGMENTS, FX_NOW, TOKEN_MALFORMED),
    T(EMPTY_PAYLOAD, FX_NOW, TOKEN_MALFORMED),
    T(HEADER_B64_PADDING, FX_NOW, TOKEN_MALFORMED),
    T(PAYLOAD_B64_PADDING, FX_NOW, TOKEN_MALFORMED),
    T(SIGNATURE_STD_BASE64, FX_NOW, TOKEN_MALFORMED),
    T(OVERSIZED, FX_NOW, TOKEN_TOO_LARGE),
    {"empty token", "", FX_NOW, OIDC_RESULT_TOKEN_MALFORMED},
    {"single dot", ".", FX_NOW, OIDC_RESULT_TOKEN_MALFORMED},
    {"two dots", "..", FX_NOW, OIDC_RESULT_TOKEN_MALFORMED},
    {"not a JWT", "hello", FX_NOW, OIDC_RESULT_TOKEN_MALFORMED},
    {"leading space", " " FX_TOKEN_VALID_RS256, FX_NOW, OIDC_RESULT_TOKEN_MALFORMED},
    {"trailing newline", FX_TOKEN_VALID_ES256 "\n", FX_NOW, OIDC_RESULT_TOKEN_MALFORMED},
    {"Bearer prefix", "Bearer " FX_TOKEN_VALID_ES256, FX_NOW, OIDC_RESULT_TOKEN_MALFORMED},
};

/* Token errors are the token's fault: 401 + invalid_token. KEY_REJECTED is the issuer's. */
static int is_token_error(oidc_result rc) {
    return rc >= OIDC_RESULT_TOKEN_MALFORMED && rc <= OIDC_RESULT_CRIT_UNSUPPORTED;
}

/* No 8-byte window of the signature segment (and no 16-byte window of the whole token) may
 * appear in `text`: error text must never echo token contents. */
static int leaks_token(const char *text, const char *token) {
    const char *sig = strrchr(token, '.');
    size_t tlen = strlen(token), i;
    char win[17];
    if (sig && strlen(sig + 1) >= 8) {
        for (i = 0; sig[1 + i + 7]; i++) {
            memcpy(win, sig + 1 + i, 8);
            win[8] = 0;
            if (strstr(text, win)) return 1;
        }
    }
    for (i = 0; tlen >= 16 && i + 16 <= tlen; i++) {
        memcpy(win, token + i, 16);
        win[16] = 0;
        if (strstr(text, win)) return 1;
    }
    return 0;
}

/* Everything a failed validation's error object must satisfy. */
static void check_error_object(const oidc_error *err, oidc_result rc, const char *token, int with_realm) {
    const char *msg = oidc_error_message(err);
    const char *www = oidc_error_www_authenticate(err);
    const char *oauth = oidc_error_oauth_error(err);
    const char *details = oidc_error_details_json(err);
    char want[96];

    CHECK(err != NULL);
    CHECK(oidc_error_code(err) == rc);
    CHECKF(msg && msg[0], "empty message");
    CHECK(str_starts(www, "Bearer"));
    if (token) {
        CHECKF(!leaks_token(msg, token), "message echoes the token: %s", msg);
        CHECKF(!leaks_token(www, token), "WWW-Authenticate echoes the token: %s", www);
        CHECKF(!leaks_token(details, token), "details echo the token: %s", details);
    }
    if (is_token_error(rc)) {
        CHECKF(str_has(www, "error=\"invalid_token\""), "www-authenticate: %s", www);
        CHECKF(str_has(www, "error_description=\""), "www-authenticate: %s", www);
        CHECK(oauth != NULL && strcmp(oauth, "invalid_token") == 0);
        CHECKF(oidc_error_http_status(err) == 401, "http status %u", oidc_error_http_status(err));
    } else {
        CHECKF(!str_has(www, "error="), "www-authenticate: %s", www);
        CHECK(oauth == NULL);
        CHECK(oidc_error_http_status(err) >= 500);
    }
    if (with_realm) CHECKF(str_starts(www, "Bearer realm=\"" REALM "\""), "realm missing: %s", www);
    snprintf(want, sizeof want, "\"code\":%u", (unsigned)rc);
    CHECKF(str_has(details, want), "details %s lack %s", details, want);
    snprintf(want, sizeof want, "\"name\":\"%s\"", rc_name(rc));
    CHECKF(str_has(details, want), "details %s lack %s", details, want);
    CHECK(details && details[0] == '{' && details[strlen(details) - 1] == '}');
}

/* Validate one case through oidc_validate_at, with and without err_out / claims_len_out. */
static void run_token_case(const oidc_validator *client, const struct token_case *tc) {
    size_t len = strlen(tc->token);
    int variant;
    for (variant = 0; variant < 2; variant++) {
        char *claims = SENTINEL_STR;
        size_t claims_len = 12345;
        oidc_error *err = variant == 0 ? SENTINEL_ERR : NULL;
        oidc_result rc = oidc_validate_at(client, tc->token, len, tc->now, &claims,
                                          variant == 0 ? &claims_len : NULL, variant == 0 ? &err : NULL);
        CHECK_RC_ERR(rc, tc->expected, (err == SENTINEL_ERR ? NULL : err));
        if (rc == OIDC_RESULT_OK) {
            CHECK(err == SENTINEL_ERR || err == NULL); /* err_out untouched on success */
            CHECK(claims != NULL && claims != SENTINEL_STR);
            if (claims && claims != SENTINEL_STR) {
                CHECK(claims[0] == '{' && claims[strlen(claims) - 1] == '}');
                CHECK(str_has(claims, "\"iss\":\"" FX_ISSUER "\""));
                if (variant == 0) CHECKF(claims_len == strlen(claims), "len %zu != strlen %zu", claims_len, strlen(claims));
                oidc_string_free(claims);
            }
        } else {
            CHECK(claims == SENTINEL_STR);           /* claims_out untouched on failure */
            if (variant == 0) {
                CHECK(claims_len == 12345);
                CHECK(err != SENTINEL_ERR && err != NULL);
                if (err && err != SENTINEL_ERR) {
                    check_error_object(err, rc, tc->token, 1);
                    oidc_error_free(err);
                }
            }
        }
    }
}

static void test_token_table(const oidc_validator *client) {
    size_t i;
    for (i = 0; i < COUNT(TOKEN_CASES); i++) {
        TEST_BEGIN("token %s -> %s", TOKEN_CASES[i].name, rc_name(TOKEN_CASES[i].expected));
        run_token_case(client, &TOKEN_CASES[i]);
        TEST_END();
    }
}

static void test_valid_outputs(const oidc_validator *client) {
    static const char *const valid[] = {FX_TOKEN_VALID_RS256, FX_TOKEN_VALID_PS256, FX_TOKEN_VALID_ES256,
                                        FX_TOKEN_VALID_EDDSA};
    size_t i;
    char *buf;

    TEST_BEGIN("claims are returned exactly as signed, length == strlen");
    for (i = 0; i < COUNT(valid); i++) {
        char *claims = NULL;
        size_t n = 0;
        CHECK_RC(oidc_validate_at(client, valid[i], strlen(valid[i]), FX_NOW, &claims, &n, NULL), OIDC_RESULT_OK);
        CHECKF(claims && strcmp(claims, FX_CLAIMS_JSON) == 0, "claims: %s", claims ? claims : "(null)");
        CHECK(n == LEN(FX_CLAIMS_JSON));
        oidc_string_free(claims);
    }
    TEST_END();

    TEST_BEGIN("oidc_validate (system clock) accepts the valid tokens");
    for (i = 0; i < COUNT(valid); i++) {
        char *claims = NULL;
        oidc_error *err = NULL;
        CHECK_RC_ERR(oidc_validate(client, valid[i], strlen(valid[i]), &claims, NULL, &err), OIDC_RESULT_OK, err);
        oidc_string_free(claims);
        oidc_error_free(err);
    }
    CHECK_RC(validate_code(client, FX_TOKEN_EXPIRED, FX_NOW), OIDC_RESULT_TOKEN_EXPIRED);
    TEST_END();

    /* The token is ptr+len: no NUL needed, bytes after len ignored. Under valgrind/ASan an
     * over-read of the exact-size heap copy is reported. */
    TEST_BEGIN("token need not be NUL-terminated; bytes past token_len are ignored");
    {
        size_t n = LEN(FX_TOKEN_VALID_ES256);
        char *claims = NULL;
        buf = malloc(n + 8);
        memcpy(buf, FX_TOKEN_VALID_ES256, n);
        CHECK_RC(oidc_validate_at(client, buf, n, FX_NOW, &claims, NULL, NULL), OIDC_RESULT_OK);
        oidc_string_free(claims);
        claims = NULL;
        memcpy(buf + n, ".garbage", 8);
        CHECK_RC(oidc_validate_at(client, buf, n, FX_NOW, &claims, NULL, NULL), OIDC_RESULT_OK);
        oidc_string_free(claims);
        claims = NULL;
        CHECK_RC(oidc_validate_at(client, buf, n + 8, FX_NOW, &claims, NULL, NULL), OIDC_RESULT_TOKEN_MALFORMED);
        free(buf);
        buf = malloc(n); /* exactly n bytes, no terminator */
        memcpy(buf, FX_TOKEN_VALID_ES256, n);
        CHECK_RC(oidc_validate_at(client, buf, n, FX_NOW, &claims, NULL, NULL), OIDC_RESULT_OK);
        oidc_string_free(claims);
        free(buf);
    }
    TEST_END();

    TEST_BEGIN("token of 0 bytes with a NULL pointer is an empty token (TOKEN_MALFORMED)");
    {
        char *claims = SENTINEL_STR;
        oidc_error *err = NULL;
        CHECK_RC(oidc_validate_at(client, NULL, 0, FX_NOW, &claims, NULL, &err), OIDC_RESULT_TOKEN_MALFORMED);
        CHECK(claims == SENTINEL_STR);
        check_error_object(err, OIDC_RESULT_TOKEN_MALFORMED, NULL, 1);
        oidc_error_free(err);
        CHECK_RC(oidc_validate(client, NULL, 0, &claims, NULL, NULL), OIDC_RESULT_TOKEN_MALFORMED);
    }
    TEST_END();

    TEST_BEGIN("token with an embedded NUL byte (counted in token_len) -> TOKEN_MALFORMED");
    {
        size_t n = LEN(FX_TOKEN_VALID_ES256);
        buf = malloc(n);
        memcpy(buf, FX_TOKEN_VALID_ES256, n);
        buf[n - 5] = '\0';
        CHECK_RC(oidc_validate_at(client, buf, n, FX_NOW, &(char *){NULL}, NULL, NULL), OIDC_RESULT_TOKEN_MALFORMED);
        free(buf);
    }
    TEST_END();

    /* The token bytes come from the remote client, so a resource server cannot rule these
     * out: an oversized token is TOKEN_TOO_LARGE (401 invalid_token), rejected before it is read. */
    TEST_BEGIN("token longer than 16 MiB -> TOKEN_TOO_LARGE, not read");
    {
        size_t n = 16u * 1024 * 1024 + 1;
        oidc_error *err = NULL;
        char *claims = NULL;
        buf = malloc(n);
        CHECK(buf != NULL);
        if (buf) {
            memset(buf, 'a', n);
            CHECK_RC(oidc_validate_at(client, buf, n, FX_NOW, &claims, NULL, &err), OIDC_RESULT_TOKEN_TOO_LARGE);
            CHECK(oidc_error_code(err) == OIDC_RESULT_TOKEN_TOO_LARGE);
            oidc_error_free(err);
            free(buf);
        }
    }
    TEST_END();
    {
        static const struct {
            const char *name, *token;
            size_t len;
        } remote[] = {
            {"invalid UTF-8 token", "\xff\xfe.abc.def", 11},
            {"token longer than 16 MiB", NULL, 16u * 1024 * 1024 + 1},
        };
        size_t i;
        for (i = 0; i < COUNT(remote); i++) {
            oidc_error *err = NULL;
            char *claims = NULL;
            const char *www;
            buf = malloc(remote[i].len);
            if (remote[i].token) memcpy(buf, remote[i].token, remote[i].len);
            else memset(buf, 'a', remote[i].len);
            TEST_BEGIN("%s is the remote client's fault: http_status 401, error=\"invalid_token\"", remote[i].name);
            CHECK(oidc_validate_at(client, buf, remote[i].len, FX_NOW, &claims, NULL, &err) != OIDC_RESULT_OK);
            www = oidc_error_www_authenticate(err);
            CHECKF(oidc_error_http_status(err) == 401, "http_status %u", oidc_error_http_status(err));
            CHECKF(str_has(www, "error=\"invalid_token\""), "WWW-Authenticate: %s", www);
            oidc_error_free(err);
            free(buf);
            TEST_END();
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Client policy variants                                                                      */

typedef void (*configure_fn)(oidc_validator_builder *);

static void cfg_es_eddsa_only(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_algorithms(b, "ES256, EdDSA", 12, NULL), OIDC_RESULT_OK);
}
static void cfg_require_tenant(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_add_required_claim(b, "tenant", 6, NULL), OIDC_RESULT_OK);
}
static void cfg_require_scope(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_add_required_claim(b, "scope", 5, NULL), OIDC_RESULT_OK);
}
static void cfg_nothing_more(oidc_validator_builder *b) { (void)b; /* the base builder is the policy */ }
static void cfg_big_tokens(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_max_token_bytes(b, 16384, NULL), OIDC_RESULT_OK);
}
static void cfg_leeway_0(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_leeway_secs(b, 0, NULL), OIDC_RESULT_OK);
}
static void cfg_two_audiences(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_add_audience(b, "x", 1, NULL), OIDC_RESULT_OK);
}
static void cfg_ed25519_name(oidc_validator_builder *b) {
    CHECK_RC(oidc_validator_builder_set_algorithms(b, "Ed25519", 7, NULL), OIDC_RESULT_OK);
}

/* Builders that differ from the fixture builder in more than one setter. */
static oidc_validator_builder *builder_from_scratch(int with_audience, int with_typ) {
    oidc_validator_builder *b = NULL;
    CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_issuer(b, FX_ISSUER, LEN(FX_ISSUER), NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_validator_builder_set_jwks_json(b, FX_JWKS, LEN(FX_JWKS), NULL), OIDC_RESULT_OK);
    if (with_audience) CHECK_RC(oidc_validator_builder_add_audience(b, FX_AUDIENCE, LEN(FX_AUDIENCE), NULL), OIDC_RESULT_OK);
    else CHECK_RC(oidc_validator_builder_set_any_audience(b, 1, NULL), OIDC_RESULT_OK);
    if (with_typ) CHECK_RC(oidc_validator_builder_set_expected_typ(b, "at+jwt", 6, NULL), OIDC_RESULT_OK);
    return b;
}

struct policy_case {
    const char *name;
    configure_fn configure;
    int scratch; /* 0: fixture builder; 1: any audience, typ; 2: audience, no typ */
    struct {
        const char *token;
        int64_t now;
        oidc_result expected;
    } checks[4];
};

static const struct policy_case POLICY_CASES[] = {
    {"allow-list ES256,EdDSA", cfg_es_eddsa_only, 0,
     {{FX_TOKEN_VALID_RS256, FX_NOW, OIDC_RESULT_ALGORITHM_NOT_ALLOWED},
      {FX_TOKEN_VALID_PS256, FX_NOW, OIDC_RESULT_ALGORITHM_NOT_ALLOWED},
      {FX_TOKEN_VALID_ES256, FX_NOW, OIDC_RESULT_OK},
      {FX_TOKEN_VALID_EDDSA, FX_NOW, OIDC_RESULT_OK}}},
    {"allow-list Ed25519 (alias of EdDSA)", cfg_ed25519_name, 0,
     {{FX_TOKEN_VALID_EDDSA, FX_NOW, OIDC_RESULT_OK},
      {FX_TOKEN_VALID_ED25519_NAME, FX_NOW, OIDC_RESULT_OK},
      {FX_TOKEN_VALID_ES256, FX_NOW, OIDC_RESULT_ALGORITHM_NOT_ALLOWED}}},
    {"required claim tenant", cfg_require_tenant, 0,
     {{FX_TOKEN_VALID_RS256, FX_NOW, OIDC_RESULT_MISSING_CLAIM},
      {FX_TOKEN_EXPIRED, FX_NOW, OIDC_RESULT_TOKEN_EXPIRED}}},
    {"required claim scope", cfg_require_scope, 0, {{FX_TOKEN_VALID_ES256, FX_NOW, OIDC_RESULT_OK}}},
    {"any audience", cfg_nothing_more, 1,
     {{FX_TOKEN_WRONG_AUDIENCE, FX_NOW, OIDC_RESULT_OK},
      {FX_TOKEN_MISSING_AUD, FX_NOW, OIDC_RESULT_OK},
      {FX_TOKEN_AUD_NUMBER, FX_NOW, OIDC_RESULT_INVALID_CLAIM},
      {FX_TOKEN_AUD_EMPTY_ARRAY, FX_NOW, OIDC_RESULT_AUDIENCE_MISMATCH}}},
    {"16 KiB token limit", cfg_big_tokens, 0, {{FX_TOKEN_OVERSIZED, FX_NOW, OIDC_RESULT_OK}}},
    {"no expected typ", cfg_nothing_more, 2,
     {{FX_TOKEN_TYP_JWT, FX_NOW, OIDC_RESULT_OK},
      {FX_TOKEN_TYP_MISSING, FX_NOW, OIDC_RESULT_OK},
      {FX_TOKEN_VALID_RS256, FX_NOW, OIDC_RESULT_OK}}},
    {"leeway 0", cfg_leeway_0, 0,
     {{FX_TOKEN_VALID_RS256, FX_EXP - 1, OIDC_RESULT_OK},
      {FX_TOKEN_VALID_RS256, FX_EXP, OIDC_RESULT_TOKEN_EXPIRED},
      {FX_TOKEN_VALID_RS256, FX_NBF - 1, OIDC_RESULT_TOKEN_NOT_YET_VALID},
      {FX_TOKEN_VALID_RS256, FX_NBF, OIDC_RESULT_OK}}},
    {"two audiences", cfg_two_audiences, 0,
     {{FX_TOKEN_VALID_RS256, FX_NOW, OIDC_RESULT_OK},
      {FX_TOKEN_AUD_ARRAY_NO_MATCH, FX_NOW, OIDC_RESULT_OK},
      {FX_TOKEN_WRONG_AUDIENCE, FX_NOW, OIDC_RESULT_AUDIENCE_MISMATCH}}},
};

static void test_policies(void) {
    size_t i, j;
    for (i = 0; i < COUNT(POLICY_CASES); i++) {
        const struct policy_case *pc = &POLICY_CASES[i];
        oidc_validator_builder *b = pc->scratch == 0 ? fixture_builder() : builder_from_scratch(pc->scratch == 2, pc->scratch == 1);
        oidc_validator *c;
        TEST_BEGIN("policy: %s", pc->name);
        pc->configure(b);
        c = build(b);
        for (j = 0; c && j < COUNT(pc->checks) && pc->checks[j].token; j++) {
            oidc_result rc = validate_code(c, pc->checks[j].token, pc->checks[j].now);
            CHECKF(rc == pc->checks[j].expected, "check %zu: got %s, expected %s", j, rc_name(rc),
                   rc_name(pc->checks[j].expected));
        }
        oidc_validator_free(c);
        TEST_END();
    }

    TEST_BEGIN("realm: absent, and sanitized when it holds quotes/backslashes/control chars");
    {
        oidc_validator_builder *b = builder_from_scratch(1, 1);
        oidc_validator *c = build(b);
        char *claims = NULL;
        oidc_error *err = NULL;
        CHECK_RC(oidc_validate_at(c, FX_TOKEN_EXPIRED, LEN(FX_TOKEN_EXPIRED), FX_NOW, &claims, NULL, &err),
                 OIDC_RESULT_TOKEN_EXPIRED);
        CHECKF(str_starts(oidc_error_www_authenticate(err), "Bearer error=\"invalid_token\""), "%s",
               oidc_error_www_authenticate(err));
        oidc_error_free(err);
        oidc_validator_free(c);

        b = fixture_builder();
        CHECK_RC(oidc_validator_builder_set_realm(b, "a\"b\\c\r\nd", 8, NULL), OIDC_RESULT_OK);
        c = build(b);
        err = NULL;
        CHECK_RC(oidc_validate_at(c, FX_TOKEN_EXPIRED, LEN(FX_TOKEN_EXPIRED), FX_NOW, &claims, NULL, &err),
                 OIDC_RESULT_TOKEN_EXPIRED);
        CHECKF(str_starts(oidc_error_www_authenticate(err), "Bearer realm=\"abcd\", error=\"invalid_token\""), "%s",
               oidc_error_www_authenticate(err));
        oidc_error_free(err);
        oidc_validator_free(c);
    }
    TEST_END();

    TEST_BEGIN("messages name what to fix: audiences, issuers (trailing slash), a 'Bearer ' prefix");
    {
        static const struct {
            const char *token;
            oidc_result rc;
            const char *message;
        } cases[] = {
            {FX_TOKEN_WRONG_AUDIENCE, OIDC_RESULT_AUDIENCE_MISMATCH,
             "token audience 'other' does not match the configured audience(s) 'api'"},
            {FX_TOKEN_WRONG_ISSUER, OIDC_RESULT_ISSUER_MISMATCH,
             "token issuer 'https://evil.test' is not the configured issuer 'https://issuer.test'"},
            {FX_TOKEN_ISSUER_TRAILING_SLASH, OIDC_RESULT_ISSUER_MISMATCH,
             "token issuer 'https://issuer.test/' is not the configured issuer 'https://issuer.test' (they differ "
             "only by a trailing slash"},
            {"Bearer " FX_TOKEN_VALID_RS256, OIDC_RESULT_TOKEN_MALFORMED,
             "token starts with 'Bearer ': pass the token alone, without the Authorization scheme"},
        };
        oidc_validator *c = build(fixture_builder());
        size_t k;
        for (k = 0; c && k < COUNT(cases); k++) {
            char *claims = NULL;
            oidc_error *err = NULL;
            CHECK_RC(oidc_validate_at(c, cases[k].token, strlen(cases[k].token), FX_NOW, &claims, NULL, &err),
                     cases[k].rc);
            CHECKF(err && str_starts(oidc_error_message(err), cases[k].message), "case %zu: %s", k,
                   err ? oidc_error_message(err) : "(no error)");
            oidc_error_free(err);
            oidc_string_free(claims);
        }
        oidc_validator_free(c);
    }
    TEST_END();

    TEST_BEGIN("JWKS without usable keys: build OK, tokens -> UNKNOWN_KEY");
    {
        static const char jwks[] = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"},"
                                   "{\"kty\":\"EC\",\"crv\":\"P-256\",\"use\":\"enc\",\"x\":\"AA\",\"y\":\"AA\"}]}";
        oidc_validator_builder *b = fixture_builder();
        oidc_validator *c;
        CHECK_RC(oidc_validator_builder_set_jwks_json(b, jwks, LEN(jwks), NULL), OIDC_RESULT_OK);
        c = build(b);
        CHECK_RC(validate_code(c, FX_TOKEN_VALID_RS256, FX_NOW), OIDC_RESULT_UNKNOWN_KEY);
        CHECK_RC(validate_code(c, FX_TOKEN_NO_KID, FX_NOW), OIDC_RESULT_UNKNOWN_KEY);
        oidc_validator_free(c);
    }
    TEST_END();

    TEST_BEGIN("static-key client: prefetch is OK at once");
    {
        oidc_validator *c = build(fixture_builder());
        oidc_error *err = SENTINEL_ERR;
        CHECK_RC(oidc_validator_prefetch(c, &err), OIDC_RESULT_OK);
        CHECK(err == SENTINEL_ERR);
        CHECK_RC(oidc_validator_prefetch(c, NULL), OIDC_RESULT_OK);
        oidc_validator_free(c);
    }
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* Builder configuration errors                                                                */

static void set_str(oidc_result (*fn)(oidc_validator_builder *, const char *, size_t, oidc_error **),
                    oidc_validator_builder *b, const char *s) {
    CHECK_RC(fn(b, s, strlen(s), NULL), OIDC_RESULT_OK);
}

static void c_empty_issuer(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_issuer, b, ""); }
static void c_blank_issuer(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_issuer, b, "   "); }
static void c_no_issuer(oidc_validator_builder *b) { (void)b; }
static void c_https(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_issuer, b, "https://idp.example"); }
static void c_http(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_issuer, b, "http://idp.example"); }
static void c_http_loop(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_issuer, b, "http://127.0.0.1:8080"); }
static void c_loopback_ok(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_allow_http_loopback(b, 1, NULL), OIDC_RESULT_OK); }
static void c_http_loop_opt(oidc_validator_builder *b) { c_http_loop(b); c_loopback_ok(b); }
static void c_http_localhost_opt(oidc_validator_builder *b) {
    set_str(oidc_validator_builder_set_issuer, b, "http://localhost:8080/realms/x");
    c_loopback_ok(b);
}
static void c_http_v6_opt(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_issuer, b, "http://[::1]:8080"); c_loopback_ok(b); }
static void c_http_remote_opt(oidc_validator_builder *b) { c_http(b); c_loopback_ok(b); }
static void c_http_loop_optout(oidc_validator_builder *b) {
    c_http_loop_opt(b);
    CHECK_RC(oidc_validator_builder_set_allow_http_loopback(b, 0, NULL), OIDC_RESULT_OK);
}
static void c_userinfo(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_issuer, b, "https://u:p@idp.example"); }
static void c_not_url(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_issuer, b, "idp.example"); }
static void c_ftp(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_issuer, b, "ftp://idp.example"); }
static void c_http_jwks(oidc_validator_builder *b) {
    c_https(b);
    set_str(oidc_validator_builder_set_jwks_uri, b, "http://idp.example/jwks");
}
static void c_https_jwks(oidc_validator_builder *b) {
    c_https(b);
    set_str(oidc_validator_builder_set_jwks_uri, b, "https://idp.example/jwks");
}
static void c_ca_missing(oidc_validator_builder *b) {
    c_https(b);
    set_str(oidc_validator_builder_set_ca_file, b, "/nonexistent/liboidc-test-ca.pem");
}
static void c_ca_empty(oidc_validator_builder *b) { c_https(b); set_str(oidc_validator_builder_set_ca_file, b, "/dev/null"); }
static void c_ca_dir(oidc_validator_builder *b) { c_https(b); set_str(oidc_validator_builder_set_ca_file, b, "/"); }
static void c_no_audience(oidc_validator_builder *b) { c_https(b); }
static void c_empty_audience(oidc_validator_builder *b) { set_str(oidc_validator_builder_add_audience, b, ""); }
static void c_any_audience(oidc_validator_builder *b) {
    c_https(b);
    CHECK_RC(oidc_validator_builder_set_any_audience(b, 1, NULL), OIDC_RESULT_OK);
}
static void c_many_audiences(oidc_validator_builder *b) {
    int i;
    for (i = 0; i < 65; i++) set_str(oidc_validator_builder_add_audience, b, "aud");
}
static void c_jwks(oidc_validator_builder *b, const char *doc) { set_str(oidc_validator_builder_set_jwks_json, b, doc); }
static void c_jwks_not_json(oidc_validator_builder *b) { c_jwks(b, "not json"); }
static void c_jwks_empty_obj(oidc_validator_builder *b) { c_jwks(b, "{}"); }
static void c_jwks_array(oidc_validator_builder *b) { c_jwks(b, "[]"); }
static void c_jwks_keys_obj(oidc_validator_builder *b) { c_jwks(b, "{\"keys\":{}}"); }
static void c_jwks_truncated(oidc_validator_builder *b) { c_jwks(b, "{\"keys\":[1]"); }
static void c_jwks_empty_doc(oidc_validator_builder *b) { c_jwks(b, ""); }
static void c_jwks_too_many(oidc_validator_builder *b) {
    static char doc[16 + 101 * 16];
    int i;
    strcpy(doc, "{\"keys\":[");
    for (i = 0; i < 101; i++) strcat(doc, i ? ",{\"kty\":\"oct\"}" : "{\"kty\":\"oct\"}");
    strcat(doc, "]}");
    c_jwks(b, doc);
}
static void c_max_token_15(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_max_token_bytes(b, 15, NULL), OIDC_RESULT_OK); }
static void c_max_token_16(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_max_token_bytes(b, 16, NULL), OIDC_RESULT_OK); }
static void c_max_token_1m(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_max_token_bytes(b, 1 << 20, NULL), OIDC_RESULT_OK); }
static void c_max_token_big(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_max_token_bytes(b, (1 << 20) + 1, NULL), OIDC_RESULT_OK); }
static void c_max_token_max(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_max_token_bytes(b, SIZE_MAX, NULL), OIDC_RESULT_OK); }
static void c_leeway_3600(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_leeway_secs(b, 3600, NULL), OIDC_RESULT_OK); }
static void c_leeway_3601(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_leeway_secs(b, 3601, NULL), OIDC_RESULT_OK); }
static void c_leeway_max(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_leeway_secs(b, UINT32_MAX, NULL), OIDC_RESULT_OK); }
static void c_timeouts_0(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_timeouts_ms(b, 600001, 0, NULL), OIDC_RESULT_OK); }
static void c_timeouts_big(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_timeouts_ms(b, 1000, 600001, NULL), OIDC_RESULT_OK); }
static void c_timeouts_ok(oidc_validator_builder *b) { c_https(b); CHECK_RC(oidc_validator_builder_set_timeouts_ms(b, 1, 600000, NULL), OIDC_RESULT_OK); }
static void c_resp_small(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_max_response_bytes(b, 1023, NULL), OIDC_RESULT_OK); }
static void c_resp_big(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_max_response_bytes(b, 16 * 1024 * 1024 + 1, NULL), OIDC_RESULT_OK); }
static void c_cache_min_gt_max(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_cache_policy_secs(b, 100, 10, 30, 60, NULL), OIDC_RESULT_OK); }
static void c_cache_max_0(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_cache_policy_secs(b, 0, 0, 30, 60, NULL), OIDC_RESULT_OK); }
static void c_cache_huge(oidc_validator_builder *b) { CHECK_RC(oidc_validator_builder_set_cache_policy_secs(b, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, NULL), OIDC_RESULT_OK); }
static void c_cache_ok(oidc_validator_builder *b) { c_https(b); CHECK_RC(oidc_validator_builder_set_cache_policy_secs(b, 0, 1, 0, 0, NULL), OIDC_RESULT_OK); }
static void c_empty_claim(oidc_validator_builder *b) { set_str(oidc_validator_builder_add_required_claim, b, ""); }
static void c_empty_typ(oidc_validator_builder *b) { set_str(oidc_validator_builder_set_expected_typ, b, ""); }

struct config_case {
    const char *name;
    configure_fn configure;
    int base; /* 0: empty builder + audience "api"; 1: the fixture builder (static JWKS) */
    oidc_result expected;
};

static const struct config_case CONFIG_CASES[] = {
    {"empty issuer", c_empty_issuer, 1, OIDC_RESULT_INVALID_CONFIG},
    {"blank issuer", c_blank_issuer, 1, OIDC_RESULT_INVALID_CONFIG},
    {"no issuer set", c_no_issuer, 0, OIDC_RESULT_INVALID_CONFIG},
    {"https issuer", c_https, 0, OIDC_RESULT_OK},
    {"http issuer", c_http, 0, OIDC_RESULT_INSECURE_URL},
    {"http loopback issuer without opt-in", c_http_loop, 0, OIDC_RESULT_INSECURE_URL},
    {"http loopback issuer with opt-in", c_http_loop_opt, 0, OIDC_RESULT_OK},
    {"http localhost issuer with opt-in", c_http_localhost_opt, 0, OIDC_RESULT_OK},
    {"http [::1] issuer with opt-in", c_http_v6_opt, 0, OIDC_RESULT_OK},
    {"http loopback opt-in withdrawn", c_http_loop_optout, 0, OIDC_RESULT_INSECURE_URL},
    {"http remote issuer with loopback opt-in", c_http_remote_opt, 0, OIDC_RESULT_INSECURE_URL},
    {"issuer with userinfo", c_userinfo, 0, OIDC_RESULT_INSECURE_URL},
    {"issuer without scheme", c_not_url, 0, OIDC_RESULT_INSECURE_URL},
    {"ftp issuer", c_ftp, 0, OIDC_RESULT_INSECURE_URL},
    {"http jwks_uri", c_http_jwks, 0, OIDC_RESULT_INSECURE_URL},
    {"https jwks_uri", c_https_jwks, 0, OIDC_RESULT_OK},
    {"unreadable CA file", c_ca_missing, 0, OIDC_RESULT_CA_FILE},
    {"CA file without certificates", c_ca_empty, 0, OIDC_RESULT_CA_FILE},
    {"CA file is a directory", c_ca_dir, 0, OIDC_RESULT_CA_FILE},
    {"no audience", c_no_audience, -1, OIDC_RESULT_INVALID_CONFIG},
    {"empty audience", c_empty_audience, 1, OIDC_RESULT_INVALID_CONFIG},
    {"any audience instead of one", c_any_audience, -1, OIDC_RESULT_OK},
    {"65 audiences", c_many_audiences, 1, OIDC_RESULT_INVALID_CONFIG},
    {"JWKS not JSON", c_jwks_not_json, 1, OIDC_RESULT_JWKS_INVALID},
    {"JWKS {}", c_jwks_empty_obj, 1, OIDC_RESULT_JWKS_INVALID},
    {"JWKS []", c_jwks_array, 1, OIDC_RESULT_JWKS_INVALID},
    {"JWKS keys is an object", c_jwks_keys_obj, 1, OIDC_RESULT_JWKS_INVALID},
    {"JWKS truncated", c_jwks_truncated, 1, OIDC_RESULT_JWKS_INVALID},
    {"JWKS empty document", c_jwks_empty_doc, 1, OIDC_RESULT_JWKS_INVALID},
    {"JWKS with 101 keys", c_jwks_too_many, 1, OIDC_RESULT_JWKS_INVALID},
    {"max token 15 bytes", c_max_token_15, 1, OIDC_RESULT_INVALID_CONFIG},
    {"max token 16 bytes", c_max_token_16, 1, OIDC_RESULT_OK},
    {"max token 1 MiB", c_max_token_1m, 1, OIDC_RESULT_OK},
    {"max token 1 MiB + 1", c_max_token_big, 1, OIDC_RESULT_INVALID_CONFIG},
    {"max token SIZE_MAX", c_max_token_max, 1, OIDC_RESULT_INVALID_CONFIG},
    {"leeway 3600", c_leeway_3600, 1, OIDC_RESULT_OK},
    {"leeway 3601", c_leeway_3601, 1, OIDC_RESULT_INVALID_CONFIG},
    {"leeway UINT32_MAX", c_leeway_max, 1, OIDC_RESULT_INVALID_CONFIG},
    {"connect timeout over 600 s", c_timeouts_0, 0, OIDC_RESULT_INVALID_CONFIG},
    {"total timeout 600001 ms", c_timeouts_big, 0, OIDC_RESULT_INVALID_CONFIG},
    {"timeouts 1 ms / 600 s", c_timeouts_ok, 0, OIDC_RESULT_OK},
    {"max response 1023 bytes", c_resp_small, 0, OIDC_RESULT_INVALID_CONFIG},
    {"max response 16 MiB + 1", c_resp_big, 0, OIDC_RESULT_INVALID_CONFIG},
    {"cache ttl min > max", c_cache_min_gt_max, 0, OIDC_RESULT_INVALID_CONFIG},
    {"cache ttl max 0", c_cache_max_0, 0, OIDC_RESULT_INVALID_CONFIG},
    {"cache bounds UINT32_MAX", c_cache_huge, 0, OIDC_RESULT_INVALID_CONFIG},
    {"cache bounds 0/1/0/0", c_cache_ok, 0, OIDC_RESULT_OK},
    {"empty required claim", c_empty_claim, 1, OIDC_RESULT_INVALID_CONFIG},
    {"empty expected typ", c_empty_typ, 1, OIDC_RESULT_INVALID_CONFIG},
};

static oidc_validator_builder *base_builder(int base) {
    oidc_validator_builder *b = NULL;
    if (base == 1) return fixture_builder();
    CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
    if (base == 0 && b) CHECK_RC(oidc_validator_builder_add_audience(b, "api", 3, NULL), OIDC_RESULT_OK);
    return b;
}

/* A configuration error is never the token's fault: no invalid_token, a 5xx status (503 for a
 * key set that cannot be used, as for one that cannot be fetched; 500 otherwise). */
static void check_config_error(const oidc_error *err, oidc_result expected) {
    unsigned want = expected == OIDC_RESULT_JWKS_INVALID ? 503 : 500;
    CHECK(err != NULL);
    CHECK(oidc_error_code(err) == expected);
    CHECK(oidc_error_message(err)[0] != 0);
    CHECK(oidc_error_oauth_error(err) == NULL);
    CHECKF(strcmp(oidc_error_www_authenticate(err), "Bearer") == 0, "www: %s", oidc_error_www_authenticate(err));
    CHECKF(oidc_error_http_status(err) == want, "http status %u, expected %u", oidc_error_http_status(err), want);
}

static void test_config_errors(void) {
    size_t i;
    for (i = 0; i < COUNT(CONFIG_CASES); i++) {
        const struct config_case *cc = &CONFIG_CASES[i];
        int variant;
        TEST_BEGIN("config: %s -> %s", cc->name, rc_name(cc->expected));
        for (variant = 0; variant < 2; variant++) { /* with and without err_out */
            oidc_validator_builder *b = base_builder(cc->base);
            oidc_validator *c = SENTINEL_CLIENT;
            oidc_error *err = SENTINEL_ERR;
            oidc_result rc;
            cc->configure(b);
            rc = oidc_validator_builder_build(b, &c, variant ? NULL : &err); /* consumes b */
            CHECK_RC_ERR(rc, cc->expected, (variant || err == SENTINEL_ERR) ? NULL : err);
            if (rc == OIDC_RESULT_OK) {
                CHECK(c != SENTINEL_CLIENT && c != NULL);
                CHECK(err == SENTINEL_ERR);
                if (c != SENTINEL_CLIENT) oidc_validator_free(c);
            } else {
                CHECK(c == SENTINEL_CLIENT);
                if (!variant) {
                    check_config_error(err, rc);
                    if (err != SENTINEL_ERR) oidc_error_free(err);
                }
            }
        }
        TEST_END();
    }
}

static void test_algorithm_lists(void) {
    static const struct {
        const char *list;
        oidc_result expected;
    } cases[] = {
        {"none", OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"NONE", OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"HS256", OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"HS512", OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"FOO", OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"rs256", OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"RS256,none", OIDC_RESULT_UNSUPPORTED_ALGORITHM},
        {"RS256,,ES256", OIDC_RESULT_OK},
        {"RS256 ES256", OIDC_RESULT_OK},
        {"RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA", OIDC_RESULT_OK},
        {"Ed25519", OIDC_RESULT_OK},
        {"", OIDC_RESULT_INVALID_CONFIG},
        {" , ", OIDC_RESULT_INVALID_CONFIG},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        oidc_validator_builder *b = fixture_builder();
        oidc_validator *c = NULL;
        oidc_error *err = NULL;
        oidc_result rc;
        TEST_BEGIN("algorithms \"%s\" -> %s", cases[i].list, rc_name(cases[i].expected));
        rc = oidc_validator_builder_set_algorithms(b, cases[i].list, strlen(cases[i].list), &err);
        CHECK_RC_ERR(rc, cases[i].expected, err);
        if (rc != OIDC_RESULT_OK) check_config_error(err, rc);
        oidc_error_free(err);
        err = NULL;
        /* A failed setter is sticky: the build fails with its code (never the default list). */
        rc = oidc_validator_builder_build(b, &c, &err);
        CHECK_RC_ERR(rc, cases[i].expected, err);
        CHECK((rc == OIDC_RESULT_OK) == (c != NULL));
        if (rc != OIDC_RESULT_OK) CHECK(err != NULL && oidc_error_code(err) == rc);
        oidc_error_free(err);
        oidc_validator_free(c);
        TEST_END();
    }
}

/* The CA variables are read when a client with network access is built. */
static void test_ca_env(void) {
    static const char *const vars[] = {"SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"};
    size_t i, j;
    char *saved[3];
    for (j = 0; j < 3; j++) {
        const char *v = getenv(vars[j]);
        saved[j] = v ? strcpy(malloc(strlen(v) + 1), v) : NULL;
        unsetenv(vars[j]);
    }
    for (i = 0; i < 3; i++) {
        oidc_validator_builder *b;
        oidc_validator *c = NULL;
        oidc_error *err = NULL;
        TEST_BEGIN("%s pointing at a missing file -> CA_FILE at build", vars[i]);
        setenv(vars[i], "/nonexistent/liboidc-env-ca.pem", 1);
        b = base_builder(0);
        c_https(b);
        CHECK_RC_ERR(oidc_validator_builder_build(b, &c, &err), OIDC_RESULT_CA_FILE, err);
        CHECKF(str_has(oidc_error_message(err), vars[i]), "message does not name %s: %s", vars[i],
               oidc_error_message(err));
        oidc_error_free(err);
        oidc_validator_free(c);
        /* A static-key client never uses the network, so it ignores the variable. */
        c = build(fixture_builder());
        oidc_validator_free(c);
        unsetenv(vars[i]);
        TEST_END();
    }
    TEST_BEGIN("empty SSL_CERT_FILE is ignored");
    {
        oidc_validator_builder *b = base_builder(0);
        setenv("SSL_CERT_FILE", "", 1);
        c_https(b);
        oidc_validator_free(build(b));
        unsetenv("SSL_CERT_FILE");
    }
    TEST_END();
    for (j = 0; j < 3; j++) {
        if (saved[j]) setenv(vars[j], saved[j], 1);
        free(saved[j]);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* API misuse: NULL for every pointer parameter, invalid UTF-8 in every string parameter      */

static oidc_validator *g_client; /* the fixture client, for calls that need a live one */
static oidc_oauth_client *g_oauth; /* a protocol client whose issuer refuses connections */
static oidc_oauth_request *g_req; /* an OIDC_OP_CLIENT_CREDENTIALS request on it */
static oidc_oauth_builder *oauth_builder(void);
static void on_oauth_response(void *ud, oidc_result rc, oidc_oauth_response *resp, const oidc_error *err) {
    (void)ud, (void)rc, (void)err;
    oidc_oauth_response_free(resp); /* the host's */
}

/* --- NULL handles and NULL out-params: every case must give NULL_PARAMETER, with and without
 *     err_out, and nothing may leak (calls that consume a builder get a fresh one). */
#define NULL_CASE(id, expr) \
    static oidc_result null_##id(oidc_error **e) { return expr; }
#define S "x", 1 /* a valid string argument */

NULL_CASE(builder_new, oidc_validator_builder_new(NULL, e))
NULL_CASE(set_issuer, oidc_validator_builder_set_issuer(NULL, S, e))
NULL_CASE(set_jwks_uri, oidc_validator_builder_set_jwks_uri(NULL, S, e))
NULL_CASE(set_jwks_json, oidc_validator_builder_set_jwks_json(NULL, S, e))
NULL_CASE(add_audience, oidc_validator_builder_add_audience(NULL, S, e))
NULL_CASE(set_any_audience, oidc_validator_builder_set_any_audience(NULL, 1, e))
NULL_CASE(set_algorithms, oidc_validator_builder_set_algorithms(NULL, "RS256", 5, e))
NULL_CASE(set_leeway_secs, oidc_validator_builder_set_leeway_secs(NULL, 5, e))
NULL_CASE(add_required_claim, oidc_validator_builder_add_required_claim(NULL, S, e))
NULL_CASE(set_expected_typ, oidc_validator_builder_set_expected_typ(NULL, S, e))
NULL_CASE(set_max_token_bytes, oidc_validator_builder_set_max_token_bytes(NULL, 4096, e))
NULL_CASE(set_timeouts_ms, oidc_validator_builder_set_timeouts_ms(NULL, 100, 200, e))
NULL_CASE(set_max_response_bytes, oidc_validator_builder_set_max_response_bytes(NULL, 4096, e))
NULL_CASE(set_ca_file, oidc_validator_builder_set_ca_file(NULL, S, e))
NULL_CASE(set_allow_http_loopback, oidc_validator_builder_set_allow_http_loopback(NULL, 1, e))
NULL_CASE(set_cache_policy_secs, oidc_validator_builder_set_cache_policy_secs(NULL, 1, 2, 3, 4, e))
NULL_CASE(set_realm, oidc_validator_builder_set_realm(NULL, S, e))
NULL_CASE(build_builder, oidc_validator_builder_build(NULL, &(oidc_validator *){NULL}, e))
NULL_CASE(build_out, oidc_validator_builder_build(fixture_builder(), NULL, e)) /* consumes the builder */
NULL_CASE(validate_client, oidc_validate(NULL, S, &(char *){NULL}, NULL, e))
NULL_CASE(validate_token, oidc_validate(g_client, NULL, 10, &(char *){NULL}, NULL, e))
NULL_CASE(validate_claims_out, oidc_validate(g_client, FX_TOKEN_VALID_ES256, LEN(FX_TOKEN_VALID_ES256), NULL, NULL, e))
NULL_CASE(validate_at_client, oidc_validate_at(NULL, S, FX_NOW, &(char *){NULL}, NULL, e))
NULL_CASE(validate_at_token, oidc_validate_at(g_client, NULL, 10, FX_NOW, &(char *){NULL}, NULL, e))
NULL_CASE(validate_at_claims_out,
          oidc_validate_at(g_client, FX_TOKEN_VALID_ES256, LEN(FX_TOKEN_VALID_ES256), FX_NOW, NULL, NULL, e))
NULL_CASE(prefetch, oidc_validator_prefetch(NULL, e))
NULL_CASE(oauth_builder_new, oidc_oauth_builder_new(NULL, e))
NULL_CASE(oauth_set_issuer, oidc_oauth_builder_set_issuer(NULL, S, e))
NULL_CASE(oauth_set_client_id, oidc_oauth_builder_set_client_id(NULL, S, e))
NULL_CASE(oauth_set_client_secret, oidc_oauth_builder_set_client_secret(NULL, S, e))
NULL_CASE(oauth_set_auth_method, oidc_oauth_builder_set_auth_method(NULL, S, e))
NULL_CASE(oauth_set_ca_file, oidc_oauth_builder_set_ca_file(NULL, S, e))
NULL_CASE(oauth_set_endpoint, oidc_oauth_builder_set_endpoint(NULL, S, S, e))
NULL_CASE(oauth_set_timeouts_ms, oidc_oauth_builder_set_timeouts_ms(NULL, 100, 200, e))
NULL_CASE(oauth_set_allow_http_loopback, oidc_oauth_builder_set_allow_http_loopback(NULL, 1, e))
NULL_CASE(oauth_build_builder, oidc_oauth_builder_build(NULL, &(oidc_oauth_client *){NULL}, e))
NULL_CASE(oauth_build_out, oidc_oauth_builder_build(oauth_builder(), NULL, e)) /* consumes the builder */
NULL_CASE(request_new_client, oidc_oauth_request_new(NULL, OIDC_OP_CLIENT_CREDENTIALS, &(oidc_oauth_request *){NULL}, e))
NULL_CASE(request_new_out, oidc_oauth_request_new(g_oauth, OIDC_OP_CLIENT_CREDENTIALS, NULL, e))
NULL_CASE(request_set_string, oidc_oauth_request_set_string(NULL, OIDC_PARAM_CODE, S, e))
NULL_CASE(request_add_string, oidc_oauth_request_add_string(NULL, OIDC_PARAM_SCOPE, S, e))
NULL_CASE(request_set_int, oidc_oauth_request_set_int(NULL, OIDC_PARAM_DEADLINE_MS, 100, e))
NULL_CASE(request_add_param, oidc_oauth_request_add_param(NULL, S, S, e))
NULL_CASE(request_set_pending, oidc_oauth_request_set_pending(NULL, NULL, e))
NULL_CASE(request_set_pending_started, oidc_oauth_request_set_pending(g_req, NULL, e))
NULL_CASE(send_request, oidc_oauth_send(NULL, NULL, &(oidc_oauth_response *){NULL}, e))
NULL_CASE(send_out, oidc_oauth_send(g_req, NULL, NULL, e))
NULL_CASE(send_async_request, oidc_oauth_send_async(NULL, NULL, on_oauth_response, NULL, e))
NULL_CASE(send_async_callback, oidc_oauth_send_async(g_req, NULL, NULL, NULL, e))
NULL_CASE(cancel_new_out, oidc_cancel_new(0, NULL, e))
#undef S

#define N(id) {#id, null_##id}
static const struct {
    const char *name;
    oidc_result (*call)(oidc_error **);
} NULL_CASES[] = {
    N(builder_new), N(set_issuer), N(set_jwks_uri), N(set_jwks_json), N(add_audience), N(set_any_audience),
    N(set_algorithms), N(set_leeway_secs), N(add_required_claim), N(set_expected_typ), N(set_max_token_bytes),
    N(set_timeouts_ms), N(set_max_response_bytes), N(set_ca_file), N(set_allow_http_loopback),
    N(set_cache_policy_secs), N(set_realm), N(build_builder), N(build_out), N(validate_client), N(validate_token),
    N(validate_claims_out), N(validate_at_client), N(validate_at_token), N(validate_at_claims_out), N(prefetch),
    N(oauth_builder_new), N(oauth_set_issuer), N(oauth_set_client_id), N(oauth_set_client_secret),
    N(oauth_set_auth_method), N(oauth_set_ca_file), N(oauth_set_endpoint), N(oauth_set_timeouts_ms),
    N(oauth_set_allow_http_loopback), N(oauth_build_builder), N(oauth_build_out), N(request_new_client),
    N(request_new_out), N(request_set_string), N(request_add_string), N(request_set_int), N(request_add_param),
    N(request_set_pending), N(request_set_pending_started), N(send_request), N(send_out), N(send_async_request),
    N(send_async_callback), N(cancel_new_out),
};
#undef N

static oidc_oauth_builder *oauth_builder(void) {
    oidc_oauth_builder *b = NULL;
    CHECK_RC(oidc_oauth_builder_new(&b, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_oauth_builder_set_issuer(b, "https://127.0.0.1:1", 19, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_oauth_builder_set_client_id(b, "c1", 2, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_oauth_builder_set_timeouts_ms(b, 500, 1000, NULL), OIDC_RESULT_OK);
    return b;
}

/* --- string parameters: for each one, NULL with a length, invalid UTF-8, and (NULL, 0). */
typedef oidc_result (*str_call)(void *ctx, const char *s, size_t n, oidc_error **e);

/* The client-builder and protocol-builder setters, called on a builder passed as ctx. */
#define SETTER(fn, type) \
    static oidc_result str_##fn(void *ctx, const char *s, size_t n, oidc_error **e) { return fn((type *)ctx, s, n, e); }
SETTER(oidc_validator_builder_set_issuer, oidc_validator_builder)
SETTER(oidc_validator_builder_set_jwks_uri, oidc_validator_builder)
SETTER(oidc_validator_builder_set_jwks_json, oidc_validator_builder)
SETTER(oidc_validator_builder_add_audience, oidc_validator_builder)
SETTER(oidc_validator_builder_set_algorithms, oidc_validator_builder)
SETTER(oidc_validator_builder_add_required_claim, oidc_validator_builder)
SETTER(oidc_validator_builder_set_expected_typ, oidc_validator_builder)
SETTER(oidc_validator_builder_set_ca_file, oidc_validator_builder)
SETTER(oidc_validator_builder_set_realm, oidc_validator_builder)
SETTER(oidc_oauth_builder_set_issuer, oidc_oauth_builder)
SETTER(oidc_oauth_builder_set_client_id, oidc_oauth_builder)
SETTER(oidc_oauth_builder_set_client_secret, oidc_oauth_builder)
SETTER(oidc_oauth_builder_set_auth_method, oidc_oauth_builder)
SETTER(oidc_oauth_builder_set_ca_file, oidc_oauth_builder)
#undef SETTER
static oidc_result str_endpoint_name(void *ctx, const char *s, size_t n, oidc_error **e) {
    return oidc_oauth_builder_set_endpoint(ctx, s, n, "https://idp.example/token", 25, e);
}
static oidc_result str_endpoint_url(void *ctx, const char *s, size_t n, oidc_error **e) {
    return oidc_oauth_builder_set_endpoint(ctx, "token_endpoint", 14, s, n, e);
}
static oidc_result str_validate(void *ctx, const char *s, size_t n, oidc_error **e) {
    char *claims = NULL;
    oidc_result rc = oidc_validate(ctx, s, n, &claims, NULL, e);
    oidc_string_free(claims);
    return rc;
}
static oidc_result str_validate_at(void *ctx, const char *s, size_t n, oidc_error **e) {
    char *claims = NULL;
    oidc_result rc = oidc_validate_at(ctx, s, n, FX_NOW, &claims, NULL, e);
    oidc_string_free(claims);
    return rc;
}
/* The request object's string arguments (ctx: a fresh request, see new_handle). */
static oidc_result str_req_token(void *r, const char *s, size_t n, oidc_error **e) {
    return oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN, s, n, e);
}
static oidc_result str_req_hint(void *r, const char *s, size_t n, oidc_error **e) {
    return oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN_TYPE_HINT, s, n, e);
}
static oidc_result str_req_scope(void *r, const char *s, size_t n, oidc_error **e) {
    return oidc_oauth_request_add_string(r, OIDC_PARAM_SCOPE, s, n, e);
}
static oidc_result str_req_param_name(void *r, const char *s, size_t n, oidc_error **e) {
    return oidc_oauth_request_add_param(r, s, n, "v", 1, e);
}
static oidc_result str_req_param_value(void *r, const char *s, size_t n, oidc_error **e) {
    return oidc_oauth_request_add_param(r, "acr_values", 10, s, n, e);
}

enum handle_kind { CLIENT_BUILDER, OAUTH_BUILDER, CLIENT, OAUTH_REQUEST };
#define ANY_BUT_MISUSE ((oidc_result)0xFFFFFFFFu) /* (NULL, 0) passes the argument checks */

static const struct {
    const char *name;
    str_call call;
    enum handle_kind handle;
    oidc_result empty; /* result for (NULL, 0) */
    int remote;        /* the bytes come from the remote party (a token): bad UTF-8 is the token's fault */
} STRING_PARAMS[] = {
    {"oidc_validator_builder_set_issuer(issuer)", str_oidc_validator_builder_set_issuer, CLIENT_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_validator_builder_set_jwks_uri(uri)", str_oidc_validator_builder_set_jwks_uri, CLIENT_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_validator_builder_set_jwks_json(jwks_json)", str_oidc_validator_builder_set_jwks_json, CLIENT_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_validator_builder_add_audience(audience)", str_oidc_validator_builder_add_audience, CLIENT_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_validator_builder_set_algorithms(algorithms)", str_oidc_validator_builder_set_algorithms, CLIENT_BUILDER,
     OIDC_RESULT_INVALID_CONFIG /* an empty allow-list */, 0},
    {"oidc_validator_builder_add_required_claim(claim)", str_oidc_validator_builder_add_required_claim, CLIENT_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_validator_builder_set_expected_typ(typ)", str_oidc_validator_builder_set_expected_typ, CLIENT_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_validator_builder_set_ca_file(path)", str_oidc_validator_builder_set_ca_file, CLIENT_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_validator_builder_set_realm(realm)", str_oidc_validator_builder_set_realm, CLIENT_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_validate(token)", str_validate, CLIENT, OIDC_RESULT_TOKEN_MALFORMED, 1},
    {"oidc_validate_at(token)", str_validate_at, CLIENT, OIDC_RESULT_TOKEN_MALFORMED, 1},
    {"oidc_oauth_builder_set_issuer(issuer)", str_oidc_oauth_builder_set_issuer, OAUTH_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_oauth_builder_set_client_id(client_id)", str_oidc_oauth_builder_set_client_id, OAUTH_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_oauth_builder_set_client_secret(secret)", str_oidc_oauth_builder_set_client_secret, OAUTH_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_oauth_builder_set_auth_method(method)", str_oidc_oauth_builder_set_auth_method, OAUTH_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_oauth_builder_set_ca_file(path)", str_oidc_oauth_builder_set_ca_file, OAUTH_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_oauth_builder_set_endpoint(name)", str_endpoint_name, OAUTH_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_oauth_builder_set_endpoint(url)", str_endpoint_url, OAUTH_BUILDER, OIDC_RESULT_OK, 0},
    {"oidc_oauth_request_set_string(OIDC_OP_INTROSPECT, OIDC_PARAM_TOKEN)", str_req_token, OAUTH_REQUEST,
     OIDC_RESULT_INVALID_ARGUMENT /* an empty value */, 0},
    {"oidc_oauth_request_set_string(OIDC_OP_INTROSPECT, OIDC_PARAM_TOKEN_TYPE_HINT)", str_req_hint, OAUTH_REQUEST,
     OIDC_RESULT_INVALID_ARGUMENT, 0},
    {"oidc_oauth_request_add_string(OIDC_OP_INTROSPECT, OIDC_PARAM_SCOPE)", str_req_scope, OAUTH_REQUEST,
     OIDC_RESULT_INVALID_ARGUMENT /* no scope on introspection */, 0},
    {"oidc_oauth_request_add_param(name)", str_req_param_name, OAUTH_REQUEST, OIDC_RESULT_INVALID_ARGUMENT, 0},
    {"oidc_oauth_request_add_param(value)", str_req_param_value, OAUTH_REQUEST, ANY_BUT_MISUSE, 0},
};

static const char *const BAD_UTF8[] = {
    "\xff",             /* never valid */
    "abc\xc3",          /* truncated sequence */
    "\xc0\xaf",         /* overlong '/' */
    "\xed\xa0\x80",     /* UTF-16 surrogate */
    "\xf4\x90\x80\x80", /* above U+10FFFF */
    "https://issuer.test\x80",
};

/* The error object of a misuse failure. */
static void check_misuse_error(oidc_error *err, oidc_result rc) {
    CHECK(err != NULL && err != SENTINEL_ERR);
    if (!err || err == SENTINEL_ERR) return;
    CHECK(oidc_error_code(err) == rc);
    CHECK(oidc_error_message(err)[0] != 0);
    CHECK(oidc_error_http_status(err) == 500);
    CHECK(oidc_error_oauth_error(err) == NULL);
    oidc_error_free(err);
}

static void *new_handle(enum handle_kind k) {
    switch (k) {
    case CLIENT_BUILDER: {
        oidc_validator_builder *b = NULL;
        CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
        return b;
    }
    case OAUTH_BUILDER: return oauth_builder();
    case CLIENT: return g_client;
    case OAUTH_REQUEST: {
        oidc_oauth_request *r = NULL;
        CHECK_RC(oidc_oauth_request_new(g_oauth, OIDC_OP_INTROSPECT, &r, NULL), OIDC_RESULT_OK);
        return r;
    }
    }
    return NULL;
}

static void free_handle(enum handle_kind k, void *h) {
    if (k == CLIENT_BUILDER) oidc_validator_builder_free(h);
    if (k == OAUTH_BUILDER) oidc_oauth_builder_free(h);
    if (k == OAUTH_REQUEST) oidc_oauth_request_free(h);
}

static void test_misuse(void) {
    size_t i, j;
    for (i = 0; i < COUNT(NULL_CASES); i++) {
        oidc_error *err = SENTINEL_ERR;
        oidc_result rc;
        TEST_BEGIN("NULL argument: %s -> NULL_PARAMETER (with and without err_out)", NULL_CASES[i].name);
        rc = NULL_CASES[i].call(&err);
        CHECK_RC(rc, OIDC_RESULT_NULL_PARAMETER);
        check_misuse_error(err, rc);
        CHECK_RC(NULL_CASES[i].call(NULL), OIDC_RESULT_NULL_PARAMETER);
        TEST_END();
    }

    for (i = 0; i < COUNT(STRING_PARAMS); i++) {
        void *h = new_handle(STRING_PARAMS[i].handle);
        str_call call = STRING_PARAMS[i].call;
        oidc_error *err;
        oidc_result rc;
        TEST_BEGIN("string parameter %s: NULL with a length, invalid UTF-8, (NULL, 0)", STRING_PARAMS[i].name);
        err = SENTINEL_ERR;
        rc = call(h, NULL, 3, &err);
        CHECK_RC(rc, OIDC_RESULT_NULL_PARAMETER);
        check_misuse_error(err, rc);
        CHECK_RC(call(h, NULL, 3, NULL), OIDC_RESULT_NULL_PARAMETER);
        for (j = 0; j < COUNT(BAD_UTF8); j++) {
            oidc_result want = STRING_PARAMS[i].remote ? OIDC_RESULT_TOKEN_MALFORMED : OIDC_RESULT_INVALID_UTF8;
            err = SENTINEL_ERR;
            rc = call(h, BAD_UTF8[j], strlen(BAD_UTF8[j]), &err);
            CHECKF(rc == want, "bad UTF-8 #%zu: %s", j, rc_name(rc));
            if (STRING_PARAMS[i].remote) {
                /* a bad token is answered like any bad token: 401 invalid_token */
                CHECK(err != NULL && err != SENTINEL_ERR && oidc_error_http_status(err) == 401);
                CHECK(err != NULL && err != SENTINEL_ERR && oidc_error_oauth_error(err) != NULL);
                if (err != SENTINEL_ERR) oidc_error_free(err);
            } else {
                check_misuse_error(err, rc);
            }
            CHECK_RC(call(h, BAD_UTF8[j], strlen(BAD_UTF8[j]), NULL), want);
        }
        /* len 0 accepts NULL: an empty (or, where optional, absent) value */
        err = NULL;
        rc = call(h, NULL, 0, &err);
        if (STRING_PARAMS[i].empty == ANY_BUT_MISUSE)
            CHECKF(rc != OIDC_RESULT_NULL_PARAMETER && rc != OIDC_RESULT_INVALID_UTF8, "(NULL, 0): %s %s", rc_name(rc),
                   oidc_error_message(err));
        else
            CHECK_RC_ERR(rc, STRING_PARAMS[i].empty, err);
        oidc_error_free(err);
        free_handle(STRING_PARAMS[i].handle, h);
        TEST_END();
    }

    TEST_BEGIN("valid multi-byte UTF-8 passes the UTF-8 check");
    {
        oidc_validator_builder *b = fixture_builder();
        CHECK_RC(oidc_validator_builder_set_realm(b, "r\xc3\xa9\xf0\x9f\x94\x91", 7, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_add_audience(b, "\xe2\x82\xac", 3, NULL), OIDC_RESULT_OK);
        oidc_validator_free(build(b));
    }
    TEST_END();

    TEST_BEGIN("out-params untouched and err_out untouched where the call succeeds");
    {
        oidc_validator_builder *b = NULL;
        oidc_error *err = SENTINEL_ERR;
        char *claims = SENTINEL_STR;
        CHECK_RC(oidc_validator_builder_new(&b, &err), OIDC_RESULT_OK);
        CHECK(err == SENTINEL_ERR && b != NULL);
        CHECK_RC(oidc_validator_builder_set_leeway_secs(b, 5, &err), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_issuer(b, "x", 1, &err), OIDC_RESULT_OK);
        CHECK(err == SENTINEL_ERR);
        oidc_validator_builder_free(b);
        CHECK_RC(oidc_validate(NULL, "x", 1, &claims, NULL, NULL), OIDC_RESULT_NULL_PARAMETER);
        CHECK(claims == SENTINEL_STR);
    }
    TEST_END();

    TEST_BEGIN("_free(NULL) is a no-op for every handle type");
    oidc_validator_builder_free(NULL);
    oidc_validator_free(NULL);
    oidc_string_free(NULL);
    oidc_error_free(NULL);
    oidc_oauth_builder_free(NULL);
    oidc_oauth_client_free(NULL);
    oidc_oauth_request_free(NULL);
    oidc_oauth_response_free(NULL);
    oidc_cancel_free(NULL);
    TEST_END();

    TEST_BEGIN("accessors accept NULL");
    CHECK(oidc_error_code(NULL) == OIDC_RESULT_NULL_PARAMETER);
    CHECK(oidc_error_message(NULL) != NULL && oidc_error_message(NULL)[0] == 0);
    CHECK(oidc_error_www_authenticate(NULL) != NULL && oidc_error_www_authenticate(NULL)[0] == 0);
    CHECK(oidc_error_oauth_error(NULL) == NULL);
    CHECK(oidc_error_server_error(NULL, OIDC_FIELD_ERROR) == NULL);
    CHECK(oidc_error_http_status(NULL) == 0);
    CHECK(oidc_error_details_json(NULL) != NULL && oidc_error_details_json(NULL)[0] == 0);
    CHECK(oidc_oauth_response_operation(NULL) == 0);
    CHECK(oidc_oauth_response_string(NULL, OIDC_FIELD_ACCESS_TOKEN) == NULL);
    CHECK(oidc_oauth_response_int(NULL, OIDC_FIELD_EXPIRES_IN) == -1);
    CHECK(oidc_oauth_response_json(NULL, NULL) == NULL);
    {
        size_t n = 7;
        CHECK(oidc_oauth_response_json(NULL, &n) == NULL);
    }
    CHECK(oidc_cancel_is_cancelled(NULL) == 0);
    oidc_cancel_trigger(NULL);
    TEST_END();

    TEST_BEGIN("warm start, pool and logging entry points: NULL and bad input give codes, not crashes");
    {
        oidc_validator_builder *b = NULL;
        size_t n = 99;
        char *json = NULL;
        CHECK_RC(oidc_cache_export_json(NULL, NULL, NULL, NULL), OIDC_RESULT_NULL_PARAMETER);
        CHECK_RC(oidc_cache_export_json(NULL, &json, &n, NULL), OIDC_RESULT_OK);
        CHECK(json != NULL && json[0] == '{' && n == strlen(json));
        oidc_string_free(json);
        CHECK_RC(oidc_cache_import_json(NULL, NULL, 3, &n, NULL), OIDC_RESULT_NULL_PARAMETER);
        CHECK_RC(oidc_cache_import_json(NULL, "\xff", 1, &n, NULL), OIDC_RESULT_INVALID_UTF8);
        CHECK_RC(oidc_cache_import_json(NULL, "nope", 4, &n, NULL), OIDC_RESULT_INVALID_ARGUMENT);
        /* Snapshot key: bad input is refused; with a key, an unauthenticated snapshot is refused
           and an exported one (it carries a MAC) imports; clearing the key accepts plain ones. */
        {
            static const uint8_t key[] = "fleet snapshot key 0123456789";
            const char *plain = "{\"version\":1}";
            CHECK_RC(oidc_snapshot_set_key(NULL, 16, NULL), OIDC_RESULT_NULL_PARAMETER);
            CHECK_RC(oidc_snapshot_set_key(key, 5, NULL), OIDC_RESULT_INVALID_ARGUMENT);
            CHECK_RC(oidc_snapshot_set_key(key, sizeof key - 1, NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_cache_import_json(NULL, plain, strlen(plain), &n, NULL), OIDC_RESULT_INVALID_ARGUMENT);
            CHECK_RC(oidc_cache_export_json(NULL, &json, &n, NULL), OIDC_RESULT_OK);
            CHECK(json != NULL && strstr(json, "\"mac\"") != NULL);
            CHECK_RC(oidc_cache_import_json(NULL, json, strlen(json), &n, NULL), OIDC_RESULT_OK);
            oidc_string_free(json);
            json = NULL;
            CHECK_RC(oidc_snapshot_set_key(NULL, 0, NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_cache_import_json(NULL, plain, strlen(plain), &n, NULL), OIDC_RESULT_OK);
        }
        CHECK_RC(oidc_validator_builder_set_prefetch(NULL, OIDC_PREFETCH_NONE, NULL), OIDC_RESULT_NULL_PARAMETER);
        CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
        CHECK(oidc_validator_builder_set_prefetch(b, 99, NULL) != OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_prefetch(b, OIDC_PREFETCH_NONE, NULL), OIDC_RESULT_OK);
        oidc_validator_builder_free(b);
        /* Revocation lists: NULL handles, a NULL URL with a length, policy 0, bounds before the
         * list, UTF-8; the default URL (NULL, 0) and bounds of 0 (the defaults) are accepted. */
        CHECK_RC(oidc_validator_builder_set_revocation(NULL, NULL, 0, OIDC_REVOCATION_FAIL_CLOSED, 0, NULL), OIDC_RESULT_NULL_PARAMETER);
        CHECK_RC(oidc_validator_builder_set_revocation_bounds(NULL, 0, 0, NULL), OIDC_RESULT_NULL_PARAMETER);
        CHECK_RC(oidc_validator_drop_keys(NULL, NULL, 0, NULL), OIDC_RESULT_NULL_PARAMETER);
        CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_revocation_bounds(b, 30, 60, NULL), OIDC_RESULT_INVALID_ARGUMENT);
        oidc_validator_builder_free(b);
        CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_revocation(b, NULL, 0, 0, 0, NULL), OIDC_RESULT_INVALID_ARGUMENT);
        oidc_validator_builder_free(b);
        CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_revocation(b, NULL, 5, OIDC_REVOCATION_FAIL_OPEN, 0, NULL), OIDC_RESULT_NULL_PARAMETER);
        oidc_validator_builder_free(b);
        CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_revocation(b, "\xff", 1, OIDC_REVOCATION_FAIL_OPEN, 0, NULL), OIDC_RESULT_INVALID_UTF8);
        oidc_validator_builder_free(b);
        CHECK_RC(oidc_validator_builder_new(&b, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_revocation(b, NULL, 0, OIDC_REVOCATION_FAIL_CLOSED, 600, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_builder_set_revocation_bounds(b, 0, 0, NULL), OIDC_RESULT_OK);
        oidc_validator_builder_free(b);
        /* drop_keys on a live (static-key) client: every issuer, its own issuer; another one is refused. */
        CHECK_RC(oidc_validator_drop_keys(g_client, NULL, 0, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_validator_drop_keys(g_client, "https://not-ours.example", 24, NULL), OIDC_RESULT_INVALID_ARGUMENT);
        CHECK_RC(oidc_validator_drop_keys(g_client, NULL, 3, NULL), OIDC_RESULT_NULL_PARAMETER);
        CHECK_RC(oidc_oauth_send_async(NULL, NULL, NULL, NULL, NULL), OIDC_RESULT_NULL_PARAMETER);
        CHECK_RC(oidc_set_log_callback(NULL, NULL, 0, NULL), OIDC_RESULT_OK); /* NULL clears */
        CHECK(oidc_async_configure(0, 0, NULL) == OIDC_RESULT_OK || oidc_async_configure(0, 0, NULL) == OIDC_RESULT_INVALID_ARGUMENT);
        CHECK_RC(oidc_async_configure(0, 4096, NULL), OIDC_RESULT_OK);
    }
    TEST_END();

    TEST_BEGIN("cache_set_max_entries accepts 0 and large values");
    oidc_cache_set_max_entries(0);
    oidc_cache_set_max_entries(SIZE_MAX);
    oidc_cache_set_max_entries(64);
    CHECK_RC(validate_code(g_client, FX_TOKEN_VALID_ES256, FX_NOW), OIDC_RESULT_OK);
    TEST_END();

    TEST_BEGIN("builder_free on configured builders; build after failed setters");
    {
        oidc_validator_builder *b = fixture_builder();
        oidc_validator_builder_free(b);
        oidc_oauth_builder_free(oauth_builder());
        b = fixture_builder();
        CHECK_RC(oidc_validator_builder_set_issuer(b, "\xff", 1, NULL), OIDC_RESULT_INVALID_UTF8);
        CHECK_RC(oidc_validator_builder_set_algorithms(b, "none", 4, NULL), OIDC_RESULT_UNSUPPORTED_ALGORITHM);
        CHECK_RC(oidc_validator_builder_set_issuer(b, FX_ISSUER, LEN(FX_ISSUER), NULL), OIDC_RESULT_OK);
        {
            /* sticky: the first failed setter's code, even after good values */
            oidc_validator *c = SENTINEL_CLIENT;
            oidc_error *err = NULL;
            CHECK_RC_ERR(oidc_validator_builder_build(b, &c, &err), OIDC_RESULT_INVALID_UTF8, err);
            CHECK(c == SENTINEL_CLIENT && err != NULL && oidc_error_code(err) == OIDC_RESULT_INVALID_UTF8);
            oidc_error_free(err);
        }
    }
    TEST_END();
}

/* The protocol client's build-time checks (no network). */
static void test_oauth_config(void) {
    static const struct {
        const char *name, *issuer, *client_id, *secret, *method;
        oidc_result expected;
    } cases[] = {
        {"public client", "https://idp.example", "c1", NULL, NULL, OIDC_RESULT_OK},
        {"client_secret_basic by default with a secret", "https://idp.example", "c1", "s3cr3t-value", NULL, OIDC_RESULT_OK},
        {"client_secret_post", "https://idp.example", "c1", "s3cr3t-value", "client_secret_post", OIDC_RESULT_OK},
        {"auth method none with a secret", "https://idp.example", "c1", "s3cr3t-value", "none", OIDC_RESULT_INVALID_CONFIG},
        {"client_secret_basic without a secret", "https://idp.example", "c1", NULL, "client_secret_basic",
         OIDC_RESULT_INVALID_CONFIG},
        {"unknown auth method", "https://idp.example", "c1", "s3cr3t-value", "private_key_jwt_typo", OIDC_RESULT_INVALID_CONFIG},
        {"no issuer", "", "c1", NULL, NULL, OIDC_RESULT_INVALID_CONFIG},
        {"http issuer", "http://idp.example", "c1", NULL, NULL, OIDC_RESULT_INSECURE_URL},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        oidc_oauth_builder *b = NULL;
        oidc_oauth_client *c = NULL;
        oidc_error *err = NULL;
        oidc_result rc;
        TEST_BEGIN("oauth config: %s -> %s", cases[i].name, rc_name(cases[i].expected));
        CHECK_RC(oidc_oauth_builder_new(&b, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_oauth_builder_set_issuer(b, cases[i].issuer, strlen(cases[i].issuer), NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_oauth_builder_set_client_id(b, cases[i].client_id, strlen(cases[i].client_id), NULL), OIDC_RESULT_OK);
        if (cases[i].secret)
            CHECK_RC(oidc_oauth_builder_set_client_secret(b, cases[i].secret, strlen(cases[i].secret), NULL), OIDC_RESULT_OK);
        if (cases[i].method)
            CHECK_RC(oidc_oauth_builder_set_auth_method(b, cases[i].method, strlen(cases[i].method), NULL), OIDC_RESULT_OK);
        rc = oidc_oauth_builder_build(b, &c, &err);
        CHECK_RC_ERR(rc, cases[i].expected, err);
        if (rc != OIDC_RESULT_OK) {
            CHECK(c == NULL);
            check_config_error(err, rc);
            CHECKF(!str_has(oidc_error_message(err), "s3cr3t"), "message shows the secret: %s", oidc_error_message(err));
            CHECKF(!str_has(oidc_error_details_json(err), "s3cr3t"), "details show the secret");
        }
        oidc_error_free(err);
        oidc_oauth_client_free(c);
        TEST_END();
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The protocol request object's rules (ABI 0.2): no network is needed for any of them         */

/* A non-blocking send's completion, for the tests below. */
struct rq_wait {
    pthread_mutex_t m;
    pthread_cond_t cv;
    int calls;
    oidc_result rc;
    int had_response, had_error;
};
static void rq_done(void *ud, oidc_result rc, oidc_oauth_response *resp, const oidc_error *err) {
    struct rq_wait *w = ud;
    pthread_mutex_lock(&w->m);
    w->calls++;
    w->rc = rc;
    w->had_response = resp != NULL;
    w->had_error = err != NULL && oidc_error_code(err) == rc;
    oidc_oauth_response_free(resp); /* owned by the host: freed unread */
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->m);
}
/* Send non-blocking and wait (10 s at most); the callback's code, or the refusal of send_async
 * (then checked: no callback). */
static oidc_result rq_async(const oidc_oauth_request *r, const oidc_cancel *c, struct rq_wait *w) {
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->calls = 0;
    oidc_result rc = oidc_oauth_send_async(r, c, rq_done, w, NULL);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += rc == OIDC_RESULT_OK ? 10 : 0;
    ts.tv_nsec += 20 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->m);
    while (w->calls == 0 && pthread_cond_timedwait(&w->cv, &w->m, &ts) == 0) {
    }
    pthread_mutex_unlock(&w->m);
    if (rc != OIDC_RESULT_OK) {
        CHECKF(w->calls == 0, "send_async refused the call (%s), yet its callback ran", rc_name(rc));
        return rc;
    }
    CHECKF(w->calls == 1, "%d callbacks", w->calls);
    CHECK(w->had_response == (w->rc == OIDC_RESULT_OK) && w->had_error == (w->rc != OIDC_RESULT_OK));
    return w->calls ? w->rc : (oidc_result)0xFFFF;
}
static oidc_result rq_send(const oidc_oauth_request *r, const oidc_cancel *c) {
    oidc_oauth_response *resp = NULL;
    oidc_result rc = oidc_oauth_send(r, c, &resp, NULL);
    CHECK((resp != NULL) == (rc == OIDC_RESULT_OK));
    oidc_oauth_response_free(resp);
    return rc;
}
static oidc_oauth_request *new_req(oidc_operation op) {
    oidc_oauth_request *r = NULL;
    CHECK_RC(oidc_oauth_request_new(g_oauth, op, &r, NULL), OIDC_RESULT_OK);
    return r;
}

/* The result and message of a setter call, checked: INVALID_ARGUMENT, naming `needle`. */
static void setter_refused(oidc_result rc, oidc_error *err, const char *needle, const char *what) {
    CHECKF(rc == OIDC_RESULT_INVALID_ARGUMENT, "%s: %s", what, rc_name(rc));
    CHECKF(err != NULL && oidc_error_code(err) == rc, "%s: error object", what);
    if (needle) CHECKF(str_has(oidc_error_message(err), needle), "%s: message %s (want %s)", what, oidc_error_message(err), needle);
    oidc_error_free(err);
}
#define SETTER_REFUSED(call, needle)                                                               \
    do {                                                                                           \
        oidc_error *err = NULL;                                                                    \
        oidc_result r_ = (call);                                                                   \
        setter_refused(r_, err, (needle), #call);                                                  \
    } while (0)

static void test_oauth_request_rules(void) {
    oidc_oauth_request *r;
    struct rq_wait w;

    TEST_BEGIN("request: a parameter that does not apply to the operation is refused at the setter");
    r = new_req(OIDC_OP_REFRESH);
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_CODE, "x", 1, &err), "OIDC_PARAM_CODE");
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_CODE, "x", 1, &err), "OIDC_OP_REFRESH");
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_URL, "https://x", 9, &err), "OIDC_PARAM_URL");
    SETTER_REFUSED(oidc_oauth_request_set_int(r, OIDC_PARAM_SIGNED_RESPONSE, 1, &err), "OIDC_PARAM_SIGNED_RESPONSE");
    SETTER_REFUSED(oidc_oauth_request_add_string(r, OIDC_PARAM_AUDIENCE, "a", 1, &err), "OIDC_PARAM_AUDIENCE");
    oidc_oauth_request_free(r);
    r = new_req(OIDC_OP_CLIENT_CREDENTIALS);
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_REFRESH_TOKEN, "x", 1, &err), "OIDC_PARAM_REFRESH_TOKEN");
    SETTER_REFUSED(oidc_oauth_request_set_int(r, OIDC_PARAM_NO_STATE_SENT, 1, &err), "OIDC_PARAM_NO_STATE_SENT");
    oidc_oauth_request_free(r);
    r = new_req(OIDC_OP_INTROSPECT);
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_REDIRECT_URI, "https://x/cb", 12, &err), "OIDC_PARAM_REDIRECT_URI");
    oidc_oauth_request_free(r);
    TEST_END();

    TEST_BEGIN("request: the wrong setter for a parameter's kind, unknown parameters, bad values");
    r = new_req(OIDC_OP_CLIENT_CREDENTIALS);
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_SCOPE, "read", 4, &err), "list");
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_DEADLINE_MS, "100", 3, &err), NULL);
    SETTER_REFUSED(oidc_oauth_request_set_int(r, OIDC_PARAM_SCOPE, 1, &err), NULL);
    SETTER_REFUSED(oidc_oauth_request_add_string(r, OIDC_PARAM_DEADLINE_MS, "1", 1, &err), NULL);
    SETTER_REFUSED(oidc_oauth_request_set_string(r, 9999, "x", 1, &err), NULL);
    SETTER_REFUSED(oidc_oauth_request_set_int(r, 9999, 1, &err), NULL);
    SETTER_REFUSED(oidc_oauth_request_add_string(r, OIDC_PARAM_SCOPE, "read write", 10, &err), "one scope per call");
    SETTER_REFUSED(oidc_oauth_request_add_string(r, OIDC_PARAM_SCOPE, "", 0, &err), NULL);
    SETTER_REFUSED(oidc_oauth_request_set_int(r, OIDC_PARAM_DEADLINE_MS, 0, &err), NULL);
    SETTER_REFUSED(oidc_oauth_request_set_int(r, OIDC_PARAM_DEADLINE_MS, -5, &err), NULL);
    SETTER_REFUSED(oidc_oauth_request_set_int(r, OIDC_PARAM_USE_CACHE, 2, &err), NULL);
    CHECK_RC(oidc_oauth_request_add_string(r, OIDC_PARAM_AUDIENCE, "a", 1, NULL), OIDC_RESULT_OK);
    SETTER_REFUSED(oidc_oauth_request_add_string(r, OIDC_PARAM_AUDIENCE, "b", 1, &err), NULL); /* at most one */
    CHECK_RC(oidc_oauth_request_add_string(r, OIDC_PARAM_SCOPE, "read", 4, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_oauth_request_add_string(r, OIDC_PARAM_SCOPE, "write", 5, NULL), OIDC_RESULT_OK);
    CHECK_RC(oidc_oauth_request_set_int(r, OIDC_PARAM_DEADLINE_MS, 5000, NULL), OIDC_RESULT_OK);
    oidc_oauth_request_free(r);
    {
        oidc_oauth_request *x = NULL;
        oidc_error *err = NULL;
        CHECK_RC_ERR(oidc_oauth_request_new(g_oauth, 0, &x, &err), OIDC_RESULT_INVALID_ARGUMENT, err);
        oidc_error_free(err);
        CHECK_RC(oidc_oauth_request_new(g_oauth, 99, &x, NULL), OIDC_RESULT_INVALID_ARGUMENT);
        CHECK(x == NULL);
    }
    r = new_req(OIDC_OP_RESOURCE);
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_METHOD, "TRACE", 5, &err), NULL);
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN_TYPE, "Basic", 5, &err), NULL);
    oidc_oauth_request_free(r);
    r = new_req(OIDC_OP_REGISTER);
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_METADATA, "[1]", 3, &err), "JSON object");
    SETTER_REFUSED(oidc_oauth_request_set_string(r, OIDC_PARAM_METADATA, "{", 1, &err), NULL);
    oidc_oauth_request_free(r);
    TEST_END();

    TEST_BEGIN("request: add_param refuses the names liboidc sets and those with a typed parameter");
    {
        static const char *const reserved[] = {"grant_type", "client_id", "client_secret", "client_assertion",
                                               "client_assertion_type"};
        static const struct {
            oidc_operation op;
            const char *name, *param;
        } typed[] = {
            {OIDC_OP_REFRESH, "refresh_token", "OIDC_PARAM_REFRESH_TOKEN"},
            {OIDC_OP_CLIENT_CREDENTIALS, "scope", "OIDC_PARAM_SCOPE"},
            {OIDC_OP_CLIENT_CREDENTIALS, "resource", "OIDC_PARAM_RESOURCE"},
            {OIDC_OP_AUTHORIZATION_CODE, "code", "OIDC_PARAM_CODE"},
            {OIDC_OP_AUTHORIZATION_CODE, "code_verifier", "OIDC_PARAM_CODE_VERIFIER"},
            {OIDC_OP_TOKEN_EXCHANGE, "subject_token", "OIDC_PARAM_SUBJECT_TOKEN"},
            {OIDC_OP_INTROSPECT, "token", "OIDC_PARAM_TOKEN"},
            {OIDC_OP_AUTHORIZATION_URL, "state", "OIDC_PARAM_STATE"},
            {OIDC_OP_CIBA_REQUEST, "login_hint", "OIDC_PARAM_LOGIN_HINT"},
        };
        static const oidc_operation sending[] = {OIDC_OP_CLIENT_CREDENTIALS, OIDC_OP_INTROSPECT, OIDC_OP_AUTHORIZATION_URL,
                                                 OIDC_OP_DEVICE_AUTHORIZATION, OIDC_OP_USERINFO};
        size_t i, j;
        for (j = 0; j < COUNT(sending); j++) {
            r = new_req(sending[j]);
            for (i = 0; i < COUNT(reserved); i++)
                SETTER_REFUSED(oidc_oauth_request_add_param(r, reserved[i], strlen(reserved[i]), "x", 1, &err), reserved[i]);
            CHECK_RC(oidc_oauth_request_add_param(r, "acr_values", 10, "urn:x", 5, NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_oauth_request_add_param(r, "acr_values", 10, "urn:y", 5, NULL), OIDC_RESULT_OK); /* may repeat */
            oidc_oauth_request_free(r);
        }
        for (i = 0; i < COUNT(typed); i++) {
            r = new_req(typed[i].op);
            SETTER_REFUSED(oidc_oauth_request_add_param(r, typed[i].name, strlen(typed[i].name), "x", 1, &err), typed[i].param);
            oidc_oauth_request_free(r);
        }
        r = new_req(OIDC_OP_AUTHORIZATION_URL);
        SETTER_REFUSED(oidc_oauth_request_add_param(r, "code_challenge_method", 21, "plain", 5, &err), NULL);
        oidc_oauth_request_free(r);
        r = new_req(OIDC_OP_PUSHED_AUTHORIZATION);
        SETTER_REFUSED(oidc_oauth_request_add_param(r, "code_challenge_method", 21, "plain", 5, &err), NULL);
        oidc_oauth_request_free(r);
        /* where liboidc sends no code challenge it is a custom parameter (Keycloak's PKCE on the
           device authorization request of a PKCE-enforcing client) */
        r = new_req(OIDC_OP_DEVICE_AUTHORIZATION);
        CHECK_RC(oidc_oauth_request_add_param(r, "code_challenge_method", 21, "S256", 4, NULL), OIDC_RESULT_OK);
        oidc_oauth_request_free(r);
        r = new_req(OIDC_OP_VALIDATE_ID_TOKEN);
        SETTER_REFUSED(oidc_oauth_request_add_param(r, "x", 1, "y", 1, &err), "sends nothing");
        oidc_oauth_request_free(r);
    }
    TEST_END();

    TEST_BEGIN("request: a missing required parameter is refused at send, on both paths (no callback)");
    {
        static const struct {
            oidc_operation op;
            const char *needle;
        } missing[] = {
            {OIDC_OP_AUTHORIZATION_CODE, "OIDC_PARAM_CODE"}, {OIDC_OP_REFRESH, "OIDC_PARAM_REFRESH_TOKEN"},
            {OIDC_OP_TOKEN_EXCHANGE, "OIDC_PARAM_SUBJECT_TOKEN"}, {OIDC_OP_JWT_BEARER, "exactly one"},
            {OIDC_OP_CUSTOM_GRANT, "OIDC_PARAM_GRANT_TYPE"}, {OIDC_OP_DEVICE_POLL, "oidc_oauth_request_set_pending"},
            {OIDC_OP_INTROSPECT, "OIDC_PARAM_TOKEN"}, {OIDC_OP_REVOKE, "OIDC_PARAM_TOKEN"},
            {OIDC_OP_USERINFO, "OIDC_PARAM_ACCESS_TOKEN"}, {OIDC_OP_AUTHORIZATION_RESPONSE, "OIDC_PARAM_RESPONSE"},
            {OIDC_OP_VALIDATE_ID_TOKEN, "OIDC_PARAM_ID_TOKEN"}, {OIDC_OP_REGISTER, "OIDC_PARAM_METADATA"},
            {OIDC_OP_REGISTRATION_READ, "OIDC_PARAM_REGISTRATION"}, {OIDC_OP_RESOURCE, "OIDC_PARAM_"},
            {OIDC_OP_ENDPOINT, "OIDC_PARAM_ENDPOINT_NAME"},
        };
        size_t i;
        for (i = 0; i < COUNT(missing); i++) {
            oidc_error *err = NULL;
            oidc_oauth_response *resp = NULL;
            r = new_req(missing[i].op);
            CHECK_RC(oidc_oauth_send(r, NULL, &resp, &err), OIDC_RESULT_INVALID_ARGUMENT);
            CHECKF(str_has(oidc_error_message(err), missing[i].needle), "op %u: %s (want %s)", (unsigned)missing[i].op,
                   oidc_error_message(err), missing[i].needle);
            CHECK(resp == NULL);
            oidc_error_free(err);
            CHECK_RC(rq_async(r, NULL, &w), OIDC_RESULT_INVALID_ARGUMENT);
            oidc_oauth_request_free(r);
        }
        /* AUTHORIZATION_RESPONSE: neither EXPECTED_STATE nor NO_STATE_SENT */
        r = new_req(OIDC_OP_AUTHORIZATION_RESPONSE);
        CHECK_RC(oidc_oauth_request_set_string(r, OIDC_PARAM_RESPONSE, "code=x", 6, NULL), OIDC_RESULT_OK);
        CHECK_RC(rq_send(r, NULL), OIDC_RESULT_INVALID_ARGUMENT);
        CHECK_RC(rq_async(r, NULL, &w), OIDC_RESULT_INVALID_ARGUMENT);
        CHECK_RC(oidc_oauth_request_set_int(r, OIDC_PARAM_NO_STATE_SENT, 1, NULL), OIDC_RESULT_OK);
        /* complete now: it passes the checks and needs discovery (the issuer refuses): the same on both paths */
        CHECK_RC(rq_send(r, NULL), OIDC_RESULT_NETWORK);
        CHECK_RC(rq_async(r, NULL, &w), OIDC_RESULT_NETWORK);
        oidc_oauth_request_free(r);
    }
    TEST_END();

    TEST_BEGIN("request: cancel and deadline are the same on both paths (before any network step)");
    {
        oidc_cancel *c = NULL;
        r = new_req(OIDC_OP_INTROSPECT);
        CHECK_RC(oidc_oauth_request_set_string(r, OIDC_PARAM_TOKEN, "t", 1, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_cancel_new(0, &c, NULL), OIDC_RESULT_OK);
        CHECK(oidc_cancel_is_cancelled(c) == 0);
        oidc_cancel_trigger(c);
        CHECK(oidc_cancel_is_cancelled(c) == 1);
        CHECK_RC(rq_send(r, c), OIDC_RESULT_CANCELLED);
        CHECK_RC(rq_async(r, c, &w), OIDC_RESULT_CANCELLED);
        oidc_cancel_free(c);
        CHECK_RC(oidc_cancel_new(1, &c, NULL), OIDC_RESULT_OK);
        {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        CHECK_RC(rq_send(r, c), OIDC_RESULT_DEADLINE_EXCEEDED);
        CHECK_RC(rq_async(r, c, &w), OIDC_RESULT_DEADLINE_EXCEEDED);
        CHECK(oidc_cancel_is_cancelled(c) == 0);
        oidc_cancel_free(c);
        oidc_oauth_request_free(r);
    }
    TEST_END();

    TEST_BEGIN("request: copied at send (freed right after send_async); the response is the host's on the async path");
    {
        oidc_oauth_builder *b = oauth_builder();
        oidc_oauth_client *c = NULL;
        int i;
        CHECK_RC(oidc_oauth_builder_set_endpoint(b, "token_endpoint", 14, "https://127.0.0.1:1/token", 25, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_oauth_builder_build(b, &c, NULL), OIDC_RESULT_OK);
        for (i = 0; c && i < 50; i++) {
            struct rq_wait *ws = calloc(1, sizeof *ws);
            oidc_oauth_request *e = NULL;
            oidc_oauth_response *resp = NULL;
            CHECK_RC(oidc_oauth_request_new(c, OIDC_OP_ENDPOINT, &e, NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_oauth_request_set_string(e, OIDC_PARAM_ENDPOINT_NAME, "token_endpoint", 14, NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_oauth_send(e, NULL, &resp, NULL), OIDC_RESULT_OK);
            CHECK(str_has(oidc_oauth_response_string(resp, OIDC_FIELD_URL), "https://127.0.0.1:1/token"));
            CHECK(oidc_oauth_response_operation(resp) == OIDC_OP_ENDPOINT);
            oidc_oauth_response_free(resp);
            pthread_mutex_init(&ws->m, NULL);
            pthread_cond_init(&ws->cv, NULL);
            CHECK_RC(oidc_oauth_send_async(e, NULL, rq_done, ws, NULL), OIDC_RESULT_OK);
            oidc_oauth_request_free(e); /* the send copied it */
            pthread_mutex_lock(&ws->m);
            while (ws->calls == 0) pthread_cond_wait(&ws->cv, &ws->m);
            pthread_mutex_unlock(&ws->m);
            CHECK(ws->calls == 1 && ws->rc == OIDC_RESULT_OK && ws->had_response);
            pthread_mutex_destroy(&ws->m);
            pthread_cond_destroy(&ws->cv);
            free(ws);
        }
        oidc_oauth_client_free(c);
    }
    TEST_END();

    TEST_BEGIN("request: a client without a client id sends only OIDC_OP_REGISTER");
    {
        oidc_oauth_builder *b = NULL;
        oidc_oauth_client *c = NULL;
        oidc_oauth_request *x = NULL;
        oidc_error *err = NULL;
        CHECK_RC(oidc_oauth_builder_new(&b, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_oauth_builder_set_issuer(b, "https://127.0.0.1:1", 19, NULL), OIDC_RESULT_OK);
        CHECK_RC(oidc_oauth_builder_build(b, &c, NULL), OIDC_RESULT_OK);
        CHECK_RC_ERR(oidc_oauth_request_new(c, OIDC_OP_CLIENT_CREDENTIALS, &x, &err), OIDC_RESULT_INVALID_CONFIG, err);
        CHECK(x == NULL && str_has(oidc_error_message(err), "OIDC_OP_REGISTER"));
        oidc_error_free(err);
        CHECK_RC(oidc_oauth_request_new(c, OIDC_OP_REGISTER, &x, NULL), OIDC_RESULT_OK);
        oidc_oauth_request_free(x);
        oidc_oauth_client_free(c);
    }
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */
/* Result codes, version, panic                                                                */

#define R(name) {OIDC_RESULT_##name, #name}
static const struct {
    oidc_result code;
    const char *name;
} RESULT_CODES[] = {
    R(OK), R(NULL_PARAMETER), R(INVALID_UTF8), R(INVALID_ARGUMENT), R(PANIC), R(INTERNAL), R(QUEUE_FULL),
    R(INVALID_CONFIG), R(INSECURE_URL), R(CA_FILE), R(UNSUPPORTED_ALGORITHM), R(DISCOVERY_INVALID),
    R(DISCOVERY_ISSUER_MISMATCH), R(JWKS_INVALID), R(NETWORK), R(TIMEOUT), R(TLS), R(HTTP_STATUS),
    R(RESPONSE_TOO_LARGE), R(RESPONSE_INVALID), R(REDIRECT_REJECTED), R(KEYS_UNAVAILABLE), R(TOKEN_MALFORMED),
    R(TOKEN_TOO_LARGE), R(ALGORITHM_NOT_ALLOWED), R(UNKNOWN_KEY), R(SIGNATURE_INVALID),
    R(TOKEN_EXPIRED), R(TOKEN_NOT_YET_VALID), R(TOKEN_ISSUED_IN_FUTURE), R(ISSUER_MISMATCH),
    R(AUDIENCE_MISMATCH), R(MISSING_CLAIM), R(INVALID_CLAIM), R(TYPE_MISMATCH), R(CRIT_UNSUPPORTED),
    R(KEY_REJECTED), R(OAUTH_ERROR), R(INVALID_REQUEST), R(INVALID_CLIENT), R(INVALID_GRANT),
    R(UNAUTHORIZED_CLIENT), R(UNSUPPORTED_GRANT_TYPE), R(INVALID_SCOPE), R(AUTHORIZATION_PENDING), R(SLOW_DOWN),
    R(ACCESS_DENIED), R(EXPIRED_TOKEN), R(INVALID_TARGET), R(USE_DPOP_NONCE), R(INVALID_DPOP_PROOF),
    R(UNSUPPORTED_TOKEN_TYPE), R(INVALID_CLIENT_METADATA), R(INVALID_REDIRECT_URI), R(INVALID_TOKEN),
    R(INSUFFICIENT_SCOPE), R(RESPONSE_MISSING_FIELD), R(STATE_MISMATCH), R(NONCE_MISMATCH), R(HASH_MISMATCH),
    R(AZP_MISMATCH), R(AUTH_TIME_INVALID), R(SUBJECT_MISMATCH), R(RESPONSE_ISSUER_MISMATCH), R(DEADLINE_EXCEEDED),
    R(CANCELLED), R(REQUEST_MALFORMED), R(TOKEN_MISSING), R(DPOP_PROOF_INVALID), R(DPOP_PROOF_MISMATCH),
    R(DPOP_PROOF_STALE), R(DPOP_REPLAY), R(DPOP_NONCE_REQUIRED), R(TOKEN_BINDING_MISMATCH), R(CLAIM_NOT_ALLOWED),
    R(REPLAY_STORE_UNAVAILABLE), R(CLIENT_CERT), R(PROXY), R(REVOCATION_UNAVAILABLE), R(DECRYPTION_FAILED),
    R(REVOKED), R(TOKEN_REPLAYED),
};
#undef R

static void test_result_codes(void) {
    size_t i;
    uint32_t v;
    unsigned known = 0;
    static const uint32_t unknown[] = {4, 10, 99, 105, 199, 210, 299, 318, 399, 419, 499, 510, 599, 1000, UINT32_MAX};

    TEST_BEGIN("oidc_result_name/str for every header code");
    for (i = 0; i < COUNT(RESULT_CODES); i++) {
        const char *name = oidc_result_name(RESULT_CODES[i].code);
        const char *str = oidc_result_str(RESULT_CODES[i].code);
        CHECKF(name && strcmp(name, RESULT_CODES[i].name) == 0, "code %u: name %s, header says %s",
               (unsigned)RESULT_CODES[i].code, name ? name : "(null)", RESULT_CODES[i].name);
        CHECKF(str && str[0] && strcmp(str, "unknown result code") != 0, "code %u: str %s",
               (unsigned)RESULT_CODES[i].code, str ? str : "(null)");
        CHECK(oidc_result_name(RESULT_CODES[i].code) == name); /* static: same pointer each time */
    }
    TEST_END();

    TEST_BEGIN("unknown codes: name NULL, str \"unknown result code\"; library knows exactly the header's codes");
    for (i = 0; i < COUNT(unknown); i++) {
        CHECK(oidc_result_name(unknown[i]) == NULL);
        CHECK(oidc_result_str(unknown[i]) && strcmp(oidc_result_str(unknown[i]), "unknown result code") == 0);
    }
    for (v = 0; v < 1024; v++)
        if (oidc_result_name(v)) known++;
    CHECKF(known == COUNT(RESULT_CODES), "library names %u codes, header has %u", known, (unsigned)COUNT(RESULT_CODES));
    TEST_END();

    TEST_BEGIN("every code is below 600 (misuse 1-99, config 100s, network 200s, token 300s, OAuth 400s, response 500s)");
    for (i = 0; i < COUNT(RESULT_CODES); i++) CHECKF(RESULT_CODES[i].code < 600, "%s", RESULT_CODES[i].name);
    CHECK(OIDC_RESULT_NULL_PARAMETER < 100 && OIDC_RESULT_INVALID_CONFIG / 100 == 1 && OIDC_RESULT_TLS / 100 == 2);
    CHECK(OIDC_RESULT_TOKEN_MALFORMED / 100 == 3 && OIDC_RESULT_KEY_REJECTED / 100 == 3);
    CHECK(OIDC_RESULT_INVALID_GRANT / 100 == 4 && OIDC_RESULT_NONCE_MISMATCH / 100 == 5);
    TEST_END();
}

static void test_version(void) {
    char want[64];
    TEST_BEGIN("oidc_version matches OIDC_VERSION_MAJOR/MINOR/PATCH");
    snprintf(want, sizeof want, "%d.%d.%d", OIDC_VERSION_MAJOR, OIDC_VERSION_MINOR, OIDC_VERSION_PATCH);
    CHECKF(oidc_version() && strcmp(oidc_version(), want) == 0, "library %s, header %s", oidc_version(), want);
    TEST_END();
    TEST_BEGIN("oidc_version_number() == OIDC_VERSION_NUMBER");
    CHECKF(oidc_version_number() == OIDC_VERSION_NUMBER, "library 0x%06x, header 0x%06x", oidc_version_number(),
           (unsigned)OIDC_VERSION_NUMBER);
    CHECK(OIDC_VERSION_NUMBER == ((OIDC_VERSION_MAJOR << 16) | (OIDC_VERSION_MINOR << 8) | OIDC_VERSION_PATCH));
    TEST_END();
}

static void test_panic(const oidc_validator *client) {
#ifdef OIDC_TEST_HOOKS
    oidc_error *err = NULL;
    TEST_BEGIN("oidc_test_panic -> PANIC with an error object; the library keeps working");
    CHECK_RC_ERR(oidc_test_panic(&err), OIDC_RESULT_PANIC, err);
    CHECK(oidc_error_code(err) == OIDC_RESULT_PANIC);
    CHECKF(str_has(oidc_error_message(err), "oidc_test_panic called"), "message: %s", oidc_error_message(err));
    CHECK(oidc_error_http_status(err) == 500);
    CHECK(oidc_error_oauth_error(err) == NULL);
    CHECK(str_has(oidc_error_details_json(err), "\"name\":\"PANIC\""));
    oidc_error_free(err);
    CHECK_RC(oidc_test_panic(NULL), OIDC_RESULT_PANIC);
    CHECK_RC(validate_code(client, FX_TOKEN_VALID_EDDSA, FX_NOW), OIDC_RESULT_OK);
    TEST_END();
#else
    (void)client;
    test_skip("oidc_test_panic", "compiled without -DOIDC_TEST_HOOKS (library without test-hooks)");
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* Concurrency                                                                                 */

#define THREADS 8
#define PER_THREAD 2000

struct worker {
    pthread_t tid;
    const oidc_validator *client;
    pthread_barrier_t *start;
    unsigned seed;
    int mismatches, ok;
};

static void *hammer(void *arg) {
    struct worker *w = arg;
    int i;
    pthread_barrier_wait(w->start);
    for (i = 0; i < PER_THREAD; i++) {
        const struct token_case *tc = &TOKEN_CASES[(w->seed + (unsigned)i * 7u) % COUNT(TOKEN_CASES)];
        char *claims = NULL;
        size_t n = 0;
        oidc_error *err = NULL;
        oidc_result rc = oidc_validate_at(w->client, tc->token, strlen(tc->token), tc->now, &claims, &n,
                                          (i & 1) ? &err : NULL);
        int good = rc == tc->expected;
        if (rc == OIDC_RESULT_OK) {
            good = good && claims && n == strlen(claims) && err == NULL;
            w->ok++;
        } else {
            good = good && claims == NULL && (!(i & 1) || (err && oidc_error_code(err) == rc));
        }
        if (!good && w->mismatches++ < 3)
            CHECKF(0, "thread %u, %s: got %s, expected %s", w->seed, tc->name, rc_name(rc), rc_name(tc->expected));
        oidc_string_free(claims);
        oidc_error_free(err);
    }
    return NULL;
}

static void test_concurrency(const oidc_validator *client) {
    struct worker w[THREADS];
    pthread_barrier_t start;
    int i, mismatches = 0, ok = 0;
    TEST_BEGIN("%d threads x %d validations on one client, every result correct", THREADS, PER_THREAD);
    pthread_barrier_init(&start, NULL, THREADS);
    for (i = 0; i < THREADS; i++) {
        w[i].client = client;
        w[i].start = &start;
        w[i].seed = (unsigned)i * 13u;
        w[i].mismatches = w[i].ok = 0;
        CHECK(pthread_create(&w[i].tid, NULL, hammer, &w[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(w[i].tid, NULL);
        mismatches += w[i].mismatches;
        ok += w[i].ok;
    }
    pthread_barrier_destroy(&start);
    CHECKF(mismatches == 0, "%d mismatches", mismatches);
    CHECKF(ok > 0 && ok < THREADS * PER_THREAD, "mix of valid/invalid: %d valid", ok);
    TEST_END();
}

/* Clients built, used and freed concurrently on many threads (shared process-wide state). */
static void *churn(void *arg) {
    int i;
    (void)arg;
    for (i = 0; i < 40; i++) {
        oidc_validator *c = NULL;
        oidc_validator_builder *b = NULL;
        if (oidc_validator_builder_new(&b, NULL) != OIDC_RESULT_OK) return (void *)1;
        if (oidc_validator_builder_set_issuer(b, FX_ISSUER, LEN(FX_ISSUER), NULL) != OIDC_RESULT_OK ||
            oidc_validator_builder_set_jwks_json(b, FX_JWKS, LEN(FX_JWKS), NULL) != OIDC_RESULT_OK ||
            oidc_validator_builder_add_audience(b, "api", 3, NULL) != OIDC_RESULT_OK) {
            oidc_validator_builder_free(b);
            return (void *)1;
        }
        if (oidc_validator_builder_build(b, &c, NULL) != OIDC_RESULT_OK) return (void *)1;
        if (validate_code(c, (i & 1) ? FX_TOKEN_VALID_ES256 : FX_TOKEN_EXPIRED, FX_NOW) !=
            ((i & 1) ? OIDC_RESULT_OK : OIDC_RESULT_TOKEN_EXPIRED)) {
            oidc_validator_free(c);
            return (void *)1;
        }
        oidc_validator_free(c);
    }
    return NULL;
}

static void test_client_churn(void) {
    pthread_t t[THREADS];
    int i;
    void *res;
    TEST_BEGIN("%d threads building, using and freeing their own clients", THREADS);
    for (i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, churn, NULL) == 0);
    for (i = 0; i < THREADS; i++) {
        pthread_join(t[i], &res);
        CHECKF(res == NULL, "thread %d failed", i);
    }
    TEST_END();
}

/* ------------------------------------------------------------------------------------------ */

int main(void) {
    oidc_validator *client;

    setvbuf(stdout, NULL, _IOLBF, 0);
    test_version();
    test_result_codes();

    client = build(fixture_builder());
    {
        oidc_error *err = NULL;
        CHECK_RC_ERR(oidc_oauth_builder_build(oauth_builder(), &g_oauth, &err), OIDC_RESULT_OK, err);
        oidc_error_free(err);
        if (g_oauth) CHECK_RC(oidc_oauth_request_new(g_oauth, OIDC_OP_CLIENT_CREDENTIALS, &g_req, NULL), OIDC_RESULT_OK);
    }
    if (!client || !g_oauth) {
        printf("not ok - build the fixture clients\n");
        h_failed++;
        return harness_finish();
    }
    g_client = client;
    test_token_table(client);
    test_valid_outputs(client);
    test_policies();
    test_config_errors();
    test_algorithm_lists();
    test_ca_env();
    test_misuse();
    test_oauth_config();
    test_oauth_request_rules();
    test_panic(client);
    test_concurrency(client);
    test_client_churn();
    oidc_oauth_request_free(g_req);
    oidc_oauth_client_free(g_oauth);
    oidc_validator_free(client);
    /* leave no liboidc worker behind (the non-blocking sends above started the pool) */
    CHECK_RC(oidc_async_shutdown(30000, NULL), OIDC_RESULT_OK);
    return harness_finish();
}
