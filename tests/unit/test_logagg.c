#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/logagg.h"
#include "logfix.h"

#define MS 1000000ULL

static struct fg_logagg *agg;
static struct fg_proc *proc;

static void setup(void)
{
	agg = fg_logagg_new(3, 1000 * MS);
	proc = make_proc();
	ck_assert_ptr_nonnull(agg);
}

static void teardown(void)
{
	fg_logagg_free(agg);
	free(proc);
}

/* Feeds n copies of ev (paths f1..fn) at time t; returns how many were to
 * be logged. */
static unsigned feed(struct fg_event ev, unsigned n, uint64_t t)
{
	char path[32];
	unsigned logged = 0;

	for (unsigned i = 1; i <= n; i++) {
		snprintf(path, sizeof(path), "/etc/sudoers.d/f%u", i);
		ev.path = path;
		ev.when.tv_sec = (time_t)i;
		logged += fg_logagg_admit(agg, &ev, t);
	}
	return logged;
}

START_TEST(test_fg_logagg_admit_threshold)
{
	struct fg_event ev = make_event(proc), sum;

	ck_assert_uint_eq(feed(ev, 10, 5 * MS), 3);
	ck_assert_uint_eq(fg_logagg_next_ns(agg), 1005 * MS);
	/* Not over yet. */
	ck_assert(!fg_logagg_due(agg, 900 * MS, false, &sum));
	ck_assert(fg_logagg_due(agg, 1005 * MS, false, &sum));
	ck_assert_str_eq(sum.action, "repeated");
	ck_assert_str_eq(sum.repeat->action, "open-write");
	ck_assert_uint_eq(sum.repeat->count, 7);
	ck_assert_str_eq(sum.path, "/etc/sudoers.d/f4");
	ck_assert_str_eq(sum.repeat->last_path, "/etc/sudoers.d/f10");
	ck_assert_int_eq(sum.repeat->first.tv_sec, 4);
	ck_assert_int_eq(sum.repeat->last.tv_sec, 10);
	ck_assert_str_eq(sum.decision, "deny");
	ck_assert_str_eq(sum.key, "priv_esc_persist");
	ck_assert_str_eq(sum.proc->exe, "/usr/bin/vim");
	ck_assert_uint_eq(sum.proc->auid, 1000);
	ck_assert_int_eq(sum.proc->pid, 0); /* many pids may share it */
	ck_assert_uint_eq(sum.proc->n_ancestors, 0);
	ck_assert(!fg_logagg_due(agg, 1005 * MS, false, &sum));
	ck_assert_uint_eq(fg_logagg_next_ns(agg), UINT64_MAX);
	/* The next window starts over, in full. */
	ck_assert_uint_eq(feed(ev, 3, 1006 * MS), 3);
}
END_TEST

/* Detected changes (alerts) and daemon events always stand alone. */
START_TEST(test_fg_logagg_admit_alert_never)
{
	struct fg_event ev = make_event(proc), d = {.action = "reload", .outcome = "success"}, sum;

	ev.decision = "detected";
	ev.action = "modify";
	ck_assert_uint_eq(feed(ev, 50, 0), 50);
	ck_assert_uint_eq(feed(d, 50, 0), 50);
	ck_assert(!fg_logagg_due(agg, 0, true, &sum));
}
END_TEST

/* Another writer, another decision, another subtree: another window. */
START_TEST(test_fg_logagg_admit_identity)
{
	struct fg_event ev = make_event(proc), sum;
	_cleanup_free_ struct fg_proc *other = make_proc();
	unsigned n = 0;

	ck_assert_uint_eq(feed(ev, 5, 0), 3);
	other->auid = 1001;
	ev.proc = other;
	ck_assert_uint_eq(feed(ev, 5, 0), 3);
	ev.proc = proc;
	ev.subtree = "sshd";
	ck_assert_uint_eq(feed(ev, 5, 0), 3);
	ev.subtree = "sudoers";
	ev.decision = "would-deny";
	ck_assert_uint_eq(feed(ev, 5, 0), 3);
	/* A writer whose exe was not read is not the one whose exe was. */
	ev.decision = "deny";
	other->auid = 1000;
	other->known &= ~FG_PROC_EXE;
	ev.proc = other;
	ck_assert_uint_eq(feed(ev, 5, 0), 3);
	/* The pid is not part of it: a loop of short-lived writers folds. */
	proc->pid = 9999;
	ev.proc = proc;
	ck_assert_uint_eq(feed(ev, 5, 0), 0);
	while (fg_logagg_due(agg, 0, true, &sum))
		n++;
	ck_assert_uint_eq(n, 5);
}
END_TEST

/* When every slot holds folded lines, new writers are logged in full
 * rather than lose a window. */
START_TEST(test_fg_logagg_admit_slots_full)
{
	struct fg_event ev = make_event(proc), sum;
	_cleanup_free_ struct fg_proc *w = make_proc();
	unsigned n = 0;

	ev.proc = w;
	for (unsigned k = 0; k < FG_AGG_SLOTS; k++) {
		w->uid = 5000 + k;
		ck_assert_uint_eq(feed(ev, 4, 0), 3);
	}
	w->uid = 9000;
	ck_assert_uint_eq(feed(ev, 10, 0), 10);
	while (fg_logagg_due(agg, 0, true, &sum))
		n++;
	ck_assert_uint_eq(n, FG_AGG_SLOTS);
}
END_TEST

START_TEST(test_fg_logagg_admit_off)
{
	struct fg_logagg *off = fg_logagg_new(0, 1000 * MS);
	struct fg_event ev = make_event(proc);

	for (int i = 0; i < 100; i++)
		ck_assert(fg_logagg_admit(off, &ev, 0));
	fg_logagg_free(off);
}
END_TEST

/* The window's strings are copies: the policy may be freed by a reload
 * before the window ends. */
START_TEST(test_fg_logagg_due_copies)
{
	struct fg_event ev = make_event(proc), sum;
	char rule[16] = "editors";

	ev.rule = rule;
	feed(ev, 5, 0);
	memset(rule, 'X', sizeof(rule) - 1);
	ck_assert(fg_logagg_due(agg, 0, true, &sum));
	ck_assert_str_eq(sum.rule, "editors");
}
END_TEST

static Suite *logagg_suite(void)
{
	Suite *s = suite_create("logagg");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fg_logagg_admit_threshold);
	tcase_add_test(tc, test_fg_logagg_admit_alert_never);
	tcase_add_test(tc, test_fg_logagg_admit_identity);
	tcase_add_test(tc, test_fg_logagg_admit_slots_full);
	tcase_add_test(tc, test_fg_logagg_admit_off);
	tcase_add_test(tc, test_fg_logagg_due_copies);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(logagg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
