#include "fanguard/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#ifdef FG_HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "fanguard/logagg.h"
#include "fanguard/logfmt.h"
#include "fanguard/logpack.h"
#include "fanguard/logschema.h"
#include "fanguard/util.h"

/* A ring record: [u32 length][u32 syslog priority][bytes]. The priority
 * rides along because syslog wants it per line and the drain side no longer
 * has the event. */
#define REC_HDR (2 * sizeof(uint32_t))
/* The priority of a record that holds a packed event, formatted by the
 * logger thread (the answering thread only copies it in). */
#define REC_PACKED UINT32_MAX
/* The drain buffer: whole records up to one record, plus a NUL for syslog. */
#define OUT_CAP		   (FG_RECORD_CAP + 1)
#define JOURNAL_FIELDS_MAX 16
#define NS		   1000000000ULL

void fg_logopts_default(struct fg_logopts *ret)
{
	*ret = (struct fg_logopts){
	    .max_line = FG_MAX_LINE_DEFAULT,
	    .repeat_threshold = FG_REPEAT_THRESHOLD_DEFAULT,
	    .repeat_window_ns = FG_REPEAT_WINDOW_DEFAULT * NS,
	    .heartbeat_interval_ns = FG_HEARTBEAT_DEFAULT * NS,
	};
}

void fg_logopts_from_config(const struct fg_config *cfg, struct fg_logopts *ret)
{
	*ret = (struct fg_logopts){
	    .max_line = cfg->max_line,
	    .repeat_threshold = cfg->repeat_threshold,
	    .repeat_window_ns = cfg->repeat_window * NS,
	    .heartbeat_interval_ns = cfg->heartbeat_interval * NS,
	};
}

/* ---- the ring ---- */

static void ring_peek(const struct fg_logger *lg, void *dst, size_t n)
{
	size_t first = n < FG_RING_CAP - lg->head ? n : FG_RING_CAP - lg->head;

	memcpy(dst, lg->ring + lg->head, first);
	memcpy((char *)dst + first, lg->ring, n - first);
}

static void ring_take(struct fg_logger *lg, void *dst, size_t n)
{
	ring_peek(lg, dst, n);
	lg->head = (lg->head + n) % FG_RING_CAP;
	lg->used -= n;
	/* Restarting at 0 keeps most records in one piece. */
	if (lg->used == 0)
		lg->head = 0;
}

static void ring_put(struct fg_logger *lg, const void *src, size_t n)
{
	size_t tail = (lg->head + lg->used) % FG_RING_CAP;
	size_t first = n < FG_RING_CAP - tail ? n : FG_RING_CAP - tail;

	memcpy(lg->ring + tail, src, first);
	memcpy(lg->ring, (const char *)src + first, n - first);
	lg->used += n;
}

static bool ring_fits(const struct fg_logger *lg, size_t len)
{
	return len > 0 && len <= FG_RECORD_CAP && REC_HDR + len <= FG_RING_CAP - lg->used;
}

/* Queues a record, or counts it lost. Called with the lock held. */
static int put_locked(struct fg_logger *lg, const char *rec, size_t len, int prio)
{
	uint32_t hdr[2] = {(uint32_t)len, (uint32_t)prio};

	if (!ring_fits(lg, len)) {
		lg->dropped++;
		return -ENOBUFS;
	}
	ring_put(lg, hdr, REC_HDR);
	ring_put(lg, rec, len);
	pthread_cond_signal(&lg->cond);
	return 0;
}

/* A numbered line that could not be queued: its number goes on the list
 * the next report names. */
static void lose(struct fg_logger *lg, uint64_t seq)
{
	struct fg_lost *l = &lg->lost;

	l->count++;
	if (l->n == 0)
		l->first = seq;
	l->last = seq;
	if (l->n > 0 && l->r[l->n - 1].to + 1 == seq) {
		l->r[l->n - 1].to = seq;
	} else if (l->n < FG_LOST_RANGES) {
		l->r[l->n].from = l->r[l->n].to = seq;
		l->n++;
	} else {
		l->more = true;
	}
}

static size_t format_locked(struct fg_logger *lg, const struct fg_event *ev)
{
	if (lg->sink == FG_SINK_JOURNAL)
		return fg_log_format_journal(&lg->host, ev, lg->opts.max_line, lg->scratch,
					     FG_RECORD_CAP);
	return fg_log_format(&lg->host, ev, lg->fmt, lg->opts.max_line, lg->scratch);
}

/* Numbers, formats and queues ev. Called with the lock held. */
static int emit_locked(struct fg_logger *lg, const struct fg_event *ev)
{
	struct fg_event e = *ev;
	struct fg_log_class cls;
	size_t n;
	int r;

	e.sequence = ++lg->seq;
	fg_log_classify(&e, &cls);
	n = format_locked(lg, &e);
	r = put_locked(lg, lg->scratch, n, cls.priority);
	if (r < 0)
		lose(lg, e.sequence);
	return r;
}

/* Numbers ev and queues a packed copy for the logger thread to format:
 * what the caller pays is a copy, not a line. Events that do not pack (or
 * do not fit a record) are formatted here. Called with the lock held. */
static int emit_packed_locked(struct fg_logger *lg, const struct fg_event *ev)
{
	struct fg_event e = *ev;
	size_t n = fg_logpack_size(&e);
	int r;

	if (n == 0 || n > FG_RECORD_CAP)
		return emit_locked(lg, ev);
	e.sequence = ++lg->seq;
	fg_logpack_write(&e, lg->scratch);
	r = put_locked(lg, lg->scratch, n, (int)REC_PACKED);
	if (r < 0)
		lose(lg, e.sequence);
	return r;
}

/* The logger thread's side: formats one packed record into out. Returns
 * the line's length (0 for a record that does not unpack) and its syslog
 * priority. */
static size_t unpack_format(struct fg_logger *lg, size_t len, char *out, int *ret_prio)
{
	struct fg_event ev;
	struct fg_log_class cls;

	if (fg_logpack_read(lg->pk, len, &ev, lg->uproc) < 0)
		return 0;
	fg_log_classify(&ev, &cls);
	*ret_prio = cls.priority;
	if (lg->sink == FG_SINK_JOURNAL)
		return fg_log_format_journal(&lg->host, &ev, lg->opts.max_line, out, FG_RECORD_CAP);
	return fg_log_format(&lg->host, &ev, lg->fmt, lg->opts.max_line, out);
}

/* The line that says which numbered lines never made it, once there is
 * room for it: it goes before anything newer. */
static void report_lost_locked(struct fg_logger *lg)
{
	struct fg_lost l = lg->lost;
	char msg[160];
	struct fg_event ev = {.action = "log-dropped",
			      .outcome = "failure",
			      .count = l.count,
			      .lost = &l,
			      .message = msg};

	size_t need = REC_HDR + (lg->sink == FG_SINK_JOURNAL ? FG_RECORD_CAP : lg->opts.max_line);

	if (l.count == 0 || need > FG_RING_CAP - lg->used)
		return;
	memset(&lg->lost, 0, sizeof(lg->lost));
	clock_gettime(CLOCK_REALTIME, &ev.when);
	if (l.n)
		snprintf(msg, sizeof(msg),
			 "%" PRIu64 " log lines (sequence %" PRIu64 " to %" PRIu64
			 ") were dropped because the sink was too slow",
			 l.count, l.first, l.last);
	else
		snprintf(msg, sizeof(msg),
			 "%" PRIu64 " log lines were dropped because the sink was too slow",
			 l.count);
	emit_locked(lg, &ev);
}

/* Closes the aggregation windows that are over (all with force). */
static void flush_repeats_locked(struct fg_logger *lg, uint64_t now, bool force)
{
	struct fg_event ev;

	while (lg->agg && fg_logagg_due(lg->agg, now, force, &ev))
		emit_locked(lg, &ev);
}

static int submit_prio(struct fg_logger *lg, const char *line, size_t len, int prio)
{
	int r;

	if (!lg->ring)
		return -EINVAL;
	pthread_mutex_lock(&lg->lock);
	if (lg->stop) {
		lg->dropped++;
		r = -ENOBUFS;
	} else {
		r = put_locked(lg, line, len, prio);
	}
	/* Unnumbered: counted in the next report, with no range. */
	if (r < 0)
		lg->lost.count++;
	pthread_mutex_unlock(&lg->lock);
	return r;
}

int fg_logger_submit(struct fg_logger *lg, const char *line, size_t len)
{
	return submit_prio(lg, line, len, LOG_INFO);
}

int fg_logger_event(struct fg_logger *lg, const struct fg_event *ev)
{
	uint64_t seq;

	return fg_logger_event_seq(lg, ev, &seq);
}

int fg_logger_event_seq(struct fg_logger *lg, const struct fg_event *ev, uint64_t *ret_seq)
{
	uint64_t now = fg_now_ns();
	int r = 0;

	*ret_seq = 0;
	if (!lg->ring)
		return -EINVAL;
	pthread_mutex_lock(&lg->lock);
	flush_repeats_locked(lg, now, false);
	if (lg->stop) {
		lg->dropped++;
		r = -ENOBUFS;
	} else if (lg->agg && !fg_logagg_admit(lg->agg, ev, now)) {
		lg->aggregated++;
		/* The window's end now has a line to write: wake the timer. */
		pthread_cond_signal(&lg->cond);
	} else {
		report_lost_locked(lg);
		r = emit_packed_locked(lg, ev);
		*ret_seq = lg->seq; /* numbered even when the ring was full */
	}
	pthread_mutex_unlock(&lg->lock);
	return r;
}

void fg_logger_set_heartbeat(struct fg_logger *lg, fg_heartbeat_fn fn, void *ctx)
{
	pthread_mutex_lock(&lg->lock);
	lg->hb_fn = fn;
	lg->hb_ctx = ctx;
	pthread_mutex_unlock(&lg->lock);
}

/* ---- the heartbeat ---- */

static void counters_delta(const struct fg_counters *now, const struct fg_counters *prev,
			   struct fg_counters *ret)
{
	const uint64_t *a = (const uint64_t *)now, *b = (const uint64_t *)prev;
	uint64_t *d = (uint64_t *)ret;

	_Static_assert(sizeof(struct fg_counters) % sizeof(uint64_t) == 0, "counters are u64");
	for (size_t i = 0; i < sizeof(*ret) / sizeof(uint64_t); i++)
		d[i] = a[i] - b[i];
}

static void heartbeat_locked(struct fg_logger *lg)
{
	struct fg_heartbeat hb = {0};
	struct fg_counters delta;
	struct fg_hbline line = {
	    .hb = &hb,
	    .interval_s = lg->opts.heartbeat_interval_ns / NS,
	    .lines = lg->seq - lg->hb_seq,
	    .dropped = lg->dropped - lg->hb_dropped,
	    .aggregated = lg->aggregated - lg->hb_aggregated,
	    .last_sequence = lg->seq,
	};
	struct fg_event ev = {.action = "heartbeat", .outcome = "success", .heartbeat = &line};

	if (lg->hb_fn)
		lg->hb_fn(lg->hb_ctx, &hb);
	if (hb.have_counters) {
		/* The first heartbeat counts from the start. */
		counters_delta(&hb.c, lg->hb_have_prev ? &lg->hb_prev : &(struct fg_counters){0},
			       &delta);
		line.delta = &delta;
		lg->hb_prev = hb.c;
		lg->hb_have_prev = true;
	}
	clock_gettime(CLOCK_REALTIME, &ev.when);
	report_lost_locked(lg);
	emit_locked(lg, &ev);
	lg->hb_seq = lg->seq;
	lg->hb_dropped = lg->dropped;
	lg->hb_aggregated = lg->aggregated;
}

/* Runs what is due and returns when the next timer is (UINT64_MAX: none). */
static uint64_t timers_locked(struct fg_logger *lg, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	flush_repeats_locked(lg, now, false);
	if (lg->agg)
		next = fg_logagg_next_ns(lg->agg);
	if (lg->opts.heartbeat_interval_ns) {
		if (now >= lg->hb_next_ns) {
			heartbeat_locked(lg);
			lg->hb_next_ns = now + lg->opts.heartbeat_interval_ns;
		}
		if (lg->hb_next_ns < next)
			next = lg->hb_next_ns;
	}
	return next;
}

/* ---- the sinks ---- */

/* Takes whole records into out (at most FG_RECORD_CAP bytes, at least one
 * record) and returns the byte count. Syslog and the journal take one
 * record a time: each is its own message. Called with the lock held. */
static size_t take_batch(struct fg_logger *lg, char *out, size_t *ret_lines, int *ret_prio)
{
	size_t n = 0, lines = 0;

	while (lg->used > 0) {
		uint32_t hdr[2];

		ring_peek(lg, hdr, REC_HDR);
		if (hdr[1] == REC_PACKED ||
		    (lines > 0 && (lg->fd < 0 || n + hdr[0] > FG_RECORD_CAP)))
			break;
		ring_take(lg, hdr, REC_HDR);
		ring_take(lg, out + n, hdr[0]);
		n += hdr[0];
		lines++;
		*ret_prio = (int)hdr[1];
	}
	*ret_lines = lines;
	return n;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			if (errno == EINTR)
				continue;
			/* Someone made the fd non-blocking; this thread may wait. */
			if (errno == EAGAIN && (poll(&pfd, 1, -1) >= 0 || errno == EINTR))
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int journal_send(const char *rec, size_t n)
{
#ifdef FG_HAVE_SYSTEMD
	struct iovec iov[JOURNAL_FIELDS_MAX];
	int k = 0, r;

	for (size_t i = 0; i < n && k < JOURNAL_FIELDS_MAX;) {
		const char *end = memchr(rec + i, '\0', n - i);
		size_t l = end ? (size_t)(end - (rec + i)) : n - i;

		if (l > 0)
			iov[k++] = (struct iovec){.iov_base = (void *)(rec + i), .iov_len = l};
		i += l + 1;
	}
	r = sd_journal_sendv(iov, k);
	return r < 0 ? r : 0;
#else
	(void)rec;
	(void)n;
	return -ENOSYS;
#endif
}

/* out has OUT_CAP bytes, so there is room for syslog's NUL. */
static int sink_write(struct fg_logger *lg, char *out, size_t n, int prio)
{
	switch (lg->sink) {
	case FG_SINK_SYSLOG:
		while (n > 0 && out[n - 1] == '\n')
			n--;
		out[n] = '\0';
		syslog(prio, "%s", out);
		return 0;
	case FG_SINK_JOURNAL:
		return journal_send(out, n);
	case FG_SINK_STDERR:
	case FG_SINK_FILE:
		break;
	}
	return write_all(lg->fd, out, n);
}

static void account(struct fg_logger *lg, size_t lines, int r)
{
	if (r < 0)
		lg->write_errors++;
	else
		lg->written += lines;
}

static void wait_until(struct fg_logger *lg, uint64_t when_ns)
{
	struct timespec ts;

	if (when_ns == UINT64_MAX) {
		pthread_cond_wait(&lg->cond, &lg->lock);
		return;
	}
	ts.tv_sec = (time_t)(when_ns / NS);
	ts.tv_nsec = (long)(when_ns % NS);
	pthread_cond_timedwait(&lg->cond, &lg->lock, &ts);
}

static bool next_is_packed(const struct fg_logger *lg)
{
	uint32_t hdr[2];

	ring_peek(lg, hdr, REC_HDR);
	return hdr[1] == REC_PACKED;
}

/* Formatting and writes happen outside the lock, so neither a slow sink
 * nor a long line ever holds up an event. */
static void *logger_main(void *arg)
{
	struct fg_logger *lg = arg;
	char *out = lg->ring + FG_RING_CAP;

	pthread_mutex_lock(&lg->lock);
	lg->tid = gettid();
	pthread_cond_broadcast(&lg->cond);
	for (;;) {
		size_t n, lines;
		int prio = LOG_INFO, r;
		/* Every pass, so a sink that is always busy still gets its
		 * heartbeats and window ends. */
		uint64_t next = lg->stop ? UINT64_MAX : timers_locked(lg, fg_now_ns());

		if (lg->used > 0 && next_is_packed(lg)) {
			uint32_t hdr[2];
			ring_take(lg, hdr, REC_HDR);
			ring_take(lg, lg->pk, hdr[0]);
			pthread_mutex_unlock(&lg->lock);
			n = unpack_format(lg, hdr[0], out, &prio);
			r = n ? sink_write(lg, out, n, prio) : -EINVAL;
			pthread_mutex_lock(&lg->lock);
			account(lg, 1, r);
			continue;
		}
		if (lg->used > 0) {
			n = take_batch(lg, out, &lines, &prio);
			pthread_mutex_unlock(&lg->lock);
			r = sink_write(lg, out, n, prio);
			pthread_mutex_lock(&lg->lock);
			account(lg, lines, r);
			continue;
		}
		if (lg->lost.count > 0) {
			report_lost_locked(lg);
			continue;
		}
		if (lg->stop)
			break;
		wait_until(lg, next);
	}
	pthread_mutex_unlock(&lg->lock);
	return NULL;
}

static void free_buffers(struct fg_logger *lg)
{
	fg_logagg_free(lg->agg);
	free(lg->scratch);
	free(lg->ring);
	free(lg->pk);
	free(lg->uproc);
	lg->agg = NULL;
	lg->scratch = lg->ring = lg->pk = NULL;
	lg->uproc = NULL;
}

static int logger_start(struct fg_logger *lg, enum fg_logsink sink, int fd, enum fg_logformat fmt,
			const struct fg_logopts *opts)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	memset(lg, 0, sizeof(*lg));
	lg->sink = sink;
	lg->fmt = fmt;
	lg->fd = fd;
	lg->opts = *opts;
	fg_loghost_read(&lg->host);
	lg->ring = malloc(FG_RING_CAP + OUT_CAP);
	lg->scratch = malloc(FG_RECORD_CAP);
	lg->pk = malloc(FG_RECORD_CAP);
	lg->uproc = malloc(sizeof(*lg->uproc));
	lg->agg = fg_logagg_new(opts->repeat_threshold, opts->repeat_window_ns);
	if (!lg->ring || !lg->scratch || !lg->pk || !lg->uproc || !lg->agg) {
		free_buffers(lg);
		return -ENOMEM;
	}
	lg->hb_next_ns = fg_now_ns() + opts->heartbeat_interval_ns;
	pthread_mutex_init(&lg->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lg->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* Born with every signal blocked, so the daemon's signalfd sees them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&lg->thread, NULL, logger_main, lg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_cond_destroy(&lg->cond);
		pthread_mutex_destroy(&lg->lock);
		free_buffers(lg);
		return -r;
	}
	/* The caller exempts lg->tid from the guard, so it must be known now. */
	pthread_mutex_lock(&lg->lock);
	while (lg->tid == 0)
		pthread_cond_wait(&lg->cond, &lg->lock);
	pthread_mutex_unlock(&lg->lock);
	lg->started = true;
	return 0;
}

int fg_logger_open_fd_opts(struct fg_logger *lg, int fd, enum fg_logformat fmt,
			   const struct fg_logopts *opts)
{
	int r =
	    logger_start(lg, fd == STDERR_FILENO ? FG_SINK_STDERR : FG_SINK_FILE, fd, fmt, opts);

	if (r < 0 && fd != STDERR_FILENO)
		close(fd);
	return r;
}

int fg_logger_open_fd(struct fg_logger *lg, int fd, enum fg_logformat fmt)
{
	struct fg_logopts o;

	fg_logopts_default(&o);
	return fg_logger_open_fd_opts(lg, fd, fmt, &o);
}

static int open_syslog(struct fg_logger *lg, enum fg_logformat fmt, const struct fg_logopts *o)
{
	int r;

	openlog("fanguardd", LOG_NDELAY | LOG_PID, LOG_DAEMON);
	r = logger_start(lg, FG_SINK_SYSLOG, -1, fmt, o);
	if (r < 0)
		closelog();
	return r;
}

int fg_logger_open(struct fg_logger *lg, const struct fg_config *cfg)
{
	struct fg_logopts o;
	int fd;

	/* A failed open leaves lg safe to close. */
	memset(lg, 0, sizeof(*lg));
	lg->fd = -1;
	fg_logopts_from_config(cfg, &o);
	switch (cfg->log) {
	case FG_SINK_FILE:
		fd =
		    open(cfg->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
		if (fd < 0)
			return -errno;
		return fg_logger_open_fd_opts(lg, fd, cfg->log_format, &o);
	case FG_SINK_SYSLOG:
		return open_syslog(lg, cfg->log_format, &o);
	case FG_SINK_JOURNAL:
#ifdef FG_HAVE_SYSTEMD
		return logger_start(lg, FG_SINK_JOURNAL, -1, FG_FMT_JSON, &o);
#else
		return open_syslog(lg, cfg->log_format, &o);
#endif
	case FG_SINK_STDERR:
		break;
	}
	return fg_logger_open_fd_opts(lg, STDERR_FILENO, cfg->log_format, &o);
}

void fg_logger_close(struct fg_logger *lg)
{
	if (!lg->started)
		return;
	pthread_mutex_lock(&lg->lock);
	/* Open windows end now: their lines go out before the thread stops. */
	flush_repeats_locked(lg, fg_now_ns(), true);
	lg->stop = true;
	pthread_cond_broadcast(&lg->cond);
	pthread_mutex_unlock(&lg->lock);
	pthread_join(lg->thread, NULL);
	if (lg->sink == FG_SINK_FILE && lg->fd >= 0)
		close(lg->fd);
	if (lg->sink == FG_SINK_SYSLOG)
		closelog();
	lg->fd = -1;
	pthread_cond_destroy(&lg->cond);
	pthread_mutex_destroy(&lg->lock);
	free_buffers(lg);
	lg->started = false;
}

void fg_logger_stats(struct fg_logger *lg, uint64_t *ret_written, uint64_t *ret_dropped,
		     uint64_t *ret_errors)
{
	/* After close the counters are final and the lock is gone. */
	if (lg->started)
		pthread_mutex_lock(&lg->lock);
	if (ret_written)
		*ret_written = lg->written;
	if (ret_dropped)
		*ret_dropped = lg->dropped;
	if (ret_errors)
		*ret_errors = lg->write_errors;
	if (lg->started)
		pthread_mutex_unlock(&lg->lock);
}

uint64_t fg_logger_aggregated(struct fg_logger *lg)
{
	uint64_t n;

	if (lg->started)
		pthread_mutex_lock(&lg->lock);
	n = lg->aggregated;
	if (lg->started)
		pthread_mutex_unlock(&lg->lock);
	return n;
}
