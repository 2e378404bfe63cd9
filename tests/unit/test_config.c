/* Unit tests for config: every error with its exact file:line, the default
 * search order, and the shipped policy. Each test works in its own mkdtemp
 * directory, removed by the fixture. */
#include "fanguard/config.h"
#include "fanguard/util.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fg-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes `text` to tmpdir/name and returns the path (static buffer per
 * call slot, so up to sixteen paths may be held at once). */
static const char *put(const char *name, const char *text)
{
	static char bufs[16][PATH_MAX];
	static unsigned slot;
	char *p = bufs[slot++ % 16];
	FILE *f;

	snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return p;
}

static const char *subdir(const char *name)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	return p;
}

/* Does diag hold "path:line: ...needle..."? */
static bool has_diag(const struct fg_diag *d, const char *path, int line, const char *needle)
{
	char prefix[PATH_MAX + 32];

	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	for (unsigned i = 0; i < d->n; i++)
		if (strncmp(d->msg[i], prefix, strlen(prefix)) == 0 && strstr(d->msg[i], needle))
			return true;
	return false;
}

static void dump(const struct fg_diag *d)
{
	for (unsigned i = 0; i < d->n; i++)
		fprintf(stderr, "  diag: %s\n", d->msg[i]);
}

#define ASSERT_DIAG(d, path, line, needle)                                                         \
	do {                                                                                       \
		if (!has_diag(d, path, line, needle))                                              \
			dump(d);                                                                   \
		ck_assert_msg(has_diag(d, path, line, needle), "no '%s:%d: ...%s...'", path, line, \
			      needle);                                                             \
	} while (0)

/* Loads one file's text through fg_config_load; *pathp gets its path. */
static int load_text(const char *text, struct fg_config *cfg, struct fg_diag *diag,
		     const char **pathp)
{
	const char *p = put("t.conf", text);

	memset(diag, 0, sizeof(*diag));
	if (pathp)
		*pathp = p;
	return fg_config_load(cfg, p, diag);
}

/* A one-error file: loading fails, and the error is at line:needle. */
static void expect_error(const char *text, int line, const char *needle)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;
	int r = load_text(text, &cfg, &diag, &p);

	if (r != -EINVAL)
		dump(&diag);
	ck_assert_int_eq(r, -EINVAL);
	ASSERT_DIAG(&diag, p, line, needle);
	ck_assert_uint_eq(cfg.n_subtrees, 0);
	ck_assert_ptr_null(cfg.subtrees);
}

static const char *const full_conf = "# comment\n"
				     "[fanguard]\n"
				     "mode = audit\n"
				     "log = file:/var/log/fanguard.json\n"
				     "log_format = text\n"
				     "status_socket = /run/fg.sock\n"
				     "status_group = wheel\n"
				     "on_error = allow\n"
				     "unknown_intent = read\n"
				     "on_overload = deny\n"
				     "\n"
				     "[subtree sudoers]\n"
				     "path = /etc/sudoers.d\n"
				     "key = priv_esc_persist\n"
				     "recursive = no\n"
				     "mode = enforce\n"
				     "mark = inode\n"
				     "[subtree cron]\n"
				     "path = /etc/cron.d\n"
				     "optional = yes\n"
				     "[writer agent]\n"
				     "exe = /usr/bin/python3* /usr/bin/agent\n"
				     "comm = agent*\n"
				     "uid = 0 42\n"
				     "auid = unset 1000 *\n"
				     "ancestor = /usr/bin/agentd\n"
				     "parent = /usr/bin/sh\n"
				     "cgroup = /system.slice/agent.service\n"
				     "subtrees = sudoers cron\n"
				     "quiet = yes\n"
				     "[writer all]\n"
				     "uid = 7\n"
				     "subtrees = *\n"
				     "[transaction]\n"
				     "exe = /usr/bin/bootc /usr/bin/ostree\n"
				     "uid = 0\n"
				     "cgroup = /system.slice/bootc-fetch-apply-updates.service\n";

START_TEST(test_fg_config_load_full)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const struct fg_writer_cfg *w;

	ck_assert_int_eq(load_text(full_conf, &cfg, &diag, NULL), 0);
	ck_assert_uint_eq(diag.n, 0);
	ck_assert_int_eq(cfg.mode, FG_MODE_AUDIT);
	ck_assert_int_eq(cfg.log, FG_SINK_FILE);
	ck_assert_str_eq(cfg.log_path, "/var/log/fanguard.json");
	ck_assert_int_eq(cfg.log_format, FG_FMT_TEXT);
	ck_assert_str_eq(cfg.status_socket, "/run/fg.sock");
	ck_assert_str_eq(cfg.status_group, "wheel");
	ck_assert_int_eq(cfg.on_error, FG_FAIL_ALLOW);
	ck_assert_int_eq(cfg.unknown_intent, FG_UNKNOWN_READ);
	ck_assert_int_eq(cfg.on_overload, FG_OVERLOAD_DENY);

	ck_assert_uint_eq(cfg.n_subtrees, 2); /* no auto subtree with an explicit path */
	ck_assert_str_eq(cfg.subtrees[0].name, "sudoers");
	ck_assert_str_eq(cfg.subtrees[0].path, "/etc/sudoers.d");
	ck_assert_str_eq(cfg.subtrees[0].key, "priv_esc_persist");
	ck_assert(!cfg.subtrees[0].recursive);
	ck_assert_int_eq(cfg.subtrees[0].mode, FG_MODE_ENFORCE);
	ck_assert_int_eq(cfg.subtrees[0].mark, FG_MARK_INODE);
	ck_assert_int_eq(cfg.subtrees[0].where.file, 0);
	ck_assert_int_eq(cfg.subtrees[0].where.line, 12);
	ck_assert_str_eq(cfg.subtrees[1].key, "cron");
	ck_assert(cfg.subtrees[1].recursive);
	ck_assert_int_eq(cfg.subtrees[1].mode, FG_MODE_INHERIT);
	ck_assert_int_eq(cfg.subtrees[1].mark, FG_MARK_INODE);
	ck_assert(!cfg.subtrees[0].optional);
	ck_assert(cfg.subtrees[1].optional);

	ck_assert_uint_eq(cfg.n_writers, 2);
	w = &cfg.writers[0];
	ck_assert_str_eq(w->name, "agent");
	ck_assert_int_eq(w->where.line, 21);
	ck_assert_uint_eq(w->exe.n, 2);
	ck_assert_str_eq(w->exe.v[0], "/usr/bin/python3*");
	ck_assert_str_eq(w->exe.v[1], "/usr/bin/agent");
	ck_assert_str_eq(w->comm.v[0], "agent*");
	ck_assert_uint_eq(w->uid.n, 2);
	ck_assert_uint_eq(w->uid.v[1], 42);
	ck_assert_uint_eq(w->auid.n, 2);
	ck_assert_uint_eq(w->auid.v[0], FG_AUID_UNSET);
	ck_assert_uint_eq(w->auid.v[1], 1000);
	ck_assert(w->auid.any);
	ck_assert_str_eq(w->ancestor.v[0], "/usr/bin/agentd");
	ck_assert_str_eq(w->parent.v[0], "/usr/bin/sh");
	ck_assert_str_eq(w->cgroup.v[0], "/system.slice/agent.service");
	ck_assert_uint_eq(w->subtrees.n, 2);
	ck_assert_str_eq(w->subtrees.v[1], "cron");
	ck_assert_int_eq(w->subtrees_where.line, 29);
	ck_assert(w->quiet);
	ck_assert_uint_eq(cfg.writers[1].subtrees.n, 0); /* "*" */
	ck_assert(!cfg.writers[1].quiet);

	ck_assert(cfg.transaction.present);
	ck_assert_int_eq(cfg.transaction.where.line, 34);
	ck_assert_uint_eq(cfg.transaction.exe.n, 2);
	ck_assert_str_eq(cfg.transaction.exe.v[1], "/usr/bin/ostree");
	ck_assert_uint_eq(cfg.transaction.uid.v[0], 0);
	ck_assert_str_eq(cfg.transaction.cgroup.v[0],
			 "/system.slice/bootc-fetch-apply-updates.service");
	ck_assert(cfg.trusted_files & 1); /* a file named alone is the image's */
	ck_assert_uint_eq(cfg.n_files, 1);
	fg_config_free(&cfg);
	ck_assert_ptr_null(cfg.subtrees);
	ck_assert_uint_eq(cfg.n_files, 0);
}
END_TEST

START_TEST(test_fg_config_init_defaults)
{
	struct fg_config cfg;

	fg_config_init(&cfg);
	ck_assert_int_eq(cfg.mode, FG_MODE_ENFORCE);
	ck_assert_int_eq(cfg.log, FG_SINK_STDERR);
	ck_assert_int_eq(cfg.log_format, FG_FMT_JSON);
	ck_assert_str_eq(cfg.status_socket, FG_STATUS_SOCKET_DEFAULT);
	ck_assert_str_eq(cfg.status_group, "");
	ck_assert_int_eq(cfg.on_error, FG_FAIL_DENY);
	ck_assert_int_eq(cfg.unknown_intent, FG_UNKNOWN_WRITE);
	ck_assert_int_eq(cfg.on_overload, FG_OVERLOAD_DENY_WRITES);
	ck_assert_int_eq(cfg.on_daemon_exit, FG_ONEXIT_RELEASE);
	ck_assert_uint_eq(cfg.max_line, 7500);
	ck_assert_uint_eq(cfg.repeat_threshold, 20);
	ck_assert_uint_eq(cfg.repeat_window, 10);
	ck_assert_uint_eq(cfg.heartbeat_interval, 3600);
	ck_assert(!cfg.transaction.present);
	ck_assert_int_eq(cfg.transaction.scope, FG_TX_SCOPE_DEPLOYMENTS);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_file_unknown_key)
{
	expect_error("[subtree a]\npath = /etc/a\nfoo = 1\n", 3,
		     "unknown key 'foo' in [subtree a]");
	expect_error("[fanguard]\n\nverbose = yes\n", 3, "unknown key 'verbose' in [fanguard]");
	expect_error("[transaction]\nexe = /usr/bin/x\nquiet = yes\n", 3,
		     "unknown key 'quiet' in [transaction]");
	expect_error("mode = audit\n", 1, "outside any section");
}
END_TEST

START_TEST(test_fg_config_transaction_scope)
{
	expect_error("[transaction]\nexe = /usr/bin/x\nscope = running\n", 3,
		     "scope: 'running' is not one of deployments, all");
	expect_error("[transaction]\nuid = 0\n", 1, "[transaction] has no exe");
	/* a later section may say only the scope (a drop-in does so) */
	struct fg_config cfg;
	struct fg_diag diag;

	ck_assert_int_eq(load_text("[transaction]\nexe = /usr/bin/bootc\n"
				   "[transaction]\nscope = all\n",
				   &cfg, &diag, NULL),
			 0);
	ck_assert_int_eq(cfg.transaction.scope, FG_TX_SCOPE_ALL);
	ck_assert_uint_eq(cfg.transaction.exe.n, 1);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_file_duplicate_key)
{
	expect_error("[subtree a]\npath = /etc/a\nkey = x\nkey = y\n", 4,
		     "duplicate key 'key' in [subtree a] (first at line 3)");
	expect_error("[writer w]\nuid = 0\nuid = 1\n", 3, "duplicate key 'uid'");
}
END_TEST

START_TEST(test_fg_config_load_file_duplicate_subtree)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *a = put("a.conf", "[subtree a]\npath = /etc/a\n");
	const char *b = put("b.conf", "\n[subtree b]\npath = /etc/b\n[subtree a]\npath = /etc/c\n");
	char msg[PATH_MAX + 64];

	expect_error("[subtree a]\npath = /etc/a\n\n[subtree a]\npath = /etc/b\n", 4,
		     "subtree 'a' already defined at ");
	fg_config_init(&cfg);
	ck_assert_int_eq(fg_config_load_file(&cfg, a, &diag), 0);
	ck_assert_int_eq(fg_config_load_file(&cfg, b, &diag), -EINVAL);
	snprintf(msg, sizeof(msg), "subtree 'a' already defined at %s:1", a);
	ASSERT_DIAG(&diag, b, 4, msg);
	ck_assert_uint_eq(diag.n, 1);
	ck_assert_uint_eq(cfg.n_subtrees, 2); /* the duplicate is dropped */
	ck_assert_str_eq(cfg.subtrees[0].path, "/etc/a");
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_file_duplicate_writer)
{
	expect_error("[writer w]\nuid = 0\n[writer w]\nuid = 1\n", 3,
		     "writer 'w' already defined at ");
}
END_TEST

START_TEST(test_fg_config_load_file_relative_path)
{
	expect_error("[subtree a]\npath = etc/a\n", 2, "path: 'etc/a' is not an absolute path");
	expect_error("[writer w]\nexe = /usr/bin/a usr/bin/b\n", 2,
		     "'usr/bin/b' is not an absolute");
	expect_error("[writer w]\nuid = 0\nancestor = bash\n", 3, "ancestor: 'bash' is not an abs");
	expect_error("[writer w]\nuid = 0\nparent = sh\n", 3, "parent: 'sh' is not an absolute");
	expect_error("[writer w]\nuid = 0\ncgroup = system.slice\n", 3,
		     "cgroup: 'system.slice' does not start with '/'");
	expect_error("[transaction]\nexe = bootc\n", 2, "exe: 'bootc' is not an absolute path");
	expect_error("[fanguard]\nlog = file:fg.log\n", 2, "log: 'fg.log' is not an absolute");
	expect_error("[fanguard]\nstatus_socket = run/s\n", 2, "is not an absolute path");
}
END_TEST

START_TEST(test_fg_config_load_file_path_not_normalised)
{
	static const char *const bad[] = {"/etc//a",   "/etc/a/", "/etc/./a", "/etc/../a",
					  "/etc/a/..", "/etc/.",  "/"};
	char text[256];

	for (size_t i = 0; i < FG_ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "[subtree a]\npath = %s\n", bad[i]);
		expect_error(text, 2, i == FG_ARRAY_SIZE(bad) - 1 ? "root" : "not normalised");
	}
}
END_TEST

START_TEST(test_fg_config_load_file_path_dots_allowed)
{
	struct fg_config cfg;
	struct fg_diag diag;

	ck_assert_int_eq(
	    load_text("[subtree a]\npath = /etc/.hidden/a..b/...\n", &cfg, &diag, NULL), 0);
	ck_assert_str_eq(cfg.subtrees[0].path, "/etc/.hidden/a..b/...");
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_file_too_long_value)
{
	char text[512], sock[120];

	memset(sock, 'a', sizeof(sock));
	sock[0] = '/';
	sock[108] = '\0'; /* 108 bytes: no room for the NUL in sun_path */
	snprintf(text, sizeof(text), "[fanguard]\nstatus_socket = %s\n", sock);
	expect_error(text, 2, "too long");
}
END_TEST

START_TEST(test_fg_config_load_file_bad_id)
{
	expect_error("[writer w]\nuid = 0 abc\n", 2, "uid: 'abc' is not a number");
	expect_error("[writer w]\nauid = abc\n", 2,
		     "auid: 'abc' is not a number, 'unset', 'admins' or '*'");
	expect_error("[writer w]\nuid = unset\n", 2, "uid: 'unset' is not a number");
	expect_error("[writer w]\nauid = 4294967296\n", 2, "is not a number");
	expect_error("[writer w]\nauid = -1\n", 2, "is not a number");
	expect_error("[transaction]\nexe = /usr/bin/x\nuid = root\n", 3, "uid: 'root'");
}
END_TEST

START_TEST(test_fg_config_load_file_bad_choice)
{
	expect_error("[fanguard]\nmode = permissive\n", 2,
		     "mode: 'permissive' is not one of enforce, audit");
	expect_error("[fanguard]\nmode = inherit\n", 2, "mode: 'inherit'");
	expect_error("[subtree a]\npath = /a\nmode = off\n", 3, "mode: 'off' is not one of");
	expect_error("[subtree a]\npath = /a\nmark = fs\n", 3, "mark: 'fs'");
	expect_error("[fanguard]\nlog = kmsg\n", 2, "log: 'kmsg' is not one of");
	expect_error("[fanguard]\naudit_records = all\n", 2,
		     "audit_records: 'all' is not one of deny, yes, no");
	/* mount marks are gone: in the unit's own mount namespace they saw only
	 * the daemon's copy of the mount */
	expect_error("[subtree a]\npath = /a\nmark = mount\n", 3,
		     "mark: 'mount' is not one of inode");
	expect_error("[fanguard]\nlog_format = xml\n", 2, "log_format: 'xml'");
	expect_error("[fanguard]\non_error = ignore\n", 2, "on_error: 'ignore'");
	expect_error("[fanguard]\nunknown_intent = guess\n", 2, "unknown_intent: 'guess'");
	expect_error("[fanguard]\non_overload = panic\n", 2, "on_overload: 'panic'");
	expect_error("[fanguard]\non_daemon_exit = keep\n", 2,
		     "on_daemon_exit: 'keep' is not one of release, hold");
	expect_error("[fanguard]\nstatus_group = wh/eel\n", 2, "status_group: 'wh/eel'");
	expect_error("[subtree a]\npath = /a\nkey = a b\n", 3, "key: 'a b'");
}
END_TEST

/* Hold mode needs the fd store protocol, which comes with libsystemd. */
START_TEST(test_fg_config_load_file_on_daemon_exit)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;
	int r;

	ck_assert_int_eq(load_text("[fanguard]\non_daemon_exit = release\n[subtree a]\npath = /a\n",
				   &cfg, &diag, NULL),
			 0);
	ck_assert_int_eq(cfg.on_daemon_exit, FG_ONEXIT_RELEASE);
	fg_config_free(&cfg);
	r = load_text("[fanguard]\non_daemon_exit = hold\n[subtree a]\npath = /a\n", &cfg, &diag,
		      &p);
#ifdef FG_HAVE_SYSTEMD
	if (r != 0)
		dump(&diag);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(cfg.on_daemon_exit, FG_ONEXIT_HOLD);
	fg_config_free(&cfg);
#else
	ck_assert_int_eq(r, -EINVAL);
	ASSERT_DIAG(&diag, p, 2, "on_daemon_exit: 'hold' needs fanguardd built with libsystemd");
#endif
}
END_TEST

START_TEST(test_fg_config_load_file_bad_boolean)
{
	expect_error("[subtree a]\npath = /a\nrecursive = maybe\n", 3,
		     "recursive: 'maybe' is not a boolean");
	expect_error("[writer w]\nuid = 0\nquiet = YES\n", 3, "quiet: 'YES' is not a boolean");
}
END_TEST

START_TEST(test_fg_config_load_file_booleans)
{
	static const char *const words[] = {"yes", "no", "true", "false", "1", "0"};
	struct fg_config cfg;
	struct fg_diag diag;
	char text[128];

	for (size_t i = 0; i < FG_ARRAY_SIZE(words); i++) {
		snprintf(text, sizeof(text), "[subtree a]\npath = /a\nrecursive = %s\n", words[i]);
		ck_assert_int_eq(load_text(text, &cfg, &diag, NULL), 0);
		ck_assert_int_eq(cfg.subtrees[0].recursive, i % 2 == 0);
		fg_config_free(&cfg);
	}
}
END_TEST

START_TEST(test_fg_config_load_file_subtree_without_path)
{
	/* detected at the next section and at the end of the file */
	expect_error("[fanguard]\nmode = audit\n[subtree a]\nkey = k\n[subtree b]\npath = /b\n", 3,
		     "subtree 'a' has no path");
	expect_error("[subtree b]\npath = /b\n\n[subtree a]\nrecursive = no\n", 4,
		     "subtree 'a' has no path");
}
END_TEST

START_TEST(test_fg_config_load_file_empty_value)
{
	expect_error("[subtree a]\npath =\n", 2, "empty value for 'path'");
	expect_error("[writer w]\nuid = 0\nexe =   \n", 3, "empty value for 'exe'");
	expect_error("[fanguard]\nmode = \n", 2, "empty value for 'mode'");
}
END_TEST

START_TEST(test_fg_config_load_file_empty_allowed)
{
	struct fg_config cfg;
	struct fg_diag diag;

	ck_assert_int_eq(load_text("[fanguard]\nstatus_group =\n[writer w]\nuid = 0\nsubtrees =\n",
				   &cfg, &diag, NULL),
			 0);
	ck_assert_str_eq(cfg.status_group, "");
	ck_assert_uint_eq(cfg.writers[0].subtrees.n, 0);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_file_writer_no_condition)
{
	expect_error("[writer w]\nquiet = yes\nsubtrees = *\n", 1,
		     "writer 'w' has no condition: it would allow everyone");
	expect_error("[writer w]\n[writer v]\nuid = 0\n", 1, "writer 'w' has no condition");
	/* "*" restricts nothing */
	expect_error("[writer w]\nauid = *\n", 1, "writer 'w' has no condition");
}
END_TEST

START_TEST(test_fg_config_load_file_writer_bad_value_reported_once)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;

	ck_assert_int_eq(load_text("[writer w]\nuid = x\n", &cfg, &diag, &p), -EINVAL);
	ck_assert_uint_eq(diag.n, 1);
	ASSERT_DIAG(&diag, p, 2, "uid: 'x'");
}
END_TEST

START_TEST(test_fg_config_load_file_too_many_items)
{
	char text[1024] = "[writer w]\nuid =";

	for (int i = 0; i <= FG_LIST_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " %d", i);
	strcat(text, "\n");
	expect_error(text, 2, "uid: more than 32 items");
	strcpy(text, "[writer w]\nuid = 0\ncomm =");
	for (int i = 0; i <= FG_LIST_MAX; i++)
		strcat(text, " a");
	strcat(text, "\n");
	expect_error(text, 3, "comm: more than 32 items");
}
END_TEST

START_TEST(test_fg_config_load_file_transaction_appends)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *a = put("a.conf", "[transaction]\nexe = /usr/bin/bootc\n");
	const char *b = put("b.conf", "[transaction]\nexe = /usr/bin/ostree /usr/bin/rpm-ostree\n");

	fg_config_init(&cfg);
	ck_assert_int_eq(fg_config_load_file(&cfg, a, &diag), 0);
	ck_assert_int_eq(fg_config_load_file(&cfg, b, &diag), 0);
	ck_assert_uint_eq(cfg.transaction.exe.n, 3);
	ck_assert_str_eq(cfg.transaction.exe.v[2], "/usr/bin/rpm-ostree");
	ck_assert_int_eq(cfg.transaction.where.file, 0);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_file_transaction_without_exe)
{
	expect_error("[subtree a]\npath = /a\n[transaction]\nuid = 0\n", 3,
		     "[transaction] has no exe");
}
END_TEST

START_TEST(test_fg_config_load_file_unknown_section)
{
	/* keys inside an unknown section are not reported again */
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;
	static const char *const bad[] = {"[global]",	 "[subtree]",  "[subtree a/b]",
					  "[writer ]",	 "[Fanguard]", "[ fanguard ]",
					  "[subtree  a]"};
	char text[128];

	ck_assert_int_eq(load_text("[global]\nfoo = 1\nbar = 2\n", &cfg, &diag, &p), -EINVAL);
	ck_assert_uint_eq(diag.n, 1);
	ASSERT_DIAG(&diag, p, 1, "unknown section [global]");
	for (size_t i = 0; i < FG_ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "\n%s\nfoo = 1\n", bad[i]);
		expect_error(text, 2, "unknown section");
	}
	memset(text, 'a', sizeof(text));
	memcpy(text, "[subtree ", 9);
	strcpy(text + 9 + FG_NAME_MAX, "]\npath = /a\n"); /* a 64-char name */
	expect_error(text, 1, "unknown section");
}
END_TEST

START_TEST(test_fg_config_load_file_syntax_error)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;

	expect_error("[subtree a]\npath = /a\njust words\n", 3, "syntax error");
	expect_error("[subtree a\npath = /a\n", 1, "syntax error");
	/* inih reports only the first; the reader reports each */
	ck_assert_int_eq(load_text("[fanguard]\nx\nmode = audit\ny\n", &cfg, &diag, &p), -EINVAL);
	ck_assert_uint_eq(diag.n, 2);
	ASSERT_DIAG(&diag, p, 2, "syntax error");
	ASSERT_DIAG(&diag, p, 4, "syntax error");
}
END_TEST

START_TEST(test_fg_config_load_file_comments_and_colon)
{
	struct fg_config cfg;
	struct fg_diag diag;

	ck_assert_int_eq(load_text("\xEF\xBB\xBF[fanguard]\n; c\n  # c\nmode: audit ; inline\n",
				   &cfg, &diag, NULL),
			 0);
	ck_assert_int_eq(cfg.mode, FG_MODE_AUDIT);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_file_indented_not_continuation)
{
	struct fg_config cfg;
	struct fg_diag diag;

	/* an indented line is a key of its own, not more of the exe list */
	ck_assert_int_eq(load_text("[writer w]\nexe = /usr/bin/a\n  comm = b\n", &cfg, &diag, NULL),
			 0);
	ck_assert_uint_eq(cfg.writers[0].exe.n, 1);
	ck_assert_str_eq(cfg.writers[0].comm.v[0], "b");
	fg_config_free(&cfg);
	/* upstream inih would have made this more of the path value */
	ck_assert_int_eq(load_text("[subtree s]\npath = /x\n\tkey = k2\n", &cfg, &diag, NULL), 0);
	ck_assert_str_eq(cfg.subtrees[0].path, "/x");
	ck_assert_str_eq(cfg.subtrees[0].key, "k2");
	fg_config_free(&cfg);
}
END_TEST

/* A continuation line in the style of Python's configparser is an error at
 * its own line, with any inih: upstream's (multi-line values built in) and
 * Debian's (turned off at run time) alike. */
START_TEST(test_fg_config_load_file_indented_continuation)
{
	static const char *const texts[] = {
	    "[writer w]\nexe = /usr/bin/a\n  /usr/bin/b\n",
	    "[writer w]\nexe = /usr/bin/a\n\t/usr/bin/b ; comment\n",
	    "[writer w]\nexe = /usr/bin/a\n# c\n\n    /usr/bin/b\n",
	};
	static const int lines[] = {3, 3, 5};
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;

	for (unsigned i = 0; i < FG_ARRAY_SIZE(texts); i++) {
		ck_assert_int_eq(load_text(texts[i], &cfg, &diag, &p), -EINVAL);
		ASSERT_DIAG(&diag, p, lines[i],
			    "an indented line does not continue the value above");
		ck_assert_uint_eq(diag.n, 1);
	}
}
END_TEST

START_TEST(test_fg_config_load_file_long_line)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;
	char text[1024], pad[400];

	/* 198 bytes is the longest line that fits (with its newline, inih's
	 * 200-byte buffer less the NUL), and the next line is read as usual */
	memset(pad, 'x', sizeof(pad));
	pad[198 - strlen("path = /")] = '\0';
	snprintf(text, sizeof(text), "[subtree a]\npath = /%s\nkey = k\n", pad);
	ck_assert_int_eq(load_text(text, &cfg, &diag, NULL), 0);
	ck_assert_uint_eq(strlen(cfg.subtrees[0].path), 198 - strlen("path = "));
	ck_assert_str_eq(cfg.subtrees[0].key, "k");
	fg_config_free(&cfg);

	/* 199 bytes: an error, and the rest of that line is not a new line */
	memset(pad, 'x', sizeof(pad));
	pad[199 - strlen("path = /")] = '\0';
	snprintf(text, sizeof(text), "[subtree a]\npath = /%s\nkey = k\nbogus = 1\n", pad);
	ck_assert_int_eq(load_text(text, &cfg, &diag, &p), -EINVAL);
	ASSERT_DIAG(&diag, p, 2, "line longer than 198 bytes");
	ASSERT_DIAG(&diag, p, 4, "unknown key 'bogus'"); /* counting stayed right */
	ASSERT_DIAG(&diag, p, 1, "subtree 'a' has no path");
	ck_assert_uint_eq(diag.n, 3);

	/* the same at the end of the file, without a newline */
	snprintf(text, sizeof(text), "[subtree a]\npath = /%s", pad);
	ck_assert_int_eq(load_text(text, &cfg, &diag, &p), -EINVAL);
	ASSERT_DIAG(&diag, p, 2, "line longer than 198 bytes");

	/* far longer, with '=' and '[' in the tail that must not be parsed */
	memset(pad, 'y', sizeof(pad));
	pad[250] = '=';
	pad[300] = '[';
	pad[399] = '\0';
	snprintf(text, sizeof(text), "[fanguard]\n# %s\nmode = audit\n", pad);
	ck_assert_int_eq(load_text(text, &cfg, &diag, &p), -EINVAL);
	ck_assert_uint_eq(diag.n, 1);
	ASSERT_DIAG(&diag, p, 2, "line longer than 198 bytes");
}
END_TEST

START_TEST(test_fg_config_load_file_multiple_errors)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;

	ck_assert_int_eq(load_text("[fanguard]\n"	 /* 1 */
				   "mode = loud\n"	 /* 2 */
				   "[subtree a]\n"	 /* 3 */
				   "path = rel\n"	 /* 4 */
				   "color = red\n"	 /* 5 */
				   "[writer w]\n"	 /* 6 */
				   "auid = nobody\n"	 /* 7 */
				   "uid = 0\n"		 /* 8 */
				   "uid = 1\n"		 /* 9 */
				   "[writer v]\n"	 /* 10 */
				   "quiet = sometimes\n" /* 11 */
				   "[subtree b]\n",	 /* 12 */
				   &cfg, &diag, &p),
			 -EINVAL);
	ASSERT_DIAG(&diag, p, 2, "mode: 'loud'");
	ASSERT_DIAG(&diag, p, 4, "path: 'rel' is not an absolute path");
	ASSERT_DIAG(&diag, p, 5, "unknown key 'color' in [subtree a]");
	ASSERT_DIAG(&diag, p, 7, "auid: 'nobody'");
	ASSERT_DIAG(&diag, p, 9, "duplicate key 'uid' in [writer w] (first at line 8)");
	ASSERT_DIAG(&diag, p, 11, "quiet: 'sometimes'");
	ASSERT_DIAG(&diag, p, 10, "writer 'v' has no condition");
	ASSERT_DIAG(&diag, p, 12, "subtree 'b' has no path");
	ck_assert_uint_eq(diag.n, 8);
	ck_assert_uint_eq(cfg.n_writers, 0); /* freed and zeroed */
}
END_TEST

START_TEST(test_fg_config_load_file_diag_overflow)
{
	struct fg_config cfg;
	struct fg_diag diag;
	char text[4096] = "[fanguard]\n";

	for (int i = 0; i < FG_DIAG_MAX + 8; i++)
		strcat(text, "bad\n");
	ck_assert_int_eq(load_text(text, &cfg, &diag, NULL), -EINVAL);
	ck_assert_uint_eq(diag.n, FG_DIAG_MAX);
	ck_assert_uint_eq(diag.dropped, 8);
}
END_TEST

START_TEST(test_fg_config_load_file_too_many_subtrees)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;
	_cleanup_free_ char *text = malloc(16384);

	text[0] = '\0';
	for (int i = 0; i <= FG_SUBTREES_MAX; i++)
		sprintf(text + strlen(text), "[subtree s%d]\npath = /s/%d\n", i, i);
	ck_assert_int_eq(load_text(text, &cfg, &diag, &p), -EINVAL);
	ck_assert_uint_eq(diag.n, 1);
	ASSERT_DIAG(&diag, p, 2 * FG_SUBTREES_MAX + 1, "too many subtrees (at most 64)");
}
END_TEST

START_TEST(test_fg_config_load_file_too_many_writers)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;
	size_t size = (FG_WRITERS_MAX + 1) * 32;
	_cleanup_free_ char *text = malloc(size);
	size_t len = 0;

	for (int i = 0; i <= FG_WRITERS_MAX; i++)
		len += (size_t)snprintf(text + len, size - len, "[writer w%d]\nuid = %d\n", i, i);
	ck_assert_int_eq(load_text(text, &cfg, &diag, &p), -EINVAL);
	ck_assert_uint_eq(diag.n, 1);
	ASSERT_DIAG(&diag, p, 2 * FG_WRITERS_MAX + 1, "too many writers (at most 4096)");
}
END_TEST

START_TEST(test_fg_config_load_missing_file)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/nope.conf", tmpdir);
	ck_assert_int_eq(fg_config_load(&cfg, p, &diag), -ENOENT);
	ck_assert_uint_eq(diag.n, 1);
	ck_assert_ptr_nonnull(strstr(diag.msg[0], p));
	ck_assert_int_eq(fg_config_load(&cfg, tmpdir, &diag), -EISDIR);
}
END_TEST

START_TEST(test_fg_config_finish_unknown_subtree)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *a = put("a.conf", "[subtree a]\npath = /a\n");
	const char *b = put("b.conf", "[writer w]\nuid = 0\n\nsubtrees = a b\n");

	fg_config_init(&cfg);
	ck_assert_int_eq(fg_config_load_file(&cfg, a, &diag), 0);
	ck_assert_int_eq(fg_config_load_file(&cfg, b, &diag), 0);
	ck_assert_int_eq(fg_config_finish(&cfg, &diag), -EINVAL);
	ck_assert_uint_eq(diag.n, 1);
	ASSERT_DIAG(&diag, b, 4, "writer 'w' names unknown subtree 'b'");
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_finish_duplicate_path)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *p;
	char msg[PATH_MAX + 64];

	ck_assert_int_eq(load_text("[subtree a]\npath = /x\n[subtree b]\npath = /y\n"
				   "[subtree c]\npath = /x\n",
				   &cfg, &diag, &p),
			 -EINVAL);
	snprintf(msg, sizeof(msg), "subtree 'c' has the same path as subtree 'a' at %s:1", p);
	ASSERT_DIAG(&diag, p, 5, msg);
	ck_assert_uint_eq(diag.n, 1);
}
END_TEST

START_TEST(test_fg_config_finish_ok)
{
	struct fg_config cfg;
	struct fg_diag diag;

	ck_assert_int_eq(load_text("[writer w]\nuid = 0\nsubtrees = a\n[subtree a]\npath = /a\n",
				   &cfg, &diag, NULL),
			 0);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_search_dropin_order)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *image = put("image.conf", "[fanguard]\nmode = enforce\nlog = syslog\n"
					      "[subtree a]\npath = /etc/a\n");
	const char *etc = put("etc.conf", "[fanguard]\nmode = audit\n");
	const char *dir = subdir("conf.d");
	int r;

	put("conf.d/20-b.conf", "[fanguard]\nlog = journal\n[subtree b]\npath = /etc/b\n");
	put("conf.d/10-a.conf", "[fanguard]\nlog = stderr\nlog_format = text\n");
	put("conf.d/Z.conf", "[subtree z]\npath = /etc/z\n"); /* 'Z' < 'a' in bytes */
	put("conf.d/30-c.conf.bak", "garbage\n");
	put("conf.d/.hidden.conf", "garbage\n");
	put("conf.d/40-empty.conf", "");

	r = fg_config_load_search(&cfg, image, etc, dir, &diag);
	dump(&diag);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(diag.n, 0);
	ck_assert_int_eq(cfg.mode, FG_MODE_AUDIT);
	ck_assert_int_eq(cfg.log, FG_SINK_JOURNAL); /* 20-b after 10-a */
	ck_assert_int_eq(cfg.log_format, FG_FMT_TEXT);
	ck_assert_uint_eq(cfg.n_files, 6);
	ck_assert_str_eq(cfg.files[0], image);
	ck_assert_str_eq(cfg.files[1], etc);
	ck_assert_ptr_nonnull(strstr(cfg.files[2], "/conf.d/10-a.conf"));
	ck_assert_ptr_nonnull(strstr(cfg.files[3], "/conf.d/20-b.conf"));
	ck_assert_ptr_nonnull(strstr(cfg.files[4], "/conf.d/40-empty.conf"));
	ck_assert_ptr_nonnull(strstr(cfg.files[5], "/conf.d/Z.conf"));
	ck_assert_uint_eq(cfg.n_subtrees, 4);
	ck_assert_str_eq(cfg.subtrees[1].name, "b");
	ck_assert_int_eq(cfg.subtrees[1].where.file, 3);
	ck_assert_str_eq(cfg.subtrees[2].name, "z");
	ck_assert_str_eq(cfg.subtrees[3].name, "fanguard-config");
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_auid_admins)
{
	struct fg_config cfg;
	struct fg_diag diag;

	/* `admins` alone is a condition (the people rules' login uids) */
	ck_assert_int_eq(load_text("[subtree a]\npath = /a\n[writer cli]\nexe = /usr/bin/fanguard\n"
				   "auid = admins\n[writer only]\nauid = admins\n",
				   &cfg, &diag, NULL),
			 0);
	ck_assert(cfg.writers[0].auid.admins);
	ck_assert_uint_eq(cfg.writers[0].auid.n, 0);
	ck_assert(cfg.writers[1].auid.admins);
	fg_config_free(&cfg);
}
END_TEST

/* A drop-in joined to the search replaces the file of its name, sorts in
 * its place and is untrusted; the image's drop-ins are trusted. */
START_TEST(test_fg_config_load_with_join_and_image_dropins)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *image = put("image.conf", "[subtree a]\npath = /etc/a\n"
					      "[subtree fanguard-config]\npath = /etc/fanguard\n");
	char idir[PATH_MAX], dir[PATH_MAX];
	const char *join;
	struct fg_config_search s = {
	    .image = image, .image_dropins = idir, .etc = "/nonexistent", .dropins = dir};

	fg_strlcpy(idir, subdir("image.d"), sizeof(idir));
	fg_strlcpy(dir, subdir("conf.d"), sizeof(dir));
	subdir("new");
	s.join = join = put("new/20-b.conf", "[writer b]\nauid = 1000\nsubtrees = a\n");

	put("image.d/10-cli.conf", "[writer cli]\nexe = /usr/bin/fanguard\nauid = admins\n"
				   "subtrees = fanguard-config\n");
	put("conf.d/10-a.conf", "[writer a]\nuid = 1\n");
	put("conf.d/20-b.conf", "[writer old-b]\nuid = 2\n");
	put("conf.d/30-c.conf", "[writer c]\nuid = 3\n");
	ck_assert_int_eq(fg_config_load_with(&cfg, &s, &diag), 0);
	dump(&diag);
	ck_assert_uint_eq(cfg.n_writers, 4);
	ck_assert_str_eq(cfg.writers[0].name, "cli");
	ck_assert_str_eq(cfg.writers[1].name, "a");
	ck_assert_str_eq(cfg.writers[2].name, "b");
	ck_assert_str_eq(cfg.writers[3].name, "c");
	ck_assert_str_eq(cfg.files[1 + 0 + 2], join);
	ck_assert((cfg.trusted_files >> 1) & 1);    /* the image's drop-in */
	ck_assert(!((cfg.trusted_files >> 3) & 1)); /* the joined one */
	fg_config_free(&cfg);
	/* joined last when its name sorts after every file; and a joined
	 * drop-in may not name fanguard's own subtree */
	s.join = put("new/zz.conf", "[writer z]\nauid = 1000\nsubtrees = fanguard-config\n");
	memset(&diag, 0, sizeof(diag));
	ck_assert_int_eq(fg_config_load_with(&cfg, &s, &diag), -EINVAL);
	ASSERT_DIAG(&diag, s.join, 3, "fanguard's own policy");
	/* without the join, a drop-in naming an unknown subtree is an error
	 * only alone: joined, its subtree is the image's */
	s.join = put("new/40-d.conf", "[writer d]\nuid = 4\nsubtrees = a\n");
	memset(&diag, 0, sizeof(diag));
	ck_assert_int_eq(fg_config_load_with(&cfg, &s, &diag), 0);
	ck_assert_str_eq(cfg.writers[cfg.n_writers - 1].name, "d");
	fg_config_free(&cfg);
	memset(&diag, 0, sizeof(diag));
	ck_assert_int_eq(fg_config_load(&cfg, s.join, &diag), -EINVAL);
	ASSERT_DIAG(&diag, s.join, 3, "names unknown subtree 'a'");
}
END_TEST

START_TEST(test_fg_config_load_search_skips_directories)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *dir = subdir("conf.d");
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/50-dir.conf", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	put("conf.d/60.conf", "[subtree a]\npath = /a\n");
	ck_assert_int_eq(
	    fg_config_load_search(&cfg, "/nonexistent/a", "/nonexistent/b", dir, &diag), 0);
	ck_assert_uint_eq(cfg.n_files, 1);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_search_missing_file)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *etc = put("etc.conf", "[subtree a]\npath = /etc/a\n");
	char image[PATH_MAX], dir[PATH_MAX];

	snprintf(image, sizeof(image), "%s/missing.conf", tmpdir);
	snprintf(dir, sizeof(dir), "%s/missing.d", tmpdir);
	ck_assert_int_eq(fg_config_load_search(&cfg, image, etc, dir, &diag), 0);
	ck_assert_uint_eq(diag.n, 0);
	ck_assert_uint_eq(cfg.n_files, 1);
	ck_assert_str_eq(cfg.files[0], etc);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_search_none_found)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};

	ck_assert_int_eq(fg_config_load_search(&cfg, "/nonexistent/a", "/nonexistent/b",
					       "/nonexistent/c", &diag),
			 -ENOENT);
	ck_assert_uint_eq(diag.n, 1);
	ck_assert_ptr_nonnull(strstr(diag.msg[0], "no configuration found (looked in "));
	ck_assert_ptr_nonnull(strstr(diag.msg[0], "/nonexistent/c"));
	ck_assert_uint_eq(cfg.n_files, 0);
}
END_TEST

START_TEST(test_fg_config_load_search_error_in_dropin)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *image = put("image.conf", "[subtree a]\npath = /a\n");
	const char *dir = subdir("conf.d");
	const char *bad = put("conf.d/x.conf", "[subtree a]\npath = /b\n");

	ck_assert_int_eq(fg_config_load_search(&cfg, image, "/nonexistent", dir, &diag), -EINVAL);
	ASSERT_DIAG(&diag, bad, 1, "subtree 'a' already defined at ");
	ck_assert_ptr_null(cfg.subtrees);
}
END_TEST

/* The auto subtree for /etc/fanguard, given what the files protect. */
static unsigned auto_count(const char *text)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *p = put("image.conf", text);
	unsigned n = 0;

	ck_assert_int_eq(fg_config_load_search(&cfg, p, "/nonexistent", "/nonexistent", &diag), 0);
	for (unsigned i = 0; i < cfg.n_subtrees; i++) {
		if (strcmp(cfg.subtrees[i].name, "fanguard-config") != 0)
			continue;
		ck_assert_str_eq(cfg.subtrees[i].path, "/etc/fanguard");
		if (cfg.subtrees[i].where.file < 0) { /* the added one */
			ck_assert_str_eq(cfg.subtrees[i].key, "fanguard_config");
			ck_assert(cfg.subtrees[i].recursive);
		}
		n++;
	}
	fg_config_free(&cfg);
	return n;
}

START_TEST(test_fg_config_load_search_auto_subtree)
{
	ck_assert_uint_eq(auto_count("[subtree a]\npath = /etc/a\n"), 1);
	ck_assert_uint_eq(auto_count("[subtree a]\npath = /etc/fanguardx\n"), 1);
	ck_assert_uint_eq(auto_count("[subtree a]\npath = /etc\nrecursive = no\n"), 1);
	/* a recursive parent is not enough: its rules would reach the policy */
	ck_assert_uint_eq(auto_count("[subtree etc]\npath = /etc\n"), 1);
	ck_assert_uint_eq(auto_count("[subtree fanguard-config]\npath = /etc/fanguard\n"), 1);
	ck_assert_uint_eq(auto_count("[subtree mine]\npath = /etc/fanguard\n"), 0);
}
END_TEST

START_TEST(test_fg_config_load_search_auto_subtree_name_taken)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	const char *p = put("image.conf", "[subtree fanguard-config]\npath = /etc/other\n");

	ck_assert_int_eq(fg_config_load_search(&cfg, p, "/nonexistent", "/nonexistent", &diag),
			 -EINVAL);
	ASSERT_DIAG(&diag, p, 1, "reserved");
}
END_TEST

/* The inputs that steer a shipped writer are subtrees (issue 15), and
 * those that may be missing on a host are optional. */
static void shipped_steering(const struct fg_config *cfg)
{
	static const struct {
		const char *path;
		bool optional;
	} inputs[] = {
	    {"/etc/tmpfiles.d", false},
	    {"/run/tmpfiles.d", true},
	    {"/usr/local/lib/tmpfiles.d", true},
	    {"/var/usrlocal/lib/tmpfiles.d", true},
	    {"/etc/sysusers.d", true},
	    {"/etc/cloud", true},
	    {"/var/lib/cloud", true},
	    {"/etc/authselect", true},
	    {"/run/systemd/system", false},
	};

	for (size_t k = 0; k < FG_ARRAY_SIZE(inputs); k++) {
		unsigned i = 0;
		while (i < cfg->n_subtrees && strcmp(cfg->subtrees[i].path, inputs[k].path) != 0)
			i++;
		ck_assert_msg(i < cfg->n_subtrees, "%s is not guarded", inputs[k].path);
		ck_assert_int_eq(cfg->subtrees[i].optional, inputs[k].optional);
		ck_assert(cfg->subtrees[i].recursive);
	}
}

/* The image-mode persistence paths (issue 16) are subtrees, single files
 * included, and those a normal host lacks are optional. */
static void shipped_image_mode(const struct fg_config *cfg)
{
	static const struct {
		const char *path;
		bool optional;
	} paths[] = {
	    {"/etc/sudoers", false},
	    {"/etc/ssh/sshd_config", false},
	    {"/etc/crontab", true},
	    {"/etc/containers/registries.conf", false},
	    {"/etc/containers/registries.d", false},
	    {"/etc/containers/systemd", true},
	    {"/etc/containers/systemd/users", true},
	    {"/etc/systemd/user", false},
	    {"/etc/ld.so.preload", true},
	    {"/etc/pam.d", false},
	    {"/etc/profile.d", false},
	    {"/etc/environment", true},
	    {"/etc/udev/rules.d", false},
	    {"/etc/modules-load.d", false},
	    {"/etc/sysctl.d", false},
	    {"/var/roothome/.ssh", true},
	};

	for (size_t k = 0; k < FG_ARRAY_SIZE(paths); k++) {
		unsigned i = 0;
		while (i < cfg->n_subtrees && strcmp(cfg->subtrees[i].path, paths[k].path) != 0)
			i++;
		ck_assert_msg(i < cfg->n_subtrees, "%s is not guarded", paths[k].path);
		ck_assert_msg(cfg->subtrees[i].optional == paths[k].optional, "%s: optional",
			      paths[k].path);
		ck_assert(cfg->subtrees[i].key[0]);
	}
	ck_assert_int_eq(cfg->transaction.scope, FG_TX_SCOPE_DEPLOYMENTS);
}

/* Every shipped rule limits itself with `subtrees`, none to fanguard's
 * own but the fanguard CLI's for admins, and cloud-init's names its units
 * exactly. */
static void shipped_policy_cli(const struct fg_writer_cfg *w)
{
	ck_assert_uint_eq(w->exe.n, 1);
	ck_assert_str_eq(w->exe.v[0], "/usr/bin/fanguard");
	ck_assert(w->auid.admins && !w->auid.any && w->auid.n == 0);
	ck_assert_uint_eq(w->subtrees.n, 1);
	ck_assert_str_eq(w->subtrees.v[0], "fanguard-config");
}

static void shipped_writers(const struct fg_config *cfg)
{
	static const char *const cloud_units[] = {
	    "/system.slice/cloud-init-local.service", "/system.slice/cloud-init.service",
	    "/system.slice/cloud-config.service", "/system.slice/cloud-final.service",
	    "/system.slice/cloud-init-main.service"};
	int ci = -1;

	ck_assert_uint_eq(cfg->n_writers, 4);
	for (unsigned i = 0; i < cfg->n_writers; i++) {
		const struct fg_writer_cfg *w = &cfg->writers[i];
		ck_assert_msg(w->subtrees.n > 0, "writer %s has no subtrees", w->name);
		if (strcmp(w->name, "fanguard-policy") == 0) {
			shipped_policy_cli(w);
			continue;
		}
		for (unsigned j = 0; j < w->subtrees.n; j++)
			ck_assert_str_ne(w->subtrees.v[j], "fanguard-config");
		ck_assert_msg(w->cgroup.n > 0, "writer %s: no unit cgroup", w->name);
		if (strcmp(w->name, "cloud-init") == 0)
			ci = (int)i;
	}
	ck_assert_int_ge(ci, 0);
	ck_assert_uint_eq(cfg->writers[ci].cgroup.n, FG_ARRAY_SIZE(cloud_units));
	for (size_t k = 0; k < FG_ARRAY_SIZE(cloud_units); k++)
		ck_assert_str_eq(cfg->writers[ci].cgroup.v[k], cloud_units[k]);
}

START_TEST(test_fg_config_load_shipped)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};
	int r = fg_config_load(&cfg, FG_SOURCE_DIR "/etc/fanguard.conf", &diag);

	dump(&diag);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(diag.n, 0);
	ck_assert_uint_eq(cfg.n_subtrees, 34);
	ck_assert_int_eq(cfg.mode, FG_MODE_ENFORCE);
	ck_assert_int_eq(cfg.log, FG_SINK_SYSLOG);
	ck_assert_int_eq(cfg.log_format, FG_FMT_JSON);
	ck_assert_int_eq(cfg.on_overload, FG_OVERLOAD_DENY_WRITES);
	ck_assert_int_ge(fg_config_find_subtree(&cfg, "fanguard-config"), 0);
	ck_assert_str_eq(cfg.subtrees[fg_config_find_subtree(&cfg, "user-cron")].path,
			 "/var/spool/cron");
	shipped_steering(&cfg);
	shipped_image_mode(&cfg);
	shipped_writers(&cfg);
	ck_assert_uint_eq(cfg.transaction.exe.n, 3);
	fg_config_free(&cfg);

	/* as the image's file in the default search: no second config subtree */
	ck_assert_int_eq(fg_config_load_search(&cfg, FG_SOURCE_DIR "/etc/fanguard.conf",
					       "/nonexistent", "/nonexistent", &diag),
			 0);
	ck_assert_uint_eq(cfg.n_subtrees, 34);
	fg_config_free(&cfg);

	/* with the example image's drop-in (examples/Containerfile) */
	ck_assert_int_eq(fg_config_load_search(&cfg, FG_SOURCE_DIR "/etc/fanguard.conf",
					       "/nonexistent", FG_SOURCE_DIR "/examples/conf.d",
					       &diag),
			 0);
	ck_assert_int_eq(cfg.mode, FG_MODE_AUDIT);
	ck_assert_uint_eq(cfg.n_writers, 5);
	ck_assert_uint_eq(cfg.writers[4].subtrees.n, 3);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_find_subtree_found)
{
	struct fg_config cfg;
	struct fg_diag diag;

	ck_assert_int_eq(load_text(full_conf, &cfg, &diag, NULL), 0);
	ck_assert_int_eq(fg_config_find_subtree(&cfg, "cron"), 1);
	ck_assert_int_eq(fg_config_find_subtree(&cfg, "sudoers"), 0);
	ck_assert_int_eq(fg_config_find_subtree(&cfg, "nope"), -1);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_mode_name_all)
{
	ck_assert_str_eq(fg_mode_name(FG_MODE_ENFORCE), "enforce");
	ck_assert_str_eq(fg_mode_name(FG_MODE_AUDIT), "audit");
	ck_assert_str_eq(fg_mode_name(FG_MODE_INHERIT), "inherit");
}
END_TEST

START_TEST(test_fg_diag_add_overflow)
{
	struct fg_diag diag = {0};

	for (int i = 0; i < FG_DIAG_MAX + 3; i++)
		fg_diag_add(&diag, "m%d", i);
	ck_assert_uint_eq(diag.n, FG_DIAG_MAX);
	ck_assert_uint_eq(diag.dropped, 3);
	ck_assert_str_eq(diag.msg[1], "m1");
	fg_diag_add(NULL, "ignored");
}
END_TEST

START_TEST(test_fg_config_load_file_log_numbers)
{
	struct fg_config cfg;
	struct fg_diag diag;

	ck_assert_int_eq(load_text("[fanguard]\nmax_line = 4096\nrepeat_threshold = 0\n"
				   "repeat_window = 2m\nheartbeat_interval = 1h\n",
				   &cfg, &diag, NULL),
			 0);
	ck_assert_uint_eq(cfg.max_line, 4096);
	ck_assert_uint_eq(cfg.repeat_threshold, 0);
	ck_assert_uint_eq(cfg.repeat_window, 120);
	ck_assert_uint_eq(cfg.heartbeat_interval, 3600);
	fg_config_free(&cfg);
	ck_assert_int_eq(load_text("[fanguard]\nheartbeat_interval = 0\nrepeat_window = 30s\n",
				   &cfg, &diag, NULL),
			 0);
	ck_assert_uint_eq(cfg.heartbeat_interval, 0);
	ck_assert_uint_eq(cfg.repeat_window, 30);
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_file_log_numbers_bad)
{
	expect_error("[fanguard]\nmax_line = 1000\n", 2, "max_line: '1000' is not a number");
	expect_error("[fanguard]\nmax_line = 70000\n", 2, "from 2048 to 65536");
	expect_error("[fanguard]\nmax_line = 4k\n", 2, "max_line: '4k'");
	expect_error("[fanguard]\nrepeat_window = 0\n", 2, "repeat_window: '0'");
	expect_error("[fanguard]\nheartbeat_interval = -1\n", 2, "heartbeat_interval: '-1'");
	expect_error("[fanguard]\nheartbeat_interval = 200h\n", 2, "(or Nm, Nh) from 0");
	expect_error("[fanguard]\nrepeat_threshold = 10s\n", 2, "repeat_threshold: '10s'");
	expect_error("[fanguard]\nheartbeat_interval = h\n", 2, "heartbeat_interval: 'h'");
}
END_TEST

START_TEST(test_fg_config_load_deployments)
{
	struct fg_config cfg;
	struct fg_diag diag;
	const char *etc, *dir;

	ck_assert_int_eq(load_text("[deployments]\n"
				   "images = quay.io/example/os:* registry.example.com/os\n"
				   "approved = /etc/fanguard/approved-images\n"
				   "min_timestamp = 2025-12-01T06:30:00+02:00\n"
				   "require_signature = no\n"
				   "allow_rollback = yes\n"
				   "allow_usroverlay = true\n"
				   "signature_policy = /etc/containers/policy.json\n",
				   &cfg, &diag, NULL),
			 0);
	ck_assert(cfg.deployments.present);
	ck_assert_uint_eq(cfg.deployments.images.n, 2);
	ck_assert_str_eq(cfg.deployments.images.v[1], "registry.example.com/os");
	ck_assert_str_eq(cfg.deployments.approved, "/etc/fanguard/approved-images");
	ck_assert(cfg.deployments.has_min_timestamp);
	ck_assert_int_eq(cfg.deployments.min_timestamp, 1764563400);
	ck_assert(!cfg.deployments.require_signature);
	ck_assert(cfg.deployments.allow_rollback && cfg.deployments.allow_usroverlay);
	ck_assert_str_eq(cfg.deployments.signature_policy, "/etc/containers/policy.json");
	fg_config_free(&cfg);
	/* defaults without the section */
	ck_assert_int_eq(load_text("[fanguard]\nmode = audit\n", &cfg, &diag, NULL), 0);
	ck_assert(!cfg.deployments.present && cfg.deployments.require_signature);
	ck_assert(!cfg.deployments.allow_rollback && !cfg.deployments.has_min_timestamp);
	ck_assert_ptr_null(cfg.deployments.approved);
	fg_config_free(&cfg);
	/* a drop-in's value replaces the image's, lists included */
	etc = put("etc.conf", "[deployments]\nimages = a/b:* c/d\napproved = /etc/fanguard/a\n");
	dir = subdir("conf.d");
	put("conf.d/50-site.conf", "[deployments]\nimages = e/f\napproved = /etc/fanguard/b\n");
	memset(&diag, 0, sizeof(diag));
	ck_assert_int_eq(fg_config_load_search(&cfg, "/nonexistent/image.conf", etc, dir, &diag),
			 0);
	ck_assert_uint_eq(cfg.deployments.images.n, 1);
	ck_assert_str_eq(cfg.deployments.images.v[0], "e/f");
	ck_assert_str_eq(cfg.deployments.approved, "/etc/fanguard/b");
	fg_config_free(&cfg);
}
END_TEST

START_TEST(test_fg_config_load_deployments_errors)
{
	expect_error("[deployments]\nmin_timestamp = yesterday\n", 2,
		     "min_timestamp: 'yesterday' is not a date");
	expect_error("[deployments]\nmin_timestamp = 2025-02-30\n", 2, "is not a date");
	expect_error("[deployments]\napproved = approved.txt\n", 2,
		     "approved: 'approved.txt' is not an absolute path");
	expect_error("[deployments]\nallow_rollback = maybe\n", 2, "is not a boolean");
	expect_error("[deployments]\nrequire_signature = yes\nrequire_signature = no\n", 3,
		     "duplicate key 'require_signature' in [deployments]");
	expect_error("[deployments]\nimage = x\n", 2, "unknown key 'image' in [deployments]");
	expect_error("[deployments]\nsignature_policy = /etc//policy.json\n", 2,
		     "is not normalised");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fg_config_load_full);
	tcase_add_test(tc, test_fg_config_init_defaults);
	tcase_add_test(tc, test_fg_config_load_file_unknown_key);
	tcase_add_test(tc, test_fg_config_transaction_scope);
	tcase_add_test(tc, test_fg_config_load_file_duplicate_key);
	tcase_add_test(tc, test_fg_config_load_file_duplicate_subtree);
	tcase_add_test(tc, test_fg_config_load_file_duplicate_writer);
	tcase_add_test(tc, test_fg_config_load_file_relative_path);
	tcase_add_test(tc, test_fg_config_load_file_path_not_normalised);
	tcase_add_test(tc, test_fg_config_load_file_path_dots_allowed);
	tcase_add_test(tc, test_fg_config_load_file_too_long_value);
	tcase_add_test(tc, test_fg_config_load_file_bad_id);
	tcase_add_test(tc, test_fg_config_load_file_bad_choice);
	tcase_add_test(tc, test_fg_config_load_file_on_daemon_exit);
	tcase_add_test(tc, test_fg_config_load_file_bad_boolean);
	tcase_add_test(tc, test_fg_config_load_file_booleans);
	tcase_add_test(tc, test_fg_config_load_file_subtree_without_path);
	tcase_add_test(tc, test_fg_config_load_file_empty_value);
	tcase_add_test(tc, test_fg_config_load_file_empty_allowed);
	tcase_add_test(tc, test_fg_config_load_file_writer_no_condition);
	tcase_add_test(tc, test_fg_config_load_file_writer_bad_value_reported_once);
	tcase_add_test(tc, test_fg_config_load_file_too_many_items);
	tcase_add_test(tc, test_fg_config_load_deployments);
	tcase_add_test(tc, test_fg_config_load_deployments_errors);
	tcase_add_test(tc, test_fg_config_load_file_transaction_appends);
	tcase_add_test(tc, test_fg_config_load_file_transaction_without_exe);
	tcase_add_test(tc, test_fg_config_load_file_unknown_section);
	tcase_add_test(tc, test_fg_config_load_file_syntax_error);
	tcase_add_test(tc, test_fg_config_load_file_comments_and_colon);
	tcase_add_test(tc, test_fg_config_load_file_indented_not_continuation);
	tcase_add_test(tc, test_fg_config_load_file_indented_continuation);
	tcase_add_test(tc, test_fg_config_load_file_long_line);
	tcase_add_test(tc, test_fg_config_load_file_multiple_errors);
	tcase_add_test(tc, test_fg_config_load_file_diag_overflow);
	tcase_add_test(tc, test_fg_config_load_file_log_numbers);
	tcase_add_test(tc, test_fg_config_load_file_log_numbers_bad);
	tcase_add_test(tc, test_fg_config_load_file_too_many_subtrees);
	tcase_add_test(tc, test_fg_config_load_file_too_many_writers);
	tcase_add_test(tc, test_fg_config_load_missing_file);
	tcase_add_test(tc, test_fg_config_finish_unknown_subtree);
	tcase_add_test(tc, test_fg_config_finish_duplicate_path);
	tcase_add_test(tc, test_fg_config_finish_ok);
	tcase_add_test(tc, test_fg_config_load_search_dropin_order);
	tcase_add_test(tc, test_fg_config_load_search_skips_directories);
	tcase_add_test(tc, test_fg_config_auid_admins);
	tcase_add_test(tc, test_fg_config_load_with_join_and_image_dropins);
	tcase_add_test(tc, test_fg_config_load_search_missing_file);
	tcase_add_test(tc, test_fg_config_load_search_none_found);
	tcase_add_test(tc, test_fg_config_load_search_error_in_dropin);
	tcase_add_test(tc, test_fg_config_load_search_auto_subtree);
	tcase_add_test(tc, test_fg_config_load_search_auto_subtree_name_taken);
	tcase_add_test(tc, test_fg_config_load_shipped);
	tcase_add_test(tc, test_fg_config_find_subtree_found);
	tcase_add_test(tc, test_fg_mode_name_all);
	tcase_add_test(tc, test_fg_diag_add_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
