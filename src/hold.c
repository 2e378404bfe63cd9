/* Holding the permission group across restarts: the fd store hand-over,
 * the journal, the takeover and the start-up bridge (hold.h). */
#include "fanguard/hold.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fanotify.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef FG_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "fanguard/guard.h"
#include "fanguard/util.h"

#define FG_HOLD_MAGIC 0x4a484746U /* "FGHJ" */
#define LISTEN_START  3		  /* SD_LISTEN_FDS_START */
#define EVENT_BUF     8192
#define BATCH_MAX     (EVENT_BUF / sizeof(struct fanotify_event_metadata))
/* What every group of ours was made with; any of the reporting flags that
 * change the event format makes it not ours. */
#define WANT_FLAGS (FAN_CLASS_CONTENT | FAN_REPORT_TID | FAN_UNLIMITED_QUEUE)
#define CLASS_BITS (FAN_CLASS_CONTENT | FAN_CLASS_PRE_CONTENT)
#define ODD_FLAGS  (FAN_REPORT_PIDFD | 0x00000200 /* FID */ | 0x00000c00 /* DFID_NAME */)

/* ---- the store: sd_notify, or nothing without libsystemd ---- */

#ifdef FG_HAVE_SYSTEMD
static int store_fd(const char *name, int fd)
{
	char msg[64];
	int r;

	snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
	r = sd_pid_notify_with_fds(0, 0, msg, &fd, 1);
	return r > 0 ? 0 : r == 0 ? -ENOTCONN : r;
}

static void remove_name(const char *name)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	(void)sd_notify(0, msg);
}

static int listen_fds(char ***ret_names)
{
	return sd_listen_fds_with_names(1, ret_names);
}
#else
static int store_fd(const char *name, int fd)
{
	(void)name;
	(void)fd;
	return -EOPNOTSUPP;
}

static void remove_name(const char *name)
{
	(void)name;
}

static int listen_fds(char ***ret_names)
{
	*ret_names = NULL;
	return 0;
}
#endif

void fg_hold_init(struct fg_hold *h)
{
	memset(h, 0, sizeof(*h));
	h->jfd = -1;
	h->held[0] = h->held[1] = -1;
}

/* ---- the journal ---- */

static size_t journal_len(uint32_t n)
{
	return offsetof(struct fg_hold_journal, ent) + n;
}

static int journal_map(struct fg_hold *h, int fd)
{
	struct fg_hold_journal *j;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((size_t)st.st_size < journal_len(0) ||
	    (size_t)st.st_size > journal_len(FG_HOLD_JOURNAL_MAX))
		return -EPROTO;
	j = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (j == MAP_FAILED)
		return -errno;
	if (j->magic != FG_HOLD_MAGIC || journal_len(j->size) > (size_t)st.st_size) {
		munmap(j, (size_t)st.st_size);
		return -EPROTO;
	}
	h->j = j;
	h->jlen = (size_t)st.st_size;
	h->jfd = fd;
	return 0;
}

/* One byte per fd number the process may have: the hard limit, which the
 * unit fixes (LimitNOFILE=), so that the sweep's bound is known too. */
static uint32_t fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max > FG_HOLD_JOURNAL_MAX)
		return FG_HOLD_JOURNAL_MAX;
	return rl.rlim_max < 1024 ? 1024 : (uint32_t)rl.rlim_max;
}

static int journal_new(struct fg_hold *h)
{
	uint32_t n = fd_limit();
	int fd = memfd_create("fanguard-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING), r;

	if (fd < 0)
		return -errno;
	/* Sealed at its size: nobody can shrink it under a mapping. */
	if (ftruncate(fd, (off_t)journal_len(n)) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	h->j = mmap(NULL, journal_len(n), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h->j == MAP_FAILED) {
		r = -errno;
		h->j = NULL;
		close(fd);
		return r;
	}
	h->j->size = n;
	h->j->magic = FG_HOLD_MAGIC;
	h->jlen = journal_len(n);
	h->jfd = fd;
	return 0;
}

void fg_hold_note_batch(struct fg_hold_journal *j, const void *buf, ssize_t len)
{
	const struct fanotify_event_metadata *m = buf;

	if (!j)
		return;
	for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len))
		if (m->fd >= 0)
			fg_hold_note(j, m->fd, FG_INTENT_UNKNOWN);
	fg_hold_reading(j, false);
}

/* ---- the takeover ---- */

/* A fanotify fd: enough to write responses to it. */
static bool is_fanotify(int fd)
{
	char path[64], buf[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return strcmp(buf, "anon_inode:[fanotify]") == 0;
}

/* A permission group made the way fg_fan_open makes them. Its fdinfo lists
 * every mark too, so this costs time in proportion to them: it runs after
 * the orphans are answered. */
static int check_group(int fd)
{
	char path[64], buf[4096];
	unsigned flags, evflags;
	const char *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	n = fg_read_small(AT_FDCWD, path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strstr(buf, "fanotify flags:");
	if (!p || sscanf(p, "fanotify flags:%x event-flags:%x", &flags, &evflags) != 2)
		return -EPROTO;
	if ((flags & CLASS_BITS) != FAN_CLASS_CONTENT || (flags & WANT_FLAGS) != WANT_FLAGS ||
	    (flags & ODD_FLAGS) || (evflags & O_ACCMODE) != O_RDONLY)
		return -EPROTO;
	/* The answering thread never blocks in read. */
	n = fcntl(fd, F_GETFL);
	if (n < 0 || (!(n & O_NONBLOCK) && fcntl(fd, F_SETFL, (int)n | O_NONBLOCK) < 0))
		return -errno;
	return 0;
}

static bool respond(int group, int fd, bool allow)
{
	struct fanotify_response r = {.fd = fd, .response = allow ? FAN_ALLOW : FAN_DENY};

	return write(group, &r, sizeof(r)) == (ssize_t)sizeof(r);
}

/* Every journaled number, on every stored group: at most one event has it
 * (they were all open in one process at once). */
static void answer_journal(struct fg_hold *h)
{
	for (uint32_t fd = 0; fd < h->j->size; fd++) {
		uint8_t e = h->j->ent[fd];
		bool hit = false;

		if (e == FG_HOLD_FREE)
			continue;
		for (unsigned g = 0; g < h->n_held; g++)
			hit |= respond(h->held[g], (int)fd, e == FG_HOLD_READ);
		if (!hit)
			h->tk.stale++;
		else if (e == FG_HOLD_READ)
			h->tk.allowed++;
		else
			h->tk.denied++;
	}
}

/* Without a complete journal: every other number below the fd limit is
 * denied. Safe only because nothing has read the group yet. */
static void sweep(struct fg_hold *h)
{
	uint32_t limit = h->j ? h->j->size : fd_limit();

	for (uint32_t fd = 0; fd < limit; fd++) {
		if (h->j && h->j->ent[fd] != FG_HOLD_FREE)
			continue;
		for (unsigned g = 0; g < h->n_held; g++)
			h->tk.sweep_hits += respond(h->held[g], (int)fd, false);
		h->tk.swept++;
	}
}

static void take_fd(struct fg_hold *h, int fd, const char *name)
{
	bool group = !strcmp(name, FG_HOLD_NAME_A) || !strcmp(name, FG_HOLD_NAME_B);

	if (!strcmp(name, FG_HOLD_NAME_JOURNAL) && h->jfd < 0 && journal_map(h, fd) == 0)
		return;
	if (group && h->n_held < FG_HOLD_GROUPS && is_fanotify(fd)) {
		h->held[h->n_held] = fd;
		fg_strlcpy(h->held_name[h->n_held++], name, FG_HOLD_NAME_MAX);
		return;
	}
	/* Not what its name says (or one too many). It stays in the store:
	 * removing by name could take a good fd of that name with it. Every
	 * start logs it. */
	close(fd);
	h->tk.rejected++;
}

/* Two stored groups: a kill during a reload or a takeover. The one the
 * journal names complete carries every mark; the other is dropped (its
 * pending openers go on to the kept group's marks). */
static void keep_one(struct fg_hold *h)
{
	unsigned keep = 0;

	if (h->n_held < 2)
		return;
	if (h->j && !strncmp(h->j->complete, h->held_name[1], FG_HOLD_NAME_MAX))
		keep = 1;
	close(h->held[1 - keep]);
	if (strcmp(h->held_name[0], h->held_name[1]) != 0)
		remove_name(h->held_name[1 - keep]);
	h->held[0] = h->held[keep];
	memmove(h->held_name[0], h->held_name[keep], FG_HOLD_NAME_MAX);
	h->held[1] = -1;
	h->n_held = 1;
	h->tk.dropped++;
}

static int bridge_start(struct fg_hold *h, int group);

int fg_hold_takeover(struct fg_hold *h)
{
	uint64_t t0 = fg_now_ns();
	char **names = NULL;
	int n = listen_fds(&names);

	for (int i = 0; i < n; i++)
		take_fd(h, LISTEN_START + i, names && names[i] ? names[i] : "");
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	if (n < 0)
		return n;
	h->tk.journal = h->j != NULL;
	if (h->n_held == 0)
		return 0;
	h->tk.groups = h->n_held;
	if (h->j)
		answer_journal(h);
	h->tk.sweep_why = !h->j		   ? "no journal came with the group"
			  : h->j->reading  ? "the daemon died during a read"
			  : h->j->overflow ? "fd numbers past the journal's end were read"
					   : NULL;
	if (h->tk.sweep_why)
		sweep(h);
	h->tk.orphans_ns = fg_now_ns() - t0;
	keep_one(h);
	if (check_group(h->held[0]) < 0) {
		/* Not a group to read: its orphans are answered, and it goes. */
		close(h->held[0]);
		remove_name(h->held_name[0]);
		h->held[0] = -1;
		h->n_held = h->tk.groups = 0;
		h->tk.rejected++;
	} else {
		fg_strlcpy(h->cur, h->held_name[0], sizeof(h->cur));
	}
	if (h->j) {
		memset(h->j->ent, 0, h->j->size);
		h->j->reading = h->j->overflow = 0;
		h->j->takeovers++;
	}
	if (!h->n_held)
		return 0;
	n = bridge_start(h, h->held[0]);
	return n < 0 ? n : (int)h->tk.groups;
}

/* path is dir itself or lies below it. */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* A held group that nobody answers blocks every opener of what it marks.
 * That must never be what brings the successor up: PID 1 (which would
 * start it, and which blocked cannot even give up on the unit), every exec
 * (the dynamic loader's files) or our own executable. */
const char *fg_hold_unsafe(const struct fg_config *cfg, char *buf, size_t size)
{
	static const char *const vital[] = {"/etc/systemd", "/etc/ld.so.preload",
					    "/etc/ld.so.cache", "/etc/ld.so.conf",
					    "/etc/ld.so.conf.d"};
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = '\0';
	for (unsigned i = 0; i < cfg->n_subtrees; i++) {
		const struct fg_subtree_cfg *t = &cfg->subtrees[i];

		for (size_t k = 0; k < FG_ARRAY_SIZE(vital); k++)
			if (below(t->path, vital[k]) || below(vital[k], t->path)) {
				snprintf(buf, size,
					 "subtree %s covers %s, which %s needs while no fanguardd "
					 "answers",
					 t->name, vital[k], k == 0 ? "PID 1" : "every exec");
				return buf;
			}
		if (exe[0] && below(exe, t->path)) {
			snprintf(buf, size, "subtree %s covers fanguardd itself, %s", t->name,
				 exe);
			return buf;
		}
	}
	return NULL;
}

int fg_hold_setup(struct fg_hold *h, const struct fg_config *cfg)
{
	bool on = cfg->on_daemon_exit == FG_ONEXIT_HOLD;
	int r;

	char why[sizeof(h->refused_buf) - 16];

	h->asked = on;
	h->refused = NULL;
	if (on && fg_hold_unsafe(cfg, why, sizeof(why))) {
		snprintf(h->refused_buf, sizeof(h->refused_buf), "NOT HELD (%s)", why);
		h->refused = h->refused_buf;
		h->store_err = -EDEADLK;
		on = false;
	}
	h->on = on;
	h->notify = getenv("NOTIFY_SOCKET") != NULL;
	if (!on) {
		/* A journal without a group: nothing to take over, nothing to keep. */
		if (h->jfd >= 0 && h->n_held == 0 && h->tk.groups == 0)
			remove_name(FG_HOLD_NAME_JOURNAL);
		return 0;
	}
	if (!h->notify)
		return h->store_err = -ENOTCONN;
	if (h->jfd >= 0)
		return 0; /* taken over: the store has it already */
	r = journal_new(h);
	if (r == 0)
		r = store_fd(FG_HOLD_NAME_JOURNAL, h->jfd);
	return h->store_err = r;
}

/* ---- the store's names for our groups ---- */

int fg_hold_store(struct fg_hold *h, int group)
{
	const char *name;
	int r;

	if (h->cur[0] && !h->old[0])
		fg_strlcpy(h->old, h->cur, sizeof(h->old));
	h->cur[0] = '\0';
	if (!h->on)
		return 0;
	if (!h->notify)
		return h->store_err = -ENOTCONN;
	name = strcmp(h->old, FG_HOLD_NAME_A) ? FG_HOLD_NAME_A : FG_HOLD_NAME_B;
	r = store_fd(name, group);
	h->store_err = r;
	if (r == 0)
		fg_strlcpy(h->cur, name, sizeof(h->cur));
	return r;
}

void fg_hold_unstore(struct fg_hold *h)
{
	if (h->cur[0])
		remove_name(h->cur);
	fg_strlcpy(h->cur, h->old, sizeof(h->cur));
	h->old[0] = '\0';
}

void fg_hold_complete(struct fg_hold *h)
{
	if (h->j && h->cur[0])
		memcpy(h->j->complete, h->cur, sizeof(h->j->complete));
}

void fg_hold_retired(struct fg_hold *h)
{
	/* Nothing may stay in the store that nobody here reads: its marks
	 * would hold every opener until the unit stops. */
	if (h->old[0])
		remove_name(h->old);
	h->old[0] = '\0';
	if (!h->on && h->jfd >= 0)
		remove_name(FG_HOLD_NAME_JOURNAL);
}

/* ---- the bridge: start-up's answering thread on the stored group ---- */

struct held_ev {
	struct fanotify_event_metadata md;
	uint64_t t0;
};

struct fg_hold_bridge {
	pthread_t th;
	bool running;
	int group, stopfd;
	struct fg_hold_journal *j;
	struct held_ev *ev; /* FG_DEFER_MAX */
	unsigned n;
	uint64_t self, reads;
};

/* A thread of this process: the config, the log file and everything else
 * start-up opens may lie under the stored group's marks. */
static bool ours(pid_t tid)
{
	return syscall(SYS_tgkill, getpid(), tid, 0) == 0;
}

static enum fg_intent intent_of(pid_t tid, int fd)
{
	uint64_t flags;
	long nr;
	enum fg_intent in = fg_proc_read_intent(tid, &flags, &nr);

	/* as the answering thread takes it (perm.c classify) */
	return fg_intent_vouched(in, nr, fd, tid);
}

/* One read, in the answering thread's two phases: every intent is read
 * before anyone is answered (an answer wakes the other openers, and a woken
 * opener reads as running). Ours and reads are answered; the rest is held. */
static void bridge_read(struct fg_hold_bridge *b)
{
	char buf[EVENT_BUF] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	enum fg_intent in[BATCH_MAX];
	const struct fanotify_event_metadata *m;
	uint64_t t0 = fg_now_ns();
	ssize_t len;
	unsigned n = 0;

	fg_hold_reading(b->j, true);
	len = read(b->group, buf, sizeof(buf));
	if (len <= 0) {
		fg_hold_reading(b->j, false);
		return;
	}
	fg_hold_note_batch(b->j, buf, len);
	/* FAN_EVENT_NEXT uses up len: the second walk goes by count. */
	for (m = (const void *)buf; FAN_EVENT_OK(m, len) && n < BATCH_MAX;
	     m = FAN_EVENT_NEXT(m, len))
		in[n++] =
		    !(m->mask & FAN_OPEN_PERM) || ours(m->pid) ? FG_INTENT_READ : intent_of(m->pid, m->fd);
	m = (const void *)buf;
	for (unsigned i = 0; i < n; i++, m = (const void *)((const char *)m + m->event_len)) {
		if (!(m->mask & FAN_OPEN_PERM) || m->fd < 0) {
			fg_hold_close(b->j, m->fd);
			continue;
		}
		if (in[i] == FG_INTENT_READ) {
			respond(b->group, m->fd, true);
			ours(m->pid) ? b->self++ : b->reads++;
			fg_hold_close(b->j, m->fd);
			continue;
		}
		fg_hold_note(b->j, m->fd, in[i]);
		b->ev[b->n++] = (struct held_ev){.md = *m, .t0 = t0};
	}
}

static void *bridge_main(void *arg)
{
	struct fg_hold_bridge *b = arg;

	for (;;) {
		/* Full: the rest waits in the kernel's queue. */
		struct pollfd pf[2] = {
		    {.fd = b->n + BATCH_MAX <= FG_DEFER_MAX ? b->group : -1, .events = POLLIN},
		    {.fd = b->stopfd, .events = POLLIN},
		};

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		if (pf[0].revents)
			bridge_read(b);
	}
	return NULL;
}

int fg_hold_bridge_resume(struct fg_hold *h)
{
	struct fg_hold_bridge *b = h->bridge;
	uint64_t v;
	int r;

	if (!b || b->running)
		return 0;
	(void)!read(b->stopfd, &v, sizeof(v));
	r = pthread_create(&b->th, NULL, bridge_main, b);
	b->running = r == 0;
	return -r;
}

static int bridge_start(struct fg_hold *h, int group)
{
	struct fg_hold_bridge *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->ev = calloc(FG_DEFER_MAX, sizeof(*b->ev));
	b->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->group = group;
	b->j = h->j;
	h->bridge = b;
	if (!b->ev || b->stopfd < 0)
		return -ENOMEM;
	return fg_hold_bridge_resume(h);
}

void fg_hold_bridge_pause(struct fg_hold *h)
{
	struct fg_hold_bridge *b = h->bridge;
	uint64_t one = 1;

	if (!b || !b->running)
		return;
	(void)!write(b->stopfd, &one, sizeof(one));
	pthread_join(b->th, NULL);
	b->running = false;
}

static void bridge_free(struct fg_hold *h)
{
	struct fg_hold_bridge *b = h->bridge;

	if (!b)
		return;
	fg_hold_bridge_pause(h);
	h->tk.bridge_self = b->self;
	h->tk.bridge_reads = b->reads;
	if (b->stopfd >= 0)
		close(b->stopfd);
	free(b->ev);
	free(b);
	h->bridge = NULL;
}

void fg_hold_handover(struct fg_hold *h, struct fg_guard *g)
{
	struct fg_hold_bridge *b = h->bridge;
	struct fg_perm *p = &g->perm;

	g->journal = h->j;
	if (!h->n_held)
		return;
	fg_hold_bridge_pause(h);
	for (unsigned i = 0; b && i < b->n; i++)
		p->deferred[p->n_deferred++] =
		    (struct fg_deferred){.md = b->ev[i].md, .group = h->held[0], .t0 = b->ev[i].t0};
	h->tk.bridge_held = b ? b->n : 0;
	g->state->c.in_flight = p->n_deferred;
	/* Read and drained like a group a reload replaced; the answering
	 * thread closes it, then fg_hold_retired lets the store drop it. */
	p->groups[1] = p->retiring = h->held[0];
	if (b)
		b->n = 0;
	h->held[0] = -1;
	h->n_held = 0;
	bridge_free(h);
}

/* ---- reporting ---- */

bool fg_hold_refuses(const struct fg_hold *h, const struct fg_config *cfg, struct fg_diag *diag)
{
	char why[400];

	if (!h->on || !fg_hold_unsafe(cfg, why, sizeof(why)))
		return false;
	fg_diag_add(diag, "on_daemon_exit = hold, and %s (restart with release, or drop it)", why);
	return true;
}

void fg_hold_started(struct fg_hold *h, struct fg_guard *g)
{
	const struct fg_hold_takeover *t = &h->tk;
	char msg[1024];

	/* The stored group is drained and closed like a group a reload
	 * replaced; then the store drops it. */
	if (t->groups)
		fg_guard_wait_retired(g);
	fg_hold_retired(h);
	if (t->groups || t->rejected) {
		fg_hold_describe(h, msg, sizeof(msg));
		fg_guard_log_daemon(g, "takeover", t->sweep_why || t->rejected ? "failure" : "success",
				    msg);
	}
	if (h->asked && strcmp(fg_hold_state(h), "held") != 0) {
		snprintf(msg, sizeof(msg),
			 "on_daemon_exit = hold, but the permission group is %s: if fanguardd dies, "
			 "the kernel lets every pending and later open through",
			 fg_hold_state(h));
		fg_guard_log_daemon(g, "fd-store", "failure", msg);
		fprintf(stderr, "fanguardd: %s\n", msg);
	}
}

size_t fg_hold_describe(const struct fg_hold *h, char *buf, size_t size)
{
	const struct fg_hold_takeover *t = &h->tk;
	int n;

	n = snprintf(buf, size,
		     "took the permission group over from the fd store (takeover %llu): "
		     "%u orphaned event(s) answered from the journal (%u read(s) allowed, "
		     "%u denied), %u journaled number(s) already answered; %.1f ms to answer "
		     "them; during start-up %llu read(s) allowed, %llu open(s) held for the "
		     "policy",
		     (unsigned long long)fg_hold_takeovers(h), t->allowed + t->denied, t->allowed,
		     t->denied, t->stale, (double)t->orphans_ns / 1e6,
		     (unsigned long long)t->bridge_reads, (unsigned long long)t->bridge_held);
	if (n >= 0 && (size_t)n < size && t->sweep_why)
		n += snprintf(buf + n, size - (size_t)n,
			      "; SWEPT %u fd numbers (%s): %u orphan(s) of unknown intent denied",
			      t->swept, t->sweep_why, t->sweep_hits);
	if (n >= 0 && (size_t)n < size && (t->dropped || t->rejected))
		n += snprintf(buf + n, size - (size_t)n,
			      "; %u half-marked spare group(s) dropped, %u stored fd(s) rejected",
			      t->dropped, t->rejected);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

const char *fg_hold_state(const struct fg_hold *h)
{
	if (h->refused)
		return h->refused;
	if (!h->on)
		return "released";
	if (h->store_err == -ENOTCONN)
		return "NOT HELD (no NOTIFY_SOCKET)";
	if (h->store_err || !h->cur[0])
		return "NOT HELD (the store refused it)";
	return "held";
}

uint64_t fg_hold_takeovers(const struct fg_hold *h)
{
	return h->j ? __atomic_load_n(&h->j->takeovers, __ATOMIC_RELAXED) : 0;
}

void fg_hold_free(struct fg_hold *h)
{
	/* What the bridge still holds stays journaled: our fds close at exit
	 * and a successor answers those numbers. */
	fg_hold_bridge_pause(h);
	if (h->bridge)
		for (unsigned i = 0; i < h->bridge->n; i++)
			close(h->bridge->ev[i].md.fd);
	bridge_free(h);
	for (unsigned i = 0; i < FG_HOLD_GROUPS; i++)
		if (h->held[i] >= 0)
			close(h->held[i]);
	if (h->j)
		munmap(h->j, h->jlen);
	if (h->jfd >= 0)
		close(h->jfd);
	fg_hold_init(h);
}
