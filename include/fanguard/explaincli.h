/* `fanguard explain`: asks the running daemon (its policy, its view of the
 * writer) over the status socket, or with --config decides from files the
 * way the daemon would; `--last` explains a recent denial the daemon kept. */
#ifndef FANGUARD_EXPLAINCLI_H
#define FANGUARD_EXPLAINCLI_H

/* argv[0] is "explain". Returns the exit code (fanguard(8)). */
int fg_explain_cli(int argc, char **argv);

#endif
