#include "fanguard/explainsrv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fanguard/explain.h"
#include "fanguard/ident.h"
#include "fanguard/json.h"
#include "fanguard/unitcg.h"
#include "fanguard/util.h"

static size_t clamp(int n, size_t cap)
{
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

void fg_explain_decide(const struct fg_policy *pol, unsigned st, bool real, struct fg_proc *w,
		       struct fg_decision *d)
{
	struct fg_ident ix = {.hash_inline = true, .scratch = malloc(sizeof(*ix.scratch))};
	uint64_t ticket;

	fg_unitcg_fill(pol->unitcg, pol, w);
	if (!real || !ix.scratch ||
	    fg_ident_decide(&ix, pol, st, w, -2, true, d, &ticket) != FG_IDENT_DONE)
		fg_policy_decide(pol, st, w, d);
	free(ix.scratch);
}

/* The writer of request r: the live process, or the one it describes. */
static int req_writer(const struct fg_explain_req *r, struct fg_proc *w)
{
	if (!r->pid)
		return fg_explain_fake_proc(r, w);
	return fg_proc_resolve(r->pid, w);
}

size_t fg_explainsrv_explain(const struct fg_policy *pol, char *args, char *buf, size_t cap)
{
	struct fg_explain_req r;
	struct fg_decision d = {.verdict = FG_VERDICT_ALLOW};
	struct fg_proc *w;
	size_t n;
	int st, k;

	if (fg_explain_req_decode(args, &r) < 0)
		return clamp(snprintf(buf, cap, "ERR bad explain request\n"), cap);
	st = fg_policy_match_path(pol, r.path);
	w = calloc(1, sizeof(*w));
	if (!w)
		return clamp(snprintf(buf, cap, "ERR out of memory\n"), cap);
	k = st < 0 ? 0 : req_writer(&r, w);
	if (k < 0) {
		free(w);
		return clamp(
		    snprintf(buf, cap, "ERR cannot resolve pid %d: %s\n", (int)r.pid, strerror(-k)),
		    cap);
	}
	if (st >= 0)
		fg_explain_decide(pol, (unsigned)st, r.pid != 0, w, &d);
	n = clamp(snprintf(buf, cap, "OK %s\n", d.verdict == FG_VERDICT_ALLOW ? "allow" : "deny"),
		  cap);
	n += fg_explain_render(pol, st, r.path, w, &d, r.json, buf + n, cap - n);
	free(w);
	return n;
}

/* ---- explain --last ---- */

struct last_query {
	const char *exe; /* decoded */
	uint64_t seq;	 /* 0: any */
	bool json;
};

static int parse_last(char *args, const char *instance, struct last_query *q)
{
	char *save = NULL, *id = NULL;
	size_t il = strlen(instance);

	*q = (struct last_query){0};
	for (char *tok = strtok_r(args, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strncmp(tok, "exe=", 4) && fg_explain_unhex(tok + 4) == 0)
			q->exe = tok + 4;
		else if (!strncmp(tok, "seq=", 4) && fg_parse_u64(tok + 4, &q->seq) == 0 && q->seq)
			continue;
		else if (!strncmp(tok, "id=", 3))
			id = tok + 3;
		else if (!strcmp(tok, "json=1"))
			q->json = true;
		else
			return -EINVAL;
	}
	if (!id)
		return 0;
	/* An id is the instance, '-' and the sequence number: another run's
	 * id names nothing kept here. */
	if (strncmp(id, instance, il) != 0 || id[il] != '-' ||
	    fg_parse_u64(id + il + 1, &q->seq) < 0)
		return -ENOENT;
	return 0;
}

static bool last_match(const struct fg_recent *r, const struct last_query *q)
{
	return (!q->exe || !strcmp(r->exe, q->exe)) && (!q->seq || r->seq == q->seq);
}

static size_t render_last(const struct fg_recent *r, const char *instance, bool json, char *buf,
			  size_t cap)
{
	char when[32], auid[16];
	struct tm tm;
	size_t n = clamp(snprintf(buf, cap, "OK %s\n", r->decision), cap);

	gmtime_r(&r->when.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(auid, sizeof(auid), r->auid == FG_AUID_UNSET ? "unset" : "%u", r->auid);
	if (json) {
		struct fg_json j;
		char id[112];

		fg_json_init(&j, buf + n, cap - n - 1);
		snprintf(id, sizeof(id), "%s-%" PRIu64, instance, r->seq);
		if (r->seq)
			fg_json_str(&j, "id", id);
		fg_json_u64(&j, "sequence", r->seq);
		fg_json_str(&j, "time", when);
		fg_json_str(&j, "decision", r->decision);
		fg_json_str(&j, "reason", r->rule);
		fg_json_str_raw(&j, "path", r->path, strlen(r->path));
		fg_json_str_raw(&j, "exe", r->exe, strlen(r->exe));
		fg_json_i64(&j, "pid", r->pid);
		fg_json_u64(&j, "uid", r->uid);
		fg_json_str(&j, "auid", auid);
		fg_json_str_raw(&j, "explain", r->explain, strlen(r->explain));
		n += (size_t)fg_json_finish(&j);
		return n + clamp(snprintf(buf + n, cap - n, "\n"), cap - n);
	}
	return n + clamp(snprintf(buf + n, cap - n,
				  "id        %s-%" PRIu64 " (sequence %" PRIu64 ")\n"
				  "time      %s\n"
				  "file      %s\n"
				  "writer    %s (uid %u, auid %s, pid %d)\n"
				  "decision  %s (%s)\n"
				  "why       %s\n",
				  instance, r->seq, r->seq, when, r->path,
				  r->exe[0] ? r->exe : "(unknown)", r->uid, auid, (int)r->pid,
				  r->decision, r->rule, r->explain),
			 cap - n);
}

size_t fg_explainsrv_last(const struct fg_state *st, pthread_mutex_t *lock, const char *instance,
			  char *args, char *buf, size_t cap)
{
	struct fg_recent *r = malloc(sizeof(*r));
	struct last_query q;
	bool found = false;
	size_t n;
	int k = parse_last(args, instance, &q);

	if (k == -EINVAL || !r) {
		free(r);
		return clamp(snprintf(buf, cap, "ERR bad last request\n"), cap);
	}
	pthread_mutex_lock(lock);
	for (unsigned i = 0; k == 0 && i < st->recent_n && !found; i++) {
		const struct fg_recent *e =
		    &st->recent[(st->recent_next + FG_RECENT_MAX - 1 - i) % FG_RECENT_MAX];
		if ((found = last_match(e, &q)))
			*r = *e;
	}
	pthread_mutex_unlock(lock);
	if (!found) {
		free(r);
		return clamp(snprintf(buf, cap,
				      "ERR no recent denial matches (the last %u are kept; an id "
				      "of another daemon run names none)\n",
				      (unsigned)FG_RECENT_MAX),
			     cap);
	}
	n = render_last(r, instance, q.json, buf, cap);
	free(r);
	return n;
}
