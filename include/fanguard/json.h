/* A small JSON writer into a caller's fixed buffer: no allocation, never
 * writes past the buffer, and every string is escaped so that a line stays
 * one valid JSON object whatever bytes a path or a comm holds. */
#ifndef FANGUARD_JSON_H
#define FANGUARD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FG_JSON_DEPTH 16

struct fg_json {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow; /* something did not fit; the output is cut */
	unsigned depth;
	bool first[FG_JSON_DEPTH]; /* no comma needed yet at this depth */
	uint32_t arrays;	   /* bit d set: the container at depth d is an array */
	unsigned skip;		   /* containers opened without room: their members
				    * and closers are dropped */
};

/* Starts a document in buf (cap bytes) with an open top-level object. */
void fg_json_init(struct fg_json *j, char *buf, size_t cap);
/* Closes every open object/array and terminates the string. Returns the
 * length. Each member is written whole or not at all; a member that does
 * not fit is dropped, and then the top-level object gets "truncated":true
 * (room for it and for the closing brackets is reserved at init), so the
 * result is always one valid JSON object. */
int fg_json_finish(struct fg_json *j);

/* key may be NULL inside arrays. */
void fg_json_obj_open(struct fg_json *j, const char *key);
void fg_json_obj_close(struct fg_json *j);
void fg_json_arr_open(struct fg_json *j, const char *key);
void fg_json_arr_close(struct fg_json *j);
void fg_json_str(struct fg_json *j, const char *key, const char *val);
/* A string of outside origin (path, comm, exe): escaped; bytes that are not
 * valid UTF-8 become U+FFFD, and then a sibling "<key>_hex" holds the raw
 * bytes in hex so nothing is lost. */
void fg_json_str_raw(struct fg_json *j, const char *key, const char *val, size_t len);
/* A string of outside origin, escaped like fg_json_str_raw but without the
 * hex sibling (the caller places that where it belongs), and at most max
 * bytes of escaped value (SIZE_MAX: no limit), cut between whole
 * characters. *ret_cut (may be NULL) is set when the value was shortened
 * to max; a member that does not fit at all is dropped as any other. */
void fg_json_str_cut(struct fg_json *j, const char *key, const char *val, size_t len, size_t max,
		     bool *ret_cut);
/* The raw bytes of val as lower-case hex, at most max digits (whole bytes);
 * *ret_cut as for fg_json_str_cut. */
void fg_json_hex(struct fg_json *j, const char *key, const char *val, size_t len, size_t max,
		 bool *ret_cut);
/* True when s (len bytes) is well-formed UTF-8: fg_json_str_raw would then
 * add no hex sibling. Controls count as valid. */
bool fg_json_utf8_valid(const char *s, size_t len);
void fg_json_u64(struct fg_json *j, const char *key, uint64_t val);
void fg_json_i64(struct fg_json *j, const char *key, int64_t val);
void fg_json_bool(struct fg_json *j, const char *key, bool val);
void fg_json_null(struct fg_json *j, const char *key);
void fg_json_double(struct fg_json *j, const char *key, double val);

/* Writes the escaped form of s (len bytes) into out (cap bytes) without
 * quotes; returns the bytes needed (excluding NUL), and sets *ret_invalid
 * when some bytes were not valid UTF-8. Exposed for tests and for the text
 * format. */
size_t fg_json_escape(char *out, size_t cap, const char *s, size_t len, bool *ret_invalid);

#endif
