/* Deployments that appear or go while fanguardd runs (twinwatch.h). */
#include "fanguard/twinwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fanguard/guard.h"
#include "fanguard/twins.h"
#include "fanguard/util.h"

static bool mark_dir(struct fg_fan *f, const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	bool ok = fd >= 0 && fg_fan_mark_chain_dir(f, fd) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* Components of pat before the first one with a glob character. */
static unsigned literal_levels(const char *pat)
{
	unsigned lv = 0;

	for (const char *p = pat; *p; p++) {
		if (strchr("*?[\\", *p))
			return lv ? lv - 1 : 0;
		lv += *p == '/';
	}
	return lv;
}

static unsigned mark_pattern(struct fg_fan *f, const char *pat)
{
	unsigned depth = fg_twins_depth(pat), lit = literal_levels(pat), n = 0;
	char lvl[PATH_MAX];

	if (lit >= depth)
		lit = depth - 1;
	/* the nearest existing literal level: a missing one appears in it */
	for (unsigned lv = lit; lv >= 1; lv--)
		if (fg_twins_level(pat, lv, lvl, sizeof(lvl)) == 0 && mark_dir(f, lvl)) {
			n++;
			break;
		}
	for (unsigned lv = lit + 1; lv < depth; lv++) {
		glob_t gl;

		if (fg_twins_level(pat, lv, lvl, sizeof(lvl)) < 0 ||
		    glob(lvl, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &gl) != 0)
			break;
		for (size_t j = 0; j < gl.gl_pathc; j++)
			n += mark_dir(f, gl.gl_pathv[j]);
		globfree(&gl);
	}
	return n;
}

unsigned fg_twinwatch_mark(struct fg_fan *f, const struct fg_config *cfg)
{
	unsigned n_roots, n = 0;
	const char *const *roots = fg_twins_roots(&cfg->deployments, &n_roots);

	if (f->notif_fd < 0)
		return 0;
	for (unsigned i = 0; i < n_roots; i++)
		n += mark_pattern(f, roots[i]);
	return n;
}

/* A gone deployment's twin: nothing of it is marked any more (its inodes
 * went with it), and nothing of it counts. */
static void inert(struct fg_fan *f, unsigned i)
{
	struct fg_fan_subtree *s = &f->st[i];

	f->marks -= s->marks < f->marks ? s->marks : f->marks;
	memset(s, 0, sizeof(*s));
}

static void log_change(struct fg_guard *g, const struct fg_twins_change *ch)
{
	const struct fg_config *cfg = &g->notif.pol->cfg;
	unsigned twins, live = fg_twins_live(cfg, &twins);
	char msg[256];

	int k = snprintf(
	    msg, sizeof(msg), "deployments: %u found, %u gone; %u live with %u twin subtree(s)%s",
	    ch->deps_added, ch->deps_removed, live, twins,
	    ch->full > ch->left_out ? "; some NOT guarded: no room for their twins (reload)" : "");

	if (ch->left_out && k > 0 && (size_t)k < sizeof(msg))
		snprintf(msg + k, sizeof(msg) - (size_t)k,
			 "; %u more deployment root(s) than the %u one scan keeps: NOT guarded",
			 ch->left_out, (unsigned)FG_TWINS_FOUND);
	fg_guard_log_daemon(g, "deployments-changed", ch->full ? "failure" : "success", msg);
}

void fg_twinwatch_rescan(struct fg_guard *g, pid_t tid)
{
	/* the notification thread's own */
	static struct fg_deployment now[FG_TWINS_FOUND];
	static struct fg_twins_change ch;
	struct fg_notif *n = &g->notif;
	struct fg_config *cfg = &n->pol->cfg;
	unsigned k, more;
	int r;

	fg_twinwatch_mark(n->fan, cfg);
	k = fg_twins_scan(&cfg->deployments, now, FG_TWINS_FOUND, &more);
	r = fg_twins_apply(cfg, now, k, more, &ch);
	for (unsigned i = 0; i < ch.n_removed; i++)
		inert(n->fan, ch.removed[i]);
	for (unsigned i = 0; i < ch.n_added; i++)
		memset(&n->fan->st[ch.added[i]], 0, sizeof(n->fan->st[0]));
	n->fan->n_subtrees = cfg->n_subtrees;
	/* marked before any later notification is read */
	for (unsigned i = 0; i < ch.n_added; i++)
		fg_remark_appeared(g, ch.added[i], tid);
	if (r < 0)
		ch.full++;
	if (ch.deps_added || ch.deps_removed || ch.full)
		log_change(g, &ch);
}

void fg_twinwatch_event(struct fg_guard *g, pid_t tid, const char *path, const char *old)
{
	const struct fg_config *cfg = &g->notif.pol->cfg;

	if (fg_twins_relevant(cfg, path) || fg_twins_relevant(cfg, old))
		fg_twinwatch_rescan(g, tid);
}
