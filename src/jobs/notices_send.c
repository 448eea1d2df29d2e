/*
 * notices_send.c - the words and the addressing of an expiry notice: the
 * e-mail handed to lib/smtp.c and the JSON body handed to lib/webhook.c,
 * one attempt each.
 *
 * Must never put a secret into a message: mail and webhook bodies carry
 * public token ids only, the SMTP password and the webhook secret go to
 * lib/ and nowhere else. Every byte of both messages is part of the
 * contract (docs/notices.md; tests/blackbox/test_notices.py reads them).
 */
#include "jobs/notices_send.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/rfc3339.h"
#include "core/tokfmt.h"
#include "jobs/notices.h"
#include "lib/clock.h"
#include "lib/smtp.h"
#include "lib/webhook.h"
#include "svc/notices.h"

#ifndef LATCHKEY_VERSION
#define LATCHKEY_VERSION "dev"
#endif

#define MESSAGE_MAX 8192

/* The body of the e-mail (CRLF lines) into out; 0, or -1 if it does not fit. */
static int email_body(struct svc *svc, const struct notice_rec *n, char *out, size_t cap) {
    char owner[STORE_NAME_MAX], exp[RFC3339_BUFSZ];
    const char *days_word = n->days_before == 1 ? "day" : "days";
    notices_owner_name(svc, n, owner, sizeof(owner));
    rfc3339_format(n->expires_at, exp);
    int len = snprintf(out, cap,
                       "The latchkey API token %s expires in %d %s, at %s.\r\n"
                       "\r\n"
                       "Owner: %s %s%s%s\r\n"
                       "Token id: %s (the public id; the secret is never sent)\r\n"
                       "\r\n"
                       "Create a new token before then and switch to it: this one stops\r\n"
                       "working at its expiry. This is the %d-day notice; it is sent once.\r\n"
                       "\r\n"
                       "Notice id: %s\r\n",
                       n->token_id, n->days_before, days_word, exp, notices_owner_label(n->owner_type), owner,
                       n->org_name[0] ? " in organisation " : "", n->org_name, n->token_id, n->days_before, n->id);
    return len < 0 || (size_t)len >= cap ? -1 : 0;
}

int notices_send_email(const struct notices_cfg *nc, struct svc *svc, const struct notice_rec *n, struct transfer *t,
                       char *err, size_t errcap) {
    const struct config *cfg = nc->cfg;
    char msg[MESSAGE_MAX], body[MESSAGE_MAX], to[STORE_EMAIL_MAX + 8], date[SMTP_DATE_BUFSZ];
    char from[SMTP_ADDRESS_MAX + 16], subject[TOKFMT_PUBID_BUFSZ + 64], msgid[STORE_NOTICE_ID_MAX + 32];
    size_t len = 0;
    int r = -1;

    if (n->recipient[0] == '\0' || !smtp_address_ok(n->recipient)) {
        snprintf(err, errcap, n->recipient[0] == '\0' ? "no recipient" : "no usable recipient address");
        goto out;
    }
    const char *rcpt[] = {n->recipient};
    if (smtp_join_addresses(rcpt, 1, to, sizeof(to)) != 0) {
        snprintf(err, errcap, "recipient address too long");
        goto out;
    }
    const char *days_word = n->days_before == 1 ? "day" : "days";
    snprintf(from, sizeof(from), "latchkey <%s>", cfg->smtp_from);
    snprintf(subject, sizeof(subject), "latchkey: API token %s expires in %d %s", n->token_id, n->days_before,
             days_word);
    snprintf(msgid, sizeof(msgid), "<%s@latchkey.notice>", n->id);
    smtp_date(clock_now(), date);
    const struct smtp_header headers[] = {
        {"From", from},
        {"To", to},
        {"Subject", subject},
        {"Date", date},
        {"Message-ID", msgid},
        {"X-Latchkey-Notice", n->id},
        {"Auto-Submitted", "auto-generated"},
        {"MIME-Version", "1.0"},
        {"Content-Type", "text/plain; charset=utf-8"},
    };
    int f = email_body(svc, n, body, sizeof(body)) == 0
                ? smtp_format(msg, sizeof(msg), headers, sizeof(headers) / sizeof(headers[0]), body, &len)
                : -1;
    if (f != 0) {
        snprintf(err, errcap, f == -1 ? "message too long" : "a header value holds a line break");
        goto out;
    }
    const struct smtp_relay relay = {cfg->smtp_url, cfg->smtp_username, nc->smtp_password};
    r = smtp_send(t, &relay, cfg->smtp_from, rcpt, 1, msg, len, err, errcap);
out:
    explicit_bzero(msg, sizeof(msg));
    explicit_bzero(body, sizeof(body));
    return r;
}

/* The webhook's JSON body (caller frees), sorted keys so it is stable. */
static char *webhook_body(struct svc *svc, const struct notice_rec *n) {
    char owner[STORE_NAME_MAX], exp[RFC3339_BUFSZ];
    notices_owner_name(svc, n, owner, sizeof(owner));
    rfc3339_format(n->expires_at, exp);
    json_t *o = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:s, s:i}", "type", "token.expiring", "notice_id",
                          n->id, "token_id", n->token_id, "owner", "type", n->owner_type, "id", n->owner_id, "name",
                          owner, "org", n->org_name[0] ? json_string(n->org_name) : json_null(), "expires_at", exp,
                          "days_before", n->days_before);
    if (o == NULL)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

int notices_send_webhook(const struct notices_cfg *nc, struct svc *svc, const struct notice_rec *n, struct transfer *t,
                         char *err, size_t errcap) {
    char hdr_id[STORE_NOTICE_ID_MAX + 32];
    char *body = webhook_body(svc, n);
    if (body == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    snprintf(hdr_id, sizeof(hdr_id), "X-Latchkey-Delivery: %s", n->id);
    const char *const extra[] = {hdr_id};
    const struct webhook_request rq = {
        .url = nc->cfg->notice_webhook_url,
        .body = body,
        .len = strlen(body),
        .signature_header = "X-Latchkey-Signature",
        .key = nc->webhook_secret,
        .key_len = nc->webhook_secret_len,
        .signed_at = clock_now(), /* the real time, even under the test clock */
        .headers = extra,
        .nheaders = 1,
        .user_agent = "latchkey/" LATCHKEY_VERSION,
    };
    int r = webhook_post(t, &rq, err, errcap);
    free(body);
    return r;
}
