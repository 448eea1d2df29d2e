/*
 * server_seal.h - unsealing from text the operator arranged (server_seal.c),
 * shared by the server's start and the operator commands that need the
 * keys in-process (`operator audit verify --shares-stdin` or
 * `--unseal-key-file`), so both take shares by the same rules.
 *
 * Never logs a share.
 */
#ifndef LK_SERVER_SEAL_H
#define LK_SERVER_SEAL_H

struct seal;
struct store;

/* Gives each line of text (blank lines and '#' comments skipped) to the
 * seal until it unseals. 0 once unsealed, or -1 after logging why (what
 * names the source: "--unseal-key-file", ...). Wipes nothing: the caller
 * wipes text. */
int server_unseal_text(struct seal *seal, struct store *s, char *text, const char *what);

/* The same with the shares in the file at path, which must be a regular
 * file (not a symlink) that group and others can in no way access (chmod
 * 600 or tighter): otherwise -1 after logging why. */
int server_unseal_key_file(struct seal *seal, struct store *s, const char *path, const char *what);

#endif
