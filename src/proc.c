/* Who is writing, and did they ask to write: /proc parsers and resolvers.
 *
 * Everything here runs per permission event, so nothing allocates: buffers
 * live on the stack and files are read with one open and one read each,
 * relative to a /proc dirfd opened once per call. */
#include "fanguard/proc.h"
#include "fanguard/util.h"

#include <errno.h>
#include <sched.h>
#include <time.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc's __O_TMPFILE already includes O_DIRECTORY, and O_DIRECTORY alone is
 * a read. The bit that makes an open a tmpfile is what O_TMPFILE adds. */
#define FG_O_TMPFILE_BIT ((uint64_t)(O_TMPFILE & ~O_DIRECTORY))

/* x32 tasks set this bit in the syscall number. */
#define FG_X32_SYSCALL_BIT 0x40000000L

/* One line of /proc/PID/stat is ~300 bytes, but a kernel thread's comm can be
 * longer than TASK_COMM_LEN there; 2 KiB leaves ample room. */
#define FG_STAT_BUF   2048
#define FG_STATUS_BUF 4096

/* ---- small span helpers: every parser works on [s, end) and never on NUL */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Splits the next blank-separated token off [*p, end). Returns false when no token is left. */
static bool next_token(const char **p, const char *end, const char **ret_s, size_t *ret_n)
{
	const char *s = *p;

	while (s < end && is_space(*s))
		s++;
	if (s == end)
		return false;
	const char *e = s;
	while (e < end && !is_space(*e))
		e++;
	*ret_s = s;
	*ret_n = (size_t)(e - s);
	*p = e;
	return true;
}

static int span_u64(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static int span_pid(const char *s, size_t n, pid_t *ret)
{
	uint64_t v;

	if (span_u64(s, n, &v) < 0 || v > INT32_MAX)
		return -EINVAL;
	*ret = (pid_t)v;
	return 0;
}

/* "0x" and 1..16 hex digits, as the kernel prints %llx. */
static int span_hex(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n < 3 || n > 18 || s[0] != '0' || s[1] != 'x')
		return -EINVAL;
	for (size_t i = 2; i < n; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*ret = v;
	return 0;
}

static bool span_eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* ---- parsers */

int fg_proc_parse_stat(const char *buf, size_t len, struct fg_stat *ret)
{
	const char *end = buf + len, *s;
	size_t n;
	struct fg_stat st = {0};
	pid_t pid;

	/* comm may hold anything, ')' and newlines included, but nothing after
	 * it can hold ')': so it ends at the last one. */
	const char *lpar = memchr(buf, '(', len);
	const char *rpar = lpar ? memrchr(lpar, ')', (size_t)(end - lpar)) : NULL;
	if (!lpar || !rpar || lpar < buf + 2 || lpar[-1] != ' ')
		return -EINVAL;
	if (span_pid(buf, (size_t)(lpar - 1 - buf), &pid) < 0)
		return -EINVAL;
	size_t clen = (size_t)(rpar - lpar - 1);
	if (clen >= FG_COMM_LEN)
		clen = FG_COMM_LEN - 1;
	memcpy(st.comm, lpar + 1, clen);

	const char *p = rpar + 1;
	if (p >= end || *p != ' ')
		return -EINVAL;
	/* Fields after comm are numbered from 3 (state); start_time is 22. */
	for (int field = 3; field <= 22; field++) {
		if (!next_token(&p, end, &s, &n))
			return -EINVAL;
		if (field == 3) {
			if (n != 1 ||
			    !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
				return -EINVAL;
			st.state = s[0];
		} else if (field == 4) {
			if (span_pid(s, n, &st.ppid) < 0)
				return -EINVAL;
		} else if (field == 9) {
			uint64_t f;
			if (span_u64(s, n, &f) < 0)
				return -EINVAL;
			st.flags = (unsigned long)f;
		} else if (field == 22) {
			if (span_u64(s, n, &st.start_time) < 0)
				return -EINVAL;
		}
	}
	*ret = st;
	return 0;
}

/* Parses the `max` value fields of one status line, each at most `limit`. */
static int status_values(const char *p, const char *end, uint64_t *vals, size_t max, uint64_t limit)
{
	const char *s;
	size_t n, got = 0;

	while (got < max && next_token(&p, end, &s, &n)) {
		if (span_u64(s, n, &vals[got]) < 0 || vals[got] > limit)
			return -EINVAL;
		got++;
	}
	/* Nothing may follow: an extra field means a format we do not know. */
	return got == max && !next_token(&p, end, &s, &n) ? 0 : -EINVAL;
}

int fg_proc_parse_status(const char *buf, size_t len, struct fg_status *ret)
{
	const char *end = buf + len;
	struct fg_status st = {0};
	unsigned seen = 0;
	uint64_t v[4];

	for (const char *line = buf; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - line);

		if (ll > 5 && memcmp(line, "Tgid:", 5) == 0) {
			if (status_values(line + 5, le, v, 1, INT32_MAX) < 0)
				return -EINVAL;
			st.tgid = (pid_t)v[0];
			seen |= 1;
		} else if (ll > 10 && memcmp(line, "TracerPid:", 10) == 0) {
			if (status_values(line + 10, le, v, 1, INT32_MAX) < 0)
				return -EINVAL;
			st.tracer = (pid_t)v[0];
		} else if (ll > 5 && memcmp(line, "PPid:", 5) == 0) {
			if (status_values(line + 5, le, v, 1, INT32_MAX) < 0)
				return -EINVAL;
			st.ppid = (pid_t)v[0];
			seen |= 2;
		} else if (ll > 4 && memcmp(line, "Uid:", 4) == 0) {
			if (status_values(line + 4, le, v, 4, UINT32_MAX) < 0)
				return -EINVAL;
			st.uid = (uint32_t)v[0];
			st.euid = (uint32_t)v[1];
			seen |= 4;
		}
		line = le + 1;
	}
	if (seen != 7)
		return -EINVAL;
	*ret = st;
	return 0;
}

/* Fields of /proc/TID/syscall are split by exactly one space; an empty
 * field (two spaces, a leading or trailing one) fails the number parsers. */
static bool next_field(const char **p, const char *end, const char **ret_s, size_t *ret_n)
{
	if (!*p)
		return false;
	const char *sp = memchr(*p, ' ', (size_t)(end - *p));
	const char *e = sp ? sp : end;

	*ret_s = *p;
	*ret_n = (size_t)(e - *p);
	/* NULL marks "no field left", so "a " still yields "" last. */
	*p = sp ? sp + 1 : NULL;
	return true;
}

int fg_proc_parse_syscall(const char *buf, size_t len, struct fg_syscall *ret)
{
	const char *p = buf, *end = buf + len, *s;
	size_t n;
	struct fg_syscall sc = {.nr = -1};
	uint64_t v, nr;

	/* The kernel prints one line; accept it with or without its newline. */
	if (len > 0 && buf[len - 1] == '\n')
		end--;
	if (span_eq(buf, (size_t)(end - buf), "running")) {
		sc.running = true;
		*ret = sc;
		return 0;
	}
	if (!next_field(&p, end, &s, &n))
		return -EINVAL;
	/* "-1 SP PC": blocked, but not inside a syscall. */
	bool outside = span_eq(s, n, "-1");
	if (!outside) {
		if (span_u64(s, n, &nr) < 0 || nr > INT32_MAX)
			return -EINVAL;
		sc.nr = (long)nr;
	}
	uint64_t sp_pc = 0;
	for (int i = 0; i < (outside ? 2 : 8); i++) {
		if (!next_field(&p, end, &s, &n) || span_hex(s, n, &v) < 0)
			return -EINVAL;
		if (!outside && i < 6)
			sc.args[i] = (unsigned long)v;
		else
			sp_pc |= v;
	}
	sc.worker = !outside && sp_pc == 0;
	if (next_field(&p, end, &s, &n))
		return -EINVAL;
	*ret = sc;
	return 0;
}

/* The path of a cgroup line "ID:CONTROLLERS:PATH", or NULL if malformed. */
static const char *cgroup_path(const char *line, const char *le)
{
	const char *c1 = memchr(line, ':', (size_t)(le - line));
	const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;

	return c2 ? c2 + 1 : NULL;
}

static bool is_unified(const char *line, const char *le)
{
	return le - line >= 3 && memcmp(line, "0::", 3) == 0;
}

int fg_proc_parse_cgroup(const char *buf, size_t len, char *ret, size_t size)
{
	const char *end = buf + len, *path = NULL, *path_end = NULL;

	for (const char *line = buf; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;
		const char *p = cgroup_path(line, le);

		if (!p)
			return -EINVAL;
		if (!path || is_unified(line, le)) {
			path = p;
			path_end = le;
			if (is_unified(line, le))
				break;
		}
		line = le + 1;
	}
	/* A path that does not fit is an error, not a prefix: a truncated
	 * path could match a glob the real one does not. */
	if (!path || path == path_end || (size_t)(path_end - path) >= size)
		return -EINVAL;
	if (memchr(path, '\0', (size_t)(path_end - path)))
		return -EINVAL;
	memcpy(ret, path, (size_t)(path_end - path));
	ret[path_end - path] = '\0';
	return 0;
}

/* ---- intent */

enum fg_intent fg_intent_from_flags(uint64_t flags)
{
	/* O_ACCMODE 3 is not a valid mode, but the kernel lets it through for
	 * ioctl-only opens on some drivers; count it as a write. */
	if ((flags & O_ACCMODE) != O_RDONLY)
		return FG_INTENT_WRITE;
	if (flags & (uint64_t)(O_TRUNC | O_CREAT | O_APPEND))
		return FG_INTENT_WRITE;
	if (flags & FG_O_TMPFILE_BIT)
		return FG_INTENT_WRITE;
	return FG_INTENT_READ;
}

/* Syscall numbers of the native table. A 64-bit x86 task that enters with
 * int $0x80 runs the i386 table and /proc shows i386 numbers (5 is open
 * there, fstat here); nothing in /proc says which table was used, so those
 * numbers are deliberately not recognised: they come back UNKNOWN and the
 * daemon's unknown_intent decides. x32 numbers (bit 30 set) likewise. */
#if defined(__x86_64__)
#define FG_NR_OPEN		2
#define FG_NR_CREAT		85
#define FG_NR_OPENAT		257
#define FG_NR_OPEN_BY_HANDLE_AT 304
#define FG_NR_OPENAT2		437
#define FG_NR_EXECVE		59
#define FG_NR_EXECVEAT		322
#elif defined(__aarch64__)
#define FG_NR_OPENAT		56
#define FG_NR_OPEN_BY_HANDLE_AT 265
#define FG_NR_OPENAT2		437
#define FG_NR_EXECVE		221
#define FG_NR_EXECVEAT		281
#else
#error "fanguard decodes syscalls of x86_64 and aarch64 only"
#endif

/* open(2) and friends take `int flags`: the upper half of the register is
 * ignored by the kernel, so it must be ignored here too. */
static enum fg_intent from_int_flags(unsigned long arg, uint64_t *ret_flags)
{
	*ret_flags = (uint32_t)arg;
	return fg_intent_from_flags(*ret_flags);
}

enum fg_intent fg_intent_decode(const struct fg_syscall *sc, uint64_t *ret_flags,
				uint64_t *ret_how_addr)
{
	*ret_flags = 0;
	*ret_how_addr = 0;
	/* A worker's registers are its creator's (proc.h): unknown. */
	if (sc->running || sc->worker || sc->nr < 0 || (sc->nr & FG_X32_SYSCALL_BIT))
		return FG_INTENT_UNKNOWN;
	switch (sc->nr) {
#ifdef FG_NR_OPEN
	case FG_NR_OPEN:
		return from_int_flags(sc->args[1], ret_flags);
#endif
#ifdef FG_NR_CREAT
	case FG_NR_CREAT:
		*ret_flags = O_CREAT | O_WRONLY | O_TRUNC;
		return FG_INTENT_WRITE;
#endif
	case FG_NR_OPENAT:
		return from_int_flags(sc->args[2], ret_flags);
	case FG_NR_OPEN_BY_HANDLE_AT:
		return from_int_flags(sc->args[2], ret_flags);
	case FG_NR_OPENAT2:
		*ret_how_addr = sc->args[2];
		return FG_INTENT_UNKNOWN;
	/* The kernel opens what execve runs, and the interpreter a script or
	 * binfmt entry names, read-only for exec (and denies writers while it
	 * runs): an opener in execve reads. Scripts in guarded directories
	 * (NetworkManager's dispatcher.d, cron's) are run so. */
	case FG_NR_EXECVE:
	case FG_NR_EXECVEAT:
		return FG_INTENT_READ;
	default:
		return FG_INTENT_UNKNOWN;
	}
}

const char *fg_syscall_name(long nr)
{
	switch (nr) {
#ifdef FG_NR_OPEN
	case FG_NR_OPEN:
		return "open";
#endif
#ifdef FG_NR_CREAT
	case FG_NR_CREAT:
		return "creat";
#endif
	case FG_NR_OPENAT:
		return "openat";
	case FG_NR_OPEN_BY_HANDLE_AT:
		return "open_by_handle_at";
	case FG_NR_OPENAT2:
		return "openat2";
	case FG_NR_EXECVE:
		return "execve";
	case FG_NR_EXECVEAT:
		return "execveat";
	default:
		return NULL;
	}
}

/* One open, one read: /proc's seq_files hand out all they have in the first
 * read when it fits, and a buffer filled completely may hold a cut file.
 * Not terminated; returns the length. */
static ssize_t read_once(int dirfd, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n == size)
		return -EFBIG;
	return n;
}

/* /proc/TID/syscall says "running" unless the thread stays asleep while it
 * is read. Every thread waiting on a permission event of one group sleeps on
 * the same wait queue, and each answer wakes them all to recheck: a blocked
 * opener can look "running" for a moment. A few immediate re-reads settle
 * most cases; the caller defers the rest (FG_INTENT_BUSY) rather than wait
 * here with other openers queued behind. */
#define SYSCALL_SPINS 8

static ssize_t read_syscall(int fd, char *buf, size_t size)
{
	ssize_t n = -1;

	for (unsigned i = 0; i < SYSCALL_SPINS; i++) {
		do
			n = pread(fd, buf, size, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		if ((size_t)n == size)
			return -EFBIG;
		if (n < 7 || memcmp(buf, "running", 7) != 0)
			break;
		sched_yield();
	}
	return n;
}

/* The flags of openat2's struct open_how, read from the opener's memory.
 *
 * Caveat for the caller: unlike open/openat, whose flags sit in the saved
 * registers, this reads user memory after the kernel took its own copy. A
 * second thread of the opener can rewrite it in between, so a READ that
 * came from openat2 (ret_nr == 437) is only as good as the opener's honesty. */
static enum fg_intent read_how_flags(pid_t tid, uint64_t how_addr, uint64_t *ret_flags)
{
	char path[32];
	uint64_t flags;

	if (how_addr == 0 || how_addr > INT64_MAX)
		return FG_INTENT_UNKNOWN;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)tid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return FG_INTENT_UNKNOWN;
	if (pread(fd, &flags, sizeof(flags), (off_t)how_addr) != (ssize_t)sizeof(flags))
		return FG_INTENT_UNKNOWN;
	*ret_flags = flags;
	return fg_intent_from_flags(flags);
}

int fg_proc_open(pid_t tid, const char *name)
{
	char path[48];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

enum fg_intent fg_proc_intent_fd(int fd, pid_t tid, uint64_t *ret_flags, long *ret_nr, int *ret_err)
{
	char buf[256];
	struct fg_syscall sc;
	uint64_t flags, how;
	ssize_t n;

	*ret_flags = 0;
	*ret_nr = -1;
	*ret_err = 0;
	n = read_syscall(fd, buf, sizeof(buf));
	if (n < 0)
		*ret_err = (int)n;
	if (n < 0 || fg_proc_parse_syscall(buf, (size_t)n, &sc) < 0)
		return FG_INTENT_UNKNOWN;
	*ret_nr = sc.running ? -1 : sc.nr;
	if (sc.running)
		return FG_INTENT_BUSY;
	enum fg_intent in = fg_intent_decode(&sc, &flags, &how);
	if (in == FG_INTENT_UNKNOWN)
		return how ? read_how_flags(tid, how, ret_flags) : FG_INTENT_UNKNOWN;
	*ret_flags = flags;
	return in;
}

enum fg_intent fg_proc_read_intent(pid_t tid, uint64_t *ret_flags, long *ret_nr)
{
	int err;

	*ret_flags = 0;
	*ret_nr = -1;
	if (tid <= 0)
		return FG_INTENT_UNKNOWN;
	_cleanup_close_ int fd = fg_proc_open(tid, "syscall");
	if (fd < 0)
		return FG_INTENT_UNKNOWN;
	return fg_proc_intent_fd(fd, tid, ret_flags, ret_nr, &err);
}

/* ---- resolving a task */

static int errno_gone(int r)
{
	/* A task that exits turns its /proc entries into ENOENT or ESRCH. */
	return r == -ENOENT || r == -ESRCH ? -ESRCH : r;
}

static int read_stat_at(int dirfd, const char *path, struct fg_stat *ret)
{
	char buf[FG_STAT_BUF];
	ssize_t n = read_once(dirfd, path, buf, sizeof(buf));

	if (n < 0)
		return errno_gone((int)n);
	return fg_proc_parse_stat(buf, (size_t)n, ret);
}

static uint32_t parse_id(char *buf, ssize_t n)
{
	uint32_t v;

	if (n <= 0)
		return FG_AUID_UNSET;
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return fg_parse_u32(buf, &v) < 0 ? FG_AUID_UNSET : v;
}

/* loginuid and sessionid: a missing file (no audit support) reads as unset
 * for the policy; bit is set in *known only when the file was read. */
static uint32_t read_id(int dirfd, const char *path, uint32_t *known, uint32_t bit)
{
	char buf[16];
	ssize_t n = read_once(dirfd, path, buf, sizeof(buf) - 1);

	if (n > 0)
		*known |= bit;
	return parse_id(buf, n);
}

int fg_proc_id_fd(int fd, uint32_t *ret)
{
	char buf[16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return errno_gone(-errno);
	*ret = parse_id(buf, n);
	return 0;
}

int fg_proc_cgroup_fd(int fd, char *buf, size_t size)
{
	char raw[FG_STATUS_BUF];
	ssize_t n = pread(fd, raw, sizeof(raw), 0);

	if (n < 0)
		return errno_gone(-errno);
	if ((size_t)n == sizeof(raw) || fg_proc_parse_cgroup(raw, (size_t)n, buf, size) < 0)
		buf[0] = '\0';
	return 0;
}

/* readlink into buf; "" when unreadable (kernel threads, or a permission
 * refusal) or when the target may have been cut: a truncated path could
 * match a rule the real one does not. " (deleted)" is kept verbatim. */
static bool read_exe(int dirfd, const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(dirfd, path, buf, size - 1);
	bool ok = n > 0 && (size_t)n < size - 1;

	buf[ok ? n : 0] = '\0';
	return ok;
}

static void proc_reset(struct fg_proc *p, pid_t tid)
{
	/* Only the header: clearing all ~100 KiB per event would cost more
	 * than the reads. Nothing past n_ancestors / arena_used is valid. */
	p->tid = tid;
	p->pid = tid;
	p->ppid = 0;
	p->uid = UINT32_MAX;
	p->auid = FG_AUID_UNSET;
	p->sessionid = FG_AUID_UNSET;
	p->start_time = 0;
	p->comm[0] = p->exe[0] = p->cgroup[0] = '\0';
	p->n_ancestors = 0;
	p->ancestry_truncated = false;
	p->known = 0;
	p->tracer = 0;
	p->trust_gen = 0;
	p->verifying = false;
	memset(&p->trust, 0, sizeof(p->trust));
	p->finding.method = FG_METHOD_NONE;
	p->finding.problem = FG_IDP_NONE;
	p->finding.who = -1;
	p->finding.detail[0] = '\0';
	/* arena[0] is the shared "" of every unreadable ancestor exe. */
	p->arena[0] = '\0';
	p->arena_used = 1;
}

static bool anc_seen(const struct fg_proc *p, pid_t pid)
{
	for (unsigned i = 0; i < p->n_ancestors; i++)
		if (p->anc[i].pid == pid)
			return true;
	return false;
}

/* Appends ancestor pid; returns its ppid, 0 to stop the walk, or -1 when
 * the chain could not be completed (ancestor gone, arena full). */
static pid_t anc_append(struct fg_proc *p, int procfd, pid_t pid)
{
	char path[32];
	struct fg_stat st;
	size_t cap = FG_ARENA_LEN - p->arena_used; /* includes the NUL */

	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	if (cap < 2 || read_stat_at(procfd, path, &st) < 0)
		return -1;
	snprintf(path, sizeof(path), "%d/exe", (int)pid);
	ssize_t n = readlinkat(procfd, path, p->arena + p->arena_used, cap - 1);
	/* A result that filled the space may be cut. With less than PATH_MAX
	 * left that is the arena's fault: stop rather than record a cut exe. */
	if (n == (ssize_t)(cap - 1) && cap <= PATH_MAX)
		return -1;

	struct fg_ancestor *a = &p->anc[p->n_ancestors++];
	memset(&a->trust, 0, sizeof(a->trust));
	a->pid = pid;
	a->start_time = st.start_time;
	memcpy(a->comm, st.comm, sizeof(a->comm));
	a->exe_off = 0;
	if (n > 0 && n < (ssize_t)(cap - 1)) {
		a->exe_off = p->arena_used;
		p->arena[p->arena_used + (uint32_t)n] = '\0';
		p->arena_used += (uint32_t)n + 1;
	}
	return pid == 1 ? 0 : st.ppid;
}

static void resolve_ancestry(struct fg_proc *p, int procfd)
{
	pid_t next = p->ppid;

	while (next > 0) {
		/* A repeat can only come from ids recycled while walking. */
		if (p->n_ancestors == FG_ANCESTRY_MAX || next == p->pid || anc_seen(p, next)) {
			p->ancestry_truncated = true;
			return;
		}
		next = anc_append(p, procfd, next);
	}
	if (next < 0)
		p->ancestry_truncated = true;
	else
		p->known |= FG_PROC_ANCESTRY;
}

/* The first lines of /proc/TID/status: everything fanguard reads from it
 * (Tgid, PPid, Uid) comes before Groups, which alone can make the file
 * longer than a page (an admin in hundreds of directory groups). A full
 * buffer is cut back to its last whole line. */
static ssize_t read_status_head(int dirfd, char *buf, size_t size)
{
	ssize_t n = read_once(dirfd, "status", buf, size);

	if (n == -EFBIG) {
		_cleanup_close_ int fd = openat(dirfd, "status", O_RDONLY | O_CLOEXEC | O_NOCTTY);
		char *nl;

		n = fd < 0 ? -errno : read(fd, buf, size);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		nl = memrchr(buf, '\n', (size_t)n);
		n = nl ? nl - buf + 1 : 0;
	}
	return n;
}

/* Identity of the task behind dirfd (/proc/TID), after its stat. */
static int resolve_identity(struct fg_proc *p, int dirfd)
{
	char buf[FG_STATUS_BUF];
	struct fg_status st;
	ssize_t n = read_status_head(dirfd, buf, sizeof(buf));

	if (n < 0)
		return errno_gone((int)n);
	if (fg_proc_parse_status(buf, (size_t)n, &st) < 0)
		return -EINVAL;
	p->pid = st.tgid;
	/* Threads share the process's parent; status reports it per thread. */
	p->ppid = st.ppid;
	p->uid = st.uid;
	p->tracer = st.tracer;
	p->known |= FG_PROC_STATUS;
	p->auid = read_id(dirfd, "loginuid", &p->known, FG_PROC_AUID);
	p->sessionid = read_id(dirfd, "sessionid", &p->known, FG_PROC_SESSION);
	n = read_once(dirfd, "cgroup", buf, sizeof(buf));
	/* A cgroup that cannot be read (or did not fit) stays "": rules that
	 * name one then do not match, which fails closed. */
	if (n < 0 || fg_proc_parse_cgroup(buf, (size_t)n, p->cgroup, sizeof(p->cgroup)) < 0)
		p->cgroup[0] = '\0';
	else
		p->known |= FG_PROC_CGROUP;
	if (read_exe(dirfd, "exe", p->exe, sizeof(p->exe)))
		p->known |= FG_PROC_EXE;
	return 0;
}

/* One /proc fd for the life of the process: opened on first use, never
 * closed (an O_PATH fd is cheap and saves an open and a close per event). */
static int proc_dir(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

int fg_proc_resolve_task(pid_t tid, struct fg_proc *ret)
{
	char name[16];
	struct fg_stat st;
	int procfd = proc_dir(), r;

	proc_reset(ret, tid);
	if (tid <= 0)
		return -ESRCH;
	if (procfd < 0)
		return -errno;
	snprintf(name, sizeof(name), "%d", (int)tid);
	/* Everything about the writer is read through this one directory fd.
	 * procfs binds it to the task it named: once that task is gone every
	 * read through it fails, even if its id is reused meanwhile, so what
	 * is read below describes one task and no start-time re-check is
	 * needed. */
	_cleanup_close_ int dirfd = openat(procfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno_gone(-errno);

	r = read_stat_at(dirfd, "stat", &st);
	if (r < 0)
		return r;
	ret->start_time = st.start_time;
	memcpy(ret->comm, st.comm, sizeof(ret->comm));
	ret->known |= FG_PROC_STAT;
	return resolve_identity(ret, dirfd);
}

int fg_proc_resolve_ancestry(struct fg_proc *p)
{
	int procfd = proc_dir();

	if (procfd < 0)
		return -errno;
	resolve_ancestry(p, procfd);
	/* The writer must still be the task whose identity was read; if not,
	 * the walk may have followed a recycled parent id. */
	if (fg_proc_start_time(p->tid) != p->start_time) {
		p->known &= ~FG_PROC_ANCESTRY;
		return -ESRCH;
	}
	return 0;
}

uint64_t fg_proc_start_time(pid_t tid)
{
	int procfd = proc_dir();
	struct fg_stat st;
	char name[32];

	snprintf(name, sizeof(name), "%d/stat", (int)tid);
	if (procfd < 0 || tid <= 0 || read_stat_at(procfd, name, &st) < 0)
		return 0;
	return st.start_time;
}

int fg_proc_dumping_core(pid_t tid)
{
	int procfd = proc_dir(), r;
	struct fg_stat st;
	char name[32];

	if (procfd < 0 || tid <= 0)
		return -EBADF;
	snprintf(name, sizeof(name), "%d/stat", (int)tid);
	r = read_stat_at(procfd, name, &st);
	return r < 0 ? r : (st.flags & FG_PF_DUMPCORE) != 0;
}

enum fg_intent fg_intent_vouched(enum fg_intent in, long nr, int fd, pid_t tid)
{
	struct stat st;

	if (in != FG_INTENT_READ)
		return in;
	if (nr == FG_NR_OPENAT2)
		return FG_INTENT_UNKNOWN;
	/* one that cannot be asked counts as dumping */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
	    fg_proc_dumping_core(tid) != 0)
		return FG_INTENT_UNKNOWN;
	return in;
}

int fg_proc_resolve(pid_t tid, struct fg_proc *ret)
{
	int r = fg_proc_resolve_task(tid, ret);

	return r < 0 ? r : fg_proc_resolve_ancestry(ret);
}
