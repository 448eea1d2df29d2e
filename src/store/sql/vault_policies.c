/*
 * vault_policies.c - an organisation's Vault ACL policies in the SQL
 * backend (migration 0018): put (create or replace), get, names, delete.
 *
 * Keeps each document verbatim: parsing, names and built-ins are
 * svc/vault_policies.c's; nothing here reads a policy's text.
 */
#include "store/sql/sql_internal.h"

#define VAULT_POLICY_COLS "org_id, name, text, created_at, updated_at, updated_by"

/* VAULT_POLICY_COLS, in order. */
static const struct col_map vault_policy_cols[] = {
    MAP_TEXT(struct vault_policy_rec, org_id),    MAP_TEXT(struct vault_policy_rec, name),
    MAP_DUP(struct vault_policy_rec, text, ""),   MAP_INT(struct vault_policy_rec, created_at),
    MAP_INT(struct vault_policy_rec, updated_at), MAP_TEXT(struct vault_policy_rec, updated_by),
};
static const struct row_map vault_policy_map = ROW_MAP(struct vault_policy_rec, vault_policy_cols);

int sql_vault_policy_put(struct store *s, const struct vault_policy_rec *r) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO vault_policies (org_id, name, text, created_at, updated_at, updated_by) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (org_id, name) DO UPDATE SET text = excluded.text, "
               "updated_at = excluded.updated_at, updated_by = excluded.updated_by"};
    return sql_insert_under(sc_of(s), sql_org_exists, r->org_id, &def, sql_text(r->org_id), sql_text(r->name),
                            sql_text(r->text), sql_int(r->created_at), sql_int(r->updated_at), sql_text(r->updated_by));
}

int sql_vault_policy_get(struct store *s, const char *org_id, const char *name, struct vault_policy_rec *ret) {
    static const struct stmt_def def = {.sql = "SELECT " VAULT_POLICY_COLS
                                               " FROM vault_policies WHERE org_id = ?1 AND name = ?2"};
    return sql_get(sc_of(s), &def, &vault_policy_map, ret, sql_text(org_id), sql_text(name));
}

/* A policy name, as store.h hands it out in a name_list. */
typedef char policy_name_buf[STORE_NAME_MAX];
static const struct col_map policy_name_col = {COL_TEXT, 0, sizeof(policy_name_buf), NULL, 0, 0};
static const struct row_map policy_name_map = {sizeof(policy_name_buf), &policy_name_col, 1, NULL};

int sql_vault_policy_names(struct store *s, const char *org_id, const char *after, int limit, struct name_list *ret) {
    static const struct stmt_def def = {
        .sql = "SELECT name FROM vault_policies WHERE org_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3"};
    return sql_list(sc_of(s), &def, &policy_name_map, limit, ret, sql_text(org_id), sql_text(after), sql_int(limit));
}

int sql_vault_policy_delete(struct store *s, const char *org_id, const char *name) {
    static const struct stmt_def def = {.sql = "DELETE FROM vault_policies WHERE org_id = ?1 AND name = ?2"};
    return sql_change(sc_of(s), &def, sql_text(org_id), sql_text(name));
}
