/* unitcg: which cgroup paths a cgroup condition may name, and the check that
 * a writer's cgroup is a unit's, on a fake hierarchy in a temp dir (its
 * trusted.* xattrs need root, as the daemon does). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fanguard/config.h"
#include "fanguard/policy.h"
#include "fanguard/unitcg.h"
#include "fanguard/util.h"

#define ID "0123456789abcdef0123456789abcdef"

static char tmpdir[64];
static struct fg_unitcg u;

static void path_of(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", tmpdir, rel);
}

/* A cgroup directory under cg/, with an invocation id when id is given. */
static void cgroup(const char *rel, const char *id)
{
	char p[PATH_MAX], sub[256];

	snprintf(sub, sizeof(sub), "cg/%s", rel);
	path_of(p, sizeof(p), sub);
	for (char *s = p + strlen(tmpdir) + 1; (s = strchr(s + 1, '/'));) {
		*s = '\0';
		(void)mkdir(p, 0755);
		*s = '/';
	}
	ck_assert_int_eq(mkdir(p, 0755), 0);
	if (id)
		ck_assert_int_eq(setxattr(p, "trusted.invocation_id", id, strlen(id), 0), 0);
}

static void unit_file(const char *name)
{
	char p[PATH_MAX], sub[256];
	int fd;

	snprintf(sub, sizeof(sub), "units/%s", name);
	path_of(p, sizeof(p), sub);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void setup(void)
{
	char p[PATH_MAX];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fg-unitcg-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	path_of(p, sizeof(p), "cg");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	u.root = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	path_of(p, sizeof(p), "units");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	u.units[0] = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	u.units[1] = u.units[2] = -1;
	ck_assert_int_ge(u.root, 0);
	ck_assert_int_ge(u.units[0], 0);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void teardown(void)
{
	fg_unitcg_close(&u);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

START_TEST(test_fg_unitcg_name_problem_accepts)
{
	static const char *const ok[] = {
	    "/system.slice/cloud-init.service",
	    "/system.slice/system-getty.slice/getty@tty1.service",
	    "/x.service",
	};

	for (size_t i = 0; i < FG_ARRAY_SIZE(ok); i++)
		ck_assert_msg(!fg_unitcg_name_problem(ok[i]), "%s: %s", ok[i],
			      fg_unitcg_name_problem(ok[i]));
}
END_TEST

START_TEST(test_fg_unitcg_name_problem_refuses)
{
	static const struct {
		const char *cg, *why;
	} bad[] = {
	    {"/system.slice/cloud-*.service", "is a pattern"},
	    {"/system.slice/cloud-?.service", "is a pattern"},
	    {"/system.slice/cloud-[ab].service", "is a pattern"},
	    {"*", "is a pattern"},
	    {"/system.slice/x.scope", "not a service's cgroup"},
	    {"/system.slice", "not a service's cgroup"},
	    {"/system.slice/x.service/payload", "every component above the unit is a .slice"},
	    {"/foo/x.service", "every component above the unit is a .slice"},
	    {"//x.service", "not normalised"},
	    {"/system.slice//x.service", "not normalised"},
	    {"/system.slice/../x.service", "not normalised"},
	    {"/system.slice/./x.service", "not normalised"},
	    {"/system.slice/x.service/", "not normalised"},
	    {"/", "not normalised"},
	    {"system.slice/x.service", "does not start with '/'"},
	    {"", "does not start with '/'"},
	};

	for (size_t i = 0; i < FG_ARRAY_SIZE(bad); i++) {
		const char *why = fg_unitcg_name_problem(bad[i].cg);
		ck_assert_msg(why && strstr(why, bad[i].why), "'%s': %s", bad[i].cg,
			      why ? why : "accepted");
	}
}
END_TEST

START_TEST(test_fg_unitcg_verify_unit)
{
	cgroup("system.slice/a.service", ID);
	unit_file("a.service");
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/a.service"), 0);
	/* an instance counts through its template's file */
	cgroup("system.slice/system-getty.slice/getty@tty1.service", ID);
	unit_file("getty@.service");
	ck_assert_int_eq(
	    fg_unitcg_verify(&u, "/system.slice/system-getty.slice/getty@tty1.service"), 0);
}
END_TEST

/* What a root process can make with mkdir and a write to cgroup.procs. */
START_TEST(test_fg_unitcg_verify_made_by_hand)
{
	cgroup("system.slice/b.service", NULL);
	unit_file("b.service");
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/b.service"), -ENODATA);
	cgroup("system.slice/c.service", "not-an-id-but-32-bytes-long-xxxx");
	unit_file("c.service");
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/c.service"), -ENODATA);
	cgroup("system.slice/c2.service", "0123456789abcdef0123456789abcde");
	unit_file("c2.service");
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/c2.service"), -ENODATA);
	/* not there at all */
	unit_file("e.service");
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/e.service"), -ENOENT);
}
END_TEST

/* A transient unit (systemd-run --unit=NAME) has a real invocation id, but
 * no unit file where the image or /etc/systemd/system would hold one. */
START_TEST(test_fg_unitcg_verify_no_unit_file)
{
	cgroup("system.slice/d.service", ID);
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/d.service"), -ENOENT);
	unit_file("d.service");
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/d.service"), 0);
}
END_TEST

START_TEST(test_fg_unitcg_verify_refuses)
{
	char target[PATH_MAX], link[PATH_MAX];

	cgroup("system.slice/a.service", ID);
	unit_file("a.service");
	/* a symlink on the way, though the target would pass */
	path_of(target, sizeof(target), "cg/system.slice");
	path_of(link, sizeof(link), "cg/link.slice");
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(fg_unitcg_verify(&u, "/link.slice/a.service"), -ELOOP);
	/* what no cgroup condition may name is never looked up */
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/a.*"), -ENOENT);
	ck_assert_int_eq(fg_unitcg_verify(&u, "system.slice/a.service"), -ENOENT);
	ck_assert_int_eq(fg_unitcg_verify(NULL, "/system.slice/a.service"), -ENOENT);
	u.root = -1;
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/a.service"), -ENOENT);
}
END_TEST

/* A mount over a cgroup's path (a real unit's cgroup bound onto a made-up
 * one) is not followed. In a mount namespace of this test's own. */
START_TEST(test_fg_unitcg_verify_no_mount_crossing)
{
	char p[PATH_MAX];

	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	/* the root fd of the old namespace would not see this one's mounts */
	close(u.root);
	path_of(p, sizeof(p), "cg");
	u.root = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(u.root, 0);
	cgroup("system.slice/real.service", ID);
	cgroup("system.slice/fake.service", NULL);
	unit_file("fake.service");
	path_of(p, sizeof(p), "cg/system.slice/fake.service");
	char real[PATH_MAX];
	path_of(real, sizeof(real), "cg/system.slice/real.service");
	ck_assert_int_eq(mount(real, p, NULL, MS_BIND, NULL), 0);
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/fake.service"), -EXDEV);
	ck_assert_int_eq(umount(p), 0);
	ck_assert_int_eq(fg_unitcg_verify(&u, "/system.slice/fake.service"), -ENODATA);
}
END_TEST

static void compile(struct fg_policy *pol, const char *text)
{
	char p[PATH_MAX];
	struct fg_config cfg;
	struct fg_diag diag = {0};
	FILE *f;

	path_of(p, sizeof(p), "policy.conf");
	f = fopen(p, "we");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(fg_config_load(&cfg, p, &diag), 0);
	ck_assert_int_eq(fg_policy_compile(pol, &cfg), 0);
}

/* fill checks only a cgroup some condition names, and always overwrites
 * what the scratch writer held before. */
START_TEST(test_fg_unitcg_fill_states)
{
	struct fg_policy pol;
	struct fg_proc *w = calloc(1, sizeof(*w));

	ck_assert_ptr_nonnull(w);
	compile(&pol, "[subtree s]\npath = /etc/s\n"
		      "[writer a]\nexe = /usr/bin/a\ncgroup = /system.slice/a.service\n"
		      "[transaction]\nexe = /usr/bin/t\ncgroup = /system.slice/t.service\n");
	cgroup("system.slice/a.service", ID);
	unit_file("a.service");
	cgroup("system.slice/t.service", NULL);
	unit_file("t.service");

	strcpy(w->cgroup, "/system.slice/a.service");
	fg_unitcg_fill(&u, &pol, w);
	ck_assert_int_eq(w->cgroup_unit, FG_CGU_UNIT);
	strcpy(w->cgroup, "/system.slice/t.service");
	fg_unitcg_fill(&u, &pol, w);
	ck_assert_int_eq(w->cgroup_unit, FG_CGU_FORGED);
	w->cgroup_unit = FG_CGU_UNIT;
	strcpy(w->cgroup, "/system.slice/other.service");
	fg_unitcg_fill(&u, &pol, w);
	ck_assert_int_eq(w->cgroup_unit, FG_CGU_UNCHECKED);
	/* without the directories (a CLI that could not open them): forged */
	strcpy(w->cgroup, "/system.slice/a.service");
	fg_unitcg_fill(NULL, &pol, w);
	ck_assert_int_eq(w->cgroup_unit, FG_CGU_FORGED);
	fg_policy_free(&pol);
	free(w);
}
END_TEST

/* On this host: the cgroup2 root is found, unified or hybrid. */
START_TEST(test_fg_unitcg_open_host)
{
	struct fg_unitcg h;

	ck_assert_int_eq(fg_unitcg_open(&h), 0);
	ck_assert_int_ge(h.root, 0);
	fg_unitcg_close(&h);
	ck_assert_int_eq(h.root, -1);
}
END_TEST

static Suite *unitcg_suite(void)
{
	Suite *s = suite_create("unitcg");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fg_unitcg_name_problem_accepts);
	tcase_add_test(tc, test_fg_unitcg_name_problem_refuses);
	tcase_add_test(tc, test_fg_unitcg_verify_unit);
	tcase_add_test(tc, test_fg_unitcg_verify_made_by_hand);
	tcase_add_test(tc, test_fg_unitcg_verify_no_unit_file);
	tcase_add_test(tc, test_fg_unitcg_verify_refuses);
	tcase_add_test(tc, test_fg_unitcg_verify_no_mount_crossing);
	tcase_add_test(tc, test_fg_unitcg_fill_states);
	tcase_add_test(tc, test_fg_unitcg_open_host);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(unitcg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
