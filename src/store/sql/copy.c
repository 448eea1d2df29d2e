/*
 * copy.c - every row of one SQL store into another, for `latchkey operator
 * migrate-store` (store_copy in store.h): SQLite to PostgreSQL, or either
 * to either. Rows keep their seq (cursors and the audit chain stay as
 * they were), values their types; the destination must be new (no org,
 * token or audit record), and gets everything in one transaction or
 * nothing.
 *
 * The tables are listed here, parents before children, with their columns:
 * a new table of the schema is a new row here (tests/blackbox/
 * test_migrate_store.py moves a server's store and checks what it serves).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "store/sql/sql_internal.h"

struct copy_table {
    const char *name;
    const char *cols;  /* as selected and inserted */
    const char *order; /* a key, for a stable order */
    int ncols;
};

/* clang-format off */
static const struct copy_table tables[] = {
    {"meta", "key, value", "key", 2},
    {"orgs", "seq, id, name, display_name, status, token_expiry_hours, allow_non_expiring_tokens, created_at, "
             "updated_at, audit_after, notify_short_lived_tokens", "seq", 11},
    {"users", "seq, id, org_id, username, email, password_hash, role, programmatic_only, token_expiry_hours, "
              "created_at, updated_at", "seq", 11},
    {"teams", "seq, id, org_id, name, description, created_at, updated_at, audit_after", "seq", 8},
    {"team_members", "team_id, user_id, role, created_at", "team_id, user_id", 4},
    {"service_accounts", "seq, id, org_id, team_id, name, description, roles, created_at, updated_at", "seq", 9},
    {"roles", "seq, org_id, name, permissions, created_at", "seq", 5},
    {"user_groups", "seq, id, org_id, name, description, roles, created_at", "seq", 7},
    {"group_members", "group_id, user_id, created_at", "group_id, user_id", 3},
    {"tokens", "seq, id, hash, owner_type, owner_id, org_id, created_by, description, policies, created_at, "
               "expires_at, last_used_at, replaced_by", "seq", 13},
    {"notices", "seq, id, token_id, org_id, owner_type, owner_id, channel, days_before, expires_at, recipient, "
                "status, attempts, last_error, next_attempt_at, created_at, updated_at, delivered_at", "seq", 17},
    {"notice_retired_tokens", "token_id, retired_at", "token_id", 2},
    {"secrets", "seq, org_id, team_id, scope_id, path, version, value, created_at, created_by", "seq", 9},
    {"vault_policies", "org_id, name, text, created_at, updated_at, updated_by", "org_id, name", 6},
    {"vault_tokens", "token_id, parent_id, display_name, meta, policies, acl, renewable, creation_ttl, "
                     "explicit_max_ttl, period, num_uses, uses_left, last_renewal_at", "token_id", 13},
    {"workloads", "seq, id, org_id, team_id, name, description, created_at, created_by, updated_at", "seq", 9},
    {"workload_bindings", "seq, team_id, workload_id, sa_id, created_at, created_by", "seq", 6},
    {"oidc_keys", "seq, kid, alg, private_sealed, public_jwk, created_at, publish_from, sign_from, retire_after",
     "seq", 9},
    {"trusted_issuers", "seq, id, org_id, name, issuer, jwks, jwks_uri, audience, rules, created_at, created_by, "
                        "updated_at", "seq", 12},
    {"audit", "seq, time_ms, request_id, actor_type, actor_name, actor_org, token_id, credential_hmac, org, team, "
              "action, method, resource, outcome, status, source_ip, user_agent, hash, org_id", "seq", 19},
    {"audit_org_blocks", "org_id, block", "org_id, block", 2},
    {"audit_checkpoints", "seq, hash, mac, created_at", "seq", 4},
};
/* clang-format on */

#define COPY_COLS_MAX 19

/*
 * Statements built from the table list, so not static definitions: each
 * is prepared for this copy alone (a def of our own, freed at the end),
 * never from caller data.
 */
struct built {
    struct stmt_def def;
    char sql[1024];
};

/* The destination holds nothing yet but what its migrations put in meta. */
static int is_new(struct sql_conn *to) {
    static const struct stmt_def def = {
        .sql = "SELECT 1 WHERE EXISTS (SELECT 1 FROM orgs) OR EXISTS (SELECT 1 FROM tokens) OR "
               "EXISTS (SELECT 1 FROM audit)"};
    int r = sql_exists(to, &def);
    return r == LK_ENOTFOUND ? 0 : r == 0 ? LK_ECONFLICT : r;
}

/* One table's rows, in order, from one statement into the other. */
static int copy_rows(struct sql_conn *from, struct sql_conn *to, const struct copy_table *t, int64_t *ret_rows) {
    struct built *sel = calloc(1, sizeof(*sel)), *ins = calloc(1, sizeof(*ins));
    struct sql_arg args[COPY_COLS_MAX];
    struct sql_stmt *src = NULL, *dst = NULL;
    int r = sel != NULL && ins != NULL ? 0 : LK_ENOMEM, rc;
    int64_t n = 0;
    if (r != 0 || t->ncols > COPY_COLS_MAX)
        goto out;
    snprintf(sel->sql, sizeof(sel->sql), "SELECT %s FROM %s ORDER BY %s", t->cols, t->name, t->order);
    size_t off = (size_t)snprintf(ins->sql, sizeof(ins->sql), "INSERT INTO %s (%s) VALUES (", t->name, t->cols);
    for (int i = 0; i < t->ncols && off < sizeof(ins->sql); i++)
        off += (size_t)snprintf(ins->sql + off, sizeof(ins->sql) - off, "%s?%d", i ? ", " : "", i + 1);
    if (off + 2 >= sizeof(ins->sql)) {
        r = LK_EINTERNAL;
        goto out;
    }
    memcpy(ins->sql + off, ")", 2);
    sel->def.sql = sel->sql;
    ins->def.sql = ins->sql;
    if ((r = from->drv->prepare(from, &sel->def, NULL, 0, &src)) != 0)
        goto out;
    while ((rc = src->drv->step(src)) == 1) {
        if (src->drv->ncols(src) != t->ncols) {
            r = LK_EINTERNAL;
            break;
        }
        for (int i = 0; i < t->ncols && r == 0; i++) {
            const void *p = NULL;
            size_t len = 0;
            switch (src->drv->type(src, i)) {
            case SQL_NULL: args[i] = (struct sql_arg){SQL_NULL, NULL, SQL_TEXT}; break;
            case SQL_INT: args[i] = sql_int(src->drv->int64(src, i)); break;
            case SQL_BLOB:
                if ((r = src->drv->blob(src, i, &p, &len)) == 0)
                    args[i] = (struct sql_arg){SQL_BLOB, p, (int64_t)len};
                break;
            default:
                /* Text: both drivers hand out NUL-terminated values. */
                if ((r = src->drv->text(src, i, (const char **)&p, &len)) == 0)
                    args[i] = (struct sql_arg){SQL_TEXT, p, 0};
                break;
            }
        }
        if (r != 0)
            break;
        if (dst == NULL && (r = to->drv->prepare(to, &ins->def, args, (size_t)t->ncols, &dst)) != 0)
            break;
        if ((r = dst->drv->bind(dst, args, (size_t)t->ncols)) == 0)
            r = stmt_step_done(dst);
        dst->drv->reset(dst);
        if (r != 0)
            break;
        n++;
    }
    if (r == 0 && rc < 0)
        r = rc;
    if (r == 0 && strcmp(t->order, "seq") == 0)
        r = to->drv->copied(to, t->name);
    if (r == 0)
        *ret_rows = n;
out:
    if (src != NULL)
        src->drv->finalize(src);
    if (dst != NULL)
        dst->drv->finalize(dst);
    free(sel);
    free(ins);
    return r;
}

int sql_copy_from(struct store *s, struct store *from_store, void (*progress)(const char *, int64_t, void *),
                  void *arg) {
    struct sql_conn *to = sc_of(s), *from = sc_of(from_store);
    /* Both ends are SQL stores: they share these operations. */
    if (from_store->ops->copy_from != s->ops->copy_from || from_store == s)
        return LK_EINVAL;
    if (s->in_tx || from_store->in_tx)
        return LK_EBUSY;
    int r = sql_begin(to);
    if (r != 0)
        return r;
    static const struct stmt_def clear_meta = {.sql = "DELETE FROM meta"};
    if ((r = is_new(to)) == 0)
        r = sql_run(to, &clear_meta);
    /* The source is read in one snapshot, so a copy is of one moment. */
    if (r == 0)
        r = from_store->ops->read_begin(from_store);
    int reading = r == 0;
    for (size_t i = 0; r == 0 && i < sizeof(tables) / sizeof(tables[0]); i++) {
        int64_t rows = 0;
        r = copy_rows(from, to, &tables[i], &rows);
        if (r == 0 && progress != NULL)
            progress(tables[i].name, rows, arg);
    }
    if (reading)
        from_store->ops->rollback(from_store);
    return sql_tx_end(to, r);
}
