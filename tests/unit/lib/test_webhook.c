/*
 * test_webhook.c - unit tests for lib/webhook.h: the signature (known
 * answers, refusals) and the POST itself against a receiver on 127.0.0.1
 * that this test plays (loopback.h): header order, the exact body, a
 * signature the receiver can check, non-2xx answers, no redirects, and
 * errors that never carry the URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/transfer.h"
#include "lib/webhook.h"

#include "loopback.h"
#include "unit_assert.h"

/* --- the signature ---------------------------------------------------------------------- */

static void test_sign_known_answers(void **state) {
    (void)state;
    char sig[WEBHOOK_SIG_BUFSZ];
    /* printf '0.' | openssl dgst -sha256 -hmac key */
    assert_i64_eq(webhook_sign("key", 3, 0, "", 0, sig), 0);
    assert_string_equal(sig, "t=0,v1=85841b4efc3cd7776c3c8f9b7cca9e281c550e5d19889d78e9e669c6337f000d");
    /* printf '1798761600.{"a":1}' | openssl dgst -sha256 -hmac whsec-test */
    assert_i64_eq(webhook_sign("whsec-test", 10, 1798761600, "{\"a\":1}", 7, sig), 0);
    assert_string_equal(sig, "t=1798761600,v1=f57252dabb23e83a09ba9844ae6c8de5b1f5ecd4b36f3c96c937d060a20ced1c");
    /* An empty body may come as NULL. */
    char again[WEBHOOK_SIG_BUFSZ];
    assert_i64_eq(webhook_sign("key", 3, 0, NULL, 0, again), 0);
    assert_string_equal(again, "t=0,v1=85841b4efc3cd7776c3c8f9b7cca9e281c550e5d19889d78e9e669c6337f000d");
}

static void test_sign_covers_a_body_of_any_size(void **state) {
    (void)state;
    static char big[100000];
    char a[WEBHOOK_SIG_BUFSZ], b[WEBHOOK_SIG_BUFSZ];
    memset(big, 'x', sizeof(big));
    assert_i64_eq(webhook_sign("k", 1, 7, big, sizeof(big), a), 0);
    big[sizeof(big) - 1] = 'y';
    assert_i64_eq(webhook_sign("k", 1, 7, big, sizeof(big), b), 0);
    assert_true(strcmp(a, b) != 0);
}

static void test_sign_refuses(void **state) {
    (void)state;
    char sig[WEBHOOK_SIG_BUFSZ];
    assert_i64_eq(webhook_sign(NULL, 0, 1, "{}", 2, sig), -1);
    assert_i64_eq(webhook_sign("k", 0, 1, "{}", 2, sig), -1);
    assert_i64_eq(webhook_sign("k", 1, -1, "{}", 2, sig), -1);
    assert_i64_eq(webhook_sign("k", 1, 1, NULL, 2, sig), -1);
}

static void test_url_ok(void **state) {
    (void)state;
    assert_i64_eq(webhook_url_ok("http://127.0.0.1:8080/hook"), 1);
    assert_i64_eq(webhook_url_ok("https://hooks.example.org/x?y=1"), 1);
    assert_i64_eq(webhook_url_ok("https://user:pw@hooks.example.org/"), 0);
    assert_i64_eq(webhook_url_ok("ftp://hooks.example.org/"), 0);
    assert_i64_eq(webhook_url_ok("https://"), 0);
    assert_i64_eq(webhook_url_ok("https://hooks.example.org/a b"), 0);
}

/* --- the POST, against a receiver this test plays ------------------------------------------ */

/* Writes down each header line ("H: ...") and the body ("B: ...\n"),
 * answers p->status (with a Location for 3xx), and keeps the connection. */
static void receiver_talk(struct peer *p, int fd) {
    char line[2048], body[4096], reply[256];
    for (;;) {
        size_t clen = 0, n;
        int any = 0;
        while ((n = peer_line(fd, line, sizeof(line))) > 0) {
            any = 1;
            if (strcmp(line, "\r\n") == 0)
                break;
            peer_logf(p, "H: %s", line);
            if (strncasecmp(line, "Content-Length:", 15) == 0)
                clen = strtoul(line + 15, NULL, 10);
        }
        if (!any || clen >= sizeof(body) || peer_read(fd, body, clen) != 0)
            return;
        body[clen] = '\0';
        peer_logf(p, "B: %s\n", body);
        snprintf(reply, sizeof(reply), "HTTP/1.1 %d Test\r\nContent-Length: 0\r\n%s\r\n", p->status,
                 p->status / 100 == 3 ? "Location: /elsewhere\r\n" : "");
        peer_say(fd, reply);
    }
}

struct receiver_fixture {
    struct peer peer;
    int running;
    char url[64];
    struct transfer t;
};

static int receiver_setup(void **state) {
    struct receiver_fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    const struct transfer_opts opts = {NULL, 5, 20};
    transfer_init(&f->t, &opts, NULL);
    f->peer.status = 200;
    *state = f;
    return 0;
}

/* Starts the receiver; set the peer's knobs before. */
static void receiver_open(struct receiver_fixture *f) {
    if (peer_start(&f->peer, receiver_talk) != 0)
        fail_msg("cannot listen on the loopback interface");
    f->running = 1;
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/hook", f->peer.port);
}

/* Closes the session and stops the receiver: its log is complete from here on. */
static void receiver_close(struct receiver_fixture *f) {
    transfer_done(&f->t);
    if (f->running)
        peer_stop(&f->peer);
    f->running = 0;
}

static int receiver_teardown(void **state) {
    struct receiver_fixture *f = *state;
    receiver_close(f);
    free(f);
    return 0;
}

static const char BODY[] = "{\"event\":\"test\",\"n\":1}";
static const char KEY[] = "whsec-unit-test";

static struct webhook_request request(const struct receiver_fixture *f, const char *const *headers, size_t n) {
    struct webhook_request rq = {
        .url = f->url,
        .body = BODY,
        .len = strlen(BODY),
        .signature_header = "X-Test-Signature",
        .key = KEY,
        .key_len = strlen(KEY),
        .signed_at = 1798761600,
        .headers = headers,
        .nheaders = n,
        .user_agent = "tester/1.0",
    };
    return rq;
}

static void test_post_sends_headers_in_order_and_the_exact_body(void **state) {
    struct receiver_fixture *f = *state;
    receiver_open(f);
    const char *const extra[] = {"X-Test-Delivery: d1"};
    struct webhook_request rq = request(f, extra, 1);
    char err[256] = "", sig[WEBHOOK_SIG_BUFSZ], want[1024];
    if (webhook_post(&f->t, &rq, err, sizeof(err)) != 0)
        fail_msg("webhook_post failed: %s", err);
    receiver_close(f);
    const char *log = f->peer.log;
    assert_i64_eq(strncmp(log, "H: POST /hook HTTP/1.1\r\n", 24), 0);
    /* The receiver recomputes the signature over the bytes it got. */
    assert_i64_eq(webhook_sign(KEY, strlen(KEY), 1798761600, BODY, strlen(BODY), sig), 0);
    snprintf(want, sizeof(want),
             "H: Content-Type: application/json\r\n"
             "H: X-Test-Signature: %s\r\n"
             "H: X-Test-Delivery: d1\r\n"
             "H: User-Agent: tester/1.0\r\n",
             sig);
    if (strstr(log, want) == NULL)
        fail_msg("expected the header lines\n%s\nin\n%s", want, log);
    snprintf(want, sizeof(want), "H: Content-Length: %zu\r\nB: %s\n", strlen(BODY), BODY);
    if (strstr(log, want) == NULL)
        fail_msg("expected the body\n%s\nin\n%s", want, log);
    assert_null(strstr(log, "Expect"));
    assert_null(strstr(log, KEY));
}

static void test_post_without_a_signature_header_sends_none(void **state) {
    struct receiver_fixture *f = *state;
    receiver_open(f);
    struct webhook_request rq = request(f, NULL, 0);
    rq.signature_header = NULL;
    char err[256] = "";
    assert_i64_eq(webhook_post(&f->t, &rq, err, sizeof(err)), 0);
    receiver_close(f);
    assert_null(strstr(f->peer.log, "Signature"));
}

static void test_post_keeps_the_connection_for_the_next_call(void **state) {
    struct receiver_fixture *f = *state;
    receiver_open(f);
    struct webhook_request rq = request(f, NULL, 0);
    char err[256] = "";
    assert_i64_eq(webhook_post(&f->t, &rq, err, sizeof(err)), 0);
    assert_i64_eq(webhook_post(&f->t, &rq, err, sizeof(err)), 0);
    assert_i64_eq(atomic_load(&f->peer.accepted), 1);
}

static void test_post_fails_on_an_answer_outside_2xx(void **state) {
    struct receiver_fixture *f = *state;
    f->peer.status = 500;
    receiver_open(f);
    struct webhook_request rq = request(f, NULL, 0);
    char err[256] = "";
    assert_i64_eq(webhook_post(&f->t, &rq, err, sizeof(err)), -1);
    assert_string_equal(err, "webhook: the receiver answered HTTP 500");
}

static void test_post_does_not_follow_a_redirect(void **state) {
    struct receiver_fixture *f = *state;
    f->peer.status = 302;
    receiver_open(f);
    struct webhook_request rq = request(f, NULL, 0);
    char err[256] = "";
    assert_i64_eq(webhook_post(&f->t, &rq, err, sizeof(err)), -1);
    assert_string_equal(err, "webhook: the receiver answered HTTP 302");
    receiver_close(f);
    assert_null(strstr(f->peer.log, "elsewhere"));
}

static void test_post_error_without_a_receiver_names_no_url(void **state) {
    struct receiver_fixture *f = *state;
    /* A port that was free a moment ago: nothing listens there. */
    receiver_open(f);
    receiver_close(f);
    struct webhook_request rq = request(f, NULL, 0);
    char err[256] = "";
    assert_i64_eq(webhook_post(&f->t, &rq, err, sizeof(err)), -1);
    if (strncmp(err, "webhook: ", 9) != 0 || strstr(err, "127.0.0.1") != NULL || strstr(err, "hook HTTP") != NULL)
        fail_msg("unexpected error \"%s\"", err);
}

static void test_post_refuses_a_header_with_a_line_break(void **state) {
    struct receiver_fixture *f = *state;
    receiver_open(f);
    const char *const extra[] = {"X-Test: a\r\nX-Injected: b"};
    struct webhook_request rq = request(f, extra, 1);
    char err[256] = "";
    assert_i64_eq(webhook_post(&f->t, &rq, err, sizeof(err)), -1);
    assert_string_equal(err, "webhook: a header holds a line break");
    assert_i64_eq(atomic_load(&f->peer.accepted), 0);
}

int main(void) {
    if (transfer_global_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_known_answers),
        cmocka_unit_test(test_sign_covers_a_body_of_any_size),
        cmocka_unit_test(test_sign_refuses),
        cmocka_unit_test(test_url_ok),
        cmocka_unit_test_setup_teardown(test_post_sends_headers_in_order_and_the_exact_body, receiver_setup,
                                        receiver_teardown),
        cmocka_unit_test_setup_teardown(test_post_without_a_signature_header_sends_none, receiver_setup,
                                        receiver_teardown),
        cmocka_unit_test_setup_teardown(test_post_keeps_the_connection_for_the_next_call, receiver_setup,
                                        receiver_teardown),
        cmocka_unit_test_setup_teardown(test_post_fails_on_an_answer_outside_2xx, receiver_setup, receiver_teardown),
        cmocka_unit_test_setup_teardown(test_post_does_not_follow_a_redirect, receiver_setup, receiver_teardown),
        cmocka_unit_test_setup_teardown(test_post_error_without_a_receiver_names_no_url, receiver_setup,
                                        receiver_teardown),
        cmocka_unit_test_setup_teardown(test_post_refuses_a_header_with_a_line_break, receiver_setup,
                                        receiver_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    transfer_global_done();
    return failed;
}
