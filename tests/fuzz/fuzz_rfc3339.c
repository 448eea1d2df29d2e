/* libFuzzer harness: rfc3339_parse. Invariants: ret is untouched on failure;
 * a parsed time formats to 20 bytes that parse back to the same time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rfc3339.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t t = -42, again = -43;
    if (rfc3339_parse((const char *)data, size, &t) != 0) {
        if (t != -42)
            abort();
        return 0;
    }
    char buf[RFC3339_BUFSZ];
    size_t n = rfc3339_format(t, buf);
    if (n != 20 || strlen(buf) != 20 || rfc3339_parse(buf, n, &again) != 0 || again != t)
        abort();
    return 0;
}
