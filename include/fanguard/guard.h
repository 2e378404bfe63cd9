/* The event path, split by job and by thread (DESIGN 8):
 *
 *   answering thread (perm.c)  reads the permission groups, decides, answers.
 *                               It touches no path: only /proc files of the
 *                               opener, the event's fd and in-memory tables;
 *                               and, for a writer whose cgroup a rule names,
 *                               lookups beneath the cgroup2 and unit
 *                               directories opened at start (unitcg.h),
 *                               none of them an open fanotify decides.
 *   notification thread (notif.c, creat.c, remark.c) reads the notification
 *                               group and the mount table, follows new
 *                               directories and replaced subtrees with marks,
 *                               removes what a denied create left behind.
 *   main thread (daemon.c)      signals, the status socket, transactions'
 *                               ends (tx.c) and reloads: it loads, compiles
 *                               and marks a new generation, then hands it over.
 *
 * All three are "self": an open any of them makes is answered at once, so a
 * config, log or drop-in inside a guarded subtree cannot wait on us. What they
 * share lives here, behind `lock`, which nobody holds across a path
 * operation or a blocking call. */
#ifndef FANGUARD_GUARD_H
#define FANGUARD_GUARD_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/fanotify.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fanguard/digest.h"
#include "fanguard/fan.h"
#include "fanguard/ident.h"
#include "fanguard/log.h"
#include "fanguard/pcache.h"
#include "fanguard/policy.h"
#include "fanguard/proc.h"
#include "fanguard/sigwatch.h"
#include "fanguard/state.h"
#include "fanguard/unitcg.h"

#define FG_SELF_TIDS_MAX 8
#define FG_MODSEEN_MAX	 4096
#define FG_CREAT_MAX	 16
/* Events answered in one pass beyond which on_overload applies. */
#define FG_OVERLOAD_EVENTS 2048
#define FG_DEFER_MAX	   4096
/* An opener still "running" after this long: its intent counts as unknown.
 * Deferred openers are re-read in a pass that answers nobody, so they
 * settle in microseconds; this bound is for a task that never sleeps. */
#define FG_DEFER_NS    (10 * 1000000000ULL)
#define FG_ALLOWED_MAX 1024
#define FG_GROUPS_MAX  2 /* the current permission group and one being replaced */

/* Relaxed counter increments: several threads count, status reads. */
#define FG_COUNT(x) __atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)

struct fg_modseen {
	uint64_t dev, ino, start;
	pid_t tid;
};

/* A task and an inode: tid with its start time (clock ticks since boot),
 * so that a recycled thread id never passes for the task it named. */
struct fg_creat {
	uint64_t dev, ino, start;
	pid_t tid;
};

/* A decided write-open, remembered for the notification thread: its
 * writes and the entry its O_CREAT made are explained by it. */
struct fg_opened {
	struct fg_creat id;
	uint64_t seen_ns; /* noted, or last matched to a live task */
	bool allowed;	  /* the policy allowed it (audit's would-deny did not) */
};

/* Who a denied open was, copied on the answering thread (memory only), so
 * the line about its leftover names them. */
struct fg_writer_snap {
	pid_t tid, pid, ppid;
	uint32_t uid, auid, sessionid;
	uint64_t start_time;
	uint32_t known; /* FG_PROC_* bits copied */
	char comm[FG_COMM_LEN];
	char exe[PATH_MAX];
};

/* A denied O_CREAT handed from the answering thread to the notification
 * thread, which may look at the path. */
struct fg_creat_req {
	struct fg_creat id;
	int subtree;
	struct fg_writer_snap who;
	char path[PATH_MAX];
};

/* A new entry of a subtree waiting for the permission queue to drain: it
 * is then either explained by a decided open or logged (DESIGN 11). */
enum fg_pending_kind {
	FG_PENDING_CREATED, /* a FAN_CREATE: made by tid */
	FG_PENDING_FOUND,   /* found while marking a new directory */
	FG_PENDING_MODIFY,  /* a write no allowed open explains (yet) */
	FG_PENDING_CLOSE,   /* a writable close no decided open explains (yet) */
};

/* A writer judged when its notification was read, so a writer that exits
 * before the line is written is still named and judged as it was. */
struct fg_judged {
	int resolved; /* fg_proc_resolve's result */
	bool allowed; /* an allowed writer ("allow"); else "detected" */
	bool quiet;
	char reason[16];
	char rule[FG_NAME_MAX];
};

struct fg_pending {
	struct fg_creat id; /* tid 0: unknown (found) */
	enum fg_pending_kind kind;
	int subtree;
	/* Whose rules decide the line: the creator, or the process whose
	 * directory event led to the find; judged when it was seen. */
	struct fg_writer_snap who;
	struct fg_judged judged;
	mode_t mode;	   /* at the event */
	uint64_t size;	   /* at the event */
	uint64_t seen_ns;  /* when it was seen */
	uint64_t ready_ns; /* when its creator was no longer inside an open; 0: not yet */
	char path[PATH_MAX];
};
#define FG_PENDING_MAX 512 /* more waiting: the oldest is settled at once */
/* How long a new entry waits before its creator is asked about, and at
 * most for a creator that stays inside an open (a deferred opener). */
#define FG_PENDING_GRACE_NS (20 * 1000000ULL)
#define FG_PENDING_MAX_NS   (FG_DEFER_NS + 1000000000ULL)

/* A permission event whose opener looked "running": kept, fd open, and
 * asked again after the others are answered, on the group it came from. */
struct fg_deferred {
	struct fanotify_event_metadata md;
	int group; /* the permission group's fd, for the answer */
	uint64_t t0;
	uint64_t ticket; /* a digest request it waits for (digest.h); 0: none */
};

/* What one write-intent open or one notification came to. */
struct fg_outcome {
	bool allow;	      /* the kernel's answer (audit mode allows) */
	const char *decision; /* allow / deny / would-deny / detected */
	const char *reason;
	const char *rule;
	bool quiet;
	bool alert; /* an attack on the guard itself (fg_decision.alert), or an
		     * allow lost to the writer's identity (identity) */
	bool identity; /* that allow was lost to the writer's identity (ident.c) */
};

/* The answering thread's own state. */
struct fg_perm {
	int groups[FG_GROUPS_MAX]; /* permission group fds read; -1 unused */
	int retiring;		   /* a group to close once nothing of it is deferred */
	struct fg_proc *proc;	   /* scratch writer */
	struct fg_deferred *deferred;
	unsigned n_deferred;
	uint64_t beat_ns;      /* last pass, for the watchdog */
	uint64_t answered_ns;  /* last pass that answered anything */
	struct fg_ident ident; /* verifying writers (ident.h) */
	struct fg_recent recent; /* a denial being copied into the status ring */
};

/* The notification thread's own state. */
struct fg_notif {
	struct fg_policy *pol;
	struct fg_fan *fan;
	struct fg_proc *proc;
	struct fg_modseen *modseen;
	unsigned n_modseen;
	struct fg_creat_req denied[FG_CREAT_MAX]; /* denied creates not yet seen created */
	unsigned n_denied;
	struct fg_creat created[FG_CREAT_MAX]; /* creations not yet matched to a denial */
	unsigned n_created;
	struct fg_pending *pending; /* FG_PENDING_MAX slots */
	unsigned n_pending;
	/* The drain of the permission queue: asked at drain_asked (0: not
	 * asked); drain_beat is the answering thread's first pass after it;
	 * the pass after that has read and decided everything queued before. */
	uint64_t drain_asked, drain_beat;
	int mountfd;			       /* /proc/self/mountinfo */
	uint64_t mounts_seen[256]; /* keys of the mounts below a subtree (remark.c) */
	unsigned n_mounts_seen;
};

/* A message from the main thread to the two event threads. */
enum fg_guard_msg { FG_MSG_NONE, FG_MSG_ATTACH, FG_MSG_ADOPT, FG_MSG_DETACH, FG_MSG_STOP };

struct fg_hold_journal;

struct fg_guard {
	/* Read by both event threads; written by the answering thread only
	 * when it takes a FG_MSG_ADOPT (the notification thread keeps its own
	 * copy in notif). */
	struct fg_policy *pol;
	struct fg_fan *fan;
	struct fg_logger *log;
	struct fg_state *state;
	struct fg_pcache *pc; /* answering thread only; NULL: no cache */
	/* hold.h: the fd numbers read and not yet answered, journaled for a
	 * successor when a store may hold the group; NULL: no journal. */
	struct fg_hold_journal *journal;
	struct fg_unitcg unitcg; /* for cgroup conditions; every policy points here */
	struct fg_digests *digests; /* content digests and their worker */
	pid_t self_tids[FG_SELF_TIDS_MAX];
	unsigned n_self;

	pthread_mutex_t lock; /* the fields below, state's rings and tx table */
	pthread_cond_t acked;
	/* Mailbox: one message at a time, acknowledged by each thread. */
	enum fg_guard_msg msg;
	struct fg_policy *msg_pol;
	struct fg_fan *msg_fan;
	int msg_group;
	unsigned msg_seq, perm_seq, notif_seq;
	bool retired;			      /* the replaced group has been closed */
	int perm_wake, notif_wake, main_wake; /* eventfds */
	struct fg_opened_ring {
		struct fg_opened e[FG_ALLOWED_MAX]; /* decided write-opens */
		unsigned next;
		/* A task gone before its notification is read has no start
		 * time to compare: its id is taken for the writer only this
		 * soon after the writer was last seen alive. Reusing an id
		 * takes pid_max new tasks, counted here at 200,000 a second
		 * (SECURITY.md). */
		uint64_t reuse_ns;
	} opened;
	struct fg_creat_req creatq[FG_CREAT_MAX];
	unsigned n_creatq;
	/* Write-opens the answering thread has begun and finished (atomic,
	 * outside the lock). An allowed open is answered before it is counted
	 * in its run or transaction, so the writer can exit first: a summary
	 * waits until every write-open begun before its root's exit is done. */
	uint64_t writes_begun, writes_done;

	struct fg_perm perm;
	struct fg_notif notif;
	struct fg_sigwatch *sigwatch; /* policy.json's last verdict (sigwatch.c) */
	pthread_t perm_thread, notif_thread, digest_thread;
	bool threads_started, digest_started;
};

/* ---- guard.c: set-up, the swap and what both event threads share ---- */

/* Allocates scratch space and the wake-up fds for pol/fan. Returns 0 or
 * -errno; on failure nothing is left allocated. */
int fg_guard_init(struct fg_guard *g, struct fg_policy *pol, struct fg_fan *fan,
		  struct fg_logger *log, struct fg_state *state);
void fg_guard_free(struct fg_guard *g);
void fg_guard_add_self(struct fg_guard *g, pid_t tid);
bool fg_guard_is_self(const struct fg_guard *g, pid_t tid);

/* Starts the answering and notification threads (their ids become self).
 * Returns 0 or -errno. */
int fg_guard_start(struct fg_guard *g);
/* Stops both threads. In-flight permission events are answered as they
 * stand (a deferred read stays a read); the groups are not closed here. */
void fg_guard_stop(struct fg_guard *g);

/* Reload, in three steps from the main thread, each returning when both
 * threads took it: the answering thread starts reading fan's new group
 * (attach) before it is marked, so nobody waits on a group no one reads;
 * then pol and fan become current (adopt) and the old group is drained and
 * closed by the answering thread; fg_guard_wait_retired returns once it is.
 * A reload that fails after attach detaches the new group. */
void fg_guard_attach(struct fg_guard *g, struct fg_fan *fan);
void fg_guard_adopt(struct fg_guard *g, struct fg_policy *pol, struct fg_fan *fan);
void fg_guard_detach(struct fg_guard *g, struct fg_fan *fan);
void fg_guard_wait_retired(struct fg_guard *g);

/* Checks w's cgroup for pol's cgroup conditions (fg_unitcg_fill through
 * pol->unitcg): before any decision over a freshly resolved w. */
void fg_guard_check_cgroup(const struct fg_policy *pol, struct fg_proc *w);

/* Turns a policy decision (or a resolution failure, resolved < 0) into the
 * answer and the words of the log line. subtree < 0: a file of ours that
 * could not be placed (decided as on_error). known == -2 (nothing known):
 * w's cgroup is checked here first; otherwise the caller did that when it
 * asked fg_policy_first_ancestry_free. */
void fg_guard_judge(const struct fg_policy *pol, int subtree, struct fg_proc *w, int resolved,
		    int known, struct fg_outcome *o, struct fg_decision *d);
/* The same for a decision already made (by fg_ident_decide, whose findings
 * in w may turn a lost allow into an identity alert). */
void fg_guard_judge_decided(const struct fg_policy *pol, int subtree, struct fg_proc *w,
			    int resolved, const struct fg_decision *pre, struct fg_outcome *o,
			    struct fg_decision *d);

/* Fills an event's decision fields from o and logs it. Returns the
 * line's sequence number (0: aggregated). */
uint64_t fg_guard_log_decision(struct fg_guard *g, const struct fg_policy *pol, struct fg_event *ev,
			       const struct fg_outcome *o, int subtree, const struct fg_proc *w,
			       int resolved);
void fg_guard_event_base(struct fg_event *ev, const char *action);
/* Sets ev's deployment (twins.h) for an event in subtree (-1: none). */
void fg_guard_event_deployment(const struct fg_policy *pol, int subtree, struct fg_event *ev);

/* Logs a daemon event (start, stop, reload) with a message. */
void fg_guard_log_daemon(struct fg_guard *g, const char *action, const char *outcome,
			 const char *message);

/* The decided-open ring: the answering thread notes every write-open it
 * decided, the notification thread asks: a FAN_MODIFY or close by a writer
 * we allowed needs no second look, and an entry whose create a decided
 * open made was logged already. start: the opener's start time (read by
 * fg_guard_was_allowed itself, from /proc, when there is an entry). */
void fg_guard_note_open(struct fg_guard *g, pid_t tid, uint64_t start, uint64_t dev, uint64_t ino,
			bool allowed);
bool fg_guard_was_allowed(struct fg_guard *g, pid_t tid, uint64_t dev, uint64_t ino);
/* Whether a decided open (an allowed one, with allowed_only) explains inode
 * (dev, ino): by task c->tid with start c->start (0: the task is gone, see
 * reuse_ns), or by anyone when c->tid is 0. */
bool fg_guard_was_decided(struct fg_guard *g, const struct fg_creat *c, bool allowed_only);

/* ---- perm.c: the answering thread ---- */
void *fg_perm_main(void *guard);

/* ---- notif.c: the notification thread ---- */
void *fg_notif_main(void *guard);

/* A line about a change a notification showed. */
struct fg_notice {
	const char *action;
	int subtree;
	const char *path;
	const char *old_path;  /* a rename's source */
	const char *new_path;  /* where a name that left the subtrees went */
	const char *file_type; /* fg_creat_type's word, or NULL */
	const char *message;
	bool alert; /* detected whoever did it (a special file) */
};
/* Resolves tid (0: nobody) into g->notif.proc and judges it for subtree. */
void fg_notif_judge(struct fg_guard *g, pid_t tid, int subtree, struct fg_judged *ret);
/* Logs n for writer w (NULL: no process) as judged: an allowed writer is
 * "allow", anyone else "detected" (it already happened); a quiet rule's
 * line is left out unless n is an alert. */
void fg_notif_emit(struct fg_guard *g, const struct fg_notice *n, const struct fg_proc *w,
		   const struct fg_judged *j);
/* Both, for task tid. */
void fg_notif_log(struct fg_guard *g, pid_t tid, const struct fg_notice *n);
/* Copies what is known of a writer, and makes a writer of a copy (no
 * ancestry: its lines say resolution partial). */
void fg_notif_snap(const struct fg_proc *p, struct fg_writer_snap *ret);
void fg_notif_unsnap(const struct fg_writer_snap *w, struct fg_proc *ret);

/* ---- fdscan.c: writable handles that exist already ---- */
/* Logs every writable fd and shared writable mapping, in every process but
 * ours, on a guarded inode (at start and after a reload). */
void fg_fdscan_run(struct fg_guard *g);

/* ---- creat.c: new entries, and what a denied create leaves behind ---- */
/* From the answering thread: a denied O_CREAT of an empty file (by fd);
 * the opener is copied from the answering thread's scratch writer. */
void fg_creat_denied(struct fg_guard *g, int fd, pid_t tid, const char *path, int subtree);
/* On the notification thread: takes the queued denials. */
void fg_creat_drain(struct fg_guard *g);
/* A regular file appeared at path (st as read then), made by tid, or
 * found while marking (kind FOUND, judged by `judge`): it waits until the
 * permission queue has drained, then is explained or logged. */
void fg_creat_pending(struct fg_guard *g, enum fg_pending_kind kind, pid_t tid, pid_t judge,
		      const char *path, int subtree, const struct stat *st);
/* A new entry that no open can have made (symlink, fifo, socket, device,
 * directory), or a regular file with more than one name: logged at once,
 * named with its type (found: it was found while marking). */
void fg_creat_unexplained(struct fg_guard *g, pid_t tid, const char *path, int subtree,
			  const struct stat *st, bool found);
/* Settles what waits and can be settled now (all of it with force, as at
 * stop). Returns the poll timeout to come back in (ms), -1 when nothing
 * waits. */
int fg_creat_settle(struct fg_guard *g, bool force);
/* The fg_fan_found that sends what a walk finds to fg_creat_pending, for
 * the process whose event led to the walk. */
struct fg_found_ctx {
	struct fg_guard *g;
	pid_t judge;
};
void fg_creat_found(void *ctx, unsigned idx, const char *path, const char *name,
		    const struct stat *st);
/* The word for a file type in fanguard.file_type (file, dir, symlink,
 * fifo, socket, char-device, block-device), NULL for none. */
const char *fg_creat_type(mode_t mode);

/* ---- tx.c: transactions ---- */
/* A write allowed as part of a transaction (answering thread). */
void fg_tx_note(struct fg_guard *g, const struct fg_proc *p, const struct fg_decision *d);
/* Transaction slot `slot`'s root has exited (its pidfd polled readable):
 * its summary waits for the write-opens begun until now (main thread). */
void fg_tx_exited(struct fg_guard *g, unsigned slot);
/* The pidfd of slot i, or -1 when free or exited (for the main thread's
 * poll). */
int fg_tx_pidfd(struct fg_guard *g, unsigned slot);
/* A write allowed by rule d->rule (answering thread): counts it in the
 * writer's run and puts the run's id in ret_id. */
void fg_run_note(struct fg_guard *g, const struct fg_proc *p, const struct fg_decision *d,
		 unsigned subtree, const char *path, char *ret_id, size_t size);
/* Run slot `slot`'s root exited: as fg_tx_exited. */
void fg_run_exited(struct fg_guard *g, unsigned slot);
int fg_run_pidfd(struct fg_guard *g, unsigned slot);
/* Logs transaction-end and run-end for every exited root whose writes are
 * all counted, and frees their slots (main thread). Returns true while an
 * exited root still waits, for the main thread to look again soon. */
bool fg_tx_settle(struct fg_guard *g);

/* ---- remark.c: keeping the marks where the paths are ---- */
/* The mount table changed: re-marks every subtree whose path now names
 * something else, reports mounts placed on or below a subtree, and logs
 * both. */
void fg_remark_mounts(struct fg_guard *g);
/* Marks subtree idx again (it appeared or was replaced), logging a failure
 * as one; what the walk finds is reported for `judge` (0: not reported).
 * Returns what fg_fan_mark_subtree returned. */
int fg_remark_subtree(struct fg_guard *g, unsigned idx, const char *why, pid_t judge);
/* A directory entry at `path` (and, for a rename, `old`) changed by tid:
 * every subtree whose path or chain it touches is checked afresh, marked
 * again, and the change logged (subtree-moved, subtree-appeared). verb
 * says what happened to the entry (created, deleted, renamed). Returns
 * true when it was a directory root or a directory above a root (the
 * entry then needs no line of its own); a single-file root is marked
 * again, and its own line is the caller's. */
bool fg_remark_chain(struct fg_guard *g, pid_t tid, const char *path, const char *old,
		     const char *verb);
/* Subtree idx was added (a deployment's twin): marked, or its chain
 * watched, and logged as appeared when it exists. */
void fg_remark_appeared(struct fg_guard *g, unsigned idx, pid_t tid);
/* Checks every subtree afresh (after a queue overflow or a *_SELF event
 * whose path is gone). */
void fg_remark_all(struct fg_guard *g, pid_t tid);

#endif
