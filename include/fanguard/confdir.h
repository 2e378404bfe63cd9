#ifndef FANGUARD_CONFDIR_H
#define FANGUARD_CONFDIR_H

#include <stdbool.h>

#include "fanguard/config.h"

/* Loads dir's *.conf files (no dot names) into cfg in byte order, each
 * with fg_config_load_path (trusted as given). `join`, when not NULL, has
 * a file not in dir yet (join->join, or join->join_data when that is set),
 * loaded where its name sorts among dir's and in place of a file of that
 * name. A missing dir is no error. Each file read adds 1 to *found.
 * Returns 0 or the first error (-EINVAL, -errno), with every message in
 * diag; the other files are still loaded. */
int fg_confdir_load(struct fg_config *cfg, const char *dir, const struct fg_config_search *join,
		    bool trusted, struct fg_diag *diag, unsigned *found);

#endif
