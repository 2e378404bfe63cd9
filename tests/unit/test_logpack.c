/* The packed copy the answering thread hands the logger: a line formatted
 * from the unpacked event is byte for byte the line of the original, and a
 * damaged record is refused, never read past its end. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/logfmt.h"
#include "fanguard/logpack.h"
#include "fanguard/util.h"
#include "logfix.h"

#define LINE 65536

/* Formats ev, and ev packed and unpacked, and compares the two lines. */
static void same_line(const struct fg_event *ev)
{
	size_t n = fg_logpack_size(ev);
	char *buf = malloc(n), *a = malloc(LINE), *b = malloc(LINE);
	struct fg_proc *p = malloc(sizeof(*p));
	struct fg_event back;
	size_t la, lb;

	ck_assert(n > 0);
	ck_assert_ptr_nonnull(buf);
	fg_logpack_write(ev, buf);
	ck_assert_int_eq(fg_logpack_read(buf, n, &back, p), 0);
	la = fg_log_format(&test_host, ev, FG_FMT_JSON, LINE, a);
	lb = fg_log_format(&test_host, &back, FG_FMT_JSON, LINE, b);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(a, b, la) == 0);
	free(buf);
	free(a);
	free(b);
	free(p);
}

START_TEST(test_fg_logpack_read_same_line)
{
	struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);

	same_line(&ev);
	ev.old_path = "/etc/sudoers.d/.tmp";
	ev.message = "a \"quoted\" \\ message\n";
	same_line(&ev);
	deep_ancestry(p, 300);
	same_line(&ev);
	ev.proc = NULL;
	ev.path = NULL;
	same_line(&ev);
	free(p);
}
END_TEST

START_TEST(test_fg_logpack_size_internal_events)
{
	struct fg_lost lost = {.count = 3};
	struct fg_event ev = {.action = "log-dropped", .lost = &lost};

	/* the logger formats its own summaries where it makes them */
	ck_assert_uint_eq(fg_logpack_size(&ev), 0);
}
END_TEST

/* Every cut of a record, and a record with a flipped length, is refused. */
START_TEST(test_fg_logpack_read_damaged)
{
	struct fg_proc *p = make_proc(), *q = malloc(sizeof(*q));
	struct fg_event ev = make_event(p), back;
	size_t n = fg_logpack_size(&ev);
	char *buf = malloc(n + 16);

	fg_logpack_write(&ev, buf);
	for (size_t cut = 0; cut < n; cut++)
		ck_assert_int_eq(fg_logpack_read(buf, cut, &back, q), -EINVAL);
	ck_assert_int_eq(fg_logpack_read(buf, n + 1, &back, q), -EINVAL);
	/* the first string's length, made to point past the end */
	memset(buf + sizeof(struct fg_event) + 1, 0x7f, 4);
	ck_assert_int_eq(fg_logpack_read(buf, n, &back, q), -EINVAL);
	free(buf);
	free(p);
	free(q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("logpack");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_fg_logpack_read_same_line);
	tcase_add_test(tc, test_fg_logpack_size_internal_events);
	tcase_add_test(tc, test_fg_logpack_read_damaged);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
