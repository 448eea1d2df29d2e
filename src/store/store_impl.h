/*
 * store_impl.h - what a store backend provides. Only the store layer includes this.
 */
#ifndef LK_STORE_STORE_IMPL_H
#define LK_STORE_STORE_IMPL_H

#include "store/store.h"

/*
 * Every operation a backend provides, each once: X(return type, name,
 * (parameters)). struct store_ops has a member per entry; a backend names
 * its functions <backend>_<name> and declares and tables them with this
 * list (see sql/sql_internal.h and sqlite/ops.c: the SQL backends' entity
 * operations are sql_<name>, shared), so a signature that drifts does not
 * compile.
 */
/* clang-format off */
/* The connection's own operations: each backend (or driver) has its own. */
#define STORE_CONN_OPS(X)                                                                                              \
    X(int, open, (const char *rest, struct store **ret))                                                               \
    X(void, close, (struct store *s))                                                                                  \
    X(int, migrate, (struct store *s, int *ret_version))                                                               \
    X(int, begin, (struct store *s))                                                                                   \
    /* A transaction that only reads (store_read_tx), its snapshot taken by the time read_begin returns (the           \
     * read cache checks the change epoch then): ended by commit or rollback. */                                       \
    X(int, read_begin, (struct store *s))                                                                              \
    X(int, commit, (struct store *s))                                                                                  \
    X(int, rollback, (struct store *s))                                                                                \
    /* A savepoint inside the open transaction; release keeps its work. */                                             \
    X(int, savepoint, (struct store *s))                                                                               \
    X(int, release, (struct store *s))                                                                                 \
    X(int, rollback_to, (struct store *s))                                                                             \
    X(int, sync, (struct store *s))                                                                                    \
    X(int, background_writes, (struct store *s, int enabled))                                                          \
    X(int, checkpoint, (struct store *s))                                                                              \
    X(int, checkpoint_due, (struct store *s))                                                                          \
    X(int, checkpoint_finish, (struct store *s))
/* The entities' operations: the SQL backends share one set (src/store/sql/). */
#define STORE_ENTITY_OPS(X)                                                                                            \
    X(int, token_insert, (struct store *s, const struct token_rec *rec))                                               \
    X(int, token_get, (struct store *s, const char *id, struct token_rec *ret))                                        \
    X(int, token_list,                                                                                                 \
      (struct store *s, const char *owner_type, const char *owner_id, int64_t after_seq, int limit,                    \
       struct token_list *ret))                                                                                        \
    X(int, token_delete, (struct store *s, const char *id))                                                            \
    X(int, token_set_expiry, (struct store *s, const char *id, int64_t expires_at))                                    \
    X(int, token_retire, (struct store *s, const char *id, const char *replaced_by, int64_t expires_at))               \
    X(int, token_delete_expired, (struct store *s, int64_t cutoff, size_t *ret_count))                                 \
    X(int, token_delete_owner,                                                                                         \
      (struct store *s, const char *owner_type, const char *owner_id, const char *keep_id, size_t *ret_count))         \
    X(int, token_delete_owner_prefix,                                                                                  \
      (struct store *s, const char *owner_type, const char *owner_id, const char *id_prefix, size_t *ret_count))       \
    X(int, token_touch, (struct store *s, const struct token_touch *touches, size_t n))                                \
    X(int, org_insert, (struct store *s, const struct org_rec *rec))                                                   \
    X(int, org_get, (struct store *s, const char *id, const char *name, struct org_rec *ret))                          \
    X(int, org_list, (struct store *s, int64_t after_seq, int limit, struct org_list *ret))                            \
    X(int, org_update, (struct store *s, const struct org_rec *rec))                                                   \
    X(int, org_delete, (struct store *s, const char *id))                                                              \
    X(int, user_insert, (struct store *s, const struct user_rec *rec))                                                 \
    X(int, user_get,                                                                                                   \
      (struct store *s, const char *id, const char *org_id, const char *username, struct user_rec *ret))               \
    X(int, user_list, (struct store *s, const char *org_id, int64_t after_seq, int limit, struct user_list *ret))      \
    X(int, user_update, (struct store *s, const struct user_rec *rec))                                                 \
    X(int, user_delete, (struct store *s, const char *id))                                                             \
    X(int, team_insert, (struct store *s, const struct team_rec *rec))                                                 \
    X(int, team_get, (struct store *s, const char *org_id, const char *name, struct team_rec *ret))                    \
    X(int, team_get_by_id, (struct store *s, const char *id, struct team_rec *ret))                                    \
    X(int, team_list, (struct store *s, const char *org_id, int64_t after_seq, int limit, struct team_list *ret))      \
    X(int, team_update, (struct store *s, const struct team_rec *rec))                                                 \
    X(int, team_delete, (struct store *s, const char *id))                                                             \
    X(int, team_member_put,                                                                                            \
      (struct store *s, const char *team_id, const char *user_id, const char *role, int64_t now))                      \
    X(int, team_member_delete, (struct store *s, const char *team_id, const char *user_id))                            \
    X(int, team_member_role, (struct store *s, const char *team_id, const char *user_id, char *ret_role))              \
    X(int, team_member_roles,                                                                                          \
      (struct store *s, const char *org_id, const char *user_id, char (*ret_roles)[STORE_STATUS_MAX], size_t cap,      \
       size_t *ret_count))                                                                                             \
    X(int, team_scopes_for_member,                                                                                     \
      (struct store *s, const char *org_id, const char *user_id, const char *role, const char *after, int limit,       \
       struct team_scope_list *ret)) /* after: "" from the first */                                                    \
    X(int, team_member_list, (struct store *s, const char *team_id, struct team_member_list *ret))                     \
    X(int, sa_insert, (struct store *s, const struct sa_rec *rec))                                                     \
    X(int, sa_get, (struct store *s, const char *id, const char *team_id, const char *name, struct sa_rec *ret))       \
    X(int, sa_list, (struct store *s, const char *team_id, int64_t after_seq, int limit, struct sa_list *ret))         \
    X(int, sa_update, (struct store *s, const struct sa_rec *rec))                                                     \
    X(int, sa_delete, (struct store *s, const char *id))                                                               \
    X(int, role_insert, (struct store *s, const struct role_rec *rec))                                                 \
    X(int, role_get, (struct store *s, const char *org_id, const char *name, struct role_rec *ret))                    \
    X(int, role_list, (struct store *s, const char *org_id, struct role_list *ret))                                    \
    X(int, role_delete, (struct store *s, const char *org_id, const char *name))                                       \
    X(int, group_insert, (struct store *s, const struct group_rec *rec))                                               \
    X(int, group_get, (struct store *s, const char *org_id, const char *name, struct group_rec *ret))                  \
    X(int, group_list, (struct store *s, const char *org_id, const char *user_id, struct group_list *ret))             \
    X(int, group_delete, (struct store *s, const char *id))                                                            \
    X(int, group_member_put, (struct store *s, const char *group_id, const char *user_id, int64_t now))                \
    X(int, group_member_delete, (struct store *s, const char *group_id, const char *user_id))                          \
    X(int, group_member_names,                                                                                         \
      (struct store *s, const char *group_id, const char *after, int limit, struct name_list *ret))                    \
    X(int, audit_head, (struct store *s, int64_t *ret_seq, char *ret_hash))                                            \
    X(int, audit_insert, (struct store *s, const struct audit_rec *const *recs, size_t n)) /* n >= 1, in seq order */  \
    X(int, audit_list, (struct store *s, const struct audit_filter *f, struct audit_list *ret))                        \
    /* audit checkpoints (0017) */                                                                                     \
    X(int, audit_checkpoint_insert, (struct store *s, const struct audit_checkpoint *cp))                              \
    X(int, audit_checkpoint_list,                                                                                      \
      (struct store *s, int64_t after_seq, int limit, struct audit_checkpoint_list *ret))                              \
    X(int, meta_get, (struct store *s, const char *key, char **ret))                                                   \
    X(int, meta_set, (struct store *s, const char *key, const char *value))                                            \
    X(int, meta_delete, (struct store *s, const char *key))                                                            \
    /* expiry notices (0006) */                                                                                        \
    X(int, notice_candidates,                                                                                          \
      (struct store *s, int64_t now, int64_t horizon, int64_t after_seq, int limit,                                    \
       struct notice_candidate_list *ret))                                                                             \
    X(int, notice_insert, (struct store *s, const struct notice_rec *rec, int *ret_inserted))                          \
    X(int, notice_supersede, (struct store *s, const char *token_id, int days, int64_t now))                           \
    X(int, notice_due, (struct store *s, int64_t now, const char *channel, int limit, struct notice_list *ret))        \
    X(int, notice_claim, (struct store *s, const char *id, int64_t now, int64_t lease_until, int *ret_claimed))        \
    X(int, notice_finish, (struct store *s, const struct notice_rec *rec))                                             \
    X(int, notice_list,                                                                                                \
      (struct store *s, const char *org_id, const char *status, int64_t after_seq, int limit,                          \
       struct notice_list *ret))                                                                                       \
    X(int, notice_purge, (struct store *s, int64_t cutoff, size_t *ret_count))                                         \
    /* reason is checked (length) by store.c; id_prefix NULL means every token of the owner */                         \
    X(int, notice_cancel_token,                                                                                        \
      (struct store *s, const char *token_id, const char *reason, int64_t now, size_t *ret_count))                     \
    X(int, notice_cancel_owner,                                                                                        \
      (struct store *s, const char *owner_type, const char *owner_id, const char *id_prefix, const char *reason,       \
       int64_t now, size_t *ret_count))                                                                                \
    X(int, notice_cancel_org,                                                                                          \
      (struct store *s, const char *org_id, const char *reason, int64_t now, size_t *ret_count))                       \
    X(int, notice_cancel_team,                                                                                         \
      (struct store *s, const char *team_id, const char *reason, int64_t now, size_t *ret_count))                      \
    X(int, notice_cancel_expired,                                                                                      \
      (struct store *s, int64_t cutoff, const char *reason, int64_t now, size_t *ret_count))                           \
    X(int, notice_retire, (struct store *s, const char *token_id, int64_t now))                                        \
    X(int, notice_forget_token, (struct store *s, const char *token_id, int64_t expires_at, size_t *ret_count))        \
    /* the Vault door's token attributes (0019) */                                                                     \
    X(int, vault_token_insert, (struct store *s, const struct vault_token_rec *rec))                                   \
    X(int, vault_token_get, (struct store *s, const char *token_id, struct vault_token_rec *ret))                      \
    X(int, vault_token_use, (struct store *s, const char *token_id, int64_t *ret_left))                                \
    X(int, vault_token_subtree, (struct store *s, const char *token_id, int limit, struct name_list *ret))             \
    X(int, vault_token_orphan_children, (struct store *s, const char *token_id, size_t *ret_count))                    \
    X(int, vault_token_renewed, (struct store *s, const char *token_id, int64_t at))                                   \
    X(int, secret_latest,                                                                                              \
      (struct store *s, const char *org_id, const char *team_id, const char *path, int64_t *ret_version))              \
    X(int, secret_insert, (struct store *s, const struct secret_rec *rec))                                             \
    X(int, secret_get,                                                                                                 \
      (struct store *s, const char *org_id, const char *team_id, const char *path, int64_t version,                    \
       struct secret_rec *ret))                                                                                        \
    X(int, secret_versions,                                                                                            \
      (struct store *s, const char *org_id, const char *team_id, const char *path, struct secret_list *ret))           \
    X(int, secret_prune,                                                                                               \
      (struct store *s, const char *org_id, const char *team_id, const char *path, int64_t keep_from,                  \
       size_t *ret_count))                                                                                             \
    X(int, secret_paths,                                                                                               \
      (struct store *s, const char *org_id, const char *team_id, const char *prefix, const char *after, int limit,     \
       struct secret_path_list *ret))                                                                                  \
    X(int, secret_scan, (struct store *s, int64_t after_seq, int limit, struct secret_list *ret))                      \
    X(int, secret_rewrap,                                                                                              \
      (struct store *s, int64_t seq, const uint8_t *old, size_t old_len, const uint8_t *value, size_t len,             \
       int *ret_changed))                                                                                              \
    /* Vault ACL policies (0018) */                                                                                    \
    X(int, vault_policy_put, (struct store *s, const struct vault_policy_rec *rec))                                    \
    X(int, vault_policy_get,                                                                                           \
      (struct store *s, const char *org_id, const char *name, struct vault_policy_rec *ret))                           \
    X(int, vault_policy_names,                                                                                         \
      (struct store *s, const char *org_id, const char *after, int limit, struct name_list *ret))                      \
    X(int, vault_policy_delete, (struct store *s, const char *org_id, const char *name))                               \
    /* trusted foreign issuers (0022) */                                                                               \
    X(int, trusted_issuer_insert, (struct store *s, const struct trusted_issuer_rec *rec))                             \
    X(int, trusted_issuer_get,                                                                                         \
      (struct store *s, const char *org_id, const char *name, struct trusted_issuer_rec *ret))                         \
    X(int, trusted_issuer_by_issuer,                                                                                   \
      (struct store *s, const char *org_id, const char *issuer, struct trusted_issuer_rec *ret))                       \
    X(int, trusted_issuer_list,                                                                                        \
      (struct store *s, const char *org_id, int64_t after_seq, int limit, struct trusted_issuer_list *ret))            \
    X(int, trusted_issuer_update, (struct store *s, const struct trusted_issuer_rec *rec))                             \
    X(int, trusted_issuer_delete, (struct store *s, const char *id))                                                   \
    /* workloads and their bindings (0020) */                                                                          \
    X(int, workload_insert, (struct store *s, const struct workload_rec *rec))                                         \
    X(int, workload_get, (struct store *s, const char *team_id, const char *name, struct workload_rec *ret))           \
    X(int, workload_list,                                                                                              \
      (struct store *s, const char *team_id, int64_t after_seq, int limit, struct workload_list *ret))                 \
    X(int, workload_update, (struct store *s, const struct workload_rec *rec))                                         \
    X(int, workload_delete, (struct store *s, const char *id))                                                         \
    X(int, workload_bind,                                                                                              \
      (struct store *s, const char *workload_id, const char *sa_id, const char *created_by, int64_t now,               \
       int *ret_created))                                                                                              \
    X(int, workload_unbind, (struct store *s, const char *workload_id, const char *sa_id, int *ret_deleted))           \
    X(int, workload_bound, (struct store *s, const char *workload_id, const char *sa_id, int *ret_bound))              \
    X(int, workload_bindings,                                                                                          \
      (struct store *s, const char *workload_id, const char *sa_id, int64_t after_seq, int limit,                      \
       struct workload_binding_list *ret))                                                                             \
    /* identity-token signing keys (0021) */                                                                           \
    X(int, oidc_key_insert, (struct store *s, const struct oidc_key_rec *rec))                                         \
    X(int, oidc_key_list, (struct store *s, struct oidc_key_list *ret))                                                \
    X(int, oidc_key_retire,                                                                                            \
      (struct store *s, const char *except_kid, int64_t now, int64_t retire_after, size_t *ret_changed))               \
    X(int, oidc_key_delete_retired, (struct store *s, int64_t now, size_t *ret_deleted))                              \
    /* every row of from into s (store_copy) */                                                                       \
    X(int, copy_from,                                                                                                  \
      (struct store *s, struct store *from, void (*progress)(const char *table, int64_t rows, void *arg), void *arg))
#define STORE_OPS(X) STORE_CONN_OPS(X) STORE_ENTITY_OPS(X)
/* clang-format on */

struct store_ops {
    const char *scheme; /* the DSN's, before its first ':' ("sqlite") */
#define STORE_OP_MEMBER_(ret, name, params) ret(*name) params;
    STORE_OPS(STORE_OP_MEMBER_)
#undef STORE_OP_MEMBER_
};

/* Every backend's struct begins with this. */
struct store {
    const struct store_ops *ops;
    int in_tx;         /* a transaction is open (store_tx or a request's) */
    int request_mode;  /* between store_request_begin and _end */
    int request_tx;    /* request_mode, and a write has opened its transaction */
    int read_tx;       /* inside store_read_tx: in_tx too, and every write is refused */
    int read_begun;    /* read_tx, and the backend's read transaction has begun (at its first read) */
    int dirty;         /* in_tx, and a write that changes data ran in it: its commit counts */
    uint64_t tx_epoch; /* read_tx: the change epoch when it began (tx.c) */
    int tx_hits;       /* read_tx: rows it took from the read cache */
    int tx_retry;      /* read_tx: its snapshot is newer than its cached rows; it runs again without the cache */
    int tx_nocache;    /* read_tx: this run takes nothing from the read cache */
    struct store_cache *cache; /* the read cache this connection reads through; NULL: none */
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_postgres_ops;

#endif
