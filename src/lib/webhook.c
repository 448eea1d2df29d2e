/*
 * webhook.c - one signed JSON POST with libcurl, and its HMAC-SHA256
 * signature (OpenSSL).
 *
 * Must never send the key, follow a redirect, or put the URL or the
 * receiver's answer into an error message; the signed bytes are exactly
 * the bytes sent.
 */
#include "lib/webhook.h"
#include "lib/transfer.h"

#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define HMAC_LEN 32

int webhook_url_ok(const char *url) {
    return transfer_url_ok(url, "http://", "https://");
}

/* HMAC-SHA256(key, "<num>.<body>") into mac, streamed: no copy of the body. */
static int hmac_signed_bytes(const void *key, size_t key_len, const char *num, size_t nl, const char *body, size_t len,
                             unsigned char mac[HMAC_LEN]) {
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m != NULL ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t out = 0;
    int r = -2;
    if (ctx == NULL || !EVP_MAC_init(ctx, key, key_len, params) ||
        !EVP_MAC_update(ctx, (const unsigned char *)num, nl) || !EVP_MAC_update(ctx, (const unsigned char *)".", 1))
        goto out;
    if (len > 0 && !EVP_MAC_update(ctx, (const unsigned char *)body, len))
        goto out;
    if (!EVP_MAC_final(ctx, mac, &out, HMAC_LEN) || out != HMAC_LEN)
        goto out;
    r = 0;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    return r;
}

int webhook_sign(const void *key, size_t key_len, int64_t t, const char *body, size_t len,
                 char out[WEBHOOK_SIG_BUFSZ]) {
    static const char hexdigits[] = "0123456789abcdef";
    char num[24];
    unsigned char mac[HMAC_LEN];
    if (key == NULL || key_len == 0 || (body == NULL && len > 0) || t < 0)
        return -1;
    int nl = snprintf(num, sizeof(num), "%" PRId64, t);
    if (nl < 0 || (size_t)nl >= sizeof(num))
        return -1;
    int r = hmac_signed_bytes(key, key_len, num, (size_t)nl, body, len, mac);
    if (r != 0)
        goto out;
    size_t off = 0;
    memcpy(out + off, "t=", 2);
    off += 2;
    memcpy(out + off, num, (size_t)nl);
    off += (size_t)nl;
    memcpy(out + off, ",v1=", 4);
    off += 4;
    for (size_t i = 0; i < HMAC_LEN; i++) {
        out[off++] = hexdigits[mac[i] >> 4];
        out[off++] = hexdigits[mac[i] & 15];
    }
    out[off] = '\0';
out:
    explicit_bzero(mac, sizeof(mac));
    return r;
}

static size_t discard_cb(char *buf, size_t size, size_t nitems, void *arg) {
    return size * nitems;
}

/* Appends line to *list; 0, or -1 with err filled. */
static int add_header(struct curl_slist **list, const char *line, char *err, size_t errcap) {
    if (strpbrk(line, "\r\n") != NULL) {
        snprintf(err, errcap, "webhook: a header holds a line break");
        return -1;
    }
    struct curl_slist *nh = curl_slist_append(*list, line);
    if (nh == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    *list = nh;
    return 0;
}

int webhook_post(struct transfer *t, const struct webhook_request *rq, char *err, size_t errcap) {
    char sig[WEBHOOK_SIG_BUFSZ], line[WEBHOOK_HEADER_MAX];
    struct curl_slist *hdrs = NULL;
    int r = -1;
    if (rq->signature_header != NULL &&
        webhook_sign(rq->key, rq->key_len, rq->signed_at, rq->body, rq->len, sig) != 0) {
        snprintf(err, errcap, "cannot sign the webhook body");
        return -1;
    }
    if (add_header(&hdrs, "Content-Type: application/json", err, errcap) != 0)
        goto out;
    if (rq->signature_header != NULL) {
        int k = snprintf(line, sizeof(line), "%s: %s", rq->signature_header, sig);
        if (k < 0 || (size_t)k >= sizeof(line)) {
            snprintf(err, errcap, "webhook: a header is too long");
            goto out;
        }
        if (add_header(&hdrs, line, err, errcap) != 0)
            goto out;
    }
    for (size_t i = 0; i < rq->nheaders; i++)
        if (add_header(&hdrs, rq->headers[i], err, errcap) != 0)
            goto out;
    if (rq->user_agent != NULL) {
        int k = snprintf(line, sizeof(line), "User-Agent: %s", rq->user_agent);
        if (k < 0 || (size_t)k >= sizeof(line)) {
            snprintf(err, errcap, "webhook: a header is too long");
            goto out;
        }
        if (add_header(&hdrs, line, err, errcap) != 0)
            goto out;
    }
    /* No "Expect: 100-continue" round trip before the body. */
    if (add_header(&hdrs, "Expect:", err, errcap) != 0)
        goto out;
    CURL *c = transfer_begin(t);
    if (c == NULL) {
        snprintf(err, errcap, "cannot start an HTTP transfer");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)rq->len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK)
        transfer_error(err, errcap, "webhook", c, rc);
    else if (code < 200 || code > 299)
        snprintf(err, errcap, "webhook: the receiver answered HTTP %ld", code);
    else
        r = 0;
    if (r != 0)
        transfer_failed(t, rc);
out:
    curl_slist_free_all(hdrs);
    return r;
}
