/* Verifying who a writer is (DESIGN 12): what /proc says about a process is
 * taken as a claim, and checked before an allow rests on it.
 *
 *   exe     /proc/PID/exe names a file the process may never have run:
 *           prctl(PR_SET_MM_MAP, exe_fd) and PR_SET_MM_EXE_FILE replace it
 *           once the old image is unmapped. The exe's inode must back one
 *           of the process's executable mappings, and an exe path inside a
 *           trusted prefix must be on that prefix's filesystem (a path from
 *           another mount namespace reads the same and may be anything).
 *   code    every executable mapping is the exe itself, a file inside a
 *           trusted prefix (on its filesystem), or the kernel's [vdso];
 *           anonymous executable memory, memfds and files elsewhere mean
 *           code the image did not ship. LD_PRELOAD, LD_AUDIT and
 *           LD_LIBRARY_PATH in the environment, or a tracer that is not
 *           itself an allowed writer, fail it too.
 *   auid    a login uid counts only inside the login session logind made
 *           for it: the process sits in .../user-AUID.slice/session-SID.scope,
 *           whose name logind takes from the audit session id SID.
 *   digest  the exe's content (SHA-256, or fs-verity's digest), computed
 *           by the digest worker (digest.h) and kept by inode.
 *
 * Only the answering thread calls this; it reads nothing but the processes'
 * /proc files, and never waits: a digest not known yet defers the open. */
#ifndef FANGUARD_IDENT_H
#define FANGUARD_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fanguard/digest.h"
#include "fanguard/policy.h"
#include "fanguard/proc.h"

#define FG_MAPS_CODE_MAX 1024

/* One line of /proc/PID/maps. path points into the line ("" if none). */
struct fg_map {
	uint64_t lo, hi;
	bool exec;
	unsigned major, minor;
	uint64_t ino;
	const char *path;
	size_t path_len;
};

/* Parses one line (without its newline). 0 or -EINVAL. Pure. */
int fg_ident_parse_map(const char *line, size_t len, struct fg_map *ret);

/* What a walk over a process's maps found. */
struct fg_maps_scan {
	/* in */
	unsigned exe_major, exe_minor;
	uint64_t exe_ino;
	const struct fg_policy *pol; /* trusted prefixes and their filesystems */
	/* out */
	bool exe_mapped;      /* an executable mapping comes from the exe's inode */
	uint8_t problem;      /* FG_IDP_FOREIGN_CODE / _ANON_CODE / _MODIFIED_CODE /
			       * _UNREADABLE, or 0 */
	char detail[512];     /* the first such mapping */
	char first_exec[512]; /* the lowest executable mapping (the main image) */
	char partial[512];    /* a line cut between two reads */
	/* executable mappings of files, whose pages ident.c checks */
	struct fg_code_range {
		uint64_t lo, hi;
	} code[FG_MAPS_CODE_MAX];
	unsigned n_code;
	bool code_overflow; /* more than FG_MAPS_CODE_MAX: not checked, not trusted */
	size_t partial_len;
};

/* Feeds the next len bytes of maps into s (lines may be cut anywhere).
 * Call with len 0 at the end. Pure. The executable file ranges it leaves
 * in s->code are what ident.c then looks at in pagemap. */
void fg_ident_scan_maps(struct fg_maps_scan *s, const char *buf, size_t len);

/* Whether n pagemap entries of an executable file mapping hold a page
 * that is not the file's: present and anonymous (written: mprotect and a
 * copy, a ptrace poke, a uprobe), or swapped (only anonymous pages swap).
 * Such a mapping is FG_IDP_MODIFIED_CODE. Pure. */
bool fg_ident_pagemap_modified(const uint64_t *entries, size_t n);

/* Looks for LD_PRELOAD, LD_AUDIT and LD_LIBRARY_PATH with a value in an
 * environ block (NUL-separated). Returns the first such string's length
 * and points *ret at it, or 0. Pure. */
size_t fg_ident_find_injection(const char *buf, size_t len, const char **ret);

/* Whether cgroup is logind's scope for this login uid and audit session:
 * a ".../user-AUID.slice/session-SID.scope" component pair (the daemon
 * also wants the scope's trusted.invocation_id, see ident.c). Pure.
 * fg_ident_session_scope returns the length of cgroup up to the end of that
 * scope, 0 when there is none. */
bool fg_ident_session_ok(uint32_t auid, uint32_t sessionid, const char *cgroup);
size_t fg_ident_session_scope(uint32_t auid, uint32_t sessionid, const char *cgroup);

/* The log's words for a problem ("exe-unmapped", ...) and for the reason
 * of a decision it changed ("exe-unverified", "code-untrusted",
 * "auid-unverified", "digest-mismatch", "digest-unavailable"). */
const char *fg_ident_problem_name(unsigned problem);
const char *fg_ident_reason(unsigned problem);
/* Whether the problem is about the exe (decided by on_error). */
bool fg_ident_problem_is_exe(unsigned problem);
const char *fg_ident_method_name(unsigned method);

struct fg_pcache;

/* The answering thread's verifier. */
struct fg_ident {
	struct fg_digests *dg;	 /* NULL: no digests can be had, unless... */
	bool hash_inline;	 /* ...the caller may hash right here (the CLI) */
	struct fg_proc *scratch; /* for a tracer */
	/* who was traced since its exec (NULL: not known, the CLI) */
	const struct fg_pcache *pc;
};

enum fg_ident_result { FG_IDENT_DONE = 0, FG_IDENT_WAIT };

/* Decides writer p's open of a file of subtree, verifying every fact an
 * allow rests on and deciding again when one fails, until the decision in
 * *ret rests on verified facts only. known: what
 * fg_policy_first_ancestry_free returned (-2: nothing). The facts found are
 * left in p (p->trust, p->anc[].trust, p->finding) for the cache and the
 * log. WAIT: a digest is being computed (*ret_ticket); nothing is decided.
 * With last_try a digest still missing counts as unavailable. */
enum fg_ident_result fg_ident_decide(struct fg_ident *ix, const struct fg_policy *pol,
				     unsigned subtree, struct fg_proc *p, int known, bool last_try,
				     struct fg_decision *ret, uint64_t *ret_ticket);

/* Verifies what rule `rule` (which needs no ancestry) rests on about the
 * writer itself. DONE with *ret_ok telling whether it holds. */
enum fg_ident_result fg_ident_verify_rule(struct fg_ident *ix, const struct fg_policy *pol,
					  unsigned subtree, struct fg_proc *p, int rule,
					  bool last_try, bool *ret_ok, uint64_t *ret_ticket);

/* At load, on the main thread: the filesystems of the trusted prefixes and
 * the content digest of every transaction exe the config names (globs
 * expanded), into pol. Best effort: what cannot be read is left out.
 * Returns how many transaction exes were hashed. */
unsigned fg_ident_prepare(struct fg_policy *pol);

/* Whether the kernel's audit feature loginuid_immutable is on (a set login
 * uid can then never change, not even by root): 1, 0, or -errno when it
 * cannot be asked (the netlink audit socket needs CAP_AUDIT_CONTROL and
 * the initial PID namespace; call before the capabilities are dropped). */
int fg_ident_loginuid_immutable(void);

#endif
