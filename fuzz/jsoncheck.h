/* A strict JSON checker for the harnesses, written independently of
 * src/json.c so that the two do not share a mistake. */
#ifndef FANGUARD_FUZZ_JSONCHECK_H
#define FANGUARD_FUZZ_JSONCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is exactly one JSON object (RFC 8259), in well-formed
 * UTF-8, with no raw C0/C1 control character or DEL inside strings, no
 * lone surrogate escape and no duplicate key in any object. On false,
 * *ret_at is the offset where it went wrong. */
bool jc_object(const char *s, size_t n, size_t *ret_at);

/* True when s[0..n) is the inside of a JSON string (no quotes) under the
 * same rules. */
bool jc_string_body(const char *s, size_t n, size_t *ret_at);

/* Length of the well-formed UTF-8 character at s, or 0 (decodes code
 * points instead of checking byte ranges, unlike src/json.c). */
size_t jc_utf8_len(const unsigned char *s, size_t n);

#endif
