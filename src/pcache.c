/* The writer cache (see pcache.h for why it is sound). */
#include "fanguard/pcache.h"
#include "fanguard/proc.h"
#include "fanguard/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Newer than the headers here (Linux 6.6): a listen request that also says
 * which events to send. Older kernels ignore a request of this size, which
 * the self-test notices. */
struct cn_listen_filtered {
	uint32_t mcast_op;
	uint32_t event_type;
};

/* PTRACE: a tracer attaching to a cached writer (or detaching) drops it,
 * so that its identity is verified again (ident.c looks at TracerPid). */
#define WANTED_EVENTS                                                                              \
	(PROC_EVENT_EXEC | PROC_EVENT_UID | PROC_EVENT_COMM | PROC_EVENT_EXIT | PROC_EVENT_PTRACE)
/* Forks are asked for too, only to order an exec against its children's
 * forks (ident.c: forked-before-exec); the cache itself ignores them. */
#define LISTEN_EVENTS (WANTED_EVENTS | PROC_EVENT_FORK)
#define RCVBUF_BYTES  (8 * 1024 * 1024)
#define SELFTEST_MS   1000

/* A packed fg_proc: the fixed fields, then the ancestors, then exe,
 * cgroup and the ancestry's exe arena as strings. */
struct fg_pcache_id {
	pid_t pid, ppid;
	uint32_t uid, auid, sessionid;
	uint64_t start_time;
	uint32_t known; /* FG_PROC_* */
	pid_t tracer;
	uint64_t trust_gen;
	struct fg_trustinfo trust; /* what was verified, kept as it was found */
	uint8_t f_method, f_problem;
	int f_who;
	char comm[FG_COMM_LEN];
	unsigned n_anc;
	uint32_t arena_used;
	const char *exe, *cgroup, *arena, *f_detail;
	struct fg_ancestor anc[];
};

/* ---- the pid filter: most host events name no cached task */

static uint32_t *slot(struct fg_pcache *c, pid_t pid)
{
	return &c->filter[(uint32_t)pid & (FG_PCACHE_FILTER - 1)];
}

static bool filter_has(struct fg_pcache *c, pid_t pid)
{
	return *slot(c, pid) != 0;
}

/* Adds (d = 1) or removes (d = -1) the pids an identity names. */
static void filter_id(struct fg_pcache *c, const struct fg_pcache_entry *e, int d)
{
	*slot(c, e->tgid) += (uint32_t)d;
	for (unsigned i = 0; i < e->id->n_anc; i++)
		*slot(c, e->id->anc[i].pid) += (uint32_t)d;
}

/* ---- entries */

static void forget_id(struct fg_pcache *c, struct fg_pcache_entry *e)
{
	if (!e->id)
		return;
	filter_id(c, e, -1);
	free(e->id);
	e->id = NULL;
	free(e->watch);
	e->watch = NULL;
	e->n_watch = 0;
	e->watch_gen = 0;
	e->tgid = 0;
	if (e->sid_fd >= 0)
		close(e->sid_fd);
	if (e->cg_fd >= 0)
		close(e->cg_fd);
	e->sid_fd = e->cg_fd = -1;
	c->dropped++;
}

static void drop(struct fg_pcache *c, struct fg_pcache_entry *e)
{
	forget_id(c, e);
	*slot(c, e->tid) -= 1;
	if (e->sc_fd >= 0)
		close(e->sc_fd);
	*e = (struct fg_pcache_entry){.sc_fd = -1, .sid_fd = -1, .cg_fd = -1};
}

static struct fg_pcache_entry *find(struct fg_pcache *c, pid_t tid)
{
	if (!filter_has(c, tid))
		return NULL;
	for (unsigned i = 0; i < c->cap; i++)
		if (c->e[i].tid == tid)
			return &c->e[i];
	return NULL;
}

/* A free entry, or the least recently used one emptied: one that holds
 * only a reader's syscall file before one that holds an identity, so a
 * burst of readers (every sudo reads sudoers.d) does not push out the
 * writers. */
static struct fg_pcache_entry *take(struct fg_pcache *c)
{
	struct fg_pcache_entry *lru = NULL, *lru_light = NULL;

	for (unsigned i = 0; i < c->cap; i++) {
		struct fg_pcache_entry *e = &c->e[i];
		if (e->tid == 0)
			return e;
		if (!lru || e->used < lru->used)
			lru = e;
		if (!e->id && (!lru_light || e->used < lru_light->used))
			lru_light = e;
	}
	if (lru_light)
		lru = lru_light;
	drop(c, lru);
	return lru;
}

void fg_pcache_init(struct fg_pcache *c, unsigned cap)
{
	memset(c, 0, sizeof(*c));
	c->on = cap > 0;
	c->cap = cap > FG_PCACHE_MAX ? FG_PCACHE_MAX : cap;
	c->nl_fd = -1;
	c->off = c->on ? NULL : "no room for kept files";
	for (unsigned i = 0; i < FG_PCACHE_MAX; i++)
		c->e[i] = (struct fg_pcache_entry){.sc_fd = -1, .sid_fd = -1, .cg_fd = -1};
}

static void drop_all(struct fg_pcache *c)
{
	for (unsigned i = 0; i < c->cap; i++)
		if (c->e[i].tid)
			drop(c, &c->e[i]);
}

void fg_pcache_disable(struct fg_pcache *c, const char *why)
{
	drop_all(c);
	c->on = false;
	c->off = why;
}

void fg_pcache_close(struct fg_pcache *c)
{
	drop_all(c);
	if (c->nl_fd >= 0)
		close(c->nl_fd);
	c->nl_fd = -1;
	c->on = false;
}

unsigned fg_pcache_count(const struct fg_pcache *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->cap; i++)
		n += c->e[i].id != NULL;
	return n;
}

/* ---- the connector */

size_t fg_cn_parse(const void *buf, size_t len, struct fg_cn_event *ret, size_t max)
{
	const char *p = buf;
	size_t n = 0;

	while (n < max && len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr nh;
		struct cn_msg cn;
		uint32_t what;
		uint64_t ns;
		int32_t ids[4];

		memcpy(&nh, p, sizeof(nh));
		if (nh.nlmsg_len < sizeof(nh) || nh.nlmsg_len > len)
			break;
		size_t body = nh.nlmsg_len - NLMSG_HDRLEN;
		const char *b = p + NLMSG_HDRLEN;
		/* proc_event: what, cpu, timestamp, then every kind of event
		 * starts with the task's pid and its tgid. */
		if (nh.nlmsg_type == NLMSG_DONE && body >= sizeof(cn) + 24) {
			memcpy(&cn, b, sizeof(cn));
			if (cn.id.idx == CN_IDX_PROC && cn.id.val == CN_VAL_PROC && cn.len >= 24 &&
			    cn.len <= body - sizeof(cn)) {
				memcpy(&what, b + sizeof(cn), sizeof(what));
				memcpy(&ns, b + sizeof(cn) + 8, sizeof(ns));
				memcpy(ids, b + sizeof(cn) + 16, sizeof(ids[0]) * 2);
				ids[2] = ids[3] = 0;
				/* fork: parent pid, tgid, then child pid, tgid */
				if (what == PROC_EVENT_FORK && cn.len >= 32)
					memcpy(ids + 2, b + sizeof(cn) + 24, sizeof(ids[0]) * 2);
				ret[n++] = (struct fg_cn_event){what, ids[0], ids[1], ns,
								ids[2] == ids[3] ? ids[3] : 0};
			}
		}
		size_t step = NLMSG_ALIGN(nh.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return n;
}

/* ---- processes traced since their exec */

static pid_t *traced_slot(struct fg_pcache *c, pid_t tgid)
{
	for (unsigned i = 0; i < FG_PCACHE_TRACED; i++)
		if (c->traced[i] == tgid)
			return &c->traced[i];
	return NULL;
}

static void traced_note(struct fg_pcache *c, pid_t tgid)
{
	pid_t *s;

	if (traced_slot(c, tgid))
		return;
	s = &c->traced[c->traced_next++ % FG_PCACHE_TRACED];
	if (*s)
		c->traced_evicted++;
	*s = tgid;
}

/* A ptrace event taints the group until it execs a new image or its
 * leader exits (which frees the id); a fork passes the taint on (a child
 * runs the memory a tracer may have set up). */
static void traced_event(struct fg_pcache *c, const struct fg_cn_event *ev)
{
	pid_t *s;

	if (ev->tgid <= 0)
		return;
	if (ev->what == PROC_EVENT_PTRACE)
		traced_note(c, ev->tgid);
	else if (ev->what == PROC_EVENT_FORK && ev->child > 0 && traced_slot(c, ev->tgid))
		traced_note(c, ev->child);
	else if ((ev->what == PROC_EVENT_EXEC || ev->what == PROC_EVENT_EXIT) &&
		 ev->pid == ev->tgid && (s = traced_slot(c, ev->tgid))) {
		*s = 0;
	}
}

/* ---- children older than their parent's image */

/* The event's time in /proc's start-time ticks (boot-based), 0 unknown. */
static uint64_t event_ticks(uint64_t mono_ns)
{
	struct timespec b, m;
	long hz = sysconf(_SC_CLK_TCK);

	if (!mono_ns || hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &b) < 0 ||
	    clock_gettime(CLOCK_MONOTONIC, &m) < 0)
		return 0;
	uint64_t off = (uint64_t)(b.tv_sec - m.tv_sec) * 1000000000ULL + (uint64_t)b.tv_nsec -
		       (uint64_t)m.tv_nsec;
	return (mono_ns + off) / (1000000000ULL / (uint64_t)hz);
}

static void preexec_note(struct fg_pcache *c, pid_t parent, pid_t child)
{
	unsigned i = c->preexec_next++ % FG_PCACHE_PREEXEC;

	if (c->preexec[i].parent)
		c->preexec_evicted++;
	c->preexec[i].parent = parent;
	c->preexec[i].child = child;
}

/* When child was forked (the connector's clock), 0 when its fork is not
 * among the latest. */
static uint64_t fork_ns(const struct fg_pcache *c, pid_t child)
{
	uint64_t ns = 0;

	for (unsigned i = 0; i < FG_PCACHE_FORKS; i++)
		if (c->forks[i].child == child && c->forks[i].ns > ns)
			ns = c->forks[i].ns;
	return ns;
}

/* Whether child, a child of the process that exec'd at ev->ns, was forked
 * before that exec. Its fork is among the latest when it is young: the
 * connector's times order them exactly. Otherwise its start time (in
 * ticks) tells, and a child of the exec's own tick counts as older (one
 * whose fork came after the drain): the check errs towards denying. */
static bool older_than_exec(const struct fg_pcache *c, const struct fg_cn_event *ev, pid_t child,
			    uint64_t at)
{
	uint64_t f = fork_ns(c, child);

	if (f && ev->ns)
		return f < ev->ns;
	return !at || fg_proc_start_time(child) <= at;
}

/* An exec: every child the process has now and that was forked before the
 * exec was forked by the image it ran before. A process that forks its
 * writer and then execs a transaction tool is so caught. Run once the
 * connector is drained, so that every fork before now is known. The
 * children file names a task's children; after an exec only one task is
 * left, and it holds them all. */
static void exec_children(struct fg_pcache *c, const struct fg_cn_event *ev)
{
	uint64_t at = event_ticks(ev->ns);
	char path[64], buf[4096];
	const char *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)ev->tgid, (int)ev->tgid);
	n = fg_read_small(AT_FDCWD, path, buf, sizeof(buf));
	for (p = buf; n > 0 && p < buf + n;) {
		char *end;
		long child = strtol(p, &end, 10);

		if (end == p)
			break;
		p = end + (*end == ' ');
		if (child > 0 && older_than_exec(c, ev, (pid_t)child, at))
			preexec_note(c, ev->tgid, (pid_t)child);
	}
}

/* The execs of a drain, looked at once it is drained. */
static void exec_settle(struct fg_pcache *c)
{
	for (unsigned i = 0; i < c->n_execs; i++)
		exec_children(c, &c->execs[i]);
	c->n_execs = 0;
}

static void preexec_event(struct fg_pcache *c, const struct fg_cn_event *ev)
{
	if (ev->what == PROC_EVENT_FORK && ev->child > 0) {
		unsigned i = c->forks_next++ % FG_PCACHE_FORKS;
		c->forks[i].child = ev->child;
		c->forks[i].ns = ev->ns;
		return;
	}
	if (ev->pid != ev->tgid || ev->tgid <= 0)
		return;
	if (ev->what == PROC_EVENT_EXEC) {
		if (c->n_execs == FG_PCACHE_EXECS)
			exec_settle(c);
		c->execs[c->n_execs++] = *ev;
		return;
	}
	if (ev->what != PROC_EVENT_EXIT)
		return;
	for (unsigned i = 0; i < FG_PCACHE_PREEXEC; i++)
		if (c->preexec[i].parent == ev->tgid || c->preexec[i].child == ev->tgid)
			c->preexec[i].parent = c->preexec[i].child = 0;
}

bool fg_pcache_forked_before_exec(const struct fg_pcache *c, pid_t parent, pid_t child)
{
	if (!c || !c->on || parent <= 0 || child <= 0)
		return false;
	for (unsigned i = 0; i < FG_PCACHE_PREEXEC; i++)
		if (c->preexec[i].parent == parent && c->preexec[i].child == child)
			return true;
	return false;
}

bool fg_pcache_was_traced(const struct fg_pcache *c, pid_t tgid)
{
	if (!c || !c->on || tgid <= 0)
		return false;
	for (unsigned i = 0; i < FG_PCACHE_TRACED; i++)
		if (c->traced[i] == tgid)
			return true;
	return false;
}

void fg_pcache_event(struct fg_pcache *c, const struct fg_cn_event *ev)
{
	traced_event(c, ev);
	preexec_event(c, ev);
	/* Without the kernel's filter (before 6.6) every kind arrives, and a
	 * fork names its parent first: taken as the parent's own event, each
	 * fork of init or of a shell would empty the cache. */
	if (!(ev->what & WANTED_EVENTS) || ev->pid <= 0)
		return;
	if (!filter_has(c, ev->pid) && !filter_has(c, ev->tgid))
		return;
	for (unsigned i = 0; i < c->cap; i++) {
		struct fg_pcache_entry *e = &c->e[i];
		bool named = false;

		if (e->tid == 0)
			continue;
		if (e->id) {
			named = e->tgid == ev->tgid || e->tid == ev->pid;
			for (unsigned j = 0; j < e->id->n_anc && !named; j++)
				named = e->id->anc[j].pid == ev->tgid;
		}
		if (named)
			forget_id(c, e);
		/* The kept syscall file outlives an exec (it names the task),
		 * not an exit. */
		if (ev->what == PROC_EVENT_EXIT && e->tid == ev->pid)
			drop(c, e);
	}
}

static int send_listen(int fd, const void *req, uint16_t req_len)
{
	char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(struct cn_listen_filtered))] = {0};
	struct nlmsghdr nh = {
	    .nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + req_len),
	    .nlmsg_type = NLMSG_DONE,
	    .nlmsg_pid = (uint32_t)getpid(),
	};
	struct cn_msg cn = {.id = {CN_IDX_PROC, CN_VAL_PROC}, .len = req_len};
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};

	memcpy(buf, &nh, sizeof(nh));
	memcpy(buf + NLMSG_HDRLEN, &cn, sizeof(cn));
	memcpy(buf + NLMSG_HDRLEN + sizeof(cn), req, req_len);
	if (sendto(fd, buf, nh.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

/* Forks a child that exits at once and waits for the connector to report
 * that exit: proof that events arrive, whatever the kernel's version. */
static int selftest(struct fg_pcache *c)
{
	char buf[8192] __attribute__((aligned(8)));
	struct fg_cn_event ev[64];
	uint64_t deadline = fg_now_ns() + SELFTEST_MS * 1000000ULL;
	pid_t child = fork();

	if (child < 0)
		return -errno;
	if (child == 0)
		_exit(0);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	while (fg_now_ns() < deadline) {
		struct pollfd p = {.fd = c->nl_fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		ssize_t n = recv(c->nl_fd, buf, sizeof(buf), 0);
		if (n <= 0)
			continue;
		size_t k = fg_cn_parse(buf, (size_t)n, ev, FG_ARRAY_SIZE(ev));
		for (size_t i = 0; i < k; i++)
			if (ev[i].what == PROC_EVENT_EXIT && ev[i].pid == child)
				return 0;
	}
	return -ETIMEDOUT;
}

static int connect_fail(struct fg_pcache *c, int r, const char *why)
{
	fg_pcache_close(c);
	fg_pcache_disable(c, why);
	return r;
}

int fg_pcache_connect(struct fg_pcache *c)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	struct cn_listen_filtered filtered = {PROC_CN_MCAST_LISTEN, LISTEN_EVENTS};
	uint32_t plain = PROC_CN_MCAST_LISTEN;
	int size = RCVBUF_BYTES;

	if (!c->on)
		return -EINVAL;
	c->nl_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (c->nl_fd < 0)
		return connect_fail(c, -errno, "no process events connector socket");
	if (bind(c->nl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return connect_fail(c, -errno, "cannot join the process events group");
	/* A burst of exits must not overflow the socket between drains; an
	 * overflow costs every cached identity. */
	if (setsockopt(c->nl_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(c->nl_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (send_listen(c->nl_fd, &filtered, sizeof(filtered)) == 0 && selftest(c) == 0)
		return 0;
	/* Before 6.6 only the bare listen request exists. */
	if (send_listen(c->nl_fd, &plain, sizeof(plain)) == 0 && selftest(c) == 0)
		return 0;
	return connect_fail(c, -ETIMEDOUT, "process events connector self-test failed");
}

void fg_pcache_behind(struct fg_pcache *c)
{
	c->behind = true;
}

void fg_pcache_sync(struct fg_pcache *c)
{
	char buf[8192] __attribute__((aligned(8)));
	struct fg_cn_event ev[64];

	c->behind = false;
	if (!c->on || c->nl_fd < 0)
		return;
	for (unsigned msgs = 0;;) {
		ssize_t n = recv(c->nl_fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: nothing cached can be trusted. */
			drop_all(c);
			c->flushes++;
			continue;
		}
		if (n <= 0) {
			exec_settle(c);
			return;
		}
		size_t k = fg_cn_parse(buf, (size_t)n, ev, FG_ARRAY_SIZE(ev));
		for (size_t i = 0; i < k; i++)
			fg_pcache_event(c, &ev[i]);
		c->messages += k;
		if (++msgs == FG_PCACHE_DRAIN) {
			/* Not drained: what is still queued may name a cached
			 * task, so nothing cached is used. */
			drop_all(c);
			c->flushes++;
			exec_settle(c);
			return;
		}
	}
}

/* ---- the event path */

enum fg_intent fg_pcache_intent(struct fg_pcache *c, pid_t tid, uint64_t *ret_flags, long *ret_nr)
{
	struct fg_pcache_entry *e;
	enum fg_intent in;
	int fd, err;

	if (!c->on || tid <= 0)
		return fg_proc_read_intent(tid, ret_flags, ret_nr);
	e = find(c, tid);
	if (e) {
		in = fg_proc_intent_fd(e->sc_fd, tid, ret_flags, ret_nr, &err);
		if (err == 0) {
			e->used = ++c->clock;
			return in;
		}
		/* That task is gone; tid names another one now. */
		drop(c, e);
	}
	fd = fg_proc_open(tid, "syscall");
	if (fd < 0) {
		*ret_flags = 0;
		*ret_nr = -1;
		return FG_INTENT_UNKNOWN;
	}
	in = fg_proc_intent_fd(fd, tid, ret_flags, ret_nr, &err);
	if (err < 0) {
		close(fd);
		return in;
	}
	e = take(c);
	*e = (struct fg_pcache_entry){
	    .tid = tid, .sc_fd = fd, .sid_fd = -1, .cg_fd = -1, .used = ++c->clock};
	*slot(c, tid) += 1;
	return in;
}

static void unpack(const struct fg_pcache_id *id, pid_t tid, struct fg_proc *p)
{
	p->tid = tid;
	p->pid = id->pid;
	p->ppid = id->ppid;
	p->uid = id->uid;
	p->auid = id->auid;
	p->sessionid = id->sessionid;
	p->start_time = id->start_time;
	p->known = id->known;
	p->tracer = id->tracer;
	p->trust_gen = id->trust_gen;
	p->verifying = false;
	p->trust = id->trust;
	p->finding.method = id->f_method;
	p->finding.problem = id->f_problem;
	p->finding.who = id->f_who;
	fg_strlcpy(p->finding.detail, id->f_detail, sizeof(p->finding.detail));
	memcpy(p->comm, id->comm, sizeof(p->comm));
	fg_strlcpy(p->exe, id->exe, sizeof(p->exe));
	fg_strlcpy(p->cgroup, id->cgroup, sizeof(p->cgroup));
	p->n_ancestors = id->n_anc;
	p->ancestry_truncated = false;
	memcpy(p->anc, id->anc, id->n_anc * sizeof(*id->anc));
	memcpy(p->arena, id->arena, id->arena_used);
	p->arena_used = id->arena_used;
}

/* The ancestors whose exe the policy looks at, for generation chk->gen. */
static int watch_list(struct fg_pcache_entry *e, const struct fg_pcache_check *chk)
{
	const struct fg_pcache_id *id = e->id;
	uint32_t *w = NULL;
	unsigned n = 0;

	for (unsigned i = 0; i < id->n_anc; i++) {
		const struct fg_trustinfo *t = &id->anc[i].trust;
		/* Verified means a decision rested on it (a transaction root
		 * known by content, too, whatever its path). */
		bool verified = t->exe || t->code || t->dig;

		if (!verified && !(chk->anc_matters &&
				   chk->anc_matters(chk->ctx, id->arena + id->anc[i].exe_off)))
			continue;
		if (!w && !(w = malloc(id->n_anc * sizeof(*w))))
			return -ENOMEM;
		w[n++] = i;
	}
	free(e->watch);
	e->watch = w;
	e->n_watch = n;
	e->watch_gen = chk->gen;
	return 0;
}

/* Whether every watched ancestor still runs the exe it was cached with:
 * mid-exec it already shows the new one, and once it is exiting none. */
static bool watched_same(const struct fg_pcache_entry *e)
{
	char path[32], exe[PATH_MAX];

	for (unsigned k = 0; k < e->n_watch; k++) {
		const struct fg_ancestor *a = &e->id->anc[e->watch[k]];
		const char *was = e->id->arena + a->exe_off;
		size_t len = strlen(was);
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/exe", (int)a->pid);
		n = readlink(path, exe, sizeof(exe));
		if (n < 0 || (size_t)n != len || memcmp(exe, was, len) != 0)
			return false;
	}
	return true;
}

bool fg_pcache_lookup(struct fg_pcache *c, pid_t tid, const struct fg_pcache_check *chk,
		      struct fg_proc *ret)
{
	struct fg_pcache_entry *e;
	char cgroup[FG_CGROUP_LEN];
	uint32_t sid;

	if (!c->on)
		return false;
	if (c->behind)
		fg_pcache_sync(c);
	e = find(c, tid);
	if (!e || !e->id) {
		c->misses++;
		return false;
	}
	/* The two fields no process event covers: a change is a miss. The
	 * cgroup is the costlier read (css_set_lock, a path walk), and only
	 * the log line shows it unless a rule names one. */
	if (e->watch_gen != chk->gen && watch_list(e, chk) < 0)
		e->watch_gen = 0;
	if (fg_proc_id_fd(e->sid_fd, &sid) < 0 || sid != e->id->sessionid ||
	    (chk->cgroup && (fg_proc_cgroup_fd(e->cg_fd, cgroup, sizeof(cgroup)) < 0 ||
			     strcmp(cgroup, e->id->cgroup) != 0)) ||
	    e->watch_gen != chk->gen || !watched_same(e) ||
	    /* verified under another policy (its trusted prefixes, its
	     * digests): verified again */
	    (e->id->trust_gen && e->id->trust_gen != chk->gen)) {
		forget_id(c, e);
		c->misses++;
		return false;
	}
	unpack(e->id, tid, ret);
	e->used = ++c->clock;
	c->hits++;
	return true;
}

static struct fg_pcache_id *pack(const struct fg_proc *p)
{
	size_t exe = strlen(p->exe) + 1, cg = strlen(p->cgroup) + 1;
	size_t det = strlen(p->finding.detail) + 1;
	size_t anc = p->n_ancestors * sizeof(struct fg_ancestor);
	struct fg_pcache_id *id = malloc(sizeof(*id) + anc + exe + cg + det + p->arena_used);
	char *s;

	if (!id)
		return NULL;
	*id = (struct fg_pcache_id){
	    .pid = p->pid,
	    .ppid = p->ppid,
	    .uid = p->uid,
	    .auid = p->auid,
	    .sessionid = p->sessionid,
	    .start_time = p->start_time,
	    .known = p->known,
	    .tracer = p->tracer,
	    .trust_gen = p->trust_gen,
	    .trust = p->trust,
	    .f_method = p->finding.method,
	    .f_problem = p->finding.problem,
	    .f_who = p->finding.who,
	    .n_anc = p->n_ancestors,
	    .arena_used = p->arena_used,
	};
	memcpy(id->comm, p->comm, sizeof(id->comm));
	memcpy(id->anc, p->anc, anc);
	s = (char *)id->anc + anc;
	id->exe = memcpy(s, p->exe, exe);
	id->cgroup = memcpy(s + exe, p->cgroup, cg);
	id->f_detail = memcpy(s + exe + cg, p->finding.detail, det);
	id->arena = memcpy(s + exe + cg + det, p->arena, p->arena_used);
	return id;
}

void fg_pcache_store(struct fg_pcache *c, const struct fg_proc *p)
{
	struct fg_pcache_entry *e;
	char probe[64];

	if (!c->on || p->ancestry_truncated)
		return;
	e = find(c, p->tid);
	if (!e)
		return;
	forget_id(c, e);
	/* The session id, not the login uid: every write of loginuid gives
	 * the task a new one (or unsets it), so a session id that reads the
	 * same means the same login uid, and a rewrite of the same uid (a new
	 * session, which ident.c checks against the cgroup) shows too. */
	e->sid_fd = fg_proc_open(p->tid, "sessionid");
	e->cg_fd = fg_proc_open(p->tid, "cgroup");
	/* The kept syscall file names the task of the event. If it still
	 * reads, that task lived through the resolution and the opens above,
	 * so the identity and both files are its own. */
	if (e->sid_fd < 0 || e->cg_fd < 0 || pread(e->sc_fd, probe, sizeof(probe), 0) < 0 ||
	    !(e->id = pack(p))) {
		if (e->sid_fd >= 0)
			close(e->sid_fd);
		if (e->cg_fd >= 0)
			close(e->cg_fd);
		e->sid_fd = e->cg_fd = -1;
		return;
	}
	e->tgid = p->pid;
	filter_id(c, e, 1);
}
