#include "fanguard/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fanguard/util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define EVENT_BUF  8192
#define OPENAT2_NR 437 /* the same number on every architecture */

/* What one write-intent open or one notification came to. */
struct outcome {
	bool allow;	      /* the kernel's answer (audit mode allows) */
	const char *decision; /* allow / deny / would-deny / detected */
	const char *reason;
	const char *rule;
	bool quiet;
};

int fg_guard_init(struct fg_guard *g, struct fg_policy *pol, struct fg_fan *fan,
		  struct fg_logger *log, struct fg_state *state)
{
	memset(g, 0, sizeof(*g));
	g->pol = pol;
	g->fan = fan;
	g->log = log;
	g->state = state;
	g->proc = malloc(sizeof(*g->proc));
	g->proc2 = malloc(sizeof(*g->proc2));
	g->modseen = calloc(FG_MODSEEN_MAX, sizeof(*g->modseen));
	g->deferred = calloc(FG_DEFER_MAX, sizeof(*g->deferred));
	if (!g->proc || !g->proc2 || !g->modseen || !g->deferred) {
		fg_guard_free(g);
		return -ENOMEM;
	}
	fg_guard_add_self(g, getpid());
	return 0;
}

void fg_guard_free(struct fg_guard *g)
{
	free(g->proc);
	free(g->proc2);
	free(g->modseen);
	free(g->deferred);
	g->proc = g->proc2 = NULL;
	g->modseen = NULL;
	g->deferred = NULL;
}

void fg_guard_add_self(struct fg_guard *g, pid_t tid)
{
	if (tid > 0 && g->n_self < FG_SELF_TIDS_MAX)
		g->self_tids[g->n_self++] = tid;
}

static bool is_self(const struct fg_guard *g, pid_t tid)
{
	for (unsigned i = 0; i < g->n_self; i++)
		if (g->self_tids[i] == tid)
			return true;
	return false;
}

static void event_base(struct fg_event *ev, const char *action)
{
	memset(ev, 0, sizeof(*ev));
	clock_gettime(CLOCK_REALTIME, &ev->when);
	ev->action = action;
}

void fg_guard_log_daemon(struct fg_guard *g, const char *action, const char *outcome,
			 const char *message)
{
	struct fg_event ev;

	event_base(&ev, action);
	ev.outcome = outcome;
	ev.message = message;
	ev.mode = fg_mode_name(g->pol->cfg.mode == FG_MODE_AUDIT ? FG_MODE_AUDIT : FG_MODE_ENFORCE);
	fg_logger_event(g->log, &ev);
}

/* The subtree an event's file belongs to: by path first (DESIGN 1). A
 * file reached under another name (a hard link, a bind mount of its
 * directory elsewhere) is found through the inode table: with inode marks
 * only, an event for a path outside every subtree can only come from one
 * of our file marks, and files moved out are dropped from the table. A
 * mount mark delivers every file of its mount, so there only a second
 * link vouches for a table entry that might be stale. */
static int event_subtree(const struct fg_guard *g, int fd, const char *path)
{
	struct stat st;
	int idx = fg_policy_match_path(g->pol, path);

	if (idx >= 0 || fd < 0)
		return idx;
	if (fstat(fd, &st) < 0 || (st.st_nlink < 2 && fg_fan_dev_mount_marked(g->fan, st.st_dev)))
		return -1;
	return fg_fan_inode_subtree(g->fan, st.st_dev, st.st_ino);
}

/* Turns a policy decision (or a resolution failure) into the answer and
 * the words of the log line. */
static void judge(struct fg_guard *g, unsigned subtree, int resolved, int known, struct outcome *o,
		  struct fg_decision *d)
{
	const struct fg_config *cfg = &g->pol->cfg;
	bool audit;

	if (resolved < 0) {
		memset(d, 0, sizeof(*d));
		d->rule = -1;
		d->mode = fg_policy_mode(g->pol, subtree);
		d->verdict = cfg->on_error == FG_FAIL_ALLOW ? FG_VERDICT_ALLOW : FG_VERDICT_DENY;
		o->reason = "on-error";
	} else {
		fg_policy_decide_known(g->pol, subtree, g->proc, known, d);
		o->reason = d->reason == FG_REASON_RULE		 ? "rule"
			    : d->reason == FG_REASON_TRANSACTION ? "transaction"
								 : "no-rule";
	}
	audit = d->mode == FG_MODE_AUDIT;
	o->allow = d->verdict == FG_VERDICT_ALLOW || audit;
	o->decision = d->verdict == FG_VERDICT_ALLOW ? "allow" : audit ? "would-deny" : "deny";
	o->rule = d->rule >= 0 ? cfg->writers[d->rule].name : NULL;
	o->quiet = d->quiet;
}

static void count(struct fg_guard *g, const struct fg_decision *d, int resolved)
{
	struct fg_counters *c = &g->state->c;

	if (resolved < 0)
		c->on_error++;
	if (d->verdict == FG_VERDICT_DENY)
		d->mode == FG_MODE_AUDIT ? c->would_deny++ : c->denied++;
	else if (d->reason == FG_REASON_TRANSACTION)
		c->write_allowed_tx++;
	else if (d->rule >= 0) {
		c->write_allowed_rule++;
		if ((unsigned)d->rule < g->state->n_rules)
			g->state->rule_hits[d->rule]++;
	}
}

static void remember_denial(struct fg_guard *g, const struct outcome *o, const char *path)
{
	struct fg_recent r = {0};

	clock_gettime(CLOCK_REALTIME, &r.when);
	fg_strlcpy(r.decision, o->decision, sizeof(r.decision));
	fg_strlcpy(r.path, path, sizeof(r.path));
	fg_strlcpy(r.exe, g->proc->exe, sizeof(r.exe));
	fg_strlcpy(r.rule, o->reason, sizeof(r.rule));
	r.auid = g->proc->auid;
	r.uid = g->proc->uid;
	r.pid = g->proc->pid ? g->proc->pid : g->proc->tid;
	fg_state_add_recent(g->state, &r);
}

static void tx_note(struct fg_guard *g, const struct fg_decision *d)
{
	const struct fg_proc *p = g->proc;
	pid_t root = d->tx_anc < 0 ? p->pid : p->anc[d->tx_anc].pid;
	const char *exe = d->tx_anc < 0 ? p->exe : fg_proc_anc_exe(p, (unsigned)d->tx_anc);
	struct fg_tx *free_slot = NULL;

	for (unsigned i = 0; i < FG_TX_MAX; i++) {
		struct fg_tx *t = &g->state->tx[i];
		if (t->pid == root) {
			t->files++;
			return;
		}
		if (!t->pid && !free_slot)
			free_slot = t;
	}
	if (!free_slot)
		return;
	free_slot->pidfd = (int)syscall(SYS_pidfd_open, root, 0);
	if (free_slot->pidfd < 0)
		return;
	free_slot->pid = root;
	free_slot->files = 1;
	clock_gettime(CLOCK_MONOTONIC, &free_slot->started);
	fg_strlcpy(free_slot->exe, exe, sizeof(free_slot->exe));
}

void fg_guard_tx_end(struct fg_guard *g, unsigned slot)
{
	struct fg_tx *t = &g->state->tx[slot];
	struct fg_tx_done *done = &g->state->tx_last;
	struct timespec now;
	struct fg_event ev;

	clock_gettime(CLOCK_MONOTONIC, &now);
	done->pid = t->pid;
	done->files = t->files;
	done->seconds = (double)(now.tv_sec - t->started.tv_sec) +
			(double)(now.tv_nsec - t->started.tv_nsec) / 1e9;
	fg_strlcpy(done->exe, t->exe, sizeof(done->exe));
	g->state->tx_finished++;
	event_base(&ev, "transaction-end");
	ev.outcome = "success";
	ev.reason = "transaction";
	ev.count = t->files;
	ev.tx_pid = t->pid;
	ev.tx_exe = t->exe;
	fg_logger_event(g->log, &ev);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	t->pid = 0;
}

/* ev arrives with action, path and open fields set; the rest comes from
 * the outcome and the writer. */
static void log_decision(struct fg_guard *g, struct fg_event *ev, const struct outcome *o,
			 unsigned subtree, int resolved)
{
	const struct fg_subtree_cfg *s = &g->pol->cfg.subtrees[subtree];

	ev->outcome = o->allow ? "success" : "failure";
	ev->decision = o->decision;
	ev->reason = o->reason;
	ev->mode = fg_mode_name(fg_policy_mode(g->pol, subtree));
	ev->rule = o->rule;
	ev->subtree = s->name;
	ev->key = s->key;
	ev->proc = g->proc;
	ev->proc_partial = resolved < 0;
	fg_logger_event(g->log, ev);
}

static void respond(struct fg_guard *g, int fd, bool allow)
{
	if (fg_fan_respond(g->fan, fd, allow) < 0)
		g->state->c.reply_errors++;
}

/* What the opener asked for and where. subtree -2: not located yet. */
struct intent {
	uint64_t flags;
	long nr;
	bool unknown;
	int subtree;
	char path[PATH_MAX];
};

/* Under overload the backlog is answered by on_overload without resolving
 * anyone, so that openers are not left waiting behind it. Returns true when
 * the event was answered. */
/* A denied O_CREAT has already created its file (the kernel creates before
 * it asks). The file is removed when it is certain that this open created
 * it: the notification group saw the same thread create the same inode,
 * and it is still empty with one name. Either side may be seen first. */
static bool creat_match(struct fg_creat *list, unsigned *n, pid_t tid, uint64_t dev, uint64_t ino)
{
	for (unsigned i = 0; i < *n; i++) {
		if (list[i].tid == tid && list[i].dev == dev && list[i].ino == ino) {
			list[i] = list[--*n];
			return true;
		}
	}
	return false;
}

static void creat_add(struct fg_creat *list, unsigned *n, pid_t tid, uint64_t dev, uint64_t ino)
{
	if (*n == FG_CREAT_MAX)
		memmove(list, list + 1, sizeof(*list) * --*n);
	list[(*n)++] = (struct fg_creat){.tid = tid, .dev = dev, .ino = ino};
}

static void remove_empty(struct fg_guard *g, pid_t tid, const char *path, unsigned subtree)
{
	struct fg_event ev;
	struct outcome o = {.allow = true, .decision = "deny", .reason = "no-rule"};
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 0 || st.st_nlink != 1)
		return;
	if (unlink(path) < 0)
		return;
	g->state->c.removed_empty++;
	event_base(&ev, "removed-empty");
	ev.path = path;
	ev.message = "removed the empty file left by a denied create";
	memset(g->proc, 0, offsetof(struct fg_proc, anc));
	g->proc->tid = g->proc->pid = tid;
	log_decision(g, &ev, &o, subtree, -1);
}

static void denied_creat(struct fg_guard *g, const struct fanotify_event_metadata *md,
			 const char *path, unsigned subtree)
{
	struct stat st;

	if (fstat(md->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 0)
		return;
	if (creat_match(g->created, &g->n_created, md->pid, st.st_dev, st.st_ino))
		remove_empty(g, md->pid, path, subtree);
	else
		creat_add(g->denied, &g->n_denied, md->pid, st.st_dev, st.st_ino);
}

/* The writes of a write-open we allowed are that writer's: its FAN_MODIFY
 * needs no second look, even after the writer has exited. */
static void remember_allowed(struct fg_guard *g, const struct fanotify_event_metadata *md)
{
	struct stat st;

	if (fstat(md->fd, &st) < 0)
		return;
	g->allowed[g->allowed_next] =
	    (struct fg_creat){.tid = md->pid, .dev = st.st_dev, .ino = st.st_ino};
	g->allowed_next = (g->allowed_next + 1) % FG_ALLOWED_MAX;
}

static bool was_allowed(const struct fg_guard *g, pid_t tid, const struct stat *st)
{
	for (unsigned i = 0; i < FG_ALLOWED_MAX; i++) {
		const struct fg_creat *a = &g->allowed[i];
		if (a->tid == tid && a->ino == st->st_ino && a->dev == st->st_dev)
			return true;
	}
	return false;
}

static bool anc_matters(const void *pol, const char *exe)
{
	return fg_policy_ancestor_matters(pol, exe);
}

/* A write-intent open of a protected file: resolve, decide, answer, then
 * count and log (the answer never waits for the log). */
static void open_write(struct fg_guard *g, const struct fanotify_event_metadata *md,
		       struct intent *in, uint64_t t0)
{
	struct fg_decision d;
	struct outcome o;
	struct fg_event ev;
	bool early, hit = false;
	int resolved, known;

	/* When a rule that needs no ancestry allows the writer, the verdict is
	 * allow whatever the ancestry holds: answer first, walk the ancestry
	 * after, for the reason and the log line. */
	if (g->pc) {
		const struct fg_pcache_check chk = {
		    .cgroup = g->pol->uses_cgroup,
		    .gen = g->pol->generation,
		    .anc_matters = anc_matters,
		    .ctx = g->pol,
		};
		hit = fg_pcache_lookup(g->pc, md->pid, &chk, g->proc);
	}
	resolved = hit ? 0 : fg_proc_resolve_task(md->pid, g->proc);
	known = resolved >= 0
		    ? fg_policy_first_ancestry_free(g->pol, (unsigned)in->subtree, g->proc)
		    : -2;
	early = known >= 0;
	if (early) {
		respond(g, md->fd, true);
		fg_state_latency(g->state, fg_now_ns() - t0);
	}
	if (!hit && resolved >= 0) {
		int walked = fg_proc_resolve_ancestry(g->proc);
		if (walked < 0 && !early)
			resolved = -ESRCH;
		if (walked == 0 && g->pc)
			fg_pcache_store(g->pc, g->proc);
	}
	judge(g, (unsigned)in->subtree, resolved, known, &o, &d);
	if (!early) {
		respond(g, md->fd, o.allow);
		fg_state_latency(g->state, fg_now_ns() - t0);
	}
	if (d.verdict == FG_VERDICT_ALLOW)
		remember_allowed(g, md);
	count(g, &d, resolved);
	if (d.verdict == FG_VERDICT_DENY)
		remember_denial(g, &o, in->path);
	if (d.reason == FG_REASON_TRANSACTION && resolved >= 0)
		tx_note(g, &d);
	if (o.quiet)
		return;
	event_base(&ev, "open-write");
	ev.path = in->path;
	ev.has_open = true;
	ev.open_flags = in->flags;
	ev.open_nr = in->nr;
	ev.open_syscall = fg_syscall_name(in->nr);
	if (in->unknown)
		ev.message = "write intent could not be read; unknown_intent applied";
	log_decision(g, &ev, &o, (unsigned)in->subtree, resolved);
	if (!o.allow && (in->flags & O_CREAT))
		denied_creat(g, md, in->path, (unsigned)in->subtree);
}

/* Fills in->path and in->subtree. Returns false when the file is in no
 * subtree (an event from a mount mark, or a file moved out). */
static bool locate(struct fg_guard *g, const struct fanotify_event_metadata *md, struct intent *in)
{
	if (in->subtree != -2)
		return in->subtree >= 0;
	if (fg_fan_fd_path(md->fd, in->path, sizeof(in->path)) < 0)
		in->path[0] = '\0';
	in->subtree = event_subtree(g, md->fd, in->path);
	return in->subtree >= 0;
}

static bool defer(struct fg_guard *g, const struct fanotify_event_metadata *md, uint64_t t0)
{
	if (g->n_deferred == FG_DEFER_MAX)
		return false;
	g->deferred[g->n_deferred++] = (struct fg_deferred){.md = *md, .t0 = t0};
	return true;
}

static bool overload_answer(struct fg_guard *g, const struct fanotify_event_metadata *md,
			    enum fg_intent intent, struct intent *in)
{
	enum fg_overload how = g->pol->cfg.on_overload;
	bool allow;

	if (how == FG_OVERLOAD_DENY_WRITES && intent == FG_INTENT_READ)
		return false; /* reads go the normal (cheap) way */
	/* One readlink, no identity work: outside every subtree, or in an
	 * audit-mode subtree, nothing is ever denied. */
	allow = how == FG_OVERLOAD_ALLOW || !locate(g, md, in) ||
		fg_policy_mode(g->pol, (unsigned)in->subtree) == FG_MODE_AUDIT;
	respond(g, md->fd, allow);
	g->state->c.overload++;
	return true;
}

/* Returns true when the event was deferred: its fd stays open. */
static bool open_perm(struct fg_guard *g, const struct fanotify_event_metadata *md, bool overloaded,
		      uint64_t t0, bool last_try)
{
	struct intent in = {.subtree = -2};
	enum fg_intent intent;

	if (is_self(g, md->pid)) {
		respond(g, md->fd, true);
		g->state->c.self++;
		return false;
	}
	/* With a mount mark most events are for files outside every
	 * subtree: the path (one readlink) settles those first. */
	if (g->fan->any_mount_mark && !locate(g, md, &in)) {
		respond(g, md->fd, true);
		g->state->c.outside++;
		return false;
	}
	intent = g->pc ? fg_pcache_intent(g->pc, md->pid, &in.flags, &in.nr)
		       : fg_proc_read_intent(md->pid, &in.flags, &in.nr);
	if (intent == FG_INTENT_BUSY) {
		if (!last_try && defer(g, md, t0))
			return true;
		intent = FG_INTENT_UNKNOWN;
	}
	/* openat2's flags live in the opener's memory, which another of its
	 * threads can rewrite after the kernel copied them: a "read" seen
	 * there is not evidence, so it goes to unknown_intent. */
	if (intent == FG_INTENT_READ && in.nr == OPENAT2_NR)
		intent = FG_INTENT_UNKNOWN;
	if (intent == FG_INTENT_UNKNOWN) {
		g->state->c.unknown_intent++;
		in.unknown = true;
		if (g->pol->cfg.unknown_intent == FG_UNKNOWN_READ)
			intent = FG_INTENT_READ;
	}
	if (overloaded && overload_answer(g, md, intent, &in))
		return false;
	if (intent == FG_INTENT_READ) {
		respond(g, md->fd, true);
		g->state->c.read_allowed++;
		return false;
	}
	if (!locate(g, md, &in)) {
		respond(g, md->fd, true);
		g->state->c.outside++;
		return false;
	}
	open_write(g, md, &in, t0);
	return false;
}

/* Whether (writer, file) was logged already; remembers it if not. The table
 * starts over when full: a repeat line is better than a lost one. */
static bool modify_seen(struct fg_guard *g, pid_t tid, uint64_t start, const struct stat *st)
{
	for (unsigned i = 0; i < g->n_modseen; i++) {
		const struct fg_modseen *m = &g->modseen[i];
		if (m->tid == tid && m->start == start && m->ino == st->st_ino &&
		    m->dev == st->st_dev)
			return true;
	}
	if (g->n_modseen == FG_MODSEEN_MAX)
		g->n_modseen = 0;
	g->modseen[g->n_modseen++] =
	    (struct fg_modseen){.dev = st->st_dev, .ino = st->st_ino, .start = start, .tid = tid};
	return false;
}

/* A write happened. Allowed writers were logged at open; what is logged
 * here is a change the policy would not allow: through an fd opened before
 * fanguardd started, truncate(2) by path, or a write audit mode let
 * through. Once per writer and file. */
static void modify(struct fg_guard *g, const struct fanotify_event_metadata *md, const char *path)
{
	struct fg_decision d;
	struct outcome o;
	struct fg_event ev;
	struct stat st;
	int subtree, resolved;

	g->state->c.modify++;
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	subtree = fg_policy_match_path(g->pol, path);
	if (subtree < 0 && st.st_nlink > 1)
		subtree = fg_fan_inode_subtree(g->fan, st.st_dev, st.st_ino);
	if (subtree < 0 || was_allowed(g, md->pid, &st) ||
	    modify_seen(g, md->pid, fg_proc_start_time(md->pid), &st))
		return;
	resolved = fg_proc_resolve(md->pid, g->proc);
	judge(g, (unsigned)subtree, resolved, -2, &o, &d);
	if (d.verdict == FG_VERDICT_ALLOW)
		return;
	o.decision = "detected";
	o.allow = true;
	event_base(&ev, "modify");
	ev.path = path;
	log_decision(g, &ev, &o, (unsigned)subtree, resolved);
}

static void log_overload(struct fg_guard *g, uint64_t before)
{
	char msg[160];

	if (g->state->c.overload == before)
		return;
	snprintf(msg, sizeof(msg), "%llu permission events answered by on_overload in one backlog",
		 (unsigned long long)(g->state->c.overload - before));
	fg_guard_log_daemon(g, "overload", "unknown", msg);
}

int fg_guard_perm(struct fg_guard *g)
{
	char buf[EVENT_BUF] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	uint64_t seen = 0, overload_before = g->state->c.overload;
	int r = 0;

	for (unsigned round = 0; round < 64 && !r; round++) {
		ssize_t len = read(g->fan->perm_fd, buf, sizeof(buf));
		const struct fanotify_event_metadata *md = (const void *)buf;

		/* Every exec or exit that came before these opens is queued on
		 * the connector by now: the first lookup applies them. */
		if (len > 0 && g->pc)
			fg_pcache_behind(g->pc);

		if (len < 0) {
			/* The kernel reports a file it could not open for us
			 * through read() and denies that open itself: count
			 * it and go on. Only a broken group is fatal. */
			if (errno == EBADF || errno == EINVAL || errno == EFAULT)
				r = -errno;
			else if (errno != EAGAIN && errno != EINTR) {
				g->state->c.event_errors++;
				continue;
			}
			break;
		}
		for (; FAN_EVENT_OK(md, len); md = FAN_EVENT_NEXT(md, len)) {
			if (md->vers != FANOTIFY_METADATA_VERSION) {
				r = -EPROTO;
				break;
			}
			seen++;
			if (md->mask & FAN_Q_OVERFLOW)
				g->state->c.overflow++;
			else if ((md->mask & FAN_OPEN_PERM) &&
				 open_perm(g, md, seen > FG_OVERLOAD_EVENTS, fg_now_ns(), false))
				continue;
			if (md->fd >= 0)
				close(md->fd);
		}
	}
	log_overload(g, overload_before);
	fg_guard_retry(g, false);
	return r;
}

void fg_guard_retry(struct fg_guard *g, bool force)
{
	struct fg_deferred *d = g->deferred;
	unsigned n = g->n_deferred;
	uint64_t now = fg_now_ns();

	/* Entries that defer again are appended behind the ones still
	 * being walked, so the walk covers only the first n. */
	g->n_deferred = 0;
	if (n && g->pc)
		fg_pcache_behind(g->pc);
	for (unsigned i = 0; i < n; i++) {
		struct fg_deferred e = d[i];
		bool last = force || now - e.t0 > FG_DEFER_NS;

		if (!open_perm(g, &e.md, false, e.t0, last))
			close(e.md.fd);
	}
	g->state->c.in_flight = g->n_deferred;
}

int fg_guard_timeout_ms(const struct fg_guard *g)
{
	return g->n_deferred ? 1 : -1;
}

/* The path behind a directory handle of the notification group, plus the
 * entry name when there is one. Returns 0 or -errno. O_PATH: this open
 * never reaches a permission group. */
static int fid_path(const struct fg_guard *g, const struct fanotify_event_info_fid *fid,
		    bool with_name, char *out, size_t size)
{
	struct file_handle *fh = (struct file_handle *)(void *)fid->handle;
	int32_t fsid[2];
	int mfd, dfd;
	ssize_t n;

	memcpy(fsid, &fid->fsid, sizeof(fsid));
	mfd = fg_fan_mount_fd(g->fan, fsid);
	if (mfd < 0)
		return -ENOENT;
	dfd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	n = fg_fan_fd_path(dfd, out, size);
	close(dfd);
	if (n < 0)
		return (int)n;
	if (with_name) {
		const char *name = (const char *)fh->f_handle + fh->handle_bytes;
		if (strcmp(name, ".") != 0 && (size_t)n + 1 + strlen(name) < size)
			snprintf(out + n, size - (size_t)n, "%s%s", n > 1 ? "/" : "", name);
	}
	return 0;
}

/* Paths of one notification event: the entry (new name for a rename) and,
 * for FAN_RENAME, the old one. */
static void notif_paths(const struct fg_guard *g, const struct fanotify_event_metadata *md,
			char *path, char *old, size_t size)
{
	const char *p = (const char *)md + md->metadata_len;
	const char *end = (const char *)md + md->event_len;

	path[0] = old[0] = '\0';
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_header *h = (const void *)p;
		const struct fanotify_event_info_fid *fid = (const void *)p;

		if (h->len == 0 || p + h->len > end)
			break;
		if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
		    h->info_type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME)
			fid_path(g, fid, true, path, size);
		else if (h->info_type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME)
			fid_path(g, fid, true, old, size);
		else if (h->info_type == FAN_EVENT_INFO_TYPE_DFID && !path[0])
			fid_path(g, fid, false, path, size);
		p += h->len;
	}
}

/* Logs what a notification showed, judged by the policy: an allowed writer
 * is "allow", anyone else "detected" (it already happened). */
static void notif_log(struct fg_guard *g, const struct fanotify_event_metadata *md,
		      const char *action, unsigned subtree, const char *path, const char *message)
{
	struct fg_decision d;
	struct outcome o;
	struct fg_event ev;
	int resolved = fg_proc_resolve(md->pid, g->proc);

	judge(g, subtree, resolved, -2, &o, &d);
	if (o.quiet)
		return;
	if (d.verdict == FG_VERDICT_DENY)
		o.decision = "detected";
	o.allow = true;
	event_base(&ev, action);
	ev.path = path;
	ev.message = message;
	log_decision(g, &ev, &o, subtree, resolved);
}

static int subtree_root(const struct fg_guard *g, const char *path)
{
	for (unsigned i = 0; i < g->pol->cfg.n_subtrees; i++)
		if (!strcmp(g->pol->cfg.subtrees[i].path, path))
			return (int)i;
	return -1;
}

/* A name appeared (created, renamed in, linked in) inside or at a subtree:
 * guard it at once, then say so when it did not come through an open we
 * decided. */
static void notif_entry(struct fg_guard *g, const struct fanotify_event_metadata *md,
			const char *path, const char *old)
{
	const struct fg_config *cfg = &g->pol->cfg;
	int root = subtree_root(g, path), idx = fg_policy_match_path(g->pol, path);
	bool moved = md->mask & (FAN_MOVED_TO | FAN_RENAME);
	char msg[128];
	struct stat st;
	int files;

	if (idx < 0)
		return;
	if (!moved && !(md->mask & FAN_ONDIR) && lstat(path, &st) == 0) {
		if (S_ISREG(st.st_mode) && st.st_size == 0 && st.st_nlink == 1) {
			if (creat_match(g->denied, &g->n_denied, md->pid, st.st_dev, st.st_ino)) {
				remove_empty(g, md->pid, path, (unsigned)idx);
				return;
			}
			creat_add(g->created, &g->n_created, md->pid, st.st_dev, st.st_ino);
		} else if (S_ISLNK(st.st_mode)) {
			/* sudo or sshd would follow it to a file we do not guard */
			g->state->c.symlink_in++;
			notif_log(g, md, "symlink-in", (unsigned)idx, path, NULL);
			return;
		}
	}
	if (root >= 0)
		files = fg_fan_mark_subtree(g->fan, cfg, (unsigned)root);
	else
		files = fg_fan_mark_new(g->fan, cfg, (unsigned)idx, path);
	if (moved && (!old[0] || fg_policy_match_path(g->pol, old) < 0)) {
		g->state->c.rename_in++;
		notif_log(g, md, "rename-in", (unsigned)idx, path, NULL);
	} else if (!moved && !(md->mask & FAN_ONDIR) && lstat(path, &st) == 0 &&
		   S_ISREG(st.st_mode) && st.st_nlink > 1) {
		g->state->c.link_in++;
		notif_log(g, md, "link-in", (unsigned)idx, path, NULL);
	} else if (root >= 0) {
		notif_log(g, md, "subtree-appeared", (unsigned)idx, path, NULL);
	} else if ((md->mask & FAN_ONDIR) && files > 0) {
		snprintf(msg, sizeof(msg),
			 "%d file(s) were in this new directory before it was guarded", files);
		notif_log(g, md, "unguarded-files", (unsigned)idx, path, msg);
	}
}

static void notif_one(struct fg_guard *g, const struct fanotify_event_metadata *md)
{
	char path[PATH_MAX], old[PATH_MAX];
	int idx;

	if (md->mask & FAN_Q_OVERFLOW) {
		g->state->c.overflow++;
		return;
	}
	if (is_self(g, md->pid))
		return;
	notif_paths(g, md, path, old, sizeof(path));
	if (!path[0])
		return;
	if ((md->mask & FAN_RENAME) && old[0] && fg_policy_match_path(g->pol, old) >= 0 &&
	    fg_policy_match_path(g->pol, path) < 0) {
		/* moved out: no longer ours to guard */
		fg_fan_forget(g->fan, path);
	} else if (md->mask & (FAN_CREATE | FAN_MOVED_TO | FAN_RENAME)) {
		notif_entry(g, md, path, old);
	} else if (md->mask & FAN_MODIFY) {
		modify(g, md, path);
	} else if (md->mask & FAN_ATTRIB) {
		idx = fg_policy_match_path(g->pol, path);
		if (idx < 0)
			return;
		g->state->c.attrib++;
		notif_log(g, md, "attrib", (unsigned)idx, path, NULL);
	}
}

/* Events that carry names are padded to 4 bytes, not to the 8 the metadata
 * struct wants: each is copied to an aligned place before it is read. */
static int notif_batch(struct fg_guard *g, const char *buf, size_t len)
{
	union {
		struct fanotify_event_metadata md;
		char bytes[EVENT_BUF];
	} ev;
	size_t off = 0;

	while (off + sizeof(ev.md) <= len) {
		memcpy(&ev.md, buf + off, sizeof(ev.md));
		if (ev.md.vers != FANOTIFY_METADATA_VERSION)
			return -EPROTO;
		if (ev.md.event_len < sizeof(ev.md) || ev.md.event_len > len - off)
			break;
		memcpy(ev.bytes, buf + off, ev.md.event_len);
		notif_one(g, &ev.md);
		if (ev.md.fd >= 0)
			close(ev.md.fd);
		off += ev.md.event_len;
	}
	return 0;
}

int fg_guard_notif(struct fg_guard *g)
{
	char buf[EVENT_BUF];

	if (g->fan->notif_fd < 0)
		return 0;
	for (unsigned round = 0; round < 16; round++) {
		ssize_t len = read(g->fan->notif_fd, buf, sizeof(buf));
		int r;

		if (len < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		r = notif_batch(g, buf, (size_t)len);
		if (r < 0)
			return r;
	}
	return 0;
}

void fg_guard_mounts(struct fg_guard *g)
{
	const struct fg_config *cfg = &g->pol->cfg;
	char msg[PATH_MAX + 64];

	for (unsigned i = 0; i < cfg->n_subtrees; i++) {
		if (fg_fan_subtree_same(g->fan, cfg, i))
			continue;
		g->state->c.replaced++;
		fg_fan_mark_subtree(g->fan, cfg, i);
		snprintf(msg, sizeof(msg),
			 "%s now names another directory (mount or rename); marked again",
			 cfg->subtrees[i].path);
		fg_guard_log_daemon(g, "subtree-replaced", "unknown", msg);
	}
}
