/*
 * loopback.h - a peer on 127.0.0.1 for the transport tests (test_smtp.c,
 * test_webhook.c): one thread takes connections one after another and
 * hands each to the test's conversation function, which writes down what
 * the client sent. No network beyond the loopback interface.
 *
 * Header-only (static functions): each test is one executable.
 */
#ifndef LK_TESTS_UNIT_LIB_LOOPBACK_H
#define LK_TESTS_UNIT_LIB_LOOPBACK_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PEER_LOG_MAX 32768

struct peer;
typedef void (*peer_talk_fn)(struct peer *p, int fd);

struct peer {
    int lfd;
    int port;
    pthread_t tid;
    peer_talk_fn talk;
    atomic_int accepted; /* connections taken so far */
    atomic_int holding;  /* the conversation is holding back an answer */
    /* What the client sent, in the test's words; written by the peer
     * thread, read by the test once the client is done. */
    char log[PEER_LOG_MAX];
    size_t loglen;
    /* Knobs the conversations read. */
    const char *reject;       /* SMTP: refuse RCPT TO lines holding this */
    const char *reject_reply; /* SMTP: with this reply (CRLF-ended); NULL: "550 no such user" */
    int hold;           /* SMTP: hold the answer to DATA until the client leaves */
    int status;         /* HTTP: the status to answer */
};

static inline void peer_logf(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void peer_logf(struct peer *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->log + p->loglen, sizeof(p->log) - p->loglen, fmt, ap);
    va_end(ap);
    if (n > 0)
        p->loglen += (size_t)n < sizeof(p->log) - p->loglen ? (size_t)n : sizeof(p->log) - p->loglen - 1;
}

/* Writes all of s; the client may have gone, which is not the peer's failure. */
static inline void peer_say(int fd, const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Reads one line (up to and with its '\n') into buf; its length, 0 at the end. */
static inline size_t peer_line(int fd, char *buf, size_t cap) {
    size_t n = 0;
    while (n + 1 < cap) {
        char c;
        ssize_t k = recv(fd, &c, 1, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        buf[n++] = c;
        if (c == '\n')
            break;
    }
    buf[n] = '\0';
    return n;
}

/* Reads exactly n bytes into buf (n < cap); 0, or -1 if the client left. */
static inline int peer_read(int fd, char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = recv(fd, buf + got, n - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

static inline void *peer_main(void *arg) {
    struct peer *p = arg;
    for (;;) {
        int fd = accept(p->lfd, NULL, NULL);
        if (fd < 0)
            return NULL; /* peer_stop() shut the listener down */
        atomic_fetch_add(&p->accepted, 1);
        p->talk(p, fd);
        close(fd);
    }
}

/* Listens on a free loopback port and starts the peer thread. 0 or -1. */
static inline int peer_start(struct peer *p, peer_talk_fn talk) {
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->talk = talk;
    atomic_init(&p->accepted, 0);
    atomic_init(&p->holding, 0);
    p->loglen = 0;
    p->log[0] = '\0';
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(p->lfd, 8) != 0 ||
        getsockname(p->lfd, (struct sockaddr *)&a, &alen) != 0)
        return -1;
    p->port = ntohs(a.sin_port);
    return pthread_create(&p->tid, NULL, peer_main, p) == 0 ? 0 : -1;
}

/* Stops taking connections and joins the thread (after the one in hand). */
static inline void peer_stop(struct peer *p) {
    shutdown(p->lfd, SHUT_RDWR);
    pthread_join(p->tid, NULL);
    close(p->lfd);
}

#endif
