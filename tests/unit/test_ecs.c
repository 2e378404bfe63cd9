/* The event schema against ECS: one event of every action the schema table
 * knows (and so, through tests/schema/ecs_check.py, of every action the
 * sources emit), in each of its decisions and outcomes, with a writer read
 * from /proc for real, one that was only partly read and one that was gone,
 * a 300-deep hostile one, formatted by the real formatter as a JSON line and
 * as a journal MESSAGE, and checked field by field against
 * ../shared/ecs/fields.csv. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanguard/deployments.h"
#include "fanguard/logagg.h"
#include "fanguard/logfmt.h"
#include "fanguard/logschema.h"
#include "fanguard/util.h"
#include "logfix.h"

#define TMPDIR_PREFIX "/tmp/fg-ecs"
#include "tmpdir.h"

struct out {
	FILE *f;
	struct fg_loghost host;
	uint64_t seq;
	unsigned lines;
};

static char buf[FG_RECORD_CAP];
static struct fg_proc *real, *partial, *gone, *deep;
static char hostile[PATH_MAX];

/* The JSON line and the journal's MESSAGE of ev, at max_line. */
static void emit_at(struct out *o, const struct fg_event *in, size_t max_line)
{
	struct fg_event ev = *in;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ev.when);
	ev.sequence = ++o->seq;
	n = fg_log_format(&o->host, &ev, FG_FMT_JSON, max_line, buf);
	ck_assert_uint_le(n, max_line);
	ck_assert_uint_eq(fwrite(buf, 1, n, o->f), n);
	n = fg_log_format_journal(&o->host, &ev, max_line, buf, sizeof(buf));
	ck_assert_uint_gt(n, 0);
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (!strncmp(buf + i, "MESSAGE=", 8))
			ck_assert_int_ge(fprintf(o->f, "%s\n", buf + i + 8), 0);
	o->lines += 2;
}

static void emit(struct out *o, const struct fg_event *ev)
{
	emit_at(o, ev, FG_MAX_LINE_DEFAULT);
}

/* A decision about a file by each kind of writer. */
static void writer_events(struct out *o, struct fg_event ev, const char *const *decisions)
{
	const struct fg_proc *procs[] = {real, partial, gone};

	for (const char *const *d = decisions; *d; d++) {
		ev.decision = *d;
		ev.outcome = !strcmp(*d, "deny") ? "failure" : "success";
		ev.reason = !strcmp(*d, "allow") ? "rule" : "no-rule";
		ev.rule = !strcmp(*d, "allow") ? "editors" : NULL;
		for (size_t i = 0; i < FG_ARRAY_SIZE(procs); i++) {
			ev.proc = procs[i];
			ev.proc_partial = procs[i] != real;
			emit(o, &ev);
		}
	}
	/* The worst line: 300 deep, hostile names, at the smallest max_line. */
	ev.proc = deep;
	ev.path = hostile;
	ev.old_path = ev.old_path ? hostile : NULL;
	emit(o, &ev);
	emit_at(o, &ev, FG_MAX_LINE_MIN);
}

/* Issue 11: an allow that verification took away is an alert naming what
 * was claimed and found; an allowed line says how the writer was known. */
static void identity_events(struct out *o, struct fg_event ev)
{
	struct fg_proc *p = malloc(sizeof(*p));

	ck_assert_ptr_nonnull(p);
	memcpy(p, real, sizeof(*p));
	p->finding.problem = FG_IDP_EXE_UNMAPPED;
	p->finding.who = -1;
	snprintf(p->finding.detail, sizeof(p->finding.detail), "(anonymous)");
	p->trust.dig = FG_DIG_SHA256;
	memset(p->trust.sha256, 0xab, sizeof(p->trust.sha256));
	ev.proc = p;
	ev.message = NULL;
	ev.decision = "deny";
	ev.outcome = "failure";
	ev.reason = "exe-unverified";
	ev.identity_alert = true;
	emit(o, &ev);
	p->finding.problem = FG_IDP_NONE;
	p->finding.method = FG_METHOD_SHA256;
	ev.decision = "allow";
	ev.outcome = "success";
	ev.reason = "rule";
	ev.rule = "pinned";
	ev.identity_alert = false;
	emit(o, &ev);
	free(p);
}

static void file_event(struct out *o, const char *action)
{
	static const char *const decided[] = {"allow", "deny", "would-deny", NULL};
	static const char *const noticed[] = {"allow", "detected", NULL};
	static const char *const allowed[] = {"allow", NULL};
	struct fg_event ev = {.action = action,
			      .mode = "enforce",
			      .subtree = "sudoers",
			      .key = "priv_esc_persist",
			      .path = "/etc/sudoers.d/90-x"};

	if (!strcmp(action, "open-write")) {
		ev.has_open = true;
		ev.open_flags = 0x241;
		ev.open_syscall = "openat";
		writer_events(o, ev, decided);
		ev.open_syscall = NULL;
		ev.open_nr = 999;
		ev.message = "write intent could not be read; unknown_intent applied";
		writer_events(o, ev, decided);
		identity_events(o, ev);
		/* an admin allowed by her login uid: the headline (issue 14) */
		ev.open_syscall = "openat";
		ev.open_nr = 0;
		ev.rule = "admins";
		ev.message = "auid 1000: allowed by writer rule admins (/usr/bin/vim.basic)";
		writer_events(o, ev, allowed);
		ev.rule = NULL;
		/* an attack on the guard itself: event.kind alert (issue 15) */
		ev.message = NULL;
		ev.alert = true;
		ev.subtree = "fanguard-config";
		ev.key = "fanguard_config";
		ev.path = "/etc/fanguard/conf.d/99-x.conf";
		writer_events(o, ev, decided);
		/* in a deployment's etc (twins.h), and in the booted one's */
		ev.alert = false;
		ev.subtree = "sudoers";
		ev.key = "priv_esc_persist";
		ev.path = "/sysroot/ostree/deploy/fedora/deploy/0123abcd.1/etc/sudoers.d/90-x";
		ev.has_deployment = true;
		ev.dep_id = "0123abcd.1";
		ev.dep_stateroot = "fedora";
		writer_events(o, ev, decided);
		ev.dep_stateroot = NULL;
		ev.dep_id = "4567ef";
		ev.dep_booted = true;
		ev.path = "/etc/sudoers.d/90-x";
		writer_events(o, ev, decided);
		return;
	}
	if (!strcmp(action, "rename-in") || !strcmp(action, "rename") ||
	    !strcmp(action, "subtree-moved"))
		ev.old_path = "/etc/sudoers.d/.90-x.tmp";
	if (!strcmp(action, "rename-out"))
		ev.new_path = "/tmp/90-x";
	if (!strcmp(action, "symlink-in"))
		ev.file_type = "symlink";
	if (!strcmp(action, "unguarded-file"))
		ev.message = "was in a directory before it was guarded";
	if (!strcmp(action, "path-too-long")) {
		ev.path = NULL;
		ev.message = "event 0x100 on 'x' in a directory whose path is longer than PATH_MAX";
	}
	writer_events(o, ev, noticed);
	/* The types ECS does not name are in fanguard.file_type only. */
	if (!strcmp(action, "create")) {
		static const char *const types[] = {"file",	   "dir",	   "fifo", "socket",
						    "char-device", "block-device", NULL};
		for (const char *const *t = types; *t; t++) {
			ev.file_type = *t;
			writer_events(o, ev, noticed);
		}
	}
}

static void removed_empty(struct out *o)
{
	struct fg_event ev = {.action = "removed-empty",
			      .outcome = "success",
			      .decision = "deny",
			      .reason = "no-rule",
			      .mode = "enforce",
			      .subtree = "sudoers",
			      .key = "priv_esc_persist",
			      .path = "/etc/sudoers.d/evil",
			      .message = "removed the empty file left by a denied create"};

	ev.proc = gone;
	emit(o, &ev);
	ev.proc = real;
	emit(o, &ev);
	/* the denied opener as the answering thread copied it */
	ev.proc = partial;
	ev.proc_partial = true;
	ev.file_type = "file";
	emit(o, &ev);
}

static void daemon_event(struct out *o, const char *action)
{
	static const char *const outcomes[] = {"success", "failure", "unknown"};
	struct fg_event ev = {.action = action, .mode = "enforce", .message = "words"};

	for (size_t i = 0; i < FG_ARRAY_SIZE(outcomes); i++) {
		ev.outcome = outcomes[i];
		emit(o, &ev);
	}
}

static void transaction_end(struct out *o)
{
	struct fg_event ev = {.action = "transaction-end",
			      .outcome = "success",
			      .reason = "transaction",
			      .count = 41,
			      .tx_pid = 2000,
			      .tx_exe = "/usr/bin/bootc"};

	emit(o, &ev);
}

/* A run's summary, and an allowed write that names its run. */
static void run_end(struct out *o)
{
	struct fg_run_end r = {.id = "4242-12345",
			       .rule = "admin",
			       .files = 2,
			       .duration_ms = 1500,
			       .first = "/etc/sudoers.d/a",
			       .last = "/etc/ssh/sshd_config.d/\xff\"b",
			       .lone_sensitive = true,
			       .n_per = 2};
	struct fg_event ev = {.action = "run-end", .outcome = "success", .rule = "admin",
			      .run_end = &r, .message = "worth a look"};

	r.per[0].key = "priv_esc_persist", r.per[0].subtree = "sudoers", r.per[0].files = 1;
	r.per[1].key = "ssh_persist", r.per[1].subtree = "sshd", r.per[1].files = 1;
	emit(o, &ev);
}

static void log_dropped(struct out *o)
{
	struct fg_lost l = {.count = 7, .first = 3, .last = 12, .n = 2};
	struct fg_event ev = {
	    .action = "log-dropped", .outcome = "failure", .count = 7, .lost = &l, .message = "m"};

	l.r[0].from = 3, l.r[0].to = 8;
	l.r[1].from = 12, l.r[1].to = 12;
	emit(o, &ev);
}

static void heartbeat(struct out *o)
{
	struct fg_heartbeat hb = {.mode = "enforce", .generation = 2, .marks = 40};
	struct fg_counters d = {.denied = 3, .read_allowed = 1000};
	struct fg_hbline line = {
	    .hb = &hb, .delta = &d, .interval_s = 3600, .lines = 12, .last_sequence = 99};
	struct fg_event ev = {.action = "heartbeat", .outcome = "success", .heartbeat = &line};

	emit(o, &ev);
	line.hb = NULL;
	line.delta = NULL;
	emit(o, &ev);
}

/* A real window of the aggregator, denials and allows. */
static void repeated(struct out *o)
{
	static const char *const decisions[] = {"deny", "allow", "would-deny"};
	struct fg_logagg *a = fg_logagg_new(2, 1000000000ULL);
	struct fg_event ev = {.action = "open-write",
			      .outcome = "failure",
			      .reason = "no-rule",
			      .mode = "enforce",
			      .subtree = "sudoers",
			      .key = "priv_esc_persist",
			      .proc = real},
			sum;
	char path[64];
	unsigned got = 0;

	ck_assert_ptr_nonnull(a);
	for (size_t d = 0; d < FG_ARRAY_SIZE(decisions); d++) {
		ev.decision = decisions[d];
		for (int i = 0; i < 6; i++) {
			snprintf(path, sizeof(path), "/etc/sudoers.d/r%zu-%d", d, i);
			ev.path = path;
			clock_gettime(CLOCK_REALTIME, &ev.when);
			fg_logagg_admit(a, &ev, 10);
		}
	}
	while (fg_logagg_due(a, 10, true, &sum)) {
		ck_assert_str_eq(sum.action, "repeated");
		emit(o, &sum);
		got++;
	}
	ck_assert_uint_eq(got, 3);
	fg_logagg_free(a);
}

/* A finding of `fanguard deployments`, as an alert and as information. */
static void deployment_event(struct out *o, const char *action)
{
	struct fg_finding f = {.action = action, .slot = "staged", .reason = "not-approved"};
	struct fg_event ev = {.action = action, .outcome = "success", .reason = f.reason};

	f.dep = (struct fg_deploy_mem){.present = true,
				       .digest = "sha256:0123456789abcdef",
				       .image = "quay.io/example/os:stable",
				       .transport = "registry",
				       .version = "42.1",
				       .has_timestamp = true,
				       .timestamp = 1770710400,
				       .signature = "containerPolicy"};
	snprintf(f.message, sizeof(f.message), "a finding");
	ev.message = f.message;
	ev.finding = &f;
	ev.decision = "detected";
	f.alert = true;
	emit(o, &ev);
	ev.decision = NULL;
	f.alert = false;
	f.approved = true;
	snprintf(f.ticket, sizeof(f.ticket), "CHG-1001");
	emit(o, &ev);
	/* a host-wide finding with no deployment to name */
	f.slot = NULL;
	f.dep.present = false;
	emit(o, &ev);
}

static void deployment_status(struct out *o)
{
	struct fg_finding f = {.action = "deployment-status", .slot = "booted"};
	struct fg_event ev = {.action = "deployment-status", .outcome = "success", .finding = &f};

	f.dep =
	    (struct fg_deploy_mem){.present = true, .digest = "sha256:01", .image = "quay.io/x"};
	ev.message = "booted deployment recorded";
	emit(o, &ev);
	ev.finding = NULL;
	ev.outcome = "failure";
	ev.message = "status.booted.image.imageDigest: missing";
	emit(o, &ev);
}

/* The signature policy judged after a write, by an allowed writer and by
 * one that is gone: enforced, weakened, unparseable. */
static void signature_policy(struct out *o)
{
	static struct fg_sigpolicy_verdict v;
	const char *img[] = {"quay.io/example/os:*"};
	struct fg_sigpolicy_cfg sc = {.images = img, .n_images = 1};
	const char *good = "{\"default\":[{\"type\":\"reject\"}]}";
	const char *weak = "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}";
	struct fg_event ev = {.action = "signature-policy",
			      .mode = "enforce",
			      .subtree = "containers-policy",
			      .key = "supply_chain",
			      .path = "/etc/containers/policy.json",
			      .sigpolicy = &v,
			      .sigpolicy_trigger = "write",
			      .proc = real};

	ck_assert_int_eq(fg_sigpolicy_eval(good, strlen(good), &sc, &v), 0);
	ev.outcome = "success";
	ev.message = "signature policy enforced";
	emit(o, &ev);
	ck_assert_int_eq(fg_sigpolicy_eval(weak, strlen(weak), &sc, &v), 0);
	ev.decision = "detected";
	ev.reason = "weakened";
	ev.sigpolicy_changes = "default: reject -> insecureAcceptAnything";
	emit(o, &ev);
	ev.proc = gone;
	emit(o, &ev);
	ck_assert_int_eq(fg_sigpolicy_eval("{", 1, &sc, &v), 0);
	ev.decision = NULL;
	ev.outcome = "failure";
	ev.reason = NULL;
	ev.sigpolicy_trigger = "start";
	emit(o, &ev);
}

static void build_writers(void)
{
	real = calloc(1, sizeof(*real));
	partial = calloc(1, sizeof(*partial));
	gone = calloc(1, sizeof(*gone));
	deep = make_proc();
	ck_assert(real && partial && gone);
	ck_assert_int_eq(fg_proc_resolve(getpid(), real), 0);
	ck_assert_uint_eq(real->known & ~FG_PROC_ANCESTRY, FG_PROC_ALL & ~FG_PROC_ANCESTRY);
	*partial = *real;
	partial->known = FG_PROC_STAT | FG_PROC_STATUS;
	gone->tid = gone->pid = getpid();
	gone->uid = UINT32_MAX;
	gone->auid = FG_AUID_UNSET;
	hostile_name(hostile, sizeof(hostile));
	fg_strlcpy(deep->exe, hostile, sizeof(deep->exe));
	deep_ancestry(deep, 300);
}

START_TEST(test_fg_log_format_ecs_every_action)
{
	char lines[128], cmd[PATH_MAX * 2];
	struct out o = {0};
	const char *action;
	int rc;

	build_writers();
	ck_assert_int_eq(fg_loghost_read(&o.host), 0);
	snprintf(lines, sizeof(lines), "%s/lines.json", tmpdir);
	o.f = fopen(lines, "we");
	ck_assert_ptr_nonnull(o.f);
	for (unsigned i = 0; (action = fg_log_action(i)); i++) {
		const char *const files[] = {
		    "open-write",  "modify",	      "attrib",		  "rename-in",
		    "link-in",	   "symlink-in",      "subtree-appeared", "unguarded-file",
		    "mount-below", "create",	      "rename",		  "rename-out",
		    "delete",	   "close-write",     "subtree-moved",	  "path-too-long",
		    "writable-fd", "writable-mapping"};
		const char *const daemon[] = {
		    "daemon-start",	  "daemon-stop",      "reload",	  "harden",
		    "status-socket",	  "writer-cache",     "overload", "subtree-replaced",
		    "remark-failed",	  "inode-table-full", "takeover", "fd-store",
		    "deployments-changed"};
		bool done = false;

		for (size_t k = 0; k < FG_ARRAY_SIZE(files); k++)
			if (!strcmp(action, files[k]) && (done = true))
				file_event(&o, action);
		for (size_t k = 0; k < FG_ARRAY_SIZE(daemon); k++)
			if (!strcmp(action, daemon[k]) && (done = true))
				daemon_event(&o, action);
		if (!strcmp(action, "removed-empty") && (done = true))
			removed_empty(&o);
		if (!strcmp(action, "transaction-end") && (done = true))
			transaction_end(&o);
		if (!strcmp(action, "log-dropped") && (done = true))
			log_dropped(&o);
		if (!strcmp(action, "run-end") && (done = true))
			run_end(&o);
		if (!strcmp(action, "heartbeat") && (done = true))
			heartbeat(&o);
		if (!strcmp(action, "repeated") && (done = true))
			repeated(&o);
		for (unsigned k = 0; fg_deploy_action(k); k++)
			if (!strcmp(action, fg_deploy_action(k)) && (done = true))
				deployment_event(&o, action);
		if (!strcmp(action, "deployment-status") && (done = true))
			deployment_status(&o);
		if (!strcmp(action, "signature-policy") && (done = true))
			signature_policy(&o);
		if (!done)
			ck_abort_msg("action '%s' of the schema table has no fixture here", action);
	}
	ck_assert_int_eq(fclose(o.f), 0);
	ck_assert_uint_gt(o.lines, 150);
	snprintf(cmd, sizeof(cmd), "python3 '%s/tests/schema/ecs_check.py' '%s' '%s/src' '%s'",
		 FG_SOURCE_DIR,
		 getenv("FG_ECS_FIELDS") ? getenv("FG_ECS_FIELDS")
					 : FG_SOURCE_DIR "/../shared/ecs/fields.csv",
		 FG_SOURCE_DIR, lines);
	rc = system(cmd);
	ck_assert_msg(rc == 0, "ecs_check.py failed (%d): %s", rc, cmd);
	free(real);
	free(partial);
	free(gone);
	free(deep);
}
END_TEST

static Suite *ecs_suite(void)
{
	Suite *s = suite_create("ecs");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_fg_log_format_ecs_every_action);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ecs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
