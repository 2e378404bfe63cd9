#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fanguard/logschema.h"
#include "fanguard/util.h"

static struct fg_log_class classify(const char *action, const char *decision, const char *outcome)
{
	struct fg_event ev = {.action = action, .decision = decision, .outcome = outcome};
	struct fg_log_class c;

	fg_log_classify(&ev, &c);
	return c;
}

/* A change that landed is at least as loud as a denial, on both scales,
 * for every kind of change; an allowed write is quieter than both. */
START_TEST(test_fg_log_classify_landed_louder)
{
	static const char *const changes[] = {"modify",		 "attrib",	    "rename-in",
					      "link-in",	 "symlink-in",	    "open-write",
					      "unguarded-files", "subtree-appeared"};
	struct fg_log_class deny = classify("open-write", "deny", "failure");
	struct fg_log_class would = classify("open-write", "would-deny", "success");
	struct fg_log_class allow = classify("open-write", "allow", "success");

	ck_assert_int_eq(deny.priority, LOG_WARNING);
	ck_assert_int_eq(would.priority, LOG_WARNING);
	ck_assert_int_eq(allow.priority, LOG_NOTICE);
	for (size_t i = 0; i < FG_ARRAY_SIZE(changes); i++) {
		struct fg_log_class c = classify(changes[i], "detected", "success");

		ck_assert_int_eq(c.priority, LOG_ALERT);
		ck_assert_int_lt(c.priority, deny.priority);
		ck_assert_int_gt(c.severity, deny.severity);
		ck_assert_str_eq(c.kind, "alert");
		ck_assert_ptr_null(c.verdict);
		ck_assert_int_gt(deny.severity, allow.severity);
	}
	ck_assert_int_eq(classify("subtree-replaced", NULL, "unknown").priority, LOG_ALERT);
	ck_assert_str_eq(classify("subtree-replaced", NULL, "unknown").kind, "alert");
}
END_TEST

/* An attack on the guard itself (a write into its policy, a forged unit
 * cgroup) is an alert however it was decided: louder than a denial when
 * stopped, as loud as a change that landed when it got through. */
START_TEST(test_fg_log_classify_attack_alerts)
{
	static const char *const decisions[] = {"deny", "would-deny", "allow"};
	static const int prio[] = {LOG_CRIT, LOG_ALERT, LOG_ALERT};
	struct fg_log_class deny = classify("open-write", "deny", "failure");

	for (size_t i = 0; i < FG_ARRAY_SIZE(decisions); i++) {
		struct fg_event ev = {.action = "open-write",
				      .decision = decisions[i],
				      .outcome = "failure",
				      .alert = true};
		struct fg_log_class c;

		fg_log_classify(&ev, &c);
		ck_assert_str_eq(c.kind, "alert");
		ck_assert_int_eq(c.priority, prio[i]);
		ck_assert_int_gt(c.severity, deny.severity);
		ev.action = "rename-in";
		fg_log_classify(&ev, &c);
		ck_assert_str_eq(c.kind, "alert");
	}
	/* on a daemon event the flag means nothing */
	struct fg_event d = {.action = "reload", .outcome = "success", .alert = true};
	struct fg_log_class c;
	fg_log_classify(&d, &c);
	ck_assert_str_eq(c.kind, "event");
}
END_TEST

START_TEST(test_fg_log_classify_types)
{
	struct fg_log_class c = classify("open-write", "deny", "failure");

	ck_assert_str_eq(c.category, "file");
	ck_assert_str_eq(c.type, "change");
	ck_assert_str_eq(c.verdict, "denied");
	ck_assert_str_eq(c.kind, "event");
	ck_assert_str_eq(c.level, "warning");
	c = classify("open-write", "would-deny", "success");
	ck_assert_str_eq(c.verdict, "allowed");
	c = classify("rename-in", "allow", "success");
	ck_assert_str_eq(c.type, "creation");
	ck_assert_str_eq(c.verdict, "allowed");
	c = classify("removed-empty", "deny", "success");
	ck_assert_str_eq(c.type, "deletion");
	ck_assert_ptr_null(c.verdict);
	ck_assert_int_eq(c.priority, LOG_NOTICE);
	c = classify("reload", NULL, "failure");
	ck_assert_str_eq(c.category, "configuration");
	ck_assert_str_eq(c.verdict, "error");
	ck_assert_int_eq(c.priority, LOG_ERR);
	c = classify("daemon-start", NULL, "failure");
	ck_assert_int_eq(c.priority, LOG_CRIT);
	c = classify("daemon-start", NULL, "success");
	ck_assert_int_eq(c.priority, LOG_NOTICE);
	ck_assert_ptr_null(c.verdict);
	c = classify("heartbeat", NULL, "success");
	ck_assert_str_eq(c.kind, "state");
	ck_assert_int_eq(c.priority, LOG_NOTICE);
	c = classify("log-dropped", NULL, "failure");
	ck_assert_int_eq(c.priority, LOG_ERR);
	c = classify("no-such-action", NULL, NULL);
	ck_assert_str_eq(c.category, "process");
	ck_assert_int_eq(c.priority, LOG_NOTICE);
}
END_TEST

/* A repeated line is as loud as what it repeats. */
START_TEST(test_fg_log_classify_repeated)
{
	struct fg_repeat r = {.action = "rename-in"};
	struct fg_event ev = {
	    .action = "repeated", .decision = "allow", .outcome = "success", .repeat = &r};
	struct fg_log_class c;

	fg_log_classify(&ev, &c);
	ck_assert_str_eq(c.type, "creation");
	ck_assert_int_eq(c.priority, LOG_NOTICE);
	r.action = "open-write";
	ev.decision = "deny";
	fg_log_classify(&ev, &c);
	ck_assert_str_eq(c.type, "change");
	ck_assert_str_eq(c.verdict, "denied");
	ck_assert_int_eq(c.priority, LOG_WARNING);
}
END_TEST

START_TEST(test_fg_log_action_table)
{
	unsigned n = 0;

	for (const char *a; (a = fg_log_action(n)); n++)
		for (unsigned k = 0; k < n; k++)
			ck_assert_str_ne(fg_log_action(k), a);
	ck_assert_uint_ge(n, 21);
}
END_TEST

/* The host as the files say, read for real. */
START_TEST(test_fg_loghost_read)
{
	struct fg_loghost h, h2;
	char want[64] = "", boot[64] = "", name[256] = "";

	ck_assert_int_eq(fg_loghost_read(&h), 0);
	fg_read_small(AT_FDCWD, "/etc/machine-id", want, sizeof(want));
	want[strcspn(want, "\n")] = '\0';
	fg_read_small(AT_FDCWD, "/proc/sys/kernel/random/boot_id", boot, sizeof(boot));
	boot[strcspn(boot, "\n")] = '\0';
	gethostname(name, sizeof(name));
	ck_assert_str_eq(h.id, want);
	ck_assert_str_eq(h.boot_id, boot);
	ck_assert_str_eq(h.name, name);
	ck_assert_uint_gt(h.btime, 1500000000);
	ck_assert_int_eq(h.clk_tck, sysconf(_SC_CLK_TCK));
	/* boot id without dashes, then a moment that differs at each start */
	ck_assert_uint_eq(strcspn(h.instance, "-"), 32);
	ck_assert_int_eq(fg_loghost_read(&h2), 0);
	ck_assert_str_ne(h.instance, h2.instance);
	ck_assert_int_eq(strncmp(h.instance, h2.instance, 33), 0);
}
END_TEST

START_TEST(test_fg_loghost_wall)
{
	struct fg_loghost h = {.btime = 1795811000, .clk_tck = 100};
	struct timespec ts;
	char s[40];

	ck_assert_int_eq(fg_loghost_wall(&h, 12345, &ts), 0);
	ck_assert_int_eq(ts.tv_sec, 1795811123);
	ck_assert_int_eq(ts.tv_nsec, 450000000);
	fg_log_iso8601(&ts, s, sizeof(s));
	ck_assert_str_eq(s, "2026-11-27T20:25:23.450000Z");
	ck_assert_int_eq(fg_loghost_wall(&h, 0, &ts), -ENODATA);
	h.btime = 0;
	ck_assert_int_eq(fg_loghost_wall(&h, 12345, &ts), -ENODATA);
	ck_assert_int_eq(fg_loghost_wall(NULL, 12345, &ts), -ENODATA);
}
END_TEST

static Suite *logschema_suite(void)
{
	Suite *s = suite_create("logschema");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fg_log_classify_landed_louder);
	tcase_add_test(tc, test_fg_log_classify_attack_alerts);
	tcase_add_test(tc, test_fg_log_classify_types);
	tcase_add_test(tc, test_fg_log_classify_repeated);
	tcase_add_test(tc, test_fg_log_action_table);
	tcase_add_test(tc, test_fg_loghost_read);
	tcase_add_test(tc, test_fg_loghost_wall);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(logschema_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
