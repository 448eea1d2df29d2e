/*
 * trusted_issuers.c - an org's trusted foreign token issuers in the SQL
 * backend (migration 0022): insert, get (by name or by issuer), list,
 * update and delete. The rules and the inline JWK set are opaque text here:
 * svc/federation.c checks them.
 */
#include "core/errors.h"
#include "store/sql/sql_internal.h"

#define TI_COLS "seq, id, org_id, name, issuer, jwks, jwks_uri, audience, rules, created_at, created_by, updated_at"

/* TI_COLS, in order. */
static const struct col_map ti_cols[] = {
    MAP_INT(struct trusted_issuer_rec, seq),         MAP_TEXT(struct trusted_issuer_rec, id),
    MAP_TEXT(struct trusted_issuer_rec, org_id),     MAP_TEXT(struct trusted_issuer_rec, name),
    MAP_TEXT(struct trusted_issuer_rec, issuer),     MAP_DUP(struct trusted_issuer_rec, jwks, ""),
    MAP_TEXT(struct trusted_issuer_rec, jwks_uri),   MAP_TEXT(struct trusted_issuer_rec, audience),
    MAP_DUP(struct trusted_issuer_rec, rules, "[]"), MAP_INT(struct trusted_issuer_rec, created_at),
    MAP_TEXT(struct trusted_issuer_rec, created_by), MAP_INT(struct trusted_issuer_rec, updated_at),
};
static const struct row_map ti_map = ROW_MAP(struct trusted_issuer_rec, ti_cols);

int sql_trusted_issuer_insert(struct store *s, const struct trusted_issuer_rec *t) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO trusted_issuers (id, org_id, name, issuer, jwks, jwks_uri, audience, rules, created_at, "
               "created_by, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"};
    return sql_insert_under(sc_of(s), sql_org_exists, t->org_id, &def, sql_text(t->id), sql_text(t->org_id),
                            sql_text(t->name), sql_text(t->issuer), sql_text(t->jwks), sql_text(t->jwks_uri),
                            sql_text(t->audience), sql_text(t->rules), sql_int(t->created_at), sql_text(t->created_by),
                            sql_int(t->updated_at));
}

int sql_trusted_issuer_get(struct store *s, const char *org_id, const char *name, struct trusted_issuer_rec *ret) {
    static const struct stmt_def def = {.sql =
                                            "SELECT " TI_COLS " FROM trusted_issuers WHERE org_id = ?1 AND name = ?2"};
    return sql_get(sc_of(s), &def, &ti_map, ret, sql_text(org_id), sql_text(name));
}

int sql_trusted_issuer_by_issuer(struct store *s, const char *org_id, const char *issuer,
                                 struct trusted_issuer_rec *ret) {
    static const struct stmt_def def = {.sql = "SELECT " TI_COLS
                                               " FROM trusted_issuers WHERE org_id = ?1 AND issuer = ?2"};
    return sql_get(sc_of(s), &def, &ti_map, ret, sql_text(org_id), sql_text(issuer));
}

int sql_trusted_issuer_list(struct store *s, const char *org_id, int64_t after_seq, int limit,
                            struct trusted_issuer_list *ret) {
    static const struct stmt_def def = {
        .sql = "SELECT " TI_COLS " FROM trusted_issuers WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"};
    return sql_list(sc_of(s), &def, &ti_map, limit, ret, sql_text(org_id), sql_int(after_seq), sql_int(limit));
}

int sql_trusted_issuer_update(struct store *s, const struct trusted_issuer_rec *t) {
    static const struct stmt_def def = {.sql = "UPDATE trusted_issuers SET issuer = ?2, jwks = ?3, jwks_uri = ?4, "
                                               "audience = ?5, rules = ?6, updated_at = ?7 WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(t->id), sql_text(t->issuer), sql_text(t->jwks), sql_text(t->jwks_uri),
                      sql_text(t->audience), sql_text(t->rules), sql_int(t->updated_at));
}

int sql_trusted_issuer_delete(struct store *s, const char *id) {
    static const struct stmt_def def = {.sql = "DELETE FROM trusted_issuers WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(id));
}
