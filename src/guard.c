#include "fanguard/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fanguard/ident.h"
#include "fanguard/twins.h"
#include "fanguard/util.h"

static int new_eventfd(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

/* pid_max tasks at 200,000 a second (32,768: 164 ms; 4,194,304: 21 s). */
static uint64_t reuse_window(void)
{
	char buf[32];
	uint64_t max = 32768;
	ssize_t n = fg_read_small(AT_FDCWD, "/proc/sys/kernel/pid_max", buf, sizeof(buf) - 1);

	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (fg_parse_u64(buf, &max) < 0 || max == 0)
			max = 32768;
	}
	return max * 5000ULL;
}

int fg_guard_init(struct fg_guard *g, struct fg_policy *pol, struct fg_fan *fan,
		  struct fg_logger *log, struct fg_state *state)
{
	memset(g, 0, sizeof(*g));
	g->pol = g->notif.pol = pol;
	g->fan = g->notif.fan = fan;
	g->log = log;
	g->state = state;
	g->perm.groups[0] = fan->perm_fd;
	g->perm.groups[1] = g->perm.retiring = -1;
	g->notif.mountfd = -1;
	/* Missing: cgroup conditions never match (SECURITY.md). */
	(void)fg_unitcg_open(&g->unitcg);
	pol->unitcg = &g->unitcg;
	g->perm_wake = new_eventfd();
	g->notif_wake = new_eventfd();
	g->main_wake = new_eventfd();
	g->perm.proc = malloc(sizeof(*g->perm.proc));
	g->notif.proc = malloc(sizeof(*g->notif.proc));
	g->notif.modseen = calloc(FG_MODSEEN_MAX, sizeof(*g->notif.modseen));
	g->notif.pending = calloc(FG_PENDING_MAX, sizeof(*g->notif.pending));
	/* calloc: untouched slots stay unbacked pages */
	g->perm.deferred = calloc(FG_DEFER_MAX, sizeof(*g->perm.deferred));
	g->perm.ident.scratch = malloc(sizeof(*g->perm.ident.scratch));
	g->digests = calloc(1, sizeof(*g->digests));
	if (g->digests && fg_digests_init(g->digests, g->perm_wake) < 0) {
		free(g->digests);
		g->digests = NULL;
	}
	g->perm.ident.dg = g->digests;
	g->sigwatch = fg_sigwatch_new();
	if (!g->perm.ident.scratch || !g->digests || g->perm_wake < 0 || g->notif_wake < 0 ||
	    g->main_wake < 0 || !g->perm.proc || !g->notif.proc || !g->notif.modseen ||
	    !g->notif.pending || !g->perm.deferred || !g->sigwatch ||
	    pthread_mutex_init(&g->lock, NULL) != 0) {
		fg_guard_free(g);
		return -ENOMEM;
	}
	pthread_cond_init(&g->acked, NULL);
	g->opened.reuse_ns = reuse_window();
	fg_guard_add_self(g, getpid());
	return 0;
}

void fg_guard_free(struct fg_guard *g)
{
	int *fds[] = {&g->perm_wake, &g->notif_wake, &g->main_wake, &g->notif.mountfd};

	for (size_t i = 0; i < FG_ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	fg_unitcg_close(&g->unitcg);
	free(g->perm.proc);
	free(g->notif.proc);
	free(g->notif.modseen);
	free(g->notif.pending);
	free(g->perm.deferred);
	free(g->perm.ident.scratch);
	if (g->digests)
		fg_digests_free(g->digests);
	free(g->digests);
	g->digests = g->perm.ident.dg = NULL;
	g->perm.ident.scratch = NULL;
	fg_sigwatch_free(g->sigwatch);
	g->sigwatch = NULL;
	g->perm.proc = g->notif.proc = NULL;
	g->notif.modseen = NULL;
	g->notif.pending = NULL;
	g->perm.deferred = NULL;
}

void fg_guard_add_self(struct fg_guard *g, pid_t tid)
{
	if (tid > 0 && g->n_self < FG_SELF_TIDS_MAX)
		g->self_tids[g->n_self++] = tid;
}

bool fg_guard_is_self(const struct fg_guard *g, pid_t tid)
{
	unsigned n = __atomic_load_n(&g->n_self, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		if (g->self_tids[i] == tid)
			return true;
	return false;
}

static void wake(int fd)
{
	uint64_t one = 1;

	if (fd >= 0)
		(void)!write(fd, &one, sizeof(one));
}

/* Each thread names itself self before it can meet an event: a thread
 * started here reports its id through the mailbox's condition. */
struct starter {
	struct fg_guard *g;
	void *(*fn)(void *);
	pid_t tid;
	bool ready;
};

static void *thread_entry(void *arg)
{
	struct starter *s = arg;
	struct fg_guard *g = s->g;
	void *(*fn)(void *) = s->fn;

	pthread_mutex_lock(&g->lock);
	s->tid = gettid();
	s->ready = true;
	pthread_cond_broadcast(&g->acked);
	pthread_mutex_unlock(&g->lock);
	return fn(g);
}

static int spawn(struct fg_guard *g, pthread_t *t, void *(*fn)(void *))
{
	struct starter s = {.g = g, .fn = fn};
	int r = pthread_create(t, NULL, thread_entry, &s);

	if (r != 0)
		return -r;
	pthread_mutex_lock(&g->lock);
	while (!s.ready)
		pthread_cond_wait(&g->acked, &g->lock);
	pthread_mutex_unlock(&g->lock);
	/* Only this thread adds, and readers load n_self with acquire. */
	if (g->n_self < FG_SELF_TIDS_MAX) {
		g->self_tids[g->n_self] = s.tid;
		__atomic_store_n(&g->n_self, g->n_self + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static void *digest_main(void *arg)
{
	struct fg_guard *g = arg;

	return fg_digests_main(g->digests);
}

int fg_guard_start(struct fg_guard *g)
{
	int r = spawn(g, &g->perm_thread, fg_perm_main);

	if (r < 0)
		return r;
	/* The digest worker opens executables, which may carry our marks:
	 * it is self, so the answering thread answers its opens at once. A
	 * worker that cannot start leaves content conditions unmet. */
	g->digest_started = g->digests && spawn(g, &g->digest_thread, digest_main) == 0;
	r = spawn(g, &g->notif_thread, fg_notif_main);
	if (r < 0) {
		g->notif_thread = g->perm_thread;
		g->threads_started = true;
		fg_guard_stop(g);
		return r;
	}
	g->threads_started = true;
	return 0;
}

/* Posts one message and waits until both threads have taken it. */
static void post(struct fg_guard *g, enum fg_guard_msg msg, struct fg_policy *pol,
		 struct fg_fan *fan)
{
	unsigned seq;

	pthread_mutex_lock(&g->lock);
	g->msg = msg;
	g->msg_pol = pol;
	g->msg_fan = fan;
	g->msg_group = fan ? fan->perm_fd : -1;
	seq = ++g->msg_seq;
	pthread_mutex_unlock(&g->lock);
	wake(g->perm_wake);
	wake(g->notif_wake);
	pthread_mutex_lock(&g->lock);
	while (g->perm_seq != seq || g->notif_seq != seq)
		pthread_cond_wait(&g->acked, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

void fg_guard_stop(struct fg_guard *g)
{
	if (!g->threads_started)
		return;
	/* The worker goes first: an open it makes may wait on the answering
	 * thread, which must still be there to answer it. */
	if (g->digest_started) {
		fg_digests_stop(g->digests);
		pthread_join(g->digest_thread, NULL);
		g->digest_started = false;
	}
	post(g, FG_MSG_STOP, NULL, NULL);
	pthread_join(g->perm_thread, NULL);
	if (!pthread_equal(g->notif_thread, g->perm_thread))
		pthread_join(g->notif_thread, NULL);
	g->threads_started = false;
}

void fg_guard_attach(struct fg_guard *g, struct fg_fan *fan)
{
	post(g, FG_MSG_ATTACH, NULL, fan);
}

void fg_guard_adopt(struct fg_guard *g, struct fg_policy *pol, struct fg_fan *fan)
{
	pthread_mutex_lock(&g->lock);
	g->retired = false;
	pthread_mutex_unlock(&g->lock);
	pol->unitcg = &g->unitcg;
	post(g, FG_MSG_ADOPT, pol, fan);
}

void fg_guard_detach(struct fg_guard *g, struct fg_fan *fan)
{
	post(g, FG_MSG_DETACH, NULL, fan);
}

void fg_guard_wait_retired(struct fg_guard *g)
{
	pthread_mutex_lock(&g->lock);
	while (!g->retired)
		pthread_cond_wait(&g->acked, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

void fg_guard_event_base(struct fg_event *ev, const char *action)
{
	memset(ev, 0, sizeof(*ev));
	clock_gettime(CLOCK_REALTIME, &ev->when);
	ev->action = action;
}

void fg_guard_log_daemon(struct fg_guard *g, const char *action, const char *outcome,
			 const char *message)
{
	struct fg_event ev;

	fg_guard_event_base(&ev, action);
	ev.outcome = outcome;
	ev.message = message;
	ev.mode = fg_mode_name(fg_policy_mode(g->pol, UINT32_MAX));
	fg_logger_event(g->log, &ev);
}

static const char *reason_name(enum fg_reason r)
{
	static const char *const names[] = {[FG_REASON_RULE] = "rule",
					    [FG_REASON_TRANSACTION] = "transaction",
					    [FG_REASON_NO_RULE] = "no-rule",
					    [FG_REASON_CGROUP_UNVERIFIED] = "cgroup-unverified"};

	return (unsigned)r < FG_ARRAY_SIZE(names) && names[r] ? names[r] : "no-rule";
}

void fg_guard_check_cgroup(const struct fg_policy *pol, struct fg_proc *w)
{
	fg_unitcg_fill(pol->unitcg, pol, w);
}

/* The answer and the words for decision d. A deny that verification
 * caused (an allow lost to a forged or unverifiable identity) is an alert
 * and says why; one lost on the exe itself is decided by on_error, as a
 * writer that cannot be identified is (never for fanguard's own policy). */
static void outcome(const struct fg_policy *pol, const struct fg_proc *w, bool decided,
		    struct fg_outcome *o, struct fg_decision *d)
{
	const struct fg_config *cfg = &pol->cfg;
	bool audit;

	o->identity = false;
	if (decided && w && d->verdict == FG_VERDICT_DENY && w->finding.problem) {
		o->identity = true;
		o->reason = fg_ident_reason(w->finding.problem);
		if (fg_ident_problem_is_exe(w->finding.problem) && cfg->on_error == FG_FAIL_ALLOW &&
		    !d->alert)
			d->verdict = FG_VERDICT_ALLOW;
	}
	audit = d->mode == FG_MODE_AUDIT;
	o->allow = d->verdict == FG_VERDICT_ALLOW || audit;
	o->decision = d->verdict == FG_VERDICT_ALLOW ? "allow" : audit ? "would-deny" : "deny";
	o->rule = d->rule >= 0 ? cfg->writers[d->rule].name : NULL;
	o->alert = d->alert || o->identity;
	o->quiet = d->quiet && !o->alert;
}

static void judge(const struct fg_policy *pol, int subtree, struct fg_proc *w, int resolved,
		  int known, const struct fg_decision *pre, struct fg_outcome *o,
		  struct fg_decision *d)
{
	const struct fg_config *cfg = &pol->cfg;
	bool decided = resolved >= 0 && subtree >= 0;

	if (!decided) {
		memset(d, 0, sizeof(*d));
		d->rule = -1;
		d->mode = fg_policy_mode(pol, (unsigned)subtree);
		/* on_error = allow never opens fanguard's own policy */
		d->alert = subtree >= 0 && fg_twins_base(&pol->cfg, (unsigned)subtree) < 64 &&
			   (pol->self_mask >> fg_twins_base(&pol->cfg, (unsigned)subtree)) & 1;
		d->verdict = cfg->on_error == FG_FAIL_ALLOW && !d->alert ? FG_VERDICT_ALLOW
									 : FG_VERDICT_DENY;
		o->reason = subtree < 0 ? "unlocated" : "on-error";
	} else if (pre) {
		*d = *pre;
		o->reason = reason_name(d->reason);
	} else {
		if (known == -2)
			fg_guard_check_cgroup(pol, w);
		fg_policy_decide_known(pol, (unsigned)subtree, w, known, d);
		o->reason = reason_name(d->reason);
	}
	outcome(pol, w, decided && pre, o, d);
}

void fg_guard_judge(const struct fg_policy *pol, int subtree, struct fg_proc *w, int resolved,
		    int known, struct fg_outcome *o, struct fg_decision *d)
{
	judge(pol, subtree, w, resolved, known, NULL, o, d);
}

void fg_guard_judge_decided(const struct fg_policy *pol, int subtree, struct fg_proc *w,
			    int resolved, const struct fg_decision *pre, struct fg_outcome *o,
			    struct fg_decision *d)
{
	judge(pol, subtree, w, resolved, -2, pre, o, d);
}

uint64_t fg_guard_log_decision(struct fg_guard *g, const struct fg_policy *pol, struct fg_event *ev,
			       const struct fg_outcome *o, int subtree, const struct fg_proc *w,
			       int resolved)
{
	const struct fg_subtree_cfg *s = subtree >= 0 ? &pol->cfg.subtrees[subtree] : NULL;
	uint64_t seq;

	ev->outcome = o->allow ? "success" : "failure";
	ev->decision = o->decision;
	ev->reason = o->reason;
	ev->mode = fg_mode_name(fg_policy_mode(pol, (unsigned)subtree));
	ev->rule = o->rule;
	ev->subtree = s ? s->name : NULL;
	ev->key = s ? s->key : NULL;
	fg_guard_event_deployment(pol, subtree, ev);
	ev->proc = w;
	ev->proc_partial = resolved < 0;
	ev->alert = o->alert;
	ev->identity_alert = o->identity;
	fg_logger_event_seq(g->log, ev, &seq);
	return seq;
}

void fg_guard_event_deployment(const struct fg_policy *pol, int subtree, struct fg_event *ev)
{
	const struct fg_config *cfg = &pol->cfg;
	const struct fg_subtree_cfg *s = subtree >= 0 ? &cfg->subtrees[subtree] : NULL;
	const struct fg_deployment *d = NULL;
	char buf[PATH_MAX];

	if (s && s->twin)
		d = __atomic_load_n(&s->dep, __ATOMIC_ACQUIRE);
	else if (s && cfg->deployments.booted &&
		 fg_twins_path(fg_twins_etc(&cfg->deployments), "", s->path, buf, sizeof(buf)) == 1)
		d = cfg->deployments.booted; /* the running etc is the booted one's */
	ev->has_deployment = d != NULL;
	if (!d)
		return;
	ev->dep_id = d->id;
	ev->dep_stateroot = d->stateroot[0] ? d->stateroot : NULL;
	ev->dep_booted = d->booted;
}

void fg_guard_note_open(struct fg_guard *g, pid_t tid, uint64_t start, uint64_t dev, uint64_t ino,
			bool allowed)
{
	struct fg_opened_ring *a = &g->opened;

	pthread_mutex_lock(&g->lock);
	a->e[a->next] =
	    (struct fg_opened){.id = {.tid = tid, .start = start, .dev = dev, .ino = ino},
			       .seen_ns = fg_now_ns(),
			       .allowed = allowed};
	a->next = (a->next + 1) % FG_ALLOWED_MAX;
	pthread_mutex_unlock(&g->lock);
}

/* The newest entry for want's inode (and task id, unless it is 0), copied
 * out with its slot; the caller compares start times outside the lock.
 * Newest first: the entry that matches is nearly always the last noted. */
static bool ring_find(struct fg_guard *g, const struct fg_creat *want, bool allowed_only,
		      unsigned *ret_i, struct fg_opened *ret)
{
	const struct fg_opened_ring *r = &g->opened;
	bool found = false;

	pthread_mutex_lock(&g->lock);
	for (unsigned k = 0; k < FG_ALLOWED_MAX && !found; k++) {
		unsigned i = (r->next + FG_ALLOWED_MAX - 1 - k) % FG_ALLOWED_MAX;
		const struct fg_opened *a = &r->e[i];

		if (!a->id.ino)
			break; /* not filled yet: nothing older */
		found = a->id.ino == want->ino && a->id.dev == want->dev &&
			(!want->tid || a->id.tid == want->tid) && (a->allowed || !allowed_only);
		if (found) {
			*ret = *a;
			*ret_i = i;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return found;
}

/* Whether entry e is the task with start time `start`: the same start while
 * it lives (and e counts as seen alive now); once it is gone (start 0), the
 * same id soon enough after it was last seen alive. */
static bool same_task(struct fg_guard *g, const struct fg_opened *e, unsigned i, uint64_t start)
{
	uint64_t now = fg_now_ns();
	struct fg_opened *slot = &g->opened.e[i];

	if (!start)
		return now - e->seen_ns < g->opened.reuse_ns;
	if (e->id.start != start)
		return false;
	pthread_mutex_lock(&g->lock);
	if (slot->id.tid == e->id.tid && slot->id.ino == e->id.ino && slot->id.start == start)
		slot->seen_ns = now;
	pthread_mutex_unlock(&g->lock);
	return true;
}

bool fg_guard_was_allowed(struct fg_guard *g, pid_t tid, uint64_t dev, uint64_t ino)
{
	const struct fg_creat want = {.tid = tid, .dev = dev, .ino = ino};
	struct fg_opened e;
	unsigned i;

	/* the start time is read only when there is an entry to compare */
	return tid > 0 && ring_find(g, &want, true, &i, &e) &&
	       same_task(g, &e, i, fg_proc_start_time(tid));
}

bool fg_guard_was_decided(struct fg_guard *g, const struct fg_creat *c, bool allowed_only)
{
	struct fg_opened e;
	unsigned i;

	return ring_find(g, c, allowed_only, &i, &e) && (!c->tid || same_task(g, &e, i, c->start));
}
