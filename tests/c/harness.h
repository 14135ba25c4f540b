/* The one harness of the liboidc C tests (every tests/c/test_*.c), TAP-like.
 *
 *   TEST_BEGIN("name %d", i);
 *   CHECK(cond);                          a condition
 *   CHECKF(cond, "fmt", ...);             a condition with a message of its own
 *   CHECK_RC(rc, OIDC_RESULT_OK);         a result code (both names printed on a mismatch)
 *   CHECK_RC_ERR(rc, want, err);          ... and the error's message
 *   REQUIRE(cond, "fmt", ...);            a condition the rest of a void test function needs:
 *                                         on failure the test ends (not ok) and the function returns
 *   TEST_END();                           or TEST_END_TODO("why")
 *   return harness_finish();              last line "N passed, N failed"; exit status
 *
 * Each TEST_BEGIN/TEST_END pair prints one "ok - name" or "not ok - name" line on stdout; failed
 * checks print "#   file:line: ..." diagnostics before it. TEST_END_TODO("why") ends a test that
 * pins a known library bug (TAP "# TODO": reported, not counted as a failure); test_skip() reports
 * a test that cannot run here. A check that fails outside a test counts as one failed test of its
 * own. Other output of a test program goes to stdout as "# ..." comments (note()). CHECK may be
 * used from any thread while a test is open (failures are counted under a mutex).
 */
#ifndef OIDC_TEST_HARNESS_H
#define OIDC_TEST_HARNESS_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oidc.h>

static int h_passed, h_failed, h_case_failures, h_open;
static char h_case_name[256];
static pthread_mutex_t h_lock = PTHREAD_MUTEX_INITIALIZER;

static inline void h_diag(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    pthread_mutex_lock(&h_lock);
    h_case_failures++;
    fprintf(stdout, "#   %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    if (!h_open) { /* outside a test: a failed test of its own */
        h_failed++;
        h_case_failures = 0;
        printf("not ok - check outside a test (%s:%d)\n", file, line);
    }
    fflush(stdout);
    pthread_mutex_unlock(&h_lock);
}

static inline void test_begin(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h_case_name, sizeof h_case_name, fmt, ap);
    va_end(ap);
    h_case_failures = 0;
    h_open = 1;
}

static inline void test_end(void) {
    h_open = 0;
    if (h_case_failures == 0) {
        h_passed++;
        printf("ok - %s\n", h_case_name);
    } else {
        h_failed++;
        printf("not ok - %s\n", h_case_name);
    }
    fflush(stdout);
}

/* End a test that documents a known library bug: a failure prints "not ok - name # TODO why"
 * and, as in TAP, does not fail the run; a pass prints "ok - name # TODO fixed? ..." so the
 * marker gets removed once the library is fixed. */
static inline void test_end_todo(const char *why) {
    h_open = 0;
    h_passed++;
    if (h_case_failures == 0)
        printf("ok - %s # TODO fixed? remove the TODO marker (%s)\n", h_case_name, why);
    else
        printf("not ok - %s # TODO %s\n", h_case_name, why);
    fflush(stdout);
}

/* A test that could not run here (e.g. a build without test hooks): counted as passed. */
static inline void test_skip(const char *name, const char *why) {
    h_passed++;
    printf("ok - %s # SKIP %s\n", name, why);
    fflush(stdout);
}

/* A comment line in the output ("# ..."): progress, figures, anything that is not a result. */
static inline void note(const char *fmt, ...) {
    va_list ap;
    pthread_mutex_lock(&h_lock);
    fputs("# ", stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&h_lock);
}

static inline int harness_finish(void) {
    printf("%d passed, %d failed\n", h_passed, h_failed);
    fflush(stdout);
    return h_failed ? 1 : 0;
}

#define TEST_BEGIN test_begin
#define TEST_END test_end
#define TEST_END_TODO test_end_todo

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) h_diag(__FILE__, __LINE__, "check failed: %s", #cond);                        \
    } while (0)

#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) h_diag(__FILE__, __LINE__, __VA_ARGS__);                                      \
    } while (0)

/* In a void test function: a failed condition ends the test (not ok) and returns. */
#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            h_diag(__FILE__, __LINE__, __VA_ARGS__);                                               \
            test_end();                                                                            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static inline const char *rc_name(oidc_result rc) {
    const char *n = oidc_result_name((uint32_t)rc);
    return n ? n : "?";
}

/* Compare a result code, printing both names (and the error message, if any) on mismatch. */
#define CHECK_RC_ERR(rc, expected, err)                                                            \
    do {                                                                                           \
        oidc_result h_rc_ = (rc), h_ex_ = (expected);                                              \
        if (h_rc_ != h_ex_)                                                                        \
            h_diag(__FILE__, __LINE__, "%s: got %u %s, expected %u %s (message: %s)", #rc,         \
                   (unsigned)h_rc_, rc_name(h_rc_), (unsigned)h_ex_, rc_name(h_ex_),               \
                   oidc_error_message(err));                                                       \
    } while (0)

#define CHECK_RC(rc, expected) CHECK_RC_ERR(rc, expected, NULL)

static inline int str_starts(const char *s, const char *prefix) {
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline int str_has(const char *s, const char *needle) {
    return s && strstr(s, needle) != NULL;
}

#endif /* OIDC_TEST_HARNESS_H */
