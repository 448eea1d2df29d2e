/*
 * config.c - one table of settings, each with a flag, an environment
 * variable and a config-file key; one parser per value type.
 *
 * Never reads configuration after start-up; never logs values (a future
 * setting may hold a secret).
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/duration.h"
#include "core/errors.h"
#include "core/notice.h"

/* OPT_CIDRS and OPT_ORIGINS are lists: a value may hold several, comma-
 * separated; a repeated flag (or a config-file array) adds to the list;
 * and, as for every setting, a source of higher precedence replaces what a
 * lower one gave. */
enum opt_type { OPT_STR, OPT_LISTEN, OPT_UINT, OPT_BOOL, OPT_RATE, OPT_SIZE, OPT_CIDRS, OPT_ORIGINS };

struct opt {
    const char *name; /* flag without "--", and config-file key */
    const char *env;
    enum opt_type type;
    size_t offset;
    size_t size;       /* buffer size for OPT_STR */
    uint64_t min, max; /* for OPT_UINT / OPT_SIZE */
    const char *help;
};

#define OFF(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)

static const struct opt opts[] = {
    {"listen", "LATCHKEY_LISTEN", OPT_LISTEN, OFF(listen_host), 0, 0,
     "HOST:PORT to listen on (default 127.0.0.1:8420; port 0 picks one)"},
    {"data-dir", "LATCHKEY_DATA_DIR", OPT_STR, OFF(data_dir), 0, 0,
     "directory holding the store (dev default ./.latchkey)"},
    {"store", "LATCHKEY_STORE", OPT_STR, OFF(store), 0, 0,
     "the store as SCHEME:LOCATION, e.g. sqlite:/var/lib/latchkey/latchkey.db (default: sqlite:DATA_DIR/latchkey.db)"},
    {"threads", "LATCHKEY_THREADS", OPT_UINT, OFF(threads), 1, 256,
     "worker threads, one event loop each (default: cores)"},
    {"cpu-affinity", "LATCHKEY_CPU_AFFINITY", OPT_BOOL, OFF(cpu_affinity), 0, 0,
     "pin worker i to the i-th CPU the process may run on (default off)"},
    {"audit-cpu", "LATCHKEY_AUDIT_CPU", OPT_UINT, OFF(audit_cpu), 0, CPU_SETSIZE - 1,
     "pin the audit writer to this CPU, e.g. the one taking the data disk's interrupts (default unpinned)"},
    {"tls-cert", "LATCHKEY_TLS_CERT", OPT_STR, OFF(tls_cert), 0, 0, "PEM certificate chain; enables TLS 1.2+"},
    {"tls-key", "LATCHKEY_TLS_KEY", OPT_STR, OFF(tls_key), 0, 0, "PEM private key for --tls-cert"},
    {"allow-plain-http", "LATCHKEY_ALLOW_PLAIN_HTTP", OPT_BOOL, OFF(allow_plain_http), 0, 0,
     "allow plain HTTP on a non-loopback address"},
    {"dev", "LATCHKEY_DEV", OPT_BOOL, OFF(dev), 0, 0,
     "dev mode: create the data dir and print a root token on first start"},
    {"max-body", "LATCHKEY_MAX_BODY", OPT_SIZE, OFF(max_body), 1024, 64ULL << 20,
     "largest request body in bytes (default 1048576)"},
    {"request-timeout", "LATCHKEY_REQUEST_TIMEOUT", OPT_UINT, OFF(request_timeout_s), 1, 3600,
     "seconds allowed for headers, body and idle keep-alive (default 10)"},
    {"rate-limit-token", "LATCHKEY_RATE_LIMIT_TOKEN", OPT_RATE, OFF(rl_token), 0, 0,
     "requests/seconds per token, 0 = off (default 6000/60)"},
    {"rate-limit-ip", "LATCHKEY_RATE_LIMIT_IP", OPT_RATE, OFF(rl_ip), 0, 0,
     "requests/seconds per client address, 0 = off (default 12000/60)"},
    {"rate-limit-login-account", "LATCHKEY_RATE_LIMIT_LOGIN_ACCOUNT", OPT_RATE, OFF(rl_login_account), 0, 0,
     "login attempts/seconds per account, 0 = off (default 10/300)"},
    {"rate-limit-login-ip", "LATCHKEY_RATE_LIMIT_LOGIN_IP", OPT_RATE, OFF(rl_login_ip), 0, 0,
     "login attempts/seconds per client address, 0 = off (default 30/60)"},
    {"rate-limit-signup", "LATCHKEY_RATE_LIMIT_SIGNUP", OPT_RATE, OFF(rl_signup), 0, 0,
     "self-service sign-ups/seconds per client address, 0 = off (default 10/3600)"},
    {"trusted-proxy", "LATCHKEY_TRUSTED_PROXY", OPT_CIDRS, OFF(trusted_proxies), 0, 0,
     "CIDR of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed; repeatable or "
     "comma-separated (default: none, the headers are ignored)"},
    {"allowed-origins", "LATCHKEY_ALLOWED_ORIGINS", OPT_ORIGINS, OFF(allowed_origins), 0, 0,
     "scheme://host[:port] of web pages besides the server's own that may make cookie-authenticated changes; "
     "repeatable or comma-separated (default: none)"},
    {"access-log", "LATCHKEY_ACCESS_LOG", OPT_BOOL, OFF(access_log), 0, 0, "JSON access log on stderr (default on)"},
    {"cache-ttl", "LATCHKEY_CACHE_TTL", OPT_UINT, OFF(cache_ttl_s), 1, 3600,
     "seconds a cached token is trusted before re-reading it (default 10)"},
    {"read-cache-ms", "LATCHKEY_READ_CACHE_MS", OPT_UINT, OFF(read_cache_ms), 0, 60000,
     "milliseconds a cached org, team, team role or secret row is trusted without re-reading it, which bounds how "
     "late a change made by another process or node is seen (this server's own changes are seen at once); "
     "0 turns the read cache off (default 1000)"},
    {"read-cache-mb", "LATCHKEY_READ_CACHE_MB", OPT_UINT, OFF(read_cache_mb), 1, 65536,
     "memory the read cache may hold, in MiB (default 64)"},
    {"touch-interval", "LATCHKEY_TOUCH_INTERVAL", OPT_UINT, OFF(touch_interval_s), 1, 3600,
     "seconds between last_used_at writes (default 5)"},
    {"audit-sync-reads", "LATCHKEY_AUDIT_SYNC_READS", OPT_BOOL, OFF(audit_sync_reads), 0, 0,
     "answer reads only once their audit record is on disk, as mutations always are (default off)"},
    {"unseal-key-file", "LATCHKEY_UNSEAL_KEY_FILE", OPT_STR, OFF(unseal_key_file), 0, 0,
     "unseal at start with the key shares in this file (one per line; it must not be readable by group or others)"},
    {"secret-versions", "LATCHKEY_SECRET_VERSIONS", OPT_UINT, OFF(secret_versions), 1, 1000,
     "versions kept per secret, the newest included; older ones are deleted on the next write (default 10)"},
    {"audit-file", "LATCHKEY_AUDIT_FILE", OPT_STR, OFF(audit_file), 0, 0,
     "also append every audit record to this file as a JSON line; reopened on SIGHUP"},
    {"audit-anchor-interval", "LATCHKEY_AUDIT_ANCHOR_INTERVAL", OPT_UINT, OFF(audit_anchor_interval_s), 0, 86400,
     "seconds between 'audit anchor SEQ:HASH' log lines while the trail grows, 0 = only at stop (default 60)"},
    {"log-level", "LATCHKEY_LOG_LEVEL", OPT_STR, OFF(log_level), 0, 0, "debug, info, warn or error (default info)"},
    /* Expiry notices (docs/notices.md). */
    {"notice-days", "LATCHKEY_NOTICE_DAYS", OPT_STR, OFF(notice_days), 0, 0,
     "days before a token's expiry to send notices, comma-separated (default 7,1)"},
    {"notice-interval", "LATCHKEY_NOTICE_INTERVAL", OPT_UINT, OFF(notice_interval_s), 1, 86400,
     "seconds between the server's notice passes (default 60)"},
    {"notice-timeout", "LATCHKEY_NOTICE_TIMEOUT", OPT_UINT, OFF(notice_timeout_s), 1, 300,
     "seconds one notice delivery (an SMTP or webhook transfer) may take before it counts as failed (default 30)"},
    {"smtp-url", "LATCHKEY_SMTP_URL", OPT_STR, OFF(smtp_url), 0, 0,
     "SMTP relay for notice e-mail, smtp://host:port or smtps://host:port (default: no e-mail)"},
    {"smtp-from", "LATCHKEY_SMTP_FROM", OPT_STR, OFF(smtp_from), 0, 0, "sender address of notice e-mail"},
    {"smtp-username", "LATCHKEY_SMTP_USERNAME", OPT_STR, OFF(smtp_username), 0, 0,
     "SMTP user name (default: no authentication)"},
    {"smtp-password-file", "LATCHKEY_SMTP_PASSWORD_FILE", OPT_STR, OFF(smtp_password_file), 0, 0,
     "file holding the SMTP password (or set LATCHKEY_SMTP_PASSWORD; never a flag)"},
    {"notice-webhook-url", "LATCHKEY_NOTICE_WEBHOOK_URL", OPT_STR, OFF(notice_webhook_url), 0, 0,
     "http(s) URL that receives each notice as signed JSON (default: none)"},
    {"notice-ca-file", "LATCHKEY_NOTICE_CA_FILE", OPT_STR, OFF(notice_ca_file), 0, 0,
     "PEM file of CA certificates to trust for the SMTP relay and the webhook (default: the system's bundle)"},
    {"notice-webhook-secret-file", "LATCHKEY_NOTICE_WEBHOOK_SECRET_FILE", OPT_STR, OFF(notice_webhook_secret_file), 0,
     0, "file holding the webhook signing secret (or set LATCHKEY_NOTICE_WEBHOOK_SECRET; never a flag)"},
    {"public-url", "LATCHKEY_PUBLIC_URL", OPT_STR, OFF(public_url), 0, 0,
     "http:// or https:// URL the server is reached at by people (e.g. https://latchkey.example.com); notices then "
     "carry absolute API and console links (default: paths only)"},
    {"trust-domain", "LATCHKEY_TRUST_DOMAIN", OPT_STR, OFF(trust_domain), 0, 0,
     "SPIFFE trust domain of identity tokens' subjects, spiffe://DOMAIN/org/... (default: the --public-url host, "
     "else latchkey.local)"},
    {"oidc-key-rotation", "LATCHKEY_OIDC_KEY_ROTATION", OPT_STR, OFF(oidc_key_rotation), 0, 0,
     "how often the identity-token signing key rotates: an ISO 8601 duration (P7D) or Go-style (168h, 7d); at "
     "least 1 hour (default 7d)"},
    {"identity-min-ttl", "LATCHKEY_IDENTITY_MIN_TTL", OPT_STR, OFF(identity_min_ttl), 0, 0,
     "shortest identity-token ttl callers may ask for, from 5s to 5m (default 5m); below 5m only with --dev, "
     "for tests of token renewal"},
    {"federation-ca-file", "LATCHKEY_FEDERATION_CA_FILE", OPT_STR, OFF(federation_ca_file), 0, 0,
     "PEM file of CA certificates to trust when fetching trusted issuers' key sets (jwks_uri; default: the "
     "system's bundle)"},
    {"vault-default-org", "LATCHKEY_VAULT_DEFAULT_ORG", OPT_STR, OFF(vault_default_org), 0, 0,
     "organisation the Vault-compatible door uses when a request sends no X-Vault-Namespace and its token has none "
     "(userpass login, the partner admin's KV calls; default: none)"},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void config_defaults(struct config *c) {
    memset(c, 0, sizeof(*c));
    snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
    c->listen_port = 8420;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = n > 0 ? (int)n : 1;
    c->max_body = 1 << 20;
    c->request_timeout_s = 10;
    c->rl_token = (struct rl_policy){6000, 60};
    c->rl_ip = (struct rl_policy){12000, 60};
    c->rl_login_account = (struct rl_policy){10, 300};
    c->rl_login_ip = (struct rl_policy){30, 60};
    /* An organisation signs up once: ten an hour from one address leaves
     * room for typos and a shared office address, and bounds what one
     * address can make the server spend (a password hash of 32 MiB of
     * memory each, a pending org to review) and how fast it can probe which
     * names are taken. */
    c->rl_signup = (struct rl_policy){10, 3600};
    c->access_log = 1;
    c->audit_cpu = -1;
    c->cache_ttl_s = 10;
    c->read_cache_ms = 1000;
    c->read_cache_mb = 64;
    c->touch_interval_s = 5;
    c->audit_anchor_interval_s = 60;
    snprintf(c->log_level, sizeof(c->log_level), "info");
    snprintf(c->notice_days, sizeof(c->notice_days), "7,1");
    c->notice_interval_s = 60;
    c->notice_timeout_s = 30;
    c->secret_versions = 10;
    snprintf(c->oidc_key_rotation, sizeof(c->oidc_key_rotation), "7d");
    snprintf(c->identity_min_ttl, sizeof(c->identity_min_ttl), "5m");
}

int config_host_is_loopback(const char *host) {
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

static int parse_u64(const char *s, uint64_t *ret) {
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *ret = v;
    return 0;
}

/* Where a flag's comma-separated items go: one call per item, spaces
 * around it trimmed. */
struct list_sink {
    int (*add)(struct list_sink *sink, const char *s, size_t n, struct lk_error *err);
    void *list;
    const struct opt *o;
    const char *origin; /* where the value came from, for messages */
};

static int each_item(const char *v, struct list_sink *sink, struct lk_error *err) {
    const char *p = v, *end = v + strlen(v);
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        while (p < e && *p == ' ')
            p++;
        while (e > p && e[-1] == ' ')
            e--;
        int r = sink->add(sink, p, (size_t)(e - p), err);
        if (r != 0 || comma == NULL)
            return r;
        p = comma + 1;
    }
}

static int add_cidr(struct list_sink *k, const char *s, size_t n, struct lk_error *err) {
    struct netaddr_cidrs *l = k->list;
    struct netaddr_cidr cidr;
    if (netaddr_cidr_parse(s, n, &cidr) != 0)
        return lk_error_set(err, LK_EINVAL,
                            "%s %s: \"%.*s\" is not an address range: expected ADDRESS/PREFIX with the bits past "
                            "the prefix zero (e.g. 10.0.0.0/8, 192.0.2.10/32, fd00::/8) or one address",
                            k->origin, k->o->name, (int)(n > 64 ? 64 : n), s);
    if (l->count == NETADDR_CIDRS_MAX)
        return lk_error_set(err, LK_EINVAL, "%s %s: more than %d ranges", k->origin, k->o->name, NETADDR_CIDRS_MAX);
    l->items[l->count++] = cidr;
    return 0;
}

static int add_origin(struct list_sink *k, const char *s, size_t n, struct lk_error *err) {
    struct origin_list *l = k->list;
    struct origin og;
    if (n == 4 && memcmp(s, "null", 4) == 0)
        return lk_error_set(err, LK_EINVAL,
                            "%s %s: \"null\" cannot be allowed: browsers send it from sandboxed frames, files and "
                            "redirects, which anyone can make",
                            k->origin, k->o->name);
    if (memchr(s, '*', n) != NULL)
        return lk_error_set(err, LK_EINVAL, "%s %s: \"%.*s\": wildcards are not supported; list each origin", k->origin,
                            k->o->name, (int)(n > 64 ? 64 : n), s);
    if (origin_parse(s, n, &og) != 0)
        return lk_error_set(err, LK_EINVAL,
                            "%s %s: \"%.*s\" is not an origin: expected http:// or https://, a host and an "
                            "optional :port, and nothing after (e.g. https://console.example.com)",
                            k->origin, k->o->name, (int)(n > 64 ? 64 : n), s);
    if (l->count == ORIGIN_LIST_MAX)
        return lk_error_set(err, LK_EINVAL, "%s %s: more than %d origins", k->origin, k->o->name, ORIGIN_LIST_MAX);
    l->items[l->count++] = og;
    return 0;
}

/* Adds the comma-separated ranges of v to l. */
static int add_cidrs(struct netaddr_cidrs *l, const struct opt *o, const char *v, const char *origin,
                     struct lk_error *err) {
    struct list_sink k = {add_cidr, l, o, origin};
    return each_item(v, &k, err);
}

/* Adds the comma-separated origins of v to l. */
static int add_origins(struct origin_list *l, const struct opt *o, const char *v, const char *origin,
                       struct lk_error *err) {
    struct list_sink k = {add_origin, l, o, origin};
    return each_item(v, &k, err);
}

/* Sets o from v. For a list, append adds to what this same source gave
 * before; otherwise v replaces the list ("" empties it). */
static int set_value(struct config *c, const struct opt *o, const char *v, const char *origin, int append,
                     struct lk_error *err) {
    char *field = (char *)c + o->offset;
    switch (o->type) {
    case OPT_CIDRS: {
        struct netaddr_cidrs *l = (struct netaddr_cidrs *)field;
        if (!append)
            l->count = 0;
        return *v == '\0' ? 0 : add_cidrs(l, o, v, origin, err);
    }
    case OPT_ORIGINS: {
        struct origin_list *l = (struct origin_list *)field;
        if (!append)
            l->count = 0;
        return *v == '\0' ? 0 : add_origins(l, o, v, origin, err);
    }
    case OPT_STR: {
        size_t n = strlen(v);
        if (n >= o->size)
            return lk_error_set(err, LK_EINVAL, "%s %s: value too long", origin, o->name);
        memcpy(field, v, n + 1);
        return 0;
    }
    case OPT_LISTEN: {
        const char *colon = strrchr(v, ':');
        uint64_t port;
        if (colon == NULL || parse_u64(colon + 1, &port) != 0 || port > 65535)
            return lk_error_set(err, LK_EINVAL, "%s %s: expected HOST:PORT, got \"%.64s\"", origin, o->name, v);
        const char *h = v;
        size_t hl = (size_t)(colon - v);
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* [::1]:8420 */
            h++;
            hl -= 2;
        }
        if (hl == 0 || hl >= sizeof(c->listen_host))
            return lk_error_set(err, LK_EINVAL, "%s %s: bad host in \"%.64s\"", origin, o->name, v);
        memcpy(c->listen_host, h, hl);
        c->listen_host[hl] = '\0';
        c->listen_port = (uint16_t)port;
        return 0;
    }
    case OPT_UINT:
    case OPT_SIZE: {
        uint64_t n;
        if (parse_u64(v, &n) != 0 || n < o->min || n > o->max)
            return lk_error_set(err, LK_EINVAL, "%s %s: expected an integer from %llu to %llu, got \"%.64s\"", origin,
                                o->name, (unsigned long long)o->min, (unsigned long long)o->max, v);
        if (o->type == OPT_SIZE)
            *(size_t *)field = (size_t)n;
        else if (o->size == sizeof(int))
            *(int *)field = (int)n; /* also uint32_t: same size, value within range */
        else
            return lk_error_set(err, LK_EINTERNAL, "option %s has an unsupported width", o->name);
        return 0;
    }
    case OPT_BOOL:
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "on") == 0 || strcmp(v, "yes") == 0)
            *(int *)field = 1;
        else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "off") == 0 || strcmp(v, "no") == 0)
            *(int *)field = 0;
        else
            return lk_error_set(err, LK_EINVAL, "%s %s: expected true or false, got \"%.64s\"", origin, o->name, v);
        return 0;
    case OPT_RATE:
        if (rl_policy_parse(v, (struct rl_policy *)field) != 0)
            return lk_error_set(err, LK_EINVAL, "%s %s: expected REQUESTS/SECONDS (e.g. 600/60) or 0, got \"%.64s\"",
                                origin, o->name, v);
        return 0;
    }
    return lk_error_set(err, LK_EINTERNAL, "option %s has an unknown type", o->name);
}

static int is_bool_word(const char *v) {
    static const char *const words[] = {"1", "0", "true", "false", "on", "off", "yes", "no"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(v, words[i]) == 0)
            return 1;
    return 0;
}

static const struct opt *find_opt(const char *name, size_t len) {
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static int load_file(struct config *c, const char *path, struct lk_error *err) {
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    int r = 0;
    if (root == NULL)
        return lk_error_set(err, LK_EINVAL, "config file %s: %s (line %d)", path, jerr.text, jerr.line);
    if (!json_is_object(root)) {
        r = lk_error_set(err, LK_EINVAL, "config file %s: expected a JSON object", path);
        goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        const struct opt *o = find_opt(key, strlen(key));
        char buf[64];
        const char *s;
        if (o == NULL) {
            r = lk_error_set(err, LK_EINVAL, "config file %s: unknown setting \"%.64s\"", path, key);
            goto out;
        }
        if (json_is_array(val) && (o->type == OPT_CIDRS || o->type == OPT_ORIGINS)) {
            size_t i;
            json_t *item;
            if (json_array_size(val) == 0)
                r = set_value(c, o, "", "config file", 0, err);
            json_array_foreach(val, i, item) {
                if (!json_is_string(item)) {
                    r = lk_error_set(err, LK_EINVAL, "config file %s: %s must be an array of strings", path, key);
                    goto out;
                }
                r = set_value(c, o, json_string_value(item), "config file", i > 0, err);
                if (r < 0)
                    goto out;
            }
            continue;
        }
        if (json_is_string(val)) {
            s = json_string_value(val);
        } else if (json_is_integer(val)) {
            snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(val));
            s = buf;
        } else if (json_is_boolean(val)) {
            s = json_is_true(val) ? "true" : "false";
        } else {
            r = lk_error_set(err, LK_EINVAL, "config file %s: %s must be a string, integer or boolean", path, key);
            goto out;
        }
        r = set_value(c, o, s, "config file", 0, err);
        if (r < 0)
            goto out;
    }
out:
    json_decref(root);
    return r;
}

/* The trust domain (by default the --public-url host), the rotation
 * period and the shortest identity-token ttl. A trust domain is a DNS
 * name: lower-case letters, digits, dots, hyphens (SPIFFE ID spec, section
 * 2.1). */
static int check_identity(struct config *c, struct lk_error *err) {
    if (c->trust_domain[0] == '\0') {
        const char *u = c->public_url;
        const char *host = strncmp(u, "https://", 8) == 0 ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : "";
        size_t n = strcspn(host, ":/");
        if (n == 0 || host[0] == '[')
            snprintf(c->trust_domain, sizeof(c->trust_domain), "latchkey.local");
        else
            snprintf(c->trust_domain, sizeof(c->trust_domain), "%.*s", (int)n, host);
        for (char *p = c->trust_domain; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    int ok = c->trust_domain[0] != '\0';
    for (const char *p = c->trust_domain; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_';
    if (!ok)
        return lk_error_set(err, LK_EINVAL,
                            "trust-domain: expected a DNS name of lower-case letters, digits, '.', '-' and '_' "
                            "(e.g. example.org)");
    struct lk_error why = {0};
    if (duration_any_seconds(c->oidc_key_rotation, strlen(c->oidc_key_rotation), &c->oidc_rotation_s, &why) != 0 ||
        c->oidc_rotation_s < 3600)
        return lk_error_set(err, LK_EINVAL,
                            "oidc-key-rotation: expected a duration of at least 1 hour, ISO 8601 (P7D) or "
                            "Go-style (168h, 7d)");
    if (duration_any_seconds(c->identity_min_ttl, strlen(c->identity_min_ttl), &c->identity_min_ttl_s, &why) != 0 ||
        c->identity_min_ttl_s < CONFIG_IDENTITY_MIN_TTL_FLOOR ||
        c->identity_min_ttl_s > CONFIG_IDENTITY_MIN_TTL_DEFAULT)
        return lk_error_set(err, LK_EINVAL,
                            "identity-min-ttl: expected a duration from 5s to 5m, Go-style (10s) or ISO 8601 (PT10S)");
    /* Tokens of seconds make every workload renew all the time, and a
     * verifier's 60 s leeway outlasts them: a test setting only. */
    if (c->identity_min_ttl_s < CONFIG_IDENTITY_MIN_TTL_DEFAULT && !c->dev)
        return lk_error_set(err, LK_EINVAL,
                            "identity-min-ttl: below 5 minutes is refused without --dev (short identity tokens are "
                            "for tests of token renewal, not for production)");
    return 0;
}

/*
 * Checks c->public_url and drops one trailing '/'. Notices append paths to
 * it, so it must be http:// or https:// and a host, with no user info, no
 * query or fragment (a path after them would not be one), and only
 * printable ASCII without spaces.
 */
static int check_public_url(struct config *c, struct lk_error *err) {
    char *u = c->public_url;
    size_t n = strlen(u);
    if (n == 0)
        return 0;
    const char *rest = strncmp(u, "https://", 8) == 0 ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
    size_t host = rest != NULL ? strcspn(rest, "/") : 0;
    int ok = host > 0 && memchr(rest, '@', host) == NULL && strpbrk(u, "?#") == NULL;
    for (const char *p = u; ok && *p; p++)
        ok = (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f;
    if (!ok)
        return lk_error_set(err, LK_EINVAL,
                            "public-url: expected http:// or https://, a host and an optional path, without user "
                            "info, query, fragment, spaces or control characters (e.g. https://latchkey.example.com)");
    if (u[n - 1] == '/')
        u[n - 1] = '\0';
    return 0;
}

int config_load(struct config *c, int argc, char **argv, struct lk_error *err) {
    const char *file = getenv("LATCHKEY_CONFIG");
    int r;

    /* The file comes first whatever the flag order, so flags still override it. */
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
    }
    if (file != NULL && *file != '\0') {
        r = load_file(c, file, err);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < NOPTS; i++) {
        const char *v = getenv(opts[i].env);
        if (v != NULL && *v != '\0') {
            r = set_value(c, &opts[i], v, opts[i].env, 0, err);
            if (r < 0)
                return r;
        }
    }
    /* A list flag given twice adds; its first use replaces the env's or file's. */
    int given[NOPTS];
    memset(given, 0, sizeof(given));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strncmp(a, "--", 2) != 0)
            return lk_error_set(err, LK_EINVAL, "unexpected argument \"%.64s\"", a);
        a += 2;
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (nlen == 6 && memcmp(a, "config", 6) == 0) {
            if (eq == NULL)
                i++;
            continue;
        }
        const struct opt *o = find_opt(a, nlen);
        if (o == NULL)
            return lk_error_set(err, LK_EINVAL, "unknown flag --%.*s (see --help)", (int)(nlen > 64 ? 64 : nlen), a);
        const char *v;
        if (eq != NULL)
            v = eq + 1;
        else if (o->type == OPT_BOOL)
            v = (i + 1 < argc && is_bool_word(argv[i + 1])) ? argv[++i] : "true";
        else if (i + 1 < argc)
            v = argv[++i];
        else
            return lk_error_set(err, LK_EINVAL, "flag --%s needs a value", o->name);
        r = set_value(c, o, v, "flag", given[o - opts], err);
        given[o - opts] = 1;
        if (r < 0)
            return r;
    }
    if (strcmp(c->log_level, "debug") != 0 && strcmp(c->log_level, "info") != 0 && strcmp(c->log_level, "warn") != 0 &&
        strcmp(c->log_level, "error") != 0)
        return lk_error_set(err, LK_EINVAL, "log-level: expected debug, info, warn or error");
    if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0'))
        return lk_error_set(err, LK_EINVAL, "tls-cert and tls-key must be given together");
    int days[NOTICE_OFFSETS_MAX];
    size_t ndays = 0;
    if (notice_offsets_parse(c->notice_days, days, NOTICE_OFFSETS_MAX, &ndays) != 0)
        return lk_error_set(err, LK_EINVAL,
                            "notice-days: expected up to %d comma-separated whole days from 1 to %d (e.g. 7,1), "
                            "got \"%.64s\"",
                            NOTICE_OFFSETS_MAX, NOTICE_DAYS_MAX, c->notice_days);
    if (check_public_url(c, err) != 0)
        return LK_EINVAL;
    return check_identity(c, err);
}

void config_usage(void) {
    printf("Settings (precedence: flag > environment > config file > default):\n\n");
    printf("  --config FILE / LATCHKEY_CONFIG\n      JSON object of the settings below, keyed by flag name\n");
    for (size_t i = 0; i < NOPTS; i++)
        printf("  --%s / %s\n      %s\n", opts[i].name, opts[i].env, opts[i].help);
}
