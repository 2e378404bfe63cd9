/* Keeping the marks where the paths are. A bind mount over a subtree, or a
 * rename of the directory a path names, leaves the marks on inodes the path
 * no longer reaches: the subtree is marked again and that is logged. A mount
 * placed below a subtree root (over one drop-in, say) hides a marked file
 * behind one nobody marked: it is reported by name. Runs on the
 * notification thread. */
#include "fanguard/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanguard/twins.h"
#include "fanguard/util.h"

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x4000U /* Linux 6.8; older headers lack it */
#endif

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

/* A mount is known by mountinfo's id (which the kernel reuses once that
 * mount is gone) together with the unique id statx gives the mount on top
 * of its point (Linux 6.8): a new mount at a point whose old one went, or
 * a stack that grew, reads as new. next collects the keys of this scan, so
 * a key is forgotten once its mount is gone. */
static uint64_t mount_key(uint64_t id, const char *point)
{
	struct statx stx;
	uint64_t uniq = 0;

	if (statx(AT_FDCWD, point, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_MNT_ID_UNIQUE,
		  &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID_UNIQUE))
		uniq = stx.stx_mnt_id;
	return id ^ (uniq * 0x9e3779b97f4a7c15ULL);
}

static bool seen_before(struct fg_notif *n, uint64_t *next, unsigned *n_next, uint64_t key)
{
	bool seen = false;

	for (unsigned i = 0; i < n->n_mounts_seen && !seen; i++)
		seen = n->mounts_seen[i] == key;
	if (*n_next < FG_ARRAY_SIZE(n->mounts_seen))
		next[(*n_next)++] = key;
	return seen;
}

/* The mount is reported, and what it put there is marked as the
 * subtree's: its files (each named) and the mounted file itself, so that
 * later writes through the point, or through the mounted file's own path
 * elsewhere, are decided (that inode stays guarded until the marks are
 * placed afresh, a false deny rather than a gap). */
static void report_mount(struct fg_guard *g, unsigned idx, const char *point, const char *fstype,
			 const char *source)
{
	struct fg_outcome o = {.allow = true, .decision = "detected", .reason = "mount"};
	struct fg_found_ctx fc = {.g = g, .judge = 0};
	const struct fg_fan_found found = {.fn = fg_creat_found, .ctx = &fc};
	char msg[PATH_MAX + 160];
	struct fg_event ev;
	int r;

	FG_COUNT(g->state->c.replaced);
	snprintf(msg, sizeof(msg),
		 "a %s mount (source %s) sits below the subtree root: "
		 "what it covers is not the marked file",
		 fstype, source);
	fg_guard_event_base(&ev, "mount-below");
	ev.path = point;
	ev.message = msg;
	fg_guard_log_decision(g, g->notif.pol, &ev, &o, (int)idx, NULL, -1);
	r = fg_fan_mark_new(g->notif.fan, &g->notif.pol->cfg, idx, point, &found);
	if (r < 0) {
		FG_COUNT(g->state->c.mark_errors);
		snprintf(msg, sizeof(msg), "the mount at %s could not be marked (%s): NOT guarded",
			 point, strerror(-r));
		fg_guard_log_daemon(g, "remark-failed", "failure", msg);
	}
}

/* One mountinfo line: id parent major:minor root point options... - type source ... */
static void mount_line(struct fg_guard *g, char *line, uint64_t *next, unsigned *n_next)
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
		if (!seen_before(&g->notif, next, n_next, mount_key(id, f[4])))
			report_mount(g, i, f[4], type ? type : "?", source ? source : "?");
		return;
	}
}

static void scan_mounts(struct fg_guard *g)
{
	uint64_t next[FG_ARRAY_SIZE(g->notif.mounts_seen)];
	unsigned n_next = 0;
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
		mount_line(g, line, next, &n_next);
	free(line);
	fclose(f);
	memcpy(g->notif.mounts_seen, next, n_next * sizeof(*next));
	g->notif.n_mounts_seen = n_next;
}

int fg_remark_subtree(struct fg_guard *g, unsigned idx, const char *why, pid_t judge)
{
	struct fg_notif *n = &g->notif;
	uint64_t overflow = n->fan->inode_overflow;
	char msg[PATH_MAX + 128];
	struct fg_found_ctx fc = {.g = g, .judge = judge};
	const struct fg_fan_found found = {.fn = fg_creat_found, .ctx = &fc};
	int r = fg_fan_mark_subtree(n->fan, &n->pol->cfg, idx, judge >= 0 ? &found : NULL);

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
		fg_remark_subtree(g, i, "was replaced", 0);
	}
	scan_mounts(g);
}

/* ---- the chain (DESIGN 10) ---- */

/* Whether entry is root or a directory above it. */
static bool at_or_above(const char *entry, const char *root)
{
	size_t n = strlen(entry);

	return entry[0] && strncmp(entry, root, n) == 0 &&
	       (root[n] == '\0' || root[n] == '/' || (n == 1 && entry[0] == '/'));
}

/* A missing subtree: each level that appears extends the watch down, and
 * the root appearing (made, or renamed onto the path) is logged with what
 * it already holds. */
static void appeared(struct fg_guard *g, unsigned i, pid_t tid, const char *path, const char *old)
{
	struct fg_notif *n = &g->notif;
	const char *root = n->pol->cfg.subtrees[i].path;
	char from[PATH_MAX], msg[2 * PATH_MAX + 64];
	bool moved = old[0] && path[0] && at_or_above(path, root);

	fg_remark_subtree(g, i, "appeared", tid);
	if (!n->fan->st[i].exists)
		return;
	if (moved)
		snprintf(from, sizeof(from), "%s%s", old, root + strlen(path));
	snprintf(msg, sizeof(msg), "%s appeared%s%s", root, moved ? ", moved from " : "",
		 moved ? from : "");
	fg_notif_log(g, tid,
		     &(struct fg_notice){.action = "subtree-appeared",
					 .subtree = (int)i,
					 .path = root,
					 .old_path = moved ? from : NULL,
					 .file_type = n->fan->st[i].is_file ? "file" : "dir",
					 .message = msg});
}

/* The path no longer reaches the marked root: mark what it names now (its
 * entries are reported one by one), and say where the old one went. */
static void moved(struct fg_guard *g, unsigned i, pid_t tid, const char *path, const char *old,
		  const char *verb)
{
	struct fg_notif *n = &g->notif;
	const char *root = n->pol->cfg.subtrees[i].path;
	char where[PATH_MAX], msg[3 * PATH_MAX + 160];
	bool have = fg_fan_root_where(n->fan, i, where, sizeof(where)) == 0;
	int k;

	fg_remark_subtree(g, i, "moved", tid);
	FG_COUNT(g->state->c.replaced);
	k = snprintf(msg, sizeof(msg), "%s %s%s%s: %s now names %s", old[0] ? old : path, verb,
		     old[0] && path[0] ? " to " : "", old[0] && path[0] ? path : "", root,
		     n->fan->st[i].exists ? "another directory, marked now" : "nothing");
	if (k > 0 && (size_t)k < sizeof(msg))
		snprintf(msg + k, sizeof(msg) - (size_t)k, "; what was guarded there %s%s",
			 have ? "is now at " : "is gone", have ? where : "");
	fg_notif_log(g, tid,
		     &(struct fg_notice){.action = "subtree-moved",
					 .subtree = (int)i,
					 .path = root,
					 .old_path = have ? where : NULL,
					 .file_type = "dir",
					 .message = msg});
}

static void check_subtree(struct fg_guard *g, unsigned i, pid_t tid, const char *path,
			  const char *old, const char *verb)
{
	struct fg_notif *n = &g->notif;

	if (n->fan->st[i].error == -ELOOP)
		return; /* refused at start, and said so then */
	if (fg_twins_inert(&n->pol->cfg, i))
		return; /* a gone deployment's: it names nothing */
	if (!n->fan->st[i].exists) {
		appeared(g, i, tid, path, old);
		return;
	}
	/* the second half of an exchange, or a sibling's change */
	if (fg_fan_subtree_same(n->fan, &n->pol->cfg, i))
		return;
	if (n->fan->st[i].is_file) {
		/* a single file replaced or removed: the caller's line names it */
		fg_remark_subtree(g, i, "was replaced", tid);
		return;
	}
	moved(g, i, tid, path, old, verb);
}

bool fg_remark_chain(struct fg_guard *g, pid_t tid, const char *path, const char *old,
		     const char *verb)
{
	const struct fg_config *cfg = &g->notif.pol->cfg;
	bool chain = false;

	for (unsigned i = 0; i < cfg->n_subtrees; i++) {
		const char *root = cfg->subtrees[i].path;
		bool a = at_or_above(path, root), b = at_or_above(old, root);

		if (!a && !b)
			continue;
		check_subtree(g, i, tid, path, old, verb);
		/* a single-file root's own change is an entry like any */
		if (!(g->notif.fan->st[i].is_file && (!strcmp(path, root) || !strcmp(old, root))))
			chain = true;
	}
	return chain;
}

void fg_remark_appeared(struct fg_guard *g, unsigned idx, pid_t tid)
{
	appeared(g, idx, tid, "", "");
}

void fg_remark_all(struct fg_guard *g, pid_t tid)
{
	const struct fg_config *cfg = &g->notif.pol->cfg;

	for (unsigned i = 0; i < cfg->n_subtrees; i++)
		check_subtree(g, i, tid, "", "", "changed");
}
