/* Check suite "pcache": the connector parser on hand-built datagrams, the
 * cache against real children with events fed by hand, and the real process
 * events connector (needs root, never skips). */
#include "fanguard/pcache.h"
#include "fanguard/proc.h"
#include "fanguard/util.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "children.h"

/* ---- datagrams */

#define POISON 0x5a

/* One connector message as the kernel sends it: nlmsghdr, cn_msg, then a
 * proc_event filled through the uapi header's own field names, so the
 * parser's offsets are checked against the real layout. */
struct msg_spec {
	uint32_t idx, val;   /* connector id */
	uint16_t nl_type;    /* nlmsg_type */
	uint32_t what;	     /* PROC_EVENT_* */
	pid_t pid, tgid;     /* the task the event is about */
	int cn_len_delta;    /* added to cn_msg.len */
	int nl_len_delta;    /* added to nlmsg_len */
	unsigned extra_data; /* bytes of payload past the proc_event */
};

static struct msg_spec event_msg(uint32_t what, pid_t pid, pid_t tgid)
{
	return (struct msg_spec){.idx = CN_IDX_PROC,
				 .val = CN_VAL_PROC,
				 .nl_type = NLMSG_DONE,
				 .what = what,
				 .pid = pid,
				 .tgid = tgid};
}

static void fill_event(struct proc_event *pe, uint32_t what, pid_t pid, pid_t tgid)
{
	memset(pe, 0, sizeof(*pe));
	pe->what = what;
	pe->cpu = 1;
	pe->timestamp_ns = 123456789;
	switch (what) {
	case PROC_EVENT_FORK:
		pe->event_data.fork.parent_pid = pid;
		pe->event_data.fork.parent_tgid = tgid;
		pe->event_data.fork.child_pid = pid + 1;
		pe->event_data.fork.child_tgid = pid + 1;
		break;
	case PROC_EVENT_EXEC:
		pe->event_data.exec.process_pid = pid;
		pe->event_data.exec.process_tgid = tgid;
		break;
	case PROC_EVENT_UID:
		pe->event_data.id.process_pid = pid;
		pe->event_data.id.process_tgid = tgid;
		pe->event_data.id.r.ruid = 1000;
		break;
	case PROC_EVENT_COMM:
		pe->event_data.comm.process_pid = pid;
		pe->event_data.comm.process_tgid = tgid;
		memcpy(pe->event_data.comm.comm, "renamed", 8);
		break;
	case PROC_EVENT_EXIT:
		pe->event_data.exit.process_pid = pid;
		pe->event_data.exit.process_tgid = tgid;
		pe->event_data.exit.exit_code = 9;
		pe->event_data.exit.parent_pid = 1;
		pe->event_data.exit.parent_tgid = 1;
		break;
	default:
		ck_abort_msg("no layout for event %#x", what);
	}
}

/* Appends the message at buf + off (buf holds size bytes); returns the
 * offset of the next message (nlmsg_len rounded up, as the kernel does). */
static size_t put_msg(char *buf, size_t size, size_t off, const struct msg_spec *m)
{
	size_t payload = sizeof(struct proc_event) + m->extra_data;
	struct nlmsghdr nh = {
	    .nlmsg_len =
		(uint32_t)((int)NLMSG_LENGTH(sizeof(struct cn_msg) + payload) + m->nl_len_delta),
	    .nlmsg_type = m->nl_type,
	};
	struct cn_msg cn = {.id = {m->idx, m->val},
			    .len = (uint16_t)((int)payload + m->cn_len_delta)};
	struct proc_event pe;

	ck_assert_uint_le(off + NLMSG_SPACE(sizeof(cn) + payload), size);
	fill_event(&pe, m->what, m->pid, m->tgid);
	memset(buf + off, 0, NLMSG_SPACE(sizeof(cn) + payload));
	memcpy(buf + off, &nh, sizeof(nh));
	memcpy(buf + off + NLMSG_HDRLEN, &cn, sizeof(cn));
	memcpy(buf + off + NLMSG_HDRLEN + sizeof(cn), &pe, sizeof(pe));
	return off + NLMSG_SPACE(sizeof(cn) + payload);
}

/* fg_cn_parse over an exact-size heap copy, so a read past len is a
 * sanitizer error; ret is poisoned first. */
static size_t parse(const char *buf, size_t len, struct fg_cn_event *ret, size_t n_ret, size_t max)
{
	char *copy = malloc(len ? len : 1);
	size_t n;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, buf, len);
	memset(ret, POISON, n_ret * sizeof(*ret));
	n = fg_cn_parse(copy, len, ret, max);
	free(copy);
	return n;
}

static bool poisoned(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != POISON)
			return false;
	return true;
}

/* ---- fg_cn_parse */

START_TEST(test_cn_parse_two_messages)
{
	char buf[512] __attribute__((aligned(8)));
	struct fg_cn_event ev[4];
	struct msg_spec exec = event_msg(PROC_EVENT_EXEC, 4243, 4242);
	struct msg_spec ex = event_msg(PROC_EVENT_EXIT, 777, 777);
	size_t len = put_msg(buf, sizeof(buf), 0, &exec);

	len = put_msg(buf, sizeof(buf), len, &ex);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 2);
	ck_assert_uint_eq(ev[0].what, PROC_EVENT_EXEC);
	ck_assert_int_eq(ev[0].pid, 4243);
	ck_assert_int_eq(ev[0].tgid, 4242);
	ck_assert_uint_eq(ev[1].what, PROC_EVENT_EXIT);
	ck_assert_int_eq(ev[1].pid, 777);
	ck_assert_int_eq(ev[1].tgid, 777);
	ck_assert(poisoned(&ev[2], 2 * sizeof(ev[0])));
}
END_TEST

START_TEST(test_cn_parse_every_kind_reads_the_task)
{
	/* Every kind starts with the task's pid and tgid; for a fork that is
	 * the parent's. */
	static const uint32_t kinds[] = {PROC_EVENT_FORK, PROC_EVENT_EXEC, PROC_EVENT_UID,
					 PROC_EVENT_COMM, PROC_EVENT_EXIT};
	char buf[256] __attribute__((aligned(8)));
	struct fg_cn_event ev[1];

	for (size_t i = 0; i < FG_ARRAY_SIZE(kinds); i++) {
		struct msg_spec m = event_msg(kinds[i], 100 + (pid_t)i, 50);
		size_t len = put_msg(buf, sizeof(buf), 0, &m);

		ck_assert_uint_eq(parse(buf, len, ev, 1, 1), 1);
		ck_assert_uint_eq(ev[0].what, kinds[i]);
		ck_assert_int_eq(ev[0].pid, 100 + (pid_t)i);
		ck_assert_int_eq(ev[0].tgid, 50);
	}
}
END_TEST

START_TEST(test_cn_parse_foreign_skipped)
{
	char buf[1024] __attribute__((aligned(8)));
	struct fg_cn_event ev[4];
	struct msg_spec foreign_idx = event_msg(PROC_EVENT_EXEC, 10, 10);
	struct msg_spec foreign_val = event_msg(PROC_EVENT_EXEC, 11, 11);
	struct msg_spec not_done = event_msg(PROC_EVENT_EXEC, 12, 12);
	struct msg_spec good = event_msg(PROC_EVENT_EXIT, 13, 13);
	size_t len;

	foreign_idx.idx = CN_W1_IDX;
	foreign_val.val = CN_VAL_PROC + 1;
	not_done.nl_type = NLMSG_ERROR;
	len = put_msg(buf, sizeof(buf), 0, &foreign_idx);
	len = put_msg(buf, sizeof(buf), len, &foreign_val);
	len = put_msg(buf, sizeof(buf), len, &not_done);
	len = put_msg(buf, sizeof(buf), len, &good);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 1);
	ck_assert_uint_eq(ev[0].what, PROC_EVENT_EXIT);
	ck_assert_int_eq(ev[0].pid, 13);
}
END_TEST

START_TEST(test_cn_parse_nlmsg_len_past_buffer)
{
	char buf[512] __attribute__((aligned(8)));
	struct fg_cn_event ev[4];
	struct msg_spec good = event_msg(PROC_EVENT_EXEC, 20, 20);
	struct msg_spec too_long = event_msg(PROC_EVENT_EXEC, 21, 21);
	size_t len;

	/* Alone: nothing. */
	too_long.nl_len_delta = 4;
	len = put_msg(buf, sizeof(buf), 0, &too_long);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 0);
	/* Behind a good one: parsing stops there, what follows included. */
	too_long.nl_len_delta = 1000;
	len = put_msg(buf, sizeof(buf), 0, &good);
	len = put_msg(buf, sizeof(buf), len, &too_long);
	len = put_msg(buf, sizeof(buf), len, &good);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 1);
	ck_assert_int_eq(ev[0].pid, 20);
	/* The second of two cut by a byte. */
	len = put_msg(buf, sizeof(buf), 0, &good);
	len = put_msg(buf, sizeof(buf), len, &good);
	ck_assert_uint_eq(parse(buf, len - 1, ev, 4, 4), 1);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 2);
	/* The only one cut by a byte. */
	len = put_msg(buf, sizeof(buf), 0, &good);
	ck_assert_uint_eq(parse(buf, len - 1, ev, 4, 4), 0);
}
END_TEST

START_TEST(test_cn_parse_nlmsg_len_below_header)
{
	char buf[512] __attribute__((aligned(8)));
	struct fg_cn_event ev[4];
	struct msg_spec good = event_msg(PROC_EVENT_EXEC, 30, 30);
	struct nlmsghdr bad = {.nlmsg_len = NLMSG_HDRLEN - 1, .nlmsg_type = NLMSG_DONE};
	size_t len = put_msg(buf, sizeof(buf), 0, &good);

	/* A length that cannot advance must stop, not loop. */
	memcpy(buf + len, &bad, sizeof(bad));
	len += sizeof(bad);
	len = put_msg(buf, sizeof(buf), len, &good);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 1);
	bad.nlmsg_len = 0;
	memcpy(buf, &bad, sizeof(bad));
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 0);
}
END_TEST

START_TEST(test_cn_parse_cn_len_bad_skipped)
{
	char buf[1024] __attribute__((aligned(8)));
	struct fg_cn_event ev[4];
	struct msg_spec short_len = event_msg(PROC_EVENT_EXEC, 40, 40);
	struct msg_spec past_body = event_msg(PROC_EVENT_EXEC, 41, 41);
	struct msg_spec good = event_msg(PROC_EVENT_EXIT, 42, 42);
	size_t len;

	/* 23 bytes do not reach the tgid. */
	short_len.cn_len_delta = 23 - (int)sizeof(struct proc_event);
	past_body.cn_len_delta = 1;
	len = put_msg(buf, sizeof(buf), 0, &short_len);
	len = put_msg(buf, sizeof(buf), len, &past_body);
	len = put_msg(buf, sizeof(buf), len, &good);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 1);
	ck_assert_int_eq(ev[0].pid, 42);
	/* Exactly what/cpu/timestamp/pid/tgid (24 bytes) is enough. */
	short_len.cn_len_delta = 24 - (int)sizeof(struct proc_event);
	len = put_msg(buf, sizeof(buf), 0, &short_len);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 1);
	ck_assert_int_eq(ev[0].pid, 40);
}
END_TEST

START_TEST(test_cn_parse_unaligned_length)
{
	char buf[512] __attribute__((aligned(8)));
	struct fg_cn_event ev[4];
	struct msg_spec odd = event_msg(PROC_EVENT_EXEC, 50, 50);
	struct msg_spec good = event_msg(PROC_EVENT_EXIT, 51, 51);
	size_t len;

	/* One byte more payload: nlmsg_len not a multiple of 4; the next
	 * message starts at the aligned offset. */
	odd.extra_data = 1;
	len = put_msg(buf, sizeof(buf), 0, &odd);
	len = put_msg(buf, sizeof(buf), len, &good);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 2);
	ck_assert_int_eq(ev[0].pid, 50);
	ck_assert_int_eq(ev[1].pid, 51);
}
END_TEST

START_TEST(test_cn_parse_max_respected)
{
	char buf[1024] __attribute__((aligned(8)));
	struct fg_cn_event ev[4];
	size_t len = 0;

	for (pid_t pid = 60; pid < 63; pid++) {
		struct msg_spec m = event_msg(PROC_EVENT_EXEC, pid, pid);
		len = put_msg(buf, sizeof(buf), len, &m);
	}
	ck_assert_uint_eq(parse(buf, len, ev, 4, 4), 3);
	ck_assert_uint_eq(parse(buf, len, ev, 4, 2), 2);
	ck_assert_int_eq(ev[0].pid, 60);
	ck_assert_int_eq(ev[1].pid, 61);
	ck_assert(poisoned(&ev[2], 2 * sizeof(ev[0])));
	ck_assert_uint_eq(parse(buf, len, ev, 4, 0), 0);
	ck_assert(poisoned(ev, sizeof(ev)));
}
END_TEST

START_TEST(test_cn_parse_empty_or_short)
{
	char buf[64] __attribute__((aligned(8))) = {0};
	struct fg_cn_event ev[2];

	ck_assert_uint_eq(parse(buf, 0, ev, 2, 2), 0);
	ck_assert_uint_eq(parse(buf, sizeof(struct nlmsghdr) - 1, ev, 2, 2), 0);
	ck_assert(poisoned(ev, sizeof(ev)));
}
END_TEST

/* ---- children */

/* A child that dies with the test process (so a failed assertion leaves
 * none behind) and obeys one-byte commands on a pipe: 'x' execs
 * /bin/sleep 30, 'l' writes the uint32 that follows to its loginuid and
 * answers the errno (0: done). Until then it blocks in read(). */
struct kid {
	pid_t pid;
	int cmd; /* write end */
	int ack; /* read end */
};

static struct kid kids[4];
static unsigned n_kids;

static void __attribute__((noreturn)) kid_main(int cmd, int ack)
{
	char op, s[16];

	while (read(cmd, &op, 1) == 1) {
		if (op == 'x') {
			execl("/bin/sleep", "sleep", "30", (char *)NULL);
			_exit(127);
		}
		if (op == 'f') {
			/* A grandchild that waits: its parent is this kid. */
			pid_t g = fork();
			if (g == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				for (;;)
					pause();
			}
			if (write(ack, &g, sizeof(g)) != sizeof(g))
				_exit(1);
		}
		if (op == 'l') {
			uint32_t v;
			int fd, n, err = 0;

			if (read(cmd, &v, sizeof(v)) != sizeof(v))
				_exit(1);
			n = snprintf(s, sizeof(s), "%u", v);
			fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, s, (size_t)n) != n)
				err = errno;
			if (write(ack, &err, sizeof(err)) != sizeof(err))
				_exit(1);
		}
	}
	_exit(0);
}

static struct kid *spawn_kid(void)
{
	struct kid *k;
	int cmd[2], ack[2];

	ck_assert_uint_lt(n_kids, FG_ARRAY_SIZE(kids));
	ck_assert_int_eq(pipe2(cmd, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ack, O_CLOEXEC), 0);
	k = &kids[n_kids++];
	k->pid = fork_child();
	if (k->pid == 0) {
		close(cmd[1]);
		close(ack[0]);
		kid_main(cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	k->cmd = cmd[1];
	k->ack = ack[0];
	return k;
}

static void kid_send(const struct kid *k, char op)
{
	ck_assert_int_eq(write(k->cmd, &op, 1), 1);
}

static void kid_reap(struct kid *k)
{
	if (k->pid <= 0)
		return;
	reap(k->pid);
	close(k->cmd);
	close(k->ack);
	k->pid = 0;
}

/* Opens in /proc/self/fd, the directory's own fd included. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Waits until pid is blocked inside one of the syscalls nr (-1 ends). */
static bool wait_in_syscall(pid_t pid, const long *nr)
{
	char path[64], buf[256];
	struct fg_syscall sc;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (int i = 0; i < 5000; i++) {
		ssize_t n = fg_read_small(AT_FDCWD, path, buf, sizeof(buf));
		if (n > 0 && fg_proc_parse_syscall(buf, (size_t)n, &sc) == 0 && !sc.running)
			for (const long *want = nr; *want >= 0; want++)
				if (sc.nr == *want)
					return true;
		usleep(1000);
	}
	return false;
}

/* What a lookup re-checks: with and without the cgroup; no ancestor is
 * watched (test_lookup_watched_ancestor_exec watches one). */
static const struct fg_pcache_check chk_cgroup = {.cgroup = true, .gen = 1};
static const struct fg_pcache_check chk_plain = {.cgroup = false, .gen = 1};

#define TMPDIR_PREFIX "/tmp/fg_test_pcache"
#include "tmpdir.h"

/* A child blocked in open(fifo, O_WRONLY): nobody holds the read end. */
static pid_t spawn_writer(const char *name)
{
	static const long openat_nr[] = {SYS_openat, -1};
	char fifo[128];
	pid_t pid;

	snprintf(fifo, sizeof(fifo), "%s/%s", tmpdir, name);
	unlink(fifo);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	pid = fork_child();
	if (pid == 0) {
		open(fifo, O_WRONLY);
		_exit(0);
	}
	ck_assert_msg(wait_in_syscall(pid, openat_nr), "writer %d never blocked in openat", pid);
	return pid;
}

/* ---- the cache */

static struct fg_pcache cache;
static struct fg_proc *p, *q; /* ~100 KiB each */

static void cache_setup(void)
{
	p = malloc(sizeof(*p));
	q = malloc(sizeof(*q));
	ck_assert(p && q);
	n_kids = 0;
	fg_pcache_init(&cache, 0); /* teardown's close is a no-op until a test inits */
	/* proc.c keeps /proc open from its first use: open it now, so the
	 * fd counts below see only the cache's files. */
	ck_assert_int_eq(fg_proc_resolve(getpid(), p), 0);
}

static void cache_teardown(void)
{
	fg_pcache_close(&cache);
	for (unsigned i = 0; i < n_kids; i++)
		kid_reap(&kids[i]);
	free(p);
	free(q);
}

static struct fg_pcache_entry *entry_of(pid_t tid)
{
	for (unsigned i = 0; i < cache.cap; i++)
		if (cache.e[i].tid == tid)
			return &cache.e[i];
	return NULL;
}

static bool filter_clear(void)
{
	for (unsigned i = 0; i < FG_PCACHE_FILTER; i++)
		if (cache.filter[i])
			return false;
	return true;
}

static void intent(pid_t tid)
{
	uint64_t flags;
	long nr;

	(void)fg_pcache_intent(&cache, tid, &flags, &nr);
}

/* Resolves tid into p and keeps it in the cache. */
static void resolve_store(pid_t tid)
{
	ck_assert_int_eq(fg_proc_resolve(tid, p), 0);
	ck_assert(!p->ancestry_truncated);
	fg_pcache_store(&cache, p);
}

static void feed(uint32_t what, pid_t pid, pid_t tgid)
{
	struct fg_cn_event ev = {what, pid, tgid, 0, 0};

	fg_pcache_event(&cache, &ev);
}

/* q as fg_proc_resolve filled p. */
static void assert_same_proc(const struct fg_proc *a, const struct fg_proc *b)
{
	ck_assert_int_eq(b->tid, a->tid);
	ck_assert_int_eq(b->pid, a->pid);
	ck_assert_int_eq(b->ppid, a->ppid);
	ck_assert_uint_eq(b->uid, a->uid);
	ck_assert_uint_eq(b->auid, a->auid);
	ck_assert_uint_eq(b->sessionid, a->sessionid);
	ck_assert_uint_eq(b->start_time, a->start_time);
	ck_assert_str_eq(b->comm, a->comm);
	ck_assert_str_eq(b->exe, a->exe);
	ck_assert_str_eq(b->cgroup, a->cgroup);
	ck_assert(!b->ancestry_truncated);
	ck_assert_uint_eq(b->n_ancestors, a->n_ancestors);
	for (unsigned i = 0; i < a->n_ancestors; i++) {
		ck_assert_int_eq(b->anc[i].pid, a->anc[i].pid);
		ck_assert_str_eq(b->anc[i].comm, a->anc[i].comm);
		ck_assert_str_eq(fg_proc_anc_exe(b, i), fg_proc_anc_exe(a, i));
	}
}

START_TEST(test_lookup_returns_stored)
{
	struct kid *k = spawn_kid();
	int fds = count_fds();

	fg_pcache_init(&cache, 8);
	ck_assert(cache.on);
	ck_assert_ptr_null(cache.off);
	intent(k->pid);
	ck_assert_ptr_nonnull(entry_of(k->pid));
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);
	/* Nothing stored yet: a miss. */
	ck_assert(!fg_pcache_lookup(&cache, k->pid, &chk_cgroup, q));
	ck_assert_uint_eq(cache.misses, 1);

	resolve_store(k->pid);
	ck_assert_uint_eq(fg_pcache_count(&cache), 1);
	ck_assert_int_eq(count_fds(), fds + 3); /* syscall, loginuid, cgroup */
	memset(q, 0, sizeof(*q));
	ck_assert(fg_pcache_lookup(&cache, k->pid, &chk_cgroup, q));
	assert_same_proc(p, q);
	ck_assert_int_eq(q->ppid, getpid());
	ck_assert_int_eq(q->anc[0].pid, getpid());
	ck_assert_int_eq(q->anc[q->n_ancestors - 1].pid, 1);
	ck_assert(fg_pcache_lookup(&cache, k->pid, &chk_plain, q));
	ck_assert_uint_eq(cache.hits, 2);
	ck_assert_uint_eq(cache.misses, 1);
	/* Another task: a miss, not another's identity. */
	ck_assert(!fg_pcache_lookup(&cache, getpid(), &chk_cgroup, q));
	ck_assert_uint_eq(cache.misses, 2);

	fg_pcache_close(&cache);
	ck_assert_int_eq(count_fds(), fds);
	ck_assert(filter_clear());
}
END_TEST

START_TEST(test_event_drops_identity)
{
	struct kid *k = spawn_kid();
	pid_t kid = k->pid, me = getpid();
	uint64_t hits = 0, misses = 0;
	int fds = count_fds();

	fg_pcache_init(&cache, 8);
	intent(kid);
	resolve_store(kid);
	ck_assert(fg_pcache_lookup(&cache, kid, &chk_cgroup, q));
	hits++;

	/* Unrelated pids, one in the kid's filter slot: still a hit. */
	feed(PROC_EVENT_EXEC, kid + FG_PCACHE_FILTER, kid + FG_PCACHE_FILTER);
	feed(PROC_EVENT_EXIT, kid + FG_PCACHE_FILTER, kid + FG_PCACHE_FILTER);
	feed(PROC_EVENT_EXEC, 0x7ffffff0, 0x7ffffff0);
	ck_assert(fg_pcache_lookup(&cache, kid, &chk_cgroup, q));
	hits++;
	assert_same_proc(p, q);

	/* The kid execs: a miss, the kept syscall file stays. */
	feed(PROC_EVENT_EXEC, kid, kid);
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);
	ck_assert(!fg_pcache_lookup(&cache, kid, &chk_cgroup, q));
	misses++;
	ck_assert_ptr_nonnull(entry_of(kid));
	ck_assert_int_eq(count_fds(), fds + 1);

	/* Its parent (an ancestor) exits: a miss. */
	intent(kid);
	resolve_store(kid);
	ck_assert(fg_pcache_lookup(&cache, kid, &chk_cgroup, q));
	hits++;
	feed(PROC_EVENT_EXIT, me, me);
	ck_assert(!fg_pcache_lookup(&cache, kid, &chk_cgroup, q));
	misses++;
	ck_assert_ptr_nonnull(entry_of(kid));

	/* The kid exits: the entry and all its files go. */
	intent(kid);
	resolve_store(kid);
	ck_assert_int_eq(count_fds(), fds + 3);
	feed(PROC_EVENT_EXIT, kid, kid);
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);
	ck_assert_ptr_null(entry_of(kid));
	ck_assert(!fg_pcache_lookup(&cache, kid, &chk_cgroup, q));
	misses++;
	ck_assert_int_eq(count_fds(), fds);
	ck_assert(filter_clear());
	ck_assert_uint_eq(cache.hits, hits);
	ck_assert_uint_eq(cache.misses, misses);
	ck_assert_uint_eq(cache.dropped, 3);
}
END_TEST

/* Each event, applied to a freshly stored identity of the kid: does it
 * drop it? pid/tgid placeholders: KID, ME (its parent), GRAND (the
 * parent's parent), INIT. */
enum who { KID, KID_THREAD, ME, ME_THREAD, GRAND, INIT, STRANGER };

static pid_t who_pid(enum who w, pid_t kid)
{
	switch (w) {
	case KID:
		return kid;
	case KID_THREAD:
		return kid + 1; /* another thread of the kid */
	case ME:
		return getpid();
	case ME_THREAD:
		return getpid() + 1;
	case GRAND:
		return getppid();
	case INIT:
		return 1;
	default:
		return kid + 2 * FG_PCACHE_FILTER;
	}
}

START_TEST(test_event_kinds)
{
	static const struct {
		uint32_t what;
		enum who pid, tgid;
		bool drops;
	} cases[] = {
	    {PROC_EVENT_EXEC, KID, KID, true},
	    {PROC_EVENT_UID, KID, KID, true},
	    {PROC_EVENT_COMM, KID, KID, true},
	    {PROC_EVENT_COMM, KID_THREAD, KID, true},
	    {PROC_EVENT_EXIT, KID_THREAD, KID, true},
	    {PROC_EVENT_EXEC, ME, ME, true},
	    {PROC_EVENT_COMM, ME_THREAD, ME, true},
	    {PROC_EVENT_UID, GRAND, GRAND, true},
	    {PROC_EVENT_EXIT, GRAND, GRAND, true},
	    {PROC_EVENT_EXEC, INIT, INIT, true},
	    {PROC_EVENT_EXEC, STRANGER, STRANGER, false},
	    {PROC_EVENT_EXIT, STRANGER, STRANGER, false},
	    {PROC_EVENT_NONE, KID, KID, false},
	    /* A fork names the parent first: it changes nothing about it,
	     * and an ancestor (init above all) forks all the time. */
	    {PROC_EVENT_FORK, KID, KID, false},
	    {PROC_EVENT_FORK, ME, ME, false},
	    {PROC_EVENT_FORK, INIT, INIT, false},
	    /* A tracer attaching: the writer's identity is verified again
	     * (a traced writer is allowed only under an allowed tracer). */
	    {PROC_EVENT_PTRACE, KID, KID, true},
	    {PROC_EVENT_PTRACE, GRAND, GRAND, true},
	    /* Nothing fanguard decides on. */
	    {PROC_EVENT_GID, KID, KID, false},
	    {PROC_EVENT_SID, KID, KID, false},
	};
	struct kid *k = spawn_kid();

	fg_pcache_init(&cache, 8);
	intent(k->pid);
	ck_assert_int_eq(fg_proc_resolve(k->pid, p), 0);
	ck_assert_int_eq(p->anc[1].pid, getppid());
	for (size_t i = 0; i < FG_ARRAY_SIZE(cases); i++) {
		fg_pcache_store(&cache, p);
		ck_assert(fg_pcache_lookup(&cache, k->pid, &chk_cgroup, q));
		feed(cases[i].what, who_pid(cases[i].pid, k->pid), who_pid(cases[i].tgid, k->pid));
		ck_assert_msg(fg_pcache_lookup(&cache, k->pid, &chk_cgroup, q) == !cases[i].drops,
			      "case %zu (event %#x): expected %s", i, cases[i].what,
			      cases[i].drops ? "a miss" : "a hit");
		ck_assert_ptr_nonnull(entry_of(k->pid));
	}
}
END_TEST

START_TEST(test_intent_kept_file)
{
	pid_t w = spawn_writer("kept");
	struct fg_pcache_entry *e;
	uint64_t flags = 0;
	long nr = 0;
	int fd;

	fg_pcache_init(&cache, 8);
	ck_assert_int_eq(fg_pcache_intent(&cache, w, &flags, &nr), FG_INTENT_WRITE);
	ck_assert_uint_eq(flags & O_ACCMODE, O_WRONLY);
	ck_assert_int_eq(nr, SYS_openat);
	e = entry_of(w);
	ck_assert_ptr_nonnull(e);
	fd = e->sc_fd;
	ck_assert_int_ge(fd, 0);
	/* Again: through the kept file, which stays the same. */
	flags = 0;
	ck_assert_int_eq(fg_pcache_intent(&cache, w, &flags, &nr), FG_INTENT_WRITE);
	ck_assert_uint_eq(flags & O_ACCMODE, O_WRONLY);
	ck_assert_ptr_eq(entry_of(w), e);
	ck_assert_int_eq(e->sc_fd, fd);
	ck_assert_uint_eq(e->used, cache.clock);
	ck_assert_uint_eq(cache.clock, 2);
	reap(w);
}
END_TEST

START_TEST(test_intent_reaped_task)
{
	struct kid *k = spawn_kid();
	pid_t kid = k->pid;
	uint64_t flags = 1;
	long nr = 0;
	int fds = count_fds();

	fg_pcache_init(&cache, 8);
	intent(kid);
	resolve_store(kid);
	/* Gone without an event reaching the cache. */
	kid_reap(k);
	ck_assert_ptr_nonnull(entry_of(kid));
	ck_assert_int_eq(fg_pcache_intent(&cache, kid, &flags, &nr), FG_INTENT_UNKNOWN);
	ck_assert_uint_eq(flags, 0);
	ck_assert_int_eq(nr, -1);
	ck_assert_ptr_null(entry_of(kid));
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);
	ck_assert(!fg_pcache_lookup(&cache, kid, &chk_cgroup, q));
	ck_assert_int_eq(count_fds(), fds - 2); /* the kid's pipes went too */
	ck_assert(filter_clear());
}
END_TEST

/* Makes the next fork get pid `want` (root, init pid namespace). */
static bool set_last_pid(pid_t want)
{
	char s[16];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	int n = snprintf(s, sizeof(s), "%d", (int)want - 1);
	bool ok = fd >= 0 && write(fd, s, (size_t)n) == n;

	if (fd >= 0)
		close(fd);
	return ok;
}

START_TEST(test_intent_recycled_tid)
{
	static const long openat_nr[] = {SYS_openat, -1};
	char fifo[128];
	struct kid *k = spawn_kid();
	pid_t kid = k->pid, w = -1;
	uint64_t flags = 0;
	long nr = 0;

	fg_pcache_init(&cache, 8);
	intent(kid);
	resolve_store(kid);
	kid_reap(k);
	/* Another task takes the dead kid's id: the cache must read the new
	 * task's intent and must not hand it the dead one's identity. Other
	 * forks on the host may take the id first: try a few times. */
	snprintf(fifo, sizeof(fifo), "%s/recycled", tmpdir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	for (int i = 0; i < 50 && w != kid; i++) {
		if (w > 0)
			reap(w);
		ck_assert_msg(set_last_pid(kid), "cannot write ns_last_pid: %s", strerror(errno));
		w = fork_child();
		if (w == 0) {
			open(fifo, O_WRONLY);
			_exit(0);
		}
	}
	ck_assert_int_eq(w, kid);
	ck_assert(wait_in_syscall(w, openat_nr));
	ck_assert_int_eq(fg_pcache_intent(&cache, kid, &flags, &nr), FG_INTENT_WRITE);
	ck_assert_uint_eq(flags & O_ACCMODE, O_WRONLY);
	ck_assert_ptr_nonnull(entry_of(kid));
	ck_assert_ptr_null(entry_of(kid)->id);
	ck_assert(!fg_pcache_lookup(&cache, kid, &chk_cgroup, q));
	reap(w);
}
END_TEST

START_TEST(test_intent_evicts_least_recent)
{
	struct kid *a = spawn_kid(), *b = spawn_kid(), *c = spawn_kid();
	int fds = count_fds();

	fg_pcache_init(&cache, 2);
	intent(a->pid);
	resolve_store(a->pid);
	intent(b->pid);
	resolve_store(b->pid);
	ck_assert_uint_eq(fg_pcache_count(&cache), 2);
	intent(a->pid); /* a is now the most recent */
	intent(c->pid);
	ck_assert_ptr_nonnull(entry_of(a->pid));
	ck_assert_ptr_null(entry_of(b->pid));
	ck_assert_ptr_nonnull(entry_of(c->pid));
	ck_assert_int_eq(cache.e[2].tid, 0); /* past cap: untouched */
	ck_assert_uint_eq(fg_pcache_count(&cache), 1);
	ck_assert_int_eq(count_fds(), fds + 3 + 1);
	/* b's identity is gone with its entry; storing it again finds no
	 * entry; a's is still there. */
	ck_assert(!fg_pcache_lookup(&cache, b->pid, &chk_cgroup, q));
	resolve_store(b->pid);
	ck_assert(!fg_pcache_lookup(&cache, b->pid, &chk_cgroup, q));
	ck_assert(fg_pcache_lookup(&cache, a->pid, &chk_cgroup, q));
	ck_assert_int_eq(q->tid, a->pid);
	resolve_store(c->pid);
	ck_assert(fg_pcache_lookup(&cache, c->pid, &chk_cgroup, q));
	ck_assert_int_eq(q->tid, c->pid);
	/* An event for b names no entry any more. */
	feed(PROC_EVENT_EXIT, b->pid, b->pid);
	ck_assert_uint_eq(fg_pcache_count(&cache), 2);
	fg_pcache_close(&cache);
	ck_assert(filter_clear());
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/* A reader's entry (its syscall file only) goes before a writer's
 * identity, even when the writer is the least recently used. */
START_TEST(test_intent_evicts_readers_first)
{
	struct kid *a = spawn_kid(), *b = spawn_kid(), *c = spawn_kid();

	fg_pcache_init(&cache, 2);
	intent(a->pid);
	resolve_store(a->pid); /* a: a writer, least recently used */
	intent(b->pid);	       /* b: a reader */
	intent(c->pid);
	ck_assert_ptr_nonnull(entry_of(a->pid));
	ck_assert_ptr_null(entry_of(b->pid));
	ck_assert_ptr_nonnull(entry_of(c->pid));
	ck_assert(fg_pcache_lookup(&cache, a->pid, &chk_cgroup, q));
	/* With only writers left, the least recent one goes. */
	resolve_store(c->pid);
	intent(c->pid); /* c is now the most recent */
	intent(b->pid);
	ck_assert_ptr_null(entry_of(a->pid));
	ck_assert_ptr_nonnull(entry_of(c->pid));
	ck_assert_ptr_nonnull(entry_of(b->pid));
}
END_TEST

START_TEST(test_lookup_loginuid_change)
{
	struct kid *k = spawn_kid();
	uint32_t want;
	int err = -1;

	fg_pcache_init(&cache, 8);
	intent(k->pid);
	resolve_store(k->pid);
	ck_assert(fg_pcache_lookup(&cache, k->pid, &chk_plain, q));
	want = p->auid == 4242 ? 4243 : 4242;
	kid_send(k, 'l');
	ck_assert_int_eq(write(k->cmd, &want, sizeof(want)), sizeof(want));
	ck_assert_int_eq(read(k->ack, &err, sizeof(err)), sizeof(err));
	ck_assert_msg(err == 0, "the child could not write /proc/self/loginuid (%s)",
		      strerror(err));
	/* No event says so: the kept loginuid file does, with or without
	 * the cgroup mattering. */
	ck_assert(!fg_pcache_lookup(&cache, k->pid, &chk_plain, q));
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);
	ck_assert_uint_eq(cache.misses, 1);
	resolve_store(k->pid);
	ck_assert_uint_eq(p->auid, want);
	ck_assert(fg_pcache_lookup(&cache, k->pid, &chk_cgroup, q));
	ck_assert_uint_eq(q->auid, want);
	ck_assert_uint_eq(q->sessionid, p->sessionid);
}
END_TEST

/* A cgroup of its own under the cgroup2 mount, removed by the runner
 * after the tests (the cgroup is empty by then). */
static char cgdir[256];

static void cgroup_setup(void)
{
	char line[512], dev[64], mnt[192], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");

	cgdir[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %191s %63s", dev, mnt, type) == 3 &&
		    strcmp(type, "cgroup2") == 0) {
			snprintf(cgdir, sizeof(cgdir), "%s/fg_test_pcache.%d", mnt, (int)getpid());
			break;
		}
	if (f)
		fclose(f);
}

static void cgroup_teardown(void)
{
	/* A killed task leaves its cgroup a moment after it is reaped. */
	for (int i = 0; cgdir[0] && i < 100; i++) {
		if (rmdir(cgdir) == 0 || errno == ENOENT)
			break;
		usleep(10000);
	}
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

START_TEST(test_lookup_cgroup_change)
{
	struct kid *k = spawn_kid();
	char path[300], pid[16];
	int fd, n;

	ck_assert_msg(cgdir[0], "no cgroup2 mount in /proc/self/mounts");
	ck_assert_msg(mkdir(cgdir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", cgdir,
		      strerror(errno));
	fg_pcache_init(&cache, 8);
	intent(k->pid);
	resolve_store(k->pid);
	ck_assert(fg_pcache_lookup(&cache, k->pid, &chk_cgroup, q));

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgdir);
	n = snprintf(pid, sizeof(pid), "%d", (int)k->pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, pid, (size_t)n), n);
	close(fd);

	/* Only the log shows it: the old one until the entry goes. */
	ck_assert(fg_pcache_lookup(&cache, k->pid, &chk_plain, q));
	ck_assert_str_eq(q->cgroup, p->cgroup);
	/* A rule names one: a miss. */
	ck_assert(!fg_pcache_lookup(&cache, k->pid, &chk_cgroup, q));
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);
	resolve_store(k->pid);
	ck_assert_msg(ends_with(p->cgroup, strrchr(cgdir, '/')), "cgroup %s after the move",
		      p->cgroup);
	ck_assert(fg_pcache_lookup(&cache, k->pid, &chk_cgroup, q));
	ck_assert_str_eq(q->cgroup, p->cgroup);
	kid_reap(k);
}
END_TEST

START_TEST(test_disable_falls_through)
{
	pid_t w = spawn_writer("disabled");
	static const char why[] = "off for the test";
	uint64_t flags = 0;
	long nr = 0;
	int fds = count_fds();

	fg_pcache_init(&cache, 8);
	intent(w);
	resolve_store(w);
	ck_assert(fg_pcache_lookup(&cache, w, &chk_cgroup, q));
	fg_pcache_disable(&cache, why);
	ck_assert(!cache.on);
	ck_assert_ptr_eq(cache.off, why);
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);
	ck_assert_int_eq(count_fds(), fds);
	ck_assert(filter_clear());
	ck_assert(!fg_pcache_lookup(&cache, w, &chk_cgroup, q));
	/* Read from /proc, nothing kept. */
	ck_assert_int_eq(fg_pcache_intent(&cache, w, &flags, &nr), FG_INTENT_WRITE);
	ck_assert_uint_eq(flags & O_ACCMODE, O_WRONLY);
	ck_assert_int_eq(nr, SYS_openat);
	ck_assert_ptr_null(entry_of(w));
	fg_pcache_store(&cache, p);
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);
	ck_assert(!fg_pcache_lookup(&cache, w, &chk_cgroup, q));
	ck_assert_int_eq(count_fds(), fds);
	/* Neither disabled lookups nor a disabled store count. */
	ck_assert_uint_eq(cache.hits, 1);
	ck_assert_uint_eq(cache.misses, 0);
	reap(w);
}
END_TEST

START_TEST(test_init_zero_cap_is_off)
{
	pid_t w = spawn_writer("zero");
	uint64_t flags = 0;
	long nr = 0;

	fg_pcache_init(&cache, 0);
	ck_assert(!cache.on);
	ck_assert_ptr_nonnull(cache.off);
	ck_assert_int_eq(fg_pcache_intent(&cache, w, &flags, &nr), FG_INTENT_WRITE);
	ck_assert_ptr_null(entry_of(w));
	ck_assert_int_eq(fg_pcache_connect(&cache), -EINVAL);
	fg_pcache_init(&cache, FG_PCACHE_MAX + 1);
	ck_assert_uint_eq(cache.cap, FG_PCACHE_MAX);
	reap(w);
}
END_TEST

/* ---- the real connector */

/* True once pid runs `sleep`: blocked in its sleep, it is past the point
 * where exec reports itself to the connector. */
static bool wait_slept(pid_t pid, const char *old_exe)
{
	static const long sleep_nr[] = {
#ifdef SYS_nanosleep
	    SYS_nanosleep,
#endif
	    SYS_clock_nanosleep, -1};
	char path[64], exe[PATH_MAX];

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 5000; i++) {
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			if (strcmp(exe, old_exe) != 0)
				return wait_in_syscall(pid, sleep_nr);
		}
		usleep(1000);
	}
	return false;
}

START_TEST(test_connect_sees_exec_and_exit)
{
	struct kid *k = spawn_kid();
	pid_t kid = k->pid;
	char old_exe[PATH_MAX];
	bool hit = false;

	fg_pcache_init(&cache, 8);
	ck_assert_int_eq(fg_pcache_connect(&cache), 0);
	ck_assert(cache.on);
	ck_assert_ptr_null(cache.off);
	ck_assert_int_ge(cache.nl_fd, 0);

	intent(kid);
	/* Host events naming an ancestor (init's threads) may drop it
	 * meanwhile: only a miss every time is a failure. */
	for (int i = 0; i < 5 && !hit; i++) {
		resolve_store(kid);
		fg_pcache_sync(&cache);
		hit = fg_pcache_lookup(&cache, kid, &chk_cgroup, q);
	}
	ck_assert_msg(hit, "every identity dropped by a sync with nothing to drop");
	fg_strlcpy(old_exe, p->exe, sizeof(old_exe));

	uint64_t before = cache.messages;
	kid_send(k, 'x');
	ck_assert_msg(wait_slept(kid, old_exe), "the kid never ran /bin/sleep");
	/* As after a batch of permission events is read: the lookup itself
	 * drains the connector before it answers. */
	fg_pcache_behind(&cache);
	ck_assert(!fg_pcache_lookup(&cache, kid, &chk_cgroup, q));
	ck_assert_uint_gt(cache.messages, before);
	ck_assert(!cache.behind);
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);

	/* The kept syscall file still names the task; its new identity can
	 * be kept. */
	ck_assert_ptr_nonnull(entry_of(kid));
	intent(kid);
	resolve_store(kid);
	ck_assert_str_ne(p->exe, old_exe);
	ck_assert_str_eq(p->comm, "sleep");

	/* Its exit comes through the connector too: the entry goes. */
	kid_reap(k);
	fg_pcache_sync(&cache);
	ck_assert_ptr_null(entry_of(kid));
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);

	fg_pcache_close(&cache);
	ck_assert(!cache.on);
	ck_assert_int_eq(cache.nl_fd, -1);
	ck_assert(filter_clear());
}
END_TEST

static bool exe_is(const void *ctx, const char *exe)
{
	return strcmp(exe, ctx) == 0;
}

/* An ancestor that execs shows its new exe in /proc well before the kernel
 * sends the exec event (a tracer can hold it there): no event is fed here,
 * and only the re-read of a watched ancestor's exe turns the hit into a
 * miss. */
START_TEST(test_lookup_watched_ancestor_exec)
{
	struct kid *k = spawn_kid();
	char mid_exe[PATH_MAX];
	pid_t gk;

	fg_pcache_init(&cache, 8);
	kid_send(k, 'f');
	ck_assert_int_eq(read(k->ack, &gk, sizeof(gk)), (ssize_t)sizeof(gk));
	intent(gk);
	resolve_store(gk);
	ck_assert_int_eq(p->anc[0].pid, k->pid);
	fg_strlcpy(mid_exe, fg_proc_anc_exe(p, 0), sizeof(mid_exe));

	const struct fg_pcache_check watch = {.gen = 1, .anc_matters = exe_is, .ctx = mid_exe};
	const struct fg_pcache_check none = {.gen = 2};
	const struct fg_pcache_check watch3 = {.gen = 3, .anc_matters = exe_is, .ctx = mid_exe};
	ck_assert(fg_pcache_lookup(&cache, gk, &watch, q));
	ck_assert_uint_ge(entry_of(gk)->n_watch, 1);
	ck_assert_uint_eq(entry_of(gk)->watch[0], 0);

	kid_send(k, 'x');
	ck_assert_msg(wait_slept(k->pid, mid_exe), "the middle process never ran /bin/sleep");
	/* A new policy generation redoes the list: watching nothing, the
	 * stale ancestry is still a hit (only the exec event would drop it). */
	ck_assert(fg_pcache_lookup(&cache, gk, &none, q));
	ck_assert_uint_eq(entry_of(gk)->n_watch, 0);
	ck_assert_str_eq(fg_proc_anc_exe(q, 0), mid_exe);
	/* Watching the middle one: its exe is /bin/sleep's now, a miss. */
	ck_assert(!fg_pcache_lookup(&cache, gk, &watch3, q));
	ck_assert_uint_eq(fg_pcache_count(&cache), 0);
	ck_assert_ptr_nonnull(entry_of(gk));

	kill(gk, SIGKILL);
	kid_reap(k);
}
END_TEST

static Suite *pcache_suite(void)
{
	Suite *s = suite_create("pcache");
	TCase *parse_tc = tcase_create("cn_parse");
	TCase *fed = tcase_create("fed");
	TCase *live = tcase_create("connector");

	tcase_add_test(parse_tc, test_cn_parse_two_messages);
	tcase_add_test(parse_tc, test_cn_parse_every_kind_reads_the_task);
	tcase_add_test(parse_tc, test_cn_parse_foreign_skipped);
	tcase_add_test(parse_tc, test_cn_parse_nlmsg_len_past_buffer);
	tcase_add_test(parse_tc, test_cn_parse_nlmsg_len_below_header);
	tcase_add_test(parse_tc, test_cn_parse_cn_len_bad_skipped);
	tcase_add_test(parse_tc, test_cn_parse_unaligned_length);
	tcase_add_test(parse_tc, test_cn_parse_max_respected);
	tcase_add_test(parse_tc, test_cn_parse_empty_or_short);
	suite_add_tcase(s, parse_tc);

	/* Real children (root, never skipped); events fed by hand. */
	tcase_add_unchecked_fixture(fed, tmpdir_setup, tmpdir_teardown);
	tcase_add_unchecked_fixture(fed, cgroup_setup, cgroup_teardown);
	tcase_add_checked_fixture(fed, cache_setup, cache_teardown);
	tcase_set_timeout(fed, 30);
	tcase_add_test(fed, test_lookup_returns_stored);
	tcase_add_test(fed, test_event_drops_identity);
	tcase_add_test(fed, test_event_kinds);
	tcase_add_test(fed, test_intent_kept_file);
	tcase_add_test(fed, test_intent_reaped_task);
	tcase_add_test(fed, test_intent_recycled_tid);
	tcase_add_test(fed, test_intent_evicts_least_recent);
	tcase_add_test(fed, test_intent_evicts_readers_first);
	tcase_add_test(fed, test_lookup_loginuid_change);
	tcase_add_test(fed, test_lookup_cgroup_change);
	tcase_add_test(fed, test_lookup_watched_ancestor_exec);
	tcase_add_test(fed, test_disable_falls_through);
	tcase_add_test(fed, test_init_zero_cap_is_off);
	suite_add_tcase(s, fed);

	/* The process events connector itself (CAP_NET_ADMIN). */
	tcase_add_checked_fixture(live, cache_setup, cache_teardown);
	tcase_set_timeout(live, 30);
	tcase_add_test(live, test_connect_sees_exec_and_exit);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pcache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
