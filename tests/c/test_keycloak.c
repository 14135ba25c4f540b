/* Interop with Keycloak (a real one: scripts/servers.sh start_keycloak, realm made by
 * tests/keycloak/kc.py setup through the admin REST API): validation of its access and ID tokens
 * in every algorithm it signs with (RS256, PS256, ES256, ES512, EdDSA), key rotation followed, client
 * credentials, authorization code + PKCE with a scripted login (also with ES512-signed tokens),
 * refresh, introspection,
 * revocation, userinfo, device flow, token exchange, PAR, DPoP-bound tokens and RP-initiated
 * logout. Every protocol call goes through the request object (oidc_oauth_send, and
 * oidc_oauth_send_async for the flows run in both modes). Started by tests/c/run.sh keycloak,
 * which sets (from kc.py setup):
 *   KEYCLOAK_ISSUER, KEYCLOAK_CA_FILE, KEYCLOAK_SECRET_<CLIENT>, KEYCLOAK_API_AUDIENCE,
 *   KEYCLOAK_REDIRECT_URI, KEYCLOAK_POST_LOGOUT_URI, KEYCLOAK_URL (the admin API, for kc.py),
 *   KEYCLOAK_TOOL (tests/keycloak/kc.py: scripted browser and key rotation), TMPDIR.
 * Last line: "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "oauth_send.h"

#define S(x) (x), slen_(x)
#define NONE NULL, 0

static const char *ISSUER, *CA, *TOOL, *AUDIENCE, *REDIRECT, *POST_LOGOUT;
static char WORK[512];
static int SLOW;

#define N_ALGS 5
static const char *const ALGS[N_ALGS] = {"RS256", "PS256", "ES256", "ES512", "EdDSA"};
static const char *const ALG_CLIENT[N_ALGS] = {"svc-rs256", "svc-ps256", "svc-es256", "svc-es512", "svc-eddsa"};
static const char *const TE_ACCESS = "urn:ietf:params:oauth:token-type:access_token";

static const char *secret_of(const char *client_id) {
    char name[128] = "KEYCLOAK_SECRET_";
    size_t n = strlen(name);
    for (const char *p = client_id; *p && n + 1 < sizeof name; p++) name[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    name[n] = 0;
    const char *s = getenv(name);
    if (!s) h_diag(__FILE__, __LINE__, "%s is not set", name);
    return s ? s : "";
}

/* Run kc.py with the cookie jar `jar` (a file under WORK; NULL: none kept); its first output
 * line into out. Returns its exit status. */
static int tool(const char *jar, char *out, size_t out_len, const char *fmt, ...) {
    char args[8192], cmd[12288];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    if (jar)
        snprintf(cmd, sizeof cmd, "KEYCLOAK_JAR='%s/%s.jar' python3 '%s' %s 2>>'%s/kc.err'", WORK, jar, TOOL, args, WORK);
    else
        snprintf(cmd, sizeof cmd, "python3 '%s' %s 2>>'%s/kc.err'", TOOL, args, WORK);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[8192] = "";
    if (!fgets(line, sizeof line, p)) line[0] = 0;
    line[strcspn(line, "\r\n")] = 0;
    char rest[256];
    while (fgets(rest, sizeof rest, p)) {
    }
    if (out) snprintf(out, out_len, "%s", line);
    int rc = pclose(p);
    if (rc != 0) note("kc.py %.40s... failed (status %d); see %s/kc.err", args, rc, WORK);
    return rc;
}

/* ---- clients ---------------------------------------------------------------------------- */

/* `algs` (NULL: liboidc's default list): the allow-list for ID tokens and signed responses. */
static oidc_oauth_client *oauth_client_algs(const char *id, int dpop, const char *algs) {
    oidc_oauth_builder *b = NULL;
    oidc_error *err = NULL;
    oidc_oauth_client *c = NULL;
    oidc_result rc = oidc_oauth_builder_new(&b, &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_issuer(b, S(ISSUER), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_client_id(b, S(id), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_client_secret(b, S(secret_of(id)), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_auth_method(b, S("client_secret_basic"), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_ca_file(b, S(CA), &err);
    if (rc == OIDC_RESULT_OK && dpop) rc = oidc_oauth_builder_set_dpop_key(b, NONE, &err);
    if (rc == OIDC_RESULT_OK && algs) rc = oidc_oauth_builder_set_algorithms(b, S(algs), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_timeouts_ms(b, SLOW ? 30000 : 10000, SLOW ? 120000 : 30000, &err);
    if (rc == OIDC_RESULT_OK)
        rc = oidc_oauth_builder_build(b, &c, &err);
    else
        oidc_oauth_builder_free(b);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    return c;
}

static oidc_oauth_client *oauth_client(const char *id, int dpop) { return oauth_client_algs(id, dpop, NULL); }

/* A validator for Keycloak's access tokens: the issuer, the audience the realm's audience
 * mapper adds, the given algorithms, and (when not NULL) an expected typ. */
static oidc_validator *validator(const char *algs, const char *typ) {
    oidc_validator_builder *b = NULL;
    oidc_validator *v = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validator_builder_new(&b, &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_validator_builder_set_issuer(b, S(ISSUER), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_validator_builder_add_audience(b, S(AUDIENCE), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_validator_builder_set_ca_file(b, S(CA), &err);
    if (rc == OIDC_RESULT_OK && algs) rc = oidc_validator_builder_set_algorithms(b, S(algs), &err);
    if (rc == OIDC_RESULT_OK && typ) rc = oidc_validator_builder_set_expected_typ(b, S(typ), &err);
    if (rc == OIDC_RESULT_OK && SLOW) rc = oidc_validator_builder_set_timeouts_ms(b, 30000, 120000, &err);
    if (rc == OIDC_RESULT_OK)
        rc = oidc_validator_builder_build(b, &v, &err);
    else
        oidc_validator_builder_free(b);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    return v;
}

/* Validate; the claims (caller frees with oidc_string_free) when `claims` is not NULL. */
static oidc_result validate(const oidc_validator *v, const char *token, char **claims) {
    char *c = NULL;
    size_t n = 0;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validate(v, S(token), &c, &n, &err);
    if (rc != OIDC_RESULT_OK) note("validate: %s: %s", rc_name(rc), oidc_error_message(err));
    oidc_error_free(err);
    if (claims)
        *claims = c;
    else
        oidc_string_free(c);
    return rc;
}

/* The JOSE header of a compact JWS, decoded (base64url), into out. */
static void jws_header(const char *jws, char *out, size_t n) {
    static const char *A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = jws; *p && *p != '.'; p++) {
        const char *q = strchr(A, *p);
        if (!q) break;
        acc = (acc << 6) | (unsigned)(q - A);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char ch = (char)((acc >> bits) & 0xff);
            if (ch != ' ' && o + 1 < n) out[o++] = ch; /* Keycloak writes "typ" : "JWT" */
        }
    }
    out[o] = 0;
}

/* A top-level string member of a JSON object (a simple scan: the claims liboidc returned). */
static void json_str(const char *json, const char *name, char *out, size_t n) {
    char key[128];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *p = json ? strstr(json, key) : NULL;
    out[0] = 0;
    if (!p) return;
    p += strlen(key);
    size_t len = strcspn(p, "\"");
    if (len < n) {
        memcpy(out, p, len);
        out[len] = 0;
    }
}

static outcome client_credentials(oidc_oauth_client *c, const char *scope, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_CLIENT_CREDENTIALS);
    if (scope) req_add(r, OIDC_PARAM_SCOPE, scope);
    outcome o = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    return o;
}

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

typedef struct {
    char access[4096], refresh[4096], id[4096], sub[128];
} tokens;

static void keep_tokens(const outcome *o, tokens *t) {
    snprintf(t->access, sizeof t->access, "%s", field_s(o, OIDC_FIELD_ACCESS_TOKEN));
    snprintf(t->refresh, sizeof t->refresh, "%s", field_s(o, OIDC_FIELD_REFRESH_TOKEN));
    snprintf(t->id, sizeof t->id, "%s", field_s(o, OIDC_FIELD_ID_TOKEN));
}

/* The code flow for client `c`: the authorization URL (or, with `par`, a pushed authorization
 * request and the URL carrying its request_uri), the scripted login (browser session `jar`),
 * the response checked (state, RFC 9207 iss), the code exchanged with the PKCE verifier and
 * the nonce (the ID token validated by liboidc). */
static int code_flow(oidc_oauth_client *c, const char *jar, int par, enum send_mode m, tokens *t) {
    memset(t, 0, sizeof *t);
    oidc_oauth_request *r = req_new(c, par ? OIDC_OP_PUSHED_AUTHORIZATION : OIDC_OP_AUTHORIZATION_URL);
    req_set(r, OIDC_PARAM_REDIRECT_URI, REDIRECT);
    req_add(r, OIDC_PARAM_SCOPE, "openid");
    req_add(r, OIDC_PARAM_SCOPE, "email");
    outcome u = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    if (!expect_outcome(&u, OIDC_RESULT_OK, par ? "pushed authorization request" : "authorization URL")) {
        outcome_free(&u);
        return 0;
    }
    char state[256], nonce[256], verifier[256], url[8192], v[256];
    snprintf(state, sizeof state, "%s", field_s(&u, OIDC_FIELD_STATE));
    snprintf(nonce, sizeof nonce, "%s", field_s(&u, OIDC_FIELD_NONCE));
    snprintf(verifier, sizeof verifier, "%s", field_s(&u, OIDC_FIELD_CODE_VERIFIER));
    CHECK(state[0] && nonce[0] && strlen(verifier) == 43);
    if (par) {
        const char *uri = field_s(&u, OIDC_FIELD_REQUEST_URI);
        CHECKF(strncmp(uri, "urn:ietf:params:oauth:request_uri:", 34) == 0 && field_i(&u, OIDC_FIELD_EXPIRES_IN) > 0, "PAR: %s",
               resp_json(&u));
        r = req_new(c, OIDC_OP_AUTHORIZATION_URL);
        req_set(r, OIDC_PARAM_REQUEST_URI, uri);
        outcome pu = send_mode(r, NULL, m);
        oidc_oauth_request_free(r);
        expect_outcome(&pu, OIDC_RESULT_OK, "authorization URL with the request_uri");
        snprintf(url, sizeof url, "%s", field_s(&pu, OIDC_FIELD_URL));
        CHECKF(strstr(url, "request_uri=") && !strstr(url, "code_challenge="), "PAR URL: %s", url);
        outcome_free(&pu);
    } else {
        snprintf(url, sizeof url, "%s", field_s(&u, OIDC_FIELD_URL));
        CHECK(query_param(url, "code_challenge_method", v, sizeof v) && strcmp(v, "S256") == 0);
    }
    outcome_free(&u);
    char cb[8192];
    int ok = tool(jar, cb, sizeof cb, "login '%s'", url) == 0 && strncmp(cb, REDIRECT, strlen(REDIRECT)) == 0;
    CHECKF(ok, "scripted login ended at '%s'", cb);
    if (!ok) return 0;
    r = req_new(c, OIDC_OP_AUTHORIZATION_RESPONSE);
    req_set(r, OIDC_PARAM_RESPONSE, cb);
    req_set(r, OIDC_PARAM_EXPECTED_STATE, state);
    outcome a = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    char code[1024] = "";
    if (expect_outcome(&a, OIDC_RESULT_OK, "authorization response")) {
        CHECK(strcmp(field_s(&a, OIDC_FIELD_ISS), ISSUER) == 0);
        snprintf(code, sizeof code, "%s", field_s(&a, OIDC_FIELD_CODE));
    }
    outcome_free(&a);
    if (!code[0]) return 0;
    r = req_new(c, OIDC_OP_AUTHORIZATION_CODE);
    req_set(r, OIDC_PARAM_CODE, code);
    req_set(r, OIDC_PARAM_REDIRECT_URI, REDIRECT);
    req_set(r, OIDC_PARAM_CODE_VERIFIER, verifier);
    req_set(r, OIDC_PARAM_NONCE, nonce);
    outcome x = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    ok = expect_outcome(&x, OIDC_RESULT_OK, "code exchange (ID token validated: nonce, at_hash)");
    if (ok) {
        keep_tokens(&x, t);
        CHECK(t->access[0] && t->refresh[0] && t->id[0]);
        /* the subject, from the ID token liboidc validates */
        oidc_oauth_request *vr = req_new(c, OIDC_OP_VALIDATE_ID_TOKEN);
        req_set(vr, OIDC_PARAM_ID_TOKEN, t->id);
        req_set(vr, OIDC_PARAM_NONCE, nonce);
        req_set(vr, OIDC_PARAM_ACCESS_TOKEN, t->access);
        outcome id = send_mode(vr, NULL, BLOCKING);
        oidc_oauth_request_free(vr);
        if (expect_outcome(&id, OIDC_RESULT_OK, "the ID token")) json_str(resp_json(&id), "sub", t->sub, sizeof t->sub);
        CHECKF(t->sub[0], "no sub in %s", resp_json(&id));
        outcome_free(&id);
    }
    outcome_free(&x);
    return ok;
}

static outcome introspect(oidc_oauth_client *c, const char *token, const char *hint, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_INTROSPECT);
    req_set(r, OIDC_PARAM_TOKEN, token);
    if (hint) req_set(r, OIDC_PARAM_TOKEN_TYPE_HINT, hint);
    outcome o = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    return o;
}

static outcome refresh(oidc_oauth_client *c, const char *rt, enum send_mode m) {
    oidc_oauth_request *r = req_new(c, OIDC_OP_REFRESH);
    req_set(r, OIDC_PARAM_REFRESH_TOKEN, rt);
    outcome o = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    return o;
}

/* ---- tests ------------------------------------------------------------------------------ */

/* Each algorithm: a client whose tokens Keycloak signs with it (client attributes
 * access.token.signed.response.alg / id.token.signed.response.alg, keys from the realm's
 * rsa-generated / ecdsa-generated (P-256, P-521) / eddsa-generated providers). The access token validates
 * against a validator allowing only that algorithm, and not against one allowing only another;
 * the ID token through OIDC_OP_VALIDATE_ID_TOKEN (aud = the client, at_hash). */
static void test_algorithms(enum send_mode m) {
    for (int i = 0; i < N_ALGS; i++) {
        TEST_BEGIN("%s: client credentials, access token and ID token validated [%s]", ALGS[i], MODE_NAME[m]);
        oidc_oauth_client *c = oauth_client(ALG_CLIENT[i], 0);
        REQUIRE(c, "no client");
        outcome o = client_credentials(c, "openid", m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "client credentials")) {
            const char *at = field_s(&o, OIDC_FIELD_ACCESS_TOKEN);
            char hdr[512], want[64];
            jws_header(at, hdr, sizeof hdr);
            snprintf(want, sizeof want, "\"alg\":\"%s\"", ALGS[i]);
            CHECKF(strstr(hdr, want) && strstr(hdr, "\"typ\":\"JWT\""), "header %s", hdr);
            CHECK(strcmp(field_s(&o, OIDC_FIELD_TOKEN_TYPE), "Bearer") == 0);
            oidc_validator *v = validator(ALGS[i], NULL);
            char *claims = NULL;
            CHECK_RC(validate(v, at, &claims), OIDC_RESULT_OK);
            char azp[64];
            snprintf(azp, sizeof azp, "\"azp\":\"%s\"", ALG_CLIENT[i]);
            CHECKF(claims && strstr(claims, azp), "claims %s", claims ? claims : "-");
            oidc_string_free(claims);
            oidc_validator_free(v);
            /* the same token under an allow-list without its algorithm */
            v = validator(i == 0 ? "ES256" : "RS256", NULL);
            CHECK_RC(validate(v, at, NULL), OIDC_RESULT_ALGORITHM_NOT_ALLOWED);
            oidc_validator_free(v);
            /* Keycloak's access tokens say typ JWT (not RFC 9068's at+jwt) by default */
            v = validator(ALGS[i], "at+jwt");
            CHECK_RC(validate(v, at, NULL), OIDC_RESULT_TYPE_MISMATCH);
            oidc_validator_free(v);
            v = validator(ALGS[i], "JWT");
            CHECK_RC(validate(v, at, NULL), OIDC_RESULT_OK);
            oidc_validator_free(v);
            /* the ID token, signed with the same algorithm */
            const char *idt = field_s(&o, OIDC_FIELD_ID_TOKEN);
            jws_header(idt, hdr, sizeof hdr);
            CHECKF(strstr(hdr, want), "ID token header %s", hdr);
            oidc_oauth_request *r = req_new(c, OIDC_OP_VALIDATE_ID_TOKEN);
            req_set(r, OIDC_PARAM_ID_TOKEN, idt);
            req_set(r, OIDC_PARAM_ACCESS_TOKEN, at);
            outcome id = send_mode(r, NULL, m);
            expect_outcome(&id, OIDC_RESULT_OK, "ID token");
            outcome_free(&id);
            /* at_hash of another access token */
            outcome o2 = client_credentials(c, "openid", m);
            if (expect_outcome(&o2, OIDC_RESULT_OK, "second token")) {
                req_set(r, OIDC_PARAM_ACCESS_TOKEN, field_s(&o2, OIDC_FIELD_ACCESS_TOKEN));
                id = send_mode(r, NULL, m);
                CHECKF(id.rc != OIDC_RESULT_OK, "an ID token with another access token's at_hash was accepted");
                outcome_free(&id);
            }
            outcome_free(&o2);
            oidc_oauth_request_free(r);
        }
        outcome_free(&o);
        oidc_oauth_client_free(c);
        TEST_END();
    }
}

/* The svc client has access.token.header.type.rfc9068=true: its access tokens say at+jwt. */
static void test_rfc9068_typ(void) {
    TEST_BEGIN("client with access.token.header.type.rfc9068: typ at+jwt, validated with expected typ at+jwt");
    oidc_oauth_client *c = oauth_client("svc", 0);
    REQUIRE(c, "no client");
    outcome o = client_credentials(c, NULL, BLOCKING);
    if (expect_outcome(&o, OIDC_RESULT_OK, "client credentials")) {
        char hdr[512];
        jws_header(field_s(&o, OIDC_FIELD_ACCESS_TOKEN), hdr, sizeof hdr);
        CHECKF(strstr(hdr, "\"typ\":\"at+jwt\""), "header %s", hdr);
        oidc_validator *v = validator(NULL, "at+jwt");
        CHECK_RC(validate(v, field_s(&o, OIDC_FIELD_ACCESS_TOKEN), NULL), OIDC_RESULT_OK);
        oidc_validator_free(v);
    }
    outcome_free(&o);
    oidc_oauth_client_free(c);
    TEST_END();
}

static void test_client_credentials(enum send_mode m) {
    TEST_BEGIN("client credentials: the token cache, a wrong secret (Keycloak: 401 unauthorized_client) [%s]", MODE_NAME[m]);
    oidc_oauth_client *c = oauth_client("svc", 0);
    REQUIRE(c, "no client");
    oidc_oauth_request *r = req_new(c, OIDC_OP_CLIENT_CREDENTIALS);
    req_int(r, OIDC_PARAM_USE_CACHE, 1);
    outcome a = send_mode(r, NULL, m), b = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    if (expect_outcome(&a, OIDC_RESULT_OK, "first") && expect_outcome(&b, OIDC_RESULT_OK, "second (cached)")) {
        CHECK(strcmp(field_s(&a, OIDC_FIELD_ACCESS_TOKEN), field_s(&b, OIDC_FIELD_ACCESS_TOKEN)) == 0);
        CHECK(field_i(&a, OIDC_FIELD_EXPIRES_IN) > 0);
    }
    outcome_free(&a);
    outcome_free(&b);
    oidc_oauth_client_free(c);
    /* a wrong secret: RFC 6749 §5.2 says invalid_client; Keycloak 26 answers 401 with
     * unauthorized_client. liboidc reports the server's code as it came. */
    oidc_oauth_builder *bl = NULL;
    oidc_oauth_client *bad = NULL;
    oidc_error *err = NULL;
    const char *wrong = "not-the-secret-4711";
    oidc_result rc = oidc_oauth_builder_new(&bl, &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_issuer(bl, S(ISSUER), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_client_id(bl, S("svc"), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_client_secret(bl, S(wrong), &err);
    if (rc == OIDC_RESULT_OK) rc = oidc_oauth_builder_set_ca_file(bl, S(CA), &err);
    if (rc == OIDC_RESULT_OK)
        rc = oidc_oauth_builder_build(bl, &bad, &err);
    else
        oidc_oauth_builder_free(bl);
    CHECK_RC_ERR(rc, OIDC_RESULT_OK, err);
    oidc_error_free(err);
    if (bad) {
        outcome o = client_credentials(bad, NULL, m);
        if (expect_outcome(&o, OIDC_RESULT_UNAUTHORIZED_CLIENT, "wrong secret")) {
            CHECKF(o.details && strstr(o.details, "\"server_status\":401"), "details %s", o.details ? o.details : "-");
            CHECK(o.http_status == 500); /* what liboidc suggests the host answer its own caller */
            CHECK(o.server_error && strcmp(o.server_error, "unauthorized_client") == 0);
            CHECK(!(o.message && strstr(o.message, wrong)) && !(o.details && strstr(o.details, wrong)));
        }
        outcome_free(&o);
        oidc_oauth_client_free(bad);
    }
    TEST_END();
}

/* Code + PKCE (enforced by the client: pkce.code.challenge.method S256), refresh, userinfo,
 * introspection, token exchange, revocation. */
static void test_code_flow(enum send_mode m) {
    TEST_BEGIN("authorization code + PKCE (scripted login), refresh, userinfo, introspection [%s]", MODE_NAME[m]);
    oidc_oauth_client *web = oauth_client("web", 0), *svc = oauth_client("svc", 0);
    tokens t;
    if (web && svc && code_flow(web, m == BLOCKING ? "code-b" : "code-a", 0, m, &t)) {
        CHECK(t.sub[0]);
        oidc_validator *v = validator(NULL, NULL);
        CHECK_RC(validate(v, t.access, NULL), OIDC_RESULT_OK);
        /* refresh: a new access token, the new ID token validated */
        outcome o = refresh(web, t.refresh, m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "refresh")) {
            CHECK(strcmp(field_s(&o, OIDC_FIELD_ACCESS_TOKEN), t.access) != 0);
            CHECK(field_s(&o, OIDC_FIELD_ID_TOKEN)[0]);
            CHECK_RC(validate(v, field_s(&o, OIDC_FIELD_ACCESS_TOKEN), NULL), OIDC_RESULT_OK);
            keep_tokens(&o, &t);
        }
        outcome_free(&o);
        /* userinfo: Bearer, the subject checked */
        oidc_oauth_request *r = req_new(web, OIDC_OP_USERINFO);
        req_set(r, OIDC_PARAM_ACCESS_TOKEN, t.access);
        req_set(r, OIDC_PARAM_EXPECTED_SUB, t.sub);
        o = send_mode(r, NULL, m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "userinfo")) CHECKF(strstr(resp_json(&o), "alice@example.test"), "%s", resp_json(&o));
        outcome_free(&o);
        req_set(r, OIDC_PARAM_EXPECTED_SUB, "someone-else");
        o = send_mode(r, NULL, m);
        CHECKF(o.rc != OIDC_RESULT_OK, "userinfo with another expected sub was accepted");
        outcome_free(&o);
        oidc_oauth_request_free(r);
        /* introspection by another confidential client */
        o = introspect(svc, t.access, "access_token", m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "introspection")) {
            CHECK(field_i(&o, OIDC_FIELD_ACTIVE) == 1);
            CHECKF(strstr(resp_json(&o), "\"client_id\":\"web\""), "%s", resp_json(&o));
        }
        outcome_free(&o);
        o = introspect(svc, "not-a-token", NULL, m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "introspection of garbage")) CHECK(field_i(&o, OIDC_FIELD_ACTIVE) == 0);
        outcome_free(&o);
        oidc_validator_free(v);
    }
    oidc_oauth_client_free(web);
    oidc_oauth_client_free(svc);
    TEST_END();
}

static void test_revocation(enum send_mode m) {
    TEST_BEGIN("revocation (RFC 7009): the refresh token and the access token, then refresh fails and introspection says inactive [%s]",
               MODE_NAME[m]);
    oidc_oauth_client *web = oauth_client("web", 0), *svc = oauth_client("svc", 0);
    tokens t;
    if (web && svc && code_flow(web, m == BLOCKING ? "rev-b" : "rev-a", 0, m, &t)) {
        oidc_oauth_request *r = req_new(web, OIDC_OP_REVOKE);
        req_set(r, OIDC_PARAM_TOKEN, t.access);
        req_set(r, OIDC_PARAM_TOKEN_TYPE_HINT, "access_token");
        outcome o = send_mode(r, NULL, m);
        expect_outcome(&o, OIDC_RESULT_OK, "revoke the access token");
        outcome_free(&o);
        oidc_oauth_request_free(r);
        o = introspect(svc, t.access, "access_token", m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "introspection after revocation")) CHECK(field_i(&o, OIDC_FIELD_ACTIVE) == 0);
        outcome_free(&o);
        r = req_new(web, OIDC_OP_REVOKE);
        req_set(r, OIDC_PARAM_TOKEN, t.refresh);
        req_set(r, OIDC_PARAM_TOKEN_TYPE_HINT, "refresh_token");
        o = send_mode(r, NULL, m);
        expect_outcome(&o, OIDC_RESULT_OK, "revoke the refresh token");
        outcome_free(&o);
        oidc_oauth_request_free(r);
        o = refresh(web, t.refresh, m);
        if (expect_outcome(&o, OIDC_RESULT_INVALID_GRANT, "refresh with the revoked token"))
            CHECK(o.server_error && strcmp(o.server_error, "invalid_grant") == 0);
        outcome_free(&o);
    }
    oidc_oauth_client_free(web);
    oidc_oauth_client_free(svc);
    TEST_END();
}

/* RFC 8693 through Keycloak 26's standard token exchange (client attribute
 * standard.token.exchange.enabled): svc exchanges web's access token, whose audience names svc
 * (an audience mapper on web). */
static void test_token_exchange(enum send_mode m) {
    TEST_BEGIN("token exchange (Keycloak 26 standard token exchange) [%s]", MODE_NAME[m]);
    oidc_oauth_client *web = oauth_client("web", 0), *svc = oauth_client("svc", 0);
    tokens t;
    if (web && svc && code_flow(web, m == BLOCKING ? "te-b" : "te-a", 0, m, &t)) {
        oidc_oauth_request *r = req_new(svc, OIDC_OP_TOKEN_EXCHANGE);
        req_set(r, OIDC_PARAM_SUBJECT_TOKEN, t.access);
        req_set(r, OIDC_PARAM_SUBJECT_TOKEN_TYPE, TE_ACCESS);
        req_set(r, OIDC_PARAM_REQUESTED_TOKEN_TYPE, TE_ACCESS);
        outcome o = send_mode(r, NULL, m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "token exchange")) {
            CHECK(strcmp(field_s(&o, OIDC_FIELD_ISSUED_TOKEN_TYPE), TE_ACCESS) == 0);
            oidc_validator *v = validator(NULL, NULL);
            char *claims = NULL;
            CHECK_RC(validate(v, field_s(&o, OIDC_FIELD_ACCESS_TOKEN), &claims), OIDC_RESULT_OK);
            char sub[160];
            snprintf(sub, sizeof sub, "\"sub\":\"%s\"", t.sub);
            CHECKF(claims && strstr(claims, "\"azp\":\"svc\"") && strstr(claims, sub), "claims %s", claims ? claims : "-");
            oidc_string_free(claims);
            oidc_validator_free(v);
        }
        outcome_free(&o);
        /* a subject token that is not a token */
        req_set(r, OIDC_PARAM_SUBJECT_TOKEN, "garbage");
        o = send_mode(r, NULL, m);
        CHECKF(o.rc != OIDC_RESULT_OK && o.server_error && o.server_error[0], "garbage subject: %s", rc_name(o.rc));
        outcome_free(&o);
        oidc_oauth_request_free(r);
    }
    oidc_oauth_client_free(web);
    oidc_oauth_client_free(svc);
    TEST_END();
}

/* A login with ES512-signed tokens (issue 14): web-es512 (code + PKCE enforced) has
 * access.token.signed.response.alg and id.token.signed.response.alg ES512, the realm an
 * ecdsa-generated P-521 key. The ID token (ES512, at_hash over SHA-512) validates in the code
 * exchange and through OIDC_OP_VALIDATE_ID_TOKEN (code_flow), and again after a refresh; the
 * access token with a validator allowing ES512 (and not with one allowing only ES256/ES384); a
 * client whose ID-token allow-list lacks ES512 refuses the ID token. */
static void test_login_es512(enum send_mode m) {
    TEST_BEGIN("ES512 (P-521): code + PKCE login, ID token and access token validated, refresh [%s]", MODE_NAME[m]);
    oidc_oauth_client *c = oauth_client("web-es512", 0);
    tokens t;
    if (c && code_flow(c, m == BLOCKING ? "es512-b" : "es512-a", 0, m, &t)) {
        char hdr[512];
        jws_header(t.id, hdr, sizeof hdr);
        CHECKF(strstr(hdr, "\"alg\":\"ES512\""), "ID token header %s", hdr);
        jws_header(t.access, hdr, sizeof hdr);
        CHECKF(strstr(hdr, "\"alg\":\"ES512\""), "access token header %s", hdr);
        oidc_validator *v = validator("ES256 ES384 ES512", NULL);
        char *claims = NULL;
        CHECK_RC(validate(v, t.access, &claims), OIDC_RESULT_OK);
        char want[160];
        snprintf(want, sizeof want, "\"sub\":\"%s\"", t.sub);
        CHECKF(claims && strstr(claims, "\"azp\":\"web-es512\"") && strstr(claims, want), "claims %s", claims ? claims : "-");
        oidc_string_free(claims);
        oidc_validator_free(v);
        v = validator("ES256,ES384", NULL);
        CHECK_RC(validate(v, t.access, NULL), OIDC_RESULT_ALGORITHM_NOT_ALLOWED);
        oidc_validator_free(v);
        /* refresh: the new ID token (ES512) validated by liboidc, the new access token too */
        outcome o = refresh(c, t.refresh, m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "refresh")) {
            const char *idt = field_s(&o, OIDC_FIELD_ID_TOKEN), *at = field_s(&o, OIDC_FIELD_ACCESS_TOKEN);
            jws_header(idt, hdr, sizeof hdr);
            CHECKF(idt[0] && strstr(hdr, "\"alg\":\"ES512\""), "refreshed ID token header %s", hdr);
            CHECK(strcmp(at, t.access) != 0);
            v = validator("ES512", NULL);
            CHECK_RC(validate(v, at, NULL), OIDC_RESULT_OK);
            oidc_validator_free(v);
            oidc_oauth_request *r = req_new(c, OIDC_OP_VALIDATE_ID_TOKEN);
            req_set(r, OIDC_PARAM_ID_TOKEN, idt);
            req_set(r, OIDC_PARAM_ACCESS_TOKEN, at);
            outcome id = send_mode(r, NULL, m);
            expect_outcome(&id, OIDC_RESULT_OK, "the refreshed ID token");
            outcome_free(&id);
            oidc_oauth_request_free(r);
        }
        outcome_free(&o);
        /* the same ID token for a client of web-es512 whose allow-list lacks ES512 */
        oidc_oauth_client *narrow = oauth_client_algs("web-es512", 0, "ES256 ES384");
        if (narrow) {
            oidc_oauth_request *r = req_new(narrow, OIDC_OP_VALIDATE_ID_TOKEN);
            req_set(r, OIDC_PARAM_ID_TOKEN, t.id);
            outcome id = send_mode(r, NULL, m);
            expect_outcome(&id, OIDC_RESULT_ALGORITHM_NOT_ALLOWED, "ES512 ID token, ES512 not allowed");
            outcome_free(&id);
            oidc_oauth_request_free(r);
        }
        oidc_oauth_client_free(narrow);
    }
    oidc_oauth_client_free(c);
    TEST_END();
}

static void test_par(enum send_mode m) {
    TEST_BEGIN("PAR (RFC 9126): pushed request, request_uri in the authorization URL, login, code exchange [%s]", MODE_NAME[m]);
    oidc_oauth_client *web = oauth_client("web", 0);
    tokens t;
    if (web) CHECK(code_flow(web, m == BLOCKING ? "par-b" : "par-a", 1, m, &t));
    oidc_oauth_client_free(web);
    TEST_END();
}

/* DPoP (RFC 9449): dpop-app has dpop.bound.access.tokens=true. */
static void test_dpop(enum send_mode m) {
    TEST_BEGIN("DPoP: bound tokens (cnf.jkt = our key), userinfo with the DPoP scheme, the resource-server decision [%s]",
               MODE_NAME[m]);
    oidc_oauth_client *c = oauth_client("dpop-app", 1);
    tokens t;
    if (c && code_flow(c, m == BLOCKING ? "dpop-b" : "dpop-a", 0, m, &t)) {
        char *jkt = NULL, *claims = NULL;
        CHECK_RC(oidc_oauth_dpop_jkt(c, &jkt, NULL, NULL), OIDC_RESULT_OK);
        oidc_validator *v = validator(NULL, NULL);
        CHECK_RC(validate(v, t.access, &claims), OIDC_RESULT_OK);
        char want[128];
        snprintf(want, sizeof want, "\"jkt\":\"%s\"", jkt ? jkt : "?");
        CHECKF(claims && strstr(claims, want), "cnf: %s", claims ? claims : "-");
        oidc_string_free(claims);
        /* userinfo: the DPoP scheme and a proof (the client has a DPoP key) */
        oidc_oauth_request *r = req_new(c, OIDC_OP_USERINFO);
        req_set(r, OIDC_PARAM_ACCESS_TOKEN, t.access);
        req_set(r, OIDC_PARAM_EXPECTED_SUB, t.sub);
        outcome o = send_mode(r, NULL, m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "userinfo with the DPoP-bound token")) CHECK(strstr(resp_json(&o), "alice@example.test"));
        outcome_free(&o);
        /* the bound token sent as Bearer: Keycloak refuses it */
        req_set(r, OIDC_PARAM_TOKEN_TYPE, "Bearer");
        o = send_mode(r, NULL, m);
        CHECKF(o.rc != OIDC_RESULT_OK, "userinfo accepted a DPoP-bound token sent as Bearer");
        outcome_free(&o);
        oidc_oauth_request_free(r);
        /* refresh keeps the binding */
        o = refresh(c, t.refresh, m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "DPoP refresh")) CHECK(strcmp(field_s(&o, OIDC_FIELD_TOKEN_TYPE), "DPoP") == 0);
        outcome_free(&o);
        /* a resource server deciding on the request: DPoP scheme + our proof for its URL */
        if (m == BLOCKING) {
            const char *url = "https://api.example.test/orders";
            char *proof = NULL;
            CHECK_RC(oidc_oauth_dpop_proof(c, S("GET"), S(url), S(t.access), &proof, NULL, NULL), OIDC_RESULT_OK);
            char auth[4200];
            snprintf(auth, sizeof auth, "DPoP %s", t.access);
            oidc_http_request *hr = NULL;
            oidc_decision *d = NULL;
            CHECK_RC(oidc_http_request_new(&hr, NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_http_request_add_header(hr, S("Authorization"), (const uint8_t *)auth, strlen(auth), NULL), OIDC_RESULT_OK);
            if (proof) CHECK_RC(oidc_http_request_add_header(hr, S("DPoP"), (const uint8_t *)proof, strlen(proof), NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_http_request_set_method(hr, S("GET"), NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_http_request_set_url(hr, S(url), NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_authenticate(v, hr, &d, NULL), OIDC_RESULT_OK);
            CHECKF(d && oidc_decision_allowed(d), "decision: %s", d ? rc_name(oidc_decision_code(d)) : "none");
            oidc_decision_free(d);
            d = NULL;
            /* the same token as Bearer: a binding mismatch */
            oidc_http_request_reset(hr);
            snprintf(auth, sizeof auth, "Bearer %s", t.access);
            CHECK_RC(oidc_http_request_add_header(hr, S("Authorization"), (const uint8_t *)auth, strlen(auth), NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_http_request_set_method(hr, S("GET"), NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_http_request_set_url(hr, S(url), NULL), OIDC_RESULT_OK);
            CHECK_RC(oidc_authenticate(v, hr, &d, NULL), OIDC_RESULT_OK);
            CHECKF(d && !oidc_decision_allowed(d) && oidc_decision_code(d) == OIDC_RESULT_TOKEN_BINDING_MISMATCH, "decision: %s",
                   d ? rc_name(oidc_decision_code(d)) : "none");
            oidc_decision_free(d);
            oidc_http_request_free(hr);
            oidc_string_free(proof);
        }
        oidc_validator_free(v);
        oidc_string_free(jkt);
    }
    oidc_oauth_client_free(c);
    TEST_END();
}

/* RFC 8628 on web, a PKCE-enforcing client: Keycloak wants code_challenge on the device
 * authorization request and the verifier on the token request (custom parameters). */
static void test_device(enum send_mode m) {
    TEST_BEGIN("device flow: Keycloak's PKCE parameters as custom parameters, approval scripted while polling [%s]", MODE_NAME[m]);
    oidc_oauth_client *c = oauth_client("web", 0);
    REQUIRE(c, "no client");
    /* without PKCE a PKCE-enforcing Keycloak client refuses the device request */
    oidc_oauth_request *r = req_new(c, OIDC_OP_DEVICE_AUTHORIZATION);
    req_add(r, OIDC_PARAM_SCOPE, "openid");
    outcome o = send_mode(r, NULL, m);
    expect_outcome(&o, OIDC_RESULT_INVALID_REQUEST, "device authorization without PKCE");
    outcome_free(&o);
    /* a PKCE pair from the authorization-URL operation (S256, generated by liboidc) */
    oidc_oauth_request *u = req_new(c, OIDC_OP_AUTHORIZATION_URL);
    req_set(u, OIDC_PARAM_REDIRECT_URI, REDIRECT);
    outcome pk = send_mode(u, NULL, BLOCKING);
    oidc_oauth_request_free(u);
    expect_outcome(&pk, OIDC_RESULT_OK, "PKCE pair");
    req_param(r, "code_challenge", field_s(&pk, OIDC_FIELD_CODE_CHALLENGE));
    req_param(r, "code_challenge_method", "S256");
    outcome da = send_mode(r, NULL, m);
    oidc_oauth_request_free(r);
    if (expect_outcome(&da, OIDC_RESULT_OK, "device authorization with PKCE")) {
        char uc[64], cmd[4096];
        snprintf(uc, sizeof uc, "%s", field_s(&da, OIDC_FIELD_USER_CODE));
        CHECK(strstr(field_s(&da, OIDC_FIELD_VERIFICATION_URI_COMPLETE), "user_code="));
        oidc_oauth_request *poll = req_new(c, OIDC_OP_DEVICE_POLL);
        req_pending(poll, da.resp);
        req_param(poll, "code_verifier", field_s(&pk, OIDC_FIELD_CODE_VERIFIER));
        req_int(poll, OIDC_PARAM_DEADLINE_MS, SLOW ? 120000 : 60000);
        /* approve in the background, 2 s from now: the poll sees authorization_pending first */
        snprintf(cmd, sizeof cmd, "(sleep 2; KEYCLOAK_JAR='%s/device-%d.jar' python3 '%s' device '%s') >'%s/device-%d.out' 2>&1 &", WORK, (int)m,
                 TOOL, uc, WORK, (int)m);
        CHECK(system(cmd) == 0);
        double t0 = mono_s();
        outcome p = send_mode(poll, NULL, m);
        if (expect_outcome(&p, OIDC_RESULT_OK, "device poll until approved")) {
            CHECK(mono_s() - t0 >= 1.5);
            CHECK(field_s(&p, OIDC_FIELD_ID_TOKEN)[0]);
            oidc_validator *v = validator(NULL, NULL);
            CHECK_RC(validate(v, field_s(&p, OIDC_FIELD_ACCESS_TOKEN), NULL), OIDC_RESULT_OK);
            oidc_validator_free(v);
        }
        outcome_free(&p);
        oidc_oauth_request_free(poll);
    }
    outcome_free(&da);
    outcome_free(&pk);
    oidc_oauth_client_free(c);
    TEST_END();
}

/* RP-initiated logout: the end_session URL (id_token_hint, post_logout_redirect_uri, state),
 * followed by the scripted browser; afterwards the session's tokens are dead. */
static void test_logout(enum send_mode m) {
    TEST_BEGIN("RP-initiated logout: end_session URL followed, then refresh fails and the access token is inactive [%s]",
               MODE_NAME[m]);
    oidc_oauth_client *web = oauth_client("web", 0), *svc = oauth_client("svc", 0);
    tokens t;
    const char *jar = m == BLOCKING ? "logout-b" : "logout-a";
    if (web && svc && code_flow(web, jar, 0, m, &t)) {
        oidc_oauth_request *r = req_new(web, OIDC_OP_END_SESSION_URL);
        req_set(r, OIDC_PARAM_ID_TOKEN_HINT, t.id);
        req_set(r, OIDC_PARAM_POST_LOGOUT_REDIRECT_URI, POST_LOGOUT);
        req_set(r, OIDC_PARAM_STATE, "bye-1");
        outcome o = send_mode(r, NULL, m);
        oidc_oauth_request_free(r);
        if (expect_outcome(&o, OIDC_RESULT_OK, "end session URL")) {
            char want[600], end[4096];
            snprintf(want, sizeof want, "%s/protocol/openid-connect/logout?", ISSUER);
            const char *url = field_s(&o, OIDC_FIELD_URL);
            CHECKF(strncmp(url, want, strlen(want)) == 0 && strstr(url, "id_token_hint="), "URL %s", url);
            int rc = tool(jar, end, sizeof end, "logout '%s'", url);
            CHECKF(rc == 0 && strncmp(end, POST_LOGOUT, strlen(POST_LOGOUT)) == 0 && strstr(end, "state=bye-1"), "logout ended at %s",
                   end);
        }
        outcome_free(&o);
        o = refresh(web, t.refresh, m);
        if (expect_outcome(&o, OIDC_RESULT_INVALID_GRANT, "refresh after logout"))
            CHECK(o.server_error && strcmp(o.server_error, "invalid_grant") == 0);
        outcome_free(&o);
        o = introspect(svc, t.access, "access_token", m);
        if (expect_outcome(&o, OIDC_RESULT_OK, "introspection after logout")) CHECK(field_i(&o, OIDC_FIELD_ACTIVE) == 0);
        outcome_free(&o);
    }
    oidc_oauth_client_free(web);
    oidc_oauth_client_free(svc);
    TEST_END();
}

/* Key rotation through the admin API: a new RS256 key becomes active and the old one passive
 * (still published), then the old one is removed. liboidc follows: the new kid is fetched on
 * first sight, tokens of the passive key still validate, and once the old key is gone (seen at
 * the next rotation) its tokens are refused. */
static void test_rotation(void) {
    TEST_BEGIN("key rotation (RS256): new active key followed, passive key still accepted, removed key refused");
    oidc_oauth_client *c = oauth_client("svc-rs256", 0);
    REQUIRE(c, "no client");
    oidc_validator *v = validator("RS256", NULL);
    char k1[128] = "", k2[128] = "", k3[128] = "", hdr[512];
    outcome t1 = client_credentials(c, NULL, BLOCKING);
    expect_outcome(&t1, OIDC_RESULT_OK, "token before rotation");
    CHECK_RC(validate(v, field_s(&t1, OIDC_FIELD_ACCESS_TOKEN), NULL), OIDC_RESULT_OK);
    CHECK(tool(NULL, k2, sizeof k2, "rotate RS256") == 0 && k2[0]);
    outcome t2 = client_credentials(c, NULL, BLOCKING);
    if (expect_outcome(&t2, OIDC_RESULT_OK, "token after rotation")) {
        jws_header(field_s(&t2, OIDC_FIELD_ACCESS_TOKEN), hdr, sizeof hdr);
        CHECKF(strstr(hdr, k2), "signed with the new key %s: %s", k2, hdr);
        CHECK_RC(validate(v, field_s(&t2, OIDC_FIELD_ACCESS_TOKEN), NULL), OIDC_RESULT_OK);
    }
    /* the passive key is still published: its token still validates */
    CHECK_RC(validate(v, field_s(&t1, OIDC_FIELD_ACCESS_TOKEN), NULL), OIDC_RESULT_OK);
    /* remove the passive key, rotate again: the next new kid brings the set without it */
    CHECK(tool(NULL, k1, sizeof k1, "drop-passive RS256") == 0 && k1[0]);
    CHECK(tool(NULL, k3, sizeof k3, "rotate RS256") == 0 && k3[0]);
    outcome t3 = client_credentials(c, NULL, BLOCKING);
    if (expect_outcome(&t3, OIDC_RESULT_OK, "token after the second rotation")) {
        jws_header(field_s(&t3, OIDC_FIELD_ACCESS_TOKEN), hdr, sizeof hdr);
        CHECKF(strstr(hdr, k3), "signed with %s: %s", k3, hdr);
        CHECK_RC(validate(v, field_s(&t3, OIDC_FIELD_ACCESS_TOKEN), NULL), OIDC_RESULT_OK);
    }
    CHECK_RC(validate(v, field_s(&t1, OIDC_FIELD_ACCESS_TOKEN), NULL), OIDC_RESULT_UNKNOWN_KEY);
    CHECK_RC(validate(v, field_s(&t2, OIDC_FIELD_ACCESS_TOKEN), NULL), OIDC_RESULT_OK);
    note("rotation: removed %s, active %s (before: %s passive)", k1, k3, k2);
    outcome_free(&t1);
    outcome_free(&t2);
    outcome_free(&t3);
    oidc_validator_free(v);
    oidc_oauth_client_free(c);
    TEST_END();
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    ISSUER = getenv("KEYCLOAK_ISSUER");
    CA = getenv("KEYCLOAK_CA_FILE");
    TOOL = getenv("KEYCLOAK_TOOL");
    AUDIENCE = getenv("KEYCLOAK_API_AUDIENCE");
    REDIRECT = getenv("KEYCLOAK_REDIRECT_URI");
    POST_LOGOUT = getenv("KEYCLOAK_POST_LOGOUT_URI");
    SLOW = getenv("OIDC_TEST_SLOW") != NULL;
    if (!ISSUER || !CA || !TOOL || !AUDIENCE || !REDIRECT || !POST_LOGOUT) {
        printf("# KEYCLOAK_ISSUER, KEYCLOAK_CA_FILE, KEYCLOAK_TOOL, KEYCLOAK_API_AUDIENCE, KEYCLOAK_REDIRECT_URI and "
               "KEYCLOAK_POST_LOGOUT_URI must be set (tests/c/run.sh keycloak)\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    snprintf(WORK, sizeof WORK, "%s/kc-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(WORK)) {
        printf("# mkdtemp failed\n0 passed, 1 failed\n");
        return 1;
    }
    note("Keycloak %s, work dir %s", ISSUER, WORK);
    for (int m = 0; m < 2; m++) {
        test_algorithms((enum send_mode)m);
        test_client_credentials((enum send_mode)m);
        test_code_flow((enum send_mode)m);
        test_login_es512((enum send_mode)m);
        test_revocation((enum send_mode)m);
        test_token_exchange((enum send_mode)m);
        test_par((enum send_mode)m);
        test_dpop((enum send_mode)m);
        test_device((enum send_mode)m);
        test_logout((enum send_mode)m);
    }
    test_rfc9068_typ();
    test_rotation();
    /* the scripted browser's complaints, when something failed; then the work dir goes */
    char path[600], line[1024], cmd[700];
    snprintf(path, sizeof path, "%s/kc.err", WORK);
    FILE *f = h_failed ? fopen(path, "r") : NULL;
    while (f && fgets(line, sizeof line, f)) note("kc.py: %s", strtok(line, "\n") ? line : "");
    if (f) fclose(f);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", WORK);
    if (system(cmd) != 0) note("could not remove %s", WORK);
    return harness_finish();
}
