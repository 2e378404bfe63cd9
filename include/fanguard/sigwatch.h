/* The daemon's eye on the signature policy (DESIGN 14): policy.json judged
 * by its content at start, at every reload and after every write-close or
 * rename onto it, on the notification thread (which may read paths), and
 * logged as a signature-policy event that names the writer. A weakened
 * policy is an alert whoever wrote it: an allowed writer's bad playbook
 * loosens it as surely as an attacker. Only a policy whose path lies in a
 * guarded subtree is watched. */
#ifndef FANGUARD_SIGWATCH_H
#define FANGUARD_SIGWATCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "fanguard/config.h"

struct fg_guard;
struct fg_sigwatch;

/* Allocates the watch (the last verdict starts unknown); NULL without
 * memory. fg_sigwatch_free(NULL) is fine. */
struct fg_sigwatch *fg_sigwatch_new(void);
void fg_sigwatch_free(struct fg_sigwatch *w);

/* The policy file cfg names: [deployments] signature_policy, or the
 * default /etc/containers/policy.json. */
const char *fg_sigwatch_path(const struct fg_config *cfg);

/* Notification thread. Judges the policy again when path is the watched
 * policy (any path for "start" and "reload": pass NULL), logs the verdict
 * with the scopes that changed since the last, and names tid as the
 * writer (0: none, for start and reload). */
void fg_sigwatch_check(struct fg_guard *g, const char *trigger, const char *path, pid_t tid);

struct fg_proc;

/* Answering thread: a write-open of path by p went through (rule: the
 * writer rule that allowed it, or NULL). When path is the watched policy,
 * p is kept (a memory copy under a short lock, no path is touched), so the
 * verdict after the write-close can name a writer that is gone by then. */
void fg_sigwatch_note_writer(struct fg_sigwatch *w, const char *path, const struct fg_proc *p,
			     const char *rule);

/* The last verdict's name (enforced, weakened, unparseable), or NULL while
 * none was taken or the policy is not watched. Any thread. */
const char *fg_sigwatch_verdict(const struct fg_sigwatch *w);

#endif
