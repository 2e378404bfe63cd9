#include "fanguard/logpack.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Layout: struct fg_event (its pointers meaningless), then each string as
 * [u32 length or NOSTR][bytes][NUL], then, when there is a writer, the
 * numbers of struct wproc, comm, exe and cgroup as strings, the ancestors
 * and the used part of the arena. */
#define NOSTR UINT32_MAX

struct wproc {
	pid_t tid, pid, ppid;
	uint32_t uid, auid, sessionid, known, n_ancestors, arena_used;
	uint64_t start_time;
	bool truncated;
	/* What verification found (ident.c); the finding's detail follows
	 * the cgroup as a string. */
	struct fg_trustinfo trust;
	uint8_t f_method, f_problem;
	int32_t f_who;
};

/* The string fields, in one order for both directions. */
#define STRINGS(e)                                                                                 \
	&(e)->action, &(e)->outcome, &(e)->decision, &(e)->reason, &(e)->mode, &(e)->rule,         \
	    &(e)->subtree, &(e)->key, &(e)->path, &(e)->message, &(e)->open_syscall, &(e)->tx_exe, \
	    &(e)->old_path, &(e)->new_path, &(e)->file_type, &(e)->run_id, &(e)->tx_id,            \
	    &(e)->dep_id, &(e)->dep_stateroot

static size_t str_size(const char *s)
{
	return sizeof(uint32_t) + (s ? strlen(s) + 1 : 0);
}

size_t fg_logpack_size(const struct fg_event *ev)
{
	const char *const *strs[] = {STRINGS(ev)};
	size_t n = sizeof(*ev) + sizeof(uint8_t);
	const struct fg_proc *p = ev->proc;

	/* deployments' findings and signature verdicts are rare and point at
	 * their caller's memory: formatted at once, not packed */
	if (ev->repeat || ev->lost || ev->heartbeat || ev->run_end || ev->finding ||
	    ev->sigpolicy)
		return 0;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		n += str_size(*strs[i]);
	if (p)
		n += sizeof(struct wproc) + str_size(p->comm) + str_size(p->exe) +
		     str_size(p->cgroup) + str_size(p->finding.detail) +
		     p->n_ancestors * sizeof(p->anc[0]) + p->arena_used;
	return n;
}

static char *put(char *w, const void *src, size_t n)
{
	memcpy(w, src, n);
	return w + n;
}

static char *put_str(char *w, const char *s)
{
	uint32_t len = s ? (uint32_t)strlen(s) : NOSTR;

	w = put(w, &len, sizeof(len));
	return s ? put(w, s, (size_t)len + 1) : w;
}

void fg_logpack_write(const struct fg_event *ev, char *buf)
{
	const char *const *strs[] = {STRINGS(ev)};
	const struct fg_proc *p = ev->proc;
	uint8_t has_proc = p != NULL;
	char *w = put(buf, ev, sizeof(*ev));

	w = put(w, &has_proc, sizeof(has_proc));
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		w = put_str(w, *strs[i]);
	if (!p)
		return;
	const struct wproc h = {
	    .tid = p->tid,
	    .pid = p->pid,
	    .ppid = p->ppid,
	    .uid = p->uid,
	    .auid = p->auid,
	    .sessionid = p->sessionid,
	    .known = p->known,
	    .n_ancestors = p->n_ancestors,
	    .arena_used = p->arena_used,
	    .start_time = p->start_time,
	    .truncated = p->ancestry_truncated,
	    .trust = p->trust,
	    .f_method = p->finding.method,
	    .f_problem = p->finding.problem,
	    .f_who = p->finding.who,
	};
	w = put(w, &h, sizeof(h));
	w = put_str(w, p->comm);
	w = put_str(w, p->exe);
	w = put_str(w, p->cgroup);
	w = put_str(w, p->finding.detail);
	w = put(w, p->anc, p->n_ancestors * sizeof(p->anc[0]));
	put(w, p->arena, p->arena_used);
}

struct reader {
	const char *p, *end;
};

static int take(struct reader *r, void *dst, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return -EINVAL;
	memcpy(dst, r->p, n);
	r->p += n;
	return 0;
}

/* A string in place (NULL for NOSTR). */
static int take_str(struct reader *r, const char **ret)
{
	uint32_t len;

	if (take(r, &len, sizeof(len)) < 0)
		return -EINVAL;
	if (len == NOSTR) {
		*ret = NULL;
		return 0;
	}
	if ((size_t)(r->end - r->p) <= len || r->p[len] != '\0')
		return -EINVAL;
	*ret = r->p;
	r->p += (size_t)len + 1;
	return 0;
}

/* A string copied into a fixed field of the writer. */
static int take_field(struct reader *r, char *dst, size_t size)
{
	const char *s;

	if (take_str(r, &s) < 0 || !s || strlen(s) >= size)
		return -EINVAL;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int read_proc(struct reader *r, struct fg_proc *p)
{
	struct wproc h;

	if (take(r, &h, sizeof(h)) < 0 || h.n_ancestors > FG_ANCESTRY_MAX ||
	    h.arena_used > FG_ARENA_LEN)
		return -EINVAL;
	memset(p, 0, offsetof(struct fg_proc, anc));
	p->tid = h.tid;
	p->pid = h.pid;
	p->ppid = h.ppid;
	p->uid = h.uid;
	p->auid = h.auid;
	p->sessionid = h.sessionid;
	p->known = h.known;
	p->n_ancestors = h.n_ancestors;
	p->arena_used = h.arena_used;
	p->start_time = h.start_time;
	p->ancestry_truncated = h.truncated;
	p->trust = h.trust;
	p->finding.method = h.f_method;
	p->finding.problem = h.f_problem < FG_IDP_N ? h.f_problem : FG_IDP_NONE;
	p->finding.who = h.f_who >= -1 && h.f_who < (int32_t)h.n_ancestors ? h.f_who : -1;
	if (take_field(r, p->comm, sizeof(p->comm)) < 0 ||
	    take_field(r, p->exe, sizeof(p->exe)) < 0 ||
	    take_field(r, p->cgroup, sizeof(p->cgroup)) < 0 ||
	    take_field(r, p->finding.detail, sizeof(p->finding.detail)) < 0 ||
	    take(r, p->anc, h.n_ancestors * sizeof(p->anc[0])) < 0 ||
	    take(r, p->arena, h.arena_used) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < h.n_ancestors; i++)
		if (p->anc[i].exe_off >= h.arena_used ||
		    !memchr(p->arena + p->anc[i].exe_off, '\0', h.arena_used - p->anc[i].exe_off))
			return -EINVAL;
	return 0;
}

int fg_logpack_read(const char *buf, size_t len, struct fg_event *ret, struct fg_proc *proc)
{
	struct reader r = {.p = buf, .end = buf + len};
	const char **strs[] = {STRINGS(ret)};
	uint8_t has_proc;

	if (take(&r, ret, sizeof(*ret)) < 0 || take(&r, &has_proc, sizeof(has_proc)) < 0)
		return -EINVAL;
	ret->proc = NULL;
	ret->repeat = NULL;
	ret->lost = NULL;
	ret->heartbeat = NULL;
	ret->run_end = NULL;
	ret->finding = NULL;
	ret->sigpolicy = NULL;
	ret->sigpolicy_changes = ret->sigpolicy_trigger = NULL;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (take_str(&r, strs[i]) < 0)
			return -EINVAL;
	if (has_proc) {
		if (read_proc(&r, proc) < 0)
			return -EINVAL;
		ret->proc = proc;
	}
	return r.p == r.end ? 0 : -EINVAL;
}
