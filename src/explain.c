#include "fanguard/explain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/ident.h"
#include "fanguard/json.h"
#include "fanguard/twins.h"
#include "fanguard/util.h"

/* A bounded appender: what does not fit is cut, never overrun. */
struct out {
	char *buf;
	size_t cap, n;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->n + 1 >= o->cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->buf + o->n, o->cap - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n = o->n + (size_t)k >= o->cap ? o->cap - 1 : o->n + (size_t)k;
}

static const char *verdict_word(const struct fg_decision *d)
{
	if (d->verdict == FG_VERDICT_ALLOW)
		return "allow";
	return d->mode == FG_MODE_AUDIT ? "would-deny" : "deny";
}

static const char *reason_word(const struct fg_decision *d)
{
	return d->reason == FG_REASON_RULE		  ? "rule"
	       : d->reason == FG_REASON_TRANSACTION	  ? "transaction"
	       : d->reason == FG_REASON_CGROUP_UNVERIFIED ? "cgroup-unverified"
							  : "no-rule";
}

static void put_auid(struct out *o, uint32_t auid)
{
	if (auid == FG_AUID_UNSET)
		put(o, "unset");
	else
		put(o, "%u", auid);
}

size_t fg_explain_line(const struct fg_policy *p, int subtree, const struct fg_proc *w,
		       const struct fg_decision *d, const char *reason, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap};
	unsigned named = 0, more = 0;

	buf[0] = '\0';
	put(&o, "%s (%s): %s uid %u auid ", verdict_word(d), reason ? reason : reason_word(d),
	    w->exe[0] ? w->exe : "(unknown exe)", w->uid);
	put_auid(&o, w->auid);
	if (subtree < 0) {
		put(&o, ", a guarded file not placed in a subtree");
		return o.n;
	}
	put(&o, " in %s", p->cfg.subtrees[subtree].name);
	if (d->reason == FG_REASON_RULE && d->rule >= 0) {
		put(&o, "; rule %s matched", p->cfg.writers[d->rule].name);
		return o.n;
	}
	/* Past the first few, a rule covering the subtree is only counted (a
	 * mask test): a denial costs no more than a few rule matches. A
	 * deployment's twin is covered by the rules of the subtree it copies. */
	unsigned base = fg_twins_base(&p->cfg, (unsigned)subtree);
	for (unsigned i = 0; i < p->cfg.n_writers; i++) {
		const char *why;

		if (base >= 64 || !(p->writer_mask[i] & (1ULL << base)))
			continue;
		if (named == FG_EXPLAIN_RULES) {
			more++;
			continue;
		}
		why = fg_policy_rule_mismatch(p, i, (unsigned)subtree, w);
		if (why)
			put(&o, "%s %s fails on %s", named++ == 0 ? "; rules:" : ",",
			    p->cfg.writers[i].name, why);
	}
	if (more)
		put(&o, ", +%u more", more);
	if (!named && !more)
		put(&o, "; no writer rule covers %s", p->cfg.subtrees[subtree].name);
	return o.n;
}

/* ---- the full report ---- */

static void text_decision(struct out *o, const struct fg_policy *p, unsigned st,
			  const struct fg_proc *w, const struct fg_decision *d)
{
	put(o, "decision  %s", verdict_word(d));
	if (d->reason == FG_REASON_RULE)
		put(o, ": writer rule %s (audit rule number %d)\n", p->cfg.writers[d->rule].name,
		    d->rule + 1);
	else if (d->reason == FG_REASON_TRANSACTION)
		put(o, ": transaction, %s runs %s\n",
		    d->tx_anc < 0 ? "the writer itself" : "an ancestor",
		    d->tx_anc < 0 ? w->exe : fg_proc_anc_exe(w, (unsigned)d->tx_anc));
	else if (d->reason == FG_REASON_CGROUP_UNVERIFIED)
		put(o, ": a rule names the writer's cgroup, but it is not the cgroup of a unit "
		       "systemd started\n");
	else if (d->tx_outside)
		put(o,
		    ": no writer rule matches; a transaction exe is involved, but %s is outside "
		    "[transaction] scope = deployments%s\n",
		    p->cfg.subtrees[st].name,
		    d->mode == FG_MODE_AUDIT ? " (audit mode: allowed and logged)" : "");
	else
		put(o, ": no writer rule matches and no transaction exe is involved%s\n",
		    d->mode == FG_MODE_AUDIT ? " (audit mode: allowed and logged)" : "");
}

static void text_finding(struct out *o, const struct fg_proc *w, const struct fg_decision *d)
{
	const char *claimed;

	if (d->verdict != FG_VERDICT_DENY || !w->finding.problem)
		return;
	claimed = w->finding.who < 0 ? w->exe : fg_proc_anc_exe(w, (unsigned)w->finding.who);
	put(o, "identity  %s (%s): %s claims %s; found %s\n", fg_ident_reason(w->finding.problem),
	    fg_ident_problem_name(w->finding.problem),
	    w->finding.who < 0 ? "the writer" : "an ancestor", claimed,
	    w->finding.detail[0] ? w->finding.detail : "-");
}

static void render_text(struct out *o, const struct fg_policy *p, unsigned st,
			const struct fg_proc *w, const struct fg_decision *d)
{
	const struct fg_subtree_cfg *s = &p->cfg.subtrees[st];

	put(o, "subtree   %s (key %s, mode %s)\n", s->name, s->key, fg_mode_name(d->mode));
	put(o, "writer    %s (comm %s, uid %u, auid ", w->exe[0] ? w->exe : "(unknown)", w->comm,
	    w->uid);
	put_auid(o, w->auid);
	if (w->pid)
		put(o, ", pid %d", (int)w->pid);
	put(o, ", %u ancestors)\n", w->n_ancestors);
	text_decision(o, p, st, w, d);
	if (d->reason != FG_REASON_RULE && p->cfg.n_writers > 0) {
		put(o, "rules that do not match (first failing condition):\n");
		for (unsigned i = 0; i < p->cfg.n_writers; i++) {
			const char *why = fg_policy_rule_mismatch(p, i, st, w);
			if (why)
				put(o, "  %-30s %s\n", p->cfg.writers[i].name, why);
		}
	}
	text_finding(o, w, d);
}

static void json_mismatches(struct fg_json *j, const struct fg_policy *p, unsigned st,
			    const struct fg_proc *w, const struct fg_decision *d)
{
	fg_json_arr_open(j, "mismatches");
	for (unsigned i = 0; i < p->cfg.n_writers && d->reason != FG_REASON_RULE; i++) {
		const char *why = fg_policy_rule_mismatch(p, i, st, w);
		if (!why)
			continue;
		fg_json_obj_open(j, NULL);
		fg_json_str(j, "rule", p->cfg.writers[i].name);
		fg_json_str(j, "condition", why);
		fg_json_obj_close(j);
	}
	fg_json_arr_close(j);
}

static void render_json(struct fg_json *j, const struct fg_policy *p, unsigned st,
			const struct fg_proc *w, const struct fg_decision *d)
{
	bool lost = d->verdict == FG_VERDICT_DENY && w->finding.problem;

	fg_json_str(j, "subtree", p->cfg.subtrees[st].name);
	fg_json_str(j, "key", p->cfg.subtrees[st].key);
	fg_json_str(j, "mode", fg_mode_name(d->mode));
	fg_json_str(j, "decision", verdict_word(d));
	fg_json_str(j, "reason", lost ? fg_ident_reason(w->finding.problem) : reason_word(d));
	if (lost)
		fg_json_str(j, "identity_problem", fg_ident_problem_name(w->finding.problem));
	if (d->rule >= 0)
		fg_json_str(j, "rule", p->cfg.writers[d->rule].name);
	/* The number the kernel's AUDIT_FANOTIFY record carries (audit_records):
	 * the rule's place among the [writer] sections, 0 for none. */
	fg_json_i64(j, "audit_rule_number", d->rule >= 0 ? d->rule + 1 : 0);
	if (d->reason == FG_REASON_TRANSACTION)
		fg_json_i64(j, "transaction_ancestor", d->tx_anc);
	if (d->tx_outside)
		fg_json_bool(j, "transaction_outside_scope", true);
	fg_json_str_raw(j, "exe", w->exe, strlen(w->exe));
	json_mismatches(j, p, st, w, d);
}

size_t fg_explain_render(const struct fg_policy *p, int st, const char *path,
			 const struct fg_proc *w, const struct fg_decision *d, bool json, char *buf,
			 size_t cap)
{
	struct out o = {.buf = buf, .cap = cap};
	struct fg_json j;

	buf[0] = '\0';
	if (!json) {
		if (st < 0)
			put(&o,
			    "%s is not in any protected subtree: fanguard does not decide its "
			    "opens "
			    "(allow)\n",
			    path);
		else
			render_text(&o, p, (unsigned)st, w, d);
		return o.n;
	}
	if (cap < 2)
		return 0;
	fg_json_init(&j, buf, cap - 1);
	fg_json_str_raw(&j, "path", path, strlen(path));
	if (st < 0) {
		fg_json_null(&j, "subtree");
		fg_json_str(&j, "decision", "allow");
		fg_json_str(&j, "reason", "outside");
	} else {
		render_json(&j, p, (unsigned)st, w, d);
	}
	o.n = (size_t)fg_json_finish(&j);
	buf[o.n++] = '\n';
	buf[o.n] = '\0';
	return o.n;
}

/* ---- the request ---- */

size_t fg_explain_hex(const char *s, char *buf, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (n + 3 > cap)
			return 0;
		buf[n++] = digits[*p >> 4];
		buf[n++] = digits[*p & 15];
	}
	if (n + 1 > cap)
		return 0;
	buf[n] = '\0';
	return n;
}

static bool put_hex(struct out *o, const char *key, const char *v)
{
	size_t k;

	if (!v)
		return true;
	put(o, " %s=", key);
	k = *v ? fg_explain_hex(v, o->buf + o->n, o->cap - o->n) : 0;
	o->n += k;
	return k > 0 && o->n + 1 < o->cap;
}

size_t fg_explain_req_encode(const struct fg_explain_req *r, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap};
	bool ok;

	put(&o, "explain");
	ok = put_hex(&o, "path", r->path) && put_hex(&o, "exe", r->exe) &&
	     put_hex(&o, "comm", r->comm) && put_hex(&o, "cgroup", r->cgroup);
	for (unsigned i = 0; ok && i < r->n_ancestors; i++)
		ok = put_hex(&o, "anc", r->ancestors[i]);
	if (r->pid)
		put(&o, " pid=%d", (int)r->pid);
	put(&o, " uid=%u auid=%u%s", r->uid, r->auid, r->json ? " json=1" : "");
	return ok && o.n + 1 < cap ? o.n : 0;
}

int fg_explain_unhex(char *s)
{
	size_t n = strlen(s);
	char *out = s;

	if (n % 2)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 2) {
		char pair[3] = {s[i], s[i + 1], '\0'}, *end;
		unsigned long v = strtoul(pair, &end, 16);
		if (*end || v == 0)
			return -EINVAL;
		*out++ = (char)v;
	}
	*out = '\0';
	return 0;
}

static int decode_pair(char *key, char *val, struct fg_explain_req *r)
{
	uint32_t v;

	if (!strcmp(key, "pid") || !strcmp(key, "uid") || !strcmp(key, "auid") ||
	    !strcmp(key, "json")) {
		if (fg_parse_u32(val, &v) < 0)
			return -EINVAL;
		if (key[0] == 'p')
			r->pid = v <= INT32_MAX ? (pid_t)v : 0;
		else if (key[0] == 'u')
			r->uid = v;
		else if (key[0] == 'a')
			r->auid = v;
		else
			r->json = v != 0;
		return 0;
	}
	if (fg_explain_unhex(val) < 0)
		return -EINVAL;
	if (!strcmp(key, "path"))
		r->path = val;
	else if (!strcmp(key, "exe"))
		r->exe = val;
	else if (!strcmp(key, "comm"))
		r->comm = val;
	else if (!strcmp(key, "cgroup"))
		r->cgroup = val;
	else if (!strcmp(key, "anc") && r->n_ancestors < FG_ANCESTRY_MAX)
		r->ancestors[r->n_ancestors++] = val;
	else
		return -EINVAL;
	return 0;
}

int fg_explain_req_decode(char *args, struct fg_explain_req *ret)
{
	struct fg_explain_req r = {.auid = FG_AUID_UNSET};
	char *save = NULL;

	for (char *tok = strtok_r(args, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		if (decode_pair(tok, eq + 1, &r) < 0)
			return -EINVAL;
	}
	if (!r.path || r.path[0] != '/' || (!r.pid == !r.exe))
		return -EINVAL;
	*ret = r;
	return 0;
}

int fg_explain_fake_proc(const struct fg_explain_req *r, struct fg_proc *w)
{
	const char *base = strrchr(r->exe, '/');

	memset(w, 0, sizeof(*w));
	w->uid = r->uid;
	w->auid = r->auid;
	w->sessionid = FG_AUID_UNSET;
	fg_strlcpy(w->exe, r->exe, sizeof(w->exe));
	fg_strlcpy(w->comm, r->comm ? r->comm : base ? base + 1 : r->exe, sizeof(w->comm));
	fg_strlcpy(w->cgroup, r->cgroup ? r->cgroup : "", sizeof(w->cgroup));
	w->arena[0] = '\0';
	w->arena_used = 1;
	for (unsigned i = 0; i < r->n_ancestors; i++) {
		size_t n = strlen(r->ancestors[i]) + 1;
		const char *ab = strrchr(r->ancestors[i], '/');

		if (w->arena_used + n > FG_ARENA_LEN)
			return -E2BIG;
		memcpy(w->arena + w->arena_used, r->ancestors[i], n);
		w->anc[i].exe_off = w->arena_used;
		w->arena_used += (uint32_t)n;
		fg_strlcpy(w->anc[i].comm, ab ? ab + 1 : r->ancestors[i], sizeof(w->anc[i].comm));
		w->n_ancestors++;
	}
	return 0;
}
