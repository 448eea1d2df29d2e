/*
 * store_impl.h - what a store backend provides. Only the store layer includes this.
 */
#ifndef LK_STORE_STORE_IMPL_H
#define LK_STORE_STORE_IMPL_H

#include "store/store.h"

struct store_ops {
    const char *scheme; /* "sqlite" */
    int (*open)(const char *rest, struct store **ret);
    void (*close)(struct store *s);
    int (*migrate)(struct store *s, int *ret_version);
    int (*begin)(struct store *s);
    int (*commit)(struct store *s);
    int (*rollback)(struct store *s);
    /* A savepoint inside the open transaction; release keeps its work. */
    int (*savepoint)(struct store *s);
    int (*release)(struct store *s);
    int (*rollback_to)(struct store *s);
    int (*token_insert)(struct store *s, const struct token_rec *rec);
    int (*token_get)(struct store *s, const char *id, struct token_rec *ret);
    int (*token_list)(struct store *s, const char *owner_type, const char *owner_id, int64_t after_seq, int limit,
                      struct token_list *ret);
    int (*token_delete)(struct store *s, const char *id);
    int (*token_set_expiry)(struct store *s, const char *id, int64_t expires_at);
    int (*token_retire)(struct store *s, const char *id, const char *replaced_by, int64_t expires_at);
    int (*token_delete_expired)(struct store *s, int64_t cutoff, size_t *ret_count);
    int (*token_delete_owner)(struct store *s, const char *owner_type, const char *owner_id, const char *keep_id,
                              size_t *ret_count);
    int (*token_delete_owner_prefix)(struct store *s, const char *owner_type, const char *owner_id,
                                     const char *id_prefix, size_t *ret_count);
    int (*token_touch)(struct store *s, const struct token_touch *touches, size_t n);
    int (*org_insert)(struct store *s, const struct org_rec *rec);
    int (*org_get)(struct store *s, const char *id, const char *name, struct org_rec *ret);
    int (*org_list)(struct store *s, int64_t after_seq, int limit, struct org_list *ret);
    int (*org_update)(struct store *s, const struct org_rec *rec);
    int (*org_delete)(struct store *s, const char *id);
    int (*user_insert)(struct store *s, const struct user_rec *rec);
    int (*user_get)(struct store *s, const char *id, const char *org_id, const char *username, struct user_rec *ret);
    int (*user_list)(struct store *s, const char *org_id, int64_t after_seq, int limit, struct user_list *ret);
    int (*user_update)(struct store *s, const struct user_rec *rec);
    int (*user_delete)(struct store *s, const char *id);
    int (*team_insert)(struct store *s, const struct team_rec *rec);
    int (*team_get)(struct store *s, const char *org_id, const char *name, struct team_rec *ret);
    int (*team_get_by_id)(struct store *s, const char *id, struct team_rec *ret);
    int (*team_list)(struct store *s, const char *org_id, int64_t after_seq, int limit, struct team_list *ret);
    int (*team_update)(struct store *s, const struct team_rec *rec);
    int (*team_delete)(struct store *s, const char *id);
    int (*team_member_put)(struct store *s, const char *team_id, const char *user_id, const char *role, int64_t now);
    int (*team_member_delete)(struct store *s, const char *team_id, const char *user_id);
    int (*team_member_role)(struct store *s, const char *team_id, const char *user_id, char *ret_role);
    int (*team_member_roles)(struct store *s, const char *org_id, const char *user_id,
                             char (*ret_roles)[STORE_STATUS_MAX], size_t cap, size_t *ret_count);
    int (*team_scopes_for_member)(struct store *s, const char *org_id, const char *user_id, const char *role,
                                  char **ret_json);
    int (*team_member_list)(struct store *s, const char *team_id, struct team_member_list *ret);
    int (*sa_insert)(struct store *s, const struct sa_rec *rec);
    int (*sa_get)(struct store *s, const char *id, const char *team_id, const char *name, struct sa_rec *ret);
    int (*sa_list)(struct store *s, const char *team_id, int64_t after_seq, int limit, struct sa_list *ret);
    int (*sa_update)(struct store *s, const struct sa_rec *rec);
    int (*sa_delete)(struct store *s, const char *id);
    int (*role_insert)(struct store *s, const struct role_rec *rec);
    int (*role_get)(struct store *s, const char *org_id, const char *name, struct role_rec *ret);
    int (*role_list)(struct store *s, const char *org_id, struct role_list *ret);
    int (*role_delete)(struct store *s, const char *org_id, const char *name);
    int (*group_insert)(struct store *s, const struct group_rec *rec);
    int (*group_get)(struct store *s, const char *org_id, const char *name, struct group_rec *ret);
    int (*group_list)(struct store *s, const char *org_id, const char *user_id, struct group_list *ret);
    int (*group_delete)(struct store *s, const char *id);
    int (*group_member_put)(struct store *s, const char *group_id, const char *user_id, int64_t now);
    int (*group_member_delete)(struct store *s, const char *group_id, const char *user_id);
    int (*group_member_names)(struct store *s, const char *group_id, char **ret_json);
    int (*sync)(struct store *s);
    int (*background_writes)(struct store *s, int enabled);
    int (*checkpoint)(struct store *s);
    int (*checkpoint_due)(struct store *s);
    int (*checkpoint_finish)(struct store *s);
    int (*audit_head)(struct store *s, int64_t *ret_seq, char *ret_hash);
    int (*audit_insert)(struct store *s, const struct audit_rec *const *recs, size_t n); /* n >= 1, in seq order */
    int (*audit_list)(struct store *s, const struct audit_filter *f, struct audit_list *ret);
    int (*meta_get)(struct store *s, const char *key, char **ret);
    int (*meta_set)(struct store *s, const char *key, const char *value);
    /* expiry notices (0006) */
    int (*notice_candidates)(struct store *s, int64_t now, int64_t horizon, int64_t after_seq, int limit,
                             struct notice_candidate_list *ret);
    int (*notice_insert)(struct store *s, const struct notice_rec *rec, int *ret_inserted);
    int (*notice_supersede)(struct store *s, const char *token_id, int days, int64_t now);
    int (*notice_due)(struct store *s, int64_t now, const char *channel, int limit, struct notice_list *ret);
    int (*notice_claim)(struct store *s, const char *id, int64_t now, int64_t lease_until, int *ret_claimed);
    int (*notice_finish)(struct store *s, const struct notice_rec *rec);
    int (*notice_list)(struct store *s, const char *org_id, const char *status, int64_t after_seq, int limit,
                       struct notice_list *ret);
    int (*notice_purge)(struct store *s, int64_t cutoff, size_t *ret_count);
};

/* Every backend's struct begins with this. */
struct store {
    const struct store_ops *ops;
    int in_tx;        /* a transaction is open (store_tx or a request's) */
    int request_mode; /* between store_request_begin and _end */
    int request_tx;   /* request_mode, and a write has opened its transaction */
};

extern const struct store_ops store_sqlite_ops;

#endif
