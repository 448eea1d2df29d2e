/*
 * urlpath.c - refusing request paths that are not in their one canonical
 * shape (see urlpath.h).
 *
 * Pure, allocation-free and linear: each segment is decoded a byte at a
 * time and its rules checked as the bytes go by. Must never echo the path
 * in a message (it may hold a token no cut would recognise).
 */
#include "core/urlpath.h"

#include "core/errors.h"
#include "lib/str.h"

/* Bytes of the UTF-8 character a lead byte starts (RFC 3629), or 0 when it
 * cannot start one; str_utf8_len then checks the whole character. */
static size_t utf8_width(unsigned char lead) {
    if (lead < 0x80)
        return 1;
    if (lead >= 0xc2 && lead <= 0xdf)
        return 2;
    if (lead >= 0xe0 && lead <= 0xef)
        return 3;
    if (lead >= 0xf0 && lead <= 0xf4)
        return 4;
    return 0;
}

/* What is known of the segment being decoded. */
struct segment {
    size_t index; /* 1 for the first segment after the leading '/' */
    size_t len;   /* decoded bytes so far */
    size_t dots;  /* of them, '.' */
    char prev[2]; /* the two decoded bytes before the current one */
    char pend[4]; /* a UTF-8 character still arriving */
    size_t npend; /* its bytes so far */
    size_t want;  /* its width */
};

static int refuse(struct lk_error *err, size_t index, const char *what) {
    return lk_error_set(err, LK_EINVAL, "invalid path: segment %zu %s", index, what);
}

/* Takes one decoded byte b of the segment (escaped: it came from a %XX). */
static int take(struct segment *sg, char b, int escaped, struct lk_error *err) {
    unsigned char u = (unsigned char)b;
    if (escaped && b == '/')
        return refuse(err, sg->index, "holds an encoded '/' (%2F): a name never contains one");
    if (u < 0x20 || u == 0x7f)
        return refuse(err, sg->index, "holds a control character (NUL, 0x01-0x1F or DEL)");
    if (sg->len >= 2 && sg->prev[0] == '%' && str_hex_digit(sg->prev[1]) >= 0 && str_hex_digit(b) >= 0)
        return refuse(err, sg->index, "is percent-encoded twice (it still holds %XX once decoded)");
    if (sg->npend > 0 && (u & 0xc0) != 0x80)
        return refuse(err, sg->index, "is not valid UTF-8");
    if (sg->npend == 0) {
        sg->want = utf8_width(u);
        if (sg->want == 0)
            return refuse(err, sg->index, "is not valid UTF-8");
    }
    sg->pend[sg->npend++] = b;
    if (sg->npend == sg->want) {
        if (str_utf8_len(sg->pend, sg->npend) != sg->want)
            return refuse(err, sg->index, "is not valid UTF-8");
        sg->npend = 0;
    }
    sg->prev[0] = sg->prev[1];
    sg->prev[1] = b;
    sg->len++;
    if (b == '.')
        sg->dots++;
    return 0;
}

/* The checks that need the whole segment. */
static int finish(const struct segment *sg, struct lk_error *err) {
    if (sg->npend != 0)
        return refuse(err, sg->index, "is not valid UTF-8 (a character is cut short)");
    if (sg->len > 0 && sg->len <= 2 && sg->dots == sg->len)
        return refuse(err, sg->index, "is '.' or '..' (or their encoding): name the resource itself");
    return 0;
}

int urlpath_check(const char *path, size_t n, struct lk_error *err) {
    struct segment sg = {.index = 1};
    int r;
    if (n == 0 || path[0] != '/')
        return lk_error_set(err, LK_EINVAL, "invalid path: it must start with '/'");
    for (size_t i = 1; i <= n; i++) {
        if (i == n || path[i] == '/') {
            if ((r = finish(&sg, err)) != 0)
                return r;
            sg = (struct segment){.index = sg.index + 1};
            continue;
        }
        if (path[i] != '%') {
            r = take(&sg, path[i], 0, err);
        } else {
            int hi = i + 2 < n ? str_hex_digit(path[i + 1]) : -1;
            int lo = hi >= 0 ? str_hex_digit(path[i + 2]) : -1;
            if (lo < 0)
                return refuse(err, sg.index, "has a '%' that is not followed by two hex digits");
            r = take(&sg, (char)(hi << 4 | lo), 1, err);
            i += 2;
        }
        if (r != 0)
            return r;
    }
    return 0;
}
