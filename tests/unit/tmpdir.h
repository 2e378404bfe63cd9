/* A scratch directory for the unit suites that drive real processes: made
 * by the fixture's setup, emptied (one level) and removed by its teardown.
 * Header-only: each suite defines TMPDIR_PREFIX before including it. */
#ifndef FG_TEST_TMPDIR_H
#define FG_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[64];

static void tmpdir_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s.XXXXXX", TMPDIR_PREFIX);
	if (!mkdtemp(tmpdir))
		abort();
}

static void tmpdir_teardown(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(tmpdir);
}

#endif
