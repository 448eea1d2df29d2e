/*
 * notices.c - the expiry-notice outbox in the SQL backends (migration
 * 0006, docs/notices.md): tokens that may need a notice, scheduling,
 * superseding, claiming and finishing a delivery, listing, purging.
 *
 * Never sends anything and decides no schedule (jobs/notices.c and
 * core/notice.c do), and decides no cancellation either: which notices a
 * deleted or shortened token loses, with what reason and when, is svc's
 * (svc/notices.c); the statements below only carry it out. A token's
 * retirement goes with the token by a foreign key (migration 0014).
 */
#include "store/sql/sql_internal.h"

#define NOTICE_COLS                                                                                                    \
    "n.seq, n.id, n.token_id, n.org_id, n.owner_type, n.owner_id, n.channel, n.days_before, n.expires_at, "            \
    "n.recipient, n.status, n.attempts, n.last_error, n.next_attempt_at, n.created_at, n.updated_at, "                 \
    "n.delivered_at, o.name, o.status, t.id IS NOT NULL, t.expires_at"
#define NOTICE_FROM "FROM notices n LEFT JOIN orgs o ON o.id = n.org_id LEFT JOIN tokens t ON t.id = n.token_id"

/* The candidates' columns, in order. */
static const struct col_map candidate_cols[] = {
    MAP_INT(struct notice_candidate, seq),         MAP_TEXT(struct notice_candidate, token_id),
    MAP_TEXT(struct notice_candidate, owner_type), MAP_TEXT(struct notice_candidate, owner_id),
    MAP_TEXT(struct notice_candidate, org_id),     MAP_INT(struct notice_candidate, created_at),
    MAP_INT(struct notice_candidate, expires_at),  MAP_BOOL(struct notice_candidate, notify_short_lived),
};
static const struct row_map candidate_map = ROW_MAP(struct notice_candidate, candidate_cols);

/* NOTICE_COLS, in order; a NULL delivered_at reads as 0. */
static const struct col_map notice_cols[] = {
    MAP_INT(struct notice_rec, seq),
    MAP_TEXT(struct notice_rec, id),
    MAP_TEXT(struct notice_rec, token_id),
    MAP_TEXT(struct notice_rec, org_id),
    MAP_TEXT(struct notice_rec, owner_type),
    MAP_TEXT(struct notice_rec, owner_id),
    MAP_TEXT(struct notice_rec, channel),
    MAP_INT(struct notice_rec, days_before),
    MAP_INT(struct notice_rec, expires_at),
    MAP_TEXT(struct notice_rec, recipient),
    MAP_TEXT(struct notice_rec, status),
    MAP_INT(struct notice_rec, attempts),
    MAP_TEXT(struct notice_rec, last_error),
    MAP_INT(struct notice_rec, next_attempt_at),
    MAP_INT(struct notice_rec, created_at),
    MAP_INT(struct notice_rec, updated_at),
    MAP_INT(struct notice_rec, delivered_at),
    MAP_TEXT(struct notice_rec, org_name),
    MAP_TEXT(struct notice_rec, org_status),
    MAP_INT(struct notice_rec, token_exists),
    MAP_INT(struct notice_rec, token_expires_at),
};
static const struct row_map notice_map = ROW_MAP(struct notice_rec, notice_cols);

int sql_notice_candidates(struct store *s, int64_t now, int64_t horizon, int64_t after_seq, int limit,
                          struct notice_candidate_list *ret) {
    /* The candidates skip tokens of orgs that are not active and tokens
     * retired from notices (sql_notice_retire). */
    static const struct stmt_def def = {
        .sql = "SELECT t.seq, t.id, t.owner_type, t.owner_id, t.org_id, t.created_at, t.expires_at, "
               "COALESCE(o.notify_short_lived_tokens, 0) "
               "FROM tokens t LEFT JOIN orgs o ON o.id = t.org_id "
               "WHERE t.expires_at IS NOT NULL AND t.expires_at > ?1 AND t.expires_at <= ?2 "
               "AND t.seq > ?3 AND (t.org_id = '' OR o.status = 'active') "
               "AND NOT EXISTS (SELECT 1 FROM notice_retired_tokens r WHERE r.token_id = t.id) "
               "ORDER BY t.seq LIMIT ?4"};
    return sql_list(sc_of(s), &def, &candidate_map, limit, ret, sql_int(now), sql_int(horizon), sql_int(after_seq),
                    sql_int(limit));
}

int sql_notice_insert(struct store *s, const struct notice_rec *n, int *ret_inserted) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO notices (id, token_id, org_id, owner_type, owner_id, channel, days_before, "
               "expires_at, recipient, status, attempts, last_error, next_attempt_at, created_at, "
               "updated_at, delivered_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
               "ON CONFLICT (token_id, days_before, channel, recipient) DO NOTHING"};
    size_t changed = 0;
    int r = sql_run_count(sc_of(s), &def, &changed, sql_text(n->id), sql_text(n->token_id), sql_text(n->org_id),
                          sql_text(n->owner_type), sql_text(n->owner_id), sql_text(n->channel), sql_int(n->days_before),
                          sql_int(n->expires_at), sql_text(n->recipient), sql_text(n->status), sql_int(n->attempts),
                          sql_text(n->last_error), sql_int(n->next_attempt_at), sql_int(n->created_at),
                          sql_int(n->updated_at), sql_time(n->delivered_at));
    if (r == 0 && ret_inserted != NULL)
        *ret_inserted = changed > 0;
    return r;
}

int sql_notice_supersede(struct store *s, const char *token_id, int days, int64_t now) {
    static const struct stmt_def def = {
        .sql = "UPDATE notices SET status = 'skipped', last_error = 'superseded by a more imminent "
               "notice', updated_at = ?3 WHERE token_id = ?1 AND days_before > ?2 AND status = 'pending'"};
    return sql_run(sc_of(s), &def, sql_text(token_id), sql_int(days), sql_int(now));
}

int sql_notice_due(struct store *s, int64_t now, const char *channel, int limit, struct notice_list *ret) {
    static const struct stmt_def def = {
        .sql = "SELECT " NOTICE_COLS " " NOTICE_FROM " WHERE n.status = 'pending' AND "
               "n.next_attempt_at <= ?1 AND (CAST(?3 AS TEXT) IS NULL OR n.channel = ?3) ORDER BY "
               "n.next_attempt_at, n.seq LIMIT ?2"};
    /* channel NULL binds NULL: any channel. */
    return sql_list(sc_of(s), &def, &notice_map, limit, ret, sql_int(now), sql_int(limit), sql_text(channel));
}

int sql_notice_claim(struct store *s, const char *id, int64_t now, int64_t lease_until, int *ret_claimed) {
    static const struct stmt_def def = {
        .sql = "UPDATE notices SET attempts = attempts + 1, next_attempt_at = ?3, updated_at = ?2, "
               "last_error = 'delivery started; no outcome recorded (interrupted?)' "
               "WHERE id = ?1 AND status = 'pending' AND next_attempt_at <= ?2"};
    size_t changed = 0;
    int r = sql_run_count(sc_of(s), &def, &changed, sql_text(id), sql_int(now), sql_int(lease_until));
    if (r == 0)
        *ret_claimed = changed > 0;
    return r;
}

int sql_notice_finish(struct store *s, const struct notice_rec *n) {
    static const struct stmt_def def = {
        .sql = "UPDATE notices SET status = ?2, attempts = ?3, last_error = ?4, next_attempt_at = ?5, "
               "delivered_at = ?6, updated_at = ?7 WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(n->id), sql_text(n->status), sql_int(n->attempts),
                      sql_text(n->last_error), sql_int(n->next_attempt_at), sql_time(n->delivered_at),
                      sql_int(n->updated_at));
}

int sql_notice_list(struct store *s, const char *org_id, const char *status, int64_t after_seq, int limit,
                    struct notice_list *ret) {
    static const struct stmt_def def = {
        .sql = "SELECT " NOTICE_COLS " " NOTICE_FROM " WHERE (CAST(?1 AS TEXT) IS NULL OR n.org_id = ?1) "
               "AND (CAST(?2 AS TEXT) IS NULL OR n.status = ?2) AND n.seq > ?3 ORDER BY n.seq LIMIT ?4"};
    /* NULL binds NULL: any org, any status. */
    return sql_list(sc_of(s), &def, &notice_map, limit, ret, sql_text(org_id), sql_text(status), sql_int(after_seq),
                    sql_int(limit));
}

int sql_notice_purge(struct store *s, int64_t cutoff, size_t *ret_count) {
    static const struct stmt_def def = {.sql = "DELETE FROM notices WHERE expires_at < ?1"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_int(cutoff));
}

/* --- cancelling and retiring (store.h: the caller's rules, carried out) --------------- */

/* Every cancellation: ?1 the reason, ?2 the time, then its own selection. */
#define NOTICE_CANCEL                                                                                                  \
    "UPDATE notices SET status = 'cancelled', last_error = ?1, updated_at = ?2 WHERE status = 'pending' AND "

int sql_notice_cancel_token(struct store *s, const char *token_id, const char *reason, int64_t now, size_t *ret_count) {
    static const struct stmt_def def = {.sql = NOTICE_CANCEL "token_id = ?3"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(reason), sql_int(now), sql_text(token_id));
}

int sql_notice_cancel_owner(struct store *s, const char *owner_type, const char *owner_id, const char *id_prefix,
                            const char *reason, int64_t now, size_t *ret_count) {
    /* id_prefix NULL binds NULL: every token of the owner. */
    static const struct stmt_def def = {
        .sql = NOTICE_CANCEL "owner_type = ?3 AND owner_id = ?4 AND "
                             "(CAST(?5 AS TEXT) IS NULL OR substr(token_id, 1, length(CAST(?5 AS TEXT))) = ?5)"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(reason), sql_int(now), sql_text(owner_type),
                         sql_text(owner_id), sql_text(id_prefix));
}

int sql_notice_cancel_org(struct store *s, const char *org_id, const char *reason, int64_t now, size_t *ret_count) {
    static const struct stmt_def def = {.sql = NOTICE_CANCEL "org_id = ?3"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(reason), sql_int(now), sql_text(org_id));
}

int sql_notice_cancel_team(struct store *s, const char *team_id, const char *reason, int64_t now, size_t *ret_count) {
    static const struct stmt_def def = {.sql = NOTICE_CANCEL
                                        "owner_type = 'service_account' AND "
                                        "owner_id IN (SELECT id FROM service_accounts WHERE team_id = ?3)"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(reason), sql_int(now), sql_text(team_id));
}

int sql_notice_cancel_expired(struct store *s, int64_t cutoff, const char *reason, int64_t now, size_t *ret_count) {
    static const struct stmt_def def = {.sql = NOTICE_CANCEL
                                        "token_id IN (SELECT id FROM tokens WHERE expires_at IS NOT NULL AND "
                                        "expires_at < ?3)"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(reason), sql_int(now), sql_int(cutoff));
}

int sql_notice_retire(struct store *s, const char *token_id, int64_t now) {
    /* Through tokens: the foreign key would refuse a token that is not there,
     * and the contract says that is nothing to do. */
    static const struct stmt_def def = {.sql = "INSERT INTO notice_retired_tokens (token_id, retired_at) "
                                               "SELECT id, ?2 FROM tokens WHERE id = ?1 ON CONFLICT DO NOTHING"};
    return sql_run(sc_of(s), &def, sql_text(token_id), sql_int(now));
}
