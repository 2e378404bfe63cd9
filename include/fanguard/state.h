/* What the daemon has seen since it started: counters, per-rule hits, the
 * last denials, decision times and transactions. Written only by the event
 * thread; read by the status code on the same thread. */
#ifndef FANGUARD_STATE_H
#define FANGUARD_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define FG_RECENT_MAX	  16
#define FG_RECENT_EXPLAIN 320 /* one denial's explain line, with its NUL */
#define FG_TX_MAX      32
#define FG_RUN_MAX     16 /* runs followed at once; more are not summarised */
#define FG_RUN_PER     8  /* subtrees counted per run */
#define FG_LAT_BUCKETS 40 /* log2 buckets of nanoseconds */

struct fg_counters {
	uint64_t read_allowed; /* read-only opens, allowed at once */
	uint64_t write_allowed_rule;
	uint64_t write_allowed_tx;
	uint64_t denied;	 /* enforce mode, response FAN_DENY */
	uint64_t would_deny;	 /* audit mode */
	uint64_t on_error;	 /* writer vanished / unresolvable */
	uint64_t unknown_intent; /* intent unreadable, unknown_intent applied */
	uint64_t rename_in;
	uint64_t link_in;
	uint64_t modify;	/* FAN_MODIFY events */
	uint64_t attrib;	/* chmod/chown seen */
	uint64_t self;		/* our own opens, allowed at once */
	uint64_t outside;	/* events for files no longer in a subtree */
	uint64_t overflow;	/* kernel queue overflow events */
	uint64_t reply_errors;	/* failed writes of a response */
	uint64_t event_errors;	/* events the kernel could not hand over (it denied them) */
	uint64_t removed_empty; /* empty files left by a denied O_CREAT, removed */
	uint64_t overload;	/* permission events answered by on_overload */
	uint64_t symlink_in;	/* symlinks created inside a subtree */
	uint64_t replaced;	/* subtree paths found replaced (bind mount, rename) */
	uint64_t mark_errors;
	uint64_t in_flight; /* permission events read, not yet answered */
	uint64_t created;   /* new entries no decided open explains */
	uint64_t special;   /* fifos, sockets, devices made in a subtree */
	uint64_t deleted;   /* names removed from a subtree */
	uint64_t renamed;   /* renames within a subtree, or out of one */
	uint64_t close_write; /* writable fds closed that no decided open explains */
};

/* One recent denial, copied in by the answering thread (memory only). */
struct fg_recent {
	struct timespec when;
	uint64_t seq;	   /* its line's event.sequence; 0: folded into a
			    * `repeated` line, or lost */
	char decision[12]; /* deny / would-deny */
	char path[PATH_MAX];
	char exe[PATH_MAX];
	char subtree[64];
	uint32_t auid;
	uint32_t uid;
	pid_t pid;
	char rule[64];			 /* the logged fanguard.reason: no-rule, on-error, ... */
	char explain[FG_RECENT_EXPLAIN]; /* why, in one line (fg_explain_line) */
};

struct fg_tx {
	pid_t pid; /* root process of the transaction, 0 = free slot */
	int pidfd; /* readable when it exits; -1 once it has */
	uint64_t start_time;
	uint64_t exit_seq; /* 0: running; else fg_guard's writes_begun + 1 at its exit */
	struct timespec started;
	uint64_t files; /* write-opens allowed for it */
	char exe[PATH_MAX];
};

/* An allowed writer's run: its root process (the topmost ancestor that
 * matches the same rule, or the writer itself) and what it wrote. */
struct fg_run {
	pid_t pid; /* 0: free slot */
	int pidfd; /* readable when the root exits; -1 once it has */
	uint64_t start_time;
	uint64_t exit_seq; /* as in fg_tx */
	char id[32];
	char rule[64];
	struct timespec started;
	uint64_t files;
	bool sensitive; /* wrote under priv_esc_persist or ssh_persist */
	unsigned n_per;
	struct {
		char key[64], subtree[64];
		uint64_t files;
	} per[FG_RUN_PER];
	char first[PATH_MAX], last[PATH_MAX];
};

struct fg_tx_done {
	pid_t pid;
	uint64_t files;
	double seconds;
	char exe[PATH_MAX];
};

struct fg_state {
	struct fg_counters c;
	uint64_t *rule_hits; /* n_rules entries */
	unsigned n_rules;
	struct fg_recent recent[FG_RECENT_MAX];
	unsigned recent_next, recent_n;
	uint64_t lat[FG_LAT_BUCKETS]; /* write decisions by log2(ns) */
	uint64_t lat_max_ns;
	uint64_t lat_n;
	struct fg_tx tx[FG_TX_MAX];
	struct fg_run *runs; /* FG_RUN_MAX */
	struct fg_tx_done tx_last;
	uint64_t tx_finished;
	struct timespec started; /* CLOCK_REALTIME at start */
	uint64_t started_mono_ns;
};

/* Sets up counters for n_rules writer rules. Returns 0 or -ENOMEM. */
int fg_state_init(struct fg_state *s, unsigned n_rules);
/* Resizes per-rule hits after a reload (counts restart at 0). */
int fg_state_rules(struct fg_state *s, unsigned n_rules);
void fg_state_free(struct fg_state *s);

void fg_state_add_recent(struct fg_state *s, const struct fg_recent *r);
/* Records one write decision's time. */
void fg_state_latency(struct fg_state *s, uint64_t ns);
/* Median (upper bound of its bucket) and max, in nanoseconds. */
void fg_state_latency_summary(const struct fg_state *s, uint64_t *ret_median, uint64_t *ret_max);

#endif
