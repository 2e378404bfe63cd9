/* A drop-in directory of the configuration search (config.h): its *.conf
 * files, in byte order, loaded into one fg_config. */
#include "fanguard/confdir.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

/* Byte order, not the locale's collation: the order must not depend on
 * LANG. */
static int lexical(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* One drop-in of dir; missing since scandir is no error. */
static int load_one_dropin(struct fg_config *cfg, const char *dir, const char *name, bool trusted,
			   struct fg_diag *diag, unsigned *found)
{
	char p[PATH_MAX];
	struct stat stb;
	int k = 0;

	if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p)) {
		fg_diag_add(diag, "%s/%s: path too long", dir, name);
		return -ENAMETOOLONG;
	}
	if (stat(p, &stb) == 0 && S_ISREG(stb.st_mode)) {
		k = fg_config_load_path(cfg, p, diag, true, trusted);
		if (k == -ENOENT)
			k = 0;
		else
			(*found)++;
	}
	return k;
}

/* The drop-in being joined (fg_config_search.join), loaded where its name
 * sorts among dir's, in place of a file of that name. */
static int load_join(struct fg_config *cfg, const struct fg_config_search *join,
		     struct fg_diag *diag, unsigned *found)
{
	int k = join->join_data ? fg_config_load_mem(cfg, join->join, join->join_data,
						     join->join_len, diag, false)
				: fg_config_load_path(cfg, join->join, diag, false, false);

	if (k != -ENOENT)
		(*found)++;
	return k;
}

int fg_confdir_load(struct fg_config *cfg, const char *dir, const struct fg_config_search *join,
		    bool trusted, struct fg_diag *diag, unsigned *found)
{
	struct dirent **list = NULL;
	const char *jname = join ? strrchr(join->join, '/') : NULL;
	int n = scandir(dir, &list, conf_filter, lexical), r = 0, k;

	jname = jname ? jname + 1 : join ? join->join : NULL;
	if (n < 0) {
		if (errno != ENOENT) {
			r = -errno;
			fg_diag_add(diag, "%s: cannot read directory: %s", dir, strerror(-r));
			return r;
		}
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		k = 0;
		if (jname && strcmp(jname, list[i]->d_name) <= 0) {
			k = load_join(cfg, join, diag, found);
			if (strcmp(jname, list[i]->d_name) == 0)
				list[i]->d_name[0] = '.'; /* replaced: skipped below */
			jname = NULL;
		}
		if (k < 0 && !r)
			r = k;
		k = list[i]->d_name[0] == '.'
			? 0
			: load_one_dropin(cfg, dir, list[i]->d_name, trusted, diag, found);
		if (k < 0 && !r)
			r = k;
		free(list[i]);
	}
	free(list);
	k = jname ? load_join(cfg, join, diag, found) : 0;
	return k < 0 && !r ? k : r;
}
