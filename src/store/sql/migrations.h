/*
 * migrations.h - each SQL backend's schema migrations, embedded at build
 * time (scripts/embed.py) from src/store/<backend>/migrations/NNNN_name.sql,
 * in ascending version order. Only each backend's db.c reads its own.
 */
#ifndef LK_STORE_SQL_MIGRATIONS_H
#define LK_STORE_SQL_MIGRATIONS_H

struct store_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct store_migration sqlite_migrations[];
extern const unsigned sqlite_migrations_count;
extern const struct store_migration postgres_migrations[];
extern const unsigned postgres_migrations_count;

#endif
