/* Deployments appearing and going while fanguardd runs (twins.h): the
 * directories at each level of the root globs carry a notification mark for
 * their entries, and a change there is handled on the notification thread
 * before the events read after it: the new deployment's twins are marked
 * (or their chain watched, level by level, as the tree is made), a gone
 * deployment's twins go inert and their marks are no longer counted. */
#ifndef FANGUARD_TWINWATCH_H
#define FANGUARD_TWINWATCH_H

#include <sys/types.h>

#include "fanguard/config.h"
#include "fanguard/fan.h"

struct fg_guard;

/* Watches the existing directories of each root glob's levels above the
 * roots: from the nearest existing directory of its literal part (never
 * "/" itself: a /sysroot made after start is seen at the next reload) down
 * to the directories that hold the roots. Returns how many were marked. */
unsigned fg_twinwatch_mark(struct fg_fan *f, const struct fg_config *cfg);

/* A directory entry at path (or old, a rename's source) changed by tid:
 * when it is a level of a root glob, the roots are looked for again and
 * the twins brought to what exists. Notification thread only. */
void fg_twinwatch_event(struct fg_guard *g, pid_t tid, const char *path, const char *old);

/* The same, unconditionally (after a reload or a queue overflow). */
void fg_twinwatch_rescan(struct fg_guard *g, pid_t tid);

#endif
