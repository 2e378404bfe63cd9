/* The status renderers, from a filled snapshot: no daemon, no socket. The
 * JSON is checked by python3's parser (strict: it rejects what is not
 * JSON), the text for its 80-column promise and its content. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanguard/status.h"
#include "fanguard/util.h"

#define BUF (256 * 1024)

struct fixture {
	struct fg_config cfg;
	struct fg_subtree_cfg subtrees[2];
	struct fg_writer_cfg writers[2];
	struct fg_fan_subtree st[2];
	struct fg_state state;
	uint64_t hits[2];
	char *files[1];
	struct fg_snapshot snap;
};

static char long_path[4001];

static void add_recent(struct fg_state *s, const char *path, uint32_t auid, const char *decision)
{
	struct fg_recent r = {.auid = auid, .uid = 0, .pid = 4242};

	r.when.tv_sec = 1700000000;
	fg_strlcpy(r.decision, decision, sizeof(r.decision));
	fg_strlcpy(r.path, path, sizeof(r.path));
	fg_strlcpy(r.exe, "/usr/bin/bash", sizeof(r.exe));
	fg_strlcpy(r.rule, "no-rule", sizeof(r.rule));
	fg_strlcpy(r.subtree, "sudoers", sizeof(r.subtree));
	r.seq = auid == 1000 ? 42 : 0;
	fg_strlcpy(
	    r.explain,
	    "deny (no-rule): /usr/bin/bash uid 0 auid 1000 in sudoers; rules: admin fails on "
	    "auid, tmpfiles fails on exe, and this line goes on well past the width of one "
	    "terminal line",
	    sizeof(r.explain));
	fg_state_add_recent(s, &r);
}

static void fill(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->cfg.mode = FG_MODE_ENFORCE;
	f->files[0] = "/etc/fanguard/fanguard.conf";
	f->cfg.files[0] = f->files[0];
	f->cfg.n_files = 1;
	fg_strlcpy(f->subtrees[0].name, "sudoers", FG_NAME_MAX);
	fg_strlcpy(f->subtrees[0].key, "priv_esc_persist", FG_NAME_MAX);
	f->subtrees[0].path = "/etc/sudoers.d";
	fg_strlcpy(f->subtrees[1].name, "cron", FG_NAME_MAX);
	fg_strlcpy(f->subtrees[1].key, "cron_persist", FG_NAME_MAX);
	f->subtrees[1].path = "/etc/cron.d";
	f->cfg.subtrees = f->subtrees;
	f->cfg.n_subtrees = 2;
	fg_strlcpy(f->writers[0].name, "tmpfiles", FG_NAME_MAX);
	fg_strlcpy(f->writers[1].name, "admin", FG_NAME_MAX);
	f->cfg.writers = f->writers;
	f->cfg.n_writers = 2;
	f->st[0] = (struct fg_fan_subtree){.exists = true, .marks = 7};
	f->st[1] = (struct fg_fan_subtree){.exists = true, .marks = 3};
	f->state.c.read_allowed = 11;
	f->state.c.write_allowed_rule = 5;
	f->state.c.denied = 3;
	f->state.c.overflow = 2;
	f->hits[0] = 4;
	f->hits[1] = 1;
	f->state.rule_hits = f->hits;
	f->state.n_rules = 2;
	fg_state_latency(&f->state, 3000);
	fg_state_latency(&f->state, 90000);
	add_recent(&f->state, "/etc/sudoers.d/evil", 1000, "deny");
	add_recent(&f->state, long_path, FG_AUID_UNSET, "deny");
	f->snap = (struct fg_snapshot){.pid = 321,
				       .version = "9.9",
				       .uptime_ns = 3723000000000ULL,
				       .generation = 4,
				       .instance = "inst",
				       .cfg = &f->cfg,
				       .st = f->st,
				       .marks = 10,
				       .state = &f->state,
				       .log_dropped = 6,
				       .selftest = 1};
	f->snap.started.tv_sec = 1700000000;
}

/* Runs python3 on the JSON in buf with a program that reads it as `d` and
 * prints one line; returns that line. */
static char *py(const char *buf, const char *expr)
{
	char tmpl[] = "/tmp/fg-status-test.XXXXXX", cmd[1024];
	static char out[4096];
	int fd = mkstemp(tmpl);
	FILE *p;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, strlen(buf)), (ssize_t)strlen(buf));
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		 "print(%s)' %s 2>&1",
		 expr, tmpl);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	out[0] = '\0';
	ck_assert_ptr_nonnull(fgets(out, sizeof(out), p));
	pclose(p);
	unlink(tmpl);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

START_TEST(test_render_json_numbers)
{
	static struct fixture f;
	static char buf[BUF];

	fill(&f);
	ck_assert_uint_gt(fg_status_render_json(&f.snap, buf, sizeof(buf)), 0);
	/* One python3 run for all of them: it is the slow part. */
	ck_assert_str_eq(
	    py(buf, "d[\"status\"], d[\"daemon\"][\"pid\"], d[\"config\"][\"generation\"], "
		    "d[\"counters\"][\"read_allowed\"], d[\"counters\"][\"denied\"], "
		    "d[\"counters\"][\"write_allowed_rule\"], "
		    "[(r[\"name\"], r[\"hits\"]) for r in d[\"rules\"]], "
		    "[(s[\"name\"], s[\"marks\"], s[\"exists\"]) for s in d[\"subtrees\"]], "
		    "d[\"health\"][\"queue_overflows\"], d[\"health\"][\"log_lines_dropped\"], "
		    "d[\"health\"][\"decision_max_ns\"], d[\"daemon\"][\"uptime_seconds\"], "
		    "d[\"transactions\"][\"last\"]"),
	    "enforcing 321 4 11 3 5 [('tmpfiles', 4), ('admin', 1)] "
	    "[('sudoers', 7, True), ('cron', 3, True)] 2 6 90000 3723 None");
}
END_TEST

START_TEST(test_render_json_recent_newest_first)
{
	static struct fixture f;
	static char buf[BUF];

	fill(&f);
	fg_status_render_json(&f.snap, buf, sizeof(buf));
	/* The 4000-byte path is kept whole in JSON; only the text form cuts. */
	ck_assert_str_eq(
	    py(buf, "len(d[\"recent_denials\"]), len(d[\"recent_denials\"][0][\"path\"]), "
		    "d[\"recent_denials\"][0][\"auid\"], d[\"recent_denials\"][1][\"auid\"], "
		    "d[\"recent_denials\"][1][\"path\"]"),
	    "2 4000 unset 1000 /etc/sudoers.d/evil");
	/* each with its explain line, and the kept one's sequence and id */
	ck_assert_str_eq(py(buf, "d[\"recent_denials\"][1][\"sequence\"], "
				 "d[\"recent_denials\"][1][\"id\"], "
				 "\"sequence\" in d[\"recent_denials\"][0], "
				 "d[\"recent_denials\"][1][\"explain\"][:40]"),
			 "42 inst-42 False deny (no-rule): /usr/bin/bash uid 0 auid");
}
END_TEST

START_TEST(test_render_text_recent_explained)
{
	static struct fixture f;
	static char buf[BUF];
	char *l;

	fill(&f);
	fg_status_render_text(&f.snap, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "    id   inst-42 (sequence 42)\n"));
	l = strstr(buf, "    why  deny (no-rule): /usr/bin/bash");
	ck_assert_ptr_nonnull(l);
	/* wrapped: no line of it wider than the terminal */
	for (char *nl; (nl = strchr(l, '\n')) && strncmp(nl + 1, "         ", 9) == 0; l = nl + 1)
		ck_assert_int_le(nl - l, FG_STATUS_WIDTH);
	ck_assert_ptr_nonnull(strstr(buf, "terminal line\n"));
}
END_TEST

START_TEST(test_render_json_small_buffer_stays_valid)
{
	static struct fixture f;
	static char buf[2048];

	fill(&f);
	fg_status_render_json(&f.snap, buf, sizeof(buf));
	ck_assert_str_eq(py(buf, "d.get(\"truncated\"), d[\"status\"]"), "True enforcing");
}
END_TEST

START_TEST(test_status_word_missing_and_audit)
{
	static struct fixture f;

	fill(&f);
	ck_assert_int_eq(fg_status_word(&f.snap), FG_STATUS_ENFORCING);
	f.subtrees[1].mode = FG_MODE_AUDIT;
	ck_assert_int_eq(fg_status_word(&f.snap), FG_STATUS_AUDIT);
	f.st[0].exists = false;
	ck_assert_int_eq(fg_status_word(&f.snap), FG_STATUS_DEGRADED);
	f.st[0].exists = true;
	f.subtrees[1].mode = FG_MODE_INHERIT;
	f.snap.fan_mark_errors = 1;
	ck_assert_int_eq(fg_status_word(&f.snap), FG_STATUS_DEGRADED);
}
END_TEST

/* An optional subtree (a tool that may not be installed) may be missing,
 * or reached through a link (/usr/local on an image-mode host), without
 * degrading; a failed mark still degrades. */
START_TEST(test_status_word_optional_absent)
{
	static struct fixture f;
	static char buf[BUF];

	fill(&f);
	f.subtrees[1].optional = true;
	f.st[1].exists = false;
	ck_assert_int_eq(fg_status_word(&f.snap), FG_STATUS_ENFORCING);
	ck_assert_uint_gt(fg_status_render_json(&f.snap, buf, sizeof(buf)), 0);
	ck_assert_str_eq(py(buf, "d[\"status\"], d[\"subtrees\"][1][\"state\"]"),
			 "enforcing absent");
	f.st[1].error = -ELOOP;
	ck_assert_int_eq(fg_status_word(&f.snap), FG_STATUS_ENFORCING);
	f.st[1].error = -EACCES;
	ck_assert_int_eq(fg_status_word(&f.snap), FG_STATUS_DEGRADED);
	f.st[1].error = 0;
	f.subtrees[1].optional = false;
	ck_assert_int_eq(fg_status_word(&f.snap), FG_STATUS_DEGRADED);
}
END_TEST

START_TEST(test_render_text_fits_80_columns)
{
	static struct fixture f;
	static char buf[BUF];
	unsigned lines = 0;

	fill(&f);
	ck_assert_uint_gt(fg_status_render_text(&f.snap, buf, sizeof(buf)), 0);
	for (char *l = buf, *nl; *l; l = nl + 1, lines++) {
		nl = strchr(l, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_msg(nl - l <= 80, "line %u is %d columns: %.*s", lines, (int)(nl - l),
			      (int)(nl - l), l);
	}
	ck_assert_uint_gt(lines, 30);
}
END_TEST

START_TEST(test_render_text_content)
{
	static struct fixture f;
	static char buf[BUF];

	fill(&f);
	fg_status_render_text(&f.snap, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "ENFORCING"));
	ck_assert_ptr_nonnull(strstr(buf, "up 1h02m03s"));
	ck_assert_ptr_nonnull(
	    strstr(buf, "  write-opens denied                                  3\n"));
	ck_assert_ptr_nonnull(
	    strstr(buf, "  read-opens allowed                                 11\n"));
	ck_assert_ptr_nonnull(
	    strstr(buf, "  tmpfiles                                            4\n"));
	ck_assert_ptr_nonnull(strstr(buf, "    file /etc/sudoers.d/evil\n"));
	ck_assert_ptr_nonnull(strstr(buf, "auid=unset"));
	ck_assert_ptr_nonnull(strstr(buf, "auid=1000"));
	/* The long path keeps its head and its tail. */
	ck_assert_ptr_nonnull(strstr(buf, "    file /etc/sudoers.d/aaaa"));
	{
		const char *l = strstr(buf, "    file /etc/sudoers.d/aaaa");
		const char *nl = l ? strchr(l, '\n') : NULL;

		ck_assert_ptr_nonnull(nl);
		ck_assert_int_eq(nl - l, 80);
		ck_assert_int_eq(memcmp(nl - 7, "aaaTAIL", 7), 0);
		ck_assert_ptr_nonnull(memmem(l, (size_t)(nl - l), "a...a", 5));
	}
	ck_assert_ptr_nonnull(strstr(buf, "  /etc/cron.d\n"));
	ck_assert_ptr_nonnull(
	    strstr(buf, "  kernel queue overflows                              2\n"));
}
END_TEST

START_TEST(test_fit_escapes_and_cuts)
{
	char out[16];

	ck_assert_str_eq(fg_status_fit(out, "a\033[2Jb\xc3\xa9", 15), "a?[2Jb??");
	ck_assert_str_eq(fg_status_fit(out, "0123456789abcdefghij", 10), "0123...hij");
	ck_assert_uint_eq(strlen(fg_status_fit(out, "0123456789abcdefghij", 15)), 15);
}
END_TEST

static Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("render");

	tcase_set_timeout(tc, 30); /* python3 starts slowly on a loaded host */

	memset(long_path, 'a', sizeof(long_path) - 1);
	memcpy(long_path, "/etc/sudoers.d/", 15);
	memcpy(long_path + 3996, "TAIL", 4);
	tcase_add_test(tc, test_render_json_numbers);
	tcase_add_test(tc, test_render_json_recent_newest_first);
	tcase_add_test(tc, test_render_text_recent_explained);
	tcase_add_test(tc, test_render_json_small_buffer_stays_valid);
	tcase_add_test(tc, test_status_word_missing_and_audit);
	tcase_add_test(tc, test_status_word_optional_absent);
	tcase_add_test(tc, test_render_text_fits_80_columns);
	tcase_add_test(tc, test_render_text_content);
	tcase_add_test(tc, test_fit_escapes_and_cuts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(status_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
