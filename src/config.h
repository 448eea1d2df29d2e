/*
 * config.h - server configuration: defaults < config file < environment <
 * command-line flags. Read once at start-up, read-only afterwards.
 */
#ifndef LK_CONFIG_H
#define LK_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "core/netaddr.h"
#include "core/origin.h"
#include "core/ratelimit.h"

struct lk_error;

#define CONFIG_HOST_MAX 256
#define CONFIG_STORE_MAX (PATH_MAX + 16)
/* A public URL, with the longest path a notice appends, stays well inside
 * a mail line (998 bytes). */
#define CONFIG_PUBLIC_URL_MAX 512
/* The shortest identity-token lifetime callers may ask for: 5 minutes (the
 * production rule, svc/oidc.h's OIDC_TTL_MIN), or down to 5 seconds with
 * --dev, for tests of renewal with short-lived tokens. */
#define CONFIG_IDENTITY_MIN_TTL_DEFAULT 300
#define CONFIG_IDENTITY_MIN_TTL_FLOOR 5

struct config {
    char listen_host[CONFIG_HOST_MAX]; /* numeric address or "localhost" */
    uint16_t listen_port;              /* 0 = pick a free port */
    char data_dir[PATH_MAX];
    int threads;             /* worker threads (event loops) */
    char tls_cert[PATH_MAX]; /* PEM chain; "" = plain HTTP */
    char tls_key[PATH_MAX];
    int allow_plain_http;              /* plain HTTP on a non-loopback address */
    int dev;                           /* dev mode: create and initialise the data dir */
    int cpu_affinity;                  /* 1 = worker i runs only on the i-th CPU allowed */
    int audit_cpu;                     /* the audit writer's CPU; -1 = wherever the scheduler puts it */
    size_t max_body;                   /* bytes; larger bodies answer 413 */
    uint32_t request_timeout_s;        /* header/body/idle timeout */
    struct rl_policy rl_token;         /* per token */
    struct rl_policy rl_ip;            /* per client address */
    struct rl_policy rl_login_account; /* login attempts per org/username */
    struct rl_policy rl_login_ip;      /* login attempts per client address */
    int access_log;                    /* 1 = JSON access log on stderr */
    uint32_t cache_ttl_s;              /* token cache staleness bound */
    uint32_t read_cache_ms;            /* store read cache staleness bound for others' changes; 0 = off */
    uint32_t read_cache_mb;            /* store read cache memory bound */
    uint32_t touch_interval_s;         /* how often last_used_at is written */
    int audit_sync_reads;              /* reads wait for their audit record to be durable */
    char audit_file[PATH_MAX];         /* JSON-lines copy of the audit trail; "" = none */
    char unseal_key_file[PATH_MAX];    /* unseal key shares, one per line, read at start; "" = none */
    uint32_t secret_versions;          /* versions kept per secret */
    uint32_t audit_anchor_interval_s;  /* seconds between logged chain heads; 0 = only at stop */
    char log_level[16];
    /* Expiry notices (docs/notices.md). Secrets are not here: the SMTP
     * password and the webhook signing secret are read from a file or the
     * environment by jobs/notices.c, never from a flag. */
    char notice_days[128];      /* offsets in days, "7,1" */
    uint32_t notice_interval_s; /* seconds between the server's notice passes */
    uint32_t notice_timeout_s;  /* the most one notice delivery (SMTP or webhook) may take */
    char smtp_url[1024];        /* smtp://host:port or smtps://...; "" = no e-mail */
    char smtp_from[256];        /* envelope and From: address */
    char smtp_username[256];    /* "" = no SMTP authentication */
    char smtp_password_file[PATH_MAX];
    char notice_webhook_url[2048];     /* "" = no webhook */
    char notice_ca_file[PATH_MAX];     /* PEM CA file for the relay and webhook; "" = the system's bundle */
    char federation_ca_file[PATH_MAX]; /* PEM CA file for trusted issuers' jwks_uri; "" = the system's bundle */
    char notice_webhook_secret_file[PATH_MAX];
    char public_url[CONFIG_PUBLIC_URL_MAX]; /* http(s)://host[:port][/path], no trailing '/'; "" = paths only */
    char vault_default_org[64];             /* the Vault door's organisation when a request names none; "" = none */
    /* Identity tokens (docs/identity.md). */
    char trust_domain[256];     /* SPIFFE trust domain; "" = the --public-url host, else "latchkey.local" */
    char oidc_key_rotation[64]; /* duration between signing-key rotations ("7d", "P7D", "168h") */
    int64_t oidc_rotation_s;    /* the same in seconds, set by config_load */
    char identity_min_ttl[64];  /* shortest identity-token ttl a caller may ask for ("5m"; less only with --dev) */
    int64_t identity_min_ttl_s; /* the same in seconds, set by config_load */
    /* Abuse limits, browsers and proxies. */
    struct rl_policy rl_signup;           /* self-service sign-ups per client address */
    struct netaddr_cidrs trusted_proxies; /* peers whose X-Forwarded-For and -Proto are believed */
    struct origin_list allowed_origins;   /* besides the server's own, origins whose pages may change with the cookie */
    /* The store as a DSN, SCHEME:LOCATION (store.h); "" = sqlite:DATA_DIR/latchkey.db. */
    char store[CONFIG_STORE_MAX];
};

/* Fills c with defaults (dev-independent). */
void config_defaults(struct config *c);

/*
 * Applies the config file (--config FILE or LATCHKEY_CONFIG, a JSON object
 * whose keys are the long flag names), then LATCHKEY_* variables, then the
 * flags in argv[0..argc) (argv[0] is the first flag, not the program).
 * Returns 0, or LK_EINVAL with a message naming the offending setting.
 * "--help" returns 1 so the caller can print config_usage().
 */
int config_load(struct config *c, int argc, char **argv, struct lk_error *err);

/* Prints the option table (flag, variable, default, meaning) to stdout. */
void config_usage(void);

/* 1 if host is a loopback address or name. */
int config_host_is_loopback(const char *host);

#endif
