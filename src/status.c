/* Rendering the daemon's status as JSON and as text for an 80-column
 * terminal. Pure: everything comes from the snapshot. The socket server is
 * in status_server.c. */
#include <errno.h>
#include "fanguard/status.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fanguard/json.h"
#include "fanguard/twins.h"
#include "fanguard/util.h"

/* clang-format off */
/* Every counter, under the name JSON and text use. */
#define COUNTER_LIST(X) \
	X(read_allowed, "read-opens allowed") \
	X(write_allowed_rule, "write-opens allowed by rule") \
	X(write_allowed_tx, "write-opens allowed by transaction") \
	X(denied, "write-opens denied") \
	X(would_deny, "write-opens that would be denied") \
	X(on_error, "on_error outcomes") \
	X(unknown_intent, "unknown-intent outcomes") \
	X(rename_in, "renames in seen") \
	X(link_in, "links in seen") \
	X(modify, "modifications seen") \
	X(attrib, "attribute changes seen") \
	X(self, "own opens allowed") \
	X(outside, "opens outside every subtree") \
	X(symlink_in, "symlinks placed seen") \
	X(replaced, "subtree paths found replaced") \
	X(overload, "answered by on_overload") \
	X(removed_empty, "empty files removed after deny") \
	X(created, "new entries no open explains") \
	X(special, "special files made") \
	X(deleted, "deletes seen") \
	X(renamed, "renames within or out seen") \
	X(close_write, "unexplained writable closes")
/* clang-format on */

static bool subtree_audit(const struct fg_snapshot *s, unsigned i)
{
	enum fg_mode m = s->cfg->subtrees[i].mode;

	if (m == FG_MODE_INHERIT)
		m = s->cfg->mode;
	return m == FG_MODE_AUDIT;
}

static const char *subtree_mode(const struct fg_snapshot *s, unsigned i)
{
	return subtree_audit(s, i) ? "audit" : "enforce";
}

static uint64_t mark_errors(const struct fg_snapshot *s)
{
	return s->fan_mark_errors + s->state->c.mark_errors;
}

/* An optional subtree's tool may not be installed, and on an image-mode
 * host /usr/local is a link into /var: neither is a degradation. */
static bool absent_ok(const struct fg_snapshot *s, unsigned i)
{
	int e = s->st[i].error;

	return s->cfg->subtrees[i].optional && (e == 0 || e == -ELOOP);
}

enum fg_status_word fg_status_word(const struct fg_snapshot *s)
{
	bool audit = s->cfg->mode == FG_MODE_AUDIT;

	if (mark_errors(s) > 0 || fg_twins_unguarded(s->cfg))
		return FG_STATUS_DEGRADED;
	for (unsigned i = 0; i < s->cfg->n_subtrees; i++) {
		if (fg_twins_inert(s->cfg, i))
			continue; /* a gone deployment's */
		if (s->st && !s->st[i].exists && !absent_ok(s, i))
			return FG_STATUS_DEGRADED;
		/* from the fresh check: missing (unless optional) or unmarked */
		if (s->check && s->st && !s->st[i].error &&
		    !(s->check[i].exists ? s->check[i].marked : s->cfg->subtrees[i].optional))
			return FG_STATUS_DEGRADED;
		audit = audit || subtree_audit(s, i);
	}
	return audit ? FG_STATUS_AUDIT : FG_STATUS_ENFORCING;
}

const char *fg_status_word_name(enum fg_status_word w)
{
	return w == FG_STATUS_ENFORCING ? "enforcing" : w == FG_STATUS_AUDIT ? "audit" : "degraded";
}

static void iso_time(const struct timespec *ts, char *out, size_t cap)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *id_str(uint32_t id, char *tmp, size_t cap)
{
	if (id == FG_AUID_UNSET)
		return "unset";
	snprintf(tmp, cap, "%" PRIu32, id);
	return tmp;
}

/* Newest first. */
static const struct fg_recent *recent_at(const struct fg_state *st, unsigned i)
{
	return &st->recent[(st->recent_next + FG_RECENT_MAX - 1 - i) % FG_RECENT_MAX];
}

static double tx_age(const struct fg_snapshot *s, const struct fg_tx *t)
{
	uint64_t started =
	    (uint64_t)t->started.tv_sec * 1000000000ULL + (uint64_t)t->started.tv_nsec;

	return s->now_mono_ns > started ? (double)(s->now_mono_ns - started) / 1e9 : 0.0;
}

/* The median is reported as its log2 bucket's upper bound, which can
 * exceed the slowest decision actually seen: never show it above that. */
static void latency(const struct fg_state *st, uint64_t *ret_median, uint64_t *ret_max)
{
	fg_state_latency_summary(st, ret_median, ret_max);
	if (*ret_median > *ret_max)
		*ret_median = *ret_max;
}

/* ---- JSON ---- */

static void jraw(struct fg_json *j, const char *key, const char *val)
{
	fg_json_str_raw(j, key, val, strlen(val));
}

static void json_daemon(struct fg_json *j, const struct fg_snapshot *s)
{
	char when[32];

	fg_json_str(j, "status", fg_status_word_name(fg_status_word(s)));
	fg_json_obj_open(j, "daemon");
	fg_json_i64(j, "pid", s->pid);
	fg_json_str(j, "version", s->version);
	iso_time(&s->started, when, sizeof(when));
	fg_json_str(j, "started", when);
	fg_json_u64(j, "uptime_seconds", s->uptime_ns / 1000000000ULL);
	fg_json_str(j, "mode",
		    fg_mode_name(s->cfg->mode == FG_MODE_AUDIT ? FG_MODE_AUDIT : FG_MODE_ENFORCE));
	fg_json_obj_close(j);
	fg_json_obj_open(j, "config");
	fg_json_u64(j, "generation", s->generation);
	fg_json_arr_open(j, "files");
	for (unsigned i = 0; i < s->cfg->n_files; i++)
		jraw(j, NULL, s->cfg->files[i]);
	fg_json_arr_close(j);
	fg_json_obj_close(j);
}

/* One word for a subtree's state: why it is not guarded, when it is not. */
static const char *subtree_state(const struct fg_snapshot *s, unsigned i)
{
	if (!s->st)
		return "unknown";
	/* What the path is now, not what it was when it was marked. */
	bool exists = s->check ? s->check[i].exists : s->st[i].exists;

	if (s->st[i].error == -ELOOP)
		return "SYMLINK";
	if (!exists && s->cfg->subtrees[i].optional && !s->st[i].error)
		return "absent";
	if (s->st[i].error)
		return "MARK-FAILED";
	if (!exists)
		return "MISSING";
	return s->check && !s->check[i].marked ? "UNMARKED" : "guarded";
}

static void json_subtrees(struct fg_json *j, const struct fg_snapshot *s)
{
	fg_json_arr_open(j, "subtrees");
	for (unsigned i = 0; i < s->cfg->n_subtrees; i++) {
		const struct fg_subtree_cfg *t = &s->cfg->subtrees[i];

		if (fg_twins_inert(s->cfg, i))
			continue;
		fg_json_obj_open(j, NULL);
		fg_json_str(j, "name", t->name);
		jraw(j, "path", t->path);
		if (t->twin)
			jraw(j, "deployment", t->dep->root);
		fg_json_str(j, "key", t->key);
		fg_json_str(j, "mode", subtree_mode(s, i));
		fg_json_u64(j, "marks", s->st ? s->st[i].marks : 0);
		fg_json_bool(j, "exists", s->check ? s->check[i].exists : s->st && s->st[i].exists);
		fg_json_str(j, "state", subtree_state(s, i));
		if (s->check && s->check[i].exists && !s->check[i].marked)
			jraw(j, "unmarked", s->check[i].unmarked);
		fg_json_obj_close(j);
	}
	fg_json_arr_close(j);
}

/* A live deployment's twins and their marks. */
static unsigned dep_twins(const struct fg_snapshot *s, const struct fg_deployment *d,
			  uint64_t *ret_marks)
{
	unsigned n = 0;

	*ret_marks = 0;
	for (unsigned i = 0; i < s->cfg->n_subtrees; i++) {
		if (!s->cfg->subtrees[i].twin || s->cfg->subtrees[i].dep != d)
			continue;
		n++;
		*ret_marks += s->st ? s->st[i].marks : 0;
	}
	return n;
}

static void json_deployments(struct fg_json *j, const struct fg_snapshot *s)
{
	const struct fg_deployments_cfg *dc = &s->cfg->deployments;

	fg_json_arr_open(j, "deployments");
	for (unsigned i = 0; i < dc->n_found; i++) {
		const struct fg_deployment *d = dc->found[i];
		uint64_t marks;

		if (d->gone)
			continue;
		fg_json_obj_open(j, NULL);
		jraw(j, "root", d->root);
		jraw(j, "id", d->id);
		if (d->stateroot[0])
			jraw(j, "stateroot", d->stateroot);
		fg_json_bool(j, "booted", d->booted);
		fg_json_u64(j, "twins", dep_twins(s, d, &marks));
		fg_json_u64(j, "marks", marks);
		fg_json_obj_close(j);
	}
	fg_json_arr_close(j);
}

static void json_counters(struct fg_json *j, const struct fg_snapshot *s)
{
	const struct fg_counters *c = &s->state->c;
	const struct fg_config *cfg = s->cfg;

	fg_json_obj_open(j, "counters");
#define X(field, label) fg_json_u64(j, #field, c->field);
	COUNTER_LIST(X)
#undef X
	fg_json_obj_close(j);
	fg_json_arr_open(j, "rules");
	for (unsigned i = 0; i < cfg->n_writers && i < s->state->n_rules; i++) {
		fg_json_obj_open(j, NULL);
		fg_json_str(j, "name", cfg->writers[i].name);
		fg_json_u64(j, "hits", s->state->rule_hits[i]);
		fg_json_obj_close(j);
	}
	fg_json_arr_close(j);
}

/* event.id of a line: the daemon's instance and the sequence number. */
static const char *event_id(const char *instance, uint64_t seq, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s-%" PRIu64, instance, seq);
	return buf;
}

static void json_recent(struct fg_json *j, const struct fg_snapshot *s)
{
	char when[32], tmp[16], id[112];

	fg_json_arr_open(j, "recent_denials");
	for (unsigned i = 0; i < s->state->recent_n; i++) {
		const struct fg_recent *r = recent_at(s->state, i);

		fg_json_obj_open(j, NULL);
		iso_time(&r->when, when, sizeof(when));
		fg_json_str(j, "time", when);
		fg_json_str(j, "decision", r->decision);
		jraw(j, "path", r->path);
		jraw(j, "exe", r->exe);
		fg_json_i64(j, "pid", r->pid);
		fg_json_str(j, "uid", id_str(r->uid, tmp, sizeof(tmp)));
		fg_json_str(j, "auid", id_str(r->auid, tmp, sizeof(tmp)));
		fg_json_str(j, "rule", r->rule);
		if (r->subtree[0])
			fg_json_str(j, "subtree", r->subtree);
		if (r->seq) {
			fg_json_u64(j, "sequence", r->seq);
			if (s->instance)
				fg_json_str(j, "id", event_id(s->instance, r->seq, id, sizeof(id)));
		}
		jraw(j, "explain", r->explain);
		fg_json_obj_close(j);
	}
	fg_json_arr_close(j);
}

static void json_health(struct fg_json *j, const struct fg_snapshot *s)
{
	const struct fg_counters *c = &s->state->c;
	uint64_t median, max;

	latency(s->state, &median, &max);
	fg_json_obj_open(j, "health");
	fg_json_u64(j, "queue_overflows", c->overflow);
	fg_json_u64(j, "reply_errors", c->reply_errors);
	fg_json_u64(j, "event_errors", c->event_errors);
	fg_json_u64(j, "decisions_timed", s->state->lat_n);
	fg_json_u64(j, "decision_median_ns", median);
	fg_json_u64(j, "decision_max_ns", max);
	fg_json_u64(j, "in_flight", c->in_flight);
	fg_json_u64(j, "log_lines_written", s->log_written);
	fg_json_u64(j, "log_lines_dropped", s->log_dropped);
	fg_json_u64(j, "log_write_errors", s->log_errors);
	fg_json_u64(j, "marks", s->marks);
	fg_json_u64(j, "mark_errors", mark_errors(s));
	fg_json_str(j, "selftest",
		    s->selftest > 0   ? "passed"
		    : s->selftest < 0 ? "failed"
				      : "not-run");
	if (s->audit_records)
		fg_json_str(j, "audit_records", s->audit_records);
	if (s->loginuid_immutable)
		fg_json_str(j, "loginuid_immutable", s->loginuid_immutable);
	fg_json_u64(j, "digests_hashed", s->digests_hashed);
	fg_json_u64(j, "digests_failed", s->digests_failed);
	if (s->on_daemon_exit) {
		fg_json_str(j, "on_daemon_exit", s->on_daemon_exit);
		fg_json_str(j, "fd_store", s->fd_store ? s->fd_store : "unknown");
		fg_json_u64(j, "takeovers", s->takeovers);
	}
	if (s->sigpolicy)
		fg_json_str(j, "signature_policy", s->sigpolicy);
	fg_json_obj_close(j);
	if (!s->pc)
		return;
	fg_json_obj_open(j, "writer_cache");
	fg_json_bool(j, "enabled", s->pc->on);
	if (s->pc->off)
		fg_json_str(j, "off_reason", s->pc->off);
	fg_json_u64(j, "entries", fg_pcache_count(s->pc));
	fg_json_u64(j, "hits", s->pc->hits);
	fg_json_u64(j, "misses", s->pc->misses);
	fg_json_u64(j, "invalidated", s->pc->dropped);
	fg_json_u64(j, "flushes", s->pc->flushes);
	fg_json_u64(j, "process_events", s->pc->messages);
	fg_json_obj_close(j);
}

static void json_tx(struct fg_json *j, const struct fg_snapshot *s)
{
	const struct fg_state *st = s->state;

	fg_json_obj_open(j, "transactions");
	fg_json_arr_open(j, "in_progress");
	for (unsigned i = 0; i < FG_TX_MAX; i++) {
		const struct fg_tx *t = &st->tx[i];
		if (!t->pid)
			continue;
		fg_json_obj_open(j, NULL);
		fg_json_i64(j, "pid", t->pid);
		jraw(j, "exe", t->exe);
		fg_json_u64(j, "files", t->files);
		fg_json_double(j, "seconds", tx_age(s, t));
		fg_json_obj_close(j);
	}
	fg_json_arr_close(j);
	fg_json_u64(j, "finished", st->tx_finished);
	if (st->tx_finished) {
		fg_json_obj_open(j, "last");
		fg_json_i64(j, "pid", st->tx_last.pid);
		jraw(j, "exe", st->tx_last.exe);
		fg_json_u64(j, "files", st->tx_last.files);
		fg_json_double(j, "seconds", st->tx_last.seconds);
		fg_json_obj_close(j);
	} else {
		fg_json_null(j, "last");
	}
	fg_json_obj_close(j);
}

size_t fg_status_render_json(const struct fg_snapshot *s, char *buf, size_t cap)
{
	struct fg_json j;

	fg_json_init(&j, buf, cap);
	json_daemon(&j, s);
	json_subtrees(&j, s);
	json_deployments(&j, s);
	json_counters(&j, s);
	json_recent(&j, s);
	json_health(&j, s);
	json_tx(&j, s);
	return (size_t)fg_json_finish(&j);
}

/* ---- text ---- */

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

/* Appends one line (the format has no newline); a line that does not fit
 * ends the output, so the text is never cut mid-line. */
__attribute__((format(printf, 2, 3))) static void line(struct out *o, const char *fmt, ...)
{
	char tmp[4 * FG_STATUS_WIDTH];
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > FG_STATUS_WIDTH)
		n = FG_STATUS_WIDTH; /* never past the terminal, whatever the caller did */
	if (o->len + (size_t)n + 2 > o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, tmp, (size_t)n);
	o->len += (size_t)n;
	o->buf[o->len++] = '\n';
	o->buf[o->len] = '\0';
}

char *fg_status_fit(char *dst, const char *src, size_t width)
{
	size_t n = strlen(src), head, tail, k = 0;

	if (n <= width) {
		head = n;
		tail = 0;
	} else {
		head = (width - 3) / 2 + (width - 3) % 2;
		tail = width - 3 - head;
	}
	for (size_t i = 0; i < head; i++)
		dst[k++] = src[i];
	if (n > width) {
		memcpy(dst + k, "...", 3);
		k += 3;
		for (size_t i = n - tail; i < n; i++)
			dst[k++] = src[i];
	}
	dst[k] = '\0';
	for (size_t i = 0; i < k; i++)
		if ((unsigned char)dst[i] < 0x20 || (unsigned char)dst[i] >= 0x7f)
			dst[i] = '?';
	return dst;
}

static void duration(uint64_t secs, char *out, size_t cap)
{
	if (secs >= 86400)
		snprintf(out, cap, "%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m", secs / 86400,
			 secs / 3600 % 24, secs / 60 % 60);
	else
		snprintf(out, cap, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", secs / 3600,
			 secs / 60 % 60, secs % 60);
}

/* ns as "850 ns", "12.3 us", "4.0 ms" */
static void nanos(uint64_t ns, char *out, size_t cap)
{
	if (ns < 1000)
		snprintf(out, cap, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(out, cap, "%.1f us", (double)ns / 1e3);
	else
		snprintf(out, cap, "%.1f ms", (double)ns / 1e6);
}

static void text_head(struct out *o, const struct fg_snapshot *s)
{
	enum fg_status_word w = fg_status_word(s);
	char up[32], f[FG_STATUS_WIDTH + 1];

	duration(s->uptime_ns / 1000000000ULL, up, sizeof(up));
	line(o, "fanguardd %s, pid %d, up %s: %s", s->version, (int)s->pid, up,
	     w == FG_STATUS_ENFORCING ? "ENFORCING"
	     : w == FG_STATUS_AUDIT   ? "AUDIT (writes are logged, not denied)"
				      : "DEGRADED (a subtree is missing or unmarked)");
	line(o, "config generation %" PRIu64 ", mode %s, %u subtrees, %u writer rules",
	     s->generation, s->cfg->mode == FG_MODE_AUDIT ? "audit" : "enforce", s->cfg->n_subtrees,
	     s->cfg->n_writers);
	for (unsigned i = 0; i < s->cfg->n_files; i++)
		line(o, "  %s", fg_status_fit(f, s->cfg->files[i], FG_STATUS_WIDTH - 2));
}

static void text_subtrees(struct out *o, const struct fg_snapshot *s)
{
	char name[21], key[21], path[FG_STATUS_WIDTH + 1];

	line(o, "%s", "");
	line(o, "%-22s %-20s %-7s %8s  %s", "SUBTREE", "KEY", "MODE", "MARKS", "STATE");
	for (unsigned i = 0; i < s->cfg->n_subtrees; i++) {
		const struct fg_subtree_cfg *t = &s->cfg->subtrees[i];
		if (fg_twins_inert(s->cfg, i))
			continue;
		line(o, "%-22s %-20s %-7s %8" PRIu64 "  %s", fg_status_fit(name, t->name, 20),
		     fg_status_fit(key, t->key, 20), subtree_mode(s, i), s->st ? s->st[i].marks : 0,
		     subtree_state(s, i));
		line(o, "  %s", fg_status_fit(path, t->path, FG_STATUS_WIDTH - 2));
	}
}

static void text_deployments(struct out *o, const struct fg_snapshot *s)
{
	const struct fg_deployments_cfg *dc = &s->cfg->deployments;
	char root[FG_STATUS_WIDTH + 1];
	unsigned live = fg_twins_live(s->cfg, NULL);

	line(o, "%s", "");
	if (fg_twins_unguarded(s->cfg))
		line(o, "DEPLOYMENTS: %u root(s) or twin subtree(s) NOT guarded: no room",
		     fg_twins_unguarded(s->cfg));
	if (!live) {
		line(o, "DEPLOYMENTS: no deployments found");
		return;
	}
	line(o, "DEPLOYMENTS: %u found", live);
	for (unsigned i = 0; i < dc->n_found; i++) {
		const struct fg_deployment *d = dc->found[i];
		uint64_t marks;
		unsigned n;

		if (d->gone)
			continue;
		n = dep_twins(s, d, &marks);
		line(o, "  %s", fg_status_fit(root, d->root, FG_STATUS_WIDTH - 2));
		if (d->booted)
			line(o, "    booted: its etc is the running etc (no twins)");
		else
			line(o, "    %u twin subtree(s), %" PRIu64 " marks", n, marks);
	}
}

static void text_counters(struct out *o, const struct fg_snapshot *s)
{
	const struct fg_counters *c = &s->state->c;
	char name[FG_STATUS_WIDTH + 1];

	line(o, "%s", "");
	line(o, "COUNTERS SINCE START");
#define X(field, label) line(o, "  %-40s %12" PRIu64, label, c->field);
	COUNTER_LIST(X)
#undef X
	if (s->cfg->n_writers == 0)
		return;
	line(o, "%s", "");
	line(o, "%-41s %12s", "WRITER RULE", "HITS");
	for (unsigned i = 0; i < s->cfg->n_writers && i < s->state->n_rules; i++)
		line(o, "  %-40s %12" PRIu64, fg_status_fit(name, s->cfg->writers[i].name, 40),
		     s->state->rule_hits[i]);
}

/* A long line (printable form) in slices that fit the width, the first
 * after label, the rest indented as far. */
static void text_wrapped(struct out *o, const char *label, const char *s)
{
	char fit[FG_RECENT_EXPLAIN + 1];
	size_t w = FG_STATUS_WIDTH - strlen(label), n;
	const char *p = fg_status_fit(fit, s, FG_RECENT_EXPLAIN);

	for (bool first = true; *p; first = false, p += n) {
		n = strlen(p) < w ? strlen(p) : w;
		line(o, "%s%.*s", first ? label : "         ", (int)n, p);
	}
}

static void text_recent(struct out *o, const struct fg_snapshot *s)
{
	char when[32], auid[16], uid[16], rule[FG_STATUS_WIDTH + 1], f[FG_STATUS_WIDTH + 1];
	char id[112];
	struct tm tm;

	line(o, "%s", "");
	line(o, "RECENT DENIALS (newest first, %u kept)", (unsigned)FG_RECENT_MAX);
	if (s->state->recent_n == 0)
		line(o, "  none");
	for (unsigned i = 0; i < s->state->recent_n; i++) {
		const struct fg_recent *r = recent_at(s->state, i);

		gmtime_r(&r->when.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
		line(o, "  %s  %-10s auid=%s uid=%s pid=%d %s", when, r->decision,
		     id_str(r->auid, auid, sizeof(auid)), id_str(r->uid, uid, sizeof(uid)),
		     (int)r->pid, fg_status_fit(rule, r->rule, 16));
		line(o, "    file %s", fg_status_fit(f, r->path, FG_STATUS_WIDTH - 9));
		line(o, "    exe  %s",
		     fg_status_fit(f, r->exe[0] ? r->exe : "(unknown)", FG_STATUS_WIDTH - 9));
		if (r->seq && s->instance)
			line(o, "    id   %s (sequence %" PRIu64 ")",
			     event_id(s->instance, r->seq, id, sizeof(id)), r->seq);
		text_wrapped(o, "    why  ", r->explain);
	}
}

static void text_health(struct out *o, const struct fg_snapshot *s)
{
	const struct fg_counters *c = &s->state->c;
	uint64_t median, max;
	char a[32], b[32];

	latency(s->state, &median, &max);
	nanos(median, a, sizeof(a));
	nanos(max, b, sizeof(b));
	line(o, "%s", "");
	line(o, "HEALTH");
	line(o, "  %-40s %12" PRIu64, "kernel queue overflows", c->overflow);
	line(o, "  %-40s %12" PRIu64, "reply errors", c->reply_errors);
	line(o, "  %-40s %12" PRIu64, "events the kernel denied (fd error)", c->event_errors);
	line(o, "  %-40s %12s", "decision time, median", a);
	line(o, "  %-40s %12s", "decision time, slowest", b);
	line(o, "  %-40s %12" PRIu64, "events in flight (deferred)", c->in_flight);
	line(o, "  %-40s %12" PRIu64, "log lines dropped", s->log_dropped);
	line(o, "  %-40s %12" PRIu64, "marks placed", s->marks);
	line(o, "  %-40s %12" PRIu64, "mark errors", mark_errors(s));
	line(o, "  %-40s %12s", "self-test at start",
	     s->selftest > 0   ? "passed"
	     : s->selftest < 0 ? "FAILED"
			       : "not run");
	if (s->audit_records)
		line(o, "  %-40s %12s", "kernel audit records", s->audit_records);
	if (s->loginuid_immutable)
		line(o, "  %-40s %12s", "login uids immutable", s->loginuid_immutable);
	line(o, "  %-40s %12" PRIu64, "executables hashed", s->digests_hashed);
	if (s->on_daemon_exit) {
		line(o, "  %-40s %12s", "on daemon exit", s->on_daemon_exit);
		line(o, "    (permission group %s)", s->fd_store ? s->fd_store : "unknown");
		line(o, "  %-40s %12" PRIu64, "takeovers (restarts that held the gate)",
		     s->takeovers);
	}
	if (s->sigpolicy)
		line(o, "  %-40s %12s", "signature policy (policy.json)", s->sigpolicy);
	if (!s->pc)
		return;
	line(o, "  %-40s %12s", "writer cache", s->pc->on ? "on" : "OFF");
	if (s->pc->off)
		line(o, "    (%s)", s->pc->off);
	line(o, "  %-40s %12" PRIu64 " / %" PRIu64, "writer cache hits / misses", s->pc->hits,
	     s->pc->misses);
}

static void text_tx(struct out *o, const struct fg_snapshot *s)
{
	const struct fg_state *st = s->state;
	char exe[FG_STATUS_WIDTH + 1];
	bool any = false;

	line(o, "%s", "");
	line(o, "TRANSACTIONS");
	for (unsigned i = 0; i < FG_TX_MAX; i++) {
		const struct fg_tx *t = &st->tx[i];
		if (!t->pid)
			continue;
		any = true;
		line(o, "  running  pid %-8d %6" PRIu64 " files %8.1f s", (int)t->pid, t->files,
		     tx_age(s, t));
		line(o, "    %s", fg_status_fit(exe, t->exe, FG_STATUS_WIDTH - 4));
	}
	if (!any)
		line(o, "  none in progress");
	if (st->tx_finished) {
		line(o, "  last     pid %-8d %6" PRIu64 " files %8.1f s  (%" PRIu64 " finished)",
		     (int)st->tx_last.pid, st->tx_last.files, st->tx_last.seconds, st->tx_finished);
		line(o, "    %s", fg_status_fit(exe, st->tx_last.exe, FG_STATUS_WIDTH - 4));
	}
}

size_t fg_status_render_text(const struct fg_snapshot *s, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap};

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	text_head(&o, s);
	text_subtrees(&o, s);
	text_deployments(&o, s);
	text_counters(&o, s);
	text_recent(&o, s);
	text_health(&o, s);
	text_tx(&o, s);
	return o.len;
}
