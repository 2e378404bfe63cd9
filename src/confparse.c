/* The INI parser: one fanguard configuration file into struct fg_config.
 *
 * inih's handler gets no line number and is not called for section headers,
 * so the reader callback does both: it counts physical lines and recognises
 * "[section]" lines itself, mirroring inih's own rules. Because inih calls
 * the handler for line N before it asks the reader for line N+1, the reader's
 * counter is always the line of the key the handler is looking at. */
#include "fanguard/confparse.h"
#include "fanguard/unitcg.h"
#include "fanguard/util.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
enum sect_kind { SECT_NONE, SECT_FANGUARD, SECT_SUBTREE, SECT_WRITER, SECT_TRANSACTION, SECT_DEPLOYMENTS,
		 SECT_UNKNOWN };
/* clang-format on */

/* Everything one file's parse needs; inih hands it back through `user`. */
struct parse_state {
	struct fg_config *cfg;
	struct fg_diag *diag;
	FILE *f;
	const char *path;
	int file;	  /* index into cfg->files */
	int line;	  /* physical line last returned by the reader */
	int first_syntax; /* first syntax error the reader reported */
	unsigned errors;  /* errors in this file */
	enum sect_kind kind;
	char section[FG_LINE_MAX]; /* as written between the brackets */
	int sect_line;
	unsigned sect_errors; /* st->errors when the section began */
	int idx;	      /* subtree/writer index; -1: the scratch entry */
	uint32_t seen;	      /* bit per key of the section's key table */
	int seen_line[32];
	/* A duplicate or over-limit section is still parsed, into these, so
	 * that its other mistakes are reported too; then it is dropped. */
	struct fg_subtree_cfg scratch_sub;
	struct fg_writer_cfg scratch_wr;
};

struct choice {
	const char *name;
	int value;
};

__attribute__((format(printf, 3, 4))) static void perr(struct parse_state *st, int line,
						       const char *fmt, ...)
{
	char msg[FG_DIAG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fg_diag_add(st->diag, "%s:%d: %s", st->path, line, msg);
	st->errors++;
}

static int find_writer(const struct fg_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_writers; i++)
		if (strcmp(cfg->writers[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Names and keys end up in logs and SIEM rules: keep them to a safe set. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= FG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* NULL if `p` is a normalised absolute path, else why not. Rejected rather
 * than normalised, so that what is logged is what the admin wrote. */
static const char *path_problem(const char *p, size_t max)
{
	if (p[0] != '/')
		return "is not an absolute path";
	if (strlen(p) >= max)
		return "is too long";
	if (strcmp(p, "/") == 0)
		return "is the root directory";
	if (p[strlen(p) - 1] == '/' || strstr(p, "//"))
		return "is not normalised (no '//' and no trailing '/')";
	for (const char *c = p; c; c = strchr(c + 1, '/')) {
		size_t len = strcspn(c + 1, "/");
		if ((len == 1 && c[1] == '.') || (len == 2 && c[1] == '.' && c[2] == '.'))
			return "is not normalised (no '.' or '..' components)";
	}
	return NULL;
}

/* How a key's value is read; every key of every section is one of these. */
enum vtype {
	V_CHOICE, /* an enum, from k->choices */
	V_BOOL,
	V_GLOBS,    /* list of globs */
	V_PATHS,    /* list of absolute path globs */
	V_DIGESTS,  /* list of SHA-256 digests, 64 hex digits each */
	V_PREFIXES, /* list of absolute directories; a file's value replaces the list */
	V_CGROUPS,  /* list of exact unit cgroup paths */
	V_UIDS,	    /* list of numbers */
	V_AUIDS,    /* list of numbers, "unset" or "*" */
	V_SUBTREES, /* list of subtree names or "*" */
	V_LOG,	    /* stderr, syslog, journal or file:PATH */
	V_SOCKET,   /* a char[k->size] absolute path */
	V_PATH,	    /* a heap char * normalised absolute path */
	V_NAME,	    /* a char[FG_NAME_MAX] name */
	V_UINT,	    /* a uint32_t within its num_ranges entry */
	V_SECONDS,  /* the same, in seconds: N, Ns, Nm or Nh */
	V_TIME,	    /* an int64_t: an RFC 3339 date-time or a date */
};

struct keydef {
	const char *name;
	enum vtype type;
	size_t off;		      /* of the field in the section's struct */
	size_t size;		      /* V_SOCKET: the buffer's size */
	const struct choice *choices; /* V_CHOICE: ends with a NULL name */
	bool may_be_empty;
};

_Static_assert(sizeof(enum fg_mode) == sizeof(int), "V_CHOICE stores enums as int");
_Static_assert(sizeof(enum fg_tx_scope) == sizeof(int), "V_CHOICE stores enums as int");

static void pick(struct parse_state *st, const struct keydef *k, const char *value, void *field)
{
	char names[128] = "";

	for (const struct choice *c = k->choices; c->name; c++) {
		if (strcmp(value, c->name) == 0) {
			memcpy(field, &c->value, sizeof(int));
			return;
		}
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 c == k->choices ? "" : ", ", c->name);
	}
	perr(st, st->line, "%s: '%s' is not one of %s", k->name, value, names);
}

static void pick_bool(struct parse_state *st, const char *key, const char *value, bool *ret)
{
	static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {"no", "false", "0"};

	for (size_t i = 0; i < FG_ARRAY_SIZE(yes); i++) {
		if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
			*ret = strcmp(value, yes[i]) == 0;
			return;
		}
	}
	perr(st, st->line, "%s: '%s' is not a boolean (yes, no, true, false, 1, 0)", key, value);
}

static int strlist_push(struct parse_state *st, const char *key, const char *w,
			struct fg_strlist *l)
{
	if (l->n >= FG_LIST_MAX)
		return -E2BIG;
	l->v[l->n] = strdup(w);
	if (!l->v[l->n]) {
		perr(st, st->line, "%s: out of memory", key);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static int idlist_push(struct parse_state *st, const struct keydef *k, const char *w,
		       struct fg_idlist *l)
{
	bool auid = k->type == V_AUIDS;
	uint32_t v;

	if (auid && strcmp(w, "*") == 0) {
		l->any = true;
		return 0;
	}
	if (auid && strcmp(w, "admins") == 0) {
		l->admins = true;
		return 0;
	}
	if (auid && strcmp(w, "unset") == 0) {
		v = FG_AUID_UNSET;
	} else if (fg_parse_u32(w, &v) < 0) {
		perr(st, st->line, "%s: '%s' is not a number%s", k->name, w,
		     auid ? ", 'unset', 'admins' or '*'" : "");
		return -EINVAL;
	}
	if (l->n >= FG_LIST_MAX)
		return -E2BIG;
	l->v[l->n++] = v;
	return 0;
}

/* A SHA-256 digest (of the content, or fs-verity's of the file), kept in
 * lower case so that a compare is a strcmp. */
static int digest_item(struct parse_state *st, const struct keydef *k, const char *w, void *field)
{
	char hex[65];
	size_t n = strlen(w);

	for (size_t i = 0; i < n && n == 64; i++) {
		if (!isxdigit((unsigned char)w[i]))
			n = 0;
		else
			hex[i] = (char)tolower((unsigned char)w[i]);
	}
	if (n != 64) {
		perr(st, st->line, "%s: '%s' is not a SHA-256 digest (64 hex digits)", k->name, w);
		return -EINVAL;
	}
	hex[64] = '\0';
	return strlist_push(st, k->name, hex, field);
}

/* One word of a list value. exe, ancestor and parent are matched against
 * /proc/PID/exe, which starts with '/': a pattern that does not could never
 * match, so it is an error, not a dead rule. A cgroup names one unit's
 * cgroup exactly: a glob would match a cgroup anyone can create. */
static int list_item(struct parse_state *st, const struct keydef *k, const char *w, void *field)
{
	if (k->type == V_UIDS || k->type == V_AUIDS)
		return idlist_push(st, k, w, field);
	if (k->type == V_PATHS && w[0] != '/') {
		perr(st, st->line, "%s: '%s' is not an absolute path", k->name, w);
		return -EINVAL;
	}
	if (k->type == V_DIGESTS)
		return digest_item(st, k, w, field);
	if (k->type == V_PREFIXES && (w[0] != '/' || path_problem(w, PATH_MAX))) {
		perr(st, st->line, "%s: '%s' is not a normalised absolute directory", k->name, w);
		return -EINVAL;
	}
	if (k->type == V_CGROUPS && fg_unitcg_name_problem(w)) {
		perr(st, st->line, "%s: '%s' %s", k->name, w, fg_unitcg_name_problem(w));
		return -EINVAL;
	}
	return strlist_push(st, k->name, w, field);
}

/* Splits on blanks; a full list is reported once, for the key. The value
 * is inih's buffer, so it is copied before splitting. */
static void set_list(struct parse_state *st, const struct keydef *k, const char *value, void *field)
{
	_cleanup_free_ char *copy = strdup(value);
	char *save = NULL;

	if (!copy) {
		perr(st, st->line, "%s: out of memory", k->name);
		return;
	}
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (list_item(st, k, w, field) == -E2BIG) {
			perr(st, st->line, "%s: more than %d items", k->name, FG_LIST_MAX);
			return;
		}
	}
}

static void set_subtrees(struct parse_state *st, const struct keydef *k, const char *value,
			 struct fg_writer_cfg *w)
{
	w->subtrees_where = (struct fg_where){st->file, st->line};
	set_list(st, k, value, &w->subtrees);
	/* "*" anywhere means every subtree, which is spelled as an empty list */
	for (unsigned i = 0; i < w->subtrees.n; i++)
		if (strcmp(w->subtrees.v[i], "*") == 0)
			fg_strlist_free(&w->subtrees);
}

static void set_log(struct parse_state *st, const char *key, const char *value)
{
	static const struct choice sinks[] = {{"stderr", FG_SINK_STDERR},
					      {"syslog", FG_SINK_SYSLOG},
					      {"journal", FG_SINK_JOURNAL},
					      {NULL, 0}};
	const struct keydef k = {.name = key, .type = V_CHOICE, .choices = sinks};
	const char *why;

	if (strncmp(value, "file:", 5) != 0) {
		st->cfg->log_path[0] = '\0';
		pick(st, &k, value, &st->cfg->log);
		return;
	}
	why = path_problem(value + 5, sizeof(st->cfg->log_path));
	if (why) {
		perr(st, st->line, "%s: '%s' %s", key, value + 5, why);
		return;
	}
	st->cfg->log = FG_SINK_FILE;
	fg_strlcpy(st->cfg->log_path, value + 5, sizeof(st->cfg->log_path));
}

/* Bounds of the numeric keys. max_line: 2048 holds the fixed fields of a
 * line with every long string cut, 65536 is the formatter's buffer. */
static const struct {
	const char *name;
	uint32_t min, max;
} num_ranges[] = {
    {"max_line", 2048, 65536},
    {"repeat_threshold", 0, 1000000},
    {"repeat_window", 1, 86400},
    {"heartbeat_interval", 0, 7 * 86400},
};

static void set_uint(struct parse_state *st, const struct keydef *k, const char *value,
		     uint32_t *field)
{
	char num[16] = "";
	size_t n = strlen(value);
	uint32_t v = 0, mul = 1, lo = 0, hi = UINT32_MAX;
	bool ok;

	for (size_t i = 0; i < FG_ARRAY_SIZE(num_ranges); i++) {
		if (strcmp(k->name, num_ranges[i].name) == 0) {
			lo = num_ranges[i].min;
			hi = num_ranges[i].max;
		}
	}
	if (k->type == V_SECONDS && n > 1 && strchr("smh", value[n - 1])) {
		mul = value[n - 1] == 'h' ? 3600 : value[n - 1] == 'm' ? 60 : 1;
		n--;
	}
	ok = n < sizeof(num);
	if (ok)
		memcpy(num, value, n);
	ok = ok && fg_parse_u32(num, &v) == 0 && v <= hi / mul && v * mul >= lo;
	if (!ok) {
		perr(st, st->line, "%s: '%s' is not a number%s from %u to %u", k->name, value,
		     k->type == V_SECONDS ? " of seconds (or Nm, Nh)" : "", lo, hi);
		return;
	}
	*field = v * mul;
}

static void set_path(struct parse_state *st, const struct keydef *k, const char *value, void *field)
{
	const char *why = path_problem(value, k->type == V_PATH ? PATH_MAX : k->size);

	if (why) {
		perr(st, st->line, "%s: '%s' %s", k->name, value, why);
	} else if (k->type == V_SOCKET) {
		fg_strlcpy(field, value, k->size);
	} else {
		/* a later file's [deployments] replaces the earlier value */
		free(*(char **)field);
		*(char **)field = strdup(value);
		if (!*(char **)field)
			perr(st, st->line, "%s: out of memory", k->name);
	}
}

static void set_time(struct parse_state *st, const struct keydef *k, const char *value,
		     int64_t *field)
{
	if (fg_parse_time(value, true, field) < 0) {
		perr(st, st->line,
		     "%s: '%s' is not a date (2024-05-01) or an RFC 3339 time "
		     "(2024-05-01T12:00:00Z)",
		     k->name, value);
		return;
	}
	st->cfg->deployments.has_min_timestamp = true;
}

static struct fg_subtree_cfg *cur_sub(struct parse_state *st)
{
	return st->idx >= 0 ? &st->cfg->subtrees[st->idx] : &st->scratch_sub;
}

static struct fg_writer_cfg *cur_wr(struct parse_state *st)
{
	return st->idx >= 0 ? &st->cfg->writers[st->idx] : &st->scratch_wr;
}

/* The struct the current section's keys are offsets into. */
static void *section_base(struct parse_state *st)
{
	switch (st->kind) {
	case SECT_SUBTREE:
		return cur_sub(st);
	case SECT_WRITER:
		return cur_wr(st);
	case SECT_TRANSACTION:
		return &st->cfg->transaction;
	case SECT_DEPLOYMENTS:
		return &st->cfg->deployments;
	default:
		return st->cfg;
	}
}

/* Hold mode speaks the service manager's fd store protocol through
 * libsystemd: a build without it refuses the mode rather than pretend. */
static void hold_needs_systemd(struct parse_state *st, const struct keydef *k, const void *field)
{
#ifndef FG_HAVE_SYSTEMD
	if (st->kind == SECT_FANGUARD && k->off == offsetof(struct fg_config, on_daemon_exit) &&
	    *(const int *)field == FG_ONEXIT_HOLD)
		perr(st, st->line,
		     "on_daemon_exit: 'hold' needs fanguardd built with libsystemd (the fd store "
		     "protocol); this build can only release");
#else
	(void)st;
	(void)k;
	(void)field;
#endif
}

static void set_value(struct parse_state *st, const struct keydef *k, const char *value)
{
	void *field = (char *)section_base(st) + k->off;

	switch (k->type) {
	case V_CHOICE:
		pick(st, k, value, field);
		hold_needs_systemd(st, k, field);
		break;
	case V_BOOL:
		pick_bool(st, k->name, value, field);
		break;
	case V_SUBTREES:
		set_subtrees(st, k, value, section_base(st));
		break;
	case V_LOG:
		set_log(st, k->name, value);
		break;
	case V_SOCKET:
	case V_PATH:
		set_path(st, k, value, field);
		break;
	case V_UINT:
	case V_SECONDS:
		set_uint(st, k, value, field);
		break;
	case V_TIME:
		set_time(st, k, value, field);
		break;
	case V_NAME:
		/* status_group may be emptied again by a later file */
		if (*value && !valid_name(value))
			perr(st, st->line, "%s: '%s' must be 1-%d characters of A-Z a-z 0-9 _ . -",
			     k->name, value, FG_NAME_MAX - 1);
		else
			fg_strlcpy(field, value, FG_NAME_MAX);
		break;
	case V_PREFIXES:
		/* The last file that sets it says the whole list. */
		fg_strlist_free(field);
		set_list(st, k, value, field);
		break;
	default:
		if (st->kind == SECT_DEPLOYMENTS)
			fg_strlist_free(field);
		/* roots given empty: no deployments; not given: the defaults */
		if (field == &st->cfg->deployments.roots)
			st->cfg->deployments.roots_set = true;
		if (*value)
			set_list(st, k, value, field);
		break;
	}
}

/* clang-format off */
static const struct choice modes[] = {
	{"enforce", FG_MODE_ENFORCE}, {"audit", FG_MODE_AUDIT}, {NULL, 0}};
static const struct choice sub_modes[] = {
	{"enforce", FG_MODE_ENFORCE}, {"audit", FG_MODE_AUDIT}, {"inherit", FG_MODE_INHERIT},
	{NULL, 0}};
static const struct choice formats[] = {{"json", FG_FMT_JSON}, {"text", FG_FMT_TEXT}, {NULL, 0}};
static const struct choice fails[] = {{"deny", FG_FAIL_DENY}, {"allow", FG_FAIL_ALLOW}, {NULL, 0}};
static const struct choice intents[] = {
	{"write", FG_UNKNOWN_WRITE}, {"read", FG_UNKNOWN_READ}, {NULL, 0}};
static const struct choice auditrecs[] = {
	{"deny", FG_AUDITREC_DENY}, {"yes", FG_AUDITREC_YES}, {"no", FG_AUDITREC_NO}, {NULL, 0}};
static const struct choice onexits[] = {
	{"release", FG_ONEXIT_RELEASE}, {"hold", FG_ONEXIT_HOLD}, {NULL, 0}};
static const struct choice overloads[] = {
	{"deny-writes", FG_OVERLOAD_DENY_WRITES}, {"allow", FG_OVERLOAD_ALLOW},
	{"deny", FG_OVERLOAD_DENY}, {NULL, 0}};
/* "mount" is gone: a mount mark in the unit's private mount namespace saw
 * only the daemon's own copy of the mount (see fanguard.conf(5)). */
static const struct choice tx_scopes[] = {
	{"deployments", FG_TX_SCOPE_DEPLOYMENTS}, {"all", FG_TX_SCOPE_ALL}, {NULL, 0}};
static const struct choice marks[] = {{"inode", FG_MARK_INODE}, {NULL, 0}};

#define KEY(n, t, type, field) {n, t, offsetof(type, field), sizeof(((type *)0)->field), NULL, false}
#define CHOICE(n, type, field, c) {n, V_CHOICE, offsetof(type, field), 0, c, false}
#define NUM(n, t, field) {n, t, offsetof(struct fg_config, field), 0, NULL, false}

static const struct keydef fanguard_keys[] = {
	CHOICE("mode", struct fg_config, mode, modes),
	KEY("log", V_LOG, struct fg_config, log),
	CHOICE("log_format", struct fg_config, log_format, formats),
	KEY("status_socket", V_SOCKET, struct fg_config, status_socket),
	/* may be emptied again by a later file */
	{"status_group", V_NAME, offsetof(struct fg_config, status_group), 0, NULL, true},
	CHOICE("on_error", struct fg_config, on_error, fails),
	CHOICE("unknown_intent", struct fg_config, unknown_intent, intents),
	CHOICE("on_overload", struct fg_config, on_overload, overloads),
	CHOICE("audit_records", struct fg_config, audit_records, auditrecs),
	CHOICE("on_daemon_exit", struct fg_config, on_daemon_exit, onexits),
	NUM("max_line", V_UINT, max_line),
	NUM("repeat_threshold", V_UINT, repeat_threshold),
	NUM("repeat_window", V_SECONDS, repeat_window),
	NUM("heartbeat_interval", V_SECONDS, heartbeat_interval),
	KEY("trusted_prefix", V_PREFIXES, struct fg_config, trusted_prefix),
	{NULL, 0, 0, 0, NULL, false},
};

enum { SUB_PATH = 0 };
static const struct keydef subtree_keys[] = {
	[SUB_PATH] = KEY("path", V_PATH, struct fg_subtree_cfg, path),
	KEY("key", V_NAME, struct fg_subtree_cfg, key),
	KEY("recursive", V_BOOL, struct fg_subtree_cfg, recursive),
	CHOICE("mode", struct fg_subtree_cfg, mode, sub_modes),
	CHOICE("mark", struct fg_subtree_cfg, mark, marks),
	KEY("optional", V_BOOL, struct fg_subtree_cfg, optional),
	{NULL, 0, 0, 0, NULL, false},
};

/* The first eight are conditions: a writer needs at least one of them. */
#define WR_CONDITIONS 8
static const struct keydef writer_keys[] = {
	KEY("exe", V_PATHS, struct fg_writer_cfg, exe),
	KEY("comm", V_GLOBS, struct fg_writer_cfg, comm),
	KEY("uid", V_UIDS, struct fg_writer_cfg, uid),
	KEY("auid", V_AUIDS, struct fg_writer_cfg, auid),
	KEY("ancestor", V_PATHS, struct fg_writer_cfg, ancestor),
	KEY("parent", V_PATHS, struct fg_writer_cfg, parent),
	KEY("cgroup", V_CGROUPS, struct fg_writer_cfg, cgroup),
	KEY("sha256", V_DIGESTS, struct fg_writer_cfg, sha256),
	/* empty: every subtree */
	{"subtrees", V_SUBTREES, offsetof(struct fg_writer_cfg, subtrees), 0, NULL, true},
	KEY("quiet", V_BOOL, struct fg_writer_cfg, quiet),
	KEY("deployments", V_BOOL, struct fg_writer_cfg, deployments),
	{NULL, 0, 0, 0, NULL, false},
};

/* Lists here append across files: a drop-in may add transaction tools.
 * scope alone is a section too: a drop-in may widen it for a host. */
enum { TX_EXE = 0, TX_SCOPE = 4 };
static const struct keydef transaction_keys[] = {
	[TX_EXE] = KEY("exe", V_PATHS, struct fg_transaction_cfg, exe),
	KEY("uid", V_UIDS, struct fg_transaction_cfg, uid),
	KEY("cgroup", V_CGROUPS, struct fg_transaction_cfg, cgroup),
	KEY("sha256", V_DIGESTS, struct fg_transaction_cfg, sha256),
	[TX_SCOPE] = CHOICE("scope", struct fg_transaction_cfg, scope, tx_scopes),
	{NULL, 0, 0, 0, NULL, false},
};

enum { DEP_APPROVED = 1 };
static const struct keydef deployments_keys[] = {
	KEY("images", V_GLOBS, struct fg_deployments_cfg, images),
	[DEP_APPROVED] = KEY("approved", V_PATH, struct fg_deployments_cfg, approved),
	KEY("min_timestamp", V_TIME, struct fg_deployments_cfg, min_timestamp),
	KEY("require_signature", V_BOOL, struct fg_deployments_cfg, require_signature),
	KEY("allow_rollback", V_BOOL, struct fg_deployments_cfg, allow_rollback),
	KEY("allow_usroverlay", V_BOOL, struct fg_deployments_cfg, allow_usroverlay),
	KEY("signature_policy", V_PATH, struct fg_deployments_cfg, signature_policy),
	{"roots", V_PATHS, offsetof(struct fg_deployments_cfg, roots), 0, NULL, true},
	KEY("etc", V_PATH, struct fg_deployments_cfg, etc),
	{NULL, 0, 0, 0, NULL, false},
};

static const struct keydef *const section_keys[] = {
	[SECT_FANGUARD] = fanguard_keys, [SECT_SUBTREE] = subtree_keys,
	[SECT_WRITER] = writer_keys, [SECT_TRANSACTION] = transaction_keys,
	[SECT_DEPLOYMENTS] = deployments_keys, [SECT_UNKNOWN] = NULL};
/* clang-format on */

/* ---- sections ---- */

/* Checks that need the whole section, then drops a scratch entry. */
static void section_end(struct parse_state *st)
{
	const struct fg_writer_cfg *w;

	switch (st->kind) {
	case SECT_SUBTREE:
		if (!(st->seen & (1U << SUB_PATH)))
			perr(st, st->sect_line, "subtree '%s' has no path", cur_sub(st)->name);
		break;
	case SECT_WRITER:
		w = cur_wr(st);
		/* A bad value was reported already; "auid = *" alone restricts
		 * nothing and does not count as a condition. */
		if (w->exe.n + w->comm.n + w->uid.n + w->auid.n + w->auid.admins + w->ancestor.n +
			    w->parent.n + w->cgroup.n + w->sha256.n ==
			0 &&
		    (st->errors == st->sect_errors || !(st->seen & ((1U << WR_CONDITIONS) - 1))))
			perr(st, st->sect_line,
			     "writer '%s' has no condition: it would allow everyone", w->name);
		break;
	case SECT_TRANSACTION:
		if (!(st->seen & ((1U << TX_EXE) | (1U << TX_SCOPE))))
			perr(st, st->sect_line, "[transaction] has no exe");
		break;
	default:
		break;
	}
	free(st->scratch_sub.path);
	fg_config_writer_free(&st->scratch_wr);
	memset(&st->scratch_sub, 0, sizeof(st->scratch_sub));
	memset(&st->scratch_wr, 0, sizeof(st->scratch_wr));
	st->kind = SECT_NONE;
}

static void subtree_begin(struct parse_state *st, const char *name)
{
	struct fg_config *cfg = st->cfg;
	int dup = fg_config_find_subtree(cfg, name);
	struct fg_subtree_cfg *s;
	char at[PATH_MAX + 32];

	st->kind = SECT_SUBTREE;
	if (dup >= 0)
		perr(st, st->line, "subtree '%s' already defined at %s", name,
		     fg_config_where(cfg, cfg->subtrees[dup].where, at, sizeof(at)));
	else if (cfg->n_subtrees >= FG_SUBTREES_MAX)
		perr(st, st->line, "too many subtrees (at most %d)", FG_SUBTREES_MAX);
	else if (fg_array_grow((void **)&cfg->subtrees, cfg->n_subtrees, sizeof(*cfg->subtrees)) < 0)
		perr(st, st->line, "out of memory");
	else
		st->idx = (int)cfg->n_subtrees++;
	s = cur_sub(st);
	memset(s, 0, sizeof(*s));
	fg_strlcpy(s->name, name, sizeof(s->name));
	fg_strlcpy(s->key, name, sizeof(s->key));
	s->recursive = true;
	s->where = (struct fg_where){st->file, st->line};
}

static void writer_begin(struct parse_state *st, const char *name)
{
	struct fg_config *cfg = st->cfg;
	int dup = find_writer(cfg, name);
	struct fg_writer_cfg *w;
	char at[PATH_MAX + 32];

	st->kind = SECT_WRITER;
	if (dup >= 0)
		perr(st, st->line, "writer '%s' already defined at %s", name,
		     fg_config_where(cfg, cfg->writers[dup].where, at, sizeof(at)));
	else if (cfg->n_writers >= FG_WRITERS_MAX)
		perr(st, st->line, "too many writers (at most %d)", FG_WRITERS_MAX);
	else if (fg_array_grow((void **)&cfg->writers, cfg->n_writers, sizeof(*cfg->writers)) < 0)
		perr(st, st->line, "out of memory");
	else
		st->idx = (int)cfg->n_writers++;
	w = cur_wr(st);
	memset(w, 0, sizeof(*w));
	fg_strlcpy(w->name, name, sizeof(w->name));
	w->where = (struct fg_where){st->file, st->line};
}

static void section_begin(struct parse_state *st, const char *text)
{
	section_end(st);
	fg_strlcpy(st->section, text, sizeof(st->section));
	st->sect_line = st->line;
	st->sect_errors = st->errors;
	st->seen = 0;
	st->idx = -1;
	if (strcmp(text, "fanguard") == 0) {
		st->kind = SECT_FANGUARD;
	} else if (strcmp(text, "transaction") == 0) {
		st->kind = SECT_TRANSACTION;
		if (!st->cfg->transaction.present)
			st->cfg->transaction.where = (struct fg_where){st->file, st->line};
		st->cfg->transaction.present = true;
	} else if (strcmp(text, "deployments") == 0) {
		st->kind = SECT_DEPLOYMENTS;
		if (!st->cfg->deployments.present)
			st->cfg->deployments.where = (struct fg_where){st->file, st->line};
		st->cfg->deployments.present = true;
	} else if (strncmp(text, "subtree ", 8) == 0 && valid_name(text + 8)) {
		subtree_begin(st, text + 8);
	} else if (strncmp(text, "writer ", 7) == 0 && valid_name(text + 7)) {
		writer_begin(st, text + 7);
	} else {
		perr(st, st->line, "unknown section [%s]", text);
		st->kind = SECT_UNKNOWN;
	}
}

/* inih's find_chars_or_comment(): the first of `chars`, or an inline ';'
 * comment that follows whitespace, or the end. */
static const char *find_delim(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void syntax_error(struct parse_state *st, const char *why)
{
	perr(st, st->line, "syntax error: %s", why);
	if (!st->first_syntax)
		st->first_syntax = st->line;
}

/* Sees each line as inih will: section headers start a section here (inih
 * does not tell the handler), and the lines inih rejects are reported with
 * a reason, as inih itself only returns the first such line. */
static void scan_line(struct parse_state *st, const char *s, bool indented)
{
	const char *end;
	char name[FG_LINE_MAX];

	if (st->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return;
	if (*s == '[') {
		end = find_delim(s + 1, "]");
		if (*end != ']') {
			syntax_error(st, "'[' without ']'");
			return;
		}
		fg_strlcpy(name, s + 1, (size_t)(end - s));
		section_begin(st, name);
		return;
	}
	end = find_delim(s, "=:");
	if (*end != '=' && *end != ':')
		syntax_error(st, indented ? "expected 'key = value' (an indented line does not "
					    "continue the value above)"
					  : "expected 'key = value'");
}

/* fgets for inih, counting lines. Upstream inih takes a full buffer without
 * its newline as an over-long line and eats the input after it, Debian's
 * does not: a line must fit with its newline, or it is reported here, the
 * rest swallowed, and inih given an empty line so its count stays equal to
 * ours on both. Leading blanks go: upstream inih's multi-line values (on by
 * default, fixed when it is built) would make an indented line more of the
 * value above, where fanguard's format has an ordinary line. */
static char *conf_reader(char *buf, int num, void *stream)
{
	struct parse_state *st = stream;
	size_t len, skip = 0;
	int c;

	if (!fgets(buf, num, st->f))
		return NULL;
	st->line++;
	len = strlen(buf);
	if (num > 1 && len == (size_t)num - 1 && buf[len - 1] != '\n') {
		perr(st, st->line, "line longer than %d bytes", num - 2);
		while ((c = getc(st->f)) != EOF && c != '\n')
			;
		buf[0] = '\0';
		return buf;
	}
	while (isspace((unsigned char)buf[skip]))
		skip++;
	memmove(buf, buf + skip, len - skip + 1);
	scan_line(st, buf, skip > 0);
	return buf;
}

/* Always returns 1: errors are reported here with their reason; a 0 would
 * only make inih report the same line again, without one. */
static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	const struct keydef *k = section_keys[st->kind];
	unsigned i;

	if (!name || st->kind == SECT_UNKNOWN) /* reported at the header */
		return 1;
	if (!k) {
		perr(st, st->line, "key '%s' is outside any section", name);
		return 1;
	}
	for (i = 0; k[i].name && strcmp(k[i].name, name) != 0; i++)
		;
	if (!k[i].name) {
		perr(st, st->line, "unknown key '%s' in [%s]", name, st->section);
		return 1;
	}
	if (st->seen & (1U << i)) {
		perr(st, st->line, "duplicate key '%s' in [%s] (first at line %d)", name,
		     st->section, st->seen_line[i]);
		return 1;
	}
	st->seen |= 1U << i;
	st->seen_line[i] = st->line;
	if (st->kind == SECT_DEPLOYMENTS && i == DEP_APPROVED)
		st->cfg->deployments.approved_where = (struct fg_where){st->file, st->line};
	if (!value || (!*value && !k[i].may_be_empty)) {
		perr(st, st->line, "empty value for '%s'", name);
		return 1;
	}
	set_value(st, &k[i], value);
	return 1;
}

int fg_confparse_stream(struct fg_config *cfg, const char *path, FILE *f, struct fg_diag *diag,
			bool trusted)
{
	struct parse_state st = {.cfg = cfg, .diag = diag, .f = f, .path = path, .idx = -1};
	int r;

	if (cfg->n_files >= FG_FILES_MAX) {
		fg_diag_add(diag, "%s: too many configuration files (at most %d)", path,
			    FG_FILES_MAX);
		return -E2BIG;
	}
	cfg->files[cfg->n_files] = strdup(path);
	if (!cfg->files[cfg->n_files]) {
		fg_diag_add(diag, "%s: out of memory", path);
		return -ENOMEM;
	}
	st.file = (int)cfg->n_files++;
	if (trusted)
		cfg->trusted_files |= 1ULL << st.file;
	r = ini_parse_stream(conf_reader, &st, conf_handler, &st);
	section_end(&st);
	if (ferror(f)) {
		fg_diag_add(diag, "%s: read error", path);
		return -EIO;
	}
	if (r < 0) {
		fg_diag_add(diag, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (r > 0 && r != st.first_syntax)
		perr(&st, r, "syntax error");
	return st.errors ? -EINVAL : 0;
}
