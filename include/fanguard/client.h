/* The CLI's side of the status socket, and what its commands share: the
 * exit codes (fanguard(8)) and the options that say which daemon is meant.
 * Used by the fanguard binary's commands (fanguard.c, explaincli.c,
 * policycli.c); messages go to stderr here, once. */
#ifndef FANGUARD_CLIENT_H
#define FANGUARD_CLIENT_H

#include <stdbool.h>

#include "fanguard/config.h"

#define FG_EXIT_GUARDED	    0 /* status: running and enforcing; explain: allow */
#define FG_EXIT_PARTIAL	    1 /* status: audit or degraded; explain: deny; reload: refused */
#define FG_EXIT_USAGE	    2
#define FG_EXIT_NOT_RUNNING 3
#define FG_EXIT_DENIED	    4  /* not allowed to ask the daemon */
#define FG_EXIT_CANTCREAT   73 /* policy install: the drop-in could not be written */
#define FG_EXIT_CONFIG	    78

struct fg_client_opts {
	const char *socket; /* --socket */
	const char *config; /* --config: its status_socket */
	bool json;
};

/* Sends the request line req (no newline) to the daemon and returns its
 * whole reply (status line and body, NUL-terminated, caller frees) in
 * *ret. Returns 0, or an exit code when there is no usable reply (already
 * explained on stderr). */
int fg_client_ask(const struct fg_client_opts *o, const char *req, char **ret);

/* Prints each message of diag to stderr. */
void fg_client_print_diag(const struct fg_diag *diag);

#endif
