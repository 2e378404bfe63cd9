/* Verifying who a writer is (see ident.h for what each check defeats). */
#include "fanguard/ident.h"
#include "fanguard/pcache.h"
#include "fanguard/unitcg.h"
#include "fanguard/util.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAPS_CHUNK   (64 * 1024)
#define ENV_CHUNK    (64 * 1024)
#define MAX_ROUNDS   16
#define MAX_NEEDS    8
#define STATUS_BYTES 4096

/* ---- pure parsers */

static bool hex_span(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	for (; s < end && s - *p < 16; s++) {
		char c = *s;
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
						    : 16;
		if (d == 16)
			break;
		v = v << 4 | d;
	}
	if (s == *p)
		return false;
	*ret = v;
	*p = s;
	return true;
}

static bool dec_span(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	for (; s < end && *s >= '0' && *s <= '9' && s - *p < 20; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	if (s == *p)
		return false;
	*ret = v;
	*p = s;
	return true;
}

static bool eat(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/* "lo-hi perms offset maj:min inode   path" */
int fg_ident_parse_map(const char *line, size_t len, struct fg_map *ret)
{
	const char *p = line, *end = line + len;
	struct fg_map m = {.path = ""};
	uint64_t off, maj, min;

	if (!hex_span(&p, end, &m.lo) || !eat(&p, end, '-') || !hex_span(&p, end, &m.hi) ||
	    !eat(&p, end, ' ') || end - p < 5)
		return -EINVAL;
	m.exec = p[2] == 'x';
	p += 4;
	if (!eat(&p, end, ' ') || !hex_span(&p, end, &off) || !eat(&p, end, ' ') ||
	    !hex_span(&p, end, &maj) || !eat(&p, end, ':') || !hex_span(&p, end, &min) ||
	    !eat(&p, end, ' ') || !dec_span(&p, end, &m.ino))
		return -EINVAL;
	if (maj > 0xfff || min > 0xfffff)
		return -EINVAL;
	m.major = (unsigned)maj;
	m.minor = (unsigned)min;
	while (p < end && *p == ' ')
		p++;
	m.path = p;
	m.path_len = (size_t)(end - p);
	*ret = m;
	return 0;
}

static bool span_is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool span_under(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	while (k > 1 && prefix[k - 1] == '/')
		k--;
	return n > k && memcmp(s, prefix, k) == 0 && s[k] == '/';
}

static bool dev_trusted(const struct fg_policy *pol, unsigned major, unsigned minor)
{
	/* Without a known filesystem (pure uses, an unreadable prefix) the
	 * path alone is checked. */
	if (pol->n_trusted_devs == 0)
		return true;
	for (unsigned i = 0; i < pol->n_trusted_devs; i++)
		if (pol->trusted_devs[i].major == major && pol->trusted_devs[i].minor == minor)
			return true;
	return false;
}

/* A file under a trusted prefix, on its filesystem, not deleted. */
static bool trusted_file(const struct fg_policy *pol, const struct fg_map *m)
{
	static const char del[] = " (deleted)";
	size_t n = m->path_len;

	if (n >= sizeof(del) - 1 &&
	    memcmp(m->path + n - (sizeof(del) - 1), del, sizeof(del) - 1) == 0)
		return false;
	if (!dev_trusted(pol, m->major, m->minor))
		return false;
	for (unsigned i = 0; i < pol->cfg.trusted_prefix.n; i++)
		if (span_under(m->path, n, pol->cfg.trusted_prefix.v[i]))
			return true;
	return false;
}

static void note(struct fg_maps_scan *s, uint8_t problem, const char *what, size_t n)
{
	if (s->problem)
		return;
	s->problem = problem;
	if (n >= sizeof(s->detail))
		n = sizeof(s->detail) - 1;
	memcpy(s->detail, what, n);
	s->detail[n] = '\0';
}

static void note_first(struct fg_maps_scan *s, const char *what, size_t n)
{
	if (n >= sizeof(s->first_exec))
		n = sizeof(s->first_exec) - 1;
	memcpy(s->first_exec, what, n);
	s->first_exec[n] = '\0';
}

static void scan_line(struct fg_maps_scan *s, const char *line, size_t len)
{
	struct fg_map m;
	bool anon;

	if (fg_ident_parse_map(line, len, &m) < 0) {
		note(s, FG_IDP_UNREADABLE, line, len);
		return;
	}
	if (!m.exec)
		return;
	if (m.ino && s->n_code < FG_MAPS_CODE_MAX)
		s->code[s->n_code++] = (struct fg_code_range){m.lo, m.hi};
	else if (m.ino)
		s->code_overflow = true;
	if (m.ino == 0 &&
	    (span_is(m.path, m.path_len, "[vdso]") || span_is(m.path, m.path_len, "[vsyscall]") ||
	     span_is(m.path, m.path_len, "[uprobes]")))
		return;
	anon = m.ino == 0;
	if (anon && m.path_len == 0) {
		m.path = "(anonymous)";
		m.path_len = 11;
	}
	if (!s->first_exec[0])
		note_first(s, m.path, m.path_len);
	if (anon)
		note(s, FG_IDP_ANON_CODE, m.path, m.path_len);
	else if (m.ino == s->exe_ino && m.major == s->exe_major && m.minor == s->exe_minor)
		s->exe_mapped = true;
	else if (!trusted_file(s->pol, &m))
		note(s, FG_IDP_FOREIGN_CODE, m.path, m.path_len);
}

void fg_ident_scan_maps(struct fg_maps_scan *s, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	if (len == 0) {
		if (s->partial_len)
			scan_line(s, s->partial, s->partial_len);
		s->partial_len = 0;
		return;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		if (s->partial_len || !nl) {
			/* A line split by a read; longer than the buffer it is
			 * cut, which can only drop the tail of its path. */
			size_t room = sizeof(s->partial) - s->partial_len;
			size_t k = n < room ? n : room;
			memcpy(s->partial + s->partial_len, p, k);
			s->partial_len += k;
			if (nl) {
				scan_line(s, s->partial, s->partial_len);
				s->partial_len = 0;
			}
		} else {
			scan_line(s, p, n);
		}
		p += n + (nl ? 1 : 0);
	}
}

size_t fg_ident_find_injection(const char *buf, size_t len, const char **ret)
{
	static const char *const names[] = {"LD_PRELOAD=", "LD_AUDIT=", "LD_LIBRARY_PATH="};
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t n = (size_t)((z ? z : end) - p);

		for (size_t i = 0; i < FG_ARRAY_SIZE(names); i++) {
			size_t k = strlen(names[i]);
			/* An empty value loads nothing. */
			if (n > k && memcmp(p, names[i], k) == 0) {
				*ret = p;
				return n;
			}
		}
		p += n + 1;
	}
	return 0;
}

size_t fg_ident_session_scope(uint32_t auid, uint32_t sessionid, const char *cgroup)
{
	char want[64];
	const char *hit;
	size_t n;

	if (auid == FG_AUID_UNSET || sessionid == FG_AUID_UNSET)
		return 0;
	n = (size_t)snprintf(want, sizeof(want),
			     "/user-%" PRIu32 ".slice/session-%" PRIu32 ".scope", auid, sessionid);
	for (const char *s = cgroup; (hit = strstr(s, want)); s = hit + 1)
		if (hit[n] == '\0' || hit[n] == '/')
			return (size_t)(hit - cgroup) + n;
	return 0;
}

bool fg_ident_session_ok(uint32_t auid, uint32_t sessionid, const char *cgroup)
{
	return fg_ident_session_scope(auid, sessionid, cgroup) > 0;
}

/* The scope must be one systemd made (for logind): its cgroup carries the
 * invocation id, which only CAP_SYS_ADMIN can set, so a cgroup made with
 * mkdir and joined is not a session. Without a cgroup2 root to look
 * beneath (pure uses) the name alone is checked. */
static bool session_backed(const struct fg_policy *pol, const struct fg_proc *p)
{
	char scope[FG_CGROUP_LEN];
	size_t n = fg_ident_session_scope(p->auid, p->sessionid, p->cgroup);

	if (!n || n >= sizeof(scope))
		return false;
	if (!pol->unitcg)
		return true;
	memcpy(scope, p->cgroup, n);
	scope[n] = '\0';
	return fg_unitcg_invoked(pol->unitcg, scope) == 0;
}

/* ---- reading a process, through one /proc/PID dirfd: procfs binds it to
 * the task, so once that task is gone every read through it fails */

static int open_task(pid_t pid, uint64_t start)
{
	char name[24], buf[2048];
	struct fg_stat st;
	ssize_t n;
	int fd;

	snprintf(name, sizeof(name), "/proc/%d", (int)pid);
	fd = open(name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The id may name another task by now: its start time tells. */
	n = fg_read_small(fd, "stat", buf, sizeof(buf));
	if (n < 0 || fg_proc_parse_stat(buf, (size_t)n, &st) < 0 ||
	    (start && st.start_time != start)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static void fail(struct fg_trustinfo *t, uint8_t *fact, uint8_t problem)
{
	*fact = FG_TRUST_FAILED;
	if (!t->problem)
		t->problem = problem;
}

/* Records the finding an allow was lost to (the first one). */
static void found(struct fg_proc *p, int who, uint8_t problem, const char *detail)
{
	if (p->finding.problem)
		return;
	p->finding.problem = problem;
	p->finding.who = who;
	fg_strlcpy(p->finding.detail, detail ? detail : "", sizeof(p->finding.detail));
}

bool fg_ident_pagemap_modified(const uint64_t *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool present = entries[i] >> 63 & 1, swapped = entries[i] >> 62 & 1,
		     file = entries[i] >> 61 & 1;
		if (swapped || (present && !file))
			return true;
	}
	return false;
}

/* Whether a file's executable mapping holds a page that is not the file's:
 * maps names the file for pages a forger copied its code into (a private
 * mapping of the claimed exe, written, then made executable). pagemap has
 * one word per page; only the executable file ranges are read, so a
 * process with thousands of thread stacks costs no more than one without.
 * Returns the first such range's index, -1 for none, -2 when unreadable. */
static int modified_range(int dirfd, const struct fg_maps_scan *s)
{
	static uint64_t buf[8192];
	_cleanup_close_ int fd = openat(dirfd, "pagemap", O_RDONLY | O_CLOEXEC);
	long page = sysconf(_SC_PAGESIZE);

	if (fd < 0 || page <= 0)
		return -2;
	for (unsigned i = 0; i < s->n_code; i++) {
		for (uint64_t at = s->code[i].lo / (uint64_t)page;
		     at < s->code[i].hi / (uint64_t)page;) {
			uint64_t left = s->code[i].hi / (uint64_t)page - at;
			size_t want = left < FG_ARRAY_SIZE(buf) ? (size_t)left : FG_ARRAY_SIZE(buf);
			ssize_t n = pread(fd, buf, want * 8, (off_t)(at * 8));

			if (n <= 0 || n % 8)
				return -2;
			if (fg_ident_pagemap_modified(buf, (size_t)n / 8))
				return (int)i;
			at += (uint64_t)n / 8;
		}
	}
	return -1;
}

/* The exe's inode among the executable mappings, and every executable
 * mapping trusted and unmodified: one walk over maps and a look at the
 * executable ranges' pages settle all three. */
static void check_maps(const struct fg_policy *pol, int dirfd, struct fg_trustinfo *t, char *detail,
		       size_t dsize)
{
	static char buf[MAPS_CHUNK];
	static struct fg_maps_scan s; /* answering thread (or the CLI) only */
	struct stat st;
	ssize_t n;
	int mod;

	memset(&s, 0, sizeof(s));
	s.pol = pol;

	detail[0] = '\0';
	/* stat follows the magic link to the file itself: no open, so no
	 * permission event even for an exe inside a guarded subtree. */
	_cleanup_close_ int fd = openat(dirfd, "maps", O_RDONLY | O_CLOEXEC);
	if (fstatat(dirfd, "exe", &st, 0) < 0 || fd < 0) {
		fail(t, &t->exe, FG_IDP_UNREADABLE);
		fail(t, &t->code, FG_IDP_UNREADABLE);
		return;
	}
	s.exe_major = major(st.st_dev);
	s.exe_minor = minor(st.st_dev);
	s.exe_ino = st.st_ino;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fg_ident_scan_maps(&s, buf, (size_t)n);
	fg_ident_scan_maps(&s, buf, 0);
	if (n < 0) {
		fail(t, &t->exe, FG_IDP_UNREADABLE);
		fail(t, &t->code, FG_IDP_UNREADABLE);
		return;
	}
	if (!s.exe_mapped) {
		/* What it really runs: its lowest executable mapping. */
		fail(t, &t->exe, FG_IDP_EXE_UNMAPPED);
		fg_strlcpy(detail, s.first_exec, dsize);
	}
	if (!s.problem && (mod = s.code_overflow ? -2 : modified_range(dirfd, &s)) != -1) {
		s.problem = mod == -2 ? FG_IDP_UNREADABLE : FG_IDP_MODIFIED_CODE;
		snprintf(s.detail, sizeof(s.detail),
			 mod == -2 ? "pages of its executable mappings"
				   : "executable mapping at 0x%" PRIx64 " holds written pages",
			 mod >= 0 ? s.code[mod].lo : 0);
	}
	if (s.problem) {
		fail(t, &t->code, s.problem);
		if (s.exe_mapped)
			fg_strlcpy(detail, s.detail, dsize);
	}
}

/* An exe path inside a trusted prefix must be on that prefix's filesystem:
 * in another mount namespace the same path may name anything. */
static void check_exe_fs(const struct fg_policy *pol, int dirfd, const char *exe,
			 struct fg_trustinfo *t)
{
	struct stat st;
	struct fg_map m = {.path = exe, .path_len = strlen(exe)};

	if (t->exe == FG_TRUST_FAILED || fg_policy_foreign_exe(pol, exe))
		return;
	if (fstatat(dirfd, "exe", &st, 0) < 0) {
		fail(t, &t->exe, FG_IDP_UNREADABLE);
		return;
	}
	m.major = major(st.st_dev);
	m.minor = minor(st.st_dev);
	if (!trusted_file(pol, &m))
		fail(t, &t->exe, FG_IDP_EXE_OTHER_FS);
}

static int read_env_injection(int dirfd, char *detail, size_t dsize)
{
	static char buf[ENV_CHUNK];
	_cleanup_close_ int fd = openat(dirfd, "environ", O_RDONLY | O_CLOEXEC);
	size_t carry = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	/* A variable cut by a read is carried to the next one, up to 4 KiB
	 * (a longer name cannot be one of ours). */
	while ((n = read(fd, buf + carry, sizeof(buf) - carry)) > 0) {
		const char *hit, *z;
		size_t len = carry + (size_t)n, k = fg_ident_find_injection(buf, len, &hit);

		if (k) {
			fg_strlcpy(detail, hit, k + 1 < dsize ? k + 1 : dsize);
			return 1;
		}
		z = memrchr(buf, '\0', len);
		carry = z ? len - (size_t)(z + 1 - buf) : 0;
		if (carry > 4096)
			carry = 0;
		memmove(buf, buf + len - carry, carry);
	}
	return n < 0 ? -errno : 0;
}

static pid_t read_tracer(int dirfd)
{
	char buf[STATUS_BYTES];
	struct fg_status st;
	ssize_t n = fg_read_small(dirfd, "status", buf, sizeof(buf));

	if (n < 0 || fg_proc_parse_status(buf, (size_t)n, &st) < 0)
		return -1;
	return st.tracer;
}

static void verify_proc(struct fg_ident *ix, const struct fg_policy *pol, unsigned subtree,
			struct fg_proc *p, int who, bool nested);

/* A tracer is harmless only when it is itself a writer some rule allows
 * here (checked like one, but its own tracer is not looked into). */
static bool tracer_allowed(struct fg_ident *ix, const struct fg_policy *pol, unsigned subtree,
			   pid_t tracer)
{
	struct fg_proc *q = ix->scratch;
	int rule;

	if (!q || fg_proc_resolve_task(tracer, q) < 0)
		return false;
	rule = fg_policy_first_ancestry_free(pol, subtree, q);
	if (rule < 0)
		return false;
	verify_proc(ix, pol, subtree, q, -1, true);
	return q->trust.exe == FG_TRUST_OK && q->trust.code == FG_TRUST_OK &&
	       fg_policy_first_ancestry_free(pol, subtree, q) >= 0;
}

/* The exe and code facts of the writer (who < 0) or of an ancestor. */
static void verify_proc(struct fg_ident *ix, const struct fg_policy *pol, unsigned subtree,
			struct fg_proc *p, int who, bool nested)
{
	struct fg_trustinfo *t = who < 0 ? &p->trust : &p->anc[who].trust;
	pid_t pid = who < 0 ? p->tid : p->anc[who].pid, tracer;
	const char *exe = who < 0 ? p->exe : fg_proc_anc_exe(p, (unsigned)who);
	char detail[512] = "";
	int r, dirfd;

	if (t->exe != FG_TRUST_UNCHECKED && t->code != FG_TRUST_UNCHECKED)
		return;
	dirfd = open_task(pid, who < 0 ? p->start_time : p->anc[who].start_time);
	if (dirfd < 0 || !*exe) {
		fail(t, &t->exe, FG_IDP_UNREADABLE);
		fail(t, &t->code, FG_IDP_UNREADABLE);
	} else {
		check_maps(pol, dirfd, t, detail, sizeof(detail));
		check_exe_fs(pol, dirfd, exe, t);
	}
	if (t->code == FG_TRUST_UNCHECKED) {
		r = read_env_injection(dirfd, detail, sizeof(detail));
		if (r != 0)
			fail(t, &t->code, r > 0 ? FG_IDP_PRELOAD : FG_IDP_UNREADABLE);
	}
	if (t->code == FG_TRUST_UNCHECKED) {
		tracer = who < 0 && !nested ? p->tracer : read_tracer(dirfd);
		if (tracer < 0) {
			fail(t, &t->code, FG_IDP_UNREADABLE);
		} else if (tracer > 0 && (nested || !tracer_allowed(ix, pol, subtree, tracer))) {
			fail(t, &t->code, FG_IDP_TRACED);
			snprintf(detail, sizeof(detail), "traced by pid %d", (int)tracer);
		} else if (tracer == 0 && fg_pcache_was_traced(ix->pc, who < 0 ? p->pid : pid)) {
			/* A tracer can set the registers up for an open (of
			 * the image's own code) and detach before it runs. */
			fail(t, &t->code, FG_IDP_TRACED);
			fg_strlcpy(detail, "traced since its exec (the tracer detached)",
				   sizeof(detail));
		}
	}
	/* An ancestor vouches only for what its image started: a process
	 * that forks its writer and then execs a transaction tool does not
	 * make that writer part of a transaction. */
	pid_t below = who > 0 ? p->anc[who - 1].pid : p->pid;
	if (t->code == FG_TRUST_UNCHECKED && who >= 0 &&
	    fg_pcache_forked_before_exec(ix->pc, pid, below)) {
		fail(t, &t->code, FG_IDP_PRE_EXEC);
		snprintf(detail, sizeof(detail), "its child %d was forked before it ran %.400s",
			 (int)below, exe);
	}
	if (dirfd >= 0)
		close(dirfd);
	if (t->exe == FG_TRUST_UNCHECKED)
		t->exe = FG_TRUST_OK;
	if (t->code == FG_TRUST_UNCHECKED)
		t->code = FG_TRUST_OK;
	if (t->problem)
		found(p, who, t->problem, detail);
}

/* Merges what the digest worker knows into t. */
static void take_digest(struct fg_trustinfo *t, const struct fg_digest *d)
{
	t->dig |= d->dig | FG_DIG_LOOKED;
	if (d->dig & FG_DIG_SHA256)
		memcpy(t->sha256, d->sha256, 32);
	if (d->dig & FG_DIG_VERITY)
		memcpy(t->verity, d->verity, 32);
}

/* Whether t's digests settle `list` without hashing more. */
static bool digest_settled(const struct fg_policy *pol, const struct fg_trustinfo *t,
			   const struct fg_strlist *list)
{
	if (t->dig & (FG_DIG_SHA256 | FG_DIG_FAILED))
		return true;
	return list && (t->dig & FG_DIG_VERITY) && fg_policy_digest_in(pol, t, list, false);
}

/* The CLI's way (it may open anything and wait): hash it now. */
static enum fg_ident_result hash_here(pid_t pid, uint64_t start, struct fg_trustinfo *t)
{
	struct fg_digest d;
	int dirfd = open_task(pid, start), fd = -1;

	if (dirfd >= 0)
		fd = openat(dirfd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0 && fg_digest_setup() == 0 && fg_digest_fd(fd, true, &d) == 0)
		take_digest(t, &d);
	else
		t->dig |= FG_DIG_FAILED | FG_DIG_LOOKED;
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return FG_IDENT_DONE;
}

static enum fg_ident_result verify_digest(struct fg_ident *ix, const struct fg_policy *pol,
					  struct fg_proc *p, const struct fg_need *n, bool last_try,
					  uint64_t *ret_ticket)
{
	struct fg_trustinfo *t = n->who < 0 ? &p->trust : &p->anc[n->who].trust;
	pid_t pid = n->who < 0 ? p->tid : p->anc[n->who].pid;
	struct fg_filekey key;
	struct fg_digest d;
	struct stat st;

	if (!ix->dg && ix->hash_inline)
		return hash_here(pid, n->who < 0 ? p->start_time : p->anc[n->who].start_time, t);
	for (unsigned tries = 0; tries < 2 && !digest_settled(pol, t, n->list); tries++) {
		/* The transaction's hashes taken at load are of content; a
		 * listed digest may be fs-verity's, which costs nothing. */
		bool content = !n->list || (t->dig & FG_DIG_LOOKED);
		int dirfd = open_task(pid, n->who < 0 ? p->start_time : p->anc[n->who].start_time);
		enum fg_dstate ds = FG_DS_FAILED;

		if (dirfd >= 0 && ix->dg && fstatat(dirfd, "exe", &st, 0) == 0) {
			fg_filekey_from_stat(&st, &key);
			ds = fg_digests_get(ix->dg, &key, pid, content, &d, ret_ticket);
		}
		if (dirfd >= 0)
			close(dirfd);
		if (ds == FG_DS_PENDING && !last_try)
			return FG_IDENT_WAIT;
		if (ds == FG_DS_KNOWN)
			take_digest(t, &d);
		else
			t->dig |= FG_DIG_FAILED | FG_DIG_LOOKED;
	}
	return FG_IDENT_DONE;
}

static void hex(const uint8_t *d, char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[64] = '\0';
}

/* Verifies need n; records a finding when it does not hold. Returns WAIT
 * for a digest not known yet. */
static enum fg_ident_result check_need(struct fg_ident *ix, const struct fg_policy *pol,
				       unsigned subtree, struct fg_proc *p, const struct fg_need *n,
				       bool last_try, bool *ret_holds, uint64_t *ret_ticket)
{
	struct fg_trustinfo *t = n->who < 0 ? &p->trust : &p->anc[n->who].trust;
	char digest[65];

	if (n->what & (FG_NEED_EXE | FG_NEED_CODE))
		verify_proc(ix, pol, subtree, p, n->who, false);
	if ((n->what & FG_NEED_AUID) && t->auid == FG_TRUST_UNCHECKED) {
		t->auid = session_backed(pol, p) ? FG_TRUST_OK : FG_TRUST_FAILED;
		if (t->auid == FG_TRUST_FAILED)
			found(p, n->who, FG_IDP_NO_SESSION, p->cgroup);
	}
	*ret_holds = (!(n->what & FG_NEED_EXE) || t->exe == FG_TRUST_OK) &&
		     (!(n->what & FG_NEED_CODE) || t->code == FG_TRUST_OK) &&
		     (!(n->what & FG_NEED_AUID) || t->auid == FG_TRUST_OK);
	if (!*ret_holds || !(n->what & FG_NEED_DIGEST))
		return FG_IDENT_DONE;
	if (verify_digest(ix, pol, p, n, last_try, ret_ticket) == FG_IDENT_WAIT)
		return FG_IDENT_WAIT;
	*ret_holds = fg_policy_digest_in(pol, t, n->list, false);
	if (!*ret_holds && (t->dig & FG_DIG_SHA256))
		hex(t->sha256, digest);
	/* A foreign exe that is no copy of a transaction tool claimed
	 * nothing: only a named digest that does not match is a finding. */
	if (!*ret_holds && n->list)
		found(p, n->who, (t->dig & FG_DIG_FAILED) ? FG_IDP_NO_DIGEST : FG_IDP_DIGEST,
		      (t->dig & FG_DIG_SHA256) ? digest : NULL);
	return FG_IDENT_DONE;
}

/* How the process the decision rests on was identified. */
static uint8_t method_of(const struct fg_policy *pol, const struct fg_proc *p,
			 const struct fg_need *n)
{
	const struct fg_trustinfo *t = n->who < 0 ? &p->trust : &p->anc[n->who].trust;

	if (n->what & FG_NEED_DIGEST) {
		if (n->list && (t->dig & FG_DIG_VERITY) &&
		    fg_policy_digest_in(pol, t, n->list, false) && !(t->dig & FG_DIG_SHA256))
			return FG_METHOD_VERITY;
		return FG_METHOD_SHA256;
	}
	return (n->what & FG_NEED_EXE) ? FG_METHOD_PATH : FG_METHOD_NONE;
}

enum fg_ident_result fg_ident_decide(struct fg_ident *ix, const struct fg_policy *pol,
				     unsigned subtree, struct fg_proc *p, int known, bool last_try,
				     struct fg_decision *ret, uint64_t *ret_ticket)
{
	struct fg_need needs[MAX_NEEDS];

	p->verifying = true;
	p->trust_gen = pol->generation;
	for (unsigned round = 0;; round++) {
		unsigned n;
		bool lost = false, holds;
		uint8_t method = FG_METHOD_NONE;

		/* A "none" found without verifying did not try the rules
		 * whose digest is not known yet: they are tried here. */
		fg_policy_decide_known(pol, subtree, p, round == 0 && known >= 0 ? known : -2, ret);
		n = fg_policy_needs(pol, subtree, p, ret, needs, MAX_NEEDS);
		if (n > MAX_NEEDS)
			n = MAX_NEEDS;
		for (unsigned i = 0; i < n && !lost; i++) {
			if (check_need(ix, pol, subtree, p, &needs[i], last_try, &holds,
				       ret_ticket) == FG_IDENT_WAIT)
				return FG_IDENT_WAIT;
			lost = !holds;
			/* The first need that identifies a process: the writer
			 * for a rule on its exe, else the ancestor relied on. */
			if (!method)
				method = method_of(pol, p, &needs[i]);
		}
		if (!lost) {
			p->finding.method = n ? method : FG_METHOD_NONE;
			p->verifying = false;
			return FG_IDENT_DONE;
		}
		/* Every round fails one more fact; a policy that could keep
		 * this going is denied rather than followed further. */
		if (round == MAX_ROUNDS) {
			*ret = (struct fg_decision){.verdict = FG_VERDICT_DENY,
						    .reason = FG_REASON_NO_RULE,
						    .rule = -1,
						    .tx_anc = -1,
						    .mode = fg_policy_mode(pol, subtree)};
			p->verifying = false;
			return FG_IDENT_DONE;
		}
	}
}

enum fg_ident_result fg_ident_verify_rule(struct fg_ident *ix, const struct fg_policy *pol,
					  unsigned subtree, struct fg_proc *p, int rule,
					  bool last_try, bool *ret_ok, uint64_t *ret_ticket)
{
	const struct fg_decision d = {
	    .verdict = FG_VERDICT_ALLOW, .reason = FG_REASON_RULE, .rule = rule, .tx_anc = -1};
	struct fg_need needs[MAX_NEEDS];
	unsigned n;

	p->verifying = true;
	n = fg_policy_needs(pol, subtree, p, &d, needs, MAX_NEEDS);
	*ret_ok = true;
	for (unsigned i = 0; i < n && i < MAX_NEEDS && *ret_ok; i++)
		if (check_need(ix, pol, subtree, p, &needs[i], last_try, ret_ok, ret_ticket) ==
		    FG_IDENT_WAIT)
			return FG_IDENT_WAIT;
	if (*ret_ok && n)
		p->finding.method = method_of(pol, p, &needs[0]);
	p->verifying = false;
	return FG_IDENT_DONE;
}

/* ---- at load */

static void prepare_devs(struct fg_policy *pol)
{
	const struct fg_strlist *l = &pol->cfg.trusted_prefix;
	struct stat st;

	pol->trusted_devs = calloc(l->n ? l->n : 1, sizeof(*pol->trusted_devs));
	if (!pol->trusted_devs)
		return;
	for (unsigned i = 0; i < l->n; i++)
		if (stat(l->v[i], &st) == 0)
			pol->trusted_devs[pol->n_trusted_devs++] =
			    (struct fg_devnum){major(st.st_dev), minor(st.st_dev)};
}

static void prepare_one(struct fg_policy *pol, const char *path, unsigned cap)
{
	struct fg_digest d;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 || pol->n_tx_digests >= cap || fg_digest_fd(fd, true, &d) < 0 ||
	    !(d.dig & FG_DIG_SHA256))
		return;
	memcpy(pol->tx_digests[pol->n_tx_digests++], d.sha256, 32);
}

unsigned fg_ident_prepare(struct fg_policy *pol)
{
	const struct fg_strlist *exe = &pol->cfg.transaction.exe;
	const unsigned cap = 64;

	prepare_devs(pol);
	if (fg_digest_setup() < 0 || exe->n == 0 || pol->cfg.transaction.sha256.n)
		return 0;
	pol->tx_digests = calloc(cap, sizeof(*pol->tx_digests));
	if (!pol->tx_digests)
		return 0;
	for (unsigned i = 0; i < exe->n; i++) {
		glob_t g;

		if (glob(exe->v[i], GLOB_NOSORT, NULL, &g) != 0)
			continue;
		for (size_t j = 0; j < g.gl_pathc; j++)
			prepare_one(pol, g.gl_pathv[j], cap);
		globfree(&g);
	}
	return pol->n_tx_digests;
}

/* ---- loginuid_immutable (auditctl --loginuid-immutable) */

int fg_ident_loginuid_immutable(void)
{
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	struct nlmsghdr req = {.nlmsg_len = NLMSG_LENGTH(0),
			       .nlmsg_type = AUDIT_GET_FEATURE,
			       .nlmsg_flags = NLM_F_REQUEST,
			       .nlmsg_seq = 1};
	char buf[512] __attribute__((aligned(__alignof__(struct nlmsghdr))));
	struct pollfd pf = {.events = POLLIN};
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	pf.fd = fd;
	for (int tries = 0; tries < 4; tries++) {
		const struct nlmsghdr *nh = (const void *)buf;

		if (poll(&pf, 1, 250) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < (ssize_t)sizeof(*nh) || !NLMSG_OK(nh, (size_t)n))
			return -EIO;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);
			if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error)
				return e->error;
			continue; /* the ack of the request */
		}
		if (nh->nlmsg_type == AUDIT_GET_FEATURE &&
		    nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct audit_features))) {
			const struct audit_features *f = NLMSG_DATA(nh);
			return (f->features &
				AUDIT_FEATURE_TO_MASK(AUDIT_FEATURE_LOGINUID_IMMUTABLE)) != 0;
		}
	}
	return -EIO;
}
