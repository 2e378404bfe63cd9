#include "fanguard/explaincli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/client.h"
#include "fanguard/explain.h"
#include "fanguard/explainsrv.h"
#include "fanguard/ident.h"
#include "fanguard/policy.h"
#include "fanguard/status.h"
#include "fanguard/twins.h"
#include "fanguard/unitcg.h"
#include "fanguard/util.h"

struct explain_opts {
	struct fg_explain_req req;
	struct fg_client_opts client; /* --socket, --config, --json */
	bool last;
	const char *id;
	uint64_t seq;
};

static void explain_usage(void)
{
	fprintf(stderr,
		"usage: fanguard explain --path PATH (--pid PID | --exe EXE [--auid N|unset]\n"
		"                        [--uid N] [--ancestor EXE]... [--comm C] [--cgroup CG])\n"
		"                        [--socket PATH | --config FILE] [--json]\n"
		"       fanguard explain --last [--exe EXE] [--id ID | --seq N] [--socket PATH]\n"
		"                        [--json]\n");
}

static int parse_id(const char *s, uint32_t *ret)
{
	if (!strcmp(s, "unset")) {
		*ret = FG_AUID_UNSET;
		return 0;
	}
	return fg_parse_u32(s, ret);
}

static int explain_opt(struct explain_opts *o, int c)
{
	struct fg_explain_req *r = &o->req;
	uint32_t v;

	switch (c) {
	case 'p':
		r->path = optarg;
		return 0;
	case 'P':
		if (fg_parse_u32(optarg, &v) < 0 || v == 0 || v > INT32_MAX)
			return -EINVAL;
		r->pid = (pid_t)v;
		return 0;
	case 'e':
		r->exe = optarg;
		return 0;
	case 'a':
		return parse_id(optarg, &r->auid);
	case 'u':
		return parse_id(optarg, &r->uid);
	case 'A':
		if (r->n_ancestors == FG_ANCESTRY_MAX)
			return -E2BIG;
		r->ancestors[r->n_ancestors++] = optarg;
		return 0;
	case 'C':
		r->comm = optarg;
		return 0;
	case 'g':
		r->cgroup = optarg;
		return 0;
	case 'c':
		o->client.config = optarg;
		return 0;
	case 's':
		o->client.socket = optarg;
		return 0;
	case 'j':
		o->client.json = r->json = true;
		return 0;
	case 'L':
		o->last = true;
		return 0;
	case 'I':
		o->id = optarg;
		o->last = true;
		return 0;
	case 'S':
		o->last = true;
		return fg_parse_u64(optarg, &o->seq) < 0 || o->seq == 0 ? -EINVAL : 0;
	}
	return -EINVAL;
}

static int parse_explain(int argc, char **argv, struct explain_opts *o)
{
	static const struct option opts[] = {
	    {"path", required_argument, NULL, 'p'},
	    {"pid", required_argument, NULL, 'P'},
	    {"exe", required_argument, NULL, 'e'},
	    {"auid", required_argument, NULL, 'a'},
	    {"uid", required_argument, NULL, 'u'},
	    {"ancestor", required_argument, NULL, 'A'},
	    {"comm", required_argument, NULL, 'C'},
	    {"cgroup", required_argument, NULL, 'g'},
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"last", no_argument, NULL, 'L'},
	    {"id", required_argument, NULL, 'I'},
	    {"seq", required_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	const struct fg_explain_req *r = &o->req;
	bool fake = false, other = false;
	int c;

	o->req.auid = FG_AUID_UNSET;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (explain_opt(o, c) < 0)
			return -EINVAL;
		fake = fake || strchr("auACg", c);
		other = other || strchr("pPauACgc", c);
	}
	if (optind < argc || (o->client.socket && o->client.config))
		return -EINVAL;
	if (o->last) /* a kept denial: only --exe, --id or --seq select it */
		return other || (o->id && o->seq) ? -EINVAL : 0;
	if (!r->path || (!r->pid == !r->exe) || (r->pid && (fake || r->exe)))
		return -EINVAL;
	return 0;
}

/* Prints a reply's body; its status line decides the exit code. */
static int print_reply(char *reply, int ok_code, int deny_code)
{
	char *nl = strchr(reply, '\n');

	*nl = '\0';
	if (!strncmp(reply, "ERR ", 4)) {
		fprintf(stderr, "fanguard: %s\n", reply + 4);
		return FG_EXIT_PARTIAL;
	}
	fputs(nl + 1, stdout);
	if (!strcmp(reply, "OK allow"))
		return ok_code;
	return deny_code;
}

static int explain_last(const struct explain_opts *o)
{
	_cleanup_free_ char *reply = NULL;
	char req[FG_STATUS_REQ_MAX + 1];
	struct fg_explain_req r = {.exe = o->req.exe};
	size_t n = (size_t)snprintf(req, sizeof(req), "last");
	int k;

	if (r.exe) {
		n += (size_t)snprintf(req + n, sizeof(req) - n, " exe=");
		if (!fg_explain_hex(r.exe, req + n, sizeof(req) - n))
			return FG_EXIT_USAGE;
		n += strlen(req + n);
	}
	if (o->seq)
		n += (size_t)snprintf(req + n, sizeof(req) - n, " seq=%llu",
				      (unsigned long long)o->seq);
	if (o->id)
		n += (size_t)snprintf(req + n, sizeof(req) - n, " id=%s", o->id);
	if (o->client.json)
		snprintf(req + n, sizeof(req) - n, " json=1");
	if (o->id && strpbrk(o->id, " \t\r\n"))
		return FG_EXIT_USAGE;
	k = fg_client_ask(&o->client, req, &reply);
	if (k)
		return k;
	/* A kept denial was found: 0; none matches: 1. */
	return print_reply(reply, FG_EXIT_GUARDED, FG_EXIT_GUARDED);
}

static int ask_daemon(const struct explain_opts *o)
{
	_cleanup_free_ char *reply = NULL;
	_cleanup_free_ char *req = malloc(FG_STATUS_REQ_MAX + 1);
	int k;

	if (!req)
		return FG_EXIT_USAGE;
	if (!fg_explain_req_encode(&o->req, req, FG_STATUS_REQ_MAX + 1)) {
		fprintf(stderr, "fanguard: the question is too long for the status socket\n");
		return FG_EXIT_USAGE;
	}
	k = fg_client_ask(&o->client, req, &reply);
	if (k == FG_EXIT_NOT_RUNNING)
		fprintf(stderr, "fanguard: to explain from the files instead: --config FILE\n");
	if (k)
		return k;
	/* A --pid that is gone is the caller's mistake, as with --config. */
	if (!strncmp(reply, "ERR cannot resolve pid ", 23)) {
		*strchr(reply, '\n') = '\0';
		fprintf(stderr, "fanguard: %s\n", reply + 4);
		return FG_EXIT_USAGE;
	}
	return print_reply(reply, FG_EXIT_GUARDED, FG_EXIT_PARTIAL);
}

static int load_policy(const char *config, struct fg_policy *ret)
{
	_cleanup_free_ struct fg_diag *diag = calloc(1, sizeof(*diag));
	struct fg_config cfg;

	if (!diag)
		return -ENOMEM;
	if (fg_config_load(&cfg, config, diag) < 0) {
		fg_client_print_diag(diag);
		return -EINVAL;
	}
	/* the deployments that exist now, as the daemon has them (twins.h) */
	if (fg_twins_expand(&cfg) < 0 || fg_policy_compile(ret, &cfg) < 0) {
		fg_config_free(&cfg);
		return -ENOMEM;
	}
	(void)fg_ident_prepare(ret);
	return 0;
}

/* --config: the files decide, as the daemon would decide with them. */
static int explain_files(const struct explain_opts *o)
{
	const struct fg_explain_req *r = &o->req;
	_cleanup_free_ struct fg_proc *w = calloc(1, sizeof(*w));
	_cleanup_free_ char *buf = malloc(FG_STATUS_BUF);
	struct fg_decision d = {.verdict = FG_VERDICT_ALLOW};
	struct fg_policy pol;
	struct fg_unitcg ucg;
	int st, k = 0;

	if (!w || !buf)
		return FG_EXIT_USAGE;
	if (load_policy(o->client.config, &pol) < 0)
		return FG_EXIT_CONFIG;
	st = fg_policy_match_path(&pol, r->path);
	if (st >= 0)
		k = r->pid ? fg_proc_resolve(r->pid, w) : fg_explain_fake_proc(r, w);
	if (k < 0) {
		fprintf(stderr, "fanguard: cannot resolve pid %d: %s\n", (int)r->pid, strerror(-k));
		fg_policy_free(&pol);
		return FG_EXIT_USAGE;
	}
	/* cgroup conditions are checked as the daemon would (it needs root to
	 * read a cgroup's trusted.invocation_id) */
	(void)fg_unitcg_open(&ucg);
	pol.unitcg = &ucg;
	if (st >= 0)
		fg_explain_decide(&pol, (unsigned)st, r->pid != 0, w, &d);
	fg_unitcg_close(&ucg);
	fg_explain_render(&pol, st, r->path, w, &d, r->json, buf, FG_STATUS_BUF);
	fputs(buf, stdout);
	fg_policy_free(&pol);
	return d.verdict == FG_VERDICT_ALLOW ? FG_EXIT_GUARDED : FG_EXIT_PARTIAL;
}

int fg_explain_cli(int argc, char **argv)
{
	_cleanup_free_ struct explain_opts *o = calloc(1, sizeof(*o));

	if (!o)
		return FG_EXIT_USAGE;
	if (parse_explain(argc, argv, o) < 0) {
		explain_usage();
		return FG_EXIT_USAGE;
	}
	if (o->last)
		return explain_last(o);
	return o->client.config ? explain_files(o) : ask_daemon(o);
}
