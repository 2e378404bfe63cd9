/* fanguard's own policy as a guarded subtree. /etc/fanguard holds the
 * drop-ins, so whoever may write there may rewrite every other rule at the
 * next reload: it is the most protected subtree (fanguard.conf(5)).
 *
 *   - A rule reaches it only by naming it in `subtrees`; "every subtree"
 *     (no `subtrees`, or `*`) never includes it, and only the image's own
 *     files (or a file given with --config) may name it. A drop-in that
 *     tries is refused at load.
 *   - It is always enforced, in audit mode too, and the transaction
 *     passthrough does not apply to it; a write there that no rule allows
 *     is an alert (policy.c).
 *   - No other subtree may lie inside it, where it would take conf.d's
 *     writes away from it. */
#ifndef FANGUARD_SELFPROT_H
#define FANGUARD_SELFPROT_H

#include <stdbool.h>

#include "fanguard/config.h"

#define FG_SELF_DIR "/etc/fanguard"

/* Whether path is FG_SELF_DIR or lies below it. */
bool fg_selfprot_path(const char *path);

/* Whether subtree s holds fanguard's own policy. */
bool fg_selfprot_subtree(const struct fg_subtree_cfg *s);

/* The load-time rules above, over every file loaded: adds each violation
 * to diag ("FILE:LINE: message") and returns -EINVAL, or 0. Also refuses
 * subtrees on /proc and /sys, where the daemon's own lookups go. */
int fg_selfprot_check(const struct fg_config *cfg, struct fg_diag *diag);

#endif
