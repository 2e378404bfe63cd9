/* What an event means to a SIEM: its ECS categorisation (event.kind,
 * event.category, event.type) and its severity, from one table that the
 * JSON, syslog and journal outputs all use; and the host identity every
 * line carries. docs/events.md documents both. */
#ifndef FANGUARD_LOGSCHEMA_H
#define FANGUARD_LOGSCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fanguard/log.h"

/* The ECS release whose fields.csv the schema test checks against. */
#define FG_ECS_VERSION "9.5.0-dev"

struct fg_log_class {
	const char *kind;     /* event.kind: event, alert, state */
	const char *category; /* event.category (one value) */
	const char *type;     /* event.type's first value */
	const char *verdict;  /* its second: allowed, denied, error; or NULL */
	int priority;	      /* syslog LOG_* (journal PRIORITY= too) */
	int severity;	      /* event.severity: higher is worse, 0..99 */
	const char *level;    /* log.level: the syslog name */
};

/* The classification of ev (never fails: an action the table does not
 * know is an informational process event). */
void fg_log_classify(const struct fg_event *ev, struct fg_log_class *ret);

/* The i-th action of the table, NULL past the end: the schema test builds
 * one event of each and checks that the sources emit no other. */
const char *fg_log_action(unsigned i);

/* Reads the host's identity: hostname, machine id, boot id, boot time and
 * the instance name (boot id and this moment). Fields that cannot be read
 * stay empty or 0, and are then left out of every line. Returns 0. */
int fg_loghost_read(struct fg_loghost *ret);

/* Wall-clock time of a start time in clock ticks since boot. Returns 0, or
 * -ENODATA when the boot time is unknown or ticks is 0. */
int fg_loghost_wall(const struct fg_loghost *h, uint64_t ticks, struct timespec *ret);

/* ISO 8601 UTC with microseconds: "2026-11-27T20:30:00.123456Z". */
void fg_log_iso8601(const struct timespec *ts, char *out, size_t cap);

#endif
