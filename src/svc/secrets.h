/*
 * secrets.h - the secrets store's rules: versioned key/value secrets under
 * a path, org-wide or per team, sealed by the barrier (svc/seal.h) before
 * they reach the store and opened only for a caller who may read them.
 *
 * Who may do what: secrets.view lists paths and reads metadata,
 * secrets.read reads values, secrets.manage writes and deletes. In a team,
 * members read, owners manage, viewers see metadata; org-wide secrets are
 * the org admins'. Service accounts get none by default; a role granted in
 * their team can give secrets.read there. A token's policies narrow all of
 * it. Another org's or team's secret answers as a missing one does.
 */
#ifndef LK_SVC_SECRETS_H
#define LK_SVC_SECRETS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct svc;
struct principal;
struct lk_error;

/* A value: a JSON object of string values, at most this many bytes of JSON. */
#define SECRETS_VALUE_MAX (64 * 1024)
/* Path rules: segments of [A-Za-z0-9._-], never "." or "..", at most this deep. */
#define SECRETS_DEPTH_MAX 16
/* Versions kept per path by default (a write or delete prunes the older
 * ones); svc->secret_versions overrides it. */
#define SECRETS_KEEP_VERSIONS 10
#define SECRETS_KEEP_VERSIONS_MAX 1000
#define SECRETS_LIST_MAX 1000

/* What a path holds, for its metadata and answers. */
struct secret_meta {
    char path[STORE_SECRET_PATH_MAX];
    int64_t current_version; /* the newest, a deletion included */
    int64_t oldest_version;  /* the oldest still kept */
    int deleted;             /* the newest version is a deletion */
    int64_t created_at;      /* of the oldest kept version */
    char created_by[STORE_PRINCIPAL_MAX];
    int64_t updated_at; /* of the newest */
    char updated_by[STORE_PRINCIPAL_MAX];
    struct secret_list versions; /* newest first, without values; owned */
};
void secret_meta_done(struct secret_meta *m);

/*
 * 0, or LK_EINVAL with a message naming the rule, for a path (a folder
 * when folder is set: "" for the top, or ending in '/').
 */
int secrets_path_check(const char *path, int folder, struct lk_error *err);

/*
 * Whether caller holds perm ("secrets.read", ".view" or ".manage") on the
 * secrets of org (team NULL: org-wide) or of team: 0, or LK_EDENIED, the
 * same answer whether or not the org or team exists (for the Vault door,
 * which tells a refusal apart from a missing secret and so must not tell
 * a missing team from another's). Store errors are passed on.
 */
int secrets_may(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *perm,
                struct lk_error *err);

/* Writes a new version of the secret at path (team NULL: org-wide) with
 * value (a JSON object of string values, its text). ret gets its metadata. */
int secrets_write(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *path,
                  const char *value, size_t len, struct secret_meta *ret, struct lk_error *err);

/* Reads a version (0: the newest) of the secret at path: its value
 * (malloc'd JSON text, NUL-terminated; the caller wipes and frees it) and
 * metadata. A deleted version answers LK_ENOTFOUND saying so. */
int secrets_read(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *path,
                 int64_t version, char **ret_value, size_t *ret_len, struct secret_meta *ret_meta,
                 struct lk_error *err);

/* The metadata of the secret at path (secrets.view). */
int secrets_metadata(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *path, struct secret_meta *ret, struct lk_error *err);

/* Deletes the secret at path: a new version that is a deletion; the older
 * versions stay readable until they leave the kept window. */
int secrets_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *path,
                   struct secret_meta *ret, struct lk_error *err);

/* The keys directly under folder ("" or "a/b/"): secrets by name and
 * sub-folders as "name/", in byte order, each once. */
int secrets_list(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *folder,
                 struct secret_path_list *ret, struct lk_error *err);

/*
 * Seals every stored value that is under an older key version again under
 * the current one (after POST /v1/sys/rotate), each bound to its row as
 * before: the partner admin only, while unsealed. *ret_rewrapped gets how
 * many were re-encrypted, *ret_current how many were current already. A
 * value that fails its integrity check stops the pass and is named.
 */
int secrets_rewrap(struct svc *svc, const struct principal *caller, size_t *ret_rewrapped, size_t *ret_current,
                   struct lk_error *err);

#endif
