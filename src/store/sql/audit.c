/*
 * audit.c - the audit trail in the SQL backends (docs/audit.md): the
 * chain's head, appending sealed records in batches (and noting which
 * blocks of seqs hold each org's records), and listing them with filters,
 * scopes and a scan budget.
 *
 * Never seals, edits or deletes a record (core/audit.c seals; triggers of
 * migration 0010 refuse UPDATE and DELETE). Stores each record's hash, not
 * its prev_hash: reads take that from the record before (audit_links).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "store/sql/sql_internal.h"

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
 * or audit_filter.teams as a JSON array of {"name", "after", "from_ms"}
 * (teams_json): the record's team must be one of them, of this org, and
 * not from an earlier holder of its name.
 */
#define AUDIT_WHERE(TEAMS)                                                                                             \
    " FROM audit WHERE (CASE WHEN ?11 = '' THEN (?1 = '' OR org = ?1) ELSE (org_id = ?11 OR (seq < ?12 AND ?1 != '' "  \
    "AND org_id = '' AND ((actor_type IN ('user', 'service_account', 'workload') AND actor_org = ?1) OR "              \
    "(actor_type = 'root' AND org = ?1)))) END) "                                                                      \
    "AND (CAST(?2 AS TEXT) IS NULL OR (org = ?1 AND EXISTS (" TEAMS "))) "                                             \
    "AND (?3 = '' OR actor_name = ?3) AND (?4 = '' OR action = ?4) AND (?5 = '' OR outcome = ?5) "                     \
    "AND (?6 = 0 OR time_ms >= ?6) AND (?7 = 0 OR time_ms < ?7) "
/* The team condition over ?2's JSON, in each engine's JSON functions. */
#define AUDIT_TEAMS_SQLITE                                                                                             \
    "SELECT 1 FROM json_each(?2) j WHERE json_extract(j.value, '$.name') = audit.team "                                \
    "AND audit.seq > json_extract(j.value, '$.after') AND audit.time_ms >= json_extract(j.value, '$.from_ms')"
#define AUDIT_TEAMS_PG                                                                                                 \
    "SELECT 1 FROM jsonb_array_elements(CAST(?2 AS JSONB)) j WHERE j->>'name' = audit.team "                           \
    "AND audit.seq > CAST(j->>'after' AS BIGINT) AND audit.time_ms >= CAST(j->>'from_ms' AS BIGINT)"

/* Up to 16 records in one statement: SQLite's cost per record falls by about
 * a third against one statement each (measured, docs/performance.md). A
 * batch goes as statements of 16, 8, 4, 2 and 1 rows, largest first. */
#define AUDIT_ROWS_MAX 16
#define AUDIT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define AUDIT_ROWS_2 AUDIT_ROW ", " AUDIT_ROW
#define AUDIT_ROWS_4 AUDIT_ROWS_2 ", " AUDIT_ROWS_2
#define AUDIT_ROWS_8 AUDIT_ROWS_4 ", " AUDIT_ROWS_4
#define AUDIT_ROWS_16 AUDIT_ROWS_8 ", " AUDIT_ROWS_8

/*
 * Reads a hash column as hex into buf (AUDIT_HASH_HEX bytes). What latchkey
 * stores is SECRET_HASH_LEN bytes; anything else was put there by someone
 * else, and reads as given when it is text of a hash's length, else as "",
 * so that the chain check names the record instead of the read failing.
 */
static int col_hash(struct sql_stmt *st, int col, char *buf) {
    buf[0] = '\0';
    const void *b = NULL;
    size_t n = 0;
    int r = st->drv->blob(st, col, &b, &n);
    if (r == 0) {
        if (b != NULL && n == SECRET_HASH_LEN)
            secret_hex(b, SECRET_HASH_LEN, buf);
        return 0;
    }
    if (r != LK_ESTORE) /* LK_ESTORE: not binary; perhaps text */
        return r;
    const char *t = NULL;
    if ((r = st->drv->text(st, col, &t, &n)) != 0)
        return r;
    if (t != NULL && n == AUDIT_HASH_HEX - 1 && memchr(t, '\0', n) == NULL) {
        memcpy(buf, t, n);
        buf[n] = '\0';
    }
    return 0;
}

int sql_audit_head(struct store *s, int64_t *ret_seq, char *ret_hash) {
    static const struct stmt_def def = {.sql = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"};
    struct sql_stmt *st = NULL;
    int r = stmt_bind(sc_of(s), &def, NULL, 0, &st);
    if (r != 0)
        return r;
    int rc = stmt_step(st);
    if (rc == 1) {
        int64_t seq = col_int64(st, 0);
        r = col_hash(st, 1, ret_hash);
        if (r == 0)
            *ret_seq = seq;
    } else if (rc == 0) {
        *ret_seq = 0;
        memcpy(ret_hash, audit_genesis_hash, AUDIT_HASH_HEX);
    } else {
        r = rc;
    }
    stmt_done(st);
    return r;
}

/* a as the AUDIT_NCOLS arguments of its row, into args (a->prev_hash is
 * not stored: it is the hash of the record before); raw gets the hash's
 * bytes, and must live until the step. LK_ESTORE for a hash latchkey did
 * not make. */
static int audit_args(const struct audit_rec *a, uint8_t raw[SECRET_HASH_LEN], struct sql_arg *args) {
    /* The decode stops at a NUL, so the length is looked at only after it. */
    if (secret_unhex(a->hash, SECRET_HASH_LEN, raw) != 0 || a->hash[2 * SECRET_HASH_LEN] != '\0')
        return LK_ESTORE;
    const struct sql_arg row[AUDIT_NCOLS] = {
        sql_int(a->seq),         sql_int(a->time_ms),          sql_text(a->request_id),
        sql_text(a->actor_type), sql_text(a->actor_name),      sql_text(a->actor_org),
        sql_text(a->token_id),   sql_text(a->credential_hmac), sql_text(a->org),
        sql_text(a->team),       sql_text(a->action),          sql_text(a->method),
        sql_text(a->resource),   sql_text(a->outcome),         sql_int(a->status),
        sql_text(a->source_ip),  sql_text(a->user_agent),      sql_blob(raw, SECRET_HASH_LEN),
        sql_text(a->org_id),
    };
    memcpy(args, row, sizeof(row));
    return 0;
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
static int audit_blocks_put(struct sql_conn *sc, const struct audit_rec *const *recs, size_t n) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO audit_org_blocks (org_id, block) VALUES (?1, ?2) ON CONFLICT DO NOTHING"};
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
        int r = sql_run(sc, &def, sql_text(a->org_id), sql_int(block));
        if (r != 0)
            return r;
    }
    return 0;
}

static int audit_insert_rows(struct sql_conn *sc, const struct audit_rec *const *recs, size_t n) {
    static const struct stmt_def insert_1 = {.sql = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROW};
    static const struct stmt_def insert_2 = {.sql = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROWS_2};
    static const struct stmt_def insert_4 = {.sql = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROWS_4};
    static const struct stmt_def insert_8 = {.sql = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROWS_8};
    static const struct stmt_def insert_16 = {.sql = "INSERT INTO audit (" AUDIT_COLS ") VALUES " AUDIT_ROWS_16};
    static const struct {
        size_t rows;
        const struct stmt_def *def;
    } shapes[] = {{16, &insert_16}, {8, &insert_8}, {4, &insert_4}, {2, &insert_2}, {1, &insert_1}};
    while (n > 0) {
        size_t sh = 0;
        while (shapes[sh].rows > n)
            sh++;
        size_t k = shapes[sh].rows;
        uint8_t raw[AUDIT_ROWS_MAX][SECRET_HASH_LEN];
        struct sql_arg args[AUDIT_ROWS_MAX * AUDIT_NCOLS];
        int r = 0;
        for (size_t i = 0; r == 0 && i < k; i++)
            r = audit_args(recs[i], raw[i], &args[i * AUDIT_NCOLS]);
        if (r == 0)
            r = sql_run_(sc, shapes[sh].def, args, k * AUDIT_NCOLS, NULL);
        if (r != 0)
            return r;
        recs += k;
        n -= k;
    }
    return 0;
}

/* The records and their blocks in one transaction: the callers' own, or
 * one begun here. */
int sql_audit_insert(struct store *s, const struct audit_rec *const *recs, size_t n) {
    struct sql_conn *sc = sc_of(s);
    int own = !s->in_tx;
    int r = own ? sql_begin(sc) : 0;
    if (r != 0)
        return r;
    r = audit_insert_rows(sc, recs, n);
    if (r == 0)
        r = audit_blocks_put(sc, recs, n);
    return own ? sql_tx_end(sc, r) : r;
}

static int audit_row(struct sql_stmt *st, void *p) {
    struct audit_rec *a = p;
    memset(a, 0, sizeof(*a));
    a->seq = col_int64(st, 0);
    a->time_ms = col_int64(st, 1);
    const struct {
        int col;
        char *buf;
        size_t cap;
    } cols[] = {
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
            const char *t = NULL;
            size_t n = 0;
            if (st->drv->text(st, cols[i].col, &t, &n) != 0 || t == NULL)
                n = 0;
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
    int64_t status = col_int64(st, 14);
    if (status < 0 || status > 999) {
        status = 0;
        foreign = 1;
    }
    a->status = (int)status;
    if (foreign)
        a->hash[0] = '\0';
    return 0;
}

static const struct row_map audit_map = {sizeof(struct audit_rec), NULL, 0, audit_row};

/* f->teams as the JSON ?2 of AUDIT_WHERE reads: 0 and *ret (malloc'd; NULL
 * when f->teams is NULL), or LK_ENOMEM. */
static int teams_json(const struct audit_filter *f, char **ret) {
    *ret = NULL;
    if (f->teams == NULL)
        return 0;
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < f->nteams; i++) {
        const struct team_scope *t = &f->teams[i];
        if (json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "name", t->name, "after", (json_int_t)t->after,
                                                 "from_ms", (json_int_t)t->from_ms)) != 0)
            arr = (json_decref(arr), NULL);
    }
    *ret = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return *ret != NULL ? 0 : LK_ENOMEM;
}

/* One statement over seq in [lo, hi), appending up to f->limit rows to
 * *items; teams is f->teams as teams_json() writes it. */
static int audit_list_window(struct sql_conn *sc, const struct audit_filter *f, const char *teams, int64_t lo,
                             int64_t hi, struct audit_list *ret) {
    /* One lower and one upper bound on seq, so SQLite's plan is a range of
     * the primary key: [?8, ?10), the cursor and the scope folded in. */
#define AUDIT_WINDOW(TEAMS, ORDER)                                                                                     \
    "SELECT " AUDIT_COLS AUDIT_WHERE(TEAMS) "AND seq >= ?8 AND seq < ?10 ORDER BY seq" ORDER " LIMIT ?9"
    static const struct stmt_def asc = {.sql = AUDIT_WINDOW(AUDIT_TEAMS_SQLITE, ""),
                                        .pg = AUDIT_WINDOW(AUDIT_TEAMS_PG, "")};
    static const struct stmt_def desc = {.sql = AUDIT_WINDOW(AUDIT_TEAMS_SQLITE, " DESC"),
                                         .pg = AUDIT_WINDOW(AUDIT_TEAMS_PG, " DESC")};
    int want = f->limit - (int)ret->count;
    struct sql_stmt *st = NULL;
    int r = stmt_bind(sc, f->descending ? &desc : &asc,
                      SQL_ARGS(sql_text(f->org ? f->org : ""), sql_text(teams), sql_text(f->actor ? f->actor : ""),
                               sql_text(f->action ? f->action : ""), sql_text(f->outcome ? f->outcome : ""),
                               sql_int(f->since_ms), sql_int(f->until_ms), sql_int(lo), sql_int(want), sql_int(hi),
                               sql_text(f->org_id ? f->org_id : ""), sql_int(f->org_ids_from)),
                      &st);
    if (r != 0)
        return r;
    struct audit_rec *got = NULL;
    size_t n = 0;
    r = stmt_collect(st, &audit_map, sizeof(*got), want, (void **)&got, &n);
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
static int audit_links(struct sql_conn *sc, struct audit_list *l, int descending) {
    static const struct stmt_def def = {.sql = "SELECT hash FROM audit WHERE seq = ?1"};
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
        struct sql_stmt *st = NULL;
        int r = stmt_bind(sc, &def, SQL_ARGS(sql_int(a->seq - 1)), &st);
        if (r != 0)
            return r;
        int rc = stmt_step(st);
        a->prev_hash[0] = '\0';
        if (rc == 1)
            r = col_hash(st, 0, a->prev_hash);
        else if (rc != 0)
            r = rc;
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
static int org_block_near(struct sql_conn *sc, const char *org_id, int64_t block, int descending, int64_t *ret_block,
                          int *ret_found) {
    static const struct stmt_def next = {
        .sql = "SELECT block FROM audit_org_blocks WHERE org_id = ?1 AND block >= ?2 ORDER BY block LIMIT 1"};
    static const struct stmt_def prev = {.sql = "SELECT block FROM audit_org_blocks WHERE org_id = ?1 "
                                                "AND block <= ?2 ORDER BY block DESC LIMIT 1"};
    int r = sql_get(sc, descending ? &prev : &next, &row_int64, ret_block, sql_text(org_id), sql_int(block));
    *ret_found = r == 0;
    return r == LK_ENOTFOUND ? 0 : r;
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
static int audit_list(struct sql_conn *sc, const struct audit_filter *f, const char *teams, struct audit_list *ret);

int sql_audit_list(struct store *s, const struct audit_filter *f, struct audit_list *ret) {
    char *teams = NULL;
    memset(ret, 0, sizeof(*ret));
    int r = teams_json(f, &teams);
    if (r == 0)
        r = audit_list(sc_of(s), f, teams, ret);
    free(teams);
    return r;
}

static int audit_list(struct sql_conn *sc, const struct audit_filter *f, const char *teams, struct audit_list *ret) {
    static const struct stmt_def def = {.sql = "SELECT " AUDIT_HEAD_SEQ};
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
        int r = audit_list_window(sc, f, teams, floor, ceiling, ret);
        if (r == 0)
            r = audit_links(sc, ret, f->descending);
        if (r != 0)
            audit_list_done(ret);
        return r;
    }
    int64_t head = 0;
    int r = sql_get_(sc, &def, &row_int64, sizeof(head), &head, NULL, 0);
    if (r != 0)
        return r == LK_ENOTFOUND ? LK_ESTORE : r; /* MAX() always answers a row */
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
                r = org_block_near(sc, org, (hi - 1) >> AUDIT_BLOCK_SHIFT, 1, &block, &found);
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
            r = audit_list_window(sc, f, teams, lo, hi, ret);
            examined += hi - lo;
            hi = lo;
        }
    } else {
        int64_t lo = floor;
        while (r == 0 && lo <= head && ret->count < (size_t)f->limit) {
            if (org != NULL) {
                int64_t block = 0;
                int found = 0;
                r = org_block_near(sc, org, lo >> AUDIT_BLOCK_SHIFT, 0, &block, &found);
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
            r = audit_list_window(sc, f, teams, lo, hi, ret);
            examined += hi - lo;
            lo = hi;
        }
    }
    if (r == 0)
        r = audit_links(sc, ret, f->descending);
    if (r != 0)
        audit_list_done(ret);
    return r;
}
