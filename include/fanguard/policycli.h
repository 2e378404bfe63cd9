/* `fanguard policy install FILE`: a drop-in checked together with the
 * policy it joins (the image's files and drop-ins, /etc's main file and
 * conf.d), written into FG_CONF_DROPIN_DIR atomically (a temp file in that
 * directory, then rename), and the daemon asked to reload. The write is
 * decided by fanguardd like any other: the shipped policy's
 * fanguard-policy rules allow /usr/bin/fanguard there for an admin's
 * verified login uid (`auid = admins`) or a named service. */
#ifndef FANGUARD_POLICYCLI_H
#define FANGUARD_POLICYCLI_H

#include <stdbool.h>

#include "fanguard/config.h"

/* Whether file reads as a drop-in: it has no [subtree] section, so it
 * only means something together with the policy it joins. */
bool fg_policycli_is_dropin(const char *file);

/* The default search with file joined as conf.d/<its name> (config.h:
 * fg_config_search.join). Same returns as fg_config_load. */
int fg_policycli_load_joined(const char *file, struct fg_config *ret, struct fg_diag *diag);

/* argv[0] is "policy". Returns the exit code (fanguard(8)). */
int fg_policy_cli(int argc, char **argv);

#endif
