/*
 * notices_send.c - the words and the addressing of an expiry notice: the
 * e-mail handed to lib/smtp.c and the JSON body handed to lib/webhook.c,
 * one attempt each.
 *
 * A notice states the time left when it is sent (never the offset it was
 * scheduled at), names the token as its owner knows it, says why the
 * reader gets it and what to do. Must never put a secret into a message:
 * mail and webhook bodies carry public token ids only, the SMTP password
 * and the webhook secret go to lib/ and nowhere else; and never let a
 * token's description (user text) change a mail header. Every byte of both
 * messages is part of the contract (docs/notices.md, "What a notice says";
 * tests/blackbox/test_notices.py and test_notice_content.py read them).
 */
#include "jobs/notices_send.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/duration.h"
#include "core/rfc3339.h"
#include "core/tokfmt.h"
#include "jobs/notices.h"
#include "lib/clock.h"
#include "lib/smtp.h"
#include "lib/str.h"
#include "lib/webhook.h"
#include "svc/notices.h"
#include "svc/svc.h"

#ifndef LATCHKEY_VERSION
#define LATCHKEY_VERSION "dev"
#endif

#define MESSAGE_MAX 16384
#define BODY_MAX 12288
/* The longest API or console path a notice names: three names of
 * STORE_NAME_MAX and a token id, with room to spare. */
#define NOTICE_PATH_MAX 512
/* The longest description in a Subject, before "...". */
#define SUBJECT_DESCRIPTION_MAX 60
/* A description in the body, escaped (4 bytes per control byte at most),
 * stays within a mail line (998 bytes). */
#define BODY_DESCRIPTION_MAX 900
/* The command that replaces a root token; no API call does. */
#define ROOT_TOKEN_COMMAND "latchkey operator root-token --data-dir DIR"

/* Everything a message says, worked out once per attempt at svc->now. */
struct notice_text {
    struct notice_context ctx;
    int64_t left_s;                     /* expires_at - now */
    char left[DURATION_WORDS_BUFSZ];    /* left_s in words, rounded down */
    char expires[RFC3339_BUFSZ];        /* the exact expiry, UTC */
    char create[NOTICE_PATH_MAX];       /* the API call that makes a replacement; "" for root */
    char admin_create[NOTICE_PATH_MAX]; /* user tokens: the org admin's route for it; else "" */
    char revoke[NOTICE_PATH_MAX];
    char rotate[NOTICE_PATH_MAX];
    char console[NOTICE_PATH_MAX]; /* the console's page of the token or its service account */
    const char *base;              /* --public-url, no trailing '/'; "" = paths only */
    int final_days;                /* the smallest offset: the last notice a token gets */
};

/* vsnprintf into out[0..NOTICE_PATH_MAX); 0, or -1 if it does not fit. */
__attribute__((format(printf, 2, 3))) static int path_fmt(char out[NOTICE_PATH_MAX], const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(out, NOTICE_PATH_MAX, fmt, ap);
    va_end(ap);
    return len < 0 || len >= NOTICE_PATH_MAX ? -1 : 0;
}

/* The API routes and console page of the notice's token (docs/notices.md). */
static int text_paths(const struct notice_rec *n, struct notice_text *w) {
    const struct notice_context *c = &w->ctx;
    int r = path_fmt(w->rotate, "/v1/tokens/%s/rotate", n->token_id);
    if (strcmp(n->owner_type, "service_account") == 0) {
        r |= path_fmt(w->create, "/v1/orgs/%s/teams/%s/service-accounts/%s/tokens", c->org_name, c->team_name,
                      c->sa_name);
        r |= path_fmt(w->revoke, "%s/%s", w->create, n->token_id);
        r |= path_fmt(w->console, "/ui/orgs/%s/teams/%s/service-accounts/%s", c->org_name, c->team_name, c->sa_name);
        return r;
    }
    r |= path_fmt(w->revoke, "/v1/tokens/%s", n->token_id);
    r |= path_fmt(w->console, "/ui/tokens/%s", n->token_id);
    if (strcmp(n->owner_type, "user") == 0) {
        r |= path_fmt(w->create, "/v1/tokens");
        r |= path_fmt(w->admin_create, "/v1/orgs/%s/users/%s/tokens", c->org_name, c->owner_name);
    }
    return r;
}

/* Fills *w for notice n at svc->now: 0, or -1 with err filled. */
static int text_init(const struct notices_cfg *nc, struct svc *svc, const struct notice_rec *n, struct notice_text *w,
                     char *err, size_t errcap) {
    memset(w, 0, sizeof(*w));
    if (notices_context(svc, n, &w->ctx) != 0) {
        snprintf(err, errcap, "could not read the token's owner, team or organisation");
        return -1;
    }
    w->base = nc->cfg->public_url;
    w->final_days = n->days_before;
    for (size_t i = 0; i < nc->ndays; i++)
        if (nc->days[i] < w->final_days)
            w->final_days = nc->days[i];
    w->left_s = n->expires_at - svc->now;
    rfc3339_format(n->expires_at, w->expires);
    if (duration_words(w->left_s, w->left, sizeof(w->left)) != 0 || text_paths(n, w) != 0) {
        snprintf(err, errcap, "a name in the notice is too long");
        return -1;
    }
    return 0;
}

/* --- the e-mail ------------------------------------------------------------------- */

/* Text appended piece by piece; full once a piece did not fit. */
struct text {
    char *p;
    size_t cap, len;
    int full;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...) {
    if (t->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= t->cap - t->len)
        t->full = 1;
    else
        t->len += (size_t)len;
}

/* A control character or a space: a run of them is one space in a Subject. */
static int subject_blank(unsigned char c) {
    return c <= ' ' || c == 0x7f;
}

/*
 * The description as a Subject may carry it, into out[0..SUBJECT_DESCRIPTION_MAX
 * + 4): "" unless it is ASCII (a header is no place for encoded words of
 * user text); each run of control characters and spaces one space,
 * trimmed, cut to SUBJECT_DESCRIPTION_MAX bytes and then "..." if more
 * followed.
 */
static void subject_description(const char *d, char out[SUBJECT_DESCRIPTION_MAX + 4]) {
    const unsigned char *p = (const unsigned char *)d;
    size_t len = 0;
    out[0] = '\0';
    for (const unsigned char *q = p; *q; q++)
        if (*q >= 0x80)
            return;
    for (; *p && len < SUBJECT_DESCRIPTION_MAX; p++) {
        int blank = subject_blank(*p);
        if (!blank || (len > 0 && out[len - 1] != ' '))
            out[len++] = blank ? ' ' : (char)*p;
    }
    while (*p && subject_blank(*p))
        p++;
    while (len > 0 && out[len - 1] == ' ')
        len--;
    memcpy(out + len, *p ? "..." : "", *p ? 4 : 1);
}

/* "latchkey: API token <id> expires in <time left>[ ("<description>")]": 0, or -1 if it does not fit. */
static int email_subject(const struct notice_rec *n, const struct notice_text *w, char *out, size_t cap) {
    char desc[SUBJECT_DESCRIPTION_MAX + 4];
    subject_description(w->ctx.description, desc);
    int len = snprintf(out, cap, "latchkey: API token %s expires in %s%s%s%s", n->token_id, w->left,
                       desc[0] ? " (\"" : "", desc, desc[0] ? "\")" : "");
    return len < 0 || (size_t)len >= cap ? -1 : 0;
}

/* The token's names, one per line; the description escaped (no line break
 * or control character of user text reaches the body) and bounded. */
static void body_names(struct text *t, const struct notice_rec *n, const struct notice_text *w) {
    const struct notice_context *c = &w->ctx;
    char desc[BODY_DESCRIPTION_MAX];
    size_t used = 0, dlen = strlen(c->description);
    str_escape(c->description, dlen, desc, sizeof(desc), &used);
    put(t, "Token:         %s (the public id; the secret is never sent)\r\n", n->token_id);
    put(t, "Description:   %s%s\r\n", dlen == 0 ? "(none)" : desc, used < dlen ? "..." : "");
    if (strcmp(c->recipients_rule, NOTICES_RULE_NONE) == 0)
        put(t, "Owner:         root (the partner admin)\r\n");
    else
        put(t, "Owner:         %s %s\r\n", notices_owner_label(n->owner_type), c->owner_name);
    if (c->team_name[0])
        put(t, "Team:          %s\r\n", c->team_name);
    if (c->org_name[0])
        put(t, "Organisation:  %s\r\n", c->org_name);
    put(t, "\r\n");
}

/* Why this reader gets the mail (svc/notice_recipients.h decides who does). */
static void body_reason(struct text *t, const struct notice_text *w) {
    const struct notice_context *c = &w->ctx;
    if (strcmp(c->recipients_rule, NOTICES_RULE_OWNER) == 0)
        put(t, "You receive this because you own this token.\r\n\r\n");
    else if (strcmp(c->recipients_rule, NOTICES_RULE_TEAM_OWNERS) == 0)
        put(t,
            "You receive this because you are an owner of team %s, which owns the\r\n"
            "service account %s.\r\n\r\n",
            c->team_name, c->sa_name);
}

static void body_create(struct text *t, const struct notice_rec *n, const struct notice_text *w) {
    /* When the client CLI gains `latchkey token create`, name it here beside the API call. */
    if (w->create[0] == '\0') {
        put(t, "1. Issue a new root token on the server's host:\r\n\r\n"
               "     " ROOT_TOKEN_COMMAND "\r\n\r\n"
               "   It revokes every earlier root token at once, this one included:\r\n"
               "   switch to the new one right away.\r\n");
        return;
    }
    const char *whom = strcmp(n->owner_type, "user") == 0 ? ", as " : " for the service account ";
    put(t,
        "1. Create a new token%s%s:\r\n\r\n"
        "     POST %s%s\r\n"
        "     {\"description\": \"<what it is for>\", \"expires\": \"P30D\"}\r\n\r\n",
        whom, w->ctx.owner_name, w->base, w->create);
    if (w->admin_create[0])
        put(t, "   or, as an org admin, for %s (the same body):\r\n\r\n     POST %s%s\r\n\r\n", w->ctx.owner_name,
            w->base, w->admin_create);
    put(t,
        "   \"expires\" is an ISO 8601 duration; your organisation may cap it. Call\r\n"
        "   it with a login session or a token that outlives this one: a token\r\n"
        "   made by an API token never outlives it. The answer holds the new\r\n"
        "   secret, shown once.\r\n"
        "2. Switch whatever uses this token to the new one.\r\n"
        "3. Revoke this token:\r\n\r\n"
        "     DELETE %s%s\r\n",
        w->base, w->revoke);
}

/* What to do, with absolute URLs under --public-url and paths without. */
static void body_actions(struct text *t, const struct notice_rec *n, const struct notice_text *w) {
    put(t, "To replace it before it expires:\r\n\r\n");
    body_create(t, n, w);
    put(t,
        "\r\n"
        "Rotating it does not extend its life: rotation\r\n"
        "(POST %s%s)\r\n"
        "gives a new secret with the same expiry.\r\n\r\n",
        w->base, w->rotate);
    put(t, "Console: %s%s\r\n", w->base, w->console);
    if (w->base[0] == '\0')
        put(t, "(Paths are relative to the address of your latchkey server.)\r\n");
    put(t, "\r\n");
}

/* The body of the e-mail (CRLF lines) into out; 0, or -1 if it does not fit. */
static int email_body(const struct notice_rec *n, const struct notice_text *w, char *out, size_t cap) {
    struct text t = {out, cap, 0, 0};
    out[0] = '\0';
    put(&t, "The latchkey API token %s expires in %s,\r\nat %s (UTC).\r\n\r\n", n->token_id, w->left, w->expires);
    body_names(&t, n, w);
    body_reason(&t, w);
    body_actions(&t, n, w);
    /* The offset this notice was scheduled at is no claim about the time
     * left (a late one says less), so the body states only what follows. */
    if (n->days_before <= w->final_days)
        put(&t, "This is the last notice about this token.\r\n");
    else
        put(&t, "A last notice follows %d %s before the expiry, unless the token is\r\ndeleted or rotated first.\r\n",
            w->final_days, w->final_days == 1 ? "day" : "days");
    put(&t, "Notice id: %s\r\n", n->id);
    return t.full ? -1 : 0;
}

int notices_send_email(const struct notices_cfg *nc, struct svc *svc, const struct notice_rec *n, struct transfer *t,
                       char *err, size_t errcap) {
    const struct config *cfg = nc->cfg;
    struct notice_text w;
    char msg[MESSAGE_MAX], body[BODY_MAX], to[STORE_EMAIL_MAX + 8], date[SMTP_DATE_BUFSZ], days[16];
    char from[SMTP_ADDRESS_MAX + 16], subject[TOKFMT_PUBID_BUFSZ + DURATION_WORDS_BUFSZ + SUBJECT_DESCRIPTION_MAX + 64];
    char msgid[STORE_NOTICE_ID_MAX + 32];
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
    if (text_init(nc, svc, n, &w, err, errcap) != 0)
        goto out;
    snprintf(from, sizeof(from), "latchkey <%s>", cfg->smtp_from);
    snprintf(msgid, sizeof(msgid), "<%s@latchkey.notice>", n->id);
    snprintf(days, sizeof(days), "%d", n->days_before);
    smtp_date(clock_now(), date);
    const struct smtp_header headers[] = {
        {"From", from},
        {"To", to},
        {"Subject", subject},
        {"Date", date},
        {"Message-ID", msgid},
        {"X-Latchkey-Notice", n->id},
        {"X-Latchkey-Notice-Days", days},
        {"Auto-Submitted", "auto-generated"},
        {"MIME-Version", "1.0"},
        {"Content-Type", "text/plain; charset=utf-8"},
        {"Content-Transfer-Encoding", "8bit"},
    };
    int f = email_subject(n, &w, subject, sizeof(subject)) == 0 && email_body(n, &w, body, sizeof(body)) == 0
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

/* --- the webhook ------------------------------------------------------------------ */

/* {"command", "method", "path"} of the call that makes a replacement. */
static json_t *webhook_create_action(const struct notice_text *w) {
    if (w->create[0] == '\0')
        return json_pack("{s:s, s:n, s:n}", "command", ROOT_TOKEN_COMMAND, "method", "path");
    return json_pack("{s:n, s:s, s:s}", "command", "method", "POST", "path", w->create);
}

static json_t *webhook_actions(const struct notice_text *w) {
    return json_pack("{s:o, s:{s:s, s:s}, s:b}", "create", webhook_create_action(w), "revoke", "method", "DELETE",
                     "path", w->revoke, "rotate_keeps_expiry", 1);
}

/* The absolute console link, or JSON null without --public-url. */
static json_t *webhook_console_url(const struct notice_text *w) {
    char url[CONFIG_PUBLIC_URL_MAX + NOTICE_PATH_MAX];
    if (w->base[0] == '\0')
        return json_null();
    int len = snprintf(url, sizeof(url), "%s%s", w->base, w->console);
    return len < 0 || (size_t)len >= sizeof(url) ? NULL : json_string(url);
}

/* What identifies the token: the keys every version of the body has. */
static json_t *webhook_base(const struct notice_rec *n, const struct notice_text *w) {
    const struct notice_context *c = &w->ctx;
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s?, s:s, s:i}", "type", "token.expiring", "notice_id", n->id,
                     "token_id", n->token_id, "owner", "type", n->owner_type, "id", n->owner_id, "name", c->owner_name,
                     "org", c->org_name[0] ? c->org_name : NULL, "expires_at", w->expires, "days_before",
                     n->days_before);
}

/* The webhook's JSON body (caller frees), sorted keys so it is stable. */
static char *webhook_body(const struct notice_rec *n, const struct notice_text *w) {
    const struct notice_context *c = &w->ctx;
    char desc[BODY_DESCRIPTION_MAX];
    const char *d = c->description;
    if (!str_utf8_valid(d, strlen(d))) {
        str_escape(d, strlen(d), desc, sizeof(desc), NULL);
        d = desc;
    }
    json_t *o = webhook_base(n, w);
    json_t *more =
        json_pack("{s:{s:s, s:s}, s:s?, s:s?, s:I, s:s, s:s, s:o, s:o}", "token", "id", n->token_id, "description", d,
                  "team", c->team_name[0] ? c->team_name : NULL, "service_account", c->sa_name[0] ? c->sa_name : NULL,
                  "expires_in_seconds", (json_int_t)w->left_s, "expires_in", w->left, "recipients_rule",
                  c->recipients_rule, "actions", webhook_actions(w), "console_url", webhook_console_url(w));
    char *text = NULL;
    if (o != NULL && more != NULL && json_object_update(o, more) == 0)
        text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    json_decref(more);
    return text;
}

int notices_send_webhook(const struct notices_cfg *nc, struct svc *svc, const struct notice_rec *n, struct transfer *t,
                         char *err, size_t errcap) {
    char hdr_id[STORE_NOTICE_ID_MAX + 32];
    struct notice_text w;
    if (text_init(nc, svc, n, &w, err, errcap) != 0)
        return -1;
    char *body = webhook_body(n, &w);
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
