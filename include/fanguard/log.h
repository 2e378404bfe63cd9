/* Formatting decisions as log lines (JSON, text) and the sinks they go to.
 * The event thread only formats into a buffer and hands it to the logger,
 * which never blocks it: lines wait in a bounded ring drained by a logger
 * thread, and lines that do not fit are counted, then reported in a summary
 * line once the sink catches up. */
#ifndef FANGUARD_LOG_H
#define FANGUARD_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fanguard/config.h"
#include "fanguard/proc.h"

#define FG_LINE_CAP (64 * 1024)	 /* one formatted line at most */
#define FG_RING_CAP (256 * 1024) /* bytes waiting for the sink */

/* One thing worth a line. Strings may be NULL (field omitted). */
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
	const struct fg_proc *proc; /* the writer, or NULL */
	bool proc_partial;	    /* resolution failed part way */
	bool has_open;		    /* open.flags / open.syscall present */
	uint64_t open_flags;
	const char *open_syscall; /* "openat", ... or NULL if unknown */
	long open_nr;
	uint64_t count; /* transaction-end: files written; log-dropped: lines */
	pid_t tx_pid;	/* transaction root pid, 0 if none */
	const char *tx_exe;
};

/* Formats ev into buf (cap bytes) as one line ending in '\n', terminated.
 * Returns the length (> 0 for cap >= 64; a line that does not fit is cut to
 * a valid object, or for text ends in " truncated=true"). No allocation. */
size_t fg_log_format(const struct fg_event *ev, enum fg_logformat fmt, char *buf, size_t cap);

/* The journal record of ev: NUL-separated "FIELD=value" entries (PRIORITY,
 * SYSLOG_IDENTIFIER, FANGUARD_*, and MESSAGE= the JSON object), each entry
 * NUL-terminated. Returns the record's length, 0 when cap < 1040. */
size_t fg_log_format_journal(const struct fg_event *ev, char *buf, size_t cap);

struct fg_logger {
	enum fg_logsink sink;
	enum fg_logformat fmt;
	int fd; /* stderr or the file; -1 for syslog/journal */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	bool started;
	pid_t tid;  /* the logger thread, so its opens are allowed */
	char *ring; /* FG_RING_CAP bytes of whole lines */
	size_t head, used;
	uint64_t written;	  /* lines handed to the sink, summaries included */
	uint64_t dropped;	  /* lines lost since start */
	uint64_t dropped_pending; /* lost and not yet reported in a summary */
	uint64_t write_errors;
};

/* Opens the sink (the file for file:, syslog's socket) and starts the
 * logger thread. Returns 0 or -errno; on failure nothing is left open. */
int fg_logger_open(struct fg_logger *lg, const struct fg_config *cfg);

/* Like fg_logger_open for a sink that is already an fd (stderr, a file, a
 * pipe): takes ownership of fd (closed by fg_logger_close, or here on
 * failure; fd 2 is never closed). Returns 0 or -errno. */
int fg_logger_open_fd(struct fg_logger *lg, int fd, enum fg_logformat fmt);

/* Queues one formatted line (without blocking beyond a short mutex). Returns
 * 0, or -ENOBUFS when it was dropped (counted; also lines over FG_LINE_CAP),
 * or -EINVAL when the logger is not open. */
int fg_logger_submit(struct fg_logger *lg, const char *line, size_t len);

/* Formats ev with the logger's format and submits it. */
int fg_logger_event(struct fg_logger *lg, const struct fg_event *ev);

/* Drains what is queued, stops the thread, closes the sink. */
void fg_logger_close(struct fg_logger *lg);

/* Snapshot of the counters, for status. */
void fg_logger_stats(struct fg_logger *lg, uint64_t *ret_written, uint64_t *ret_dropped,
		     uint64_t *ret_errors);

#endif
