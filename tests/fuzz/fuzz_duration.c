/* libFuzzer harness: duration_parse and duration_add. Invariants: ret is
 * untouched on failure and the error names a reason; every parsed part is
 * non-negative; adding a parsed duration never goes backwards in time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "core/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct iso_duration d, sentinel;
    struct lk_error err = {0};
    memset(&d, 0x5A, sizeof(d));
    sentinel = d;
    if (duration_parse((const char *)data, size, &d, &err) != 0) {
        if (memcmp(&d, &sentinel, sizeof(d)) != 0 || err.code != LK_EINVAL || err.msg[0] == '\0')
            abort();
        return 0;
    }
    if (d.years < 0 || d.months < 0 || d.weeks < 0 || d.days < 0 || d.hours < 0 || d.minutes < 0 || d.seconds < 0)
        abort();
    static const int64_t starts[] = {0, 1706659200 /* 2024-01-31 */, 4102444800 /* 2100-01-01 */};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        int64_t end = -1;
        if (duration_add(starts[i], &d, &end) == 0 && end < starts[i])
            abort();
    }
    return 0;
}
