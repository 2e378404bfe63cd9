#include "fanguard/policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/selfprot.h"
#include "fanguard/twins.h"
#include "fanguard/txscope.h"
#include "fanguard/unitcg.h"
#include "fanguard/util.h"

/* exe-like globs match with FNM_PATHNAME: a '*' stays within one path component, so a glob on
 * /usr/bin cannot match a path below /usr/bin. comm globs match freely. */
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
	return l->any || l->n > 0 || l->admins;
}

/* A rule that allows people: its only identity condition is a list of
 * login uids (no exe: an admin is known by who she is, not by her
 * editor). Its uids are what `auid = admins` stands for. */
bool fg_policy_people_rule(const struct fg_writer_cfg *r)
{
	bool login = false;

	for (unsigned i = 0; i < r->auid.n; i++)
		login = login || r->auid.v[i] != FG_AUID_UNSET;
	return login && !r->auid.any && !r->auid.admins && !r->exe.n && !r->comm.n &&
	       !id_cond(&r->uid) && !r->ancestor.n && !r->parent.n && !r->cgroup.n && !r->sha256.n;
}

/* A people rule whose people are admins: it is not narrowed (every
 * subtree but fanguard's own), or it names fanguard's own subtree (only an
 * image file may). A person a rule allows only cron is no admin: as one,
 * `fanguard policy install` would let her allow herself everything. */
static bool admin_rule(const struct fg_policy *p, unsigned i)
{
	const struct fg_writer_cfg *r = &p->cfg.writers[i];

	return fg_policy_people_rule(r) &&
	       (r->subtrees.n == 0 || (p->writer_mask[i] & p->self_mask) != 0);
}

static int collect_admins(struct fg_policy *p)
{
	const struct fg_config *cfg = &p->cfg;
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->n_writers; i++)
		if (admin_rule(p, i))
			n += cfg->writers[i].auid.n;
	p->admins = calloc(n ? n : 1, sizeof(*p->admins));
	if (!p->admins)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->n_writers; i++) {
		const struct fg_writer_cfg *r = &cfg->writers[i];
		for (unsigned j = 0; admin_rule(p, i) && j < r->auid.n; j++)
			if (r->auid.v[j] != FG_AUID_UNSET)
				p->admins[p->n_admins++] = r->auid.v[j];
	}
	return 0;
}

bool fg_policy_is_admin(const struct fg_policy *p, uint32_t auid)
{
	for (unsigned i = 0; auid != FG_AUID_UNSET && i < p->n_admins; i++)
		if (p->admins[i] == auid)
			return true;
	return false;
}

/* The auid condition l holds for auid (before any verification). */
static bool auid_in(const struct fg_policy *p, const struct fg_idlist *l, uint32_t auid)
{
	return id_any(l, auid) || (l->admins && fg_policy_is_admin(p, auid));
}

/* "Every subtree" leaves fanguard's own out: a rule reaches it only by
 * naming it, which only the image's files may (selfprot.h). */
static uint64_t subtree_mask(const struct fg_config *cfg, const struct fg_writer_cfg *w,
			     uint64_t self)
{
	uint64_t m = 0;

	if (w->subtrees.n == 0)
		return (cfg->n_subtrees >= 64 ? ~0ULL : (1ULL << cfg->n_subtrees) - 1) & ~self;
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

/* Whether rule r is found through the exe index: an exe condition whose
 * every pattern is literal (and that literal_bits could describe). */
static bool indexed(const struct fg_writer_cfg *r, uint32_t lit)
{
	return r->exe.n > 0 && r->exe.n <= 32 &&
	       lit == (r->exe.n == 32 ? ~0U : (1U << r->exe.n) - 1);
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261U;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619U;
	return h;
}

static struct fg_exe_slot *slot_for(struct fg_exe_slot *slots, unsigned n, const char *exe)
{
	for (uint32_t i = hash_str(exe) & (n - 1);; i = (i + 1) & (n - 1))
		if (!slots[i].exe || strcmp(slots[i].exe, exe) == 0)
			return &slots[i];
}

/* Builds the exe index: every literal pattern gets a slot, and a slot the
 * rules (in file order) that name it. */
static int build_index(struct fg_policy *p)
{
	const struct fg_config *cfg = &p->cfg;
	unsigned n_lit = 0, pos = 0;

	p->generic = calloc(cfg->n_writers + 1, sizeof(*p->generic));
	for (unsigned i = 0; i < cfg->n_writers; i++)
		if (indexed(&cfg->writers[i], p->exe_literal[i]))
			n_lit += cfg->writers[i].exe.n;
	p->n_slots = 4;
	while (p->n_slots < 2 * n_lit)
		p->n_slots *= 2;
	p->exe_slots = calloc(p->n_slots, sizeof(*p->exe_slots));
	p->exe_rules = calloc(n_lit + 1, sizeof(*p->exe_rules));
	if (!p->generic || !p->exe_slots || !p->exe_rules)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->n_writers; i++) {
		const struct fg_writer_cfg *r = &cfg->writers[i];
		if (!indexed(r, p->exe_literal[i])) {
			p->generic[p->n_generic++] = i;
			continue;
		}
		for (unsigned j = 0; j < r->exe.n; j++) {
			struct fg_exe_slot *sl = slot_for(p->exe_slots, p->n_slots, r->exe.v[j]);
			sl->exe = r->exe.v[j];
			sl->n++;
		}
	}
	/* Each slot's run in exe_rules, then the rules in file order; a rule
	 * naming one path twice is listed once. */
	for (unsigned k = 0; k < p->n_slots; k++) {
		p->exe_slots[k].first = pos;
		pos += p->exe_slots[k].n;
		p->exe_slots[k].n = 0;
	}
	for (unsigned i = 0; i < cfg->n_writers; i++) {
		const struct fg_writer_cfg *r = &cfg->writers[i];
		if (!indexed(r, p->exe_literal[i]))
			continue;
		for (unsigned j = 0; j < r->exe.n; j++) {
			struct fg_exe_slot *sl = slot_for(p->exe_slots, p->n_slots, r->exe.v[j]);
			uint32_t *run = p->exe_rules + sl->first;
			if (sl->n == 0 || run[sl->n - 1] != i)
				run[sl->n++] = i;
		}
	}
	return 0;
}

/* A numeric login uid condition: only a login session may back it. */
static bool names_login(const struct fg_idlist *l)
{
	if (l->admins)
		return true;
	for (unsigned i = 0; i < l->n; i++)
		if (l->v[i] != FG_AUID_UNSET)
			return true;
	return false;
}

static bool names_cgroup(const struct fg_config *cfg)
{
	if (cfg->transaction.cgroup.n)
		return true;
	for (unsigned i = 0; i < cfg->n_writers; i++)
		if (cfg->writers[i].cgroup.n || names_login(&cfg->writers[i].auid))
			return true;
	return false;
}

static uint64_t self_subtrees(const struct fg_config *cfg)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < cfg->n_subtrees && i < 64; i++)
		if (fg_selfprot_subtree(&cfg->subtrees[i]))
			m |= 1ULL << i;
	return m;
}

int fg_policy_compile(struct fg_policy *ret, struct fg_config *cfg)
{
	unsigned n = cfg->n_writers ? cfg->n_writers : 1;
	struct fg_policy p = {.self_mask = self_subtrees(cfg)};

	p.writer_mask = calloc(n, sizeof(*p.writer_mask));
	p.exe_literal = calloc(n, sizeof(*p.exe_literal));
	if (!p.writer_mask || !p.exe_literal) {
		fg_policy_free(&p);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < cfg->n_writers; i++) {
		p.writer_mask[i] = subtree_mask(cfg, &cfg->writers[i], p.self_mask);
		p.exe_literal[i] = literal_bits(&cfg->writers[i].exe);
	}
	p.cfg = *cfg;
	if (build_index(&p) < 0 || collect_admins(&p) < 0) {
		/* cfg still owns its strings: give nothing back to free twice */
		memset(&p.cfg, 0, sizeof(p.cfg));
		fg_policy_free(&p);
		return -ENOMEM;
	}
	p.uses_cgroup = names_cgroup(cfg);
	*ret = p;
	memset(cfg, 0, sizeof(*cfg));
	return 0;
}

/* The rules a writer with this exe can match, in file order: the generic
 * list merged with the exe's own. */
struct cands {
	const uint32_t *a, *b;
	unsigned na, nb, ia, ib;
};

static void cands_init(const struct fg_policy *p, const char *exe, struct cands *c)
{
	*c = (struct cands){.a = p->generic, .na = p->n_generic};
	if (*exe && p->n_slots) {
		const struct fg_exe_slot *sl = slot_for(p->exe_slots, p->n_slots, exe);
		if (sl->exe) {
			c->b = p->exe_rules + sl->first;
			c->nb = sl->n;
		}
	}
}

static int cands_next(struct cands *c)
{
	bool from_a = c->ia < c->na && (c->ib >= c->nb || c->a[c->ia] < c->b[c->ib]);

	if (from_a)
		return (int)c->a[c->ia++];
	return c->ib < c->nb ? (int)c->b[c->ib++] : -1;
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
	free(p->generic);
	free(p->exe_slots);
	free(p->exe_rules);
	free(p->admins);
	p->admins = NULL;
	p->n_admins = 0;
	free(p->tx_digests);
	free(p->trusted_devs);
	p->tx_digests = NULL;
	p->trusted_devs = NULL;
	p->n_tx_digests = p->n_trusted_devs = 0;
	p->writer_mask = NULL;
	p->exe_literal = NULL;
	p->generic = p->exe_rules = NULL;
	p->exe_slots = NULL;
	p->n_generic = p->n_slots = 0;
}

int fg_policy_match_path(const struct fg_policy *p, const char *path)
{
	int best = -1;
	size_t best_len = 0;
	char alias[PATH_MAX];

	/* the booted deployment's etc by its /sysroot path is the running etc */
	if (fg_twins_booted_path(&p->cfg, path, alias, sizeof(alias)) == 1)
		path = alias;
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

static bool is_self(const struct fg_policy *p, unsigned subtree)
{
	subtree = fg_twins_base(&p->cfg, subtree); /* a deployment's copy too */
	return subtree < 64 && (p->self_mask >> subtree) & 1;
}

/* Audit mode must not become a way to plant a rule that takes effect at
 * the next enforce: fanguard's own subtree is enforced in every mode. */
enum fg_mode fg_policy_mode(const struct fg_policy *p, unsigned subtree)
{
	enum fg_mode m =
	    subtree < p->cfg.n_subtrees ? p->cfg.subtrees[subtree].mode : FG_MODE_INHERIT;

	if (is_self(p, subtree))
		return FG_MODE_ENFORCE;
	if (m == FG_MODE_INHERIT)
		m = p->cfg.mode == FG_MODE_AUDIT ? FG_MODE_AUDIT : FG_MODE_ENFORCE;
	return m;
}

static void hex32(const uint8_t d[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[64] = '\0';
}

static bool hex_in(const uint8_t d[32], const struct fg_strlist *l)
{
	char hex[65];

	hex32(d, hex);
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->v[i], hex) == 0)
			return true;
	return false;
}

static bool names(const struct fg_strlist *l, const char *s)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

bool fg_policy_names_cgroup(const struct fg_policy *p, const char *cg)
{
	if (!*cg)
		return false;
	if (names(&p->cfg.transaction.cgroup, cg))
		return true;
	for (unsigned i = 0; i < p->cfg.n_writers; i++)
		if (names(&p->cfg.writers[i].cgroup, cg))
			return true;
	return false;
}

/* A cgroup condition: the writer's cgroup is one of those named, exactly,
 * and a real unit's (fg_unitcg_fill). NULL when it holds. */
static const char *cgroup_mismatch(const struct fg_strlist *l, const struct fg_proc *w)
{
	if (!*w->cgroup || !names(l, w->cgroup))
		return "cgroup";
	return w->cgroup_unit == FG_CGU_UNIT ? NULL : "cgroup-unverified";
}

bool fg_policy_digest_in(const struct fg_policy *p, const struct fg_trustinfo *t,
			 const struct fg_strlist *list, bool optimistic)
{
	const struct fg_strlist *tx = &p->cfg.transaction.sha256;

	/* Listed digests decide the transaction's contents when there are
	 * any: the hashes taken at load are of whatever the paths held. */
	if (!list && tx->n)
		list = tx;
	if (list && (t->dig & FG_DIG_VERITY) && hex_in(t->verity, list))
		return true;
	if (t->dig & FG_DIG_SHA256) {
		if (list)
			return hex_in(t->sha256, list);
		for (unsigned i = 0; i < p->n_tx_digests; i++)
			if (memcmp(p->tx_digests[i], t->sha256, 32) == 0)
				return true;
		return false;
	}
	if ((t->dig & FG_DIG_FAILED) || !optimistic)
		return false;
	return list ? list->n > 0 : p->n_tx_digests > 0;
}

static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	return strncmp(path, prefix, n) == 0 && path[n] == '/';
}

bool fg_policy_foreign_exe(const struct fg_policy *p, const char *exe)
{
	size_t n = strlen(exe);
	static const char del[] = " (deleted)";

	if (!*exe)
		return false;
	if (n > sizeof(del) - 1 && strcmp(exe + n - (sizeof(del) - 1), del) == 0)
		return true;
	for (unsigned i = 0; i < p->cfg.trusted_prefix.n; i++)
		if (under(exe, p->cfg.trusted_prefix.v[i]))
			return false;
	return true;
}

/* Whether a process is verified enough for its exe path to count. */
static bool exe_trusted(const struct fg_trustinfo *t)
{
	return t->exe != FG_TRUST_FAILED && t->code != FG_TRUST_FAILED;
}

/* How a process with exe and trust t opens a transaction: 0 it does not,
 * 1 by its exe's path, 2 by its content (a copy of a transaction exe). */
static int tx_by(const struct fg_policy *p, const char *exe, const struct fg_trustinfo *t,
		 bool optimistic)
{
	const struct fg_transaction_cfg *tx = &p->cfg.transaction;

	if (t->code == FG_TRUST_FAILED)
		return 0;
	if (t->exe != FG_TRUST_FAILED && glob_any(&tx->exe, exe, FNM_PATHNAME) &&
	    (tx->sha256.n == 0 || fg_policy_digest_in(p, t, &tx->sha256, optimistic)))
		return 1;
	if (fg_policy_foreign_exe(p, exe) && fg_policy_digest_in(p, t, NULL, optimistic))
		return 2;
	return 0;
}

/* The transaction root found `how` (1 by path, 2 by content): -2 none,
 * -1 the writer, else the outermost matching ancestor. */
static int tx_find(const struct fg_policy *p, const struct fg_proc *w, int how)
{
	const struct fg_transaction_cfg *t = &p->cfg.transaction;

	if (t->exe.n == 0 || w->trust.code == FG_TRUST_FAILED)
		return -2;
	if (id_cond(&t->uid) && !id_any(&t->uid, w->uid))
		return -2;
	if (t->cgroup.n && cgroup_mismatch(&t->cgroup, w))
		return -2;
	/* The outermost match is the transaction's root: it names the
	 * transaction in the log and its exit ends it. */
	for (unsigned i = w->n_ancestors; i-- > 0;)
		if (tx_by(p, fg_proc_anc_exe(w, i), &w->anc[i].trust, w->verifying) == how)
			return (int)i;
	if (tx_by(p, w->exe, &w->trust, w->verifying) == how)
		return -1;
	return -2;
}

int fg_policy_transaction(const struct fg_policy *p, const struct fg_proc *w)
{
	int tx = tx_find(p, w, 1);

	return tx != -2 ? tx : tx_find(p, w, 2);
}

bool fg_policy_ancestor_matters(const struct fg_policy *p, const char *exe)
{
	if (glob_any(&p->cfg.transaction.exe, exe, FNM_PATHNAME))
		return true;
	for (unsigned i = 0; i < p->cfg.n_writers; i++) {
		const struct fg_writer_cfg *r = &p->cfg.writers[i];
		if (glob_any(&r->ancestor, exe, FNM_PATHNAME) ||
		    glob_any(&r->parent, exe, FNM_PATHNAME))
			return true;
	}
	return false;
}

/* The nearest ancestor whose verified exe matches l, or -1. */
static int ancestor_match(const struct fg_strlist *l, const struct fg_proc *w)
{
	for (unsigned i = 0; i < w->n_ancestors; i++)
		if (exe_trusted(&w->anc[i].trust) &&
		    glob_any(l, fg_proc_anc_exe(w, i), FNM_PATHNAME))
			return (int)i;
	return -1;
}

/* A numeric login uid matched: it must be a login session's. */
static bool login_matched(const struct fg_policy *p, const struct fg_idlist *l, uint32_t auid)
{
	if (l->any || auid == FG_AUID_UNSET)
		return false;
	return auid_in(p, l, auid);
}

bool fg_policy_login_rule(const struct fg_policy *p, unsigned rule, uint32_t auid)
{
	return rule < p->cfg.n_writers && login_matched(p, &p->cfg.writers[rule].auid, auid);
}

const char *fg_policy_rule_mismatch(const struct fg_policy *p, unsigned rule, unsigned subtree,
				    const struct fg_proc *w)
{
	const struct fg_writer_cfg *r = &p->cfg.writers[rule];
	unsigned base = fg_twins_base(&p->cfg, subtree);

	if (base >= 64 || !(p->writer_mask[rule] & (1ULL << base)))
		return "subtrees";
	/* a deployment's etc is the transaction's (twins.h) */
	if (base != subtree && !r->deployments)
		return "deployments";
	if (r->exe.n && (w->trust.exe == FG_TRUST_FAILED ||
			 !exe_matches(&r->exe, p->exe_literal[rule], w->exe)))
		return "exe";
	if (r->sha256.n && !fg_policy_digest_in(p, &w->trust, &r->sha256, w->verifying))
		return "sha256";
	if (r->comm.n && !glob_any(&r->comm, w->comm, 0))
		return "comm";
	if (id_cond(&r->uid) && !id_any(&r->uid, w->uid))
		return "uid";
	if (id_cond(&r->auid) &&
	    (!auid_in(p, &r->auid, w->auid) ||
	     (login_matched(p, &r->auid, w->auid) && w->trust.auid == FG_TRUST_FAILED)))
		return "auid";
	if (r->parent.n && (w->n_ancestors == 0 || !exe_trusted(&w->anc[0].trust) ||
			    !glob_any(&r->parent, fg_proc_anc_exe(w, 0), FNM_PATHNAME)))
		return "parent";
	if (r->ancestor.n && ancestor_match(&r->ancestor, w) < 0)
		return "ancestor";
	if (r->cgroup.n && cgroup_mismatch(&r->cgroup, w))
		return cgroup_mismatch(&r->cgroup, w);
	/* An allowed writer runs only trusted code (DESIGN 12). */
	if (w->trust.code == FG_TRUST_FAILED)
		return "code";
	return NULL;
}

static bool needs_ancestry(const struct fg_writer_cfg *r)
{
	return r->ancestor.n || r->parent.n;
}

/* Whether some rule failed only on its unit cgroup: the denial names the
 * forgery rather than "no rule". Only asked on that rare path. */
static bool unverified_only(const struct fg_policy *p, unsigned subtree, const struct fg_proc *w)
{
	struct cands c;
	int i;

	cands_init(p, w->exe, &c);
	while ((i = cands_next(&c)) >= 0) {
		const char *why = fg_policy_rule_mismatch(p, (unsigned)i, subtree, w);
		if (why && strcmp(why, "cgroup-unverified") == 0)
			return true;
	}
	return false;
}

/* Whether the passthrough may apply in subtree: never in fanguard's own,
 * and only within [transaction] scope. The subtree's configured path
 * decides, not the path an open came through: a write that reaches the
 * running /etc by another name (a bind mount, the booted deployment's
 * directory under /sysroot) is placed in the running subtree by inode and
 * stays out of scope. */
static bool tx_may(const struct fg_policy *p, unsigned subtree)
{
	/* A deployment's etc is where upgrades write (twins.h), fanguard's
	 * own policy there too: the merge carries /etc/fanguard over. */
	if (fg_twins_is_twin(&p->cfg, subtree))
		return true;
	return !is_self(p, subtree) && fg_tx_in_scope(&p->cfg, p->cfg.subtrees[subtree].path);
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
	/* A transaction tool by path first; a copy known by content only
	 * when no rule allows: while it is being decided, a rule is then
	 * verified (and a forgery found) before any exe is hashed on the
	 * chance that it is such a copy. */
	bool tx_ok = tx_may(p, subtree);
	int tx = tx_ok ? tx_find(p, w, 1) : -2;

	if (tx != -2) {
		d.verdict = FG_VERDICT_ALLOW;
		d.reason = FG_REASON_TRANSACTION;
		d.tx_anc = tx;
	} else {
		struct cands c;
		int i;

		/* Rules outside the candidates fail on exe: skipping them
		 * gives the same first match. */
		cands_init(p, w->exe, &c);
		while ((i = cands_next(&c)) >= 0) {
			/* with `known`, an ancestry-free rule matches iff it is that one */
			bool skip =
			    known != -2 && !needs_ancestry(&p->cfg.writers[i])
				? i != known
				: fg_policy_rule_mismatch(p, (unsigned)i, subtree, w) != NULL;
			if (skip)
				continue;
			d.verdict = FG_VERDICT_ALLOW;
			d.reason = FG_REASON_RULE;
			d.rule = i;
			d.quiet = p->cfg.writers[i].quiet;
			break;
		}
		if (d.verdict != FG_VERDICT_ALLOW && tx_ok && (tx = tx_find(p, w, 2)) != -2) {
			d.verdict = FG_VERDICT_ALLOW;
			d.reason = FG_REASON_TRANSACTION;
			d.tx_anc = tx;
		}
	}
	/* Said in the log and by explain: a transaction tool (by path) that
	 * writes outside the scope was decided by the rules. */
	d.tx_outside =
	    !tx_ok && !is_self(p, subtree) && d.reason != FG_REASON_RULE && tx_find(p, w, 1) != -2;
	if (d.verdict == FG_VERDICT_DENY && w->cgroup_unit == FG_CGU_FORGED &&
	    unverified_only(p, subtree, w))
		d.reason = FG_REASON_CGROUP_UNVERIFIED;
	d.alert = w->cgroup_unit == FG_CGU_FORGED ||
		  (is_self(p, subtree) && d.verdict == FG_VERDICT_DENY);
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
	struct cands c;
	int i;

	cands_init(p, w->exe, &c);
	while ((i = cands_next(&c)) >= 0)
		if (!needs_ancestry(&p->cfg.writers[i]) &&
		    !fg_policy_rule_mismatch(p, (unsigned)i, subtree, w))
			return i;
	return -1;
}

static unsigned need(struct fg_need *ret, unsigned n, unsigned max, int who, uint32_t what,
		     const struct fg_strlist *list)
{
	if (n < max)
		ret[n] = (struct fg_need){.who = who, .what = what, .list = list};
	return n + 1;
}

static unsigned tx_needs(const struct fg_policy *p, const struct fg_proc *w, int who,
			 struct fg_need *ret, unsigned n, unsigned max)
{
	const struct fg_transaction_cfg *tx = &p->cfg.transaction;
	const char *exe = who < 0 ? w->exe : fg_proc_anc_exe(w, (unsigned)who);
	const struct fg_trustinfo *t = who < 0 ? &w->trust : &w->anc[who].trust;

	if (tx_by(p, exe, t, w->verifying) == 1)
		return need(ret, n, max, who,
			    FG_NEED_EXE | FG_NEED_CODE | (tx->sha256.n ? FG_NEED_DIGEST : 0),
			    tx->sha256.n ? &tx->sha256 : NULL);
	/* By content: the digest first, so that an exe that is no copy of a
	 * transaction tool is never looked into further. */
	n = need(ret, n, max, who, FG_NEED_DIGEST, NULL);
	return need(ret, n, max, who, FG_NEED_CODE, NULL);
}

unsigned fg_policy_needs(const struct fg_policy *p, unsigned subtree, const struct fg_proc *w,
			 const struct fg_decision *d, struct fg_need *ret, unsigned max)
{
	const struct fg_writer_cfg *r;
	unsigned n = 0;
	uint32_t what = FG_NEED_CODE;
	int a;

	(void)subtree;
	if (d->verdict != FG_VERDICT_ALLOW)
		return 0;
	if (d->reason == FG_REASON_TRANSACTION) {
		/* The root first: a copy known by content is checked for
		 * being one before anything else is looked into. */
		n = tx_needs(p, w, d->tx_anc, ret, n, max);
		return d->tx_anc >= 0 ? need(ret, n, max, -1, FG_NEED_CODE, NULL) : n;
	}
	if (d->reason != FG_REASON_RULE || d->rule < 0)
		return 0;
	r = &p->cfg.writers[d->rule];
	if (r->exe.n)
		what |= FG_NEED_EXE;
	if (login_matched(p, &r->auid, w->auid))
		what |= FG_NEED_AUID;
	if (r->sha256.n)
		what |= FG_NEED_DIGEST;
	n = need(ret, n, max, -1, what, r->sha256.n ? &r->sha256 : NULL);
	if (r->parent.n && w->n_ancestors)
		n = need(ret, n, max, 0, FG_NEED_EXE | FG_NEED_CODE, NULL);
	a = r->ancestor.n ? ancestor_match(&r->ancestor, w) : -1;
	if (a >= 0)
		n = need(ret, n, max, a, FG_NEED_EXE | FG_NEED_CODE, NULL);
	return n;
}

int fg_policy_run_root(const struct fg_policy *p, unsigned rule, const struct fg_proc *w)
{
	const struct fg_writer_cfg *r;
	int root = -1;

	if (rule >= p->cfg.n_writers || p->cfg.writers[rule].exe.n == 0)
		return -1;
	r = &p->cfg.writers[rule];
	for (unsigned i = 0; i < w->n_ancestors; i++) {
		if (!exe_matches(&r->exe, p->exe_literal[rule], fg_proc_anc_exe(w, i)))
			break;
		root = (int)i;
	}
	return root;
}
