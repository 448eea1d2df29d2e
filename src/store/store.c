/*
 * store.c - the store dispatcher: picks a backend from the DSN scheme and
 * forwards every store.h call through its struct store_ops.
 *
 * Checks what every backend would otherwise check alike (NULL arguments,
 * unterminated record fields, the list limit, transaction nesting), so the
 * backends behave the same. Never contains SQL or backend-specific logic,
 * and never logs: callers decide what to report.
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "store/dispatch.h"

#define STORE_LIST_LIMIT_MAX 1000

#define LIMIT_OK(limit) ((limit) >= 1 && (limit) <= STORE_LIST_LIMIT_MAX)

/* A list's release: each item's (LIST_DONE_EACH), then the array. */
#define LIST_DONE_EACH(type, item_done)                                                                                \
    void type##_done(struct type *list) {                                                                              \
        if (list == NULL)                                                                                              \
            return;                                                                                                    \
        for (size_t i = 0; i < list->count; i++)                                                                       \
            item_done(&list->items[i]);                                                                                \
        free(list->items);                                                                                             \
        list->items = NULL;                                                                                            \
        list->count = 0;                                                                                               \
    }
#define NO_ITEM_DONE_(item) ((void)(item))
#define LIST_DONE(type) LIST_DONE_EACH(type, NO_ITEM_DONE_)

/* Every backend, by DSN scheme. */
static const struct store_ops *const backends[] = {
    &store_sqlite_ops,
    &store_postgres_ops,
};

void token_rec_done(struct token_rec *rec) {
    if (rec == NULL)
        return;
    free(rec->description);
    rec->description = NULL;
    free(rec->policies);
    rec->policies = NULL;
    rec->npolicies = 0;
}

/* An owned copy of a policy list into *policies / *npolicies, freeing what
 * they held: 0, LK_EINVAL (nothing changed) or LK_ENOMEM. */
static int policies_set(char (**policies)[STORE_POLICY_NAME_MAX], size_t *npolicies, const char *const *names,
                        size_t n) {
    if ((names == NULL && n > 0) || n > STORE_POLICIES_MAX)
        return LK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (names[i] == NULL || names[i][0] == '\0' || strlen(names[i]) >= STORE_POLICY_NAME_MAX)
            return LK_EINVAL;
    char(*copy)[STORE_POLICY_NAME_MAX] = NULL;
    if (n > 0) {
        copy = calloc(n, sizeof(*copy));
        if (copy == NULL)
            return LK_ENOMEM;
        for (size_t i = 0; i < n; i++)
            memcpy(copy[i], names[i], strlen(names[i]) + 1);
    }
    free(*policies);
    *policies = copy;
    *npolicies = n;
    return 0;
}

int token_rec_set_policies(struct token_rec *rec, const char *const *names, size_t n) {
    if (rec == NULL)
        return LK_EINVAL;
    return policies_set(&rec->policies, &rec->npolicies, names, n);
}

LIST_DONE_EACH(token_list, token_rec_done)

/* 1 if buf[0..cap) holds a NUL-terminated string, non-empty when required. */
static int field_ok(const char *buf, size_t cap, int nonempty) {
    if (memchr(buf, '\0', cap) == NULL)
        return 0;
    return !nonempty || buf[0] != '\0';
}

/* 1 if names[0..n) of a list of at most max is well formed: each a
 * non-empty string within its row of width bytes. */
static int names_ok(const char *names, size_t width, size_t n, size_t max) {
    if (n > max || (names == NULL && n > 0))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!field_ok(names + i * width, width, 1))
            return 0;
    return 1;
}

static int rec_ok(const struct token_rec *rec) {
    return field_ok(rec->id, sizeof(rec->id), 1) && field_ok(rec->owner_type, sizeof(rec->owner_type), 1) &&
           field_ok(rec->owner_id, sizeof(rec->owner_id), 1) && field_ok(rec->org_id, sizeof(rec->org_id), 0) &&
           field_ok(rec->created_by, sizeof(rec->created_by), 0) &&
           names_ok(rec->policies != NULL ? rec->policies[0] : NULL, STORE_POLICY_NAME_MAX, rec->npolicies,
                    STORE_POLICIES_MAX);
}

int store_open(const char *dsn, struct store **ret) {
    if (dsn == NULL || ret == NULL)
        return LK_EINVAL;
    const char *colon = strchr(dsn, ':');
    if (colon == NULL || colon == dsn)
        return LK_EINVAL;
    size_t len = (size_t)(colon - dsn);
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        const char *scheme = backends[i]->scheme;
        if (strlen(scheme) == len && memcmp(scheme, dsn, len) == 0)
            return backends[i]->open(colon + 1, ret);
    }
    return LK_EINVAL;
}

void store_close(struct store *s) {
    if (s == NULL)
        return;
    s->ops->close(s);
}

int store_migrate(struct store *s, int *ret_version) {
    if (s == NULL)
        return LK_EINVAL;
    /* Migrations run in transactions of their own. */
    if (s->in_tx)
        return LK_EINTERNAL;
    return s->ops->migrate(s, ret_version);
}

int store_copy(struct store *from, struct store *to, void (*progress)(const char *table, int64_t rows, void *arg),
               void *arg) {
    if (from == NULL || to == NULL)
        return LK_EINVAL;
    return to->ops->copy_from(to, from, progress, arg);
}

int store_token_insert(struct store *s, const struct token_rec *rec) {
    STORE_WRITE(rec == NULL || !rec_ok(rec), token_insert(s, rec));
}

int store_token_get(struct store *s, const char *id, struct token_rec *ret) {
    STORE_READ(id == NULL || ret == NULL, token_get(s, id, ret));
}

int store_token_list(struct store *s, const char *owner_type, const char *owner_id, int64_t after_seq, int limit,
                     struct token_list *ret) {
    if (s == NULL || owner_type == NULL || owner_id == NULL || ret == NULL)
        return LK_EINVAL;
    if (!LIMIT_OK(limit))
        return LK_EINVAL;
    int rb = dispatch_read_begin(s);
    if (rb != 0)
        return rb;
    return s->ops->token_list(s, owner_type, owner_id, after_seq, limit, ret);
}

int store_token_set_expiry(struct store *s, const char *id, int64_t expires_at) {
    STORE_WRITE(id == NULL || expires_at < 0, token_set_expiry(s, id, expires_at));
}

int store_token_retire(struct store *s, const char *id, const char *replaced_by, int64_t expires_at) {
    STORE_WRITE(id == NULL || replaced_by == NULL || replaced_by[0] == '\0' || expires_at < 0,
                token_retire(s, id, replaced_by, expires_at));
}

int store_token_delete_expired(struct store *s, int64_t cutoff, size_t *ret_count) {
    STORE_WRITE(0, token_delete_expired(s, cutoff, ret_count));
}

int store_token_delete(struct store *s, const char *id) {
    STORE_WRITE(id == NULL, token_delete(s, id));
}

int store_token_delete_owner(struct store *s, const char *owner_type, const char *owner_id, const char *keep_id,
                             size_t *ret_count) {
    STORE_WRITE(owner_type == NULL || owner_id == NULL,
                token_delete_owner(s, owner_type, owner_id, keep_id, ret_count));
}

int store_token_delete_owner_prefix(struct store *s, const char *owner_type, const char *owner_id,
                                    const char *id_prefix, size_t *ret_count) {
    STORE_WRITE(owner_type == NULL || owner_id == NULL || id_prefix == NULL || id_prefix[0] == '\0',
                token_delete_owner_prefix(s, owner_type, owner_id, id_prefix, ret_count));
}

int store_token_touch(struct store *s, const struct token_touch *touches, size_t n) {
    if (s == NULL || (touches == NULL && n > 0))
        return LK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (touches[i].id == NULL)
            return LK_EINVAL;
    if (n == 0)
        return 0;
    if (s->read_tx)
        return LK_EINTERNAL;
    return s->ops->token_touch(s, touches, n);
}

/* --- audit trail ----------------------------------------------------------- */

LIST_DONE(audit_list)

int store_audit_head(struct store *s, int64_t *ret_seq, char ret_hash[AUDIT_HASH_HEX]) {
    STORE_READ(ret_seq == NULL || ret_hash == NULL, audit_head(s, ret_seq, ret_hash));
}

int store_sync(struct store *s) {
    STORE_READ(0, sync(s));
}

int store_background_writes(struct store *s, int enabled) {
    STORE_READ(0, background_writes(s, enabled));
}

int store_checkpoint(struct store *s) {
    STORE_READ(s->in_tx, checkpoint(s));
}

int store_checkpoint_due(struct store *s) {
    return s != NULL && s->ops->checkpoint_due(s);
}

int store_checkpoint_finish(struct store *s) {
    STORE_READ(s->in_tx, checkpoint_finish(s));
}

static int audit_sealed(const struct audit_rec *rec) {
    return rec != NULL && rec->seq >= 1 && memchr(rec->hash, '\0', sizeof(rec->hash)) != NULL &&
           strlen(rec->hash) == AUDIT_HASH_HEX - 1;
}

int store_audit_insert_many(struct store *s, const struct audit_rec *const *recs, size_t n) {
    if (s == NULL || recs == NULL)
        return LK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!audit_sealed(recs[i]))
            return LK_EINVAL;
    if (n == 0)
        return 0;
    int wr = dispatch_write_begin(s);
    if (wr != 0)
        return wr;
    return s->ops->audit_insert(s, recs, n);
}

int store_audit_insert(struct store *s, const struct audit_rec *rec) {
    return store_audit_insert_many(s, &rec, 1);
}

int store_audit_list(struct store *s, const struct audit_filter *f, struct audit_list *ret) {
    if (s == NULL || f == NULL || ret == NULL)
        return LK_EINVAL;
    if (f->limit < 1 || f->limit > STORE_LIST_LIMIT_MAX)
        return LK_EINVAL;
    int rb = dispatch_read_begin(s);
    if (rb != 0)
        return rb;
    return s->ops->audit_list(s, f, ret);
}

/* --- audit checkpoints ---------------------------------------------------- */

LIST_DONE(audit_checkpoint_list)

/* s holds exactly n characters of lower-case hex (and its NUL). */
static int hex_field_ok(const char *s, size_t cap, size_t n) {
    if (memchr(s, '\0', cap) == NULL || strlen(s) != n)
        return 0;
    return strspn(s, "0123456789abcdef") == n;
}

int store_audit_checkpoint_insert(struct store *s, const struct audit_checkpoint *cp) {
    STORE_LOG_WRITE(cp == NULL || cp->seq < 1 || !hex_field_ok(cp->hash, sizeof(cp->hash), AUDIT_HASH_HEX - 1) ||
                        !hex_field_ok(cp->mac, sizeof(cp->mac), AUDIT_HASH_HEX - 1),
                    audit_checkpoint_insert(s, cp));
}

int store_audit_checkpoint_list(struct store *s, int64_t after_seq, int limit, struct audit_checkpoint_list *ret) {
    STORE_READ(after_seq < 0 || !LIMIT_OK(limit) || ret == NULL, audit_checkpoint_list(s, after_seq, limit, ret));
}

int store_meta_get(struct store *s, const char *key, char **ret) {
    STORE_READ(key == NULL || ret == NULL, meta_get(s, key, ret));
}

int store_meta_set(struct store *s, const char *key, const char *value) {
    STORE_WRITE(key == NULL || value == NULL, meta_set(s, key, value));
}

int store_meta_delete(struct store *s, const char *key) {
    STORE_WRITE(key == NULL, meta_delete(s, key));
}

/* --- organisations and users ---------------------------------------------- */

LIST_DONE(org_list)

void user_rec_done(struct user_rec *rec) {
    if (rec == NULL)
        return;
    free(rec->password_hash);
    rec->password_hash = NULL;
}

LIST_DONE_EACH(user_list, user_rec_done)

/* The numeric ranges are checked here too, so an out-of-range value is
 * LK_EINVAL in every backend rather than whatever its CHECK failure maps to. */
static int org_ok(const struct org_rec *o) {
    return field_ok(o->id, sizeof(o->id), 1) && field_ok(o->name, sizeof(o->name), 1) &&
           field_ok(o->display_name, sizeof(o->display_name), 0) && field_ok(o->status, sizeof(o->status), 1) &&
           o->token_expiry_hours >= 1;
}

static int user_ok(const struct user_rec *u) {
    return field_ok(u->id, sizeof(u->id), 1) && field_ok(u->org_id, sizeof(u->org_id), 1) &&
           field_ok(u->username, sizeof(u->username), 1) && field_ok(u->email, sizeof(u->email), 0) &&
           field_ok(u->role, sizeof(u->role), 1) && u->token_expiry_hours >= 0;
}

int store_org_insert(struct store *s, const struct org_rec *rec) {
    STORE_WRITE(rec == NULL || !org_ok(rec), org_insert(s, rec));
}

int store_org_get(struct store *s, const char *id, struct org_rec *ret) {
    STORE_READ(id == NULL || ret == NULL, org_get(s, id, NULL, ret));
}

int store_org_list(struct store *s, int64_t after_seq, int limit, struct org_list *ret) {
    STORE_READ(ret == NULL || !LIMIT_OK(limit), org_list(s, after_seq, limit, ret));
}

int store_org_update(struct store *s, const struct org_rec *rec) {
    STORE_WRITE(rec == NULL || !org_ok(rec), org_update(s, rec));
}

int store_org_delete(struct store *s, const char *id) {
    STORE_WRITE(id == NULL, org_delete(s, id));
}

int store_user_insert(struct store *s, const struct user_rec *rec) {
    STORE_WRITE(rec == NULL || !user_ok(rec), user_insert(s, rec));
}

int store_user_get(struct store *s, const char *id, struct user_rec *ret) {
    STORE_READ(id == NULL || ret == NULL, user_get(s, id, NULL, NULL, ret));
}

int store_user_get_by_name(struct store *s, const char *org_id, const char *username, struct user_rec *ret) {
    STORE_READ(org_id == NULL || username == NULL || ret == NULL, user_get(s, NULL, org_id, username, ret));
}

int store_user_list(struct store *s, const char *org_id, int64_t after_seq, int limit, struct user_list *ret) {
    STORE_READ(org_id == NULL || ret == NULL || !LIMIT_OK(limit), user_list(s, org_id, after_seq, limit, ret));
}

int store_user_update(struct store *s, const struct user_rec *rec) {
    STORE_WRITE(rec == NULL || !user_ok(rec), user_update(s, rec));
}

int store_user_delete(struct store *s, const char *id) {
    STORE_WRITE(id == NULL, user_delete(s, id));
}

/* --- teams ------------------------------------------------------------------ */

LIST_DONE(team_list)

LIST_DONE(team_member_list)

static int team_ok(const struct team_rec *t) {
    return field_ok(t->id, sizeof(t->id), 1) && field_ok(t->org_id, sizeof(t->org_id), 1) &&
           field_ok(t->name, sizeof(t->name), 1) && field_ok(t->description, sizeof(t->description), 0);
}

int store_team_insert(struct store *s, const struct team_rec *rec) {
    STORE_WRITE(rec == NULL || !team_ok(rec), team_insert(s, rec));
}

int store_team_get_by_id(struct store *s, const char *id, struct team_rec *ret) {
    STORE_READ(id == NULL || ret == NULL, team_get_by_id(s, id, ret));
}

int store_team_list(struct store *s, const char *org_id, int64_t after_seq, int limit, struct team_list *ret) {
    STORE_READ(org_id == NULL || ret == NULL || !LIMIT_OK(limit), team_list(s, org_id, after_seq, limit, ret));
}

int store_team_update(struct store *s, const struct team_rec *rec) {
    STORE_WRITE(rec == NULL || !team_ok(rec), team_update(s, rec));
}

int store_team_delete(struct store *s, const char *id) {
    STORE_WRITE(id == NULL, team_delete(s, id));
}

int store_team_member_put(struct store *s, const char *team_id, const char *user_id, const char *role, int64_t now) {
    STORE_WRITE(team_id == NULL || user_id == NULL || role == NULL, team_member_put(s, team_id, user_id, role, now));
}

int store_team_member_delete(struct store *s, const char *team_id, const char *user_id) {
    STORE_WRITE(team_id == NULL || user_id == NULL, team_member_delete(s, team_id, user_id));
}

int store_team_member_roles(struct store *s, const char *org_id, const char *user_id,
                            char (*ret_roles)[STORE_STATUS_MAX], size_t cap, size_t *ret_count) {
    STORE_READ(org_id == NULL || user_id == NULL || (ret_roles == NULL && cap > 0) || ret_count == NULL,
               team_member_roles(s, org_id, user_id, ret_roles, cap, ret_count));
}

LIST_DONE(team_scope_list)

int store_team_scopes_for_member(struct store *s, const char *org_id, const char *user_id, const char *role,
                                 const char *after, int limit, struct team_scope_list *ret) {
    if (s == NULL || org_id == NULL || user_id == NULL || role == NULL || ret == NULL || limit < 1 ||
        limit > STORE_LIST_LIMIT_MAX)
        return LK_EINVAL;
    int rb = dispatch_read_begin(s);
    if (rb != 0)
        return rb;
    return s->ops->team_scopes_for_member(s, org_id, user_id, role, after != NULL ? after : "", limit, ret);
}

int store_team_member_list(struct store *s, const char *team_id, struct team_member_list *ret) {
    STORE_READ(team_id == NULL || ret == NULL, team_member_list(s, team_id, ret));
}

/* --- service accounts ------------------------------------------------------- */

LIST_DONE(sa_list)

static int sa_ok(const struct sa_rec *a) {
    return field_ok(a->id, sizeof(a->id), 1) && field_ok(a->org_id, sizeof(a->org_id), 1) &&
           field_ok(a->team_id, sizeof(a->team_id), 1) && field_ok(a->name, sizeof(a->name), 1) &&
           field_ok(a->description, sizeof(a->description), 0) &&
           names_ok(a->roles[0], sizeof(a->roles[0]), a->nroles, STORE_ROLES_MAX);
}

int store_sa_insert(struct store *s, const struct sa_rec *rec) {
    STORE_WRITE(rec == NULL || !sa_ok(rec), sa_insert(s, rec));
}

int store_sa_get(struct store *s, const char *id, struct sa_rec *ret) {
    STORE_READ(id == NULL || ret == NULL, sa_get(s, id, NULL, NULL, ret));
}

int store_sa_get_by_name(struct store *s, const char *team_id, const char *name, struct sa_rec *ret) {
    STORE_READ(team_id == NULL || name == NULL || ret == NULL, sa_get(s, NULL, team_id, name, ret));
}

int store_sa_list(struct store *s, const char *team_id, int64_t after_seq, int limit, struct sa_list *ret) {
    STORE_READ(team_id == NULL || ret == NULL || !LIMIT_OK(limit), sa_list(s, team_id, after_seq, limit, ret));
}

int store_sa_update(struct store *s, const struct sa_rec *rec) {
    STORE_WRITE(rec == NULL || !sa_ok(rec), sa_update(s, rec));
}

int store_sa_delete(struct store *s, const char *id) {
    STORE_WRITE(id == NULL, sa_delete(s, id));
}

/* --- custom roles and groups ---------------------------------------------- */

LIST_DONE(role_list)

LIST_DONE(group_list)

int store_role_insert(struct store *s, const struct role_rec *r) {
    if (s == NULL || r == NULL || !field_ok(r->org_id, sizeof(r->org_id), 1) ||
        !field_ok(r->name, sizeof(r->name), 1) ||
        !names_ok(r->permissions[0], sizeof(r->permissions[0]), r->npermissions, STORE_PERMISSIONS_MAX))
        return LK_EINVAL;
    STORE_WRITE(0, role_insert(s, r));
}

int store_role_get(struct store *s, const char *org_id, const char *name, struct role_rec *ret) {
    STORE_READ(org_id == NULL || name == NULL || ret == NULL, role_get(s, org_id, name, ret));
}

int store_role_list(struct store *s, const char *org_id, struct role_list *ret) {
    STORE_READ(org_id == NULL || ret == NULL, role_list(s, org_id, ret));
}

int store_role_delete(struct store *s, const char *org_id, const char *name) {
    STORE_WRITE(org_id == NULL || name == NULL, role_delete(s, org_id, name));
}

int store_group_insert(struct store *s, const struct group_rec *g) {
    if (s == NULL || g == NULL || !field_ok(g->id, sizeof(g->id), 1) || !field_ok(g->org_id, sizeof(g->org_id), 1) ||
        !field_ok(g->name, sizeof(g->name), 1) || !field_ok(g->description, sizeof(g->description), 0) ||
        !names_ok(g->roles[0], sizeof(g->roles[0]), g->nroles, STORE_ROLES_MAX))
        return LK_EINVAL;
    STORE_WRITE(0, group_insert(s, g));
}

int store_group_get(struct store *s, const char *org_id, const char *name, struct group_rec *ret) {
    STORE_READ(org_id == NULL || name == NULL || ret == NULL, group_get(s, org_id, name, ret));
}

int store_group_list(struct store *s, const char *org_id, struct group_list *ret) {
    STORE_READ(org_id == NULL || ret == NULL, group_list(s, org_id, NULL, ret));
}

int store_group_list_for_user(struct store *s, const char *user_id, struct group_list *ret) {
    STORE_READ(user_id == NULL || ret == NULL, group_list(s, NULL, user_id, ret));
}

int store_group_delete(struct store *s, const char *id) {
    STORE_WRITE(id == NULL, group_delete(s, id));
}

int store_group_member_put(struct store *s, const char *group_id, const char *user_id, int64_t now) {
    STORE_WRITE(group_id == NULL || user_id == NULL, group_member_put(s, group_id, user_id, now));
}

int store_group_member_delete(struct store *s, const char *group_id, const char *user_id) {
    STORE_WRITE(group_id == NULL || user_id == NULL, group_member_delete(s, group_id, user_id));
}

LIST_DONE(name_list)

int store_group_member_names(struct store *s, const char *group_id, const char *after, int limit,
                             struct name_list *ret) {
    STORE_READ(group_id == NULL || ret == NULL || !LIMIT_OK(limit),
               group_member_names(s, group_id, after != NULL ? after : "", limit, ret));
}

/* --- expiry notices ---------------------------------------------------------- */

LIST_DONE(notice_list)

LIST_DONE(notice_candidate_list)

/* The outbox's states and channels (0006_notices.sql CHECKs), checked here
 * so a bad value is LK_EINVAL in every backend. */
static int one_of(const char *v, const char *const *set) {
    for (; *set != NULL; set++)
        if (strcmp(v, *set) == 0)
            return 1;
    return 0;
}

static int notice_ok(const struct notice_rec *n) {
    static const char *const states[] = {"pending", "delivered", "failed", "skipped", "cancelled", NULL};
    static const char *const channels[] = {"email", "webhook", NULL};
    if (memchr(n->status, '\0', sizeof(n->status)) == NULL || memchr(n->channel, '\0', sizeof(n->channel)) == NULL ||
        !one_of(n->status, states) || !one_of(n->channel, channels))
        return 0;
    return field_ok(n->id, sizeof(n->id), 1) && field_ok(n->token_id, sizeof(n->token_id), 1) &&
           field_ok(n->org_id, sizeof(n->org_id), 0) && field_ok(n->owner_type, sizeof(n->owner_type), 1) &&
           field_ok(n->owner_id, sizeof(n->owner_id), 1) && field_ok(n->channel, sizeof(n->channel), 1) &&
           field_ok(n->recipient, sizeof(n->recipient), 0) &&
           (strcmp(n->channel, "email") == 0 || n->recipient[0] == '\0') && field_ok(n->status, sizeof(n->status), 1) &&
           field_ok(n->last_error, sizeof(n->last_error), 0) && n->days_before >= 1 && n->attempts >= 0;
}

int store_notice_candidates(struct store *s, int64_t now, int64_t horizon, int64_t after_seq, int limit,
                            struct notice_candidate_list *ret) {
    STORE_READ(ret == NULL || !LIMIT_OK(limit), notice_candidates(s, now, horizon, after_seq, limit, ret));
}

int store_notice_insert(struct store *s, const struct notice_rec *rec, int *ret_inserted) {
    STORE_READ(rec == NULL || !notice_ok(rec), notice_insert(s, rec, ret_inserted));
}

int store_notice_supersede(struct store *s, const char *token_id, int days, int64_t now) {
    STORE_READ(token_id == NULL || days < 1, notice_supersede(s, token_id, days, now));
}

int store_notice_due(struct store *s, int64_t now, const char *channel, int limit, struct notice_list *ret) {
    STORE_READ(ret == NULL || !LIMIT_OK(limit), notice_due(s, now, channel, limit, ret));
}

int store_notice_claim(struct store *s, const char *id, int64_t now, int64_t lease_until, int *ret_claimed) {
    STORE_READ(id == NULL || ret_claimed == NULL || lease_until < now,
               notice_claim(s, id, now, lease_until, ret_claimed));
}

int store_notice_finish(struct store *s, const struct notice_rec *rec) {
    STORE_READ(rec == NULL || !notice_ok(rec), notice_finish(s, rec));
}

int store_notice_list(struct store *s, const char *org_id, const char *status, int64_t after_seq, int limit,
                      struct notice_list *ret) {
    STORE_READ(ret == NULL || !LIMIT_OK(limit), notice_list(s, org_id, status, after_seq, limit, ret));
}

int store_notice_purge(struct store *s, int64_t cutoff, size_t *ret_count) {
    STORE_READ(0, notice_purge(s, cutoff, ret_count));
}

/* A cancellation's reason fits last_error (STORE_NOTICE_ERROR_MAX). */
static int reason_ok(const char *reason) {
    return reason != NULL && strnlen(reason, STORE_NOTICE_ERROR_MAX) < STORE_NOTICE_ERROR_MAX;
}

int store_notice_cancel_token(struct store *s, const char *token_id, const char *reason, int64_t now,
                              size_t *ret_count) {
    STORE_WRITE(token_id == NULL || !reason_ok(reason), notice_cancel_token(s, token_id, reason, now, ret_count));
}

int store_notice_cancel_owner(struct store *s, const char *owner_type, const char *owner_id, const char *id_prefix,
                              const char *reason, int64_t now, size_t *ret_count) {
    STORE_WRITE(owner_type == NULL || owner_id == NULL || !reason_ok(reason),
                notice_cancel_owner(s, owner_type, owner_id, id_prefix, reason, now, ret_count));
}

int store_notice_cancel_org(struct store *s, const char *org_id, const char *reason, int64_t now, size_t *ret_count) {
    /* "" would name every root token's notices. */
    STORE_WRITE(org_id == NULL || org_id[0] == '\0' || !reason_ok(reason),
                notice_cancel_org(s, org_id, reason, now, ret_count));
}

int store_notice_cancel_team(struct store *s, const char *team_id, const char *reason, int64_t now, size_t *ret_count) {
    STORE_WRITE(team_id == NULL || !reason_ok(reason), notice_cancel_team(s, team_id, reason, now, ret_count));
}

int store_notice_cancel_expired(struct store *s, int64_t cutoff, const char *reason, int64_t now, size_t *ret_count) {
    STORE_WRITE(!reason_ok(reason), notice_cancel_expired(s, cutoff, reason, now, ret_count));
}

int store_notice_retire(struct store *s, const char *token_id, int64_t now) {
    STORE_WRITE(token_id == NULL, notice_retire(s, token_id, now));
}

int store_notice_forget_token(struct store *s, const char *token_id, int64_t expires_at, size_t *ret_count) {
    STORE_WRITE(token_id == NULL, notice_forget_token(s, token_id, expires_at, ret_count));
}

/* --- the Vault door's token attributes ---------------------------------------- */

void vault_token_rec_done(struct vault_token_rec *rec) {
    if (rec == NULL)
        return;
    free(rec->meta);
    rec->meta = NULL;
    free(rec->policies);
    rec->policies = NULL;
    rec->npolicies = 0;
}

int vault_token_rec_set_policies(struct vault_token_rec *rec, const char *const *names, size_t n) {
    if (rec == NULL)
        return LK_EINVAL;
    return policies_set(&rec->policies, &rec->npolicies, names, n);
}

static int vault_rec_ok(const struct vault_token_rec *r) {
    return field_ok(r->token_id, sizeof(r->token_id), 1) && field_ok(r->parent_id, sizeof(r->parent_id), 0) &&
           field_ok(r->display_name, sizeof(r->display_name), 0) &&
           (r->meta == NULL || strlen(r->meta) <= STORE_VAULT_META_MAX) &&
           names_ok(r->policies != NULL ? r->policies[0] : NULL, STORE_POLICY_NAME_MAX, r->npolicies,
                    STORE_POLICIES_MAX) &&
           (r->acl == 0 || r->acl == 1) && (r->renewable == 0 || r->renewable == 1) && r->creation_ttl >= 0 &&
           r->explicit_max_ttl >= 0 && r->period >= 0 && r->num_uses >= 0 && r->uses_left >= 0 &&
           r->uses_left <= r->num_uses && r->last_renewal_at >= 0;
}

int store_vault_token_insert(struct store *s, const struct vault_token_rec *rec) {
    STORE_WRITE(rec == NULL || !vault_rec_ok(rec), vault_token_insert(s, rec));
}

int store_vault_token_get(struct store *s, const char *token_id, struct vault_token_rec *ret) {
    STORE_READ(token_id == NULL || ret == NULL, vault_token_get(s, token_id, ret));
}

int store_vault_token_use(struct store *s, const char *token_id, int64_t *ret_left) {
    STORE_WRITE(token_id == NULL || ret_left == NULL, vault_token_use(s, token_id, ret_left));
}

int store_vault_token_subtree(struct store *s, const char *token_id, int limit, struct name_list *ret) {
    STORE_READ(token_id == NULL || ret == NULL || !LIMIT_OK(limit), vault_token_subtree(s, token_id, limit, ret));
}

int store_vault_token_orphan_children(struct store *s, const char *token_id, size_t *ret_count) {
    STORE_WRITE(token_id == NULL || token_id[0] == '\0', vault_token_orphan_children(s, token_id, ret_count));
}

int store_vault_token_renewed(struct store *s, const char *token_id, int64_t at) {
    STORE_WRITE(token_id == NULL || at < 0, vault_token_renewed(s, token_id, at));
}

/* --- secrets ------------------------------------------------------------------ */

void secret_rec_done(struct secret_rec *rec) {
    if (rec == NULL)
        return;
    free(rec->value);
    rec->value = NULL;
    rec->value_len = 0;
}

LIST_DONE_EACH(secret_list, secret_rec_done)

LIST_DONE(secret_path_list)

int dispatch_secret_key_ok(const char *org_id, const char *team_id, const char *path) {
    return org_id != NULL && org_id[0] != '\0' && team_id != NULL && path != NULL && path[0] != '\0' &&
           strlen(path) < STORE_SECRET_PATH_MAX && strlen(org_id) < STORE_OWNER_ID_MAX &&
           strlen(team_id) < STORE_OWNER_ID_MAX;
}

static int secret_ok(const struct secret_rec *r) {
    return field_ok(r->org_id, sizeof(r->org_id), 1) && field_ok(r->team_id, sizeof(r->team_id), 0) &&
           field_ok(r->path, sizeof(r->path), 1) && field_ok(r->created_by, sizeof(r->created_by), 1) &&
           r->version >= 1 && (r->value != NULL || r->value_len == 0) && r->value_len <= STORE_SECRET_VALUE_MAX;
}

int store_secret_latest(struct store *s, const char *org_id, const char *team_id, const char *path,
                        int64_t *ret_version) {
    STORE_READ(!dispatch_secret_key_ok(org_id, team_id, path) || ret_version == NULL,
               secret_latest(s, org_id, team_id, path, ret_version));
}

int store_secret_insert(struct store *s, const struct secret_rec *rec) {
    STORE_WRITE(rec == NULL || !secret_ok(rec), secret_insert(s, rec));
}

int store_secret_prune(struct store *s, const char *org_id, const char *team_id, const char *path, int64_t keep_from,
                       size_t *ret_count) {
    STORE_WRITE(!dispatch_secret_key_ok(org_id, team_id, path),
                secret_prune(s, org_id, team_id, path, keep_from, ret_count));
}

int store_secret_paths(struct store *s, const char *org_id, const char *team_id, const char *prefix, const char *after,
                       int limit, struct secret_path_list *ret) {
    STORE_READ(org_id == NULL || org_id[0] == '\0' || team_id == NULL || prefix == NULL || after == NULL ||
                   ret == NULL || !LIMIT_OK(limit),
               secret_paths(s, org_id, team_id, prefix, after, limit, ret));
}

int store_secret_scan(struct store *s, int64_t after_seq, int limit, struct secret_list *ret) {
    STORE_READ(ret == NULL || !LIMIT_OK(limit), secret_scan(s, after_seq, limit, ret));
}

int store_secret_rewrap(struct store *s, int64_t seq, const uint8_t *old, size_t old_len, const uint8_t *value,
                        size_t len, int *ret_changed) {
    STORE_WRITE(old == NULL || value == NULL || len == 0 || len > STORE_SECRET_VALUE_MAX || ret_changed == NULL,
                secret_rewrap(s, seq, old, old_len, value, len, ret_changed));
}

/* --- Vault ACL policies -------------------------------------------------------- */

void vault_policy_rec_done(struct vault_policy_rec *rec) {
    if (rec == NULL)
        return;
    free(rec->text);
    rec->text = NULL;
}

static int vault_policy_ok(const struct vault_policy_rec *r) {
    return field_ok(r->org_id, sizeof(r->org_id), 1) && field_ok(r->name, sizeof(r->name), 1) &&
           field_ok(r->updated_by, sizeof(r->updated_by), 1) && r->text != NULL &&
           strlen(r->text) <= STORE_VAULT_POLICY_TEXT_MAX;
}

int store_vault_policy_put(struct store *s, const struct vault_policy_rec *rec) {
    STORE_WRITE(rec == NULL || !vault_policy_ok(rec), vault_policy_put(s, rec));
}

int store_vault_policy_get(struct store *s, const char *org_id, const char *name, struct vault_policy_rec *ret) {
    STORE_READ(org_id == NULL || name == NULL || ret == NULL, vault_policy_get(s, org_id, name, ret));
}

int store_vault_policy_names(struct store *s, const char *org_id, const char *after, int limit, struct name_list *ret) {
    STORE_READ(org_id == NULL || ret == NULL || !LIMIT_OK(limit),
               vault_policy_names(s, org_id, after != NULL ? after : "", limit, ret));
}

int store_vault_policy_delete(struct store *s, const char *org_id, const char *name) {
    STORE_WRITE(org_id == NULL || name == NULL, vault_policy_delete(s, org_id, name));
}

/* --- workloads ------------------------------------------------------------------ */

LIST_DONE(workload_list)

LIST_DONE(workload_binding_list)

static int workload_ok(const struct workload_rec *w) {
    return field_ok(w->id, sizeof(w->id), 1) && field_ok(w->org_id, sizeof(w->org_id), 1) &&
           field_ok(w->team_id, sizeof(w->team_id), 1) && field_ok(w->name, sizeof(w->name), 1) &&
           field_ok(w->description, sizeof(w->description), 0) && field_ok(w->created_by, sizeof(w->created_by), 1);
}

int store_workload_insert(struct store *s, const struct workload_rec *rec) {
    STORE_WRITE(rec == NULL || !workload_ok(rec), workload_insert(s, rec));
}

int store_workload_get(struct store *s, const char *team_id, const char *name, struct workload_rec *ret) {
    STORE_READ(team_id == NULL || name == NULL || ret == NULL, workload_get(s, team_id, name, ret));
}

int store_workload_list(struct store *s, const char *team_id, int64_t after_seq, int limit, struct workload_list *ret) {
    STORE_READ(team_id == NULL || ret == NULL || !LIMIT_OK(limit), workload_list(s, team_id, after_seq, limit, ret));
}

int store_workload_update(struct store *s, const struct workload_rec *rec) {
    STORE_WRITE(rec == NULL || !workload_ok(rec), workload_update(s, rec));
}

int store_workload_delete(struct store *s, const char *id) {
    STORE_WRITE(id == NULL, workload_delete(s, id));
}

int store_workload_bind(struct store *s, const char *workload_id, const char *sa_id, const char *created_by,
                        int64_t now, int *ret_created) {
    STORE_WRITE(workload_id == NULL || sa_id == NULL || created_by == NULL || created_by[0] == '\0' ||
                    strlen(created_by) >= STORE_PRINCIPAL_MAX,
                workload_bind(s, workload_id, sa_id, created_by, now, ret_created));
}

int store_workload_unbind(struct store *s, const char *workload_id, const char *sa_id, int *ret_deleted) {
    STORE_WRITE(workload_id == NULL || sa_id == NULL, workload_unbind(s, workload_id, sa_id, ret_deleted));
}

int store_workload_bound(struct store *s, const char *workload_id, const char *sa_id, int *ret_bound) {
    STORE_READ(workload_id == NULL || sa_id == NULL || ret_bound == NULL,
               workload_bound(s, workload_id, sa_id, ret_bound));
}

int store_workload_bindings(struct store *s, const char *workload_id, const char *sa_id, int64_t after_seq, int limit,
                            struct workload_binding_list *ret) {
    STORE_READ((workload_id == NULL) == (sa_id == NULL) || ret == NULL || !LIMIT_OK(limit),
               workload_bindings(s, workload_id, sa_id, after_seq, limit, ret));
}

/* --- trusted foreign issuers ---------------------------------------------------- */

void trusted_issuer_rec_done(struct trusted_issuer_rec *rec) {
    if (rec == NULL)
        return;
    free(rec->jwks);
    free(rec->rules);
    rec->jwks = rec->rules = NULL;
}

LIST_DONE_EACH(trusted_issuer_list, trusted_issuer_rec_done)

static int trusted_issuer_ok(const struct trusted_issuer_rec *t) {
    return field_ok(t->id, sizeof(t->id), 1) && field_ok(t->org_id, sizeof(t->org_id), 1) &&
           field_ok(t->name, sizeof(t->name), 1) && field_ok(t->issuer, sizeof(t->issuer), 1) && t->jwks != NULL &&
           strlen(t->jwks) < STORE_TRUSTED_JWKS_MAX && field_ok(t->jwks_uri, sizeof(t->jwks_uri), 0) &&
           (t->jwks[0] == '\0') != (t->jwks_uri[0] == '\0') && field_ok(t->audience, sizeof(t->audience), 1) &&
           t->rules != NULL && t->rules[0] != '\0' && strlen(t->rules) < STORE_TRUSTED_RULES_MAX &&
           field_ok(t->created_by, sizeof(t->created_by), 1);
}

int store_trusted_issuer_insert(struct store *s, const struct trusted_issuer_rec *rec) {
    STORE_WRITE(rec == NULL || !trusted_issuer_ok(rec), trusted_issuer_insert(s, rec));
}

int store_trusted_issuer_get(struct store *s, const char *org_id, const char *name, struct trusted_issuer_rec *ret) {
    STORE_READ(org_id == NULL || name == NULL || ret == NULL, trusted_issuer_get(s, org_id, name, ret));
}

int store_trusted_issuer_by_issuer(struct store *s, const char *org_id, const char *issuer,
                                   struct trusted_issuer_rec *ret) {
    STORE_READ(org_id == NULL || issuer == NULL || ret == NULL, trusted_issuer_by_issuer(s, org_id, issuer, ret));
}

int store_trusted_issuer_list(struct store *s, const char *org_id, int64_t after_seq, int limit,
                              struct trusted_issuer_list *ret) {
    STORE_READ(org_id == NULL || ret == NULL || !LIMIT_OK(limit),
               trusted_issuer_list(s, org_id, after_seq, limit, ret));
}

int store_trusted_issuer_update(struct store *s, const struct trusted_issuer_rec *rec) {
    STORE_WRITE(rec == NULL || !trusted_issuer_ok(rec), trusted_issuer_update(s, rec));
}

int store_trusted_issuer_delete(struct store *s, const char *id) {
    STORE_WRITE(id == NULL, trusted_issuer_delete(s, id));
}

/* --- identity-token signing keys ----------------------------------------------- */

void oidc_key_rec_done(struct oidc_key_rec *rec) {
    if (rec == NULL)
        return;
    free(rec->private_sealed);
    free(rec->public_jwk);
    rec->private_sealed = NULL;
    rec->private_sealed_len = 0;
    rec->public_jwk = NULL;
}

LIST_DONE_EACH(oidc_key_list, oidc_key_rec_done)

int store_oidc_key_insert(struct store *s, const struct oidc_key_rec *rec) {
    STORE_WRITE(rec == NULL || rec->kid[0] == '\0' || rec->alg[0] == '\0' || rec->private_sealed == NULL ||
                    rec->private_sealed_len == 0 || rec->private_sealed_len > STORE_OIDC_SEALED_MAX ||
                    rec->public_jwk == NULL || strlen(rec->public_jwk) > STORE_OIDC_JWK_MAX,
                oidc_key_insert(s, rec));
}

int store_oidc_key_list(struct store *s, struct oidc_key_list *ret) {
    STORE_READ(ret == NULL, oidc_key_list(s, ret));
}

int store_oidc_key_retire(struct store *s, const char *except_kid, int64_t now, int64_t retire_after,
                          size_t *ret_changed) {
    STORE_WRITE(except_kid == NULL, oidc_key_retire(s, except_kid, now, retire_after, ret_changed));
}

int store_oidc_key_delete_retired(struct store *s, int64_t now, size_t *ret_deleted) {
    STORE_WRITE(0, oidc_key_delete_retired(s, now, ret_deleted));
}
