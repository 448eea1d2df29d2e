/*
 * principal.h - who is calling: the identity a verified credential maps to.
 */
#ifndef LK_SVC_PRINCIPAL_H
#define LK_SVC_PRINCIPAL_H

#include "store/store.h"

enum principal_type {
    PRINCIPAL_NONE = 0,
    PRINCIPAL_ROOT, /* the partner admin */
    PRINCIPAL_USER,
    PRINCIPAL_SA, /* service account */
    PRINCIPAL_WORKLOAD,
};

struct token_entry;

struct principal {
    enum principal_type type;
    char id[STORE_OWNER_ID_MAX];     /* stable id ("root" for the partner admin) */
    char name[STORE_OWNER_ID_MAX];   /* display name / slug */
    char org[STORE_OWNER_ID_MAX];    /* org name, "" if none */
    char org_id[STORE_OWNER_ID_MAX]; /* org id, "" if none */
    char team[STORE_OWNER_ID_MAX];   /* "" if none */
    char org_role[16];               /* users: "admin" or "member"; "" otherwise */
    uint64_t extra_perms;            /* service accounts: grants within their team (permset_t) */
    uint64_t org_extra_perms;        /* service accounts: org-wide grants (permset_t) */
    struct token_entry *token;       /* the verified token; a reference this struct holds */
    int token_spent;                 /* this request took the token's last use (num_uses): it is
                                      * revoked when the request ends (vault_tokens_spent) */
};

/* "root", "user", "service_account", "workload" ("none" for PRINCIPAL_NONE). */
const char *principal_type_name(enum principal_type type);

/* Maps a stored owner_type back; PRINCIPAL_NONE if unknown. */
enum principal_type principal_type_from_name(const char *name);

/* Drops the token reference. Safe on a zeroed or already-done principal. */
void principal_done(struct principal *p);

#endif
