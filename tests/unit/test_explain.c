/* explain: the one-line form of a denial, the report, the request codec. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanguard/config.h"
#include "fanguard/explain.h"
#include "fanguard/policy.h"
#include "fanguard/util.h"
#include "policytext.h"

static const char *const conf_text = "[subtree sudoers]\n"
				     "path = /etc/sudoers.d\n"
				     "[subtree cron]\n"
				     "path = /var/spool/cron\n"
				     "[writer admins]\n"
				     "auid = 1000 1001\n"
				     "subtrees = sudoers cron\n"
				     "[writer tmpfiles]\n"
				     "exe = /usr/bin/systemd-tmpfiles\n"
				     "subtrees = cron\n"
				     "[writer r1]\n"
				     "uid = 7\n"
				     "[writer r2]\n"
				     "uid = 8\n"
				     "[writer r3]\n"
				     "uid = 9\n"
				     "[writer r4]\n"
				     "uid = 10\n";

static struct fg_policy pol;
static struct fg_proc *w;

static void setup(void)
{
	policy_from_text(conf_text, &pol);
	w = proc_new(77, 1002, "/usr/bin/crontab", "crontab");
}

static void teardown(void)
{
	fg_policy_free(&pol);
	free(w);
}

static int sub(const char *name)
{
	return fg_config_find_subtree(&pol.cfg, name);
}

START_TEST(test_fg_explain_line_names_covering_rules)
{
	struct fg_decision d;
	char line[320];

	fg_policy_decide(&pol, (unsigned)sub("cron"), w, &d);
	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	fg_explain_line(&pol, sub("cron"), w, &d, "no-rule", line, sizeof(line));
	ck_assert_str_eq(line, "deny (no-rule): /usr/bin/crontab uid 0 auid 1002 in cron; rules: "
			       "admins fails on auid, tmpfiles fails on exe, r1 fails on uid, r2 "
			       "fails on uid, +2 more");
	/* sudoers: tmpfiles does not cover it and is not named */
	fg_policy_decide(&pol, (unsigned)sub("sudoers"), w, &d);
	fg_explain_line(&pol, sub("sudoers"), w, &d, NULL, line, sizeof(line));
	ck_assert_ptr_null(strstr(line, "tmpfiles"));
	ck_assert_ptr_nonnull(strstr(line, "deny (no-rule): "));
	/* an allow names its rule; a short buffer is cut, never overrun */
	w->auid = 1000;
	fg_policy_decide(&pol, (unsigned)sub("cron"), w, &d);
	fg_explain_line(&pol, sub("cron"), w, &d, "rule", line, sizeof(line));
	ck_assert_str_eq(
	    line, "allow (rule): /usr/bin/crontab uid 0 auid 1000 in cron; rule admins matched");
	ck_assert_uint_eq(fg_explain_line(&pol, sub("cron"), w, &d, "rule", line, 10), 9);
	ck_assert_str_eq(line, "allow (ru");
}
END_TEST

START_TEST(test_fg_explain_req_roundtrip)
{
	struct fg_explain_req r = {.path = "/etc/sudoers.d/a b\nc",
				   .exe = "/usr/bin/vim.basic",
				   .cgroup = "/user.slice/x",
				   .uid = 0,
				   .auid = 1000,
				   .ancestors = {"/usr/bin/sudo", "/usr/bin/bash"},
				   .n_ancestors = 2,
				   .json = true};
	struct fg_explain_req got;
	char buf[4096];
	size_t n = fg_explain_req_encode(&r, buf, sizeof(buf));

	ck_assert_uint_gt(n, 0);
	ck_assert_ptr_null(strchr(buf, '\n'));
	ck_assert_int_eq(strncmp(buf, "explain ", 8), 0);
	ck_assert_int_eq(fg_explain_req_decode(buf + 8, &got), 0);
	ck_assert_str_eq(got.path, r.path);
	ck_assert_str_eq(got.exe, r.exe);
	ck_assert_str_eq(got.cgroup, r.cgroup);
	ck_assert_ptr_null(got.comm);
	ck_assert_uint_eq(got.n_ancestors, 2);
	ck_assert_str_eq(got.ancestors[1], "/usr/bin/bash");
	ck_assert_uint_eq(got.auid, 1000);
	ck_assert(got.json);
	ck_assert_int_eq(got.pid, 0);
	/* too small a buffer: nothing half-encoded */
	ck_assert_uint_eq(fg_explain_req_encode(&r, buf, 40), 0);
}
END_TEST

START_TEST(test_fg_explain_req_decode_refuses)
{
	struct fg_explain_req got;
	char a[] = "path=2f61 pid=5 exe=2f62";	 /* both a pid and an exe */
	char b[] = "path=612";			 /* odd hex */
	char c[] = "path=2f6100 exe=2f62";	 /* a NUL byte */
	char d[] = "exe=2f62";			 /* no path */
	char e[] = "path=2f61 bogus=1 exe=2f62"; /* unknown key */
	char ok[] = "path=2f61 pid=5";

	ck_assert_int_eq(fg_explain_req_decode(a, &got), -EINVAL);
	ck_assert_int_eq(fg_explain_req_decode(b, &got), -EINVAL);
	ck_assert_int_eq(fg_explain_req_decode(c, &got), -EINVAL);
	ck_assert_int_eq(fg_explain_req_decode(d, &got), -EINVAL);
	ck_assert_int_eq(fg_explain_req_decode(e, &got), -EINVAL);
	ck_assert_int_eq(fg_explain_req_decode(ok, &got), 0);
	ck_assert_str_eq(got.path, "/a");
	ck_assert_int_eq(got.pid, 5);
}
END_TEST

START_TEST(test_fg_explain_render_text_and_json)
{
	static char buf[16384];
	struct fg_decision d;

	fg_policy_decide(&pol, (unsigned)sub("cron"), w, &d);
	fg_explain_render(&pol, sub("cron"), "/var/spool/cron/crontabs/root", w, &d, false, buf,
			  sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "decision  deny: no writer rule matches"));
	ck_assert_ptr_nonnull(strstr(buf, "  admins                         auid\n"));
	fg_explain_render(&pol, sub("cron"), "/var/spool/cron/crontabs/root", w, &d, true, buf,
			  sizeof(buf));
	ck_assert_int_eq(buf[0], '{');
	ck_assert_ptr_nonnull(strstr(buf, "\"decision\":\"deny\""));
	ck_assert_ptr_nonnull(strstr(buf, "{\"rule\":\"admins\",\"condition\":\"auid\"}"));
	ck_assert_int_eq(buf[strlen(buf) - 1], '\n');
	fg_explain_render(&pol, -1, "/tmp/x", NULL, NULL, false, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "/tmp/x is not in any protected subtree"));
}
END_TEST

static Suite *explain_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("explain");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fg_explain_line_names_covering_rules);
	tcase_add_test(tc, test_fg_explain_req_roundtrip);
	tcase_add_test(tc, test_fg_explain_req_decode_refuses);
	tcase_add_test(tc, test_fg_explain_render_text_and_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(explain_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
