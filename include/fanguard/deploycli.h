/* The `fanguard deployments` command (deploycli.c), callable from the CLI's
 * main and from tests. */
#ifndef FANGUARD_DEPLOYCLI_H
#define FANGUARD_DEPLOYCLI_H

/* Exit codes (fanguard(8)): sysexits' EX_UNAVAILABLE for a status that
 * cannot be had, EX_CONFIG for the policy, EX_CANTCREAT for the state. */
#define FG_DEPLOY_EXIT_ALERT  1	 /* an alert fired on this run */
#define FG_DEPLOY_EXIT_STATUS 69 /* bootc's status unreadable or malformed */
#define FG_DEPLOY_EXIT_STATE  73 /* the state could not be saved */
#define FG_DEPLOY_EXIT_CONFIG 78 /* config, approved list or saved state unusable */

/* argv[0] is "deployments". Returns the exit code. */
int fg_deployments_cli(int argc, char **argv);

#endif
