/*
 * test_smtp.c - unit tests for lib/smtp.h: which addresses may go into a
 * header, the Date value, the message's header block, and the SMTP
 * dialogue itself against a relay on 127.0.0.1 that this test plays
 * (loopback.h): envelope, data, a refused recipient, the kept connection,
 * no password without TLS, and a stop from another thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/smtp.h"
#include "lib/transfer.h"

#include "loopback.h"
#include "unit_assert.h"

/* --- addresses, dates, joining --------------------------------------------------------- */

static void test_address_ok_accepts_plain_addresses(void **state) {
    (void)state;
    assert_i64_eq(smtp_address_ok("bob@example.com"), 1);
    assert_i64_eq(smtp_address_ok("a.b+tag@sub.example.org"), 1);
    assert_i64_eq(smtp_address_ok("x@y"), 1);
}

static void test_address_ok_refuses_what_could_break_a_header(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",        "bob",         "@example.com", "bob@",      "bob @example.com", "bob@example.com\r\nBcc: x@y",
        "<bob@x>", "bob@x,eve@y", "bob@x;eve@y",  "\"bob\"@x", "bob@[1.2.3.4]",    "bob(c)@x",
        "bob\\@x", "bob@x\x7f",   "bob\t@x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (smtp_address_ok(bad[i]))
            fail_msg("smtp_address_ok accepted \"%s\"", bad[i]);
    char longest[SMTP_ADDRESS_MAX + 1];
    memset(longest, 'a', sizeof(longest));
    longest[1] = '@';
    longest[SMTP_ADDRESS_MAX - 1] = '\0'; /* SMTP_ADDRESS_MAX - 1 characters: fits */
    assert_i64_eq(smtp_address_ok(longest), 1);
    longest[SMTP_ADDRESS_MAX - 1] = 'a';
    longest[SMTP_ADDRESS_MAX] = '\0'; /* one more: too long */
    assert_i64_eq(smtp_address_ok(longest), 0);
}

static void test_url_ok(void **state) {
    (void)state;
    assert_i64_eq(smtp_url_ok("smtp://127.0.0.1:25"), 1);
    assert_i64_eq(smtp_url_ok("smtps://mail.example.org"), 1);
    assert_i64_eq(smtp_url_ok("smtp://user:pw@mail.example.org"), 0);
    assert_i64_eq(smtp_url_ok("http://mail.example.org"), 0);
    assert_i64_eq(smtp_url_ok("smtp://"), 0);
    assert_i64_eq(smtp_url_ok("smtp:///x"), 0);
    assert_i64_eq(smtp_url_ok("smtp://mail example.org"), 0);
}

static void test_date_is_rfc5322_in_utc(void **state) {
    (void)state;
    char d[SMTP_DATE_BUFSZ];
    smtp_date(1799402400, d);
    assert_string_equal(d, "Fri, 08 Jan 2027 10:00:00 +0000");
    smtp_date(0, d);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
}

static void test_join_addresses(void **state) {
    (void)state;
    const char *const two[] = {"a@x", "b@y"};
    char out[16];
    assert_i64_eq(smtp_join_addresses(two, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "a@x");
    assert_i64_eq(smtp_join_addresses(two, 2, out, sizeof(out)), 0);
    assert_string_equal(out, "a@x, b@y");
    assert_i64_eq(smtp_join_addresses(two, 2, out, 8), -1); /* "a@x, b@y" needs 9 */
    assert_i64_eq(smtp_join_addresses(two, 0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

/* --- the message --------------------------------------------------------------------- */

static void test_format_writes_headers_in_order_then_the_body(void **state) {
    (void)state;
    const struct smtp_header h[] = {{"From", "app <a@x>"}, {"To", "b@y"}, {"Subject", "hello"}};
    char out[256];
    size_t len = 0;
    assert_i64_eq(smtp_format(out, sizeof(out), h, 3, "line 1\r\nline 2\r\n", &len), 0);
    static const char want[] = "From: app <a@x>\r\nTo: b@y\r\nSubject: hello\r\n\r\nline 1\r\nline 2\r\n";
    assert_string_equal(out, want);
    assert_i64_eq(len, strlen(want));
}

static void test_format_says_when_it_does_not_fit(void **state) {
    (void)state;
    const struct smtp_header h[] = {{"Subject", "hello"}};
    char out[64];
    size_t len = 0;
    /* "Subject: hello\r\n\r\n" is 18 bytes; 18 + body + NUL must fit. */
    assert_i64_eq(smtp_format(out, 18 + 4 + 1, h, 1, "abcd", &len), 0);
    assert_i64_eq(len, 22);
    assert_i64_eq(smtp_format(out, 18 + 4, h, 1, "abcd", &len), -1);
    assert_i64_eq(smtp_format(out, 10, h, 1, "", &len), -1);
}

static void test_format_refuses_a_header_that_would_add_another(void **state) {
    (void)state;
    char out[256];
    size_t len = 0;
    const struct smtp_header injected[] = {{"Subject", "hi\r\nBcc: eve@x"}};
    assert_i64_eq(smtp_format(out, sizeof(out), injected, 1, "", &len), -2);
    const struct smtp_header lf[] = {{"Subject", "hi\nthere"}};
    assert_i64_eq(smtp_format(out, sizeof(out), lf, 1, "", &len), -2);
    const struct smtp_header names[][1] = {{{"", "x"}}, {{"Bad Name", "x"}}, {{"Bad:", "x"}}, {{"Bad\r", "x"}}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (smtp_format(out, sizeof(out), names[i], 1, "", &len) != -2)
            fail_msg("smtp_format took the header name \"%s\"", names[i][0].name);
}

/* --- the dialogue, against a relay this test plays -------------------------------------- */

/* A relay with neither STARTTLS nor AUTH: it writes down each command
 * ("C: ...") and the message it was given ("D: ..." per line, dots
 * unstuffed), refuses RCPT TO lines holding p->reject, and with p->hold
 * never answers DATA until the client goes away. */
static void relay_talk(struct peer *p, int fd) {
    char line[1024];
    peer_say(fd, "220 relay.test ESMTP\r\n");
    while (peer_line(fd, line, sizeof(line)) > 0) {
        peer_logf(p, "C: %s", line);
        if (strncmp(line, "EHLO", 4) == 0) {
            peer_say(fd, "250-relay.test\r\n250 SIZE 100000\r\n");
        } else if (strncmp(line, "MAIL FROM:", 10) == 0) {
            peer_say(fd, "250 ok\r\n");
        } else if (strncmp(line, "RCPT TO:", 8) == 0) {
            peer_say(fd, p->reject != NULL && strstr(line, p->reject) != NULL
                             ? (p->reject_reply != NULL ? p->reject_reply : "550 no such user\r\n")
                             : "250 ok\r\n");
        } else if (strncmp(line, "DATA", 4) == 0) {
            peer_say(fd, "354 go on\r\n");
            while (peer_line(fd, line, sizeof(line)) > 0 && strcmp(line, ".\r\n") != 0)
                peer_logf(p, "D: %s", line[0] == '.' ? line + 1 : line);
            if (p->hold) {
                atomic_store(&p->holding, 1);
                while (peer_line(fd, line, sizeof(line)) > 0)
                    ;
                peer_logf(p, "client left while DATA was held\n");
                return;
            }
            peer_say(fd, "250 queued\r\n");
        } else if (strncmp(line, "QUIT", 4) == 0) {
            peer_say(fd, "221 bye\r\n");
            return;
        } else {
            peer_say(fd, "502 not here\r\n");
        }
    }
}

struct relay_fixture {
    struct peer peer;
    int running;
    char url[64];
    struct transfer_stop stop;
    struct transfer t;
};

static int relay_setup(void **state) {
    struct relay_fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    transfer_stop_init(&f->stop);
    const struct transfer_opts opts = {NULL, 5, 20};
    transfer_init(&f->t, &opts, &f->stop);
    *state = f;
    return 0;
}

/* Starts the relay; set the peer's knobs before. */
static void relay_open(struct relay_fixture *f) {
    if (peer_start(&f->peer, relay_talk) != 0)
        fail_msg("cannot listen on the loopback interface");
    f->running = 1;
    snprintf(f->url, sizeof(f->url), "smtp://127.0.0.1:%d", f->peer.port);
}

/* Ends the session (QUIT on a kept connection) and stops the relay; its
 * log is complete and safe to read from here on. */
static void relay_close(struct relay_fixture *f) {
    transfer_done(&f->t);
    if (f->running)
        peer_stop(&f->peer);
    f->running = 0;
}

static int relay_teardown(void **state) {
    struct relay_fixture *f = *state;
    relay_close(f);
    transfer_stop_done(&f->stop);
    free(f);
    return 0;
}

static const char MESSAGE[] = "From: app <app@example.org>\r\n"
                              "To: bob@example.com\r\n"
                              "Subject: hi\r\n"
                              "\r\n"
                              "first line\r\n"
                              ".a line that starts with a dot\r\n";

static int send_message(struct relay_fixture *f, const struct smtp_relay *relay, const char *const *rcpt, size_t n,
                        char *err, size_t errcap) {
    err[0] = '\0';
    return smtp_send(&f->t, relay, "app@example.org", rcpt, n, MESSAGE, strlen(MESSAGE), err, errcap);
}

static void test_send_speaks_the_envelope_and_the_message(void **state) {
    struct relay_fixture *f = *state;
    relay_open(f);
    const struct smtp_relay relay = {f->url, NULL, NULL};
    const char *const rcpt[] = {"bob@example.com", "carol@example.com"};
    char err[256];
    if (send_message(f, &relay, rcpt, 2, err, sizeof(err)) != 0)
        fail_msg("smtp_send failed: %s", err);
    relay_close(f);
    const char *log = f->peer.log;
    const char *mail = strstr(log, "C: MAIL FROM:<app@example.org>");
    const char *rcpt1 = strstr(log, "C: RCPT TO:<bob@example.com>\r\n");
    const char *rcpt2 = strstr(log, "C: RCPT TO:<carol@example.com>\r\n");
    const char *data = strstr(log, "C: DATA\r\n");
    if (mail == NULL || rcpt1 == NULL || rcpt2 == NULL || data == NULL ||
        !(mail < rcpt1 && rcpt1 < rcpt2 && rcpt2 < data))
        fail_msg("unexpected dialogue:\n%s", log);
    /* The message arrived as given, byte for byte (the dot line stuffed on
     * the wire and unstuffed by the relay). */
    assert_non_null(strstr(log, "D: From: app <app@example.org>\r\n"
                                "D: To: bob@example.com\r\n"
                                "D: Subject: hi\r\n"
                                "D: \r\n"
                                "D: first line\r\n"
                                "D: .a line that starts with a dot\r\n"));
    assert_null(strstr(log, "AUTH"));
}

static void test_send_keeps_the_connection_for_the_next_message(void **state) {
    struct relay_fixture *f = *state;
    relay_open(f);
    const struct smtp_relay relay = {f->url, "", NULL};
    const char *const rcpt[] = {"bob@example.com"};
    char err[256];
    assert_i64_eq(send_message(f, &relay, rcpt, 1, err, sizeof(err)), 0);
    assert_i64_eq(send_message(f, &relay, rcpt, 1, err, sizeof(err)), 0);
    assert_i64_eq(atomic_load(&f->peer.accepted), 1);
}

static void test_a_refused_recipient_fails_and_the_next_message_reconnects(void **state) {
    struct relay_fixture *f = *state;
    f->peer.reject = "eve@";
    relay_open(f);
    const struct smtp_relay relay = {f->url, NULL, NULL};
    const char *const bob[] = {"bob@example.com"};
    const char *const eve[] = {"eve@example.com"};
    char err[256];
    /* A 5xx refusal is for good: SMTP_PERMANENT, so the caller does not retry. */
    assert_i64_eq(send_message(f, &relay, eve, 1, err, sizeof(err)), SMTP_PERMANENT);
    /* libcurl's generic words, then the relay's code; never its reply text. */
    if (strncmp(err, "SMTP: ", 6) != 0 || strstr(err, "(server answered 550)") == NULL ||
        strstr(err, "no such user") != NULL || strstr(err, "127.0.0.1") != NULL)
        fail_msg("unexpected error \"%s\"", err);
    assert_i64_eq(send_message(f, &relay, bob, 1, err, sizeof(err)), 0);
    assert_i64_eq(atomic_load(&f->peer.accepted), 2);
}

/* A 4xx refusal may pass later: -1, to be retried. */
static void test_a_recipient_refused_for_now_is_a_temporary_failure(void **state) {
    struct relay_fixture *f = *state;
    f->peer.reject = "eve@";
    f->peer.reject_reply = "450 mailbox busy\r\n";
    relay_open(f);
    const struct smtp_relay relay = {f->url, NULL, NULL};
    const char *const eve[] = {"eve@example.com"};
    char err[256];
    assert_i64_eq(send_message(f, &relay, eve, 1, err, sizeof(err)), -1);
    if (strstr(err, "(server answered 450)") == NULL)
        fail_msg("unexpected error \"%s\"", err);
}

static void test_no_password_goes_out_without_tls(void **state) {
    struct relay_fixture *f = *state;
    /* A username makes STARTTLS mandatory; this relay offers none. */
    const struct smtp_relay relay = {f->url, "app", "hunter2-secret"};
    const char *const rcpt[] = {"bob@example.com"};
    char err[256];
    assert_i64_eq(send_message(f, &relay, rcpt, 1, err, sizeof(err)), -1);
    assert_i64_eq(strncmp(err, "SMTP: ", 6), 0);
    relay_close(f);
    assert_null(strstr(f->peer.log, "AUTH"));
    assert_null(strstr(f->peer.log, "hunter2"));
    assert_null(strstr(f->peer.log, "MAIL FROM"));
}

struct stopper {
    struct relay_fixture *f;
    pthread_t tid;
};

static void *stop_when_held(void *arg) {
    struct stopper *s = arg;
    while (!atomic_load(&s->f->peer.holding)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    transfer_stop_request(&s->f->stop);
    return NULL;
}

static void test_a_stop_aborts_a_transfer_waiting_for_the_data_reply(void **state) {
    struct relay_fixture *f = *state;
    f->peer.hold = 1;
    relay_open(f);
    const struct smtp_relay relay = {f->url, NULL, NULL};
    const char *const rcpt[] = {"bob@example.com"};
    char err[256];
    struct stopper s = {f, 0};
    assert_i64_eq(pthread_create(&s.tid, NULL, stop_when_held, &s), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = send_message(f, &relay, rcpt, 1, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(s.tid, NULL);
    assert_i64_eq(r, -1);
    assert_i64_eq(transfer_stop_requested(&f->stop), 1);
    /* Well before the 20 s the relay's answer would be waited for. */
    if (t1.tv_sec - t0.tv_sec > 5)
        fail_msg("the stop took %lld s", (long long)(t1.tv_sec - t0.tv_sec));
    /* Once stopped, no new transfer opens a socket. */
    int before = atomic_load(&f->peer.accepted);
    assert_i64_eq(send_message(f, &relay, rcpt, 1, err, sizeof(err)), -1);
    assert_i64_eq(atomic_load(&f->peer.accepted), before);
}

int main(void) {
    if (transfer_global_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_ok_accepts_plain_addresses),
        cmocka_unit_test(test_address_ok_refuses_what_could_break_a_header),
        cmocka_unit_test(test_url_ok),
        cmocka_unit_test(test_date_is_rfc5322_in_utc),
        cmocka_unit_test(test_join_addresses),
        cmocka_unit_test(test_format_writes_headers_in_order_then_the_body),
        cmocka_unit_test(test_format_says_when_it_does_not_fit),
        cmocka_unit_test(test_format_refuses_a_header_that_would_add_another),
        cmocka_unit_test_setup_teardown(test_send_speaks_the_envelope_and_the_message, relay_setup, relay_teardown),
        cmocka_unit_test_setup_teardown(test_send_keeps_the_connection_for_the_next_message, relay_setup,
                                        relay_teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_recipient_fails_and_the_next_message_reconnects, relay_setup,
                                        relay_teardown),
        cmocka_unit_test_setup_teardown(test_a_recipient_refused_for_now_is_a_temporary_failure, relay_setup,
                                        relay_teardown),
        cmocka_unit_test_setup_teardown(test_no_password_goes_out_without_tls, relay_setup, relay_teardown),
        cmocka_unit_test_setup_teardown(test_a_stop_aborts_a_transfer_waiting_for_the_data_reply, relay_setup,
                                        relay_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    transfer_global_done();
    return failed;
}
