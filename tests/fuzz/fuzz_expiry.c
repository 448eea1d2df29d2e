/* libFuzzer harness: expiry_resolve with the input as the "expires" field.
 * Invariants: failure leaves the result untouched and explains itself;
 * success is a time strictly after "now" (or 0 only when nothing was asked). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/expiry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const int64_t now = 1800000000;
    struct expiry_request req = {(const char *)data, size, 0, 0};
    struct lk_error err = {0};
    int64_t at = -1;
    if (expiry_resolve(&req, now, &at, &err) != 0) {
        if (at != -1 || err.msg[0] == '\0')
            abort();
        return 0;
    }
    if (at <= now)
        abort();
    return 0;
}
