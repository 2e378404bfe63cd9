/* fanguard: the operator's CLI. status, reload and explain talk to
 * fanguardd over its status socket (client.c, explaincli.c); check-config,
 * explain --config and policy install load the configuration with the
 * daemon's own code (config, policy, proc), so what they say is what the
 * daemon does. Exit codes are listed in fanguard(8). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/client.h"
#include "fanguard/config.h"
#include "fanguard/deploycli.h"
#include "fanguard/explaincli.h"
#include "fanguard/policycli.h"
#include "fanguard/util.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fanguard status [--json] [--socket PATH | --config FILE]\n"
		"       fanguard reload [--socket PATH | --config FILE]\n"
		"       fanguard check-config [FILE]\n"
		"       fanguard policy [--socket PATH] install FILE\n"
		"       fanguard explain --path PATH (--pid PID | --exe EXE [--auid N|unset]\n"
		"                        [--uid N] [--ancestor EXE]... [--comm C] [--cgroup CG])\n"
		"                        [--socket PATH | --config FILE] [--json]\n"
		"       fanguard explain --last [--exe EXE] [--id ID | --seq N] [--json]\n"
		"       fanguard deployments [--config FILE] [--status FILE|-] [--state FILE]\n"
		"                        [--json]\n"
		"       fanguard --version\n"
		"See fanguard(8).\n");
}

static int parse_client_opts(int argc, char **argv, struct fg_client_opts *o, bool allow_json)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"socket", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "js:c:", opts, NULL)) != -1) {
		if (c == 'j' && allow_json)
			o->json = true;
		else if (c == 's')
			o->socket = optarg;
		else if (c == 'c')
			o->config = optarg;
		else
			return -EINVAL;
	}
	if (optind < argc || (o->socket && o->config))
		return -EINVAL;
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	struct fg_client_opts o = {0};
	_cleanup_free_ char *reply = NULL;
	char *body;
	int r;

	if (parse_client_opts(argc, argv, &o, true) < 0) {
		usage(stderr);
		return FG_EXIT_USAGE;
	}
	r = fg_client_ask(&o, o.json ? "status json" : "status text", &reply);
	if (r)
		return r;
	body = strchr(reply, '\n') + 1;
	*strchr(reply, '\n') = '\0';
	fputs(body, stdout);
	if (!strcmp(reply, "OK enforcing"))
		return FG_EXIT_GUARDED;
	if (!strcmp(reply, "OK audit") || !strcmp(reply, "OK degraded"))
		return FG_EXIT_PARTIAL;
	fprintf(stderr, "fanguard: unexpected reply: %s\n", reply);
	return FG_EXIT_PARTIAL;
}

static int cmd_reload(int argc, char **argv)
{
	struct fg_client_opts o = {0};
	_cleanup_free_ char *reply = NULL;
	int r;

	if (parse_client_opts(argc, argv, &o, false) < 0) {
		usage(stderr);
		return FG_EXIT_USAGE;
	}
	r = fg_client_ask(&o, "reload", &reply);
	if (r)
		return r;
	*strchr(reply, '\n') = '\0';
	if (!strncmp(reply, "OK ", 3)) {
		printf("%s\n", reply + 3);
		return 0;
	}
	fprintf(stderr, "fanguard: %s\n", !strncmp(reply, "ERR ", 4) ? reply + 4 : reply);
	return FG_EXIT_PARTIAL;
}

/* ---- check-config ---- */

static void print_list(const char *label, const struct fg_strlist *l)
{
	if (!l->n)
		return;
	printf("    %-9s", label);
	for (unsigned i = 0; i < l->n; i++)
		printf(" %s", l->v[i]);
	printf("\n");
}

static void print_ids(const char *label, const struct fg_idlist *l)
{
	if (!l->any && !l->n && !l->admins)
		return;
	printf("    %-9s", label);
	if (l->any)
		printf(" *");
	if (l->admins)
		printf(" admins");
	for (unsigned i = 0; i < l->n; i++)
		if (l->v[i] == FG_AUID_UNSET)
			printf(" unset");
		else
			printf(" %u", l->v[i]);
	printf("\n");
}

static void print_writer(const struct fg_writer_cfg *w)
{
	printf("  %s%s\n", w->name, w->quiet ? " (quiet)" : "");
	print_list("exe", &w->exe);
	print_list("comm", &w->comm);
	print_ids("uid", &w->uid);
	print_ids("auid", &w->auid);
	print_list("parent", &w->parent);
	print_list("ancestor", &w->ancestor);
	print_list("cgroup", &w->cgroup);
	if (w->subtrees.n)
		print_list("subtrees", &w->subtrees);
	else
		printf("    %-9s (all)\n", "subtrees");
}

static void print_summary(const struct fg_config *cfg)
{
	printf("configuration is valid: %u file(s)\n", cfg->n_files);
	for (unsigned i = 0; i < cfg->n_files; i++)
		printf("  %s\n", cfg->files[i]);
	printf("mode %s, status socket %s%s%s\n\nsubtrees (%u):\n", fg_mode_name(cfg->mode),
	       cfg->status_socket, cfg->status_group[0] ? ", group " : "", cfg->status_group,
	       cfg->n_subtrees);
	for (unsigned i = 0; i < cfg->n_subtrees; i++) {
		const struct fg_subtree_cfg *s = &cfg->subtrees[i];
		enum fg_mode m = s->mode == FG_MODE_INHERIT ? cfg->mode : s->mode;

		printf("  %-20s %-20s %-8s %s%s\n", s->name, s->key, fg_mode_name(m), s->path,
		       s->recursive ? "" : " (not recursive)");
	}
	printf("\nwriters (%u):\n", cfg->n_writers);
	for (unsigned i = 0; i < cfg->n_writers; i++)
		print_writer(&cfg->writers[i]);
	printf("\ntransaction exes:");
	for (unsigned i = 0; i < cfg->transaction.exe.n; i++)
		printf(" %s", cfg->transaction.exe.v[i]);
	printf("%s\n", cfg->transaction.exe.n ? "" : " (none)");
	printf("transaction scope: %s\n",
	       cfg->transaction.scope == FG_TX_SCOPE_ALL ? "all" : "deployments");
}

static int cmd_check_config(int argc, char **argv)
{
	_cleanup_free_ struct fg_diag *diag = calloc(1, sizeof(*diag));
	struct fg_config cfg;
	bool dropin;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		usage(stderr);
		return FG_EXIT_USAGE;
	}
	if (!diag)
		return FG_EXIT_CONFIG;
	/* A drop-in means something only with the policy it joins. */
	dropin = argc == 2 && fg_policycli_is_dropin(argv[1]);
	if ((dropin ? fg_policycli_load_joined(argv[1], &cfg, diag)
		    : fg_config_load(&cfg, argc == 2 ? argv[1] : NULL, diag)) < 0) {
		fg_client_print_diag(diag);
		fprintf(stderr, "fanguard: configuration is invalid%s\n",
			dropin ? " (the drop-in, joined to the policy it would join)" : "");
		return FG_EXIT_CONFIG;
	}
	fg_client_print_diag(diag);
	if (dropin)
		printf("%s is a drop-in (no [subtree]): checked joined to the policy it would "
		       "join, as %s/%s\n",
		       argv[1], FG_CONF_DROPIN_DIR,
		       strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1]);
	print_summary(&cfg);
	fg_config_free(&cfg);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return FG_EXIT_USAGE;
	}
	if (!strcmp(cmd, "--version")) {
		printf("fanguard %s\n", FG_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	/* getopt sees the subcommand as argv[0]. */
	if (!strcmp(cmd, "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(cmd, "reload"))
		return cmd_reload(argc - 1, argv + 1);
	if (!strcmp(cmd, "check-config"))
		return cmd_check_config(argc - 1, argv + 1);
	if (!strcmp(cmd, "explain"))
		return fg_explain_cli(argc - 1, argv + 1);
	if (!strcmp(cmd, "policy"))
		return fg_policy_cli(argc - 1, argv + 1);
	if (!strcmp(cmd, "deployments"))
		return fg_deployments_cli(argc - 1, argv + 1);
	fprintf(stderr, "fanguard: unknown command '%s'\n", cmd);
	usage(stderr);
	return FG_EXIT_USAGE;
}
