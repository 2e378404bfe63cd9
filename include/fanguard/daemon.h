/* fanguardd's life: load, mark, loop, reload, stop. In the core library so
 * that the main stays a flag parser. */
#ifndef FANGUARD_DAEMON_H
#define FANGUARD_DAEMON_H

#include <stdbool.h>

#include "fanguard/config.h"

/* Exit codes, one per cause (listed in fanguardd(8)). */
#define FG_EXIT_OK	 0
#define FG_EXIT_USAGE	 2  /* bad command line */
#define FG_EXIT_SOFTWARE 70 /* the event loop failed (fanotify read/answer) */
#define FG_EXIT_OSERR	 71 /* a resource could not be set up (fanotify, log sink) */
#define FG_EXIT_NOPERM	 77 /* not privileged enough for fanotify */
#define FG_EXIT_CONFIG	 78 /* the configuration is invalid */

struct fg_daemon_opts {
	const char *config; /* --config, or NULL for the default search */
	bool foreground;    /* --foreground: do not detach */
	enum fg_mode mode;  /* --mode, INHERIT when not given */
	bool no_cache;	    /* --no-cache: resolve every writer from /proc */
};

/* Runs the daemon until SIGTERM/SIGINT or a fatal error. Returns an exit
 * code above. */
int fg_daemon_run(const struct fg_daemon_opts *o);

#endif
