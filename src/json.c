#include "fanguard/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Kept free at all times (with one byte per open container for its closer),
 * so that finish can always close a cut document and mark it. sizeof counts
 * the terminating NUL as well. */
#define TRUNC_MARK    ",\"truncated\":true"
#define TRUNC_RESERVE sizeof(TRUNC_MARK)

static const char hexdigits[] = "0123456789abcdef";

/* Length of the well-formed UTF-8 sequence at s (n bytes available), or 0
 * when s[0] does not start one: overlong forms, surrogates, code points past
 * U+10FFFF and sequences cut short are all rejected here. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		need = 2;
	} else if (c < 0xf0) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

static size_t ctl_escape(char u[6], unsigned char c)
{
	memcpy(u, "\\u00", 4);
	u[4] = hexdigits[c >> 4];
	u[5] = hexdigits[c & 0xf];
	return 6;
}

/* Escapes the character at s into u; returns its length and sets *ret_adv
 * to the source bytes consumed. C1 controls (U+0080..U+009F) are escaped
 * too: the string means the same to a JSON reader, and a terminal showing
 * the text format does not see a raw CSI. */
static size_t escape_unit(const unsigned char *s, size_t n, char u[6], size_t *ret_adv,
			  bool *invalid)
{
	static const char short_esc[][2] = {['"'] = "\"", ['\\'] = "\\", ['\n'] = "n", ['\r'] = "r",
					    ['\t'] = "t", ['\b'] = "b",	 ['\f'] = "f"};
	unsigned char c = s[0];
	size_t k = utf8_len(s, n);

	*ret_adv = k ? k : 1;
	if (k == 0) {
		*invalid = true;
		memcpy(u, "\\ufffd", 6);
		return 6;
	}
	if (k > 1) {
		if (k == 2 && c == 0xc2 && s[1] < 0xa0)
			return ctl_escape(u, s[1]);
		memcpy(u, s, k);
		return k;
	}
	if (c < sizeof(short_esc) / sizeof(short_esc[0]) && short_esc[c][0]) {
		u[0] = '\\';
		u[1] = short_esc[c][0];
		return 2;
	}
	if (c < 0x20 || c == 0x7f)
		return ctl_escape(u, c);
	u[0] = (char)c;
	return 1;
}

/* Printable ASCII that JSON takes as it is: the common case, copied in runs. */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

size_t fg_json_escape(char *out, size_t cap, const char *s, size_t len, bool *ret_invalid)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need = 0, written = 0;
	bool invalid = false, full = false;

	for (size_t i = 0; i < len;) {
		char u[6];
		size_t run = i, adv, un;

		while (run < len && plain(p[run]))
			run++;
		if (run > i) {
			/* One byte per unit: as many as fit, then full. */
			size_t k = run - i,
			       avail = !full && cap > written + 1 ? cap - 1 - written : 0;
			size_t fit = k < avail ? k : avail;

			if (fit) /* out may be NULL when cap is 0 */
				memcpy(out + written, p + i, fit);
			written += fit;
			full = full || fit < k;
			need += k;
			i = run;
			continue;
		}
		un = escape_unit(p + i, len - i, u, &adv, &invalid);
		/* Only whole escapes go out, so a cut result is still valid. */
		if (!full && written + un < cap) {
			memcpy(out + written, u, un);
			written += un;
		} else {
			full = true;
		}
		need += un;
		i += adv;
	}
	if (cap)
		out[written] = '\0';
	if (ret_invalid)
		*ret_invalid = invalid;
	return need;
}

/* Bytes a member may still use: the reserve for the mark and for every
 * open container's closer stays untouched. */
static size_t room(const struct fg_json *j)
{
	size_t reserve = TRUNC_RESERVE + j->depth;

	if (j->cap < reserve || j->len > j->cap - reserve)
		return 0;
	return j->cap - reserve - j->len;
}

static bool put(struct fg_json *j, const char *s, size_t n)
{
	if (n > room(j))
		return false;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	return true;
}

static bool put_escaped(struct fg_json *j, const char *s, size_t n, bool *invalid)
{
	size_t r = room(j);
	size_t need = fg_json_escape(j->buf + j->len, r, s, n, invalid);

	if (need >= r)
		return false;
	j->len += need;
	return true;
}

static bool in_array(const struct fg_json *j)
{
	return j->arrays & (1u << (j->depth - 1));
}

/* Writes the comma and the key (key + suffix) of a new member. Returns false
 * when it did not fit or no member can go here; the caller rolls back. */
static bool begin(struct fg_json *j, const char *key, const char *suffix)
{
	if (j->skip || j->depth == 0)
		return false;
	if (!j->first[j->depth - 1] && !put(j, ",", 1))
		return false;
	if (in_array(j))
		return true;
	if (!key)
		key = "";
	size_t kl = strlen(key), sl = strlen(suffix), k = 0;
	/* Keys are the code's own names: plain ASCII, written in one go. */
	while (k < kl && plain((unsigned char)key[k]))
		k++;
	if (k == kl && kl + sl + 3 <= room(j)) {
		char *o = j->buf + j->len;
		*o++ = '"';
		memcpy(o, key, kl);
		memcpy(o + kl, suffix, sl);
		o += kl + sl;
		*o++ = '"';
		*o++ = ':';
		j->len = (size_t)(o - j->buf);
		return true;
	}
	return put(j, "\"", 1) && put_escaped(j, key, kl, NULL) && put(j, suffix, sl) &&
	       put(j, "\":", 2);
}

static void commit(struct fg_json *j)
{
	j->first[j->depth - 1] = false;
}

static void rollback(struct fg_json *j, size_t mark)
{
	j->len = mark;
	j->overflow = true;
}

static void put_member(struct fg_json *j, const char *key, const char *val, size_t n)
{
	size_t mark = j->len;

	if (!begin(j, key, "") || !put(j, val, n)) {
		rollback(j, mark);
		return;
	}
	commit(j);
}

void fg_json_init(struct fg_json *j, char *buf, size_t cap)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->cap = cap;
	/* Too small to ever hold "{" + mark + "}": finish then yields "{}" or "". */
	if (cap < TRUNC_RESERVE + 2) {
		j->overflow = true;
		return;
	}
	buf[0] = '{';
	j->len = 1;
	j->depth = 1;
	j->first[0] = true;
}

int fg_json_finish(struct fg_json *j)
{
	if (j->depth == 0) {
		j->len = 0;
		if (j->cap >= 3)
			j->len = (size_t)snprintf(j->buf, j->cap, "{}");
		else if (j->cap)
			j->buf[0] = '\0';
		return (int)j->len;
	}
	j->skip = 0;
	while (j->depth > 1) {
		j->buf[j->len++] = in_array(j) ? ']' : '}';
		j->arrays &= ~(1u << (j->depth - 1));
		j->depth--;
	}
	if (j->overflow) {
		const char *mark = &TRUNC_MARK[j->first[0] ? 1 : 0];
		size_t n = strlen(mark);

		memcpy(j->buf + j->len, mark, n);
		j->len += n;
	}
	j->buf[j->len++] = '}';
	j->buf[j->len] = '\0';
	j->depth = 0;
	return (int)j->len;
}

static void open_container(struct fg_json *j, const char *key, bool arr)
{
	size_t mark = j->len;

	if (j->skip || j->depth == 0 || j->depth >= FG_JSON_DEPTH || !begin(j, key, "")) {
		rollback(j, mark);
		j->skip++;
		return;
	}
	/* Count the new container first so its closer is reserved before '{'. */
	j->depth++;
	if (!put(j, arr ? "[" : "{", 1)) {
		j->depth--;
		rollback(j, mark);
		j->skip++;
		return;
	}
	j->first[j->depth - 2] = false;
	j->first[j->depth - 1] = true;
	if (arr)
		j->arrays |= 1u << (j->depth - 1);
}

static void close_container(struct fg_json *j)
{
	if (j->skip) {
		j->skip--;
		return;
	}
	/* The top-level object belongs to finish. */
	if (j->depth <= 1)
		return;
	j->buf[j->len++] = in_array(j) ? ']' : '}';
	j->arrays &= ~(1u << (j->depth - 1));
	j->depth--;
}

void fg_json_obj_open(struct fg_json *j, const char *key)
{
	open_container(j, key, false);
}

void fg_json_obj_close(struct fg_json *j)
{
	close_container(j);
}

void fg_json_arr_open(struct fg_json *j, const char *key)
{
	open_container(j, key, true);
}

void fg_json_arr_close(struct fg_json *j)
{
	close_container(j);
}

/* The hex sibling is its own member: when only it does not fit, the
 * escaped value stays and the document is marked truncated. */
static void put_hex_member(struct fg_json *j, const char *key, const char *val, size_t len)
{
	const unsigned char *p = (const unsigned char *)val;
	size_t mark = j->len;

	if (!begin(j, key, "_hex") || room(j) < 2 * len + 2) {
		rollback(j, mark);
		return;
	}
	j->buf[j->len++] = '"';
	for (size_t i = 0; i < len; i++) {
		j->buf[j->len++] = hexdigits[p[i] >> 4];
		j->buf[j->len++] = hexdigits[p[i] & 0xf];
	}
	j->buf[j->len++] = '"';
	commit(j);
}

static void put_string(struct fg_json *j, const char *key, const char *val, size_t len, bool hex)
{
	size_t mark = j->len;
	bool invalid = false;

	if (!val) {
		fg_json_null(j, key);
		return;
	}
	if (!begin(j, key, "") || !put(j, "\"", 1) || !put_escaped(j, val, len, &invalid) ||
	    !put(j, "\"", 1)) {
		rollback(j, mark);
		return;
	}
	commit(j);
	if (invalid && hex)
		put_hex_member(j, key, val, len);
}

bool fg_json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t k = p[i] < 0x80 ? 1 : utf8_len(p + i, len - i);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

void fg_json_str_cut(struct fg_json *j, const char *key, const char *val, size_t len, size_t max,
		     bool *ret_cut)
{
	size_t mark = j->len, lim, need;

	if (ret_cut)
		*ret_cut = false;
	if (!begin(j, key, "") || !put(j, "\"", 1) || room(j) < 1) {
		rollback(j, mark);
		return;
	}
	/* One byte stays for the closing quote. */
	lim = room(j) - 1;
	if (max < lim)
		lim = max;
	/* Each byte escapes to at least one, so no input past lim + 1 can
	 * reach the output: a long value costs what fits, not its length. */
	need = fg_json_escape(j->buf + j->len, lim + 1, val, len > lim + 1 ? lim + 1 : len, NULL);
	if (need > lim && lim < max) {
		rollback(j, mark); /* no room: the member goes, not a cut value */
		return;
	}
	if (need > lim && ret_cut)
		*ret_cut = true;
	/* Escapes never hold a NUL, so the written prefix ends at the first. */
	j->len += need > lim ? strlen(j->buf + j->len) : need;
	j->buf[j->len++] = '"';
	commit(j);
}

void fg_json_hex(struct fg_json *j, const char *key, const char *val, size_t len, size_t max,
		 bool *ret_cut)
{
	const unsigned char *p = (const unsigned char *)val;
	size_t mark = j->len, n = len;

	if (ret_cut)
		*ret_cut = false;
	if (2 * n > max) {
		n = max / 2;
		if (ret_cut)
			*ret_cut = true;
	}
	if (!begin(j, key, "") || room(j) < 2 * n + 2) {
		rollback(j, mark);
		if (ret_cut)
			*ret_cut = false;
		return;
	}
	j->buf[j->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		j->buf[j->len++] = hexdigits[p[i] >> 4];
		j->buf[j->len++] = hexdigits[p[i] & 0xf];
	}
	j->buf[j->len++] = '"';
	commit(j);
}

void fg_json_str(struct fg_json *j, const char *key, const char *val)
{
	put_string(j, key, val, val ? strlen(val) : 0, false);
}

void fg_json_str_raw(struct fg_json *j, const char *key, const char *val, size_t len)
{
	put_string(j, key, val, len, true);
}

/* Decimal digits of v, right-aligned in tmp[24]; returns where they start
 * (snprintf costs more than the rest of a member on the event path). */
static char *digits(char tmp[24], uint64_t v)
{
	char *p = tmp + 24;

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return p;
}

void fg_json_u64(struct fg_json *j, const char *key, uint64_t val)
{
	char tmp[24], *p = digits(tmp, val);

	put_member(j, key, p, (size_t)(tmp + 24 - p));
}

void fg_json_i64(struct fg_json *j, const char *key, int64_t val)
{
	char tmp[25], *p = digits(tmp + 1, val < 0 ? 0 - (uint64_t)val : (uint64_t)val);

	if (val < 0)
		*--p = '-';
	put_member(j, key, p, (size_t)(tmp + 25 - p));
}

void fg_json_bool(struct fg_json *j, const char *key, bool val)
{
	put_member(j, key, val ? "true" : "false", val ? 4 : 5);
}

void fg_json_null(struct fg_json *j, const char *key)
{
	put_member(j, key, "null", 4);
}

void fg_json_double(struct fg_json *j, const char *key, double val)
{
	/* %.3f of DBL_MAX is 313 characters. */
	char tmp[400];
	int n;

	/* JSON has no spelling for NaN or infinity. */
	if (!isfinite(val)) {
		fg_json_null(j, key);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.3f", val);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fg_json_null(j, key);
		return;
	}
	put_member(j, key, tmp, (size_t)n);
}
