#include "fanguard/sigwatch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fanguard/guard.h"
#include "fanguard/sigpolicy.h"
#include "fanguard/util.h"

struct fg_sigwatch {
	int verdict; /* atomic: -1 none yet, else enum fg_sigverdict */
	bool known;  /* last holds a verdict */
	struct fg_sigpolicy_verdict last, cur;
	char changes[1024];
	char message[1400];
	/* The last writer the answering thread let through, under lock. */
	pthread_mutex_t lock;
	char watched[PATH_MAX]; /* the policy's path, "" while not watched */
	bool have_writer;
	struct fg_proc writer;
	char rule[FG_NAME_MAX];
};

struct fg_sigwatch *fg_sigwatch_new(void)
{
	struct fg_sigwatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->verdict = -1;
	pthread_mutex_init(&w->lock, NULL);
	return w;
}

void fg_sigwatch_free(struct fg_sigwatch *w)
{
	if (w)
		pthread_mutex_destroy(&w->lock);
	free(w);
}

void fg_sigwatch_note_writer(struct fg_sigwatch *w, const char *path, const struct fg_proc *p,
			     const char *rule)
{
	if (!w || !path)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->watched[0] && !strcmp(path, w->watched)) {
		memcpy(&w->writer, p, sizeof(w->writer));
		fg_strlcpy(w->rule, rule ? rule : "", sizeof(w->rule));
		w->have_writer = true;
	}
	pthread_mutex_unlock(&w->lock);
}

static void set_watched(struct fg_sigwatch *w, const char *path)
{
	pthread_mutex_lock(&w->lock);
	fg_strlcpy(w->watched, path ? path : "", sizeof(w->watched));
	pthread_mutex_unlock(&w->lock);
}

/* The writer of tid as its open saw it: when it is gone (or a zombie
 * whose exe cannot be read) by now, or still the same process (start, its
 * start time; 0: unknown). */
static bool noted_writer(struct fg_sigwatch *w, pid_t tid, uint64_t start, struct fg_proc *ret,
			 char *rule)
{
	bool found;

	pthread_mutex_lock(&w->lock);
	found =
	    w->have_writer && w->writer.tid == tid && (start == 0 || w->writer.start_time == start);
	if (found) {
		memcpy(ret, &w->writer, sizeof(*ret));
		fg_strlcpy(rule, w->rule, FG_NAME_MAX);
	}
	pthread_mutex_unlock(&w->lock);
	return found;
}

const char *fg_sigwatch_path(const struct fg_config *cfg)
{
	return cfg->deployments.signature_policy ? cfg->deployments.signature_policy
						 : FG_SIGPOLICY_PATH_DEFAULT;
}

const char *fg_sigwatch_verdict(const struct fg_sigwatch *w)
{
	int v = w ? __atomic_load_n(&w->verdict, __ATOMIC_ACQUIRE) : -1;

	return v < 0 ? NULL : fg_sigverdict_name((enum fg_sigverdict)v);
}

static void describe(struct fg_sigwatch *w, const char *trigger, unsigned changed)
{
	const char *verdict = fg_sigverdict_name(w->cur.verdict);

	if (w->cur.verdict == FG_SIGVERDICT_UNPARSEABLE)
		snprintf(w->message, sizeof(w->message), "signature policy unparseable (%s): %s",
			 trigger, w->cur.error);
	else if (changed)
		snprintf(w->message, sizeof(w->message), "signature policy %s (%s): %s", verdict,
			 trigger, w->changes);
	else
		snprintf(w->message, sizeof(w->message), "signature policy %s (%s)%s", verdict,
			 trigger, w->known ? ", no scope changed" : "");
}

/* The event: the writer (when there is one) judged by the policy, so its
 * rule is named too; the verdict decides how loud it is. */
static void log_verdict(struct fg_guard *g, const char *path, const char *trigger, pid_t tid,
			unsigned changed)
{
	struct fg_sigwatch *w = g->sigwatch;
	const struct fg_policy *pol = g->notif.pol;
	int subtree = fg_policy_match_path(pol, path), resolved = -1;
	char rule[FG_NAME_MAX];
	struct fg_decision d;
	struct fg_outcome o;
	struct fg_event ev;

	fg_guard_event_base(&ev, "signature-policy");
	describe(w, trigger, changed);
	ev.outcome = w->cur.verdict == FG_SIGVERDICT_UNPARSEABLE ? "failure" : "success";
	ev.decision = w->cur.verdict == FG_SIGVERDICT_WEAKENED ? "detected" : NULL;
	ev.reason = ev.decision ? "weakened" : NULL;
	ev.mode = fg_mode_name(fg_policy_mode(pol, (unsigned)subtree));
	ev.path = path;
	ev.message = w->message;
	ev.sigpolicy = &w->cur;
	ev.sigpolicy_changes = changed ? w->changes : NULL;
	ev.sigpolicy_trigger = trigger;
	if (subtree >= 0) {
		ev.subtree = pol->cfg.subtrees[subtree].name;
		ev.key = pol->cfg.subtrees[subtree].key;
	}
	if (tid > 0) {
		struct fg_proc *p = g->notif.proc;
		bool live = (resolved = fg_proc_resolve(tid, p)) >= 0 && (p->known & FG_PROC_EXE);

		ev.proc = p;
		ev.proc_partial = resolved < 0;
		if (noted_writer(w, tid, live ? p->start_time : 0, p, rule)) {
			/* the identity its open was decided on */
			ev.proc_partial = false;
			ev.rule = rule[0] ? rule : NULL;
		} else if (subtree >= 0) {
			fg_guard_judge(pol, subtree, g->notif.proc, resolved, -2, &o, &d);
			ev.rule = o.rule;
		}
	}
	fg_logger_event(g->log, &ev);
}

void fg_sigwatch_check(struct fg_guard *g, const char *trigger, const char *path, pid_t tid)
{
	struct fg_sigwatch *w = g->sigwatch;
	const struct fg_config *cfg = &g->notif.pol->cfg;
	const char *policy = fg_sigwatch_path(cfg);
	struct fg_sigpolicy_cfg sc = {.images = (const char *const *)cfg->deployments.images.v,
				      .n_images = cfg->deployments.images.n};
	struct stat st;
	unsigned changed;

	if (!w || (path && strcmp(path, policy) != 0))
		return;
	if (fg_policy_match_path(g->notif.pol, policy) < 0) {
		__atomic_store_n(&w->verdict, -1, __ATOMIC_RELEASE);
		w->known = false;
		set_watched(w, NULL);
		return;
	}
	set_watched(w, policy);
	/* A file just created is usually still empty: its write-close follows
	 * (it is marked by now), and says more. */
	if (!strcmp(trigger, "create") && stat(policy, &st) == 0 && st.st_size == 0)
		return;
	if (fg_sigpolicy_eval_file(policy, &sc, &w->cur) < 0)
		return;
	/* the first verdict has nothing to differ from: its scopes say it all */
	changed =
	    w->known ? fg_sigpolicy_changes(&w->last, &w->cur, w->changes, sizeof(w->changes)) : 0;
	log_verdict(g, policy, trigger, tid, changed);
	w->last = w->cur;
	w->known = true;
	__atomic_store_n(&w->verdict, (int)w->cur.verdict, __ATOMIC_RELEASE);
}
