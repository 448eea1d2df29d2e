/*
 * db.c - the SQLite backend's connection: open (file mode, pragmas, WAL),
 * close, migrations, transactions and savepoints, and durability (syncing
 * the WAL, checkpoints).
 *
 * One sqlite3 connection per struct store, opened NOMUTEX: a store is used
 * by one thread at a time, and each worker opens its own. Never logs, and
 * never reads or writes an entity's table: that is each entity's file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/secret.h"
#include "store/sql/migrations.h"
#include "store/sqlite/sqlite_internal.h"

/* How long a statement waits for another connection's write lock. */
#define SQLITE_BUSY_TIMEOUT_MS 5000

static const char schema_version_sql[] = "CREATE TABLE IF NOT EXISTS schema_version ("
                                         "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                         "applied_at INTEGER NOT NULL)";

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
        return sqlite_map_rc(rc);
    rc =
        sqlite3_create_function(ss->db, "lk_unhex", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_unhex, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite_map_rc(rc);
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
        r = sqlite_map_rc(rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        r = sqlite_map_rc(rc);
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
    /*
     * secure_delete: a deleted or replaced row's bytes are overwritten with
     * zeros, so a removed value (a token's hash, a key kept in the clear
     * before the seal) does not linger in free space, in the database or in
     * the WAL's copy of a page. Debian's SQLite is built with it on; set
     * here so that no other build of the library turns it off.
     */
    rc = sqlite3_exec(ss->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON", NULL,
                      NULL, NULL);
    r = rc == SQLITE_OK ? 0 : sqlite_map_rc(rc);
out:
    sqlite3_finalize(st);
    return r;
}

void sqlite_close(struct store *s) {
    struct sqlite_store *ss = ss_of(s);
    if (ss == NULL)
        return;
    stmt_cache_free(&ss->conn);
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

int sqlite_open(const char *path, struct store **ret) {
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
    ss->conn.base.ops = &store_sqlite_ops;
    ss->conn.drv = &sqlite_driver;
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
    *ret = &ss->conn.base;
    ss = NULL;
out:
    if (ss != NULL)
        sqlite_close(&ss->conn.base);
    return r;
}

/* --- transactions --------------------------------------------------------- */

/* Runs one of the argument-less statements (BEGIN, COMMIT, ...). */
static int run(struct sqlite_store *ss, const struct stmt_def *def) {
    return sql_run_(&ss->conn, def, NULL, 0, NULL);
}

int sqlite_begin(struct store *s) {
    /* IMMEDIATE takes the write lock up front (waiting up to the busy timeout):
     * a deferred transaction that reads and then writes can fail with
     * SQLITE_BUSY at once if another connection wrote in between. */
    static const struct stmt_def def = {.sql = "BEGIN IMMEDIATE"};
    return run(ss_of(s), &def);
}

int sqlite_read_begin(struct store *s) {
    /* DEFERRED: no write lock (WAL: a reader never waits). A deferred
     * transaction takes its snapshot at its first read: one that reads
     * nothing (no row matches) takes it now, as store_impl.h asks. */
    static const struct stmt_def def = {.sql = "BEGIN DEFERRED"};
    static const struct stmt_def snapshot = {.sql = "SELECT 1 FROM sqlite_schema WHERE rowid < 0"};
    struct sqlite_store *ss = ss_of(s);
    int r = run(ss, &def);
    if (r == 0 && (r = run(ss, &snapshot)) != 0)
        sqlite_rollback(s);
    return r;
}

int sqlite_commit(struct store *s) {
    static const struct stmt_def def = {.sql = "COMMIT"};
    struct sqlite_store *ss = ss_of(s);
    /* SQLite already rolled the transaction back after an error: report it. */
    if (sqlite3_get_autocommit(ss->db))
        return LK_ESTORE;
    return run(ss, &def);
}

int sqlite_rollback(struct store *s) {
    static const struct stmt_def def = {.sql = "ROLLBACK"};
    struct sqlite_store *ss = ss_of(s);
    if (sqlite3_get_autocommit(ss->db))
        return 0;
    return run(ss, &def);
}

int sqlite_savepoint(struct store *s) {
    static const struct stmt_def def = {.sql = "SAVEPOINT lk_nested"};
    return run(ss_of(s), &def);
}

int sqlite_release(struct store *s) {
    static const struct stmt_def def = {.sql = "RELEASE lk_nested"};
    return run(ss_of(s), &def);
}

int sqlite_rollback_to(struct store *s) {
    static const struct stmt_def def = {.sql = "ROLLBACK TO lk_nested"};
    return run(ss_of(s), &def);
}

/* --- migrations ------------------------------------------------------------ */

static int version_get(struct sqlite_store *ss, int *ret) {
    static const struct stmt_def def = {.sql = "SELECT COALESCE(MAX(version), 0) FROM schema_version"};
    int64_t v = 0;
    int r = sql_get_(&ss->conn, &def, &row_int64, sizeof(v), &v, NULL, 0);
    if (r != 0)
        return r == LK_ENOTFOUND ? LK_ESTORE : r; /* MAX() always answers a row */
    if (v < 0 || v > INT_MAX)
        return LK_ESTORE;
    *ret = (int)v;
    return 0;
}

/*
 * Applies m in its own transaction unless it is already in force. The write
 * lock is taken before the version is read, so of two processes migrating at
 * once the second waits, then sees the new version and skips.
 * *current is updated to the version in force once committed.
 */
static int migrate_one(struct sqlite_store *ss, const struct store_migration *m, int *current) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)"};
    int v = 0;
    int r = sqlite_begin(&ss->conn.base);
    if (r != 0)
        return r;
    r = version_get(ss, &v);
    if (r != 0 || v >= m->version)
        goto out;
    int rc = sqlite3_exec(ss->db, m->sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        r = sqlite_map_rc(rc);
        goto out;
    }
    r = sql_run(&ss->conn, &def, sql_int(m->version), sql_text(m->name), sql_int((int64_t)time(NULL)));
    v = m->version;
out:
    r = sql_tx_end(&ss->conn, r);
    if (r == 0)
        *current = v;
    return r;
}

static int migrate_once(struct store *s, int *ret_version) {
    struct sqlite_store *ss = ss_of(s);
    int current = 0;

    /* scripts/embed.py keeps the order it is given; refuse a broken one
     * rather than skip a migration for good. */
    for (unsigned i = 0; i < sqlite_migrations_count; i++)
        if (sqlite_migrations[i].version <= 0 ||
            (i > 0 && sqlite_migrations[i].version <= sqlite_migrations[i - 1].version))
            return LK_EINTERNAL;

    int rc = sqlite3_exec(ss->db, schema_version_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite_map_rc(rc);
    int r = version_get(ss, &current);
    if (r != 0)
        return r;
    for (unsigned i = 0; i < sqlite_migrations_count; i++) {
        if (sqlite_migrations[i].version <= current)
            continue;
        r = migrate_one(ss, &sqlite_migrations[i], &current);
        if (r != 0)
            return r;
    }
    /* A newer binary may have migrated further; report what is in force. */
    if (ret_version != NULL)
        *ret_version = current;
    return 0;
}

/*
 * Migrations run at start-up, when several processes (or a server and an
 * operator command) may open a fresh file at once. SQLite answers BUSY
 * without waiting in a few lock-upgrade cases (switching to WAL, a read
 * becoming a write), so a BUSY pass is retried for up to about 5 s.
 */
int sqlite_migrate(struct store *s, int *ret_version) {
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

/* --- durability ------------------------------------------------------------ */

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
int sqlite_sync(struct store *s) {
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

int sqlite_background_writes(struct store *s, int enabled) {
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
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : sqlite_map_rc(rc);
}

int sqlite_checkpoint(struct store *s) {
    return atomic_exchange(&checkpoint_wanted, 0) ? checkpoint_pass(s, 1) : 0;
}

int sqlite_checkpoint_due(struct store *s) {
    (void)s;
    return atomic_load(&checkpoint_wanted);
}

/* SQLite starts the log over only at a commit that finds all of it copied
 * back; a pass that ran beside commits leaves their pages behind, and the
 * log would grow without end. Finishing on the committing thread, between
 * its commits, copies just those. */
int sqlite_checkpoint_finish(struct store *s) {
    return atomic_exchange(&checkpoint_unfinished, 0) ? checkpoint_pass(s, 0) : 0;
}
