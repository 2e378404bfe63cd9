/* A compact copy of one event, so that the thread that answers the kernel
 * only copies bytes and the logger thread formats the line (DESIGN 8). */
#ifndef FANGUARD_LOGPACK_H
#define FANGUARD_LOGPACK_H

#include <stddef.h>

#include "fanguard/log.h"
#include "fanguard/proc.h"

/* Bytes fg_logpack_write needs for ev, or 0 when ev cannot be packed: the
 * logger's own events (repeat, loss and heartbeat summaries), run-end
 * summaries, deployment findings and signature verdicts, which are
 * formatted where they are made. */
size_t fg_logpack_size(const struct fg_event *ev);

/* Packs ev into buf (fg_logpack_size(ev) bytes). */
void fg_logpack_write(const struct fg_event *ev, char *buf);

/* Rebuilds an event from buf: its strings point into buf, its writer (if
 * any) is copied into *proc. Returns 0, or -EINVAL for a record that is not
 * one fg_logpack_write made. */
int fg_logpack_read(const char *buf, size_t len, struct fg_event *ret, struct fg_proc *proc);

#endif
