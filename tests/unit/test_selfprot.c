/* selfprot: fanguard's own policy subtree at load time. Only the image's
 * file may open it to a writer; nothing may nest inside it, weaken it, or
 * take it over with a recursive parent. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/config.h"
#include "fanguard/policy.h"
#include "fanguard/selfprot.h"

#define TMPDIR_PREFIX "/tmp/fg-selfprot"
#include "tmpdir.h"

/* image: the image's policy; etc: /etc/fanguard/fanguard.conf's stand-in;
 * dropin: one file of conf.d (the temp dir itself, *.conf). NULL: absent. */
struct files {
	const char *image, *etc, *dropin;
};

static char paths[3][PATH_MAX];

static const char *put(int slot, const char *name, const char *text)
{
	FILE *f;

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", tmpdir, name);
	f = fopen(paths[slot], "we");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return paths[slot];
}

static int load(const struct files *fs, struct fg_config *cfg, struct fg_diag *diag)
{
	const char *image = put(0, "image.policy", fs->image);

	memset(diag, 0, sizeof(*diag));
	snprintf(paths[2], sizeof(paths[2]), "%s/50-dropin.conf", tmpdir);
	unlink(paths[2]);
	snprintf(paths[1], sizeof(paths[1]), "%s/etc.policy", tmpdir);
	unlink(paths[1]);
	if (fs->etc)
		put(1, "etc.policy", fs->etc);
	if (fs->dropin)
		put(2, "50-dropin.conf", fs->dropin);
	return fg_config_load_search(cfg, image, paths[1], tmpdir, diag);
}

static bool has(const struct fg_diag *d, const char *file, int line, const char *needle)
{
	char prefix[PATH_MAX + 16];

	snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
	for (unsigned i = 0; i < d->n; i++)
		if (!strncmp(d->msg[i], prefix, strlen(prefix)) && strstr(d->msg[i], needle))
			return true;
	for (unsigned i = 0; i < d->n; i++)
		fprintf(stderr, "  diag: %s\n", d->msg[i]);
	return false;
}

static const char *const image = "[subtree sudoers]\npath = /etc/sudoers.d\n"
				 "[subtree fanguard-config]\npath = /etc/fanguard\n";

START_TEST(test_fg_selfprot_path_bounds)
{
	ck_assert(fg_selfprot_path("/etc/fanguard"));
	ck_assert(fg_selfprot_path("/etc/fanguard/conf.d/x.conf"));
	ck_assert(!fg_selfprot_path("/etc/fanguardx"));
	ck_assert(!fg_selfprot_path("/etc"));
	ck_assert(!fg_selfprot_path(NULL));
}
END_TEST

/* The image's file may name it; the rule then reaches it. */
START_TEST(test_fg_selfprot_check_image_may_name)
{
	char text[512];
	struct fg_config cfg;
	struct fg_diag diag;
	struct fg_policy pol;

	snprintf(text, sizeof(text),
		 "%s[writer installer]\nexe = /usr/bin/fanguard\n"
		 "subtrees = fanguard-config\n",
		 image);
	ck_assert_int_eq(load(&(struct files){.image = text}, &cfg, &diag), 0);
	ck_assert(cfg.trusted_files & 1);
	ck_assert_int_eq(fg_policy_compile(&pol, &cfg), 0);
	ck_assert_uint_eq(pol.writer_mask[0], pol.self_mask);
	fg_policy_free(&pol);
}
END_TEST

/* A drop-in, in /etc/fanguard.conf or conf.d, may not: it lives in the
 * very directory it would open to its writer. */
START_TEST(test_fg_selfprot_check_dropin_may_not_name)
{
	static const char *const rule = "[writer evil]\nexe = /usr/bin/bash\n"
					"subtrees = sudoers fanguard-config\n";
	struct fg_config cfg;
	struct fg_diag diag;

	ck_assert_int_eq(load(&(struct files){.image = image, .dropin = rule}, &cfg, &diag),
			 -EINVAL);
	ck_assert(has(&diag, paths[2], 3,
		      "writer 'evil' names subtree 'fanguard-config', "
		      "fanguard's own policy: only the image's files"));
	ck_assert_ptr_null(cfg.subtrees);
	ck_assert_int_eq(load(&(struct files){.image = image, .etc = rule}, &cfg, &diag), -EINVAL);
	ck_assert(has(&diag, paths[1], 3, "names subtree 'fanguard-config'"));
}
END_TEST

/* "Every subtree" (no `subtrees`, or `*`) never reaches it, from any file. */
START_TEST(test_fg_selfprot_check_every_subtree_excludes)
{
	struct fg_config cfg;
	struct fg_diag diag;
	struct fg_policy pol;
	const char *rules = "[writer all]\nexe = /usr/bin/bash\n"
			    "[writer star]\nexe = /usr/bin/tee\nsubtrees = *\n";
	unsigned self;

	ck_assert_int_eq(load(&(struct files){.image = image, .dropin = rules}, &cfg, &diag), 0);
	self = (unsigned)fg_config_find_subtree(&cfg, "fanguard-config");
	ck_assert_int_eq(fg_policy_compile(&pol, &cfg), 0);
	for (unsigned i = 0; i < pol.cfg.n_writers; i++) {
		ck_assert(!(pol.writer_mask[i] & (1ULL << self)));
		ck_assert(pol.writer_mask[i] & 1); /* sudoers */
	}
	fg_policy_free(&pol);
}
END_TEST

START_TEST(test_fg_selfprot_check_subtree_rules)
{
	static const struct {
		const char *text, *why;
		int line;
	} bad[] = {
	    {"[subtree confd]\npath = /etc/fanguard/conf.d\n", "lies inside /etc/fanguard", 1},
	    {"[subtree fanguard-config]\npath = /etc/fanguard\nmode = audit\n",
	     "always enforced: mode = audit is refused", 1},
	    {"[subtree fanguard-config]\npath = /etc/fanguard\nrecursive = no\n",
	     "recursive = no is refused", 1},
	    {"[subtree cg]\npath = /sys/fs/cgroup\n", "is on a kernel filesystem", 1},
	    {"[subtree pr]\npath = /proc/sys\n", "is on a kernel filesystem", 1},
	};
	struct fg_config cfg;
	struct fg_diag diag;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(load(&(struct files){.image = bad[i].text}, &cfg, &diag), -EINVAL);
		ck_assert_msg(has(&diag, paths[0], bad[i].line, bad[i].why), "%s", bad[i].why);
	}
	/* from a drop-in too */
	ck_assert_int_eq(load(&(struct files){.image = image, .dropin = bad[0].text}, &cfg, &diag),
			 -EINVAL);
	ck_assert(has(&diag, paths[2], 1, "lies inside /etc/fanguard"));
}
END_TEST

/* A recursive parent does not stand in for it: the auto subtree is added,
 * and the longer path decides /etc/fanguard's files. */
START_TEST(test_fg_selfprot_check_parent_is_not_enough)
{
	struct fg_config cfg;
	struct fg_diag diag;
	struct fg_policy pol;
	int s;

	ck_assert_int_eq(load(&(struct files){.image = "[subtree etc]\npath = /etc\n"
						       "[writer w]\nexe = /usr/bin/bash\n"},
			      &cfg, &diag),
			 0);
	ck_assert_int_eq(fg_policy_compile(&pol, &cfg), 0);
	s = fg_policy_match_path(&pol, "/etc/fanguard/conf.d/x.conf");
	ck_assert_str_eq(pol.cfg.subtrees[s].name, "fanguard-config");
	ck_assert(!(pol.writer_mask[0] & (1ULL << s)));
	ck_assert_int_eq(fg_policy_match_path(&pol, "/etc/passwd"), 0);
	fg_policy_free(&pol);
}
END_TEST

static Suite *selfprot_suite(void)
{
	Suite *s = suite_create("selfprot");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_fg_selfprot_path_bounds);
	tcase_add_test(tc, test_fg_selfprot_check_image_may_name);
	tcase_add_test(tc, test_fg_selfprot_check_dropin_may_not_name);
	tcase_add_test(tc, test_fg_selfprot_check_every_subtree_excludes);
	tcase_add_test(tc, test_fg_selfprot_check_subtree_rules);
	tcase_add_test(tc, test_fg_selfprot_check_parent_is_not_enough);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(selfprot_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
