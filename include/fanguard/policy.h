/* The compiled allowlist and the pure decision over it. */
#ifndef FANGUARD_POLICY_H
#define FANGUARD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "fanguard/config.h"
#include "fanguard/proc.h"

enum fg_verdict { FG_VERDICT_ALLOW = 0, FG_VERDICT_DENY };

enum fg_reason {
	FG_REASON_RULE = 0,	     /* a [writer] rule matched */
	FG_REASON_TRANSACTION,	     /* the writer or an ancestor is a transaction exe */
	FG_REASON_NO_RULE,	     /* nothing matched */
	FG_REASON_CGROUP_UNVERIFIED, /* a rule matched but for its unit cgroup, which
				      * the writer's is not (unitcg.h) */
};

struct fg_decision {
	enum fg_verdict verdict; /* what the policy says (before audit mode) */
	enum fg_reason reason;
	int rule;	   /* writer index for FG_REASON_RULE, else -1 */
	int tx_anc;	   /* TRANSACTION: -1 the writer itself, else the
			    * index of the outermost matching ancestor */
	enum fg_mode mode; /* the effective mode for this subtree */
	bool quiet;	   /* the rule that matched is quiet */
	bool tx_outside;   /* no rule allowed, and a transaction tool (by path) is
			    * involved, but the subtree is outside [transaction]
			    * scope: the passthrough did not apply */
	bool alert;	   /* an attack on the guard itself: a write into
			    * fanguard's own policy that no rule allows, or a
			    * writer in a forged unit cgroup */
};

struct fg_policy {
	struct fg_config cfg;  /* owned */
	uint64_t *writer_mask; /* per writer: bit i = applies to subtree i */
	uint32_t *exe_literal; /* per writer: bit j = exe pattern j has no glob
				* characters, so strcmp decides it */
	uint64_t generation;   /* bumped by each successful reload */
	/* The rule index: a writer can match only the rules listed under its
	 * exe (rules whose exe patterns are all literal) and the "generic" ones
	 * (a glob, or no exe condition). Both lists are in rule order. */
	uint32_t *generic;
	unsigned n_generic;
	struct fg_exe_slot *exe_slots; /* open addressing, n_slots (a power of two) */
	unsigned n_slots;
	uint32_t *exe_rules; /* the rule lists the slots point into */
	bool uses_cgroup;    /* some rule or the transaction names a cgroup, or a
			      * rule a login uid (verified through the cgroup) */
	uint64_t self_mask;  /* subtrees holding fanguard's own policy (selfprot.h) */
	uint32_t *admins;    /* the login uids people rules name (`auid = admins`) */
	unsigned n_admins;
	/* Set by whoever owns the policy (guard.c, the CLI) so that judging
	 * can check unit cgroups; NULL: no cgroup condition ever matches. */
	const struct fg_unitcg *unitcg;
	/* Filled at load by fg_ident_prepare (ident.c); empty in pure uses. */
	uint8_t (*tx_digests)[32]; /* content SHA-256 of each transaction exe found */
	unsigned n_tx_digests;
	struct fg_devnum {
		unsigned major, minor;
	} * trusted_devs; /* filesystems of the trusted prefixes */
	unsigned n_trusted_devs;
};

/* Facts an allow rests on (FG_NEED_* bits), for ident.c to verify. */
#define FG_NEED_EXE    (1u << 0) /* it runs the image its exe names */
#define FG_NEED_CODE   (1u << 1) /* its code is trusted */
#define FG_NEED_AUID   (1u << 2) /* a login session backs its loginuid */
#define FG_NEED_DIGEST (1u << 3) /* its exe's digest is one of `list` */

struct fg_need {
	int who;		       /* -1: the writer, else an ancestor index */
	uint32_t what;		       /* FG_NEED_* */
	const struct fg_strlist *list; /* FG_NEED_DIGEST: the digests; NULL: the
					* transaction's contents (tx_digests) */
};

struct fg_exe_slot {
	const char *exe; /* NULL: empty; borrowed from cfg */
	uint32_t first, n;
};

/* Compiles cfg (ownership moves into *ret, cfg is zeroed). Returns 0 or
 * -ENOMEM. */
int fg_policy_compile(struct fg_policy *ret, struct fg_config *cfg);
void fg_policy_free(struct fg_policy *p);

/* Index of the subtree holding path (the longest path prefix at a '/'
 * boundary, or the exact file for a file subtree), or -1. */
int fg_policy_match_path(const struct fg_policy *p, const char *path);

/* The decision for writer w opening a file of subtree `subtree`. Pure. */
void fg_policy_decide(const struct fg_policy *p, unsigned subtree, const struct fg_proc *w,
		      struct fg_decision *ret);

/* The first writer rule that needs no ancestry (no ancestor or parent
 * condition) and allows w for subtree, or -1. When there is one, the
 * verdict is allow whatever the ancestry holds, and the open can be answered
 * before the ancestry is read. Pure. */
/* The root of w's run under rule: the index of the topmost ancestor in the
 * unbroken chain above w whose exe matches the rule's exe condition, or -1
 * when the run is w itself (its parent does not match, or the rule names no
 * exe). Pure. */
int fg_policy_run_root(const struct fg_policy *p, unsigned rule, const struct fg_proc *w);

int fg_policy_first_ancestry_free(const struct fg_policy *p, unsigned subtree,
				  const struct fg_proc *w);

/* fg_policy_decide, told what fg_policy_first_ancestry_free returned for
 * the same writer (-2: nothing known), so that the ancestry-free rules are
 * not matched twice. The decision is the same. */
void fg_policy_decide_known(const struct fg_policy *p, unsigned subtree, const struct fg_proc *w,
			    int known, struct fg_decision *ret);

/* Why writer rule `rule` does not match w for subtree: a static string
 * naming the first failing condition ("exe", "comm", "uid", "auid",
 * "ancestor", "parent", "cgroup", "subtrees"; "cgroup-unverified" when
 * w's cgroup is the one named but not a real unit's: w->cgroup_unit), or
 * NULL when it matches. */
const char *fg_policy_rule_mismatch(const struct fg_policy *p, unsigned rule, unsigned subtree,
				    const struct fg_proc *w);

/* Whether the writer itself, or which ancestor, runs a transaction exe:
 * -2 none, -1 the writer, else the outermost ancestor index. The
 * passthrough never applies to fanguard's own subtree, nor outside
 * [transaction] scope (decide, fg_tx_in_scope). */
int fg_policy_transaction(const struct fg_policy *p, const struct fg_proc *w);

/* Whether the decision can depend on an ancestor running exe: it matches a
 * transaction exe or some rule's `ancestor` or `parent` glob. Pure. */
bool fg_policy_ancestor_matters(const struct fg_policy *p, const char *exe);

/* The facts decision d (an allow) rests on, at most max of them into ret.
 * Pure; the count. */
unsigned fg_policy_needs(const struct fg_policy *p, unsigned subtree, const struct fg_proc *w,
			 const struct fg_decision *d, struct fg_need *ret, unsigned max);

/* Whether t's digest is in list (NULL: the transaction's contents). An
 * exe not hashed yet matches only when `optimistic` (ident.c deciding: it
 * then hashes it). Pure. */
bool fg_policy_digest_in(const struct fg_policy *p, const struct fg_trustinfo *t,
			 const struct fg_strlist *list, bool optimistic);

/* Whether exe lies outside every trusted prefix or is deleted: such a
 * process may be a transaction tool's temporary copy, known by content. */
bool fg_policy_foreign_exe(const struct fg_policy *p, const char *exe);

/* Whether some rule's or the transaction's cgroup condition names cg
 * (so that the writer's cgroup is worth checking). Pure. */
bool fg_policy_names_cgroup(const struct fg_policy *p, const char *cg);

/* Whether r allows people: its one identity condition is a list of login
 * uids (no exe, comm, uid, ancestry, cgroup or digest). Pure. */
bool fg_policy_people_rule(const struct fg_writer_cfg *r);

/* Whether auid is one that a people rule names (an admin). Pure. */
bool fg_policy_is_admin(const struct fg_policy *p, uint32_t auid);

/* Whether rule allows auid by a login uid (a numeric one, or `admins`),
 * which a login session must back. Pure. */
bool fg_policy_login_rule(const struct fg_policy *p, unsigned rule, uint32_t auid);

/* The effective mode of a subtree: enforce for fanguard's own, whatever
 * the config says. */
enum fg_mode fg_policy_mode(const struct fg_policy *p, unsigned subtree);

#endif
