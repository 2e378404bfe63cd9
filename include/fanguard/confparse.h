#ifndef FANGUARD_CONFPARSE_H
#define FANGUARD_CONFPARSE_H

#include <stdbool.h>
#include <stdio.h>

#include "fanguard/config.h"

/* Parses one configuration file, already open as f and named path, into
 * cfg: its sections are added to what cfg holds, each mistake goes to diag
 * as "PATH:LINE: what", and the file is recorded in cfg->files (trusted: the
 * image's policy, see selfprot.h). Returns 0, -EINVAL when the file had
 * errors, -E2BIG past FG_FILES_MAX files, -EIO or -ENOMEM. */
int fg_confparse_stream(struct fg_config *cfg, const char *path, FILE *f, struct fg_diag *diag,
			bool trusted);

#endif
