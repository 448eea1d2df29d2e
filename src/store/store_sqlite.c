/*
 * store_sqlite.c - the embedded SQLite backend of store.h.
 *
 * One sqlite3 connection per struct store, opened NOMUTEX: a store is used
 * by one thread at a time, and each worker opens its own. Statements are
 * prepared once per connection and reset right after use, so no statement
 * keeps a read snapshot open between calls (that would pin the WAL and
 * hide other connections' commits).
 *
 * Never logs and never sees a token's secret, only its SHA-256. Never
 * builds SQL from caller data: everything is a bound parameter.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/secret.h"
#include "store/migrations.h"
#include "store/store_impl.h"

/* How long a statement waits for another connection's write lock. */
#define SQLITE_BUSY_TIMEOUT_MS 5000

#define TOKEN_COLS                                                                                                     \
    "seq, id, hash, owner_type, owner_id, org_id, created_by, description, policies, created_at, expires_at, "         \
    "last_used_at, replaced_by"

/* The stored columns (migration 0010): the hash as its 32 bytes, and no
 * prev_hash: that is the hash of the record before, which reads take from
 * there (audit_links); org_id last (migration 0013). */
#define AUDIT_COLS                                                                                                     \
    "seq, time_ms, request_id, actor_type, actor_name, actor_org, token_id, credential_hmac, org, team, action, "      \
    "method, resource, outcome, status, source_ip, user_agent, hash, org_id"
#define AUDIT_NCOLS 19
/*
 * ?11 is an org id: the records filed under it, and those from before org
 * ids (seq < ?12, no org_id) that its name ?1 gets by what they recorded:
 * a user's, service account's or workload's under its actor's org, the
 * partner admin's under the org it named, an anonymous one under none
 * (audit_filter). Without ?11, ?1 alone matches the org field. ?2 is NULL
 * or a JSON array of team scopes (team_scopes_for_member): the record's
 * team must be one of them, of this org, and not from an earlier holder of
 * its name.
 */
#define AUDIT_WHERE                                                                                                    \
    " FROM audit WHERE (CASE WHEN ?11 = '' THEN (?1 = '' OR org = ?1) ELSE (org_id = ?11 OR (seq < ?12 AND ?1 != '' "  \
    "AND org_id = '' AND ((actor_type IN ('user', 'service_account', 'workload') AND actor_org = ?1) OR "              \
    "(actor_type = 'root' AND org = ?1)))) END) "                                                                      \
    "AND (?2 IS NULL OR (org = ?1 AND EXISTS (SELECT 1 FROM json_each(?2) j "                                          \
    "WHERE json_extract(j.value, '$.name') = audit.team AND audit.seq > json_extract(j.value, '$.after') "             \
    "AND audit.time_ms >= json_extract(j.value, '$.from_ms')))) "                                                      \
    "AND (?3 = '' OR actor_name = ?3) AND (?4 = '' OR action = ?4) AND (?5 = '' OR outcome = ?5) "                     \
    "AND (?6 = 0 OR time_ms >= ?6) AND (?7 = 0 OR time_ms < ?7) "

/* Up to 16 records in one statement: SQLite's cost per record falls by about
 * a third against one statement each (measured, docs/performance.md). A
 * batch goes as statements of 16, 8, 4, 2 and 1 rows, largest first. */
#define AUDIT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define AUDIT_ROWS_2 AUDIT_ROW ", " AUDIT_ROW
#define AUDIT_ROWS_4 AUDIT_ROWS_2 ", " AUDIT_ROWS_2
#define AUDIT_ROWS_8 AUDIT_ROWS_4 ", " AUDIT_ROWS_4
#define AUDIT_ROWS_16 AUDIT_ROWS_8 ", " AUDIT_ROWS_8

/* Where a new org or team begins in the chain: the head, read inside the
 * inserting transaction (which holds the write lock). */
#define AUDIT_HEAD_SEQ "(SELECT COALESCE(MAX(seq), 0) FROM audit)"

#define ORG_COLS                                                                                                       \
    "seq, id, name, display_name, status, token_expiry_hours, allow_non_expiring_tokens, created_at, updated_at, "     \
    "audit_after"
#define SA_COLS "seq, id, org_id, team_id, name, description, roles, created_at, updated_at"
#define GROUP_COLS "seq, id, org_id, name, description, roles, created_at"
#define TEAM_COLS "seq, id, org_id, name, description, created_at, updated_at"
#define USER_COLS                                                                                                      \
    "seq, id, org_id, username, email, password_hash, role, programmatic_only, token_expiry_hours, created_at, "       \
    "updated_at"

#define NOTICE_COLS                                                                                                    \
    "n.seq, n.id, n.token_id, n.org_id, n.owner_type, n.owner_id, n.channel, n.days_before, n.expires_at, "            \
    "n.recipients, n.status, n.attempts, n.last_error, n.next_attempt_at, n.created_at, n.updated_at, "                \
    "n.delivered_at, o.name, o.status, t.id IS NOT NULL, t.expires_at"
#define NOTICE_FROM "FROM notices n LEFT JOIN orgs o ON o.id = n.org_id LEFT JOIN tokens t ON t.id = n.token_id"

/* The statements each connection prepares (once, on first use). */
enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_VERSION_GET,
    ST_VERSION_ADD,
    ST_TOKEN_INSERT,
    ST_TOKEN_GET,
    ST_TOKEN_LIST,
    ST_TOKEN_DELETE,
    ST_TOKEN_DELETE_OWNER,
    ST_TOKEN_DELETE_OWNER_PREFIX,
    ST_TOKEN_TOUCH,
    ST_META_GET,
    ST_META_SET,
    ST_ORG_INSERT,
    ST_ORG_GET,
    ST_ORG_GET_NAME,
    ST_ORG_LIST,
    ST_ORG_UPDATE,
    ST_ORG_DELETE,
    ST_ORG_DELETE_TOKENS,
    ST_USER_INSERT,
    ST_USER_GET,
    ST_USER_GET_NAME,
    ST_USER_LIST,
    ST_USER_UPDATE,
    ST_USER_DELETE,
    ST_USER_DELETE_TOKENS,
    ST_ORG_EXISTS,
    ST_TEAM_INSERT,
    ST_TEAM_GET,
    ST_TEAM_LIST,
    ST_TEAM_UPDATE,
    ST_TEAM_DELETE,
    ST_TEAM_SA_TOKENS_DELETE,
    ST_MEMBER_PUT,
    ST_MEMBER_DELETE,
    ST_MEMBER_ROLE,
    ST_MEMBER_ROLES,
    ST_MEMBER_LIST,
    ST_TOKEN_SET_EXPIRY,
    ST_TOKEN_RETIRE,
    ST_TOKEN_DELETE_EXPIRED,
    ST_SA_INSERT,
    ST_SA_GET,
    ST_SA_GET_NAME,
    ST_SA_LIST,
    ST_SA_UPDATE,
    ST_SA_DELETE,
    ST_SA_TOKENS_DELETE,
    ST_TEAM_EXISTS,
    ST_TEAM_GET_ID,
    ST_ROLE_INSERT,
    ST_ROLE_GET,
    ST_ROLE_LIST,
    ST_ROLE_DELETE,
    ST_GROUP_INSERT,
    ST_GROUP_GET,
    ST_GROUP_LIST,
    ST_GROUP_LIST_USER,
    ST_GROUP_DELETE,
    ST_GROUP_MEMBERS_DELETE_ALL,
    ST_GROUP_MEMBER_PUT,
    ST_GROUP_MEMBER_DELETE,
    ST_GROUP_MEMBER_NAMES,
    /* expiry notices (0006) */
    ST_NOTICE_CANDIDATES,
    ST_NOTICE_INSERT,
    ST_NOTICE_SUPERSEDE,
    ST_NOTICE_DUE,
    ST_NOTICE_CLAIM,
    ST_NOTICE_FINISH,
    ST_NOTICE_LIST,
    ST_NOTICE_PURGE,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_TEAM_SCOPES_FOR_MEMBER,
    ST_AUDIT_HEAD,
    ST_AUDIT_INSERT,
    ST_AUDIT_INSERT_2,
    ST_AUDIT_INSERT_4,
    ST_AUDIT_INSERT_8,
    ST_AUDIT_INSERT_16,
    ST_AUDIT_LIST_ASC,
    ST_AUDIT_LIST_DESC,
    ST_AUDIT_MAX_SEQ,
    ST_AUDIT_HASH_AT,
    ST_AUDIT_BLOCK_PUT,
    ST_AUDIT_BLOCK_NEXT,
    ST_AUDIT_BLOCK_PREV,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    /* IMMEDIATE takes the write lock up front (waiting up to the busy
     * timeout): a deferred transaction that reads and then writes can fail
     * with SQLITE_BUSY at once if another connection wrote in between. */
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_VERSION_GET] = "SELECT COALESCE(MAX(version), 0) FROM schema_version",
    [ST_VERSION_ADD] = "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)",
    [ST_TOKEN_INSERT] = "INSERT INTO tokens (id, hash, owner_type, owner_id, org_id, created_by, description, "
                        "policies, created_at, expires_at, last_used_at) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE id = ?1",
    [ST_TOKEN_LIST] = "SELECT " TOKEN_COLS " FROM tokens WHERE owner_type = ?1 AND owner_id = ?2 AND seq > ?3 "
                      "ORDER BY seq LIMIT ?4",
    [ST_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?1",
    [ST_TOKEN_SET_EXPIRY] = "UPDATE tokens SET expires_at = ?2 WHERE id = ?1",
    [ST_TOKEN_RETIRE] = "UPDATE tokens SET expires_at = ?2, replaced_by = ?3 WHERE id = ?1 AND replaced_by = ''",
    [ST_TOKEN_DELETE_EXPIRED] = "DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at < ?1",
    [ST_TOKEN_DELETE_OWNER] = "DELETE FROM tokens WHERE owner_type = ?1 AND owner_id = ?2 "
                              "AND (?3 IS NULL OR id <> ?3)",
    [ST_TOKEN_DELETE_OWNER_PREFIX] = "DELETE FROM tokens WHERE owner_type = ?1 AND owner_id = ?2 "
                                     "AND substr(id, 1, length(?3)) = ?3",
    /* The WHERE guard skips rows the update would not change, so a flush of
     * stale times writes nothing; MAX keeps the rule readable on its own. */
    [ST_TOKEN_TOUCH] = "UPDATE tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), ?2) "
                       "WHERE id = ?1 AND COALESCE(last_used_at, 0) < ?2",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_ORG_INSERT] = "INSERT INTO orgs (id, name, display_name, status, token_expiry_hours, "
                      "allow_non_expiring_tokens, created_at, updated_at, audit_after) VALUES (?1, ?2, ?3, ?4, ?5, "
                      "?6, ?7, ?8, " AUDIT_HEAD_SEQ ")",
    [ST_ORG_GET] = "SELECT " ORG_COLS " FROM orgs WHERE id = ?1",
    [ST_ORG_GET_NAME] = "SELECT " ORG_COLS " FROM orgs WHERE name = ?1",
    [ST_ORG_LIST] = "SELECT " ORG_COLS " FROM orgs WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [ST_ORG_UPDATE] = "UPDATE orgs SET display_name = ?2, status = ?3, token_expiry_hours = ?4, "
                      "allow_non_expiring_tokens = ?5, updated_at = ?6 WHERE id = ?1",
    [ST_ORG_DELETE] = "DELETE FROM orgs WHERE id = ?1",
    [ST_ORG_DELETE_TOKENS] = "DELETE FROM tokens WHERE org_id = ?1",
    [ST_USER_INSERT] = "INSERT INTO users (id, org_id, username, email, password_hash, role, programmatic_only, "
                       "token_expiry_hours, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [ST_USER_GET_NAME] = "SELECT " USER_COLS " FROM users WHERE org_id = ?1 AND username = ?2",
    [ST_USER_LIST] = "SELECT " USER_COLS " FROM users WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [ST_USER_UPDATE] = "UPDATE users SET email = ?2, password_hash = ?3, role = ?4, programmatic_only = ?5, "
                       "token_expiry_hours = ?6, updated_at = ?7 WHERE id = ?1",
    [ST_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
    [ST_USER_DELETE_TOKENS] = "DELETE FROM tokens WHERE owner_type = 'user' AND owner_id = ?1",
    [ST_ORG_EXISTS] = "SELECT 1 FROM orgs WHERE id = ?1",
    [ST_TEAM_INSERT] = "INSERT INTO teams (id, org_id, name, description, created_at, updated_at, audit_after) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, " AUDIT_HEAD_SEQ ")",
    [ST_TEAM_GET] = "SELECT " TEAM_COLS " FROM teams WHERE org_id = ?1 AND name = ?2",
    [ST_TEAM_LIST] = "SELECT " TEAM_COLS " FROM teams WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [ST_TEAM_UPDATE] = "UPDATE teams SET description = ?2, updated_at = ?3 WHERE id = ?1",
    [ST_TEAM_DELETE] = "DELETE FROM teams WHERE id = ?1",
    /* Memberships and service accounts go by ON DELETE CASCADE; their tokens
     * have no foreign key, so they go first, explicitly. */
    [ST_TEAM_SA_TOKENS_DELETE] = "DELETE FROM tokens WHERE owner_type = 'service_account' AND owner_id IN "
                                 "(SELECT id FROM service_accounts WHERE team_id = ?1)",
    [ST_SA_INSERT] = "INSERT INTO service_accounts (id, org_id, team_id, name, description, roles, created_at, "
                     "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_SA_GET] = "SELECT " SA_COLS " FROM service_accounts WHERE id = ?1",
    [ST_SA_GET_NAME] = "SELECT " SA_COLS " FROM service_accounts WHERE team_id = ?1 AND name = ?2",
    [ST_SA_LIST] = "SELECT " SA_COLS " FROM service_accounts WHERE team_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [ST_SA_UPDATE] = "UPDATE service_accounts SET description = ?2, roles = ?3, updated_at = ?4 WHERE id = ?1",
    [ST_SA_DELETE] = "DELETE FROM service_accounts WHERE id = ?1",
    [ST_SA_TOKENS_DELETE] = "DELETE FROM tokens WHERE owner_type = 'service_account' AND owner_id = ?1",
    [ST_TEAM_EXISTS] = "SELECT 1 FROM teams WHERE id = ?1",
    [ST_TEAM_GET_ID] = "SELECT " TEAM_COLS " FROM teams WHERE id = ?1",
    [ST_ROLE_INSERT] = "INSERT INTO roles (org_id, name, permissions, created_at) VALUES (?1, ?2, ?3, ?4)",
    [ST_ROLE_GET] = "SELECT seq, org_id, name, permissions, created_at FROM roles WHERE org_id = ?1 AND name = ?2",
    [ST_ROLE_LIST] = "SELECT seq, org_id, name, permissions, created_at FROM roles WHERE org_id = ?1 "
                     "ORDER BY name LIMIT 1000",
    [ST_ROLE_DELETE] = "DELETE FROM roles WHERE org_id = ?1 AND name = ?2",
    [ST_GROUP_INSERT] = "INSERT INTO user_groups (id, org_id, name, description, roles, created_at) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_GROUP_GET] = "SELECT " GROUP_COLS " FROM user_groups WHERE org_id = ?1 AND name = ?2",
    [ST_GROUP_LIST] = "SELECT " GROUP_COLS " FROM user_groups WHERE org_id = ?1 ORDER BY name LIMIT 1000",
    [ST_GROUP_LIST_USER] = "SELECT " GROUP_COLS " FROM user_groups WHERE id IN "
                           "(SELECT group_id FROM group_members WHERE user_id = ?1) ORDER BY name LIMIT 1000",
    [ST_GROUP_DELETE] = "DELETE FROM user_groups WHERE id = ?1",
    [ST_GROUP_MEMBERS_DELETE_ALL] = "DELETE FROM group_members WHERE group_id = ?1",
    [ST_GROUP_MEMBER_PUT] = "INSERT INTO group_members (group_id, user_id, created_at) VALUES (?1, ?2, ?3) "
                            "ON CONFLICT (group_id, user_id) DO NOTHING",
    [ST_GROUP_MEMBER_DELETE] = "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2",
    [ST_GROUP_MEMBER_NAMES] = "SELECT COALESCE(json_group_array(username), '[]') FROM "
                              "(SELECT u.username FROM group_members m JOIN users u ON u.id = m.user_id "
                              "WHERE m.group_id = ?1 ORDER BY u.username)",
    [ST_SAVEPOINT] = "SAVEPOINT lk_nested",
    [ST_RELEASE] = "RELEASE lk_nested",
    [ST_ROLLBACK_TO] = "ROLLBACK TO lk_nested",
    [ST_TEAM_SCOPES_FOR_MEMBER] = "SELECT COALESCE(json_group_array(json_object('name', name, 'after', audit_after, "
                                  "'from_ms', created_at * 1000)), '[]') FROM (SELECT t.name, t.audit_after, "
                                  "t.created_at FROM team_members m JOIN teams t ON t.id = m.team_id WHERE "
                                  "t.org_id = ?1 AND m.user_id = ?2 AND m.role = ?3 ORDER BY t.name)",
    [ST_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [ST_AUDIT_INSERT] = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROW,
    [ST_AUDIT_INSERT_2] = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROWS_2,
    [ST_AUDIT_INSERT_4] = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROWS_4,
    [ST_AUDIT_INSERT_8] = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROWS_8,
    [ST_AUDIT_INSERT_16] = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROWS_16,
    /* One lower and one upper bound on seq, so SQLite's plan is a range of
     * the primary key: [?8, ?10), the cursor and the scope folded in. */
    [ST_AUDIT_LIST_ASC] = "SELECT " AUDIT_COLS AUDIT_WHERE "AND seq >= ?8 AND seq < ?10 ORDER BY seq LIMIT ?9",
    [ST_AUDIT_LIST_DESC] = "SELECT " AUDIT_COLS AUDIT_WHERE "AND seq >= ?8 AND seq < ?10 ORDER BY seq DESC LIMIT ?9",
    [ST_AUDIT_MAX_SEQ] = "SELECT " AUDIT_HEAD_SEQ,
    [ST_AUDIT_HASH_AT] = "SELECT hash FROM audit WHERE seq = ?1",
    [ST_AUDIT_BLOCK_PUT] = "INSERT OR IGNORE INTO audit_org_blocks (org_id, block) VALUES (?1, ?2)",
    [ST_AUDIT_BLOCK_NEXT] = "SELECT block FROM audit_org_blocks WHERE org_id = ?1 AND block >= ?2 "
                            "ORDER BY block LIMIT 1",
    [ST_AUDIT_BLOCK_PREV] = "SELECT block FROM audit_org_blocks WHERE org_id = ?1 AND block <= ?2 "
                            "ORDER BY block DESC LIMIT 1",
    [ST_MEMBER_PUT] = "INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4) "
                      "ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
    [ST_MEMBER_DELETE] = "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2",
    [ST_MEMBER_ROLE] = "SELECT role FROM team_members WHERE team_id = ?1 AND user_id = ?2",
    [ST_MEMBER_ROLES] = "SELECT DISTINCT m.role FROM team_members m JOIN teams t ON t.id = m.team_id "
                        "WHERE t.org_id = ?1 AND m.user_id = ?2 ORDER BY m.role",
    [ST_MEMBER_LIST] = "SELECT m.user_id, u.username, m.role, m.created_at FROM team_members m "
                       "JOIN users u ON u.id = m.user_id WHERE m.team_id = ?1 ORDER BY u.username LIMIT 1000",
    /* Expiry notices. The candidates skip tokens of orgs that are not
     * active and tokens retired from notices (see 0006_notices.sql). */
    [ST_NOTICE_CANDIDATES] = "SELECT t.seq, t.id, t.owner_type, t.owner_id, t.org_id, t.created_at, t.expires_at "
                             "FROM tokens t LEFT JOIN orgs o ON o.id = t.org_id "
                             "WHERE t.expires_at IS NOT NULL AND t.expires_at > ?1 AND t.expires_at <= ?2 "
                             "AND t.seq > ?3 AND (t.org_id = '' OR o.status = 'active') "
                             "AND NOT EXISTS (SELECT 1 FROM notice_retired_tokens r WHERE r.token_id = t.id) "
                             "ORDER BY t.seq LIMIT ?4",
    [ST_NOTICE_INSERT] = "INSERT INTO notices (id, token_id, org_id, owner_type, owner_id, channel, days_before, "
                         "expires_at, recipients, status, attempts, last_error, next_attempt_at, created_at, "
                         "updated_at, delivered_at) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
                         "ON CONFLICT (token_id, days_before, channel) DO NOTHING",
    [ST_NOTICE_SUPERSEDE] = "UPDATE notices SET status = 'skipped', last_error = 'superseded by a more imminent "
                            "notice', updated_at = ?3 WHERE token_id = ?1 AND days_before > ?2 AND status = 'pending'",
    [ST_NOTICE_DUE] = "SELECT " NOTICE_COLS " " NOTICE_FROM " WHERE n.status = 'pending' AND n.next_attempt_at <= ?1 "
                      "AND (?3 IS NULL OR n.channel = ?3) ORDER BY n.next_attempt_at, n.seq LIMIT ?2",
    [ST_NOTICE_CLAIM] = "UPDATE notices SET attempts = attempts + 1, next_attempt_at = ?3, updated_at = ?2, "
                        "last_error = 'delivery started; no outcome recorded (interrupted?)' "
                        "WHERE id = ?1 AND status = 'pending' AND next_attempt_at <= ?2",
    [ST_NOTICE_FINISH] = "UPDATE notices SET status = ?2, attempts = ?3, last_error = ?4, next_attempt_at = ?5, "
                         "delivered_at = ?6, updated_at = ?7 WHERE id = ?1",
    [ST_NOTICE_LIST] = "SELECT " NOTICE_COLS " " NOTICE_FROM " WHERE (?1 IS NULL OR n.org_id = ?1) "
                       "AND (?2 IS NULL OR n.status = ?2) AND n.seq > ?3 ORDER BY n.seq LIMIT ?4",
    [ST_NOTICE_PURGE] = "DELETE FROM notices WHERE expires_at < ?1",
};

static const char schema_version_sql[] = "CREATE TABLE IF NOT EXISTS schema_version ("
                                         "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                         "applied_at INTEGER NOT NULL)";

struct sqlite_store {
    struct store base; /* first, so a struct store * is a struct sqlite_store * */
    sqlite3 *db;
    char *wal_path; /* the database's "-wal" file, for sqlite_sync */
    int wal_fd;     /* open on wal_path, or -1 */
    dev_t wal_dev;
    ino_t wal_ino;
    sqlite3_stmt *stmts[ST__COUNT];
};

static struct sqlite_store *ss_of(struct store *s) {
    return (struct sqlite_store *)s;
}

/* Maps a (possibly extended) SQLite result code that is an error to LK_E*. */
static int map_rc(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return LK_EBUSY;
    case SQLITE_NOMEM: return LK_ENOMEM;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return LK_ECONFLICT;
        return LK_ESTORE;
    default: return LK_ESTORE;
    }
}

/*
 * Returns the cached statement id in *ret, preparing it on first use.
 * Statements are prepared lazily because the tables they name exist only
 * after store_migrate().
 */
static int stmt_get(struct sqlite_store *ss, enum stmt_id id, sqlite3_stmt **ret) {
    /* SQLite rolls a transaction back by itself on some errors (disk full,
     * I/O, out of memory). Inside store_tx that must not let later writes
     * run, and commit, on their own. */
    if (id != ST_BEGIN && id != ST_COMMIT && id != ST_ROLLBACK && ss->base.in_tx && sqlite3_get_autocommit(ss->db))
        return LK_ESTORE;
    if (ss->stmts[id] == NULL) {
        int rc = sqlite3_prepare_v3(ss->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &ss->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(ss->stmts[id]);
            ss->stmts[id] = NULL;
            return map_rc(rc);
        }
    }
    *ret = ss->stmts[id];
    return 0;
}

/* Makes st ready for its next use; its step result was already taken. */
static void stmt_done(sqlite3_stmt *st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no rows. */
static int step_done(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    return rc == SQLITE_ROW ? LK_ESTORE : map_rc(rc);
}

/* step_done for an UPDATE or DELETE of one row: LK_ENOTFOUND if it touched none. */
static int step_changed(struct sqlite_store *ss, sqlite3_stmt *st) {
    int r = step_done(st);
    return r == 0 && sqlite3_changes(ss->db) == 0 ? LK_ENOTFOUND : r;
}

/* Runs one of the argument-less statements (BEGIN, COMMIT, ...). */
static int run(struct sqlite_store *ss, enum stmt_id id) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, id, &st);
    if (r != 0)
        return r;
    r = step_done(st);
    stmt_done(st);
    return r;
}

/* 0 = NULL in the database ("never"). */
static int bind_time(sqlite3_stmt *st, int idx, int64_t t) {
    return t == 0 ? sqlite3_bind_null(st, idx) : sqlite3_bind_int64(st, idx, t);
}

static int bind_text(sqlite3_stmt *st, int idx, const char *text) {
    /* SQLITE_STATIC: the statement is reset before the caller regains control. */
    return sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
}

/* Copies a TEXT column into buf (cap bytes); NULL reads as "". */
static int col_copy(sqlite3_stmt *st, int col, char *buf, size_t cap) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        buf[0] = '\0';
        return 0;
    }
    const unsigned char *t = sqlite3_column_text(st, col);
    if (t == NULL)
        return LK_ENOMEM;
    int n = sqlite3_column_bytes(st, col);
    /* Too long for the record or holding a NUL: not something we wrote. */
    if (n < 0 || (size_t)n >= cap || memchr(t, '\0', (size_t)n) != NULL)
        return LK_ESTORE;
    memcpy(buf, t, (size_t)n);
    buf[n] = '\0';
    return 0;
}

/* Binds a hash given as hex (AUDIT_HASH_HEX bytes) as its SECRET_HASH_LEN
 * bytes, decoded into raw, which must outlive the statement's step. */
static int bind_hash(sqlite3_stmt *st, int idx, const char *hex, uint8_t raw[SECRET_HASH_LEN]) {
    /* The decode stops at a NUL, so the length is looked at only after it. */
    if (secret_unhex(hex, SECRET_HASH_LEN, raw) != 0 || hex[2 * SECRET_HASH_LEN] != '\0')
        return SQLITE_MISUSE; /* not a hash we made */
    return sqlite3_bind_blob(st, idx, raw, SECRET_HASH_LEN, SQLITE_STATIC);
}

/*
 * Reads a hash column as hex into buf (AUDIT_HASH_HEX bytes). What latchkey
 * stores is SECRET_HASH_LEN bytes; anything else was put there by someone
 * else, and reads as given when it is text of a hash's length, else as "",
 * so that the chain check names the record instead of the read failing.
 */
static int col_hash(sqlite3_stmt *st, int col, char *buf) {
    buf[0] = '\0';
    int type = sqlite3_column_type(st, col);
    if (type == SQLITE_BLOB) {
        const void *b = sqlite3_column_blob(st, col);
        if (b != NULL && sqlite3_column_bytes(st, col) == SECRET_HASH_LEN)
            secret_hex(b, SECRET_HASH_LEN, buf);
    } else if (type == SQLITE_TEXT) {
        const unsigned char *t = sqlite3_column_text(st, col);
        if (t == NULL)
            return LK_ENOMEM;
        if (sqlite3_column_bytes(st, col) == AUDIT_HASH_HEX - 1 && memchr(t, '\0', AUDIT_HASH_HEX - 1) == NULL)
            memcpy(buf, t, AUDIT_HASH_HEX);
    }
    return 0;
}

/* One TEXT column and where it goes, for col_copy_all. */
struct col_text {
    int col;
    char *buf;
    size_t cap;
};

/* col_copy for each of cols[0..n), stopping at the first failure. */
static int col_copy_all(sqlite3_stmt *st, const struct col_text *cols, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int r = col_copy(st, cols[i].col, cols[i].buf, cols[i].cap);
        if (r != 0)
            return r;
    }
    return 0;
}

/* Copies a TEXT column into a new string in *ret; NULL reads as dflt. */
static int col_dup(sqlite3_stmt *st, int col, const char *dflt, char **ret) {
    const char *src = dflt;
    size_t n = strlen(dflt);
    if (sqlite3_column_type(st, col) != SQLITE_NULL) {
        src = (const char *)sqlite3_column_text(st, col);
        if (src == NULL)
            return LK_ENOMEM;
        int len = sqlite3_column_bytes(st, col);
        if (len < 0)
            return LK_ESTORE;
        n = (size_t)len;
    }
    char *p = malloc(n + 1);
    if (p == NULL)
        return LK_ENOMEM;
    memcpy(p, src, n);
    p[n] = '\0';
    *ret = p;
    return 0;
}

/* Reads the current row (columns TOKEN_COLS) into *ret; leaves nothing owned on failure. */
static int row_to_rec(sqlite3_stmt *st, struct token_rec *ret) {
    struct token_rec rec;
    int r;
    memset(&rec, 0, sizeof(rec));

    rec.seq = sqlite3_column_int64(st, 0);
    r = col_copy(st, 1, rec.id, sizeof(rec.id));
    if (r != 0)
        goto out;
    if (sqlite3_column_type(st, 2) != SQLITE_BLOB || sqlite3_column_bytes(st, 2) != (int)sizeof(rec.hash)) {
        r = LK_ESTORE;
        goto out;
    }
    const void *hash = sqlite3_column_blob(st, 2);
    if (hash == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    memcpy(rec.hash, hash, sizeof(rec.hash));
    r = col_copy(st, 3, rec.owner_type, sizeof(rec.owner_type));
    if (r == 0)
        r = col_copy(st, 4, rec.owner_id, sizeof(rec.owner_id));
    if (r == 0)
        r = col_copy(st, 5, rec.org_id, sizeof(rec.org_id));
    if (r == 0)
        r = col_copy(st, 6, rec.created_by, sizeof(rec.created_by));
    if (r == 0)
        r = col_dup(st, 7, "", &rec.description);
    if (r == 0)
        r = col_dup(st, 8, "[]", &rec.policies_json);
    if (r != 0)
        goto out;
    rec.created_at = sqlite3_column_int64(st, 9);
    rec.expires_at = sqlite3_column_int64(st, 10);   /* NULL reads as 0 */
    rec.last_used_at = sqlite3_column_int64(st, 11); /* NULL reads as 0 */
    r = col_copy(st, 12, rec.replaced_by, sizeof(rec.replaced_by));
    if (r != 0)
        goto out;
    *ret = rec;
    return 0;
out:
    token_rec_done(&rec);
    return r;
}

/*
 * Waiting for another connection's write lock. SQLite's own busy timeout
 * sleeps 1 ms, then 2, 5, 10 ... ms between tries: write locks here are held
 * for well under a millisecond (the audit writer's batches, one request's
 * transaction), so that coarse schedule measured as hundreds of milliseconds
 * of p99 for concurrent writes. Start at 20 us and double up to 1 ms, for at
 * most SQLITE_BUSY_TIMEOUT_MS in all.
 */
static int busy_wait(void *arg, int attempt) {
    static const long max_ns = 1000L * 1000;
    long ns = 20L * 1000;
    for (int i = 0; i < attempt && ns < max_ns; i++)
        ns *= 2;
    if (ns > max_ns)
        ns = max_ns;
    /* Six short steps (about 1.3 ms), then 1 ms each: about the timeout in all. */
    if (attempt > SQLITE_BUSY_TIMEOUT_MS + 6)
        return 0;
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
    return 1;
}

/*
 * Creates the database file 0600 whatever the umask, so secrets' hashes and
 * metadata are never world-readable. SQLite gives its -wal and -shm files
 * the main file's mode. An existing file is left as its owner set it.
 */
static int create_file(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : LK_ESTORE;
    int r = fchmod(fd, 0600) == 0 ? 0 : LK_ESTORE;
    close(fd);
    return r;
}

/* lk_unhex(x), for migration 0010: 64 lower-case hex digits as their 32
 * bytes; any other value as it is. */
static void sql_unhex(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    uint8_t raw[SECRET_HASH_LEN];
    const unsigned char *t = sqlite3_value_type(argv[0]) == SQLITE_TEXT ? sqlite3_value_text(argv[0]) : NULL;
    if (t != NULL && sqlite3_value_bytes(argv[0]) == 2 * SECRET_HASH_LEN &&
        secret_unhex((const char *)t, SECRET_HASH_LEN, raw) == 0)
        sqlite3_result_blob(ctx, raw, sizeof(raw), SQLITE_TRANSIENT);
    else
        sqlite3_result_value(ctx, argv[0]);
}

static int configure(struct sqlite_store *ss) {
    sqlite3_stmt *st = NULL;
    int rc, r;

#ifndef SQLITE_OPEN_EXRESCODE
    sqlite3_extended_result_codes(ss->db, 1);
#endif
    /* Set first, so that switching to WAL below waits for other openers too. */
    rc = sqlite3_busy_handler(ss->db, busy_wait, NULL);
    if (rc != SQLITE_OK)
        return map_rc(rc);
    rc =
        sqlite3_create_function(ss->db, "lk_unhex", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_unhex, NULL, NULL);
    if (rc != SQLITE_OK)
        return map_rc(rc);
#ifdef SQLITE_DBCONFIG_DQS_DML
    /* "..." is an identifier, never a string, as in PostgreSQL. */
    sqlite3_db_config(ss->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    sqlite3_db_config(ss->db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
#endif

    /* The pragma answers the mode now in force; anything but WAL (e.g. a
     * file system without shared memory) breaks the durability reasoning
     * below, so refuse it rather than run with different guarantees. */
    rc = sqlite3_prepare_v2(ss->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        r = map_rc(rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        r = map_rc(rc);
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (mode == NULL || strcasecmp(mode, "wal") != 0) {
        r = LK_ESTORE;
        goto out;
    }

    /*
     * synchronous=NORMAL in WAL mode: a commit appends to the WAL without an
     * fsync (the WAL is synced at checkpoints). A crash of the process never
     * loses a committed transaction; a power loss or OS crash may lose the
     * last few, but never corrupts the database. This keeps store writes from
     * waiting on the disk; the audit trail issue adds explicit durability
     * (group commit) where a request must not be answered before its record
     * is on disk.
     */
    rc = sqlite3_exec(ss->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    r = rc == SQLITE_OK ? 0 : map_rc(rc);
out:
    sqlite3_finalize(st);
    return r;
}

static void sqlite_close(struct store *s) {
    struct sqlite_store *ss = ss_of(s);
    if (ss == NULL)
        return;
    for (size_t i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(ss->stmts[i]);
    if (ss->wal_fd >= 0)
        close(ss->wal_fd);
    free(ss->wal_path);
    /* With every statement finalized this closes for good; the last
     * connection to close checkpoints the WAL into the database file. */
    sqlite3_close(ss->db);
    free(ss);
}

/* Process-wide settings, before SQLite initialises: no memory statistics
 * (they take a global mutex on every allocation, measured as a visible cost
 * of the audit writer). */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_global_config(void) {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sqlite_open(const char *path, struct store **ret) {
    struct sqlite_store *ss = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int r;

#ifdef SQLITE_OPEN_EXRESCODE
    flags |= SQLITE_OPEN_EXRESCODE;
#endif
    /* "" and ":memory:" would be private to this connection: every worker
     * would see its own, empty store. The DSN must name a file. */
    if (path[0] == '\0' || strcmp(path, ":memory:") == 0)
        return LK_EINVAL;
    pthread_once(&sqlite_once, sqlite_global_config);
    r = create_file(path);
    if (r != 0)
        return r;
    ss = calloc(1, sizeof(*ss));
    if (ss == NULL)
        return LK_ENOMEM;
    ss->base.ops = &store_sqlite_ops;
    ss->wal_fd = -1;
    size_t plen = strlen(path);
    ss->wal_path = malloc(plen + 5);
    if (ss->wal_path == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    memcpy(ss->wal_path, path, plen);
    memcpy(ss->wal_path + plen, "-wal", 5);
    int rc = sqlite3_open_v2(path, &ss->db, flags, NULL);
    if (rc != SQLITE_OK) {
        r = rc == SQLITE_NOMEM ? LK_ENOMEM : LK_ESTORE;
        goto out;
    }
    /* Switching a fresh file to WAL can answer BUSY at once while another
     * connection does the same: retry for up to about 5 s. */
    r = configure(ss);
    for (int attempt = 0; r == LK_EBUSY && attempt < 250; attempt++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        r = configure(ss);
    }
    if (r != 0)
        goto out;
    *ret = &ss->base;
    ss = NULL;
out:
    if (ss != NULL)
        sqlite_close(&ss->base);
    return r;
}

static int sqlite_begin(struct store *s) {
    return run(ss_of(s), ST_BEGIN);
}

static int sqlite_commit(struct store *s) {
    struct sqlite_store *ss = ss_of(s);
    /* SQLite already rolled the transaction back after an error: report it. */
    if (sqlite3_get_autocommit(ss->db))
        return LK_ESTORE;
    return run(ss, ST_COMMIT);
}

static int sqlite_rollback(struct store *s) {
    struct sqlite_store *ss = ss_of(s);
    if (sqlite3_get_autocommit(ss->db))
        return 0;
    return run(ss, ST_ROLLBACK);
}

static int sqlite_savepoint(struct store *s) {
    return run(ss_of(s), ST_SAVEPOINT);
}

static int sqlite_release(struct store *s) {
    return run(ss_of(s), ST_RELEASE);
}

static int sqlite_rollback_to(struct store *s) {
    return run(ss_of(s), ST_ROLLBACK_TO);
}

/* Ends a transaction this backend began itself: commits if r is 0. */
static int tx_end(struct sqlite_store *ss, int r) {
    if (r == 0) {
        r = sqlite_commit(&ss->base);
        if (r == 0)
            return 0;
    }
    sqlite_rollback(&ss->base);
    return r;
}

static int version_get(struct sqlite_store *ss, int *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_VERSION_GET, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        if (v >= 0 && v <= INT_MAX)
            *ret = (int)v;
        else
            r = LK_ESTORE;
    } else {
        r = map_rc(rc);
    }
    stmt_done(st);
    return r;
}

static int version_add(struct sqlite_store *ss, const struct store_migration *m) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_VERSION_ADD, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_bind_int(st, 1, m->version);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, m->name);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

/*
 * Applies m in its own transaction unless it is already in force. The write
 * lock is taken before the version is read, so of two processes migrating at
 * once the second waits, then sees the new version and skips.
 * *current is updated to the version in force once committed.
 */
static int migrate_one(struct sqlite_store *ss, const struct store_migration *m, int *current) {
    int v = 0;
    int r = sqlite_begin(&ss->base);
    if (r != 0)
        return r;
    r = version_get(ss, &v);
    if (r != 0 || v >= m->version)
        goto out;
    int rc = sqlite3_exec(ss->db, m->sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        r = map_rc(rc);
        goto out;
    }
    r = version_add(ss, m);
    v = m->version;
out:
    r = tx_end(ss, r);
    if (r == 0)
        *current = v;
    return r;
}

static int migrate_once(struct store *s, int *ret_version) {
    struct sqlite_store *ss = ss_of(s);
    int current = 0;

    /* scripts/embed.py keeps the order it is given; refuse a broken one
     * rather than skip a migration for good. */
    for (unsigned i = 0; i < store_migrations_count; i++)
        if (store_migrations[i].version <= 0 ||
            (i > 0 && store_migrations[i].version <= store_migrations[i - 1].version))
            return LK_EINTERNAL;

    int rc = sqlite3_exec(ss->db, schema_version_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return map_rc(rc);
    int r = version_get(ss, &current);
    if (r != 0)
        return r;
    for (unsigned i = 0; i < store_migrations_count; i++) {
        if (store_migrations[i].version <= current)
            continue;
        r = migrate_one(ss, &store_migrations[i], &current);
        if (r != 0)
            return r;
    }
    /* A newer binary may have migrated further; report what is in force. */
    if (ret_version != NULL)
        *ret_version = current;
    return 0;
}

static int sqlite_token_insert(struct store *s, const struct token_rec *rec) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_TOKEN_INSERT, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, rec->id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, 2, rec->hash, (int)sizeof(rec->hash), SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, rec->owner_type);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, rec->owner_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, rec->org_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 6, rec->created_by);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 7, rec->description != NULL ? rec->description : "");
    if (rc == SQLITE_OK)
        rc = bind_text(st, 8, rec->policies_json != NULL ? rec->policies_json : "[]");
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 9, rec->created_at);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 10, rec->expires_at);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 11, rec->last_used_at);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_token_get(struct store *s, const char *id, struct token_rec *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_TOKEN_GET, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, id);
    if (rc != SQLITE_OK) {
        r = map_rc(rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = row_to_rec(st, ret);
    else if (rc == SQLITE_DONE)
        r = LK_ENOTFOUND;
    else
        r = map_rc(rc);
out:
    stmt_done(st);
    return r;
}

/*
 * Steps st (already bound) to its end, reading each row with row() into a
 * new array of elem-byte elements, at most limit of them (LIMIT bounds the
 * rows: more means a broken query). On success hands the array and its
 * length out; on failure frees what was read (done() per element if given)
 * and leaves the outputs alone.
 */
static int collect(sqlite3_stmt *st, size_t elem, int limit, int (*row)(sqlite3_stmt *, void *), void (*done)(void *),
                   void **ret_items, size_t *ret_count) {
    char *items = NULL;
    size_t count = 0, cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            if (cap >= (size_t)limit) {
                r = LK_ESTORE;
                goto out;
            }
            size_t ncap = cap == 0 ? 16 : cap * 2;
            if (ncap > (size_t)limit)
                ncap = (size_t)limit;
            char *p = reallocarray(items, ncap, elem);
            if (p == NULL) {
                r = LK_ENOMEM;
                goto out;
            }
            items = p;
            cap = ncap;
        }
        r = row(st, items + count * elem);
        if (r != 0)
            goto out;
        count++;
    }
    if (rc != SQLITE_DONE) {
        r = map_rc(rc);
        goto out;
    }
    *ret_items = items;
    *ret_count = count;
    return 0;
out:
    for (size_t i = 0; done != NULL && i < count; i++)
        done(items + i * elem);
    free(items);
    return r;
}

/* Row readers and destructors with the signatures collect() takes. */
static int token_row(sqlite3_stmt *st, void *p);
static void token_done(void *p);
static int org_row(sqlite3_stmt *st, void *p);
static int user_row(sqlite3_stmt *st, void *p);
static void user_done(void *p);
static int team_row(sqlite3_stmt *st, void *p);
static int sa_row(sqlite3_stmt *st, void *p);
static int role_row(sqlite3_stmt *st, void *p);
static int group_row(sqlite3_stmt *st, void *p);

static int sqlite_token_list(struct store *s, const char *owner_type, const char *owner_id, int64_t after_seq,
                             int limit, struct token_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_TOKEN_LIST, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, owner_type);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, owner_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, after_seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 4, limit);
    r = rc == SQLITE_OK
            ? collect(st, sizeof(*ret->items), limit, token_row, token_done, (void **)&ret->items, &ret->count)
            : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_token_set_expiry(struct store *s, const char *id, int64_t expires_at) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_TOKEN_SET_EXPIRY, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, id);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 2, expires_at);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_token_retire(struct store *s, const char *id, const char *replaced_by, int64_t expires_at) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_TOKEN_RETIRE, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, id);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 2, expires_at);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, replaced_by);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_token_delete_expired(struct store *s, int64_t cutoff, size_t *ret_count) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_TOKEN_DELETE_EXPIRED, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_bind_int64(st, 1, cutoff);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    if (r == 0 && ret_count != NULL)
        *ret_count = (size_t)sqlite3_changes(ss->db);
    stmt_done(st);
    return r;
}

static int sqlite_token_delete(struct store *s, const char *id) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_TOKEN_DELETE, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, id);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

/* Runs a DELETE whose three text parameters are p1, p2 and p3 (NULL binds
 * NULL); *ret_count (may be NULL) gets the number of rows it deleted. */
static int delete_counted(struct sqlite_store *ss, enum stmt_id stmt, const char *p1, const char *p2, const char *p3,
                          size_t *ret_count) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, stmt, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, p1);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, p2);
    if (rc == SQLITE_OK)
        rc = p3 != NULL ? bind_text(st, 3, p3) : sqlite3_bind_null(st, 3);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    if (r == 0 && ret_count != NULL) {
#if SQLITE_VERSION_NUMBER >= 3037000
        *ret_count = (size_t)sqlite3_changes64(ss->db);
#else
        *ret_count = (size_t)sqlite3_changes(ss->db);
#endif
    }
    stmt_done(st);
    return r;
}

static int sqlite_token_delete_owner(struct store *s, const char *owner_type, const char *owner_id, const char *keep_id,
                                     size_t *ret_count) {
    return delete_counted(ss_of(s), ST_TOKEN_DELETE_OWNER, owner_type, owner_id, keep_id, ret_count);
}

static int sqlite_token_delete_owner_prefix(struct store *s, const char *owner_type, const char *owner_id,
                                            const char *id_prefix, size_t *ret_count) {
    return delete_counted(ss_of(s), ST_TOKEN_DELETE_OWNER_PREFIX, owner_type, owner_id, id_prefix, ret_count);
}

static int sqlite_token_touch(struct store *s, const struct token_touch *touches, size_t n) {
    struct sqlite_store *ss = ss_of(s);
    /* Inside store_tx the caller's transaction covers the batch. */
    int own_tx = !s->in_tx;
    sqlite3_stmt *st = NULL;
    int r;

    if (own_tx) {
        r = sqlite_begin(s);
        if (r != 0)
            return r;
    }
    r = stmt_get(ss, ST_TOKEN_TOUCH, &st);
    for (size_t i = 0; r == 0 && i < n; i++) {
        int rc = bind_text(st, 1, touches[i].id);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 2, touches[i].last_used_at);
        /* No row changed: unknown id or not newer. Both are fine. */
        r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
        stmt_done(st);
    }
    if (own_tx)
        r = tx_end(ss, r);
    return r;
}

static int sqlite_meta_get(struct store *s, const char *key, char **ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_META_GET, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, key);
    if (rc != SQLITE_OK) {
        r = map_rc(rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = col_dup(st, 0, "", ret);
    else if (rc == SQLITE_DONE)
        r = LK_ENOTFOUND;
    else
        r = map_rc(rc);
out:
    stmt_done(st);
    return r;
}

static int sqlite_meta_set(struct store *s, const char *key, const char *value) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_META_SET, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, key);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, value);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

/* --- organisations and users ---------------------------------------------- */

/* 1 if the org exists, 0 if not, or a negative code. */
static int org_exists(struct sqlite_store *ss, const char *org_id) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_ORG_EXISTS, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, org_id);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : map_rc(rc);
    } else {
        r = map_rc(rc);
    }
    stmt_done(st);
    return r;
}

static int row_to_org(sqlite3_stmt *st, struct org_rec *ret) {
    struct org_rec o;
    memset(&o, 0, sizeof(o));
    o.seq = sqlite3_column_int64(st, 0);
    const struct col_text cols[] = {
        {1, o.id, sizeof(o.id)},
        {2, o.name, sizeof(o.name)},
        {3, o.display_name, sizeof(o.display_name)},
        {4, o.status, sizeof(o.status)},
    };
    int r = col_copy_all(st, cols, sizeof(cols) / sizeof(cols[0]));
    if (r != 0)
        return r;
    o.token_expiry_hours = sqlite3_column_int64(st, 5);
    o.allow_non_expiring_tokens = sqlite3_column_int(st, 6) != 0;
    o.created_at = sqlite3_column_int64(st, 7);
    o.updated_at = sqlite3_column_int64(st, 8);
    o.audit_after = sqlite3_column_int64(st, 9);
    *ret = o;
    return 0;
}

static int row_to_user(sqlite3_stmt *st, struct user_rec *ret) {
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    u.seq = sqlite3_column_int64(st, 0);
    int r = col_copy(st, 1, u.id, sizeof(u.id));
    if (r == 0)
        r = col_copy(st, 2, u.org_id, sizeof(u.org_id));
    if (r == 0)
        r = col_copy(st, 3, u.username, sizeof(u.username));
    if (r == 0)
        r = col_copy(st, 4, u.email, sizeof(u.email));
    if (r == 0 && sqlite3_column_type(st, 5) != SQLITE_NULL)
        r = col_dup(st, 5, "", &u.password_hash);
    if (r == 0)
        r = col_copy(st, 6, u.role, sizeof(u.role));
    if (r != 0) {
        user_rec_done(&u);
        return r;
    }
    u.programmatic_only = sqlite3_column_int(st, 7) != 0;
    u.token_expiry_hours = sqlite3_column_int64(st, 8); /* NULL reads as 0 */
    u.created_at = sqlite3_column_int64(st, 9);
    u.updated_at = sqlite3_column_int64(st, 10);
    *ret = u;
    return 0;
}

static int sqlite_org_insert(struct store *s, const struct org_rec *o) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_ORG_INSERT, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, o->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, o->name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, o->display_name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, o->status);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, o->token_expiry_hours);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 6, o->allow_non_expiring_tokens ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 7, o->created_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 8, o->updated_at);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_org_get(struct store *s, const char *id, const char *name, struct org_rec *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), id != NULL ? ST_ORG_GET : ST_ORG_GET_NAME, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, id != NULL ? id : name);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = row_to_org(st, ret);
    else
        r = rc == SQLITE_DONE ? LK_ENOTFOUND : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_org_list(struct store *s, int64_t after_seq, int limit, struct org_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_ORG_LIST, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_bind_int64(st, 1, after_seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 2, limit);
    r = rc == SQLITE_OK ? collect(st, sizeof(*ret->items), limit, org_row, NULL, (void **)&ret->items, &ret->count)
                        : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_org_update(struct store *s, const struct org_rec *o) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_ORG_UPDATE, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, o->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, o->display_name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, o->status);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, o->token_expiry_hours);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 5, o->allow_non_expiring_tokens ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 6, o->updated_at);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

/* Runs statement id with one text parameter; *ret_changes gets the rows changed. */
static int run_text(struct sqlite_store *ss, enum stmt_id id, const char *arg, int *ret_changes) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, id, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, arg);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    if (r == 0 && ret_changes != NULL)
        *ret_changes = sqlite3_changes(ss->db);
    stmt_done(st);
    return r;
}

/* Deletes the rows dependent on `id` with dep_stmt, then the row itself with
 * main_stmt, in one transaction (the caller's, or our own). */
static int delete_with(struct store *s, enum stmt_id dep_stmt, enum stmt_id main_stmt, const char *id) {
    struct sqlite_store *ss = ss_of(s);
    int own_tx = !s->in_tx, changes = 0;
    int r = own_tx ? sqlite_begin(s) : 0;
    if (r != 0)
        return r;
    r = run_text(ss, dep_stmt, id, NULL);
    if (r == 0)
        r = run_text(ss, main_stmt, id, &changes);
    if (r == 0 && changes == 0)
        r = LK_ENOTFOUND;
    return own_tx ? tx_end(ss, r) : r;
}

static int sqlite_org_delete(struct store *s, const char *id) {
    /* Users go by the foreign key's ON DELETE CASCADE; tokens have no
     * foreign key (root's tokens belong to no org), so they go explicitly. */
    return delete_with(s, ST_ORG_DELETE_TOKENS, ST_ORG_DELETE, id);
}

static int bind_user(sqlite3_stmt *st, const struct user_rec *u, int with_keys) {
    int rc = bind_text(st, 1, u->id);
    int i = 2;
    if (with_keys) {
        if (rc == SQLITE_OK)
            rc = bind_text(st, 2, u->org_id);
        if (rc == SQLITE_OK)
            rc = bind_text(st, 3, u->username);
        i = 4;
    }
    if (rc == SQLITE_OK)
        rc = bind_text(st, i++, u->email);
    if (rc == SQLITE_OK)
        rc = u->password_hash ? bind_text(st, i, u->password_hash) : sqlite3_bind_null(st, i);
    i++;
    if (rc == SQLITE_OK)
        rc = bind_text(st, i++, u->role);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, i++, u->programmatic_only ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = bind_time(st, i++, u->token_expiry_hours);
    if (with_keys && rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, i++, u->created_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, i++, u->updated_at);
    return rc;
}

static int sqlite_user_insert(struct store *s, const struct user_rec *u) {
    struct sqlite_store *ss = ss_of(s);
    /* An unknown org is "not found", not a constraint failure. */
    int e = org_exists(ss, u->org_id);
    if (e <= 0)
        return e == 0 ? LK_ENOTFOUND : e;
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_USER_INSERT, &st);
    if (r != 0)
        return r;
    int rc = bind_user(st, u, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    /* The org went away between the check and the insert (another
     * connection deleted it): the foreign key caught it. */
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        r = LK_ENOTFOUND;
    else
        r = rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? LK_ESTORE : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_user_get(struct store *s, const char *id, const char *org_id, const char *username,
                           struct user_rec *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), id != NULL ? ST_USER_GET : ST_USER_GET_NAME, &st);
    if (r != 0)
        return r;
    int rc = id != NULL ? bind_text(st, 1, id) : bind_text(st, 1, org_id);
    if (rc == SQLITE_OK && id == NULL)
        rc = bind_text(st, 2, username);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = row_to_user(st, ret);
    else
        r = rc == SQLITE_DONE ? LK_ENOTFOUND : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_user_list(struct store *s, const char *org_id, int64_t after_seq, int limit, struct user_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_USER_LIST, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, org_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, after_seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 3, limit);
    r = rc == SQLITE_OK
            ? collect(st, sizeof(*ret->items), limit, user_row, user_done, (void **)&ret->items, &ret->count)
            : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_user_update(struct store *s, const struct user_rec *u) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_USER_UPDATE, &st);
    if (r != 0)
        return r;
    int rc = bind_user(st, u, 0);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_user_delete(struct store *s, const char *id) {
    return delete_with(s, ST_USER_DELETE_TOKENS, ST_USER_DELETE, id);
}

/* --- teams ------------------------------------------------------------------ */

static int row_to_team(sqlite3_stmt *st, struct team_rec *ret) {
    struct team_rec t;
    memset(&t, 0, sizeof(t));
    t.seq = sqlite3_column_int64(st, 0);
    const struct col_text cols[] = {
        {1, t.id, sizeof(t.id)},
        {2, t.org_id, sizeof(t.org_id)},
        {3, t.name, sizeof(t.name)},
        {4, t.description, sizeof(t.description)},
    };
    int r = col_copy_all(st, cols, sizeof(cols) / sizeof(cols[0]));
    if (r != 0)
        return r;
    t.created_at = sqlite3_column_int64(st, 5);
    t.updated_at = sqlite3_column_int64(st, 6);
    *ret = t;
    return 0;
}

static int sqlite_team_insert(struct store *s, const struct team_rec *t) {
    struct sqlite_store *ss = ss_of(s);
    int e = org_exists(ss, t->org_id);
    if (e <= 0)
        return e == 0 ? LK_ENOTFOUND : e;
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_TEAM_INSERT, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, t->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, t->org_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, t->name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, t->description);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, t->created_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 6, t->updated_at);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_team_get(struct store *s, const char *org_id, const char *name, struct team_rec *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_TEAM_GET, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, org_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, name);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = row_to_team(st, ret);
    else
        r = rc == SQLITE_DONE ? LK_ENOTFOUND : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_team_get_by_id(struct store *s, const char *id, struct team_rec *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_TEAM_GET_ID, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, id);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = row_to_team(st, ret);
    else
        r = rc == SQLITE_DONE ? LK_ENOTFOUND : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_team_list(struct store *s, const char *org_id, int64_t after_seq, int limit, struct team_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_TEAM_LIST, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, org_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, after_seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 3, limit);
    r = rc == SQLITE_OK ? collect(st, sizeof(*ret->items), limit, team_row, NULL, (void **)&ret->items, &ret->count)
                        : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_team_update(struct store *s, const struct team_rec *t) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_TEAM_UPDATE, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, t->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, t->description);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, t->updated_at);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_team_delete(struct store *s, const char *id) {
    return delete_with(s, ST_TEAM_SA_TOKENS_DELETE, ST_TEAM_DELETE, id);
}

/* Binds team_id and user_id as ?1 and ?2. */
static int bind_pair(sqlite3_stmt *st, const char *a, const char *b) {
    int rc = bind_text(st, 1, a);
    return rc == SQLITE_OK ? bind_text(st, 2, b) : rc;
}

static int sqlite_team_member_put(struct store *s, const char *team_id, const char *user_id, const char *role,
                                  int64_t now) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_MEMBER_PUT, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, team_id, user_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, role);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, now);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_team_member_delete(struct store *s, const char *team_id, const char *user_id) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_MEMBER_DELETE, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, team_id, user_id);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_team_member_role(struct store *s, const char *team_id, const char *user_id, char *ret_role) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_MEMBER_ROLE, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, team_id, user_id);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = col_copy(st, 0, ret_role, STORE_STATUS_MAX);
    else
        r = rc == SQLITE_DONE ? LK_ENOTFOUND : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_team_member_roles(struct store *s, const char *org_id, const char *user_id,
                                    char (*ret_roles)[STORE_STATUS_MAX], size_t cap, size_t *ret_count) {
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    int r = stmt_get(ss_of(s), ST_MEMBER_ROLES, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, org_id, user_id);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < cap)
            r = col_copy(st, 0, ret_roles[n], STORE_STATUS_MAX);
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = map_rc(rc);
    stmt_done(st);
    if (r == 0)
        *ret_count = n < cap ? n : cap;
    return r;
}

static int member_row(sqlite3_stmt *st, void *p) {
    struct team_member_rec *m = p;
    memset(m, 0, sizeof(*m));
    int r = col_copy(st, 0, m->user_id, sizeof(m->user_id));
    if (r == 0)
        r = col_copy(st, 1, m->username, sizeof(m->username));
    if (r == 0)
        r = col_copy(st, 2, m->role, sizeof(m->role));
    m->created_at = sqlite3_column_int64(st, 3);
    return r;
}

static int sqlite_team_member_list(struct store *s, const char *team_id, struct team_member_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_MEMBER_LIST, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, team_id);
    r = rc == SQLITE_OK ? collect(st, sizeof(*ret->items), 1000, member_row, NULL, (void **)&ret->items, &ret->count)
                        : map_rc(rc);
    stmt_done(st);
    return r;
}

/* --- service accounts ------------------------------------------------------- */

static int row_to_sa(sqlite3_stmt *st, struct sa_rec *ret) {
    struct sa_rec a;
    memset(&a, 0, sizeof(a));
    a.seq = sqlite3_column_int64(st, 0);
    const struct col_text cols[] = {
        {1, a.id, sizeof(a.id)},     {2, a.org_id, sizeof(a.org_id)},           {3, a.team_id, sizeof(a.team_id)},
        {4, a.name, sizeof(a.name)}, {5, a.description, sizeof(a.description)}, {6, a.roles_json, sizeof(a.roles_json)},
    };
    int r = col_copy_all(st, cols, sizeof(cols) / sizeof(cols[0]));
    if (r != 0)
        return r;
    a.created_at = sqlite3_column_int64(st, 7);
    a.updated_at = sqlite3_column_int64(st, 8);
    *ret = a;
    return 0;
}

static int sqlite_sa_insert(struct store *s, const struct sa_rec *a) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int exists = 0;
    int r = stmt_get(ss, ST_TEAM_EXISTS, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, a->team_id);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        exists = rc == SQLITE_ROW;
        r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : map_rc(rc);
    } else {
        r = map_rc(rc);
    }
    stmt_done(st);
    if (r != 0)
        return r;
    if (!exists)
        return LK_ENOTFOUND;
    r = stmt_get(ss, ST_SA_INSERT, &st);
    if (r != 0)
        return r;
    rc = bind_text(st, 1, a->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, a->org_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, a->team_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, a->name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, a->description);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 6, a->roles_json);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 7, a->created_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 8, a->updated_at);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_sa_get(struct store *s, const char *id, const char *team_id, const char *name, struct sa_rec *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), id != NULL ? ST_SA_GET : ST_SA_GET_NAME, &st);
    if (r != 0)
        return r;
    int rc = id != NULL ? bind_text(st, 1, id) : bind_pair(st, team_id, name);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = row_to_sa(st, ret);
    else
        r = rc == SQLITE_DONE ? LK_ENOTFOUND : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_sa_list(struct store *s, const char *team_id, int64_t after_seq, int limit, struct sa_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_SA_LIST, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, team_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, after_seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 3, limit);
    r = rc == SQLITE_OK ? collect(st, sizeof(*ret->items), limit, sa_row, NULL, (void **)&ret->items, &ret->count)
                        : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_sa_update(struct store *s, const struct sa_rec *a) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_SA_UPDATE, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, a->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, a->description);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, a->roles_json);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, a->updated_at);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_sa_delete(struct store *s, const char *id) {
    return delete_with(s, ST_SA_TOKENS_DELETE, ST_SA_DELETE, id);
}

/* --- custom roles and groups ---------------------------------------------- */

static int row_to_role(sqlite3_stmt *st, struct role_rec *ret) {
    struct role_rec r;
    memset(&r, 0, sizeof(r));
    r.seq = sqlite3_column_int64(st, 0);
    const struct col_text cols[] = {
        {1, r.org_id, sizeof(r.org_id)},
        {2, r.name, sizeof(r.name)},
        {3, r.permissions_json, sizeof(r.permissions_json)},
    };
    int rc = col_copy_all(st, cols, sizeof(cols) / sizeof(cols[0]));
    if (rc != 0)
        return rc;
    r.created_at = sqlite3_column_int64(st, 4);
    *ret = r;
    return 0;
}

static int row_to_group(sqlite3_stmt *st, struct group_rec *ret) {
    struct group_rec g;
    memset(&g, 0, sizeof(g));
    g.seq = sqlite3_column_int64(st, 0);
    const struct col_text cols[] = {
        {1, g.id, sizeof(g.id)},
        {2, g.org_id, sizeof(g.org_id)},
        {3, g.name, sizeof(g.name)},
        {4, g.description, sizeof(g.description)},
        {5, g.roles_json, sizeof(g.roles_json)},
    };
    int r = col_copy_all(st, cols, sizeof(cols) / sizeof(cols[0]));
    if (r != 0)
        return r;
    g.created_at = sqlite3_column_int64(st, 6);
    *ret = g;
    return 0;
}

static int sqlite_role_insert(struct store *s, const struct role_rec *r) {
    sqlite3_stmt *st = NULL;
    int rv = stmt_get(ss_of(s), ST_ROLE_INSERT, &st);
    if (rv != 0)
        return rv;
    int rc = bind_pair(st, r->org_id, r->name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, r->permissions_json);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, r->created_at);
    rv = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return rv;
}

static int sqlite_role_get(struct store *s, const char *org_id, const char *name, struct role_rec *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_ROLE_GET, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, org_id, name);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = row_to_role(st, ret);
    else
        r = rc == SQLITE_DONE ? LK_ENOTFOUND : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_role_list(struct store *s, const char *org_id, struct role_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_ROLE_LIST, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, org_id);
    r = rc == SQLITE_OK ? collect(st, sizeof(*ret->items), 1000, role_row, NULL, (void **)&ret->items, &ret->count)
                        : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_role_delete(struct store *s, const char *org_id, const char *name) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_ROLE_DELETE, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, org_id, name);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_group_insert(struct store *s, const struct group_rec *g) {
    struct sqlite_store *ss = ss_of(s);
    int e = org_exists(ss, g->org_id);
    if (e <= 0)
        return e == 0 ? LK_ENOTFOUND : e;
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_GROUP_INSERT, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, g->id, g->org_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, g->name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, g->description);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, g->roles_json);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 6, g->created_at);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_group_get(struct store *s, const char *org_id, const char *name, struct group_rec *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_GROUP_GET, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, org_id, name);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = row_to_group(st, ret);
    else
        r = rc == SQLITE_DONE ? LK_ENOTFOUND : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_group_list(struct store *s, const char *org_id, const char *user_id, struct group_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), org_id != NULL ? ST_GROUP_LIST : ST_GROUP_LIST_USER, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, org_id != NULL ? org_id : user_id);
    r = rc == SQLITE_OK ? collect(st, sizeof(*ret->items), 1000, group_row, NULL, (void **)&ret->items, &ret->count)
                        : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_group_delete(struct store *s, const char *id) {
    return delete_with(s, ST_GROUP_MEMBERS_DELETE_ALL, ST_GROUP_DELETE, id);
}

static int sqlite_group_member_put(struct store *s, const char *group_id, const char *user_id, int64_t now) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_GROUP_MEMBER_PUT, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, group_id, user_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, now);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_group_member_delete(struct store *s, const char *group_id, const char *user_id) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_GROUP_MEMBER_DELETE, &st);
    if (r != 0)
        return r;
    int rc = bind_pair(st, group_id, user_id);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_group_member_names(struct store *s, const char *group_id, char **ret_json) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_GROUP_MEMBER_NAMES, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, group_id);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = col_dup(st, 0, "[]", ret_json);
    else
        r = map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_team_scopes_for_member(struct store *s, const char *org_id, const char *user_id, const char *role,
                                         char **ret_json) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_TEAM_SCOPES_FOR_MEMBER, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, org_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, user_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, role);
    if (rc != SQLITE_OK)
        r = map_rc(rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = col_dup(st, 0, "[]", ret_json);
    else
        r = map_rc(rc);
    stmt_done(st);
    return r;
}

static int token_row(sqlite3_stmt *st, void *p) {
    return row_to_rec(st, p);
}
static void token_done(void *p) {
    token_rec_done(p);
}
static int org_row(sqlite3_stmt *st, void *p) {
    return row_to_org(st, p);
}
static int user_row(sqlite3_stmt *st, void *p) {
    return row_to_user(st, p);
}
static void user_done(void *p) {
    user_rec_done(p);
}
static int team_row(sqlite3_stmt *st, void *p) {
    return row_to_team(st, p);
}
static int sa_row(sqlite3_stmt *st, void *p) {
    return row_to_sa(st, p);
}
static int role_row(sqlite3_stmt *st, void *p) {
    return row_to_role(st, p);
}
static int group_row(sqlite3_stmt *st, void *p) {
    return row_to_group(st, p);
}

/* --- durability and the audit trail --------------------------------------- */

/*
 * The device and inode of path (or of fd, path ""), asking for nothing else.
 * A stat() asks for the timestamps too, and since Linux 6.13 a file whose
 * timestamps were looked at gets a fine-grained mtime at its next write: the
 * inode is dirtied by every commit, and on ext4 every fdatasync then writes
 * the inode block as well (measured: 3.1 device writes per sync against 2.3).
 */
static int file_id(int fd, const char *path, dev_t *ret_dev, ino_t *ret_ino) {
    struct statx st;
    if (statx(fd, path, path[0] == '\0' ? AT_EMPTY_PATH : 0, STATX_INO, &st) != 0)
        return -1;
    *ret_dev = makedev(st.stx_dev_major, st.stx_dev_minor);
    *ret_ino = st.stx_ino;
    return 0;
}

/*
 * In WAL mode with synchronous=NORMAL a commit is complete once its frames
 * are written to the -wal file, and durable once that file is synced (a
 * checkpoint syncs it before copying frames back, and syncs the database
 * after). So one fdatasync of the -wal file, from any thread, makes every
 * commit written before it durable: that is the whole of group commit.
 * SQLite keeps the same file while connections are open; if it was
 * replaced (or removed after a final checkpoint) we reopen, or find the
 * database itself already synced.
 */
static int sqlite_sync(struct store *s) {
    struct sqlite_store *ss = ss_of(s);
    dev_t dev;
    ino_t ino;
    if (file_id(AT_FDCWD, ss->wal_path, &dev, &ino) != 0) {
        if (errno != ENOENT)
            return LK_ESTORE;
        /* No WAL: every commit was checkpointed into the database, which
         * SQLite synced before removing the WAL. */
        return 0;
    }
    if (ss->wal_fd >= 0 && (dev != ss->wal_dev || ino != ss->wal_ino)) {
        close(ss->wal_fd);
        ss->wal_fd = -1;
    }
    if (ss->wal_fd < 0) {
        ss->wal_fd = open(ss->wal_path, O_RDONLY | O_CLOEXEC);
        if (ss->wal_fd < 0)
            return errno == ENOENT ? 0 : LK_ESTORE;
        if (file_id(ss->wal_fd, "", &ss->wal_dev, &ss->wal_ino) != 0) {
            close(ss->wal_fd);
            ss->wal_fd = -1;
            return LK_ESTORE;
        }
    }
    return fdatasync(ss->wal_fd) == 0 ? 0 : LK_ESTORE;
}

/* SQLite's default: a committing connection checkpoints once the log holds
 * this many pages. */
#define WAL_CHECKPOINT_PAGES 1000

/* Set by connections that leave checkpoints to others, when their commit
 * left enough of the log not yet copied back; taken by sqlite_checkpoint.
 * One per process: a process has one database. A checkpoint that runs
 * beside the writer often cannot restart the log (the writer appended
 * meanwhile), so what counts is the pages written since the last one
 * copied, not the log's length: else every commit would ask for another. */
static atomic_int checkpoint_wanted;
static atomic_int checkpoint_copied;     /* pages of the log the last checkpoint had copied */
static atomic_int checkpoint_unfinished; /* the log grew while the last one ran */

static int wal_hook_defer(void *arg, sqlite3 *db, const char *name, int pages) {
    int copied = atomic_load(&checkpoint_copied);
    if (pages < copied)
        copied = 0; /* the log restarted since */
    if (pages - copied >= WAL_CHECKPOINT_PAGES)
        atomic_store(&checkpoint_wanted, 1);
    return SQLITE_OK;
}

static int sqlite_background_writes(struct store *s, int enabled) {
    struct sqlite_store *ss = ss_of(s);
    if (enabled)
        return sqlite3_wal_autocheckpoint(ss->db, WAL_CHECKPOINT_PAGES) == SQLITE_OK ? 0 : LK_ESTORE;
    /* Replaces the automatic checkpoint: only note that one is due. */
    sqlite3_wal_hook(ss->db, wal_hook_defer, NULL);
    return 0;
}

/* A pass on this connection. Its counts are of the log as it found it, so
 * a pass beside the committing thread cannot tell what was appended while
 * it ran: it always leaves the rest to store_checkpoint_finish(). */
static int checkpoint_pass(struct store *s, int beside_commits) {
    int log_pages = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(ss_of(s)->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &copied);
    if (rc == SQLITE_OK)
        atomic_store(&checkpoint_copied, copied);
    /* BUSY: another pass runs; the next finish tries again. */
    atomic_store(&checkpoint_unfinished, beside_commits || rc == SQLITE_BUSY || copied < log_pages);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : map_rc(rc);
}

static int sqlite_checkpoint(struct store *s) {
    return atomic_exchange(&checkpoint_wanted, 0) ? checkpoint_pass(s, 1) : 0;
}

static int sqlite_checkpoint_due(struct store *s) {
    (void)s;
    return atomic_load(&checkpoint_wanted);
}

/* SQLite starts the log over only at a commit that finds all of it copied
 * back; a pass that ran beside commits leaves their pages behind, and the
 * log would grow without end. Finishing on the committing thread, between
 * its commits, copies just those. */
static int sqlite_checkpoint_finish(struct store *s) {
    return atomic_exchange(&checkpoint_unfinished, 0) ? checkpoint_pass(s, 0) : 0;
}

static int sqlite_audit_head(struct store *s, int64_t *ret_seq, char *ret_hash) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_AUDIT_HEAD, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        r = col_hash(st, 1, ret_hash);
        if (r == 0)
            *ret_seq = seq;
    } else if (rc == SQLITE_DONE) {
        *ret_seq = 0;
        memcpy(ret_hash, audit_genesis_hash, AUDIT_HASH_HEX);
    } else {
        r = map_rc(rc);
    }
    stmt_done(st);
    return r;
}

/* Binds a to the AUDIT_NCOLS parameters after the first `base` of st
 * (a->prev_hash is not stored: it is the hash of the record before); raw
 * holds the hash's bytes until the step. */
static int bind_audit(sqlite3_stmt *st, int base, const struct audit_rec *a, uint8_t raw[SECRET_HASH_LEN]) {
    const char *text[] = {a->request_id, a->actor_type, a->actor_name, a->actor_org, a->token_id, a->credential_hmac,
                          a->org,        a->team,       a->action,     a->method,    a->resource, a->outcome};
    int rc = sqlite3_bind_int64(st, base + 1, a->seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, base + 2, a->time_ms);
    for (int i = 0; rc == SQLITE_OK && i < (int)(sizeof(text) / sizeof(text[0])); i++)
        rc = bind_text(st, base + 3 + i, text[i]);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, base + 15, a->status);
    if (rc == SQLITE_OK)
        rc = bind_text(st, base + 16, a->source_ip);
    if (rc == SQLITE_OK)
        rc = bind_text(st, base + 17, a->user_agent);
    if (rc == SQLITE_OK)
        rc = bind_hash(st, base + 18, a->hash, raw);
    if (rc == SQLITE_OK)
        rc = bind_text(st, base + 19, a->org_id);
    return rc;
}

/*
 * Which blocks of AUDIT_BLOCK_SEQS consecutive seqs hold records filed
 * under each org (audit_org_blocks, migrations 0011 and 0013, by org id):
 * an org-scoped listing scans only those. A budgeted scan's windows are
 * the blocks (or the parts of them in scope), so a window never straddles
 * two.
 */
#define AUDIT_BLOCK_SHIFT 12
#define AUDIT_BLOCK_SEQS (INT64_C(1) << AUDIT_BLOCK_SHIFT)

/* Notes each (org, block) of recs[0..n) once; a batch names few orgs. */
static int audit_blocks_put(struct sqlite_store *ss, const struct audit_rec *const *recs, size_t n) {
    enum { SEEN_MAX = 16 };
    const struct audit_rec *seen[SEEN_MAX];
    size_t nseen = 0;
    for (size_t i = 0; i < n; i++) {
        const struct audit_rec *a = recs[i];
        int64_t block = a->seq >> AUDIT_BLOCK_SHIFT;
        if (a->org_id[0] == '\0')
            continue;
        size_t j = 0;
        while (j < nseen && !(seen[j]->seq >> AUDIT_BLOCK_SHIFT == block && strcmp(seen[j]->org_id, a->org_id) == 0))
            j++;
        if (j < nseen)
            continue;
        if (nseen < SEEN_MAX) /* past that, a repeat costs a lookup, nothing else */
            seen[nseen++] = a;
        sqlite3_stmt *st = NULL;
        int r = stmt_get(ss, ST_AUDIT_BLOCK_PUT, &st);
        if (r != 0)
            return r;
        int rc = bind_text(st, 1, a->org_id);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 2, block);
        r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
        stmt_done(st);
        if (r != 0)
            return r;
    }
    return 0;
}

static int audit_insert_rows(struct sqlite_store *ss, const struct audit_rec *const *recs, size_t n) {
    static const struct {
        size_t rows;
        int stmt;
    } shapes[] = {{16, ST_AUDIT_INSERT_16},
                  {8, ST_AUDIT_INSERT_8},
                  {4, ST_AUDIT_INSERT_4},
                  {2, ST_AUDIT_INSERT_2},
                  {1, ST_AUDIT_INSERT}};
    while (n > 0) {
        size_t sh = 0;
        while (shapes[sh].rows > n)
            sh++;
        size_t k = shapes[sh].rows;
        sqlite3_stmt *st = NULL;
        int r = stmt_get(ss, shapes[sh].stmt, &st);
        if (r != 0)
            return r;
        int rc = SQLITE_OK;
        uint8_t raw[16][SECRET_HASH_LEN]; /* as many as the largest shape's rows */
        for (size_t i = 0; rc == SQLITE_OK && i < k; i++)
            rc = bind_audit(st, (int)i * AUDIT_NCOLS, recs[i], raw[i]);
        r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
        stmt_done(st);
        if (r != 0)
            return r;
        recs += k;
        n -= k;
    }
    return 0;
}

/* The records and their blocks in one transaction: the callers' own, or
 * one begun here. */
static int sqlite_audit_insert(struct store *s, const struct audit_rec *const *recs, size_t n) {
    struct sqlite_store *ss = ss_of(s);
    int own = sqlite3_get_autocommit(ss->db);
    int r = own ? sqlite_begin(s) : 0;
    if (r != 0)
        return r;
    r = audit_insert_rows(ss, recs, n);
    if (r == 0)
        r = audit_blocks_put(ss, recs, n);
    return own ? tx_end(ss, r) : r;
}

static int audit_row(sqlite3_stmt *st, void *p) {
    struct audit_rec *a = p;
    memset(a, 0, sizeof(*a));
    a->seq = sqlite3_column_int64(st, 0);
    a->time_ms = sqlite3_column_int64(st, 1);
    const struct col_text cols[] = {
        {2, a->request_id, sizeof(a->request_id)},
        {3, a->actor_type, sizeof(a->actor_type)},
        {4, a->actor_name, sizeof(a->actor_name)},
        {5, a->actor_org, sizeof(a->actor_org)},
        {6, a->token_id, sizeof(a->token_id)},
        {7, a->credential_hmac, sizeof(a->credential_hmac)},
        {8, a->org, sizeof(a->org)},
        {9, a->team, sizeof(a->team)},
        {10, a->action, sizeof(a->action)},
        {11, a->method, sizeof(a->method)},
        {12, a->resource, sizeof(a->resource)},
        {13, a->outcome, sizeof(a->outcome)},
        {15, a->source_ip, sizeof(a->source_ip)},
        {16, a->user_agent, sizeof(a->user_agent)},
        {18, a->org_id, sizeof(a->org_id)},
    };
    /* A field latchkey could not have written (too long, a NUL in it, a
     * status out of range) was put there by someone else: it reads cut to
     * fit, and the record's hash as "", so that the chain check names this
     * record instead of every read of the trail failing. */
    int foreign = 0;
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        int r = col_copy(st, cols[i].col, cols[i].buf, cols[i].cap);
        if (r == LK_ESTORE) {
            const unsigned char *t = sqlite3_column_text(st, cols[i].col);
            size_t n = t == NULL ? 0 : (size_t)sqlite3_column_bytes(st, cols[i].col);
            if (n >= cols[i].cap)
                n = cols[i].cap - 1;
            for (size_t j = 0; j < n; j++)
                cols[i].buf[j] = t[j] != '\0' ? (char)t[j] : '?';
            cols[i].buf[n] = '\0';
            foreign = 1;
        } else if (r != 0) {
            return r;
        }
    }
    int r = col_hash(st, 17, a->hash);
    if (r != 0)
        return r;
    int64_t status = sqlite3_column_int64(st, 14);
    if (status < 0 || status > 999) {
        status = 0;
        foreign = 1;
    }
    a->status = (int)status;
    if (foreign)
        a->hash[0] = '\0';
    return 0;
}

/* One statement over seq in [lo, hi), appending up to f->limit rows to *items. */
static int audit_list_window(struct sqlite_store *ss, const struct audit_filter *f, int64_t lo, int64_t hi,
                             struct audit_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, f->descending ? ST_AUDIT_LIST_DESC : ST_AUDIT_LIST_ASC, &st);
    if (r != 0)
        return r;
    int want = f->limit - (int)ret->count;
    int rc = bind_text(st, 1, f->org ? f->org : "");
    if (rc == SQLITE_OK)
        rc = f->teams_json ? bind_text(st, 2, f->teams_json) : sqlite3_bind_null(st, 2);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, f->actor ? f->actor : "");
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, f->action ? f->action : "");
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, f->outcome ? f->outcome : "");
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 6, f->since_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 7, f->until_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 8, lo);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 9, want);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 10, hi);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 11, f->org_id ? f->org_id : "");
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 12, f->org_ids_from);
    struct audit_rec *got = NULL;
    size_t n = 0;
    r = rc == SQLITE_OK ? collect(st, sizeof(*got), want, audit_row, NULL, (void **)&got, &n) : map_rc(rc);
    stmt_done(st);
    if (r != 0 || n == 0) {
        free(got);
        return r;
    }
    if (ret->items == NULL) {
        ret->items = got;
    } else {
        struct audit_rec *p = reallocarray(ret->items, ret->count + n, sizeof(*p));
        if (p == NULL) {
            free(got);
            return LK_ENOMEM;
        }
        memcpy(p + ret->count, got, n * sizeof(*p));
        ret->items = p;
        free(got);
    }
    ret->count += n;
    return 0;
}

/*
 * Gives every listed record its prev_hash: the hash of record seq - 1. In a
 * page of consecutive records (verify, export, an unfiltered listing) that
 * is its neighbour's, so only the page's first record needs a lookup; a
 * filtered page looks up the rest. The first record's link is the genesis
 * hash; one whose predecessor is missing gets "" (its seq breaks the chain).
 */
static int audit_links(struct sqlite_store *ss, struct audit_list *l, int descending) {
    for (size_t k = 0; k < l->count; k++) {
        size_t i = descending ? l->count - 1 - k : k; /* oldest first */
        struct audit_rec *a = &l->items[i];
        const struct audit_rec *before = k == 0 ? NULL : &l->items[descending ? i + 1 : i - 1];
        if (a->seq == 1) {
            memcpy(a->prev_hash, audit_genesis_hash, AUDIT_HASH_HEX);
            continue;
        }
        if (before != NULL && before->seq == a->seq - 1) {
            memcpy(a->prev_hash, before->hash, AUDIT_HASH_HEX);
            continue;
        }
        sqlite3_stmt *st = NULL;
        int r = stmt_get(ss, ST_AUDIT_HASH_AT, &st);
        if (r != 0)
            return r;
        int rc = sqlite3_bind_int64(st, 1, a->seq - 1);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        a->prev_hash[0] = '\0';
        if (rc == SQLITE_ROW)
            r = col_hash(st, 0, a->prev_hash);
        else if (rc != SQLITE_DONE)
            r = map_rc(rc);
        stmt_done(st);
        if (r != 0)
            return r;
    }
    return 0;
}

/*
 * The org's (by id) block nearest to `block`: the first at or after it (ascending)
 * or the last at or before it. *ret_found 0 when there is none.
 */
static int org_block_near(struct sqlite_store *ss, const char *org_id, int64_t block, int descending,
                          int64_t *ret_block, int *ret_found) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, descending ? ST_AUDIT_BLOCK_PREV : ST_AUDIT_BLOCK_NEXT, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, org_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, block);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    *ret_found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        *ret_block = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        r = map_rc(rc);
    stmt_done(st);
    return r;
}

/*
 * Without a budget, one statement over every seq. With one, windows of
 * up to AUDIT_BLOCK_SEQS seqs from the cursor on, until limit rows matched, the
 * trail (or the org's scope) ended, or the windows covered the budget: a
 * filter that matches little (an actor who did nothing, a small org in a
 * large trail) then costs one bounded page at a time instead of a scan of
 * the whole trail on the caller's event loop. An org-scoped scan (by id)
 * takes only the windows of blocks that hold the org's records
 * (audit_org_blocks), so the stretches of other orgs cost it neither time
 * nor budget.
 */
static int sqlite_audit_list(struct store *s, const struct audit_filter *f, struct audit_list *ret) {
    struct sqlite_store *ss = ss_of(s);
    memset(ret, 0, sizeof(*ret));
    /* The api range-checks a client's cursor (API_CURSOR_MAX); this keeps
     * the + 1 below defined whatever a caller passes. */
    if (f->cursor < 0 || f->cursor == INT64_MAX || f->after_seq < 0 || f->after_seq == INT64_MAX)
        return LK_ERANGE;
    /* The lowest seq in scope, and the cursor: seq > cursor ascending, seq < cursor descending. */
    int64_t floor = f->after_seq > 0 ? f->after_seq + 1 : 1;
    if (!f->descending && f->cursor >= floor)
        floor = f->cursor + 1;
    int64_t ceiling = f->descending && f->cursor > 0 ? f->cursor : INT64_MAX;
    if (f->scan_budget <= 0) {
        int r = audit_list_window(ss, f, floor, ceiling, ret);
        if (r == 0)
            r = audit_links(ss, ret, f->descending);
        if (r != 0)
            audit_list_done(ret);
        return r;
    }
    sqlite3_stmt *st = NULL;
    int64_t head = 0;
    int r = stmt_get(ss, ST_AUDIT_MAX_SEQ, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        head = sqlite3_column_int64(st, 0);
    stmt_done(st);
    if (rc != SQLITE_ROW)
        return map_rc(rc);
    /* Blocks are kept by org id: a listing by name alone scans every window. */
    const char *org = f->org_id != NULL && f->org_id[0] != '\0' ? f->org_id : NULL;
    int64_t examined = 0;
    /* Each pass: the next window [lo, hi) in scope (for an org, of a block
     * naming it; none left ends the scan), then the budget, then the scan. */
    if (f->descending) {
        int64_t hi = ceiling <= head ? ceiling : head + 1;
        while (r == 0 && hi > floor && ret->count < (size_t)f->limit) {
            if (org != NULL) {
                int64_t block = 0;
                int found = 0;
                r = org_block_near(ss, org, (hi - 1) >> AUDIT_BLOCK_SHIFT, 1, &block, &found);
                if (r != 0 || !found || (block + 1) << AUDIT_BLOCK_SHIFT <= floor)
                    break;
                if ((block + 1) << AUDIT_BLOCK_SHIFT < hi)
                    hi = (block + 1) << AUDIT_BLOCK_SHIFT;
            }
            if (examined >= f->scan_budget) {
                ret->resume = hi;
                break;
            }
            /* Windows end on block boundaries (or at hi). */
            int64_t lo = ((hi - 1) >> AUDIT_BLOCK_SHIFT) << AUDIT_BLOCK_SHIFT;
            if (lo < floor)
                lo = floor;
            r = audit_list_window(ss, f, lo, hi, ret);
            examined += hi - lo;
            hi = lo;
        }
    } else {
        int64_t lo = floor;
        while (r == 0 && lo <= head && ret->count < (size_t)f->limit) {
            if (org != NULL) {
                int64_t block = 0;
                int found = 0;
                r = org_block_near(ss, org, lo >> AUDIT_BLOCK_SHIFT, 0, &block, &found);
                if (r != 0 || !found || block << AUDIT_BLOCK_SHIFT > head)
                    break;
                if (block << AUDIT_BLOCK_SHIFT > lo)
                    lo = block << AUDIT_BLOCK_SHIFT;
            }
            if (examined >= f->scan_budget) {
                ret->resume = lo - 1;
                break;
            }
            int64_t hi = ((lo >> AUDIT_BLOCK_SHIFT) + 1) << AUDIT_BLOCK_SHIFT;
            if (hi > head + 1)
                hi = head + 1;
            r = audit_list_window(ss, f, lo, hi, ret);
            examined += hi - lo;
            lo = hi;
        }
    }
    if (r == 0)
        r = audit_links(ss, ret, f->descending);
    if (r != 0)
        audit_list_done(ret);
    return r;
}

/* --- expiry notices ---------------------------------------------------------- */

static int candidate_row(sqlite3_stmt *st, void *p) {
    struct notice_candidate c;
    memset(&c, 0, sizeof(c));
    c.seq = sqlite3_column_int64(st, 0);
    const struct col_text cols[] = {
        {1, c.token_id, sizeof(c.token_id)},
        {2, c.owner_type, sizeof(c.owner_type)},
        {3, c.owner_id, sizeof(c.owner_id)},
        {4, c.org_id, sizeof(c.org_id)},
    };
    int r = col_copy_all(st, cols, sizeof(cols) / sizeof(cols[0]));
    if (r != 0)
        return r;
    c.created_at = sqlite3_column_int64(st, 5);
    c.expires_at = sqlite3_column_int64(st, 6);
    memcpy(p, &c, sizeof(c));
    return 0;
}

static int notice_row(sqlite3_stmt *st, void *p) {
    struct notice_rec *n = p;
    memset(n, 0, sizeof(*n));
    n->seq = sqlite3_column_int64(st, 0);
    const struct col_text cols[] = {
        {1, n->id, sizeof(n->id)},
        {2, n->token_id, sizeof(n->token_id)},
        {3, n->org_id, sizeof(n->org_id)},
        {4, n->owner_type, sizeof(n->owner_type)},
        {5, n->owner_id, sizeof(n->owner_id)},
        {6, n->channel, sizeof(n->channel)},
        {9, n->recipients_json, sizeof(n->recipients_json)},
        {10, n->status, sizeof(n->status)},
        {12, n->last_error, sizeof(n->last_error)},
        {17, n->org_name, sizeof(n->org_name)},
        {18, n->org_status, sizeof(n->org_status)},
    };
    int r = col_copy_all(st, cols, sizeof(cols) / sizeof(cols[0]));
    if (r != 0)
        return r;
    n->days_before = sqlite3_column_int(st, 7);
    n->expires_at = sqlite3_column_int64(st, 8);
    n->attempts = sqlite3_column_int(st, 11);
    n->next_attempt_at = sqlite3_column_int64(st, 13);
    n->created_at = sqlite3_column_int64(st, 14);
    n->updated_at = sqlite3_column_int64(st, 15);
    n->delivered_at = sqlite3_column_int64(st, 16); /* NULL reads as 0 */
    n->token_exists = sqlite3_column_int(st, 19);
    n->token_expires_at = sqlite3_column_int64(st, 20);
    return 0;
}

static int sqlite_notice_candidates(struct store *s, int64_t now, int64_t horizon, int64_t after_seq, int limit,
                                    struct notice_candidate_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_NOTICE_CANDIDATES, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_bind_int64(st, 1, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, horizon);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, after_seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 4, limit);
    r = rc == SQLITE_OK
            ? collect(st, sizeof(*ret->items), limit, candidate_row, NULL, (void **)&ret->items, &ret->count)
            : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_notice_insert(struct store *s, const struct notice_rec *n, int *ret_inserted) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_NOTICE_INSERT, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, n->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, n->token_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, n->org_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, n->owner_type);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, n->owner_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 6, n->channel);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 7, n->days_before);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 8, n->expires_at);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 9, n->recipients_json[0] ? n->recipients_json : "[]");
    if (rc == SQLITE_OK)
        rc = bind_text(st, 10, n->status);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 11, n->attempts);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 12, n->last_error);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 13, n->next_attempt_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 14, n->created_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 15, n->updated_at);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 16, n->delivered_at);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    if (r == 0 && ret_inserted != NULL)
        *ret_inserted = sqlite3_changes(ss->db) > 0;
    stmt_done(st);
    return r;
}

static int sqlite_notice_supersede(struct store *s, const char *token_id, int days, int64_t now) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_NOTICE_SUPERSEDE, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, token_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 2, days);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, now);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_notice_due(struct store *s, int64_t now, const char *channel, int limit, struct notice_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_NOTICE_DUE, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_bind_int64(st, 1, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 2, limit);
    if (rc == SQLITE_OK)
        rc = channel != NULL ? bind_text(st, 3, channel) : sqlite3_bind_null(st, 3);
    r = rc == SQLITE_OK ? collect(st, sizeof(*ret->items), limit, notice_row, NULL, (void **)&ret->items, &ret->count)
                        : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_notice_claim(struct store *s, const char *id, int64_t now, int64_t lease_until, int *ret_claimed) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_NOTICE_CLAIM, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, lease_until);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    if (r == 0)
        *ret_claimed = sqlite3_changes(ss->db) > 0;
    stmt_done(st);
    return r;
}

static int sqlite_notice_finish(struct store *s, const struct notice_rec *n) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_NOTICE_FINISH, &st);
    if (r != 0)
        return r;
    int rc = bind_text(st, 1, n->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, n->status);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 3, n->attempts);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, n->last_error);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, n->next_attempt_at);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 6, n->delivered_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 7, n->updated_at);
    r = rc == SQLITE_OK ? step_changed(ss, st) : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_notice_list(struct store *s, const char *org_id, const char *status, int64_t after_seq, int limit,
                              struct notice_list *ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss_of(s), ST_NOTICE_LIST, &st);
    if (r != 0)
        return r;
    int rc = org_id != NULL ? bind_text(st, 1, org_id) : sqlite3_bind_null(st, 1);
    if (rc == SQLITE_OK)
        rc = status != NULL ? bind_text(st, 2, status) : sqlite3_bind_null(st, 2);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, after_seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 4, limit);
    r = rc == SQLITE_OK ? collect(st, sizeof(*ret->items), limit, notice_row, NULL, (void **)&ret->items, &ret->count)
                        : map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_notice_purge(struct store *s, int64_t cutoff, size_t *ret_count) {
    struct sqlite_store *ss = ss_of(s);
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, ST_NOTICE_PURGE, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_bind_int64(st, 1, cutoff);
    r = rc == SQLITE_OK ? step_done(st) : map_rc(rc);
    if (r == 0 && ret_count != NULL)
        *ret_count = (size_t)sqlite3_changes(ss->db);
    stmt_done(st);
    return r;
}

/*
 * Migrations run at start-up, when several processes (or a server and an
 * operator command) may open a fresh file at once. SQLite answers BUSY
 * without waiting in a few lock-upgrade cases (switching to WAL, a read
 * becoming a write), so a BUSY pass is retried for up to about 5 s.
 */
static int sqlite_migrate(struct store *s, int *ret_version) {
    int r = LK_EBUSY;
    for (int attempt = 0; attempt < 250 && r == LK_EBUSY; attempt++) {
        if (attempt > 0) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        r = migrate_once(s, ret_version);
    }
    return r;
}

const struct store_ops store_sqlite_ops = {
    .scheme = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .migrate = sqlite_migrate,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .token_insert = sqlite_token_insert,
    .token_get = sqlite_token_get,
    .token_list = sqlite_token_list,
    .token_delete = sqlite_token_delete,
    .token_set_expiry = sqlite_token_set_expiry,
    .token_retire = sqlite_token_retire,
    .token_delete_expired = sqlite_token_delete_expired,
    .token_delete_owner = sqlite_token_delete_owner,
    .token_delete_owner_prefix = sqlite_token_delete_owner_prefix,
    .token_touch = sqlite_token_touch,
    .org_insert = sqlite_org_insert,
    .org_get = sqlite_org_get,
    .org_list = sqlite_org_list,
    .org_update = sqlite_org_update,
    .org_delete = sqlite_org_delete,
    .user_insert = sqlite_user_insert,
    .user_get = sqlite_user_get,
    .user_list = sqlite_user_list,
    .user_update = sqlite_user_update,
    .user_delete = sqlite_user_delete,
    .team_insert = sqlite_team_insert,
    .team_get = sqlite_team_get,
    .team_get_by_id = sqlite_team_get_by_id,
    .team_list = sqlite_team_list,
    .team_update = sqlite_team_update,
    .team_delete = sqlite_team_delete,
    .team_member_put = sqlite_team_member_put,
    .team_member_delete = sqlite_team_member_delete,
    .team_member_role = sqlite_team_member_role,
    .team_member_roles = sqlite_team_member_roles,
    .team_scopes_for_member = sqlite_team_scopes_for_member,
    .team_member_list = sqlite_team_member_list,
    .sa_insert = sqlite_sa_insert,
    .sa_get = sqlite_sa_get,
    .sa_list = sqlite_sa_list,
    .sa_update = sqlite_sa_update,
    .sa_delete = sqlite_sa_delete,
    .role_insert = sqlite_role_insert,
    .role_get = sqlite_role_get,
    .role_list = sqlite_role_list,
    .role_delete = sqlite_role_delete,
    .group_insert = sqlite_group_insert,
    .group_get = sqlite_group_get,
    .group_list = sqlite_group_list,
    .group_delete = sqlite_group_delete,
    .group_member_put = sqlite_group_member_put,
    .group_member_delete = sqlite_group_member_delete,
    .group_member_names = sqlite_group_member_names,
    .savepoint = sqlite_savepoint,
    .release = sqlite_release,
    .rollback_to = sqlite_rollback_to,
    .sync = sqlite_sync,
    .background_writes = sqlite_background_writes,
    .checkpoint = sqlite_checkpoint,
    .checkpoint_due = sqlite_checkpoint_due,
    .checkpoint_finish = sqlite_checkpoint_finish,
    .audit_head = sqlite_audit_head,
    .audit_insert = sqlite_audit_insert,
    .audit_list = sqlite_audit_list,
    .meta_get = sqlite_meta_get,
    .meta_set = sqlite_meta_set,
    .notice_candidates = sqlite_notice_candidates,
    .notice_insert = sqlite_notice_insert,
    .notice_supersede = sqlite_notice_supersede,
    .notice_due = sqlite_notice_due,
    .notice_claim = sqlite_notice_claim,
    .notice_finish = sqlite_notice_finish,
    .notice_list = sqlite_notice_list,
    .notice_purge = sqlite_notice_purge,
};
