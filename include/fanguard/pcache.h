/* The writer cache: a writer's identity and ancestry read from /proc once
 * per process instead of once per open, and the /proc/TID/syscall file of
 * every opener kept open for its next event.
 *
 * What makes it sound is the kernel's process events connector: every exec,
 * exit, uid or comm change of a cached task or of any of its ancestors drops
 * the entry, and the socket is drained before each batch of permission
 * events is decided, so an exec that happened before an open is always seen
 * before that open is, and a ptrace attach drops the entry too (a traced
 * writer is verified again, ident.c). The login uid and the cgroup change
 * without any event: the session id (which every loginuid write changes)
 * and, when the policy reads it, the cgroup are re-read through kept-open
 * files on a hit, and a change is a miss. What identity verification found
 * is kept with the entry as found; the maps and environment it read are not
 * re-read on a hit (see SECURITY.md, "The writer cache").
 * So is the exe of each ancestor the policy looks at: an exec shows in
 * /proc long before its event is sent.
 * Without the connector (no CAP_NET_ADMIN before Linux 6.6, another network
 * namespace, a failed self-test) the cache stays off and every event is
 * resolved from /proc. */
#ifndef FANGUARD_PCACHE_H
#define FANGUARD_PCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fanguard/proc.h"

#define FG_PCACHE_MAX	  128  /* entries; three fds each at most */
#define FG_PCACHE_FILTER  1024 /* slots of the pid filter (a power of two) */
#define FG_PCACHE_TRACED  1024 /* processes remembered as traced since their exec */
#define FG_PCACHE_PREEXEC 1024 /* children remembered as older than their parent's image */
#define FG_PCACHE_FORKS	  4096 /* the latest forks, with their time */
#define FG_PCACHE_EXECS	  64   /* execs of one drain, looked at once it is drained */
#define FG_PCACHE_DRAIN	  4096 /* messages per drain; more and the cache is flushed */

/* One process event, as the connector reported it. */
struct fg_cn_event {
	uint32_t what; /* PROC_EVENT_* */
	pid_t pid;     /* the task */
	pid_t tgid;    /* its process */
	uint64_t ns;   /* when (CLOCK_MONOTONIC); 0: not known */
	pid_t child;   /* PROC_EVENT_FORK: the new process (0: a new thread) */
};

struct fg_pcache_id; /* a packed fg_proc, private to pcache.c */

/* What a hit must re-check, from the caller's policy. */
struct fg_pcache_check {
	bool cgroup;  /* a rule names a cgroup: re-read it */
	uint64_t gen; /* the policy's generation, never 0: watch lists are redone when it moves */
	/* Whether the policy looks at an ancestor running exe (transaction,
	 * `ancestor` and `parent` globs). Such ancestors' exe is read again on
	 * every hit: an exec changes /proc/PID/exe well before the kernel
	 * sends its exec event, and a tracer can hold it there. */
	bool (*anc_matters)(const void *ctx, const char *exe);
	const void *ctx;
};

struct fg_pcache_entry {
	pid_t tid;		 /* 0: free */
	pid_t tgid;		 /* with an identity; else 0 */
	int sc_fd;		 /* /proc/TID/syscall of that task */
	int sid_fd, cg_fd;	 /* sessionid, cgroup: with an identity; else -1 */
	uint64_t used;		 /* clock of the last use, for eviction */
	struct fg_pcache_id *id; /* NULL: only the syscall file is kept */
	uint32_t *watch;	 /* ancestors (indices) whose exe a hit re-reads */
	unsigned n_watch;
	uint64_t watch_gen; /* policy generation of the watch list; 0: none yet */
};

struct fg_pcache {
	bool on;	 /* false: every call falls through to /proc */
	bool behind;	 /* events were read since the last drain: drain before a lookup */
	int nl_fd;	 /* connector socket, -1 without one */
	unsigned cap;	 /* entries in use at most (<= FG_PCACHE_MAX) */
	uint64_t clock;	 /* bumped per use */
	const char *off; /* why the cache is off (static string), or NULL */
	struct fg_pcache_entry e[FG_PCACHE_MAX];
	uint32_t filter[FG_PCACHE_FILTER]; /* per pid slot: entries naming it */
	/* Thread groups a tracer attached to or detached from since their
	 * last exec (a ring; 0: free): a tracer that set a writer up and
	 * detached before its open leaves TracerPid 0 (see ident.c). */
	pid_t traced[FG_PCACHE_TRACED];
	unsigned traced_next;
	uint64_t traced_evicted; /* live entries the ring overwrote */
	/* Children a process had when it exec'd (a ring; parent 0: free):
	 * forked by the image it ran before, not by the one it runs now. */
	struct {
		pid_t parent, child;
	} preexec[FG_PCACHE_PREEXEC];
	unsigned preexec_next;
	uint64_t preexec_evicted;
	struct {
		pid_t child;
		uint64_t ns;
	} forks[FG_PCACHE_FORKS];
	unsigned forks_next;
	struct fg_cn_event execs[FG_PCACHE_EXECS];
	unsigned n_execs;
	/* for `fanguard status` */
	uint64_t hits, misses, dropped, flushes, messages;
};

/* Sets up an empty, enabled cache of `cap` entries that nothing keeps in
 * step with the kernel: the daemon follows it with fg_pcache_connect; the
 * unit tests feed it events through fg_pcache_event. */
void fg_pcache_init(struct fg_pcache *c, unsigned cap);

/* Subscribes to the process events connector (before Linux 6.6 that needs
 * CAP_NET_ADMIN, so it runs before the capabilities are dropped; forks one
 * child for the self-test).
 * Returns 0, or -errno with the cache switched off and c->off saying why. */
int fg_pcache_connect(struct fg_pcache *c);

/* Switches the cache off (why: a static string), dropping every entry. */
void fg_pcache_disable(struct fg_pcache *c, const char *why);

/* Closes every kept file and the socket. */
void fg_pcache_close(struct fg_pcache *c);

/* Reads every waiting connector message and drops what they invalidate.
 * Past FG_PCACHE_DRAIN messages, or when the socket overflowed, every
 * identity is dropped. */
void fg_pcache_sync(struct fg_pcache *c);

/* Whether a tracer attached to thread group tgid (or detached from it)
 * since its last exec, as far as the connector told: false when the cache
 * is off. */
bool fg_pcache_was_traced(const struct fg_pcache *c, pid_t tgid);

/* Whether child was already a child of parent when parent last exec'd
 * (its image then did not fork it), as far as the connector told: false
 * when the cache is off. */
bool fg_pcache_forked_before_exec(const struct fg_pcache *c, pid_t parent, pid_t child);

/* Says a batch of permission events was just read: the next lookup drains
 * the connector first, so that every exec or exit that came before those
 * opens is applied before an identity is used for them. A batch of reads
 * alone never pays for the drain. */
void fg_pcache_behind(struct fg_pcache *c);

/* Applies one event: drops every identity of that task, of its process,
 * or with that process among its ancestors, and the kept file of an exited
 * task. */
void fg_pcache_event(struct fg_pcache *c, const struct fg_cn_event *ev);

/* fg_proc_read_intent through the opener's kept /proc/TID/syscall, opening
 * (and keeping) it on first use. */
enum fg_intent fg_pcache_intent(struct fg_pcache *c, pid_t tid, uint64_t *ret_flags, long *ret_nr);

/* A hit fills *ret as fg_proc_resolve would have and returns true. Call
 * only after fg_pcache_intent for the same event (which proved the kept
 * files still name the task). The session id is re-read on every hit, the
 * cgroup only with chk->cgroup (a rule names one or a login uid; otherwise
 * a writer moved to another cgroup keeps its old one in the log until its
 * entry goes), and the exe of every ancestor chk->anc_matters names or
 * that a decision rested on (verified). Any difference is a miss. */
bool fg_pcache_lookup(struct fg_pcache *c, pid_t tid, const struct fg_pcache_check *chk,
		      struct fg_proc *ret);

/* Keeps a complete resolution of p->tid (not a truncated one) for the next
 * event of that task. */
void fg_pcache_store(struct fg_pcache *c, const struct fg_proc *p);

/* Entries holding an identity. */
unsigned fg_pcache_count(const struct fg_pcache *c);

/* Parses a connector datagram into at most max events. Returns how many;
 * malformed or foreign messages are skipped. Pure. */
size_t fg_cn_parse(const void *buf, size_t len, struct fg_cn_event *ret, size_t max);

#endif
