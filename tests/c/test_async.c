/* The non-blocking API from C with pthreads, against the oidc-testkit issuer:
 *   cold:     1000 concurrent oidc_validate_async on a cold cache -> 1 discovery + 1 JWKS fetch,
 *             every callback exactly once, never on the submitting thread;
 *   parity:   every shared vector decided identically by oidc_validate_at and _async;
 *   cancel:   before start, during a fetch, after completion -> exactly one callback each;
 *   deadline: a hanging fetch ends with DEADLINE_EXCEEDED;
 *   free:     oidc_validator_free with 200 calls in flight;
 *   fork:     fork() after warm-up while a refresh holds the single-flight lock; the child
 *             validates (blocking and non-blocking) with its own pool, agent and lock.
 * Run by tests/c/run.sh async (plain, valgrind, ASan). Usage:
 *   test_async ISSUER CA_FILE ADMIN_URL VECTORS_FILE */
#include "async_common.h"

#include <assert.h>
#include <pthread.h>
#include <sys/wait.h>

#include "harness.h"

static const char *issuer, *ca_file, *admin;

typedef struct {
  long calls;     /* callbacks received for this call */
  long result;
  char *claims;   /* copy of the claims on OK */
  pthread_t thread;
} slot_t;

typedef struct {
  slot_t *slots;
  long n;
  long done;
} batch_t;

typedef struct {
  batch_t *b;
  long i;
} ud_t;

static void on_validate(void *user_data, oidc_result result, const char *claims, size_t len, const oidc_error *err) {
  ud_t *u = user_data;
  slot_t *s = &u->b->slots[u->i];
  if (result == OIDC_RESULT_OK) {
    assert(claims && err == NULL && strlen(claims) == len);
    s->claims = strndup(claims, len);
  } else {
    assert(claims == NULL && err != NULL && oidc_error_code(err) == result);
  }
  s->result = result;
  s->thread = pthread_self();
  __atomic_fetch_add(&s->calls, 1, __ATOMIC_ACQ_REL);
  __atomic_fetch_add(&u->b->done, 1, __ATOMIC_ACQ_REL);
}

static void on_done(void *user_data, oidc_result result, const oidc_error *err) {
  on_validate(user_data, result, NULL, 0, err);
}

static batch_t *batch_new(long n) {
  batch_t *b = calloc(1, sizeof *b);
  b->slots = calloc((size_t)n, sizeof *b->slots);
  b->n = n;
  return b;
}

static void batch_free(batch_t *b) {
  for (long i = 0; i < b->n; i++) free(b->slots[i].claims);
  free(b->slots);
  free(b);
}

static ud_t *uds_new(batch_t *b) {
  ud_t *u = calloc((size_t)b->n, sizeof *u);
  for (long i = 0; i < b->n; i++) { u[i].b = b; u[i].i = i; }
  return u;
}

static oidc_validator *make_client(const char *jwks_uri, uint32_t timeout_ms) {
  oidc_validator_builder *b = NULL;
  oidc_validator *c = NULL;
  assert(oidc_validator_builder_new(&b, NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_set_issuer(b, issuer, strlen(issuer), NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_add_audience(b, "api", 3, NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_set_ca_file(b, ca_file, strlen(ca_file), NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_set_timeouts_ms(b, timeout_ms, timeout_ms, NULL) == OIDC_RESULT_OK);
  if (jwks_uri) assert(oidc_validator_builder_set_jwks_uri(b, jwks_uri, strlen(jwks_uri), NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_build(b, &c, NULL) == OIDC_RESULT_OK);
  return c;
}

static char *token(const char *query) {
  char path[512];
  snprintf(path, sizeof path, "/token?alg=ES256&aud=api%s", query);
  char *t = admin_get(admin, path);
  assert(t && t[0] == 'e');
  return t;
}

/* ---- 1000 concurrent cold validations ---- */
typedef struct {
  oidc_validator *c;
  const char *tok;
  ud_t *uds;
  long from, step, n;
} submitter_t;

static void *submit_range(void *arg) {
  submitter_t *s = arg;
  for (long i = s->from; i < s->n; i += s->step) {
    oidc_result rc = oidc_validate_async(s->c, s->tok, strlen(s->tok), on_validate, &s->uds[i], NULL, NULL);
    assert(rc == OIDC_RESULT_OK);
  }
  return NULL;
}

static void test_cold_thousand(void) {
  TEST_BEGIN("cold: 1000 concurrent oidc_validate_async, one discovery and one JWKS fetch");
  enum { N = 1000, T = 8 };
  admin_post(admin, "/fault?path=/jwks&mode=slow_ms=300");
  admin_post(admin, "/fault?path=/.well-known/openid-configuration&mode=slow_ms=100");
  admin_post(admin, "/reset_stats");
  oidc_validator *c = make_client(NULL, 60000); /* generous: valgrind slows the TLS handshake */
  char *tok = token("");
  batch_t *b = batch_new(N);
  ud_t *uds = uds_new(b);
  pthread_t th[T];
  submitter_t sub[T];
  for (int t = 0; t < T; t++) {
    sub[t] = (submitter_t){c, tok, uds, t, T, N};
    pthread_create(&th[t], NULL, submit_range, &sub[t]);
  }
  for (int t = 0; t < T; t++) pthread_join(th[t], NULL);
  REQUIRE(wait_count(&b->done, N, 60000), "only %ld of %d callbacks", b->done, N);
  for (long i = 0; i < N; i++) {
    REQUIRE(b->slots[i].calls == 1, "call %ld: %ld callbacks", i, b->slots[i].calls);
    REQUIRE(b->slots[i].result == OIDC_RESULT_OK, "call %ld: %s", i, oidc_result_name((uint32_t)b->slots[i].result));
    for (int t = 0; t < T; t++) REQUIRE(!pthread_equal(b->slots[i].thread, th[t]), "callback on a submitting thread");
  }
  long d = admin_hits(admin, "/.well-known/openid-configuration"), j = admin_hits(admin, "/jwks");
  REQUIRE(d == 1 && j == 1, "discovery %ld, jwks %ld (want 1 and 1)", d, j);
  admin_post(admin, "/fault?path=/jwks&mode=ok");
  admin_post(admin, "/fault?path=/.well-known/openid-configuration&mode=ok");
  usleep(1000);
  batch_free(b);
  free(uds);
  free(tok);
  oidc_validator_free(c);
  TEST_END();
}

/* ---- parity on the shared vectors (file made by run_async.sh from tests/vectors/validation.json):
 * line 1 issuer, 2 audience, 3 expected typ, 4 algorithms, 5 max token bytes, 6 now, 7 jwks JSON,
 * then "code name token" per case. */
static char *read_line(FILE *f) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, f);
  if (n <= 0) { free(line); return NULL; }
  if (line[n - 1] == '\n') line[n - 1] = 0;
  return line;
}

static void test_vectors_parity(const char *path) {
  TEST_BEGIN("parity: every shared vector decided identically by oidc_validate_at and _async");
  FILE *f = fopen(path, "r");
  REQUIRE(f != NULL, "cannot open %s", path);
  char *iss = read_line(f), *aud = read_line(f), *typ = read_line(f), *algs = read_line(f);
  char *maxb = read_line(f), *now_s = read_line(f), *jwks = read_line(f);
  oidc_validator_builder *b = NULL;
  oidc_validator *c = NULL;
  assert(oidc_validator_builder_new(&b, NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_set_issuer(b, iss, strlen(iss), NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_set_jwks_json(b, jwks, strlen(jwks), NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_add_audience(b, aud, strlen(aud), NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_set_expected_typ(b, typ, strlen(typ), NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_add_required_claim(b, "sub", 3, NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_set_algorithms(b, algs, strlen(algs), NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_set_max_token_bytes(b, (size_t)atol(maxb), NULL) == OIDC_RESULT_OK);
  assert(oidc_validator_builder_build(b, &c, NULL) == OIDC_RESULT_OK);
  int64_t now = atoll(now_s);
  enum { MAX = 256 };
  char *names[MAX], *toks[MAX];
  long codes[MAX], n = 0;
  char *line;
  while ((line = read_line(f)) && n < MAX) {
    char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    assert(sp1 && sp2);
    *sp1 = *sp2 = 0;
    codes[n] = atol(line);
    names[n] = strdup(sp1 + 1);
    toks[n] = strdup(sp2 + 1);
    free(line);
    n++;
  }
  fclose(f);
  batch_t *bt = batch_new(n);
  ud_t *uds = uds_new(bt);
  for (long i = 0; i < n; i++)
    assert(oidc_validate_at_async(c, toks[i], strlen(toks[i]), now, on_validate, &uds[i], NULL, NULL) == OIDC_RESULT_OK);
  REQUIRE(wait_count(&bt->done, n, 30000), "callbacks missing");
  for (long i = 0; i < n; i++) {
    char *claims = NULL;
    oidc_error *err = NULL;
    oidc_result rc = oidc_validate_at(c, toks[i], strlen(toks[i]), now, &claims, NULL, &err);
    REQUIRE(rc == codes[i], "%s: blocking %u, expected %ld", names[i], rc, codes[i]);
    REQUIRE(bt->slots[i].result == rc && bt->slots[i].calls == 1, "%s: non-blocking %ld, blocking %u", names[i], bt->slots[i].result, rc);
    if (rc == OIDC_RESULT_OK) REQUIRE(strcmp(claims, bt->slots[i].claims) == 0, "%s: claims differ", names[i]);
    oidc_string_free(claims);
    oidc_error_free(err);
    free(names[i]);
    free(toks[i]);
  }
  note("parity: %ld vectors decided identically", n);
  batch_free(bt);
  free(uds);
  free(iss); free(aud); free(typ); free(algs); free(maxb); free(now_s); free(jwks);
  oidc_validator_free(c);
  TEST_END();
}

/* ---- cancellation: before start, during a fetch, after completion ---- */
static void test_cancel(void) {
  TEST_BEGIN("cancel: before start, during a fetch, after completion; exactly one callback each");
  oidc_validator *c = make_client(NULL, 10000);
  batch_t *b = batch_new(4);
  ud_t *uds = uds_new(b);
  /* before: the handle is cancelled before the call is made */
  oidc_cancel *before = NULL;
  assert(oidc_cancel_new(0, &before, NULL) == OIDC_RESULT_OK);
  oidc_cancel_trigger(before);
  admin_post(admin, "/rotate");
  char *rotated = token("");
  long j0 = admin_hits(admin, "/jwks");
  assert(oidc_validate_async(c, rotated, strlen(rotated), on_validate, &uds[0], before, NULL) == OIDC_RESULT_OK);
  REQUIRE(wait_count(&b->done, 1, 10000), "no callback");
  REQUIRE(b->slots[0].result == OIDC_RESULT_CANCELLED, "before: %s", oidc_result_name((uint32_t)b->slots[0].result));
  REQUIRE(admin_hits(admin, "/jwks") == j0, "a call cancelled before it started fetched");
  /* during: the unknown-kid refresh is slow; cancel while it runs */
  admin_post(admin, "/fault?path=/jwks&mode=slow_ms=1500&count=1");
  oidc_cancel *during = NULL;
  assert(oidc_cancel_new(0, &during, NULL) == OIDC_RESULT_OK);
  assert(oidc_validate_async(c, rotated, strlen(rotated), on_validate, &uds[1], during, NULL) == OIDC_RESULT_OK);
  assert(oidc_validate_async(c, rotated, strlen(rotated), on_validate, &uds[2], NULL, NULL) == OIDC_RESULT_OK);
  double end = now_ms() + 10000;
  while (admin_hits(admin, "/jwks") == j0 && now_ms() < end) usleep(2000);
  REQUIRE(admin_hits(admin, "/jwks") == j0 + 1, "the refresh did not start");
  oidc_cancel_trigger(during);
  REQUIRE(wait_count(&b->slots[1].calls, 1, 10000), "no callback for the cancelled call");
  REQUIRE(b->slots[1].result == OIDC_RESULT_CANCELLED, "during: %s", oidc_result_name((uint32_t)b->slots[1].result));
  REQUIRE(b->slots[2].calls == 0, "the uncancelled call was answered before the fetch ended");
  REQUIRE(wait_count(&b->done, 3, 10000), "the uncancelled call never completed");
  REQUIRE(b->slots[2].result == OIDC_RESULT_OK, "rotation not followed: %s", oidc_result_name((uint32_t)b->slots[2].result));
  /* after: cancelling a completed call changes nothing */
  oidc_cancel *after = NULL;
  assert(oidc_cancel_new(0, &after, NULL) == OIDC_RESULT_OK);
  assert(oidc_validate_async(c, rotated, strlen(rotated), on_validate, &uds[3], after, NULL) == OIDC_RESULT_OK);
  REQUIRE(wait_count(&b->done, 4, 10000), "no callback");
  oidc_cancel_trigger(after);
  oidc_cancel_trigger(during);
  usleep(20000); /* a duplicate callback would show in the counters (not used to synchronise) */
  for (int i = 0; i < 4; i++) REQUIRE(b->slots[i].calls == 1, "call %d: %ld callbacks", i, b->slots[i].calls);
  REQUIRE(b->slots[3].result == OIDC_RESULT_OK, "after: %s", oidc_result_name((uint32_t)b->slots[3].result));
  REQUIRE(admin_hits(admin, "/jwks") == j0 + 1, "one refresh in all");
  oidc_cancel_free(before);
  oidc_cancel_free(during);
  oidc_cancel_free(after);
  free(rotated);
  batch_free(b);
  free(uds);
  oidc_validator_free(c);
  TEST_END();
}

/* ---- the cancel handle freed inside its own call's callback ---- */
typedef struct {
  oidc_cancel *cancel;
  long calls;
  oidc_result result;
} free_in_cb_t;

static void on_validate_free_cancel(void *ud, oidc_result rc, const char *claims, size_t len, const oidc_error *err) {
  (void)claims;
  (void)len;
  (void)err;
  free_in_cb_t *f = ud;
  f->result = rc;
  oidc_cancel_free(f->cancel); /* "free with oidc_cancel_free (any time)": here, while the call that was
                                  given it may still be returning on the submitting thread */
  __atomic_add_fetch(&f->calls, 1, __ATOMIC_SEQ_CST);
}

static void test_cancel_free_in_callback(void) {
  TEST_BEGIN("cancel: a handle freed inside the callback of a call under it (warm cache, 300 calls)");
  oidc_validator *c = make_client(NULL, 10000);
  char *t = token("");
  oidc_error *err = NULL;
  char *claims = NULL;
  CHECK_RC_ERR(oidc_validate(c, t, strlen(t), &claims, NULL, &err), OIDC_RESULT_OK, err); /* warm */
  oidc_string_free(claims);
  oidc_error_free(err);
  int ok = 1;
  for (int i = 0; i < 300 && ok; i++) {
    free_in_cb_t f = {0};
    assert(oidc_cancel_new(0, &f.cancel, NULL) == OIDC_RESULT_OK);
    assert(oidc_validate_async(c, t, strlen(t), on_validate_free_cancel, &f, f.cancel, NULL) == OIDC_RESULT_OK);
    double end = now_ms() + 10000;
    while (__atomic_load_n(&f.calls, __ATOMIC_SEQ_CST) == 0 && now_ms() < end) usleep(100);
    usleep(200); /* a second callback would show in the counter */
    if (f.calls != 1 || f.result != OIDC_RESULT_OK) {
      CHECKF(0, "call %d: %ld callbacks, %s", i, f.calls, oidc_result_name((uint32_t)f.result));
      ok = 0;
    }
  }
  free(t);
  oidc_validator_free(c);
  TEST_END();
}

/* ---- a deadline on a hanging fetch ---- */
static void test_deadline(void) {
  TEST_BEGIN("deadline: a hanging fetch ends with DEADLINE_EXCEEDED; prefetch ends with TIMEOUT");
  admin_post(admin, "/fault?path=/hang-jwks&mode=hang");
  char uri[512];
  snprintf(uri, sizeof uri, "%s/hang-jwks", issuer);
  oidc_validator *c = make_client(uri, 1500);
  batch_t *b = batch_new(2);
  ud_t *uds = uds_new(b);
  char *tok = token("");
  oidc_cancel *dl = NULL;
  assert(oidc_cancel_new(200, &dl, NULL) == OIDC_RESULT_OK);
  double t0 = now_ms();
  assert(oidc_validate_async(c, tok, strlen(tok), on_validate, &uds[0], dl, NULL) == OIDC_RESULT_OK);
  oidc_cancel_free(dl); /* the call keeps its deadline */
  REQUIRE(wait_count(&b->done, 1, 10000), "no callback");
  REQUIRE(b->slots[0].result == OIDC_RESULT_DEADLINE_EXCEEDED, "%s", oidc_result_name((uint32_t)b->slots[0].result));
  REQUIRE(now_ms() - t0 < 1400, "answered after %.0f ms, before the fetch timed out", now_ms() - t0);
  /* the prefetch variant, without a deadline: completes with the fetch's own timeout */
  assert(oidc_validator_prefetch_async(c, on_done, &uds[1], NULL, NULL) == OIDC_RESULT_OK);
  REQUIRE(wait_count(&b->done, 2, 20000), "no callback");
  REQUIRE(b->slots[1].result == OIDC_RESULT_TIMEOUT, "prefetch: %s", oidc_result_name((uint32_t)b->slots[1].result));
  free(tok);
  batch_free(b);
  free(uds);
  oidc_validator_free(c);
  TEST_END();
}

/* ---- free with calls in flight ---- */
static void test_free_in_flight(void) {
  TEST_BEGIN("free: oidc_validator_free with 200 calls in flight");
  enum { N = 200 };
  oidc_validator *c = make_client(NULL, 10000);
  char *tok = token("");
  batch_t *b = batch_new(N);
  ud_t *uds = uds_new(b);
  for (long i = 0; i < N; i++)
    assert(oidc_validate_async(c, tok, strlen(tok), on_validate, &uds[i], NULL, NULL) == OIDC_RESULT_OK);
  oidc_validator_free(c); /* never waits; callbacks still run */
  free(tok);           /* the token was copied */
  REQUIRE(wait_count(&b->done, N, 30000), "callbacks missing after free");
  for (long i = 0; i < N; i++) REQUIRE(b->slots[i].calls == 1 && b->slots[i].result == OIDC_RESULT_OK, "call %ld", i);
  batch_free(b);
  free(uds);
  TEST_END();
}

/* ---- fork while a refresh holds the single-flight lock ---- */
static int child_validate(oidc_validator *c, const char *old_tok, const char *new_tok) {
  char *claims = NULL;
  oidc_error *err = NULL;
  if (oidc_validate(c, old_tok, strlen(old_tok), &claims, NULL, &err) != OIDC_RESULT_OK) return 10;
  oidc_string_free(claims);
  /* needs a fetch of its own: the parent's in-flight refresh (and its lock) do not exist here */
  oidc_result rc = oidc_validate(c, new_tok, strlen(new_tok), &claims, NULL, &err);
  if (rc != OIDC_RESULT_OK) {
    fprintf(stderr, "child: %s: %s\n", oidc_result_name(rc), oidc_error_message(err));
    return 11;
  }
  oidc_string_free(claims);
  /* the non-blocking path builds a new pool in the child */
  batch_t *b = batch_new(1);
  ud_t *uds = uds_new(b);
  if (oidc_validate_async(c, new_tok, strlen(new_tok), on_validate, &uds[0], NULL, NULL) != OIDC_RESULT_OK) return 12;
  if (!wait_count(&b->done, 1, 10000)) return 13;
  if (b->slots[0].result != OIDC_RESULT_OK) return 14;
  batch_free(b);
  free(uds);
  char *m = NULL;
  if (oidc_metrics_json(&m, NULL, NULL) != OIDC_RESULT_OK || !strstr(m, "\"fork_generation\":")) return 15;
  oidc_string_free(m);
  return 0;
}

static void test_fork(void) {
  TEST_BEGIN("fork: the child validates (blocking and non-blocking) while the parent holds the refresh lock");
  oidc_validator *c = make_client(NULL, 10000);
  char *old_tok = token("");
  char *claims = NULL;
  REQUIRE(oidc_validate(c, old_tok, strlen(old_tok), &claims, NULL, NULL) == OIDC_RESULT_OK, "warm-up");
  oidc_string_free(claims);
  /* rotate, and make the parent's unknown-kid refresh slow: it holds the fetch lock when we fork */
  admin_post(admin, "/rotate");
  char *new_tok = token("");
  admin_post(admin, "/fault?path=/jwks&mode=slow_ms=1500&count=1");
  long j0 = admin_hits(admin, "/jwks");
  batch_t *b = batch_new(1);
  ud_t *uds = uds_new(b);
  /* wait out the unknown-kid cooldown of the earlier rotation test (30 s default) by using a
   * client whose cooldown is short */
  oidc_validator *c2 = NULL;
  {
    oidc_validator_builder *bl = NULL;
    assert(oidc_validator_builder_new(&bl, NULL) == OIDC_RESULT_OK);
    assert(oidc_validator_builder_set_issuer(bl, issuer, strlen(issuer), NULL) == OIDC_RESULT_OK);
    assert(oidc_validator_builder_add_audience(bl, "api", 3, NULL) == OIDC_RESULT_OK);
    assert(oidc_validator_builder_set_ca_file(bl, ca_file, strlen(ca_file), NULL) == OIDC_RESULT_OK);
    assert(oidc_validator_builder_set_cache_policy_secs(bl, 60, 86400, 0, 21600, NULL) == OIDC_RESULT_OK);
    assert(oidc_validator_builder_build(bl, &c2, NULL) == OIDC_RESULT_OK);
  }
  assert(oidc_validate_async(c2, new_tok, strlen(new_tok), on_validate, &uds[0], NULL, NULL) == OIDC_RESULT_OK);
  double end = now_ms() + 10000;
  while (admin_hits(admin, "/jwks") == j0 && now_ms() < end) usleep(2000);
  REQUIRE(admin_hits(admin, "/jwks") == j0 + 1, "the parent's refresh did not start");
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    int rc = child_validate(c2, old_tok, new_tok);
    /* the child owns copies of everything: free them so valgrind's leak check in the child
     * (it follows fork) sees nothing lost */
    oidc_validator_free(c2);
    oidc_validator_free(c);
    free(old_tok);
    free(new_tok);
    batch_free(b);
    free(uds);
    fflush(NULL);
    /* Leave through exec: valgrind (which follows fork) would otherwise leak-check the child and
     * count the thread-local data of parent threads that do not exist in it. The parent process
     * is leak-checked in full. */
    char code[32];
    snprintf(code, sizeof code, "exit %d", rc);
    execl("/bin/sh", "sh", "-c", code, (char *)NULL);
    _exit(rc);
  }
  REQUIRE(pid > 0, "fork failed");
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
  REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  REQUIRE(wait_count(&b->done, 1, 10000), "the parent's call never completed");
  REQUIRE(b->slots[0].result == OIDC_RESULT_OK, "parent: %s", oidc_result_name((uint32_t)b->slots[0].result));
  REQUIRE(admin_hits(admin, "/jwks") == j0 + 2, "one fetch by the parent, one by the child (%ld)", admin_hits(admin, "/jwks") - j0);
  free(old_tok);
  free(new_tok);
  batch_free(b);
  free(uds);
  oidc_validator_free(c2);
  oidc_validator_free(c);
  TEST_END();
}

static void test_errors(void) {
  TEST_BEGIN("errors: NULL arguments, invalid UTF-8, NULL cancel handles");
  oidc_error *err = NULL;
  REQUIRE(oidc_validate_async(NULL, "x", 1, on_validate, NULL, NULL, &err) == OIDC_RESULT_NULL_PARAMETER, "NULL client");
  oidc_error_free(err);
  oidc_validator *c = make_client(NULL, 10000);
  REQUIRE(oidc_validate_async(c, "x", 1, NULL, NULL, NULL, NULL) == OIDC_RESULT_NULL_PARAMETER, "NULL callback");
  REQUIRE(oidc_validate_async(c, NULL, 5, on_validate, NULL, NULL, NULL) == OIDC_RESULT_NULL_PARAMETER, "NULL token");
  /* Bytes that are no token are the token's fault, as for oidc_validate: accepted, then
     answered through the callback with the blocking path's code. */
  batch_t *b = batch_new(1);
  ud_t *uds = uds_new(b);
  REQUIRE(oidc_validate_async(c, "\xff", 1, on_validate, &uds[0], NULL, NULL) == OIDC_RESULT_OK, "bad UTF-8 accepted");
  REQUIRE(wait_count(&b->done, 1, 10000), "no callback");
  oidc_error *e2 = NULL;
  char *claims = NULL;
  REQUIRE(oidc_validate(c, "\xff", 1, &claims, NULL, &e2) == OIDC_RESULT_TOKEN_MALFORMED, "blocking: malformed");
  REQUIRE(b->slots[0].result == OIDC_RESULT_TOKEN_MALFORMED && b->slots[0].calls == 1, "non-blocking: %ld", b->slots[0].result);
  REQUIRE(oidc_error_http_status(e2) == 401, "the token's fault");
  oidc_error_free(e2);
  batch_free(b);
  free(uds);
  REQUIRE(oidc_validator_prefetch_async(NULL, on_done, NULL, NULL, NULL) == OIDC_RESULT_NULL_PARAMETER, "NULL client");
  REQUIRE(oidc_cancel_new(0, NULL, NULL) == OIDC_RESULT_NULL_PARAMETER, "NULL out");
  oidc_cancel_trigger(NULL);
  oidc_cancel_free(NULL);
  REQUIRE(oidc_cancel_is_cancelled(NULL) == 0, "NULL handle");
  oidc_validator_free(c);
  TEST_END();
}

/* ---- shutdown: the pool's threads are joined; queued calls CANCELLED; a new pool on demand ---- */
static void test_shutdown(void) {
  TEST_BEGIN("shutdown: oidc_async_shutdown joins the pool; queued calls CANCELLED; a new pool on demand");
  enum { N = 64 };
  oidc_validator *c = make_client(NULL, 10000);
  char *tok = token("");
  batch_t *b = batch_new(N);
  ud_t *uds = uds_new(b);
  for (long i = 0; i < N; i++)
    assert(oidc_validate_async(c, tok, strlen(tok), on_validate, &uds[i], NULL, NULL) == OIDC_RESULT_OK);
  oidc_error *err = NULL;
  oidc_result rc = oidc_async_shutdown(30000, &err);
  REQUIRE(rc == OIDC_RESULT_OK, "shutdown: %s", err ? oidc_error_message(err) : "?");
  /* every callback ran before shutdown returned: OK (ran) or CANCELLED (still queued) */
  REQUIRE(b->done == N, "%ld of %d callbacks", b->done, N);
  for (long i = 0; i < N; i++)
    REQUIRE(b->slots[i].calls == 1 && (b->slots[i].result == OIDC_RESULT_OK || b->slots[i].result == OIDC_RESULT_CANCELLED),
          "call %ld: %s", i, oidc_result_name((uint32_t)b->slots[i].result));
  /* again: no pool, nothing to do */
  REQUIRE(oidc_async_shutdown(0, NULL) == OIDC_RESULT_OK, "second shutdown");
  /* the next call starts a new pool */
  batch_t *b2 = batch_new(1);
  ud_t *uds2 = uds_new(b2);
  assert(oidc_validate_async(c, tok, strlen(tok), on_validate, &uds2[0], NULL, NULL) == OIDC_RESULT_OK);
  REQUIRE(wait_count(&b2->done, 1, 10000), "no callback from the new pool");
  REQUIRE(b2->slots[0].result == OIDC_RESULT_OK, "new pool: %ld", b2->slots[0].result);
  /* and is shut down too: the process ends with no liboidc thread (valgrind sees them joined) */
  REQUIRE(oidc_async_shutdown(30000, NULL) == OIDC_RESULT_OK, "final shutdown");
  free(tok);
  batch_free(b);
  batch_free(b2);
  free(uds);
  free(uds2);
  oidc_validator_free(c);
  TEST_END();
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s ISSUER CA_FILE ADMIN_URL VECTORS_FILE\n", argv[0]);
    return 2;
  }
  issuer = argv[1];
  ca_file = argv[2];
  admin = argv[3];
  double t0 = now_ms();
  test_cold_thousand(); /* first: the cache is cold only once per process */
  test_vectors_parity(argv[4]);
  test_cancel();
  test_cancel_free_in_callback();
  test_deadline();
  test_free_in_flight();
  test_fork();
  test_errors();
  test_shutdown(); /* last: leaves no pool thread behind */
  note("test_async: %.0f ms", now_ms() - t0);
  return harness_finish();
}
