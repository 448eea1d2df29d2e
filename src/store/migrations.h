/*
 * migrations.h - schema migrations embedded at build time (scripts/embed.py)
 * from src/store/migrations/NNNN_name.sql, in ascending version order.
 */
#ifndef LK_STORE_MIGRATIONS_H
#define LK_STORE_MIGRATIONS_H

struct store_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct store_migration store_migrations[];
extern const unsigned store_migrations_count;

#endif
