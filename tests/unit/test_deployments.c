/* Unit tests for the deployments comparison, the approved list and the
 * state file: the status sequence of tests/data/bootc (baseline, staged,
 * reboot, rollback queued, rolled back, a downgrade, an unapproved image,
 * /usr made writable) compared run after run with the state carried, each
 * finding asserted exactly, once, and not again on an unchanged status. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fanguard/deployments.h"
#include "fanguard/logpack.h"
#include "fanguard/util.h"

#define TMPDIR_PREFIX "/tmp/fg-deploy"
#include "tmpdir.h"

#define A "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define B "sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"

static struct fg_bootc_host host;
static struct fg_deploy_state prev, next;
static struct fg_finding found[FG_FINDINGS_MAX];
static unsigned n_found;
static struct fg_config cfg;
static struct fg_approved approved;
static struct fg_sigpolicy_verdict sig;
static char err[FG_DEPLOY_ERR_LEN];

static const char *put(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static void load_host(const char *name)
{
	char path[512], *buf = malloc(1 << 20);
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bootc/%s", FG_TEST_DATA, name);
	f = fopen(path, "re");
	ck_assert_msg(f && buf, "%s", path);
	len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	ck_assert_int_eq(fg_bootc_parse(buf, len, &host, err, sizeof(err)), 0);
	free(buf);
}

static void setup(void)
{
	static struct fg_diag diag;
	char conf[1024];
	const char *path;

	tmpdir_setup();
	put("approved", "# digest  ticket\n" A "  CHG-1000\n\n" B "\tCHG-1001 rollout wave 2\n");
	snprintf(conf, sizeof(conf),
		 "[deployments]\nimages = quay.io/example/os:*\napproved = %s/approved\n"
		 "min_timestamp = 2025-12-01\n",
		 tmpdir);
	path = put("c.conf", conf);
	memset(&diag, 0, sizeof(diag));
	ck_assert_int_eq(fg_config_load(&cfg, path, &diag), 0);
	snprintf(conf, sizeof(conf), "%s/approved", tmpdir);
	ck_assert_int_eq(fg_approved_load(conf, &approved, err, sizeof(err)), 0);
	memset(&prev, 0, sizeof(prev));
}

static void teardown(void)
{
	fg_config_free(&cfg);
	fg_approved_free(&approved);
	tmpdir_teardown();
}

/* One run: compare, then the new state becomes the old. */
static void run(const char *fixture, const char *policy)
{
	char p[512];
	const char *img[1];
	struct fg_sigpolicy_cfg sc = {.images = img, .n_images = 1};
	struct fg_deploy_input in = {.cfg = &cfg.deployments, .approved = &approved, .sig = &sig};

	load_host(fixture);
	img[0] = host.spec_image.image;
	snprintf(p, sizeof(p), "%s/policy/%s", FG_TEST_DATA, policy);
	ck_assert_int_eq(fg_sigpolicy_eval_file(p, &sc, &sig), 0);
	ck_assert_int_eq(
	    fg_deploy_compare(&host, &in, &prev, &next, found, FG_FINDINGS_MAX, &n_found), 0);
	prev = next;
}

/* The fired findings, as "action slot reason ALERT|info[ ticket]", sorted
 * as they came, joined by "\n". */
static const char *fired(void)
{
	static char out[4096];
	size_t l = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < n_found; i++) {
		const struct fg_finding *f = &found[i];

		if (!f->fired)
			continue;
		l += (size_t)snprintf(out + l, sizeof(out) - l, "%s%s %s %s %s%s%s", l ? "\n" : "",
				      f->action, f->slot ? f->slot : "host", f->reason,
				      f->alert ? "ALERT" : "info", f->ticket[0] ? " " : "",
				      f->ticket);
	}
	return out;
}

static unsigned holding(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < n_found; i++)
		n += !found[i].fired;
	return n;
}

START_TEST(test_fg_deploy_compare_sequence)
{
	run("seq-01-baseline.json", "secure.json");
	ck_assert_str_eq(fired(), "");
	ck_assert(next.slot[FG_SLOT_BOOTED].present);
	ck_assert_str_eq(next.newest_booted.digest, A);

	run("seq-02-staged.json", "secure.json");
	ck_assert_str_eq(fired(), "deployment-staged staged approved info CHG-1001 rollout wave 2");
	run("seq-02-staged.json", "secure.json");
	ck_assert_str_eq(fired(), "");

	run("seq-03-rebooted.json", "secure.json");
	ck_assert_str_eq(fired(), "booted-changed booted approved info CHG-1001 rollout wave 2");
	ck_assert_str_eq(next.newest_booted.digest, B);

	run("seq-04-rollback-queued.json", "secure.json");
	ck_assert_str_eq(fired(), "rollback-queued rollback queued ALERT");
	ck_assert_str_eq(found[0].dep.digest, A);
	run("seq-04-rollback-queued.json", "secure.json");
	ck_assert_str_eq(fired(), "");
	ck_assert_uint_eq(holding(), 1);

	run("seq-05-rolled-back.json", "secure.json");
	ck_assert_str_eq(fired(), "booted-changed booted approved info CHG-1000\n"
				  "downgrade booted older-than-booted ALERT");
	/* the newest build booted stays the newest */
	ck_assert_str_eq(next.newest_booted.digest, B);

	run("seq-06-downgrade-staged.json", "secure.json");
	ck_assert_str_eq(fired(), "deployment-staged staged not-approved ALERT\n"
				  "downgrade staged older-than-min-timestamp ALERT\n"
				  "downgrade staged older-than-booted ALERT\n"
				  "image-unapproved staged not-approved ALERT");
	/* the booted downgrade still holds, and is not reported again */
	ck_assert_uint_eq(holding(), 1);

	run("seq-07-unapproved.json", "secure.json");
	ck_assert_str_eq(fired(), "deployment-staged staged not-approved ALERT\n"
				  "image-switched spec not-in-images ALERT\n"
				  "image-unapproved spec not-in-images ALERT\n"
				  "image-unapproved staged not-in-images ALERT\n"
				  "image-unapproved staged not-approved ALERT\n"
				  "signature-not-enforced spec insecure ALERT");

	run("seq-08-usroverlay.json", "secure.json");
	ck_assert_str_eq(fired(), "image-switched spec in-images info\n"
				  "usr-overlay host transient ALERT");
	run("seq-08-usroverlay.json", "secure.json");
	ck_assert_str_eq(fired(), "");
	ck_assert_uint_eq(holding(), 2);
}
END_TEST

/* Found by fuzz_bootc: at the baseline a staged build older than the booted
 * one is a downgrade already, not only from the second run on. */
START_TEST(test_fg_deploy_compare_baseline_staged_downgrade)
{
	run("seq-06-downgrade-staged.json", "secure.json");
	ck_assert_str_eq(fired(), "deployment-staged staged not-approved ALERT\n"
				  "downgrade staged older-than-min-timestamp ALERT\n"
				  "downgrade staged older-than-booted ALERT\n"
				  "image-unapproved staged not-approved ALERT");
	run("seq-06-downgrade-staged.json", "secure.json");
	ck_assert_str_eq(fired(), "");
}
END_TEST

START_TEST(test_fg_deploy_compare_signature_policy)
{
	run("seq-01-baseline.json", "insecure-default.json");
	ck_assert_str_eq(fired(), "signature-not-enforced spec policy-accepts-unsigned ALERT");
	ck_assert_ptr_nonnull(strstr(found[0].message, "default: insecureAcceptAnything"));
	/* fixed: the finding clears; weakened again: it fires again */
	run("seq-01-baseline.json", "secure.json");
	ck_assert_str_eq(fired(), "");
	ck_assert_uint_eq(n_found, 0);
	run("seq-01-baseline.json", "docker-override.json");
	ck_assert_str_eq(fired(), "");
	run("seq-01-baseline.json", "repo-weakened.json");
	ck_assert_str_eq(fired(), "signature-not-enforced spec policy-accepts-unsigned ALERT");
	/* an unparseable policy makes containers/image refuse pulls: not this */
	run("seq-01-baseline.json", "not-json.json");
	ck_assert_uint_eq(n_found, 0);
	/* require_signature = no turns the finding off */
	cfg.deployments.require_signature = false;
	run("seq-01-baseline.json", "insecure-default.json");
	ck_assert_uint_eq(n_found, 0);
}
END_TEST

START_TEST(test_fg_deploy_compare_allowances)
{
	cfg.deployments.allow_rollback = true;
	cfg.deployments.allow_usroverlay = true;
	run("seq-04-rollback-queued.json", "secure.json");
	ck_assert_str_eq(fired(), "");
	run("seq-08-usroverlay.json", "secure.json");
	/* a reboot into A below B, booted before: still a downgrade */
	ck_assert_str_eq(fired(), "booted-changed booted approved info CHG-1000\n"
				  "downgrade booted older-than-booted ALERT");
}
END_TEST

START_TEST(test_fg_deploy_compare_without_policy)
{
	struct fg_deploy_input in = {.cfg = &cfg.deployments};

	/* no images, no approved list: staged and booted changes still alert */
	for (unsigned i = 0; i < cfg.deployments.images.n; i++)
		free(cfg.deployments.images.v[i]);
	cfg.deployments.images.n = 0;
	cfg.deployments.has_min_timestamp = false;
	load_host("seq-02-staged.json");
	ck_assert_int_eq(
	    fg_deploy_compare(&host, &in, &prev, &next, found, FG_FINDINGS_MAX, &n_found), 0);
	ck_assert_str_eq(fired(), "deployment-staged staged not-approved ALERT");
	ck_assert(!found[0].approved);
	/* a finding points at its caller's memory: the logger formats it at
	 * once rather than packing it for later */
	{
		struct fg_event ev = {.action = found[0].action, .finding = &found[0]};

		ck_assert_uint_eq(fg_logpack_size(&ev), 0);
		ev.finding = NULL;
		ck_assert_uint_gt(fg_logpack_size(&ev), 0);
	}
	/* room for one finding only: the rest are counted as left out */
	load_host("seq-07-unapproved.json");
	ck_assert_int_eq(fg_deploy_compare(&host, &in, &next, &prev, found, 1, &n_found), -E2BIG);
	ck_assert_uint_eq(n_found, 1);
}
END_TEST

START_TEST(test_fg_approved_load_errors)
{
	struct fg_approved a;
	const char *p;

	p = put("bad1", "sha256:ok 1\nnot-a-digest T-1\n");
	ck_assert_int_eq(fg_approved_load(p, &a, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "bad1:2: 'not-a-digest' is not a digest"), "%s", err);
	ck_assert_uint_eq(a.n, 0);
	p = put("bad2", "sha256:aa\nsha256:aa again\n");
	ck_assert_int_eq(fg_approved_load(p, &a, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "bad2:2: sha256:aa is listed twice"), "%s", err);
	p = put("bad3", "SHA256:aa\n");
	ck_assert_int_eq(fg_approved_load(p, &a, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(fg_approved_load("/nonexistent/approved", &a, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	p = put("ok", "  # indented comment\n\nsha256:aa\r\nsha512:bb   T-9  \n");
	ck_assert_int_eq(fg_approved_load(p, &a, err, sizeof(err)), 0);
	ck_assert_uint_eq(a.n, 2);
	ck_assert_str_eq(fg_approved_find(&a, "sha256:aa")->ticket, "");
	ck_assert_str_eq(fg_approved_find(&a, "sha512:bb")->ticket, "T-9");
	ck_assert_ptr_null(fg_approved_find(&a, "sha256:bb"));
	ck_assert_ptr_null(fg_approved_find(&a, ""));
	fg_approved_free(&a);
}
END_TEST

START_TEST(test_fg_deploy_state_round_trip)
{
	char path[PATH_MAX];
	static struct fg_deploy_state back;

	run("seq-02-staged.json", "insecure-default.json");
	snprintf(path, sizeof(path), "%s/state/deployments.json", tmpdir);
	/* the directory is made when missing */
	ck_assert_int_eq(fg_deploy_state_save(path, &next), 0);
	ck_assert_int_eq(fg_deploy_state_load(path, &back, err, sizeof(err)), 0);
	ck_assert(back.present);
	ck_assert_str_eq(back.slot[FG_SLOT_STAGED].digest, B);
	ck_assert_int_eq(back.slot[FG_SLOT_STAGED].timestamp, 1770710400);
	ck_assert(!back.slot[FG_SLOT_ROLLBACK].present);
	ck_assert_str_eq(back.spec.signature, "containerPolicy");
	ck_assert_str_eq(back.newest_booted.digest, A);
	ck_assert_uint_eq(back.n_active, next.n_active);
	ck_assert_uint_gt(back.n_active, 0);
	ck_assert_str_eq(back.active[0], next.active[0]);
	/* what was loaded compares as what was saved: nothing fires again */
	prev = back;
	run("seq-02-staged.json", "insecure-default.json");
	ck_assert_str_eq(fired(), "");
	ck_assert_int_eq(fg_deploy_state_load("/nonexistent/x.json", &back, err, sizeof(err)),
			 -ENOENT);
	ck_assert_int_eq(unlink(path), 0);
	*strrchr(path, '/') = '\0';
	ck_assert_int_eq(rmdir(path), 0);
}
END_TEST

START_TEST(test_fg_deploy_state_save_atomic)
{
	char path[PATH_MAX], dir[PATH_MAX], cmd[PATH_MAX + 64];
	struct stat a, b;
	static struct fg_deploy_state back;
	FILE *f;

	snprintf(path, sizeof(path), "%s/deployments.json", tmpdir);
	put("deployments.json", "old content\n");
	ck_assert_int_eq(stat(path, &a), 0);
	run("seq-03-rebooted.json", "secure.json");
	ck_assert_int_eq(fg_deploy_state_save(path, &next), 0);
	/* replaced by rename: a new inode, mode 0640, no temporary left */
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_uint_ne(a.st_ino, b.st_ino);
	ck_assert_uint_eq(b.st_mode & 07777, 0640);
	snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -c tmp", tmpdir);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fgetc(f), '0');
	pclose(f);
	/* a save that cannot land leaves the old state whole, and no temporary */
	snprintf(dir, sizeof(dir), "%s/dir.json", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	put("dir.json/x", "x");
	ck_assert_int_lt(fg_deploy_state_save(dir, &next), 0);
	f = popen(cmd, "r");
	ck_assert_int_eq(fgetc(f), '0');
	pclose(f);
	unlink(path);
	ck_assert_int_eq(fg_deploy_state_save(path, &next), 0);
	ck_assert_int_eq(fg_deploy_state_load(path, &back, err, sizeof(err)), 0);
	ck_assert_str_eq(back.slot[FG_SLOT_BOOTED].digest, B);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	/* a file that is not our state is an error, never taken as empty */
	ck_assert_int_eq(
	    fg_deploy_state_load(put("junk.json", "{\"version\":2}"), &back, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bad version"));
	ck_assert_int_eq(fg_deploy_state_load(put("junk2.json", "{"), &back, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a state file"));
}
END_TEST

/* fanguard(8) documents every finding, fanguard.conf(5) every key. */
START_TEST(test_fg_deploy_action_documented)
{
	static const char *const keys[] = {
	    "images",	      "approved",	  "min_timestamp",   "require_signature",
	    "allow_rollback", "allow_usroverlay", "signature_policy"};
	static char page[256 * 1024];
	char want[128];
	size_t n;
	FILE *f;

	f = fopen(FG_SOURCE_DIR "/man/fanguard.8", "re");
	ck_assert_ptr_nonnull(f);
	n = fread(page, 1, sizeof(page) - 1, f);
	fclose(f);
	page[n] = '\0';
	for (unsigned i = 0; fg_deploy_action(i); i++) {
		/* roff spells a hyphen \- */
		size_t k = 0;

		for (const char *c = fg_deploy_action(i); *c && k < sizeof(want) - 3; c++) {
			if (*c == '-')
				want[k++] = '\\';
			want[k++] = *c;
		}
		want[k] = '\0';
		ck_assert_msg(strstr(page, want), "fanguard(8) does not name %s",
			      fg_deploy_action(i));
	}
	ck_assert_uint_eq(fg_deploy_action(8) == NULL, 1);
	f = fopen(FG_SOURCE_DIR "/man/fanguard.conf.5", "re");
	ck_assert_ptr_nonnull(f);
	n = fread(page, 1, sizeof(page) - 1, f);
	fclose(f);
	page[n] = '\0';
	for (size_t i = 0; i < FG_ARRAY_SIZE(keys); i++) {
		snprintf(want, sizeof(want), ".BI %s \" = \"", keys[i]);
		ck_assert_msg(strstr(page, want), "fanguard.conf(5) does not document %s", keys[i]);
	}
}
END_TEST

static Suite *deployments_suite(void)
{
	Suite *s = suite_create("deployments");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fg_deploy_compare_sequence);
	tcase_add_test(tc, test_fg_deploy_compare_baseline_staged_downgrade);
	tcase_add_test(tc, test_fg_deploy_compare_signature_policy);
	tcase_add_test(tc, test_fg_deploy_compare_allowances);
	tcase_add_test(tc, test_fg_deploy_compare_without_policy);
	tcase_add_test(tc, test_fg_approved_load_errors);
	tcase_add_test(tc, test_fg_deploy_state_round_trip);
	tcase_add_test(tc, test_fg_deploy_state_save_atomic);
	tcase_add_test(tc, test_fg_deploy_action_documented);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(deployments_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
