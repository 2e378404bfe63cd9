#include "fanguard/logagg.h"

#include <stdlib.h>
#include <string.h>

#include "fanguard/util.h"

#define WORD 24 /* action, decision, reason, mode, outcome */

/* One writer's window. Everything is copied: the event's strings point
 * into the policy, which a reload frees before the window ends. */
struct slot {
	bool used;
	uint64_t hash;
	uint64_t start_ns;
	unsigned seen;	     /* events in this window, logged or not */
	uint64_t suppressed; /* events folded */
	struct timespec first, last;
	char action[WORD], decision[WORD], reason[WORD], mode[WORD], outcome[WORD];
	char rule[FG_NAME_MAX], subtree[FG_NAME_MAX], key[FG_NAME_MAX];
	bool has_proc;
	uint32_t known, uid, auid, sessionid;
	char comm[FG_COMM_LEN];
	char exe[PATH_MAX];
	char cgroup[FG_CGROUP_LEN];
	char first_path[PATH_MAX], last_path[PATH_MAX];
};

struct fg_logagg {
	unsigned threshold;
	uint64_t window_ns;
	struct slot slot[FG_AGG_SLOTS];
	struct fg_proc *proc; /* the writer of the `repeated` line being handed out */
	struct fg_repeat repeat;
};

struct fg_logagg *fg_logagg_new(unsigned threshold, uint64_t window_ns)
{
	struct fg_logagg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->proc = calloc(1, sizeof(*a->proc));
	if (!a->proc) {
		free(a);
		return NULL;
	}
	a->threshold = threshold;
	a->window_ns = window_ns;
	return a;
}

void fg_logagg_free(struct fg_logagg *a)
{
	if (!a)
		return;
	free(a->proc);
	free(a);
}

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void copy(char *dst, const char *src, size_t size)
{
	fg_strlcpy(dst, src ? src : "", size);
}

static const char *or_null(const char *s)
{
	return s[0] ? s : NULL;
}

/* FNV-1a over a string, bounded, with a separator so "ab"+"c" != "a"+"bc". */
static uint64_t mix(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

static uint64_t mix_str(uint64_t h, const char *s, size_t max)
{
	return mix(h, s ? s : "", s ? strnlen(s, max) : 0);
}

static uint64_t key_of(const struct fg_event *ev)
{
	const char *words[] = {ev->action, ev->decision, ev->reason, ev->rule,
			       ev->mode,   ev->subtree,	 ev->key,    ev->outcome};
	const struct fg_proc *p = ev->proc;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < FG_ARRAY_SIZE(words); i++)
		h = mix_str(h, words[i], FG_NAME_MAX);
	if (!p)
		return mix(h, "-", 1);
	h = mix(h, &p->known, sizeof(p->known));
	if (p->known & FG_PROC_STATUS)
		h = mix(h, &p->uid, sizeof(p->uid));
	if (p->known & FG_PROC_AUID)
		h = mix(h, &p->auid, sizeof(p->auid));
	if (p->known & FG_PROC_SESSION)
		h = mix(h, &p->sessionid, sizeof(p->sessionid));
	if (p->known & FG_PROC_STAT)
		h = mix_str(h, p->comm, FG_COMM_LEN);
	if (p->known & FG_PROC_EXE)
		h = mix_str(h, p->exe, sizeof(p->exe));
	if (p->known & FG_PROC_CGROUP)
		h = mix_str(h, p->cgroup, FG_CGROUP_LEN);
	return h;
}

/* Decisions only; a detected change is an alert and always stands alone. */
static bool foldable(const struct fg_logagg *a, const struct fg_event *ev)
{
	return a->threshold > 0 && ev->action && ev->decision && !streq(ev->decision, "detected") &&
	       !ev->repeat && !ev->lost && !ev->heartbeat;
}

static void slot_start(struct slot *s, const struct fg_event *ev, uint64_t hash, uint64_t now)
{
	const struct fg_proc *p = ev->proc;

	memset(s, 0, offsetof(struct slot, exe));
	s->used = true;
	s->hash = hash;
	s->start_ns = now;
	s->seen = 1;
	copy(s->action, ev->action, WORD);
	copy(s->decision, ev->decision, WORD);
	copy(s->reason, ev->reason, WORD);
	copy(s->mode, ev->mode, WORD);
	copy(s->outcome, ev->outcome, WORD);
	copy(s->rule, ev->rule, FG_NAME_MAX);
	copy(s->subtree, ev->subtree, FG_NAME_MAX);
	copy(s->key, ev->key, FG_NAME_MAX);
	s->exe[0] = s->cgroup[0] = '\0';
	if (!p)
		return;
	s->has_proc = true;
	s->known = p->known;
	s->uid = p->uid;
	s->auid = p->auid;
	s->sessionid = p->sessionid;
	memcpy(s->comm, p->comm, FG_COMM_LEN);
	copy(s->exe, p->exe, sizeof(s->exe));
	memcpy(s->cgroup, p->cgroup, FG_CGROUP_LEN);
	s->cgroup[FG_CGROUP_LEN - 1] = '\0';
}

static void fold(struct slot *s, const struct fg_event *ev)
{
	if (s->suppressed++ == 0) {
		s->first = ev->when;
		copy(s->first_path, ev->path, PATH_MAX);
	}
	s->last = ev->when;
	copy(s->last_path, ev->path, PATH_MAX);
}

/* A slot for a new window: a free one, else the oldest with nothing
 * folded yet (dropping it loses no line), else none. */
static struct slot *take(struct fg_logagg *a)
{
	struct slot *best = NULL;

	for (unsigned i = 0; i < FG_AGG_SLOTS; i++) {
		struct slot *s = &a->slot[i];

		if (!s->used)
			return s;
		if (s->suppressed == 0 && (!best || s->start_ns < best->start_ns))
			best = s;
	}
	return best;
}

bool fg_logagg_admit(struct fg_logagg *a, const struct fg_event *ev, uint64_t now_ns)
{
	uint64_t h;
	struct slot *s;

	if (!foldable(a, ev))
		return true;
	h = key_of(ev);
	for (unsigned i = 0; i < FG_AGG_SLOTS; i++) {
		s = &a->slot[i];
		if (!s->used || s->hash != h)
			continue;
		if (now_ns - s->start_ns >= a->window_ns) {
			/* Over but not yet closed: a new window only once the
			 * old one's line is out. */
			if (s->suppressed)
				return true;
			break;
		}
		if (++s->seen <= a->threshold)
			return true;
		fold(s, ev);
		return false;
	}
	s = take(a);
	if (s)
		slot_start(s, ev, h, now_ns);
	return true;
}

/* The `repeated` line of s, in a's storage. */
static void summary(struct fg_logagg *a, struct slot *s, struct fg_event *ev)
{
	struct fg_proc *p = a->proc;

	a->repeat = (struct fg_repeat){.action = s->action,
				       .count = s->suppressed,
				       .last_path = or_null(s->last_path),
				       .first = s->first,
				       .last = s->last};
	*ev = (struct fg_event){.when = s->last,
				.action = "repeated",
				.outcome = or_null(s->outcome),
				.decision = or_null(s->decision),
				.reason = or_null(s->reason),
				.mode = or_null(s->mode),
				.rule = or_null(s->rule),
				.subtree = or_null(s->subtree),
				.key = or_null(s->key),
				.path = or_null(s->first_path),
				.repeat = &a->repeat};
	if (!s->has_proc)
		return;
	/* Many processes may share the identity: no pid, no start, no chain. */
	memset(p, 0, offsetof(struct fg_proc, anc));
	p->known = s->known;
	p->uid = s->uid;
	p->auid = s->auid;
	p->sessionid = s->sessionid;
	memcpy(p->comm, s->comm, FG_COMM_LEN);
	copy(p->exe, s->exe, sizeof(p->exe));
	copy(p->cgroup, s->cgroup, sizeof(p->cgroup));
	ev->proc = p;
}

bool fg_logagg_due(struct fg_logagg *a, uint64_t now_ns, bool force, struct fg_event *ret)
{
	for (unsigned i = 0; i < FG_AGG_SLOTS; i++) {
		struct slot *s = &a->slot[i];

		if (!s->used || (!force && now_ns - s->start_ns < a->window_ns))
			continue;
		s->used = false;
		if (s->suppressed) {
			summary(a, s, ret);
			return true;
		}
	}
	return false;
}

uint64_t fg_logagg_next_ns(const struct fg_logagg *a)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < FG_AGG_SLOTS; i++) {
		const struct slot *s = &a->slot[i];

		if (s->used && s->suppressed && s->start_ns + a->window_ns < next)
			next = s->start_ns + a->window_ns;
	}
	return next;
}
