#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fanguard/json.h"
#include "pycheck.h"

/* ---- a strict little validator: structure only (UTF-8 is checked by
 * python in the tests that need it) ---- */

struct vp {
	const char *s;
	size_t n, i;
	int depth;
};

static bool v_value(struct vp *p);

static int v_peek(const struct vp *p)
{
	return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

static void v_ws(struct vp *p)
{
	while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]))
		p->i++;
}

static bool v_lit(struct vp *p, const char *w)
{
	size_t l = strlen(w);

	if (p->n - p->i < l || memcmp(p->s + p->i, w, l) != 0)
		return false;
	p->i += l;
	return true;
}

static bool v_string(struct vp *p)
{
	if (v_peek(p) != '"')
		return false;
	for (p->i++; p->i < p->n; p->i++) {
		unsigned char c = (unsigned char)p->s[p->i];

		if (c == '"') {
			p->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (++p->i >= p->n)
			return false;
		if (p->s[p->i] == 'u') {
			for (int k = 0; k < 4; k++)
				if (++p->i >= p->n || !strchr("0123456789abcdefABCDEF", p->s[p->i]))
					return false;
		} else if (!strchr("\"\\/bfnrt", p->s[p->i])) {
			return false;
		}
	}
	return false;
}

static bool v_digits(struct vp *p)
{
	size_t start = p->i;

	while (v_peek(p) >= '0' && v_peek(p) <= '9')
		p->i++;
	return p->i > start;
}

static bool v_number(struct vp *p)
{
	if (v_peek(p) == '-')
		p->i++;
	if (!v_digits(p))
		return false;
	if (v_peek(p) == '.') {
		p->i++;
		if (!v_digits(p))
			return false;
	}
	if (v_peek(p) == 'e' || v_peek(p) == 'E') {
		p->i++;
		if (v_peek(p) == '+' || v_peek(p) == '-')
			p->i++;
		if (!v_digits(p))
			return false;
	}
	return true;
}

/* Object members or array elements up to the closer. */
static bool v_items(struct vp *p, bool obj)
{
	char close = obj ? '}' : ']';

	p->i++;
	v_ws(p);
	if (v_peek(p) == close) {
		p->i++;
		return true;
	}
	for (;;) {
		if (obj) {
			if (!v_string(p))
				return false;
			v_ws(p);
			if (v_peek(p) != ':')
				return false;
			p->i++;
		}
		if (!v_value(p))
			return false;
		v_ws(p);
		if (v_peek(p) == close) {
			p->i++;
			return true;
		}
		if (v_peek(p) != ',')
			return false;
		p->i++;
	}
}

static bool v_value(struct vp *p)
{
	bool ok;

	v_ws(p);
	switch (v_peek(p)) {
	case '{':
	case '[':
		if (++p->depth > 64)
			return false;
		ok = v_items(p, v_peek(p) == '{');
		p->depth--;
		return ok;
	case '"':
		return v_string(p);
	case 't':
		return v_lit(p, "true");
	case 'f':
		return v_lit(p, "false");
	case 'n':
		return v_lit(p, "null");
	default:
		return v_number(p);
	}
}

/* One JSON object and nothing else. */
static bool json_valid(const char *s, size_t n)
{
	struct vp p = {s, n, 0, 0};

	if (n == 0 || s[0] != '{' || !v_value(&p))
		return false;
	v_ws(&p);
	return p.i == n;
}

/* Runs python3's json.loads over s: also checks the UTF-8. */
static int py_valid(const char *s, size_t n)
{
	const char *const argv[] = {
	    "python3", "-c", "import json,sys; json.loads(sys.stdin.buffer.read().decode('utf-8'))",
	    NULL};

	return py_pipe(argv, s, n);
}

/* Escapes s and compares with want; checks the invalid flag too. */
static void check_escape(const char *s, size_t len, const char *want, bool want_invalid)
{
	char out[256];
	bool invalid = !want_invalid;
	size_t n = fg_json_escape(out, sizeof(out), s, len, &invalid);

	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert(invalid == want_invalid);
}

START_TEST(test_fg_json_escape_quote_backslash)
{
	check_escape("a\"b\\c/", 6, "a\\\"b\\\\c/", false);
}
END_TEST

START_TEST(test_fg_json_escape_whitespace)
{
	check_escape("a\nb\tc\rd\be\f", 10, "a\\nb\\tc\\rd\\be\\f", false);
}
END_TEST

START_TEST(test_fg_json_escape_control)
{
	check_escape("\x01\x1b\x1f\x7f", 4, "\\u0001\\u001b\\u001f\\u007f", false);
	check_escape("a\0b", 3, "a\\u0000b", false);
	/* C1 controls are valid UTF-8 but escaped (a raw CSI for a terminal). */
	check_escape("\xc2\x9b\xc2\x85", 4, "\\u009b\\u0085", false);
}
END_TEST

START_TEST(test_fg_json_escape_valid_utf8)
{
	const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf "
			"\xc2\xa0";

	check_escape(s, strlen(s), s, false);
}
END_TEST

START_TEST(test_fg_json_escape_invalid_lone_ff)
{
	check_escape("a\xff"
		     "b",
		     3, "a\\ufffdb", true);
	check_escape("\x80", 1, "\\ufffd", true);
	check_escape("\xf5\x80\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd", true);
}
END_TEST

START_TEST(test_fg_json_escape_invalid_truncated)
{
	check_escape("\xe2\x82", 2, "\\ufffd\\ufffd", true);
	check_escape("\xe2\x82x", 3, "\\ufffd\\ufffdx", true);
	check_escape("\xf0\x9f\x98", 3, "\\ufffd\\ufffd\\ufffd", true);
}
END_TEST

START_TEST(test_fg_json_escape_invalid_overlong)
{
	check_escape("\xc0\xaf", 2, "\\ufffd\\ufffd", true);
	check_escape("\xc1\xbf", 2, "\\ufffd\\ufffd", true);
	check_escape("\xe0\x80\xaf", 3, "\\ufffd\\ufffd\\ufffd", true);
	check_escape("\xf0\x80\x80\xaf", 4, "\\ufffd\\ufffd\\ufffd\\ufffd", true);
}
END_TEST

START_TEST(test_fg_json_escape_invalid_surrogate)
{
	check_escape("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd", true);
	check_escape("\xed\xbf\xbf", 3, "\\ufffd\\ufffd\\ufffd", true);
	/* U+D7FF, just below the surrogates, is fine. */
	check_escape("\xed\x9f\xbf", 3, "\xed\x9f\xbf", false);
}
END_TEST

START_TEST(test_fg_json_escape_invalid_beyond_max)
{
	check_escape("\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd", true);
}
END_TEST

START_TEST(test_fg_json_escape_small_cap)
{
	char out[4];
	size_t n = fg_json_escape(out, sizeof(out), "\"\"\"", 3, NULL);

	/* Needs 6; only whole escapes are written, and the result is terminated. */
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(out, "\\\"");
	ck_assert_uint_eq(fg_json_escape(NULL, 0, "abc", 3, NULL), 3);
}
END_TEST

START_TEST(test_fg_json_escape_cut_inside_plain_run)
{
	char out[5];

	/* Plain bytes are copied in runs; a run is cut exactly where single
	 * bytes would stop, and an escape after a cut is not written. */
	ck_assert_uint_eq(fg_json_escape(out, sizeof(out), "abcdefg", 7, NULL), 7);
	ck_assert_str_eq(out, "abcd");
	ck_assert_uint_eq(fg_json_escape(out, sizeof(out), "ab\"c", 4, NULL), 5);
	ck_assert_str_eq(out, "ab\\\"");
	ck_assert_uint_eq(fg_json_escape(out, sizeof(out), "abc\"d", 5, NULL), 6);
	ck_assert_str_eq(out, "abc");
	ck_assert_uint_eq(fg_json_escape(out, 1, "abc", 3, NULL), 3);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_fg_json_i64_u64_extremes)
{
	char buf[256];
	struct fg_json j;

	fg_json_init(&j, buf, sizeof(buf));
	fg_json_i64(&j, "min", INT64_MIN);
	fg_json_i64(&j, "max", INT64_MAX);
	fg_json_i64(&j, "neg", -1);
	fg_json_i64(&j, "zero", 0);
	fg_json_u64(&j, "umax", UINT64_MAX);
	fg_json_u64(&j, "u", 10);
	fg_json_finish(&j);
	ck_assert_str_eq(buf, "{\"min\":-9223372036854775808,\"max\":9223372036854775807,"
			      "\"neg\":-1,\"zero\":0,\"umax\":18446744073709551615,\"u\":10}");
}
END_TEST

START_TEST(test_fg_json_str_raw_invalid_hex)
{
	char buf[256];
	struct fg_json j;

	fg_json_init(&j, buf, sizeof(buf));
	fg_json_str_raw(&j, "path", "/etc/a\xff", 7);
	fg_json_str_raw(&j, "ok", "/etc/b", 6);
	fg_json_finish(&j);
	ck_assert_str_eq(buf, "{\"path\":\"/etc/a\\ufffd\",\"path_hex\":\"2f6574632f61ff\","
			      "\"ok\":\"/etc/b\"}");
	ck_assert_int_eq(py_valid(buf, strlen(buf)), 0);
}
END_TEST

START_TEST(test_fg_json_str_raw_embedded_nul)
{
	char buf[128];
	struct fg_json j;

	fg_json_init(&j, buf, sizeof(buf));
	fg_json_str_raw(&j, "k", "a\0b", 3);
	fg_json_str(&j, "n", NULL);
	fg_json_str_raw(&j, "m", NULL, 0);
	fg_json_finish(&j);
	ck_assert_str_eq(buf, "{\"k\":\"a\\u0000b\",\"n\":null,\"m\":null}");
}
END_TEST

START_TEST(test_fg_json_str_long_path)
{
	static char path[4097], buf[8192];
	struct fg_json j;
	int n;

	memset(path, 'p', 4096);
	path[0] = '/';
	path[4096] = '\0';
	fg_json_init(&j, buf, sizeof(buf));
	fg_json_str_raw(&j, "path", path, 4096);
	n = fg_json_finish(&j);
	ck_assert(!j.overflow);
	ck_assert_int_eq(n, 4096 + 11);
	ck_assert_ptr_null(strstr(buf, "truncated"));
	ck_assert(json_valid(buf, (size_t)n));
}
END_TEST

START_TEST(test_fg_json_obj_open_nested_commas)
{
	char buf[512];
	struct fg_json j;
	int n;

	fg_json_init(&j, buf, sizeof(buf));
	fg_json_u64(&j, "a", 1);
	fg_json_obj_open(&j, "o");
	fg_json_bool(&j, "x", true);
	fg_json_null(&j, "y");
	fg_json_obj_close(&j);
	fg_json_arr_open(&j, "arr");
	fg_json_i64(&j, NULL, -5);
	fg_json_str(&j, NULL, "s");
	fg_json_obj_open(&j, NULL);
	fg_json_bool(&j, "k", false);
	fg_json_obj_close(&j);
	fg_json_arr_open(&j, NULL);
	fg_json_arr_close(&j);
	fg_json_arr_close(&j);
	fg_json_obj_open(&j, "e");
	fg_json_obj_close(&j);
	fg_json_double(&j, "d", 1.5);
	fg_json_double(&j, "nan", 0.0 / 0.0);
	n = fg_json_finish(&j);
	ck_assert_str_eq(
	    buf, "{\"a\":1,\"o\":{\"x\":true,\"y\":null},\"arr\":[-5,\"s\",{\"k\":false},[]],"
		 "\"e\":{},\"d\":1.500,\"nan\":null}");
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert(json_valid(buf, (size_t)n));
}
END_TEST

START_TEST(test_fg_json_finish_closes_open)
{
	char buf[128];
	struct fg_json j;

	fg_json_init(&j, buf, sizeof(buf));
	fg_json_obj_open(&j, "a");
	fg_json_arr_open(&j, "b");
	fg_json_u64(&j, NULL, 7);
	fg_json_finish(&j);
	ck_assert_str_eq(buf, "{\"a\":{\"b\":[7]}}");
}
END_TEST

START_TEST(test_fg_json_finish_empty)
{
	char buf[64], tiny[8];
	struct fg_json j;

	fg_json_init(&j, buf, sizeof(buf));
	ck_assert_int_eq(fg_json_finish(&j), 2);
	ck_assert_str_eq(buf, "{}");
	/* Below the reserve: still an object, never past the buffer. */
	fg_json_init(&j, tiny, sizeof(tiny));
	fg_json_str(&j, "k", "v");
	ck_assert_int_eq(fg_json_finish(&j), 2);
	ck_assert_str_eq(tiny, "{}");
}
END_TEST

START_TEST(test_fg_json_finish_overflow_truncated)
{
	char buf[64];
	struct fg_json j;
	int n;

	fg_json_init(&j, buf, sizeof(buf));
	fg_json_str(&j, "a", "0123456789");
	fg_json_str(&j, "b", "0123456789012345678901234567890123456789");
	fg_json_u64(&j, "c", 1);
	n = fg_json_finish(&j);
	ck_assert(j.overflow);
	/* "b" did not fit and is gone whole; "c" still did. */
	ck_assert_str_eq(buf, "{\"a\":\"0123456789\",\"c\":1,\"truncated\":true}");
	ck_assert(json_valid(buf, (size_t)n));
}
END_TEST

START_TEST(test_fg_json_finish_overflow_first_member)
{
	char buf[40];
	struct fg_json j;

	fg_json_init(&j, buf, sizeof(buf));
	fg_json_str(&j, "long", "0123456789012345678901234567890123456789");
	fg_json_finish(&j);
	ck_assert_str_eq(buf, "{\"truncated\":true}");
}
END_TEST

/* A document with every kind of member, nested, written into every buffer
 * size from tiny to roomy: the result is always valid, never past cap, and
 * marked truncated exactly when something was cut. */
static int write_doc(char *buf, size_t cap, bool *ret_overflow)
{
	struct fg_json j;
	int n;

	fg_json_init(&j, buf, cap);
	fg_json_str(&j, "@timestamp", "2026-11-27T20:30:00.123456Z");
	fg_json_obj_open(&j, "event");
	fg_json_str(&j, "action", "open-write");
	fg_json_arr_open(&j, "category");
	fg_json_str(&j, NULL, "file");
	fg_json_arr_close(&j);
	fg_json_obj_close(&j);
	fg_json_str_raw(&j, "path", "/etc/x\xff\n\"y", 10);
	fg_json_arr_open(&j, "ancestry");
	for (int i = 0; i < 5; i++) {
		fg_json_obj_open(&j, NULL);
		fg_json_i64(&j, "pid", 1000 + i);
		fg_json_str_raw(&j, "exe", "/usr/bin/\xc3\xa9t\xe2", 13);
		fg_json_obj_close(&j);
	}
	fg_json_arr_close(&j);
	fg_json_double(&j, "d", -2.25);
	fg_json_bool(&j, "b", true);
	n = fg_json_finish(&j);
	*ret_overflow = j.overflow;
	return n;
}

START_TEST(test_fg_json_finish_overflow_every_cap)
{
	char full[1024], buf[1024 + 16];
	bool overflow;
	int fulln = write_doc(full, sizeof(full), &overflow);

	ck_assert(!overflow);
	ck_assert(json_valid(full, (size_t)fulln));
	ck_assert_int_eq(py_valid(full, (size_t)fulln), 0);
	for (size_t cap = 20; cap <= (size_t)fulln + 40; cap++) {
		int n;

		memset(buf, 'Z', sizeof(buf));
		n = write_doc(buf, cap, &overflow);
		ck_assert_uint_lt((size_t)n, cap);
		ck_assert_int_eq(buf[n], '\0');
		ck_assert_int_eq(buf[cap], 'Z');
		ck_assert_msg(json_valid(buf, (size_t)n), "cap %zu: %s", cap, buf);
		ck_assert(overflow == (strstr(buf, "\"truncated\":true}") != NULL));
		ck_assert_ptr_null(memchr(buf, '\n', (size_t)n));
		if (!overflow)
			ck_assert_str_eq(buf, full);
	}
}
END_TEST

START_TEST(test_fg_json_obj_open_depth_limit)
{
	char buf[512];
	struct fg_json j;
	int n;

	fg_json_init(&j, buf, sizeof(buf));
	for (int i = 0; i < FG_JSON_DEPTH + 4; i++)
		fg_json_obj_open(&j, "o");
	fg_json_u64(&j, "deep", 1);
	for (int i = 0; i < FG_JSON_DEPTH + 4; i++)
		fg_json_obj_close(&j);
	fg_json_u64(&j, "after", 2);
	n = fg_json_finish(&j);
	ck_assert(j.overflow);
	ck_assert(json_valid(buf, (size_t)n));
	ck_assert_ptr_nonnull(strstr(buf, "\"after\":2,\"truncated\":true}"));
	ck_assert_ptr_null(strstr(buf, "deep"));
}
END_TEST

/* A cut value ends between whole escapes and whole characters, never
 * past max, and says it was cut; a value within max is whole. */
START_TEST(test_fg_json_str_cut_boundaries)
{
	static const char val[] = "ab\"\xe2\x82\xac\x01z";
	/* escaped: a b \" EUR(3 bytes) \u0001 z = 2 + 2 + 3 + 6 + 1 = 14 */
	static const struct {
		size_t max;
		const char *want;
		bool cut;
	} cases[] = {
	    {0, "{\"k\":\"\"}", true},
	    {3, "{\"k\":\"ab\"}", true},
	    {4, "{\"k\":\"ab\\\"\"}", true},
	    {6, "{\"k\":\"ab\\\"\"}", true},
	    {7, "{\"k\":\"ab\\\"\xe2\x82\xac\"}", true},
	    {12, "{\"k\":\"ab\\\"\xe2\x82\xac\"}", true},
	    {13, "{\"k\":\"ab\\\"\xe2\x82\xac\\u0001\"}", true},
	    {14, "{\"k\":\"ab\\\"\xe2\x82\xac\\u0001z\"}", false},
	    {SIZE_MAX, "{\"k\":\"ab\\\"\xe2\x82\xac\\u0001z\"}", false},
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fg_json j;
		bool cut = !cases[i].cut;

		fg_json_init(&j, buf, sizeof(buf));
		fg_json_str_cut(&j, "k", val, sizeof(val) - 1, cases[i].max, &cut);
		fg_json_finish(&j);
		ck_assert_msg(!strcmp(buf, cases[i].want), "max %zu: %s", cases[i].max, buf);
		ck_assert_int_eq(cut, cases[i].cut);
		ck_assert(!j.overflow);
	}
}
END_TEST

/* No room at all is not a cut: the member goes and the document says so. */
START_TEST(test_fg_json_str_cut_no_room)
{
	char buf[40], val[64];
	struct fg_json j;
	bool cut = true;

	memset(val, 'x', sizeof(val));
	fg_json_init(&j, buf, sizeof(buf));
	fg_json_str_cut(&j, "k", val, sizeof(val), SIZE_MAX, &cut);
	fg_json_finish(&j);
	ck_assert(!cut);
	ck_assert_str_eq(buf, "{\"truncated\":true}");
}
END_TEST

START_TEST(test_fg_json_hex_cut)
{
	char buf[64];
	struct fg_json j;
	bool cut;

	fg_json_init(&j, buf, sizeof(buf));
	fg_json_hex(&j, "a", "\x00\xff\x10", 3, SIZE_MAX, &cut);
	ck_assert(!cut);
	fg_json_hex(&j, "b", "\x00\xff\x10", 3, 5, &cut);
	ck_assert(cut);
	fg_json_finish(&j);
	ck_assert_str_eq(buf, "{\"a\":\"00ff10\",\"b\":\"00ff\"}");
}
END_TEST

START_TEST(test_fg_json_utf8_valid)
{
	ck_assert(fg_json_utf8_valid("plain \n\x01 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 20));
	ck_assert(fg_json_utf8_valid("\xc2\x85", 2)); /* C1: escaped, but valid */
	ck_assert(!fg_json_utf8_valid("a\xff", 2));
	ck_assert(!fg_json_utf8_valid("\xe2\x82", 2));	   /* cut short */
	ck_assert(!fg_json_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	ck_assert(!fg_json_utf8_valid("\xc0\xaf", 2));	   /* overlong */
	ck_assert(fg_json_utf8_valid("", 0));
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fg_json_escape_quote_backslash);
	tcase_add_test(tc, test_fg_json_escape_whitespace);
	tcase_add_test(tc, test_fg_json_escape_control);
	tcase_add_test(tc, test_fg_json_escape_valid_utf8);
	tcase_add_test(tc, test_fg_json_escape_invalid_lone_ff);
	tcase_add_test(tc, test_fg_json_escape_invalid_truncated);
	tcase_add_test(tc, test_fg_json_escape_invalid_overlong);
	tcase_add_test(tc, test_fg_json_escape_invalid_surrogate);
	tcase_add_test(tc, test_fg_json_escape_invalid_beyond_max);
	tcase_add_test(tc, test_fg_json_escape_small_cap);
	tcase_add_test(tc, test_fg_json_escape_cut_inside_plain_run);
	tcase_add_test(tc, test_fg_json_i64_u64_extremes);
	tcase_add_test(tc, test_fg_json_str_raw_invalid_hex);
	tcase_add_test(tc, test_fg_json_str_raw_embedded_nul);
	tcase_add_test(tc, test_fg_json_str_long_path);
	tcase_add_test(tc, test_fg_json_obj_open_nested_commas);
	tcase_add_test(tc, test_fg_json_finish_closes_open);
	tcase_add_test(tc, test_fg_json_finish_empty);
	tcase_add_test(tc, test_fg_json_finish_overflow_truncated);
	tcase_add_test(tc, test_fg_json_finish_overflow_first_member);
	tcase_add_test(tc, test_fg_json_finish_overflow_every_cap);
	tcase_add_test(tc, test_fg_json_obj_open_depth_limit);
	tcase_add_test(tc, test_fg_json_str_cut_boundaries);
	tcase_add_test(tc, test_fg_json_str_cut_no_room);
	tcase_add_test(tc, test_fg_json_hex_cut);
	tcase_add_test(tc, test_fg_json_utf8_valid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
