#include "fanguard/harden.h"

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <linux/fsverity.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fanguard/util.h"

/* The capabilities fanguardd keeps after setup, each for a measured reason.
 * The e2e suites were run with fanguardd under `setpriv --bounding-set`
 * holding all three, and with each one removed (test_harden checks the
 * same operations after fg_harden_apply):
 *
 *   CAP_SYS_ADMIN        fanotify_init of FAN_CLASS_CONTENT groups with
 *                        FAN_REPORT_TID and FAN_UNLIMITED_*; every reload
 *                        makes new ones; mount marks (mark = mount).
 *                        Without it: the daemon cannot start (EPERM).
 *   CAP_DAC_READ_SEARCH  open_by_handle_at of the notification group's
 *                        directory handles (new subdirectory, rename-in,
 *                        link-in); fanotify_mark needs read access to each
 *                        marked file and directory, and a subtree may hold
 *                        files uid 0 cannot read as their owner (a crontab
 *                        0600 alice); config files on reload likewise.
 *                        Without it: no new name inside a subtree is seen.
 *   CAP_SYS_PTRACE       /proc/TID/syscall and /proc/TID/mem (open intent),
 *                        readlink /proc/PID/exe (identity) of any process
 *                        with capabilities we no longer have or another
 *                        uid: the kernel's ptrace access check.
 *                        Without it: every intent is unknown, every writer
 *                        unresolved; allow rules never match.
 *
 * Not kept: CAP_DAC_OVERRIDE and CAP_FOWNER (the empty file a denied
 * O_CREAT left is removed from a root-owned directory as its owner;
 * keep_dac_override for other layouts), CAP_CHOWN (the status socket is
 * chowned before the caps step), CAP_AUDIT_WRITE (no audit records are
 * written; journald and syslog take datagrams from anyone), CAP_SETPCAP
 * (needed here only, to empty the bounding set), CAP_NET_ADMIN (joining
 * the process events connector's group happens before the caps step; the
 * socket then keeps receiving without it), CAP_KILL, and the rest.
 * The uid stays 0: root-owned files stay reachable through owner bits. */
static const int kept_caps[] = {CAP_SYS_ADMIN, CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE};

#define CAPBIT(c) (1ULL << (unsigned)(c))

struct capstate {
	uint64_t inh, prm, eff, bnd, amb;
	char state; /* R, S, ..., Z: from the State line */
};

uint64_t fg_harden_cap_mask(const struct fg_harden_opts *o)
{
	struct fg_harden_opts def = FG_HARDEN_OPTS_DEFAULT;
	uint64_t mask = 0;

	if (!o)
		o = &def;
	for (size_t i = 0; i < FG_ARRAY_SIZE(kept_caps); i++)
		mask |= CAPBIT(kept_caps[i]);
	if (!o->keep_sys_admin)
		mask &= ~CAPBIT(CAP_SYS_ADMIN);
	if (o->keep_dac_override)
		mask |= CAPBIT(CAP_DAC_OVERRIDE);
	if (o->keep_audit_write)
		mask |= CAPBIT(CAP_AUDIT_WRITE);
	return mask;
}

/* The hex value of "key:\t..." in a /proc status buffer. */
static int status_hex(const char *buf, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);
	char *end;

	for (const char *l = buf; *l;) {
		const char *nl = strchr(l, '\n');

		if (strncmp(l, key, klen) == 0 && l[klen] == ':') {
			errno = 0;
			*ret = strtoull(l + klen + 1, &end, 16);
			return errno || end == l + klen + 1 ? -EINVAL : 0;
		}
		if (!nl)
			break;
		l = nl + 1;
	}
	return -ENOENT;
}

static int read_caps(int dirfd, const char *path, struct capstate *ret)
{
	char buf[4096];
	ssize_t n = fg_read_small(dirfd, path, buf, sizeof(buf));
	const char *st;

	if (n < 0)
		return (int)n;
	if (status_hex(buf, "CapInh", &ret->inh) < 0 || status_hex(buf, "CapPrm", &ret->prm) < 0 ||
	    status_hex(buf, "CapEff", &ret->eff) < 0 || status_hex(buf, "CapBnd", &ret->bnd) < 0 ||
	    status_hex(buf, "CapAmb", &ret->amb) < 0)
		return -EPROTO;
	st = strstr(buf, "\nState:\t");
	ret->state = st ? st[8] : '?';
	return 0;
}

/* capset reaches the calling thread only: every other thread must already
 * hold no more than mask (it was born after an earlier call). Returns 0,
 * -EBUSY, or -errno. */
static int others_within(uint64_t mask)
{
	DIR *d = opendir("/proc/self/task");
	pid_t self = gettid();
	struct dirent *de;
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d))) {
		char path[300];
		struct capstate cs;
		uint32_t tid;

		if (fg_parse_u32(de->d_name, &tid) < 0 || (pid_t)tid == self)
			continue;
		snprintf(path, sizeof(path), "%s/status", de->d_name);
		/* Gone, or exiting (a joined thread lingers a moment): it runs no
		 * more code with what it holds. */
		if (read_caps(dirfd(d), path, &cs) == -ENOENT || cs.state == 'Z' || cs.state == 'X')
			continue;
		if (cs.inh || cs.amb || ((cs.prm | cs.eff | cs.bnd) & ~mask))
			r = -EBUSY;
	}
	closedir(d);
	return r;
}

int fg_harden_caps_opts(const struct fg_harden_opts *o)
{
	uint64_t mask = fg_harden_cap_mask(o);
	capng_select_t select = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT;
	struct capstate self;
	int r = read_caps(AT_FDCWD, "/proc/thread-self/status", &self);

	if (r < 0)
		return r;
	mask &= self.prm; /* a capability we lack cannot be kept */
	r = others_within(mask);
	if (r < 0)
		return r;
	/* Emptying the bounding set needs CAP_SETPCAP; once it is empty (a
	 * second call) there is nothing left to drop there. */
	if (self.bnd) {
		if (!(self.eff & CAPBIT(CAP_SETPCAP)))
			return -EPERM;
		select |= CAPNG_SELECT_BOUNDS;
	}
	capng_clear(CAPNG_SELECT_ALL);
	for (unsigned c = 0; c < 64; c++)
		if ((mask & CAPBIT(c)) &&
		    capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, c) < 0)
			return -EINVAL;
	errno = 0;
	/* libcap-ng drops the bounding set first (while CAP_SETPCAP is still
	 * effective), then sets the caps, then clears ambient. */
	if (capng_apply(select) < 0)
		return errno ? -errno : -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int fg_harden_caps(void)
{
	return fg_harden_caps_opts(NULL);
}

/* ---- seccomp ---- */

/* Sanitizer runtimes need more than the daemon: LeakSanitizer stops the
 * world at exit with a cloned tracer task that ptraces every thread. */
#if defined(__SANITIZE_ADDRESS__)
#define FG_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FG_SANITIZER 1
#endif
#endif

/* What the daemon does after setup, measured with `strace -f` of fanguardd
 * hardened over every e2e suite (loop, reload, status socket, self-test,
 * mount-table changes, shutdown; file sink) and of a probe using syslog(),
 * sd_journal_send and sd_notify after hardening; plus a margin of calls
 * that reach nothing beyond our own process and fds (epoll, timerfd,
 * fsync, ...). Names unknown on an architecture (open, stat on aarch64)
 * are skipped. Not here, so EPERM: fork/clone (no process or thread is
 * made after setup), setuid and friends, capset, seccomp itself, uname. */
/* clang-format off */
static const char *const allowed[] = {
	/* fds and files; opens are bounded by uid 0's owner bits + the caps */
	"read", "readv", "pread64", "write", "writev", "pwrite64", "close", "close_range",
	"lseek", "dup", "dup2", "dup3", "fcntl", "fsync", "fdatasync", "ftruncate",
	"open", "openat", "open_by_handle_at", "name_to_handle_at", "readlink", "readlinkat",
	"stat", "lstat", "fstat", "newfstatat", "statx", "statfs", "fstatfs", "getdents64",
	"access", "faccessat", "faccessat2", "getcwd", "unlink", "unlinkat", "rmdir",
	/* checking a unit cgroup (unitcg.c): beneath the cgroup2 root, its xattr */
	"openat2", "fgetxattr",
	/* fanotify, pidfds */
	"fanotify_init", "fanotify_mark", "pidfd_open",
	/* memory: malloc, thread stacks, glibc's arena trimming */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* threads, time, randomness */
	"futex", "set_robust_list", "rseq", "sched_yield", "nanosleep", "clock_nanosleep",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "getrandom",
	/* signals (signalfd, blocked masks, abort) */
	"rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "sigaltstack", "signalfd4",
	"restart_syscall",
	/* waiting */
	"poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"timerfd_create", "timerfd_settime", "timerfd_gettime", "eventfd2", "pipe2",
	/* who we are */
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups",
	"getresuid", "getresgid", "capget",
	/* AF_UNIX sockets only (socket/socketpair filtered below): the status
	 * socket, syslog, the journal (memfd for large entries), sd_notify */
	"connect", "accept", "accept4", "bind", "listen", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "sendto", "sendmsg", "recvfrom", "recvmsg", "shutdown",
	"memfd_create",
	/* the way out */
	"exit", "exit_group",
#ifdef FG_SANITIZER
	/* LeakSanitizer at exit: a cloned tracer lists /proc/PID/task with the
	 * old getdents, ptraces each thread and is waited for */
	"ptrace", "clone", "clone3", "wait4", "prctl", "getdents", "sched_getaffinity",
	"prlimit64",
#endif
};

/* Never needed, and each the first step of escaping or persisting: the
 * process is killed (and the kill audited) rather than told EPERM. */
static const char *const killed[] = {
	"execve", "execveat",
#ifndef FG_SANITIZER
	"ptrace",
#endif
	"process_vm_writev", "process_vm_readv", "pidfd_getfd",
	"mount", "umount2", "move_mount", "fsopen", "fsmount", "fsconfig", "fspick",
	"open_tree", "mount_setattr", "pivot_root", "chroot", "setns", "unshare",
	"bpf", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"reboot", "swapon", "swapoff", "iopl", "ioperm",
};
/* clang-format on */

static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int r;

		if (nr < 0) /* unknown to libseccomp, or not on this arch */
			continue;
		r = seccomp_rule_add(ctx, action, nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One allow rule per value of argument arg. */
static int allow_values(scmp_filter_ctx ctx, int nr, unsigned arg, const uint64_t *vals, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					 SCMP_CMP32(arg, SCMP_CMP_EQ, (uint32_t)vals[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Socket families: AF_UNIX only; anything else is told it does not exist,
 * which is what a program without that family expects to hear. */
static int add_sockets(scmp_filter_ctx ctx)
{
	static const int nrs[] = {SCMP_SYS(socket), SCMP_SYS(socketpair)};

	for (size_t i = 0; i < FG_ARRAY_SIZE(nrs); i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 1,
					 SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX));
		if (r < 0)
			return r;
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nrs[i], 1,
				     SCMP_A0_32(SCMP_CMP_NE, AF_UNIX));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Calls allowed with some arguments only: signals to ourselves (abort,
 * raise), harmless ioctls and prctls, reading our own rlimits. */
static int add_conditional(scmp_filter_ctx ctx)
{
	/* FS_IOC_MEASURE_VERITY: the digest worker reads an exe's fs-verity
	 * digest (digest.c). */
	static const uint64_t ioctls[] = {FIONREAD, TCGETS, FS_IOC_MEASURE_VERITY};
	static const uint64_t prctls[] = {PR_GET_NAME, PR_SET_NAME, PR_CAPBSET_READ,
					  PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS};
	uint64_t self = (uint64_t)getpid();
	int r;

	r = add_sockets(ctx);
	if (r == 0)
		r = allow_values(ctx, SCMP_SYS(ioctl), 1, ioctls, FG_ARRAY_SIZE(ioctls));
#ifndef FG_SANITIZER
	if (r == 0)
		r = allow_values(ctx, SCMP_SYS(prctl), 0, prctls, FG_ARRAY_SIZE(prctls));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
				     SCMP_A0_32(SCMP_CMP_EQ, 0), SCMP_A2_64(SCMP_CMP_EQ, 0));
#else
	(void)prctls;
#endif
	if (r == 0)
		r = allow_values(ctx, SCMP_SYS(tgkill), 0, &self, 1);
	if (r == 0)
		r = allow_values(ctx, SCMP_SYS(kill), 0, &self, 1);
	return r;
}

static int set_attrs(scmp_filter_ctx ctx)
{
	int r;

	/* A syscall of a foreign ABI (int 0x80, x32) bypasses a table written
	 * for the native one: kill. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* The logger thread exists already: every thread gets the filter. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	/* Kills and refusals reach the audit log, when the kernel can. */
	if (r == 0 && seccomp_api_get() >= 3)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	/* The kernel's errno instead of libseccomp's -ECANCELED. */
	if (r == 0)
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	return r;
}

int fg_harden_seccomp(void)
{
	/* EPERM, not a kill, for what is not listed: a daemon that dies fails
	 * open until restarted, one told EPERM on a rare path keeps guarding
	 * and logs the failure. The calls that only an attacker makes kill. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r;

	if (!ctx)
		return -ENOMEM;
	r = set_attrs(ctx);
	if (r == 0)
		r = add_names(ctx, SCMP_ACT_ALLOW, allowed, FG_ARRAY_SIZE(allowed));
	if (r == 0)
		r = add_names(ctx, SCMP_ACT_KILL_PROCESS, killed, FG_ARRAY_SIZE(killed));
	if (r == 0)
		r = add_conditional(ctx);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	/* With TSYNC the kernel names a thread it could not reach by its id. */
	return r > 0 ? -EBUSY : r;
}

int fg_harden_apply(const struct fg_harden_opts *o)
{
	int r = fg_harden_caps_opts(o);

	return r < 0 ? r : fg_harden_seccomp();
}
