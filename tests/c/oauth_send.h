/* Helpers of the C protocol tests over the ABI 0.2 request object (include after harness.h).
 *
 *   oidc_oauth_request *r = req_new(client, OIDC_OP_CLIENT_CREDENTIALS);   CHECKed: OK
 *   req_set(r, OIDC_PARAM_..., "value");  req_add(r, OIDC_PARAM_SCOPE, "read");
 *   req_int(r, OIDC_PARAM_DEADLINE_MS, 200);  req_param(r, "name", "value");
 *   outcome o = send_mode(r, cancel, BLOCKING);        or ASYNC: the same request through
 *   expect_outcome(&o, OIDC_RESULT_OK, "what");         oidc_oauth_send_async, waited for here
 *   ... o.resp (owned by o), o.message ...
 *   outcome_free(&o);  oidc_oauth_request_free(r);
 *
 * An outcome is the same shape for both sends: the result code, the response (NULL unless OK),
 * copies of the error's code, message, details, OAuth error and HTTP status. For ASYNC it also
 * records whether oidc_oauth_send_async accepted the call, how many callbacks ran (after a
 * short grace period, to catch a second one) and whether one ran on the submitting thread;
 * expect_outcome checks those: accepted, exactly one callback, off the caller's thread, a
 * response exactly on OK, an error object exactly on failure, whose code is the result. When
 * send_async refuses the call (argument errors), the outcome is that refusal and the test checks
 * that no callback ever ran. */
#ifndef OIDC_TEST_OAUTH_SEND_H
#define OIDC_TEST_OAUTH_SEND_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

enum send_mode { BLOCKING = 0, ASYNC = 1 };
static const char *const MODE_NAME[2] = {"blocking", "async"};

static inline size_t slen_(const char *s) { return s ? strlen(s) : 0; }

static inline double mono_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline char *dup_or_null(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

typedef struct {
    oidc_result rc;        /* the call's result */
    oidc_result err_code;  /* oidc_error_code of its error (OK without one) */
    int has_err;           /* an error object came with the result */
    oidc_oauth_response *resp;
    char *message, *details, *oauth_error;
    char *server_error;    /* oidc_error_server_error(err, OIDC_FIELD_ERROR): the IdP's OAuth error */
    uint32_t http_status;
    int async;             /* sent with oidc_oauth_send_async */
    int accepted;          /* async: send_async returned OK */
    int callbacks;         /* async: callbacks that ran */
    int on_caller_thread;  /* async: a callback ran on the submitting thread */
    double secs;           /* from the send to the answer */
} outcome;

/* The state one non-blocking send shares with its callback. */
typedef struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    pthread_t caller;
    outcome *o;
    int done;
} async_wait;

static inline void fill_error(outcome *o, const oidc_error *err) {
    o->has_err = err != NULL;
    o->err_code = err ? oidc_error_code(err) : OIDC_RESULT_OK;
    o->message = dup_or_null(err ? oidc_error_message(err) : NULL);
    o->details = dup_or_null(err ? oidc_error_details_json(err) : NULL);
    o->oauth_error = dup_or_null(err ? oidc_error_oauth_error(err) : NULL);
    o->server_error = dup_or_null(err ? oidc_error_server_error(err, OIDC_FIELD_ERROR) : NULL);
    o->http_status = err ? oidc_error_http_status(err) : 0;
}

static inline void on_response(void *user_data, oidc_result rc, oidc_oauth_response *resp, const oidc_error *err) {
    async_wait *w = user_data;
    pthread_mutex_lock(&w->m);
    outcome *o = w->o;
    o->callbacks++;
    if (pthread_equal(pthread_self(), w->caller)) o->on_caller_thread = 1;
    if (o->callbacks == 1) {
        o->rc = rc;
        o->resp = resp; /* owned by the host: outcome_free frees it */
        fill_error(o, err);
    } else {
        oidc_oauth_response_free(resp); /* a second callback: counted (a failure), not leaked */
    }
    w->done = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->m);
}

/* How long a send may take before the test gives up waiting (valgrind: OIDC_TEST_SLOW). */
static inline double send_wait_secs(void) { return getenv("OIDC_TEST_SLOW") ? 180.0 : 60.0; }

/* Send `r` blocking or non-blocking; the outcome is the same shape either way. */
static inline outcome send_mode(const oidc_oauth_request *r, const oidc_cancel *cancel, enum send_mode mode) {
    outcome o;
    memset(&o, 0, sizeof o);
    o.async = mode == ASYNC;
    double t0 = mono_s();
    if (mode == BLOCKING) {
        oidc_error *err = NULL;
        o.rc = oidc_oauth_send(r, cancel, &o.resp, &err);
        fill_error(&o, err);
        oidc_error_free(err);
        o.secs = mono_s() - t0;
        return o;
    }
    /* The wait state outlives this function only if a callback never came: then it is leaked
     * on purpose (a late callback must not write freed memory). */
    async_wait *w = calloc(1, sizeof *w);
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->caller = pthread_self();
    outcome *shared = calloc(1, sizeof *shared);
    w->o = shared;
    oidc_error *err = NULL;
    oidc_result accepted = oidc_oauth_send_async(r, cancel, on_response, w, &err);
    if (accepted != OIDC_RESULT_OK) {
        o.rc = accepted;
        fill_error(&o, err);
        oidc_error_free(err);
        sleep_ms(20); /* a callback for a refused call would show in the counter */
        pthread_mutex_lock(&w->m);
        o.callbacks = shared->callbacks;
        pthread_mutex_unlock(&w->m);
        o.secs = mono_s() - t0;
        if (o.callbacks == 0) {
            pthread_mutex_destroy(&w->m);
            pthread_cond_destroy(&w->cv);
            free(shared);
            free(w);
        }
        return o;
    }
    o.accepted = 1;
    double end = t0 + send_wait_secs();
    pthread_mutex_lock(&w->m);
    while (!w->done && mono_s() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->cv, &w->m, &ts);
    }
    int done = w->done;
    pthread_mutex_unlock(&w->m);
    o.secs = mono_s() - t0;
    if (!done) {
        o.rc = (oidc_result)0xFFFFu; /* no callback: shows as "?" */
        return o;
    }
    sleep_ms(5); /* a second callback would show in the counter */
    pthread_mutex_lock(&w->m);
    o.rc = shared->rc;
    o.err_code = shared->err_code;
    o.has_err = shared->has_err;
    o.resp = shared->resp;
    o.message = shared->message;
    o.details = shared->details;
    o.oauth_error = shared->oauth_error;
    o.server_error = shared->server_error;
    o.http_status = shared->http_status;
    o.callbacks = shared->callbacks;
    o.on_caller_thread = shared->on_caller_thread;
    pthread_mutex_unlock(&w->m);
    pthread_mutex_destroy(&w->m);
    pthread_cond_destroy(&w->cv);
    free(shared);
    free(w);
    return o;
}

static inline void outcome_free(outcome *o) {
    oidc_oauth_response_free(o->resp);
    free(o->message);
    free(o->details);
    free(o->oauth_error);
    free(o->server_error);
    memset(o, 0, sizeof *o);
}

/* The outcome's shape and code: `want` on both paths, the error object matching it. */
#define expect_outcome(o, want, what) expect_outcome_at(__FILE__, __LINE__, (o), (want), (what))
static inline int expect_outcome_at(const char *file, int line, const outcome *o, oidc_result want, const char *what) {
    int ok = 1;
#define EO_FAIL(...) (h_diag(file, line, __VA_ARGS__), ok = 0)
    if (o->rc != want)
        EO_FAIL("%s [%s]: got %s, want %s (%s)", what, MODE_NAME[o->async], rc_name(o->rc), rc_name(want),
                o->message ? o->message : "-");
    if (o->rc == OIDC_RESULT_OK) {
        if (!o->resp || o->has_err) EO_FAIL("%s [%s]: OK must come with a response and no error", what, MODE_NAME[o->async]);
    } else {
        if (o->resp) EO_FAIL("%s [%s]: a failure with a response", what, MODE_NAME[o->async]);
        if (!o->has_err || o->err_code != o->rc)
            EO_FAIL("%s [%s]: the error object (%s) must carry the result (%s)", what, MODE_NAME[o->async],
                    o->has_err ? rc_name(o->err_code) : "none", rc_name(o->rc));
    }
    if (o->async) {
        if (o->accepted) {
            if (o->callbacks != 1) EO_FAIL("%s [async]: %d callbacks, want exactly 1", what, o->callbacks);
            if (o->on_caller_thread) EO_FAIL("%s [async]: the callback ran on the calling thread", what);
        } else if (o->callbacks != 0) {
            EO_FAIL("%s [async]: refused by send_async, yet %d callbacks ran", what, o->callbacks);
        }
    }
#undef EO_FAIL
    return ok;
}

/* The response's string field, or "" (never NULL: for comparisons). */
static inline const char *field_s(const outcome *o, oidc_field f) {
    const char *v = o->resp ? oidc_oauth_response_string(o->resp, f) : NULL;
    return v ? v : "";
}
static inline int64_t field_i(const outcome *o, oidc_field f) { return o->resp ? oidc_oauth_response_int(o->resp, f) : -1; }
static inline const char *resp_json(const outcome *o) {
    const char *j = o->resp ? oidc_oauth_response_json(o->resp, NULL) : NULL;
    return j ? j : "";
}

/* ---- building requests (each setter CHECKed: it must succeed) ---- */

#define req_new(c, op) req_new_at(__FILE__, __LINE__, (c), (op))
static inline oidc_oauth_request *req_new_at(const char *file, int line, const oidc_oauth_client *c, oidc_operation op) {
    oidc_oauth_request *r = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_request_new(c, op, &r, &err);
    if (rc != OIDC_RESULT_OK) h_diag(file, line, "oidc_oauth_request_new(op %u): %s (%s)", (unsigned)op, rc_name(rc), oidc_error_message(err));
    oidc_error_free(err);
    return r;
}

#define req_set(r, p, v) req_set_at(__FILE__, __LINE__, (r), (p), (v))
static inline void req_set_at(const char *file, int line, oidc_oauth_request *r, oidc_param p, const char *v) {
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_request_set_string(r, p, v, slen_(v), &err);
    if (rc != OIDC_RESULT_OK) h_diag(file, line, "set_string(param %u): %s (%s)", (unsigned)p, rc_name(rc), oidc_error_message(err));
    oidc_error_free(err);
}

#define req_add(r, p, v) req_add_at(__FILE__, __LINE__, (r), (p), (v))
static inline void req_add_at(const char *file, int line, oidc_oauth_request *r, oidc_param p, const char *v) {
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_request_add_string(r, p, v, slen_(v), &err);
    if (rc != OIDC_RESULT_OK) h_diag(file, line, "add_string(param %u): %s (%s)", (unsigned)p, rc_name(rc), oidc_error_message(err));
    oidc_error_free(err);
}

#define req_int(r, p, v) req_int_at(__FILE__, __LINE__, (r), (p), (v))
static inline void req_int_at(const char *file, int line, oidc_oauth_request *r, oidc_param p, int64_t v) {
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_request_set_int(r, p, v, &err);
    if (rc != OIDC_RESULT_OK) h_diag(file, line, "set_int(param %u): %s (%s)", (unsigned)p, rc_name(rc), oidc_error_message(err));
    oidc_error_free(err);
}

#define req_param(r, n, v) req_param_at(__FILE__, __LINE__, (r), (n), (v))
static inline void req_param_at(const char *file, int line, oidc_oauth_request *r, const char *n, const char *v) {
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_request_add_param(r, n, slen_(n), v, slen_(v), &err);
    if (rc != OIDC_RESULT_OK) h_diag(file, line, "add_param(%s): %s (%s)", n, rc_name(rc), oidc_error_message(err));
    oidc_error_free(err);
}

#define req_pending(r, started) req_pending_at(__FILE__, __LINE__, (r), (started))
static inline void req_pending_at(const char *file, int line, oidc_oauth_request *r, const oidc_oauth_response *started) {
    oidc_error *err = NULL;
    oidc_result rc = oidc_oauth_request_set_pending(r, started, &err);
    if (rc != OIDC_RESULT_OK) h_diag(file, line, "set_pending: %s (%s)", rc_name(rc), oidc_error_message(err));
    oidc_error_free(err);
}

/* A refusal: `call` (which fills `err`, an oidc_error * variable) returns `want`, with an
 * error object of that code whose message names `needle` (when not NULL); `err` is freed. */
#define CHECK_REFUSED(call, err, want, needle, what)                                              \
    do {                                                                                           \
        oidc_result r_ = (call); /* before reading err */                                          \
        refused_at(__FILE__, __LINE__, r_, (err), (want), (needle), (what));                       \
        (err) = NULL;                                                                              \
    } while (0)
static inline int refused_at(const char *file, int line, oidc_result rc, oidc_error *err, oidc_result want, const char *needle,
                      const char *what) {
    int ok = 1;
    if (rc != want) {
        h_diag(file, line, "%s: got %s, want %s (%s)", what, rc_name(rc), rc_name(want), oidc_error_message(err));
        ok = 0;
    } else if (rc != OIDC_RESULT_OK && (!err || oidc_error_code(err) != rc)) {
        h_diag(file, line, "%s: no error object with the code", what);
        ok = 0;
    } else if (needle && (!err || !strstr(oidc_error_message(err), needle))) {
        h_diag(file, line, "%s: the message does not name %s: %s", what, needle, err ? oidc_error_message(err) : "(none)");
        ok = 0;
    }
    oidc_error_free(err);
    return ok;
}

#endif /* OIDC_TEST_OAUTH_SEND_H */
