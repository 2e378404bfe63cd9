/* Deployment twins: the path computation, the names of a deployment, the
 * scan of a fake sysroot, and how a config's twins follow what exists. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanguard/config.h"
#include "fanguard/explain.h"
#include "fanguard/policy.h"
#include "fanguard/twins.h"
#include "fanguard/util.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fg-twins.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void mkdirs(const char *rel)
{
	char cmd[PATH_MAX];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", dir, rel);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_fg_twins_path_under_etc)
{
	char buf[PATH_MAX];

	ck_assert_int_eq(
	    fg_twins_path("/etc", "/sysroot/d/x.0", "/etc/sudoers.d", buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "/sysroot/d/x.0/etc/sudoers.d");
	ck_assert_int_eq(fg_twins_path("/t/etc", "/r", "/t/etc/ssh/sshd_config", buf, sizeof(buf)),
			 1);
	ck_assert_str_eq(buf, "/r/etc/ssh/sshd_config");
	/* not under etc, and a sibling whose name only starts like it */
	ck_assert_int_eq(fg_twins_path("/etc", "/r", "/var/roothome/.ssh", buf, sizeof(buf)), 0);
	ck_assert_int_eq(fg_twins_path("/etc", "/r", "/etcetera/x", buf, sizeof(buf)), 0);
	ck_assert_int_eq(fg_twins_path("/etc", "/r", "/etc/x", buf, 6), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_fg_twins_name_layouts)
{
	struct fg_deployment d;

	fg_twins_name("/sysroot/ostree/deploy/fedora/deploy/0123abc.1", &d);
	ck_assert_str_eq(d.id, "0123abc.1");
	ck_assert_str_eq(d.stateroot, "fedora");
	fg_twins_name("/sysroot/state/deploy/9f8e7d", &d);
	ck_assert_str_eq(d.id, "9f8e7d");
	ck_assert_str_eq(d.stateroot, "");
}
END_TEST

START_TEST(test_fg_twins_level_and_relevant)
{
	struct fg_config cfg;
	char buf[PATH_MAX];

	fg_config_init(&cfg);
	ck_assert_uint_eq(fg_twins_depth("/sysroot/ostree/deploy/*/deploy/*"), 6);
	ck_assert_int_eq(fg_twins_level("/sysroot/ostree/deploy/*/deploy/*", 4, buf, sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, "/sysroot/ostree/deploy/*");
	/* the defaults: every level of either glob, nothing below a root */
	ck_assert(fg_twins_relevant(&cfg, "/sysroot"));
	ck_assert(fg_twins_relevant(&cfg, "/sysroot/ostree/deploy/os"));
	ck_assert(fg_twins_relevant(&cfg, "/sysroot/ostree/deploy/os/deploy/abc.0"));
	ck_assert(fg_twins_relevant(&cfg, "/sysroot/state/deploy/abc"));
	ck_assert(!fg_twins_relevant(&cfg, "/sysroot/ostree/deploy/os/deploy/abc.0/etc"));
	ck_assert(!fg_twins_relevant(&cfg, "/sysroot/ostree/repo"));
	ck_assert(!fg_twins_relevant(&cfg, "/etc/sudoers.d"));
	ck_assert(!fg_twins_relevant(&cfg, ""));
	fg_config_free(&cfg);
}
END_TEST

/* A config of two subtrees under etc and one outside it, on the fake
 * sysroot in dir. */
static void twin_config(struct fg_config *cfg)
{
	static const char *const subs[][2] = {{"sudoers", "etc/sudoers.d"},
					      {"sshd", "etc/ssh/sshd_config.d"},
					      {"roothome", "home/.ssh"}};
	char p[PATH_MAX];

	fg_config_init(cfg);
	cfg->subtrees = calloc(3, sizeof(*cfg->subtrees));
	ck_assert_ptr_nonnull(cfg->subtrees);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, subs[i][1]);
		cfg->subtrees[i].path = strdup(p);
		fg_strlcpy(cfg->subtrees[i].name, subs[i][0], sizeof(cfg->subtrees[i].name));
		fg_strlcpy(cfg->subtrees[i].key, subs[i][0], sizeof(cfg->subtrees[i].key));
	}
	cfg->n_subtrees = 3;
	cfg->deployments.roots_set = true;
	snprintf(p, sizeof(p), "%s/sysroot/ostree/deploy/*/deploy/*", dir);
	cfg->deployments.roots.v[cfg->deployments.roots.n++] = strdup(p);
	snprintf(p, sizeof(p), "%s/sysroot/state/deploy/*", dir);
	cfg->deployments.roots.v[cfg->deployments.roots.n++] = strdup(p);
	snprintf(p, sizeof(p), "%s/etc", dir);
	cfg->deployments.etc = strdup(p);
}

static unsigned twins_of(const struct fg_config *cfg, const char *id)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->n_subtrees; i++)
		n += cfg->subtrees[i].twin && !fg_twins_inert(cfg, i) &&
		     !strcmp(cfg->subtrees[i].dep->id, id);
	return n;
}

START_TEST(test_fg_twins_expand_scan_and_booted)
{
	struct fg_config cfg;
	struct fg_policy pol;
	char p[PATH_MAX];
	int i;

	mkdirs("sysroot/ostree/deploy/os/deploy/aaa.0/etc/sudoers.d");
	mkdirs("sysroot/ostree/deploy/os/deploy/bbb.0/etc");
	mkdirs("sysroot/state/deploy/ccc/etc");
	snprintf(p, sizeof(p), "%s/sysroot/ostree/deploy/os/deploy/aaa.0.origin", dir);
	fclose(fopen(p, "w")); /* a file: no deployment */
	/* the running etc is aaa.0's (a symlink here: stat follows it) */
	snprintf(p, sizeof(p), "%s/etc", dir);
	ck_assert_int_eq(symlink("sysroot/ostree/deploy/os/deploy/aaa.0/etc", p), 0);
	twin_config(&cfg);
	ck_assert_int_eq(fg_twins_expand(&cfg), 0);
	ck_assert_uint_eq(cfg.deployments.n_found, 3);
	ck_assert_ptr_nonnull(cfg.deployments.booted);
	ck_assert_str_eq(cfg.deployments.booted->id, "aaa.0");
	/* two under etc per non-booted deployment; none for the booted one
	 * or for the subtree outside etc */
	ck_assert_uint_eq(cfg.n_subtrees, 3 + 2 * 2);
	ck_assert_uint_eq(twins_of(&cfg, "aaa.0"), 0);
	ck_assert_uint_eq(twins_of(&cfg, "bbb.0"), 2);
	ck_assert_uint_eq(twins_of(&cfg, "ccc"), 2);
	ck_assert_int_eq(fg_policy_compile(&pol, &cfg), 0);
	/* decided by path, same name and key, the base found again */
	snprintf(p, sizeof(p), "%s/sysroot/state/deploy/ccc/etc/sudoers.d/x", dir);
	i = fg_policy_match_path(&pol, p);
	ck_assert_int_ge(i, 3);
	ck_assert_str_eq(pol.cfg.subtrees[i].name, "sudoers");
	ck_assert_uint_eq(fg_twins_base(&pol.cfg, (unsigned)i), 0);
	/* the booted one by its /sysroot path is the running subtree */
	snprintf(p, sizeof(p), "%s/sysroot/ostree/deploy/os/deploy/aaa.0/etc/sudoers.d/x", dir);
	ck_assert_int_eq(fg_policy_match_path(&pol, p), 0);
	fg_policy_free(&pol);
}
END_TEST

/* The explain line of a denial in a twin (status' last denials, explain
 * --last) names the rules of the subtree it copies and why they fail. */
START_TEST(test_fg_twins_explain_line)
{
	struct fg_config cfg;
	struct fg_policy pol;
	struct fg_decision d;
	struct fg_proc w = {.pid = 1, .tid = 1, .auid = FG_AUID_UNSET, .arena_used = 1};
	char p[PATH_MAX], line[512];
	int i;

	mkdirs("sysroot/state/deploy/ccc/etc/sudoers.d");
	twin_config(&cfg);
	cfg.writers = calloc(1, sizeof(*cfg.writers));
	ck_assert_ptr_nonnull(cfg.writers);
	fg_strlcpy(cfg.writers[0].name, "admin", sizeof(cfg.writers[0].name));
	cfg.writers[0].exe.v[cfg.writers[0].exe.n++] = strdup("/usr/bin/vi");
	/* named: its mask has the base's bit only, never a twin's */
	cfg.writers[0].subtrees.v[cfg.writers[0].subtrees.n++] = strdup("sudoers");
	cfg.n_writers = 1;
	ck_assert_int_eq(fg_twins_expand(&cfg), 0);
	ck_assert_int_eq(fg_policy_compile(&pol, &cfg), 0);
	snprintf(p, sizeof(p), "%s/sysroot/state/deploy/ccc/etc/sudoers.d/x", dir);
	i = fg_policy_match_path(&pol, p);
	ck_assert_int_ge(i, 3);
	fg_strlcpy(w.exe, "/usr/bin/vi", sizeof(w.exe));
	fg_policy_decide(&pol, (unsigned)i, &w, &d);
	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	fg_explain_line(&pol, i, &w, &d, NULL, line, sizeof(line));
	ck_assert_msg(strstr(line, "admin fails on deployments"), "%s", line);
	fg_policy_free(&pol);
}
END_TEST

START_TEST(test_fg_twins_apply_gone_and_reused)
{
	struct fg_config cfg;
	struct fg_deployment now[4];
	struct fg_twins_change ch;
	unsigned n, before;

	mkdirs("sysroot/state/deploy/one/etc");
	mkdirs("sysroot/state/deploy/two/etc");
	twin_config(&cfg);
	ck_assert_int_eq(fg_twins_expand(&cfg), 0);
	ck_assert_uint_eq(fg_twins_live(&cfg, &n), 2);
	ck_assert_uint_eq(n, 4);
	before = cfg.n_subtrees;
	{ /* one goes, three comes */
		char cmd[PATH_MAX];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/sysroot/state/deploy/one'", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	mkdirs("sysroot/state/deploy/three/etc");
	n = fg_twins_scan(&cfg.deployments, now, 4, NULL);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(fg_twins_apply(&cfg, now, n, 0, &ch), 0);
	ck_assert_uint_eq(ch.deps_removed, 1);
	ck_assert_uint_eq(ch.deps_added, 1);
	ck_assert_uint_eq(ch.n_removed, 2);
	ck_assert_uint_eq(ch.n_added, 2);
	/* the inert entries were reused, not appended */
	ck_assert_uint_eq(cfg.n_subtrees, before);
	ck_assert_uint_eq(twins_of(&cfg, "three"), 2);
	ck_assert_uint_eq(twins_of(&cfg, "one"), 0);
	ck_assert_uint_eq(twins_of(&cfg, "two"), 2);
	ck_assert_uint_eq(fg_twins_live(&cfg, NULL), 2);
	/* nothing found: everything inert, nothing degraded */
	ck_assert_int_eq(fg_twins_apply(&cfg, now, 0, 0, &ch), 0);
	ck_assert_uint_eq(fg_twins_live(&cfg, &n), 0);
	ck_assert_uint_eq(n, 0);
	fg_config_free(&cfg);
}
END_TEST

/* A scan keeping at most max roots (of the 4 now[] holds), applied. */
static void rescan(struct fg_config *cfg, unsigned max, unsigned want_n, unsigned want_more,
		   struct fg_twins_change *ch)
{
	struct fg_deployment now[4];
	unsigned more = 9, n = fg_twins_scan(&cfg->deployments, now, max, &more);

	ck_assert_uint_eq(n, want_n);
	ck_assert_uint_eq(more, want_more);
	ck_assert_int_eq(fg_twins_apply(cfg, now, n, more, ch), 0);
}

/* More roots than one scan keeps: the rest are counted, never dropped in
 * silence, and a deployment known before is not taken for gone. */
START_TEST(test_fg_twins_scan_past_room)
{
	struct fg_config cfg;
	struct fg_twins_change ch;

	mkdirs("sysroot/state/deploy/one/etc");
	mkdirs("sysroot/state/deploy/two/etc");
	mkdirs("sysroot/state/deploy/three/etc");
	twin_config(&cfg);
	ck_assert_int_eq(fg_twins_expand(&cfg), 0);
	ck_assert_uint_eq(fg_twins_live(&cfg, NULL), 3);
	ck_assert_uint_eq(fg_twins_unguarded(&cfg), 0);
	rescan(&cfg, 2, 2, 1, &ch);
	ck_assert_uint_eq(ch.deps_removed, 0);
	ck_assert_uint_eq(ch.left_out, 1);
	ck_assert_uint_ge(ch.full, 1);
	ck_assert_uint_eq(fg_twins_live(&cfg, NULL), 3);
	ck_assert_uint_eq(fg_twins_unguarded(&cfg), 1);
	/* a scan that keeps them all: nothing unguarded any more */
	rescan(&cfg, 4, 3, 0, &ch);
	ck_assert_uint_eq(ch.full, 0);
	ck_assert_uint_eq(fg_twins_unguarded(&cfg), 0);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_twins_absent_sysroot)
{
	struct fg_config cfg;

	fg_config_init(&cfg);
	cfg.deployments.roots_set = true;
	cfg.deployments.roots.v[cfg.deployments.roots.n++] = strdup("/nonexistent-fg/deploy/*");
	ck_assert_int_eq(fg_twins_expand(&cfg), 0);
	ck_assert_uint_eq(cfg.deployments.n_found, 0);
	ck_assert_ptr_null(cfg.deployments.booted);
	fg_config_free(&cfg);
}
END_TEST

static Suite *twins_suite(void)
{
	Suite *s = suite_create("twins");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fg_twins_path_under_etc);
	tcase_add_test(tc, test_fg_twins_name_layouts);
	tcase_add_test(tc, test_fg_twins_level_and_relevant);
	tcase_add_test(tc, test_fg_twins_expand_scan_and_booted);
	tcase_add_test(tc, test_fg_twins_apply_gone_and_reused);
	tcase_add_test(tc, test_fg_twins_explain_line);
	tcase_add_test(tc, test_fg_twins_scan_past_room);
	tcase_add_test(tc, test_fg_twins_absent_sysroot);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(twins_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
