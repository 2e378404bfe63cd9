/* fanguardd: the daemon. Loads the policy, places the marks, then answers
 * every permission event until told to stop. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "fanguard/config.h"
#include "fanguard/daemon.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: fanguardd [--config FILE] [--foreground] [--mode enforce|audit]\n"
		     "                 [--no-cache]\n"
		     "       fanguardd --version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"mode", required_argument, NULL, 'm'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {"no-cache", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	struct fg_daemon_opts o = {0};
	int c;

	while ((c = getopt_long(argc, argv, "c:fm:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config = optarg;
			break;
		case 'f':
			o.foreground = true;
			break;
		case 'm':
			if (!strcmp(optarg, "enforce"))
				o.mode = FG_MODE_ENFORCE;
			else if (!strcmp(optarg, "audit"))
				o.mode = FG_MODE_AUDIT;
			else {
				fprintf(stderr, "fanguardd: --mode: '%s' is not enforce or audit\n",
					optarg);
				return FG_EXIT_USAGE;
			}
			break;
		case 'n':
			o.no_cache = true;
			break;
		case 'V':
			printf("fanguardd %s\n", FG_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return FG_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return FG_EXIT_USAGE;
	}
	return fg_daemon_run(&o);
}
