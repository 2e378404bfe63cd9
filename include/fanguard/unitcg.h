/* Whether a writer's cgroup is the cgroup of a unit systemd started, not
 * one that a root process made and joined. A cgroup condition names unit
 * cgroups by their exact path; a path alone proves nothing, since root may
 * mkdir any cgroup and write its own pid into cgroup.procs. So before such a
 * condition can match, the cgroup is checked:
 *
 *   - it carries the trusted.invocation_id extended attribute, which the
 *     system manager sets on the cgroup of every unit it starts (and which
 *     only CAP_SYS_ADMIN may set or read);
 *   - the unit is defined on disk, in /etc/systemd/system (a guarded
 *     subtree) or in the image (/usr/lib/systemd/system, /lib/systemd/system),
 *     so a transient unit (systemd-run --unit=NAME) cannot borrow a name
 *     that the host does not have.
 *
 * The lookups go beneath directory fds opened at start, the cgroup one
 * without crossing a mount (openat2 RESOLVE_NO_XDEV): nothing here opens a
 * file fanotify could ask us about, so the answering thread may call it.
 * SECURITY.md says what this does not stop. */
#ifndef FANGUARD_UNITCG_H
#define FANGUARD_UNITCG_H

#include <stdbool.h>
#include <stddef.h>

struct fg_policy;
struct fg_proc;

#define FG_UNITCG_DIRS 3

/* fg_proc.cgroup_unit: what the check found for that writer. */
enum fg_cgroup_unit {
	FG_CGU_UNCHECKED = 0, /* not looked at: no cgroup condition can match */
	FG_CGU_UNIT,	      /* a unit cgroup systemd made, for a unit on disk */
	FG_CGU_FORGED,	      /* the path of a unit cgroup, but not one (see above) */
};

struct fg_unitcg {
	int root;		   /* the cgroup2 hierarchy's root directory, or -1 */
	int units[FG_UNITCG_DIRS]; /* unit directories, -1 where absent */
};

/* Whether s names a unit's cgroup exactly, as a cgroup condition must: an
 * absolute, normalised path of slices ending in NAME.service, with no glob
 * character. NULL if it does, else why not (for the config error). */
const char *fg_unitcg_name_problem(const char *s);

/* Opens the cgroup2 root (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
 * hybrid host) and the unit directories. What is missing stays -1, and
 * every check against it fails (the rule does not match). Returns 0 when
 * the cgroup2 root was found, else -ENOENT. */
int fg_unitcg_open(struct fg_unitcg *ret);
void fg_unitcg_close(struct fg_unitcg *u);

/* Checks the unit cgroup at path cg (a /proc/PID/cgroup path). Returns 0
 * when it is one, -ENODATA when it carries no invocation id, -ENOENT when
 * no unit file defines it, or another -errno when it could not be looked
 * at (-EXDEV: a mount on the way). u may be NULL (always -ENOENT). */
int fg_unitcg_verify(const struct fg_unitcg *u, const char *cg);

/* Whether the cgroup at path cg carries a trusted.invocation_id, as every
 * unit and scope systemd starts does (logind's session scopes included):
 * 0, -ENODATA, or another -errno (-ENOENT with no cgroup2 root). */
int fg_unitcg_invoked(const struct fg_unitcg *u, const char *cg);

/* Sets w->cgroup_unit: checked (UNIT or FORGED) when some rule or the
 * transaction of p names w's cgroup, else UNCHECKED. Always writes it. */
void fg_unitcg_fill(const struct fg_unitcg *u, const struct fg_policy *p, struct fg_proc *w);

#endif
