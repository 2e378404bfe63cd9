/* Deployment twins (issue 16). On an image-mode host the running /etc is
 * one copy of several that matter: every deployment under /sysroot has its
 * own etc, and the staged or rollback one becomes /etc at a later boot. So
 * each subtree under [deployments] etc gets a twin <root>/etc/<rest> for
 * every deployment root the [deployments] roots globs find: a subtree
 * entry of its own (its own marks, chain and status), with the name, key
 * and mode of the subtree it copies, decided by path like any other.
 *
 * The booted deployment's etc is the running etc (the same inode): it gets
 * no twins, or its files would be marked and counted twice. Twins are
 * appended after the subtrees of the files; the array is sized once, before
 * any thread runs, and never moves, so the answering thread can read an
 * entry while the notification thread adds or reuses another. A removed
 * deployment's twins stay in place, inert, until a new deployment reuses
 * them. */
#ifndef FANGUARD_TWINS_H
#define FANGUARD_TWINS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fanguard/config.h"

#define FG_TWINS_MAX	       256  /* twin entries per config, live or reusable */
#define FG_TWINS_RECORDS       1024 /* deployments seen by one config generation */
#define FG_TWINS_FOUND	       32   /* deployments alive at once that one scan keeps */
#define FG_TWINS_ROOTS_DEFAULT "/sysroot/ostree/deploy/*/deploy/*", "/sysroot/state/deploy/*"
#define FG_TWINS_ETC_DEFAULT   "/etc"

struct fg_deployment {
	char root[PATH_MAX];
	char id[160];		     /* the root's name: checksum.serial, or the composefs id */
	char stateroot[FG_NAME_MAX]; /* the ostree layout's stateroot; "" otherwise */
	bool booted;		     /* its etc is the running etc */
	bool gone;		     /* removed: its twins name nothing */
	uint64_t dev, ino;	     /* of the root: the same path made anew is another */
};

/* What one fg_twins_apply changed: subtree indices added (or reused) and
 * made inert, deployments found and lost, and what did not fit. */
struct fg_twins_change {
	unsigned added[FG_TWINS_MAX], n_added;
	unsigned removed[FG_TWINS_MAX], n_removed;
	unsigned deps_added, deps_removed;
	unsigned full;	   /* deployments or twins left unguarded for want of room */
	unsigned left_out; /* of them, roots past the scan's room (fg_twins_scan) */
};

/* The running etc, and the root globs (n into *ret_n) of d. */
const char *fg_twins_etc(const struct fg_deployments_cfg *d);
const char *const *fg_twins_roots(const struct fg_deployments_cfg *d, unsigned *ret_n);

/* The twin of subtree path sub in deployment root: <root>/etc/<rest> when
 * sub is etc or below it. Returns 1 with buf filled, 0 when sub is not
 * under etc, -ENAMETOOLONG. */
int fg_twins_path(const char *etc, const char *root, const char *sub, char *buf, size_t size);

/* The running etc's path for path when it lies in the booted
 * deployment's etc by its root's path. Pure. Returns 1 with buf filled,
 * 0 when it does not, -ENAMETOOLONG. */
int fg_twins_booted_path(const struct fg_config *cfg, const char *path, char *buf, size_t size);

/* Fills ret's id and stateroot from root's path (the ostree layout is
 * .../deploy/<stateroot>/deploy/<checksum>.<serial>). */
void fg_twins_name(const char *root, struct fg_deployment *ret);

/* The deployment roots that exist now: directories (not symlinks) matching
 * d's globs, at most max into ret, and how many more there were into
 * *ret_more (if not NULL). booted is set by comparing <root>/etc with the
 * running etc. Returns the count (0: none, an absent /sysroot is normal).
 * Touches paths: never from the answering thread. */
unsigned fg_twins_scan(const struct fg_deployments_cfg *d, struct fg_deployment *ret, unsigned max,
		       unsigned *ret_more);

/* Sizes cfg's subtree array for twins (before any thread reads it).
 * Returns 0 or -ENOMEM. */
int fg_twins_prepare(struct fg_config *cfg);

/* Brings cfg's deployments and twins to now[0..n): the deployments gone
 * become inert, the new ones get twins (reusing inert entries first). New
 * entries are complete before n_subtrees counts them. `more` roots exist
 * that the scan could not keep: then nothing is taken for gone, and they
 * count in ret->full and in d->scan_more (what did not fit in the twins
 * adds to d->short_twins): fg_twins_unguarded. Returns 0 or -ENOMEM; ret
 * says what changed. */
int fg_twins_apply(struct fg_config *cfg, const struct fg_deployment *now, unsigned n,
		   unsigned more, struct fg_twins_change *ret);

/* Deployment roots found and left unguarded for want of room: the last
 * scan's extra roots plus what has not fitted since the config was loaded
 * (status: degraded). */
static inline unsigned fg_twins_unguarded(const struct fg_config *cfg)
{
	return __atomic_load_n(&cfg->deployments.scan_more, __ATOMIC_RELAXED) +
	       __atomic_load_n(&cfg->deployments.short_twins, __ATOMIC_RELAXED);
}

/* prepare, scan and apply: what the daemon does with a freshly loaded
 * config. Returns 0 or -ENOMEM. */
int fg_twins_expand(struct fg_config *cfg);

/* The subtree subtree is a copy of (itself for a subtree of the files). */
static inline unsigned fg_twins_base(const struct fg_config *cfg, unsigned subtree)
{
	return subtree < cfg->n_subtrees && cfg->subtrees[subtree].twin
		   ? cfg->subtrees[subtree].twin - 1
		   : subtree;
}

static inline bool fg_twins_is_twin(const struct fg_config *cfg, unsigned subtree)
{
	return subtree < cfg->n_subtrees && cfg->subtrees[subtree].twin;
}

/* Whether subtree is the twin of a deployment that is gone. */
bool fg_twins_inert(const struct fg_config *cfg, unsigned subtree);

/* Whether a directory entry at path (created, deleted, moved) can change
 * which deployment roots exist: it is a level of some root glob. */
bool fg_twins_relevant(const struct fg_config *cfg, const char *path);

/* The number of components of the glob pat, and its first `levels` of
 * them into buf (0 or -ENAMETOOLONG). */
unsigned fg_twins_depth(const char *pat);
int fg_twins_level(const char *pat, unsigned levels, char *buf, size_t size);

/* Live deployments and their twins, for status. */
unsigned fg_twins_live(const struct fg_config *cfg, unsigned *ret_twins);

#endif
