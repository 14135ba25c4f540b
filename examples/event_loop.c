/* An event loop (poll) that never blocks on liboidc: validations are started with
 * oidc_validate_async; each completion callback (on a liboidc worker thread) copies its result
 * into a queue and wakes the loop through a pipe; the loop drains the queue on its own thread.
 * One validation carries a 2 s deadline through an oidc_cancel handle.
 *
 *   event_loop ISSUER AUDIENCE CA_FILE TOKEN [TOKEN...]
 *
 * Prints one line per token ("ok sub=..." or the result name) and exits 0 when every callback
 * arrived. Built and run by tests/c/run.sh async against the oidc-testkit issuer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oidc.h"

struct completion {
  int index;
  oidc_result result;
  char *text; /* claims JSON or the error message: copied, the callback's arguments are borrowed */
  struct completion *next;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static struct completion *queue_head = NULL;
static int wake_fd[2]; /* [0] polled by the loop, [1] written by callbacks */

struct request {
  int index;
};

/* Runs on a liboidc worker thread: copy, enqueue, wake the loop. Never blocks for long. */
static void on_validated(void *user_data, oidc_result result, const char *claims, size_t claims_len,
                         const oidc_error *err) {
  struct request *req = user_data;
  struct completion *c = calloc(1, sizeof *c);
  c->index = req->index;
  c->result = result;
  c->text = result == OIDC_RESULT_OK ? strndup(claims, claims_len) : strdup(oidc_error_message(err));
  pthread_mutex_lock(&queue_lock);
  c->next = queue_head;
  queue_head = c;
  pthread_mutex_unlock(&queue_lock);
  char one = 1;
  while (write(wake_fd[1], &one, 1) < 0 && errno == EINTR) {
  }
}

static void check(oidc_result rc, oidc_error *err, const char *what) {
  if (rc != OIDC_RESULT_OK) {
    fprintf(stderr, "%s: %s: %s\n", what, oidc_result_name(rc), oidc_error_message(err));
    oidc_error_free(err);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s ISSUER AUDIENCE CA_FILE TOKEN [TOKEN...]\n", argv[0]);
    return 2;
  }
  const char *issuer = argv[1], *audience = argv[2], *ca = argv[3];
  int n = argc - 4;
  if (pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK) != 0) return 1;

  oidc_error *err = NULL;
  oidc_validator_builder *b = NULL;
  oidc_validator *client = NULL;
  check(oidc_validator_builder_new(&b, &err), err, "builder");
  check(oidc_validator_builder_set_issuer(b, issuer, strlen(issuer), &err), err, "issuer");
  check(oidc_validator_builder_add_audience(b, audience, strlen(audience), &err), err, "audience");
  check(oidc_validator_builder_set_ca_file(b, ca, strlen(ca), &err), err, "ca file");
  check(oidc_validator_builder_build(b, &client, &err), err, "build");

  oidc_cancel *deadline = NULL;
  check(oidc_cancel_new(2000, &deadline, &err), err, "deadline");
  struct request *reqs = calloc((size_t)n, sizeof *reqs);
  for (int i = 0; i < n; i++) {
    reqs[i].index = i;
    const char *tok = argv[4 + i];
    /* returns at once; the first call carries the deadline */
    check(oidc_validate_async(client, tok, strlen(tok), on_validated, &reqs[i], i == 0 ? deadline : NULL, &err),
          err, "validate_async");
  }
  oidc_cancel_free(deadline); /* the call keeps its deadline */

  int pending = n, ticks = 0;
  struct pollfd pfd = {.fd = wake_fd[0], .events = POLLIN};
  while (pending > 0) {
    int r = poll(&pfd, 1, 100); /* the loop stays responsive: other work would run here */
    if (r < 0 && errno != EINTR) return 1;
    if (r == 0) {
      if (++ticks > 300) {
        fprintf(stderr, "event_loop: timed out with %d pending\n", pending);
        return 1;
      }
      continue;
    }
    char buf[64];
    while (read(wake_fd[0], buf, sizeof buf) > 0) {
    }
    pthread_mutex_lock(&queue_lock);
    struct completion *list = queue_head;
    queue_head = NULL;
    pthread_mutex_unlock(&queue_lock);
    while (list) {
      struct completion *c = list;
      list = c->next;
      if (c->result == OIDC_RESULT_OK) {
        const char *sub = strstr(c->text, "\"sub\":");
        printf("token %d: ok %.*s\n", c->index, sub ? (int)strcspn(sub, ",}") : 0, sub ? sub : "");
      } else {
        printf("token %d: %s (%s)\n", c->index, oidc_result_name(c->result), c->text);
      }
      free(c->text);
      free(c);
      pending--;
    }
  }
  printf("event_loop: %d/%d callbacks delivered to the loop\n", n, n);
  oidc_validator_free(client);
  free(reqs);
  close(wake_fd[0]);
  close(wake_fd[1]);
  return 0;
}
