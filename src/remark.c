/* Keeping the marks where the paths are. A bind mount over a subtree, or a
 * rename of the directory a path names, leaves the marks on inodes the path
 * no longer reaches: the subtree is marked again and that is logged. A mount
 * placed below a subtree root (over one drop-in, say) hides a marked file
 * behind one nobody marked: it is reported by name. Runs on the
 * notification thread. */
#include "fanguard/guard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanguard/util.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static bool below(const char *root, const char *path)
{
	size_t n = strlen(root);

	return strncmp(root, path, n) == 0 && path[n] == '/' && (n > 1 || path[1]);
}

static bool seen_before(struct fg_notif *n, uint64_t id)
{
	for (unsigned i = 0; i < n->n_mounts_seen; i++)
		if (n->mounts_seen[i] == id)
			return true;
	if (n->n_mounts_seen < FG_ARRAY_SIZE(n->mounts_seen))
		n->mounts_seen[n->n_mounts_seen++] = id;
	return false;
}

static void report_mount(struct fg_guard *g, unsigned idx, const char *point, const char *fstype,
			 const char *source)
{
	struct fg_outcome o = {.allow = true, .decision = "detected", .reason = "mount"};
	char msg[PATH_MAX + 160];
	struct fg_event ev;

	FG_COUNT(g->state->c.replaced);
	snprintf(msg, sizeof(msg), "a %s mount (source %s) sits below the subtree root: "
		 "what it covers is not the marked file", fstype, source);
	fg_guard_event_base(&ev, "mount-below");
	ev.path = point;
	ev.message = msg;
	fg_guard_log_decision(g, g->notif.pol, &ev, &o, (int)idx, NULL, -1);
}

/* One mountinfo line: id parent major:minor root point options... - type source ... */
static void mount_line(struct fg_guard *g, char *line)
{
	const struct fg_config *cfg = &g->notif.pol->cfg;
	char *f[6], *sep = strstr(line, " - "), *save = NULL, *type, *source;
	uint64_t id;
	unsigned k = 0;

	if (!sep)
		return;
	*sep = '\0';
	for (char *t = strtok_r(line, " ", &save); t && k < 6; t = strtok_r(NULL, " ", &save))
		f[k++] = t;
	if (k < 5 || fg_parse_u64(f[0], &id) < 0)
		return;
	type = strtok_r(sep + 3, " ", &save);
	source = type ? strtok_r(NULL, " \n", &save) : NULL;
	unescape(f[4]);
	for (unsigned i = 0; i < cfg->n_subtrees; i++) {
		if (!below(cfg->subtrees[i].path, f[4]))
			continue;
		if (!seen_before(&g->notif, id))
			report_mount(g, i, f[4], type ? type : "?", source ? source : "?");
		return;
	}
}

static void scan_mounts(struct fg_guard *g)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (g->notif.mountfd < 0)
		return;
	/* Reading the file through re-arms the poll event. */
	lseek(g->notif.mountfd, 0, SEEK_SET);
	f = fdopen(dup(g->notif.mountfd), "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0)
		mount_line(g, line);
	free(line);
	fclose(f);
}

int fg_remark_subtree(struct fg_guard *g, unsigned idx, const char *why)
{
	struct fg_notif *n = &g->notif;
	uint64_t overflow = n->fan->inode_overflow;
	char msg[PATH_MAX + 128];
	int r = fg_fan_mark_subtree(n->fan, &n->pol->cfg, idx);

	if (r < 0) {
		FG_COUNT(g->state->c.mark_errors);
		snprintf(msg, sizeof(msg), "%s %s, and marking it again failed (%s): NOT guarded",
			 n->pol->cfg.subtrees[idx].path, why, strerror(-r));
		fg_guard_log_daemon(g, "remark-failed", "failure", msg);
	}
	if (n->fan->inode_overflow > overflow) {
		snprintf(msg, sizeof(msg),
			 "inode table full: %llu file(s) of %s not tracked under other names",
			 (unsigned long long)(n->fan->inode_overflow - overflow),
			 n->pol->cfg.subtrees[idx].path);
		fg_guard_log_daemon(g, "inode-table-full", "failure", msg);
	}
	return r;
}

void fg_remark_mounts(struct fg_guard *g)
{
	struct fg_notif *n = &g->notif;
	const struct fg_config *cfg = &n->pol->cfg;
	char msg[PATH_MAX + 64];

	for (unsigned i = 0; i < cfg->n_subtrees; i++) {
		if (fg_fan_subtree_same(n->fan, cfg, i))
			continue;
		FG_COUNT(g->state->c.replaced);
		snprintf(msg, sizeof(msg),
			 "%s now names another directory (mount or rename); marked again",
			 cfg->subtrees[i].path);
		fg_guard_log_daemon(g, "subtree-replaced", "unknown", msg);
		fg_remark_subtree(g, i, "was replaced");
	}
	scan_mounts(g);
}
