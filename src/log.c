#include "fanguard/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#ifdef FG_HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "fanguard/json.h"
#include "fanguard/util.h"

/* A ring record: [u32 length][u32 syslog priority][bytes]. The priority
 * rides along because syslog wants it per line and the drain side no longer
 * has the event. */
#define REC_HDR (2 * sizeof(uint32_t))
/* The drain buffer: whole records up to one line, plus a NUL for syslog. */
#define OUT_CAP (FG_LINE_CAP + 1)
/* Room kept for " truncated=true\n" and the NUL in the text format. */
#define TEXT_MARK " truncated=true\n"
/* Journal records keep at least this much for MESSAGE= (the JSON line). */
#define JOURNAL_MSG_MIN	   1024
#define JOURNAL_FIELDS_MAX 16

static bool streq(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

static int event_priority(const struct fg_event *ev)
{
	if (streq(ev->decision, "deny") || streq(ev->decision, "would-deny") ||
	    streq(ev->action, "log-dropped"))
		return LOG_WARNING;
	return LOG_INFO;
}

static void format_timestamp(const struct timespec *ts, char *out, size_t cap)
{
	struct tm tm;
	time_t s = ts->tv_sec;
	size_t n;

	if (!gmtime_r(&s, &tm))
		memset(&tm, 0, sizeof(tm));
	n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, cap - n, ".%06ldZ", (long)(ts->tv_nsec / 1000));
}

/* The id spelling of loginuid and sessionid. */
static const char *id_str(uint32_t id, char *tmp, size_t cap)
{
	if (id == FG_AUID_UNSET)
		return "unset";
	snprintf(tmp, cap, "%" PRIu32, id);
	return tmp;
}

/* ---- JSON ---- */

static void jstr(struct fg_json *j, const char *key, const char *val)
{
	if (val)
		fg_json_str(j, key, val);
}

/* Strings of outside origin; max bounds the read in case a producer forgot
 * the terminator. */
static void jraw(struct fg_json *j, const char *key, const char *val, size_t max)
{
	if (val)
		fg_json_str_raw(j, key, val, strnlen(val, max));
}

static const char *anc_exe(const struct fg_proc *p, unsigned i, size_t *ret_max)
{
	uint32_t off = p->anc[i].exe_off;

	if (off >= FG_ARENA_LEN) {
		*ret_max = 0;
		return "";
	}
	*ret_max = FG_ARENA_LEN - off;
	return fg_proc_anc_exe(p, i);
}

static void json_ancestor(struct fg_json *j, const char *key, const struct fg_proc *p, unsigned i)
{
	size_t max;
	const char *exe = anc_exe(p, i, &max);

	fg_json_obj_open(j, key);
	fg_json_i64(j, "pid", p->anc[i].pid);
	jraw(j, "executable", exe, max);
	jraw(j, "name", p->anc[i].comm, FG_COMM_LEN);
	fg_json_obj_close(j);
}

/* The process object goes last: a deep ancestry is what a full line
 * loses first. */
static void json_process(struct fg_json *j, const struct fg_proc *p)
{
	unsigned n = p->n_ancestors < FG_ANCESTRY_MAX ? p->n_ancestors : FG_ANCESTRY_MAX;

	fg_json_obj_open(j, "process");
	fg_json_i64(j, "pid", p->pid);
	fg_json_obj_open(j, "thread");
	fg_json_i64(j, "id", p->tid);
	fg_json_obj_close(j);
	jraw(j, "executable", p->exe, sizeof(p->exe));
	jraw(j, "name", p->comm, FG_COMM_LEN);
	fg_json_u64(j, "start", p->start_time);
	if (n > 0) {
		json_ancestor(j, "parent", p, 0);
	} else if (p->ppid > 0) {
		fg_json_obj_open(j, "parent");
		fg_json_i64(j, "pid", p->ppid);
		fg_json_obj_close(j);
	}
	if (p->ancestry_truncated)
		fg_json_bool(j, "ancestry_truncated", true);
	fg_json_arr_open(j, "ancestry");
	for (unsigned i = 0; i < n; i++)
		json_ancestor(j, NULL, p, i);
	fg_json_arr_close(j);
	fg_json_obj_close(j);
}

static void json_fanguard(struct fg_json *j, const struct fg_event *ev)
{
	char tmp[16];

	fg_json_obj_open(j, "fanguard");
	jstr(j, "decision", ev->decision);
	jstr(j, "reason", ev->reason);
	jstr(j, "mode", ev->mode);
	jstr(j, "rule", ev->rule);
	jstr(j, "subtree", ev->subtree);
	jstr(j, "key", ev->key);
	if (streq(ev->action, "transaction-end") || streq(ev->action, "log-dropped"))
		fg_json_u64(j, "count", ev->count);
	if (ev->proc) {
		fg_json_str(j, "session_id", id_str(ev->proc->sessionid, tmp, sizeof(tmp)));
		if (ev->proc->cgroup[0])
			jraw(j, "cgroup", ev->proc->cgroup, FG_CGROUP_LEN);
	}
	if (ev->tx_pid) {
		fg_json_obj_open(j, "transaction");
		fg_json_i64(j, "pid", ev->tx_pid);
		jraw(j, "executable", ev->tx_exe, PATH_MAX);
		fg_json_obj_close(j);
	}
	if (ev->proc_partial)
		fg_json_str(j, "resolution", "partial");
	fg_json_obj_close(j);
}

static void json_head(struct fg_json *j, const struct fg_event *ev)
{
	char ts[64];

	format_timestamp(&ev->when, ts, sizeof(ts));
	fg_json_str(j, "@timestamp", ts);
	fg_json_obj_open(j, "event");
	jstr(j, "action", ev->action);
	jstr(j, "outcome", ev->outcome);
	fg_json_str(j, "kind", "event");
	/* Daemon events (start, dropped lines) are not about a file. */
	if (ev->path) {
		fg_json_arr_open(j, "category");
		fg_json_str(j, NULL, "file");
		fg_json_arr_close(j);
	}
	fg_json_str(j, "module", "fanguard");
	fg_json_obj_close(j);
}

static void json_user_open(struct fg_json *j, const struct fg_event *ev)
{
	char tmp[16];

	if (ev->proc) {
		fg_json_obj_open(j, "user");
		snprintf(tmp, sizeof(tmp), "%" PRIu32, ev->proc->uid);
		fg_json_str(j, "id", tmp);
		fg_json_obj_open(j, "audit");
		fg_json_str(j, "id", id_str(ev->proc->auid, tmp, sizeof(tmp)));
		fg_json_obj_close(j);
		fg_json_obj_close(j);
	}
	if (ev->has_open) {
		fg_json_obj_open(j, "open");
		snprintf(tmp, sizeof(tmp), "0x%" PRIx64, ev->open_flags);
		fg_json_str(j, "flags", tmp);
		if (ev->open_syscall)
			fg_json_str(j, "syscall", ev->open_syscall);
		else
			fg_json_i64(j, "nr", ev->open_nr);
		fg_json_obj_close(j);
	}
}

/* One JSON object without the newline, NUL-terminated; returns its length. */
static size_t format_json_object(const struct fg_event *ev, char *buf, size_t cap)
{
	struct fg_json j;

	fg_json_init(&j, buf, cap);
	json_head(&j, ev);
	json_fanguard(&j, ev);
	jraw(&j, "message", ev->message, FG_LINE_CAP);
	if (ev->path) {
		fg_json_obj_open(&j, "file");
		jraw(&j, "path", ev->path, FG_LINE_CAP);
		fg_json_obj_close(&j);
	}
	json_user_open(&j, ev);
	if (ev->proc)
		json_process(&j, ev->proc);
	return (size_t)fg_json_finish(&j);
}

/* ---- text ---- */

struct tline {
	char *buf;
	size_t cap; /* without the room kept for TEXT_MARK */
	size_t len;
	bool cut;
};

static bool tput(struct tline *t, const char *s, size_t n)
{
	if (n > t->cap - t->len)
		return false;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	return true;
}

/* Bare words stay bare; anything a reader could mis-split is quoted. */
static bool needs_quote(const char *s, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_-.:/@+", c)))
			return true;
	}
	return false;
}

static bool tescaped(struct tline *t, const char *val, size_t n)
{
	size_t room = t->cap - t->len;
	size_t need = fg_json_escape(t->buf + t->len, room, val, n, NULL);

	if (need >= room)
		return false;
	t->len += need;
	return true;
}

/* Appends " key=value", whole or not at all. */
static void tfield(struct tline *t, const char *key, const char *val, size_t max, bool quote)
{
	size_t mark = t->len, n;

	if (!val)
		return;
	n = strnlen(val, max);
	quote = quote || needs_quote(val, n);
	if (tput(t, " ", 1) && tput(t, key, strlen(key)) && tput(t, "=", 1) &&
	    (!quote || tput(t, "\"", 1)) && tescaped(t, val, n) && (!quote || tput(t, "\"", 1)))
		return;
	t->len = mark;
	t->cut = true;
}

static void tu64(struct tline *t, const char *key, uint64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	tfield(t, key, tmp, sizeof(tmp), false);
}

static void text_proc(struct tline *t, const struct fg_proc *p)
{
	char tmp[16];

	tu64(t, "pid", (uint64_t)p->pid);
	if (p->tid != p->pid)
		tu64(t, "tid", (uint64_t)p->tid);
	tfield(t, "exe", p->exe, sizeof(p->exe), true);
	tfield(t, "comm", p->comm, FG_COMM_LEN, true);
	tu64(t, "uid", p->uid);
	tfield(t, "auid", id_str(p->auid, tmp, sizeof(tmp)), sizeof(tmp), false);
	if (p->n_ancestors > 0) {
		size_t max;
		const char *exe = anc_exe(p, 0, &max);

		tu64(t, "ppid", (uint64_t)p->anc[0].pid);
		tfield(t, "pexe", exe, max, true);
	}
}

static void text_open(struct tline *t, const struct fg_event *ev)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "0x%" PRIx64, ev->open_flags);
	tfield(t, "flags", tmp, sizeof(tmp), false);
	if (ev->open_syscall) {
		tfield(t, "syscall", ev->open_syscall, 32, false);
	} else {
		snprintf(tmp, sizeof(tmp), "%ld", ev->open_nr);
		tfield(t, "nr", tmp, sizeof(tmp), false);
	}
}

static size_t format_text(const struct fg_event *ev, char *buf, size_t cap)
{
	struct tline t = {buf, cap - sizeof(TEXT_MARK), 0, false};

	tput(&t, "fanguard:", 9);
	tfield(&t, "action", ev->action, 64, false);
	tfield(&t, "decision", ev->decision, 64, false);
	tfield(&t, "reason", ev->reason, 64, false);
	tfield(&t, "mode", ev->mode, 64, false);
	tfield(&t, "subtree", ev->subtree, FG_NAME_MAX, false);
	tfield(&t, "key", ev->key, FG_NAME_MAX, false);
	tfield(&t, "path", ev->path, FG_LINE_CAP, true);
	if (ev->proc)
		text_proc(&t, ev->proc);
	tfield(&t, "rule", ev->rule, FG_NAME_MAX, false);
	if (streq(ev->action, "transaction-end") || streq(ev->action, "log-dropped"))
		tu64(&t, "count", ev->count);
	if (ev->tx_pid) {
		tu64(&t, "tx_pid", (uint64_t)ev->tx_pid);
		tfield(&t, "tx_exe", ev->tx_exe, PATH_MAX, true);
	}
	if (ev->has_open)
		text_open(&t, ev);
	if (ev->proc_partial)
		tfield(&t, "resolution", "partial", 16, false);
	tfield(&t, "message", ev->message, FG_LINE_CAP, true);
	/* The reserve behind cap always holds the tail. */
	if (t.cut) {
		memcpy(buf + t.len, TEXT_MARK, sizeof(TEXT_MARK));
		return t.len + sizeof(TEXT_MARK) - 1;
	}
	buf[t.len++] = '\n';
	buf[t.len] = '\0';
	return t.len;
}

size_t fg_log_format(const struct fg_event *ev, enum fg_logformat fmt, char *buf, size_t cap)
{
	size_t n;

	/* Too small for even "{}\n" or the text tail; callers pass FG_LINE_CAP. */
	if (cap < 2 * sizeof(TEXT_MARK))
		return 0;
	if (fmt == FG_FMT_TEXT)
		return format_text(ev, buf, cap);
	n = format_json_object(ev, buf, cap - 1);
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* ---- journal ---- */

/* Appends "NAME=value\0" whole, or nothing when it does not fit below lim. */
static void jfield(char *buf, size_t lim, size_t *len, const char *name, const char *val,
		   size_t max)
{
	size_t nl, vl;

	if (!val)
		return;
	nl = strlen(name);
	vl = strnlen(val, max);
	if (*len + nl + 1 + vl + 1 > lim)
		return;
	memcpy(buf + *len, name, nl);
	buf[*len + nl] = '=';
	memcpy(buf + *len + nl + 1, val, vl);
	buf[*len + nl + 1 + vl] = '\0';
	*len += nl + vl + 2;
}

size_t fg_log_format_journal(const struct fg_event *ev, char *buf, size_t cap)
{
	char tmp[24];
	size_t len = 0, lim;

	if (cap < JOURNAL_MSG_MIN + 16)
		return 0;
	lim = cap - JOURNAL_MSG_MIN;
	snprintf(tmp, sizeof(tmp), "%d", event_priority(ev));
	jfield(buf, lim, &len, "PRIORITY", tmp, sizeof(tmp));
	jfield(buf, lim, &len, "SYSLOG_IDENTIFIER", "fanguardd", 16);
	jfield(buf, lim, &len, "FANGUARD_ACTION", ev->action, 64);
	jfield(buf, lim, &len, "FANGUARD_DECISION", ev->decision, 64);
	jfield(buf, lim, &len, "FANGUARD_KEY", ev->key, FG_NAME_MAX);
	jfield(buf, lim, &len, "FANGUARD_SUBTREE", ev->subtree, FG_NAME_MAX);
	jfield(buf, lim, &len, "FANGUARD_RULE", ev->rule, FG_NAME_MAX);
	jfield(buf, lim, &len, "FANGUARD_PATH", ev->path, PATH_MAX);
	if (ev->proc) {
		snprintf(tmp, sizeof(tmp), "%d", (int)ev->proc->pid);
		jfield(buf, lim, &len, "FANGUARD_PID", tmp, sizeof(tmp));
		jfield(buf, lim, &len, "FANGUARD_EXE", ev->proc->exe, PATH_MAX);
		jfield(buf, lim, &len, "FANGUARD_AUID", id_str(ev->proc->auid, tmp, sizeof(tmp)),
		       sizeof(tmp));
	}
	memcpy(buf + len, "MESSAGE=", 8);
	len += 8;
	/* The JSON writer's NUL ends the last entry. */
	len += format_json_object(ev, buf + len, cap - len);
	return len + 1;
}

/* ---- the ring and its thread ---- */

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

static int submit_prio(struct fg_logger *lg, const char *line, size_t len, int prio)
{
	int r = 0;

	if (!lg->ring)
		return -EINVAL;
	pthread_mutex_lock(&lg->lock);
	if (lg->stop || len == 0 || len > FG_LINE_CAP || REC_HDR + len > FG_RING_CAP - lg->used) {
		lg->dropped++;
		lg->dropped_pending++;
		r = -ENOBUFS;
	} else {
		uint32_t hdr[2] = {(uint32_t)len, (uint32_t)prio};

		ring_put(lg, hdr, REC_HDR);
		ring_put(lg, line, len);
	}
	pthread_cond_signal(&lg->cond);
	pthread_mutex_unlock(&lg->lock);
	return r;
}

int fg_logger_submit(struct fg_logger *lg, const char *line, size_t len)
{
	return submit_prio(lg, line, len, LOG_INFO);
}

static size_t logger_format(const struct fg_logger *lg, const struct fg_event *ev, char *buf,
			    size_t cap)
{
	if (lg->sink == FG_SINK_JOURNAL)
		return fg_log_format_journal(ev, buf, cap);
	return fg_log_format(ev, lg->fmt, buf, cap);
}

int fg_logger_event(struct fg_logger *lg, const struct fg_event *ev)
{
	char line[FG_LINE_CAP];
	size_t n = logger_format(lg, ev, line, sizeof(line));

	return submit_prio(lg, line, n, event_priority(ev));
}

/* Takes whole records into out (at most FG_LINE_CAP bytes, at least one
 * record) and returns the byte count. Syslog and the journal take one
 * record a time: each is its own message. Called with the lock held. */
static size_t take_batch(struct fg_logger *lg, char *out, size_t *ret_lines, int *ret_prio)
{
	size_t n = 0, lines = 0;

	while (lg->used > 0) {
		uint32_t hdr[2];

		ring_peek(lg, hdr, REC_HDR);
		if (lines > 0 && (lg->fd < 0 || n + hdr[0] > FG_LINE_CAP))
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

static int emit_summary(struct fg_logger *lg, char *out, uint64_t n)
{
	char msg[96];
	struct fg_event ev = {
	    .action = "log-dropped", .outcome = "failure", .count = n, .message = msg};
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ev.when);
	snprintf(msg, sizeof(msg),
		 "%" PRIu64 " log lines were dropped because the sink was too slow", n);
	len = logger_format(lg, &ev, out, FG_LINE_CAP);
	return sink_write(lg, out, len, LOG_WARNING);
}

static void account(struct fg_logger *lg, size_t lines, int r)
{
	if (r < 0)
		lg->write_errors++;
	else
		lg->written += lines;
}

/* Writes happen outside the lock, so a slow sink never holds up submit. */
static void *logger_main(void *arg)
{
	struct fg_logger *lg = arg;
	char *out = lg->ring + FG_RING_CAP;

	pthread_mutex_lock(&lg->lock);
	lg->tid = gettid();
	pthread_cond_broadcast(&lg->cond);
	for (;;) {
		size_t n, lines;
		uint64_t lost;
		int prio = LOG_INFO, r;

		if (lg->used > 0) {
			n = take_batch(lg, out, &lines, &prio);
			pthread_mutex_unlock(&lg->lock);
			r = sink_write(lg, out, n, prio);
			pthread_mutex_lock(&lg->lock);
			account(lg, lines, r);
		} else if (lg->dropped_pending > 0) {
			lost = lg->dropped_pending;
			lg->dropped_pending = 0;
			pthread_mutex_unlock(&lg->lock);
			r = emit_summary(lg, out, lost);
			pthread_mutex_lock(&lg->lock);
			account(lg, 1, r);
		} else if (lg->stop) {
			break;
		} else {
			pthread_cond_wait(&lg->cond, &lg->lock);
		}
	}
	pthread_mutex_unlock(&lg->lock);
	return NULL;
}

static int logger_start(struct fg_logger *lg, enum fg_logsink sink, int fd, enum fg_logformat fmt)
{
	sigset_t all, old;
	int r;

	memset(lg, 0, sizeof(*lg));
	lg->sink = sink;
	lg->fmt = fmt;
	lg->fd = fd;
	lg->ring = malloc(FG_RING_CAP + OUT_CAP);
	if (!lg->ring)
		return -ENOMEM;
	pthread_mutex_init(&lg->lock, NULL);
	pthread_cond_init(&lg->cond, NULL);
	/* Born with every signal blocked, so the daemon's signalfd sees them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&lg->thread, NULL, logger_main, lg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_cond_destroy(&lg->cond);
		pthread_mutex_destroy(&lg->lock);
		free(lg->ring);
		lg->ring = NULL;
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

int fg_logger_open_fd(struct fg_logger *lg, int fd, enum fg_logformat fmt)
{
	int r = logger_start(lg, fd == STDERR_FILENO ? FG_SINK_STDERR : FG_SINK_FILE, fd, fmt);

	if (r < 0 && fd != STDERR_FILENO)
		close(fd);
	return r;
}

static int open_syslog(struct fg_logger *lg, enum fg_logformat fmt)
{
	int r;

	openlog("fanguardd", LOG_NDELAY | LOG_PID, LOG_DAEMON);
	r = logger_start(lg, FG_SINK_SYSLOG, -1, fmt);
	if (r < 0)
		closelog();
	return r;
}

int fg_logger_open(struct fg_logger *lg, const struct fg_config *cfg)
{
	int fd;

	/* A failed open leaves lg safe to close. */
	memset(lg, 0, sizeof(*lg));
	lg->fd = -1;
	switch (cfg->log) {
	case FG_SINK_FILE:
		fd =
		    open(cfg->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
		if (fd < 0)
			return -errno;
		return fg_logger_open_fd(lg, fd, cfg->log_format);
	case FG_SINK_SYSLOG:
		return open_syslog(lg, cfg->log_format);
	case FG_SINK_JOURNAL:
#ifdef FG_HAVE_SYSTEMD
		return logger_start(lg, FG_SINK_JOURNAL, -1, FG_FMT_JSON);
#else
		return open_syslog(lg, cfg->log_format);
#endif
	case FG_SINK_STDERR:
		break;
	}
	return fg_logger_open_fd(lg, STDERR_FILENO, cfg->log_format);
}

void fg_logger_close(struct fg_logger *lg)
{
	if (!lg->started)
		return;
	pthread_mutex_lock(&lg->lock);
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
	free(lg->ring);
	lg->ring = NULL;
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
