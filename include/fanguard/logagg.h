/* Folding repeats: a writer that makes the same decision over and over (the
 * same executable, name, uid, login uid, session and cgroup, the same
 * action, decision, reason, rule, mode and subtree) gets `threshold` full
 * lines per window; the rest of that window becomes one `repeated` line at
 * its end, with how many were left out and the first and last file. The
 * first of a window is always logged in full. Alerts (detected changes)
 * and daemon events are never folded. Not thread-safe: the logger calls it
 * under its lock. */
#ifndef FANGUARD_LOGAGG_H
#define FANGUARD_LOGAGG_H

#include <stdbool.h>
#include <stdint.h>

#include "fanguard/log.h"

#define FG_AGG_SLOTS 16 /* writers followed at once; more are logged in full */

struct fg_logagg;

/* Returns a new table (threshold 0: nothing is ever folded), or NULL when
 * out of memory. */
struct fg_logagg *fg_logagg_new(unsigned threshold, uint64_t window_ns);
void fg_logagg_free(struct fg_logagg *a);

/* Whether ev, happening at now_ns (CLOCK_MONOTONIC), is to be logged:
 * false means it was folded into its window's `repeated` line. Call
 * fg_logagg_due first, so that windows that are over are closed. */
bool fg_logagg_admit(struct fg_logagg *a, const struct fg_event *ev, uint64_t now_ns);

/* The `repeated` line of one window that is over at now_ns (every window
 * with force), in *ret (pointing into a, valid until the next call); false
 * when there is none. Call until it returns false. */
bool fg_logagg_due(struct fg_logagg *a, uint64_t now_ns, bool force, struct fg_event *ret);

/* When the next window with folded events ends (CLOCK_MONOTONIC ns), or
 * UINT64_MAX. */
uint64_t fg_logagg_next_ns(const struct fg_logagg *a);

#endif
