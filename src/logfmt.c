#include "fanguard/logfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fanguard/ident.h"
#include "fanguard/json.h"
#include "fanguard/logdeploy.h"
#include "fanguard/logschema.h"
#include "fanguard/util.h"

/* The strings of outside origin that may be long or hold any bytes. Their
 * hex form, when they are not UTF-8, goes under fanguard.hex (an ECS field
 * cannot grow a sibling), named by the second column; the first names them
 * in fanguard.truncated_fields. */
enum sfield {
	SF_PATH,
	SF_OLD_PATH,
	SF_NEW_PATH,
	SF_LAST_PATH,
	SF_EXE,
	SF_NAME,
	SF_PARENT_EXE,
	SF_PARENT_NAME,
	SF_CGROUP,
	SF_TX_EXE,
	SF_RUN_FIRST,
	SF_RUN_LAST,
	SF_MESSAGE,
	SF_ID_CLAIMED,
	SF_ID_FOUND,
	SF_N
};

static const char *const sf_names[SF_N][2] = {
    [SF_PATH] = {"file.path", "file_path"},
    [SF_OLD_PATH] = {"fanguard.old_path", "old_path"},
    [SF_NEW_PATH] = {"fanguard.new_path", "new_path"},
    [SF_LAST_PATH] = {"fanguard.repeated.last_path", "repeated_last_path"},
    [SF_EXE] = {"process.executable", "process_executable"},
    [SF_NAME] = {"process.name", "process_name"},
    [SF_PARENT_EXE] = {"process.parent.executable", "process_parent_executable"},
    [SF_PARENT_NAME] = {"process.parent.name", "process_parent_name"},
    [SF_CGROUP] = {"fanguard.cgroup", "cgroup"},
    [SF_TX_EXE] = {"fanguard.transaction.executable", "transaction_executable"},
    [SF_RUN_FIRST] = {"fanguard.run.first_file", "run_first_file"},
    [SF_RUN_LAST] = {"fanguard.run.last_file", "run_last_file"},
    [SF_MESSAGE] = {"message", "message"},
    [SF_ID_CLAIMED] = {"fanguard.identity.claimed", "identity_claimed"},
    [SF_ID_FOUND] = {"fanguard.identity.found", "identity_found"},
};

/* One attempt at a line: which ancestors are kept, how long a string may
 * be, and what that did. */
struct pass {
	struct fg_json j;
	const struct fg_loghost *host;
	const struct fg_event *ev;
	struct fg_log_class cls;
	unsigned n_anc;	    /* ancestors known */
	unsigned near, far; /* kept from each end; all when near + far >= n_anc */
	size_t str_max;	    /* SIZE_MAX: strings whole */
	uint32_t cut;	    /* bit per sfield shortened */
	uint32_t hexcut;    /* bit per sfield whose hex was shortened */
	uint32_t bad;	    /* bit per sfield that is not UTF-8 */
	const char *sval[SF_N];
	size_t slen[SF_N];
};

static bool streq(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

static bool has(const struct fg_proc *p, uint32_t bits)
{
	return (p->known & bits) == bits;
}

static void jstr(struct fg_json *j, const char *key, const char *val)
{
	if (val)
		fg_json_str(j, key, val);
}

/* A string of outside origin; max bounds the read (comm and cgroup fill
 * their arrays without a terminator). */
static void pstr(struct pass *p, enum sfield f, const char *key, const char *val, size_t max)
{
	bool cut;

	if (!val)
		return;
	p->sval[f] = val;
	p->slen[f] = strnlen(val, max);
	if (!fg_json_utf8_valid(val, p->slen[f]))
		p->bad |= 1u << f;
	fg_json_str_cut(&p->j, key, val, p->slen[f], p->str_max, &cut);
	if (cut)
		p->cut |= 1u << f;
}

static void jdate(struct fg_json *j, const char *key, const struct timespec *ts)
{
	char buf[40];

	fg_log_iso8601(ts, buf, sizeof(buf));
	fg_json_str(j, key, buf);
}

/* A start time in ticks as an ECS date; nothing when it cannot be known. */
static void jstart(struct pass *p, uint64_t ticks)
{
	struct timespec ts;

	if (fg_loghost_wall(p->host, ticks, &ts) == 0)
		jdate(&p->j, "start", &ts);
}

static const char *id_word(uint32_t id, char tmp[16])
{
	if (id == FG_AUID_UNSET)
		return "unset";
	snprintf(tmp, 16, "%" PRIu32, id);
	return tmp;
}

static unsigned ancestors_of(const struct fg_event *ev)
{
	const struct fg_proc *p = ev->proc;

	if (!p)
		return 0;
	return p->n_ancestors < FG_ANCESTRY_MAX ? p->n_ancestors : FG_ANCESTRY_MAX;
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

/* ---- the ECS part ---- */

static void json_event(struct pass *p)
{
	const struct fg_event *ev = p->ev;
	const struct fg_repeat *rp = ev->repeat;
	char id[sizeof(p->host->instance) + 24];

	fg_json_obj_open(&p->j, "event");
	fg_json_str(&p->j, "kind", p->cls.kind);
	fg_json_arr_open(&p->j, "category");
	fg_json_str(&p->j, NULL, p->cls.category);
	fg_json_arr_close(&p->j);
	fg_json_arr_open(&p->j, "type");
	fg_json_str(&p->j, NULL, p->cls.type);
	jstr(&p->j, NULL, p->cls.verdict);
	fg_json_arr_close(&p->j);
	jstr(&p->j, "action", ev->action);
	jstr(&p->j, "outcome", ev->outcome);
	fg_json_i64(&p->j, "severity", p->cls.severity);
	if (ev->sequence && p->host && p->host->instance[0]) {
		snprintf(id, sizeof(id), "%s-%" PRIu64, p->host->instance, ev->sequence);
		fg_json_str(&p->j, "id", id);
	}
	if (ev->sequence)
		fg_json_u64(&p->j, "sequence", ev->sequence);
	fg_json_str(&p->j, "module", "fanguard");
	fg_json_str(&p->j, "dataset", "fanguard.events");
	if (rp) {
		jdate(&p->j, "start", &rp->first);
		jdate(&p->j, "end", &rp->last);
	}
	fg_json_obj_close(&p->j);
	fg_json_obj_open(&p->j, "log");
	fg_json_str(&p->j, "level", p->cls.level);
	fg_json_obj_open(&p->j, "syslog");
	fg_json_obj_open(&p->j, "severity");
	fg_json_i64(&p->j, "code", p->cls.priority);
	fg_json_obj_close(&p->j);
	fg_json_obj_close(&p->j);
	fg_json_obj_close(&p->j);
}

/* ECS names three file types; fifo, socket and devices are in
 * fanguard.file_type only. */
static const char *ecs_type(const char *type)
{
	return streq(type, "file") || streq(type, "dir") || streq(type, "symlink") ? type : NULL;
}

static void json_file(struct pass *p)
{
	const struct fg_event *ev = p->ev;

	if (ev->key) {
		fg_json_arr_open(&p->j, "tags");
		fg_json_str(&p->j, NULL, ev->key);
		fg_json_arr_close(&p->j);
	}
	if (!ev->path && !ecs_type(ev->file_type))
		return;
	fg_json_obj_open(&p->j, "file");
	pstr(p, SF_PATH, "path", ev->path, PATH_MAX);
	jstr(&p->j, "type", ecs_type(ev->file_type));
	fg_json_obj_close(&p->j);
}

static void json_user(struct pass *p, const struct fg_proc *pr)
{
	char tmp[16];

	if (!has(pr, FG_PROC_STATUS) && !has(pr, FG_PROC_AUID))
		return;
	fg_json_obj_open(&p->j, "user");
	if (has(pr, FG_PROC_STATUS)) {
		snprintf(tmp, sizeof(tmp), "%" PRIu32, pr->uid);
		fg_json_str(&p->j, "id", tmp);
	}
	if (has(pr, FG_PROC_AUID)) {
		fg_json_obj_open(&p->j, "audit");
		fg_json_str(&p->j, "id", id_word(pr->auid, tmp));
		fg_json_obj_close(&p->j);
	}
	fg_json_obj_close(&p->j);
}

static void json_parent(struct pass *p, const struct fg_proc *pr)
{
	size_t max;
	const char *exe;

	if (pr->n_ancestors == 0) {
		if (has(pr, FG_PROC_STATUS) && pr->ppid > 0) {
			fg_json_obj_open(&p->j, "parent");
			fg_json_i64(&p->j, "pid", pr->ppid);
			fg_json_obj_close(&p->j);
		}
		return;
	}
	exe = anc_exe(pr, 0, &max);
	fg_json_obj_open(&p->j, "parent");
	fg_json_i64(&p->j, "pid", pr->anc[0].pid);
	if (exe[0])
		pstr(p, SF_PARENT_EXE, "executable", exe, max);
	pstr(p, SF_PARENT_NAME, "name", pr->anc[0].comm, FG_COMM_LEN);
	jstart(p, pr->anc[0].start_time);
	fg_json_obj_close(&p->j);
}

static void json_process(struct pass *p, const struct fg_proc *pr)
{
	fg_json_obj_open(&p->j, "process");
	if (has(pr, FG_PROC_STATUS) && pr->pid > 0)
		fg_json_i64(&p->j, "pid", pr->pid);
	if (pr->tid > 0) {
		fg_json_obj_open(&p->j, "thread");
		fg_json_i64(&p->j, "id", pr->tid);
		fg_json_obj_close(&p->j);
	}
	if (has(pr, FG_PROC_EXE) && pr->exe[0])
		pstr(p, SF_EXE, "executable", pr->exe, sizeof(pr->exe));
	if (has(pr, FG_PROC_STAT)) {
		pstr(p, SF_NAME, "name", pr->comm, FG_COMM_LEN);
		jstart(p, pr->start_time);
	}
	json_parent(p, pr);
	fg_json_obj_close(&p->j);
}

static void json_host(struct pass *p)
{
	const struct fg_loghost *h = p->host;

	if (h && (h->name[0] || h->id[0] || h->boot_id[0])) {
		fg_json_obj_open(&p->j, "host");
		/* No hex sibling here: host.* is ECS's. */
		if (h->name[0])
			fg_json_str_cut(&p->j, "name", h->name, strnlen(h->name, sizeof(h->name)),
					SIZE_MAX, NULL);
		if (h->id[0])
			fg_json_str(&p->j, "id", h->id);
		if (h->boot_id[0]) {
			fg_json_obj_open(&p->j, "boot");
			fg_json_str(&p->j, "id", h->boot_id);
			fg_json_obj_close(&p->j);
		}
		fg_json_obj_close(&p->j);
	}
	fg_json_obj_open(&p->j, "ecs");
	fg_json_str(&p->j, "version", FG_ECS_VERSION);
	fg_json_obj_close(&p->j);
}

/* ---- fanguard.* ---- */

static const char *resolution(const struct fg_event *ev)
{
	const struct fg_proc *p = ev->proc;

	if (!(p->known & (FG_PROC_STAT | FG_PROC_STATUS)))
		return "gone";
	if ((p->known & FG_PROC_ALL) == FG_PROC_ALL && !ev->proc_partial)
		return "full";
	return "partial";
}

static void json_writer_extra(struct pass *p)
{
	const struct fg_proc *pr = p->ev->proc;
	char tmp[16];

	if (!pr)
		return;
	fg_json_str(&p->j, "resolution", resolution(p->ev));
	if (has(pr, FG_PROC_SESSION))
		fg_json_str(&p->j, "session_id", id_word(pr->sessionid, tmp));
	if (has(pr, FG_PROC_CGROUP) && pr->cgroup[0])
		pstr(p, SF_CGROUP, "cgroup", pr->cgroup, FG_CGROUP_LEN);
}

static void json_hex32(struct fg_json *j, const char *key, const uint8_t d[32])
{
	static const char digits[] = "0123456789abcdef";
	char hex[65];

	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
	fg_json_str(j, key, hex);
}

/* How the writer was identified (DESIGN 12), and for an identity alert
 * what the process claimed to be and what was found instead. */
static void json_identity(struct pass *p)
{
	const struct fg_proc *pr = p->ev->proc;
	const char *method = pr ? fg_ident_method_name(pr->finding.method) : NULL;
	bool alert = p->ev->identity_alert && pr && pr->finding.problem;
	int who;

	if (!pr || (!method && !alert && !(pr->trust.dig & (FG_DIG_SHA256 | FG_DIG_VERITY))))
		return;
	fg_json_obj_open(&p->j, "identity");
	jstr(&p->j, "method", method);
	if (pr->trust.dig & FG_DIG_SHA256)
		json_hex32(&p->j, "sha256", pr->trust.sha256);
	if (pr->trust.dig & FG_DIG_VERITY)
		json_hex32(&p->j, "fsverity", pr->trust.verity);
	if (alert) {
		who = pr->finding.who;
		fg_json_str(&p->j, "problem", fg_ident_problem_name(pr->finding.problem));
		if (who >= 0 && (unsigned)who < ancestors_of(p->ev)) {
			size_t max;
			const char *exe = anc_exe(pr, (unsigned)who, &max);
			fg_json_i64(&p->j, "pid", pr->anc[who].pid);
			pstr(p, SF_ID_CLAIMED, "claimed", exe, max);
		} else {
			if (pr->pid > 0)
				fg_json_i64(&p->j, "pid", pr->pid);
			pstr(p, SF_ID_CLAIMED, "claimed", pr->exe, sizeof(pr->exe));
		}
		if (pr->finding.detail[0])
			pstr(p, SF_ID_FOUND, "found", pr->finding.detail,
			     sizeof(pr->finding.detail));
	}
	fg_json_obj_close(&p->j);
}

static void json_open(struct pass *p)
{
	const struct fg_event *ev = p->ev;
	char tmp[24];

	if (!ev->has_open)
		return;
	fg_json_obj_open(&p->j, "open");
	snprintf(tmp, sizeof(tmp), "0x%" PRIx64, ev->open_flags);
	fg_json_str(&p->j, "flags", tmp);
	if (ev->open_syscall)
		fg_json_str(&p->j, "syscall", ev->open_syscall);
	else
		fg_json_i64(&p->j, "nr", ev->open_nr);
	fg_json_obj_close(&p->j);
}

static void json_lost(struct pass *p, const struct fg_lost *l)
{
	char ranges[FG_LOST_RANGES * 44 + 8];
	size_t n = 0;

	ranges[0] = '\0';
	for (unsigned i = 0; i < l->n && i < FG_LOST_RANGES; i++) {
		if (l->r[i].from == l->r[i].to)
			n += (size_t)snprintf(ranges + n, sizeof(ranges) - n, "%s%" PRIu64,
					      i ? "," : "", l->r[i].from);
		else
			n += (size_t)snprintf(ranges + n, sizeof(ranges) - n,
					      "%s%" PRIu64 "-%" PRIu64, i ? "," : "", l->r[i].from,
					      l->r[i].to);
	}
	if (l->more)
		snprintf(ranges + n, sizeof(ranges) - n, ",...");
	fg_json_obj_open(&p->j, "lost");
	fg_json_u64(&p->j, "count", l->count);
	/* Lines queued without a number (fg_logger_submit) have no range. */
	if (l->n) {
		fg_json_u64(&p->j, "first", l->first);
		fg_json_u64(&p->j, "last", l->last);
		fg_json_str(&p->j, "ranges", ranges);
	}
	fg_json_obj_close(&p->j);
}

/* The counters a heartbeat reports, by the names `fanguard status` uses. */
static void json_counters(struct fg_json *j, const struct fg_counters *c)
{
	const struct {
		const char *name;
		uint64_t v;
	} list[] = {
	    {"denied", c->denied},
	    {"would_deny", c->would_deny},
	    {"write_allowed_rule", c->write_allowed_rule},
	    {"write_allowed_tx", c->write_allowed_tx},
	    {"read_allowed", c->read_allowed},
	    {"on_error", c->on_error},
	    {"unknown_intent", c->unknown_intent},
	    {"rename_in", c->rename_in},
	    {"link_in", c->link_in},
	    {"symlink_in", c->symlink_in},
	    {"modify", c->modify},
	    {"attrib", c->attrib},
	    {"removed_empty", c->removed_empty},
	    {"created", c->created},
	    {"special", c->special},
	    {"deleted", c->deleted},
	    {"renamed", c->renamed},
	    {"close_write", c->close_write},
	    {"overload", c->overload},
	    {"replaced", c->replaced},
	    {"overflow", c->overflow},
	    {"reply_errors", c->reply_errors},
	    {"event_errors", c->event_errors},
	};

	fg_json_obj_open(j, "counters");
	for (size_t i = 0; i < FG_ARRAY_SIZE(list); i++)
		fg_json_u64(j, list[i].name, list[i].v);
	fg_json_obj_close(j);
}

static void json_heartbeat(struct pass *p, const struct fg_hbline *h)
{
	fg_json_obj_open(&p->j, "heartbeat");
	fg_json_u64(&p->j, "interval", h->interval_s);
	if (h->hb && h->hb->generation)
		fg_json_u64(&p->j, "generation", h->hb->generation);
	if (h->hb && h->hb->marks)
		fg_json_u64(&p->j, "marks", h->hb->marks);
	if (h->hb)
		jstr(&p->j, "sigpolicy", h->hb->sigpolicy);
	if (h->last_sequence)
		fg_json_u64(&p->j, "last_sequence", h->last_sequence);
	fg_json_u64(&p->j, "lines", h->lines);
	fg_json_u64(&p->j, "dropped", h->dropped);
	fg_json_u64(&p->j, "aggregated", h->aggregated);
	if (h->delta)
		json_counters(&p->j, h->delta);
	fg_json_obj_close(&p->j);
}

static void json_run(struct pass *p, const struct fg_event *ev)
{
	const struct fg_run_end *r = ev->run_end;

	if (!r && !ev->run_id)
		return;
	fg_json_obj_open(&p->j, "run");
	jstr(&p->j, "id", r ? r->id : ev->run_id);
	if (r) {
		jstr(&p->j, "rule", r->rule);
		fg_json_u64(&p->j, "files", r->files);
		fg_json_u64(&p->j, "duration_ms", r->duration_ms);
		pstr(p, SF_RUN_FIRST, "first_file", r->first, PATH_MAX);
		pstr(p, SF_RUN_LAST, "last_file", r->last, PATH_MAX);
		fg_json_bool(&p->j, "lone_sensitive", r->lone_sensitive);
		fg_json_arr_open(&p->j, "per_subtree");
		for (unsigned i = 0; i < r->n_per; i++) {
			fg_json_obj_open(&p->j, NULL);
			jstr(&p->j, "key", r->per[i].key);
			jstr(&p->j, "subtree", r->per[i].subtree);
			fg_json_u64(&p->j, "files", r->per[i].files);
			fg_json_obj_close(&p->j);
		}
		fg_json_arr_close(&p->j);
	}
	fg_json_obj_close(&p->j);
}

static void json_repeat(struct pass *p, const struct fg_repeat *r)
{
	fg_json_obj_open(&p->j, "repeated");
	jstr(&p->j, "action", r->action);
	fg_json_u64(&p->j, "count", r->count);
	pstr(p, SF_LAST_PATH, "last_path", r->last_path, PATH_MAX);
	fg_json_obj_close(&p->j);
}

static void json_hex(struct pass *p)
{
	if (!p->bad)
		return;
	fg_json_obj_open(&p->j, "hex");
	for (unsigned f = 0; f < SF_N; f++) {
		bool cut;

		if (!(p->bad & (1u << f)))
			continue;
		fg_json_hex(&p->j, sf_names[f][1], p->sval[f], p->slen[f], p->str_max, &cut);
		if (cut)
			p->hexcut |= 1u << f;
	}
	fg_json_obj_close(&p->j);
}

static void json_truncated(struct pass *p)
{
	char name[64];

	if (!p->cut && !p->hexcut && p->near + p->far >= p->n_anc)
		return;
	fg_json_bool(&p->j, "truncated", true);
	if (!p->cut && !p->hexcut)
		return;
	fg_json_arr_open(&p->j, "truncated_fields");
	for (unsigned f = 0; f < SF_N; f++) {
		if (p->cut & (1u << f))
			fg_json_str(&p->j, NULL, sf_names[f][0]);
		if (p->hexcut & (1u << f)) {
			snprintf(name, sizeof(name), "fanguard.hex.%s", sf_names[f][1]);
			fg_json_str(&p->j, NULL, name);
		}
	}
	fg_json_arr_close(&p->j);
}

static void json_ancestor(struct fg_json *j, const struct fg_proc *p, unsigned i)
{
	size_t max;
	const char *exe = anc_exe(p, i, &max);

	fg_json_obj_open(j, NULL);
	fg_json_i64(j, "pid", p->anc[i].pid);
	if (exe[0])
		fg_json_str_raw(j, "executable", exe, strnlen(exe, max));
	fg_json_str_raw(j, "name", p->anc[i].comm, strnlen(p->anc[i].comm, FG_COMM_LEN));
	fg_json_obj_close(j);
}

/* Last of all: the part that grows with the writer's depth. */
static void json_ancestry(struct pass *p)
{
	const struct fg_proc *pr = p->ev->proc;
	unsigned n = p->n_anc;
	bool all = p->near + p->far >= n;

	if (!pr)
		return;
	if (!all)
		fg_json_u64(&p->j, "ancestry_truncated", n - p->near - p->far);
	if (pr->ancestry_truncated || (n > 0 && !has(pr, FG_PROC_ANCESTRY)))
		fg_json_bool(&p->j, "ancestry_incomplete", true);
	if (n == 0 || p->near + p->far == 0)
		return;
	fg_json_arr_open(&p->j, "ancestry");
	for (unsigned i = 0; i < n; i++)
		if (all || i < p->near || i >= n - p->far)
			json_ancestor(&p->j, pr, i);
	fg_json_arr_close(&p->j);
}

static void json_fanguard(struct pass *p)
{
	const struct fg_event *ev = p->ev;

	fg_json_obj_open(&p->j, "fanguard");
	jstr(&p->j, "decision", ev->decision);
	jstr(&p->j, "reason", ev->reason);
	jstr(&p->j, "mode",
	     ev->heartbeat && ev->heartbeat->hb ? ev->heartbeat->hb->mode : ev->mode);
	jstr(&p->j, "rule", ev->rule);
	jstr(&p->j, "subtree", ev->subtree);
	jstr(&p->j, "key", ev->key);
	json_writer_extra(p);
	json_identity(p);
	if (ev->tx_pid || ev->tx_id) {
		fg_json_obj_open(&p->j, "transaction");
		jstr(&p->j, "id", ev->tx_id);
		if (ev->tx_pid)
			fg_json_i64(&p->j, "pid", ev->tx_pid);
		pstr(p, SF_TX_EXE, "executable", ev->tx_exe, PATH_MAX);
		fg_json_obj_close(&p->j);
	}
	json_run(p, ev);
	if (p->host && p->host->instance[0])
		fg_json_str(&p->j, "instance", p->host->instance);
	json_open(p);
	if (streq(ev->action, "transaction-end") || ev->lost)
		fg_json_u64(&p->j, "count", ev->count);
	pstr(p, SF_OLD_PATH, "old_path", ev->old_path, PATH_MAX);
	pstr(p, SF_NEW_PATH, "new_path", ev->new_path, PATH_MAX);
	jstr(&p->j, "file_type", ev->file_type);
	if (ev->repeat)
		json_repeat(p, ev->repeat);
	if (ev->lost)
		json_lost(p, ev->lost);
	if (ev->heartbeat)
		json_heartbeat(p, ev->heartbeat);
	fg_logdeploy_fanguard(&p->j, ev);
	json_hex(p);
	json_truncated(p);
	json_ancestry(p);
	fg_json_obj_close(&p->j);
}

/* One pass; returns true when everything fit. */
static bool attempt(struct pass *p, char *buf, size_t cap)
{
	const struct fg_event *ev = p->ev;

	p->cut = p->hexcut = p->bad = 0;
	fg_json_init(&p->j, buf, cap);
	{
		char ts[40];

		fg_log_iso8601(&ev->when, ts, sizeof(ts));
		fg_json_str(&p->j, "@timestamp", ts);
	}
	json_event(p);
	json_file(p);
	if (ev->proc) {
		json_user(p, ev->proc);
		json_process(p, ev->proc);
	}
	fg_logdeploy_ecs(&p->j, ev);
	json_host(p);
	pstr(p, SF_MESSAGE, "message", ev->message, FG_LINE_CAP);
	json_fanguard(p);
	fg_json_finish(&p->j);
	return !p->j.overflow;
}

/* The largest value in [lo, hi) for which keep(value) fits, given that lo
 * fits; leaves that pass's output in buf. */
static void search(struct pass *p, char *buf, size_t cap, size_t lo, size_t hi, bool anc)
{
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (anc)
			p->near = p->far = (unsigned)mid;
		else
			p->str_max = mid;
		if (attempt(p, buf, cap))
			lo = mid;
		else
			hi = mid;
	}
	if (anc)
		p->near = p->far = (unsigned)lo;
	else
		p->str_max = lo;
	attempt(p, buf, cap);
}

/* The JSON object of ev in at most cap - 1 bytes (plus the NUL). */
static size_t json_object(const struct fg_loghost *host, const struct fg_event *ev, char *buf,
			  size_t cap)
{
	struct pass p = {.host = host, .ev = ev, .str_max = SIZE_MAX};

	fg_log_classify(ev, &p.cls);
	p.n_anc = ancestors_of(ev);
	p.near = p.n_anc;
	if (attempt(&p, buf, cap))
		return p.j.len;
	/* Too long: the fewest ancestors left out that make it fit... */
	p.near = p.far = 0;
	if (attempt(&p, buf, cap)) {
		search(&p, buf, cap, 0, (p.n_anc + 1) / 2, true);
		return p.j.len;
	}
	/* ...or, when the rest alone is too long, the longest string cap. */
	p.str_max = 0;
	if (attempt(&p, buf, cap)) {
		search(&p, buf, cap, 0, cap, false);
		return p.j.len;
	}
	/* Not reached with max_line >= FG_MAX_LINE_MIN (tested); the JSON
	 * writer's own cut still leaves one valid object. */
	return p.j.len;
}

static size_t clamp_line(size_t max_line)
{
	return max_line < FG_MAX_LINE_MIN ? FG_MAX_LINE_MIN
	       : max_line > FG_LINE_CAP	  ? FG_LINE_CAP
					  : max_line;
}

size_t fg_log_format(const struct fg_loghost *host, const struct fg_event *ev,
		     enum fg_logformat fmt, size_t max_line, char *buf)
{
	size_t n;

	max_line = clamp_line(max_line);
	if (fmt == FG_FMT_TEXT)
		return fg_log_format_text(host, ev, max_line, buf);
	/* The object, then '\n' within max_line, then the NUL. */
	n = json_object(host, ev, buf, max_line);
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* ---- the journal ---- */

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

/* A value of outside origin: NAME= its JSON-escaped form (printable UTF-8,
 * so journald keeps it a string), and NAME_HEX= its bytes when the escaped
 * form differs. */
static void jfield_odd(char *buf, size_t lim, size_t *len, const char *name, const char *val,
		       size_t max)
{
	size_t nl, vl, need, at = *len;

	if (!val)
		return;
	nl = strlen(name);
	vl = strnlen(val, max);
	if (at + nl + 2 > lim)
		return;
	memcpy(buf + at, name, nl);
	buf[at + nl] = '=';
	need = fg_json_escape(buf + at + nl + 1, lim - at - nl - 1, val, vl, NULL);
	if (at + nl + 1 + need + 1 > lim)
		return;
	*len = at + nl + 1 + need + 1;
	if (need == vl && memcmp(buf + at + nl + 1, val, vl) == 0)
		return;
	at = *len;
	if (at + nl + 5 + 2 * vl + 1 > lim)
		return;
	memcpy(buf + at, name, nl);
	memcpy(buf + at + nl, "_HEX=", 5);
	for (size_t i = 0; i < vl; i++)
		snprintf(buf + at + nl + 5 + 2 * i, 3, "%02x", (unsigned char)val[i]);
	*len = at + nl + 5 + 2 * vl + 1;
}

size_t fg_log_format_journal(const struct fg_loghost *host, const struct fg_event *ev,
			     size_t max_line, char *buf, size_t cap)
{
	struct fg_log_class cls;
	const struct fg_proc *p = ev->proc;
	char tmp[24];
	size_t len = 0, lim;

	max_line = clamp_line(max_line);
	if (cap < max_line + 1024)
		return 0;
	/* MESSAGE= and the object (at most max_line - 1 bytes) stay reserved. */
	lim = cap - max_line - 8;
	fg_log_classify(ev, &cls);
	snprintf(tmp, sizeof(tmp), "%d", cls.priority);
	jfield(buf, lim, &len, "PRIORITY", tmp, sizeof(tmp));
	jfield(buf, lim, &len, "SYSLOG_IDENTIFIER", "fanguardd", 16);
	jfield(buf, lim, &len, "FANGUARD_ACTION", ev->action, 64);
	jfield(buf, lim, &len, "FANGUARD_DECISION", ev->decision, 64);
	jfield(buf, lim, &len, "FANGUARD_KEY", ev->key, FG_NAME_MAX);
	jfield(buf, lim, &len, "FANGUARD_SUBTREE", ev->subtree, FG_NAME_MAX);
	jfield(buf, lim, &len, "FANGUARD_RULE", ev->rule, FG_NAME_MAX);
	if (ev->sequence) {
		snprintf(tmp, sizeof(tmp), "%" PRIu64, ev->sequence);
		jfield(buf, lim, &len, "FANGUARD_SEQUENCE", tmp, sizeof(tmp));
	}
	jfield_odd(buf, lim, &len, "FANGUARD_PATH", ev->path, PATH_MAX);
	if (p && has(p, FG_PROC_STATUS) && p->pid > 0) {
		snprintf(tmp, sizeof(tmp), "%d", (int)p->pid);
		jfield(buf, lim, &len, "FANGUARD_PID", tmp, sizeof(tmp));
	}
	if (p && has(p, FG_PROC_EXE) && p->exe[0])
		jfield_odd(buf, lim, &len, "FANGUARD_EXE", p->exe, sizeof(p->exe));
	if (p && has(p, FG_PROC_AUID))
		jfield(buf, lim, &len, "FANGUARD_AUID", id_word(p->auid, tmp), 16);
	memcpy(buf + len, "MESSAGE=", 8);
	len += 8;
	/* The JSON writer's NUL ends the last entry. */
	len += json_object(host, ev, buf + len, max_line);
	return len + 1;
}
