#include "fanguard/selfprot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* path is root or lies below it */
static bool at_or_below(const char *path, const char *root)
{
	size_t n = strlen(root);

	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool fg_selfprot_path(const char *path)
{
	return path && at_or_below(path, FG_SELF_DIR);
}

bool fg_selfprot_subtree(const struct fg_subtree_cfg *s)
{
	return fg_selfprot_path(s->path);
}

static bool trusted(const struct fg_config *cfg, struct fg_where w)
{
	return w.file < 0 || (w.file < 64 && (cfg->trusted_files >> w.file) & 1);
}

static int check_subtree(const struct fg_config *cfg, const struct fg_subtree_cfg *s,
			 struct fg_diag *diag)
{
	char at[PATH_MAX + 32];
	const char *why = NULL;

	if (!s->path)
		return 0;
	if (at_or_below(s->path, "/proc") || at_or_below(s->path, "/sys"))
		why = "is on a kernel filesystem (/proc, /sys), which fanguard does not guard";
	else if (fg_selfprot_path(s->path) && strcmp(s->path, FG_SELF_DIR) != 0)
		why = "lies inside " FG_SELF_DIR ", which is guarded as one subtree";
	else if (fg_selfprot_path(s->path) && s->mode == FG_MODE_AUDIT)
		why = "holds fanguard's own policy, which is always enforced: mode = audit "
		      "is refused";
	else if (fg_selfprot_path(s->path) && !s->recursive)
		why = "holds fanguard's own policy, conf.d included: recursive = no is refused";
	if (!why)
		return 0;
	fg_diag_add(diag, "%s: subtree '%s': %s %s", fg_config_where(cfg, s->where, at, sizeof(at)),
		    s->name, s->path, why);
	return -EINVAL;
}

/* A drop-in lives in the very directory it would open to writers. */
static int check_writer(const struct fg_config *cfg, const struct fg_writer_cfg *w,
			struct fg_diag *diag)
{
	char at[PATH_MAX + 32];
	int r = 0;

	if (trusted(cfg, w->where))
		return 0;
	for (unsigned j = 0; j < w->subtrees.n; j++) {
		int i = fg_config_find_subtree(cfg, w->subtrees.v[j]);
		if (i < 0 || !fg_selfprot_subtree(&cfg->subtrees[i]))
			continue;
		fg_diag_add(diag,
			    "%s: writer '%s' names subtree '%s', fanguard's own policy: only the "
			    "image's files (%s, %s/*.conf) may allow writers there",
			    fg_config_where(cfg, w->subtrees_where, at, sizeof(at)), w->name,
			    w->subtrees.v[j], FG_CONF_IMAGE, FG_CONF_IMAGE_DROPINS);
		r = -EINVAL;
	}
	return r;
}

int fg_selfprot_check(const struct fg_config *cfg, struct fg_diag *diag)
{
	int r = 0;

	for (unsigned i = 0; i < cfg->n_subtrees; i++)
		if (check_subtree(cfg, &cfg->subtrees[i], diag) < 0)
			r = -EINVAL;
	for (unsigned i = 0; i < cfg->n_writers; i++)
		if (check_writer(cfg, &cfg->writers[i], diag) < 0)
			r = -EINVAL;
	return r;
}
