/* Formatting one event: the ECS JSON line (docs/events.md), the text line
 * and the journal record. Pure functions of the event and the host; no
 * allocation.
 *
 * A JSON line is never cut: when the whole event does not fit max_line it
 * is shortened the same way every time, first by leaving out ancestors
 * from the middle of the chain (the nearest and the farthest stay, and
 * fanguard.ancestry_truncated counts the rest), then, when even no
 * ancestry is too long, by shortening the long strings to a common length
 * (fanguard.truncated_fields names them). Either way the line is one
 * complete JSON object with fanguard.truncated: true. */
#ifndef FANGUARD_LOGFMT_H
#define FANGUARD_LOGFMT_H

#include <stddef.h>

#include "fanguard/config.h"
#include "fanguard/log.h"

/* The smallest max_line: room for every fixed field with the long strings
 * cut to nothing. */
#define FG_MAX_LINE_MIN 2048

/* Formats ev into buf as one line ending in '\n', NUL-terminated, at most
 * max_line bytes with the newline (max_line is clamped to
 * FG_MAX_LINE_MIN..FG_LINE_CAP; buf holds at least max_line + 1 bytes).
 * host may be NULL (no host fields, no dates from ticks). Returns the
 * length, newline included. */
size_t fg_log_format(const struct fg_loghost *host, const struct fg_event *ev,
		     enum fg_logformat fmt, size_t max_line, char *buf);

/* The text line of ev ("fanguard: key=value ..."), at most max_line bytes
 * with its newline; a field that does not fit is left out whole and the
 * line ends in " truncated=true". buf holds max_line + 1 bytes. */
size_t fg_log_format_text(const struct fg_loghost *host, const struct fg_event *ev, size_t max_line,
			  char *buf);

/* The journal record of ev: NUL-separated "FIELD=value" entries (PRIORITY,
 * SYSLOG_IDENTIFIER, FANGUARD_*, then MESSAGE= the JSON line of at most
 * max_line bytes), each entry NUL-terminated. Odd bytes in a path or an
 * exe never reach a field raw: FANGUARD_PATH holds the JSON-escaped form
 * and FANGUARD_PATH_HEX the bytes. Fields that do not fit in cap are left
 * out; MESSAGE always fits when cap >= max_line + 1024. Returns the
 * record's length, 0 when cap is smaller than that. */
size_t fg_log_format_journal(const struct fg_loghost *host, const struct fg_event *ev,
			     size_t max_line, char *buf, size_t cap);

#endif
