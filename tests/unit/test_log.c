#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fanguard/log.h"
#include "fanguard/util.h"
#include "logfix.h"
#include "pycheck.h"

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

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

/* Runs a python3 program over the lines in s (n bytes) as `lines` (a list
 * of parsed objects; a line that is not JSON fails it); it must exit 0. */
static int py_lines(const char *s, size_t n, const char *program)
{
	char script[8192];
	const char *argv[] = {"python3", "-c", script, NULL};

	snprintf(script, sizeof(script),
		 "import json,sys\n"
		 "raw=sys.stdin.buffer.read().decode('utf-8')\n"
		 "assert raw.endswith('\\n'), 'last line cut'\n"
		 "lines=[json.loads(l) for l in raw.splitlines()]\n"
		 "def need(c, *what):\n"
		 "    if not c: print('failed:', *what, file=sys.stderr); sys.exit(1)\n"
		 "%s\n",
		 program);
	return py_pipe(argv, s, n);
}

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

/* A logger on a pipe, read by a thread into rd once started. */
struct piped {
	struct fg_logger lg;
	struct reader rd;
	pthread_t th;
	int rfd;
};

static void piped_open(struct piped *pp, const struct fg_logopts *o)
{
	int fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pp->rfd = fds[0];
	pp->rd = (struct reader){.fd = fds[0], .cap = 16 << 20};
	pp->rd.buf = malloc(pp->rd.cap);
	ck_assert_ptr_nonnull(pp->rd.buf);
	ck_assert_int_eq(fg_logger_open_fd_opts(&pp->lg, fds[1], FG_FMT_JSON, o), 0);
}

static void piped_read(struct piped *pp)
{
	ck_assert_int_eq(pthread_create(&pp->th, NULL, reader_main, &pp->rd), 0);
}

/* Closes the logger (its windows end, its ring drains), then the pipe. */
static void piped_close(struct piped *pp)
{
	fg_logger_close(&pp->lg);
	pthread_join(pp->th, NULL);
	close(pp->rfd);
}

static void opts(struct fg_logopts *o, unsigned threshold, uint64_t window_ms, uint64_t hb_ms)
{
	fg_logopts_default(o);
	o->repeat_threshold = threshold;
	o->repeat_window_ns = window_ms * 1000000ULL;
	o->heartbeat_interval_ns = hb_ms * 1000000ULL;
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
	fg_config_init(&cfg);
	cfg.log = FG_SINK_FILE;
	cfg.repeat_threshold = 0;
	snprintf(cfg.log_path, sizeof(cfg.log_path), "%s/fanguard.log", dir);
	ck_assert_int_eq(fg_logger_open(&lg, &cfg), 0);
	ck_assert_int_gt(lg.tid, 0);
	ck_assert_int_ne(lg.tid, getpid());
	ck_assert_uint_eq(lg.opts.max_line, 7500);
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
	/* Numbered 1..200 in file order, each id once, the host read for real. */
	ck_assert_int_eq(
	    py_lines(buf, n,
		     "need([l['event']['sequence'] for l in lines] == "
		     "list(range(1, 201)), 'sequence')\n"
		     "need(len({l['event']['id'] for l in lines}) == 200, 'ids')\n"
		     "need(all(l['event']['id'].startswith(l['fanguard']['instance'] "
		     "+ '-') for l in lines), 'id prefix')\n"
		     "import socket\n"
		     "need(lines[0]['host']['name'] == socket.gethostname(), 'host')\n"
		     "need(lines[0]['host']['id'] == "
		     "open('/etc/machine-id').read().strip(), 'machine-id')\n"
		     "need(lines[0]['host']['boot']['id'] == "
		     "open('/proc/sys/kernel/random/boot_id').read().strip(), 'boot id')\n"),
	    0);
	unlink(cfg.log_path);
	rmdir(dir);
}
END_TEST

START_TEST(test_fg_logger_open_file_missing_dir)
{
	static struct fg_config cfg;
	struct fg_logger lg;

	fg_config_init(&cfg);
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
	static char big[FG_RECORD_CAP + 1];
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

/* The sink is a pipe nobody reads while we log: the pipe fills, then the
 * ring, then lines are dropped. Once a reader drains it, every accepted
 * line arrives, then one log-dropped line naming exactly the sequence
 * numbers that are missing. Repeats are off: every event is numbered. */
START_TEST(test_fg_logger_event_ring_overflow)
{
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	struct fg_logopts o;
	struct piped pp;
	uint64_t written, dropped, errors;
	int accepted = 0, total = 3000;
	char want[256];

	opts(&o, 0, 1000, 0);
	piped_open(&pp, &o);
	deep_ancestry(p, 30);
	for (int i = 0; i < total; i++) {
		int r = fg_logger_event(&pp.lg, &ev);

		ck_assert(r == 0 || r == -ENOBUFS);
		accepted += r == 0;
	}
	ck_assert_int_lt(accepted, total);
	piped_read(&pp);
	/* Once the ring has drained, the report goes out, then later events. */
	for (int i = 0; i < 500; i++) {
		fg_logger_stats(&pp.lg, &written, NULL, NULL);
		if (written > (uint64_t)accepted)
			break;
		usleep(10000);
	}
	ck_assert_int_eq(fg_logger_event(&pp.lg, &ev), 0);
	piped_close(&pp);
	fg_logger_stats(&pp.lg, &written, &dropped, &errors);
	ck_assert_uint_eq(dropped, (uint64_t)(total - accepted));
	/* Reports also go out while the loop runs, whenever the thread has
	 * taken a batch out of the ring: each names what was lost since the
	 * one before. */
	ck_assert_uint_gt(written, (uint64_t)accepted + 1);
	ck_assert_uint_eq(written, count_char(pp.rd.buf, pp.rd.len, '\n'));
	ck_assert_uint_eq(errors, 0);
	ck_assert_int_eq(
	    py_lines(
		pp.rd.buf, pp.rd.len,
		"seqs=[l['event']['sequence'] for l in lines]\n"
		"need(seqs == sorted(seqs), 'order')\n"
		"need(len(set(seqs)) == len(seqs), 'unique')\n"
		"missing=set(range(1, max(seqs) + 1)) - set(seqs)\n"
		"named=set()\n"
		"for l in lines:\n"
		"    if l['event']['action'] != 'log-dropped': continue\n"
		"    lost=l['fanguard']['lost']; here=set()\n"
		"    for r in lost['ranges'].split(','):\n"
		"        a, _, b = r.partition('-'); here |= set(range(int(a), int(b or a) + 1))\n"
		"    need(lost['count'] == len(here), 'count', lost)\n"
		"    need(min(here) == lost['first'] and max(here) == lost['last'], 'ends')\n"
		"    need(not here & named, 'named twice')\n"
		"    need(l['event']['sequence'] > lost['last'], 'report after the loss')\n"
		"    need(l['log']['level'] == 'error', 'loud')\n"
		"    named |= here\n"
		"need(named == missing, 'every missing number named', len(named), "
		"len(missing))\n"
		"need(lines[-1]['event']['action'] == 'open-write', 'the later event')\n"),
	    0);
	snprintf(want, sizeof(want),
		 "seqs={l['event']['sequence'] for l in lines}\n"
		 "need(len(set(range(1, max(seqs) + 1)) - seqs) == %d, 'as many as dropped')\n",
		 total - accepted);
	ck_assert_int_eq(py_lines(pp.rd.buf, pp.rd.len, want), 0);
	free(pp.rd.buf);
}
END_TEST

/* Identical denials past the threshold fold into one `repeated` line at
 * the window's end, without waiting for close; an alert in the middle and
 * another writer's denial are logged as they come; the window after is
 * logged in full again. */
START_TEST(test_fg_logger_event_repeats)
{
	_cleanup_free_ struct fg_proc *p = make_proc(), *q = make_proc();
	struct fg_event ev = make_event(p), other = make_event(q), alert = make_event(p);
	struct fg_logopts o;
	struct piped pp;
	char path[64];

	opts(&o, 3, 400, 0);
	piped_open(&pp, &o);
	piped_read(&pp);
	q->auid = 1001;
	alert.decision = "detected";
	alert.action = "modify";
	alert.outcome = "success";
	for (int i = 1; i <= 50; i++) {
		snprintf(path, sizeof(path), "/etc/sudoers.d/f%d", i);
		ev.path = path;
		ck_assert_int_eq(fg_logger_event(&pp.lg, &ev), 0);
		if (i == 10 || i == 20 || i == 30)
			ck_assert_int_eq(fg_logger_event(&pp.lg, &alert), 0);
		if (i == 40)
			ck_assert_int_eq(fg_logger_event(&pp.lg, &other), 0);
	}
	ck_assert_uint_eq(fg_logger_aggregated(&pp.lg), 47);
	/* The window's line comes on the logger's own timer. */
	for (int i = 0; i < 100 && !memmem(pp.rd.buf, pp.rd.len, "\"repeated\"", 10); i++)
		usleep(20000);
	ck_assert_ptr_nonnull(memmem(pp.rd.buf, pp.rd.len, "\"repeated\"", 10));
	ev.path = "/etc/sudoers.d/after";
	ck_assert_int_eq(fg_logger_event(&pp.lg, &ev), 0);
	piped_close(&pp);
	ck_assert_int_eq(
	    py_lines(pp.rd.buf, pp.rd.len,
		     "acts=[l['event']['action'] for l in lines]\n"
		     "need(acts.count('repeated') == 1, 'one repeated', acts)\n"
		     "full=[l['file']['path'] for l in lines if l['event']['action'] == "
		     "'open-write' and l['user']['audit']['id'] == '1000']\n"
		     "need(full == ['/etc/sudoers.d/f1','/etc/sudoers.d/f2','/etc/sudoers.d/f3',"
		     "'/etc/sudoers.d/after'], 'full lines', full)\n"
		     "need(acts.count('modify') == 3, 'alerts never folded')\n"
		     "need(sum(1 for l in lines if l.get('user', {}).get('audit', {}).get('id') "
		     "== '1001') == 1, 'other writer')\n"
		     "r=[l for l in lines if l['event']['action'] == 'repeated'][0]\n"
		     "need(r['fanguard']['repeated'] == {'action':'open-write','count':47,"
		     "'last_path':'/etc/sudoers.d/f50'}, r['fanguard']['repeated'])\n"
		     "need(r['file']['path'] == '/etc/sudoers.d/f4', 'first file')\n"
		     "need(r['event']['type'] == ['change','denied'], r['event'])\n"
		     "need(r['fanguard']['decision'] == 'deny' and r['tags'] == "
		     "['priv_esc_persist'], 'words')\n"
		     "need(r['process']['executable'] == '/usr/bin/vim' and 'pid' not in "
		     "r['process'], 'writer', r['process'])\n"
		     "need(r['event']['start'] <= r['event']['end'], 'span')\n"
		     "need(acts.index('repeated') < len(acts) - 1, 'before the next window')\n"),
	    0);
	free(pp.rd.buf);
}
END_TEST

static uint64_t hb_calls;

static void hb_fill(void *ctx, struct fg_heartbeat *ret)
{
	(void)ctx;
	hb_calls++;
	ret->mode = "audit";
	ret->generation = 3;
	ret->marks = 17;
	ret->have_counters = true;
	ret->c.denied = 5 * hb_calls;
	ret->c.read_allowed = 100 * hb_calls;
}

/* Heartbeats on the logger's own timer, with what changed since the last
 * and the sequence number of the line before. */
START_TEST(test_fg_logger_heartbeat)
{
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	struct fg_logopts o;
	struct piped pp;

	opts(&o, 0, 1000, 300);
	piped_open(&pp, &o);
	fg_logger_set_heartbeat(&pp.lg, hb_fill, NULL);
	piped_read(&pp);
	ck_assert_int_eq(fg_logger_event(&pp.lg, &ev), 0);
	ck_assert_int_eq(fg_logger_event(&pp.lg, &ev), 0);
	usleep(1100 * 1000);
	piped_close(&pp);
	ck_assert_int_eq(
	    py_lines(pp.rd.buf, pp.rd.len,
		     "hb=[l for l in lines if l['event']['action'] == 'heartbeat']\n"
		     "need(3 <= len(hb) <= 4, 'count', len(hb))\n"
		     "h=hb[0]['fanguard']\n"
		     "need(hb[0]['event']['kind'] == 'state' and hb[0]['log']['level'] == "
		     "'notice', hb[0]['event'])\n"
		     "need(h['mode'] == 'audit' and h['heartbeat']['generation'] == 3 and "
		     "h['heartbeat']['marks'] == 17, h)\n"
		     "need(h['heartbeat']['interval'] == 0, 'interval in whole seconds')\n"
		     "need(h['heartbeat']['counters']['denied'] == 5 and "
		     "h['heartbeat']['counters']['read_allowed'] == 100, 'first counts')\n"
		     "need(h['heartbeat']['last_sequence'] == 2 and h['heartbeat']['lines'] == 2,"
		     " 'last', h)\n"
		     "need(hb[0]['event']['sequence'] == 3, 'its own number')\n"
		     "h2=hb[1]['fanguard']['heartbeat']\n"
		     "need(h2['counters']['denied'] == 5 and h2['lines'] == 0 and "
		     "h2['last_sequence'] == 3, 'since the last', h2)\n"),
	    0);
	free(pp.rd.buf);
}
END_TEST

/* Through the whole logger, a 300-deep writer with the worst name stays
 * one line within max_line. */
START_TEST(test_fg_logger_event_never_cut)
{
	static char name[PATH_MAX];
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	struct fg_logopts o;
	struct piped pp;

	opts(&o, 0, 1000, 0);
	o.max_line = 4096;
	piped_open(&pp, &o);
	piped_read(&pp);
	deep_ancestry(p, 300);
	ck_assert_int_eq(fg_logger_event(&pp.lg, &ev), 0);
	hostile_name(name, sizeof(name));
	ev.path = name;
	ck_assert_int_eq(fg_logger_event(&pp.lg, &ev), 0);
	piped_close(&pp);
	ck_assert_int_eq(
	    py_lines(pp.rd.buf, pp.rd.len,
		     "need(len(lines) == 2, 'two lines')\n"
		     "for l in raw.splitlines(): need(len(l.encode()) + 1 <= 4096, "
		     "'max_line', len(l))\n"
		     "need(all(l['fanguard']['truncated'] for l in lines), 'said so')\n"),
	    0);
	free(pp.rd.buf);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fg_logger_open_file);
	tcase_add_test(tc, test_fg_logger_open_file_missing_dir);
	tcase_add_test(tc, test_fg_logger_open_fd_signals_blocked);
	tcase_add_test(tc, test_fg_logger_submit_oversize);
	tcase_add_test(tc, test_fg_logger_event_ring_overflow);
	tcase_add_test(tc, test_fg_logger_event_repeats);
	tcase_add_test(tc, test_fg_logger_heartbeat);
	tcase_add_test(tc, test_fg_logger_event_never_cut);
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
