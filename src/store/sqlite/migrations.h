/*
 * migrations.h - the SQLite backend's schema migrations, embedded at build
 * time (scripts/embed.py) from src/store/sqlite/migrations/NNNN_name.sql, in
 * ascending version order. Only the backend (db.c) reads them.
 */
#ifndef LK_STORE_SQLITE_MIGRATIONS_H
#define LK_STORE_SQLITE_MIGRATIONS_H

struct store_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct store_migration sqlite_migrations[];
extern const unsigned sqlite_migrations_count;

#endif
