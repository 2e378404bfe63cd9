/* The events fanguard logs and the logger that ships them. A caller hands
 * an event to fg_logger_event, which (under the logger's lock, without
 * blocking on the sink) decides whether it is a repeat to aggregate, gives
 * it its sequence number, formats it within max_line and queues it in a
 * bounded ring. A logger thread drains the ring to the sink, reports lines
 * the ring had to drop, closes aggregation windows and emits heartbeats.
 * Formatting is in logfmt.c, the schema's tables in logschema.c, repeat
 * aggregation in logagg.c. */
#ifndef FANGUARD_LOG_H
#define FANGUARD_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fanguard/config.h"
#include "fanguard/proc.h"
#include "fanguard/state.h"

#define FG_LINE_CAP    (64 * 1024)  /* the largest max_line */
#define FG_RECORD_CAP  (96 * 1024)  /* one ring record: a line, or a journal record */
#define FG_RING_CAP    (256 * 1024) /* bytes waiting for the sink */
#define FG_LOST_RANGES 16	    /* missing sequence ranges named in one report */

struct fg_finding;
struct fg_sigpolicy_verdict;

/* A heartbeat's view of the daemon, filled by the daemon's callback. */
struct fg_heartbeat {
	const char *mode;      /* enforce / audit, a static string */
	uint64_t generation;   /* policy generation */
	uint64_t marks;	       /* fanotify marks placed */
	const char *sigpolicy; /* signature-policy verdict, or NULL when unknown */
	struct fg_counters c;  /* cumulative; the logger reports what changed */
	bool have_counters;    /* c is filled */
};

/* Filled by the daemon for every heartbeat, on the logger thread. Reads
 * the daemon's counters without a lock: a heartbeat may be off by the
 * events of the moment it was taken, never more. Must not log. */
typedef void (*fg_heartbeat_fn)(void *ctx, struct fg_heartbeat *ret);

/* The summary of lines the ring dropped: sequence numbers that will never
 * arrive. */
struct fg_lost {
	uint64_t count;
	uint64_t first, last; /* lowest and highest missing sequence number */
	unsigned n;	      /* ranges kept; more are counted in count only */
	bool more;	      /* there were more ranges than FG_LOST_RANGES */
	struct {
		uint64_t from, to;
	} r[FG_LOST_RANGES];
};

/* What the logger adds to a heartbeat line: its own counts since the last. */
struct fg_hbline {
	const struct fg_heartbeat *hb;
	const struct fg_counters *delta; /* NULL without counters */
	uint64_t interval_s;
	uint64_t lines, dropped, aggregated; /* since the previous heartbeat */
	uint64_t last_sequence;		     /* of the line before this one, 0 if none */
};

/* The repeats one `repeated` line stands for. */
struct fg_repeat {
	const char *action; /* the repeated event's own action */
	uint64_t count;	    /* events left out */
	const char *last_path;
	struct timespec first, last; /* when the first and last left out happened */
};

/* What one run wrote, for its run-end line (DESIGN 15: a run is the writes
 * of one allowed writer and its descendants that match the same rule). */
#define FG_RUN_KEYS 8
struct fg_run_end {
	const char *id;	  /* "<pid>-<start ticks>" of the run's root */
	const char *rule; /* the writer rule */
	uint64_t files;	  /* write-opens allowed in the run */
	uint64_t duration_ms;
	const char *first, *last; /* the first and last file written */
	bool lone_sensitive;	  /* 1 or 2 files, one under priv_esc_persist or ssh_persist */
	unsigned n_per;
	struct {
		const char *key, *subtree;
		uint64_t files;
	} per[FG_RUN_KEYS];
};

/* One thing worth a line. Strings may be NULL (field omitted). Everything a
 * pointer reaches is only read during fg_logger_event. */
struct fg_event {
	struct timespec when;	    /* CLOCK_REALTIME */
	const char *action;	    /* open-write, modify, rename-in, link-in,
				     * transaction-end, daemon-start, ... */
	const char *outcome;	    /* success, failure, unknown */
	const char *decision;	    /* allow, deny, would-deny, detected; NULL: none */
	const char *reason;	    /* rule, transaction, no-rule, on-error,
				     * unknown-intent, overload, self */
	const char *mode;	    /* enforce / audit */
	const char *rule;	    /* writer rule name */
	const char *subtree;	    /* subtree name */
	const char *key;	    /* subtree key */
	const char *path;	    /* file path (raw bytes) */
	const char *message;	    /* free text for daemon events */
	const struct fg_proc *proc; /* the writer, or NULL; proc->known says
				     * which of its fields were read */
	bool proc_partial;	    /* resolution failed part way */
	bool alert;		    /* an attack on the guard itself: event.kind
				     * alert, however it was decided */
	bool identity_alert;	    /* denied for a forged or unverifiable identity:
				     * proc->finding says what was found */
	bool has_open;		    /* fanguard.open.* present */
	uint64_t open_flags;
	const char *open_syscall; /* "openat", ... or NULL if unknown */
	long open_nr;
	uint64_t count; /* transaction-end: files written; log-dropped: lines */
	pid_t tx_pid;	/* transaction root pid, 0 if none */
	const char *tx_exe;

	/* Added for SIEM use; zero/NULL leaves them out. */
	const char *old_path;		   /* a rename's source name */
	const char *new_path;		   /* where a name that left the subtrees went */
	const char *file_type;		   /* file, dir, symlink, fifo, socket, char-device,
					    * block-device: fanguard.file_type, and ECS
					    * file.type for the first three */
	uint64_t sequence;		   /* set by the logger; callers leave it 0 */
	const struct fg_repeat *repeat;	   /* action "repeated" */
	const struct fg_lost *lost;	   /* action "log-dropped" */
	const struct fg_hbline *heartbeat; /* action "heartbeat" */
	const char *run_id;		   /* fanguard.run.id of an allowed write */
	const char *tx_id;		   /* fanguard.transaction.id: "<pid>-<start ticks>" */
	const struct fg_run_end *run_end;  /* action "run-end" */

	/* The deployment whose etc the path is in (twins.h): a twin's, or the
	 * booted one for the running etc. has_deployment: the three are set. */
	bool has_deployment, dep_booted;
	const char *dep_id, *dep_stateroot; /* stateroot NULL: not the ostree layout */

	/* `fanguard deployments` and the signature policy (logdeploy.c). */
	const struct fg_finding *finding;	      /* fanguard.deployment.* */
	const struct fg_sigpolicy_verdict *sigpolicy; /* fanguard.sigpolicy.* */
	const char *sigpolicy_changes;		      /* the scopes that changed */
	const char *sigpolicy_trigger;		      /* start, reload, write, rename */
};

/* Who and where a line comes from: read once when the logger opens (the
 * machine id, the boot id and the boot time do not change while we run). */
struct fg_loghost {
	char name[256];	   /* host.name (gethostname); "" unknown */
	char id[64];	   /* host.id (/etc/machine-id); "" unknown */
	char boot_id[40];  /* host.boot.id; "" unknown */
	char instance[80]; /* fanguard.instance: boot id and start time */
	uint64_t btime;	   /* boot time, seconds since the epoch; 0 unknown */
	long clk_tck;	   /* sysconf(_SC_CLK_TCK) */
};

/* The logger's settings, from the [fanguard] section. */
struct fg_logopts {
	size_t max_line;		/* bytes per line, newline included */
	unsigned repeat_threshold;	/* full lines per writer and window; 0: off */
	uint64_t repeat_window_ns;	/* aggregation window */
	uint64_t heartbeat_interval_ns; /* 0: no heartbeat */
};

struct fg_logagg;

struct fg_logger {
	enum fg_logsink sink;
	enum fg_logformat fmt;
	struct fg_logopts opts;
	struct fg_loghost host;
	int fd; /* stderr or the file; -1 for syslog/journal */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC, for the timers */
	bool stop;
	bool started;
	pid_t tid;  /* the logger thread, so its opens are allowed */
	char *ring; /* FG_RING_CAP bytes of whole records */
	size_t head, used;
	char *scratch; /* FG_RECORD_CAP: events are packed (or lines formatted)
			* here, under lock */
	char *pk;		/* FG_RECORD_CAP: the logger thread's copy of a packed record */
	struct fg_proc *uproc;	/* the logger thread's unpacked writer */
	struct fg_logagg *agg;
	uint64_t seq;	     /* last sequence number given out */
	uint64_t written;    /* lines handed to the sink, summaries included */
	uint64_t dropped;    /* lines lost since start */
	uint64_t aggregated; /* repeats folded into `repeated` lines */
	uint64_t write_errors;
	struct fg_lost lost; /* dropped and not yet reported */
	/* heartbeat */
	fg_heartbeat_fn hb_fn;
	void *hb_ctx;
	uint64_t hb_next_ns;
	struct fg_counters hb_prev;
	bool hb_have_prev;
	uint64_t hb_seq, hb_written, hb_dropped, hb_aggregated;
};

/* The defaults, and the settings of a loaded config. */
void fg_logopts_default(struct fg_logopts *ret);
void fg_logopts_from_config(const struct fg_config *cfg, struct fg_logopts *ret);

/* Opens the sink (the file for file:, syslog's socket), reads the host's
 * identity and starts the logger thread. Returns 0 or -errno; on failure
 * nothing is left open. */
int fg_logger_open(struct fg_logger *lg, const struct fg_config *cfg);

/* Like fg_logger_open for a sink that is already an fd (stderr, a file, a
 * pipe), with the default settings or with opts: takes ownership of fd
 * (closed by fg_logger_close, or here on failure; fd 2 is never closed).
 * Returns 0 or -errno. */
int fg_logger_open_fd(struct fg_logger *lg, int fd, enum fg_logformat fmt);
int fg_logger_open_fd_opts(struct fg_logger *lg, int fd, enum fg_logformat fmt,
			   const struct fg_logopts *opts);

/* Queues one preformatted line as it is (no sequence number). Returns 0,
 * or -ENOBUFS when it was dropped (counted; also lines over FG_RECORD_CAP),
 * or -EINVAL when the logger is not open. */
int fg_logger_submit(struct fg_logger *lg, const char *line, size_t len);

/* Logs ev: aggregated into a later `repeated` line, or numbered, formatted
 * and queued. Returns 0 (also when aggregated), -ENOBUFS when the ring was
 * full (the line's sequence number is reported missing later), -EINVAL when
 * the logger is not open. */
int fg_logger_event(struct fg_logger *lg, const struct fg_event *ev);
/* fg_logger_event, and the sequence number the line got (0 when it was
 * aggregated or not numbered). */
int fg_logger_event_seq(struct fg_logger *lg, const struct fg_event *ev, uint64_t *ret_seq);

/* Registers the heartbeat's source (fn may be NULL: heartbeats then carry
 * only the logger's own counts). Call once, after open, before events. */
void fg_logger_set_heartbeat(struct fg_logger *lg, fg_heartbeat_fn fn, void *ctx);

/* Closes pending aggregation windows, drains what is queued, stops the
 * thread, closes the sink. */
void fg_logger_close(struct fg_logger *lg);

/* Snapshot of the counters, for status. */
void fg_logger_stats(struct fg_logger *lg, uint64_t *ret_written, uint64_t *ret_dropped,
		     uint64_t *ret_errors);
/* Repeats folded into `repeated` lines since start. */
uint64_t fg_logger_aggregated(struct fg_logger *lg);

#endif
