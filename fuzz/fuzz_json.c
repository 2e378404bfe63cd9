/* libFuzzer harness for the JSON writer and the log line formatters.
 *
 * Input: a 12-byte header (flags, a buffer size, the ancestry depth, ids),
 * then a body. The body is used whole (NULs included) as the raw string
 * for fg_json_escape and fg_json_str_raw, and split at NULs into the
 * strings of an fg_event and its fg_proc: path, exe, comm, cgroup, message,
 * ancestors' exe and comm, and the rest.
 *
 * Every output is checked, not just survived: an escape decodes back to
 * its input, a document or JSON line is exactly one valid object, a text
 * line splits into key=value fields, and a line ends in its only '\n'. */
#include "fanguard/json.h"
#include "fanguard/log.h"
#include "fanguard/logfmt.h"
#include "fanguard/proc.h"
#include "jsoncheck.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_json: %s:%d: check failed: %s\n", __FILE__,          \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define HDR_LEN 12
#define SEG_MAX 64

enum {
	F_TEXT = 1 << 0,     /* text format instead of JSON */
	F_SMALL = 1 << 1,    /* max_line of 2048 + 8 * hdr.cap bytes */
	F_MEDIUM = 1 << 2,   /* max_line of 4096 + 240 * hdr.cap bytes */
	F_PROC = 1 << 3,     /* the event has a process */
	F_OPEN = 1 << 4,     /* open flags and syscall */
	F_TX = 1 << 5,	     /* a transaction */
	F_RAWOFF = 1 << 6,   /* ancestors' exe offsets straight from the input */
	F_NOSTRING = 1 << 7, /* empty segments become NULL, not "" */
};

struct input {
	uint8_t flags;
	uint8_t cap;
	uint16_t depth;
	uint32_t id1, id2;
	const char *body; /* NUL-terminated copy; body_len excludes the NUL */
	size_t body_len;
	const char *seg[SEG_MAX];
	size_t seg_len[SEG_MAX];
	unsigned n_seg;
};

static const char *seg(const struct input *in, unsigned i)
{
	if (in->n_seg == 0)
		return (in->flags & F_NOSTRING) ? NULL : "";
	i %= in->n_seg;
	if (in->seg_len[i] == 0 && (in->flags & F_NOSTRING))
		return NULL;
	return in->seg[i];
}

static const char *seg_or_empty(const struct input *in, unsigned i)
{
	const char *s = seg(in, i);

	return s ? s : "";
}

/* ---- fg_json_escape: complete, cut, and decoded back ---- */

static void put_utf8(unsigned cp, unsigned char *out, size_t *n)
{
	if (cp < 0x80) {
		out[(*n)++] = (unsigned char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (unsigned char)(0xc0 | cp >> 6);
		out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (unsigned char)(0xe0 | cp >> 12);
		out[(*n)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
	}
}

/* Decodes a checked escape body; fg never writes surrogate pairs, so every
 * \u escape is one BMP code point. */
static size_t unescape(const char *s, size_t n, unsigned char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		if (s[i] != '\\') {
			out[o++] = (unsigned char)s[i++];
			continue;
		}
		switch (s[i + 1]) {
		case 'u': {
			char hex[5] = {s[i + 2], s[i + 3], s[i + 4], s[i + 5], 0};
			unsigned cp = (unsigned)strtoul(hex, NULL, 16);
			CHECK(cp < 0xd800 || cp > 0xdfff);
			put_utf8(cp, out, &o);
			i += 6;
			continue;
		}
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		default: /* '"', '\\', '/' */
			out[o++] = (unsigned char)s[i + 1];
			break;
		}
		i += 2;
	}
	return o;
}

/* What the input should decode back to: invalid bytes become U+FFFD, one
 * replacement per byte. Sets *ret_invalid. */
static size_t expected(const unsigned char *s, size_t n, unsigned char *out, bool *ret_invalid)
{
	size_t o = 0;

	*ret_invalid = false;
	for (size_t i = 0; i < n;) {
		size_t k = jc_utf8_len(s + i, n - i);
		if (k == 0) {
			*ret_invalid = true;
			put_utf8(0xfffd, out, &o);
			i++;
			continue;
		}
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	return o;
}

static void fuzz_escape(const struct input *in)
{
	const char *s = in->body;
	size_t n = in->body_len, at;
	bool inv_full = false, inv_cut = false, inv_ref;
	char none;
	size_t need = fg_json_escape(&none, 0, s, n, &inv_full);
	/* At most 6 output bytes per input byte. */
	char *full = malloc(need + 1);
	char *cut = malloc(in->cap ? in->cap : 1);
	unsigned char *dec = malloc(3 * n + 1), *ref = malloc(3 * n + 1);

	CHECK(full && cut && dec && ref);
	CHECK(need <= 6 * n);
	CHECK(fg_json_escape(full, need + 1, s, n, NULL) == need);
	CHECK(strlen(full) == need);
	if (!jc_string_body(full, need, &at)) {
		fprintf(stderr, "fuzz_json: escape output invalid at %zu: %s\n", at, full);
		abort();
	}
	size_t dn = unescape(full, need, dec);
	size_t rn = expected((const unsigned char *)s, n, ref, &inv_ref);
	CHECK(inv_ref == inv_full);
	CHECK(dn == rn && memcmp(dec, ref, dn) == 0);

	/* A buffer too small: a prefix of whole escapes, still terminated. */
	CHECK(fg_json_escape(cut, in->cap, s, n, &inv_cut) == need);
	CHECK(inv_cut == inv_full);
	if (in->cap) {
		size_t cl = strnlen(cut, in->cap);
		CHECK(cl < in->cap && cl <= need);
		CHECK(memcmp(cut, full, cl) == 0);
		CHECK(jc_string_body(cut, cl, &at));
		CHECK(cl == need || need >= in->cap);
	}
	free(full);
	free(cut);
	free(dec);
	free(ref);
}

/* ---- fg_json: a document built by an op stream from the body ---- */

static void fuzz_document(const struct input *in)
{
	size_t cap = (in->flags & F_SMALL) ? in->cap : 64 + 8u * in->cap;
	char *buf = malloc(cap ? cap : 1);
	struct fg_json j;
	char key[16];
	unsigned kn = 0;
	size_t at;
	int len;

	CHECK(buf);
	fg_json_init(&j, buf, cap);
	/* Every byte of the body is one operation; keys are all distinct. */
	for (size_t i = 0; i < in->body_len && i < 512; i++) {
		uint8_t op = (uint8_t)in->body[i];
		const char *v = seg_or_empty(in, op >> 4);
		snprintf(key, sizeof(key), "k%u", kn++);
		switch (op % 12) {
		case 0:
			fg_json_obj_open(&j, key);
			break;
		case 1:
			fg_json_arr_open(&j, key);
			break;
		case 2:
		case 3:
			fg_json_obj_close(&j);
			break;
		case 4:
			fg_json_str_raw(&j, key, in->body + i, in->body_len - i);
			break;
		case 5:
			fg_json_str(&j, key, v);
			break;
		case 6:
			fg_json_u64(&j, key, (uint64_t)in->id1 << 32 | in->id2);
			break;
		case 7:
			fg_json_i64(&j, key, (int64_t)((uint64_t)in->id2 << 32 | in->id1));
			break;
		case 8:
			fg_json_bool(&j, key, op & 0x10);
			break;
		case 9:
			fg_json_null(&j, key);
			break;
		case 10: {
			double d;
			uint64_t bits = (uint64_t)in->id1 << 32 | in->id2;
			memcpy(&d, &bits, sizeof(d));
			fg_json_double(&j, key, d);
			break;
		}
		default:
			fg_json_str_raw(&j, key, v, strlen(v));
			break;
		}
	}
	len = fg_json_finish(&j);
	CHECK(len >= 0);
	if (cap == 0) {
		CHECK(len == 0);
	} else {
		CHECK((size_t)len < cap && buf[len] == '\0' && strlen(buf) == (size_t)len);
		if (cap >= 3 && !jc_object(buf, (size_t)len, &at)) {
			fprintf(stderr, "fuzz_json: document invalid at %zu: %s\n", at, buf);
			abort();
		}
	}
	free(buf);
}

/* ---- fg_log_format ---- */

static struct fg_proc proc;

/* Appends s to the arena, or returns 0 (the shared "") when it is full. */
static uint32_t arena_add(const char *s)
{
	size_t n = strlen(s);

	if (n + 1 > FG_ARENA_LEN - proc.arena_used)
		return 0;
	memcpy(proc.arena + proc.arena_used, s, n + 1);
	proc.arena_used += (uint32_t)n + 1;
	return proc.arena_used - (uint32_t)n - 1;
}

/* comm and cgroup are copied without a terminator when they fill their
 * field: the formatter must bound its reads, not trust a NUL. */
static void fill_proc(const struct input *in)
{
	memset(&proc, 0, sizeof(proc));
	proc.tid = (pid_t)(in->id1 & 0x7fffffff);
	proc.pid = (in->id1 & 1) ? proc.tid : (pid_t)(in->id2 & 0x7fffffff);
	proc.ppid = (pid_t)(in->id2 >> 8);
	proc.uid = in->id1;
	proc.auid = in->id2;
	proc.sessionid = in->id1 ^ in->id2;
	proc.start_time = (uint64_t)in->id2 << 32 | in->id1;
	proc.known = in->id1 >> 25; /* any FG_PROC_* bits, and some that mean nothing */
	snprintf(proc.exe, sizeof(proc.exe), "%s", seg_or_empty(in, 1));
	strncpy(proc.comm, seg_or_empty(in, 2), sizeof(proc.comm));
	strncpy(proc.cgroup, seg_or_empty(in, 3), sizeof(proc.cgroup));
	proc.arena_used = 1;
	/* A deep chain costs a full line twice; keep it to one input in four. */
	proc.n_ancestors =
	    (in->depth & 0x6000) == 0x6000 ? in->depth % (FG_ANCESTRY_MAX + 1) : in->depth % 8;
	proc.ancestry_truncated = in->depth & 0x8000;
	for (unsigned i = 0; i < proc.n_ancestors; i++) {
		struct fg_ancestor *a = &proc.anc[i];
		a->pid = (pid_t)(i + 1);
		a->start_time = in->id2 + i;
		strncpy(a->comm, seg_or_empty(in, 8 + 2 * i), sizeof(a->comm));
		if (in->flags & F_RAWOFF)
			a->exe_off = (in->id1 + i * 977u) % (FG_ARENA_LEN + 64);
		else
			a->exe_off = arena_add(seg_or_empty(in, 9 + 2 * i));
	}
}

static void fill_event(const struct input *in, struct fg_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->when.tv_sec = (time_t)(int32_t)in->id1;
	ev->when.tv_nsec = in->id2 % 1000000000;
	ev->path = seg(in, 0);
	ev->message = seg(in, 4);
	ev->action = seg(in, 5);
	ev->decision = seg(in, 6);
	ev->rule = seg(in, 7);
	ev->reason = seg(in, 10);
	ev->mode = seg(in, 11);
	ev->subtree = seg(in, 12);
	ev->key = seg(in, 13);
	ev->outcome = seg(in, 14);
	ev->old_path = seg(in, 16);
	ev->file_type = seg(in, 17);
	ev->count = in->id2;
	ev->sequence = in->id1;
	if (in->flags & F_PROC) {
		fill_proc(in);
		ev->proc = &proc;
		ev->proc_partial = in->id2 & 1;
	}
	if (in->flags & F_OPEN) {
		ev->has_open = true;
		ev->open_flags = (uint64_t)in->id1 << 32 | in->id2;
		ev->open_nr = (long)(int32_t)in->id2;
		ev->open_syscall = fg_syscall_name(ev->open_nr);
	}
	if (in->flags & F_TX) {
		ev->tx_pid = (pid_t)(in->id2 | 1) & 0x7fffffff;
		ev->tx_exe = seg(in, 15);
	}
}

/* A JSON string body or a bare word; returns the end, or NULL. */
static const char *text_value(const char *p, const char *end)
{
	size_t at;

	if (p < end && *p == '"') {
		const char *q = ++p;
		while (q < end && *q != '"')
			q += *q == '\\' ? 2 : 1;
		if (q >= end || !jc_string_body(p, (size_t)(q - p), &at))
			return NULL;
		return q + 1;
	}
	if (p == end || *p == ' ')
		return NULL; /* an empty value is always quoted */
	while (p < end && *p != ' ') {
		unsigned char c = (unsigned char)*p++;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_-.:/@+", c)))
			return NULL;
	}
	return p;
}

/* "fanguard:" then " key=value" fields; a bare value cannot hide a
 * separator and a quoted one is a valid JSON string. */
static void check_text(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	CHECK(n >= 9 && memcmp(s, "fanguard:", 9) == 0);
	p += 9;
	while (p < end) {
		const char *k;
		CHECK(*p++ == ' ');
		for (k = p; p < end && ((*p >= 'a' && *p <= 'z') || *p == '_'); p++)
			;
		CHECK(p > k && p < end && *p++ == '=');
		p = text_value(p, end);
		if (!p) {
			fprintf(stderr, "fuzz_json: bad text field '%.*s' in: %.*s\n",
				(int)(end - k), k, (int)n, s);
			abort();
		}
	}
}

static void check_line(const char *buf, size_t n, size_t cap, bool text)
{
	size_t at;

	CHECK(n > 0 && n < cap && buf[n] == '\0' && buf[n - 1] == '\n');
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c < 0x20 || c == 0x7f) {
			fprintf(stderr, "fuzz_json: raw control byte 0x%02x at %zu\n", c, i);
			abort();
		}
	}
	if (text) {
		check_text(buf, n - 1);
	} else if (!jc_object(buf, n - 1, &at)) {
		fprintf(stderr, "fuzz_json: line invalid at %zu: %s\n", at, buf);
		abort();
	}
}

/* NUL-terminated "NAME=value" entries; the last is MESSAGE= and the line. */
static void check_journal(const char *buf, size_t n, size_t cap)
{
	const char *p = buf, *end = buf + n, *last = NULL;
	size_t at;

	CHECK(n > 0 && n <= cap && buf[n - 1] == '\0');
	while (p < end) {
		const char *e = memchr(p, '\0', (size_t)(end - p));
		const char *q = p;
		CHECK(e);
		while (q < e && ((*q >= 'A' && *q <= 'Z') || *q == '_'))
			q++;
		CHECK(q > p && q < e && *q == '=');
		last = p;
		p = e + 1;
	}
	CHECK(last && strncmp(last, "MESSAGE=", 8) == 0);
	if (!jc_object(last + 8, strlen(last + 8), &at)) {
		fprintf(stderr, "fuzz_json: journal MESSAGE invalid at %zu: %s\n", at, last + 8);
		abort();
	}
}

/* A host whose boot time and tick rate come from the input too. */
static struct fg_loghost host = {.name = "fuzz\xff\n", .id = "m", .boot_id = "b", .instance = "i"};

static void fuzz_log(const struct input *in)
{
	static char buf[FG_RECORD_CAP];
	struct fg_event ev;
	size_t max_line = 7500, n;
	bool text = in->flags & F_TEXT;

	if (in->flags & F_SMALL)
		max_line = FG_MAX_LINE_MIN + 8u * in->cap;
	else if (in->flags & F_MEDIUM)
		max_line = 4096 + 240u * in->cap;
	host.btime = in->id2 & 1 ? 0 : in->id2;
	host.clk_tck = in->cap ? in->cap : -1;
	fill_event(in, &ev);
	n = fg_log_format(in->id1 & 2 ? NULL : &host, &ev, text ? FG_FMT_TEXT : FG_FMT_JSON,
			  max_line, buf);
	check_line(buf, n, max_line + 1, text);
	n = fg_log_format_journal(&host, &ev, max_line, buf, sizeof(buf));
	check_journal(buf, n, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[HDR_LEN] = {0};
	struct input in = {0};
	char *body;

	memcpy(hdr, data, size < HDR_LEN ? size : HDR_LEN);
	in.flags = hdr[0];
	in.cap = hdr[1];
	in.depth = (uint16_t)(hdr[2] | hdr[3] << 8);
	in.id1 = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 |
		 (uint32_t)hdr[7] << 24;
	in.id2 = (uint32_t)hdr[8] | (uint32_t)hdr[9] << 8 | (uint32_t)hdr[10] << 16 |
		 (uint32_t)hdr[11] << 24;
	in.body_len = size > HDR_LEN ? size - HDR_LEN : 0;
	body = malloc(in.body_len + 1);
	CHECK(body);
	if (in.body_len)
		memcpy(body, data + HDR_LEN, in.body_len);
	body[in.body_len] = '\0';
	in.body = body;
	for (size_t i = 0; in.n_seg < SEG_MAX && i <= in.body_len;) {
		size_t l = strlen(body + i);
		in.seg[in.n_seg] = body + i;
		in.seg_len[in.n_seg++] = l;
		i += l + 1;
	}

	fuzz_escape(&in);
	fuzz_document(&in);
	fuzz_log(&in);
	free(body);
	return 0;
}
