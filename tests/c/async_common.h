/* Helpers shared by the non-blocking C tests and examples/event_loop.c: a tiny HTTP/1.1 GET to
 * the oidc-testkit admin listener (plain http on 127.0.0.1), and bounded polling. */
#ifndef OIDC_ASYNC_COMMON_H
#define OIDC_ASYNC_COMMON_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* GET (or POST) http://127.0.0.1:PORT/path; returns the malloc'd body or NULL. */
static char *admin_request(const char *admin_url, const char *method, const char *path) {
  const char *p = strrchr(admin_url, ':');
  if (!p) return NULL;
  int port = atoi(p + 1);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return NULL;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { close(fd); return NULL; }
  char req[2048];
  int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method, path);
  if (write(fd, req, (size_t)n) != n) { close(fd); return NULL; }
  size_t cap = 8192, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 4096 > cap) { cap *= 2; buf = realloc(buf, cap); }
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(fd);
  buf[len] = 0;
  char *body = strstr(buf, "\r\n\r\n");
  if (!body) { free(buf); return NULL; }
  char *out = strdup(body + 4);
  free(buf);
  return out;
}

static char *admin_get(const char *admin, const char *path) { return admin_request(admin, "GET", path); }
static void admin_post(const char *admin, const char *path) { free(admin_request(admin, "POST", path)); }

/* Hits of `path` in the admin /stats JSON ({"/jwks": 3, ...}); 0 when absent. */
static long admin_hits(const char *admin, const char *path) {
  char *s = admin_get(admin, "/stats");
  if (!s) return -1;
  char key[256];
  snprintf(key, sizeof key, "\"%s\":", path);
  char *p = strstr(s, key);
  long v = p ? strtol(p + strlen(key), NULL, 10) : 0;
  free(s);
  return v;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Poll `*counter >= want` every millisecond for at most `ms`; returns whether reached. */
static int wait_count(const long *counter, long want, double ms) {
  double end = now_ms() + ms;
  while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < want) {
    if (now_ms() > end) return 0;
    usleep(1000);
  }
  return 1;
}

#endif
