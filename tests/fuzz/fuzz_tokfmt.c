/* libFuzzer harness: tokfmt_parse. Invariants: ret is untouched on failure;
 * an accepted input is exactly the token tokfmt_build makes from its parts;
 * the public id is a prefix of the token and parses as an id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tokfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct tokfmt_parsed p, sentinel;
    memset(&p, 0xA5, sizeof(p));
    sentinel = p;
    if (tokfmt_parse((const char *)data, size, &p) != 0) {
        if (memcmp(&p, &sentinel, sizeof(p)) != 0)
            abort();
        return 0;
    }
    if (p.pubid_len >= size || memcmp(data, p.pubid, p.pubid_len) != 0 || data[p.pubid_len] != '_')
        abort();
    const char *secret = (const char *)data + p.pubid_len + 1;
    const char *id = p.pubid + p.pubid_len - TOKFMT_ID_CHARS;
    char token[TOKFMT_TOKEN_BUFSZ], pubid[TOKFMT_PUBID_BUFSZ];
    if (tokfmt_build(p.kind, id, secret, token, pubid) != 0)
        abort();
    if (strlen(token) != size || memcmp(token, data, size) != 0 || strcmp(pubid, p.pubid) != 0)
        abort();
    struct tokfmt_parsed q;
    if (tokfmt_parse_pubid(p.pubid, p.pubid_len, &q) != 0 || q.kind != p.kind)
        abort();
    return 0;
}
