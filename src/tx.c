/* Transactions (DESIGN 4): a write allowed because the writer or an
 * ancestor runs a transaction tool is counted under that ancestor, and the
 * transaction is summarised when it exits. The table is shared: the
 * answering thread notes, the main thread polls the pidfds. */
#include "fanguard/guard.h"

#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fanguard/util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* The sequence number a root that has exited by now waits for: every
 * write-open the answering thread has begun so far. */
static uint64_t exit_seq_now(struct fg_guard *g)
{
	return __atomic_load_n(&g->writes_begun, __ATOMIC_SEQ_CST) + 1;
}

/* A pidfd for a root, or -1 with *ret_exit_seq set when the root has
 * already exited: a write answered before it was counted lets its writer
 * exit first, and that write still belongs in a summary. */
static int root_pidfd(struct fg_guard *g, pid_t pid, uint64_t *ret_exit_seq)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	*ret_exit_seq = fd < 0 ? exit_seq_now(g) : 0;
	return fd;
}

static void wake_main(struct fg_guard *g)
{
	(void)!write(g->main_wake, &(uint64_t){1}, sizeof(uint64_t));
}

void fg_tx_note(struct fg_guard *g, const struct fg_proc *p, const struct fg_decision *d)
{
	pid_t root = d->tx_anc < 0 ? p->pid : p->anc[d->tx_anc].pid;
	uint64_t start = d->tx_anc < 0 ? p->start_time : p->anc[d->tx_anc].start_time;
	const char *exe = d->tx_anc < 0 ? p->exe : fg_proc_anc_exe(p, (unsigned)d->tx_anc);
	struct fg_tx *t = NULL;

	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < FG_TX_MAX; i++) {
		struct fg_tx *x = &g->state->tx[i];
		if (x->pid == root && x->start_time == start) {
			x->files++;
			pthread_mutex_unlock(&g->lock);
			return;
		}
		if (!x->pid && !t)
			t = x;
	}
	if (t) {
		*t = (struct fg_tx){.pid = root, .start_time = start, .files = 1};
		t->pidfd = root_pidfd(g, root, &t->exit_seq);
		clock_gettime(CLOCK_MONOTONIC, &t->started);
		fg_strlcpy(t->exe, exe, sizeof(t->exe));
	}
	pthread_mutex_unlock(&g->lock);
	if (t)
		wake_main(g);
}

int fg_tx_pidfd(struct fg_guard *g, unsigned slot)
{
	int fd;

	pthread_mutex_lock(&g->lock);
	fd = g->state->tx[slot].pid ? g->state->tx[slot].pidfd : -1;
	pthread_mutex_unlock(&g->lock);
	return fd;
}

/* A slot's root has exited: its pidfd goes, its summary waits (either
 * table's slot, by its fields). */
static void mark_exited(struct fg_guard *g, const pid_t *pid, uint64_t *exit_seq, int *pidfd)
{
	pthread_mutex_lock(&g->lock);
	if (*pid && !*exit_seq) {
		*exit_seq = exit_seq_now(g);
		close(*pidfd);
		*pidfd = -1;
	}
	pthread_mutex_unlock(&g->lock);
}

void fg_tx_exited(struct fg_guard *g, unsigned slot)
{
	struct fg_tx *t = &g->state->tx[slot];

	mark_exited(g, &t->pid, &t->exit_seq, &t->pidfd);
}

static void tx_end(struct fg_guard *g, unsigned slot)
{
	struct fg_tx t;
	struct fg_tx_done *done = &g->state->tx_last;
	struct timespec now;
	struct fg_event ev;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&g->lock);
	t = g->state->tx[slot];
	g->state->tx[slot].pid = 0;
	g->state->tx[slot].pidfd = -1;
	done->pid = t.pid;
	done->files = t.files;
	done->seconds = (double)(now.tv_sec - t.started.tv_sec) +
			(double)(now.tv_nsec - t.started.tv_nsec) / 1e9;
	fg_strlcpy(done->exe, t.exe, sizeof(done->exe));
	g->state->tx_finished++;
	pthread_mutex_unlock(&g->lock);
	fg_guard_event_base(&ev, "transaction-end");
	ev.outcome = "success";
	ev.reason = "transaction";
	ev.count = t.files;
	ev.tx_pid = t.pid;
	ev.tx_exe = t.exe;
	fg_logger_event(g->log, &ev);
}

/* ---- runs: the writes of one allowed writer and its like-minded
 * descendants, summarised when the root exits ---- */

static bool sensitive_key(const char *key)
{
	return !strcmp(key, "priv_esc_persist") || !strcmp(key, "ssh_persist");
}

static void run_count(struct fg_run *r, const struct fg_subtree_cfg *s, const char *path)
{
	unsigned i = 0;

	r->files++;
	r->sensitive |= sensitive_key(s->key);
	if (r->files == 1)
		fg_strlcpy(r->first, path, sizeof(r->first));
	fg_strlcpy(r->last, path, sizeof(r->last));
	while (i < r->n_per && strcmp(r->per[i].subtree, s->name))
		i++;
	if (i == r->n_per && r->n_per < FG_RUN_PER) {
		fg_strlcpy(r->per[i].key, s->key, sizeof(r->per[i].key));
		fg_strlcpy(r->per[i].subtree, s->name, sizeof(r->per[i].subtree));
		r->n_per++;
	}
	if (i < r->n_per)
		r->per[i].files++;
}

/* A free slot for a new run rooted at pid, its pidfd open (or already
 * exited, see root_pidfd). */
static struct fg_run *run_open(struct fg_guard *g, pid_t pid, uint64_t start, const char *rule)
{
	struct fg_run *r = NULL;

	for (unsigned i = 0; i < FG_RUN_MAX && !r; i++)
		if (!g->state->runs[i].pid)
			r = &g->state->runs[i];
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->pidfd = root_pidfd(g, pid, &r->exit_seq);
	r->start_time = start;
	fg_strlcpy(r->rule, rule, sizeof(r->rule));
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	wake_main(g);
	return r;
}

void fg_run_note(struct fg_guard *g, const struct fg_proc *p, const struct fg_decision *d,
		 unsigned subtree, const char *path, char *ret_id, size_t size)
{
	const struct fg_config *cfg = &g->pol->cfg;
	int a = fg_policy_run_root(g->pol, (unsigned)d->rule, p);
	pid_t pid = a < 0 ? p->pid : p->anc[a].pid;
	uint64_t start = a < 0 ? p->start_time : p->anc[a].start_time;
	struct fg_run *r = NULL;

	snprintf(ret_id, size, "%d-%llu", (int)pid, (unsigned long long)start);
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < FG_RUN_MAX && !r; i++)
		if (g->state->runs[i].pid == pid && g->state->runs[i].start_time == start)
			r = &g->state->runs[i];
	if (!r)
		r = run_open(g, pid, start, cfg->writers[d->rule].name);
	if (r) {
		fg_strlcpy(r->id, ret_id, sizeof(r->id));
		run_count(r, &cfg->subtrees[subtree], path);
	}
	pthread_mutex_unlock(&g->lock);
}

int fg_run_pidfd(struct fg_guard *g, unsigned slot)
{
	int fd;

	pthread_mutex_lock(&g->lock);
	fd = g->state->runs[slot].pid ? g->state->runs[slot].pidfd : -1;
	pthread_mutex_unlock(&g->lock);
	return fd;
}

void fg_run_exited(struct fg_guard *g, unsigned slot)
{
	struct fg_run *r = &g->state->runs[slot];

	mark_exited(g, &r->pid, &r->exit_seq, &r->pidfd);
}

static void run_end(struct fg_guard *g, unsigned slot)
{
	static struct fg_run r; /* main thread only */
	struct fg_run_end end = {0};
	struct timespec now;
	struct fg_event ev;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&g->lock);
	r = g->state->runs[slot];
	g->state->runs[slot].pid = 0;
	g->state->runs[slot].pidfd = -1;
	pthread_mutex_unlock(&g->lock);
	end = (struct fg_run_end){
	    .id = r.id,
	    .rule = r.rule,
	    .files = r.files,
	    .duration_ms = (uint64_t)((now.tv_sec - r.started.tv_sec) * 1000 +
				      (now.tv_nsec - r.started.tv_nsec) / 1000000),
	    .first = r.first,
	    .last = r.last,
	    .lone_sensitive = r.files <= 2 && r.sensitive,
	    .n_per = r.n_per,
	};
	for (unsigned i = 0; i < r.n_per; i++) {
		end.per[i].key = r.per[i].key;
		end.per[i].subtree = r.per[i].subtree;
		end.per[i].files = r.per[i].files;
	}
	fg_guard_event_base(&ev, "run-end");
	ev.outcome = "success";
	ev.rule = r.rule;
	ev.run_end = &end;
	if (end.lone_sensitive)
		ev.message = "a run that wrote only one or two files, one of them a privilege or "
			     "ssh drop-in: worth a look";
	fg_logger_event(g->log, &ev);
}

bool fg_tx_settle(struct fg_guard *g)
{
	_Static_assert(FG_TX_MAX <= 64 && FG_RUN_MAX <= 64, "a bit per slot");
	uint64_t done = __atomic_load_n(&g->writes_done, __ATOMIC_SEQ_CST) + 1;
	uint64_t tx_ready = 0, run_ready = 0;
	bool waiting = false;

	/* one look at both tables; the summaries are written outside the lock */
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < FG_TX_MAX; i++) {
		const struct fg_tx *t = &g->state->tx[i];
		if (t->pid && t->exit_seq && done >= t->exit_seq)
			tx_ready |= 1ULL << i;
		else
			waiting |= t->pid && t->exit_seq;
	}
	for (unsigned i = 0; i < FG_RUN_MAX; i++) {
		const struct fg_run *r = &g->state->runs[i];
		if (r->pid && r->exit_seq && done >= r->exit_seq)
			run_ready |= 1ULL << i;
		else
			waiting |= r->pid && r->exit_seq;
	}
	pthread_mutex_unlock(&g->lock);
	for (unsigned i = 0; i < FG_TX_MAX; i++)
		if (tx_ready & (1ULL << i))
			tx_end(g, i);
	for (unsigned i = 0; i < FG_RUN_MAX; i++)
		if (run_ready & (1ULL << i))
			run_end(g, i);
	return waiting;
}
