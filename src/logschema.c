#include "fanguard/logschema.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <unistd.h>

#include "fanguard/util.h"

/* How loud each kind of line is. A change that landed is louder than an
 * attempt that was stopped: a forwarder that keeps only warning and above
 * must ship both, and one that keeps only alerts must still ship the
 * changes. */
#define P_LANDED  LOG_ALERT   /* detected change, subtree replaced */
#define P_ATTACK  LOG_CRIT    /* a stopped attack on the guard itself */
#define P_BLIND	  LOG_CRIT    /* the daemon is not guarding (self-test failed) */
#define P_FAULT	  LOG_ERR     /* lines lost, hardening off, reload refused */
#define P_DENIED  LOG_WARNING /* deny, would-deny, overload answers */
#define P_ROUTINE LOG_NOTICE  /* allowed writes, start/stop, heartbeat */

enum verdict_rule {
	V_DECISION, /* from fanguard.decision: allowed / denied / (detected: none) */
	V_OUTCOME,  /* a daemon event: error when it failed */
};

/* One row per action. prio 0: from the decision; fail_prio: the priority
 * when event.outcome is failure (0: the same as prio). */
struct row {
	const char *action;
	const char *category;
	const char *type;
	enum verdict_rule verdict;
	int prio;
	int fail_prio;
	const char *kind; /* NULL: event, or alert for a detected change */
};

/* clang-format off */
static const struct row rows[] = {
	{"open-write",       "file",          "change",   V_DECISION, 0,         0,       NULL},
	{"modify",           "file",          "change",   V_DECISION, 0,         0,       NULL},
	{"attrib",           "file",          "change",   V_DECISION, 0,         0,       NULL},
	{"rename-in",        "file",          "creation", V_DECISION, 0,         0,       NULL},
	{"link-in",          "file",          "creation", V_DECISION, 0,         0,       NULL},
	{"symlink-in",       "file",          "creation", V_DECISION, 0,         0,       NULL},
	{"subtree-appeared", "file",          "creation", V_DECISION, 0,         0,       NULL},
	{"create",           "file",          "creation", V_DECISION, 0,         0,       NULL},
	{"unguarded-file",   "file",          "creation", V_DECISION, 0,         0,       NULL},
	{"rename",           "file",          "change",   V_DECISION, 0,         0,       NULL},
	{"rename-out",       "file",          "deletion", V_DECISION, 0,         0,       NULL},
	{"delete",           "file",          "deletion", V_DECISION, 0,         0,       NULL},
	{"close-write",      "file",          "change",   V_DECISION, 0,         0,       NULL},
	{"subtree-moved",    "file",          "change",   V_DECISION, 0,         0,       NULL},
	{"path-too-long",    "file",          "change",   V_DECISION, 0,         0,       NULL},
	{"writable-fd",      "file",          "access",   V_DECISION, 0,         0,       NULL},
	{"writable-mapping", "file",          "access",   V_DECISION, 0,         0,       NULL},
	{"mount-below",      "file",          "change",   V_DECISION, 0,         0,       NULL},
	/* The denial it follows was logged at warning already. */
	{"removed-empty",    "file",          "deletion", V_OUTCOME,  P_ROUTINE, 0,       NULL},
	{"subtree-replaced", "file",          "change",   V_OUTCOME,  P_LANDED,  0,       "alert"},
	{"transaction-end",  "process",       "end",      V_OUTCOME,  P_ROUTINE, 0,       NULL},
	{"run-end",          "process",       "end",      V_OUTCOME,  P_ROUTINE, 0,       NULL},
	{"daemon-start",     "process",       "start",    V_OUTCOME,  P_ROUTINE, P_BLIND, NULL},
	{"daemon-stop",      "process",       "end",      V_OUTCOME,  P_ROUTINE, 0,       NULL},
	{"reload",           "configuration", "change",   V_OUTCOME,  P_ROUTINE, P_FAULT, NULL},
	{"harden",           "process",       "info",     V_OUTCOME,  P_ROUTINE, P_FAULT, NULL},
	{"status-socket",    "process",       "info",     V_OUTCOME,  P_ROUTINE, P_FAULT, NULL},
	{"writer-cache",     "process",       "info",     V_OUTCOME,  P_ROUTINE, P_DENIED, NULL},
	{"remark-failed",    "process",       "info",     V_OUTCOME,  P_ROUTINE, P_FAULT, NULL},
	{"inode-table-full", "process",       "info",     V_OUTCOME,  P_ROUTINE, P_FAULT, NULL},
	/* deployments found or gone while running (twinwatch.c) */
	{"deployments-changed", "process",    "info",     V_OUTCOME,  P_ROUTINE, P_FAULT, NULL},
	{"overload",         "process",       "info",     V_OUTCOME,  P_DENIED,  0,       NULL},
	/* A successor took the held group over: the daemon before it died. */
	{"takeover",         "process",       "start",    V_OUTCOME,  P_DENIED,  P_FAULT, NULL},
	{"fd-store",         "process",       "info",     V_OUTCOME,  P_ROUTINE, P_FAULT, NULL},
	{"log-dropped",      "process",       "info",     V_OUTCOME,  P_FAULT,   0,       NULL},
	{"heartbeat",        "process",       "info",     V_OUTCOME,  P_ROUTINE, 0,       "state"},
	/* fanguard deployments (deployments.c): "detected" is an alert, no
	 * decision an informational finding. */
	{"deployment-staged", "host",         "change",   V_DECISION, 0,         0,       NULL},
	{"booted-changed",   "host",          "change",   V_DECISION, 0,         0,       NULL},
	{"rollback-queued",  "host",          "change",   V_DECISION, 0,         0,       NULL},
	{"downgrade",        "host",          "change",   V_DECISION, 0,         0,       NULL},
	{"image-switched",   "host",          "change",   V_DECISION, 0,         0,       NULL},
	{"image-unapproved", "host",          "info",     V_DECISION, 0,         0,       NULL},
	{"signature-not-enforced", "host",    "info",     V_DECISION, 0,         0,       NULL},
	{"usr-overlay",      "host",          "change",   V_DECISION, 0,         0,       NULL},
	/* One a run: bootc's status as it stands (the seed's cadence). */
	{"deployment-status", "host",         "info",     V_OUTCOME,  P_ROUTINE, P_FAULT, "state"},
	/* policy.json judged (sigwatch.c): weakened is "detected", an
	 * unparseable one a failure. */
	{"signature-policy", "configuration", "change",   V_DECISION, 0,         P_FAULT, NULL},
	/* Categorised as the action it repeats (fanguard.repeated.action). */
	{"repeated",         "file",          "change",   V_DECISION, 0,         0,       NULL},
};
/* clang-format on */

static const struct row fallback = {NULL, "process", "info", V_OUTCOME, P_ROUTINE, 0, NULL};

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static const struct row *find_row(const char *action)
{
	for (size_t i = 0; i < FG_ARRAY_SIZE(rows); i++)
		if (streq(rows[i].action, action))
			return &rows[i];
	return &fallback;
}

const char *fg_log_action(unsigned i)
{
	return i < FG_ARRAY_SIZE(rows) ? rows[i].action : NULL;
}

/* event.severity follows Elastic's risk bands (21 low, 47 medium, 73 high,
 * 99 critical), so a detection rule can map it without a lookup. */
static int severity_of(int prio)
{
	static const int sev[] = {
	    [LOG_EMERG] = 99,	[LOG_ALERT] = 99,  [LOG_CRIT] = 85, [LOG_ERR] = 73,
	    [LOG_WARNING] = 47, [LOG_NOTICE] = 21, [LOG_INFO] = 10, [LOG_DEBUG] = 0};

	return prio >= 0 && prio <= LOG_DEBUG ? sev[prio] : 21;
}

static const char *level_of(int prio)
{
	static const char *const names[] = {"emergency", "alert",  "critical", "error",
					    "warning",	 "notice", "info",     "debug"};

	return prio >= 0 && prio <= LOG_DEBUG ? names[prio] : "notice";
}

static void by_decision(const struct fg_event *ev, struct fg_log_class *c)
{
	if (streq(ev->decision, "detected")) {
		/* It already happened: no verdict, and it is what alerts are for. */
		c->kind = "alert";
		c->priority = P_LANDED;
	} else if (streq(ev->decision, "deny")) {
		c->verdict = "denied";
		c->priority = P_DENIED;
	} else if (streq(ev->decision, "would-deny")) {
		/* audit mode let it through: allowed, yet as loud as a denial */
		c->verdict = "allowed";
		c->priority = P_DENIED;
	} else {
		c->verdict = ev->decision ? "allowed" : NULL;
		c->priority = P_ROUTINE;
	}
}

void fg_log_classify(const struct fg_event *ev, struct fg_log_class *ret)
{
	const char *action = ev->action;
	const struct row *r;

	if (streq(action, "repeated") && ev->repeat && ev->repeat->action)
		action = ev->repeat->action;
	r = find_row(action);
	*ret = (struct fg_log_class){.kind = r->kind ? r->kind : "event",
				     .category = r->category,
				     .type = r->type,
				     .priority = r->prio};
	if (r->verdict == V_DECISION) {
		by_decision(ev, ret);
		/* A writer caught claiming an identity it does not have is an
		 * attack, not a routine denial (DESIGN 12). */
		if (ev->identity_alert) {
			ret->kind = "alert";
			ret->priority = P_LANDED;
		}
		/* no decision and a failure: it could not be judged */
		if (!ev->decision && r->fail_prio && streq(ev->outcome, "failure")) {
			ret->verdict = "error";
			ret->priority = r->fail_prio;
		}
		/* An attempt on fanguard's own policy or a forged identity is
		 * what alerts are for, even when it was stopped; when it got
		 * through (audit mode, another rule) it is as loud as a change
		 * that landed. */
		if (ev->alert) {
			ret->kind = "alert";
			ret->priority = streq(ev->decision, "deny") ? P_ATTACK : P_LANDED;
		}
	} else if (streq(ev->outcome, "failure")) {
		ret->verdict = "error";
		if (r->fail_prio)
			ret->priority = r->fail_prio;
	}
	ret->severity = severity_of(ret->priority);
	ret->level = level_of(ret->priority);
}

/* ---- the host ---- */

static void read_line(const char *path, char *buf, size_t cap)
{
	ssize_t n = fg_read_small(AT_FDCWD, path, buf, cap);

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* btime from /proc/stat: the wall-clock second the system booted. */
static uint64_t read_btime(void)
{
	char buf[8192], *p;
	uint64_t v;

	if (fg_read_small(AT_FDCWD, "/proc/stat", buf, sizeof(buf)) < 0)
		return 0;
	p = strstr(buf, "\nbtime ");
	if (!p)
		return 0;
	p += 7;
	p[strcspn(p, "\n")] = '\0';
	return fg_parse_u64(p, &v) == 0 ? v : 0;
}

/* The instance is the boot (its id, dashes dropped) and the moment on the
 * boot clock: two starts on one boot differ in the second half, two boots
 * in the first. Without a boot id, 128 random bits stand in for it. */
static void make_instance(struct fg_loghost *h)
{
	struct timespec bt;
	char id[33];
	size_t k = 0;

	for (const char *p = h->boot_id; *p && k < 32; p++)
		if (*p != '-')
			id[k++] = *p;
	id[k] = '\0';
	if (k == 0) {
		unsigned char rnd[16] = {0};

		(void)!getrandom(rnd, sizeof(rnd), 0);
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	}
	clock_gettime(CLOCK_BOOTTIME, &bt);
	snprintf(h->instance, sizeof(h->instance), "%s-%" PRIx64, id,
		 (uint64_t)bt.tv_sec * 1000000000u + (uint64_t)bt.tv_nsec);
}

int fg_loghost_read(struct fg_loghost *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (gethostname(ret->name, sizeof(ret->name) - 1) < 0)
		ret->name[0] = '\0';
	read_line("/etc/machine-id", ret->id, sizeof(ret->id));
	read_line("/proc/sys/kernel/random/boot_id", ret->boot_id, sizeof(ret->boot_id));
	ret->btime = read_btime();
	ret->clk_tck = sysconf(_SC_CLK_TCK);
	make_instance(ret);
	return 0;
}

int fg_loghost_wall(const struct fg_loghost *h, uint64_t ticks, struct timespec *ret)
{
	if (!h || h->btime == 0 || h->clk_tck <= 0 || ticks == 0)
		return -ENODATA;
	ret->tv_sec = (time_t)(h->btime + ticks / (uint64_t)h->clk_tck);
	ret->tv_nsec = (long)(ticks % (uint64_t)h->clk_tck * 1000000000u / (uint64_t)h->clk_tck);
	return 0;
}

void fg_log_iso8601(const struct timespec *ts, char *out, size_t cap)
{
	struct tm tm;
	time_t s = ts->tv_sec;
	size_t n;

	if (!gmtime_r(&s, &tm))
		memset(&tm, 0, sizeof(tm));
	n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, cap - n, ".%06ldZ", (long)(ts->tv_nsec / 1000));
}
