/*
 * secrets.c - the secrets store's rules (svc/secrets.h).
 *
 * Every value is sealed here, before it reaches the store, under the
 * keyring's current key and bound to its row by associated data (org,
 * team, path, version): a value copied into another row, or altered, fails
 * to open with an integrity error instead of answering garbage. Values
 * and plaintexts never reach a log, an error message or the audit trail
 * (the api records path and version only).
 */
#include "svc/secrets.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/aead.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/seal.h"
#include "svc/svc.h"

void secret_meta_done(struct secret_meta *m) {
    if (m != NULL)
        secret_list_done(&m->versions);
}

static int segment_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

int secrets_path_check(const char *path, int folder, struct lk_error *err) {
    static const char rule[] = "segments of letters, digits, '.', '_' and '-' separated by '/', none of them "
                               "\".\" or \"..\", at most 16 deep";
    size_t len = strlen(path);
    if (folder && len == 0)
        return 0;
    if (len == 0 || len >= STORE_SECRET_PATH_MAX)
        return lk_error_set(err, LK_EINVAL, "path: %s (1 to %d bytes)", rule, STORE_SECRET_PATH_MAX - 1);
    if (folder && path[len - 1] == '/')
        len--;
    size_t depth = 0;
    for (size_t i = 0; i <= len;) {
        size_t start = i;
        while (i < len && path[i] != '/') {
            if (!segment_char(path[i]))
                return lk_error_set(err, LK_EINVAL, "path: %s", rule);
            i++;
        }
        size_t seg = i - start;
        if (seg == 0 || (seg == 1 && path[start] == '.') || (seg == 2 && path[start] == '.' && path[start + 1] == '.'))
            return lk_error_set(err, LK_EINVAL, "path: %s", rule);
        if (++depth > SECRETS_DEPTH_MAX)
            return lk_error_set(err, LK_EINVAL, "path: %s", rule);
        i++;
    }
    return 0;
}

/* The associated data binding a sealed value to its row. */
static int row_aad(const char *org_id, const char *team_id, const char *path, int64_t version, char *out, size_t cap,
                   size_t *ret_len) {
    int n = snprintf(out, cap, "latchkey-secret\n%s\n%s\n%s\n%lld", org_id, team_id, path, (long long)version);
    if (n < 0 || (size_t)n >= cap)
        return LK_EINTERNAL;
    *ret_len = (size_t)n;
    return 0;
}

static void principal_label(const struct principal *p, char out[STORE_PRINCIPAL_MAX]) {
    snprintf(out, STORE_PRINCIPAL_MAX, "%s:%s", principal_type_name(p->type), p->name);
}

/* The scope of team (NULL: org-wide) with perm required. */
static int scope(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *path,
                 int folder, const char *perm, struct svc_scope *sc, struct lk_error *err) {
    int r = secrets_path_check(path, folder, err);
    if (r != 0)
        return r;
    return svc_scope_require(svc, caller, org, team, perm, sc, err);
}

int secrets_may(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *perm,
                struct lk_error *err) {
    struct svc_scope sc;
    int r = svc_scope_require(svc, caller, org, team, perm, &sc, err);
    if (r == LK_ENOTFOUND || r == LK_EDENIED)
        return lk_error_set(err, LK_EDENIED, "permission denied: %s is not granted here", perm);
    return r;
}

static int load_meta(struct svc *svc, const struct svc_scope *sc, const char *path, struct secret_meta *ret,
                     struct lk_error *err) {
    struct secret_meta m;
    memset(&m, 0, sizeof(m));
    int r = store_secret_versions(svc->store, sc->org.id, sc->team.id, path, &m.versions);
    if (r != 0)
        return lk_error_set(err, r, "could not read the secret's versions");
    if (m.versions.count == 0) {
        secret_meta_done(&m);
        return lk_error_set(err, LK_ENOTFOUND, "no secret at %s", path);
    }
    const struct secret_rec *newest = &m.versions.items[0], *oldest = &m.versions.items[m.versions.count - 1];
    str_copy(m.path, sizeof(m.path), path);
    m.current_version = newest->version;
    m.oldest_version = oldest->version;
    m.deleted = newest->value_len == 0;
    m.created_at = oldest->created_at;
    str_copy(m.created_by, sizeof(m.created_by), oldest->created_by);
    m.updated_at = newest->created_at;
    str_copy(m.updated_by, sizeof(m.updated_by), newest->created_by);
    *ret = m;
    return 0;
}

/* A value must be a JSON object of string values. */
static int value_check(const char *value, size_t len, struct lk_error *err) {
    if (len == 0 || len > SECRETS_VALUE_MAX)
        return lk_error_set(err, LK_EINVAL, "data: a JSON object of string values, 1 to %d bytes", SECRETS_VALUE_MAX);
    json_t *o = json_loadb(value, len, JSON_REJECT_DUPLICATES, NULL);
    int ok = json_is_object(o) && json_object_size(o) > 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (!json_is_string(v))
            ok = 0;
    }
    json_decref(o);
    return ok ? 0 : lk_error_set(err, LK_EINVAL, "data: a non-empty JSON object of string values");
}

/* Inserts version (the newest + 1, read under the write lock) of path:
 * sealed value, or a deletion (value NULL), then prunes the window. */
static int put_version(struct svc *svc, const struct principal *caller, const struct svc_scope *sc, const char *path,
                       const char *value, size_t len, struct lk_error *err) {
    int64_t latest = 0;
    int r = store_request_lock(svc->store);
    if (r == 0)
        r = store_secret_latest(svc->store, sc->org.id, sc->team.id, path, &latest);
    if (r != 0)
        return lk_error_set(err, r, "could not read the secret");
    if (value == NULL && latest == 0)
        return lk_error_set(err, LK_ENOTFOUND, "no secret at %s", path);
    struct secret_rec rec;
    memset(&rec, 0, sizeof(rec));
    str_copy(rec.org_id, sizeof(rec.org_id), sc->org.id);
    str_copy(rec.team_id, sizeof(rec.team_id), sc->team.id);
    str_copy(rec.path, sizeof(rec.path), path);
    rec.version = latest + 1;
    rec.created_at = svc->now;
    principal_label(caller, rec.created_by);
    if (value != NULL) {
        char aad[STORE_SECRET_PATH_MAX + 3 * STORE_OWNER_ID_MAX];
        size_t aad_len = 0;
        r = row_aad(sc->org.id, sc->team.id, path, rec.version, aad, sizeof(aad), &aad_len);
        if (r == 0)
            r = svc->seal != NULL ? seal_encrypt(svc->seal, aad, aad_len, value, len, &rec.value, &rec.value_len)
                                  : LK_ESEALED;
        if (r != 0)
            return lk_error_set(err, r, r == LK_ESEALED ? "latchkey is sealed" : "could not seal the value");
    }
    r = store_secret_insert(svc->store, &rec);
    secret_rec_done(&rec);
    int64_t keep = svc->secret_versions > 0 ? svc->secret_versions : SECRETS_KEEP_VERSIONS;
    if (r == 0 && rec.version > keep)
        r = store_secret_prune(svc->store, sc->org.id, sc->team.id, path, rec.version - keep + 1, NULL);
    return r != 0 ? lk_error_set(err, r, "could not store the secret") : 0;
}

int secrets_write(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *path,
                  const char *value, size_t len, struct secret_meta *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = scope(svc, caller, org, team, path, 0, "secrets.manage", &sc, err);
    if (r == 0)
        r = value_check(value, len, err);
    if (r == 0)
        r = put_version(svc, caller, &sc, path, value, len, err);
    return r != 0 ? r : load_meta(svc, &sc, path, ret, err);
}

int secrets_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *path,
                   struct secret_meta *ret, struct lk_error *err) {
    struct svc_scope sc;
    struct secret_meta m;
    int r = scope(svc, caller, org, team, path, 0, "secrets.manage", &sc, err);
    if (r != 0)
        return r;
    r = load_meta(svc, &sc, path, &m, err);
    if (r != 0)
        return r;
    int deleted = m.deleted;
    secret_meta_done(&m);
    if (deleted)
        return lk_error_set(err, LK_ENOTFOUND, "no secret at %s (it was deleted)", path);
    r = put_version(svc, caller, &sc, path, NULL, 0, err);
    return r != 0 ? r : load_meta(svc, &sc, path, ret, err);
}

/* What a read takes from the store, all in one snapshot (store_read_tx):
 * the scope, then (want_rec) the version's row, then the metadata. So the
 * row and the metadata answered with it are of the same moment, and the
 * store's read locks are taken once a request. */
struct read_args {
    struct svc *svc;
    const struct principal *caller;
    const char *org, *team, *path, *perm;
    int64_t version; /* want_rec: 0 for the newest */
    int want_rec;
    struct svc_scope sc;
    struct secret_rec rec; /* want_rec: the version's row, sealed value and all */
    struct secret_meta meta;
    int ran, got; /* read_tx began; it returned rec (want_rec) and meta */
    struct lk_error *err;
};

static int read_tx(struct store *s, void *arg) {
    struct read_args *a = arg;
    a->ran = 1;
    int r = scope(a->svc, a->caller, a->org, a->team, a->path, 0, a->perm, &a->sc, a->err);
    if (r == 0 && !a->want_rec)
        r = load_meta(a->svc, &a->sc, a->path, &a->meta, a->err);
    if (r != 0 || !a->want_rec) {
        a->got = r == 0;
        return r;
    }
    if (a->version < 0)
        return lk_error_set(a->err, LK_EINVAL, "version: a whole number >= 1");
    r = store_secret_get(s, a->sc.org.id, a->sc.team.id, a->path, a->version, &a->rec);
    if (r == LK_ENOTFOUND)
        return a->version == 0 ? lk_error_set(a->err, r, "no secret at %s", a->path)
                               : lk_error_set(a->err, r, "no version %lld of the secret at %s (gone, or never written)",
                                              (long long)a->version, a->path);
    if (r != 0)
        return lk_error_set(a->err, r, "could not read the secret");
    if (a->rec.value == NULL) {
        long long v = (long long)a->rec.version;
        secret_rec_done(&a->rec);
        return lk_error_set(a->err, LK_ENOTFOUND,
                            "the secret at %s was deleted (version %lld); earlier versions "
                            "can still be read with ?version=",
                            a->path, v);
    }
    r = load_meta(a->svc, &a->sc, a->path, &a->meta, a->err);
    if (r != 0)
        secret_rec_done(&a->rec);
    a->got = r == 0;
    return r;
}

/* read_tx in a read transaction; a transaction that could not begin or end
 * fails the read too (with what read_tx got released). */
static int read_snapshot(struct read_args *a) {
    int r = store_read_tx(a->svc->store, read_tx, a);
    if (r == 0 || (a->ran && !a->got))
        return r;
    if (a->got) {
        secret_rec_done(&a->rec);
        secret_meta_done(&a->meta);
    }
    return lk_error_set(a->err, r, "could not read the secret");
}

int secrets_metadata(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *path, struct secret_meta *ret, struct lk_error *err) {
    struct read_args a = {
        .svc = svc, .caller = caller, .org = org, .team = team, .path = path, .perm = "secrets.view", .err = err};
    int r = read_snapshot(&a);
    if (r == 0)
        *ret = a.meta;
    return r;
}

int secrets_read(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *path,
                 int64_t version, char **ret_value, size_t *ret_len, struct secret_meta *ret_meta,
                 struct lk_error *err) {
    struct read_args a = {.svc = svc,
                          .caller = caller,
                          .org = org,
                          .team = team,
                          .path = path,
                          .perm = "secrets.read",
                          .version = version,
                          .want_rec = 1,
                          .err = err};
    int r = read_snapshot(&a);
    if (r != 0)
        return r;
    /* Opened after the transaction, which need not wait for the AEAD. */
    char aad[STORE_SECRET_PATH_MAX + 3 * STORE_OWNER_ID_MAX];
    size_t aad_len = 0;
    uint8_t *pt = NULL;
    size_t len = 0;
    r = row_aad(a.sc.org.id, a.sc.team.id, path, a.rec.version, aad, sizeof(aad), &aad_len);
    if (r == 0)
        r = svc->seal != NULL ? seal_decrypt(svc->seal, aad, aad_len, a.rec.value, a.rec.value_len, &pt, &len)
                              : LK_ESEALED;
    long long v = (long long)a.rec.version;
    secret_rec_done(&a.rec);
    char *text = NULL;
    if (r == 0) {
        text = malloc(len + 1);
        if (text != NULL) {
            memcpy(text, pt, len);
            text[len] = '\0';
        }
        explicit_bzero(pt, len);
        free(pt);
    }
    if (r != 0 || text == NULL) {
        secret_meta_done(&a.meta);
        if (r == LK_EINTEGRITY)
            return lk_error_set(err, r,
                                "the stored value of %s (version %lld) failed its integrity check: it was altered, "
                                "or moved from another row",
                                path, v);
        if (r != 0)
            return lk_error_set(err, r, r == LK_ESEALED ? "latchkey is sealed" : "could not open the value");
        return lk_error_set(err, LK_ENOMEM, "out of memory");
    }
    *ret_value = text;
    *ret_len = len;
    *ret_meta = a.meta;
    return 0;
}

/* Appends name to the list unless it is its last entry. */
static int add_key(struct secret_path_list *l, const char *name, size_t len) {
    if (l->count > 0 && strlen(l->items[l->count - 1]) == len && memcmp(l->items[l->count - 1], name, len) == 0)
        return 0;
    char(*grown)[STORE_SECRET_PATH_MAX] = realloc(l->items, (l->count + 1) * sizeof(*l->items));
    if (grown == NULL)
        return LK_ENOMEM;
    l->items = grown;
    memcpy(l->items[l->count], name, len);
    l->items[l->count][len] = '\0';
    l->count++;
    return 0;
}

int secrets_list(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *folder,
                 struct secret_path_list *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = scope(svc, caller, org, team, folder, 1, "secrets.view", &sc, err);
    if (r != 0)
        return r;
    size_t flen = strlen(folder);
    if (flen > 0 && folder[flen - 1] != '/')
        return lk_error_set(err, LK_EINVAL, "path: a folder to list ends in '/'");
    struct secret_path_list out = {0};
    char after[STORE_SECRET_PATH_MAX] = "";
    /* Paths come in byte order, so the keys of one sub-folder come together. */
    for (;;) {
        struct secret_path_list page = {0};
        r = store_secret_paths(svc->store, sc.org.id, sc.team.id, folder, after, SECRETS_LIST_MAX, &page);
        for (size_t i = 0; r == 0 && i < page.count && out.count < SECRETS_LIST_MAX; i++) {
            const char *rest = page.items[i] + flen;
            const char *slash = strchr(rest, '/');
            r = add_key(&out, rest, slash != NULL ? (size_t)(slash - rest + 1) : strlen(rest));
        }
        size_t got = page.count;
        if (got > 0)
            str_copy(after, sizeof(after), page.items[got - 1]);
        secret_path_list_done(&page);
        if (r != 0 || got < SECRETS_LIST_MAX || out.count >= SECRETS_LIST_MAX)
            break;
    }
    if (r != 0) {
        secret_path_list_done(&out);
        return lk_error_set(err, r, "could not list the secrets");
    }
    *ret = out;
    return 0;
}

/* Seals rec's value again under the current key, if it is under an older
 * one: *ret_done 1 when rewritten, 0 when it was current already. */
static int rewrap_one(struct svc *svc, const struct secret_rec *rec, uint32_t current, int *ret_done) {
    uint32_t v = 0;
    *ret_done = 0;
    if (aead_key_version(rec->value, rec->value_len, &v) != 0)
        return LK_EINTEGRITY;
    if (v == current)
        return 0;
    char aad[STORE_SECRET_PATH_MAX + 3 * STORE_OWNER_ID_MAX];
    size_t aad_len = 0, plen = 0, elen = 0;
    uint8_t *pt = NULL, *env = NULL;
    int r = row_aad(rec->org_id, rec->team_id, rec->path, rec->version, aad, sizeof(aad), &aad_len);
    if (r == 0)
        r = seal_decrypt(svc->seal, aad, aad_len, rec->value, rec->value_len, &pt, &plen);
    if (r == 0)
        r = seal_encrypt(svc->seal, aad, aad_len, pt, plen, &env, &elen);
    if (pt != NULL) {
        explicit_bzero(pt, plen);
        free(pt);
    }
    if (r == 0)
        r = store_secret_rewrap(svc->store, rec->seq, rec->value, rec->value_len, env, elen, ret_done);
    free(env);
    return r;
}

int secrets_rewrap(struct svc *svc, const struct principal *caller, size_t *ret_rewrapped, size_t *ret_current,
                   struct lk_error *err) {
    int r = authz_require_root(caller, NULL, "re-encrypt the secrets", NULL, err);
    if (r != 0)
        return r;
    struct seal_status st;
    if (svc->seal == NULL)
        return lk_error_set(err, LK_ESEALED, "latchkey is sealed");
    seal_status(svc->seal, &st);
    if (st.sealed)
        return lk_error_set(err, LK_ESEALED, "latchkey is sealed");
    size_t done = 0, current = 0;
    int64_t after = 0;
    for (;;) {
        struct secret_list page = {0};
        r = store_secret_scan(svc->store, after, SECRETS_LIST_MAX, &page);
        for (size_t i = 0; r == 0 && i < page.count; i++) {
            int changed = 0;
            r = rewrap_one(svc, &page.items[i], (uint32_t)st.keyring_version, &changed);
            if (r == LK_EINTEGRITY)
                r = lk_error_set(err, r,
                                 "the stored value of %s (version %lld) failed its integrity check; nothing "
                                 "after it was re-encrypted",
                                 page.items[i].path, (long long)page.items[i].version);
            else if (r != 0)
                r = lk_error_set(err, r, "could not re-encrypt %s", page.items[i].path);
            done += (size_t)changed;
            current += (size_t)(r == 0 && !changed);
        }
        size_t got = page.count;
        if (got > 0)
            after = page.items[got - 1].seq;
        secret_list_done(&page);
        if (r != 0)
            return r;
        if (got < SECRETS_LIST_MAX)
            break;
    }
    *ret_rewrapped = done;
    *ret_current = current;
    return 0;
}
