/* Why a write is allowed or denied, in words: the one-line form kept with
 * each recent denial, the full report of `fanguard explain` (text or JSON)
 * and the request that carries an explain question over the status socket.
 * Everything here is pure: no path is opened, nothing is logged, so the
 * answering thread may call fg_explain_line and the daemon's main thread
 * and the CLI share the renderers (what the CLI prints from files is what
 * the daemon says from its running policy). */
#ifndef FANGUARD_EXPLAIN_H
#define FANGUARD_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fanguard/policy.h"
#include "fanguard/proc.h"

#define FG_EXPLAIN_RULES 4 /* rules named in that line; more are counted */

/* One line for a decided write (a denial, as a rule): the decision, who,
 * the subtree, and the first failing condition of the first rules that
 * cover the subtree (FG_EXPLAIN_RULES of them; the others counted as "+N
 * more"). reason is the logged
 * fanguard.reason (identity reasons included); subtree < 0: unplaced.
 * Returns the length (cut to cap - 1). Pure, memory only. */
size_t fg_explain_line(const struct fg_policy *p, int subtree, const struct fg_proc *w,
		       const struct fg_decision *d, const char *reason, char *buf, size_t cap);

/* The full report for writer w opening path (subtree st, -1: outside every
 * subtree; w and d unused then), into buf (cap bytes, terminated); text
 * or one JSON object and a newline. Returns the length. */
size_t fg_explain_render(const struct fg_policy *p, int st, const char *path,
			 const struct fg_proc *w, const struct fg_decision *d, bool json, char *buf,
			 size_t cap);

/* An explain question as the CLI's flags give it. Strings are borrowed
 * (decoded: they point into the request buffer). */
struct fg_explain_req {
	const char *path;
	pid_t pid; /* 0: a described writer (exe ...) */
	const char *exe, *comm, *cgroup;
	uint32_t uid, auid;
	const char *ancestors[FG_ANCESTRY_MAX];
	unsigned n_ancestors;
	bool json;
};

/* The request line "explain k=HEX ..." (no newline) for r into buf; values
 * are hex so that any path fits one line. Returns the length, or 0 when it
 * does not fit cap. */
size_t fg_explain_req_encode(const struct fg_explain_req *r, char *buf, size_t cap);

/* Parses the arguments of an explain request (the line after "explain "),
 * decoding in place. Returns 0 or -EINVAL. */
int fg_explain_req_decode(char *args, struct fg_explain_req *ret);

/* s as lower-case hex into buf (cap bytes, terminated). Returns the
 * length, or 0 when it does not fit (or s is empty). */
size_t fg_explain_hex(const char *s, char *buf, size_t cap);

/* Decodes hex digits in s in place (a NUL byte is refused). Returns 0 or
 * -EINVAL. */
int fg_explain_unhex(char *s);

/* The writer a described request names (no pid), into w. Returns 0 or
 * -E2BIG when its ancestors do not fit. */
int fg_explain_fake_proc(const struct fg_explain_req *r, struct fg_proc *w);

#endif
