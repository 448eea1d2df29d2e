/*
 * tokfmt.h - the latchkey token format.
 *
 *   lk_<kind>_<id>_<secret><crc>
 *
 *   kind    one of "root", "user", "sa", "sess", "wl" (see enum tok_kind)
 *   id      TOKFMT_ID_CHARS base62 characters, random: the public key id
 *   secret  TOKFMT_SECRET_CHARS base62 characters (>= 160 random bits)
 *   crc     CRC32 (IEEE) of every byte before it, as TOKFMT_CRC_CHARS
 *           base62 digits, most significant first, zero-padded
 *
 * The public id shown in listings, audit records and errors is the prefix
 * "lk_<kind>_<id>", so a full token always starts with its own id. See
 * docs/token-format.md. Nothing here does I/O except tokfmt_generate(),
 * which draws from OpenSSL's CSPRNG.
 */
#ifndef LK_CORE_TOKFMT_H
#define LK_CORE_TOKFMT_H

#include <stddef.h>
#include <stdint.h>

#define TOKFMT_ID_CHARS 12
#define TOKFMT_SECRET_CHARS 32
#define TOKFMT_CRC_CHARS 6
/* Longest kind is "root"/"sess": 4 chars. */
#define TOKFMT_KIND_MAX 4
/* "lk_" + kind + "_" + id */
#define TOKFMT_PUBID_MAX (3 + TOKFMT_KIND_MAX + 1 + TOKFMT_ID_CHARS)
/* pubid + "_" + secret + crc */
#define TOKFMT_TOKEN_MAX (TOKFMT_PUBID_MAX + 1 + TOKFMT_SECRET_CHARS + TOKFMT_CRC_CHARS)
/* Buffer sizes including the terminating NUL. */
#define TOKFMT_PUBID_BUFSZ (TOKFMT_PUBID_MAX + 1)
#define TOKFMT_TOKEN_BUFSZ (TOKFMT_TOKEN_MAX + 1)

enum tok_kind {
    TOK_KIND_ROOT = 0, /* "root": the partner admin */
    TOK_KIND_USER,     /* "user": a person's API token */
    TOK_KIND_SA,       /* "sa":   a service account's API token */
    TOK_KIND_SESSION,  /* "sess": a login session */
    TOK_KIND_WORKLOAD, /* "wl":   a workload identity token */
    TOK_KIND__COUNT
};

/* The kind's prefix word ("user"), or NULL for an invalid kind. */
const char *tokfmt_kind_name(enum tok_kind kind);

/* A parsed token. Points into nothing: all fields are copies. */
struct tokfmt_parsed {
    enum tok_kind kind;
    char pubid[TOKFMT_PUBID_BUFSZ]; /* "lk_user_XXXXXXXXXXXX", NUL-terminated */
    size_t pubid_len;
};

/*
 * Generates a new token of kind into ret_token (NUL-terminated, at most
 * TOKFMT_TOKEN_MAX chars) and its public id into ret_pubid.
 * Returns 0, LK_EINVAL for a bad kind, or LK_EINTERNAL if the CSPRNG fails.
 * The caller must explicit_bzero() ret_token when done with it.
 */
int tokfmt_generate(enum tok_kind kind, char ret_token[TOKFMT_TOKEN_BUFSZ], char ret_pubid[TOKFMT_PUBID_BUFSZ]);

/*
 * Builds a token from caller-supplied random material (for tests and for
 * tokfmt_generate): id and secret are already base62 strings of the exact
 * lengths. Returns 0 or LK_EINVAL.
 */
int tokfmt_build(enum tok_kind kind, const char id[TOKFMT_ID_CHARS], const char secret[TOKFMT_SECRET_CHARS],
                 char ret_token[TOKFMT_TOKEN_BUFSZ], char ret_pubid[TOKFMT_PUBID_BUFSZ]);

/*
 * Checks that s[0..len) is a well-formed token with a correct checksum,
 * without any lookup. Returns 0 and fills ret, or LK_EBADTOKEN. ret is not
 * touched on failure.
 */
int tokfmt_parse(const char *s, size_t len, struct tokfmt_parsed *ret);

/*
 * Checks that s[0..len) is a well-formed public id ("lk_user_XXXX...").
 * Returns 0 and fills ret (kind, pubid), or LK_EINVAL.
 */
int tokfmt_parse_pubid(const char *s, size_t len, struct tokfmt_parsed *ret);

/*
 * Copies in[0..n) to out (cap bytes, always NUL-terminated, cut to fit)
 * with every token's secret cut away: from each "lk_", the longest run of
 * token characters ([A-Za-z0-9_]) keeps at most its public id (up to its
 * third '_', at most TOKFMT_PUBID_MAX characters) and the rest of the run
 * becomes "_[redacted]". A run with nothing past its public id but one '_'
 * (so redacting twice changes nothing), and all other text, are copied
 * unchanged; in may hold any byte. Returns the length written. For log
 * lines and audit fields built from what clients send (paths, user agents,
 * names tried), where a pasted token must not be written down, and for
 * error answers that name what was sent. Percent-encoded text is not
 * decoded here: api_logged_path() hands over a path's decoded form, and
 * audit_field_copy() a field's, when that is where a token shows.
 */
size_t tokfmt_redact(const char *in, size_t n, char *out, size_t cap);

/*
 * 1 if s[0..n) holds something shaped like a whole token anywhere in it
 * ("lk_<kind>_<id>_" and then secret + checksum: TOKFMT_SECRET_CHARS +
 * TOKFMT_CRC_CHARS base62 characters), with its public id in *ret (ret may
 * be NULL); else 0. The checksum is not checked: a pasted token with a
 * typo in it still carries its secret. For refusing free text that would
 * keep a pasted token.
 */
int tokfmt_find(const char *s, size_t n, struct tokfmt_parsed *ret);

/* CRC32 (IEEE 802.3, as zlib's crc32()) of data. */
uint32_t tokfmt_crc32(const void *data, size_t len);

#endif
