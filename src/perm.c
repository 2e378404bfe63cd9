/* The answering thread: reads the permission groups, decides each open and
 * answers the kernel, then counts and logs. It opens nothing by path but the
 * opener's /proc files, so nothing it does can wait on a permission event. */
#include "fanguard/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanguard/explain.h"
#include "fanguard/hold.h"
#include "fanguard/util.h"

#define EVENT_BUF  8192
#define BATCH_MAX  (EVENT_BUF / sizeof(struct fanotify_event_metadata))
#define OUTSIDE	   (-3)
#define UNPLACED   (-2)

/* What the opener asked for (read for a whole batch before anyone is
 * answered), then where: subtree is UNPLACED until located, then an index,
 * OUTSIDE, or -1 (ours, but in no subtree by path). */
struct intent {
	enum fg_intent intent;
	uint64_t flags;
	long nr;
	int subtree;
	char *path; /* PATH_MAX bytes, filled by locate */
};

static void respond(struct fg_guard *g, int group, int fd, bool allow)
{
	if (fg_fan_respond(group, fd, allow) < 0)
		FG_COUNT(g->state->c.reply_errors);
}

/* The answer to a write decision, with a kernel audit record when the
 * policy asks for one (audit_records): the rule is the 1-based number of
 * the [writer] that decided, 0 for none (fanguard explain shows it). */
static void respond_write(struct fg_guard *g, int group, int fd, bool allow, bool verdict_deny,
			  int rule)
{
	enum fg_auditrec how = g->pol->cfg.audit_records;
	bool audit = how == FG_AUDITREC_YES || (how == FG_AUDITREC_DENY && verdict_deny);
	int r = audit ? fg_fan_respond_audit(g->fan, group, fd, allow,
					     rule >= 0 ? (uint32_t)rule + 1 : 0)
		      : fg_fan_respond(group, fd, allow);

	if (r < 0)
		FG_COUNT(g->state->c.reply_errors);
}

/* A file next to a single-file subtree (policy.json's directory carries a
 * mark too, so that replacing the file is decided): not guarded. */
static bool beside_single_file(const struct fg_guard *g, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir = slash ? (size_t)(slash - path) : 0;

	for (unsigned i = 0; i < g->pol->cfg.n_subtrees && dir; i++) {
		const char *s = g->pol->cfg.subtrees[i].path, *ss = strrchr(s, '/');
		if (g->fan->st[i].is_file && ss && (size_t)(ss - s) == dir && !memcmp(s, path, dir))
			return true;
	}
	return false;
}

/* DESIGN 9: every event comes from one of our marks, so a file that cannot
 * be placed by path (unreadable, longer than PATH_MAX, another mount
 * namespace, a bind alias) is looked up by inode, and failing that is
 * decided as guarded (-1), never waved through as outside. */
static int locate(struct fg_guard *g, const struct fanotify_event_metadata *md, struct intent *in)
{
	struct stat st;
	int idx;

	if (in->subtree != UNPLACED)
		return in->subtree;
	if (fg_fan_fd_path(md->fd, in->path, PATH_MAX) < 0 || in->path[0] != '/')
		in->path[0] = '\0';
	idx = in->path[0] ? fg_policy_match_path(g->pol, in->path) : -1;
	if (idx < 0 && fstat(md->fd, &st) == 0)
		idx = fg_fan_inode_subtree(g->fan, st.st_dev, st.st_ino);
	if (idx < 0 && in->path[0] && beside_single_file(g, in->path))
		idx = OUTSIDE;
	return in->subtree = idx;
}

static void count(struct fg_guard *g, const struct fg_decision *d, int resolved)
{
	struct fg_counters *c = &g->state->c;

	if (resolved < 0)
		FG_COUNT(c->on_error);
	if (d->verdict == FG_VERDICT_DENY)
		d->mode == FG_MODE_AUDIT ? FG_COUNT(c->would_deny) : FG_COUNT(c->denied);
	else if (d->reason == FG_REASON_TRANSACTION)
		FG_COUNT(c->write_allowed_tx);
	else if (d->rule >= 0) {
		FG_COUNT(c->write_allowed_rule);
		if ((unsigned)d->rule < g->state->n_rules)
			FG_COUNT(g->state->rule_hits[d->rule]);
	}
}

/* The status ring's copy of a denial, with its explain line: memory only
 * (the policy functions are pure), one short lock. */
static void remember_denial(struct fg_guard *g, const struct fg_outcome *o,
			    const struct fg_decision *d, const struct intent *in, int resolved,
			    uint64_t seq)
{
	const struct fg_proc *p = g->perm.proc;
	struct fg_recent *r = &g->perm.recent;
	int st = in->subtree;

	*r = (struct fg_recent){
	    .auid = p->auid, .uid = p->uid, .pid = p->pid ? p->pid : p->tid, .seq = seq};
	clock_gettime(CLOCK_REALTIME, &r->when);
	fg_strlcpy(r->decision, o->decision, sizeof(r->decision));
	fg_strlcpy(r->path, in->path, sizeof(r->path));
	fg_strlcpy(r->exe, p->exe, sizeof(r->exe));
	fg_strlcpy(r->rule, o->reason, sizeof(r->rule));
	if (in->subtree >= 0)
		fg_strlcpy(r->subtree, g->pol->cfg.subtrees[in->subtree].name, sizeof(r->subtree));
	if (resolved < 0)
		snprintf(r->explain, sizeof(r->explain),
			 "%s (%s): the writer could not be read before it was identified "
			 "(exited, or /proc unreadable); on_error decided",
			 o->decision, o->reason);
	else
		fg_explain_line(g->pol, st, p, d, o->reason, r->explain, sizeof(r->explain));
	pthread_mutex_lock(&g->lock);
	fg_state_add_recent(g->state, r);
	pthread_mutex_unlock(&g->lock);
}

/* An admin allowed by her login uid: the line leads with who she is. */
static void headline_auid(const struct fg_guard *g, const struct fg_proc *p,
			  const struct fg_decision *d, struct fg_event *ev, char *buf, size_t size)
{
	if (d->verdict != FG_VERDICT_ALLOW || d->reason != FG_REASON_RULE || d->rule < 0 ||
	    !fg_policy_login_rule(g->pol, (unsigned)d->rule, p->auid))
		return;
	snprintf(buf, size, "auid %u: allowed by writer rule %s (%s)", p->auid,
		 g->pol->cfg.writers[d->rule].name, p->exe);
	ev->message = buf;
}

static bool anc_matters(const void *pol, const char *exe)
{
	return fg_policy_ancestor_matters(pol, exe);
}

/* Who is writing, from the cache or /proc. Returns >= 0 when resolved. */
static int resolve(struct fg_guard *g, pid_t tid, bool *ret_hit)
{
	const struct fg_pcache_check chk = {
	    .cgroup = g->pol->uses_cgroup,
	    .gen = g->pol->generation,
	    .anc_matters = anc_matters,
	    .ctx = g->pol,
	};
	int r;

	*ret_hit = g->pc && fg_pcache_lookup(g->pc, tid, &chk, g->perm.proc);
	r = *ret_hit ? 0 : fg_proc_resolve_task(tid, g->perm.proc);
	/* before fg_policy_first_ancestry_free, which may answer at once */
	if (r >= 0)
		fg_guard_check_cgroup(g->pol, g->perm.proc);
	return r;
}

/* An allowed write belongs to a run (rule) or a transaction: both are named
 * "<pid>-<start ticks>" of their root, so an analyst can group the lines. */
static void tag_run(struct fg_guard *g, const struct fg_proc *p, const struct fg_decision *d,
		    const struct intent *in, int resolved, struct fg_event *ev, char *buf,
		    size_t size)
{
	if (resolved < 0 || d->verdict != FG_VERDICT_ALLOW || in->subtree < 0)
		return;
	if (d->reason == FG_REASON_RULE && d->rule >= 0) {
		fg_run_note(g, p, d, (unsigned)in->subtree, in->path, buf, size);
		ev->run_id = buf;
	} else if (d->reason == FG_REASON_TRANSACTION) {
		pid_t pid = d->tx_anc < 0 ? p->pid : p->anc[d->tx_anc].pid;
		uint64_t st = d->tx_anc < 0 ? p->start_time : p->anc[d->tx_anc].start_time;
		snprintf(buf, size, "%d-%llu", (int)pid, (unsigned long long)st);
		ev->tx_id = buf;
	}
}

/* The identity step (DESIGN 12): when a rule that needs no ancestry allows
 * the writer, what that rule rests on is verified and the open answered
 * before the ancestry walk. Returns true when the open must wait for a
 * digest (*ret_ticket); *ret_known is what fg_ident_decide starts from. */
static bool verify_early(struct fg_guard *g, const struct intent *in, bool last_try, int *ret_known,
			 bool *ret_early, uint64_t *ret_ticket)
{
	bool ok;

	*ret_early = false;
	if (*ret_known < 0)
		return false;
	if (fg_ident_verify_rule(&g->perm.ident, g->pol, (unsigned)in->subtree, g->perm.proc,
				 *ret_known, last_try, &ok, ret_ticket) == FG_IDENT_WAIT)
		return true;
	*ret_early = ok;
	if (!ok)
		*ret_known = -2;
	return false;
}

/* A write-intent open of a guarded file: resolve, verify and decide,
 * answer, then count and log (the answer never waits for the log).
 * Returns true when it was not answered: a digest it needs is being
 * computed, and the open is deferred until it is (*ret_ticket). */
static bool decide_write(struct fg_guard *g, int group, const struct fanotify_event_metadata *md,
			 const struct intent *in, uint64_t t0, bool last_try, uint64_t *ret_ticket)
{
	struct fg_proc *p = g->perm.proc;
	struct fg_decision d, pre;
	struct fg_outcome o;
	struct fg_event ev;
	struct stat st;
	char run_id[32], headline[PATH_MAX + FG_NAME_MAX + 64];
	uint64_t seq;
	bool hit, early, store = false;
	int resolved = resolve(g, md->pid, &hit), known = -2;
	bool decide = resolved >= 0 && in->subtree >= 0;

	if (decide && !hit)
		known = fg_policy_first_ancestry_free(g->pol, (unsigned)in->subtree, p);
	if (verify_early(g, in, last_try, &known, &early, ret_ticket))
		return true;
	if (early)
		respond_write(g, group, md->fd, true, false, known);
	if (!hit && resolved >= 0) {
		int walked = fg_proc_resolve_ancestry(p);
		if (walked < 0 && !early)
			resolved = -ESRCH;
		store = walked == 0;
	}
	decide = decide && resolved >= 0;
	/* Answered already, it cannot wait: a digest still missing then
	 * counts as unavailable, for the log line only. */
	if (decide && fg_ident_decide(&g->perm.ident, g->pol, (unsigned)in->subtree, p, known,
				      last_try || early, &pre, ret_ticket) == FG_IDENT_WAIT)
		return true;
	if (store && g->pc)
		fg_pcache_store(g->pc, p);
	fg_guard_judge_decided(g->pol, in->subtree, p, resolved, decide ? &pre : NULL, &o, &d);
	if (!early)
		respond_write(g, group, md->fd, o.allow, d.verdict == FG_VERDICT_DENY, d.rule);
	fg_state_latency(g->state, fg_now_ns() - t0);
	/* Every decided open is noted, keyed by thread and start time: the
	 * notification thread then knows its create and its writes were
	 * logged here, and a recycled thread id matches nothing. */
	if (fstat(md->fd, &st) == 0)
		fg_guard_note_open(g, md->pid, p->start_time, st.st_dev, st.st_ino,
				   d.verdict == FG_VERDICT_ALLOW);
	count(g, &d, resolved);
	if (d.reason == FG_REASON_TRANSACTION && resolved >= 0)
		fg_tx_note(g, p, &d);
	if (o.allow && resolved >= 0)
		fg_sigwatch_note_writer(g->sigwatch, in->path, p, o.rule);
	if (o.quiet)
		return false;
	fg_guard_event_base(&ev, "open-write");
	headline_auid(g, p, &d, &ev, headline, sizeof(headline));
	tag_run(g, p, &d, in, resolved, &ev, run_id, sizeof(run_id));
	ev.path = in->path[0] ? in->path : NULL;
	ev.has_open = true;
	ev.open_flags = in->flags;
	ev.open_nr = in->nr;
	ev.open_syscall = fg_syscall_name(in->nr);
	if (in->intent == FG_INTENT_UNKNOWN)
		ev.message = "write intent could not be read; unknown_intent applied";
	else if (in->subtree < 0)
		ev.message = "a guarded file that could not be placed in a subtree by path";
	else if (d.tx_outside)
		ev.message = "a transaction tool writing outside [transaction] scope: decided by "
			     "the writer rules";
	seq = fg_guard_log_decision(g, g->pol, &ev, &o, in->subtree, p, resolved);
	if (d.verdict == FG_VERDICT_DENY)
		remember_denial(g, &o, &d, in, resolved, seq);
	if (!o.allow && (in->flags & O_CREAT))
		fg_creat_denied(g, md->fd, md->pid, in->path, in->subtree);
	return false;
}

/* decide_write, counted for the summaries (fg_tx_settle): the writer may
 * exit between the answer and the count in its run or transaction. */
static bool open_write(struct fg_guard *g, int group, const struct fanotify_event_metadata *md,
		       const struct intent *in, uint64_t t0, bool last_try, uint64_t *ret_ticket)
{
	bool deferred;

	__atomic_add_fetch(&g->writes_begun, 1, __ATOMIC_SEQ_CST);
	deferred = decide_write(g, group, md, in, t0, last_try, ret_ticket);
	__atomic_add_fetch(&g->writes_done, 1, __ATOMIC_SEQ_CST);
	return deferred;
}

/* Phase one of a pass: what each opener asked for. Nothing is answered
 * while intents are read, because every answer wakes every opener waiting
 * on the group, and a woken opener reads as "running". */
static void classify(struct fg_guard *g, const struct fanotify_event_metadata *md,
		     struct intent *in)
{
	in->subtree = UNPLACED;
	in->flags = 0;
	in->nr = -1;
	if (fg_guard_is_self(g, md->pid)) {
		in->intent = FG_INTENT_READ;
		return;
	}
	in->intent = g->pc ? fg_pcache_intent(g->pc, md->pid, &in->flags, &in->nr)
			   : fg_proc_read_intent(md->pid, &in->flags, &in->nr);
	/* openat2's read and a core dump's open are no evidence (proc.h) */
	in->intent = fg_intent_vouched(in->intent, in->nr, md->fd, md->pid);
}

static bool defer(struct fg_guard *g, int group, const struct fanotify_event_metadata *md,
		  uint64_t t0, uint64_t ticket)
{
	if (g->perm.n_deferred == FG_DEFER_MAX)
		return false;
	g->perm.deferred[g->perm.n_deferred++] =
	    (struct fg_deferred){.md = *md, .group = group, .t0 = t0, .ticket = ticket};
	return true;
}

/* Phase two: the answer. Returns true when the event was deferred (its fd
 * stays open). */
static bool act(struct fg_guard *g, int group, const struct fanotify_event_metadata *md,
		struct intent *in, bool overloaded, uint64_t t0, bool last_try)
{
	enum fg_overload how = g->pol->cfg.on_overload;
	char path[PATH_MAX];
	bool allow;

	in->path = path;
	path[0] = '\0';
	if (fg_guard_is_self(g, md->pid)) {
		respond(g, group, md->fd, true);
		FG_COUNT(g->state->c.self);
		return false;
	}
	if (in->intent == FG_INTENT_BUSY) {
		if (!last_try && defer(g, group, md, t0, 0))
			return true;
		in->intent = FG_INTENT_UNKNOWN;
	}
	if (in->intent == FG_INTENT_UNKNOWN) {
		FG_COUNT(g->state->c.unknown_intent);
		if (g->pol->cfg.unknown_intent == FG_UNKNOWN_READ)
			in->intent = FG_INTENT_READ;
	}
	if (overloaded && !(how == FG_OVERLOAD_DENY_WRITES && in->intent == FG_INTENT_READ)) {
		/* One readlink, no identity work: nothing outside the subtrees
		 * or in an audit-mode subtree is ever denied. */
		allow = how == FG_OVERLOAD_ALLOW || locate(g, md, in) == OUTSIDE ||
			fg_policy_mode(g->pol, (unsigned)in->subtree) == FG_MODE_AUDIT;
		respond(g, group, md->fd, allow);
		FG_COUNT(g->state->c.overload);
		return false;
	}
	if (in->intent == FG_INTENT_READ) {
		respond(g, group, md->fd, true);
		FG_COUNT(g->state->c.read_allowed);
		return false;
	}
	if (locate(g, md, in) == OUTSIDE) {
		respond(g, group, md->fd, true);
		FG_COUNT(g->state->c.outside);
		return false;
	}
	uint64_t ticket = 0;
	if (!open_write(g, group, md, in, t0, last_try, &ticket))
		return false;
	if (defer(g, group, md, t0, ticket))
		return true;
	/* No room to wait: decided without the digest. */
	(void)open_write(g, group, md, in, t0, true, &ticket);
	return false;
}

/* One read of a group, answered in two phases. Returns 0 to read on, 1
 * when the group is empty, or -errno when it failed. */
static int read_batch(struct fg_guard *g, int group, struct intent *in, uint64_t *seen)
{
	char buf[EVENT_BUF] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	const struct fanotify_event_metadata *m;
	unsigned n = 0, i = 0;
	uint64_t t0 = fg_now_ns();
	ssize_t len;

	/* hold.h: a kill from here until every fd is noted makes a successor
	 * sweep; from then on each number is journaled until its fd closes. */
	fg_hold_reading(g->journal, true);
	len = read(group, buf, sizeof(buf));
	fg_hold_note_batch(g->journal, buf, len);
	if (len < 0) {
		/* The kernel reports a file it could not open for us here
		 * and denies that open itself: count it, go on. */
		if (errno == EBADF || errno == EINVAL || errno == EFAULT)
			return -errno;
		if (errno == EAGAIN || errno == EINTR)
			return 1;
		FG_COUNT(g->state->c.event_errors);
		return 0;
	}
	if (g->pc)
		fg_pcache_behind(g->pc);
	for (m = (const void *)buf; FAN_EVENT_OK(m, len) && n < BATCH_MAX;
	     m = FAN_EVENT_NEXT(m, len), n++) {
		if (m->vers != FANOTIFY_METADATA_VERSION)
			return -EPROTO;
		if (m->mask & FAN_OPEN_PERM) {
			classify(g, m, &in[n]);
			fg_hold_note(g->journal, m->fd, in[n].intent);
		}
	}
	for (m = (const void *)buf; i < n; m = FAN_EVENT_NEXT(m, len), i++) {
		++*seen;
		if (m->mask & FAN_Q_OVERFLOW)
			FG_COUNT(g->state->c.overflow);
		else if ((m->mask & FAN_OPEN_PERM) &&
			 act(g, group, m, &in[i], *seen > FG_OVERLOAD_EVENTS, t0, false))
			continue;
		fg_hold_close(g->journal, m->fd);
	}
	if (n)
		g->perm.answered_ns = fg_now_ns();
	return 0;
}

/* Reads and answers what waits on one group. Returns 0, or -errno when the
 * group itself failed (fatal). */
static void log_overload(struct fg_guard *g, uint64_t before)
{
	char msg[160];
	uint64_t now = __atomic_load_n(&g->state->c.overload, __ATOMIC_RELAXED);

	if (now == before)
		return;
	snprintf(msg, sizeof(msg), "%llu permission events answered by on_overload in one backlog",
		 (unsigned long long)(now - before));
	fg_guard_log_daemon(g, "overload", "unknown", msg);
}

static int read_group(struct fg_guard *g, int group)
{
	static struct intent in[BATCH_MAX];
	uint64_t before = g->state->c.overload;
	int r = 0;

	for (uint64_t seen = 0, round = 0; round < 64 && r == 0; round++)
		r = read_batch(g, group, in, &seen);
	log_overload(g, before);
	return r < 0 ? r : 0;
}
/* Asks again about deferred events, in the same two phases; past
 * FG_DEFER_NS (or with `last`) an opener still running counts as unknown. */
static void retry(struct fg_guard *g, bool last)
{
	static struct intent in[FG_DEFER_MAX];
	struct fg_deferred *d = g->perm.deferred;
	unsigned n = g->perm.n_deferred;
	uint64_t now = fg_now_ns();

	if (!n)
		return;
	if (g->pc)
		fg_pcache_behind(g->pc);
	for (unsigned i = 0; i < n; i++)
		classify(g, &d[i].md, &in[i]);
	/* Entries that defer again are appended behind the ones being
	 * walked, which are copied out first. */
	g->perm.n_deferred = 0;
	for (unsigned i = 0; i < n; i++) {
		struct fg_deferred e = d[i];
		bool late = last || now - e.t0 > FG_DEFER_NS;

		/* Waiting for a digest: nothing to do until it is there. */
		if (e.ticket && !late && g->digests && !fg_digests_done(g->digests, e.ticket)) {
			d[g->perm.n_deferred++] = e;
			continue;
		}
		if (!act(g, e.group, &e.md, &in[i], false, e.t0, late))
			fg_hold_close(g->journal, e.md.fd);
	}
	g->perm.answered_ns = fg_now_ns();
	g->state->c.in_flight = g->perm.n_deferred;
}

/* Every answer wakes every opener waiting on the group, and a woken
 * opener reads as running until it has been scheduled and gone back to
 * sleep. Under a storm on a loaded host that is most of the time, so an
 * opener asked about right after a pass of answers can look busy on every
 * try until FG_DEFER_NS, and is then decided without its intent (a read
 * taken for a write). So deferred openers are asked about first in a
 * pass, after a pause without answers: 1 ms, 10 ms once the oldest has
 * waited a second. */
static void settle(struct fg_guard *g)
{
	const struct fg_perm *p = &g->perm;
	uint64_t oldest = UINT64_MAX, now, pause, quiet;
	bool busy = false;

	for (unsigned i = 0; i < p->n_deferred; i++) {
		busy |= !p->deferred[i].ticket;
		if (p->deferred[i].t0 < oldest)
			oldest = p->deferred[i].t0;
	}
	if (!busy)
		return;
	now = fg_now_ns();
	pause = now - oldest > 1000000000ULL ? 10000000ULL : 1000000ULL;
	quiet = now - p->answered_ns;
	if (quiet < pause) {
		struct timespec ts = {.tv_nsec = (long)(pause - quiet)};
		nanosleep(&ts, NULL);
	}
}

static unsigned deferred_on(const struct fg_guard *g, int group)
{
	unsigned n = 0;

	for (unsigned i = 0; i < g->perm.n_deferred; i++)
		n += g->perm.deferred[i].group == group;
	return n;
}

/* The replaced group goes once it has been read since the new one became
 * current and nothing of it is deferred: every open it could still see is
 * then seen by the new group too. */
static void retire(struct fg_guard *g)
{
	struct fg_perm *p = &g->perm;

	if (p->retiring < 0 || deferred_on(g, p->retiring))
		return;
	close(p->retiring);
	p->groups[1] = p->retiring = -1;
	pthread_mutex_lock(&g->lock);
	g->retired = true;
	pthread_cond_broadcast(&g->acked);
	pthread_mutex_unlock(&g->lock);
}

/* A detached group is closed by the main thread, which lets its pending
 * opens through; each is also pending on the current group. */
static void drop_deferred(struct fg_guard *g, int group)
{
	unsigned k = 0;

	for (unsigned i = 0; i < g->perm.n_deferred; i++) {
		if (g->perm.deferred[i].group == group)
			fg_hold_close(g->journal, g->perm.deferred[i].md.fd);
		else
			g->perm.deferred[k++] = g->perm.deferred[i];
	}
	g->perm.n_deferred = k;
}

/* Takes the main thread's message, if any. Returns true on FG_MSG_STOP. */
static bool take_msg(struct fg_guard *g)
{
	struct fg_perm *p = &g->perm;
	uint64_t v;
	bool stop = false;

	(void)!read(g->perm_wake, &v, sizeof(v));
	pthread_mutex_lock(&g->lock);
	if (g->perm_seq != g->msg_seq) {
		if (g->msg == FG_MSG_ATTACH) {
			p->groups[1] = g->msg_group;
		} else if (g->msg == FG_MSG_ADOPT) {
			p->retiring = p->groups[0];
			p->groups[0] = g->msg_group;
			p->groups[1] = p->retiring;
			g->pol = g->msg_pol;
			g->fan = g->msg_fan;
			fg_state_rules(g->state, g->pol->cfg.n_writers);
		} else if (g->msg == FG_MSG_DETACH) {
			p->groups[1] = -1;
			drop_deferred(g, g->msg_group);
		}
		stop = g->msg == FG_MSG_STOP;
		g->perm_seq = g->msg_seq;
		pthread_cond_broadcast(&g->acked);
	}
	pthread_mutex_unlock(&g->lock);
	return stop;
}

void *fg_perm_main(void *arg)
{
	struct fg_guard *g = arg;
	struct fg_perm *p = &g->perm;

	for (;;) {
		struct pollfd pf[FG_GROUPS_MAX + 2] = {
		    {.fd = p->groups[0], .events = POLLIN},
		    {.fd = p->groups[1], .events = POLLIN},
		    {.fd = g->pc && g->pc->on ? g->pc->nl_fd : -1, .events = POLLIN},
		    {.fd = g->perm_wake, .events = POLLIN},
		};
		bool stop = false;

		__atomic_store_n(&p->beat_ns, fg_now_ns(), __ATOMIC_RELAXED);
		if (poll(pf, FG_ARRAY_SIZE(pf), p->n_deferred ? 1 : 1000) < 0 && errno != EINTR)
			break;
		settle(g);
		retry(g, false);
		for (unsigned i = 0; i < FG_GROUPS_MAX; i++)
			if (pf[i].fd >= 0 && pf[i].revents && read_group(g, pf[i].fd) < 0)
				FG_COUNT(g->state->c.event_errors);
		if (pf[2].revents)
			fg_pcache_sync(g->pc);
		if (pf[3].revents)
			stop = take_msg(g);
		if (p->retiring >= 0)
			read_group(g, p->retiring);
		retire(g);
		if (stop)
			break;
	}
	/* One last look for deferred openers; whatever still runs is let
	 * through when the group closes, as a read would be. A group the fd
	 * store may hold does not close: everything read is answered. */
	retry(g, g->journal != NULL);
	for (unsigned i = 0; i < p->n_deferred; i++)
		fg_hold_close(g->journal, p->deferred[i].md.fd);
	p->n_deferred = 0;
	return NULL;
}
