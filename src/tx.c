/* Transactions (DESIGN 4): a write allowed because the writer or an
 * ancestor runs a transaction tool is counted under that ancestor, and the
 * transaction is summarised when it exits. The table is shared: the
 * answering thread notes, the main thread polls the pidfds. */
#include "fanguard/guard.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fanguard/util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

void fg_tx_note(struct fg_guard *g, const struct fg_proc *p, const struct fg_decision *d)
{
	pid_t root = d->tx_anc < 0 ? p->pid : p->anc[d->tx_anc].pid;
	const char *exe = d->tx_anc < 0 ? p->exe : fg_proc_anc_exe(p, (unsigned)d->tx_anc);
	struct fg_tx *free_slot = NULL;
	int pidfd;

	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < FG_TX_MAX; i++) {
		struct fg_tx *t = &g->state->tx[i];
		if (t->pid == root) {
			t->files++;
			pthread_mutex_unlock(&g->lock);
			return;
		}
		if (!t->pid && !free_slot)
			free_slot = t;
	}
	pidfd = free_slot ? (int)syscall(SYS_pidfd_open, root, 0) : -1;
	if (pidfd >= 0) {
		free_slot->pidfd = pidfd;
		free_slot->pid = root;
		free_slot->files = 1;
		clock_gettime(CLOCK_MONOTONIC, &free_slot->started);
		fg_strlcpy(free_slot->exe, exe, sizeof(free_slot->exe));
	}
	pthread_mutex_unlock(&g->lock);
	if (pidfd >= 0)
		(void)!write(g->main_wake, &(uint64_t){1}, sizeof(uint64_t));
}

int fg_tx_pidfd(struct fg_guard *g, unsigned slot)
{
	int fd;

	pthread_mutex_lock(&g->lock);
	fd = g->state->tx[slot].pid ? g->state->tx[slot].pidfd : -1;
	pthread_mutex_unlock(&g->lock);
	return fd;
}

void fg_tx_end(struct fg_guard *g, unsigned slot)
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
	if (t.pidfd >= 0)
		close(t.pidfd);
	fg_guard_event_base(&ev, "transaction-end");
	ev.outcome = "success";
	ev.reason = "transaction";
	ev.count = t.files;
	ev.tx_pid = t.pid;
	ev.tx_exe = t.exe;
	fg_logger_event(g->log, &ev);
}
