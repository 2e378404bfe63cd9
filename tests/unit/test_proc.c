/* Check suite "proc": the /proc parsers on crafted buffers, and the
 * resolvers end to end against real processes (needs root, never skips). */
#include "fanguard/proc.h"
#include "fanguard/util.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "children.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* One large result reused by every test, as the daemon does. */
static struct fg_proc proc_buf;

/* ---- helpers */

/* The last bytes of a page followed by an inaccessible one: a parser
 * handed at_end(s, len) faults on any read past len. */
static char *guard_page;

static const char *at_end(const char *s, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);

	ck_assert_uint_le(len, (size_t)pg);
	return memcpy(guard_page + pg - len, s, len);
}

static void guard_setup(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	guard_page =
	    mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_page == MAP_FAILED || mprotect(guard_page + pg, (size_t)pg, PROT_NONE) < 0)
		abort();
}

static void __attribute__((noreturn)) pause_forever(void)
{
	for (;;)
		pause();
}

/* Waits until pid is blocked inside syscall nr. */
static bool wait_in_syscall(pid_t pid, long nr)
{
	char path[64], buf[256];
	struct fg_syscall sc;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (int i = 0; i < 5000; i++) {
		ssize_t n = fg_read_small(AT_FDCWD, path, buf, sizeof(buf));
		if (n > 0 && fg_proc_parse_syscall(buf, (size_t)n, &sc) == 0 && !sc.running &&
		    sc.nr == nr)
			return true;
		usleep(1000);
	}
	return false;
}

#define TMPDIR_PREFIX "/tmp/fg_test_proc"
#include "tmpdir.h"

static void make_fifo(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", tmpdir, name);
	unlink(path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
}

/* A child that blocks in syscall nr opening a FIFO nobody holds the other
 * end of; openat goes through glibc's open() as real programs do. */
static pid_t spawn_opener(const char *fifo, long nr, int flags)
{
	struct {
		uint64_t flags, mode, resolve; /* the uapi struct open_how */
	} how = {.flags = (uint64_t)flags};
	pid_t pid = fork_child();

	if (pid > 0)
		return pid;
	if (nr == SYS_openat2)
		syscall(SYS_openat2, AT_FDCWD, fifo, &how, sizeof(how));
#if defined(__x86_64__)
	else if (nr == SYS_open)
		syscall(SYS_open, fifo, flags);
	else if (nr == SYS_creat)
		syscall(SYS_creat, fifo, 0600);
#endif
	else
		open(fifo, flags);
	_exit(0);
}

/* Blocks a child in `how` and returns what fg_proc_read_intent saw. */
static enum fg_intent intent_of_opener(const char *name, long nr, int flags, uint64_t *ret_flags,
				       long *ret_nr)
{
	char fifo[128];

	make_fifo(name, fifo, sizeof(fifo));
	pid_t pid = spawn_opener(fifo, nr, flags);
	bool blocked = wait_in_syscall(pid, nr);
	enum fg_intent in = fg_proc_read_intent(pid, ret_flags, ret_nr);
	reap(pid);
	unlink(fifo);
	ck_assert_msg(blocked, "child never blocked in syscall %ld", nr);
	return in;
}

static int syscall_of(const char *s, struct fg_syscall *ret)
{
	return fg_proc_parse_syscall(at_end(s, strlen(s)), strlen(s), ret);
}

static int cgroup_of(const char *s, char *ret, size_t size)
{
	return fg_proc_parse_cgroup(at_end(s, strlen(s)), strlen(s), ret, size);
}

/* ---- fg_proc_parse_stat */

static const char stat_line[] =
    "1234 (a) (b c\nd) S 42 1234 1234 0 -1 4194304 98 0 0 0 3 4 0 0 20 0 1 0 "
    "36872 2998272 398 18446744073709551615 94236999110656 94236999134761 "
    "140723949243536 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

START_TEST(test_parse_stat_comm_with_parens)
{
	struct fg_stat st;

	ck_assert_int_eq(
	    fg_proc_parse_stat(at_end(stat_line, strlen(stat_line)), strlen(stat_line), &st), 0);
	ck_assert_str_eq(st.comm, "a) (b c\nd");
	ck_assert_int_eq(st.state, 'S');
	ck_assert_int_eq(st.ppid, 42);
	ck_assert_uint_eq(st.flags, 4194304);
	ck_assert_uint_eq(st.start_time, 36872);
}
END_TEST

START_TEST(test_dumping_core_live_task)
{
	ck_assert_int_eq(fg_proc_dumping_core(getpid()), 0);
	ck_assert_int_lt(fg_proc_dumping_core(0), 0);
}
END_TEST

START_TEST(test_intent_vouched_cases)
{
	FILE *empty = tmpfile(), *full = tmpfile();

	ck_assert_ptr_nonnull(empty);
	ck_assert_ptr_nonnull(full);
	ck_assert_int_eq(fputs("x", full), 1);
	ck_assert_int_eq(fflush(full), 0);
	/* openat2's read is never taken; other intents pass as they are */
	ck_assert_int_eq(fg_intent_vouched(FG_INTENT_READ, 437, fileno(full), getpid()),
			 FG_INTENT_UNKNOWN);
	ck_assert_int_eq(fg_intent_vouched(FG_INTENT_WRITE, 437, fileno(full), getpid()),
			 FG_INTENT_WRITE);
	ck_assert_int_eq(fg_intent_vouched(FG_INTENT_BUSY, SYS_openat, fileno(empty), 0),
			 FG_INTENT_BUSY);
	/* an empty file's opener is asked: a live task is no dumper, one that
	 * cannot be asked counts as one */
	ck_assert_int_eq(fg_intent_vouched(FG_INTENT_READ, SYS_openat, fileno(empty), getpid()),
			 FG_INTENT_READ);
	ck_assert_int_eq(fg_intent_vouched(FG_INTENT_READ, SYS_openat, fileno(empty), 0),
			 FG_INTENT_UNKNOWN);
	/* a file with content is not asked */
	ck_assert_int_eq(fg_intent_vouched(FG_INTENT_READ, SYS_openat, fileno(full), 0),
			 FG_INTENT_READ);
	fclose(empty);
	fclose(full);
}
END_TEST

START_TEST(test_parse_stat_long_comm_truncated)
{
	const char *l = "7 (kworker/0:1-events_unbound) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 "
			"20 0 1 0 99 0 0\n";
	struct fg_stat st;

	ck_assert_int_eq(fg_proc_parse_stat(at_end(l, strlen(l)), strlen(l), &st), 0);
	ck_assert_uint_eq(strlen(st.comm), FG_COMM_LEN - 1);
	ck_assert_str_eq(st.comm, "kworker/0:1-eve");
	ck_assert_int_eq(st.ppid, 2);
	ck_assert_uint_eq(st.flags, 69238880);
	ck_assert_uint_eq(st.start_time, 99);
}
END_TEST

START_TEST(test_parse_stat_truncated)
{
	struct fg_stat st;
	size_t full = strlen(stat_line);
	const char *f22 = strstr(stat_line, "36872");

	/* Every prefix that stops before start_time is malformed; every
	 * prefix at all is read without overrun (at_end). */
	for (size_t len = 0; len <= full; len++) {
		int r = fg_proc_parse_stat(at_end(stat_line, len), len, &st);
		if (len <= (size_t)(f22 - stat_line))
			ck_assert_int_eq(r, -EINVAL);
	}
}
END_TEST

START_TEST(test_parse_stat_garbage)
{
	static const char *bad[] = {
	    "",
	    "garbage",
	    "(x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
	    "abc (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
	    "1 (x S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
	    "1 x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
	    "1 (x)S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
	    "1 (x) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
	    "1 (x) S -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
	    "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 1x 20",
	    "1 (x) S 99999999999 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
	    "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99999999999999999999999 20"};
	struct fg_stat st, canary;

	memset(&st, 0xa5, sizeof(st));
	canary = st;
	for (size_t i = 0; i < FG_ARRAY_SIZE(bad); i++) {
		ck_assert_msg(fg_proc_parse_stat(at_end(bad[i], strlen(bad[i])), strlen(bad[i]),
						 &st) == -EINVAL,
			      "%s", bad[i]);
		ck_assert(memcmp(&st, &canary, sizeof(st)) == 0);
	}
}
END_TEST

START_TEST(test_parse_stat_random_bytes)
{
	char b[300];
	struct fg_stat st;
	unsigned seed = 1;

	/* Random noise in the alphabet that matters (digits, blanks, parens). */
	static const char alpha[] = "0123456789 ()\nSx-";
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(b));
		for (size_t i = 0; i < len; i++)
			b[i] = alpha[rand_r(&seed) % (int)(sizeof(alpha) - 1)];
		int r = fg_proc_parse_stat(at_end(b, len), len, &st);
		ck_assert(r == 0 || r == -EINVAL);
	}
}
END_TEST

/* ---- fg_proc_parse_status */

static const char status_text[] = "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\n"
				  "Tgid:\t4321\nNgid:\t0\nPid:\t4322\nPPid:\t17\n"
				  "TracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\n"
				  "Gid:\t100\t100\t100\t100\nNStgid:\t4321\n";

START_TEST(test_parse_status_fields)
{
	struct fg_status st;
	const char *b = at_end(status_text, strlen(status_text));

	ck_assert_int_eq(fg_proc_parse_status(b, strlen(status_text), &st), 0);
	ck_assert_int_eq(st.tgid, 4321);
	ck_assert_int_eq(st.ppid, 17);
	ck_assert_uint_eq(st.uid, 1000);
	ck_assert_uint_eq(st.euid, 1001);
}
END_TEST

START_TEST(test_parse_status_missing_or_bad)
{
	static const char *bad[] = {"",
				    "Tgid:\t1\nPPid:\t0\n",
				    "Tgid:\t1\nUid:\t0\t0\t0\t0\n",
				    "PPid:\t1\nUid:\t0\t0\t0\t0\n",
				    "Tgid:\tx\nPPid:\t0\nUid:\t0\t0\t0\t0\n",
				    "Tgid:\t1\nPPid:\t0\nUid:\t0\t0\n",
				    "Tgid:\t1\nPPid:\t-1\nUid:\t0\t0\t0\t0\n",
				    "Tgid:\t1\nPPid:\t0\nUid:\t0\t0\t0\t99999999999\n",
				    "Tgid:\t1 2\nPPid:\t0\nUid:\t0\t0\t0\t0\n"};
	struct fg_status st;

	for (size_t i = 0; i < FG_ARRAY_SIZE(bad); i++) {
		int r = fg_proc_parse_status(at_end(bad[i], strlen(bad[i])), strlen(bad[i]), &st);
		ck_assert_msg(r == -EINVAL, "case %zu", i);
	}
}
END_TEST

/* ---- fg_proc_parse_syscall */

START_TEST(test_parse_syscall_forms)
{
	struct fg_syscall sc;

	ck_assert_int_eq(syscall_of("running\n", &sc), 0);
	ck_assert(sc.running);
	ck_assert_int_eq(sc.nr, -1);
	/* Blocked, but not inside a syscall. */
	ck_assert_int_eq(syscall_of("-1 0x7ffd1234 0x7f0011223344\n", &sc), 0);
	ck_assert(!sc.running);
	ck_assert_int_eq(sc.nr, -1);
	ck_assert_int_eq(syscall_of("257 0xffffff9c 0x7ffe0000abcd 0x241 0x1b6 0x0 "
				    "0xffffffffffffffff 0x7ffc 0x7f12\n",
				    &sc),
			 0);
	ck_assert(!sc.running);
	ck_assert_int_eq(sc.nr, 257);
	ck_assert_uint_eq(sc.args[0], 0xffffff9c);
	ck_assert_uint_eq(sc.args[1], 0x7ffe0000abcd);
	ck_assert_uint_eq(sc.args[2], 0x241);
	ck_assert_uint_eq(sc.args[3], 0x1b6);
	ck_assert_uint_eq(sc.args[4], 0);
	ck_assert_uint_eq(sc.args[5], 0xffffffffffffffffUL);
	ck_assert(!sc.worker);
	/* Without the newline too. */
	ck_assert_int_eq(syscall_of("0 0x3 0x1 0x2 0x0 0x0 0x0 0x7ffc 0x7f12", &sc), 0);
	ck_assert_int_eq(sc.nr, 0);
	ck_assert(!sc.worker);
}
END_TEST

/* An io_uring worker: SP and PC 0, the rest its creator's registers (here
 * a read-only openat, as when the worker was made on the way out of one). */
START_TEST(test_parse_syscall_worker)
{
	struct fg_syscall sc;
	uint64_t f, h;

	ck_assert_int_eq(syscall_of("257 0xffffff9c 0x7ffe0000abcd 0x0 0x0 0x0 0x0 0x0 0x0\n", &sc),
			 0);
	ck_assert(sc.worker);
	ck_assert_int_eq(sc.nr, 257);
	ck_assert_int_eq(fg_intent_decode(&sc, &f, &h), FG_INTENT_UNKNOWN);
	ck_assert_int_eq(syscall_of("59 0x7ffe0000abcd 0x1 0x2 0x0 0x0 0x0 0x0 0x0\n", &sc), 0);
	ck_assert_int_eq(fg_intent_decode(&sc, &f, &h), FG_INTENT_UNKNOWN);
	/* one of the two non-zero: a user thread */
	ck_assert_int_eq(
	    syscall_of("257 0xffffff9c 0x7ffe0000abcd 0x0 0x0 0x0 0x0 0x0 0x7f12\n", &sc), 0);
	ck_assert(!sc.worker);
	ck_assert_int_eq(fg_intent_decode(&sc, &f, &h), FG_INTENT_READ);
	/* blocked outside a syscall is not a worker's form */
	ck_assert_int_eq(syscall_of("-1 0x0 0x0\n", &sc), 0);
	ck_assert(!sc.worker);
}
END_TEST

START_TEST(test_parse_syscall_garbage)
{
	static const char *bad[] = {"",
				    "\n",
				    "running extra\n",
				    "Running\n",
				    "257\n",
				    "257 0x1\n",
				    "abc 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n",
				    "257 1 2 3 4 5 6 7 8\n",
				    "257 0x1 0x2 0x3 0x4 0x5 0x6 0x7\n",
				    "257 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8 0x9\n",
				    "257  0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n",
				    "257 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8 \n",
				    " 257 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n",
				    "257\t0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n",
				    "257 0x 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n",
				    "257 0xG 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n",
				    "257 0x11112222333344445 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n",
				    "257 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n\n",
				    "-2 0x1 0x2\n",
				    "-1 0x1\n",
				    "-1 0x1 0x2 0x3\n",
				    "99999999999 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n"};
	struct fg_syscall sc;

	for (size_t i = 0; i < FG_ARRAY_SIZE(bad); i++)
		ck_assert_msg(syscall_of(bad[i], &sc) == -EINVAL, "case %zu: %s", i, bad[i]);
}
END_TEST

/* ---- fg_proc_parse_cgroup */

START_TEST(test_parse_cgroup_forms)
{
	static const char *const rows[][2] = {
	    /* v2 only */
	    {"0::/system.slice/sshd.service\n", "/system.slice/sshd.service"},
	    {"0::/x", "/x"},
	    /* v1: the first line's path */
	    {"12:pids:/user.slice/user-0.slice\n11:memory:/user.slice\n1:name=systemd:/"
	     "init.scope\n",
	     "/user.slice/user-0.slice"},
	    /* hybrid: the unified line wins wherever it is */
	    {"9:name=systemd:/\n4:memory:/a/b\n0::/system.slice/cron.service\n1:cpu:/\n",
	     "/system.slice/cron.service"}};
	char cg[FG_CGROUP_LEN];

	for (size_t i = 0; i < FG_ARRAY_SIZE(rows); i++) {
		ck_assert_int_eq(cgroup_of(rows[i][0], cg, sizeof(cg)), 0);
		ck_assert_str_eq(cg, rows[i][1]);
	}
}
END_TEST

START_TEST(test_parse_cgroup_bad)
{
	char cg[8];

	ck_assert_int_eq(cgroup_of("", cg, sizeof(cg)), -EINVAL);
	ck_assert_int_eq(cgroup_of("nocolon\n", cg, sizeof(cg)), -EINVAL);
	ck_assert_int_eq(cgroup_of("0:only-one\n", cg, sizeof(cg)), -EINVAL);
	ck_assert_int_eq(cgroup_of("0::\n", cg, sizeof(cg)), -EINVAL);
	/* Too long for the caller's buffer: an error, not a cut path. */
	ck_assert_int_eq(cgroup_of("0::/a/b/c/d/e\n", cg, sizeof(cg)), -EINVAL);
	ck_assert_int_eq(cgroup_of("0::/a/b\n", cg, sizeof(cg)), 0);
	ck_assert_str_eq(cg, "/a/b");
}
END_TEST

/* ---- fg_intent_from_flags / fg_intent_decode / fg_syscall_name */

START_TEST(test_intent_from_flags_cases)
{
	ck_assert_int_eq(fg_intent_from_flags(O_RDONLY), FG_INTENT_READ);
	ck_assert_int_eq(fg_intent_from_flags(O_WRONLY), FG_INTENT_WRITE);
	ck_assert_int_eq(fg_intent_from_flags(O_RDWR), FG_INTENT_WRITE);
	ck_assert_int_eq(fg_intent_from_flags(O_ACCMODE), FG_INTENT_WRITE);
	ck_assert_int_eq(fg_intent_from_flags(O_RDONLY | O_TRUNC), FG_INTENT_WRITE);
	ck_assert_int_eq(fg_intent_from_flags(O_RDONLY | O_CREAT), FG_INTENT_WRITE);
	ck_assert_int_eq(fg_intent_from_flags(O_RDONLY | O_APPEND), FG_INTENT_WRITE);
	ck_assert_int_eq(fg_intent_from_flags(O_TMPFILE | O_RDWR), FG_INTENT_WRITE);
	/* O_TMPFILE without O_DIRECTORY still carries the tmpfile bit. */
	ck_assert_int_eq(fg_intent_from_flags(O_TMPFILE & ~O_DIRECTORY), FG_INTENT_WRITE);
	ck_assert_int_eq(fg_intent_from_flags(O_RDONLY | O_CLOEXEC | O_NOFOLLOW), FG_INTENT_READ);
	ck_assert_int_eq(fg_intent_from_flags(O_RDONLY | O_DIRECTORY | O_PATH), FG_INTENT_READ);
}
END_TEST

static enum fg_intent decode(long nr, unsigned long a1, unsigned long a2, uint64_t *flags,
			     uint64_t *how)
{
	struct fg_syscall sc = {.nr = nr, .args = {0xffffff9c, a1, a2, 0, 0, 0}};

	return fg_intent_decode(&sc, flags, how);
}

/* Rows: nr, flags argument, expected intent and flags. The int-flags
 * syscalls ignore junk in the register's upper half, as the kernel does. */
static const struct {
	long nr;
	unsigned long arg;
	enum fg_intent want;
	uint64_t flags;
} decode_rows[] = {
#if defined(__x86_64__)
    {2, O_WRONLY | O_CREAT, FG_INTENT_WRITE, O_WRONLY | O_CREAT},
    {2, O_RDONLY, FG_INTENT_READ, O_RDONLY},
    {85, 0600, FG_INTENT_WRITE, O_CREAT | O_WRONLY | O_TRUNC},
#endif
    {SYS_openat, O_RDONLY | O_CLOEXEC, FG_INTENT_READ, O_RDONLY | O_CLOEXEC},
    {SYS_openat, O_WRONLY | O_TRUNC, FG_INTENT_WRITE, O_WRONLY | O_TRUNC},
    {SYS_openat, 0xffffffff00000000UL, FG_INTENT_READ, 0},
    {SYS_open_by_handle_at, O_RDWR, FG_INTENT_WRITE, O_RDWR},
    {SYS_open_by_handle_at, O_RDONLY, FG_INTENT_READ, O_RDONLY},
    /* the kernel's read-only open of what execve runs; args are not flags */
    {SYS_execve, O_WRONLY, FG_INTENT_READ, 0},
    {SYS_execveat, O_RDWR | O_CREAT, FG_INTENT_READ, 0},
};

START_TEST(test_intent_decode_open_family)
{
	for (size_t i = 0; i < FG_ARRAY_SIZE(decode_rows); i++) {
		uint64_t f, h, a = decode_rows[i].arg;
		/* open(2) has its flags in args[1], the others in args[2]. */
		bool open2 = decode_rows[i].nr == 2;
		enum fg_intent in = decode(decode_rows[i].nr, open2 ? a : 0, open2 ? 0 : a, &f, &h);
		ck_assert_msg(in == decode_rows[i].want, "row %zu", i);
		ck_assert_msg(f == decode_rows[i].flags && h == 0, "row %zu", i);
	}
}
END_TEST

START_TEST(test_intent_decode_openat2)
{
	uint64_t f = 7, h;

	ck_assert_int_eq(decode(437, 0x1000, 0x7ffe1000, &f, &h), FG_INTENT_UNKNOWN);
	ck_assert_uint_eq(h, 0x7ffe1000);
	ck_assert_uint_eq(f, 0);
}
END_TEST

START_TEST(test_intent_decode_unknown)
{
	uint64_t f, h;
	struct fg_syscall running = {.nr = -1, .running = true};

	/* i386 open (5) as seen from an int $0x80 entry: deliberately unknown. */
	ck_assert_int_eq(decode(5, O_WRONLY, O_WRONLY, &f, &h), FG_INTENT_UNKNOWN);
	ck_assert_uint_eq(h, 0);
	ck_assert_int_eq(decode(-1, O_WRONLY, O_WRONLY, &f, &h), FG_INTENT_UNKNOWN);
	ck_assert_uint_eq(h, 0);
	/* x32 openat. */
	ck_assert_int_eq(decode(0x40000000L | 257, 0, O_RDONLY, &f, &h), FG_INTENT_UNKNOWN);
	ck_assert_int_eq(fg_intent_decode(&running, &f, &h), FG_INTENT_UNKNOWN);
	ck_assert_uint_eq(h, 0);
	ck_assert_uint_eq(f, 0);
}
END_TEST

START_TEST(test_syscall_name_known)
{
	ck_assert_str_eq(fg_syscall_name(SYS_openat), "openat");
	ck_assert_str_eq(fg_syscall_name(437), "openat2");
	ck_assert_str_eq(fg_syscall_name(SYS_open_by_handle_at), "open_by_handle_at");
	ck_assert_str_eq(fg_syscall_name(SYS_execve), "execve");
	ck_assert_str_eq(fg_syscall_name(SYS_execveat), "execveat");
#if defined(__x86_64__)
	ck_assert_str_eq(fg_syscall_name(2), "open");
	ck_assert_str_eq(fg_syscall_name(85), "creat");
	ck_assert_ptr_null(fg_syscall_name(5));
#endif
	ck_assert_ptr_null(fg_syscall_name(-1));
	ck_assert_ptr_null(fg_syscall_name(SYS_read));
}
END_TEST

/* ---- fg_proc_read_intent (live) */

/* Rows: the syscall a child blocks in and the flags it passes; the intent
 * and flags fanguard must read back. */
static const struct {
	const char *name;
	long nr;
	int flags;
	enum fg_intent want;
	uint64_t want_flags;
} opener_rows[] = {
    {"openat-w", SYS_openat, O_WRONLY | O_CLOEXEC, FG_INTENT_WRITE, O_WRONLY | O_CLOEXEC},
    {"openat-r", SYS_openat, O_RDONLY, FG_INTENT_READ, O_RDONLY},
    {"openat2-w", SYS_openat2, O_WRONLY, FG_INTENT_WRITE, O_WRONLY},
    {"openat2-r", SYS_openat2, O_RDONLY | O_CLOEXEC, FG_INTENT_READ, O_RDONLY | O_CLOEXEC},
#if defined(__x86_64__)
    {"open-w", SYS_open, O_WRONLY, FG_INTENT_WRITE, O_WRONLY},
    {"creat", SYS_creat, 0, FG_INTENT_WRITE, O_CREAT | O_WRONLY | O_TRUNC},
#endif
};

START_TEST(test_read_intent_blocked_opener)
{
	uint64_t f;
	long nr;

	for (size_t i = 0; i < FG_ARRAY_SIZE(opener_rows); i++) {
		const char *name = opener_rows[i].name;
		enum fg_intent in =
		    intent_of_opener(name, opener_rows[i].nr, opener_rows[i].flags, &f, &nr);
		ck_assert_msg(in == opener_rows[i].want, "%s: intent %d", name, in);
		ck_assert_msg(nr == opener_rows[i].nr, "%s: nr %ld", name, nr);
		ck_assert_msg(f == opener_rows[i].want_flags, "%s: flags %#llx", name,
			      (unsigned long long)f);
	}
}
END_TEST

START_TEST(test_read_intent_gone_or_self)
{
	uint64_t f = 1;
	long nr = 1;
	pid_t pid = fork_child();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	ck_assert_int_eq(fg_proc_read_intent(pid, &f, &nr), FG_INTENT_UNKNOWN);
	ck_assert_uint_eq(f, 0);
	ck_assert_int_eq(nr, -1);
	/* Reading our own file shows the pread(2) we are in: not an open. */
	ck_assert_int_eq(fg_proc_read_intent(getpid(), &f, &nr), FG_INTENT_UNKNOWN);
	ck_assert_int_eq(nr, SYS_pread64);
}
END_TEST

/* A named thread of ours blocked opening a FIFO for writing: only its own
 * id shows the open. */
struct opener_thread {
	pthread_t t;
	char fifo[128];
	pid_t tid;
};

static void *opener_main(void *arg)
{
	struct opener_thread *o = arg;

	prctl(PR_SET_NAME, "fg-worker");
	__atomic_store_n(&o->tid, gettid(), __ATOMIC_RELEASE);
	int fd = open(o->fifo, O_WRONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static bool opener_start(struct opener_thread *o, const char *name)
{
	make_fifo(name, o->fifo, sizeof(o->fifo));
	ck_assert_int_eq(pthread_create(&o->t, NULL, opener_main, o), 0);
	for (int i = 0; i < 5000 && !__atomic_load_n(&o->tid, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	return o->tid > 0 && wait_in_syscall(o->tid, SYS_openat);
}

static void opener_stop(struct opener_thread *o)
{
	/* Opening the read end releases the thread. */
	int rfd = open(o->fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	pthread_join(o->t, NULL);
	close(rfd);
}

START_TEST(test_read_intent_thread)
{
	struct opener_thread o = {0};
	uint64_t f, mf;
	long nr, mnr;

	bool blocked = opener_start(&o, "t");
	enum fg_intent in = fg_proc_read_intent(o.tid, &f, &nr);
	enum fg_intent main_in = fg_proc_read_intent(getpid(), &mf, &mnr);
	opener_stop(&o);
	ck_assert(blocked);
	ck_assert_int_ne(o.tid, getpid());
	ck_assert_int_eq(in, FG_INTENT_WRITE);
	ck_assert_int_eq(nr, SYS_openat);
	/* The main thread is not in an open. */
	ck_assert_int_eq(main_in, FG_INTENT_UNKNOWN);
}
END_TEST

START_TEST(test_resolve_self)
{
	struct fg_proc *p = &proc_buf;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_int_eq(fg_proc_resolve(getpid(), p), 0);
	ck_assert_int_eq(p->tid, getpid());
	ck_assert_int_eq(p->pid, getpid());
	ck_assert_int_eq(p->ppid, getppid());
	ck_assert_str_eq(p->exe, exe);
	ck_assert_uint_eq(p->uid, getuid());
	ck_assert_uint_eq(p->uid, 0);
	ck_assert_uint_gt(p->start_time, 0);
	ck_assert_int_eq(p->cgroup[0], '/');
	ck_assert_uint_gt(p->n_ancestors, 0);
	ck_assert(!p->ancestry_truncated);
	ck_assert_int_eq(p->anc[0].pid, getppid());
	ck_assert_int_eq(p->anc[p->n_ancestors - 1].pid, 1);
	for (unsigned i = 0; i < p->n_ancestors; i++)
		ck_assert_uint_lt(p->anc[i].exe_off, p->arena_used);
}
END_TEST

START_TEST(test_resolve_loginuid)
{
	int pfd[2];
	char ok = 0;

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid_t pid = fork_child();
	if (pid == 0) {
		int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
		char r = fd >= 0 && write(fd, "1000", 4) == 4;
		if (write(pfd[1], &r, 1) != 1)
			_exit(1);
		pause_forever();
	}
	ck_assert_int_eq(read(pfd[0], &ok, 1), 1);
	int r = fg_proc_resolve(pid, &proc_buf);
	reap(pid);
	close(pfd[0]);
	close(pfd[1]);
	ck_assert_msg(ok, "child could not set its loginuid");
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(proc_buf.auid, 1000);
	ck_assert_uint_ne(proc_buf.sessionid, FG_AUID_UNSET);
	ck_assert_int_eq(proc_buf.ppid, getpid());
	ck_assert_int_eq(proc_buf.anc[0].pid, getpid());
}
END_TEST

#define CHAIN_DEPTH 50

/* Each level reports its pid, then forks the next; the leaf waits. */
static void __attribute__((noreturn)) chain_level(int left, int wfd)
{
	pid_t me = getpid();

	if (write(wfd, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	if (left > 0 && fork_child() == 0)
		chain_level(left - 1, wfd);
	pause_forever();
}

START_TEST(test_resolve_deep_chain)
{
	pid_t pids[CHAIN_DEPTH + 1];
	size_t got = 0;
	int pfd[2];

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid_t top = fork_child();
	if (top == 0)
		chain_level(CHAIN_DEPTH, pfd[1]);
	while (got < sizeof(pids)) {
		ssize_t n = read(pfd[0], (char *)pids + got, sizeof(pids) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	int r = got == sizeof(pids) ? fg_proc_resolve(pids[CHAIN_DEPTH], &proc_buf) : -1;
	/* Every level dies with its parent (PDEATHSIG). */
	reap(top);
	close(pfd[0]);
	close(pfd[1]);
	ck_assert_uint_eq(got, sizeof(pids));
	ck_assert_int_eq(r, 0);
	ck_assert_uint_ge(proc_buf.n_ancestors, CHAIN_DEPTH + 1);
	for (unsigned i = 0; i < CHAIN_DEPTH; i++)
		ck_assert_int_eq(proc_buf.anc[i].pid, pids[CHAIN_DEPTH - 1 - i]);
	ck_assert_int_eq(proc_buf.anc[CHAIN_DEPTH].pid, getpid());
	ck_assert_int_eq(proc_buf.anc[proc_buf.n_ancestors - 1].pid, 1);
	ck_assert(!proc_buf.ancestry_truncated);
	ck_assert_str_eq(fg_proc_anc_exe(&proc_buf, 0), proc_buf.exe);
}
END_TEST

START_TEST(test_resolve_thread)
{
	struct opener_thread o = {0};

	bool blocked = opener_start(&o, "rt");
	int r = fg_proc_resolve(o.tid, &proc_buf);
	opener_stop(&o);
	ck_assert(blocked);
	ck_assert_int_eq(r, 0);
	ck_assert_int_ne(o.tid, getpid());
	ck_assert_int_eq(proc_buf.tid, o.tid);
	ck_assert_int_eq(proc_buf.pid, getpid());
	ck_assert_int_eq(proc_buf.ppid, getppid());
	ck_assert_str_eq(proc_buf.comm, "fg-worker");
	ck_assert_int_eq(proc_buf.anc[0].pid, getppid());
}
END_TEST

START_TEST(test_resolve_reaped)
{
	pid_t pid = fork_child();

	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_int_eq(fg_proc_resolve(pid, &proc_buf), -ESRCH);
	ck_assert_int_eq(proc_buf.tid, pid);
	ck_assert_int_eq(proc_buf.pid, pid);
	ck_assert_int_eq(fg_proc_resolve(0, &proc_buf), -ESRCH);
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *parse = tcase_create("parse");
	TCase *intent = tcase_create("intent");
	TCase *live = tcase_create("live");

	tcase_add_test(parse, test_parse_stat_comm_with_parens);
	tcase_add_test(parse, test_parse_stat_long_comm_truncated);
	tcase_add_test(parse, test_parse_stat_truncated);
	tcase_add_test(parse, test_parse_stat_garbage);
	tcase_add_test(parse, test_parse_stat_random_bytes);
	tcase_add_test(parse, test_parse_status_fields);
	tcase_add_test(parse, test_parse_status_missing_or_bad);
	tcase_add_test(parse, test_parse_syscall_forms);
	tcase_add_test(parse, test_parse_syscall_garbage);
	tcase_add_test(parse, test_parse_syscall_worker);
	tcase_add_test(parse, test_parse_cgroup_forms);
	tcase_add_test(parse, test_parse_cgroup_bad);
	suite_add_tcase(s, parse);

	tcase_add_test(intent, test_intent_from_flags_cases);
	tcase_add_test(intent, test_intent_decode_open_family);
	tcase_add_test(intent, test_intent_decode_openat2);
	tcase_add_test(intent, test_intent_decode_unknown);
	tcase_add_test(intent, test_dumping_core_live_task);
	tcase_add_test(intent, test_intent_vouched_cases);
	tcase_add_test(intent, test_syscall_name_known);
	suite_add_tcase(s, intent);

	/* Live tests need root and real children; they never skip. */
	tcase_add_unchecked_fixture(live, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(live, 30);
	tcase_add_test(live, test_read_intent_blocked_opener);
	tcase_add_test(live, test_read_intent_gone_or_self);
	tcase_add_test(live, test_read_intent_thread);
	tcase_add_test(live, test_resolve_self);
	tcase_add_test(live, test_resolve_loginuid);
	tcase_add_test(live, test_resolve_deep_chain);
	tcase_add_test(live, test_resolve_thread);
	tcase_add_test(live, test_resolve_reaped);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	guard_setup();
	SRunner *sr = srunner_create(proc_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
