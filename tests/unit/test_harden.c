/* Check suite "harden": capabilities, no_new_privs and the seccomp filter,
 * each applied in a forked child (hardening cannot be undone) and checked
 * from inside it and from its exit status. Needs root; never skips. */
#include "fanguard/harden.h"
#include "fanguard/util.h"

#include <cap-ng.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER 1
#endif
#endif

#ifndef FAN_REPORT_DFID_NAME
#define FAN_REPORT_DFID_NAME (0x00000400 | 0x00000800)
#endif

/* The documented set, spelled out from the cap numbers, not taken from
 * the code under test. */
#define DOC_CAPS                                                                                   \
	((1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_SYS_PTRACE))

static char tmpdir[64];
static long marker = 0x5eed;

/* ---- running something hardened in a child ---- */

/* The hardened child cannot use Check (it may need calls the filter
 * refuses): a failed requirement is written to this pipe and exits 100. */
static int report_fd = -1;

static void __attribute__((noreturn, format(printf, 2, 3)))
child_fail(int line, const char *fmt, ...)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "line %d: ", line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	(void)!write(report_fd, msg, strlen(msg));
	_exit(100);
}

#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			child_fail(__LINE__, "%s (errno %d %s)", #c, errno, strerror(errno));      \
	} while (0)

/* Forks, runs fn in the child (which _exits 0 when fn returns: no atexit
 * handlers, no LeakSanitizer), and returns the wait status; the child's
 * complaint, if any, lands in msg. */
static int run_child(void (*fn)(void *), void *arg, char *msg, size_t size)
{
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		report_fd = fds[1];
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], msg, size - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_ok(void (*fn)(void *), void *arg)
{
	char msg[512];
	int status = run_child(fn, arg, msg, sizeof(msg));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child failed (status %#x): %s", (unsigned)status, msg);
}

static uint64_t status_hex(const char *path, const char *key)
{
	char buf[4096], *p;
	ssize_t n = fg_read_small(AT_FDCWD, path, buf, sizeof(buf));
	size_t klen = strlen(key);

	REQUIRE(n > 0);
	for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return strtoull(p + klen + 1, NULL, key[0] == 'C' ? 16 : 10);
	child_fail(__LINE__, "%s: no %s", path, key);
}

/* Every hardening fact, for the thread whose status file is path. */
static void require_hardened(const char *path)
{
	REQUIRE(status_hex(path, "Seccomp") == 2);
	REQUIRE(status_hex(path, "Seccomp_filters") >= 1);
	REQUIRE(status_hex(path, "NoNewPrivs") == 1);
	REQUIRE(status_hex(path, "CapEff") == DOC_CAPS);
	REQUIRE(status_hex(path, "CapPrm") == DOC_CAPS);
	REQUIRE(status_hex(path, "CapInh") == 0);
	REQUIRE(status_hex(path, "CapBnd") == 0);
	REQUIRE(status_hex(path, "CapAmb") == 0);
}

/* ---- status after apply ---- */

static void apply_status(void *arg)
{
	REQUIRE(fg_harden_apply(NULL) == 0);
	require_hardened("/proc/self/status");
	REQUIRE(getuid() == 0 && geteuid() == 0);
}

START_TEST(test_apply_status)
{
	struct fg_harden_opts o = FG_HARDEN_OPTS_DEFAULT;

	ck_assert_uint_eq(fg_harden_cap_mask(NULL), DOC_CAPS);
	/* audit records: CAP_AUDIT_WRITE is kept, and nothing else is */
	o.keep_audit_write = true;
	ck_assert_uint_eq(fg_harden_cap_mask(&o), DOC_CAPS | (1ULL << CAP_AUDIT_WRITE));
	expect_ok(apply_status, NULL);
}
END_TEST

/* The caps step may run again (before the filter); after the filter,
 * capset and seccomp themselves are refused and nothing changes. */
static void apply_twice(void *arg)
{
	REQUIRE(fg_harden_caps() == 0);
	REQUIRE(fg_harden_caps() == 0);
	REQUIRE(fg_harden_apply(NULL) == 0);
	REQUIRE(fg_harden_apply(NULL) == -EPERM);
	require_hardened("/proc/self/status");
	REQUIRE(status_hex("/proc/self/status", "Seccomp_filters") == 1);
}

START_TEST(test_apply_twice)
{
	expect_ok(apply_twice, NULL);
}
END_TEST

/* ---- what the filter kills ---- */

/* Foreign ABIs: the i386 table through int 0x80 and x32 numbers. */
#define I386_GETPID (-20L)
#define X32_GETPID  (0x40000000L | SYS_getpid)

struct killcase {
	const char *name;
	long nr;
};

static void call_forbidden(void *arg)
{
	const struct killcase *k = arg;
	char *const argv[] = {"true", NULL};

	REQUIRE(fg_harden_apply(NULL) == 0);
	if (k->nr == SYS_execve)
		execv("/bin/true", argv);
#ifdef __x86_64__
	else if (k->nr == I386_GETPID) {
		long ret = 20; /* getpid in the i386 table */
		__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	}
#endif
	else
		syscall(k->nr, 0, 0, 0, 0, 0, 0);
	child_fail(__LINE__, "%s returned (errno %d)", k->name, errno);
}

/* Arguments are all 0: if the filter failed to kill, each call fails
 * harmlessly (EFAULT, EINVAL) or, for unshare(0), does nothing. */
static const struct killcase kill_cases[] = {
    {"execve", SYS_execve},
    {"mount", SYS_mount},
    {"umount2", SYS_umount2},
    {"bpf", SYS_bpf},
    {"kexec_load", SYS_kexec_load},
    {"init_module", SYS_init_module},
    {"finit_module", SYS_finit_module},
    {"perf_event_open", SYS_perf_event_open},
    {"process_vm_readv", SYS_process_vm_readv},
    {"keyctl", SYS_keyctl},
    {"unshare", SYS_unshare},
    {"pivot_root", SYS_pivot_root},
#ifndef SANITIZER
    {"ptrace", SYS_ptrace}, /* sanitizer builds allow it for LeakSanitizer */
#endif
#ifdef __x86_64__
    {"i386 getpid", I386_GETPID},
    {"x32 getpid", X32_GETPID},
#endif
};

START_TEST(test_seccomp_forbidden_kills)
{
	const struct killcase *k = &kill_cases[_i];
	char msg[512];
	int status = run_child(call_forbidden, (void *)k, msg, sizeof(msg));

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "%s: status %#x, not killed by SIGSYS: %s", k->name, (unsigned)status, msg);
}
END_TEST

/* ---- what the filter refuses ---- */

static void socket_families(void *arg)
{
	int sv[2], fd;

	REQUIRE(fg_harden_apply(NULL) == 0);
	errno = 0;
	REQUIRE(socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == EAFNOSUPPORT);
	REQUIRE(socket(AF_INET6, SOCK_DGRAM, 0) == -1 && errno == EAFNOSUPPORT);
	REQUIRE(socket(AF_NETLINK, SOCK_RAW, 0) == -1 && errno == EAFNOSUPPORT);
	REQUIRE(socket(AF_PACKET, SOCK_RAW, 0) == -1 && errno == EAFNOSUPPORT);
	REQUIRE(socketpair(AF_INET, SOCK_STREAM, 0, sv) == -1 && errno == EAFNOSUPPORT);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	close(fd);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	REQUIRE(send(sv[0], "x", 1, MSG_NOSIGNAL) == 1);
	REQUIRE(recv(sv[1], &fd, 1, 0) == 1);
}

START_TEST(test_seccomp_socket_families)
{
	expect_ok(socket_families, NULL);
}
END_TEST

static void unlisted_eperm(void *arg)
{
	struct utsname u;

	REQUIRE(fg_harden_apply(NULL) == 0);
	errno = 0;
	REQUIRE(syscall(SYS_uname, &u) == -1 && errno == EPERM);
	REQUIRE(syscall(SYS_setuid, 1000) == -1 && errno == EPERM);
	REQUIRE(getuid() == 0);
	/* Signals go to ourselves only. */
	REQUIRE(kill(getpid(), 0) == 0);
	REQUIRE(kill(1, 0) == -1 && errno == EPERM);
#ifdef SYS_fork
	REQUIRE(syscall(SYS_fork) == -1 && errno == EPERM);
#endif
}

START_TEST(test_seccomp_unlisted_eperm)
{
	expect_ok(unlisted_eperm, NULL);
}
END_TEST

/* ---- the daemon's own work, hardened ---- */

struct core {
	pid_t root_kid;	  /* full caps, uid 0: waits on go[0], then opens the file */
	pid_t nobody_kid; /* uid 65534, not dumpable: waits on go[0] */
	int go[2];
	char file[128];
};

static void __attribute__((noreturn)) kid_main(struct core *c, bool as_nobody)
{
	char b;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(c->go[1]);
	if (as_nobody && setresuid(65534, 65534, 65534) < 0)
		_exit(2);
	/* EOF (the hardened child is gone) ends the wait too. */
	if (read(c->go[0], &b, 1) != 1)
		_exit(3);
	if (as_nobody)
		_exit(0);
	fd = open(c->file, O_RDONLY | O_CLOEXEC);
	_exit(fd < 0 ? 4 : 0);
}

/* Waits until tid sleeps in syscall nr; returns the /proc/TID/syscall
 * line's first field. */
static long syscall_of(pid_t tid, long want)
{
	char path[64], buf[256];
	long nr = -2;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	for (int i = 0; i < 500 && nr != want; i++) {
		ssize_t n = fg_read_small(AT_FDCWD, path, buf, sizeof(buf));
		REQUIRE(n > 0);
		nr = strtol(buf, NULL, 10);
		if (nr != want)
			usleep(10000);
	}
	return nr;
}

static void proc_access(pid_t tid)
{
	char path[64], exe[256];
	long val = 0;
	int fd;

	REQUIRE(syscall_of(tid, SYS_read) == SYS_read);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
	REQUIRE(readlink(path, exe, sizeof(exe)) > 0);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	REQUIRE(pread(fd, &val, sizeof(val), (off_t)(uintptr_t)&marker) == (ssize_t)sizeof(val));
	REQUIRE(val == marker);
	close(fd);
}

/* A new pair of groups (what a reload makes) and the marks, as fan.c
 * places them; the file inside is mode 0600 owned by nobody, in a 0700
 * directory owned by nobody: marking it needs CAP_DAC_READ_SEARCH. */
static int groups_and_marks(int *ret_notif)
{
	unsigned base = FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS;
	int perm = fanotify_init(base | FAN_CLASS_CONTENT | FAN_REPORT_TID,
				 O_RDONLY | O_LARGEFILE | O_CLOEXEC);

	REQUIRE(perm >= 0);
	*ret_notif = fanotify_init(base | FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_REPORT_TID,
				   O_RDONLY | O_CLOEXEC);
	REQUIRE(*ret_notif >= 0);
	REQUIRE(fanotify_mark(perm, FAN_MARK_ADD, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD, AT_FDCWD,
			      tmpdir) == 0);
	REQUIRE(fanotify_mark(*ret_notif, FAN_MARK_ADD, FAN_CREATE | FAN_ONDIR | FAN_EVENT_ON_CHILD,
			      AT_FDCWD, tmpdir) == 0);
	return perm;
}

static void by_handle(void)
{
	struct {
		struct file_handle fh;
		unsigned char buf[MAX_HANDLE_SZ];
	} h = {.fh.handle_bytes = MAX_HANDLE_SZ};
	int mount_id, mfd, dfd;

	REQUIRE(name_to_handle_at(AT_FDCWD, tmpdir, &h.fh, &mount_id, 0) == 0);
	mfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	REQUIRE(mfd >= 0);
	dfd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	REQUIRE(dfd >= 0);
	close(dfd);
	close(mfd);
}

/* One permission event end to end: the root kid opens the file, blocks,
 * and the hardened child reads its intent and identity, then allows it. */
static void answer_open(int perm, pid_t kid)
{
	char buf[4096] __attribute__((aligned(8)));
	const struct fanotify_event_metadata *md = (const void *)buf;
	struct pollfd p = {.fd = perm, .events = POLLIN};
	struct fanotify_response resp;
	ssize_t len;

	REQUIRE(poll(&p, 1, 5000) == 1);
	len = read(perm, buf, sizeof(buf));
	REQUIRE(FAN_EVENT_OK(md, len));
	REQUIRE(md->pid == kid && (md->mask & FAN_OPEN_PERM));
	REQUIRE(syscall_of(kid, SYS_openat) == SYS_openat);
	resp = (struct fanotify_response){.fd = md->fd, .response = FAN_ALLOW};
	REQUIRE(write(perm, &resp, sizeof(resp)) == (ssize_t)sizeof(resp));
	close(md->fd);
}

static void core_ops(void *arg)
{
	struct core *c = arg;
	int perm, notif;

	(void)marker;

	/* The kids exist before hardening, as the host's processes do. */
	REQUIRE(pipe2(c->go, O_CLOEXEC) == 0);
	c->root_kid = fork();
	if (c->root_kid == 0)
		kid_main(c, false);
	c->nobody_kid = fork();
	if (c->nobody_kid == 0)
		kid_main(c, true);
	REQUIRE(c->root_kid > 0 && c->nobody_kid > 0);
	REQUIRE(fg_harden_apply(NULL) == 0);
	perm = groups_and_marks(&notif);
	proc_access(c->root_kid);
	proc_access(c->nobody_kid);
	by_handle();
	REQUIRE(write(c->go[1], "gg", 2) == 2); /* one byte for each kid */
	answer_open(perm, c->root_kid);
	close(perm);
	close(notif);
}

START_TEST(test_apply_core_ops)
{
	struct core c = {0};

	snprintf(c.file, sizeof(c.file), "%s/probe", tmpdir);
	expect_ok(core_ops, &c);
}
END_TEST

static void no_sys_admin(void *arg)
{
	struct fg_harden_opts o = FG_HARDEN_OPTS_DEFAULT;

	o.keep_sys_admin = false;
	REQUIRE(fg_harden_apply(&o) == 0);
	REQUIRE(status_hex("/proc/self/status", "CapEff") == (DOC_CAPS & ~(1ULL << CAP_SYS_ADMIN)));
	errno = 0;
	REQUIRE(fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY) == -1 && errno == EPERM);
}

START_TEST(test_apply_without_sys_admin)
{
	expect_ok(no_sys_admin, NULL);
}
END_TEST

/* ---- threads ---- */

struct thr {
	int go[2], done[2];
	pid_t tid;
	int uname_errno;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	struct utsname u;
	char b;

	__atomic_store_n(&t->tid, gettid(), __ATOMIC_RELEASE);
	if (read(t->go[0], &b, 1) != 1)
		return NULL;
	errno = 0;
	t->uname_errno = syscall(SYS_uname, &u) < 0 ? errno : 0;
	(void)!write(t->done[1], "d", 1);
	return NULL;
}

/* The caps step runs before threads exist (they inherit its result); the
 * seccomp step reaches threads that exist already. */
static void thread_filtered(void *arg)
{
	struct thr t = {0};
	pthread_t th;
	char path[64], b;

	REQUIRE(pipe2(t.go, O_CLOEXEC) == 0 && pipe2(t.done, O_CLOEXEC) == 0);
	REQUIRE(fg_harden_caps() == 0);
	REQUIRE(pthread_create(&th, NULL, thr_main, &t) == 0);
	while (!__atomic_load_n(&t.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	REQUIRE(fg_harden_apply(NULL) == 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)t.tid);
	require_hardened(path);
	REQUIRE(write(t.go[1], "g", 1) == 1);
	REQUIRE(read(t.done[0], &b, 1) == 1);
	REQUIRE(t.uname_errno == EPERM);
	REQUIRE(pthread_join(th, NULL) == 0);
}

START_TEST(test_seccomp_thread_filtered)
{
	expect_ok(thread_filtered, NULL);
}
END_TEST

/* A thread born with full caps cannot be reached by capset: refuse, and
 * change nothing. */
static void caps_busy(void *arg)
{
	struct thr t = {0};
	pthread_t th;

	REQUIRE(pipe2(t.go, O_CLOEXEC) == 0 && pipe2(t.done, O_CLOEXEC) == 0);
	REQUIRE(pthread_create(&th, NULL, thr_main, &t) == 0);
	while (!__atomic_load_n(&t.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	REQUIRE(fg_harden_caps() == -EBUSY);
	REQUIRE(fg_harden_apply(NULL) == -EBUSY);
	REQUIRE(status_hex("/proc/self/status", "CapEff") != DOC_CAPS);
	REQUIRE(status_hex("/proc/self/status", "CapBnd") != 0);
	REQUIRE(status_hex("/proc/self/status", "NoNewPrivs") == 0);
	REQUIRE(status_hex("/proc/self/status", "Seccomp") == 0);
	close(t.go[1]);
	REQUIRE(pthread_join(th, NULL) == 0);
	/* pthread_join returns once the thread cleared its tid, a moment
	 * before the kernel has released it: until then it still counts (with
	 * its full caps) and TSYNC may name it. */
	for (int i = 0; i < 2000 && status_hex("/proc/self/status", "Threads") != 1; i++)
		usleep(1000);
	REQUIRE(status_hex("/proc/self/status", "Threads") == 1);
	REQUIRE(fg_harden_apply(NULL) == 0);
	require_hardened("/proc/self/status");
}

START_TEST(test_caps_other_thread_busy)
{
	expect_ok(caps_busy, NULL);
}
END_TEST

/* A bounding set that still holds something needs CAP_SETPCAP to empty
 * (a systemd unit's CapabilityBoundingSet must list it): refuse, change
 * nothing. */
static void no_setpcap(void *arg)
{
	uint64_t eff;

	REQUIRE(prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0) == 0);
	REQUIRE(capng_get_caps_process() == 0);
	REQUIRE(capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SETPCAP) == 0);
	REQUIRE(capng_apply(CAPNG_SELECT_CAPS) == 0);
	eff = status_hex("/proc/self/status", "CapEff");
	REQUIRE(fg_harden_caps() == -EPERM);
	REQUIRE(status_hex("/proc/self/status", "CapEff") == eff);
	REQUIRE(status_hex("/proc/self/status", "NoNewPrivs") == 0);
}

START_TEST(test_caps_without_setpcap)
{
	expect_ok(no_setpcap, NULL);
}
END_TEST

/* ---- fixture ---- */

static void tmpdir_setup(void)
{
	char file[128];
	int fd;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fg-harden.XXXXXX");
	if (!mkdtemp(tmpdir))
		abort();
	snprintf(file, sizeof(file), "%s/probe", tmpdir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || fchown(fd, 65534, 65534) < 0 || chown(tmpdir, 65534, 65534) < 0)
		abort();
	close(fd);
}

static void tmpdir_teardown(void)
{
	char file[128];

	snprintf(file, sizeof(file), "%s/probe", tmpdir);
	unlink(file);
	rmdir(tmpdir);
}

static Suite *harden_suite(void)
{
	Suite *s = suite_create("harden");
	TCase *tc = tcase_create("live");

	/* Needs root (CAP_SETPCAP, fanotify); never skips. */
	tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_apply_status);
	tcase_add_test(tc, test_apply_twice);
	tcase_add_loop_test(tc, test_seccomp_forbidden_kills, 0, (int)FG_ARRAY_SIZE(kill_cases));
	tcase_add_test(tc, test_seccomp_socket_families);
	tcase_add_test(tc, test_seccomp_unlisted_eperm);
	tcase_add_test(tc, test_apply_core_ops);
	tcase_add_test(tc, test_apply_without_sys_admin);
	tcase_add_test(tc, test_seccomp_thread_filtered);
	tcase_add_test(tc, test_caps_other_thread_busy);
	tcase_add_test(tc, test_caps_without_setpcap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(harden_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
