/* The daemon's side of `fanguard explain`: questions asked over the status
 * socket are answered on the main thread from the policy the daemon runs,
 * and `explain --last` from the ring of recent denials (state.h). The main
 * thread may look at /proc and hash an executable (its opens are the
 * daemon's own and answered at once); the ring is copied out under the
 * guard's lock and rendered after it. */
#ifndef FANGUARD_EXPLAINSRV_H
#define FANGUARD_EXPLAINSRV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "fanguard/policy.h"
#include "fanguard/state.h"

/* Decides writer w for subtree st as the daemon would: its unit cgroup
 * checked and, for a real process, its identity verified (digests hashed
 * here, where waiting is fine). */
void fg_explain_decide(const struct fg_policy *pol, unsigned st, bool real, struct fg_proc *w,
		       struct fg_decision *d);

/* The reply to "explain ARGS" (args decoded in place): "OK allow" or "OK
 * deny" and the report, or "ERR ...". Returns its length. */
size_t fg_explainsrv_explain(const struct fg_policy *pol, char *args, char *buf, size_t cap);

/* The reply to "last ARGS": the newest recent denial matching every
 * condition given (exe=HEX, seq=N, id=ID; none: the newest), as "OK deny"
 * and its report (text, or JSON with json=1), or "ERR no recent denial
 * ...". instance: fanguard.instance, for event ids. Returns its length. */
size_t fg_explainsrv_last(const struct fg_state *st, pthread_mutex_t *lock, const char *instance,
			  char *args, char *buf, size_t cap);

#endif
