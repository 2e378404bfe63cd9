#include "fanguard/policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/util.h"

/* exe-like globs match with FNM_PATHNAME: a '*' stays within one path component, so a glob on
 * /usr/bin cannot match a path below /usr/bin. comm and cgroup globs match freely. */
static bool glob_any(const struct fg_strlist *l, const char *s, int flags)
{
	if (!*s)
		return false; /* unreadable exe never matches */
	for (unsigned i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], s, flags) == 0)
			return true;
	return false;
}

static bool id_any(const struct fg_idlist *l, uint32_t id)
{
	if (l->any)
		return true;
	for (unsigned i = 0; i < l->n; i++)
		if (l->v[i] == id)
			return true;
	return false;
}

static bool id_cond(const struct fg_idlist *l)
{
	return l->any || l->n > 0;
}

static uint64_t subtree_mask(const struct fg_config *cfg, const struct fg_writer_cfg *w)
{
	uint64_t m = 0;

	if (w->subtrees.n == 0)
		return cfg->n_subtrees >= 64 ? ~0ULL : (1ULL << cfg->n_subtrees) - 1;
	for (unsigned i = 0; i < w->subtrees.n; i++) {
		int idx = fg_config_find_subtree(cfg, w->subtrees.v[i]);
		if (idx >= 0)
			m |= 1ULL << idx;
	}
	return m;
}

/* Most exe rules name one path: a strcmp is far cheaper than fnmatch(3),
 * and a denied write runs through every rule. */
static uint32_t literal_bits(const struct fg_strlist *l)
{
	uint32_t bits = 0;

	for (unsigned j = 0; j < l->n && j < 32; j++)
		if (!strpbrk(l->v[j], "*?[\\"))
			bits |= 1U << j;
	return bits;
}

int fg_policy_compile(struct fg_policy *ret, struct fg_config *cfg)
{
	unsigned n = cfg->n_writers ? cfg->n_writers : 1;
	uint64_t *mask = calloc(n, sizeof(*mask));
	uint32_t *lit = calloc(n, sizeof(*lit));

	if (!mask || !lit) {
		free(mask);
		free(lit);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < cfg->n_writers; i++) {
		mask[i] = subtree_mask(cfg, &cfg->writers[i]);
		lit[i] = literal_bits(&cfg->writers[i].exe);
	}
	memset(ret, 0, sizeof(*ret));
	ret->cfg = *cfg;
	ret->writer_mask = mask;
	ret->exe_literal = lit;
	memset(cfg, 0, sizeof(*cfg));
	return 0;
}

static bool exe_matches(const struct fg_strlist *l, uint32_t literal, const char *exe)
{
	if (!*exe)
		return false;
	for (unsigned j = 0; j < l->n; j++) {
		bool hit = (literal >> j) & 1 ? strcmp(l->v[j], exe) == 0
					      : fnmatch(l->v[j], exe, FNM_PATHNAME) == 0;
		if (hit)
			return true;
	}
	return false;
}

void fg_policy_free(struct fg_policy *p)
{
	fg_config_free(&p->cfg);
	free(p->writer_mask);
	free(p->exe_literal);
	p->writer_mask = NULL;
	p->exe_literal = NULL;
}

int fg_policy_match_path(const struct fg_policy *p, const char *path)
{
	int best = -1;
	size_t best_len = 0;

	for (unsigned i = 0; i < p->cfg.n_subtrees; i++) {
		const char *sp = p->cfg.subtrees[i].path;
		size_t n = strlen(sp);

		if (strncmp(path, sp, n) != 0 || (path[n] != '\0' && path[n] != '/'))
			continue;
		if (n > best_len) {
			best = (int)i;
			best_len = n;
		}
	}
	return best;
}

enum fg_mode fg_policy_mode(const struct fg_policy *p, unsigned subtree)
{
	enum fg_mode m =
	    subtree < p->cfg.n_subtrees ? p->cfg.subtrees[subtree].mode : FG_MODE_INHERIT;

	if (m == FG_MODE_INHERIT)
		m = p->cfg.mode == FG_MODE_AUDIT ? FG_MODE_AUDIT : FG_MODE_ENFORCE;
	return m;
}

int fg_policy_transaction(const struct fg_policy *p, const struct fg_proc *w)
{
	const struct fg_transaction_cfg *t = &p->cfg.transaction;

	if (t->exe.n == 0)
		return -2;
	if (id_cond(&t->uid) && !id_any(&t->uid, w->uid))
		return -2;
	if (t->cgroup.n && !glob_any(&t->cgroup, w->cgroup, 0))
		return -2;
	/* The outermost match is the transaction's root: it names the
	 * transaction in the log and its exit ends it. */
	for (unsigned i = w->n_ancestors; i-- > 0;)
		if (glob_any(&t->exe, fg_proc_anc_exe(w, i), FNM_PATHNAME))
			return (int)i;
	if (glob_any(&t->exe, w->exe, FNM_PATHNAME))
		return -1;
	return -2;
}

static bool ancestor_matches(const struct fg_strlist *l, const struct fg_proc *w)
{
	for (unsigned i = 0; i < w->n_ancestors; i++)
		if (glob_any(l, fg_proc_anc_exe(w, i), FNM_PATHNAME))
			return true;
	return false;
}

const char *fg_policy_rule_mismatch(const struct fg_policy *p, unsigned rule, unsigned subtree,
				    const struct fg_proc *w)
{
	const struct fg_writer_cfg *r = &p->cfg.writers[rule];

	if (subtree >= 64 || !(p->writer_mask[rule] & (1ULL << subtree)))
		return "subtrees";
	if (r->exe.n && !exe_matches(&r->exe, p->exe_literal[rule], w->exe))
		return "exe";
	if (r->comm.n && !glob_any(&r->comm, w->comm, 0))
		return "comm";
	if (id_cond(&r->uid) && !id_any(&r->uid, w->uid))
		return "uid";
	if (id_cond(&r->auid) && !id_any(&r->auid, w->auid))
		return "auid";
	if (r->parent.n &&
	    (w->n_ancestors == 0 || !glob_any(&r->parent, fg_proc_anc_exe(w, 0), FNM_PATHNAME)))
		return "parent";
	if (r->ancestor.n && !ancestor_matches(&r->ancestor, w))
		return "ancestor";
	if (r->cgroup.n && !glob_any(&r->cgroup, w->cgroup, 0))
		return "cgroup";
	return NULL;
}

static bool needs_ancestry(const struct fg_writer_cfg *r)
{
	return r->ancestor.n || r->parent.n;
}

void fg_policy_decide_known(const struct fg_policy *p, unsigned subtree, const struct fg_proc *w,
			    int known, struct fg_decision *ret)
{
	struct fg_decision d = {
	    .verdict = FG_VERDICT_DENY,
	    .reason = FG_REASON_NO_RULE,
	    .rule = -1,
	    .tx_anc = -1,
	    .mode = fg_policy_mode(p, subtree),
	};
	int tx = fg_policy_transaction(p, w);

	if (tx != -2) {
		d.verdict = FG_VERDICT_ALLOW;
		d.reason = FG_REASON_TRANSACTION;
		d.tx_anc = tx;
	} else {
		for (unsigned i = 0; i < p->cfg.n_writers; i++) {
			/* with `known`, an ancestry-free rule matches iff it is that one */
			bool skip = known != -2 && !needs_ancestry(&p->cfg.writers[i])
					? (int)i != known
					: fg_policy_rule_mismatch(p, i, subtree, w) != NULL;
			if (skip)
				continue;
			d.verdict = FG_VERDICT_ALLOW;
			d.reason = FG_REASON_RULE;
			d.rule = (int)i;
			d.quiet = p->cfg.writers[i].quiet;
			break;
		}
	}
	*ret = d;
}

void fg_policy_decide(const struct fg_policy *p, unsigned subtree, const struct fg_proc *w,
		      struct fg_decision *ret)
{
	fg_policy_decide_known(p, subtree, w, -2, ret);
}

int fg_policy_first_ancestry_free(const struct fg_policy *p, unsigned subtree,
				  const struct fg_proc *w)
{
	for (unsigned i = 0; i < p->cfg.n_writers; i++)
		if (!needs_ancestry(&p->cfg.writers[i]) &&
		    !fg_policy_rule_mismatch(p, i, subtree, w))
			return (int)i;
	return -1;
}
