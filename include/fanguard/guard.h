/* The event path: reading fanotify events, deciding, answering the kernel,
 * then counting and logging. Shared by the daemon and the tests. */
#ifndef FANGUARD_GUARD_H
#define FANGUARD_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/fanotify.h>
#include <sys/types.h>

#include "fanguard/fan.h"
#include "fanguard/log.h"
#include "fanguard/pcache.h"
#include "fanguard/policy.h"
#include "fanguard/proc.h"
#include "fanguard/state.h"

#define FG_SELF_TIDS_MAX 8
#define FG_MODSEEN_MAX	 4096

struct fg_modseen {
	uint64_t dev, ino, start;
	pid_t tid;
};

#define FG_CREAT_MAX 16
/* Events answered in one pass beyond which on_overload applies. */
#define FG_OVERLOAD_EVENTS 2048

struct fg_creat {
	uint64_t dev, ino;
	pid_t tid;
};

#define FG_DEFER_MAX   4096
#define FG_DEFER_NS    (1000 * 1000000ULL) /* then the intent counts as unknown */
#define FG_ALLOWED_MAX 1024

/* A permission event whose opener looked "running": kept, fd open, and
 * asked again after the others are answered. */
struct fg_deferred {
	struct fanotify_event_metadata md;
	uint64_t t0;
};

struct fg_guard {
	struct fg_policy *pol;		   /* not owned; swapped by reload */
	struct fg_fan *fan;		   /* not owned; swapped by reload */
	struct fg_logger *log;		   /* not owned */
	struct fg_state *state;		   /* not owned */
	struct fg_pcache *pc;		   /* not owned; NULL: every writer read from /proc */
	pid_t self_tids[FG_SELF_TIDS_MAX]; /* our threads: allowed at once */
	unsigned n_self;
	struct fg_proc *proc;	    /* scratch writer, owned */
	struct fg_proc *proc2;	    /* scratch for notification events, owned */
	struct fg_modseen *modseen; /* modifications already logged, owned */
	unsigned n_modseen;
	struct fg_creat denied[FG_CREAT_MAX]; /* denied O_CREAT opens of empty files */
	unsigned n_denied;
	struct fg_creat created[FG_CREAT_MAX]; /* creations seen by the notification group */
	unsigned n_created;
	struct fg_deferred *deferred; /* FG_DEFER_MAX, owned; calloc'd, so untouched
				       * slots cost no resident memory */
	unsigned n_deferred;
	struct fg_creat allowed[FG_ALLOWED_MAX]; /* write-opens allowed: their writes are known */
	unsigned allowed_next;
};

/* Allocates the scratch space. Returns 0 or -ENOMEM. */
int fg_guard_init(struct fg_guard *g, struct fg_policy *pol, struct fg_fan *fan,
		  struct fg_logger *log, struct fg_state *state);
void fg_guard_free(struct fg_guard *g);
void fg_guard_add_self(struct fg_guard *g, pid_t tid);

/* Reads and answers every permission event waiting on fan->perm_fd.
 * Returns 0, or -errno when the group itself failed (fatal). */
int fg_guard_perm(struct fg_guard *g);

/* Asks again about deferred events; with `force`, or past FG_DEFER_NS,
 * decides them with unknown intent. Must run before the group that issued
 * them is closed (reload, stop). */
void fg_guard_retry(struct fg_guard *g, bool force);

/* Poll timeout the loop needs for deferred events: -1 for none. */
int fg_guard_timeout_ms(const struct fg_guard *g);

/* Reads the notification group's events (renames, links, new directories,
 * attribute changes). Returns 0 or -errno. */
int fg_guard_notif(struct fg_guard *g);

/* Transaction slot `slot` has exited (its pidfd polled readable): logs the
 * summary and frees the slot. */
void fg_guard_tx_end(struct fg_guard *g, unsigned slot);

/* The mount table changed: re-marks every subtree whose path now names
 * something else (a bind mount over it, a replaced directory) and logs it. */
void fg_guard_mounts(struct fg_guard *g);

/* Logs a daemon event (start, stop, reload) with a message. */
void fg_guard_log_daemon(struct fg_guard *g, const char *action, const char *outcome,
			 const char *message);

#endif
