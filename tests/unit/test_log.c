#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fanguard/log.h"
#include "fanguard/util.h"

/* Feeds s to python3 and evaluates each expression with d = the parsed
 * object; returns 0 when all hold (a failing one is printed). */
static int py_check(const char *s, size_t n, const char *const *exprs)
{
	static const char script[] = "import json,sys\n"
				     "d=json.loads(sys.stdin.buffer.read().decode('utf-8'))\n"
				     "bad=[e for e in sys.argv[1:] if not eval(e)]\n"
				     "if bad: print('failed:', bad, file=sys.stderr)\n"
				     "sys.exit(1 if bad else 0)\n";
	const char *argv[32] = {"python3", "-c", script};
	int fds[2], status, k = 3;
	pid_t pid;

	for (; exprs && *exprs && k < 31; exprs++)
		argv[k++] = *exprs;
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(fds[0]);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fds[1], s + off, n - off);
		ck_assert_int_gt(w, 0);
		off += (size_t)w;
	}
	close(fds[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

static void add_ancestor(struct fg_proc *p, pid_t pid, const char *exe, const char *comm)
{
	struct fg_ancestor *a = &p->anc[p->n_ancestors++];

	a->pid = pid;
	a->exe_off = p->arena_used;
	fg_strlcpy(p->arena + p->arena_used, exe, FG_ARENA_LEN - p->arena_used);
	p->arena_used += (uint32_t)strlen(exe) + 1;
	fg_strlcpy(a->comm, comm, sizeof(a->comm));
}

/* A writer with three ancestors: vim <- bash <- sshd <- systemd. */
static struct fg_proc *make_proc(void)
{
	struct fg_proc *p = calloc(1, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	p->tid = 4243;
	p->pid = 4242;
	p->ppid = 4100;
	p->uid = 0;
	p->auid = 1000;
	p->sessionid = 3;
	p->start_time = 987654;
	fg_strlcpy(p->comm, "vim", sizeof(p->comm));
	fg_strlcpy(p->exe, "/usr/bin/vim", sizeof(p->exe));
	fg_strlcpy(p->cgroup, "/user.slice/user-1000.slice/session-3.scope", sizeof(p->cgroup));
	add_ancestor(p, 4100, "/usr/bin/bash", "bash");
	add_ancestor(p, 900, "/usr/sbin/sshd", "sshd");
	add_ancestor(p, 1, "/usr/lib/systemd/systemd", "systemd");
	return p;
}

static struct fg_event make_event(const struct fg_proc *p)
{
	struct fg_event ev = {
	    .when = {.tv_sec = 1795811400, .tv_nsec = 123456789},
	    .action = "open-write",
	    .outcome = "failure",
	    .decision = "deny",
	    .reason = "no-rule",
	    .mode = "enforce",
	    .rule = NULL,
	    .subtree = "sudoers",
	    .key = "priv_esc_persist",
	    .path = "/etc/sudoers.d/evil",
	    .proc = p,
	    .has_open = true,
	    .open_flags = 0x241,
	    .open_syscall = "openat",
	};
	return ev;
}

START_TEST(test_fg_log_format_json_full)
{
	static char buf[FG_LINE_CAP];
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;
	const char *exprs[] = {
	    "d['@timestamp'] == '2026-11-27T20:30:00.123456Z'",
	    "d['event'] == {'action':'open-write','outcome':'failure','kind':'event',"
	    "'category':['file'],'module':'fanguard'}",
	    "d['fanguard']['decision'] == 'deny' and d['fanguard']['reason'] == 'no-rule'",
	    "d['fanguard']['mode'] == 'enforce' and d['fanguard']['subtree'] == 'sudoers'",
	    "d['fanguard']['key'] == 'priv_esc_persist' and 'rule' not in d['fanguard']",
	    "d['fanguard']['session_id'] == '3' and 'count' not in d['fanguard']",
	    "d['fanguard']['cgroup'] == '/user.slice/user-1000.slice/session-3.scope'",
	    "d['fanguard']['transaction'] == {'pid':77,'executable':'/usr/bin/bootc'}",
	    "d['fanguard']['resolution'] == 'partial'",
	    "d['file'] == {'path':'/etc/sudoers.d/evil'}",
	    "d['process']['pid'] == 4242 and d['process']['thread'] == {'id':4243}",
	    "d['process']['executable'] == '/usr/bin/vim' and d['process']['name'] == 'vim'",
	    "d['process']['start'] == 987654",
	    "d['process']['parent'] == {'pid':4100,'executable':'/usr/bin/bash','name':'bash'}",
	    "[a['pid'] for a in d['process']['ancestry']] == [4100, 900, 1]",
	    "d['process']['ancestry'][2]['executable'] == '/usr/lib/systemd/systemd'",
	    "d['process']['ancestry'][1]['name'] == 'sshd'",
	    "'ancestry_truncated' not in d['process'] and 'truncated' not in d",
	    "d['user'] == {'id':'0','audit':{'id':'1000'}}",
	    "d['open'] == {'flags':'0x241','syscall':'openat'}",
	    "'message' not in d and not any('.' in k for k in d if k != '@timestamp')",
	    NULL,
	};

	ev.tx_pid = 77;
	ev.tx_exe = "/usr/bin/bootc";
	ev.proc_partial = true;
	n = fg_log_format(&ev, FG_FMT_JSON, buf, sizeof(buf));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(n, strlen(buf));
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert_uint_eq(count_char(buf, n, '\n'), 1);
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

START_TEST(test_fg_log_format_json_auid_unset)
{
	static char buf[FG_LINE_CAP];
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;
	const char *exprs[] = {
	    "d['user']['audit']['id'] == 'unset'",
	    "d['fanguard']['session_id'] == 'unset'",
	    "d['open'] == {'flags':'0x1','nr':999}",
	    NULL,
	};

	p->auid = FG_AUID_UNSET;
	p->sessionid = FG_AUID_UNSET;
	ev.open_flags = 1;
	ev.open_syscall = NULL;
	ev.open_nr = 999;
	n = fg_log_format(&ev, FG_FMT_JSON, buf, sizeof(buf));
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

START_TEST(test_fg_log_format_json_hostile_path)
{
	static char buf[FG_LINE_CAP];
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;
	const char *exprs[] = {
	    "d['file']['path'] == '/etc/sudoers.d/a\\nb\"c\\ufffd\\r'",
	    "bytes.fromhex(d['file']['path_hex']) == b'/etc/sudoers.d/a\\nb\"c\\xff\\r'",
	    "d['process']['name'] == 'x\\ny' and 'name_hex' not in d['process']",
	    NULL,
	};

	ev.path = "/etc/sudoers.d/a\nb\"c\xff\r";
	fg_strlcpy(p->comm, "x\ny", sizeof(p->comm));
	n = fg_log_format(&ev, FG_FMT_JSON, buf, sizeof(buf));
	ck_assert_uint_eq(count_char(buf, n, '\n'), 1);
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

/* 1024 ancestors with long exe paths do not fit 64 KiB: the line is cut
 * to a valid object, the small members up front survive. */
START_TEST(test_fg_log_format_json_deep_ancestry)
{
	static char buf[FG_LINE_CAP];
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	char exe[64];
	size_t n;
	const char *exprs[] = {
	    "d['truncated'] is True and d['process']['ancestry_truncated'] is True",
	    "d['user']['audit']['id'] == '1000' and d['file']['path'] == '/etc/sudoers.d/evil'",
	    "len(d['process']['ancestry']) > 100",
	    NULL,
	};

	p->n_ancestors = 0;
	p->arena_used = 0;
	for (int i = 0; i < FG_ANCESTRY_MAX; i++) {
		snprintf(exe, sizeof(exe), "/usr/libexec/some/long/helper/path/number-%08d", i);
		add_ancestor(p, 100000 + i, exe, "helper");
	}
	p->ancestry_truncated = true;
	n = fg_log_format(&ev, FG_FMT_JSON, buf, sizeof(buf));
	ck_assert_uint_lt(n, FG_LINE_CAP);
	ck_assert_uint_eq(count_char(buf, n, '\n'), 1);
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

START_TEST(test_fg_log_format_json_daemon_event)
{
	char buf[1024];
	struct fg_event ev = {.action = "log-dropped",
			      .outcome = "failure",
			      .count = 12,
			      .message = "12 log lines were dropped"};
	size_t n;
	const char *exprs[] = {
	    "d['@timestamp'] == '1970-01-01T00:00:00.000000Z'",
	    "d['event'] == {'action':'log-dropped','outcome':'failure','kind':'event',"
	    "'module':'fanguard'}",
	    "d['fanguard'] == {'count':12} and d['message'] == '12 log lines were dropped'",
	    "'process' not in d and 'user' not in d and 'file' not in d and 'open' not in d",
	    NULL,
	};

	n = fg_log_format(&ev, FG_FMT_JSON, buf, sizeof(buf));
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

START_TEST(test_fg_log_format_text)
{
	static char buf[FG_LINE_CAP];
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;

	p->auid = FG_AUID_UNSET;
	ev.rule = "editors";
	ev.path = "/etc/sudoers.d/a b\n\"c\xff";
	n = fg_log_format(&ev, FG_FMT_TEXT, buf, sizeof(buf));
	ck_assert_str_eq(buf,
			 "fanguard: action=open-write decision=deny reason=no-rule mode=enforce "
			 "subtree=sudoers key=priv_esc_persist "
			 "path=\"/etc/sudoers.d/a b\\n\\\"c\\ufffd\" pid=4242 tid=4243 "
			 "exe=\"/usr/bin/vim\" comm=\"vim\" uid=0 auid=unset ppid=4100 "
			 "pexe=\"/usr/bin/bash\" rule=editors flags=0x241 syscall=openat\n");
	ck_assert_uint_eq(n, strlen(buf));
	ck_assert_uint_eq(count_char(buf, n, '\n'), 1);
}
END_TEST

START_TEST(test_fg_log_format_text_truncated)
{
	char buf[128];
	struct fg_event ev = {.action = "daemon-start",
			      .message = "a message far too long for the small buffer given here, "
					 "so that it is dropped whole and the line marked"};
	size_t n = fg_log_format(&ev, FG_FMT_TEXT, buf, sizeof(buf));

	ck_assert_str_eq(buf, "fanguard: action=daemon-start truncated=true\n");
	ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(test_fg_log_format_journal_fields)
{
	static char buf[FG_LINE_CAP];
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	const char *want[] = {"PRIORITY=4",
			      "SYSLOG_IDENTIFIER=fanguardd",
			      "FANGUARD_ACTION=open-write",
			      "FANGUARD_DECISION=deny",
			      "FANGUARD_KEY=priv_esc_persist",
			      "FANGUARD_SUBTREE=sudoers",
			      "FANGUARD_PATH=/etc/sudoers.d/evil",
			      "FANGUARD_PID=4242",
			      "FANGUARD_EXE=/usr/bin/vim",
			      "FANGUARD_AUID=unset"};
	const char *exprs[] = {"d['fanguard']['decision'] == 'deny'", NULL};
	size_t n, i = 0, k = 0;

	p->auid = FG_AUID_UNSET;
	n = fg_log_format_journal(&ev, buf, sizeof(buf));
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(buf[n - 1], '\0');
	for (; k < FG_ARRAY_SIZE(want); k++) {
		ck_assert_str_eq(buf + i, want[k]);
		i += strlen(buf + i) + 1;
	}
	ck_assert_int_eq(strncmp(buf + i, "MESSAGE={", 9), 0);
	ck_assert_uint_eq(i + strlen(buf + i) + 1, n);
	ck_assert_int_eq(py_check(buf + i + 8, strlen(buf + i + 8), exprs), 0);
}
END_TEST

static size_t read_file(const char *path, char *buf, size_t cap)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t r;

	ck_assert_int_ge(fd, 0);
	while ((r = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)r;
	return got;
}

START_TEST(test_fg_logger_open_file)
{
	static struct fg_config cfg;
	static char buf[1 << 20];
	struct fg_logger lg;
	char dir[] = "/tmp/fg-log-XXXXXX";
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	uint64_t written, dropped, errors;
	struct stat st;
	size_t n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	cfg.log = FG_SINK_FILE;
	cfg.log_format = FG_FMT_JSON;
	snprintf(cfg.log_path, sizeof(cfg.log_path), "%s/fanguard.log", dir);
	ck_assert_int_eq(fg_logger_open(&lg, &cfg), 0);
	ck_assert_int_gt(lg.tid, 0);
	ck_assert_int_ne(lg.tid, getpid());
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(fg_logger_event(&lg, &ev), 0);
	fg_logger_close(&lg);
	fg_logger_stats(&lg, &written, &dropped, &errors);
	ck_assert_uint_eq(written, 200);
	ck_assert_uint_eq(dropped, 0);
	ck_assert_uint_eq(errors, 0);
	ck_assert_int_eq(stat(cfg.log_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0137, 0);
	n = read_file(cfg.log_path, buf, sizeof(buf));
	ck_assert_uint_eq(count_char(buf, n, '\n'), 200);
	unlink(cfg.log_path);
	rmdir(dir);
}
END_TEST

START_TEST(test_fg_logger_open_file_missing_dir)
{
	static struct fg_config cfg;
	struct fg_logger lg;

	cfg.log = FG_SINK_FILE;
	fg_strlcpy(cfg.log_path, "/nonexistent-fg-dir/x.log", sizeof(cfg.log_path));
	ck_assert_int_eq(fg_logger_open(&lg, &cfg), -ENOENT);
}
END_TEST

/* SigBlk of the logger thread: SIGTERM, SIGHUP and SIGINT are blocked. */
START_TEST(test_fg_logger_open_fd_signals_blocked)
{
	struct fg_logger lg;
	char path[64], status[4096], *line;
	unsigned long long mask;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	ck_assert_int_eq(fg_logger_open_fd(&lg, fd, FG_FMT_TEXT), 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)lg.tid);
	ck_assert_int_ge(fg_read_small(AT_FDCWD, path, status, sizeof(status)), 0);
	line = strstr(status, "SigBlk:");
	ck_assert_ptr_nonnull(line);
	mask = strtoull(line + 7, NULL, 16);
	ck_assert(mask & (1ULL << (SIGTERM - 1)));
	ck_assert(mask & (1ULL << (SIGHUP - 1)));
	ck_assert(mask & (1ULL << (SIGINT - 1)));
	fg_logger_close(&lg);
}
END_TEST

START_TEST(test_fg_logger_submit_oversize)
{
	static char big[FG_LINE_CAP + 1];
	struct fg_logger lg;
	uint64_t dropped;

	ck_assert_int_eq(
	    fg_logger_open_fd(&lg, open("/dev/null", O_WRONLY | O_CLOEXEC), FG_FMT_JSON), 0);
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(fg_logger_submit(&lg, big, sizeof(big)), -ENOBUFS);
	ck_assert_int_eq(fg_logger_submit(&lg, "ok\n", 3), 0);
	fg_logger_close(&lg);
	fg_logger_stats(&lg, NULL, &dropped, NULL);
	ck_assert_uint_eq(dropped, 1);
	ck_assert_int_eq(fg_logger_submit(&lg, "late\n", 5), -EINVAL);
}
END_TEST

struct reader {
	int fd;
	char *buf;
	size_t cap, len;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	while ((n = read(r->fd, r->buf + r->len, r->cap - r->len)) > 0)
		r->len += (size_t)n;
	return NULL;
}

/* The sink is a pipe nobody reads while we submit: the pipe fills, then the
 * ring, then lines are dropped. Once a reader drains it, every accepted line
 * arrives, followed by one summary line counting the dropped ones. */
START_TEST(test_fg_logger_submit_ring_overflow)
{
	enum { LINE = 1000, TOTAL = 1000 };
	static char line[LINE];
	struct reader rd = {.cap = 4 << 20};
	struct fg_logger lg;
	pthread_t th;
	int fds[2], accepted = 0;
	uint64_t written, dropped, errors;
	char *last, want[160];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	ck_assert_int_eq(fg_logger_open_fd(&lg, fds[1], FG_FMT_JSON), 0);
	memset(line, 'a', LINE - 1);
	line[LINE - 1] = '\n';
	for (int i = 0; i < TOTAL; i++) {
		int r = fg_logger_submit(&lg, line, LINE);

		ck_assert(r == 0 || r == -ENOBUFS);
		accepted += r == 0;
	}
	ck_assert_int_lt(accepted, TOTAL);
	ck_assert_int_gt(accepted, FG_RING_CAP / LINE / 2);

	rd.fd = fds[0];
	rd.buf = malloc(rd.cap);
	ck_assert_ptr_nonnull(rd.buf);
	ck_assert_int_eq(pthread_create(&th, NULL, reader_main, &rd), 0);
	fg_logger_close(&lg);
	pthread_join(th, NULL);
	close(fds[0]);

	fg_logger_stats(&lg, &written, &dropped, &errors);
	ck_assert_uint_eq(dropped, (uint64_t)(TOTAL - accepted));
	ck_assert_uint_eq(written, (uint64_t)accepted + 1);
	ck_assert_uint_eq(errors, 0);
	ck_assert_uint_eq(count_char(rd.buf, rd.len, '\n'), (size_t)accepted + 1);
	ck_assert_uint_gt(rd.len, (size_t)accepted * LINE);
	/* The summary comes after every accepted line. */
	last = rd.buf + (size_t)accepted * LINE;
	snprintf(want, sizeof(want),
		 "d['event']['action'] == 'log-dropped' and d['fanguard']['count'] == %d",
		 TOTAL - accepted);
	{
		const char *exprs[] = {want,
				       "d['message'].endswith(' log lines were dropped because the "
				       "sink was too slow')",
				       NULL};
		ck_assert_int_eq(py_check(last, rd.len - (size_t)accepted * LINE, exprs), 0);
	}
	free(rd.buf);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fg_log_format_json_full);
	tcase_add_test(tc, test_fg_log_format_json_auid_unset);
	tcase_add_test(tc, test_fg_log_format_json_hostile_path);
	tcase_add_test(tc, test_fg_log_format_json_deep_ancestry);
	tcase_add_test(tc, test_fg_log_format_json_daemon_event);
	tcase_add_test(tc, test_fg_log_format_text);
	tcase_add_test(tc, test_fg_log_format_text_truncated);
	tcase_add_test(tc, test_fg_log_format_journal_fields);
	tcase_add_test(tc, test_fg_logger_open_file);
	tcase_add_test(tc, test_fg_logger_open_file_missing_dir);
	tcase_add_test(tc, test_fg_logger_open_fd_signals_blocked);
	tcase_add_test(tc, test_fg_logger_submit_oversize);
	tcase_add_test(tc, test_fg_logger_submit_ring_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
