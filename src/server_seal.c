/*
 * server_seal.c - the seal at start-up: open it from the store, and unseal
 * it when the operator arranged for that: dev mode (initialised with one
 * share kept beside the data, printed once, as `vault server -dev` does)
 * or --unseal-key-file (shares read from a file only its owner can read).
 *
 * Never logs a share. The dev share kept in the store is a convenience for
 * development only: whoever reads the store can unseal it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "core/errors.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "server.h"
#include "server_seal.h"
#include "store/store.h"
#include "svc/seal.h"

#define DEV_SHARE_META "seal.dev_share"
#define KEY_FILE_MAX 65536

/* Reads path (at most KEY_FILE_MAX bytes) into buf, refusing a file that
 * group or others may read. 0, or -1 after logging why. */
static int read_private_file(const char *path, const char *what, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        lk_log(LOG_ERROR, "%s: cannot open %s: %s", what, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        lk_log(LOG_ERROR, "%s: %s must be a regular file that only its owner can read (chmod 600)", what, path);
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t n;
    while (got + 1 < cap && (n = read(fd, buf + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    return 0;
}

/* Gives each non-empty line of text to the seal. 0 once unsealed. */
int server_unseal_text(struct seal *seal, struct store *s, char *text, const char *what) {
    struct lk_error err = {0};
    struct seal_status st;
    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '\0' || *line == '#')
            continue;
        if (seal_unseal(seal, s, line, &st, &err) != 0) {
            lk_log(LOG_ERROR, "%s: %s", what, lk_error_message(&err));
            return -1;
        }
        if (!st.sealed)
            return 0;
    }
    seal_status(seal, &st);
    if (st.sealed) {
        lk_log(LOG_ERROR, "%s: %u of the %u key shares needed; latchkey stays sealed", what, st.progress, st.t);
        return -1;
    }
    return 0;
}

/* Dev mode: one share, kept in the store itself (meta "seal.dev_share")
 * and printed once, so dev restarts unseal by themselves. */
static int dev_seal(struct seal *seal, struct store *s) {
    struct seal_status st;
    seal_status(seal, &st);
    if (!st.initialized) {
        uint8_t share[1][SEAL_SHARE_LEN];
        char hex[SEAL_SHARE_TEXT_MAX], b64[SEAL_SHARE_TEXT_MAX];
        struct lk_error err = {0};
        if (seal_init(seal, s, 1, 1, clock_now(), share, &err) != 0) {
            lk_log(LOG_ERROR, "dev mode: cannot initialise the seal: %s", lk_error_message(&err));
            return -1;
        }
        seal_share_format(share[0], hex, b64);
        explicit_bzero(share, sizeof(share));
        explicit_bzero(b64, sizeof(b64));
        int r = store_meta_set(s, DEV_SHARE_META, hex);
        if (r != 0) {
            explicit_bzero(hex, sizeof(hex));
            lk_log(LOG_ERROR, "dev mode: cannot keep the unseal key");
            return -1;
        }
        printf("Unseal key: %s\n", hex);
        printf("(dev mode: the unseal key is also kept in the store, so dev restarts unseal by themselves; "
               "never do this with data that matters)\n");
        fflush(stdout);
        explicit_bzero(hex, sizeof(hex));
    }
    char *kept = NULL;
    int r = store_meta_get(s, DEV_SHARE_META, &kept);
    if (r == LK_ENOTFOUND) {
        lk_log(LOG_WARN, "dev mode: this store was not initialised in dev mode; it stays sealed until PUT "
                         "/v1/sys/unseal");
        return 0;
    }
    if (r != 0)
        return -1;
    r = server_unseal_text(seal, s, kept, "dev mode");
    explicit_bzero(kept, strlen(kept));
    free(kept);
    return r;
}

int server_unseal_key_file(struct seal *seal, struct store *s, const char *path, const char *what) {
    char text[KEY_FILE_MAX];
    int r = read_private_file(path, what, text, sizeof(text));
    if (r == 0)
        r = server_unseal_text(seal, s, text, what);
    explicit_bzero(text, sizeof(text));
    return r;
}

int server_seal_start(const struct config *cfg, struct store *s, struct seal **ret) {
    struct seal *seal = NULL;
    if (seal_new(s, &seal) != 0) {
        lk_log(LOG_ERROR, "cannot read the seal's configuration from the store");
        return -1;
    }
    int r = 0;
    if (cfg->dev)
        r = dev_seal(seal, s);
    if (r == 0 && cfg->unseal_key_file[0] != '\0' && seal_is_sealed(seal))
        r = server_unseal_key_file(seal, s, cfg->unseal_key_file, "--unseal-key-file");
    if (r != 0) {
        seal_free(seal);
        return -1;
    }
    struct seal_status st;
    seal_status(seal, &st);
    if (!st.initialized)
        lk_log(LOG_WARN, "latchkey is not initialized: every route but health, seal status, init and unseal "
                         "answers 503 until `latchkey operator init` or PUT /v1/sys/init");
    else if (st.sealed)
        lk_log(LOG_WARN, "latchkey is sealed: give %u of the %u unseal key shares to PUT /v1/sys/unseal", st.t, st.n);
    else
        lk_log(LOG_INFO, "latchkey is unsealed");
    *ret = seal;
    return 0;
}
