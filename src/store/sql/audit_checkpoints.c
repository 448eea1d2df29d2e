/*
 * audit_checkpoints.c - signed checkpoints of the audit chain in the
 * SQL backends (migration 0017; docs/audit.md): insert and list.
 *
 * Stores and hands back what it is given; what a checkpoint proves, and
 * the key it is signed under, are svc's (svc/audit.c, svc/seal.c). Never
 * updates or deletes a checkpoint (the migration's triggers refuse both).
 */
#include "store/sql/sql_internal.h"

/* A stored hash or mac as written (64 characters of lower-case hex), or ""
 * for anything else someone put there, so that the read never fails and
 * the check names the checkpoint. */
#define HEX64(col)                                                                                                     \
    "CASE WHEN typeof(" col ") = 'text' AND length(CAST(" col " AS BLOB)) = 64 AND instr(CAST(" col                    \
    " AS BLOB), X'00') = 0 AND " col " NOT GLOB '*[^0-9a-f]*' THEN " col " ELSE '' END"
/* PostgreSQL's columns are typed (and hold no NUL): only the form to check. */
#define HEX64_PG(col) "CASE WHEN " col " ~ '^[0-9a-f]{64}$' THEN " col " ELSE '' END"

static const struct col_map checkpoint_cols[] = {
    MAP_INT(struct audit_checkpoint, seq),
    MAP_TEXT(struct audit_checkpoint, hash),
    MAP_TEXT(struct audit_checkpoint, mac),
    MAP_INT(struct audit_checkpoint, created_at),
};
static const struct row_map checkpoint_map = ROW_MAP(struct audit_checkpoint, checkpoint_cols);

int sql_audit_checkpoint_insert(struct store *s, const struct audit_checkpoint *cp) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO audit_checkpoints (seq, hash, mac, created_at) VALUES (?1, ?2, ?3, ?4)"};
    return sql_run(sc_of(s), &def, sql_int(cp->seq), sql_text(cp->hash), sql_text(cp->mac), sql_int(cp->created_at));
}

int sql_audit_checkpoint_list(struct store *s, int64_t after_seq, int limit, struct audit_checkpoint_list *ret) {
    static const struct stmt_def def = {
        .sql = "SELECT seq, " HEX64("hash") ", " HEX64(
            "mac") ", CAST(created_at AS INTEGER) FROM audit_checkpoints WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        .pg = "SELECT seq, " HEX64_PG("hash") ", " HEX64_PG(
            "mac") ", created_at FROM audit_checkpoints WHERE seq > ?1 ORDER BY seq LIMIT ?2"};
    return sql_list(sc_of(s), &def, &checkpoint_map, limit, ret, sql_int(after_seq), sql_int(limit));
}
